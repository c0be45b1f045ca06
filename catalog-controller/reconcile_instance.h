/* catalog-controller/reconcile_instance.h: the ServiceInstance reconciler: provision, poll,
 * update, orphan mitigation, deprovision, as service-catalog does them (docs/controller.md,
 * "Provisioning", says what ours does and where it differs). */
#pragma once

#include <stdint.h>

#include "catalog-controller/ctl.h"

/* The queue handler for "ServiceInstance/ns/name" keys. Returns 0 (also when a retry is
 * scheduled with its own back-off and shown in the status) or a negative code for the queue's
 * back-off (the API server failed us). Logs what it did. */
int reconcile_instance(struct ctl *c, const char *key);

/* When to ask last_operation again, @age_ms into an operation: the broker's Retry-After when it
 * sent one (@retry_after_s >= 0; at least 250 ms); else max(250 ms, age/4) up to 2 s while the
 * operation is younger than 10 minutes (Ready within 2 s of the broker finishing), then age/30.
 * Never more than @cap_ms (--max-poll-interval; <= 0: 5 minutes). */
int64_t reconcile_instance_poll_delay(int64_t age_ms, long retry_after_s, int64_t cap_ms);
