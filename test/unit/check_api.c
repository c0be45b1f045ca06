/* test/unit/check_api.c: the OSB endpoint logic against the demo catalog and a real SQLite
 * file, without HTTP. Asynchronous operations are completed with ops_execute(), so every
 * state in between can be observed deterministically. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_time.h"
#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "broker/api.h"
#include "broker/backend.h"
#include "broker/catalog.h"
#include "broker/store_sqlite.h"
#include "test/lib/check_main.h"

#include <sched.h>

#define SVC_DB "5e1d0db0-0000-4000-8000-000000000001"
#define PLAN_SMALL "5e1d0db0-0000-4000-8000-000000000011"
#define PLAN_LARGE "5e1d0db0-0000-4000-8000-000000000012"
#define PLAN_ASYNC_ONLY "5e1d0db0-0000-4000-8000-000000000013"
#define SVC_QUEUE "5e1d0db0-0000-4000-8000-000000000002"
#define PLAN_STANDARD "5e1d0db0-0000-4000-8000-000000000021"
#define PLAN_FAILS "5e1d0db0-0000-4000-8000-000000000022"

static char dir[256], path[300];
static struct catalog *cat;
static struct api api;
static struct store *st;
static struct api_response resp;
static const char *setup_catalog;  /* the catalog of setup(): NULL for the demo catalog */

static void setup(void)
{
        const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        osb_log_set_level(OSB_LOG_WARN);
        (void) snprintf(dir, sizeof(dir), "%s/check_api.XXXXXX", tmp);
        ck_assert_ptr_nonnull(mkdtemp(dir));
        (void) snprintf(path, sizeof(path), "%s/api.db", dir);
        char *errors = NULL;
        if (setup_catalog)
                ck_assert_msg(catalog_load_buffer(setup_catalog, strlen(setup_catalog), "setup.json", &cat,
                                                  &errors) == 0, "%s", errors);
        else
                ck_assert_int_eq(catalog_load_demo(&cat, &errors), 0);
        ck_assert_msg(backend_configure_catalog(cat, &errors) == 0, "%s", errors);
        ck_assert_int_eq(api_init(&api, cat, NULL, path, STORE_SYNC_OFF), 0);
        struct osb_error err = OSB_ERROR_INIT;
        st = api_store(&api, &err);
        ck_assert_msg(st != NULL, "%s", err.text);
        resp = (struct api_response){.retry_after_s = -1};
}

static void teardown(void)
{
        api_response_release(&resp);
        api_release(&api);
        backend_release_catalog(cat);
        catalog_free(cat);
        char cmd[600];
        (void) snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ck_assert_int_eq(system(cmd), 0);
}

static char *body_text(void)
{
        static char buf[4096];
        char *s = json_dumps(resp.body, JSON_COMPACT | JSON_SORT_KEYS);
        (void) snprintf(buf, sizeof(buf), "%s", s ? s : "(null)");
        osb_free(s);
        return buf;
}

static const char *field(const char *key)
{
        return json_string_value(json_object_get(resp.body, key));
}

#define EXPECT(status_)                                                                         \
        ck_assert_msg(resp.status == (status_), "expected %u, got %u: %s", (unsigned) (status_), \
                      resp.status, body_text())

static void provision(const char *id, bool acc, const char *svc, const char *plan, const char *extra)
{
        char body[2048];
        (void) snprintf(body, sizeof(body),
                        "{\"service_id\":\"%s\",\"plan_id\":\"%s\",\"organization_guid\":\"org\","
                        "\"space_guid\":\"space\"%s%s}", svc, plan, extra ? "," : "", extra ? extra : "");
        api_response_release(&resp);
        api_provision(&api, st, id, acc, body, strlen(body), &resp);
}

static void do_bind(const char *iid, const char *bid, bool acc, const char *svc, const char *plan,
                 const char *extra)
{
        char body[2048];
        (void) snprintf(body, sizeof(body), "{\"service_id\":\"%s\",\"plan_id\":\"%s\"%s%s}", svc,
                        plan, extra ? "," : "", extra ? extra : "");
        api_response_release(&resp);
        api_bind(&api, st, iid, bid, acc, body, strlen(body), &resp);
}

static void update(const char *id, bool acc, const char *body)
{
        api_response_release(&resp);
        api_update(&api, st, id, acc, body, strlen(body), &resp);
}

static void fetch(const char *id)
{
        api_response_release(&resp);
        api_get_instance(&api, st, id, &resp);
}

static void last_op(const char *id, const char *op)
{
        api_response_release(&resp);
        api_instance_last_operation(&api, st, id, op, &resp);
}

