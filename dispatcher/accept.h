/*
 * The accepts of a batch (docs/protocol.md, "Accept"): one statement
 * accepts all of them, one read gives the tasks to reply with. Handler as
 * dsp.h describes it; the worker is the party of each request's subject.
 */
#ifndef TL_ACCEPT_H
#define TL_ACCEPT_H

#include "dsp.h"

status dsp_accept(dispatcher *d, const dsp_req *reqs, int n, err *e);
/* accept_many: each accept as a request answered by dsp_accept, one reply
 * per request (bulk.h). */
status dsp_accept_many(dispatcher *d, const dsp_req *reqs, int n, err *e);

#endif
