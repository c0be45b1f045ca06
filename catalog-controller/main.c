/* catalog-controller/main.c: catalog-controller: settings, the Kubernetes client, informers for
 * brokers, classes, plans, instances, bindings and Secrets (their events routed to queue keys by
 * route.c), the work queue and its workers (dispatch.c), the HTTP endpoints (/healthz, /readyz,
 * /metrics), and a clean shutdown on SIGTERM/SIGINT. */
#include "common/osb_compat.h"
#include "common/osb_http.h"
#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "common/osb_settings.h"
#include "kube/client.h"
#include "kube/config.h"
#include "catalog-controller/broker.h"
#include "catalog-controller/cached.h"
#include "catalog-controller/dispatch.h"
#include "catalog-controller/informer.h"
#include "catalog-controller/kapi.h"
#include "catalog-controller/leader.h"
#include "catalog-controller/metrics.h"
#include "catalog-controller/offering.h"
#include "catalog-controller/queue.h"
#include "catalog-controller/reconcile_binding.h"
#include "catalog-controller/reconcile_instance.h"
#include "catalog-controller/route.h"

#include <uuid/uuid.h>

static char *arg_kubeconfig, *arg_context, *arg_listen, *arg_port_file, *arg_log_level;
static char *arg_cluster_id, *arg_cluster_id_ns;
static int64_t arg_port, arg_workers, arg_relist_ms, arg_resync_ms, arg_osb_timeout_ms, arg_retry_ms;
static int64_t arg_kube_timeout_ms, arg_drain_timeout_ms, arg_max_retry_ms, arg_max_poll_ms, arg_kube_qps, arg_kube_burst;
static bool arg_namespaced = true, arg_cascade = true, arg_leader_elect;
static char *arg_le_namespace, *arg_le_name, *arg_le_identity, *arg_namespaces;
static int64_t arg_le_lease_ms, arg_le_renew_ms, arg_le_retry_ms;

