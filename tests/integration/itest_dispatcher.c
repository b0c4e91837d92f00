/*
 * The dispatcher end to end on the real services: a bank submits a case,
 * its tasks are offered to skilled workers over NATS, accepted, completed,
 * the next step follows and the case closes; plus rejection, timeouts,
 * vanished workers, restarts and idempotency.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "harness.h"
#include "tl_test.h"

/* The harness world with the offers and notices of wa, wb and wc. */
typedef harness_world world;

static const char *const workers[3] = {"wa", "wb", "wc"};

static void world_up(world *w, const char *name, const dispatcher_opts *o)
{
    const harness_world_opts wo = {
        .dispatcher = o, .workers = workers, .nworkers = 3};

    harness_world_up(w, name, &wo);
}

static json_t *req(world *w, const char *rest, const char *body)
{
    return harness_request(&w->f, w->b, rest, body);
}

static void presence(world *w, const char *worker, const char *p)
{
    char rest[128], body[64];
    json_t *r;

    snprintf(rest, sizeof(rest), "agent.%s.presence", worker);
    snprintf(body, sizeof(body), "{\"presence\":\"%s\"}", p);
    r = req(w, rest, body);
    assert_true(json_is_true(json_object_get(r, "ok")));
    json_decref(r);
}

static int64_t submit(world *w, const char *ext, bool *created)
{
    char body[256];
    json_t *r;
    int64_t id;

    snprintf(body, sizeof(body),
             "{\"external_id\":\"%s\",\"case_type\":\"loan\",\"priority\":3,"
             "\"customer\":{\"name\":\"Wang Wei\",\"phone\":\"+86 1380\"},"
             "\"payload\":{\"overdue_minor\":120000}}",
             ext);
    r = req(w, "api.bank1.case.submit", body);
    if (!json_is_true(json_object_get(r, "ok")))
        fail_msg("submit failed: %s", json_dumps(r, 0));
    id = json_integer_value(json_object_get(json_object_get(r, "case"), "id"));
    if (created != NULL)
        *created = json_is_true(json_object_get(r, "created"));
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

static void expect_ok(json_t *r)
{
    if (!json_is_true(json_object_get(r, "ok")))
        fail_msg("expected ok, got %s", json_dumps(r, 0));
    json_decref(r);
}

static void expect_error(json_t *r, const char *code)
{
    assert_false(json_is_true(json_object_get(r, "ok")));
    assert_string_equal(harness_error_code(r), code);
    assert_non_null(json_string_value(
        json_object_get(json_object_get(r, "error"), "message")));
    json_decref(r);
}

static const char *promise =
    ",\"outcome\":{\"code\":\"promise_to_pay\",\"fields\":"
    "{\"amount_minor\":50000,\"due_date\":\"2026-12-05\"}}";
static const char *dispute = ",\"outcome\":{\"code\":\"dispute\"}";

/* Submit -> offer -> accept (customer data) -> complete -> case closed;
 * the outcome is stored and its event reaches the outbox and JetStream. */
static void test_happy_path(void **state)
{
    world w;
    json_t *offer, *r;
    int64_t case_id;
    char sql[256];

    (void)state;
    world_up(&w, "dsp_happy", NULL);
    presence(&w, "wa", "available");
    case_id = submit(&w, "LN-1", NULL);
    offer = inbox_next(&w.offers[0], 3000);
    assert_non_null(offer);
    assert_string_equal(json_string_value(json_object_get(offer, "step")),
                        "contact");
    assert_string_equal(json_string_value(json_object_get(offer, "channel")),
                        "voice");
    assert_null(json_object_get(offer, "customer")); /* no PII in offers */
    assert_int_equal(json_integer_value(json_object_get(offer, "case_id")),
                     case_id);

    r = answer(&w, "wa", "accept", offer, NULL);
    assert_true(json_is_true(json_object_get(r, "ok")));
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(r, "task"), "customer"), "name")),
        "Wang Wei");
    json_decref(r);

    r = answer(&w, "wa", "complete", offer, promise);
    assert_true(json_is_true(json_object_get(r, "ok")));
    assert_true(json_is_true(json_object_get(r, "billable")));
    assert_false(json_is_true(json_object_get(r, "duplicate")));
    json_decref(r);

    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM cases WHERE id = %lld"
             " AND state = 'closed'",
             (long long)case_id);
    assert_int_equal(fixture_wait_i64(&w.f, sql, 1, 3000), 1);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM tasks"
                                       " WHERE step = 'legal'"
                                       " AND state = 'skipped'"),
                     1);
    assert_int_equal(fixture_i64(&w.f, "SELECT (fields->>'amount_minor')"
                                       "::bigint FROM outcomes"),
                     50000);
    /* Outcome and case-closed events are published, then marked. */
    assert_int_equal(fixture_wait_i64(&w.f,
                                      "SELECT count(*) FROM outbox WHERE"
                                      " published_at IS NOT NULL",
                                      2, 5000),
                     2);

    /* The same completion again is answered the same, records nothing. */
    r = answer(&w, "wa", "complete", offer, promise);
    assert_true(json_is_true(json_object_get(r, "duplicate")));
    json_decref(r);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM outcomes"), 1);

    /* The bank reads it back. */
    snprintf(sql, sizeof(sql), "{\"case_id\":%lld}", (long long)case_id);
    r = req(&w, "api.bank1.case.get", sql);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(r, "case"), "state")),
        "closed");
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(r, "case"), "tasks")),
        2);
    json_decref(r);
    r = req(&w, "api.bank2.case.get", sql); /* another tenant: not found */
    expect_error(r, "not_found");
    json_decref(offer);
    harness_world_down(&w);
}

