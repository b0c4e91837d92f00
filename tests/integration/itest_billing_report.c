/*
 * `twinline bill report` and `twinline statement` on the hand-computed
 * month of itest_billing_flow.c (tests/billing_month.c), and the bank
 * API's case.reopen / case.complaint through the real dispatcher.
 *
 * The month, in fen (see itest_billing_flow.c for the arithmetic):
 *   L-1 10-02  P 17500  fee 1750  op 3150  w1 9450   ai1 3150
 *   L-2 10-15  P 51500  fee 5150  op 9270  w1 27810  ai1 9270
 *   L-3 10-20  P  2488  fee  249  op  448  w1 1343   ai1  448
 *   L-4 10-03  P  5500  fee  550  op  990  w1 2970   ai1  990
 * added here:
 *   L-5 10-25  collected 0: P 1500, fee 150; 1350 -> op 270, w1 810,
 *              ai1 270
 * Complaints on L-4 (10-05) and L-2 (10-20) reverse them while pending.
 *
 * Stage 1: L-1 and L-3 verified, L-5 rated but not verified yet.
 *   billed (verified)  2 outcomes, 17500 + 2488 = 19988
 *   pending            1 outcome,  1500
 *   reversed           2 outcomes, 51500 + 5500 = 57000
 *   margin = price - op - w1 - ai1 of the verified = the fees:
 *            1750 + 249 = 1999 over 2 cases: 999.5 -> 1000 (half up)
 *   ledger: bank_receivable of the verified entries = 19988;
 *           op1's operator_payable, negated = 3150 + 448 = 3598
 * Stage 2: reopen of L-1 on 11-10 (inside the clawback window), then the
 * verification pass verifies L-5.
 *   billed   2 outcomes (L-3, L-5), 2488 + 1500 = 3988
 *   pending  0
 *   reversed 3 outcomes (L-1, L-2, L-4), 17500 + 51500 + 5500 = 74500
 *   margin   249 + 150 = 399 over 2 cases: 199.5 -> 200
 *   ledger   tenant 17500 - 17500 + 2488 + 1500 = 3988;
 *            op1 3150 - 3150 + 448 + 270 = 718
 * Statements for the month the ledger entries were posted (today, UTC):
 *   op1  shares 3150 + 448 + 270 = 3868, deductions -3150, net 718,
 *        4 lines, opening 0, closing 718
 *   w1   shares 9450 + 1343 + 810 = 11603, deductions -9450, net 2153
 *   ai1  shares 3150 + 448 + 270 = 3868, deductions -3150, net 718
 * and for 2025-10 (nothing posted then): no lines, everything 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "billing_flow.h"
#include "billing_month.h"
#include "cmd_bill_report.h"
#include "cmd_case.h"
#include "cmd_statement.h"
#include "harness.h"
#include "tl_test.h"

#define OUT_MAX 65536

typedef billing_month_env env;

static const billing_month_case cases[] = {
    {"L-1", 200000, "2025-10-02 10:00Z"},
    {"L-2", 1000000, "2025-10-15 10:00Z"},
    {"L-3", 12345, "2025-10-20 10:00Z"},
    {"L-4", 50000, "2025-10-03 10:00Z"},
};

static int env_setup(void **state)
{
    env *v = calloc(1, sizeof(*v));

    if (v == NULL)
        return -1;
    billing_month_env_up(v, "billreport", NULL, cases,
                         (int)(sizeof(cases) / sizeof(cases[0])), false);
    *state = v;
    return 0;
}

static int env_teardown(void **state)
{
    billing_month_env_down(*state);
    free(*state);
    return 0;
}

/* Rate ids[from..n), then (when passes) disputes and verification. */
static void flow(env *v, int from, bool passes)
{
    bool handled[8];
    billing_counts c = {0};
    int64_t n = 0;
    err e = {0};

    if (from < v->n && billing_flow_rate(v->flow, v->f.db, v->ids + from,
                                         v->n - from, handled, &c, &e) != ST_OK)
        fail_msg("rate: %s", e.msg);
    if (passes && (billing_flow_disputes(v->f.db, 100, &n, &e) != ST_OK ||
                   billing_flow_verify(v->f.db, 100, &n, &e) != ST_OK))
        fail_msg("passes: %s", e.msg);
}

