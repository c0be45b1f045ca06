/* test/integration/check_postgresql.c: the "postgresql" backend against a real PostgreSQL
 * server (test/lib/pg-server.sh, one for the whole program, started and stopped by an
 * unchecked fixture) behind a real osb-broker: what an instance and a binding are on the server,
 * and what their credentials can do when the test logs in with them (libpq, no mocks). */
#include "common/osb_compat.h"
#include "common/osb_buf.h"
#include "common/osb_mem.h"
#include "test/integration/itest.h"
#include "test/lib/check_main.h"

#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/wait.h>

#define SVC "pg-svc"
#define PLAN_RW "pg-rw"     /* connection_limit 5, readwrite, async optional */
#define PLAN_RW10 "pg-rw10" /* connection_limit 10 */
#define PLAN_RO "pg-ro"     /* connection_limit 3, readonly */
#define PLAN_BAD "pg-bad"   /* admin_url_file pg-bad-url, rewritten by the tests */
#define BAD_PASSWORD "Sup3rS3cretPw"

static char state_dir[4096];   /* pg-server.sh's state, the catalog and the URL files */
static char admin_url[1024];   /* the superuser's URL */
static char catalog_path[4200];

/* ---- the server ---------------------------------------------------------------------------- */

static const char *srcdir(void)
{
        const char *top = getenv("top_srcdir");
        return top && *top ? top : IT_SRCDIR;
}

/* Runs test/lib/pg-server.sh @verb STATE_DIR. Returns its exit status. */
static int pg_server(const char *verb)
{
        osb_autofree char *script = osb_asprintf("%s/test/lib/pg-server.sh", srcdir());
        ck_assert_ptr_nonnull(script);
        fflush(NULL);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                /* Its stdout (the URL, a secret) is of no use in the test log. */
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
                        _exit(127);
                execl("/bin/bash", "bash", script, verb, state_dir, (char *) NULL);
                _exit(127);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void write_in_state(const char *name, const char *text)
{
        osb_autofree char *p = osb_asprintf("%s/%s", state_dir, name);
        ck_assert_ptr_nonnull(p);
        it_write_file(p, text);
}

static void server_setup(void)
{
        const char *tmp = getenv("TMPDIR");
        (void) snprintf(state_dir, sizeof(state_dir), "%s/bindery-pgtest-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        ck_assert_msg(mkdtemp(state_dir) != NULL, "mkdtemp: %s", strerror(errno));
        ck_assert_msg(pg_server("start") == 0, "test/lib/pg-server.sh start failed (see above)");
        osb_autofree char *p = osb_asprintf("%s/pg-admin-url", state_dir);
        osb_autofree char *url = it_read_file(p);
        ck_assert_ptr_nonnull(url);
        url[strcspn(url, "\n")] = '\0';
        (void) snprintf(admin_url, sizeof(admin_url), "%s", url);
        /* The catalog next to the URL files: its relative admin_url_file names them. */
        osb_autofree char *src = it_data_path("pg-catalog.json");
        osb_autofree char *cat = it_read_file(src);
        ck_assert_ptr_nonnull(cat);
        (void) snprintf(catalog_path, sizeof(catalog_path), "%s/pg-catalog.json", state_dir);
        it_write_file(catalog_path, cat);
        write_in_state("pg-bad-url", admin_url);
}

static void server_teardown(void)
{
        if (pg_server("stop") != 0)
                fprintf(stderr, "check_postgresql: pg-server.sh stop failed\n");
        it_rmtree(state_dir);
}

/* ---- SQL as the superuser and as a binding -------------------------------------------------- */

static PGconn *connect_url(const char *url, const char *dbname)
{
        const char *keys[] = {"dbname", "dbname", "connect_timeout", NULL};
        const char *vals[] = {url, dbname, "10", NULL};
        if (!dbname) {
                keys[1] = "connect_timeout";
                vals[1] = "10";
                keys[2] = NULL;
        }
        PGconn *c = PQconnectdbParams(keys, vals, 1);
        ck_assert_ptr_nonnull(c);
        return c;
}

static PGconn *admin_conn(const char *dbname)
{
        PGconn *c = connect_url(admin_url, dbname);
        if (PQstatus(c) != CONNECTION_OK) {
                char msg[512];
                (void) snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c));
                PQfinish(c);
                ck_abort_msg("cannot connect as the superuser: %s", msg);
        }
        return c;
}

/* Runs @sql on @c with up to one text parameter. Returns the error message ("" on success)
 * and the first column of the first row in @ret (may be NULL; "" when no row). */
