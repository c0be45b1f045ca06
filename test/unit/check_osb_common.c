/* test/unit/check_osb_common.c: buffers, parsing, settings, errors, JSON helpers, logfmt
 * quoting and URL unescaping from common/. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_buf.h"
#include "common/osb_error.h"
#include "common/osb_http.h"
#include "common/osb_json.h"
#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "common/osb_parse.h"
#include "common/osb_settings.h"
#include "common/osb_time.h"
#include "test/lib/check_main.h"

#include <sys/stat.h>
#include <unistd.h>

START_TEST(buf_append_within_limit)
{
        struct osb_buf b;
        osb_buf_init(&b, 8);
        ck_assert_int_eq(osb_buf_append(&b, "abc", 3), 0);
        ck_assert_int_eq(osb_buf_appendf(&b, "%d", 42), 0);
        ck_assert_str_eq(b.data, "abc42");
        ck_assert_uint_eq(b.len, 5);
        osb_buf_release(&b);
}
END_TEST

START_TEST(buf_append_past_limit_is_e2big_and_unchanged)
{
        struct osb_buf b;
        osb_buf_init(&b, 4);
        ck_assert_int_eq(osb_buf_appends(&b, "abc"), 0);
        ck_assert_int_eq(osb_buf_appends(&b, "de"), -E2BIG);
        ck_assert_int_eq(osb_buf_appendf(&b, "%s", "xyz"), -E2BIG);
        ck_assert_str_eq(b.data, "abc");
        size_t len;
        char *d = osb_buf_detach(&b, &len);
        ck_assert_str_eq(d, "abc");
        ck_assert_uint_eq(len, 3);
        ck_assert_ptr_null(b.data);
        osb_free(d);
}
END_TEST

START_TEST(buf_oom_is_enomem)
{
        struct osb_buf b;
        osb_buf_init(&b, 1024);
        osb_mem_fail_at(0);
        ck_assert_int_eq(osb_buf_appends(&b, "abc"), -ENOMEM);
        osb_mem_fail_at(SIZE_MAX);
        ck_assert_ptr_null(b.data);
        osb_buf_release(&b);
}
END_TEST

START_TEST(parse_int_strict)
{
        int64_t v = 7;
        ck_assert_int_eq(osb_parse_int64("42", 0, 100, &v), 0);
        ck_assert_int_eq(v, 42);
        ck_assert_int_eq(osb_parse_int64("42x", 0, 100, &v), -EINVAL);
        ck_assert_int_eq(osb_parse_int64(" 4", 0, 100, &v), -EINVAL);
        ck_assert_int_eq(osb_parse_int64("", 0, 100, &v), -EINVAL);
        ck_assert_int_eq(osb_parse_int64("101", 0, 100, &v), -ERANGE);
        ck_assert_int_eq(osb_parse_int64("99999999999999999999", 0, INT64_MAX, &v), -ERANGE);
        ck_assert_int_eq(v, 42);
}
END_TEST

START_TEST(parse_int_word_of_a_line)
{
        int64_t v = 7;
        const char *end = NULL;
        ck_assert_int_eq(osb_parse_int64_word(" S 1234 5", 0, 100000, &v, &end), -EINVAL);
        ck_assert_int_eq(osb_parse_int64_word(" \t1234 5", 0, 100000, &v, &end), 0);
        ck_assert_int_eq(v, 1234);
        ck_assert_str_eq(end, " 5");
        ck_assert_int_eq(osb_parse_int64_word("200\r\n", 100, 599, &v, NULL), 0);
        ck_assert_int_eq(v, 200);
        ck_assert_int_eq(osb_parse_int64_word("12abc rest", 0, 100, &v, NULL), -EINVAL);
        ck_assert_int_eq(osb_parse_int64_word("700", 100, 599, &v, NULL), -ERANGE);
        ck_assert_int_eq(osb_parse_int64_word("", 0, 100, &v, NULL), -EINVAL);
        ck_assert_int_eq(osb_parse_int64_word("123456789012345678901234567890", 0, 100, &v, NULL), -EINVAL);
}
END_TEST

START_TEST(parse_size_and_duration)
{
        uint64_t s;
        ck_assert_int_eq(osb_parse_size("64k", UINT64_MAX, &s), 0);
        ck_assert_uint_eq(s, 65536);
        ck_assert_int_eq(osb_parse_size("1m", UINT64_MAX, &s), 0);
        ck_assert_uint_eq(s, 1048576);
        ck_assert_int_eq(osb_parse_size("2g", 1024, &s), -ERANGE);
        ck_assert_int_eq(osb_parse_size("12q", UINT64_MAX, &s), -EINVAL);
        int64_t ms;
        ck_assert_int_eq(osb_parse_duration_ms("500ms", &ms), 0);
        ck_assert_int_eq(ms, 500);
        ck_assert_int_eq(osb_parse_duration_ms("30", &ms), 0);
        ck_assert_int_eq(ms, 30000);
        ck_assert_int_eq(osb_parse_duration_ms("5m", &ms), 0);
        ck_assert_int_eq(ms, 300000);
        ck_assert_int_eq(osb_parse_duration_ms("1h", &ms), 0);
        ck_assert_int_eq(ms, 3600000);
        ck_assert_int_eq(osb_parse_duration_ms("1d", &ms), -EINVAL);
        bool b;
        ck_assert_int_eq(osb_parse_bool("Yes", &b), 0);
        ck_assert(b);
        ck_assert_int_eq(osb_parse_bool("off", &b), 0);
        ck_assert(!b);
        ck_assert_int_eq(osb_parse_bool("maybe", &b), -EINVAL);
}
END_TEST

static char *t_name;
static int64_t t_port;
static bool t_flag;
static int64_t t_timeout;
static const struct osb_setting t_settings[] = {
        {"name", "T_OSB_NAME", OSB_SETTING_STRING, "dflt", "NAME", "A name.", &t_name, 0, 0},
        {"port", "T_OSB_PORT", OSB_SETTING_INT, "8080", "PORT", "A port.", &t_port, 0, 65535},
        {"flag", NULL, OSB_SETTING_BOOL, "false", NULL, "A flag.", &t_flag, 0, 0},
        {"timeout", NULL, OSB_SETTING_DURATION, "10s", "D", "A timeout.", &t_timeout, 0, 0},
};
static const struct osb_program t_prog = {"tprog", "A test program.", NULL};

START_TEST(time_rfc3339_parses_what_kubernetes_and_brokers_write_and_nothing_else)
{
        time_t t = 0;
        ck_assert_int_eq(osb_time_parse_rfc3339("2024-01-01T00:00:00Z", &t), 0);
        ck_assert_int_eq((long long) t, 1704067200LL);
        /* numeric offsets (a broker's metadata.expires_at): the same instant */
        static const char *const same[] = {"2024-01-01T02:00:00+02:00", "2023-12-31T19:30:00-04:30",
                                           "2024-01-01T00:00:00-00:00", "2024-01-01T00:00:00+00:00",
                                           "2024-01-01T05:45:00.999+05:45", "2023-12-31T00:01:00-23:59"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(same); i++) {
                t = 0;
                ck_assert_msg(osb_time_parse_rfc3339(same[i], &t) == 0, "refused '%s'", same[i]);
                ck_assert_msg(t == 1704067200, "'%s' read as %lld", same[i], (long long) t);
        }
        /* a MicroTime's fraction is dropped */
        ck_assert_int_eq(osb_time_parse_rfc3339("2026-12-07T13:05:09.123456Z", &t), 0);
        ck_assert_int_eq((long long) t, 1796648709LL);
        ck_assert_int_eq(osb_time_parse_rfc3339("1970-01-01T00:00:00.5Z", &t), 0);
        ck_assert_int_eq((long long) t, 0);
        static const char *const bad[] = {
                "", "2024-01-01", "2024-01-01T00:00:00", "2024-01-01T00:00:00z", "2024-01-01t00:00:00Z",
                "2024-01-01T00:00:00+0100", "2024-01-01T00:00:00+1:00", "2024-01-01T00:00:00+01:0",
                "2024-01-01T00:00:00+24:00", "2024-01-01T00:00:00+01:60", "2024-01-01T00:00:00+01:00x",
                "2024-01-01T00:00:00+01:00Z", "2024-01-01T00:00:00Z+01:00", "2024-01-01T00:00:00 +01:00",
                "2024-01-01T00:00:00+", "2024-01-01T00:00:00-", "2024-01-01T00:00:00.+01:00",
                "2024-01-01 00:00:00Z", " 2024-01-01T00:00:00Z", "2024-1-01T00:00:00Z", "+024-01-01T00:00:00Z",
                "2024-13-01T00:00:00Z", "2024-00-01T00:00:00Z", "2024-01-32T00:00:00Z", "2024-01-01T24:00:00Z",
                "2024-01-01T00:60:00Z", "2024-01-01T00:00:61Z", "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00Zx",
                "2024-01-01T00:00:00.1x2Z", "not a time",
        };
        for (size_t i = 0; i < OSB_ELEMENTSOF(bad); i++) {
                t = 42;
                ck_assert_msg(osb_time_parse_rfc3339(bad[i], &t) == -EINVAL, "accepted '%s'", bad[i]);
                ck_assert_int_eq((long long) t, 42);
        }
        ck_assert_int_eq(osb_time_parse_rfc3339(NULL, &t), -EINVAL);
}
END_TEST

