/*
 * The pay-per-result flow (billing_flow.c) on a real database: a month of
 * a bank's overdue-loan cases worked out by hand, replays, reversals.
 *
 * Plan of contract c1 (bank jsbank, operator op1), CNY, half_even:
 *   resolved: CNY 15.00 per case + 8% of collected_minor, capped at
 *   CNY 500.00 per case. Platform fee 10%; the rest split operator 20 :
 *   human worker 60 : AI worker 20 (largest remainder). Verification
 *   window 7 days, clawback window 60 days.
 *
 * October 2025, outcome by outcome (amounts in fen):
 *   L-1 10-02 collected 2,000.00: 1500 + 16000           = 17500
 *        fee 1750; 15750 -> op 3150, w1 9450, ai 3150
 *   L-2 10-15 collected 10,000.00: 1500 + min(80000, 50000) = 51500
 *        fee 5150; 46350 -> op 9270, w1 27810, ai 9270
 *   L-3 10-20 collected 123.45: 8% = 987.6 -> 988; 1500 + 988 = 2488
 *        fee 248.8 -> 249; 2239 -> 447.8, 1343.4, 447.8: floors 447,
 *        1343, 447 leave 2 units for the largest remainders (.8 op, .8
 *        ai; ties to the first listed) -> op 448, w1 1343, ai 448
 *   L-4 10-03 collected 500.00: 1500 + 4000 = 5500
 *        fee 550; 4950 -> op 990, w1 2970, ai 990
 * Complaints: L-4 on 10-05 and L-2 on 10-20, both inside the 7-day
 * window, so both are reversed before any invoice. L-1 and L-3 verify.
 * Invoice INV-jsbank-000001 for 2025-10: 2 lines, 17500 + 2488 = 19988.
 * Reopen of L-1 on 11-10 (inside the 60-day clawback): credit note
 * CN-jsbank-000001 for -17500; the invoice plus the note stand at 2488.
 * Statements afterwards (payables are credit balances, shown positive):
 *   op1 earned 3150 + 448, deducted 3150         -> owed 448
 *   w1  earned 9450 + 1343, deducted 9450        -> owed 1343
 *   ai1 earned 3150 + 448, deducted 3150         -> owed 448
 *   platform revenue 1750 + 249 - 1750           -> 249
 *   bank receivable 17500 + 2488 - 17500         -> 2488
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "billing_flow.h"
#include "billing_month.h"
#include "fixture.h"
#include "invoice.h"
#include "ledger.h"
#include "signer.h"
#include "tl_test.h"

typedef billing_month_env env;

static void dispute(env *v, const char *ext, const char *kind, const char *at)
{
    billing_month_dispute(&v->f, ext, kind, at);
}

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
    billing_month_env_up(v, "billflow", NULL, cases,
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

/* Rate everything, process disputes, verify, credit: what the service's
 * batch and verification passes do. */
static void run_all(env *v, billing_counts *c)
{
    bool handled[8];
    int64_t n = 0;
    int notes = 0;
    err e = {0};

    if (billing_flow_rate(v->flow, v->f.db, v->ids, v->n, handled, c, &e) !=
            ST_OK ||
        billing_flow_disputes(v->f.db, 100, &n, &e) != ST_OK ||
        billing_flow_verify(v->f.db, 100, &n, &e) != ST_OK ||
        billing_flow_credit(v->f.db, v->sg, &notes, &e) != ST_OK)
        fail_msg("flow: %s", e.msg);
    (void)handled;
}

static int64_t balance(env *v, const char *party, const char *kind)
{
    char sql[512];

    snprintf(sql, sizeof(sql),
             "SELECT coalesce(sum(p.amount_minor), 0) FROM postings p"
             " JOIN accounts a ON a.id = p.account_id"
             " WHERE a.party = '%s' AND a.kind = '%s'",
             party, kind);
    return fixture_i64(&v->f, sql);
}

