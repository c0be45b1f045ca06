/* test/osb/osb-conformance.c: runs the OSB conformance cases of osb-spec/cases (format:
 * osb-spec/cases/README.md) against osb-broker. Each case gets a fresh broker with its own
 * temporary SQLite file. Prints "PASS name" or "FAIL name: step N: why" per case and a last
 * line "N passed, N failed"; exits 0 only when every case passed. */
#include "common/osb_compat.h"
#include "common/osb_buf.h"
#include "common/osb_mem.h"
#include "common/osb_parse.h"
#include "test/lib/broker_proc.h"
#include "test/lib/http_client.h"

#include <dirent.h>
#include <fnmatch.h>
#include <getopt.h>

#define USERNAME "osb"
#define PASSWORD "conformance-secret"
#define API_VERSION "2.17"
#define POLL_TIMEOUT_DEFAULT 10.0
#define POLL_INTERVAL_DEFAULT 0.1
#define BODY_SHOWN_MAX 400

struct options {
        const char *broker;
        const char *catalog;      /* NULL: CASES/catalog.json */
        const char *cases_dir;
        bool keep_logs;
        bool verbose;
        bool list;
        const char **only;        /* case name globs; NULL-terminated; owned array */
        size_t n_only;
};

/* One case being run. */
struct run {
        const struct options *opt;
        struct http_client *http;
        const char *name;
        char *dir;                /* CASES/name; owned */
        json_t *vars;             /* name -> string; owned */
        json_t *case_headers;     /* borrowed from the case document, or NULL */
        struct broker_proc *bp;
        char auth[128];           /* "Basic ..." for USERNAME:PASSWORD */
        char why[1536];           /* the failure, without the "step N: " prefix */
};

static int failf(struct run *run, const char *fmt, ...) OSB_PRINTF(2, 3);
static int failf(struct run *run, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(run->why, sizeof(run->why), fmt, ap);
        va_end(ap);
        return -1;
}

/* Appends to the failure text (used to add the body after a mismatch). */
static void fail_append(struct run *run, const char *fmt, ...) OSB_PRINTF(2, 3);
static void fail_append(struct run *run, const char *fmt, ...)
{
        size_t len = strlen(run->why);
        if (len + 1 >= sizeof(run->why))
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(run->why + len, sizeof(run->why) - len, fmt, ap);
        va_end(ap);
}

