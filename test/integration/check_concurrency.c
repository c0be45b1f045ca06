/* test/integration/check_concurrency.c: many clients hitting one osb-broker at the same moment
 * (threads released together by a barrier, each with its own connection). Identical requests
 * create one resource; conflicting ones have one winner; nothing answers 5xx. */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "test/integration/itest.h"
#include "test/lib/check_main.h"

#define N_CLIENTS 50

struct shot {
        const char *base;
        const char *method;
        char *path;                 /* owned */
        char *body;                 /* owned, or NULL */
        struct http_client *hc;
        pthread_barrier_t *barrier;
        long status;                /* -1: no response */
        char *operation;            /* of the response, owned, or NULL */
        char *response;             /* the body, owned */
};

static void *fire(void *arg)
{
        struct shot *s = arg;
        struct http_response resp;
        http_response_init(&resp);
        pthread_barrier_wait(s->barrier);
        s->status = it_do(s->hc, s->base, s->method, s->path, s->body, NULL, &resp);
        s->response = osb_strdup(resp.body.data ? resp.body.data : "");
        json_t *j = resp.body.len ? json_loadb(resp.body.data, resp.body.len, 0, NULL) : NULL;
        const char *op = json_string_value(json_object_get(j, "operation"));
        s->operation = op ? osb_strdup(op) : NULL;
        json_decref(j);
        http_response_release(&resp);
        return NULL;
}

/* Sends all @n requests at once and waits for every answer. */
static void fire_all(struct it *t, struct shot *shots, size_t n)
{
        pthread_barrier_t barrier;
        pthread_t th[N_CLIENTS];
        ck_assert_uint_le(n, N_CLIENTS);
        ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, (unsigned) n), 0);
        /* Clients first: http_client_new() is not thread-safe. */
        for (size_t i = 0; i < n; i++) {
                ck_assert_int_eq(http_client_new(&shots[i].hc), 0);
                shots[i].base = broker_proc_url(t->bp);
                shots[i].barrier = &barrier;
        }
        for (size_t i = 0; i < n; i++)
                ck_assert_int_eq(pthread_create(&th[i], NULL, fire, &shots[i]), 0);
        for (size_t i = 0; i < n; i++)
                pthread_join(th[i], NULL);
        pthread_barrier_destroy(&barrier);
        for (size_t i = 0; i < n; i++) {
                shots[i].hc = http_client_free(shots[i].hc);
                ck_assert_msg(shots[i].status > 0, "%s %s: no response", shots[i].method, shots[i].path);
                ck_assert_msg(shots[i].status < 500, "%s %s: %ld %s", shots[i].method, shots[i].path,
                              shots[i].status, shots[i].response);
        }
}

static void shots_free(struct shot *shots, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                osb_free(shots[i].path);
                osb_free(shots[i].body);
                osb_free(shots[i].operation);
                osb_free(shots[i].response);
        }
}

static size_t count_status(const struct shot *shots, size_t n, long status)
{
        size_t c = 0;
        for (size_t i = 0; i < n; i++)
                c += shots[i].status == status;
        return c;
}

START_TEST(identical_sync_provisions_create_one_instance_one_201_rest_200)
{
        struct it t;
        it_start(&t, "itest-catalog.json", NULL);
        struct shot shots[N_CLIENTS] = {0};
        for (size_t i = 0; i < N_CLIENTS; i++) {
                shots[i].method = "PUT";
                shots[i].path = osb_strdup("/v2/service_instances/same-sync");
                shots[i].body = it_provision_body(IT_SVC, IT_PLAN_SYNC, "{\"k\":\"v\"}", NULL);
        }
        fire_all(&t, shots, N_CLIENTS);
        ck_assert_uint_eq(count_status(shots, N_CLIENTS, 201), 1);
        ck_assert_uint_eq(count_status(shots, N_CLIENTS, 200), N_CLIENTS - 1);
        for (size_t i = 0; i < N_CLIENTS; i++)
                ck_assert_msg(strstr(shots[i].response, "https://dash.itest.invalid/same-sync") != NULL,
                              "answer %zu lacks the dashboard_url: %s", i, shots[i].response);
        shots_free(shots, N_CLIENTS);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/same-sync", NULL, NULL), 200);
        ck_assert_int_eq(it_sql_int(broker_proc_db_path(t.bp), "SELECT count(*) FROM instances"), 1);
        it_stop(&t);
}
END_TEST

