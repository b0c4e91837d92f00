/*
 * Staffing a pool per interval: how many workers must be logged in, and
 * how many scheduled, for the forecast arrivals and handle time of each
 * interval to meet the pool's target.
 *
 * The model (docs/staffing.md has the reasoning):
 *   - A worker handles `slots` items at once (1 for voice, 2-4 for chat,
 *     several for back office). The pool is taken as workers * slots
 *     servers fed from one queue, which is how the router fills any free
 *     slot of any eligible worker.
 *   - Concurrency slows each item down: with k slots an item's handle time
 *     is aht * (1 + concurrency_penalty * (k - 1)). Set the penalty to 0
 *     when the handle time given was measured under the same concurrency.
 *   - The servers are sized with Erlang C, Erlang A (with patience) or, for
 *     work with deadlines of hours (back office), the workload model
 *     servers = load / max_occupancy; then workers = ceil(servers / slots).
 *   - Shrinkage (breaks, training, meetings) is time scheduled but not
 *     available: scheduled = ceil(workers / (1 - shrinkage)).
 * Every interval is taken as a steady state of its own (the arrivals of an
 * interval do not carry over into the next), the usual assumption of
 * interval staffing; it understates the need just after a sharp peak.
 *
 * Pure functions, no I/O; results through out parameters written only on
 * success; ST_INVALID with a sentence for bad input.
 */
#ifndef TL_STAFFING_H
#define TL_STAFFING_H

#include <stddef.h>

#include "erlang.h"

#define STAFFING_MODEL_LIST(X)                                                 \
    X(STAFFING_ERLANG_C, "erlang_c")                                           \
    X(STAFFING_ERLANG_A, "erlang_a")                                           \
    X(STAFFING_WORKLOAD, "workload")

typedef enum staffing_model {
#define STAFFING_X(name, str) name,
    STAFFING_MODEL_LIST(STAFFING_X)
#undef STAFFING_X
} staffing_model;

/* Most slots one worker may hold at once. */
#define STAFFING_MAX_SLOTS 64

/* How a pool is staffed. */
typedef struct staffing_params {
    staffing_model model;
    double interval_s;          /* interval length in seconds, > 0 (900) */
    double threshold_s;         /* service-level threshold, seconds */
    double patience_s;          /* Erlang A: mean patience, seconds */
    erlang_target target;       /* the workload model uses max_occupancy */
    int slots;                  /* items per worker at once, 1..64 */
    double concurrency_penalty; /* extra handle time per extra slot, >= 0 */
    double shrinkage;           /* share of scheduled time unavailable, [0,1) */
    int min_workers;            /* fewest logged in at any interval, >= 0 */
} staffing_params;

/*
 * The figure for one interval. The four figures at the end are those of
 * all the workers' slots (workers * slots servers); they are 0 for an
 * interval without arrivals, and the workload model fills only occupancy
 * (p_abandon is 0 but for Erlang A).
 */
typedef struct staffing_interval {
    int servers;          /* slots the model needs */
    int workers;          /* logged in: ceil(servers / slots), >= minimum */
    int scheduled;        /* ceil(workers / (1 - shrinkage)) */
    double erlangs;       /* offered load on the slots */
    double service_level; /* share answered within threshold_s */
    double asa_s;         /* mean wait of answered items, seconds */
    double p_abandon;     /* share hanging up (Erlang A) */
    double occupancy;     /* busy share of the slots */
} staffing_interval;

/* "erlang_c", "erlang_a", "workload"; "?" outside the enum. */
const char *staffing_model_name(staffing_model m);

/* Parse a model name into *out; ST_INVALID names the valid ones. */
status staffing_model_parse(const char *name, staffing_model *out, err *e);

/*
 * Defaults for a voice pool: Erlang C, 15-minute intervals, 80% within
 * 20 s, one slot, no penalty, no shrinkage.
 */
void staffing_params_default(staffing_params *p);

/* Check p; ST_INVALID naming the first bad field. */
status staffing_params_check(const staffing_params *p, err *e);

/*
 * Staff one interval with `arrivals` >= 0 items offered in it and mean
 * handle time aht_s (> 0 when arrivals > 0; ignored otherwise). An
 * interval without arrivals needs no server and gets min_workers workers
 * with zero figures. ST_INVALID for bad params or input, or a load the
 * model cannot staff (see erlang_c_agents, erlang_a_agents).
 */
status staffing_required(const staffing_params *p, double arrivals,
                         double aht_s, staffing_interval *out, err *e);

/*
 * Staff n intervals: out[i] from arrivals[i] and aht_s[i]. On failure the
 * message names the interval and the contents of out are unspecified.
 */
status staffing_plan(const staffing_params *p, const double *arrivals,
                     const double *aht_s, size_t n, staffing_interval *out,
                     err *e);

/* ceil(workers / (1 - shrinkage)), tolerant of rounding (14 / 0.7 is 20). */
int staffing_with_shrinkage(int workers, double shrinkage);

#endif