static void sql_on(PGconn *c, const char *sql, const char *param, char *ret, size_t n, char *msg, size_t mn)
{
        PGresult *res = PQexecParams(c, sql, param ? 1 : 0, NULL, &param, NULL, NULL, 0);
        ExecStatusType st = PQresultStatus(res);
        bool ok = st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
        if (msg)
                (void) snprintf(msg, mn, "%s", ok ? "" : PQresultErrorMessage(res));
        if (ret)
                (void) snprintf(ret, n, "%s", ok && st == PGRES_TUPLES_OK && PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "");
        PQclear(res);
        if (!msg)
                ck_assert_msg(ok, "%s: %s", sql, c ? PQerrorMessage(c) : "");
}

/* The first value of @sql run as the superuser in @dbname (NULL: postgres); "" when no row. */
static void admin_sql(const char *dbname, const char *sql, const char *param, char *ret, size_t n)
{
        PGconn *c = admin_conn(dbname);
        char msg[512];
        sql_on(c, sql, param, ret, n, msg, sizeof(msg));
        PQfinish(c);
        ck_assert_msg(!*msg, "%s: %s", sql, msg);
}

static int64_t admin_int(const char *sql, const char *param)
{
        char v[64];
        admin_sql(NULL, sql, param, v, sizeof(v));
        return *v ? strtoll(v, NULL, 10) : -1;
}

/* The connection limit of the database an instance made, found by the comment the backend puts
 * on it; -2 when there is no such database. */
static int64_t instance_connlimit(const char *instance_id)
{
        osb_autofree char *comment = osb_asprintf("Bindery service instance %s", instance_id);
        int64_t n = admin_int("SELECT count(*) FROM pg_database WHERE shobj_description(oid, 'pg_database') = $1",
                              comment);
        ck_assert_msg(n <= 1, "%" PRId64 " databases for instance %s", n, instance_id);
        if (n == 0)
                return -2;
        return admin_int("SELECT datconnlimit FROM pg_database WHERE shobj_description(oid, 'pg_database') = $1",
                         comment);
}

/* Logs in with a binding's uri; runs @sql; returns whether it worked, the error in @msg. */
static bool as_binding(const char *uri, const char *sql, char *ret, size_t n, char *msg, size_t mn)
{
        PGconn *c = connect_url(uri, NULL);
        if (PQstatus(c) != CONNECTION_OK) {
                (void) snprintf(msg, mn, "%s", PQerrorMessage(c));
                PQfinish(c);
                return false;
        }
        sql_on(c, sql, NULL, ret, n, msg, mn);
        PQfinish(c);
        return !*msg;
}

static void as_binding_ok(const char *uri, const char *sql, char *ret, size_t n)
{
        char msg[512];
        ck_assert_msg(as_binding(uri, sql, ret, n, msg, sizeof(msg)), "as the binding: %s: %s", sql, msg);
}

static void as_binding_denied(const char *uri, const char *sql)
{
        char msg[512];
        ck_assert_msg(!as_binding(uri, sql, NULL, 0, msg, sizeof(msg)), "as the binding: %s worked", sql);
        ck_assert_msg(strstr(msg, "permission denied"), "as the binding: %s: %s", sql, msg);
}

/* ---- the broker ---------------------------------------------------------------------------- */

static void start_on(struct it *t, const char *catalog)
{
        *t = (struct it){0};
        http_response_init(&t->resp);
        struct broker_proc_config cfg = {
                .broker = it_broker_path(),
                .catalog = catalog,
                .username = IT_USER,
                .password = IT_PASSWORD,
                .start_timeout_ms = 30000,
                .keep_dir_on_failure = true,
        };
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(broker_proc_start(&cfg, &t->bp, &err) >= 0, "cannot start the broker: %s", err.text);
        ck_assert_int_eq(http_client_new(&t->hc), 0);
}

static char *instance_path(const char *id, const char *query)
{
        char *p = osb_asprintf("/v2/service_instances/%s%s", id, query ? query : "");
        ck_assert_ptr_nonnull(p);
        return p;
}

static char *binding_path(const char *id, const char *bid, const char *query)
{
        char *p = osb_asprintf("/v2/service_instances/%s/service_bindings/%s%s", id, bid, query ? query : "");
        ck_assert_ptr_nonnull(p);
        return p;
}

