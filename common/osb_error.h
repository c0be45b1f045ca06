/* common/osb_error.h: one error space. A fallible function returns 0 (or a count) on success
 * and a negative code on failure: -errno for system/library failures, or an OSB_E_* domain code
 * from the table below, which also gives the HTTP status and the OSB "error" string. */
#pragma once

#include <stdbool.h>

#define OSB_ERROR_TABLE(X)                                                     \
        /*  name                     value  http  OSB "error" (spec only)  */  \
        X(OSB_E_BAD_REQUEST,         -1000, 400, NULL)                         \
        X(OSB_E_UNAUTHORIZED,        -1001, 401, NULL)                         \
        X(OSB_E_NOT_FOUND,           -1002, 404, NULL)                         \
        X(OSB_E_METHOD,              -1003, 405, NULL)                         \
        X(OSB_E_CONFLICT,            -1004, 409, NULL)                         \
        X(OSB_E_GONE,                -1005, 410, NULL)                         \
        X(OSB_E_API_VERSION,         -1006, 412, NULL)                         \
        X(OSB_E_TOO_LARGE,           -1007, 413, NULL)                         \
        X(OSB_E_UNSUPPORTED_MEDIA,   -1008, 415, NULL)                         \
        X(OSB_E_UNPROCESSABLE,       -1009, 422, NULL)                         \
        X(OSB_E_ASYNC_REQUIRED,      -1010, 422, "AsyncRequired")              \
        X(OSB_E_CONCURRENCY,         -1011, 422, "ConcurrencyError")           \
        X(OSB_E_REQUIRES_APP,        -1012, 422, "RequiresApp")                \
        X(OSB_E_MAINT_INFO,          -1013, 422, "MaintenanceInfoConflict")    \
        X(OSB_E_INVALID_CONFIG,      -1014, 500, NULL)                         \
        X(OSB_E_BACKEND,             -1015, 500, NULL)                         \
        X(OSB_E_UNAVAILABLE,         -1016, 503, NULL)

enum osb_errcode {
#define OSB_X(name, val, http, osb) name = (val),
        OSB_ERROR_TABLE(OSB_X)
#undef OSB_X
};

/* Caller-owned detail for a failure: the message becomes the OSB "description". */
struct osb_error {
        int code;        /* 0, -errno, or OSB_E_* */
        char text[512];  /* user-facing, NUL-terminated */
};

#define OSB_ERROR_INIT {0, ""}

/* Records @code and a formatted message in @err (may be NULL). Returns @code, so
 * `return osb_error_set(err, OSB_E_CONFLICT, "...")` fails in one statement. */
int osb_error_set(struct osb_error *err, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Prefixes the message already in @err with a formatted context ("catalog.json: " ...). */
void osb_error_prefix(struct osb_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* HTTP status for a code: the table's for OSB_E_*, 413 for -E2BIG, 503 for -EBUSY, else 500. */
unsigned osb_error_http_status(int code);
/* The spec's "error" string, or NULL when the spec defines none for this code. */
const char *osb_error_osb_name(int code);
/* Short symbolic name of any code ("OSB_E_CONFLICT", "ENOMEM"), for logs. */
const char *osb_error_name(int code);
/* True for OSB_E_* codes (a client-caused problem), false for -errno. */
bool osb_error_is_domain(int code);
