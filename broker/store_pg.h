/* broker/store_pg.h: the store in PostgreSQL (--store postgresql://...), behind broker/store.h,
 * which alone uses this table; the contracts are those of store.h. Only the differences:
 * open() connects (one PGconn) and migrates under the cluster-wide write lock, and no message
 * ever contains the URL's password; begin() takes pg_advisory_xact_lock() on one constant key,
 * so writers of every replica sharing the database are serialised as BEGIN IMMEDIATE does for
 * one SQLite file; lock_op() is a session-level pg_try_advisory_lock() keyed by the operation
 * id, held until unlock_op() or until the connection ends (a replica that dies releases it).
 * It claims "postgresql://" and "postgres://" URLs. */
#pragma once

#include "broker/store_types.h"

extern const struct store_impl store_pg_impl;