static void base64_encode(const char *in, char *out, size_t outsz)
{
        static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t n = strlen(in), k = 0;
        for (size_t i = 0; i < n && k + 5 < outsz; i += 3) {
                uint32_t v = (uint32_t) (unsigned char) in[i] << 16;
                if (i + 1 < n)
                        v |= (uint32_t) (unsigned char) in[i + 1] << 8;
                if (i + 2 < n)
                        v |= (unsigned char) in[i + 2];
                out[k++] = tbl[(v >> 18) & 63];
                out[k++] = tbl[(v >> 12) & 63];
                out[k++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
                out[k++] = i + 2 < n ? tbl[v & 63] : '=';
        }
        out[k] = '\0';
}

/* A response body for a message: at most BODY_SHOWN_MAX bytes, on one line. */
static void show_body(const struct http_response *resp, char *buf, size_t n)
{
        const char *b = resp->body.data ? resp->body.data : "";
        size_t len = resp->body.len;
        if (len == 0) {
                snprintf(buf, n, "(empty)");
                return;
        }
        size_t k = 0;
        for (size_t i = 0; i < len && i < BODY_SHOWN_MAX && k + 4 < n; i++)
                buf[k++] = (b[i] == '\n' || b[i] == '\r' || b[i] == '\0') ? ' ' : b[i];
        if (len > BODY_SHOWN_MAX && k + 4 < n) {
                memcpy(buf + k, "...", 3);
                k += 3;
        }
        buf[k] = '\0';
}

/* ---- variables ------------------------------------------------------------------------- */

/* Replaces every ${name} in @in by the variable's value. Returns a new string, or NULL with the
 * failure recorded in @run (unknown variable, OOM). */
static char *subst(struct run *run, const char *in)
{
        struct osb_buf b;
        osb_buf_init(&b, 1u << 20);
        const char *p = in;
        for (;;) {
                const char *s = strstr(p, "${");
                if (!s) {
                        if (osb_buf_appends(&b, p) < 0)
                                goto oom;
                        break;
                }
                const char *e = strchr(s + 2, '}');
                if (!e) {
                        osb_buf_release(&b);
                        failf(run, "unterminated ${ in \"%s\"", in);
                        return NULL;
                }
                char name[128];
                size_t nl = (size_t) (e - s - 2);
                if (nl == 0 || nl >= sizeof(name)) {
                        osb_buf_release(&b);
                        failf(run, "bad variable reference in \"%s\"", in);
                        return NULL;
                }
                memcpy(name, s + 2, nl);
                name[nl] = '\0';
                const char *v = json_string_value(json_object_get(run->vars, name));
                if (!v) {
                        osb_buf_release(&b);
                        failf(run, "variable ${%s} is not set (capture it in an earlier step)", name);
                        return NULL;
                }
                if (osb_buf_append(&b, p, (size_t) (s - p)) < 0 || osb_buf_appends(&b, v) < 0)
                        goto oom;
                p = e + 1;
        }
        char *out = osb_buf_detach(&b, NULL);
        if (!out)
                failf(run, "out of memory");
        return out;
oom:
        osb_buf_release(&b);
        failf(run, "out of memory");
        return NULL;
}

/* Substitutes variables in every string value of @j, in place. Returns 0 or -1. */
static int subst_json(struct run *run, json_t *j)
{
        if (json_is_string(j)) {
                if (!strstr(json_string_value(j), "${"))
                        return 0;
                osb_autofree char *s = subst(run, json_string_value(j));
                if (!s || json_string_set(j, s) < 0)
                        return s ? failf(run, "out of memory") : -1;
                return 0;
        }
        if (json_is_object(j)) {
                const char *k;
                json_t *v;
                json_object_foreach(j, k, v)
                        if (subst_json(run, v) < 0)
                                return -1;
        } else if (json_is_array(j)) {
                size_t i;
                json_t *v;
                json_array_foreach(j, i, v)
                        if (subst_json(run, v) < 0)
                                return -1;
        }
        return 0;
}

/* A copy of @j with variables substituted, or NULL (failure recorded). */
static json_t *subst_copy(struct run *run, const json_t *j)
{
        json_t *c = json_deep_copy(j);
        if (!c) {
                failf(run, "out of memory");
                return NULL;
        }
        if (subst_json(run, c) < 0) {
                json_decref(c);
                return NULL;
        }
        return c;
}

/* ---- matching -------------------------------------------------------------------------- */

enum {
        T_ANY = 1 << 0, T_ABSENT = 1 << 1, T_NULL = 1 << 2, T_STRING = 1 << 3,
        T_NONEMPTY = 1 << 4, T_NUMBER = 1 << 5, T_INTEGER = 1 << 6, T_BOOLEAN = 1 << 7,
        T_OBJECT = 1 << 8, T_ARRAY = 1 << 9,
};

/* "$string|null" and friends: returns the set of accepted types, or 0 if @s is not a type
 * matcher (then it is compared as a literal). */
static unsigned type_matcher(const char *s)
{
        static const struct {
                const char *name;
                unsigned bit;
        } types[] = {
                {"any", T_ANY}, {"absent", T_ABSENT}, {"null", T_NULL}, {"string", T_STRING},
                {"nonempty", T_NONEMPTY}, {"number", T_NUMBER}, {"integer", T_INTEGER},
                {"boolean", T_BOOLEAN}, {"object", T_OBJECT}, {"array", T_ARRAY},
        };
        if (s[0] != '$' || s[1] == '{' || s[1] == '\0')
                return 0;
        unsigned set = 0;
        const char *p = s + 1;
        while (*p) {
                size_t n = strcspn(p, "|");
                unsigned bit = 0;
                for (size_t i = 0; i < OSB_ELEMENTSOF(types); i++)
                        if (strlen(types[i].name) == n && strncmp(types[i].name, p, n) == 0)
                                bit = types[i].bit;
                if (!bit)
                        return 0;
                set |= bit;
                p += n;
                if (*p == '|')
                        p++;
        }
        return set;
}

static bool type_ok(unsigned set, const json_t *v)
{
        if (set & T_ANY)
                return true;
        switch (json_typeof(v)) {
        case JSON_NULL:
                return set & T_NULL;
        case JSON_STRING:
                return (set & T_STRING) || ((set & T_NONEMPTY) && json_string_length(v) > 0);
        case JSON_INTEGER:
                return set & (T_NUMBER | T_INTEGER);
        case JSON_REAL:
                return set & T_NUMBER;
        case JSON_TRUE:
        case JSON_FALSE:
                return set & T_BOOLEAN;
        case JSON_OBJECT:
                return set & T_OBJECT;
        case JSON_ARRAY:
                return set & T_ARRAY;
        }
        return false;
}

/* Compact JSON for messages, truncated. Rotates over four static buffers so that one message
 * can show several values. */
static const char *jshow(const json_t *j)
{
        static char bufs[4][256];
        static unsigned next;
        char *buf = bufs[next++ % OSB_ELEMENTSOF(bufs)];
        if (!j)
                return "(absent)";
        osb_autofree char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        snprintf(buf, sizeof(bufs[0]), "%s", s ? s : "?");
        if (s && strlen(s) >= sizeof(bufs[0]))
                memcpy(buf + sizeof(bufs[0]) - 4, "...", 4);
        return buf;
}

static void path_join(char *out, size_t n, const char *path, const char *key)
{
        snprintf(out, n, "%s%s%s", path, *path ? "." : "", key);
}

/* A string expectation: "*" = any non-empty string, a pattern with '*' = fnmatch(3), else
 * equality. */
static bool string_ok(const char *exp, const char *act)
{
        if (strcmp(exp, "*") == 0)
                return *act != '\0';
        if (strchr(exp, '*'))
                return fnmatch(exp, act, 0) == 0;
        return strcmp(exp, act) == 0;
}

/* Subset match of @act against @exp (see README.md). Returns 0 or -1 with the reason in @run. */
static int match(struct run *run, const json_t *exp, const json_t *act, const char *path)
{
        const char *where = *path ? path : "body";
        if (json_is_string(exp)) {
                unsigned set = type_matcher(json_string_value(exp));
                if (set) {
                        if (!act)
                                return (set & T_ABSENT) ? 0 : failf(run, "%s: expected %s, but it is absent",
                                                                     where, json_string_value(exp));
                        if (!type_ok(set, act))
                                return failf(run, "%s: expected %s, got %s", where,
                                             json_string_value(exp), jshow(act));
                        return 0;
                }
        }
        if (!act)
                return failf(run, "%s: expected %s, but it is absent", where, jshow(exp));
        switch (json_typeof(exp)) {
        case JSON_OBJECT: {
                if (!json_is_object(act))
                        return failf(run, "%s: expected an object, got %s", where, jshow(act));
                const char *k;
                json_t *v;
                json_object_foreach((json_t *) exp, k, v) {
                        char sub[512];
                        path_join(sub, sizeof(sub), path, k);
                        if (match(run, v, json_object_get(act, k), sub) < 0)
                                return -1;
                }
                return 0;
        }
        case JSON_ARRAY: {
                if (!json_is_array(act))
                        return failf(run, "%s: expected an array, got %s", where, jshow(act));
                if (json_array_size(act) != json_array_size(exp))
                        return failf(run, "%s: expected %zu elements, got %zu: %s", where,
                                     json_array_size(exp), json_array_size(act), jshow(act));
                size_t i;
                json_t *v;
                json_array_foreach(exp, i, v) {
                        char sub[512];
                        snprintf(sub, sizeof(sub), "%s%s%zu", path, *path ? "." : "", i);
                        if (match(run, v, json_array_get(act, i), sub) < 0)
                                return -1;
                }
                return 0;
        }
        case JSON_STRING:
                if (!json_is_string(act) || !string_ok(json_string_value(exp), json_string_value(act)))
                        return failf(run, "%s: expected %s, got %s", where, jshow(exp), jshow(act));
                return 0;
        case JSON_INTEGER:
        case JSON_REAL:
                if (!json_is_number(act) || json_number_value(act) != json_number_value(exp))
                        return failf(run, "%s: expected %s, got %s", where, jshow(exp), jshow(act));
                return 0;
        default:
                if (!json_equal((json_t *) exp, (json_t *) act))
                        return failf(run, "%s: expected %s, got %s", where, jshow(exp), jshow(act));
                return 0;
        }
}

/* Fails if anything exists at dotted @path ("a.*.b"; "*" walks every member) below @j. */
static int check_absent(struct run *run, const json_t *j, const char *path, const char *done)
{
        if (!*path)
                return failf(run, "%s: expected absent, got %s", *done ? done : "body", jshow(j));
        size_t n = strcspn(path, ".");
        char seg[256];
        if (n >= sizeof(seg))
                return failf(run, "absent path segment too long");
        memcpy(seg, path, n);
        seg[n] = '\0';
        const char *rest = path[n] ? path + n + 1 : "";
        char sub[512];
        if (strcmp(seg, "*") == 0) {
                if (json_is_object(j)) {
                        const char *k;
                        json_t *v;
                        json_object_foreach((json_t *) j, k, v) {
                                path_join(sub, sizeof(sub), done, k);
                                if (check_absent(run, v, rest, sub) < 0)
                                        return -1;
                        }
                } else if (json_is_array(j)) {
                        size_t i;
                        json_t *v;
                        json_array_foreach(j, i, v) {
                                snprintf(sub, sizeof(sub), "%s%s%zu", done, *done ? "." : "", i);
                                if (check_absent(run, v, rest, sub) < 0)
                                        return -1;
                        }
                }
                return 0;
        }
        const json_t *next = NULL;
        if (json_is_object(j)) {
                next = json_object_get(j, seg);
        } else if (json_is_array(j)) {
                int64_t idx;
                if (osb_parse_int64(seg, 0, INT64_MAX, &idx) == 0)
                        next = json_array_get(j, (size_t) idx);
        }
        if (!next)
                return 0;
        path_join(sub, sizeof(sub), done, seg);
        return check_absent(run, next, rest, sub);
}

/* Value at dotted @path (no wildcards) below @j, or NULL. */
static json_t *json_at(json_t *j, const char *path)
{
        while (j && *path) {
                size_t n = strcspn(path, ".");
                char seg[256];
                if (n >= sizeof(seg))
                        return NULL;
                memcpy(seg, path, n);
                seg[n] = '\0';
                path += path[n] ? n + 1 : n;
                if (json_is_object(j)) {
                        j = json_object_get(j, seg);
                } else if (json_is_array(j)) {
                        int64_t idx;
                        j = osb_parse_int64(seg, 0, INT64_MAX, &idx) == 0 ?
                                json_array_get(j, (size_t) idx) : NULL;
                } else {
                        j = NULL;
                }
        }
        return j;
}

/* ---- requests -------------------------------------------------------------------------- */

struct built_request {
        char *url;
        char *method;
        const char **headers;     /* name, value pairs, NULL-terminated; strings below */
        json_t *header_obj;       /* the merged header set (owns the strings) */
        char *body;
        size_t body_len;
        bool has_body;
};

static void built_request_release(struct built_request *b)
{
        osb_free(b->url);
        osb_free(b->method);
        osb_free(b->headers);
        json_decref(b->header_obj);
        osb_free(b->body);
        *b = (struct built_request){0};
}

/* Sets a header in @hdrs (a JSON null value marks it removed), replacing any of the same name
 * case-insensitively. Steals the reference to @value. */
static int header_put(json_t *hdrs, const char *name, json_t *value)
{
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(hdrs, tmp, k, v)
                if (strcasecmp(k, name) == 0)
                        json_object_del(hdrs, k);
        return json_object_set_new(hdrs, name, value);
}

static int merge_headers(struct run *run, json_t *into, const json_t *from, const char *what)
{
        if (!from)
                return 0;
        if (!json_is_object(from))
                return failf(run, "%s: \"headers\" must be an object", what);
        const char *k;
        json_t *v;
        json_object_foreach((json_t *) from, k, v) {
                if (!json_is_string(v) && !json_is_null(v))
                        return failf(run, "%s: header %s must be a string or null", what, k);
                if (header_put(into, k, json_incref(v)) < 0)
                        return failf(run, "out of memory");
        }
        return 0;
}

static char *read_file(const char *path, size_t *ret_len)
{
        FILE *f = fopen(path, "rb");
        if (!f)
                return NULL;
        struct osb_buf b;
        osb_buf_init(&b, 16u << 20);
        char chunk[4096];
        size_t n;
        bool ok = true;
        while (ok && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                ok = osb_buf_append(&b, chunk, n) == 0;
        ok = ok && !ferror(f);
        fclose(f);
        if (!ok) {
                osb_buf_release(&b);
                return NULL;
        }
        if (osb_buf_append(&b, "", 0) < 0) {  /* make data non-NULL for an empty file */
                osb_buf_release(&b);
                return NULL;
        }
        return osb_buf_detach(&b, ret_len);
}

static int build_request(struct run *run, const json_t *rq, unsigned step_no,
                         struct built_request *out)
{
        static const char *const known[] = {"method", "path", "headers", "body", "body_raw",
                                            "body_file"};
        const char *k;
        json_t *v;
        json_object_foreach((json_t *) rq, k, v) {
                bool ok = false;
                for (size_t i = 0; i < OSB_ELEMENTSOF(known); i++)
                        ok = ok || strcmp(k, known[i]) == 0;
                if (!ok)
                        return failf(run, "request: unknown key \"%s\"", k);
        }
        const char *method = json_string_value(json_object_get(rq, "method"));
        const char *path = json_string_value(json_object_get(rq, "path"));
        if (!method || !path || path[0] != '/')
                return failf(run, "request: \"method\" and \"path\" (starting with /) are required");
        out->method = osb_strdup(method);
        osb_autofree char *p = subst(run, path);
        if (!p)
                return -1;
        out->url = osb_asprintf("%s%s", broker_proc_url(run->bp), p);
        if (!out->method || !out->url)
                return failf(run, "out of memory");

        int n_bodies = !!json_object_get(rq, "body") + !!json_object_get(rq, "body_raw") +
                       !!json_object_get(rq, "body_file");
        if (n_bodies > 1)
                return failf(run, "request: use only one of body, body_raw, body_file");
        json_t *body = json_object_get(rq, "body");
        if (body) {
                json_auto_t *b = subst_copy(run, body);
                if (!b)
                        return -1;
                out->body = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY);
                if (!out->body)
                        return failf(run, "out of memory");
                out->body_len = strlen(out->body);
                out->has_body = true;
        } else if (json_object_get(rq, "body_raw")) {
                const char *raw = json_string_value(json_object_get(rq, "body_raw"));
                if (!raw)
                        return failf(run, "request: body_raw must be a string");
                out->body = subst(run, raw);
                if (!out->body)
                        return -1;
                out->body_len = strlen(out->body);
                out->has_body = true;
        } else if (json_object_get(rq, "body_file")) {
                const char *f = json_string_value(json_object_get(rq, "body_file"));
                if (!f || strchr(f, '/'))
                        return failf(run, "request: body_file must name a file in the case directory");
                osb_autofree char *fp = osb_asprintf("%s/%s", run->dir, f);
                if (!fp)
                        return failf(run, "out of memory");
                out->body = read_file(fp, &out->body_len);
                if (!out->body)
                        return failf(run, "cannot read %s", fp);
                out->has_body = true;
        }

        /* Headers: defaults, then the case's, then the step's; JSON null removes. */
        out->header_obj = json_object();
        char ident[256];
        snprintf(ident, sizeof(ident), "conformance-%s-step-%u", run->name, step_no);
        if (!out->header_obj ||
            header_put(out->header_obj, "Authorization", json_string(run->auth)) < 0 ||
            header_put(out->header_obj, "X-Broker-API-Version", json_string(API_VERSION)) < 0 ||
            header_put(out->header_obj, "X-Broker-API-Request-Identity", json_string(ident)) < 0 ||
            (out->has_body &&
             header_put(out->header_obj, "Content-Type", json_string("application/json")) < 0))
                return failf(run, "out of memory");
        if (merge_headers(run, out->header_obj, run->case_headers, "case") < 0 ||
            merge_headers(run, out->header_obj, json_object_get(rq, "headers"), "request") < 0)
                return -1;
        size_t n = json_object_size(out->header_obj);
        out->headers = osb_calloc(2 * n + 1, sizeof(char *));
        if (!out->headers)
                return failf(run, "out of memory");
        size_t i = 0;
        json_object_foreach(out->header_obj, k, v) {
                if (json_is_null(v))
                        continue;
                osb_autofree char *s = subst(run, json_string_value(v));
                if (!s)
                        return -1;
                if (json_object_set_new(out->header_obj, k, json_string(s)) < 0)
                        return failf(run, "out of memory");
                out->headers[i++] = k;
                out->headers[i++] = json_string_value(json_object_get(out->header_obj, k));
        }
        out->headers[i] = NULL;
        return 0;
}

/* ---- checking a response --------------------------------------------------------------- */

static const char *header_of(const struct built_request *rq, const char *name)
{
        for (size_t i = 0; rq->headers[i]; i += 2)
                if (strcasecmp(rq->headers[i], name) == 0)
                        return rq->headers[i + 1];
        return NULL;
}

static bool status_ok(const json_t *exp, long got)
{
        if (json_is_integer(exp))
                return json_integer_value(exp) == got;
        size_t i;
        json_t *v;
        json_array_foreach(exp, i, v)
                if (json_integer_value(v) == got)
                        return true;
        return false;
}

/* The rules every /v2 response must follow (README.md, "Invariants"). */
static int check_invariants(struct run *run, const struct built_request *rq, const char *path,
                            const struct http_response *resp, const json_t *body)
{
        const char *sent = header_of(rq, "X-Broker-API-Request-Identity");
        const char *echo = http_response_header(resp, "X-Broker-API-Request-Identity");
        if (sent && *sent && !osb_streq(sent, echo))
                return failf(run, "X-Broker-API-Request-Identity not echoed (sent \"%s\", got %s%s%s)",
                             sent, echo ? "\"" : "", echo ? echo : "none", echo ? "\"" : "");
        if (resp->status == 304)
                return resp->body.len ? failf(run, "304 with a body") : 0;
        if (resp->body.len == 0)
                return failf(run, "status %ld with an empty body (every response is a JSON object)",
                             resp->status);
        const char *ct = http_response_header(resp, "Content-Type");
        if (!ct || strncasecmp(ct, "application/json", 16) != 0)
                return failf(run, "Content-Type is %s, not application/json", ct ? ct : "absent");
        if (!json_is_object(body))
                return failf(run, "body is not a JSON object");
        json_t *desc = json_object_get(body, "description");
        if (desc && (!json_is_string(desc) || json_string_length(desc) == 0))
                return failf(run, "description must be a non-empty string, got %s", jshow(desc));
        if (resp->status >= 400 && resp->status != 410 && !desc)
                return failf(run, "error response %ld without a description", resp->status);
        json_t *error = json_object_get(body, "error");
        if (error) {
                static const char *const codes[] = {"AsyncRequired", "ConcurrencyError",
                                                    "RequiresApp", "MaintenanceInfoConflict"};
                bool known = false;
                for (size_t i = 0; json_is_string(error) && i < OSB_ELEMENTSOF(codes); i++)
                        known = known || strcmp(json_string_value(error), codes[i]) == 0;
                if (!known || resp->status != 422)
                        return failf(run, "\"error\" %s on a %ld response (only the four 422 codes "
                                     "of the spec may appear)", jshow(error), resp->status);
        }
        /* instance_usable / update_repeatable only for failed instance update/deprovision:
         * PATCH or DELETE of an instance, or its last_operation. */
        bool instance_path = strncmp(path, "/v2/service_instances/", 22) == 0 &&
                             !strstr(path + 22, "/service_bindings");
        bool may = instance_path &&
                   (strcmp(rq->method, "PATCH") == 0 || strcmp(rq->method, "DELETE") == 0 ||
                    strstr(path, "/last_operation"));
        if (!may && (json_object_get(body, "instance_usable") ||
                     json_object_get(body, "update_repeatable")))
                return failf(run, "instance_usable/update_repeatable on a %s %s response",
                             rq->method, path);
        return 0;
}

static int check_headers(struct run *run, const json_t *exp, const struct http_response *resp)
{
        const char *k;
        json_t *v;
        json_object_foreach((json_t *) exp, k, v) {
                const char *got = http_response_header(resp, k);
                if (json_is_null(v)) {
                        if (got)
                                return failf(run, "header %s: expected absent, got \"%s\"", k, got);
                        continue;
                }
                osb_autofree char *want = subst(run, json_string_value(v));
                if (!want)
                        return -1;
                if (!got)
                        return failf(run, "header %s: expected \"%s\", but it is absent", k, want);
                if (!string_ok(want, got))
                        return failf(run, "header %s: expected \"%s\", got \"%s\"", k, want, got);
        }
        return 0;
}

/* Checks @resp against the step's expectation. Returns 0 or -1 (reason in @run). */
static int check(struct run *run, const json_t *ex, const struct built_request *rq,
                 const char *path, const struct http_response *resp, json_t **ret_body)
{
        char shown[BODY_SHOWN_MAX + 8];
        show_body(resp, shown, sizeof(shown));
        json_t *st = json_object_get(ex, "status");
        if (!status_ok(st, resp->status)) {
                failf(run, "expected %s, got %ld; body %s", jshow(st), resp->status, shown);
                return -1;
        }
        bool raw = json_is_true(json_object_get(ex, "raw"));
        json_t *body = NULL;
        if (resp->body.len && !raw) {
                json_error_t jerr;
                body = json_loadb(resp->body.data, resp->body.len, JSON_DECODE_ANY, &jerr);
                if (!body)
                        return failf(run, "status %ld: body is not JSON (%s): %s", resp->status,
                                     jerr.text, shown);
        }
        *ret_body = body;
        int r = 0;
        if (!raw && strncmp(path, "/v2", 3) == 0)
                r = check_invariants(run, rq, path, resp, body);
        json_t *hx = json_object_get(ex, "headers");
        if (r == 0 && hx)
                r = check_headers(run, hx, resp);
        if (r == 0 && json_is_true(json_object_get(ex, "body_empty")) && resp->body.len)
                r = failf(run, "expected an empty body");
        json_t *bx = json_object_get(ex, "body");
        if (r == 0 && bx) {
                json_auto_t *want = subst_copy(run, bx);
                r = want ? match(run, want, body, "") : -1;
        }
        json_t *bex = json_object_get(ex, "body_exact");
        if (r == 0 && bex) {
                json_auto_t *want = subst_copy(run, bex);
                if (!want)
                        r = -1;
                else if (!body || !json_equal(want, body))
                        r = failf(run, "body: expected exactly %s", jshow(want));
        }
        json_t *ab = json_object_get(ex, "absent");
        size_t i;
        json_t *p;
        json_array_foreach(ab, i, p)
                if (r == 0)
                        r = check_absent(run, body, json_string_value(p), "");
        if (r < 0 && !strstr(run->why, "; body "))
                fail_append(run, "; body %s", shown);
        return r;
}

static int do_capture(struct run *run, const json_t *cap, const struct http_response *resp,
                      json_t *body)
{
        const char *name;
        json_t *spec;
        json_object_foreach((json_t *) cap, name, spec) {
                const char *from = json_string_value(spec);
                if (!from)
                        return failf(run, "capture %s: the source must be a string", name);
                json_t *val;
                if (strncmp(from, "header:", 7) == 0) {
                        const char *h = http_response_header(resp, from + 7);
                        if (!h)
                                return failf(run, "capture %s: no header %s", name, from + 7);
                        val = json_string(h);
                } else {
                        json_t *v = json_at(body, from);
                        if (json_is_string(v))
                                val = json_string(json_string_value(v));
                        else if (json_is_integer(v))
                                val = json_sprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
                        else
                                return failf(run, "capture %s: body has no string at \"%s\"", name, from);
                }
                if (!val || json_object_set_new(run->vars, name, val) < 0)
                        return failf(run, "out of memory");
        }
        return 0;
}

static void verbose_request(const struct built_request *rq)
{
        fprintf(stderr, "> %s %s\n", rq->method, rq->url);
        for (size_t i = 0; rq->headers[i]; i += 2)
                fprintf(stderr, "> %s: %s\n", rq->headers[i], rq->headers[i + 1]);
        if (rq->has_body)
                fprintf(stderr, "> %.*s\n", (int) OSB_MIN(rq->body_len, 2000u), rq->body);
}

static void verbose_response(const struct http_response *resp)
{
        fprintf(stderr, "< %ld\n", resp->status);
        for (size_t i = 0; i < resp->n_headers; i++)
                fprintf(stderr, "< %s: %s\n", resp->headers[i].name, resp->headers[i].value);
        if (resp->body.len)
                fprintf(stderr, "< %.*s\n", (int) OSB_MIN(resp->body.len, 2000u), resp->body.data);
}

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
        struct timespec ts = {.tv_sec = (time_t) s, .tv_nsec = (long) ((s - (double) (time_t) s) * 1e9)};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int check_keys(struct run *run, const json_t *obj, const char *what,
                      const char *const *known, size_t n)
{
        const char *k;
        json_t *v;
        json_object_foreach((json_t *) obj, k, v) {
                bool ok = false;
                for (size_t i = 0; i < n; i++)
                        ok = ok || strcmp(k, known[i]) == 0;
                if (!ok)
                        return failf(run, "%s: unknown key \"%s\"", what, k);
        }
        return 0;
}

static int validate_expect(struct run *run, const json_t *ex)
{
        static const char *const known[] = {"status", "headers", "body", "body_exact",
                                            "body_empty", "absent", "raw"};
        if (!json_is_object(ex))
                return failf(run, "\"expect\" must be an object");
        if (check_keys(run, ex, "expect", known, OSB_ELEMENTSOF(known)) < 0)
                return -1;
        json_t *st = json_object_get(ex, "status");
        bool st_ok = json_is_integer(st) || (json_is_array(st) && json_array_size(st) > 0);
        size_t i;
        json_t *v;
        json_array_foreach(st, i, v)
                st_ok = st_ok && json_is_integer(v);
        if (!st_ok)
                return failf(run, "expect: \"status\" (an integer or a list of them) is required");
        json_t *h = json_object_get(ex, "headers");
        if (h) {
                const char *k;
                if (!json_is_object(h))
                        return failf(run, "expect: \"headers\" must be an object");
                json_object_foreach(h, k, v)
                        if (!json_is_string(v) && !json_is_null(v))
                                return failf(run, "expect: header %s must be a string or null", k);
        }
        json_t *ab = json_object_get(ex, "absent");
        if (ab && !json_is_array(ab))
                return failf(run, "expect: \"absent\" must be a list of paths");
        json_array_foreach(ab, i, v)
                if (!json_is_string(v) || !json_string_length(v))
                        return failf(run, "expect: \"absent\" must be a list of paths");
        return 0;
}

/* Runs step @no (1-based). Returns 0 or -1 (reason in @run). */
static int run_step(struct run *run, const json_t *step, unsigned no)
{
        static const char *const known[] = {"name", "note", "request", "expect", "capture",
                                            "poll", "restart", "crash"};
        if (!json_is_object(step))
                return failf(run, "a step must be an object");
        if (check_keys(run, step, "step", known, OSB_ELEMENTSOF(known)) < 0)
                return -1;

        bool restart = json_is_true(json_object_get(step, "restart"));
        bool crash = json_is_true(json_object_get(step, "crash"));
        if (restart || crash) {
                struct osb_error err = OSB_ERROR_INIT;
                if (crash)
                        (void) broker_proc_kill(run->bp);
                if (broker_proc_restart(run->bp, &err) < 0)
                        return failf(run, "%s: %s", crash ? "crash+restart" : "restart", err.text);
                if (run->opt->verbose)
                        fprintf(stderr, "* broker %s, now at %s\n", crash ? "killed and restarted" :
                                "restarted", broker_proc_url(run->bp));
                if (json_object_get(step, "request"))
                        return failf(run, "a restart step has no request");
                return 0;
        }

        const json_t *rq = json_object_get(step, "request");
        const json_t *ex = json_object_get(step, "expect");
        if (!json_is_object(rq) || !ex)
                return failf(run, "a step needs \"request\" and \"expect\"");
        if (validate_expect(run, ex) < 0)
                return -1;
        double timeout = 0, interval = POLL_INTERVAL_DEFAULT;
        json_t *poll = json_object_get(step, "poll");
        if (json_is_number(poll)) {
                timeout = json_number_value(poll);
        } else if (json_is_object(poll)) {
                json_t *t = json_object_get(poll, "timeout"), *iv = json_object_get(poll, "interval");
                timeout = json_is_number(t) ? json_number_value(t) : POLL_TIMEOUT_DEFAULT;
                if (json_is_number(iv) && json_number_value(iv) > 0)
                        interval = json_number_value(iv);
        } else if (json_is_true(poll)) {
                timeout = POLL_TIMEOUT_DEFAULT;
        } else if (poll) {
                return failf(run, "\"poll\" must be true, seconds, or {timeout, interval}");
        }
        json_t *cap = json_object_get(step, "capture");
        if (cap && !json_is_object(cap))
                return failf(run, "\"capture\" must be an object");

        struct built_request brq = {0};
        struct http_response resp;
        osb_autofree char *path = NULL;  /* as sent, without the query: for the invariants */
        http_response_init(&resp);
        int r = build_request(run, rq, no, &brq);
        if (r < 0)
                goto out;
        path = osb_strdup(brq.url + strlen(broker_proc_url(run->bp)));
        if (!path) {
                r = failf(run, "out of memory");
                goto out;
        }
        path[strcspn(path, "?")] = '\0';

        double deadline = now_s() + timeout;
        unsigned attempts = 0;
        for (;;) {
                struct http_request hr = {
                        .method = brq.method, .url = brq.url, .headers = brq.headers,
                        .body = brq.body, .body_len = brq.body_len, .has_body = brq.has_body,
                };
                struct osb_error err = OSB_ERROR_INIT;
                if (run->opt->verbose)
                        verbose_request(&brq);
                attempts++;
                r = http_client_do(run->http, &hr, &resp, &err);
                if (r < 0) {
                        r = failf(run, "%s", err.text);
                } else {
                        if (run->opt->verbose)
                                verbose_response(&resp);
                        json_t *body = NULL;
                        r = check(run, ex, &brq, path, &resp, &body);
                        if (r == 0 && cap)
                                r = do_capture(run, cap, &resp, body);
                        json_decref(body);
                }
                if (r == 0 || timeout <= 0 || now_s() >= deadline)
                        break;
                sleep_s(interval);
        }
        if (r < 0 && timeout > 0) {
                char tmp[sizeof(run->why)];
                snprintf(tmp, sizeof(tmp), "%s", run->why);
                failf(run, "after polling %.1f s (%u requests): %s", timeout, attempts, tmp);
        }
out:
        http_response_release(&resp);
        built_request_release(&brq);
        return r;
}

/* ---- cases ----------------------------------------------------------------------------- */

/* Runs one case; prints its PASS/FAIL line. Returns true when it passed. */
static bool run_case(const struct options *opt, struct http_client *http, const char *name)
{
        struct run run = {.opt = opt, .http = http, .name = name};
        char userpass[] = USERNAME ":" PASSWORD;
        char b64[96];
        base64_encode(userpass, b64, sizeof(b64));
        snprintf(run.auth, sizeof(run.auth), "Basic %s", b64);

        bool ok = false;
        unsigned failed_step = 0;
        json_t *doc = NULL;
        run.dir = osb_asprintf("%s/%s", opt->cases_dir, name);
        run.vars = json_object();
        osb_autofree char *file = osb_asprintf("%s/%s/case.json", opt->cases_dir, name);
        osb_autofree char *catalog = opt->catalog ? osb_strdup(opt->catalog) :
                                     osb_asprintf("%s/catalog.json", opt->cases_dir);
        if (!run.dir || !run.vars || !file || !catalog) {
                failf(&run, "out of memory");
                goto done;
        }
        json_object_set_new(run.vars, "case", json_string(name));

        json_error_t jerr;
        doc = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
        if (!doc) {
                failf(&run, "%s:%d: %s", file, jerr.line, jerr.text);
                goto done;
        }
        static const char *const known[] = {"description", "covers", "headers", "steps"};
        if (!json_is_object(doc) || check_keys(&run, doc, file, known, OSB_ELEMENTSOF(known)) < 0) {
                if (!json_is_object(doc))
                        failf(&run, "%s: not a JSON object", file);
                goto done;
        }
        json_t *steps = json_object_get(doc, "steps");
        if (!json_is_array(steps) || json_array_size(steps) == 0 ||
            !json_is_string(json_object_get(doc, "description"))) {
                failf(&run, "%s: \"description\" and a non-empty \"steps\" list are required", file);
                goto done;
        }
        run.case_headers = json_object_get(doc, "headers");

        struct broker_proc_config cfg = {
                .broker = opt->broker, .catalog = catalog, .username = USERNAME,
                .password = PASSWORD, .log_level = "warn",
                .keep_dir_on_failure = opt->keep_logs,
        };
        struct osb_error err = OSB_ERROR_INIT;
        if (broker_proc_start(&cfg, &run.bp, &err) < 0) {
                failf(&run, "cannot start the broker: %s", err.text);
                goto done;
        }
        size_t i;
        json_t *step;
        ok = true;
        json_array_foreach(steps, i, step)
                if (run_step(&run, step, (unsigned) i + 1) < 0) {
                        failed_step = (unsigned) i + 1;
                        ok = false;
                        break;
                }
        err = (struct osb_error) OSB_ERROR_INIT;
        if (broker_proc_stop(run.bp, 0, &err) < 0 && ok) {
                failf(&run, "stopping the broker: %s", err.text);
                ok = false;
        }

done:
        if (ok) {
                printf("PASS %s\n", name);
        } else if (failed_step) {
                printf("FAIL %s: step %u: %s\n", name, failed_step, run.why);
        } else {
                printf("FAIL %s: %s\n", name, run.why);
        }
        if (!ok && opt->keep_logs && run.bp)
                printf("  kept %s (broker.log, broker.db)\n", broker_proc_dir(run.bp));
        fflush(stdout);
        broker_proc_free(run.bp, !ok && opt->keep_logs);
        json_decref(doc);
        json_decref(run.vars);
        osb_free(run.dir);
        return ok;
}

static bool selected(const struct options *opt, const char *name)
{
        if (opt->n_only == 0)
                return true;
        for (size_t i = 0; i < opt->n_only; i++)
                if (fnmatch(opt->only[i], name, 0) == 0)
                        return true;
        return false;
}

static int is_case_dir(const struct dirent *de)
{
        return de->d_name[0] != '.';
}

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: osb-conformance [OPTIONS] CASES_DIR [CASE...]\n"
                "Runs the OSB conformance cases in CASES_DIR (one directory per case) against\n"
                "osb-broker, each against a fresh broker process and database.\n\n"
                "  -b, --broker PATH   the broker program (default: $OSB_BROKER)\n"
                "  -c, --catalog FILE  catalog for the broker (default: CASES_DIR/catalog.json)\n"
                "  -n, --case GLOB     run only the cases whose name matches (repeatable; CASE\n"
                "                      arguments after CASES_DIR mean the same)\n"
                "  -k, --keep-logs     keep the temporary directory (broker.log, broker.db) of\n"
                "                      failed cases and print where it is\n"
                "  -v, --verbose       print every request and response on stderr\n"
                "  -l, --list          list the selected cases and exit\n"
                "  -h, --help          this text\n\n"
                "Prints PASS/FAIL per case and a last line \"N passed, N failed\"; exits 0 only\n"
                "when all selected cases pass (2 on usage errors or when no case matches).\n");
}

