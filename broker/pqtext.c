/* broker/pqtext.c: see pqtext.h. */
#include "common/osb_compat.h"
#include "broker/pqtext.h"

const char *pqtext_uri_password(const char *url, size_t *ret_len)
{
        const char *p = strstr(url, "://");
        if (!p)
                return NULL;
        p += 3;
        size_t auth = strcspn(p, "/?");
        const char *at = NULL;
        for (size_t i = 0; i < auth; i++)
                if (p[i] == '@')
                        at = p + i;
        const char *colon = at ? memchr(p, ':', (size_t) (at - p)) : NULL;
        if (!colon)
                return NULL;
        *ret_len = (size_t) (at - colon - 1);
        return colon + 1;
}

void pqtext_scrub(const char *msg, const char *const *secrets, size_t n, char *out, size_t size)
{
        size_t o = 0;
        bool space = false;
        while (msg && *msg && o + 4 < size) {
                bool hit = false;
                for (size_t i = 0; i < n && !hit; i++) {
                        size_t len = secrets[i] ? strlen(secrets[i]) : 0;
                        if (len && strncmp(msg, secrets[i], len) == 0) {
                                memcpy(out + o, "***", 3);
                                o += 3;
                                msg += len;
                                hit = true;
                        }
                }
                if (hit) {
                        space = false;
                        continue;
                }
                if (isspace((unsigned char) *msg)) {
                        space = o > 0;
                        msg++;
                        continue;
                }
                if (space) {
                        out[o++] = ' ';
                        space = false;
                }
                out[o++] = *msg++;
        }
        out[o] = '\0';
}