/* A deprovision names the instance's service and plan (else it is 400). */
static void deprovision_plan(const char *id, bool acc, const char *plan)
{
        api_response_release(&resp);
        api_deprovision(&api, st, id, acc, SVC_DB, plan, &resp);
}


/* Runs one queued operation to completion, as a worker would. */
static void run_op(const char *op_id)
{
        int64_t again = 0;
        ck_assert_int_eq(ops_execute(cat, st, op_id, &again), 0);
}

/* ---- group commit: answers wait for their batch's commit ---------------------------------- */

/* One provision of instance "batched" on a thread of its own (with its own store handle, as a
 * request thread has), and whether the row was committed when the answer came. */
struct batched {
        pthread_t thread;
        struct store *mine, *reader;  /* opened beforehand: opening waits for no batch open */
        struct api_response resp;
        bool stored_at_answer;
};

static void *batched_provision(void *arg)
{
        struct batched *b = arg;
        const char *body = "{\"service_id\":\"" SVC_DB "\",\"plan_id\":\"" PLAN_SMALL "\","
                           "\"organization_guid\":\"org\",\"space_guid\":\"space\"}";
        b->resp = (struct api_response){.retry_after_s = -1};
        api_provision(&api, b->mine, "batched", false, body, strlen(body), &b->resp);
        /* What another connection sees outside a transaction: only committed rows. */
        struct instance_row *row = NULL;
        b->stored_at_answer = store_get_instance(b->reader, "batched", &row) == 0;
        instance_row_free(row);
        return NULL;
}

static struct store *open_store(void)
{
        struct store *s = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(store_open(path, STORE_SYNC_OFF, &s, &err) == 0, "%s", err.text);
        return s;
}

/* Two identical provisions decided in one batch (the first creates, the second reads the
 * first's uncommitted row); returns once both answered. */
static void two_provisions_in_one_batch(struct batched b[2])
{
        struct store *holder = open_store();
        for (unsigned i = 0; i < 2; i++) {
                b[i].mine = open_store();
                b[i].reader = open_store();
        }
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(store_begin(holder, &err), 0);
        ck_assert_int_eq(unsetenv("OSB_BROKER_TEST_FAIL_COMMIT"), 0);
        for (unsigned i = 0; i < 2; i++)
                ck_assert_int_eq(pthread_create(&b[i].thread, NULL, batched_provision, &b[i]), 0);
        while (store_sqlite_waiting(holder) < 2)
                sched_yield();
        store_rollback(holder);
        for (unsigned i = 0; i < 2; i++) {
                ck_assert_int_eq(pthread_join(b[i].thread, NULL), 0);
                store_close(b[i].mine);
                store_close(b[i].reader);
        }
        store_close(holder);
}

START_TEST(answers_of_one_batch_come_after_its_commit)
{
        struct batched b[2] = {0};
        two_provisions_in_one_batch(b);
        unsigned created = 0, existed = 0;
        for (unsigned i = 0; i < 2; i++) {
                created += b[i].resp.status == 201;
                existed += b[i].resp.status == 200;
                ck_assert_msg(b[i].stored_at_answer, "answered %u before the row was committed",
                              b[i].resp.status);
                api_response_release(&b[i].resp);
        }
        ck_assert_msg(created == 1 && existed == 1, "%u created, %u existed", created, existed);
}
END_TEST

START_TEST(a_batch_that_fails_to_commit_answers_500_to_all_and_stores_nothing)
{
        ck_assert_int_eq(setenv("OSB_BROKER_TEST_FAIL_COMMIT", "1", 1), 0);
        struct batched b[2] = {0};
        two_provisions_in_one_batch(b);
        for (unsigned i = 0; i < 2; i++) {
                /* Also the one that found the other's row and would have said 200. */
                json_t *d = json_object_get(b[i].resp.body, "description");
                ck_assert_msg(b[i].resp.status == 500 && strstr(json_string_value(d), "storage failed"),
                              "%u %s", b[i].resp.status, json_string_value(d));
                ck_assert(!b[i].stored_at_answer);
                api_response_release(&b[i].resp);
        }
        fetch("batched");
        EXPECT(404);
}
END_TEST

