/* broker/main.c: osb-broker: settings, start-up checks, the HTTP server, and a clean shutdown
 * on SIGTERM/SIGINT (stop accepting, drain in-flight requests, stop workers, exit 0). */
#include "common/osb_compat.h"
#include "common/osb_file.h"
#include "common/osb_http.h"
#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "common/osb_settings.h"
#include "broker/api.h"
#include "broker/auth.h"
#include "broker/backend.h"
#include "broker/catalog.h"
#include "broker/ops.h"
#include "broker/request.h"
#include "broker/router.h"
#include "broker/store.h"

#include <arpa/inet.h>

/* PEM certificate chains and keys are a few KiB; refuse anything absurd. */
#define TLS_FILE_MAX (1024 * 1024)

static char *arg_listen, *arg_port_file, *arg_db, *arg_catalog, *arg_username, *arg_password;
static char *arg_password_file, *arg_token, *arg_token_file, *arg_tls_cert, *arg_tls_key;
static char *arg_log_level, *arg_sync, *arg_min_api_version, *arg_store, *arg_health_port_file;
static int64_t arg_port, arg_threads, arg_workers, arg_max_connections, arg_max_per_client, arg_health_port;
static int64_t arg_request_timeout_ms, arg_header_timeout_ms, arg_drain_timeout_ms, arg_sync_timeout_ms;
static uint64_t arg_max_body, arg_max_header;
static bool arg_allow_insecure;

