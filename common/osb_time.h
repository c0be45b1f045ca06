/* common/osb_time.h: the monotonic clock and sleeping, for time-outs and polling loops; and
 * wall-clock times as Kubernetes writes them (RFC 3339 in UTC), the one parser and formatter of
 * those for the whole tree. */
#pragma once

#include <stdint.h>
#include <time.h>

/* Milliseconds on CLOCK_MONOTONIC (not wall time: for durations and deadlines only). */
int64_t osb_mono_ms(void);
/* Sleeps @ms milliseconds (<= 0: not at all), resuming after signals. */
void osb_sleep_ms(int64_t ms);

/* Room for either formatted time, with its NUL. */
#define OSB_TIME_RFC3339_MAX 40

/* @t as Kubernetes' metav1.Time: "2006-01-02T15:04:05Z". */
void osb_time_format_rfc3339(time_t t, char out[OSB_TIME_RFC3339_MAX]);
/* @ts (CLOCK_REALTIME) as Kubernetes' metav1.MicroTime: "2006-01-02T15:04:05.000000Z". */
void osb_time_format_rfc3339_micro(const struct timespec *ts, char out[OSB_TIME_RFC3339_MAX]);
/* "YYYY-MM-DDTHH:MM:SS" with an optional fraction of a second (dropped) and "Z" (as both formats
 * above write it) or a numeric offset "+hh:mm" / "-hh:mm" (RFC 3339, as brokers may write
 * metadata.expires_at), each field its exact number of digits and within its range. Returns 0
 * with *ret the seconds since the epoch (the offset applied), or -EINVAL (NULL, a lower-case
 * "t" or "z", an offset without its colon, anything else). */
int osb_time_parse_rfc3339(const char *s, time_t *ret);
