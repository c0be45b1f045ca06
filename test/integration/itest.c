/* test/integration/itest.c: shared helpers of the integration tests (see itest.h). */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "test/integration/itest.h"

#include <ftw.h>
#include <libpq-fe.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#ifndef IT_SRCDIR
#define IT_SRCDIR "."
#endif
#ifndef IT_BUILDDIR
#define IT_BUILDDIR "."
#endif

uint64_t it_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

void it_sleep_ms(unsigned ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

char *it_data_path(const char *name)
{
        const char *top = getenv("top_srcdir");
        char *p = osb_asprintf("%s/test/integration/data/%s", top && *top ? top : IT_SRCDIR, name);
        ck_assert_ptr_nonnull(p);
        return p;
}

const char *it_broker_path(void)
{
        static char fallback[4096];
        const char *b = getenv("OSB_BROKER");
        if (b && *b)
                return b;
        (void) snprintf(fallback, sizeof(fallback), "%s/broker/osb-broker", IT_BUILDDIR);
        return fallback;
}

void it_start(struct it *t, const char *catalog, const char *const *extra)
{
        *t = (struct it){0};
        http_response_init(&t->resp);
        osb_autofree char *cat = catalog ? it_data_path(catalog) : NULL;
        struct broker_proc_config cfg = {
                .broker = it_broker_path(),
                .catalog = cat,
                .username = IT_USER,
                .password = IT_PASSWORD,
                .extra_args = extra,
                .start_timeout_ms = 30000,  /* sanitizer builds on a loaded machine start slowly */
                .keep_dir_on_failure = true,
        };
        struct osb_error err = OSB_ERROR_INIT;
        int r = broker_proc_start(&cfg, &t->bp, &err);
        ck_assert_msg(r >= 0, "cannot start %s: %s", cfg.broker, err.text);
        if (getenv("IT_VERBOSE"))
                fprintf(stderr, "broker %s: log %s\n", broker_proc_url(t->bp), broker_proc_log_path(t->bp));
        ck_assert_int_eq(http_client_new(&t->hc), 0);
}

void it_stop(struct it *t)
{
        if (t->bp) {
                /* A clean exit also means no sanitizer report (leaks are checked at exit). */
                struct osb_error err = OSB_ERROR_INIT;
                bool was_running = broker_proc_running(t->bp);
                int r = broker_proc_stop(t->bp, 30000, &err);
                ck_assert_msg(!was_running || r == 0, "the broker did not exit cleanly on SIGTERM: %s (log: %s)",
                              err.text, broker_proc_log_path(t->bp));
                t->bp = broker_proc_free(t->bp, false);
        }
        t->hc = http_client_free(t->hc);
        http_response_release(&t->resp);
        json_decref(t->json);
        t->json = NULL;
}

static char basic_value[128];

static void basic_init(void)
{
        static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const unsigned char *in = (const unsigned char *) IT_USER ":" IT_PASSWORD;
        size_t n = strlen((const char *) in), o = 6;
        memcpy(basic_value, "Basic ", 6);
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t) in[i] << 16;
                if (i + 1 < n)
                        v |= (uint32_t) in[i + 1] << 8;
                if (i + 2 < n)
                        v |= in[i + 2];
                basic_value[o++] = tbl[(v >> 18) & 63];
                basic_value[o++] = tbl[(v >> 12) & 63];
                basic_value[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
                basic_value[o++] = i + 2 < n ? tbl[v & 63] : '=';
        }
        basic_value[o] = '\0';
}

/* "Basic base64(osb:conformance-secret)". */
static const char *basic_header(void)
{
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        pthread_once(&once, basic_init);
        return basic_value;
}

static bool has_name(const char *const *headers, const char *name)
{
        for (size_t i = 0; headers && headers[i]; i += 2)
                if (strcasecmp(headers[i], name) == 0)
                        return true;
        return false;
}

