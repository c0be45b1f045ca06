/* broker/backend.h: what provisions and binds for real. Each plan names a backend type in its
 * catalog "x-bindery-backend" object; the backend parses the rest of that object at start-up
 * (configure) and does the work of each operation (run). Backends: static (backend_static.c),
 * exec (backend_exec.c), postgresql (backend_postgresql.c); docs/backends.md is the user guide.
 *
 * The contract every backend follows:
 * - Ownership. configure() allocates plan->backend_state (and may borrow strings and JSON from
 *   plan->backend, which lives as long as the catalog); release() frees it. Everything in a
 *   struct backend_call is borrowed for the duration of run(); what run() puts in a
 *   struct backend_result is new and owned by the caller (backend_result_release()).
 * - Threading. configure()/release() run on the main thread before the HTTP server starts and
 *   after it stops. Every other function may be called from any number of threads at once
 *   (request threads and operation workers), for the same plan and even for the same
 *   instance: plan state is read-only after configure(), and anything a backend shares between
 *   calls (a connection pool, say) it protects itself.
 * - Idempotency. run() may be called again for an operation that already (partly) happened:
 *   after a crash or kill -9 the broker resumes every unfinished operation from the start, and
 *   an operation that answered "not finished" (retry_after_ms > 0) is run again with the same
 *   call. So every step must be safe to repeat: create what is missing, drop what exists, and
 *   treat "already there" (provision, bind) and "already gone" (deprovision, unbind) as
 *   success. Names derived only from the instance and binding ids make that easy.
 * - Blocking. A backend that does I/O with another system sets .blocking: the broker then never
 *   calls run() while it holds its write lock. An asynchronous operation runs on an operation
 *   worker; a synchronous request records the operation first, runs it on the request thread
 *   (outside the lock, waiting out "not finished" answers up to the broker's --sync-timeout)
 *   and answers with its outcome. A non-blocking backend (static) runs synchronous calls inside
 *   the request's write transaction, so the outcome and the state change commit together. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/osb_buf.h"
#include "common/osb_error.h"
#include "broker/catalog.h"

struct backend_problems;

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
        const json_t *instance_parameters;   /* borrowed; bind/unbind: the instance's; update: the
                                              * instance's before the update (previous values); or NULL */
        const json_t *context;               /* borrowed or NULL */
        const struct catalog_plan *previous_plan; /* update: the instance's plan before; else NULL */
        const char *operation_id;            /* the operation's id, or NULL for a synchronous call
                                              * of a non-blocking backend */
        const char *app_guid;                /* bind/unbind: bind_resource.app_guid, or NULL */
        bool synchronous;                    /* the platform waits for the answer (no accepts_incomplete) */
};

struct backend_result {
        json_t *response;        /* bind: new object served as the binding (credentials, ...) */
        char *dashboard_url;     /* provision/update: new (osb_free) or NULL */
        int64_t retry_after_ms;  /* > 0: not finished; run again after this long */
        char *progress;          /* not finished: what is going on, for last_operation's
                                  * description (new, osb_free), or NULL */
};

void backend_result_release(struct backend_result *res);

struct backend {
        const char *type;
        /* true: run() talks to another system and may take long (see "Blocking" above). */
        bool blocking;
        /* Parses plan->backend into plan->backend_state; the state struct must start with a
         * `const struct backend *` pointing at this backend. Reports EVERY bad setting of the
         * plan to @bp (each naming its JSON path), then returns OSB_E_INVALID_CONFIG and sets
         * no state; returns -ENOMEM when memory runs out. */
        int (*configure)(struct catalog_plan *plan, struct backend_problems *bp);
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
         * negative code with the user-facing reason in @err (it becomes the description; an
         * OSB_E_* code also picks the HTTP status of a synchronous answer, OSB_E_BACKEND being
         * 500). For a non-blocking backend a synchronous call runs inside the request's write
         * transaction ("static" sync_delay holds the lock on purpose, as a slow backend
         * would); for a blocking one never (see "Blocking" above). */
        int (*run)(const struct backend_call *call, struct backend_result *res, struct osb_error *err);
};

/* Where configure() reports the problems of a plan's settings, one line each:
 * "SOURCE: JSON.PATH: what is wrong". */
struct backend_problems {
        const char *source;    /* the catalog's source, borrowed */
        struct osb_buf *buf;   /* the lines, borrowed */
        size_t count;          /* problems reported so far (including any not kept in buf) */
        bool oom;              /* a line was lost to memory */
        bool truncated;        /* lines were left out: buf is full */
};

/* Reports one problem; @fmt starts with the JSON path. Returns OSB_E_INVALID_CONFIG, so
 * `return backend_problem(bp, "...")` reports and fails in one statement. */
int backend_problem(struct backend_problems *bp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Helpers for configure(). Each reads member @key of the settings object @cfg; an absent member
 * leaves *ret as it is and returns 0; a bad one is reported to @bp ("PATH.KEY: what is wrong")
 * and returns OSB_E_INVALID_CONFIG.
 * backend_setting_async: "never", "optional" or "required".
 * backend_setting_duration: milliseconds as a whole number, or a string such as "500ms", "2s",
 * "5m"; at least @min_ms and, when @max_ms >= 0, at most @max_ms. */
int backend_setting_async(const json_t *cfg, const char *path, const char *key, enum backend_async *ret,
                          struct backend_problems *bp);
int backend_setting_duration(const json_t *cfg, const char *path, const char *key, int64_t min_ms,
                             int64_t max_ms, int64_t *ret, struct backend_problems *bp);
/* Whether @s is a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*). */
bool backend_env_name_valid(const char *s);

/* The backend of a configured plan (borrowed, never NULL after backend_configure_catalog). */
const struct backend *backend_of(const struct catalog_plan *plan);

/* Configures every plan of @cat. On failure returns OSB_E_INVALID_CONFIG and *ret_errors new
 * (osb_free): one line per problem of every plan, "SOURCE: JSON.PATH: message"; no plan keeps
 * any state. -ENOMEM when memory ran out (*ret_errors then says so, or is NULL). */
int backend_configure_catalog(struct catalog *cat, char **ret_errors);
/* Loads the catalog file @path (the built-in demo catalog when NULL; see catalog.h) and
 * configures its plans: every mistake at once. When the catalog has structural problems, the
 * backend settings of every plan that passed the structural checks are checked too, and their
 * problems follow the structural ones in *ret_errors. Returns what catalog_load_file() and
 * backend_configure_catalog() return; *ret (configured) only on success. */
int backend_load_catalog(const char *path, struct catalog **ret, char **ret_errors);
/* Releases every plan's backend state. NULL-safe. */
void backend_release_catalog(struct catalog *cat);

extern const struct backend backend_static;
extern const struct backend backend_exec;
extern const struct backend backend_postgresql;
