/* test/unit/check_kube_client.c: kube/client.c and kube/watch.c over HTTP against an in-process
 * server (common/osb_http, 127.0.0.1, port 0): paths, headers, status mapping and messages,
 * pagination, chunked watches, token rotation, timeouts, cancellation, and TLS with a CA made by
 * the openssl binary at test time. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_http.h"
#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/watch.h"
#include "test/lib/check_main.h"

/* ---- the server ---- */

/* The last request the server saw. */
struct seen_request {
        char method[16];
        char path[512];
        char authorization[256];
        char accept[128];
        char content_type[128];
        char user_agent[128];
        char body[4096];
        char q_watch[16], q_rv[64], q_bookmarks[16], q_timeout[16], q_label[256], q_field[256],
                q_limit[16], q_continue[64];
        int count;
};

static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static struct seen_request seen;
typedef void (*route_fn)(struct osb_http_request *req);
static route_fn route;
/* The canned response of route_canned(). */
static unsigned canned_status;
static const char *canned_type;
static const char *canned_body;

static struct osb_http_server *srv;
static struct kube_client *client;
static char server_url[64];
static char dir[256];

static void copy(char *dst, size_t n, const char *src)
{
        (void) snprintf(dst, n, "%s", src ? src : "");
}

static void handler(void *userdata, struct osb_http_request *req)
{
        pthread_mutex_lock(&seen_lock);
        copy(seen.method, sizeof(seen.method), req->method);
        copy(seen.path, sizeof(seen.path), req->path);
        copy(seen.authorization, sizeof(seen.authorization), osb_http_header(req, "Authorization"));
        copy(seen.accept, sizeof(seen.accept), osb_http_header(req, "Accept"));
        copy(seen.content_type, sizeof(seen.content_type), osb_http_header(req, "Content-Type"));
        copy(seen.user_agent, sizeof(seen.user_agent), osb_http_header(req, "User-Agent"));
        copy(seen.body, sizeof(seen.body), req->body.data);
        copy(seen.q_watch, sizeof(seen.q_watch), osb_http_query(req, "watch"));
        copy(seen.q_rv, sizeof(seen.q_rv), osb_http_query(req, "resourceVersion"));
        copy(seen.q_bookmarks, sizeof(seen.q_bookmarks), osb_http_query(req, "allowWatchBookmarks"));
        copy(seen.q_timeout, sizeof(seen.q_timeout), osb_http_query(req, "timeoutSeconds"));
        copy(seen.q_label, sizeof(seen.q_label), osb_http_query(req, "labelSelector"));
        copy(seen.q_field, sizeof(seen.q_field), osb_http_query(req, "fieldSelector"));
        copy(seen.q_limit, sizeof(seen.q_limit), osb_http_query(req, "limit"));
        copy(seen.q_continue, sizeof(seen.q_continue), osb_http_query(req, "continue"));
        seen.count++;
        pthread_mutex_unlock(&seen_lock);
        route(req);
}

static void route_canned(struct osb_http_request *req)
{
        (void) osb_http_respond(req, canned_status, canned_type, canned_body,
                                canned_body ? strlen(canned_body) : 0, false, NULL);
}

static void canned(unsigned status, const char *body)
{
        route = route_canned;
        canned_status = status;
        canned_type = "application/json";
        canned_body = body;
}

#define OBJ_S1 "{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"s1\",\"namespace\":\"ns1\",\"resourceVersion\":\"10\"}}"

static void start_server(const char *cert, const char *key)
{
        struct osb_http_config cfg = {.address = "127.0.0.1", .threads = 4, .max_body = 1 << 20,
                                      .tls_cert_pem = cert, .tls_key_pem = key};
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(osb_http_server_start(&cfg, handler, NULL, NULL, &srv, &err) == 0, "%s", err.text);
        (void) snprintf(server_url, sizeof(server_url), "%s://127.0.0.1:%u", cert ? "https" : "http",
                        (unsigned) osb_http_server_port(srv));
}

static struct kube_client *new_client(struct kube_config *cfg, const struct kube_client_options *opts)
{
        struct kube_client *c = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(kube_client_new(cfg, opts, &c, &err) == 0, "%s", err.text);
        return c;
}

static struct kube_config *config_with_token(const char *token)
{
        struct kube_config *cfg = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(kube_config_new(server_url, &cfg, &err) == 0, "%s", err.text);
        if (token)
                ck_assert_ptr_nonnull(cfg->token = osb_strdup(token));
        return cfg;
}

static void make_dir(void)
{
        const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        (void) snprintf(dir, sizeof(dir), "%s/check_kube_client.XXXXXX", tmp);
        ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void)
{
        char cmd[600];
        (void) snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ck_assert_int_eq(system(cmd), 0);
}

static void setup(void)
{
        osb_log_set_level(OSB_LOG_OFF);
        memset(&seen, 0, sizeof(seen));
        canned(200, OBJ_S1);
        make_dir();
        start_server(NULL, NULL);
        client = new_client(config_with_token("tok-1"), NULL);
}

static void teardown(void)
{
        client = kube_client_free(client);
        srv = osb_http_server_stop(srv, 2000);
        remove_dir();
}

static char *path_in(const char *name)
{
        static char p[2][512];
        static int i;
        i ^= 1;
        (void) snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
        return p[i];
}

static void write_file(const char *name, const char *text)
{
        FILE *f = fopen(path_in(name), "w");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_ge(fputs(text, f), 0);
        ck_assert_int_eq(fclose(f), 0);
}

