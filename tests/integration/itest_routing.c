/*
 * The routing engine wired into the dispatcher, on the real services: AI
 * workers and automated steps, licences, wrap-up, relaxation rings, time to
 * live, auto-accept, recorded decisions with `twinline explain`, live
 * figures and operator priorities.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cmd_explain.h"
#include "harness.h"
#include "stats.h"
#include "tl_test.h"

#define NW 4
static const char *const workers[NW] = {"wa", "wb", "wc", "bot"};

typedef harness_world world;

/* The harness world plus an AI worker "bot" (pool front), case type kyc
 * (one automated back-office step) and extra SQL; then the dispatcher. */
static const char routing_sql[] =
    "INSERT INTO workers (id, pool_id, name, kind) VALUES"
    " ('bot', 'front', 'Bot', 'ai');"
    "INSERT INTO worker_skills VALUES ('bot', 'collections', 5, 5);"
    "INSERT INTO worker_capacity VALUES ('bot', 'voice', 1),"
    " ('bot', 'chat', 3), ('bot', 'backoffice', 5);"
    "INSERT INTO playbooks (tenant_id, case_type, version, name,"
    " definition) VALUES ('bank1', 'kyc', 1, 'KYC', '{}');"
    "INSERT INTO playbook_steps (tenant_id, case_type, version, step,"
    " ordinal, channel, sla_seconds, ai_mode, skills, outcomes) VALUES"
    " ('bank1', 'kyc', 1, 'check', 1, 'backoffice', 600, 'auto',"
    "  '{\"collections\": 1}',"
    "  '{\"resolved\": {\"billable\": true, \"fields\": {}}}');"
    "INSERT INTO contract_case_types VALUES ('k-front', 'kyc');";

static void world_up(world *w, const char *name, const char *sql)
{
    const harness_world_opts wo = {.seed_sql = routing_sql,
                                   .sql = sql,
                                   .workers = workers,
                                   .nworkers = NW};

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

static void presence(world *w, const char *worker, const char *p)
{
    char rest[128], body[64];

    snprintf(rest, sizeof(rest), "agent.%s.presence", worker);
    snprintf(body, sizeof(body), "{\"presence\":\"%s\"}", p);
    expect_ok(req(w, rest, body));
}

static int64_t submit(world *w, const char *type, const char *ext)
{
    char body[256];
    json_t *r;
    int64_t id;

    snprintf(body, sizeof(body),
             "{\"external_id\":\"%s\",\"case_type\":\"%s\",\"priority\":1,"
             "\"customer\":{\"name\":\"Li Na\"}}",
             ext, type);
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

static const char *promise =
    ",\"outcome\":{\"code\":\"promise_to_pay\",\"fields\":"
    "{\"amount_minor\":50000,\"due_date\":\"2026-12-05\"}}";
static const char *dispute = ",\"outcome\":{\"code\":\"dispute\"}";

static const char *str_of(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s != NULL ? s : "";
}

/* An AI worker never gets a voice step that only allows assist, but does
 * get a step with ai: auto. */
static void test_ai_worker_only_auto_steps(void **state)
{
    world w;
    json_t *offer;

    (void)state;
    world_up(&w, "rt_ai", NULL);
    presence(&w, "bot", "available");
    submit(&w, "loan", "LN-1");
    assert_null(inbox_next(&w.offers[3], 800));
    submit(&w, "kyc", "KYC-1");
    offer = inbox_next(&w.offers[3], 3000);
    assert_non_null(offer);
    assert_string_equal(str_of(offer, "step"), "check");
    json_decref(offer);
    assert_null(inbox_next(&w.offers[3], 300));
    /* The loan task still waits; its decision for kyc is recorded. */
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM tasks"
                                       " WHERE step = 'contact'"
                                       " AND state = 'pending'"),
                     1);
    harness_world_down(&w);
}

/* A worker whose licence expired is not eligible; one with a valid licence
 * is. */
static void test_expired_licence_excludes(void **state)
{
    world w;
    json_t *offer;

    (void)state;
    world_up(&w, "rt_licence",
             "UPDATE playbook_steps SET licence = 'debt' WHERE step ="
             " 'contact';"
             "INSERT INTO worker_licences VALUES ('wa', 'debt', '2001-01-01'),"
             " ('wb', 'debt', NULL);");
    presence(&w, "wa", "available");
    submit(&w, "loan", "LN-1");
    assert_null(inbox_next(&w.offers[0], 800));
    presence(&w, "wb", "available");
    offer = inbox_next(&w.offers[1], 3000);
    assert_non_null(offer);
    json_decref(offer);
    assert_null(inbox_next(&w.offers[0], 200));
    harness_world_down(&w);
}