static const struct osb_setting settings[] = {
        {"listen", "OSB_BROKER_LISTEN", OSB_SETTING_STRING, "127.0.0.1", "ADDRESS",
         "Address to listen on (IPv4 or IPv6 literal; 0.0.0.0 or :: for all).", &arg_listen, 0, 0},
        {"port", "OSB_BROKER_PORT", OSB_SETTING_INT, "8080", "PORT",
         "TCP port; 0 picks a free one (see --port-file).", &arg_port, 0, 65535},
        {"port-file", "OSB_BROKER_PORT_FILE", OSB_SETTING_STRING, NULL, "FILE",
         "Write the port actually listened on to FILE once ready.", &arg_port_file, 0, 0},
        {"db", "OSB_BROKER_DB", OSB_SETTING_STRING, "osb-broker.db", "FILE",
         "SQLite database file holding instances, bindings and operations (created if missing).", &arg_db, 0, 0},
        {"store", "OSB_BROKER_STORE", OSB_SETTING_STRING, NULL, "URL",
         "Keep the state in PostgreSQL instead of --db: postgresql://USER:PASSWORD@HOST:PORT/DB "
         "(an existing database; libpq's PGPASSWORD/PGPASSFILE work too). Every broker replica "
         "given the same URL shares it.", &arg_store, 0, 0},
        {"sync", "OSB_BROKER_SYNC", OSB_SETTING_STRING, "normal", "MODE",
         "Durability: normal (survives a crash of the broker), full (fsync per commit: survives "
         "power loss), off (tests only).", &arg_sync, 0, 0},
        {"catalog", "OSB_BROKER_CATALOG", OSB_SETTING_STRING, NULL, "FILE",
         "Catalog file (OSB catalog JSON or YAML with x-bindery-backend settings); default: the "
         "built-in demo catalog.", &arg_catalog, 0, 0},
        {"username", "OSB_BROKER_USERNAME", OSB_SETTING_STRING, NULL, "NAME",
         "HTTP Basic authentication user name.", &arg_username, 0, 0},
        {"password", "OSB_BROKER_PASSWORD", OSB_SETTING_STRING, NULL, "SECRET",
         "HTTP Basic authentication password (prefer --password-file).", &arg_password, 0, 0},
        {"password-file", "OSB_BROKER_PASSWORD_FILE", OSB_SETTING_STRING, NULL, "FILE",
         "Read the Basic authentication password from the first line of FILE.", &arg_password_file, 0, 0},
        {"token", "OSB_BROKER_TOKEN", OSB_SETTING_STRING, NULL, "SECRET",
         "Accept this Bearer token (prefer --token-file).", &arg_token, 0, 0},
        {"token-file", "OSB_BROKER_TOKEN_FILE", OSB_SETTING_STRING, NULL, "FILE",
         "Read the Bearer token from the first line of FILE.", &arg_token_file, 0, 0},
        {"allow-insecure-remote", "OSB_BROKER_ALLOW_INSECURE_REMOTE", OSB_SETTING_BOOL, "false", NULL,
         "Allow listening beyond loopback without authentication.", &arg_allow_insecure, 0, 0},
        {"tls-cert", "OSB_BROKER_TLS_CERT", OSB_SETTING_STRING, NULL, "FILE",
         "Serve HTTPS with this PEM certificate (chain); needs --tls-key.", &arg_tls_cert, 0, 0},
        {"tls-key", "OSB_BROKER_TLS_KEY", OSB_SETTING_STRING, NULL, "FILE",
         "PEM private key for --tls-cert.", &arg_tls_key, 0, 0},
        {"threads", "OSB_BROKER_THREADS", OSB_SETTING_INT, "0", "N",
         "HTTP worker threads; 0 means one per CPU core and at least 16 (a request holds its thread "
         "while it waits for its group commit, or for a synchronous exec or postgresql backend).", &arg_threads, 0, 1024},
        {"workers", "OSB_BROKER_WORKERS", OSB_SETTING_INT, "4", "N",
         "Threads that run asynchronous operations.", &arg_workers, 1, 256},
        {"max-body", "OSB_BROKER_MAX_BODY", OSB_SETTING_SIZE, "1m", "BYTES",
         "Largest request body accepted (larger: 413).", &arg_max_body, 0, 64 * 1024 * 1024},
        {"max-header", "OSB_BROKER_MAX_HEADER", OSB_SETTING_SIZE, "32k", "BYTES",
         "Memory per connection for the request line and headers (larger: 431).", &arg_max_header, 0, 1024 * 1024},
        {"max-connections", "OSB_BROKER_MAX_CONNECTIONS", OSB_SETTING_INT, "1024", "N",
         "Concurrent connections accepted.", &arg_max_connections, 1, 65536},
        {"max-connections-per-client", "OSB_BROKER_MAX_CONNECTIONS_PER_CLIENT", OSB_SETTING_INT, "128", "N",
         "Concurrent connections accepted from one client address; 0: no limit.", &arg_max_per_client, 0, 65536},
        {"header-timeout", "OSB_BROKER_HEADER_TIMEOUT", OSB_SETTING_DURATION, "10s", "DURATION",
         "Close a connection that has not sent a whole request line and headers this long after "
         "opening, or after its previous answer.", &arg_header_timeout_ms, 0, 0},
        {"request-timeout", "OSB_BROKER_REQUEST_TIMEOUT", OSB_SETTING_DURATION, "60s", "DURATION",
         "Close a connection idle for this long, or whose request (headers and body) has not "
         "arrived in full this long after it began.", &arg_request_timeout_ms, 0, 0},
        {"health-port", "OSB_BROKER_HEALTH_PORT", OSB_SETTING_INT, "-1", "PORT",
         "Also serve /healthz, /readyz and /metrics (only those) on this port of the same address, "
         "with its own connections, so they answer while the API port is flooded; 0 picks a free "
         "one (see --health-port-file); -1: off.", &arg_health_port, -1, 65535},
        {"health-port-file", "OSB_BROKER_HEALTH_PORT_FILE", OSB_SETTING_STRING, NULL, "FILE",
         "Write the health port actually listened on to FILE once ready.", &arg_health_port_file, 0, 0},
        {"sync-timeout", "OSB_BROKER_SYNC_TIMEOUT", OSB_SETTING_DURATION, "50s", "DURATION",
         "How long a request without accepts_incomplete waits for an exec or postgresql "
         "operation that is not finished; after that it goes on in the background.",
         &arg_sync_timeout_ms, 0, 0},
        {"drain-timeout", "OSB_BROKER_DRAIN_TIMEOUT", OSB_SETTING_DURATION, "10s", "DURATION",
         "On SIGTERM, how long to let in-flight requests finish.", &arg_drain_timeout_ms, 0, 0},
        {"min-api-version", "OSB_BROKER_MIN_API_VERSION", OSB_SETTING_STRING, "2.13", "VERSION",
         "Oldest X-Broker-API-Version accepted (older: 412).", &arg_min_api_version, 0, 0},
        {"log-level", "OSB_BROKER_LOG_LEVEL", OSB_SETTING_STRING, "info", "LEVEL",
         "debug, info (one line per request), warn, error or off.", &arg_log_level, 0, 0},
};