START_TEST(time_rfc3339_formats_round_trip)
{
        char out[OSB_TIME_RFC3339_MAX];
        osb_time_format_rfc3339(1796648709, out);
        ck_assert_str_eq(out, "2026-12-07T13:05:09Z");
        struct timespec ts = {.tv_sec = 1796648709, .tv_nsec = 123456789};
        osb_time_format_rfc3339_micro(&ts, out);
        ck_assert_str_eq(out, "2026-12-07T13:05:09.123456Z");
        time_t now = time(NULL), back = 0;
        osb_time_format_rfc3339(now, out);
        ck_assert_int_eq(osb_time_parse_rfc3339(out, &back), 0);
        ck_assert_int_eq((long long) back, (long long) now);
}
END_TEST

START_TEST(settings_precedence_default_env_flag)
{
        struct osb_error err = OSB_ERROR_INIT;
        setenv("T_OSB_NAME", "from-env", 1);
        setenv("T_OSB_PORT", "9000", 1);
        char *argv[] = {(char *) "tprog", (char *) "--port", (char *) "9100", (char *) "--flag", (char *) "--timeout=250ms", NULL};
        ck_assert_int_eq(osb_settings_load(t_settings, 4, &t_prog, 5, argv, &err), 0);
        ck_assert_str_eq(t_name, "from-env");
        ck_assert_int_eq(t_port, 9100);
        ck_assert(t_flag);
        ck_assert_int_eq(t_timeout, 250);
        char *argv2[] = {(char *) "tprog", (char *) "--no-flag", NULL};
        unsetenv("T_OSB_NAME");
        unsetenv("T_OSB_PORT");
        ck_assert_int_eq(osb_settings_load(t_settings, 4, &t_prog, 2, argv2, &err), 0);
        ck_assert_str_eq(t_name, "dflt");
        ck_assert_int_eq(t_port, 8080);
        ck_assert(!t_flag);
        osb_settings_release(t_settings, 4);
        ck_assert_ptr_null(t_name);
}
END_TEST

