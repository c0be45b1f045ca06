/* test/unit/check_template.c: spec.secretTemplate's template language: the exact output of
 * fields, literals, functions, pipes, conditionals and trimming; every error with its line and
 * column and without a credential's value in it; hostile templates (deep nesting, huge output,
 * many steps, unknown functions, unterminated actions); allocation failures. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_mem.h"
#include "catalog-controller/template.h"
#include "test/lib/check_main.h"

#define SECRET "s3cr3t-VALUE"

static const char input_text[] =
        "{\"credentials\":{\"user\":\"admin\",\"password\":\"" SECRET "\",\"port\":5432,\"tls\":false,"
        "\"nested\":{\"host\":\"db.local\",\"list\":[1,\"two\"]},\"client-id\":\"cid\",\"empty\":\"\"},"
        "\"instance\":{\"instance_name\":\"db\",\"plan\":\"small\",\"tags\":[\"sql\",\"pg\"]}}";

static json_t *input(void)
{
        json_t *j = json_loads(input_text, 0, NULL);
        ck_assert_ptr_nonnull(j);
        return j;
}

static const struct {
        const char *tpl, *want;
} renders[] = {
        {"plain text, no actions\n", "plain text, no actions\n"},
        {"", ""},
        {"u={{ .credentials.user }} p={{.credentials.password}}", "u=admin p=" SECRET},
        {"{{ .credentials.port }} {{ .credentials.tls }} {{ .credentials.nested }}",
         "5432 false {\"host\":\"db.local\",\"list\":[1,\"two\"]}"},
        {"{{ .credentials.nested.host }}:{{ .credentials.port }}", "db.local:5432"},
        {"{{ .instance.tags }}", "[\"sql\",\"pg\"]"},
        {"{{ \"a\\tb\\n\\\"q\\\"\\x41\" }}|{{ `raw\\n` }}|{{ 7 }}|{{ -3 }}|{{ true }}", "a\tb\n\"q\"A|raw\\n|7|-3|true"},
        {"{{ base64 .credentials.user }} {{ .credentials.user | b64enc }}", "YWRtaW4= YWRtaW4="},
        {"{{ base64 .credentials.port }}", "NTQzMg=="},
        {"{{ json .credentials.nested }} {{ .credentials.user | toJson }}",
         "{\"host\":\"db.local\",\"list\":[1,\"two\"]} \"admin\""},
        {"{{ quote .credentials.user }} {{ \"a\\\"b\\nc\" | quote }} {{ quote .credentials.port }}",
         "\"admin\" \"a\\\"b\\nc\" \"5432\""},
        {"{{ default \"none\" .credentials.missing }} {{ .credentials.empty | default \"e\" }} {{ default \"x\" .credentials.user }}",
         "none e admin"},
        {"{{ index .credentials \"client-id\" }} {{ index .credentials.nested \"list\" 1 }}", "cid two"},
        {"{{ index .credentials \"nope\" | default \"d\" }}", "d"},
        {"{{ if .credentials.user }}yes{{ end }}", "yes"},
        {"{{ if .credentials.missing }}yes{{ else }}no{{ end }}", "no"},
        {"{{ if .credentials.tls }}a{{ else if eq .instance.plan \"small\" }}b{{ else }}c{{ end }}", "b"},
        {"{{ if eq .instance.plan \"large\" }}a{{ else if .credentials.tls }}b{{ else }}c{{ end }}", "c"},
        {"{{ if not .credentials.tls }}off{{ end }}{{ if ne .credentials.port 5432 }}x{{ end }}", "off"},
        {"{{ if and .credentials.user .credentials.port }}both{{ end }}{{ if or .credentials.tls .credentials.empty }}x{{ end }}",
         "both"},
        {"{{ if .credentials.user }}{{ if .credentials.tls }}x{{ else }}{{ .credentials.user }}{{ end }}{{ end }}", "admin"},
        /* the branch not taken is not evaluated: a missing value there is no error */
        {"{{ if .credentials.tls }}{{ .credentials.missing }}{{ end }}ok", "ok"},
        {"a  \n  {{- .credentials.user -}}  \n  b", "aadminb"},
        {"x {{/* a comment */}}y{{- /* trimmed */ -}} z", "x yz"},
        {"{{ (default \"p\" .credentials.missing) | quote }}", "\"p\""},
        {"{{ . | json }}", input_text},
        {"a {{ \"}}\" }} b", "a }} b"},
        {"stringData:\n  USER: {{ .credentials.user | quote }}\n  URL: \"postgres://{{ .credentials.nested.host }}:{{ .credentials.port }}\"\n",
         "stringData:\n  USER: \"admin\"\n  URL: \"postgres://db.local:5432\"\n"},
};

