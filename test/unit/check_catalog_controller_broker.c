/* test/unit/check_catalog_controller_broker.c: the broker reconciler's pure parts: catalog →
 * class/plan conversion (names, labels, spec fields, owner reference), validation errors naming
 * the JSON path, catalog restrictions, the broker-owned digest, status diffing ("no write when
 * nothing changed"), relist timing, Go durations, and the informer cache's list/watch logic. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_mem.h"
#include "common/osb_parse.h"
#include "common/osb_time.h"
#include "kube/watch.h"
#include "catalog-controller/condition.h"
#include "catalog-controller/informer.h"
#include "catalog-controller/names.h"
#include "catalog-controller/offering.h"
#include "catalog-controller/reconcile_broker.h"
#include "test/lib/check_main.h"

static const char *catalog_text =
        "{\"services\":[{\"id\":\"svc-1\",\"name\":\"db\",\"description\":\"A database\",\"bindable\":true,"
        "\"tags\":[\"sql\"],\"metadata\":{\"displayName\":\"DB\"},\"plan_updateable\":true,"
        "\"plans\":[{\"id\":\"Plan_Small\",\"name\":\"small\",\"description\":\"s\",\"free\":true,"
        "\"maximum_polling_duration\":600,\"maintenance_info\":{\"version\":\"1.0.0\"},"
        "\"schemas\":{\"service_instance\":{\"create\":{\"parameters\":{\"type\":\"object\"}}}}},"
        "{\"id\":\"plan-large\",\"name\":\"large\",\"description\":\"l\",\"free\":false,\"bindable\":false}]},"
        "{\"id\":\"svc-2\",\"name\":\"queue\",\"description\":\"A queue\",\"bindable\":false,"
        "\"plans\":[{\"id\":\"q-std\",\"name\":\"standard\",\"description\":\"std\"}]}]}";

static json_t *load(const char *text)
{
        json_t *j = json_loads(text, 0, NULL);
        ck_assert_ptr_nonnull(j);
        return j;
}

static struct offering_catalog_owner owner = {.fl = &offering_flavour_cluster, .name = "my-broker", .uid = "uid-1"};

START_TEST(catalog_converts_to_classes_and_plans_with_reference_names_and_labels)
{
        json_t *cat = load(catalog_text);
        struct offering_desired_set ds;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(offering_convert(cat, &owner, NULL, NULL, &ds, &err), 0);
        ck_assert_uint_eq(ds.nclasses, 2);
        ck_assert_uint_eq(ds.nplans, 3);
        const json_t *cls = ds.classes[0].obj;
        ck_assert_str_eq(ds.classes[0].name, "svc-1");
        ck_assert_str_eq(json_string_value(json_object_get(cls, "kind")), "ClusterServiceClass");
        const json_t *spec = json_object_get(cls, "spec");
        ck_assert_str_eq(json_string_value(json_object_get(spec, "externalName")), "db");
        ck_assert_str_eq(json_string_value(json_object_get(spec, "clusterServiceBrokerName")), "my-broker");
        ck_assert(json_is_true(json_object_get(spec, "planUpdatable")));
        ck_assert(json_is_true(json_object_get(spec, "bindable")));
        ck_assert_str_eq(json_string_value(json_array_get(json_object_get(spec, "tags"), 0)), "sql");
        char v[NAMES_LABEL_VALUE_LEN + 1];
        const json_t *labels = json_object_get(json_object_get(cls, "metadata"), "labels");
        ck_assert_str_eq(json_string_value(json_object_get(labels, NAMES_LABEL_EXTERNAL_NAME)), names_label_value("db", v));
        ck_assert_str_eq(json_string_value(json_object_get(labels, NAMES_LABEL_CLUSTER_BROKER)),
                         "aa9617cd3975446998c91bf393c5c58b3425953b7bdb3f9f1ae8230b");
        const json_t *ref = json_array_get(json_object_get(json_object_get(cls, "metadata"), "ownerReferences"), 0);
        ck_assert_str_eq(json_string_value(json_object_get(ref, "kind")), "ClusterServiceBroker");
        ck_assert_str_eq(json_string_value(json_object_get(ref, "uid")), "uid-1");
        ck_assert(json_is_true(json_object_get(ref, "controller")));
        ck_assert(json_is_false(json_object_get(ref, "blockOwnerDeletion")));

        /* "Plan_Small" is escaped as the reference does */
        const json_t *plan = ds.plans[0].obj;
        ck_assert_str_eq(ds.plans[0].name, "z50zlanz5fzz53zmall");
        const json_t *pspec = json_object_get(plan, "spec");
        ck_assert(json_is_true(json_object_get(pspec, "free")));
        ck_assert_int_eq(json_integer_value(json_object_get(pspec, "maximumPollingDuration")), 600);
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(pspec, "maintenanceInfo"), "version")), "1.0.0");
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(pspec, "instanceCreateParameterSchema"), "type")), "object");
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(pspec, "clusterServiceClassRef"), "name")), "svc-1");
        ck_assert_ptr_null(json_object_get(pspec, "bindable"));   /* only when the catalog says */
        ck_assert(json_is_false(json_object_get(json_object_get(ds.plans[1].obj, "spec"), "bindable")));
        const json_t *plabels = json_object_get(json_object_get(plan, "metadata"), "labels");
        ck_assert_str_eq(json_string_value(json_object_get(plabels, NAMES_LABEL_CLUSTER_CLASS_REF)), names_label_value("svc-1", v));
        offering_desired_set_release(&ds);
        json_decref(cat);
}
END_TEST