/* The report as KV text into buf. */
static status report(env *v, const char *tenant, const char *period,
                     cli_format fmt, char *buf, err *e)
{
    FILE *out = fmemopen(buf, OUT_MAX, "w");
    status s;

    assert_non_null(out);
    memset(buf, 0, OUT_MAX);
    s = cmd_bill_report(v->f.db, tenant, period, fmt, out, e);
    fclose(out);
    return s;
}

static status statement(env *v, const char *party, bool op, const char *period,
                        cmd_statement_format fmt, char *buf, err *e)
{
    FILE *out = fmemopen(buf, OUT_MAX, "w");
    status s;

    assert_non_null(out);
    memset(buf, 0, OUT_MAX);
    s = cmd_statement_write(v->f.db, party, op, period, fmt, out, e);
    fclose(out);
    return s;
}

static void has(const char *buf, const char *want)
{
    if (strstr(buf, want) == NULL)
        fail_msg("expected \"%s\" in:\n%s", want, buf);
}

static void test_report_and_statements(void **state)
{
    env *v = *state;
    char *buf = malloc(OUT_MAX);
    char now[16];
    err e = {0};

    assert_non_null(buf);
    billing_month_dispute(&v->f, "L-4", "complaint", "2025-10-05 09:00Z");
    billing_month_dispute(&v->f, "L-2", "complaint", "2025-10-20 09:00Z");
    flow(v, 0, true);
    v->ids[v->n++] =
        billing_month_outcome(&v->f, "L-5", 0, "2025-10-25 10:00Z");
    flow(v, 4, false);

    /* Stage 1. */
    assert_int_equal(report(v, "jsbank", "2025-10", ADMIN_FMT_KV, buf, &e),
                     ST_OK);
    has(buf, "billreport.period=2025-10\n");
    has(buf, "billreport.tenant.jsbank.CNY.verified=2\n");
    has(buf, "billreport.tenant.jsbank.CNY.billed_minor=19988\n");
    has(buf, "billreport.tenant.jsbank.CNY.pending=1\n");
    has(buf, "billreport.tenant.jsbank.CNY.pending_minor=1500\n");
    has(buf, "billreport.tenant.jsbank.CNY.reversed=2\n");
    has(buf, "billreport.tenant.jsbank.CNY.reversed_minor=57000\n");
    has(buf, "billreport.tenant.jsbank.CNY.margin_minor=1999\n");
    has(buf, "billreport.tenant.jsbank.CNY.margin_cases=2\n");
    has(buf, "billreport.tenant.jsbank.CNY.margin_per_case_minor=1000\n");
    has(buf, "billreport.tenant.jsbank.CNY.ledger_minor=19988\n");
    has(buf, "billreport.operator.op1.CNY.billed_minor=19988\n");
    has(buf, "billreport.operator.op1.CNY.ledger_minor=3598\n");

    /* Stage 2. */
    billing_month_dispute(&v->f, "L-1", "reopen", "2025-11-10 09:00Z");
    flow(v, v->n, true);
    assert_int_equal(report(v, NULL, "2025-10", ADMIN_FMT_KV, buf, &e), ST_OK);
    has(buf, "billreport.tenant.jsbank.CNY.verified=2\n");
    has(buf, "billreport.tenant.jsbank.CNY.billed_minor=3988\n");
    has(buf, "billreport.tenant.jsbank.CNY.pending=0\n");
    has(buf, "billreport.tenant.jsbank.CNY.pending_minor=0\n");
    has(buf, "billreport.tenant.jsbank.CNY.reversed=3\n");
    has(buf, "billreport.tenant.jsbank.CNY.reversed_minor=74500\n");
    has(buf, "billreport.tenant.jsbank.CNY.margin_minor=399\n");
    has(buf, "billreport.tenant.jsbank.CNY.margin_per_case_minor=200\n");
    has(buf, "billreport.tenant.jsbank.CNY.ledger_minor=3988\n");
    has(buf, "billreport.operator.op1.CNY.reversed_minor=74500\n");
    has(buf, "billreport.operator.op1.CNY.ledger_minor=718\n");

    /* The table says the same in major units; another month is empty. */
    assert_int_equal(report(v, "jsbank", NULL, ADMIN_FMT_TABLE, buf, &e),
                     ST_OK);
    has(buf, "39.88");
    has(buf, "745.00");
    has(buf, "3.99");
    /* Each amount under its own heading: no two columns are AMOUNT. */
    has(buf, " PENDING_AMOUNT ");
    has(buf, " REVERSED_AMOUNT ");
    assert_null(strstr(buf, " AMOUNT "));
    assert_int_equal(report(v, "jsbank", "2025-11", ADMIN_FMT_KV, buf, &e),
                     ST_OK);
    assert_null(strstr(buf, "billreport.tenant."));
    assert_int_equal(report(v, "nobank", NULL, ADMIN_FMT_KV, buf, &e),
                     ST_UNKNOWN_TENANT);
    assert_int_equal(report(v, NULL, "2025-13", ADMIN_FMT_KV, buf, &e),
                     ST_INVALID);

    /* Statements of this month, when the ledger entries were posted. */
    fixture_str(&v->f, "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM')",
                now, sizeof(now));
    assert_int_equal(statement(v, "op1", true, now, ADMIN_STMT_JSON, buf, &e),
                     ST_OK);
    has(buf, "\"party\":\"op1\",\"role\":\"operator\"");
    has(buf, "{\"currency\":\"CNY\",\"opening_minor\":0,\"shares_minor\":3868,"
             "\"deductions_minor\":-3150,\"net_minor\":718,"
             "\"closing_minor\":718,\"lines\":4}");
    has(buf, "\"kind\" : \"reversal\"");
    has(buf, "\"case_external_id\" : \"L-1\"");
    {
        json_t *doc = json_loads(buf, 0, NULL);
        assert_non_null(doc);
        assert_int_equal(json_array_size(json_object_get(doc, "lines")), 4);
        json_decref(doc);
    }
    assert_int_equal(statement(v, "w1", false, now, ADMIN_STMT_JSON, buf, &e),
                     ST_OK);
    has(buf, "\"shares_minor\":11603,\"deductions_minor\":-9450,"
             "\"net_minor\":2153,\"closing_minor\":2153");
    assert_int_equal(statement(v, "ai1", false, now, ADMIN_STMT_JSON, buf, &e),
                     ST_OK);
    has(buf, "\"shares_minor\":3868,\"deductions_minor\":-3150,"
             "\"net_minor\":718");
    assert_int_equal(statement(v, "w1", false, now, ADMIN_STMT_TEXT, buf, &e),
                     ST_OK);
    has(buf, "reversal");
    has(buf, "CNY -94.50");
    has(buf, "  closing (owed)            CNY 21.53\n");
    assert_int_equal(
        statement(v, "op1", true, "2025-10", ADMIN_STMT_JSON, buf, &e), ST_OK);
    has(buf, "\"lines\":[]");
    has(buf, "\"opening_minor\":0,\"shares_minor\":0,\"deductions_minor\":0,"
             "\"net_minor\":0,\"closing_minor\":0,\"lines\":0");
    assert_int_equal(statement(v, "w404", false, now, ADMIN_STMT_TEXT, buf, &e),
                     ST_NOT_FOUND);
    assert_int_equal(statement(v, "w1", true, now, ADMIN_STMT_TEXT, buf, &e),
                     ST_NOT_FOUND);
    assert_int_equal(
        statement(v, "op1", true, "2025-1", ADMIN_STMT_TEXT, buf, &e),
        ST_INVALID);
    free(buf);
}

