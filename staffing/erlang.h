/*
 * Erlang B and Erlang C: the loss system M/M/n/n and the delay system M/M/n
 * with infinitely patient customers, for staffing a queue of calls.
 *
 * Pure functions: no I/O, no allocation, no global state. Every result goes
 * through a trailing out parameter that is written only on success; bad
 * input fails with ST_INVALID and a sentence naming the field.
 *
 * Numerical stability: no factorial and no power of the load is ever formed.
 * Erlang B comes from the recursion B(k) = a B(k-1) / (k + a B(k-1)), which
 * adds and divides positive numbers only and shrinks rounding errors from
 * step to step; it switches to logarithms once B falls below 1e-250, so
 * pools far larger than the load (B underflowing a double) stay finite.
 * Erlang C and the service level are formed from B with sums of positive
 * terms only (see docs/staffing.md), so thousands of agents at 99% load
 * are computed to about 1e-14.
 *
 * Units: rates per second, times in seconds. The offered load a (Erlangs)
 * is rate * aht_s.
 */
#ifndef TL_ERLANG_H
#define TL_ERLANG_H

#include "err.h"

/* Largest pool the searches consider; beyond it they fail with ST_INVALID. */
#define ERLANG_MAX_AGENTS 10000000

/* A queue of work. Erlang C ignores patience_s. */
typedef struct erlang_queue {
    double rate;        /* arrivals per second, > 0 */
    double aht_s;       /* mean handle time in seconds, > 0 */
    double threshold_s; /* service-level threshold in seconds, >= 0 */
    double patience_s;  /* Erlang A: mean patience in seconds, > 0 */
} erlang_queue;

/*
 * What a staffing search must reach. A field left 0 is no constraint; at
 * least one must be set.
 */
typedef struct erlang_target {
    double service_level; /* share answered within threshold_s, in (0, 1) */
    double asa_s;         /* largest mean wait of answered calls, > 0 */
    double max_occupancy; /* largest agent occupancy, in (0, 1] */
    double max_abandon;   /* Erlang A only: largest share abandoning, (0,1) */
} erlang_target;

/* Erlang C figures for one pool size. */
typedef struct erlang_c_result {
    int agents;
    double erlangs;       /* offered load a = rate * aht_s */
    double p_wait;        /* probability an arrival waits, C(n, a) */
    double service_level; /* share answered within threshold_s */
    double asa_s;         /* mean wait over all arrivals, seconds */
    double mean_queue;    /* mean number waiting */
    double occupancy;     /* a / n */
} erlang_c_result;

/*
 * Erlang B blocking probability for `servers` >= 0 servers offered
 * `erlangs` > 0. ST_INVALID for a negative server count or a load that is
 * not a positive finite number.
 */
status erlang_b(int servers, double erlangs, double *out, err *e);

/*
 * One step of the Erlang B recursion, for callers that walk pool sizes
 * upward: from B(k - 1, erlangs) held as the pair (*b, *lb) = (B, log B)
 * to B(k, erlangs). Start from (1, 0) for k = 0. The caller checks that
 * k >= 1 and erlangs is a positive finite number.
 */
void erlang_b_next(int k, double erlangs, double *b, double *lb);

/*
 * Natural logarithm of Erlang B, finite where B itself underflows (a pool
 * far larger than its load). Errors as erlang_b.
 */
status erlang_b_log(int servers, double erlangs, double *out, err *e);

/*
 * Erlang C figures for q with `agents` servers. ST_INVALID when q has a
 * rate, handle time or threshold out of range, when agents < 1, or when
 * the load is not below the agents (the queue would grow without bound).
 */
status erlang_c_eval(const erlang_queue *q, int agents, erlang_c_result *out,
                     err *e);

/*
 * Fewest agents meeting every constraint set in t (service level, ASA,
 * occupancy; max_abandon must be 0), with their figures in *out.
 * ST_INVALID for a bad queue, a target out of range or none set, or a load
 * needing more than ERLANG_MAX_AGENTS.
 */
status erlang_c_agents(const erlang_queue *q, const erlang_target *t,
                       erlang_c_result *out, err *e);

/*
 * Check q's fields (rate, handle time, threshold and, when need_patience,
 * patience) and t when not NULL; used by the Erlang A module too.
 * ST_INVALID naming the first bad field.
 */
status erlang_check(const erlang_queue *q, int need_patience,
                    const erlang_target *t, err *e);

#endif
