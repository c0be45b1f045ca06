/* test/unit/check_catalog_controller_osb.c: the controller's OSB client against a fake broker (an
 * in-process server, common/osb_http, on 127.0.0.1, port 0) that answers what a hostile or broken
 * broker might: successes the controller cannot read (not JSON, an integer beyond int64,
 * credentials that are not an object, trailing bytes, nothing, more than the size cap) and
 * last_operation states it does not know. Each must be refused by osb_response_*() with a
 * summary that never quotes the broker's bytes; readable answers still read. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_http.h"
#include "common/osb_mem.h"
#include "catalog-controller/osb_client.h"
#include "catalog-controller/osb_response.h"
#include "test/lib/check_main.h"

/* A string every hostile body below carries, as a password would be: never in a message. */
#define SECRET "s3cr3t-pw"

static pthread_mutex_t canned_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned canned_status;
static const char *canned_body;
static size_t canned_len;
static const char *canned_retry_after;  /* a Retry-After header to send, or NULL */
static struct osb_http_server *srv;
static struct osb_client *oc;

static void handler(void *userdata, struct osb_http_request *req)
{
        pthread_mutex_lock(&canned_lock);
        unsigned status = canned_status;
        const char *body = canned_body;
        size_t len = canned_len;
        const char *const headers[] = {"Retry-After", canned_retry_after, NULL};
        pthread_mutex_unlock(&canned_lock);
        (void) osb_http_respond(req, status, "application/json", body, len, false, headers);
}

static void canned(unsigned status, const char *body, size_t len)
{
        pthread_mutex_lock(&canned_lock);
        canned_status = status;
        canned_body = body;
        canned_len = len;
        pthread_mutex_unlock(&canned_lock);
}

static void setup(void)
{
        struct osb_http_config cfg = {.address = "127.0.0.1", .threads = 2, .max_body = 1 << 20};
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(osb_http_server_start(&cfg, handler, NULL, NULL, &srv, &err) == 0, "%s", err.text);
        char url[64];
        (void) snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned) osb_http_server_port(srv));
        struct osb_client_config cc = {.broker = "fake", .url = url, .timeout_ms = 10000, .max_body = 4096};
        ck_assert_msg(osb_client_new(&cc, &oc, &err) == 0, "%s", err.text);
}

static void teardown(void)
{
        oc = osb_client_free(oc);
        srv = osb_http_server_stop(srv, 1000);
}

/* A message about the broker's answer: names the call, quotes nothing of the body. */
static void assert_summary(const char *text, const char *call)
{
        ck_assert_msg(strstr(text, call) != NULL, "'%s' does not name %s", text, call);
        ck_assert_msg(strstr(text, SECRET) == NULL, "'%s' quotes the broker's bytes", text);
        ck_assert_msg(strchr(text, '{') == NULL && strchr(text, '[') == NULL, "'%s' quotes JSON", text);
}

/* Bodies no bind success may be read from. */
static const char *const unreadable_binds[] = {
        "{\"credentials\":{\"password\":\"" SECRET "\"",                           /* cut short */
        "{\"credentials\":{\"password\":\"" SECRET "\",\"n\":123456789012345678901234}}", /* > int64 */
        "{\"credentials\":\"" SECRET "\"}",                                          /* a string */
        "{\"credentials\":[\"" SECRET "\"]}",                                        /* an array */
        "{\"credentials\":null}",
        "{\"credentials\":{\"password\":\"" SECRET "\"}} trailing " SECRET,          /* trailing junk */
        "{\"credentials\":{\"password\":\"" SECRET "\"}}{}",
        "{\"credentials\":{\"a\":1},\"credentials\":{\"password\":\"" SECRET "\"}}", /* a key twice */
        "[\"" SECRET "\"]",
        "\"" SECRET "\"",
        "",
};