static const struct osb_setting settings[] = {
        {"kubeconfig", "KUBECONFIG", OSB_SETTING_STRING, NULL, "FILE",
         "kubeconfig to use (else $KUBECONFIG, the in-cluster service account, ~/.kube/config).", &arg_kubeconfig, 0, 0},
        {"context", "CATALOG_CONTROLLER_CONTEXT", OSB_SETTING_STRING, NULL, "NAME",
         "kubeconfig context to use instead of its current-context.", &arg_context, 0, 0},
        {"workers", "CATALOG_CONTROLLER_WORKERS", OSB_SETTING_INT, "8", "N",
         "Reconcile worker threads (a key is never processed by two at once).", &arg_workers, 1, 256},
        {"broker-relist-interval", "CATALOG_CONTROLLER_BROKER_RELIST_INTERVAL", OSB_SETTING_DURATION, "15m", "DURATION",
         "How often to fetch a broker's catalog when its relistDuration is unset.", &arg_relist_ms, 0, 0},
        {"resync-period", "CATALOG_CONTROLLER_RESYNC_PERIOD", OSB_SETTING_DURATION, "5m", "DURATION",
         "How often every cached object is reconciled again (0: never).", &arg_resync_ms, 0, 0},
        {"osb-timeout", "CATALOG_CONTROLLER_OSB_TIMEOUT", OSB_SETTING_DURATION, "60s", "DURATION",
         "Time limit of one request to a broker.", &arg_osb_timeout_ms, 0, 0},
        {"kube-timeout", "CATALOG_CONTROLLER_KUBE_TIMEOUT", OSB_SETTING_DURATION, "60s", "DURATION",
         "Time limit of one request to the API server (watches excepted).", &arg_kube_timeout_ms, 0, 0},
        {"reconciliation-retry-duration", "CATALOG_CONTROLLER_RECONCILIATION_RETRY_DURATION", OSB_SETTING_DURATION,
         "168h", "DURATION", "After failing this long, a broker is marked Failed and retried only when its spec changes.",
         &arg_retry_ms, 0, 0},
        {"max-retry-interval", "CATALOG_CONTROLLER_MAX_RETRY_INTERVAL", OSB_SETTING_DURATION, "5m", "DURATION",
         "Longest wait before retrying a failed provision, update, bind or deprovision (the wait starts at 1s and doubles).",
         &arg_max_retry_ms, 0, 0},
        {"max-poll-interval", "CATALOG_CONTROLLER_MAX_POLL_INTERVAL", OSB_SETTING_DURATION, "5m", "DURATION",
         "Longest wait between two polls of an asynchronous operation (polls are at most 2s apart for its first 10 minutes).",
         &arg_max_poll_ms, 0, 0},
        {"cascade-delete-bindings", "CATALOG_CONTROLLER_CASCADE_DELETE_BINDINGS", OSB_SETTING_BOOL, "true", NULL,
         "Deleting a ServiceInstance deletes its ServiceBindings first (else it waits until they are gone).", &arg_cascade, 0, 0},
        {"cluster-id", "CATALOG_CONTROLLER_CLUSTER_ID", OSB_SETTING_STRING, NULL, "ID",
         "Sent to brokers as organization_guid and context.clusterid (default: key id of ConfigMap cluster-info, "
         "created with a random UUID when missing).", &arg_cluster_id, 0, 0},
        {"cluster-id-namespace", "CATALOG_CONTROLLER_CLUSTER_ID_NAMESPACE", OSB_SETTING_STRING, "default", "NAMESPACE",
         "Namespace of the cluster-info ConfigMap.", &arg_cluster_id_ns, 0, 0},
        {"kube-qps", "CATALOG_CONTROLLER_KUBE_QPS", OSB_SETTING_INT, "0", "N",
         "Client-side limit of API server requests per second (0: none; for large clusters).", &arg_kube_qps, 0, 100000},
        {"kube-burst", "CATALOG_CONTROLLER_KUBE_BURST", OSB_SETTING_INT, "100", "N",
         "Requests allowed at once above --kube-qps.", &arg_kube_burst, 1, 100000},
        {"namespaced-brokers", "CATALOG_CONTROLLER_NAMESPACED_BROKERS", OSB_SETTING_BOOL, "true", NULL,
         "Also reconcile namespaced ServiceBrokers (their ServiceClasses and ServicePlans).", &arg_namespaced, 0, 0},
        {"namespaces", "CATALOG_CONTROLLER_NAMESPACES", OSB_SETTING_STRING, NULL, "NS1,NS2",
         "Watch ServiceInstances, ServiceBindings, ServiceBrokers, ServiceClasses, ServicePlans and Secrets only in "
         "these namespaces (default: all namespaces). Cluster-scoped kinds are always watched.", &arg_namespaces, 0, 0},
        {"leader-elect", "CATALOG_CONTROLLER_LEADER_ELECT", OSB_SETTING_BOOL, "false", NULL,
         "Run as one of several replicas: only the holder of a coordination.k8s.io Lease reconciles.",
         &arg_leader_elect, 0, 0},
        {"leader-elect-lease-duration", "CATALOG_CONTROLLER_LEADER_ELECT_LEASE_DURATION", OSB_SETTING_DURATION, "15s",
         "DURATION", "How long a candidate waits, after it last saw the Lease change, before taking it over.",
         &arg_le_lease_ms, 0, 0},
        {"leader-elect-renew-deadline", "CATALOG_CONTROLLER_LEADER_ELECT_RENEW_DEADLINE", OSB_SETTING_DURATION, "10s",
         "DURATION", "A leader that cannot renew the Lease for this long exits (status 1).", &arg_le_renew_ms, 0, 0},
        {"leader-elect-retry-period", "CATALOG_CONTROLLER_LEADER_ELECT_RETRY_PERIOD", OSB_SETTING_DURATION, "2s",
         "DURATION", "How often the leader renews the Lease and a candidate tries to take it.", &arg_le_retry_ms, 0, 0},
        {"leader-elect-namespace", "CATALOG_CONTROLLER_LEADER_ELECT_NAMESPACE", OSB_SETTING_STRING, NULL, "NAMESPACE",
         "Namespace of the Lease (default: the Pod's namespace in a cluster, else default).", &arg_le_namespace, 0, 0},
        {"leader-elect-name", "CATALOG_CONTROLLER_LEADER_ELECT_NAME", OSB_SETTING_STRING, "catalog-controller", "NAME",
         "Name of the Lease.", &arg_le_name, 0, 0},
        {"leader-elect-identity", "CATALOG_CONTROLLER_LEADER_ELECT_IDENTITY", OSB_SETTING_STRING, NULL, "ID",
         "This candidate's holderIdentity (default: the host name, '_', a random suffix).", &arg_le_identity, 0, 0},
        {"listen", "CATALOG_CONTROLLER_LISTEN", OSB_SETTING_STRING, "127.0.0.1", "ADDRESS",
         "Address of the /healthz, /readyz and /metrics endpoints.", &arg_listen, 0, 0},
        {"port", "CATALOG_CONTROLLER_PORT", OSB_SETTING_INT, "8444", "PORT",
         "TCP port of the endpoints; 0 picks a free one (see --port-file).", &arg_port, 0, 65535},
        {"port-file", "CATALOG_CONTROLLER_PORT_FILE", OSB_SETTING_STRING, NULL, "FILE",
         "Write the port actually listened on to FILE once ready.", &arg_port_file, 0, 0},
        {"drain-timeout", "CATALOG_CONTROLLER_DRAIN_TIMEOUT", OSB_SETTING_DURATION, "10s", "DURATION",
         "On SIGTERM, how long to let HTTP requests finish.", &arg_drain_timeout_ms, 0, 0},
        {"log-level", "CATALOG_CONTROLLER_LOG_LEVEL", OSB_SETTING_STRING, "info", "LEVEL",
         "debug, info, warn, error or off.", &arg_log_level, 0, 0},
};

