/* test/unit/check_catalog_controller_reconcile.c: the decisions of the three reconcilers
 * (reconcile_instance.c, reconcile_binding.c, reconcile_broker.c), run unchanged against an
 * in-memory API server and a scripted broker (fake_ctl.h), with caches filled from the fake
 * server as a watch would and a clock the test moves. Each test asserts what a user sees: the
 * calls the broker got, the conditions and status written, the Events, the Secret's bytes, the
 * finalizer and whether the object is gone. A broker call the test did not script fails it. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_base64.h"
#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "common/osb_time.h"
#include "kube/watch.h"
#include "catalog-controller/broker.h"
#include "catalog-controller/cached.h"
#include "catalog-controller/condition.h"
#include "catalog-controller/kapi.h"
#include "catalog-controller/kobj.h"
#include "catalog-controller/names.h"
#include "catalog-controller/offering.h"
#include "catalog-controller/reconcile_binding.h"
#include "catalog-controller/reconcile_broker.h"
#include "catalog-controller/reconcile_instance.h"
#include "test/unit/fake_ctl.h"
#include "test/lib/check_main.h"


#define T0 ((time_t) 1767225600)       /* 2026-01-01T00:00:00Z */
static time_t clock_now;
static time_t test_clock(void)
{
        return clock_now;
}

static struct ctl C;

static int no_work(void *userdata, const char *key)
{
        (void) userdata, (void) key;
        return 0;
}

/* The caches catch up with the server, as the watches would. */
static void sync_caches(void)
{
        struct informer *infs[] = {C.brokers[0], C.classes[0], C.plans[0], C.instances, C.bindings, C.secrets};
        const struct kube_resource *res[] = {&kube_sc_cluster_brokers, &kube_sc_cluster_classes, &kube_sc_cluster_plans,
                                             &kube_sc_instances, &kube_sc_bindings, &kube_secrets};
        for (size_t i = 0; i < OSB_ELEMENTSOF(infs); i++) {
                json_t *items = fake_kapi_list(res[i]);
                ck_assert_int_eq(informer_replace(infs[i], items), 0);
                json_decref(items);
        }
}

static const char *broker_obj = "{\"metadata\":{\"name\":\"b1\",\"finalizers\":[\"" NAMES_FINALIZER "\"]},"
                                "\"spec\":{\"url\":\"http://broker.test\"}}";
static const char *class_obj = "{\"metadata\":{\"name\":\"c-db\"},\"spec\":{\"clusterServiceBrokerName\":\"b1\","
                               "\"externalID\":\"id-db\",\"externalName\":\"db\",\"bindable\":true}}";
static const char *plan_obj = "{\"metadata\":{\"name\":\"p-small\"},\"spec\":{\"clusterServiceBrokerName\":\"b1\","
                              "\"clusterServiceClassRef\":{\"name\":\"c-db\"},\"externalID\":\"id-small\","
                              "\"externalName\":\"small\"}}";
static const char *instance_obj = "{\"metadata\":{\"name\":\"db\",\"namespace\":\"shop\"},"
                                  "\"spec\":{\"clusterServiceClassExternalName\":\"db\","
                                  "\"clusterServicePlanExternalName\":\"small\"}}";
static const char *binding_obj = "{\"metadata\":{\"name\":\"creds\",\"namespace\":\"shop\"},"
                                 "\"spec\":{\"instanceRef\":{\"name\":\"db\"}}}";

static void setup(void)
{
        osb_log_set_level(OSB_LOG_ERROR);
        clock_now = T0;
        fake_kapi_reset();
        fake_kapi_set_clock(test_clock);
        fake_osb_reset();
        ctl_init(&C);
        C.now = test_clock;
        C.opts = (struct ctl_options){.relist_ms = 15 * 60 * 1000, .osb_timeout_ms = 60000,
                                      .retry_duration_ms = 7 * 24 * 3600 * 1000LL, .max_retry_ms = 20 * 60 * 1000,
                                      .max_poll_ms = 5 * 60 * 1000, .cascade_delete_bindings = true,
                                      .cluster_id = "cluster-1"};
        struct queue_options qo = {.workers = 1};
        ck_assert_int_eq(queue_new(&qo, no_work, NULL, &C.queue), 0);
        C.brokers[0] = informer_new_detached(&broker_kind_cluster, NULL, NULL);
        C.classes[0] = informer_new_detached(&offering_kind_cluster_classes, NULL, NULL);
        C.plans[0] = informer_new_detached(&offering_kind_cluster_plans, NULL, NULL);
        C.instances = informer_new_detached(&cached_kind_instances, NULL, NULL);
        C.bindings = informer_new_detached(&cached_kind_bindings, NULL, NULL);
        C.secrets = informer_new_detached(&cached_kind_secrets, NULL, NULL);
        ck_assert(C.brokers[0] && C.classes[0] && C.plans[0] && C.instances && C.bindings && C.secrets);
        atomic_store(&C.started, true);
        fake_kapi_put(&kube_namespaces, "{\"metadata\":{\"name\":\"shop\"}}");
        fake_kapi_put(&kube_sc_cluster_brokers, broker_obj);
        fake_kapi_put(&kube_sc_cluster_classes, class_obj);
        fake_kapi_put(&kube_sc_cluster_plans, plan_obj);
        sync_caches();
}

static void teardown(void)
{
        C.queue = queue_free(C.queue);
        informer_free(C.brokers[0]);
        informer_free(C.classes[0]);
        informer_free(C.plans[0]);
        informer_free(C.instances);
        informer_free(C.bindings);
        informer_free(C.secrets);
        ctl_release(&C);
        fake_osb_reset();
        fake_kapi_reset();
}

/* ---- reading what the controller wrote ---- */

static json_t *instance(void)
{
        return fake_kapi_obj(&kube_sc_instances, "shop", "db");
}

static json_t *binding(void)
{
        return fake_kapi_obj(&kube_sc_bindings, "shop", "creds");
}

static const char *cond(const json_t *obj, const char *type, const char *field)
{
        return json_string_value(json_object_get(condition_get(json_object_get(obj, "status"), type), field));
}

static const char *status_str(const json_t *obj, const char *field)
{
        return json_string_value(json_object_get(json_object_get(obj, "status"), field));
}

static bool status_true(const json_t *obj, const char *field)
{
        return json_is_true(json_object_get(json_object_get(obj, "status"), field));
}

static const char *body_str(size_t call, const char *field)
{
        return json_string_value(json_object_get(fake_osb_body(call), field));
}

static time_t next_retry(const json_t *obj)
{
        time_t t = 0;
        ck_assert_int_eq(osb_time_parse_rfc3339(status_str(obj, "nextRetryTime"), &t), 0);
        return t;
}

