/*
 * The elastic call-up end to end on the real dispatcher, console,
 * PostgreSQL and NATS with simulated agents: the queue grows, the console's
 * staffing figure exceeds the workers online, the on-call worker is
 * invited, accepts, comes online and gets offers; when the queue is empty
 * again it is released between tasks. And the dispatcher's refusals of
 * call-up requests that do not fit, each changing nothing.
 */
#include <stdio.h>
#include <string.h>

#include "console.h"
#include "console_client.h"
#include "console_keys.h"
#include "harness.h"
#include "tl_test.h"

/* wb is front's reserve; op2 runs pool other with its own reserve wx. */
static const char callup_sql[] =
    "UPDATE workers SET on_call = true WHERE id = 'wb';"
    "INSERT INTO operators (id, name) VALUES ('op2', 'Operator Two');"
    "INSERT INTO pools (id, operator_id, name) VALUES ('other', 'op2', 'O');"
    "INSERT INTO workers (id, pool_id, name, on_call) VALUES"
    " ('wx', 'other', 'X', true);"
    "INSERT INTO worker_skills VALUES ('wx', 'collections', 2, 0);";

static void submit(fixture *f, bus *b, const char *ext)
{
    char body[256];
    json_t *r;

    snprintf(body, sizeof(body),
             "{\"external_id\":\"%s\",\"case_type\":\"loan\","
             "\"customer\":{\"name\":\"Li Na\"}}",
             ext);
    r = harness_request(f, b, "api.bank1.case.submit", body);
    assert_true(json_is_true(json_object_get(r, "ok")));
    json_decref(r);
}

static void expect_code(json_t *r, const char *code)
{
    if (strcmp(harness_error_code(r), code) != 0)
        fail_msg("expected %s, got %s", code, json_dumps(r, 0));
    json_decref(r);
}

/* Requests that do not fit are refused and leave no call-up behind. */
static void test_refusals(void **state)
{
    harness_world w;
    const harness_world_opts wo = {.sql = callup_sql};

    (void)state;
    harness_world_up(&w, "callup_refuse", &wo);
    /* wa is not on call; wx is op2's; wc is in another pool. */
    expect_code(harness_request(&w.f, w.b, "ops.op1.callup.invite",
                                "{\"worker\":\"wa\",\"pool\":\"front\","
                                "\"skill\":\"collections\",\"required\":3,"
                                "\"online\":1,\"reason\":\"busy\"}"),
                "invalid_value");
    expect_code(harness_request(&w.f, w.b, "ops.op1.callup.invite",
                                "{\"worker\":\"wx\",\"pool\":\"other\","
                                "\"skill\":\"collections\",\"required\":3,"
                                "\"online\":1,\"reason\":\"busy\"}"),
                "not_yours");
    expect_code(harness_request(&w.f, w.b, "ops.op1.callup.invite",
                                "{\"worker\":\"wb\",\"pool\":\"spec\","
                                "\"skill\":\"collections\",\"required\":3,"
                                "\"online\":1,\"reason\":\"busy\"}"),
                "invalid_value");
    expect_code(harness_request(&w.f, w.b, "ops.op1.callup.invite",
                                "{\"worker\":\"wb\",\"pool\":\"front\","
                                "\"skill\":\"collections\",\"required\":-1,"
                                "\"online\":1,\"reason\":\"busy\"}"),
                "invalid_value");
    expect_code(harness_request(&w.f, w.b, "ops.op1.callup.release",
                                "{\"worker\":\"wb\",\"reason\":\"quiet\"}"),
                "invalid_value");
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM callups"), 0);
    /* A good invitation, then answers that do not fit it. */
    {
        json_t *r = harness_request(&w.f, w.b, "ops.op1.callup.invite",
                                    "{\"worker\":\"wb\",\"pool\":\"front\","
                                    "\"skill\":\"collections\",\"required\":"
                                    "3,\"online\":1,\"reason\":\"busy\"}");
        char body[96];
        int64_t id;

        assert_true(json_is_true(json_object_get(r, "ok")));
        id = json_integer_value(json_object_get(r, "callup_id"));
        json_decref(r);
        assert_true(id > 0);
        expect_code(harness_request(&w.f, w.b, "ops.op1.callup.invite",
                                    "{\"worker\":\"wb\",\"pool\":\"front\","
                                    "\"skill\":\"collections\",\"required\":"
                                    "3,\"online\":1,\"reason\":\"again\"}"),
                    "invalid_value");
        snprintf(body, sizeof(body),
                 "{\"callup_id\":%lld,\"answer\":\"accept\"}", (long long)id);
        expect_code(harness_request(&w.f, w.b, "agent.wa.callup", body),
                    "not_yours");
        expect_code(harness_request(&w.f, w.b, "agent.wb.callup",
                                    "{\"callup_id\":1,\"answer\":\"maybe\"}"),
                    "invalid_value");
        r = harness_request(&w.f, w.b, "agent.wb.callup", body);
        assert_true(json_is_true(json_object_get(r, "ok")));
        json_decref(r);
        snprintf(body, sizeof(body),
                 "{\"callup_id\":%lld,\"answer\":\"decline\"}", (long long)id);
        expect_code(harness_request(&w.f, w.b, "agent.wb.callup", body),
                    "stale_reservation");
    }
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM callups WHERE"
                                       " state = 'accepted'"),
                     1);
    /* Never mid-task: wb holding an offer is not released. */
    json_decref(harness_request(&w.f, w.b, "agent.wb.presence",
                                "{\"presence\":\"available\"}"));
    submit(&w.f, w.b, "LN-1");
    assert_int_equal(fixture_wait_i64(&w.f,
                                      "SELECT count(*) FROM reservations"
                                      " WHERE worker_id = 'wb' AND state ="
                                      " 'pending'",
                                      1, 10000),
                     1);
    expect_code(harness_request(&w.f, w.b, "ops.op1.callup.release",
                                "{\"worker\":\"wb\",\"reason\":\"quiet\"}"),
                "invalid_value");
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM callups WHERE"
                                       " state = 'accepted'"),
                     1);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM audit_log WHERE"
                                       " action = 'callup.invite'"),
                     1);
    harness_world_down(&w);
}