/* After a completion the worker gets nothing during its pool's wrap-up. */
static void test_wrapup_delays_next_offer(void **state)
{
    world w;
    json_t *offer;
    int64_t t0;

    (void)state;
    world_up(&w, "rt_wrapup",
             "INSERT INTO pool_routing (pool_id, wrapup_seconds)"
             " VALUES ('front', 2);");
    presence(&w, "wa", "available");
    submit(&w, "loan", "LN-1");
    submit(&w, "loan", "LN-2");
    offer = inbox_next(&w.offers[0], 3000);
    assert_non_null(offer);
    expect_ok(answer(&w, "wa", "accept", offer, NULL));
    t0 = clock_mono_us();
    expect_ok(answer(&w, "wa", "complete", offer, promise));
    json_decref(offer);
    assert_null(inbox_next(&w.offers[0], 1200));
    offer = inbox_next(&w.offers[0], 3000);
    assert_non_null(offer);
    assert_true(clock_mono_us() - t0 >= 1900000);
    json_decref(offer);
    harness_world_down(&w);
}

/* A ring lowers the required level after its threshold, so a waiting task
 * reaches a less skilled worker; the decision names the ring. */
static void test_ring_relaxes_level(void **state)
{
    world w;
    json_t *offer;

    (void)state;
    world_up(&w, "rt_ring",
             "UPDATE playbook_steps SET rings ="
             " '[{\"after_seconds\": 1, \"lower_by\": 1}]'"
             " WHERE step = 'contact';");
    presence(&w, "wc", "available"); /* collections 1, needs 2 */
    submit(&w, "loan", "LN-1");
    assert_null(inbox_next(&w.offers[2], 600));
    offer = inbox_next(&w.offers[2], 3000);
    assert_non_null(offer);
    json_decref(offer);
    assert_int_equal(fixture_wait_i64(&w.f,
                                      "SELECT count(*) FROM routing_decisions"
                                      " WHERE rule = 'ring' AND ring = 1"
                                      " AND worker_id = 'wc'",
                                      1, 2000),
                     1);
    harness_world_down(&w);
}

/* A task nobody takes within its TTL is canceled, with its case, and the
 * tenant sees the reason in case.get and a case.canceled event. */
static void test_ttl_cancels_with_reason(void **state)
{
    world w;
    json_t *r, *c, *t;
    int64_t case_id;
    char body[64];

    (void)state;
    world_up(&w, "rt_ttl",
             "UPDATE playbook_steps SET ttl_seconds = 1"
             " WHERE step = 'contact';");
    case_id = submit(&w, "loan", "LN-1");
    assert_int_equal(fixture_wait_i64(&w.f,
                                      "SELECT count(*) FROM tasks WHERE"
                                      " state = 'canceled'",
                                      2, 4000),
                     2);
    snprintf(body, sizeof(body), "{\"case_id\":%lld}", (long long)case_id);
    r = req(&w, "api.bank1.case.get", body);
    c = json_object_get(r, "case");
    assert_string_equal(str_of(c, "state"), "canceled");
    assert_non_null(strstr(str_of(c, "cancel_reason"), "time to live"));
    t = json_array_get(json_object_get(c, "tasks"), 0);
    assert_string_equal(str_of(t, "step"), "contact");
    assert_string_equal(str_of(t, "state"), "canceled");
    assert_non_null(strstr(str_of(t, "cancel_reason"), "time to live"));
    json_decref(r);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM outbox WHERE"
                                       " payload->>'type' = 'case.canceled'"
                                       " AND payload->>'reason' LIKE"
                                       " '%time to live%'"),
                     1);
    /* Later a worker comes: nothing is offered. */
    presence(&w, "wa", "available");
    assert_null(inbox_next(&w.offers[0], 500));
    harness_world_down(&w);
}

/* Back-office auto-accept: the reservation is created accepted and the
 * worker receives the task (with customer data) directly; it completes it
 * without accepting. Affinity keeps the case with the same worker. */
