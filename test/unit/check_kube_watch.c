/* test/unit/check_kube_watch.c: the watch-stream parser (kube/watch.c) on its own: framing
 * across arbitrary chunk boundaries, event types, ERROR events, limits. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_buf.h"
#include "common/osb_mem.h"
#include "kube/watch.h"
#include "test/lib/check_main.h"

/* What the callback saw, one "TYPE name rv" line per event. */
struct seen {
        struct osb_buf log;
        int stop_at;     /* return stop_code at this event (1-based); 0: never */
        int stop_code;
        int calls;
};

static int record(enum kube_event_type type, json_t *obj, void *userdata)
{
        struct seen *s = userdata;
        json_t *meta = json_object_get(obj, "metadata");
        const char *name = json_string_value(json_object_get(meta, "name"));
        const char *rv = json_string_value(json_object_get(meta, "resourceVersion"));
        s->calls++;
        ck_assert_int_eq(osb_buf_appendf(&s->log, "%s %s %s\n", kube_event_type_name(type),
                                         name ? name : "-", rv ? rv : "-"), 0);
        if (s->stop_at && s->calls == s->stop_at)
                return s->stop_code;
        return 0;
}

static void seen_init(struct seen *s)
{
        *s = (struct seen){.stop_at = 0};
        osb_buf_init(&s->log, 1 << 20);
}

/* An event whose strings hold braces, brackets, escaped quotes and backslashes, and a
 * multi-line (pretty-printed) one, so only real JSON nesting can frame them. */
static const char stream[] =
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"1\"},"
        "\"data\":{\"k\":\"}{][\\\"\\\\\",\"l\":[1,{\"m\":[]}]}}}\n"
        "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"b\",\"resourceVersion\":\"2\"},"
        "\"s\":\"\\\\\"}}\r\n"
        "{\n  \"type\": \"DELETED\",\n  \"object\": {\"metadata\": {\"name\": \"a\", "
        "\"resourceVersion\": \"3\"}}\n}\n"
        "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Secret\",\"metadata\":{\"resourceVersion\":\"7\"}}}"
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"\\u007d\",\"resourceVersion\":\"8\"}}}\n";
static const char stream_log[] =
        "ADDED a 1\n"
        "MODIFIED b 2\n"
        "DELETED a 3\n"
        "BOOKMARK - 7\n"
        "ADDED } 8\n";

static int feed_in_chunks(const char *data, size_t len, size_t chunk, struct seen *s,
                          char **ret_rv, struct osb_error *err)
{
        struct kube_watch_parser p;
        kube_watch_parser_init(&p, 0, record, s);
        int r = 0;
        for (size_t off = 0; off < len && r == 0; off += chunk)
                r = kube_watch_parser_feed(&p, data + off, OSB_MIN(chunk, len - off), err);
        if (r == 0)
                r = kube_watch_parser_finish(&p, err);
        if (r == 0 && ret_rv)
                *ret_rv = OSB_TAKE_PTR(p.resource_version);
        kube_watch_parser_release(&p);
        return r;
}

START_TEST(events_split_at_every_chunk_size_arrive_whole_and_in_order)
{
        size_t len = sizeof(stream) - 1;
        for (size_t chunk = 1; chunk <= len; chunk++) {
                struct seen s;
                seen_init(&s);
                struct osb_error err = OSB_ERROR_INIT;
                char *rv = NULL;
                int r = feed_in_chunks(stream, len, chunk, &s, &rv, &err);
                ck_assert_msg(r == 0, "chunk %zu: %s", chunk, err.text);
                ck_assert_str_eq(s.log.data, stream_log);
                ck_assert_str_eq(rv, "8");
                osb_free(rv);
                osb_buf_release(&s.log);
        }
}
END_TEST

START_TEST(events_split_at_every_pair_of_positions_arrive_whole)
{
        size_t len = sizeof(stream) - 1;
        for (size_t a = 0; a <= len; a += 3)
                for (size_t b = a; b <= len; b += 7) {
                        struct seen s;
                        seen_init(&s);
                        struct osb_error err = OSB_ERROR_INIT;
                        struct kube_watch_parser p;
                        kube_watch_parser_init(&p, 0, record, &s);
                        ck_assert_int_eq(kube_watch_parser_feed(&p, stream, a, &err), 0);
                        ck_assert_int_eq(kube_watch_parser_feed(&p, stream + a, b - a, &err), 0);
                        ck_assert_int_eq(kube_watch_parser_feed(&p, stream + b, len - b, &err), 0);
                        ck_assert_int_eq(kube_watch_parser_finish(&p, &err), 0);
                        ck_assert_str_eq(s.log.data, stream_log);
                        kube_watch_parser_release(&p);
                        osb_buf_release(&s.log);
                }
}
END_TEST