/* A dispute needs legal level 3: wa has it only with AI assist and the step
 * allows assist, so wa keeps the case (affinity) although specialist wc is
 * free — one contact, no transfer. */
static void test_affinity_next_step(void **state)
{
    world w;
    json_t *offer, *offer2;

    (void)state;
    world_up(&w, "dsp_affinity", NULL);
    presence(&w, "wa", "available");
    presence(&w, "wc", "available");
    submit(&w, "LN-2", NULL);
    offer = inbox_next(&w.offers[0], 3000);
    if (offer == NULL) {
        /* wc has collections 1 < 2, so only wa is eligible for contact. */
        fail_msg("contact step was not offered to wa");
    }
    expect_ok(answer(&w, "wa", "accept", offer, NULL));
    expect_ok(answer(&w, "wa", "complete", offer, dispute));
    offer2 = inbox_next(&w.offers[0], 3000);
    assert_non_null(offer2);
    assert_string_equal(json_string_value(json_object_get(offer2, "step")),
                        "legal");
    assert_null(inbox_next(&w.offers[2], 200));
    expect_ok(answer(&w, "wa", "accept", offer2, NULL));
    expect_ok(answer(&w, "wa", "complete", offer2,
                     ",\"outcome\":{\"code\":\"resolved\"}"));
    assert_int_equal(fixture_wait_i64(&w.f,
                                      "SELECT count(*) FROM cases"
                                      " WHERE state = 'closed'",
                                      1, 3000),
                     1);
    json_decref(offer);
    json_decref(offer2);
    harness_world_down(&w);
}

static void test_idempotent_submit(void **state)
{
    world w;
    bool created;
    int64_t a, b;

    (void)state;
    world_up(&w, "dsp_idem", NULL);
    a = submit(&w, "LN-3", &created);
    assert_true(created);
    b = submit(&w, "LN-3", &created);
    assert_false(created);
    assert_int_equal(a, b);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM cases"), 1);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM tasks"), 2);
    harness_world_down(&w);
}

/* A rejected offer goes to another worker and never back. */
static void test_reject_reoffers(void **state)
{
    world w;
    json_t *o1, *o2;
    int first = 0, second = 1;

    (void)state;
    world_up(&w, "dsp_reject", NULL);
    presence(&w, "wa", "available");
    presence(&w, "wb", "available");
    submit(&w, "LN-4", NULL);
    o1 = inbox_next(&w.offers[0], 1500);
    if (o1 == NULL) {
        first = 1;
        second = 0;
        o1 = inbox_next(&w.offers[1], 1500);
    }
    assert_non_null(o1);
    expect_ok(answer(&w, workers[first], "reject", o1, ",\"reason\":\"busy\""));
    o2 = inbox_next(&w.offers[second], 3000);
    assert_non_null(o2);
    assert_null(inbox_next(&w.offers[first], 300));
    assert_int_equal(json_integer_value(json_object_get(o1, "task_id")),
                     json_integer_value(json_object_get(o2, "task_id")));
    assert_true(json_integer_value(json_object_get(o2, "epoch")) >
                json_integer_value(json_object_get(o1, "epoch")));
    /* Rejecting again is harmless; accepting the rejected offer is not. */
    expect_ok(answer(&w, workers[first], "reject", o1, NULL));
    expect_error(answer(&w, workers[first], "accept", o1, NULL),
                 "stale_reservation");
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM task_exclusions"
                                       " WHERE reason = 'rejected'"),
                     1);
    json_decref(o1);
    json_decref(o2);
    harness_world_down(&w);
}

