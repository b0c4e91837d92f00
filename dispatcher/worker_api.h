/*
 * The agent's presence, heartbeat and reject requests of a batch
 * (docs/protocol.md, "Worker agent protocol"), each kind written with one
 * statement for all of its requests. Handlers as dsp.h describes them;
 * the worker is the party of each request's subject.
 */
#ifndef TL_WORKER_API_H
#define TL_WORKER_API_H

#include "dsp.h"

status dsp_presence(dispatcher *d, const dsp_req *reqs, int n, err *e);
status dsp_heartbeat(dispatcher *d, const dsp_req *reqs, int n, err *e);
status dsp_reject(dispatcher *d, const dsp_req *reqs, int n, err *e);

#endif
