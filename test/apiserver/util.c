/* test/apiserver/util.c: timestamps, uids, base64, name validation, JSON paths. */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "test/apiserver/util.h"

#include <sys/random.h>

const char *util_time_rfc3339(time_t t, char *buf, size_t n)
{
        struct tm tm;
        gmtime_r(&t, &tm);
        if (strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0 && n)
                buf[0] = '\0';
        return buf;
}

const char *util_now_micro(char *buf, size_t n)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        char base[32];
        if (strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
                base[0] = '\0';
        (void) snprintf(buf, n, "%s.%06ldZ", base, (long) (ts.tv_nsec / 1000));
        return buf;
}

static int digits(const char *s, int n, int *ret)
{
        int v = 0;
        for (int i = 0; i < n; i++) {
                if (!isdigit((unsigned char) s[i]))
                        return -EINVAL;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return 0;
}

int util_parse_time(const char *s, time_t *ret)
{
        int y, mo, d, h, mi, sec;
        if (!s || strlen(s) < 20 || digits(s, 4, &y) < 0 || s[4] != '-' || digits(s + 5, 2, &mo) < 0 ||
            s[7] != '-' || digits(s + 8, 2, &d) < 0 || (s[10] != 'T' && s[10] != 't') ||
            digits(s + 11, 2, &h) < 0 || s[13] != ':' || digits(s + 14, 2, &mi) < 0 || s[16] != ':' ||
            digits(s + 17, 2, &sec) < 0)
                return -EINVAL;
        const char *p = s + 19;
        if (*p == '.') {
                p++;
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                while (isdigit((unsigned char) *p))
                        p++;
        }
        long off = 0;
        if (*p == 'Z' || *p == 'z') {
                p++;
        } else if (*p == '+' || *p == '-') {
                int oh, om;
                if (digits(p + 1, 2, &oh) < 0 || p[3] != ':' || digits(p + 4, 2, &om) < 0)
                        return -EINVAL;
                off = (oh * 3600L + om * 60L) * (*p == '+' ? 1 : -1);
                p += 6;
        } else {
                return -EINVAL;
        }
        if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
                return -EINVAL;
        struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = sec};
        *ret = timegm(&tm) - off;
        return 0;
}

const char *util_human_duration(int64_t s, char *buf, size_t n)
{
        if (s < -1) {
                (void) snprintf(buf, n, "<invalid>");
                return buf;
        }
        if (s < 0)
                s = 0;
        int64_t m = s / 60, h = s / 3600, d = h / 24;
        if (s < 120)
                (void) snprintf(buf, n, "%" PRId64 "s", s);
        else if (m < 10)
                (void) snprintf(buf, n, s % 60 ? "%" PRId64 "m%" PRId64 "s" : "%" PRId64 "m", m, s % 60);
        else if (m < 180)
                (void) snprintf(buf, n, "%" PRId64 "m", m);
        else if (h < 8)
                (void) snprintf(buf, n, m % 60 ? "%" PRId64 "h%" PRId64 "m" : "%" PRId64 "h", h, m % 60);
        else if (h < 48)
                (void) snprintf(buf, n, "%" PRId64 "h", h);
        else if (h < 24 * 8)
                (void) snprintf(buf, n, h % 24 ? "%" PRId64 "d%" PRId64 "h" : "%" PRId64 "d", d, h % 24);
        else if (h < 24 * 365 * 2)
                (void) snprintf(buf, n, "%" PRId64 "d", d);
        else if (h < 24 * 365 * 8)
                (void) snprintf(buf, n, d % 365 ? "%" PRId64 "y%" PRId64 "d" : "%" PRId64 "y", d / 365, d % 365);
        else
                (void) snprintf(buf, n, "%" PRId64 "y", d / 365);
        return buf;
}

static void random_bytes(void *p, size_t n)
{
        uint8_t *b = p;
        while (n) {
                ssize_t r = getrandom(b, n, 0);
                if (r <= 0) {
                        /* getrandom() on Linux does not fail for small requests once seeded;
                         * fall back to something rather than abort a test server. */
                        for (size_t i = 0; i < n; i++)
                                b[i] = (uint8_t) rand();
                        return;
                }
                b += r;
                n -= (size_t) r;
        }
}

void util_uuid(char buf[37])
{
        uint8_t u[16];
        random_bytes(u, sizeof(u));
        u[6] = (uint8_t) ((u[6] & 0x0f) | 0x40);
        u[8] = (uint8_t) ((u[8] & 0x3f) | 0x80);
        (void) snprintf(buf, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                        u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
                        u[14], u[15]);
}

void util_random_suffix(char *buf, size_t n)
{
        /* apimachinery's utilrand alphabet: no vowels, no confusable characters. */
        static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
        uint8_t r[64];
        if (n > sizeof(r))
                n = sizeof(r);
        random_bytes(r, n);
        for (size_t i = 0; i < n; i++)
                buf[i] = alphabet[r[i] % (sizeof(alphabet) - 1)];
        buf[n] = '\0';
}

