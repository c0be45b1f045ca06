/* test/apiserver/rbac.c: the RBAC authorizer, after k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac
 * and pkg/apis/rbac/v1/evaluation_helpers.go. */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "test/apiserver/rbac.h"

#define CR_KEY "clusterroles.rbac.authorization.k8s.io"
#define CRB_KEY "clusterrolebindings.rbac.authorization.k8s.io"
#define ROLE_KEY "roles.rbac.authorization.k8s.io"
#define RB_KEY "rolebindings.rbac.authorization.k8s.io"
#define SA_PREFIX "system:serviceaccount:"

static const char *nz(const char *s)
{
        return s ? s : "";
}

/* The namespace of a ServiceAccount user name, its length in *len; NULL for other users. */
static const char *sa_namespace(const char *user, size_t *len)
{
        if (strncmp(user, SA_PREFIX, strlen(SA_PREFIX)) != 0)
                return NULL;
        const char *ns = user + strlen(SA_PREFIX);
        const char *colon = strchr(ns, ':');
        if (!colon || colon == ns || !colon[1] || strchr(colon + 1, ':'))
                return NULL;
        *len = (size_t) (colon - ns);
        return ns;
}

bool rbac_user_in_group(const struct rbac_user *u, const char *group)
{
        if (!strcmp(group, "system:authenticated"))
                return true;
        for (size_t i = 0; i < u->ngroups; i++)
                if (!strcmp(u->groups[i], group))
                        return true;
        size_t len;
        const char *ns = sa_namespace(u->name, &len);
        if (!ns)
                return false;
        if (!strcmp(group, "system:serviceaccounts"))
                return true;
        const char *pfx = "system:serviceaccounts:";
        return !strncmp(group, pfx, strlen(pfx)) && strlen(group + strlen(pfx)) == len &&
               !strncmp(group + strlen(pfx), ns, len);
}

static bool has(const json_t *arr, const char *s)
{
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
                if (osb_streq(json_string_value(v), s))
                        return true;
        return false;
}

static bool has_or_star(const json_t *arr, const char *s)
{
        return has(arr, "*") || has(arr, s);
}

static bool resource_matches(const json_t *resources, const char *resource, const char *sub)
{
        char combined[512];
        (void) snprintf(combined, sizeof(combined), "%s%s%s", resource, sub && *sub ? "/" : "", nz(sub));
        size_t i;
        json_t *v;
        json_array_foreach(resources, i, v) {
                const char *r = json_string_value(v);
                if (!r)
                        continue;
                if (!strcmp(r, "*") || !strcmp(r, combined))
                        return true;
                /* "*" + "/subresource" */
                if (sub && *sub && !strncmp(r, "*/", 2) && !strcmp(r + 2, sub))
                        return true;
        }
        return false;
}

static bool url_matches(const json_t *urls, const char *path)
{
        size_t i;
        json_t *v;
        json_array_foreach(urls, i, v) {
                const char *u = json_string_value(v);
                size_t len = u ? strlen(u) : 0;
                if (!u)
                        continue;
                if (!strcmp(u, "*") || !strcmp(u, path))
                        return true;
                if (len && u[len - 1] == '*' && !strncmp(u, path, len - 1))
                        return true;
        }
        return false;
}

bool rbac_rule_allows(const json_t *rule, const struct rbac_attrs *at)
{
        if (!has_or_star(json_object_get(rule, "verbs"), nz(at->verb)))
                return false;
        if (!at->resource_request)
                return url_matches(json_object_get(rule, "nonResourceURLs"), nz(at->path));
        if (!has_or_star(json_object_get(rule, "apiGroups"), nz(at->group)) ||
            !resource_matches(json_object_get(rule, "resources"), nz(at->resource), at->subresource))
                return false;
        json_t *names = json_object_get(rule, "resourceNames");
        return !json_array_size(names) || (at->name && *at->name && has(names, at->name));
}

