/* Broadcast offers and wrapping tasks in the matching engine, on fixtures
 * small enough to check by hand, then a randomized invariant test. */
#include <stdlib.h>
#include <string.h>

#include "router.h"
#include "tl_test.h"

enum { T_BANK = 0, POOL_FRONT = 0, POOL_SPEC = 1, CT_LOAN = 0, SK_COLL = 0 };

#define SEC 1000000LL

static router *make(void)
{
    router *r = NULL;
    err e = {0};

    assert_int_equal(router_create(&r, &e), ST_OK);
    assert_int_equal(router_contract_add(r, T_BANK, POOL_FRONT, CT_LOAN, &e),
                     ST_OK);
    return r;
}

/* Worker w idles since 1000 + w µs: the lower the index, the longer it has
 * idled, so with the default weights it ranks first. */
static void add_worker(router *r, int w, int pool, int64_t wrapup_us)
{
    router_worker_def d;
    err e = {0};

    memset(&d, 0, sizeof(d));
    d.pool = pool;
    d.nskills = 1;
    d.skills[0].skill = SK_COLL;
    d.skills[0].level = 3;
    d.capacity[ROUTER_VOICE] = 1;
    d.capacity[ROUTER_CHAT] = 3;
    d.wrapup_us = wrapup_us;
    assert_int_equal(router_worker_set(r, w, &d, &e), ST_OK);
    router_worker_available(r, w, true, 1000 + w);
}

static void task_def(router_task_def *t, int64_t id, int broadcast)
{
    memset(t, 0, sizeof(*t));
    t->id = id;
    t->case_id = 100 + id;
    t->tenant = T_BANK;
    t->case_type = CT_LOAN;
    t->channel = ROUTER_VOICE;
    t->ready_us = id;
    t->nskills = 1;
    t->skills[0].skill = SK_COLL;
    t->skills[0].level = 1;
    t->broadcast = broadcast;
}

static void add_task(router *r, int64_t id, int broadcast)
{
    router_task_def t;
    err e = {0};

    task_def(&t, id, broadcast);
    assert_int_equal(router_task_add(r, &t, -1, &e), ST_OK);
}

static int voice_load(router *r, int w)
{
    return router_worker_load(r, w, ROUTER_VOICE);
}

/*
 * Four eligible workers (0..3, 0 idle longest) and a fifth without a
 * contract. Task 1 broadcast to 3: offered to 0, 1, 2 in that order, each
 * holding a voice slot; worker 3 stays free and takes task 2. Worker 1
 * accepts task 1: workers 0 and 2 get their slots back.
 */
static void test_broadcast_to_three_of_four(void **state)
{
    router *r = make();
    router_assignment a[8];
    router_explain why[8];
    int held[ROUTER_BROADCAST_MAX];

    (void)state;
    for (int w = 0; w < 4; w++)
        add_worker(r, w, POOL_FRONT, 0);
    add_worker(r, 4, POOL_SPEC, 0);
    add_task(r, 1, 3);
    assert_int_equal(router_match_explained(r, 10, a, why, 8), 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(a[i].task_id, 1);
        assert_int_equal(a[i].worker, i);
        assert_int_equal(why[i].task_id, 1);
        assert_int_equal(why[i].worker, i);
        assert_int_equal(voice_load(r, i), 1);
    }
    assert_int_equal(voice_load(r, 3), 0);
    assert_int_equal(voice_load(r, 4), 0);
    assert_int_equal(router_pending_count(r), 0);
    assert_int_equal(router_task_holders(r, 1, held, ROUTER_BROADCAST_MAX), 3);
    assert_int_equal(held[0], 0);
    assert_int_equal(held[1], 1);
    assert_int_equal(held[2], 2);

    /* Capacity is counted on every offered worker: only 3 is free. */
    add_task(r, 2, 1);
    assert_int_equal(router_match(r, 20, a, 8), 1);
    assert_int_equal(a[0].task_id, 2);
    assert_int_equal(a[0].worker, 3);

    /* First accept wins; the others are freed. */
    router_task_accept(r, 1, 1, 30);
    assert_int_equal(router_task_holders(r, 1, held, ROUTER_BROADCAST_MAX), 1);
    assert_int_equal(held[0], 1);
    assert_int_equal(router_task_holder(r, 1), 1);
    assert_int_equal(voice_load(r, 0), 0);
    assert_int_equal(voice_load(r, 1), 1);
    assert_int_equal(voice_load(r, 2), 0);
    /* A late accept by a freed worker moves nothing in the router's
     * picture of loads except to that worker (the dispatcher never sends
     * one: the database refuses it); a release of a non-holder is a
     * no-op. */
    router_task_release(r, 1, 0, 40);
    assert_int_equal(voice_load(r, 1), 1);
    assert_int_equal(router_task_holder(r, 1), 1);

    /* The freed workers take new work again. */
    add_task(r, 3, 2);
    assert_int_equal(router_match(r, 50, a, 8), 2);
    assert_int_equal(a[0].worker, 0);
    assert_int_equal(a[1].worker, 2);
    router_destroy(r);
}