static void provision(struct it *t, const char *id, const char *plan, long status)
{
        osb_autofree char *body = it_provision_body(SVC, plan, NULL, NULL);
        osb_autofree char *path = instance_path(id, NULL);
        long s = it_req(t, "PUT", path, body, NULL);
        ck_assert_msg(s == status, "provision %s: %ld %s", id, s, t->resp.body.data);
}

/* A synchronous bind; returns the credentials (new). */
static json_t *bind_ok(struct it *t, const char *id, const char *bid, const char *plan)
{
        osb_autofree char *body = it_bind_body(SVC, plan, NULL, "app-1");
        osb_autofree char *path = binding_path(id, bid, NULL);
        long s = it_req(t, "PUT", path, body, NULL);
        ck_assert_msg(s == 201, "bind %s/%s: %ld %s", id, bid, s, t->resp.body.data);
        json_t *creds = json_incref(json_object_get(t->json, "credentials"));
        ck_assert_msg(json_is_object(creds), "bind: no credentials: %s", t->resp.body.data);
        return creds;
}

static const char *cred(const json_t *creds, const char *key)
{
        const char *v = json_string_value(json_object_get(creds, key));
        ck_assert_msg(v && *v, "credentials without \"%s\"", key);
        return v;
}

static void unbind(struct it *t, const char *id, const char *bid, const char *plan)
{
        osb_autofree char *q = osb_asprintf("?service_id=" SVC "&plan_id=%s", plan);
        osb_autofree char *path = binding_path(id, bid, q);
        long s = it_req(t, "DELETE", path, NULL, NULL);
        ck_assert_msg(s == 200, "unbind %s/%s: %ld %s", id, bid, s, t->resp.body.data);
}

static void deprovision(struct it *t, const char *id, const char *plan)
{
        osb_autofree char *q = osb_asprintf("?service_id=" SVC "&plan_id=%s", plan);
        osb_autofree char *path = instance_path(id, q);
        long s = it_req(t, "DELETE", path, NULL, NULL);
        ck_assert_msg(s == 200, "deprovision %s: %ld %s", id, s, t->resp.body.data);
}

/* Waits for the asynchronous operation of the last 202 answer on @path_base. */
static const char *wait_accepted(struct it *t, const char *path_base)
{
        const char *op = it_str(t, "operation");
        ck_assert_msg(op && *op, "202 without an operation: %s", t->resp.body.data);
        osb_autofree char *lop = osb_asprintf("%s/last_operation?operation=%s", path_base, op);
        ck_assert_ptr_nonnull(lop);
        return it_wait_op(t, lop, 20000);
}

/* ---- tests --------------------------------------------------------------------------------- */

