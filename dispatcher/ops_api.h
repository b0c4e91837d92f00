/*
 * Operator requests over NATS (docs/protocol.md, "Operator requests"):
 * <p>.ops.<operator>.task.priority changes an open task's priority. The
 * server lets an operator's identity publish only under its own operator
 * (natsauth.h); the handler then refuses a task outside that operator's
 * pools (not_yours) and one that does not exist (not_found). Handler as
 * dsp.h describes it.
 */
#ifndef TL_OPS_API_H
#define TL_OPS_API_H

#include "dsp.h"

status dsp_ops_priority(dispatcher *d, const dsp_req *reqs, int n, err *e);

#endif