START_TEST(bind_success_that_cannot_be_read_is_refused_without_quoting_it)
{
        const unsigned statuses[] = {200, 201};
        for (size_t s = 0; s < OSB_ELEMENTSOF(statuses); s++) {
                for (size_t i = 0; i < OSB_ELEMENTSOF(unreadable_binds); i++) {
                        canned(statuses[s], unreadable_binds[i], strlen(unreadable_binds[i]));
                        struct osb_response resp = {.retry_after_s = -1};
                        struct osb_error err = OSB_ERROR_INIT;
                        ck_assert_msg(osb_client_bind(oc, "i1", "b1", NULL, false, NULL, &resp, &err) == 0, "%s", err.text);
                        ck_assert_int_eq(resp.status, statuses[s]);
                        const json_t *creds = (const json_t *) 1;
                        int r = osb_response_bind(&resp, "bind", &creds, &err);
                        ck_assert_msg(r == -EBADMSG, "%ld %s: %d", resp.status, unreadable_binds[i], r);
                        ck_assert_ptr_null(creds);
                        assert_summary(err.text, "the broker's response to bind");
                        osb_response_release(&resp);
                }
        }
}
END_TEST

START_TEST(bind_summary_says_where_and_how_long)
{
        static const char body[] = "{\"credentials\": {\"password\" \"" SECRET "\"}}";
        canned(201, body, sizeof(body) - 1);
        struct osb_response resp = {.retry_after_s = -1};
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(osb_client_bind(oc, "i1", "b1", NULL, false, NULL, &resp, &err), 0);
        const json_t *creds;
        ck_assert_int_eq(osb_response_bind(&resp, "bind", &creds, &err), -EBADMSG);
        char want[200];
        (void) snprintf(want, sizeof(want), "the broker's response to bind was not valid JSON (line 1, column 39, %zu bytes)",
                        sizeof(body) - 1);
        ck_assert_str_eq(err.text, want);
        osb_response_release(&resp);
        canned(200, "{\"credentials\":\"" SECRET "\"}", strlen("{\"credentials\":\"" SECRET "\"}"));
        ck_assert_int_eq(osb_client_fetch(oc, "i1", "b1", NULL, &resp, &err), 0);
        ck_assert_int_eq(osb_response_bind(&resp, "fetching the binding", &creds, &err), -EBADMSG);
        ck_assert_str_eq(err.text, "the broker's response to fetching the binding has \"credentials\" that are a string, "
                         "not a JSON object (27 bytes)");
        osb_response_release(&resp);
}
END_TEST

START_TEST(bind_success_that_can_be_read_gives_its_credentials)
{
        static const char body[] = "{\"credentials\":{\"password\":\"" SECRET "\",\"port\":5432}}";
        canned(201, body, sizeof(body) - 1);
        struct osb_response resp = {.retry_after_s = -1};
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(osb_client_bind(oc, "i1", "b1", NULL, false, NULL, &resp, &err), 0);
        const json_t *creds = NULL;
        ck_assert_int_eq(osb_response_bind(&resp, "bind", &creds, &err), 0);
        ck_assert(json_is_object(creds));
        ck_assert_str_eq(json_string_value(json_object_get(creds, "password")), SECRET);
        osb_response_release(&resp);
        /* a binding without credentials (volume mounts only) is a readable answer */
        canned(200, "{\"volume_mounts\":[]}", 20);
        ck_assert_int_eq(osb_client_bind(oc, "i1", "b1", NULL, false, NULL, &resp, &err), 0);
        creds = (const json_t *) 1;
        ck_assert_int_eq(osb_response_bind(&resp, "bind", &creds, &err), 0);
        ck_assert_ptr_null(creds);
        osb_response_release(&resp);
}
END_TEST