long it_do(struct http_client *hc, const char *base, const char *method, const char *path_query,
           const char *body, const char *const *headers, struct http_response *resp)
{
        const char *h[64];
        size_t n = 0;
        const char *defaults[] = {"Authorization", basic_header(), "X-Broker-API-Version", "2.17",
                                  "Content-Type", body ? "application/json" : NULL};
        for (size_t i = 0; i < OSB_ELEMENTSOF(defaults); i += 2)
                if (defaults[i + 1] && !has_name(headers, defaults[i])) {
                        h[n++] = defaults[i];
                        h[n++] = defaults[i + 1];
                }
        for (size_t i = 0; headers && headers[i] && n < 60; i += 2) {
                h[n++] = headers[i];
                h[n++] = headers[i + 1];
        }
        h[n] = NULL;
        osb_autofree char *url = osb_asprintf("%s%s", base, path_query);
        if (!url)
                return -1;
        struct http_request req = {
                .method = method,
                .url = url,
                .headers = h,
                .body = body,
                .body_len = body ? strlen(body) : 0,
                .has_body = body != NULL,
                .timeout_ms = 60000,
                .connect_timeout_ms = 10000,
        };
        struct osb_error err = OSB_ERROR_INIT;
        if (http_client_do(hc, &req, resp, &err) < 0) {
                fprintf(stderr, "%s %s: %s\n", method, url, err.text);
                return -1;
        }
        return resp->status;
}

long it_req_url(struct it *t, struct http_client *hc, const char *base, const char *method,
                const char *path_query, const char *body, const char *const *headers)
{
        json_decref(t->json);
        t->json = NULL;
        long status = it_do(hc, base, method, path_query, body, headers, &t->resp);
        ck_assert_msg(status > 0, "%s %s%s: no response (see stderr)", method, base, path_query);
        if (t->resp.body.len)
                t->json = json_loadb(t->resp.body.data, t->resp.body.len, 0, NULL);
        return status;
}

long it_req(struct it *t, const char *method, const char *path_query, const char *body,
            const char *const *headers)
{
        return it_req_url(t, t->hc, broker_proc_url(t->bp), method, path_query, body, headers);
}

char *it_provision_body(const char *service_id, const char *plan_id, const char *params,
                        const char *context)
{
        char *s = osb_asprintf("{\"service_id\":\"%s\",\"plan_id\":\"%s\",\"organization_guid\":\"org-1\","
                               "\"space_guid\":\"space-1\"%s%s%s%s}",
                               service_id, plan_id, params ? ",\"parameters\":" : "", params ? params : "",
                               context ? ",\"context\":" : "", context ? context : "");
        ck_assert_ptr_nonnull(s);
        return s;
}

char *it_bind_body(const char *service_id, const char *plan_id, const char *params,
                   const char *app_guid)
{
        char *s = osb_asprintf("{\"service_id\":\"%s\",\"plan_id\":\"%s\"%s%s%s%s%s}", service_id, plan_id,
                               params ? ",\"parameters\":" : "", params ? params : "",
                               app_guid ? ",\"bind_resource\":{\"app_guid\":\"" : "", app_guid ? app_guid : "",
                               app_guid ? "\"}" : "");
        ck_assert_ptr_nonnull(s);
        return s;
}

const char *it_str(const struct it *t, const char *key)
{
        return json_string_value(json_object_get(t->json, key));
}

json_t *it_json_copy(const struct it *t)
{
        ck_assert_msg(t->json != NULL, "the response body is not JSON: '%s'",
                      t->resp.body.data ? t->resp.body.data : "");
        return json_deep_copy(t->json);
}

const char *it_wait_op(struct it *t, const char *last_op_path, unsigned timeout_ms)
{
        static char state[64];
        uint64_t deadline = it_now_ms() + timeout_ms;
        for (;;) {
                long s = it_req(t, "GET", last_op_path, NULL, NULL);
                if (s == 410) {
                        (void) snprintf(state, sizeof(state), "gone");
                        return state;
                }
                ck_assert_msg(s == 200, "GET %s: %ld %s", last_op_path, s,
                              t->resp.body.data ? t->resp.body.data : "");
                const char *st = it_str(t, "state");
                ck_assert_msg(st != NULL, "GET %s: no state in %s", last_op_path, t->resp.body.data);
                if (strcmp(st, "in progress") != 0) {
                        (void) snprintf(state, sizeof(state), "%s", st);
                        return state;
                }
                ck_assert_msg(it_now_ms() < deadline, "GET %s: still in progress after %u ms", last_op_path,
                              timeout_ms);
                it_sleep_ms(100);
        }
}

