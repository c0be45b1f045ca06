/* common/osb_pool.c: the worker pool. One mutex guards everything; a key's state is one struct
 * item in a hash map, linked into the FIFO of ready keys and/or the timer heap. */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "common/osb_pool.h"
#include "common/osb_strmap.h"
#include "common/osb_time.h"

struct item {
        struct item *next;      /* in the FIFO */
        bool queued;            /* in the FIFO */
        bool processing;        /* a worker has it */
        bool dirty;             /* added while processing: queue again when done */
        unsigned failures;
        size_t heap_idx;        /* SIZE_MAX: no timer */
        int64_t deadline_ms;    /* CLOCK_MONOTONIC, valid when heap_idx != SIZE_MAX */
        char key[];
};

struct osb_pool {
        pthread_mutex_t lock;
        pthread_cond_t work;    /* a key became ready, a timer changed, or shutdown */
        pthread_cond_t idle;    /* processing finished */
        struct osb_pool_options opts;
        osb_pool_fn fn;
        void *userdata;
        struct osb_strmap items;
        struct item *head, *tail;
        size_t depth, processing;
        struct item **heap;
        size_t heap_len, heap_cap;
        bool stopping;
        pthread_t *threads;
        unsigned nthreads;
};

static struct timespec deadline_ts(int64_t ms)
{
        return (struct timespec){.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
}

int64_t osb_pool_backoff_ms(const struct osb_pool_options *opts, unsigned failures)
{
        int64_t base = opts && opts->base_delay_ms > 0 ? opts->base_delay_ms : 100;
        int64_t cap = opts && opts->max_delay_ms > 0 ? opts->max_delay_ms : 300000;
        if (failures == 0)
                return 0;
        int64_t d = base;
        for (unsigned i = 1; i < failures && d < cap; i++)
                d *= 2;
        return d < cap ? d : cap;
}

/* ---- the timer heap (min-heap on deadline_ms) ---- */

static void heap_swap(struct osb_pool *pool, size_t a, size_t b)
{
        struct item *t = pool->heap[a];
        pool->heap[a] = pool->heap[b];
        pool->heap[b] = t;
        pool->heap[a]->heap_idx = a;
        pool->heap[b]->heap_idx = b;
}

static void heap_up(struct osb_pool *pool, size_t i)
{
        while (i > 0) {
                size_t p = (i - 1) / 2;
                if (pool->heap[p]->deadline_ms <= pool->heap[i]->deadline_ms)
                        break;
                heap_swap(pool, i, p);
                i = p;
        }
}

static void heap_down(struct osb_pool *pool, size_t i)
{
        for (;;) {
                size_t l = 2 * i + 1, r = l + 1, m = i;
                if (l < pool->heap_len && pool->heap[l]->deadline_ms < pool->heap[m]->deadline_ms)
                        m = l;
                if (r < pool->heap_len && pool->heap[r]->deadline_ms < pool->heap[m]->deadline_ms)
                        m = r;
                if (m == i)
                        return;
                heap_swap(pool, i, m);
                i = m;
        }
}

static void heap_remove(struct osb_pool *pool, struct item *it)
{
        size_t i = it->heap_idx;
        it->heap_idx = SIZE_MAX;
        pool->heap_len--;
        if (i == pool->heap_len)
                return;
        pool->heap[i] = pool->heap[pool->heap_len];
        pool->heap[i]->heap_idx = i;
        heap_up(pool, i);
        heap_down(pool, pool->heap[i]->heap_idx);
}

/* Sets a timer for @it at @deadline unless an earlier one is set. */
static int heap_set(struct osb_pool *pool, struct item *it, int64_t deadline)
{
        if (it->heap_idx != SIZE_MAX) {
                if (deadline < it->deadline_ms) {
                        it->deadline_ms = deadline;
                        heap_up(pool, it->heap_idx);
                }
                return 0;
        }
        if (pool->heap_len == pool->heap_cap) {
                size_t cap = pool->heap_cap ? pool->heap_cap * 2 : 16;
                struct item **h = osb_realloc(pool->heap, cap * sizeof(*h));
                if (!h)
                        return -ENOMEM;
                pool->heap = h;
                pool->heap_cap = cap;
        }
        it->deadline_ms = deadline;
        it->heap_idx = pool->heap_len;
        pool->heap[pool->heap_len++] = it;
        heap_up(pool, it->heap_idx);
        return 0;
}

/* ---- items ---- */

static struct item *item_get(struct osb_pool *pool, const char *key, bool create)
{
        struct item *it = osb_strmap_get(&pool->items, key);
        if (it || !create)
                return it;
        size_t kl = strlen(key);
        it = osb_calloc(1, sizeof(*it) + kl + 1);
        if (!it)
                return NULL;
        memcpy(it->key, key, kl + 1);
        it->heap_idx = SIZE_MAX;
        if (osb_strmap_put(&pool->items, key, it, NULL) < 0) {
                osb_free(it);
                return NULL;
        }
        return it;
}

/* Frees @it when nothing refers to it any more. */
static void item_maybe_drop(struct osb_pool *pool, struct item *it)
{
        if (it->queued || it->processing || it->heap_idx != SIZE_MAX || it->failures)
                return;
        osb_strmap_remove(&pool->items, it->key);
        osb_free(it);
}

static void push_ready(struct osb_pool *pool, struct item *it)
{
        if (it->processing) {
                it->dirty = true;
                return;
        }
        if (it->queued)
                return;
        it->queued = true;
        it->next = NULL;
        if (pool->tail)
                pool->tail->next = it;
        else
                pool->head = it;
        pool->tail = it;
        pool->depth++;
        pthread_cond_signal(&pool->work);
}

static struct item *pop_ready(struct osb_pool *pool)
{
        struct item *it = pool->head;
        if (!it)
                return NULL;
        pool->head = it->next;
        if (!pool->head)
                pool->tail = NULL;
        it->next = NULL;
        it->queued = false;
        pool->depth--;
        return it;
}

/* Moves the due timers to the FIFO. */
static void fire_timers(struct osb_pool *pool, int64_t now)
{
        while (pool->heap_len && pool->heap[0]->deadline_ms <= now) {
                struct item *it = pool->heap[0];
                heap_remove(pool, it);
                push_ready(pool, it);
        }
}

static void *worker(void *arg)
{
        struct osb_pool *pool = arg;
        void *ctx = NULL;
        if (pool->opts.worker_init && pool->opts.worker_init(pool->userdata, &ctx) < 0)
                return NULL;
        pthread_mutex_lock(&pool->lock);
        while (!pool->stopping) {
                fire_timers(pool, osb_mono_ms());
                struct item *it = pop_ready(pool);
                if (!it) {
                        if (pool->heap_len) {
                                struct timespec ts = deadline_ts(pool->heap[0]->deadline_ms);
                                pthread_cond_timedwait(&pool->work, &pool->lock, &ts);
                        } else {
                                pthread_cond_wait(&pool->work, &pool->lock);
                        }
                        continue;
                }
                it->processing = true;
                pool->processing++;
                pthread_mutex_unlock(&pool->lock);

                int r = pool->fn(pool->userdata, ctx, it->key);

                pthread_mutex_lock(&pool->lock);
                it->processing = false;
                pool->processing--;
                if (r < 0) {
                        if (it->failures < UINT_MAX)
                                it->failures++;
                        (void) heap_set(pool, it, osb_mono_ms() + osb_pool_backoff_ms(&pool->opts, it->failures));
                        /* the timed waits must learn of the new, possibly earlier, deadline */
                        pthread_cond_broadcast(&pool->work);
                } else {
                        it->failures = 0;
                }
                if (it->dirty) {
                        it->dirty = false;
                        push_ready(pool, it);
                }
                item_maybe_drop(pool, it);
                pthread_cond_broadcast(&pool->idle);
        }
        pthread_mutex_unlock(&pool->lock);
        if (pool->opts.worker_release)
                pool->opts.worker_release(pool->userdata, ctx);
        return NULL;
}

int osb_pool_new(const struct osb_pool_options *opts, osb_pool_fn fn, void *userdata, struct osb_pool **ret)
{
        struct osb_pool *pool = osb_calloc(1, sizeof(*pool));
        if (!pool)
                return -ENOMEM;
        if (opts)
                pool->opts = *opts;
        if (!pool->opts.workers)
                pool->opts.workers = 1;
        pool->fn = fn;
        pool->userdata = userdata;
        pthread_mutex_init(&pool->lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&pool->work, &ca);
        pthread_cond_init(&pool->idle, &ca);
        pthread_condattr_destroy(&ca);
        pool->threads = osb_calloc(pool->opts.workers, sizeof(*pool->threads));
        if (!pool->threads) {
                osb_pool_free(pool);
                return -ENOMEM;
        }
        for (unsigned i = 0; i < pool->opts.workers; i++) {
                int r = pthread_create(&pool->threads[i], NULL, worker, pool);
                if (r != 0) {
                        osb_pool_free(pool);
                        return -r;
                }
                pool->nthreads++;
        }
        *ret = pool;
        return 0;
}

struct osb_pool *osb_pool_free(struct osb_pool *pool)
{
        if (!pool)
                return NULL;
        pthread_mutex_lock(&pool->lock);
        pool->stopping = true;
        pthread_cond_broadcast(&pool->work);
        pthread_mutex_unlock(&pool->lock);
        for (unsigned i = 0; i < pool->nthreads; i++)
                pthread_join(pool->threads[i], NULL);
        size_t i;
        for (struct osb_strmap_entry *e = osb_strmap_first(&pool->items, &i); e; e = osb_strmap_next(&pool->items, &i, e))
                osb_free(e->value);
        osb_strmap_release(&pool->items);
        osb_free(pool->heap);
        osb_free(pool->threads);
        pthread_cond_destroy(&pool->work);
        pthread_cond_destroy(&pool->idle);
        pthread_mutex_destroy(&pool->lock);
        osb_free(pool);
        return NULL;
}

static int add(struct osb_pool *pool, const char *key, int64_t delay_ms, bool rate_limited)
{
        pthread_mutex_lock(&pool->lock);
        int r = 0;
        struct item *it = NULL;
        if (pool->stopping) {
                r = -ESHUTDOWN;
                goto out;
        }
        it = item_get(pool, key, true);
        if (!it) {
                r = -ENOMEM;
                goto out;
        }
        if (rate_limited) {
                if (it->failures < UINT_MAX)
                        it->failures++;
                delay_ms = osb_pool_backoff_ms(&pool->opts, it->failures);
        }
        if (delay_ms <= 0) {
                push_ready(pool, it);
        } else {
                int64_t now = osb_mono_ms();    /* a caller's huge delay saturates, never wraps */
                r = heap_set(pool, it, delay_ms > INT64_MAX - now ? INT64_MAX : now + delay_ms);
                pthread_cond_broadcast(&pool->work);
        }
        item_maybe_drop(pool, it);
out:
        pthread_mutex_unlock(&pool->lock);
        return r;
}

int osb_pool_add(struct osb_pool *pool, const char *key)
{
        return add(pool, key, 0, false);
}

int osb_pool_add_after(struct osb_pool *pool, const char *key, int64_t delay_ms)
{
        return add(pool, key, delay_ms, false);
}

int osb_pool_add_rate_limited(struct osb_pool *pool, const char *key)
{
        return add(pool, key, 0, true);
}

void osb_pool_forget(struct osb_pool *pool, const char *key)
{
        pthread_mutex_lock(&pool->lock);
        struct item *it = item_get(pool, key, false);
        if (it) {
                it->failures = 0;
                item_maybe_drop(pool, it);
        }
        pthread_mutex_unlock(&pool->lock);
}

size_t osb_pool_depth(struct osb_pool *pool)
{
        pthread_mutex_lock(&pool->lock);
        size_t n = pool->depth;
        pthread_mutex_unlock(&pool->lock);
        return n;
}

size_t osb_pool_delayed(struct osb_pool *pool)
{
        pthread_mutex_lock(&pool->lock);
        size_t n = pool->heap_len;
        pthread_mutex_unlock(&pool->lock);
        return n;
}

size_t osb_pool_pending(struct osb_pool *pool)
{
        size_t n = 0, i;
        pthread_mutex_lock(&pool->lock);
        for (struct osb_strmap_entry *e = osb_strmap_first(&pool->items, &i); e; e = osb_strmap_next(&pool->items, &i, e)) {
                const struct item *it = e->value;
                n += it->queued || it->processing || it->heap_idx != SIZE_MAX;
        }
        pthread_mutex_unlock(&pool->lock);
        return n;
}

unsigned osb_pool_failures(struct osb_pool *pool, const char *key)
{
        pthread_mutex_lock(&pool->lock);
        struct item *it = item_get(pool, key, false);
        unsigned n = it ? it->failures : 0;
        pthread_mutex_unlock(&pool->lock);
        return n;
}

bool osb_pool_behind(struct osb_pool *pool, const char *key)
{
        pthread_mutex_lock(&pool->lock);
        struct item *it = item_get(pool, key, false);
        bool behind = it && (it->queued || it->processing || (it->heap_idx != SIZE_MAX && it->deadline_ms <= osb_mono_ms()));
        pthread_mutex_unlock(&pool->lock);
        return behind;
}

int osb_pool_wait_idle(struct osb_pool *pool, int64_t timeout_ms)
{
        int64_t end = osb_mono_ms() + timeout_ms;
        struct timespec ts = deadline_ts(end);
        int r = 0;
        pthread_mutex_lock(&pool->lock);
        while ((pool->depth || pool->processing) && r == 0) {
                if (pthread_cond_timedwait(&pool->idle, &pool->lock, &ts) == ETIMEDOUT)
                        r = -ETIMEDOUT;
        }
        if (r == -ETIMEDOUT && !pool->depth && !pool->processing)
                r = 0;
        pthread_mutex_unlock(&pool->lock);
        return r;
}
