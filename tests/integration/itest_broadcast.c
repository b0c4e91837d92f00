/*
 * Broadcast offers and wrap-up through the real dispatcher on the real
 * services: a step offered to several workers at once, the first accept
 * wins and the others are rescinded; all declining re-routes the task;
 * a completion in a pool with a wrap-up is `wrapping` until it ends; the
 * loader's checks of the step field `broadcast`; kill -9 of the dispatcher
 * amid broadcasts and wrap-ups never gives a task two holders.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_sim.h"
#include "agent_stats.h"
#include "clock.h"
#include "cmd_load.h"
#include "harness.h"
#include "tl_test.h"

#define NW 5
/* wa, wb, wd, we: pool front, collections 2 (eligible for contact);
 * wc: pool spec (collections 1, not eligible for contact). */
static const char *const workers[NW] = {"wa", "wb", "wd", "we", "wc"};
enum { WA, WB, WD, WE, WC };

typedef harness_world world;

/* The harness world plus wd and we in pool front, like wa and wb. */
static const char broadcast_sql[] =
    "INSERT INTO workers (id, pool_id, name) VALUES"
    " ('wd', 'front', 'D'), ('we', 'front', 'E');"
    "INSERT INTO worker_skills VALUES ('wd', 'collections', 2, 0),"
    " ('we', 'collections', 2, 0);"
    "INSERT INTO worker_capacity SELECT w, c, s FROM (VALUES"
    " ('voice', 1), ('chat', 3), ('backoffice', 5)) AS x(c, s),"
    " unnest(ARRAY['wd', 'we']) AS w;";

static void world_up(world *w, const char *name, const char *sql)
{
    dispatcher_opts o;
    harness_world_opts wo = {.seed_sql = broadcast_sql,
                             .sql = sql,
                             .dispatcher = &o,
                             .workers = workers,
                             .nworkers = NW};

    dispatcher_opts_default(&o);
    o.lease_ms = 120000; /* the tests send no heartbeats */
    harness_world_up(w, name, &wo);
}

static json_t *req(world *w, const char *rest, const char *body)
{
    return harness_request(&w->f, w->b, rest, body);
}

static void expect_ok(json_t *r)
{
    if (!json_is_true(json_object_get(r, "ok")))
        fail_msg("expected ok, got %s", json_dumps(r, 0));
    json_decref(r);
}

static void presence(world *w, int wi, const char *p)
{
    char rest[128], body[64];

    snprintf(rest, sizeof(rest), "agent.%s.presence", workers[wi]);
    snprintf(body, sizeof(body), "{\"presence\":\"%s\"}", p);
    expect_ok(req(w, rest, body));
}

static void submit(world *w, const char *ext)
{
    char body[256];

    snprintf(body, sizeof(body),
             "{\"external_id\":\"%s\",\"case_type\":\"loan\"}", ext);
    expect_ok(req(w, "api.bank1.case.submit", body));
}

static int64_t num(const json_t *o, const char *k)
{
    return (int64_t)json_integer_value(json_object_get(o, k));
}

static json_t *answer(world *w, int wi, const char *verb, const json_t *offer,
                      const char *extra)
{
    char rest[128], body[512];

    snprintf(rest, sizeof(rest), "agent.%s.%s", workers[wi], verb);
    snprintf(body, sizeof(body), "{\"reservation_id\":%lld,\"epoch\":%lld%s}",
             (long long)num(offer, "reservation_id"),
             (long long)num(offer, "epoch"), extra != NULL ? extra : "");
    return req(w, rest, body);
}

static const char *promise =
    ",\"outcome\":{\"code\":\"promise_to_pay\",\"fields\":"
    "{\"amount_minor\":50000,\"due_date\":\"2026-12-05\"}}";
static const char *dispute = ",\"outcome\":{\"code\":\"dispute\"}";

/* The stored states of a task's reservations, in worker order. */
static void states_of(world *w, int64_t task, char *buf, size_t cap)
{
    char sql[256];

    snprintf(sql, sizeof(sql),
             "SELECT string_agg(worker_id || ':' || state, ',' ORDER BY"
             " worker_id) FROM reservations WHERE task_id = %lld",
             (long long)task);
    fixture_str(&w->f, sql, buf, cap);
}

static int64_t task_state_is(world *w, int64_t task, const char *state)
{
    char sql[200];

    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM tasks WHERE id = %lld AND state = '%s'",
             (long long)task, state);
    return fixture_i64(&w->f, sql);
}

