/*
 * The whole path on the real services with the shipped examples: the
 * operator's 50 workers run as simulated agents, a bank and an insurer
 * submit cases, the dispatcher routes them, the agents finish them, billing
 * bills every billable outcome exactly once at the contract's price, and a
 * dispatcher restart in the middle loses nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_sim.h"
#include "agent_stats.h"
#include "clock.h"
#include "cmd_report.h"
#include "harness.h"
#include "tl_test.h"

#define CASES 60

/* The example workers, as the demo passes them to twinline-agent. */
static char **worker_ids(fixture *f, int *n)
{
    char list[4096];
    char **ids;
    int count = 0;

    fixture_str(f, "SELECT string_agg(id, ',' ORDER BY id) FROM workers", list,
                sizeof(list));
    ids = calloc(256, sizeof(char *));
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t != NULL;
         t = strtok_r(NULL, ",", &save))
        ids[count++] = strdup(t);
    *n = count;
    return ids;
}

static void submit_cases(fixture *f, bus *b, int from, int to)
{
    static const char *const kinds[][2] = {
        {"jsbank", "loan_overdue"},
        {"jsbank", "card_dispute"},
        {"jsbank", "complaint"},
        {"hzinsure", "claim"},
    };

    for (int i = from; i < to; i++) {
        char rest[128], ext[32], *body;
        json_t *r;
        snprintf(rest, sizeof(rest), "api.%s.case.submit", kinds[i % 4][0]);
        snprintf(ext, sizeof(ext), "E2E-%d", i);
        body = harness_case_body(kinds[i % 4][1], ext, (uint64_t)i);
        r = harness_request(f, b, rest, body);
        free(body);
        if (!json_is_true(json_object_get(r, "ok")))
            fail_msg("submit %d: %s", i, json_dumps(r, 0));
        json_decref(r);
    }
}

