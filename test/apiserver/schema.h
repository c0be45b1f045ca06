/* test/apiserver/schema.h: structural OpenAPI v3 schemas of CustomResourceDefinitions: pruning
 * of unknown fields, defaulting, and validation with kube-apiserver's field error wording. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

/* Removes fields the schema does not know (x-kubernetes-preserve-unknown-fields keeps them;
 * at the root apiVersion, kind and metadata are kept). Appends each removed field's path
 * ("spec.foo") to @unknown (array; may be NULL). Returns 0 or -ENOMEM. */
int schema_prune(const json_t *schema, json_t *obj, json_t *unknown);

/* Fills absent fields that have a `default` (recursively, also inside the defaults), and drops
 * nulls of non-nullable fields without a default. Returns 0 or -ENOMEM. */
int schema_default(const json_t *schema, json_t *obj);

/* Validates @obj (the whole custom resource) against @schema: type, required, enum, nullable,
 * minimum/maximum, minLength/maxLength, minItems/maxItems, pattern, format (byte, date-time,
 * int32, int64), x-kubernetes-int-or-string. Appends one cause per error to @causes as
 * {"reason":"FieldValueRequired","message":"Required value","field":"spec.url"}. Returns the
 * number of errors, or -ENOMEM. */
int schema_validate(const json_t *schema, const json_t *obj, json_t *causes);

/* Formats @causes as kube-apiserver's aggregate: "f: msg" or "[f: msg, g: msg]". Returns
 * the number of bytes written (truncated to @n). */
size_t schema_causes_text(const json_t *causes, char *buf, size_t n);

/* Appends one cause (helper shared with built-in validation). Returns 0 or -ENOMEM. */
int schema_add_cause(json_t *causes, const char *reason, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
