/* test/unit/check_lifecycle.c: broker/lifecycle.c, the state machines of instances, bindings and
 * operations: every legal move is accepted and every other one refused (the table), states
 * round-trip through their stored strings, and a refused move leaves the row unchanged. The
 * expected moves are written out here again, independently of the table, as the spec. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_mem.h"
#include "broker/lifecycle.h"
#include "test/lib/check_main.h"

struct move {
        enum lifecycle_kind kind;
        unsigned from, to;
};

static const struct move legal_moves[] = {
        {LIFECYCLE_INSTANCE, INSTANCE_NONE, INSTANCE_PROVISIONING},
        {LIFECYCLE_INSTANCE, INSTANCE_NONE, INSTANCE_READY},
        {LIFECYCLE_INSTANCE, INSTANCE_PROVISIONING, INSTANCE_READY},
        {LIFECYCLE_INSTANCE, INSTANCE_PROVISIONING, INSTANCE_FAILED},
        {LIFECYCLE_INSTANCE, INSTANCE_PROVISIONING, INSTANCE_DEPROVISIONING},
        {LIFECYCLE_INSTANCE, INSTANCE_READY, INSTANCE_UPDATING},
        {LIFECYCLE_INSTANCE, INSTANCE_READY, INSTANCE_DEPROVISIONING},
        {LIFECYCLE_INSTANCE, INSTANCE_UPDATING, INSTANCE_READY},
        {LIFECYCLE_INSTANCE, INSTANCE_DEPROVISIONING, INSTANCE_READY},
        {LIFECYCLE_BINDING, BINDING_NONE, BINDING_BINDING},
        {LIFECYCLE_BINDING, BINDING_NONE, BINDING_READY},
        {LIFECYCLE_BINDING, BINDING_BINDING, BINDING_READY},
        {LIFECYCLE_BINDING, BINDING_BINDING, BINDING_FAILED},
        {LIFECYCLE_BINDING, BINDING_BINDING, BINDING_UNBINDING},
        {LIFECYCLE_BINDING, BINDING_READY, BINDING_UNBINDING},
        {LIFECYCLE_BINDING, BINDING_UNBINDING, BINDING_READY},
        {LIFECYCLE_OPERATION, OP_STATE_NONE, OP_STATE_IN_PROGRESS},
        {LIFECYCLE_OPERATION, OP_STATE_IN_PROGRESS, OP_STATE_SUCCEEDED},
        {LIFECYCLE_OPERATION, OP_STATE_IN_PROGRESS, OP_STATE_FAILED},
};

/* The number of states of each machine (X_NONE is that number). */
static const unsigned n_states[LIFECYCLE_KIND_MAX] = {
        [LIFECYCLE_INSTANCE] = INSTANCE_STATE_MAX,
        [LIFECYCLE_BINDING] = BINDING_STATE_MAX,
        [LIFECYCLE_OPERATION] = OP_STATE_MAX,
};

static bool listed(enum lifecycle_kind k, unsigned from, unsigned to)
{
        for (size_t i = 0; i < OSB_ELEMENTSOF(legal_moves); i++)
                if (legal_moves[i].kind == k && legal_moves[i].from == from && legal_moves[i].to == to)
                        return true;
        return false;
}

/* A row of kind @k in stored state @state moves to @to through the typed move function;
 * returns its answer, with the row's state after it in @after. */
static int move_row(enum lifecycle_kind k, const char *state, unsigned to, char *after, size_t n)
{
        struct instance_row inst = {.id = (char *) "i1"};
        struct binding_row b = {.id = (char *) "b1"};
        struct op_row op = {.id = (char *) "o1"};
        char **field = k == LIFECYCLE_INSTANCE ? &inst.state : k == LIFECYCLE_BINDING ? &b.state : &op.state;
        ck_assert_int_eq(store_set_str(field, state), 0);
        int r = k == LIFECYCLE_INSTANCE ? lifecycle_instance_move(&inst, to)
              : k == LIFECYCLE_BINDING  ? lifecycle_binding_move(&b, to)
                                        : lifecycle_op_move(&op, to);
        bool is = k == LIFECYCLE_INSTANCE ? lifecycle_instance_is(&inst, to)
                : k == LIFECYCLE_BINDING  ? lifecycle_binding_is(&b, to)
                                          : lifecycle_op_is(&op, to);
        ck_assert(is == osb_streq(*field, lifecycle_name(k, to)));
        (void) snprintf(after, n, "%s", *field ? *field : "(none)");
        osb_free(*field);
        return r;
}

