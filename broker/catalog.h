/* broker/catalog.h: the broker's catalog: loaded from a JSON or YAML file (or the built-in demo
 * catalog), validated against the OSB v2.17 rules with every error naming the file and JSON
 * path, and served as JSON with every "x-" key removed. Immutable after load: safe to share
 * between threads. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/osb_error.h"

struct catalog_service;

#define CATALOG_MAX_BYTES (4u * 1024u * 1024u) /* larger catalog files are refused */

struct catalog_plan {
        const char *id;                   /* borrowed from the catalog's JSON (all strings) */
        const char *name;
        const struct catalog_service *service;
        bool bindable;                    /* plan value, else the service's */
        bool plan_updateable;             /* plan value, else the service's */
        bool binding_rotatable;           /* default false */
        bool free;                        /* default true */
        int64_t maximum_polling_duration; /* seconds; -1 when absent */
        const char *maintenance_version;  /* maintenance_info.version, or NULL */
        json_t *schema_create;            /* schemas.service_instance.create.parameters, or NULL */
        json_t *schema_update;            /* schemas.service_instance.update.parameters, or NULL */
        json_t *schema_bind;              /* schemas.service_binding.create.parameters, or NULL */
        json_t *backend;                  /* "x-bindery-backend" of the plan, else of the service,
                                           * else {"type":"static"}: always an object with a
                                           * string "type" */
        char backend_path[128];           /* JSON path of that object, for messages */
        const char *catalog_source;       /* the catalog's source (struct catalog.source):
                                           * backends resolve relative paths in their settings
                                           * against its directory */
        void *backend_state;              /* owned by the backend (see backend.h) */
};

struct catalog_service {
        const char *id;
        const char *name;
        bool bindable;
        bool plan_updateable;             /* default false */
        bool instances_retrievable;       /* default false */
        bool bindings_retrievable;        /* default false */
        bool allow_context_updates;       /* default false */
        bool requires_volume_mount, requires_syslog_drain, requires_route_forwarding;
        size_t n_plans;
        struct catalog_plan *plans;       /* owned by the catalog */
};

struct catalog {
        char *source;                     /* file name or "built-in demo catalog"; owned */
        json_t *doc;                      /* the parsed file, including x- keys; owned */
        size_t n_services;
        struct catalog_service *services; /* owned */
        char *body;                       /* the served JSON (compact, x- keys stripped); owned */
        size_t body_len;
        char etag[40];                    /* strong ETag of body, quoted: "\"<hex>\"" */
        json_t *default_backend;          /* {"type":"static"}, the backend of plans that name
                                           * none; owned */
};

/* Loads and validates. @path ending in .yaml/.yml (or content that is not JSON) is read as
 * YAML. On failure returns OSB_E_INVALID_CONFIG (or -errno for I/O) and sets *ret_errors to a
 * new string (free with osb_free) holding every problem found, one per line, each formatted
 * "FILE: JSON.PATH: what is wrong" (e.g. "cat.json: services[0].plans[1].id: is required").
 * *ret only on success; free with catalog_free().
 * Files (and buffers) over CATALOG_MAX_BYTES fail with -EFBIG. Parse errors read
 * "FILE: line L column C: why". On -ENOMEM *ret_errors may be set to NULL. @ret_errors may be
 * NULL; *ret_errors is written only on failure. */
int catalog_load_file(const char *path, struct catalog **ret, char **ret_errors);
/* The same for bytes in memory; @source names them in messages. */
int catalog_load_buffer(const char *data, size_t len, const char *source, struct catalog **ret,
                        char **ret_errors);
/* The built-in demo catalog (see broker/democatalog.c). */
int catalog_load_demo(struct catalog **ret, char **ret_errors);
/* catalog_load_file() (catalog_load_demo() when @path is NULL) that, when the catalog has
 * structural problems (OSB_E_INVALID_CONFIG), also sets *ret_valid to a catalog holding only
 * the plans that passed every check with their service, so their backend settings can be
 * checked too; *ret_valid stays untouched when no plan passed or on any other failure. The
 * valid part never serves: free it with catalog_free(). */
int catalog_load_checked(const char *path, struct catalog **ret, struct catalog **ret_valid,
                         char **ret_errors);
/* NULL-safe; returns NULL. Does not touch backend_state (free that first: backend.h). */
struct catalog *catalog_free(struct catalog *c);

/* Lookups by id; borrowed; NULL when absent. */
const struct catalog_service *catalog_find_service(const struct catalog *c, const char *service_id);
const struct catalog_plan *catalog_find_plan(const struct catalog *c, const char *plan_id);

/* The demo catalog's text, for docs and tests (borrowed, static). */
extern const char catalog_demo_json[];

/* True when @s is a SemVer 2.0.0 version (MAJOR.MINOR.PATCH, no leading zeros, optional
 * "-prerelease" and "+build" as semver.org defines them). */
bool catalog_semver_valid(const char *s);
