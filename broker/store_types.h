/* broker/store_types.h: what the two store implementations (broker/store_sqlite.c and
 * broker/store_pg.c) share with the store's front (broker/store.c), and nothing else: the rows,
 * the sync levels, and the table of functions (struct store_impl) that each implementation
 * fills in, in the way of struct backend (broker/backend.h). Callers of the store include
 * broker/store.h; only the implementations and the front include this file directly.
 *
 * Ownership: rows read from a store are new (instance_row_free() and its kind); rows passed to a
 * store are borrowed for the call. A handle (struct store) is made by its implementation's open()
 * and freed by its close(); it starts with `struct store`, whose impl points at that table. The
 * implementations never call each other: both depend on this file only. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/osb_error.h"
#include "common/osb_macro.h"

enum store_sync {
        STORE_SYNC_OFF,     /* no fsync at all: tests and benchmarks of the CPU path only */
        STORE_SYNC_NORMAL,  /* WAL default: a commit survives a crash of the process (kill -9);
                             * the last commits may be lost if the machine loses power */
        STORE_SYNC_FULL,    /* fsync on every commit: survives power loss */
};

/* The stored names of the two states the store's own queries filter on: counts leave failed
 * instances and bindings out, and operations in progress are the ones to resume. lifecycle.c's
 * table of names (the only other place states are spelt) uses these. */
#define STORE_TYPES_FAILED "failed"
#define STORE_TYPES_IN_PROGRESS "in progress"

struct instance_row {
        char *id, *service_id, *plan_id, *request_key;
        char *parameters, *context;         /* JSON text or NULL */
        char *organization_guid, *space_guid;
        char *maintenance_version, *dashboard_url;
        char *metadata;                     /* JSON text or NULL */
        char *state;                        /* provisioning|ready|updating|deprovisioning|failed */
        char *op_id;                        /* the current or last operation, or NULL */
        int64_t created_at, updated_at;     /* ms since the epoch */
};

struct binding_row {
        char *instance_id, *id, *service_id, *plan_id, *request_key;
        char *parameters, *context, *app_guid, *predecessor_id;
        char *response;                     /* JSON served by bind/fetch, or NULL */
        char *state;                        /* binding|ready|unbinding|failed */
        char *op_id;
        int64_t created_at, updated_at;
};

struct op_row {
        char *id, *kind, *instance_id, *binding_id; /* binding_id NULL for instance operations */
        char *state;                        /* "in progress"|"succeeded"|"failed" */
        char *description, *request;        /* request: JSON text for the worker, or NULL */
        int64_t due_at, attempts;
        int instance_usable, update_repeatable; /* 0/1, or -1 when not set */
        int64_t created_at, finished_at;    /* finished_at 0 while in progress */
};

void instance_row_free(struct instance_row *r);
void binding_row_free(struct binding_row *r);
void op_row_free(struct op_row *r);
OSB_DEFINE_AUTO(instance_row_freep, struct instance_row *, instance_row_free)
OSB_DEFINE_AUTO(binding_row_freep, struct binding_row *, binding_row_free)
OSB_DEFINE_AUTO(op_row_freep, struct op_row *, op_row_free)

/* Replaces the string in *@field with a copy of @value (NULL allowed). Returns 0 or -ENOMEM
 * (then *@field is unchanged). */
int store_set_str(char **field, const char *value);

/* Milliseconds since the epoch (CLOCK_REALTIME). */
int64_t store_now_ms(void);

/* 0 when a database at schema version @have is one this binary knows: no newer than the last
 * of the @n migrations @list (broker/migrations.h) it was built with. Else OSB_E_INVALID_CONFIG,
 * the message naming both versions. */
struct migration;
int store_schema_known(unsigned have, const struct migration *list, unsigned n, struct osb_error *err);

/* The head of every handle and of every checkpointer: which implementation made it. */
struct store {
        const struct store_impl *impl;
};
struct store_checkpointer {
        const struct store_impl *impl;
};

/* One implementation. Every function has the contract of its namesake in broker/store.h, which
 * dispatches to it; the optional ones (may be NULL) say what NULL means. */
struct store_impl {
        const char *name;    /* "sqlite", "postgresql" */
        /* Other processes may share this store's state (store_is_shared()). */
        bool shared;
        /* Whether @location is this implementation's (the front asks each in turn; SQLite,
         * asked last, takes any file name). */
        bool (*claims)(const char *location);
        int (*open)(const char *location, enum store_sync sync, struct store **ret, struct osb_error *err);
        void (*close)(struct store *st);  /* never NULL @st */
        /* Optional: @location fit for logs, new; NULL: a copy of @location. */
        char *(*redact_location)(const char *location);
        unsigned (*schema_version)(struct store *st);
        int (*ping)(struct store *st);
        /* Optional: NULL means nothing to check (0). */
        int (*check)(struct store *st, struct osb_error *err);
        int (*begin)(struct store *st, struct osb_error *err);
        int (*commit)(struct store *st, struct osb_error *err);
        void (*rollback)(struct store *st);
        /* Optional: NULL means rollback, then 0. */
        int (*abandon)(struct store *st, struct osb_error *err);
        int (*get_instance)(struct store *st, const char *id, struct instance_row **ret);
        int (*get_binding)(struct store *st, const char *instance_id, const char *id,
                           struct binding_row **ret);
        int (*get_op)(struct store *st, const char *id, struct op_row **ret);
        int (*latest_op)(struct store *st, const char *instance_id, const char *binding_id,
                         const char *kind, struct op_row **ret);
        int (*put_instance)(struct store *st, const struct instance_row *r);
        int (*put_binding)(struct store *st, const struct binding_row *r);
        int (*put_op)(struct store *st, const struct op_row *r);
        int (*delete_instance)(struct store *st, const char *id);
        int (*delete_binding)(struct store *st, const char *instance_id, const char *id);
        int (*count_bindings)(struct store *st, const char *instance_id, int64_t *ret);
        int (*count)(struct store *st, int64_t *ret_instances, int64_t *ret_bindings,
                     int64_t *ret_ops_in_progress);
        int (*each_pending_op)(struct store *st, int (*fn)(void *userdata, const char *id, int64_t due_at),
                               void *userdata);
        /* Optional, together: NULL means one process owns the state (lock: always 0). */
        int (*lock_op)(struct store *st, const char *op_id);
        void (*unlock_op)(struct store *st, const char *op_id);
        /* Optional, together: NULL means no background checkpoints (start gives NULL). */
        int (*checkpointer_start)(const char *location, unsigned interval_ms,
                                  struct store_checkpointer **ret, struct osb_error *err);
        void (*checkpointer_stop)(struct store_checkpointer *c);  /* never NULL @c */
};