static const struct kube_resource csb = {"servicecatalog.k8s.io", "v1beta1", "clusterservicebrokers", false};
static const struct kube_resource instances = {"servicecatalog.k8s.io", "v1beta1", "serviceinstances", true};

/* ---- requests ---- */

START_TEST(get_builds_the_core_path_and_sends_bearer_and_accept)
{
        json_t *obj = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(kube_get(client, &kube_secrets, "ns1", "s1", &obj, &err) == 0, "%s", err.text);
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(obj, "metadata"), "name")), "s1");
        json_decref(obj);
        ck_assert_str_eq(seen.method, "GET");
        ck_assert_str_eq(seen.path, "/api/v1/namespaces/ns1/secrets/s1");
        ck_assert_str_eq(seen.authorization, "Bearer tok-1");
        ck_assert_str_eq(seen.accept, "application/json");
        ck_assert_str_eq(seen.content_type, "");
        ck_assert_str_eq(seen.user_agent, "bindery/" PACKAGE_VERSION);

        ck_assert_int_eq(kube_get(client, &kube_namespaces, NULL, "kube-system", &obj, &err), 0);
        json_decref(obj);
        ck_assert_str_eq(seen.path, "/api/v1/namespaces/kube-system");
}
END_TEST

START_TEST(create_posts_to_the_collection_of_the_object_namespace)
{
        json_t *body = json_pack("{s:{s:s,s:s},s:{s:s}}", "metadata", "name", "i1", "namespace", "team-a",
                                 "spec", "clusterServiceClassExternalName", "db");
        json_t *obj = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(kube_create(client, &instances, NULL, body, &obj, &err) == 0, "%s", err.text);
        json_decref(obj);
        ck_assert_str_eq(seen.method, "POST");
        ck_assert_str_eq(seen.path, "/apis/servicecatalog.k8s.io/v1beta1/namespaces/team-a/serviceinstances");
        ck_assert_str_eq(seen.content_type, "application/json");
        json_t *sent = json_loads(seen.body, 0, NULL);
        ck_assert(json_equal(sent, body));
        json_decref(sent);

        /* Without a namespace anywhere nothing is sent. */
        json_object_del(json_object_get(body, "metadata"), "namespace");
        int before = seen.count;
        ck_assert_int_eq(kube_create(client, &instances, NULL, body, NULL, &err), -EINVAL);
        ck_assert_str_eq(err.text, "POST serviceinstances: no namespace given and metadata.namespace is not set");
        ck_assert_int_eq(seen.count, before);
        json_decref(body);
}
END_TEST

START_TEST(update_and_update_status_put_the_object_with_its_resource_version)
{
        json_t *body = json_pack("{s:{s:s,s:s},s:{s:s}}", "metadata", "name", "b", "resourceVersion", "41",
                                 "spec", "url", "http://broker");
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(kube_update(client, &csb, NULL, body, NULL, &err) == 0, "%s", err.text);
        ck_assert_str_eq(seen.method, "PUT");
        ck_assert_str_eq(seen.path, "/apis/servicecatalog.k8s.io/v1beta1/clusterservicebrokers/b");
        ck_assert_ptr_nonnull(strstr(seen.body, "\"resourceVersion\":\"41\""));
        ck_assert_int_eq(kube_update_status(client, &csb, NULL, body, NULL, &err), 0);
        ck_assert_str_eq(seen.path, "/apis/servicecatalog.k8s.io/v1beta1/clusterservicebrokers/b/status");

        json_object_del(json_object_get(body, "metadata"), "resourceVersion");
        int before = seen.count;
        ck_assert_int_eq(kube_update(client, &csb, NULL, body, NULL, &err), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err.text, "metadata.resourceVersion is not set"));
        ck_assert_int_eq(seen.count, before);
        json_decref(body);
}
END_TEST

START_TEST(patch_sends_the_content_type_of_its_kind)
{
        static const struct {
                enum kube_patch_type type;
                const char *content_type;
        } cases[] = {
                {KUBE_PATCH_MERGE, "application/merge-patch+json"},
                {KUBE_PATCH_JSON, "application/json-patch+json"},
                {KUBE_PATCH_STRATEGIC, "application/strategic-merge-patch+json"},
        };
        json_t *patch = json_pack("{s:{s:{s:s}}}", "metadata", "labels", "a", "b");
        struct osb_error err = OSB_ERROR_INIT;
        for (size_t i = 0; i < OSB_ELEMENTSOF(cases); i++) {
                json_t *obj = NULL;
                ck_assert_msg(kube_patch(client, &kube_secrets, "ns1", "s1", NULL, cases[i].type, patch,
                                         &obj, &err) == 0, "%s", err.text);
                ck_assert_ptr_nonnull(obj);
                json_decref(obj);
                ck_assert_str_eq(seen.method, "PATCH");
                ck_assert_str_eq(seen.path, "/api/v1/namespaces/ns1/secrets/s1");
                ck_assert_str_eq(seen.content_type, cases[i].content_type);
        }
        ck_assert_int_eq(kube_patch(client, &instances, "ns1", "i1", "status", KUBE_PATCH_MERGE, patch,
                                    NULL, &err), 0);
        ck_assert_str_eq(seen.path, "/apis/servicecatalog.k8s.io/v1beta1/namespaces/ns1/serviceinstances/i1/status");
        json_decref(patch);
}
END_TEST