START_TEST(renders_exactly)
{
        json_t *in = input();
        struct osb_error err = OSB_ERROR_INIT;
        char *got = NULL;
        size_t n = 0;
        int r = template_render(renders[_i].tpl, strlen(renders[_i].tpl), in, 1u << 20, &got, &n, &err);
        ck_assert_msg(r == 0, "%s: r=%d %s", renders[_i].tpl, r, err.text);
        ck_assert_str_eq(got, renders[_i].want);
        ck_assert_uint_eq(n, strlen(renders[_i].want));
        osb_free(got);
        json_decref(in);
}
END_TEST

static const struct {
        const char *tpl;
        int code;
        const char *msg;
} errors[] = {
        {"{{ .credentials.missing }}", -EINVAL, "line 1 column 4: '.credentials.missing' has no value (use default or if)"},
        {"a\nbc {{ nope .credentials.user }}", -EINVAL, "line 2 column 7: unknown function 'nope'"},
        {"{{ if .credentials.tls }}{{ nope }}{{ end }}", -EINVAL, "line 1 column 29: unknown function 'nope'"},
        {"x {{ .credentials.user", -EINVAL, "line 1 column 23: unterminated action: expected }}"},
        {"{{ \"abc }}", -EINVAL, "line 1 column 4: unterminated string"},
        {"{{ if .credentials.user }}yes", -EINVAL, "line 1 column 4: if without end"},
        {"a{{ end }}", -EINVAL, "line 1 column 5: end without if"},
        {"{{ else }}", -EINVAL, "line 1 column 4: else without if"},
        {"{{ if .a }}1{{ else }}2{{ else }}3{{ end }}", -EINVAL, "line 1 column 27: else after else"},
        {"{{ if }}x{{ end }}", -EINVAL, "line 1 column 7: if needs a condition"},
        {"{{ }}", -EINVAL, "line 1 column 1: empty action"},
        {"{{ range .credentials }}x{{ end }}", -EINVAL, "line 1 column 4: 'range' is not supported (only if, else and end)"},
        {"{{ base64 }}", -EINVAL, "line 1 column 4: base64 takes 1 argument, not 0"},
        {"{{ default \"a\" }}", -EINVAL, "line 1 column 4: default takes 2 arguments, not 1"},
        {"{{ .credentials.user | .credentials.port }}", -EINVAL, "line 1 column 24: only a function can follow '|'"},
        {"{{ base64 default \"a\" .b }}", -EINVAL, "line 1 column 11: a function call as an argument needs parentheses"},
        {"{{ base64 .credentials.missing }}", -EINVAL, "line 1 column 4: the argument of base64 has no value (use default or if)"},
        {"{{ .credentials.user }} {{ 1.5 }}", -EINVAL, "line 1 column 28: only whole numbers are supported"},
        {"{{ \"\\q\" }}", -EINVAL, "line 1 column 5: unknown escape in a string"},
        {"{{ (.credentials.user }}", -EINVAL, "line 1 column 23: expected ')'"},
        {"{{ .credentials.user ! }}", -EINVAL, "line 1 column 22: unexpected '!' (expected }})"},
        {"{{/* open", -EINVAL, "line 1 column 1: unterminated comment"},
        {"a{{-}}", -EINVAL, "line 1 column 4: expected a number after '-'"},
        {"a{{", -EINVAL, "line 1 column 4: unterminated action: expected }}"},
        {"{{ index .credentials true }}", -EINVAL, "line 1 column 4: index: argument 2 is a boolean, not a string or an integer"},
};

START_TEST(errors_name_line_and_column_and_never_a_value)
{
        json_t *in = input();
        struct osb_error err = OSB_ERROR_INIT;
        char *got = (char *) "untouched";
        int r = template_render(errors[_i].tpl, strlen(errors[_i].tpl), in, 1u << 20, &got, NULL, &err);
        ck_assert_msg(r == errors[_i].code, "%s: r=%d %s", errors[_i].tpl, r, err.text);
        ck_assert_str_eq(err.text, errors[_i].msg);
        ck_assert_str_eq(got, "untouched");
        ck_assert_ptr_null(strstr(err.text, SECRET));
        json_decref(in);
}
END_TEST

