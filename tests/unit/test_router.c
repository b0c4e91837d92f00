/* The matching engine alone: each rule on a fixture small enough to check
 * by hand, then a randomized property test. */
#include <stdlib.h>
#include <string.h>

#include "router.h"
#include "tl_test.h"

enum { T_BANK = 0, POOL_FRONT = 0, POOL_SPEC = 1, CT_LOAN = 0 };
enum { SK_COLL = 0, SK_LEGAL = 1 };

static router *make(void)
{
    router *r = NULL;
    err e = {0};

    assert_int_equal(router_create(&r, &e), ST_OK);
    assert_int_equal(router_contract_add(r, T_BANK, POOL_FRONT, CT_LOAN, &e),
                     ST_OK);
    return r;
}

static void add_worker(router *r, int w, int pool, int skill, int level,
                       int ai_level, int voice_slots)
{
    router_worker_def d;
    err e = {0};

    memset(&d, 0, sizeof(d));
    d.pool = pool;
    d.nskills = 1;
    d.skills[0].skill = skill;
    d.skills[0].level = level;
    d.skills[0].ai_level = ai_level;
    d.capacity[ROUTER_VOICE] = voice_slots;
    d.capacity[ROUTER_CHAT] = 3;
    assert_int_equal(router_worker_set(r, w, &d, &e), ST_OK);
    router_worker_available(r, w, true, 1000 + w);
}

static void add_task(router *r, int64_t id, int64_t case_id, int skill,
                     int level, bool assist, int priority, int64_t ready)
{
    router_task_def t;
    err e = {0};

    memset(&t, 0, sizeof(t));
    t.id = id;
    t.case_id = case_id;
    t.tenant = T_BANK;
    t.case_type = CT_LOAN;
    t.channel = ROUTER_VOICE;
    t.priority = priority;
    t.ready_us = ready;
    t.assist = assist;
    t.nskills = 1;
    t.skills[0].skill = skill;
    t.skills[0].level = level;
    assert_int_equal(router_task_add(r, &t, -1, &e), ST_OK);
}

static int match_one(router *r, int64_t *task)
{
    router_assignment a[4];
    int n = router_match(r, 0, a, 4);

    if (n == 0)
        return -1;
    assert_int_equal(n, 1);
    if (task != NULL)
        *task = a[0].task_id;
    return a[0].worker;
}

static void test_skill_level_required(void **state)
{
    router *r = make();

    (void)state;
    add_worker(r, 0, POOL_FRONT, SK_COLL, 1, 0, 1);
    add_task(r, 1, 100, SK_COLL, 2, false, 0, 1);
    assert_int_equal(match_one(r, NULL), -1); /* level 1 < 2 */
    add_worker(r, 1, POOL_FRONT, SK_COLL, 2, 0, 1);
    assert_int_equal(match_one(r, NULL), 1);
    router_destroy(r);
}

static void test_ai_assist_counts_only_when_allowed(void **state)
{
    router *r = make();

    (void)state;
    add_worker(r, 0, POOL_FRONT, SK_LEGAL, 1, 3, 1);
    add_task(r, 1, 100, SK_LEGAL, 3, false, 0, 1);
    assert_int_equal(match_one(r, NULL), -1); /* step forbids assist */
    add_task(r, 2, 101, SK_LEGAL, 3, true, 0, 2);
    assert_int_equal(match_one(r, NULL), 0); /* assisted level 3 */
    router_destroy(r);
}

static void test_capacity_and_release(void **state)
{
    router *r = make();
    int64_t t;

    (void)state;
    add_worker(r, 0, POOL_FRONT, SK_COLL, 3, 0, 1);
    add_task(r, 1, 100, SK_COLL, 1, false, 0, 1);
    add_task(r, 2, 101, SK_COLL, 1, false, 0, 2);
    assert_int_equal(match_one(r, &t), 0);
    assert_int_equal(t, 1);
    assert_int_equal(router_worker_load(r, 0, ROUTER_VOICE), 1);
    assert_int_equal(match_one(r, NULL), -1); /* one voice slot only */
    router_task_done(r, 1, 5000);
    assert_int_equal(router_worker_load(r, 0, ROUTER_VOICE), 0);
    assert_int_equal(match_one(r, &t), 0);
    assert_int_equal(t, 2);
    router_destroy(r);
}

static void test_contract_required(void **state)
{
    router *r = make();

    (void)state;
    add_worker(r, 0, POOL_SPEC, SK_COLL, 5, 0, 1); /* no contract */
    add_task(r, 1, 100, SK_COLL, 1, false, 0, 1);
    assert_int_equal(match_one(r, NULL), -1);
    router_destroy(r);
}

static void test_unavailable_and_excluded(void **state)
{
    router *r = make();
    err e = {0};

    (void)state;
    add_worker(r, 0, POOL_FRONT, SK_COLL, 3, 0, 1);
    add_worker(r, 1, POOL_FRONT, SK_COLL, 3, 0, 1);
    router_worker_available(r, 1, false, 0);
    add_task(r, 1, 100, SK_COLL, 1, false, 0, 1);
    assert_int_equal(router_task_exclude(r, 1, 0, &e), ST_OK);
    assert_int_equal(match_one(r, NULL), -1);
    router_worker_available(r, 1, true, 0);
    assert_int_equal(match_one(r, NULL), 1);
    /* Requeued after a reject by 1: nobody left. */
    assert_int_equal(router_task_exclude(r, 1, 1, &e), ST_OK);
    router_task_requeue(r, 1, 0);
    assert_int_equal(router_pending_count(r), 1);
    assert_int_equal(match_one(r, NULL), -1);
    router_destroy(r);
}

