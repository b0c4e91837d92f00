/*
 * The console's interval rollup against rows worked out by hand: tasks
 * with known ready, accept and completion times in the interval an hour
 * ago (I0) and the one after (I1), rolled up and read back as rows, as the
 * CSV an operator exports, and with the rollup's low task id moved past
 * the finished tasks. Presence samples add up to occupancy and online
 * hours; the fairness figures of two workers are checked by hand.
 */
#include <stdio.h>
#include <string.h>

#include "console.h"
#include "console_client.h"
#include "console_keys.h"
#include "console_rollup.h"
#include "fixture.h"
#include "harness.h"
#include "tl_test.h"

/* I0: the 15-minute interval that began a little over an hour ago. */
#define I0                                                                     \
    "date_bin('15 minutes', now() - interval '1 hour', timestamptz 'epoch')"

/* A case of bank1/loan with one task of step at the given offsets in
 * seconds from I0 (NULL: not set). Returns the task id. */
static int64_t add_task(fixture *f, const char *ext, const char *step,
                        const char *state, const char *worker,
                        const char *ready, const char *assigned,
                        const char *completed)
{
    char sql[2048];

    snprintf(sql, sizeof(sql),
             "WITH c AS (INSERT INTO cases (tenant_id, external_id, case_type,"
             " playbook_version) VALUES ('bank1', '%s', 'loan', 1)"
             " ON CONFLICT (tenant_id, external_id) DO UPDATE SET priority = 0"
             " RETURNING id)"
             " INSERT INTO tasks (case_id, tenant_id, step, state, worker_id,"
             " ready_at, assigned_at, completed_at)"
             " SELECT c.id, 'bank1', '%s', '%s', %s%s%s,"
             " %s + make_interval(secs => %s), %s + make_interval(secs => %s),"
             " %s + make_interval(secs => %s) FROM c RETURNING id",
             ext, step, state, worker ? "'" : "", worker ? worker : "NULL",
             worker ? "'" : "", I0, ready ? ready : "NULL", I0,
             assigned ? assigned : "NULL", I0, completed ? completed : "NULL");
    return fixture_i64(f, sql);
}

