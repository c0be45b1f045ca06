/* test/apiserver/check_kts_validation.c: what the test API server refuses because kube-apiserver
 * refuses it, with kube-apiserver's messages: the API approval annotation of CRDs in protected
 * groups, the CRD rules the project's CRDs exercise, the name rule of each kind, and watches from
 * a resourceVersion the server does not have (newer: accepted and quiet; older: 410). */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_mem.h"
#include "common/osb_yaml.h"
#include "test/apiserver/api.h"
#include "test/lib/check_main.h"

static struct api *a;

static void setup(void)
{
        ck_assert_int_eq(api_new(8, "", &a), 0);
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

/* Runs op ("create", "update") on @res of @group/@version; returns the status, *ret the body. */
static unsigned run(const char *op, const char *group, const char *version, const char *res, const char *ns,
                    const char *name, const char *y, json_t **ret)
{
        struct kt_type *t = types_find(a->types, group, version, res);
        ck_assert_msg(t != NULL, "%s/%s %s", group, version, res);
        struct api_target tg = {.type = t, .ns = ns, .name = name};
        struct api_opts o = API_OPTS_INIT;
        struct api_result r = {0};
        json_t *body = yaml(y);
        unsigned c = !strcmp(op, "create") ? api_create(a, &tg, body, &o, &r) : api_update(a, &tg, body, &o, &r);
        json_decref(body);
        kt_type_unref(t);
        if (ret)
                *ret = r.body;
        else
                json_decref(r.body);
        return c;
}

static const char *message(const json_t *status)
{
        return json_string_value(json_object_get(status, "message"));
}

/* A CRD for widgets.GROUP with the annotation line @ann ("" for none) in its metadata. */
static char *crd(const char *group, const char *ann)
{
        char *y = osb_asprintf(
                "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
                "metadata:\n  name: widgets.%s\n%s"
                "spec:\n  group: %s\n  scope: Namespaced\n  names: {kind: Widget, plural: widgets}\n"
                "  versions:\n  - name: v1\n    served: true\n    storage: true\n"
                "    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}\n",
                group, ann, group);
        ck_assert_ptr_nonnull(y);
        return y;
}

static const json_t *condition(const json_t *obj, const char *type)
{
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(json_object_get(obj, "status"), "conditions"), i, c)
                if (!strcmp(json_string_value(json_object_get(c, "type")), type))
                        return c;
        return NULL;
}

static const char missing_msg[] =
        "metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval "
        "annotation \"api-approved.kubernetes.io\", see https://github.com/kubernetes/enhancements/pull/1111";

/* kube-apiserver (apiextensions-apiserver validateAPIApproval, apihelpers.GetAPIApprovalState):
 * a v1 CRD in k8s.io, *.k8s.io, kubernetes.io or *.kubernetes.io needs the annotation
 * api-approved.kubernetes.io: a URL (approved) or text starting with "unapproved" (accepted,
 * condition KubernetesAPIApprovalPolicyConformant False). */
START_TEST(crd_in_a_protected_group_needs_the_approval_annotation)
{
        static const char *const protected[] = {"servicecatalog.k8s.io", "k8s.io", "x.kubernetes.io", "kubernetes.io"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(protected); i++) {
                osb_autofree char *y = crd(protected[i], "");
                json_t *st = NULL;
                ck_assert_uint_eq(run("create", "apiextensions.k8s.io", "v1", "customresourcedefinitions", NULL, NULL, y, &st),
                                  422);
                ck_assert_str_eq(json_string_value(json_object_get(st, "reason")), "Invalid");
                char want[600];
                (void) snprintf(want, sizeof(want), "CustomResourceDefinition.apiextensions.k8s.io \"widgets.%s\" is invalid: %s",
                                protected[i], missing_msg);
                ck_assert_str_eq(message(st), want);
                json_t *cause = json_array_get(json_object_get(json_object_get(st, "details"), "causes"), 0);
                ck_assert_str_eq(json_string_value(json_object_get(cause, "reason")), "FieldValueRequired");
                ck_assert_str_eq(json_string_value(json_object_get(cause, "field")),
                                 "metadata.annotations[api-approved.kubernetes.io]");
                json_decref(st);
        }

        /* neither a URL nor "unapproved...": Invalid */
        osb_autofree char *bad = crd("a.k8s.io", "  annotations: {api-approved.kubernetes.io: bad value}\n");
        json_t *st = NULL;
        ck_assert_uint_eq(run("create", "apiextensions.k8s.io", "v1", "customresourcedefinitions", NULL, NULL, bad, &st), 422);
        ck_assert_str_eq(message(st), "CustomResourceDefinition.apiextensions.k8s.io \"widgets.a.k8s.io\" is invalid: "
                                      "metadata.annotations[api-approved.kubernetes.io]: Invalid value: \"bad value\": "
                                      "protected groups must have approval annotation \"api-approved.kubernetes.io\" with "
                                      "either a URL or a reason starting with \"unapproved\", see "
                                      "https://github.com/kubernetes/enhancements/pull/1111");
        json_decref(st);

        /* "unapproved, ...": accepted, not conformant */
        osb_autofree char *un = crd("b.k8s.io", "  annotations: {api-approved.kubernetes.io: 'unapproved, testing'}\n");
        json_t *obj = NULL;
        ck_assert_uint_eq(run("create", "apiextensions.k8s.io", "v1", "customresourcedefinitions", NULL, NULL, un, &obj), 201);
        const json_t *c = condition(obj, "KubernetesAPIApprovalPolicyConformant");
        ck_assert_ptr_nonnull(c);
        ck_assert_str_eq(json_string_value(json_object_get(c, "status")), "False");
        ck_assert_str_eq(json_string_value(json_object_get(c, "reason")), "UnapprovedAnnotation");
        ck_assert_str_eq(json_string_value(json_object_get(c, "message")), "not approved: \"unapproved, testing\"");
        ck_assert_ptr_nonnull(condition(obj, "Established"));
        json_decref(obj);
        /* an update that drops the annotation changes the approval state: refused */
        osb_autofree char *none = crd("b.k8s.io", "");
        ck_assert_uint_eq(run("update", "apiextensions.k8s.io", "v1", "customresourcedefinitions", NULL, "widgets.b.k8s.io",
                              none, &st), 422);
        ck_assert_ptr_nonnull(strstr(message(st), missing_msg));
        json_decref(st);

        /* a URL: approved */
        osb_autofree char *url = crd("c.k8s.io", "  annotations: {api-approved.kubernetes.io: 'https://github.com/kubernetes/kubernetes/pull/1'}\n");
        ck_assert_uint_eq(run("create", "apiextensions.k8s.io", "v1", "customresourcedefinitions", NULL, NULL, url, &obj), 201);
        c = condition(obj, "KubernetesAPIApprovalPolicyConformant");
        ck_assert_ptr_nonnull(c);
        ck_assert_str_eq(json_string_value(json_object_get(c, "status")), "True");
        ck_assert_str_eq(json_string_value(json_object_get(c, "reason")), "ApprovedAnnotation");
        ck_assert_str_eq(json_string_value(json_object_get(c, "message")), "approved in https://github.com/kubernetes/kubernetes/pull/1");
        json_decref(obj);

        /* other groups need nothing and get no such condition (k8s.io.example.com is not protected) */
        static const char *const free_groups[] = {"example.com", "k8s.io.example.com", "notk8s.io"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(free_groups); i++) {
                osb_autofree char *y = crd(free_groups[i], "");
                ck_assert_uint_eq(run("create", "apiextensions.k8s.io", "v1", "customresourcedefinitions", NULL, NULL, y, &obj),
                                  201);
                ck_assert_ptr_null(condition(obj, "KubernetesAPIApprovalPolicyConformant"));
                json_decref(obj);
        }
        ck_assert(api_is_protected_group("k8s.io") && api_is_protected_group("a.b.kubernetes.io"));
        ck_assert(!api_is_protected_group("xk8s.io") && !api_is_protected_group("example.com"));
}
END_TEST