static void reconcile_i(void)
{
        sync_caches();
        ck_assert_int_eq(reconcile_instance(&C, CTL_KEY_INSTANCE "shop/db"), 0);
}

static void reconcile_b(void)
{
        sync_caches();
        ck_assert_int_eq(reconcile_binding(&C, CTL_KEY_BINDING "shop/creds"), 0);
}

static int reconcile_broker_key(void)
{
        sync_caches();
        return reconcile_broker(&C, &offering_flavour_cluster, CTL_KEY_CLUSTER_BROKER "b1");
}

/* A user's edit of spec.@field (a new generation). */
static void user_edit_spec(const struct kube_resource *res, const char *ns, const char *name, const char *field, json_t *value)
{
        json_auto_t *o = json_deep_copy(fake_kapi_obj(res, ns, name));
        ck_assert_ptr_nonnull(o);
        ck_assert_int_eq(json_object_set_new(json_object_get(o, "spec"), field, value), 0);
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(kapi_update(NULL, res, ns, o, NULL, &err), 0);
}

/* An instance the broker provisioned (synchronously). */
static void provisioned_instance(void)
{
        fake_kapi_put(&kube_sc_instances, instance_obj);
        fake_osb_answer("provision", 0, 201, "{}");
        reconcile_i();
        ck_assert_str_eq(cond(instance(), "Ready", "status"), "True");
}

/* ---- ServiceInstance ---- */

START_TEST(instance_provisioned_is_ready_with_its_status_and_an_event)
{
        fake_kapi_put(&kube_sc_instances, instance_obj);
        fake_osb_answer("provision", 0, 201, "{\"dashboard_url\":\"https://dash.test/db\"}");
        reconcile_i();

        ck_assert_uint_eq(fake_osb_calls(), 1);
        ck_assert_str_eq(body_str(0, "service_id"), "id-db");
        ck_assert_str_eq(body_str(0, "plan_id"), "id-small");
        ck_assert_str_eq(body_str(0, "organization_guid"), "cluster-1");
        const char *ns_uid = json_string_value(json_object_get(json_object_get(fake_kapi_obj(&kube_namespaces, NULL, "shop"),
                                                                               "metadata"), "uid"));
        ck_assert_str_eq(body_str(0, "space_guid"), ns_uid);

        json_t *i = instance();
        ck_assert_str_eq(cond(i, "Ready", "status"), "True");
        ck_assert_str_eq(cond(i, "Ready", "reason"), "ProvisionedSuccessfully");
        ck_assert_str_eq(status_str(i, "provisionStatus"), "Provisioned");
        ck_assert_str_eq(status_str(i, "dashboardURL"), "https://dash.test/db");
        ck_assert(kobj_has_finalizer(i));
        ck_assert_ptr_nonnull(json_string_value(json_object_get(json_object_get(i, "spec"), "externalID")));
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(i, "spec"),
                                                                           "clusterServicePlanRef"), "name")), "p-small");
        ck_assert(fake_kapi_event("ProvisionedSuccessfully"));

        /* nothing changed: the next pass calls nobody and writes nothing */
        size_t w = fake_kapi_writes();
        clock_now += 3600;
        reconcile_i();
        ck_assert_uint_eq(fake_osb_calls(), 1);
        ck_assert_uint_eq(fake_kapi_writes(), w);
}
END_TEST

START_TEST(instance_broker_400_fails_for_good_and_is_not_retried)
{
        fake_kapi_put(&kube_sc_instances, instance_obj);
        fake_osb_answer("provision", 0, 400, "{\"error\":\"BadPlan\",\"description\":\"plan small is full\"}");
        reconcile_i();

        json_t *i = instance();
        ck_assert_str_eq(cond(i, "Ready", "status"), "False");
        ck_assert_str_eq(cond(i, "Ready", "reason"), "ClusterServiceBrokerReturnedFailure");
        ck_assert_str_eq(cond(i, "Failed", "status"), "True");
        ck_assert_ptr_nonnull(strstr(cond(i, "Failed", "message"), "plan small is full"));
        ck_assert_str_eq(status_str(i, "deprovisionStatus"), "NotRequired");
        ck_assert_ptr_null(status_str(i, "nextRetryTime"));
        ck_assert(fake_kapi_event("ClusterServiceBrokerReturnedFailure"));

        /* an hour later, the same spec: no second provision (an unscripted call fails the test) */
        clock_now += 3600;
        reconcile_i();
        ck_assert_uint_eq(fake_osb_calls(), 1);
}
END_TEST

START_TEST(instance_broker_5xx_is_orphan_mitigated_then_provisioned_again_after_the_back_off)
{
        fake_kapi_put(&kube_sc_instances, instance_obj);
        fake_osb_answer("provision", 0, 503, "{\"description\":\"try later\"}");
        fake_osb_answer("deprovision", 0, 200, "{}");
        reconcile_i();

        /* the broker may hold an instance we never learnt of: deprovisioned at once */
        ck_assert_uint_eq(fake_osb_calls(), 2);
        ck_assert_str_eq(fake_osb_call(1), "deprovision");
        ck_assert(fake_kapi_event("StartingInstanceOrphanMitigation"));
        json_t *i = instance();
        ck_assert_str_eq(cond(i, "Ready", "reason"), "OrphanMitigationSuccessful");
        ck_assert(!status_true(i, "orphanMitigationInProgress"));
        ck_assert_ptr_null(condition_get(json_object_get(i, "status"), "Failed"));
        time_t at = next_retry(i);
        ck_assert_int_eq(at, T0 + 1);

        /* before nextRetryTime nothing is sent; after it, the provision is tried again */
        reconcile_i();
        ck_assert_uint_eq(fake_osb_calls(), 2);
        clock_now = at;
        fake_osb_answer("provision", 0, 201, "{}");
        reconcile_i();
        ck_assert_uint_eq(fake_osb_calls(), 3);
        ck_assert_str_eq(cond(instance(), "Ready", "reason"), "ProvisionedSuccessfully");
}
END_TEST

START_TEST(instance_unreachable_broker_is_retried_with_a_doubling_back_off)
{
        fake_kapi_put(&kube_sc_instances, instance_obj);
        fake_osb_answer("provision", -ECONNREFUSED, 0, NULL);
        reconcile_i();
        json_t *i = instance();
        ck_assert_str_eq(cond(i, "Ready", "reason"), "ErrorCallingProvision");
        ck_assert_ptr_nonnull(strstr(cond(i, "Ready", "message"), "will retry at"));
        ck_assert_int_eq(next_retry(i), T0 + 1);
        ck_assert(!status_true(i, "orphanMitigationInProgress"));     /* nothing reached the broker */

        clock_now = T0 + 1;
        fake_osb_answer("provision", -ECONNREFUSED, 0, NULL);
        reconcile_i();
        ck_assert_int_eq(next_retry(instance()), T0 + 1 + 2);

        clock_now = T0 + 3;
        fake_osb_answer("provision", -ECONNREFUSED, 0, NULL);
        reconcile_i();
        ck_assert_int_eq(next_retry(instance()), T0 + 3 + 4);
        ck_assert_uint_eq(fake_osb_calls(), 3);
}
END_TEST

