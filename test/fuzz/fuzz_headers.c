/* test/fuzz/fuzz_headers.c: bytes -> the parsers of untrusted request headers and paths:
 * request_parse_api_version(), request_parse_originating_identity(), auth_check() against a
 * broker configured with Basic and Bearer credentials (and one with none), osb_base64_decode() with the broker's flags
 * into a buffer of exactly the documented size, osb_http_unescape() on a copy, and
 * request_check_id() on the raw bytes and on the decoded ones (NULs included), and
 * request_parse_bool() (boolean query values), each checked
 * against a small reference implementation written here. The input is cut at its first NUL,
 * as HTTP header values and paths are C strings by the time they reach these functions. */
#include "common/osb_compat.h"
#include "common/osb_base64.h"

#include "broker/auth.h"
#include "broker/request.h"
#include "common/osb_http.h"
#include "common/osb_mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                   \
        do {                                                                            \
                if (!(cond)) {                                                          \
                        fprintf(stderr, "fuzz_headers: invariant failed: %s\n", #cond); \
                        abort();                                                        \
                }                                                                       \
        } while (0)

#define USERNAME "osb"
#define PASSWORD "pa:ss w0rd"
#define TOKEN "t0ken-\x7f-value"

static struct auth both, none;

/* "MAJOR.MINOR", digits only, each part short enough for an unsigned. */
static bool version_shape(const char *s)
{
        size_t a = strspn(s, "0123456789");
        if (a == 0 || a > 6 || s[a] != '.')
                return false;
        size_t b = strspn(s + a + 1, "0123456789");
        return b > 0 && b <= 6 && s[a + 1 + b] == '\0';
}

static void check_version(const char *s)
{
        struct osb_error err = OSB_ERROR_INIT;
        unsigned major = 12345, minor = 12345;
        int r = request_parse_api_version(s, &major, &minor, &err);
        if (r < 0) {
                REQUIRE(r == OSB_E_API_VERSION && err.code == r && err.text[0]);
                REQUIRE(major == 12345 && minor == 12345);  /* out-parameters only on success */
                /* Refused: not MAJOR.MINOR once surrounding whitespace is dropped. */
                const char *t = s + strspn(s, " \t");
                size_t n = strcspn(t, " \t");
                if (t[n + strspn(t + n, " \t")] == '\0') {
                        char *core = strndup(t, n);
                        REQUIRE(core && !version_shape(core));
                        free(core);
                }
                return;
        }
        REQUIRE(r == 0);
        /* Accepted strings are exactly digits '.' digits between optional spaces and tabs
         * (RFC 9110 strips them), and mean what they say. */
        s += strspn(s, " \t");
        size_t n = strcspn(s, " \t");
        REQUIRE(s[n + strspn(s + n, " \t")] == '\0');
        char *core = strndup(s, n);  /* leading zeros make it any length */
        REQUIRE(core);
        const char *dot = strchr(core, '.');
        REQUIRE(dot && dot != core && dot[1]);
        REQUIRE(strspn(core, "0123456789") == (size_t) (dot - core));
        REQUIRE(strspn(dot + 1, "0123456789") == strlen(dot + 1));
        REQUIRE(strtoul(core, NULL, 10) == major && strtoul(dot + 1, NULL, 10) == minor);
        free(core);
}

static void check_identity(const char *s)
{
        struct osb_error err = OSB_ERROR_INIT;
        char *platform = NULL;
        json_t *identity = NULL;
        int r = request_parse_originating_identity(s, &platform, &identity, &err);
        if (r < 0) {
                REQUIRE((r == OSB_E_BAD_REQUEST || r == -ENOMEM) && err.code == r && err.text[0]);
                REQUIRE(platform == NULL && identity == NULL);
                return;
        }
        REQUIRE(platform && identity && json_is_object(identity));
        size_t n = strlen(platform);
        REQUIRE(n > 0 && strncmp(s, platform, n) == 0 && s[n] == ' ');
        REQUIRE(strchr(platform, ' ') == NULL && strchr(s + n + 1, ' ') == NULL);
        osb_free(platform);
        json_decref(identity);
}

static int b64val(unsigned char c)
{
        static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *p = c ? strchr(tbl, c) : NULL;
        if (p)
                return (int) (p - tbl);
        return c == '-' ? 62 : c == '_' ? 63 : -1;
}

/* Reference decoder: standard or URL alphabet, padding optional. Returns the length or -1. */
static long ref_b64(const char *in, unsigned char *out)
{
        size_t n = strlen(in);
        while (n > 0 && in[n - 1] == '=')
                n--;
        if (n % 4 == 1)
                return -1;
        long o = 0;
        uint32_t acc = 0;
        unsigned bits = 0;
        for (size_t i = 0; i < n; i++) {
                int v = b64val((unsigned char) in[i]);
                if (v < 0)
                        return -1;
                acc = (acc << 6) | (uint32_t) v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[o++] = (unsigned char) (acc >> bits);
                }
        }
        return o;
}

