/* catalog-controller/reconcile_binding.h: the ServiceBinding reconciler: bind, write the
 * Secret, unbind, orphan mitigation, as service-catalog does them (docs/controller.md,
 * "Binding", says what ours does and where it differs). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "catalog-controller/ctl.h"

/* The queue handler for "ServiceBinding/ns/name" keys. Returns as reconcile_instance(). */
int reconcile_binding(struct ctl *c, const char *key);

/* Whether ServiceInstance @instance (JSON) may be bound from namespace @binding_ns: always from
 * its own; from another only with annotation bindery.dev/allowCrossNamespaceBinding "true" or
 * @binding_ns in the comma-separated bindery.dev/allowedNamespacesForBinding. Pure. */
bool reconcile_binding_shared(const json_t *instance, const char *binding_ns);