/* A CRD body with the given pieces, for the rules of ValidateCustomResourceDefinition. */
static unsigned crd_status(const char *name, const char *names, const char *versions, json_t **st)
{
        osb_autofree char *y = osb_asprintf(
                "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: %s}\n"
                "spec:\n  group: example.com\n  scope: Namespaced\n  names: %s\n  versions: %s\n", name, names, versions);
        ck_assert_ptr_nonnull(y);
        return run("create", "apiextensions.k8s.io", "v1", "customresourcedefinitions", NULL, NULL, y, st);
}

static const char v1[] = "[{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]";

/* apiextensions-apiserver ValidateCustomResourceDefinition(Spec): names.plural and names.kind
 * required, metadata.name = plural.group, exactly one storage version, and (structural
 * schema) a type at the root. Each message as the real server words it. */
START_TEST(crd_spec_rules_are_those_of_kube_apiserver)
{
        json_t *st = NULL;
        ck_assert_uint_eq(crd_status("widgets.example.com", "{kind: Widget}", v1, &st), 422);
        ck_assert_ptr_nonnull(strstr(message(st), "spec.names.plural: Required value"));
        json_decref(st);
        ck_assert_uint_eq(crd_status("widgets.example.com", "{plural: widgets}", v1, &st), 422);
        ck_assert_ptr_nonnull(strstr(message(st), "spec.names.kind: Required value"));
        json_decref(st);
        ck_assert_uint_eq(crd_status("gadgets.example.com", "{plural: widgets, kind: Widget}", v1, &st), 422);
        ck_assert_str_eq(message(st), "CustomResourceDefinition.apiextensions.k8s.io \"gadgets.example.com\" is invalid: "
                                      "metadata.name: Invalid value: \"gadgets.example.com\": must be "
                                      "spec.names.plural+\".\"+spec.group");
        json_decref(st);
        ck_assert_uint_eq(crd_status("widgets.example.com", "{plural: widgets, kind: Widget}",
                                     "[{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}},"
                                     " {name: v2, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]",
                                     &st), 422);
        ck_assert_ptr_nonnull(strstr(message(st), "spec.versions: Invalid value: "));
        ck_assert_ptr_nonnull(strstr(message(st), "must have exactly one version marked as storage version"));
        json_decref(st);
        ck_assert_uint_eq(crd_status("widgets.example.com", "{plural: widgets, kind: Widget}",
                                     "[{name: v1, served: true, storage: false, schema: {openAPIV3Schema: {type: object}}}]",
                                     &st), 422);
        ck_assert_ptr_nonnull(strstr(message(st), "must have exactly one version marked as storage version"));
        json_decref(st);
        ck_assert_uint_eq(crd_status("widgets.example.com", "{plural: widgets, kind: Widget}",
                                     "[{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {properties: {a: {type: string}}}}}]",
                                     &st), 422);
        ck_assert_ptr_nonnull(strstr(message(st), "spec.versions[0].schema.openAPIV3Schema.type: Required value: must not be empty at the root"));
        json_decref(st);
        ck_assert_uint_eq(crd_status("widgets.example.com", "{plural: widgets, kind: Widget}", v1, NULL), 201);
}
END_TEST

