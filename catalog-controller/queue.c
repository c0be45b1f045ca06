/* catalog-controller/queue.c: the work queue. One mutex guards everything; a key's state is one
 * struct item in a hash map, linked into the FIFO of ready keys and/or the timer heap. */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "common/osb_time.h"
#include "catalog-controller/queue.h"
#include "catalog-controller/strmap.h"

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

struct queue {
        pthread_mutex_t lock;
        pthread_cond_t work;    /* a key became ready, a timer changed, or shutdown */
        pthread_cond_t idle;    /* processing finished */
        struct queue_options opts;
        queue_fn fn;
        void *userdata;
        struct strmap items;
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

int64_t queue_backoff_ms(const struct queue_options *opts, unsigned failures)
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

static void heap_swap(struct queue *q, size_t a, size_t b)
{
        struct item *t = q->heap[a];
        q->heap[a] = q->heap[b];
        q->heap[b] = t;
        q->heap[a]->heap_idx = a;
        q->heap[b]->heap_idx = b;
}

static void heap_up(struct queue *q, size_t i)
{
        while (i > 0) {
                size_t p = (i - 1) / 2;
                if (q->heap[p]->deadline_ms <= q->heap[i]->deadline_ms)
                        break;
                heap_swap(q, i, p);
                i = p;
        }
}

static void heap_down(struct queue *q, size_t i)
{
        for (;;) {
                size_t l = 2 * i + 1, r = l + 1, m = i;
                if (l < q->heap_len && q->heap[l]->deadline_ms < q->heap[m]->deadline_ms)
                        m = l;
                if (r < q->heap_len && q->heap[r]->deadline_ms < q->heap[m]->deadline_ms)
                        m = r;
                if (m == i)
                        return;
                heap_swap(q, i, m);
                i = m;
        }
}

static void heap_remove(struct queue *q, struct item *it)
{
        size_t i = it->heap_idx;
        it->heap_idx = SIZE_MAX;
        q->heap_len--;
        if (i == q->heap_len)
                return;
        q->heap[i] = q->heap[q->heap_len];
        q->heap[i]->heap_idx = i;
        heap_up(q, i);
        heap_down(q, q->heap[i]->heap_idx);
}

/* Sets a timer for @it at @deadline unless an earlier one is set. */
static int heap_set(struct queue *q, struct item *it, int64_t deadline)
{
        if (it->heap_idx != SIZE_MAX) {
                if (deadline < it->deadline_ms) {
                        it->deadline_ms = deadline;
                        heap_up(q, it->heap_idx);
                }
                return 0;
        }
        if (q->heap_len == q->heap_cap) {
                size_t cap = q->heap_cap ? q->heap_cap * 2 : 16;
                struct item **h = osb_realloc(q->heap, cap * sizeof(*h));
                if (!h)
                        return -ENOMEM;
                q->heap = h;
                q->heap_cap = cap;
        }
        it->deadline_ms = deadline;
        it->heap_idx = q->heap_len;
        q->heap[q->heap_len++] = it;
        heap_up(q, it->heap_idx);
        return 0;
}

/* ---- items ---- */

static struct item *item_get(struct queue *q, const char *key, bool create)
{
        struct item *it = strmap_get(&q->items, key);
        if (it || !create)
                return it;
        size_t kl = strlen(key);
        it = osb_calloc(1, sizeof(*it) + kl + 1);
        if (!it)
                return NULL;
        memcpy(it->key, key, kl + 1);
        it->heap_idx = SIZE_MAX;
        if (strmap_put(&q->items, key, it, NULL) < 0) {
                osb_free(it);
                return NULL;
        }
        return it;
}

/* Frees @it when nothing refers to it any more. */
static void item_maybe_drop(struct queue *q, struct item *it)
{
        if (it->queued || it->processing || it->heap_idx != SIZE_MAX || it->failures)
                return;
        strmap_remove(&q->items, it->key);
        osb_free(it);
}

static void push_ready(struct queue *q, struct item *it)
{
        if (it->processing) {
                it->dirty = true;
                return;
        }
        if (it->queued)
                return;
        it->queued = true;
        it->next = NULL;
        if (q->tail)
                q->tail->next = it;
        else
                q->head = it;
        q->tail = it;
        q->depth++;
        pthread_cond_signal(&q->work);
}

static struct item *pop_ready(struct queue *q)
{
        struct item *it = q->head;
        if (!it)
                return NULL;
        q->head = it->next;
        if (!q->head)
                q->tail = NULL;
        it->next = NULL;
        it->queued = false;
        q->depth--;
        return it;
}

/* Moves the due timers to the FIFO. */
static void fire_timers(struct queue *q, int64_t now)
{
        while (q->heap_len && q->heap[0]->deadline_ms <= now) {
                struct item *it = q->heap[0];
                heap_remove(q, it);
                push_ready(q, it);
        }
}

static void *worker(void *arg)
{
        struct queue *q = arg;
        pthread_mutex_lock(&q->lock);
        while (!q->stopping) {
                fire_timers(q, osb_mono_ms());
                struct item *it = pop_ready(q);
                if (!it) {
                        if (q->heap_len) {
                                struct timespec ts = deadline_ts(q->heap[0]->deadline_ms);
                                pthread_cond_timedwait(&q->work, &q->lock, &ts);
                        } else {
                                pthread_cond_wait(&q->work, &q->lock);
                        }
                        continue;
                }
                it->processing = true;
                q->processing++;
                pthread_mutex_unlock(&q->lock);

                int r = q->fn(q->userdata, it->key);

                pthread_mutex_lock(&q->lock);
                it->processing = false;
                q->processing--;
                if (r < 0) {
                        if (it->failures < UINT_MAX)
                                it->failures++;
                        (void) heap_set(q, it, osb_mono_ms() + queue_backoff_ms(&q->opts, it->failures));
                        /* the timed waits must learn of the new, possibly earlier, deadline */
                        pthread_cond_broadcast(&q->work);
                } else {
                        it->failures = 0;
                }
                if (it->dirty) {
                        it->dirty = false;
                        push_ready(q, it);
                }
                item_maybe_drop(q, it);
                pthread_cond_broadcast(&q->idle);
        }
        pthread_mutex_unlock(&q->lock);
        return NULL;
}

int queue_new(const struct queue_options *opts, queue_fn fn, void *userdata, struct queue **ret)
{
        struct queue *q = osb_calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        if (opts)
                q->opts = *opts;
        if (!q->opts.workers)
                q->opts.workers = 1;
        q->fn = fn;
        q->userdata = userdata;
        pthread_mutex_init(&q->lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&q->work, &ca);
        pthread_cond_init(&q->idle, &ca);
        pthread_condattr_destroy(&ca);
        q->threads = osb_calloc(q->opts.workers, sizeof(*q->threads));
        if (!q->threads) {
                queue_free(q);
                return -ENOMEM;
        }
        for (unsigned i = 0; i < q->opts.workers; i++) {
                int r = pthread_create(&q->threads[i], NULL, worker, q);
                if (r != 0) {
                        queue_free(q);
                        return -r;
                }
                q->nthreads++;
        }
        *ret = q;
        return 0;
}

struct queue *queue_free(struct queue *q)
{
        if (!q)
                return NULL;
        pthread_mutex_lock(&q->lock);
        q->stopping = true;
        pthread_cond_broadcast(&q->work);
        pthread_mutex_unlock(&q->lock);
        for (unsigned i = 0; i < q->nthreads; i++)
                pthread_join(q->threads[i], NULL);
        size_t i;
        for (struct strmap_entry *e = strmap_first(&q->items, &i); e; e = strmap_next(&q->items, &i, e))
                osb_free(e->value);
        strmap_release(&q->items);
        osb_free(q->heap);
        osb_free(q->threads);
        pthread_cond_destroy(&q->work);
        pthread_cond_destroy(&q->idle);
        pthread_mutex_destroy(&q->lock);
        osb_free(q);
        return NULL;
}

static int add(struct queue *q, const char *key, int64_t delay_ms, bool rate_limited)
{
        pthread_mutex_lock(&q->lock);
        int r = 0;
        struct item *it = NULL;
        if (q->stopping) {
                r = -ESHUTDOWN;
                goto out;
        }
        it = item_get(q, key, true);
        if (!it) {
                r = -ENOMEM;
                goto out;
        }
        if (rate_limited) {
                if (it->failures < UINT_MAX)
                        it->failures++;
                delay_ms = queue_backoff_ms(&q->opts, it->failures);
        }
        if (delay_ms <= 0) {
                push_ready(q, it);
        } else {
                r = heap_set(q, it, osb_mono_ms() + delay_ms);
                pthread_cond_broadcast(&q->work);
        }
        item_maybe_drop(q, it);
out:
        pthread_mutex_unlock(&q->lock);
        return r;
}

int queue_add(struct queue *q, const char *key)
{
        return add(q, key, 0, false);
}

int queue_add_after(struct queue *q, const char *key, int64_t delay_ms)
{
        return add(q, key, delay_ms, false);
}

int queue_add_rate_limited(struct queue *q, const char *key)
{
        return add(q, key, 0, true);
}

void queue_forget(struct queue *q, const char *key)
{
        pthread_mutex_lock(&q->lock);
        struct item *it = item_get(q, key, false);
        if (it) {
                it->failures = 0;
                item_maybe_drop(q, it);
        }
        pthread_mutex_unlock(&q->lock);
}

size_t queue_depth(struct queue *q)
{
        pthread_mutex_lock(&q->lock);
        size_t n = q->depth;
        pthread_mutex_unlock(&q->lock);
        return n;
}

size_t queue_delayed(struct queue *q)
{
        pthread_mutex_lock(&q->lock);
        size_t n = q->heap_len;
        pthread_mutex_unlock(&q->lock);
        return n;
}

bool queue_behind(struct queue *q, const char *key)
{
        pthread_mutex_lock(&q->lock);
        struct item *it = item_get(q, key, false);
        bool behind = it && (it->queued || it->processing || (it->heap_idx != SIZE_MAX && it->deadline_ms <= osb_mono_ms()));
        pthread_mutex_unlock(&q->lock);
        return behind;
}

unsigned queue_failures(struct queue *q, const char *key)
{
        pthread_mutex_lock(&q->lock);
        struct item *it = item_get(q, key, false);
        unsigned n = it ? it->failures : 0;
        pthread_mutex_unlock(&q->lock);
        return n;
}

int queue_wait_idle(struct queue *q, int64_t timeout_ms)
{
        int64_t end = osb_mono_ms() + timeout_ms;
        struct timespec ts = deadline_ts(end);
        int r = 0;
        pthread_mutex_lock(&q->lock);
        while ((q->depth || q->processing) && r == 0) {
                if (pthread_cond_timedwait(&q->idle, &q->lock, &ts) == ETIMEDOUT)
                        r = -ETIMEDOUT;
        }
        if (r == -ETIMEDOUT && !q->depth && !q->processing)
                r = 0;
        pthread_mutex_unlock(&q->lock);
        return r;
}
