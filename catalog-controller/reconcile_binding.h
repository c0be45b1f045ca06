/* catalog-controller/reconcile_binding.h: the ServiceBinding reconciler: bind, write the
 * Secret, unbind, orphan mitigation, as service-catalog does them (docs/controller.md,
 * "Binding", says what ours does and where it differs). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "common/osb_error.h"
#include "catalog-controller/ctl.h"
#include "catalog-controller/pass.h"

/* The queue handler for "ServiceBinding/ns/name" keys. Returns as reconcile_instance(). */
int reconcile_binding(struct ctl *c, const char *key);

/* Whether ServiceInstance @instance (JSON) may be bound from namespace @binding_ns: always from
 * its own; from another only with annotation bindery.dev/allowCrossNamespaceBinding "true" or
 * @binding_ns in the comma-separated bindery.dev/allowedNamespacesForBinding. Pure. */
bool reconcile_binding_shared(const json_t *instance, const char *binding_ns);

/* For the rotation steps (reconcile_rotation.c), which write the same Secret and send the same
 * bind request as the binding's own bind: */

/* The name of the binding's Secret: spec.secretName, else the binding's. */
const char *reconcile_binding_secret_name(const struct pass *p);
/* Whether the controller ownerReference of @secret names this binding. */
bool reconcile_binding_owned(const struct pass *p, const json_t *secret);
/* Writes the credentials @creds of a bind to @instance into the Secret: created with our
 * ownerReference, replaced when ours, refused when someone else's. Returns 0, or an error with
 * @err for the status. */
int reconcile_binding_inject(struct pass *p, const json_t *instance, const json_t *creds, struct osb_error *err);
/* The bind request of this binding to @instance: *body (new), *props (new: the status's
 * inProgressProperties), *identity (new, or NULL). Returns 0; -ENOMEM; or another negative code
 * with *reason ("ErrorWithParameters", "BindCallFailed") and @err saying what failed (-EDOM: the
 * parameters do not match the plan's schema). */
int reconcile_binding_bind_request(struct pass *p, const json_t *instance, json_t **body, json_t **props,
                                   char **identity, const char **reason, struct osb_error *err);