static void check_base64(const char *s)
{
        size_t size = 3 * (strlen(s) / 4) + 3;
        unsigned char *ref = malloc(size + 3);
        REQUIRE(ref);
        /* The rules the broker decodes Basic credentials and originating identities with. */
        char *out = NULL;
        size_t n = 0;
        int r = osb_base64_decode(s, strlen(s), OSB_BASE64_URLSAFE | OSB_BASE64_LENIENT, &out, &n, NULL);
        long m = ref_b64(s, ref);
        REQUIRE(r == 0 || r == -EINVAL || r == -ENOMEM);
        if (r != -ENOMEM)
                REQUIRE((r < 0) == (m < 0));
        if (r == 0)
                REQUIRE((long) n == m && memcmp(out, ref, n) == 0 && out[n] == '\0');
        osb_free(out);
        free(ref);
}

/* What auth_check() must answer, from the spec of HTTP Basic and Bearer. */
static bool expected_auth(const char *s)
{
        if (strncasecmp(s, "Basic ", 6) == 0) {
                const char *enc = s + 6;
                while (*enc == ' ')
                        enc++;
                if (strlen(enc) > 4096)
                        return false;
                unsigned char buf[4100];
                long n = ref_b64(enc, buf);
                return n >= 0 && (size_t) n == strlen(USERNAME ":" PASSWORD) &&
                       memcmp(buf, USERNAME ":" PASSWORD, (size_t) n) == 0;
        }
        if (strncasecmp(s, "Bearer ", 7) == 0) {
                const char *t = s + 7;
                while (*t == ' ')
                        t++;
                return strcmp(t, TOKEN) == 0;
        }
        return false;
}

static void check_auth(const char *s)
{
        REQUIRE(auth_check(&none, s));
        REQUIRE(auth_check(&both, s) == expected_auth(s));
}

/* Reference percent-decoding. Returns the decoded length, or -1 on a bad escape. */
static long ref_unescape(const char *s, char *out)
{
        long o = 0;
        for (const char *p = s; *p; p++) {
                if (*p != '%') {
                        out[o++] = *p;
                        continue;
                }
                if (!isxdigit((unsigned char) p[1]) || !isxdigit((unsigned char) p[2]))
                        return -1;
                char hex[3] = {p[1], p[2], '\0'};
                out[o++] = (char) strtol(hex, NULL, 16);
                p += 2;
        }
        return o;
}

/* Reference: valid UTF-8 (RFC 3629: no overlongs, no surrogates, at most U+10FFFF) without
 * C0, DEL or C1 control characters. */
