/* test/apiserver/store.h: the in-memory object store: objects by (storage key, namespace,
 * name), one cluster-wide resourceVersion counter, a bounded history of change events, a uid
 * index, and watch cursors over the history. One mutex guards everything; the functions marked
 * "locked" must be called with it held (store_lock). Stored objects are immutable once put:
 * writers put a new object, so events and readers may share references. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

enum store_event_type { STORE_ADDED, STORE_MODIFIED, STORE_DELETED };

struct store_event {
        enum store_event_type type;
        uint64_t rv;
        const char *key;    /* storage key, borrowed from the store (valid while the event is) */
        const char *ns;     /* "" for cluster-scoped */
        json_t *obj;        /* borrowed: the object after the change (as deleted, for DELETED) */
        json_t *old;        /* borrowed: the object before (NULL for ADDED) */
};

/* @history: how many events are kept for watches (>= 1). Returns 0 or -ENOMEM. */
int store_new(size_t history, struct store **ret);
struct store *store_free(struct store *st);  /* NULL-safe; returns NULL */

void store_lock(struct store *st);
void store_unlock(struct store *st);

/* locked. The current (latest) resourceVersion. */
uint64_t store_rv(const struct store *st);
/* locked. Borrowed object or NULL. @ns is "" for cluster-scoped objects. */
json_t *store_get(struct store *st, const char *key, const char *ns, const char *name);
/* locked. Stores @obj (stolen) as the new version of key/ns/name: sets metadata.resourceVersion
 * to the next version, records ADDED (new) or MODIFIED, indexes metadata.uid, wakes watchers.
 * Returns the new resourceVersion, or 0 on OOM (obj freed). */
uint64_t store_put(struct store *st, const char *key, const char *ns, const char *name, json_t *obj);
/* locked. Removes key/ns/name; @final (stolen; NULL: the stored object) gets the next
 * resourceVersion and is the DELETED event's object. Returns the version or 0 if absent/OOM. */
uint64_t store_remove(struct store *st, const char *key, const char *ns, const char *name, json_t *final);
/* locked. New array of the objects (new references) under @key, in @ns ("" or NULL: all),
 * sorted by namespace then name. NULL on OOM. */
json_t *store_list(struct store *st, const char *key, const char *ns);
/* locked. Number of objects under @key in @ns (NULL: all). */
size_t store_count(struct store *st, const char *key, const char *ns);
/* locked. True if an object with this uid exists; its storage key in *ret_key (borrowed). */
bool store_uid_exists(struct store *st, const char *uid);
/* locked. The storage key of the object with this uid (borrowed), or NULL. */
const char *store_uid_key(struct store *st, const char *uid);
/* locked. Every storage key that holds objects: new array of strings. */
json_t *store_keys(struct store *st);

/* Watches. A watch is a cursor into the history; a writer never waits for it. */
struct store_watch;
typedef void (*store_notify_fn)(void *userdata);

/* locked. Opens a watch on @key (NULL: every key) in @ns (NULL or "": all) receiving the events
 * after @since_rv. @since_rv = 0 means "now" and first replays every current object as a
 * synthetic ADDED event. Returns 0, -ESTALE when @since_rv is older than the history (410), or
 * -ENOMEM. @notify (may be NULL) is called with the lock held after each change that may concern
 * the watch, and by store_watch_kick(); it must not call back into the store. */
int store_watch_open(struct store *st, const char *key, const char *ns, uint64_t since_rv,
                     store_notify_fn notify, void *userdata, struct store_watch **ret);
/* locked. The next event (borrowed until the next call or close): 1 with *ev, 0 when none yet,
 * -EPIPE when the watch fell behind the history (it must be ended). */
int store_watch_next(struct store_watch *w, struct store_event *ev);
/* locked. The resourceVersion this watch has seen up to (for bookmarks). */
uint64_t store_watch_rv(const struct store_watch *w);
/* locked. Closes and frees. NULL-safe. */
void store_watch_close(struct store_watch *w);
/* locked. Calls every watch's notify (timers, shutdown). */
void store_watch_kick_all(struct store *st);
/* locked. Wakes store_wait() callers without a change (shutdown). */
void store_wake(struct store *st);
/* Waits (lock held; it is released while waiting) until the resourceVersion passes @rv or
 * @timeout_ms elapse. Returns true if it did. */
bool store_wait(struct store *st, uint64_t rv, unsigned timeout_ms);
