/* test/unit/check_catalog_controller_leader.c: the leader election's decisions (catalog-controller/
 * leader.c): given a Lease and a monotonic clock, create, take over, renew or wait; expiry
 * measured from when the record was last seen to change; a leader past its renew deadline; the
 * Lease bodies written for a take-over, a renewal and a release. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_mem.h"
#include "catalog-controller/leader.h"
#include "test/lib/check_main.h"

#define ME "host-a_1234abcd"
#define OTHER "host-b_5678ef01"
#define DEFAULT_MS 15000

static struct leader_record rec(const char *holder, int64_t dur_s, const char *renew, int64_t transitions)
{
        return (struct leader_record){.holder = (char *) holder, .lease_duration_s = dur_s,
                                      .acquire_time = (char *) "2026-01-01T00:00:00.000000Z",
                                      .renew_time = (char *) renew, .transitions = transitions};
}

START_TEST(no_lease_is_created)
{
        struct leader_view v = LEADER_VIEW_INIT;
        ck_assert_int_eq(leader_decide(&v, NULL, ME, DEFAULT_MS, 0), LEADER_CREATE);
        leader_view_release(&v);
}
END_TEST

START_TEST(own_lease_is_renewed_even_when_expired)
{
        struct leader_view v = LEADER_VIEW_INIT;
        struct leader_record r = rec(ME, 3, "2026-01-01T00:00:01.000000Z", 2);
        ck_assert_int_eq(leader_decide(&v, &r, ME, DEFAULT_MS, 1000), LEADER_RENEW);
        ck_assert_int_eq(leader_decide(&v, &r, ME, DEFAULT_MS, 1000000), LEADER_RENEW);
        leader_view_release(&v);
}
END_TEST

START_TEST(released_lease_is_taken_at_once)
{
        struct leader_view v = LEADER_VIEW_INIT;
        struct leader_record r = rec("", 1, "2026-01-01T00:00:01.000000Z", 4);
        ck_assert_int_eq(leader_decide(&v, &r, ME, DEFAULT_MS, 5), LEADER_TAKE);
        struct leader_record none = rec(NULL, 15, NULL, 0);
        ck_assert_int_eq(leader_decide(&v, &none, ME, DEFAULT_MS, 6), LEADER_TAKE);
        leader_view_release(&v);
}
END_TEST

START_TEST(foreign_lease_waits_until_duration_after_observation)
{
        struct leader_view v = LEADER_VIEW_INIT;
        struct leader_record r = rec(OTHER, 3, "2026-01-01T00:00:01.000000Z", 0);
        /* first seen at 1000: valid until 4000 by our clock, whatever renewTime says */
        ck_assert_int_eq(leader_decide(&v, &r, ME, DEFAULT_MS, 1000), LEADER_WAIT);
        ck_assert_int_eq(leader_decide(&v, &r, ME, DEFAULT_MS, 3999), LEADER_WAIT);
        ck_assert_int_eq(leader_decide(&v, &r, ME, DEFAULT_MS, 4000), LEADER_TAKE);
        leader_view_release(&v);
}
END_TEST

START_TEST(renewal_seen_restarts_the_expiry)
{
        struct leader_view v = LEADER_VIEW_INIT;
        struct leader_record r1 = rec(OTHER, 3, "2026-01-01T00:00:01.000000Z", 0);
        struct leader_record r2 = rec(OTHER, 3, "2026-01-01T00:00:03.000000Z", 0);
        ck_assert_int_eq(leader_decide(&v, &r1, ME, DEFAULT_MS, 0), LEADER_WAIT);
        ck_assert_int_eq(leader_decide(&v, &r2, ME, DEFAULT_MS, 2000), LEADER_WAIT);
        ck_assert_int_eq(leader_decide(&v, &r2, ME, DEFAULT_MS, 4999), LEADER_WAIT);
        ck_assert_int_eq(leader_decide(&v, &r2, ME, DEFAULT_MS, 5000), LEADER_TAKE);
        leader_view_release(&v);
}
END_TEST

START_TEST(unchanged_record_keeps_first_observation)
{
        struct leader_view v = LEADER_VIEW_INIT;
        struct leader_record r = rec(OTHER, 10, "2026-01-01T00:00:01.000000Z", 1);
        ck_assert_int_eq(leader_observe(&v, &r, 100), 1);
        ck_assert_int_eq(leader_observe(&v, &r, 5000), 0);
        ck_assert_int_eq(v.observed_ms, 100);
        ck_assert(!leader_expired(&v, DEFAULT_MS, 10099));
        ck_assert(leader_expired(&v, DEFAULT_MS, 10100));
        leader_view_release(&v);
}
END_TEST

