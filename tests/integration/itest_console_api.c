/*
 * twinline-console's HTTP API against the real dispatcher, PostgreSQL and
 * NATS: every endpoint, its errors and the refusals of keys that are
 * missing, wrong, revoked, of the wrong kind or of another operator or
 * bank; the banks' requests go through to the dispatcher and back; the
 * live stream sends figures; webhooks arrive signed, are retried and are
 * queued once; alerts open, are published and queued for the operator's
 * webhook; the key commands print and refuse what they should.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "console.h"
#include "console_alerts.h"
#include "console_cli.h"
#include "console_client.h"
#include "console_hooks.h"
#include "console_http.h"
#include "console_keys.h"
#include "fixture.h"
#include "harness.h"
#include "tl_test.h"

typedef struct world {
    fixture f;
    running_dispatcher rd;
    console *c;
    int port;
    char op_key[CONSOLE_KEY_MAX];
    char rival_key[CONSOLE_KEY_MAX];
    char bank_key[CONSOLE_KEY_MAX];
    char insurer_key[CONSOLE_KEY_MAX];
} world;

static world w;

static int setup(void **state)
{
    dispatcher_opts d;
    console_opts o;
    err e = {0};

    (void)state;
    fixture_setup(&w.f, "console_api");
    harness_load_examples(&w.f);
    fixture_exec(&w.f, "INSERT INTO operators (id, name) VALUES ('rival',"
                       " 'Rival BPO'); INSERT INTO pools (id, operator_id,"
                       " name) VALUES ('rpool', 'rival', 'Rival pool');"
                       " INSERT INTO workers (id, pool_id, name) VALUES"
                       " ('r001', 'rpool', 'R')");
    assert_int_equal(console_keys_create(w.f.db, CONSOLE_KEY_OPERATOR,
                                         "acme_bpo", "ops", w.op_key, &e),
                     ST_OK);
    assert_int_equal(console_keys_create(w.f.db, CONSOLE_KEY_OPERATOR, "rival",
                                         "rival", w.rival_key, &e),
                     ST_OK);
    assert_int_equal(console_keys_create(w.f.db, CONSOLE_KEY_TENANT, "jsbank",
                                         "crm", w.bank_key, &e),
                     ST_OK);
    assert_int_equal(console_keys_create(w.f.db, CONSOLE_KEY_TENANT, "hzinsure",
                                         "crm", w.insurer_key, &e),
                     ST_OK);
    dispatcher_opts_default(&d);
    d.stats_ms = 300;
    harness_start(&w.rd, &w.f, &d);
    console_opts_default(&o);
    o.port = 0;
    o.background = false;
    o.sample_ms = 300;
    assert_int_equal(console_create(&w.c, &w.f.cfg, &o, &e), ST_OK);
    w.port = console_port(w.c);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    console_destroy(w.c);
    harness_stop(&w.rd);
    fixture_teardown(&w.f);
    return 0;
}

/* Submit a loan case as jsbank; the case id. */
static int64_t submit(const char *ext, long want)
{
    char body[384];
    json_t *j;
    int64_t id;

    snprintf(body, sizeof(body),
             "{\"external_id\": \"%s\", \"case_type\": \"loan_overdue\","
             " \"priority\": 3, \"customer\": {\"name\": \"Wang\","
             " \"phone\": \"+86 139 0000 1111\"},"
             " \"payload\": {\"loan_id\": \"L-1\", \"product\": \"car_loan\","
             " \"days_past_due\": 35, \"overdue_minor\": 120000}}",
             ext);
    j = http_json(w.port, "POST", "/api/v1/cases", w.bank_key, body, want);
    assert_true(json_is_true(json_object_get(j, "ok")));
    id = json_integer_value(json_object_get(json_object_get(j, "case"), "id"));
    assert_true(id > 0);
    json_decref(j);
    return id;
}

