/* The rules issue 3 added to the matching engine, each on a fixture small
 * enough to check by hand, then a randomized property test over many
 * rounds of events (rings, licences, wrap-up, batches). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"
#include "tl_test.h"

enum { T_BANK = 0, T_INS = 1, POOL_A = 0, POOL_B = 1, POOL_OVER = 2 };
enum { CT_LOAN = 0, SK_COLL = 0, SK_LEGAL = 1, LIC_MORTGAGE = 7 };

#define DAY   86400000000LL
#define SEC   1000000LL
#define TODAY (20000 * DAY) /* 2024-10-04, a plain day number */

static router *make(void)
{
    router *r = NULL;
    err e = {0};

    assert_int_equal(router_create(&r, &e), ST_OK);
    assert_int_equal(router_contract_add(r, T_BANK, POOL_A, CT_LOAN, &e),
                     ST_OK);
    assert_int_equal(router_contract_add(r, T_BANK, POOL_B, CT_LOAN, &e),
                     ST_OK);
    return r;
}

static void wdef(router_worker_def *d, int pool, int skill, int level)
{
    memset(d, 0, sizeof(*d));
    d->pool = pool;
    d->nskills = 1;
    d->skills[0].skill = skill;
    d->skills[0].level = level;
    d->capacity[ROUTER_VOICE] = 1;
    d->capacity[ROUTER_CHAT] = 3;
}

static void put_worker(router *r, int w, const router_worker_def *d,
                       int64_t idle_since)
{
    err e = {0};

    assert_int_equal(router_worker_set(r, w, d, &e), ST_OK);
    router_worker_available(r, w, true, idle_since);
}

static void add_worker(router *r, int w, int pool, int level,
                       int64_t idle_since)
{
    router_worker_def d;

    wdef(&d, pool, SK_COLL, level);
    put_worker(r, w, &d, idle_since);
}

static void tdef(router_task_def *t, int64_t id, int level, int64_t ready)
{
    memset(t, 0, sizeof(*t));
    t->id = id;
    t->case_id = 1000 + id;
    t->tenant = T_BANK;
    t->case_type = CT_LOAN;
    t->channel = ROUTER_VOICE;
    t->ready_us = ready;
    t->nskills = 1;
    t->skills[0].skill = SK_COLL;
    t->skills[0].level = level;
}

static void put_task(router *r, const router_task_def *t)
{
    err e = {0};

    assert_int_equal(router_task_add(r, t, -1, &e), ST_OK);
}

static void add_task(router *r, int64_t id, int level, int64_t ready)
{
    router_task_def t;

    tdef(&t, id, level, ready);
    put_task(r, &t);
}

/* One decision at now; returns the worker (or -1) and the task. */
static int match_at(router *r, int64_t now, int64_t *task)
{
    router_assignment a[8];
    int n = router_match(r, now, a, 1);

    if (n == 0)
        return -1;
    if (task != NULL)
        *task = a[0].task_id;
    return a[0].worker;
}

static void test_licence_required_and_valid_on_the_day(void **state)
{
    router *r = make();
    router_worker_def d;
    router_task_def t;

    (void)state;
    wdef(&d, POOL_A, SK_COLL, 3); /* no licence */
    put_worker(r, 0, &d, 0);
    wdef(&d, POOL_A, SK_COLL, 3);
    d.nlicences = 1;
    d.licences[0].code = LIC_MORTGAGE;
    d.licences[0].expires_day = 20000 - 1; /* expired yesterday */
    put_worker(r, 1, &d, 0);
    tdef(&t, 1, 1, 0);
    t.licence = LIC_MORTGAGE;
    put_task(r, &t);
    assert_int_equal(match_at(r, TODAY, NULL), -1);
    /* Renewed through today: now eligible. */
    d.licences[0].expires_day = 20000;
    put_worker(r, 1, &d, 0);
    assert_int_equal(match_at(r, TODAY, NULL), 1);
    router_destroy(r);
}

