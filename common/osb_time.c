/* common/osb_time.c: see osb_time.h. */
#include "common/osb_compat.h"
#include "common/osb_time.h"

int64_t osb_mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void osb_sleep_ms(int64_t ms)
{
        if (ms <= 0)
                return;
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

void osb_time_format_rfc3339(time_t t, char out[OSB_TIME_RFC3339_MAX])
{
        struct tm tm;
        gmtime_r(&t, &tm);
        (void) strftime(out, OSB_TIME_RFC3339_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void osb_time_format_rfc3339_micro(const struct timespec *ts, char out[OSB_TIME_RFC3339_MAX])
{
        struct tm tm;
        char base[24];
        gmtime_r(&ts->tv_sec, &tm);
        (void) strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
        (void) snprintf(out, OSB_TIME_RFC3339_MAX, "%s.%06dZ", base, (int) (ts->tv_nsec / 1000));
}

/* @n digits at *p, within [min, max]; advances *p. */
static int digits(const char **p, int n, int min, int max, int *ret)
{
        int v = 0;
        for (int i = 0; i < n; i++, (*p)++) {
                if (**p < '0' || **p > '9')
                        return -EINVAL;
                v = v * 10 + (**p - '0');
        }
        if (v < min || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int expect(const char **p, char c)
{
        if (**p != c)
                return -EINVAL;
        (*p)++;
        return 0;
}

int osb_time_parse_rfc3339(const char *s, time_t *ret)
{
        struct tm tm = {0};
        int year, mon;
        const char *p = s;
        if (!s || digits(&p, 4, 0, 9999, &year) < 0 || expect(&p, '-') < 0 || digits(&p, 2, 1, 12, &mon) < 0 ||
            expect(&p, '-') < 0 || digits(&p, 2, 1, 31, &tm.tm_mday) < 0 || expect(&p, 'T') < 0 ||
            digits(&p, 2, 0, 23, &tm.tm_hour) < 0 || expect(&p, ':') < 0 || digits(&p, 2, 0, 59, &tm.tm_min) < 0 ||
            expect(&p, ':') < 0 || digits(&p, 2, 0, 60, &tm.tm_sec) < 0)
                return -EINVAL;
        if (*p == '.') {
                const char *frac = ++p;
                while (*p >= '0' && *p <= '9')
                        p++;
                if (p == frac)
                        return -EINVAL;
        }
        /* "Z", or a numeric offset "+hh:mm" / "-hh:mm" (RFC 3339 time-numoffset; "-00:00" is UTC) */
        long offset = 0;
        if (*p == '+' || *p == '-') {
                int sign = *p++ == '-' ? -1 : 1, oh, om;
                if (digits(&p, 2, 0, 23, &oh) < 0 || expect(&p, ':') < 0 || digits(&p, 2, 0, 59, &om) < 0 || *p)
                        return -EINVAL;
                offset = sign * (oh * 3600L + om * 60L);
        } else if (strcmp(p, "Z") != 0) {
                return -EINVAL;
        }
        tm.tm_year = year - 1900;
        tm.tm_mon = mon - 1;
        *ret = timegm(&tm) - (time_t) offset;
        return 0;
}