START_TEST(bookmark_is_delivered_and_moves_the_resource_version)
{
        static const char bm[] =
                "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\","
                "\"metadata\":{\"resourceVersion\":\"12345\",\"annotations\":"
                "{\"k8s.io/initial-events-end\":\"true\"}}}}\n";
        struct seen s;
        seen_init(&s);
        struct osb_error err = OSB_ERROR_INIT;
        char *rv = NULL;
        ck_assert_int_eq(feed_in_chunks(bm, sizeof(bm) - 1, 5, &s, &rv, &err), 0);
        ck_assert_str_eq(s.log.data, "BOOKMARK - 12345\n");
        ck_assert_str_eq(rv, "12345");
        osb_free(rv);
        osb_buf_release(&s.log);
}
END_TEST

START_TEST(error_event_410_is_gone_and_sticks)
{
        static const char ev[] =
                "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"x\",\"resourceVersion\":\"5\"}}}\n"
                "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                "\"status\":\"Failure\",\"message\":\"too old resource version: 5 (9)\","
                "\"reason\":\"Expired\",\"code\":410}}\n"
                "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"never\"}}}\n";
        struct seen s;
        seen_init(&s);
        struct osb_error err = OSB_ERROR_INIT;
        struct kube_watch_parser p;
        kube_watch_parser_init(&p, 0, record, &s);
        ck_assert_int_eq(kube_watch_parser_feed(&p, ev, sizeof(ev) - 1, &err), OSB_E_GONE);
        ck_assert_str_eq(err.text, "watch ERROR event: 410 Expired: too old resource version: 5 (9)");
        ck_assert_str_eq(s.log.data, "ADDED x 5\n");
        ck_assert_int_eq(kube_watch_parser_feed(&p, "\n", 1, &err), OSB_E_GONE);
        ck_assert_int_eq(kube_watch_parser_finish(&p, &err), OSB_E_GONE);
        kube_watch_parser_release(&p);
        osb_buf_release(&s.log);
}
END_TEST

/* kube-apiserver's "Too large resource version" (storage.NewTooLargeResourceVersionError in
 * k8s.io/apiserver: a 504 Timeout Status whose details.causes[0].reason is
 * ResourceVersionTooLarge): the resourceVersion cannot be served either, so OSB_E_GONE (list
 * again, as client-go's reflector does); a 504 without that cause stays OSB_E_UNAVAILABLE. */
START_TEST(error_event_too_large_resource_version_is_gone)
{
        static const char ev[] =
                "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                "\"message\":\"Too large resource version: 120, current: 7\",\"reason\":\"Timeout\","
                "\"details\":{\"causes\":[{\"reason\":\"ResourceVersionTooLarge\",\"message\":\"Too large resource version\"}],"
                "\"retryAfterSeconds\":1},\"code\":504}}\n";
        struct seen s;
        seen_init(&s);
        struct osb_error err = OSB_ERROR_INIT;
        struct kube_watch_parser p;
        kube_watch_parser_init(&p, 0, record, &s);
        ck_assert_int_eq(kube_watch_parser_feed(&p, ev, sizeof(ev) - 1, &err), OSB_E_GONE);
        ck_assert_str_eq(err.text, "watch ERROR event: 504 Timeout: Too large resource version: 120, current: 7");
        kube_watch_parser_release(&p);
        osb_buf_release(&s.log);

        static const char other[] =
                "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"message\":\"slow\",\"reason\":\"Timeout\",\"code\":504}}\n";
        seen_init(&s);
        kube_watch_parser_init(&p, 0, record, &s);
        ck_assert_int_eq(kube_watch_parser_feed(&p, other, sizeof(other) - 1, &err), OSB_E_UNAVAILABLE);
        kube_watch_parser_release(&p);
        osb_buf_release(&s.log);
}
END_TEST