static void test_pages_and_routes(void **state)
{
    http_result r;

    (void)state;
    http_call(w.port, "GET", "/", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.ctype, "text/html; charset=utf-8");
    assert_non_null(strstr(r.body, "Twinline"));
    http_result_free(&r);
    http_call(w.port, "GET", "/app.js", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    http_result_free(&r);
    http_expect_error(w.port, "GET", "/api/v1/nothing", w.op_key, NULL, 404,
                      "not_found");
    http_expect_error(w.port, "DELETE", "/api/v1/ops/pools", w.op_key, NULL,
                      405, "method_not_allowed");
    http_expect_error(w.port, "GET", "/api/v1/ops/workers/bad%20id", w.op_key,
                      NULL, 400, "invalid_value");
}

static void test_auth_refusals(void **state)
{
    char wrong[CONSOLE_KEY_MAX], revoked[CONSOLE_KEY_MAX], id[17];
    json_t *j;
    err e = {0};

    (void)state;
    http_expect_error(w.port, "GET", "/api/v1/ops/pools", NULL, NULL, 401,
                      "unauthorized");
    http_expect_error(w.port, "GET", "/api/v1/ops/pools", "junk", NULL, 401,
                      "unauthorized");
    /* The right id with another secret. */
    snprintf(wrong, sizeof(wrong), "%s", w.op_key);
    wrong[strlen(wrong) - 1] = wrong[strlen(wrong) - 1] == 'A' ? 'B' : 'A';
    http_expect_error(w.port, "GET", "/api/v1/ops/pools", wrong, NULL, 401,
                      "unauthorized");
    assert_int_equal(console_keys_create(w.f.db, CONSOLE_KEY_OPERATOR,
                                         "acme_bpo", "old", revoked, &e),
                     ST_OK);
    j = http_json(w.port, "GET", "/api/v1/whoami", revoked, NULL, 200);
    snprintf(id, sizeof(id), "%s",
             json_string_value(json_object_get(j, "key")));
    assert_string_equal(json_string_value(json_object_get(j, "owner")),
                        "acme_bpo");
    json_decref(j);
    assert_int_equal(console_keys_revoke(w.f.db, id, &e), ST_OK);
    http_expect_error(w.port, "GET", "/api/v1/ops/pools", revoked, NULL, 401,
                      "unauthorized");
    assert_int_equal(console_keys_revoke(w.f.db, id, &e), ST_NOT_FOUND);
    /* Each kind of key stays on its side. */
    http_expect_error(w.port, "GET", "/api/v1/ops/pools", w.bank_key, NULL, 403,
                      "forbidden");
    http_expect_error(w.port, "POST", "/api/v1/cases", w.op_key, "{}", 403,
                      "forbidden");
    j = http_json(w.port, "GET", "/api/v1/whoami", w.bank_key, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(j, "kind")),
                        "tenant");
    json_decref(j);
    /* The hash is stored, never the key. */
    {
        char sql[256];

        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM console_keys WHERE position('%.20s' IN"
                 " encode(hash, 'escape')) > 0",
                 w.op_key + 21);
        assert_int_equal(fixture_i64(&w.f, sql), 0);
    }
}

static void test_bank_api(void **state)
{
    int64_t id, before;
    char path[128], big[70000];
    json_t *j;

    (void)state;
    id = submit("HTTP-1", 201);
    /* Again: the stored case, nothing created. */
    j = http_json(w.port, "POST", "/api/v1/cases", w.bank_key,
                  "{\"external_id\": \"HTTP-1\", \"case_type\":"
                  " \"loan_overdue\"}",
                  200);
    assert_false(json_is_true(json_object_get(j, "created")));
    json_decref(j);
    snprintf(path, sizeof(path), "/api/v1/cases/%lld", (long long)id);
    j = http_json(w.port, "GET", path, w.bank_key, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(j, "case"), "external_id")),
                        "HTTP-1");
    assert_true(
        json_is_array(json_object_get(json_object_get(j, "case"), "tasks")));
    json_decref(j);
    j = http_json(w.port, "GET", "/api/v1/cases?external_id=HTTP-1", w.bank_key,
                  NULL, 200);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "case"), "id")),
        id);
    json_decref(j);
    /* Another bank does not see it. */
    http_expect_error(w.port, "GET", path, w.insurer_key, NULL, 404,
                      "not_found");

    before = fixture_i64(&w.f, "SELECT count(*) FROM cases");
    http_expect_error(w.port, "POST", "/api/v1/cases", w.bank_key,
                      "{\"external_id\": \"X-1\", \"case_type\": \"mortgage\"}",
                      422, "unknown_case_type");
    http_expect_error(w.port, "POST", "/api/v1/cases", w.bank_key,
                      "{\"external_id\": ", 400, "bad_json");
    http_expect_error(w.port, "POST", "/api/v1/cases", w.bank_key,
                      "{\"external_id\": \"X-2\", \"case_type\":"
                      " \"loan_overdue\", \"amount\": 1}",
                      400, "unknown_field");
    http_expect_error(w.port, "POST", "/api/v1/cases", w.bank_key,
                      "{\"external_id\": 7, \"case_type\": \"loan_overdue\"}",
                      400, "wrong_type");
    http_expect_error(w.port, "POST", "/api/v1/cases?x=1", w.bank_key,
                      "{\"external_id\": \"X-3\", \"case_type\":"
                      " \"loan_overdue\"}",
                      400, "unknown_field");
    memset(big, ' ', sizeof(big) - 1);
    big[0] = '{';
    big[sizeof(big) - 2] = '}';
    big[sizeof(big) - 1] = '\0';
    http_expect_error(w.port, "POST", "/api/v1/cases", w.bank_key, big, 413,
                      "too_large");
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM cases"), before);
    http_expect_error(w.port, "GET", "/api/v1/cases", w.bank_key, NULL, 400,
                      "missing_field");
    http_expect_error(w.port, "GET", "/api/v1/cases/abc", w.bank_key, NULL, 400,
                      "invalid_value");

    /* Disputes of the case in the path. */
    snprintf(path, sizeof(path), "/api/v1/cases/%lld/reopen", (long long)id);
    j = http_json(w.port, "POST", path, w.bank_key,
                  "{\"reason\": \"customer says not repaid\","
                  " \"request_id\": \"crm-1\"}",
                  201);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(j, "reopen"), "kind")),
                        "reopen");
    json_decref(j);
    j = http_json(w.port, "POST", path, w.bank_key,
                  "{\"reason\": \"customer says not repaid\","
                  " \"request_id\": \"crm-1\"}",
                  200);
    assert_false(json_is_true(json_object_get(j, "created")));
    json_decref(j);
    http_expect_error(w.port, "POST", path, w.bank_key,
                      "{\"reason\": \"x\", \"case_id\": 1}", 400,
                      "unknown_field");
    http_expect_error(w.port, "POST", path, w.bank_key, "{}", 400,
                      "missing_field");
    http_expect_error(w.port, "POST", path, w.insurer_key,
                      "{\"reason\": \"not mine\"}", 404, "not_found");
    snprintf(path, sizeof(path), "/api/v1/cases/%lld/complaint", (long long)id);
    j = http_json(w.port, "POST", path, w.bank_key,
                  "{\"reason\": \"rude agent\"}", 201);
    json_decref(j);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM case_disputes"),
                     2);
}

