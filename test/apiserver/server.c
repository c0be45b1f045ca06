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
#include "test/apiserver/patch.h"
#include "test/apiserver/protobuf.h"
#include "test/apiserver/rbac.h"
#include "test/apiserver/server.h"
#include "test/apiserver/util.h"

#define MAX_SEGMENTS 10
#define MAX_GROUPS 32

struct req_info {
        char user[256];
        char verb[24];
        bool watch;
        bool authz;                     /* authorize this request (a token file is loaded) */
        const char *groups[MAX_GROUPS]; /* borrowed from the token, or into group_buf */
        size_t ngroups;
        char group_buf[1024];           /* impersonated groups */
};

/* ---- tokens ---- */

/* Tokens made by TokenRequest (serviceaccounts/NAME/token), for any server of this process.
 * Each names its service account; they do not expire (a test outlives none of them). */
struct issued_token {
        char token[80];
        char user[256];   /* system:serviceaccount:NS:NAME */
};
static pthread_mutex_t issued_lock = PTHREAD_MUTEX_INITIALIZER;
static struct issued_token *issued;
static size_t n_issued;

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

/* The groups field ("a,b", quoted or not) into t->groups. Returns 0 or -ENOMEM. */
static int split_groups(struct server_token *t, const char *s, size_t n)
{
        osb_autofree char *all = field_dup(s, n);
        if (!all)
                return -ENOMEM;
        for (const char *p = all; *p;) {
                size_t len = strcspn(p, ",");
                if (len) {
                        char **v = osb_realloc(t->groups, (t->ngroups + 1) * sizeof(*v));
                        if (!v)
                                return -ENOMEM;
                        t->groups = v;
                        if (!(v[t->ngroups] = osb_strndup(p, len)))
                                return -ENOMEM;
                        t->ngroups++;
                }
                p += len + (p[len] == ',');
        }
        return 0;
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
                const char *fields[4];
                size_t lens[4];
                const char *p = line;
                int n = 0;
                while (n < 4) {
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
                t->groups = NULL;
                t->ngroups = 0;
                s->ntokens++;
                if (n == 4 && split_groups(t, fields[3], lens[3]) < 0) {
                        r = osb_error_set(err, -ENOMEM, "out of memory");
                        break;
                }
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
                for (size_t g = 0; g < s->tokens[i].ngroups; g++)
                        osb_free(s->tokens[i].groups[g]);
                osb_free(s->tokens[i].groups);
        }
        osb_free(s->tokens);
        s->tokens = NULL;
        s->ntokens = 0;
        pthread_mutex_lock(&issued_lock);
        if (issued)
                explicit_bzero(issued, n_issued * sizeof(*issued));
        osb_free(issued);
        issued = NULL;
        n_issued = 0;
        pthread_mutex_unlock(&issued_lock);
}

/* The token of an "Authorization: Bearer TOKEN" header, or NULL. */
static const char *bearer_token(const char *authz)
{
        if (!authz || strncasecmp(authz, "Bearer ", 7) != 0)
                return NULL;
        const char *tok = authz + 7;
        while (*tok == ' ')
                tok++;
        return tok;
}

