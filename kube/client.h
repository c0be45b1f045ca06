/* kube/client.h: a Kubernetes API client over libcurl, JSON only. One client serves any number
 * of threads: each request borrows a curl handle from a small pool, so connections are kept
 * alive and reused. Errors name the method, the URL and the HTTP status, e.g.
 * "PUT https://127.0.0.1:6443/apis/servicecatalog.k8s.io/v1beta1/clusterservicebrokers/b: 409
 * Conflict: Operation cannot be fulfilled ...". */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/osb_error.h"
#include "kube/config.h"

struct kube_client;

struct kube_client_options {
        long connect_timeout_ms;  /* 0: 10000 */
        long request_timeout_ms;  /* whole request, except watches; 0: 60000 */
        size_t max_body;          /* response bodies larger than this fail with -E2BIG;
                                   * 0: 64 MiB (big lists) */
        unsigned max_idle;        /* curl handles (each with its connections) kept between
                                   * requests; 0: 8 */
};

/* Creates a client for @cfg, which it steals (also on failure). @opts may be NULL (defaults).
 * Returns 0 with *ret new (free with kube_client_free()), or -ENOMEM / -EIO with @err. */
int kube_client_new(struct kube_config *cfg, const struct kube_client_options *opts,
                    struct kube_client **ret, struct osb_error *err);
/* NULL-safe; returns NULL. No request may be in progress. */
struct kube_client *kube_client_free(struct kube_client *c);
void kube_client_freep(struct kube_client **c);
/* Borrowed; lives as long as the client. Its fields must not change while requests run. */
struct kube_config *kube_client_config(struct kube_client *c);

/* Makes every request in progress (watches included) and every later one fail with -ECANCELED,
 * at once: the client's sockets are shut down. Thread-safe; for shutdown. */
void kube_client_cancel(struct kube_client *c);

/* A response: the status and, when the body was JSON, the parsed body. For a status >= 300
 * whose body is a metav1.Status, reason and message are copied out of it; for other bodies,
 * message holds the start of the body text. */
struct kube_response {
        long status;
        json_t *body;    /* new, or NULL when the body was empty or not JSON */
        char *reason;    /* new, or NULL: Status.reason ("NotFound", "AlreadyExists", ...) */
        char *message;   /* new, or NULL */
};
void kube_response_release(struct kube_response *r);

/* Sends one request. @path is absolute on the server and already encoded, query included
 * ("/api/v1/namespaces/default/secrets/x?dryRun=All"). @body (borrowed, may be NULL) is sent as
 * @content_type (NULL: "application/json"). Returns 0 with *ret filled in (release it with
 * kube_response_release()) for any HTTP status; a 2xx body that is not JSON is -EBADMSG.
 * Transport failures: -ETIMEDOUT, -ECONNREFUSED, -EPROTO (TLS), -EIO, -E2BIG (body over
 * max_body), -ECANCELED, -ENOMEM; @err names the method and URL. */
int kube_request(struct kube_client *c, const char *method, const char *path, const json_t *body,
                 const char *content_type, struct kube_response *ret, struct osb_error *err);

/* The error code for an HTTP status: 400 OSB_E_BAD_REQUEST, 401 OSB_E_UNAUTHORIZED,
 * 403 -EACCES, 404 OSB_E_NOT_FOUND, 405 OSB_E_METHOD, 409 OSB_E_CONFLICT, 410 OSB_E_GONE,
 * 413 OSB_E_TOO_LARGE, 415 OSB_E_UNSUPPORTED_MEDIA, 422 OSB_E_UNPROCESSABLE, 429/503/504
 * OSB_E_UNAVAILABLE (worth retrying), other >= 300: OSB_E_BACKEND; 0 below 300. */
int kube_status_code(long http_status);
/* Fills @err for a response with status >= 300 ("METHOD URL: 409 Conflict: message") and
 * returns kube_status_code(). */
int kube_response_error(struct kube_client *c, const char *method, const char *path,
                        const struct kube_response *r, struct osb_error *err);

/* A kind of resource: group "" (or NULL) is the core group (/api/v1). */
struct kube_resource {
        const char *group;    /* "servicecatalog.k8s.io", or "" */
        const char *version;  /* "v1beta1" */
        const char *plural;   /* "serviceinstances" */
        bool namespaced;
};
extern const struct kube_resource kube_namespaces, kube_secrets, kube_events, kube_leases,
        kube_crds;
