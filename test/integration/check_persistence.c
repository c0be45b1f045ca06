/* test/integration/check_persistence.c: what survives a restart of osb-broker on the same
 * database, a clean exit on SIGTERM, and the start-up checks that refuse to run (newer schema,
 * invalid catalog, open listener without authentication). */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "test/integration/itest.h"
#include "test/lib/check_main.h"

#define PROVISION_PATH "/v2/service_instances/persist-1"
#define BINDING_PATH "/v2/service_instances/persist-1/service_bindings/persist-b1"

static void restart(struct it *t)
{
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(broker_proc_restart(t->bp, &err) >= 0, "restart: %s", err.text);
}

static void stop_exits_zero(struct it *t)
{
        struct osb_error err = OSB_ERROR_INIT;
        int r = broker_proc_stop(t->bp, 30000, &err);
        ck_assert_msg(r == 0, "the broker did not exit 0 on SIGTERM: %s", err.text);
        ck_assert(!broker_proc_running(t->bp));
}

START_TEST(restart_after_sigterm_serves_the_same_instance_and_binding)
{
        struct it t;
        it_start(&t, "itest-catalog.json", NULL);
        osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_SYNC, "{\"size\":3,\"name\":\"caf\\u00e9\"}",
                                                  "{\"platform\":\"kubernetes\",\"namespace\":\"ns1\"}");
        ck_assert_int_eq(it_req(&t, "PUT", PROVISION_PATH, pb, NULL), 201);
        osb_autofree char *bb = it_bind_body(IT_SVC, IT_PLAN_SYNC, "{\"role\":\"ro\"}", "app-1");
        ck_assert_int_eq(it_req(&t, "PUT", BINDING_PATH, bb, NULL), 201);
        ck_assert_int_eq(it_req(&t, "GET", PROVISION_PATH, NULL, NULL), 200);
        json_auto_t *inst = it_json_copy(&t);
        ck_assert_int_eq(it_req(&t, "GET", BINDING_PATH, NULL, NULL), 200);
        json_auto_t *bind = it_json_copy(&t);
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(inst, "parameters"), "name")), "caf\xc3\xa9");
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(bind, "credentials"), "user")),
                         "u-persist-b1");

        stop_exits_zero(&t);
        restart(&t);

        ck_assert_int_eq(it_req(&t, "GET", PROVISION_PATH, NULL, NULL), 200);
        ck_assert_msg(json_equal(inst, t.json), "instance after restart: %s", t.resp.body.data);
        ck_assert_int_eq(it_req(&t, "GET", BINDING_PATH, NULL, NULL), 200);
        ck_assert_msg(json_equal(bind, t.json), "binding after restart: %s", t.resp.body.data);
        /* The repeated requests are still recognised as identical, and a different one conflicts. */
        ck_assert_int_eq(it_req(&t, "PUT", PROVISION_PATH, pb, NULL), 200);
        ck_assert_int_eq(it_req(&t, "PUT", BINDING_PATH, bb, NULL), 200);
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(t.json, "credentials"), "user")),
                         "u-persist-b1");
        osb_autofree char *other = it_provision_body(IT_SVC, IT_PLAN_SYNC2, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", PROVISION_PATH, other, NULL), 409);
        stop_exits_zero(&t);
        it_stop(&t);
}
END_TEST

/* libpq (and the OpenSSL, Kerberos and LDAP libraries it pulls in) is loaded only when the
 * broker needs it: its store is PostgreSQL, or a plan has the postgresql backend. */
START_TEST(libpq_is_mapped_only_by_a_broker_with_a_postgresql_store)
{
        struct it t;
        it_start(&t, "itest-catalog.json", NULL);
        osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_SYNC, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", PROVISION_PATH, pb, NULL), 201);
        char path[64];
        (void) snprintf(path, sizeof(path), "/proc/%ld/maps", (long) broker_proc_pid(t.bp));
        osb_autofree char *maps = it_read_file(path);
        ck_assert_msg(maps != NULL, "cannot read %s", path);
        bool mapped = strstr(maps, "/libpq.so") != NULL;
        if (broker_proc_store_is_postgresql())
                ck_assert_msg(mapped, "a broker on a PostgreSQL store has no libpq mapped");
        else
                ck_assert_msg(!mapped, "a broker on a SQLite file has libpq mapped");
        it_stop(&t);
}
END_TEST

