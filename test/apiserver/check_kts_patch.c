/* test/apiserver/check_kts_patch.c: JSON merge patch (RFC 7386 examples), JSON patch (RFC 6902)
 * and strategic merge patch directives. */
#include "common/osb_compat.h"
#include <check.h>
#include "test/apiserver/patch.h"
#include "test/lib/check_main.h"

static void expect_json(json_t *got, const char *want)
{
        json_t *w = json_loads(want, JSON_DECODE_ANY, NULL);
        ck_assert_ptr_nonnull(w);
        char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        ck_assert_msg(json_equal(got, w), "got %s want %s", g, want);
        free(g);
        json_decref(w);
}

static json_t *merge(const char *t, const char *p)
{
        json_t *tj = json_loads(t, JSON_DECODE_ANY, NULL), *pj = json_loads(p, JSON_DECODE_ANY, NULL), *r = NULL;
        ck_assert_int_eq(patch_merge(tj, pj, &r), 0);
        /* the target is not modified */
        json_t *again = json_loads(t, JSON_DECODE_ANY, NULL);
        ck_assert(json_equal(tj, again));
        json_decref(again);
        json_decref(tj);
        json_decref(pj);
        return r;
}

START_TEST(merge_patch_follows_rfc7386_examples)
{
        const char *cases[][3] = {
                {"{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
                {"{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}"},
                {"{\"a\":\"b\"}", "{\"a\":null}", "{}"},
                {"{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}"},
                {"{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
                {"{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"},
                {"{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}"},
                {"{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}"},
                {"[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]"},
                {"{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]"},
                {"{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"},
                {"{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"},
        };
        for (size_t i = 0; i < OSB_ELEMENTSOF(cases); i++) {
                json_t *r = merge(cases[i][0], cases[i][1]);
                expect_json(r, cases[i][2]);
                json_decref(r);
        }
}
END_TEST

static int jpatch(const char *t, const char *ops, json_t **ret, char *msg)
{
        json_t *tj = json_loads(t, 0, NULL), *oj = json_loads(ops, 0, NULL);
        int r = patch_json(tj, oj, ret, msg, 256);
        json_decref(tj);
        json_decref(oj);
        return r;
}

START_TEST(json_patch_applies_all_six_operations)
{
        json_t *r = NULL;
        char msg[256];
        ck_assert_int_eq(jpatch("{\"a\":{\"b\":[1,2]},\"c\":1}",
                                "[{\"op\":\"add\",\"path\":\"/a/b/1\",\"value\":9},"
                                "{\"op\":\"add\",\"path\":\"/a/b/-\",\"value\":3},"
                                "{\"op\":\"replace\",\"path\":\"/c\",\"value\":\"x\"},"
                                "{\"op\":\"copy\",\"from\":\"/c\",\"path\":\"/d\"},"
                                "{\"op\":\"move\",\"from\":\"/d\",\"path\":\"/e~1f\"},"
                                "{\"op\":\"test\",\"path\":\"/e~1f\",\"value\":\"x\"},"
                                "{\"op\":\"remove\",\"path\":\"/a/b/0\"}]", &r, msg), 0);
        expect_json(r, "{\"a\":{\"b\":[9,2,3]},\"c\":\"x\",\"e/f\":\"x\"}");
        json_decref(r);
}
END_TEST

START_TEST(json_patch_failures_name_the_operation)
{
        json_t *r = NULL;
        char msg[256];
        ck_assert_int_eq(jpatch("{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":2}]", &r, msg), -EINVAL);
        ck_assert(strstr(msg, "test failed"));
        ck_assert_int_eq(jpatch("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/b\"}]", &r, msg), -EINVAL);
        ck_assert(strstr(msg, "remove operation does not apply"));
        ck_assert_int_eq(jpatch("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":1}]", &r, msg), -EINVAL);
        ck_assert_int_eq(jpatch("{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/5\",\"value\":1}]", &r, msg), -EINVAL);
        ck_assert_int_eq(jpatch("{\"a\":1}", "[{\"op\":\"frob\",\"path\":\"/a\"}]", &r, msg), -EINVAL);
        ck_assert_int_eq(jpatch("{\"a\":1}", "{\"op\":\"add\"}", &r, msg), -EINVAL);
        ck_assert_ptr_null(r);
}
END_TEST

START_TEST(strategic_merge_handles_directives_and_merge_keys)
{
        json_t *t = json_loads("{\"metadata\":{\"finalizers\":[\"a\"],\"labels\":{\"x\":\"1\",\"y\":\"2\"},"
                               "\"ownerReferences\":[{\"uid\":\"u1\",\"name\":\"o1\"},{\"uid\":\"u2\",\"name\":\"o2\"}]},"
                               "\"data\":{\"k\":\"v\",\"old\":\"o\"},\"list\":[1,2]}", 0, NULL);
        json_t *p = json_loads("{\"metadata\":{\"finalizers\":[\"b\"],\"labels\":{\"y\":null},"
                               "\"$setElementOrder/ownerReferences\":[{\"uid\":\"u2\"}],"
                               "\"ownerReferences\":[{\"uid\":\"u1\",\"$patch\":\"delete\"},{\"uid\":\"u2\",\"name\":\"renamed\"}]},"
                               "\"data\":{\"$retainKeys\":[\"k\",\"n\"],\"n\":\"m\"},\"list\":[3],"
                               "\"$deleteFromPrimitiveList/none\":[1]}", 0, NULL);
        json_t *r = NULL;
        char msg[256];
        ck_assert_int_eq(patch_strategic(t, p, &r, msg, sizeof(msg)), 0);
        expect_json(r, "{\"metadata\":{\"finalizers\":[\"a\",\"b\"],\"labels\":{\"x\":\"1\"},"
                       "\"ownerReferences\":[{\"uid\":\"u2\",\"name\":\"renamed\"}]},"
                       "\"data\":{\"k\":\"v\",\"n\":\"m\"},\"list\":[3]}");
        json_decref(r);
        json_decref(p);
        p = json_loads("{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"a\"]},\"data\":{\"$patch\":\"replace\",\"z\":\"1\"}}", 0, NULL);
        ck_assert_int_eq(patch_strategic(t, p, &r, msg, sizeof(msg)), 0);
        expect_json(json_object_get(json_object_get(r, "metadata"), "finalizers"), "[]");
        expect_json(json_object_get(r, "data"), "{\"z\":\"1\"}");
        json_decref(r);
        json_decref(p);
        json_decref(t);
}
END_TEST

START_TEST(strategic_merge_keys_of_pod_templates_and_service_ports)
{
        /* kubectl apply of a Deployment: one env var changed, one removed, the other container kept */
        json_t *t = json_loads("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"i\","
                               "\"env\":[{\"name\":\"X\",\"value\":\"1\"},{\"name\":\"Y\",\"value\":\"2\"}],"
                               "\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"}]},{\"name\":\"b\",\"image\":\"j\"}]}}}}",
                               0, NULL);
        json_t *p = json_loads("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":["
                               "{\"name\":\"X\",\"value\":\"9\"},{\"name\":\"Y\",\"$patch\":\"delete\"}],"
                               "\"ports\":[{\"containerPort\":81}]}]}}}}", 0, NULL);
        json_t *r = NULL;
        char msg[256];
        ck_assert_int_eq(patch_strategic(t, p, &r, msg, sizeof(msg)), 0);
        expect_json(json_object_get(json_object_get(json_object_get(json_object_get(r, "spec"), "template"), "spec"), "containers"),
                    "[{\"name\":\"a\",\"image\":\"i\",\"env\":[{\"name\":\"X\",\"value\":\"9\"}],"
                    "\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"},{\"containerPort\":81}]},"
                    "{\"name\":\"b\",\"image\":\"j\"}]");
        json_decref(r);
        json_decref(p);
        json_decref(t);
        /* a Service's ports merge by port */
        t = json_loads("{\"spec\":{\"ports\":[{\"port\":80,\"name\":\"http\"},{\"port\":443,\"name\":\"https\"}]}}", 0, NULL);
        p = json_loads("{\"spec\":{\"ports\":[{\"port\":443,\"targetPort\":8443}]}}", 0, NULL);
        ck_assert_int_eq(patch_strategic(t, p, &r, msg, sizeof(msg)), 0);
        expect_json(json_object_get(json_object_get(r, "spec"), "ports"),
                    "[{\"port\":80,\"name\":\"http\"},{\"port\":443,\"name\":\"https\",\"targetPort\":8443}]");
        json_decref(r);
        json_decref(p);
        json_decref(t);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("kts_patch");
        TCase *tc = tcase_create("patch");
        tcase_add_test(tc, merge_patch_follows_rfc7386_examples);
        tcase_add_test(tc, json_patch_applies_all_six_operations);
        tcase_add_test(tc, json_patch_failures_name_the_operation);
        tcase_add_test(tc, strategic_merge_handles_directives_and_merge_keys);
        tcase_add_test(tc, strategic_merge_keys_of_pod_templates_and_service_ports);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(suite)
