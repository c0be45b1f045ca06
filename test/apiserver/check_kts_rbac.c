/* test/apiserver/check_kts_rbac.c: the RBAC authorizer (rule matching, wildcards, resourceNames,
 * subresources, non-resource URLs, User/Group/ServiceAccount subjects, Roles and ClusterRoles
 * behind RoleBindings, the bootstrap roles, the Forbidden message) and the validation of the
 * kinds deploy/ writes (kinds.c), through api.c and the store. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_json.h"
#include "common/osb_mem.h"
#include "common/osb_yaml.h"
#include "test/apiserver/api.h"
#include "test/apiserver/rbac.h"
#include "test/apiserver/util.h"
#include "test/lib/check_main.h"

#define SA_USER "system:serviceaccount:bindery-system:catalog-controller"

static struct api *a;

static void setup(void)
{
        ck_assert_int_eq(api_new(64, "", &a), 0);
}

static void teardown(void)
{
        a = api_free(a);
}

static json_t *yaml(const char *y)
{
        json_t *j = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(osb_yaml_parse(y, strlen(y), &j, &err) == 0, "%s", err.text);
        return j;
}

/* Creates (@name NULL) or replaces an object from YAML; returns the status, the body in *ret. */
static unsigned write_obj(const char *group, const char *res, const char *ns, const char *name, const char *y,
                          json_t **ret)
{
        struct kt_type *t = types_find(a->types, group, "v1", res);
        ck_assert_ptr_nonnull(t);
        struct api_target tg = {.type = t, .ns = ns, .name = name};
        struct api_opts o = API_OPTS_INIT;
        struct api_result r = {0};
        json_t *body = yaml(y);
        unsigned c = name ? api_update(a, &tg, body, &o, &r) : api_create(a, &tg, body, &o, &r);
        json_decref(body);
        if (ret)
                *ret = json_incref(r.body);
        api_result_release(&r);
        kt_type_unref(t);
        return c;
}

static void create_ok(const char *group, const char *res, const char *ns, const char *y)
{
        json_t *body = NULL;
        unsigned c = write_obj(group, res, ns, NULL, y, &body);
        size_t len;
        char *txt = osb_json_dump_flags(body, JSON_COMPACT, &len);
        ck_assert_msg(c == 201, "create %s: %u %s", res, c, txt);
        osb_free(txt);
        json_decref(body);
}

static bool can(const char *user, const char *const *groups, size_t ngroups, const char *verb, const char *group,
                const char *res, const char *sub, const char *ns, const char *name)
{
        struct rbac_user u = {.name = user, .groups = groups, .ngroups = ngroups};
        struct rbac_attrs at = {.resource_request = true, .verb = verb, .group = group, .resource = res,
                                .subresource = sub, .ns = ns, .name = name};
        store_lock(a->st);
        bool ok = rbac_authorize(a->st, &u, &at);
        store_unlock(a->st);
        return ok;
}

static bool can_path(const char *user, const char *verb, const char *path)
{
        struct rbac_user u = {.name = user};
        struct rbac_attrs at = {.verb = verb, .path = path};
        store_lock(a->st);
        bool ok = rbac_authorize(a->st, &u, &at);
        store_unlock(a->st);
        return ok;
}

static bool rule_allows(const char *rule_yaml, const char *verb, const char *group, const char *res, const char *sub,
                        const char *name)
{
        json_t *rule = yaml(rule_yaml);
        struct rbac_attrs at = {.resource_request = true, .verb = verb, .group = group, .resource = res,
                                .subresource = sub, .ns = "shop", .name = name};
        bool ok = rbac_rule_allows(rule, &at);
        json_decref(rule);
        return ok;
}

START_TEST(rules_match_verb_group_and_resource_with_wildcards)
{
        const char *r = "{apiGroups: [''], resources: [secrets, configmaps], verbs: [get, list]}";
        ck_assert(rule_allows(r, "get", "", "secrets", NULL, "x"));
        ck_assert(rule_allows(r, "list", "", "configmaps", NULL, NULL));
        ck_assert(!rule_allows(r, "delete", "", "secrets", NULL, "x"));
        ck_assert(!rule_allows(r, "get", "apps", "secrets", NULL, "x"));
        ck_assert(!rule_allows(r, "get", "", "pods", NULL, "x"));
        ck_assert(rule_allows("{apiGroups: ['*'], resources: ['*'], verbs: ['*']}", "deletecollection", "apps", "deployments",
                              NULL, NULL));
        ck_assert(rule_allows("{apiGroups: [apps], resources: ['*'], verbs: [watch]}", "watch", "apps", "deployments", NULL, NULL));
        ck_assert(!rule_allows("{apiGroups: [apps], resources: ['*'], verbs: [watch]}", "watch", "", "pods", NULL, NULL));
}
END_TEST