static const struct osb_program program = {
        .name = "osb-broker",
        .summary = "An Open Service Broker API v2.17 broker with its state in SQLite or PostgreSQL.",
        .footer = "With no options it serves the built-in demo catalog on http://127.0.0.1:8080 and\n"
                  "keeps its state in ./osb-broker.db. Health: /healthz, /readyz; metrics: /metrics.\n"
                  "Documentation: osb-broker(1), docs/broker.md and docs/catalog.md.",
};

static bool is_loopback(const char *address)
{
        struct in_addr a4;
        struct in6_addr a6;
        if (strcmp(address, "localhost") == 0)
                return true;
        if (inet_pton(AF_INET, address, &a4) == 1)
                return (ntohl(a4.s_addr) >> 24) == 127;
        if (inet_pton(AF_INET6, address, &a6) == 1)
                return IN6_IS_ADDR_LOOPBACK(&a6);
        return false;
}

static int fail(const char *what, const char *detail)
{
        return osb_log_fail(program.name, what, detail);
}

static int run(void)
{
        struct osb_error err = OSB_ERROR_INIT;
        enum osb_log_level lvl;
        if (osb_log_parse_level(arg_log_level, &lvl) < 0)
                return fail("invalid setting", "--log-level must be debug, info, warn, error or off");
        osb_log_set_level(lvl);
        enum store_sync sync;
        if (store_parse_sync(arg_sync, &sync) < 0)
                return fail("invalid setting", "--sync must be normal, full or off");
        unsigned min_major = 0, min_minor = 0;
        struct osb_error verr = OSB_ERROR_INIT;
        if (request_parse_api_version(arg_min_api_version, &min_major, &min_minor, &verr) < 0 || min_major != 2)
                return fail("invalid setting", "--min-api-version must be 2.MINOR, e.g. 2.13");

        if (arg_store && strncmp(arg_store, "postgresql://", 13) != 0 && strncmp(arg_store, "postgres://", 11) != 0)
                return fail("invalid setting", "--store must be a postgresql:// URL");
        /* Where the state lives, and the same with a URL's password hidden, for the logs. */
        const char *location = arg_store ? arg_store : arg_db;
        osb_autofree char *location_shown = store_redact_location(location);
        if (!location_shown)
                return fail("cannot start", "out of memory");

        struct auth auth;
        if (auth_load(&auth, arg_username, arg_password, arg_password_file, arg_token, arg_token_file, &err) < 0)
                return fail("invalid authentication settings", err.text);
        if (!auth_enabled(&auth) && !is_loopback(arg_listen) && !arg_allow_insecure) {
                auth_release(&auth);
                return fail("refusing to start",
                            "listening beyond loopback without authentication: set --username and "
                            "--password-file (or --token-file), or pass --allow-insecure-remote");
        }

        struct catalog *cat = NULL;
        char *errors = NULL;
        int r = backend_load_catalog(arg_catalog, &cat, &errors);
        if (r < 0) {
                fprintf(stderr, "osb-broker: the catalog is invalid:\n%s\n", errors ? errors : "unknown error");
                osb_log_error("invalid catalog", "source=%s", arg_catalog ? arg_catalog : "built-in");
                osb_free(errors);
                catalog_free(cat);
                auth_release(&auth);
                return EXIT_FAILURE;
        }

        /* Open (and migrate) the database before anything listens. */
        struct store *st = NULL;
        r = store_open(location, sync, &st, &err);
        unsigned schema = r >= 0 ? store_schema_version(st) : 0;
        /* A damaged file (logged by the store) keeps the broker up, unready, answering 500. */
        struct osb_error cerr = OSB_ERROR_INIT;
        if (r >= 0)
                (void) store_check(st, &cerr);
        store_close(st);
        if (r < 0) {
                backend_release_catalog(cat);
                catalog_free(cat);
                auth_release(&auth);
                return fail("cannot open the database", err.text);
        }

        char *cert = NULL, *key = NULL;
        if ((arg_tls_cert || arg_tls_key) &&
            (!arg_tls_cert || !arg_tls_key || osb_read_file_err(arg_tls_cert, TLS_FILE_MAX, &cert, &err) < 0 ||
             osb_read_file_err(arg_tls_key, TLS_FILE_MAX, &key, &err) < 0)) {
                if (!err.code)
                        (void) osb_error_set(&err, -EINVAL, "--tls-cert and --tls-key go together");
                osb_free(cert);
                backend_release_catalog(cat);
                catalog_free(cat);
                auth_release(&auth);
                return fail("invalid TLS settings", err.text);
        }

        struct ops *ops = NULL;
        struct ops_config ocfg = {.db_path = location, .sync = sync, .cat = cat, .workers = (unsigned) arg_workers,
                                  .rescan_ms = store_location_is_shared(location) ? 10 * 1000 : 0};
        struct api api;
        struct router rt = {.cat = cat, .auth = &auth, .min_api_minor = min_minor};
        struct osb_http_server *srv = NULL;
        /* A request holds its thread while it waits for its batch's commit (group commit: the
         * more requests wait together, the fewer commits) or for a blocking backend. */
        long auto_threads = OSB_MAX(sysconf(_SC_NPROCESSORS_ONLN), 16L);
        struct osb_http_config hcfg = {
                .address = arg_listen,
                .port = (uint16_t) arg_port,
                .threads = arg_threads ? (unsigned) arg_threads : (unsigned) auto_threads,
                .max_body = arg_max_body,
                /* a hostile client's 300 MB is never read (docs/broker.md, --max-body) */
                .refuse_large_early = true,
                .max_header = arg_max_header,
                .max_connections = (unsigned) arg_max_connections,
                .timeout_s = (unsigned) ((arg_request_timeout_ms + 999) / 1000),
                .header_timeout_ms = (unsigned) OSB_MIN(arg_header_timeout_ms, (int64_t) UINT_MAX),
                .request_deadline_ms = (unsigned) OSB_MIN(arg_request_timeout_ms, (int64_t) UINT_MAX),
                .per_client_limit = (unsigned) arg_max_per_client,
                .tls_cert_pem = cert,
                .tls_key_pem = key,
        };
        /* The health listener: a few connections of its own, one thread, the same deadlines. */
        struct osb_http_config health_cfg = hcfg;
        health_cfg.port = (uint16_t) (arg_health_port > 0 ? arg_health_port : 0);
        health_cfg.threads = 1;
        health_cfg.max_connections = 64;
        health_cfg.per_client_limit = 0;
        health_cfg.max_body = 1024;
        struct osb_http_server *health = NULL;

        /* Block the signals before any thread starts, so only sigwait() below sees them. */
        sigset_t sigs;
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGTERM);
        sigaddset(&sigs, SIGINT);
        pthread_sigmask(SIG_BLOCK, &sigs, NULL);
        signal(SIGPIPE, SIG_IGN);

        int exit_code = EXIT_FAILURE;
        struct store_checkpointer *ckpt = NULL;
        r = store_checkpointer_start(location, 250, &ckpt, &err);
        if (r < 0) {
                fail("cannot start the checkpoint thread", err.text);
                goto out;
        }
        r = ops_start(&ocfg, &ops, &err);
        if (r < 0) {
                fail("cannot start operation workers", err.text);
                goto out;
        }
        if (api_init(&api, cat, ops, location, sync) < 0) {
                fail("cannot start", "out of thread-local keys");
                goto out_ops;
        }
        api.sync_timeout_ms = arg_sync_timeout_ms;
        rt.api = &api;
        r = osb_http_server_start(&hcfg, router_handle, router_done, &rt, &srv, &err);
        if (r < 0) {
                fail("cannot start the HTTP server", err.text);
                goto out_api;
        }
        uint16_t port = osb_http_server_port(srv);
        if (arg_health_port >= 0) {
                r = osb_http_server_start(&health_cfg, router_handle_health, router_done, &rt, &health, &err);
                if (r < 0) {
                        fail("cannot start the health listener", err.text);
                        goto out_srv;
                }
                if (arg_health_port_file &&
                    osb_http_write_port_file(arg_health_port_file, osb_http_server_port(health), &err) < 0) {
                        fail("cannot write the health port file", err.text);
                        goto out_srv;
                }
                osb_log_info("health listener", "address=%s port=%u", arg_listen,
                             (unsigned) osb_http_server_port(health));
        }
        if (arg_port_file && osb_http_write_port_file(arg_port_file, port, &err) < 0) {
                fail("cannot write the port file", err.text);
                goto out_srv;
        }
        bool v6 = strchr(arg_listen, ':') != NULL;
        osb_log_info("listening", "address=%s port=%u tls=%s auth=%s catalog=%s db=%s schema_version=%u threads=%u workers=%u",
                     arg_listen, (unsigned) port, cert ? "on" : "off",
                     auth.basic && auth.token ? "basic,bearer" : auth.basic ? "basic" : auth.token ? "bearer" : "none",
                     arg_catalog ? arg_catalog : "built-in", location_shown, schema, hcfg.threads, (unsigned) arg_workers);
        if (isatty(STDOUT_FILENO) || getenv("OSB_BROKER_ANNOUNCE")) {
                printf("osb-broker %s listening on %s://%s%s%s:%u (catalog: %s, state: %s)\n"
                       "Try: curl -H 'X-Broker-API-Version: 2.17'%s %s://%s%s%s:%u/v2/catalog\n",
                       PACKAGE_VERSION, cert ? "https" : "http", v6 ? "[" : "", arg_listen, v6 ? "]" : "",
                       (unsigned) port, arg_catalog ? arg_catalog : "built-in demo", location_shown,
                       auth.basic ? " -u USER:PASSWORD" : auth.token ? " -H 'Authorization: Bearer TOKEN'" : "",
                       cert ? "https" : "http", v6 ? "[" : "", arg_listen, v6 ? "]" : "", (unsigned) port);
                fflush(stdout);
        }

        int sig = 0;
        sigwait(&sigs, &sig);
        osb_log_info("shutting down", "signal=%s drain_timeout_ms=%" PRId64, sig == SIGTERM ? "SIGTERM" : "SIGINT",
                     arg_drain_timeout_ms);
        atomic_store(&rt.draining, true);
        exit_code = EXIT_SUCCESS;
out_srv:
        health = osb_http_server_stop(health, 0);
        srv = osb_http_server_stop(srv, (unsigned) arg_drain_timeout_ms);
out_api:
        api_release(&api);
out_ops:
        ops = ops_stop(ops);
out:
        ckpt = store_checkpointer_stop(ckpt);
        backend_release_catalog(cat);
        catalog_free(cat);
        auth_release(&auth);
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
