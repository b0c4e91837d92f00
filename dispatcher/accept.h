/*
 * The accepts of a batch (docs/protocol.md, "Accept"): one statement
 * accepts all of them, one read gives the tasks to reply with. Handler as
 * dsp.h describes it; the worker is the party of each request's subject.
 */
#ifndef TL_ACCEPT_H
#define TL_ACCEPT_H

#include "dsp.h"

status dsp_accept(dispatcher *d, const dsp_req *reqs, int n, err *e);

#endif
