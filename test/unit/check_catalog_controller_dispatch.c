/* test/unit/check_catalog_controller_dispatch.c: what the workers do with a key while main.c is
 * still starting the informers. The informers' threads call the handlers, which queue broker
 * keys, as soon as they have listed, before main.c has stored the later informers, or even the
 * informer whose thread is calling (informer_start() sets *ret after starting its threads). A
 * worker given such a key used to reconcile the broker at once and read the NULL informer
 * pointer: the SIGSEGV of a standby right after "leadership acquired", and of a controller
 * restarting next to an existing broker. Keys must wait for ctl.started. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_mem.h"
#include "kube/watch.h"
#include "catalog-controller/dispatch.h"
#include "catalog-controller/informer.h"
#include "catalog-controller/offering.h"
#include "catalog-controller/reconcile_broker.h"
#include "catalog-controller/cached.h"
#include "test/lib/check_main.h"


/* Brokers being deleted without our finalizer: reconciling one writes nothing (no API server
 * here), it only reads the caches. */
static const char *cluster_broker = "{\"metadata\":{\"name\":\"b1\",\"resourceVersion\":\"1\",\"generation\":1,"
                                    "\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"},\"spec\":{\"url\":\"http://x\"}}";
static const char *namespaced_broker = "{\"metadata\":{\"name\":\"nb\",\"namespace\":\"shop\",\"resourceVersion\":\"1\","
                                       "\"generation\":1,\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"},"
                                       "\"spec\":{\"url\":\"http://z\"}}";
static const char *class_v1 = "{\"metadata\":{\"name\":\"c-db\",\"resourceVersion\":\"1\",\"generation\":1},"
                              "\"spec\":{\"clusterServiceBrokerName\":\"b1\",\"externalID\":\"id-db\",\"externalName\":\"db\"}}";
static const char *class_v2 = "{\"metadata\":{\"name\":\"c-db\",\"resourceVersion\":\"2\",\"generation\":2},"
                              "\"spec\":{\"clusterServiceBrokerName\":\"b1\",\"externalID\":\"id-db\",\"externalName\":\"db2\"}}";

static json_t *load(const char *text)
{
        json_error_t e;
        json_t *j = json_loads(text, 0, &e);
        ck_assert_msg(j != NULL, "%s: %s", text, e.text);
        return j;
}

static void apply(struct informer *inf, int type, const char *text)
{
        json_t *obj = load(text);
        ck_assert_int_eq(informer_apply(inf, type, obj), 0);
        json_decref(obj);
}

/* An informer that has listed (synced), empty. */
static struct informer *listed(const struct informer_kind *kind, informer_handler handler, void *userdata)
{
        struct informer *inf = informer_new_detached(kind, handler, userdata);
        ck_assert_ptr_nonnull(inf);
        json_t *none = json_array();
        ck_assert_int_eq(informer_replace(inf, none), 0);
        json_decref(none);
        return inf;
}

static int work(void *userdata, const char *key)
{
        return dispatch_key(userdata, key);
}

/* What main.c's on_broker and on_offering do: queue the broker's key. */
struct enqueuer {
        struct ctl *c;
        const char *prefix;
};

static void queue_broker(void *userdata, enum informer_event ev, const struct informer_kmeta *old, const struct informer_kmeta *new)
{
        const struct enqueuer *q = userdata;
        const struct informer_kmeta *m = new ? new : old;
        const struct offering *o = (const struct offering *) m;
        bool offering = strcmp(q->prefix, CTL_KEY_CLUSTER_BROKER) == 0 && strcmp(m->key, "c-db") == 0;
        if (offering && ev == INFORMER_ADD)
                return;
        char *key = osb_asprintf("%s%s", q->prefix, offering ? o->broker : m->key);
        ck_assert_ptr_nonnull(key);
        ck_assert_int_eq(queue_add(q->c->queue, key), 0);
        osb_free(key);
}

/* Every informer main.c starts, not yet stored in a struct ctl. */
struct startup {
        struct ctl c;
        struct enqueuer cluster, namespaced;
        struct informer *brokers[2], *classes[2], *plans[2], *instances, *bindings, *secrets;
};