START_TEST(identical_async_provisions_all_202_with_the_same_operation)
{
        struct it t;
        it_start(&t, "itest-catalog.json", NULL);
        struct shot shots[N_CLIENTS] = {0};
        for (size_t i = 0; i < N_CLIENTS; i++) {
                shots[i].method = "PUT";
                shots[i].path = osb_strdup("/v2/service_instances/same-async?accepts_incomplete=true");
                shots[i].body = it_provision_body(IT_SVC, IT_PLAN_ASYNC_SLOW, NULL, NULL);
        }
        fire_all(&t, shots, N_CLIENTS);
        ck_assert_uint_eq(count_status(shots, N_CLIENTS, 202), N_CLIENTS);
        for (size_t i = 0; i < N_CLIENTS; i++) {
                ck_assert_ptr_nonnull(shots[i].operation);
                ck_assert_str_eq(shots[i].operation, shots[0].operation);
        }
        const char *db = broker_proc_db_path(t.bp);
        ck_assert_int_eq(it_sql_int(db, "SELECT count(*) FROM operations WHERE instance_id = 'same-async'"), 1);
        ck_assert_int_eq(it_sql_int(db, "SELECT count(*) FROM instances"), 1);
        shots_free(shots, N_CLIENTS);
        it_stop(&t);
}
END_TEST

START_TEST(provisions_of_different_ids_all_201_and_all_fetchable)
{
        struct it t;
        it_start(&t, "itest-catalog.json", NULL);
        struct shot shots[N_CLIENTS] = {0};
        for (size_t i = 0; i < N_CLIENTS; i++) {
                shots[i].method = "PUT";
                shots[i].path = osb_asprintf("/v2/service_instances/many-%zu", i);
                char params[32];
                (void) snprintf(params, sizeof(params), "{\"n\":%zu}", i);
                shots[i].body = it_provision_body(IT_SVC, IT_PLAN_SYNC, params, NULL);
        }
        fire_all(&t, shots, N_CLIENTS);
        ck_assert_uint_eq(count_status(shots, N_CLIENTS, 201), N_CLIENTS);
        for (size_t i = 0; i < N_CLIENTS; i++) {
                ck_assert_int_eq(it_req(&t, "GET", shots[i].path, NULL, NULL), 200);
                ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(t.json, "parameters"), "n")),
                                 (json_int_t) i);
        }
        ck_assert_int_eq(it_sql_int(broker_proc_db_path(t.bp), "SELECT count(*) FROM instances"), N_CLIENTS);
        shots_free(shots, N_CLIENTS);
        it_stop(&t);
}
END_TEST

START_TEST(provisions_of_one_id_with_different_attributes_have_one_winner)
{
        struct it t;
        it_start(&t, "itest-catalog.json", NULL);
        struct shot shots[N_CLIENTS] = {0};
        for (size_t i = 0; i < N_CLIENTS; i++) {
                shots[i].method = "PUT";
                shots[i].path = osb_strdup("/v2/service_instances/contested");
                char params[32];
                (void) snprintf(params, sizeof(params), "{\"n\":%zu}", i);
                /* Half of them on another plan too. */
                shots[i].body = it_provision_body(IT_SVC, i % 2 ? IT_PLAN_SYNC2 : IT_PLAN_SYNC, params, NULL);
        }
        fire_all(&t, shots, N_CLIENTS);
        ck_assert_uint_eq(count_status(shots, N_CLIENTS, 201), 1);
        ck_assert_uint_eq(count_status(shots, N_CLIENTS, 201) + count_status(shots, N_CLIENTS, 409) +
                          count_status(shots, N_CLIENTS, 200), N_CLIENTS);
        size_t winner = 0;
        for (size_t i = 0; i < N_CLIENTS; i++)
                if (shots[i].status == 201)
                        winner = i;
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/contested", NULL, NULL), 200);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(t.json, "parameters"), "n")),
                         (json_int_t) winner);
        ck_assert_str_eq(it_str(&t, "plan_id"), winner % 2 ? IT_PLAN_SYNC2 : IT_PLAN_SYNC);
        shots_free(shots, N_CLIENTS);
        it_stop(&t);
}
END_TEST

