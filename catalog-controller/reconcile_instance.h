/* catalog-controller/reconcile_instance.h: the ServiceInstance reconciler (reference §1.5 and
 * P1-P8, A1-A3, U1-U3, D1-D4, O1-O2; docs/controller.md says what ours does differently). */
#pragma once

#include "catalog-controller/ctl.h"

/* The queue handler for "ServiceInstance/ns/name" keys. Returns 0 (also when a retry is
 * scheduled with its own back-off and shown in the status) or a negative code for the queue's
 * back-off (the API server failed us). Logs what it did. */
int reconcile_instance(struct ctl *c, const char *key);