START_TEST(bind_expiry_reads_utc_and_numeric_offsets_and_ignores_the_rest)
{
        time_t exp = 1, renew = 1;
        json_auto_t *b = json_pack("{s:{s:s,s:s}}", "metadata", "expires_at", "2024-01-01T02:00:00+02:00", "renew_before",
                                   "2023-12-31T23:00:00Z");
        osb_response_bind_expiry(b, &exp, &renew);
        ck_assert_int_eq((long long) exp, 1704067200LL);
        ck_assert_int_eq((long long) renew, 1704067200LL - 3600);
        json_auto_t *o = json_pack("{s:{s:s,s:s}}", "metadata", "expires_at", "2023-12-31T19:30:00.5-04:30", "renew_before",
                                   "2024-01-01T00:00:00+0200");
        osb_response_bind_expiry(o, &exp, &renew);
        ck_assert_int_eq((long long) exp, 1704067200LL);
        ck_assert_int_eq((long long) renew, 0);      /* no colon: not RFC 3339, ignored */
        json_auto_t *n = json_pack("{s:{s:i,s:s}}", "metadata", "expires_at", 1704067200, "renew_before", "tomorrow");
        osb_response_bind_expiry(n, &exp, &renew);
        ck_assert_int_eq((long long) exp, 0);
        ck_assert_int_eq((long long) renew, 0);
}
END_TEST

START_TEST(provision_success_that_cannot_be_read_is_refused)
{
        const char *const bodies[] = {"{\"dashboard_url\":\"http://x/" SECRET "\"", "{\"a\":123456789012345678901234}",
                                      "[]", "", ("{} " SECRET)};
        for (size_t i = 0; i < OSB_ELEMENTSOF(bodies); i++) {
                canned(201, bodies[i], strlen(bodies[i]));
                struct osb_response resp = {.retry_after_s = -1};
                struct osb_error err = OSB_ERROR_INIT;
                ck_assert_msg(osb_client_provision(oc, "i1", NULL, NULL, &resp, &err) == 0, "%s", err.text);
                const char *dash = "untouched";
                ck_assert_int_eq(osb_response_provision(&resp, "provision", &dash, &err), -EBADMSG);
                ck_assert_ptr_null(dash);
                assert_summary(err.text, "the broker's response to provision");
                osb_response_release(&resp);
        }
        canned(201, "{\"dashboard_url\":\"http://dash\"}", 31);
        struct osb_response resp = {.retry_after_s = -1};
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(osb_client_provision(oc, "i1", NULL, NULL, &resp, &err), 0);
        const char *dash = NULL;
        ck_assert_int_eq(osb_response_provision(&resp, "provision", &dash, &err), 0);
        ck_assert_str_eq(dash, "http://dash");
        osb_response_release(&resp);
}
END_TEST

/* An "operation" or "dashboard_url" longer than the OSB limit would go into the object's status
 * and make every status write fail (megabytes past etcd's limit): the answer is dropped, as one
 * that cannot be read, and the summary says which field and how long, never what it holds. */
START_TEST(an_operation_or_dashboard_url_over_the_limit_drops_the_answer)
{
        const char *const fields[] = {"operation", "dashboard_url"};
        for (size_t f = 0; f < OSB_ELEMENTSOF(fields); f++) {
                for (size_t len = OSB_RESPONSE_FIELD_MAX; len <= OSB_RESPONSE_FIELD_MAX + 1; len++) {
                        char *value = osb_malloc(len + 1);
                        ck_assert_ptr_nonnull(value);
                        for (size_t i = 0; i < len; i++)
                                value[i] = SECRET[i % strlen(SECRET)];
                        value[len] = '\0';
                        char *body = osb_asprintf("{\"%s\":\"%s\",\"description\":\"d\"}", fields[f], value);
                        ck_assert_ptr_nonnull(body);
                        struct osb_response resp;
                        ck_assert_int_eq(osb_response_decode(202, body, strlen(body), false, -1, &resp), 0);
                        struct osb_error err = OSB_ERROR_INIT;
                        const char *dash = "untouched";
                        if (len == OSB_RESPONSE_FIELD_MAX) {
                                ck_assert_ptr_null(resp.too_long);
                                ck_assert_uint_eq(json_string_length(json_object_get(resp.body, fields[f])), len);
                                ck_assert_int_eq(osb_response_provision(&resp, "provision", &dash, &err), 0);
                        } else {
                                ck_assert_ptr_null(resp.body);
                                ck_assert_str_eq(resp.too_long, fields[f]);
                                ck_assert_uint_eq(resp.too_long_len, len);
                                ck_assert_int_eq(osb_response_provision(&resp, "provision", &dash, &err), -EBADMSG);
                                ck_assert_ptr_null(dash);
                                char want[200];
                                (void) snprintf(want, sizeof(want), "the broker's response to provision has a \"%s\" "
                                                "of 10001 bytes, more than 10000", fields[f]);
                                ck_assert_str_eq(err.text, want);
                                assert_summary(err.text, "provision");
                        }
                        osb_response_release(&resp);
                        osb_free(body);
                        osb_free(value);
                }
        }
}
END_TEST