static void test_rollup_by_hand(void **state)
{
    fixture f;
    int64_t t1, t2, t3, t4, t5;
    int rolled = 0;
    char buf[256];
    err e = {0};

    (void)state;
    fixture_setup(&f, "console_rollup");
    harness_seed(&f);
    /* The specialists answer within 120 s; the front keeps the default
     * 20 s. */
    fixture_exec(&f, "INSERT INTO console_pool_settings (pool_id, threshold_s)"
                     " VALUES ('spec', 120)");
    /* front/collections/voice: t1 waits 10 s, handled in 120 s; t2 waits
     * 30 s (over 20 s), handled in I1 after 940 s; t3 expires unanswered;
     * t4 is still waiting. spec/legal/backoffice: t5 waits 60 s (within
     * 120 s) and is handled in 240 s. */
    t1 = add_task(&f, "c1", "contact", "completed", "wa", "10", "20", "140");
    t2 = add_task(&f, "c2", "contact", "completed", "wb", "30", "60", "1000");
    t3 = add_task(&f, "c3", "contact", "canceled", NULL, "100", NULL, "700");
    t4 = add_task(&f, "c4", "contact", "pending", NULL, "800", NULL, NULL);
    t5 = add_task(&f, "c1", "legal", "completed", "wc", "200", "260", "500");
    assert_true(t1 < t2 && t2 < t3 && t3 < t4 && t4 < t5);

    assert_int_equal(console_rollup_init(f.db, 35, &e), ST_OK);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM console_rollup_state"
                                     " WHERE rolled_until = " I0),
                     1);
    assert_int_equal(console_rollup_run(f.db, 0, 1, &rolled, &e), ST_OK);
    assert_int_equal(rolled, 1);
    /* After I0 only t2 (handled in I1) and t4 (waiting) are unfinished:
     * the next pass reads from t2 on. */
    snprintf(buf, sizeof(buf),
             "SELECT (low_task_id = %lld)::int FROM console_rollup_state",
             (long long)t2);
    assert_int_equal(fixture_i64(&f, buf), 1);
    assert_int_equal(console_rollup_run(f.db, 0, 1000, &rolled, &e), ST_OK);
    assert_true(rolled >= 3); /* I1 to the last closed interval */
    snprintf(buf, sizeof(buf),
             "SELECT (low_task_id = %lld)::int FROM console_rollup_state",
             (long long)t4);
    assert_int_equal(fixture_i64(&f, buf), 1);

    fixture_str(&f,
                "SELECT string_agg(concat_ws(' ', extract(epoch FROM"
                " interval_start - " I0 ")::int, pool_id, skill, channel,"
                " offered, accepted, handled, expired, answered_in_sl,"
                " wait_sum_ms, COALESCE(wait_p90_ms::text, '-'), "
                "handle_sum_ms, threshold_s), '; '"
                " ORDER BY interval_start, pool_id) FROM console_intervals",
                buf, sizeof(buf));
    assert_string_equal(buf, "0 front collections voice 4 2 1 1 1 40000 30000"
                             " 120000 20; "
                             "0 spec legal backoffice 1 1 1 0 1 60000 60000"
                             " 240000 120; "
                             "900 front collections voice 0 0 1 0 0 0 -"
                             " 940000 20");

    /* A second pass finds nothing to do and changes nothing. */
    assert_int_equal(console_rollup_run(f.db, 0, 1000, &rolled, &e), ST_OK);
    assert_int_equal(rolled, 0);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM console_intervals"),
                     3);
    fixture_teardown(&f);
}