static const struct osb_program program = {
        .name = "catalog-controller",
        .summary = "The Bindery service catalog controller: Open Service Brokers for Kubernetes.",
        .footer = "Watches ClusterServiceBrokers and ServiceBrokers (servicecatalog.k8s.io/v1beta1), fetches\n"
                  "their catalogs and keeps ClusterServiceClasses/Plans (ServiceClasses/Plans) in step;\n"
                  "provisions, updates and deprovisions ServiceInstances, and binds ServiceBindings into\n"
                  "Secrets. Annotations: bindery.dev/abandon=true (delete without calling the broker),\n"
                  "bindery.dev/orphan-mitigation=disabled (on an instance), bindery.dev/adopt=true (take over\n"
                  "spec.externalID from the broker), bindery.dev/allowCrossNamespaceBinding=true and\n"
                  "bindery.dev/allowedNamespacesForBinding=NS1,NS2 (on an instance: who may bind from elsewhere),\n"
                  "bindery.dev/servicebinding=B (on an instance: its servicebinding.io status.binding.name is\n"
                  "binding B's Secret).\n"
                  "Endpoints: /healthz, /readyz (caches synced, or standing by under --leader-elect),\n"
                  "/metrics (Prometheus; catalog_controller_leader says whether this replica leads).",
};

static struct ctl ctl;
/* NULL without --leader-elect; atomic: the endpoints' threads read it while run() stores it */
static struct leader_elector *_Atomic elector;
/* By scope (cluster, namespaced) then kind: brokers, classes, plans. */
static const struct informer_kind *const kinds[6] = {
        &broker_kind_cluster, &offering_kind_cluster_classes, &offering_kind_cluster_plans,
        &broker_kind_namespaced, &offering_kind_classes, &offering_kind_plans,
};

/* ---- shutdown: a thread waits for SIGTERM/SIGINT in every phase ----
 * The signals are blocked in every thread; this one takes them with sigwait(), records which,
 * and cancels the Kubernetes client (its requests end at once), so whatever the main thread is
 * waiting for (the cluster ID, the Lease, caches that cannot sync because the CRDs are missing)
 * ends and the main thread sees stop_signal. */
struct sigthread {
        pthread_t thread;
        sigset_t sigs;
        struct kube_client *kc;
        bool started;
};
static atomic_int stop_signal;

static void *sig_main(void *arg)
{
        struct sigthread *st = arg;
        int sig = 0;
        if (sigwait(&st->sigs, &sig) != 0)
                sig = SIGTERM;
        atomic_store(&stop_signal, sig);
        kube_client_cancel(st->kc);
        return NULL;
}

/* Ends the thread when it is still waiting (no signal came: an error ends the program). */
static void sigthread_stop(struct sigthread *st)
{
        if (!st->started)
                return;
        if (!atomic_load(&stop_signal))
                (void) pthread_kill(st->thread, SIGTERM);
        pthread_join(st->thread, NULL);
        st->started = false;
}

