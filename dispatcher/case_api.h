/*
 * The bank API (docs/protocol.md, "Bank API"): submit, get, reopen and
 * complaint, and bulk submits. Handlers as dsp.h describes them; the tenant is
 * the party of each request's subject. Submits and gets are written and read
 * with one statement per step for all of a batch's requests.
 */
#ifndef TL_CASE_API_H
#define TL_CASE_API_H

#include "dsp.h"

status dsp_case_submit(dispatcher *d, const dsp_req *reqs, int n, err *e);
/* case.submit_many: each case as a submit answered by dsp_case_submit, one
 * reply per request (bulk.h); each case takes a token of the quota. */
status dsp_case_submit_many(dispatcher *d, const dsp_req *reqs, int n, err *e);
status dsp_case_get(dispatcher *d, const dsp_req *reqs, int n, err *e);
status dsp_case_reopen(dispatcher *d, const dsp_req *reqs, int n, err *e);
status dsp_case_complaint(dispatcher *d, const dsp_req *reqs, int n, err *e);

#endif
