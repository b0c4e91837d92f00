#include "cmd_bill_reconcile.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli_table.h"
#include "cmd_bill_report.h"
#include "invoice.h"
#include "money.h"

#define RC_COLS 6

/*
 * Every check is one statement over ($1 tenant or NULL, $2/$3 the
 * period's bounds or NULL, $4 the period "YYYY-MM" or NULL) returning rows
 * (tenant, currency, expected, found); a row whose two figures differ is a
 * mismatch. Outcomes are scoped by their time, documents by their period.
 * A statement that does not use a parameter still names it
 * ("$n IS NOT DISTINCT FROM $n") so that PostgreSQL can type all four.
 */
#define RC_OUTCOMES(alias)                                                     \
    " ($1::text IS NULL OR " alias ".tenant_id = $1)"                          \
    " AND ($2::timestamptz IS NULL OR " alias ".created_at >= $2)"             \
    " AND ($3::timestamptz IS NULL OR " alias ".created_at < $3)"

/* Each billable outcome that may be billed (not under review, not
 * overturned) has its line. */
DB_STMT(rc_billed, 4,
        "SELECT o.tenant_id, '-', count(*),"
        "  count(*) FILTER (WHERE EXISTS (SELECT 1 FROM billable_lines l"
        "    WHERE l.outcome_id = o.id))"
        " FROM outcomes o WHERE o.billable"
        "  AND (o.review IS NULL OR o.review = 'confirmed')"
        "  AND $4::text IS NOT DISTINCT FROM $4 AND" RC_OUTCOMES(
            "o") " GROUP BY 1 ORDER BY o.tenant_id COLLATE \"C\"");

/* A result's split (platform fee, operator, workers) sums to its price. */
DB_STMT(rc_splits, 4,
        "SELECT b.tenant_id, b.currency, sum(b.amount_minor),"
        "  sum(coalesce((SELECT sum(s.amount_minor) FROM outcome_splits s"
        "    WHERE s.outcome_id = b.outcome_id), 0))"
        " FROM billable_outcomes b WHERE $4::text IS NOT DISTINCT FROM $4"
        "  AND ($1::text IS NULL OR b.tenant_id = $1)"
        "  AND ($2::timestamptz IS NULL OR b.outcome_at >= $2)"
        "  AND ($3::timestamptz IS NULL OR b.outcome_at < $3)"
        " GROUP BY 1, 2 ORDER BY b.tenant_id COLLATE \"C\", 2");

/* The ledger's net on one of the tenant's accounts over every entry of the
 * outcomes in scope equals the amount of the outcomes in one state. */
#define RC_LEDGER(state, kind)                                                 \
    "WITH b AS (SELECT outcome_id, tenant_id, currency, amount_minor, state"   \
    "   FROM billable_outcomes WHERE $4::text IS NOT DISTINCT FROM $4"         \
    "   AND ($1::text IS NULL OR tenant_id = $1)"                              \
    "   AND ($2::timestamptz IS NULL OR outcome_at >= $2)"                     \
    "   AND ($3::timestamptz IS NULL OR outcome_at < $3)),"                    \
    " l AS (SELECT b.tenant_id, a.currency, sum(p.amount_minor) AS net"        \
    "   FROM b JOIN journal_entries j ON j.idem_key = ANY (ARRAY["             \
    "     'outcome:' || b.outcome_id || ':pending',"                           \
    "     'outcome:' || b.outcome_id || ':verified',"                          \
    "     'outcome:' || b.outcome_id || ':pending:reversed',"                  \
    "     'outcome:' || b.outcome_id || ':verified:reversed'])"                \
    "   JOIN postings p ON p.entry_id = j.id"                                  \
    "   JOIN accounts a ON a.id = p.account_id AND a.party = b.tenant_id"      \
    "    AND a.kind = '" kind "' GROUP BY 1, 2),"                              \
    " x AS (SELECT tenant_id, currency, sum(amount_minor) FILTER"              \
    "   (WHERE state = '" state "') AS amt FROM b GROUP BY 1, 2)"              \
    " SELECT x.tenant_id, x.currency, coalesce(x.amt, 0),"                     \
    "  coalesce(l.net, 0) FROM x LEFT JOIN l USING (tenant_id, currency)"      \
    " ORDER BY x.tenant_id COLLATE \"C\", 2"