START_TEST(error_event_with_other_codes_maps_like_http)
{
        static const struct {
                const char *ev;
                int code;
        } cases[] = {
                {"{\"type\":\"ERROR\",\"object\":{\"code\":500,\"reason\":\"InternalError\",\"message\":\"boom\"}}", OSB_E_BACKEND},
                {"{\"type\":\"ERROR\",\"object\":{\"code\":403,\"message\":\"no\"}}", -EACCES},
                {"{\"type\":\"ERROR\",\"object\":{}}", OSB_E_BACKEND},
                {"{\"type\":\"ERROR\",\"object\":{\"code\":200}}", OSB_E_BACKEND},
        };
        for (size_t i = 0; i < OSB_ELEMENTSOF(cases); i++) {
                struct seen s;
                seen_init(&s);
                struct osb_error err = OSB_ERROR_INIT;
                ck_assert_int_eq(feed_in_chunks(cases[i].ev, strlen(cases[i].ev), 4, &s, NULL, &err),
                                 cases[i].code);
                ck_assert_msg(strncmp(err.text, "watch ERROR event: ", 19) == 0, "%s", err.text);
                ck_assert_int_eq(s.calls, 0);
                osb_buf_release(&s.log);
        }
}
END_TEST

START_TEST(event_over_the_cap_is_e2big_and_one_at_the_cap_passes)
{
        char ev[300];
        int n = snprintf(ev, sizeof(ev), "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"%0100d\"}}}", 0);
        ck_assert_int_gt(n, 100);
        for (size_t chunk = 1; chunk <= (size_t) n; chunk += 17) {
                struct seen s;
                seen_init(&s);
                struct osb_error err = OSB_ERROR_INIT;
                struct kube_watch_parser p;
                kube_watch_parser_init(&p, (size_t) n, record, &s);
                int r = 0;
                for (size_t off = 0; off < (size_t) n && r == 0; off += chunk)
                        r = kube_watch_parser_feed(&p, ev + off, OSB_MIN(chunk, (size_t) n - off), &err);
                ck_assert_int_eq(r, 0);
                ck_assert_int_eq(s.calls, 1);
                kube_watch_parser_release(&p);

                kube_watch_parser_init(&p, (size_t) n - 1, record, &s);
                r = 0;
                for (size_t off = 0; off < (size_t) n && r == 0; off += chunk)
                        r = kube_watch_parser_feed(&p, ev + off, OSB_MIN(chunk, (size_t) n - off), &err);
                ck_assert_int_eq(r, -E2BIG);
                ck_assert_msg(strstr(err.text, "larger than") != NULL, "%s", err.text);
                ck_assert_int_eq(s.calls, 1);
                ck_assert_int_eq(kube_watch_parser_feed(&p, "{}", 2, &err), -E2BIG);
                kube_watch_parser_release(&p);
                osb_buf_release(&s.log);
        }
}
END_TEST

START_TEST(whitespace_between_events_is_not_buffered)
{
        /* A server that sends keep-alive newlines for ever must not grow our buffer. */
        struct seen s;
        seen_init(&s);
        struct osb_error err = OSB_ERROR_INIT;
        struct kube_watch_parser p;
        kube_watch_parser_init(&p, 16, record, &s);
        char blanks[4096];
        memset(blanks, '\n', sizeof(blanks));
        for (int i = 0; i < 100; i++)
                ck_assert_int_eq(kube_watch_parser_feed(&p, blanks, sizeof(blanks), &err), 0);
        ck_assert_int_eq(p.event.len, 0);
        ck_assert_int_eq(kube_watch_parser_finish(&p, &err), 0);
        kube_watch_parser_release(&p);
        osb_buf_release(&s.log);
}
END_TEST

START_TEST(garbage_is_ebadmsg)
{
        static const struct {
                const char *stream;
                const char *why;
        } cases[] = {
                {"x", "unexpected byte 0x78 between events"},
                {"[1]", "unexpected byte 0x5b"},
                {"{\"type\":\"ADDED\",\"object\":{}}\n]", "unexpected byte 0x5d"},
                {"{\"type\":\"ADDED\",\"object\":{,}}", "malformed watch event 1"},
                {"{\"type\":\"ADDED\"}", "lacks a \"type\" string or an \"object\" object"},
                {"{\"type\":1,\"object\":{}}", "lacks a \"type\""},
                {"{\"type\":\"ADDED\",\"object\":[]}", "lacks"},
                {"{\"type\":\"ADDED\",\"type\":\"ADDED\",\"object\":{}}", "malformed watch event 1"},
        };
        for (size_t i = 0; i < OSB_ELEMENTSOF(cases); i++) {
                struct seen s;
                seen_init(&s);
                struct osb_error err = OSB_ERROR_INIT;
                int r = feed_in_chunks(cases[i].stream, strlen(cases[i].stream), 3, &s, NULL, &err);
                ck_assert_msg(r == -EBADMSG, "'%s': %d", cases[i].stream, r);
                ck_assert_msg(strstr(err.text, cases[i].why) != NULL, "'%s': error '%s' lacks '%s'",
                              cases[i].stream, err.text, cases[i].why);
                osb_buf_release(&s.log);
        }
}
END_TEST

