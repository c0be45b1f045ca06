/* broker/metrics.c: Prometheus counters and histograms for the broker's requests. */
#include "common/osb_compat.h"
#include "broker/metrics.h"

static const char *const ep_names[EP_MAX] = {
        [EP_CATALOG] = "catalog",
        [EP_PROVISION] = "provision",
        [EP_UPDATE] = "update",
        [EP_DEPROVISION] = "deprovision",
        [EP_FETCH_INSTANCE] = "fetch_instance",
        [EP_INSTANCE_LAST_OPERATION] = "instance_last_operation",
        [EP_BIND] = "bind",
        [EP_UNBIND] = "unbind",
        [EP_FETCH_BINDING] = "fetch_binding",
        [EP_BINDING_LAST_OPERATION] = "binding_last_operation",
        [EP_HEALTH] = "health",
        [EP_METRICS] = "metrics",
        [EP_OTHER] = "other",
};

static const unsigned statuses[] = {200, 201, 202, 304, 400, 401, 404, 405, 409, 410,
                                    412, 413, 415, 422, 500, 502, 503, 0 /* other */};
#define N_STATUS OSB_ELEMENTSOF(statuses)
static const double buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
#define N_BUCKET OSB_ELEMENTSOF(buckets)

static atomic_uint_fast64_t requests[EP_MAX][N_STATUS];
static atomic_uint_fast64_t hist[EP_MAX][N_BUCKET + 1];
static atomic_uint_fast64_t hist_sum_ns[EP_MAX];

const char *metrics_endpoint_name(enum metrics_endpoint ep)
{
        return ep < EP_MAX ? ep_names[ep] : "other";
}

void metrics_observe(enum metrics_endpoint ep, unsigned status, uint64_t duration_ns)
{
        if (ep >= EP_MAX)
                ep = EP_OTHER;
        size_t s = N_STATUS - 1;
        for (size_t i = 0; i + 1 < N_STATUS; i++)
                if (statuses[i] == status)
                        s = i;
        atomic_fetch_add_explicit(&requests[ep][s], 1, memory_order_relaxed);
        double secs = (double) duration_ns / 1e9;
        size_t b = N_BUCKET;
        for (size_t i = 0; i < N_BUCKET; i++)
                if (secs <= buckets[i]) {
                        b = i;
                        break;
                }
        atomic_fetch_add_explicit(&hist[ep][b], 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&hist_sum_ns[ep], duration_ns, memory_order_relaxed);
}

int metrics_render(struct osb_buf *out, const struct metrics_gauges *g)
{
        int r = osb_buf_appends(out,
                                "# HELP osb_broker_requests_total HTTP requests answered, by endpoint and status.\n"
                                "# TYPE osb_broker_requests_total counter\n");
        for (size_t e = 0; r >= 0 && e < EP_MAX; e++)
                for (size_t s = 0; r >= 0 && s < N_STATUS; s++) {
                        uint64_t v = atomic_load_explicit(&requests[e][s], memory_order_relaxed);
                        if (!v)
                                continue;
                        if (statuses[s])
                                r = osb_buf_appendf(out, "osb_broker_requests_total{endpoint=\"%s\",status=\"%u\"} %" PRIu64 "\n",
                                                    ep_names[e], statuses[s], v);
                        else
                                r = osb_buf_appendf(out, "osb_broker_requests_total{endpoint=\"%s\",status=\"other\"} %" PRIu64 "\n",
                                                    ep_names[e], v);
                }
        if (r >= 0)
                r = osb_buf_appends(out,
                                    "# HELP osb_broker_request_duration_seconds Time from request arrival to response.\n"
                                    "# TYPE osb_broker_request_duration_seconds histogram\n");
        for (size_t e = 0; r >= 0 && e < EP_MAX; e++) {
                uint64_t cum = 0;
                for (size_t b = 0; b <= N_BUCKET; b++)
                        cum += atomic_load_explicit(&hist[e][b], memory_order_relaxed);
                if (!cum)
                        continue;
                uint64_t acc = 0;
                for (size_t b = 0; r >= 0 && b < N_BUCKET; b++) {
                        acc += atomic_load_explicit(&hist[e][b], memory_order_relaxed);
                        r = osb_buf_appendf(out, "osb_broker_request_duration_seconds_bucket{endpoint=\"%s\",le=\"%g\"} %" PRIu64 "\n",
                                            ep_names[e], buckets[b], acc);
                }
                if (r >= 0)
                        r = osb_buf_appendf(out,
                                            "osb_broker_request_duration_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} %" PRIu64 "\n"
                                            "osb_broker_request_duration_seconds_sum{endpoint=\"%s\"} %.6f\n"
                                            "osb_broker_request_duration_seconds_count{endpoint=\"%s\"} %" PRIu64 "\n",
                                            ep_names[e], cum, ep_names[e],
                                            (double) atomic_load(&hist_sum_ns[e]) / 1e9, ep_names[e], cum);
        }
        if (r >= 0)
                r = osb_buf_appendf(out,
                                    "# HELP osb_broker_instances Service instances in the store (failed provisions excepted).\n"
                                    "# TYPE osb_broker_instances gauge\nosb_broker_instances %" PRId64 "\n"
                                    "# HELP osb_broker_bindings Service bindings in the store (failed binds excepted).\n"
                                    "# TYPE osb_broker_bindings gauge\nosb_broker_bindings %" PRId64 "\n"
                                    "# HELP osb_broker_operations_in_progress Asynchronous operations not finished.\n"
                                    "# TYPE osb_broker_operations_in_progress gauge\nosb_broker_operations_in_progress %" PRId64 "\n"
                                    "# HELP osb_broker_operations_queued Operations queued or running in the worker pool.\n"
                                    "# TYPE osb_broker_operations_queued gauge\nosb_broker_operations_queued %zu\n",
                                    g->instances, g->bindings, g->operations_in_progress, g->operations_queued);
        return r;
}