START_TEST(identical_binds_create_one_binding_one_201_rest_200)
{
        struct it t;
        it_start(&t, "itest-catalog.json", NULL);
        osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_SYNC, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/bind-same", pb, NULL), 201);
        struct shot shots[N_CLIENTS] = {0};
        for (size_t i = 0; i < N_CLIENTS; i++) {
                shots[i].method = "PUT";
                shots[i].path = osb_strdup("/v2/service_instances/bind-same/service_bindings/b");
                shots[i].body = it_bind_body(IT_SVC, IT_PLAN_SYNC, NULL, "app-x");
        }
        fire_all(&t, shots, N_CLIENTS);
        ck_assert_uint_eq(count_status(shots, N_CLIENTS, 201), 1);
        ck_assert_uint_eq(count_status(shots, N_CLIENTS, 200), N_CLIENTS - 1);
        for (size_t i = 0; i < N_CLIENTS; i++)
                ck_assert_msg(strstr(shots[i].response, "\"u-b\"") != NULL, "answer %zu: %s", i, shots[i].response);
        ck_assert_int_eq(it_sql_int(broker_proc_db_path(t.bp), "SELECT count(*) FROM bindings"), 1);
        shots_free(shots, N_CLIENTS);
        it_stop(&t);
}
END_TEST

START_TEST(identical_async_binds_and_updates_all_202_with_the_same_operation)
{
        struct it t;
        it_start(&t, "itest-catalog.json", NULL);
        osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_ASYNC_SLOW, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/ab", pb, NULL), 201);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/au", pb, NULL), 201);
        struct shot shots[N_CLIENTS] = {0};
        for (size_t i = 0; i < N_CLIENTS; i++) {
                shots[i].method = "PUT";
                shots[i].path = osb_strdup("/v2/service_instances/ab/service_bindings/b?accepts_incomplete=true");
                shots[i].body = it_bind_body(IT_SVC, IT_PLAN_ASYNC_SLOW, "{\"r\":1}", NULL);
        }
        fire_all(&t, shots, N_CLIENTS);
        ck_assert_uint_eq(count_status(shots, N_CLIENTS, 202), N_CLIENTS);
        for (size_t i = 0; i < N_CLIENTS; i++)
                ck_assert_str_eq(shots[i].operation, shots[0].operation);
        shots_free(shots, N_CLIENTS);
        memset(shots, 0, sizeof(shots));
        for (size_t i = 0; i < N_CLIENTS; i++) {
                shots[i].method = "PATCH";
                shots[i].path = osb_strdup("/v2/service_instances/au?accepts_incomplete=true");
                shots[i].body = osb_strdup("{\"service_id\":\"" IT_SVC "\",\"parameters\":{\"u\":1}}");
        }
        fire_all(&t, shots, N_CLIENTS);
        ck_assert_uint_eq(count_status(shots, N_CLIENTS, 202), N_CLIENTS);
        for (size_t i = 0; i < N_CLIENTS; i++)
                ck_assert_str_eq(shots[i].operation, shots[0].operation);
        const char *db = broker_proc_db_path(t.bp);
        ck_assert_int_eq(it_sql_int(db, "SELECT count(*) FROM operations WHERE kind = 'bind'"), 1);
        ck_assert_int_eq(it_sql_int(db, "SELECT count(*) FROM operations WHERE kind = 'update'"), 1);
        shots_free(shots, N_CLIENTS);
        it_stop(&t);
}
END_TEST