static void startup_init(struct startup *s, unsigned workers)
{
        ctl_init(&s->c);
        struct queue_options qo = {.workers = workers};
        ck_assert_int_eq(queue_new(&qo, work, &s->c, &s->c.queue), 0);
        s->cluster = (struct enqueuer){&s->c, CTL_KEY_CLUSTER_BROKER};
        s->namespaced = (struct enqueuer){&s->c, CTL_KEY_BROKER};
        s->classes[0] = listed(&offering_kind_cluster_classes, queue_broker, &s->cluster);
        s->plans[0] = listed(&offering_kind_cluster_plans, NULL, NULL);
        s->brokers[0] = listed(&broker_kind_cluster, queue_broker, &s->cluster);
        s->classes[1] = listed(&offering_kind_classes, NULL, NULL);
        s->plans[1] = listed(&offering_kind_plans, NULL, NULL);
        s->brokers[1] = listed(&broker_kind_namespaced, queue_broker, &s->namespaced);
        s->secrets = listed(&cached_kind_secrets, NULL, NULL);
        s->bindings = listed(&cached_kind_bindings, NULL, NULL);
        s->instances = listed(&cached_kind_instances, NULL, NULL);
}

/* main.c's order: classes and plans, brokers, Secrets, bindings, instances, then started. */
static void startup_publish(struct startup *s)
{
        for (int i = 0; i < 2; i++) {
                s->c.classes[i] = s->classes[i];
                s->c.plans[i] = s->plans[i];
        }
        for (int i = 0; i < 2; i++)
                s->c.brokers[i] = s->brokers[i];
        s->c.secrets = s->secrets;
        s->c.bindings = s->bindings;
        s->c.instances = s->instances;
        atomic_store(&s->c.started, true);
}

static void startup_release(struct startup *s)
{
        s->c.queue = queue_free(s->c.queue);
        for (int i = 0; i < 2; i++) {
                informer_free(s->brokers[i]);
                informer_free(s->classes[i]);
                informer_free(s->plans[i]);
        }
        informer_free(s->instances);
        informer_free(s->bindings);
        informer_free(s->secrets);
        ctl_release(&s->c);
}

/* What the watch threads do once they have listed: events reach the handlers. */
static void *watch_thread(void *arg)
{
        struct startup *s = arg;
        apply(s->classes[0], KUBE_EVENT_ADDED, class_v1);
        apply(s->brokers[0], KUBE_EVENT_ADDED, cluster_broker);
        apply(s->brokers[1], KUBE_EVENT_ADDED, namespaced_broker);
        /* someone edits a class: its broker puts it right */
        apply(s->classes[0], KUBE_EVENT_MODIFIED, class_v2);
        return NULL;
}

/* A queue whose worker only records the keys it is given. */
struct sink {
        pthread_mutex_t lock;
        char seen[8][64];
        size_t n;
};

static int sink_fn(void *userdata, const char *key)
{
        struct sink *k = userdata;
        pthread_mutex_lock(&k->lock);
        if (k->n < OSB_ELEMENTSOF(k->seen))
                (void) snprintf(k->seen[k->n++], sizeof(k->seen[0]), "%s", key);
        pthread_mutex_unlock(&k->lock);
        return 0;
}

static bool sink_has(struct sink *k, const char *key)
{
        bool hit = false;
        pthread_mutex_lock(&k->lock);
        for (size_t i = 0; i < k->n && !hit; i++)
                hit = strcmp(k->seen[i], key) == 0;
        pthread_mutex_unlock(&k->lock);
        return hit;
}

/* Each key comes back to the worker (after DISPATCH_WAIT_MS; 10 s at most, on a loaded machine). */
static void wait_for_keys(struct sink *k, const char *const *keys, size_t n)
{
        for (int tries = 0; tries < 1000; tries++) {
                size_t have = 0;
                for (size_t i = 0; i < n; i++)
                        have += sink_has(k, keys[i]);
                if (have == n)
                        return;
                usleep(10000);
        }
        ck_abort_msg("the keys handled before the informers were published did not come back");
}

