/* test/unit/check_catalog_controller_queue.c: the work queue: de-duplication, one worker per
 * key, re-processing after a re-add during processing, back-off, delayed adds, shutdown. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_mem.h"
#include "catalog-controller/queue.h"
#include "test/lib/check_main.h"

struct recorder {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        int calls;
        int per_key_active[8];   /* workers inside fn per key "k0".."k7" */
        int max_active;          /* the most workers ever inside fn for one key */
        int fail_left;           /* fail this many calls first */
        bool block;              /* hold workers inside fn until cleared */
        int inside;
        struct queue *q;
        const char *readd;       /* a key fn re-adds the first time it runs */
        int64_t times[16];
};

static int64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fn(void *userdata, const char *key)
{
        struct recorder *rec = userdata;
        int k = key[1] - '0';
        pthread_mutex_lock(&rec->lock);
        if (rec->calls < 16)
                rec->times[rec->calls] = mono_ms();
        rec->calls++;
        rec->per_key_active[k]++;
        if (rec->per_key_active[k] > rec->max_active)
                rec->max_active = rec->per_key_active[k];
        rec->inside++;
        pthread_cond_broadcast(&rec->cond);
        while (rec->block)
                pthread_cond_wait(&rec->cond, &rec->lock);
        const char *readd = rec->readd;
        rec->readd = NULL;
        int r = 0;
        if (rec->fail_left > 0) {
                rec->fail_left--;
                r = -EIO;
        }
        rec->per_key_active[k]--;
        rec->inside--;
        pthread_mutex_unlock(&rec->lock);
        if (readd)
                ck_assert_int_eq(queue_add(rec->q, readd), 0);
        return r;
}

static void rec_init(struct recorder *rec)
{
        *rec = (struct recorder){0};
        pthread_mutex_init(&rec->lock, NULL);
        pthread_cond_init(&rec->cond, NULL);
}

static int calls(struct recorder *rec)
{
        pthread_mutex_lock(&rec->lock);
        int n = rec->calls;
        pthread_mutex_unlock(&rec->lock);
        return n;
}

static void wait_inside(struct recorder *rec, int n)
{
        pthread_mutex_lock(&rec->lock);
        while (rec->inside < n)
                pthread_cond_wait(&rec->cond, &rec->lock);
        pthread_mutex_unlock(&rec->lock);
}

static void unblock(struct recorder *rec)
{
        pthread_mutex_lock(&rec->lock);
        rec->block = false;
        pthread_cond_broadcast(&rec->cond);
        pthread_mutex_unlock(&rec->lock);
}

START_TEST(adding_a_waiting_key_twice_processes_it_once)
{
        struct recorder rec;
        rec_init(&rec);
        rec.block = true;
        struct queue_options o = {.workers = 1};
        ck_assert_int_eq(queue_new(&o, fn, &rec, &rec.q), 0);
        ck_assert_int_eq(queue_add(rec.q, "k0"), 0);
        wait_inside(&rec, 1);          /* k0 is being processed; k1 waits behind it */
        ck_assert_int_eq(queue_add(rec.q, "k1"), 0);
        ck_assert_int_eq(queue_add(rec.q, "k1"), 0);
        ck_assert_int_eq(queue_add(rec.q, "k1"), 0);
        ck_assert_uint_eq(queue_depth(rec.q), 1);
        unblock(&rec);
        ck_assert_int_eq(queue_wait_idle(rec.q, 5000), 0);
        ck_assert_int_eq(calls(&rec), 2);
        ck_assert_uint_eq(queue_depth(rec.q), 0);
        queue_free(rec.q);
}
END_TEST

START_TEST(a_key_is_never_processed_by_two_workers)
{
        struct recorder rec;
        rec_init(&rec);
        rec.block = true;
        struct queue_options o = {.workers = 4};
        ck_assert_int_eq(queue_new(&o, fn, &rec, &rec.q), 0);
        ck_assert_int_eq(queue_add(rec.q, "k3"), 0);
        wait_inside(&rec, 1);
        /* re-added while processing: must wait for the first run, then run again once */
        ck_assert_int_eq(queue_add(rec.q, "k3"), 0);
        ck_assert_int_eq(queue_add(rec.q, "k3"), 0);
        ck_assert_int_eq(queue_add(rec.q, "k4"), 0);
        wait_inside(&rec, 2);          /* k4 runs in parallel; k3 does not */
        unblock(&rec);
        ck_assert_int_eq(queue_wait_idle(rec.q, 5000), 0);
        ck_assert_int_eq(rec.max_active, 1);
        ck_assert_int_eq(calls(&rec), 3);
        queue_free(rec.q);
}
END_TEST