static void test_export_and_samples(void **state)
{
    fixture f;
    console *c = NULL;
    console_opts o;
    char key[CONSOLE_KEY_MAX];
    char path[256], from[40];
    http_result r;
    err e = {0};
    int rolled;

    (void)state;
    fixture_setup(&f, "console_export");
    harness_seed(&f);
    add_task(&f, "c1", "contact", "completed", "wa", "10", "20", "140");
    add_task(&f, "c2", "contact", "canceled", NULL, "100", NULL, "700");
    assert_int_equal(console_rollup_init(f.db, 35, &e), ST_OK);
    assert_int_equal(console_rollup_run(f.db, 0, 1000, &rolled, &e), ST_OK);
    assert_int_equal(
        console_keys_create(f.db, CONSOLE_KEY_OPERATOR, "op1", "test", key, &e),
        ST_OK);

    /* wa online with its voice slot busy (one of its nine slots, so still
     * available), wb online and idle, wc offline: one sample of 5 s. */
    fixture_exec(&f, "UPDATE workers SET presence = 'available', last_seen ="
                     " now() WHERE id IN ('wa', 'wb')");
    fixture_exec(&f,
                 "WITH c AS (INSERT INTO cases (tenant_id, external_id,"
                 " case_type, playbook_version) VALUES ('bank1', 'c9', 'loan',"
                 " 1) RETURNING id), t AS (INSERT INTO tasks (case_id,"
                 " tenant_id, step, state, worker_id, ready_at, assigned_at)"
                 " SELECT id, 'bank1', 'contact', 'assigned', 'wa', now(),"
                 " now() FROM c RETURNING id)"
                 " INSERT INTO reservations (task_id, worker_id, epoch, state,"
                 " deadline) SELECT id, 'wa', 1, 'accepted', now() FROM t");
    assert_int_equal(console_rollup_sample(f.db, 5000, &e), ST_OK);
    assert_int_equal(
        fixture_i64(&f, "SELECT samples * 1000000 + online_sum * 10000 +"
                        " slots_sum * 100 + busy_sum FROM console_occupancy"
                        " WHERE pool_id = 'front' AND channel = 'voice'"),
        1000000 + 2 * 10000 + 2 * 100 + 1);
    assert_int_equal(fixture_i64(&f, "SELECT online_ms * 10 + busy_ms / 5000"
                                     " FROM console_worker_days"
                                     " WHERE worker_id = 'wa'"),
                     50001);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM console_worker_state"
                                     " WHERE worker_id = 'wa' AND state ="
                                     " 'available'"),
                     1);

    console_opts_default(&o);
    o.port = 0;
    o.background = false;
    assert_int_equal(console_create(&c, &f.cfg, &o, &e), ST_OK);
    fixture_str(&f,
                "SELECT to_char(" I0 " AT TIME ZONE 'UTC',"
                " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
                from, sizeof(from));
    snprintf(path, sizeof(path),
             "/api/v1/ops/intervals?pool=front&format=csv&from=%s", from);
    http_call(console_port(c), "GET", path, key, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.ctype, "text/csv; charset=utf-8");
    assert_string_equal(r.disposition,
                        "attachment; filename=\"intervals.csv\"");
    {
        char want[512];

        /* One accepted within 20 s of one accepted plus one expired: 500
         * per mille. */
        snprintf(want, sizeof(want),
                 "interval_start,pool,skill,channel,offered,accepted,handled,"
                 "expired,answered_in_sl,threshold_s,wait_avg_ms,wait_p90_ms,"
                 "sl_permille,aht_ms,occupancy_permille,online_avg\n"
                 "%s,front,collections,voice,2,1,1,1,1,20,10000,10000,500,"
                 "120000,,\n",
                 from);
        assert_string_equal(r.body, want);
    }
    http_result_free(&r);

    /* The forecast and staffing of that queue from its history. */
    {
        json_t *j = http_json(console_port(c), "GET",
                              "/api/v1/ops/forecast?pool=front&skill="
                              "collections&channel=voice&horizon=8",
                              key, NULL, 200);
        json_t *plan = json_object_get(j, "plan");
        json_t *fc = json_object_get(plan, "forecast");

        assert_int_equal(json_array_size(fc), 8);
        assert_non_null(json_object_get(json_array_get(fc, 0), "required"));
        assert_true(json_array_size(json_object_get(plan, "history")) >= 4);
        assert_string_equal(json_string_value(json_object_get(
                                json_object_get(plan, "settings"), "model")),
                            "erlang_c");
        assert_non_null(json_string_value(json_object_get(
            json_object_get(plan, "arrivals_model"), "method")));
        json_decref(j);
    }
    console_destroy(c);
    fixture_teardown(&f);
}

/* An outcome of worker w on a new completed task, billed now with the
 * worker's share `share` (minor units). */
static void add_earning(fixture *f, const char *ext, const char *w, int share)
{
    char sql[3072];

    snprintf(sql, sizeof(sql),
             "WITH c AS (INSERT INTO cases (tenant_id, external_id, case_type,"
             " playbook_version) VALUES ('bank1', '%s', 'loan', 1) RETURNING"
             " id),"
             " t AS (INSERT INTO tasks (case_id, tenant_id, step, state,"
             " worker_id, ready_at, assigned_at, completed_at) SELECT id,"
             " 'bank1', 'contact', 'completed', '%s', now(), now(), now()"
             " FROM c RETURNING id, case_id),"
             " r AS (INSERT INTO reservations (task_id, worker_id, epoch,"
             " state, deadline) SELECT id, '%s', 1, 'completed', now() FROM t"
             " RETURNING id, task_id),"
             " o AS (INSERT INTO outcomes (task_id, case_id, tenant_id,"
             " worker_id, reservation_id, code, billable) SELECT t.id,"
             " t.case_id, 'bank1', '%s', r.id, 'promise_to_pay', true FROM t,"
             " r RETURNING id, task_id, case_id),"
             " l AS (INSERT INTO billable_lines (outcome_id, tenant_id,"
             " operator_id, contract_id, case_id, task_id, worker_id,"
             " outcome_code, amount_minor, currency) SELECT id, 'bank1',"
             " 'op1', 'k-front', case_id, task_id, '%s', 'promise_to_pay',"
             " 10000, 'CNY' FROM o RETURNING id, outcome_id, case_id),"
             " b AS (INSERT INTO billable_outcomes (outcome_id,"
             " billable_line_id, tenant_id, operator_id, contract_id,"
             " plan_version, case_id, worker_id, currency, amount_minor,"
             " outcome_at, verify_after, clawback_until) SELECT outcome_id,"
             " id, 'bank1', 'op1', 'k-front', 1, case_id, '%s', 'CNY', 10000,"
             " now(), now(), now() FROM l RETURNING outcome_id)"
             " INSERT INTO outcome_splits SELECT outcome_id, 'worker', '%s',"
             " %d FROM b",
             ext, w, w, w, w, w, w, share);
    fixture_exec(f, sql);
}

