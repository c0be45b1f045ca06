/* test/unit/check_rotation.c: a ServiceBinding's credential rotation policy and schedule: due,
 * not yet due, expiry before the frequency, forced, a retired binding's TTL, bad policies. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_mem.h"
#include "catalog-controller/rotation.h"
#include "test/lib/check_main.h"

#define T0 ((time_t) 1800000000)

static struct rotation_policy parse_ok(const char *spec_text)
{
        json_t *spec = json_loads(spec_text, 0, NULL);
        ck_assert_ptr_nonnull(spec);
        struct rotation_policy p = {0};
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(rotation_policy_parse(spec, &p, &err) == 0, "%s: %s", spec_text, err.text);
        json_decref(spec);
        return p;
}

START_TEST(policy_parses_sap_fields)
{
        struct rotation_policy p = parse_ok("{\"credentialsRotationPolicy\":{\"enabled\":true,"
                                            "\"rotationFrequency\":\"720h\",\"rotatedBindingTTL\":\"90m\"}}");
        ck_assert(p.enabled);
        ck_assert_int_eq(p.frequency_s, 720 * 3600);
        ck_assert_int_eq(p.ttl_s, 90 * 60);
}
END_TEST

START_TEST(no_policy_is_disabled_with_default_ttl)
{
        struct rotation_policy p = parse_ok("{}");
        ck_assert(!p.enabled);
        ck_assert_int_eq(p.frequency_s, 0);
        ck_assert_int_eq(p.ttl_s, ROTATION_DEFAULT_TTL_S);
}
END_TEST

static const struct {
        const char *spec, *msg;
} bad[] = {
        {"{\"credentialsRotationPolicy\":[]}", "spec.credentialsRotationPolicy: must be an object"},
        {"{\"credentialsRotationPolicy\":{\"enabled\":\"yes\",\"rotationFrequency\":\"1h\"}}",
         "spec.credentialsRotationPolicy.enabled: must be true or false"},
        {"{\"credentialsRotationPolicy\":{\"enabled\":true}}",
         "spec.credentialsRotationPolicy.rotationFrequency: required when enabled"},
        {"{\"credentialsRotationPolicy\":{\"enabled\":true,\"rotationFrequency\":\"secret-ish\"}}",
         "spec.credentialsRotationPolicy.rotationFrequency: not a duration of a second or more, such as 720h or 90m"},
        {"{\"credentialsRotationPolicy\":{\"enabled\":true,\"rotationFrequency\":\"1h\",\"rotatedBindingTTL\":\"10ms\"}}",
         "spec.credentialsRotationPolicy.rotatedBindingTTL: not a duration of a second or more, such as 720h or 90m"},
};

START_TEST(bad_policy_names_the_field_and_leaves_ret)
{
        json_t *spec = json_loads(bad[_i].spec, 0, NULL);
        ck_assert_ptr_nonnull(spec);
        struct rotation_policy p = {.enabled = true, .frequency_s = 7, .ttl_s = 9};
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(rotation_policy_parse(spec, &p, &err), OSB_E_BAD_REQUEST);
        ck_assert_str_eq(err.text, bad[_i].msg);
        ck_assert(p.enabled && p.frequency_s == 7 && p.ttl_s == 9);
        json_decref(spec);
}
END_TEST

static const struct rotation_policy hourly = {.enabled = true, .frequency_s = 3600, .ttl_s = 60};

START_TEST(not_due_before_the_frequency)
{
        struct rotation_times t = {.last = T0};
        time_t next = 0;
        ck_assert_int_eq(rotation_decide(&hourly, &t, false, T0 + 3599, &next), ROTATION_NONE);
        ck_assert_int_eq(next, T0 + 3600);
}
END_TEST

START_TEST(due_at_the_frequency)
{
        struct rotation_times t = {.last = T0};
        time_t next = 0;
        ck_assert_int_eq(rotation_decide(&hourly, &t, false, T0 + 3600, &next), ROTATION_SCHEDULED);
        ck_assert_int_eq(next, T0 + 3600);
        ck_assert_int_eq(rotation_decide(&hourly, &t, false, T0 + 99999, &next), ROTATION_SCHEDULED);
}
END_TEST

START_TEST(disabled_policy_is_never_due)
{
        struct rotation_policy off = {.enabled = false, .frequency_s = 60, .ttl_s = 60};
        struct rotation_times t = {.last = T0};
        time_t next = 1;
        ck_assert_int_eq(rotation_decide(&off, &t, false, T0 + 999999, &next), ROTATION_NONE);
        ck_assert_int_eq(next, 0);
}
END_TEST

START_TEST(renew_before_wins_over_a_later_frequency)
{
        struct rotation_times t = {.last = T0, .expires_at = T0 + 1000, .renew_before = T0 + 900};
        time_t next = 0;
        ck_assert_int_eq(rotation_decide(&hourly, &t, false, T0 + 899, &next), ROTATION_NONE);
        ck_assert_int_eq(next, T0 + 900);
        ck_assert_int_eq(rotation_decide(&hourly, &t, false, T0 + 900, &next), ROTATION_EXPIRY);
}
END_TEST

START_TEST(expires_at_alone_rotates_at_four_fifths)
{
        struct rotation_times t = {.last = T0, .expires_at = T0 + 1000};
        time_t next = 0;
        ck_assert_int_eq(rotation_decide(&hourly, &t, false, T0 + 799, &next), ROTATION_NONE);
        ck_assert_int_eq(next, T0 + 800);
        ck_assert_int_eq(rotation_decide(&hourly, &t, false, T0 + 800, &next), ROTATION_EXPIRY);
}
END_TEST

START_TEST(expiry_applies_without_a_policy)
{
        struct rotation_policy off = {.ttl_s = 60};
        struct rotation_times t = {.last = T0, .expires_at = T0 + 1000};
        time_t next = 0;
        ck_assert_int_eq(rotation_decide(&off, &t, false, T0 + 800, &next), ROTATION_EXPIRY);
}
END_TEST

START_TEST(a_frequency_earlier_than_expiry_wins)
{
        struct rotation_times t = {.last = T0, .expires_at = T0 + 86400 * 10};
        time_t next = 0;
        ck_assert_int_eq(rotation_decide(&hourly, &t, false, T0 + 3600, &next), ROTATION_SCHEDULED);
        ck_assert_int_eq(next, T0 + 3600);
}
END_TEST

START_TEST(already_expired_is_due_at_once)
{
        struct rotation_policy off = {.ttl_s = 60};
        struct rotation_times t = {.last = T0 + 50, .expires_at = T0};
        time_t next = 0;
        ck_assert_int_eq(rotation_decide(&off, &t, false, T0 + 60, &next), ROTATION_EXPIRY);
}
END_TEST

START_TEST(forced_is_due_now_even_without_a_policy)
{
        struct rotation_policy off = {.ttl_s = 60};
        struct rotation_times t = {.last = T0};
        time_t next = 0;
        ck_assert_int_eq(rotation_decide(&off, &t, true, T0 + 1, &next), ROTATION_FORCED);
        ck_assert_int_eq(next, T0 + 1);
}
END_TEST

START_TEST(retired_binding_unbound_once_its_ttl_elapsed)
{
        ck_assert(!rotation_retired_due(T0 + 60, T0 + 59));
        ck_assert(rotation_retired_due(T0 + 60, T0 + 60));
        ck_assert(rotation_retired_due(T0 + 60, T0 + 61));
}
END_TEST

START_TEST(retired_secret_name_is_bounded_and_stable)
{
        char *a = rotation_retired_secret_name("creds", "b-1"), *b = rotation_retired_secret_name("creds", "b-1"),
             *c = rotation_retired_secret_name("creds", "b-2");
        ck_assert_str_eq(a, b);
        ck_assert_str_ne(a, c);
        ck_assert_int_eq(strlen(a), strlen("creds") + 11);
        ck_assert(strncmp(a, "creds-", 6) == 0);
        char longname[254];
        memset(longname, 'a', 253);
        longname[253] = 0;
        char *d = rotation_retired_secret_name(longname, "b-1");
        ck_assert_int_eq(strlen(d), 253);
        osb_free(a);
        osb_free(b);
        osb_free(c);
        osb_free(d);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("catalog-controller rotation");
        TCase *tc = tcase_create("policy");
        tcase_add_test(tc, policy_parses_sap_fields);
        tcase_add_test(tc, no_policy_is_disabled_with_default_ttl);
        tcase_add_loop_test(tc, bad_policy_names_the_field_and_leaves_ret, 0, (int) OSB_ELEMENTSOF(bad));
        suite_add_tcase(s, tc);
        tc = tcase_create("schedule");
        tcase_add_test(tc, not_due_before_the_frequency);
        tcase_add_test(tc, due_at_the_frequency);
        tcase_add_test(tc, disabled_policy_is_never_due);
        tcase_add_test(tc, renew_before_wins_over_a_later_frequency);
        tcase_add_test(tc, expires_at_alone_rotates_at_four_fifths);
        tcase_add_test(tc, expiry_applies_without_a_policy);
        tcase_add_test(tc, a_frequency_earlier_than_expiry_wins);
        tcase_add_test(tc, already_expired_is_due_at_once);
        tcase_add_test(tc, forced_is_due_now_even_without_a_policy);
        tcase_add_test(tc, retired_binding_unbound_once_its_ttl_elapsed);
        tcase_add_test(tc, retired_secret_name_is_bounded_and_stable);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(suite)