START_TEST(settings_errors_name_the_flag_or_variable)
{
        struct osb_error err = OSB_ERROR_INIT;
        char *argv[] = {(char *) "tprog", (char *) "--port=70000", NULL};
        ck_assert_int_eq(osb_settings_load(t_settings, 4, &t_prog, 2, argv, &err), OSB_E_BAD_REQUEST);
        ck_assert_ptr_nonnull(strstr(err.text, "--port"));
        ck_assert_ptr_nonnull(strstr(err.text, "out of range"));
        char *argv2[] = {(char *) "tprog", (char *) "--bogus", NULL};
        ck_assert_int_eq(osb_settings_load(t_settings, 4, &t_prog, 2, argv2, &err), OSB_E_BAD_REQUEST);
        ck_assert_ptr_nonnull(strstr(err.text, "unknown option '--bogus'"));
        setenv("T_OSB_PORT", "eighty", 1);
        char *argv3[] = {(char *) "tprog", NULL};
        ck_assert_int_eq(osb_settings_load(t_settings, 4, &t_prog, 1, argv3, &err), OSB_E_BAD_REQUEST);
        ck_assert_ptr_nonnull(strstr(err.text, "environment variable T_OSB_PORT"));
        unsetenv("T_OSB_PORT");
        char *argv4[] = {(char *) "tprog", (char *) "--name", NULL};
        ck_assert_int_eq(osb_settings_load(t_settings, 4, &t_prog, 2, argv4, &err), OSB_E_BAD_REQUEST);
        ck_assert_ptr_nonnull(strstr(err.text, "needs a value"));
        osb_settings_release(t_settings, 4);
}
END_TEST

