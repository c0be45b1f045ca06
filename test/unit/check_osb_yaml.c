/* test/unit/check_osb_yaml.c: YAML to JSON (common/osb_yaml.c). */
#include "common/osb_compat.h"

#include "common/osb_mem.h"
#include "common/osb_yaml.h"
#include "test/lib/check_main.h"

/* Parses @yaml and returns the compact JSON dump (new), or NULL with @err filled. */
static char *yaml_to_json(const char *yaml, struct osb_error *err, int *ret_code)
{
        json_t *j = NULL;
        int r = osb_yaml_parse(yaml, strlen(yaml), &j, err);
        if (ret_code)
                *ret_code = r;
        if (r < 0)
                return NULL;
        char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(j);
        return s;
}

static void assert_json(const char *yaml, const char *want)
{
        struct osb_error err = OSB_ERROR_INIT;
        char *got = yaml_to_json(yaml, &err, NULL);
        ck_assert_msg(got != NULL, "parsing %s failed: %s", yaml, err.text);
        ck_assert_str_eq(got, want);
        osb_free(got);
}

static void assert_error(const char *yaml, const char *want)
{
        struct osb_error err = OSB_ERROR_INIT;
        int r = 0;
        char *got = yaml_to_json(yaml, &err, &r);
        ck_assert_msg(got == NULL, "parsing '%s' succeeded: %s", yaml, got);
        ck_assert_int_eq(r, OSB_E_BAD_REQUEST);
        ck_assert_msg(strstr(err.text, want) != NULL, "error '%s' lacks '%s'", err.text, want);
}

static const struct {
        const char *yaml;
        const char *json;
} scalar_cases[] = {
        {"v: null", "{\"v\":null}"},
        {"v: Null", "{\"v\":null}"},
        {"v: NULL", "{\"v\":null}"},
        {"v: ~", "{\"v\":null}"},
        {"v:", "{\"v\":null}"},
        {"v: true", "{\"v\":true}"},
        {"v: True", "{\"v\":true}"},
        {"v: FALSE", "{\"v\":false}"},
        {"v: yes", "{\"v\":\"yes\"}"},
        {"v: off", "{\"v\":\"off\"}"},
        {"v: 42", "{\"v\":42}"},
        {"v: -42", "{\"v\":-42}"},
        {"v: +7", "{\"v\":7}"},
        {"v: 0123", "{\"v\":123}"},
        {"v: 0x1F", "{\"v\":31}"},
        {"v: 0o17", "{\"v\":15}"},
        {"v: 9223372036854775807", "{\"v\":9223372036854775807}"},
        {"v: -9223372036854775808", "{\"v\":-9223372036854775808}"},
        {"v: 1.5", "{\"v\":1.5}"},
        {"v: .5", "{\"v\":0.5}"},
        {"v: -2.", "{\"v\":-2.0}"},
        {"v: 1e3", "{\"v\":1000.0}"},
        {"v: 1_000", "{\"v\":\"1_000\"}"},
        {"v: 0x", "{\"v\":\"0x\"}"},
        {"v: 1.2.3", "{\"v\":\"1.2.3\"}"},
        {"v: '1'", "{\"v\":\"1\"}"},
        {"v: \"true\"", "{\"v\":\"true\"}"},
        {"v: 'null'", "{\"v\":\"null\"}"},
        {"v: ''", "{\"v\":\"\"}"},
        {"v: !!str 5", "{\"v\":\"5\"}"},
        {"v: ! 5", "{\"v\":\"5\"}"},
        {"v: !!int \"12\"", "{\"v\":12}"},
        {"v: !!float 1", "{\"v\":1.0}"},
        {"v: !!bool true", "{\"v\":true}"},
        {"v: !!null ''", "{\"v\":null}"},
        {"v: hello world", "{\"v\":\"hello world\"}"},
        {"v: |\n  line1\n  line2\n", "{\"v\":\"line1\\nline2\\n\"}"},
        {"v: >-\n  folded\n  text\n", "{\"v\":\"folded text\"}"},
        {"v: \"caf\\u00e9\"", "{\"v\":\"caf\xc3\xa9\"}"},
};

