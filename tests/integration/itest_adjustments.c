/*
 * Complaint penalties and the monthly minimum (schema/008), through
 * billing_flow, invoice close and `twinline bill reconcile`.
 *
 * The parties of tests/billing_month.c plus plan version 2 of contract c1,
 * in effect from 2025-09-01 (so for every October case): CNY 15.00 per
 * resolved case, complaint penalty CNY 30.00, monthly minimum CNY 100.00,
 * verification 60 s, fee 10%, split 20 : 60 : 20.
 *
 * October 2025, by hand (fen):
 *   L-1 10-02, L-2 10-03, L-3 10-04: 1500 each, rated pending.
 *   Complaint on L-2 10-05: L-2 reversed (inside its clawback window) and
 *   a penalty of -3000 for 2025-10. Then L-1 and L-3 are verified.
 *   A second complaint on L-4 (a case with no rated outcome, so no plan
 *   pinned): nothing reversed, no penalty.
 *   Close 2025-10: verified results 1500 + 1500 = 3000 < 10000, so a
 *   top-up of 7000. Invoice lines: 1 L-1 1500, 2 L-3 1500,
 *   3 complaint_penalty -3000, 4 monthly_minimum 7000; total 7000.
 *   Ledger, jsbank bank_receivable: 1500 + 1500 - 3000 + 7000 = 7000;
 *   penalty +3000; platform_revenue gets the 7000 top-up besides the fees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "billing_flow.h"
#include "billing_month.h"
#include "cmd_bill_reconcile.h"
#include "invoice.h"
#include "signer.h"
#include "tl_test.h"

#define OUT_MAX 65536

static const char plan_v2[] =
    "INSERT INTO contract_plans (contract_id, version, effective_from, plan,"
    "  verification_s, clawback_s, platform_fee_bps, operator_weight,"
    "  worker_weight, ai_weight, ai_party) VALUES ('c1', 2, '2025-09-01Z',"
    "  '{\"currency\":\"CNY\",\"outcomes\":{\"resolved\":{\"price_minor\":"
    "1500}},\"complaint_penalty_minor\":3000,"
    "\"monthly_minimum_minor\":10000}', 60, 5184000, 1000, 20, 60, 20,"
    "  'ai1')";

typedef billing_month_env env;

static const billing_month_case cases[] = {
    {"L-1", 0, "2025-10-02 10:00Z"},
    {"L-2", 0, "2025-10-03 10:00Z"},
    {"L-3", 0, "2025-10-04 10:00Z"},
};

static int env_setup(void **state)
{
    env *v = calloc(1, sizeof(*v));

    if (v == NULL)
        return -1;
    billing_month_env_up(v, "adjustments", plan_v2, cases,
                         (int)(sizeof(cases) / sizeof(cases[0])), true);
    *state = v;
    return 0;
}

static int env_teardown(void **state)
{
    billing_month_env_down(*state);
    free(*state);
    return 0;
}

static void passes(env *v)
{
    int64_t n = 0;
    err e = {0};

    if (billing_flow_disputes(v->f.db, 100, &n, &e) != ST_OK ||
        billing_flow_verify(v->f.db, 100, &n, &e) != ST_OK)
        fail_msg("passes: %s", e.msg);
}

static int64_t scalar(env *v, const char *sql)
{
    return fixture_i64(&v->f, sql);
}

/* Reconcile 2025-10 into buf; returns the number of mismatches. */
static int reconcile(env *v, cli_format fmt, char *buf)
{
    FILE *out = fmemopen(buf, OUT_MAX, "w");
    int mismatches = -1;
    err e = {0};

    assert_non_null(out);
    memset(buf, 0, OUT_MAX);
    if (cmd_bill_reconcile(v->f.db, "jsbank", "2025-10", fmt, out, &mismatches,
                           &e) != ST_OK)
        fail_msg("reconcile: %s", e.msg);
    fclose(out);
    return mismatches;
}

static void has(const char *buf, const char *want)
{
    if (strstr(buf, want) == NULL)
        fail_msg("expected \"%s\" in:\n%s", want, buf);
}

