/* common/osb_buf.c: bounded growable buffers. */
#include "common/osb_compat.h"
#include "common/osb_buf.h"
#include "common/osb_mem.h"

void osb_buf_init(struct osb_buf *b, size_t max)
{
        *b = (struct osb_buf){.max = max};
}

void osb_buf_release(struct osb_buf *b)
{
        osb_free(b->data);
        osb_buf_init(b, b->max);
}

static int grow(struct osb_buf *b, size_t need)
{
        if (need > b->max)
                return -E2BIG;
        if (need + 1 <= b->cap)
                return 0;
        size_t cap = b->cap ? b->cap : 64;
        while (cap < need + 1)
                cap = cap > SIZE_MAX / 2 ? need + 1 : cap * 2;
        char *d = osb_realloc(b->data, cap);
        if (!d)
                return -ENOMEM;
        b->data = d;
        b->cap = cap;
        return 0;
}

int osb_buf_append(struct osb_buf *b, const void *p, size_t n)
{
        if (n > SIZE_MAX - b->len - 1)
                return -E2BIG;
        int r = grow(b, b->len + n);
        if (r < 0)
                return r;
        if (n)
                memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return 0;
}

int osb_buf_appends(struct osb_buf *b, const char *s)
{
        return osb_buf_append(b, s, strlen(s));
}

int osb_buf_appendf(struct osb_buf *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -EINVAL;
        int r = grow(b, b->len + (size_t) n);
        if (r < 0)
                return r;
        va_start(ap, fmt);
        (void) vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t) n;
        return 0;
}

char *osb_buf_detach(struct osb_buf *b, size_t *ret_len)
{
        if (!b->data) {
                if (grow(b, 0) < 0)
                        return NULL;
                b->data[0] = '\0';     /* nothing was appended: still a string */
        }
        char *d = b->data;
        if (ret_len)
                *ret_len = b->len;
        osb_buf_init(b, b->max);
        return d;
}
