/* broker/metrics.h: request counters and latency histograms, rendered in the Prometheus text
 * format. Lock-free (atomics); safe from any thread. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/osb_buf.h"

enum metrics_endpoint {
        EP_CATALOG, EP_PROVISION, EP_UPDATE, EP_DEPROVISION, EP_FETCH_INSTANCE,
        EP_INSTANCE_LAST_OPERATION, EP_BIND, EP_UNBIND, EP_FETCH_BINDING,
        EP_BINDING_LAST_OPERATION, EP_HEALTH, EP_METRICS, EP_OTHER, EP_MAX
};

const char *metrics_endpoint_name(enum metrics_endpoint ep);
void metrics_observe(enum metrics_endpoint ep, unsigned status, uint64_t duration_ns);

struct metrics_gauges {
        int64_t instances, bindings, operations_in_progress;
        size_t operations_queued;
};

/* Appends the whole exposition to @out. Returns 0 or a negative osb_buf error. */
int metrics_render(struct osb_buf *out, const struct metrics_gauges *g);
