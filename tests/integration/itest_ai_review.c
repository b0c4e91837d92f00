/*
 * AI workers under human review and the assistant's feedback, through the
 * real dispatcher: an AI outcome below the step's threshold opens a review
 * task that goes to a human with the skill; `confirmed` keeps the AI
 * outcome (billed once confirmed), `overturned` replaces it (never billed);
 * the sample is the configured share, chosen by task id; feedback is stored
 * for a reservation the sender held and refused otherwise.
 *
 * The AI workers only have backoffice capacity and a skill level below the
 * review step's, so the tests hold whether or not the router also keeps AI
 * workers to `ai: auto` steps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing_rate.h"
#include "cmd_assist.h"
#include "cmd_load.h"
#include "harness.h"
#include "review.h"
#include "tl_test.h"

/* The harness world with the offers of the AI worker ai1 and the human
 * reviewer hr (seed_ai). */
typedef harness_world world;
static const char *const workers[] = {"ai1", "hr"};
enum { AI1, HR };

static const char seed_ai[] =
    "INSERT INTO pools (id, operator_id, name) VALUES"
    " ('ai', 'op1', 'AI workers');"
    "INSERT INTO workers (id, pool_id, name, kind) VALUES"
    " ('ai1', 'ai', 'AI one', 'ai'), ('hr', 'spec', 'Reviewer', 'human');"
    "INSERT INTO worker_skills (worker_id, skill, level) VALUES"
    " ('ai1', 'consumer', 2), ('hr', 'consumer', 4);"
    "INSERT INTO worker_capacity (worker_id, channel, slots) VALUES"
    " ('ai1', 'backoffice', 5), ('hr', 'backoffice', 5);"
    "INSERT INTO contracts (id, tenant_id, pool_id, currency) VALUES"
    " ('k-ai', 'bank1', 'ai', 'CNY');"
    "INSERT INTO contract_case_types VALUES ('k-ai', 'cpr'),"
    " ('k-spec', 'cpr');"
    "INSERT INTO contract_prices VALUES"
    " ('k-ai', 'cpr', 'compliant', 800),"
    " ('k-ai', 'cpr', 'non_compliant', 800),"
    " ('k-spec', 'cpr', 'non_compliant', 2000);"
    "INSERT INTO playbooks (tenant_id, case_type, version, name,"
    " definition) VALUES ('bank1', 'cpr', 1, 'Review', '{}');"
    "INSERT INTO playbook_steps (tenant_id, case_type, version, step,"
    " ordinal, channel, sla_seconds, ai_mode, skills, after_steps,"
    " when_outcomes, outcomes) VALUES"
    " ('bank1', 'cpr', 1, 'assess', 1, 'backoffice', 600, 'auto',"
    "  '{\"consumer\": 2}', '{}', '{}',"
    "  '{\"compliant\": {\"billable\": true, \"fields\": {}},"
    "  \"non_compliant\": {\"billable\": true, \"fields\": {}},"
    "  \"needs_info\": {\"billable\": false,"
    "  \"fields\": {\"note\": \"string\"}}}'),"
    " ('bank1', 'cpr', 1, 'review', 2, 'backoffice', 3600, 'none',"
    "  '{\"consumer\": 3}', '{assess}', '{ai_review}',"
    "  '{\"confirmed\": {\"billable\": false, \"fields\": {}},"
    "  \"overturned\": {\"billable\": false,"
    "  \"fields\": {\"code\": \"string\"}}}');";

