/* test/integration/check_crash.c: kill -9 of osb-broker in the middle of asynchronous work. The
 * operation row is committed before the 202 goes out, so after a restart on the same database
 * the operation resumes and ends as it would have without the crash. */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "test/integration/itest.h"
#include "test/lib/check_main.h"

static void crash_and_restart(struct it *t, const char *op)
{
        ck_assert_int_eq(broker_proc_kill(t->bp), 0);
        ck_assert(!broker_proc_running(t->bp));
        /* The crash came before the operation's due time: it is still pending in the file. */
        osb_autofree char *q = osb_asprintf("SELECT state FROM operations WHERE id = '%s'", op);
        osb_autofree char *state = it_sql_text(broker_proc_db_path(t->bp), q);
        ck_assert_msg(state != NULL, "operation %s is not in the database after kill -9", op);
        ck_assert_msg(strcmp(state, "in progress") == 0,
                      "operation %s was already '%s' when the broker was killed: the test did not crash "
                      "the broker in the middle", op, state);
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(broker_proc_restart(t->bp, &err) >= 0, "restart after kill -9: %s", err.text);
}

/* Returns the operation of a 202 response. New (osb_free). */
static char *accepted_op(struct it *t)
{
        const char *op = it_str(t, "operation");
        ck_assert_msg(op && *op, "202 without an operation: %s", t->resp.body.data);
        return osb_strdup(op);
}

START_TEST(kill9_during_async_provision_resumes_and_succeeds)
{
        struct it t;
        it_start(&t, "itest-catalog.json", NULL);
        osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_ASYNC, "{\"tier\":\"gold\"}", NULL);
        const char *path = "/v2/service_instances/crash-prov?accepts_incomplete=true";
        ck_assert_int_eq(it_req(&t, "PUT", path, pb, NULL), 202);
        osb_autofree char *op = accepted_op(&t);
        crash_and_restart(&t, op);

        /* The same request after the crash is still the same provisioning. */
        long s = it_req(&t, "PUT", path, pb, NULL);
        if (s == 202)
                ck_assert_str_eq(it_str(&t, "operation"), op);
        else
                ck_assert_msg(s == 200, "repeated provision after restart: %ld %s", s, t.resp.body.data);

        osb_autofree char *lop = osb_asprintf("/v2/service_instances/crash-prov/last_operation?operation=%s"
                                              "&service_id=" IT_SVC "&plan_id=" IT_PLAN_ASYNC, op);
        ck_assert_str_eq(it_wait_op(&t, lop, 30000), "succeeded");
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/crash-prov", NULL, NULL), 200);
        ck_assert_str_eq(it_str(&t, "plan_id"), IT_PLAN_ASYNC);
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(t.json, "parameters"), "tier")), "gold");
        ck_assert_str_eq(it_str(&t, "dashboard_url"), "https://dash.itest.invalid/crash-prov");
        it_stop(&t);
}
END_TEST

START_TEST(kill9_twice_during_async_provision_still_resumes)
{
        struct it t;
        it_start(&t, "itest-catalog.json", NULL);
        osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_ASYNC_SLOW, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/crash-twice?accepts_incomplete=true", pb, NULL),
                         202);
        osb_autofree char *op = accepted_op(&t);
        crash_and_restart(&t, op);
        crash_and_restart(&t, op);
        osb_autofree char *lop = osb_asprintf("/v2/service_instances/crash-twice/last_operation?operation=%s", op);
        ck_assert_int_eq(it_req(&t, "GET", lop, NULL, NULL), 200);
        ck_assert_str_eq(it_str(&t, "state"), "in progress");
        ck_assert_ptr_nonnull(http_response_header(&t.resp, "Retry-After"));
        /* Deprovisioning overtakes the pending provision; the queued one must not resurrect it. */
        ck_assert_int_eq(it_req(&t, "DELETE", "/v2/service_instances/crash-twice?service_id=" IT_SVC
                                "&plan_id=" IT_PLAN_ASYNC_SLOW, NULL, NULL), 200);
        ck_assert_int_eq(it_req(&t, "GET", lop, NULL, NULL), 200);
        ck_assert_str_eq(it_str(&t, "state"), "failed");
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/crash-twice", NULL, NULL), 404);
        it_stop(&t);
}
END_TEST

START_TEST(kill9_during_async_bind_resumes_and_the_binding_is_fetchable)
{
        struct it t;
        it_start(&t, "itest-catalog.json", NULL);
        osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_ASYNC, NULL, NULL);
        /* Without accepts_incomplete an "optional" plan provisions synchronously. */
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/crash-bind", pb, NULL), 201);
        osb_autofree char *bb = it_bind_body(IT_SVC, IT_PLAN_ASYNC, NULL, "app-crash");
        const char *path = "/v2/service_instances/crash-bind/service_bindings/b1?accepts_incomplete=true";
        ck_assert_int_eq(it_req(&t, "PUT", path, bb, NULL), 202);
        osb_autofree char *op = accepted_op(&t);
        crash_and_restart(&t, op);

        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/crash-bind/service_bindings/b1", NULL, NULL), 404);
        osb_autofree char *lop = osb_asprintf("/v2/service_instances/crash-bind/service_bindings/b1/last_operation"
                                              "?operation=%s&service_id=" IT_SVC "&plan_id=" IT_PLAN_ASYNC, op);
        ck_assert_str_eq(it_wait_op(&t, lop, 30000), "succeeded");
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/crash-bind/service_bindings/b1", NULL, NULL), 200);
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(t.json, "credentials"), "user")), "a-b1");
        it_stop(&t);
}
END_TEST