static void test_break_and_wrapup_take_no_work(void **state)
{
    router *r = make();
    router_worker_def d;
    int64_t task = 0;

    (void)state;
    wdef(&d, POOL_A, SK_COLL, 3);
    d.wrapup_us = 30 * SEC;
    put_worker(r, 0, &d, 0);
    router_worker_presence(r, 0, ROUTER_BREAK, 0);
    add_task(r, 1, 1, 0);
    assert_int_equal(match_at(r, 1 * SEC, NULL), -1);
    router_worker_presence(r, 0, ROUTER_AVAILABLE, 2 * SEC);
    assert_int_equal(match_at(r, 2 * SEC, &task), 0);
    router_task_done(r, task, 10 * SEC);
    add_task(r, 2, 1, 11 * SEC);
    /* Wrap-up runs 30 s from the completion at 10 s. */
    assert_int_equal(match_at(r, 39 * SEC, NULL), -1);
    assert_int_equal(match_at(r, 40 * SEC, &task), 0);
    assert_int_equal(task, 2);
    router_destroy(r);
}

static void test_voice_blocks_other_channels(void **state)
{
    router *r = make();
    router_worker_def d;
    router_task_def t;

    (void)state;
    wdef(&d, POOL_A, SK_COLL, 3);
    d.voice_blocks = true;
    put_worker(r, 0, &d, 0);
    add_task(r, 1, 1, 0); /* voice */
    assert_int_equal(match_at(r, 0, NULL), 0);
    tdef(&t, 2, 1, 1);
    t.channel = ROUTER_CHAT;
    put_task(r, &t);
    assert_int_equal(match_at(r, 0, NULL), -1); /* on a call */
    router_task_done(r, 1, 5);
    assert_int_equal(match_at(r, 10, NULL), 0);
    /* Without voice_blocks chat goes on beside a call. */
    d.voice_blocks = false;
    put_worker(r, 1, &d, 0);
    add_task(r, 3, 1, 2);
    assert_int_equal(match_at(r, 10, NULL), 1); /* voice to the idle one */
    tdef(&t, 4, 1, 3);
    t.channel = ROUTER_CHAT;
    put_task(r, &t);
    /* Worker 0 has one chat of 3, worker 1 one call of 1: equal load per
     * mille (1/4 each), worker 1 idled since 0 versus 5 µs: worker 1. */
    assert_int_equal(match_at(r, 10, NULL), 1);
    router_destroy(r);
}

static void test_skill_fit_keeps_specialists_free(void **state)
{
    router *r = make();
    router_weights w = {0};
    err e = {0};

    (void)state;
    w.fit = 100;
    assert_int_equal(router_pool_weights_set(r, POOL_A, &w, &e), ST_OK);
    add_worker(r, 0, POOL_A, 5, 0);   /* the specialist idled longest */
    add_worker(r, 1, POOL_A, 2, SEC); /* just enough */
    add_task(r, 1, 2, 0);
    assert_int_equal(match_at(r, 10 * SEC, NULL), 1);
    router_destroy(r);
}