/* Waits until @inf has synced, @timeout_ms passed, or a signal came. Returns true on a signal. */
static bool wait_synced_or_signal(struct informer *inf, int64_t timeout_ms)
{
        for (int64_t waited = 0; !atomic_load(&stop_signal); waited += 50) {
                if (!inf || informer_synced(inf) || waited >= timeout_ms)
                        return false;
                struct timespec tick = {.tv_sec = 0, .tv_nsec = 50 * 1000 * 1000};
                (void) nanosleep(&tick, NULL);
        }
        return true;
}

static const char *signal_name(int sig)
{
        return sig == SIGTERM ? "SIGTERM" : "SIGINT";
}

/* A worker's key: the leader's deadline first, then dispatch_key(), which holds every key back
 * until ctl.started publishes the informers. */
static int handle_key(void *userdata, const char *key)
{
        leader_check(elector);         /* a leader past its renew deadline reconciles nothing more */
        return dispatch_key(userdata, key);
}

static void http_handler(void *userdata, struct osb_http_request *req)
{
        if (strcmp(req->path, "/healthz") == 0) {
                (void) osb_http_respond(req, 200, "text/plain", "ok\n", 3, false, NULL);
        } else if (strcmp(req->path, "/readyz") == 0) {
                /* a standby is ready too: it serves its endpoints and campaigns, and a Service in
                 * front of the replicas must not drop it */
                if (arg_leader_elect && !leader_leading(elector)) {
                        (void) osb_http_respond(req, 200, "text/plain", "standby\n", 8, false, NULL);
                        return;
                }
                bool ok = dispatch_synced(&ctl);
                (void) osb_http_respond(req, ok ? 200 : 503, "text/plain", ok ? "ok\n" : "informers not synced\n",
                                        ok ? 3 : 21, false, NULL);
        } else if (strcmp(req->path, "/metrics") == 0) {
                struct metrics_gauges g = {
                        .queue_depth = queue_depth(ctl.queue), .queue_delayed = queue_delayed(ctl.queue), .ready = dispatch_synced(&ctl),
                        .leader = !arg_leader_elect || leader_leading(elector),
                };
                /* the informer pointers are read only once published (a standby, or a leader
                 * still starting its informers, shows 0) */
                bool started = atomic_load(&ctl.started);
                for (int i = 0; started && i < 2; i++) {
                        g.brokers += ctl.brokers[i] ? informer_size(ctl.brokers[i]) : 0;
                        g.classes += ctl.classes[i] ? informer_size(ctl.classes[i]) : 0;
                        g.plans += ctl.plans[i] ? informer_size(ctl.plans[i]) : 0;
                }
                g.instances = started && ctl.instances ? informer_size(ctl.instances) : 0;
                g.bindings = started && ctl.bindings ? informer_size(ctl.bindings) : 0;
                g.secrets = started && ctl.secrets ? informer_size(ctl.secrets) : 0;
                struct osb_buf b;
                osb_buf_init(&b, 16 * 1024 * 1024);
                if (metrics_render(&b, &g) < 0)
                        (void) osb_http_respond(req, 500, "text/plain", "out of memory\n", 14, false, NULL);
                else
                        (void) osb_http_respond(req, 200, "text/plain; version=0.0.4", b.data, b.len, false, NULL);
                osb_buf_release(&b);
        } else {
                (void) osb_http_respond(req, 404, "text/plain", "not found\n", 10, false, NULL);
        }
}

/* The cluster ID sent to brokers (organization_guid and context.clusterid): --cluster-id, else key "id" of ConfigMap
 * cluster-info, which is created with a random UUID when missing. */
