/* broker/store_sqlite.h: the store in one SQLite file (WAL mode), behind broker/store.h, which
 * alone uses this table. One handle per thread; the writers of one file in this process are
 * group-committed (store_sqlite.c; other processes are covered by busy_timeout). A damaged file (SQLITE_CORRUPT/NOTADB,
 * or store_check()) is remembered for the whole process: reads that find nothing then fail
 * with -EUCLEAN, writes and pings fail. Background checkpoints: see store_checkpointer_start(). */
#pragma once

#include "broker/store_types.h"

extern const struct store_impl store_sqlite_impl;

/* For tests: how many requests wait for their turn to decide on @st's file now. Test hook:
 * with OSB_BROKER_TEST_FAIL_COMMIT set (non-empty) when a file's write connection opens, every
 * COMMIT of a batch on it fails (SQLite's commit hook turns it into a ROLLBACK). */
unsigned store_sqlite_waiting(struct store *st);
