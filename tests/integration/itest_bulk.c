/*
 * Bulk requests on the real services (docs/protocol.md, "Bulk requests"):
 * a bank's case.submit_many and a worker's accept_many and complete_many
 * get one reply with each item's result, exactly what the item alone
 * would get — good and bad items side by side, a repeat idempotent, a
 * foreign reservation refused per item — with the customer sealed and
 * every created case audited as for a single submit; a request over a
 * limit or the quota is refused as a whole and changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sbuf.h"
#include "tl_test.h"

typedef harness_world world;

static const char *const workers[2] = {"wa", "wb"};

/* bank1's loan with a payload and customer schema, and a contact step on
 * chat (three slots a worker) so that one worker holds several offers. */
static const char *world_sql =
    "UPDATE playbooks SET definition = '{"
    "\"payload\": {"
    " \"loan_id\": {\"type\": \"string\", \"max_length\": 16},"
    " \"days_past_due\": {\"type\": \"int\", \"min\": 0, \"max\": 3650},"
    " \"note\": {\"type\": \"string\", \"required\": false,"
    "            \"personal\": true}},"
    "\"customer\": {\"name\": {\"type\": \"string\", \"max_length\": 100}}}'"
    " WHERE tenant_id = 'bank1' AND case_type = 'loan';"
    "UPDATE playbook_steps SET channel = 'chat' WHERE step = 'contact'";

#define NAME "欧阳秀英"
#define NOTE "客户说三月在医院住了两周"

static void world_up(world *w, const char *name, const dispatcher_opts *o)
{
    const harness_world_opts wo = {
        .sql = world_sql, .dispatcher = o, .workers = workers, .nworkers = 2};

    harness_world_up(w, name, &wo);
}

static json_t *req(world *w, const char *rest, const char *body)
{
    return harness_request(&w->f, w->b, rest, body);
}

static int64_t count(world *w, const char *sql)
{
    return fixture_i64(&w->f, sql);
}

/* A good case ext for the schema above, as an item of "cases". */
static void good_case(sbuf *b, const char *ext)
{
    sbuf_printf(b,
                "{\"external_id\":\"%s\",\"case_type\":\"loan\","
                "\"customer\":{\"name\":\"" NAME "\"},"
                "\"payload\":{\"loan_id\":\"L-1\",\"days_past_due\":35,"
                "\"note\":\"" NOTE "\"}}",
                ext);
}

/* The results of a bulk reply r, which must be ok with n of them. */
static const json_t *results(const json_t *r, size_t n)
{
    const json_t *a = json_object_get(r, "results");

    if (!json_is_true(json_object_get(r, "ok")) || json_array_size(a) != n)
        fail_msg("expected %zu results, got %s", n, json_dumps(r, 0));
    return a;
}

static const json_t *at(const json_t *a, size_t i)
{
    return json_array_get(a, i);
}

static void expect_code(const json_t *r, const char *code)
{
    if (strcmp(harness_error_code(r), code) != 0)
        fail_msg("expected %s, got %s", code, json_dumps(r, 0));
}

static int64_t case_id(const json_t *r)
{
    return json_integer_value(
        json_object_get(json_object_get(r, "case"), "id"));
}

static bool created(const json_t *r)
{
    return json_is_true(json_object_get(r, "ok")) &&
           json_is_true(json_object_get(r, "created"));
}

/* The body of a submit_many: good M-1, a payload of the wrong type, good
 * M-2, M-1 again, a case that is no object, an unknown case type. */
static char *mixed_body(void)
{
    sbuf b = {0};
    char *text;

    sbuf_printf(&b, "{\"cases\":[");
    good_case(&b, "M-1");
    sbuf_printf(&b, ",{\"external_id\":\"M-bad\",\"case_type\":\"loan\","
                    "\"customer\":{\"name\":\"x\"},\"payload\":"
                    "{\"loan_id\":\"L-2\",\"days_past_due\":\"many\"}},");
    good_case(&b, "M-2");
    sbuf_printf(&b, ",");
    good_case(&b, "M-1");
    sbuf_printf(&b, ",7,{\"external_id\":\"M-3\",\"case_type\":\"lease\"}]}");
    assert_false(b.failed);
    text = strdup(sbuf_str(&b));
    sbuf_free(&b);
    return text;
}