static int cluster_identity(struct kube_client *kc, char *out, size_t n, struct osb_error *err)
{
        static const struct kube_resource configmaps = {"", "v1", "configmaps", true};
        if (arg_cluster_id && *arg_cluster_id) {
                (void) snprintf(out, n, "%s", arg_cluster_id);
                return 0;
        }
        for (int attempt = 0; attempt < 3; attempt++) {
                json_auto_t *cm = NULL;
                int r = kapi_get(kc, &configmaps, arg_cluster_id_ns, "cluster-info", &cm, err);
                if (r >= 0) {
                        const char *id = json_string_value(json_object_get(json_object_get(cm, "data"), "id"));
                        if (!id || !*id)
                                return osb_error_set(err, OSB_E_BAD_REQUEST, "ConfigMap %s/cluster-info has no key 'id'",
                                                     arg_cluster_id_ns);
                        (void) snprintf(out, n, "%s", id);
                        return 0;
                }
                if (r != OSB_E_NOT_FOUND)
                        return r;
                char id[37];
                uuid_t u;
                uuid_generate_random(u);
                uuid_unparse_lower(u, id);
                json_auto_t *obj = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
                                             "metadata", "name", "cluster-info", "namespace", arg_cluster_id_ns, "data", "id", id);
                if (!obj)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                *err = (struct osb_error) OSB_ERROR_INIT;
                r = kapi_create(kc, &configmaps, arg_cluster_id_ns, obj, NULL, err);
                if (r >= 0) {
                        (void) snprintf(out, n, "%s", id);
                        return 0;
                }
                if (r != OSB_E_CONFLICT)        /* another controller made it first: read it */
                        return r;
        }
        return osb_error_set(err, OSB_E_CONFLICT, "ConfigMap %s/cluster-info keeps changing", arg_cluster_id_ns);
}

static int fail(const char *what, const char *detail)
{
        return osb_log_fail(program.name, what, detail);
}

/* The endpoints, and the port file. Returns 0, or EXIT_FAILURE after saying why. */
static int start_http(struct osb_http_server **srv)
{
        struct osb_error err = OSB_ERROR_INIT;
        struct osb_http_config hcfg = {.address = arg_listen, .port = (uint16_t) arg_port, .threads = 2,
                                       .max_body = 4096, .max_header = 16384, .max_connections = 64, .timeout_s = 30};
        if (osb_http_server_start(&hcfg, http_handler, NULL, NULL, srv, &err) < 0)
                return fail("cannot start the HTTP server", err.text);
        if (arg_port_file && osb_http_write_port_file(arg_port_file, osb_http_server_port(*srv), &err) < 0)
                return fail("cannot write the port file", err.text);
        return 0;
}

/* --namespaces split at commas into @v (at most @max; the strings point into @buf, a copy).
 * Returns the count, or -EINVAL (an empty or invalid name, too many). */
