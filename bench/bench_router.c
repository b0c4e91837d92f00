/*
 * The matching engine alone (DESIGN §11): decision latency with 1,000,
 * 10,000 and 100,000 online workers and 100,000 queued tasks over 200
 * skills, an exact 1,000 x 1,000 batch, and memory per task and worker.
 * A decision here is one completion event plus the router_match call that
 * refills the freed slot (one assignment), timed together. Prints
 * name=value lines; asserts nothing about time.
 *   build/release/bench/bench_router [decisions [part]]
 * part: all (default), 1000, 10000 or 100000 (one scale only) or batch.
 * Under callgrind, --toggle-collect=decide counts the instructions of the
 * timed decisions alone (docs/routing.md).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "router.h"

#define SKILLS  200
#define STEPS   500 /* distinct step signatures (tenant, case type, ...) */
#define TENANTS 10
#define CTYPES  5
#define POOLS   10
#define QUEUED  100000

#define SEED 0x2545F4914F6CDD1Dull

static uint64_t rng = SEED;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)((rng >> 11) % n);
}

static int64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static router_task_def steps[STEPS];

static void make_steps(void)
{
    for (int s = 0; s < STEPS; s++) {
        router_task_def *t = &steps[s];
        memset(t, 0, sizeof(*t));
        t->tenant = (int)rnd(TENANTS);
        t->case_type = (int)rnd(CTYPES);
        t->channel = (int)rnd(ROUTER_CHANNELS);
        t->assist = rnd(2) == 0;
        t->nskills = 1 + (int)rnd(2);
        for (int k = 0; k < t->nskills; k++) {
            t->skills[k].skill = (int)rnd(SKILLS);
            t->skills[k].level = 1 + (int)rnd(3);
        }
        t->nrings = 1;
        t->rings[0].after_us = 600 * 1000000LL;
        t->rings[0].lower_by = 1;
    }
}

static int64_t next_id = 1;

static void add_task(router *r, int64_t now)
{
    router_task_def t = steps[rnd(STEPS)];
    err e = {0};

    t.id = next_id++;
    t.case_id = t.id;
    t.priority = (int)rnd(3);
    t.ready_us = now - (int64_t)rnd(60) * 1000000;
    if (router_task_add(r, &t, -1, &e) != ST_OK) {
        fprintf(stderr, "bench_router: %s\n", e.msg);
        exit(1);
    }
}

static void add_workers(router *r, int nworkers, int64_t now)
{
    err e = {0};

    for (int w = 0; w < nworkers; w++) {
        router_worker_def d;
        memset(&d, 0, sizeof(d));
        d.pool = w % POOLS;
        d.nskills = 8;
        for (int k = 0; k < d.nskills; k++) {
            /* Skills cluster: a worker's skills sit near each other, as
             * a collections agent knows several collections skills. */
            d.skills[k].skill = (int)((w * 7 + (int)rnd(24)) % SKILLS);
            d.skills[k].level = 1 + (int)rnd(5);
            d.skills[k].ai_level = d.skills[k].level + (int)rnd(2);
        }
        d.capacity[ROUTER_VOICE] = 1;
        d.capacity[ROUTER_CHAT] = 3;
        d.capacity[ROUTER_BACKOFFICE] = 5;
        d.quality_permille = 600 + (int)rnd(400);
        if (router_worker_set(r, w, &d, &e) != ST_OK) {
            fprintf(stderr, "bench_router: %s\n", e.msg);
            exit(1);
        }
        router_worker_available(r, w, true, now - (int64_t)rnd(3600) * 1000000);
    }
}

/* The timed part of a decision: kept out of line so that callgrind can
 * count its instructions alone. */
__attribute__((noinline)) static int decide(router *r, int64_t done_id,
                                            int64_t now, router_assignment *a)
{
    router_task_done(r, done_id, now);
    return router_match(r, now, a, 1);
}

typedef struct held {
    int64_t *id;
    int n;
    int cap;
} held;

static void hold(held *h, int64_t id)
{
    if (h->n == h->cap) {
        h->cap = h->cap > 0 ? h->cap * 2 : 1024;
        h->id = realloc(h->id, sizeof(int64_t) * (size_t)h->cap);
        if (h->id == NULL)
            exit(1);
    }
    h->id[h->n++] = id;
}