START_TEST(core_schema_scalars)
{
        assert_json(scalar_cases[_i].yaml, scalar_cases[_i].json);
}
END_TEST

START_TEST(block_and_flow_collections)
{
        assert_json("a:\n  - 1\n  - {b: [x, y], c: {}}\n  - []\nd: e\n",
                    "{\"a\":[1,{\"b\":[\"x\",\"y\"],\"c\":{}},[]],\"d\":\"e\"}");
        assert_json("[1, two, {three: 3}]", "[1,\"two\",{\"three\":3}]");
        assert_json("just a string", "\"just a string\"");
        assert_json("!!map {a: 1}", "{\"a\":1}");
        assert_json("!!seq [1]", "[1]");
}
END_TEST

START_TEST(key_order_is_kept)
{
        assert_json("z: 1\na: 2\nm: 3\n", "{\"z\":1,\"a\":2,\"m\":3}");
}
END_TEST

START_TEST(non_string_keys_become_strings)
{
        assert_json("1: a\ntrue: b\nnull: c\n0x10: d\n1.5: e\n",
                    "{\"1\":\"a\",\"true\":\"b\",\"null\":\"c\",\"0x10\":\"d\",\"1.5\":\"e\"}");
}
END_TEST

START_TEST(empty_documents_are_null)
{
        assert_json("", "null");
        assert_json("---\n", "null");
        assert_json("# only a comment\n", "null");
        assert_json("---\n...\n", "null");
}
END_TEST

START_TEST(anchors_and_aliases_are_copied)
{
        assert_json("base: &b {size: 1, tags: [a]}\ncopy: *b\nlist: [&x 5, *x]\n",
                    "{\"base\":{\"size\":1,\"tags\":[\"a\"]},\"copy\":{\"size\":1,\"tags\":[\"a\"]},"
                    "\"list\":[5,5]}");
        /* The result is a tree: changing the copy leaves the original alone. */
        json_t *j = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        const char *y = "a: &a {k: 1}\nb: *a\n";
        ck_assert_int_eq(osb_yaml_parse(y, strlen(y), &j, &err), 0);
        ck_assert_ptr_ne(json_object_get(j, "a"), json_object_get(j, "b"));
        json_object_set_new(json_object_get(j, "b"), "k", json_integer(2));
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "a"), "k")), 1);
        json_decref(j);
        /* Redefinition: later aliases see the latest anchor. */
        assert_json("a: &x 1\nb: &x 2\nc: *x\n", "{\"a\":1,\"b\":2,\"c\":2}");
        /* An alias of a scalar as a key. */
        assert_json("k: &name port\n*name : 80\n", "{\"k\":\"port\",\"port\":80}");
}
END_TEST

START_TEST(billion_laughs_is_refused)
{
        const char *y =
                "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
        assert_error(y, "aliases expand to more than");
        /* Moderate reuse is fine. */
        assert_json("a: &a [1, 2]\nb: [*a, *a, *a]\n", "{\"a\":[1,2],\"b\":[[1,2],[1,2],[1,2]]}");
}
END_TEST

START_TEST(undefined_alias_is_refused)
{
        assert_error("a: 1\nb: *nope\n", "line 2 column 4: undefined alias '*nope'");
        /* An anchor is not visible inside its own node. */
        assert_error("a: &s [*s]\n", "undefined alias");
}
END_TEST

START_TEST(duplicate_keys_are_refused)
{
        assert_error("a: 1\nb: 2\na: 3\n", "line 3 column 1: duplicate mapping key 'a'");
        assert_error("x: {k: 1, k: 2}\n", "duplicate mapping key 'k'");
        assert_error("1: a\n\"1\": b\n", "duplicate mapping key '1'");
}
END_TEST

