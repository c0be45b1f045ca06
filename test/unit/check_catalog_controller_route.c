/* test/unit/check_catalog_controller_route.c: which informer event queues which keys
 * (catalog-controller/route.c). Detached informers carry the route handlers over a struct ctl
 * whose queue only records the keys it is given; each test applies watch events and checks the
 * exact set of keys queued. */
#include "common/osb_compat.h"
#include "common/osb_parse.h"
#include <check.h>
#include "common/osb_mem.h"
#include "kube/watch.h"
#include "catalog-controller/cached.h"
#include "catalog-controller/ctl.h"
#include "catalog-controller/informer.h"
#include "catalog-controller/offering.h"
#include "catalog-controller/reconcile_broker.h"
#include "catalog-controller/route.h"
#include "test/lib/check_main.h"


/* The keys the queue's worker was given, as a sorted, comma-separated set. */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static char seen[32][96];
static size_t nseen;

static int record(void *userdata, const char *key)
{
        (void) userdata;
        pthread_mutex_lock(&seen_lock);
        bool dup = false;
        for (size_t i = 0; i < nseen && !dup; i++)
                dup = strcmp(seen[i], key) == 0;
        if (!dup && nseen < OSB_ELEMENTSOF(seen))
                (void) snprintf(seen[nseen++], sizeof(seen[0]), "%s", key);
        pthread_mutex_unlock(&seen_lock);
        return 0;
}

static int cmp(const void *a, const void *b)
{
        return strcmp(a, b);
}

struct world {
        struct ctl c;
        struct informer *brokers, *classes, *nclasses, *instances, *bindings, *secrets;
};
static struct world w;

/* What was queued since the last call, then forgets it. */
static const char *queued(void)
{
        static char out[32 * 96];
        ck_assert_int_eq(queue_wait_idle(w.c.queue, 10000), 0);
        pthread_mutex_lock(&seen_lock);
        qsort(seen, nseen, sizeof(seen[0]), cmp);
        size_t len = 0;
        out[0] = '\0';
        for (size_t i = 0; i < nseen; i++)
                len += (size_t) snprintf(out + len, sizeof(out) - len, "%s%s", i ? "," : "", seen[i]);
        nseen = 0;
        pthread_mutex_unlock(&seen_lock);
        return out;
}

static void apply(struct informer *inf, int type, const char *text)
{
        json_error_t e;
        json_t *obj = json_loads(text, 0, &e);
        ck_assert_msg(obj != NULL, "%s: %s", text, e.text);
        ck_assert_int_eq(informer_apply(inf, type, obj), 0);
        json_decref(obj);
}

/* An instance @ns/@name at resourceVersion/generation @gen, reading Secret @secret through
 * parametersFrom (NULL: none), with condition Ready @ready / @reason (NULL: no conditions). */
static void instance(int type, const char *ns, const char *name, int gen, const char *secret, const char *ready,
                     const char *reason)
{
        char text[1024];
        char pf[160] = "", st[200] = "";
        if (secret)
                (void) snprintf(pf, sizeof(pf), ",\"parametersFrom\":[{\"secretKeyRef\":{\"name\":\"%s\",\"key\":\"k\"}}]",
                                secret);
        if (ready)
                (void) snprintf(st, sizeof(st), ",\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\","
                                "\"reason\":\"%s\"}]}", ready, reason);
        (void) snprintf(text, sizeof(text), "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\",\"uid\":\"u-%s\","
                        "\"resourceVersion\":\"%d\",\"generation\":%d},\"spec\":{\"clusterServiceClassExternalName\":\"db\""
                        "%s}%s}", name, ns, name, gen, gen, pf, st);
        apply(w.instances, type, text);
}

