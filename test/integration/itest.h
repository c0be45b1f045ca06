/* test/integration/itest.h: what the integration tests share on top of test/lib/: a broker
 * started on the integration catalog with a client that sends the headers a platform sends,
 * polling of last_operation with a deadline, brokers run to completion (for the ones that must
 * refuse to start), temporary directories and direct reads of the SQLite file. Failures abort
 * the current check test (ck_assert), so callers need not check results. Not thread-safe except
 * where a function says so. */
#pragma once

#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "test/lib/broker_proc.h"
#include "test/lib/http_client.h"

/* Ids of test/integration/data/itest-catalog.json. */
#define IT_SVC "itest-svc-db"
#define IT_PLAN_SYNC "itest-plan-sync"            /* synchronous, dashboard_url, credentials */
#define IT_PLAN_SYNC2 "itest-plan-sync2"
#define IT_PLAN_ASYNC "itest-plan-async"          /* async optional, bind_async optional, 2s */
#define IT_PLAN_ASYNC_FAST "itest-plan-async-fast" /* the same, 300ms, retry_after 1 */
#define IT_PLAN_ASYNC_SLOW "itest-plan-async-slow" /* the same, 30s */
#define IT_PLAN_ASYNC_REQUIRED "itest-plan-async-required"
#define IT_PLAN_FAILS "itest-plan-fails"          /* async optional, every operation fails, 2s */
#define IT_FAIL_MESSAGE "itest plan fails on purpose"
#define IT_PLAN_REQUIRES_APP "itest-plan-requires-app"
#define IT_PLAN_MAINT "itest-plan-maint"          /* maintenance_info.version 1.0.0 */
#define IT_SVC_FIXED "itest-svc-fixed"            /* plan_updateable: false */
#define IT_PLAN_FIXED_A "itest-plan-fixed-a"
#define IT_PLAN_FIXED_B "itest-plan-fixed-b"

#define IT_USER "osb"
#define IT_PASSWORD "conformance-secret"

/* A running broker and a client for the test's own thread. */
struct it {
        struct broker_proc *bp;
        struct http_client *hc;
        struct http_response resp;  /* of the last it_req() */
        json_t *json;               /* its body parsed, or NULL when not JSON */
};

/* Path of a file under test/integration/data/ ($top_srcdir, else the source tree this was
 * built from). New (osb_free). */
char *it_data_path(const char *name);
/* $OSB_BROKER, else the broker of this build tree. Borrowed. */
const char *it_broker_path(void);

/* Starts a broker on @catalog (a file name under data/, or NULL for the built-in demo catalog)
 * with @extra arguments (NULL-terminated, may be NULL). */
void it_start(struct it *t, const char *catalog, const char *const *extra);
/* Stops the broker (SIGTERM; kill -9 when it does not exit) and fails the test unless it
 * exited 0 (so a sanitizer report in the broker fails the test); removes its directory and frees
 * everything. A test that fails before this leaves the directory behind, with the broker's log
 * in DIR/broker.log (its path is printed when IT_VERBOSE is set). */
void it_stop(struct it *t);

/* Sends @method @path_query (e.g. "/v2/catalog") with @body (NULL: none) and the platform's
 * headers: Basic authentication, X-Broker-API-Version: 2.17 and, with a body, Content-Type:
 * application/json. @headers (NULL-terminated name, value pairs; may be NULL) are sent too; one
 * of the same name replaces the default, and a NULL value removes it. Returns the status; the
 * response stays in t->resp and t->json until the next call. */
long it_req(struct it *t, const char *method, const char *path_query, const char *body,
            const char *const *headers);
/* The same against another base URL ("https://localhost:PORT") through @hc. */
long it_req_url(struct it *t, struct http_client *hc, const char *base, const char *method,
                const char *path_query, const char *body, const char *const *headers);

/* One request on a client of the caller's thread: the same defaults as it_req(). Thread-safe
 * (each thread passes its own @hc). Returns the status, or -1 when no response came. */
long it_do(struct http_client *hc, const char *base, const char *method, const char *path_query,
           const char *body, const char *const *headers, struct http_response *resp);

/* A provision body. @params and @context are JSON text or NULL. New (osb_free). */
char *it_provision_body(const char *service_id, const char *plan_id, const char *params,
                        const char *context);
/* A bind body. New (osb_free). */
char *it_bind_body(const char *service_id, const char *plan_id, const char *params,
                   const char *app_guid);

/* String member @key of t->json, or NULL. Borrowed. */
const char *it_str(const struct it *t, const char *key);
/* Copy of t->json. New (json_decref); fails the test when the body is not JSON. */
json_t *it_json_copy(const struct it *t);

/* Polls GET @last_op_path (a last_operation URL with its query) until the state is no longer
 * "in progress" or @timeout_ms passed (fails the test). A 410 Gone ends the wait too. Returns
 * the final state ("succeeded", "failed", or "gone" for a 410). Borrowed until the next call. */
const char *it_wait_op(struct it *t, const char *last_op_path, unsigned timeout_ms);

/* Runs the broker with @args (NULL-terminated, without the program name) in @dir until it
 * exits, at most @timeout_ms. Returns its exit status (128 + signal when killed by one, -1 on
 * timeout); *ret_stderr receives what it wrote on stderr (new, osb_free). */
int it_run_broker(const char *dir, const char *const *args, unsigned timeout_ms, char **ret_stderr);
/* Starts the broker with @args in the background, stdout and stderr into @dir/broker.log, and
 * waits for @port_file to appear. Returns the pid, or fails the test. */
pid_t it_spawn_broker(const char *dir, const char *const *args, const char *port_file,
                      unsigned timeout_ms);
/* SIGTERM, then waits up to @timeout_ms (SIGKILL after). Returns the exit status as in
 * it_run_broker(). */
int it_terminate(pid_t pid, unsigned timeout_ms);

/* A new private directory under $TMPDIR or /tmp. New (osb_free); remove with it_rmtree(). */
char *it_mkdtemp(void);
void it_rmtree(const char *dir);
void it_write_file(const char *path, const char *text);
/* Contents of @path, or NULL when it cannot be read. New (osb_free). */
char *it_read_file(const char *path);
bool it_file_exists(const char *path);

/* Runs @sql on the store @db (its own connection): a SQLite file, or a postgresql:// URL
 * (broker_proc_db_path() of a broker run with BINDERY_TEST_STORE=postgresql). */
void it_sql_exec(const char *db, const char *sql);
/* The first column of the first row of @sql as an integer (0 when there is no row). */
int64_t it_sql_int(const char *db, const char *sql);
/* The first column of the first row as text (NULL when no row or NULL). New (osb_free). */
char *it_sql_text(const char *db, const char *sql);

uint64_t it_now_ms(void);
void it_sleep_ms(unsigned ms);