START_TEST(unsupported_tags_are_refused)
{
        assert_error("v: !!binary aGVsbG8=", "line 1 column 4: unsupported tag '!!binary'");
        assert_error("v: !custom x", "unsupported tag '!custom'");
        assert_error("v: !!set {a, b}", "unsupported tag");
        assert_error("v: !!int abc", "'abc' is not an integer");
        assert_error("v: !!bool yes", "'yes' is not a boolean");
        assert_error("v: !!null x", "'x' is not a null");
        assert_error("v: !!float x", "'x' is not a number");
}
END_TEST

START_TEST(unrepresentable_numbers_are_refused)
{
        assert_error("v: .inf", "cannot be represented in JSON");
        assert_error("v: -.Inf", "cannot be represented in JSON");
        assert_error("v: .nan", "cannot be represented in JSON");
        assert_error("v: 9223372036854775808", "integer '9223372036854775808' is out of range");
        assert_error("v: 0xFFFFFFFFFFFFFFFFFF", "out of range");
        assert_error("v: 1e999", "out of range");
}
END_TEST

START_TEST(complex_and_merge_keys_are_refused)
{
        assert_error("? [a, b]\n: c\n", "collections cannot be mapping keys");
        assert_error("{a: 1}: x\n", "collections cannot be mapping keys");
        assert_error("base: &b {a: 1}\nother:\n  <<: *b\n", "line 3 column 3: merge keys ('<<') are not supported");
        assert_error("l: &l [1]\n*l : x\n", "collections cannot be mapping keys");
        assert_json("'<<': quoted is fine", "{\"<<\":\"quoted is fine\"}");
}
END_TEST

START_TEST(syntax_errors_have_line_and_column)
{
        assert_error("a: 1\nb: [1, 2\n", "line 3 column 1:");
        assert_error("a: 1\n  b: 2\n", "line 2 column 4:");
        assert_error("a: \"unterminated\n", "line 2 column 1:");
        assert_error("\tkey: v\n", "line 1 column 1:");
}
END_TEST

START_TEST(nul_and_bad_utf8_are_refused)
{
        assert_error("v: \"a\\0b\"", "NUL characters are not allowed");
        assert_error("a: 1\nb: \xff\xfe\n", "line 2 column 4:");
        struct osb_error err = OSB_ERROR_INIT;
        json_t *j = NULL;
        const char nul[] = "a: b\0c";
        ck_assert_int_eq(osb_yaml_parse(nul, sizeof(nul) - 1, &j, &err), OSB_E_BAD_REQUEST);
        ck_assert_ptr_null(j);
}
END_TEST

START_TEST(nesting_is_bounded)
{
        char deep[2 * 300 + 1];
        for (int i = 0; i < 300; i++) {
                deep[i] = '[';
                deep[300 + i] = ']';
        }
        deep[600] = '\0';
        assert_error(deep, "nested deeper than 256 levels");
        char ok[2 * 200 + 1];
        for (int i = 0; i < 200; i++) {
                ok[i] = '[';
                ok[200 + i] = ']';
        }
        ok[400] = '\0';
        struct osb_error err = OSB_ERROR_INIT;
        json_t *j = NULL;
        ck_assert_int_eq(osb_yaml_parse(ok, strlen(ok), &j, &err), 0);
        json_decref(j);
}
END_TEST

START_TEST(input_need_not_be_nul_terminated)
{
        const char *y = "a: 1\nb: 2\nGARBAGE: [";
        json_t *j = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(osb_yaml_parse(y, 10, &j, &err), 0);
        ck_assert_int_eq(json_object_size(j), 2);
        json_decref(j);
}
END_TEST

START_TEST(first_document_only)
{
        assert_json("a: 1\n---\nb: 2\n", "{\"a\":1}");
        /* Later documents are not even parsed. */
        assert_json("a: 1\n---\n[unclosed\n", "{\"a\":1}");
}
END_TEST