START_TEST(provision_sync_then_identical_is_200_and_different_is_409)
{
        provision("i1", false, SVC_DB, PLAN_SMALL, "\"parameters\":{\"username\":\"bob\"}");
        EXPECT(201);
        ck_assert_str_eq(body_text(), "{}");
        provision("i1", false, SVC_DB, PLAN_SMALL, "\"parameters\":{\"username\":\"bob\"}");
        EXPECT(200);
        provision("i1", true, SVC_DB, PLAN_SMALL, "\"parameters\":{\"username\":\"bob\"}");
        EXPECT(200);
        provision("i1", false, SVC_DB, PLAN_SMALL, "\"parameters\":{\"username\":\"eve\"}");
        EXPECT(409);
        ck_assert_ptr_null(json_object_get(resp.body, "error"));
        ck_assert_ptr_nonnull(strstr(field("description"), "different attributes"));
        provision("i1", false, SVC_DB, PLAN_LARGE, NULL);
        EXPECT(409);
        /* The 409s changed nothing. */
        fetch("i1");
        EXPECT(200);
        ck_assert_str_eq(body_text(), "{\"parameters\":{\"username\":\"bob\"},\"plan_id\":\"" PLAN_SMALL
                                      "\",\"service_id\":\"" SVC_DB "\"}");
}
END_TEST

START_TEST(provision_bad_requests_are_400_naming_the_problem)
{
        provision("x", false, "no-such-service", PLAN_SMALL, NULL);
        EXPECT(400);
        ck_assert_ptr_nonnull(strstr(field("description"), "no-such-service"));
        provision("x", false, SVC_QUEUE, PLAN_SMALL, NULL);
        EXPECT(400);
        ck_assert_ptr_nonnull(strstr(field("description"), "is not a plan of service"));
        provision("x", false, SVC_DB, PLAN_LARGE, "\"parameters\":{\"size\":300}");
        EXPECT(400);
        ck_assert_ptr_nonnull(strstr(field("description"), "parameters.size"));
        provision("x", false, SVC_DB, PLAN_SMALL, "\"parameters\":[1]");
        EXPECT(400);
        ck_assert_ptr_nonnull(strstr(field("description"), "parameters must be an object"));

        const char *missing = "{\"service_id\":\"" SVC_DB "\",\"plan_id\":\"" PLAN_SMALL "\",\"space_guid\":\"s\"}";
        api_response_release(&resp);
        api_provision(&api, st, "x", false, missing, strlen(missing), &resp);
        EXPECT(400);
        ck_assert_str_eq(field("description"), "organization_guid is required");
        api_response_release(&resp);
        api_provision(&api, st, "x", false, "{nope", 5, &resp);
        EXPECT(400);
        ck_assert_ptr_nonnull(strstr(field("description"), "malformed JSON"));
        fetch("x");
        EXPECT(404);
}
END_TEST

START_TEST(unknown_fields_are_ignored)
{
        provision("u", false, SVC_DB, PLAN_SMALL,
                  "\"x-vendor\":{\"a\":1},\"context\":{\"platform\":\"kubernetes\",\"new_key\":true},"
                  "\"maintenance_info\":{}");
        EXPECT(201);
}
END_TEST

START_TEST(maintenance_info_mismatch_is_422)
{
        provision("m", false, SVC_DB, PLAN_LARGE, "\"maintenance_info\":{\"version\":\"2.0.0\"}");
        EXPECT(422);
        ck_assert_str_eq(field("error"), "MaintenanceInfoConflict");
        provision("m", false, SVC_DB, PLAN_SMALL, "\"maintenance_info\":{\"version\":\"1.0.0\"}");
        EXPECT(422);
        provision("m", false, SVC_DB, PLAN_LARGE, "\"maintenance_info\":{\"version\":\"1.0.0\"}");
        EXPECT(201);
        fetch("m");
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(resp.body, "maintenance_info"), "version")),
                         "1.0.0");
}
END_TEST

START_TEST(async_required_without_accepts_incomplete_is_422_and_stores_nothing)
{
        provision("a", false, SVC_DB, PLAN_ASYNC_ONLY, NULL);
        EXPECT(422);
        ck_assert_str_eq(field("error"), "AsyncRequired");
        fetch("a");
        EXPECT(404);
        last_op("a", NULL);
        EXPECT(404);
}
END_TEST

START_TEST(async_provision_lifecycle)
{
        provision("a", true, SVC_DB, PLAN_LARGE, "\"parameters\":{\"size\":3}");
        EXPECT(202);
        char op[64];
        (void) snprintf(op, sizeof(op), "%s", field("operation"));
        ck_assert_uint_eq(strlen(op), 36);

        provision("a", true, SVC_DB, PLAN_LARGE, "\"parameters\":{\"size\":3}");
        EXPECT(202);
        ck_assert_str_eq(field("operation"), op);
        provision("a", false, SVC_DB, PLAN_LARGE, "\"parameters\":{\"size\":3}");
        EXPECT(422);
        ck_assert_str_eq(field("error"), "AsyncRequired");
        provision("a", true, SVC_DB, PLAN_LARGE, "\"parameters\":{\"size\":4}");
        EXPECT(409);
        fetch("a");
        EXPECT(404);
        last_op("a", op);
        EXPECT(200);
        ck_assert_str_eq(field("state"), "in progress");
        ck_assert_int_ge(resp.retry_after_s, 1);
        do_bind("a", "b", false, SVC_DB, PLAN_LARGE, NULL);
        EXPECT(422);
        ck_assert_str_eq(field("error"), "ConcurrencyError");

        run_op(op);
        last_op("a", op);
        EXPECT(200);
        ck_assert_str_eq(field("state"), "succeeded");
        ck_assert_int_eq(resp.retry_after_s, -1);
        last_op("a", "provision");
        ck_assert_str_eq(field("state"), "succeeded");
        fetch("a");
        EXPECT(200);
        provision("a", true, SVC_DB, PLAN_LARGE, "\"parameters\":{\"size\":3}");
        EXPECT(200);
}
END_TEST

