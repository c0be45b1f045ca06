/* catalog-controller/informer.h: list-then-watch of one resource kind into a cache of compact C
 * structs, with event handlers. One thread (per namespace, when given several) lists (kube_list) and then watches (kube_watch, with
 * bookmarks) from the list's resourceVersion, watches again from the last resourceVersion when a
 * watch ends at its timeout, lists again at once on OSB_E_GONE (410, "Too large resource
 * version"), and lists again with a capped back-off after any other failure or a watch the
 * server ended early (restarted: its resourceVersions may have gone backwards). A
 * second thread calls the handler for every cached object each resync period.
 *
 * Cached objects are immutable and reference-counted: every one starts with a struct informer_kmeta,
 * informer_get()/informer_snapshot() hand out references, and informer_put() drops them.
 *
 * Besides its key ("namespace/name"), a cached object may carry index keys (kmeta.ikeys, filled
 * by its kind's extract): the informer keeps, under its lock, the objects of each index key, so
 * informer_index_snapshot() costs the objects it returns, not the cache's size (client-go's
 * Indexer). */
#pragma once

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/osb_error.h"
#include "kube/client.h"

/* What every cached object starts with. Strings are owned (informer_kmeta_release()), all in one
 * allocation that key starts (name is its tail). */
struct informer_kmeta {
        atomic_uint refs;
        char *key;               /* "name" or "namespace/name" */
        char *name, *ns;         /* ns NULL for cluster-scoped objects */
        char *uid, *resource_version;
        int64_t generation;
        bool deleting;           /* metadata.deletionTimestamp is set */
        bool finalizer;          /* metadata.finalizers holds NAMES_FINALIZER */
        size_t nfinalizers;
        char **ikeys;            /* index keys (informer_kmeta_add_ikey()), owned; may be NULL */
        size_t nikeys;
};

/* Fills @m from @obj's metadata (refs = 1). Returns 0, -EINVAL (no metadata.name), -ENOMEM. */
int informer_kmeta_init(struct informer_kmeta *m, const json_t *obj);
void informer_kmeta_release(struct informer_kmeta *m);
/* A zeroed struct of @size bytes (a struct that starts with its struct informer_kmeta) with the kmeta
 * filled from @obj, for an informer_kind's extract. Returns 0 with *ret new (osb_free() it
 * after informer_kmeta_release()), -EINVAL (no metadata.name) or -ENOMEM. */
int informer_kmeta_new(size_t size, const json_t *obj, struct informer_kmeta **ret);
/* The cache key of @obj: "name" or "namespace/name". Returns new, or NULL (no name, OOM). */
char *informer_kmeta_key_of(const json_t *obj);
/* Adds index key @ikey (copied) to @m, for an extract; a key already there is not added twice.
 * Returns 0 or -ENOMEM. */
int informer_kmeta_add_ikey(struct informer_kmeta *m, const char *ikey);

/* Per kind: how to make and free the compact struct, and which changes matter. */
struct informer_kind {
        const char *kind;                   /* "ClusterServiceBroker", for logs */
        const struct kube_resource *res;
        /* Builds the struct from @obj (borrowed). Returns 0 with *ret new (its kmeta filled
         * with informer_kmeta_init()), or a negative code (the object is then skipped). */
        int (*extract)(const json_t *obj, struct informer_kmeta **ret);
        /* Frees what extract allocated beyond the kmeta, and the struct. */
        void (*free)(struct informer_kmeta *m);
        /* Whether an update from @old to @new should reach the handler; NULL: when the
         * resourceVersion changed. Lets the controller ignore its own status writes. */
        bool (*relevant)(const struct informer_kmeta *old, const struct informer_kmeta *new);
};

enum informer_event { INFORMER_ADD, INFORMER_UPDATE, INFORMER_DELETE, INFORMER_RESYNC };

/* Called on the informer's threads, for each relevant change: @old (UPDATE, DELETE) and @new
 * (ADD, UPDATE, RESYNC) are borrowed for the call. Keep it short: enqueue keys. */
