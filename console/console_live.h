/*
 * Live updates for the dashboard by Server-Sent Events: the console
 * subscribes to the dispatcher's figures (<p>.stats.dispatcher, every few
 * seconds) and to the alerts (<p>.alerts.*), and each open stream sends
 * its operator's share of them, plus the live queues per pool and skill
 * from PostgreSQL, as events "stats", "queues" and "alert".
 */
#ifndef TL_CONSOLE_LIVE_H
#define TL_CONSOLE_LIVE_H

#include "bus.h"
#include "err.h"

typedef struct console_live console_live;

/* Subscribe on b (borrowed; it must outlive the hub). queues_ms: how
 * often a stream sends the queues. */
status console_live_create(console_live **out, bus *b, const char *prefix,
                           int queues_ms, err *e);

/* End every open stream (they return at once); further streams end
 * immediately. */
void console_live_stop(console_live *l);

/* Free; the bus must be closed first (no more deliveries). NULL no-op. */
void console_live_destroy(console_live *l);

#endif
