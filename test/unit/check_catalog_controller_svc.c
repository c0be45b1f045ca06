/* test/unit/check_catalog_controller_svc.c: the instance and binding reconcilers' pure parts:
 * the compact cached form (what is kept, what events matter), conditions as the reference shapes
 * them, class/plan/broker resolution from the caches (external name, external ID, k8s name, the
 * one-plan default, ambiguity, namespaced classes, a missing broker), the originating identity
 * header, and the last_operation polling schedule. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_base64.h"
#include "common/osb_mem.h"
#include "kube/watch.h"
#include "catalog-controller/informer.h"
#include "catalog-controller/offering.h"
#include "catalog-controller/reconcile_broker.h"
#include "catalog-controller/reconcile_instance.h"
#include "catalog-controller/cached.h"
#include "catalog-controller/condition.h"
#include "catalog-controller/request.h"
#include "catalog-controller/resolve.h"
#include "test/lib/check_main.h"

static json_t *load(const char *text)
{
        json_error_t e;
        json_t *j = json_loads(text, 0, &e);
        ck_assert_msg(j != NULL, "%s: %s", text, e.text);
        return j;
}

static const char *cond_field(const json_t *status, const char *type, const char *field)
{
        return json_string_value(json_object_get(condition_get(status, type), field));
}

START_TEST(cached_instance_keeps_json_without_managed_fields_and_indexes)
{
        json_t *obj = load("{\"metadata\":{\"name\":\"db\",\"namespace\":\"shop\",\"uid\":\"u1\",\"resourceVersion\":\"7\","
                           "\"generation\":3,\"managedFields\":[{\"manager\":\"kubectl\"}],"
                           "\"annotations\":{\"bindery.dev/abandon\":\"true\"}},"
                           "\"spec\":{\"parametersFrom\":[{\"secretKeyRef\":{\"name\":\"s1\",\"key\":\"k\"}},"
                           "{\"secretKeyRef\":{\"name\":\"s2\",\"key\":\"k\"}}]},"
                           "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\","
                           "\"reason\":\"ReferencesNonexistentServicePlan\"}]}}");
        struct informer_kmeta *m = NULL;
        ck_assert_int_eq(cached_extract(obj, &m), 0);
        struct cached *o = (struct cached *) m;
        ck_assert_str_eq(o->meta.key, "shop/db");
        ck_assert_int_eq(o->meta.generation, 3);
        ck_assert(!o->ready);
        ck_assert(o->unresolved);
        ck_assert(o->abandon);
        ck_assert_uint_eq(o->nsecret_refs, 2);
        ck_assert_str_eq(o->secret_refs[1], "s2");
        ck_assert_ptr_null(strstr(o->json, "managedFields"));
        json_t *back = cached_json(o);
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(back, "metadata"), "uid")), "u1");
        /* the caller's object is untouched */
        ck_assert_ptr_nonnull(json_object_get(json_object_get(obj, "metadata"), "managedFields"));
        json_decref(back);
        cached_free(m);
        json_decref(obj);
}
END_TEST

