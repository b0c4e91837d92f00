/*
 * The operator's actions on the real dispatcher, PostgreSQL and NATS:
 * deactivate and activate, logout, skills, pool, reassign and cancel, each
 * seen where a user sees it (the reply, the worker's notices and offers,
 * the rows, the audit trail), and each refusal changing nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_ops.h"
#include "harness.h"
#include "tl_test.h"

#define NW 5
static const char *const workers[NW] = {"wa", "wb", "wc", "wd", "wx"};

typedef harness_world world;

/* The harness world plus wd (front, like wa and wb) and a second
 * operator op2 with pool other and worker wx. */
static const char ops_sql[] =
    "INSERT INTO workers (id, pool_id, name) VALUES ('wd', 'front', 'D');"
    "INSERT INTO worker_skills VALUES ('wd', 'collections', 2, 0);"
    "INSERT INTO worker_capacity VALUES ('wd', 'voice', 1);"
    "INSERT INTO operators (id, name) VALUES ('op2', 'Operator Two');"
    "INSERT INTO pools (id, operator_id, name) VALUES ('other', 'op2', 'O');"
    "INSERT INTO workers (id, pool_id, name) VALUES ('wx', 'other', 'X');";

enum { WA, WB, WC, WD, WX };

static void world_up(world *w, const char *name)
{
    const harness_world_opts wo = {
        .seed_sql = ops_sql, .workers = workers, .nworkers = NW};

    harness_world_up(w, name, &wo);
}

static json_t *req(world *w, const char *rest, const char *body)
{
    return harness_request(&w->f, w->b, rest, body);
}

static json_t *expect_ok(json_t *r)
{
    if (!json_is_true(json_object_get(r, "ok")))
        fail_msg("expected ok, got %s", json_dumps(r, 0));
    return r;
}

static void expect_code(json_t *r, const char *code)
{
    if (strcmp(harness_error_code(r), code) != 0)
        fail_msg("expected %s, got %s", code, json_dumps(r, 0));
    json_decref(r);
}

static const char *str_of(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s != NULL ? s : "";
}

static json_t *presence(world *w, const char *worker, const char *p)
{
    char rest[128], body[64];

    snprintf(rest, sizeof(rest), "agent.%s.presence", worker);
    snprintf(body, sizeof(body), "{\"presence\":\"%s\"}", p);
    return req(w, rest, body);
}

static void online(world *w, const char *worker)
{
    json_decref(expect_ok(presence(w, worker, "available")));
}

static void submit(world *w, const char *ext)
{
    char body[256];

    snprintf(body, sizeof(body),
             "{\"external_id\":\"%s\",\"case_type\":\"loan\","
             "\"customer\":{\"name\":\"Li Na\"}}",
             ext);
    json_decref(expect_ok(req(w, "api.bank1.case.submit", body)));
}

static int64_t i64_of(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

/* The next notice of worker i of the given type (others skipped). */
static json_t *notice_of(world *w, int i, const char *type)
{
    for (;;) {
        json_t *n = inbox_next(&w->notices[i], 5000);

        if (n == NULL)
            fail_msg("no %s notice for %s", type, workers[i]);
        if (strcmp(str_of(n, "type"), type) == 0)
            return n;
        json_decref(n);
    }
}

static json_t *op(world *w, const char *who, const char *verb, const char *body)
{
    char rest[128];

    snprintf(rest, sizeof(rest), "ops.%s.%s", who, verb);
    return req(w, rest, body);
}

/* Records of action by op1, sent from the suite's identity (the
 * identity is the sender's, from its private inbox). */
static int64_t audits(world *w, const char *action)
{
    char sql[256];

    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM audit_log WHERE action = '%s'"
             " AND party = 'operator:op1' AND identity = 'suite'",
             action);
    return fixture_i64(&w->f, sql);
}

/* A deactivated worker is offline, loses its offer, cannot sign in; once
 * activated it signs in and gets offers again. */