static const char *schema_error(const char *schema)
{
        static char msg[2048];
        osb_autofree char *versions = osb_asprintf("[{name: v1, served: true, storage: true, schema: {openAPIV3Schema: %s}}]", schema);
        json_t *st = NULL;
        unsigned c = crd_status("widgets.example.com", "{plural: widgets, kind: Widget}", versions, &st);
        (void) snprintf(msg, sizeof(msg), "%u %s", c, c == 201 ? "" : message(st));
        json_decref(st);
        return msg;
}

/* Structural schemas (apiextensions-apiserver apiserver/schema ValidateStructural, after
 * ValidateCustomResourceDefinitionOpenAPISchema): a type at every level, additionalProperties
 * not with properties, nothing under metadata but name and generateName. */
START_TEST(crd_schemas_must_be_structural)
{
        static const char prefix[] = "CustomResourceDefinition.apiextensions.k8s.io \"widgets.example.com\" is invalid: "
                                     "spec.versions[0].schema.openAPIV3Schema";
        char want[1024];
        (void) snprintf(want, sizeof(want), "422 %s.properties[spec].properties[size].type: Required value: must not be "
                        "empty for specified object fields", prefix);
        ck_assert_str_eq(schema_error("{type: object, properties: {spec: {type: object, properties: {size: {}}}}}"), want);
        (void) snprintf(want, sizeof(want), "422 %s.properties[spec].items.type: Required value: must not be empty for "
                        "specified array items", prefix);
        ck_assert_str_eq(schema_error("{type: object, properties: {spec: {type: array, items: {description: x}}}}"), want);
        (void) snprintf(want, sizeof(want), "422 %s.properties[spec].additionalProperties: Forbidden: additionalProperties "
                        "and properties are mutual exclusive", prefix);
        ck_assert_str_eq(schema_error("{type: object, properties: {spec: {type: object, properties: {a: {type: string}},"
                                      " additionalProperties: {type: string}}}}"), want);
        (void) snprintf(want, sizeof(want), "422 %s.properties[metadata]: Forbidden: must not specify anything other than "
                        "name and generateName, but metadata is implicitly specified", prefix);
        ck_assert_str_eq(schema_error("{type: object, properties: {metadata: {type: object, description: no}}}"), want);
        (void) snprintf(want, sizeof(want), "422 %s.type: Invalid value: \"array\": must be object at the root", prefix);
        ck_assert_str_eq(schema_error("{type: array, items: {type: string}}"), want);
        /* what is fine: preserve-unknown-fields without a type, int-or-string, metadata.name rules,
         * additionalProperties alone */
        ck_assert_str_eq(schema_error("{type: object, properties: {metadata: {type: object, properties: {name: {type: string, "
                                      "maxLength: 20}}}, spec: {x-kubernetes-preserve-unknown-fields: true}, port: "
                                      "{x-kubernetes-int-or-string: true}, m: {type: object, additionalProperties: {type: "
                                      "string}}}}"), "201 ");
}
END_TEST

static char *repeat(char c, size_t n)
{
        char *s = osb_malloc(n + 1);
        ck_assert_ptr_nonnull(s);
        memset(s, c, n);
        s[n] = '\0';
        return s;
}

static unsigned create_named(const char *group, const char *version, const char *res, const char *kind, const char *ns,
                             const char *name, json_t **st)
{
        osb_autofree char *y = osb_asprintf("apiVersion: %s%s%s\nkind: %s\nmetadata: {name: '%s'}\n%s", group,
                                             *group ? "/" : "", version, kind, name,
                                             !strcmp(kind, "Service") ? "spec: {ports: [{port: 80}]}\n" : "");
        ck_assert_ptr_nonnull(y);
        return run("create", group, version, res, ns, NULL, y, st);
}

/* Names as kube-apiserver validates them: NameIsDNSSubdomain (up to 253 characters; a single
 * label of 64 or more is fine) for Secrets, ConfigMaps and custom resources; NameIsDNSLabel
 * (63) for Namespaces; NameIsDNS1035Label (63, starts with a letter) for Services. Each
 * failure is one cause per message (the length, then the pattern). */