START_TEST(only_generation_deletion_finalizers_annotations_and_ready_matter)
{
        const char *base = "{\"metadata\":{\"name\":\"b\",\"namespace\":\"n\",\"uid\":\"u\",\"resourceVersion\":\"%d\","
                           "\"generation\":%d%s},\"spec\":{\"instanceRef\":{\"name\":\"i\"}},"
                           "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\",\"reason\":\"R%d\"}]}}";
        char t[600];
        struct informer_kmeta *a, *b;
        (void) snprintf(t, sizeof(t), base, 1, 1, "", "False", 1);
        json_t *j = load(t);
        ck_assert_int_eq(cached_extract(j, &a), 0);
        json_decref(j);
        ck_assert_str_eq(((struct cached *) a)->instance_ref, "i");
        /* a status-only write of ours (new resourceVersion, reason) is not an event */
        (void) snprintf(t, sizeof(t), base, 2, 1, "", "False", 2);
        j = load(t);
        ck_assert_int_eq(cached_extract(j, &b), 0);
        json_decref(j);
        ck_assert(!cached_relevant(a, b));
        cached_free(b);
        /* becoming Ready is (bindings wait for it) */
        (void) snprintf(t, sizeof(t), base, 3, 1, "", "True", 2);
        j = load(t);
        ck_assert_int_eq(cached_extract(j, &b), 0);
        json_decref(j);
        ck_assert(cached_relevant(a, b));
        cached_free(b);
        /* so are a spec change, a deletion and the abandon annotation */
        (void) snprintf(t, sizeof(t), base, 4, 2, "", "False", 1);
        j = load(t);
        ck_assert_int_eq(cached_extract(j, &b), 0);
        json_decref(j);
        ck_assert(cached_relevant(a, b));
        cached_free(b);
        (void) snprintf(t, sizeof(t), base, 5, 1, ",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"", "False", 1);
        j = load(t);
        ck_assert_int_eq(cached_extract(j, &b), 0);
        json_decref(j);
        ck_assert(b->deleting);
        ck_assert(cached_relevant(a, b));
        cached_free(b);
        (void) snprintf(t, sizeof(t), base, 6, 1, ",\"annotations\":{\"bindery.dev/abandon\":\"true\"}", "False", 1);
        j = load(t);
        ck_assert_int_eq(cached_extract(j, &b), 0);
        json_decref(j);
        ck_assert(cached_relevant(a, b));
        cached_free(b);
        cached_free(a);
}
END_TEST

START_TEST(conditions_keep_transition_time_until_status_flips)
{
        json_t *st = json_object();
        ck_assert_int_eq(condition_set(st, "Ready", "False", "Provisioning", "m1", "2026-01-01T00:00:00Z"), 0);
        ck_assert_str_eq(json_string_value(json_object_get(st, "lastConditionState")), "Provisioning");
        ck_assert_int_eq(condition_set(st, "Ready", "False", "ErrorPollingLastOperation", "m2", "2026-01-01T00:01:00Z"), 0);
        ck_assert_str_eq(cond_field(st, "Ready", "lastTransitionTime"), "2026-01-01T00:00:00Z");
        ck_assert_str_eq(cond_field(st, "Ready", "message"), "m2");
        ck_assert_int_eq(condition_set(st, "Ready", "True", "ProvisionedSuccessfully", "ok", "2026-01-01T00:02:00Z"), 0);
        ck_assert_str_eq(cond_field(st, "Ready", "lastTransitionTime"), "2026-01-01T00:02:00Z");
        ck_assert_str_eq(json_string_value(json_object_get(st, "lastConditionState")), "Ready");
        /* the last condition decides the printed state: Failed=True shows "Failed" */
        ck_assert_int_eq(condition_set(st, "Failed", "True", "ProvisionCallFailed", "x", "2026-01-01T00:03:00Z"), 0);
        ck_assert_str_eq(json_string_value(json_object_get(st, "lastConditionState")), "Failed");
        ck_assert_uint_eq(json_array_size(json_object_get(st, "conditions")), 2);
        ck_assert(condition_is(st, "Failed", "True"));
        condition_remove(st, "Failed");
        ck_assert_ptr_null(condition_get(st, "Failed"));
        ck_assert_str_eq(json_string_value(json_object_get(st, "lastConditionState")), "Ready");
        json_decref(st);
}
END_TEST

START_TEST(upgrade_available_does_not_change_the_printed_state)
{
        json_t *st = json_object();
        ck_assert_int_eq(condition_set(st, "Ready", "True", "ProvisionedSuccessfully", "ok", "2026-01-01T00:00:00Z"), 0);
        ck_assert_int_eq(condition_set(st, CONDITION_INFORMATIONAL, "True", "UpgradeAvailable", "m", "2026-01-01T00:01:00Z"), 0);
        ck_assert_str_eq(json_string_value(json_object_get(st, "lastConditionState")), "Ready");
        ck_assert_int_eq(condition_set(st, "Ready", "False", "MaintenanceInfoConflict", "m", "2026-01-01T00:02:00Z"), 0);
        ck_assert_str_eq(json_string_value(json_object_get(st, "lastConditionState")), "MaintenanceInfoConflict");
        condition_remove(st, "Ready");
        /* only the informational one left: no printed state */
        ck_assert_ptr_null(json_object_get(st, "lastConditionState"));
        json_decref(st);
}
END_TEST

START_TEST(cached_instance_keeps_its_plan_reference)
{
        json_t *obj = load("{\"metadata\":{\"name\":\"db\",\"namespace\":\"shop\",\"uid\":\"u1\"},"
                           "\"spec\":{\"clusterServicePlanRef\":{\"name\":\"plan-1\"}}}");
        struct informer_kmeta *m = NULL;
        ck_assert_int_eq(cached_extract(obj, &m), 0);
        ck_assert_str_eq(((struct cached *) m)->plan_ref, "plan-1");
        cached_free(m);
        json_decref(obj);
        obj = load("{\"metadata\":{\"name\":\"db\",\"namespace\":\"shop\",\"uid\":\"u1\"},"
                   "\"spec\":{\"servicePlanRef\":{\"name\":\"plan-2\"}}}");
        ck_assert_int_eq(cached_extract(obj, &m), 0);
        ck_assert_str_eq(((struct cached *) m)->plan_ref, "plan-2");
        cached_free(m);
        json_decref(obj);
}
END_TEST

START_TEST(cached_plan_keeps_its_schemas_and_maintenance_info)
{
        json_t *obj = load("{\"metadata\":{\"name\":\"p\",\"uid\":\"u\"},\"spec\":{\"externalName\":\"small\","
                           "\"instanceCreateParameterSchema\":{\"required\":[\"a\"]},"
                           "\"serviceBindingCreateParameterSchema\":{\"type\":\"object\"},"
                           "\"instanceUpdateParameterSchema\":null,"
                           "\"maintenanceInfo\":{\"version\":\"1.2.3\"}}}");
        struct informer_kmeta *m = NULL;
        ck_assert_int_eq(offering_extract_plan(obj, &m), 0);
        const struct offering *o = (const struct offering *) m;
        json_decref(obj);       /* the cache shares nothing with the object */
        ck_assert_str_eq(json_string_value(json_array_get(json_object_get(o->schema_create, "required"), 0)), "a");
        ck_assert_ptr_null(o->schema_update);
        ck_assert_str_eq(json_string_value(json_object_get(o->schema_bind, "type")), "object");
        ck_assert_str_eq(json_string_value(json_object_get(o->maintenance_info, "version")), "1.2.3");
        offering_free(m);
}
END_TEST

/* ---- resolution against detached caches ---- */


static void nop(void *u, enum informer_event ev, const struct informer_kmeta *o, const struct informer_kmeta *n)
{
}

static void add(struct informer *inf, const char *text)
{
        json_t *j = load(text);
        ck_assert_int_eq(informer_apply(inf, KUBE_EVENT_ADDED, j), 0);
        json_decref(j);
}

static void cls(struct informer *inf, const char *ns, const char *name, const char *broker, const char *ext_id,
                const char *ext_name)
{
        char t[600];
        (void) snprintf(t, sizeof(t), "{\"metadata\":{\"name\":\"%s\"%s%s%s,\"resourceVersion\":\"1\"},"
                        "\"spec\":{\"%s\":\"%s\",\"externalID\":\"%s\",\"externalName\":\"%s\",\"bindable\":true}}",
                        name, ns ? ",\"namespace\":\"" : "", ns ? ns : "", ns ? "\"" : "",
                        ns ? "serviceBrokerName" : "clusterServiceBrokerName", broker, ext_id, ext_name);
        add(inf, t);
}

static void plan(struct informer *inf, const char *ns, const char *name, const char *broker, const char *class_name,
                 const char *ext_id, const char *ext_name)
{
        char t[700];
        (void) snprintf(t, sizeof(t), "{\"metadata\":{\"name\":\"%s\"%s%s%s,\"resourceVersion\":\"1\"},"
                        "\"spec\":{\"%s\":\"%s\",\"%s\":{\"name\":\"%s\"},\"externalID\":\"%s\",\"externalName\":\"%s\","
                        "\"maximumPollingDuration\":90}}",
                        name, ns ? ",\"namespace\":\"" : "", ns ? ns : "", ns ? "\"" : "",
                        ns ? "serviceBrokerName" : "clusterServiceBrokerName", broker,
                        ns ? "serviceClassRef" : "clusterServiceClassRef", class_name, ext_id, ext_name);
        add(inf, t);
}

static struct ctl ctl;

static void setup(void)
{
        ctl_init(&ctl);
        ctl.classes[0] = informer_new_detached(&offering_kind_cluster_classes, nop, NULL);
        ctl.plans[0] = informer_new_detached(&offering_kind_cluster_plans, nop, NULL);
        ctl.brokers[0] = informer_new_detached(&broker_kind_cluster, nop, NULL);
        ctl.classes[1] = informer_new_detached(&offering_kind_classes, nop, NULL);
        ctl.plans[1] = informer_new_detached(&offering_kind_plans, nop, NULL);
        ctl.brokers[1] = informer_new_detached(&broker_kind_namespaced, nop, NULL);
        add(ctl.brokers[0], "{\"metadata\":{\"name\":\"b1\",\"resourceVersion\":\"1\"},\"spec\":{\"url\":\"http://x\"}}");
        add(ctl.brokers[0], "{\"metadata\":{\"name\":\"b2\",\"resourceVersion\":\"1\"},\"spec\":{\"url\":\"http://y\"}}");
        add(ctl.brokers[1], "{\"metadata\":{\"name\":\"nb\",\"namespace\":\"shop\",\"resourceVersion\":\"1\"},\"spec\":{\"url\":\"http://z\"}}");
        cls(ctl.classes[0], NULL, "c-db", "b1", "id-db", "db");
        plan(ctl.plans[0], NULL, "p-small", "b1", "c-db", "id-small", "small");
        plan(ctl.plans[0], NULL, "p-large", "b1", "c-db", "id-large", "large");
        cls(ctl.classes[0], NULL, "c-q", "b1", "id-q", "queue");
        plan(ctl.plans[0], NULL, "p-std", "b1", "c-q", "id-std", "default");
        /* two brokers offering the same external name */
        cls(ctl.classes[0], NULL, "c-cache1", "b1", "id-c1", "cache");
        cls(ctl.classes[0], NULL, "c-cache2", "b2", "id-c2", "cache");
        /* a class whose broker is not registered */
        cls(ctl.classes[0], NULL, "c-orphan", "gone", "id-o", "orphan");
        plan(ctl.plans[0], NULL, "p-orphan", "gone", "c-orphan", "id-op", "default");
        /* namespaced */
        cls(ctl.classes[1], "shop", "nc-db", "nb", "nid-db", "db");
        plan(ctl.plans[1], "shop", "np-small", "nb", "nc-db", "nid-small", "small");
        cls(ctl.classes[1], "other", "nc-db", "nb", "nid-db2", "db");
}

static void teardown(void)
{
        for (int i = 0; i < 2; i++) {
                informer_free(ctl.classes[i]);
                informer_free(ctl.plans[i]);
                informer_free(ctl.brokers[i]);
        }
        ctl_release(&ctl);
}

static const struct {
        const char *spec;
        const char *ns;
        int result;
        const char *reason;            /* on failure */
        const char *cls, *plan;        /* on success: k8s names */
        const char *user_class, *user_plan;
        const char *message_part;      /* on failure */
} resolutions[] = {
        {"{\"clusterServiceClassExternalName\":\"db\",\"clusterServicePlanExternalName\":\"large\"}", "a", 0, NULL,
         "c-db", "p-large", "ClusterServiceClass/db", "large", NULL},
        {"{\"clusterServiceClassExternalID\":\"id-db\",\"clusterServicePlanExternalID\":\"id-small\"}", "a", 0, NULL,
         "c-db", "p-small", "ClusterServiceClass/id-db", "id-small", NULL},
        {"{\"clusterServiceClassName\":\"c-q\",\"clusterServicePlanName\":\"p-std\"}", "a", 0, NULL,
         "c-q", "p-std", "ClusterServiceClass/c-q", "p-std", NULL},
        /* the plan may be left out when the class has exactly one */
        {"{\"clusterServiceClassExternalName\":\"queue\"}", "a", 0, NULL, "c-q", "p-std", "ClusterServiceClass/queue",
         "default", NULL},
        {"{\"clusterServiceClassExternalName\":\"db\"}", "a", OSB_E_NOT_FOUND, "ReferencesNonexistentServicePlan",
         NULL, NULL, NULL, NULL, "has 2 plans: name one in spec.clusterServicePlanExternalName"},
        /* plan names are scoped to their class: "default" of queue is not found under db */
        {"{\"clusterServiceClassExternalName\":\"db\",\"clusterServicePlanExternalName\":\"default\"}", "a",
         OSB_E_NOT_FOUND, "ReferencesNonexistentServicePlan", NULL, NULL, NULL, NULL,
         "no ClusterServicePlan with external name 'default' for ClusterServiceClass c-db"},
        {"{\"clusterServiceClassExternalName\":\"nosuch\",\"clusterServicePlanExternalName\":\"x\"}", "a",
         OSB_E_NOT_FOUND, "ReferencesNonexistentServiceClass", NULL, NULL, NULL, NULL,
         "no ClusterServiceClass with external name 'nosuch'"},
        {"{\"clusterServiceClassExternalName\":\"cache\",\"clusterServicePlanExternalName\":\"x\"}", "a",
         OSB_E_NOT_FOUND, "ReferencesNonexistentServiceClass", NULL, NULL, NULL, NULL,
         "2 ClusterServiceClasses have external name 'cache'"},
        {"{\"clusterServiceClassExternalName\":\"orphan\"}", "a", OSB_E_NOT_FOUND, "ReferencesNonexistentBroker",
         NULL, NULL, NULL, NULL, "the ClusterServiceBroker 'gone' of ClusterServiceClass c-orphan does not exist"},
        {"{}", "a", OSB_E_NOT_FOUND, "ReferencesNonexistentServiceClass", NULL, NULL, NULL, NULL, "spec names no class"},
        /* namespaced classes are seen only from their namespace */
        {"{\"serviceClassExternalName\":\"db\",\"servicePlanExternalName\":\"small\"}", "shop", 0, NULL,
         "nc-db", "np-small", "ServiceClass/db", "small", NULL},
        {"{\"serviceClassExternalName\":\"db\",\"servicePlanExternalName\":\"small\"}", "elsewhere", OSB_E_NOT_FOUND,
         "ReferencesNonexistentServiceClass", NULL, NULL, NULL, NULL, "in namespace elsewhere"},
};

START_TEST(resolution_by_external_name_id_and_name)
{
        json_t *spec = load(resolutions[_i].spec);
        struct resolve_result rv;
        const char *reason = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        int r = resolve_spec(&ctl, spec, resolutions[_i].ns, false, &rv, &reason, &err);
        ck_assert_msg(r == resolutions[_i].result, "%s: %d (%s)", resolutions[_i].spec, r, err.text);
        if (r == 0) {
                ck_assert_str_eq(rv.cls->meta.name, resolutions[_i].cls);
                ck_assert_str_eq(rv.plan->meta.name, resolutions[_i].plan);
                ck_assert_ptr_nonnull(rv.broker);
                ck_assert_str_eq(rv.user_class, resolutions[_i].user_class);
                ck_assert_str_eq(rv.user_plan, resolutions[_i].user_plan);
                ck_assert_ptr_null(reason);
        } else {
                ck_assert_str_eq(reason, resolutions[_i].reason);
                ck_assert_msg(strstr(err.text, resolutions[_i].message_part), "%s", err.text);
        }
        resolve_release(&rv);
        json_decref(spec);
}
END_TEST

START_TEST(resolution_by_reference_uses_what_was_resolved)
{
        /* the user changed the plan fields, but a running operation goes on with its references */
        json_t *spec = load("{\"clusterServiceClassExternalName\":\"db\",\"clusterServicePlanExternalName\":\"large\","
                            "\"clusterServiceClassRef\":{\"name\":\"c-db\"},\"clusterServicePlanRef\":{\"name\":\"p-small\"}}");
        struct resolve_result rv;
        const char *reason;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(resolve_spec(&ctl, spec, "a", true, &rv, &reason, &err), 0);
        ck_assert_str_eq(rv.plan->external_id, "id-small");
        ck_assert_int_eq(rv.plan->max_poll_s, 90);
        ck_assert_int_eq(rv.cls->bindable, 1);
        ck_assert_int_eq(rv.plan->bindable, -1);
        resolve_release(&rv);
        json_decref(spec);
}
END_TEST

START_TEST(originating_identity_is_kubernetes_base64_json)
{
        json_t *spec = load("{\"userInfo\":{\"username\":\"alice\",\"uid\":\"42\",\"groups\":[\"dev\"]}}");
        bool oom;
        char *h = request_identity(spec, &oom);
        ck_assert(!oom);
        ck_assert_ptr_nonnull(h);
        ck_assert(strncmp(h, "kubernetes ", 11) == 0);
        char *dec = NULL;
        size_t n;
        ck_assert_int_eq(osb_base64_decode(h + 11, strlen(h + 11), OSB_BASE64_STRICT, &dec, &n, NULL), 0);
        json_t *back = load(dec);
        ck_assert_str_eq(json_string_value(json_object_get(back, "username")), "alice");
        ck_assert_str_eq(json_string_value(json_array_get(json_object_get(back, "groups"), 0)), "dev");
        json_decref(back);
        osb_free(dec);
        osb_free(h);
        json_decref(spec);
        /* no userInfo: no header */
        spec = load("{}");
        ck_assert_ptr_null(request_identity(spec, &oom));
        ck_assert(!oom);
        json_decref(spec);
}
END_TEST

START_TEST(polling_stays_within_two_seconds_for_ten_minutes_then_slows_to_the_cap)
{
        ck_assert_int_eq(reconcile_instance_poll_delay(0, -1, 300000), 250);
        ck_assert_int_eq(reconcile_instance_poll_delay(2000, -1, 300000), 500);
        ck_assert_int_eq(reconcile_instance_poll_delay(60000, -1, 300000), 2000);
        ck_assert_int_eq(reconcile_instance_poll_delay(599999, -1, 300000), 2000);
        ck_assert_int_eq(reconcile_instance_poll_delay(900000, -1, 300000), 30000);
        ck_assert_int_eq(reconcile_instance_poll_delay(24 * 3600 * 1000LL, -1, 300000), 300000);
        ck_assert_int_eq(reconcile_instance_poll_delay(24 * 3600 * 1000LL, -1, 60000), 60000);
        /* the broker's Retry-After wins, at least 250 ms and never past the cap */
        ck_assert_int_eq(reconcile_instance_poll_delay(0, 3, 300000), 3000);
        ck_assert_int_eq(reconcile_instance_poll_delay(0, 0, 300000), 250);
        ck_assert_int_eq(reconcile_instance_poll_delay(0, 3600, 300000), 300000);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("catalog-controller instances and bindings");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, cached_instance_keeps_json_without_managed_fields_and_indexes);
        tcase_add_test(tc, only_generation_deletion_finalizers_annotations_and_ready_matter);
        tcase_add_test(tc, conditions_keep_transition_time_until_status_flips);
        tcase_add_test(tc, upgrade_available_does_not_change_the_printed_state);
        tcase_add_test(tc, cached_instance_keeps_its_plan_reference);
        tcase_add_test(tc, cached_plan_keeps_its_schemas_and_maintenance_info);
        tcase_add_test(tc, originating_identity_is_kubernetes_base64_json);
        tcase_add_test(tc, polling_stays_within_two_seconds_for_ten_minutes_then_slows_to_the_cap);
        suite_add_tcase(s, tc);
        TCase *rc = tcase_create("resolution");
        tcase_add_checked_fixture(rc, setup, teardown);
        tcase_add_loop_test(rc, resolution_by_external_name_id_and_name, 0, (int) OSB_ELEMENTSOF(resolutions));
        tcase_add_test(rc, resolution_by_reference_uses_what_was_resolved);
        suite_add_tcase(s, rc);
        return s;
}

OSB_CHECK_MAIN(suite)
