/* test/unit/check_store.c: the SQLite store: migrations, refusing a newer schema, row round
 * trips, transactions, operations; and what needs no PostgreSQL server of the PostgreSQL store
 * (no password in logs or errors). The PostgreSQL store itself runs the integration suite:
 * test/integration/run-on-postgresql.sh. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_mem.h"
#include "broker/migrations.h"
#include "broker/store.h"
#include "broker/store_sqlite.h"
#include "test/lib/check_main.h"

#include <sched.h>

static char dir[256];
static char path[300];

static void setup(void)
{
        const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        (void) snprintf(dir, sizeof(dir), "%s/check_store.XXXXXX", tmp);
        ck_assert_ptr_nonnull(mkdtemp(dir));
        (void) snprintf(path, sizeof(path), "%s/s.db", dir);
}

static void teardown(void)
{
        char cmd[600];
        (void) snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ck_assert_int_eq(system(cmd), 0);
}

static struct store *open_ok(void)
{
        struct store *st = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        int r = store_open(path, STORE_SYNC_OFF, &st, &err);
        ck_assert_msg(r == 0, "store_open: %s", err.text);
        return st;
}

START_TEST(open_creates_schema_and_records_migrations)
{
        struct store *st = open_ok();
        ck_assert_uint_eq(store_schema_version(st), migrations[n_migrations - 1].version);
        ck_assert_int_eq(store_ping(st), 0);
        store_close(st);
        /* Reopening applies nothing new and keeps the version. */
        st = open_ok();
        ck_assert_uint_eq(store_schema_version(st), migrations[n_migrations - 1].version);
        store_close(st);
        sqlite3 *db;
        ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
        sqlite3_stmt *q;
        ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*), min(name) FROM schema_migrations", -1, &q, NULL), SQLITE_OK);
        ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
        ck_assert_int_eq(sqlite3_column_int(q, 0), (int) n_migrations);
        ck_assert_str_eq((const char *) sqlite3_column_text(q, 1), "0001_init");
        sqlite3_finalize(q);
        sqlite3_close(db);
}
END_TEST

