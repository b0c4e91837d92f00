/*
 * The audit record of an operator's request that changed something (its
 * actions on workers and tasks, ops_actions.h, and call-ups, callup.h), in
 * the batch's records (dispatcher.c appends them before its commit).
 */
#ifndef TL_OPS_RECORD_H
#define TL_OPS_RECORD_H

#include "dsp.h"
#include "ops_msg.h"

/*
 * Record request q, decoded as r, with its result res: action the verb,
 * party operator:<op>, identity the operator's tool whose private inbox
 * gets the reply ("-" without one), subjects task:<id> or worker:<id>,
 * details ops_msg_details. The change is made already, so a record that
 * cannot be kept is ST_INTERNAL and fails the batch.
 */
status dsp_ops_record(dispatcher *d, const dsp_req *q, const ops_req *r,
                      const ops_result *res, err *e);

#endif
