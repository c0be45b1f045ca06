/* catalog-controller/request.h: the parts of an OSB request that instances and bindings build
 * from their spec: the parameters (spec.parameters merged with spec.parametersFrom Secrets),
 * the originating identity, the platform context and the external ID. Every result is new and
 * owned by the caller. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "common/osb_error.h"
#include "catalog-controller/ctl.h"

/* The parameters of @spec (spec.parameters + spec.parametersFrom Secrets of namespace @ns), as
 * params_build() returns them. Errors name the Secret and key. */
int request_parameters(struct ctl *c, const char *ns, const json_t *spec, json_t **params, json_t **redacted,
                       char checksum[65], struct osb_error *err);
/* The X-Broker-API-Originating-Identity value for spec.userInfo ("kubernetes <base64 JSON>"),
                                                                  * or NULL (none, or OOM: *oom says which). */
char *request_identity(const json_t *spec, bool *oom);
/* The OSB context a Kubernetes platform sends. Returns new, or NULL on OOM. */
json_t *request_context(struct ctl *c, const char *ns, const char *ns_uid, const char *instance_name);
/* Sets spec.externalID (the OSB instance_id / binding_id) to a random UUID when empty.
 * Returns 1 (set), 0, or -ENOMEM. */
int request_default_external_id(json_t *spec);