/* The servicecatalog.k8s.io/v1beta1 resources (deploy/crds/). */
extern const struct kube_resource kube_sc_cluster_brokers, kube_sc_cluster_classes, kube_sc_cluster_plans,
        kube_sc_brokers, kube_sc_classes, kube_sc_plans, kube_sc_instances, kube_sc_bindings;

/* The path of a collection (@name NULL) or an object, with an optional @subresource
 * ("status"). @ns is required for namespaced resources and ignored for cluster-scoped ones, except
 * that a NULL @ns lists a namespaced resource across all namespaces. Every segment is
 * percent-encoded. Returns 0 with *ret new, -EINVAL (missing version/plural/namespace/name,
 * empty or "."/".." segments), or -ENOMEM. */
int kube_path(const struct kube_resource *res, const char *ns, const char *name,
              const char *subresource, char **ret);
/* Appends "?"/"&" key=value (value percent-encoded) to the path in *path (new; replaced).
 * Returns 0 or -ENOMEM (then *path is unchanged). */
int kube_path_add_query(char **path, const char *key, const char *value);

/* CRUD. Each returns 0, the kube_status_code() of a failed status with @err set as in
 * kube_response_error(), or a kube_request() error. *ret (optional: may be NULL) is the object
 * the server returned (new). For a namespaced resource, a NULL @ns means the object's
 * metadata.namespace. Writes that replace an object require metadata.resourceVersion in it, so
 * a stale copy can only fail with OSB_E_CONFLICT (re-read and retry), never overwrite. */
int kube_get(struct kube_client *c, const struct kube_resource *res, const char *ns,
             const char *name, json_t **ret, struct osb_error *err);
/* POST to the collection: OSB_E_CONFLICT when the name exists (reason AlreadyExists). */
int kube_create(struct kube_client *c, const struct kube_resource *res, const char *ns,
                const json_t *obj, json_t **ret, struct osb_error *err);
/* PUT the whole object (its metadata.name and metadata.resourceVersion), or its status. */
int kube_update(struct kube_client *c, const struct kube_resource *res, const char *ns,
                const json_t *obj, json_t **ret, struct osb_error *err);
int kube_update_status(struct kube_client *c, const struct kube_resource *res, const char *ns,
                       const json_t *obj, json_t **ret, struct osb_error *err);

enum kube_patch_type {
        KUBE_PATCH_MERGE,      /* application/merge-patch+json (RFC 7386) */
        KUBE_PATCH_JSON,       /* application/json-patch+json (RFC 6902); @patch is an array */
        KUBE_PATCH_STRATEGIC,  /* application/strategic-merge-patch+json (built-in kinds only) */
};
/* PATCH @name (or its @subresource, e.g. "status"; NULL for the object). A merge patch that
 * sets metadata.resourceVersion is conditional on it. */
int kube_patch(struct kube_client *c, const struct kube_resource *res, const char *ns,
               const char *name, const char *subresource, enum kube_patch_type type,
               const json_t *patch, json_t **ret, struct osb_error *err);
/* DELETE @name with optional DeleteOptions @options (borrowed: preconditions,
 * propagationPolicy, ...). OSB_E_NOT_FOUND when it is already gone. */
int kube_delete(struct kube_client *c, const struct kube_resource *res, const char *ns,
                const char *name, const json_t *options, struct osb_error *err);

/* Streaming, for watches (kube/watch.h) and other long responses. */
typedef int (*kube_stream_fn)(const char *data, size_t len, void *userdata);
/* Sends a GET for @path and hands each piece of a 2xx body to @fn as it arrives, in order (a
 * negative return stops the transfer and is returned). Returns 0 when the server ended the
 * body, with *ret_status set; for a status >= 300, *ret_error_response is filled in as by
 * kube_request() (release it) and @fn is never called. @timeout_ms bounds the whole request
 * (0: none; TCP keep-alive still notices dead peers). Errors as kube_request(). */
int kube_stream_get(struct kube_client *c, const char *path, long timeout_ms, kube_stream_fn fn,
                    void *userdata, long *ret_status, struct kube_response *ret_error_response,
                    struct osb_error *err);