START_TEST(namespaced_flavour_has_no_owner_reference_and_its_own_fields)
{
        json_t *cat = load(catalog_text);
        struct offering_catalog_owner ow = {.fl = &offering_flavour_namespaced, .name = "nb", .ns = "team-a", .uid = "u"};
        struct offering_desired_set ds;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(offering_convert(cat, &ow, NULL, NULL, &ds, &err), 0);
        const json_t *md = json_object_get(ds.plans[0].obj, "metadata");
        ck_assert_ptr_null(json_object_get(md, "ownerReferences"));
        ck_assert_str_eq(json_string_value(json_object_get(md, "namespace")), "team-a");
        ck_assert_str_eq(json_string_value(json_object_get(ds.plans[0].obj, "kind")), "ServicePlan");
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(ds.plans[0].obj, "spec"), "serviceBrokerName")), "nb");
        ck_assert_ptr_nonnull(json_object_get(json_object_get(ds.plans[0].obj, "spec"), "serviceClassRef"));
        offering_desired_set_release(&ds);
        json_decref(cat);
}
END_TEST

static const struct {
        const char *catalog, *error;
} invalid[] = {
        {"{}", "services: missing or not an array"},
        {"{\"services\":[{\"name\":\"a\",\"description\":\"d\",\"bindable\":true,\"plans\":[]}]}", "services[0].id"},
        {"{\"services\":[{\"id\":\"a\",\"name\":\"a\",\"description\":\"d\",\"bindable\":true,\"plans\":[]}]}",
         "services[0]: must have at least one plan"},
        {"{\"services\":[{\"id\":\"a\",\"name\":\"a\",\"description\":\"d\",\"bindable\":true,\"plans\":[{\"id\":\"p\",\"name\":\"p\"}]}]}",
         "services[0].plans[0].description"},
        {"{\"services\":[{\"id\":\"a\",\"name\":\"a\",\"description\":\"d\",\"bindable\":true,\"plans\":[{\"id\":\"p\",\"name\":\"p\",\"description\":\"x\"},"
         "{\"id\":\"p\",\"name\":\"q\",\"description\":\"x\"}]}]}", "services[0].plans[1].id: the same id as services[0].plans[0].id (ids must be unique)"},
        {"{\"services\":[{\"id\":\"a\",\"name\":\"a\",\"description\":\"d\",\"bindable\":true,\"plans\":[{\"id\":\"p\",\"name\":\"p\",\"description\":\"x\"}]},"
         "{\"id\":\"a\",\"name\":\"b\",\"description\":\"d\",\"bindable\":true,\"plans\":[{\"id\":\"p2\",\"name\":\"p\",\"description\":\"x\"}]}]}",
         "services[1].id: the same id as services[0].id (ids must be unique)"},
        {"{\"services\":[{\"id\":\"a\",\"name\":\"a\",\"description\":\"d\",\"bindable\":true,\"plans\":[{\"id\":\"p\",\"name\":\"p\",\"description\":\"x\"}]},"
         "{\"id\":\"b\",\"name\":\"b\",\"description\":\"d\",\"bindable\":true,\"plans\":[{\"id\":\"p\",\"name\":\"p\",\"description\":\"x\"}]}]}",
         "services[1].plans[0].id: the same id as services[0].plans[0].id (ids must be unique)"},
};

