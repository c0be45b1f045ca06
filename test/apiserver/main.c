/* test/apiserver/main.c: kube-testserver, an in-memory Kubernetes API server for tests: settings,
 * the HTTP server, the background controllers, a ticker for watch timers, and a clean stop on
 * SIGTERM/SIGINT (watches ended, requests drained, exit 0). */
#include "common/osb_compat.h"
#include "common/osb_file.h"
#include "common/osb_http.h"
#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "common/osb_settings.h"
#include "test/apiserver/api.h"
#include "test/apiserver/server.h"

/* PEM certificate chains and keys are a few KiB; refuse anything absurd. */
#define TLS_FILE_MAX (1024 * 1024)

static char *arg_listen, *arg_port_file, *arg_tls_cert, *arg_tls_key, *arg_token_file, *arg_log_level;
static int64_t arg_port, arg_history, arg_threads, arg_bookmark_ms;

static const struct osb_setting settings[] = {
        {"listen", "KTS_LISTEN", OSB_SETTING_STRING, "127.0.0.1", "ADDRESS",
         "Address to listen on (loopback only: 127.0.0.1, ::1 or localhost).", &arg_listen, 0, 0},
        {"port", "KTS_PORT", OSB_SETTING_INT, "0", "PORT", "TCP port; 0 picks a free one (see --port-file).", &arg_port, 0, 65535},
        {"port-file", "KTS_PORT_FILE", OSB_SETTING_STRING, NULL, "FILE",
         "Write the port actually listened on to FILE (atomically) once ready.", &arg_port_file, 0, 0},
        {"tls-cert", "KTS_TLS_CERT", OSB_SETTING_STRING, NULL, "FILE", "Serve HTTPS with this PEM certificate; needs --tls-key.",
         &arg_tls_cert, 0, 0},
        {"tls-key", "KTS_TLS_KEY", OSB_SETTING_STRING, NULL, "FILE", "PEM private key for --tls-cert.", &arg_tls_key, 0, 0},
        {"token-file", "KTS_TOKEN_FILE", OSB_SETTING_STRING, NULL, "FILE",
         "kube-apiserver static token file (token,user,uid,\"group1,group2\"); when set every request needs "
         "one of its tokens as a Bearer token, and is authorized by RBAC (group system:masters: everything).",
         &arg_token_file, 0, 0},
        {"watch-history", "KTS_WATCH_HISTORY", OSB_SETTING_INT, "100", "N",
         "Change events kept for watches; a watch from an older resourceVersion gets 410 Expired.", &arg_history, 1, 10000000},
        {"bookmark-interval", "KTS_BOOKMARK_INTERVAL", OSB_SETTING_DURATION, "1s", "DURATION",
         "How often a watch with allowWatchBookmarks=true gets a BOOKMARK event.", &arg_bookmark_ms, 0, 0},
        {"threads", "KTS_THREADS", OSB_SETTING_INT, "4", "N", "HTTP worker threads.", &arg_threads, 1, 256},
        {"log-level", "KTS_LOG_LEVEL", OSB_SETTING_STRING, "info", "LEVEL",
         "debug, info (one line per request), warn, error or off.", &arg_log_level, 0, 0},
};

static const struct osb_program program = {
        .name = "kube-testserver",
        .summary = "An in-memory Kubernetes API server for tests (kubectl and controllers talk to it).",
        .footer = "Serves core/v1 namespaces, secrets, configmaps, events, serviceaccounts (with tokens for\n"
                  "them: TokenRequest, \"kubectl create token\"), pods, services and persistentvolumeclaims,\n"
                  "apps/v1 deployments, statefulsets and daemonsets, policy/v1 poddisruptionbudgets,\n"
                  "rbac.authorization.k8s.io roles, clusterroles and their bindings, authorization.k8s.io\n"
                  "(self)subjectaccessreviews, coordination.k8s.io leases, events.k8s.io events,\n"
                  "admissionregistration.k8s.io mutating and validating webhook configurations (stored and\n"
                  "validated; no webhook is ever called) and apiextensions.k8s.io CustomResourceDefinitions\n"
                  "with their custom resources. Nothing runs pods or workloads. State is lost on exit. Built\n"
                  "for tests only; never installed.",
};

static int fail(const char *what, const char *detail)
{
        return osb_log_fail(program.name, what, detail);
}

struct ticker {
        struct api *api;
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stop;
        unsigned period_ms;
};

/* Resumes every watch periodically, so bookmarks, timeouts and vanished clients are noticed. */
static void *ticker_main(void *arg)
{
        struct ticker *t = arg;
        pthread_mutex_lock(&t->lock);
        while (!t->stop) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += (long) t->period_ms * 1000000L;
                ts.tv_sec += ts.tv_nsec / 1000000000L;
                ts.tv_nsec %= 1000000000L;
                (void) pthread_cond_timedwait(&t->cond, &t->lock, &ts);
                if (t->stop)
                        break;
                pthread_mutex_unlock(&t->lock);
                api_watch_kick(t->api);
                pthread_mutex_lock(&t->lock);
        }
        pthread_mutex_unlock(&t->lock);
        return NULL;
}