START_TEST(finished_operation_outcome_is_remembered_after_restart)
{
        struct it t;
        it_start(&t, "itest-catalog.json", NULL);
        osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_ASYNC_FAST, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/persist-op?accepts_incomplete=true", pb, NULL),
                         202);
        ck_assert_ptr_nonnull(it_str(&t, "operation"));
        osb_autofree char *op = osb_strdup(it_str(&t, "operation"));
        osb_autofree char *lop = osb_asprintf("/v2/service_instances/persist-op/last_operation?operation=%s"
                                              "&service_id=" IT_SVC "&plan_id=" IT_PLAN_ASYNC_FAST, op);
        ck_assert_str_eq(it_wait_op(&t, lop, 30000), "succeeded");
        stop_exits_zero(&t);
        restart(&t);
        ck_assert_int_eq(it_req(&t, "GET", lop, NULL, NULL), 200);
        ck_assert_str_eq(it_str(&t, "state"), "succeeded");
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/persist-op", NULL, NULL), 200);
        ck_assert_str_eq(it_str(&t, "plan_id"), IT_PLAN_ASYNC_FAST);
        it_stop(&t);
}
END_TEST

START_TEST(sigterm_with_an_async_operation_pending_exits_zero_and_it_finishes_after_restart)
{
        struct it t;
        it_start(&t, "itest-catalog.json", NULL);
        osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_ASYNC, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/persist-term?accepts_incomplete=true", pb, NULL),
                         202);
        osb_autofree char *op = osb_strdup(it_str(&t, "operation"));
        ck_assert_ptr_nonnull(op);
        stop_exits_zero(&t);
        osb_autofree char *q = osb_asprintf("SELECT state FROM operations WHERE id = '%s'", op);
        osb_autofree char *state = it_sql_text(broker_proc_db_path(t.bp), q);
        ck_assert_msg(state != NULL, "operation %s is not in the database", op);
        restart(&t);
        osb_autofree char *lop = osb_asprintf("/v2/service_instances/persist-term/last_operation?operation=%s", op);
        ck_assert_str_eq(it_wait_op(&t, lop, 30000), "succeeded");
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/persist-term", NULL, NULL), 200);
        it_stop(&t);
}
END_TEST

START_TEST(database_with_newer_schema_version_refuses_to_start_naming_both_versions)
{
        struct it t;
        it_start(&t, "itest-catalog.json", NULL);
        osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_SYNC, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", PROVISION_PATH, pb, NULL), 201);
        stop_exits_zero(&t);

        const char *db = broker_proc_db_path(t.bp);
        int64_t known = it_sql_int(db, "SELECT max(version) FROM schema_migrations");
        ck_assert_int_ge(known, 1);
        ck_assert_int_lt(known, 9999);
        it_sql_exec(db, "INSERT INTO schema_migrations VALUES (9999,'future',0)");

        osb_autofree char *port_file = osb_asprintf("%s/port-newer", broker_proc_dir(t.bp));
        const char *args[] = {"--listen", "127.0.0.1", "--port", "0", "--port-file", port_file,
                              "--db", db, "--log-level", "off", NULL};
        osb_autofree char *err = NULL;
        int code = it_run_broker(broker_proc_dir(t.bp), args, 30000, &err);
        ck_assert_msg(code > 0 && code < 128, "exit status %d, stderr: %s", code, err);
        ck_assert_msg(strstr(err, "9999") != NULL, "stderr does not name version 9999: %s", err);
        char kv[32];
        (void) snprintf(kv, sizeof(kv), "%" PRId64, known);
        ck_assert_msg(strstr(err, kv) != NULL, "stderr does not name the known version %s: %s", kv, err);
        ck_assert_msg(!it_file_exists(port_file), "the broker listened although it refused to start");
        /* Nothing was touched: the migrations and the instance are as they were. */
        ck_assert_int_eq(it_sql_int(db, "SELECT count(*) FROM schema_migrations WHERE version = 9999"), 1);
        ck_assert_int_eq(it_sql_int(db, "SELECT max(version) FROM schema_migrations WHERE version < 9999"), known);
        ck_assert_int_eq(it_sql_int(db, "SELECT count(*) FROM instances WHERE id = 'persist-1'"), 1);

        /* Without the future row the same database serves again. */
        it_sql_exec(db, "DELETE FROM schema_migrations WHERE version = 9999");
        restart(&t);
        ck_assert_int_eq(it_req(&t, "GET", PROVISION_PATH, NULL, NULL), 200);
        it_stop(&t);
}
END_TEST

