/* common/osb_base64.c: one base64 decoder and encoder, the differences as flags. */
#include "common/osb_compat.h"
#include "common/osb_base64.h"
#include "common/osb_mem.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int value(unsigned char c, unsigned flags)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        if (flags & OSB_BASE64_URLSAFE)
                return c == '-' ? 62 : c == '_' ? 63 : -1;
        return -1;
}

static bool skipped(unsigned char c, unsigned flags)
{
        if ((flags & OSB_BASE64_SKIP_SPACE) && isspace(c))
                return true;
        return (flags & OSB_BASE64_SKIP_NEWLINES) && (c == '\r' || c == '\n');
}

int osb_base64_decode(const char *in, size_t len, unsigned flags, char **ret, size_t *ret_len,
                      size_t *ret_bad)
{
        bool lenient = flags & OSB_BASE64_LENIENT;
        if (lenient)
                while (len > 0 && in[len - 1] == '=')
                        len--;
        char *out = osb_malloc(len / 4 * 3 + 4);
        if (!out)
                return -ENOMEM;
        size_t o = 0, q = 0, pad = 0, i;
        uint32_t acc = 0;
        bool done = false;  /* a padded quantum ended the data: only skipped bytes may follow */
        for (i = 0; i < len; i++) {
                unsigned char c = (unsigned char) in[i];
                if (skipped(c, flags))
                        continue;
                if (c == '=' && !lenient) {
                        if (q < 2 || done)
                                goto bad;
                        pad++;
                        acc <<= 6;
                        if (++q == 4) {
                                out[o++] = (char) (acc >> 16);
                                if (pad == 1)
                                        out[o++] = (char) (acc >> 8);
                                q = 0;
                                acc = 0;
                                done = true;
                        }
                        continue;
                }
                int v = value(c, flags);
                if (v < 0 || pad || done)
                        goto bad;
                acc = (acc << 6) | (uint32_t) v;
                if (++q == 4) {
                        out[o++] = (char) (acc >> 16);
                        out[o++] = (char) (acc >> 8);
                        out[o++] = (char) acc;
                        q = 0;
                        acc = 0;
                }
        }
        if (q != 0) {
                /* Unpadded tail: 2 symbols carry one byte, 3 carry two, 1 is never valid. */
                if (!lenient || q == 1) {
                        i = len;
                        goto bad;
                }
                if (q == 2) {
                        out[o++] = (char) (acc >> 4);
                } else {
                        out[o++] = (char) (acc >> 10);
                        out[o++] = (char) (acc >> 2);
                }
        }
        out[o] = '\0';
        *ret = out;
        if (ret_len)
                *ret_len = o;
        return 0;
bad:
        osb_free(out);
        if (ret_bad)
                *ret_bad = i;
        return -EINVAL;
}

char *osb_base64_encode(const void *data, size_t len)
{
        const unsigned char *b = data;
        char *out = osb_malloc((len + 2) / 3 * 4 + 1);
        if (!out)
                return NULL;
        size_t o = 0, i = 0;
        for (; i + 2 < len; i += 3) {
                uint32_t v = (uint32_t) b[i] << 16 | (uint32_t) b[i + 1] << 8 | b[i + 2];
                out[o++] = alphabet[v >> 18];
                out[o++] = alphabet[(v >> 12) & 63];
                out[o++] = alphabet[(v >> 6) & 63];
                out[o++] = alphabet[v & 63];
        }
        if (i < len) {
                uint32_t v = (uint32_t) b[i] << 16 | (i + 1 < len ? (uint32_t) b[i + 1] << 8 : 0);
                out[o++] = alphabet[v >> 18];
                out[o++] = alphabet[(v >> 12) & 63];
                out[o++] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
                out[o++] = '=';
        }
        out[o] = '\0';
        return out;
}