START_TEST(settings_usage_lists_every_flag)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        osb_settings_usage(t_settings, 4, &t_prog, f);
        fclose(f);
        ck_assert_ptr_nonnull(strstr(text, "Usage: tprog"));
        ck_assert_ptr_nonnull(strstr(text, "--port=PORT"));
        ck_assert_ptr_nonnull(strstr(text, "[env: T_OSB_PORT]"));
        ck_assert_ptr_nonnull(strstr(text, "[default: 8080]"));
        ck_assert_ptr_nonnull(strstr(text, "--flag[=BOOL]"));
        free(text);
}
END_TEST

START_TEST(error_table_maps_status_and_osb_name)
{
        ck_assert_uint_eq(osb_error_http_status(OSB_E_ASYNC_REQUIRED), 422);
        ck_assert_str_eq(osb_error_osb_name(OSB_E_ASYNC_REQUIRED), "AsyncRequired");
        ck_assert_str_eq(osb_error_osb_name(OSB_E_CONCURRENCY), "ConcurrencyError");
        ck_assert_str_eq(osb_error_osb_name(OSB_E_REQUIRES_APP), "RequiresApp");
        ck_assert_str_eq(osb_error_osb_name(OSB_E_MAINT_INFO), "MaintenanceInfoConflict");
        ck_assert_ptr_null(osb_error_osb_name(OSB_E_CONFLICT));
        ck_assert_uint_eq(osb_error_http_status(OSB_E_CONFLICT), 409);
        ck_assert_uint_eq(osb_error_http_status(OSB_E_GONE), 410);
        ck_assert_uint_eq(osb_error_http_status(OSB_E_API_VERSION), 412);
        ck_assert_uint_eq(osb_error_http_status(-ENOMEM), 500);
        ck_assert_uint_eq(osb_error_http_status(-E2BIG), 413);
        ck_assert(osb_error_is_domain(OSB_E_NOT_FOUND));
        ck_assert(!osb_error_is_domain(-EIO));
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(osb_error_set(&err, OSB_E_CONFLICT, "id %s", "x"), OSB_E_CONFLICT);
        osb_error_prefix(&err, "ctx: ");
        ck_assert_str_eq(err.text, "ctx: id x");
}
END_TEST

