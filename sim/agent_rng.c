#include "agent_rng.h"

void agent_rng_seed(agent_rng *r, uint64_t seed)
{
    r->state = seed;
}

uint64_t agent_rng_next(agent_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double agent_rng_unit(agent_rng *r)
{
    /* The top 53 bits fill a double's mantissa exactly. */
    return (double)(agent_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

int64_t agent_rng_range(agent_rng *r, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)hi - (uint64_t)lo + 1;

    /* A span of zero means the whole 64-bit range. The modulo bias is
     * negligible for the small spans a simulation uses. */
    if (span == 0)
        return (int64_t)agent_rng_next(r);
    return (int64_t)((uint64_t)lo + agent_rng_next(r) % span);
}
