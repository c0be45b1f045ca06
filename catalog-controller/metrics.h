/* catalog-controller/metrics.h: the controller's Prometheus metrics: OSB requests by broker,
 * method and status class; Kubernetes API requests by verb, resource and code; reconcile
 * durations by kind; plus gauges the caller supplies at render time. Process-wide and
 * thread-safe (one mutex; the rates here are low). */
#pragma once

#include <stdint.h>

#include "common/osb_buf.h"

/* Counts one OSB request. @status: the HTTP status, or 0 for a transport failure
 * ("client-error"). @method: "GetCatalog", "ProvisionInstance", ... (service-catalog's names). */
void metrics_osb_request(const char *broker, const char *method, long status);
/* Counts one Kubernetes API request. @verb: "get", "list", "watch", "create", "update",
 * "patch", "delete"; @resource: the plural ("clusterserviceclasses", "clusterservicebrokers/status");
 * @r: the kube_* result (0, an OSB_E_* status code, or a transport error). */
void metrics_kube_request(const char *verb, const char *resource, int r);
/* Records how long one reconcile of @kind took, and whether it failed. */
void metrics_reconcile(const char *kind, uint64_t duration_ns, bool failed);
/* Sum of the kube request counters whose verb writes (create, update, patch, delete). */
uint64_t metrics_kube_writes(void);

struct metrics_gauges {
        uint64_t queue_depth, queue_delayed;
        uint64_t brokers, classes, plans, instances, bindings, secrets;
        bool ready;
        bool leader;             /* reconciling: always without --leader-elect */
};

/* Appends the exposition text. Returns 0 or an osb_buf error. */
int metrics_render(struct osb_buf *out, const struct metrics_gauges *g);
/* Forgets every counter (tests). */
void metrics_reset(void);