/* Worked by hand: wa was online 1 h and earned 1000, wb 2 h and 6000, so
 * 1000 and 3000 per online hour: Gini (2 (1*1000 + 2*3000)) / (2 * 4000)
 * - 3/2 = 0.25. wa closed 2 cases (CPH 2), wb 6 (CPH 3): mean 2.5,
 * standard deviation 0.5, CV 0.2. */
static void test_fairness_by_hand(void **state)
{
    fixture f;
    console *c = NULL;
    console_opts o;
    char key[CONSOLE_KEY_MAX];
    json_t *j, *fa;
    err e = {0};

    (void)state;
    fixture_setup(&f, "console_fairness");
    harness_seed(&f);
    fixture_exec(&f, "INSERT INTO contract_plans (contract_id, version,"
                     " effective_from, plan) VALUES ('k-front', 1, now() -"
                     " interval '1 day', '{}')");
    fixture_exec(&f, "INSERT INTO console_worker_days VALUES"
                     " ((now() AT TIME ZONE 'UTC')::date, 'wa', 3600000, 0),"
                     " ((now() AT TIME ZONE 'UTC')::date, 'wb', 7200000, 0)");
    add_earning(&f, "fa1", "wa", 1000);
    add_earning(&f, "fa2", "wa", 0);
    add_earning(&f, "fb1", "wb", 6000);
    for (int i = 2; i <= 6; i++) {
        char ext[16];

        snprintf(ext, sizeof(ext), "fb%d", i);
        add_earning(&f, ext, "wb", 0);
    }
    assert_int_equal(
        console_keys_create(f.db, CONSOLE_KEY_OPERATOR, "op1", "test", key, &e),
        ST_OK);
    console_opts_default(&o);
    o.port = 0;
    o.background = false;
    assert_int_equal(console_create(&c, &f.cfg, &o, &e), ST_OK);
    j = http_json(console_port(c), "GET", "/api/v1/ops/fairness", key, NULL,
                  200);
    fa = json_object_get(j, "fairness");
    assert_int_equal(json_integer_value(json_object_get(fa, "gini_permille")),
                     250);
    assert_int_equal(json_integer_value(json_object_get(fa, "cph_cv_permille")),
                     200);
    assert_int_equal(json_array_size(json_object_get(fa, "workers")), 2);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(fa, "workers"), 1),
                         "earned_per_hour_minor")),
                     3000);
    json_decref(j);
    /* Last month: nothing. */
    j = http_json(console_port(c), "GET", "/api/v1/ops/fairness?month=2025-01",
                  key, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(
                         json_object_get(j, "fairness"), "workers")),
                     0);
    json_decref(j);
    console_destroy(c);
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rollup_by_hand),
        cmocka_unit_test(test_export_and_samples),
        cmocka_unit_test(test_fairness_by_hand),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