START_TEST(resource_names_allow_only_the_named_objects)
{
        const char *r = "{apiGroups: [''], resources: [configmaps], resourceNames: [cluster-info], verbs: [get, update, create, list]}";
        ck_assert(rule_allows(r, "get", "", "configmaps", NULL, "cluster-info"));
        ck_assert(rule_allows(r, "update", "", "configmaps", NULL, "cluster-info"));
        ck_assert(!rule_allows(r, "get", "", "configmaps", NULL, "other"));
        /* a create and a list have no name: resourceNames never allow them */
        ck_assert(!rule_allows(r, "create", "", "configmaps", NULL, NULL));
        ck_assert(!rule_allows(r, "list", "", "configmaps", NULL, ""));
}
END_TEST

START_TEST(subresources_need_a_rule_of_their_own)
{
        const char *main_only = "{apiGroups: [servicecatalog.k8s.io], resources: [serviceinstances], verbs: [update]}";
        ck_assert(rule_allows(main_only, "update", "servicecatalog.k8s.io", "serviceinstances", NULL, "i"));
        ck_assert(!rule_allows(main_only, "update", "servicecatalog.k8s.io", "serviceinstances", "status", "i"));
        const char *status = "{apiGroups: [servicecatalog.k8s.io], resources: [serviceinstances/status], verbs: [update]}";
        ck_assert(rule_allows(status, "update", "servicecatalog.k8s.io", "serviceinstances", "status", "i"));
        ck_assert(!rule_allows(status, "update", "servicecatalog.k8s.io", "serviceinstances", NULL, "i"));
        ck_assert(!rule_allows(status, "update", "servicecatalog.k8s.io", "servicebindings", "status", "i"));
        const char *any_status = "{apiGroups: ['*'], resources: ['*/status'], verbs: [update]}";
        ck_assert(rule_allows(any_status, "update", "servicecatalog.k8s.io", "servicebindings", "status", "b"));
        ck_assert(!rule_allows(any_status, "update", "servicecatalog.k8s.io", "servicebindings", "finalizers", "b"));
        ck_assert(!rule_allows(any_status, "update", "servicecatalog.k8s.io", "servicebindings", NULL, "b"));
        ck_assert(rule_allows("{apiGroups: ['*'], resources: ['*'], verbs: ['*']}", "update", "", "namespaces", "finalize", "n"));
}
END_TEST

START_TEST(non_resource_urls_match_exactly_or_by_a_trailing_star)
{
        json_t *rule = yaml("{nonResourceURLs: [/version, '/apis/*'], verbs: [get]}");
        struct rbac_attrs at = {.verb = "get", .path = "/version"};
        ck_assert(rbac_rule_allows(rule, &at));
        at.path = "/apis/apps/v1";
        ck_assert(rbac_rule_allows(rule, &at));
        at.path = "/healthz";
        ck_assert(!rbac_rule_allows(rule, &at));
        at.path = "/version";
        at.verb = "post";
        ck_assert(!rbac_rule_allows(rule, &at));
        /* a resource request never matches a non-resource rule */
        struct rbac_attrs res = {.resource_request = true, .verb = "get", .group = "", .resource = "version"};
        ck_assert(!rbac_rule_allows(rule, &res));
        json_decref(rule);
}
END_TEST

