/*
 * Counters and offer-latency percentiles of an agent run. Thread-safe: the
 * NATS delivery threads and the scheduler record into one agent_stats.
 * Offer latency is the wall time an offer arrived minus its ready_at_us,
 * so it includes the dispatcher's routing time.
 */
#ifndef TL_AGENT_STATS_H
#define TL_AGENT_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "err.h"

#define AGENT_STATS_MAX_SAMPLES (8 * 1024 * 1024)

typedef enum agent_stat {
    AGENT_STAT_OFFERS,    /* well-formed offers received */
    AGENT_STAT_ACCEPTED,  /* accepts the dispatcher confirmed */
    AGENT_STAT_REJECTED,  /* offers this agent chose to reject */
    AGENT_STAT_COMPLETED, /* completions the dispatcher confirmed */
    AGENT_STAT_ERRORS,    /* error replies, malformed messages, give-ups */
    AGENT_STAT_CONFLICTS, /* completions refused because a different one
                             stands (also counted in errors) */
    AGENT_STAT_BULK,      /* bulk requests (accept_many, complete_many)
                             answered with their items' results */
    AGENT_STAT__COUNT
} agent_stat;

typedef struct agent_stats agent_stats;

status agent_stats_create(agent_stats **out, err *e);

/* NULL is a no-op. */
void agent_stats_destroy(agent_stats *st);

void agent_stats_add(agent_stats *st, agent_stat which, int64_t n);

int64_t agent_stats_get(agent_stats *st, agent_stat which);

/* Record one offer latency in µs (negative values, from clock skew, count
 * as 0). Past AGENT_STATS_MAX_SAMPLES further samples are not kept. */
void agent_stats_latency(agent_stats *st, int64_t us);

/* The q-th percentile (0 < q <= 100, nearest rank) of the latencies in
 * milliseconds; 0 when there are none. */
double agent_stats_percentile_ms(agent_stats *st, double q);

/* The stable name of a counter ("offers", "accepted", ...). */
const char *agent_stat_name(agent_stat which);

/* A human summary on f (for stderr at exit). */
void agent_stats_print(agent_stats *st, FILE *f);

/*
 * Write name=value lines (offers, accepted, rejected, completed, errors,
 * conflicts, offer_latency_p50_ms, offer_latency_p90_ms, offer_latency_p99_ms)
 * to path, replacing it. ST_IO with the path and reason on failure.
 */
status agent_stats_write_file(agent_stats *st, const char *path, err *e);

#endif