START_TEST(re_added_during_processing_runs_again_after)
{
        struct recorder rec;
        rec_init(&rec);
        rec.readd = "k2";
        struct queue_options o = {.workers = 2};
        ck_assert_int_eq(queue_new(&o, fn, &rec, &rec.q), 0);
        ck_assert_int_eq(queue_add(rec.q, "k2"), 0);
        ck_assert_int_eq(queue_wait_idle(rec.q, 5000), 0);
        ck_assert_int_eq(calls(&rec), 2);
        ck_assert_int_eq(rec.max_active, 1);
        queue_free(rec.q);
}
END_TEST

START_TEST(backoff_doubles_and_is_capped)
{
        struct queue_options o = {.base_delay_ms = 100, .max_delay_ms = 300000};
        ck_assert_int_eq(queue_backoff_ms(&o, 0), 0);
        ck_assert_int_eq(queue_backoff_ms(&o, 1), 100);
        ck_assert_int_eq(queue_backoff_ms(&o, 2), 200);
        ck_assert_int_eq(queue_backoff_ms(&o, 5), 1600);
        ck_assert_int_eq(queue_backoff_ms(&o, 20), 300000);
        ck_assert_int_eq(queue_backoff_ms(&o, UINT_MAX), 300000);
        ck_assert_int_eq(queue_backoff_ms(NULL, 1), 100);
}
END_TEST

START_TEST(failures_retry_with_backoff_then_reset_on_success)
{
        struct recorder rec;
        rec_init(&rec);
        rec.fail_left = 3;
        struct queue_options o = {.workers = 2, .base_delay_ms = 20, .max_delay_ms = 1000};
        ck_assert_int_eq(queue_new(&o, fn, &rec, &rec.q), 0);
        ck_assert_int_eq(queue_add(rec.q, "k5"), 0);
        int64_t end = mono_ms() + 10000;
        while (calls(&rec) < 4 && mono_ms() < end)
                (void) queue_wait_idle(rec.q, 50);
        ck_assert_int_eq(queue_wait_idle(rec.q, 5000), 0);
        ck_assert_int_eq(calls(&rec), 4);
        /* gaps of at least 20, 40, 80 ms */
        ck_assert_int_ge(rec.times[1] - rec.times[0], 20);
        ck_assert_int_ge(rec.times[2] - rec.times[1], 40);
        ck_assert_int_ge(rec.times[3] - rec.times[2], 80);
        ck_assert_uint_eq(queue_failures(rec.q, "k5"), 0);
        ck_assert_uint_eq(queue_delayed(rec.q), 0);
        queue_free(rec.q);
}
END_TEST

START_TEST(delayed_add_fires_after_the_delay_and_earliest_wins)
{
        struct recorder rec;
        rec_init(&rec);
        struct queue_options o = {.workers = 1};
        ck_assert_int_eq(queue_new(&o, fn, &rec, &rec.q), 0);
        int64_t t0 = mono_ms();
        ck_assert_int_eq(queue_add_after(rec.q, "k6", 60000), 0);
        ck_assert_int_eq(queue_add_after(rec.q, "k6", 50), 0);   /* earlier: replaces */
        ck_assert_int_eq(queue_add_after(rec.q, "k6", 90000), 0); /* later: ignored */
        ck_assert_uint_eq(queue_delayed(rec.q), 1);
        ck_assert_uint_eq(queue_depth(rec.q), 0);
        int64_t end = t0 + 10000;
        while (calls(&rec) < 1 && mono_ms() < end)
                (void) queue_wait_idle(rec.q, 20);
        ck_assert_int_eq(queue_wait_idle(rec.q, 5000), 0);
        ck_assert_int_eq(calls(&rec), 1);
        ck_assert_int_ge(rec.times[0] - t0, 50);
        ck_assert_uint_eq(queue_delayed(rec.q), 0);
        queue_free(rec.q);
}
END_TEST

