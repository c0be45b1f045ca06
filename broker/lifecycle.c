/* broker/lifecycle.c: the three state machines (instance, binding, operation) as data, the
 * stored names of their states, and the one function that changes a state, move(). See
 * lifecycle.h. */
#include "common/osb_compat.h"
#include "common/osb_log.h"
#include "broker/lifecycle.h"

#define MAX_STATES 5

static const struct machine {
        const char *what;
        unsigned n;                         /* states; n itself is X_NONE */
        const char *names[MAX_STATES];      /* as stored (migrations/0001_init.sql) */
} machines[LIFECYCLE_KIND_MAX] = {
        [LIFECYCLE_INSTANCE] = {"instance", INSTANCE_STATE_MAX,
                                {"provisioning", "ready", "updating", "deprovisioning", STORE_TYPES_FAILED}},
        [LIFECYCLE_BINDING] = {"binding", BINDING_STATE_MAX, {"binding", "ready", "unbinding", STORE_TYPES_FAILED}},
        [LIFECYCLE_OPERATION] = {"operation", OP_STATE_MAX, {STORE_TYPES_IN_PROGRESS, "succeeded", STORE_TYPES_FAILED}},
};

/* The legal moves, and who makes them. Nothing else is legal; deleting a row is not a move. */
static const struct move {
        enum lifecycle_kind kind;
        unsigned from, to;
} moves[] = {
        /* provision: asynchronous or run by a blocking backend; or synchronous and done */
        {LIFECYCLE_INSTANCE, INSTANCE_NONE, INSTANCE_PROVISIONING},
        {LIFECYCLE_INSTANCE, INSTANCE_NONE, INSTANCE_READY},
        /* the provision operation finishes */
        {LIFECYCLE_INSTANCE, INSTANCE_PROVISIONING, INSTANCE_READY},
        {LIFECYCLE_INSTANCE, INSTANCE_PROVISIONING, INSTANCE_FAILED},
        /* deprovision, cancelling the provision operation */
        {LIFECYCLE_INSTANCE, INSTANCE_PROVISIONING, INSTANCE_DEPROVISIONING},
        /* update; its operation finishes (an instance stays usable after a failed update) */
        {LIFECYCLE_INSTANCE, INSTANCE_READY, INSTANCE_UPDATING},
        {LIFECYCLE_INSTANCE, INSTANCE_UPDATING, INSTANCE_READY},
        /* deprovision; its operation fails (success deletes the row) */
        {LIFECYCLE_INSTANCE, INSTANCE_READY, INSTANCE_DEPROVISIONING},
        {LIFECYCLE_INSTANCE, INSTANCE_DEPROVISIONING, INSTANCE_READY},

        /* bind: asynchronous or run by a blocking backend; or synchronous and done */
        {LIFECYCLE_BINDING, BINDING_NONE, BINDING_BINDING},
        {LIFECYCLE_BINDING, BINDING_NONE, BINDING_READY},
        /* the bind operation finishes */
        {LIFECYCLE_BINDING, BINDING_BINDING, BINDING_READY},
        {LIFECYCLE_BINDING, BINDING_BINDING, BINDING_FAILED},
        /* unbind (of a binding in progress: cancelling the bind operation); its operation
         * fails (success deletes the row) */
        {LIFECYCLE_BINDING, BINDING_BINDING, BINDING_UNBINDING},
        {LIFECYCLE_BINDING, BINDING_READY, BINDING_UNBINDING},
        {LIFECYCLE_BINDING, BINDING_UNBINDING, BINDING_READY},

        /* recorded by an endpoint; finished by its run, or failed by a delete that overtook it */
        {LIFECYCLE_OPERATION, OP_STATE_NONE, OP_STATE_IN_PROGRESS},
        {LIFECYCLE_OPERATION, OP_STATE_IN_PROGRESS, OP_STATE_SUCCEEDED},
        {LIFECYCLE_OPERATION, OP_STATE_IN_PROGRESS, OP_STATE_FAILED},
};

const char *lifecycle_name(enum lifecycle_kind k, unsigned state)
{
        return k < LIFECYCLE_KIND_MAX && state < machines[k].n ? machines[k].names[state] : NULL;
}

int lifecycle_parse(enum lifecycle_kind k, const char *s, unsigned *ret)
{
        if (k >= LIFECYCLE_KIND_MAX)
                return -EINVAL;
        if (!s) {
                *ret = machines[k].n;
                return 0;
        }
        for (unsigned i = 0; i < machines[k].n; i++)
                if (osb_streq(s, machines[k].names[i])) {
                        *ret = i;
                        return 0;
                }
        return -EINVAL;
}

bool lifecycle_legal(enum lifecycle_kind k, unsigned from, unsigned to)
{
        for (size_t i = 0; i < OSB_ELEMENTSOF(moves); i++)
                if (moves[i].kind == k && moves[i].from == from && moves[i].to == to)
                        return true;
        return false;
}

/* Whether @state (a row's stored string, NULL for a new row) may move to @to; logs a refusal.
 * @id names the row in the log. */
static bool allowed(enum lifecycle_kind k, const char *state, unsigned to, const char *id)
{
        unsigned from;
        if (lifecycle_parse(k, state, &from) >= 0 && lifecycle_legal(k, from, to))
                return true;
        const char *to_name = lifecycle_name(k, to);
        osb_log_error("illegal state change refused", "what=%s id=%s from=%s to=%s",
                      k < LIFECYCLE_KIND_MAX ? machines[k].what : "?", id ? id : "(new)",
                      state ? state : "(none)", to_name ? to_name : "?");
        return false;
}

/* The one place where a stored row's state changes. */
static int move(enum lifecycle_kind k, char **state, unsigned to, const char *id)
{
        if (!allowed(k, *state, to, id))
                return -EINVAL;
        return store_set_str(state, lifecycle_name(k, to));
}

const char *lifecycle_initial(enum lifecycle_kind k, unsigned to)
{
        return allowed(k, NULL, to, NULL) ? lifecycle_name(k, to) : NULL;
}

bool lifecycle_instance_is(const struct instance_row *r, enum instance_state s)
{
        return osb_streq(r->state, lifecycle_name(LIFECYCLE_INSTANCE, s));
}

int lifecycle_instance_move(struct instance_row *r, enum instance_state to)
{
        return move(LIFECYCLE_INSTANCE, &r->state, to, r->id);
}

bool lifecycle_binding_is(const struct binding_row *r, enum binding_state s)
{
        return osb_streq(r->state, lifecycle_name(LIFECYCLE_BINDING, s));
}

int lifecycle_binding_move(struct binding_row *r, enum binding_state to)
{
        return move(LIFECYCLE_BINDING, &r->state, to, r->id);
}

bool lifecycle_op_is(const struct op_row *r, enum op_state s)
{
        return osb_streq(r->state, lifecycle_name(LIFECYCLE_OPERATION, s));
}

int lifecycle_op_move(struct op_row *r, enum op_state to)
{
        return move(LIFECYCLE_OPERATION, &r->state, to, r->id);
}