START_TEST(delete_sends_options_and_a_missing_object_is_not_found)
{
        json_t *opts = json_pack("{s:s,s:{s:s}}", "propagationPolicy", "Foreground", "preconditions",
                                 "resourceVersion", "7");
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(kube_delete(client, &kube_secrets, "ns1", "s1", opts, &err) == 0, "%s", err.text);
        ck_assert_str_eq(seen.method, "DELETE");
        ck_assert_str_eq(seen.path, "/api/v1/namespaces/ns1/secrets/s1");
        ck_assert_ptr_nonnull(strstr(seen.body, "\"propagationPolicy\":\"Foreground\""));
        ck_assert_int_eq(kube_delete(client, &kube_secrets, "ns1", "s1", NULL, &err), 0);
        ck_assert_str_eq(seen.body, "");
        canned(404, "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"NotFound\","
                    "\"message\":\"secrets \\\"s1\\\" not found\",\"code\":404}");
        ck_assert_int_eq(kube_delete(client, &kube_secrets, "ns1", "s1", NULL, &err), OSB_E_NOT_FOUND);
        json_decref(opts);
}
END_TEST

START_TEST(paths_are_built_and_percent_encoded)
{
        char *p = NULL;
        ck_assert_int_eq(kube_path(&kube_secrets, "n/s", "a b%", NULL, &p), 0);
        ck_assert_str_eq(p, "/api/v1/namespaces/n%2Fs/secrets/a%20b%25");
        osb_free(p);
        ck_assert_int_eq(kube_path(&kube_secrets, NULL, NULL, NULL, &p), 0);
        ck_assert_str_eq(p, "/api/v1/secrets");
        ck_assert_int_eq(kube_path_add_query(&p, "labelSelector", "app=x,tier in (a,b)"), 0);
        ck_assert_int_eq(kube_path_add_query(&p, "limit", "5"), 0);
        ck_assert_str_eq(p, "/api/v1/secrets?labelSelector=app%3Dx%2Ctier%20in%20%28a%2Cb%29&limit=5");
        osb_free(p);
        ck_assert_int_eq(kube_path(&kube_crds, "ignored", "x.y.z", NULL, &p), 0);
        ck_assert_str_eq(p, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x.y.z");
        osb_free(p);
        ck_assert_int_eq(kube_path(&kube_leases, "kube-system", "bindery", NULL, &p), 0);
        ck_assert_str_eq(p, "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/bindery");
        osb_free(p);
        p = NULL;
        ck_assert_int_eq(kube_path(&kube_secrets, "ns", "..", NULL, &p), -EINVAL);
        ck_assert_int_eq(kube_path(&kube_secrets, "ns", "", NULL, &p), -EINVAL);
        ck_assert_int_eq(kube_path(&kube_secrets, NULL, "x", NULL, &p), -EINVAL);
        ck_assert_int_eq(kube_path(&kube_secrets, "ns", NULL, "status", &p), -EINVAL);
        ck_assert_ptr_null(p);

        /* And on the wire, as written. */
        json_t *obj = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(kube_get(client, &kube_secrets, "ns1", "a b/c", &obj, &err), 0);
        json_decref(obj);
        ck_assert_str_eq(seen.path, "/api/v1/namespaces/ns1/secrets/a%20b%2Fc");
}
END_TEST

START_TEST(failed_statuses_map_to_codes_and_name_the_request)
{
        static const struct {
                unsigned status;
                const char *type;
                const char *body;
                int code;
                const char *message;  /* after "METHOD URL: " */
        } cases[] = {
                {404, "application/json", "{\"kind\":\"Status\",\"reason\":\"NotFound\",\"message\":\"clusterservicebrokers.servicecatalog.k8s.io \\\"b\\\" not found\",\"code\":404}",
                 OSB_E_NOT_FOUND, "404 NotFound: clusterservicebrokers.servicecatalog.k8s.io \"b\" not found"},
                {409, "application/json", "{\"kind\":\"Status\",\"reason\":\"Conflict\",\"message\":\"Operation cannot be fulfilled on clusterservicebrokers.servicecatalog.k8s.io \\\"b\\\": the object has been modified; please apply your changes to the latest version and try again\",\"code\":409}",
                 OSB_E_CONFLICT, "409 Conflict: Operation cannot be fulfilled on clusterservicebrokers.servicecatalog.k8s.io \"b\": the object has been modified; please apply your changes to the latest version and try again"},
                {410, "application/json", "{\"kind\":\"Status\",\"reason\":\"Expired\",\"message\":\"too old\",\"code\":410}",
                 OSB_E_GONE, "410 Expired: too old"},
                {422, "application/json", "{\"kind\":\"Status\",\"reason\":\"Invalid\",\"message\":\"spec.url: Required value\",\"code\":422}",
                 OSB_E_UNPROCESSABLE, "422 Invalid: spec.url: Required value"},
                {401, "application/json", "{\"kind\":\"Status\",\"reason\":\"Unauthorized\",\"message\":\"Unauthorized\",\"code\":401}",
                 OSB_E_UNAUTHORIZED, "401 Unauthorized: Unauthorized"},
                {403, "application/json", "{\"kind\":\"Status\",\"reason\":\"Forbidden\",\"message\":\"no\",\"code\":403}",
                 -EACCES, "403 Forbidden: no"},
                {503, "application/json", "{}", OSB_E_UNAVAILABLE, "503 Service Unavailable"},
                {500, "text/plain", "upstream connect error\nor disconnect", OSB_E_BACKEND,
                 "500 Internal Server Error: upstream connect error"},
        };
        json_t *body = json_pack("{s:{s:s,s:s}}", "metadata", "name", "b", "resourceVersion", "1");
        for (size_t i = 0; i < OSB_ELEMENTSOF(cases); i++) {
                route = route_canned;
                canned_status = cases[i].status;
                canned_type = cases[i].type;
                canned_body = cases[i].body;
                struct osb_error err = OSB_ERROR_INIT;
                json_t *obj = NULL;
                ck_assert_int_eq(kube_update(client, &csb, NULL, body, &obj, &err), cases[i].code);
                ck_assert_ptr_null(obj);
                char want[1024];
                (void) snprintf(want, sizeof(want),
                                "PUT %s/apis/servicecatalog.k8s.io/v1beta1/clusterservicebrokers/b: %s",
                                server_url, cases[i].message);
                ck_assert_str_eq(err.text, want);
                ck_assert_int_eq(err.code, cases[i].code);
        }
        json_decref(body);

        /* kube_request() itself reports any status, with the Status fields copied out. */
        canned(409, "{\"kind\":\"Status\",\"reason\":\"AlreadyExists\",\"message\":\"exists\",\"code\":409}");
        struct kube_response resp = {0};
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(kube_request(client, "POST", "/api/v1/namespaces", NULL, NULL, &resp, &err), 0);
        ck_assert_int_eq(resp.status, 409);
        ck_assert_str_eq(resp.reason, "AlreadyExists");
        ck_assert_str_eq(resp.message, "exists");
        kube_response_release(&resp);
}
END_TEST

START_TEST(success_that_is_not_json_is_ebadmsg)
{
        canned(200, "<html>hello</html>");
        canned_type = "text/html";
        json_t *obj = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(kube_get(client, &kube_secrets, "ns1", "s1", &obj, &err), -EBADMSG);
        ck_assert_ptr_null(obj);
        char want[256];
        (void) snprintf(want, sizeof(want), "GET %s/api/v1/namespaces/ns1/secrets/s1: 200: the response is not JSON", server_url);
        ck_assert_msg(strncmp(err.text, want, strlen(want)) == 0, "%s", err.text);
}
END_TEST

START_TEST(body_over_the_limit_is_e2big)
{
        client = kube_client_free(client);
        struct kube_client_options opts = {.max_body = 100};
        client = new_client(config_with_token(NULL), &opts);
        static char big[4096];
        memset(big, ' ', sizeof(big) - 3);
        big[0] = '{';
        big[sizeof(big) - 2] = '}';
        canned(200, big);
        json_t *obj = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(kube_get(client, &kube_secrets, "ns1", "s1", &obj, &err), -E2BIG);
        ck_assert_ptr_nonnull(strstr(err.text, "the response is larger than 100 bytes"));
        ck_assert_str_eq(seen.authorization, "");
        canned(200, "{}");
        ck_assert_int_eq(kube_get(client, &kube_secrets, "ns1", "s1", &obj, &err), 0);
        json_decref(obj);
}
END_TEST

/* Two pages: a, b (continue "tok1"), then c. */
static void route_list(struct osb_http_request *req)
{
        const char *cont = osb_http_query(req, "continue");
        const char *page = !cont ? "{\"kind\":\"SecretList\",\"metadata\":{\"resourceVersion\":\"100\",\"continue\":\"tok1\"},"
                                   "\"items\":[{\"metadata\":{\"name\":\"a\"}},{\"metadata\":{\"name\":\"b\"}}]}"
                         : strcmp(cont, "tok1") == 0
                                 ? "{\"kind\":\"SecretList\",\"metadata\":{\"resourceVersion\":\"100\"},"
                                   "\"items\":[{\"metadata\":{\"name\":\"c\"}}]}"
                                 : NULL;
        if (page)
                (void) osb_http_respond(req, 200, "application/json", page, strlen(page), false, NULL);
        else
                (void) osb_http_respond(req, 410, "application/json",
                                        "{\"kind\":\"Status\",\"reason\":\"Expired\",\"message\":\"continue expired\",\"code\":410}",
                                        strlen("{\"kind\":\"Status\",\"reason\":\"Expired\",\"message\":\"continue expired\",\"code\":410}"),
                                        false, NULL);
}

static int collect_name(json_t *item, void *userdata)
{
        struct osb_buf *b = userdata;
        const char *name = json_string_value(json_object_get(json_object_get(item, "metadata"), "name"));
        ck_assert_int_eq(osb_buf_appendf(b, "%s ", name ? name : "?"), 0);
        return 0;
}

START_TEST(list_follows_continue_and_returns_the_resource_version)
{
        route = route_list;
        struct osb_buf names;
        osb_buf_init(&names, 1024);
        struct kube_list_options opts = {.label_selector = "app=x,tier in (a,b)",
                                         .field_selector = "metadata.name!=z", .limit = 2};
        char *rv = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(kube_list(client, &kube_secrets, "ns1", &opts, collect_name, &names, &rv, &err) == 0,
                      "%s", err.text);
        ck_assert_str_eq(names.data, "a b c ");
        ck_assert_str_eq(rv, "100");
        osb_free(rv);
        ck_assert_int_eq(seen.count, 2);
        ck_assert_str_eq(seen.path, "/api/v1/namespaces/ns1/secrets");
        ck_assert_str_eq(seen.q_limit, "2");
        ck_assert_str_eq(seen.q_continue, "tok1");
        ck_assert_str_eq(seen.q_label, "app=x,tier in (a,b)");
        ck_assert_str_eq(seen.q_field, "metadata.name!=z");
        osb_buf_release(&names);
}
END_TEST

static void route_list_expires(struct osb_http_request *req)
{
        if (osb_http_query(req, "continue")) {
                static const char st[] = "{\"kind\":\"Status\",\"reason\":\"Expired\",\"message\":\"The provided continue parameter is too old\",\"code\":410}";
                (void) osb_http_respond(req, 410, "application/json", st, sizeof(st) - 1, false, NULL);
                return;
        }
        route_list(req);
}

START_TEST(list_with_an_expired_continue_token_is_gone)
{
        route = route_list_expires;
        struct osb_buf names;
        osb_buf_init(&names, 1024);
        char *rv = (char *) "untouched";
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(kube_list(client, &kube_secrets, NULL, NULL, collect_name, &names, &rv, &err), OSB_E_GONE);
        ck_assert_str_eq(rv, "untouched");
        ck_assert_ptr_nonnull(strstr(err.text, "410 Expired: The provided continue parameter is too old"));
        ck_assert_str_eq(seen.path, "/api/v1/secrets");
        ck_assert_str_eq(seen.q_limit, "500");
        osb_buf_release(&names);
}
END_TEST

/* ---- watches ---- */

struct stream_state {
        const char *const *pieces;  /* NULL-terminated; each sent as its own chunk */
        size_t i, off;
        bool forever;               /* after the pieces, a newline every 20 ms for up to 20 s */
        unsigned beats;
};

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
        struct stream_state *st = cls;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
        const char *piece = st->pieces ? st->pieces[st->i] : NULL;
        if (!piece) {
                if (!st->forever || ++st->beats > 1000)
                        return MHD_CONTENT_READER_END_OF_STREAM;
                buf[0] = '\n';
                return 1;
        }
        size_t n = OSB_MIN(strlen(piece) - st->off, max);
        memcpy(buf, piece + st->off, n);
        st->off += n;
        if (!piece[st->off]) {
                st->i++;
                st->off = 0;
        }
        return (ssize_t) n;
}

