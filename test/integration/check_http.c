/* test/integration/check_http.c: every status code osb-broker can answer, seen through real HTTP
 * on loopback: authentication, API version, malformed input, routing, conflicts, limits, the
 * four OSB error codes, caching, asynchronous answers, request identity, health and metrics,
 * HTTPS, percent-encoded ids, and that a 4xx never changes what is stored. */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "common/osb_parse.h"
#include "test/integration/itest.h"
#include "test/lib/check_main.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/wait.h>

#define CATALOG "itest-catalog.json"

/* Asserts an OSB error body: a JSON object with a non-empty description and, when @error is
 * set, that "error" code (otherwise no "error" member at all or any). */
static void assert_error_body(const struct it *t, const char *error)
{
        ck_assert_msg(json_is_object(t->json), "error body is not a JSON object: '%s'",
                      t->resp.body.data ? t->resp.body.data : "");
        const char *d = it_str(t, "description");
        ck_assert_msg(d && *d, "error body without description: %s", t->resp.body.data);
        if (error)
                ck_assert_msg(osb_streq(it_str(t, "error"), error), "expected error %s: %s", error,
                              t->resp.body.data);
}

static void provision_ok(struct it *t, const char *id, const char *plan, const char *params)
{
        osb_autofree char *path = osb_asprintf("/v2/service_instances/%s", id);
        osb_autofree char *body = it_provision_body(IT_SVC, plan, params, NULL);
        long s = it_req(t, "PUT", path, body, NULL);
        ck_assert_msg(s == 201, "provision %s: %ld %s", id, s, t->resp.body.data);
}

/* ---- raw connections (for what an HTTP client library would not send) --------------------- */

#define RAW_AUTH "Authorization: Basic b3NiOmNvbmZvcm1hbmNlLXNlY3JldA==\r\n"  /* IT_USER:IT_PASSWORD */
/* The request line and headers of a provision of instance ID, up to its body's framing. */
#define RAW_PUT_HEAD(ID) "PUT /v2/service_instances/" ID " HTTP/1.1\r\nHost: 127.0.0.1\r\n" RAW_AUTH \
                         "X-Broker-API-Version: 2.17\r\nContent-Type: application/json\r\n"

/* A TCP connection to the broker on 127.0.0.1, or -1. */
static int raw_connect(const struct it *t)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(broker_proc_port(t->bp))};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, (struct sockaddr *) &a, sizeof(a)) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

static bool raw_send(int fd, const char *text)
{
        size_t n = strlen(text);
        while (n > 0) {
                ssize_t w = send(fd, text, n, MSG_NOSIGNAL);
                if (w <= 0)
                        return false;
                text += w;
                n -= (size_t) w;
        }
        return true;
}

/* Reads until the end of a response's headers, the connection's end or @timeout_ms. Returns
 * the status code, 0 when the connection ended without one, -1 on time-out. */
static int raw_status(int fd, unsigned timeout_ms)
{
        char buf[4096];
        size_t n = 0;
        uint64_t deadline = it_now_ms() + timeout_ms;
        while (n < sizeof(buf) - 1) {
                uint64_t now = it_now_ms();
                if (now >= deadline)
                        return -1;
                struct pollfd p = {.fd = fd, .events = POLLIN};
                int r = poll(&p, 1, (int) (deadline - now));
                if (r == 0)
                        return -1;
                if (r < 0)
                        return 0;
                ssize_t k = recv(fd, buf + n, sizeof(buf) - 1 - n, 0);
                if (k <= 0)
                        break;
                n += (size_t) k;
                buf[n] = '\0';
                if (strstr(buf, "\r\n\r\n"))
                        break;
        }
        buf[n] = '\0';
        /* "HTTP/1.x NNN Reason" */
        const char *sp = strncmp(buf, "HTTP/1.", 7) == 0 ? strchr(buf, ' ') : NULL;
        int64_t status = 0;
        return sp && osb_parse_int64_word(sp, 100, 599, &status, NULL) == 0 ? (int) status : 0;
}

/* ---- 401 ----------------------------------------------------------------------------------- */

START_TEST(missing_or_wrong_basic_credentials_are_401_with_a_basic_challenge)
{
        static const char *const bad[] = {
                NULL,                                  /* no header */
                "Basic b3NiOndyb25n",                  /* osb:wrong */
                "Basic b3NiOmNvbmZvcm1hbmNlLXNlY3JldA==x",
                "Basic b3NiOmNvbmZvcm1hbmNlLXNlY3JldGE=", /* osb:conformance-secreta */
                "Basic b3NiOmNvbmZvcm1hbmNlLXNlY3Jl",  /* osb:conformance-secre */
                "Basic b3NiOg==",                      /* osb: */
                "Basic !!!!",                          /* not base64 */
                "Basic ",                              /* nothing */
                "Bearer conformance-secret",           /* wrong scheme */
                "b3NiOmNvbmZvcm1hbmNlLXNlY3JldA==",    /* no scheme */
        };
        struct it t;
        it_start(&t, CATALOG, NULL);
        for (size_t i = 0; i < OSB_ELEMENTSOF(bad); i++) {
                const char *h[] = {"Authorization", bad[i], NULL};
                /* A body that would be a 400 shows authentication is checked first. */
                long s = it_req(&t, "PUT", "/v2/service_instances/auth-x", "{", h);
                ck_assert_msg(s == 401, "Authorization '%s': %ld", bad[i] ? bad[i] : "(none)", s);
                const char *www = http_response_header(&t.resp, "WWW-Authenticate");
                ck_assert_msg(www && strncmp(www, "Basic", 5) == 0, "WWW-Authenticate: %s", www ? www : "(none)");
                assert_error_body(&t, NULL);
        }
        ck_assert_int_eq(it_req(&t, "GET", "/v2/catalog", NULL, NULL), 200);
        /* Padding is optional, and the scheme is case-insensitive. */
        const char *unpadded[] = {"Authorization", "Basic b3NiOmNvbmZvcm1hbmNlLXNlY3JldA", NULL};
        ck_assert_int_eq(it_req(&t, "GET", "/v2/catalog", NULL, unpadded), 200);
        const char *lower[] = {"Authorization", "basic b3NiOmNvbmZvcm1hbmNlLXNlY3JldA==", NULL};
        ck_assert_int_eq(it_req(&t, "GET", "/v2/catalog", NULL, lower), 200);
        it_stop(&t);
}
END_TEST

START_TEST(bearer_only_broker_challenges_with_bearer_and_accepts_only_its_token)
{
        osb_autofree char *dir = it_mkdtemp();
        osb_autofree char *tok = osb_asprintf("%s/token", dir);
        it_write_file(tok, "s3cr3t-token\n");
        const char *extra[] = {"--username=", "--password=", "--token-file", tok, NULL};
        struct it t;
        it_start(&t, CATALOG, extra);
        static const char *const bad[] = {NULL, "Bearer wrong", "Bearer s3cr3t-toke", "Bearer s3cr3t-token2",
                                          "Basic b3NiOmNvbmZvcm1hbmNlLXNlY3JldA==", "s3cr3t-token"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(bad); i++) {
                const char *h[] = {"Authorization", bad[i], NULL};
                long s = it_req(&t, "GET", "/v2/catalog", NULL, h);
                ck_assert_msg(s == 401, "Authorization '%s': %ld", bad[i] ? bad[i] : "(none)", s);
                const char *www = http_response_header(&t.resp, "WWW-Authenticate");
                ck_assert_msg(www && strncmp(www, "Bearer", 6) == 0, "WWW-Authenticate: %s", www ? www : "(none)");
        }
        const char *good[] = {"Authorization", "Bearer s3cr3t-token", NULL};
        ck_assert_int_eq(it_req(&t, "GET", "/v2/catalog", NULL, good), 200);
        it_stop(&t);
        it_rmtree(dir);
}
END_TEST

START_TEST(broker_with_basic_and_bearer_accepts_either)
{
        osb_autofree char *dir = it_mkdtemp();
        osb_autofree char *tok = osb_asprintf("%s/token", dir);
        it_write_file(tok, "tok-both\n");
        const char *extra[] = {"--token-file", tok, NULL};
        struct it t;
        it_start(&t, CATALOG, extra);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/catalog", NULL, NULL), 200);
        const char *bearer[] = {"Authorization", "Bearer tok-both", NULL};
        ck_assert_int_eq(it_req(&t, "GET", "/v2/catalog", NULL, bearer), 200);
        const char *wrong[] = {"Authorization", "Bearer tok-bot", NULL};
        ck_assert_int_eq(it_req(&t, "GET", "/v2/catalog", NULL, wrong), 401);
        ck_assert_ptr_nonnull(http_response_header(&t.resp, "WWW-Authenticate"));
        it_stop(&t);
        it_rmtree(dir);
}
END_TEST

/* ---- 412 ----------------------------------------------------------------------------------- */

START_TEST(missing_old_or_malformed_api_version_is_412)
{
        static const char *const bad[] = {NULL, "", "2.12", "2.0", "1.17", "3.0", "abc", "2", "2.", ".17",
                                          "2.17.1", "2.17a", "2 .17", "2.x", "-2.17", "99999999999.1"};
        struct it t;
        it_start(&t, CATALOG, NULL);
        for (size_t i = 0; i < OSB_ELEMENTSOF(bad); i++) {
                const char *h[] = {"X-Broker-API-Version", bad[i], NULL};
                long s = it_req(&t, "PUT", "/v2/service_instances/ver-x", "{", h);
                ck_assert_msg(s == 412, "X-Broker-API-Version '%s': %ld %s", bad[i] ? bad[i] : "(none)", s,
                              t.resp.body.data);
                assert_error_body(&t, NULL);
                ck_assert_msg(strstr(it_str(&t, "description"), "2.17") != NULL,
                              "412 description does not name the version spoken: %s", t.resp.body.data);
        }
        static const char *const good[] = {"2.13", "2.14", "2.17", "2.99"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(good); i++) {
                const char *h[] = {"X-Broker-API-Version", good[i], NULL};
                ck_assert_msg(it_req(&t, "GET", "/v2/catalog", NULL, h) == 200, "version %s", good[i]);
        }
        /* Authentication comes first. */
        const char *both[] = {"X-Broker-API-Version", "1.0", "Authorization", NULL, NULL};
        ck_assert_int_eq(it_req(&t, "GET", "/v2/catalog", NULL, both), 401);
        it_stop(&t);
}
END_TEST

START_TEST(min_api_version_setting_moves_the_412_boundary)
{
        const char *extra[] = {"--min-api-version", "2.16", NULL};
        struct it t;
        it_start(&t, CATALOG, extra);
        const char *old[] = {"X-Broker-API-Version", "2.15", NULL};
        ck_assert_int_eq(it_req(&t, "GET", "/v2/catalog", NULL, old), 412);
        const char *ok[] = {"X-Broker-API-Version", "2.16", NULL};
        ck_assert_int_eq(it_req(&t, "GET", "/v2/catalog", NULL, ok), 200);
        it_stop(&t);
}
END_TEST

/* ---- 400 ----------------------------------------------------------------------------------- */

static const char *const bad_provisions[] = {
        "",
        "{",
        "{\"service_id\":",
        "[1,2]",
        "\"a string\"",
        "null",
        "{}",
        "{\"service_id\":\"" IT_SVC "\"}",
        "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"" IT_PLAN_SYNC "\",\"space_guid\":\"s\"}",
        "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"" IT_PLAN_SYNC "\",\"organization_guid\":\"o\"}",
        "{\"service_id\":\"\",\"plan_id\":\"" IT_PLAN_SYNC "\",\"organization_guid\":\"o\",\"space_guid\":\"s\"}",
        "{\"service_id\":5,\"plan_id\":\"" IT_PLAN_SYNC "\",\"organization_guid\":\"o\",\"space_guid\":\"s\"}",
        "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"" IT_PLAN_SYNC "\",\"organization_guid\":\"o\",\"space_guid\":\"s\","
        "\"parameters\":5}",
        "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"" IT_PLAN_SYNC "\",\"organization_guid\":\"o\",\"space_guid\":\"s\","
        "\"context\":[]}",
        "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"" IT_PLAN_SYNC "\",\"organization_guid\":\"o\",\"space_guid\":\"s\","
        "\"maintenance_info\":{\"version\":7}}",
        "{\"service_id\":\"no-such-service\",\"plan_id\":\"" IT_PLAN_SYNC "\",\"organization_guid\":\"o\",\"space_guid\":\"s\"}",
        "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"no-such-plan\",\"organization_guid\":\"o\",\"space_guid\":\"s\"}",
        "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"" IT_PLAN_FIXED_A "\",\"organization_guid\":\"o\",\"space_guid\":\"s\"}",
        "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"" IT_PLAN_SYNC "\",\"organization_guid\":\"o\",\"space_guid\":\"s\"} x",
        "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"" IT_PLAN_SYNC "\",\"organization_guid\":\"o\",\"space_guid\":\"s\",}",
};

