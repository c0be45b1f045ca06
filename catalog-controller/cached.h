/* catalog-controller/cached.h: ServiceInstances, ServiceBindings and Secrets as the informers
 * cache them. An instance or binding is kept as compact JSON text, packed (packed.h: what all
 * such objects have in common is not stored again), plus the few fields the event routing
 * indexes on (route.c), so a cached object costs about its own values, not a jansson tree nor
 * its whole JSON; a Secret is kept as its metadata only. The informer owns every struct cached; readers
 * borrow one with informer_get() and give it back with informer_put(). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "catalog-controller/informer.h"

struct cached {
        struct informer_kmeta meta;
        char *json;              /* the object (managedFields dropped), compact, packed_pack()ed */
        bool ready;              /* condition Ready is True */
        bool unresolved;         /* Ready=False with a References... reason: waits for classes/plans */
        bool abandon;            /* NAMES_ANNOTATION_ABANDON is "true" */
        char *servicebinding;    /* instances: NAMES_ANNOTATION_SERVICEBINDING, or NULL */
        bool force_rotate;       /* bindings: ROTATION_ANNOTATION_FORCE is set */
        char *instance_ref;      /* bindings: spec.instanceRef.name */
        char *plan_ref;          /* instances: spec.clusterServicePlanRef.name or servicePlanRef.name */
        char *instance_ns;       /* bindings: spec.instanceRef.namespace, or NULL (the binding's own) */
        char **secret_refs;      /* instances: the Secrets of spec.parametersFrom */
        size_t nsecret_refs;
};

/* Index keys (kmeta.ikeys, informer_index_snapshot()) of the instance and binding caches:
 *   - a binding: cached_ikey_instance() of its instance (spec.instanceRef; its namespace is
 *     spec.instanceRef.namespace when set, else the binding's);
 *   - an instance: cached_ikey_secret() of each Secret of spec.parametersFrom, and
 *     CACHED_IKEY_UNRESOLVED while it waits for a class, plan or broker (unresolved), and
 *     cached_ikey_plan() of its resolved plan (NULL namespace: a ClusterServicePlan). */
#define CACHED_IKEY_UNRESOLVED "unresolved"
/* "instance:NS/NAME" and "secret:NS/NAME". Return new, or NULL on OOM. */
char *cached_ikey_instance(const char *ns, const char *name);
char *cached_ikey_secret(const char *ns, const char *name);
char *cached_ikey_plan(const char *ns, const char *name);

/* The informer_kind callbacks of instances and bindings. */
int cached_extract(const json_t *obj, struct informer_kmeta **ret);
void cached_free(struct informer_kmeta *m);
/* Generation, deletion, finalizers, uid, our annotations, or Ready changed. */
bool cached_relevant(const struct informer_kmeta *old, const struct informer_kmeta *new);
/* The cached object as a new JSON tree, or NULL on OOM. */
json_t *cached_json(const struct cached *o);
/* The same for the struct cached that @m starts. */
json_t *cached_json_of(const struct informer_kmeta *m);
/* @obj as compact JSON text without metadata.managedFields (which nothing here reads), the form
 * the caches keep whole objects in. Returns new, or NULL on OOM. */
char *cached_text(const json_t *obj);

/* A minimal Secret for the Secret informer: its metadata only. */
int cached_secret_extract(const json_t *obj, struct informer_kmeta **ret);
void cached_secret_free(struct informer_kmeta *m);

/* The informers' descriptions of the kinds cached here. */
extern const struct informer_kind cached_kind_instances;  /* ServiceInstance */
extern const struct informer_kind cached_kind_bindings;   /* ServiceBinding */
extern const struct informer_kind cached_kind_secrets;    /* Secret (metadata only) */
