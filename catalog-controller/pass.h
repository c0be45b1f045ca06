/* catalog-controller/pass.h: one reconcile pass of an object, the skeleton every reconciler
 * shares (instances, bindings, brokers): read the object from the cache (or from the API server
 * when the cache may predate our last write), edit a copy of its status, write it with the
 * status subresource (a 409 conflict reruns the pass on a fresh read), emit Events on Ready
 * transitions, edit our finalizer, and queue the key again after a delay or a retry back-off.
 * A struct pass lives for one attempt and owns obj, status, and (instances and bindings) the
 * resolution and the client reference. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/osb_error.h"
#include "common/osb_log.h"
#include "common/osb_time.h"
#include "catalog-controller/ctl.h"
#include "catalog-controller/informer.h"
#include "catalog-controller/resolve.h"

struct pass {
        struct ctl *c;
        const char *kind;               /* "ServiceInstance", "ServiceBinding", "ClusterServiceBroker", ... */
        const struct kube_resource *res;
        const char *key;                /* the queue key */
        const char *ns, *name;          /* borrowed from the queue key's copy; ns NULL: cluster-scoped */
        json_t *obj;                    /* the object as last read or written (owned) */
        json_t *status;                 /* the status we want (owned) */
        int64_t generation;
        time_t tnow;
        char now[OSB_TIME_RFC3339_MAX];
        int64_t requeue_ms;             /* >= 0: process the key again after this long */
        struct resolve_result rv;
        struct osb_client *oc;
        struct ctl_client *cc;
};

void pass_release(struct pass *p);
/* Starts a pass on p->obj: p->status (a copy to edit), p->generation, whether the object is
 * being deleted and whether it carries our finalizer. Returns 0 or -ENOMEM. */
int pass_begin(struct pass *p, bool *deleting, bool *has_finalizer);
void pass_log(const struct pass *p, enum osb_log_level lvl, const char *msg, const char *detail);
void pass_event(const struct pass *p, bool warning, const char *reason, const char *message);
/* Writes p->status to the status subresource unless it equals the object's (then nothing).
 * OSB_E_CONFLICT means the object changed: read it again and redo the pass. */
int pass_write_status(struct pass *p, struct osb_error *err);
/* Writes p->obj (metadata and spec) and keeps what the server returned. */
int pass_write_object(struct pass *p, struct osb_error *err);
/* Sets Ready (and observedGeneration), writes, and emits an Event when the Ready reason changed. */
int pass_ready(struct pass *p, const char *value, const char *reason, const char *message, bool warning,
               struct osb_error *err);
/* A failure worth retrying: Ready=@value @reason "@message; will retry at T", nextRetryTime T,
 * and the key comes back at T (back-off 1 s doubling to --max-retry-interval). */
int pass_retry(struct pass *p, const char *value, const char *reason, const char *message, struct osb_error *err);
/* Removes our finalizer (the object goes away if it is being deleted). */
int pass_finalize(struct pass *p, struct osb_error *err);
/* After an OSB call: true when it was not sent because the broker already has as many requests
 * in flight as it may (-EBUSY); then *r becomes 0 and the key comes back in half a second. */
bool pass_busy(struct pass *p, int *r);
/* The OSB client of the resolved broker (p->rv.broker). */
int pass_client(struct pass *p, struct osb_error *err);
/* A status field. */
const char *pass_str(const struct pass *p, const char *field);
/* The object's spec (borrowed; NULL when it has none). */
static inline const json_t *pass_spec(const struct pass *p)
{
        return json_object_get(p->obj, "spec");
}
int pass_set_str(struct pass *p, const char *field, const char *value);

/* Forgets the running operation (lastOperation, currentOperation, operationStartTime,
                                  * nextRetryTime; asyncOpInProgress false). */
void pass_clear_operation(struct pass *p);
/* Reconciles queue key @key (@prefix_len bytes of kind prefix, then "name" or "namespace/name"):
 * reads the object from @inf (@json_of turns its cached form into JSON) or, when the cache may
 * predate our last write, from the API server, runs @pass, and runs it again on a fresh copy
 * when a write conflicts (409). Queues the key again when the pass asked for it (requeue_ms).
 * An object gone from the cache is forgotten (ctl_forget()). Returns 0, or a negative code so
 * that the queue retries the key with back-off. */
int pass_run(struct ctl *c, const char *key, const char *kind, const struct kube_resource *res,
             struct informer *inf, size_t prefix_len, json_t *(*json_of)(const struct informer_kmeta *m),
             int (*pass)(struct pass *p, struct osb_error *err));