START_TEST(malformed_provision_bodies_are_400_and_create_nothing)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        for (size_t i = 0; i < OSB_ELEMENTSOF(bad_provisions); i++) {
                long s = it_req(&t, "PUT", "/v2/service_instances/bad-body", bad_provisions[i], NULL);
                ck_assert_msg(s == 400, "body '%s': %ld %s", bad_provisions[i], s, t.resp.body.data);
                assert_error_body(&t, NULL);
        }
        /* No body at all. */
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/bad-body", NULL, NULL), 400);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/bad-body", NULL, NULL), 404);
        ck_assert_int_eq(it_sql_int(broker_proc_db_path(t.bp), "SELECT count(*) FROM instances"), 0);
        ck_assert_int_eq(it_sql_int(broker_proc_db_path(t.bp), "SELECT count(*) FROM operations"), 0);
        /* Unknown fields are vendor extensions, never a reason to reject (OSB G8). */
        const char *ext = "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"" IT_PLAN_SYNC "\",\"organization_guid\":\"o\","
                          "\"space_guid\":\"s\",\"x-vendor\":{\"a\":[1]},\"parameters\":null}";
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/bad-body", ext, NULL), 201);
        it_stop(&t);
}
END_TEST

/* A DELETE whose service_id or plan_id is not the resource's is 400 and deletes nothing, as
 * bind and update already answer for the same mismatch. */
START_TEST(delete_with_another_service_or_plan_is_400_and_deletes_nothing)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        provision_ok(&t, "m1", IT_PLAN_SYNC, NULL);
        osb_autofree char *bb = it_bind_body(IT_SVC, IT_PLAN_SYNC, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/m1/service_bindings/b1", bb, NULL), 201);
        static const char *const wrong[] = {
                "?service_id=" IT_SVC_FIXED "&plan_id=" IT_PLAN_SYNC,
                "?service_id=" IT_SVC "&plan_id=" IT_PLAN_SYNC2,
                "?service_id=other&plan_id=other",
        };
        for (size_t i = 0; i < OSB_ELEMENTSOF(wrong); i++) {
                osb_autofree char *bp = osb_asprintf("/v2/service_instances/m1/service_bindings/b1%s", wrong[i]);
                long s = it_req(&t, "DELETE", bp, NULL, NULL);
                ck_assert_msg(s == 400, "DELETE %s: %ld %s", bp, s, t.resp.body.data);
                assert_error_body(&t, NULL);
                osb_autofree char *ip = osb_asprintf("/v2/service_instances/m1%s", wrong[i]);
                s = it_req(&t, "DELETE", ip, NULL, NULL);
                ck_assert_msg(s == 400, "DELETE %s: %ld %s", ip, s, t.resp.body.data);
                assert_error_body(&t, NULL);
        }
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/m1/service_bindings/b1", NULL, NULL), 200);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/m1", NULL, NULL), 200);
        ck_assert_int_eq(it_req(&t, "DELETE", "/v2/service_instances/m1/service_bindings/b1?service_id=" IT_SVC
                                "&plan_id=" IT_PLAN_SYNC, NULL, NULL), 200);
        ck_assert_int_eq(it_req(&t, "DELETE", "/v2/service_instances/m1?service_id=" IT_SVC "&plan_id=" IT_PLAN_SYNC,
                                NULL, NULL), 200);
        it_stop(&t);
}
END_TEST

/* One rule for boolean query parameters: true or false, any case, surrounding whitespace
 * ignored; anything else is 400. And X-Broker-API-Version's surrounding whitespace is not part
 * of the value (RFC 9110 strips it). */
START_TEST(booleans_and_the_api_version_are_read_consistently)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_ASYNC_REQUIRED, NULL, NULL);
        static const char *const yes[] = {"true", "TRUE", "True", "%20true", "true%20", "%09tRuE%20%20"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(yes); i++) {
                osb_autofree char *p = osb_asprintf("/v2/service_instances/y%zu?accepts_incomplete=%s", i, yes[i]);
                long s = it_req(&t, "PUT", p, pb, NULL);
                ck_assert_msg(s == 202, "PUT %s: %ld %s", p, s, t.resp.body.data);
        }
        static const char *const no[] = {"false", "FALSE", "%20False%20"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(no); i++) {
                osb_autofree char *p = osb_asprintf("/v2/service_instances/n%zu?accepts_incomplete=%s", i, no[i]);
                long s = it_req(&t, "PUT", p, pb, NULL);
                ck_assert_msg(s == 422, "PUT %s: %ld %s", p, s, t.resp.body.data);
                assert_error_body(&t, "AsyncRequired");
        }
        static const char *const bad[] = {"1", "yes", "0", "", "tru", "true1", "t%20rue", "on"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(bad); i++) {
                osb_autofree char *p = osb_asprintf("/v2/service_instances/b%zu?accepts_incomplete=%s", i, bad[i]);
                long s = it_req(&t, "PUT", p, pb, NULL);
                ck_assert_msg(s == 400, "PUT %s: %ld %s", p, s, t.resp.body.data);
                assert_error_body(&t, NULL);
                ck_assert_ptr_nonnull(strstr(it_str(&t, "description"), "accepts_incomplete"));
        }
        static const char *const versions[] = {"2.17 ", " 2.17", "2.17\t", " 2.17  "};
        for (size_t i = 0; i < OSB_ELEMENTSOF(versions); i++) {
                const char *h[] = {"X-Broker-API-Version", versions[i], NULL};
                long s = it_req(&t, "GET", "/v2/catalog", NULL, h);
                ck_assert_msg(s == 200, "X-Broker-API-Version '%s': %ld %s", versions[i], s, t.resp.body.data);
        }
        const char *h[] = {"X-Broker-API-Version", "2.17 x", NULL};
        ck_assert_int_eq(it_req(&t, "GET", "/v2/catalog", NULL, h), 412);
        it_stop(&t);
}
END_TEST

START_TEST(malformed_bind_update_and_delete_requests_are_400)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        provision_ok(&t, "bad-req", IT_PLAN_SYNC, "{\"a\":1}");
        static const char *const binds[] = {
                "", "{", "[]", "{}", "{\"service_id\":\"" IT_SVC "\"}",
                "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"" IT_PLAN_SYNC "\",\"app_guid\":\"\"}",
                "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"" IT_PLAN_SYNC "\",\"bind_resource\":\"x\"}",
                "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"" IT_PLAN_SYNC "\",\"parameters\":[1]}",
                /* another plan than the instance's */
                "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"" IT_PLAN_SYNC2 "\"}",
                /* rotation on a plan that is not binding_rotatable */
                "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"" IT_PLAN_SYNC "\",\"predecessor_binding_id\":\"b0\"}",
        };
        for (size_t i = 0; i < OSB_ELEMENTSOF(binds); i++) {
                long s = it_req(&t, "PUT", "/v2/service_instances/bad-req/service_bindings/b1", binds[i], NULL);
                ck_assert_msg(s == 400, "bind body '%s': %ld %s", binds[i], s, t.resp.body.data);
                assert_error_body(&t, NULL);
        }
        static const char *const updates[] = {
                "", "{", "[]", "{}", "{\"plan_id\":\"" IT_PLAN_SYNC "\"}",
                "{\"service_id\":\"" IT_SVC "\",\"parameters\":\"x\"}",
                "{\"service_id\":\"no-such-service\"}",
                "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"no-such-plan\"}",
        };
        for (size_t i = 0; i < OSB_ELEMENTSOF(updates); i++) {
                long s = it_req(&t, "PATCH", "/v2/service_instances/bad-req", updates[i], NULL);
                ck_assert_msg(s == 400, "update body '%s': %ld %s", updates[i], s, t.resp.body.data);
                assert_error_body(&t, NULL);
        }
        static const char *const deletes[] = {
                "/v2/service_instances/bad-req",
                "/v2/service_instances/bad-req?service_id=" IT_SVC,
                "/v2/service_instances/bad-req?plan_id=" IT_PLAN_SYNC,
                "/v2/service_instances/bad-req?service_id=&plan_id=" IT_PLAN_SYNC,
                "/v2/service_instances/bad-req/service_bindings/b1?service_id=" IT_SVC,
        };
        for (size_t i = 0; i < OSB_ELEMENTSOF(deletes); i++) {
                long s = it_req(&t, "DELETE", deletes[i], NULL, NULL);
                ck_assert_msg(s == 400, "DELETE %s: %ld %s", deletes[i], s, t.resp.body.data);
        }
        /* None of it changed the instance or created a binding. */
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/bad-req", NULL, NULL), 200);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(t.json, "parameters"), "a")), 1);
        ck_assert_str_eq(it_str(&t, "plan_id"), IT_PLAN_SYNC);
        ck_assert_int_eq(it_sql_int(broker_proc_db_path(t.bp), "SELECT count(*) FROM bindings"), 0);
        it_stop(&t);
}
END_TEST

START_TEST(bad_originating_identity_is_400_and_a_good_one_is_accepted)
{
        static const char *const bad[] = {
                "kubernetes",
                "kubernetes ",
                " eyJ1c2VybmFtZSI6ImFsaWNlIn0=",
                "kubernetes !!!not-base64!!!",
                "kubernetes WzFd",                      /* [1] */
                "kubernetes bm90IGpzb24=",              /* not json */
                "kubernetes eyJ1c2VybmFtZSI6ImFsaWNlIn0= extra",
                "kubernetes e",
        };
        struct it t;
        it_start(&t, CATALOG, NULL);
        osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_SYNC, NULL, NULL);
        for (size_t i = 0; i < OSB_ELEMENTSOF(bad); i++) {
                const char *h[] = {"X-Broker-API-Originating-Identity", bad[i], NULL};
                long s = it_req(&t, "PUT", "/v2/service_instances/oi", pb, h);
                ck_assert_msg(s == 400, "identity '%s': %ld %s", bad[i], s, t.resp.body.data);
                assert_error_body(&t, NULL);
        }
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/oi", NULL, NULL), 404);
        const char *good[] = {"X-Broker-API-Originating-Identity",
                              "kubernetes eyJ1c2VybmFtZSI6ImFsaWNlIiwidWlkIjoiMSJ9", NULL};
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/oi", pb, good), 201);
        it_stop(&t);
}
END_TEST

/* ---- 404, 405 ------------------------------------------------------------------------------ */

START_TEST(unknown_paths_and_resources_are_404)
{
        static const char *const paths[] = {
                "/", "/v2", "/v2/", "/v2/nope", "/v3/catalog", "/v2/catalogs", "/v2/service_instances",
                "/v2/service_instances/", "/v2/service_instances/x/extra", "/v2/service_instances/x/service_bindings",
                "/v2/service_instances/x/service_bindings/", "/v2/service_instances/x/service_bindings/b/extra",
                "/v2/service_instances/x/service_bindings/b/last_operation/more",
                "/v2/service_instances/x/last_operation/more",
                "/v2/service_instances/unknown", "/v2/service_instances/unknown/last_operation",
                "/v2/service_instances/unknown/service_bindings/b",
                "/v2/service_instances/unknown/service_bindings/b/last_operation",
                "/v2/service_instances/x%zz", "/a/b/c/d/e/f/g/h/i/j/k",
        };
        struct it t;
        it_start(&t, CATALOG, NULL);
        for (size_t i = 0; i < OSB_ELEMENTSOF(paths); i++) {
                long s = it_req(&t, "GET", paths[i], NULL, NULL);
                ck_assert_msg(s == 404, "GET %s: %ld %s", paths[i], s, t.resp.body.data);
                assert_error_body(&t, NULL);
        }
        const char *ub = "{\"service_id\":\"" IT_SVC "\"}";
        ck_assert_int_eq(it_req(&t, "PATCH", "/v2/service_instances/unknown", ub, NULL), 404);
        it_stop(&t);
}
END_TEST