/* A database that SQLite opens but cannot put in WAL mode (here: a directory where its -wal
 * goes; also a read-only mount, a full disk without its -shm) refuses to start with a message
 * on stderr that names the file, as every other start-up failure does. */
START_TEST(a_database_that_cannot_be_set_up_refuses_to_start_naming_the_file)
{
        struct it t;
        it_start(&t, "itest-catalog.json", NULL);
        const char *dir = broker_proc_dir(t.bp);
        osb_autofree char *db = osb_asprintf("%s/unusable.db", dir);
        osb_autofree char *wal = osb_asprintf("%s-wal", db);
        FILE *f = fopen(db, "w");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_int_eq(mkdir(wal, 0755), 0);
        osb_autofree char *port_file = osb_asprintf("%s/port-unusable", dir);
        const char *args[] = {"--listen", "127.0.0.1", "--port", "0", "--port-file", port_file,
                              "--db", db, "--log-level", "off", NULL};
        osb_autofree char *err = NULL;
        int code = it_run_broker(dir, args, 30000, &err);
        ck_assert_msg(code > 0 && code < 128, "exit status %d, stderr: %s", code, err);
        ck_assert_msg(strstr(err, db) != NULL, "stderr does not name %s: %s", db, err);
        ck_assert_msg(!it_file_exists(port_file), "the broker listened although it refused to start");
        ck_assert_int_eq(rmdir(wal), 0);
        it_stop(&t);
}
END_TEST

struct bad_catalog {
        const char *text;
        const char *path;   /* what stderr must name besides the file */
};

static const struct bad_catalog bad_catalogs[] = {
        {"{\"services\":[{\"name\":\"x\",\"id\":\"s1\",\"description\":\"d\",\"bindable\":true,\"plans\":["
         "{\"id\":\"p1\",\"name\":\"p\",\"description\":\"d\",\"x-bindery-backend\":{\"type\":\"static\"}},"
         "{\"id\":\"p2\",\"name\":\"q\",\"description\":\"d\",\"x-bindery-backend\":{\"type\":\"static\","
         "\"async\":\"sometimes\"}}]}]}",
         "services[0].plans[1].x-bindery-backend.async"},
        {"{\"services\":[{\"name\":\"x\",\"id\":\"s1\",\"description\":\"d\",\"bindable\":true,\"plans\":["
         "{\"id\":\"p1\",\"name\":\"p\"}]}]}",
         "services[0].plans[0].description"},
        {"{\"services\":[{\"name\":\"x\",\"id\":\"s1\",\"description\":\"d\",\"bindable\":\"yes\",\"plans\":["
         "{\"id\":\"p1\",\"name\":\"p\",\"description\":\"d\"}]}]}",
         "services[0].bindable"},
        {"{\"services\": [\n", "line"},
};

START_TEST(invalid_catalog_refuses_to_start_naming_the_file_and_the_json_path)
{
        const struct bad_catalog *bc = &bad_catalogs[_i];
        osb_autofree char *dir = it_mkdtemp();
        osb_autofree char *cat = osb_asprintf("%s/broken-catalog-%d.json", dir, _i);
        osb_autofree char *db = osb_asprintf("%s/broker.db", dir);
        osb_autofree char *port_file = osb_asprintf("%s/port", dir);
        it_write_file(cat, bc->text);
        const char *args[] = {"--listen", "127.0.0.1", "--port", "0", "--port-file", port_file, "--db", db,
                              "--catalog", cat, "--log-level", "off", NULL};
        osb_autofree char *err = NULL;
        int code = it_run_broker(dir, args, 30000, &err);
        ck_assert_msg(code > 0 && code < 128, "exit status %d, stderr: %s", code, err);
        ck_assert_msg(strstr(err, cat) != NULL, "stderr does not name %s: %s", cat, err);
        ck_assert_msg(strstr(err, bc->path) != NULL, "stderr does not name %s: %s", bc->path, err);
        ck_assert_msg(!it_file_exists(port_file), "the broker listened with an invalid catalog");
        it_rmtree(dir);
}
END_TEST