START_TEST(all_documents)
{
        const char *y = "---\na: 1\n---\n---\n~\n---\n- x\n...\n---\nb: &r 2\nc: *r\n";
        json_t *j = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(osb_yaml_parse_all(y, strlen(y), &j, &err), 0);
        char *s = json_dumps(j, JSON_COMPACT);
        ck_assert_str_eq(s, "[{\"a\":1},[\"x\"],{\"b\":2,\"c\":2}]");
        osb_free(s);
        json_decref(j);

        ck_assert_int_eq(osb_yaml_parse_all("", 0, &j, &err), 0);
        ck_assert_int_eq(json_array_size(j), 0);
        json_decref(j);

        /* Anchors belong to their document. */
        const char *scoped = "a: &x 1\n---\nb: *x\n";
        j = NULL;
        ck_assert_int_eq(osb_yaml_parse_all(scoped, strlen(scoped), &j, &err), OSB_E_BAD_REQUEST);
        ck_assert_ptr_null(j);
        ck_assert_ptr_nonnull(strstr(err.text, "line 3 column 4: undefined alias"));

        const char *bad = "a: 1\n---\nb: [\n";
        ck_assert_int_eq(osb_yaml_parse_all(bad, strlen(bad), &j, &err), OSB_E_BAD_REQUEST);
        ck_assert_ptr_null(j);
}
END_TEST

START_TEST(every_allocation_failure_is_clean)
{
        const char *y =
                "services:\n"
                "  - name: a\n"
                "    id: &id 1234\n"
                "    tags: [x, 'y', 3, 4.5, true, ~]\n"
                "    plans:\n"
                "      - {id: p1, name: small, metadata: &m {k: v, l: [1, 2]}}\n"
                "      - {id: p2, name: large, metadata: *m, ref: *id}\n"
                "---\n"
                "second: doc\n";
        for (int all = 0; all <= 1; all++) {
                json_t *j = NULL;
                struct osb_error err = OSB_ERROR_INIT;
                osb_mem_fail_at(SIZE_MAX);
                int r = (all ? osb_yaml_parse_all : osb_yaml_parse)(y, strlen(y), &j, &err);
                size_t n = osb_mem_allocs();
                ck_assert_int_eq(r, 0);
                json_decref(j);
                ck_assert_uint_gt(n, 10);
                for (size_t i = 0; i < n; i++) {
                        j = NULL;
                        osb_mem_fail_at(i);
                        r = (all ? osb_yaml_parse_all : osb_yaml_parse)(y, strlen(y), &j, &err);
                        osb_mem_fail_at(SIZE_MAX);
                        ck_assert_msg(r == 0 || r == -ENOMEM, "allocation %zu: r=%d", i, r);
                        if (r == 0)
                                json_decref(j);
                        else
                                ck_assert_ptr_null(j);
                }
        }
}
END_TEST

static Suite *yaml_suite(void)
{
        Suite *s = suite_create("osb_yaml");
        TCase *tc = tcase_create("parse");
        tcase_add_loop_test(tc, core_schema_scalars, 0, (int) OSB_ELEMENTSOF(scalar_cases));
        tcase_add_test(tc, block_and_flow_collections);
        tcase_add_test(tc, key_order_is_kept);
        tcase_add_test(tc, non_string_keys_become_strings);
        tcase_add_test(tc, empty_documents_are_null);
        tcase_add_test(tc, anchors_and_aliases_are_copied);
        tcase_add_test(tc, billion_laughs_is_refused);
        tcase_add_test(tc, undefined_alias_is_refused);
        tcase_add_test(tc, duplicate_keys_are_refused);
        tcase_add_test(tc, unsupported_tags_are_refused);
        tcase_add_test(tc, unrepresentable_numbers_are_refused);
        tcase_add_test(tc, complex_and_merge_keys_are_refused);
        tcase_add_test(tc, syntax_errors_have_line_and_column);
        tcase_add_test(tc, nul_and_bad_utf8_are_refused);
        tcase_add_test(tc, nesting_is_bounded);
        tcase_add_test(tc, input_need_not_be_nul_terminated);
        tcase_add_test(tc, first_document_only);
        tcase_add_test(tc, all_documents);
        tcase_add_test(tc, every_allocation_failure_is_clean);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(yaml_suite)