START_TEST(wrong_methods_are_405_with_allow)
{
        static const struct {
                const char *method, *path, *allow;
        } cases[] = {
                {"POST", "/v2/catalog", "GET"},
                {"PUT", "/v2/catalog", "GET"},
                {"DELETE", "/v2/catalog", "GET"},
                {"POST", "/v2/service_instances/x", "GET, PUT, PATCH, DELETE"},
                {"POST", "/v2/service_instances/x/service_bindings/b", "GET, PUT, DELETE"},
                {"PATCH", "/v2/service_instances/x/service_bindings/b", "GET, PUT, DELETE"},
                {"PUT", "/v2/service_instances/x/last_operation", "GET"},
                {"DELETE", "/v2/service_instances/x/service_bindings/b/last_operation", "GET"},
        };
        struct it t;
        it_start(&t, CATALOG, NULL);
        for (size_t i = 0; i < OSB_ELEMENTSOF(cases); i++) {
                long s = it_req(&t, cases[i].method, cases[i].path, cases[i].method[0] == 'P' ? "{}" : NULL, NULL);
                ck_assert_msg(s == 405, "%s %s: %ld", cases[i].method, cases[i].path, s);
                const char *allow = http_response_header(&t.resp, "Allow");
                ck_assert_msg(osb_streq(allow, cases[i].allow), "%s %s: Allow: %s", cases[i].method, cases[i].path,
                              allow ? allow : "(none)");
                assert_error_body(&t, NULL);
        }
        it_stop(&t);
}
END_TEST

/* ---- 409, 410 ------------------------------------------------------------------------------ */

START_TEST(provision_and_bind_conflicts_are_409_and_change_nothing)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        osb_autofree char *orig = it_provision_body(IT_SVC, IT_PLAN_SYNC, "{\"a\":1}", "{\"platform\":\"p\"}");
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/conf", orig, NULL), 201);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/conf", NULL, NULL), 200);
        json_auto_t *before = it_json_copy(&t);
        const char *conflicts[] = {
                "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"" IT_PLAN_SYNC "\",\"organization_guid\":\"org-1\","
                "\"space_guid\":\"space-1\",\"parameters\":{\"a\":2},\"context\":{\"platform\":\"p\"}}",
                "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"" IT_PLAN_SYNC2 "\",\"organization_guid\":\"org-1\","
                "\"space_guid\":\"space-1\",\"parameters\":{\"a\":1},\"context\":{\"platform\":\"p\"}}",
                "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"" IT_PLAN_SYNC "\",\"organization_guid\":\"org-1\","
                "\"space_guid\":\"space-1\",\"parameters\":{\"a\":1},\"context\":{\"platform\":\"q\"}}",
                "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"" IT_PLAN_SYNC "\",\"organization_guid\":\"org-2\","
                "\"space_guid\":\"space-1\",\"parameters\":{\"a\":1},\"context\":{\"platform\":\"p\"}}",
                "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"" IT_PLAN_SYNC "\",\"organization_guid\":\"org-1\","
                "\"space_guid\":\"space-1\",\"context\":{\"platform\":\"p\"}}",
        };
        for (size_t i = 0; i < OSB_ELEMENTSOF(conflicts); i++) {
                long s = it_req(&t, "PUT", "/v2/service_instances/conf", conflicts[i], NULL);
                ck_assert_msg(s == 409, "conflict %zu: %ld %s", i, s, t.resp.body.data);
                assert_error_body(&t, NULL);
                ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/conf", NULL, NULL), 200);
                ck_assert_msg(json_equal(before, t.json), "after conflict %zu: %s", i, t.resp.body.data);
        }
        /* The same body with keys in another order and other whitespace is identical, not a conflict. */
        const char *same = "{ \"context\": {\"platform\": \"p\"}, \"parameters\": {\"a\": 1}, \"space_guid\": \"space-1\","
                           " \"organization_guid\": \"org-1\", \"plan_id\": \"" IT_PLAN_SYNC "\","
                           " \"service_id\": \"" IT_SVC "\" }";
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/conf", same, NULL), 200);

        osb_autofree char *b1 = it_bind_body(IT_SVC, IT_PLAN_SYNC, "{\"x\":1}", "app-1");
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/conf/service_bindings/cb", b1, NULL), 201);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/conf/service_bindings/cb", NULL, NULL), 200);
        json_auto_t *bbefore = it_json_copy(&t);
        osb_autofree char *b2 = it_bind_body(IT_SVC, IT_PLAN_SYNC, "{\"x\":2}", "app-1");
        osb_autofree char *b3 = it_bind_body(IT_SVC, IT_PLAN_SYNC, "{\"x\":1}", "app-2");
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/conf/service_bindings/cb", b2, NULL), 409);
        assert_error_body(&t, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/conf/service_bindings/cb", b3, NULL), 409);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/conf/service_bindings/cb", NULL, NULL), 200);
        ck_assert_msg(json_equal(bbefore, t.json), "binding after conflicts: %s", t.resp.body.data);
        it_stop(&t);
}
END_TEST

START_TEST(deleting_what_does_not_exist_is_410)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        ck_assert_int_eq(it_req(&t, "DELETE", "/v2/service_instances/none?service_id=" IT_SVC "&plan_id=" IT_PLAN_SYNC,
                                NULL, NULL), 410);
        ck_assert_msg(json_is_object(t.json) && json_object_size(t.json) == 0, "410 body: %s", t.resp.body.data);
        provision_ok(&t, "gone", IT_PLAN_SYNC, NULL);
        ck_assert_int_eq(it_req(&t, "DELETE", "/v2/service_instances/gone/service_bindings/none?service_id=" IT_SVC
                                "&plan_id=" IT_PLAN_SYNC, NULL, NULL), 410);
        ck_assert_int_eq(it_req(&t, "DELETE", "/v2/service_instances/gone?service_id=" IT_SVC "&plan_id=" IT_PLAN_SYNC,
                                NULL, NULL), 200);
        ck_assert_int_eq(it_req(&t, "DELETE", "/v2/service_instances/gone?service_id=" IT_SVC "&plan_id=" IT_PLAN_SYNC,
                                NULL, NULL), 410);

        /* After an asynchronous deprovision, polling without an operation answers 410. */
        provision_ok(&t, "gone-async", IT_PLAN_ASYNC_FAST, NULL);
        ck_assert_int_eq(it_req(&t, "DELETE", "/v2/service_instances/gone-async?accepts_incomplete=true&service_id="
                                IT_SVC "&plan_id=" IT_PLAN_ASYNC_FAST, NULL, NULL), 202);
        const char *st = it_wait_op(&t, "/v2/service_instances/gone-async/last_operation", 30000);
        ck_assert_str_eq(st, "gone");
        it_stop(&t);
}
END_TEST

/* ---- 413, 431 ------------------------------------------------------------------------------ */

static char *padded_provision(size_t total)
{
        osb_autofree char *head = it_provision_body(IT_SVC, IT_PLAN_SYNC, "{\"pad\":\"", NULL);
        /* head ends with ...,"parameters":{"pad":"} — drop the closing brace, pad, close. */
        size_t hl = strlen(head) - 1;
        ck_assert_uint_gt(total, hl + 3);
        char *b = osb_malloc(total + 1);
        ck_assert_ptr_nonnull(b);
        memcpy(b, head, hl);
        memset(b + hl, 'p', total - hl - 3);
        memcpy(b + total - 3, "\"}}", 3);
        b[total] = '\0';
        return b;
}

START_TEST(body_over_max_body_is_413_and_creates_nothing)
{
        const char *extra[] = {"--max-body", "1k", NULL};
        struct it t;
        it_start(&t, CATALOG, extra);
        static const size_t too_big[] = {1025, 2048, 256 * 1024};
        for (size_t i = 0; i < OSB_ELEMENTSOF(too_big); i++) {
                osb_autofree char *body = padded_provision(too_big[i]);
                long s = it_req(&t, "PUT", "/v2/service_instances/big", body, NULL);
                ck_assert_msg(s == 413, "%zu bytes: %ld", too_big[i], s);
                assert_error_body(&t, NULL);
        }
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/big", NULL, NULL), 404);
        osb_autofree char *fits = padded_provision(1024);
        json_auto_t *parsed = json_loads(fits, 0, NULL);
        ck_assert_msg(parsed != NULL, "the padded body is not JSON");
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/big", fits, NULL), 201);
        it_stop(&t);
}
END_TEST

/* A body announced over --max-body, but by less than the broker's drain allowance (1 MiB), is
 * read and discarded before the 413: a client that pauses after its headers and then sends the
 * whole body has every write accepted and reads the 413 (answered at once, the connection would
 * be closed while it still writes, and its writes would fail with a reset). */
START_TEST(content_length_a_little_over_max_body_is_read_then_413)
{
        const char *extra[] = {"--max-body", "1k", NULL};
        struct it t;
        it_start(&t, CATALOG, extra);
        int fd = raw_connect(&t);
        ck_assert_int_ge(fd, 0);
        ck_assert(raw_send(fd, RAW_PUT_HEAD("big")
                               "Content-Length: 65536\r\n\r\n"));
        usleep(300 * 1000);
        char piece[4096 + 1];
        memset(piece, ' ', sizeof(piece) - 1);
        piece[sizeof(piece) - 1] = '\0';
        for (int i = 0; i < 16; i++) {
                ck_assert_msg(raw_send(fd, piece), "piece %d of the body: %s", i, strerror(errno));
                usleep(20 * 1000);
        }
        ck_assert_int_eq(raw_status(fd, 20000), 413);
        close(fd);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/big", NULL, NULL), 404);
        it_stop(&t);
}
END_TEST

/* Reads what the broker sends on @fd until it closes the connection or @timeout_ms pass; returns
 * how many responses began ("HTTP/1.1 " at the start of a line), -1 when it did not close. */
static int raw_responses_until_close(int fd, unsigned timeout_ms)
{
        struct osb_buf all;
        osb_buf_init(&all, 1024 * 1024);
        uint64_t deadline = it_now_ms() + timeout_ms;
        bool closed = false;
        while (!closed) {
                uint64_t now = it_now_ms();
                if (now >= deadline)
                        break;
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (poll(&p, 1, (int) (deadline - now)) <= 0)
                        break;
                char buf[4096];
                ssize_t k = recv(fd, buf, sizeof(buf), 0);
                if (k <= 0)
                        closed = true;
                else
                        ck_assert_int_eq(osb_buf_append(&all, buf, (size_t) k), 0);
        }
        int n = 0;
        for (size_t i = 0; all.data && i + 9 <= all.len; i++)
                if ((i == 0 || all.data[i - 1] == '\n') && memcmp(all.data + i, "HTTP/1.1 ", 9) == 0)
                        n++;
        osb_buf_release(&all);
        return closed ? n : -1;
}

/* Headers that leave the end of the body in doubt (RFC 9112, section 6) are refused before the
 * body is read, and the connection closed: what follows the body (here a second request, as a
 * request-smuggling attempt hides one) is never answered, and nothing is created. Duplicate
 * Content-Length headers that agree are one length. */
START_TEST(framing_that_leaves_the_body_end_in_doubt_is_refused_and_the_connection_closed)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        osb_autofree char *body = it_provision_body(IT_SVC, IT_PLAN_SYNC, NULL, NULL);
        size_t len = strlen(body);
        const char *head = RAW_PUT_HEAD("framed");
        const char *smuggled = "GET /v2/catalog HTTP/1.1\r\nHost: 127.0.0.1\r\n" RAW_AUTH
                               "X-Broker-API-Version: 2.17\r\n\r\n";
        struct {
                const char *what;
                char *request;
                int status;
        } cases[] = {
                {"Content-Length and Transfer-Encoding",
                 osb_asprintf("%sContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n%s\r\n0\r\n\r\n%s", head, len,
                              body, smuggled),
                 400},
                {"two Content-Lengths that differ",
                 osb_asprintf("%sContent-Length: %zu\r\nContent-Length: 7\r\n\r\n%s%s", head, len, body, smuggled), 400},
                {"a Transfer-Encoding other than chunked",
                 osb_asprintf("%sTransfer-Encoding: gzip, chunked\r\n\r\n%zx\r\n%s\r\n0\r\n\r\n%s", head, len, body, smuggled),
                 501},
        };
        for (size_t i = 0; i < OSB_ELEMENTSOF(cases); i++) {
                ck_assert_ptr_nonnull(cases[i].request);
                int fd = raw_connect(&t);
                ck_assert_int_ge(fd, 0);
                ck_assert(raw_send(fd, cases[i].request));
                int status = raw_status(fd, 20000);
                ck_assert_msg(status == cases[i].status, "%s: %d", cases[i].what, status);
                /* the status line was read: no second response follows, and the broker closes */
                ck_assert_msg(raw_responses_until_close(fd, 20000) == 0, "%s: not closed after one answer",
                              cases[i].what);
                close(fd);
                osb_free(cases[i].request);
        }
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/framed", NULL, NULL), 404);
        /* the same length twice is one length */
        int fd = raw_connect(&t);
        ck_assert_int_ge(fd, 0);
        osb_autofree char *twice = osb_asprintf("%sContent-Length: %zu\r\nContent-Length: %zu\r\n\r\n%s", head, len, len, body);
        ck_assert(raw_send(fd, twice));
        ck_assert_int_eq(raw_status(fd, 20000), 201);
        close(fd);
        it_stop(&t);
}
END_TEST