START_TEST(invalid_catalog_errors_name_the_json_path)
{
        json_t *cat = load(invalid[_i].catalog);
        struct offering_desired_set ds = {0};
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(offering_convert(cat, &owner, NULL, NULL, &ds, &err), OSB_E_BAD_REQUEST);
        ck_assert_msg(strstr(err.text, invalid[_i].error), "'%s' lacks '%s'", err.text, invalid[_i].error);
        json_decref(cat);
}
END_TEST

/* One service of @n plans. */
static json_t *catalog_of_plans(size_t n)
{
        json_t *plans = json_array();
        for (size_t i = 0; i < n; i++) {
                char id[32];
                (void) snprintf(id, sizeof(id), "plan-%zu", i);
                ck_assert_int_eq(json_array_append_new(plans, json_pack("{s:s,s:s,s:s}", "id", id, "name", id,
                                                                        "description", "d")), 0);
        }
        return json_pack("{s:[{s:s,s:s,s:s,s:b,s:o}]}", "services", "id", "svc", "name", "svc", "description", "d",
                         "bindable", 1, "plans", plans);
}

/* A catalog of more plans than the API server should hold objects for is refused as a whole
 * (each plan is an object; a hostile broker's 150,000 took gigabytes); up to the limit, every
 * plan converts. */
START_TEST(a_catalog_over_the_plan_limit_is_refused_and_one_at_it_converts)
{
        json_t *cat = catalog_of_plans(OFFERING_MAX_PLANS + 1);
        struct offering_desired_set ds = {0};
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(offering_convert(cat, &owner, NULL, NULL, &ds, &err), OSB_E_BAD_REQUEST);
        ck_assert_str_eq(err.text, "services: 1 services with 10001 plans, more than the 10000 plans a catalog may have");
        ck_assert_uint_eq(ds.nplans, 0);
        json_decref(cat);
        cat = catalog_of_plans(OFFERING_MAX_PLANS);
        ck_assert_int_eq(offering_convert(cat, &owner, NULL, NULL, &ds, &err), 0);
        ck_assert_uint_eq(ds.nplans, OFFERING_MAX_PLANS);
        ck_assert_uint_eq(ds.nclasses, 1);
        offering_desired_set_release(&ds);
        json_decref(cat);
}
END_TEST

static const char *const class_props[] = {"name", "spec.externalName", "spec.externalID", NULL};
static const char *const plan_props[] = {"name", "spec.externalName", "spec.externalID", "spec.free",
                                         "spec.clusterServiceClass.name", NULL};

static size_t convert_with(const char *cls_expr, const char *plan_expr, size_t *nplans)
{
        json_t *cat = load(catalog_text);
        struct offering_restrictions crs = {0}, prs = {0};
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(offering_restrictions_parse(&cls_expr, cls_expr ? 1 : 0, class_props, &crs, &err), 0);
        ck_assert_int_eq(offering_restrictions_parse(&plan_expr, plan_expr ? 1 : 0, plan_props, &prs, &err), 0);
        struct offering_desired_set ds;
        ck_assert_int_eq(offering_convert(cat, &owner, &crs, &prs, &ds, &err), 0);
        size_t n = ds.nclasses;
        *nplans = ds.nplans;
        offering_desired_set_release(&ds);
        offering_restrictions_release(&crs);
        offering_restrictions_release(&prs);
        json_decref(cat);
        return n;
}

START_TEST(restrictions_filter_classes_and_plans)
{
        size_t np;
        ck_assert_uint_eq(convert_with("spec.externalName in (db, other)", NULL, &np), 1);
        ck_assert_uint_eq(np, 2);
        ck_assert_uint_eq(convert_with("spec.externalName notin (db)", NULL, &np), 1);
        ck_assert_uint_eq(np, 1);
        ck_assert_uint_eq(convert_with("spec.externalName=queue", NULL, &np), 1);
        ck_assert_uint_eq(convert_with("spec.externalName!=queue,spec.externalID==svc-1", NULL, &np), 1);
        ck_assert_uint_eq(convert_with(NULL, "spec.free=true", &np), 1);   /* queue has no free plan: dropped */
        ck_assert_uint_eq(np, 1);
        ck_assert_uint_eq(convert_with(NULL, "spec.externalName notin (large)", &np), 2);
        ck_assert_uint_eq(np, 2);
        ck_assert_uint_eq(convert_with(NULL, "spec.clusterServiceClass.name=svc-2", &np), 1);
        ck_assert_uint_eq(np, 1);
}
END_TEST