/* A reject or timeout by one of the holders frees only that worker; the
 * task is pending again when the last one lets go, and goes only to a
 * worker who has not declined it. */
static void test_broadcast_requeues_when_all_decline(void **state)
{
    router *r = make();
    router_assignment a[8];
    err e = {0};

    (void)state;
    for (int w = 0; w < 4; w++)
        add_worker(r, w, POOL_FRONT, 0);
    add_task(r, 1, 3);
    assert_int_equal(router_match(r, 10, a, 8), 3);
    assert_int_equal(router_task_exclude(r, 1, 0, &e), ST_OK);
    router_task_release(r, 1, 0, 20);
    assert_int_equal(voice_load(r, 0), 0);
    assert_int_equal(router_pending_count(r), 0);
    assert_int_equal(router_task_holder(r, 1), 1);
    assert_int_equal(router_match(r, 30, a, 8), 0); /* still offered */
    for (int w = 1; w <= 2; w++) {
        assert_int_equal(router_task_exclude(r, 1, w, &e), ST_OK);
        router_task_release(r, 1, w, 40);
    }
    assert_int_equal(router_pending_count(r), 1);
    assert_int_equal(router_task_holder(r, 1), -1);
    /* Wants 3, but only worker 3 has not declined it. */
    assert_int_equal(router_match(r, 50, a, 8), 1);
    assert_int_equal(a[0].worker, 3);
    for (int w = 0; w < 4; w++)
        assert_int_equal(voice_load(r, w), w == 3 ? 1 : 0);
    router_destroy(r);
}

/* A broadcast is cut short by the room the caller gives. */
static void test_broadcast_limited_by_max(void **state)
{
    router *r = make();
    router_assignment a[8];

    (void)state;
    for (int w = 0; w < 4; w++)
        add_worker(r, w, POOL_FRONT, 0);
    add_task(r, 1, 4);
    assert_int_equal(router_match(r, 10, a, 2), 2);
    assert_int_equal(voice_load(r, 2), 0);
    /* Held already: the task is not offered again by a later call. */
    assert_int_equal(router_match(r, 20, a, 8), 0);
    router_destroy(r);
}

/* The rebuild: a task held by one worker, then the others of its pending
 * broadcast. */