START_TEST(names_follow_each_kinds_rule)
{
        ck_assert_uint_eq(crd_status("widgets.example.com", "{plural: widgets, kind: Widget}", v1, NULL), 201);
        osb_autofree char *n64 = repeat('a', 64);
        char n253[254];
        memset(n253, 'b', 253);   /* four labels of 63, 63, 63 and 61 */
        n253[63] = n253[127] = n253[191] = '.';
        n253[253] = '\0';
        osb_autofree char *n254 = osb_asprintf("x%s", n253);
        json_t *st = NULL;
        ck_assert_uint_eq(create_named("", "v1", "secrets", "Secret", "default", n64, NULL), 201);
        ck_assert_uint_eq(create_named("", "v1", "configmaps", "ConfigMap", "default", n64, NULL), 201);
        ck_assert_uint_eq(create_named("example.com", "v1", "widgets", "Widget", "default", n64, NULL), 201);
        ck_assert_uint_eq(create_named("example.com", "v1", "widgets", "Widget", "default", n253, NULL), 201);
        ck_assert_uint_eq(create_named("example.com", "v1", "widgets", "Widget", "default", n254, &st), 422);
        char want[1200];
        (void) snprintf(want, sizeof(want), "metadata.name: Invalid value: \"%s\": must be no more than 253 characters", n254);
        ck_assert_ptr_nonnull(strstr(message(st), want));
        json_decref(st);
        ck_assert_uint_eq(create_named("", "v1", "configmaps", "ConfigMap", "default", "a..b", &st), 422);
        ck_assert_ptr_nonnull(strstr(message(st), "a lowercase RFC 1123 subdomain must consist of"));
        json_decref(st);

        ck_assert_uint_eq(create_named("", "v1", "namespaces", "Namespace", NULL, n64, &st), 422);
        /* the name, and the label kubernetes.io/metadata.name the server sets to it */
        (void) snprintf(want, sizeof(want), "Namespace \"%s\" is invalid: [metadata.name: Invalid value: \"%s\": must be no "
                        "more than 63 characters, metadata.labels: Invalid value: \"%s\": must be no more than 63 characters]",
                        n64, n64, n64);
        ck_assert_str_eq(message(st), want);
        json_decref(st);
        ck_assert_uint_eq(create_named("", "v1", "namespaces", "Namespace", NULL, "a.b", &st), 422);
        ck_assert_ptr_nonnull(strstr(message(st), "a lowercase RFC 1123 label must consist of"));
        json_decref(st);

        ck_assert_uint_eq(create_named("", "v1", "services", "Service", "default", "1abc", &st), 422);
        ck_assert_str_eq(message(st), "Service \"1abc\" is invalid: metadata.name: Invalid value: \"1abc\": a DNS-1035 label "
                                      "must consist of lower case alphanumeric characters or '-', start with an alphabetic "
                                      "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
                                      "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')");
        json_decref(st);
        ck_assert_uint_eq(create_named("", "v1", "services", "Service", "default", n64, &st), 422);
        ck_assert_ptr_nonnull(strstr(message(st), "must be no more than 63 characters"));
        json_decref(st);
        ck_assert_uint_eq(create_named("", "v1", "services", "Service", "default", "abc-1", NULL), 201);

        /* RBAC objects: a path segment (ValidateRBACName), so "system:x" and capitals are fine */
        ck_assert_uint_eq(create_named("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", NULL, "System:X", NULL),
                          201);
        ck_assert_uint_eq(create_named("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", NULL, "a%b", &st), 422);
        ck_assert_ptr_nonnull(strstr(message(st), "may not contain '/' or '%'"));
        json_decref(st);
        /* Events: core v1 keeps the legacy rules (no name check), events.k8s.io/v1 a subdomain */
        ck_assert_uint_eq(create_named("", "v1", "events", "Event", "default", "Legacy_Name", NULL), 201);
        ck_assert_uint_eq(create_named("events.k8s.io", "v1", "events", "Event", "default", "Strict_Name", &st), 422);
        ck_assert_ptr_nonnull(strstr(message(st), "a lowercase RFC 1123 subdomain must consist of"));
        json_decref(st);
}
END_TEST

/* A core/v1 Event in namespace @ns about an object in namespace @ions (NULL: cluster-scoped). */
static unsigned create_event(const char *ns, const char *ions, const char *event_time, json_t **st)
{
        osb_autofree char *y = osb_asprintf("apiVersion: v1\nkind: Event\nmetadata: {generateName: e-}\n"
                                             "involvedObject: {kind: X, name: x%s%s}\nreason: R\nmessage: m\n%s%s%s",
                                             ions ? ", namespace: " : "", ions ? ions : "",
                                             event_time ? "eventTime: '" : "", event_time ? event_time : "",
                                             event_time ? "'\n" : "");
        ck_assert_ptr_nonnull(y);
        return run("create", "", "v1", "events", ns, NULL, y, st);
}

/* kube-apiserver's legacy Event rules (pkg/apis/core/validation/events.go, legacyValidateEvent):
 * an Event about a cluster-scoped object lives in "default" (with an eventTime also
 * "kube-system"), one about a namespaced object in that object's namespace. */
START_TEST(events_live_in_their_objects_namespace_or_default)
{
        json_t *st = NULL;
        ck_assert_uint_eq(create_event("default", NULL, NULL, NULL), 201);
        ck_assert_uint_eq(create_event("kube-system", NULL, NULL, &st), 422);
        ck_assert_ptr_nonnull(strstr(message(st), "involvedObject.namespace: Invalid value: \"\": does not match event.namespace"));
        json_decref(st);
        ck_assert_uint_eq(create_event("kube-system", NULL, "2026-01-01T00:00:00.000000Z", NULL), 201);
        ck_assert_uint_eq(create_event("kube-public", NULL, "2026-01-01T00:00:00.000000Z", NULL), 422);
        ck_assert_uint_eq(create_event("kube-public", "kube-public", NULL, NULL), 201);
        ck_assert_uint_eq(create_event("default", "kube-public", NULL, &st), 422);
        ck_assert_ptr_nonnull(strstr(message(st), "Invalid value: \"kube-public\": does not match event.namespace"));
        json_decref(st);
}
END_TEST

static char *next_line(struct api_watch *w, bool *done)
{
        size_t len;
        return api_watch_next(w, &len, done, 0, NULL);
}

/* kube-apiserver v1.24+ answers a watch from a resourceVersion newer than its own with 200 and
 * sends only the events after that version (watch cache: getAllEventsSinceLocked has no upper
 * bound, cacheWatcher drops events not newer than the requested version; "Too large resource
 * version" is for lists, and for watches only with sendInitialEvents=true). From a compacted one,
 * an ERROR event with a 410 Expired Status, "too old resource version: X (Y)". */