/* The task is completed, allowing for the tick that ends its wrap-up. */
static int64_t wait_completed(world *w, int64_t task)
{
    char sql[200];

    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM tasks t JOIN reservations r"
             " ON r.task_id = t.id AND r.state = 'completed'"
             " WHERE t.id = %lld AND t.state = 'completed'",
             (long long)task);
    return fixture_wait_i64(&w->f, sql, 1, 1000);
}

/*
 * Broadcast 3: wa, wb and wd get the same task at once (one epoch, three
 * reservations); while it is offered each of them has its one voice slot
 * taken, so a second case waits. wa accepts first and wins; wb's late
 * accept is refused with stale_reservation; wb and wd get a rescind
 * notice; the rows say accepted/rescinded/rescinded; the freed workers
 * get the second case.
 */
static void test_first_accept_wins(void **state)
{
    world w;
    json_t *o[3], *r, *n;
    int64_t task;
    char buf[256];

    (void)state;
    world_up(&w, "bc_first",
             "UPDATE playbook_steps SET broadcast = 3 WHERE step = 'contact'");
    presence(&w, WA, "available");
    presence(&w, WB, "available");
    presence(&w, WD, "available");
    submit(&w, "LN-1");
    for (int i = 0; i < 3; i++) {
        o[i] = inbox_next(&w.offers[i], 3000);
        assert_non_null(o[i]);
    }
    task = num(o[0], "task_id");
    assert_int_equal(num(o[1], "task_id"), task);
    assert_int_equal(num(o[2], "task_id"), task);
    assert_int_equal(num(o[1], "epoch"), num(o[0], "epoch"));
    assert_int_not_equal(num(o[1], "reservation_id"),
                         num(o[0], "reservation_id"));
    assert_int_equal(task_state_is(&w, task, "reserved"), 1);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM"
                                       " routing_decisions"),
                     3);
    /* Capacity is counted on all three: the next case waits. */
    submit(&w, "LN-2");
    for (int i = 0; i < 3; i++)
        assert_null(inbox_next(&w.offers[i], i == 0 ? 600 : 10));
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM tasks"
                                       " WHERE state = 'pending'"),
                     1);

    expect_ok(answer(&w, WA, "accept", o[0], NULL));
    r = answer(&w, WB, "accept", o[1], NULL);
    assert_string_equal(harness_error_code(r), "stale_reservation");
    assert_non_null(strstr(json_string_value(json_object_get(
                               json_object_get(r, "error"), "message")),
                           "rescinded"));
    json_decref(r);
    for (int i = 1; i < 3; i++) {
        n = inbox_next(&w.notices[i], 2000);
        assert_non_null(n);
        assert_string_equal(json_string_value(json_object_get(n, "type")),
                            "rescinded");
        assert_string_equal(json_string_value(json_object_get(n, "reason")),
                            "accepted_elsewhere");
        assert_int_equal(num(n, "reservation_id"), num(o[i], "reservation_id"));
        json_decref(n);
    }
    assert_null(inbox_next(&w.notices[0], 10));
    states_of(&w, task, buf, sizeof(buf));
    assert_string_equal(buf, "wa:accepted,wb:rescinded,wd:rescinded");
    assert_int_equal(task_state_is(&w, task, "assigned"), 1);
    fixture_str(&w.f, "SELECT worker_id FROM tasks WHERE state = 'assigned'",
                buf, sizeof(buf));
    assert_string_equal(buf, "wa");
    /* Accepting again is still fine for the winner, refused for wd. */
    expect_ok(answer(&w, WA, "accept", o[0], NULL));
    r = answer(&w, WD, "accept", o[2], NULL);
    assert_string_equal(harness_error_code(r), "stale_reservation");
    json_decref(r);
    r = answer(&w, WD, "complete", o[2], promise);
    assert_string_equal(harness_error_code(r), "stale_reservation");
    json_decref(r);

    /* wb and wd are free again: the second case goes to both. */
    for (int i = 1; i < 3; i++) {
        n = inbox_next(&w.offers[i], 3000);
        assert_non_null(n);
        assert_int_not_equal(num(n, "task_id"), task);
        json_decref(n);
    }
    expect_ok(answer(&w, WA, "complete", o[0], promise));
    assert_int_equal(task_state_is(&w, task, "completed"), 1);
    for (int i = 0; i < 3; i++)
        json_decref(o[i]);
    harness_world_down(&w);
}

