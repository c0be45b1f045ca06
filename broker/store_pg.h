/* broker/store_pg.h: the PostgreSQL side of broker/store.h, used by store.c only (every public
 * store_* function dispatches here when the handle was opened on a postgresql:// URL). The
 * contracts are those of store.h; only the differences are documented here. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/osb_error.h"
#include "broker/store.h"

struct store_pg;

/* True when @location is a "postgresql://" or "postgres://" URL. */
bool store_pg_is_url(const char *location);

/* Connects (one PGconn) and migrates under the cluster-wide write lock. Error messages never
 * contain the password. *ret new: store_pg_close(). */
int store_pg_open(const char *url, struct store_pg **ret, struct osb_error *err);
struct store_pg *store_pg_close(struct store_pg *pg);  /* NULL-safe; returns NULL */

unsigned store_pg_schema_version(struct store_pg *pg);
int store_pg_ping(struct store_pg *pg);

/* BEGIN, then pg_advisory_xact_lock() on one constant key: writers of every replica sharing the
 * database are serialised, as BEGIN IMMEDIATE does for one SQLite file. */
int store_pg_begin(struct store_pg *pg, struct osb_error *err);
int store_pg_commit(struct store_pg *pg, struct osb_error *err);
void store_pg_rollback(struct store_pg *pg);

int store_pg_get_instance(struct store_pg *pg, const char *id, struct instance_row **ret);
int store_pg_get_binding(struct store_pg *pg, const char *instance_id, const char *id,
                         struct binding_row **ret);
int store_pg_get_op(struct store_pg *pg, const char *id, struct op_row **ret);
int store_pg_latest_op(struct store_pg *pg, const char *instance_id, const char *binding_id,
                       const char *kind, struct op_row **ret);
int store_pg_put_instance(struct store_pg *pg, const struct instance_row *r);
int store_pg_put_binding(struct store_pg *pg, const struct binding_row *r);
int store_pg_put_op(struct store_pg *pg, const struct op_row *r);
int store_pg_delete_instance(struct store_pg *pg, const char *id);
int store_pg_delete_binding(struct store_pg *pg, const char *instance_id, const char *id);
int store_pg_count_bindings(struct store_pg *pg, const char *instance_id, int64_t *ret);
int store_pg_count(struct store_pg *pg, int64_t *ret_instances, int64_t *ret_bindings,
                   int64_t *ret_ops_in_progress);
int store_pg_each_pending_op(struct store_pg *pg,
                             int (*fn)(void *userdata, const char *id, int64_t due_at),
                             void *userdata);

/* A session-level pg_try_advisory_lock() keyed by the operation id: held by this connection
 * until store_pg_unlock_op() or until the connection ends (a replica that dies releases it).
 * Returns 0, -EBUSY when another connection holds it, or -EIO. */
int store_pg_lock_op(struct store_pg *pg, const char *op_id);
void store_pg_unlock_op(struct store_pg *pg, const char *op_id);

/* A copy of @url with its password (in the user info or a password= parameter) replaced by
 * "***". New (osb_free) or NULL on OOM. */
char *store_pg_redact_url(const char *url);
