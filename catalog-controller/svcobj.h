/* catalog-controller/svcobj.h: ServiceInstances and ServiceBindings as the controller caches
 * them (the object as compact JSON text plus the few fields the event handlers index on, so a
 * cached object costs about its JSON size, not a jansson tree), the status helpers both
 * reconcilers use (conditions on a JSON status, as the reference shapes them), and the
 * resolution of an instance's class, plan and broker from the caches (reference §1.4). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/osb_error.h"
#include "common/osb_log.h"
#include "catalog-controller/ctl.h"
#include "catalog-controller/informer.h"
#include "catalog-controller/offering.h"
#include "catalog-controller/reconcile_broker.h"

/* Our annotations. */
#define SVC_ANNOTATION_ABANDON "bindery.dev/abandon"                       /* "true" */
#define SVC_ANNOTATION_ORPHAN_MITIGATION "bindery.dev/orphan-mitigation"   /* "disabled" */


struct svcobj {
        struct kmeta meta;
        char *json;              /* the object (managedFields dropped), compact */
        bool ready;              /* condition Ready is True */
        bool unresolved;         /* Ready=False with a References... reason: waits for classes/plans */
        bool abandon;            /* SVC_ANNOTATION_ABANDON is "true" */
        char *instance_ref;      /* bindings: spec.instanceRef.name */
        char **secret_refs;      /* instances: the Secrets of spec.parametersFrom */
        size_t nsecret_refs;
};

int svcobj_extract(const json_t *obj, struct kmeta **ret);
void svcobj_free(struct kmeta *m);
/* Generation, deletion, finalizers, uid, our annotations, or Ready changed. */
bool svcobj_relevant(const struct kmeta *old, const struct kmeta *new);
/* The cached object as a new JSON tree, or NULL on OOM. */
json_t *svcobj_json(const struct svcobj *o);

/* A minimal Secret for the Secret informer: its metadata only. */
int secret_extract(const json_t *obj, struct kmeta **ret);
void secret_free(struct kmeta *m);

/* ---- status ---- */

/* Condition @type in @status (a JSON object), or NULL. */
json_t *svc_condition(const json_t *status, const char *type);
bool svc_condition_is(const json_t *status, const char *type, const char *value);
/* Sets condition @type; lastTransitionTime changes only when status flips (or it is new).
 * Recomputes status.lastConditionState. Returns 0 or -ENOMEM. */
int svc_set_condition(json_t *status, const char *type, const char *value, const char *reason, const char *message,
                      const char *now);
void svc_remove_condition(json_t *status, const char *type);

/* ---- an instance's class, plan and broker ---- */

struct resolved {
        const struct flavour *fl;
        struct offering *cls, *plan;    /* references (informer_put by resolved_release) */
        struct broker *broker;
        char *user_class, *user_plan;   /* status.userSpecifiedClassName/PlanName */
        struct ctl *c;
};
void resolved_release(struct resolved *rv);

/* Resolves @spec's class and plan (external name, external id or k8s name; the plan may be
 * omitted when the class has one) among the cached ones of namespace @ns, and the broker. On
 * failure returns OSB_E_NOT_FOUND with *reason (static) one of the reference's References...
 * reasons and @err the message; -ENOMEM. With @by_ref, uses spec.clusterServiceClassRef and the like (what was
 * resolved before) instead of the user's fields. *ret is filled as far as resolution got (class
 * and plan without a broker, say): resolved_release() it in every case. */
int svc_resolve(struct ctl *c, const json_t *spec, const char *ns, bool by_ref, struct resolved *ret,
                const char **reason, struct osb_error *err);

/* ---- what instances and bindings send ---- */

/* The parameters of @spec (spec.parameters + spec.parametersFrom Secrets of namespace @ns), as
 * params_build() returns them. Errors name the Secret and key. */
int svc_parameters(struct ctl *c, const char *ns, const json_t *spec, json_t **params, json_t **redacted,
                   char checksum[65], struct osb_error *err);
/* The X-Broker-API-Originating-Identity value for spec.userInfo ("kubernetes <base64 JSON>"),
 * or NULL (none, or OOM: *oom says which). */