static void binding(int type, const char *ns, const char *name, const char *instance_name, bool deleting)
{
        char text[512];
        (void) snprintf(text, sizeof(text), "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\",\"uid\":\"u-%s\","
                        "\"resourceVersion\":\"1\",\"generation\":1%s},\"spec\":{\"instanceRef\":{\"name\":\"%s\"}}}",
                        name, ns, name, deleting ? ",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"" : "", instance_name);
        apply(w.bindings, type, text);
}

static void secret(int type, const char *ns, const char *name, int rv)
{
        char text[256];
        (void) snprintf(text, sizeof(text), "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\",\"resourceVersion\":\"%d\"},"
                        "\"data\":{\"k\":\"e30=\"}}", name, ns, rv);
        apply(w.secrets, type, text);
}

/* A class @name of broker @broker, cluster-scoped (@ns NULL) or in namespace @ns. */
static void klass(int type, const char *ns, const char *broker, int rv, int gen, const char *external_name)
{
        char text[512], nsf[64] = "";
        if (ns)
                (void) snprintf(nsf, sizeof(nsf), "\"namespace\":\"%s\",", ns);
        (void) snprintf(text, sizeof(text), "{\"metadata\":{\"name\":\"c-db\",%s\"resourceVersion\":\"%d\",\"generation\":%d},"
                        "\"spec\":{\"%s\":\"%s\",\"externalID\":\"id-db\",\"externalName\":\"%s\"}}", nsf, rv, gen,
                        ns ? "serviceBrokerName" : "clusterServiceBrokerName", broker, external_name);
        apply(ns ? w.nclasses : w.classes, type, text);
}

static void cluster_broker(int type, int rv)
{
        char text[256];
        (void) snprintf(text, sizeof(text), "{\"metadata\":{\"name\":\"b1\",\"resourceVersion\":\"%d\",\"generation\":1},"
                        "\"spec\":{\"url\":\"http://x\"}}", rv);
        apply(w.brokers, type, text);
}

static void setup(void)
{
        ctl_init(&w.c);
        struct queue_options qo = {.workers = 1};
        ck_assert_int_eq(queue_new(&qo, record, NULL, &w.c.queue), 0);
        w.brokers = informer_new_detached(&broker_kind_cluster, route_cluster_broker, &w.c);
        w.classes = informer_new_detached(&offering_kind_cluster_classes, route_cluster_offering, &w.c);
        w.nclasses = informer_new_detached(&offering_kind_classes, route_offering, &w.c);
        w.instances = informer_new_detached(&cached_kind_instances, route_instance, &w.c);
        w.bindings = informer_new_detached(&cached_kind_bindings, route_binding, &w.c);
        w.secrets = informer_new_detached(&cached_kind_secrets, route_secret, &w.c);
        w.c.brokers[0] = w.brokers;
        w.c.classes[0] = w.classes;
        w.c.classes[1] = w.nclasses;
        w.c.instances = w.instances;
        w.c.bindings = w.bindings;
        w.c.secrets = w.secrets;
        atomic_store(&w.c.started, true);
        /* instances: i1 and i2 in a (i1 reads Secret s), i3 in b (reads a Secret s of b) */
        instance(KUBE_EVENT_ADDED, "a", "i1", 1, "s", NULL, NULL);
        instance(KUBE_EVENT_ADDED, "a", "i2", 1, "other", NULL, NULL);
        instance(KUBE_EVENT_ADDED, "b", "i3", 1, "s", NULL, NULL);
        /* bindings: b1 of a/i1, b2 of a/i2, b3 of b/i1 (another namespace's i1) */
        binding(KUBE_EVENT_ADDED, "a", "b1", "i1", false);
        binding(KUBE_EVENT_ADDED, "a", "b2", "i2", false);
        binding(KUBE_EVENT_ADDED, "b", "b3", "i1", false);
        ck_assert_str_eq(queued(), "ServiceBinding/a/b1,ServiceBinding/a/b2,ServiceBinding/b/b3,"
                         "ServiceInstance/a/i1,ServiceInstance/a/i2,ServiceInstance/b/i3");
}

static void teardown(void)
{
        w.c.queue = queue_free(w.c.queue);
        informer_free(w.brokers);
        informer_free(w.classes);
        informer_free(w.nclasses);
        informer_free(w.instances);
        informer_free(w.bindings);
        informer_free(w.secrets);
        ctl_release(&w.c);
        nseen = 0;
}

START_TEST(a_secret_wakes_exactly_the_instances_that_read_it)
{
        secret(KUBE_EVENT_ADDED, "a", "s", 1);
        ck_assert_str_eq(queued(), "ServiceInstance/a/i1");
        secret(KUBE_EVENT_MODIFIED, "a", "s", 2);
        ck_assert_str_eq(queued(), "ServiceInstance/a/i1");
        secret(KUBE_EVENT_ADDED, "b", "s", 1);
        ck_assert_str_eq(queued(), "ServiceInstance/b/i3");
        secret(KUBE_EVENT_ADDED, "a", "unread", 1);
        ck_assert_str_eq(queued(), "");
        /* a resync changes nothing: nobody is woken */
        informer_resync(w.secrets);
        ck_assert_str_eq(queued(), "");
        secret(KUBE_EVENT_DELETED, "a", "s", 3);
        ck_assert_str_eq(queued(), "ServiceInstance/a/i1");
}
END_TEST

START_TEST(nothing_is_woken_before_the_informers_are_published)
{
        atomic_store(&w.c.started, false);
        secret(KUBE_EVENT_ADDED, "a", "s", 1);
        ck_assert_str_eq(queued(), "");
        /* an instance still queues itself, but not its bindings */
        instance(KUBE_EVENT_MODIFIED, "a", "i1", 2, "s", "True", "ProvisionedSuccessfully");
        ck_assert_str_eq(queued(), "ServiceInstance/a/i1");
}
END_TEST

START_TEST(an_instance_becoming_ready_queues_its_bindings)
{
        instance(KUBE_EVENT_MODIFIED, "a", "i1", 2, "s", "False", "Provisioning");
        ck_assert_str_eq(queued(), "ServiceInstance/a/i1");
        instance(KUBE_EVENT_MODIFIED, "a", "i1", 2, "s", "True", "ProvisionedSuccessfully");
        ck_assert_str_eq(queued(), "ServiceBinding/a/b1,ServiceInstance/a/i1");
        /* still Ready: the bindings are not woken again */
        instance(KUBE_EVENT_MODIFIED, "a", "i1", 3, "s", "True", "ProvisionedSuccessfully");
        ck_assert_str_eq(queued(), "ServiceInstance/a/i1");
        /* gone: its bindings learn it */
        instance(KUBE_EVENT_DELETED, "a", "i1", 3, "s", "True", "ProvisionedSuccessfully");
        ck_assert_str_eq(queued(), "ServiceBinding/a/b1");
}
END_TEST

START_TEST(an_instance_being_deleted_queues_its_bindings)
{
        apply(w.instances, KUBE_EVENT_MODIFIED, "{\"metadata\":{\"name\":\"i2\",\"namespace\":\"a\",\"uid\":\"u-i2\","
              "\"resourceVersion\":\"5\",\"generation\":1,\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"},\"spec\":{}}");
        ck_assert_str_eq(queued(), "ServiceBinding/a/b2,ServiceInstance/a/i2");
}
END_TEST

