/* test/unit/check_params.c: instance and binding parameters: the merge of
 * spec.parameters with parametersFrom Secrets, the redacted copy, the SHA-256 checksum (expected
 * values computed with Python's hashlib over the compact, key-sorted JSON), and every error. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_mem.h"
#include "catalog-controller/params.h"
#include "test/lib/check_main.h"

/* A pointer no successful or failed call may leave behind: outputs are written only on success. */
static json_t sentinel;
#define UNTOUCHED (&sentinel)

static json_t *parse(const char *text)
{
        json_error_t jerr;
        json_t *j = json_loads(text, 0, &jerr);
        ck_assert_msg(j != NULL, "fixture %s: %s", text, jerr.text);
        return j;
}

/* Asserts @got is exactly the JSON @want, printing both on a mismatch. */
static void assert_json(const json_t *got, const char *want)
{
        json_t *w = parse(want);
        char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        ck_assert_msg(json_equal(got, w), "got %s, want %s", g, want);
        osb_free(g);
        json_decref(w);
}

static struct params_source src(const char *secret, const char *key, const char *value)
{
        return (struct params_source){.secret_name = secret, .key = key, .value = value, .len = strlen(value)};
}

START_TEST(no_parameters_is_null_with_empty_checksum)
{
        json_t *params = UNTOUCHED, *redacted = UNTOUCHED;
        char sum[65] = "x";
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(params_build(NULL, NULL, 0, &params, &redacted, sum, &err), 0);
        ck_assert_ptr_null(params);
        ck_assert_ptr_null(redacted);
        ck_assert_str_eq(sum, "");
}
END_TEST

START_TEST(json_null_parameters_are_none)
{
        json_t *null = json_null();
        json_t *params = UNTOUCHED, *redacted = UNTOUCHED;
        char sum[65] = "x";
        ck_assert_int_eq(params_build(null, NULL, 0, &params, &redacted, sum, NULL), 0);
        ck_assert_ptr_null(params);
        ck_assert_ptr_null(redacted);
        ck_assert_str_eq(sum, "");
        struct params_source s = src("s", "k", "{\"k\":\"v\"}");
        ck_assert_int_eq(params_build(null, &s, 1, &params, &redacted, sum, NULL), 0);
        assert_json(params, "{\"k\":\"v\"}");
        ck_assert_str_eq(sum, "666c1aa02e8068c6d5cc1d3295009432c16790bec28ec8ce119d0d1a18d61319");
        json_decref(params);
        json_decref(redacted);
}
END_TEST

START_TEST(inline_only_is_copied_and_summed_over_sorted_keys)
{
        json_t *in = parse("{\"b\":1,\"a\":\"x\"}");
        json_t *params = NULL, *redacted = NULL;
        char sum[65];
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(params_build(in, NULL, 0, &params, &redacted, sum, &err), 0);
        assert_json(params, "{\"b\":1,\"a\":\"x\"}");
        assert_json(redacted, "{\"b\":1,\"a\":\"x\"}");
        /* sha256('{"a":"x","b":1}') */
        ck_assert_str_eq(sum, "cdab067e9f3beb32d1252cfd63e492592fecbf591b0d08cadb24bb17f3864246");
        /* The outputs are the caller's own: changing them leaves spec.parameters alone. */
        ck_assert_ptr_ne(params, in);
        ck_assert_ptr_ne(redacted, in);
        ck_assert_ptr_ne(params, redacted);
        json_object_set_new(params, "a", json_integer(2));
        assert_json(in, "{\"b\":1,\"a\":\"x\"}");
        assert_json(redacted, "{\"b\":1,\"a\":\"x\"}");
        json_decref(params);
        json_decref(redacted);
        json_decref(in);
}
END_TEST

