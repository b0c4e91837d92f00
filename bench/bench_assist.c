/*
 * Query latency of the assist panel's BM25 index on a generated knowledge
 * base of 10,000 passages (English words and Chinese text with a skewed,
 * Zipf-like word frequency, about 60 tokens each), with panel-sized
 * queries of 30 words. Prints figures; asserts nothing about time.
 *   build/release/bench/bench_assist [passages] [queries]
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assist_index.h"

#define VOCAB   20000
#define HANZI   800
#define TEXTMAX 1024

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double uniform(void)
{
    return (double)(next() >> 11) / 9007199254740992.0;
}

/* A word rank from a log-uniform distribution: rank r has weight ~1/r. */
static int skewed(int n)
{
    int r = (int)pow((double)n, uniform()) - 1;

    return r < 0 ? 0 : r >= n ? n - 1 : r;
}

static void append_word(char *buf, size_t *used)
{
    int n = snprintf(buf + *used, TEXTMAX - *used, "w%d ", skewed(VOCAB));

    if (n > 0 && *used + (size_t)n < TEXTMAX)
        *used += (size_t)n;
}

/* A run of 2-8 Han characters drawn from a small common set. */
static void append_hanzi(char *buf, size_t *used)
{
    int len = 2 + (int)(next() % 7);

    for (int i = 0; i < len && *used + 4 < TEXTMAX; i++) {
        unsigned cp = 0x4E00 + (unsigned)skewed(HANZI) * 13;
        buf[(*used)++] = (char)(0xE0 | (cp >> 12));
        buf[(*used)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[(*used)++] = (char)(0x80 | (cp & 0x3F));
    }
    if (*used + 1 < TEXTMAX)
        buf[(*used)++] = ' ';
}

static void make_text(char *buf, int words)
{
    size_t used = 0;

    for (int i = 0; i < words; i++) {
        if (next() % 4 == 0)
            append_hanzi(buf, &used);
        else
            append_word(buf, &used);
    }
    buf[used] = '\0';
}

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int npassages = argc > 1 ? atoi(argv[1]) : 10000;
    int nqueries = argc > 2 ? atoi(argv[2]) : 2000;
    assist_index *idx = NULL;
    int64_t *lat = NULL, t0, built;
    assist_hit hits[5];
    char text[TEXTMAX];
    long total_hits = 0;
    err e = {0};
    int rc = 1;

    if (npassages < 1 || nqueries < 1) {
        fprintf(stderr, "usage: bench_assist [passages] [queries]\n");
        return 2;
    }
    lat = malloc((size_t)nqueries * sizeof(*lat));
    if (lat == NULL || assist_index_create(&idx, &e) != ST_OK)
        goto out;
    t0 = now_ns();
    for (int i = 0; i < npassages; i++) {
        char heading[64];

        snprintf(heading, sizeof(heading), "Section w%d", skewed(VOCAB));
        make_text(text, 40 + (int)(next() % 40));
        if (assist_index_add_passage(idx, "bench.md", heading, i + 1, text,
                                     &e) != ST_OK)
            goto out;
    }
    if (assist_index_build(idx, &e) != ST_OK)
        goto out;
    built = now_ns();
    for (int q = 0; q < nqueries; q++) {
        int n = 0;
        int64_t s;

        make_text(text, 30);
        s = now_ns();
        if (assist_index_query(idx, text, 5, hits, &n, &e) != ST_OK)
            goto out;
        lat[q] = now_ns() - s;
        total_hits += n;
    }
    qsort(lat, (size_t)nqueries, sizeof(*lat), cmp_i64);
    printf("assist_passages=%d\n", assist_index_count(idx));
    printf("assist_terms=%d\n", assist_index_terms(idx));
    printf("assist_build_ms=%.1f\n", (double)(built - t0) / 1e6);
    printf("assist_queries=%d\n", nqueries);
    printf("assist_query_p50_us=%.1f\n", (double)lat[nqueries / 2] / 1e3);
    printf("assist_query_p99_us=%.1f\n",
           (double)lat[(int)((nqueries - 1) * 0.99)] / 1e3);
    printf("assist_query_max_us=%.1f\n", (double)lat[nqueries - 1] / 1e3);
    printf("assist_hits_per_query=%.2f\n", (double)total_hits / nqueries);
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "bench_assist: %s\n", e.msg);
    assist_index_destroy(idx);
    free(lat);
    return rc;
}
