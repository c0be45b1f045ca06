/* catalog-controller/metrics.c: labelled counters kept in hash maps keyed by their rendered
 * label set, and one histogram family. */
#include "common/osb_compat.h"
#include "common/osb_error.h"
#include "common/osb_mem.h"
#include "catalog-controller/metrics.h"
#include "common/osb_strmap.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct osb_strmap osb_counters = OSB_STRMAP_INIT;   /* labels -> uint64_t * */
static struct osb_strmap kube_counters = OSB_STRMAP_INIT;
static uint64_t kube_writes;

static const double buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
#define NBUCKETS OSB_ELEMENTSOF(buckets)
struct histogram {
        uint64_t counts[NBUCKETS];
        uint64_t total, failed;
        double sum;
};
static struct osb_strmap histograms = OSB_STRMAP_INIT; /* kind -> struct histogram * */

/* Appends @s as a Prometheus label value (backslash, quote and newline escaped). */
static int append_label(struct osb_buf *b, const char *s)
{
        int r = 0;
        for (; *s && r >= 0; s++) {
                if (*s == '\\' || *s == '"')
                        r = osb_buf_appendf(b, "\\%c", *s);
                else if (*s == '\n')
                        r = osb_buf_appends(b, "\\n");
                else
                        r = osb_buf_append(b, s, 1);
        }
        return r;
}

static void bump(struct osb_strmap *m, const char *labels)
{
        uint64_t *c = osb_strmap_get(m, labels);
        if (!c) {
                c = osb_calloc(1, sizeof(*c));
                if (!c)
                        return;
                if (osb_strmap_put(m, labels, c, NULL) < 0) {
                        osb_free(c);
                        return;
                }
        }
        (*c)++;
}

void metrics_osb_request(const char *broker, const char *method, long status)
{
        char cls[32];
        if (status <= 0)
                (void) snprintf(cls, sizeof(cls), "client-error");
        else
                (void) snprintf(cls, sizeof(cls), "%ldxx", status / 100);
        struct osb_buf b;
        osb_buf_init(&b, 4096);
        if (osb_buf_appends(&b, "broker=\"") < 0 || append_label(&b, broker ? broker : "") < 0 ||
            osb_buf_appendf(&b, "\",method=\"%s\",status=\"%s\"", method, cls) < 0) {
                osb_buf_release(&b);
                return;
        }
        pthread_mutex_lock(&lock);
        bump(&osb_counters, b.data);
        pthread_mutex_unlock(&lock);
        osb_buf_release(&b);
}

static bool is_write(const char *verb)
{
        return strcmp(verb, "create") == 0 || strcmp(verb, "update") == 0 || strcmp(verb, "patch") == 0 ||
               strcmp(verb, "delete") == 0;
}

void metrics_kube_request(const char *verb, const char *resource, int r)
{
        char code[16];
        if (r == 0)
                (void) snprintf(code, sizeof(code), "2xx");
        else if (osb_error_is_domain(r))
                (void) snprintf(code, sizeof(code), "%u", osb_error_http_status(r));
        else if (r == -EACCES)
                (void) snprintf(code, sizeof(code), "403");
        else
                (void) snprintf(code, sizeof(code), "error");
        char labels[512];
        (void) snprintf(labels, sizeof(labels), "verb=\"%s\",resource=\"%s\",code=\"%s\"", verb, resource, code);
        pthread_mutex_lock(&lock);
        bump(&kube_counters, labels);
        if (is_write(verb))
                kube_writes++;
        pthread_mutex_unlock(&lock);
}

uint64_t metrics_kube_writes(void)
{
        pthread_mutex_lock(&lock);
        uint64_t n = kube_writes;
        pthread_mutex_unlock(&lock);
        return n;
}

void metrics_reconcile(const char *kind, uint64_t duration_ns, bool failed)
{
        double s = (double) duration_ns / 1e9;
        pthread_mutex_lock(&lock);
        struct histogram *h = osb_strmap_get(&histograms, kind);
        if (!h) {
                h = osb_calloc(1, sizeof(*h));
                if (h && osb_strmap_put(&histograms, kind, h, NULL) < 0) {
                        osb_free(h);
                        h = NULL;
                }
        }
        if (h) {
                for (size_t i = 0; i < NBUCKETS; i++)
                        if (s <= buckets[i])
                                h->counts[i]++;
                h->total++;
                h->sum += s;
                if (failed)
                        h->failed++;
        }
        pthread_mutex_unlock(&lock);
}

static int render_counters(struct osb_buf *out, const struct osb_strmap *m, const char *name, const char *help)
{
        int r = osb_buf_appendf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
        size_t i;
        for (struct osb_strmap_entry *e = osb_strmap_first(m, &i); e && r >= 0; e = osb_strmap_next(m, &i, e))
                r = osb_buf_appendf(out, "%s{%s} %" PRIu64 "\n", name, e->key, *(uint64_t *) e->value);
        return r;
}