START_TEST(readwrite_journey_provision_bind_use_update_unbind_deprovision)
{
        struct it t;
        start_on(&t, catalog_path);
        provision(&t, "rw-1", PLAN_RW, 201);
        ck_assert_int_eq(instance_connlimit("rw-1"), 5);
        /* The same provision again: 200 with the same body. */
        json_auto_t *first = it_json_copy(&t);
        provision(&t, "rw-1", PLAN_RW, 200);
        ck_assert(json_equal(first, t.json));

        json_auto_t *creds = bind_ok(&t, "rw-1", "b-1", PLAN_RW);
        static const char *const keys[] = {"uri", "host", "database", "username", "password", "jdbcUrl"};
        for (unsigned i = 0; i < OSB_ELEMENTSOF(keys); i++)
                (void) cred(creds, keys[i]);
        ck_assert_msg(json_integer_value(json_object_get(creds, "port")) > 0, "port: not a number");
        ck_assert_int_eq(json_object_size(creds), 7);
        ck_assert_str_eq(cred(creds, "host"), "127.0.0.1");
        ck_assert_int_eq(strlen(cred(creds, "password")), 32);
        osb_autofree char *want_uri = osb_asprintf("postgresql://%s:%s@127.0.0.1:%" PRId64 "/%s", cred(creds, "username"),
                                                   cred(creds, "password"),
                                                   (int64_t) json_integer_value(json_object_get(creds, "port")),
                                                   cred(creds, "database"));
        ck_assert_str_eq(cred(creds, "uri"), want_uri);
        osb_autofree char *want_jdbc = osb_asprintf("jdbc:postgresql://127.0.0.1:%" PRId64 "/%s?user=%s&password=%s",
                                                    (int64_t) json_integer_value(json_object_get(creds, "port")),
                                                    cred(creds, "database"), cred(creds, "username"),
                                                    cred(creds, "password"));
        ck_assert_str_eq(cred(creds, "jdbcUrl"), want_jdbc);
        /* The same bind again: 200 with the same credentials. */
        osb_autofree char *bb = it_bind_body(SVC, PLAN_RW, NULL, "app-1");
        osb_autofree char *bpath = binding_path("rw-1", "b-1", NULL);
        ck_assert_int_eq(it_req(&t, "PUT", bpath, bb, NULL), 200);
        ck_assert(json_equal(json_object_get(t.json, "credentials"), creds));

        /* A real session with the credentials. */
        const char *uri = cred(creds, "uri");
        char v[256];
        as_binding_ok(uri, "SELECT current_user || ' ' || current_database()", v, sizeof(v));
        osb_autofree char *who = osb_asprintf("%s %s", cred(creds, "username"), cred(creds, "database"));
        ck_assert_str_eq(v, who);
        as_binding_ok(uri, "CREATE TABLE notes (id int PRIMARY KEY, body text)", NULL, 0);
        as_binding_ok(uri, "INSERT INTO notes VALUES (1, 'hello')", NULL, 0);
        as_binding_ok(uri, "SELECT body FROM notes WHERE id = 1", v, sizeof(v));
        ck_assert_str_eq(v, "hello");
        /* A second read-write binding shares the first one's table. */
        json_auto_t *creds2 = bind_ok(&t, "rw-1", "b-2", PLAN_RW);
        as_binding_ok(cred(creds2, "uri"), "INSERT INTO notes VALUES (2, 'again') RETURNING body", v, sizeof(v));
        ck_assert_str_eq(v, "again");

        /* Update: the other plan's connection limit. */
        osb_autofree char *ipath = instance_path("rw-1", NULL);
        ck_assert_int_eq(it_req(&t, "PATCH", ipath, "{\"service_id\":\"" SVC "\",\"plan_id\":\"" PLAN_RW10 "\"}", NULL),
                         200);
        ck_assert_int_eq(instance_connlimit("rw-1"), 10);

        /* Unbind: no more login, its objects stay (now the owner role's). */
        char owner[128];
        admin_sql(NULL, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", cred(creds, "database"),
                  owner, sizeof(owner));
        ck_assert_str_ne(owner, "");
        unbind(&t, "rw-1", "b-1", PLAN_RW10);
        char msg[512];
        ck_assert(!as_binding(uri, "SELECT 1", NULL, 0, msg, sizeof(msg)));
        ck_assert_msg(strstr(msg, "password authentication failed"), "login after unbind: %s", msg);
        ck_assert_int_eq(admin_int("SELECT count(*) FROM pg_roles WHERE rolname = $1", cred(creds, "username")), 0);
        admin_sql(cred(creds, "database"), "SELECT tableowner FROM pg_tables WHERE tablename = $1", "notes", v, sizeof(v));
        ck_assert_str_eq(v, owner);
        admin_sql(cred(creds, "database"), "SELECT string_agg(body, ',' ORDER BY id) FROM notes WHERE body <> $1", "",
                  v, sizeof(v));
        ck_assert_str_eq(v, "hello,again");

        /* Deprovision (with binding b-2 left behind): the database and every role go. */
        deprovision(&t, "rw-1", PLAN_RW10);
        ck_assert_int_eq(instance_connlimit("rw-1"), -2);
        ck_assert_int_eq(admin_int("SELECT count(*) FROM pg_database WHERE datname = $1", cred(creds, "database")), 0);
        ck_assert_int_eq(admin_int("SELECT count(*) FROM pg_roles WHERE rolname = $1", owner), 0);
        ck_assert_int_eq(admin_int("SELECT count(*) FROM pg_roles WHERE rolname = $1", cred(creds2, "username")), 0);
        it_stop(&t);
}
END_TEST