static void test_quality_cost_and_fairness(void **state)
{
    router *r = make();
    router_worker_def d;
    router_weights w = {0};
    err e = {0};

    (void)state;
    /* Quality: same everything else, the better worker wins. */
    w.quality = 1;
    w.cost = 1;
    w.fairness = 1000;
    w.fairness_cap = 5;
    assert_int_equal(router_pool_weights_set(r, POOL_A, &w, &e), ST_OK);
    assert_int_equal(router_pool_weights_set(r, POOL_B, &w, &e), ST_OK);
    wdef(&d, POOL_A, SK_COLL, 3);
    d.quality_permille = 700;
    put_worker(r, 0, &d, 0);
    d.quality_permille = 900;
    put_worker(r, 1, &d, 0);
    add_task(r, 1, 1, 0);
    assert_int_equal(match_at(r, 0, NULL), 1);
    router_destroy(r);

    /* Cost: pool B's contract is cheaper per verified result. */
    r = make();
    assert_int_equal(router_pool_weights_set(r, POOL_A, &w, &e), ST_OK);
    assert_int_equal(router_pool_weights_set(r, POOL_B, &w, &e), ST_OK);
    assert_int_equal(
        router_contract_price_set(r, T_BANK, POOL_A, CT_LOAN, 500, &e), ST_OK);
    assert_int_equal(
        router_contract_price_set(r, T_BANK, POOL_B, CT_LOAN, 400, &e), ST_OK);
    wdef(&d, POOL_A, SK_COLL, 3);
    put_worker(r, 0, &d, 0);
    wdef(&d, POOL_B, SK_COLL, 3);
    d.verified_permille = 500; /* 400 / 0.5 = 800 per verified result */
    put_worker(r, 1, &d, 0);
    wdef(&d, POOL_B, SK_COLL, 3);
    d.verified_permille = 1000; /* 400 per verified result: cheapest */
    put_worker(r, 2, &d, 0);
    add_task(r, 1, 1, 0);
    assert_int_equal(match_at(r, 0, NULL), 2);
    router_destroy(r);

    /* Fairness: worker 0 already did two tasks, the pool mean is 1. */
    r = make();
    w.quality = 0;
    w.cost = 0;
    assert_int_equal(router_pool_weights_set(r, POOL_A, &w, &e), ST_OK);
    add_worker(r, 0, POOL_A, 3, 0);
    add_worker(r, 1, POOL_A, 3, 0);
    for (int64_t id = 1; id <= 2; id++) {
        int64_t task = 0;
        add_task(r, id, 1, id);
        assert_int_equal(router_task_exclude(r, id, 1, &e), ST_OK);
        assert_int_equal(match_at(r, 0, &task), 0);
        router_task_done(r, task, 0);
    }
    /* Idle since 0 both; worker 1 lags by 1 (mean 2/2 - 0): it wins. */
    add_task(r, 3, 1, 3);
    assert_int_equal(match_at(r, 0, NULL), 1);
    router_destroy(r);
}

static void test_deadline_tenant_priority_and_operator_change(void **state)
{
    router *r = make();
    router_task_def t;
    int64_t task = 0;
    err e = {0};

    (void)state;
    assert_int_equal(router_contract_add(r, T_INS, POOL_A, CT_LOAN, &e), ST_OK);
    add_worker(r, 0, POOL_A, 3, 0);
    tdef(&t, 1, 1, 0); /* oldest, no deadline */
    put_task(r, &t);
    tdef(&t, 2, 1, 10);
    t.deadline_us = 500;
    put_task(r, &t);
    tdef(&t, 3, 1, 20);
    t.deadline_us = 400; /* earliest deadline */
    put_task(r, &t);
    tdef(&t, 4, 1, 30);
    t.tenant = T_INS; /* a tenant with priority 2 */
    put_task(r, &t);
    assert_int_equal(router_tenant_priority_set(r, T_INS, 2, &e), ST_OK);
    assert_int_equal(match_at(r, 100, &task), 0);
    assert_int_equal(task, 4);
    router_task_done(r, task, 100);
    assert_int_equal(match_at(r, 100, &task), 0);
    assert_int_equal(task, 3);
    router_task_done(r, task, 100);
    /* The operator raises task 1 above task 2. */
    assert_int_equal(router_task_set_priority(r, 1, 1, &e), ST_OK);
    assert_int_equal(router_task_set_priority(r, 99, 1, &e), ST_NOT_FOUND);
    assert_int_equal(match_at(r, 100, &task), 0);
    assert_int_equal(task, 1);
    router_destroy(r);
}

