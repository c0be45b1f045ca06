/* test/apiserver/check_kts_store.c: object semantics through api.c and store.c (no HTTP):
 * resourceVersion, conflicts, generation, status subresource, finalizers, garbage collection,
 * namespace deletion, watch history and 410. */
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

static unsigned do_create(const char *group, const char *res, const char *ns, const char *y, json_t **ret)
{
        struct kt_type *t = types_find(a->types, group, *group ? (strcmp(group, "example.com") ? "v1" : "v1") : "v1", res);
        ck_assert_ptr_nonnull(t);
        struct api_target tg = {.type = t, .ns = ns};
        struct api_opts o = API_OPTS_INIT;
        struct api_result r = {0};
        json_t *body = yaml(y);
        unsigned c = api_create(a, &tg, body, &o, &r);
        json_decref(body);
        kt_type_unref(t);
        if (ret)
                *ret = r.body;
        else
                json_decref(r.body);
        return c;
}

static unsigned do_op(const char *op, const char *group, const char *res, const char *ns, const char *name,
                      const char *sub, const char *y, json_t **ret)
{
        struct kt_type *t = types_find(a->types, group, "v1", res);
        ck_assert_ptr_nonnull(t);
        struct api_target tg = {.type = t, .ns = ns, .name = name, .sub = sub};
        struct api_opts o = API_OPTS_INIT;
        struct api_result r = {0};
        json_t *body = y ? yaml(y) : NULL;
        unsigned c;
        if (!strcmp(op, "get"))
                c = api_get(a, &tg, &o, &r);
        else if (!strcmp(op, "update"))
                c = api_update(a, &tg, body, &o, &r);
        else if (!strcmp(op, "merge"))
                c = api_patch(a, &tg, "application/merge-patch+json", body, &o, &r);
        else if (!strcmp(op, "delete"))
                c = api_delete(a, &tg, body, &o, &r);
        else
                ck_abort_msg("bad op");
        json_decref(body);
        kt_type_unref(t);
        if (ret)
                *ret = r.body;
        else
                json_decref(r.body);
        return c;
}

static const char *meta(const json_t *o, const char *k)
{
        return json_string_value(json_object_get(json_object_get(o, "metadata"), k));
}

static json_int_t generation(const json_t *o)
{
        return json_integer_value(json_object_get(json_object_get(o, "metadata"), "generation"));
}

static const char crd[] =
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\n"
        "spec:\n  group: example.com\n  scope: Namespaced\n  names: {kind: Widget, plural: widgets}\n"
        "  versions:\n  - name: v1\n    served: true\n    storage: true\n    subresources: {status: {}}\n"
        "    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n"
        "          spec: {type: object, properties: {size: {type: integer, default: 1}}}\n"
        "          status: {type: object, x-kubernetes-preserve-unknown-fields: true}\n";

static void add_crd(void)
{
        json_t *c = NULL;
        ck_assert_int_eq(do_create("apiextensions.k8s.io", "customresourcedefinitions", NULL, crd, &c), 201);
        json_t *conds = json_object_get(json_object_get(c, "status"), "conditions");
        ck_assert_uint_eq(json_array_size(conds), 2);
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(conds, 1), "type")), "Established");
        json_decref(c);
}