static int split_namespaces(const char *list, char *buf, size_t bufsz, const char **v, size_t max)
{
        size_t n = 0;
        if (snprintf(buf, bufsz, "%s", list) >= (int) bufsz)
                return -EINVAL;
        for (char *p = buf; ; ) {
                char *comma = strchr(p, ',');
                if (comma)
                        *comma = '\0';
                size_t len = strlen(p);
                if (len == 0 || len > 63 || n == max || strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789-") != len)
                        return -EINVAL;
                for (size_t i = 0; i < n; i++)
                        if (strcmp(v[i], p) == 0)
                                return -EINVAL;
                v[n++] = p;
                if (!comma)
                        break;
                p = comma + 1;
        }
        return (int) n;
}

/* The holderIdentity: host name, '_', a random suffix (a restarted Pod is a new candidate). */
static void default_identity(char *out, size_t n)
{
        char host[256] = "unknown";
        char id[37];
        uuid_t u;
        if (gethostname(host, sizeof(host)) < 0 || !host[0])
                (void) snprintf(host, sizeof(host), "unknown");
        host[sizeof(host) - 1] = '\0';
        uuid_generate_random(u);
        uuid_unparse_lower(u, id);
        (void) snprintf(out, n, "%s_%.8s", host, id);
}

/* Checks the settings that --help cannot, sets the log level, and splits --namespaces into
 * @nsv (strings in @nsbuf). Returns the number of namespaces, or EXIT_FAILURE after saying why
 * (as a negative number). */
static int check_settings(const char **nsv, size_t max, char *nsbuf, size_t bufsz)
{
        enum osb_log_level lvl;
        if (osb_log_parse_level(arg_log_level, &lvl) < 0)
                return -fail("invalid setting", "--log-level must be debug, info, warn, error or off");
        osb_log_set_level(lvl);
        if (arg_relist_ms <= 0)
                return -fail("invalid setting", "--broker-relist-interval must be positive");
        if (arg_leader_elect && (arg_le_retry_ms <= 0 || arg_le_renew_ms <= arg_le_retry_ms || arg_le_lease_ms <= arg_le_renew_ms))
                return -fail("invalid setting", "--leader-elect-lease-duration must exceed --leader-elect-renew-deadline, "
                             "which must exceed --leader-elect-retry-period (> 0)");
        if (arg_leader_elect && (!arg_le_name || !*arg_le_name))
                return -fail("invalid setting", "--leader-elect-name must not be empty");
        int nns = 0;
        if (arg_namespaces && *arg_namespaces) {
                nns = split_namespaces(arg_namespaces, nsbuf, bufsz, nsv, max);
                if (nns < 0)
                        return -fail("invalid setting", "--namespaces must be a comma-separated list of up to 64 "
                                     "distinct namespace names");
        }
        return nns;
}

/* Starts every informer, in the order the reconcilers need (classes and plans, brokers,
 * Secrets, bindings, instances), waiting (bounded) for some to list, then publishes them
 * (ctl.started). Returns 0, 1 when a signal came meanwhile, or a negative errno. */
static int start_informers(struct kube_client *kc, const struct informer_options *io, const struct informer_options *io_ns)
{
        static const informer_handler offering_routes[2] = {route_cluster_offering, route_offering};
        static const informer_handler broker_routes[2] = {route_cluster_broker, route_broker};
        int r = 0;
        for (int i = 0; i < 2 && r >= 0; i++) {
                if (i == 1 && !arg_namespaced)
                        break;
                /* classes and plans first, so a broker's first reconcile sees them */
                r = informer_start(kc, kinds[3 * i + 1], i ? io_ns : io, offering_routes[i], &ctl, &ctl.classes[i]);
                if (r >= 0)
                        r = informer_start(kc, kinds[3 * i + 2], i ? io_ns : io, offering_routes[i], &ctl, &ctl.plans[i]);
        }
        if (r < 0)
                return r;
        /* wait (bounded) for the class and plan caches before brokers are reconciled */
        for (int i = 0; i < 2; i++)
                if (wait_synced_or_signal(ctl.classes[i], 30000) || wait_synced_or_signal(ctl.plans[i], 30000))
                        return 1;
        for (int i = 0; i < 2 && r >= 0; i++) {
                if (i == 1 && !arg_namespaced)
                        break;
                r = informer_start(kc, kinds[3 * i], i ? io_ns : io, broker_routes[i], &ctl, &ctl.brokers[i]);
        }
        /* Secrets first: an instance's first reconcile may read one; then bindings, so an
         * instance being deleted sees its bindings */
        if (r >= 0)
                r = informer_start(kc, &cached_kind_secrets, io_ns, route_secret, &ctl, &ctl.secrets);
        if (r >= 0)
                r = informer_start(kc, &cached_kind_bindings, io_ns, route_binding, &ctl, &ctl.bindings);
        if (r < 0)
                return r;
        if (wait_synced_or_signal(ctl.bindings, 30000))
                return 1;
        for (int i = 0; i < 2; i++)
                if (wait_synced_or_signal(ctl.brokers[i], 30000))
                        return 1;
        r = informer_start(kc, &cached_kind_instances, io_ns, route_instance, &ctl, &ctl.instances);
        if (r < 0)
                return r;
        atomic_store(&ctl.started, true);
        return 0;
}

/* Stops the informers (no more keys queued), the endpoints, then the workers (they drain while
 * the caches they read are still there), then, with no reconcile left running, releases the
 * Lease (when @clean) so another replica may take over, and frees the caches. */
static void stop_all(struct osb_http_server *srv, bool clean)
{
        for (int i = 0; i < 2; i++) {
                informer_stop(ctl.brokers[i]);
                informer_stop(ctl.classes[i]);
                informer_stop(ctl.plans[i]);
        }
        informer_stop(ctl.instances);
        informer_stop(ctl.bindings);
        informer_stop(ctl.secrets);
        /* the endpoints read the queue, the elector and the caches: they stop before those go */
        (void) osb_http_server_stop(srv, (unsigned) arg_drain_timeout_ms);
        ctl.queue = queue_free(ctl.queue);     /* drains the workers */
        elector = leader_stop(elector, clean);
        for (int i = 0; i < 2; i++) {
                ctl.brokers[i] = informer_free(ctl.brokers[i]);
                ctl.classes[i] = informer_free(ctl.classes[i]);
                ctl.plans[i] = informer_free(ctl.plans[i]);
        }
        ctl.instances = informer_free(ctl.instances);
        ctl.bindings = informer_free(ctl.bindings);
        ctl.secrets = informer_free(ctl.secrets);
}

/* --leader-elect: serves the endpoints (a standby serves them while it campaigns), starts the
 * elector, and waits until this replica leads. The Lease has a client of its own (*lkc): its
 * requests end within the renew deadline, and the shutdown's cancel of the main client leaves
 * the release possible. @identity (the holderIdentity, written here) must outlive the elector.
 * Returns 0 (leading), 1 (a signal came first), or -1 after saying why. */
static int campaign(struct kube_client *kc, struct kube_client **lkc, struct osb_http_server **srv, char *identity,
                    size_t n)
{
        struct osb_error err = OSB_ERROR_INIT;
        if (start_http(srv) != 0)
                return -1;
        struct kube_config *lcfg = NULL;
        struct kube_client_options lopts = {.request_timeout_ms = (long) arg_le_renew_ms,
                                            .connect_timeout_ms = (long) OSB_MIN(arg_le_renew_ms, 10000)};
        int r = kube_config_load(arg_kubeconfig, arg_context, &lcfg, &err);
        if (r >= 0)
                r = kube_client_new(lcfg, &lopts, lkc, &err);
        if (r < 0) {
                fail("cannot create the Kubernetes client", err.text);
                return -1;
        }
        const struct kube_config *kcfg = kube_client_config(kc);
        /* in a Pod (no kubeconfig context) the service account's namespace */
        const char *le_ns = arg_le_namespace && *arg_le_namespace ? arg_le_namespace :
                            !kcfg->context && kcfg->namespace ? kcfg->namespace : "default";
        if (arg_le_identity && *arg_le_identity)
                (void) snprintf(identity, n, "%s", arg_le_identity);
        else
                default_identity(identity, n);
        struct leader_options lo = {.ns = le_ns, .name = arg_le_name, .identity = identity,
                                    .lease_ms = arg_le_lease_ms, .renew_deadline_ms = arg_le_renew_ms,
                                    .retry_ms = arg_le_retry_ms};
        struct leader_elector *e = NULL;
        r = leader_start(*lkc, &lo, &e);
        if (r < 0) {
                fail("cannot start the leader election", strerror(-r));
                return -1;
        }
        elector = e;
        osb_log_info("campaigning", "lease=%s/%s identity=%s lease_duration_ms=%" PRId64 " renew_deadline_ms=%" PRId64
                     " retry_period_ms=%" PRId64, le_ns, arg_le_name, identity,
                     arg_le_lease_ms, arg_le_renew_ms, arg_le_retry_ms);
        while (!leader_leading(elector) && !atomic_load(&stop_signal)) {
                struct timespec tick = {.tv_sec = 0, .tv_nsec = 50 * 1000 * 1000};
                (void) nanosleep(&tick, NULL);
        }
        return atomic_load(&stop_signal) ? 1 : 0;
}

static int run(void)
{
        struct osb_error err = OSB_ERROR_INIT;
        const char *nsv[64];
        char nsbuf[64 * 64 + 1];
        int nns = check_settings(nsv, OSB_ELEMENTSOF(nsv), nsbuf, sizeof(nsbuf));
        if (nns < 0)
                return -nns;

        struct kube_config *cfg = NULL;
        int r = kube_config_load(arg_kubeconfig, arg_context, &cfg, &err);
        if (r < 0)
                return fail("cannot load the Kubernetes configuration", err.text);
        struct kube_client_options kopts = {.request_timeout_ms = (long) arg_kube_timeout_ms};
        struct kube_client *kc = NULL;
        char server[512];
        (void) snprintf(server, sizeof(server), "%s", cfg->server);
        r = kube_client_new(cfg, &kopts, &kc, &err);
        if (r < 0)
                return fail("cannot create the Kubernetes client", err.text);

        struct sigthread sigt = {.kc = kc};
        sigemptyset(&sigt.sigs);
        sigaddset(&sigt.sigs, SIGTERM);
        sigaddset(&sigt.sigs, SIGINT);
        pthread_sigmask(SIG_BLOCK, &sigt.sigs, NULL);
        signal(SIGPIPE, SIG_IGN);
        r = pthread_create(&sigt.thread, NULL, sig_main, &sigt);
        if (r != 0) {
                kube_client_free(kc);
                return fail("cannot start the signal thread", strerror(r));
        }
        sigt.started = true;

        ctl_init(&ctl);
        ctl.kube = kc;
        char cluster_id[256];
        if (cluster_identity(kc, cluster_id, sizeof(cluster_id), &err) < 0) {
                int sig = atomic_load(&stop_signal);   /* before sigthread_stop(), which ends it with one */
                sigthread_stop(&sigt);
                kube_client_free(kc);
                if (sig) {
                        osb_log_info("shutting down", "signal=%s", signal_name(sig));
                        osb_log_info("stopped", NULL);
                        return EXIT_SUCCESS;
                }
                return fail("cannot learn the cluster ID", err.text);
        }
        kapi_set_rate_limit((double) arg_kube_qps, (unsigned) arg_kube_burst);
        ctl.opts = (struct ctl_options){.relist_ms = arg_relist_ms, .osb_timeout_ms = arg_osb_timeout_ms,
                                        .retry_duration_ms = arg_retry_ms,
                                        .max_retry_ms = arg_max_retry_ms, .max_poll_ms = arg_max_poll_ms,
                                        .cascade_delete_bindings = arg_cascade, .cluster_id = cluster_id,
                                        /* one hung broker holds at most half the workers */
                                        .broker_concurrency = (unsigned) OSB_MAX(arg_workers / 2, 1)};
        int exit_code = EXIT_FAILURE;
        char identity[320];
        struct kube_client *lkc = NULL;        /* the Lease's own client (--leader-elect) */
        struct osb_http_server *srv = NULL;
        struct queue_options qo = {.workers = (unsigned) arg_workers, .base_delay_ms = 100, .max_delay_ms = 300000};
        r = queue_new(&qo, handle_key, &ctl, &ctl.queue);
        if (r < 0) {
                fail("cannot start the workers", strerror(-r));
                goto out;
        }
        if (arg_leader_elect) {
                r = campaign(kc, &lkc, &srv, identity, sizeof(identity));
                if (r < 0)
                        goto out;
                if (r == 1) {
                        osb_log_info("shutting down", "signal=%s leader=false", signal_name(atomic_load(&stop_signal)));
                        exit_code = EXIT_SUCCESS;
                        goto out;
                }
        }
        /* namespaced kinds are watched in each namespace of --namespaces, or in all */
        struct informer_options io = {.resync_ms = arg_resync_ms};
        struct informer_options io_ns = {.resync_ms = arg_resync_ms, .namespaces = nns > 0 ? nsv : NULL,
                                         .nnamespaces = (size_t) nns};
        r = start_informers(kc, &io, &io_ns);
        if (r == 1)
                goto signalled;
        if (r < 0) {
                fail("cannot start the informers", strerror(-r));
                goto out;
        }
        if (!srv && start_http(&srv) != 0)
                goto out;
        uint16_t port = osb_http_server_port(srv);
        osb_log_info("started", "server=%s listen=%s port=%u workers=%" PRId64 " relist_interval_ms=%" PRId64
                     " resync_ms=%" PRId64 " namespaced=%s namespaces=%s leader_elect=%s", server,
                     arg_listen, (unsigned) port, arg_workers, arg_relist_ms, arg_resync_ms, arg_namespaced ? "true" : "false",
                     nns > 0 ? arg_namespaces : "*", arg_leader_elect ? "true" : "false");

        pthread_join(sigt.thread, NULL);      /* until SIGTERM or SIGINT */
        sigt.started = false;
signalled:
        osb_log_info("shutting down", "signal=%s", signal_name(atomic_load(&stop_signal)));
        exit_code = EXIT_SUCCESS;
out:
        atomic_store(&ctl.cancel, true);
        kube_client_cancel(kc);
        sigthread_stop(&sigt);
        stop_all(srv, exit_code == EXIT_SUCCESS);
        lkc = kube_client_free(lkc);
        ctl_release(&ctl);
        kube_client_free(kc);
        metrics_reset();
        if (exit_code == EXIT_SUCCESS)
                osb_log_info("stopped", NULL);
        return exit_code;
}

int main(int argc, char **argv)
{
        return osb_settings_main(settings, OSB_ELEMENTSOF(settings), &program, argc, argv, run);
}