static void test_rings_widen_eligibility(void **state)
{
    router *r = make();
    router_task_def t;
    router_assignment a;
    router_explain x;
    router_worker_def d;
    char text[2048];

    (void)state;
    add_worker(r, 0, POOL_A, 1, 0); /* level 1 only */
    wdef(&d, POOL_OVER, SK_LEGAL, 1);
    d.skills[0].ai_level = 3;
    put_worker(r, 1, &d, 0); /* overflow pool, legal with AI */
    tdef(&t, 1, 3, 0);
    t.nrings = 2;
    t.rings[0].after_us = 60 * SEC;
    t.rings[0].lower_by = 2;
    t.rings[1].after_us = 120 * SEC;
    t.rings[1].assist = true;
    t.rings[1].overflow = true;
    t.rings[1].overflow_pool = POOL_OVER;
    t.ttl_us = 300 * SEC;
    put_task(r, &t);
    assert_int_equal(match_at(r, 59 * SEC, NULL), -1);
    assert_int_equal(router_match_explained(r, 60 * SEC, &a, &x, 1), 1);
    assert_int_equal(a.worker, 0);
    assert_int_equal(x.rule, ROUTER_RULE_RING);
    assert_int_equal(x.ring, 1);
    router_explain_render(&x, text, sizeof(text));
    assert_non_null(strstr(text, "levels lowered by 2"));

    /* Ring 2 reaches the overflow pool with AI assist. */
    tdef(&t, 2, 3, 0);
    t.skills[0].skill = SK_LEGAL;
    t.nrings = 2;
    t.rings[0].after_us = 60 * SEC;
    t.rings[1].after_us = 120 * SEC;
    t.rings[1].assist = true;
    t.rings[1].overflow = true;
    t.rings[1].overflow_pool = POOL_OVER;
    put_task(r, &t);
    assert_int_equal(match_at(r, 119 * SEC, NULL), -1);
    assert_int_equal(router_match_explained(r, 120 * SEC, &a, &x, 1), 1);
    assert_int_equal(a.worker, 1);
    assert_int_equal(x.rule, ROUTER_RULE_RING);
    assert_int_equal(x.ring, 2);
    router_destroy(r);
}

static void test_ttl_expires_pending_tasks(void **state)
{
    router *r = make();
    router_task_def t;
    router_expiry x[4];

    (void)state;
    tdef(&t, 1, 1, 0);
    t.ttl_us = 10 * SEC;
    put_task(r, &t);
    tdef(&t, 2, 1, 0); /* no TTL: waits for ever */
    put_task(r, &t);
    assert_int_equal(router_expired(r, 9 * SEC, x, 4), 0);
    assert_int_equal(router_expired(r, 10 * SEC, x, 4), 1);
    assert_int_equal(x[0].task_id, 1);
    assert_int_equal(x[0].reason, ROUTER_EXPIRED_TTL);
    assert_true(x[0].waited_us == 10 * SEC);
    assert_int_equal(router_task_count(r), 1);
    assert_int_equal(router_pending_count(r), 1);
    router_destroy(r);
}

/*
 * Two workers, two tasks. Task 1 (urgent) needs level 1, task 2 needs
 * level 3. Worker 0 (level 3) has idled longest, so greedy gives it task 1
 * and task 2 finds nobody: one assignment. The batch gives task 1 to worker
 * 1 (level 1) and task 2 to worker 0: two.
 */
static void batch_fixture(router *r)
{
    router_task_def t;

    add_worker(r, 0, POOL_A, 3, 0);
    add_worker(r, 1, POOL_A, 1, 100 * SEC);
    tdef(&t, 1, 1, 0);
    t.priority = 5;
    put_task(r, &t);
    add_task(r, 2, 3, 1);
}

static void test_batch_beats_greedy(void **state)
{
    router *r = make();
    router_config c;
    router_assignment a[4];
    router_explain x[4];
    err e = {0};
    int n;

    (void)state;
    batch_fixture(r);
    n = router_match(r, 200 * SEC, a, 4);
    assert_int_equal(n, 1);
    assert_int_equal(a[0].worker, 0);
    router_destroy(r);

    r = make();
    router_config_default(&c);
    c.batch_min = 2;
    assert_int_equal(router_config_set(r, &c, &e), ST_OK);
    batch_fixture(r);
    n = router_match_explained(r, 200 * SEC, a, x, 4);
    assert_int_equal(n, 2);
    for (int i = 0; i < n; i++) {
        assert_int_equal(x[i].rule, ROUTER_RULE_BATCH);
        assert_int_equal(a[i].worker, a[i].task_id == 1 ? 1 : 0);
    }
    router_destroy(r);
}

