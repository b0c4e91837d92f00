/*
 * A small seeded pseudo-random generator (splitmix64) for simulated workers.
 * It is not for secrets. Each agent_rng is plain state owned by its caller;
 * it is not thread-safe, so callers share one under their own lock.
 */
#ifndef TL_AGENT_RNG_H
#define TL_AGENT_RNG_H

#include <stdint.h>

typedef struct agent_rng {
    uint64_t state;
} agent_rng;

/* Start r from seed; the same seed gives the same sequence. */
void agent_rng_seed(agent_rng *r, uint64_t seed);

/* The next 64 random bits. */
uint64_t agent_rng_next(agent_rng *r);

/* A uniform double in [0, 1). */
double agent_rng_unit(agent_rng *r);

/* A uniform integer in [lo, hi]; lo <= hi. */
int64_t agent_rng_range(agent_rng *r, int64_t lo, int64_t hi);

#endif