static void test_deactivate_activate(void **state)
{
    world w;
    json_t *offer, *r, *n;

    (void)state;
    world_up(&w, "ops_deact");
    online(&w, "wa");
    submit(&w, "LN-1");
    offer = inbox_next(&w.offers[WA], 5000);
    assert_non_null(offer);
    json_decref(offer);
    r = expect_ok(op(&w, "op1", "worker.deactivate",
                     "{\"worker\":\"wa\",\"reason\":\"left the shift\"}"));
    assert_string_equal(str_of(r, "state"), "deactivated");
    assert_int_equal(i64_of(r, "released"), 1);
    assert_true(json_is_true(json_object_get(r, "changed")));
    json_decref(r);
    n = notice_of(&w, WA, "rescinded");
    assert_string_equal(str_of(n, "reason"), "deactivated");
    json_decref(n);
    n = notice_of(&w, WA, "signed_out");
    assert_string_equal(str_of(n, "note"), "left the shift");
    json_decref(n);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM workers"
                                       " WHERE id = 'wa' AND NOT active"
                                       " AND presence = 'offline'"),
                     1);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM tasks"
                                       " WHERE state = 'pending'"),
                     1);
    /* Signing in is refused with its own code; going offline is fine. */
    expect_code(presence(&w, "wa", "available"), "deactivated");
    json_decref(expect_ok(presence(&w, "wa", "offline")));
    /* A repeat changes nothing and records nothing more. */
    r = expect_ok(op(&w, "op1", "worker.deactivate",
                     "{\"worker\":\"wa\",\"reason\":\"again\"}"));
    assert_false(json_is_true(json_object_get(r, "changed")));
    json_decref(r);
    assert_int_equal(audits(&w, "worker.deactivate"), 1);
    r = expect_ok(op(&w, "op1", "worker.activate",
                     "{\"worker\":\"wa\",\"reason\":\"back\"}"));
    assert_string_equal(str_of(r, "state"), "offline");
    json_decref(r);
    assert_int_equal(audits(&w, "worker.activate"), 1);
    online(&w, "wa");
    offer = inbox_next(&w.offers[WA], 5000);
    assert_non_null(offer);
    json_decref(offer);
    harness_world_down(&w);
}

/* A forced logout takes an accepted task back to the queue, where
 * another worker gets it; the worker may sign in again. */
static void test_logout(void **state)
{
    world w;
    json_t *offer, *r, *n;
    char body[128];

    (void)state;
    world_up(&w, "ops_logout");
    online(&w, "wa");
    submit(&w, "LN-1");
    offer = inbox_next(&w.offers[WA], 5000);
    assert_non_null(offer);
    snprintf(body, sizeof(body), "{\"reservation_id\":%lld,\"epoch\":%lld}",
             (long long)i64_of(offer, "reservation_id"),
             (long long)i64_of(offer, "epoch"));
    json_decref(expect_ok(req(&w, "agent.wa.accept", body)));
    r = expect_ok(op(&w, "op1", "worker.logout",
                     "{\"worker\":\"wa\",\"reason\":\"stuck agent\"}"));
    assert_string_equal(str_of(r, "state"), "offline");
    assert_int_equal(i64_of(r, "released"), 1);
    json_decref(r);
    n = notice_of(&w, WA, "rescinded");
    assert_string_equal(str_of(n, "reason"), "logged_out");
    json_decref(n);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM reservations"
                                       " WHERE state = 'rescinded'"),
                     1);
    /* The old reservation's completion is stale now. */
    snprintf(body, sizeof(body),
             "{\"reservation_id\":%lld,\"epoch\":%lld,\"outcome\":"
             "{\"code\":\"dispute\"}}",
             (long long)i64_of(offer, "reservation_id"),
             (long long)i64_of(offer, "epoch"));
    json_decref(offer);
    r = req(&w, "agent.wa.complete", body);
    assert_false(json_is_true(json_object_get(r, "ok")));
    json_decref(r);
    online(&w, "wb");
    offer = inbox_next(&w.offers[WB], 5000);
    assert_non_null(offer);
    json_decref(offer);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM workers"
                                       " WHERE id = 'wa' AND active"
                                       " AND presence = 'offline'"),
                     1);
    online(&w, "wa");
    assert_int_equal(audits(&w, "worker.logout"), 1);
    harness_world_down(&w);
}