START_TEST(a_binding_going_away_queues_its_instance)
{
        binding(KUBE_EVENT_MODIFIED, "a", "b2", "i2", true);
        ck_assert_str_eq(queued(), "ServiceBinding/a/b2,ServiceInstance/a/i2");
        binding(KUBE_EVENT_DELETED, "b", "b3", "i1", false);
        ck_assert_str_eq(queued(), "ServiceInstance/b/i1");
}
END_TEST

/* servicebinding.io: the instance's status.binding.name follows its bindings' readiness */
START_TEST(a_binding_becoming_ready_or_not_queues_its_instance)
{
        apply(w.bindings, KUBE_EVENT_MODIFIED, "{\"metadata\":{\"name\":\"b1\",\"namespace\":\"a\",\"uid\":\"u-b1\","
              "\"resourceVersion\":\"2\",\"generation\":1},\"spec\":{\"instanceRef\":{\"name\":\"i1\"}},"
              "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"InjectedBindResult\"}]}}");
        ck_assert_str_eq(queued(), "ServiceBinding/a/b1,ServiceInstance/a/i1");
        /* not Ready any more */
        binding(KUBE_EVENT_MODIFIED, "a", "b1", "i1", false);
        ck_assert_str_eq(queued(), "ServiceBinding/a/b1,ServiceInstance/a/i1");
}
END_TEST

/* the instance's annotation naming its binding is a change the instance reconciler acts on */
START_TEST(the_servicebinding_annotation_is_relevant)
{
        apply(w.instances, KUBE_EVENT_MODIFIED, "{\"metadata\":{\"name\":\"i2\",\"namespace\":\"a\",\"uid\":\"u-i2\","
              "\"resourceVersion\":\"7\",\"generation\":1,\"annotations\":{\"bindery.dev/servicebinding\":\"b2\"}},"
              "\"spec\":{\"parametersFrom\":[{\"secretKeyRef\":{\"name\":\"other\",\"key\":\"k\"}}]}}");
        ck_assert_str_eq(queued(), "ServiceInstance/a/i2");
}
END_TEST

