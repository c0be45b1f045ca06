/* test/apiserver/store.c: objects in jansson maps, events in a ring indexed by resourceVersion
 * (every version is exactly one event), watches as cursors into the ring. */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "test/apiserver/store.h"

struct ring_event {
        enum store_event_type type;
        uint64_t rv;
        char *key;
        char *ns;
        json_t *obj;
        json_t *old;
};

struct store_watch {
        struct store *st;
        struct store_watch *next, *prev;
        char *key;          /* NULL: all */
        char *ns;           /* NULL: all */
        uint64_t cursor;    /* events with rv <= cursor were delivered (or skipped) */
        json_t *initial;    /* synthetic ADDED objects still to deliver: array of [key, ns, obj] */
        size_t initial_pos;
        store_notify_fn notify;
        void *userdata;
};

struct store {
        pthread_mutex_t lock;
        pthread_cond_t changed;
        json_t *objects;     /* key -> { "ns/name" -> object } */
        json_t *uids;        /* uid -> key */
        uint64_t rv;
        struct ring_event *ring;
        size_t cap;
        struct store_watch *watches;
};

int store_new(size_t history, struct store **ret)
{
        struct store *st = osb_calloc(1, sizeof(*st));
        if (!st)
                return -ENOMEM;
        pthread_mutex_init(&st->lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&st->changed, &ca);
        pthread_condattr_destroy(&ca);
        st->cap = history ? history : 1;
        st->ring = osb_calloc(st->cap, sizeof(*st->ring));
        st->objects = json_object();
        st->uids = json_object();
        if (!st->ring || !st->objects || !st->uids) {
                store_free(st);
                return -ENOMEM;
        }
        *ret = st;
        return 0;
}

static void ring_event_clear(struct ring_event *e)
{
        osb_free(e->key);
        osb_free(e->ns);
        json_decref(e->obj);
        json_decref(e->old);
        memset(e, 0, sizeof(*e));
}

struct store *store_free(struct store *st)
{
        if (!st)
                return NULL;
        while (st->watches)
                store_watch_close(st->watches);
        for (size_t i = 0; st->ring && i < st->cap; i++)
                ring_event_clear(&st->ring[i]);
        osb_free(st->ring);
        json_decref(st->objects);
        json_decref(st->uids);
        pthread_mutex_destroy(&st->lock);
        pthread_cond_destroy(&st->changed);
        osb_free(st);
        return NULL;
}

void store_lock(struct store *st)
{
        pthread_mutex_lock(&st->lock);
}

void store_unlock(struct store *st)
{
        pthread_mutex_unlock(&st->lock);
}

uint64_t store_rv(const struct store *st)
{
        return st->rv;
}

static int obj_key(char *buf, size_t n, const char *ns, const char *name)
{
        int r = snprintf(buf, n, "%s/%s", ns ? ns : "", name);
        return r < 0 || (size_t) r >= n ? -ENAMETOOLONG : 0;
}

json_t *store_get(struct store *st, const char *key, const char *ns, const char *name)
{
        char k[1024];
        if (obj_key(k, sizeof(k), ns, name) < 0)
                return NULL;
        return json_object_get(json_object_get(st->objects, key), k);
}

static const char *uid_of(const json_t *obj)
{
        return json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid"));
}

static bool watch_wants(const struct store_watch *w, const char *key, const char *ns)
{
        return (!w->key || !strcmp(w->key, key)) && (!w->ns || !strcmp(w->ns, ns ? ns : ""));
}

/* Records the event for version st->rv and wakes whoever may care. */
static int record(struct store *st, enum store_event_type type, const char *key, const char *ns, json_t *obj,
                  json_t *old)
{
        struct ring_event *e = &st->ring[st->rv % st->cap];
        ring_event_clear(e);
        e->type = type;
        e->rv = st->rv;
        e->key = osb_strdup(key);
        e->ns = osb_strdup(ns ? ns : "");
        e->obj = json_incref(obj);
        e->old = json_incref(old);
        pthread_cond_broadcast(&st->changed);
        for (struct store_watch *w = st->watches; w; w = w->next)
                if (w->notify && watch_wants(w, key, ns))
                        w->notify(w->userdata);
        return e->key && e->ns ? 0 : -ENOMEM;
}