static bool ref_id_ok(const unsigned char *s, size_t len)
{
        for (size_t i = 0; i < len;) {
                unsigned char c = s[i];
                size_t k = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
                if (k == 0 || i + k > len)
                        return false;
                uint32_t cp = k == 1 ? c : k == 2 ? (c & 0x1fu) : k == 3 ? (c & 0x0fu) : (c & 0x07u);
                for (size_t j = 1; j < k; j++) {
                        if ((s[i + j] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (s[i + j] & 0x3fu);
                }
                static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
                if (cp < min[k] || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
                        return false;
                if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
                        return false;
                i += k;
        }
        return true;
}

/* request_parse_bool(): true/false in any case between optional spaces and tabs, else 400. */
static void check_bool(const char *s)
{
        const char *t = s + strspn(s, " \t");
        size_t n = strlen(t);
        while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
                n--;
        bool want_true = n == 4 && strncasecmp(t, "true", 4) == 0;
        bool want_false = n == 5 && strncasecmp(t, "false", 5) == 0;
        struct osb_error err = OSB_ERROR_INIT;
        bool v = !want_true;
        int r = request_parse_bool("accepts_incomplete", s, &v, &err);
        if (want_true || want_false) {
                REQUIRE(r == 0 && v == want_true);
        } else {
                REQUIRE(r == OSB_E_BAD_REQUEST && err.code == r && strstr(err.text, "accepts_incomplete"));
        }
        v = true;
        REQUIRE(request_parse_bool("x", NULL, &v, NULL) == 0 && !v);
}

static void check_id(const char *s, size_t len)
{
        struct osb_error err = OSB_ERROR_INIT;
        int r = request_check_id(s, len, "the id", &err);
        REQUIRE(r == 0 || r == OSB_E_BAD_REQUEST);
        REQUIRE((r == 0) == ref_id_ok((const unsigned char *) s, len));
        if (r < 0) {
                /* The message names what and where, and is itself a valid id-like text. */
                REQUIRE(err.code == r && strncmp(err.text, "the id ", 7) == 0);
                REQUIRE(ref_id_ok((const unsigned char *) err.text, strlen(err.text)));
        }
}

static void check_unescape(const char *s, size_t len)
{
        char *copy = malloc(len + 1);
        char *ref = malloc(len + 1);
        REQUIRE(copy && ref);
        memcpy(copy, s, len + 1);
        int r = osb_http_unescape(copy);
        long n = ref_unescape(s, ref);
        REQUIRE(r == 0 || r == -EINVAL);
        REQUIRE((r < 0) == (n < 0));
        memcpy(copy, s, len + 1);
        ssize_t k = osb_http_unescape_len(copy);
        REQUIRE((k < 0) == (n < 0));
        if (k >= 0) {
                /* The length counts decoded NULs, so callers can refuse them; the router checks
                 * the decoded bytes as an id. */
                REQUIRE(k == n && memcmp(copy, ref, (size_t) n) == 0 && copy[k] == '\0');
                check_id(copy, (size_t) k);
        }
        memcpy(copy, s, len + 1);
        r = osb_http_unescape(copy);
        if (r == 0) {
                /* Decoded bytes may include NUL (%00): compare the reference up to the first one. */
                size_t m = strnlen(ref, (size_t) n);
                REQUIRE(strlen(copy) == m && memcmp(copy, ref, m) == 0);
        }
        free(copy);
        free(ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static bool ready;
        if (!ready) {
                osb_mem_setup();
                struct osb_error err = OSB_ERROR_INIT;
                REQUIRE(auth_load(&both, USERNAME, PASSWORD, NULL, TOKEN, NULL, &err) == 0);
                REQUIRE(auth_load(&none, NULL, NULL, NULL, NULL, NULL, &err) == 0);
                ready = true;
        }
        if (size > 64 * 1024)
                return 0;
        size_t len = strnlen((const char *) data, size);
        char *s = malloc(len + 1);
        REQUIRE(s);
        memcpy(s, data, len);
        s[len] = '\0';

        check_version(s);
        check_identity(s);
        check_base64(s);
        check_auth(s);
        check_unescape(s, len);
        check_id((const char *) data, size);
        check_bool(s);
        REQUIRE(!auth_check(&both, NULL));

        free(s);
        return 0;
}