static int64_t ledger_count(env *v)
{
    return fixture_i64(&v->f, "SELECT (SELECT count(*) FROM journal_entries)"
                              " * 100000 + (SELECT count(*) FROM postings)");
}

static void assert_balanced(env *v)
{
    ledger_trial_row *rows = NULL;
    int n = 0;
    err e = {0};

    if (ledger_trial_balance(v->f.db, &rows, &n, &e) != ST_OK)
        fail_msg("trial balance: %s", e.msg);
    for (int i = 0; i < n; i++)
        assert_int_equal(rows[i].net_minor, 0);
    free(rows);
}

static void test_month_by_hand(void **state)
{
    env *v = *state;
    billing_counts c = {0};
    invoice_closed closed;
    int64_t before;
    err e = {0};

    /* The complaints reach billing with the outcomes, inside the
     * verification window of L-2 and L-4. */
    dispute(v, "L-4", "complaint", "2025-10-05 09:00Z");
    dispute(v, "L-2", "complaint", "2025-10-20 09:00Z");
    run_all(v, &c);
    assert_int_equal(c.billed, 4);
    assert_int_equal(fixture_i64(&v->f, "SELECT amount_minor FROM"
                                        " billable_lines bl JOIN cases c ON"
                                        " c.id = bl.case_id WHERE"
                                        " c.external_id = 'L-2'"),
                     51500);
    assert_int_equal(fixture_i64(&v->f, "SELECT amount_minor FROM"
                                        " billable_lines bl JOIN cases c ON"
                                        " c.id = bl.case_id WHERE"
                                        " c.external_id = 'L-3'"),
                     2488);
    assert_int_equal(fixture_i64(&v->f, "SELECT sum(amount_minor) FROM"
                                        " billable_lines"),
                     17500 + 51500 + 2488 + 5500);
    /* L-3's split, largest remainder. */
    assert_int_equal(fixture_i64(&v->f,
                                 "SELECT sum(s.amount_minor * CASE role WHEN"
                                 " 'platform' THEN 1 WHEN 'operator' THEN"
                                 " 10000 WHEN 'worker' THEN 100000000 ELSE"
                                 " 0 END) FROM outcome_splits s JOIN"
                                 " billable_outcomes b USING (outcome_id)"
                                 " JOIN cases c ON c.id = b.case_id WHERE"
                                 " c.external_id = 'L-3'"),
                     249 + 448 * 10000LL + 1343 * 100000000LL);
    assert_int_equal(fixture_i64(&v->f, "SELECT count(*) FROM"
                                        " billable_outcomes WHERE state ="
                                        " 'verified'"),
                     2);
    assert_int_equal(fixture_i64(&v->f, "SELECT count(*) FROM"
                                        " billable_outcomes WHERE state ="
                                        " 'reversed'"),
                     2);
    if (invoice_close_period(v->f.db, "jsbank", "2025-10", v->sg, NULL, 0,
                             &closed, &e) != ST_OK)
        fail_msg("close: %s", e.msg);
    assert_int_equal(closed.n, 1);
    assert_int_equal(closed.lines, 2);
    assert_int_equal(fixture_i64(&v->f, "SELECT total_minor FROM invoices"
                                        " WHERE kind = 'invoice'"),
                     19988);
    dispute(v, "L-1", "reopen", "2025-11-10 09:00Z");
    run_all(v, &c);
    assert_int_equal(fixture_i64(&v->f, "SELECT total_minor FROM invoices"
                                        " WHERE kind = 'credit_note'"),
                     -17500);
    assert_int_equal(fixture_i64(&v->f, "SELECT sum(total_minor) FROM"
                                        " invoices"),
                     2488);
    assert_int_equal(balance(v, "op1", "operator_payable"), -448);
    assert_int_equal(balance(v, "w1", "worker_payable"), -1343);
    assert_int_equal(balance(v, "ai1", "worker_payable"), -448);
    assert_int_equal(balance(v, "platform", "platform_revenue"), -249);
    assert_int_equal(balance(v, "jsbank", "bank_receivable"), 2488);
    assert_int_equal(balance(v, "jsbank", "bank_unverified_receivable"), 0);
    assert_int_equal(balance(v, "jsbank", "unverified_revenue"), 0);
    assert_balanced(v);

    /* Replaying every event and pass twice changes nothing. */
    before = ledger_count(v);
    run_all(v, &c);
    run_all(v, &c);
    assert_int_equal(ledger_count(v), before);
    assert_int_equal(fixture_i64(&v->f, "SELECT count(*) FROM invoices"), 2);
    assert_int_equal(c.billed, 4);
    assert_balanced(v);

    /* Reversing everything nets every account to zero. */
    dispute(v, "L-3", "complaint", "2025-11-11 09:00Z");
    run_all(v, &c);
    assert_int_equal(fixture_i64(&v->f,
                                 "SELECT count(*) FROM (SELECT account_id"
                                 " FROM postings GROUP BY account_id HAVING"
                                 " sum(amount_minor) <> 0) x"),
                     0);
    assert_int_equal(fixture_i64(&v->f, "SELECT sum(total_minor) FROM"
                                        " invoices"),
                     0);
    assert_balanced(v);
}

