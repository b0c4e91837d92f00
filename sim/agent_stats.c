#include "agent_stats.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct agent_stats {
    pthread_mutex_t lock;
    int64_t counts[AGENT_STAT__COUNT];
    int64_t *samples; /* latencies in µs */
    size_t nsamples;
    size_t cap;
    bool sorted;
};

static const char *const stat_names[AGENT_STAT__COUNT] = {
    [AGENT_STAT_OFFERS] = "offers",      [AGENT_STAT_ACCEPTED] = "accepted",
    [AGENT_STAT_REJECTED] = "rejected",  [AGENT_STAT_COMPLETED] = "completed",
    [AGENT_STAT_ERRORS] = "errors",      [AGENT_STAT_CONFLICTS] = "conflicts",
    [AGENT_STAT_BULK] = "bulk_requests",
};

status agent_stats_create(agent_stats **out, err *e)
{
    agent_stats *st = calloc(1, sizeof(*st));

    if (st == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    pthread_mutex_init(&st->lock, NULL);
    *out = st;
    return ST_OK;
}

void agent_stats_destroy(agent_stats *st)
{
    if (st == NULL)
        return;
    pthread_mutex_destroy(&st->lock);
    free(st->samples);
    free(st);
}

const char *agent_stat_name(agent_stat which)
{
    return (int)which >= 0 && which < AGENT_STAT__COUNT ? stat_names[which]
                                                        : "?";
}

void agent_stats_add(agent_stats *st, agent_stat which, int64_t n)
{
    pthread_mutex_lock(&st->lock);
    st->counts[which] += n;
    pthread_mutex_unlock(&st->lock);
}

int64_t agent_stats_get(agent_stats *st, agent_stat which)
{
    int64_t v;

    pthread_mutex_lock(&st->lock);
    v = st->counts[which];
    pthread_mutex_unlock(&st->lock);
    return v;
}

void agent_stats_latency(agent_stats *st, int64_t us)
{
    pthread_mutex_lock(&st->lock);
    if (st->nsamples == st->cap && st->cap < AGENT_STATS_MAX_SAMPLES) {
        size_t cap = st->cap > 0 ? st->cap * 2 : 1024;
        int64_t *grown = realloc(st->samples, cap * sizeof(*grown));

        if (grown != NULL) {
            st->samples = grown;
            st->cap = cap;
        }
    }
    if (st->nsamples < st->cap) {
        st->samples[st->nsamples++] = us > 0 ? us : 0;
        st->sorted = false;
    }
    pthread_mutex_unlock(&st->lock);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

double agent_stats_percentile_ms(agent_stats *st, double q)
{
    double ms = 0;

    pthread_mutex_lock(&st->lock);
    if (st->nsamples > 0) {
        size_t rank;

        if (!st->sorted) {
            qsort(st->samples, st->nsamples, sizeof(*st->samples), cmp_i64);
            st->sorted = true;
        }
        rank = (size_t)ceil(q / 100.0 * (double)st->nsamples);
        if (rank < 1)
            rank = 1;
        if (rank > st->nsamples)
            rank = st->nsamples;
        ms = (double)st->samples[rank - 1] / 1000.0;
    }
    pthread_mutex_unlock(&st->lock);
    return ms;
}

void agent_stats_print(agent_stats *st, FILE *f)
{
    fprintf(f,
            "agent stats: offers=%lld accepted=%lld rejected=%lld "
            "completed=%lld errors=%lld conflicts=%lld\n"
            "offer latency ms: p50=%.3f p90=%.3f p99=%.3f\n",
            (long long)agent_stats_get(st, AGENT_STAT_OFFERS),
            (long long)agent_stats_get(st, AGENT_STAT_ACCEPTED),
            (long long)agent_stats_get(st, AGENT_STAT_REJECTED),
            (long long)agent_stats_get(st, AGENT_STAT_COMPLETED),
            (long long)agent_stats_get(st, AGENT_STAT_ERRORS),
            (long long)agent_stats_get(st, AGENT_STAT_CONFLICTS),
            agent_stats_percentile_ms(st, 50),
            agent_stats_percentile_ms(st, 90),
            agent_stats_percentile_ms(st, 99));
}

status agent_stats_write_file(agent_stats *st, const char *path, err *e)
{
    FILE *f = fopen(path, "w");
    int failed;

    if (f == NULL)
        return err_set(e, ST_IO, "cannot write stats file %s: %s", path,
                       strerror(errno));
    for (int i = 0; i < AGENT_STAT__COUNT; i++)
        fprintf(f, "%s=%lld\n", stat_names[i],
                (long long)agent_stats_get(st, (agent_stat)i));
    fprintf(f, "offer_latency_p50_ms=%.3f\n",
            agent_stats_percentile_ms(st, 50));
    fprintf(f, "offer_latency_p90_ms=%.3f\n",
            agent_stats_percentile_ms(st, 90));
    fprintf(f, "offer_latency_p99_ms=%.3f\n",
            agent_stats_percentile_ms(st, 99));
    failed = ferror(f);
    if (fclose(f) != 0 || failed)
        return err_set(e, ST_IO, "cannot write stats file %s: %s", path,
                       strerror(errno));
    return ST_OK;
}
