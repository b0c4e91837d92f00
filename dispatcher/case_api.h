/*
 * The bank API (docs/protocol.md, "Bank API"): submit, get, reopen and
 * complaint. Handlers as dsp.h describes them; the tenant is the party of
 * each request's subject. Submits and gets are written and read with one
 * statement per step for all of a batch's requests.
 */
#ifndef TL_CASE_API_H
#define TL_CASE_API_H

#include "dsp.h"

status dsp_case_submit(dispatcher *d, const dsp_req *reqs, int n, err *e);
status dsp_case_get(dispatcher *d, const dsp_req *reqs, int n, err *e);
status dsp_case_reopen(dispatcher *d, const dsp_req *reqs, int n, err *e);
status dsp_case_complaint(dispatcher *d, const dsp_req *reqs, int n, err *e);

#endif