static void test_penalty_minimum_invoice(void **state)
{
    env *v = *state;
    bool handled[8];
    billing_counts c = {0};
    invoice_closed closed = {0};
    char *buf = calloc(1, OUT_MAX);
    err e = {0};

    assert_non_null(buf);
    assert_int_equal(
        billing_flow_rate(v->flow, v->f.db, v->ids, v->n, handled, &c, &e),
        ST_OK);
    assert_int_equal(c.billed, 3);
    billing_month_dispute(&v->f, "L-2", "complaint", "2025-10-05 10:00Z");
    /* A complaint about a case without a rated result: no plan is pinned
     * to it, so no penalty. */
    fixture_exec(&v->f,
                 "INSERT INTO cases (tenant_id, external_id, case_type,"
                 " playbook_version, created_at) VALUES ('jsbank', 'L-4',"
                 " 'loan_overdue', 1, '2025-10-06Z')");
    billing_month_dispute(&v->f, "L-4", "complaint", "2025-10-06 10:00Z");
    passes(v);
    passes(v); /* a second pass posts nothing again */

    assert_int_equal(scalar(v, "SELECT count(*) FROM billing_adjustments"), 1);
    assert_int_equal(scalar(v, "SELECT amount_minor FROM billing_adjustments"
                               " WHERE kind = 'complaint_penalty'"
                               " AND period = '2025-10'"),
                     -3000);
    assert_int_equal(
        scalar(v, "SELECT count(*) FROM billable_outcomes b JOIN cases c"
                  " ON c.id = b.case_id WHERE c.external_id = 'L-2'"
                  " AND b.state = 'reversed'"),
        1);
    assert_int_equal(scalar(v, "SELECT count(*) FROM billable_outcomes"
                               " WHERE state = 'verified'"),
                     2);
    assert_int_equal(scalar(v, "SELECT count(*) FROM case_disputes"
                               " WHERE processed_at IS NULL"),
                     0);

    assert_int_equal(invoice_close_period(v->f.db, "jsbank", "2025-10", v->sg,
                                          NULL, 0, &closed, &e),
                     ST_OK);
    assert_int_equal(closed.n, 1);
    assert_int_equal(closed.lines, 4);
    assert_int_equal(closed.minimums, 1);
    {
        char sql[256];

        snprintf(sql, sizeof(sql),
                 "SELECT total_minor FROM invoices WHERE id = %lld",
                 (long long)closed.ids[0]);
        assert_int_equal(scalar(v, sql), 7000);
        snprintf(sql, sizeof(sql),
                 "SELECT string_agg(line_no || ':' || outcome_code || ':' ||"
                 " amount_minor, ',' ORDER BY line_no) FROM invoice_lines"
                 " WHERE invoice_id = %lld",
                 (long long)closed.ids[0]);
        fixture_str(&v->f, sql, buf, OUT_MAX);
        assert_string_equal(buf, "1:resolved:1500,2:resolved:1500,"
                                 "3:complaint_penalty:-3000,"
                                 "4:monthly_minimum:7000");
        assert_int_equal(invoice_verify_stored(v->f.db, closed.ids[0],
                                               signer_public_key(v->sg), NULL,
                                               &e),
                         ST_OK);
    }
    /* The bank's receivable equals the invoice; the penalty account holds
     * the credit. */
    assert_int_equal(scalar(v, "SELECT sum(p.amount_minor) FROM postings p"
                               " JOIN accounts a ON a.id = p.account_id"
                               " WHERE a.party = 'jsbank'"
                               " AND a.kind = 'bank_receivable'"),
                     7000);
    assert_int_equal(scalar(v, "SELECT sum(p.amount_minor) FROM postings p"
                               " JOIN accounts a ON a.id = p.account_id"
                               " WHERE a.kind = 'penalty'"),
                     3000);
    /* Adjustments never change once posted. */
    assert_int_equal(db_exec(v->f.db,
                             "UPDATE billing_adjustments SET amount_minor = -1",
                             &e),
                     ST_INVALID);
    has(e.msg, "cannot change");

    assert_int_equal(reconcile(v, ADMIN_FMT_TABLE, buf), 0);
    has(buf, "adjustments posted");
    has(buf, "all 8 figures agree");
    assert_int_equal(reconcile(v, ADMIN_FMT_KV, buf), 0);
    has(buf, "reconcile.jsbank.CNY.invoiced=ok 7000 7000\n");
    has(buf, "reconcile.jsbank.CNY.adjustments=ok 4000 4000\n");
    has(buf, "reconcile.mismatches=0\n");

    /* Mistakes in the scope are errors, not an empty reconciliation. */
    {
        FILE *out = fmemopen(buf, OUT_MAX, "w");
        int mm = -1;

        assert_non_null(out);
        assert_int_equal(cmd_bill_reconcile(v->f.db, "nobank", NULL,
                                            ADMIN_FMT_TABLE, out, &mm, &e),
                         ST_UNKNOWN_TENANT);
        has(e.msg, "tenant \"nobank\" is not registered");
        assert_int_equal(cmd_bill_reconcile(v->f.db, NULL, "2025-13",
                                            ADMIN_FMT_TABLE, out, &mm, &e),
                         ST_INVALID);
        has(e.msg, "must be a month as YYYY-MM");
        fclose(out);
    }

    /* A billable outcome nobody billed is a mismatch the operator sees. */
    billing_month_outcome(&v->f, "L-5", 0, "2025-10-20 10:00Z");
    assert_int_equal(reconcile(v, ADMIN_FMT_TABLE, buf), 1);
    has(buf, "MISMATCH");
    has(buf, "1 figure does not agree");
    free(buf);
}