START_TEST(resource_versions_increase_and_stale_updates_conflict)
{
        json_t *o1 = NULL, *o2 = NULL, *err = NULL;
        ck_assert_uint_eq(do_create("", "configmaps", "default", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n", &o1), 201);
        ck_assert_uint_eq(do_op("update", "", "configmaps", "default", "a", NULL,
                                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n", &o2), 200);
        ck_assert(strtoull(meta(o2, "resourceVersion"), NULL, 10) > strtoull(meta(o1, "resourceVersion"), NULL, 10));
        ck_assert_str_eq(meta(o1, "uid"), meta(o2, "uid"));
        char stale[200];
        (void) snprintf(stale, sizeof(stale), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, resourceVersion: \"%s\"}\n",
                        meta(o1, "resourceVersion"));
        ck_assert_uint_eq(do_op("update", "", "configmaps", "default", "a", NULL, stale, &err), 409);
        ck_assert_str_eq(json_string_value(json_object_get(err, "reason")), "Conflict");
        ck_assert_str_eq(json_string_value(json_object_get(err, "message")),
                         "Operation cannot be fulfilled on configmaps \"a\": the object has been modified; please apply "
                         "your changes to the latest version and try again");
        json_decref(err);
        ck_assert_uint_eq(do_create("", "configmaps", "default", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n", &err), 409);
        ck_assert_str_eq(json_string_value(json_object_get(err, "reason")), "AlreadyExists");
        json_decref(err);
        /* an update that changes nothing does not bump the version */
        json_t *o3 = NULL;
        ck_assert_uint_eq(do_op("update", "", "configmaps", "default", "a", NULL,
                                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n", &o3), 200);
        ck_assert_str_eq(meta(o2, "resourceVersion"), meta(o3, "resourceVersion"));
        json_decref(o1);
        json_decref(o2);
        json_decref(o3);
        ck_assert_uint_eq(do_create("", "configmaps", "nope", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n", &err), 404);
        ck_assert_str_eq(json_string_value(json_object_get(err, "message")), "namespaces \"nope\" not found");
        json_decref(err);
}
END_TEST

START_TEST(generation_bumps_on_spec_only_and_status_goes_through_the_subresource)
{
        add_crd();
        json_t *o = NULL;
        ck_assert_uint_eq(do_create("example.com", "widgets", "default",
                                    "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {}\nstatus: {x: 1}\n", &o), 201);
        ck_assert_int_eq(generation(o), 1);
        ck_assert_ptr_null(json_object_get(o, "status"));  /* create ignores status */
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(o, "spec"), "size")), 1);  /* defaulted */
        json_decref(o);
        ck_assert_uint_eq(do_op("merge", "example.com", "widgets", "default", "w", NULL, "{metadata: {labels: {a: b}}}", &o), 200);
        ck_assert_int_eq(generation(o), 1);
        json_decref(o);
        ck_assert_uint_eq(do_op("merge", "example.com", "widgets", "default", "w", NULL, "{status: {x: 2}}", &o), 200);
        ck_assert_ptr_null(json_object_get(o, "status"));  /* the main resource ignores status */
        ck_assert_int_eq(generation(o), 1);
        json_decref(o);
        ck_assert_uint_eq(do_op("merge", "example.com", "widgets", "default", "w", "status", "{status: {x: 3}, spec: {size: 9}}", &o), 200);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(o, "status"), "x")), 3);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(o, "spec"), "size")), 1);
        ck_assert_int_eq(generation(o), 1);
        json_decref(o);
        ck_assert_uint_eq(do_op("merge", "example.com", "widgets", "default", "w", NULL, "{spec: {size: 5}}", &o), 200);
        ck_assert_int_eq(generation(o), 2);
        json_decref(o);
}
END_TEST

START_TEST(finalizers_hold_deletion_until_the_last_one_is_removed)
{
        json_t *o = NULL;
        ck_assert_uint_eq(do_create("", "secrets", "default",
                                    "apiVersion: v1\nkind: Secret\nmetadata: {name: s, finalizers: [a.io/x, a.io/y]}\n", NULL), 201);
        ck_assert_uint_eq(do_op("delete", "", "secrets", "default", "s", NULL, NULL, &o), 200);
        ck_assert_ptr_nonnull(meta(o, "deletionTimestamp"));
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(o, "metadata"), "deletionGracePeriodSeconds")), 0);
        json_decref(o);
        ck_assert_uint_eq(do_op("merge", "", "secrets", "default", "s", NULL, "{metadata: {finalizers: [a.io/y, a.io/z]}}", &o), 422);
        json_decref(o);
        ck_assert_uint_eq(do_op("merge", "", "secrets", "default", "s", NULL, "{metadata: {finalizers: [a.io/y]}}", NULL), 200);
        ck_assert_uint_eq(do_op("get", "", "secrets", "default", "s", NULL, NULL, NULL), 200);
        ck_assert_uint_eq(do_op("merge", "", "secrets", "default", "s", NULL, "{metadata: {finalizers: null}}", NULL), 200);
        ck_assert_uint_eq(do_op("get", "", "secrets", "default", "s", NULL, NULL, &o), 404);
        ck_assert_str_eq(json_string_value(json_object_get(o, "message")), "secrets \"s\" not found");
        json_decref(o);
}
END_TEST

static void owned_secret(const char *name, const json_t *owner)
{
        char y[600];
        (void) snprintf(y, sizeof(y), "apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  ownerReferences:\n"
                        "  - {apiVersion: v1, kind: ConfigMap, name: %s, uid: %s}\n", name, meta(owner, "name"), meta(owner, "uid"));
        ck_assert_uint_eq(do_create("", "secrets", "default", y, NULL), 201);
}