/* One start lists every mistake: the structural ones and every bad backend setting of every
 * plan that passed them, whichever plans they are in. */
START_TEST(a_catalog_with_several_mistakes_lists_every_one_in_one_start)
{
        static const char yaml[] =
                "services:\n"
                "  - {id: s1, name: one, description: d, bindable: maybe,\n"
                "     plans: [{id: p1, name: a, description: d}]}\n"
                "  - id: s2\n"
                "    name: two\n"
                "    description: d\n"
                "    bindable: true\n"
                "    plans:\n"
                "      - {id: p2, name: b, description: d,\n"
                "         x-bindery-backend: {type: static, async: sometimes, delay: soon}}\n"
                "      - {id: p3, name: 'bad name', description: d}\n"
                "      - {id: p4, name: d, description: d,\n"
                "         x-bindery-backend: {type: postgresql, admin_url_env: POSTGRES_URL, port: 0, grants: all}}\n";
        static const char *const want[] = {
                "services[0].bindable: must be a boolean",
                "services[1].plans[1].name: 'bad name' is not CLI-friendly",
                "services[1].plans[0].x-bindery-backend.async: must be \"never\", \"optional\" or \"required\"",
                "services[1].plans[0].x-bindery-backend.delay: must be a duration",
                "services[1].plans[2].x-bindery-backend.port: must be a port number",
                "services[1].plans[2].x-bindery-backend.grants: must be \"readwrite\" or \"readonly\"",
        };
        osb_autofree char *dir = it_mkdtemp();
        osb_autofree char *cat = osb_asprintf("%s/catalog.yaml", dir);
        osb_autofree char *db = osb_asprintf("%s/broker.db", dir);
        osb_autofree char *port_file = osb_asprintf("%s/port", dir);
        it_write_file(cat, yaml);
        const char *args[] = {"--listen", "127.0.0.1", "--port", "0", "--port-file", port_file, "--db", db,
                              "--catalog", cat, "--log-level", "off", NULL};
        osb_autofree char *err = NULL;
        int code = it_run_broker(dir, args, 30000, &err);
        ck_assert_msg(code == 1, "exit status %d, stderr: %s", code, err);
        for (size_t i = 0; i < OSB_ELEMENTSOF(want); i++) {
                osb_autofree char *line = osb_asprintf("%s: %s", cat, want[i]);
                ck_assert_msg(strstr(err, line) != NULL, "stderr lacks '%s': %s", line, err);
        }
        ck_assert_msg(!it_file_exists(port_file), "the broker listened with an invalid catalog");
        ck_assert_msg(!it_file_exists(db), "the broker created its database with an invalid catalog");
        it_rmtree(dir);
}
END_TEST

START_TEST(non_loopback_listen_without_auth_refuses_to_start)
{
        static const char *const addresses[] = {"0.0.0.0", "::"};
        osb_autofree char *dir = it_mkdtemp();
        osb_autofree char *db = osb_asprintf("%s/broker.db", dir);
        osb_autofree char *port_file = osb_asprintf("%s/port", dir);
        for (size_t i = 0; i < OSB_ELEMENTSOF(addresses); i++) {
                const char *args[] = {"--listen", addresses[i], "--port", "0", "--port-file", port_file,
                                      "--db", db, "--log-level", "off", NULL};
                osb_autofree char *err = NULL;
                int code = it_run_broker(dir, args, 30000, &err);
                ck_assert_msg(code > 0 && code < 128, "--listen %s: exit status %d, stderr: %s", addresses[i],
                              code, err);
                ck_assert_msg(strstr(err, "--allow-insecure-remote") != NULL,
                              "--listen %s: stderr does not name --allow-insecure-remote: %s", addresses[i], err);
                ck_assert_msg(!it_file_exists(port_file), "--listen %s: the broker listened", addresses[i]);
        }
        it_rmtree(dir);
}
END_TEST