START_TEST(watch_from_a_future_or_compacted_resource_version)
{
        struct kt_type *t = types_find(a->types, "", "v1", "configmaps");
        struct api_target tg = {.type = t, .ns = "default"};
        struct api_opts o = API_OPTS_INIT;
        struct api_result r = {0};
        struct api_watch *w = NULL;
        char future[32];
        uint64_t from = store_rv(a->st) + 5;
        (void) snprintf(future, sizeof(future), "%" PRIu64, from);
        o.resource_version = future;
        ck_assert_uint_eq(api_watch_open(a, &tg, &o, NULL, NULL, &w, &r), 0);
        bool done = false;
        ck_assert_ptr_null(next_line(w, &done));
        ck_assert(!done);
        for (int i = 0; i < 7; i++) {
                char name[16];
                (void) snprintf(name, sizeof(name), "f%d", i);
                ck_assert_uint_eq(create_named("", "v1", "configmaps", "ConfigMap", "default", name, NULL), 201);
        }
        /* only what is newer than the requested version */
        char *l;
        int seen = 0;
        while ((l = next_line(w, &done))) {
                const char *rv = strstr(l, "\"resourceVersion\":\"");
                ck_assert_ptr_nonnull(rv);
                ck_assert_int_gt(strtoll(rv + 19, NULL, 10), (long long) from);
                seen++;
                osb_free(l);
        }
        ck_assert_int_eq(seen, 2);
        ck_assert(!done);
        api_watch_close(w);

        /* 8 events of history: 1 is gone */
        for (int i = 0; i < 10; i++) {
                char name[16];
                (void) snprintf(name, sizeof(name), "g%d", i);
                ck_assert_uint_eq(create_named("", "v1", "configmaps", "ConfigMap", "default", name, NULL), 201);
        }
        o.resource_version = "1";
        ck_assert_uint_eq(api_watch_open(a, &tg, &o, NULL, NULL, &w, &r), 0);
        l = next_line(w, &done);
        ck_assert_msg(l && strstr(l, "\"type\":\"ERROR\"") && strstr(l, "\"code\":410") &&
                      strstr(l, "\"reason\":\"Expired\"") && strstr(l, "too old resource version: 1 ("), "%s", l ? l : "");
        osb_free(l);
        api_watch_close(w);
        kt_type_unref(t);
}
END_TEST

static void *create_later(void *arg)
{
        (void) arg;
        struct timespec ms300 = {0, 300 * 1000 * 1000};
        (void) nanosleep(&ms300, NULL);
        (void) create_named("", "v1", "configmaps", "ConfigMap", "default", "late", NULL);
        return NULL;
}

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

/* A list from a resourceVersion the server does not have: kube-apiserver's watch cache waits up
 * to 3 s for it (waitUntilFreshAndBlock), then answers 504 "Too large resource version: N,
 * current: C" (storage.NewTooLargeResourceVersionError: reason Timeout, details.causes[0].reason
 * ResourceVersionTooLarge, retryAfterSeconds 1). One it reaches in time is served. */
START_TEST(list_from_a_future_resource_version)
{
        struct kt_type *t = types_find(a->types, "", "v1", "configmaps");
        struct api_target tg = {.type = t, .ns = "default"};
        struct api_opts o = API_OPTS_INIT;
        struct api_result r = {0};
        uint64_t cur = store_rv(a->st);
        char rv[32];
        (void) snprintf(rv, sizeof(rv), "%" PRIu64, cur + 100);
        o.resource_version = rv;
        uint64_t t0 = now_ms();
        ck_assert_uint_eq(api_list(a, &tg, &o, &r), 504);
        uint64_t took = now_ms() - t0;
        ck_assert_msg(took >= API_TOO_LARGE_WAIT_MS - 50 && took < API_TOO_LARGE_WAIT_MS + 20000, "%" PRIu64 " ms", took);
        char want[200];
        (void) snprintf(want, sizeof(want), "Too large resource version: %" PRIu64 ", current: %" PRIu64, cur + 100, cur);
        ck_assert_str_eq(message(r.body), want);
        ck_assert_str_eq(json_string_value(json_object_get(r.body, "reason")), "Timeout");
        json_t *d = json_object_get(r.body, "details");
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(d, "causes"), 0), "reason")),
                         "ResourceVersionTooLarge");
        ck_assert_int_eq(json_integer_value(json_object_get(d, "retryAfterSeconds")), 1);
        api_result_release(&r);

        /* one version ahead, reached while the list waits: served */
        (void) snprintf(rv, sizeof(rv), "%" PRIu64, cur + 1);
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, NULL, create_later, NULL), 0);
        ck_assert_uint_eq(api_list(a, &tg, &o, &r), 200);
        pthread_join(th, NULL);
        bool late = false;
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(r.body, "items"), i, it)
                late |= !strcmp(json_string_value(json_object_get(json_object_get(it, "metadata"), "name")), "late");
        ck_assert(late);
        api_result_release(&r);
        /* "0" and older versions: served at once */
        o.resource_version = "0";
        ck_assert_uint_eq(api_list(a, &tg, &o, &r), 200);
        api_result_release(&r);
        o.resource_version = "1";
        ck_assert_uint_eq(api_list(a, &tg, &o, &r), 200);
        api_result_release(&r);
        kt_type_unref(t);
}
END_TEST

/* kube-apiserver sends a BOOKMARK only with a resourceVersion newer than the watch's (the watch
 * cache's cacheWatcher drops what is not newer; api-concepts: bookmarks are not guaranteed). */
