/* common/osb_pool.h: a pool of N worker threads serving string keys, with timers. A key waiting
 * is there once however often it is added; a key is never handed to two workers at once (added
 * again while being processed, it is processed again afterwards); a failed key comes back after
 * a per-key exponential back-off (reset on success); a key can be added after a delay (a timer
 * heap: an earlier deadline replaces a later one). Each worker may hold a context of its own
 * (a database handle, say), made on its thread before its first key. Workers sleep on a
 * condition variable with a timed wait for the next timer: nothing polls. Thread-safe. Used by
 * the controller's work queue (catalog-controller/queue.c) and the broker's operation workers
 * (broker/ops.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct osb_pool;

/* Processes @key (borrowed for the call) on a worker whose context is @worker. Returns 0 on
 * success (the key's back-off is reset) or a negative code (the key is added again after its
 * back-off). It may add keys, @key included (osb_pool_add_after() to run it again later). */
typedef int (*osb_pool_fn)(void *userdata, void *worker, const char *key);

struct osb_pool_options {
        unsigned workers;       /* threads; 0: 1 */
        int64_t base_delay_ms;  /* first back-off; 0: 100 */
        int64_t max_delay_ms;   /* cap of the doubling back-off; 0: 300000 (5 min) */
        /* NULL, or called on each worker's thread before it takes a key: returns 0 with *worker
         * its context, or a negative code (that worker ends; it logs why) */
        int (*worker_init)(void *userdata, void **worker);
        /* NULL, or called on the worker's thread when it ends, with what worker_init made */
        void (*worker_release)(void *userdata, void *worker);
};

/* Creates the pool and starts its workers. @opts may be NULL. Returns 0 with *ret new (free
 * with osb_pool_free()), -ENOMEM, or -errno from pthread_create. */
int osb_pool_new(const struct osb_pool_options *opts, osb_pool_fn fn, void *userdata, struct osb_pool **ret);
/* Stops the workers after the keys they are processing (waiting keys and timers are dropped) and
 * frees the pool. NULL-safe; returns NULL. Must not be called from a worker. */
struct osb_pool *osb_pool_free(struct osb_pool *p);

/* Adds @key now. Returns 0, -ENOMEM, or -ESHUTDOWN after osb_pool_free() began. */
int osb_pool_add(struct osb_pool *p, const char *key);
/* Adds @key once @delay_ms have passed (<= 0: now). A key has one timer: an earlier deadline
 * replaces a later one, a later one is ignored. Returns as osb_pool_add(). */
int osb_pool_add_after(struct osb_pool *p, const char *key, int64_t delay_ms);
/* Adds @key after its back-off and counts a failure, as when the handler fails. */
int osb_pool_add_rate_limited(struct osb_pool *p, const char *key);
/* Resets the back-off of @key. */
void osb_pool_forget(struct osb_pool *p, const char *key);

/* Keys waiting to be processed now (not counting timers). */
size_t osb_pool_depth(struct osb_pool *p);
/* Keys with a pending timer. */
size_t osb_pool_delayed(struct osb_pool *p);
/* Keys waiting, timed or being processed (each once). Walks every key: for tests and rare
 * reports, not per event. */
size_t osb_pool_pending(struct osb_pool *p);
/* Consecutive failures of @key so far (0 after a success). */
unsigned osb_pool_failures(struct osb_pool *p, const char *key);
/* Whether @key is behind: waiting to be processed now, being processed, or with a timer that
 * has passed (no worker has got to it yet). A key not in the pool, or whose timer is still to
 * come, is not. */
bool osb_pool_behind(struct osb_pool *p, const char *key);
/* The back-off after @failures failures with @opts: base * 2^(failures - 1), capped. */
int64_t osb_pool_backoff_ms(const struct osb_pool_options *opts, unsigned failures);

/* Waits until no key is waiting or being processed (timers may be pending), or @timeout_ms
 * passed. Returns 0 or -ETIMEDOUT. For tests and shutdown. */
int osb_pool_wait_idle(struct osb_pool *p, int64_t timeout_ms);