/* An unanswered offer times out and goes to someone else. */
static void test_timeout_reoffers(void **state)
{
    world w;
    dispatcher_opts o;
    json_t *o1, *o2, *notice;
    const char *first;

    (void)state;
    dispatcher_opts_default(&o);
    o.offer_timeout_ms = 300;
    world_up(&w, "dsp_timeout", &o);
    presence(&w, "wa", "available");
    presence(&w, "wb", "available");
    submit(&w, "LN-5", NULL);
    o1 = inbox_next(&w.offers[0], 1000);
    first = "wa";
    if (o1 == NULL) {
        o1 = inbox_next(&w.offers[1], 1000);
        first = "wb";
    }
    assert_non_null(o1);
    o2 = inbox_next(&w.offers[strcmp(first, "wa") == 0 ? 1 : 0], 3000);
    assert_non_null(o2);
    notice = inbox_next(&w.notices[strcmp(first, "wa") == 0 ? 0 : 1], 1000);
    assert_non_null(notice);
    assert_string_equal(json_string_value(json_object_get(notice, "reason")),
                        "timeout");
    expect_error(answer(&w, first, "accept", o1, NULL), "stale_reservation");
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM reservations"
                                       " WHERE state = 'timeout'"),
                     1);
    json_decref(o1);
    json_decref(o2);
    json_decref(notice);
    harness_world_down(&w);
}

/* A worker that stops heartbeating loses its task after the lease; its
 * late completion changes nothing; the task is finished by another. */
static void test_vanished_worker(void **state)
{
    world w;
    dispatcher_opts o;
    json_t *o1, *o2, *r;
    int64_t deadline;

    (void)state;
    dispatcher_opts_default(&o);
    o.lease_ms = 600;
    world_up(&w, "dsp_vanish", &o);
    presence(&w, "wa", "available");
    submit(&w, "LN-6", NULL);
    o1 = inbox_next(&w.offers[0], 2000);
    assert_non_null(o1);
    expect_ok(answer(&w, "wa", "accept", o1, NULL));
    /* wb appears and keeps heartbeating; wa falls silent. */
    presence(&w, "wb", "available");
    deadline = clock_mono_us() + 4000000;
    o2 = NULL;
    while (o2 == NULL && clock_mono_us() < deadline) {
        json_decref(req(&w, "agent.wb.heartbeat", "{}"));
        o2 = inbox_next(&w.offers[1], 200);
    }
    assert_non_null(o2);
    assert_int_equal(json_integer_value(json_object_get(o1, "task_id")),
                     json_integer_value(json_object_get(o2, "task_id")));
    r = answer(&w, "wa", "complete", o1, promise);
    expect_error(r, "stale_reservation");
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM outcomes"), 0);
    expect_ok(answer(&w, "wb", "accept", o2, NULL));
    expect_ok(answer(&w, "wb", "complete", o2, promise));
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM outcomes"
                                       " WHERE worker_id = 'wb'"),
                     1);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM workers"
                                       " WHERE id = 'wa'"
                                       " AND presence = 'offline'"),
                     1);
    json_decref(o1);
    json_decref(o2);
    harness_world_down(&w);
}

/* Kill the dispatcher between accept and complete; a new one carries on
 * from the database, and queued tasks are routed after the restart. */
static void test_restart_mid_flow(void **state)
{
    world w;
    json_t *o1, *o2;

    (void)state;
    world_up(&w, "dsp_restart", NULL);
    presence(&w, "wa", "available");
    submit(&w, "LN-7", NULL);
    o1 = inbox_next(&w.offers[0], 2000);
    assert_non_null(o1);
    expect_ok(answer(&w, "wa", "accept", o1, NULL));
    harness_stop(&w.rd);
    /* While it is down a case arrives in the database via a new process:
     * simulate by submitting after the restart instead. */
    harness_start(&w.rd, &w.f, NULL);
    expect_ok(answer(&w, "wa", "complete", o1, dispute));
    o2 = inbox_next(&w.offers[0], 3000); /* the legal step, same worker */
    assert_non_null(o2);
    assert_string_equal(json_string_value(json_object_get(o2, "step")),
                        "legal");
    json_decref(o1);
    json_decref(o2);
    harness_world_down(&w);
}