static void world_up(world *w, const char *name)
{
    const harness_world_opts wo = {
        .seed_sql = seed_ai, .workers = workers, .nworkers = 2};

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

static void expect_error(json_t *r, const char *code)
{
    if (json_is_true(json_object_get(r, "ok")))
        fail_msg("expected %s, got %s", code, json_dumps(r, 0));
    assert_string_equal(harness_error_code(r), code);
    json_decref(r);
}

static void presence(world *w, const char *worker, const char *p)
{
    char rest[128], body[64];

    snprintf(rest, sizeof(rest), "agent.%s.presence", worker);
    snprintf(body, sizeof(body), "{\"presence\":\"%s\"}", p);
    expect_ok(req(w, rest, body));
}

static int64_t submit(world *w, const char *ext)
{
    char body[256];
    json_t *r;
    int64_t id;

    snprintf(body, sizeof(body),
             "{\"external_id\":\"%s\",\"case_type\":\"cpr\","
             "\"payload\":{\"document\":\"Fee table, 3 pages\"}}",
             ext);
    r = req(w, "api.bank1.case.submit", body);
    if (!json_is_true(json_object_get(r, "ok")))
        fail_msg("submit failed: %s", json_dumps(r, 0));
    id = json_integer_value(json_object_get(json_object_get(r, "case"), "id"));
    json_decref(r);
    return id;
}

static json_t *answer(world *w, const char *worker, const char *verb,
                      const json_t *offer, const char *extra)
{
    char rest[128], body[512];

    snprintf(rest, sizeof(rest), "agent.%s.%s", worker, verb);
    snprintf(
        body, sizeof(body), "{\"reservation_id\":%lld,\"epoch\":%lld%s}",
        (long long)json_integer_value(json_object_get(offer, "reservation_id")),
        (long long)json_integer_value(json_object_get(offer, "epoch")),
        extra != NULL ? extra : "");
    return req(w, rest, body);
}

/* ai1 takes the next offer and completes it with code and confidence. */
static json_t *ai_completes(world *w, const char *code, int confidence)
{
    json_t *offer = inbox_next(&w->offers[AI1], 3000);
    char extra[160];

    assert_non_null(offer);
    assert_string_equal(json_string_value(json_object_get(offer, "step")),
                        "assess");
    expect_ok(answer(w, "ai1", "accept", offer, NULL));
    snprintf(extra, sizeof(extra),
             ",\"confidence\":%d,\"outcome\":{\"code\":\"%s\"}", confidence,
             code);
    expect_ok(answer(w, "ai1", "complete", offer, extra));
    return offer;
}

static int64_t q(world *w, const char *fmt, long long a)
{
    char sql[512];

    snprintf(sql, sizeof(sql), fmt, a);
    return fixture_i64(&w->f, sql);
}

static billing_counts bill(world *w, int64_t outcome_id)
{
    billing_counts c = {0};
    err e = {0};

    if (billing_rate_outcomes(w->f.db, &outcome_id, 1, 0, &c, &e) != ST_OK)
        fail_msg("billing: %s", e.msg);
    return c;
}

/* Low confidence -> review task to the human -> confirmed: the AI outcome
 * stands and is billed once confirmed, not before. */
static void test_low_confidence_confirmed(void **state)
{
    world w;
    json_t *offer, *rv;
    int64_t case_id, ai_outcome;

    (void)state;
    world_up(&w, "ai_confirm");
    presence(&w, "ai1", "available");
    case_id = submit(&w, "CP-1");
    offer = ai_completes(&w, "compliant", 420);
    json_decref(offer);
    ai_outcome = q(&w, "SELECT id FROM outcomes WHERE case_id = %lld", case_id);
    assert_int_equal(q(&w,
                       "SELECT confidence FROM outcomes WHERE id = %lld"
                       " AND review = 'pending'",
                       ai_outcome),
                     420);
    assert_int_equal(q(&w,
                       "SELECT count(*) FROM ai_reviews WHERE outcome_id ="
                       " %lld AND reason = 'low_confidence'",
                       ai_outcome),
                     1);
    /* Under review: not billed yet, and the case stays open. */
    assert_int_equal(bill(&w, ai_outcome).billed, 0);
    assert_int_equal(q(&w,
                       "SELECT count(*) FROM cases WHERE id = %lld"
                       " AND state = 'open'",
                       case_id),
                     1);
    /* The review goes to the human, never to the AI worker. */
    presence(&w, "hr", "available");
    rv = inbox_next(&w.offers[HR], 3000);
    assert_non_null(rv);
    assert_string_equal(json_string_value(json_object_get(rv, "step")),
                        "review");
    assert_null(inbox_next(&w.offers[AI1], 300));
    expect_ok(answer(&w, "hr", "accept", rv, NULL));
    expect_ok(answer(&w, "hr", "complete", rv,
                     ",\"outcome\":{\"code\":\"confirmed\"}"));
    json_decref(rv);
    assert_int_equal(q(&w,
                       "SELECT count(*) FROM outcomes WHERE id = %lld"
                       " AND review = 'confirmed'",
                       ai_outcome),
                     1);
    assert_int_equal(q(&w,
                       "SELECT count(*) FROM cases WHERE id = %lld"
                       " AND state = 'closed'",
                       case_id),
                     1);
    assert_int_equal(bill(&w, ai_outcome).billed, 1);
    harness_world_down(&w);
}

/* Overturned: the AI outcome is marked and never billed; the reviewer's
 * code is recorded; a code the reviewed step does not have is refused. */
static void test_overturned(void **state)
{
    world w;
    json_t *offer, *rv;
    int64_t case_id, ai_outcome;
    char sql[256];

    (void)state;
    world_up(&w, "ai_overturn");
    presence(&w, "ai1", "available");
    presence(&w, "hr", "available");
    case_id = submit(&w, "CP-2");
    offer = ai_completes(&w, "compliant", 100);
    json_decref(offer);
    ai_outcome = q(&w, "SELECT id FROM outcomes WHERE case_id = %lld", case_id);
    rv = inbox_next(&w.offers[HR], 3000);
    assert_non_null(rv);
    expect_ok(answer(&w, "hr", "accept", rv, NULL));
    expect_error(answer(&w, "hr", "complete", rv,
                        ",\"outcome\":{\"code\":\"overturned\","
                        "\"fields\":{\"code\":\"approved\"}}"),
                 "outcome_not_allowed");
    expect_error(answer(&w, "hr", "complete", rv,
                        ",\"outcome\":{\"code\":\"overturned\","
                        "\"fields\":{\"code\":\"needs_info\"}}"),
                 "outcome_not_allowed");
    expect_ok(answer(&w, "hr", "complete", rv,
                     ",\"outcome\":{\"code\":\"overturned\","
                     "\"fields\":{\"code\":\"non_compliant\"}}"));
    json_decref(rv);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM ai_reviews WHERE outcome_id = %lld AND"
             " state = 'overturned' AND replacement = 'non_compliant'",
             (long long)ai_outcome);
    assert_int_equal(fixture_i64(&w.f, sql), 1);
    assert_int_equal(q(&w,
                       "SELECT count(*) FROM outcomes WHERE id = %lld"
                       " AND review = 'overturned'",
                       ai_outcome),
                     1);
    assert_int_equal(bill(&w, ai_outcome).billed, 0);
    assert_int_equal(q(&w,
                       "SELECT count(*) FROM billable_lines"
                       " WHERE case_id = %lld",
                       case_id),
                     0);
    harness_world_down(&w);
}

