/* catalog-controller/osb_client.h: an Open Service Broker API v2.17 client over libcurl. One
 * client per broker (its URL, credentials and TLS settings), safe to use from several threads:
 * it keeps up to 8 connections alive and runs that many requests at once. Every request
 * sends X-Broker-API-Version: 2.17 and is counted in metrics_osb_request(). Errors name the
 * method, the broker URL and the HTTP status with the broker's OSB description, e.g.
 * "GET http://127.0.0.1:8080/v2/catalog: 401 Unauthorized: invalid credentials". */
#pragma once

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/osb_error.h"
#include "catalog-controller/osb_response.h"

#define OSB_CLIENT_API_VERSION "2.17"

/* The largest Retry-After (seconds) taken from a broker; more is read as this. */
#define OSB_CLIENT_RETRY_AFTER_MAX 86400L

struct osb_client_config {
        const char *broker;          /* for metrics and messages: the broker's key */
        const char *url;             /* base URL; a trailing '/' is ignored */
        const char *username;        /* Basic auth (with password), or NULL */
        const char *password;
        const char *token;           /* Bearer auth, or NULL */
        const char *ca_pem;          /* PEM: the only trusted roots, or NULL (system roots) */
        size_t ca_pem_len;
        bool insecure_skip_tls_verify;
        long timeout_ms;             /* whole request; 0: 60000 */
        long connect_timeout_ms;     /* 0: 10000 */
        size_t max_body;             /* larger responses fail with -E2BIG; 0: 16 MiB */
        const atomic_bool *cancel;   /* when it becomes true, requests fail with -ECANCELED */
        unsigned max_concurrent;     /* requests in flight at once; one more waits up to 2 s
                                      * for a slot, then fails with -EBUSY (a hung broker holds
                                      * only that many threads); 0: 8, the most */
};

struct osb_client;

/* Copies @cfg. Returns 0 with *ret new (free with osb_client_free()), -EINVAL (no URL, or both
 * caBundle and insecureSkipTLSVerify, or basic and bearer), -ENOMEM; @err says which. */
int osb_client_new(const struct osb_client_config *cfg, struct osb_client **ret, struct osb_error *err);
struct osb_client *osb_client_free(struct osb_client *c);
void osb_client_freep(struct osb_client **c);
/* A digest of the configuration (URL, credentials, TLS, timeouts): equal configurations have
 * equal fingerprints, so a cached client is rebuilt only when something changed. */
void osb_client_fingerprint(const struct osb_client_config *cfg, char out[57]);

/* Sends @method @path (below the base URL, query included) with @body (borrowed, or NULL) and
 * the extra headers @headers (NULL-terminated "Name: value" list, or NULL). @osb_method names
 * the call for metrics. Returns 0 with *ret filled for any HTTP status; -EBUSY (nothing sent:
 * max_concurrent requests stayed in flight for 2 s; try again shortly), -ETIMEDOUT,
 * -ECONNREFUSED, -EPROTO (TLS), -EHOSTUNREACH, -E2BIG, -ECANCELED, -EIO, -ENOMEM for transport
 * failures, with @err naming the method and URL. A 2xx whose body is over max_body is not a
 * transport failure: 0 with ret->too_big (and no body), for the caller to treat as unreadable. */
int osb_client_request(struct osb_client *c, const char *osb_method, const char *method, const char *path,
                       const json_t *body, const char *const *headers, struct osb_response *ret,
                       struct osb_error *err);

/* GET /v2/catalog. Returns 0 with *ret (new) the catalog object; for a status other than 200,
 * an error code (OSB_E_UNAUTHORIZED for 401, -EACCES for 403, OSB_E_NOT_FOUND, OSB_E_API_VERSION
 * for 412, OSB_E_BACKEND otherwise) with @err "GET URL: STATUS TEXT: description"; -EBADMSG
 * when the body is not a JSON object with a "services" array (osb_response_catalog(): the
 * message summarises, never quotes, the body); transport errors as above. */
int osb_client_get_catalog(struct osb_client *c, json_t **ret, struct osb_error *err);

/* The instance and binding endpoints (the ServiceInstance/ServiceBinding reconcilers). Each
 * sends accepts_incomplete=true where the spec allows it, the originating identity header when
 * @identity is non-NULL ("kubernetes <base64 JSON>"), and returns 0 with *ret for any HTTP status
 * (the reconciler decides what a status means), or a transport error. @body is the OSB request
 * body (service_id, plan_id, context, parameters, ...). */
int osb_client_provision(struct osb_client *c, const char *instance_id, const json_t *body,
                         const char *identity, struct osb_response *ret, struct osb_error *err);
int osb_client_update(struct osb_client *c, const char *instance_id, const json_t *body,
                      const char *identity, struct osb_response *ret, struct osb_error *err);
int osb_client_deprovision(struct osb_client *c, const char *instance_id, const char *service_id,
                           const char *plan_id, const char *identity, struct osb_response *ret,
                           struct osb_error *err);
/* GET last_operation of an instance (@binding_id NULL) or a binding. @operation may be NULL. */
int osb_client_last_operation(struct osb_client *c, const char *instance_id, const char *binding_id,
                              const char *service_id, const char *plan_id, const char *operation,
                              const char *identity, struct osb_response *ret, struct osb_error *err);
int osb_client_bind(struct osb_client *c, const char *instance_id, const char *binding_id,
                    const json_t *body, bool accepts_incomplete, const char *identity,
                    struct osb_response *ret, struct osb_error *err);
int osb_client_unbind(struct osb_client *c, const char *instance_id, const char *binding_id,
                      const char *service_id, const char *plan_id, bool accepts_incomplete,
                      const char *identity, struct osb_response *ret, struct osb_error *err);
/* GET an instance (@binding_id NULL) or a binding. */
int osb_client_fetch(struct osb_client *c, const char *instance_id, const char *binding_id,
                     const char *identity, struct osb_response *ret, struct osb_error *err);