START_TEST(zero_duration_counts_as_the_default)
{
        struct leader_view v = LEADER_VIEW_INIT;
        struct leader_record r = rec(OTHER, 0, "2026-01-01T00:00:01.000000Z", 0);
        ck_assert_int_eq(leader_decide(&v, &r, ME, 2000, 0), LEADER_WAIT);
        ck_assert_int_eq(leader_decide(&v, &r, ME, 2000, 1999), LEADER_WAIT);
        ck_assert_int_eq(leader_decide(&v, &r, ME, 2000, 2000), LEADER_TAKE);
        leader_view_release(&v);
}
END_TEST

START_TEST(nothing_observed_is_expired)
{
        struct leader_view v = LEADER_VIEW_INIT;
        ck_assert(leader_expired(&v, DEFAULT_MS, 0));
}
END_TEST

START_TEST(leader_past_renew_deadline_has_lost)
{
        ck_assert(!leader_renew_overdue(1000, 2000, 1000));
        ck_assert(!leader_renew_overdue(1000, 2000, 3000));
        ck_assert(leader_renew_overdue(1000, 2000, 3001));
        /* a process stopped for a minute finds itself far past it */
        ck_assert(leader_renew_overdue(1000, 10000, 61000));
}
END_TEST

START_TEST(record_is_read_from_the_lease)
{
        json_auto_t *lease = json_pack("{s:{s:s,s:i,s:s,s:s,s:i}}", "spec", "holderIdentity", OTHER,
                                       "leaseDurationSeconds", 15, "acquireTime", "2026-01-01T00:00:00.000000Z",
                                       "renewTime", "2026-01-01T00:00:09.000000Z", "leaseTransitions", 7);
        struct leader_record r;
        ck_assert_int_eq(leader_record_from_json(lease, &r), 0);
        ck_assert_str_eq(r.holder, OTHER);
        ck_assert_int_eq(r.lease_duration_s, 15);
        ck_assert_str_eq(r.renew_time, "2026-01-01T00:00:09.000000Z");
        ck_assert_int_eq(r.transitions, 7);
        leader_record_release(&r);
        json_auto_t *empty = json_pack("{s:{}}", "metadata");
        ck_assert_int_eq(leader_record_from_json(empty, &r), 0);
        ck_assert_ptr_null(r.holder);
        ck_assert_int_eq(r.transitions, 0);
        leader_record_release(&r);
}
END_TEST

static json_t *live_lease(const char *holder, int transitions)
{
        return json_pack("{s:s,s:s,s:{s:s,s:s,s:s},s:{s:s,s:i,s:s,s:s,s:i}}", "apiVersion", "coordination.k8s.io/v1",
                         "kind", "Lease", "metadata", "name", "catalog-controller", "namespace", "kube-system",
                         "resourceVersion", "42", "spec", "holderIdentity", holder, "leaseDurationSeconds", 15,
                         "acquireTime", "2026-01-01T00:00:00.000000Z", "renewTime", "2026-01-01T00:00:09.000000Z",
                         "leaseTransitions", transitions);
}

#define NOW "2026-01-01T00:01:00.123456Z"

START_TEST(take_over_counts_a_transition_and_keeps_resource_version)
{
        json_auto_t *live = live_lease(OTHER, 3);
        json_auto_t *w = leader_lease_for(live, LEADER_TAKE, "kube-system", "catalog-controller", ME, 3, NOW);
        ck_assert_ptr_nonnull(w);
        json_t *spec = json_object_get(w, "spec");
        ck_assert_str_eq(json_string_value(json_object_get(spec, "holderIdentity")), ME);
        ck_assert_int_eq(json_integer_value(json_object_get(spec, "leaseTransitions")), 4);
        ck_assert_int_eq(json_integer_value(json_object_get(spec, "leaseDurationSeconds")), 3);
        ck_assert_str_eq(json_string_value(json_object_get(spec, "acquireTime")), NOW);
        ck_assert_str_eq(json_string_value(json_object_get(spec, "renewTime")), NOW);
        /* the write is conditional on what was read */
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(w, "metadata"), "resourceVersion")), "42");
        /* the live copy is untouched */
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(live, "spec"), "holderIdentity")), OTHER);
}
END_TEST

START_TEST(renewal_keeps_acquire_time_and_transitions)
{
        json_auto_t *live = live_lease(ME, 3);
        json_auto_t *w = leader_lease_for(live, LEADER_RENEW, "kube-system", "catalog-controller", ME, 15, NOW);
        json_t *spec = json_object_get(w, "spec");
        ck_assert_int_eq(json_integer_value(json_object_get(spec, "leaseTransitions")), 3);
        ck_assert_str_eq(json_string_value(json_object_get(spec, "acquireTime")), "2026-01-01T00:00:00.000000Z");
        ck_assert_str_eq(json_string_value(json_object_get(spec, "renewTime")), NOW);
}
END_TEST

