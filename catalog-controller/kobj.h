/* catalog-controller/kobj.h: reading our annotations and editing our finalizer
 * (NAMES_FINALIZER) on a Kubernetes object held as JSON, in place. The caller owns @obj. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

/* The value of annotation @key, borrowed, or NULL. */
const char *kobj_annotation(const json_t *obj, const char *key);
/* Whether metadata.finalizers holds our finalizer. */
bool kobj_has_finalizer(const json_t *obj);
/* Removes our finalizer from @obj. Returns whether it was there. */
bool kobj_drop_finalizer(json_t *obj);
/* Adds our finalizer to @obj unless present. Returns 1 (added), 0, -ENOMEM. */
int kobj_add_finalizer(json_t *obj);
