/* test/unit/check_osb_pool.c: the worker pool of common/ (its queue behaviour, de-duplication,
 * one worker per key, back-off and timers, is also checked through the controller's queue in
 * check_catalog_controller_queue.c): each worker's own context, made on its thread and
 * released when the pool stops; a key that schedules its own next step, as the broker's
 * operations do; a key added while it runs is not doubled. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_mem.h"
#include "common/osb_pool.h"
#include "test/lib/check_main.h"

struct world {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        struct osb_pool *pool;
        int made, released;
        pthread_t owners[8];     /* the thread each context was made on */
        int calls, steps_left;
        bool wrong_thread;       /* a key ran with another worker's context */
        bool block;              /* hold "slow" inside fn until cleared */
        int inside;
};

struct ctx {
        struct world *w;
        int idx;
};

static int ctx_init(void *userdata, void **worker)
{
        struct world *w = userdata;
        struct ctx *c = osb_calloc(1, sizeof(*c));
        ck_assert_ptr_nonnull(c);
        pthread_mutex_lock(&w->lock);
        c->w = w;
        c->idx = w->made++;
        w->owners[c->idx] = pthread_self();
        pthread_mutex_unlock(&w->lock);
        *worker = c;
        return 0;
}

static void ctx_release(void *userdata, void *worker)
{
        struct world *w = userdata;
        pthread_mutex_lock(&w->lock);
        w->released++;
        pthread_mutex_unlock(&w->lock);
        osb_free(worker);
}

static int fn(void *userdata, void *worker, const char *key)
{
        struct world *w = userdata;
        const struct ctx *c = worker;
        pthread_mutex_lock(&w->lock);
        if (!c || c->w != w || !pthread_equal(w->owners[c->idx], pthread_self()))
                w->wrong_thread = true;
        w->calls++;
        w->inside++;
        pthread_cond_broadcast(&w->cond);
        while (w->block && strcmp(key, "slow") == 0)
                pthread_cond_wait(&w->cond, &w->lock);
        w->inside--;
        bool again = strcmp(key, "steps") == 0 && --w->steps_left > 0;
        pthread_mutex_unlock(&w->lock);
        /* the next step of an operation, as broker/ops.c schedules it */
        if (again)
                ck_assert_int_eq(osb_pool_add_after(w->pool, key, 1), 0);
        return 0;
}

static void world_start(struct world *w, unsigned workers)
{
        memset(w, 0, sizeof(*w));
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->cond, NULL);
        struct osb_pool_options o = {.workers = workers, .worker_init = ctx_init, .worker_release = ctx_release};
        ck_assert_int_eq(osb_pool_new(&o, fn, w, &w->pool), 0);
}

START_TEST(each_worker_has_its_own_context_released_when_the_pool_stops)
{
        struct world w;
        world_start(&w, 3);
        char key[8];
        for (int i = 0; i < 40; i++) {
                (void) snprintf(key, sizeof(key), "k%d", i);
                ck_assert_int_eq(osb_pool_add(w.pool, key), 0);
        }
        ck_assert_int_eq(osb_pool_wait_idle(w.pool, 10000), 0);
        w.pool = osb_pool_free(w.pool);
        ck_assert_int_eq(w.calls, 40);
        ck_assert(!w.wrong_thread);
        ck_assert_int_eq(w.made, 3);
        ck_assert_int_eq(w.released, 3);
}
END_TEST

START_TEST(a_key_that_schedules_its_next_step_runs_every_step)
{
        struct world w;
        world_start(&w, 2);
        w.steps_left = 5;
        ck_assert_int_eq(osb_pool_add(w.pool, "steps"), 0);
        /* the later steps are timers: wait for them to run out */
        for (int i = 0; i < 1000 && osb_pool_pending(w.pool) > 0; i++) {
                struct timespec ts = {0, 10 * 1000 * 1000};
                (void) nanosleep(&ts, NULL);
        }
        ck_assert_uint_eq(osb_pool_pending(w.pool), 0);
        ck_assert_int_eq(osb_pool_wait_idle(w.pool, 10000), 0);
        w.pool = osb_pool_free(w.pool);
        ck_assert_int_eq(w.calls, 5);
}
END_TEST