static void run_scale(int nworkers, int decisions, bool memory)
{
    router *r = NULL;
    router_assignment a[256];
    held h = {0};
    int64_t now = 1700000000LL * 1000000, *lat;
    size_t m_queues, m_workers, m_tasks;
    int nlat = 0, added = 0, n;
    err e = {0};

    /* Each part draws from its own seed, so a part run alone sees the same
     * instance as in the full run. */
    rng = SEED ^ (uint64_t)nworkers;
    if (router_create(&r, &e) != ST_OK)
        exit(1);
    for (int t = 0; t < TENANTS; t++)
        for (int p = 0; p < POOLS; p++)
            for (int c = 0; c < CTYPES; c++)
                router_contract_price_set(r, t, p, c, 100 + (int)rnd(400), &e);
    /* One task per step first, so every queue exists before the workers
     * come and the memory figures separate the two. */
    for (int s = 0; s < STEPS; s++) {
        router_task_def t = steps[s];
        t.id = next_id++;
        t.case_id = t.id;
        t.ready_us = now;
        router_task_add(r, &t, -1, &e);
        added++;
    }
    m_queues = router_memory(r);
    add_workers(r, nworkers, now);
    m_workers = router_memory(r);
    /* Fill every free slot, then queue QUEUED tasks behind them. */
    while ((n = router_match(r, now, a, 256)) > 0)
        for (int i = 0; i < n; i++)
            hold(&h, a[i].task_id);
    while (router_pending_count(r) < QUEUED) {
        add_task(r, now);
        added++;
        while ((n = router_match(r, now, a, 256)) > 0)
            for (int i = 0; i < n; i++)
                hold(&h, a[i].task_id);
    }
    m_tasks = router_memory(r);
    lat = malloc(sizeof(int64_t) * (size_t)decisions);
    if (lat == NULL)
        exit(1);
    /* Steady state: a random held task completes, a new one arrives, and
     * the router refills; only completion plus match are timed. */
    for (int i = 0; i < decisions && h.n > 0; i++) {
        int k = (int)rnd((uint32_t)h.n);
        int64_t id = h.id[k], t0, t1;
        h.id[k] = h.id[--h.n];
        now += 1000;
        add_task(r, now);
        t0 = mono_ns();
        n = decide(r, id, now, a);
        t1 = mono_ns();
        lat[nlat++] = t1 - t0;
        for (int j = 0; j < n; j++)
            hold(&h, a[j].task_id);
    }
    qsort(lat, (size_t)nlat, sizeof(int64_t), cmp_i64);
    if (nworkers == 10000) {
        printf("router_decision_p50_us=%.2f\n", lat[nlat / 2] / 1000.0);
        printf("router_decision_p99_us=%.2f\n",
               lat[(size_t)nlat * 99 / 100] / 1000.0);
    }
    printf("router_decision_p50_us_%dw=%.2f\n", nworkers,
           lat[nlat / 2] / 1000.0);
    printf("router_decision_p99_us_%dw=%.2f\n", nworkers,
           lat[(size_t)nlat * 99 / 100] / 1000.0);
    printf("router_queues_%dw=%d\n", nworkers, router_queue_count(r));
    if (memory) {
        printf("router_bytes_per_worker=%zu\n",
               (m_workers - m_queues) / (size_t)nworkers);
        printf("router_bytes_per_task=%zu\n",
               (m_tasks - m_workers) / (size_t)added);
    }
    fprintf(stderr,
            "bench_router: %d workers, %d queued, %d held, %d "
            "decisions timed\n",
            nworkers, router_pending_count(r), h.n, nlat);
    free(lat);
    free(h.id);
    router_destroy(r);
}

/* 1,000 tasks and 1,000 free workers at once, all on one channel with
 * mixed levels, assigned as one exact batch; with explanations (what the
 * dispatcher asks for) when why is set. */
static void run_batch(bool why)
{
    router *r = NULL;
    router_config c;
    router_assignment *a = malloc(sizeof(router_assignment) * 1000);
    router_explain *x = why ? malloc(sizeof(router_explain) * 1000) : NULL;
    int64_t now = 1700000000LL * 1000000, t0, t1;
    err e = {0};
    int n;

    rng = SEED ^ 1;
    if (a == NULL || (why && x == NULL) || router_create(&r, &e) != ST_OK)
        exit(1);
    router_config_default(&c);
    c.batch_min = 2;
    c.batch_max = 1000;
    c.weights.fit = 50;
    c.weights.quality = 1;
    router_config_set(r, &c, &e);
    router_contract_add(r, 0, 0, 0, &e);
    for (int w = 0; w < 1000; w++) {
        router_worker_def d;
        memset(&d, 0, sizeof(d));
        d.nskills = 1;
        d.skills[0].skill = 0;
        d.skills[0].level = 1 + (int)rnd(5);
        d.capacity[ROUTER_CHAT] = 1;
        d.quality_permille = (int)rnd(1000);
        router_worker_set(r, w, &d, &e);
        router_worker_available(r, w, true, now - (int64_t)rnd(3600) * 1000000);
    }
    for (int i = 0; i < 1000; i++) {
        router_task_def t;
        memset(&t, 0, sizeof(t));
        t.id = i + 1;
        t.case_id = i + 1;
        t.channel = ROUTER_CHAT;
        t.ready_us = now - i;
        t.nskills = 1;
        t.skills[0].level = 1 + (int)rnd(5);
        router_task_add(r, &t, -1, &e);
    }
    t0 = mono_ns();
    n = why ? router_match_explained(r, now, a, x, 1000)
            : router_match(r, now, a, 1000);
    t1 = mono_ns();
    if (why) {
        printf("router_batch_explained_ms=%.1f\n", (t1 - t0) / 1e6);
    } else {
        printf("router_batch_ms=%.1f\n", (t1 - t0) / 1e6);
        printf("router_batch_assigned=%d\n", n);
    }
    router_destroy(r);
    free(a);
    free(x);
}

int main(int argc, char **argv)
{
    int decisions = argc > 1 ? atoi(argv[1]) : 20000;
    const char *part = argc > 2 ? argv[2] : "all";
    bool all = strcmp(part, "all") == 0;

    if (decisions < 1 ||
        (!all && strcmp(part, "batch") != 0 && strcmp(part, "1000") != 0 &&
         strcmp(part, "10000") != 0 && strcmp(part, "100000") != 0)) {
        fprintf(stderr, "usage: bench_router [decisions [all|1000|10000|"
                        "100000|batch]]\n");
        return 2;
    }
    make_steps();
    if (all || strcmp(part, "10000") == 0)
        run_scale(10000, decisions, true);
    if (all || strcmp(part, "1000") == 0)
        run_scale(1000, decisions, false);
    if (all || strcmp(part, "100000") == 0)
        run_scale(100000, decisions, false);
    if (all || strcmp(part, "batch") == 0) {
        run_batch(false);
        run_batch(true);
    }
    return 0;
}