static void test_explanation_content(void **state)
{
    router *r = make();
    router_worker_def d;
    router_assignment a;
    router_explain x;
    char text[4096];
    err e = {0};

    (void)state;
    add_worker(r, 0, POOL_A, 3, 0); /* best: idled longest */
    add_worker(r, 1, POOL_A, 3, 50 * SEC);
    add_worker(r, 2, POOL_A, 1, 0); /* skill too low */
    add_worker(r, 3, POOL_A, 3, 0);
    router_worker_available(r, 3, false, 0); /* offline */
    wdef(&d, 5, SK_COLL, 3);                 /* pool 5: no contract */
    put_worker(r, 4, &d, 0);
    add_worker(r, 5, POOL_A, 3, 0);
    add_task(r, 1, 2, 0);
    assert_int_equal(router_task_exclude(r, 1, 5, &e), ST_OK);
    assert_int_equal(router_match_explained(r, 100 * SEC, &a, &x, 1), 1);
    assert_int_equal(a.worker, 0);
    assert_int_equal(x.worker, 0);
    assert_int_equal(x.rule, ROUTER_RULE_BEST);
    assert_int_equal(x.ncandidates, 2);
    assert_int_equal(x.candidates[0].worker, 0);
    assert_int_equal(x.candidates[1].worker, 1);
    assert_true(x.candidates[0].parts[ROUTER_PART_IDLE] == 100);
    assert_true(x.candidates[1].parts[ROUTER_PART_IDLE] == 50);
    assert_true(x.candidates[0].score > x.candidates[1].score);
    assert_int_equal(x.filtered[ROUTER_F_SKILL], 1);
    assert_int_equal(x.filtered[ROUTER_F_CONTRACT], 1);
    assert_int_equal(x.filtered[ROUTER_F_PRESENCE], 1);
    assert_int_equal(x.filtered[ROUTER_F_EXCLUDED], 1);
    assert_true(router_explain_render(&x, text, sizeof(text)) > 0);
    assert_non_null(strstr(text, "Task 1 went to worker 0"));
    assert_non_null(strstr(text, "best score"));
    assert_non_null(strstr(text, "worker 1 scored"));
    assert_non_null(strstr(text, "1 worker lacking a required skill level"));
    assert_non_null(strstr(text, "declined"));
    /* A short buffer is cut but terminated; the length needed is kept. */
    assert_true(router_explain_render(&x, text, 16) > 16);
    assert_int_equal(strlen(text), 15);

    /* Affinity, and the only eligible worker. */
    assert_int_equal(router_affinity_set(r, 1002, 1, &e), ST_OK);
    add_task(r, 2, 1, 0);
    assert_int_equal(router_match_explained(r, 100 * SEC, &a, &x, 1), 1);
    assert_int_equal(x.rule, ROUTER_RULE_AFFINITY);
    assert_true(a.affinity);
    assert_int_equal(x.candidates[0].worker, 1);
    add_task(r, 3, 3, 0);
    assert_int_equal(router_match_explained(r, 100 * SEC, &a, &x, 1), 1);
    assert_int_equal(x.rule, ROUTER_RULE_ONLY);
    assert_int_equal(a.worker, 5);
    router_destroy(r);
}

static void test_live_figures(void **state)
{
    router *r = make();
    router_queue_stats qs;
    router_worker_stats ws;
    int64_t task = 0;
    err e = {0};

    (void)state;
    add_worker(r, 0, POOL_A, 3, 0);
    add_task(r, 1, 1, 10 * SEC);
    add_task(r, 2, 1, 20 * SEC);
    add_task(r, 3, 1, 5 * SEC);
    assert_int_equal(match_at(r, 30 * SEC, &task), 0);
    assert_int_equal(task, 3);
    assert_int_equal(router_queue_count(r), 1);
    assert_int_equal(router_queue_stats_get(r, 0, 30 * SEC, &qs, &e), ST_OK);
    assert_int_equal(qs.waiting, 2);
    assert_true(qs.oldest_wait_us == 20 * SEC);
    assert_int_equal(qs.free_workers, 0);
    assert_int_equal(router_worker_stats_get(r, 0, 30 * SEC, &ws, &e), ST_OK);
    assert_int_equal(ws.state, ROUTER_WS_AVAILABLE); /* chat is free */
    assert_int_equal(ws.load[ROUTER_VOICE], 1);
    assert_int_equal(ws.occupancy_permille, 250);
    assert_int_equal(router_queue_stats_get(r, 9, 0, &qs, &e), ST_NOT_FOUND);
    router_worker_presence(r, 0, ROUTER_BREAK, 0);
    assert_int_equal(router_worker_stats_get(r, 0, 30 * SEC, &ws, &e), ST_OK);
    assert_int_equal(ws.state, ROUTER_WS_BREAK);
    router_destroy(r);
}