START_TEST(non_loopback_listen_with_allow_insecure_remote_starts)
{
        osb_autofree char *dir = it_mkdtemp();
        osb_autofree char *db = osb_asprintf("%s/broker.db", dir);
        osb_autofree char *port_file = osb_asprintf("%s/port", dir);
        const char *args[] = {"--listen", "0.0.0.0", "--allow-insecure-remote", "--port", "0", "--port-file",
                              port_file, "--db", db, "--log-level", "warn", NULL};
        pid_t pid = it_spawn_broker(dir, args, port_file, 30000);
        osb_autofree char *port = it_read_file(port_file);
        ck_assert_ptr_nonnull(port);
        port[strcspn(port, "\n")] = '\0';
        osb_autofree char *base = osb_asprintf("http://127.0.0.1:%s", port);
        struct http_client *hc = NULL;
        ck_assert_int_eq(http_client_new(&hc), 0);
        struct http_response resp;
        http_response_init(&resp);
        /* No credentials are needed (none were configured). */
        const char *no_auth[] = {"Authorization", NULL, NULL};
        long status = it_do(hc, base, "GET", "/v2/catalog", NULL, no_auth, &resp);
        http_response_release(&resp);
        hc = http_client_free(hc);
        int code = it_terminate(pid, 30000);
        ck_assert_int_eq(status, 200);
        ck_assert_int_eq(code, 0);
        it_rmtree(dir);
}
END_TEST

/* ---- storage faults (SQLite) ------------------------------------------------------------- */

/* Overwrites the page of @path (page size @page) that holds @marker with 0xAA bytes. Returns
 * the page number (0 when the marker is not in the file). */
static long damage_page_holding(const char *path, const char *marker, long page)
{
        FILE *f = fopen(path, "r+b");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
        long size = ftell(f);
        ck_assert_int_gt(size, 0);
        char *data = osb_malloc((size_t) size);
        ck_assert_ptr_nonnull(data);
        rewind(f);
        ck_assert_uint_eq(fread(data, 1, (size_t) size, f), (size_t) size);
        long found = 0;
        for (long i = 0; i + (long) strlen(marker) <= size && !found; i++)
                if (memcmp(data + i, marker, strlen(marker)) == 0)
                        found = i / page + 1;
        if (found) {
                memset(data, 0xaa, (size_t) page);
                ck_assert_int_eq(fseek(f, (found - 1) * page, SEEK_SET), 0);
                ck_assert_uint_eq(fwrite(data, 1, (size_t) page, f), (size_t) page);
        }
        osb_free(data);
        ck_assert_int_eq(fclose(f), 0);
        return found;
}

static unsigned count_in(const char *text, const char *what)
{
        unsigned n = 0;
        for (const char *p = text; p && (p = strstr(p, what)); p++)
                n++;
        return n;
}

