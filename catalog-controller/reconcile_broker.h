/* catalog-controller/reconcile_broker.h: the ClusterServiceBroker and ServiceBroker reconciler:
 * finalizer, auth Secret, catalog fetch, classes and plans, removedFromBrokerCatalog,
 * restrictions, relist timing, conditions, Events, deletion (docs/controller.md, "Registering a
 * broker"). The broker as cached, and when its catalog is due, are broker.h's; the context every
 * reconciler shares is ctl.h's. */
#pragma once

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/osb_error.h"
#include "kube/client.h"
#include "catalog-controller/broker.h"
#include "catalog-controller/ctl.h"
#include "catalog-controller/informer.h"
#include "catalog-controller/offering.h"
#include "catalog-controller/queue.h"
#include "common/osb_strmap.h"

/* The queue handler for broker keys (@key with its prefix). Returns 0, or a negative code so the
 * queue retries with back-off. Logs one line per outcome. */
int reconcile_broker(struct ctl *c, const struct offering_flavour *fl, const char *key);