/* Good and bad cases in one request: each gets the reply its submit alone
 * would get; a repeat of the whole request creates nothing; the
 * customer is sealed and each created case audited once. */
static void test_submit_many_mixed(void **state)
{
    world w;
    char *body = mixed_body();
    json_t *r, *again, *got;
    const json_t *a, *b;
    char get[64];
    int64_t id1, id2;

    (void)state;
    world_up(&w, "bulk_submit", NULL);
    r = req(&w, "api.bank1.case.submit_many", body);
    a = results(r, 6);
    assert_true(created(at(a, 0)));
    expect_code(at(a, 1), "wrong_type");
    assert_non_null(strstr(json_string_value(json_object_get(
                               json_object_get(at(a, 1), "error"), "message")),
                           "request.payload.days_past_due"));
    assert_true(created(at(a, 2)));
    /* The repeat inside the request: the case the first created. */
    assert_true(json_is_true(json_object_get(at(a, 3), "ok")));
    assert_false(created(at(a, 3)));
    id1 = case_id(at(a, 0));
    id2 = case_id(at(a, 2));
    assert_int_equal(case_id(at(a, 3)), id1);
    assert_true(id1 > 0 && id2 > 0 && id1 != id2);
    /* As the body 7 sent alone. */
    expect_code(at(a, 4), "bad_json");
    expect_code(at(a, 5), "unknown_case_type");
    assert_int_equal(count(&w, "SELECT count(*) FROM cases"), 2);
    assert_int_equal(count(&w, "SELECT count(*) FROM tasks"), 4);

    /* Sealed as a single submit's: nothing personal in the rows. */
    assert_int_equal(count(&w, "SELECT count(*) FROM cases WHERE"
                               " customer = '{}' AND"
                               " seal_key_id(personal) = 1"),
                     2);
    assert_int_equal(count(&w,
                           "SELECT count(*) FROM (SELECT (to_jsonb(c) -"
                           " 'personal')::text AS t FROM cases c) c"
                           " WHERE t LIKE '%" NAME "%' OR t LIKE '%" NOTE "%'"),
                     0);
    assert_int_equal(count(&w, "SELECT count(*) FROM audit_log WHERE"
                               " action = 'case.submit'"),
                     2);

    /* The same request again: the same answers, nothing new. */
    again = req(&w, "api.bank1.case.submit_many", body);
    b = results(again, 6);
    for (size_t i = 0; i < 6; i += 2)
        assert_false(created(at(b, i)));
    assert_int_equal(case_id(at(b, 0)), id1);
    assert_int_equal(case_id(at(b, 2)), id2);
    expect_code(at(b, 1), "wrong_type");
    expect_code(at(b, 5), "unknown_case_type");
    assert_int_equal(count(&w, "SELECT count(*) FROM cases"), 2);
    assert_int_equal(count(&w, "SELECT count(*) FROM audit_log WHERE"
                               " action = 'case.submit'"),
                     2);

    /* The tenant's case.get opens what a bulk submit sealed. */
    snprintf(get, sizeof(get), "{\"case_id\":%lld}", (long long)id2);
    got = req(&w, "api.bank1.case.get", get);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(got, "case"), "customer"), "name")),
        NAME);
    /* Another tenant's bulk sees none of bank1's cases. */
    json_decref(r);
    r = req(&w, "api.bank2.case.submit_many",
            "{\"cases\":[{\"external_id\":\"M-1\",\"case_type\":\"loan\"}]}");
    expect_code(at(results(r, 1), 0), "unknown_case_type");
    json_decref(got);
    json_decref(again);
    json_decref(r);
    free(body);
    harness_world_down(&w);
}

