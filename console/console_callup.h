/*
 * The elastic call-up's decisions (docs/http.md, "Elastic call-up"), run
 * by the leading console with its rollup: for every queue (pool, primary
 * skill, channel) the staffing figure for the next interval (tl_staffing,
 * the pool's model and target) against the workers online, and then
 * invitations to on-call workers (who earned least this month first) or
 * releases of called-up workers between tasks, with hysteresis. The
 * dispatcher does each one (<p>.ops.<op>.callup.invite | .release), records
 * it in callups and the audit trail and tells the worker.
 */
#ifndef TL_CONSOLE_CALLUP_H
#define TL_CONSOLE_CALLUP_H

#include <stdint.h>

#include "bus.h"
#include "db.h"
#include "err.h"

typedef struct console_callup console_callup;

typedef struct console_callup_opts {
    int window_s; /* arrivals counted over the last window_s (900) */
    int hold_s;   /* a surplus must last this long before a release (120) */
    int answer_s; /* an invitation's time to answer (120) */
    int request_timeout_ms;
} console_callup_opts;

/* *out is the caller's (console_callup_destroy); it keeps the surplus
 * timers between steps. */
status console_callup_create(console_callup **out, const console_callup_opts *o,
                             err *e);
void console_callup_destroy(console_callup *cu);

/*
 * One round over every operator's queues on d, sending invitations and
 * releases on b under prefix. *invited and *released (may be NULL) get
 * how many the dispatcher did. A refused request is logged and the round
 * goes on; errors are the database's.
 */
status console_callup_step(console_callup *cu, db *d, bus *b,
                           const char *prefix, int *invited, int *released,
                           err *e);

#endif
