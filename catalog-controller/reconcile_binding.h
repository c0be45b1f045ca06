/* catalog-controller/reconcile_binding.h: the ServiceBinding reconciler: bind, write the
 * Secret, unbind, orphan mitigation, as service-catalog does them (docs/controller.md,
 * "Binding", says what ours does and where it differs). */
#pragma once

#include "catalog-controller/ctl.h"

/* The queue handler for "ServiceBinding/ns/name" keys. Returns as reconcile_instance(). */
int reconcile_binding(struct ctl *c, const char *key);