/* A success over the cap (4096 bytes here) is an answer that cannot be read, not a transport
 * failure to retry: for a provision or a bind it must start orphan mitigation. */
START_TEST(success_over_the_size_cap_is_an_unreadable_answer)
{
        static char big[20000];
        memset(big, ' ', sizeof(big));
        memcpy(big, "{\"credentials\":{\"password\":\"" SECRET "\"}}", strlen("{\"credentials\":{\"password\":\"" SECRET "\"}}"));
        const unsigned statuses[] = {200, 201};
        for (size_t s = 0; s < OSB_ELEMENTSOF(statuses); s++) {
                canned(statuses[s], big, sizeof(big));
                struct osb_response resp = {.retry_after_s = -1};
                struct osb_error err = OSB_ERROR_INIT;
                int r = osb_client_provision(oc, "i1", NULL, NULL, &resp, &err);
                ck_assert_msg(r == 0, "%d %s", r, err.text);
                ck_assert_int_eq(resp.status, statuses[s]);
                ck_assert(resp.too_big);
                ck_assert_ptr_null(resp.body);
                ck_assert_int_eq(osb_response_provision(&resp, "provision", NULL, &err), -EBADMSG);
                ck_assert_str_eq(err.text, "the broker's response to provision was larger than 4096 bytes");
                osb_response_release(&resp);
                ck_assert_int_eq(osb_client_bind(oc, "i1", "b1", NULL, false, NULL, &resp, &err), 0);
                const json_t *creds;
                ck_assert_int_eq(osb_response_bind(&resp, "bind", &creds, &err), -EBADMSG);
                ck_assert_str_eq(err.text, "the broker's response to bind was larger than 4096 bytes");
                osb_response_release(&resp);
        }
        /* an error status over the cap stays a failure to retry */
        canned(500, big, sizeof(big));
        struct osb_response resp = {.retry_after_s = -1};
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(osb_client_provision(oc, "i1", NULL, NULL, &resp, &err), -E2BIG);
        ck_assert_ptr_nonnull(strstr(err.text, "the response is larger than 4096 bytes"));
}
END_TEST