START_TEST(bad_restrictions_are_refused)
{
        const char *bad[] = {"spec.color=red", "spec.externalName in (a", "spec.externalName ~ a", "=a"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(bad); i++) {
                struct offering_restrictions rs = {0};
                struct osb_error err = OSB_ERROR_INIT;
                ck_assert_int_eq(offering_restrictions_parse(&bad[i], 1, class_props, &rs, &err), OSB_E_BAD_REQUEST);
                ck_assert_ptr_nonnull(strstr(err.text, "catalog restriction"));
        }
}
END_TEST

START_TEST(digest_ignores_user_fields_and_server_number_format)
{
        json_t *cat = load(catalog_text);
        struct offering_desired_set ds;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(offering_convert(cat, &owner, NULL, NULL, &ds, &err), 0);
        /* what the API server would hand back: extra metadata, an admin's defaults, 600.0 */
        json_t *live = json_deep_copy(ds.plans[0].obj);
        json_t *md = json_object_get(live, "metadata");
        json_object_set_new(md, "resourceVersion", json_string("42"));
        json_object_set_new(md, "uid", json_string("x"));
        json_object_set_new(json_object_get(md, "labels"), "team", json_string("a"));
        json_object_set_new(json_object_get(live, "spec"), "defaultProvisionParameters", json_pack("{s:i}", "size", 3));
        json_object_set_new(json_object_get(live, "spec"), "maximumPollingDuration", json_real(600.0));
        json_object_set_new(live, "status", json_pack("{s:b}", "removedFromBrokerCatalog", 0));
        char d[OFFERING_DIGEST_LEN + 1];
        ck_assert_int_eq(offering_digest(live, true, d), 0);
        ck_assert_str_eq(d, ds.plans[0].digest);
        /* a broker-owned field that differs changes it; the overlay puts it back, keeping the admin's */
        json_object_set_new(json_object_get(live, "spec"), "description", json_string("edited"));
        ck_assert_int_eq(offering_digest(live, true, d), 0);
        ck_assert_str_ne(d, ds.plans[0].digest);
        ck_assert_int_eq(offering_overlay(live, ds.plans[0].obj, true), 0);
        ck_assert_int_eq(offering_digest(live, true, d), 0);
        ck_assert_str_eq(d, ds.plans[0].digest);
        ck_assert_ptr_nonnull(json_object_get(json_object_get(live, "spec"), "defaultProvisionParameters"));
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(md, "labels"), "team")), "a");
        ck_assert_uint_eq(json_array_size(json_object_get(md, "ownerReferences")), 1);
        json_decref(live);
        offering_desired_set_release(&ds);
        json_decref(cat);
}
END_TEST

static const char *legacy_name(void *userdata, bool is_plan, const char *external_id)
{
        return is_plan && strcmp(external_id, "Plan_Small") == 0 ? "Plan_Small" : NULL;
}

START_TEST(existing_names_are_kept_for_the_same_external_id)
{
        json_t *cat = load(catalog_text);
        struct offering_desired_set ds;
        struct osb_error err = OSB_ERROR_INIT;
        struct offering_catalog_owner ow = owner;
        ow.existing_name = legacy_name;
        ck_assert_int_eq(offering_convert(cat, &ow, NULL, NULL, &ds, &err), 0);
        ck_assert_str_eq(ds.plans[0].name, "Plan_Small");
        ck_assert_str_eq(ds.plans[1].name, "plan-large");
        offering_desired_set_release(&ds);
        json_decref(cat);
}
END_TEST

/* ---- status ---- */

/* The broker's status is a JSON object edited with condition.c; the reconciler writes it only
 * when it is not json_equal() to the cached (and then the live) status. */