DB_STMT(rc_receivable, 4, RC_LEDGER("verified", "bank_receivable"));
DB_STMT(rc_unverified, 4, RC_LEDGER("pending", "bank_unverified_receivable"));

/*
 * What the issued documents of the period charge (invoices plus credit
 * notes, which are negative) equals the invoiced lines whose result still
 * stands: a reversed result must have been credited.
 */
DB_STMT(rc_invoiced, 4,
        "WITH d AS (SELECT id, kind, tenant_id, currency, total_minor"
        "   FROM invoices WHERE state = 'issued'"
        "   AND ($1::text IS NULL OR tenant_id = $1)"
        "   AND ($4::text IS NULL OR period = $4)"
        "   AND $2::timestamptz IS NOT DISTINCT FROM $2"
        "   AND $3::timestamptz IS NOT DISTINCT FROM $3)"
        " SELECT d.tenant_id, d.currency, coalesce(sum((SELECT"
        "   sum(il.amount_minor) FROM invoice_lines il"
        "   LEFT JOIN billable_outcomes b"
        "     ON b.billable_line_id = il.billable_line_id"
        "   WHERE il.invoice_id = d.id AND b.state IS DISTINCT FROM"
        "     'reversed')) FILTER (WHERE d.kind = 'invoice'), 0),"
        "  sum(d.total_minor)"
        " FROM d GROUP BY 1, 2 ORDER BY d.tenant_id COLLATE \"C\", 2");

/* Penalties and minimum top-ups (schema/008) are posted to the bank's
 * receivable for exactly their amount. */
DB_STMT(rc_adjustments, 4,
        "SELECT a.tenant_id, a.currency, sum(a.amount_minor),"
        "  coalesce(sum((SELECT sum(p.amount_minor) FROM journal_entries j"
        "    JOIN postings p ON p.entry_id = j.id"
        "    JOIN accounts ac ON ac.id = p.account_id"
        "     AND ac.kind = 'bank_receivable'"
        "    WHERE j.idem_key = CASE a.kind WHEN 'complaint_penalty'"
        "      THEN 'dispute:' || a.dispute_id || ':penalty'"
        "      ELSE 'minimum:' || a.contract_id || ':' || a.period END)), 0)"
        " FROM billing_adjustments a"
        " WHERE ($1::text IS NULL OR a.tenant_id = $1)"
        "  AND ($4::text IS NULL OR a.period = $4)"
        "  AND $2::timestamptz IS NOT DISTINCT FROM $2"
        "  AND $3::timestamptz IS NOT DISTINCT FROM $3"
        " GROUP BY 1, 2 ORDER BY a.tenant_id COLLATE \"C\", 2");

/* An issued document's lines add up to its stated total and count. */
DB_STMT(rc_documents, 4,
        "SELECT i.tenant_id, i.currency, count(*),"
        "  count(*) FILTER (WHERE s.n = i.line_count AND s.t = i.total_minor)"
        " FROM invoices i CROSS JOIN LATERAL (SELECT count(*) AS n,"
        "   coalesce(sum(amount_minor), 0) AS t FROM invoice_lines il"
        "   WHERE il.invoice_id = i.id) s"
        " WHERE i.state = 'issued' AND ($1::text IS NULL OR i.tenant_id = $1)"
        "  AND ($4::text IS NULL OR i.period = $4)"
        "  AND $2::timestamptz IS NOT DISTINCT FROM $2"
        "  AND $3::timestamptz IS NOT DISTINCT FROM $3"
        " GROUP BY 1, 2 ORDER BY i.tenant_id COLLATE \"C\", 2");

/* The whole ledger: debits equal credits per currency. */
DB_STMT(rc_trial, 4,
        "SELECT 'all', a.currency, 0, coalesce(sum(p.amount_minor), 0)"
        " FROM postings p JOIN accounts a ON a.id = p.account_id"
        " WHERE $1::text IS NOT DISTINCT FROM $1"
        "  AND $2::timestamptz IS NOT DISTINCT FROM $2"
        "  AND $3::timestamptz IS NOT DISTINCT FROM $3"
        "  AND $4::text IS NOT DISTINCT FROM $4"
        " GROUP BY a.currency ORDER BY 2");