START_TEST(newer_schema_is_refused_with_both_versions)
{
        store_close(open_ok());
        sqlite3 *db;
        ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
        ck_assert_int_eq(sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (9999, 'future', 0)", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        struct store *st = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(store_open(path, STORE_SYNC_OFF, &st, &err), OSB_E_INVALID_CONFIG);
        ck_assert_ptr_null(st);
        ck_assert_ptr_nonnull(strstr(err.text, "9999"));
        ck_assert_ptr_nonnull(strstr(err.text, "newer osb-broker"));
}
END_TEST

START_TEST(unopenable_path_names_the_file)
{
        struct store *st = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_lt(store_open("/nonexistent-dir/x/y.db", STORE_SYNC_OFF, &st, &err), 0);
        ck_assert_ptr_nonnull(strstr(err.text, "/nonexistent-dir/x/y.db"));
}
END_TEST

START_TEST(instance_round_trip_and_rollback)
{
        struct store *st = open_ok();
        struct osb_error err = OSB_ERROR_INIT;
        struct instance_row in = {
                .id = (char *) "i-1", .service_id = (char *) "s", .plan_id = (char *) "p",
                .request_key = (char *) "{}", .parameters = (char *) "{\"a\":1}",
                .state = (char *) "ready", .created_at = 5, .updated_at = 6,
        };
        ck_assert_int_eq(store_begin(st, &err), 0);
        ck_assert_int_eq(store_put_instance(st, &in), 0);
        ck_assert_int_eq(store_commit(st, &err), 0);

        struct instance_row *out = NULL;
        ck_assert_int_eq(store_get_instance(st, "i-1", &out), 0);
        ck_assert_str_eq(out->plan_id, "p");
        ck_assert_str_eq(out->parameters, "{\"a\":1}");
        ck_assert_ptr_null(out->context);
        ck_assert_ptr_null(out->dashboard_url);
        ck_assert_int_eq(out->created_at, 5);
        instance_row_free(out);

        in.plan_id = (char *) "other";
        ck_assert_int_eq(store_begin(st, &err), 0);
        ck_assert_int_eq(store_put_instance(st, &in), 0);
        store_rollback(st);
        out = NULL;
        ck_assert_int_eq(store_get_instance(st, "i-1", &out), 0);
        ck_assert_str_eq(out->plan_id, "p");
        instance_row_free(out);
        out = NULL;
        ck_assert_int_eq(store_get_instance(st, "nope", &out), OSB_E_NOT_FOUND);
        ck_assert_ptr_null(out);
        store_close(st);
}
END_TEST

START_TEST(deleting_an_instance_deletes_its_bindings)
{
        struct store *st = open_ok();
        struct osb_error err = OSB_ERROR_INIT;
        struct instance_row in = {.id = (char *) "i", .service_id = (char *) "s", .plan_id = (char *) "p",
                                  .request_key = (char *) "k", .state = (char *) "ready"};
        struct binding_row b = {.instance_id = (char *) "i", .id = (char *) "b", .service_id = (char *) "s",
                                .plan_id = (char *) "p", .request_key = (char *) "k", .state = (char *) "ready",
                                .response = (char *) "{\"credentials\":{}}"};
        ck_assert_int_eq(store_begin(st, &err), 0);
        ck_assert_int_eq(store_put_instance(st, &in), 0);
        ck_assert_int_eq(store_put_binding(st, &b), 0);
        ck_assert_int_eq(store_commit(st, &err), 0);
        int64_t n = -1, ni, nb, no;
        ck_assert_int_eq(store_count_bindings(st, "i", &n), 0);
        ck_assert_int_eq(n, 1);
        ck_assert_int_eq(store_count(st, &ni, &nb, &no), 0);
        ck_assert_int_eq(ni, 1);
        ck_assert_int_eq(nb, 1);
        ck_assert_int_eq(store_begin(st, &err), 0);
        ck_assert_int_eq(store_delete_instance(st, "i"), 0);
        ck_assert_int_eq(store_commit(st, &err), 0);
        struct binding_row *out = NULL;
        ck_assert_int_eq(store_get_binding(st, "i", "b", &out), OSB_E_NOT_FOUND);
        ck_assert_int_eq(store_count(st, &ni, &nb, &no), 0);
        ck_assert_int_eq(ni + nb, 0);
        store_close(st);
}
END_TEST

static int collect(void *userdata, const char *id, int64_t due)
{
        char *buf = userdata;
        size_t n = strlen(buf);
        (void) snprintf(buf + n, 256 - n, "%s@%" PRId64 ";", id, due);
        return 0;
}

START_TEST(latest_op_and_pending_ops)
{
        struct store *st = open_ok();
        struct osb_error err = OSB_ERROR_INIT;
        struct op_row a = {.id = (char *) "op-a", .kind = (char *) "provision", .instance_id = (char *) "i",
                           .state = (char *) "succeeded", .due_at = 1, .instance_usable = -1,
                           .update_repeatable = -1, .created_at = 10, .finished_at = 11};
        struct op_row b = a;
        b.id = (char *) "op-b";
        b.kind = (char *) "update";
        b.state = (char *) "in progress";
        b.created_at = 20;
        b.due_at = 30;
        b.finished_at = 0;
        struct op_row c = b;
        c.id = (char *) "op-c";
        c.binding_id = (char *) "bnd";
        c.kind = (char *) "bind";
        c.due_at = 25;
        ck_assert_int_eq(store_begin(st, &err), 0);
        ck_assert_int_eq(store_put_op(st, &a), 0);
        ck_assert_int_eq(store_put_op(st, &b), 0);
        ck_assert_int_eq(store_put_op(st, &c), 0);
        ck_assert_int_eq(store_commit(st, &err), 0);

        struct op_row *op = NULL;
        ck_assert_int_eq(store_latest_op(st, "i", NULL, NULL, &op), 0);
        ck_assert_str_eq(op->id, "op-b");
        ck_assert_int_eq(op->instance_usable, -1);
        ck_assert_int_eq(op->finished_at, 0);
        op_row_free(op);
        ck_assert_int_eq(store_latest_op(st, "i", NULL, "provision", &op), 0);
        ck_assert_str_eq(op->id, "op-a");
        ck_assert_int_eq(op->finished_at, 11);
        op_row_free(op);
        ck_assert_int_eq(store_latest_op(st, "i", "bnd", NULL, &op), 0);
        ck_assert_str_eq(op->id, "op-c");
        op_row_free(op);
        ck_assert_int_eq(store_latest_op(st, "i", NULL, "deprovision", &op), OSB_E_NOT_FOUND);

        char buf[256] = "";
        ck_assert_int_eq(store_each_pending_op(st, collect, buf), 0);
        ck_assert_str_eq(buf, "op-c@25;op-b@30;");
        store_close(st);
}
END_TEST

START_TEST(two_handles_see_each_others_commits)
{
        struct store *w = open_ok(), *r = open_ok();
        struct osb_error err = OSB_ERROR_INIT;
        struct instance_row in = {.id = (char *) "x", .service_id = (char *) "s", .plan_id = (char *) "p",
                                  .request_key = (char *) "k", .state = (char *) "ready"};
        ck_assert_int_eq(store_begin(w, &err), 0);
        ck_assert_int_eq(store_put_instance(w, &in), 0);
        struct instance_row *out = NULL;
        ck_assert_int_eq(store_get_instance(r, "x", &out), OSB_E_NOT_FOUND);
        ck_assert_int_eq(store_commit(w, &err), 0);
        ck_assert_int_eq(store_get_instance(r, "x", &out), 0);
        instance_row_free(out);
        store_close(w);
        store_close(r);
}
END_TEST

/* ---- group commit: requests batched in one transaction ------------------------------------ */

static struct instance_row row_named(const char *id)
{
        return (struct instance_row){.id = (char *) id, .service_id = (char *) "s", .plan_id = (char *) "p",
                                     .request_key = (char *) "k", .state = (char *) "ready"};
}

/* A request of a test thread: begins (waiting for its turn), stores instance @id, then commits
 * it, or (fail) stores a second row and rolls back as a request failing on an error does. */
struct request {
        struct store *st;
        const char *id;
        bool fail;
        int begin, result;
        char text[256];
        pthread_t thread;
};

static void *request_main(void *arg)
{
        struct request *rq = arg;
        struct osb_error err = OSB_ERROR_INIT;
        rq->begin = store_begin(rq->st, &err);
        if (rq->begin < 0)
                return NULL;
        struct instance_row in = row_named(rq->id);
        rq->result = store_put_instance(rq->st, &in);
        if (rq->result == 0 && rq->fail)
                rq->result = store_abandon(rq->st, &err);
        else if (rq->result == 0)
                rq->result = store_commit(rq->st, &err);
        (void) snprintf(rq->text, sizeof(rq->text), "%s", err.text);
        return NULL;
}

/* Starts @n requests in threads while @holder holds the turn (a transaction open on it), and
 * returns once all of them wait for it: they then decide one after another in one batch. */
static void start_waiting(struct store *holder, struct request *rqs, unsigned n)
{
        for (unsigned i = 0; i < n; i++)
                ck_assert_int_eq(pthread_create(&rqs[i].thread, NULL, request_main, &rqs[i]), 0);
        while (store_sqlite_waiting(holder) < n)
                sched_yield();
}

static bool stored(struct store *st, const char *id)
{
        struct instance_row *out = NULL;
        int r = store_get_instance(st, id, &out);
        ck_assert_msg(r == 0 || r == OSB_E_NOT_FOUND, "store_get_instance(%s): %d", id, r);
        instance_row_free(out);
        return r == 0;
}

START_TEST(a_request_failing_in_a_batch_rolls_back_only_itself)
{
        struct store *first = open_ok(), *reader = open_ok();
        struct request rqs[3] = {{.id = "second"}, {.id = "failing", .fail = true}, {.id = "third"}};
        for (unsigned i = 0; i < 3; i++)
                rqs[i].st = open_ok();
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(store_begin(first, &err), 0);
        struct instance_row in = row_named("first");
        ck_assert_int_eq(store_put_instance(first, &in), 0);
        start_waiting(first, rqs, 3);
        /* Hands the batch on and returns only once the batch is committed. */
        ck_assert_msg(store_commit(first, &err) == 0, "%s", err.text);
        for (unsigned i = 0; i < 3; i++) {
                ck_assert_int_eq(pthread_join(rqs[i].thread, NULL), 0);
                ck_assert_msg(rqs[i].begin == 0 && rqs[i].result == 0, "%s: %d %d %s", rqs[i].id,
                              rqs[i].begin, rqs[i].result, rqs[i].text);
        }
        ck_assert(stored(reader, "first"));
        ck_assert(stored(reader, "second"));
        ck_assert(!stored(reader, "failing"));
        ck_assert(stored(reader, "third"));
        for (unsigned i = 0; i < 3; i++)
                store_close(rqs[i].st);
        store_close(first);
        store_close(reader);
}
END_TEST

START_TEST(a_failed_batch_commit_fails_every_request_in_it_and_stores_nothing)
{
        ck_assert_int_eq(setenv("OSB_BROKER_TEST_FAIL_COMMIT", "1", 1), 0);
        struct store *first = open_ok(), *reader = open_ok();
        struct request rqs[2] = {{.id = "second"}, {.id = "failing", .fail = true}};
        for (unsigned i = 0; i < 2; i++)
                rqs[i].st = open_ok();
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(store_begin(first, &err), 0);
        ck_assert_int_eq(unsetenv("OSB_BROKER_TEST_FAIL_COMMIT"), 0);
        struct instance_row in = row_named("first");
        ck_assert_int_eq(store_put_instance(first, &in), 0);
        start_waiting(first, rqs, 2);
        int r = store_commit(first, &err);
        ck_assert_msg(r < 0 && strstr(err.text, "cannot commit"), "%d %s", r, err.text);
        for (unsigned i = 0; i < 2; i++)
                ck_assert_int_eq(pthread_join(rqs[i].thread, NULL), 0);
        ck_assert_msg(rqs[0].result == r && strstr(rqs[0].text, "cannot commit"), "%d %s", rqs[0].result,
                      rqs[0].text);
        /* The failing request read what "first" and "second" stored: that was never committed. */
        ck_assert_msg(rqs[1].result == r, "%d %s", rqs[1].result, rqs[1].text);
        ck_assert(!stored(reader, "first"));
        ck_assert(!stored(reader, "second"));
        ck_assert(!stored(reader, "failing"));
        for (unsigned i = 0; i < 2; i++)
                store_close(rqs[i].st);
        store_close(first);
        store_close(reader);
}
END_TEST

START_TEST(a_request_that_read_nothing_of_others_does_not_wait_for_their_commit)
{
        struct store *st = open_ok(), *reader = open_ok();
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(store_begin(st, &err), 0);
        struct instance_row in = row_named("gone");
        ck_assert_int_eq(store_put_instance(st, &in), 0);
        ck_assert_int_eq(store_abandon(st, &err), 0);
        ck_assert(!stored(reader, "gone"));
        /* The turn is free again. */
        ck_assert_int_eq(store_begin(reader, &err), 0);
        ck_assert_int_eq(store_commit(reader, &err), 0);
        store_close(st);
        store_close(reader);
}
END_TEST

START_TEST(set_str_and_parse_sync)
{
        char *f = NULL;
        ck_assert_int_eq(store_set_str(&f, "a"), 0);
        ck_assert_str_eq(f, "a");
        osb_mem_fail_at(0);
        ck_assert_int_eq(store_set_str(&f, "b"), -ENOMEM);
        osb_mem_fail_at(SIZE_MAX);
        ck_assert_str_eq(f, "a");
        ck_assert_int_eq(store_set_str(&f, NULL), 0);
        ck_assert_ptr_null(f);
        enum store_sync s;
        ck_assert_int_eq(store_parse_sync("full", &s), 0);
        ck_assert_int_eq(s, STORE_SYNC_FULL);
        ck_assert_int_eq(store_parse_sync("fast", &s), -EINVAL);
}
END_TEST

START_TEST(location_for_logs_hides_a_urls_password)
{
        static const char *const cases[][2] = {
                {"state.db", "state.db"},
                {"postgresql://osb:S3cret@db:5432/osb", "postgresql://osb:***@db:5432/osb"},
                {"postgres://osb:p%40ss@db/osb?sslmode=require", "postgres://osb:***@db/osb?sslmode=require"},
                {"postgresql://osb@db/osb", "postgresql://osb@db/osb"},
                {"postgresql://db/osb?user=osb&password=S3cret&sslmode=require",
                 "postgresql://db/osb?user=osb&password=***&sslmode=require"},
                {"postgresql://:S3cret@/osb", "postgresql://:***@/osb"},
        };
        for (size_t i = 0; i < OSB_ELEMENTSOF(cases); i++) {
                char *shown = store_redact_location(cases[i][0]);
                ck_assert_ptr_nonnull(shown);
                ck_assert_str_eq(shown, cases[i][1]);
                osb_free(shown);
        }
}
END_TEST

START_TEST(postgresql_connection_failure_names_the_url_without_its_password)
{
        /* Port 1 of the loopback address: refused at once, no server needed. */
        struct store *st = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        int r = store_open("postgresql://osb:Sup3rS3cret@127.0.0.1:1/osb?connect_timeout=2",
                           STORE_SYNC_OFF, &st, &err);
        ck_assert_int_lt(r, 0);
        ck_assert_ptr_null(st);
        ck_assert_msg(strstr(err.text, "postgresql://osb:***@127.0.0.1:1/osb") != NULL, "%s", err.text);
        ck_assert_msg(strstr(err.text, "Sup3rS3cret") == NULL, "the password leaked: %s", err.text);
        /* The checkpointer has nothing to do for PostgreSQL and starts without connecting. */
        struct store_checkpointer *c = NULL;
        ck_assert_int_eq(store_checkpointer_start("postgresql://osb:x@127.0.0.1:1/osb", 100, &c, &err), 0);
        ck_assert_ptr_null(store_checkpointer_stop(c));
}
END_TEST

static Suite *store_suite(void)
{
        Suite *s = suite_create("store");
        TCase *tc = tcase_create("store");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, open_creates_schema_and_records_migrations);
        tcase_add_test(tc, newer_schema_is_refused_with_both_versions);
        tcase_add_test(tc, unopenable_path_names_the_file);
        tcase_add_test(tc, instance_round_trip_and_rollback);
        tcase_add_test(tc, deleting_an_instance_deletes_its_bindings);
        tcase_add_test(tc, latest_op_and_pending_ops);
        tcase_add_test(tc, two_handles_see_each_others_commits);
        tcase_add_test(tc, a_request_failing_in_a_batch_rolls_back_only_itself);
        tcase_add_test(tc, a_failed_batch_commit_fails_every_request_in_it_and_stores_nothing);
        tcase_add_test(tc, a_request_that_read_nothing_of_others_does_not_wait_for_their_commit);
        tcase_add_test(tc, set_str_and_parse_sync);
        tcase_add_test(tc, location_for_logs_hides_a_urls_password);
        tcase_add_test(tc, postgresql_connection_failure_names_the_url_without_its_password);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(store_suite)