/* A delay past what the clock can hold (a broker's Retry-After gone through a caller's
 * arithmetic) is "never": the key waits, it does not run at once (a sum that wrapped to the
 * past would make it due, again and again). */
START_TEST(a_delay_past_the_clocks_range_never_comes_due)
{
        struct world w;
        world_start(&w, 1);
        ck_assert_int_eq(osb_pool_add_after(w.pool, "far", INT64_MAX), 0);
        ck_assert_int_eq(osb_pool_add_after(w.pool, "far2", INT64_MAX - 1000), 0);
        struct timespec ts = {0, 200 * 1000 * 1000};
        (void) nanosleep(&ts, NULL);
        pthread_mutex_lock(&w.lock);
        int calls = w.calls;
        pthread_mutex_unlock(&w.lock);
        ck_assert_int_eq(calls, 0);
        ck_assert_uint_eq(osb_pool_delayed(w.pool), 2);
        w.pool = osb_pool_free(w.pool);
}
END_TEST

START_TEST(a_key_added_while_it_runs_is_pending_once_and_runs_once_more)
{
        struct world w;
        world_start(&w, 2);
        w.block = true;
        ck_assert_int_eq(osb_pool_add(w.pool, "slow"), 0);
        pthread_mutex_lock(&w.lock);
        while (w.inside == 0)
                pthread_cond_wait(&w.cond, &w.lock);
        pthread_mutex_unlock(&w.lock);
        /* the broker's rescanner finds the running operation again, twice */
        ck_assert_int_eq(osb_pool_add(w.pool, "slow"), 0);
        ck_assert_int_eq(osb_pool_add(w.pool, "slow"), 0);
        ck_assert_uint_eq(osb_pool_pending(w.pool), 1);
        ck_assert_uint_eq(osb_pool_depth(w.pool), 0);   /* not handed to the idle worker */
        pthread_mutex_lock(&w.lock);
        w.block = false;
        pthread_cond_broadcast(&w.cond);
        pthread_mutex_unlock(&w.lock);
        ck_assert_int_eq(osb_pool_wait_idle(w.pool, 10000), 0);
        w.pool = osb_pool_free(w.pool);
        ck_assert_int_eq(w.calls, 2);
}
END_TEST

static int refuse(void *userdata, void **worker)
{
        (void) userdata, (void) worker;
        return -EIO;
}

START_TEST(a_worker_whose_context_cannot_be_made_takes_no_key)
{
        struct world w;
        memset(&w, 0, sizeof(w));
        struct osb_pool_options o = {.workers = 2, .worker_init = refuse, .worker_release = ctx_release};
        ck_assert_int_eq(osb_pool_new(&o, fn, &w, &w.pool), 0);
        ck_assert_int_eq(osb_pool_add(w.pool, "k1"), 0);
        ck_assert_uint_eq(osb_pool_pending(w.pool), 1);
        w.pool = osb_pool_free(w.pool);
        ck_assert_int_eq(w.calls, 0);
        ck_assert_int_eq(w.released, 0);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("osb_pool");
        TCase *tc = tcase_create("pool");
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, each_worker_has_its_own_context_released_when_the_pool_stops);
        tcase_add_test(tc, a_key_that_schedules_its_next_step_runs_every_step);
        tcase_add_test(tc, a_delay_past_the_clocks_range_never_comes_due);
        tcase_add_test(tc, a_key_added_while_it_runs_is_pending_once_and_runs_once_more);
        tcase_add_test(tc, a_worker_whose_context_cannot_be_made_takes_no_key);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(suite)
