/*
 * The outbox relay: a thread of its own, with its own database
 * connection, that publishes committed events to JetStream and marks them
 * published once acknowledged. With several dispatchers only the lead's
 * relay publishes (d->relay_lead, partition.h), every partition's events
 * in the order of their ids.
 */
#ifndef TL_OUTBOX_H
#define TL_OUTBOX_H

#include "dsp.h"

status dsp_outbox_start(dispatcher *d, err *e);
/* Wake the relay: the batch just committed wrote events. */
void dsp_outbox_kick(dispatcher *d);
/* Stop the relay and wait for it; a no-op when it is not running. */
void dsp_outbox_stop(dispatcher *d);

#endif
