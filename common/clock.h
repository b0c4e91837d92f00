/* Time helpers. Business time (deadlines, leases) comes from PostgreSQL's
 * now(); these are for measuring and for local timers only. */
#ifndef TL_CLOCK_H
#define TL_CLOCK_H

#include <stdint.h>

/* Monotonic microseconds, for intervals and timers. */
int64_t clock_mono_us(void);

/* Wall-clock microseconds since the Unix epoch, for latency across
 * processes on one machine. */
int64_t clock_wall_us(void);

/* Sleep for ms milliseconds (restarting on signals). */
void clock_sleep_ms(int ms);

#endif