START_TEST(instance_provision_timeout_deprovisions_at_once)
{
        fake_kapi_put(&kube_sc_instances, instance_obj);
        fake_osb_answer("provision", -ETIMEDOUT, 0, NULL);
        fake_osb_answer("deprovision", 0, 200, "{}");
        reconcile_i();
        ck_assert_uint_eq(fake_osb_calls(), 2);
        ck_assert_str_eq(fake_osb_call(1), "deprovision");
        ck_assert_str_eq(cond(instance(), "Ready", "reason"), "OrphanMitigationSuccessful");
}
END_TEST

START_TEST(instance_async_provision_polls_last_operation_until_it_succeeds)
{
        fake_kapi_put(&kube_sc_instances, instance_obj);
        fake_osb_answer("provision", 0, 202, "{\"operation\":\"op-42\"}");
        reconcile_i();
        json_t *i = instance();
        ck_assert_str_eq(cond(i, "Ready", "reason"), "Provisioning");
        ck_assert(status_true(i, "asyncOpInProgress"));
        ck_assert_str_eq(status_str(i, "lastOperation"), "op-42");

        clock_now += 1;
        fake_osb_answer("last_operation", 0, 200, "{\"state\":\"in progress\",\"description\":\"50%\"}");
        reconcile_i();
        ck_assert_str_eq(fake_osb_call(1), "last_operation");
        ck_assert_str_eq(fake_osb_operation(1), "op-42");
        ck_assert_str_eq(cond(instance(), "Ready", "message"), "50%");
        ck_assert(status_true(instance(), "asyncOpInProgress"));

        clock_now += 1;
        fake_osb_answer("last_operation", 0, 200, "{\"state\":\"succeeded\"}");
        reconcile_i();
        i = instance();
        ck_assert_str_eq(cond(i, "Ready", "status"), "True");
        ck_assert_str_eq(status_str(i, "provisionStatus"), "Provisioned");
        ck_assert(!status_true(i, "asyncOpInProgress"));
        ck_assert_ptr_null(status_str(i, "lastOperation"));
        ck_assert_uint_eq(fake_osb_calls(), 3);
}
END_TEST

START_TEST(instance_deleted_is_deprovisioned_then_its_finalizer_removed)
{
        provisioned_instance();
        fake_kapi_delete(&kube_sc_instances, "shop", "db");
        ck_assert_ptr_nonnull(instance());      /* held by our finalizer */
        fake_osb_answer("deprovision", 0, 200, "{}");
        reconcile_i();
        ck_assert_str_eq(fake_osb_call(1), "deprovision");
        ck_assert_ptr_null(instance());
        ck_assert(fake_kapi_event("DeprovisionedSuccessfully"));
}
END_TEST

START_TEST(instance_deprovision_refused_keeps_the_finalizer_and_retries)
{
        provisioned_instance();
        fake_kapi_delete(&kube_sc_instances, "shop", "db");
        fake_osb_answer("deprovision", 0, 500, "{}");
        reconcile_i();
        json_t *i = instance();
        ck_assert_ptr_nonnull(i);
        ck_assert(kobj_has_finalizer(i));
        ck_assert_str_eq(cond(i, "Ready", "reason"), "DeprovisionCallFailed");
        ck_assert_int_eq(next_retry(i), T0 + 1);
}
END_TEST

START_TEST(instance_of_an_unknown_plan_calls_nobody)
{
        fake_kapi_put(&kube_sc_instances, "{\"metadata\":{\"name\":\"db\",\"namespace\":\"shop\"},"
                                          "\"spec\":{\"clusterServiceClassExternalName\":\"db\","
                                          "\"clusterServicePlanExternalName\":\"huge\"}}");
        reconcile_i();
        ck_assert_uint_eq(fake_osb_calls(), 0);
        ck_assert_str_eq(cond(instance(), "Ready", "reason"), "ReferencesNonexistentServicePlan");
}
END_TEST

/* ---- ServiceBinding ---- */

/* A binding of the instance, which is Ready. */
static void ready_instance_and_binding(void)
{
        provisioned_instance();
        fake_kapi_put(&kube_sc_bindings, binding_obj);
        clock_now += 60;        /* not just created: a binding waits 3 s for an instance created with it */
}

/* ---- adoption (bindery.dev/adopt with spec.externalID) ---- */

/* The class's service lets its instances and bindings be fetched (GET), as adoption needs. */
static void class_retrievable(void)
{
        user_edit_spec(&kube_sc_cluster_classes, NULL, "c-db", "instancesRetrievable", json_true());
        user_edit_spec(&kube_sc_cluster_classes, NULL, "c-db", "bindingRetrievable", json_true());
}

START_TEST(instance_adoption_retries_a_broker_5xx_then_adopts_without_a_provision)
{
        class_retrievable();
        fake_kapi_put(&kube_sc_instances, "{\"metadata\":{\"name\":\"db\",\"namespace\":\"shop\","
                                          "\"annotations\":{\"" NAMES_ANNOTATION_ADOPT "\":\"true\"}},"
                                          "\"spec\":{\"clusterServiceClassExternalName\":\"db\","
                                          "\"clusterServicePlanExternalName\":\"small\",\"externalID\":\"held-1\"}}");
        fake_osb_answer("fetch", 0, 503, "{\"description\":\"down for maintenance\",\"token\":\"s3cret\"}");
        reconcile_i();
        ck_assert_uint_eq(fake_osb_calls(), 1);
        ck_assert_str_eq(fake_osb_call(0), "fetch");
        json_t *i = instance();
        ck_assert_str_eq(cond(i, "Ready", "status"), "False");
        ck_assert_str_eq(cond(i, "Ready", "reason"), "ErrorAdoptingInstance");
        ck_assert_ptr_nonnull(strstr(cond(i, "Ready", "message"),
                                     "Error adopting the instance: the broker answered 503: down for maintenance"));
        ck_assert_ptr_nonnull(strstr(cond(i, "Ready", "message"), "will retry at"));
        ck_assert_ptr_null(strstr(cond(i, "Ready", "message"), "s3cret"));
        ck_assert_ptr_nonnull(status_str(i, "nextRetryTime"));
        ck_assert_str_eq(status_str(i, "deprovisionStatus"), "NotRequired");
        /* after the back-off the broker answers: Ready, and still no provision was sent */
        fake_osb_answer("fetch", 0, 200, "{\"service_id\":\"id-db\",\"plan_id\":\"id-small\"}");
        clock_now += 3600;
        reconcile_i();
        ck_assert_uint_eq(fake_osb_calls(), 2);
        ck_assert_str_eq(fake_osb_call(1), "fetch");
        ck_assert_str_eq(cond(instance(), "Ready", "status"), "True");
}
END_TEST