/* GET path as the operator, expecting 200 and the array or object
 * under name. */
static json_t *ops_get(const char *key, const char *path, const char *name)
{
    json_t *j = http_json(w.port, "GET", path, key, NULL, 200);
    json_t *v = json_incref(json_object_get(j, name));

    assert_non_null(v);
    json_decref(j);
    return v;
}

static void test_operator_reads(void **state)
{
    int64_t id;
    char path[128];
    json_t *v;
    size_t i;
    json_t *x;

    (void)state;
    id = submit("HTTP-2", 201);
    v = ops_get(w.op_key, "/api/v1/ops/pools", "pools");
    assert_int_equal(json_array_size(v), 2);
    json_array_foreach(v, i, x)
    {
        assert_string_not_equal(json_string_value(json_object_get(x, "id")),
                                "rpool");
    }
    json_decref(v);
    v = ops_get(w.rival_key, "/api/v1/ops/pools", "pools");
    assert_int_equal(json_array_size(v), 1);
    json_decref(v);
    v = ops_get(w.op_key, "/api/v1/ops/workers?pool=frontline", "workers");
    assert_true(json_array_size(v) > 10);
    json_array_foreach(v, i, x)
    {
        assert_string_equal(json_string_value(json_object_get(x, "pool")),
                            "frontline");
        assert_non_null(json_object_get(x, "state"));
    }
    json_decref(v);
    v = ops_get(w.op_key, "/api/v1/ops/workers/w001", "worker");
    assert_non_null(
        json_object_get(json_object_get(v, "skills"), "collections"));
    json_decref(v);
    http_expect_error(w.port, "GET", "/api/v1/ops/workers/r001", w.op_key, NULL,
                      404, "not_found");
    http_expect_error(w.port, "GET", "/api/v1/ops/workers/w001", w.rival_key,
                      NULL, 404, "not_found");
    v = ops_get(w.op_key, "/api/v1/ops/skills", "skills");
    assert_true(json_array_size(v) > 0);
    json_decref(v);
    v = ops_get(w.op_key, "/api/v1/ops/presence", "presence");
    assert_int_equal(json_array_size(v), 2);
    json_decref(v);
    v = ops_get(w.op_key, "/api/v1/ops/tasks", "tasks");
    assert_true(json_array_size(v) >= 1);
    json_decref(v);
    v = ops_get(w.rival_key, "/api/v1/ops/tasks", "tasks");
    assert_int_equal(json_array_size(v), 0);
    json_decref(v);
    snprintf(path, sizeof(path), "/api/v1/ops/cases/%lld", (long long)id);
    v = ops_get(w.op_key, path, "case");
    assert_string_equal(json_string_value(json_object_get(v, "external_id")),
                        "HTTP-2");
    /* The customer's personal data is not an operator's to read. */
    assert_null(json_object_get(v, "customer"));
    assert_true(json_array_size(json_object_get(v, "tasks")) >= 1);
    json_decref(v);
    http_expect_error(w.port, "GET", path, w.rival_key, NULL, 404, "not_found");
    v = ops_get(w.op_key, "/api/v1/ops/queues", "queues");
    assert_true(json_is_array(v));
    json_decref(v);
    v = ops_get(w.op_key, "/api/v1/ops/fairness", "fairness");
    assert_non_null(json_object_get(v, "workers"));
    json_decref(v);
    v = ops_get(w.op_key, "/api/v1/ops/ai-review?month=2026-01", "ai_review");
    assert_int_equal(json_integer_value(json_object_get(v, "outcomes")), 0);
    json_decref(v);
    v = ops_get(w.op_key, "/api/v1/ops/billing", "billing");
    assert_true(json_is_array(v));
    json_decref(v);
    v = ops_get(w.op_key, "/api/v1/ops/invoices", "invoices");
    assert_true(json_is_array(v));
    json_decref(v);
    v = ops_get(w.op_key, "/api/v1/ops/statement?month=2026-12", "statement");
    assert_true(json_is_array(v));
    json_decref(v);
    v = ops_get(w.op_key, "/api/v1/ops/intervals?from=2026-01-01", "intervals");
    assert_true(json_is_array(v));
    json_decref(v);
    v = ops_get(w.op_key, "/api/v1/ops/alerts", "alerts");
    assert_true(json_is_array(v));
    json_decref(v);
    v = ops_get(w.op_key, "/api/v1/ops/audit", "audit");
    assert_true(json_is_array(v));
    json_decref(v);

    http_expect_error(w.port, "GET", "/api/v1/ops/statement?month=2026-13",
                      w.op_key, NULL, 400, "invalid_value");
    http_expect_error(w.port, "GET", "/api/v1/ops/tasks?limit=0", w.op_key,
                      NULL, 400, "invalid_value");
    http_expect_error(w.port, "GET", "/api/v1/ops/tasks?state=lost", w.op_key,
                      NULL, 400, "invalid_value");
    http_expect_error(w.port, "GET", "/api/v1/ops/tasks?color=red", w.op_key,
                      NULL, 400, "unknown_field");
    http_expect_error(w.port, "GET", "/api/v1/ops/intervals?from=yesterday",
                      w.op_key, NULL, 400, "invalid_value");
    http_expect_error(w.port, "GET", "/api/v1/ops/intervals?format=xml",
                      w.op_key, NULL, 400, "invalid_value");
    http_expect_error(w.port, "GET", "/api/v1/ops/forecast", w.op_key, NULL,
                      400, "missing_field");
    http_expect_error(w.port, "GET",
                      "/api/v1/ops/forecast?pool=rpool&skill=collections"
                      "&channel=voice",
                      w.op_key, NULL, 404, "not_found");
    http_expect_error(w.port, "GET",
                      "/api/v1/ops/forecast?pool=frontline&skill=collections"
                      "&channel=fax",
                      w.op_key, NULL, 400, "invalid_value");
    /* No history yet for the queue. */
    http_expect_error(w.port, "GET",
                      "/api/v1/ops/forecast?pool=frontline&skill=collections"
                      "&channel=voice",
                      w.op_key, NULL, 404, "not_found");
}

