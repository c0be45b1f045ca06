/* test/lib/broker_proc.h: run an osb-broker process for a test, in a private temporary
 * directory (its SQLite database, port file and log live there), and stop, kill -9 or restart
 * it. The broker is started as
 *
 *   BROKER --listen 127.0.0.1 --port 0 --port-file DIR/port --db DIR/broker.db
 *          [--catalog CATALOG] --username USER --password PASS --log-level LEVEL [EXTRA...]
 *
 * with stdout and stderr appended to DIR/broker.log, and is ready once DIR/port holds its
 * decimal port and a newline (the broker writes it atomically once listening). On Linux the
 * broker gets SIGKILL if the test process dies. Not thread-safe per handle.
 *
 * PostgreSQL: with BINDERY_TEST_STORE=postgresql in the environment, each broker gets
 * "--store URL" of a new database (CREATE DATABASE through the superuser URL in
 * $BINDERY_TEST_PG_URL, e.g. test/lib/pg-server.sh's pg-admin-url) instead of its SQLite file;
 * broker_proc_db_path() then returns that URL. A config's .store shares an existing store. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/osb_error.h"

struct broker_proc_config {
        const char *broker;            /* path of osb-broker; required */
        const char *catalog;           /* --catalog, or NULL for the built-in demo catalog */
        const char *username;          /* NULL: "osb" */
        const char *password;          /* NULL: "conformance-secret" */
        const char *log_level;         /* NULL: "warn" */
        const char *const *extra_args; /* NULL-terminated, appended as they are; may be NULL */
        const char *tmp_parent;        /* where the temporary directory goes; NULL: $TMPDIR or
                                        * /tmp */
        unsigned start_timeout_ms;     /* wait for the port file at most this long; 0: 10000 */
        bool keep_dir_on_failure;      /* when the first start fails, keep the directory (the
                                        * error message then names the log) */
        const char *store;             /* NULL: a new store as above; else this SQLite file or
                                        * postgresql:// URL (another broker's
                                        * broker_proc_db_path(): replicas on one store) */
};

/* True when BINDERY_TEST_STORE=postgresql: brokers get a new PostgreSQL database each. */
bool broker_proc_store_is_postgresql(void);

struct broker_proc;

/* Creates the temporary directory and starts the broker; waits until it listens. Returns 0 with
 * *ret new (free with broker_proc_free()), or a negative code with a message in @err (for a
 * broker that exits or times out, the message quotes the end of its log). @cfg's strings are
 * copied. */
int broker_proc_start(const struct broker_proc_config *cfg, struct broker_proc **ret,
                      struct osb_error *err);

/* SIGTERM, then waits up to @timeout_ms (0: 15000) for the process to exit; past that it is
 * killed with SIGKILL. Returns 0 when it exited with status 0, else a negative code with the
 * exit status or signal described in @err. A stopped broker can be restarted. No-op returning
 * 0 when not running. */
int broker_proc_stop(struct broker_proc *bp, unsigned timeout_ms, struct osb_error *err);
/* SIGKILL and reap: a crash, for tests of recovery. Returns 0 (or 0 when not running). */
int broker_proc_kill(struct broker_proc *bp);
/* Starts the broker again with the same directory, database and arguments (stopping it first
 * with broker_proc_stop() if it still runs). The port usually changes. Returns as
 * broker_proc_start(). */
int broker_proc_restart(struct broker_proc *bp, struct osb_error *err);

/* Valid while running. */
uint16_t broker_proc_port(const struct broker_proc *bp);
pid_t broker_proc_pid(const struct broker_proc *bp);
bool broker_proc_running(const struct broker_proc *bp);
/* "http://127.0.0.1:PORT" (no trailing slash); borrowed, changes on restart. */
const char *broker_proc_url(const struct broker_proc *bp);
/* Borrowed; valid until broker_proc_free(). */
const char *broker_proc_dir(const struct broker_proc *bp);
const char *broker_proc_log_path(const struct broker_proc *bp);
/* The SQLite file, or the postgresql:// URL of the broker's store. */
const char *broker_proc_db_path(const struct broker_proc *bp);

/* Kills the broker if it still runs, removes the temporary directory unless @keep_dir, frees.
 * NULL-safe; returns NULL. */
struct broker_proc *broker_proc_free(struct broker_proc *bp, bool keep_dir);