START_TEST(last_operation_errors)
{
        last_op("nope", "some-op");
        EXPECT(404);
        provision("l", false, SVC_DB, PLAN_SMALL, NULL);
        last_op("l", "not-an-operation");
        EXPECT(400);
        last_op("l", NULL);
        EXPECT(200);
        ck_assert_str_eq(field("state"), "succeeded");
}
END_TEST

START_TEST(async_deprovision_then_poll_with_token_200_without_410)
{
        provision("d", false, SVC_DB, PLAN_LARGE, NULL);
        EXPECT(201);
        deprovision_plan("d", true, PLAN_LARGE);
        EXPECT(202);
        char op[64];
        (void) snprintf(op, sizeof(op), "%s", field("operation"));
        fetch("d");
        EXPECT(422);
        ck_assert_str_eq(field("error"), "ConcurrencyError");
        deprovision_plan("d", true, PLAN_LARGE);
        EXPECT(202);
        ck_assert_str_eq(field("operation"), op);
        run_op(op);
        last_op("d", op);
        EXPECT(200);
        ck_assert_str_eq(field("state"), "succeeded");
        last_op("d", NULL);
        EXPECT(410);
        deprovision_plan("d", false, PLAN_LARGE);
        EXPECT(410);
        fetch("d");
        EXPECT(404);
        /* Made anew, synchronously (no operation of its own): the old deprovision no longer
         * makes it gone. */
        provision("d", false, SVC_DB, PLAN_LARGE, NULL);
        EXPECT(201);
        last_op("d", NULL);
        EXPECT(200);
        fetch("d");
        EXPECT(200);
}
END_TEST

START_TEST(deprovision_during_provisioning_cancels_it)
{
        provision("c", true, SVC_DB, PLAN_LARGE, NULL);
        EXPECT(202);
        char pop[64];
        (void) snprintf(pop, sizeof(pop), "%s", field("operation"));
        deprovision_plan("c", false, PLAN_LARGE);
        EXPECT(200);
        last_op("c", pop);
        EXPECT(200);
        ck_assert_str_eq(field("state"), "failed");
        ck_assert_ptr_nonnull(strstr(field("description"), "cancelled"));
        run_op(pop); /* the worker finds it no longer in progress and does nothing */
        fetch("c");
        EXPECT(404);
}
END_TEST

START_TEST(deprovision_needs_service_and_plan_ids)
{
        api_response_release(&resp);
        api_deprovision(&api, st, "x", false, NULL, PLAN_SMALL, &resp);
        EXPECT(400);
        api_response_release(&resp);
        api_deprovision(&api, st, "x", false, SVC_DB, "", &resp);
        EXPECT(400);
}
END_TEST

START_TEST(update_rules)
{
        update("nope", false, "{\"service_id\":\"" SVC_DB "\"}");
        EXPECT(404);
        provision("q", false, SVC_QUEUE, PLAN_STANDARD, NULL);
        EXPECT(201);
        update("q", false, "{\"service_id\":\"" SVC_QUEUE "\",\"plan_id\":\"" PLAN_FAILS "\"}");
        EXPECT(422);
        ck_assert_ptr_null(json_object_get(resp.body, "error"));
        ck_assert_ptr_nonnull(strstr(field("description"), "plan_updateable"));
        update("q", false, "{\"plan_id\":\"" PLAN_STANDARD "\"}");
        EXPECT(400);
        update("q", false, "{\"service_id\":\"" SVC_DB "\"}");
        EXPECT(400);
        update("q", false, "{\"service_id\":\"" SVC_QUEUE "\",\"context\":{\"platform\":\"x\"}}");
        EXPECT(422);
        ck_assert_ptr_nonnull(strstr(field("description"), "allow_context_updates"));

        provision("s", false, SVC_DB, PLAN_SMALL, "\"parameters\":{\"a\":1}");
        update("s", false, "{\"service_id\":\"" SVC_DB "\",\"plan_id\":\"" PLAN_LARGE "\",\"parameters\":{\"size\":500}}");
        EXPECT(400);
        update("s", false, "{\"service_id\":\"" SVC_DB "\",\"plan_id\":\"" PLAN_LARGE "\",\"maintenance_info\":{\"version\":\"9.9.9\"}}");
        EXPECT(422);
        ck_assert_str_eq(field("error"), "MaintenanceInfoConflict");
        fetch("s");
        ck_assert_str_eq(field("plan_id"), PLAN_SMALL);
        update("s", false, "{\"service_id\":\"" SVC_DB "\",\"plan_id\":\"" PLAN_LARGE "\",\"parameters\":{\"size\":5}}");
        EXPECT(200);
        fetch("s");
        ck_assert_str_eq(field("plan_id"), PLAN_LARGE);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(resp.body, "parameters"), "size")), 5);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(resp.body, "parameters"), "a")), 1);
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(resp.body, "maintenance_info"), "version")), "1.0.0");
}
END_TEST