static void test_operator_actions(void **state)
{
    int64_t cid, tid;
    char path[160], sql[256];
    json_t *j;

    (void)state;
    cid = submit("HTTP-3", 201);
    snprintf(sql, sizeof(sql), "SELECT min(id) FROM tasks WHERE case_id = %lld",
             (long long)cid);
    tid = fixture_i64(&w.f, sql);
    snprintf(path, sizeof(path), "/api/v1/ops/tasks/%lld/priority",
             (long long)tid);
    j = http_json(w.port, "POST", path, w.op_key,
                  "{\"priority\": 9, \"reason\": \"bank asked to hurry\"}",
                  200);
    assert_int_equal(json_integer_value(json_object_get(j, "priority")), 9);
    json_decref(j);
    snprintf(sql, sizeof(sql), "SELECT priority FROM tasks WHERE id = %lld",
             (long long)tid);
    assert_int_equal(fixture_i64(&w.f, sql), 9);
    assert_int_equal(
        fixture_i64(&w.f, "SELECT count(*) FROM console_audit WHERE action ="
                          " 'task.priority' AND reason = 'bank asked to hurry'"
                          " AND operator_id = 'acme_bpo'"
                          " AND reply->>'ok' = 'true'"),
        1);
    /* The dispatcher's own check, passed on with its code; audited too. */
    http_expect_error(w.port, "POST", path, w.op_key,
                      "{\"priority\": 500, \"reason\": \"too much\"}", 400,
                      "invalid_value");
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM console_audit"
                                       " WHERE reason = 'too much'"),
                     1);
    http_expect_error(w.port, "POST", path, w.op_key, "{\"priority\": 1}", 400,
                      "missing_field");
    http_expect_error(w.port, "POST", path, w.op_key,
                      "{\"priority\": 1, \"reason\": \"\"}", 400,
                      "invalid_value");
    http_expect_error(w.port, "POST", path, w.rival_key,
                      "{\"priority\": 1, \"reason\": \"mine now\"}", 404,
                      "not_found");
    http_expect_error(w.port, "POST", "/api/v1/ops/tasks/99999999/priority",
                      w.op_key, "{\"priority\": 1, \"reason\": \"x\"}", 404,
                      "not_found");
    assert_int_equal(fixture_i64(&w.f, sql), 9);
    /* The worker actions, forwarded and audited; the dispatcher's codes
     * come back with their HTTP status. */
    j = http_json(w.port, "POST", "/api/v1/ops/workers/w001/deactivate",
                  w.op_key, "{\"reason\": \"on leave\"}", 200);
    assert_string_equal(json_string_value(json_object_get(j, "state")),
                        "deactivated");
    json_decref(j);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM workers WHERE"
                                       " id = 'w001' AND NOT active"),
                     1);
    assert_int_equal(
        fixture_i64(&w.f, "SELECT count(*) FROM console_audit WHERE action ="
                          " 'worker.deactivate' AND reason = 'on leave'"
                          " AND reply->>'ok' = 'true'"),
        1);
    j = http_json(w.port, "POST", "/api/v1/ops/workers/w001/activate", w.op_key,
                  "{\"reason\": \"back\"}", 200);
    json_decref(j);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM workers WHERE"
                                       " id = 'w001' AND active"),
                     1);
    http_expect_error(w.port, "POST", "/api/v1/ops/workers/r001/logout",
                      w.op_key, "{\"reason\": \"x\"}", 403, "not_yours");
    http_expect_error(w.port, "POST", "/api/v1/ops/workers/w001/logout",
                      w.rival_key, "{\"reason\": \"x\"}", 403, "not_yours");
    http_expect_error(w.port, "POST", "/api/v1/ops/workers/nobody/logout",
                      w.op_key, "{\"reason\": \"x\"}", 404, "not_found");
    http_expect_error(w.port, "POST", "/api/v1/ops/workers/w001/logout",
                      w.op_key, "{}", 400, "missing_field");
    http_expect_error(w.port, "PUT", "/api/v1/ops/workers/w001/pool", w.op_key,
                      "{\"pool\": \"rpool\", \"reason\": \"x\"}", 403,
                      "not_yours");
    http_expect_error(w.port, "PUT", "/api/v1/ops/workers/w001/skills",
                      w.op_key,
                      "{\"skills\": {\"collections\": {\"level\": 7}},"
                      " \"reason\": \"x\"}",
                      400, "invalid_value");
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM workers WHERE"
                                       " id = 'w001' AND pool_id <> 'rpool'"),
                     1);
    snprintf(path, sizeof(path), "/api/v1/ops/tasks/%lld/cancel",
             (long long)tid);
    http_expect_error(w.port, "POST", path, w.rival_key, "{\"reason\": \"x\"}",
                      403, "not_yours");
    j = http_json(w.port, "POST", path, w.op_key,
                  "{\"reason\": \"duplicate of another case\"}", 200);
    assert_string_equal(json_string_value(json_object_get(j, "state")),
                        "canceled");
    json_decref(j);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM cases WHERE id = %lld AND state ="
             " 'canceled'",
             (long long)cid);
    assert_int_equal(fixture_i64(&w.f, sql), 1);
    snprintf(path, sizeof(path), "/api/v1/ops/tasks/%lld/reassign",
             (long long)tid);
    http_expect_error(w.port, "POST", path, w.op_key, "{\"reason\": \"x\"}",
                      400, "invalid_value");

    j = http_json(w.port, "PUT", "/api/v1/ops/pools/frontline/settings",
                  w.op_key, "{\"threshold_s\": 30, \"model\": \"erlang_a\"}",
                  200);
    json_decref(j);
    assert_int_equal(fixture_i64(&w.f, "SELECT threshold_s FROM"
                                       " console_pool_settings WHERE pool_id"
                                       " = 'frontline' AND model = 'erlang_a'"),
                     30);
    http_expect_error(w.port, "PUT", "/api/v1/ops/pools/frontline/settings",
                      w.op_key, "{\"model\": \"guess\"}", 400, "invalid_value");
    http_expect_error(w.port, "PUT", "/api/v1/ops/pools/frontline/settings",
                      w.op_key, "{\"threshold_s\": 0}", 400, "invalid_value");
    http_expect_error(w.port, "PUT", "/api/v1/ops/pools/frontline/settings",
                      w.op_key, "{\"threshold\": 10}", 400, "unknown_field");
    http_expect_error(w.port, "PUT", "/api/v1/ops/pools/frontline/settings",
                      w.rival_key, "{\"threshold_s\": 10}", 404, "not_found");
    assert_int_equal(fixture_i64(&w.f, "SELECT threshold_s FROM"
                                       " console_pool_settings WHERE pool_id"
                                       " = 'frontline'"),
                     30);
}