static json_t *ready_status(void)
{
        json_t *s = json_object();
        ck_assert_ptr_nonnull(s);
        ck_assert_int_eq(condition_set(s, "Ready", "True", "FetchedCatalog", "ok", "2024-01-01T00:00:00Z"), 0);
        ck_assert_int_eq(json_object_set_new(s, "reconciledGeneration", json_integer(3)), 0);
        return s;
}

static const char *ready_ltt(const json_t *status)
{
        return json_string_value(json_object_get(condition_get(status, "Ready"), "lastTransitionTime"));
}

static const char *state_of(const json_t *status)
{
        return json_string_value(json_object_get(status, "lastConditionState"));
}

START_TEST(status_unchanged_means_no_write_even_with_a_later_clock)
{
        json_auto_t *cur = ready_status();
        json_auto_t *want = json_deep_copy(cur);
        /* the same outcome again, an hour later: lastTransitionTime must not move */
        ck_assert_int_eq(condition_set(want, "Ready", "True", "FetchedCatalog", "ok", "2024-01-01T01:00:00Z"), 0);
        ck_assert(json_equal(cur, want));
        ck_assert_str_eq(ready_ltt(want), "2024-01-01T00:00:00Z");
        /* a round trip through JSON (what the server stores) compares equal too */
        char *text = json_dumps(want, JSON_COMPACT);
        ck_assert_ptr_nonnull(text);
        json_auto_t *back = json_loads(text, 0, NULL);
        free(text);
        ck_assert(json_equal(cur, back));
}
END_TEST

START_TEST(status_flip_moves_transition_time_and_condition_state)
{
        json_auto_t *cur = ready_status();
        json_auto_t *want = json_deep_copy(cur);
        ck_assert_int_eq(condition_set(want, "Ready", "False", "ErrorFetchingCatalog", "401", "2024-01-02T00:00:00Z"), 0);
        ck_assert(!json_equal(cur, want));
        ck_assert_str_eq(ready_ltt(want), "2024-01-02T00:00:00Z");
        ck_assert_str_eq(state_of(want), "ErrorFetchingCatalog");
        /* a different message alone is a change (the user sees why) */
        json_auto_t *again = json_deep_copy(want);
        ck_assert_int_eq(condition_set(again, "Ready", "False", "ErrorFetchingCatalog", "refused", "2024-01-03T00:00:00Z"), 0);
        ck_assert(!json_equal(want, again));
        ck_assert_str_eq(ready_ltt(again), "2024-01-02T00:00:00Z");
        ck_assert_int_eq(condition_set(again, "Failed", "True", "ErrorReconciliationRetryTimeout", "x", "2024-01-03T00:00:00Z"), 0);
        ck_assert_str_eq(state_of(again), "Failed");
        condition_remove(again, "Failed");
        ck_assert_str_eq(state_of(again), "ErrorFetchingCatalog");
}
END_TEST

static struct broker *broker_from(const char *text)
{
        json_t *j = load(text);
        struct informer_kmeta *m = NULL;
        ck_assert_int_eq(broker_extract(j, &m), 0);
        json_decref(j);
        return (struct broker *) m;
}

START_TEST(relist_timing_follows_the_reference)
{
        time_t t0;
        ck_assert_int_eq(osb_time_parse_rfc3339("2024-01-01T00:00:00Z", &t0), 0);
        int64_t wait;
        struct broker *b = broker_from(
                "{\"metadata\":{\"name\":\"b\",\"generation\":2},\"spec\":{\"url\":\"http://x\",\"relistDuration\":\"10m\"},"
                "\"status\":{\"reconciledGeneration\":2,\"lastCatalogRetrievalTime\":\"2024-01-01T00:00:00Z\","
                "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"FetchedCatalog\"}]}}");
        ck_assert(!broker_needs_relist(b, 900000, t0 + 60, &wait));
        ck_assert_int_eq(wait, 540000);
        ck_assert(broker_needs_relist(b, 900000, t0 + 600, &wait));
        broker_free(&b->meta);
        /* Manual: never on a timer */
        b = broker_from("{\"metadata\":{\"name\":\"b\",\"generation\":2},\"spec\":{\"url\":\"http://x\",\"relistBehavior\":\"Manual\"},"
                        "\"status\":{\"reconciledGeneration\":2,\"lastCatalogRetrievalTime\":\"2024-01-01T00:00:00Z\","
                        "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"FetchedCatalog\"}]}}");
        ck_assert(!broker_needs_relist(b, 900000, t0 + 86400 * 30, &wait));
        ck_assert_int_eq(wait, -1);
        broker_free(&b->meta);
        /* a relistRequests bump changes the generation */
        b = broker_from("{\"metadata\":{\"name\":\"b\",\"generation\":3},\"spec\":{\"url\":\"http://x\",\"relistBehavior\":\"Manual\","
                        "\"relistRequests\":1},\"status\":{\"reconciledGeneration\":2,\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}");
        ck_assert(broker_needs_relist(b, 900000, t0, &wait));
        broker_free(&b->meta);
        /* not Ready: fetch */
        b = broker_from("{\"metadata\":{\"name\":\"b\",\"generation\":2},\"spec\":{\"url\":\"http://x\"},"
                        "\"status\":{\"reconciledGeneration\":2,\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}}");
        ck_assert(broker_needs_relist(b, 900000, t0, &wait));
        broker_free(&b->meta);
}
END_TEST

