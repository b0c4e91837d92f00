/*
 * Case progression after tasks complete: ready the next steps, skip the
 * ones whose condition failed, close the cases whose playbook is finished
 * (with their case.closed events) — for every case of a batch in four
 * statements whatever their number. Writes in the caller's transaction
 * and adds the readied tasks to the router.
 */
#ifndef TL_PROGRESS_H
#define TL_PROGRESS_H

#include <stdint.h>

#include "dsp.h"

status dsp_progress_cases(dispatcher *d, const int64_t *case_ids, int n,
                          err *e);

#endif