START_TEST(deprovisions_of_one_instance_one_200_rest_410)
{
        struct it t;
        it_start(&t, "itest-catalog.json", NULL);
        osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_SYNC, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/del-same", pb, NULL), 201);
        struct shot shots[N_CLIENTS] = {0};
        for (size_t i = 0; i < N_CLIENTS; i++) {
                shots[i].method = "DELETE";
                shots[i].path = osb_strdup("/v2/service_instances/del-same?service_id=" IT_SVC "&plan_id=" IT_PLAN_SYNC);
        }
        fire_all(&t, shots, N_CLIENTS);
        ck_assert_uint_eq(count_status(shots, N_CLIENTS, 200), 1);
        ck_assert_uint_eq(count_status(shots, N_CLIENTS, 410), N_CLIENTS - 1);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/del-same", NULL, NULL), 404);
        shots_free(shots, N_CLIENTS);
        it_stop(&t);
}
END_TEST

/* _i == 0: a synchronous deprovision; 1: an asynchronous one. */
START_TEST(binds_racing_a_deprovision_answer_only_2xx_or_4xx)
{
        bool async = _i == 1;
        const char *plan = async ? IT_PLAN_ASYNC_FAST : IT_PLAN_SYNC;
        struct it t;
        it_start(&t, "itest-catalog.json", NULL);
        osb_autofree char *pb = it_provision_body(IT_SVC, plan, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/race", pb, NULL), 201);
        struct shot shots[N_CLIENTS] = {0};
        shots[0].method = "DELETE";
        shots[0].path = osb_asprintf("/v2/service_instances/race?service_id=" IT_SVC "&plan_id=%s%s", plan,
                                     async ? "&accepts_incomplete=true" : "");
        for (size_t i = 1; i < N_CLIENTS; i++) {
                shots[i].method = "PUT";
                shots[i].path = osb_asprintf("/v2/service_instances/race/service_bindings/rb-%zu", i);
                shots[i].body = it_bind_body(IT_SVC, plan, NULL, "app-r");
        }
        fire_all(&t, shots, N_CLIENTS);
        ck_assert_int_eq(shots[0].status, async ? 202 : 200);
        for (size_t i = 1; i < N_CLIENTS; i++)
                ck_assert_msg(shots[i].status == 201 || shots[i].status == 404 || shots[i].status == 422,
                              "bind %zu: %ld %s", i, shots[i].status, shots[i].response);
        if (async) {
                osb_autofree char *lop = osb_asprintf("/v2/service_instances/race/last_operation?operation=%s",
                                                      shots[0].operation);
                const char *state = it_wait_op(&t, lop, 30000);
                ck_assert_msg(strcmp(state, "succeeded") == 0 || strcmp(state, "gone") == 0, "deprovision: %s", state);
        }
        /* Once the instance is gone none of its bindings remains. */
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/race", NULL, NULL), 404);
        for (size_t i = 1; i < N_CLIENTS; i++)
                ck_assert_int_eq(it_req(&t, "GET", shots[i].path, NULL, NULL), 404);
        ck_assert_int_eq(it_sql_int(broker_proc_db_path(t.bp), "SELECT count(*) FROM bindings"), 0);
        shots_free(shots, N_CLIENTS);
        it_stop(&t);
}
END_TEST

static Suite *concurrency_suite(void)
{
        Suite *s = suite_create("concurrency");
        TCase *tc = tcase_create("fifty-clients");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, identical_sync_provisions_create_one_instance_one_201_rest_200);
        tcase_add_test(tc, identical_async_provisions_all_202_with_the_same_operation);
        tcase_add_test(tc, provisions_of_different_ids_all_201_and_all_fetchable);
        tcase_add_test(tc, provisions_of_one_id_with_different_attributes_have_one_winner);
        tcase_add_test(tc, identical_binds_create_one_binding_one_201_rest_200);
        tcase_add_test(tc, identical_async_binds_and_updates_all_202_with_the_same_operation);
        tcase_add_test(tc, deprovisions_of_one_instance_one_200_rest_410);
        tcase_add_loop_test(tc, binds_racing_a_deprovision_answer_only_2xx_or_4xx, 0, 2);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(concurrency_suite)
