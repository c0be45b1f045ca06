/* catalog-controller/osb_response.h: what the controller reads in a broker's answer. The bytes
 * a broker sends are decoded here, once, and every answer the controller acts on is checked
 * here: a success it cannot read (not JSON, over the size cap, credentials that are not an
 * object, a last_operation state it does not know) is a failure, never a success with nothing
 * in it. Messages summarise what was wrong (a position, a size, a JSON type) and never quote
 * the broker's bytes: they go into conditions, Events and logs, and the bytes may hold
 * credentials. Pure (no I/O), so it is fuzzed (test/fuzz/fuzz_osb_response.c). */
#pragma once

#include <jansson.h>
#include <time.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/osb_error.h"

/* One response. */
struct osb_response {
        long status;
        json_t *body;          /* new, or NULL (empty, over the cap, or not JSON) */
        char *error;           /* new, or NULL: the OSB "error" code ("AsyncRequired", ...), see
                                * osb_response_text() */
        char *description;     /* new, or NULL: the OSB "description", see osb_response_text() */
        long retry_after_s;    /* Retry-After header, or -1 */
        size_t body_len;       /* bytes received (those kept, when too_big) */
        bool too_big;          /* the body was larger than the client's cap and was cut */
        int json_line, json_column;    /* where the body stopped being JSON (when body is NULL) */
        const char *too_long;  /* NULL, or the field ("operation", "dashboard_url") longer than
                                * OSB_RESPONSE_FIELD_MAX for which the body was dropped */
        size_t too_long_len;   /* its length in bytes */
};
void osb_response_release(struct osb_response *r);

/* The two fields of a broker's answer that the OSB spec means to be shown to people, the
 * "error" code and the user-facing "description", are the only bytes of an answer the
 * controller ever puts in a condition, an Event or a log, and only as this makes them: an
 * "error" (@code) only when it is a word of at most OSB_RESPONSE_CODE_MAX letters, digits,
 * '_', '-', '.' (else none: *ret NULL); a "description" cut to OSB_RESPONSE_TEXT_MAX bytes (at
 * a character boundary, "..." added), control characters as spaces. NULL for a value that is
 * not a string or is empty. Returns 0 with *ret new or NULL, or -ENOMEM. */
#define OSB_RESPONSE_CODE_MAX 64
#define OSB_RESPONSE_TEXT_MAX 512
int osb_response_text(const json_t *v, bool code, char **ret);

/* The longest "operation" and "dashboard_url" kept (the OSB spec's limit of the operation
 * token): the controller writes both into the object's status, and a broker's megabytes there
 * would make every status write fail (etcd keeps objects under 1.5 MiB). */
#define OSB_RESPONSE_FIELD_MAX 10000

/* Fills *ret from a status and the body bytes @data/@len (@too_big: cut at the cap; then no
 * body is decoded). A body whose "operation" or "dashboard_url" is a string longer than
 * OSB_RESPONSE_FIELD_MAX is dropped (body NULL, too_long set): an answer that cannot be read.
 * Returns 0, or -ENOMEM (nothing to release). */
int osb_response_decode(long status, const char *data, size_t len, bool too_big, long retry_after_s,
                        struct osb_response *ret);

/* "the broker's response to CALL was not valid JSON (line 1, column 17, 230 bytes)", "... was
 * empty", "... was larger than N bytes", "... was not a JSON object (an array, 12 bytes)",
 * written to @out for a response whose body is not a JSON object ("... has an \"operation\"
 * of 20000 bytes, more than 10000" when too_long); "the broker's response to CALL" otherwise. */
void osb_response_summary(const struct osb_response *r, const char *call, char *out, size_t n);

/* A 200/201 to a bind, or a 200 to a fetch of a binding (GET .../service_bindings/:id): returns
 * 0 with *credentials the body's "credentials" object (borrowed from @r), or NULL when the body
 * is a JSON object without "credentials" (a binding that has none, e.g. volume mounts only);
 * -EBADMSG when the body is not a JSON object, or "credentials" is there but not an object,
 * with @err a summary naming @call. */
int osb_response_bind(const struct osb_response *r, const char *call, const json_t **credentials,
                      struct osb_error *err);
/* The OSB 2.17 binding metadata of a bind or fetch answer's @body (borrowed, any JSON or NULL):
 * *expires_at and *renew_before, each 0 unless it is a string that osb_time_parse_rfc3339()
 * reads (RFC 3339: "Z" or a numeric offset such as "+02:00"). Nothing of the body is kept. */
void osb_response_bind_expiry(const json_t *body, time_t *expires_at, time_t *renew_before);

/* A 200/201 to a provision (or update): returns 0 with *dashboard_url (borrowed, or NULL:
 * absent or not a string) when the body is a JSON object; -EBADMSG (an orphan-mitigation
 * trigger for a provision) with @err otherwise. @dashboard_url may be NULL. */
int osb_response_provision(const struct osb_response *r, const char *call, const char **dashboard_url,
                           struct osb_error *err);

enum osb_response_state {
        OSB_RESPONSE_IN_PROGRESS,
        OSB_RESPONSE_SUCCEEDED,
        OSB_RESPONSE_FAILED,
};

/* A 200 to last_operation: returns 0 with *state and *description (r->description: borrowed,
 * as osb_response_text() made it, or NULL) when the body is a JSON object whose "state" is "in progress", "succeeded" or
 * "failed"; -EBADMSG with @err otherwise (not JSON, no state, a state of another type or value:
 * the state is not quoted either). @description may be NULL. */
int osb_response_last_operation(const struct osb_response *r, const char *call, enum osb_response_state *state,
                                const char **description, struct osb_error *err);

/* A 200 to GET /v2/catalog: returns 0 when the body is a JSON object with a "services" array;
 * -EBADMSG with @err otherwise. */
int osb_response_catalog(const struct osb_response *r, struct osb_error *err);

/* The answer in words for conditions and Events: "the broker answered 500 ConcurrencyError:
 * description". */
void osb_response_describe(const struct osb_response *resp, char *out, size_t n);
