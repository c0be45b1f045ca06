/* catalog-controller/binding_secret.h: a ServiceBinding's Secret, as its reconciler
 * (reconcile_binding.c) and its rotation (reconcile_rotation.c) write it: the name, the owner
 * check, the write of the broker's credentials (built by credentials_secret_build(), so every
 * write has one shape) and the delete. Works on a pass of the binding (pass.h). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "common/osb_error.h"
#include "catalog-controller/pass.h"

/* The name of the binding's Secret: spec.secretName, else the binding's name. */
const char *binding_secret_name(const struct pass *p);
/* Whether the controller ownerReference of @secret names this binding. */
bool binding_secret_owned(const struct pass *p, const json_t *secret);
/* Writes the credentials @creds of a bind to @instance (JSON) into the Secret: created with our
 * ownerReference, replaced when ours, refused when someone else's (OSB_E_CONFLICT). Returns 0,
 * or an error with @err for the status. */
int binding_secret_inject(struct pass *p, const json_t *instance, const json_t *creds, struct osb_error *err);
/* Deletes the Secret if it is ours (gone already: 0). */
int binding_secret_eject(struct pass *p, struct osb_error *err);
