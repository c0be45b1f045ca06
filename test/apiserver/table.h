/* test/apiserver/table.h: server-side printing: the meta.k8s.io/v1 Table kubectl asks for with
 * `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, with kube-apiserver's columns for the
 * built-in kinds and a CRD's additionalPrinterColumns (simple JSONPath) for custom resources. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "test/apiserver/types.h"

/* A new Table of the objects in @objs (an array). @include_object: "None", "Metadata" (the
 * default when NULL) or "Object". @headers: include columnDefinitions. @rv and @cont (may be NULL)
 * go to the Table's metadata. NULL on OOM. */
json_t *table_render(const struct kt_type *t, const json_t *objs, const char *rv, const char *cont,
                     const char *include_object, bool headers);

/* Evaluates a CRD printer column's JSONPath (".a.b", ".a[0]", ".a[?(@.k==\"v\")].b") on @obj.
 * Returns the first result (borrowed) or NULL. */
json_t *table_jsonpath(const json_t *obj, const char *path);
