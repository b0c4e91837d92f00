/*
 * kill -9 of the dispatcher, again and again, while banks submit and agents
 * work: no case is lost, no task is held by two workers, no outcome is
 * billed twice, and the backlog drains once the dispatcher stays up.
 * The dispatcher runs as the real binary in a child process.
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
#include "harness.h"
#include "tl_test.h"

#define CASES 120

static void kill9(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void test_kill9_loses_nothing(void **state)
{
    fixture f;
    running_billing rb;
    agent_sim *sim = NULL;
    agent_stats *stats = NULL;
    pid_t pid;
    bus *b;

    (void)state;
    fixture_setup(&f, "kill9");
    harness_load_examples(&f);
    pid = harness_spawn_dispatcher(&f);
    b = fixture_bus(&f);
    harness_billing_start(&rb, &f);

    harness_agents_start(&f, 30, &sim, &stats);

    for (int i = 0; i < CASES; i++) {
        harness_submit_retry(&f, b, "K", i);
        if (i % 30 == 29) {
            /* Mid-flow: offers out, tasks accepted, outcomes in flight. */
            kill9(pid);
            clock_sleep_ms(200);
            pid = harness_spawn_dispatcher(&f);
        }
    }
    assert_int_equal(fixture_wait_i64(&f,
                                      "SELECT count(*) FROM cases"
                                      " WHERE state = 'closed'",
                                      CASES, 240000),
                     CASES);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM cases"), CASES);
    assert_int_equal(fixture_wait_i64(&f,
                                      "SELECT count(*) FROM outcomes o"
                                      " WHERE o.billable AND NOT EXISTS"
                                      " (SELECT 1 FROM billable_lines l"
                                      " WHERE l.outcome_id = o.id)",
                                      0, 20000),
                     0);
    /* One outcome per completed task, never two holders at once. */
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM tasks t WHERE"
                                     " t.state = 'completed' AND NOT EXISTS"
                                     " (SELECT 1 FROM outcomes o WHERE"
                                     " o.task_id = t.id)"),
                     0);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM (SELECT task_id"
                                     " FROM reservations WHERE state IN"
                                     " ('accepted', 'completed') GROUP BY"
                                     " task_id HAVING count(*) > 1) x"),
                     0);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) - count(DISTINCT"
                                     " outcome_id) FROM billable_lines"),
                     0);
    /* Every event was published in the end. */
    assert_int_equal(fixture_wait_i64(&f,
                                      "SELECT count(*) FROM outbox WHERE"
                                      " published_at IS NULL",
                                      0, 10000),
                     0);

    agent_sim_destroy(sim);
    agent_stats_destroy(stats);
    harness_billing_stop(&rb);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    bus_close(b);
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill9_loses_nothing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