START_TEST(bookmarks_only_past_the_watchs_resource_version)
{
        struct kt_type *t = types_find(a->types, "", "v1", "configmaps");
        struct api_target tg = {.type = t, .ns = "default"};
        struct api_opts o = API_OPTS_INIT;
        struct api_result r = {0};
        struct api_watch *w = NULL;
        char from[32];
        (void) snprintf(from, sizeof(from), "%" PRIu64, store_rv(a->st));
        o.resource_version = from;
        o.allow_bookmarks = true;
        ck_assert_uint_eq(api_watch_open(a, &tg, &o, NULL, NULL, &w, &r), 0);
        bool done = false;
        size_t len;
        struct timespec ms5 = {0, 5 * 1000 * 1000};
        (void) nanosleep(&ms5, NULL);
        ck_assert_ptr_null(api_watch_next(w, &len, &done, 1, NULL));   /* nothing newer: no BOOKMARK */
        ck_assert(!done);
        /* a change elsewhere (another namespace) moves the server on: now a BOOKMARK comes */
        ck_assert_uint_eq(create_named("", "v1", "configmaps", "ConfigMap", "kube-system", "elsewhere", NULL), 201);
        (void) nanosleep(&ms5, NULL);
        char *l = api_watch_next(w, &len, &done, 1, NULL);
        ck_assert_msg(l && strstr(l, "\"type\":\"BOOKMARK\""), "%s", l ? l : "(none)");
        osb_free(l);
        api_watch_close(w);
        kt_type_unref(t);
}
END_TEST

/* A StatefulSet (serviceName: @svc, "" for none) or DaemonSet named @name; @sel and @pod are the
 * selector's matchLabels and the pod spec, as YAML flow. */
static char *workload(const char *kind, const char *name, const char *svc, const char *sel, const char *pod)
{
        char *y = osb_asprintf("apiVersion: apps/v1\nkind: %s\nmetadata: {name: %s}\nspec: {%s%s%sselector: {matchLabels: %s},"
                               " template: {metadata: {labels: {app: a}}, spec: %s}}\n", kind, name,
                               *svc ? "serviceName: " : "", svc, *svc ? ", " : "", sel, pod);
        ck_assert_ptr_nonnull(y);
        return y;
}

#define POD_OK "{containers: [{name: c, image: 'registry.invalid/app:1'}]}"

