/* test/unit/check_catalog_controller_packed.c: the packed form of the cached objects' JSON
 * (catalog-controller/packed.c): every text comes back byte for byte, a typical object packs
 * small, and what packed_pack() cannot have written is refused. */
#include "common/osb_compat.h"
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "common/osb_mem.h"
#include "catalog-controller/packed.h"
#include "test/lib/check_main.h"

/* A Ready instance of the controller benchmark, as the test API server sends it. */
static const char instance[] =
        "{\"apiVersion\":\"servicecatalog.k8s.io/v1beta1\",\"kind\":\"ServiceInstance\",\"metadata\":{"
        "\"creationTimestamp\":\"2026-12-07T16:23:05Z\",\"finalizers\":[\"kubernetes-incubator/service-catalog\"],"
        "\"generation\":2,\"labels\":{\"servicecatalog.k8s.io/spec.clusterServiceClassRef.name\":"
        "\"cf7414323f4ac09923e97228bba4340268147e22592c56ea6097957b\",\"servicecatalog.k8s.io/spec."
        "clusterServicePlanRef.name\":\"dac179508e7018c20ee23a38aebc0401a1ee907cda34b4ef451737b7\"},"
        "\"name\":\"i-async-00004\",\"namespace\":\"bench-async-0\",\"resourceVersion\":\"361\","
        "\"uid\":\"48008af4-d468-4ed2-848a-7552d6743db9\"},\"spec\":{\"clusterServiceClassExternalName\":"
        "\"bench-db\",\"clusterServiceClassRef\":{\"name\":\"bench-svc\"},\"clusterServicePlanExternalName\":"
        "\"async\",\"clusterServicePlanRef\":{\"name\":\"bench-plan-async\"},\"externalID\":"
        "\"6c6c3f00-cf51-4d41-b0a5-2a29a16ac448\",\"updateRequests\":0},\"status\":{\"asyncOpInProgress\":false,"
        "\"conditions\":[{\"lastTransitionTime\":\"2026-12-07T16:23:06Z\",\"message\":\"The instance was "
        "provisioned successfully\",\"reason\":\"ProvisionedSuccessfully\",\"status\":\"True\",\"type\":\"Ready\"}],"
        "\"deprovisionStatus\":\"Required\",\"externalProperties\":{\"clusterServicePlanExternalID\":"
        "\"bench-plan-async\",\"clusterServicePlanExternalName\":\"async\"},\"lastConditionState\":\"Ready\","
        "\"observedGeneration\":2,\"orphanMitigationInProgress\":false,\"provisionStatus\":\"Provisioned\","
        "\"reconciledGeneration\":2,\"userSpecifiedClassName\":\"ClusterServiceClass/bench-db\","
        "\"userSpecifiedPlanName\":\"async\"}}";

static void round_trip(const char *text, size_t n)
{
        char *p = packed_pack(text, n);
        ck_assert_ptr_nonnull(p);
        size_t m = 0;
        char *back = packed_unpack(p, &m);
        ck_assert_ptr_nonnull(back);
        ck_assert_uint_eq(m, n);
        ck_assert(memcmp(back, text, n) == 0);
        ck_assert_int_eq(back[n], '\0');
        osb_free(back);
        osb_free(p);
}

START_TEST(a_typical_instance_comes_back_and_packs_to_a_third)
{
        round_trip(instance, strlen(instance));
        char *p = packed_pack(instance, strlen(instance));
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_lt(strlen(p), strlen(instance) / 3);
        osb_free(p);
}
END_TEST

START_TEST(any_text_comes_back)
{
        round_trip("", 0);
        round_trip("x", 1);
        round_trip("{}", 2);
        /* long runs, long literals, matches overlapping their own output, bytes above 0x7f */
        size_t n = 200000;
        char *t = osb_malloc(n + 1);
        ck_assert_ptr_nonnull(t);
        memset(t, 'a', n);
        round_trip(t, n);
        srand(7);
        for (size_t i = 0; i < n; i++)
                t[i] = (char) (1 + rand() % 255);
        round_trip(t, n);
        for (size_t i = 0; i < n; i++)
                t[i] = (char) ((i % 3000 < 1500) ? instance[i % (sizeof(instance) - 1)] : 1 + rand() % 40);
        round_trip(t, n);
        osb_free(t);
}
END_TEST

START_TEST(a_nul_byte_is_refused_and_so_is_what_pack_cannot_have_written)
{
        ck_assert_ptr_null(packed_pack("a\0b", 3));
        /* a literal run longer than what follows; a match without its distance; a distance
         * before the dictionary */
        ck_assert_ptr_null(packed_unpack("\x05" "ab", NULL));
        ck_assert_ptr_null(packed_unpack("\x80\x01", NULL));
        ck_assert_ptr_null(packed_unpack("\x80\xff\xff", NULL));
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("catalog-controller packed cache text");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, a_typical_instance_comes_back_and_packs_to_a_third);
        tcase_add_test(tc, any_text_comes_back);
        tcase_add_test(tc, a_nul_byte_is_refused_and_so_is_what_pack_cannot_have_written);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(suite)