START_TEST(binding_adoption_of_an_id_the_broker_does_not_hold_fails_without_a_secret)
{
        class_retrievable();
        provisioned_instance();
        fake_kapi_put(&kube_sc_bindings, "{\"metadata\":{\"name\":\"creds\",\"namespace\":\"shop\","
                                         "\"annotations\":{\"" NAMES_ANNOTATION_ADOPT "\":\"true\"}},"
                                         "\"spec\":{\"instanceRef\":{\"name\":\"db\"},\"externalID\":\"gone-1\"}}");
        clock_now += 60;
        fake_osb_answer("fetch", 0, 404, "{}");
        reconcile_b();
        ck_assert_uint_eq(fake_osb_calls(), 2);     /* provision, fetch: no bind */
        ck_assert_str_eq(fake_osb_call(1), "fetch");
        ck_assert_str_eq(fake_osb_binding(1), "gone-1");
        json_t *b = binding();
        ck_assert_str_eq(cond(b, "Failed", "status"), "True");
        ck_assert_str_eq(cond(b, "Failed", "reason"), "ErrorAdoptingBinding");
        ck_assert_str_eq(cond(b, "Failed", "message"), "Cannot adopt binding gone-1: the broker does not hold it (HTTP 404)");
        ck_assert_str_eq(status_str(b, "unbindStatus"), "NotRequired");
        ck_assert_ptr_null(fake_kapi_obj(&kube_secrets, "shop", "creds"));
        /* failed until its spec changes */
        clock_now += 3600;
        reconcile_b();
        ck_assert_uint_eq(fake_osb_calls(), 2);
}
END_TEST

START_TEST(binding_waits_for_its_instance_to_be_ready_without_calling_the_broker)
{
        fake_kapi_put(&kube_sc_instances, "{\"metadata\":{\"name\":\"db\",\"namespace\":\"shop\"},"
                                          "\"spec\":{\"clusterServiceClassExternalName\":\"db\","
                                          "\"clusterServicePlanExternalName\":\"small\"},"
                                          "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\","
                                          "\"reason\":\"Provisioning\"}],\"asyncOpInProgress\":true}}");
        fake_kapi_put(&kube_sc_bindings, binding_obj);
        clock_now += 60;
        reconcile_b();
        ck_assert_uint_eq(fake_osb_calls(), 0);
        ck_assert_str_eq(cond(binding(), "Ready", "status"), "False");
        ck_assert_str_eq(cond(binding(), "Ready", "reason"), "ErrorInstanceNotReady");
        ck_assert_ptr_null(fake_kapi_obj(&kube_secrets, "shop", "creds"));
}
END_TEST

START_TEST(binding_bound_writes_the_credentials_into_its_secret)
{
        ready_instance_and_binding();
        fake_osb_answer("bind", 0, 201, "{\"credentials\":{\"username\":\"alice\",\"password\":\"s3cr\\u00e9t\",\"port\":5432}}");
        reconcile_b();
        ck_assert_str_eq(fake_osb_call(1), "bind");
        ck_assert_str_eq(body_str(1, "service_id"), "id-db");
        ck_assert_str_eq(body_str(1, "plan_id"), "id-small");

        json_t *b = binding();
        ck_assert_str_eq(cond(b, "Ready", "status"), "True");
        ck_assert_str_eq(cond(b, "Ready", "reason"), "InjectedBindResult");
        ck_assert(kobj_has_finalizer(b));
        json_t *sec = fake_kapi_obj(&kube_secrets, "shop", "creds");
        ck_assert_ptr_nonnull(sec);
        json_t *data = json_object_get(sec, "data");
        const char *want[][2] = {{"username", "alice"}, {"password", "s3cr\xc3\xa9t"}, {"port", "5432"}};
        for (size_t k = 0; k < OSB_ELEMENTSOF(want); k++) {
                const char *b64 = json_string_value(json_object_get(data, want[k][0]));
                ck_assert_msg(b64 != NULL, "no key %s in the Secret", want[k][0]);
                osb_autofree char *v = NULL;
                size_t n = 0;
                ck_assert_int_eq(osb_base64_decode(b64, strlen(b64), 0, &v, &n, NULL), 0);
                ck_assert_uint_eq(n, strlen(want[k][1]));
                ck_assert_mem_eq(v, want[k][1], n);
        }
        ck_assert_uint_eq(json_object_size(data), 3);
        /* the Secret belongs to the binding (deleted with it by the garbage collector) */
        json_t *owner = json_array_get(json_object_get(json_object_get(sec, "metadata"), "ownerReferences"), 0);
        ck_assert_str_eq(json_string_value(json_object_get(owner, "kind")), "ServiceBinding");
}
END_TEST

START_TEST(binding_broker_400_fails_for_good_without_a_secret)
{
        ready_instance_and_binding();
        fake_osb_answer("bind", 0, 400, "{\"description\":\"no more users\"}");
        reconcile_b();
        json_t *b = binding();
        ck_assert_str_eq(cond(b, "Ready", "reason"), "ServiceBindingReturnedFailure");
        ck_assert_str_eq(cond(b, "Failed", "status"), "True");
        ck_assert_ptr_null(fake_kapi_obj(&kube_secrets, "shop", "creds"));
        clock_now += 3600;
        reconcile_b();
        ck_assert_uint_eq(fake_osb_calls(), 2);      /* provision, bind: no second bind */
}
END_TEST

START_TEST(binding_broker_5xx_is_unbound_at_once_for_orphan_mitigation)
{
        ready_instance_and_binding();
        fake_osb_answer("bind", 0, 500, "{}");
        fake_osb_answer("unbind", 0, 200, "{}");
        reconcile_b();
        /* the broker may hold a binding we never learnt of */
        ck_assert_uint_eq(fake_osb_calls(), 3);
        ck_assert_str_eq(fake_osb_call(2), "unbind");
        ck_assert(fake_kapi_event("ServiceBindingNeedsOrphanMitigation"));
        json_t *b = binding();
        ck_assert_str_eq(cond(b, "Ready", "reason"), "OrphanMitigationSuccessful");
        ck_assert_str_eq(cond(b, "Failed", "status"), "True");
        ck_assert(!status_true(b, "orphanMitigationInProgress"));
        ck_assert_ptr_null(fake_kapi_obj(&kube_secrets, "shop", "creds"));
        /* failed until its spec changes */
        clock_now += 3600;
        reconcile_b();
        ck_assert_uint_eq(fake_osb_calls(), 3);
}
END_TEST