START_TEST(free_with_pending_timers_and_keys_stops_cleanly)
{
        struct recorder rec;
        rec_init(&rec);
        struct queue_options o = {.workers = 3};
        ck_assert_int_eq(queue_new(&o, fn, &rec, &rec.q), 0);
        for (int i = 0; i < 8; i++) {
                char k[3] = {'k', (char) ('0' + i), 0};
                ck_assert_int_eq(queue_add_after(rec.q, k, 3600 * 1000), 0);
                ck_assert_int_eq(queue_add(rec.q, k), 0);
        }
        ck_assert_int_eq(queue_wait_idle(rec.q, 5000), 0);
        ck_assert_int_eq(calls(&rec), 8);
        ck_assert_uint_eq(queue_delayed(rec.q), 8);
        queue_free(rec.q);
}
END_TEST

START_TEST(rate_limited_add_counts_failures_and_forget_resets)
{
        struct recorder rec;
        rec_init(&rec);
        struct queue_options o = {.workers = 1, .base_delay_ms = 60000};
        ck_assert_int_eq(queue_new(&o, fn, &rec, &rec.q), 0);
        ck_assert_int_eq(queue_add_rate_limited(rec.q, "k7"), 0);
        ck_assert_int_eq(queue_add_rate_limited(rec.q, "k7"), 0);
        ck_assert_uint_eq(queue_failures(rec.q, "k7"), 2);
        ck_assert_uint_eq(queue_delayed(rec.q), 1);
        queue_forget(rec.q, "k7");
        ck_assert_uint_eq(queue_failures(rec.q, "k7"), 0);
        ck_assert_int_eq(calls(&rec), 0);
        queue_free(rec.q);
}
END_TEST

START_TEST(a_key_is_behind_while_queued_processed_or_overdue_only)
{
        struct recorder rec;
        rec_init(&rec);
        rec.block = true;
        struct queue_options o = {.workers = 1};
        ck_assert_int_eq(queue_new(&o, fn, &rec, &rec.q), 0);
        ck_assert(!queue_behind(rec.q, "k0"));         /* never added */
        ck_assert_int_eq(queue_add(rec.q, "k0"), 0);
        wait_inside(&rec, 1);
        ck_assert(queue_behind(rec.q, "k0"));          /* being processed */
        ck_assert_int_eq(queue_add(rec.q, "k1"), 0);
        ck_assert(queue_behind(rec.q, "k1"));          /* waiting behind k0 */
        ck_assert_int_eq(queue_add_after(rec.q, "k2", 60000), 0);
        ck_assert(!queue_behind(rec.q, "k2"));         /* its timer is a minute away */
        ck_assert_int_eq(queue_add_after(rec.q, "k3", 1), 0);
        struct timespec ts = {0, 20 * 1000 * 1000};
        (void) nanosleep(&ts, NULL);
        ck_assert(queue_behind(rec.q, "k3"));          /* its timer passed; the one worker is busy */
        unblock(&rec);
        ck_assert_int_eq(queue_wait_idle(rec.q, 5000), 0);
        ck_assert(!queue_behind(rec.q, "k0"));
        ck_assert(!queue_behind(rec.q, "k1"));
        ck_assert(!queue_behind(rec.q, "k3"));
        ck_assert(!queue_behind(rec.q, "k2"));
        queue_free(rec.q);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("catalog-controller queue");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, adding_a_waiting_key_twice_processes_it_once);
        tcase_add_test(tc, a_key_is_never_processed_by_two_workers);
        tcase_add_test(tc, re_added_during_processing_runs_again_after);
        tcase_add_test(tc, backoff_doubles_and_is_capped);
        tcase_add_test(tc, failures_retry_with_backoff_then_reset_on_success);
        tcase_add_test(tc, delayed_add_fires_after_the_delay_and_earliest_wins);
        tcase_add_test(tc, free_with_pending_timers_and_keys_stops_cleanly);
        tcase_add_test(tc, rate_limited_add_counts_failures_and_forget_resets);
        tcase_add_test(tc, a_key_is_behind_while_queued_processed_or_overdue_only);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(suite)
