/* test/unit/check_catalog_controller_informer.c: the informer's list/watch loop against the test
 * API server (test/apiserver, in this process, on 127.0.0.1): a server that restarts on the same
 * port without its state (its resourceVersions start again below the informer's) must not leave
 * the informer watching from a version the new server will not reach for a long time: it lists
 * again, and sees an object created after the restart. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_http.h"
#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "common/osb_yaml.h"
#include "kube/config.h"
#include "catalog-controller/informer.h"
#include "catalog-controller/cached.h"
#include "test/apiserver/server.h"
#include "test/lib/check_main.h"

struct kts {
        struct server srv;
        struct osb_http_server *http;
};

/* Starts a fresh test API server on @port (0: any); returns its port. */
static uint16_t kts_start(struct kts *k, uint16_t port)
{
        memset(k, 0, sizeof(*k));
        k->srv.max_body = 3 * 1024 * 1024;
        ck_assert_int_eq(api_new(1000, "", &k->srv.api), 0);
        struct osb_http_config cfg = {.address = "127.0.0.1", .port = port, .threads = 4, .max_body = k->srv.max_body,
                                      .max_header = 64 * 1024, .max_connections = 64, .timeout_s = 300,
                                      .allow_suspend = true};
        struct osb_error err = OSB_ERROR_INIT;
        int r = -1;
        /* the old server's port may take a moment to be free again */
        for (int i = 0; i < 50 && r < 0; i++) {
                r = osb_http_server_start(&cfg, server_handle, server_done, &k->srv, &k->http, &err);
                if (r < 0) {
                        struct timespec ts = {0, 100 * 1000 * 1000};
                        (void) nanosleep(&ts, NULL);
                }
        }
        ck_assert_msg(r == 0, "%s", err.text);
        uint16_t p = osb_http_server_port(k->http);
        (void) snprintf(k->srv.address, sizeof(k->srv.address), "127.0.0.1:%u", (unsigned) p);
        return p;
}

/* Stops it as kube-testserver does on SIGTERM: watches end (cleanly), then the listener. */
static void kts_stop(struct kts *k)
{
        atomic_store(&k->srv.api->stopping, true);
        api_watch_kick(k->srv.api);
        k->http = osb_http_server_stop(k->http, 3000);
        k->srv.api = api_free(k->srv.api);
        server_release(&k->srv);
}

static void create_secret(struct kts *k, const char *name)
{
        struct kt_type *t = types_find(k->srv.api->types, "", "v1", "secrets");
        ck_assert_ptr_nonnull(t);
        char y[200];
        (void) snprintf(y, sizeof(y), "apiVersion: v1\nkind: Secret\nmetadata: {name: %s}\nstringData: {k: v}\n", name);
        json_t *body = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(osb_yaml_parse(y, strlen(y), &body, &err), 0);
        struct api_target tg = {.type = t, .ns = "default"};
        struct api_opts o = API_OPTS_INIT;
        struct api_result r = {0};
        ck_assert_uint_eq(api_create(k->srv.api, &tg, body, &o, &r), 201);
        api_result_release(&r);
        json_decref(body);
        kt_type_unref(t);
}

static void ignore(void *userdata, enum informer_event ev, const struct informer_kmeta *old, const struct informer_kmeta *new)
{
        (void) userdata, (void) ev, (void) old, (void) new;
}


/* Waits up to @ms for @key in the cache. */
static bool cached_within(struct informer *inf, const char *key, int ms)
{
        for (int waited = 0; waited < ms; waited += 50) {
                struct informer_kmeta *m = informer_get(inf, key);
                if (m) {
                        informer_put(inf, m);
                        return true;
                }
                struct timespec ts = {0, 50 * 1000 * 1000};
                (void) nanosleep(&ts, NULL);
        }
        return false;
}

START_TEST(informer_lists_again_after_the_server_restarts_without_its_state)
{
        osb_log_set_level(OSB_LOG_WARN);   /* not every request of the server */
        struct kts k;
        uint16_t port = kts_start(&k, 0);
        /* the first server gets well ahead of where the second will be */
        for (int i = 0; i < 30; i++) {
                char name[16];
                (void) snprintf(name, sizeof(name), "before-%d", i);
                create_secret(&k, name);
        }
        char url[64];
        (void) snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned) port);
        struct kube_config *cfg = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(kube_config_new(url, &cfg, &err), 0);
        struct kube_client *kc = NULL;
        ck_assert_int_eq(kube_client_new(cfg, NULL, &kc, &err), 0);
        /* kts_stop() ends the watch, then the server starts refusing requests: the informer's
         * pause after a watch ended early (250 ms) keeps its list from reading the old server's
         * state just before it goes (then a watch from that state's resourceVersion, sent to the
         * new server, would wait silently: a race a loaded machine made this test lose) */
        struct informer_options io = {.watch_timeout_s = 60, .max_backoff_ms = 1000};
        struct informer *inf = NULL;
        ck_assert_int_eq(informer_start(kc, &cached_kind_secrets, &io, ignore, NULL, &inf), 0);
        ck_assert_int_eq(informer_wait_synced(inf, 10000), 0);
        create_secret(&k, "watched");
        ck_assert(cached_within(inf, "default/watched", 10000));

        kts_stop(&k);
        ck_assert_uint_eq(kts_start(&k, port), port);
        /* the new server's resourceVersions are far below the informer's last one */
        create_secret(&k, "after-restart");
        ck_assert_msg(cached_within(inf, "default/after-restart", 15000),
                      "the informer did not see an object created after the server restarted");
        /* and the relist dropped what the new server does not have */
        ck_assert(!cached_within(inf, "default/before-0", 100));

        kube_client_cancel(kc);
        informer_free(inf);
        kube_client_free(kc);
        kts_stop(&k);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("catalog-controller informer");
        TCase *tc = tcase_create("restart");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, informer_lists_again_after_the_server_restarts_without_its_state);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(suite)
