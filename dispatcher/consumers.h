/*
 * Each tenant's read-only events consumer on the event stream: the durable
 * pull consumer events_<T> filtered to <p>.evt.<T>.>, which the tenant's
 * identities may read (info, next, ack) but not create, change or delete
 * (natsauth.h). The dispatcher makes them when it starts and, for tenants
 * loaded later, every 5 s; reads the tenants on the dispatcher's
 * connection, outside any batch.
 */
#ifndef TL_CONSUMERS_H
#define TL_CONSUMERS_H

#include "dsp.h"

/* Make the consumers of the tenants that have none yet (since start).
 * Errors: those of the database and JetStream (ST_BUS). */
status dsp_consumers_ensure(dispatcher *d, err *e);

#endif