/* ---- processes ---------------------------------------------------------------------------- */

static pid_t spawn(const char *dir, const char *const *args, const char *out_path, const char *err_path)
{
        size_t n = 0;
        while (args[n])
                n++;
        const char **argv = osb_calloc(n + 2, sizeof(*argv));
        ck_assert_ptr_nonnull(argv);
        argv[0] = it_broker_path();
        for (size_t i = 0; i < n; i++)
                argv[i + 1] = args[i];
        fflush(NULL);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
#ifdef __linux__
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
                int out = open(out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                int err = open(err_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                if (out < 0 || err < 0 || chdir(dir) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
                    dup2(err, STDERR_FILENO) < 0)
                        _exit(127);
                execv(argv[0], (char *const *) argv);
                _exit(127);
        }
        osb_free(argv);
        return pid;
}

static int status_code(int st)
{
        if (WIFEXITED(st))
                return WEXITSTATUS(st);
        if (WIFSIGNALED(st))
                return 128 + WTERMSIG(st);
        return -1;
}

/* Waits for @pid up to @timeout_ms. Returns the exit status, or -1 (still running). */
static int wait_exit(pid_t pid, unsigned timeout_ms)
{
        uint64_t deadline = it_now_ms() + timeout_ms;
        for (;;) {
                int st;
                pid_t r = waitpid(pid, &st, WNOHANG);
                if (r == pid)
                        return status_code(st);
                ck_assert_msg(r == 0, "waitpid: %s", strerror(errno));
                if (it_now_ms() >= deadline)
                        return -1;
                it_sleep_ms(20);
        }
}

int it_run_broker(const char *dir, const char *const *args, unsigned timeout_ms, char **ret_stderr)
{
        osb_autofree char *out = osb_asprintf("%s/stdout.txt", dir);
        osb_autofree char *err = osb_asprintf("%s/stderr.txt", dir);
        ck_assert(out && err);
        (void) unlink(err);
        pid_t pid = spawn(dir, args, out, err);
        int code = wait_exit(pid, timeout_ms);
        if (code < 0) {
                kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
        }
        char *text = it_read_file(err);
        *ret_stderr = text ? text : osb_strdup("");
        return code;
}

pid_t it_spawn_broker(const char *dir, const char *const *args, const char *port_file,
                      unsigned timeout_ms)
{
        osb_autofree char *log = osb_asprintf("%s/broker.log", dir);
        ck_assert_ptr_nonnull(log);
        pid_t pid = spawn(dir, args, log, log);
        uint64_t deadline = it_now_ms() + timeout_ms;
        while (!it_file_exists(port_file)) {
                int st;
                if (waitpid(pid, &st, WNOHANG) == pid) {
                        osb_autofree char *text = it_read_file(log);
                        ck_abort_msg("the broker exited with status %d before listening: %s", status_code(st),
                                     text ? text : "");
                }
                if (it_now_ms() >= deadline) {
                        kill(pid, SIGKILL);
                        (void) waitpid(pid, NULL, 0);
                        ck_abort_msg("the broker did not write %s within %u ms", port_file, timeout_ms);
                }
                it_sleep_ms(20);
        }
        return pid;
}

int it_terminate(pid_t pid, unsigned timeout_ms)
{
        kill(pid, SIGTERM);
        int code = wait_exit(pid, timeout_ms);
        if (code < 0) {
                kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
        }
        return code;
}

/* ---- files --------------------------------------------------------------------------------- */

char *it_mkdtemp(void)
{
        const char *tmp = getenv("TMPDIR");
        char *path = osb_asprintf("%s/bindery-itest-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        ck_assert_ptr_nonnull(path);
        ck_assert_msg(mkdtemp(path) != NULL, "mkdtemp %s: %s", path, strerror(errno));
        return path;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void) remove(path);
        return 0;
}

void it_rmtree(const char *dir)
{
        if (dir)
                (void) nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void it_write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");
        ck_assert_msg(f != NULL, "cannot write %s: %s", path, strerror(errno));
        size_t n = strlen(text);
        ck_assert_uint_eq(fwrite(text, 1, n, f), n);
        ck_assert_int_eq(fclose(f), 0);
}

char *it_read_file(const char *path)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return NULL;
        struct osb_buf b;
        osb_buf_init(&b, 64u * 1024 * 1024);
        char chunk[8192];
        size_t n;
        int r = 0;
        while (r == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                r = osb_buf_append(&b, chunk, n);
        fclose(f);
        if (r == 0 && !b.data)
                return osb_strdup("");
        if (r < 0) {
                osb_buf_release(&b);
                return NULL;
        }
        return osb_buf_detach(&b, NULL);
}

bool it_file_exists(const char *path)
{
        struct stat sb;
        return stat(path, &sb) == 0;
}

/* ---- the store: SQLite, or PostgreSQL for a postgresql:// URL ------------------------------ */

static bool is_pg(const char *db)
{
        return strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0;
}

/* Runs @sql on its own connection; the result of a statement that worked (PQclear it). */
static PGresult *pg_run(const char *db, const char *sql)
{
        PGconn *c = PQconnectdb(db);
        ck_assert_ptr_nonnull(c);
        if (PQstatus(c) != CONNECTION_OK) {
                char text[512];
                (void) snprintf(text, sizeof(text), "%s", PQerrorMessage(c));
                PQfinish(c);
                ck_abort_msg("cannot connect to the store: %s", text);
        }
        PGresult *res = PQexec(c, sql);
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
                char text[512];
                (void) snprintf(text, sizeof(text), "%s", PQerrorMessage(c));
                PQclear(res);
                PQfinish(c);
                ck_abort_msg("%s: %s", sql, text);
        }
        PQfinish(c);
        return res;
}

