/*
 * What a batch does after its requests: persist the router's decisions
 * as offers (or assignments on auto-accepting channels) and queue them,
 * and the timers — offers not answered in time, lapsed leases, ended
 * wrap-ups, tasks past their time to live. Writes in the batch's
 * transaction; offers and notices go out through the post-commit queue.
 */
#ifndef TL_OFFERS_H
#define TL_OFFERS_H

#include "dsp.h"

status dsp_route_and_offer(dispatcher *d, err *e);
/* Cancel the tasks past their time to live, with their cases. */
status dsp_expire_tasks(dispatcher *d, err *e);
status dsp_expire_offers(dispatcher *d, err *e);
status dsp_expire_leases(dispatcher *d, err *e);
/* Put tasks accepted longer than --max-handle-ms ago and not completed
 * back in the queue (rescinded, the worker told and not offered them
 * again). */
status dsp_expire_handles(dispatcher *d, err *e);
/* Complete the wrapping tasks whose wrap-up ended (database time) and give
 * their workers' slots back. */
status dsp_wrap_end(dispatcher *d, err *e);

#endif