/* A webhook receiver: answers fail_first times 500, then 200, keeping
 * what it got. */
typedef struct receiver {
    pthread_mutex_t mu;
    int fail_first;
    int calls;
    int ok_calls;
    char body[4096];
    char sig[80], ts[32], delivery[32], event[64];
} receiver;

static receiver rcv = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void on_hook(void *ctx, const console_http_req *req,
                    console_http_reply *rep)
{
    receiver *r = ctx;
    size_t len;
    const char *body = console_http_body(req, &len);
    const char *h;

    pthread_mutex_lock(&r->mu);
    r->calls++;
    if (r->calls <= r->fail_first) {
        rep->status = 500;
    } else {
        r->ok_calls++;
        snprintf(r->body, sizeof(r->body), "%.*s", (int)len, body);
        h = console_http_header(req, "Twinline-Signature");
        snprintf(r->sig, sizeof(r->sig), "%s", h ? h : "");
        h = console_http_header(req, "Twinline-Timestamp");
        snprintf(r->ts, sizeof(r->ts), "%s", h ? h : "");
        h = console_http_header(req, "Twinline-Delivery");
        snprintf(r->delivery, sizeof(r->delivery), "%s", h ? h : "");
        h = console_http_header(req, "Twinline-Event");
        snprintf(r->event, sizeof(r->event), "%s", h ? h : "");
        rep->status = 200;
    }
    pthread_mutex_unlock(&r->mu);
    rep->body = strdup("{}");
    rep->len = 2;
}

