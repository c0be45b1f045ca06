/* common/osb_parse.c: strict number parsing. */
#include "common/osb_compat.h"
#include "common/osb_parse.h"

int osb_parse_int64(const char *s, int64_t min, int64_t max, int64_t *ret)
{
        if (!s || !*s || isspace((unsigned char) *s))
                return -EINVAL;
        char *end = NULL;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno || end == s || *end)
                return -EINVAL;
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int osb_parse_int64_word(const char *s, int64_t min, int64_t max, int64_t *ret, const char **end)
{
        if (!s)
                return -EINVAL;
        s += strspn(s, " \t");
        size_t n = strcspn(s, " \t\r\n");
        char word[24];
        if (n == 0 || n >= sizeof(word))
                return -EINVAL;
        memcpy(word, s, n);
        word[n] = '\0';
        int r = osb_parse_int64(word, min, max, ret);
        if (r == 0 && end)
                *end = s + n;
        return r;
}

int osb_parse_bool(const char *s, bool *ret)
{
        static const char *const yes[] = {"1", "true", "yes", "on"};
        static const char *const no[] = {"0", "false", "no", "off"};
        if (!s)
                return -EINVAL;
        for (unsigned i = 0; i < OSB_ELEMENTSOF(yes); i++) {
                if (strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

static int split_suffix(const char *s, char *num, size_t n, const char **ret_suffix)
{
        size_t i = 0;
        while (s[i] >= '0' && s[i] <= '9')
                i++;
        if (i == 0 || i >= n)
                return -EINVAL;
        memcpy(num, s, i);
        num[i] = '\0';
        *ret_suffix = s + i;
        return 0;
}

int osb_parse_size(const char *s, uint64_t max, uint64_t *ret)
{
        char num[32];
        const char *sfx;
        if (!s || split_suffix(s, num, sizeof(num), &sfx) < 0)
                return -EINVAL;
        int64_t v;
        int r = osb_parse_int64(num, 0, INT64_MAX, &v);
        if (r < 0)
                return r;
        uint64_t mul = 1;
        if (strcasecmp(sfx, "k") == 0 || strcasecmp(sfx, "kb") == 0 || strcasecmp(sfx, "kib") == 0)
                mul = 1024;
        else if (strcasecmp(sfx, "m") == 0 || strcasecmp(sfx, "mb") == 0 || strcasecmp(sfx, "mib") == 0)
                mul = 1024 * 1024;
        else if (strcasecmp(sfx, "g") == 0 || strcasecmp(sfx, "gb") == 0 || strcasecmp(sfx, "gib") == 0)
                mul = 1024 * 1024 * 1024;
        else if (*sfx && strcasecmp(sfx, "b") != 0)
                return -EINVAL;
        if ((uint64_t) v > max / mul)
                return -ERANGE;
        *ret = (uint64_t) v * mul;
        return 0;
}

int osb_parse_duration_ms(const char *s, int64_t *ret)
{
        char num[32];
        const char *sfx;
        if (!s || split_suffix(s, num, sizeof(num), &sfx) < 0)
                return -EINVAL;
        int64_t v;
        int r = osb_parse_int64(num, 0, INT64_MAX / 3600000, &v);
        if (r < 0)
                return r;
        if (strcmp(sfx, "ms") == 0)
                *ret = v;
        else if (*sfx == '\0' || strcmp(sfx, "s") == 0)
                *ret = v * 1000;
        else if (strcmp(sfx, "m") == 0)
                *ret = v * 60000;
        else if (strcmp(sfx, "h") == 0)
                *ret = v * 3600000;
        else
                return -EINVAL;
        return 0;
}

int osb_parse_go_duration_ms(const char *s, int64_t *ret)
{
        if (!s || !*s)
                return -EINVAL;
        double total = 0;
        const char *p = s;
        while (*p) {
                char *end;
                errno = 0;
                double v = strtod(p, &end);
                if (end == p || errno || v < 0 || *p == '+' || *p == '-' || isspace((unsigned char) *p))
                        return -EINVAL;
                p = end;
                double unit;
                if (strncmp(p, "ms", 2) == 0)
                        unit = 1, p += 2;
                else if (strncmp(p, "us", 2) == 0)
                        unit = 0.001, p += 2;
                else if (strncmp(p, "ns", 2) == 0)
                        unit = 0.000001, p += 2;
                else if (*p == 'h')
                        unit = 3600000, p++;
                else if (*p == 'm')
                        unit = 60000, p++;
                else if (*p == 's')
                        unit = 1000, p++;
                else
                        return -EINVAL;
                total += v * unit;
        }
        if (total < 1 || total > 9e15)
                return -EINVAL;
        *ret = (int64_t) total;
        return 0;
}
