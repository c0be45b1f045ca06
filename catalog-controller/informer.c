/* catalog-controller/informer.c: list/watch threads and the cache behind them. */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "common/osb_time.h"
#include "common/osb_log.h"
#include "kube/watch.h"
#include "catalog-controller/informer.h"
#include "catalog-controller/metrics.h"
#include "catalog-controller/names.h"
#include "common/osb_strmap.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

struct informer;

/* One list/watch: of every namespace (ns NULL), or of one. An informer has one, or one per
 * namespace of informer_options.namespaces, all feeding the one cache. */
struct stream {
        struct informer *inf;
        const char *ns;
        struct osb_strmap staging;      /* the list in progress (its watch thread only) */
        bool listed;                    /* its first list is in the cache (inf->lock) */
        pthread_t thread;
        bool started;
};

struct informer {
        const struct informer_kind *kind;
        struct informer_options opts;
        informer_handler handler;
        void *userdata;
        struct kube_client *client;

        pthread_mutex_t lock;
        pthread_cond_t cond;            /* synced, stopping */
        struct osb_strmap cache;            /* key -> struct informer_kmeta * (one reference) */
        /* index key -> struct osb_strmap * (object key -> struct informer_kmeta *, borrowed from the cache):
         * every entry is an object in the cache (entries go before the cache's reference) */
        struct osb_strmap index;
        bool index_lost;                /* an index entry could not be added (OOM): rebuild */
        size_t trim_high;               /* the cache's largest size since the last trim (shrunk()) */
        bool synced, stopping;
        struct informer_stats stats;

        struct stream *streams;
        size_t nstreams, nlisted;

        pthread_t resync_thread;
        bool resync_started;
};

/* ---- kmeta ---- */

char *informer_kmeta_key_of(const json_t *obj)
{
        json_t *md = json_object_get(obj, "metadata");
        const char *name = json_string_value(json_object_get(md, "name"));
        const char *ns = json_string_value(json_object_get(md, "namespace"));
        if (!name || !*name)
                return NULL;
        return ns && *ns ? osb_asprintf("%s/%s", ns, name) : osb_strdup(name);
}

/* Appends @s and its NUL at *at; returns where it went, or NULL when @s is NULL. */
static char *put_str(char **at, const char *s)
{
        if (!s)
                return NULL;
        size_t n = strlen(s) + 1;
        char *r = memcpy(*at, s, n);
        *at += n;
        return r;
}

int informer_kmeta_init(struct informer_kmeta *m, const json_t *obj)
{
        *m = (struct informer_kmeta){0};
        atomic_init(&m->refs, 1);
        json_t *md = json_object_get(obj, "metadata");
        const char *name = json_string_value(json_object_get(md, "name"));
        if (!name)
                return -EINVAL;
        const char *ns = json_string_value(json_object_get(md, "namespace"));
        const char *uid = json_string_value(json_object_get(md, "uid"));
        const char *rv = json_string_value(json_object_get(md, "resourceVersion"));
        if (ns && !*ns)
                ns = NULL;
        /* the strings in one block (a cached object costs one allocation for them, not five):
         * the key "namespace/name" or "name", the name its tail, then ns, uid, resourceVersion */
        size_t nl = strlen(name), sl = ns ? strlen(ns) + 1 : 0;
        size_t size = sl + nl + 1 + sl + (uid ? strlen(uid) + 1 : 0) + (rv ? strlen(rv) + 1 : 0);
        char *at = *name ? osb_malloc(size) : NULL;
        if (!at)
                goto oom;
        m->key = at;
        if (ns) {
                memcpy(at, ns, sl - 1);
                at[sl - 1] = '/';
                at += sl;
        }
        m->name = put_str(&at, name);
        m->ns = put_str(&at, ns);
        m->uid = put_str(&at, uid);
        m->resource_version = put_str(&at, rv);
        m->generation = json_integer_value(json_object_get(md, "generation"));
        m->deleting = json_object_get(md, "deletionTimestamp") != NULL &&
                      !json_is_null(json_object_get(md, "deletionTimestamp"));
        json_t *fin = json_object_get(md, "finalizers");
        size_t i;
        json_t *f;
        json_array_foreach(fin, i, f) {
                m->nfinalizers++;
                if (osb_streq(json_string_value(f), NAMES_FINALIZER))
                        m->finalizer = true;
        }
        return 0;
oom:
        informer_kmeta_release(m);
        return -ENOMEM;
}

