/* common/osb_log.h: logfmt logging, one line per event, to stderr. Only top-level code (request
 * handlers, main loops) logs; library functions return codes. Thread-safe. */
#pragma once

#include <stdbool.h>

enum osb_log_level { OSB_LOG_DEBUG, OSB_LOG_INFO, OSB_LOG_WARN, OSB_LOG_ERROR, OSB_LOG_OFF };

/* Parses "debug", "info", "warn", "error", "off". Returns 0 or -EINVAL. */
int osb_log_parse_level(const char *s, enum osb_log_level *ret);
void osb_log_set_level(enum osb_log_level lvl);
enum osb_log_level osb_log_get_level(void);
static inline bool osb_log_enabled(enum osb_log_level lvl)
{
        return lvl >= osb_log_get_level();
}

/* Writes `ts=... level=... msg="..." KEY=VALUE...` as one line when @lvl is enabled
 * (osb_log_enabled()), else nothing; the osb_log*() macros also skip evaluating the arguments
 * of a disabled level. @fmt (may be NULL) is the tail
 * of key=value pairs, keys written literally: "op=%s count=%zu". The logger escapes every value
 * itself, so callers pass raw strings and never quote: each %s argument becomes one logfmt value
 * (bare when safe, else "..." with \", \\, \n and \xNN escapes), so no value can end the
 * line, start a key, or forge another line; a NULL %s argument leaves out the value and its
 * " key=". Numeric conversions (%d, %u, %zu, PRId64, %.3f, ...) are formatted as printf does. */
void osb_log_write(enum osb_log_level lvl, const char *msg, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Quotes @s for a logfmt value into @buf (size @n): bare if safe, "..." with escapes otherwise.
 * Returns @buf. NULL becomes "". osb_log_write() does this to every %s value: not for its
 * callers. */
const char *osb_log_quote(char *buf, unsigned n, const char *s);

/* For a program that cannot start: logs `msg=WHAT error=DETAIL` and prints "PROG: WHAT: DETAIL"
 * on stderr (read by people starting it by hand). Returns EXIT_FAILURE. */
int osb_log_fail(const char *prog, const char *what, const char *detail);

#define osb_log(lvl, msg, ...)                                          \
        do {                                                            \
                if (osb_log_enabled(lvl))                               \
                        osb_log_write(lvl, msg, __VA_ARGS__);           \
        } while (0)
#define osb_log_debug(msg, ...) osb_log(OSB_LOG_DEBUG, msg, __VA_ARGS__)
#define osb_log_info(msg, ...) osb_log(OSB_LOG_INFO, msg, __VA_ARGS__)
#define osb_log_warn(msg, ...) osb_log(OSB_LOG_WARN, msg, __VA_ARGS__)
#define osb_log_error(msg, ...) osb_log(OSB_LOG_ERROR, msg, __VA_ARGS__)