START_TEST(async_update_blocks_other_operations)
{
        provision("u", false, SVC_DB, PLAN_LARGE, NULL);
        const char *body = "{\"service_id\":\"" SVC_DB "\",\"parameters\":{\"size\":7}}";
        update("u", true, body);
        EXPECT(202);
        char op[64];
        (void) snprintf(op, sizeof(op), "%s", field("operation"));
        update("u", true, body);
        EXPECT(202);
        ck_assert_str_eq(field("operation"), op);
        update("u", true, "{\"service_id\":\"" SVC_DB "\",\"parameters\":{\"size\":8}}");
        EXPECT(422);
        ck_assert_str_eq(field("error"), "ConcurrencyError");
        fetch("u");
        EXPECT(422);
        deprovision_plan("u", true, PLAN_LARGE);
        EXPECT(422);
        run_op(op);
        fetch("u");
        EXPECT(200);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(resp.body, "parameters"), "size")), 7);
}
END_TEST

START_TEST(bind_merges_credentials_and_is_idempotent)
{
        provision("i", false, SVC_DB, PLAN_SMALL, "\"parameters\":{\"username\":\"bob\"}");
        do_bind("i", "b1", false, SVC_DB, PLAN_SMALL, NULL);
        EXPECT(201);
        json_t *creds = json_object_get(resp.body, "credentials");
        ck_assert_str_eq(json_string_value(json_object_get(creds, "username")), "bob");
        ck_assert_str_eq(json_string_value(json_object_get(creds, "password")), "demo-b1");
        ck_assert_str_eq(json_string_value(json_object_get(creds, "uri")),
                         "postgres://demo@db.demo.bindery.invalid:5432/i");
        char first[4096];
        (void) snprintf(first, sizeof(first), "%s", body_text());
        do_bind("i", "b1", false, SVC_DB, PLAN_SMALL, NULL);
        EXPECT(200);
        ck_assert_str_eq(body_text(), first);
        do_bind("i", "b1", false, SVC_DB, PLAN_SMALL, "\"parameters\":{\"x\":1}");
        EXPECT(409);
        do_bind("nope", "b1", false, SVC_DB, PLAN_SMALL, NULL);
        EXPECT(404);
        do_bind("i", "b2", false, SVC_DB, PLAN_LARGE, NULL);
        EXPECT(400);
        api_response_release(&resp);
        api_get_binding(&api, st, "i", "b1", &resp);
        EXPECT(200);
        ck_assert_str_eq(body_text(), first);
        api_response_release(&resp);
        api_unbind(&api, st, "i", "b1", false, SVC_DB, PLAN_SMALL, &resp);
        EXPECT(200);
        api_response_release(&resp);
        api_unbind(&api, st, "i", "b1", false, SVC_DB, PLAN_SMALL, &resp);
        EXPECT(410);
        api_response_release(&resp);
        api_get_binding(&api, st, "i", "b1", &resp);
        EXPECT(404);
}
END_TEST

START_TEST(async_bind_has_no_credentials_until_done)
{
        provision("i", true, SVC_DB, PLAN_ASYNC_ONLY, NULL);
        EXPECT(202);
        char pop[64];
        (void) snprintf(pop, sizeof(pop), "%s", field("operation"));
        run_op(pop);
        do_bind("i", "b", true, SVC_DB, PLAN_ASYNC_ONLY, NULL);
        EXPECT(202);
        ck_assert_ptr_null(json_object_get(resp.body, "credentials"));
        char op[64];
        (void) snprintf(op, sizeof(op), "%s", field("operation"));
        api_response_release(&resp);
        api_get_binding(&api, st, "i", "b", &resp);
        EXPECT(404);
        api_response_release(&resp);
        api_binding_last_operation(&api, st, "i", "b", op, &resp);
        ck_assert_str_eq(field("state"), "in progress");
        run_op(op);
        api_response_release(&resp);
        api_binding_last_operation(&api, st, "i", "b", op, &resp);
        ck_assert_str_eq(field("state"), "succeeded");
        api_response_release(&resp);
        api_get_binding(&api, st, "i", "b", &resp);
        EXPECT(200);
        ck_assert_ptr_nonnull(json_object_get(resp.body, "credentials"));
}
END_TEST

