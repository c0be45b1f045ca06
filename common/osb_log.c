/* common/osb_log.c: logfmt lines to stderr, each written with a single write(2) so lines from
 * different threads never interleave. */
#include "common/osb_compat.h"
#include "common/osb_log.h"

static _Atomic int log_level = OSB_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

int osb_log_parse_level(const char *s, enum osb_log_level *ret)
{
        for (unsigned i = 0; i < OSB_ELEMENTSOF(level_names); i++)
                if (s && strcasecmp(s, level_names[i]) == 0) {
                        *ret = (enum osb_log_level) i;
                        return 0;
                }
        if (s && strcasecmp(s, "warning") == 0) {
                *ret = OSB_LOG_WARN;
                return 0;
        }
        return -EINVAL;
}

void osb_log_set_level(enum osb_log_level lvl)
{
        atomic_store(&log_level, (int) lvl);
}

enum osb_log_level osb_log_get_level(void)
{
        return (enum osb_log_level) atomic_load_explicit(&log_level, memory_order_relaxed);
}

const char *osb_log_quote(char *buf, unsigned n, const char *s)
{
        if (!s)
                s = "";
        bool bare = *s != '\0';
        for (const char *p = s; *p && bare; p++)
                if ((unsigned char) *p <= ' ' || *p == '"' || *p == '=' || *p == '\\' ||
                    (unsigned char) *p >= 0x7f)
                        bare = false;
        if (bare) {
                (void) snprintf(buf, n, "%s", s);
                return buf;
        }
        unsigned o = 0;
        if (n < 3) {
                if (n)
                        buf[0] = '\0';
                return buf;
        }
        buf[o++] = '"';
        for (const char *p = s; *p && o + 6 < n; p++) {
                unsigned char c = (unsigned char) *p;
                if (c == '"' || c == '\\') {
                        buf[o++] = '\\';
                        buf[o++] = (char) c;
                } else if (c == '\n') {
                        buf[o++] = '\\';
                        buf[o++] = 'n';
                } else if (c < ' ' || c == 0x7f) {
                        o += (unsigned) snprintf(buf + o, n - o, "\\x%02x", c);
                } else {
                        buf[o++] = (char) c;
                }
        }
        buf[o++] = '"';
        buf[o] = '\0';
        return buf;
}

void osb_log_write(enum osb_log_level lvl, const char *msg, const char *fmt, ...)
{
        /* The level check is here too: a caller that computes @lvl and calls this directly
         * (not through osb_log()) must not print debug lines at the default info level. */
        if (lvl >= OSB_LOG_OFF || !osb_log_enabled(lvl))
                return;
        char line[2048];
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);

        char qmsg[512];
        int o = snprintf(line, sizeof(line), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s msg=%s",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                         tm.tm_sec, ts.tv_nsec / 1000000, level_names[lvl],
                         osb_log_quote(qmsg, sizeof(qmsg), msg));
        if (o < 0)
                return;
        if (fmt && *fmt && (size_t) o < sizeof(line) - 2) {
                line[o++] = ' ';
                va_list ap;
                va_start(ap, fmt);
                int k = vsnprintf(line + o, sizeof(line) - (size_t) o, fmt, ap);
                va_end(ap);
                if (k > 0)
                        o += k;
        }
        if ((size_t) o >= sizeof(line) - 1)
                o = (int) sizeof(line) - 2;
        line[o++] = '\n';
        ssize_t w = write(STDERR_FILENO, line, (size_t) o);
        (void) w;
}

int osb_log_fail(const char *prog, const char *what, const char *detail)
{
        char q[2048];
        osb_log_error(what, "error=%s", osb_log_quote(q, sizeof(q), detail));
        fprintf(stderr, "%s: %s: %s\n", prog, what, detail);
        return EXIT_FAILURE;
}
