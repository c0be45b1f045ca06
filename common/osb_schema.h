/* common/osb_schema.h: a JSON Schema validator for the subset brokers use in plan schemas
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
 * the document, and at most 64 KiB when serialised; also that the keywords this module
 * understands are well-formed (type names, patterns that compile, non-negative bounds, local
 * "$ref"s that resolve), nested at most 64 levels. Returns 0, -ENOMEM, or OSB_E_INVALID_CONFIG
 * with a message "PATH.below: why" naming the offending keyword's path below @path. */
int osb_schema_check(const json_t *schema, const char *path, struct osb_error *err);

/* Validates @instance against @schema. Returns 0, or OSB_E_BAD_REQUEST with a message naming
 * the first failing location (or saying it took more than OSB_SCHEMA_MAX_STEPS) as a JSON path rooted at @root (e.g. "parameters.size: must be
 * at most 10"), or -ENOMEM. Bounded recursion: a schema nested deeper than 64 levels (or a
 * "$ref" loop) fails validation. "pattern" is an ECMA-262 regex translated to POSIX ERE: \d \w \s
 * and their negations are supported, look-arounds and back-references are not. */
int osb_schema_validate(const json_t *schema, const json_t *instance, const char *root,
                    struct osb_error *err);

/* The work osb_schema_validate() does for one value is bounded: a step is one (sub)schema applied
 * to one value (a "pattern" counts 64, an "enum" its length, "uniqueItems" the array's length).
 * Past this many steps it stops with OSB_E_BAD_REQUEST saying so: a schema whose anyOf/oneOf/
 * not alternatives recurse costs exponential time in the nesting of the parameters otherwise.
 * 200,000 steps take well under a second. */
#define OSB_SCHEMA_MAX_STEPS 200000

/* What osb_schema_validate_flags() does beyond osb_schema_validate(). */
enum osb_schema_flag {
        /* every violation, not only the first: validation goes on with the next property, item
         * and allOf schema (the alternatives of anyOf, oneOf and not count as one) */
        OSB_SCHEMA_ALL = 1 << 0,
        /* messages never quote the schema's text (its enum and const values, patterns, "$ref"s)
         * nor bytes of a property name that are not printable ASCII (written \xNN): for a
         * platform, to which the schema is a broker's untrusted bytes */
        OSB_SCHEMA_QUIET = 1 << 1,
};
/* At most this many violations are listed under OSB_SCHEMA_ALL. */
#define OSB_SCHEMA_MAX_VIOLATIONS 100

/* osb_schema_validate() with @flags (OSB_SCHEMA_*). On OSB_E_BAD_REQUEST, @err says the first
 * violation (and how many more), and under OSB_SCHEMA_ALL *@violations (when not NULL) is a new
 * array of every violation's message ("parameters.size: must be at most 10"), in document
 * order. The work stays bounded by OSB_SCHEMA_MAX_STEPS. */
int osb_schema_validate_flags(const json_t *schema, const json_t *instance, const char *root, unsigned flags,
                              json_t **violations, struct osb_error *err);