/* A period that is already closed is refused and posts no second top-up. */
static void test_close_twice(void **state)
{
    env *v = *state;
    bool handled[8];
    billing_counts c = {0};
    invoice_closed closed = {0};
    err e = {0};

    assert_int_equal(
        billing_flow_rate(v->flow, v->f.db, v->ids, v->n, handled, &c, &e),
        ST_OK);
    passes(v);
    assert_int_equal(invoice_close_period(v->f.db, "jsbank", "2025-10", v->sg,
                                          NULL, 0, &closed, &e),
                     ST_OK);
    /* 3 x 1500 verified: top-up 10000 - 4500 = 5500. */
    assert_int_equal(scalar(v, "SELECT amount_minor FROM billing_adjustments"
                               " WHERE kind = 'monthly_minimum'"),
                     5500);
    assert_int_equal(invoice_close_period(v->f.db, "jsbank", "2025-10", v->sg,
                                          NULL, 0, &closed, &e),
                     ST_CONFLICT);
    assert_non_null(strstr(e.msg, "already closed"));
    assert_int_equal(scalar(v, "SELECT count(*) FROM billing_adjustments"), 1);
    assert_int_equal(scalar(v, "SELECT count(*) FROM journal_entries"
                               " WHERE idem_key = 'minimum:c1:2025-10'"),
                     1);

    /* A complaint about October filed after October was invoiced: its
     * penalty goes on November's invoice, with November's result (L-6,
     * 1500) and November's top-up (10000 - 1500 = 8500): lines L-6 1500,
     * penalty -3000, minimum 8500, total 7000. */
    billing_month_dispute(&v->f, "L-1", "complaint", "2025-10-30 10:00Z");
    passes(v);
    assert_int_equal(scalar(v, "SELECT count(*) FROM billing_adjustments"
                               " WHERE kind = 'complaint_penalty'"
                               " AND period = '2025-10'"),
                     1);
    v->ids[0] = billing_month_outcome(&v->f, "L-6", 0, "2025-11-03 10:00Z");
    assert_int_equal(
        billing_flow_rate(v->flow, v->f.db, v->ids, 1, handled, &c, &e), ST_OK);
    passes(v);
    assert_int_equal(invoice_close_period(v->f.db, "jsbank", "2025-11", v->sg,
                                          NULL, 0, &closed, &e),
                     ST_OK);
    {
        char sql[256], buf[256];

        snprintf(sql, sizeof(sql),
                 "SELECT string_agg(outcome_code || ':' || amount_minor, ','"
                 " ORDER BY line_no) || ' ' || (SELECT total_minor FROM"
                 " invoices WHERE id = %lld) FROM invoice_lines"
                 " WHERE invoice_id = %lld",
                 (long long)closed.ids[0], (long long)closed.ids[0]);
        fixture_str(&v->f, sql, buf, sizeof(buf));
        assert_string_equal(buf, "resolved:1500,complaint_penalty:-3000,"
                                 "monthly_minimum:8500 7000");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_penalty_minimum_invoice, env_setup,
                                        env_teardown),
        cmocka_unit_test_setup_teardown(test_close_twice, env_setup,
                                        env_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