static int ok_calls(void)
{
    int n;

    pthread_mutex_lock(&rcv.mu);
    n = rcv.ok_calls;
    pthread_mutex_unlock(&rcv.mu);
    return n;
}

static void test_webhooks(void **state)
{
    console_http *srv = NULL;
    console_http_opts ho = {"127.0.0.1", 0, 65536, 16, 16, 10};
    console_hooks *h = NULL;
    bus *hb;
    console_hooks_opts o = {100, 5, 2000};
    char url[128], secret[80], path[128], sig[68], sql[256], event_id[64];
    json_t *j;
    int64_t id;
    bool queued = true;
    err e = {0};

    (void)state;
    assert_int_equal(console_http_start(&srv, &ho, on_hook, &rcv, &e), ST_OK);
    snprintf(url, sizeof(url), "{\"url\": \"http://127.0.0.1:%d/hook\"}",
             console_http_port(srv));
    http_expect_error(w.port, "PUT", "/api/v1/webhook", w.bank_key,
                      "{\"url\": \"ftp://x\"}", 400, "invalid_value");
    http_expect_error(w.port, "PUT", "/api/v1/webhook", w.bank_key,
                      "{\"url\": 5}", 400, "wrong_type");
    http_expect_error(w.port, "GET", "/api/v1/webhook", w.bank_key, NULL, 404,
                      "not_found");
    /* The events of the earlier tests are taken in while no webhook is
     * set, so they are not queued. */
    hb = fixture_bus(&w.f);
    assert_int_equal(
        console_hooks_create(&h, hb, w.f.cfg.prefix, w.f.cfg.db, &o, &e),
        ST_OK);
    for (int i = 0; i < 5; i++)
        assert_int_equal(console_hooks_step(h, 200, NULL, &e), ST_OK);
    j = http_json(w.port, "PUT", "/api/v1/webhook", w.bank_key, url, 201);
    snprintf(secret, sizeof(secret), "%s",
             json_string_value(
                 json_object_get(json_object_get(j, "webhook"), "secret")));
    assert_int_equal(strlen(secret), 64);
    json_decref(j);
    j = http_json(w.port, "GET", "/api/v1/webhook", w.bank_key, NULL, 200);
    assert_null(json_object_get(json_object_get(j, "webhook"), "secret"));
    json_decref(j);

    /* A reopen becomes an event on the stream, then a signed POST. */
    id = submit("HOOK-1", 201);
    snprintf(path, sizeof(path), "/api/v1/cases/%lld/reopen", (long long)id);
    json_decref(http_json(w.port, "POST", path, w.bank_key,
                          "{\"reason\": \"first\"}", 201));
    for (int i = 0; i < 100 && ok_calls() < 1; i++)
        assert_int_equal(console_hooks_step(h, 200, NULL, &e), ST_OK);
    assert_int_equal(ok_calls(), 1);
    assert_string_equal(rcv.event, "case.reopened");
    console_hooks_sign(secret, rcv.ts, rcv.body, strlen(rcv.body), sig);
    assert_string_equal(rcv.sig, sig);
    assert_non_null(strstr(rcv.body, "\"case.reopened\""));
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM console_deliveries WHERE id = %s AND state"
             " = 'delivered' AND attempts = 1 AND event_type = 'case.reopened'",
             rcv.delivery);
    assert_int_equal(fixture_i64(&w.f, sql), 1);

    /* The receiver fails once: retried after the backoff, then delivered. */
    pthread_mutex_lock(&rcv.mu);
    rcv.fail_first = rcv.calls + 1;
    pthread_mutex_unlock(&rcv.mu);
    snprintf(path, sizeof(path), "/api/v1/cases/%lld/complaint", (long long)id);
    json_decref(http_json(w.port, "POST", path, w.bank_key,
                          "{\"reason\": \"second\"}", 201));
    for (int i = 0; i < 100 && ok_calls() < 2; i++)
        assert_int_equal(console_hooks_step(h, 200, NULL, &e), ST_OK);
    assert_int_equal(ok_calls(), 2);
    assert_string_equal(rcv.event, "complaint.filed");
    assert_int_equal(
        fixture_i64(&w.f, "SELECT count(*) FROM console_deliveries WHERE"
                          " event_type = 'complaint.filed' AND state ="
                          " 'delivered' AND attempts = 2 AND last_status ="
                          " 200"),
        1);
    /* The same event again is not queued twice. */
    fixture_str(&w.f,
                "SELECT event_id FROM console_deliveries WHERE event_type ="
                " 'case.reopened'",
                event_id, sizeof(event_id));
    assert_int_equal(strncmp(event_id, "dispute-", 8), 0);
    assert_int_equal(console_hooks_enqueue(w.f.db, "tenant", "jsbank", event_id,
                                           "case.reopened", "{}", &queued, &e),
                     ST_OK);
    assert_false(queued);
    j = http_json(w.port, "GET", "/api/v1/webhook/deliveries", w.bank_key, NULL,
                  200);
    assert_int_equal(json_array_size(json_object_get(j, "deliveries")), 2);
    json_decref(j);
    j = http_json(w.port, "GET", "/api/v1/webhook/deliveries", w.insurer_key,
                  NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "deliveries")), 0);
    json_decref(j);
    json_decref(
        http_json(w.port, "DELETE", "/api/v1/webhook", w.bank_key, NULL, 200));
    http_expect_error(w.port, "DELETE", "/api/v1/webhook", w.bank_key, NULL,
                      404, "not_found");
    console_hooks_destroy(h);
    bus_close(hb);
    console_http_stop(srv);
}

