/* common/osb_buf.h: a growable byte buffer with a hard maximum. The caller owns the struct; the
 * data is always NUL-terminated (the terminator is not counted in len). */
#pragma once

#include <stddef.h>

struct osb_buf {
        char *data;  /* NULL until the first append; owned */
        size_t len;
        size_t cap;
        size_t max;  /* appends past this fail with -E2BIG and leave the buffer unchanged */
};

void osb_buf_init(struct osb_buf *b, size_t max);
/* Frees the contents and re-initialises with the same max. */
void osb_buf_release(struct osb_buf *b);
/* Returns 0, -E2BIG (over max: buffer unchanged) or -ENOMEM. */
int osb_buf_append(struct osb_buf *b, const void *p, size_t n) __attribute__((warn_unused_result));
int osb_buf_appends(struct osb_buf *b, const char *s) __attribute__((warn_unused_result));
int osb_buf_appendf(struct osb_buf *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3), warn_unused_result));
/* Hands the data to the caller (new: free with osb_free(); never NULL unless OOM) and resets. */
char *osb_buf_detach(struct osb_buf *b, size_t *ret_len);