/* Over a limit or malformed as a whole: one error reply, nothing stored. */
static void test_submit_many_limits(void **state)
{
    world w;
    sbuf b = {0};
    json_t *r;

    (void)state;
    world_up(&w, "bulk_limits", NULL);
    r = req(&w, "api.bank1.case.submit_many", "{\"cases\":[]}");
    expect_code(r, "invalid_value");
    json_decref(r);
    r = req(&w, "api.bank1.case.submit_many",
            "{\"cases\":[{}],\"priority\":1}");
    expect_code(r, "unknown_field");
    json_decref(r);
    r = req(&w, "api.bank1.case.submit_many", "{\"cases\":{}}");
    expect_code(r, "wrong_type");
    json_decref(r);

    /* More cases than one request may carry. */
    sbuf_printf(&b, "{\"cases\":[");
    for (int i = 0; i <= 1000; i++)
        sbuf_printf(&b, "%s{\"external_id\":\"T-%d\",\"case_type\":\"loan\"}",
                    i > 0 ? "," : "", i);
    sbuf_printf(&b, "]}");
    r = req(&w, "api.bank1.case.submit_many", sbuf_str(&b));
    expect_code(r, "too_large");
    assert_non_null(strstr(json_string_value(json_object_get(
                               json_object_get(r, "error"), "message")),
                           "at most 1000"));
    json_decref(r);
    sbuf_free(&b);
    assert_int_equal(count(&w, "SELECT count(*) FROM cases"), 0);
    assert_int_equal(count(&w, "SELECT count(*) FROM audit_log WHERE"
                               " action = 'case.submit'"),
                     0);
    harness_world_down(&w);
}

/* A submit_many of n cases Q<tag>-0.. with the tenant's reply. */
static json_t *submit_n(world *w, const char *tag, int n)
{
    sbuf b = {0};
    char ext[32];
    json_t *r;

    sbuf_printf(&b, "{\"cases\":[");
    for (int i = 0; i < n; i++) {
        sbuf_printf(&b, "%s", i > 0 ? "," : "");
        snprintf(ext, sizeof(ext), "%s-%d", tag, i);
        good_case(&b, ext);
    }
    sbuf_printf(&b, "]}");
    r = req(w, "api.bank1.case.submit_many", sbuf_str(&b));
    sbuf_free(&b);
    return r;
}

/* Each case counts against the tenant's quota (rate 1 a second, bursts
 * of 10): after three single submits a bulk of ten is rate_limited, one
 * of eleven never fits, one of five does. */
static void test_submit_many_quota(void **state)
{
    world w;
    dispatcher_opts o;
    json_t *r;

    (void)state;
    dispatcher_opts_default(&o);
    o.quota_rate = 1;
    o.quota_burst = 10;
    world_up(&w, "bulk_quota", &o);
    for (int i = 0; i < 3; i++) {
        char one[256];
        snprintf(one, sizeof(one),
                 "{\"external_id\":\"S-%d\",\"case_type\":\"loan\","
                 "\"customer\":{\"name\":\"x\"},\"payload\":{\"loan_id\":"
                 "\"L\",\"days_past_due\":1}}",
                 i);
        r = req(&w, "api.bank1.case.submit", one);
        assert_true(json_is_true(json_object_get(r, "ok")));
        json_decref(r);
    }
    r = submit_n(&w, "R", 10);
    expect_code(r, "rate_limited");
    assert_true(json_integer_value(json_object_get(json_object_get(r, "error"),
                                                   "retry_after_ms")) > 0);
    assert_non_null(strstr(json_string_value(json_object_get(
                               json_object_get(r, "error"), "message")),
                           "each case of a submit_many counts"));
    json_decref(r);
    r = submit_n(&w, "E", 11);
    expect_code(r, "too_large");
    assert_non_null(strstr(json_string_value(json_object_get(
                               json_object_get(r, "error"), "message")),
                           "bursts of 10"));
    json_decref(r);
    assert_int_equal(count(&w, "SELECT count(*) FROM cases"), 3);
    r = submit_n(&w, "F", 5);
    results(r, 5);
    json_decref(r);
    assert_int_equal(count(&w, "SELECT count(*) FROM cases"), 8);
    assert_int_equal(count(&w, "SELECT count(*) FROM cases WHERE"
                               " external_id LIKE 'R-%'"
                               " OR external_id LIKE 'E-%'"),
                     0);
    assert_int_equal(count(&w, "SELECT count(*) FROM audit_log WHERE"
                               " action = 'case.submit'"),
                     8);
    harness_world_down(&w);
}