/* Queue grows -> invitation -> accepted -> offers -> release. */
static void test_queue_grows_and_shrinks(void **state)
{
    fixture f;
    running_dispatcher rd;
    dispatcher_opts dopts;
    console *c = NULL;
    console_opts o;
    agent_sim *sim = NULL;
    agent_stats *stats = NULL;
    char key[CONSOLE_KEY_MAX];
    bus *b;
    json_t *j;
    err e = {0};

    (void)state;
    fixture_setup(&f, "callup_e2e");
    harness_seed(&f);
    fixture_exec(&f, callup_sql);
    dispatcher_opts_default(&dopts);
    harness_start(&rd, &f, &dopts);
    harness_agents_start(&f, 800, &sim, &stats);
    assert_int_equal(console_keys_create(f.db, CONSOLE_KEY_OPERATOR, "op1",
                                         "wallboard", key, &e),
                     ST_OK);
    console_opts_default(&o);
    o.port = 0;
    o.sample_ms = 200;
    o.rollup_ms = 1000;
    o.callup_ms = 200;
    o.callup_window_s = 10;
    o.callup_hold_s = 1;
    assert_int_equal(console_create(&c, &f.cfg, &o, &e), ST_OK);
    /* wa works; wb waits offline on call. */
    assert_int_equal(fixture_wait_i64(&f,
                                      "SELECT count(*) FROM workers WHERE"
                                      " id = 'wa' AND presence = 'available'",
                                      1, 20000),
                     1);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM workers WHERE"
                                     " id = 'wb' AND presence = 'offline'"),
                     1);
    b = fixture_bus(&f);
    for (int i = 0; i < 8; i++) {
        char ext[32];

        snprintf(ext, sizeof(ext), "LN-%d", i);
        submit(&f, b, ext);
    }
    /* The invitation, the answer, and work for the reserve. */
    assert_int_equal(fixture_wait_i64(&f,
                                      "SELECT count(*) FROM callups WHERE"
                                      " worker_id = 'wb' AND state IN"
                                      " ('accepted', 'released')",
                                      1, 30000),
                     1);
    assert_int_equal(fixture_wait_i64(&f,
                                      "SELECT count(*) FROM workers WHERE"
                                      " id = 'wb' AND presence = 'available'",
                                      1, 20000),
                     1);
    assert_true(fixture_wait_i64(&f,
                                 "SELECT least(count(*), 1) FROM reservations"
                                 " WHERE worker_id = 'wb'",
                                 1, 30000) == 1);
    /* Every case done, the window passes: wb goes off shift. */
    assert_int_equal(fixture_wait_i64(&f,
                                      "SELECT count(*) FROM callups WHERE"
                                      " worker_id = 'wb' AND state ="
                                      " 'released'",
                                      1, 60000),
                     1);
    assert_int_equal(fixture_wait_i64(&f,
                                      "SELECT count(*) FROM workers WHERE"
                                      " id = 'wb' AND presence = 'offline'",
                                      1, 10000),
                     1);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM audit_log WHERE"
                                     " action IN ('callup.invite',"
                                     " 'callup.release') AND party ="
                                     " 'operator:op1'"),
                     2);
    /* The console shows it. */
    j = http_json(console_port(c), "GET", "/api/v1/ops/callups", key, NULL,
                  200);
    {
        json_t *first = json_array_get(json_object_get(j, "callups"), 0);

        assert_string_equal(json_string_value(json_object_get(first, "worker")),
                            "wb");
        assert_string_equal(json_string_value(json_object_get(first, "state")),
                            "released");
        assert_true(json_integer_value(json_object_get(first, "required")) >
                    json_integer_value(json_object_get(first, "online")));
    }
    json_decref(j);
    console_destroy(c);
    agent_sim_stop(sim);
    agent_sim_destroy(sim);
    agent_stats_destroy(stats);
    bus_close(b);
    harness_stop(&rd);
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_queue_grows_and_shrinks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