/* Bad input: a clear error with a stable code, and nothing changes. */
static void test_bad_input(void **state)
{
    world w;
    json_t *o1;
    char big[70 * 1024];
    static const struct {
        const char *rest;
        const char *body;
        const char *code;
    } cases[] = {
        {"api.bank1.case.submit", "{\"external_id\": ", "bad_json"},
        {"api.bank1.case.submit", "[1,2]", "wrong_type"},
        {"api.bank1.case.submit",
         "{\"external_id\":\"X1\",\"case_type\":\"loan\",\"amount\":5}",
         "unknown_field"},
        {"api.bank1.case.submit", "{\"case_type\":\"loan\"}", "missing_field"},
        {"api.bank1.case.submit", "{\"external_id\":7,\"case_type\":\"loan\"}",
         "wrong_type"},
        {"api.bank1.case.submit",
         "{\"external_id\":\"X2\",\"case_type\":\"loan\",\"priority\":12}",
         "invalid_value"},
        {"api.bank1.case.submit",
         "{\"external_id\":\"X3\",\"case_type\":\"mortgage\"}",
         "unknown_case_type"},
        {"api.nobank.case.submit",
         "{\"external_id\":\"X4\",\"case_type\":\"loan\"}", "unknown_tenant"},
        {"api.bank1.case.get", "{}", "missing_field"},
        {"agent.wa.presence", "{\"presence\":\"asleep\"}", "invalid_value"},
        {"agent.nobody.presence", "{\"presence\":\"available\"}", "not_found"},
        {"agent.wa.accept", "{\"reservation_id\":999,\"epoch\":1}",
         "not_found"},
        {"agent.wa.accept", "{\"reservation_id\":-4,\"epoch\":1}",
         "invalid_value"},
    };
    json_t *r;

    (void)state;
    world_up(&w, "dsp_bad", NULL);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        r = req(&w, cases[i].rest, cases[i].body);
        if (strcmp(harness_error_code(r), cases[i].code) != 0)
            fail_msg("%s %s: expected %s, got %s", cases[i].rest, cases[i].body,
                     cases[i].code, json_dumps(r, 0));
        json_decref(r);
    }
    memset(big, ' ', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "{\"external_id\":\"X5\",\"case_type\":\"loan\"}", 39);
    expect_error(req(&w, "api.bank1.case.submit", big), "too_large");
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM cases"), 0);

    /* Outcomes the step does not allow, and a reservation held by someone
     * else, change nothing. */
    presence(&w, "wa", "available");
    submit(&w, "LN-8", NULL);
    o1 = inbox_next(&w.offers[0], 2000);
    assert_non_null(o1);
    expect_error(answer(&w, "wb", "accept", o1, NULL), "not_yours");
    expect_ok(answer(&w, "wa", "accept", o1, NULL));
    expect_error(answer(&w, "wa", "complete", o1,
                        ",\"outcome\":{\"code\":\"paid_in_gold\"}"),
                 "outcome_not_allowed");
    expect_error(answer(&w, "wa", "complete", o1,
                        ",\"outcome\":{\"code\":\"promise_to_pay\","
                        "\"fields\":{\"amount_minor\":-5,"
                        "\"due_date\":\"2026-12-05\"}}"),
                 "outcome_not_allowed");
    expect_error(answer(&w, "wa", "complete", o1,
                        ",\"outcome\":{\"code\":\"promise_to_pay\","
                        "\"fields\":{\"amount_minor\":5,"
                        "\"due_date\":\"2026-02-30\"}}"),
                 "outcome_not_allowed");
    expect_error(answer(&w, "wa", "complete", o1,
                        ",\"outcome\":{\"code\":\"promise_to_pay\"}"),
                 "outcome_not_allowed");
    expect_error(answer(&w, "wb", "complete", o1, promise), "not_yours");
    expect_error(answer(&w, "wa", "complete", o1,
                        ",\"outcome\":{\"code\":\"dispute\"},\"x\":1"),
                 "unknown_field");
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM outcomes"), 0);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM tasks"
                                       " WHERE state = 'assigned'"),
                     1);
    expect_ok(answer(&w, "wa", "complete", o1, promise));
    json_decref(o1);
    harness_world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_happy_path),
        cmocka_unit_test(test_affinity_next_step),
        cmocka_unit_test(test_idempotent_submit),
        cmocka_unit_test(test_reject_reoffers),
        cmocka_unit_test(test_timeout_reoffers),
        cmocka_unit_test(test_vanished_worker),
        cmocka_unit_test(test_restart_mid_flow),
        cmocka_unit_test(test_bad_input),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
