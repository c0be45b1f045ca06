/* catalog-controller/reconcile_broker.h: the ClusterServiceBroker and ServiceBroker reconciler:
 * finalizer, auth Secret, catalog fetch, classes and plans, removedFromBrokerCatalog,
 * restrictions, relist timing, conditions, Events, deletion (docs/controller.md, "Registering a
 * broker"). Also the broker's compact cached form and its relist timing, which the unit tests
 * drive directly; its conditions are condition.c's. The controller context every reconciler
 * shares is in ctl.h. */
#pragma once

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/osb_error.h"
#include "kube/client.h"
#include "catalog-controller/ctl.h"
#include "catalog-controller/informer.h"
#include "catalog-controller/offering.h"
#include "catalog-controller/queue.h"
#include "catalog-controller/strmap.h"

/* ---- the cached broker ---- */

struct broker {
        struct kmeta meta;
        char *url;
        bool insecure_skip_tls_verify;
        char *ca_bundle;                 /* base64 as in the object, or NULL */
        bool manual_relist;              /* relistBehavior: Manual */
        int64_t relist_ms;               /* parsed relistDuration; 0: the default */
        bool relist_duration_invalid;
        int64_t relist_requests;
        char **class_restrictions, **plan_restrictions;
        size_t nclass_restrictions, nplan_restrictions;
        char *basic_ns, *basic_name;     /* authInfo.basic.secretRef */
        char *bearer_ns, *bearer_name;   /* authInfo.bearer.secretRef */
        json_t *status;                  /* the object's status (an object; never changed once cached:
                                          * read it with condition.c, edit a json_deep_copy) */
};

int broker_extract(const json_t *obj, struct kmeta **ret);
void broker_free(struct kmeta *m);
/* Generation, deletion, finalizers or uid changed: status-only writes (ours) are not. */
bool broker_relevant(const struct kmeta *old, const struct kmeta *new);

/* Whether a catalog fetch is due (a new generation, a relist request, or relistDuration
 * passed since the last fetch), and if not, in how many ms (*wait_ms, -1: never
 * by timer). */
bool broker_needs_relist(const struct broker *b, int64_t default_relist_ms, time_t now, int64_t *wait_ms);

/* The queue handler for broker keys (@key with its prefix). Returns 0, or a negative code so the
 * queue retries with back-off. Logs one line per outcome. */
int reconcile_broker(struct ctl *c, const struct flavour *fl, const char *key);