START_TEST(stream_ending_inside_an_event_is_ebadmsg)
{
        static const char *const cuts[] = {"{", "{\"type\":\"ADDED\",\"object\":{\"a\":\"}",
                                           "{\"type\":\"ADDED\",\"object\":{}"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(cuts); i++) {
                struct seen s;
                seen_init(&s);
                struct osb_error err = OSB_ERROR_INIT;
                ck_assert_int_eq(feed_in_chunks(cuts[i], strlen(cuts[i]), 2, &s, NULL, &err), -EBADMSG);
                ck_assert_msg(strstr(err.text, "ended inside event 1") != NULL, "%s", err.text);
                osb_buf_release(&s.log);
        }
}
END_TEST

START_TEST(unknown_event_types_are_skipped)
{
        static const char ev[] =
                "{\"type\":\"FUTURE\",\"object\":{\"metadata\":{\"name\":\"f\",\"resourceVersion\":\"4\"}}}\n"
                "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n";
        struct seen s;
        seen_init(&s);
        struct osb_error err = OSB_ERROR_INIT;
        char *rv = NULL;
        ck_assert_int_eq(feed_in_chunks(ev, sizeof(ev) - 1, 1000, &s, &rv, &err), 0);
        ck_assert_str_eq(s.log.data, "ADDED a -\n");
        ck_assert_ptr_null(rv);
        osb_buf_release(&s.log);
}
END_TEST

START_TEST(callback_stop_code_is_returned)
{
        struct seen s;
        seen_init(&s);
        s.stop_at = 2;
        s.stop_code = -ECANCELED;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(feed_in_chunks(stream, sizeof(stream) - 1, 64, &s, NULL, &err), -ECANCELED);
        ck_assert_int_eq(s.calls, 2);
        ck_assert_msg(strstr(err.text, "MODIFIED event handler stopped the watch") != NULL, "%s", err.text);
        osb_buf_release(&s.log);
}
END_TEST

START_TEST(every_allocation_failure_is_enomem_or_complete)
{
        size_t len = sizeof(stream) - 1;
        bool succeeded = false;
        for (size_t n = 0; !succeeded && n < 10000; n++) {
                struct seen s;
                seen_init(&s);
                struct osb_error err = OSB_ERROR_INIT;
                char *rv = NULL;
                /* The log buffer allocates too: grow it first, outside the injection window. */
                ck_assert_int_eq(osb_buf_append(&s.log, stream, len), 0);
                s.log.len = 0;
                osb_mem_fail_at(n);
                int r = feed_in_chunks(stream, len, 11, &s, &rv, &err);
                osb_mem_fail_at(SIZE_MAX);
                if (r == 0) {
                        ck_assert_str_eq(s.log.data, stream_log);
                        ck_assert_str_eq(rv, "8");
                        succeeded = true;
                } else {
                        ck_assert_msg(r == -ENOMEM, "allocation %zu: %d %s", n, r, err.text);
                }
                osb_free(rv);
                osb_buf_release(&s.log);
        }
        ck_assert(succeeded);
}
END_TEST

static Suite *kube_watch_suite(void)
{
        Suite *s = suite_create("kube_watch");
        TCase *tc = tcase_create("parser");
        tcase_add_test(tc, events_split_at_every_chunk_size_arrive_whole_and_in_order);
        tcase_add_test(tc, events_split_at_every_pair_of_positions_arrive_whole);
        tcase_add_test(tc, bookmark_is_delivered_and_moves_the_resource_version);
        tcase_add_test(tc, error_event_410_is_gone_and_sticks);
        tcase_add_test(tc, error_event_too_large_resource_version_is_gone);
        tcase_add_test(tc, error_event_with_other_codes_maps_like_http);
        tcase_add_test(tc, event_over_the_cap_is_e2big_and_one_at_the_cap_passes);
        tcase_add_test(tc, whitespace_between_events_is_not_buffered);
        tcase_add_test(tc, garbage_is_ebadmsg);
        tcase_add_test(tc, stream_ending_inside_an_event_is_ebadmsg);
        tcase_add_test(tc, unknown_event_types_are_skipped);
        tcase_add_test(tc, callback_stop_code_is_returned);
        tcase_add_test(tc, every_allocation_failure_is_enomem_or_complete);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(kube_watch_suite)