static const char *const *watch_pieces;
static bool watch_forever;

static void route_watch(struct osb_http_request *req)
{
        struct stream_state *st = osb_calloc(1, sizeof(*st));
        ck_assert_ptr_nonnull(st);
        st->pieces = watch_pieces;
        st->forever = watch_forever;
        struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_reader,
                                                                      st, osb_free);
        ck_assert_ptr_nonnull(resp);
        (void) MHD_add_response_header(resp, "Content-Type", "application/json");
        ck_assert_int_eq(MHD_queue_response(req->conn, 200, resp), MHD_YES);
        MHD_destroy_response(resp);
        req->responded = true;
        req->status = 200;
}

static int record_event(enum kube_event_type type, json_t *obj, void *userdata)
{
        struct osb_buf *b = userdata;
        json_t *meta = json_object_get(obj, "metadata");
        const char *name = json_string_value(json_object_get(meta, "name"));
        const char *rv = json_string_value(json_object_get(meta, "resourceVersion"));
        ck_assert_int_eq(osb_buf_appendf(b, "%s %s %s\n", kube_event_type_name(type), name ? name : "-",
                                         rv ? rv : "-"), 0);
        return 0;
}

START_TEST(watch_delivers_chunked_events_and_bookmarks)
{
        static const char *const pieces[] = {
                "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"6\"},\"data\":{\"x\":\"}\"}}}\n{\"ty",
                "pe\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resou",
                "rceVersion\":\"7\"}}}",
                "\n",
                "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Secret\",\"metadata\":{\"resourceVersion\":\"9\"}}}\n",
                NULL,
        };
        watch_pieces = pieces;
        route = route_watch;
        struct osb_buf events;
        osb_buf_init(&events, 4096);
        struct kube_watch_options opts = {.resource_version = "5", .timeout_s = 7, .allow_bookmarks = true,
                                          .label_selector = "app=x"};
        char *rv = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(kube_watch(client, &kube_secrets, "ns1", &opts, record_event, &events, &rv, &err) == 0,
                      "%s", err.text);
        ck_assert_str_eq(events.data, "ADDED a 6\nMODIFIED a 7\nBOOKMARK - 9\n");
        ck_assert_str_eq(rv, "9");
        osb_free(rv);
        ck_assert_str_eq(seen.path, "/api/v1/namespaces/ns1/secrets");
        ck_assert_str_eq(seen.q_watch, "1");
        ck_assert_str_eq(seen.q_rv, "5");
        ck_assert_str_eq(seen.q_bookmarks, "true");
        ck_assert_str_eq(seen.q_timeout, "7");
        ck_assert_str_eq(seen.q_label, "app=x");
        ck_assert_str_eq(seen.authorization, "Bearer tok-1");

        /* A watch that ends without events resumes from where it started. */
        static const char *const empty[] = {"\n", NULL};
        watch_pieces = empty;
        ck_assert_int_eq(kube_watch(client, &kube_secrets, "ns1", &opts, record_event, &events, &rv, &err), 0);
        ck_assert_str_eq(rv, "5");
        osb_free(rv);
        osb_buf_release(&events);
}
END_TEST

