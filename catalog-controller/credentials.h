/* catalog-controller/credentials.h: a binding's OSB credentials turned into the `data` of its
 * Kubernetes Secret: spec.secretTransforms applied in order, then every value
 * serialised to bytes and base64-encoded. Pure: other Secrets are read through a callback. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "common/osb_error.h"

/* Kubernetes refuses a Secret whose values add up to more than this (MaxSecretSize). */
#define CREDENTIALS_MAX_BYTES (1024u * 1024u)
/* Kubernetes' limit on a Secret key (IsConfigMapKey: a DNS-1123 subdomain's length). */
#define CREDENTIALS_MAX_KEY_LEN 253

/* Reads another Secret's data for addKeysFrom: returns 0 with *data (new: a JSON object of
 * key -> base64 string, as in Secret.data; NULL counts as no data), or a negative code with
 * @err set and *data untouched. */
typedef int (*credentials_secret_fn)(void *userdata, const char *ns, const char *name, json_t **data,
                                     struct osb_error *err);

/* Applies @transforms (the binding's spec.secretTransforms array, borrowed; NULL, JSON null or
 * [] = none) in order to @creds (the broker's credentials object, borrowed; NULL = {}; its values are
 * referenced, never changed) and serialises the result as a Secret "data" object, returned in
 * *data (new): key -> base64 of the value's bytes. A JSON string becomes its UTF-8 bytes; any
 * other JSON value (number, bool, null, object, array) its compact JSON text with object keys
 * in their original order and reals in their shortest round-trip form (0.1, not jansson's
 * 0.10000000000000001); bytes added by addKey.value and addKeysFrom stay as given.
 *
 * Transforms, each an object with exactly one of:
 *   {"renameKey":{"from":A,"to":B}}           moves A to B (replacing B) when A is present;
 *   {"addKey":{"key":K, "jsonPathExpression":P, "stringValue":S, "value":BASE64}}
 *                                             sets K from the first of P, S, BASE64 present
 *                                             (at least one is required);
 *   {"addKeysFrom":{"secretRef":{"namespace":NS,"name":N}}}
 *                                             copies every key of that Secret (NS defaults to
 *                                             @default_ns), read with @get_secret;
 *   {"removeKey":{"key":K}}                   removes K when present.
 * A jsonPathExpression is evaluated by credentials_jsonpath() over the credentials as they
 * are at that point, earlier transforms included; keys holding bytes are seen as strings.
 *
 * Every resulting key must be a valid Secret key (1 to 253 of [-._a-zA-Z0-9], not "." or
 * "..", not starting with "..") and the values together at most CREDENTIALS_MAX_BYTES.
 *
 * Returns 0, or with nothing written to *data:
 *   OSB_E_BAD_REQUEST with @err naming the JSON path of the culprit, e.g.
 *     "spec.secretTransforms[2].addKey.jsonPathExpression: '{.nope}' matches nothing in the
 *     credentials", "credentials key 'a b' is not a valid Secret key";
 *   whatever @get_secret returned, its message prefixed "spec.secretTransforms[i].addKeysFrom: "
 *     (-EINVAL when @get_secret is NULL and an addKeysFrom needs it);
 *   -ENOMEM. */
int credentials_to_secret_data(const json_t *creds, const json_t *transforms, const char *default_ns,
                               credentials_secret_fn get_secret, void *userdata, json_t **data,
                               struct osb_error *err);

/* Evaluates the Kubernetes JSONPath template @expr over @root (borrowed). Supported:
 * literal text around any number of {PATH} or {"literal"} parts; a PATH is an optional '$'
 * then steps ".name" (a '\' escapes the next character, so "{.a\.b}" names the key "a.b"),
 * ".*", "[N]" (negative counts from the end), "[*]", "['name']" or "[\"name\"]"; "{.}" and
 * "{$}" are @root itself. An expression without braces that starts with '.' or '$' is one
 * PATH (kubectl's relaxed form: ".a.b"). Each part's matches are written space-separated: a
 * string as is, any other value as compact JSON. Recursive descent, filters, slices, unions
 * and range/end are not supported (-EINVAL).
 * Returns 0 with *ret (new, NUL-terminated; a selected string containing NUL bytes is cut
 * there), or: -EINVAL for a syntax error ("invalid JSONPath 'E': WHAT at offset N");
 * OSB_E_NOT_FOUND when a part matches nothing ("'{.nope}' matches nothing"); -E2BIG when the
 * result would exceed CREDENTIALS_MAX_BYTES or a part selects too many values;
 * OSB_E_BAD_REQUEST when a selected value holds a string that is not UTF-8 and so cannot be
 * written as JSON; -ENOMEM. @err says which. */
int credentials_jsonpath(const json_t *root, const char *expr, char **ret, struct osb_error *err);