/* Confident and not sampled: no review, the review step is skipped, the
 * outcome is billed at once. A confidence out of range is refused. */
static void test_confident_no_review(void **state)
{
    world w;
    json_t *offer;
    int64_t case_id, ai_outcome;

    (void)state;
    world_up(&w, "ai_confident");
    fixture_exec(&w.f, "INSERT INTO ai_review_policy VALUES"
                       " ('bank1', 'cpr', 'assess', 800, 0)");
    presence(&w, "ai1", "available");
    case_id = submit(&w, "CP-3");
    offer = inbox_next(&w.offers[AI1], 3000);
    assert_non_null(offer);
    expect_ok(answer(&w, "ai1", "accept", offer, NULL));
    expect_error(answer(&w, "ai1", "complete", offer,
                        ",\"confidence\":1001,\"outcome\":{\"code\":"
                        "\"compliant\"}"),
                 "invalid_value");
    expect_ok(answer(&w, "ai1", "complete", offer,
                     ",\"confidence\":900,\"outcome\":{\"code\":"
                     "\"compliant\"}"));
    json_decref(offer);
    ai_outcome = q(&w, "SELECT id FROM outcomes WHERE case_id = %lld", case_id);
    assert_int_equal(q(&w,
                       "SELECT count(*) FROM outcomes WHERE id = %lld"
                       " AND review IS NULL AND confidence = 900",
                       ai_outcome),
                     1);
    assert_int_equal(q(&w,
                       "SELECT count(*) FROM tasks WHERE case_id = %lld"
                       " AND step = 'review' AND state = 'skipped'",
                       case_id),
                     1);
    assert_int_equal(q(&w,
                       "SELECT count(*) FROM cases WHERE id = %lld"
                       " AND state = 'closed'",
                       case_id),
                     1);
    assert_int_equal(bill(&w, ai_outcome).billed, 1);
    harness_world_down(&w);
}

