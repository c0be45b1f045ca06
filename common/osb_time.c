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