/* Writing or encoding the secret value wrongly never puts it in the message. */
START_TEST(a_bad_value_is_named_by_its_type_not_its_bytes)
{
        json_t *in = json_pack("{s:{}}", "credentials");
        ck_assert_ptr_nonnull(in);
        json_object_set_new(json_object_get(in, "credentials"), "bin",
                            json_stringn_nocheck(SECRET "\xff", strlen(SECRET) + 1));
        struct osb_error err = OSB_ERROR_INIT;
        char *got = NULL;
        const char *tpl = "{{ .credentials | json }}";
        ck_assert_int_eq(template_render(tpl, strlen(tpl), in, 1u << 20, &got, NULL, &err), -EINVAL);
        ck_assert_str_eq(err.text, "line 1 column 19: json: the value holds a string that is not UTF-8");
        tpl = "{{ .credentials.bin | quote }}";
        ck_assert_int_eq(template_render(tpl, strlen(tpl), in, 1u << 20, &got, NULL, &err), -EINVAL);
        ck_assert_ptr_null(strstr(err.text, SECRET));
        json_decref(in);
}
END_TEST

START_TEST(deep_nesting_is_refused)
{
        char tpl[4096] = "";
        size_t n = 0;
        for (int i = 0; i < TEMPLATE_MAX_DEPTH + 1; i++)
                n += (size_t) snprintf(tpl + n, sizeof(tpl) - n, "{{if true}}");
        struct osb_error err = OSB_ERROR_INIT;
        char *got = NULL;
        ck_assert_int_eq(template_render(tpl, n, NULL, 1u << 20, &got, NULL, &err), -EINVAL);
        ck_assert_str_eq(err.text, "line 1 column 355: nested more than 32 deep");
        /* parentheses count too */
        n = 0;
        n += (size_t) snprintf(tpl, sizeof(tpl), "{{ ");
        for (int i = 0; i < 100; i++)
                tpl[n++] = '(';
        tpl[n] = '\0';
        ck_assert_int_eq(template_render(tpl, n, NULL, 1u << 20, &got, NULL, &err), -EINVAL);
        ck_assert_str_eq(err.text, "line 1 column 36: nested more than 32 deep");
        /* 32 deep is fine */
        n = 0;
        for (int i = 0; i < TEMPLATE_MAX_DEPTH; i++)
                n += (size_t) snprintf(tpl + n, sizeof(tpl) - n, "{{if true}}");
        n += (size_t) snprintf(tpl + n, sizeof(tpl) - n, "deep");
        for (int i = 0; i < TEMPLATE_MAX_DEPTH; i++)
                n += (size_t) snprintf(tpl + n, sizeof(tpl) - n, "{{end}}");
        ck_assert_int_eq(template_render(tpl, n, NULL, 1u << 20, &got, NULL, &err), 0);
        ck_assert_str_eq(got, "deep");
        osb_free(got);
}
END_TEST

START_TEST(output_and_size_are_bounded)
{
        /* 4 KiB of template writing a 4 KiB value 1000 times: 4 MB wanted, 1 MiB allowed */
        json_t *in = json_pack("{s:s}", "big", "");
        char *big = osb_malloc(4096 + 1);
        memset(big, 'x', 4096);
        big[4096] = '\0';
        json_object_set_new(in, "big", json_string(big));
        osb_free(big);
        char *tpl = osb_malloc(12 * 1000 + 1);
        size_t n = 0;
        for (int i = 0; i < 1000; i++)
                n += (size_t) snprintf(tpl + n, 13, "{{ .big }}\n");
        struct osb_error err = OSB_ERROR_INIT;
        char *got = (char *) "untouched";
        ck_assert_int_eq(template_render(tpl, n, in, 1u << 20, &got, NULL, &err), -E2BIG);
        ck_assert_str_eq(err.text, "line 256 column 4: the output passes 1048576 bytes");
        ck_assert_str_eq(got, "untouched");
        osb_free(tpl);
        /* the template itself */
        size_t huge = TEMPLATE_MAX_TEXT + 1;
        tpl = osb_malloc(huge);
        memset(tpl, 'a', huge);
        ck_assert_int_eq(template_render(tpl, huge, in, 1u << 20, &got, NULL, &err), -E2BIG);
        ck_assert_str_eq(err.text, "the template has 65537 bytes, more than 65536");
        osb_free(tpl);
        json_decref(in);
}
END_TEST

START_TEST(steps_are_bounded)
{
        /* every action and every call is a step: 10001 calls in one pipeline (40 KiB) */
        size_t cap = 4 * (TEMPLATE_MAX_STEPS + 1) + 16, n = 0;
        char *tpl = osb_malloc(cap);
        n += (size_t) snprintf(tpl, cap, "{{ 1");
        for (int i = 0; i < TEMPLATE_MAX_STEPS + 1; i++)
                n += (size_t) snprintf(tpl + n, cap - n, "|not");
        n += (size_t) snprintf(tpl + n, cap - n, " }}");
        struct osb_error err = OSB_ERROR_INIT;
        char *got = (char *) "untouched";
        ck_assert_int_eq(template_render(tpl, n, NULL, 1u << 20, &got, NULL, &err), -EINVAL);
        ck_assert_str_eq(err.text, "line 1 column 40002: more than 10000 steps");
        ck_assert_str_eq(got, "untouched");
        /* one call fewer (and the action itself) is within the limit */
        n = (size_t) snprintf(tpl, cap, "{{ 1");
        for (int i = 0; i < TEMPLATE_MAX_STEPS - 1; i++)
                n += (size_t) snprintf(tpl + n, cap - n, "|not");
        n += (size_t) snprintf(tpl + n, cap - n, " }}");
        ck_assert_int_eq(template_render(tpl, n, NULL, 1u << 20, &got, NULL, &err), 0);
        ck_assert_str_eq(got, "false");   /* 9999 nots of 1 */
        osb_free(got);
        osb_free(tpl);
}
END_TEST