static void test_auto_accept_backoffice(void **state)
{
    world w;
    json_t *offer, *r;

    (void)state;
    world_up(&w, "rt_auto",
             "UPDATE channel_settings SET auto_accept = true"
             " WHERE channel = 'backoffice';");
    presence(&w, "wa", "available");
    presence(&w, "wc", "available");
    submit(&w, "loan", "LN-1");
    offer = inbox_next(&w.offers[0], 3000);
    assert_non_null(offer);
    assert_null(json_object_get(offer, "auto_accepted"));
    expect_ok(answer(&w, "wa", "accept", offer, NULL));
    expect_ok(answer(&w, "wa", "complete", offer, dispute));
    json_decref(offer);
    offer = inbox_next(&w.offers[0], 3000);
    assert_non_null(offer);
    assert_string_equal(str_of(offer, "step"), "legal");
    assert_true(json_is_true(json_object_get(offer, "auto_accepted")));
    assert_string_equal(
        str_of(json_object_get(json_object_get(offer, "task"), "customer"),
               "name"),
        "Li Na");
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM reservations r"
                                       " JOIN tasks t ON t.id = r.task_id"
                                       " WHERE t.step = 'legal'"
                                       " AND r.state = 'accepted'"
                                       " AND t.state = 'assigned'"),
                     1);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM"
                                       " routing_decisions d JOIN tasks t"
                                       " ON t.id = d.task_id WHERE"
                                       " t.step = 'legal'"
                                       " AND d.rule = 'affinity'"),
                     1);
    /* An agent that accepts anyway gets the same task. */
    expect_ok(answer(&w, "wa", "accept", offer, NULL));
    r = answer(&w, "wa", "complete", offer,
               ",\"outcome\":{\"code\":\"resolved\"}");
    expect_ok(r);
    json_decref(offer);
    assert_int_equal(fixture_wait_i64(&w.f,
                                      "SELECT count(*) FROM cases"
                                      " WHERE state = 'closed'",
                                      1, 3000),
                     1);
    harness_world_down(&w);
}

static char *explain_text(fixture *f, int64_t task)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    err e = {0};

    assert_non_null(out);
    if (cmd_explain_task(f->db, task, out, &e) != ST_OK)
        fail_msg("explain: %s", e.msg);
    fclose(out);
    return buf;
}

/* Each decision is recorded and `twinline explain` renders it in words. */
static void test_decision_recorded_and_explained(void **state)
{
    world w;
    json_t *offer;
    int64_t task;
    char *text;
    err e = {0};

    (void)state;
    world_up(&w, "rt_explain", NULL);
    presence(&w, "wa", "available");
    presence(&w, "bot", "available");
    submit(&w, "loan", "LN-1");
    offer = inbox_next(&w.offers[0], 3000);
    assert_non_null(offer);
    task = json_integer_value(json_object_get(offer, "task_id"));
    json_decref(offer);
    assert_int_equal(fixture_wait_i64(&w.f,
                                      "SELECT count(*) FROM"
                                      " routing_decisions",
                                      1, 2000),
                     1);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM"
                                       " routing_decisions WHERE"
                                       " worker_id = 'wa' AND rule IN"
                                       " ('only', 'best')"
                                       " AND (filtered->>'kind')::int = 1"
                                       " AND (filtered->>'presence')::int = 1"
                                       " AND jsonb_array_length(candidates)"
                                       " = 1"),
                     1);
    text = explain_text(&w.f, task);
    assert_non_null(strstr(text, "went to wa"));
    assert_non_null(strstr(text, "only eligible worker"));
    assert_non_null(strstr(text, "1. wa"));
    assert_non_null(strstr(text, "occupancy"));
    assert_non_null(strstr(text, "<- chosen"));
    assert_non_null(strstr(text, "1 worker lacking a required skill level"));
    assert_non_null(strstr(text, "not fully automated"));
    assert_non_null(strstr(text, "1 worker offline or on a break"));
    free(text);
    assert_int_equal(cmd_explain_task(w.f.db, 999999, stdout, &e),
                     ST_NOT_FOUND);
    harness_world_down(&w);
}