START_TEST(a_damaged_database_is_logged_unready_and_never_answers_404_or_410)
{
        if (broker_proc_store_is_postgresql())
                return;  /* SQLite's file */
        struct it t;
        it_start(&t, "itest-catalog.json", NULL);
        for (int i = 0; i < 200; i++) {
                osb_autofree char *params = osb_asprintf("{\"note\":\"MARKER-%03d-%0200d\"}", i, 0);
                osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_SYNC, params, NULL);
                osb_autofree char *path = osb_asprintf("/v2/service_instances/i%03d", i);
                ck_assert_int_eq(it_req(&t, "PUT", path, pb, NULL), 201);
        }
        stop_exits_zero(&t);
        const char *db = broker_proc_db_path(t.bp);
        it_sql_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
        long page = it_sql_int(db, "PRAGMA page_size");
        ck_assert_int_gt(damage_page_holding(db, "MARKER-150-", page), 1);

        restart(&t);
        /* Not ready, and said so in the log, naming the file. */
        ck_assert_int_eq(it_req(&t, "GET", "/readyz", NULL, NULL), 503);
        ck_assert_int_eq(it_req(&t, "GET", "/healthz", NULL, NULL), 200);
        osb_autofree char *log = it_read_file(broker_proc_log_path(t.bp));
        ck_assert_ptr_nonnull(log);
        ck_assert_msg(strstr(log, "database file is damaged") && strstr(log, db), "log: %s", log);
        /* Reads that fail, or find nothing on a damaged file, are 500 with an OSB body: never a
         * 404 or a 410 a platform would take for "gone". */
        static const char *const q = "?service_id=" IT_SVC "&plan_id=" IT_PLAN_SYNC;
        const char *gets[] = {"/v2/service_instances/i150", "/v2/service_instances/no-such",
                              "/v2/service_instances/no-such/last_operation",
                              "/v2/service_instances/i150/service_bindings/none"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(gets); i++) {
                long s = it_req(&t, "GET", gets[i], NULL, NULL);
                ck_assert_msg(s == 500, "GET %s: %ld %s", gets[i], s, t.resp.body.data);
                ck_assert_msg(strstr(it_str(&t, "description"), "storage failed"), "%s", t.resp.body.data);
                ck_assert_msg(!strstr(t.resp.body.data, db), "the body names the file: %s", t.resp.body.data);
        }
        osb_autofree char *del1 = osb_asprintf("/v2/service_instances/i150%s", q);
        osb_autofree char *del2 = osb_asprintf("/v2/service_instances/no-such%s", q);
        osb_autofree char *del3 = osb_asprintf("/v2/service_instances/i001/service_bindings/none%s", q);
        const char *dels[] = {del1, del2, del3};
        for (size_t i = 0; i < OSB_ELEMENTSOF(dels); i++) {
                long s = it_req(&t, "DELETE", dels[i], NULL, NULL);
                ck_assert_msg(s == 500, "DELETE %s: %ld %s", dels[i], s, t.resp.body.data);
        }
        it_stop(&t);
}
END_TEST

/* A full disk (here: SQLite's max_page_count, through a test hook) is a 500 saying the
 * broker's storage failed, without paths, and one log line naming the file and SQLite's error. */
START_TEST(a_full_disk_is_logged_once_with_the_file_and_answered_as_a_storage_failure)
{
        if (broker_proc_store_is_postgresql())
                return;
        ck_assert_int_eq(setenv("OSB_BROKER_TEST_MAX_PAGE_COUNT", "48", 1), 0);
        struct it t;
        it_start(&t, "itest-catalog.json", NULL);
        ck_assert_int_eq(unsetenv("OSB_BROKER_TEST_MAX_PAGE_COUNT"), 0);
        const char *db = broker_proc_db_path(t.bp);
        long s = 0;
        int i;
        for (i = 0; i < 200 && s != 500; i++) {
                osb_autofree char *params = osb_asprintf("{\"note\":\"%03000d\"}", i);
                osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_SYNC, params, NULL);
                osb_autofree char *path = osb_asprintf("/v2/service_instances/full-%03d", i);
                s = it_req(&t, "PUT", path, pb, NULL);
                ck_assert_msg(s == 201 || s == 500, "PUT %s: %ld %s", path, s, t.resp.body.data);
        }
        ck_assert_msg(s == 500, "no failure after %d provisions of 3 KB", i);
        const char *d = it_str(&t, "description");
        ck_assert_msg(d && strstr(d, "the broker's storage failed (it is full)"), "%s", t.resp.body.data);
        ck_assert_msg(!strstr(t.resp.body.data, db) && !strstr(t.resp.body.data, ".db"), "%s", t.resp.body.data);
        /* Failing again logs nothing more; what was stored is still served. */
        for (int k = 0; k < 3; k++) {
                osb_autofree char *params = osb_asprintf("{\"note\":\"again-%03000d\"}", k);
                osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_SYNC, params, NULL);
                ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/full-again", pb, NULL), 500);
        }
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/full-000", NULL, NULL), 200);
        osb_autofree char *log = it_read_file(broker_proc_log_path(t.bp));
        ck_assert_ptr_nonnull(log);
        ck_assert_msg(count_in(log, "msg=\"cannot write the database\"") == 1, "log: %s", log);
        const char *line = strstr(log, "msg=\"cannot write the database\"");
        const char *eol = line ? strchr(line, '\n') : NULL;
        osb_autofree char *l = line ? osb_strndup(line, eol ? (size_t) (eol - line) : strlen(line)) : NULL;
        ck_assert_msg(l && strstr(l, db) && strstr(l, "full"), "log line: %s", l ? l : "(none)");
        it_stop(&t);
}
END_TEST

