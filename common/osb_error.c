/* common/osb_error.c: the error table's lookups and the caller-owned error detail. */
#include "common/osb_compat.h"
#include "common/osb_error.h"

int osb_error_set(struct osb_error *err, int code, const char *fmt, ...)
{
        if (!err)
                return code;
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(err->text, sizeof(err->text), fmt, ap);
        va_end(ap);
        err->code = code;
        return code;
}

void osb_error_prefix(struct osb_error *err, const char *fmt, ...)
{
        if (!err)
                return;
        char prefix[256];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
        size_t plen = strlen(prefix), tlen = strnlen(err->text, sizeof(err->text) - 1);
        if (plen >= sizeof(err->text) - 1)
                plen = sizeof(err->text) - 1;
        if (plen + tlen > sizeof(err->text) - 1)
                tlen = sizeof(err->text) - 1 - plen;
        memmove(err->text + plen, err->text, tlen);
        memcpy(err->text, prefix, plen);
        err->text[plen + tlen] = '\0';
}

unsigned osb_error_http_status(int code)
{
        switch (code) {
#define OSB_X(name, val, http, osb) \
        case name:                  \
                return http;
                OSB_ERROR_TABLE(OSB_X)
#undef OSB_X
        case -E2BIG:
        case -EMSGSIZE:
                return 413;
        case -EBUSY:
        case -EAGAIN:
                return 503;
        default:
                return code >= 0 ? 200 : 500;
        }
}

const char *osb_error_osb_name(int code)
{
        switch (code) {
#define OSB_X(name, val, http, osb) \
        case name:                  \
                return osb;
                OSB_ERROR_TABLE(OSB_X)
#undef OSB_X
        default:
                return NULL;
        }
}

const char *osb_error_name(int code)
{
        switch (code) {
#define OSB_X(name, val, http, osb) \
        case name:                  \
                return #name;
                OSB_ERROR_TABLE(OSB_X)
#undef OSB_X
        case 0:
                return "OK";
        case -ENOMEM:
                return "ENOMEM";
        case -EINVAL:
                return "EINVAL";
        case -ENOENT:
                return "ENOENT";
        case -EIO:
                return "EIO";
        case -EBUSY:
                return "EBUSY";
        case -E2BIG:
                return "E2BIG";
        default:
                return "error";
        }
}

bool osb_error_is_domain(int code)
{
        return code <= -1000 && code > -2000;
}
