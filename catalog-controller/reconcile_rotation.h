/* catalog-controller/reconcile_rotation.h: the steps of a binding's credential rotation: the
 * pending id, the new bind, the Secret rewritten in place, the retired bindings unbound after
 * their TTL (docs/controller.md, "Credential rotation"). The state lives in the binding's
 * status.credentialsRotation, so a restarted controller carries on. Called by the binding
 * reconciler (reconcile_binding.c) on its own pass; the policy and its schedule are rotation.h's. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "common/osb_error.h"
#include "catalog-controller/pass.h"

/* The binding id whose credentials the Secret holds: spec.externalID until a rotation. */
const char *reconcile_rotation_current_id(const struct pass *p);
/* Whether a rotation is pending (its new id recorded, the broker's answer not yet carried out). */
bool reconcile_rotation_pending(const struct pass *p);
/* A binding made by a rotation is sent again as it was made: sets @body's predecessor_binding_id
 * when the current binding has one. Returns 0 or -ENOMEM. */
int reconcile_rotation_predecessor_into(struct pass *p, json_t *body);
/* After a bind of the binding itself: the broker's expiry is kept and the schedule starts.
 * Returns 0 or -ENOMEM. */
int reconcile_rotation_bound(struct pass *p, const json_t *resp_body);
/* Unbinds the retired bindings whose TTL ended (@all: every one, and a pending one: the
 * ServiceBinding is being deleted), each with its Secret; @iid: the instance's OSB id. Returns 0
 * when none is left to do now, 1 when one is still at the broker (the key comes back), or a
 * negative code. */
int reconcile_rotation_unbind_retired(struct pass *p, const char *iid, bool all, struct osb_error *err);
/* Whether a Ready, reconciled binding has anything to do with rotation. */
bool reconcile_rotation_wanted(const struct pass *p);
/* One rotation step of a Ready binding of @instance: unbind retired bindings whose TTL ended,
 * carry on a pending rotation, or start one when due (@spec_changed: a new generation of a
 * rotated binding, carried out by a rotation). Ready stays as it is. Returns 0 or a negative code. */
int reconcile_rotation_pass(struct pass *p, const json_t *instance, bool spec_changed, struct osb_error *err);
