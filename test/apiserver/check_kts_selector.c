/* test/apiserver/check_kts_selector.c: label and field selectors, parsed and matched as
 * apimachinery does. */
#include "common/osb_compat.h"
#include <check.h>
#include "test/apiserver/selector.h"
#include "test/lib/check_main.h"

static bool labels_match(const char *sel, const char *labels_json)
{
        struct selector *s = NULL;
        char msg[512];
        ck_assert_msg(selector_parse_labels(sel, &s, msg, sizeof(msg)) == 0, "parse %s: %s", sel, msg);
        json_t *l = json_loads(labels_json, 0, NULL);
        bool m = selector_match_labels(s, l);
        json_decref(l);
        selector_free(s);
        return m;
}

START_TEST(equality_and_set_operators_match_like_kubernetes)
{
        const char *l = "{\"app\":\"web\",\"tier\":\"front\",\"n\":\"5\"}";
        ck_assert(labels_match("", l));
        ck_assert(labels_match("app=web", l));
        ck_assert(labels_match("app==web", l));
        ck_assert(!labels_match("app!=web", l));
        ck_assert(labels_match("app!=db", l));
        ck_assert(labels_match("missing!=x", l));  /* != matches absent keys */
        ck_assert(labels_match("app in (db, web)", l));
        ck_assert(!labels_match("app notin (db,web)", l));
        ck_assert(labels_match("missing notin (a)", l));
        ck_assert(labels_match("tier", l));
        ck_assert(!labels_match("!tier", l));
        ck_assert(labels_match("!missing", l));
        ck_assert(labels_match("app=web,tier=front", l));
        ck_assert(!labels_match("app=web,tier=back", l));
        ck_assert(labels_match("n>4", l));
        ck_assert(!labels_match("n<5", l));
        ck_assert(labels_match(" app = web , tier ", l));
}
END_TEST

START_TEST(malformed_label_selectors_are_rejected_with_a_message)
{
        const char *bad[] = {"app=", "app in web", "app in (a", "=x", "app=web,", "app=bad value", "n>x", "a b"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(bad); i++) {
                struct selector *s = NULL;
                char msg[512] = "";
                int r = selector_parse_labels(bad[i], &s, msg, sizeof(msg));
                if (!strcmp(bad[i], "app=")) {
                        /* an empty value is a valid label value */
                        ck_assert_int_eq(r, 0);
                        selector_free(s);
                        continue;
                }
                ck_assert_msg(r == -EINVAL, "'%s' accepted", bad[i]);
                ck_assert_ptr_null(s);
                ck_assert_msg(strstr(msg, "unable to parse requirement") != NULL, "%s: %s", bad[i], msg);
        }
}
END_TEST

static const char *get_field(void *ud, const char *field)
{
        json_t *o = ud;
        return json_string_value(json_object_get(o, field));
}

START_TEST(field_selectors_compare_strings_and_expose_keys)
{
        struct selector *s = NULL;
        char msg[256];
        ck_assert_int_eq(selector_parse_fields("metadata.name=a,metadata.namespace!=kube-system", &s, msg, sizeof(msg)), 0);
        ck_assert_uint_eq(selector_count(s), 2);
        ck_assert_str_eq(selector_key(s, 0), "metadata.name");
        ck_assert_str_eq(selector_equals_value(s, "metadata.name"), "a");
        json_t *o = json_pack("{s:s, s:s}", "metadata.name", "a", "metadata.namespace", "default");
        ck_assert(selector_match_fields(s, get_field, o));
        json_object_set_new(o, "metadata.namespace", json_string("kube-system"));
        ck_assert(!selector_match_fields(s, get_field, o));
        json_decref(o);
        selector_free(s);
        ck_assert_int_eq(selector_parse_fields("metadata.name", &s, msg, sizeof(msg)), -EINVAL);
        ck_assert_int_eq(selector_parse_fields("a\\,b==c", &s, msg, sizeof(msg)), 0);
        ck_assert_str_eq(selector_key(s, 0), "a,b");
        selector_free(s);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("kts_selector");
        TCase *tc = tcase_create("selector");
        tcase_add_test(tc, equality_and_set_operators_match_like_kubernetes);
        tcase_add_test(tc, malformed_label_selectors_are_rejected_with_a_message);
        tcase_add_test(tc, field_selectors_compare_strings_and_expose_keys);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(suite)