/* New skills take effect in routing at once: wc (collections 1) cannot
 * take a loan's contact step (2) until it is given level 3. */
static void test_skills_and_pool(void **state)
{
    world w;
    json_t *offer, *r;

    (void)state;
    world_up(&w, "ops_skills");
    online(&w, "wc");
    submit(&w, "LN-1");
    assert_null(inbox_next(&w.offers[WC], 500));
    r = expect_ok(op(&w, "op1", "worker.skills",
                     "{\"worker\":\"wc\",\"skills\":{\"collections\":"
                     "{\"level\":3},\"legal\":{\"level\":4,\"ai_level\":5}},"
                     "\"reason\":\"passed the course\"}"));
    json_decref(r);
    offer = inbox_next(&w.offers[WC], 5000);
    assert_non_null(offer);
    json_decref(offer);
    assert_int_equal(fixture_i64(&w.f, "SELECT level FROM worker_skills"
                                       " WHERE worker_id = 'wc' AND skill ="
                                       " 'collections'"),
                     3);
    assert_int_equal(fixture_i64(&w.f, "SELECT ai_level FROM worker_skills"
                                       " WHERE worker_id = 'wc' AND skill ="
                                       " 'legal'"),
                     5);
    r = expect_ok(op(&w, "op1", "worker.pool",
                     "{\"worker\":\"wc\",\"pool\":\"front\","
                     "\"reason\":\"more calls there\"}"));
    assert_string_equal(str_of(r, "pool"), "front");
    json_decref(r);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM workers"
                                       " WHERE id = 'wc' AND pool_id ="
                                       " 'front'"),
                     1);
    assert_int_equal(audits(&w, "worker.skills"), 1);
    assert_int_equal(audits(&w, "worker.pool"), 1);
    harness_world_down(&w);
}

/* Another operator's worker, an unknown one, bad input: refused with
 * their codes, and nothing changed. */
static void test_worker_refusals(void **state)
{
    world w;

    (void)state;
    world_up(&w, "ops_refuse");
    online(&w, "wa");
    expect_code(op(&w, "op1", "worker.deactivate",
                   "{\"worker\":\"wx\",\"reason\":\"not mine\"}"),
                "not_yours");
    expect_code(op(&w, "op2", "worker.logout",
                   "{\"worker\":\"wa\",\"reason\":\"not mine\"}"),
                "not_yours");
    expect_code(op(&w, "op1", "worker.deactivate",
                   "{\"worker\":\"nobody\",\"reason\":\"who\"}"),
                "not_found");
    expect_code(op(&w, "op1", "worker.deactivate", "{\"worker\":\"wa\"}"),
                "missing_field");
    expect_code(op(&w, "op1", "worker.deactivate",
                   "{\"worker\":\"wa\",\"reason\":\"\"}"),
                "invalid_value");
    expect_code(op(&w, "op1", "worker.logout",
                   "{\"worker\":\"wa\",\"reason\":\"x\",\"force\":true}"),
                "unknown_field");
    expect_code(op(&w, "op1", "worker.pool",
                   "{\"worker\":\"wa\",\"pool\":\"other\",\"reason\":\"x\"}"),
                "not_yours");
    expect_code(op(&w, "op1", "worker.pool",
                   "{\"worker\":\"wa\",\"pool\":\"nowhere\",\"reason\":\"x\"}"),
                "not_found");
    expect_code(op(&w, "op1", "worker.skills",
                   "{\"worker\":\"wa\",\"skills\":{\"collections\":"
                   "{\"level\":9}},\"reason\":\"x\"}"),
                "invalid_value");
    expect_code(op(&w, "op1", "worker.skills",
                   "{\"worker\":\"wa\",\"skills\":{\"collections\":"
                   "{\"level\":\"high\"}},\"reason\":\"x\"}"),
                "wrong_type");
    expect_code(
        op(&w, "op1", "worker.fire", "{\"worker\":\"wa\",\"reason\":\"x\"}"),
        "not_found");
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM workers"
                                       " WHERE active AND (id <> 'wa' OR"
                                       " presence = 'available')"),
                     5);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM workers"
                                       " WHERE id = 'wa' AND pool_id ="
                                       " 'front'"),
                     1);
    assert_int_equal(fixture_i64(&w.f, "SELECT level FROM worker_skills"
                                       " WHERE worker_id = 'wa' AND skill ="
                                       " 'collections'"),
                     2);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM audit_log"
                                       " WHERE action LIKE 'worker.%'"),
                     0);
    harness_world_down(&w);
}

