/* catalog-controller/offering.h: classes and plans ("offerings"): the compact cached form of
 * ClusterServiceClass/ServiceClass/ClusterServicePlan/ServicePlan objects, the conversion of a
 * broker's OSB catalog into the objects the controller wants (named and labelled as service-catalog names them), the
 * catalog restrictions, and a digest of the broker-owned part of an object so that "does this
 * object need an update?" is answered from the cache without keeping whole JSON trees. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/osb_error.h"
#include "catalog-controller/informer.h"

#define OFFERING_DIGEST_LEN 56

/* Which flavour: cluster-scoped (ClusterServiceBroker → ClusterServiceClass/Plan) or namespaced
 * (ServiceBroker → ServiceClass/Plan in the broker's namespace). */
struct offering_flavour {
        bool namespaced;
        const char *broker_kind, *class_kind, *plan_kind;
        const struct kube_resource *broker_res, *class_res, *plan_res;
        const char *broker_field;       /* "clusterServiceBrokerName" / "serviceBrokerName" */
        const char *class_ref_field;    /* "clusterServiceClassRef" / "serviceClassRef" */
        const char *broker_label, *class_ref_label;
        const char *class_name_property; /* restriction property for the class's k8s name */
        const char *deleted_reason;     /* Ready=False reason after finalization */
};
extern const struct offering_flavour offering_flavour_cluster, offering_flavour_namespaced;

/* A cached class or plan. */
struct offering {
        struct informer_kmeta meta;
        bool is_plan;
        char *broker;            /* spec.clusterServiceBrokerName / serviceBrokerName, or NULL */
        char *external_id, *external_name;
        char *class_ref;         /* plans: spec.*ClassRef.name */
        bool removed;            /* status.removedFromBrokerCatalog */
        bool controller_owned;   /* has a controller ownerReference of kind *ServiceBroker */
        int bindable;            /* spec.bindable: 1, 0, or -1 when unset (a plan inherits its class's) */
        bool binding_retrievable;/* classes: spec.bindingRetrievable */
        bool instance_retrievable;/* classes: spec.instancesRetrievable */
        bool binding_rotatable;  /* plans: spec.bindingRotatable (OSB binding_rotatable) */
        int64_t max_poll_s;      /* plans: spec.maximumPollingDuration in seconds, 0 when unset */
        /* plans: spec.instanceCreateParameterSchema, instanceUpdateParameterSchema and
         * serviceBindingCreateParameterSchema (NULL when unset), read-only once cached */
        json_t *schema_create, *schema_update, *schema_bind;
        json_t *maintenance_info;/* plans: spec.maintenanceInfo ({version, description}), or NULL */
        char *tags;              /* classes: spec.tags as compact JSON (an array), or NULL */
        char *provider;          /* classes: spec.externalMetadata.providerDisplayName, or NULL */
        char digest[OFFERING_DIGEST_LEN + 1];
};

/* informer_kind callbacks for classes and plans. */
int offering_extract_class(const json_t *obj, struct informer_kmeta **ret);
int offering_extract_plan(const json_t *obj, struct informer_kmeta **ret);
void offering_free(struct informer_kmeta *m);
bool offering_relevant(const struct informer_kmeta *old, const struct informer_kmeta *new);
/* The informers' descriptions of the class and plan kinds. */
extern const struct informer_kind offering_kind_cluster_classes;  /* ClusterServiceClass */
extern const struct informer_kind offering_kind_cluster_plans;    /* ClusterServicePlan */
extern const struct informer_kind offering_kind_classes;          /* ServiceClass */
extern const struct informer_kind offering_kind_plans;            /* ServicePlan */

/* The digest of the broker-owned part of @obj (spec fields the controller writes, its labels,
 * its controller ownerReference), JSON numbers normalised. Equal digests: no update needed.
 * Returns 0 or -ENOMEM. */
int offering_digest(const json_t *obj, bool is_plan, char out[OFFERING_DIGEST_LEN + 1]);

/* ---- catalog restrictions (spec.catalogRestrictions): a label-selector-like AND of requirements ---- */

enum offering_restriction_op { OFFERING_RESTRICT_EQ, OFFERING_RESTRICT_NE, OFFERING_RESTRICT_IN, OFFERING_RESTRICT_NOTIN };
struct offering_restriction {
        char *property;          /* "spec.externalName", ... */
        enum offering_restriction_op op;
        char **values;
        size_t nvalues;
};
struct offering_restrictions {
        struct offering_restriction *v;
        size_t n;
};
/* Parses @exprs (each a comma-separated list of requirements, e.g. "spec.externalName in (a, b)",
 * "spec.free=true", "name!=x") accepting only @allowed properties (NULL-terminated). Returns 0,
 * OSB_E_BAD_REQUEST with @err naming the bad text, or -ENOMEM. */
int offering_restrictions_parse(const char *const *exprs, size_t n, const char *const *allowed,
                                struct offering_restrictions *ret, struct osb_error *err);
void offering_restrictions_release(struct offering_restrictions *rs);
/* Whether the property values (@get(@userdata, property) → value or NULL) satisfy all of @rs. */
bool offering_restrictions_match(const struct offering_restrictions *rs,
                                 const char *(*get)(void *userdata, const char *property), void *userdata);

/* ---- conversion ---- */

/* The broker a catalog belongs to. */
struct offering_catalog_owner {
        const struct offering_flavour *fl;
        const char *name, *ns, *uid;    /* the broker's; ns NULL for cluster brokers */
        /* The k8s name of an existing object of this broker with this external id, or NULL
         * (service-catalog keeps such names, e.g. pre-escaping legacy ones). May be NULL. */
        const char *(*existing_name)(void *userdata, bool is_plan, const char *external_id);
        void *userdata;
};

/* One object the controller wants. */
struct offering_desired {
        json_t *obj;             /* the whole object to create (apiVersion, kind, metadata, spec) */
        const char *name;        /* borrowed from obj */
        const char *external_id; /* borrowed from obj */
        bool is_plan;
        char digest[OFFERING_DIGEST_LEN + 1];
};

/* The most plans (and services) a broker's catalog may have: each becomes an object in the API
 * server (service-catalog's largest brokers list hundreds). A larger catalog is refused. */
#define OFFERING_MAX_PLANS 10000

struct offering_desired_set {
        struct offering_desired *classes, *plans;
        size_t nclasses, nplans;
};
void offering_desired_set_release(struct offering_desired_set *ds);

/* Validates @catalog (an OSB catalog: services with id, name, description, bindable and at least
 * one plan; plans with id, name, description; ids unique; at most OFFERING_MAX_PLANS plans)
 * and converts it into the classes and
 * plans of @owner, keeping those that pass @class_rs and @plan_rs (NULL: none) and dropping
 * classes left without plans. Returns 0 with *ret filled, OSB_E_BAD_REQUEST with @err naming the
 * JSON path ("services[1].plans[0].id: missing"), or -ENOMEM. */
int offering_convert(const json_t *catalog, const struct offering_catalog_owner *owner,
                     const struct offering_restrictions *class_rs, const struct offering_restrictions *plan_rs,
                     struct offering_desired_set *ret, struct osb_error *err);

/* Makes @live (an existing object, modified in place) carry the broker-owned content of
 * @desired: owned spec fields set or removed, the controller's labels, the controller
 * ownerReference (cluster flavour). Everything else (defaultProvisionParameters, other labels,
 * annotations) is kept. Returns 0 or -ENOMEM. */
int offering_overlay(json_t *live, const json_t *desired, bool is_plan);
