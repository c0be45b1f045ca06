/* broker/auth.c: Basic and Bearer authentication. */
#include "common/osb_compat.h"
#include "common/osb_file.h"
#include "common/osb_base64.h"
#include "common/osb_mem.h"
#include "broker/auth.h"

bool auth_equal(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        size_t n = la > lb ? la : lb;
        unsigned char diff = (unsigned char) (la != lb);
        for (size_t i = 0; i < n; i++) {
                unsigned char ca = i < la ? (unsigned char) a[i] : 0;
                unsigned char cb = i < lb ? (unsigned char) b[i] : 0;
                diff |= ca ^ cb;
        }
        return diff == 0;
}

static int read_secret(const char *path, char **ret, struct osb_error *err)
{
        char *s = NULL;
        int r = osb_read_file_err(path, 64 * 1024, &s, err);
        if (r < 0)
                return r;
        size_t first_line = strcspn(s, "\r\n");
        if (first_line == 0) {
                explicit_bzero(s, strlen(s));
                osb_free(s);
                return osb_error_set(err, OSB_E_INVALID_CONFIG, "secret file '%s' is empty", path);
        }
        explicit_bzero(s + first_line, strlen(s + first_line));  /* only the first line is the secret */
        *ret = s;
        return 0;
}

int auth_load(struct auth *a, const char *username, const char *password, const char *password_file,
              const char *token, const char *token_file, struct osb_error *err)
{
        *a = (struct auth){0};
        osb_autofree char *pw = NULL;
        osb_autofree char *tok = NULL;
        int r;
        if (password_file && *password_file) {
                r = read_secret(password_file, &pw, err);
                if (r < 0)
                        return r;
        } else if (password && *password) {
                pw = osb_strdup(password);
                if (!pw)
                        return osb_error_set(err, -ENOMEM, "out of memory");
        }
        if (token_file && *token_file) {
                r = read_secret(token_file, &tok, err);
                if (r < 0)
                        return r;
        } else if (token && *token) {
                tok = osb_strdup(token);
                if (!tok)
                        return osb_error_set(err, -ENOMEM, "out of memory");
        }
        bool user = username && *username;
        if (user != (pw != NULL))
                return osb_error_set(err, OSB_E_INVALID_CONFIG,
                                     "Basic authentication needs both --username and --password "
                                     "(or --password-file)");
        if (user && strchr(username, ':'))
                return osb_error_set(err, OSB_E_INVALID_CONFIG, "the username must not contain ':'");
        if (user) {
                a->basic = osb_asprintf("%s:%s", username, pw);
                if (!a->basic)
                        return osb_error_set(err, -ENOMEM, "out of memory");
        }
        a->token = OSB_TAKE_PTR(tok);
        return 0;
}

void auth_release(struct auth *a)
{
        if (a->basic)
                explicit_bzero(a->basic, strlen(a->basic));
        if (a->token)
                explicit_bzero(a->token, strlen(a->token));
        osb_free(a->basic);
        osb_free(a->token);
        *a = (struct auth){0};
}

bool auth_enabled(const struct auth *a)
{
        return a->basic || a->token;
}

bool auth_check(const struct auth *a, const char *authorization)
{
        if (!auth_enabled(a))
                return true;
        if (!authorization)
                return false;
        if (a->basic && strncasecmp(authorization, "Basic ", 6) == 0) {
                const char *enc = authorization + 6;
                while (*enc == ' ')
                        enc++;
                size_t n = strlen(enc);
                if (n > 4096)
                        return false;
                char *buf = NULL;
                size_t len = 0;
                if (osb_base64_decode(enc, n, OSB_BASE64_URLSAFE | OSB_BASE64_LENIENT, &buf, &len, NULL) < 0)
                        return false;
                bool ok = !memchr(buf, '\0', len) && auth_equal(buf, a->basic);
                explicit_bzero(buf, len);
                osb_free(buf);
                return ok;
        }
        if (a->token && strncasecmp(authorization, "Bearer ", 7) == 0) {
                const char *t = authorization + 7;
                while (*t == ' ')
                        t++;
                return auth_equal(t, a->token);
        }
        return false;
}