/*
 * Broadcast 3 among four eligible workers (we comes later). wa rejects:
 * the task stays reserved with wb and wd and goes nowhere else; wb and wd
 * let their offers time out: now it is re-routed, to we only, with a new
 * epoch.
 */
static void test_all_decline_reroutes(void **state)
{
    world w;
    json_t *o[3], *n;
    int64_t task;
    char buf[256];

    (void)state;
    world_up(&w, "bc_decline",
             "UPDATE playbook_steps SET broadcast = 3 WHERE step = 'contact';"
             "UPDATE channel_settings SET offer_timeout_ms = 2000"
             " WHERE channel = 'voice'");
    presence(&w, WA, "available");
    presence(&w, WB, "available");
    presence(&w, WD, "available");
    submit(&w, "LN-1");
    for (int i = 0; i < 3; i++) {
        o[i] = inbox_next(&w.offers[i], 3000);
        assert_non_null(o[i]);
    }
    task = num(o[0], "task_id");
    presence(&w, WE, "available");
    expect_ok(answer(&w, WA, "reject", o[0], ",\"reason\":\"language\""));
    assert_int_equal(task_state_is(&w, task, "reserved"), 1);
    assert_null(inbox_next(&w.offers[WE], 800));
    assert_null(inbox_next(&w.offers[WA], 10));
    states_of(&w, task, buf, sizeof(buf));
    assert_string_equal(buf, "wa:rejected,wb:pending,wd:pending");

    n = inbox_next(&w.offers[WE], 4000);
    assert_non_null(n);
    assert_int_equal(num(n, "task_id"), task);
    assert_int_equal(num(n, "epoch"), num(o[0], "epoch") + 1);
    for (int i = 1; i < 3; i++) {
        json_t *x = inbox_next(&w.notices[i], 1000);
        assert_non_null(x);
        assert_string_equal(json_string_value(json_object_get(x, "reason")),
                            "timeout");
        json_decref(x);
    }
    states_of(&w, task, buf, sizeof(buf));
    assert_string_equal(buf, "wa:rejected,wb:timeout,wd:timeout,we:pending");
    expect_ok(answer(&w, WE, "accept", n, NULL));
    json_decref(n);
    for (int i = 0; i < 3; i++)
        json_decref(o[i]);
    harness_world_down(&w);
}

/* All three reject at once: re-routed to nobody they were (we is away),
 * then to we as soon as it is available. */
static void test_all_reject_then_new_worker(void **state)
{
    world w;
    json_t *o[3], *n;
    int64_t task;

    (void)state;
    world_up(&w, "bc_reject",
             "UPDATE playbook_steps SET broadcast = 3 WHERE step = 'contact'");
    presence(&w, WA, "available");
    presence(&w, WB, "available");
    presence(&w, WD, "available");
    submit(&w, "LN-1");
    for (int i = 0; i < 3; i++) {
        o[i] = inbox_next(&w.offers[i], 3000);
        assert_non_null(o[i]);
    }
    task = num(o[0], "task_id");
    for (int i = 0; i < 3; i++) {
        expect_ok(answer(&w, i, "reject", o[i], NULL));
        assert_int_equal(
            task_state_is(&w, task, i < 2 ? "reserved" : "pending"), 1);
    }
    presence(&w, WE, "available");
    n = inbox_next(&w.offers[WE], 3000);
    assert_non_null(n);
    assert_int_equal(num(n, "task_id"), task);
    for (int i = 0; i < 3; i++) {
        assert_null(inbox_next(&w.offers[i], 10));
        json_decref(o[i]);
    }
    json_decref(n);
    harness_world_down(&w);
}

/*
 * Wrap-up 3 s in pool front: after wa completes, task and reservation are
 * `wrapping` and the case's next step (legal after a dispute) is ready at
 * once; wa gets no new voice offer until the wrap-up ends, then the rows
 * are `completed` and the waiting case reaches wa.
 */
