/* test/unit/check_catalog_controller_sharing.c: which namespaces may bind to a ServiceInstance
 * (reconcile_binding_shared(), catalog-controller/reconcile_binding.c): its own always; others
 * only as the instance's annotations allow. */
#include "common/osb_compat.h"
#include <check.h>
#include "catalog-controller/reconcile_binding.h"
#include "test/lib/check_main.h"

/* An instance in namespace "a" with @annotations (a JSON object text, or NULL). */
static json_t *instance_with(const char *annotations)
{
        char text[512];
        (void) snprintf(text, sizeof(text), "{\"metadata\":{\"name\":\"db\",\"namespace\":\"a\"%s%s}}",
                        annotations ? ",\"annotations\":" : "", annotations ? annotations : "");
        json_t *o = json_loads(text, 0, NULL);
        ck_assert_ptr_nonnull(o);
        return o;
}

START_TEST(its_own_namespace_may_always_bind)
{
        json_auto_t *i = instance_with(NULL);
        ck_assert(reconcile_binding_shared(i, "a"));
}
END_TEST

START_TEST(no_annotation_shares_with_nobody)
{
        json_auto_t *i = instance_with(NULL);
        ck_assert(!reconcile_binding_shared(i, "b"));
        json_auto_t *j = instance_with("{\"bindery.dev/allowCrossNamespaceBinding\":\"false\"}");
        ck_assert(!reconcile_binding_shared(j, "b"));
        /* SAP's own annotation names are not ours */
        json_auto_t *k = instance_with("{\"services.cloud.sap.com/allowCrossNamespaceBinding\":\"true\"}");
        ck_assert(!reconcile_binding_shared(k, "b"));
}
END_TEST

START_TEST(allow_cross_namespace_true_shares_with_everybody)
{
        json_auto_t *i = instance_with("{\"bindery.dev/allowCrossNamespaceBinding\":\"true\"}");
        ck_assert(reconcile_binding_shared(i, "b"));
        ck_assert(reconcile_binding_shared(i, "zz"));
        json_auto_t *j = instance_with("{\"bindery.dev/allowCrossNamespaceBinding\":\"True\"}");
        ck_assert(!reconcile_binding_shared(j, "b"));
}
END_TEST

START_TEST(allowed_namespaces_are_matched_whole)
{
        json_auto_t *i = instance_with("{\"bindery.dev/allowedNamespacesForBinding\":\"ns1,ns2, ns3\"}");
        ck_assert(reconcile_binding_shared(i, "ns1"));
        ck_assert(reconcile_binding_shared(i, "ns2"));
        ck_assert(reconcile_binding_shared(i, "ns3"));
        ck_assert(!reconcile_binding_shared(i, "ns"));
        ck_assert(!reconcile_binding_shared(i, "ns12"));
        ck_assert(!reconcile_binding_shared(i, "s1"));
        ck_assert(!reconcile_binding_shared(i, ""));
        json_auto_t *e = instance_with("{\"bindery.dev/allowedNamespacesForBinding\":\"\"}");
        ck_assert(!reconcile_binding_shared(e, "b"));
        json_auto_t *n = instance_with("{\"bindery.dev/allowedNamespacesForBinding\":7}");
        ck_assert(!reconcile_binding_shared(n, "7"));
}
END_TEST

static Suite *sharing_suite(void)
{
        Suite *s = suite_create("catalog_controller_sharing");
        TCase *tc = tcase_create("sharing");
        tcase_add_test(tc, its_own_namespace_may_always_bind);
        tcase_add_test(tc, no_annotation_shares_with_nobody);
        tcase_add_test(tc, allow_cross_namespace_true_shares_with_everybody);
        tcase_add_test(tc, allowed_namespaces_are_matched_whole);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(sharing_suite)
