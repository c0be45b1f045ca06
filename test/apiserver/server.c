/* test/apiserver/server.c: HTTP routing and negotiation for the test API server. Paths:
 *   /api, /api/v1[/namespaces/NS]/RESOURCE[/NAME[/SUB]]
 *   /apis, /apis/G, /apis/G/V[/namespaces/NS]/RESOURCE[/NAME[/SUB]]
 *   (/api/v1/watch/... and /apis/G/V/watch/... too), /version, /healthz, /livez, /readyz. */
#include "common/osb_compat.h"
#include "common/osb_json.h"
#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "common/osb_parse.h"
#include "common/osb_yaml.h"
#include "test/apiserver/openapi.h"
#include "test/apiserver/protobuf.h"
#include "test/apiserver/server.h"

#define MAX_SEGMENTS 10

struct req_info {
        char user[128];
        char verb[24];
        bool watch;
};

/* ---- tokens ---- */

static char *field_dup(const char *s, size_t n)
{
        while (n && (*s == ' ' || *s == '\t')) {
                s++;
                n--;
        }
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
                n--;
        if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
                s++;
                n -= 2;
        }
        return osb_strndup(s, n);
}

int server_load_tokens(struct server *s, const char *path, struct osb_error *err)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return osb_error_set(err, -errno, "cannot read '%s': %s", path, strerror(errno));
        char line[4096];
        unsigned lineno = 0;
        int r = 0;
        while (fgets(line, sizeof(line), f)) {
                lineno++;
                line[strcspn(line, "\n")] = '\0';
                if (!line[0] || line[0] == '#')
                        continue;
                const char *fields[3];
                size_t lens[3];
                const char *p = line;
                int n = 0;
                while (n < 3) {
                        bool q = false;
                        const char *start = p;
                        while (*p && (q || *p != ',')) {
                                if (*p == '"')
                                        q = !q;
                                p++;
                        }
                        fields[n] = start;
                        lens[n] = (size_t) (p - start);
                        n++;
                        if (!*p)
                                break;
                        p++;
                }
                if (n < 3) {
                        r = osb_error_set(err, -EINVAL, "%s:%u: expected token,user,uid[,groups]", path, lineno);
                        break;
                }
                struct server_token *v = osb_realloc(s->tokens, (s->ntokens + 1) * sizeof(*v));
                if (!v) {
                        r = osb_error_set(err, -ENOMEM, "out of memory");
                        break;
                }
                s->tokens = v;
                struct server_token *t = &v[s->ntokens];
                t->token = field_dup(fields[0], lens[0]);
                t->user = field_dup(fields[1], lens[1]);
                t->uid = field_dup(fields[2], lens[2]);
                s->ntokens++;
                if (!t->token || !t->user || !t->uid) {
                        r = osb_error_set(err, -ENOMEM, "out of memory");
                        break;
                }
                if (!*t->token) {
                        r = osb_error_set(err, -EINVAL, "%s:%u: empty token", path, lineno);
                        break;
                }
        }
        fclose(f);
        explicit_bzero(line, sizeof(line));
        if (r == 0 && s->ntokens == 0)
                r = osb_error_set(err, -EINVAL, "%s: no tokens", path);
        return r;
}

void server_release(struct server *s)
{
        for (size_t i = 0; i < s->ntokens; i++) {
                if (s->tokens[i].token)
                        explicit_bzero(s->tokens[i].token, strlen(s->tokens[i].token));
                osb_free(s->tokens[i].token);
                osb_free(s->tokens[i].user);
                osb_free(s->tokens[i].uid);
        }
        osb_free(s->tokens);
        s->tokens = NULL;
        s->ntokens = 0;
}

static const struct server_token *authenticate(const struct server *s, const char *authz)
{
        if (!authz || strncasecmp(authz, "Bearer ", 7) != 0)
                return NULL;
        const char *tok = authz + 7;
        while (*tok == ' ')
                tok++;
        for (size_t i = 0; i < s->ntokens; i++) {
                const char *a = s->tokens[i].token;
                size_t la = strlen(a), lb = strlen(tok);
                unsigned char diff = (unsigned char) (la != lb);
                for (size_t k = 0; k < la && k < lb; k++)
                        diff |= (unsigned char) (a[k] ^ tok[k]);
                if (!diff)
                        return &s->tokens[i];
        }
        return NULL;
}