START_TEST(last_operation_that_cannot_be_read_or_has_an_unknown_state_is_refused)
{
        struct {
                const char *body, *text;
        } cases[] = {
                {"{\"state\":\"in progress\"", "the broker's response to last_operation was not valid JSON (line 1, column 22, 22 bytes)"},
                {"<html>" SECRET "</html>", "the broker's response to last_operation was not valid JSON (line 1, column 1, 22 bytes)"},
                {"", "the broker's response to last_operation was empty"},
                {"[\"" SECRET "\"]", "the broker's response to last_operation was not a JSON object (an array, 13 bytes)"},
                {"{\"description\":\"" SECRET "\"}", "the broker's response to last_operation has no \"state\" (27 bytes)"},
                {"{\"state\":1}", "the broker's response to last_operation has a \"state\" that is a number, not a string (11 bytes)"},
                {"{\"state\":\"" SECRET "\"}", "the broker's response to last_operation has a \"state\" of 9 bytes that is not "
                 "\"in progress\", \"succeeded\" or \"failed\""},
                {"{\"state\":\"Succeeded\"}", "the broker's response to last_operation has a \"state\" of 9 bytes that is not "
                 "\"in progress\", \"succeeded\" or \"failed\""},
        };
        for (size_t i = 0; i < OSB_ELEMENTSOF(cases); i++) {
                canned(200, cases[i].body, strlen(cases[i].body));
                struct osb_response resp = {.retry_after_s = -1};
                struct osb_error err = OSB_ERROR_INIT;
                ck_assert_int_eq(osb_client_last_operation(oc, "i1", NULL, "s", "p", "op", NULL, &resp, &err), 0);
                enum osb_response_state st;
                const char *desc = "untouched";
                ck_assert_int_eq(osb_response_last_operation(&resp, "last_operation", &st, &desc, &err), -EBADMSG);
                ck_assert_ptr_null(desc);
                ck_assert_str_eq(err.text, cases[i].text);
                assert_summary(err.text, "last_operation");
                osb_response_release(&resp);
        }
        const char *const states[] = {"in progress", "succeeded", "failed"};
        const enum osb_response_state want[] = {OSB_RESPONSE_IN_PROGRESS, OSB_RESPONSE_SUCCEEDED, OSB_RESPONSE_FAILED};
        for (size_t i = 0; i < OSB_ELEMENTSOF(states); i++) {
                char body[100];
                (void) snprintf(body, sizeof(body), "{\"state\":\"%s\",\"description\":\"d\"}", states[i]);
                canned(200, body, strlen(body));
                struct osb_response resp = {.retry_after_s = -1};
                struct osb_error err = OSB_ERROR_INIT;
                ck_assert_int_eq(osb_client_last_operation(oc, "i1", "b1", NULL, NULL, NULL, NULL, &resp, &err), 0);
                enum osb_response_state st;
                const char *desc = NULL;
                ck_assert_int_eq(osb_response_last_operation(&resp, "last_operation", &st, &desc, &err), 0);
                ck_assert_int_eq(st, want[i]);
                ck_assert_str_eq(desc, "d");
                osb_response_release(&resp);
        }
}
END_TEST

/* Retry-After is the broker's number: one past a day (or past what a long holds) is read as a
 * day, so no wait computed from it can overflow; one that is not a number of seconds is none. */
START_TEST(retry_after_is_read_up_to_a_day_and_ignored_when_not_a_number)
{
        struct {
                const char *header;
                long want;
        } cases[] = {
                {"5", 5},
                {"0", 0},
                {"86400", 86400},
                {"86401", 86400},
                {"9223372036854775807", 86400},
                {"99999999999999999999999999", 86400},
                {"-5", -1},
                {"-99999999999999999999999999", -1},
                {"soon", -1},
                {"5 s", -1},
                {"", -1},
        };
        static const char body[] = "{\"state\":\"in progress\"}";
        for (size_t i = 0; i < OSB_ELEMENTSOF(cases); i++) {
                pthread_mutex_lock(&canned_lock);
                canned_retry_after = cases[i].header;
                pthread_mutex_unlock(&canned_lock);
                canned(200, body, sizeof(body) - 1);
                struct osb_response resp = {.retry_after_s = -1};
                struct osb_error err = OSB_ERROR_INIT;
                ck_assert_int_eq(osb_client_last_operation(oc, "i1", NULL, "s", "p", "op", NULL, &resp, &err), 0);
                ck_assert_msg(resp.retry_after_s == cases[i].want, "Retry-After '%s': %ld, want %ld",
                              cases[i].header, (long) resp.retry_after_s, cases[i].want);
                osb_response_release(&resp);
        }
        pthread_mutex_lock(&canned_lock);
        canned_retry_after = NULL;
        pthread_mutex_unlock(&canned_lock);
}
END_TEST

START_TEST(catalog_that_cannot_be_read_is_refused_without_quoting_it)
{
        const char *const bodies[] = {"{\"services\":[{\"name\":\"" SECRET "\"}]", "{\"services\":\"" SECRET "\"}",
                                      ("[\"" SECRET "\"]"), ("{\"services\":[]} " SECRET)};
        for (size_t i = 0; i < OSB_ELEMENTSOF(bodies); i++) {
                canned(200, bodies[i], strlen(bodies[i]));
                json_t *cat = NULL;
                struct osb_error err = OSB_ERROR_INIT;
                ck_assert_int_eq(osb_client_get_catalog(oc, &cat, &err), -EBADMSG);
                ck_assert_ptr_null(cat);
                assert_summary(err.text, "GET /v2/catalog");
        }
        canned(200, "{\"services\":[]}", 15);
        json_t *cat = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(osb_client_get_catalog(oc, &cat, &err), 0);
        ck_assert(json_is_array(json_object_get(cat, "services")));
        json_decref(cat);
}
END_TEST