START_TEST(empty_inline_object_is_an_empty_object)
{
        json_t *in = json_object();
        json_t *params = NULL, *redacted = NULL;
        char sum[65];
        ck_assert_int_eq(params_build(in, NULL, 0, &params, &redacted, sum, NULL), 0);
        assert_json(params, "{}");
        assert_json(redacted, "{}");
        ck_assert_str_eq(sum, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
        json_decref(params);
        json_decref(redacted);
        json_decref(in);
}
END_TEST

START_TEST(secret_values_are_merged_and_redacted)
{
        json_t *in = parse("{\"size\":\"small\"}");
        struct params_source s[] = {
                src("db", "params", "{\"password\":\"s3cr3t\",\"user\":{\"name\":\"u\"}}"),
                src("other", "k", " {\"z\":[1,2]} "),
        };
        json_t *params = NULL, *redacted = NULL;
        char sum[65];
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(params_build(in, s, 2, &params, &redacted, sum, &err), 0);
        assert_json(params, "{\"size\":\"small\",\"password\":\"s3cr3t\",\"user\":{\"name\":\"u\"},\"z\":[1,2]}");
        assert_json(redacted,
                    "{\"size\":\"small\",\"password\":\"<redacted>\",\"user\":\"<redacted>\",\"z\":\"<redacted>\"}");
        /* sha256('{"password":"s3cr3t","size":"small","user":{"name":"u"},"z":[1,2]}') */
        ck_assert_str_eq(sum, "bf51813e1e565c59b2703bfe8784750ad6f21f83d35a176e8fc11b0a4b556f11");
        json_decref(params);
        json_decref(redacted);
        json_decref(in);
}
END_TEST

START_TEST(source_value_need_not_be_nul_terminated)
{
        static const char bytes[] = "{\"k\":\"v\"}GARBAGE";
        struct params_source s = {.secret_name = "s", .key = "k", .value = bytes, .len = 9};
        json_t *params = NULL, *redacted = NULL;
        char sum[65];
        ck_assert_int_eq(params_build(NULL, &s, 1, &params, &redacted, sum, NULL), 0);
        assert_json(params, "{\"k\":\"v\"}");
        assert_json(redacted, "{\"k\":\"<redacted>\"}");
        ck_assert_str_eq(sum, "666c1aa02e8068c6d5cc1d3295009432c16790bec28ec8ce119d0d1a18d61319");
        json_decref(params);
        json_decref(redacted);
}
END_TEST

START_TEST(checksum_sorts_nested_keys_and_keeps_utf8)
{
        json_t *in = parse("{\"z\":{\"b\":1,\"a\":2},\"name\":\"\\u00e9\"}");
        json_t *params = NULL, *redacted = NULL;
        char sum[65];
        ck_assert_int_eq(params_build(in, NULL, 0, &params, &redacted, sum, NULL), 0);
        /* sha256('{"name":"é","z":{"a":2,"b":1}}') with é as UTF-8, not \u00e9 */
        ck_assert_str_eq(sum, "6e02eff8bcff901e10a3750b1f313fa9780b58b1de28b66195c70c4a2d55e248");
        json_decref(params);
        json_decref(redacted);
        json_decref(in);
}
END_TEST

/* Each case: inline parameters (or NULL), up to two sources, the exact message. */
static const struct {
        const char *inline_params;
        const char *v1, *v2;
        const char *message;
} errors[] = {
        {"[1]", NULL, NULL, "spec.parameters: must be a JSON object"},
        {"\"x\"", "{}", NULL, "spec.parameters: must be a JSON object"},
        {NULL, "[1]", NULL, "Secret s1 key k1: not a JSON object"},
        {NULL, "\"text\"", NULL, "Secret s1 key k1: not a JSON object"},
        {NULL, "null", NULL, "Secret s1 key k1: not a JSON object"},
        {NULL, "42", NULL, "Secret s1 key k1: not a JSON object"},
        {NULL, "{}", "[]", "Secret s2 key k2: not a JSON object"},
        {NULL, "{\"a\":", NULL, "Secret s1 key k1: invalid JSON: unexpected token near end of file at line 1 column 5"},
        {NULL, "", NULL, "Secret s1 key k1: invalid JSON: unexpected token near end of file at line 1 column 0"},
        {NULL, "{\"a\":1,\"a\":2}", NULL,
         "Secret s1 key k1: invalid JSON: duplicate object key near '\"a\"' at line 1 column 10"},
        {NULL, "{\"a\":\"\xff\"}", NULL,
         "Secret s1 key k1: invalid JSON: unable to decode byte 0xff near '\"' at line 1 column 6"},
        {NULL, "{\"a\":\"\\u0000\"}", NULL,
         "Secret s1 key k1: invalid JSON: \\u0000 is not allowed without JSON_ALLOW_NUL near '\"\\u0000\"' at line 1 "
         "column 13"},
        {NULL, "{\"a\":1} x", NULL, "Secret s1 key k1: invalid JSON: end of file expected near 'x' at line 1 column 9"},
        {NULL, "{\n\"a\":1,\n}", NULL,
         "Secret s1 key k1: invalid JSON: string or '}' expected near '}' at line 3 column 1"},
        {"{\"a\":1,\"b\":2}", "{\"c\":3,\"b\":4}", NULL,
         "parameter 'b' is set twice: in spec.parameters and in Secret s1 key k1"},
        {"{\"a\":1}", "{\"x\":1}", "{\"y\":1,\"x\":2}",
         "parameter 'x' is set twice: in Secret s1 key k1 and in Secret s2 key k2"},
        {"{\"a\":1}", "{\"x\":1}", "{\"a\":2}",
         "parameter 'a' is set twice: in spec.parameters and in Secret s2 key k2"},
};

START_TEST(errors_name_the_source)
{
        json_t *in = errors[_i].inline_params ? json_loads(errors[_i].inline_params, JSON_DECODE_ANY, NULL) : NULL;
        struct params_source s[2];
        size_t n = 0;
        if (errors[_i].v1)
                s[n++] = src("s1", "k1", errors[_i].v1);
        if (errors[_i].v2)
                s[n++] = src("s2", "k2", errors[_i].v2);
        json_t *params = UNTOUCHED, *redacted = UNTOUCHED;
        char sum[65] = "untouched";
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(params_build(in, s, n, &params, &redacted, sum, &err), OSB_E_BAD_REQUEST);
        ck_assert_int_eq(err.code, OSB_E_BAD_REQUEST);
        ck_assert_str_eq(err.text, errors[_i].message);
        ck_assert_ptr_eq(params, UNTOUCHED);
        ck_assert_ptr_eq(redacted, UNTOUCHED);
        ck_assert_str_eq(sum, "untouched");
        json_decref(in);
}
END_TEST

START_TEST(source_over_a_secret_size_is_refused)
{
        size_t len = PARAMS_MAX_SOURCE_BYTES + 1;
        char *big = osb_malloc(len);
        memset(big, ' ', len);
        big[0] = '{';
        big[len - 1] = '}';
        struct params_source s = {.secret_name = "big", .key = "k", .value = big, .len = len};
        json_t *params = UNTOUCHED, *redacted = UNTOUCHED;
        char sum[65];
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(params_build(NULL, &s, 1, &params, &redacted, sum, &err), OSB_E_BAD_REQUEST);
        ck_assert_str_eq(err.text, "Secret big key k: 1048577 bytes, more than a Secret can hold (1048576)");
        ck_assert_ptr_eq(params, UNTOUCHED);
        /* One byte less is just white space around {}. */
        s.len = len - 1;
        big[len - 2] = '}';
        ck_assert_int_eq(params_build(NULL, &s, 1, &params, &redacted, sum, &err), 0);
        assert_json(params, "{}");
        json_decref(params);
        json_decref(redacted);
        osb_free(big);
}
END_TEST

START_TEST(deep_nesting_is_an_error_not_a_crash)
{
        size_t depth = 100000;
        char *deep = osb_malloc(depth * 2 + 8);
        size_t o = 0;
        o += (size_t) snprintf(deep, 8, "{\"a\":");
        for (size_t i = 0; i < depth; i++)
                deep[o++] = '[';
        for (size_t i = 0; i < depth; i++)
                deep[o++] = ']';
        deep[o++] = '}';
        struct params_source s = {.secret_name = "s", .key = "k", .value = deep, .len = o};
        json_t *params = UNTOUCHED, *redacted = UNTOUCHED;
        char sum[65];
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(params_build(NULL, &s, 1, &params, &redacted, sum, &err), OSB_E_BAD_REQUEST);
        ck_assert_msg(strncmp(err.text, "Secret s key k: invalid JSON: maximum parsing depth reached", 59) == 0, "%s",
                      err.text);
        ck_assert_ptr_eq(params, UNTOUCHED);
        osb_free(deep);
}
END_TEST

/* Every allocation of a merge with two sources fails in turn: each run returns -ENOMEM with
 * nothing written, or the exact result; valgrind and ASan see no leak. */
static int build_fixture(json_t **params, json_t **redacted, char sum[65], struct osb_error *err)
{
        json_t *in = json_loads("{\"size\":\"small\"}", 0, NULL);
        if (!in)
                return -ENOMEM;
        struct params_source s[] = {
                src("db", "params", "{\"password\":\"s3cr3t\",\"user\":{\"name\":\"u\"}}"),
                src("other", "k", "{\"z\":[1,2]}"),
        };
        int r = params_build(in, s, 2, params, redacted, sum, err);
        json_decref(in);
        return r;
}

START_TEST(every_allocation_failure_is_enomem_or_exact)
{
        json_t *params = NULL, *redacted = NULL;
        char sum[65];
        struct osb_error err = OSB_ERROR_INIT;
        osb_mem_fail_at(SIZE_MAX);
        ck_assert_int_eq(build_fixture(&params, &redacted, sum, &err), 0);
        json_decref(params);
        json_decref(redacted);
        size_t n = osb_mem_allocs();
        ck_assert_uint_gt(n, 10);
        for (size_t i = 0; i < n; i++) {
                params = redacted = UNTOUCHED;
                osb_mem_fail_at(i);
                int r = build_fixture(&params, &redacted, sum, &err);
                osb_mem_fail_at(SIZE_MAX);
                if (r == 0) {
                        assert_json(params, "{\"size\":\"small\",\"password\":\"s3cr3t\","
                                            "\"user\":{\"name\":\"u\"},\"z\":[1,2]}");
                        assert_json(redacted, "{\"size\":\"small\",\"password\":\"<redacted>\",\"user\":\"<redacted>\","
                                              "\"z\":\"<redacted>\"}");
                        ck_assert_str_eq(sum, "bf51813e1e565c59b2703bfe8784750ad6f21f83d35a176e8fc11b0a4b556f11");
                        json_decref(params);
                        json_decref(redacted);
                        continue;
                }
                ck_assert_msg(r == -ENOMEM, "allocation %zu: r=%d (%s)", i, r, err.text);
                ck_assert_ptr_eq(params, UNTOUCHED);
                ck_assert_ptr_eq(redacted, UNTOUCHED);
        }
}
END_TEST

/* ---- params_check: the plan's schema, before anything is sent ---- */

START_TEST(check_passes_without_schema_or_parameters)
{
        struct osb_error err = OSB_ERROR_INIT;
        json_t *schema = parse("{\"required\":[\"name\"]}"), *params = parse("{\"size\":\"x\"}");
        ck_assert_int_eq(params_check(NULL, params, &err), 0);
        ck_assert_int_eq(params_check(json_null(), params, &err), 0);
        ck_assert_int_eq(params_check(schema, NULL, &err), 0);
        json_t *ok = parse("{\"name\":\"a\"}");
        ck_assert_int_eq(params_check(schema, ok, &err), 0);
        json_decref(ok);
        json_decref(schema);
        json_decref(params);
}
END_TEST

START_TEST(check_names_every_path_and_rule_never_a_value)
{
        struct osb_error err = OSB_ERROR_INIT;
        json_t *schema = parse("{\"type\":\"object\",\"required\":[\"name\"],\"additionalProperties\":false,"
                               "\"properties\":{\"name\":{\"type\":\"string\"},\"size\":{\"enum\":[\"small\",\"large\"]},"
                               "\"password\":{\"type\":\"string\",\"minLength\":20}}}");
        json_t *params = parse("{\"size\":\"hugeSECRET\",\"password\":\"hunter2SECRET\",\"colour\":\"redSECRET\"}");
        ck_assert_int_eq(params_check(schema, params, &err), OSB_E_BAD_REQUEST);
        ck_assert_str_eq(err.text, "4 violations of the plan's parameter schema: parameters.name: is required; "
                                   "parameters.size: must be one of the 2 values the plan's schema lists; "
                                   "parameters.password: must be at least 20 characters long; "
                                   "parameters.colour: is not an allowed property");
        ck_assert_ptr_null(strstr(err.text, "SECRET"));
        ck_assert_ptr_null(strstr(err.text, "small"));
        json_decref(schema);
        json_decref(params);
}
END_TEST

START_TEST(check_lists_what_fits_then_how_many_more)
{
        struct osb_error err = OSB_ERROR_INIT;
        json_t *schema = parse("{\"additionalProperties\":false}"), *params = json_object();
        for (int k = 0; k < 60; k++) {
                char key[32];
                (void) snprintf(key, sizeof(key), "unknown_property_%02d", k);
                json_object_set_new(params, key, json_true());
        }
        ck_assert_int_eq(params_check(schema, params, &err), OSB_E_BAD_REQUEST);
        ck_assert_msg(strncmp(err.text, "60 violations of the plan's parameter schema: parameters.", 57) == 0, "%s", err.text);
        const char *more = strstr(err.text, "; and ");
        ck_assert_ptr_nonnull(more);
        ck_assert_ptr_nonnull(strstr(more, " more"));
        ck_assert_uint_lt(strlen(err.text), sizeof(err.text) - 1);
        json_decref(schema);
        json_decref(params);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("catalog-controller params");
        TCase *tc = tcase_create("build");
        tcase_add_test(tc, no_parameters_is_null_with_empty_checksum);
        tcase_add_test(tc, json_null_parameters_are_none);
        tcase_add_test(tc, inline_only_is_copied_and_summed_over_sorted_keys);
        tcase_add_test(tc, empty_inline_object_is_an_empty_object);
        tcase_add_test(tc, secret_values_are_merged_and_redacted);
        tcase_add_test(tc, source_value_need_not_be_nul_terminated);
        tcase_add_test(tc, checksum_sorts_nested_keys_and_keeps_utf8);
        suite_add_tcase(s, tc);
        tc = tcase_create("errors");
        tcase_add_loop_test(tc, errors_name_the_source, 0, (int) OSB_ELEMENTSOF(errors));
        tcase_add_test(tc, source_over_a_secret_size_is_refused);
        tcase_add_test(tc, deep_nesting_is_an_error_not_a_crash);
        tcase_add_test(tc, every_allocation_failure_is_enomem_or_exact);
        tcase_add_test(tc, check_passes_without_schema_or_parameters);
        tcase_add_test(tc, check_names_every_path_and_rule_never_a_value);
        tcase_add_test(tc, check_lists_what_fits_then_how_many_more);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(suite)
