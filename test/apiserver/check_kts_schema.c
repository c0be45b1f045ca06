/* test/apiserver/check_kts_schema.c: structural schema pruning, defaulting and validation, with
 * the field error texts kube-apiserver gives. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_yaml.h"
#include "test/apiserver/schema.h"
#include "test/lib/check_main.h"

static const char schema_yaml[] =
        "type: object\n"
        "properties:\n"
        "  spec:\n"
        "    type: object\n"
        "    required: [color]\n"
        "    properties:\n"
        "      color: {type: string, enum: [red, blue]}\n"
        "      size: {type: integer, default: 3, minimum: 1, maximum: 10}\n"
        "      name: {type: string, minLength: 2, maxLength: 4, pattern: '^[a-z]+$'}\n"
        "      opts:\n"
        "        type: object\n"
        "        default: {}\n"
        "        properties:\n"
        "          verbose: {type: boolean, default: false}\n"
        "      tags: {type: object, additionalProperties: {type: string}}\n"
        "      items: {type: array, maxItems: 2, items: {type: object, required: [k], properties: {k: {type: string}}}}\n"
        "      free: {type: object, x-kubernetes-preserve-unknown-fields: true}\n"
        "      port: {x-kubernetes-int-or-string: true}\n"
        "      when: {type: string, format: date-time}\n"
        "  status: {type: object, properties: {phase: {type: string}}}\n";

static json_t *load(const char *yaml)
{
        json_t *j = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(osb_yaml_parse(yaml, strlen(yaml), &j, &err) == 0, "%s", err.text);
        return j;
}

START_TEST(prune_removes_unknown_fields_and_reports_their_paths)
{
        json_t *s = load(schema_yaml);
        json_t *o = load("apiVersion: x/v1\nkind: W\nmetadata: {name: a}\nspec: {color: red, bogus: 1, tags: {a: b},"
                         " free: {any: [1]}, items: [{k: a, z: 1}]}\nextra: true\n");
        json_t *unknown = json_array();
        ck_assert_int_eq(schema_prune(s, o, unknown), 0);
        ck_assert(json_object_get(o, "apiVersion") && json_object_get(o, "metadata"));
        ck_assert_ptr_null(json_object_get(o, "extra"));
        ck_assert_ptr_null(json_object_get(json_object_get(o, "spec"), "bogus"));
        ck_assert_ptr_nonnull(json_object_get(json_object_get(json_object_get(o, "spec"), "free"), "any"));
        ck_assert_ptr_nonnull(json_object_get(json_object_get(json_object_get(o, "spec"), "tags"), "a"));
        char *u = json_dumps(unknown, JSON_COMPACT);
        ck_assert_str_eq(u, "[\"spec.bogus\",\"spec.items[0].z\",\"extra\"]");
        free(u);
        json_decref(unknown);
        json_decref(o);
        json_decref(s);
}
END_TEST

START_TEST(defaults_fill_absent_fields_recursively_but_not_present_ones)
{
        json_t *s = load(schema_yaml);
        json_t *o = load("spec: {color: red}\n");
        ck_assert_int_eq(schema_default(s, o), 0);
        json_t *spec = json_object_get(o, "spec");
        ck_assert_int_eq(json_integer_value(json_object_get(spec, "size")), 3);
        ck_assert(json_is_false(json_object_get(json_object_get(spec, "opts"), "verbose")));
        json_decref(o);
        o = load("spec: {color: red, size: 7, opts: {verbose: true}, name: null}\n");
        ck_assert_int_eq(schema_default(s, o), 0);
        spec = json_object_get(o, "spec");
        ck_assert_int_eq(json_integer_value(json_object_get(spec, "size")), 7);
        ck_assert(json_is_true(json_object_get(json_object_get(spec, "opts"), "verbose")));
        ck_assert_ptr_null(json_object_get(spec, "name"));  /* null of a non-nullable field is dropped */
        json_decref(o);
        json_decref(s);
}
END_TEST

static json_t *validate(const json_t *s, const char *yaml, int *count)
{
        json_t *o = load(yaml);
        json_t *causes = json_array();
        *count = schema_validate(s, o, causes);
        json_decref(o);
        return causes;
}

START_TEST(validation_reports_type_required_enum_and_bounds_like_kube)
{
        json_t *s = load(schema_yaml);
        int n;
        json_t *c = validate(s, "spec: {color: red, size: 3}\n", &n);
        ck_assert_int_eq(n, 0);
        json_decref(c);
        c = validate(s, "spec: {color: pink, size: \"x\", name: ABCDEF, items: [{}, {k: a}, {k: b}], port: true,"
                        " when: yesterday}\n", &n);
        char text[4096];
        schema_causes_text(c, text, sizeof(text));
        ck_assert_msg(strstr(text, "spec.color: Unsupported value: \"pink\": supported values: \"red\", \"blue\""), "%s", text);
        ck_assert_msg(strstr(text, "spec.size: Invalid value: \"string\": spec.size in body must be of type integer: \"string\""), "%s", text);
        ck_assert_msg(strstr(text, "spec.name: Too long: may not be more than 4 bytes"), "%s", text);
        ck_assert_msg(strstr(text, "spec.name in body should match '^[a-z]+$'"), "%s", text);
        ck_assert_msg(strstr(text, "spec.items: Too many: 3: must have at most 2 items"), "%s", text);
        ck_assert_msg(strstr(text, "spec.items[0].k: Required value"), "%s", text);
        ck_assert_msg(strstr(text, "spec.port: Invalid value: \"boolean\""), "%s", text);
        ck_assert_msg(strstr(text, "spec.when in body must be of type date-time"), "%s", text);
        ck_assert_int_eq(n, (int) json_array_size(c));
        ck_assert_int_ge(n, 8);
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(c, 0), "reason")), "FieldValueNotSupported");
        json_decref(c);
        c = validate(s, "spec: {size: 0}\n", &n);
        ck_assert_int_eq(n, 2);
        schema_causes_text(c, text, sizeof(text));
        ck_assert_str_eq(text, "[spec.color: Required value, spec.size: Invalid value: 0: spec.size in body should be "
                               "greater than or equal to 1]");
        json_decref(c);
        c = validate(s, "spec: {color: blue, size: 11}\n", &n);
        schema_causes_text(c, text, sizeof(text));
        ck_assert_str_eq(text, "spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10");
        json_decref(c);
        json_decref(s);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("kts_schema");
        TCase *tc = tcase_create("schema");
        tcase_add_test(tc, prune_removes_unknown_fields_and_reports_their_paths);
        tcase_add_test(tc, defaults_fill_absent_fields_recursively_but_not_present_ones);
        tcase_add_test(tc, validation_reports_type_required_enum_and_bounds_like_kube);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(suite)
