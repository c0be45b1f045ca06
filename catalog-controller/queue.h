/* catalog-controller/queue.h: the controller's work queue of string keys ("name" or
 * "namespace/name") served by N worker threads: common/osb_pool.h (each key once, never on two
 * workers at once, a per-key exponential back-off after a failure, delayed adds on a timer heap)
 * under the names and handler signature the controller uses. Thread-safe. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct queue;

/* Processes @key (borrowed for the call). Returns 0 on success (the key's back-off is reset) or
 * a negative code (the key is added again after its back-off). */
typedef int (*queue_fn)(void *userdata, const char *key);

struct queue_options {
        unsigned workers;       /* threads; 0: 1 */
        int64_t base_delay_ms;  /* first back-off; 0: 100 */
        int64_t max_delay_ms;   /* cap of the doubling back-off; 0: 300000 (5 min) */
};

/* Creates the queue and starts its workers. @opts may be NULL. Returns 0 with *ret new (free
 * with queue_free()), -ENOMEM, or -errno from pthread_create. */
int queue_new(const struct queue_options *opts, queue_fn fn, void *userdata, struct queue **ret);
/* Stops the workers after the keys they are processing (waiting keys and timers are dropped) and
 * frees the queue. NULL-safe; returns NULL. Must not be called from a worker. */
struct queue *queue_free(struct queue *q);

/* Adds @key now. Returns 0, -ENOMEM, or -ESHUTDOWN after queue_free() began. */
int queue_add(struct queue *q, const char *key);
/* Adds @key once @delay_ms have passed (<= 0: now). A key has one timer: an earlier deadline
 * replaces a later one, a later one is ignored. Returns as queue_add(). */
int queue_add_after(struct queue *q, const char *key, int64_t delay_ms);
/* Adds @key after its back-off and counts a failure, as when the handler fails. */
int queue_add_rate_limited(struct queue *q, const char *key);
/* Resets the back-off of @key. */
void queue_forget(struct queue *q, const char *key);

/* Keys waiting to be processed now (not counting timers), for metrics. */
size_t queue_depth(struct queue *q);
/* Keys with a pending timer. */
size_t queue_delayed(struct queue *q);
/* Whether @key is behind: waiting in the queue to be processed now, being processed, or with a
 * timer that has passed (the workers have not got to it yet). A key not in the queue, or whose
 * timer is still to come, is not. */
bool queue_behind(struct queue *q, const char *key);
/* Consecutive failures of @key so far (0 after a success). */
unsigned queue_failures(struct queue *q, const char *key);
/* The back-off after @failures failures with @opts: base * 2^(failures - 1), capped. */
int64_t queue_backoff_ms(const struct queue_options *opts, unsigned failures);

/* Waits until no key is waiting or being processed (timers may be pending), or @timeout_ms
 * passed. Returns 0 or -ETIMEDOUT. For tests and shutdown. */
int queue_wait_idle(struct queue *q, int64_t timeout_ms);
