/*
 * The operator's actions on its workers and tasks (docs/protocol.md,
 * "Operator requests"): <p>.ops.<operator>.worker.deactivate, .activate,
 * .logout, .skills, .pool, and .task.reassign, .cancel. One handler serves
 * every verb (it reads the verb from the subject); each request is checked
 * in full before anything is written — the worker or task must be the
 * operator's (not_found, not_yours), the input valid (invalid_value) — so a
 * refused request changes nothing. What it changes is written in the
 * batch's transaction, applied to the router, and recorded in the audit
 * trail (action as the verb, party operator:<op>). Handler as dsp.h
 * describes it.
 */
#ifndef TL_OPS_ACTIONS_H
#define TL_OPS_ACTIONS_H

#include "dsp.h"

status dsp_ops_action(dispatcher *d, const dsp_req *reqs, int n, err *e);

#endif
