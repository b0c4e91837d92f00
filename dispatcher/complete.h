/*
 * The completions of a batch (docs/protocol.md, "Complete"): each checked
 * on its own against its reservation and the step's outcomes, then one
 * statement writes all of them (task, reservation, outcome and outbox
 * rows), AI outcomes go to review and the cases they touched progress
 * together. Handler as dsp.h describes it; the worker is the party of
 * each request's subject.
 */
#ifndef TL_COMPLETE_H
#define TL_COMPLETE_H

#include "dsp.h"

status dsp_complete(dispatcher *d, const dsp_req *reqs, int n, err *e);
/* complete_many: each completion as a request answered by dsp_complete,
 * one reply per request (bulk.h). */
status dsp_complete_many(dispatcher *d, const dsp_req *reqs, int n, err *e);

#endif