START_TEST(garbage_collection_follows_the_propagation_policy)
{
        json_t *owner = NULL;
        ck_assert_uint_eq(do_create("", "configmaps", "default", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: o}\n", &owner), 201);
        owned_secret("bg", owner);
        ck_assert_uint_eq(do_op("delete", "", "configmaps", "default", "o", NULL, NULL, NULL), 200);
        ck_assert_int_gt(api_controllers_pass(a), 0);
        ck_assert_uint_eq(do_op("get", "", "secrets", "default", "bg", NULL, NULL, NULL), 404);
        json_decref(owner);

        ck_assert_uint_eq(do_create("", "configmaps", "default", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: o2}\n", &owner), 201);
        owned_secret("orphan", owner);
        ck_assert_uint_eq(do_op("delete", "", "configmaps", "default", "o2", NULL, "{propagationPolicy: Orphan}", NULL), 200);
        while (api_controllers_pass(a) > 0)
                ;
        json_t *s = NULL;
        ck_assert_uint_eq(do_op("get", "", "secrets", "default", "orphan", NULL, NULL, &s), 200);
        ck_assert_ptr_null(json_object_get(json_object_get(s, "metadata"), "ownerReferences"));
        json_decref(s);
        ck_assert_uint_eq(do_op("get", "", "configmaps", "default", "o2", NULL, NULL, NULL), 404);
        json_decref(owner);

        ck_assert_uint_eq(do_create("", "configmaps", "default", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: o3}\n", &owner), 201);
        owned_secret("fg", owner);
        ck_assert_uint_eq(do_op("delete", "", "configmaps", "default", "o3", NULL, "{propagationPolicy: Foreground}", NULL), 200);
        ck_assert_uint_eq(do_op("get", "", "configmaps", "default", "o3", NULL, NULL, NULL), 200);  /* waits for dependents */
        while (api_controllers_pass(a) > 0)
                ;
        ck_assert_uint_eq(do_op("get", "", "secrets", "default", "fg", NULL, NULL, NULL), 404);
        ck_assert_uint_eq(do_op("get", "", "configmaps", "default", "o3", NULL, NULL, NULL), 404);
        json_decref(owner);
}
END_TEST

START_TEST(namespace_deletion_empties_it_then_removes_it)
{
        ck_assert_uint_eq(do_create("", "namespaces", NULL, "apiVersion: v1\nkind: Namespace\nmetadata: {name: t}\n", NULL), 201);
        ck_assert_uint_eq(do_create("", "configmaps", "t", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, finalizers: [a.io/f]}\n", NULL), 201);
        json_t *ns = NULL;
        ck_assert_uint_eq(do_op("delete", "", "namespaces", NULL, "t", NULL, NULL, &ns), 200);
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(ns, "status"), "phase")), "Terminating");
        json_decref(ns);
        while (api_controllers_pass(a) > 0)
                ;
        ck_assert_uint_eq(do_op("get", "", "namespaces", NULL, "t", NULL, NULL, NULL), 200);
        ck_assert_uint_eq(do_op("get", "", "serviceaccounts", "t", "default", NULL, NULL, NULL), 404);
        json_t *err = NULL;
        ck_assert_uint_eq(do_create("", "secrets", "t", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n", &err), 403);
        json_decref(err);
        ck_assert_uint_eq(do_op("merge", "", "configmaps", "t", "c", NULL, "{metadata: {finalizers: null}}", NULL), 200);
        while (api_controllers_pass(a) > 0)
                ;
        ck_assert_uint_eq(do_op("get", "", "namespaces", NULL, "t", NULL, NULL, NULL), 404);
        ck_assert_uint_eq(do_op("delete", "", "namespaces", NULL, "default", NULL, NULL, NULL), 403);
}
END_TEST

static char *next_line(struct api_watch *w)
{
        bool done = false;
        size_t len;
        return api_watch_next(w, &len, &done, 0, NULL);
}

START_TEST(watch_replays_history_and_expires_old_versions)
{
        struct kt_type *t = types_find(a->types, "", "v1", "configmaps");
        struct api_target tg = {.type = t, .ns = "default"};
        struct api_opts o = API_OPTS_INIT;
        json_t *c1 = NULL;
        ck_assert_uint_eq(do_create("", "configmaps", "default", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: w1, labels: {a: b}}\n", &c1), 201);
        o.resource_version = meta(c1, "resourceVersion");
        o.label_selector = "a=b";
        struct api_watch *w = NULL;
        struct api_result r = {0};
        ck_assert_uint_eq(api_watch_open(a, &tg, &o, NULL, NULL, &w, &r), 0);
        ck_assert_uint_eq(do_op("merge", "", "configmaps", "default", "w1", NULL, "{data: {k: v}}", NULL), 200);
        ck_assert_uint_eq(do_op("merge", "", "configmaps", "default", "w1", NULL, "{metadata: {labels: {a: c}}}", NULL), 200);
        char *l = next_line(w);
        ck_assert_ptr_nonnull(l);
        ck_assert_msg(!strncmp(l, "{\"type\":\"MODIFIED\"", 18), "%s", l);
        osb_free(l);
        l = next_line(w);
        ck_assert_msg(l && !strncmp(l, "{\"type\":\"DELETED\"", 17), "%s", l ? l : "");  /* left the selection */
        osb_free(l);
        ck_assert_ptr_null(next_line(w));
        api_watch_close(w);

        /* 8 events of history: older versions are gone */
        for (int i = 0; i < 10; i++) {
                char y[100];
                (void) snprintf(y, sizeof(y), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: n%d}\n", i);
                ck_assert_uint_eq(do_create("", "configmaps", "default", y, NULL), 201);
        }
        o.label_selector = NULL;
        ck_assert_uint_eq(api_watch_open(a, &tg, &o, NULL, NULL, &w, &r), 0);
        l = next_line(w);
        ck_assert_msg(l && strstr(l, "\"type\":\"ERROR\"") && strstr(l, "\"code\":410") && strstr(l, "\"reason\":\"Expired\""), "%s", l ? l : "");
        osb_free(l);
        bool done = false;
        size_t len;
        ck_assert_ptr_null(api_watch_next(w, &len, &done, 0, NULL));
        ck_assert(done);
        api_watch_close(w);

        /* a watch that falls behind the history is ended, writers never wait */
        o.resource_version = NULL;
        ck_assert_uint_eq(api_watch_open(a, &tg, &o, NULL, NULL, &w, &r), 0);
        while ((l = next_line(w)))  /* the synthetic ADDED events */
                osb_free(l);
        for (int i = 0; i < 20; i++) {
                char y[100];
                (void) snprintf(y, sizeof(y), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m%d}\n", i);
                ck_assert_uint_eq(do_create("", "configmaps", "default", y, NULL), 201);
        }
        ck_assert_ptr_null(api_watch_next(w, &len, &done, 0, NULL));
        ck_assert(done);
        api_watch_close(w);
        json_decref(c1);
        kt_type_unref(t);
}
END_TEST

START_TEST(deleting_a_crd_deletes_its_objects_and_unserves_it)
{
        add_crd();
        ck_assert_uint_eq(do_create("example.com", "widgets", "default",
                                    "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n", NULL), 201);
        ck_assert_uint_eq(do_op("delete", "apiextensions.k8s.io", "customresourcedefinitions", NULL, "widgets.example.com",
                                NULL, NULL, NULL), 200);
        while (api_controllers_pass(a) > 0)
                ;
        ck_assert_ptr_null(types_find(a->types, "example.com", "v1", "widgets"));
        ck_assert_uint_eq(do_op("get", "apiextensions.k8s.io", "customresourcedefinitions", NULL, "widgets.example.com",
                                NULL, NULL, NULL), 404);
        /* recreating it starts empty */
        add_crd();
        struct kt_type *t = types_find(a->types, "example.com", "v1", "widgets");
        struct api_target tg = {.type = t, .ns = "default"};
        struct api_opts o = API_OPTS_INIT;
        struct api_result r = {0};
        ck_assert_uint_eq(api_list(a, &tg, &o, &r), 200);
        ck_assert_uint_eq(json_array_size(json_object_get(r.body, "items")), 0);
        api_result_release(&r);
        kt_type_unref(t);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("kts_store");
        TCase *tc = tcase_create("store");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, resource_versions_increase_and_stale_updates_conflict);
        tcase_add_test(tc, generation_bumps_on_spec_only_and_status_goes_through_the_subresource);
        tcase_add_test(tc, finalizers_hold_deletion_until_the_last_one_is_removed);
        tcase_add_test(tc, garbage_collection_follows_the_propagation_policy);
        tcase_add_test(tc, namespace_deletion_empties_it_then_removes_it);
        tcase_add_test(tc, watch_replays_history_and_expires_old_versions);
        tcase_add_test(tc, deleting_a_crd_deletes_its_objects_and_unserves_it);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(suite)