/* ---- Property test ---------------------------------------------------- */

#define PW 10
#define PT 40

typedef struct model {
    router_worker_def w[PW];
    bool avail[PW];
    int64_t wrap_until[PW];
    router_task_def t[PT];
    bool open[PT];
    int holder[PT];
    bool excl[PT][PW];
    int aff[PT]; /* by case: tasks share cases id % 7 */
} model;

static int eff_level(const router_worker_def *w, int skill, bool assist)
{
    for (int i = 0; i < w->nskills; i++)
        if (w->skills[i].skill == skill)
            return assist && w->skills[i].ai_level > w->skills[i].level
                       ? w->skills[i].ai_level
                       : w->skills[i].level;
    return -1;
}

/* Eligible in the model, given the ring the task is in at now. */
static bool model_fits(const model *m, int ti, int wi, int64_t now,
                       const int *load)
{
    const router_task_def *t = &m->t[ti];
    const router_worker_def *w = &m->w[wi];
    int ring = 0, lower = 0, ch = t->channel;
    bool assist = t->assist, overflow = false;

    while (ring < t->nrings && t->ready_us + t->rings[ring].after_us <= now)
        ring++;
    if (ring > 0) {
        lower = t->rings[ring - 1].lower_by;
        assist = assist || t->rings[ring - 1].assist;
        overflow = t->rings[ring - 1].overflow &&
                   w->pool == t->rings[ring - 1].overflow_pool;
    }
    if (!m->avail[wi] || m->wrap_until[wi] > now || m->excl[ti][wi])
        return false;
    if (w->pool != POOL_A && !overflow)
        return false;
    /* Lowering never waives the skill itself: the floor is level 0. */
    if (eff_level(w, t->skills[0].skill, assist) <
        (t->skills[0].level > lower ? t->skills[0].level - lower : 0))
        return false;
    if (t->licence > 0) {
        bool ok = false;
        for (int i = 0; i < w->nlicences; i++)
            ok = ok || (w->licences[i].code == t->licence &&
                        w->licences[i].expires_day >= (int)(now / DAY));
        if (!ok)
            return false;
    }
    if (load[wi * ROUTER_CHANNELS + ch] >= w->capacity[ch])
        return false;
    if (w->voice_blocks && ch != ROUTER_VOICE &&
        load[wi * ROUTER_CHANNELS + ROUTER_VOICE] > 0)
        return false;
    return true;
}