static void test_affinity_wins_while_eligible(void **state)
{
    router *r = make();
    err e = {0};

    (void)state;
    add_worker(r, 0, POOL_FRONT, SK_COLL, 3, 0, 1);
    add_worker(r, 1, POOL_FRONT, SK_COLL, 3, 0, 1);
    /* Worker 1 handled case 100 before; worker 0 has idled longer. */
    assert_int_equal(router_affinity_set(r, 100, 1, &e), ST_OK);
    add_task(r, 1, 100, SK_COLL, 1, false, 0, 1);
    assert_int_equal(match_one(r, NULL), 1);
    /* Busy affine worker: the task goes to the other one at once. */
    add_task(r, 2, 100, SK_COLL, 1, false, 0, 2);
    assert_int_equal(match_one(r, NULL), 0);
    router_destroy(r);
}

static void test_least_loaded_then_longest_idle(void **state)
{
    router *r = make();

    (void)state;
    add_worker(r, 0, POOL_FRONT, SK_COLL, 3, 0, 2);
    add_worker(r, 1, POOL_FRONT, SK_COLL, 3, 0, 2);
    /* Both idle: worker 0 has been idle since 1000, worker 1 since 1001. */
    add_task(r, 1, 100, SK_COLL, 1, false, 0, 1);
    assert_int_equal(match_one(r, NULL), 0);
    /* Now worker 0 carries one task: the next goes to worker 1. */
    add_task(r, 2, 101, SK_COLL, 1, false, 0, 2);
    assert_int_equal(match_one(r, NULL), 1);
    router_destroy(r);
}

static void test_priority_then_age(void **state)
{
    router *r = make();
    int64_t t;

    (void)state;
    add_worker(r, 0, POOL_FRONT, SK_COLL, 3, 0, 1);
    add_task(r, 1, 100, SK_COLL, 1, false, 0, 10); /* old, low priority */
    add_task(r, 2, 101, SK_COLL, 1, false, 5, 20); /* urgent */
    add_task(r, 3, 102, SK_COLL, 1, false, 0, 5);  /* oldest, low */
    assert_int_equal(match_one(r, &t), 0);
    assert_int_equal(t, 2);
    router_task_done(r, 2, 0);
    assert_int_equal(match_one(r, &t), 0);
    assert_int_equal(t, 3);
    router_destroy(r);
}

/* A rebuild (clear, then load again) reuses task slots that had exclusion
 * lists; nothing may be freed twice or leak. */
static void test_clear_and_rebuild(void **state)
{
    router *r = make();
    err e = {0};

    (void)state;
    for (int round = 0; round < 3; round++) {
        add_worker(r, 0, POOL_FRONT, SK_COLL, 3, 0, 1);
        add_worker(r, 1, POOL_FRONT, SK_COLL, 3, 0, 1);
        assert_int_equal(
            router_contract_add(r, T_BANK, POOL_FRONT, CT_LOAN, &e), ST_OK);
        for (int64_t t = 1; t <= 4; t++) {
            add_task(r, t, 100 + t, SK_COLL, 1, false, 0, t);
            assert_int_equal(router_task_exclude(r, t, 0, &e), ST_OK);
        }
        assert_int_equal(match_one(r, NULL), 1);
        router_task_done(r, 1, 0);
        router_clear(r);
        assert_int_equal(router_task_count(r), 0);
        assert_int_equal(router_pending_count(r), 0);
    }
    router_destroy(r);
}

/* Thousands of random workloads: no slot is ever over-used, no task goes
 * to an ineligible worker, and affinity is honoured whenever possible. */
static void test_random_workloads_keep_invariants(void **state)
{
    (void)state;
    srand(42);
    for (int round = 0; round < 2000; round++) {
        router *r = make();
        int nw = 1 + rand() % 8, nt = 1 + rand() % 20;
        int level[8], ai[8], slots[8], avail[8], load[8] = {0};
        int need[20], assist[20];
        router_assignment a[32];
        err e = {0};
        int n;

        for (int w = 0; w < nw; w++) {
            level[w] = rand() % 4;
            ai[w] = rand() % 5;
            slots[w] = rand() % 3;
            avail[w] = rand() % 4 != 0;
            add_worker(r, w, POOL_FRONT, SK_COLL, level[w], ai[w], slots[w]);
            router_worker_available(r, w, avail[w], 0);
        }
        for (int t = 0; t < nt; t++) {
            need[t] = rand() % 4;
            assist[t] = rand() % 2;
            add_task(r, t + 1, 1000 + t % 5, SK_COLL, need[t], assist[t],
                     rand() % 3, rand() % 100);
        }
        if (rand() % 2)
            assert_int_equal(router_affinity_set(r, 1000, rand() % nw, &e),
                             ST_OK);
        n = router_match(r, 0, a, 32);
        for (int i = 0; i < n; i++) {
            int w = a[i].worker, t = (int)a[i].task_id - 1;
            int eff = assist[t] && ai[w] > level[w] ? ai[w] : level[w];
            assert_true(avail[w]);
            assert_true(eff >= need[t]);
            load[w]++;
            assert_true(load[w] <= slots[w]);
        }
        /* Whatever is left pending has no eligible worker with a slot. */
        assert_int_equal(router_pending_count(r), nt - n);
        router_destroy(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skill_level_required),
        cmocka_unit_test(test_ai_assist_counts_only_when_allowed),
        cmocka_unit_test(test_capacity_and_release),
        cmocka_unit_test(test_contract_required),
        cmocka_unit_test(test_unavailable_and_excluded),
        cmocka_unit_test(test_affinity_wins_while_eligible),
        cmocka_unit_test(test_least_loaded_then_longest_idle),
        cmocka_unit_test(test_priority_then_age),
        cmocka_unit_test(test_clear_and_rebuild),
        cmocka_unit_test(test_random_workloads_keep_invariants),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