static int run(void)
{
        struct osb_error err = OSB_ERROR_INIT;
        enum osb_log_level lvl;
        if (osb_log_parse_level(arg_log_level, &lvl) < 0)
                return fail("invalid setting", "--log-level must be debug, info, warn, error or off");
        osb_log_set_level(lvl);
        if (strcmp(arg_listen, "127.0.0.1") && strcmp(arg_listen, "::1") && strcmp(arg_listen, "localhost") &&
            strncmp(arg_listen, "127.", 4))
                return fail("invalid setting", "--listen must be a loopback address");
        if (!arg_tls_cert != !arg_tls_key)
                return fail("invalid TLS settings", "--tls-cert and --tls-key go together");

        struct server srv = {.bookmark_ms = (unsigned) arg_bookmark_ms, .max_body = 3 * 1024 * 1024};
        if (arg_token_file && server_load_tokens(&srv, arg_token_file, &err) < 0) {
                server_release(&srv);
                return fail("invalid token file", err.text);
        }
        char *cert = NULL, *key = NULL;
        if (arg_tls_cert && (osb_read_file_err(arg_tls_cert, TLS_FILE_MAX, &cert, &err) < 0 || osb_read_file_err(arg_tls_key, TLS_FILE_MAX, &key, &err) < 0)) {
                osb_free(cert);
                server_release(&srv);
                return fail("invalid TLS settings", err.text);
        }
        if (api_new((size_t) arg_history, cert, &srv.api) < 0) {
                osb_free(cert);
                osb_free(key);
                server_release(&srv);
                return fail("cannot start", "out of memory");
        }

        sigset_t sigs;
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGTERM);
        sigaddset(&sigs, SIGINT);
        pthread_sigmask(SIG_BLOCK, &sigs, NULL);
        signal(SIGPIPE, SIG_IGN);

        int exit_code = EXIT_FAILURE;
        struct ticker tk = {.api = srv.api, .period_ms = 250};
        pthread_mutex_init(&tk.lock, NULL);
        pthread_cond_init(&tk.cond, NULL);
        bool ticker_started = false;
        struct osb_http_server *http = NULL;
        struct osb_http_config hcfg = {
                .address = arg_listen,
                .port = (uint16_t) arg_port,
                .threads = (unsigned) arg_threads,
                .max_body = srv.max_body,
                .max_header = 64 * 1024,
                .max_connections = 1024,
                .timeout_s = 300,
                .tls_cert_pem = cert,
                .tls_key_pem = key,
                .allow_suspend = true,
        };
        int r = api_start_controllers(srv.api);
        if (r < 0) {
                fail("cannot start the controllers", strerror(-r));
                goto out;
        }
        r = pthread_create(&tk.thread, NULL, ticker_main, &tk);
        if (r != 0) {
                fail("cannot start the ticker", strerror(r));
                goto out;
        }
        ticker_started = true;
        r = osb_http_server_start(&hcfg, server_handle, server_done, &srv, &http, &err);
        if (r < 0) {
                fail("cannot start the HTTP server", err.text);
                goto out;
        }
        uint16_t port = osb_http_server_port(http);
        bool v6 = strchr(arg_listen, ':') != NULL;
        (void) snprintf(srv.address, sizeof(srv.address), "%s%s%s:%u", v6 ? "[" : "", arg_listen, v6 ? "]" : "", (unsigned) port);
        if (arg_port_file && osb_http_write_port_file(arg_port_file, port, &err) < 0) {
                fail("cannot write the port file", err.text);
                goto out;
        }
        osb_log_info("listening", "address=%s port=%u tls=%s auth=%s watch_history=%" PRId64, arg_listen, (unsigned) port,
                     cert ? "on" : "off", srv.ntokens ? "bearer" : "none", arg_history);

        int sig = 0;
        sigwait(&sigs, &sig);
        osb_log_info("shutting down", "signal=%s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        exit_code = EXIT_SUCCESS;
out:
        /* Watches end first (they are suspended connections libmicrohttpd must see resumed). */
        atomic_store(&srv.api->stopping, true);
        api_watch_kick(srv.api);
        http = osb_http_server_stop(http, 3000);
        if (ticker_started) {
                pthread_mutex_lock(&tk.lock);
                tk.stop = true;
                pthread_cond_signal(&tk.cond);
                pthread_mutex_unlock(&tk.lock);
                pthread_join(tk.thread, NULL);
        }
        pthread_mutex_destroy(&tk.lock);
        pthread_cond_destroy(&tk.cond);
        srv.api = api_free(srv.api);
        server_release(&srv);
        osb_free(cert);
        if (key)
                explicit_bzero(key, strlen(key));
        osb_free(key);
        if (exit_code == EXIT_SUCCESS)
                osb_log_info("stopped", NULL);
        return exit_code;
}

int main(int argc, char **argv)
{
        return osb_settings_main(settings, OSB_ELEMENTSOF(settings), &program, argc, argv, run);
}