static void test_hold_rebuilds_a_broadcast(void **state)
{
    router *r = make();
    router_task_def t;
    int held[ROUTER_BROADCAST_MAX];
    err e = {0};

    (void)state;
    for (int w = 0; w < 6; w++)
        add_worker(r, w, POOL_FRONT, 0);
    task_def(&t, 1, 5);
    assert_int_equal(router_task_add(r, &t, 2, &e), ST_OK);
    assert_int_equal(router_task_hold(r, 1, 4, &e), ST_OK);
    assert_int_equal(router_task_hold(r, 1, 4, &e), ST_OK); /* twice: once */
    assert_int_equal(router_task_holders(r, 1, held, ROUTER_BROADCAST_MAX), 2);
    assert_int_equal(voice_load(r, 2), 1);
    assert_int_equal(voice_load(r, 4), 1);
    assert_int_equal(router_task_hold(r, 1, 0, &e), ST_OK);
    assert_int_equal(router_task_hold(r, 1, 1, &e), ST_OK);
    assert_int_equal(router_task_hold(r, 1, 3, &e), ST_OK);
    assert_int_equal(router_task_hold(r, 1, 5, &e), ST_INVALID);
    assert_int_equal(voice_load(r, 5), 0);
    assert_int_equal(router_task_hold(r, 9, 5, &e), ST_NOT_FOUND);
    /* A pending task becomes held by its first hold. */
    task_def(&t, 2, 2);
    assert_int_equal(router_task_add(r, &t, -1, &e), ST_OK);
    assert_int_equal(router_pending_count(r), 1);
    assert_int_equal(router_task_hold(r, 2, 5, &e), ST_OK);
    assert_int_equal(router_pending_count(r), 0);
    assert_int_equal(router_task_holder(r, 2), 5);
    task_def(&t, 3, ROUTER_BROADCAST_MAX + 1);
    assert_int_not_equal(router_task_add(r, &t, -1, &e), ST_OK);
    router_destroy(r);
}

/*
 * Wrapping: worker 0 (wrap-up 30 s, one voice slot) completes task 1 at
 * 10 s. Its slot stays taken while the task wraps, even past the router's
 * own wrap-up end, until the dispatcher says the wrap-up is over.
 */
static void test_wrapping_keeps_the_slot(void **state)
{
    router *r = make();
    router_assignment a[4];
    router_worker_stats ws;
    err e = {0};

    (void)state;
    add_worker(r, 0, POOL_FRONT, 30 * SEC);
    add_task(r, 1, 1);
    assert_int_equal(router_match(r, 5 * SEC, a, 4), 1);
    router_task_wrapping(r, 1, 10 * SEC);
    assert_int_equal(voice_load(r, 0), 1);
    assert_int_equal(router_task_count(r), 1);
    assert_int_equal(router_worker_stats_get(r, 0, 20 * SEC, &ws, &e), ST_OK);
    assert_int_equal(ws.state, ROUTER_WS_WRAPUP);
    /* Wrapping tasks are neither requeued nor released. */
    router_task_requeue(r, 1, 20 * SEC);
    router_task_release(r, 1, 0, 20 * SEC);
    assert_int_equal(router_pending_count(r), 0);
    assert_int_equal(voice_load(r, 0), 1);
    /* The wrap-up closes the worker's other channels until 40 s. */
    {
        router_task_def t;
        task_def(&t, 3, 1);
        t.channel = ROUTER_CHAT;
        assert_int_equal(router_task_add(r, &t, -1, &e), ST_OK);
    }
    assert_int_equal(router_match(r, 39 * SEC, a, 4), 0);
    assert_int_equal(router_match(r, 40 * SEC, a, 4), 1);
    assert_int_equal(a[0].task_id, 3);
    router_task_remove(r, 3, 41 * SEC); /* no second wrap-up */
    add_task(r, 2, 1);
    assert_int_equal(router_match(r, 50 * SEC, a, 4), 0);
    router_task_wrapped(r, 1, 51 * SEC);
    assert_int_equal(voice_load(r, 0), 0);
    assert_int_equal(router_task_count(r), 1);
    assert_int_equal(router_match(r, 52 * SEC, a, 4), 1);
    assert_int_equal(a[0].task_id, 2);
    /* Without a wrap-up the task leaves at once. */
    router_task_done(r, 2, 60 * SEC);
    assert_int_equal(router_task_count(r), 0);
    router_destroy(r);
}

