/* catalog-controller/broker.h: ClusterServiceBrokers and ServiceBrokers as the informers cache
 * them: the spec parsed into what the reconciler and the OSB clients read, and the status as a
 * JSON object (never changed once cached: read it with condition.c, edit a json_deep_copy);
 * and when a broker's catalog is due. The informer owns every struct broker; readers borrow one
 * with informer_get() and give it back with informer_put(). Pure: unit-tested directly. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "catalog-controller/informer.h"

struct broker {
        struct informer_kmeta meta;
        char *json;                      /* the object (managedFields dropped), compact */
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
        json_t *status;                  /* the object's status, an object */
};

int broker_extract(const json_t *obj, struct informer_kmeta **ret);
void broker_free(struct informer_kmeta *m);
/* The cached broker @m as a new JSON tree, or NULL on OOM. */
json_t *broker_json(const struct informer_kmeta *m);
/* Generation, deletion, finalizers or uid changed: status-only writes (ours) are not. */
bool broker_relevant(const struct informer_kmeta *old, const struct informer_kmeta *new);
/* The informers' descriptions of the two broker kinds. */
extern const struct informer_kind broker_kind_cluster;     /* ClusterServiceBroker */
extern const struct informer_kind broker_kind_namespaced;  /* ServiceBroker */

/* Whether a catalog fetch is due (a new generation, a relist request, or relistDuration
 * passed since the last fetch), and if not, in how many ms (*wait_ms, -1: never
 * by timer). */
bool broker_needs_relist(const struct broker *b, int64_t default_relist_ms, time_t now, int64_t *wait_ms);

