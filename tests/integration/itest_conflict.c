/*
 * Defence in depth against a forged completion (issue 10): someone who can
 * publish on a worker's own subject watches its offers and completes the
 * task first with an outcome of its choosing. The real worker's later,
 * different completion is refused with "conflict" naming the outcome that
 * stands, and the real agent reports it as an error; a byte-identical
 * repeat is still a "duplicate"; billing is not changed by the refusal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_session.h"
#include "clock.h"
#include "harness.h"
#include "tl_test.h"

static const char forged[] =
    ",\"outcome\":{\"code\":\"promise_to_pay\",\"fields\":"
    "{\"amount_minor\":51500,\"due_date\":\"2031-01-01\"}}";
/* The same outcome, its fields in another order and spacing. */
static const char forged_again[] =
    ",\"outcome\":{\"code\":\"promise_to_pay\",\"fields\":"
    "{\"due_date\": \"2031-01-01\", \"amount_minor\": 51500}}";
static const char other_amount[] =
    ",\"outcome\":{\"code\":\"promise_to_pay\",\"fields\":"
    "{\"amount_minor\":3000,\"due_date\":\"2031-01-01\"}}";
static const char dispute[] = ",\"outcome\":{\"code\":\"dispute\"}";

static json_t *complete_as(harness_world *w, const char *worker, int64_t res_id,
                           int64_t epoch, const char *extra)
{
    char rest[128], body[512];

    snprintf(rest, sizeof(rest), "agent.%s.complete", worker);
    snprintf(body, sizeof(body), "{\"reservation_id\":%lld,\"epoch\":%lld%s}",
             (long long)res_id, (long long)epoch, extra);
    return harness_request(&w->f, w->b, rest, body);
}

/* Billing's view of the tenant: lines, their sum, and the ledger's
 * postings. */
static void billing_figures(fixture *f, int64_t out[3])
{
    out[0] = fixture_i64(f, "SELECT count(*) FROM billable_lines");
    out[1] = fixture_i64(f, "SELECT COALESCE(sum(amount_minor), 0)"
                            " FROM billable_lines");
    out[2] = fixture_i64(f, "SELECT count(*) FROM postings");
}

static void expect_conflict(json_t *r, int64_t outcome_id)
{
    json_t *er = json_object_get(r, "error");
    json_t *stands = json_object_get(er, "outcome");
    const char *msg = json_string_value(json_object_get(er, "message"));

    if (json_is_true(json_object_get(r, "ok")))
        fail_msg("expected a conflict, got %s", json_dumps(r, 0));
    assert_string_equal(harness_error_code(r), "conflict");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "promise_to_pay"));
    assert_non_null(strstr(msg, "stands"));
    assert_int_equal(json_integer_value(json_object_get(stands, "outcome_id")),
                     outcome_id);
    assert_string_equal(json_string_value(json_object_get(stands, "code")),
                        "promise_to_pay");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(stands, "fields"), "amount_minor")),
                     51500);
}