static int set_rv(json_t *obj, uint64_t rv)
{
        char buf[32];
        (void) snprintf(buf, sizeof(buf), "%" PRIu64, rv);
        json_t *meta = json_object_get(obj, "metadata");
        if (!json_is_object(meta)) {
                meta = json_object();
                if (!meta || json_object_set_new(obj, "metadata", meta) < 0)
                        return -ENOMEM;
        }
        return json_object_set_new(meta, "resourceVersion", json_string(buf)) < 0 ? -ENOMEM : 0;
}

uint64_t store_put(struct store *st, const char *key, const char *ns, const char *name, json_t *obj)
{
        char k[1024];
        if (obj_key(k, sizeof(k), ns, name) < 0) {
                json_decref(obj);
                return 0;
        }
        json_t *coll = json_object_get(st->objects, key);
        if (!coll) {
                coll = json_object();
                if (!coll || json_object_set_new(st->objects, key, coll) < 0) {
                        json_decref(obj);
                        return 0;
                }
        }
        if (set_rv(obj, st->rv + 1) < 0) {
                json_decref(obj);
                return 0;
        }
        json_t *old = json_incref(json_object_get(coll, k));
        if (json_object_set(coll, k, obj) < 0) {
                json_decref(old);
                json_decref(obj);
                return 0;
        }
        const char *uid = uid_of(obj);
        if (uid)
                (void) json_object_set_new(st->uids, uid, json_string(key));
        st->rv++;
        (void) record(st, old ? STORE_MODIFIED : STORE_ADDED, key, ns, obj, old);
        json_decref(old);
        json_decref(obj);
        return st->rv;
}

uint64_t store_remove(struct store *st, const char *key, const char *ns, const char *name, json_t *final)
{
        char k[1024];
        json_t *coll = json_object_get(st->objects, key);
        json_t *cur = obj_key(k, sizeof(k), ns, name) == 0 ? json_object_get(coll, k) : NULL;
        if (!cur) {
                json_decref(final);
                return 0;
        }
        json_t *old = json_incref(cur);
        json_t *obj = final ? final : json_deep_copy(cur);
        if (!obj || set_rv(obj, st->rv + 1) < 0) {
                json_decref(old);
                json_decref(obj);
                return 0;
        }
        (void) json_object_del(coll, k);
        const char *uid = uid_of(old);
        if (uid)
                (void) json_object_del(st->uids, uid);
        st->rv++;
        (void) record(st, STORE_DELETED, key, ns, obj, old);
        json_decref(old);
        json_decref(obj);
        return st->rv;
}