/*
 * Handoffs: case H-1's first task was done by w2, its second, which
 * records the billable outcome, by w1. Price 1500 (collected 0), fee 10%
 * = 150; the 1350 left splits operator 20 : worker 60 : AI 20, and the
 * worker share equally between w1 and w2: weights 40 : 60 : 40 : 60 of
 * 200 = op1 270, w1 405, ai1 270, w2 405 (handoff).
 */
static void test_handoff_split(void **state)
{
    env *v = *state;
    billing_counts c = {0};
    bool handled[1];
    int64_t id, n = 0;
    char buf[256];
    err e = {0};

    fixture_exec(&v->f,
                 "INSERT INTO workers (id, pool_id, name) VALUES"
                 " ('w2', 'p1', 'W2');"
                 "WITH c AS (INSERT INTO cases (tenant_id, external_id,"
                 "  case_type, playbook_version, created_at) VALUES"
                 "  ('jsbank', 'H-1', 'loan_overdue', 1, '2025-10-07Z')"
                 "  RETURNING id)"
                 " INSERT INTO tasks (case_id, tenant_id, step, state,"
                 "  worker_id) SELECT id, 'jsbank', 'contact', 'completed',"
                 "  'w2' FROM c");
    id = billing_month_outcome_on(&v->f, "H-1", 0, "2025-10-08 10:00Z");
    if (billing_flow_rate(v->flow, v->f.db, &id, 1, handled, &c, &e) != ST_OK ||
        billing_flow_verify(v->f.db, 100, &n, &e) != ST_OK)
        fail_msg("flow: %s", e.msg);
    assert_int_equal(c.billed, 1);
    fixture_str(&v->f,
                "SELECT string_agg(role || ' ' || party || ' ' ||"
                " amount_minor, ', ' ORDER BY role, party) FROM"
                " outcome_splits",
                buf, sizeof(buf));
    assert_string_equal(buf, "ai_worker ai1 270, handoff w2 405, "
                             "operator op1 270, platform platform 150, "
                             "worker w1 405");
    assert_int_equal(balance(v, "w2", "worker_payable"), -405);
    assert_int_equal(balance(v, "w1", "worker_payable"), -405);
    assert_balanced(v);
}

/*
 * The flow posts through the ledger's writer, which compares fingerprints:
 * an entry already posted under an outcome's pending key with the same
 * postings is the same entry (a replay posts nothing twice), but a
 * different one under the key is refused with the key named, and the
 * whole batch with it: no line, no split, no entry is stored.
 */
