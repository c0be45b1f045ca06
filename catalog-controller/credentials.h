/* catalog-controller/credentials.h: a binding's OSB credentials turned into its Kubernetes
 * Secret: spec.secretTransforms applied in order, then the layout the binding asks for
 * (secretKey, secretRootKey, instance metadata keys, secretTemplate, servicebinding.io
 * entries), every value serialised to bytes and base64-encoded. Every write of a binding's
 * Secret goes through credentials_secret_build(), so every Secret of a binding has one shape.
 * Pure: other Secrets are read through a callback. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
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

/* What a binding asks of its Secret beyond spec.secretTransforms (docs/controller.md, "The
 * Secret's layout"). Every pointer borrowed. */
struct credentials_shape {
        const json_t *transforms;       /* spec.secretTransforms; NULL = none */
        const char *secret_key;         /* spec.secretKey: the credentials as one JSON value; NULL = none */
        const char *root_key;           /* spec.secretRootKey: credentials and instance as one JSON value */
        bool instance_keys;             /* spec.secretInstanceMetadata: the instance keys beside the credentials */
        const json_t *instance;         /* instance_guid, instance_name, plan, type, label, tags (an object) */
        const char *template_text;      /* spec.secretTemplate; NULL = none */
        const char *sb_type;            /* servicebinding.io "type" entry; NULL = none */
        const char *sb_provider;        /* servicebinding.io "provider" entry; NULL = none */
        bool sb_secret_type;            /* Secret type servicebinding.io/<sb_type> */
};

/* A binding's Secret, as credentials_secret_build() makes it. */
struct credentials_secret {
        json_t *data;                   /* key -> base64, as Secret.data */
        char *type;                     /* the Secret's type: "Opaque" unless asked otherwise */
        json_t *labels, *annotations;   /* from the template's metadata, or NULL */
};
void credentials_secret_release(struct credentials_secret *s);

/* Reads the shape's fields from a ServiceBinding's @spec (borrowed; the returned pointers point
 * into it) and takes @instance (borrowed) as its instance metadata: @sb_type and @sb_provider
 * are the defaults of the servicebinding.io entries, used when spec.serviceBindingIO is present
 * without its own. Returns 0, or OSB_E_BAD_REQUEST with @err naming the field of the wrong type. */
int credentials_shape_from_spec(const json_t *spec, const json_t *instance, const char *sb_type,
                                const char *sb_provider, struct credentials_shape *ret, struct osb_error *err);

/* Builds a binding's Secret from the broker's @creds (as credentials_to_secret_data()) in this
 * order: (1) secretTransforms; (2) the layout: one key per credential, or with secret_key one
 * key holding the credentials' JSON, or with root_key one key holding a JSON object of the
 * credentials (under secret_key when both are set) and the instance keys; with instance_keys
 * (and no root_key) the instance keys are added beside, replacing credentials of the same name;
 * (3) the template, when set: rendered (template.h) over {"credentials": the credentials after
 * step 1, "instance": the instance keys} into a YAML Secret manifest whose stringData and data,
 * when it has either, replace the data of step 2, and whose metadata.labels,
 * metadata.annotations and type are taken; (4) the servicebinding.io entries "type" and
 * "provider", replacing keys of the same name, and the Secret type servicebinding.io/<type>.
 * The keys and size are checked as credentials_to_secret_data() checks them.
 * Returns 0 with *ret filled (release with credentials_secret_release()), or with nothing
 * written: the errors of credentials_to_secret_data(); OSB_E_BAD_REQUEST with @err starting
 * "spec.secretKey: ", "spec.secretRootKey: " or "spec.secretTemplate: " (a template's errors give
 * its line and column; a rendered Secret that cannot be read is described without quoting
 * it); -ENOMEM. */
int credentials_secret_build(const json_t *creds, const struct credentials_shape *shape, const char *default_ns,
                             credentials_secret_fn get_secret, void *userdata, struct credentials_secret *ret,
                             struct osb_error *err);