/* Wrapping a broadcast task keeps only the accepted worker's slot. */
static void test_wrapping_after_broadcast(void **state)
{
    router *r = make();
    router_assignment a[4];

    (void)state;
    add_worker(r, 0, POOL_FRONT, 30 * SEC);
    add_worker(r, 1, POOL_FRONT, 30 * SEC);
    add_task(r, 1, 2);
    assert_int_equal(router_match(r, SEC, a, 4), 2);
    router_task_accept(r, 1, 1, 2 * SEC);
    router_task_wrapping(r, 1, 3 * SEC);
    assert_int_equal(voice_load(r, 0), 0);
    assert_int_equal(voice_load(r, 1), 1);
    router_task_wrapped(r, 1, 40 * SEC);
    assert_int_equal(voice_load(r, 1), 0);
    router_destroy(r);
}

/*
 * Random events on broadcast tasks: a worker's load always equals the
 * number of tasks it holds, no task is held twice by one worker or by more
 * than its broadcast count, and a task is pending exactly when nobody
 * holds it.
 */
#define NW 6
#define NT 20

static void test_random_broadcasts_keep_loads(void **state)
{
    (void)state;
    srand(5);
    for (int round = 0; round < 400; round++) {
        router *r = make();
        router_assignment a[64];
        int bc[NT + 1];
        bool open[NT + 1];
        int64_t now = SEC;
        err e = {0};

        for (int w = 0; w < NW; w++)
            add_worker(r, w, POOL_FRONT, (rand() % 2) * SEC);
        for (int t = 1; t <= NT; t++) {
            router_task_def d;
            bc[t] = 1 + rand() % ROUTER_BROADCAST_MAX;
            task_def(&d, t, bc[t]);
            d.channel = rand() % 2 ? ROUTER_VOICE : ROUTER_CHAT;
            assert_int_equal(router_task_add(r, &d, -1, &e), ST_OK);
            open[t] = true;
        }
        for (int step = 0; step < 10; step++) {
            int load[NW];
            int npend = 0;
            now += SEC;
            (void)router_match(r, now, a, 64);
            /* Events on the held tasks. */
            for (int t = 1; t <= NT; t++) {
                int held[ROUTER_BROADCAST_MAX], n, pick;
                if (!open[t])
                    continue;
                n = router_task_holders(r, t, held, ROUTER_BROADCAST_MAX);
                if (n == 0)
                    continue;
                pick = held[rand() % n];
                switch (rand() % 4) {
                case 0:
                    router_task_accept(r, t, pick, now);
                    break;
                case 1:
                    assert_int_equal(router_task_exclude(r, t, pick, &e),
                                     ST_OK);
                    router_task_release(r, t, pick, now);
                    break;
                case 2:
                    if (n == 1) {
                        router_task_done(r, t, now);
                        open[t] = false;
                    }
                    break;
                default:
                    break;
                }
            }
            memset(load, 0, sizeof(load));
            for (int t = 1; t <= NT; t++) {
                int held[ROUTER_BROADCAST_MAX], n;
                if (!open[t])
                    continue;
                n = router_task_holders(r, t, held, ROUTER_BROADCAST_MAX);
                assert_true(n <= bc[t]);
                if (n == 0)
                    npend++;
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < i; j++)
                        assert_int_not_equal(held[i], held[j]);
                    load[held[i]]++;
                }
            }
            for (int w = 0; w < NW; w++)
                assert_int_equal(router_worker_load(r, w, ROUTER_VOICE) +
                                     router_worker_load(r, w, ROUTER_CHAT),
                                 load[w]);
            assert_int_equal(router_pending_count(r), npend);
        }
        router_destroy(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_broadcast_to_three_of_four),
        cmocka_unit_test(test_broadcast_requeues_when_all_decline),
        cmocka_unit_test(test_broadcast_limited_by_max),
        cmocka_unit_test(test_hold_rebuilds_a_broadcast),
        cmocka_unit_test(test_wrapping_keeps_the_slot),
        cmocka_unit_test(test_wrapping_after_broadcast),
        cmocka_unit_test(test_random_broadcasts_keep_loads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