static void presence(world *w, const char *worker)
{
    char rest[64];
    json_t *r;

    snprintf(rest, sizeof(rest), "agent.%s.presence", worker);
    r = req(w, rest, "{\"presence\":\"available\"}");
    assert_true(json_is_true(json_object_get(r, "ok")));
    json_decref(r);
}

static int64_t i64(const json_t *o, const char *name)
{
    return json_integer_value(json_object_get(o, name));
}

/* {"reservation_id": R, "epoch": E<extra>} of offer o into b. */
static void answer(sbuf *b, const json_t *o, const char *extra)
{
    sbuf_printf(b, "{\"reservation_id\":%lld,\"epoch\":%lld%s}",
                (long long)i64(o, "reservation_id"), (long long)i64(o, "epoch"),
                extra);
}

#define PROMISE                                                                \
    ",\"outcome\":{\"code\":\"promise_to_pay\",\"fields\":{\"amount_minor\":"  \
    "500,\"due_date\":\"2026-12-05\"}}"
#define DISPUTE ",\"outcome\":{\"code\":\"dispute\",\"fields\":{}}"

/* A worker's accepts and completions in batches: per-item results, a
 * foreign reservation refused per item, repeats idempotent, limits
 * refused as a whole. */
static void test_accept_complete_many(void **state)
{
    world w;
    json_t *o[3], *r;
    const json_t *a;
    sbuf b = {0};

    (void)state;
    world_up(&w, "bulk_agent", NULL);
    presence(&w, "wa");
    r = req(&w, "api.bank1.case.submit_many",
            "{\"cases\":[{\"external_id\":\"A-1\",\"case_type\":\"loan\","
            "\"customer\":{\"name\":\"x\"},\"payload\":{\"loan_id\":\"L\","
            "\"days_past_due\":1}},{\"external_id\":\"A-2\",\"case_type\":"
            "\"loan\",\"customer\":{\"name\":\"y\"},\"payload\":{\"loan_id\":"
            "\"L\",\"days_past_due\":2}},{\"external_id\":\"A-3\","
            "\"case_type\":\"loan\",\"customer\":{\"name\":\"z\"},"
            "\"payload\":{\"loan_id\":\"L\",\"days_past_due\":3}}]}");
    results(r, 3);
    json_decref(r);
    for (int i = 0; i < 3; i++) {
        o[i] = inbox_next(&w.offers[0], 5000);
        assert_non_null(o[i]);
    }

    /* wb may not accept wa's offer: refused per item, nothing changed. */
    sbuf_printf(&b, "{\"accepts\":[");
    answer(&b, o[0], "");
    sbuf_printf(&b, "]}");
    r = req(&w, "agent.wb.accept_many", sbuf_str(&b));
    expect_code(at(results(r, 1), 0), "not_yours");
    json_decref(r);
    sbuf_free(&b);
    assert_int_equal(count(&w, "SELECT count(*) FROM reservations WHERE"
                               " state = 'accepted'"),
                     0);

    /* Two good, an unknown, a repeat, a malformed one. */
    memset(&b, 0, sizeof(b));
    sbuf_printf(&b, "{\"accepts\":[");
    answer(&b, o[0], "");
    sbuf_printf(&b, ",");
    answer(&b, o[1], "");
    sbuf_printf(&b, ",{\"reservation_id\":999999,\"epoch\":1},");
    answer(&b, o[0], "");
    sbuf_printf(&b, ",{\"reservation_id\":\"x\",\"epoch\":1}]}");
    r = req(&w, "agent.wa.accept_many", sbuf_str(&b));
    a = results(r, 5);
    for (size_t i = 0; i < 4; i += i == 1 ? 2 : 1)
        assert_int_equal(
            i64(json_object_get(at(a, i), "task"), "reservation_id"),
            i64(o[i == 3 ? 0 : i], "reservation_id"));
    expect_code(at(a, 2), "not_found");
    expect_code(at(a, 4), "wrong_type");
    /* The task carries the customer, opened for its holder. */
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(at(a, 0), "task"), "customer"),
            "name")),
        "x");
    json_decref(r);
    /* Again: the same tasks (accepting twice is fine). */
    r = req(&w, "agent.wa.accept_many", sbuf_str(&b));
    a = results(r, 5);
    assert_true(json_is_true(json_object_get(at(a, 1), "ok")));
    json_decref(r);
    sbuf_free(&b);
    assert_int_equal(count(&w, "SELECT count(*) FROM reservations WHERE"
                               " state = 'accepted'"),
                     2);

    /* Completions: good, an outcome the step does not allow, a repeat, one
     * of the offer wa never accepted, and wb's try at wa's task. */
    memset(&b, 0, sizeof(b));
    sbuf_printf(&b, "{\"completions\":[");
    answer(&b, o[0], PROMISE);
    sbuf_printf(&b, ",");
    answer(&b, o[1], ",\"outcome\":{\"code\":\"resolved\",\"fields\":{}}");
    sbuf_printf(&b, ",");
    answer(&b, o[0], PROMISE);
    sbuf_printf(&b, ",");
    answer(&b, o[2], DISPUTE);
    sbuf_printf(&b, "]}");
    r = req(&w, "agent.wa.complete_many", sbuf_str(&b));
    a = results(r, 4);
    assert_true(json_is_true(json_object_get(at(a, 0), "ok")));
    assert_false(json_is_true(json_object_get(at(a, 0), "duplicate")));
    expect_code(at(a, 1), "outcome_not_allowed");
    assert_true(json_is_true(json_object_get(at(a, 2), "duplicate")));
    assert_int_equal(i64(at(a, 2), "outcome_id"), i64(at(a, 0), "outcome_id"));
    expect_code(at(a, 3), "stale_reservation");
    json_decref(r);
    sbuf_free(&b);
    assert_int_equal(count(&w, "SELECT count(*) FROM outcomes"), 1);

    memset(&b, 0, sizeof(b));
    sbuf_printf(&b, "{\"completions\":[");
    answer(&b, o[1], DISPUTE);
    sbuf_printf(&b, "]}");
    r = req(&w, "agent.wb.complete_many", sbuf_str(&b));
    expect_code(at(results(r, 1), 0), "not_yours");
    json_decref(r);
    sbuf_free(&b);

    /* The first again with the second now: a duplicate and a new one. */
    memset(&b, 0, sizeof(b));
    sbuf_printf(&b, "{\"completions\":[");
    answer(&b, o[0], PROMISE);
    sbuf_printf(&b, ",");
    answer(&b, o[1], DISPUTE);
    sbuf_printf(&b, "]}");
    r = req(&w, "agent.wa.complete_many", sbuf_str(&b));
    a = results(r, 2);
    assert_true(json_is_true(json_object_get(at(a, 0), "duplicate")));
    assert_true(json_is_true(json_object_get(at(a, 1), "ok")));
    assert_false(json_is_true(json_object_get(at(a, 1), "duplicate")));
    json_decref(r);
    sbuf_free(&b);
    assert_int_equal(count(&w, "SELECT count(*) FROM outcomes"), 2);
    assert_int_equal(count(&w, "SELECT count(*) FROM outbox WHERE"
                               " payload->>'type' = 'outcome.recorded'"),
                     2);

    /* Limits: refused as a whole, nothing changed. */
    memset(&b, 0, sizeof(b));
    sbuf_printf(&b, "{\"accepts\":[");
    for (int i = 0; i <= 64; i++) {
        sbuf_printf(&b, "%s", i > 0 ? "," : "");
        answer(&b, o[2], "");
    }
    sbuf_printf(&b, "]}");
    r = req(&w, "agent.wa.accept_many", sbuf_str(&b));
    expect_code(r, "too_large");
    json_decref(r);
    sbuf_free(&b);
    r = req(&w, "agent.wa.complete_many", "{\"completions\":[]}");
    expect_code(r, "invalid_value");
    json_decref(r);
    assert_int_equal(count(&w, "SELECT count(*) FROM reservations WHERE"
                               " state = 'accepted'"),
                     0);
    assert_int_equal(count(&w, "SELECT count(*) FROM outcomes"), 2);
    for (int i = 0; i < 3; i++)
        json_decref(o[i]);
    harness_world_down(&w);
}

