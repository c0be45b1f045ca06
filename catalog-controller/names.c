/* catalog-controller/names.c: GenerateEscapedName and GenerateSHA of service-catalog. */
#include "common/osb_compat.h"
#include "common/osb_buf.h"
#include "common/osb_mem.h"
#include "common/osb_hash.h"
#include "catalog-controller/names.h"

#define NAME_MAX_LEN 63
#define NAME_TRUNCATE_LEN 30

/* Decodes one UTF-8 code point at @s (n bytes left) as Go's range loop does: an invalid or
 * truncated sequence yields U+FFFD and consumes one byte. */
static uint32_t utf8_next(const unsigned char *s, size_t n, size_t *used)
{
        unsigned char c = s[0];
        *used = 1;
        if (c < 0x80)
                return c;
        size_t need;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) {
                need = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
                need = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
                need = 3, cp = c & 0x07, min = 0x10000;
        } else {
                return 0xfffd;
        }
        if (need >= n)
                return 0xfffd;
        for (size_t i = 1; i <= need; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0xfffd;
                cp = cp << 6 | (s[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0xfffd;
        *used = need + 1;
        return cp;
}

int names_escape(const char *id, char **ret)
{
        struct osb_buf b;
        osb_buf_init(&b, SIZE_MAX / 2);
        size_t len = strlen(id);
        bool prev_dot = false, prev_dash = false;
        int r = 0;
        for (size_t i = 0; i < len && r >= 0;) {
                size_t used;
                uint32_t ch = utf8_next((const unsigned char *) id + i, len - i, &used);
                bool first = i == 0, last = i == len - 1;
                if ((ch >= 'a' && ch <= 'y') || (ch >= '0' && ch <= '9')) {
                        char c = (char) ch;
                        r = osb_buf_append(&b, &c, 1);
                        prev_dot = prev_dash = false;
                } else if (ch == '.' && !first && !last && !prev_dot && !prev_dash) {
                        r = osb_buf_append(&b, ".", 1);
                        prev_dot = true, prev_dash = false;
                } else if (ch == '-' && !first && !last && !prev_dot) {
                        r = osb_buf_append(&b, "-", 1);
                        prev_dash = true, prev_dot = false;
                } else {
                        r = osb_buf_appendf(&b, "z%" PRIx32 "z", ch);
                        prev_dot = prev_dash = false;
                }
                i += used;
        }
        if (r >= 0 && !b.data)
                r = osb_buf_append(&b, "", 0);
        if (r >= 0 && b.len > NAME_MAX_LEN) {
                size_t keep = NAME_TRUNCATE_LEN;
                if (b.data[keep - 1] == '.')
                        keep--;
                uint8_t md[OSB_HASH_MD5_LEN];
                char hex[2 * OSB_HASH_MD5_LEN + 1];
                osb_hash_md5(id, len, md);
                b.len = keep;
                b.data[keep] = '\0';
                r = osb_buf_appendf(&b, "-%s", osb_hash_hex(md, sizeof(md), hex));
        }
        if (r < 0) {
                osb_buf_release(&b);
                return -ENOMEM;
        }
        char *s = osb_buf_detach(&b, NULL);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

char *names_label_value(const char *value, char out[NAMES_LABEL_VALUE_LEN + 1])
{
        uint8_t d[OSB_HASH_SHA224_LEN];
        osb_hash_sha224(value, strlen(value), d);
        return osb_hash_hex(d, sizeof(d), out);
}