/* The OSB "error" and "description" are the only bytes of an answer ever shown (spec: meant for
 * people), and only bounded: an error code that is not a word is dropped, a description loses
 * its control characters (no forged log lines) and is cut. */
START_TEST(error_and_description_are_shown_only_as_a_word_and_a_bounded_line)
{
        static char body[4000];
        char desc[2600];
        memset(desc, 'd', sizeof(desc));
        static const char start[] = "first\\nmsg=\\\"forged\\\" \\u001b[31m";   /* JSON escapes */
        memcpy(desc, start, sizeof(start) - 1);
        desc[sizeof(desc) - 1] = '\0';
        (void) snprintf(body, sizeof(body), "{\"error\":\"Bad {\\\"password\\\":\\\"" SECRET "\\\"}\",\"description\":\"%s\"}",
                        desc);
        canned(500, body, strlen(body));
        struct osb_response resp = {.retry_after_s = -1};
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(osb_client_bind(oc, "i1", "b1", NULL, false, NULL, &resp, &err) == 0, "%s", err.text);
        ck_assert_ptr_nonnull(resp.body);
        ck_assert_ptr_null(resp.error);
        ck_assert_ptr_nonnull(resp.description);
        ck_assert_uint_eq(strlen(resp.description), OSB_RESPONSE_TEXT_MAX + 3);
        ck_assert(strncmp(resp.description, "first msg=\"forged\"  [31mddd", 27) == 0);
        ck_assert_str_eq(resp.description + OSB_RESPONSE_TEXT_MAX, "...");
        char d[1000];
        osb_response_describe(&resp, d, sizeof(d));
        ck_assert_ptr_null(strstr(d, SECRET));
        ck_assert_ptr_null(strchr(d, '\n'));
        osb_response_release(&resp);
        /* an OSB error code is kept */
        static const char ok[] = "{\"error\":\"ConcurrencyError\",\"description\":\"busy\"}";
        canned(422, ok, sizeof(ok) - 1);
        ck_assert_int_eq(osb_client_bind(oc, "i1", "b1", NULL, false, NULL, &resp, &err), 0);
        ck_assert_str_eq(resp.error, "ConcurrencyError");
        ck_assert_str_eq(resp.description, "busy");
        osb_response_describe(&resp, d, sizeof(d));
        ck_assert_str_eq(d, "the broker answered 422 ConcurrencyError: busy");
        osb_response_release(&resp);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("catalog_controller_osb");
        TCase *tc = tcase_create("hostile broker");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, bind_success_that_cannot_be_read_is_refused_without_quoting_it);
        tcase_add_test(tc, bind_summary_says_where_and_how_long);
        tcase_add_test(tc, bind_success_that_can_be_read_gives_its_credentials);
        tcase_add_test(tc, bind_expiry_reads_utc_and_numeric_offsets_and_ignores_the_rest);
        tcase_add_test(tc, provision_success_that_cannot_be_read_is_refused);
        tcase_add_test(tc, success_over_the_size_cap_is_an_unreadable_answer);
        tcase_add_test(tc, an_operation_or_dashboard_url_over_the_limit_drops_the_answer);
        tcase_add_test(tc, last_operation_that_cannot_be_read_or_has_an_unknown_state_is_refused);
        tcase_add_test(tc, retry_after_is_read_up_to_a_day_and_ignored_when_not_a_number);
        tcase_add_test(tc, catalog_that_cannot_be_read_is_refused_without_quoting_it);
        tcase_add_test(tc, error_and_description_are_shown_only_as_a_word_and_a_bounded_line);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(suite)