bool rbac_subject_matches(const json_t *subject, const char *binding_ns, const struct rbac_user *u)
{
        const char *kind = json_string_value(json_object_get(subject, "kind"));
        const char *name = json_string_value(json_object_get(subject, "name"));
        if (!kind || !name)
                return false;
        if (!strcmp(kind, "User"))
                return !strcmp(name, u->name);
        if (!strcmp(kind, "Group"))
                return rbac_user_in_group(u, name);
        if (strcmp(kind, "ServiceAccount") != 0)
                return false;
        const char *ns = json_string_value(json_object_get(subject, "namespace"));
        if (!ns || !*ns)
                ns = binding_ns;
        if (!ns || !*ns)
                return false;
        char want[512];
        (void) snprintf(want, sizeof(want), SA_PREFIX "%s:%s", ns, name);
        return !strcmp(want, u->name);
}

static bool role_allows(const json_t *role, const struct rbac_attrs *at)
{
        size_t i;
        json_t *rule;
        json_array_foreach(json_object_get(role, "rules"), i, rule)
                if (rbac_rule_allows(rule, at))
                        return true;
        return false;
}

static bool binds_user(const json_t *binding, const char *binding_ns, const struct rbac_user *u)
{
        size_t i;
        json_t *s;
        json_array_foreach(json_object_get(binding, "subjects"), i, s)
                if (rbac_subject_matches(s, binding_ns, u))
                        return true;
        return false;
}

bool rbac_authorize(struct store *st, const struct rbac_user *u, const struct rbac_attrs *at)
{
        /* kube-apiserver's privileged-group authorizer runs before RBAC. */
        if (rbac_user_in_group(u, "system:masters"))
                return true;
        bool ok = false;
        osb_autojson json_t *crbs = store_list(st, CRB_KEY, "");
        size_t i;
        json_t *b;
        json_array_foreach(crbs, i, b) {
                const char *role = json_string_value(json_object_get(json_object_get(b, "roleRef"), "name"));
                if (role && binds_user(b, "", u) && role_allows(store_get(st, CR_KEY, "", role), at)) {
                        ok = true;
                        break;
                }
        }
        if (ok || !at->ns || !*at->ns)
                return ok;
        osb_autojson json_t *rbs = store_list(st, RB_KEY, at->ns);
        json_array_foreach(rbs, i, b) {
                json_t *ref = json_object_get(b, "roleRef");
                const char *role = json_string_value(json_object_get(ref, "name"));
                bool cluster = osb_streq(json_string_value(json_object_get(ref, "kind")), "ClusterRole");
                if (!role || !binds_user(b, at->ns, u))
                        continue;
                if (role_allows(cluster ? store_get(st, CR_KEY, "", role) : store_get(st, ROLE_KEY, at->ns, role), at))
                        return true;
        }
        return false;
}

const char *rbac_forbidden_message(const struct rbac_user *u, const struct rbac_attrs *at, char *buf, size_t n)
{
        if (!at->resource_request) {
                (void) snprintf(buf, n, "forbidden: User \"%s\" cannot %s path \"%s\"", u->name, nz(at->verb), nz(at->path));
                return buf;
        }
        char qres[300], scope[300], res[300], named[300] = "";
        (void) snprintf(qres, sizeof(qres), "%s%s%s", nz(at->resource), at->group && *at->group ? "." : "", nz(at->group));
        (void) snprintf(res, sizeof(res), "%s%s%s", nz(at->resource), at->subresource && *at->subresource ? "/" : "",
                        nz(at->subresource));
        if (at->name && *at->name)
                (void) snprintf(named, sizeof(named), " \"%s\"", at->name);
        if (at->ns && *at->ns)
                (void) snprintf(scope, sizeof(scope), "in the namespace \"%s\"", at->ns);
        else
                (void) snprintf(scope, sizeof(scope), "at the cluster scope");
        (void) snprintf(buf, n, "%s%s is forbidden: User \"%s\" cannot %s resource \"%s\" in API group \"%s\" %s", qres,
                        named, u->name, nz(at->verb), res, nz(at->group), scope);
        return buf;
}

