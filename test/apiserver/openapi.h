/* test/apiserver/openapi.h: the minimal OpenAPI documents kubectl needs before it writes:
 * /openapi/v2 as gnostic protobuf (kubectl 1.20 downloads it for validation and to check
 * dryRun support) and /openapi/v3 (kubectl >= 1.27 checks there that PATCH of a kind takes
 * fieldValidation and dryRun, then leaves validation to the server). Only paths with their PATCH
 * operation are described: no schemas, so client-side validation finds no model and skips. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "test/apiserver/types.h"

/* A new protobuf openapi_v2.Document (osb_free), its size in *len; NULL on OOM. */
char *openapi_v2_protobuf(struct types *t, size_t *len);
/* The same document as JSON (for Accept: application/json). New reference or NULL. */
json_t *openapi_v2_json(struct types *t);
/* /openapi/v3: {"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=..."}, ...}} */
json_t *openapi_v3_root(struct types *t);
/* /openapi/v3/api/v1 or /openapi/v3/apis/G/V: an OpenAPI 3.0 document, or NULL if not served. */
json_t *openapi_v3_group_version(struct types *t, const char *group, const char *version);
