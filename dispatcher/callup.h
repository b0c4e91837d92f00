/*
 * The elastic call-up, the dispatcher's part (docs/protocol.md, "Elastic
 * call-up"): the console decides whom to call and when to release them
 * (docs/http.md, "Elastic call-up"); the dispatcher checks each request,
 * records it in callups and the audit trail, and talks to the worker.
 *
 *   <p>.ops.<op>.callup.invite   an on-call, offline, active worker of the
 *                                operator's pool gets a callup notice
 *   <p>.agent.<w>.callup         the worker accepts or declines it
 *   <p>.ops.<op>.callup.release  a called-up worker holding no task goes
 *                                off shift (offline) with a callup_release
 *                                notice
 *
 * Handlers as dsp.h describes them; each request is checked before it
 * writes, so a refused one changes nothing.
 */
#ifndef TL_CALLUP_H
#define TL_CALLUP_H

#include "dsp.h"

status dsp_callup_ops(dispatcher *d, const dsp_req *reqs, int n, err *e);
status dsp_callup_answer(dispatcher *d, const dsp_req *reqs, int n, err *e);

#endif