/* Live figures match a seeded state. */
static void test_stats_match_seeded_state(void **state)
{
    world w;
    json_t *offer;
    stats *st = NULL;
    err e = {0};
    const stats_queue *q = NULL;
    const stats_worker *wa = NULL, *wb = NULL;
    char *json;

    (void)state;
    world_up(&w, "rt_stats", NULL);
    presence(&w, "wa", "available");
    submit(&w, "loan", "LN-1");
    offer = inbox_next(&w.offers[0], 3000);
    assert_non_null(offer);
    expect_ok(answer(&w, "wa", "accept", offer, NULL));
    expect_ok(answer(&w, "wa", "complete", offer, promise));
    json_decref(offer);
    offer = NULL;
    submit(&w, "loan", "LN-2");
    offer = inbox_next(&w.offers[0], 3000);
    assert_non_null(offer);
    json_decref(offer);
    submit(&w, "loan", "LN-3");
    submit(&w, "loan", "LN-4");
    clock_sleep_ms(300);
    fixture_exec(&w.f, "UPDATE tasks SET ready_at = now() - interval"
                       " '90 seconds' WHERE state = 'pending'");
    assert_int_equal(stats_collect(w.f.db, &st, &e), ST_OK);
    for (int i = 0; i < st->nqueues; i++)
        if (strcmp(st->queues[i].step, "contact") == 0)
            q = &st->queues[i];
    for (int i = 0; i < st->nworkers; i++) {
        if (strcmp(st->workers[i].worker, "wa") == 0)
            wa = &st->workers[i];
        if (strcmp(st->workers[i].worker, "wb") == 0)
            wb = &st->workers[i];
    }
    assert_non_null(q);
    assert_string_equal(q->tenant, "bank1");
    assert_string_equal(q->case_type, "loan");
    assert_int_equal(q->waiting, 2);
    assert_int_equal(q->in_progress, 1);
    assert_true(q->oldest_wait_ms >= 89000 && q->oldest_wait_ms < 120000);
    assert_int_equal(q->sla_done, 1);
    assert_int_equal(q->sla_met, 1);
    assert_non_null(wa);
    assert_string_equal(wa->state, "available"); /* voice full, chat free */
    assert_int_equal(wa->load, 1);
    assert_int_equal(wa->slots, 9);
    assert_int_equal(wa->occupancy_permille, 111);
    assert_int_equal(wa->tasks_last_hour, 1);
    assert_non_null(wb);
    assert_string_equal(wb->state, "offline");
    json = stats_json(st);
    assert_non_null(strstr(json, "\"waiting\":2"));
    free(json);
    stats_destroy(st);
    harness_world_down(&w);
}

/* The dispatcher publishes the figures; an operator's priority change
 * moves a waiting task to the front. */
static void test_stats_published_and_priority(void **state)
{
    world w;
    inbox figures;
    json_t *offer, *r, *doc;
    int64_t first, second;
    char subj[160], body[96];

    (void)state;
    world_up(&w, "rt_prio", NULL);
    snprintf(subj, sizeof(subj), "%s.stats.dispatcher", w.f.cfg.prefix);
    inbox_listen(&figures, w.b, subj);
    submit(&w, "loan", "LN-1");
    submit(&w, "loan", "LN-2");
    first = fixture_i64(&w.f, "SELECT min(id) FROM tasks");
    second = fixture_i64(&w.f, "SELECT max(id) FROM tasks WHERE step ="
                               " 'contact'");
    snprintf(body, sizeof(body), "{\"task_id\":%lld,\"priority\":9}",
             (long long)second);
    expect_ok(req(&w, "ops.op1.task.priority", body));
    snprintf(body, sizeof(body), "{\"task_id\":%lld,\"priority\":500}",
             (long long)first);
    r = req(&w, "ops.op1.task.priority", body);
    assert_string_equal(harness_error_code(r), "invalid_value");
    json_decref(r);
    presence(&w, "wa", "available");
    offer = inbox_next(&w.offers[0], 3000);
    assert_non_null(offer);
    assert_int_equal(json_integer_value(json_object_get(offer, "task_id")),
                     second);
    json_decref(offer);
    doc = inbox_next(&figures, 7000);
    assert_non_null(doc);
    assert_string_equal(str_of(doc, "type"), "stats");
    assert_true(json_is_array(json_object_get(doc, "queues")));
    assert_true(json_array_size(json_object_get(doc, "workers")) == NW);
    json_decref(doc);
    inbox_drain(&figures);
    harness_world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ai_worker_only_auto_steps),
        cmocka_unit_test(test_expired_licence_excludes),
        cmocka_unit_test(test_wrapup_delays_next_offer),
        cmocka_unit_test(test_ring_relaxes_level),
        cmocka_unit_test(test_ttl_cancels_with_reason),
        cmocka_unit_test(test_auto_accept_backoffice),
        cmocka_unit_test(test_decision_recorded_and_explained),
        cmocka_unit_test(test_stats_match_seeded_state),
        cmocka_unit_test(test_stats_published_and_priority),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
