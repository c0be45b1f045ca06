/* catalog-controller/request.h: the parts of an OSB request that instances and bindings build
 * from their spec: the parameters (spec.parameters merged with spec.parametersFrom Secrets),
 * the originating identity, the platform context and the external ID; and a binding's whole bind
 * request (its reconciler's bind and its rotation's send the same). Every result is new and
 * owned by the caller. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "common/osb_error.h"
#include "catalog-controller/ctl.h"
#include "catalog-controller/pass.h"

/* The parameters of @spec (spec.parameters + spec.parametersFrom Secrets of namespace @ns), as
 * params_build() returns them. Errors name the Secret and key. */
int request_parameters(struct ctl *c, const char *ns, const json_t *spec, json_t **params, json_t **redacted,
                       char checksum[65], struct osb_error *err);
/* The X-Broker-API-Originating-Identity value for spec.userInfo ("kubernetes <base64 JSON>"),
                                                                  * or NULL (none, or OOM: *oom says which). */
char *request_identity(const json_t *spec, bool *oom);
/* Before an OSB call of pass @p: the client of its broker (pass_client()) and, in *@identity,
 * the originating identity of the object's spec.userInfo (NULL when it has none). Returns 0,
 * -ENOMEM (@err set), or pass_client()'s failure (@err says why). *@identity is the caller's to
 * free whatever the result. */
int request_call(struct pass *p, char **identity, struct osb_error *err);
/* The OSB context a Kubernetes platform sends. Returns new, or NULL on OOM. */
json_t *request_context(struct ctl *c, const char *ns, const char *ns_uid, const char *instance_name);
/* Sets spec.externalID (the OSB instance_id / binding_id) to a random UUID when empty.
 * Returns 1 (set), 0, or -ENOMEM. */
int request_default_external_id(json_t *spec);
/* The bind request of the binding of pass @p to @instance (JSON), its references resolved
 * (p->rv): *body (new), *props (new: the status's inProgressProperties), *identity (new, or
 * NULL). Returns 0; -ENOMEM; or another negative code with *reason ("ErrorWithParameters",
 * "BindCallFailed") and @err saying what failed (-EDOM: the parameters do not match the plan's
 * schema). */
int request_bind(struct pass *p, const json_t *instance, json_t **body, json_t **props, char **identity,
                 const char **reason, struct osb_error *err);