START_TEST(work_is_bounded)
{
        /* each json doubles the backslashes: without a bound on what functions make, 40 of
         * them would need terabytes */
        json_t *in = json_pack("{s:s}", "q", "\"");
        char tpl[600];
        size_t n = (size_t) snprintf(tpl, sizeof(tpl), "{{ if .q");
        for (int i = 0; i < 40; i++)
                n += (size_t) snprintf(tpl + n, sizeof(tpl) - n, "|json");
        n += (size_t) snprintf(tpl + n, sizeof(tpl) - n, " }}x{{ end }}");
        struct osb_error err = OSB_ERROR_INIT;
        char *got = (char *) "untouched";
        ck_assert_int_eq(template_render(tpl, n, in, 1024, &got, NULL, &err), -E2BIG);
        ck_assert_str_eq(err.text, "line 1 column 60: the functions' results pass 8192 bytes");
        ck_assert_str_eq(got, "untouched");
        /* comparing large strings is work too; comparing objects is refused */
        const char *cmp = "{{ if eq .q .q }}{{ end }}";
        json_object_set_new(in, "q", json_string("0123456789012345678901234567890123456789"));  /* 2 x 40 > 64 */
        ck_assert_int_eq(template_render(cmp, strlen(cmp), in, 8, &got, NULL, &err), -E2BIG);
        cmp = "{{ eq . . }}";
        ck_assert_int_eq(template_render(cmp, strlen(cmp), in, 1024, &got, NULL, &err), -EINVAL);
        ck_assert_str_eq(err.text, "line 1 column 4: eq and ne compare strings, numbers, booleans and nil, not an object");
        json_decref(in);
}
END_TEST

START_TEST(every_allocation_failure_is_enomem_or_exact)
{
        json_t *in = input();
        static const char tpl[] = "{{ if .credentials.user }}{{ .credentials.nested | json | quote }} "
                                  "{{ base64 .credentials.user }}{{ end }} {{ index .credentials \"client-id\" }}";
        static const char want[] = "\"{\\\"host\\\":\\\"db.local\\\",\\\"list\\\":[1,\\\"two\\\"]}\" YWRtaW4= cid";
        char *got = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        osb_mem_fail_at(SIZE_MAX);
        ck_assert_int_eq(template_render(tpl, strlen(tpl), in, 1u << 20, &got, NULL, &err), 0);
        ck_assert_str_eq(got, want);
        osb_free(got);
        size_t n = osb_mem_allocs();
        for (size_t i = 0; i < n; i++) {
                got = (char *) "untouched";
                osb_mem_fail_at(i);
                int r = template_render(tpl, strlen(tpl), in, 1u << 20, &got, NULL, &err);
                osb_mem_fail_at(SIZE_MAX);
                if (r == 0) {
                        ck_assert_str_eq(got, want);
                        osb_free(got);
                        continue;
                }
                ck_assert_msg(r == -ENOMEM, "allocation %zu: r=%d (%s)", i, r, err.text);
                ck_assert_str_eq(got, "untouched");
        }
        json_decref(in);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("template");
        TCase *tc = tcase_create("render");
        tcase_add_loop_test(tc, renders_exactly, 0, (int) OSB_ELEMENTSOF(renders));
        suite_add_tcase(s, tc);
        tc = tcase_create("errors");
        tcase_add_loop_test(tc, errors_name_line_and_column_and_never_a_value, 0, (int) OSB_ELEMENTSOF(errors));
        tcase_add_test(tc, a_bad_value_is_named_by_its_type_not_its_bytes);
        suite_add_tcase(s, tc);
        tc = tcase_create("hostile");
        tcase_add_test(tc, deep_nesting_is_refused);
        tcase_add_test(tc, output_and_size_are_bounded);
        tcase_add_test(tc, steps_are_bounded);
        tcase_add_test(tc, work_is_bounded);
        suite_add_tcase(s, tc);
        tc = tcase_create("oom");
        tcase_add_test(tc, every_allocation_failure_is_enomem_or_exact);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(suite)