START_TEST(async_provision_bind_unbind_deprovision_succeed)
{
        struct it t;
        start_on(&t, catalog_path);
        osb_autofree char *pb = it_provision_body(SVC, PLAN_RW, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/async-1?accepts_incomplete=true", pb, NULL), 202);
        ck_assert_str_eq(wait_accepted(&t, "/v2/service_instances/async-1"), "succeeded");
        ck_assert_int_eq(instance_connlimit("async-1"), 5);

        osb_autofree char *bb = it_bind_body(SVC, PLAN_RW, NULL, "app-1");
        const char *bpath = "/v2/service_instances/async-1/service_bindings/ab-1";
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/async-1/service_bindings/ab-1?accepts_incomplete=true",
                                bb, NULL), 202);
        ck_assert_str_eq(wait_accepted(&t, bpath), "succeeded");
        ck_assert_int_eq(it_req(&t, "GET", bpath, NULL, NULL), 200);
        json_auto_t *creds = json_incref(json_object_get(t.json, "credentials"));
        char v[64];
        as_binding_ok(cred(creds, "uri"), "SELECT 40 + 2", v, sizeof(v));
        ck_assert_str_eq(v, "42");

        ck_assert_int_eq(it_req(&t, "DELETE", "/v2/service_instances/async-1/service_bindings/ab-1?accepts_incomplete=true"
                                "&service_id=" SVC "&plan_id=" PLAN_RW, NULL, NULL), 202);
        ck_assert_str_eq(wait_accepted(&t, bpath), "succeeded");
        ck_assert_int_eq(admin_int("SELECT count(*) FROM pg_roles WHERE rolname = $1", cred(creds, "username")), 0);
        ck_assert_int_eq(it_req(&t, "DELETE", "/v2/service_instances/async-1?accepts_incomplete=true"
                                "&service_id=" SVC "&plan_id=" PLAN_RW, NULL, NULL), 202);
        const char *st = wait_accepted(&t, "/v2/service_instances/async-1");
        ck_assert_msg(strcmp(st, "succeeded") == 0 || strcmp(st, "gone") == 0, "deprovision: %s", st);
        ck_assert_int_eq(instance_connlimit("async-1"), -2);
        it_stop(&t);
}
END_TEST