/* A Content-Length over --max-body is answered 413 at once: the broker reads none of the body
 * (the client here sends none, and would otherwise wait for a 300 MB upload to be read). */
START_TEST(content_length_over_max_body_is_413_before_the_body_is_read)
{
        const char *extra[] = {"--max-body", "1k", NULL};
        struct it t;
        it_start(&t, CATALOG, extra);
        int fd = raw_connect(&t);
        ck_assert_int_ge(fd, 0);
        ck_assert(raw_send(fd, RAW_PUT_HEAD("huge")
                               "Content-Length: 300000000\r\n\r\n{\"service_id\":"));
        uint64_t t0 = it_now_ms();
        int status = raw_status(fd, 20000);   /* without the early 413: no answer at all */
        close(fd);
        ck_assert_msg(status == 413, "status %d after %" PRIu64 " ms", status, it_now_ms() - t0);
        /* Also with Expect: 100-continue (no 100 is sent, only the 413). */
        fd = raw_connect(&t);
        ck_assert_int_ge(fd, 0);
        ck_assert(raw_send(fd, "PUT /v2/service_instances/huge HTTP/1.1\r\nHost: 127.0.0.1\r\n" RAW_AUTH
                               "X-Broker-API-Version: 2.17\r\nExpect: 100-continue\r\n"
                               "Content-Length: 99999999999999999999999\r\n\r\n"));
        status = raw_status(fd, 20000);
        close(fd);
        ck_assert_int_eq(status, 413);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/huge", NULL, NULL), 404);
        ck_assert_int_eq(it_req(&t, "GET", "/healthz", NULL, NULL), 200);
        it_stop(&t);
}
END_TEST

/* A chunked body (no Content-Length) is refused with 413 as soon as what arrived exceeds
 * --max-body: the client here sends 1.6 KiB past a 1 KiB limit and never ends its body, so
 * without the early refusal it would get no answer at all. */
START_TEST(chunked_body_over_max_body_is_413_before_its_end)
{
        const char *extra[] = {"--max-body", "1k", NULL};
        struct it t;
        it_start(&t, CATALOG, extra);
        int fd = raw_connect(&t);
        ck_assert_int_ge(fd, 0);
        ck_assert(raw_send(fd, RAW_PUT_HEAD("chunky")
                               "Transfer-Encoding: chunked\r\n\r\n"));
        char chunk[800 + 16];
        int n = snprintf(chunk, sizeof(chunk), "%x\r\n", 800);
        memset(chunk + n, ' ', 800);
        memcpy(chunk + n + 800, "\r\n", 3);
        for (int i = 0; i < 2; i++)
                ck_assert(raw_send(fd, chunk));
        int status = raw_status(fd, 20000);   /* without the early 413: no answer at all */
        close(fd);
        ck_assert_int_eq(status, 413);
        /* A chunked body within the limit is read to its end and served. */
        fd = raw_connect(&t);
        ck_assert_int_ge(fd, 0);
        ck_assert(raw_send(fd, RAW_PUT_HEAD("chunky")
                               "Transfer-Encoding: chunked\r\n\r\n"
                               "3\r\n{}\n\r\n0\r\n\r\n"));
        status = raw_status(fd, 20000);
        close(fd);
        ck_assert_int_eq(status, 400);  /* read whole: the empty object lacks service_id */
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/chunky", NULL, NULL), 404);
        ck_assert_int_eq(it_req(&t, "GET", "/healthz", NULL, NULL), 200);
        it_stop(&t);
}
END_TEST

/* Whether the broker has closed @fd (end of stream or reset), without blocking. */
static bool raw_closed(int fd)
{
        char buf[256];
        for (;;) {
                ssize_t k = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
                if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
                        return true;
                if (k < 0)
                        return false;
        }
}

/* Slow loris: clients that trickle one header line at a time never finish their headers. The
 * broker closes them at --header-timeout, accepts at most --max-connections-per-client from one
 * address, and the health listener answers throughout. Bounded: 40 connections, 15 seconds (a
 * trickle the broker does not close stays open as long as it trickles; closed, they go after
 * about 1 s: only that bound is asserted, so that a loaded machine cannot break it). */
START_TEST(slow_header_trickles_are_closed_and_the_health_port_keeps_answering)
{
        osb_autofree char *tmp = it_mkdtemp();
        osb_autofree char *hp_file = osb_asprintf("%s/health-port", tmp);
        const char *extra[] = {"--header-timeout", "1s", "--max-connections", "64", "--max-connections-per-client",
                               "16", "--health-port", "0", "--health-port-file", hp_file, NULL};
        struct it t;
        it_start(&t, CATALOG, extra);
        osb_autofree char *hp_text = it_read_file(hp_file);
        ck_assert_ptr_nonnull(hp_text);
        osb_autofree char *health = osb_asprintf("http://127.0.0.1:%ld", strtol(hp_text, NULL, 10));

        enum { N = 40 };
        int fds[N];
        uint64_t t0 = it_now_ms();
        for (int i = 0; i < N; i++) {
                fds[i] = raw_connect(&t);
                ck_assert_int_ge(fds[i], 0);
                (void) raw_send(fds[i], "GET /v2/catalog HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        }
        bool closed[N] = {false};
        bool health_checked = false;
        unsigned most_open = 0;
        while (it_now_ms() - t0 < 15000) {
                unsigned open = 0;
                for (int i = 0; i < N; i++) {
                        if (!closed[i] && (raw_closed(fds[i]) || send(fds[i], "X-Trickle: 1\r\n", 14,
                                                                         MSG_NOSIGNAL | MSG_DONTWAIT) < 0))
                                closed[i] = true;
                        open += !closed[i];
                }
                uint64_t elapsed = it_now_ms() - t0;
                if (elapsed > 300 && open > most_open)
                        most_open = open;
                /* While they trickle, the health listener answers at once. */
                if (!health_checked && elapsed > 300) {
                        uint64_t h0 = it_now_ms();
                        ck_assert_int_eq(it_req_url(&t, t.hc, health, "GET", "/healthz", NULL, NULL), 200);
                        ck_assert_int_eq(it_req_url(&t, t.hc, health, "GET", "/readyz", NULL, NULL), 200);
                        ck_assert_int_eq(it_req_url(&t, t.hc, health, "GET", "/metrics", NULL, NULL), 200);
                        ck_assert_int_eq(it_req_url(&t, t.hc, health, "GET", "/v2/catalog", NULL, NULL), 404);
                        ck_assert_uint_lt(it_now_ms() - h0, 10000);   /* not the 75 s it was */
                        health_checked = true;
                }
                if (open == 0)
                        break;
                it_sleep_ms(200);
        }
        uint64_t took = it_now_ms() - t0;
        unsigned left = 0;
        for (int i = 0; i < N; i++) {
                left += !closed[i];
                close(fds[i]);
        }
        ck_assert_msg(most_open <= 16, "%u connections from one address were kept", most_open);
        ck_assert_msg(left == 0, "%u trickling connections still open after %" PRIu64 " ms", left, took);
        ck_assert(health_checked);
        /* The API port serves again. */
        ck_assert_int_eq(it_req(&t, "GET", "/v2/catalog", NULL, NULL), 200);
        it_stop(&t);
        it_rmtree(tmp);
}
END_TEST

/* The whole request has a deadline too: a body trickled a byte at a time (never idle, so the
 * idle timeout never fires) is cut at --request-timeout. */
START_TEST(a_body_trickle_is_closed_at_the_request_deadline)
{
        const char *extra[] = {"--request-timeout", "2s", NULL};
        struct it t;
        it_start(&t, CATALOG, extra);
        int fd = raw_connect(&t);
        ck_assert_int_ge(fd, 0);
        ck_assert(raw_send(fd, RAW_PUT_HEAD("slow")
                               "Content-Length: 1000\r\n\r\n"));
        uint64_t t0 = it_now_ms();
        bool closed = false;
        while (!closed && it_now_ms() - t0 < 20000) {
                closed = raw_closed(fd) || send(fd, " ", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0;
                it_sleep_ms(200);
        }
        uint64_t took = it_now_ms() - t0;
        close(fd);
        ck_assert_msg(closed, "a body trickle was still open after %" PRIu64 " ms", took);
        ck_assert_msg(took >= 1500, "closed after %" PRIu64 " ms, before the deadline", took);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/slow", NULL, NULL), 404);
        it_stop(&t);
}
END_TEST

START_TEST(headers_over_max_header_are_431)
{
        const char *extra[] = {"--max-header", "8k", NULL};
        struct it t;
        it_start(&t, CATALOG, extra);
        char *big = osb_malloc(16 * 1024);
        ck_assert_ptr_nonnull(big);
        memset(big, 'h', 16 * 1024 - 1);
        big[16 * 1024 - 1] = '\0';
        const char *h[] = {"X-Big", big, NULL};
        long s = it_req(&t, "GET", "/v2/catalog", NULL, h);
        osb_free(big);
        ck_assert_int_eq(s, 431);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/catalog", NULL, NULL), 200);
        it_stop(&t);
}
END_TEST

/* ---- 422 ----------------------------------------------------------------------------------- */

START_TEST(async_only_plan_without_accepts_incomplete_is_422_async_required)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_ASYNC_REQUIRED, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/ar", pb, NULL), 422);
        assert_error_body(&t, "AsyncRequired");
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/ar?accepts_incomplete=false", pb, NULL), 422);
        assert_error_body(&t, "AsyncRequired");
        ck_assert_int_eq(it_sql_int(broker_proc_db_path(t.bp), "SELECT count(*) FROM instances"), 0);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/ar?accepts_incomplete=true", pb, NULL), 202);
        /* The same request while it is in progress, without accepts_incomplete. */
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/ar", pb, NULL), 422);
        assert_error_body(&t, "AsyncRequired");
        ck_assert_str_eq(it_wait_op(&t, "/v2/service_instances/ar/last_operation", 30000), "succeeded");
        osb_autofree char *bb = it_bind_body(IT_SVC, IT_PLAN_ASYNC_REQUIRED, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/ar/service_bindings/b", bb, NULL), 422);
        assert_error_body(&t, "AsyncRequired");
        ck_assert_int_eq(it_req(&t, "DELETE", "/v2/service_instances/ar?service_id=" IT_SVC
                                "&plan_id=" IT_PLAN_ASYNC_REQUIRED, NULL, NULL), 422);
        assert_error_body(&t, "AsyncRequired");
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/ar", NULL, NULL), 200);
        it_stop(&t);
}
END_TEST

START_TEST(work_on_an_instance_with_an_operation_in_progress_is_422_concurrency_error)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        /* Provisioning in progress: binding waits. */
        osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_ASYNC_SLOW, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/busy?accepts_incomplete=true", pb, NULL), 202);
        osb_autofree char *bb = it_bind_body(IT_SVC, IT_PLAN_ASYNC_SLOW, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/busy/service_bindings/b", bb, NULL), 422);
        assert_error_body(&t, "ConcurrencyError");
        const char *ub = "{\"service_id\":\"" IT_SVC "\",\"parameters\":{\"n\":1}}";
        ck_assert_int_eq(it_req(&t, "PATCH", "/v2/service_instances/busy?accepts_incomplete=true", ub, NULL), 422);
        assert_error_body(&t, "ConcurrencyError");

        /* Update in progress: fetch, another update, deprovision and bind wait. */
        osb_autofree char *pb2 = it_provision_body(IT_SVC, IT_PLAN_ASYNC_SLOW, "{\"n\":0}", NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/upd", pb2, NULL), 201);
        ck_assert_int_eq(it_req(&t, "PATCH", "/v2/service_instances/upd?accepts_incomplete=true", ub, NULL), 202);
        osb_autofree char *op = osb_strdup(it_str(&t, "operation"));
        ck_assert_int_eq(it_req(&t, "PATCH", "/v2/service_instances/upd?accepts_incomplete=true", ub, NULL), 202);
        ck_assert_str_eq(it_str(&t, "operation"), op);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/upd", NULL, NULL), 422);
        assert_error_body(&t, "ConcurrencyError");
        const char *ub2 = "{\"service_id\":\"" IT_SVC "\",\"parameters\":{\"n\":2}}";
        ck_assert_int_eq(it_req(&t, "PATCH", "/v2/service_instances/upd?accepts_incomplete=true", ub2, NULL), 422);
        assert_error_body(&t, "ConcurrencyError");
        ck_assert_int_eq(it_req(&t, "DELETE", "/v2/service_instances/upd?accepts_incomplete=true&service_id=" IT_SVC
                                "&plan_id=" IT_PLAN_ASYNC_SLOW, NULL, NULL), 422);
        assert_error_body(&t, "ConcurrencyError");
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/upd/service_bindings/b", bb, NULL), 422);
        assert_error_body(&t, "ConcurrencyError");
        /* Still the old parameters for whoever reads the database. */
        ck_assert_int_eq(it_sql_int(broker_proc_db_path(t.bp), "SELECT count(*) FROM bindings"), 0);
        it_stop(&t);
}
END_TEST

START_TEST(bind_without_app_guid_on_a_requires_app_plan_is_422_requires_app)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        provision_ok(&t, "ra", IT_PLAN_REQUIRES_APP, NULL);
        osb_autofree char *none = it_bind_body(IT_SVC, IT_PLAN_REQUIRES_APP, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/ra/service_bindings/b", none, NULL), 422);
        assert_error_body(&t, "RequiresApp");
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/ra/service_bindings/b", NULL, NULL), 404);
        osb_autofree char *nested = it_bind_body(IT_SVC, IT_PLAN_REQUIRES_APP, NULL, "app-9");
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/ra/service_bindings/b", nested, NULL), 201);
        const char *top = "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"" IT_PLAN_REQUIRES_APP "\",\"app_guid\":\"app-7\"}";
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/ra/service_bindings/b2", top, NULL), 201);
        it_stop(&t);
}
END_TEST

START_TEST(maintenance_info_mismatch_is_422_maintenance_info_conflict)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        const char *fmt = "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"%s\",\"organization_guid\":\"o\","
                          "\"space_guid\":\"s\",\"maintenance_info\":{\"version\":\"%s\"}}";
        osb_autofree char *wrong = osb_asprintf(fmt, IT_PLAN_MAINT, "2.0.0");
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/mi", wrong, NULL), 422);
        assert_error_body(&t, "MaintenanceInfoConflict");
        osb_autofree char *none = osb_asprintf(fmt, IT_PLAN_SYNC, "1.0.0");
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/mi", none, NULL), 422);
        assert_error_body(&t, "MaintenanceInfoConflict");
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/mi", NULL, NULL), 404);
        osb_autofree char *right = osb_asprintf(fmt, IT_PLAN_MAINT, "1.0.0");
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/mi", right, NULL), 201);
        const char *upd = "{\"service_id\":\"" IT_SVC "\",\"maintenance_info\":{\"version\":\"0.9.0\"}}";
        ck_assert_int_eq(it_req(&t, "PATCH", "/v2/service_instances/mi", upd, NULL), 422);
        assert_error_body(&t, "MaintenanceInfoConflict");
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/mi", NULL, NULL), 200);
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(t.json, "maintenance_info"), "version")),
                         "1.0.0");
        it_stop(&t);
}
END_TEST

