/* broker/router.c: HTTP → OSB API. Order of checks for /v2/ paths: authentication (401), then
 * X-Broker-API-Version (412), then the route (404/405), then the body (400): the conformance
 * checkers probe 401 and 412 with bodies that would otherwise be invalid. */
#include "common/osb_compat.h"
#include "common/osb_json.h"
#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "broker/metrics.h"
#include "broker/request.h"
#include "broker/router.h"

struct req_info {
        enum metrics_endpoint ep;
        bool observed;          /* counted in the metrics already */
        char request_id[128];
        char platform[64];
        char user[128];
};

#define MAX_SEGMENTS 8

static const char *request_identity(const struct osb_http_request *req)
{
        return osb_http_header(req, "X-Broker-API-Request-Identity");
}

static void send_json(struct osb_http_request *req, unsigned status, json_t *body,
                      const char *const *extra)
{
        size_t len = 0;
        char *text = body ? osb_json_dump_line(body, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY, &len) : NULL;
        const char *headers[16];
        unsigned n = 0;
        headers[n++] = "X-Broker-API-Request-Identity";
        headers[n++] = request_identity(req);
        for (const char *const *h = extra; h && h[0] && n < 14; h += 2) {
                headers[n++] = h[0];
                headers[n++] = h[1];
        }
        headers[n] = NULL;
        if (!text) {
                static const char oom[] = "{\"description\":\"the broker ran out of memory\"}\n";
                (void) osb_http_respond_static(req, 500, "application/json", oom, sizeof(oom) - 1, headers);
                return;
        }
        (void) osb_http_respond(req, status, "application/json", text, len, true, headers);
}