START_TEST(watch_error_event_410_is_gone)
{
        static const char *const pieces[] = {
                "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"6\"}}}\n",
                "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                "\"message\":\"too old resource version: 5 (12)\",\"reason\":\"Expired\",\"code\":410}}\n",
                NULL,
        };
        watch_pieces = pieces;
        route = route_watch;
        struct osb_buf events;
        osb_buf_init(&events, 4096);
        struct kube_watch_options opts = {.resource_version = "5"};
        char *rv = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(kube_watch(client, &kube_secrets, NULL, &opts, record_event, &events, &rv, &err), OSB_E_GONE);
        ck_assert_ptr_null(rv);
        ck_assert_str_eq(events.data, "ADDED a 6\n");
        char want[512];
        (void) snprintf(want, sizeof(want), "GET %s/api/v1/secrets?watch=1&resourceVersion=5&timeoutSeconds=300: "
                        "watch ERROR event: 410 Expired: too old resource version: 5 (12)", server_url);
        ck_assert_str_eq(err.text, want);
        ck_assert_str_eq(seen.q_bookmarks, "");
        osb_buf_release(&events);
}
END_TEST

START_TEST(watch_http_410_is_gone)
{
        canned(410, "{\"kind\":\"Status\",\"reason\":\"Expired\",\"message\":\"too old resource version\",\"code\":410}");
        struct osb_buf events;
        osb_buf_init(&events, 4096);
        struct kube_watch_options opts = {.resource_version = "1", .allow_bookmarks = true};
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(kube_watch(client, &csb, NULL, &opts, record_event, &events, NULL, &err), OSB_E_GONE);
        ck_assert_int_eq(events.len, 0);
        ck_assert_ptr_nonnull(strstr(err.text, "/apis/servicecatalog.k8s.io/v1beta1/clusterservicebrokers?watch=1"));
        ck_assert_ptr_nonnull(strstr(err.text, ": 410 Expired: too old resource version"));
        osb_buf_release(&events);
}
END_TEST