START_TEST(keys_handled_before_the_informers_are_published_wait)
{
        struct startup s;
        struct sink k = {.lock = PTHREAD_MUTEX_INITIALIZER};
        startup_init(&s, 1);
        s.c.queue = queue_free(s.c.queue);
        ck_assert_int_eq(queue_new(NULL, sink_fn, &k, &s.c.queue), 0);
        static const char *const keys[] = {CTL_KEY_CLUSTER_BROKER "b1", CTL_KEY_BROKER "shop/nb",
                                           CTL_KEY_INSTANCE "shop/db", CTL_KEY_BINDING "shop/db-b"};
        /* nothing stored in s.c yet: every informer pointer is NULL, and no key may read one */
        for (size_t i = 0; i < OSB_ELEMENTSOF(keys); i++)
                ck_assert_int_eq(dispatch_key(&s.c, keys[i]), 0);
        ck_assert(!dispatch_synced(&s.c));
        /* ... they are put back for later */
        wait_for_keys(&k, keys, OSB_ELEMENTSOF(keys));
        /* stored but not yet published: still not synced */
        startup_publish(&s);
        atomic_store(&s.c.started, false);
        ck_assert(!dispatch_synced(&s.c));
        atomic_store(&s.c.started, true);
        ck_assert(dispatch_synced(&s.c));
        /* published: a broker key is reconciled (one that is not cached: nothing to do) */
        ck_assert_int_eq(dispatch_key(&s.c, CTL_KEY_CLUSTER_BROKER "gone"), 0);
        ck_assert_int_eq(dispatch_key(&s.c, CTL_KEY_BROKER "shop/gone"), 0);
        ck_assert_int_eq(queue_wait_idle(s.c.queue, 10000), 0);
        ck_assert(!sink_has(&k, CTL_KEY_CLUSTER_BROKER "gone"));
        ck_assert(!sink_has(&k, CTL_KEY_BROKER "shop/gone"));
        startup_release(&s);
}
END_TEST

START_TEST(instance_keys_also_wait_for_every_cache)
{
        struct startup s;
        struct sink k = {.lock = PTHREAD_MUTEX_INITIALIZER};
        startup_init(&s, 1);
        s.c.queue = queue_free(s.c.queue);
        ck_assert_int_eq(queue_new(NULL, sink_fn, &k, &s.c.queue), 0);
        informer_free(s.bindings);
        s.bindings = informer_new_detached(&cached_kind_bindings, NULL, NULL);     /* not listed yet */
        startup_publish(&s);
        ck_assert(!dispatch_synced(&s.c));
        static const char *const keys[] = {CTL_KEY_INSTANCE "shop/db", CTL_KEY_BINDING "shop/db-b"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(keys); i++)
                ck_assert_int_eq(dispatch_key(&s.c, keys[i]), 0);
        wait_for_keys(&k, keys, OSB_ELEMENTSOF(keys));
        startup_release(&s);
}
END_TEST

/* The start-up race, many times: the informers' handlers queue broker keys from another thread
 * while this one stores the informers. Even rounds force the interleaving that crashed (the
 * workers take every key before anything is stored); odd rounds let the two threads race. */
START_TEST(start_up_with_keys_queued_before_the_informers_are_stored)
{
        for (int round = 0; round < 200; round++) {
                struct startup s;
                pthread_t t;
                startup_init(&s, 4);
                ck_assert_int_eq(pthread_create(&t, NULL, watch_thread, &s), 0);
                if (round % 2 == 0) {
                        ck_assert_int_eq(pthread_join(t, NULL), 0);
                        /* the workers have handled every key queued so far */
                        ck_assert_int_eq(queue_wait_idle(s.c.queue, 10000), 0);
                        startup_publish(&s);
                } else {
                        startup_publish(&s);
                        ck_assert_int_eq(pthread_join(t, NULL), 0);
                }
                ck_assert_int_eq(queue_wait_idle(s.c.queue, 10000), 0);
                startup_release(&s);
        }
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("catalog-controller dispatch");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, keys_handled_before_the_informers_are_published_wait);
        tcase_add_test(tc, instance_keys_also_wait_for_every_cache);
        tcase_add_test(tc, start_up_with_keys_queued_before_the_informers_are_stored);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(suite)