START_TEST(subjects_match_users_groups_and_service_accounts)
{
        const char *groups[] = {"e2e:admins"};
        struct rbac_user sa = {.name = SA_USER};
        struct rbac_user alice = {.name = "alice", .groups = groups, .ngroups = 1};
        json_t *s = yaml("{kind: ServiceAccount, name: catalog-controller, namespace: bindery-system}");
        ck_assert(rbac_subject_matches(s, "", &sa));
        ck_assert(!rbac_subject_matches(s, "", &alice));
        json_decref(s);
        /* a ServiceAccount subject without a namespace: the RoleBinding's; none in a ClusterRoleBinding */
        s = yaml("{kind: ServiceAccount, name: catalog-controller}");
        ck_assert(rbac_subject_matches(s, "bindery-system", &sa));
        ck_assert(!rbac_subject_matches(s, "shop", &sa));
        ck_assert(!rbac_subject_matches(s, "", &sa));
        json_decref(s);
        s = yaml("{kind: User, name: alice}");
        ck_assert(rbac_subject_matches(s, "", &alice));
        ck_assert(!rbac_subject_matches(s, "", &sa));
        json_decref(s);
        s = yaml("{kind: Group, name: 'e2e:admins'}");
        ck_assert(rbac_subject_matches(s, "", &alice));
        ck_assert(!rbac_subject_matches(s, "", &sa));
        json_decref(s);
        /* implicit groups */
        ck_assert(rbac_user_in_group(&alice, "system:authenticated"));
        ck_assert(!rbac_user_in_group(&alice, "system:serviceaccounts"));
        ck_assert(rbac_user_in_group(&sa, "system:serviceaccounts"));
        ck_assert(rbac_user_in_group(&sa, "system:serviceaccounts:bindery-system"));
        ck_assert(!rbac_user_in_group(&sa, "system:serviceaccounts:bindery"));
        ck_assert(!rbac_user_in_group(&sa, "system:masters"));
}
END_TEST

START_TEST(role_bindings_grant_in_their_namespace_and_cluster_role_bindings_everywhere)
{
        create_ok("rbac.authorization.k8s.io", "clusterroles", NULL,
                  "{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: secret-reader},"
                  " rules: [{apiGroups: [''], resources: [secrets], verbs: [get]}]}");
        create_ok("rbac.authorization.k8s.io", "roles", "kube-public",
                  "{apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: {name: lease-writer},"
                  " rules: [{apiGroups: [coordination.k8s.io], resources: [leases], verbs: [create]}]}");
        ck_assert(!can(SA_USER, NULL, 0, "get", "", "secrets", NULL, "default", "s"));
        /* a RoleBinding to a ClusterRole: only in the binding's namespace */
        create_ok("rbac.authorization.k8s.io", "rolebindings", "default",
                  "{apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: {name: rb},"
                  " roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: secret-reader},"
                  " subjects: [{kind: ServiceAccount, name: catalog-controller, namespace: bindery-system}]}");
        ck_assert(can(SA_USER, NULL, 0, "get", "", "secrets", NULL, "default", "s"));
        ck_assert(!can(SA_USER, NULL, 0, "get", "", "secrets", NULL, "kube-public", "s"));
        ck_assert(!can(SA_USER, NULL, 0, "get", "", "secrets", NULL, NULL, "s"));
        ck_assert(!can(SA_USER, NULL, 0, "list", "", "secrets", NULL, "default", NULL));
        /* a RoleBinding to a Role: that Role, in that namespace */
        create_ok("rbac.authorization.k8s.io", "rolebindings", "kube-public",
                  "{apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: {name: rb},"
                  " roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: lease-writer},"
                  " subjects: [{kind: Group, name: 'system:serviceaccounts:bindery-system'}]}");
        ck_assert(can(SA_USER, NULL, 0, "create", "coordination.k8s.io", "leases", NULL, "kube-public", NULL));
        ck_assert(!can(SA_USER, NULL, 0, "create", "coordination.k8s.io", "leases", NULL, "default", NULL));
        ck_assert(!can("alice", NULL, 0, "create", "coordination.k8s.io", "leases", NULL, "kube-public", NULL));
        /* a RoleBinding naming a Role of that name that does not exist in its namespace grants nothing */
        create_ok("rbac.authorization.k8s.io", "rolebindings", "default",
                  "{apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: {name: dangling},"
                  " roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: lease-writer},"
                  " subjects: [{kind: User, name: alice}]}");
        ck_assert(!can("alice", NULL, 0, "create", "coordination.k8s.io", "leases", NULL, "default", NULL));
        /* a ClusterRoleBinding: every namespace and the cluster scope */
        create_ok("rbac.authorization.k8s.io", "clusterrolebindings", NULL,
                  "{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding, metadata: {name: crb},"
                  " roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: secret-reader},"
                  " subjects: [{kind: User, name: alice}]}");
        ck_assert(can("alice", NULL, 0, "get", "", "secrets", NULL, "kube-public", "s"));
        ck_assert(can("alice", NULL, 0, "get", "", "secrets", NULL, NULL, "s"));
        ck_assert(!can("alice", NULL, 0, "delete", "", "secrets", NULL, "kube-public", "s"));
        ck_assert(!can("bob", NULL, 0, "get", "", "secrets", NULL, "kube-public", "s"));
}
END_TEST