typedef struct sse {
    char buf[65536];
    size_t len;
} sse;

static size_t sse_write(char *p, size_t size, size_t n, void *ctx)
{
    sse *s = ctx;
    size_t add = size * n;

    if (s->len + add >= sizeof(s->buf))
        add = sizeof(s->buf) - 1 - s->len;
    memcpy(s->buf + s->len, p, add);
    s->len += add;
    s->buf[s->len] = '\0';
    /* Stop reading once both kinds of figures came. */
    if (strstr(s->buf, "event: stats") && strstr(s->buf, "event: queues"))
        return 0;
    return size * n;
}

static void test_stream(void **state)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char url[128], auth[160];
    sse s = {.len = 0};
    CURLcode rc;

    (void)state;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/ops/stream", w.port);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", w.op_key);
    h = curl_slist_append(h, auth);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sse_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    rc = curl_easy_perform(c);
    assert_int_equal(rc, CURLE_WRITE_ERROR);
    /* The operator's workers only. */
    assert_non_null(strstr(s.buf, "\"w001\""));
    assert_null(strstr(s.buf, "\"r001\""));
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    http_expect_error(w.port, "GET", "/api/v1/ops/stream", w.bank_key, NULL,
                      403, "forbidden");
}

static void test_alerts(void **state)
{
    inbox ib;
    bus *b = fixture_bus(&w.f);
    char subject[128];
    json_t *j, *msg;
    int changes = 0;
    err e = {0};

    (void)state;
    memset(&ib, 0, sizeof(ib));
    pthread_mutex_init(&ib.mu, NULL);
    pthread_cond_init(&ib.cv, NULL);
    snprintf(subject, sizeof(subject), "%s.alerts.acme_bpo", w.f.cfg.prefix);
    inbox_listen(&ib, b, subject);
    json_decref(http_json(w.port, "PUT", "/api/v1/ops/webhook", w.op_key,
                          "{\"url\": \"http://127.0.0.1:9/alerts\"}", 201));
    /* Cases wait and nobody is online: no eligible worker. */
    submit("ALERT-1", 201);
    assert_int_equal(
        console_alerts_check(w.f.db, b, w.f.cfg.prefix, 6, &changes, &e),
        ST_OK);
    assert_true(changes >= 1);
    msg = inbox_next(&ib, 5000);
    assert_non_null(msg);
    assert_string_equal(json_string_value(json_object_get(msg, "type")),
                        "alert.opened");
    json_decref(msg);
    assert_true(fixture_i64(&w.f, "SELECT count(*) FROM console_alerts WHERE"
                                  " operator_id = 'acme_bpo' AND kind ="
                                  " 'no_eligible_worker' AND closed_at IS"
                                  " NULL") >= 1);
    assert_true(fixture_i64(&w.f, "SELECT count(*) FROM console_deliveries"
                                  " WHERE event_type = 'alert.opened'") >= 1);
    j = http_json(w.port, "GET", "/api/v1/ops/alerts", w.op_key, NULL, 200);
    assert_true(json_array_size(json_object_get(j, "alerts")) >= 1);
    json_decref(j);
    j = http_json(w.port, "GET", "/api/v1/ops/alerts", w.rival_key, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "alerts")), 0);
    json_decref(j);
    /* Checking again opens nothing new while nothing changed. */
    assert_int_equal(
        console_alerts_check(w.f.db, b, w.f.cfg.prefix, 6, &changes, &e),
        ST_OK);
    assert_int_equal(changes, 0);

    /* A worker marked available whose agent went silent 30 s ago is not
     * responding; when it is heard again the alert closes. */
    fixture_exec(&w.f, "UPDATE workers SET presence = 'available', last_seen"
                       " = now() - interval '30 seconds' WHERE id = 'w002'");
    assert_int_equal(
        console_alerts_check(w.f.db, b, w.f.cfg.prefix, 6, &changes, &e),
        ST_OK);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM console_alerts"
                                       " WHERE kind = 'worker_not_responding'"
                                       " AND subject = 'w002' AND closed_at IS"
                                       " NULL AND (details->>'silent_s')::int"
                                       " >= 30"),
                     1);
    fixture_exec(&w.f, "UPDATE workers SET last_seen = now() WHERE id ="
                       " 'w002'");
    assert_int_equal(
        console_alerts_check(w.f.db, b, w.f.cfg.prefix, 6, &changes, &e),
        ST_OK);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM console_alerts"
                                       " WHERE kind = 'worker_not_responding'"
                                       " AND subject = 'w002' AND closed_at IS"
                                       " NOT NULL"),
                     1);
    /* A waiting task past half its SLA, ending within the breach window,
     * puts its queue's service level at risk. */
    fixture_exec(&w.f, "UPDATE tasks SET ready_at = now() - interval '200"
                       " seconds', sla_due_at = now() + interval '100"
                       " seconds' WHERE id = (SELECT min(id) FROM tasks WHERE"
                       " state = 'pending')");
    assert_int_equal(
        console_alerts_check(w.f.db, b, w.f.cfg.prefix, 6, &changes, &e),
        ST_OK);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM console_alerts"
                                       " WHERE kind = 'sl_at_risk' AND"
                                       " closed_at IS NULL"),
                     1);
    fixture_exec(&w.f, "UPDATE workers SET presence = 'offline' WHERE id ="
                       " 'w002'");
    bus_close(b);
    inbox_drain(&ib);
}