int main(int argc, char **argv)
{
        static const struct option longopts[] = {
                {"broker", required_argument, NULL, 'b'}, {"catalog", required_argument, NULL, 'c'},
                {"case", required_argument, NULL, 'n'},   {"keep-logs", no_argument, NULL, 'k'},
                {"verbose", no_argument, NULL, 'v'},      {"list", no_argument, NULL, 'l'},
                {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
        };
        struct options opt = {.broker = getenv("OSB_BROKER")};
        osb_mem_setup();
        setvbuf(stdout, NULL, _IOLBF, 0);
        opt.only = osb_calloc((size_t) argc + 1, sizeof(char *));
        if (!opt.only)
                return 2;
        int c;
        while ((c = getopt_long(argc, argv, "b:c:n:kvlh", longopts, NULL)) != -1) {
                switch (c) {
                case 'b':
                        opt.broker = optarg;
                        break;
                case 'c':
                        opt.catalog = optarg;
                        break;
                case 'n':
                        opt.only[opt.n_only++] = optarg;
                        break;
                case 'k':
                        opt.keep_logs = true;
                        break;
                case 'v':
                        opt.verbose = true;
                        break;
                case 'l':
                        opt.list = true;
                        break;
                case 'h':
                        usage(stdout);
                        osb_free(opt.only);
                        return 0;
                default:
                        usage(stderr);
                        osb_free(opt.only);
                        return 2;
                }
        }
        if (optind >= argc) {
                usage(stderr);
                osb_free(opt.only);
                return 2;
        }
        opt.cases_dir = argv[optind++];
        while (optind < argc)
                opt.only[opt.n_only++] = argv[optind++];
        if (!opt.list && (!opt.broker || !*opt.broker)) {
                fprintf(stderr, "osb-conformance: no broker: use --broker or set OSB_BROKER\n");
                osb_free(opt.only);
                return 2;
        }
        signal(SIGPIPE, SIG_IGN);

        struct dirent **names = NULL;
        int n = scandir(opt.cases_dir, &names, is_case_dir, alphasort);
        if (n < 0) {
                fprintf(stderr, "osb-conformance: %s: %s\n", opt.cases_dir, strerror(errno));
                osb_free(opt.only);
                return 2;
        }
        struct http_client *http = NULL;
        if (!opt.list && http_client_new(&http) < 0) {
                fprintf(stderr, "osb-conformance: cannot set up libcurl\n");
                osb_free(opt.only);
                return 2;
        }
        unsigned passed = 0, failed = 0, matched = 0;
        for (int i = 0; i < n; i++) {
                const char *name = names[i]->d_name;
                char file[PATH_MAX];
                struct stat sb;
                snprintf(file, sizeof(file), "%s/%s/case.json", opt.cases_dir, name);
                if (stat(file, &sb) < 0 || !selected(&opt, name))
                        continue;
                matched++;
                if (opt.list)
                        printf("%s\n", name);
                else if (run_case(&opt, http, name))
                        passed++;
                else
                        failed++;
        }
        for (int i = 0; i < n; i++)
                free(names[i]);  /* allocated by scandir(), not by us */
        free(names);
        http_client_free(http);
        osb_free(opt.only);
        if (matched == 0) {
                fprintf(stderr, "osb-conformance: no case matches\n");
                return 2;
        }
        if (opt.list)
                return 0;
        printf("%u passed, %u failed\n", passed, failed);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