static void property_round(unsigned seed, bool batch)
{
    router *r = NULL;
    router_config c;
    model m;
    int load[PW * ROUTER_CHANNELS] = {0};
    int nw = 1 + rand() % PW, nt = 1 + rand() % PT;
    int64_t now = TODAY;
    err e = {0};

    (void)seed;
    memset(&m, 0, sizeof(m));
    assert_int_equal(router_create(&r, &e), ST_OK);
    assert_int_equal(router_contract_add(r, T_BANK, POOL_A, CT_LOAN, &e),
                     ST_OK);
    router_config_default(&c);
    c.batch_min = batch ? 2 : 0;
    assert_int_equal(router_config_set(r, &c, &e), ST_OK);
    for (int w = 0; w < nw; w++) {
        router_worker_def *d = &m.w[w];
        wdef(d, rand() % 4 == 0 ? POOL_OVER : POOL_A, rand() % 2, rand() % 4);
        d->skills[0].ai_level = rand() % 5;
        d->capacity[ROUTER_VOICE] = rand() % 2;
        d->capacity[ROUTER_CHAT] = rand() % 3;
        d->voice_blocks = rand() % 2;
        d->wrapup_us = (rand() % 3) * SEC;
        if (rand() % 2) {
            d->nlicences = 1;
            d->licences[0].code = LIC_MORTGAGE;
            d->licences[0].expires_day = 20000 + rand() % 3 - 1;
        }
        put_worker(r, w, d, rand() % 100);
        m.avail[w] = rand() % 5 != 0;
        router_worker_available(r, w, m.avail[w], 0);
    }
    for (int t = 0; t < nt; t++) {
        router_task_def *d = &m.t[t];
        tdef(d, t + 1, rand() % 4, now - (rand() % 100) * SEC);
        d->case_id = 500 + t % 7;
        d->skills[0].skill = rand() % 2;
        d->channel = rand() % 2 ? ROUTER_VOICE : ROUTER_CHAT;
        d->assist = rand() % 2;
        d->priority = rand() % 3;
        d->licence = rand() % 4 == 0 ? LIC_MORTGAGE : 0;
        if (rand() % 2) {
            d->nrings = 2;
            d->rings[0].after_us = (rand() % 60) * SEC;
            d->rings[0].lower_by = 1;
            d->rings[1].after_us = d->rings[0].after_us + 30 * SEC;
            d->rings[1].lower_by = 2;
            d->rings[1].assist = true;
            d->rings[1].overflow = true;
            d->rings[1].overflow_pool = POOL_OVER;
        }
        d->ttl_us = (100 + rand() % 200) * SEC;
        put_task(r, d);
        m.open[t] = true;
        m.holder[t] = -1;
    }
    for (int step = 0; step < 12; step++) {
        router_assignment a[PT];
        router_expiry x[PT];
        int n, k;

        now += (rand() % 40) * SEC;
        for (int w = 0; w < nw; w++)
            if (m.wrap_until[w] <= now)
                m.wrap_until[w] = 0;
        n = router_match(r, now, a, PT);
        for (int i = 0; i < n; i++) {
            int t = (int)a[i].task_id - 1, w = a[i].worker;
            assert_true(m.open[t] && m.holder[t] < 0);
            assert_true(model_fits(&m, t, w, now, load));
            /* No task survives its TTL. */
            assert_true(now < m.t[t].ready_us + m.t[t].ttl_us);
            load[w * ROUTER_CHANNELS + m.t[t].channel]++;
            m.holder[t] = w;
        }
        /* Affinity: no task went elsewhere while its affine worker could
         * still take it after the whole call. */
        for (int i = 0; i < n; i++) {
            int t = (int)a[i].task_id - 1, aff = m.aff[m.t[t].case_id - 500];
            if (aff > 0 && aff - 1 != a[i].worker)
                assert_false(model_fits(&m, t, aff - 1, now, load));
        }
        /* Expired tasks are past their TTL and were pending. */
        k = router_expired(r, now, x, PT);
        for (int i = 0; i < k; i++) {
            int t = (int)x[i].task_id - 1;
            assert_true(m.open[t] && m.holder[t] < 0);
            assert_true(now >= m.t[t].ready_us + m.t[t].ttl_us);
            m.open[t] = false;
        }
        /* Whatever is still pending and past its TTL would be a leak. */
        for (int t = 0; t < nt; t++)
            if (m.open[t] && m.holder[t] < 0)
                assert_true(now < m.t[t].ready_us + m.t[t].ttl_us);
        /* Events: complete, reject (exclude and requeue), presence. */
        for (int t = 0; t < nt; t++) {
            int w = m.holder[t];
            if (!m.open[t] || w < 0 || rand() % 2)
                continue;
            load[w * ROUTER_CHANNELS + m.t[t].channel]--;
            if (rand() % 3 == 0) {
                assert_int_equal(router_task_exclude(r, t + 1, w, &e), ST_OK);
                m.excl[t][w] = true;
                router_task_requeue(r, t + 1, now);
                m.holder[t] = -1;
            } else {
                router_task_done(r, t + 1, now);
                m.open[t] = false;
                m.aff[m.t[t].case_id - 500] = w + 1;
                if (m.w[w].wrapup_us > 0)
                    m.wrap_until[w] = now + m.w[w].wrapup_us;
            }
        }
        for (int w = 0; w < nw; w++)
            if (rand() % 6 == 0) {
                m.avail[w] = !m.avail[w];
                router_worker_available(r, w, m.avail[w], now);
            }
        for (int w = 0; w < nw; w++)
            for (int ch = 0; ch < ROUTER_CHANNELS; ch++)
                assert_int_equal(router_worker_load(r, w, ch),
                                 load[w * ROUTER_CHANNELS + ch]);
    }
    router_destroy(r);
}

