/*
 * The assistant's feedback (<p>.agent.<worker>.feedback, docs/protocol.md
 * "Feedback"): what the assist panel showed and what the worker did with
 * it, stored in assist_feedback in the batch's transaction. Handler as
 * dsp.h describes it.
 */
#ifndef TL_FEEDBACK_API_H
#define TL_FEEDBACK_API_H

#include "dsp.h"

status dsp_feedback(dispatcher *d, const dsp_req *reqs, int n, err *e);

#endif