START_TEST(watch_http_504_too_large_resource_version_is_gone)
{
        canned(504, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"Timeout\","
                    "\"message\":\"Too large resource version: 99, current: 3\",\"details\":{\"causes\":"
                    "[{\"reason\":\"ResourceVersionTooLarge\",\"message\":\"Too large resource version\"}],"
                    "\"retryAfterSeconds\":1},\"code\":504}");
        struct osb_buf events;
        osb_buf_init(&events, 4096);
        struct kube_watch_options opts = {.resource_version = "99"};
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(kube_watch(client, &csb, NULL, &opts, record_event, &events, NULL, &err), OSB_E_GONE);
        ck_assert_ptr_nonnull(strstr(err.text, "Too large resource version: 99, current: 3"));
        /* a plain 504 is only "try again" */
        canned(504, "{\"kind\":\"Status\",\"reason\":\"Timeout\",\"message\":\"slow\",\"code\":504}");
        ck_assert_int_eq(kube_watch(client, &csb, NULL, &opts, record_event, &events, NULL, &err), OSB_E_UNAVAILABLE);
        osb_buf_release(&events);
}
END_TEST

START_TEST(watch_event_over_the_cap_is_e2big)
{
        static const char *const pieces[] = {
                "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"small\"}}}\n",
                "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}}\n", NULL,
        };
        watch_pieces = pieces;
        route = route_watch;
        struct osb_buf events;
        osb_buf_init(&events, 4096);
        struct kube_watch_options opts = {.max_event = 64};
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(kube_watch(client, &kube_secrets, "ns1", &opts, record_event, &events, NULL, &err), -E2BIG);
        ck_assert_str_eq(events.data, "ADDED small -\n");
        ck_assert_ptr_nonnull(strstr(err.text, "watch event 2 is larger than 64 bytes"));
        /* The client is still usable afterwards. */
        canned(200, OBJ_S1);
        json_t *obj = NULL;
        ck_assert_int_eq(kube_get(client, &kube_secrets, "ns1", "s1", &obj, &err), 0);
        json_decref(obj);
        osb_buf_release(&events);
}
END_TEST

struct watch_thread {
        pthread_t tid;
        int r;
        struct osb_error err;
        struct osb_buf events;
};

static void *watch_main(void *arg)
{
        struct watch_thread *w = arg;
        w->r = kube_watch(client, &kube_secrets, "ns1", NULL, record_event, &w->events, NULL, &w->err);
        return NULL;
}