/* Reassign takes an offered task from its worker to another, also a
 * named one; a worker that cannot take it is refused. */
static void test_reassign(void **state)
{
    world w;
    json_t *offer, *r, *n;
    int64_t task;
    char body[160];
    int first = -1, second = -1;

    (void)state;
    world_up(&w, "ops_reassign");
    online(&w, "wa");
    online(&w, "wb");
    online(&w, "wd");
    online(&w, "wc");
    submit(&w, "LN-1");
    task = fixture_i64(&w.f, "SELECT id FROM tasks WHERE step = 'contact'");
    for (int i = WA; i <= WD && first < 0; i++) {
        offer = inbox_next(&w.offers[i], i == WA ? 3000 : 500);
        if (offer != NULL)
            first = i;
        json_decref(offer);
    }
    assert_true(first >= 0);
    /* wc lacks the skill: refused, the offer stays where it is. */
    snprintf(body, sizeof(body),
             "{\"task_id\":%lld,\"worker\":\"wc\",\"reason\":\"try\"}",
             (long long)task);
    expect_code(op(&w, "op1", "task.reassign", body), "invalid_value");
    snprintf(body, sizeof(body),
             "{\"task_id\":%lld,\"worker\":\"%s\",\"reason\":\"try\"}",
             (long long)task, workers[first]);
    expect_code(op(&w, "op1", "task.reassign", body), "invalid_value");
    snprintf(body, sizeof(body),
             "{\"task_id\":%lld,\"worker\":\"wx\",\"reason\":\"try\"}",
             (long long)task);
    expect_code(op(&w, "op1", "task.reassign", body), "not_yours");
    snprintf(body, sizeof(body), "{\"task_id\":%lld,\"reason\":\"try\"}",
             (long long)task);
    expect_code(op(&w, "op2", "task.reassign", body), "not_yours");
    expect_code(op(&w, "op1", "task.reassign",
                   "{\"task_id\":999999,\"reason\":\"try\"}"),
                "not_found");
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM reservations"
                                       " WHERE state = 'pending'"),
                     1);
    /* To a named worker: the one that got nothing yet and is not next
     * in line by name. */
    second = first == WD ? WA : WD;
    snprintf(body, sizeof(body),
             "{\"task_id\":%lld,\"worker\":\"%s\",\"reason\":\"speaks "
             "the customer's language\"}",
             (long long)task, workers[second]);
    r = expect_ok(op(&w, "op1", "task.reassign", body));
    assert_string_equal(str_of(r, "offered_to"), workers[second]);
    assert_int_equal(i64_of(r, "released"), 1);
    json_decref(r);
    n = notice_of(&w, first, "rescinded");
    assert_string_equal(str_of(n, "reason"), "reassigned");
    json_decref(n);
    offer = inbox_next(&w.offers[second], 5000);
    assert_non_null(offer);
    assert_int_equal(i64_of(offer, "task_id"), task);
    json_decref(offer);
    /* Without a name: back to the queue and to someone else. */
    snprintf(body, sizeof(body), "{\"task_id\":%lld,\"reason\":\"slow\"}",
             (long long)task);
    json_decref(expect_ok(op(&w, "op1", "task.reassign", body)));
    n = notice_of(&w, second, "rescinded");
    json_decref(n);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM reservations"
                                       " WHERE state = 'canceled'"),
                     2);
    assert_int_equal(audits(&w, "task.reassign"), 2);
    harness_world_down(&w);
}

/* Cancel: the offer withdrawn, the task and its case canceled with the
 * reason, the bank told, nothing billed; a second cancel is refused. */
