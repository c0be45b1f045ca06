/* broker/store_sqlite.h: the store in one SQLite file (WAL mode), behind broker/store.h, which
 * alone uses this table. One handle per thread; writers in one process are serialised by a
 * process-wide lock (other processes by busy_timeout). A damaged file (SQLITE_CORRUPT/NOTADB,
 * or store_check()) is remembered for the whole process: reads that find nothing then fail
 * with -EUCLEAN, writes and pings fail. Background checkpoints: see store_checkpointer_start(). */
#pragma once

#include "broker/store_types.h"

extern const struct store_impl store_sqlite_impl;