START_TEST(rejected_updates_are_422_or_400_and_change_nothing)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        osb_autofree char *pb = it_provision_body(IT_SVC_FIXED, IT_PLAN_FIXED_A, "{\"n\":1}", NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/fx", pb, NULL), 201);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/fx", NULL, NULL), 200);
        json_auto_t *before = it_json_copy(&t);
        static const struct {
                const char *body;
                long status;
        } cases[] = {
                /* plan_updateable is false */
                {"{\"service_id\":\"" IT_SVC_FIXED "\",\"plan_id\":\"" IT_PLAN_FIXED_B "\",\"parameters\":{\"n\":2}}", 422},
                /* context-only update without allow_context_updates */
                {"{\"service_id\":\"" IT_SVC_FIXED "\",\"context\":{\"platform\":\"new\"}}", 422},
                /* wrong service */
                {"{\"service_id\":\"" IT_SVC "\",\"parameters\":{\"n\":2}}", 400},
                {"{\"service_id\":\"" IT_SVC_FIXED "\",\"parameters\":[2]}", 400},
                {"{\"service_id\":\"" IT_SVC_FIXED "\",\"parameters\":{\"n\":2},\"maintenance_info\":{\"version\":\"9\"}}",
                 422},
        };
        for (size_t i = 0; i < OSB_ELEMENTSOF(cases); i++) {
                long s = it_req(&t, "PATCH", "/v2/service_instances/fx", cases[i].body, NULL);
                ck_assert_msg(s == cases[i].status, "update %zu: %ld %s", i, s, t.resp.body.data);
                assert_error_body(&t, NULL);
                ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/fx", NULL, NULL), 200);
                ck_assert_msg(json_equal(before, t.json), "after update %zu: %s", i, t.resp.body.data);
        }
        /* A parameter change on the same plan is allowed and merges. */
        const char *ok = "{\"service_id\":\"" IT_SVC_FIXED "\",\"parameters\":{\"m\":3}}";
        ck_assert_int_eq(it_req(&t, "PATCH", "/v2/service_instances/fx", ok, NULL), 200);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/fx", NULL, NULL), 200);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(t.json, "parameters"), "n")), 1);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(t.json, "parameters"), "m")), 3);
        it_stop(&t);
}
END_TEST

/* ---- 5xx from a failing backend ------------------------------------------------------------ */

START_TEST(sync_provision_on_a_failing_plan_is_5xx_with_its_message_and_stores_nothing)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_FAILS, NULL, NULL);
        /* The error table maps a backend failure to 500 (or 502 in earlier versions). */
        long s = it_req(&t, "PUT", "/v2/service_instances/f", pb, NULL);
        ck_assert_msg(s == 500 || s == 502, "status %ld", s);
        assert_error_body(&t, NULL);
        ck_assert_msg(strstr(it_str(&t, "description"), IT_FAIL_MESSAGE), "description: %s", t.resp.body.data);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/f", NULL, NULL), 404);
        ck_assert_int_eq(it_sql_int(broker_proc_db_path(t.bp), "SELECT count(*) FROM instances"), 0);
        /* The platform's orphan mitigation: deleting it is 410. */
        ck_assert_int_eq(it_req(&t, "DELETE", "/v2/service_instances/f?service_id=" IT_SVC "&plan_id=" IT_PLAN_FAILS,
                                NULL, NULL), 410);
        it_stop(&t);
}
END_TEST

START_TEST(failed_updates_report_instance_usable_and_change_nothing)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        provision_ok(&t, "fu", IT_PLAN_SYNC, "{\"n\":1}");
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/fu", NULL, NULL), 200);
        json_auto_t *before = it_json_copy(&t);
        const char *to_fails = "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"" IT_PLAN_FAILS "\",\"parameters\":{\"n\":2}}";
        /* Synchronously: an error that says the instance is still usable and the update repeatable. */
        long s = it_req(&t, "PATCH", "/v2/service_instances/fu", to_fails, NULL);
        ck_assert_msg(s >= 500, "sync failed update: %ld %s", s, t.resp.body.data);
        ck_assert_msg(strstr(it_str(&t, "description"), IT_FAIL_MESSAGE), "description: %s", t.resp.body.data);
        ck_assert(json_is_true(json_object_get(t.json, "instance_usable")));
        ck_assert(json_is_true(json_object_get(t.json, "update_repeatable")));
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/fu", NULL, NULL), 200);
        ck_assert_msg(json_equal(before, t.json), "after a failed update: %s", t.resp.body.data);
        /* Asynchronously: the failed operation says the same. */
        ck_assert_int_eq(it_req(&t, "PATCH", "/v2/service_instances/fu?accepts_incomplete=true", to_fails, NULL), 202);
        osb_autofree char *lop = osb_asprintf("/v2/service_instances/fu/last_operation?operation=%s", it_str(&t, "operation"));
        ck_assert_str_eq(it_wait_op(&t, lop, 30000), "failed");
        ck_assert_msg(strstr(it_str(&t, "description"), IT_FAIL_MESSAGE), "description: %s", t.resp.body.data);
        ck_assert(json_is_true(json_object_get(t.json, "instance_usable")));
        ck_assert(json_is_true(json_object_get(t.json, "update_repeatable")));
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/fu", NULL, NULL), 200);
        ck_assert_msg(json_equal(before, t.json), "after a failed async update: %s", t.resp.body.data);
        it_stop(&t);
}
END_TEST

START_TEST(async_bind_and_unbind_poll_to_succeeded_then_410)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        provision_ok(&t, "ab", IT_PLAN_ASYNC_FAST, "{\"extra\":\"e\"}");
        osb_autofree char *bb = it_bind_body(IT_SVC, IT_PLAN_ASYNC_FAST, NULL, NULL);
        const char *bpath = "/v2/service_instances/ab/service_bindings/b?accepts_incomplete=true";
        ck_assert_int_eq(it_req(&t, "PUT", bpath, bb, NULL), 202);
        osb_autofree char *op = osb_strdup(it_str(&t, "operation"));
        ck_assert_ptr_nonnull(op);
        /* Repeated while in progress: 202 with the same operation, never 200. */
        long s = it_req(&t, "PUT", bpath, bb, NULL);
        if (s == 202)
                ck_assert_str_eq(it_str(&t, "operation"), op);
        ck_assert_str_eq(it_wait_op(&t, "/v2/service_instances/ab/service_bindings/b/last_operation", 30000),
                         "succeeded");
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/ab/service_bindings/b", NULL, NULL), 200);
        json_t *creds = json_object_get(t.json, "credentials");
        ck_assert_str_eq(json_string_value(json_object_get(creds, "user")), "f-b");
        ck_assert_str_eq(json_string_value(json_object_get(creds, "extra")), "e");
        ck_assert_int_eq(it_req(&t, "PUT", bpath, bb, NULL), 200);
        ck_assert_int_eq(it_req(&t, "DELETE", "/v2/service_instances/ab/service_bindings/b?accepts_incomplete=true"
                                "&service_id=" IT_SVC "&plan_id=" IT_PLAN_ASYNC_FAST, NULL, NULL), 202);
        ck_assert_str_eq(it_wait_op(&t, "/v2/service_instances/ab/service_bindings/b/last_operation", 30000), "gone");
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/ab/service_bindings/b", NULL, NULL), 404);
        ck_assert_int_eq(it_sql_int(broker_proc_db_path(t.bp), "SELECT count(*) FROM bindings"), 0);
        it_stop(&t);
}
END_TEST

/* ---- 304, 202 ------------------------------------------------------------------------------ */

START_TEST(catalog_with_matching_if_none_match_is_304)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/catalog", NULL, NULL), 200);
        ck_assert_ptr_nonnull(json_object_get(t.json, "services"));
        const char *e = http_response_header(&t.resp, "ETag");
        ck_assert_ptr_nonnull(e);
        osb_autofree char *etag = osb_strdup(e);
        const char *h[] = {"If-None-Match", etag, "X-Broker-API-Request-Identity", "rid-304", NULL};
        ck_assert_int_eq(it_req(&t, "GET", "/v2/catalog", NULL, h), 304);
        ck_assert_uint_eq(t.resp.body.len, 0);
        ck_assert_str_eq(http_response_header(&t.resp, "ETag"), etag);
        ck_assert_str_eq(http_response_header(&t.resp, "X-Broker-API-Request-Identity"), "rid-304");
        osb_autofree char *list = osb_asprintf("\"nope\", %s", etag);
        const char *h2[] = {"If-None-Match", list, NULL};
        ck_assert_int_eq(it_req(&t, "GET", "/v2/catalog", NULL, h2), 304);
        const char *star[] = {"If-None-Match", "*", NULL};
        ck_assert_int_eq(it_req(&t, "GET", "/v2/catalog", NULL, star), 304);
        const char *other[] = {"If-None-Match", "\"0000000000000000\"", NULL};
        ck_assert_int_eq(it_req(&t, "GET", "/v2/catalog", NULL, other), 200);
        ck_assert_ptr_nonnull(json_object_get(t.json, "services"));
        /* 304 still needs credentials. */
        const char *noauth[] = {"If-None-Match", etag, "Authorization", NULL, NULL};
        ck_assert_int_eq(it_req(&t, "GET", "/v2/catalog", NULL, noauth), 401);
        it_stop(&t);
}
END_TEST