START_TEST(readonly_binding_can_select_but_not_create_or_insert)
{
        struct it t;
        start_on(&t, catalog_path);
        provision(&t, "ro-1", PLAN_RO, 201);
        ck_assert_int_eq(instance_connlimit("ro-1"), 3);
        /* What a read-only binding reads: written by the database's owner. */
        json_auto_t *creds = bind_ok(&t, "ro-1", "rb-1", PLAN_RO);
        const char *db = cred(creds, "database");
        char owner[128];
        admin_sql(NULL, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", db, owner, sizeof(owner));
        PGconn *c = admin_conn(db);
        PGresult *res = PQexecParams(c, "SELECT set_config('role', $1, false)", 1, NULL, (const char *const[]){owner},
                                     NULL, NULL, 0);
        ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
        PQclear(res);
        char msg[512];
        /* One table before the binding existed would be the same; this one comes after it. */
        sql_on(c, "CREATE TABLE facts (id int, body text)", NULL, NULL, 0, msg, sizeof(msg));
        ck_assert_msg(!*msg, "%s", msg);
        sql_on(c, "INSERT INTO facts VALUES (1, 'read me')", NULL, NULL, 0, msg, sizeof(msg));
        ck_assert_msg(!*msg, "%s", msg);
        PQfinish(c);

        char v[64];
        as_binding_ok(cred(creds, "uri"), "SELECT body FROM facts", v, sizeof(v));
        ck_assert_str_eq(v, "read me");
        as_binding_denied(cred(creds, "uri"), "CREATE TABLE nope (id int)");
        as_binding_denied(cred(creds, "uri"), "INSERT INTO facts VALUES (2, 'no')");
        unbind(&t, "ro-1", "rb-1", PLAN_RO);
        deprovision(&t, "ro-1", PLAN_RO);
        ck_assert_int_eq(instance_connlimit("ro-1"), -2);
        it_stop(&t);
}
END_TEST

/* Is a session of the broker waiting for a lock? */
static bool broker_waits_for_lock(void)
{
        return admin_int("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
                         "bindery-osb-broker") > 0;
}

START_TEST(kill9_while_provision_waits_on_the_server_resumes_and_succeeds_once)
{
        /* The test holds CREATE ROLE of the owner role the broker will create, uncommitted: the
         * broker's CREATE ROLE waits on it, deterministically, until the test rolls back. */
        PGconn *hold = admin_conn(NULL);
        char owner[128], msg[512];
        sql_on(hold, "SELECT 'bindery_' || left(encode(sha256(convert_to($1, 'UTF8')), 'hex'), 24) || '_owner'",
               "crash-1", owner, sizeof(owner), NULL, 0);
        sql_on(hold, "BEGIN", NULL, NULL, 0, msg, sizeof(msg));
        ck_assert_msg(!*msg, "%s", msg);
        osb_autofree char *create = osb_asprintf("CREATE ROLE \"%s\" NOLOGIN", owner);
        sql_on(hold, create, NULL, NULL, 0, msg, sizeof(msg));
        ck_assert_msg(!*msg, "%s", msg);

        struct it t;
        start_on(&t, catalog_path);
        osb_autofree char *pb = it_provision_body(SVC, PLAN_RW, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/crash-1?accepts_incomplete=true", pb, NULL), 202);
        osb_autofree char *op = osb_strdup(it_str(&t, "operation"));
        ck_assert_ptr_nonnull(op);
        uint64_t deadline = it_now_ms() + 15000;
        while (!broker_waits_for_lock()) {
                ck_assert_msg(it_now_ms() < deadline, "the broker's provision never waited for the test's lock");
                it_sleep_ms(50);
        }
        ck_assert_int_eq(broker_proc_kill(t.bp), 0);
        osb_autofree char *q = osb_asprintf("SELECT state FROM operations WHERE id = '%s'", op);
        osb_autofree char *state = it_sql_text(broker_proc_db_path(t.bp), q);
        ck_assert_str_eq(state ? state : "(none)", "in progress");
        sql_on(hold, "ROLLBACK", NULL, NULL, 0, msg, sizeof(msg));
        ck_assert_msg(!*msg, "%s", msg);
        PQfinish(hold);

        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(broker_proc_restart(t.bp, &err) >= 0, "restart after kill -9: %s", err.text);
        osb_autofree char *lop = osb_asprintf("/v2/service_instances/crash-1/last_operation?operation=%s", op);
        ck_assert_str_eq(it_wait_op(&t, lop, 20000), "succeeded");
        ck_assert_int_eq(instance_connlimit("crash-1"), 5);  /* exactly one database */
        ck_assert_int_eq(admin_int("SELECT count(*) FROM pg_roles WHERE rolname = $1", owner), 1);
        json_auto_t *creds = bind_ok(&t, "crash-1", "cb-1", PLAN_RW);
        as_binding_ok(cred(creds, "uri"), "CREATE TABLE after_crash (id int)", NULL, 0);
        deprovision(&t, "crash-1", PLAN_RW);
        ck_assert_int_eq(admin_int("SELECT count(*) FROM pg_roles WHERE rolname = $1", owner), 0);
        it_stop(&t);
}
END_TEST

START_TEST(provision_finishes_what_an_interrupted_run_left)
{
        /* What a run cut short after its first steps leaves: the owner role and the database
         * (with another connection limit and owner). The provision takes them as they are. */
        char db[64], owner[128];
        const char *name_sql = "SELECT 'bindery_' || left(encode(sha256(convert_to($1, 'UTF8')), 'hex'), 24)";
        admin_sql(NULL, name_sql, "partial-1", db, sizeof(db));
        (void) snprintf(owner, sizeof(owner), "%s_owner", db);
        osb_autofree char *role = osb_asprintf("CREATE ROLE \"%s\" NOLOGIN", owner);
        osb_autofree char *create = osb_asprintf("CREATE DATABASE \"%s\"", db);
        admin_sql(NULL, role, NULL, NULL, 0);
        admin_sql(NULL, create, NULL, NULL, 0);

        struct it t;
        start_on(&t, catalog_path);
        provision(&t, "partial-1", PLAN_RW, 201);
        ck_assert_int_eq(admin_int("SELECT datconnlimit FROM pg_database WHERE datname = $1", db), 5);
        char v[128];
        admin_sql(NULL, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", db, v, sizeof(v));
        ck_assert_str_eq(v, owner);
        json_auto_t *creds = bind_ok(&t, "partial-1", "pb-1", PLAN_RW);
        ck_assert_str_eq(cred(creds, "database"), db);
        as_binding_ok(cred(creds, "uri"), "CREATE TABLE t (id int)", NULL, 0);
        deprovision(&t, "partial-1", PLAN_RW);
        ck_assert_int_eq(admin_int("SELECT count(*) FROM pg_database WHERE datname = $1", db), 0);
        it_stop(&t);
}
END_TEST

/* A TCP port on 127.0.0.1 nobody listens on (bound, then closed). */
static int closed_port(void)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(sa);
        ck_assert_int_eq(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        ck_assert_int_eq(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
        close(fd);
        return ntohs(sa.sin_port);
}

/* A provision of @id on the plan whose URL file now holds @url fails; returns the description. */
static void provision_fails_without_password(struct it *t, const char *id, const char *url, const char *must_name)
{
        write_in_state("pg-bad-url", url);
        provision(t, id, PLAN_BAD, 500);
        const char *desc = it_str(t, "description");
        ck_assert_msg(desc && strstr(desc, must_name), "description does not name '%s': %s", must_name,
                      t->resp.body.data);
        ck_assert_msg(!strstr(t->resp.body.data, BAD_PASSWORD), "the password is in the answer: %s", t->resp.body.data);
        ck_assert_msg(!strstr(t->resp.body.data, "S3cret"), "part of the password is in the answer: %s",
                      t->resp.body.data);
}

START_TEST(bad_admin_url_or_server_down_fails_naming_the_server_not_the_password)
{
        struct it t;
        start_on(&t, catalog_path);
        int port = closed_port();
        osb_autofree char *down = osb_asprintf("postgresql://bindery_admin:" BAD_PASSWORD "@127.0.0.1:%d/postgres\n", port);
        osb_autofree char *where = osb_asprintf("PostgreSQL server 127.0.0.1:%d", port);
        provision_fails_without_password(&t, "bad-1", down, where);

        /* Asynchronously: the operation fails with the same kind of description. */
        osb_autofree char *pb = it_provision_body(SVC, PLAN_BAD, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/bad-2?accepts_incomplete=true", pb, NULL), 202);
        ck_assert_str_eq(wait_accepted(&t, "/v2/service_instances/bad-2"), "failed");
        const char *desc = it_str(&t, "description");
        ck_assert_msg(desc && strstr(desc, where) && !strstr(desc, BAD_PASSWORD), "description: %s", t.resp.body.data);

        /* The right server, a wrong password. */
        const char *at = strrchr(admin_url, '@');
        ck_assert_ptr_nonnull(at);
        osb_autofree char *wrong = osb_asprintf("postgresql://bindery_admin:" BAD_PASSWORD "%s", at);
        provision_fails_without_password(&t, "bad-3", wrong, "password authentication failed");
        /* A URL libpq cannot parse (a bad percent-escape in the password). */
        osb_autofree char *garbled = osb_asprintf("postgresql://bindery_admin:Sup3r%%ZZS3cretPw%s", at);
        provision_fails_without_password(&t, "bad-4", garbled, "admin URL");

        /* The file is read at every call: with the right URL the same plan works. */
        write_in_state("pg-bad-url", admin_url);
        provision(&t, "bad-1", PLAN_BAD, 201);
        deprovision(&t, "bad-1", PLAN_BAD);
        it_stop(&t);
}
END_TEST

/* Starts the broker on a catalog whose one plan has @backend; it must refuse, naming @expect. */
static void refuses(const char *backend, const char *expect)
{
        osb_autofree char *dir = it_mkdtemp();
        osb_autofree char *cat = osb_asprintf("%s/cat.json", dir);
        osb_autofree char *db = osb_asprintf("%s/broker.db", dir);
        osb_autofree char *text = osb_asprintf(
                "{\"services\":[{\"id\":\"s\",\"name\":\"s\",\"description\":\"d\",\"bindable\":true,\"plans\":"
                "[{\"id\":\"p\",\"name\":\"p\",\"description\":\"d\",\"x-bindery-backend\":%s}]}]}", backend);
        it_write_file(cat, text);
        const char *args[] = {"--catalog", cat, "--db", db, "--port", "0", NULL};
        osb_autofree char *err = NULL;
        int code = it_run_broker(dir, args, 20000, &err);
        ck_assert_msg(code != 0, "the broker started with %s", backend);
        ck_assert_msg(strstr(err, expect), "for %s: stderr does not name '%s': %s", backend, expect, err);
        it_rmtree(dir);
}

START_TEST(config_errors_refuse_to_start_naming_the_json_path)
{
        osb_autofree char *both = osb_asprintf("{\"type\":\"postgresql\",\"admin_url_file\":\"%s/pg-admin-url\","
                                               "\"admin_url_env\":\"PG_URL\"}", state_dir);
        refuses(both, "services[0].plans[0].x-bindery-backend: set exactly one of \"admin_url_file\" and "
                      "\"admin_url_env\"");
        refuses("{\"type\":\"postgresql\"}", "services[0].plans[0].x-bindery-backend: set exactly one");
        osb_autofree char *unknown = osb_asprintf("{\"type\":\"postgresql\",\"admin_url_file\":\"%s/pg-admin-url\","
                                                  "\"database\":\"x\"}", state_dir);
        refuses(unknown, "services[0].plans[0].x-bindery-backend.database: unknown setting");
        osb_autofree char *grants = osb_asprintf("{\"type\":\"postgresql\",\"admin_url_file\":\"%s/pg-admin-url\","
                                                 "\"grants\":\"superuser\"}", state_dir);
        refuses(grants, "services[0].plans[0].x-bindery-backend.grants: must be \"readwrite\" or \"readonly\"");
        osb_autofree char *limit = osb_asprintf("{\"type\":\"postgresql\",\"admin_url_file\":\"%s/pg-admin-url\","
                                                "\"connection_limit\":-5}", state_dir);
        refuses(limit, "services[0].plans[0].x-bindery-backend.connection_limit");
        refuses("{\"type\":\"postgresql\",\"admin_url_file\":\"no-such-file\"}",
                "services[0].plans[0].x-bindery-backend.admin_url_file: cannot read");
        refuses("{\"type\":\"postgresql\",\"admin_url_env\":\"NOT A NAME\"}",
                "services[0].plans[0].x-bindery-backend.admin_url_env");
}
END_TEST

START_TEST(example_catalog_is_valid_and_provisions)
{
        osb_autofree char *src = osb_asprintf("%s/deploy/examples/postgresql/catalog.yaml", srcdir());
        osb_autofree char *text = it_read_file(src);
        ck_assert_msg(text != NULL, "cannot read %s", src);
        /* The mounted Secret's path becomes the test server's URL file; bindings get its host. */
        osb_autofree char *url_file = osb_asprintf("%s/pg-admin-url", state_dir);
        struct osb_buf b;
        osb_buf_init(&b, 1024 * 1024);
        for (const char *p = text; *p;) {
                const char *hit = strstr(p, "/etc/bindery/pg-admin-url");
                const char *hit2 = strstr(p, "postgres.db.svc.cluster.local");
                const char *next = !hit ? hit2 : !hit2 ? hit : hit < hit2 ? hit : hit2;
                if (!next) {
                        ck_assert_int_eq(osb_buf_appends(&b, p), 0);
                        break;
                }
                ck_assert_int_eq(osb_buf_append(&b, p, (size_t) (next - p)), 0);
                bool is_file = next == hit;
                ck_assert_int_eq(osb_buf_appends(&b, is_file ? url_file : "127.0.0.1"), 0);
                p = next + strlen(is_file ? "/etc/bindery/pg-admin-url" : "postgres.db.svc.cluster.local");
        }
        osb_autofree char *cat = osb_asprintf("%s/example-catalog.yaml", state_dir);
        osb_autofree char *yaml = osb_buf_detach(&b, NULL);
        it_write_file(cat, yaml);

        struct it t;
        start_on(&t, cat);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/catalog", NULL, NULL), 200);
        ck_assert_msg(strstr(t.resp.body.data, "\"small\"") && strstr(t.resp.body.data, "\"large\""), "%s",
                      t.resp.body.data);
        ck_assert_msg(!strstr(t.resp.body.data, "x-bindery-backend"), "%s", t.resp.body.data);
        const char *svc = "5d1a8c1e-6f0b-4b7e-9d4c-0b8f3c2a7e11", *small = "0c6b1c3e-2c57-4f55-a1f3-7a3c4b8e9d01";
        osb_autofree char *pb = it_provision_body(svc, small, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/example-1", pb, NULL), 201);
        ck_assert_int_eq(instance_connlimit("example-1"), 20);
        osb_autofree char *q = osb_asprintf("/v2/service_instances/example-1?service_id=%s&plan_id=%s", svc, small);
        ck_assert_int_eq(it_req(&t, "DELETE", q, NULL, NULL), 200);
        it_stop(&t);
}
END_TEST

static Suite *postgresql_suite(void)
{
        Suite *s = suite_create("postgresql");
        TCase *tc = tcase_create("server");
        /* One server for every test: started before the first, stopped after the last, even when
         * one fails (an unchecked fixture runs in this process, the tests in children). */
        tcase_add_unchecked_fixture(tc, server_setup, server_teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, readwrite_journey_provision_bind_use_update_unbind_deprovision);
        tcase_add_test(tc, async_provision_bind_unbind_deprovision_succeed);
        tcase_add_test(tc, readonly_binding_can_select_but_not_create_or_insert);
        tcase_add_test(tc, provision_finishes_what_an_interrupted_run_left);
        tcase_add_test(tc, kill9_while_provision_waits_on_the_server_resumes_and_succeeds_once);
        tcase_add_test(tc, bad_admin_url_or_server_down_fails_naming_the_server_not_the_password);
        tcase_add_test(tc, config_errors_refuse_to_start_naming_the_json_path);
        tcase_add_test(tc, example_catalog_is_valid_and_provisions);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(postgresql_suite)