START_TEST(binding_deleted_is_unbound_its_secret_deleted_and_its_finalizer_removed)
{
        ready_instance_and_binding();
        fake_osb_answer("bind", 0, 201, "{\"credentials\":{\"k\":\"v\"}}");
        reconcile_b();
        ck_assert_ptr_nonnull(fake_kapi_obj(&kube_secrets, "shop", "creds"));

        fake_kapi_delete(&kube_sc_bindings, "shop", "creds");
        fake_osb_answer("unbind", 0, 200, "{}");
        reconcile_b();
        ck_assert_str_eq(fake_osb_call(2), "unbind");
        ck_assert_ptr_null(fake_kapi_obj(&kube_secrets, "shop", "creds"));
        ck_assert_ptr_null(binding());
}
END_TEST

START_TEST(binding_to_a_plan_that_is_not_bindable_fails_without_a_call)
{
        json_t *plan = fake_kapi_obj(&kube_sc_cluster_plans, NULL, "p-small");
        ck_assert_int_eq(json_object_set_new(json_object_get(plan, "spec"), "bindable", json_false()), 0);
        ready_instance_and_binding();
        reconcile_b();
        ck_assert_uint_eq(fake_osb_calls(), 1);      /* the provision only */
        ck_assert_str_eq(cond(binding(), "Ready", "reason"), "ErrorNonbindableServiceClass");
        ck_assert_str_eq(cond(binding(), "Failed", "status"), "True");
}
END_TEST

/* ---- ServiceBinding: credential rotation ---- */

static const char *rotating_binding_obj = "{\"metadata\":{\"name\":\"creds\",\"namespace\":\"shop\"},"
                                          "\"spec\":{\"instanceRef\":{\"name\":\"db\"},\"credentialsRotationPolicy\":"
                                          "{\"enabled\":true,\"rotationFrequency\":\"1h\",\"rotatedBindingTTL\":\"10m\"}}}";

static const json_t *rot_status(void)
{
        return json_object_get(json_object_get(binding(), "status"), "credentialsRotation");
}

static const char *secret_password(void)
{
        const char *b64 = json_string_value(json_object_get(json_object_get(fake_kapi_obj(&kube_secrets, "shop", "creds"),
                                                                            "data"), "password"));
        ck_assert_ptr_nonnull(b64);
        static char out[128];
        osb_autofree char *v = NULL;
        size_t n = 0;
        ck_assert_int_eq(osb_base64_decode(b64, strlen(b64), 0, &v, &n, NULL), 0);
        ck_assert_uint_lt(n, sizeof(out));
        memcpy(out, v, n);
        out[n] = 0;
        return out;
}

/* A bound binding with a rotation policy, its first binding id in @b0. */
static void bound_rotating_binding(char b0[64])
{
        provisioned_instance();
        fake_kapi_put(&kube_sc_bindings, rotating_binding_obj);
        clock_now += 60;
        fake_osb_answer("bind", 0, 201, "{\"credentials\":{\"password\":\"pw-0\"}}");
        reconcile_b();
        ck_assert_str_eq(cond(binding(), "Ready", "reason"), "InjectedBindResult");
        (void) snprintf(b0, 64, "%s", fake_osb_binding(1));
        ck_assert_str_eq(b0, json_string_value(json_object_get(json_object_get(binding(), "spec"), "externalID")));
}

START_TEST(rotation_pending_id_refused_409_after_a_spec_change_is_unbound_and_replaced)
{
        char b0[64], p[64], n[64];
        bound_rotating_binding(b0);
        /* the rotation is due; the broker makes the new binding but its answer is lost */
        clock_now += 3601;
        fake_osb_answer("bind", -ETIMEDOUT, 0, NULL);
        reconcile_b();
        ck_assert_str_eq(fake_osb_call(2), "bind");
        (void) snprintf(p, sizeof(p), "%s", fake_osb_binding(2));
        ck_assert_str_ne(p, b0);
        ck_assert_ptr_null(json_object_get(fake_osb_body(2), "parameters"));
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(rot_status(), "pending"), "externalID")), p);
        ck_assert_str_eq(cond(binding(), "CredRotationInProgress", "reason"), "CredentialsRotationFailed");

        /* the user changes the parameters while the rotation is pending: the pending id goes out
         * with the new body, which the broker refuses (it holds that id with the old one) */
        user_edit_spec(&kube_sc_bindings, "shop", "creds", "parameters", json_pack("{s:i}", "size", 2));
        clock_now += 10;
        fake_osb_answer("bind", 0, 409, "{\"description\":\"binding exists with other attributes\"}");
        reconcile_b();
        ck_assert_str_eq(fake_osb_call(3), "bind");
        ck_assert_str_eq(fake_osb_binding(3), p);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(fake_osb_body(3), "parameters"), "size")), 2);
        json_t *b = binding();
        ck_assert_str_eq(cond(b, "Ready", "status"), "True");
        ck_assert_str_eq(cond(b, "CredRotationInProgress", "reason"), "CredentialsRotationFailed");
        ck_assert_ptr_nonnull(strstr(cond(b, "CredRotationInProgress", "message"), "HTTP 409"));
        ck_assert_ptr_null(strstr(cond(b, "CredRotationInProgress", "message"), "other attributes"));
        ck_assert(json_is_true(json_object_get(json_object_get(rot_status(), "pending"), "conflict")));
        ck_assert_str_eq(secret_password(), "pw-0");

        /* next attempt: the refused id is unbound first, then a new id is bound with the new body */
        clock_now += 10;
        fake_osb_answer("unbind", 0, 200, "{}");
        fake_osb_answer("bind", 0, 201, "{\"credentials\":{\"password\":\"pw-2\"}}");
        reconcile_b();
        ck_assert_uint_eq(fake_osb_calls(), 6);
        ck_assert_uint_eq(fake_osb_unused(), 0);
        ck_assert_str_eq(fake_osb_call(4), "unbind");
        ck_assert_str_eq(fake_osb_binding(4), p);
        ck_assert_str_eq(fake_osb_call(5), "bind");
        (void) snprintf(n, sizeof(n), "%s", fake_osb_binding(5));
        ck_assert_str_ne(n, p);
        ck_assert_str_ne(n, b0);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(fake_osb_body(5), "parameters"), "size")), 2);
        b = binding();
        ck_assert_str_eq(cond(b, "Ready", "reason"), "InjectedBindResult");
        ck_assert_ptr_null(cond(b, "CredRotationInProgress", "status"));
        ck_assert_str_eq(secret_password(), "pw-2");
        const json_t *cr = rot_status();
        ck_assert_ptr_null(json_object_get(cr, "pending"));
        ck_assert_str_eq(json_string_value(json_object_get(cr, "currentExternalID")), n);
        ck_assert_uint_eq(json_array_size(json_object_get(cr, "retired")), 1);
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(cr, "retired"), 0), "externalID")), b0);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(b, "status"), "reconciledGeneration")),
                         json_integer_value(json_object_get(json_object_get(b, "metadata"), "generation")));
        /* the broker holds exactly b0 (until its TTL) and n: p was made once and unbound once */
        size_t binds_p = 0, unbinds_p = 0;
        for (size_t i = 0; i < fake_osb_calls(); i++) {
                if (osb_streq(fake_osb_binding(i), p))
                        *(osb_streq(fake_osb_call(i), "bind") ? &binds_p : &unbinds_p) += 1;
        }
        ck_assert_uint_eq(unbinds_p, 1);
        ck_assert_uint_eq(binds_p, 2);       /* the lost answer's bind and the refused one */

        /* nothing more to do until the schedule says so: no further rotation for the spec change */
        clock_now += 60;
        reconcile_b();
        ck_assert_uint_eq(fake_osb_calls(), 6);
}
END_TEST

