/* broker/ops.h: asynchronous operations. An operation is a row written (in the same transaction
 * as the state change that needs it) before any work starts; a pool of workers runs each one
 * when it is due and records the outcome; last_operation reads the row. On start every
 * operation still "in progress" in the database is scheduled again, so a crash or kill -9
 * never loses one. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/osb_error.h"
#include "broker/catalog.h"
#include "broker/store.h"

struct ops;

struct ops_config {
        const char *db_path;          /* borrowed for the life of the pool */
        enum store_sync sync;
        const struct catalog *cat;    /* borrowed for the life of the pool */
        unsigned workers;             /* >= 1 */
        int64_t rescan_ms;            /* > 0: look for unfinished operations this often (a shared
                                       * store: those of a replica that died); 0: only at start */
};

/* Starts the workers and schedules every unfinished operation found in the database.
 * *ret new: ops_stop(). */
int ops_start(const struct ops_config *cfg, struct ops **ret, struct osb_error *err);
/* Stops the workers (an operation being run is finished first; the rest stay in the database
 * and resume at the next start). NULL-safe; returns NULL. */
struct ops *ops_stop(struct ops *ops);

/* Queues operation @op_id (already committed) to run at @due_at (ms since the epoch).
 * Returns 0 or -ENOMEM (the operation then runs at the next start). NULL-safe no-op. */
int ops_schedule(struct ops *ops, const char *op_id, int64_t due_at);
/* Operations queued or running. */
size_t ops_in_flight(struct ops *ops);

/* Runs one operation to its next step with the store @st. Returns 0 when the operation is
 * finished (or was no longer in progress), 1 with *ret_again (ms since the epoch) when the
 * backend asked to be called again (or another replica sharing a PostgreSQL store runs it right
 * now: see store_lock_op()), or a negative code on a storage failure. */
int ops_execute(const struct catalog *cat, struct store *st, const char *op_id, int64_t *ret_again);
/* The same for a synchronous request that waits for its operation on its own thread (see
 * "Blocking" in backend.h): the backend is told the platform is waiting, and when the
 * operation finishes, @ret_failure (may be NULL) receives the backend's error (code 0 when it
 * succeeded), whose code picks the HTTP status of the answer. */
int ops_execute_sync(const struct catalog *cat, struct store *st, const char *op_id, int64_t *ret_again,
                     struct osb_error *ret_failure);