int informer_kmeta_new(size_t size, const json_t *obj, struct informer_kmeta **ret)
{
        struct informer_kmeta *m = osb_calloc(1, size);
        if (!m)
                return -ENOMEM;
        int r = informer_kmeta_init(m, obj);
        if (r < 0) {
                osb_free(m);
                return r;
        }
        *ret = m;
        return 0;
}

int informer_kmeta_add_ikey(struct informer_kmeta *m, const char *ikey)
{
        for (size_t i = 0; i < m->nikeys; i++)
                if (strcmp(m->ikeys[i], ikey) == 0)
                        return 0;
        char **v = osb_realloc(m->ikeys, (m->nikeys + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        m->ikeys = v;
        if (!(v[m->nikeys] = osb_strdup(ikey)))
                return -ENOMEM;
        m->nikeys++;
        return 0;
}

void informer_kmeta_release(struct informer_kmeta *m)
{
        for (size_t i = 0; i < m->nikeys; i++)
                osb_free(m->ikeys[i]);
        osb_free(m->ikeys);
        m->ikeys = NULL;
        m->nikeys = 0;
        osb_free(m->key);       /* and the other strings: one block (informer_kmeta_init()) */
        m->key = m->name = m->ns = m->uid = m->resource_version = NULL;
}

static struct informer_kmeta *ref(struct informer_kmeta *m)
{
        if (m)
                atomic_fetch_add(&m->refs, 1);
        return m;
}

static void unref(const struct informer_kind *kind, struct informer_kmeta *m)
{
        if (m && atomic_fetch_sub(&m->refs, 1) == 1)
                kind->free(m);
}

/* ---- the index (inf->lock held) ---- */

/* Removes cached object @m from the index. Never fails. */
static void index_remove(struct informer *inf, const struct informer_kmeta *m)
{
        for (size_t i = 0; m && i < m->nikeys; i++) {
                struct osb_strmap *objs = osb_strmap_get(&inf->index, m->ikeys[i]);
                if (!objs || osb_strmap_get(objs, m->key) != m)
                        continue;
                (void) osb_strmap_remove(objs, m->key);
                if (!objs->count) {
                        (void) osb_strmap_remove(&inf->index, m->ikeys[i]);
                        osb_strmap_release(objs);
                        osb_free(objs);
                }
        }
}

/* Adds cached object @m to the index. Returns 0 or -ENOMEM (then inf->index_lost is set: what
 * was added stays right, the rest is added by the next rebuild). */
static int index_add(struct informer *inf, struct informer_kmeta *m)
{
        for (size_t i = 0; i < m->nikeys; i++) {
                struct osb_strmap *objs = osb_strmap_get(&inf->index, m->ikeys[i]);
                if (!objs) {
                        objs = osb_calloc(1, sizeof(*objs));
                        if (!objs || osb_strmap_put(&inf->index, m->ikeys[i], objs, NULL) < 0) {
                                osb_free(objs);
                                inf->index_lost = true;
                                return -ENOMEM;
                        }
                }
                if (osb_strmap_put(objs, m->key, m, NULL) < 0) {
                        if (!objs->count) {
                                (void) osb_strmap_remove(&inf->index, m->ikeys[i]);
                                osb_free(objs);
                        }
                        inf->index_lost = true;
                        return -ENOMEM;
                }
        }
        return 0;
}

static void index_release(struct informer *inf)
{
        size_t i;
        for (struct osb_strmap_entry *e = osb_strmap_first(&inf->index, &i); e; e = osb_strmap_next(&inf->index, &i, e)) {
                osb_strmap_release(e->value);
                osb_free(e->value);
        }
        osb_strmap_release(&inf->index);
}

/* The index of the whole cache, made again. Returns 0 or -ENOMEM. */
static int index_rebuild(struct informer *inf)
{
        size_t i;
        int r = 0;
        index_release(inf);
        inf->index_lost = false;
        for (struct osb_strmap_entry *e = osb_strmap_first(&inf->cache, &i); e && r >= 0; e = osb_strmap_next(&inf->cache, &i, e))
                r = index_add(inf, e->value);
        return r;
}

/* ---- the cache ---- */

static bool relevant(const struct informer *inf, const struct informer_kmeta *old, const struct informer_kmeta *new)
{
        if (inf->kind->relevant)
                return inf->kind->relevant(old, new);
        return !osb_streq(old->resource_version, new->resource_version);
}

static struct informer *informer_new_streams(const struct informer_kind *kind, informer_handler handler, void *userdata,
                                             const char *const *namespaces, size_t n);

struct informer *informer_new_detached(const struct informer_kind *kind, informer_handler handler,
                                       void *userdata)
{
        return informer_new_streams(kind, handler, userdata, NULL, 0);
}

/* An informer with one stream per namespace of @namespaces (borrowed), or one of every
 * namespace when @n is 0. */
static struct informer *informer_new_streams(const struct informer_kind *kind, informer_handler handler, void *userdata,
                                             const char *const *namespaces, size_t n)
{
        struct informer *inf = osb_calloc(1, sizeof(*inf));
        if (!inf)
                return NULL;
        inf->nstreams = n ? n : 1;
        inf->streams = osb_calloc(inf->nstreams, sizeof(*inf->streams));
        if (!inf->streams) {
                osb_free(inf);
                return NULL;
        }
        for (size_t i = 0; i < inf->nstreams; i++)
                inf->streams[i] = (struct stream){.inf = inf, .ns = n ? namespaces[i] : NULL};
        inf->kind = kind;
        inf->handler = handler;
        inf->userdata = userdata;
        pthread_mutex_init(&inf->lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&inf->cond, &ca);
        pthread_condattr_destroy(&ca);
        return inf;
}

static void notify(struct informer *inf, enum informer_event ev, struct informer_kmeta *old, struct informer_kmeta *new)
{
        if (inf->handler)
                inf->handler(inf->userdata, ev, old, new);
}

/* Below this many objects a cache that shrank is not worth a trim. */
#define TRIM_MIN 1024

/* Whether the cache has shrunk to half its size since it was largest (inf->lock held): then the
 * memory its objects held is given back to the system once they are freed (give_back()), so that
 * a controller that once cached many objects does not keep their memory for good (glibc keeps
 * freed memory for the thread arena that freed it). A few times per mass deletion. */
static bool shrunk(struct informer *inf)
{
        size_t n = inf->cache.count;
        if (n > inf->trim_high)
                inf->trim_high = n;
        if (inf->trim_high < TRIM_MIN || n > inf->trim_high / 2)
                return false;
        inf->trim_high = n;
        return true;
}

static void give_back(void)
{
#ifdef __GLIBC__
        (void) malloc_trim(0);
#endif
}

int informer_apply(struct informer *inf, int event_type, const json_t *obj)
{
        struct informer_kmeta *new = NULL, *old = NULL;
        int r;
        if (event_type == KUBE_EVENT_BOOKMARK)
                return 0;
        if (event_type == KUBE_EVENT_DELETED) {
                char *key = informer_kmeta_key_of(obj);
                if (!key)
                        return -EINVAL;
                pthread_mutex_lock(&inf->lock);
                old = osb_strmap_remove(&inf->cache, key);
                index_remove(inf, old);
                inf->stats.events++;
                bool trim = old && shrunk(inf);
                pthread_mutex_unlock(&inf->lock);
                osb_free(key);
                if (old)
                        notify(inf, INFORMER_DELETE, old, NULL);
                unref(inf->kind, old);
                if (trim)
                        give_back();
                return 0;
        }
        r = inf->kind->extract(obj, &new);
        if (r < 0)
                return r;
        pthread_mutex_lock(&inf->lock);
        void *prev = NULL;
        r = osb_strmap_put(&inf->cache, new->key, new, &prev);
        old = prev;
        inf->stats.events++;
        if (inf->cache.count > inf->trim_high)
                inf->trim_high = inf->cache.count;
        int ri = 0;
        if (r >= 0) {
                ref(new);       /* one for the cache, one for the notification */
                index_remove(inf, old);
                ri = index_add(inf, new);
        }
        pthread_mutex_unlock(&inf->lock);
        if (r < 0) {
                unref(inf->kind, new);
                return r;
        }
        if (!old)
                notify(inf, INFORMER_ADD, NULL, new);
        else if (relevant(inf, old, new))
                notify(inf, INFORMER_UPDATE, old, new);
        unref(inf->kind, old);
        unref(inf->kind, new);
        return ri;      /* -ENOMEM: the watch ends and the list that follows rebuilds the index */
}

static void staging_clear(struct stream *st)
{
        size_t i;
        for (struct osb_strmap_entry *e = osb_strmap_first(&st->staging, &i); e; e = osb_strmap_next(&st->staging, &i, e))
                unref(st->inf->kind, e->value);
        osb_strmap_release(&st->staging);
}

static int stage_item(json_t *item, void *userdata)
{
        struct stream *st = userdata;
        struct informer *inf = st->inf;
        struct informer_kmeta *m = NULL;
        if (inf->kind->extract(item, &m) < 0)
                return 0;       /* an object we cannot read is skipped, as a bad event is */
        void *old = NULL;
        if (osb_strmap_put(&st->staging, m->key, m, &old) < 0) {
                unref(inf->kind, m);
                return -ENOMEM;
        }
        unref(inf->kind, old);
        return 0;
}

struct pending {
        enum informer_event ev;
        struct informer_kmeta *old, *new;
};

/* Whether cached object @m is one stream @st lists. */
static bool in_scope(const struct stream *st, const struct informer_kmeta *m)
{
        return !st->ns || osb_streq(st->ns, m->ns);
}

/* Puts the staged list in the cache (in place of what @st listed before), then tells the
 * handler what changed. */
static int stage_commit(struct stream *st)
{
        struct informer *inf = st->inf;
        size_t cap = st->staging.count + inf->cache.count + 1, n = 0, i;
        int r = 0;
        struct pending *p = osb_calloc(cap, sizeof(*p));
        if (!p) {
                staging_clear(st);
                return -ENOMEM;
        }
        pthread_mutex_lock(&inf->lock);
        for (struct osb_strmap_entry *e = osb_strmap_first(&st->staging, &i); e; e = osb_strmap_next(&st->staging, &i, e)) {
                struct informer_kmeta *old = osb_strmap_get(&inf->cache, e->key), *new = e->value;
                if (!old)
                        p[n++] = (struct pending){INFORMER_ADD, NULL, ref(new)};
                else if (relevant(inf, old, new))
                        p[n++] = (struct pending){INFORMER_UPDATE, ref(old), ref(new)};
        }
        for (struct osb_strmap_entry *e = osb_strmap_first(&inf->cache, &i); e; e = osb_strmap_next(&inf->cache, &i, e))
                if (in_scope(st, e->value) && !osb_strmap_get(&st->staging, e->key))
                        p[n++] = (struct pending){INFORMER_DELETE, ref(e->value), NULL};
        if (inf->nstreams == 1) {
                /* the stream lists the whole cache: swap */
                struct osb_strmap old_cache = inf->cache;
                inf->cache = st->staging;
                st->staging = old_cache;
                if (index_rebuild(inf) < 0)
                        r = -ENOMEM;    /* the caller lists again */
        } else {
                /* one namespace of several: replace its part of the cache */
                for (size_t k = 0; k < n; k++)
                        if (p[k].ev == INFORMER_DELETE) {
                                struct informer_kmeta *gone = osb_strmap_remove(&inf->cache, p[k].old->key);
                                index_remove(inf, gone);
                                unref(inf->kind, gone);
                        }
                for (struct osb_strmap_entry *e = osb_strmap_first(&st->staging, &i); e; e = osb_strmap_next(&st->staging, &i, e)) {
                        void *prev = NULL;
                        if (osb_strmap_put(&inf->cache, e->key, e->value, &prev) < 0) {
                                unref(inf->kind, e->value);
                                r = -ENOMEM;    /* the caller lists again */
                                continue;
                        }
                        index_remove(inf, prev);
                        unref(inf->kind, prev);
                        if (!inf->index_lost)
                                (void) index_add(inf, e->value);
                }
                osb_strmap_release(&st->staging);   /* its references moved to the cache */
                if (inf->index_lost && index_rebuild(inf) < 0)
                        r = -ENOMEM;
        }
        if (!st->listed) {
                st->listed = true;
                inf->nlisted++;
        }
        inf->synced = inf->nlisted == inf->nstreams;
        pthread_cond_broadcast(&inf->cond);
        pthread_mutex_unlock(&inf->lock);
        staging_clear(st);      /* the old cache's references (after a swap) */
        for (size_t k = 0; k < n; k++) {
                notify(inf, p[k].ev, p[k].old, p[k].new);
                unref(inf->kind, p[k].old);
                unref(inf->kind, p[k].new);
        }
        osb_free(p);
        return r;
}

int informer_replace(struct informer *inf, const json_t *items)
{
        size_t i;
        json_t *it;
        struct stream *st = &inf->streams[0];
        staging_clear(st);
        json_array_foreach(items, i, it) {
                int r = stage_item(it, st);
                if (r < 0) {
                        staging_clear(st);
                        return r;
                }
        }
        return stage_commit(st);
}

void informer_resync(struct informer *inf)
{
        struct informer_kmeta **v = NULL;
        size_t n = 0;
        if (informer_snapshot(inf, &v, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++)
                notify(inf, INFORMER_RESYNC, NULL, v[i]);
        informer_snapshot_free(inf, v, n);
}

struct informer_kmeta *informer_get(struct informer *inf, const char *key)
{
        pthread_mutex_lock(&inf->lock);
        struct informer_kmeta *m = ref(osb_strmap_get(&inf->cache, key));
        pthread_mutex_unlock(&inf->lock);
        return m;
}

void informer_put(struct informer *inf, struct informer_kmeta *m)
{
        unref(inf->kind, m);
}

int informer_snapshot(struct informer *inf, struct informer_kmeta ***ret, size_t *n)
{
        pthread_mutex_lock(&inf->lock);
        size_t cnt = inf->cache.count, k = 0, i;
        struct informer_kmeta **v = osb_calloc(cnt + 1, sizeof(*v));
        if (!v) {
                pthread_mutex_unlock(&inf->lock);
                return -ENOMEM;
        }
        for (struct osb_strmap_entry *e = osb_strmap_first(&inf->cache, &i); e; e = osb_strmap_next(&inf->cache, &i, e))
                v[k++] = ref(e->value);
        pthread_mutex_unlock(&inf->lock);
        *ret = v;
        *n = k;
        return 0;
}

int informer_index_snapshot(struct informer *inf, const char *ikey, struct informer_kmeta ***ret, size_t *n)
{
        pthread_mutex_lock(&inf->lock);
        const struct osb_strmap *objs = osb_strmap_get(&inf->index, ikey);
        size_t cnt = objs ? objs->count : 0, k = 0, i;
        struct informer_kmeta **v = NULL;
        if (cnt && !(v = osb_calloc(cnt, sizeof(*v)))) {
                pthread_mutex_unlock(&inf->lock);
                return -ENOMEM;
        }
        for (struct osb_strmap_entry *e = cnt ? osb_strmap_first(objs, &i) : NULL; e; e = osb_strmap_next(objs, &i, e))
                v[k++] = ref(e->value);
        pthread_mutex_unlock(&inf->lock);
        *ret = v;
        *n = k;
        return 0;
}

void informer_snapshot_free(struct informer *inf, struct informer_kmeta **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                unref(inf->kind, v[i]);
        osb_free(v);
}

size_t informer_size(struct informer *inf)
{
        pthread_mutex_lock(&inf->lock);
        size_t n = inf->cache.count;
        pthread_mutex_unlock(&inf->lock);
        return n;
}

void informer_stats(struct informer *inf, struct informer_stats *ret)
{
        pthread_mutex_lock(&inf->lock);
        *ret = inf->stats;
        pthread_mutex_unlock(&inf->lock);
}

bool informer_synced(struct informer *inf)
{
        pthread_mutex_lock(&inf->lock);
        bool s = inf->synced;
        pthread_mutex_unlock(&inf->lock);
        return s;
}

static struct timespec after_ms(int64_t ms)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = ts.tv_nsec + (ms % 1000) * 1000000;
        ts.tv_sec += ms / 1000 + ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        return ts;
}

int informer_wait_synced(struct informer *inf, int64_t timeout_ms)
{
        struct timespec ts = after_ms(timeout_ms);
        int r = 0;
        pthread_mutex_lock(&inf->lock);
        while (!inf->synced && !inf->stopping && r == 0)
                if (pthread_cond_timedwait(&inf->cond, &inf->lock, &ts) == ETIMEDOUT)
                        r = -ETIMEDOUT;
        if (inf->synced)
                r = 0;
        pthread_mutex_unlock(&inf->lock);
        return r;
}

/* ---- the threads ---- */

/* Waits @ms or until stopping. Returns true when stopping. */
static bool wait_or_stop(struct informer *inf, int64_t ms)
{
        struct timespec ts = after_ms(ms);
        pthread_mutex_lock(&inf->lock);
        while (!inf->stopping)
                if (pthread_cond_timedwait(&inf->cond, &inf->lock, &ts) == ETIMEDOUT)
                        break;
        bool s = inf->stopping;
        pthread_mutex_unlock(&inf->lock);
        return s;
}

static bool stopping(struct informer *inf)
{
        pthread_mutex_lock(&inf->lock);
        bool s = inf->stopping;
        pthread_mutex_unlock(&inf->lock);
        return s;
}

static int on_watch_event(enum kube_event_type type, json_t *object, void *userdata)
{
        struct informer *inf = userdata;
        if (stopping(inf))
                return -ECANCELED;
        int r = informer_apply(inf, type, object);
        return r == -ENOMEM ? r : 0;   /* an unreadable object is skipped */
}

static void count(struct informer *inf, uint64_t *field)
{
        pthread_mutex_lock(&inf->lock);
        (*field)++;
        pthread_mutex_unlock(&inf->lock);
}

static void *watch_main(void *arg)
{
        struct stream *st = arg;
        struct informer *inf = st->inf;
        char *rv = NULL;
        unsigned failures = 0;
        int64_t cap = inf->opts.max_backoff_ms > 0 ? inf->opts.max_backoff_ms : 30000;
        while (!stopping(inf)) {
                struct osb_error err = OSB_ERROR_INIT;
                int r;
                if (!rv) {
                        struct kube_list_options lo = {.label_selector = inf->opts.label_selector};
                        staging_clear(st);
                        count(inf, &inf->stats.lists);
                        r = kube_list(inf->client, inf->kind->res, st->ns, &lo, stage_item, st, &rv, &err);
                        metrics_kube_request("list", inf->kind->res->plural, r);
                        if (r >= 0)
                                r = stage_commit(st);
                        else
                                staging_clear(st);
                        if (r < 0) {
                                osb_free(rv);
                                rv = NULL;
                        }
                } else {
                        struct kube_watch_options wo = {
                                .resource_version = rv,
                                .label_selector = inf->opts.label_selector,
                                .timeout_s = inf->opts.watch_timeout_s ? inf->opts.watch_timeout_s : 300,
                                .allow_bookmarks = true,
                        };
                        char *next = NULL;
                        count(inf, &inf->stats.watches);
                        int64_t started = osb_mono_ms();
                        r = kube_watch(inf->client, inf->kind->res, st->ns, &wo, on_watch_event, inf, &next, &err);
                        metrics_kube_request("watch", inf->kind->res->plural, r);
                        if (next) {
                                osb_free(rv);
                                rv = next;
                        }
                        if (r == OSB_E_GONE) {
                                /* The server cannot serve the resourceVersion (410: too old;
                                 * "Too large resource version"): list again, at once. */
                                count(inf, &inf->stats.relists_gone);
                                osb_log_info("watch expired, relisting", "kind=%s namespace=%s", inf->kind->kind,
                                             st->ns ? st->ns : "*");
                                osb_free(rv);
                                rv = NULL;
                                continue;
                        }
                        /* Any other failure (an ERROR event, a failed status, a broken
                         * connection), or a stream the server ended well before timeout_s (it
                         * is shutting down): the next attempt lists again instead of watching
                         * from rv, as client-go's reflector does after a failed watch. A server
                         * that came back without its state (resourceVersions start again from
                         * 1) would accept a watch from our larger rv and send nothing until its
                         * own versions passed it: a list is the only way to see it. */
                        if (r != -ECANCELED && !stopping(inf) &&
                            (r < 0 || osb_mono_ms() - started + 2000 < (int64_t) wo.timeout_s * 1000)) {
                                count(inf, &inf->stats.relists_broken);
                                osb_free(rv);
                                rv = NULL;
                                /* A server that ended the stream early is likely going away: the
                                 * list waits a moment, rather than reading the last state of a
                                 * server about to be replaced (a failure waits its back-off
                                 * below). */
                                if (r >= 0 && wait_or_stop(inf, OSB_MIN(250, cap)))
                                        break;
                        }
                }
                if (r >= 0) {
                        failures = 0;
                        continue;
                }
                if (r == -ECANCELED || stopping(inf))
                        break;
                count(inf, &inf->stats.errors);
                failures++;
                int64_t delay = 250;
                for (unsigned i = 1; i < failures && delay < cap; i++)
                        delay *= 2;
                delay = OSB_MIN(delay, cap);
                osb_log_warn("list/watch failed", "kind=%s namespace=%s error=%s retry_ms=%" PRId64, inf->kind->kind,
                             st->ns ? st->ns : "*", err.text, delay);
                if (wait_or_stop(inf, delay))
                        break;
        }
        osb_free(rv);
        return NULL;
}

static void *resync_main(void *arg)
{
        struct informer *inf = arg;
        while (!wait_or_stop(inf, inf->opts.resync_ms))
                if (informer_synced(inf))
                        informer_resync(inf);
        return NULL;
}

int informer_start(struct kube_client *client, const struct informer_kind *kind,
                   const struct informer_options *opts, informer_handler handler, void *userdata,
                   struct informer **ret)
{
        size_t nns = opts && opts->nnamespaces ? opts->nnamespaces : 0;
        struct informer *inf = informer_new_streams(kind, handler, userdata, nns ? opts->namespaces : NULL, nns);
        if (!inf)
                return -ENOMEM;
        inf->client = client;
        if (opts)
                inf->opts = *opts;
        if (!nns)
                inf->streams[0].ns = inf->opts.ns;
        for (size_t i = 0; i < inf->nstreams; i++) {
                int r = pthread_create(&inf->streams[i].thread, NULL, watch_main, &inf->streams[i]);
                if (r != 0) {
                        informer_free(inf);
                        return -r;
                }
                inf->streams[i].started = true;
        }
        if (inf->opts.resync_ms > 0) {
                int r = pthread_create(&inf->resync_thread, NULL, resync_main, inf);
                if (r != 0) {
                        informer_free(inf);
                        return -r;
                }
                inf->resync_started = true;
        }
        *ret = inf;
        return 0;
}

void informer_stop(struct informer *inf)
{
        if (!inf)
                return;
        pthread_mutex_lock(&inf->lock);
        inf->stopping = true;
        pthread_cond_broadcast(&inf->cond);
        pthread_mutex_unlock(&inf->lock);
        for (size_t i = 0; i < inf->nstreams; i++) {
                if (inf->streams[i].started)
                        pthread_join(inf->streams[i].thread, NULL);
                inf->streams[i].started = false;
        }
        if (inf->resync_started)
                pthread_join(inf->resync_thread, NULL);
        inf->resync_started = false;
}

struct informer *informer_free(struct informer *inf)
{
        if (!inf)
                return NULL;
        informer_stop(inf);
        for (size_t k = 0; k < inf->nstreams; k++)
                staging_clear(&inf->streams[k]);
        osb_free(inf->streams);
        size_t i;
        index_release(inf);
        for (struct osb_strmap_entry *e = osb_strmap_first(&inf->cache, &i); e; e = osb_strmap_next(&inf->cache, &i, e))
                unref(inf->kind, e->value);
        osb_strmap_release(&inf->cache);
        pthread_cond_destroy(&inf->cond);
        pthread_mutex_destroy(&inf->lock);
        osb_free(inf);
        return NULL;
}
