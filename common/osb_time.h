/* common/osb_time.h: the monotonic clock and sleeping, for time-outs and polling loops. */
#pragma once

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC (not wall time: for durations and deadlines only). */
int64_t osb_mono_ms(void);
/* Sleeps @ms milliseconds (<= 0: not at all), resuming after signals. */
void osb_sleep_ms(int64_t ms);