START_TEST(rotation_async_bind_is_polled_then_fetched_then_the_secret_updated_in_place)
{
        char b0[64], p[64];
        bound_rotating_binding(b0);
        char uid[64];
        (void) snprintf(uid, sizeof(uid), "%s", json_string_value(json_object_get(json_object_get(
                        fake_kapi_obj(&kube_secrets, "shop", "creds"), "metadata"), "uid")));
        clock_now += 3601;
        fake_osb_answer("bind", 0, 202, "{\"operation\":\"op-7\"}");
        reconcile_b();
        ck_assert_str_eq(fake_osb_call(2), "bind");
        (void) snprintf(p, sizeof(p), "%s", fake_osb_binding(2));
        ck_assert_str_ne(p, b0);
        json_t *b = binding();
        ck_assert_str_eq(cond(b, "Ready", "reason"), "InjectedBindResult");
        ck_assert_str_eq(cond(b, "CredRotationInProgress", "reason"), "Rotating");
        ck_assert_str_eq(secret_password(), "pw-0");

        /* polled, not bound again */
        clock_now += 5;
        fake_osb_answer("last_operation", 0, 200, "{\"state\":\"in progress\"}");
        reconcile_b();
        ck_assert_str_eq(fake_osb_call(3), "last_operation");
        ck_assert_str_eq(fake_osb_binding(3), p);
        ck_assert_str_eq(fake_osb_operation(3), "op-7");
        ck_assert_str_eq(secret_password(), "pw-0");
        ck_assert_str_eq(cond(binding(), "CredRotationInProgress", "reason"), "Rotating");

        clock_now += 5;
        fake_osb_answer("last_operation", 0, 200, "{\"state\":\"succeeded\"}");
        fake_osb_answer("fetch", 0, 200, "{\"credentials\":{\"password\":\"pw-1\"}}");
        reconcile_b();
        ck_assert_uint_eq(fake_osb_calls(), 6);
        ck_assert_uint_eq(fake_osb_unused(), 0);
        ck_assert_str_eq(fake_osb_call(4), "last_operation");
        ck_assert_str_eq(fake_osb_call(5), "fetch");
        ck_assert_str_eq(fake_osb_binding(5), p);
        /* the same Secret object, the new bytes; the old ones kept in a Secret of their own */
        json_t *sec = fake_kapi_obj(&kube_secrets, "shop", "creds");
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(sec, "metadata"), "uid")), uid);
        ck_assert_str_eq(secret_password(), "pw-1");
        b = binding();
        ck_assert_str_eq(cond(b, "Ready", "reason"), "InjectedBindResult");
        ck_assert_ptr_null(cond(b, "CredRotationInProgress", "status"));
        const json_t *cr = rot_status();
        ck_assert_ptr_null(json_object_get(cr, "pending"));
        ck_assert_str_eq(json_string_value(json_object_get(cr, "currentExternalID")), p);
        const json_t *ret = json_array_get(json_object_get(cr, "retired"), 0);
        ck_assert_str_eq(json_string_value(json_object_get(ret, "externalID")), b0);
        json_t *old = fake_kapi_obj(&kube_secrets, "shop", json_string_value(json_object_get(ret, "secretName")));
        ck_assert_ptr_nonnull(old);
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(old, "data"), "password")), "cHctMA==");
        ck_assert(fake_kapi_event("CredentialsRotated"));
        clock_now += 60;
        reconcile_b();
        ck_assert_uint_eq(fake_osb_calls(), 6);
}
END_TEST

/* A spec change rotates; the broker binds the new id asynchronously: when it is done, the
 * binding's externalProperties describe the request it accepted (its parameters). */
START_TEST(rotation_async_bind_after_a_spec_change_records_the_new_parameters)
{
        char b0[64];
        bound_rotating_binding(b0);
        /* a first, scheduled rotation: from now on a spec change is carried out by a rotation */
        clock_now += 3601;
        fake_osb_answer("bind", 0, 201, "{\"credentials\":{\"password\":\"pw-1\"}}");
        reconcile_b();
        ck_assert_str_eq(secret_password(), "pw-1");
        const json_t *ext0 = json_object_get(json_object_get(binding(), "status"), "externalProperties");
        ck_assert_ptr_nonnull(ext0);
        ck_assert_ptr_null(json_object_get(ext0, "parameters"));

        user_edit_spec(&kube_sc_bindings, "shop", "creds", "parameters", json_pack("{s:i}", "size", 3));
        clock_now += 10;
        fake_osb_answer("bind", 0, 202, "{\"operation\":\"op-9\"}");
        reconcile_b();
        ck_assert_str_eq(fake_osb_call(3), "bind");
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(fake_osb_body(3), "parameters"), "size")), 3);
        ck_assert_str_eq(cond(binding(), "CredRotationInProgress", "reason"), "Rotating");
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(rot_status(), "pending"), "reason")),
                         "SpecChanged");
        json_t *st = json_object_get(binding(), "status");
        ck_assert_ptr_null(json_object_get(json_object_get(st, "externalProperties"), "parameters"));
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(json_object_get(st, "inProgressProperties"),
                                                                            "parameters"), "size")), 3);

        clock_now += 5;
        fake_osb_answer("last_operation", 0, 200, "{\"state\":\"succeeded\"}");
        fake_osb_answer("fetch", 0, 200, "{\"credentials\":{\"password\":\"pw-3\"}}");
        reconcile_b();
        ck_assert_uint_eq(fake_osb_unused(), 0);
        ck_assert_str_eq(secret_password(), "pw-3");
        st = json_object_get(binding(), "status");
        ck_assert_ptr_null(json_object_get(json_object_get(st, "credentialsRotation"), "pending"));
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(json_object_get(st, "externalProperties"),
                                                                            "parameters"), "size")), 3);
        ck_assert_ptr_nonnull(json_object_get(json_object_get(st, "externalProperties"), "parameterChecksum"));
        ck_assert_ptr_null(json_object_get(st, "inProgressProperties"));
}
END_TEST

