/* kube/watch.h: list (paginated) and watch (a stream of JSON events) for any resource, and the
 * pure, incremental watch-stream parser underneath, which tests and fuzzers drive directly. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/osb_buf.h"
#include "common/osb_error.h"
#include "kube/client.h"

/* An event larger than this ends a watch with -E2BIG unless the options say otherwise. */
#define KUBE_WATCH_DEFAULT_MAX_EVENT (16u * 1024u * 1024u)

enum kube_event_type {
        KUBE_EVENT_ADDED,
        KUBE_EVENT_MODIFIED,
        KUBE_EVENT_DELETED,
        KUBE_EVENT_BOOKMARK,  /* only metadata.resourceVersion is meaningful */
};
/* "ADDED", ... */
const char *kube_event_type_name(enum kube_event_type type);

/* Called once per event with the object (borrowed: take a reference to keep it). Returns 0 to
 * go on, or a negative code to stop the watch, which then returns that code. */
typedef int (*kube_watch_fn)(enum kube_event_type type, json_t *object, void *userdata);

/* The watch-stream parser. The stream is a sequence of JSON objects
 * {"type": "ADDED", "object": {...}}, normally one per line; they are framed by their braces, so
 * any whitespace (or none) between them works and a chunk may end anywhere. */
struct kube_watch_parser {
        kube_watch_fn fn;
        void *userdata;
        struct osb_buf event;    /* the bytes of the event being received (max: max_event) */
        size_t depth;            /* brace/bracket nesting inside the current event */
        bool in_string, escape;
        int error;               /* sticky: the first failure */
        char *resource_version;  /* owned: metadata.resourceVersion of the last event, or NULL */
        size_t events;           /* events delivered */
};

void kube_watch_parser_init(struct kube_watch_parser *p, size_t max_event, kube_watch_fn fn,
                            void *userdata);
void kube_watch_parser_release(struct kube_watch_parser *p);
/* Consumes @len bytes, calling fn for each complete event. Returns 0, or the first failure
 * (it sticks: later calls return it again): -E2BIG for an event over max_event, -EBADMSG for
 * bytes that are not an event, OSB_E_GONE for an ERROR event with code 410 (the
 * resourceVersion is too old: list again) or a "Too large resource version" one,
 * kube_status_code() of another ERROR event's code, fn's own negative code, or -ENOMEM; @err
 * says why. Unknown event types are skipped. */
int kube_watch_parser_feed(struct kube_watch_parser *p, const char *data, size_t len,
                           struct osb_error *err);
/* Whether a metav1.Status is kube-apiserver's "Too large resource version" (504 Timeout with a
 * cause of reason ResourceVersionTooLarge): like 410, the resourceVersion cannot be served. */
bool kube_status_rv_too_large(const json_t *status);
/* At the end of the stream: 0, the sticky failure, or -EBADMSG when it ended inside an event. */
int kube_watch_parser_finish(struct kube_watch_parser *p, struct osb_error *err);

struct kube_list_options {
        const char *label_selector;  /* NULL: none */
        const char *field_selector;  /* NULL: none */
        unsigned limit;              /* page size; 0: 500 */
};

/* Called once per item (borrowed). Returns 0 to go on, negative to stop the list with it. */
typedef int (*kube_list_fn)(json_t *item, void *userdata);

/* Lists @res in @ns (NULL: all namespaces, or a cluster-scoped resource), page by page.
 * Returns 0 with *ret_resource_version (new; may be NULL to ignore) the list's
 * resourceVersion, from which to watch. A continue token that expired fails with OSB_E_GONE:
 * @fn has then seen some items already and the caller starts over. Other failures as
 * kube_get(), or @fn's code. */
int kube_list(struct kube_client *c, const struct kube_resource *res, const char *ns,
              const struct kube_list_options *opts, kube_list_fn fn, void *userdata,
              char **ret_resource_version, struct osb_error *err);

struct kube_watch_options {
        const char *resource_version; /* where to start (from kube_list() or the last event);
                                       * NULL: the server sends the current state as ADDED */
        const char *label_selector;
        const char *field_selector;
        unsigned timeout_s;           /* the server ends the watch after this; 0: 300 */
        bool allow_bookmarks;
        size_t max_event;             /* 0: KUBE_WATCH_DEFAULT_MAX_EVENT */
};

/* Watches @res in @ns (NULL: all namespaces) and calls @fn for each event until the server
 * closes the stream (normally at timeout_s). Returns 0 then, with *ret_resource_version (new;
 * may be NULL) the last resourceVersion seen, or opts->resource_version when there was no
 * event: watch again from there. OSB_E_GONE when the server cannot serve the resourceVersion
 * (HTTP 410 or an ERROR event with code 410: too old; or "Too large resource version", a 504
 * with the cause ResourceVersionTooLarge): list again. Otherwise @fn's code, a parser failure (see
 * kube_watch_parser_feed()), a failed status as kube_get(), or a kube_request() error. */
int kube_watch(struct kube_client *c, const struct kube_resource *res, const char *ns,
               const struct kube_watch_options *opts, kube_watch_fn fn, void *userdata,
               char **ret_resource_version, struct osb_error *err);