START_TEST(broker_relevance_ignores_status_writes)
{
        struct broker *a = broker_from("{\"metadata\":{\"name\":\"b\",\"generation\":2,\"resourceVersion\":\"1\","
                                       "\"finalizers\":[\"kubernetes-incubator/service-catalog\"]},\"spec\":{\"url\":\"http://x\"}}");
        struct broker *b = broker_from("{\"metadata\":{\"name\":\"b\",\"generation\":2,\"resourceVersion\":\"2\","
                                       "\"finalizers\":[\"kubernetes-incubator/service-catalog\"]},\"spec\":{\"url\":\"http://x\"},"
                                       "\"status\":{\"reconciledGeneration\":2}}");
        struct broker *c = broker_from("{\"metadata\":{\"name\":\"b\",\"generation\":2,\"resourceVersion\":\"3\","
                                       "\"deletionTimestamp\":\"2024-01-01T00:00:00Z\","
                                       "\"finalizers\":[\"kubernetes-incubator/service-catalog\"]},\"spec\":{\"url\":\"http://x\"}}");
        ck_assert(a->meta.finalizer);
        ck_assert(!broker_relevant(&a->meta, &b->meta));
        ck_assert(broker_relevant(&b->meta, &c->meta));
        broker_free(&a->meta);
        broker_free(&b->meta);
        broker_free(&c->meta);
}
END_TEST

START_TEST(go_durations_parse)
{
        int64_t ms;
        ck_assert_int_eq(osb_parse_go_duration_ms("15m", &ms), 0);
        ck_assert_int_eq(ms, 900000);
        ck_assert_int_eq(osb_parse_go_duration_ms("1h30m0s", &ms), 0);
        ck_assert_int_eq(ms, 5400000);
        ck_assert_int_eq(osb_parse_go_duration_ms("250ms", &ms), 0);
        ck_assert_int_eq(ms, 250);
        ck_assert_int_eq(osb_parse_go_duration_ms("1.5s", &ms), 0);
        ck_assert_int_eq(ms, 1500);
        ck_assert_int_eq(osb_parse_go_duration_ms("0s", &ms), -EINVAL);
        ck_assert_int_eq(osb_parse_go_duration_ms("-1m", &ms), -EINVAL);
        ck_assert_int_eq(osb_parse_go_duration_ms("10", &ms), -EINVAL);
        ck_assert_int_eq(osb_parse_go_duration_ms("", &ms), -EINVAL);
        ck_assert_int_eq(osb_parse_go_duration_ms("5x", &ms), -EINVAL);
}
END_TEST

/* ---- the informer cache ---- */

struct seen {
        int adds, updates, deletes, resyncs;
};

static void count_events(void *userdata, enum informer_event ev, const struct informer_kmeta *old, const struct informer_kmeta *new)
{
        struct seen *s = userdata;
        switch (ev) {
        case INFORMER_ADD: s->adds++; break;
        case INFORMER_UPDATE: s->updates++; break;
        case INFORMER_DELETE: s->deletes++; break;
        case INFORMER_RESYNC: s->resyncs++; break;
        }
}