static bool is_alnum_lower(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? over @n bytes: no length limit (the callers have theirs). */
static bool label_part(const char *s, size_t n)
{
        if (n == 0 || !is_alnum_lower(s[0]) || !is_alnum_lower(s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_alnum_lower(s[i]) && s[i] != '-')
                        return false;
        return true;
}

bool util_matches_dns1123_label(const char *s)
{
        return label_part(s, strlen(s));
}

bool util_matches_dns1035_label(const char *s)
{
        return *s >= 'a' && *s <= 'z' && label_part(s, strlen(s));
}

/* The regex of apimachinery's IsDNS1123Subdomain: labels joined by dots. Unlike DNS, no label
 * length limit: only the whole name's (253). */
bool util_matches_dns1123_subdomain(const char *s)
{
        const char *p = s;
        for (;;) {
                const char *dot = strchr(p, '.');
                size_t len = dot ? (size_t) (dot - p) : strlen(p);
                if (!label_part(p, len))
                        return false;
                if (!dot)
                        return true;
                p = dot + 1;
        }
}

bool util_is_dns1123_label(const char *s)
{
        return strlen(s) <= 63 && util_matches_dns1123_label(s);
}

bool util_is_dns1035_label(const char *s)
{
        return strlen(s) <= 63 && util_matches_dns1035_label(s);
}

bool util_is_dns1123_subdomain(const char *s)
{
        return strlen(s) <= 253 && util_matches_dns1123_subdomain(s);
}

bool util_is_config_key(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > 253 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || strncmp(s, "..", 2) == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
                        return false;
        return true;
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], at most @max. */
static bool name_part(const char *s, size_t n, size_t max, bool allow_empty)
{
        if (n == 0)
                return allow_empty;
        if (n > max || !isalnum((unsigned char) s[0]) || !isalnum((unsigned char) s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
                        return false;
        return true;
}

bool util_is_qualified_name(const char *s)
{
        const char *slash = strchr(s, '/');
        if (!slash)
                return name_part(s, strlen(s), 63, false);
        size_t plen = (size_t) (slash - s);
        char prefix[254];
        if (plen == 0 || plen >= sizeof(prefix))
                return false;
        memcpy(prefix, s, plen);
        prefix[plen] = '\0';
        return util_is_dns1123_subdomain(prefix) && name_part(slash + 1, strlen(slash + 1), 63, false);
}

bool util_is_label_value(const char *s)
{
        return name_part(s, strlen(s), 63, true);
}

bool util_matches_label_value(const char *s)
{
        return name_part(s, strlen(s), SIZE_MAX, true);
}

json_t *util_json_get_path(const json_t *obj, const char *dotted)
{
        char key[256];
        const json_t *cur = obj;
        const char *p = dotted;
        if (*p == '.')
                p++;
        while (cur && *p) {
                const char *dot = strchr(p, '.');
                size_t len = dot ? (size_t) (dot - p) : strlen(p);
                if (len >= sizeof(key))
                        return NULL;
                memcpy(key, p, len);
                key[len] = '\0';
                cur = json_object_get(cur, key);
                p += len + (dot ? 1 : 0);
        }
        return (json_t *) cur;
}

const char *util_json_str2(const json_t *obj, const char *a, const char *b)
{
        const json_t *v = json_object_get(obj, a);
        if (b)
                v = json_object_get(v, b);
        return json_string_value(v);
}

json_t *util_json_obj_ensure(json_t *obj, const char *key)
{
        json_t *v = json_object_get(obj, key);
        if (json_is_object(v))
                return v;
        v = json_object();
        if (!v || json_object_set_new(obj, key, v) < 0)
                return NULL;
        return v;
}

bool util_json_strarr_remove(json_t *arr, const char *s)
{
        bool found = false;
        for (size_t i = 0; i < json_array_size(arr);) {
                if (osb_streq(json_string_value(json_array_get(arr, i)), s)) {
                        (void) json_array_remove(arr, i);
                        found = true;
                } else {
                        i++;
                }
        }
        return found;
}

bool util_json_strarr_has(const json_t *arr, const char *s)
{
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
                if (osb_streq(json_string_value(v), s))
                        return true;
        return false;
}

int util_quote(char *buf, size_t n, const char *s)
{
        size_t o = 0;
        if (n < 3)
                return -ENOSPC;
        buf[o++] = '"';
        for (const char *p = s ? s : ""; *p && o + 3 < n; p++) {
                if (*p == '"' || *p == '\\')
                        buf[o++] = '\\';
                buf[o++] = *p;
        }
        buf[o++] = '"';
        buf[o] = '\0';
        return 0;
}
