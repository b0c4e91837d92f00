/*
 * The interval history (schema 014, docs/http.md "Interval history"): a
 * rollup of the tasks into one row per queue (pool, skill, channel) and
 * 15-minute interval, written once when the interval has closed, and the
 * samples of who is online and busy that give occupancy, online workers,
 * time in state and online hours.
 *
 * Cheap as months pass: an interval is computed from the tasks with an id
 * of at least the rollup's low task id, below which every task finished
 * before the last rolled interval; the watermark and that id move forward
 * in the same transaction as the rows, so a crash repeats nothing and
 * loses nothing.
 */
#ifndef TL_CONSOLE_ROLLUP_H
#define TL_CONSOLE_ROLLUP_H

#include "db.h"
#include "err.h"

/* Create the rollup's state when there is none: start at the earliest
 * task of the last backfill_days days. */
status console_rollup_init(db *d, int backfill_days, err *e);

/*
 * Roll up every interval that closed at least settle_s seconds ago, at
 * most max of them; *rolled (may be NULL) receives how many.
 */
status console_rollup_run(db *d, int settle_s, int max, int *rolled, err *e);

/* Take one sample of presence and load, standing for sample_ms. */
status console_rollup_sample(db *d, int sample_ms, err *e);

#endif