static void test_forged_completion_refused(void **state)
{
    static const char *const workers[] = {"wa", "wb"};
    const harness_world_opts wo = {.workers = workers, .nworkers = 2};
    harness_world w;
    running_billing rb;
    agent_sim *sim = NULL;
    agent_stats *stats = NULL;
    json_t *offer = NULL, *r;
    const char *worker = NULL;
    int64_t res_id, epoch, outcome_id, before[3], after[3];
    char sql[256], body[256];

    (void)state;
    harness_world_up(&w, "conflict_forged", &wo);
    harness_billing_start(&rb, &w.f);
    /* The real agents take 2 s over each task. */
    harness_agents_start(&w.f, 2000, &sim, &stats);
    assert_int_equal(fixture_wait_i64(&w.f,
                                      "SELECT count(*) FROM workers"
                                      " WHERE presence = 'available'",
                                      3, 5000),
                     3);
    snprintf(body, sizeof(body),
             "{\"external_id\":\"LN-forged\",\"case_type\":\"loan\","
             "\"customer\":{\"name\":\"Wang Wei\"}}");
    json_decref(harness_request(&w.f, w.b, "api.bank1.case.submit", body));

    /* The attacker reads the offer on the worker's own subject... */
    for (int i = 0; i < 100 && offer == NULL; i++)
        for (int k = 0; k < 2 && offer == NULL; k++)
            if ((offer = inbox_next(&w.offers[k], 50)) != NULL)
                worker = workers[k];
    assert_non_null(offer);
    res_id = json_integer_value(json_object_get(offer, "reservation_id"));
    epoch = json_integer_value(json_object_get(offer, "epoch"));
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM reservations WHERE id = %lld"
             " AND state = 'accepted'",
             (long long)res_id);
    assert_int_equal(fixture_wait_i64(&w.f, sql, 1, 3000), 1);

    /* ... and completes the task first, as that worker. */
    r = complete_as(&w, worker, res_id, epoch, forged);
    assert_true(json_is_true(json_object_get(r, "ok")));
    assert_false(json_is_true(json_object_get(r, "duplicate")));
    outcome_id = json_integer_value(json_object_get(r, "outcome_id"));
    json_decref(r);
    assert_int_equal(
        fixture_wait_i64(&w.f, "SELECT count(*) FROM billable_lines", 1, 5000),
        1);
    billing_figures(&w.f, before);

    /* The real agent's own, different completion is refused with the
     * error, which it counts and logs as one. */
    for (int i = 0;
         i < 250 && agent_stats_get(stats, AGENT_STAT_CONFLICTS) == 0; i++)
        clock_sleep_ms(20);
    assert_int_equal(agent_stats_get(stats, AGENT_STAT_CONFLICTS), 1);
    assert_int_equal(agent_stats_get(stats, AGENT_STAT_COMPLETED), 0);

    /* What any different completion is answered: the outcome that stands;
     * another amount or another code alike. */
    r = complete_as(&w, worker, res_id, epoch, other_amount);
    expect_conflict(r, outcome_id);
    {
        agent_reply ar;
        char *text = json_dumps(r, 0);
        char what[400];
        err e = {0};

        assert_int_equal(agent_reply_parse(text, strlen(text), &ar, &e), ST_OK);
        assert_int_equal(agent_refusal_of(&ar), AGENT_REFUSAL_CONFLICT);
        assert_int_equal(ar.standing_outcome_id, outcome_id);
        assert_string_equal(ar.standing_code, "promise_to_pay");
        agent_conflict_text(&ar, res_id, what, sizeof(what));
        assert_non_null(strstr(what, "NOT recorded"));
        free(text);
    }
    json_decref(r);
    r = complete_as(&w, worker, res_id, epoch, dispute);
    expect_conflict(r, outcome_id);
    json_decref(r);

    /* Only the same outcome again is a duplicate, whatever its spelling. */
    r = complete_as(&w, worker, res_id, epoch, forged_again);
    assert_true(json_is_true(json_object_get(r, "ok")));
    assert_true(json_is_true(json_object_get(r, "duplicate")));
    assert_int_equal(json_integer_value(json_object_get(r, "outcome_id")),
                     outcome_id);
    json_decref(r);

    /* Nothing was recorded or billed for the refused completions. */
    clock_sleep_ms(1200); /* two sweeps of billing */
    billing_figures(&w.f, after);
    assert_memory_equal(before, after, sizeof(before));
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM outcomes"), 1);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM outbox"
                                       " WHERE payload->>'type'"
                                       " = 'outcome.recorded'"),
                     1);
    assert_int_equal(fixture_i64(&w.f,
                                 "SELECT (fields->>'amount_minor')::bigint"
                                 " FROM outcomes"),
                     51500);

    json_decref(offer);
    agent_sim_stop(sim);
    agent_sim_destroy(sim);
    agent_stats_destroy(stats);
    harness_billing_stop(&rb);
    harness_world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forged_completion_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
