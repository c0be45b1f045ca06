/* catalog-controller/ctl.h: what every reconciler shares: the options, the informers and the work
 * queue (owned by main.c), the OSB clients of the brokers (built from a broker's spec and auth
 * Secret, cached and reference-counted, since a broker's instances and bindings are reconciled by
 * several workers at once), Events, Secret values, namespace UIDs, and time. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/osb_error.h"
#include "common/osb_strmap.h"
#include "kube/client.h"
#include "catalog-controller/informer.h"
#include "catalog-controller/osb_client.h"
#include "catalog-controller/queue.h"

struct broker;
struct offering_flavour;

struct ctl_options {
        int64_t relist_ms;               /* --broker-relist-interval */
        int64_t osb_timeout_ms;          /* --osb-timeout */
        int64_t retry_duration_ms;       /* --reconciliation-retry-duration */
        int64_t max_retry_ms;            /* --max-retry-interval: cap of the retry back-off */
        int64_t max_poll_ms;             /* --max-poll-interval: cap of last_operation polling */
        bool cascade_delete_bindings;    /* --cascade-delete-bindings */
        const char *cluster_id;          /* OSB organization_guid and context.clusterid */
        unsigned broker_concurrency;     /* requests in flight to one broker (0: the client's most) */
};

/* What the reconcilers share. The informers and queue belong to main.c. */
struct ctl {
        struct kube_client *kube;
        struct ctl_options opts;
        struct queue *queue;
        struct informer *brokers[2], *classes[2], *plans[2];   /* [0] cluster, [1] namespaced */
        struct informer *instances, *bindings, *secrets;
        /* Set (by main.c) once every informer pointer above is stored: workers and handlers read
         * them only after seeing it, since the informers' threads call the handlers (and queue
         * keys) before main.c has stored the later ones, or even their own. */
        atomic_bool started;
        atomic_bool cancel;              /* set at shutdown: OSB requests stop */
        pthread_mutex_t lock;            /* guards the maps below */
        struct osb_strmap clients;       /* broker queue key -> struct ctl_client * */
        struct osb_strmap ns_uids;       /* namespace -> its uid (char *) */
        struct osb_strmap written;       /* queue key -> resourceVersion (char *) of our last write */
        struct osb_strmap retries;       /* queue key -> failed attempts (uintptr_t) */
        struct osb_strmap relists;       /* broker queue key -> 1: its catalog is to be read now */
        time_t (*now)(void);             /* time(), or a test clock */
};

void ctl_init(struct ctl *c);
void ctl_release(struct ctl *c);

/* Queue keys carry the kind. */
#define CTL_KEY_CLUSTER_BROKER "ClusterServiceBroker/"
#define CTL_KEY_BROKER "ServiceBroker/"
#define CTL_KEY_INSTANCE "ServiceInstance/"
#define CTL_KEY_BINDING "ServiceBinding/"

#define CTL_EVENT_SOURCE "catalog-controller"

/* ---- OSB clients ---- */

struct ctl_client;
/* The OSB client of broker @b (flavour @fl): the cached one while the broker's URL, auth Secret
 * values and TLS settings stay the same, else a new one. The auth Secret is read on every call
 * (a rotated credential is used at once). Returns 0 with *ret usable until ctl_client_put(*ref), or an error naming what
 * is wrong (missing Secret or key, bad caBundle, ...). */
int ctl_broker_client(struct ctl *c, const struct offering_flavour *fl, const struct broker *b, struct osb_client **ret,
                      struct ctl_client **ref, struct osb_error *err);
void ctl_client_put(struct ctl_client *cc);
/* Forgets the cached client of the broker with queue key @key (it is freed when unused). */
void ctl_drop_client(struct ctl *c, const char *key);

/* ---- Kubernetes helpers ---- */

/* The bytes of key @key of Secret @ns/@name (data, base64-decoded, or stringData). Returns 0 with
 * *ret new (NUL-terminated) and *len, OSB_E_NOT_FOUND ("Secret NS/NAME not found"),
 * OSB_E_BAD_REQUEST (no such key, not base64), or a request error; @err names the Secret. */
int ctl_secret_value(struct ctl *c, const char *ns, const char *name, const char *key, char **ret, size_t *len,
                     struct osb_error *err);
/* The uid of namespace @ns (cached). Returns 0 with *ret new, or an error. */
int ctl_namespace_uid(struct ctl *c, const char *ns, char **ret, struct osb_error *err);

/* The object an Event is about. */
struct ctl_object_ref {
        const char *kind, *ns, *name, *uid, *resource_version;
};
/* Creates a core/v1 Event about @obj (in its namespace, or in the event namespace for
 * cluster-scoped objects). Best effort: a failure is logged, not returned. */
void ctl_event(struct ctl *c, const struct ctl_object_ref *obj, bool warning, const char *reason, const char *message);

/* Our own writes: after writing object @key, remember the resourceVersion the server gave it, so
 * that the next reconcile reads the live object while the cache still holds an older one. */
void ctl_note_write(struct ctl *c, const char *key, const json_t *written);
/* Whether the cached copy with @resource_version may predate our last write of @key (then read
 * the live object). Forgets the note once the cache has caught up. */
bool ctl_cache_stale(struct ctl *c, const char *key, const char *resource_version);

/* The retry back-off of @key: the number of failed attempts so far (ctl_retry_fail() adds one and
 * returns the delay before the next attempt: 1 s doubling up to max_retry_ms). */
int64_t ctl_retry_fail(struct ctl *c, const char *key);
void ctl_retry_reset(struct ctl *c, const char *key);
/* A broker answered as if its catalog were not what the cache holds (MaintenanceInfoConflict):
 * its catalog is read at its next reconcile whatever its relist settings, and its key (queue
 * key @key, CTL_KEY_*BROKER) is queued. ctl_relist_take() says (once) whether one is wanted. */
void ctl_relist_request(struct ctl *c, const char *key);
bool ctl_relist_take(struct ctl *c, const char *key);
/* The object of @key is gone: forget its back-off, write note and (a broker's) OSB client. */
void ctl_forget(struct ctl *c, const char *key);
