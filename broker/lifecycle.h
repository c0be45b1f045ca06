/* broker/lifecycle.h: the OSB lifecycle of instances, bindings and operations. The states are
 * enums here; this module alone turns them into the strings stored in a row's state column
 * (migrations/0001_init.sql) and back, holds the table of legal moves, and is the only code
 * that changes a row's state (in the way of curl's smtp_state(): one place, which refuses and
 * logs an illegal move). Who moves what: the endpoints (broker/api.c) enter a state, the
 * operation workers (broker/ops.c, finish()) leave it; docs/architecture.md draws the table.
 *
 * X_NONE is "no row yet": a move from it creates the row. Deleting a row (store_delete_*) is
 * not a move. Rows are borrowed by every function; a move replaces the row's state string
 * (owned by the row, as store.h's rows own their strings). */
#pragma once

#include <stdbool.h>

#include "broker/store.h"

enum instance_state {
        INSTANCE_PROVISIONING, INSTANCE_READY, INSTANCE_UPDATING, INSTANCE_DEPROVISIONING,
        INSTANCE_FAILED,
        INSTANCE_NONE, INSTANCE_STATE_MAX = INSTANCE_NONE
};

enum binding_state {
        BINDING_BINDING, BINDING_READY, BINDING_UNBINDING, BINDING_FAILED,
        BINDING_NONE, BINDING_STATE_MAX = BINDING_NONE
};

enum op_state {
        OP_STATE_IN_PROGRESS, OP_STATE_SUCCEEDED, OP_STATE_FAILED,
        OP_STATE_NONE, OP_STATE_MAX = OP_STATE_NONE
};

/* Which machine; a state below is one of that machine's enum (X_NONE included). */
enum lifecycle_kind { LIFECYCLE_INSTANCE, LIFECYCLE_BINDING, LIFECYCLE_OPERATION, LIFECYCLE_KIND_MAX };

/* The stored string of a state ("provisioning", ..., "in progress"); NULL for X_NONE or out of
 * range. Borrowed, static. */
const char *lifecycle_name(enum lifecycle_kind k, unsigned state);

/* The state of a stored string; a NULL string is X_NONE. Returns 0 or -EINVAL. */
int lifecycle_parse(enum lifecycle_kind k, const char *s, unsigned *ret);

/* Whether the table allows the move @from -> @to (@from may be X_NONE; @to may not). */
bool lifecycle_legal(enum lifecycle_kind k, unsigned from, unsigned to);

/* The state string for a new row whose strings are borrowed (a row built on the stack): the
 * move X_NONE -> @to. Borrowed, static; NULL (logged) when the table refuses @to as a first
 * state. */
const char *lifecycle_initial(enum lifecycle_kind k, unsigned to);

/* Whether row @r is in state @s. */
bool lifecycle_instance_is(const struct instance_row *r, enum instance_state s);
bool lifecycle_binding_is(const struct binding_row *r, enum binding_state s);
bool lifecycle_op_is(const struct op_row *r, enum op_state s);

/* Moves row @r (its state NULL: a new row) to @to: the only functions that change a stored
 * state. Returns 0, -EINVAL for a move the table refuses (logged, the row unchanged), or
 * -ENOMEM. */
int lifecycle_instance_move(struct instance_row *r, enum instance_state to);
int lifecycle_binding_move(struct binding_row *r, enum binding_state to);
int lifecycle_op_move(struct op_row *r, enum op_state to);
