/*
 * The dispatcher's reads of reservations: what it knows of a set of
 * reservations (for the checks of complete and feedback, and for the
 * answers to accepts, rejects and completions that a fenced write did not
 * match), the task of each as its accepting worker sees it, and the
 * diagnosis of a write that matched nothing. One statement per call,
 * whatever the number of reservations.
 *
 * Reads only, inside the caller's transaction; nothing here queues a
 * message or touches routing state.
 */
#ifndef TL_RESERVATIONS_H
#define TL_RESERVATIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "err.h"
#include "ids.h"
#include "keystore.h"

/* One reservation as dispatcher/sql/res_lookup.sql reads it. */
typedef struct dsp_res {
    bool found; /* false: no such reservation; the rest is zero */
    int64_t id;
    char worker[ID_MAX + 1];
    int64_t epoch;
    char state[16]; /* pending, accepted, rejected, timeout, ... */
    int64_t task_id;
    int64_t case_id;
    char step[ID_MAX + 1];
    char tenant[ID_MAX + 1];
    char case_type[ID_MAX + 1];
    int version; /* of the case's playbook */
    int priority;
    int64_t outcome_id; /* the outcome recorded with it; 0: none */
    bool billable;
} dsp_res;

/* out[i] for ids[i], i < n (an id may appear more than once). */
status dsp_res_lookup(db *c, const int64_t *ids, int n, dsp_res *out, err *e);

/* views[i] for ids[i]: the task as the accepting worker sees it (JSON
 * text, the caller frees each), the case's sealed customer and personal
 * payload fields opened with ks; NULL when there is no such reservation.
 * On failure nothing is written (ST_UNAVAILABLE: a data key this
 * dispatcher cannot unwrap; ST_INVALID: a sealed value that does not
 * open). */
status dsp_res_task_views(db *c, keystore *ks, const int64_t *ids, int n,
                          char **views, err *e);

/* Is r held by worker at epoch, in state? */
bool dsp_res_is(const dsp_res *r, const char *worker, int64_t epoch,
                const char *state);

/* Why a fenced write of worker at epoch on reservation res_id (looked up
 * as r) matched nothing: sets e and returns the client error (ST_NOT_FOUND,
 * ST_NOT_YOURS, ST_STALE). */
status dsp_res_diagnose(const dsp_res *r, int64_t res_id, const char *worker,
                        int64_t epoch, err *e);

#endif