START_TEST(failing_plan_sync_stores_nothing_async_ends_failed)
{
        provision("f", false, SVC_QUEUE, PLAN_FAILS, NULL);
        EXPECT(500);
        ck_assert_ptr_nonnull(strstr(field("description"), "fails on purpose"));
        fetch("f");
        EXPECT(404);
        provision("f", true, SVC_QUEUE, PLAN_FAILS, NULL);
        EXPECT(202);
        char op[64];
        (void) snprintf(op, sizeof(op), "%s", field("operation"));
        run_op(op);
        last_op("f", op);
        ck_assert_str_eq(field("state"), "failed");
        ck_assert_ptr_nonnull(strstr(field("description"), "fails on purpose"));
        ck_assert_ptr_null(json_object_get(resp.body, "instance_usable"));
        fetch("f");
        EXPECT(404);
        /* Orphan mitigation: the platform deletes what failed. */
        api_response_release(&resp);
        api_deprovision(&api, st, "f", true, SVC_QUEUE, PLAN_FAILS, &resp);
        EXPECT(200);
        api_response_release(&resp);
        api_deprovision(&api, st, "f", true, SVC_QUEUE, PLAN_FAILS, &resp);
        EXPECT(410);
}
END_TEST

/* ---- the static backend's sync_delay ------------------------------------------------------ */

#define SVC_SLOW "svc-slow"
#define PLAN_SLOW "plan-slow"
#define PLAN_ASYNC_SLOW "plan-async-slow"
#define PLAN_TTL "plan-ttl"
#define SYNC_DELAY_MS 300

/* plan-slow: synchronous only, each answer takes SYNC_DELAY_MS. plan-async-slow: asynchronous
 * only, with a sync_delay of 10 minutes that must never apply. */
static const char slow_catalog[] =
        "{\"services\":[{\"id\":\"" SVC_SLOW "\",\"name\":\"slow\",\"description\":\"d\",\"bindable\":true,"
        "\"bindings_retrievable\":true,\"plan_updateable\":true,\"plans\":["
        "{\"id\":\"" PLAN_SLOW "\",\"name\":\"slow\",\"description\":\"d\",\"x-bindery-backend\":{\"type\":\"static\","
        "\"sync_delay\":\"300ms\",\"credentials\":{\"u\":\"{instance_id}\"}}},"
        "{\"id\":\"" PLAN_ASYNC_SLOW "\",\"name\":\"async-slow\",\"description\":\"d\",\"x-bindery-backend\":{"
        "\"type\":\"static\",\"async\":\"required\",\"bind_async\":\"required\",\"delay\":0,\"sync_delay\":\"10m\"}},"
        "{\"id\":\"" PLAN_TTL "\",\"name\":\"ttl\",\"description\":\"d\",\"binding_rotatable\":true,"
        "\"x-bindery-backend\":{\"type\":\"static\",\"binding_ttl\":\"1h\",\"credentials\":{\"p\":\"pw-{binding_id}\"}}}]}]}";

static void setup_slow(void)
{
        setup_catalog = slow_catalog;
        setup();
        setup_catalog = NULL;
}

/* OSB 2.17 binding metadata from binding_ttl: expires_at an hour after the bind, renew_before
 * half way; a rotation (predecessor_binding_id) gets credentials of its own. */
START_TEST(binding_ttl_gives_expiry_metadata_and_rotation_new_credentials)
{
        provision("t", false, SVC_SLOW, PLAN_TTL, NULL);
        EXPECT(201);
        time_t before = time(NULL);
        do_bind("t", "b1", false, SVC_SLOW, PLAN_TTL, NULL);
        EXPECT(201);
        time_t after = time(NULL);
        const json_t *md = json_object_get(resp.body, "metadata");
        /* the spec's pattern: yyyy-mm-ddThh:mm:ss.sZ */
        for (const char *const *k = (const char *const[]){"expires_at", "renew_before", NULL}; *k; k++) {
                const char *v = json_string_value(json_object_get(md, *k));
                ck_assert_msg(v && strlen(v) == 22 && v[10] == 'T' && v[19] == '.' && v[21] == 'Z', "%s: %s", *k, v);
        }
        time_t exp, renew;
        ck_assert_int_eq(osb_time_parse_rfc3339(json_string_value(json_object_get(md, "expires_at")), &exp), 0);
        ck_assert_int_eq(osb_time_parse_rfc3339(json_string_value(json_object_get(md, "renew_before")), &renew), 0);
        ck_assert(exp >= before + 3600 && exp <= after + 3600);
        ck_assert(renew >= before + 1800 && renew <= after + 1800);
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(resp.body, "credentials"), "p")), "pw-b1");
        do_bind("t", "b2", false, SVC_SLOW, PLAN_TTL, "\"predecessor_binding_id\":\"b1\"");
        EXPECT(201);
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(resp.body, "credentials"), "p")), "pw-b2");
        ck_assert_ptr_nonnull(json_object_get(json_object_get(resp.body, "metadata"), "expires_at"));
}
END_TEST