static char *pg_query_text(const char *db, const char *sql)
{
        PGresult *res = pg_run(db, sql);
        char *out = NULL;
        if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)) {
                out = osb_strdup(PQgetvalue(res, 0, 0));
                ck_assert_ptr_nonnull(out);
        }
        PQclear(res);
        return out;
}

static sqlite3 *db_open(const char *db)
{
        sqlite3 *h = NULL;
        int r = sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL);
        ck_assert_msg(r == SQLITE_OK, "sqlite3_open %s: %s", db, h ? sqlite3_errmsg(h) : sqlite3_errstr(r));
        sqlite3_busy_timeout(h, 10000);
        return h;
}

void it_sql_exec(const char *db, const char *sql)
{
        if (is_pg(db)) {
                PQclear(pg_run(db, sql));
                return;
        }
        sqlite3 *h = db_open(db);
        char *msg = NULL;
        int r = sqlite3_exec(h, sql, NULL, NULL, &msg);
        char text[512];
        (void) snprintf(text, sizeof(text), "%s", msg ? msg : "");
        sqlite3_free(msg);
        sqlite3_close(h);
        ck_assert_msg(r == SQLITE_OK, "%s: %s", sql, text);
}

static char *query_text(const char *db, const char *sql, bool *ret_row)
{
        if (is_pg(db))
                return pg_query_text(db, sql);
        sqlite3 *h = db_open(db);
        sqlite3_stmt *q = NULL;
        int r = sqlite3_prepare_v2(h, sql, -1, &q, NULL);
        if (r != SQLITE_OK) {
                char text[512];
                (void) snprintf(text, sizeof(text), "%s", sqlite3_errmsg(h));
                sqlite3_close(h);
                ck_abort_msg("%s: %s", sql, text);
        }
        char *out = NULL;
        r = sqlite3_step(q);
        *ret_row = r == SQLITE_ROW;
        if (r == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
                out = osb_strdup((const char *) sqlite3_column_text(q, 0));
        sqlite3_finalize(q);
        sqlite3_close(h);
        ck_assert_msg(r == SQLITE_ROW || r == SQLITE_DONE, "%s: step failed (%d)", sql, r);
        return out;
}

int64_t it_sql_int(const char *db, const char *sql)
{
        bool row;
        osb_autofree char *s = query_text(db, sql, &row);
        return s ? strtoll(s, NULL, 10) : 0;
}

char *it_sql_text(const char *db, const char *sql)
{
        bool row;
        return query_text(db, sql, &row);
}