static void test_wrapping_until_wrapup_ends(void **state)
{
    world w;
    json_t *o, *n;
    int64_t task, t0;
    char buf[256];

    (void)state;
    world_up(&w, "bc_wrap",
             "INSERT INTO pool_routing (pool_id, wrapup_seconds)"
             " VALUES ('front', 3)");
    presence(&w, WA, "available");
    submit(&w, "LN-1");
    o = inbox_next(&w.offers[WA], 3000);
    assert_non_null(o);
    task = num(o, "task_id");
    submit(&w, "LN-2");
    expect_ok(answer(&w, WA, "accept", o, NULL));
    t0 = clock_mono_us();
    expect_ok(answer(&w, WA, "complete", o, dispute));
    states_of(&w, task, buf, sizeof(buf));
    assert_string_equal(buf, "wa:wrapping");
    assert_int_equal(task_state_is(&w, task, "wrapping"), 1);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM reservations"
                                       " WHERE state = 'wrapping' AND"
                                       " wrap_until > now() + interval '2 s'"),
                     1);
    /* The next step does not wait for the wrap-up. */
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM tasks"
                                       " WHERE step = 'legal'"
                                       " AND state = 'pending'"),
                     1);
    /* A retry of the completion is still answered as a duplicate. */
    n = answer(&w, WA, "complete", o, dispute);
    assert_true(json_is_true(json_object_get(n, "duplicate")));
    json_decref(n);
    /* No new offer on the channel while wrapping. */
    assert_null(inbox_next(&w.offers[WA], 2000));
    states_of(&w, task, buf, sizeof(buf));
    assert_string_equal(buf, "wa:wrapping");
    n = inbox_next(&w.offers[WA], 4000);
    assert_non_null(n);
    assert_true(clock_mono_us() - t0 >= 2900000);
    assert_int_not_equal(num(n, "task_id"), task);
    assert_int_equal(wait_completed(&w, task), 1);
    states_of(&w, task, buf, sizeof(buf));
    assert_string_equal(buf, "wa:completed");
    json_decref(n);
    json_decref(o);
    harness_world_down(&w);
}

/* A restart during a wrap-up keeps the worker's slot until it ends. */
static void test_wrapping_survives_restart(void **state)
{
    world w;
    json_t *o, *n;
    int64_t task;

    (void)state;
    world_up(&w, "bc_wrap_restart",
             "INSERT INTO pool_routing (pool_id, wrapup_seconds)"
             " VALUES ('front', 3)");
    presence(&w, WA, "available");
    submit(&w, "LN-1");
    o = inbox_next(&w.offers[WA], 3000);
    assert_non_null(o);
    task = num(o, "task_id");
    expect_ok(answer(&w, WA, "accept", o, NULL));
    expect_ok(answer(&w, WA, "complete", o, promise));
    harness_stop(&w.rd);
    harness_start(&w.rd, &w.f, NULL);
    submit(&w, "LN-2");
    assert_null(inbox_next(&w.offers[WA], 1500));
    assert_int_equal(task_state_is(&w, task, "wrapping"), 1);
    n = inbox_next(&w.offers[WA], 4000);
    assert_non_null(n);
    assert_int_equal(wait_completed(&w, task), 1);
    json_decref(n);
    json_decref(o);
    harness_world_down(&w);
}

/* Write examples/bank.json with the first step's broadcast set to value
 * (raw JSON text) into path. */
static void bank_with_broadcast(const char *value, char *path, size_t cap)
{
    char src[512];
    json_t *root, *step;
    json_error_t je;
    FILE *f;

    root = json_load_file(fixture_path("examples/bank.json", src, sizeof(src)),
                          0, &je);
    assert_non_null(root);
    step = json_array_get(
        json_object_get(json_array_get(json_object_get(root, "playbooks"), 0),
                        "steps"),
        0);
    assert_non_null(step);
    json_object_set_new(step, "broadcast",
                        json_loads(value, JSON_DECODE_ANY, &je));
    snprintf(path, cap, "/tmp/tl_bc_%d.json", (int)getpid());
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(json_dumpf(root, f, 0), 0);
    fclose(f);
    json_decref(root);
}

static void test_loader_checks_broadcast(void **state)
{
    static const char *const bad[] = {"0", "6", "-1", "\"3\"", "2.5"};
    fixture f;
    char path[256], op[512];
    int64_t steps;
    err e = {0};

    (void)state;
    fixture_setup(&f, "bc_load");
    assert_int_equal(
        cmd_load_file(f.db,
                      fixture_path("examples/operator.json", op, sizeof(op)),
                      NULL, &e),
        ST_OK);
    steps = fixture_i64(&f, "SELECT count(*) FROM playbook_steps");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&e, 0, sizeof(e));
        bank_with_broadcast(bad[i], path, sizeof(path));
        assert_int_not_equal(cmd_load_file(f.db, path, NULL, &e), ST_OK);
        if (strstr(e.msg, "broadcast") == NULL)
            fail_msg("message does not name the field: %s", e.msg);
        assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM playbook_steps"),
                         steps);
        assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM playbooks"), 0);
    }
    memset(&e, 0, sizeof(e));
    assert_int_equal(e.msg[0], '\0');
    bank_with_broadcast("3", path, sizeof(path));
    assert_int_equal(cmd_load_file(f.db, path, NULL, &e), ST_OK);
    assert_int_equal(fixture_i64(&f, "SELECT broadcast FROM playbook_steps"
                                     " WHERE step = 'contact'"),
                     3);
    /* Steps without the field keep one offer at a time. */
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM playbook_steps"
                                     " WHERE step <> 'contact'"
                                     " AND broadcast <> 1"),
                     0);
    unlink(path);
    fixture_teardown(&f);
}

