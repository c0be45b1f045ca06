/* test/apiserver/types.h: the registry of served resources: the built-in kinds and the ones
 * CustomResourceDefinitions add, and the discovery documents built from them. Thread-safe
 * (own rwlock); a type is reference-counted, so a request keeps using the one it looked up
 * while a CRD update replaces it. */
#pragma once

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>

enum builtin {
        BT_NONE,  /* a custom resource */
        BT_NAMESPACE,
        BT_SECRET,
        BT_CONFIGMAP,
        BT_EVENT,
        BT_EVENT_V1,  /* events.k8s.io/v1: same storage as core events, converted */
        BT_SERVICEACCOUNT,
        BT_LEASE,
        BT_CRD,
        BT_POD,
        BT_SERVICE,
        BT_PVC,
        BT_DEPLOYMENT,
        BT_STATEFULSET,
        BT_DAEMONSET,
        BT_PDB,
        BT_ROLE,
        BT_ROLEBINDING,
        BT_CLUSTERROLE,
        BT_CLUSTERROLEBINDING,
        BT_MUTATINGWEBHOOK,    /* admissionregistration.k8s.io: stored and validated, never called */
        BT_VALIDATINGWEBHOOK,
        BT_SSAR,  /* authorization.k8s.io selfsubjectaccessreviews: create only, never stored */
        BT_SAR,   /* subjectaccessreviews, the same for any user */
};

struct kt_type {
        atomic_int refs;
        char *group;          /* "" for the core group */
        char *version;
        char *resource;       /* plural */
        char *singular;
        char *kind;
        char *list_kind;
        char *storage_key;    /* "resource.group": objects of all versions live there */
        char *api_version;    /* "v1" or "group/version" */
        bool namespaced;
        bool has_status;      /* status subresource */
        bool storage;         /* the storage version */
        bool served;
        int group_priority;   /* order in /apis: lower first */
        enum builtin builtin;
        json_t *short_names;  /* array or NULL */
        json_t *categories;   /* array or NULL */
        json_t *schema;       /* CRs: openAPIV3Schema, or NULL */
        json_t *columns;      /* CRs and the workload/RBAC kinds: printer columns (CRD form; never
                               * empty for CRs: Age by default) */
        char *crd_name;       /* CRs: the CRD's name */
};

struct types;

/* Returns 0 with *ret new holding the built-in kinds (free with types_free), or -ENOMEM. */
int types_new(struct types **ret);
struct types *types_free(struct types *t);  /* NULL-safe; returns NULL */

struct kt_type *kt_type_ref(struct kt_type *t);
void kt_type_unref(struct kt_type *t);  /* NULL-safe */
void kt_type_unrefp(struct kt_type **t);

/* Finds the served resource @group/@version/@resource. Returns a new reference or NULL. */
struct kt_type *types_find(struct types *t, const char *group, const char *version, const char *resource);
/* Any version of @storage_key (the storage version preferred). New reference or NULL. */
struct kt_type *types_find_storage(struct types *t, const char *storage_key);
/* Every type (one per storage key, the storage version), for GC and namespace deletion: a new
 * array of new references (free with types_list_free), count in *n. */
struct kt_type **types_list_storage(struct types *t, size_t *n);
void types_list_free(struct kt_type **list, size_t n);
/* Every served group/version/resource, as types_list_storage(). */
struct kt_type **types_list_served(struct types *t, size_t *n);

/* Registers (or replaces) the resources of a CRD (the whole object, validated). Returns 0,
 * -EEXIST with a message if another CRD serves the same names, or -ENOMEM. */
int types_register_crd(struct types *t, const json_t *crd, char *msg, size_t msglen);
/* Removes the resources of the CRD named @crd_name. */
void types_unregister_crd(struct types *t, const char *crd_name);

/* Discovery documents (new references): /api, /apis, /apis/GROUP, /api/v1 and
 * /apis/GROUP/VERSION. resource_list returns NULL when the group/version is not served. */
json_t *types_api_versions(struct types *t, const char *server_address);
json_t *types_group_list(struct types *t);
json_t *types_group(struct types *t, const char *group);
json_t *types_resource_list(struct types *t, const char *group, const char *version);
/* An incrementing counter, bumped by every (un)registration. */
unsigned types_generation(struct types *t);
