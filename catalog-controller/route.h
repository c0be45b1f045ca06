/* catalog-controller/route.h: which informer event queues which keys. The informers' threads
 * call these handlers (informer_handler, with the struct ctl * as userdata); each queues the
 * changed object's own key and the keys of the objects whose reconcile depends on it:
 *   - an instance: itself; its bindings when it appeared or became Ready (they wait for that),
 *     or is going away;
 *   - a binding: itself; its instance when the binding is going away (it may unblock the
 *     instance's deletion);
 *   - a Secret: the instances whose spec.parametersFrom name it (their parameters may have
 *     changed, which is sent as an update);
 *   - a broker: itself; and, but on a resync, the instances waiting for a class, plan or broker
 *     (Ready=False References...);
 *   - a class or plan: the waiting instances (but on a resync), and its broker when it was
 *     changed or deleted by someone else, so the broker puts it right.
 * Dependents are looked up only once ctl.started has published the informers (before that,
 * every object is queued by its own informer anyway). Routing reads the caches and the queue of
 * the ctl it is given, nothing else. */
#pragma once

#include "catalog-controller/informer.h"

void route_instance(void *c, enum informer_event ev, const struct informer_kmeta *old, const struct informer_kmeta *new);
void route_binding(void *c, enum informer_event ev, const struct informer_kmeta *old, const struct informer_kmeta *new);
void route_secret(void *c, enum informer_event ev, const struct informer_kmeta *old, const struct informer_kmeta *new);
/* ClusterServiceBrokers and ServiceBrokers. */
void route_cluster_broker(void *c, enum informer_event ev, const struct informer_kmeta *old, const struct informer_kmeta *new);
void route_broker(void *c, enum informer_event ev, const struct informer_kmeta *old, const struct informer_kmeta *new);
/* ClusterServiceClasses and ClusterServicePlans; ServiceClasses and ServicePlans. */
void route_cluster_offering(void *c, enum informer_event ev, const struct informer_kmeta *old, const struct informer_kmeta *new);
void route_offering(void *c, enum informer_event ev, const struct informer_kmeta *old, const struct informer_kmeta *new);
