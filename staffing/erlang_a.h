/*
 * Erlang A (Palm's M/M/n+M): Erlang C with impatient customers. Each
 * waiting customer hangs up after an exponential patience of mean
 * q->patience_s, so the queue is stable at any load, also above the pool.
 *
 * Method: the birth-death chain of the number in system is summed exactly,
 * in logarithms with a running rescale, over the states above n until the
 * remaining mass is provably below 1e-16 of the total (a geometric bound
 * once the death rate exceeds the arrival rate). The states up to n are
 * not summed at all: their mass is (1 - B) / B times that of state n, with
 * B the Erlang B of the pool (erlang.h), so the cost is O(n) for B plus
 * O(queue states) and nothing overflows or cancels. For a customer who
 * finds i others waiting, the chance of being answered is
 * n mu / (n mu + (i + 1) theta), and its wait, given that it is answered,
 * is a sum of exponentials whose distribution function is a regularised
 * incomplete beta I_x(i + 1, n mu / theta + 1) with x = 1 - exp(-theta t);
 * it is carried from i to i + 1 by one negative-binomial term. See
 * docs/staffing.md for the derivation and why this beats evaluating the
 * incomplete gamma functions of the Garnett-Mandelbaum-Reiman form.
 *
 * Pure functions, no allocation; results through out parameters written
 * only on success; ST_INVALID with a sentence for bad input.
 */
#ifndef TL_ERLANG_A_H
#define TL_ERLANG_A_H

#include "erlang.h"

/* Most queue states one evaluation sums before giving up with ST_INVALID
 * (patience extremely long next to an overload). */
#define ERLANG_A_MAX_STATES 20000000

/* Erlang A figures for one pool size. */
typedef struct erlang_a_result {
    int agents;
    double erlangs;       /* offered load a = rate * aht_s */
    double p_wait;        /* probability an arrival finds every agent busy */
    double p_abandon;     /* share of arrivals that hang up while waiting */
    double service_level; /* share of arrivals answered within threshold_s */
    double sl_answered;   /* share of answered calls answered in time */
    double asa_s;         /* mean wait of answered calls, seconds */
    double wait_s;        /* mean wait over all arrivals, abandoning too */
    double mean_queue;    /* mean number waiting */
    double occupancy;     /* busy share of the agents: a (1 - p_abandon)/n */
    int states;           /* queue states summed */
} erlang_a_result;

/*
 * Erlang A figures for q (patience_s required) with `agents` >= 1 servers.
 * ST_INVALID for a bad queue, agents < 1, or a queue needing more than
 * ERLANG_A_MAX_STATES states.
 */
status erlang_a_eval(const erlang_queue *q, int agents, erlang_a_result *out,
                     err *e);

/*
 * Fewest agents meeting every constraint set in t (service level, ASA of
 * answered calls, occupancy, abandonment), with their figures in *out.
 * Found by doubling then bisection, since every figure improves with each
 * agent added. Errors as erlang_a_eval, plus a target out of range or
 * none set, or one needing more than ERLANG_MAX_AGENTS.
 */
status erlang_a_agents(const erlang_queue *q, const erlang_target *t,
                       erlang_a_result *out, err *e);

#endif