START_TEST(bootstrap_roles_give_masters_everything_and_everyone_discovery)
{
        const char *masters[] = {"system:masters"};
        ck_assert(can("root", masters, 1, "delete", "", "namespaces", NULL, "default", "default"));
        ck_assert(can("root", masters, 1, "impersonate", "", "users", NULL, NULL, "x"));
        ck_assert(!can("nobody", NULL, 0, "get", "", "pods", NULL, "default", "p"));
        ck_assert(!can("nobody", NULL, 0, "impersonate", "", "users", NULL, NULL, "x"));
        ck_assert(can("nobody", NULL, 0, "create", "authorization.k8s.io", "selfsubjectaccessreviews", NULL, NULL, NULL));
        ck_assert(can_path("nobody", "get", "/api"));
        ck_assert(can_path("nobody", "get", "/apis/apps/v1"));
        ck_assert(can_path("nobody", "get", "/openapi/v3"));
        ck_assert(can_path("nobody", "get", "/version"));
        ck_assert(can_path("nobody", "get", "/healthz"));
        ck_assert(!can_path("nobody", "post", "/api"));
        ck_assert(!can_path("nobody", "get", "/metrics"));
}
END_TEST

START_TEST(forbidden_messages_read_like_kube_apiserver)
{
        char buf[512];
        struct rbac_user u = {.name = SA_USER};
        struct rbac_attrs at = {.resource_request = true, .verb = "get", .group = "", .resource = "secrets", .ns = "shop",
                                .name = "x"};
        ck_assert_str_eq(rbac_forbidden_message(&u, &at, buf, sizeof(buf)),
                         "secrets \"x\" is forbidden: User \"" SA_USER "\" cannot get resource \"secrets\" in API group \"\" "
                         "in the namespace \"shop\"");
        struct rbac_attrs list = {.resource_request = true, .verb = "list", .group = "apps", .resource = "deployments"};
        ck_assert_str_eq(rbac_forbidden_message(&u, &list, buf, sizeof(buf)),
                         "deployments.apps is forbidden: User \"" SA_USER "\" cannot list resource \"deployments\" in API "
                         "group \"apps\" at the cluster scope");
        struct rbac_attrs st = {.resource_request = true, .verb = "update", .group = "servicecatalog.k8s.io",
                                .resource = "serviceinstances", .subresource = "status", .ns = "shop", .name = "db"};
        ck_assert_str_eq(rbac_forbidden_message(&u, &st, buf, sizeof(buf)),
                         "serviceinstances.servicecatalog.k8s.io \"db\" is forbidden: User \"" SA_USER "\" cannot update "
                         "resource \"serviceinstances/status\" in API group \"servicecatalog.k8s.io\" in the namespace \"shop\"");
        struct rbac_attrs path = {.verb = "get", .path = "/metrics"};
        ck_assert_str_eq(rbac_forbidden_message(&u, &path, buf, sizeof(buf)),
                         "forbidden: User \"" SA_USER "\" cannot get path \"/metrics\"");
}
END_TEST

static const char *message_of(const json_t *status)
{
        return json_string_value(json_object_get(status, "message"));
}