static void send_error(struct osb_http_request *req, int code, const char *const *extra,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void send_error(struct osb_http_request *req, int code, const char *const *extra,
                       const char *fmt, ...)
{
        struct osb_error err = OSB_ERROR_INIT;
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(err.text, sizeof(err.text), fmt, ap);
        va_end(ap);
        err.code = code;
        struct api_response resp = {0};
        api_response_error(&resp, &err);
        send_json(req, resp.status, resp.body, extra);
        api_response_release(&resp);
}

/* 503 for a store that cannot be opened (@why: why, logged; it names the file, which an answer
 * never does) or that fails its ping (@why NULL). */
static void send_store_unusable(struct osb_http_request *req, const struct osb_error *why)
{
        if (why)
                osb_log_error("the store is not usable", "error=%s", why->text);
        send_error(req, OSB_E_UNAVAILABLE, NULL, "the broker's storage is not usable");
}

static void send_api(struct osb_http_request *req, struct api_response *resp)
{
        char ra[24];
        const char *extra[] = {"Retry-After", NULL, NULL};
        if (resp->retry_after_s >= 0) {
                (void) snprintf(ra, sizeof(ra), "%" PRId64, resp->retry_after_s);
                extra[1] = ra;
        }
        send_json(req, resp->status, resp->body, extra);
        api_response_release(resp);
}

/* Splits @path into percent-decoded segments in @buf (strlen(path) + 1 bytes), with their
 * decoded lengths in @len (more than strlen() when a segment holds an encoded NUL). Returns the
 * count, or -EINVAL. */
static int split_path(const char *path, char *buf, char *seg[MAX_SEGMENTS], size_t len_out[MAX_SEGMENTS])
{
        size_t len = strlen(path);
        if (path[0] != '/')
                return -EINVAL;
        memcpy(buf, path, len + 1);
        int n = 0;
        char *p = buf + 1;
        while (*p || n == 0) {
                if (n == MAX_SEGMENTS)
                        return -EINVAL;
                char *slash = strchr(p, '/');
                if (slash)
                        *slash = '\0';
                ssize_t k = osb_http_unescape_len(p);
                if (k < 0)
                        return -EINVAL;
                len_out[n] = (size_t) k;
                seg[n++] = p;
                if (!slash)
                        break;
                p = slash + 1;
                if (!*p)  /* a trailing slash is ignored */
                        break;
        }
        return n;
}

/* The one place every id and query value of an OSB request is checked (request_check_id()):
 * the instance id, the binding id (NULL: none), and the query values the API reads. Returns 0
 * or OSB_E_BAD_REQUEST. */
static int check_ids(const struct osb_http_request *req, const char *iid, size_t iid_len, const char *bid,
                     size_t bid_len, struct osb_error *err)
{
        if (req->bad_query_arg)
                return osb_error_set(err, OSB_E_BAD_REQUEST,
                                     "the query parameter '%.64s' has a bad percent-escape or an encoded NUL",
                                     request_check_id(req->bad_query_arg, strlen(req->bad_query_arg), "", NULL) < 0
                                             ? "?" : req->bad_query_arg);
        int r = request_check_id(iid, iid_len, "the instance id", err);
        if (r >= 0 && bid)
                r = request_check_id(bid, bid_len, "the binding id", err);
        static const char *const params[][2] = {{"operation", "the query parameter operation"},
                                                {"service_id", "the query parameter service_id"},
                                                {"plan_id", "the query parameter plan_id"}};
        for (size_t i = 0; r >= 0 && i < OSB_ELEMENTSOF(params); i++) {
                const char *v = osb_http_query(req, params[i][0]);
                if (v)
                        r = request_check_id(v, strlen(v), params[i][1], err);
        }
        return r;
}

static void serve_metrics(struct router *rt, struct osb_http_request *req)
{
        struct osb_error err = OSB_ERROR_INIT;
        struct store *st = api_store(rt->api, &err);
        struct metrics_gauges g = {.operations_queued = ops_in_flight(rt->api->ops)};
        if (st)
                (void) store_count(st, &g.instances, &g.bindings, &g.operations_in_progress);
        struct osb_buf out;
        osb_buf_init(&out, 1024 * 1024);
        if (metrics_render(&out, &g) < 0) {
                osb_buf_release(&out);
                return send_error(req, -ENOMEM, NULL, "cannot render metrics");
        }
        size_t len;
        char *text = osb_buf_detach(&out, &len);
        (void) osb_http_respond(req, 200, "text/plain; version=0.0.4", text, len, true, NULL);
}

static void serve_catalog(struct router *rt, struct osb_http_request *req)
{
        const struct catalog *c = rt->cat;
        const char *headers[] = {"ETag", c->etag, "X-Broker-API-Request-Identity", request_identity(req), NULL};
        const char *inm = osb_http_header(req, "If-None-Match");
        if (inm && (strstr(inm, c->etag) || strcmp(inm, "*") == 0)) {
                (void) osb_http_respond_static(req, 304, NULL, "", 0, headers);
                return;
        }
        (void) osb_http_respond_static(req, 200, "application/json", c->body, c->body_len, headers);
}

static void method_not_allowed(struct osb_http_request *req, const char *allow)
{
        const char *extra[] = {"Allow", allow, NULL};
        send_error(req, OSB_E_METHOD, extra, "method %s is not allowed on %s (allowed: %s)", req->method,
                   req->path, allow);
}

static struct req_info *new_info(struct osb_http_request *req)
{
        struct req_info *info = osb_calloc(1, sizeof(*info));
        if (!info)
                return NULL;
        req->data = info;
        info->ep = EP_OTHER;
        const char *rid = request_identity(req);
        if (rid) {
                size_t n = strnlen(rid, sizeof(info->request_id) - 1);
                memcpy(info->request_id, rid, n);   /* calloc'd: stays NUL-terminated */
        }
        return info;
}

/* /healthz, /readyz and /metrics. Returns false for any other path. */
static bool serve_health(struct router *rt, struct osb_http_request *req, struct req_info *info)
{
        const char *rid = request_identity(req);
        if (strcmp(req->path, "/healthz") == 0 || strcmp(req->path, "/readyz") == 0) {
                info->ep = EP_HEALTH;
                static const char ok[] = "{\"status\":\"ok\"}\n";
                const char *hdrs[] = {"X-Broker-API-Request-Identity", rid, NULL};
                if (req->path[1] == 'h') {
                        (void) osb_http_respond_static(req, 200, "application/json", ok, sizeof(ok) - 1, hdrs);
                        return true;
                }
                struct osb_error err = OSB_ERROR_INIT;
                struct store *st = api_store(rt->api, &err);
                if (atomic_load(&rt->draining))
                        send_error(req, OSB_E_UNAVAILABLE, NULL, "shutting down");
                else if (!st || store_ping(st) < 0)
                        send_store_unusable(req, st ? NULL : &err);
                else
                        (void) osb_http_respond_static(req, 200, "application/json", ok, sizeof(ok) - 1, hdrs);
                return true;
        }
        if (strcmp(req->path, "/metrics") == 0) {
                info->ep = EP_METRICS;
                serve_metrics(rt, req);
                return true;
        }
        return false;
}

static uint64_t since_start_ns(const struct osb_http_request *req)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec - req->start_ns;
}

