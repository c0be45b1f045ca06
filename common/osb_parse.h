/* common/osb_parse.h: safe parsing of numbers, sizes and durations (no atoi). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Whole string must be a base-10 integer within [min, max]. Returns 0, -EINVAL or -ERANGE;
 * *ret written only on success. */
int osb_parse_int64(const char *s, int64_t min, int64_t max, int64_t *ret);
/* One word of a line: the base-10 integer that starts @s after any spaces and tabs and ends at a
 * space, tab, CR, LF or the end of @s, within [min, max]. Returns 0 with *ret and, when @end is
 * not NULL, *end just past the number; -EINVAL (no number there, or one followed by anything
 * else) or -ERANGE. For text such as "/proc/PID/stat" or a status line, in place of sscanf. */
int osb_parse_int64_word(const char *s, int64_t min, int64_t max, int64_t *ret, const char **end);
/* "true/false/yes/no/on/off/1/0" (case-insensitive). Returns 0 or -EINVAL. */
int osb_parse_bool(const char *s, bool *ret);
/* A byte size with optional suffix k, m, g (1024-based): "1m" -> 1048576. */
int osb_parse_size(const char *s, uint64_t max, uint64_t *ret);
/* A duration: plain seconds, or with suffix ms, s, m, h. Result in milliseconds. */
int osb_parse_duration_ms(const char *s, int64_t *ret);
/* A Go duration as Kubernetes objects hold them ("15m", "1h30m", "90s", "1h0m0s", "250ms",
 * "1.5s"; units h, m, s, ms, us, ns). Result in milliseconds. Returns 0, or -EINVAL for an
 * invalid one or one under a millisecond. */
int osb_parse_go_duration_ms(const char *s, int64_t *ret);