/* The simulated agent with batch 16 answers many offers in bulk
 * requests; every task is accepted and completed once. */
static void test_agent_batches(void **state)
{
    static const char *const one[] = {"wa"};
    world w;
    agent_sim *sim = NULL;
    agent_stats *st = NULL;
    agent_sim_opts o;
    json_t *r;
    err e = {0};

    (void)state;
    world_up(&w, "bulk_sim", NULL);
    fixture_exec(&w.f, "UPDATE worker_capacity SET slots = 20"
                       " WHERE worker_id = 'wa' AND channel = 'chat'");
    if (agent_stats_create(&st, &e) != ST_OK)
        fail_msg("%s", e.msg);
    agent_sim_opts_init(&o);
    o.nats = w.f.cfg.nats;
    o.creds = w.f.cfg.creds[0] ? w.f.cfg.creds : NULL;
    o.prefix = w.f.cfg.prefix;
    o.workers = one;
    o.nworkers = 1;
    o.handle_ms = 0;
    o.stats = st;
    o.batch = 16;
    if (agent_sim_start(&sim, &o, &e) != ST_OK)
        fail_msg("agent: %s", e.msg);
    assert_int_equal(fixture_wait_i64(&w.f,
                                      "SELECT count(*) FROM workers WHERE"
                                      " id = 'wa' AND presence = 'available'",
                                      1, 10000),
                     1);
    r = submit_n(&w, "B", 30);
    results(r, 30);
    json_decref(r);
    assert_int_equal(fixture_wait_i64(&w.f,
                                      "SELECT count(*) FROM outcomes o JOIN"
                                      " tasks t ON t.id = o.task_id WHERE"
                                      " t.step = 'contact'",
                                      30, 30000),
                     30);
    agent_sim_destroy(sim);
    /* The disputes' legal steps are wa's too (its AI level): at least the
     * 30 contacts, each confirmed once, none refused. */
    assert_true(agent_stats_get(st, AGENT_STAT_COMPLETED) >= 30);
    assert_true(agent_stats_get(st, AGENT_STAT_COMPLETED) <=
                count(&w, "SELECT count(*) FROM outcomes"));
    assert_int_equal(agent_stats_get(st, AGENT_STAT_ERRORS), 0);
    assert_true(agent_stats_get(st, AGENT_STAT_BULK) >= 1);
    agent_stats_destroy(st);
    harness_world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submit_many_mixed),
        cmocka_unit_test(test_submit_many_limits),
        cmocka_unit_test(test_submit_many_quota),
        cmocka_unit_test(test_accept_complete_many),
        cmocka_unit_test(test_agent_batches),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
