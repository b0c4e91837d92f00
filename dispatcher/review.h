/*
 * AI outcomes under human review (docs/protocol.md, "AI workers and
 * review"): which step reviews an ai: auto step, what a reviewer may
 * overturn to, and, after the completions of a batch are written, opening
 * the review tasks and recording the verdicts (one statement each).
 */
#ifndef TL_REVIEW_H
#define TL_REVIEW_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "dsp.h"

#define DSP_REVIEW_WHEN "ai_review"

typedef struct dsp_review_item {
    int64_t task_id;
    int confidence; /* per mille, -1: none given */
    bool review;    /* a review step's task (else an ai: auto step's) */
} dsp_review_item;

/* Is step the review step of an ai: auto step (after [X], when
 * ["ai_review"])? */
bool dsp_review_step(const playbook *pb, int step);

/* A review's `overturned` must name an outcome of the reviewed step that
 * has no fields (ST_OUTCOME_NOT_ALLOWED); anything else passes. */
status dsp_review_check(const playbook *pb, int step, const char *code,
                        const json_t *fields, err *e);

/* Bucket 0..999 of a task for review sampling. */
int dsp_review_bucket(int64_t task_id);

/* After the completions of items were written and before the cases
 * progress: open review tasks for AI outcomes that need one and record the
 * verdicts of finished reviews. */
status dsp_review_after(dispatcher *d, const dsp_review_item *items, int n,
                        err *e);

#endif