START_TEST(statefulsets_and_daemonsets_are_checked_as_kube_apiserver_checks_them)
{
        static const char *const kinds[][3] = {{"statefulsets", "StatefulSet", "statefulset"}, {"daemonsets", "DaemonSet", "daemonset"}};
        for (size_t k = 0; k < 2; k++) {
                const char *res = kinds[k][0], *kind = kinds[k][1], *what = kinds[k][2];
                json_t *st = NULL;
                /* accepted without serviceName; defaults filled in */
                osb_autofree char *ok = workload(kind, "w", "", "{app: a}", POD_OK);
                ck_assert_uint_eq(run("create", "apps", "v1", res, "default", NULL, ok, &st), 201);
                json_t *spec = json_object_get(st, "spec");
                ck_assert_str_eq(json_string_value(json_object_get(json_object_get(spec, "updateStrategy"), "type")), "RollingUpdate");
                ck_assert_int_eq(json_integer_value(json_object_get(spec, "revisionHistoryLimit")), 10);
                ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(spec, "template"), "spec"),
                                                                   "restartPolicy")), "Always");
                ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(st, "metadata"), "generation")), 1);
                if (k == 0) {
                        ck_assert_int_eq(json_integer_value(json_object_get(spec, "replicas")), 1);
                        ck_assert_str_eq(json_string_value(json_object_get(spec, "podManagementPolicy")), "OrderedReady");
                } else {
                        ck_assert_ptr_null(json_object_get(spec, "replicas"));
                }
                json_decref(st);

                /* no selector; an empty one; one that does not select the template */
                char name[64];
                osb_autofree char *nosel = osb_asprintf("apiVersion: apps/v1\nkind: %s\nmetadata: {name: n}\nspec: {template: "
                                                        "{metadata: {labels: {app: a}}, spec: " POD_OK "}}\n", kind);
                ck_assert_uint_eq(run("create", "apps", "v1", res, "default", NULL, nosel, &st), 422);
                (void) snprintf(name, sizeof(name), "%s.apps \"n\" is invalid: spec.selector: Required value", kind);
                ck_assert_msg(strstr(message(st), name), "%s", message(st));
                json_decref(st);
                osb_autofree char *empty = workload(kind, "n", "", "{}", POD_OK);
                ck_assert_uint_eq(run("create", "apps", "v1", res, "default", NULL, empty, &st), 422);
                (void) snprintf(name, sizeof(name), "empty selector is invalid for %s", what);
                ck_assert_msg(strstr(message(st), name), "%s", message(st));
                json_decref(st);
                osb_autofree char *other = workload(kind, "n", "", "{app: b}", POD_OK);
                ck_assert_uint_eq(run("create", "apps", "v1", res, "default", NULL, other, &st), 422);
                ck_assert_msg(strstr(message(st), "spec.template.metadata.labels: Invalid value: {\"app\":\"a\"}: `selector` "
                                                  "does not match template `labels`"), "%s", message(st));
                json_decref(st);

                /* a container without name or image; a pod that would not restart */
                osb_autofree char *noimg = workload(kind, "n", "", "{app: a}", "{containers: [{name: c}, {image: i}]}");
                ck_assert_uint_eq(run("create", "apps", "v1", res, "default", NULL, noimg, &st), 422);
                ck_assert_msg(strstr(message(st), "spec.template.spec.containers[0].image: Required value") &&
                              strstr(message(st), "spec.template.spec.containers[1].name: Required value"), "%s", message(st));
                json_decref(st);
                osb_autofree char *never = workload(kind, "n", "", "{app: a}",
                                                    "{restartPolicy: Never, containers: [{name: c, image: i}]}");
                ck_assert_uint_eq(run("create", "apps", "v1", res, "default", NULL, never, &st), 422);
                ck_assert_msg(strstr(message(st), "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported "
                                                  "values: \"Always\""), "%s", message(st));
                json_decref(st);

                /* the pod template may change (a new generation); the selector may not */
                osb_autofree char *ann = osb_asprintf("apiVersion: apps/v1\nkind: %s\nmetadata: {name: w}\nspec: {selector: "
                                                      "{matchLabels: {app: a}}, template: {metadata: {labels: {app: a}, "
                                                      "annotations: {x: y}}, spec: " POD_OK "}}\n", kind);
                ck_assert_uint_eq(run("update", "apps", "v1", res, "default", "w", ann, &st), 200);
                ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(st, "metadata"), "generation")), 2);
                json_decref(st);
                osb_autofree char *resel = osb_asprintf("apiVersion: apps/v1\nkind: %s\nmetadata: {name: w}\nspec: {selector: "
                                                        "{matchLabels: {app: a, x: y}}, template: {metadata: {labels: {app: a, x: y}}, "
                                                        "spec: " POD_OK "}}\n", kind);
                ck_assert_uint_eq(run("update", "apps", "v1", res, "default", "w", resel, &st), 422);
                ck_assert_msg(strstr(message(st), k == 0 ? "spec: Forbidden: updates to statefulset spec for fields other than "
                                                           "'replicas', 'ordinals', 'template', 'updateStrategy', "
                                                           "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
                                                         : "spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"a\",\"x\":\"y\"}}:"
                                                           " field is immutable"), "%s", message(st));
                json_decref(st);
        }
        /* a StatefulSet's serviceName is set once */
        json_t *st = NULL;
        osb_autofree char *svc = workload("StatefulSet", "s", "db", "{app: a}", POD_OK);
        ck_assert_uint_eq(run("create", "apps", "v1", "statefulsets", "default", NULL, svc, NULL), 201);
        osb_autofree char *svc2 = workload("StatefulSet", "s", "db2", "{app: a}", POD_OK);
        ck_assert_uint_eq(run("update", "apps", "v1", "statefulsets", "default", "s", svc2, &st), 422);
        ck_assert_msg(strstr(message(st), "spec: Forbidden: updates to statefulset spec"), "%s", message(st));
        json_decref(st);
        osb_autofree char *pmp = workload("StatefulSet", "p", "x, podManagementPolicy: Random", "{app: a}", POD_OK);
        ck_assert_uint_eq(run("create", "apps", "v1", "statefulsets", "default", NULL, pmp, &st), 422);
        ck_assert_msg(strstr(message(st), "spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or "
                                          "'Parallel'"), "%s", message(st));
        json_decref(st);
}
END_TEST

/* admissionregistration.k8s.io/v1: stored with kube-apiserver's defaults, refused as it refuses
 * (pkg/apis/admissionregistration/validation); the server calls no webhook. */
