/* catalog-controller/dispatch.h: what a worker does with a queue key: hands it to the reconciler
 * of its kind, but only once main.c has published every informer (ctl.started). Until then a
 * key waits: the informers start one after the other, their threads call the handlers (which
 * queue keys) as soon as they have listed, and a worker must not read an informer pointer that
 * main.c has not stored yet. */
#pragma once

#include <stdbool.h>

#include "catalog-controller/ctl.h"

/* How long a key handled before ctl.started (or, for instances and bindings, before every cache
 * has listed) waits before it is handled again. */
#define DISPATCH_WAIT_MS 200

/* Processes queue key @key ("ClusterServiceBroker/...", "ServiceBroker/...",
 * "ServiceInstance/...", "ServiceBinding/..."): a queue_fn with @c as its userdata. Returns the
 * reconciler's result, or 0 when the key was put back for later (-ENOMEM when it could not
 * be). */
int dispatch_key(struct ctl *c, const char *key);

/* Whether @c's informers are published (ctl.started) and each has listed once. */
bool dispatch_synced(struct ctl *c);