static int cmp_keys(const void *a, const void *b)
{
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

json_t *store_list(struct store *st, const char *key, const char *ns)
{
        json_t *coll = json_object_get(st->objects, key);
        size_t n = json_object_size(coll);
        const char **keys = osb_calloc(n + 1, sizeof(*keys));
        json_t *out = json_array();
        if (!keys || !out) {
                osb_free(keys);
                json_decref(out);
                return NULL;
        }
        size_t k = 0, plen = ns && *ns ? strlen(ns) : 0;
        const char *name;
        json_t *v;
        json_object_foreach(coll, name, v)
                if (!plen || (!strncmp(name, ns, plen) && name[plen] == '/'))
                        keys[k++] = name;
        qsort(keys, k, sizeof(*keys), cmp_keys);
        for (size_t i = 0; i < k; i++)
                if (json_array_append(out, json_object_get(coll, keys[i])) < 0) {
                        json_decref(out);
                        out = NULL;
                        break;
                }
        osb_free(keys);
        return out;
}

size_t store_count(struct store *st, const char *key, const char *ns)
{
        json_t *coll = json_object_get(st->objects, key);
        if (!ns)
                return json_object_size(coll);
        size_t n = 0, plen = strlen(ns);
        const char *name;
        json_t *v;
        json_object_foreach(coll, name, v)
                if (!strncmp(name, ns, plen) && name[plen] == '/')
                        n++;
        return n;
}

bool store_uid_exists(struct store *st, const char *uid)
{
        return uid && json_object_get(st->uids, uid) != NULL;
}

const char *store_uid_key(struct store *st, const char *uid)
{
        return uid ? json_string_value(json_object_get(st->uids, uid)) : NULL;
}

json_t *store_keys(struct store *st)
{
        json_t *a = json_array();
        const char *k;
        json_t *v;
        json_object_foreach(st->objects, k, v)
                if (json_object_size(v) && a && json_array_append_new(a, json_string(k)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

/* ---- watches ---- */

static uint64_t oldest_rv(const struct store *st)
{
        /* Versions (rv - cap, rv] are in the ring. */
        return st->rv >= st->cap ? st->rv - st->cap + 1 : 1;
}

int store_watch_open(struct store *st, const char *key, const char *ns, uint64_t since_rv,
                     store_notify_fn notify, void *userdata, struct store_watch **ret)
{
        if (since_rv && since_rv + 1 < oldest_rv(st))
                return -ESTALE;
        struct store_watch *w = osb_calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->st = st;
        w->key = key ? osb_strdup(key) : NULL;
        w->ns = ns && *ns ? osb_strdup(ns) : NULL;
        w->notify = notify;
        w->userdata = userdata;
        w->cursor = since_rv ? since_rv : st->rv;
        if ((key && !w->key) || (ns && *ns && !w->ns)) {
                store_watch_close(w);
                return -ENOMEM;
        }
        if (!since_rv) {
                w->initial = json_array();
                if (!w->initial) {
                        store_watch_close(w);
                        return -ENOMEM;
                }
                const char *k;
                json_t *coll;
                json_object_foreach(st->objects, k, coll) {
                        if (key && strcmp(k, key))
                                continue;
                        json_t *objs = store_list(st, k, w->ns);
                        size_t i;
                        json_t *o;
                        json_array_foreach(objs, i, o) {
                                const char *ons = json_string_value(json_object_get(json_object_get(o, "metadata"), "namespace"));
                                if (json_array_append_new(w->initial, json_pack("[s, s, O]", k, ons ? ons : "", o)) < 0) {
                                        json_decref(objs);
                                        store_watch_close(w);
                                        return -ENOMEM;
                                }
                        }
                        json_decref(objs);
                }
        }
        w->next = st->watches;
        if (st->watches)
                st->watches->prev = w;
        st->watches = w;
        *ret = w;
        return 0;
}

int store_watch_next(struct store_watch *w, struct store_event *ev)
{
        struct store *st = w->st;
        if (w->initial && w->initial_pos < json_array_size(w->initial)) {
                json_t *t = json_array_get(w->initial, w->initial_pos++);
                *ev = (struct store_event){
                        .type = STORE_ADDED,
                        .rv = w->cursor,
                        .key = json_string_value(json_array_get(t, 0)),
                        .ns = json_string_value(json_array_get(t, 1)),
                        .obj = json_array_get(t, 2),
                        .old = NULL,
                };
                return 1;
        }
        while (w->cursor < st->rv) {
                if (w->cursor + 1 < oldest_rv(st))
                        return -EPIPE;
                const struct ring_event *e = &st->ring[(w->cursor + 1) % st->cap];
                w->cursor++;
                if (!e->key || !watch_wants(w, e->key, e->ns))
                        continue;
                *ev = (struct store_event){
                        .type = e->type, .rv = e->rv, .key = e->key, .ns = e->ns, .obj = e->obj, .old = e->old,
                };
                return 1;
        }
        return 0;
}

uint64_t store_watch_rv(const struct store_watch *w)
{
        return w->cursor;
}

void store_watch_close(struct store_watch *w)
{
        if (!w)
                return;
        struct store *st = w->st;
        if (w->prev)
                w->prev->next = w->next;
        else if (st->watches == w)
                st->watches = w->next;
        if (w->next)
                w->next->prev = w->prev;
        osb_free(w->key);
        osb_free(w->ns);
        json_decref(w->initial);
        osb_free(w);
}

void store_watch_kick_all(struct store *st)
{
        for (struct store_watch *w = st->watches; w; w = w->next)
                if (w->notify)
                        w->notify(w->userdata);
}

void store_wake(struct store *st)
{
        pthread_cond_broadcast(&st->changed);
}

bool store_wait(struct store *st, uint64_t rv, unsigned timeout_ms)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += timeout_ms / 1000;
        ts.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
        }
        while (st->rv <= rv)
                if (pthread_cond_timedwait(&st->changed, &st->lock, &ts) == ETIMEDOUT)
                        return st->rv > rv;
        return true;
}