typedef void (*informer_handler)(void *userdata, enum informer_event ev, const struct informer_kmeta *old,
                                 const struct informer_kmeta *new);

struct informer_options {
        const char *ns;                 /* NULL: all namespaces */
        /* When nnamespaces > 0: one list/watch per namespace, all in the one cache (ns is then
         * ignored); synced once each has listed. */
        const char *const *namespaces;
        size_t nnamespaces;
        const char *label_selector;     /* NULL: all objects */
        int64_t resync_ms;              /* 0: no resync */
        unsigned watch_timeout_s;       /* 0: 300 */
        int64_t max_backoff_ms;         /* reconnect back-off cap; 0: 30000 */
};

/* Observability: counts kept by the informer. */
struct informer_stats {
        uint64_t lists, watches, relists_gone, errors, events;
        uint64_t relists_broken;   /* lists after a failed or early-ended watch */
};

struct informer;

/* Starts the threads. @client, @kind and @opts (its strings too) are borrowed for the
 * informer's lifetime. Returns 0 with *ret new, -ENOMEM, or -errno from pthread_create. The
 * handler may be called (once the first list is in) before this returns and *ret is set: what
 * it queues must not reach code that reads *ret until the caller has published it (main.c:
 * ctl.started). */
int informer_start(struct kube_client *client, const struct informer_kind *kind,
                   const struct informer_options *opts, informer_handler handler, void *userdata,
                   struct informer **ret);
/* Stops the watch and resync threads (no more handler calls) but keeps the cache readable:
 * at shutdown, stop every informer, then drain the workers, then free. NULL-safe. */
void informer_stop(struct informer *inf);
/* Stops and frees. The watch thread leaves its current request only when it ends: call
 * kube_client_cancel() first (at shutdown) or live with up to watch_timeout_s. NULL-safe. */
struct informer *informer_free(struct informer *inf);

/* True once the first list is in the cache. */
bool informer_synced(struct informer *inf);
/* Waits up to @timeout_ms for informer_synced(). Returns 0 or -ETIMEDOUT. */
int informer_wait_synced(struct informer *inf, int64_t timeout_ms);

/* The cached object for @key, with a new reference (informer_put()), or NULL. */
struct informer_kmeta *informer_get(struct informer *inf, const char *key);
/* Drops a reference from informer_get()/informer_snapshot(). NULL-safe. */
void informer_put(struct informer *inf, struct informer_kmeta *m);
/* Every cached object, each with a new reference. Returns 0 with *ret (new array: free with
 * informer_snapshot_free()) and *n, or -ENOMEM. */
int informer_snapshot(struct informer *inf, struct informer_kmeta ***ret, size_t *n);
/* The cached objects whose kmeta.ikeys hold @ikey, each with a new reference, in no particular
 * order. Returns 0 with *ret (new array, NULL when *n is 0: free with informer_snapshot_free())
 * and *n, or -ENOMEM. */
int informer_index_snapshot(struct informer *inf, const char *ikey, struct informer_kmeta ***ret, size_t *n);
void informer_snapshot_free(struct informer *inf, struct informer_kmeta **v, size_t n);
size_t informer_size(struct informer *inf);
void informer_stats(struct informer *inf, struct informer_stats *ret);

/* The cache without the threads, for the informer's own use and for tests: apply one event or
 * replace the whole content as a list does, calling the handler as the informer would. */
struct informer *informer_new_detached(const struct informer_kind *kind, informer_handler handler,
                                       void *userdata);
/* Applies a watch event for @obj. Returns 0, or the extract error. */
int informer_apply(struct informer *inf, int event_type /* enum kube_event_type */, const json_t *obj);
/* Replaces the cache by @items (a JSON array of objects, as a list returned), sending ADD for new
 * keys, UPDATE for changed ones and DELETE for vanished ones. Returns 0 or -ENOMEM. */
int informer_replace(struct informer *inf, const json_t *items);
/* Calls the handler with RESYNC for every cached object. */
void informer_resync(struct informer *inf);