START_TEST(webhook_configurations_are_defaulted_and_checked_as_kube_apiserver_does)
{
        static const char *const ok =
                "{apiVersion: admissionregistration.k8s.io/v1, kind: MutatingWebhookConfiguration, metadata: {name: hook},"
                " webhooks: [{name: m.example.com, sideEffects: None, admissionReviewVersions: [v1beta1],"
                " clientConfig: {service: {name: s, namespace: n, path: /m}},"
                " rules: [{operations: [CREATE], apiGroups: [x], apiVersions: [v1], resources: [ys]}]}]}";
        json_t *st = NULL;
        ck_assert_uint_eq(run("create", "admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", NULL, NULL,
                              ok, &st), 201);
        const json_t *w = json_array_get(json_object_get(st, "webhooks"), 0);
        ck_assert_str_eq(json_string_value(json_object_get(w, "failurePolicy")), "Fail");
        ck_assert_str_eq(json_string_value(json_object_get(w, "matchPolicy")), "Equivalent");
        ck_assert_str_eq(json_string_value(json_object_get(w, "reinvocationPolicy")), "Never");
        ck_assert_int_eq(json_integer_value(json_object_get(w, "timeoutSeconds")), 10);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(json_object_get(w, "clientConfig"), "service"),
                                                            "port")), 443);
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(w, "rules"), 0), "scope")), "*");
        ck_assert(json_is_object(json_object_get(w, "namespaceSelector")));
        json_decref(st);

        static const struct {
                const char *y, *want;
        } bad[] = {
                {"{webhooks: [{name: v.example.com, admissionReviewVersions: [v1], clientConfig: {url: 'https://h/v'}}]}",
                 "webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun"},
                {"{webhooks: [{name: v.example.com, sideEffects: Some, admissionReviewVersions: [v1], clientConfig: {url: 'https://h/v'}}]}",
                 "webhooks[0].sideEffects: Unsupported value: \"Some\": supported values: \"None\", \"NoneOnDryRun\""},
                {"{webhooks: [{name: example.com, sideEffects: None, admissionReviewVersions: [v1], clientConfig: {url: 'https://h/v'}}]}",
                 "webhooks[0].name: Invalid value: \"example.com\": should be a domain with at least three segments separated by dots"},
                {"{webhooks: [{name: v.example.com, sideEffects: None, admissionReviewVersions: [v1],"
                 " clientConfig: {url: 'https://h/v', service: {name: s, namespace: n}}}]}",
                 "webhooks[0].clientConfig: Required value: exactly one of url or service is required"},
                {"{webhooks: [{name: v.example.com, sideEffects: None, admissionReviewVersions: [v1], clientConfig: {url: 'http://h/v'}}]}",
                 "webhooks[0].clientConfig.url: Invalid value: \"http://h/v\": 'https' is the only allowed URL scheme"},
                {"{webhooks: [{name: v.example.com, sideEffects: None, admissionReviewVersions: [v2], clientConfig: {url: 'https://h/v'}}]}",
                 "webhooks[0].admissionReviewVersions: Invalid value: [\"v2\"]: must include at least one of v1, v1beta1"},
                {"{webhooks: [{name: v.example.com, sideEffects: None, admissionReviewVersions: [v1], timeoutSeconds: 31,"
                 " clientConfig: {url: 'https://h/v'}}]}",
                 "webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds"},
                {"{webhooks: [{name: v.example.com, sideEffects: None, admissionReviewVersions: [v1], clientConfig: {url: 'https://h/v'},"
                 " rules: [{operations: [PATCH], apiGroups: ['*'], apiVersions: ['*'], resources: ['*']}]}]}",
                 "webhooks[0].rules[0].operations[0]: Unsupported value: \"PATCH\": supported values: \"*\", \"CONNECT\", "
                 "\"CREATE\", \"DELETE\", \"UPDATE\""},
                {"{webhooks: [{name: v.example.com, sideEffects: None, admissionReviewVersions: [v1], clientConfig: {url: 'https://h/v'}},"
                 " {name: v.example.com, sideEffects: None, admissionReviewVersions: [v1], clientConfig: {url: 'https://h/w'}}]}",
                 "webhooks[1].name: Duplicate value: \"v.example.com\""},
        };
        for (size_t i = 0; i < OSB_ELEMENTSOF(bad); i++) {
                osb_autofree char *y = osb_asprintf("{apiVersion: admissionregistration.k8s.io/v1, kind: "
                                                    "ValidatingWebhookConfiguration, metadata: {name: h%zu}, %s", i, bad[i].y + 1);
                ck_assert_ptr_nonnull(y);
                ck_assert_uint_eq(run("create", "admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", NULL,
                                      NULL, y, &st), 422);
                ck_assert_msg(strstr(message(st), bad[i].want), "%zu: %s", i, message(st));
                json_decref(st);
        }
}
END_TEST

START_TEST(discovery_lists_statefulsets_and_daemonsets)
{
        json_t *doc = types_resource_list(a->types, "apps", "v1");
        ck_assert_ptr_nonnull(doc);
        osb_autofree char *s = json_dumps(json_object_get(doc, "resources"), JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(doc);
        ck_assert_ptr_nonnull(s);
        static const char *const want[] = {
                "{\"categories\":[\"all\"],\"kind\":\"StatefulSet\",\"name\":\"statefulsets\",\"namespaced\":true,"
                "\"shortNames\":[\"sts\"],\"singularName\":\"statefulset\",",
                "{\"kind\":\"StatefulSet\",\"name\":\"statefulsets/status\",\"namespaced\":true,\"singularName\":\"\","
                "\"verbs\":[\"get\",\"patch\",\"update\"]}",
                "{\"group\":\"autoscaling\",\"kind\":\"Scale\",\"name\":\"statefulsets/scale\",",
                "{\"categories\":[\"all\"],\"kind\":\"DaemonSet\",\"name\":\"daemonsets\",\"namespaced\":true,"
                "\"shortNames\":[\"ds\"],\"singularName\":\"daemonset\",",
                "{\"kind\":\"DaemonSet\",\"name\":\"daemonsets/status\",",
                "\"verbs\":[\"create\",\"delete\",\"deletecollection\",\"get\",\"list\",\"patch\",\"update\",\"watch\"]",
        };
        for (size_t i = 0; i < OSB_ELEMENTSOF(want); i++)
                ck_assert_msg(strstr(s, want[i]), "%s not in %s", want[i], s);
        ck_assert_msg(!strstr(s, "daemonsets/scale"), "%s", s);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("kts_validation");
        TCase *tc = tcase_create("validation");
        tcase_set_timeout(tc, 30);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, crd_in_a_protected_group_needs_the_approval_annotation);
        tcase_add_test(tc, crd_spec_rules_are_those_of_kube_apiserver);
        tcase_add_test(tc, crd_schemas_must_be_structural);
        tcase_add_test(tc, names_follow_each_kinds_rule);
        tcase_add_test(tc, events_live_in_their_objects_namespace_or_default);
        tcase_add_test(tc, watch_from_a_future_or_compacted_resource_version);
        tcase_add_test(tc, bookmarks_only_past_the_watchs_resource_version);
        tcase_add_test(tc, list_from_a_future_resource_version);
        tcase_add_test(tc, statefulsets_and_daemonsets_are_checked_as_kube_apiserver_checks_them);
        tcase_add_test(tc, discovery_lists_statefulsets_and_daemonsets);
        tcase_add_test(tc, webhook_configurations_are_defaulted_and_checked_as_kube_apiserver_does);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(suite)
