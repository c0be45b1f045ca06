/* test/integration/check_replicas.c: two osb-broker replicas on one PostgreSQL store (run by
 * run-on-postgresql.sh, which sets BINDERY_TEST_STORE=postgresql). Identical requests split
 * across both create one resource; an operation accepted by a replica that is killed -9 is
 * finished by the others, exactly once; a replica whose sessions the server ended reconnects. */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "test/integration/itest.h"
#include "test/lib/check_main.h"

#define N_CLIENTS 50
#define N_OPS 20

/* Starts a broker on the integration catalog, logging at info (the "operation finished" lines
 * are counted), on the store @store (NULL: a new database). */
static void start(struct it *t, const char *store)
{
        ck_assert_msg(broker_proc_store_is_postgresql(), "check_replicas needs BINDERY_TEST_STORE=postgresql "
                      "and BINDERY_TEST_PG_URL (run it through test/integration/run-on-postgresql.sh)");
        *t = (struct it){0};
        http_response_init(&t->resp);
        osb_autofree char *cat = it_data_path("itest-catalog.json");
        struct broker_proc_config cfg = {
                .broker = it_broker_path(),
                .catalog = cat,
                .username = IT_USER,
                .password = IT_PASSWORD,
                .log_level = "info",
                .start_timeout_ms = 30000,
                .keep_dir_on_failure = true,
                .store = store,
        };
        struct osb_error err = OSB_ERROR_INIT;
        int r = broker_proc_start(&cfg, &t->bp, &err);
        ck_assert_msg(r >= 0, "cannot start %s: %s", cfg.broker, err.text);
        ck_assert_int_eq(http_client_new(&t->hc), 0);
}

static void restart(struct it *t)
{
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(broker_proc_restart(t->bp, &err) >= 0, "restart: %s", err.text);
}

/* Lines of @t's log (every start of it) that say an operation finished. */
static unsigned finished_lines(const struct it *t)
{
        osb_autofree char *log = it_read_file(broker_proc_log_path(t->bp));
        ck_assert_ptr_nonnull(log);
        unsigned n = 0;
        for (const char *p = log; (p = strstr(p, "operation finished")); p++)
                n++;
        return n;
}

struct shot {
        const char *base;
        const char *path, *body;    /* borrowed */
        pthread_barrier_t *barrier;
        long status;
};

static void *fire(void *arg)
{
        struct shot *s = arg;
        struct http_client *hc = NULL;
        struct http_response resp;
        http_response_init(&resp);
        if (http_client_new(&hc) < 0)
                return NULL;
        pthread_barrier_wait(s->barrier);
        s->status = it_do(hc, s->base, "PUT", s->path, s->body, NULL, &resp);
        http_response_release(&resp);
        http_client_free(hc);
        return NULL;
}

START_TEST(identical_provisions_split_across_two_replicas_create_one_instance)
{
        struct it a, b;
        start(&a, NULL);
        start(&b, broker_proc_db_path(a.bp));
        osb_autofree char *body = it_provision_body(IT_SVC, IT_PLAN_SYNC, "{\"k\":\"v\"}", NULL);
        struct shot shots[N_CLIENTS] = {0};
        pthread_t th[N_CLIENTS];
        pthread_barrier_t barrier;
        ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, N_CLIENTS), 0);
        for (size_t i = 0; i < N_CLIENTS; i++) {
                shots[i] = (struct shot){.base = broker_proc_url(i % 2 ? b.bp : a.bp),
                                         .path = "/v2/service_instances/same-sync", .body = body,
                                         .barrier = &barrier, .status = -1};
                ck_assert_int_eq(pthread_create(&th[i], NULL, fire, &shots[i]), 0);
        }
        unsigned created = 0, ok = 0;
        for (size_t i = 0; i < N_CLIENTS; i++) {
                pthread_join(th[i], NULL);
                created += shots[i].status == 201;
                ok += shots[i].status == 200;
        }
        pthread_barrier_destroy(&barrier);
        ck_assert_uint_eq(created, 1);
        ck_assert_uint_eq(ok, N_CLIENTS - 1);
        ck_assert_int_eq(it_sql_int(broker_proc_db_path(a.bp), "SELECT count(*) FROM instances"), 1);
        /* Each replica serves what the other created. */
        ck_assert_int_eq(it_req(&a, "GET", "/v2/service_instances/same-sync", NULL, NULL), 200);
        ck_assert_int_eq(it_req(&b, "GET", "/v2/service_instances/same-sync", NULL, NULL), 200);
        it_stop(&b);
        it_stop(&a);
}
END_TEST