/* ---- case.reopen / case.complaint through the dispatcher ---- */

static void test_dispute_api(void **state)
{
    static const harness_world_opts wo = {
        .seed_sql = "INSERT INTO cases (tenant_id, external_id, case_type,"
                    " playbook_version) VALUES ('bank1', 'X-1', 'loan', 1)"};
    harness_world w;
    json_t *r;
    const json_t *rec;
    int64_t id;

    (void)state;
    harness_world_up(&w, "disputeapi", &wo);
    id = fixture_i64(&w.f, "SELECT id FROM cases WHERE external_id = 'X-1'");

    r = harness_request(&w.f, w.b, "api.bank1.case.reopen",
                        "{\"external_id\": \"X-1\", \"reason\": \"not "
                        "repaid\", \"request_id\": \"crm-1\"}");
    assert_true(json_is_true(json_object_get(r, "ok")));
    assert_true(json_is_true(json_object_get(r, "created")));
    rec = json_object_get(r, "reopen");
    assert_int_equal(json_integer_value(json_object_get(rec, "case_id")), id);
    assert_string_equal(json_string_value(json_object_get(rec, "kind")),
                        "reopen");
    json_decref(r);

    /* The same request again: the stored record, no second row or event. */
    r = harness_request(&w.f, w.b, "api.bank1.case.reopen",
                        "{\"external_id\": \"X-1\", \"reason\": \"not "
                        "repaid\", \"request_id\": \"crm-1\"}");
    assert_true(json_is_true(json_object_get(r, "ok")));
    assert_true(json_is_false(json_object_get(r, "created")));
    json_decref(r);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM case_disputes"),
                     1);
    assert_int_equal(fixture_i64(&w.f,
                                 "SELECT count(*) FROM outbox WHERE"
                                 " payload->>'type' = 'case.reopened'"
                                 " AND subject = 'disputeapi.evt.bank1"
                                 ".case' AND (payload->>'case_id')::bigint"
                                 " = (SELECT id FROM cases WHERE"
                                 " external_id = 'X-1') AND"
                                 " (payload->>'dispute_id')::bigint ="
                                 " (SELECT id FROM case_disputes)"),
                     1);

    /* A complaint by case id without request_id: keyed by its reason. */
    {
        char body[128];
        snprintf(body, sizeof(body),
                 "{\"case_id\": %lld, \"reason\": \"rude agent\"}",
                 (long long)id);
        r = harness_request(&w.f, w.b, "api.bank1.case.complaint", body);
        assert_true(json_is_true(json_object_get(r, "created")));
        assert_non_null(json_object_get(r, "complaint"));
        json_decref(r);
        r = harness_request(&w.f, w.b, "api.bank1.case.complaint", body);
        assert_true(json_is_false(json_object_get(r, "created")));
        json_decref(r);
    }
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM outbox WHERE"
                                       " payload->>'type' = 'complaint.filed'"),
                     1);

    /* Another tenant's case does not exist for bank2. */
    r = harness_request(&w.f, w.b, "api.bank2.case.complaint",
                        "{\"external_id\": \"X-1\", \"reason\": \"x\"}");
    assert_string_equal(harness_error_code(r), "not_found");
    json_decref(r);
    r = harness_request(&w.f, w.b, "api.bank1.case.reopen",
                        "{\"external_id\": \"X-1\"}");
    assert_string_equal(harness_error_code(r), "missing_field");
    json_decref(r);
    r = harness_request(&w.f, w.b, "api.bank1.case.reopen",
                        "{\"reason\": \"no case named\"}");
    assert_string_equal(harness_error_code(r), "missing_field");
    json_decref(r);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM case_disputes"),
                     2);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM outbox WHERE"
                                       " payload->>'type' IN ('case.reopened',"
                                       " 'complaint.filed')"),
                     2);

    /* `twinline case complaint` (cmd_case.c) against the same dispatcher:
     * the printed dispute, then a case the tenant does not have. */
    {
        char *body = NULL, *out_buf = NULL;
        size_t out_len = 0;
        FILE *out = open_memstream(&out_buf, &out_len);
        err e = {0};

        assert_int_equal(
            cmd_case_dispute_body(0, "X-1", "wrong amount", "crm-9", &body, &e),
            ST_OK);
        assert_int_equal(cmd_case_request(w.b, w.f.cfg.prefix, "bank1",
                                          "complaint", body, 5000, out, &e),
                         ST_OK);
        fclose(out);
        has(out_buf, "\"kind\": \"complaint\"");
        has(out_buf, "\"reason\": \"wrong amount\"");
        free(out_buf);
        free(body);
        body = NULL;
        out_buf = NULL;
        out = open_memstream(&out_buf, &out_len);
        assert_int_equal(
            cmd_case_dispute_body(0, "NO-SUCH", "x", NULL, &body, &e), ST_OK);
        assert_int_equal(cmd_case_request(w.b, w.f.cfg.prefix, "bank1",
                                          "complaint", body, 5000, out, &e),
                         ST_NOT_FOUND);
        fclose(out);
        has(e.msg, "not_found");
        assert_string_equal(out_buf, "");
        free(out_buf);
        free(body);
    }
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM case_disputes"),
                     3);

    harness_world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_report_and_statements, env_setup,
                                        env_teardown),
        cmocka_unit_test(test_dispute_api),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