START_TEST(async_provision_is_202_with_operation_and_dashboard_and_polling_has_retry_after)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_ASYNC, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/acc?accepts_incomplete=true", pb, NULL), 202);
        const char *op = it_str(&t, "operation");
        ck_assert_msg(op && *op && strlen(op) <= 10000, "operation: %s", t.resp.body.data);
        osb_autofree char *opc = osb_strdup(op);
        /* A dashboard URL must be in the first response, even for an async provision (OSB §2). */
        ck_assert_msg(osb_streq(it_str(&t, "dashboard_url"), "https://dash.itest.invalid/acc"),
                      "202 body: %s", t.resp.body.data);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/acc", NULL, NULL), 404);

        osb_autofree char *pslow = it_provision_body(IT_SVC, IT_PLAN_ASYNC_SLOW, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/slow?accepts_incomplete=true", pslow, NULL), 202);
        osb_autofree char *sop = osb_strdup(it_str(&t, "operation"));
        osb_autofree char *lop = osb_asprintf("/v2/service_instances/slow/last_operation?operation=%s", sop);
        ck_assert_int_eq(it_req(&t, "GET", lop, NULL, NULL), 200);
        ck_assert_str_eq(it_str(&t, "state"), "in progress");
        const char *ra = http_response_header(&t.resp, "Retry-After");
        ck_assert_msg(ra != NULL, "no Retry-After while in progress");
        char *end;
        long v = strtol(ra, &end, 10);
        ck_assert_msg(*ra && !*end && v >= 1 && v <= 30, "Retry-After: '%s'", ra);

        osb_autofree char *alop = osb_asprintf("/v2/service_instances/acc/last_operation?operation=%s", opc);
        ck_assert_str_eq(it_wait_op(&t, alop, 30000), "succeeded");
        ck_assert_ptr_null(http_response_header(&t.resp, "Retry-After"));
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/acc", NULL, NULL), 200);
        ck_assert_str_eq(it_str(&t, "dashboard_url"), "https://dash.itest.invalid/acc");
        /* Once provisioned, the identical request is 200. */
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/acc?accepts_incomplete=true", pb, NULL), 200);
        /* The same for an async update to a plan with another dashboard URL: it is in the 202 (OSB
         * §Updating: "MUST return it with the initial response ... even if ... asynchronously"). */
        osb_autofree char *pfast = it_provision_body(IT_SVC, IT_PLAN_ASYNC_FAST, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/upd", pfast, NULL), 201);
        ck_assert_ptr_null(it_str(&t, "dashboard_url"));
        osb_autofree char *ub = osb_asprintf("{\"service_id\":\"%s\",\"plan_id\":\"%s\"}", IT_SVC, IT_PLAN_ASYNC);
        ck_assert_int_eq(it_req(&t, "PATCH", "/v2/service_instances/upd?accepts_incomplete=true", ub, NULL), 202);
        ck_assert_msg(osb_streq(it_str(&t, "dashboard_url"), "https://dash.itest.invalid/upd") && it_str(&t, "operation"),
                      "202 body: %s", t.resp.body.data);
        /* An operation of another instance is not this one's. */
        osb_autofree char *wrong = osb_asprintf("/v2/service_instances/acc/last_operation?operation=%s", sop);
        ck_assert_int_eq(it_req(&t, "GET", wrong, NULL, NULL), 400);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/acc/last_operation?operation=nope", NULL, NULL), 400);
        it_stop(&t);
}
END_TEST

/* ---- request identity, health, metrics ------------------------------------------------------ */

START_TEST(request_identity_is_echoed_on_success_and_on_error)
{
        static const struct {
                const char *method, *path, *body;
                const char *drop;   /* a default header to remove */
                long status;
        } cases[] = {
                {"GET", "/v2/catalog", NULL, NULL, 200},
                {"PUT", "/v2/service_instances/rid",
                 "{\"service_id\":\"" IT_SVC "\",\"plan_id\":\"" IT_PLAN_SYNC "\",\"organization_guid\":\"o\",\"space_guid\":\"s\"}",
                 NULL, 201},
                {"GET", "/v2/service_instances/rid", NULL, NULL, 200},
                {"GET", "/v2/service_instances/none", NULL, NULL, 404},
                {"PUT", "/v2/service_instances/rid2", "{", NULL, 400},
                {"GET", "/v2/catalog", NULL, "Authorization", 401},
                {"GET", "/v2/catalog", NULL, "X-Broker-API-Version", 412},
                {"POST", "/v2/catalog", "{}", NULL, 405},
                {"DELETE", "/v2/service_instances/none?service_id=" IT_SVC "&plan_id=" IT_PLAN_SYNC, NULL, NULL, 410},
        };
        struct it t;
        it_start(&t, CATALOG, NULL);
        for (size_t i = 0; i < OSB_ELEMENTSOF(cases); i++) {
                char rid[64];
                (void) snprintf(rid, sizeof(rid), "req-%zu-7c1d", i);
                const char *h[] = {"X-Broker-API-Request-Identity", rid, cases[i].drop, NULL, NULL};
                long s = it_req(&t, cases[i].method, cases[i].path, cases[i].body, h);
                ck_assert_msg(s == cases[i].status, "%s %s: %ld", cases[i].method, cases[i].path, s);
                const char *echo = http_response_header(&t.resp, "X-Broker-API-Request-Identity");
                ck_assert_msg(osb_streq(echo, rid), "%s %s (%ld): identity '%s'", cases[i].method, cases[i].path, s,
                              echo ? echo : "(none)");
        }
        it_stop(&t);
}
END_TEST

START_TEST(healthz_and_readyz_answer_200_without_credentials)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        const char *none[] = {"Authorization", NULL, "X-Broker-API-Version", NULL, NULL};
        ck_assert_int_eq(it_req(&t, "GET", "/healthz", NULL, none), 200);
        ck_assert_str_eq(it_str(&t, "status"), "ok");
        ck_assert_int_eq(it_req(&t, "GET", "/readyz", NULL, none), 200);
        ck_assert_str_eq(it_str(&t, "status"), "ok");
        it_stop(&t);
}
END_TEST

/* The value of the sample line that starts with @series (name and labels), 0 when absent. */
static long long metric(const char *text, const char *series)
{
        size_t n = strlen(series);
        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, series, n) == 0 && p[n] == ' ')
                        return strtoll(p + n + 1, NULL, 10);
        return 0;
}

static char *get_metrics(struct it *t)
{
        const char *none[] = {"Authorization", NULL, NULL};
        ck_assert_int_eq(it_req(t, "GET", "/metrics", NULL, none), 200);
        const char *ct = http_response_header(&t->resp, "Content-Type");
        ck_assert_msg(ct && strncmp(ct, "text/plain", 10) == 0, "Content-Type: %s", ct ? ct : "(none)");
        return osb_strdup(t->resp.body.data);
}

START_TEST(metrics_name_their_series_and_counters_move_with_requests)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        osb_autofree char *m0 = get_metrics(&t);
        static const char *const names[] = {
                "# TYPE osb_broker_requests_total counter",
                "# TYPE osb_broker_request_duration_seconds histogram",
                "# TYPE osb_broker_instances gauge",
                "# TYPE osb_broker_bindings gauge",
                "# TYPE osb_broker_operations_in_progress gauge",
                "# TYPE osb_broker_operations_queued gauge",
        };
        for (size_t i = 0; i < OSB_ELEMENTSOF(names); i++)
                ck_assert_msg(strstr(m0, names[i]) != NULL, "/metrics lacks '%s'", names[i]);
        const char *cat200 = "osb_broker_requests_total{endpoint=\"catalog\",status=\"200\"}";
        const char *prov201 = "osb_broker_requests_total{endpoint=\"provision\",status=\"201\"}";
        const char *prov409 = "osb_broker_requests_total{endpoint=\"provision\",status=\"409\"}";
        long long c0 = metric(m0, cat200), p0 = metric(m0, prov201), x0 = metric(m0, prov409);
        ck_assert_int_eq(metric(m0, "osb_broker_instances"), 0);

        for (int i = 0; i < 3; i++)
                ck_assert_int_eq(it_req(&t, "GET", "/v2/catalog", NULL, NULL), 200);
        provision_ok(&t, "m1", IT_PLAN_SYNC, NULL);
        provision_ok(&t, "m2", IT_PLAN_SYNC, NULL);
        osb_autofree char *other = it_provision_body(IT_SVC, IT_PLAN_SYNC2, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/m1", other, NULL), 409);
        osb_autofree char *bb = it_bind_body(IT_SVC, IT_PLAN_SYNC, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/m1/service_bindings/b", bb, NULL), 201);
        osb_autofree char *ps = it_provision_body(IT_SVC, IT_PLAN_ASYNC_SLOW, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/m3?accepts_incomplete=true", ps, NULL), 202);

        osb_autofree char *m1 = get_metrics(&t);
        ck_assert_int_eq(metric(m1, cat200) - c0, 3);
        ck_assert_int_eq(metric(m1, prov201) - p0, 2);
        ck_assert_int_eq(metric(m1, prov409) - x0, 1);
        ck_assert_int_eq(metric(m1, "osb_broker_requests_total{endpoint=\"bind\",status=\"201\"}"), 1);
        ck_assert_int_eq(metric(m1, "osb_broker_requests_total{endpoint=\"provision\",status=\"202\"}"), 1);
        ck_assert_int_eq(metric(m1, "osb_broker_instances"), 3);
        ck_assert_int_eq(metric(m1, "osb_broker_bindings"), 1);
        ck_assert_int_eq(metric(m1, "osb_broker_operations_in_progress"), 1);
        ck_assert_int_eq(metric(m1, "osb_broker_operations_queued"), 1);
        ck_assert_int_ge(metric(m1, "osb_broker_request_duration_seconds_count{endpoint=\"catalog\"}"), 3);
        ck_assert_int_ge(metric(m1, "osb_broker_request_duration_seconds_bucket{endpoint=\"catalog\",le=\"+Inf\"}"), 3);
        it_stop(&t);
}
END_TEST

START_TEST(metrics_count_no_failed_instance_or_binding)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        provision_ok(&t, "ok1", IT_PLAN_SYNC, NULL);
        /* An asynchronous provision that fails leaves a row in state 'failed' (the platform
         * deletes it later); until then it is no instance. */
        osb_autofree char *pf = it_provision_body(IT_SVC, IT_PLAN_FAILS, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/fails1?accepts_incomplete=true", pf, NULL), 202);
        ck_assert_str_eq(it_wait_op(&t, "/v2/service_instances/fails1/last_operation", 20000), "failed");
        osb_autofree char *m = get_metrics(&t);
        ck_assert_int_eq(metric(m, "osb_broker_instances"), 1);
        ck_assert_int_eq(metric(m, "osb_broker_bindings"), 0);
        it_stop(&t);
}
END_TEST

START_TEST(json_bodies_end_with_a_newline)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        static const char *const paths[] = {"/v2/catalog", "/v2/service_instances/none", "/healthz"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(paths); i++) {
                long st = it_req(&t, "GET", paths[i], NULL, NULL);
                ck_assert_msg(st == 200 || st == 404, "%s: %ld", paths[i], st);
                size_t n = t.resp.body.len;
                ck_assert_msg(n > 1 && t.resp.body.data[n - 1] == '\n' && t.resp.body.data[n - 2] == '}',
                              "%s: the body does not end with '}' and a newline", paths[i]);
        }
        it_stop(&t);
}
END_TEST

/* ---- HTTPS --------------------------------------------------------------------------------- */

static const char *find_openssl(void)
{
        static char path[4096];
        const char *p = getenv("PATH");
        osb_autofree char *copy = osb_strdup(p && *p ? p : "/usr/bin:/bin");
        ck_assert_ptr_nonnull(copy);
        for (char *dir = copy, *next; dir; dir = next) {
                next = strchr(dir, ':');
                if (next)
                        *next++ = '\0';
                (void) snprintf(path, sizeof(path), "%s/openssl", *dir ? dir : ".");
                if (access(path, X_OK) == 0)
                        return path;
        }
        return NULL;
}

/* Writes a self-signed certificate for CN=localhost into @dir (cert.pem, key.pem). */
static void make_cert(const char *dir, char **ret_cert, char **ret_key)
{
        const char *openssl = find_openssl();
        ck_assert_msg(openssl != NULL, "the openssl program is not installed (needed to make the test's TLS "
                                       "certificate; see README.md, setup): this test fails rather than skip");
        *ret_cert = osb_asprintf("%s/cert.pem", dir);
        *ret_key = osb_asprintf("%s/key.pem", dir);
        const char *argv[] = {openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                              "-days", "1", "-keyout", *ret_key, "-out", *ret_cert, NULL};
        fflush(NULL);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (devnull >= 0) {
                        (void) dup2(devnull, STDOUT_FILENO);
                        (void) dup2(devnull, STDERR_FILENO);
                }
                execv(openssl, (char *const *) argv);
                _exit(127);
        }
        int st;
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "openssl req failed (status %d)", st);
        ck_assert(it_file_exists(*ret_cert) && it_file_exists(*ret_key));
}