static int64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define EXPECT_SLOW(t0_) ck_assert_int_ge(mono_ms() - (t0_), SYNC_DELAY_MS)

START_TEST(sync_delay_slows_every_synchronous_answer)
{
        int64_t t0 = mono_ms();
        provision("s", false, SVC_SLOW, PLAN_SLOW, NULL);
        EXPECT(201);
        EXPECT_SLOW(t0);

        t0 = mono_ms();
        update("s", false, "{\"service_id\":\"" SVC_SLOW "\",\"parameters\":{\"n\":1}}");
        EXPECT(200);
        EXPECT_SLOW(t0);

        t0 = mono_ms();
        do_bind("s", "b", false, SVC_SLOW, PLAN_SLOW, NULL);
        EXPECT(201);
        EXPECT_SLOW(t0);
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(resp.body, "credentials"), "u")), "s");

        t0 = mono_ms();
        api_response_release(&resp);
        api_unbind(&api, st, "s", "b", false, SVC_SLOW, PLAN_SLOW, &resp);
        EXPECT(200);
        EXPECT_SLOW(t0);

        t0 = mono_ms();
        api_response_release(&resp);
        api_deprovision(&api, st, "s", false, SVC_SLOW, PLAN_SLOW, &resp);
        EXPECT(200);
        EXPECT_SLOW(t0);
        fetch("s");
        EXPECT(404);
}
END_TEST

/* Were the 10-minute sync_delay of plan-async-slow applied to a 202 answer or to the worker's
 * run of an operation, this test would outlive its time limit (set in api_suite). */
START_TEST(sync_delay_never_slows_asynchronous_operations)
{
        provision("a", true, SVC_SLOW, PLAN_ASYNC_SLOW, NULL);
        EXPECT(202);
        char op[64];
        (void) snprintf(op, sizeof(op), "%s", field("operation"));
        run_op(op);
        last_op("a", op);
        ck_assert_str_eq(field("state"), "succeeded");

        update("a", true, "{\"service_id\":\"" SVC_SLOW "\",\"parameters\":{\"n\":1}}");
        EXPECT(202);
        (void) snprintf(op, sizeof(op), "%s", field("operation"));
        run_op(op);

        do_bind("a", "b", true, SVC_SLOW, PLAN_ASYNC_SLOW, NULL);
        EXPECT(202);
        (void) snprintf(op, sizeof(op), "%s", field("operation"));
        run_op(op);
        api_response_release(&resp);
        api_binding_last_operation(&api, st, "a", "b", op, &resp);
        ck_assert_str_eq(field("state"), "succeeded");

        api_response_release(&resp);
        api_unbind(&api, st, "a", "b", true, SVC_SLOW, PLAN_ASYNC_SLOW, &resp);
        EXPECT(202);
        (void) snprintf(op, sizeof(op), "%s", field("operation"));
        run_op(op);

        api_response_release(&resp);
        api_deprovision(&api, st, "a", true, SVC_SLOW, PLAN_ASYNC_SLOW, &resp);
        EXPECT(202);
        (void) snprintf(op, sizeof(op), "%s", field("operation"));
        run_op(op);
        fetch("a");
        EXPECT(404);
        /* answered from the store, without the backend */
        api_response_release(&resp);
        api_deprovision(&api, st, "a", true, SVC_SLOW, PLAN_ASYNC_SLOW, &resp);
        EXPECT(410);
}
END_TEST

/* Configures a one-plan catalog whose backend object is @backend (JSON); returns the errors
 * (new, osb_free) or NULL when it is accepted. */