/* Run the console's command line; output and errors into buffers. */
static int cli(char *out, size_t ocap, char *errs, size_t ecap, int n, ...)
{
    char *argv[16];
    va_list ap;
    FILE *o = fmemopen(out, ocap, "w");
    FILE *x = fmemopen(errs, ecap, "w");
    int rc;

    argv[0] = "twinline-console";
    argv[1] = "--db";
    argv[2] = w.f.cfg.db;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        argv[3 + i] = va_arg(ap, char *);
    va_end(ap);
    argv[3 + n] = NULL;
    rc = console_cli_main(3 + n, argv, o, x);
    fclose(o);
    fclose(x);
    return rc;
}

static void test_key_commands(void **state)
{
    char out[4096], errs[1024], id[17];

    (void)state;
    assert_int_equal(cli(out, sizeof(out), errs, sizeof(errs), 6, "key",
                         "create", "--operator", "acme_bpo", "--name", "wall"),
                     0);
    assert_int_equal(strncmp(out, "tlk_", 4), 0);
    assert_non_null(strstr(errs, "shown only now"));
    out[strcspn(out, "\n")] = '\0';
    json_decref(http_json(w.port, "GET", "/api/v1/ops/pools", out, NULL, 200));
    memcpy(id, out + 4, 16);
    id[16] = '\0';
    assert_int_equal(
        cli(out, sizeof(out), errs, sizeof(errs), 2, "key", "list"), 0);
    assert_non_null(strstr(out, id));
    assert_non_null(strstr(out, "wall"));
    assert_null(strstr(out, "tlk_"));
    assert_int_equal(
        cli(out, sizeof(out), errs, sizeof(errs), 3, "key", "revoke", id), 0);
    assert_int_equal(
        cli(out, sizeof(out), errs, sizeof(errs), 3, "key", "revoke", id), 1);
    assert_non_null(strstr(errs, "no active key"));
    assert_int_equal(cli(out, sizeof(out), errs, sizeof(errs), 4, "key",
                         "create", "--operator", "nobody"),
                     1);
    assert_non_null(strstr(errs, "no operator \"nobody\""));
    assert_int_equal(cli(out, sizeof(out), errs, sizeof(errs), 6, "key",
                         "create", "--operator", "acme_bpo", "--tenant",
                         "jsbank"),
                     2);
    assert_int_equal(
        cli(out, sizeof(out), errs, sizeof(errs), 2, "key", "rotate"), 2);
    assert_int_equal(cli(out, sizeof(out), errs, sizeof(errs), 1, "--help"), 0);
    assert_non_null(strstr(out, "key create"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pages_and_routes),
        cmocka_unit_test(test_auth_refusals),
        cmocka_unit_test(test_bank_api),
        cmocka_unit_test(test_operator_reads),
        cmocka_unit_test(test_operator_actions),
        cmocka_unit_test(test_webhooks),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_alerts),
        cmocka_unit_test(test_key_commands),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
