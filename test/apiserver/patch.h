/* test/apiserver/patch.h: the three PATCH formats kubectl and controllers send: JSON merge
 * patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch (merge semantics plus the
 * directives kubectl emits, and merge keys for the few built-in lists that have them). */
#pragma once

#include <jansson.h>
#include <stddef.h>

/* All return 0 with *ret new (json_decref) or -EINVAL with a message in @msg (the patch cannot
 * be applied: 422 for JSON patch, 400 for a malformed patch), or -ENOMEM. @target is not
 * modified. */
int patch_merge(const json_t *target, const json_t *patch, json_t **ret);
int patch_json(const json_t *target, const json_t *ops, json_t **ret, char *msg, size_t msglen);
/* @path of @target's root for merge-key lookup: "" for a whole object. */
int patch_strategic(const json_t *target, const json_t *patch, json_t **ret, char *msg, size_t msglen);