int metrics_render(struct osb_buf *out, const struct metrics_gauges *g)
{
        pthread_mutex_lock(&lock);
        int r = render_counters(out, &osb_counters, "catalog_controller_osb_requests_total",
                                "Requests sent to brokers, by broker, OSB method and status class.");
        if (r >= 0)
                r = render_counters(out, &kube_counters, "catalog_controller_kube_requests_total",
                                    "Requests sent to the Kubernetes API server, by verb, resource and code.");
        if (r >= 0)
                r = osb_buf_appendf(out,
                                    "# HELP catalog_controller_reconcile_duration_seconds Time spent in one reconcile.\n"
                                    "# TYPE catalog_controller_reconcile_duration_seconds histogram\n");
        size_t i;
        for (struct osb_strmap_entry *e = osb_strmap_first(&histograms, &i); e && r >= 0; e = osb_strmap_next(&histograms, &i, e)) {
                const struct histogram *h = e->value;
                for (size_t k = 0; k < NBUCKETS && r >= 0; k++)
                        r = osb_buf_appendf(out, "catalog_controller_reconcile_duration_seconds_bucket{kind=\"%s\",le=\"%g\"} %" PRIu64 "\n",
                                            e->key, buckets[k], h->counts[k]);
                if (r >= 0)
                        r = osb_buf_appendf(out,
                                            "catalog_controller_reconcile_duration_seconds_bucket{kind=\"%s\",le=\"+Inf\"} %" PRIu64 "\n"
                                            "catalog_controller_reconcile_duration_seconds_sum{kind=\"%s\"} %.6f\n"
                                            "catalog_controller_reconcile_duration_seconds_count{kind=\"%s\"} %" PRIu64 "\n",
                                            e->key, h->total, e->key, h->sum, e->key, h->total);
        }
        if (r >= 0) {
                r = osb_buf_appends(out, "# HELP catalog_controller_reconcile_errors_total Reconciles that failed.\n"
                                         "# TYPE catalog_controller_reconcile_errors_total counter\n");
                for (struct osb_strmap_entry *e = osb_strmap_first(&histograms, &i); e && r >= 0; e = osb_strmap_next(&histograms, &i, e))
                        r = osb_buf_appendf(out, "catalog_controller_reconcile_errors_total{kind=\"%s\"} %" PRIu64 "\n", e->key,
                                            ((const struct histogram *) e->value)->failed);
        }
        if (r >= 0)
                r = osb_buf_appendf(out, "# HELP catalog_controller_kube_write_requests_total Create, update, patch and delete requests sent to the API server.\n"
                                         "# TYPE catalog_controller_kube_write_requests_total counter\n"
                                         "catalog_controller_kube_write_requests_total %" PRIu64 "\n", kube_writes);
        pthread_mutex_unlock(&lock);
        if (r >= 0 && g)
                r = osb_buf_appendf(out,
                                    "# HELP catalog_controller_queue_depth Keys waiting to be reconciled.\n"
                                    "# TYPE catalog_controller_queue_depth gauge\n"
                                    "catalog_controller_queue_depth %" PRIu64 "\n"
                                    "# HELP catalog_controller_queue_delayed Keys waiting for a retry or relist timer.\n"
                                    "# TYPE catalog_controller_queue_delayed gauge\n"
                                    "catalog_controller_queue_delayed %" PRIu64 "\n"
                                    "# HELP catalog_controller_cached_objects Objects in the informer caches.\n"
                                    "# TYPE catalog_controller_cached_objects gauge\n"
                                    "catalog_controller_cached_objects{kind=\"brokers\"} %" PRIu64 "\n"
                                    "catalog_controller_cached_objects{kind=\"classes\"} %" PRIu64 "\n"
                                    "catalog_controller_cached_objects{kind=\"plans\"} %" PRIu64 "\n"
                                    "catalog_controller_cached_objects{kind=\"instances\"} %" PRIu64 "\n"
                                    "catalog_controller_cached_objects{kind=\"bindings\"} %" PRIu64 "\n"
                                    "catalog_controller_cached_objects{kind=\"secrets\"} %" PRIu64 "\n"
                                    "# HELP catalog_controller_ready Whether every informer has synced.\n"
                                    "# TYPE catalog_controller_ready gauge\n"
                                    "catalog_controller_ready %d\n"
                                    "# HELP catalog_controller_leader Whether this replica reconciles: 1 without --leader-elect, else whether it holds the Lease.\n"
                                    "# TYPE catalog_controller_leader gauge\n"
                                    "catalog_controller_leader %d\n",
                                    g->queue_depth, g->queue_delayed, g->brokers, g->classes, g->plans, g->instances, g->bindings,
                                    g->secrets, g->ready ? 1 : 0, g->leader ? 1 : 0);
        return r;
}

static void clear(struct osb_strmap *m)
{
        size_t i;
        for (struct osb_strmap_entry *e = osb_strmap_first(m, &i); e; e = osb_strmap_next(m, &i, e))
                osb_free(e->value);
        osb_strmap_release(m);
}

void metrics_reset(void)
{
        pthread_mutex_lock(&lock);
        clear(&osb_counters);
        clear(&kube_counters);
        clear(&histograms);
        kube_writes = 0;
        pthread_mutex_unlock(&lock);
}