START_TEST(rotation_conflicting_pending_id_stays_recorded_until_the_broker_unbinds_it)
{
        char b0[64], p[64];
        bound_rotating_binding(b0);
        clock_now += 3601;
        fake_osb_answer("bind", 0, 409, "{}");
        reconcile_b();
        (void) snprintf(p, sizeof(p), "%s", fake_osb_binding(2));
        /* the unbind fails: the id stays pending (marked), nothing is bound meanwhile */
        clock_now += 10;
        fake_osb_answer("unbind", 0, 500, "{}");
        reconcile_b();
        ck_assert_uint_eq(fake_osb_calls(), 4);
        ck_assert_str_eq(fake_osb_binding(3), p);
        const json_t *pending = json_object_get(rot_status(), "pending");
        ck_assert_str_eq(json_string_value(json_object_get(pending, "externalID")), p);
        ck_assert(json_is_true(json_object_get(pending, "conflict")));
        ck_assert_str_eq(cond(binding(), "CredRotationInProgress", "reason"), "CredentialsRotationFailed");
        ck_assert_ptr_nonnull(strstr(cond(binding(), "CredRotationInProgress", "message"), "HTTP 500"));
        ck_assert_str_eq(cond(binding(), "Ready", "status"), "True");
        /* the broker says it is gone (410): a new id is bound */
        clock_now += 60;
        fake_osb_answer("unbind", 0, 410, "{}");
        fake_osb_answer("bind", 0, 201, "{\"credentials\":{\"password\":\"pw-1\"}}");
        reconcile_b();
        ck_assert_uint_eq(fake_osb_calls(), 6);
        ck_assert_str_eq(fake_osb_call(4), "unbind");
        ck_assert_str_eq(fake_osb_binding(4), p);
        ck_assert_str_ne(fake_osb_binding(5), p);
        ck_assert_str_eq(json_string_value(json_object_get(rot_status(), "currentExternalID")), fake_osb_binding(5));
        ck_assert_str_eq(secret_password(), "pw-1");
}
END_TEST

START_TEST(rotation_async_bind_that_failed_is_sent_again_with_the_same_id)
{
        char b0[64], p[64];
        bound_rotating_binding(b0);
        clock_now += 3601;
        fake_osb_answer("bind", 0, 202, "{}");
        reconcile_b();
        (void) snprintf(p, sizeof(p), "%s", fake_osb_binding(2));
        clock_now += 5;
        fake_osb_answer("last_operation", 0, 200, "{\"state\":\"failed\",\"description\":\"quota-words\"}");
        reconcile_b();
        ck_assert_str_eq(fake_osb_binding(3), p);
        ck_assert_ptr_null(fake_osb_operation(3));
        json_t *b = binding();
        ck_assert_str_eq(cond(b, "Ready", "reason"), "InjectedBindResult");
        ck_assert_str_eq(cond(b, "CredRotationInProgress", "reason"), "CredentialsRotationFailed");
        ck_assert_ptr_null(strstr(cond(b, "CredRotationInProgress", "message"), "quota-words"));
        ck_assert_str_eq(secret_password(), "pw-0");
        clock_now += 60;
        fake_osb_answer("bind", 0, 201, "{\"credentials\":{\"password\":\"pw-1\"}}");
        reconcile_b();
        ck_assert_uint_eq(fake_osb_calls(), 5);
        ck_assert_str_eq(fake_osb_call(4), "bind");
        ck_assert_str_eq(fake_osb_binding(4), p);
        ck_assert_str_eq(secret_password(), "pw-1");
        ck_assert_ptr_null(json_object_get(rot_status(), "pending"));
}
END_TEST

/* ---- ClusterServiceBroker ---- */

static const char *catalog = "{\"services\":[{\"id\":\"id-db\",\"name\":\"db\",\"description\":\"a database\","
                             "\"bindable\":true,\"plans\":[{\"id\":\"id-small\",\"name\":\"small\",\"description\":\"s\"},"
                             "{\"id\":\"id-large\",\"name\":\"large\",\"description\":\"l\"}]}]}";

/* The class and plan objects of @res whose spec.externalName is @name. */
static json_t *offering_named(const struct kube_resource *res, const char *name)
{
        json_auto_t *all = fake_kapi_list(res);
        size_t i;
        json_t *o;
        json_array_foreach(all, i, o) {
                if (osb_streq(json_string_value(json_object_get(json_object_get(o, "spec"), "externalName")), name))
                        return fake_kapi_obj(res, NULL, json_string_value(json_object_get(json_object_get(o, "metadata"), "name")));
        }
        return NULL;
}

START_TEST(broker_without_our_finalizer_gets_it_before_anything_else)
{
        json_t *b = fake_kapi_obj(&kube_sc_cluster_brokers, NULL, "b1");
        ck_assert_int_eq(json_object_del(json_object_get(b, "metadata"), "finalizers"), 0);
        ck_assert_int_eq(reconcile_broker_key(), 0);
        ck_assert_uint_eq(fake_osb_calls(), 0);
        ck_assert(kobj_has_finalizer(fake_kapi_obj(&kube_sc_cluster_brokers, NULL, "b1")));
        ck_assert_ptr_null(condition_get(json_object_get(fake_kapi_obj(&kube_sc_cluster_brokers, NULL, "b1"), "status"), "Ready"));
}
END_TEST

START_TEST(broker_catalog_becomes_classes_and_plans_and_the_broker_is_ready)
{
        fake_osb_answer("catalog", 0, 200, catalog);
        ck_assert_int_eq(reconcile_broker_key(), 0);
        json_t *b = fake_kapi_obj(&kube_sc_cluster_brokers, NULL, "b1");
        ck_assert_str_eq(cond(b, "Ready", "status"), "True");
        ck_assert_str_eq(cond(b, "Ready", "reason"), "FetchedCatalog");
        ck_assert_ptr_nonnull(status_str(b, "lastCatalogRetrievalTime"));
        ck_assert(fake_kapi_event("FetchedCatalog"));
        /* the plan "large" is new; the class and "small" existed and are the broker's now */
        json_t *large = offering_named(&kube_sc_cluster_plans, "large");
        ck_assert_ptr_nonnull(large);
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(large, "spec"), "externalID")), "id-large");
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(large, "spec"), "clusterServiceBrokerName")), "b1");
        ck_assert_ptr_nonnull(offering_named(&kube_sc_cluster_classes, "db"));

        /* within relistDuration nothing is fetched again */
        clock_now += 60;
        ck_assert_int_eq(reconcile_broker_key(), 0);
        ck_assert_uint_eq(fake_osb_calls(), 1);
}
END_TEST

