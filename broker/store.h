/* broker/store.h: the broker's durable state, the only store header its users include. Two
 * implementations stand behind it, each a table of functions (struct store_impl,
 * broker/store_types.h): SQLite in WAL mode (broker/store_sqlite.c), and PostgreSQL when the
 * location is a postgresql:// URL (broker/store_pg.c; docs/broker.md "PostgreSQL store").
 * broker/store.c picks one at store_open() and hands every call to it. One
 * handle per thread: a handle is not thread-safe, but any number of handles on one file may be
 * used concurrently. Every state change is one transaction, decided inside it (see api.c).
 * SQLite: the transactions of all handles on one file in this process are group-committed:
 * each request decides alone, one after another, in its own savepoint of a shared
 * transaction (BEGIN IMMEDIATE), and store_commit() returns once that transaction's COMMIT is
 * durable (other processes are covered by busy_timeout). With PostgreSQL, each request is its
 * own transaction, and the writers of one instance (on every replica sharing the database) are
 * serialised by an advisory lock on that instance, taken at its first read or write. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/osb_error.h"
#include "common/osb_macro.h"
#include "broker/store_types.h"  /* the rows, enum store_sync, store_now_ms(), store_set_str() */

/* Parses "off", "normal", "full". Returns 0 or -EINVAL. */
int store_parse_sync(const char *s, enum store_sync *ret);

/* Opens (creating if needed) the database at @path and brings its schema up to date with the
 * migrations compiled in. @path is a SQLite file, or a "postgresql://" / "postgres://" URL of
 * an existing database (migrations/postgresql/; @sync is then the server's business). A
 * database whose schema is newer than this binary is refused (OSB_E_INVALID_CONFIG with a
 * message naming both versions). Messages never contain a URL's password. *ret new:
 * store_close(). */
int store_open(const char *path, enum store_sync sync, struct store **ret, struct osb_error *err);
struct store *store_close(struct store *st);  /* NULL-safe; returns NULL */
OSB_DEFINE_AUTO(store_closep, struct store *, store_close)

/* @location (a --db/--store value) fit for logs: a URL's password replaced by "***". New
 * (osb_free) or NULL on OOM. */
char *store_redact_location(const char *location);

/* The schema version of the open database (the highest migration applied). */
unsigned store_schema_version(struct store *st);
/* Cheap liveness query for /readyz. Returns 0 or a negative code; -EUCLEAN once the SQLite
 * file is known to be damaged. */
int store_ping(struct store *st);
/* Checks the SQLite file's structure (PRAGMA quick_check: every page, but not the indexes'
 * agreement with their tables; SQLite's cheaper recommended check) once, at start. Returns 0,
 * or -EUCLEAN when damaged. PostgreSQL: 0.
 * Storage faults (SQLite): SQLITE_CORRUPT/NOTADB at any time, or this check, mark the store
 * damaged for the whole process: from then on a read that finds nothing
 * returns -EUCLEAN instead of OSB_E_NOT_FOUND (a damaged page can hide a row), store_begin()
 * refuses, store_ping() fails. Damage, and a full disk (SQLITE_FULL: -ENOSPC), are logged
 * here, once each (a full disk again after a commit has succeeded since), with the file. */
int store_check(struct store *st, struct osb_error *err);

/* Transactions. store_begin waits for this handle's turn to decide (SQLite: the requests of
 * this process on the file, one at a time; PostgreSQL: see store_pg.c) and opens its
 * transaction; store_commit and store_rollback end it and give up the turn. Return 0 or a
 * negative code (message in @err).
 * SQLite group commit: store_commit() returns once the batch its changes went into is
 * committed, and fails (-EIO, -ENOSPC, ...) when that batch's COMMIT fails: then none of the
 * batch's requests changed anything. A request that fails rolls back only its own changes. */
int store_begin(struct store *st, struct osb_error *err);
int store_commit(struct store *st, struct osb_error *err);
void store_rollback(struct store *st);
/* store_rollback() for a request that answers from what it read: its reads may have seen
 * the changes of requests batched before it (SQLite), so this waits for that batch's commit.
 * Returns 0, or the batch's failure (message in @err): what was read was never stored, and an
 * answer decided on it must not be sent. */
int store_abandon(struct store *st, struct osb_error *err);

/* Reads. Return 0 with *ret new, OSB_E_NOT_FOUND, or -EIO. */
int store_get_instance(struct store *st, const char *id, struct instance_row **ret);
int store_get_binding(struct store *st, const char *instance_id, const char *id,
                      struct binding_row **ret);
int store_get_op(struct store *st, const char *id, struct op_row **ret);
/* The newest operation on an instance (@binding_id NULL) or a binding, of @kind (NULL: any). */
int store_latest_op(struct store *st, const char *instance_id, const char *binding_id,
                    const char *kind, struct op_row **ret);

/* Writes (inside a transaction). Insert or replace the whole row. Return 0 or -EIO. */
int store_put_instance(struct store *st, const struct instance_row *r);
int store_put_binding(struct store *st, const struct binding_row *r);
int store_put_op(struct store *st, const struct op_row *r);
/* Deletes the instance and all its bindings. Returns 0 or -EIO. */
int store_delete_instance(struct store *st, const char *id);
int store_delete_binding(struct store *st, const char *instance_id, const char *id);
/* Number of bindings of an instance that are not failed. */
int store_count_bindings(struct store *st, const char *instance_id, int64_t *ret);

/* Totals for /metrics. */
int store_count(struct store *st, int64_t *ret_instances, int64_t *ret_bindings,
                int64_t *ret_ops_in_progress);

/* Calls @fn for every operation still in progress (for resuming after a restart). Stops and
 * returns @fn's value if it is negative. */
int store_each_pending_op(struct store *st, int (*fn)(void *userdata, const char *id, int64_t due_at),
                          void *userdata);

/* Claims operation @op_id for a run (outside a transaction) so that replicas sharing a
 * PostgreSQL store never run one operation at the same time: a session advisory lock on the
 * handle's connection, released by store_unlock_op() or when the connection ends (a replica
 * killed mid-operation releases it, and whoever schedules the operation next runs it).
 * Returns 0, -EBUSY when another connection runs it now, or -EIO. SQLite: always 0 (one
 * process owns the file). */
int store_lock_op(struct store *st, const char *op_id);
void store_unlock_op(struct store *st, const char *op_id);
/* Whether other processes may share this store's state (PostgreSQL: other replicas); for a
 * location, before a handle is open. */
bool store_is_shared(const struct store *st);
bool store_location_is_shared(const char *location);

/* Background WAL checkpoints (SQLite; for a PostgreSQL URL *ret is NULL and nothing runs).
 * By default SQLite checkpoints inside whichever commit crosses
 * 1000 WAL pages, with two fsyncs, while every writer waits for that batch. Once a
 * checkpointer is running, connections opened afterwards leave checkpoints to it: it runs a
 * PASSIVE checkpoint every @interval_ms on its own connection, the bulk without blocking
 * writers, the last frames between two batches.
 * *ret new: store_checkpointer_stop() (which runs a last checkpoint). */
int store_checkpointer_start(const char *path, unsigned interval_ms, struct store_checkpointer **ret,
                             struct osb_error *err);
struct store_checkpointer *store_checkpointer_stop(struct store_checkpointer *c);