START_TEST(json_parse_errors_say_where)
{
        struct osb_error err = OSB_ERROR_INIT;
        json_t *j = NULL;
        ck_assert_int_eq(osb_json_parse_object("{\"a\":", 5, &j, &err), OSB_E_BAD_REQUEST);
        ck_assert_ptr_nonnull(strstr(err.text, "line 1"));
        ck_assert_int_eq(osb_json_parse_object("[1]", 3, &j, &err), OSB_E_BAD_REQUEST);
        ck_assert_ptr_nonnull(strstr(err.text, "not an array"));
        ck_assert_int_eq(osb_json_parse_object("{\"a\":1,\"a\":2}", 13, &j, &err), OSB_E_BAD_REQUEST);
        ck_assert_int_eq(osb_json_parse_object("", 0, &j, &err), OSB_E_BAD_REQUEST);
        ck_assert_ptr_null(j);
        ck_assert_int_eq(osb_json_parse_object("{\"s\":\"x\",\"n\":3}", 15, &j, &err), 0);
        const char *s = NULL;
        ck_assert_int_eq(osb_json_get_string(j, "", "s", true, &s, &err), 0);
        ck_assert_str_eq(s, "x");
        ck_assert_int_eq(osb_json_get_string(j, "root", "n", true, &s, &err), OSB_E_BAD_REQUEST);
        ck_assert_str_eq(err.text, "root.n must be a string, not an integer");
        ck_assert_int_eq(osb_json_get_string(j, "", "missing", true, &s, &err), OSB_E_BAD_REQUEST);
        ck_assert_str_eq(err.text, "missing is required");
        s = "untouched";
        ck_assert_int_eq(osb_json_get_string(j, "", "missing", false, &s, &err), 0);
        ck_assert_str_eq(s, "untouched");
        json_decref(j);
}
END_TEST

START_TEST(log_quote_escapes_only_when_needed)
{
        char b[64];
        ck_assert_str_eq(osb_log_quote(b, sizeof(b), "plain"), "plain");
        ck_assert_str_eq(osb_log_quote(b, sizeof(b), "two words"), "\"two words\"");
        ck_assert_str_eq(osb_log_quote(b, sizeof(b), "a\"b\n"), "\"a\\\"b\\n\"");
        ck_assert_str_eq(osb_log_quote(b, sizeof(b), ""), "\"\"");
        ck_assert_str_eq(osb_log_quote(b, sizeof(b), "k=v"), "\"k=v\"");
}
END_TEST

/* What osb_log_write() writes to stderr (fd 2) for one call, captured through a temporary file. */
static size_t log_bytes(enum osb_log_level lvl)
{
        FILE *tmp = tmpfile();
        ck_assert_ptr_nonnull(tmp);
        int saved = dup(STDERR_FILENO);
        ck_assert_int_ge(saved, 0);
        ck_assert_int_ge(dup2(fileno(tmp), STDERR_FILENO), 0);
        osb_log_write(lvl, "probe", "k=%d", 1);
        ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
        close(saved);
        struct stat st;
        ck_assert_int_eq(fstat(fileno(tmp), &st), 0);
        fclose(tmp);
        return (size_t) st.st_size;
}

/* A direct osb_log_write() (a level computed at run time, as in the controller's "cannot record
 * event") honours the level too: no debug line at the default info level. */
START_TEST(log_write_honours_the_level)
{
        enum osb_log_level before = osb_log_get_level();
        osb_log_set_level(OSB_LOG_INFO);
        ck_assert_uint_eq(log_bytes(OSB_LOG_DEBUG), 0);
        ck_assert_uint_gt(log_bytes(OSB_LOG_INFO), 0);
        ck_assert_uint_gt(log_bytes(OSB_LOG_WARN), 0);
        osb_log_set_level(OSB_LOG_DEBUG);
        ck_assert_uint_gt(log_bytes(OSB_LOG_DEBUG), 0);
        osb_log_set_level(OSB_LOG_OFF);
        ck_assert_uint_eq(log_bytes(OSB_LOG_ERROR), 0);
        osb_log_set_level(before);
}
END_TEST

