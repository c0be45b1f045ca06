/* catalog-controller/queue.c: the work queue is common/osb_pool.c with no per-worker context;
 * this file only keeps the controller's names for it. */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "common/osb_pool.h"
#include "catalog-controller/queue.h"

struct queue {
        struct osb_pool *pool;
        queue_fn fn;
        void *userdata;
};

static struct osb_pool_options pool_options(const struct queue_options *opts)
{
        return opts ? (struct osb_pool_options){.workers = opts->workers, .base_delay_ms = opts->base_delay_ms,
                                                 .max_delay_ms = opts->max_delay_ms} :
                      (struct osb_pool_options){0};
}

int64_t queue_backoff_ms(const struct queue_options *opts, unsigned failures)
{
        struct osb_pool_options po = pool_options(opts);
        return osb_pool_backoff_ms(&po, failures);
}

static int run(void *userdata, void *worker, const char *key)
{
        const struct queue *q = userdata;
        (void) worker;
        return q->fn(q->userdata, key);
}

int queue_new(const struct queue_options *opts, queue_fn fn, void *userdata, struct queue **ret)
{
        struct queue *q = osb_calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        q->fn = fn;
        q->userdata = userdata;
        struct osb_pool_options po = pool_options(opts);
        int r = osb_pool_new(&po, run, q, &q->pool);
        if (r < 0) {
                osb_free(q);
                return r;
        }
        *ret = q;
        return 0;
}

struct queue *queue_free(struct queue *q)
{
        if (!q)
                return NULL;
        osb_pool_free(q->pool);
        osb_free(q);
        return NULL;
}

int queue_add(struct queue *q, const char *key)
{
        return osb_pool_add(q->pool, key);
}

int queue_add_after(struct queue *q, const char *key, int64_t delay_ms)
{
        return osb_pool_add_after(q->pool, key, delay_ms);
}

int queue_add_rate_limited(struct queue *q, const char *key)
{
        return osb_pool_add_rate_limited(q->pool, key);
}

void queue_forget(struct queue *q, const char *key)
{
        osb_pool_forget(q->pool, key);
}

size_t queue_depth(struct queue *q)
{
        return osb_pool_depth(q->pool);
}

size_t queue_delayed(struct queue *q)
{
        return osb_pool_delayed(q->pool);
}

bool queue_behind(struct queue *q, const char *key)
{
        return osb_pool_behind(q->pool, key);
}

unsigned queue_failures(struct queue *q, const char *key)
{
        return osb_pool_failures(q->pool, key);
}

int queue_wait_idle(struct queue *q, int64_t timeout_ms)
{
        return osb_pool_wait_idle(q->pool, timeout_ms);
}