START_TEST(new_lease_has_no_transitions)
{
        json_auto_t *w = leader_lease_for(NULL, LEADER_CREATE, "ns1", "lease1", ME, 15, NOW);
        ck_assert_str_eq(json_string_value(json_object_get(w, "apiVersion")), "coordination.k8s.io/v1");
        ck_assert_str_eq(json_string_value(json_object_get(w, "kind")), "Lease");
        json_t *md = json_object_get(w, "metadata");
        ck_assert_str_eq(json_string_value(json_object_get(md, "name")), "lease1");
        ck_assert_str_eq(json_string_value(json_object_get(md, "namespace")), "ns1");
        json_t *spec = json_object_get(w, "spec");
        ck_assert_str_eq(json_string_value(json_object_get(spec, "holderIdentity")), ME);
        ck_assert_int_eq(json_integer_value(json_object_get(spec, "leaseTransitions")), 0);
        ck_assert_str_eq(json_string_value(json_object_get(spec, "acquireTime")), NOW);
}
END_TEST

START_TEST(release_empties_the_holder_and_keeps_transitions)
{
        json_auto_t *live = live_lease(ME, 5);
        json_auto_t *w = leader_lease_released(live, NOW);
        json_t *spec = json_object_get(w, "spec");
        ck_assert_str_eq(json_string_value(json_object_get(spec, "holderIdentity")), "");
        ck_assert_int_eq(json_integer_value(json_object_get(spec, "leaseDurationSeconds")), 1);
        ck_assert_int_eq(json_integer_value(json_object_get(spec, "leaseTransitions")), 5);
        ck_assert_str_eq(json_string_value(json_object_get(spec, "renewTime")), NOW);
        /* and a candidate reading it takes it at once */
        struct leader_record r;
        ck_assert_int_eq(leader_record_from_json(w, &r), 0);
        struct leader_view v = LEADER_VIEW_INIT;
        ck_assert_int_eq(leader_decide(&v, &r, OTHER, DEFAULT_MS, 0), LEADER_TAKE);
        leader_view_release(&v);
        leader_record_release(&r);
}
END_TEST

START_TEST(now_is_a_micro_time)
{
        char t[40];
        leader_now_micro(t);
        ck_assert_int_eq(strlen(t), 27);
        ck_assert_int_eq(t[10], 'T');
        ck_assert_int_eq(t[19], '.');
        ck_assert_int_eq(t[26], 'Z');
}
END_TEST

START_TEST(observe_survives_allocation_failures)
{
        struct leader_record r = rec(OTHER, 3, "2026-01-01T00:00:01.000000Z", 0);
        for (size_t n = 0; n < 16; n++) {
                struct leader_view v = LEADER_VIEW_INIT;
                osb_mem_fail_at(n);
                int x = leader_observe(&v, &r, 7);
                osb_mem_fail_at(SIZE_MAX);
                if (x == 1) {
                        ck_assert_str_eq(v.seen.holder, OTHER);
                        ck_assert_int_eq(v.observed_ms, 7);
                        leader_view_release(&v);
                        break;
                }
                ck_assert_int_eq(x, -ENOMEM);
                ck_assert(!v.have);
        }
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("catalog-controller leader");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, no_lease_is_created);
        tcase_add_test(tc, own_lease_is_renewed_even_when_expired);
        tcase_add_test(tc, released_lease_is_taken_at_once);
        tcase_add_test(tc, foreign_lease_waits_until_duration_after_observation);
        tcase_add_test(tc, renewal_seen_restarts_the_expiry);
        tcase_add_test(tc, unchanged_record_keeps_first_observation);
        tcase_add_test(tc, zero_duration_counts_as_the_default);
        tcase_add_test(tc, nothing_observed_is_expired);
        tcase_add_test(tc, leader_past_renew_deadline_has_lost);
        tcase_add_test(tc, record_is_read_from_the_lease);
        tcase_add_test(tc, take_over_counts_a_transition_and_keeps_resource_version);
        tcase_add_test(tc, renewal_keeps_acquire_time_and_transitions);
        tcase_add_test(tc, new_lease_has_no_transitions);
        tcase_add_test(tc, release_empties_the_holder_and_keeps_transitions);
        tcase_add_test(tc, now_is_a_micro_time);
        tcase_add_test(tc, observe_survives_allocation_failures);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(suite)
