/* kube/watch.c: paginated lists, and watches: the chunked response is cut into events by
 * tracking JSON nesting (strings and escapes included), each event bounded in size. */
#include "common/osb_compat.h"

#include "common/osb_mem.h"
#include "kube/watch.h"

#define DEFAULT_LIST_LIMIT 500u
#define DEFAULT_WATCH_TIMEOUT_S 300u
/* How long past timeoutSeconds a silent server is given before the watch is abandoned. */
#define WATCH_TIMEOUT_SLACK_S 60u

const char *kube_event_type_name(enum kube_event_type type)
{
        switch (type) {
        case KUBE_EVENT_ADDED: return "ADDED";
        case KUBE_EVENT_MODIFIED: return "MODIFIED";
        case KUBE_EVENT_DELETED: return "DELETED";
        case KUBE_EVENT_BOOKMARK: return "BOOKMARK";
        default: return "?";
        }
}

void kube_watch_parser_init(struct kube_watch_parser *p, size_t max_event, kube_watch_fn fn,
                            void *userdata)
{
        *p = (struct kube_watch_parser){.fn = fn, .userdata = userdata};
        osb_buf_init(&p->event, max_event ? max_event : KUBE_WATCH_DEFAULT_MAX_EVENT);
}

void kube_watch_parser_release(struct kube_watch_parser *p)
{
        osb_buf_release(&p->event);
        osb_free(p->resource_version);
        p->resource_version = NULL;
}

static int parser_fail(struct kube_watch_parser *p, int code, struct osb_error *err,
                       const char *fmt, ...) OSB_PRINTF(4, 5);

static int parser_fail(struct kube_watch_parser *p, int code, struct osb_error *err,
                       const char *fmt, ...)
{
        if (err) {
                va_list ap;
                va_start(ap, fmt);
                (void) vsnprintf(err->text, sizeof(err->text), fmt, ap);
                va_end(ap);
                err->code = code;
        }
        p->error = code;
        return code;
}

static int parse_type(const char *s, enum kube_event_type *ret)
{
        static const struct {
                const char *name;
                enum kube_event_type type;
        } types[] = {
                {"ADDED", KUBE_EVENT_ADDED},
                {"MODIFIED", KUBE_EVENT_MODIFIED},
                {"DELETED", KUBE_EVENT_DELETED},
                {"BOOKMARK", KUBE_EVENT_BOOKMARK},
        };
        for (size_t i = 0; i < OSB_ELEMENTSOF(types); i++)
                if (strcmp(s, types[i].name) == 0) {
                        *ret = types[i].type;
                        return 0;
                }
        return -ENOENT;
}

bool kube_status_rv_too_large(const json_t *status)
{
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(json_object_get(status, "details"), "causes"), i, c)
                if (osb_streq(json_string_value(json_object_get(c, "reason")), "ResourceVersionTooLarge"))
                        return true;
        return false;
}

/* An ERROR event carries a metav1.Status. */
static int error_event(struct kube_watch_parser *p, const json_t *status, struct osb_error *err)
{
        json_int_t code = json_integer_value(json_object_get(status, "code"));
        const char *reason = json_string_value(json_object_get(status, "reason"));
        const char *message = json_string_value(json_object_get(status, "message"));
        int r = code == 410 || kube_status_rv_too_large(status) ? OSB_E_GONE : kube_status_code((long) code);
        if (r == 0)
                r = OSB_E_BACKEND;
        return parser_fail(p, r, err, "watch ERROR event: %" JSON_INTEGER_FORMAT " %s%s%s", code,
                           reason ? reason : "", message ? ": " : "", message ? message : "");
}

static int deliver(struct kube_watch_parser *p, struct osb_error *err)
{
        json_error_t jerr;
        size_t failures = osb_mem_failures();
        json_t *ev = json_loadb(p->event.data, p->event.len, JSON_REJECT_DUPLICATES, &jerr);
        if (osb_mem_failures() != failures) {
                json_decref(ev);
                return parser_fail(p, -ENOMEM, err, "out of memory");
        }
        if (!ev)
                return parser_fail(p, -EBADMSG, err, "malformed watch event %zu at column %d: %s",
                                   p->events + 1, jerr.column, jerr.text);
        const char *type = json_string_value(json_object_get(ev, "type"));
        json_t *obj = json_object_get(ev, "object");
        int r = 0;
        enum kube_event_type t;
        if (!type || !json_is_object(obj)) {
                r = parser_fail(p, -EBADMSG, err, "watch event %zu lacks a \"type\" string or an "
                                "\"object\" object", p->events + 1);
        } else if (strcmp(type, "ERROR") == 0) {
                r = error_event(p, obj, err);
        } else if (parse_type(type, &t) == 0) {
                const char *rv = json_string_value(json_object_get(json_object_get(obj, "metadata"),
                                                                   "resourceVersion"));
                if (rv && *rv) {
                        char *copy = osb_strdup(rv);
                        if (!copy) {
                                json_decref(ev);
                                return parser_fail(p, -ENOMEM, err, "out of memory");
                        }
                        osb_free(p->resource_version);
                        p->resource_version = copy;
                }
                p->events++;
                r = p->fn ? p->fn(t, obj, p->userdata) : 0;
                if (r < 0)
                        r = parser_fail(p, r, err, "the %s event handler stopped the watch (%s)",
                                        type, osb_error_name(r));
        }
        /* Other types (none exist today) are skipped, so a newer server cannot wedge us. */
        json_decref(ev);
        return r;
}