static size_t sink_body(char *p, size_t size, size_t n, void *userdata)
{
        struct osb_buf *b = userdata;
        return osb_buf_append(b, p, size * n) == 0 ? size * n : 0;
}

struct upload {
        const char *data;
        size_t left;
};

static size_t source_body(char *p, size_t size, size_t n, void *userdata)
{
        struct upload *u = userdata;
        size_t k = OSB_MIN(size * n, u->left);
        memcpy(p, u->data, k);
        u->data += k;
        u->left -= k;
        return k;
}

/* @method https://localhost:PORT@path trusting @cafile (NULL: the system's trust store), with
 * @upload (or NULL) sent as a chunked body. Returns the status, or -(CURLcode) when no response
 * came. */
static long https_request(uint16_t port, const char *method, const char *path, const char *cafile,
                          const char *upload, struct osb_buf *body)
{
        CURL *h = curl_easy_init();
        ck_assert_ptr_nonnull(h);
        char url[256], resolve[128], auth[128];
        (void) snprintf(url, sizeof(url), "https://localhost:%u%s", (unsigned) port, path);
        (void) snprintf(resolve, sizeof(resolve), "localhost:%u:127.0.0.1", (unsigned) port);
        (void) snprintf(auth, sizeof(auth), "%s:%s", IT_USER, IT_PASSWORD);
        struct curl_slist *res = curl_slist_append(NULL, resolve);
        struct curl_slist *hdrs = curl_slist_append(NULL, "X-Broker-API-Version: 2.17");
        struct upload u = {upload, upload ? strlen(upload) : 0};
        if (upload) {
                hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
                hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
                curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(h, CURLOPT_READFUNCTION, source_body);
                curl_easy_setopt(h, CURLOPT_READDATA, &u);
        }
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_RESOLVE, res);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_USERPWD, auth);
        curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
        if (cafile)
                curl_easy_setopt(h, CURLOPT_CAINFO, cafile);
        CURLcode cr = curl_easy_perform(h);
        long status = -(long) cr;
        if (cr == CURLE_OK)
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(h);
        curl_slist_free_all(res);
        curl_slist_free_all(hdrs);
        return status;
}

static long https_get(uint16_t port, const char *path, const char *cafile, struct osb_buf *body)
{
        return https_request(port, "GET", path, cafile, NULL, body);
}

START_TEST(https_with_tls_cert_and_key_serves_the_api)
{
        osb_autofree char *dir = it_mkdtemp();
        osb_autofree char *cert = NULL, *key = NULL;
        make_cert(dir, &cert, &key);
        const char *extra[] = {"--tls-cert", cert, "--tls-key", key, NULL};
        struct it t;
        it_start(&t, CATALOG, extra);
        uint16_t port = broker_proc_port(t.bp);
        struct osb_buf body;
        osb_buf_init(&body, 1024 * 1024);
        long s = https_get(port, "/v2/catalog", cert, &body);
        ck_assert_msg(s == 200, "GET https://localhost:%u/v2/catalog: %ld (%s)", (unsigned) port, s,
                      s < 0 ? curl_easy_strerror((CURLcode) -s) : "");
        ck_assert_msg(body.data && strstr(body.data, "\"" IT_SVC "\""), "catalog over HTTPS: %s",
                      body.data ? body.data : "");
        osb_buf_release(&body);
        /* Credentials are still required over TLS. */
        ck_assert_int_eq(https_get(port, "/v2/service_instances/x", cert, &body), 404);
        osb_buf_release(&body);
        /* It really is the self-signed certificate: without trusting it, verification fails. */
        s = https_get(port, "/v2/catalog", NULL, &body);
        ck_assert_msg(s < 0, "an untrusted self-signed certificate was accepted (%ld)", s);
        osb_buf_release(&body);
        /* Plain HTTP on the TLS port gets no HTTP answer. */
        struct http_response resp;
        http_response_init(&resp);
        long plain = it_do(t.hc, broker_proc_url(t.bp), "GET", "/v2/catalog", NULL, NULL, &resp);
        http_response_release(&resp);
        ck_assert_msg(plain < 0 || plain >= 400, "plain HTTP on the TLS port: %ld", plain);
        it_stop(&t);
        it_rmtree(dir);
}
END_TEST

/* Over HTTPS the broker cannot write an answer past libmicrohttpd while a body arrives: a
 * chunked body over --max-body is read and discarded to its end and answered 413 when it ends
 * within 1 MiB past the limit; one that goes on past that is cut off without an answer. */
START_TEST(https_chunked_body_over_max_body_is_413_or_cut_off)
{
        osb_autofree char *dir = it_mkdtemp();
        osb_autofree char *cert = NULL, *key = NULL;
        make_cert(dir, &cert, &key);
        const char *extra[] = {"--tls-cert", cert, "--tls-key", key, "--max-body", "1k", NULL};
        struct it t;
        it_start(&t, CATALOG, extra);
        uint16_t port = broker_proc_port(t.bp);
        struct osb_buf body;
        osb_autofree char *over = padded_provision(64 * 1024);
        osb_buf_init(&body, 1024 * 1024);
        long s = https_request(port, "PUT", "/v2/service_instances/tls-big", cert, over, &body);
        ck_assert_msg(s == 413, "64 KiB chunked over HTTPS: %ld (%s)", s, s < 0 ? curl_easy_strerror((CURLcode) -s) : "");
        ck_assert_msg(body.data && strstr(body.data, "\"description\""), "413 body: %s", body.data ? body.data : "");
        osb_buf_release(&body);
        osb_autofree char *far_over = padded_provision(3 * 1024 * 1024);
        s = https_request(port, "PUT", "/v2/service_instances/tls-big", cert, far_over, &body);
        ck_assert_msg(s < 0, "3 MiB chunked over HTTPS: %ld, not cut off", s);
        osb_buf_release(&body);
        osb_autofree char *fits = padded_provision(1024);
        s = https_request(port, "PUT", "/v2/service_instances/tls-big", cert, fits, &body);
        ck_assert_msg(s == 201, "1 KiB chunked over HTTPS: %ld", s);
        osb_buf_release(&body);
        it_stop(&t);
        it_rmtree(dir);
}
END_TEST

START_TEST(tls_cert_without_key_refuses_to_start)
{
        osb_autofree char *dir = it_mkdtemp();
        osb_autofree char *db = osb_asprintf("%s/broker.db", dir);
        osb_autofree char *port_file = osb_asprintf("%s/port", dir);
        osb_autofree char *cert = osb_asprintf("%s/cert.pem", dir);
        it_write_file(cert, "not a certificate\n");
        const char *only_cert[] = {"--port", "0", "--port-file", port_file, "--db", db, "--tls-cert", cert,
                                   "--log-level", "off", NULL};
        osb_autofree char *err = NULL;
        int code = it_run_broker(dir, only_cert, 30000, &err);
        ck_assert_msg(code > 0 && code < 128, "exit %d: %s", code, err);
        ck_assert_msg(strstr(err, "--tls-key") != NULL, "stderr: %s", err);
        ck_assert(!it_file_exists(port_file));
        osb_autofree char *missing = osb_asprintf("%s/missing.pem", dir);
        const char *no_file[] = {"--port", "0", "--port-file", port_file, "--db", db, "--tls-cert", cert,
                                 "--tls-key", missing, "--log-level", "off", NULL};
        osb_autofree char *err2 = NULL;
        code = it_run_broker(dir, no_file, 30000, &err2);
        ck_assert_msg(code > 0 && code < 128, "exit %d: %s", code, err2);
        ck_assert_msg(strstr(err2, missing) != NULL, "stderr does not name %s: %s", missing, err2);
        ck_assert(!it_file_exists(port_file));
        it_rmtree(dir);
}
END_TEST

/* --min-api-version is 2.MINOR in the header's own syntax: an overflowing or trailing part is
 * refused at start, not read as some other version. */
START_TEST(min_api_version_that_is_not_2_minor_refuses_to_start)
{
        osb_autofree char *dir = it_mkdtemp();
        osb_autofree char *db = osb_asprintf("%s/broker.db", dir);
        osb_autofree char *port_file = osb_asprintf("%s/port", dir);
        static const char *const bad[] = {"2.99999999999", "2.13x", "3.1", "2", ""};
        for (size_t i = 0; i < OSB_ELEMENTSOF(bad); i++) {
                const char *args[] = {"--port", "0", "--port-file", port_file, "--db", db, "--min-api-version",
                                      bad[i], "--log-level", "off", NULL};
                osb_autofree char *err = NULL;
                int code = it_run_broker(dir, args, 30000, &err);
                ck_assert_msg(code > 0 && code < 128, "'%s': exit %d: %s", bad[i], code, err);
                ck_assert_msg(strstr(err, "--min-api-version must be 2.MINOR") != NULL, "'%s': %s", bad[i], err);
                ck_assert(!it_file_exists(port_file));
        }
        it_rmtree(dir);
}
END_TEST

/* ---- ids ----------------------------------------------------------------------------------- */

START_TEST(percent_encoded_ids_are_decoded_once_and_consistently)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_SYNC, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/a%2Fb%20c%25d", pb, NULL), 201);
        ck_assert_str_eq(it_str(&t, "dashboard_url"), "https://dash.itest.invalid/a/b c%d");
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/a%2Fb%20c%25d", NULL, NULL), 200);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/a%2fb%20c%25d", NULL, NULL), 200);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/a/b%20c%25d", NULL, NULL), 404);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/a%252Fb%2520c%2525d", NULL, NULL), 404);
        const char *db = broker_proc_db_path(t.bp);
        ck_assert_int_eq(it_sql_int(db, "SELECT count(*) FROM instances WHERE id = 'a/b c%d'"), 1);

        osb_autofree char *bb = it_bind_body(IT_SVC, IT_PLAN_SYNC, NULL, NULL);
        const char *bpath = "/v2/service_instances/a%2Fb%20c%25d/service_bindings/x%2Fy%C3%A9";
        ck_assert_int_eq(it_req(&t, "PUT", bpath, bb, NULL), 201);
        json_t *creds = json_object_get(t.json, "credentials");
        ck_assert_str_eq(json_string_value(json_object_get(creds, "user")), "u-x/y\xc3\xa9");
        ck_assert_str_eq(json_string_value(json_object_get(creds, "db")), "a/b c%d");
        ck_assert_int_eq(it_req(&t, "GET", bpath, NULL, NULL), 200);
        ck_assert_int_eq(it_sql_int(db, "SELECT count(*) FROM bindings WHERE instance_id = 'a/b c%d' "
                                        "AND id = 'x/y\xc3\xa9'"), 1);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/a%2Fb%20c%25d/service_bindings/x/y%C3%A9", NULL,
                                NULL), 404);
        /* Query values are decoded too. */
        ck_assert_int_eq(it_req(&t, "DELETE", "/v2/service_instances/a%2Fb%20c%25d/service_bindings/x%2Fy%C3%A9"
                                "?service_id=itest%2Dsvc%2Ddb&plan_id=" IT_PLAN_SYNC, NULL, NULL), 200);
        ck_assert_int_eq(it_req(&t, "DELETE", "/v2/service_instances/a%2Fb%20c%25d?service_id=" IT_SVC
                                "&plan_id=itest-plan-sync", NULL, NULL), 200);
        ck_assert_int_eq(it_sql_int(db, "SELECT count(*) FROM instances"), 0);
        /* Bad escapes are a client error, never a crash. */
        static const char *const bad[] = {"/v2/service_instances/%", "/v2/service_instances/%2",
                                          "/v2/service_instances/%zz", "/v2/service_instances/%00"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(bad); i++) {
                long s = it_req(&t, "PUT", bad[i], pb, NULL);
                ck_assert_msg(s >= 400 && s < 500, "PUT %s: %ld", bad[i], s);
        }
        ck_assert_int_eq(it_sql_int(db, "SELECT count(*) FROM instances"), 0);
        it_stop(&t);
}
END_TEST

