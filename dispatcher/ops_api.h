/*
 * Operator requests over NATS (docs/protocol.md, "Operator requests"):
 * <p>.ops.task.priority changes an open task's priority. The subject
 * carries no identity; NATS permissions must confine <p>.ops.> to
 * operators. Handler as dsp.h describes it.
 */
#ifndef TL_OPS_API_H
#define TL_OPS_API_H

#include "dsp.h"

status dsp_ops_priority(dispatcher *d, const dsp_req *reqs, int n, err *e);

#endif