/* Runs osb_log_write(@fmt, ...) with stderr sent to a file; returns what it wrote (new). */
static char *log_capture(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *log_capture(const char *fmt, ...)
{
        char path[] = "/tmp/check_osb_log_XXXXXX";
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        int saved = dup(STDERR_FILENO);
        ck_assert_int_ge(saved, 0);
        ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
        va_list ap;
        va_start(ap, fmt);
        const char *a = va_arg(ap, const char *), *b = va_arg(ap, const char *);
        int n = va_arg(ap, int);
        va_end(ap);
        osb_log_write(OSB_LOG_ERROR, "m", fmt, a, b, n);
        ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
        close(saved);
        char buf[4096];
        ssize_t k = pread(fd, buf, sizeof(buf) - 1, 0);
        close(fd);
        unlink(path);
        ck_assert_int_gt(k, 0);
        buf[k] = '\0';
        return osb_strdup(buf);
}

START_TEST(log_values_are_escaped_by_the_logger_on_one_line)
{
        /* A client's id with a newline, a quote, a key and control bytes cannot forge a line or
         * a key: the logger quotes every %s value itself. */
        osb_autofree char *out = log_capture("id=%s other=%s n=%d", "x\nts=2026 level=error msg=forged\" k=\x01\x1b\x7f",
                                             "plain", 42);
        ck_assert_msg(strchr(out, '\n') == out + strlen(out) - 1, "not one line: %s", out);
        ck_assert_ptr_nonnull(strstr(out, " id=\"x\\nts=2026 level=error msg=forged\\\" k=\\x01\\x1b\\x7f\" other=plain n=42\n"));
        for (const char *p = out; *p; p++)
                ck_assert_msg((unsigned char) *p >= ' ' || *p == '\n', "raw control byte in %s", out);
        /* A NULL value leaves its key out; an empty one is "". */
        const char *volatile absent = NULL;  /* opaque to the compiler's format checks */
        osb_autofree char *out2 = log_capture("a=%s b=%s n=%d", absent, "", 7);
        ck_assert_msg(strstr(out2, "msg=m b=\"\" n=7\n") != NULL, "%s", out2);
        ck_assert_ptr_null(strstr(out2, "a="));
}
END_TEST

START_TEST(json_parse_errors_never_quote_the_input)
{
        struct osb_error err = OSB_ERROR_INIT;
        json_t *j = NULL;
        static const char body[] = "{\"credentials\":{\"password\":\"p\\qsecret\"}}";
        ck_assert_int_eq(osb_json_parse_object(body, sizeof(body) - 1, &j, &err), OSB_E_BAD_REQUEST);
        ck_assert_msg(!strstr(err.text, "secret") && !strstr(err.text, "\\q"), "%s", err.text);
        ck_assert_msg(strstr(err.text, "line 1 column ") && strstr(err.text, "byte "), "%s", err.text);
}
END_TEST

START_TEST(http_unescape_decodes_and_rejects_bad_escapes)
{
        char s[] = "inst%2Fwith%2fslash%20x";
        ck_assert_int_eq(osb_http_unescape(s), 0);
        ck_assert_str_eq(s, "inst/with/slash x");
        char bad[] = "x%2";
        ck_assert_int_eq(osb_http_unescape(bad), -EINVAL);
        char bad2[] = "x%zz";
        ck_assert_int_eq(osb_http_unescape(bad2), -EINVAL);
}
END_TEST

START_TEST(mem_fail_at_fails_exactly_one_allocation)
{
        osb_mem_fail_at(1);
        char *a = osb_strdup("a");
        char *b = osb_strdup("b");
        char *c = osb_strdup("c");
        osb_mem_fail_at(SIZE_MAX);
        ck_assert_ptr_nonnull(a);
        ck_assert_ptr_null(b);
        ck_assert_ptr_nonnull(c);
        osb_free(a);
        osb_free(c);
        char *f = osb_asprintf("%s-%d", "x", 7);
        ck_assert_str_eq(f, "x-7");
        osb_free(f);
}
END_TEST

START_TEST(json_parse_every_allocation_failure_is_enomem_or_exact)
{
        static const char text[] =
                "{\"service_id\":\"a service id that is longer than the lexer's first buffer\","
                "\"parameters\":{\"a\":[1,2.5,{\"b\":\"escapes \\u00e9\\n\\t and a long tail to grow buffers\"}],"
                "\"a key that is itself quite long, to grow the key buffer\":true}}";
        json_t *want = json_loads(text, 0, NULL);
        osb_mem_fail_at(SIZE_MAX);
        json_t *j = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(osb_json_parse_object(text, sizeof(text) - 1, &j, &err), 0);
        json_decref(j);
        size_t n = osb_mem_allocs();
        for (size_t i = 0; i < n; i++) {
                j = NULL;
                osb_mem_fail_at(i);
                int r = osb_json_parse_object(text, sizeof(text) - 1, &j, &err);
                osb_mem_fail_at(SIZE_MAX);
                ck_assert_msg(r == -ENOMEM || (r == 0 && json_equal(j, want)),
                              "allocation %zu: r=%d (%s)", i, r, err.text);
                json_decref(j);
        }
        json_decref(want);
}
END_TEST

/* osb_json_dump() writes its own text for the broker's hot path: byte for byte jansson's
 * json_dumps(JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY), and NULL where jansson fails. */
static void assert_dump_is_janssons(const json_t *j)
{
        const size_t flags = JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY;
        char *want = json_dumps(j, flags);
        size_t len = 0;
        char *got = osb_json_dump(j, &len);
        if (!want) {
                ck_assert_ptr_null(got);
                return;
        }
        ck_assert_ptr_nonnull(got);
        ck_assert_str_eq(got, want);
        ck_assert_uint_eq(len, strlen(want));
        char *line = osb_json_dump_line(j, flags, &len);
        ck_assert_ptr_nonnull(line);
        ck_assert_uint_eq(len, strlen(want) + 1);
        ck_assert_int_eq(memcmp(line, want, len - 1), 0);
        ck_assert_int_eq(line[len - 1], '\n');
        osb_free(line);
        osb_free(got);
        free(want);
}

START_TEST(json_dump_is_byte_for_byte_janssons)
{
        char every_byte[128];
        for (int c = 1; c < 128; c++)
                every_byte[c - 1] = (char) c;
        every_byte[127] = '\0';
        json_t *strings = json_pack("[s,s,s,s,s,s]", every_byte, "", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
                                    "\xef\xbf\xbf\xf4\x8f\xbf\xbf", "a \"quoted\" \\ path/with/slashes", "\x7f");
        ck_assert_ptr_nonnull(strings);
        ck_assert_int_eq(json_array_append_new(strings, json_stringn("nul\0inside", 10)), 0);
        assert_dump_is_janssons(strings);
        json_t *o = json_pack("{s:i,s:I,s:I,s:b,s:b,s:n,s:{},s:[],s:{s:[i,{s:s}]},s:s}", "b", 1, "ab",
                              (json_int_t) INT64_MAX, "a", (json_int_t) INT64_MIN, "B", 1, "", 0, "\xc3\xa9",
                              "a\x01", "[", "nested", "x", -7, "k\n\"", "v\t", "z", every_byte);
        ck_assert_ptr_nonnull(o);
        assert_dump_is_janssons(o);
        json_t *many = json_object();
        for (int i = 40; i > 0; i--) {
                char k[16];
                (void) snprintf(k, sizeof(k), "key%d", i * 7 % 41);
                ck_assert_int_eq(json_object_set_new(many, k, json_integer(i)), 0);
        }
        assert_dump_is_janssons(many);
        ck_assert_int_eq(json_object_set(o, "many", many), 0);
        ck_assert_int_eq(json_object_set(o, "strings", strings), 0);
        assert_dump_is_janssons(o);
        json_t *scalars[] = {json_integer(0), json_true(), json_false(), json_null(), json_string("s"),
                             json_real(2.5), json_real(1e300), json_pack("{s:[f]}", "r", 0.1)};
        for (size_t i = 0; i < OSB_ELEMENTSOF(scalars); i++) {
                assert_dump_is_janssons(scalars[i]);
                json_decref(scalars[i]);
        }
#if JANSSON_VERSION_HEX >= 0x020e00
        json_t *nul_key = json_object();
        ck_assert_int_eq(json_object_setn_new(nul_key, "a\0b", 3, json_true()), 0);
        ck_assert_int_eq(json_object_setn_new(nul_key, "a", 1, json_false()), 0);
        assert_dump_is_janssons(nul_key);
        json_decref(nul_key);
#endif
        json_t *bad = json_stringn_nocheck("\xc3(", 2);
        assert_dump_is_janssons(bad);
        ck_assert_ptr_null(osb_json_dump(bad, NULL));
        json_decref(bad);
        /* every allocation failure: NULL, or the whole text */
        char *want = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        osb_mem_fail_at(SIZE_MAX);
        osb_free(osb_json_dump(o, NULL));
        size_t n = osb_mem_allocs();
        for (size_t i = 0; i < n; i++) {
                osb_mem_fail_at(i);
                char *got = osb_json_dump(o, NULL);
                osb_mem_fail_at(SIZE_MAX);
                ck_assert_msg(!got || strcmp(got, want) == 0, "allocation %zu", i);
                osb_free(got);
        }
        free(want);
        json_decref(many);
        json_decref(strings);
        json_decref(o);
}
END_TEST

static Suite *common_suite(void)
{
        Suite *s = suite_create("osb_common");
        TCase *tc = tcase_create("buf");
        tcase_add_test(tc, buf_append_within_limit);
        tcase_add_test(tc, log_write_honours_the_level);
        tcase_add_test(tc, buf_append_past_limit_is_e2big_and_unchanged);
        tcase_add_test(tc, buf_oom_is_enomem);
        suite_add_tcase(s, tc);
        tc = tcase_create("parse");
        tcase_add_test(tc, parse_int_strict);
        tcase_add_test(tc, parse_int_word_of_a_line);
        tcase_add_test(tc, parse_size_and_duration);
        tcase_add_test(tc, time_rfc3339_parses_what_kubernetes_and_brokers_write_and_nothing_else);
        tcase_add_test(tc, time_rfc3339_formats_round_trip);
        suite_add_tcase(s, tc);
        tc = tcase_create("settings");
        tcase_add_test(tc, settings_precedence_default_env_flag);
        tcase_add_test(tc, settings_errors_name_the_flag_or_variable);
        tcase_add_test(tc, settings_usage_lists_every_flag);
        suite_add_tcase(s, tc);
        tc = tcase_create("error");
        tcase_add_test(tc, error_table_maps_status_and_osb_name);
        suite_add_tcase(s, tc);
        tc = tcase_create("json");
        tcase_add_test(tc, json_parse_errors_say_where);
        tcase_add_test(tc, json_parse_every_allocation_failure_is_enomem_or_exact);
        tcase_add_test(tc, json_dump_is_byte_for_byte_janssons);
        suite_add_tcase(s, tc);
        tc = tcase_create("misc");
        tcase_add_test(tc, log_quote_escapes_only_when_needed);
        tcase_add_test(tc, log_values_are_escaped_by_the_logger_on_one_line);
        tcase_add_test(tc, json_parse_errors_never_quote_the_input);
        tcase_add_test(tc, http_unescape_decodes_and_rejects_bad_escapes);
        tcase_add_test(tc, mem_fail_at_fails_exactly_one_allocation);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(common_suite)
