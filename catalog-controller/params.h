/* catalog-controller/params.h: the parameters a ServiceInstance or ServiceBinding sends to its
 * broker: spec.parameters merged with the JSON objects held in the Secret keys
 * of spec.parametersFrom, a copy with the Secret-sourced values redacted for the status, and
 * the checksum that tells whether they changed. Pure: the caller reads the Secrets. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "common/osb_error.h"

/* A Secret holds at most 1 MiB (Kubernetes' MaxSecretSize); a longer source is refused. */
#define PARAMS_MAX_SOURCE_BYTES (1024u * 1024u)
/* What replaces a Secret-sourced value in the redacted copy, as service-catalog writes it. */
#define PARAMS_REDACTED "<redacted>"

/* One spec.parametersFrom[i].secretKeyRef, already read. All borrowed. */
struct params_source {
        const char *secret_name, *key;
        const char *value;  /* the Secret key's bytes (decoded), not necessarily NUL-terminated */
        size_t len;
};

/* Merges @inline_params (spec.parameters: a JSON object; NULL or JSON null for none; borrowed)
 * with the top-level keys of each source's JSON object, in order. On success returns 0 with *params (new) the
 * full object, *redacted (new) the same with every value that came from a Secret replaced by
 * the string "<redacted>", and @checksum the lowercase hex SHA-256 of *params dumped compact
 * with sorted keys. Neither output shares a value with @inline_params. With no inline
 * parameters and no sources: *params = *redacted = NULL and @checksum = "".
 * Errors, with nothing written to the outputs:
 *   OSB_E_BAD_REQUEST, @err saying which: "spec.parameters: must be a JSON object";
 *     "Secret NAME key KEY: not a JSON object"; "Secret NAME key KEY: invalid JSON: TEXT at
 *     line L column C" (also for duplicate keys and invalid UTF-8); "Secret NAME key KEY: N
 *     bytes, more than a Secret can hold (1048576)"; "parameter 'K' is set twice: in
 *     spec.parameters and in Secret NAME key KEY" (or in two Secrets);
 *   -ENOMEM. */
int params_build(const json_t *inline_params, const struct params_source *src, size_t n,
                 json_t **params, json_t **redacted, char checksum[65], struct osb_error *err);

/* Checks @params (as params_build() made them; NULL: none, which is not checked, as a broker
 * does not check absent parameters) against @schema, one of the plan's parameter schemas
 * (spec.instanceCreateParameterSchema, ...; NULL or JSON null: the plan has none, nothing is
 * checked). Returns 0; OSB_E_BAD_REQUEST with @err "N violation(s) of the plan's parameter schema:
 * parameters.size: must be at most 10; parameters.name: is required" listing as many as fit
 * (then "and N more"), each a JSON path and a rule, never a value of the parameters nor text of
 * the schema; or -ENOMEM. The work is bounded (OSB_SCHEMA_MAX_STEPS). */
int params_check(const json_t *schema, const json_t *params, struct osb_error *err);
