/* broker/backend.h: what provisions and binds for real. Each plan names a backend type in its
 * catalog "x-bindery-backend" object; the backend parses the rest of that object at start-up
 * (configure) and does the work of each operation (run). A backend call may block: the broker
 * runs it on a request thread (synchronous operations) or an operation worker (asynchronous).
 * Backends: static (backend_static.c). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/osb_error.h"
#include "broker/catalog.h"

enum op_kind { OP_PROVISION, OP_UPDATE, OP_DEPROVISION, OP_BIND, OP_UNBIND, OP_KIND_MAX };

/* "provision", ... ; and back. op_kind_parse returns 0 or -EINVAL. */
const char *op_kind_name(enum op_kind k);
int op_kind_parse(const char *s, enum op_kind *ret);

enum backend_async {
        BACKEND_ASYNC_NEVER,     /* always synchronous (accepts_incomplete is ignored) */
        BACKEND_ASYNC_OPTIONAL,  /* asynchronous when the platform accepts it, else synchronous */
        BACKEND_ASYNC_REQUIRED,  /* asynchronous only: 422 AsyncRequired without accepts_incomplete */
};

struct backend_call {
        enum op_kind kind;
        const struct catalog_plan *plan;     /* borrowed; for an update, the new plan */
        const char *instance_id;             /* borrowed */
        const char *binding_id;              /* borrowed; bind/unbind only */
        const json_t *parameters;            /* borrowed; the request's parameters or NULL */
        const json_t *instance_parameters;   /* borrowed; bind/unbind: the instance's, or NULL */
        const json_t *context;               /* borrowed or NULL */
        bool synchronous;                    /* answered in the request (api.c), not by an ops worker */
};

struct backend_result {
        json_t *response;        /* bind: new object served as the binding (credentials, ...) */
        char *dashboard_url;     /* provision/update: new (osb_free) or NULL */
        int64_t retry_after_ms;  /* > 0: not finished; run again after this long */
};

void backend_result_release(struct backend_result *res);

struct backend {
        const char *type;
        /* Parses plan->backend into plan->backend_state; the state struct must start with a
         * `const struct backend *` pointing at this backend. Errors name the JSON path. */
        int (*configure)(struct catalog_plan *plan, struct osb_error *err);
        void (*release)(struct catalog_plan *plan);
        enum backend_async (*async_mode)(const struct catalog_plan *plan, enum op_kind kind);
        /* How long after an asynchronous operation is accepted it should first run (0: at once). */
        int64_t (*first_run_delay_ms)(const struct catalog_plan *plan, enum op_kind kind);
        /* Retry-After for last_operation, in seconds, given when the operation is due; -1: none. */
        int64_t (*retry_after_s)(const struct catalog_plan *plan, int64_t due_in_ms);
        bool (*requires_app)(const struct catalog_plan *plan);
        /* Optional: the dashboard URL an instance will have, known before it is provisioned
         * (returned in the first, 202, response). New (osb_free) or NULL. */
        char *(*dashboard_url)(const struct backend_call *call);
        /* Does the work. Returns 0 (done, or not finished when res->retry_after_ms > 0), or a
         * negative code with the user-facing reason in @err (it becomes the description).
         * For a synchronous request it is called inside the request's write transaction, so
         * the outcome and the state change commit together; that holds the broker's write
         * lock for the call, which is right for "static" (no I/O; its sync_delay holds the
         * lock on purpose, as a slow backend would) but not for a backend that talks to
         * another system: such a backend must make its plans asynchronous, or the api layer
         * must first record the operation and run the call outside the lock. */
        int (*run)(const struct backend_call *call, struct backend_result *res, struct osb_error *err);
};

/* The backend of a configured plan (borrowed, never NULL after backend_configure_catalog). */
const struct backend *backend_of(const struct catalog_plan *plan);

/* Configures every plan of @cat. On failure returns OSB_E_INVALID_CONFIG and *ret_errors new
 * (osb_free): one line per problem, "SOURCE: JSON.PATH: message". */
int backend_configure_catalog(struct catalog *cat, char **ret_errors);
/* Releases every plan's backend state. NULL-safe. */
void backend_release_catalog(struct catalog *cat);

extern const struct backend backend_static;