static void test_pending_key_taken(void **state)
{
    env *v = *state;
    billing_counts c = {0};
    bool handled[8];
    char key1[LEDGER_KEY_MAX + 1], key2[LEDGER_KEY_MAX + 1];
    int64_t unv = 0, rev = 0, id = 0, before;
    err e = {0};

    if (ledger_account_ensure(v->f.db, "jsbank",
                              LEDGER_BANK_UNVERIFIED_RECEIVABLE, "CNY", &unv,
                              &e) != ST_OK ||
        ledger_account_ensure(v->f.db, "jsbank", LEDGER_UNVERIFIED_REVENUE,
                              "CNY", &rev, &e) != ST_OK ||
        ledger_key_outcome(key1, sizeof(key1), v->ids[0], "pending", &e) !=
            ST_OK ||
        ledger_key_outcome(key2, sizeof(key2), v->ids[1], "pending", &e) !=
            ST_OK)
        fail_msg("setup: %s", e.msg);
    /* L-2's pending key holds something else: refused, nothing stored. */
    if (ledger_post(v->f.db, key2, (ledger_posting[]){{unv, 100}, {rev, -100}},
                    2, &id, &e) != ST_OK)
        fail_msg("post: %s", e.msg);
    before = ledger_count(v);
    assert_int_equal(
        billing_flow_rate(v->flow, v->f.db, v->ids, v->n, handled, &c, &e),
        ST_CONFLICT);
    assert_non_null(strstr(e.msg, key2));
    assert_non_null(strstr(e.msg, "different postings"));
    assert_int_equal(c.billed, 0);
    assert_int_equal(ledger_count(v), before);
    assert_int_equal(fixture_i64(&v->f, "SELECT (SELECT count(*) FROM"
                                        " billable_lines) + (SELECT count(*)"
                                        " FROM billable_outcomes) + (SELECT"
                                        " count(*) FROM outcome_splits)"),
                     0);
}

/* L-1's pending entry posted before the flow, exactly as the flow posts
 * it (17500 on the bank's unverified receivable): the flow bills L-1 and
 * keeps that entry; nothing is posted twice. */
static void test_pending_key_same(void **state)
{
    env *v = *state;
    billing_counts c = {0};
    bool handled[8];
    char key1[LEDGER_KEY_MAX + 1];
    int64_t unv = 0, rev = 0, id = 0;
    err e = {0};

    if (ledger_account_ensure(v->f.db, "jsbank",
                              LEDGER_BANK_UNVERIFIED_RECEIVABLE, "CNY", &unv,
                              &e) != ST_OK ||
        ledger_account_ensure(v->f.db, "jsbank", LEDGER_UNVERIFIED_REVENUE,
                              "CNY", &rev, &e) != ST_OK ||
        ledger_key_outcome(key1, sizeof(key1), v->ids[0], "pending", &e) !=
            ST_OK ||
        ledger_post(v->f.db, key1,
                    (ledger_posting[]){{rev, -17500}, {unv, 17500}}, 2, &id,
                    &e) != ST_OK)
        fail_msg("setup: %s", e.msg);
    if (billing_flow_rate(v->flow, v->f.db, v->ids, v->n, handled, &c, &e) !=
        ST_OK)
        fail_msg("rate: %s", e.msg);
    assert_int_equal(c.billed, 4);
    /* Four pending entries of two postings, L-1's the one posted first. */
    assert_int_equal(ledger_count(v), 4 * 100000 + 8);
    {
        char sql[LEDGER_KEY_MAX + 64];

        snprintf(sql, sizeof(sql),
                 "SELECT id FROM journal_entries WHERE idem_key = '%s'", key1);
        assert_int_equal(fixture_i64(&v->f, sql), id);
    }
    assert_int_equal(balance(v, "jsbank", "bank_unverified_receivable"),
                     17500 + 51500 + 2488 + 5500);
    assert_balanced(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_month_by_hand, env_setup,
                                        env_teardown),
        cmocka_unit_test_setup_teardown(test_handoff_split, env_setup,
                                        env_teardown),
        cmocka_unit_test_setup_teardown(test_pending_key_taken, env_setup,
                                        env_teardown),
        cmocka_unit_test_setup_teardown(test_pending_key_same, env_setup,
                                        env_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