#define KILL_CASES 60

/*
 * Every step broadcast to 3, a one-second wrap-up in every pool, simulated
 * agents accepting every offer, and the dispatcher killed with SIGKILL
 * every 15 cases: every case closes, every task ends with at most one
 * accepted/wrapping/completed reservation, whose worker is the task's and
 * the outcome's, and no wrap-up is left behind.
 */
static void test_kill9_never_two_holders(void **state)
{
    fixture f;
    agent_sim *sim = NULL;
    agent_stats *stats = NULL;
    pid_t pid;
    bus *b;

    (void)state;
    fixture_setup(&f, "bc_kill9");
    harness_load_examples(&f);
    fixture_exec(&f, "UPDATE playbook_steps SET broadcast = 3;"
                     "INSERT INTO pool_routing (pool_id, wrapup_seconds)"
                     " SELECT id, 1 FROM pools ON CONFLICT (pool_id)"
                     " DO UPDATE SET wrapup_seconds = 1;");
    pid = harness_spawn_dispatcher(&f);
    b = fixture_bus(&f);
    harness_agents_start(&f, 30, &sim, &stats);
    for (int i = 0; i < KILL_CASES; i++) {
        harness_submit_retry(&f, b, "B", i);
        if (i % 15 == 14) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            clock_sleep_ms(200);
            pid = harness_spawn_dispatcher(&f);
        }
    }
    assert_int_equal(fixture_wait_i64(&f,
                                      "SELECT count(*) FROM cases"
                                      " WHERE state = 'closed'",
                                      KILL_CASES, 240000),
                     KILL_CASES);
    assert_int_equal(fixture_wait_i64(&f,
                                      "SELECT count(*) FROM tasks"
                                      " WHERE state = 'wrapping'",
                                      0, 10000),
                     0);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM reservations"
                                     " WHERE state = 'wrapping'"),
                     0);
    /* Broadcasts happened, and their losers were rescinded. */
    assert_true(fixture_i64(&f, "SELECT count(*) FROM (SELECT 1 FROM"
                                " reservations GROUP BY task_id, epoch"
                                " HAVING count(*) > 1) x") > 0);
    assert_true(fixture_i64(&f, "SELECT count(*) FROM reservations WHERE"
                                " reason = 'accepted by another worker'") > 0);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM (SELECT task_id"
                                     " FROM reservations WHERE state IN"
                                     " ('accepted', 'wrapping', 'completed')"
                                     " GROUP BY task_id HAVING count(*) > 1)"
                                     " x"),
                     0);
    /* The holder of each completed task is the one who recorded it. */
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM tasks t"
                                     " JOIN outcomes o ON o.task_id = t.id"
                                     " LEFT JOIN reservations r"
                                     " ON r.id = o.reservation_id"
                                     " WHERE t.state = 'completed' AND"
                                     " (r.state IS DISTINCT FROM 'completed'"
                                     " OR r.worker_id <> o.worker_id"
                                     " OR t.worker_id <> o.worker_id)"),
                     0);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM tasks t WHERE"
                                     " t.state = 'completed' AND NOT EXISTS"
                                     " (SELECT 1 FROM outcomes o WHERE"
                                     " o.task_id = t.id)"),
                     0);
    agent_sim_destroy(sim);
    agent_stats_destroy(stats);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    bus_close(b);
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_accept_wins),
        cmocka_unit_test(test_all_decline_reroutes),
        cmocka_unit_test(test_all_reject_then_new_worker),
        cmocka_unit_test(test_wrapping_until_wrapup_ends),
        cmocka_unit_test(test_wrapping_survives_restart),
        cmocka_unit_test(test_loader_checks_broadcast),
        cmocka_unit_test(test_kill9_never_two_holders),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