static char *configure_backend(const char *backend)
{
        osb_autofree char *text = osb_asprintf(
                "{\"services\":[{\"id\":\"s\",\"name\":\"s\",\"description\":\"d\",\"bindable\":true,"
                "\"plans\":[{\"id\":\"p\",\"name\":\"p\",\"description\":\"d\",\"x-bindery-backend\":%s}]}]}", backend);
        struct catalog *c = NULL;
        char *errors = NULL;
        ck_assert_msg(catalog_load_buffer(text, strlen(text), "b.json", &c, &errors) == 0, "%s", errors);
        int r = backend_configure_catalog(c, &errors);
        backend_release_catalog(c);
        catalog_free(c);
        return r == 0 ? NULL : errors;
}

START_TEST(sync_delay_setting_is_checked)
{
        static const char *const good[] = {"0", "250", "\"250ms\"", "\"2s\"", "\"10m\""};
        for (size_t i = 0; i < OSB_ELEMENTSOF(good); i++) {
                osb_autofree char *cfg = osb_asprintf("{\"type\":\"static\",\"sync_delay\":%s}", good[i]);
                osb_autofree char *e = configure_backend(cfg);
                ck_assert_msg(e == NULL, "sync_delay %s refused: %s", good[i], e);
        }
        static const struct {
                const char *value, *error;
        } bad[] = {
                {"\"soon\"", "b.json: services[0].plans[0].x-bindery-backend.sync_delay: must be a duration such as \"500ms\" or \"2s\""},
                {"-1", "b.json: services[0].plans[0].x-bindery-backend.sync_delay: must be a duration such as \"500ms\" or \"2s\""},
                {"true", "b.json: services[0].plans[0].x-bindery-backend.sync_delay: must be a duration such as \"500ms\" or \"2s\""},
                {"\"11m\"", "b.json: services[0].plans[0].x-bindery-backend.sync_delay: must be at most 600s"},
        };
        for (size_t i = 0; i < OSB_ELEMENTSOF(bad); i++) {
                osb_autofree char *cfg = osb_asprintf("{\"type\":\"static\",\"sync_delay\":%s}", bad[i].value);
                osb_autofree char *e = configure_backend(cfg);
                ck_assert_msg(e != NULL, "sync_delay %s accepted", bad[i].value);
                ck_assert_msg(strstr(e, bad[i].error), "sync_delay %s: %s", bad[i].value, e);
        }
        /* delay keeps its own message (and no upper bound). */
        osb_autofree char *e = configure_backend("{\"type\":\"static\",\"delay\":\"later\"}");
        ck_assert_ptr_nonnull(e);
        ck_assert_ptr_nonnull(strstr(e, "x-bindery-backend.delay: must be a duration such as \"500ms\" or \"2s\""));
        osb_autofree char *e2 = configure_backend("{\"type\":\"static\",\"delay\":\"2h\"}");
        ck_assert_msg(e2 == NULL, "%s", e2);
}
END_TEST

static Suite *api_suite(void)
{
        Suite *s = suite_create("api");
        TCase *tc = tcase_create("instances");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, provision_sync_then_identical_is_200_and_different_is_409);
        tcase_add_test(tc, answers_of_one_batch_come_after_its_commit);
        tcase_add_test(tc, a_batch_that_fails_to_commit_answers_500_to_all_and_stores_nothing);
        tcase_add_test(tc, provision_bad_requests_are_400_naming_the_problem);
        tcase_add_test(tc, unknown_fields_are_ignored);
        tcase_add_test(tc, maintenance_info_mismatch_is_422);
        tcase_add_test(tc, async_required_without_accepts_incomplete_is_422_and_stores_nothing);
        tcase_add_test(tc, async_provision_lifecycle);
        tcase_add_test(tc, last_operation_errors);
        tcase_add_test(tc, async_deprovision_then_poll_with_token_200_without_410);
        tcase_add_test(tc, deprovision_during_provisioning_cancels_it);
        tcase_add_test(tc, deprovision_needs_service_and_plan_ids);
        tcase_add_test(tc, update_rules);
        tcase_add_test(tc, async_update_blocks_other_operations);
        suite_add_tcase(s, tc);
        tc = tcase_create("bindings");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, bind_merges_credentials_and_is_idempotent);
        tcase_add_test(tc, async_bind_has_no_credentials_until_done);
        tcase_add_test(tc, failing_plan_sync_stores_nothing_async_ends_failed);
        suite_add_tcase(s, tc);
        tc = tcase_create("static-backend");
        tcase_set_timeout(tc, 20);
        tcase_add_checked_fixture(tc, setup_slow, teardown);
        tcase_add_test(tc, sync_delay_slows_every_synchronous_answer);
        tcase_add_test(tc, sync_delay_never_slows_asynchronous_operations);
        tcase_add_test(tc, sync_delay_setting_is_checked);
        tcase_add_test(tc, binding_ttl_gives_expiry_metadata_and_rotation_new_credentials);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(api_suite)