START_TEST(cancel_stops_a_watch_in_progress)
{
        static const char *const pieces[] = {"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n", NULL};
        watch_pieces = pieces;
        watch_forever = true;
        route = route_watch;
        struct watch_thread w = {.r = 1};
        osb_buf_init(&w.events, 4096);
        ck_assert_int_eq(pthread_create(&w.tid, NULL, watch_main, &w), 0);
        for (int i = 0; i < 500; i++) {
                pthread_mutex_lock(&seen_lock);
                int n = seen.count;
                pthread_mutex_unlock(&seen_lock);
                if (n > 0)
                        break;
                struct timespec ts = {0, 10 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
        /* until the watch has handed its event over (slow under valgrind) */
        for (int i = 0; i < 1000 && __atomic_load_n(&w.events.len, __ATOMIC_ACQUIRE) == 0; i++) {
                struct timespec ts = {0, 10 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        kube_client_cancel(client);
        ck_assert_int_eq(pthread_join(w.tid, NULL), 0);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        /* The socket is shut down: the watch ends at once (tens of ms), not at libcurl's next
         * progress call. Asserted is only a bound that a loaded machine or valgrind cannot break. */
        long ms = (long) (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        ck_assert_msg(ms < 5000, "the watch ended %ld ms after kube_client_cancel()", ms);
        watch_forever = false;
        ck_assert_int_eq(w.r, -ECANCELED);
        ck_assert_str_eq(w.events.data, "ADDED a -\n");
        json_t *obj = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(kube_get(client, &kube_secrets, "ns1", "s1", &obj, &err), -ECANCELED);
        osb_buf_release(&w.events);
}
END_TEST

/* ---- credentials, transport ---- */

START_TEST(rotated_token_file_reaches_the_wire)
{
        write_file("token", "first\n");
        char yaml[1024];
        (void) snprintf(yaml, sizeof(yaml),
                        "clusters:\n- name: c\n  cluster: {server: '%s'}\n"
                        "users:\n- name: u\n  user: {tokenFile: token}\n"
                        "contexts:\n- name: x\n  context: {cluster: c, user: u, namespace: ns9}\n"
                        "current-context: x\n", server_url);
        write_file("config", yaml);
        struct kube_config *cfg = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(kube_config_load(path_in("config"), NULL, &cfg, &err) == 0, "%s", err.text);
        client = kube_client_free(client);
        client = new_client(cfg, NULL);
        ck_assert_str_eq(kube_client_config(client)->namespace, "ns9");
        json_t *obj = NULL;
        ck_assert_int_eq(kube_get(client, &kube_secrets, "ns9", "s1", &obj, &err), 0);
        json_decref(obj);
        ck_assert_str_eq(seen.authorization, "Bearer first");
        write_file("token.new", "second\n");
        ck_assert_int_eq(rename(path_in("token.new"), path_in("token")), 0);
        ck_assert_int_eq(kube_get(client, &kube_secrets, "ns9", "s1", &obj, &err), 0);
        json_decref(obj);
        ck_assert_str_eq(seen.authorization, "Bearer second");
}
END_TEST

START_TEST(connection_refused_names_the_server)
{
        /* A port that was just free: the stopped server's. */
        srv = osb_http_server_stop(srv, 0);
        json_t *obj = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(kube_get(client, &kube_namespaces, NULL, "x", &obj, &err), -ECONNREFUSED);
        char want[256];
        (void) snprintf(want, sizeof(want), "GET %s/api/v1/namespaces/x: ", server_url);
        ck_assert_msg(strncmp(err.text, want, strlen(want)) == 0, "%s", err.text);
}
END_TEST

static void route_slow(struct osb_http_request *req)
{
        struct timespec ts = {1, 500 * 1000 * 1000};
        nanosleep(&ts, NULL);
        route_canned(req);
}

START_TEST(slow_server_times_out)
{
        client = kube_client_free(client);
        struct kube_client_options opts = {.request_timeout_ms = 300};
        client = new_client(config_with_token(NULL), &opts);
        route = route_slow;
        json_t *obj = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(kube_get(client, &kube_secrets, "ns1", "s1", &obj, &err), -ETIMEDOUT);
        ck_assert_ptr_nonnull(strstr(err.text, "/api/v1/namespaces/ns1/secrets/s1: "));
        ck_assert_ptr_nonnull(strstr(err.text, "imed out"));
}
END_TEST

static void *get_many(void *arg)
{
        int *failures = arg;
        for (int i = 0; i < 25; i++) {
                json_t *obj = NULL;
                struct osb_error err = OSB_ERROR_INIT;
                if (kube_get(client, &kube_secrets, "ns1", "s1", &obj, &err) != 0)
                        (*failures)++;
                json_decref(obj);
        }
        return NULL;
}

START_TEST(one_client_serves_several_threads)
{
        pthread_t t[4];
        int failures[4] = {0};
        for (int i = 0; i < 4; i++)
                ck_assert_int_eq(pthread_create(&t[i], NULL, get_many, &failures[i]), 0);
        for (int i = 0; i < 4; i++) {
                ck_assert_int_eq(pthread_join(t[i], NULL), 0);
                ck_assert_int_eq(failures[i], 0);
        }
        ck_assert_int_eq(seen.count, 100);
}
END_TEST

/* ---- TLS ---- */

static char *slurp(const char *name)
{
        FILE *f = fopen(path_in(name), "r");
        ck_assert_msg(f != NULL, "%s: %s", path_in(name), strerror(errno));
        static char buf[8][8192];
        static int i;
        i = (i + 1) % 8;
        size_t n = fread(buf[i], 1, sizeof(buf[i]) - 1, f);
        buf[i][n] = '\0';
        fclose(f);
        return buf[i];
}

static void run(const char *cmd)
{
        char full[4096];
        (void) snprintf(full, sizeof(full), "cd '%s' && { %s ; } >openssl.log 2>&1", dir, cmd);
        int r = system(full);
        ck_assert_msg(r == 0, "'%s' failed: %s", cmd, slurp("openssl.log"));
}

/* A CA, a server certificate for 127.0.0.1 and a client certificate, all EC P-256. */
static void setup_tls(void)
{
        osb_log_set_level(OSB_LOG_OFF);
        memset(&seen, 0, sizeof(seen));
        canned(200, OBJ_S1);
        make_dir();
        ck_assert_msg(system("command -v openssl >/dev/null 2>&1") == 0,
                      "the openssl binary is required to make the TLS test certificates");
#define EC "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
        run("openssl req -x509 " EC " -keyout ca.key -out ca.crt -days 2 -subj /CN=bindery-test-ca "
            "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign");
        run("openssl req " EC " -keyout server.key -out server.csr -subj /CN=127.0.0.1 && "
            "printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' >server.ext && "
            "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
            "-extfile server.ext -out server.crt");
        run("openssl req " EC " -keyout client.key -out client.csr -subj /CN=bindery-client && "
            "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out client.crt");
#undef EC
        start_server(slurp("server.crt"), slurp("server.key"));
}

static void teardown_tls(void)
{
        client = kube_client_free(client);
        srv = osb_http_server_stop(srv, 2000);
        remove_dir();
}

static int tls_get(const char *cluster_extra, const char *user, struct osb_error *err)
{
        char yaml[4096];
        (void) snprintf(yaml, sizeof(yaml),
                        "clusters:\n- name: c\n  cluster:\n    server: %s\n%s"
                        "users:\n- name: u\n  user: %s\n"
                        "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n",
                        server_url, cluster_extra, user);
        write_file("config", yaml);
        struct kube_config *cfg = NULL;
        ck_assert_msg(kube_config_load(path_in("config"), NULL, &cfg, err) == 0, "%s", err->text);
        client = kube_client_free(client);
        /* a TLS handshake under valgrind on a loaded machine can take longer than the default
         * 10 s connect time-out (which covers the handshake): the outcome is what is tested */
        struct kube_client_options opts = {.connect_timeout_ms = 50000, .request_timeout_ms = 55000};
        client = new_client(cfg, &opts);
        json_t *obj = NULL;
        int r = kube_get(client, &kube_secrets, "ns1", "s1", &obj, err);
        json_decref(obj);
        return r;
}

START_TEST(tls_with_the_configured_ca_verifies_the_server)
{
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(tls_get("    certificate-authority: ca.crt\n", "{token: t}", &err) == 0, "%s", err.text);
        ck_assert_str_eq(seen.authorization, "Bearer t");
        ck_assert_int_eq(seen.count, 1);
}
END_TEST

START_TEST(tls_with_another_ca_fails_naming_the_server)
{
        /* The client certificate is no CA: the server's chain cannot verify against it. */
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(tls_get("    certificate-authority: client.crt\n", "{token: t}", &err), -EPROTO);
        char want[256];
        (void) snprintf(want, sizeof(want), "GET %s/api/v1/namespaces/ns1/secrets/s1: ", server_url);
        ck_assert_msg(strncmp(err.text, want, strlen(want)) == 0, "%s", err.text);
        ck_assert_int_eq(seen.count, 0);
        /* Nor is the test CA in the system's store. */
        ck_assert_int_eq(tls_get("", "{token: t}", &err), -EPROTO);
        ck_assert_int_eq(seen.count, 0);
}
END_TEST

START_TEST(tls_insecure_skips_verification)
{
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(tls_get("    insecure-skip-tls-verify: true\n", "{token: t}", &err) == 0, "%s", err.text);
        ck_assert_int_eq(seen.count, 1);
}
END_TEST

START_TEST(tls_client_certificate_is_loaded_and_must_match_its_key)
{
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(tls_get("    certificate-authority: ca.crt\n",
                              "{client-certificate: client.crt, client-key: client.key}", &err) == 0, "%s", err.text);
        ck_assert_str_eq(seen.authorization, "");
        /* A key that does not match the certificate is refused before anything is sent. */
        int before = seen.count;
        ck_assert_int_eq(tls_get("    certificate-authority: ca.crt\n",
                                 "{client-certificate: client.crt, client-key: server.key}", &err), -EPROTO);
        ck_assert_int_eq(seen.count, before);
}
END_TEST

static Suite *kube_client_suite(void)
{
        Suite *s = suite_create("kube_client");
        TCase *tc = tcase_create("http");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, get_builds_the_core_path_and_sends_bearer_and_accept);
        tcase_add_test(tc, create_posts_to_the_collection_of_the_object_namespace);
        tcase_add_test(tc, update_and_update_status_put_the_object_with_its_resource_version);
        tcase_add_test(tc, patch_sends_the_content_type_of_its_kind);
        tcase_add_test(tc, delete_sends_options_and_a_missing_object_is_not_found);
        tcase_add_test(tc, paths_are_built_and_percent_encoded);
        tcase_add_test(tc, failed_statuses_map_to_codes_and_name_the_request);
        tcase_add_test(tc, success_that_is_not_json_is_ebadmsg);
        tcase_add_test(tc, body_over_the_limit_is_e2big);
        tcase_add_test(tc, list_follows_continue_and_returns_the_resource_version);
        tcase_add_test(tc, list_with_an_expired_continue_token_is_gone);
        tcase_add_test(tc, watch_delivers_chunked_events_and_bookmarks);
        tcase_add_test(tc, watch_error_event_410_is_gone);
        tcase_add_test(tc, watch_http_410_is_gone);
        tcase_add_test(tc, watch_http_504_too_large_resource_version_is_gone);
        tcase_add_test(tc, watch_event_over_the_cap_is_e2big);
        tcase_add_test(tc, cancel_stops_a_watch_in_progress);
        tcase_add_test(tc, rotated_token_file_reaches_the_wire);
        tcase_add_test(tc, connection_refused_names_the_server);
        tcase_add_test(tc, slow_server_times_out);
        tcase_add_test(tc, one_client_serves_several_threads);
        suite_add_tcase(s, tc);
        tc = tcase_create("tls");
        tcase_add_checked_fixture(tc, setup_tls, teardown_tls);
        tcase_set_timeout(tc, 180);     /* a handshake under valgrind on a loaded machine is slow */
        tcase_add_test(tc, tls_with_the_configured_ca_verifies_the_server);
        tcase_add_test(tc, tls_with_another_ca_fails_naming_the_server);
        tcase_add_test(tc, tls_insecure_skips_verification);
        tcase_add_test(tc, tls_client_certificate_is_loaded_and_must_match_its_key);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(kube_client_suite)