json_t *rbac_bootstrap_objects(void)
{
        static const char text[] =
                "[{\"kind\":\"ClusterRole\",\"metadata\":{\"name\":\"cluster-admin\"},\"rules\":["
                "{\"apiGroups\":[\"*\"],\"resources\":[\"*\"],\"verbs\":[\"*\"]},{\"nonResourceURLs\":[\"*\"],\"verbs\":[\"*\"]}]},"
                "{\"kind\":\"ClusterRole\",\"metadata\":{\"name\":\"system:discovery\"},\"rules\":[{\"nonResourceURLs\":["
                "\"/api\",\"/api/*\",\"/apis\",\"/apis/*\",\"/healthz\",\"/livez\",\"/openapi\",\"/openapi/*\",\"/readyz\","
                "\"/version\",\"/version/\"],\"verbs\":[\"get\"]}]},"
                "{\"kind\":\"ClusterRole\",\"metadata\":{\"name\":\"system:basic-user\"},\"rules\":[{\"apiGroups\":"
                "[\"authorization.k8s.io\"],\"resources\":[\"selfsubjectaccessreviews\",\"selfsubjectrulesreviews\"],"
                "\"verbs\":[\"create\"]}]},"
                "{\"kind\":\"ClusterRole\",\"metadata\":{\"name\":\"system:public-info-viewer\"},\"rules\":[{\"nonResourceURLs\":["
                "\"/healthz\",\"/livez\",\"/readyz\",\"/version\",\"/version/\"],\"verbs\":[\"get\"]}]},"
                "{\"kind\":\"ClusterRoleBinding\",\"metadata\":{\"name\":\"cluster-admin\"},\"roleRef\":{\"apiGroup\":"
                "\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\",\"name\":\"cluster-admin\"},\"subjects\":[{\"apiGroup\":"
                "\"rbac.authorization.k8s.io\",\"kind\":\"Group\",\"name\":\"system:masters\"}]},"
                "{\"kind\":\"ClusterRoleBinding\",\"metadata\":{\"name\":\"system:discovery\"},\"roleRef\":{\"apiGroup\":"
                "\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\",\"name\":\"system:discovery\"},\"subjects\":[{\"apiGroup\":"
                "\"rbac.authorization.k8s.io\",\"kind\":\"Group\",\"name\":\"system:authenticated\"}]},"
                "{\"kind\":\"ClusterRoleBinding\",\"metadata\":{\"name\":\"system:basic-user\"},\"roleRef\":{\"apiGroup\":"
                "\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\",\"name\":\"system:basic-user\"},\"subjects\":[{\"apiGroup\":"
                "\"rbac.authorization.k8s.io\",\"kind\":\"Group\",\"name\":\"system:authenticated\"}]},"
                "{\"kind\":\"ClusterRoleBinding\",\"metadata\":{\"name\":\"system:public-info-viewer\"},\"roleRef\":{\"apiGroup\":"
                "\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\",\"name\":\"system:public-info-viewer\"},\"subjects\":["
                "{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"Group\",\"name\":\"system:authenticated\"},"
                "{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"Group\",\"name\":\"system:unauthenticated\"}]}]";
        json_t *objs = json_loads(text, 0, NULL);
        size_t i;
        json_t *o;
        json_array_foreach(objs, i, o) {
                json_t *meta = json_object_get(o, "metadata");
                if (json_object_set_new(o, "apiVersion", json_string("rbac.authorization.k8s.io/v1")) < 0 ||
                    json_object_set_new(meta, "labels", json_pack("{s:s}", "kubernetes.io/bootstrapping", "rbac-defaults")) < 0 ||
                    json_object_set_new(meta, "annotations", json_pack("{s:s}", "rbac.authorization.kubernetes.io/autoupdate",
                                                                       "true")) < 0) {
                        json_decref(objs);
                        return NULL;
                }
        }
        return objs;
}