/* The sample is exactly the tasks whose bucket is below the share, and
 * the buckets spread evenly. */
static void test_sampling(void **state)
{
    world w;
    int below = 0, reviewed = 0, expected = 0;
    char ext[32];

    (void)state;
    for (int64_t id = 1; id <= 20000; id++)
        below += dsp_review_bucket(id) < 100;
    assert_in_range(below, 1800, 2200); /* 10 % of 20000, +- 10 % */
    for (int64_t id = 1; id <= 100; id++)
        assert_int_equal(dsp_review_bucket(id), dsp_review_bucket(id));

    world_up(&w, "ai_sample");
    fixture_exec(&w.f, "INSERT INTO ai_review_policy VALUES"
                       " ('bank1', 'cpr', 'assess', 500, 500)");
    presence(&w, "ai1", "available");
    for (int i = 0; i < 8; i++) {
        json_t *offer;
        snprintf(ext, sizeof(ext), "CP-S%d", i);
        submit(&w, ext);
        offer = ai_completes(&w, "compliant", 950);
        if (dsp_review_bucket(
                json_integer_value(json_object_get(offer, "task_id"))) < 500)
            expected++;
        json_decref(offer);
    }
    reviewed = (int)fixture_i64(&w.f, "SELECT count(*) FROM ai_reviews"
                                      " WHERE reason = 'sample'");
    assert_int_equal(reviewed, expected);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM tasks"
                                       " WHERE step = 'review'"
                                       " AND state = 'pending'"),
                     expected);
    harness_world_down(&w);
}

/* The report's figures: passages 2 shown, 1 used (50.0%); the reply 1
 * shown, 1 copied (100.0%). */
static void check_report(world *w)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    err e = {0};

    assert_non_null(out);
    if (cmd_assist_report(w->f.db, "bank1", out, &e) != ST_OK)
        fail_msg("report: %s", e.msg);
    fclose(out);
    if (strstr(text, "bank1   assess  passage      2       0       0     1"
                     "     50.0%") == NULL ||
        strstr(text, "bank1   assess  reply        1       0       1     0"
                     "    100.0%") == NULL)
        fail_msg("unexpected report:\n%s", text);
    free(text);
}

/* Feedback: stored for a held reservation (a retry stores nothing new),
 * refused for one the sender never held, an unknown action, a malformed
 * suggestion and too many events. */