START_TEST(brokers_and_offerings_wake_the_instances_waiting_for_them)
{
        instance(KUBE_EVENT_MODIFIED, "a", "i2", 2, "other", "False", "ReferencesNonexistentServiceClass");
        ck_assert_str_eq(queued(), "ServiceInstance/a/i2");
        cluster_broker(KUBE_EVENT_ADDED, 1);
        ck_assert_str_eq(queued(), "ClusterServiceBroker/b1,ServiceInstance/a/i2");
        /* a resync queues the broker alone */
        informer_resync(w.brokers);
        ck_assert_str_eq(queued(), "ClusterServiceBroker/b1");
        /* a new class wakes the waiting instances; a class changed by someone else also its broker */
        klass(KUBE_EVENT_ADDED, NULL, "b1", 1, 1, "db");
        ck_assert_str_eq(queued(), "ServiceInstance/a/i2");
        klass(KUBE_EVENT_MODIFIED, NULL, "b1", 2, 2, "db2");
        ck_assert_str_eq(queued(), "ClusterServiceBroker/b1,ServiceInstance/a/i2");
        /* a namespaced class names its broker within its namespace */
        klass(KUBE_EVENT_ADDED, "shop", "nb", 1, 1, "db");
        ck_assert_str_eq(queued(), "ServiceInstance/a/i2");
        klass(KUBE_EVENT_DELETED, "shop", "nb", 2, 1, "db");
        ck_assert_str_eq(queued(), "ServiceBroker/shop/nb,ServiceInstance/a/i2");
        /* once resolved, it waits no more */
        instance(KUBE_EVENT_MODIFIED, "a", "i2", 3, "other", "True", "ProvisionedSuccessfully");
        ck_assert_str_eq(queued(), "ServiceBinding/a/b2,ServiceInstance/a/i2");
        informer_resync(w.brokers);
        ck_assert_str_eq(queued(), "ClusterServiceBroker/b1");
        cluster_broker(KUBE_EVENT_DELETED, 2);
        ck_assert_str_eq(queued(), "ClusterServiceBroker/b1");
}
END_TEST

/* A binding naming another namespace's instance (spec.instanceRef.namespace) is woken by that
 * instance, and wakes it when it goes. */
START_TEST(a_binding_of_another_namespace_is_routed_by_its_instance)
{
        apply(w.bindings, KUBE_EVENT_ADDED, "{\"metadata\":{\"name\":\"x1\",\"namespace\":\"c\",\"uid\":\"u-x1\","
              "\"resourceVersion\":\"1\",\"generation\":1},\"spec\":{\"instanceRef\":{\"name\":\"i1\",\"namespace\":\"a\"}}}");
        ck_assert_str_eq(queued(), "ServiceBinding/c/x1");
        instance(KUBE_EVENT_MODIFIED, "a", "i1", 2, "s", "True", "ProvisionedSuccessfully");
        ck_assert_str_eq(queued(), "ServiceBinding/a/b1,ServiceBinding/c/x1,ServiceInstance/a/i1");
        apply(w.bindings, KUBE_EVENT_DELETED, "{\"metadata\":{\"name\":\"x1\",\"namespace\":\"c\",\"uid\":\"u-x1\","
              "\"resourceVersion\":\"2\",\"generation\":1},\"spec\":{\"instanceRef\":{\"name\":\"i1\",\"namespace\":\"a\"}}}");
        ck_assert_str_eq(queued(), "ServiceInstance/a/i1");
}
END_TEST

