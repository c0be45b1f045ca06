/* test/unit/check_workloads.c: which workloads a rotated binding's Secret concerns: every way
 * a pod template uses a Secret, and the opt-in annotation. */
#include "common/osb_compat.h"
#include <check.h>
#include "catalog-controller/workloads.h"
#include "test/lib/check_main.h"

static json_t *workload(const char *pod_spec, const char *annotations)
{
        char text[2048];
        snprintf(text, sizeof(text), "{\"metadata\":{\"name\":\"w\",\"annotations\":%s},"
                 "\"spec\":{\"template\":{\"spec\":%s}}}", annotations, pod_spec);
        json_error_t jerr;
        json_t *j = json_loads(text, 0, &jerr);
        ck_assert_msg(j != NULL, "%s: %s", text, jerr.text);
        return j;
}

static const struct {
        const char *pod, *what;
        bool uses;
} cases[] = {
        {"{\"volumes\":[{\"name\":\"v\",\"secret\":{\"secretName\":\"creds\"}}]}", "a secret volume", true},
        {"{\"volumes\":[{\"name\":\"v\",\"projected\":{\"sources\":[{\"configMap\":{\"name\":\"creds\"}},"
         "{\"secret\":{\"name\":\"creds\"}}]}}]}", "a projected volume", true},
        {"{\"containers\":[{\"name\":\"a\",\"envFrom\":[{\"secretRef\":{\"name\":\"creds\"}}]}]}", "envFrom", true},
        {"{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\",\"env\":[{\"name\":\"X\",\"value\":\"1\"},"
         "{\"name\":\"P\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"creds\",\"key\":\"password\"}}}]}]}",
         "env valueFrom of a second container", true},
        {"{\"initContainers\":[{\"name\":\"i\",\"envFrom\":[{\"secretRef\":{\"name\":\"creds\"}}]}]}", "an init container", true},
        {"{\"containers\":[{\"name\":\"a\",\"envFrom\":[{\"configMapRef\":{\"name\":\"creds\"}}]}]}",
         "a ConfigMap of the same name", false},
        {"{\"containers\":[{\"name\":\"a\",\"envFrom\":[{\"secretRef\":{\"name\":\"creds-old\"}}]}],"
         "\"volumes\":[{\"name\":\"v\",\"secret\":{\"secretName\":\"cred\"}}]}", "other Secrets", false},
        {"{}", "no pod spec fields", false},
};

START_TEST(uses_secret)
{
        json_t *w = workload(cases[_i].pod, "{}");
        ck_assert_msg(workloads_uses_secret(w, "creds") == cases[_i].uses, "%s", cases[_i].what);
        json_decref(w);
}
END_TEST

START_TEST(opt_in_is_the_annotation_true_only)
{
        json_t *yes = workload("{}", "{\"" WORKLOADS_ANNOTATION_OPT_IN "\":\"true\"}");
        json_t *no = workload("{}", "{\"" WORKLOADS_ANNOTATION_OPT_IN "\":\"yes\"}");
        json_t *none = workload("{}", "{}");
        ck_assert(workloads_opted_in(yes));
        ck_assert(!workloads_opted_in(no));
        ck_assert(!workloads_opted_in(none));
        json_decref(yes);
        json_decref(no);
        json_decref(none);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("catalog-controller workloads");
        TCase *tc = tcase_create("match");
        tcase_add_loop_test(tc, uses_secret, 0, (int) OSB_ELEMENTSOF(cases));
        tcase_add_test(tc, opt_in_is_the_annotation_true_only);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(suite)
