/* test/apiserver/types.c: the resource registry and discovery. */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "test/apiserver/types.h"

struct types {
        pthread_rwlock_t lock;
        struct kt_type **v;
        size_t n;
        unsigned generation;
};

struct builtin_def {
        const char *group, *version, *resource, *singular, *kind;
        bool namespaced, has_status;
        enum builtin builtin;
        int priority;
        const char *short_names;  /* comma-separated */
        const char *categories;
        const char *columns;      /* printer columns as JSON (CRD form), after NAME; NULL: own table code */
};

#define COL(name, type, path) "{\"name\":\"" name "\",\"type\":\"" type "\",\"jsonPath\":\"" path "\"}"
#define COL_AGE COL("Age", "date", ".metadata.creationTimestamp")

static const struct builtin_def builtins[] = {
        {"", "v1", "namespaces", "namespace", "Namespace", false, true, BT_NAMESPACE, 0, "ns", NULL, NULL},
        {"", "v1", "secrets", "secret", "Secret", true, false, BT_SECRET, 0, NULL, NULL, NULL},
        {"", "v1", "configmaps", "configmap", "ConfigMap", true, false, BT_CONFIGMAP, 0, "cm", NULL, NULL},
        {"", "v1", "events", "event", "Event", true, false, BT_EVENT, 0, "ev", NULL, NULL},
        {"", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, false, BT_SERVICEACCOUNT, 0, "sa", NULL, NULL},
        {"", "v1", "pods", "pod", "Pod", true, true, BT_POD, 0, "po", "all",
         "[" COL("Status", "string", ".status.phase") "," COL_AGE "]"},
        {"", "v1", "services", "service", "Service", true, true, BT_SERVICE, 0, "svc", "all",
         "[" COL("Type", "string", ".spec.type") "," COL("Cluster-IP", "string", ".spec.clusterIP") "," COL_AGE "]"},
        {"", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true, true, BT_PVC, 0,
         "pvc", NULL, "[" COL("Status", "string", ".status.phase") "," COL("Volume", "string", ".spec.volumeName") "," COL_AGE "]"},
        {"apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, true, BT_DAEMONSET, 5, "ds", "all",
         "[" COL("Desired", "integer", ".status.desiredNumberScheduled") "," COL("Current", "integer", ".status.currentNumberScheduled")
         "," COL("Ready", "integer", ".status.numberReady") "," COL("Up-to-date", "integer", ".status.updatedNumberScheduled")
         "," COL("Available", "integer", ".status.numberAvailable") "," COL_AGE "]"},
        {"apps", "v1", "deployments", "deployment", "Deployment", true, true, BT_DEPLOYMENT, 5, "deploy", "all",
         "[" COL("Up-to-date", "integer", ".status.updatedReplicas") "," COL("Available", "integer", ".status.availableReplicas")
         "," COL_AGE "]"},
        {"apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, true, BT_STATEFULSET, 5, "sts", "all", "[" COL_AGE "]"},
        {"events.k8s.io", "v1", "events", "event", "Event", true, false, BT_EVENT_V1, 10, "ev", NULL, NULL},
        {"authorization.k8s.io", "v1", "selfsubjectaccessreviews", "selfsubjectaccessreview", "SelfSubjectAccessReview",
         false, false, BT_SSAR, 12, NULL, NULL, "[]"},
        {"authorization.k8s.io", "v1", "subjectaccessreviews", "subjectaccessreview", "SubjectAccessReview", false, false,
         BT_SAR, 12, NULL, NULL, "[]"},
        {"policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", true, true, BT_PDB, 14, "pdb",
         NULL, "[" COL("Min Available", "string", ".spec.minAvailable") "," COL("Max Unavailable", "string", ".spec.maxUnavailable")
         "," COL_AGE "]"},
        {"rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", false, false,
         BT_CLUSTERROLEBINDING, 15, NULL, NULL, "[" COL("Role", "string", ".roleRef.name") "," COL_AGE "]"},
        {"rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", false, false, BT_CLUSTERROLE, 15,
         NULL, NULL, "[" COL("Created At", "string", ".metadata.creationTimestamp") "]"},
        {"rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", true, false, BT_ROLEBINDING, 15,
         NULL, NULL, "[" COL("Role", "string", ".roleRef.name") "," COL_AGE "]"},
        {"rbac.authorization.k8s.io", "v1", "roles", "role", "Role", true, false, BT_ROLE, 15, NULL, NULL,
         "[" COL("Created At", "string", ".metadata.creationTimestamp") "]"},
        {"coordination.k8s.io", "v1", "leases", "lease", "Lease", true, false, BT_LEASE, 20, NULL, NULL, NULL},
        {"admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "mutatingwebhookconfiguration",
         "MutatingWebhookConfiguration", false, false, BT_MUTATINGWEBHOOK, 25, NULL, "api-extensions", "[" COL_AGE "]"},
        {"admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "validatingwebhookconfiguration",
         "ValidatingWebhookConfiguration", false, false, BT_VALIDATINGWEBHOOK, 25, NULL, "api-extensions", "[" COL_AGE "]"},
        {"apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition",
         "CustomResourceDefinition", false, true, BT_CRD, 30, "crd,crds", "api-extensions", NULL},
};

struct kt_type *kt_type_ref(struct kt_type *t)
{
        if (t)
                atomic_fetch_add(&t->refs, 1);
        return t;
}

void kt_type_unref(struct kt_type *t)
{
        if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
                return;
        osb_free(t->group);
        osb_free(t->version);
        osb_free(t->resource);
        osb_free(t->singular);
        osb_free(t->kind);
        osb_free(t->list_kind);
        osb_free(t->storage_key);
        osb_free(t->api_version);
        osb_free(t->crd_name);
        json_decref(t->short_names);
        json_decref(t->categories);
        json_decref(t->schema);
        json_decref(t->columns);
        osb_free(t);
}

void kt_type_unrefp(struct kt_type **t)
{
        kt_type_unref(*t);
        *t = NULL;
}

static json_t *split_list(const char *s)
{
        if (!s)
                return NULL;
        json_t *a = json_array();
        const char *p = s;
        while (a && *p) {
                size_t len = strcspn(p, ",");
                if (json_array_append_new(a, json_stringn(p, len)) < 0) {
                        json_decref(a);
                        return NULL;
                }
                p += len + (p[len] == ',');
        }
        return a;
}

/* Fills the derived strings; returns 0 or -ENOMEM. */
static int finish_type(struct kt_type *t)
{
        t->storage_key = *t->group ? osb_asprintf("%s.%s", t->resource, t->group) : osb_strdup(t->resource);
        t->api_version = *t->group ? osb_asprintf("%s/%s", t->group, t->version) : osb_strdup(t->version);
        if (!t->list_kind)
                t->list_kind = osb_asprintf("%sList", t->kind);
        return t->storage_key && t->api_version && t->list_kind ? 0 : -ENOMEM;
}

static int add_type(struct types *ts, struct kt_type *t)
{
        struct kt_type **v = osb_realloc(ts->v, (ts->n + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        ts->v = v;
        v[ts->n++] = t;
        return 0;
}

int types_new(struct types **ret)
{
        struct types *ts = osb_calloc(1, sizeof(*ts));
        if (!ts)
                return -ENOMEM;
        pthread_rwlock_init(&ts->lock, NULL);
        for (size_t i = 0; i < OSB_ELEMENTSOF(builtins); i++) {
                const struct builtin_def *b = &builtins[i];
                struct kt_type *t = osb_calloc(1, sizeof(*t));
                if (!t) {
                        types_free(ts);
                        return -ENOMEM;
                }
                atomic_init(&t->refs, 1);
                t->group = osb_strdup(b->group);
                t->version = osb_strdup(b->version);
                t->resource = osb_strdup(b->resource);
                t->singular = osb_strdup(b->singular);
                t->kind = osb_strdup(b->kind);
                t->namespaced = b->namespaced;
                t->has_status = b->has_status;
                t->storage = true;
                t->served = true;
                t->builtin = b->builtin;
                t->group_priority = b->priority;
                t->short_names = split_list(b->short_names);
                t->categories = split_list(b->categories);
                t->columns = b->columns ? json_loads(b->columns, 0, NULL) : NULL;
                int r = (b->columns && !t->columns) || !t->group || !t->version || !t->resource || !t->singular || !t->kind ? -ENOMEM : finish_type(t);
                if (r == 0 && b->builtin == BT_EVENT_V1) {
                        /* One storage for both Event APIs, as in kube-apiserver. */
                        osb_free(t->storage_key);
                        t->storage_key = osb_strdup("events");
                        t->storage = false;
                        if (!t->storage_key)
                                r = -ENOMEM;
                }
                if (r < 0 || add_type(ts, t) < 0) {
                        kt_type_unref(t);
                        types_free(ts);
                        return -ENOMEM;
                }
        }
        *ret = ts;
        return 0;
}

struct types *types_free(struct types *ts)
{
        if (!ts)
                return NULL;
        for (size_t i = 0; i < ts->n; i++)
                kt_type_unref(ts->v[i]);
        osb_free(ts->v);
        pthread_rwlock_destroy(&ts->lock);
        osb_free(ts);
        return NULL;
}

struct kt_type *types_find(struct types *ts, const char *group, const char *version, const char *resource)
{
        struct kt_type *found = NULL;
        pthread_rwlock_rdlock(&ts->lock);
        for (size_t i = 0; i < ts->n && !found; i++) {
                struct kt_type *t = ts->v[i];
                if (t->served && !strcmp(t->group, group) && !strcmp(t->version, version) &&
                    !strcmp(t->resource, resource))
                        found = kt_type_ref(t);
        }
        pthread_rwlock_unlock(&ts->lock);
        return found;
}

struct kt_type *types_find_storage(struct types *ts, const char *key)
{
        struct kt_type *found = NULL;
        pthread_rwlock_rdlock(&ts->lock);
        for (size_t i = 0; i < ts->n; i++) {
                struct kt_type *t = ts->v[i];
                if (strcmp(t->storage_key, key) != 0 || t->builtin == BT_EVENT_V1)
                        continue;
                if (!found || (t->storage && !found->storage))
                        found = t;
        }
        kt_type_ref(found);
        pthread_rwlock_unlock(&ts->lock);
        return found;
}

struct kt_type **types_list_storage(struct types *ts, size_t *n)
{
        pthread_rwlock_rdlock(&ts->lock);
        struct kt_type **out = osb_calloc(ts->n + 1, sizeof(*out));
        size_t k = 0;
        for (size_t i = 0; out && i < ts->n; i++)
                if (ts->v[i]->storage)
                        out[k++] = kt_type_ref(ts->v[i]);
        pthread_rwlock_unlock(&ts->lock);
        *n = k;
        return out;
}

struct kt_type **types_list_served(struct types *ts, size_t *n)
{
        pthread_rwlock_rdlock(&ts->lock);
        struct kt_type **out = osb_calloc(ts->n + 1, sizeof(*out));
        size_t k = 0;
        for (size_t i = 0; out && i < ts->n; i++)
                if (ts->v[i]->served)
                        out[k++] = kt_type_ref(ts->v[i]);
        pthread_rwlock_unlock(&ts->lock);
        *n = k;
        return out;
}

void types_list_free(struct kt_type **list, size_t n)
{
        for (size_t i = 0; list && i < n; i++)
                kt_type_unref(list[i]);
        osb_free(list);
}

unsigned types_generation(struct types *ts)
{
        pthread_rwlock_rdlock(&ts->lock);
        unsigned g = ts->generation;
        pthread_rwlock_unlock(&ts->lock);
        return g;
}

static void remove_crd_locked(struct types *ts, const char *crd_name)
{
        size_t k = 0;
        for (size_t i = 0; i < ts->n; i++) {
                if (ts->v[i]->crd_name && !strcmp(ts->v[i]->crd_name, crd_name))
                        kt_type_unref(ts->v[i]);
                else
                        ts->v[k++] = ts->v[i];
        }
        ts->n = k;
        ts->generation++;
}

void types_unregister_crd(struct types *ts, const char *crd_name)
{
        pthread_rwlock_wrlock(&ts->lock);
        remove_crd_locked(ts, crd_name);
        pthread_rwlock_unlock(&ts->lock);
}

static const char *str_or(const json_t *v, const char *def)
{
        const char *s = json_string_value(v);
        return s && *s ? s : def;
}

static char *lower_dup(const char *s)
{
        char *d = osb_strdup(s);
        for (char *p = d; p && *p; p++)
                *p = (char) tolower((unsigned char) *p);
        return d;
}

static bool names_clash(const struct kt_type *t, const char *group, const char *plural, const char *kind)
{
        return !strcmp(t->group, group) && (!strcmp(t->resource, plural) || !strcmp(t->kind, kind));
}

int types_register_crd(struct types *ts, const json_t *crd, char *msg, size_t msglen)
{
        const char *crd_name = json_string_value(json_object_get(json_object_get(crd, "metadata"), "name"));
        json_t *spec = json_object_get(crd, "spec");
        json_t *names = json_object_get(spec, "names");
        const char *group = str_or(json_object_get(spec, "group"), "");
        const char *plural = str_or(json_object_get(names, "plural"), "");
        const char *kind = str_or(json_object_get(names, "kind"), "");
        bool namespaced = osb_streq(json_string_value(json_object_get(spec, "scope")), "Namespaced");
        json_t *versions = json_object_get(spec, "versions");

        pthread_rwlock_wrlock(&ts->lock);
        for (size_t i = 0; i < ts->n; i++) {
                struct kt_type *o = ts->v[i];
                if ((!o->crd_name || strcmp(o->crd_name, crd_name)) && names_clash(o, group, plural, kind)) {
                        pthread_rwlock_unlock(&ts->lock);
                        (void) snprintf(msg, msglen, "%s.%s is already served", plural, group);
                        return -EEXIST;
                }
        }
        remove_crd_locked(ts, crd_name);
        size_t i;
        json_t *ver;
        int r = 0;
        json_array_foreach(versions, i, ver) {
                if (!json_is_true(json_object_get(ver, "served")))
                        continue;
                struct kt_type *t = osb_calloc(1, sizeof(*t));
                if (!t) {
                        r = -ENOMEM;
                        break;
                }
                atomic_init(&t->refs, 1);
                t->group = osb_strdup(group);
                t->version = osb_strdup(str_or(json_object_get(ver, "name"), "v1"));
                t->resource = osb_strdup(plural);
                t->singular = json_string_value(json_object_get(names, "singular"))
                                      ? osb_strdup(json_string_value(json_object_get(names, "singular")))
                                      : lower_dup(kind);
                t->kind = osb_strdup(kind);
                t->list_kind = json_string_value(json_object_get(names, "listKind"))
                                       ? osb_strdup(json_string_value(json_object_get(names, "listKind")))
                                       : NULL;
                t->crd_name = osb_strdup(crd_name);
                t->namespaced = namespaced;
                t->has_status = json_object_get(json_object_get(ver, "subresources"), "status") != NULL;
                t->storage = json_is_true(json_object_get(ver, "storage"));
                t->served = true;
                t->group_priority = 1000;
                t->short_names = json_incref(json_object_get(names, "shortNames"));
                t->categories = json_incref(json_object_get(names, "categories"));
                t->schema = json_incref(json_object_get(json_object_get(ver, "schema"), "openAPIV3Schema"));
                json_t *cols = json_object_get(ver, "additionalPrinterColumns");
                if (json_array_size(cols))
                        t->columns = json_incref(cols);
                else
                        t->columns = json_pack("[{s:s, s:s, s:s}]", "name", "Age", "type", "date", "jsonPath",
                                               ".metadata.creationTimestamp");
                if (!t->group || !t->version || !t->resource || !t->singular || !t->kind || !t->crd_name ||
                    !t->columns || finish_type(t) < 0 || add_type(ts, t) < 0) {
                        kt_type_unref(t);
                        r = -ENOMEM;
                        break;
                }
        }
        ts->generation++;
        pthread_rwlock_unlock(&ts->lock);
        return r;
}

/* ---- discovery ---- */

/* Kubernetes version priority: GA > beta > alpha, higher numbers first, others last. */
static int version_rank(const char *v, long *major, long *minor)
{
        char *end;
        if (v[0] != 'v' || !isdigit((unsigned char) v[1]))
                return 3;
        *major = strtol(v + 1, &end, 10);
        *minor = 0;
        if (!*end)
                return 0;
        int kind = !strncmp(end, "beta", 4) ? 1 : !strncmp(end, "alpha", 5) ? 2 : 3;
        if (kind < 3)
                *minor = strtol(end + (kind == 1 ? 4 : 5), NULL, 10);
        return kind;
}

static int version_cmp(const char *a, const char *b)
{
        long ma = 0, na = 0, mb = 0, nb = 0;
        int ka = version_rank(a, &ma, &na), kb = version_rank(b, &mb, &nb);
        if (ka != kb)
                return ka - kb;
        if (ka == 3)
                return strcmp(a, b);
        if (ma != mb)
                return ma > mb ? -1 : 1;
        if (na != nb)
                return na > nb ? -1 : 1;
        return 0;
}

static char storage_hash_char(unsigned v)
{
        static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        return tab[v & 63];
}

/* A stable 8-byte hash in base64 like kube-apiserver's storageVersionHash. */
static void storage_hash(const struct kt_type *t, char out[13])
{
        uint64_t h = 1469598103934665603ull;
        for (const char *p = t->storage_key; *p; p++)
                h = (h ^ (unsigned char) *p) * 1099511628211ull;
        for (const char *p = t->kind; *p; p++)
                h = (h ^ (unsigned char) *p) * 1099511628211ull;
        for (int i = 0; i < 11; i++)
                out[i] = storage_hash_char((unsigned) (h >> (i * 6)));
        out[11] = '=';
        out[12] = '\0';
}

static const char *const verbs_all[] = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch", NULL};
/* A CRD's, in the order kube-apiserver lists them (apiextensions-apiserver's discovery does not
 * sort them; built-in resources' verbs are sorted). */
static const char *const verbs_crd[] = {"delete", "deletecollection", "get", "list", "patch", "create", "update", "watch", NULL};
static const char *const verbs_ns[] = {"create", "delete", "get", "list", "patch", "update", "watch", NULL};
static const char *const verbs_sub[] = {"get", "patch", "update", NULL};
static const char *const verbs_finalize[] = {"update", NULL};
static const char *const verbs_create[] = {"create", NULL};

static json_t *verbs(const char *const *v)
{
        json_t *a = json_array();
        for (; a && *v; v++)
                if (json_array_append_new(a, json_string(*v)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

static int append_resource(json_t *list, const struct kt_type *t)
{
        char hash[13];
        storage_hash(t, hash);
        json_t *r = json_pack("{s:s, s:s, s:b, s:s, s:o, s:s}", "name", t->resource, "singularName", t->singular,
                              "namespaced", t->namespaced, "kind", t->kind, "verbs",
                              verbs(t->builtin == BT_NAMESPACE ? verbs_ns : t->crd_name ? verbs_crd : verbs_all),
                              "storageVersionHash", hash);
        if (!r)
                return -ENOMEM;
        if (t->builtin == BT_SSAR || t->builtin == BT_SAR) {
                /* Reviews are not stored: create only, and no storageVersionHash. */
                (void) json_object_del(r, "storageVersionHash");
                if (json_object_set_new(r, "verbs", verbs(verbs_create)) < 0) {
                        json_decref(r);
                        return -ENOMEM;
                }
        }
        if (json_array_size(t->short_names))
                (void) json_object_set(r, "shortNames", t->short_names);
        if (json_array_size(t->categories))
                (void) json_object_set(r, "categories", t->categories);
        if (json_array_append_new(list, r) < 0)
                return -ENOMEM;
        /* Subresources, with the kind (group, version) they take where it is not the resource's. */
        const char *subs[4] = {t->has_status ? "status" : NULL, t->builtin == BT_NAMESPACE ? "finalize" : NULL,
                               t->builtin == BT_DEPLOYMENT || t->builtin == BT_STATEFULSET ? "scale" : NULL,
                               t->builtin == BT_SERVICEACCOUNT ? "token" : NULL};
        static const char *const sub_kind[4][3] = {{NULL}, {NULL}, {"Scale", "autoscaling", "v1"},
                                                   {"TokenRequest", "authentication.k8s.io", "v1"}};
        for (int i = 0; i < 4; i++) {
                if (!subs[i])
                        continue;
                char name[256];
                (void) snprintf(name, sizeof(name), "%s/%s", t->resource, subs[i]);
                json_t *s = json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", name, "singularName", "", "namespaced",
                                      t->namespaced, "kind", sub_kind[i][0] ? sub_kind[i][0] : t->kind, "verbs",
                                      verbs(i == 1 ? verbs_finalize : i == 3 ? verbs_create : verbs_sub));
                if (s && sub_kind[i][0] && (json_object_set_new(s, "group", json_string(sub_kind[i][1])) < 0 ||
                                            json_object_set_new(s, "version", json_string(sub_kind[i][2])) < 0)) {
                        json_decref(s);
                        s = NULL;
                }
                if (!s || json_array_append_new(list, s) < 0)
                        return -ENOMEM;
        }
        return 0;
}

json_t *types_resource_list(struct types *ts, const char *group, const char *version)
{
        json_t *res = json_array();
        bool any = false;
        pthread_rwlock_rdlock(&ts->lock);
        for (size_t i = 0; res && i < ts->n; i++) {
                const struct kt_type *t = ts->v[i];
                if (!t->served || strcmp(t->group, group) || strcmp(t->version, version))
                        continue;
                any = true;
                if (append_resource(res, t) < 0) {
                        json_decref(res);
                        res = NULL;
                }
        }
        pthread_rwlock_unlock(&ts->lock);
        if (!res || !any) {
                json_decref(res);
                return NULL;
        }
        char gv[512];
        (void) snprintf(gv, sizeof(gv), "%s%s%s", group, *group ? "/" : "", version);
        return json_pack("{s:s, s:s, s:s, s:o}", "kind", "APIResourceList", "apiVersion", "v1", "groupVersion", gv,
                         "resources", res);
}

json_t *types_api_versions(struct types *ts, const char *server_address)
{
        return json_pack("{s:s, s:[s], s:[{s:s, s:s}]}", "kind", "APIVersions", "versions", "v1",
                         "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0", "serverAddress", server_address);
}

/* The versions of @group, sorted by priority: a new array of strings. */
static json_t *group_versions_locked(struct types *ts, const char *group)
{
        json_t *vs = json_array();
        for (size_t i = 0; vs && i < ts->n; i++) {
                const struct kt_type *t = ts->v[i];
                if (!t->served || strcmp(t->group, group))
                        continue;
                bool have = false;
                size_t j;
                json_t *v;
                json_array_foreach(vs, j, v)
                        if (!strcmp(json_string_value(v), t->version))
                                have = true;
                if (have)
                        continue;
                size_t pos = 0;
                while (pos < json_array_size(vs) && version_cmp(json_string_value(json_array_get(vs, pos)), t->version) < 0)
                        pos++;
                if (json_array_insert_new(vs, pos, json_string(t->version)) < 0) {
                        json_decref(vs);
                        return NULL;
                }
        }
        return vs;
}

static json_t *group_doc_locked(struct types *ts, const char *group)
{
        json_t *vs = group_versions_locked(ts, group);
        if (!vs || !json_array_size(vs)) {
                json_decref(vs);
                return NULL;
        }
        json_t *versions = json_array();
        size_t i;
        json_t *v;
        char gv[512];
        json_array_foreach(vs, i, v) {
                (void) snprintf(gv, sizeof(gv), "%s/%s", group, json_string_value(v));
                if (!versions || json_array_append_new(versions, json_pack("{s:s, s:s}", "groupVersion", gv, "version",
                                                                           json_string_value(v))) < 0) {
                        json_decref(versions);
                        json_decref(vs);
                        return NULL;
                }
        }
        (void) snprintf(gv, sizeof(gv), "%s/%s", group, json_string_value(json_array_get(vs, 0)));
        json_t *doc = json_pack("{s:s, s:o, s:{s:s, s:s}}", "name", group, "versions", versions, "preferredVersion",
                                "groupVersion", gv, "version", json_string_value(json_array_get(vs, 0)));
        json_decref(vs);
        return doc;
}

json_t *types_group(struct types *ts, const char *group)
{
        pthread_rwlock_rdlock(&ts->lock);
        json_t *doc = *group ? group_doc_locked(ts, group) : NULL;
        pthread_rwlock_unlock(&ts->lock);
        if (doc && (json_object_set_new(doc, "kind", json_string("APIGroup")) < 0 ||
                    json_object_set_new(doc, "apiVersion", json_string("v1")) < 0)) {
                json_decref(doc);
                return NULL;
        }
        return doc;
}

static int group_cmp(const struct kt_type *a, const struct kt_type *b)
{
        if (a->group_priority != b->group_priority)
                return a->group_priority - b->group_priority;
        return strcmp(a->group, b->group);
}

json_t *types_group_list(struct types *ts)
{
        json_t *groups = json_array();
        pthread_rwlock_rdlock(&ts->lock);
        /* Distinct groups in priority order (selection; the registry is small). */
        const struct kt_type *last = NULL;
        for (;;) {
                const struct kt_type *next = NULL;
                for (size_t i = 0; i < ts->n; i++) {
                        const struct kt_type *t = ts->v[i];
                        if (!*t->group || !t->served || (last && group_cmp(t, last) <= 0))
                                continue;
                        if (!next || group_cmp(t, next) < 0)
                                next = t;
                }
                if (!next || !groups)
                        break;
                json_t *doc = group_doc_locked(ts, next->group);
                if (!doc || json_array_append_new(groups, doc) < 0) {
                        json_decref(groups);
                        groups = NULL;
                        break;
                }
                last = next;
        }
        pthread_rwlock_unlock(&ts->lock);
        if (!groups)
                return NULL;
        return json_pack("{s:s, s:s, s:o}", "kind", "APIGroupList", "apiVersion", "v1", "groups", groups);
}