START_TEST(a_deployment_needs_a_selector_matching_its_template)
{
        json_t *body = NULL;
        ck_assert_uint_eq(write_obj("apps", "deployments", "default", NULL,
                                    "{apiVersion: apps/v1, kind: Deployment, metadata: {name: d}, spec: {replicas: 1}}", &body),
                          422);
        ck_assert_str_eq(json_string_value(json_object_get(body, "reason")), "Invalid");
        ck_assert_msg(strstr(message_of(body), "Deployment.apps \"d\" is invalid: [spec.selector: Required value, "
                                               "spec.template.spec.containers: Required value"),
                      "%s", message_of(body));
        json_decref(body);
        ck_assert_uint_eq(write_obj("apps", "deployments", "default", NULL,
                                    "{apiVersion: apps/v1, kind: Deployment, metadata: {name: d}, spec: {selector: {matchLabels: "
                                    "{app: a}}, template: {metadata: {labels: {app: b}}, spec: {containers: [{name: c, image: "
                                    "i}]}}}}", &body),
                          422);
        ck_assert_msg(strstr(message_of(body), "spec.template.metadata.labels: Invalid value: {\"app\":\"b\"}: `selector` "
                                               "does not match template `labels`"),
                      "%s", message_of(body));
        json_decref(body);
        ck_assert_uint_eq(write_obj("apps", "deployments", "default", NULL,
                                    "{apiVersion: apps/v1, kind: Deployment, metadata: {name: d}, spec: {selector: {matchLabels: "
                                    "{app: a}}, template: {metadata: {labels: {app: a}}, spec: {containers: [{name: c, image: "
                                    "i}]}}}}", &body),
                          201);
        /* the server's defaults, and a generation */
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(body, "spec"), "replicas")), 1);
        ck_assert_str_eq(json_string_value(util_json_get_path(body, "spec.strategy.type")), "RollingUpdate");
        ck_assert_int_eq(json_integer_value(util_json_get_path(body, "metadata.generation")), 1);
        json_decref(body);
}
END_TEST

START_TEST(a_binding_role_ref_cannot_change_and_subjects_are_checked)
{
        const char *rb = "{apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: {name: rb},"
                         " roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: %s},"
                         " subjects: [{kind: %s, name: x}]}";
        char y[512];
        (void) snprintf(y, sizeof(y), rb, "one", "User");
        create_ok("rbac.authorization.k8s.io", "rolebindings", "default", y);
        json_t *body = NULL;
        (void) snprintf(y, sizeof(y), rb, "two", "User");
        ck_assert_uint_eq(write_obj("rbac.authorization.k8s.io", "rolebindings", "default", "rb", y, &body), 422);
        ck_assert_msg(strstr(message_of(body), "cannot change roleRef"), "%s", message_of(body));
        json_decref(body);
        (void) snprintf(y, sizeof(y), rb, "one", "Robot");
        ck_assert_uint_eq(write_obj("rbac.authorization.k8s.io", "rolebindings", "default", "rb", y, &body), 422);
        ck_assert_msg(strstr(message_of(body), "subjects[0].kind: Unsupported value: \"Robot\""), "%s", message_of(body));
        json_decref(body);
        ck_assert_uint_eq(write_obj("rbac.authorization.k8s.io", "clusterrolebindings", NULL, NULL,
                                    "{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding, metadata: {name: c},"
                                    " roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r},"
                                    " subjects: [{kind: ServiceAccount, name: x}]}", &body),
                          422);
        ck_assert_msg(strstr(message_of(body), "roleRef.kind: Unsupported value: \"Role\""), "%s", message_of(body));
        ck_assert_msg(strstr(message_of(body), "subjects[0].namespace: Required value"), "%s", message_of(body));
        json_decref(body);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("kts_rbac");
        TCase *tc = tcase_create("rbac");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, rules_match_verb_group_and_resource_with_wildcards);
        tcase_add_test(tc, resource_names_allow_only_the_named_objects);
        tcase_add_test(tc, subresources_need_a_rule_of_their_own);
        tcase_add_test(tc, non_resource_urls_match_exactly_or_by_a_trailing_star);
        tcase_add_test(tc, subjects_match_users_groups_and_service_accounts);
        tcase_add_test(tc, role_bindings_grant_in_their_namespace_and_cluster_role_bindings_everywhere);
        tcase_add_test(tc, bootstrap_roles_give_masters_everything_and_everyone_discovery);
        tcase_add_test(tc, forbidden_messages_read_like_kube_apiserver);
        tcase_add_test(tc, a_deployment_needs_a_selector_matching_its_template);
        tcase_add_test(tc, a_binding_role_ref_cannot_change_and_subjects_are_checked);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(suite)