START_TEST(a_binding_moved_to_another_instance_is_woken_by_that_one)
{
        /* b1: from a/i1 to a/i2, at the same generation (not relevant: nothing queued), yet the
         * cache and its index follow */
        binding(KUBE_EVENT_MODIFIED, "a", "b1", "i2", false);
        ck_assert_str_eq(queued(), "");
        instance(KUBE_EVENT_MODIFIED, "a", "i1", 2, "s", "True", "ProvisionedSuccessfully");
        ck_assert_str_eq(queued(), "ServiceInstance/a/i1");
        instance(KUBE_EVENT_MODIFIED, "a", "i2", 2, "other", "True", "ProvisionedSuccessfully");
        ck_assert_str_eq(queued(), "ServiceBinding/a/b1,ServiceBinding/a/b2,ServiceInstance/a/i2");
        /* a deleted binding is woken no more */
        binding(KUBE_EVENT_DELETED, "a", "b2", "i2", false);
        ck_assert_str_eq(queued(), "ServiceInstance/a/i2");
        instance(KUBE_EVENT_DELETED, "a", "i2", 2, "other", "True", "ProvisionedSuccessfully");
        ck_assert_str_eq(queued(), "ServiceBinding/a/b1");
}
END_TEST

START_TEST(a_secret_wakes_only_the_current_readers_among_many)
{
        /* 2,000 more instances in a, one in ten reading Secret "many" */
        char name[32];
        for (int i = 0; i < 2000; i++) {
                (void) snprintf(name, sizeof(name), "x%04d", i);
                instance(KUBE_EVENT_ADDED, "a", name, 1, i % 10 ? "unrelated" : (i == 0 ? "one" : "many"), NULL, NULL);
        }
        (void) queued();
        secret(KUBE_EVENT_ADDED, "a", "one", 1);
        ck_assert_str_eq(queued(), "ServiceInstance/a/x0000");
        /* x0000 reads s now, i1 stops reading s (a new spec), i3 (namespace b) is deleted */
        instance(KUBE_EVENT_MODIFIED, "a", "x0000", 2, "s", NULL, NULL);
        instance(KUBE_EVENT_MODIFIED, "a", "i1", 2, "unrelated", NULL, NULL);
        instance(KUBE_EVENT_DELETED, "b", "i3", 2, "s", NULL, NULL);
        (void) queued();
        secret(KUBE_EVENT_MODIFIED, "a", "s", 2);
        ck_assert_str_eq(queued(), "ServiceInstance/a/x0000");
        secret(KUBE_EVENT_MODIFIED, "b", "s", 2);
        ck_assert_str_eq(queued(), "");
        secret(KUBE_EVENT_ADDED, "a", "one", 3);
        ck_assert_str_eq(queued(), "");
        /* the readers of "many": 199 instances (more than this test's record keeps: counted) */
        secret(KUBE_EVENT_ADDED, "a", "many", 1);
        ck_assert_int_eq(queue_wait_idle(w.c.queue, 10000), 0);
        pthread_mutex_lock(&seen_lock);
        size_t n = nseen;
        bool all_readers = true;
        for (size_t i = 0; i < nseen; i++) {
                int64_t k = -1;
                all_readers = all_readers && osb_starts_with(seen[i], "ServiceInstance/a/x") &&
                              osb_parse_int64(seen[i] + strlen("ServiceInstance/a/x"), 0, 9999, &k) == 0 &&
                              k % 10 == 0 && k > 0;
        }
        nseen = 0;
        pthread_mutex_unlock(&seen_lock);
        ck_assert_uint_eq(n, OSB_ELEMENTSOF(seen));    /* the record is full: more than 32 queued */
        ck_assert(all_readers);
}
END_TEST

static Suite *route_suite(void)
{
        Suite *s = suite_create("catalog_controller_route");
        TCase *tc = tcase_create("route");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, a_secret_wakes_exactly_the_instances_that_read_it);
        tcase_add_test(tc, nothing_is_woken_before_the_informers_are_published);
        tcase_add_test(tc, an_instance_becoming_ready_queues_its_bindings);
        tcase_add_test(tc, an_instance_being_deleted_queues_its_bindings);
        tcase_add_test(tc, a_binding_going_away_queues_its_instance);
        tcase_add_test(tc, a_binding_becoming_ready_or_not_queues_its_instance);
        tcase_add_test(tc, the_servicebinding_annotation_is_relevant);
        tcase_add_test(tc, brokers_and_offerings_wake_the_instances_waiting_for_them);
        tcase_add_test(tc, a_binding_of_another_namespace_is_routed_by_its_instance);
        tcase_add_test(tc, a_binding_moved_to_another_instance_is_woken_by_that_one);
        tcase_add_test(tc, a_secret_wakes_only_the_current_readers_among_many);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(route_suite)