/* Every pair of states of every machine, from "no row yet" too: exactly the moves listed above
 * are legal; the typed move functions accept them and refuse every other one, leaving the row
 * as it was. */
START_TEST(every_legal_move_is_accepted_and_every_other_refused)
{
        unsigned n_legal = 0;
        for (unsigned k = 0; k < LIFECYCLE_KIND_MAX; k++)
                for (unsigned from = 0; from <= n_states[k]; from++)
                        for (unsigned to = 0; to < n_states[k]; to++) {
                                bool want = listed(k, from, to);
                                n_legal += want;
                                ck_assert_msg(lifecycle_legal(k, from, to) == want, "kind %u: %u -> %u", k,
                                              from, to);
                                const char *before = lifecycle_name(k, from);
                                char after[32];
                                ck_assert_int_eq(move_row(k, before, to, after, sizeof(after)), want ? 0 : -EINVAL);
                                ck_assert_str_eq(after, want ? lifecycle_name(k, to) : before ? before : "(none)");
                                if (from == n_states[k]) {
                                        const char *s = lifecycle_initial(k, to);
                                        ck_assert(want ? osb_streq(s, lifecycle_name(k, to)) : !s);
                                }
                        }
        ck_assert_uint_eq(n_legal, OSB_ELEMENTSOF(legal_moves));
}
END_TEST

/* The stored strings are those of migrations/0001_init.sql's CHECK constraints. */
START_TEST(states_round_trip_through_their_stored_strings)
{
        static const char *const stored[LIFECYCLE_KIND_MAX][6] = {
                [LIFECYCLE_INSTANCE] = {"provisioning", "ready", "updating", "deprovisioning", "failed"},
                [LIFECYCLE_BINDING] = {"binding", "ready", "unbinding", "failed"},
                [LIFECYCLE_OPERATION] = {"in progress", "succeeded", "failed"},
        };
        for (unsigned k = 0; k < LIFECYCLE_KIND_MAX; k++) {
                unsigned i = 0;
                for (; stored[k][i]; i++) {
                        unsigned s;
                        ck_assert_int_eq(lifecycle_parse(k, stored[k][i], &s), 0);
                        ck_assert_uint_eq(s, i);
                        ck_assert_str_eq(lifecycle_name(k, s), stored[k][i]);
                }
                ck_assert_uint_eq(i, n_states[k]);
                unsigned none;
                ck_assert_int_eq(lifecycle_parse(k, NULL, &none), 0);
                ck_assert_uint_eq(none, n_states[k]);
                ck_assert_ptr_null(lifecycle_name(k, none));
        }
        unsigned s;
        ck_assert_int_eq(lifecycle_parse(LIFECYCLE_INSTANCE, "READY", &s), -EINVAL);
        ck_assert_int_eq(lifecycle_parse(LIFECYCLE_OPERATION, "in_progress", &s), -EINVAL);
}
END_TEST

/* A row whose stored state is unknown moves nowhere. */
START_TEST(unknown_stored_state_is_refused)
{
        struct instance_row r = {.id = (char *) "i1"};
        ck_assert_int_eq(store_set_str(&r.state, "sleeping"), 0);
        for (unsigned to = 0; to < INSTANCE_STATE_MAX; to++) {
                ck_assert_int_eq(lifecycle_instance_move(&r, to), -EINVAL);
                ck_assert(!lifecycle_instance_is(&r, to));
        }
        ck_assert_str_eq(r.state, "sleeping");
        osb_free(r.state);
}
END_TEST

static Suite *lifecycle_suite(void)
{
        Suite *s = suite_create("lifecycle");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, every_legal_move_is_accepted_and_every_other_refused);
        tcase_add_test(tc, states_round_trip_through_their_stored_strings);
        tcase_add_test(tc, unknown_stored_state_is_refused);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(lifecycle_suite)