START_TEST(kill9_during_async_deprovision_resumes_and_the_instance_is_gone)
{
        struct it t;
        it_start(&t, "itest-catalog.json", NULL);
        osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_ASYNC, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/crash-deprov", pb, NULL), 201);
        ck_assert_int_eq(it_req(&t, "DELETE", "/v2/service_instances/crash-deprov?accepts_incomplete=true"
                                "&service_id=" IT_SVC "&plan_id=" IT_PLAN_ASYNC, NULL, NULL), 202);
        osb_autofree char *op = accepted_op(&t);
        crash_and_restart(&t, op);

        /* Still being deprovisioned: fetch says so, it is not yet gone. */
        long s = it_req(&t, "GET", "/v2/service_instances/crash-deprov", NULL, NULL);
        ck_assert_msg(s == 422 || s == 404, "fetch during deprovision: %ld %s", s, t.resp.body.data);
        osb_autofree char *lop = osb_asprintf("/v2/service_instances/crash-deprov/last_operation?operation=%s"
                                              "&service_id=" IT_SVC "&plan_id=" IT_PLAN_ASYNC, op);
        const char *state = it_wait_op(&t, lop, 30000);
        ck_assert_msg(strcmp(state, "succeeded") == 0 || strcmp(state, "gone") == 0, "deprovision ended %s", state);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/crash-deprov", NULL, NULL), 404);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/crash-deprov/last_operation", NULL, NULL), 410);
        ck_assert_int_eq(it_sql_int(broker_proc_db_path(t.bp), "SELECT count(*) FROM instances"), 0);
        it_stop(&t);
}
END_TEST

START_TEST(kill9_during_async_update_resumes_and_applies_the_change)
{
        struct it t;
        it_start(&t, "itest-catalog.json", NULL);
        osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_ASYNC, "{\"size\":1}", NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/crash-upd", pb, NULL), 201);
        const char *ub = "{\"service_id\":\"" IT_SVC "\",\"parameters\":{\"size\":7}}";
        ck_assert_int_eq(it_req(&t, "PATCH", "/v2/service_instances/crash-upd?accepts_incomplete=true", ub, NULL), 202);
        osb_autofree char *op = accepted_op(&t);
        crash_and_restart(&t, op);
        osb_autofree char *lop = osb_asprintf("/v2/service_instances/crash-upd/last_operation?operation=%s", op);
        ck_assert_str_eq(it_wait_op(&t, lop, 30000), "succeeded");
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/crash-upd", NULL, NULL), 200);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(t.json, "parameters"), "size")), 7);
        it_stop(&t);
}
END_TEST

START_TEST(kill9_during_failing_async_provision_still_fails_with_its_message)
{
        struct it t;
        it_start(&t, "itest-catalog.json", NULL);
        osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_FAILS, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/crash-fail?accepts_incomplete=true", pb, NULL),
                         202);
        osb_autofree char *op = accepted_op(&t);
        crash_and_restart(&t, op);
        osb_autofree char *lop = osb_asprintf("/v2/service_instances/crash-fail/last_operation?operation=%s"
                                              "&service_id=" IT_SVC "&plan_id=" IT_PLAN_FAILS, op);
        ck_assert_str_eq(it_wait_op(&t, lop, 30000), "failed");
        const char *desc = it_str(&t, "description");
        ck_assert_msg(desc && strstr(desc, IT_FAIL_MESSAGE), "description: %s", t.resp.body.data);
        /* Provision failures carry neither instance_usable nor update_repeatable (OSB G11). */
        ck_assert_ptr_null(json_object_get(t.json, "instance_usable"));
        ck_assert_ptr_null(json_object_get(t.json, "update_repeatable"));
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/crash-fail", NULL, NULL), 404);
        it_stop(&t);
}
END_TEST

static Suite *crash_suite(void)
{
        Suite *s = suite_create("crash");
        TCase *tc = tcase_create("kill9");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, kill9_during_async_provision_resumes_and_succeeds);
        tcase_add_test(tc, kill9_twice_during_async_provision_still_resumes);
        tcase_add_test(tc, kill9_during_async_bind_resumes_and_the_binding_is_fetchable);
        tcase_add_test(tc, kill9_during_async_deprovision_resumes_and_the_instance_is_gone);
        tcase_add_test(tc, kill9_during_async_update_resumes_and_applies_the_change);
        tcase_add_test(tc, kill9_during_failing_async_provision_still_fails_with_its_message);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(crash_suite)