/* An id is an opaque UTF-8 string without NUL or control characters: anything else is 400
 * with an OSB error body, on every route, before anything is looked up or changed. */
START_TEST(ids_with_nul_control_characters_or_invalid_utf8_are_400_everywhere)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        const char *db = broker_proc_db_path(t.bp);
        provision_ok(&t, "abc", IT_PLAN_SYNC, NULL);
        osb_autofree char *bb = it_bind_body(IT_SVC, IT_PLAN_SYNC, NULL, NULL);
        ck_assert_int_eq(it_req(&t, "PUT", "/v2/service_instances/abc/service_bindings/b", bb, NULL), 201);
        osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_SYNC, NULL, NULL);
        static const char *const bad_ids[] = {"abc%00def", "abc%00", "%00abc", "abc%0Adef", "abc%0D", "abc%1B",
                                              "abc%7F", "abc%C2%85", "abc%FF", "abc%C3", "abc%C0%80", "abc%ED%A0%80"};
        static const char *const q = "?service_id=" IT_SVC "&plan_id=" IT_PLAN_SYNC;
        for (size_t i = 0; i < OSB_ELEMENTSOF(bad_ids); i++) {
                const char *id = bad_ids[i];
                osb_autofree char *ip = osb_asprintf("/v2/service_instances/%s", id);
                osb_autofree char *ipq = osb_asprintf("/v2/service_instances/%s%s", id, q);
                osb_autofree char *ilo = osb_asprintf("/v2/service_instances/%s/last_operation", id);
                osb_autofree char *bp = osb_asprintf("/v2/service_instances/abc/service_bindings/%s", id);
                osb_autofree char *bpq = osb_asprintf("/v2/service_instances/abc/service_bindings/%s%s", id, q);
                osb_autofree char *blo = osb_asprintf("/v2/service_instances/abc/service_bindings/%s/last_operation", id);
                osb_autofree char *bip = osb_asprintf("/v2/service_instances/%s/service_bindings/b", id);
                struct {
                        const char *method, *path, *body;
                } reqs[] = {
                        {"PUT", ip, pb},   {"PATCH", ip, pb},   {"GET", ip, NULL}, {"DELETE", ipq, NULL},
                        {"GET", ilo, NULL}, {"PUT", bp, bb},    {"GET", bp, NULL}, {"DELETE", bpq, NULL},
                        {"GET", blo, NULL}, {"PUT", bip, bb},
                };
                for (size_t k = 0; k < OSB_ELEMENTSOF(reqs); k++) {
                        long s = it_req(&t, reqs[k].method, reqs[k].path, reqs[k].body, NULL);
                        ck_assert_msg(s == 400, "%s %s: %ld %s", reqs[k].method, reqs[k].path, s,
                                      t.resp.body.data ? t.resp.body.data : "");
                        assert_error_body(&t, NULL);
                        ck_assert_msg(strstr(it_str(&t, "description"), "id"), "%s", it_str(&t, "description"));
                }
        }
        /* The operation query value and the DELETE's ids are checked the same way. */
        static const char *const bad_queries[] = {
                "/v2/service_instances/abc/last_operation?operation=op%00x",
                "/v2/service_instances/abc/last_operation?operation=op%0Ax",
                "/v2/service_instances/abc/last_operation?operation=%FF",
                "/v2/service_instances/abc/last_operation?operation=%zz",
                "/v2/service_instances/abc/service_bindings/b/last_operation?operation=a%01",
        };
        for (size_t i = 0; i < OSB_ELEMENTSOF(bad_queries); i++) {
                long s = it_req(&t, "GET", bad_queries[i], NULL, NULL);
                ck_assert_msg(s == 400, "GET %s: %ld %s", bad_queries[i], s, t.resp.body.data ? t.resp.body.data : "");
                assert_error_body(&t, NULL);
        }
        ck_assert_int_eq(it_req(&t, "DELETE", "/v2/service_instances/abc?service_id=" IT_SVC "%00x&plan_id="
                                IT_PLAN_SYNC, NULL, NULL), 400);
        /* Nothing was created, and "abc" and its binding are untouched. */
        ck_assert_int_eq(it_sql_int(db, "SELECT count(*) FROM instances"), 1);
        ck_assert_int_eq(it_sql_int(db, "SELECT count(*) FROM bindings"), 1);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/abc", NULL, NULL), 200);
        /* Valid non-ASCII ids are still ids. */
        provision_ok(&t, "caf%C3%A9-%E2%9C%93", IT_PLAN_SYNC, NULL);
        ck_assert_int_eq(it_req(&t, "GET", "/v2/service_instances/caf%C3%A9-%E2%9C%93", NULL, NULL), 200);
        it_stop(&t);
}
END_TEST

/* OSB ids may be any string; a 5000-byte id on a valid endpoint is answered 404 "no such
 * endpoint" because the router splits the path in a 4096-byte buffer (broker/router.c,
 * split_path). Expected: the request is served, or refused with a 4xx naming the length limit
 * (414 or 400), never "no such endpoint". */
START_TEST(long_instance_id_is_not_reported_as_an_unknown_endpoint)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        char *id = osb_malloc(5001);
        ck_assert_ptr_nonnull(id);
        memset(id, 'i', 5000);
        id[5000] = '\0';
        osb_autofree char *path = osb_asprintf("/v2/service_instances/%s", id);
        osb_free(id);
        osb_autofree char *pb = it_provision_body(IT_SVC, IT_PLAN_SYNC, NULL, NULL);
        long s = it_req(&t, "PUT", path, pb, NULL);
        bool ok = s == 201 || s == 414 || (s == 400 && strstr(t.resp.body.data, "long"));
        osb_autofree char *body = osb_strndup(t.resp.body.data ? t.resp.body.data : "", 80);
        it_stop(&t);  /* first: a known failure must not leave the broker's directory behind */
        ck_assert_msg(ok, "PUT with a 5000-byte instance id: %ld %s", s, body);
}
END_TEST

/* A 413 for an oversized provision body is counted as endpoint="other" in /metrics, because the
 * router sets the endpoint only after the body-size check. Expected: endpoint="provision". */
START_TEST(metrics_count_a_413_under_the_endpoint_it_was_sent_to)
{
        const char *extra[] = {"--max-body", "1k", NULL};
        struct it t;
        it_start(&t, CATALOG, extra);
        char *big = osb_malloc(2049);
        ck_assert_ptr_nonnull(big);
        memset(big, ' ', 2048);
        big[0] = '{';
        big[2047] = '}';
        big[2048] = '\0';
        long s = it_req(&t, "PUT", "/v2/service_instances/big", big, NULL);
        osb_free(big);
        ck_assert_int_eq(s, 413);
        ck_assert_int_eq(it_req(&t, "GET", "/metrics", NULL, NULL), 200);
        bool ok = strstr(t.resp.body.data, "osb_broker_requests_total{endpoint=\"provision\",status=\"413\"} 1");
        const char *at = strstr(t.resp.body.data, "status=\"413\"");
        osb_autofree char *line = osb_strndup(at ? at - 40 : "(no 413 counted)", 60);
        it_stop(&t);
        ck_assert_msg(ok, "the 413 is counted as: ...%s", line);
}
END_TEST

/* RFC 9110 §9.1: general-purpose servers MUST support HEAD wherever they support GET. HEAD
 * /v2/catalog is answered 405 with Allow: GET. Expected: 200 with GET's headers (ETag). */
START_TEST(head_on_the_catalog_is_answered_like_get)
{
        struct it t;
        it_start(&t, CATALOG, NULL);
        long s = it_req(&t, "HEAD", "/v2/catalog", NULL, NULL);
        bool etag = http_response_header(&t.resp, "ETag") != NULL;
        it_stop(&t);
        ck_assert_msg(s == 200 && etag, "HEAD /v2/catalog: %ld, ETag %s", s, etag ? "present" : "absent");
}
END_TEST

static Suite *http_suite(void)
{
        Suite *s = suite_create("http");
        TCase *tc = tcase_create("auth-version");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, missing_or_wrong_basic_credentials_are_401_with_a_basic_challenge);
        tcase_add_test(tc, bearer_only_broker_challenges_with_bearer_and_accepts_only_its_token);
        tcase_add_test(tc, broker_with_basic_and_bearer_accepts_either);
        tcase_add_test(tc, missing_old_or_malformed_api_version_is_412);
        tcase_add_test(tc, min_api_version_setting_moves_the_412_boundary);
        suite_add_tcase(s, tc);

        tc = tcase_create("client-errors");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, malformed_provision_bodies_are_400_and_create_nothing);
        tcase_add_test(tc, malformed_bind_update_and_delete_requests_are_400);
        tcase_add_test(tc, delete_with_another_service_or_plan_is_400_and_deletes_nothing);
        tcase_add_test(tc, booleans_and_the_api_version_are_read_consistently);
        tcase_add_test(tc, bad_originating_identity_is_400_and_a_good_one_is_accepted);
        tcase_add_test(tc, unknown_paths_and_resources_are_404);
        tcase_add_test(tc, wrong_methods_are_405_with_allow);
        tcase_add_test(tc, provision_and_bind_conflicts_are_409_and_change_nothing);
        tcase_add_test(tc, deleting_what_does_not_exist_is_410);
        tcase_add_test(tc, body_over_max_body_is_413_and_creates_nothing);
        tcase_add_test(tc, content_length_a_little_over_max_body_is_read_then_413);
        tcase_add_test(tc, framing_that_leaves_the_body_end_in_doubt_is_refused_and_the_connection_closed);
        tcase_add_test(tc, content_length_over_max_body_is_413_before_the_body_is_read);
        tcase_add_test(tc, chunked_body_over_max_body_is_413_before_its_end);
        tcase_add_test(tc, headers_over_max_header_are_431);
        tcase_add_test(tc, slow_header_trickles_are_closed_and_the_health_port_keeps_answering);
        tcase_add_test(tc, a_body_trickle_is_closed_at_the_request_deadline);
        tcase_add_test(tc, async_only_plan_without_accepts_incomplete_is_422_async_required);
        tcase_add_test(tc, work_on_an_instance_with_an_operation_in_progress_is_422_concurrency_error);
        tcase_add_test(tc, bind_without_app_guid_on_a_requires_app_plan_is_422_requires_app);
        tcase_add_test(tc, maintenance_info_mismatch_is_422_maintenance_info_conflict);
        tcase_add_test(tc, rejected_updates_are_422_or_400_and_change_nothing);
        tcase_add_test(tc, sync_provision_on_a_failing_plan_is_5xx_with_its_message_and_stores_nothing);
        suite_add_tcase(s, tc);

        tc = tcase_create("success-and-ops");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, failed_updates_report_instance_usable_and_change_nothing);
        tcase_add_test(tc, async_bind_and_unbind_poll_to_succeeded_then_410);
        tcase_add_test(tc, catalog_with_matching_if_none_match_is_304);
        tcase_add_test(tc, async_provision_is_202_with_operation_and_dashboard_and_polling_has_retry_after);
        tcase_add_test(tc, request_identity_is_echoed_on_success_and_on_error);
        tcase_add_test(tc, healthz_and_readyz_answer_200_without_credentials);
        tcase_add_test(tc, metrics_name_their_series_and_counters_move_with_requests);
        tcase_add_test(tc, metrics_count_no_failed_instance_or_binding);
        tcase_add_test(tc, json_bodies_end_with_a_newline);
        tcase_add_test(tc, https_with_tls_cert_and_key_serves_the_api);
        tcase_add_test(tc, https_chunked_body_over_max_body_is_413_or_cut_off);
        tcase_add_test(tc, tls_cert_without_key_refuses_to_start);
        tcase_add_test(tc, min_api_version_that_is_not_2_minor_refuses_to_start);
        tcase_add_test(tc, percent_encoded_ids_are_decoded_once_and_consistently);
        tcase_add_test(tc, ids_with_nul_control_characters_or_invalid_utf8_are_400_everywhere);
        tcase_add_test(tc, long_instance_id_is_not_reported_as_an_unknown_endpoint);
        tcase_add_test(tc, metrics_count_a_413_under_the_endpoint_it_was_sent_to);
        tcase_add_test(tc, head_on_the_catalog_is_answered_like_get);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(http_suite)
