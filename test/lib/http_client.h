/* test/lib/http_client.h: a small HTTP client for tests, over libcurl. One request in, status,
 * response headers and body out; nothing is added to or taken from the request behind the
 * caller's back (no default Content-Type, no Expect, no path normalisation), so tests can send
 * exactly the bytes they mean, malformed ones included. Not thread-safe per client: use one
 * client per thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/osb_buf.h"
#include "common/osb_error.h"

struct http_client;

struct http_request {
        const char *method;          /* "GET", "PUT", ... any token; "HEAD" reads no body */
        const char *url;             /* absolute, sent as written (percent escapes kept) */
        const char *const *headers;  /* NULL-terminated list of name, value pairs; a NULL value
                                      * removes a header curl would add itself, "" sends the
                                      * header with an empty value; may be NULL */
        const void *body;            /* sent when has_body (may be empty); borrowed */
        size_t body_len;
        bool has_body;
        long connect_timeout_ms;     /* 0: 5000 */
        long timeout_ms;             /* whole request; 0: 30000 */
};

struct http_header {
        char *name;                  /* owned by the response; as received */
        char *value;                 /* owned; leading/trailing blanks removed */
};

struct http_response {
        long status;                 /* e.g. 200 */
        size_t n_headers;
        struct http_header *headers; /* of the final response (not of a 100 Continue) */
        struct osb_buf body;         /* NUL-terminated; at most 16 MiB */
};

/* Returns 0 with *ret new (free with http_client_free()), or -ENOMEM. Calls
 * curl_global_init() the first time (not thread-safe: create clients before starting threads). */
int http_client_new(struct http_client **ret);
/* NULL-safe; returns NULL. */
struct http_client *http_client_free(struct http_client *c);

/* Performs @req. Returns 0 with *ret filled in (release with http_response_release(), also on
 * failure: it is always left initialised), or -EIO (connection refused, timeout, ...) /
 * -ENOMEM / -E2BIG with a message in @err. Any HTTP status counts as success. Connections are
 * kept alive between calls on the same client. */
int http_client_do(struct http_client *c, const struct http_request *req,
                   struct http_response *ret, struct osb_error *err);

void http_response_init(struct http_response *r);
/* Frees everything in @r and re-initialises it. */
void http_response_release(struct http_response *r);
/* First header named @name (case-insensitive), borrowed from @r; NULL when absent. */
const char *http_response_header(const struct http_response *r, const char *name);