/* Accepts N_OPS asynchronous provisions on @a (2 s each) and kills it -9 before any is due. */
static void accept_then_kill(struct it *a)
{
        osb_autofree char *body = it_provision_body(IT_SVC, IT_PLAN_ASYNC, NULL, NULL);
        for (unsigned i = 0; i < N_OPS; i++) {
                char path[128];
                (void) snprintf(path, sizeof(path), "/v2/service_instances/r-%u?accepts_incomplete=true", i);
                ck_assert_int_eq(it_req(a, "PUT", path, body, NULL), 202);
        }
        ck_assert_int_eq(broker_proc_kill(a->bp), 0);
        ck_assert_int_eq(it_sql_int(broker_proc_db_path(a->bp),
                                    "SELECT count(*) FROM operations WHERE state = 'in progress'"), N_OPS);
}

static void wait_all_succeeded(struct it *t)
{
        for (unsigned i = 0; i < N_OPS; i++) {
                char lop[160];
                (void) snprintf(lop, sizeof(lop), "/v2/service_instances/r-%u/last_operation?service_id="
                                IT_SVC "&plan_id=" IT_PLAN_ASYNC, i);
                ck_assert_str_eq(it_wait_op(t, lop, 30000), "succeeded");
        }
        const char *db = broker_proc_db_path(t->bp);
        ck_assert_int_eq(it_sql_int(db, "SELECT count(*) FROM operations WHERE state = 'succeeded'"), N_OPS);
        ck_assert_int_eq(it_sql_int(db, "SELECT count(*) FROM instances WHERE state = 'ready'"), N_OPS);
}

START_TEST(operations_of_a_killed_replica_are_finished_by_the_other)
{
        struct it a, b;
        start(&a, NULL);
        start(&b, broker_proc_db_path(a.bp));
        accept_then_kill(&a);
        /* B, running all along, finds what A left pending at its next look (every 10 s) and
         * finishes it; A stays dead. */
        wait_all_succeeded(&b);
        ck_assert_uint_eq(finished_lines(&b), N_OPS);
        ck_assert_uint_eq(finished_lines(&a), 0);
        it_stop(&b);
        it_stop(&a);
}
END_TEST

START_TEST(operations_resumed_by_two_replicas_at_once_finish_exactly_once)
{
        struct it a, b;
        start(&a, NULL);
        start(&b, broker_proc_db_path(a.bp));
        accept_then_kill(&a);
        /* Both schedule every pending operation at its due time: each runs under its claim in one
         * of them, and the other finds it finished. */
        restart(&a);
        restart(&b);
        wait_all_succeeded(&a);
        ck_assert_uint_eq(finished_lines(&a) + finished_lines(&b), N_OPS);
        it_stop(&b);
        it_stop(&a);
}
END_TEST

/* The store's sessions end under the broker (a failover, an administrator's
 * pg_terminate_backend): the next requests reconnect, and the statements the broker had
 * prepared in the old sessions are prepared again in the new ones. */
START_TEST(a_replica_reconnects_after_the_server_ends_its_sessions)
{
        struct it a;
        start(&a, NULL);
        const char *db = broker_proc_db_path(a.bp);
        char path[96];
        for (int i = 0; i < 20; i++) {
                osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_SYNC, NULL, NULL);
                (void) snprintf(path, sizeof(path), "/v2/service_instances/before-%d", i);
                ck_assert_int_eq(it_req(&a, "PUT", path, pb, NULL), 201);
        }
        ck_assert_int_ge(it_sql_int(db, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                        "AND application_name = 'osb-broker'"), 1);
        it_sql_exec(db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND application_name = 'osb-broker'");
        /* A request on a session that ended fails (5xx, nothing stored) and resets it; the same
         * request repeated then succeeds. Every request thread may hold one such session. */
        unsigned failed = 0;
        for (int i = 0; i < 40; i++) {
                osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_SYNC, NULL, NULL);
                (void) snprintf(path, sizeof(path), "/v2/service_instances/after-%d", i);
                long st;
                while ((st = it_req(&a, "PUT", path, pb, NULL)) >= 500) {
                        ck_assert_uint_lt(++failed, 200);
                }
                ck_assert_int_eq(st, 201);
                ck_assert_int_eq(it_req(&a, "GET", path, NULL, NULL), 200);
        }
        ck_assert_int_eq(it_sql_int(db, "SELECT count(*) FROM instances"), 60);
        it_stop(&a);
}
END_TEST

static Suite *replicas_suite(void)
{
        Suite *s = suite_create("replicas");
        TCase *tc = tcase_create("two-brokers-one-postgresql");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, identical_provisions_split_across_two_replicas_create_one_instance);
        tcase_add_test(tc, operations_of_a_killed_replica_are_finished_by_the_other);
        tcase_add_test(tc, operations_resumed_by_two_replicas_at_once_finish_exactly_once);
        tcase_add_test(tc, a_replica_reconnects_after_the_server_ends_its_sessions);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(replicas_suite)
