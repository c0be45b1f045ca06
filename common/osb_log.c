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

/* Appends to @line (size @n, @o used) with snprintf's truncation; returns the new length. */
static size_t append(char *line, size_t n, size_t o, const char *text)
{
        if (o + 1 >= n)
                return o;
        int k = snprintf(line + o, n - o, "%s", text);
        return k < 0 ? o : OSB_MIN(o + (size_t) k, n - 1);
}

/* Formats @fmt: literal text as it is (the keys, written by the program), every %s argument as
 * one logfmt value (osb_log_quote), a NULL %s argument as nothing, its " key=" dropped too, and
 * every other conversion (numbers) by vsnprintf's rules. */
static size_t format_tail(char *line, size_t n, size_t o, const char *fmt, va_list ap)
{
        const char *key_start = NULL;  /* where the current " key=" began in @line */
        size_t key_at = 0;
        bool drop_space = false;  /* the first key was left out: so is the space after it */
        for (const char *p = fmt; *p && o + 1 < n;) {
                if (*p != '%') {
                        if (drop_space && *p == ' ') {
                                drop_space = false;
                                p++;
                                continue;
                        }
                        drop_space = false;
                        if (*p == ' ' || p == fmt) {
                                key_start = p;
                                key_at = o;
                        }
                        line[o++] = *p++;
                        line[o] = '\0';
                        continue;
                }
                if (p[1] == '%') {
                        line[o++] = '%';
                        line[o] = '\0';
                        p += 2;
                        continue;
                }
                /* One conversion: %[flags][width][.precision][length]conversion. */
                char spec[32];
                size_t k = 0;
                const char *q = p + 1;
                int star[2], nstar = 0;
                while (*q && strchr("-+ #0", *q))
                        q++;
                if (*q == '*') {
                        star[nstar++] = va_arg(ap, int);
                        q++;
                }
                while (isdigit((unsigned char) *q))
                        q++;
                if (*q == '.') {
                        q++;
                        if (*q == '*') {
                                star[nstar++] = va_arg(ap, int);
                                q++;
                        }
                        while (isdigit((unsigned char) *q))
                                q++;
                }
                const char *len = q;
                while (*q && strchr("hljztL", *q))
                        q++;
                char conv = *q;
                if (!conv || (size_t) (q - p) + 2 > sizeof(spec))
                        break;
                k = (size_t) (q - p) + 1;
                memcpy(spec, p, k);
                spec[k] = '\0';
                p = q + 1;
                char num[128];
                num[0] = '\0';
                bool l = len[0] == 'l', ll = l && len[1] == 'l', z = len[0] == 'z', j = len[0] == 'j',
                     t = len[0] == 't', L = len[0] == 'L';
#define FMT_NUM(type) \
        (nstar == 2 ? snprintf(num, sizeof(num), spec, star[0], star[1], va_arg(ap, type)) \
         : nstar == 1 ? snprintf(num, sizeof(num), spec, star[0], va_arg(ap, type)) \
                      : snprintf(num, sizeof(num), spec, va_arg(ap, type)))
                switch (conv) {
                case 's': {
                        const char *v = va_arg(ap, const char *);
                        if (!v) {
                                /* An absent value: drop its " key=" too. */
                                if (key_start) {
                                        o = key_at;
                                        line[o] = '\0';
                                        drop_space = key_start == fmt;
                                }
                                continue;
                        }
                        char quoted[1600];
                        o = append(line, n, o, osb_log_quote(quoted, sizeof(quoted), v));
                        continue;
                }
                case 'd':
                case 'i':
                case 'u':
                case 'o':
                case 'x':
                case 'X':
                case 'c':
                        if (ll)
                                (void) FMT_NUM(long long);
                        else if (l)
                                (void) FMT_NUM(long);
                        else if (z)
                                (void) FMT_NUM(size_t);
                        else if (j)
                                (void) FMT_NUM(intmax_t);
                        else if (t)
                                (void) FMT_NUM(ptrdiff_t);
                        else
                                (void) FMT_NUM(int);
                        break;
                case 'f':
                case 'F':
                case 'e':
                case 'E':
                case 'g':
                case 'G':
                case 'a':
                case 'A':
                        if (L)
                                (void) FMT_NUM(long double);
                        else
                                (void) FMT_NUM(double);
                        break;
                case 'p':
                        (void) FMT_NUM(void *);
                        break;
                default:
                        /* Anything else would desynchronise the arguments: stop here. */
                        return o;
                }
#undef FMT_NUM
                if (conv == 'c') {
                        /* A character is a value like any other. */
                        char quoted[16];
                        o = append(line, n, o, osb_log_quote(quoted, sizeof(quoted), num));
                } else {
                        o = append(line, n, o, num);
                }
        }
        return o;
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
        if ((size_t) o >= sizeof(line) - 2)
                o = (int) sizeof(line) - 2;
        if (fmt && *fmt && (size_t) o < sizeof(line) - 2) {
                line[o++] = ' ';
                va_list ap;
                va_start(ap, fmt);
                o = (int) format_tail(line, sizeof(line) - 1, (size_t) o, fmt, ap);
                va_end(ap);
                /* Every value was quoted: nothing in the tail can end the line or start another. */
                for (int i = 0; i < o; i++)
                        if ((unsigned char) line[i] < ' ')
                                line[i] = ' ';
        }
        if ((size_t) o >= sizeof(line) - 1)
                o = (int) sizeof(line) - 2;
        line[o++] = '\n';
        ssize_t w = write(STDERR_FILENO, line, (size_t) o);
        (void) w;
}

int osb_log_fail(const char *prog, const char *what, const char *detail)
{
        osb_log_error(what, "error=%s", detail ? detail : "");
        fprintf(stderr, "%s: %s: %s\n", prog, what, detail);
        return EXIT_FAILURE;
}