static const struct server_token *authenticate(const struct server *s, const char *authz)
{
        const char *tok = bearer_token(authz);
        if (!tok)
                return NULL;
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

/* The user of an issued bearer token into @user. Returns true when @authz carries one. */
static bool authenticate_issued(const char *authz, char *user, size_t n)
{
        const char *tok = bearer_token(authz);
        if (!tok)
                return false;
        bool found = false;
        pthread_mutex_lock(&issued_lock);
        for (size_t i = 0; i < n_issued && !found; i++)
                if (!strcmp(issued[i].token, tok)) {
                        (void) snprintf(user, n, "%s", issued[i].user);
                        found = true;
                }
        pthread_mutex_unlock(&issued_lock);
        return found;
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

/* ---- authorization ---- */

static struct rbac_user user_of(const struct req_info *info)
{
        return (struct rbac_user){.name = info->user, .groups = info->groups, .ngroups = info->ngroups};
}

static void forbidden(struct osb_http_request *req, const struct req_info *info, const struct rbac_attrs *at)
{
        char msg[1400];
        struct rbac_user u = user_of(info);
        (void) rbac_forbidden_message(&u, at, msg, sizeof(msg));
        json_t *d = json_object();
        if (d && at->resource_request) {
                if (at->name && *at->name)
                        (void) json_object_set_new(d, "name", json_string(at->name));
                if (at->group && *at->group)
                        (void) json_object_set_new(d, "group", json_string(at->group));
                (void) json_object_set_new(d, "kind", json_string(at->resource));
        }
        send_status(req, 403, "Forbidden", d, "%s", msg);
}

static bool allowed(struct server *s, const struct req_info *info, const struct rbac_attrs *at)
{
        if (!info->authz)
                return true;
        struct rbac_user u = user_of(info);
        store_lock(s->api->st);
        bool ok = rbac_authorize(s->api->st, &u, at);
        store_unlock(s->api->st);
        return ok;
}

/* Authorizes @at, or sends 403 Forbidden and returns false. */
static bool authorize(struct server *s, struct osb_http_request *req, const struct req_info *info,
                      const struct rbac_attrs *at)
{
        if (allowed(s, info, at))
                return true;
        forbidden(req, info, at);
        return false;
}

/* The verb of a non-resource request: the method in lower case (HEAD is a get). */
static void path_verb(const char *method, char *buf, size_t n)
{
        (void) snprintf(buf, n, "%s", !strcmp(method, "HEAD") ? "get" : method);
        for (char *p = buf; *p; p++)
                *p = (char) tolower((unsigned char) *p);
}

/* Impersonate-User (and one Impersonate-Group), as `kubectl --as` sends them: the requester
 * needs the verb impersonate on users (serviceaccounts for a ServiceAccount), and on groups.
 * Returns 0, or -1 with 403 sent. */
static int impersonate(struct server *s, struct osb_http_request *req, struct req_info *info, const char *as)
{
        const char *group = osb_http_header(req, "Impersonate-Group");
        struct rbac_attrs at = {.resource_request = true, .verb = "impersonate", .group = "", .resource = "users", .name = as};
        char sa_ns[256] = "";
        const char *pfx = "system:serviceaccount:";
        const char *rest = !strncmp(as, pfx, strlen(pfx)) ? as + strlen(pfx) : NULL;
        const char *colon = rest ? strchr(rest, ':') : NULL;
        if (colon) {
                (void) snprintf(sa_ns, sizeof(sa_ns), "%.*s", (int) (colon - rest), rest);
                at.resource = "serviceaccounts";
                at.ns = sa_ns;
                at.name = colon + 1;
        }
        if (!authorize(s, req, info, &at))
                return -1;
        if (group) {
                struct rbac_attrs ag = {.resource_request = true, .verb = "impersonate", .group = "", .resource = "groups",
                                        .name = group};
                if (!authorize(s, req, info, &ag))
                        return -1;
        }
        (void) snprintf(info->user, sizeof(info->user), "%s", as);
        (void) snprintf(info->group_buf, sizeof(info->group_buf), "%s", group ? group : "");
        info->groups[0] = info->group_buf;
        info->ngroups = group ? 1 : 0;
        return 0;
}

/* POST selfsubjectaccessreviews / subjectaccessreviews: whether the requester (or spec.user and
 * spec.groups) may do spec.resourceAttributes or spec.nonResourceAttributes. Never stored. */
static void serve_review(struct server *s, struct osb_http_request *req, const struct kt_type *type,
                         struct req_info *info)
{
        (void) snprintf(info->verb, sizeof(info->verb), "create");
        if (strcmp(req->method, "POST") != 0)
                return method_not_allowed(req);
        osb_autojson json_t *body = NULL;
        if (decode_body(req, false, &body) < 0)
                return;
        json_t *spec = json_object_get(body, "spec");
        json_t *ra = json_object_get(spec, "resourceAttributes"), *na = json_object_get(spec, "nonResourceAttributes");
        if (!json_is_object(ra) == !json_is_object(na)) {
                json_t *causes = json_pack("[{s:s, s:s, s:s}]", "reason", "FieldValueInvalid", "message",
                                           "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes "
                                           "must be specified", "field", "spec.resourceAttributes");
                json_t *d = json_pack("{s:s, s:s, s:o}", "group", type->group, "kind", type->kind, "causes", causes);
                return send_status(req, 422, "Invalid", d, "%s.%s \"\" is invalid: spec.resourceAttributes: Invalid value: "
                                   "\"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified",
                                   type->kind, type->group);
        }
        struct rbac_attrs at = {.resource_request = ra != NULL};
        json_t *attrs = ra ? ra : na;
        at.verb = util_json_str2(attrs, "verb", NULL);
        at.group = util_json_str2(attrs, "group", NULL);
        at.resource = util_json_str2(attrs, "resource", NULL);
        at.subresource = util_json_str2(attrs, "subresource", NULL);
        at.ns = util_json_str2(attrs, "namespace", NULL);
        at.name = util_json_str2(attrs, "name", NULL);
        at.path = util_json_str2(attrs, "path", NULL);
        struct req_info subject = *info;
        if (type->builtin == BT_SAR) {
                (void) snprintf(subject.user, sizeof(subject.user), "%s", util_json_str2(spec, "user", NULL) ?: "");
                subject.ngroups = 0;
                size_t i;
                json_t *g;
                json_array_foreach(json_object_get(spec, "groups"), i, g)
                        if (json_is_string(g) && subject.ngroups < MAX_GROUPS)
                                subject.groups[subject.ngroups++] = json_string_value(g);
        }
        bool ok = allowed(s, &subject, &at);
        json_t *out = json_deep_copy(body);
        if (!out || json_object_set_new(out, "apiVersion", json_string(type->api_version)) < 0 ||
            json_object_set_new(out, "kind", json_string(type->kind)) < 0 ||
            json_object_set_new(out, "metadata", json_pack("{s:n}", "creationTimestamp")) < 0 ||
            json_object_set_new(out, "status", json_pack("{s:b}", "allowed", ok)) < 0) {
                json_decref(out);
                return send_status(req, 500, "InternalError", NULL, "Internal error occurred: out of memory");
        }
        send_json(req, 201, out, NULL);
        json_decref(out);
}

/* The autoscaling/v1 Scale of a Deployment or StatefulSet (new reference, NULL on OOM). */
static json_t *scale_of(const json_t *d)
{
        json_t *meta = json_object_get(d, "metadata");
        char sel[1024] = "";
        size_t n = 0;
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(json_object_get(json_object_get(d, "spec"), "selector"), "matchLabels"), k, v)
                n += (size_t) snprintf(sel + OSB_MIN(n, sizeof(sel) - 1), sizeof(sel) - OSB_MIN(n, sizeof(sel) - 1), "%s%s=%s",
                                       n ? "," : "", k, json_string_value(v) ?: "");
        json_t *st = json_object_get(d, "status");
        return json_pack("{s:s, s:s, s:{s:O*, s:O*, s:O*, s:O*, s:O*}, s:{s:O*}, s:{s:I, s:s}}", "kind", "Scale", "apiVersion",
                         "autoscaling/v1", "metadata", "name", json_object_get(meta, "name"), "namespace",
                         json_object_get(meta, "namespace"), "uid", json_object_get(meta, "uid"), "resourceVersion",
                         json_object_get(meta, "resourceVersion"), "creationTimestamp",
                         json_object_get(meta, "creationTimestamp"), "spec", "replicas",
                         json_object_get(json_object_get(d, "spec"), "replicas"), "status", "replicas",
                         (json_int_t) json_integer_value(json_object_get(st, "replicas")), "selector", sel);
}

/* deployments/NAME/scale and statefulsets/NAME/scale: GET, PUT and PATCH (merge) of the Scale,
 * which reads and writes the object's spec.replicas. */
static void serve_scale(struct server *s, struct osb_http_request *req, const struct api_target *t)
{
        struct api_target dt = {.type = t->type, .ns = t->ns, .name = t->name};
        struct api_opts o = API_OPTS_INIT;
        struct api_result res = {0};
        if (api_get(s->api, &dt, &o, &res) != 200)
                return send_result(req, &res);
        osb_autojson json_t *cur = scale_of(res.body);
        api_result_release(&res);
        if (!cur)
                return send_status(req, 500, "InternalError", NULL, "Internal error occurred: out of memory");
        if (!strcmp(req->method, "GET"))
                return send_json(req, 200, cur, NULL);
        bool put = !strcmp(req->method, "PUT");
        if (!put && strcmp(req->method, "PATCH") != 0)
                return method_not_allowed(req);
        osb_autojson json_t *body = NULL;
        if (decode_body(req, false, &body) < 0)
                return;
        const char *ct = osb_http_header(req, "Content-Type");
        if (!put && (!ct || strncasecmp(ct, "application/merge-patch+json", 28) != 0) &&
            strncasecmp(ct ? ct : "", "application/strategic-merge-patch+json", 39) != 0)
                return send_status(req, 415, "UnsupportedMediaType", NULL,
                                   "the body of the request was in an unknown format - accepted media types include: "
                                   "application/merge-patch+json, application/strategic-merge-patch+json");
        osb_autojson json_t *want = NULL;
        if (put)
                want = json_incref(body);
        else if (patch_merge(cur, body, &want) < 0)
                return send_status(req, 500, "InternalError", NULL, "Internal error occurred: out of memory");
        json_t *replicas = json_object_get(json_object_get(want, "spec"), "replicas");
        if (!json_is_integer(replicas) || json_integer_value(replicas) < 0) {
                char v[32] = "null";
                if (json_is_integer(replicas))
                        (void) snprintf(v, sizeof(v), "%" JSON_INTEGER_FORMAT, json_integer_value(replicas));
                return send_status(req, 422, "Invalid", NULL, "Scale.autoscaling \"%s\" is invalid: spec.replicas: Invalid "
                                   "value: %s: must be greater than or equal to 0", t->name, v);
        }
        osb_autojson json_t *p = json_pack("{s:{s:O}}", "spec", "replicas", replicas);
        if (!p)
                return send_status(req, 500, "InternalError", NULL, "Internal error occurred: out of memory");
        if (api_patch(s->api, &dt, "application/merge-patch+json", p, &o, &res) != 200)
                return send_result(req, &res);
        json_t *out = scale_of(res.body);
        api_result_release(&res);
        if (!out)
                return send_status(req, 500, "InternalError", NULL, "Internal error occurred: out of memory");
        send_json(req, 200, out, NULL);
        json_decref(out);
}

/* serviceaccounts/NAME/token: POST of an authentication.k8s.io/v1 TokenRequest (what "kubectl
 * create token" sends) makes a bearer token that authenticates as the service account. As
 * kube-apiserver: the account must exist, spec.expirationSeconds defaults to 3600 and may not be
 * under 600, and the answer is the TokenRequest with status.token and expirationTimestamp. */
static void serve_token(struct server *s, struct osb_http_request *req, const struct api_target *t)
{
        if (strcmp(req->method, "POST") != 0)
                return method_not_allowed(req);
        osb_autojson json_t *body = NULL;
        if (decode_body(req, false, &body) < 0)
                return;
        const char *kind = util_json_str2(body, "kind", NULL);
        if (kind && strcmp(kind, "TokenRequest") != 0)
                return send_status(req, 400, "BadRequest", NULL, "the body of the request must be a TokenRequest, not %s",
                                   kind);
        const json_t *spec = json_object_get(body, "spec");
        const json_t *exp = json_object_get(spec, "expirationSeconds");
        json_int_t seconds = json_is_integer(exp) ? json_integer_value(exp) : 3600;
        if (seconds < 600)
                return send_status(req, 422, "Invalid", NULL, "TokenRequest.authentication.k8s.io \"%s\" is invalid: "
                                   "spec.expirationSeconds: Invalid value: %" JSON_INTEGER_FORMAT ": may not specify "
                                   "a duration less than 10 minutes", t->name, seconds);
        struct api_target sa = {.type = t->type, .ns = t->ns, .name = t->name};
        struct api_opts o = API_OPTS_INIT;
        struct api_result res = {0};
        if (api_get(s->api, &sa, &o, &res) != 200)
                return send_result(req, &res);
        api_result_release(&res);

        struct issued_token it = {0};
        char a[37], b[37];
        util_uuid(a);
        util_uuid(b);
        (void) snprintf(it.token, sizeof(it.token), "kts-%s%s", a, b);
        (void) snprintf(it.user, sizeof(it.user), "system:serviceaccount:%s:%s", t->ns, t->name);
        pthread_mutex_lock(&issued_lock);
        struct issued_token *v = osb_realloc(issued, (n_issued + 1) * sizeof(*v));
        if (v) {
                issued = v;
                issued[n_issued++] = it;
        }
        pthread_mutex_unlock(&issued_lock);
        if (!v)
                return send_status(req, 500, "InternalError", NULL, "Internal error occurred: out of memory");

        char now[40], until[40];
        time_t t0 = time(NULL);
        util_time_rfc3339(t0, now, sizeof(now));
        util_time_rfc3339(t0 + (time_t) seconds, until, sizeof(until));
        json_t *aud = json_object_get(spec, "audiences");
        aud = json_array_size(aud) ? json_incref(aud) : json_pack("[s]", "https://kubernetes.default.svc.cluster.local");
        osb_autojson json_t *out = json_pack(
                "{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:o, s:I, s:n}, s:{s:s, s:s}}", "kind", "TokenRequest", "apiVersion",
                "authentication.k8s.io/v1", "metadata", "name", t->name, "namespace", t->ns, "creationTimestamp", now,
                "spec", "audiences", aud, "expirationSeconds", seconds, "boundObjectRef", "status", "token", it.token,
                "expirationTimestamp", until);
        explicit_bzero(it.token, sizeof(it.token));
        if (!out)
                return send_status(req, 500, "InternalError", NULL, "Internal error occurred: out of memory");
        send_json(req, 201, out, NULL);
}

/* The authorizer's verb of a resource request. */
static const char *resource_verb(const struct osb_http_request *req, const struct route *rt)
{
        const char *m = req->method;
        if (!strcmp(m, "GET") || !strcmp(m, "HEAD"))
                return rt->watch_prefix || query_bool(req, "watch") ? "watch" : rt->name ? "get" : "list";
        if (!strcmp(m, "POST"))
                return "create";
        if (!strcmp(m, "PUT"))
                return "update";
        if (!strcmp(m, "PATCH"))
                return "patch";
        if (!strcmp(m, "DELETE"))
                return rt->name ? "delete" : "deletecollection";
        return "";
}

static void serve_resource(struct server *s, struct osb_http_request *req, struct route *rt, struct req_info *info)
{
        struct api *a = s->api;
        struct rbac_attrs at = {.resource_request = true, .verb = resource_verb(req, rt), .group = rt->group,
                                .resource = rt->resource, .subresource = rt->sub, .ns = rt->ns, .name = rt->name};
        if (!*rt->group && !strcmp(rt->resource, "namespaces") && rt->name)
                at.ns = rt->name;  /* a namespace is in itself */
        (void) snprintf(info->verb, sizeof(info->verb), "%s", *at.verb ? at.verb : req->method);
        if (!authorize(s, req, info, &at))
                return;
        osb_auto(kt_type_unrefp) struct kt_type *type = types_find(a->types, rt->group, rt->version, rt->resource);
        if (!type)
                return not_found_path(req);
        if (type->builtin == BT_SSAR || type->builtin == BT_SAR)
                return rt->name || rt->ns || rt->sub ? not_found_path(req) : serve_review(s, req, type, info);
        if ((rt->ns && !type->namespaced) || (!rt->ns && type->namespaced && rt->name))
                return not_found_path(req);
        if (rt->sub && !((!strcmp(rt->sub, "status") && type->has_status) ||
                         (!strcmp(rt->sub, "finalize") && type->builtin == BT_NAMESPACE) ||
                         (!strcmp(rt->sub, "scale") && (type->builtin == BT_DEPLOYMENT || type->builtin == BT_STATEFULSET)) ||
                         (!strcmp(rt->sub, "token") && type->builtin == BT_SERVICEACCOUNT)))
                return not_found_path(req);
        struct api_target t = {.type = type, .ns = rt->ns, .name = rt->name, .sub = rt->sub};
        if (rt->sub && !strcmp(rt->sub, "token"))
                return rt->watch_prefix ? method_not_allowed(req) : serve_token(s, req, &t);
        if (rt->sub && !strcmp(rt->sub, "scale"))
                return rt->watch_prefix || query_bool(req, "watch") ? method_not_allowed(req) : serve_scale(s, req, &t);
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
                const char *authz = osb_http_header(req, "Authorization");
                const struct server_token *t = authenticate(s, authz);
                if (t) {
                        (void) snprintf(info->user, sizeof(info->user), "%s", t->user);
                        for (size_t i = 0; i < t->ngroups && i < MAX_GROUPS; i++)
                                info->groups[info->ngroups++] = t->groups[i];
                } else if (!authenticate_issued(authz, info->user, sizeof(info->user))) {
                        /* (a service account's groups follow from its name: rbac_user_in_group) */
                        return send_status(req, 401, "Unauthorized", NULL, "Unauthorized");
                }
                info->authz = true;
                const char *as = osb_http_header(req, "Impersonate-User");
                if (as && *as && impersonate(s, req, info, as) < 0)
                        return;
        }
        if (req->body_too_large)
                return send_status(req, 413, "RequestEntityTooLarge", NULL, "Request entity too large: limit is %zu",
                                   s->max_body);
        char buf[4096];
        char *seg[MAX_SEGMENTS];
        int n = split_path(req->path, buf, sizeof(buf), seg);
        bool resource = n > 0 && ((!strcmp(seg[0], "api") && n >= 3) || (!strcmp(seg[0], "apis") && n >= 4));
        if (!resource) {
                char verb[16];
                path_verb(req->method, verb, sizeof(verb));
                struct rbac_attrs at = {.verb = verb, .path = req->path};
                if (!authorize(s, req, info, &at))
                        return;
        }
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
        const char *ua = osb_http_header(req, "User-Agent");
        const char *ct = osb_http_header(req, "Content-Type"), *acc = osb_http_header(req, "Accept");
        osb_log_info("request", "verb=%s path=%s status=%u duration_ms=%.1f user=%s user_agent=%s content_type=%s accept=%s",
                     info ? info->verb : req->method, req->path, req->status, (double) (now - req->start_ns) / 1e6,
                     info ? info->user : "", ua ? ua : "", ct ? ct : "", acc ? acc : "");
        (void) userdata;
}