/* Counts the request in the metrics as soon as its answer is queued: a client that reads
 * /metrics right after its answer (a 413 sent before the body, on a connection then closed)
 * must find it counted, which the completion hook, run after the send, cannot promise. */
static void observe(struct osb_http_request *req)
{
        struct req_info *info = req->data;
        if (!info || info->observed || !req->responded)
                return;
        info->observed = true;
        metrics_observe(info->ep, req->status, since_start_ns(req));
}

static void handle_health(void *userdata, struct osb_http_request *req);
static void handle(void *userdata, struct osb_http_request *req);

void router_handle_health(void *userdata, struct osb_http_request *req)
{
        handle_health(userdata, req);
        observe(req);
}

void router_handle(void *userdata, struct osb_http_request *req)
{
        handle(userdata, req);
        observe(req);
}

static void handle_health(void *userdata, struct osb_http_request *req)
{
        struct router *rt = userdata;
        struct req_info *info = new_info(req);
        if (!info)
                return send_error(req, -ENOMEM, NULL, "out of memory");
        if (!serve_health(rt, req, info))
                send_error(req, OSB_E_NOT_FOUND, NULL,
                           "the health port serves only /healthz, /readyz and /metrics");
}

static void handle(void *userdata, struct osb_http_request *req)
{
        struct router *rt = userdata;
        struct req_info *info = new_info(req);
        if (!info)
                return send_error(req, -ENOMEM, NULL, "out of memory");

        const char *m = req->method;
        /* libmicrohttpd sends no body for HEAD: it is answered like GET (RFC 9110). */
        bool get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0, put = strcmp(m, "PUT") == 0;
        bool del = strcmp(m, "DELETE") == 0, patch = strcmp(m, "PATCH") == 0;

        if (serve_health(rt, req, info))
                return;

        if (!auth_check(rt->auth, osb_http_header(req, "Authorization"))) {
                const char *extra[] = {"WWW-Authenticate",
                                       rt->auth->basic ? "Basic realm=\"osb-broker\"" : "Bearer realm=\"osb-broker\"",
                                       NULL};
                return send_error(req, OSB_E_UNAUTHORIZED, extra, "authentication required: %s",
                                  osb_http_header(req, "Authorization") ? "invalid credentials"
                                                                        : "no credentials were sent");
        }
        struct osb_error err = OSB_ERROR_INIT;
        unsigned major, minor;
        if (request_parse_api_version(osb_http_header(req, "X-Broker-API-Version"), &major, &minor, &err) < 0)
                return send_error(req, err.code, NULL, "%s", err.text);
        if (major != 2 || minor < rt->min_api_minor)
                return send_error(req, OSB_E_API_VERSION, NULL,
                                  "X-Broker-API-Version %u.%u is not supported: this broker speaks 2.17 "
                                  "and accepts 2.%u or newer 2.x", major, minor, rt->min_api_minor);
        const char *oi = osb_http_header(req, "X-Broker-API-Originating-Identity");
        if (oi) {
                osb_autofree char *platform = NULL;
                json_auto_t *identity = NULL;
                if (request_parse_originating_identity(oi, &platform, &identity, &err) < 0)
                        return send_error(req, err.code, NULL, "%s", err.text);
                (void) snprintf(info->platform, sizeof(info->platform), "%s", platform);
                const char *user = json_string_value(json_object_get(identity, "username"));
                if (!user)
                        user = json_string_value(json_object_get(identity, "user_id"));
                if (user)
                        (void) snprintf(info->user, sizeof(info->user), "%s", user);
        }

        /* The path is bounded by --max-header; ids may be long. */
        osb_autofree char *buf = osb_malloc(strlen(req->path) + 1);
        if (!buf)
                return send_error(req, -ENOMEM, NULL, "out of memory");
        char *seg[MAX_SEGMENTS];
        size_t seglen[MAX_SEGMENTS];
        int n = split_path(req->path, buf, seg, seglen);
        /* An encoded NUL in a fixed part of the path ("v2%00x") names no endpoint; in an id it
         * is refused by check_ids(). */
        for (int i = 0; i < n; i++)
                if (i != 2 && i != 4 && strlen(seg[i]) != seglen[i])
                        n = -EINVAL;
        if (n < 2 || strcmp(seg[0], "v2") != 0)
                return send_error(req, OSB_E_NOT_FOUND, NULL, "no such endpoint: %s", req->path);
        if (n == 2 && strcmp(seg[1], "catalog") == 0) {
                info->ep = EP_CATALOG;
                return get ? serve_catalog(rt, req) : method_not_allowed(req, "GET");
        }
        if (strcmp(seg[1], "service_instances") != 0 || n < 3 || !seglen[2] ||
            !(n == 3 || (n == 4 && strcmp(seg[3], "last_operation") == 0) ||
              (n >= 5 && strcmp(seg[3], "service_bindings") == 0 && seglen[4] &&
               (n == 5 || (n == 6 && strcmp(seg[5], "last_operation") == 0)))))
                return send_error(req, OSB_E_NOT_FOUND, NULL, "no such endpoint: %s", req->path);

        const char *iid = seg[2];
        const char *bid = n >= 5 ? seg[4] : NULL;
        bool last_op = (n == 4 || n == 6);
        bool accepts = false;
        if (last_op)
                info->ep = bid ? EP_BINDING_LAST_OPERATION : EP_INSTANCE_LAST_OPERATION;
        else if (get)
                info->ep = bid ? EP_FETCH_BINDING : EP_FETCH_INSTANCE;
        else if (put)
                info->ep = bid ? EP_BIND : EP_PROVISION;
        else if (del)
                info->ep = bid ? EP_UNBIND : EP_DEPROVISION;
        else if (patch && !bid)
                info->ep = EP_UPDATE;
        if (check_ids(req, iid, seglen[2], bid, bid ? seglen[4] : 0, &err) < 0 ||
            request_parse_bool("accepts_incomplete", osb_http_query(req, "accepts_incomplete"), &accepts, &err) < 0)
                return send_error(req, err.code, NULL, "%s", err.text);

        if (req->body_too_large)
                return send_error(req, OSB_E_TOO_LARGE, NULL, "the request body is larger than the broker accepts");
        struct store *st = api_store(rt->api, &err);
        if (!st)
                return send_store_unusable(req, &err);
        struct api_response resp = {.retry_after_s = -1};

        if (last_op) {
                if (!get)
                        return method_not_allowed(req, "GET");
                const char *op = osb_http_query(req, "operation");
                if (bid)
                        api_binding_last_operation(rt->api, st, iid, bid, op, &resp);
                else
                        api_instance_last_operation(rt->api, st, iid, op, &resp);
                return send_api(req, &resp);
        }
        const char *body = req->body.data ? req->body.data : "";
        if (!bid) {
                if (put) {
                        api_provision(rt->api, st, iid, accepts, body, req->body.len, &resp);
                } else if (patch) {
                        api_update(rt->api, st, iid, accepts, body, req->body.len, &resp);
                } else if (del) {
                        api_deprovision(rt->api, st, iid, accepts, osb_http_query(req, "service_id"),
                                        osb_http_query(req, "plan_id"), &resp);
                } else if (get) {
                        api_get_instance(rt->api, st, iid, &resp);
                } else {
                        return method_not_allowed(req, "GET, PUT, PATCH, DELETE");
                }
                return send_api(req, &resp);
        }
        if (put) {
                api_bind(rt->api, st, iid, bid, accepts, body, req->body.len, &resp);
        } else if (del) {
                api_unbind(rt->api, st, iid, bid, accepts, osb_http_query(req, "service_id"),
                           osb_http_query(req, "plan_id"), &resp);
        } else if (get) {
                api_get_binding(rt->api, st, iid, bid, &resp);
        } else {
                return method_not_allowed(req, "GET, PUT, DELETE");
        }
        send_api(req, &resp);
}

void router_done(void *userdata, struct osb_http_request *req)
{
        struct req_info *info = req->data;
        uint64_t ns = since_start_ns(req);
        enum metrics_endpoint ep = info ? info->ep : EP_OTHER;
        if (!info || !info->observed)
                metrics_observe(ep, req->status, ns);
        if (!osb_log_enabled(OSB_LOG_INFO))
                return;
        /* The logger escapes every value (the path, the request id and the user are the client's);
         * NULL leaves a key out. */
        osb_log_info("request", "method=%s path=%s status=%u duration_ms=%.3f endpoint=%s request_id=%s "
                     "platform=%s user=%s", req->method, req->path, req->status, (double) ns / 1e6,
                     metrics_endpoint_name(ep), info && info->request_id[0] ? info->request_id : NULL,
                     info && info->platform[0] ? info->platform : NULL, info && info->user[0] ? info->user : NULL);
}