START_TEST(broker_catalog_fetch_failure_is_a_condition_and_a_retry)
{
        fake_osb_answer("catalog", -ECONNREFUSED, 0, NULL);
        ck_assert_int_lt(reconcile_broker_key(), 0);  /* the queue's back-off brings it back */
        json_t *b = fake_kapi_obj(&kube_sc_cluster_brokers, NULL, "b1");
        ck_assert_str_eq(cond(b, "Ready", "status"), "False");
        ck_assert_str_eq(cond(b, "Ready", "reason"), "ErrorFetchingCatalog");
        ck_assert(fake_kapi_event("ErrorFetchingCatalog"));
        ck_assert_ptr_null(condition_get(json_object_get(b, "status"), "Failed"));
}
END_TEST

START_TEST(broker_failing_past_the_retry_duration_stops_fetching)
{
        C.opts.retry_duration_ms = 3600 * 1000;
        fake_osb_answer("catalog", 0, 500, "{}");
        ck_assert_int_lt(reconcile_broker_key(), 0);
        clock_now += 7200;
        fake_osb_answer("catalog", 0, 500, "{}");
        ck_assert_int_eq(reconcile_broker_key(), 0);  /* terminal: no back-off retry */
        json_t *b = fake_kapi_obj(&kube_sc_cluster_brokers, NULL, "b1");
        ck_assert_str_eq(cond(b, "Failed", "status"), "True");
        ck_assert_str_eq(cond(b, "Failed", "reason"), "ErrorReconciliationRetryTimeout");
        /* until the spec changes, no more fetches */
        clock_now += 7200;
        ck_assert_int_eq(reconcile_broker_key(), 0);
        ck_assert_uint_eq(fake_osb_calls(), 2);
}
END_TEST

START_TEST(broker_plan_gone_from_the_catalog_is_marked_removed)
{
        fake_osb_answer("catalog", 0, 200, catalog);
        ck_assert_int_eq(reconcile_broker_key(), 0);
        /* the next catalog no longer has "small"; a relist is requested */
        user_edit_spec(&kube_sc_cluster_brokers, NULL, "b1", "relistRequests", json_integer(1));
        fake_osb_answer("catalog", 0, 200, "{\"services\":[{\"id\":\"id-db\",\"name\":\"db\",\"description\":\"a database\","
                                           "\"bindable\":true,\"plans\":[{\"id\":\"id-large\",\"name\":\"large\","
                                           "\"description\":\"l\"}]}]}");
        ck_assert_int_eq(reconcile_broker_key(), 0);
        ck_assert_uint_eq(fake_osb_calls(), 2);
        json_t *small = offering_named(&kube_sc_cluster_plans, "small");
        ck_assert_ptr_nonnull(small);   /* instances may still use it */
        ck_assert(status_true(small, "removedFromBrokerCatalog"));
        ck_assert(!status_true(offering_named(&kube_sc_cluster_plans, "large"), "removedFromBrokerCatalog"));
}
END_TEST

START_TEST(broker_deleted_takes_its_classes_and_plans_and_loses_its_finalizer)
{
        fake_osb_answer("catalog", 0, 200, catalog);
        ck_assert_int_eq(reconcile_broker_key(), 0);
        ck_assert_ptr_nonnull(offering_named(&kube_sc_cluster_plans, "large"));
        fake_kapi_delete(&kube_sc_cluster_brokers, NULL, "b1");
        ck_assert_int_eq(reconcile_broker_key(), 0);
        ck_assert_ptr_null(fake_kapi_obj(&kube_sc_cluster_brokers, NULL, "b1"));
        ck_assert_ptr_null(offering_named(&kube_sc_cluster_plans, "large"));
        ck_assert_ptr_null(offering_named(&kube_sc_cluster_classes, "db"));
        ck_assert_uint_eq(fake_osb_calls(), 1);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("catalog-controller reconcilers");
        TCase *tc = tcase_create("instance");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, instance_provisioned_is_ready_with_its_status_and_an_event);
        tcase_add_test(tc, instance_broker_400_fails_for_good_and_is_not_retried);
        tcase_add_test(tc, instance_broker_5xx_is_orphan_mitigated_then_provisioned_again_after_the_back_off);
        tcase_add_test(tc, instance_unreachable_broker_is_retried_with_a_doubling_back_off);
        tcase_add_test(tc, instance_provision_timeout_deprovisions_at_once);
        tcase_add_test(tc, instance_async_provision_polls_last_operation_until_it_succeeds);
        tcase_add_test(tc, instance_deleted_is_deprovisioned_then_its_finalizer_removed);
        tcase_add_test(tc, instance_deprovision_refused_keeps_the_finalizer_and_retries);
        tcase_add_test(tc, instance_of_an_unknown_plan_calls_nobody);
        suite_add_tcase(s, tc);
        tc = tcase_create("binding");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, binding_waits_for_its_instance_to_be_ready_without_calling_the_broker);
        tcase_add_test(tc, binding_bound_writes_the_credentials_into_its_secret);
        tcase_add_test(tc, binding_broker_400_fails_for_good_without_a_secret);
        tcase_add_test(tc, binding_broker_5xx_is_unbound_at_once_for_orphan_mitigation);
        tcase_add_test(tc, binding_deleted_is_unbound_its_secret_deleted_and_its_finalizer_removed);
        tcase_add_test(tc, binding_to_a_plan_that_is_not_bindable_fails_without_a_call);
        tcase_add_test(tc, instance_adoption_retries_a_broker_5xx_then_adopts_without_a_provision);
        tcase_add_test(tc, binding_adoption_of_an_id_the_broker_does_not_hold_fails_without_a_secret);
        tcase_add_test(tc, rotation_pending_id_refused_409_after_a_spec_change_is_unbound_and_replaced);
        tcase_add_test(tc, rotation_async_bind_is_polled_then_fetched_then_the_secret_updated_in_place);
        tcase_add_test(tc, rotation_async_bind_after_a_spec_change_records_the_new_parameters);
        tcase_add_test(tc, rotation_conflicting_pending_id_stays_recorded_until_the_broker_unbinds_it);
        tcase_add_test(tc, rotation_async_bind_that_failed_is_sent_again_with_the_same_id);
        suite_add_tcase(s, tc);
        tc = tcase_create("broker");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, broker_without_our_finalizer_gets_it_before_anything_else);
        tcase_add_test(tc, broker_catalog_becomes_classes_and_plans_and_the_broker_is_ready);
        tcase_add_test(tc, broker_catalog_fetch_failure_is_a_condition_and_a_retry);
        tcase_add_test(tc, broker_failing_past_the_retry_duration_stops_fetching);
        tcase_add_test(tc, broker_plan_gone_from_the_catalog_is_marked_removed);
        tcase_add_test(tc, broker_deleted_takes_its_classes_and_plans_and_loses_its_finalizer);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(suite)