int kube_watch_parser_feed(struct kube_watch_parser *p, const char *data, size_t len,
                           struct osb_error *err)
{
        if (p->error)
                return osb_error_set(err, p->error, "the watch stream failed before (%s)",
                                     osb_error_name(p->error));
        size_t i = 0;
        while (i < len) {
                if (p->depth == 0) {
                        char ch = data[i];
                        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
                                i++;
                                continue;
                        }
                        if (ch != '{')
                                return parser_fail(p, -EBADMSG, err,
                                                   "watch stream: unexpected byte 0x%02x between events",
                                                   (unsigned) (unsigned char) ch);
                }
                size_t start = i;
                bool complete = false;
                for (; i < len && !complete; i++) {
                        char ch = data[i];
                        if (p->in_string) {
                                if (p->escape)
                                        p->escape = false;
                                else if (ch == '\\')
                                        p->escape = true;
                                else if (ch == '"')
                                        p->in_string = false;
                                continue;
                        }
                        switch (ch) {
                        case '"':
                                p->in_string = true;
                                break;
                        case '{':
                        case '[':
                                p->depth++;
                                break;
                        case '}':
                        case ']':
                                if (--p->depth == 0)
                                        complete = true;
                                break;
                        default:
                                break;
                        }
                }
                int r = osb_buf_append(&p->event, data + start, i - start);
                if (r == -E2BIG)
                        return parser_fail(p, r, err, "watch event %zu is larger than %zu bytes",
                                           p->events + 1, p->event.max);
                if (r < 0)
                        return parser_fail(p, r, err, "out of memory");
                if (complete) {
                        r = deliver(p, err);
                        /* Keep the allocation for the next event. */
                        p->event.len = 0;
                        p->event.data[0] = '\0';
                        p->in_string = p->escape = false;
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int kube_watch_parser_finish(struct kube_watch_parser *p, struct osb_error *err)
{
        if (p->error)
                return osb_error_set(err, p->error, "the watch stream failed before (%s)",
                                     osb_error_name(p->error));
        if (p->depth > 0 || p->event.len > 0)
                return parser_fail(p, -EBADMSG, err, "the watch stream ended inside event %zu",
                                   p->events + 1);
        return 0;
}

static int add_selectors(char **path, const char *label_selector, const char *field_selector)
{
        int r = 0;
        if (label_selector && *label_selector)
                r = kube_path_add_query(path, "labelSelector", label_selector);
        if (r == 0 && field_selector && *field_selector)
                r = kube_path_add_query(path, "fieldSelector", field_selector);
        return r;
}

int kube_list(struct kube_client *c, const struct kube_resource *res, const char *ns,
              const struct kube_list_options *opts, kube_list_fn fn, void *userdata,
              char **ret_resource_version, struct osb_error *err)
{
        static const struct kube_list_options none = {0};
        if (!opts)
                opts = &none;
        char limit[24];
        (void) snprintf(limit, sizeof(limit), "%u", opts->limit ? opts->limit : DEFAULT_LIST_LIMIT);
        osb_autofree char *base = NULL;
        int r = kube_path(res, ns, NULL, NULL, &base);
        if (r == 0)
                r = kube_path_add_query(&base, "limit", limit);
        if (r == 0)
                r = add_selectors(&base, opts->label_selector, opts->field_selector);
        if (r < 0)
                return osb_error_set(err, r, "list %s: %s", res->plural ? res->plural : "(null)",
                                     r == -ENOMEM ? "out of memory" : "invalid resource or namespace");

        osb_autofree char *cont = NULL;
        osb_autofree char *rv = NULL;
        do {
                osb_autofree char *path = osb_strdup(base);
                if (!path || (cont && kube_path_add_query(&path, "continue", cont) < 0))
                        return osb_error_set(err, -ENOMEM, "out of memory");
                struct kube_response resp = {0};
                r = kube_request(c, "GET", path, NULL, NULL, &resp, err);
                if (r < 0)
                        return r;
                r = kube_response_error(c, "GET", path, &resp, err);
                json_t *items = json_object_get(resp.body, "items");
                json_t *meta = json_object_get(resp.body, "metadata");
                if (r == 0 && !json_is_array(items) && !json_is_null(items) && items)
                        r = osb_error_set(err, -EBADMSG, "GET %s%s: items is not an array",
                                          kube_client_config(c)->server, path);
                if (r == 0 && !resp.body)
                        r = osb_error_set(err, -EBADMSG, "GET %s%s: empty response",
                                          kube_client_config(c)->server, path);
                size_t i;
                json_t *item;
                if (r == 0 && json_is_array(items))
                        json_array_foreach(items, i, item) {
                                r = fn(item, userdata);
                                if (r < 0) {
                                        osb_error_set(err, r, "list %s: the item handler stopped (%s)",
                                                      res->plural, osb_error_name(r));
                                        break;
                                }
                        }
                const char *page_rv = json_string_value(json_object_get(meta, "resourceVersion"));
                const char *next = json_string_value(json_object_get(meta, "continue"));
                if (r == 0 && page_rv) {
                        osb_free(rv);
                        if (!(rv = osb_strdup(page_rv)))
                                r = osb_error_set(err, -ENOMEM, "out of memory");
                }
                if (r == 0 && next && *next && osb_streq(next, cont))
                        r = osb_error_set(err, -EBADMSG, "GET %s%s: the server returned the same continue token again",
                                          kube_client_config(c)->server, path);
                if (r == 0) {
                        char *n = next && *next ? osb_strdup(next) : NULL;
                        if (next && *next && !n)
                                r = osb_error_set(err, -ENOMEM, "out of memory");
                        osb_free(cont);
                        cont = n;
                }
                kube_response_release(&resp);
                if (r < 0)
                        return r;
        } while (cont);
        if (ret_resource_version)
                *ret_resource_version = OSB_TAKE_PTR(rv);
        return 0;
}

/* Carries the caller's callback and error detail through the parser. */
struct watch_ctx {
        struct kube_watch_parser parser;
        struct osb_error *err;
};

static int feed_ctx(const char *data, size_t len, void *userdata)
{
        struct watch_ctx *w = userdata;
        return kube_watch_parser_feed(&w->parser, data, len, w->err);
}

int kube_watch(struct kube_client *c, const struct kube_resource *res, const char *ns,
               const struct kube_watch_options *opts, kube_watch_fn fn, void *userdata,
               char **ret_resource_version, struct osb_error *err)
{
        static const struct kube_watch_options none = {0};
        if (!opts)
                opts = &none;
        unsigned timeout_s = opts->timeout_s ? opts->timeout_s : DEFAULT_WATCH_TIMEOUT_S;
        char timeout[24];
        (void) snprintf(timeout, sizeof(timeout), "%u", timeout_s);
        osb_autofree char *path = NULL;
        int r = kube_path(res, ns, NULL, NULL, &path);
        if (r == 0)
                r = kube_path_add_query(&path, "watch", "1");
        if (r == 0 && opts->resource_version && *opts->resource_version)
                r = kube_path_add_query(&path, "resourceVersion", opts->resource_version);
        if (r == 0 && opts->allow_bookmarks)
                r = kube_path_add_query(&path, "allowWatchBookmarks", "true");
        if (r == 0)
                r = kube_path_add_query(&path, "timeoutSeconds", timeout);
        if (r == 0)
                r = add_selectors(&path, opts->label_selector, opts->field_selector);
        if (r < 0)
                return osb_error_set(err, r, "watch %s: %s", res->plural ? res->plural : "(null)",
                                     r == -ENOMEM ? "out of memory" : "invalid resource or namespace");

        struct watch_ctx w = {.err = err};
        kube_watch_parser_init(&w.parser, opts->max_event, fn, userdata);
        long status = 0;
        struct kube_response error_resp = {0};
        r = kube_stream_get(c, path, (long) (timeout_s + WATCH_TIMEOUT_SLACK_S) * 1000L, feed_ctx, &w,
                            &status, &error_resp, err);
        if (r < 0 && r == w.parser.error)
                osb_error_prefix(err, "GET %s%s: ", kube_client_config(c)->server, path);
        if (r == 0 && status >= 300) {
                r = kube_response_error(c, "GET", path, &error_resp, err);
                /* "Too large resource version" (504 Timeout, cause ResourceVersionTooLarge:
                 * storage.NewTooLargeResourceVersionError in k8s.io/apiserver): the server cannot
                 * serve this resourceVersion either; client-go's reflector lists again. */
                if (status == 504 && kube_status_rv_too_large(error_resp.body))
                        r = OSB_E_GONE;
                kube_response_release(&error_resp);
        }
        if (r == 0) {
                r = kube_watch_parser_finish(&w.parser, err);
                if (r < 0)
                        osb_error_prefix(err, "GET %s%s: ", kube_client_config(c)->server, path);
        }
        if (r == 0 && ret_resource_version) {
                char *rv = w.parser.resource_version ? OSB_TAKE_PTR(w.parser.resource_version)
                         : opts->resource_version ? osb_strdup(opts->resource_version) : NULL;
                if (!rv && opts->resource_version)
                        r = osb_error_set(err, -ENOMEM, "out of memory");
                else
                        *ret_resource_version = rv;
        }
        kube_watch_parser_release(&w.parser);
        return r;
}