/* The flow with dispatcher options o; name is the database's name. */
static void run_flow(const char *name, const dispatcher_opts *o)
{
    fixture f;
    running_dispatcher rd;
    running_billing rb;
    agent_sim_opts ao;
    agent_sim *sim = NULL;
    agent_stats *stats = NULL;
    cmd_report_figures *rep = NULL;
    char **ids;
    int nids, first;
    bus *b;
    err e = {0};

    fixture_setup(&f, name);
    harness_load_examples(&f);
    harness_start(&rd, &f, o);
    harness_billing_start(&rb, &f);
    b = fixture_bus(&f);

    ids = worker_ids(&f, &nids);
    assert_int_equal(nids, 50);
    assert_int_equal(agent_stats_create(&stats, &e), ST_OK);
    agent_sim_opts_init(&ao);
    ao.nats = f.cfg.nats;
    ao.creds = f.cfg.creds[0] ? f.cfg.creds : NULL;
    ao.prefix = f.cfg.prefix;
    ao.workers = (const char *const *)ids;
    ao.nworkers = nids;
    ao.handle_ms = 20;
    ao.stats = stats;
    ao.seed = 7;
    /* With batch assignment on, the first cases wait before any worker is
     * online, so that tasks do wait together whatever the machine's speed
     * (a batch needs at least batch_match_min of them at once). */
    first = o != NULL && o->batch_match_min > 0 ? 10 : 0;
    submit_cases(&f, b, 0, first);
    if (agent_sim_start(&sim, &ao, &e) != ST_OK)
        fail_msg("agents: %s", e.msg);

    submit_cases(&f, b, first, CASES / 2);
    /* Kill the dispatcher mid-stream; a new one carries on. */
    clock_sleep_ms(300);
    harness_stop(&rd);
    harness_start(&rd, &f, o);
    submit_cases(&f, b, CASES / 2, CASES);

    assert_int_equal(fixture_wait_i64(&f,
                                      "SELECT count(*) FROM cases"
                                      " WHERE state = 'closed'",
                                      CASES, 60000),
                     CASES);
    /* Every billable outcome gets exactly one line, rated under the price
     * plan of the contract between the tenant and the worker's pool (the
     * examples give every contract a plan; the plan's own arithmetic is
     * itest_billing_flow's), or else at the contract's price. */
    assert_int_equal(
        fixture_wait_i64(&f,
                         "SELECT count(*) FROM outcomes o WHERE o.billable"
                         " AND NOT EXISTS (SELECT 1 FROM billable_lines l"
                         " WHERE l.outcome_id = o.id)",
                         0, 15000),
        0);
    assert_true(fixture_i64(&f, "SELECT count(*) FROM billable_lines") > 0);
    assert_int_equal(fixture_i64(&f,
                                 "SELECT count(*) FROM billable_lines l"
                                 " JOIN outcomes o ON o.id = l.outcome_id"
                                 " JOIN workers w ON w.id = o.worker_id"
                                 " JOIN cases c ON c.id = o.case_id"
                                 " JOIN contracts k ON k.tenant_id ="
                                 " c.tenant_id AND k.pool_id = w.pool_id"
                                 " AND k.id = l.contract_id"
                                 " JOIN contract_prices p ON p.contract_id ="
                                 " k.id AND p.case_type = c.case_type AND"
                                 " p.outcome_code = o.code"
                                 " WHERE p.amount_minor <> l.amount_minor"
                                 " AND NOT EXISTS (SELECT 1 FROM"
                                 " billable_outcomes b WHERE b.outcome_id ="
                                 " l.outcome_id)"),
                     0);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM billable_lines l"
                                     " WHERE NOT EXISTS (SELECT 1 FROM"
                                     " billable_outcomes b JOIN"
                                     " contract_plans p ON p.contract_id ="
                                     " b.contract_id AND p.version ="
                                     " b.plan_version WHERE b.outcome_id ="
                                     " l.outcome_id AND b.contract_id ="
                                     " l.contract_id AND b.amount_minor ="
                                     " l.amount_minor)"),
                     0);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM outcomes o"
                                     " WHERE NOT o.billable AND EXISTS"
                                     " (SELECT 1 FROM billable_lines l"
                                     " WHERE l.outcome_id = o.id)"),
                     0);
    /* No task was ever held by two workers at once, nothing is left open. */
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM (SELECT task_id"
                                     " FROM reservations WHERE state IN"
                                     " ('accepted', 'completed') GROUP BY"
                                     " task_id HAVING count(*) > 1) x"),
                     0);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM tasks WHERE state"
                                     " NOT IN ('completed', 'skipped')"),
                     0);

    assert_int_equal(cmd_report_collect(f.db, &rep, &e), ST_OK);
    assert_int_equal(rep->cases, CASES);
    assert_int_equal(rep->closed, CASES);
    assert_true(rep->tasks_completed >= CASES);
    assert_true(rep->one_contact > 0);
    assert_true(rep->nbilled >= 1);
    assert_true(agent_stats_get(stats, AGENT_STAT_COMPLETED) > 0);
    cmd_report_destroy(rep);

    agent_sim_destroy(sim);
    agent_stats_destroy(stats);
    for (int i = 0; i < nids; i++)
        free(ids[i]);
    free(ids);
    bus_close(b);
    harness_billing_stop(&rb);
    harness_stop(&rd);
    if (o != NULL && o->batch_match_min > 0) {
        assert_true(fixture_i64(&f, "SELECT count(*) FROM routing_decisions"
                                    " WHERE rule = 'batch'") > 0);
        /* Every offer, batched or not, has its recorded decision. */
        assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM reservations"
                                         " r WHERE NOT EXISTS (SELECT 1 FROM"
                                         " routing_decisions x WHERE"
                                         " x.reservation_id = r.id)"),
                         0);
    }
    fixture_teardown(&f);
}

static void test_cases_flow_to_workers_and_billing(void **state)
{
    (void)state;
    run_flow("e2e_flow", NULL);
}

/* The same with batch assignment on: every decision is still recorded, and
 * tasks that waited together were assigned as a batch. */
static void test_flow_with_batch_matching(void **state)
{
    dispatcher_opts o;

    (void)state;
    dispatcher_opts_default(&o);
    o.batch_match_min = 2;
    run_flow("e2e_batch", &o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases_flow_to_workers_and_billing),
        cmocka_unit_test(test_flow_with_batch_matching),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
