/* broker/schema.h: a JSON Schema validator for the subset brokers use in plan schemas
 * (draft-04 to draft-07 keywords: type, properties, required, additionalProperties, items,
 * enum, const, minimum, maximum, exclusiveMinimum/Maximum (bool and number forms), minLength,
 * maxLength, pattern (POSIX ERE), minItems, maxItems, uniqueItems, minProperties,
 * maxProperties, allOf, anyOf, oneOf, not, format (ignored), local "$ref": "#/definitions/..."
 * and "#/$defs/..."). Unknown keywords are ignored, as the spec requires. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "common/osb_error.h"

/* Checks that @schema is usable: a JSON object with a "$schema" string, no "$ref" that leaves
 * the document, and at most 64 KiB when serialised. Returns 0, or OSB_E_INVALID_CONFIG with a
 * message naming the offending keyword's path below @path. */
int schema_check(const json_t *schema, const char *path, struct osb_error *err);

/* Validates @instance against @schema. Returns 0, or OSB_E_BAD_REQUEST with a message naming
 * the first failing location as a JSON path rooted at @root (e.g. "parameters.size: must be
 * at most 10"). Bounded recursion: a schema nested deeper than 64 levels fails validation. */
int schema_validate(const json_t *schema, const json_t *instance, const char *root,
                    struct osb_error *err);