/* ---- responses ---- */

static void send_json(struct osb_http_request *req, unsigned status, json_t *body, const char *warning)
{
        size_t len = 0;
        char *text = body ? osb_json_dump_flags(body, JSON_COMPACT | JSON_PRESERVE_ORDER, &len) : NULL;
        char warn[700];
        const char *headers[] = {"Cache-Control", "no-cache, private", "Warning", NULL, NULL};
        if (warning && *warning) {
                (void) snprintf(warn, sizeof(warn), "299 - \"%s\"", warning);
                for (char *c = warn + 7; *c && c[1]; c++)
                        if (*c == '"')
                                *c = '\'';
                headers[3] = warn;
        }
        if (!text) {
                static const char oom[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                                          "\"message\":\"Internal error occurred: out of memory\",\"reason\":\"InternalError\",\"code\":500}";
                (void) osb_http_respond_static(req, 500, "application/json", oom, sizeof(oom) - 1, headers);
                return;
        }
        char *nl = osb_realloc(text, len + 2);
        if (nl) {
                text = nl;
                text[len++] = '\n';
                text[len] = '\0';
        }
        (void) osb_http_respond(req, status, "application/json", text, len, true, headers);
}

static void send_result(struct osb_http_request *req, struct api_result *res)
{
        send_json(req, res->code, res->body, res->warning);
        api_result_release(res);
}

static void send_status(struct osb_http_request *req, unsigned code, const char *reason, json_t *details,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void send_status(struct osb_http_request *req, unsigned code, const char *reason, json_t *details,
                        const char *fmt, ...)
{
        char msg[2048];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        json_t *s = api_status(code, reason, details, "%s", msg);
        send_json(req, code, s, NULL);
        json_decref(s);
}

static void not_found_path(struct osb_http_request *req)
{
        send_status(req, 404, "NotFound", json_object(), "the server could not find the requested resource");
}

static void method_not_allowed(struct osb_http_request *req)
{
        send_status(req, 405, "MethodNotAllowed", json_object(), "the server does not allow this method on the requested resource");
}

static void send_doc(struct osb_http_request *req, json_t *doc)
{
        if (!doc) {
                send_status(req, 500, "InternalError", NULL, "Internal error occurred: out of memory");
                return;
        }
        send_json(req, 200, doc, NULL);
        json_decref(doc);
}

/* ---- request parsing ---- */

static int split_path(const char *path, char *buf, size_t bufsize, char *seg[MAX_SEGMENTS])
{
        size_t len = strlen(path);
        if (path[0] != '/' || len + 1 > bufsize)
                return -EINVAL;
        memcpy(buf, path, len + 1);
        int n = 0;
        char *p = buf + 1;
        while (*p) {
                if (n == MAX_SEGMENTS)
                        return -E2BIG;
                char *slash = strchr(p, '/');
                if (slash)
                        *slash = '\0';
                if (osb_http_unescape(p) < 0)
                        return -EINVAL;
                seg[n++] = p;
                if (!slash)
                        break;
                p = slash + 1;
        }
        return n;
}

static bool query_bool(const struct osb_http_request *req, const char *name)
{
        const char *v = osb_http_query(req, name);
        bool b = false;
        return v && (osb_parse_bool(v, &b) == 0) && b;
}

static int64_t query_int(const struct osb_http_request *req, const char *name, int64_t def)
{
        const char *v = osb_http_query(req, name);
        int64_t r;
        return v && osb_parse_int64(v, INT64_MIN, INT64_MAX, &r) == 0 ? r : def;
}

static bool wants_table(const struct osb_http_request *req)
{
        const char *accept = osb_http_header(req, "Accept");
        return accept && strstr(accept, "as=Table") && strstr(accept, "g=meta.k8s.io");
}

/* Decodes a request body by Content-Type. Returns 0 with *ret, or sends 400/415 and returns -1. */
static int decode_body(struct osb_http_request *req, bool allow_array, json_t **ret)
{
        const char *ct = osb_http_header(req, "Content-Type");
        char type[128];
        (void) snprintf(type, sizeof(type), "%s", ct ? ct : "application/json");
        type[strcspn(type, "; ")] = '\0';
        struct osb_error err = OSB_ERROR_INIT;
        bool yaml = !strcasecmp(type, "application/yaml") || !strcasecmp(type, "application/apply-patch+yaml") ||
                    !strcasecmp(type, "text/yaml");
        bool json = !strcasecmp(type, "application/json") || !strcasecmp(type, "application/merge-patch+json") ||
                    !strcasecmp(type, "application/json-patch+json") ||
                    !strcasecmp(type, "application/strategic-merge-patch+json") ||
                    !strcasecmp(type, "application/apply-patch+json") || !strcasecmp(type, "*/*");
        bool pb = !strcasecmp(type, "application/vnd.kubernetes.protobuf");
        if (!yaml && !json && !pb) {
                send_status(req, 415, "UnsupportedMediaType", NULL,
                            "the body of the request was in an unknown format - accepted media types include: "
                            "application/json, application/yaml, application/vnd.kubernetes.protobuf");
                return -1;
        }
        if (req->body.len == 0) {
                send_status(req, 400, "BadRequest", NULL, "the body of the request was empty");
                return -1;
        }
        json_t *j = NULL;
        if (pb) {
                char msg[512];
                int r = protobuf_decode(req->body.data, req->body.len, &j, msg, sizeof(msg));
                if (r < 0) {
                        if (r == -ENOMEM)
                                send_status(req, 500, "InternalError", NULL, "Internal error occurred: out of memory");
                        else
                                send_status(req, 400, "BadRequest", NULL, "%s", msg);
                        return -1;
                }
        } else if (yaml) {
                int r = osb_yaml_parse(req->body.data, req->body.len, &j, &err);
                if (r < 0) {
                        if (r == -ENOMEM)
                                send_status(req, 500, "InternalError", NULL, "Internal error occurred: out of memory");
                        else
                                send_status(req, 400, "BadRequest", NULL, "error converting YAML to JSON: yaml: %s", err.text);
                        return -1;
                }
        } else {
                json_error_t jerr;
                j = json_loadb(req->body.data, req->body.len, JSON_DECODE_ANY, &jerr);
                if (!j) {
                        send_status(req, 400, "BadRequest", NULL,
                                    "couldn't get version/kind; json parse error: line %d column %d: %s", jerr.line,
                                    jerr.column, jerr.text);
                        return -1;
                }
        }
        if (!json_is_object(j) && !(allow_array && json_is_array(j))) {
                send_status(req, 400, "BadRequest", NULL,
                            "couldn't get version/kind; json parse error: json: cannot unmarshal %s into Go value of type struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }",
                            json_is_array(j) ? "array" : json_is_string(j) ? "string" : json_is_null(j) ? "null" : "number");
                json_decref(j);
                return -1;
        }
        *ret = j;
        return 0;
}

/* ---- watch streams ---- */

struct wstream {
        struct server *srv;
        struct api_watch *w;
        struct MHD_Connection *conn;
        bool suspended;  /* guarded by the store lock */
        char *pending;
        size_t plen, poff;
};

static void wstream_notify(void *userdata)
{
        struct wstream *ws = userdata;
        if (ws->suspended) {
                ws->suspended = false;
                osb_http_resume(ws->conn);
        }
}

static ssize_t wstream_read(void *cls, char *buf, size_t max)
{
        struct wstream *ws = cls;
        for (;;) {
                if (ws->pending) {
                        size_t n = OSB_MIN(max, ws->plen - ws->poff);
                        memcpy(buf, ws->pending + ws->poff, n);
                        ws->poff += n;
                        if (ws->poff == ws->plen) {
                                osb_free(ws->pending);
                                ws->pending = NULL;
                        }
                        return (ssize_t) n;
                }
                bool done = false;
                size_t len = 0;
                char *line = api_watch_next(ws->w, &len, &done, ws->srv->bookmark_ms, &ws->suspended);
                if (line) {
                        ws->pending = line;
                        ws->plen = len;
                        ws->poff = 0;
                        continue;
                }
                if (done)
                        return OSB_HTTP_STREAM_END;
                /* Nothing yet: sleep until a writer or the ticker resumes us. */
                osb_http_suspend(ws->conn);
                return 0;
        }
}

static void wstream_free(void *cls)
{
        struct wstream *ws = cls;
        api_watch_close(ws->w);  /* unregisters: no notify after this */
        osb_free(ws->pending);
        osb_free(ws);
}

/* ---- resources ---- */

struct route {
        const char *group, *version;
        char *ns, *resource, *name, *sub;
        bool watch_prefix;
};

static void serve_resource(struct server *s, struct osb_http_request *req, struct route *rt, struct req_info *info)
{
        struct api *a = s->api;
        osb_auto(kt_type_unrefp) struct kt_type *type = types_find(a->types, rt->group, rt->version, rt->resource);
        if (!type)
                return not_found_path(req);
        if ((rt->ns && !type->namespaced) || (!rt->ns && type->namespaced && rt->name))
                return not_found_path(req);
        if (rt->sub && !((!strcmp(rt->sub, "status") && type->has_status) ||
                         (!strcmp(rt->sub, "finalize") && type->builtin == BT_NAMESPACE)))
                return not_found_path(req);
        struct api_target t = {.type = type, .ns = rt->ns, .name = rt->name, .sub = rt->sub};
        struct api_opts o = API_OPTS_INIT;
        const char *dr = osb_http_query(req, "dryRun");
        o.dry_run = dr && !strcmp(dr, "All");
        if (dr && *dr && strcmp(dr, "All"))
                return send_status(req, 400, "BadRequest", NULL, "Invalid dryRun value: %s", dr);
        o.field_validation = osb_http_query(req, "fieldValidation");
        o.label_selector = osb_http_query(req, "labelSelector");
        o.field_selector = osb_http_query(req, "fieldSelector");
        o.propagation = osb_http_query(req, "propagationPolicy");
        o.limit = query_int(req, "limit", 0);
        o.cont = osb_http_query(req, "continue");
        o.resource_version = osb_http_query(req, "resourceVersion");
        o.timeout_seconds = query_int(req, "timeoutSeconds", 0);
        o.allow_bookmarks = query_bool(req, "allowWatchBookmarks");
        o.include_object = osb_http_query(req, "includeObject");
        o.table = wants_table(req);
        if (!o.propagation && osb_http_query(req, "orphanDependents"))
                o.propagation = query_bool(req, "orphanDependents") ? "Orphan" : "Background";

        const char *m = req->method;
        struct api_result res = {0};
        bool watch = rt->watch_prefix || query_bool(req, "watch");
        if (!strcmp(m, "GET")) {
                if (watch) {
                        (void) snprintf(info->verb, sizeof(info->verb), "watch");
                        info->watch = true;
                        struct wstream *ws = osb_calloc(1, sizeof(*ws));
                        if (!ws)
                                return send_status(req, 500, "InternalError", NULL, "Internal error occurred: out of memory");
                        ws->srv = s;
                        ws->conn = req->conn;
                        unsigned c = api_watch_open(a, &t, &o, wstream_notify, ws, &ws->w, &res);
                        if (c) {
                                osb_free(ws);
                                return send_result(req, &res);
                        }
                        const char *headers[] = {"Cache-Control", "no-cache, private", NULL};
                        (void) osb_http_respond_stream(req, 200, "application/json", wstream_read, wstream_free, ws, headers);
                        return;
                }
                if (rt->name) {
                        (void) snprintf(info->verb, sizeof(info->verb), "get");
                        (void) api_get(a, &t, &o, &res);
                } else {
                        (void) snprintf(info->verb, sizeof(info->verb), "list");
                        (void) api_list(a, &t, &o, &res);
                }
                return send_result(req, &res);
        }
        if (watch)
                return method_not_allowed(req);
        if (!strcmp(m, "POST")) {
                (void) snprintf(info->verb, sizeof(info->verb), "create");
                if (rt->name)
                        return method_not_allowed(req);
                osb_autojson json_t *body = NULL;
                if (decode_body(req, false, &body) < 0)
                        return;
                (void) api_create(a, &t, body, &o, &res);
                return send_result(req, &res);
        }
        if (!strcmp(m, "PUT")) {
                (void) snprintf(info->verb, sizeof(info->verb), "update");
                if (!rt->name)
                        return method_not_allowed(req);
                osb_autojson json_t *body = NULL;
                if (decode_body(req, false, &body) < 0)
                        return;
                (void) api_update(a, &t, body, &o, &res);
                return send_result(req, &res);
        }
        if (!strcmp(m, "PATCH")) {
                (void) snprintf(info->verb, sizeof(info->verb), "patch");
                if (!rt->name)
                        return method_not_allowed(req);
                osb_autojson json_t *body = NULL;
                if (decode_body(req, true, &body) < 0)
                        return;
                (void) api_patch(a, &t, osb_http_header(req, "Content-Type"), body, &o, &res);
                return send_result(req, &res);
        }
        if (!strcmp(m, "DELETE")) {
                osb_autojson json_t *body = NULL;
                if (req->body.len) {
                        json_error_t jerr;
                        body = json_loadb(req->body.data, req->body.len, 0, &jerr);
                        if (!json_is_object(body))
                                return send_status(req, 400, "BadRequest", NULL,
                                                   "couldn't get version/kind; json parse error: line %d column %d: %s",
                                                   jerr.line, jerr.column, body ? "not an object" : jerr.text);
                }
                if (rt->name) {
                        (void) snprintf(info->verb, sizeof(info->verb), "delete");
                        (void) api_delete(a, &t, body, &o, &res);
                } else {
                        (void) snprintf(info->verb, sizeof(info->verb), "deletecollection");
                        (void) api_delete_collection(a, &t, body, &o, &res);
                }
                return send_result(req, &res);
        }
        method_not_allowed(req);
}

/* Fills @rt from the segments after the group/version. Returns 0 or -1 (no such path). */
static int parse_resource_path(char **seg, int n, struct route *rt)
{
        if (n > 0 && !strcmp(seg[0], "watch")) {
                rt->watch_prefix = true;
                seg++;
                n--;
        }
        if (n >= 3 && !strcmp(seg[0], "namespaces") && strcmp(seg[2], "status") && strcmp(seg[2], "finalize")) {
                rt->ns = seg[1];
                seg += 2;
                n -= 2;
        }
        if (n < 1 || n > 3)
                return -1;
        rt->resource = seg[0];
        rt->name = n >= 2 ? seg[1] : NULL;
        rt->sub = n == 3 ? seg[2] : NULL;
        if ((rt->ns && !*rt->ns) || (rt->name && !*rt->name) || !*rt->resource)
                return -1;
        return 0;
}

static void serve_version(struct osb_http_request *req)
{
        static const char v[] =
                "{\"major\":\"1\",\"minor\":\"32\",\"emulationMajor\":\"1\",\"emulationMinor\":\"32\","
                "\"minCompatibilityMajor\":\"1\",\"minCompatibilityMinor\":\"31\",\"gitVersion\":\"v1.32.0\","
                "\"gitCommit\":\"0000000000000000000000000000000000000000\",\"gitTreeState\":\"clean\","
                "\"buildDate\":\"2024-12-11T00:00:00Z\",\"goVersion\":\"go1.23.3\",\"compiler\":\"gc\","
                "\"platform\":\"linux/amd64\"}\n";
        (void) osb_http_respond_static(req, 200, "application/json", v, sizeof(v) - 1, NULL);
}

static void serve_openapi(struct server *s, struct osb_http_request *req, char **seg, int n)
{
        if (n == 2 && !strcmp(seg[1], "v2")) {
                const char *accept = osb_http_header(req, "Accept");
                if (accept && strstr(accept, "protobuf")) {
                        size_t len = 0;
                        char *pb = openapi_v2_protobuf(s->api->types, &len);
                        if (!pb)
                                return send_status(req, 500, "InternalError", NULL, "Internal error occurred: out of memory");
                        (void) osb_http_respond(req, 200, "application/com.github.proto-openapi.spec.v2.v1.0+protobuf", pb,
                                                len, true, NULL);
                        return;
                }
                return send_doc(req, openapi_v2_json(s->api->types));
        }
        if (n >= 2 && !strcmp(seg[1], "v3")) {
                if (n == 2)
                        return send_doc(req, openapi_v3_root(s->api->types));
                json_t *doc = NULL;
                if (n == 4 && !strcmp(seg[2], "api"))
                        doc = openapi_v3_group_version(s->api->types, "", seg[3]);
                else if (n == 5 && !strcmp(seg[2], "apis"))
                        doc = openapi_v3_group_version(s->api->types, seg[3], seg[4]);
                if (doc)
                        return send_doc(req, doc);
        }
        not_found_path(req);
}

void server_handle(void *userdata, struct osb_http_request *req)
{
        struct server *s = userdata;
        struct req_info *info = osb_calloc(1, sizeof(*info));
        if (!info)
                return send_status(req, 500, "InternalError", NULL, "Internal error occurred: out of memory");
        req->data = info;
        (void) snprintf(info->verb, sizeof(info->verb), "%s", req->method);
        if (s->ntokens) {
                const struct server_token *t = authenticate(s, osb_http_header(req, "Authorization"));
                if (!t)
                        return send_status(req, 401, "Unauthorized", NULL, "Unauthorized");
                (void) snprintf(info->user, sizeof(info->user), "%s", t->user);
        }
        if (req->body_too_large)
                return send_status(req, 413, "RequestEntityTooLarge", NULL, "Request entity too large: limit is %zu",
                                   s->max_body);
        static const char readyz_fail[] = "[-]shutdown failed: reason withheld\nreadyz check failed\n";
        const char *path = req->path;
        bool get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
        if (!strcmp(path, "/healthz") || !strcmp(path, "/livez") || !strcmp(path, "/readyz")) {
                if (!get)
                        return method_not_allowed(req);
                if (!strcmp(path, "/readyz") && atomic_load(&s->api->stopping))
                        return (void) osb_http_respond_static(req, 500, "text/plain; charset=utf-8",
                                                              readyz_fail, sizeof(readyz_fail) - 1, NULL);
                return (void) osb_http_respond_static(req, 200, "text/plain; charset=utf-8", "ok", 2, NULL);
        }
        if (!strcmp(path, "/version") || !strcmp(path, "/version/"))
                return get ? serve_version(req) : method_not_allowed(req);

        char buf[4096];
        char *seg[MAX_SEGMENTS];
        int n = split_path(path, buf, sizeof(buf), seg);
        if (n < 1)
                return not_found_path(req);
        if (!strcmp(seg[0], "openapi"))
                return get ? serve_openapi(s, req, seg, n) : method_not_allowed(req);
        struct route rt = {0};
        if (!strcmp(seg[0], "api")) {
                if (n == 1)
                        return get ? send_doc(req, types_api_versions(s->api->types, s->address)) : method_not_allowed(req);
                if (strcmp(seg[1], "v1"))
                        return not_found_path(req);
                if (n == 2) {
                        if (!get)
                                return method_not_allowed(req);
                        json_t *doc = types_resource_list(s->api->types, "", "v1");
                        return doc ? send_doc(req, doc) : not_found_path(req);
                }
                rt.group = "";
                rt.version = "v1";
                if (parse_resource_path(seg + 2, n - 2, &rt) < 0)
                        return not_found_path(req);
                return serve_resource(s, req, &rt, info);
        }
        if (!strcmp(seg[0], "apis")) {
                if (n == 1)
                        return get ? send_doc(req, types_group_list(s->api->types)) : method_not_allowed(req);
                if (n == 2) {
                        json_t *doc = types_group(s->api->types, seg[1]);
                        if (!doc)
                                return not_found_path(req);
                        if (!get) {
                                json_decref(doc);
                                return method_not_allowed(req);
                        }
                        return send_doc(req, doc);
                }
                if (n == 3) {
                        json_t *doc = types_resource_list(s->api->types, seg[1], seg[2]);
                        if (!doc)
                                return not_found_path(req);
                        if (!get) {
                                json_decref(doc);
                                return method_not_allowed(req);
                        }
                        return send_doc(req, doc);
                }
                rt.group = seg[1];
                rt.version = seg[2];
                if (parse_resource_path(seg + 3, n - 3, &rt) < 0)
                        return not_found_path(req);
                return serve_resource(s, req, &rt, info);
        }
        not_found_path(req);
}

void server_done(void *userdata, struct osb_http_request *req)
{
        struct req_info *info = req->data;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t now = (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
        char qpath[1100], quser[200];
        const char *ua = osb_http_header(req, "User-Agent");
        char qua[300];
        char qct[200], qacc[400];
        osb_log_info("request", "verb=%s path=%s status=%u duration_ms=%.1f user=%s user_agent=%s content_type=%s accept=%s",
                     info ? info->verb : req->method, osb_log_quote(qpath, sizeof(qpath), req->path), req->status,
                     (double) (now - req->start_ns) / 1e6, osb_log_quote(quser, sizeof(quser), info ? info->user : ""),
                     osb_log_quote(qua, sizeof(qua), ua),
                     osb_log_quote(qct, sizeof(qct), osb_http_header(req, "Content-Type")),
                     osb_log_quote(qacc, sizeof(qacc), osb_http_header(req, "Accept")));
        (void) userdata;
}