/* The database file (or its -wal) removed while the broker runs: SQLite goes on writing to the
 * unlinked file in WAL mode, so a provision answered 201 would be lost at the next start. Each
 * write after it must fail with a storage error (never 2xx), /readyz must fail, the log must
 * name the file, and every answer must not. @suffix: "" for the database, "-wal" for the WAL. */
static void removed_file_refuses_writes(const char *suffix)
{
        if (broker_proc_store_is_postgresql())
                return;
        struct it t;
        it_start(&t, "itest-catalog.json", NULL);
        const char *db = broker_proc_db_path(t.bp);
        osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_SYNC, NULL, NULL);
        /* Enough requests that every HTTP thread has its own store handle open. */
        for (int i = 0; i < 40; i++) {
                osb_autofree char *path = osb_asprintf("/v2/service_instances/before-%02d", i);
                ck_assert_int_eq(it_req(&t, "PUT", path, pb, NULL), 201);
                ck_assert_int_eq(it_req(&t, "GET", path, NULL, NULL), 200);
        }
        it_sql_exec(db, "PRAGMA wal_checkpoint(PASSIVE)");
        osb_autofree char *victim = osb_asprintf("%s%s", db, suffix);
        ck_assert_int_eq(unlink(victim), 0);
        for (int i = 0; i < 20; i++) {
                osb_autofree char *path = osb_asprintf("/v2/service_instances/after-%02d", i);
                long s = it_req(&t, "PUT", path, pb, NULL);
                ck_assert_msg(s == 500 || s == 503, "PUT %s after %s was removed: %ld %s", path, victim, s,
                              t.resp.body.data);
                ck_assert_msg(!strstr(t.resp.body.data, db), "the body names the file: %s", t.resp.body.data);
        }
        ck_assert_int_eq(it_req(&t, "GET", "/readyz", NULL, NULL), 503);
        ck_assert_msg(!strstr(t.resp.body.data, db), "the body names the file: %s", t.resp.body.data);
        osb_autofree char *log = it_read_file(broker_proc_log_path(t.bp));
        ck_assert_ptr_nonnull(log);
        ck_assert_msg(strstr(log, "removed or replaced") && strstr(log, db), "log: %s", log);
        it_stop(&t);
}

START_TEST(the_database_file_removed_while_running_refuses_every_write)
{
        removed_file_refuses_writes("");
}
END_TEST

START_TEST(the_wal_removed_while_running_refuses_every_write)
{
        removed_file_refuses_writes("-wal");
}
END_TEST

static Suite *persistence_suite(void)
{
        Suite *s = suite_create("persistence");
        TCase *tc = tcase_create("restart");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, restart_after_sigterm_serves_the_same_instance_and_binding);
        tcase_add_test(tc, libpq_is_mapped_only_by_a_broker_with_a_postgresql_store);
        tcase_add_test(tc, finished_operation_outcome_is_remembered_after_restart);
        tcase_add_test(tc, sigterm_with_an_async_operation_pending_exits_zero_and_it_finishes_after_restart);
        suite_add_tcase(s, tc);
        tc = tcase_create("startup-checks");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, database_with_newer_schema_version_refuses_to_start_naming_both_versions);
        tcase_add_test(tc, a_database_that_cannot_be_set_up_refuses_to_start_naming_the_file);
        tcase_add_loop_test(tc, invalid_catalog_refuses_to_start_naming_the_file_and_the_json_path, 0,
                            (int) OSB_ELEMENTSOF(bad_catalogs));
        tcase_add_test(tc, a_catalog_with_several_mistakes_lists_every_one_in_one_start);
        tcase_add_test(tc, non_loopback_listen_without_auth_refuses_to_start);
        tcase_add_test(tc, non_loopback_listen_with_allow_insecure_remote_starts);
        suite_add_tcase(s, tc);
        tc = tcase_create("storage-faults");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, a_damaged_database_is_logged_unready_and_never_answers_404_or_410);
        tcase_add_test(tc, a_full_disk_is_logged_once_with_the_file_and_answered_as_a_storage_failure);
        tcase_add_test(tc, the_database_file_removed_while_running_refuses_every_write);
        tcase_add_test(tc, the_wal_removed_while_running_refuses_every_write);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(persistence_suite)