static void test_cancel(void **state)
{
    world w;
    json_t *offer, *r, *n;
    int64_t task;
    char body[160], reason[128];

    (void)state;
    world_up(&w, "ops_cancel");
    online(&w, "wa");
    submit(&w, "LN-1");
    offer = inbox_next(&w.offers[WA], 5000);
    assert_non_null(offer);
    json_decref(offer);
    task = fixture_i64(&w.f, "SELECT id FROM tasks WHERE step = 'contact'");
    snprintf(body, sizeof(body), "{\"task_id\":%lld,\"reason\":\"x\"}",
             (long long)task);
    expect_code(op(&w, "op2", "task.cancel", body), "not_yours");
    snprintf(body, sizeof(body),
             "{\"task_id\":%lld,\"reason\":\"customer paid at the "
             "branch\"}",
             (long long)task);
    r = expect_ok(op(&w, "op1", "task.cancel", body));
    assert_string_equal(str_of(r, "state"), "canceled");
    json_decref(r);
    n = notice_of(&w, WA, "rescinded");
    assert_string_equal(str_of(n, "reason"), "canceled");
    json_decref(n);
    fixture_str(&w.f, "SELECT cancel_reason FROM tasks WHERE step = 'contact'",
                reason, sizeof(reason));
    assert_string_equal(reason, "customer paid at the branch");
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM cases"
                                       " WHERE state = 'canceled'"),
                     1);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM outcomes"), 0);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM outbox WHERE"
                                       " payload->>'type' = 'case.canceled'"),
                     1);
    expect_code(op(&w, "op1", "task.cancel", body), "invalid_value");
    assert_int_equal(audits(&w, "task.cancel"), 1);
    harness_world_down(&w);
}

static int run(world *w, char **argv)
{
    int argc = 0;

    while (argv[argc] != NULL)
        argc++;
    return argv[0][0] == 't' ? cmd_task(argc, argv, &w->f.cfg)
                             : cmd_ops_worker(argc, argv, &w->f.cfg);
}

/* The command line sends the same requests: done is 0, a refusal 1, a
 * usage error 2 (and nothing sent). */
static void test_cli(void **state)
{
    world w;
    json_t *offer;
    int64_t task;
    char tbuf[24];

    (void)state;
    world_up(&w, "ops_cli");
    {
        char *deact[] = {"worker",   "deactivate", "wb",
                         "--reason", "sick",       NULL};
        char *noreason[] = {"worker", "logout", "wa", NULL};
        char *theirs[] = {"worker", "logout",   "wx", "--operator",
                          "op1",    "--reason", "x",  NULL};
        char *act[] = {"worker", "activate", "wb", "--reason", "well", NULL};

        assert_int_equal(run(&w, deact), 0);
        assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM workers"
                                           " WHERE id = 'wb' AND NOT active"),
                         1);
        assert_int_equal(run(&w, noreason), 2);
        assert_int_equal(run(&w, theirs), 1);
        assert_int_equal(run(&w, act), 0);
        assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM workers"
                                           " WHERE NOT active"),
                         0);
    }
    online(&w, "wa");
    submit(&w, "LN-1");
    offer = inbox_next(&w.offers[WA], 5000);
    assert_non_null(offer);
    json_decref(offer);
    task = fixture_i64(&w.f, "SELECT id FROM tasks WHERE step = 'contact'");
    snprintf(tbuf, sizeof(tbuf), "%lld", (long long)task);
    {
        /* Two operators: a task command must say which. */
        char *which[] = {"task", "cancel", tbuf, "--reason", "dup", NULL};
        char *cancel[] = {"task", "cancel",   tbuf,  "--operator",
                          "op1",  "--reason", "dup", NULL};

        assert_int_equal(run(&w, which), 1);
        assert_int_equal(run(&w, cancel), 0);
    }
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM tasks WHERE"
                                       " state = 'canceled' AND"
                                       " cancel_reason = 'dup'"),
                     1);
    assert_int_equal(audits(&w, "worker.deactivate"), 1);
    assert_int_equal(audits(&w, "task.cancel"), 1);
    harness_world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deactivate_activate),
        cmocka_unit_test(test_logout),
        cmocka_unit_test(test_skills_and_pool),
        cmocka_unit_test(test_worker_refusals),
        cmocka_unit_test(test_reassign),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