START_TEST(informer_cache_applies_events_relists_and_filters_status_writes)
{
        struct seen s = {0};
        struct informer *inf = informer_new_detached(&broker_kind_cluster, count_events, &s);
        json_t *items = load("[{\"metadata\":{\"name\":\"a\",\"generation\":1,\"resourceVersion\":\"1\"},\"spec\":{\"url\":\"http://a\"}},"
                             "{\"metadata\":{\"name\":\"b\",\"generation\":1,\"resourceVersion\":\"2\"},\"spec\":{\"url\":\"http://b\"}}]");
        ck_assert_int_eq(informer_replace(inf, items), 0);
        ck_assert_int_eq(s.adds, 2);
        ck_assert_uint_eq(informer_size(inf), 2);
        /* our own status write: cached, but no event */
        json_t *st = load("{\"metadata\":{\"name\":\"a\",\"generation\":1,\"resourceVersion\":\"3\"},\"spec\":{\"url\":\"http://a\"},"
                          "\"status\":{\"reconciledGeneration\":1}}");
        ck_assert_int_eq(informer_apply(inf, KUBE_EVENT_MODIFIED, st), 0);
        ck_assert_int_eq(s.updates, 0);
        struct broker *a = (struct broker *) informer_get(inf, "a");
        ck_assert_str_eq(a->meta.resource_version, "3");
        ck_assert_int_eq(json_integer_value(json_object_get(a->status, "reconciledGeneration")), 1);
        /* a spec change (new generation) is an event */
        json_t *spec = load("{\"metadata\":{\"name\":\"a\",\"generation\":2,\"resourceVersion\":\"4\"},\"spec\":{\"url\":\"http://a2\"}}");
        ck_assert_int_eq(informer_apply(inf, KUBE_EVENT_MODIFIED, spec), 0);
        ck_assert_int_eq(s.updates, 1);
        /* the old reference stays valid after the cache moved on */
        ck_assert_str_eq(a->url, "http://a");
        informer_put(inf, &a->meta);
        /* a relist after 410: b vanished, c appeared, a unchanged */
        json_t *relist = load("[{\"metadata\":{\"name\":\"a\",\"generation\":2,\"resourceVersion\":\"4\"},\"spec\":{\"url\":\"http://a2\"}},"
                              "{\"metadata\":{\"name\":\"c\",\"generation\":1,\"resourceVersion\":\"5\"},\"spec\":{\"url\":\"http://c\"}}]");
        ck_assert_int_eq(informer_replace(inf, relist), 0);
        ck_assert_int_eq(s.adds, 3);
        ck_assert_int_eq(s.deletes, 1);
        ck_assert_int_eq(s.updates, 1);
        ck_assert_ptr_null(informer_get(inf, "b"));
        json_t *del = load("{\"metadata\":{\"name\":\"c\",\"resourceVersion\":\"6\"}}");
        ck_assert_int_eq(informer_apply(inf, KUBE_EVENT_DELETED, del), 0);
        ck_assert_int_eq(s.deletes, 2);
        informer_resync(inf);
        ck_assert_int_eq(s.resyncs, 1);
        ck_assert(informer_synced(inf));
        json_decref(items);
        json_decref(st);
        json_decref(spec);
        json_decref(relist);
        json_decref(del);
        informer_free(inf);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("catalog-controller broker reconciler");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, catalog_converts_to_classes_and_plans_with_reference_names_and_labels);
        tcase_add_test(tc, namespaced_flavour_has_no_owner_reference_and_its_own_fields);
        tcase_add_loop_test(tc, invalid_catalog_errors_name_the_json_path, 0, (int) OSB_ELEMENTSOF(invalid));
        tcase_add_test(tc, a_catalog_over_the_plan_limit_is_refused_and_one_at_it_converts);
        tcase_add_test(tc, restrictions_filter_classes_and_plans);
        tcase_add_test(tc, bad_restrictions_are_refused);
        tcase_add_test(tc, digest_ignores_user_fields_and_server_number_format);
        tcase_add_test(tc, existing_names_are_kept_for_the_same_external_id);
        tcase_add_test(tc, status_unchanged_means_no_write_even_with_a_later_clock);
        tcase_add_test(tc, status_flip_moves_transition_time_and_condition_state);
        tcase_add_test(tc, relist_timing_follows_the_reference);
        tcase_add_test(tc, broker_relevance_ignores_status_writes);
        tcase_add_test(tc, go_durations_parse);
        tcase_add_test(tc, informer_cache_applies_events_relists_and_filters_status_writes);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(suite)