static void test_feedback(void **state)
{
    world w;
    json_t *offer, *r;
    char body[512], big[8192];
    int64_t task, res;
    size_t n;

    (void)state;
    world_up(&w, "ai_feedback");
    fixture_exec(&w.f, "INSERT INTO ai_review_policy VALUES"
                       " ('bank1', 'cpr', 'assess', 0, 0)");
    presence(&w, "ai1", "available");
    submit(&w, "CP-F1");
    offer = inbox_next(&w.offers[AI1], 3000);
    assert_non_null(offer);
    task = json_integer_value(json_object_get(offer, "task_id"));
    res = json_integer_value(json_object_get(offer, "reservation_id"));

    /* Offered but not accepted: never held. */
    snprintf(body, sizeof(body),
             "{\"task_id\":%lld,\"reservation_id\":%lld,\"events\":"
             "[{\"suggestion\":\"reply\",\"action\":\"shown\"}]}",
             (long long)task, (long long)res);
    expect_error(req(&w, "agent.ai1.feedback", body), "stale_reservation");
    expect_ok(answer(&w, "ai1", "accept", offer, NULL));
    /* Someone else's reservation. */
    expect_error(req(&w, "agent.wa.feedback", body), "not_yours");

    snprintf(body, sizeof(body),
             "{\"task_id\":%lld,\"reservation_id\":%lld,\"events\":["
             "{\"suggestion\":\"passage:12\",\"action\":\"shown\"},"
             "{\"suggestion\":\"passage:12\",\"action\":\"used\"},"
             "{\"suggestion\":\"passage:7\",\"action\":\"shown\"},"
             "{\"suggestion\":\"reply\",\"action\":\"shown\"},"
             "{\"suggestion\":\"reply\",\"action\":\"copied\"}]}",
             (long long)task, (long long)res);
    r = req(&w, "agent.ai1.feedback", body);
    assert_true(json_is_true(json_object_get(r, "ok")));
    assert_int_equal(json_integer_value(json_object_get(r, "stored")), 5);
    json_decref(r);
    r = req(&w, "agent.ai1.feedback", body); /* a retry */
    assert_int_equal(json_integer_value(json_object_get(r, "stored")), 0);
    json_decref(r);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM assist_feedback"
                                       " WHERE tenant_id = 'bank1' AND"
                                       " step = 'assess' AND kind ="
                                       " 'passage'"),
                     3);

    check_report(&w);
    snprintf(body, sizeof(body),
             "{\"task_id\":%lld,\"reservation_id\":%lld,\"events\":"
             "[{\"suggestion\":\"reply\",\"action\":\"liked\"}]}",
             (long long)task, (long long)res);
    expect_error(req(&w, "agent.ai1.feedback", body), "invalid_value");
    snprintf(body, sizeof(body),
             "{\"task_id\":%lld,\"reservation_id\":%lld,\"events\":"
             "[{\"suggestion\":\"passage:a b\",\"action\":\"used\"}]}",
             (long long)task, (long long)res);
    expect_error(req(&w, "agent.ai1.feedback", body), "invalid_value");
    snprintf(body, sizeof(body),
             "{\"task_id\":%lld,\"reservation_id\":%lld,\"events\":"
             "[{\"suggestion\":\"reply\",\"action\":\"used\",\"x\":1}]}",
             (long long)task, (long long)res);
    expect_error(req(&w, "agent.ai1.feedback", body), "unknown_field");
    snprintf(body, sizeof(body),
             "{\"task_id\":%lld,\"reservation_id\":%lld,\"events\":"
             "[{\"suggestion\":\"reply\",\"action\":\"used\"}]}",
             (long long)task + 1000, (long long)res);
    expect_error(req(&w, "agent.ai1.feedback", body), "invalid_value");
    n = (size_t)snprintf(big, sizeof(big),
                         "{\"task_id\":%lld,\"reservation_id\":%lld,"
                         "\"events\":[",
                         (long long)task, (long long)res);
    for (int i = 0; i < 65; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n,
                              "%s{\"suggestion\":\"passage:%d\","
                              "\"action\":\"shown\"}",
                              i > 0 ? "," : "", i);
    snprintf(big + n, sizeof(big) - n, "]}");
    expect_error(req(&w, "agent.ai1.feedback", big), "invalid_value");
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM assist_feedback"),
                     5);
    json_decref(offer);
    harness_world_down(&w);
}

/* The shipped AI example loads over the other examples. */
static void test_example_loads(void **state)
{
    fixture f;
    char path[512];
    err e = {0};

    (void)state;
    fixture_setup(&f, "ai_example");
    harness_load_examples(&f);
    if (cmd_load_file(f.db,
                      fixture_path("examples/ai.json", path, sizeof(path)),
                      NULL, &e) != ST_OK)
        fail_msg("load examples/ai.json: %s", e.msg);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM workers"
                                     " WHERE kind = 'ai' AND pool_id = 'ai'"),
                     3);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM playbook_steps"
                                     " WHERE case_type = 'consumer_review'"
                                     " AND when_outcomes = '{ai_review}'"),
                     1);
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_low_confidence_confirmed),
        cmocka_unit_test(test_overturned),
        cmocka_unit_test(test_confident_no_review),
        cmocka_unit_test(test_sampling),
        cmocka_unit_test(test_feedback),
        cmocka_unit_test(test_example_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
