/* catalog-controller/reconcile_binding.h: the ServiceBinding reconciler (reference §1.6 and
 * N1-N6, O3; docs/controller.md says what ours does differently). */
#pragma once

#include "catalog-controller/ctl.h"

/* The queue handler for "ServiceBinding/ns/name" keys. Returns as reconcile_instance(). */
int reconcile_binding(struct ctl *c, const char *key);