char *svc_identity(const json_t *spec, bool *oom);
/* The OSB context a Kubernetes platform sends. Returns new, or NULL on OOM. */
json_t *svc_context(struct ctl *c, const char *ns, const char *ns_uid, const char *instance_name);
/* The value of annotation @key, or NULL. */
const char *svc_annotation(const json_t *obj, const char *key);
/* Removes our finalizer from @obj (in place). Returns whether it was there. */
bool svc_drop_finalizer(json_t *obj);
/* Adds our finalizer to @obj (in place) unless present. Returns 1 (added), 0, -ENOMEM. */
int svc_add_finalizer(json_t *obj);

/* ---- one reconcile of an instance or a binding ---- */

struct spass {
        struct ctl *c;
        const char *kind;               /* "ServiceInstance" / "ServiceBinding" */
        const struct kube_resource *res;
        const char *key;                /* the queue key */
        const char *ns, *name;          /* borrowed from the queue key's copy */
        json_t *obj;                    /* the object as last read or written (owned) */
        json_t *status;                 /* the status we want (owned) */
        int64_t generation;
        time_t tnow;
        char now[32];
        int64_t requeue_ms;             /* >= 0: process the key again after this long */
        struct resolved rv;
        struct osb_client *oc;
        struct ctl_client *cc;
};

void spass_release(struct spass *p);
/* Starts a pass on p->obj: p->status (a copy to edit), p->generation, whether the object is
 * being deleted and whether it carries our finalizer. Returns 0 or -ENOMEM. */
int spass_begin(struct spass *p, bool *deleting, bool *has_finalizer);
void spass_log(const struct spass *p, enum osb_log_level lvl, const char *msg, const char *detail);
void spass_event(const struct spass *p, bool warning, const char *reason, const char *message);
/* Writes p->status to the status subresource unless it equals the object's (then nothing).
 * OSB_E_CONFLICT means the object changed: read it again and redo the pass. */
int spass_write_status(struct spass *p, struct osb_error *err);
/* Writes p->obj (metadata and spec) and keeps what the server returned. */
int spass_write_object(struct spass *p, struct osb_error *err);
/* Sets Ready (and observedGeneration), writes, and emits an Event when the Ready reason changed. */
int spass_ready(struct spass *p, const char *value, const char *reason, const char *message, bool warning,
                struct osb_error *err);
/* A failure worth retrying: Ready=@value @reason "@message; will retry at T", nextRetryTime T,
 * and the key comes back at T (back-off 1 s doubling to --max-retry-interval). */
int spass_retry(struct spass *p, const char *value, const char *reason, const char *message, struct osb_error *err);
/* Removes our finalizer (the object goes away if it is being deleted). */
int spass_finalize(struct spass *p, struct osb_error *err);
/* After an OSB call: true when it was not sent because the broker already has as many requests
 * in flight as it may (-EBUSY); then *r becomes 0 and the key comes back in half a second. */
bool spass_busy(struct spass *p, int *r);
/* The OSB client of the resolved broker (p->rv.broker). */
int spass_client(struct spass *p, struct osb_error *err);
/* A status field. */
const char *spass_str(const struct spass *p, const char *field);
int spass_set_str(struct spass *p, const char *field, const char *value);

/* The OSB answer in words: "the broker answered 500 ConcurrencyError: description". */
void spass_describe(const struct osb_response *resp, char *out, size_t n);
/* Forgets the running operation (lastOperation, currentOperation, operationStartTime,
 * nextRetryTime; asyncOpInProgress false). */
void spass_clear_operation(struct spass *p);
/* Sets spec.externalID to a random UUID when empty. Returns 1 (set), 0, or -ENOMEM. */
int svc_default_external_id(json_t *spec);
/* Reconciles queue key @key (@prefix_len bytes of kind prefix, then "namespace/name"): reads
 * the object from @inf (or, when the cache may predate our last write, from the API server),
 * runs @pass, and runs it again on a fresh copy when a write conflicts (409). Queues the key
 * again when the pass asked for it. Returns as reconcile_instance(). */
int spass_run(struct ctl *c, const char *key, const char *kind, const struct kube_resource *res,
              struct informer *inf, size_t prefix_len, int (*pass)(struct spass *p, struct osb_error *err));