typedef struct rc_check {
    const char *name;
    const db_stmt *st;
    bool money;
} rc_check;

static const rc_check checks[] = {
    {"billable outcomes billed", &rc_billed, false},
    {"splits sum to price", &rc_splits, true},
    {"receivable = verified", &rc_receivable, true},
    {"unverified = pending", &rc_unverified, true},
    {"adjustments posted", &rc_adjustments, true},
    {"documents = standing lines", &rc_invoiced, true},
    {"document totals intact", &rc_documents, false},
    {"trial balance zero", &rc_trial, true},
};

static status run_check(db *d, const rc_check *c, const char *const *params,
                        cli_table *t, cli_format fmt, FILE *out,
                        int *mismatches, err *e)
{
    db_res *r = NULL;
    status s;

    if ((s = db_run(d, c->st, params, &r, e)) != ST_OK)
        return err_wrap(e, "check \"%s\"", c->name);
    for (int i = 0; i < db_rows(r) && s == ST_OK; i++) {
        int64_t want = db_i64(r, i, 2), got = db_i64(r, i, 3);
        char a[MONEY_FORMAT_MAX], b[MONEY_FORMAT_MAX];
        const char *cells[RC_COLS];
        bool ok = want == got;

        if (!ok)
            (*mismatches)++;
        if (fmt == ADMIN_FMT_KV) {
            fprintf(out, "reconcile.%s.%s.%s=%s %" PRId64 " %" PRId64 "\n",
                    db_val(r, i, 0), db_val(r, i, 1), c->st->name + 3,
                    ok ? "ok" : "MISMATCH", want, got);
            continue;
        }
        if (c->money) {
            money_format_amount(a, sizeof(a), db_val(r, i, 1), want);
            money_format_amount(b, sizeof(b), db_val(r, i, 1), got);
        } else {
            snprintf(a, sizeof(a), "%" PRId64, want);
            snprintf(b, sizeof(b), "%" PRId64, got);
        }
        cells[0] = c->name;
        cells[1] = db_val(r, i, 0);
        cells[2] = db_val(r, i, 1);
        cells[3] = a;
        cells[4] = b;
        cells[5] = ok ? "ok" : "MISMATCH";
        s = cli_table_add(t, cells, e);
    }
    db_res_free(r);
    return s;
}

status cmd_bill_reconcile(db *d, const char *tenant, const char *period,
                          cli_format fmt, FILE *out, int *mismatches, err *e)
{
    static const char *const heads[RC_COLS] = {"CHECK",    "TENANT", "CUR",
                                               "EXPECTED", "FOUND",  "RESULT"};
    char start[INVOICE_TIME_MAX], end[INVOICE_TIME_MAX];
    const char *params[4] = {tenant, NULL, NULL, period};
    cli_table *t = NULL;
    status s;

    *mismatches = 0;
    if ((s = cmd_bill_scope(d, tenant, period, start, end, e)) != ST_OK)
        goto out;
    if (period != NULL) {
        params[1] = start;
        params[2] = end;
    }
    if (fmt == ADMIN_FMT_TABLE &&
        (s = cli_table_create(&t, RC_COLS, heads, e)) != ST_OK)
        goto out;
    if (t != NULL) {
        cli_table_right(t, 3);
        cli_table_right(t, 4);
    }
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        s = run_check(d, &checks[i], params, t, fmt, out, mismatches, e);
        if (s != ST_OK)
            goto out;
    }
    if (fmt == ADMIN_FMT_KV) {
        fprintf(out, "reconcile.mismatches=%d\n", *mismatches);
        goto out;
    }
    fprintf(out,
            "Reconciliation, %s (outcomes by their time, documents by "
            "their period, UTC; amounts in major units)\n",
            period != NULL ? period : "all periods");
    cli_table_print(t, out);
    if (*mismatches == 0)
        fprintf(out, "all %d figures agree\n", cli_table_rows(t));
    else
        fprintf(out, "%d figure%s not agree\n", *mismatches,
                *mismatches == 1 ? " does" : "s do");
out:
    cli_table_destroy(t);
    return s;
}