static void test_random_workloads_with_all_rules(void **state)
{
    (void)state;
    srand(7);
    for (unsigned round = 0; round < 3000; round++)
        property_round(round, round % 3 == 0);
}

/* Exact assignment: the batch optimum equals brute force on small random
 * matrices, in the number of assignments and then in the total score
 * (fit and idle time here: score = -fit * (level - minimum) + idle s). */
static void test_batch_is_optimal_on_random_matrices(void **state)
{
    router *r = NULL;
    err e = {0};

    (void)state;
    srand(11);
    assert_int_equal(router_create(&r, &e), ST_OK);
    for (int round = 0; round < 300; round++) {
        router_config c;
        router_assignment a[8];
        router_explain x[8];
        int nw = 1 + rand() % 5, nt = 1 + rand() % 5, n;
        router_clear(r);
        router_config_default(&c);
        c.batch_min = 1;
        c.weights.fit = 1 + rand() % 50;
        assert_int_equal(router_config_set(r, &c, &e), ST_OK);
        assert_int_equal(router_contract_add(r, T_BANK, POOL_A, CT_LOAN, &e),
                         ST_OK);
        int lw[5], lt[5], idle[5];
        for (int w = 0; w < nw; w++) {
            lw[w] = rand() % 5;
            idle[w] = rand() % 50;
            add_worker(r, w, POOL_A, lw[w], idle[w] * SEC);
        }
        for (int t = 0; t < nt; t++) {
            lt[t] = rand() % 5;
            add_task(r, t + 1, lt[t], t);
        }
        n = router_match_explained(r, 100 * SEC, a, x, 8);
        /* Brute force the most assignments possible, then the best total
         * score among those. */
        int best = 0;
        int64_t best_score = INT64_MIN, score = 0;
        for (int mask = 0; mask < 1 << (nw * nt) && nw * nt <= 12; mask++) {
            int cnt = 0, ok = 1, usedw = 0, usedt = 0;
            int64_t sum = 0;
            for (int b = 0; b < nw * nt && ok; b++) {
                int w = b / nt, t = b % nt;
                if (!(mask >> b & 1))
                    continue;
                if ((usedw >> w & 1) || (usedt >> t & 1) || lw[w] < lt[t])
                    ok = 0;
                usedw |= 1 << w;
                usedt |= 1 << t;
                sum += -c.weights.fit * (lw[w] - lt[t]) + 100 - idle[w];
                cnt++;
            }
            if (ok && (cnt > best || (cnt == best && sum > best_score))) {
                best = cnt;
                best_score = sum;
            }
        }
        for (int i = 0; i < n; i++) {
            assert_int_equal(x[i].worker, a[i].worker);
            score += x[i].candidates[0].score;
        }
        if (nw * nt <= 12) {
            assert_int_equal(n, best);
            assert_true(score == best_score);
        }
    }
    router_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_licence_required_and_valid_on_the_day),
        cmocka_unit_test(test_break_and_wrapup_take_no_work),
        cmocka_unit_test(test_voice_blocks_other_channels),
        cmocka_unit_test(test_skill_fit_keeps_specialists_free),
        cmocka_unit_test(test_quality_cost_and_fairness),
        cmocka_unit_test(test_deadline_tenant_priority_and_operator_change),
        cmocka_unit_test(test_rings_widen_eligibility),
        cmocka_unit_test(test_ttl_expires_pending_tasks),
        cmocka_unit_test(test_batch_beats_greedy),
        cmocka_unit_test(test_explanation_content),
        cmocka_unit_test(test_live_figures),
        cmocka_unit_test(test_random_workloads_with_all_rules),
        cmocka_unit_test(test_batch_is_optimal_on_random_matrices),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
