#include "cmd_bill_report.h"

#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "cli_table.h"
#include "invoice.h"
#include "money.h"

#define BR_COLS 12

DB_STMT(br_tenant_known, 1, "SELECT 1 FROM tenants WHERE id = $1");

/*
 * The outcomes in scope with what their split pays out to people (all but
 * the platform's share), then the ledger's net on one account kind for
 * the verified entries of those outcomes (and their reversals), which
 * must equal the verified amounts (payables are credits: negated).
 * $1 tenant or NULL, $2/$3 the period's bounds or NULL.
 */
#define BR_SCOPE                                                               \
    "WITH b AS (SELECT b.outcome_id, b.tenant_id, b.operator_id, b.case_id,"   \
    "   b.currency, b.amount_minor, b.state, coalesce(s.payout, 0) AS payout"  \
    "   FROM billable_outcomes b LEFT JOIN (SELECT outcome_id,"                \
    "     sum(amount_minor) FILTER (WHERE role <> 'platform') AS payout"       \
    "     FROM outcome_splits GROUP BY outcome_id) s USING (outcome_id)"       \
    "   WHERE ($1::text IS NULL OR b.tenant_id = $1)"                          \
    "     AND ($2::timestamptz IS NULL OR b.outcome_at >= $2)"                 \
    "     AND ($3::timestamptz IS NULL OR b.outcome_at < $3)),"

#define BR_FIGURES(key)                                                        \
    " f AS (SELECT " key " AS k, currency,"                                    \
    "   count(*) FILTER (WHERE state = 'verified') AS nv,"                     \
    "   coalesce(sum(amount_minor) FILTER (WHERE state = 'verified'), 0)"      \
    "     AS av,"                                                              \
    "   count(*) FILTER (WHERE state = 'pending') AS np,"                      \
    "   coalesce(sum(amount_minor) FILTER (WHERE state = 'pending'), 0)"       \
    "     AS ap,"                                                              \
    "   count(*) FILTER (WHERE state = 'reversed') AS nr,"                     \
    "   coalesce(sum(amount_minor) FILTER (WHERE state = 'reversed'), 0)"      \
    "     AS ar,"                                                              \
    "   coalesce(sum(amount_minor - payout) FILTER (WHERE state ="             \
    "     'verified'), 0) AS margin,"                                          \
    "   count(DISTINCT case_id) FILTER (WHERE state = 'verified') AS cases"    \
    "   FROM b GROUP BY 1, 2),"

#define BR_LEDGER(key, kind, sign)                                             \
    " l AS (SELECT " key " AS k, a.currency," sign                             \
    "   coalesce(sum(p.amount_minor), 0) AS net FROM b"                        \
    "   JOIN journal_entries j ON j.idem_key = ANY (ARRAY["                    \
    "     'outcome:' || b.outcome_id || ':verified',"                          \
    "     'outcome:' || b.outcome_id || ':verified:reversed'])"                \
    "   JOIN postings p ON p.entry_id = j.id"                                  \
    "   JOIN accounts a ON a.id = p.account_id AND a.kind = '" kind "'"        \
    "     AND a.party = " key " GROUP BY 1, 2)"                                \
    " SELECT f.k, f.currency, nv, av, np, ap, nr, ar, margin, cases,"          \
    "   coalesce(l.net, 0) FROM f LEFT JOIN l ON l.k = f.k"                    \
    "   AND l.currency = f.currency ORDER BY f.k COLLATE \"C\", f.currency"

DB_STMT(br_by_tenant, 3,
        BR_SCOPE BR_FIGURES("tenant_id")
            BR_LEDGER("b.tenant_id", "bank_receivable", ""));
DB_STMT(br_by_operator, 3,
        BR_SCOPE BR_FIGURES("operator_id")
            BR_LEDGER("b.operator_id", "operator_payable", "-"));

/* The margin per case in minor units, rounded half up (margins are never
 * negative: the split's parts are). 0 without cases. */
static int64_t per_case(int64_t margin, int64_t cases)
{
    if (cases <= 0)
        return 0;
    return margin / cases + (2 * (margin % cases) >= cases ? 1 : 0);
}

static status block(db *d, const db_stmt *st, const char *const *params,
                    const char *title, const char *key_head,
                    const char *kv_prefix, const char *ledger_head,
                    cli_format fmt, FILE *out, err *e)
{
    static const char *const kv_names[] = {
        "verified",      "billed_minor", "pending",
        "pending_minor", "reversed",     "reversed_minor",
        "margin_minor",  "margin_cases", "margin_per_case_minor",
        "ledger_minor"};
    const char *heads[BR_COLS] = {
        key_head,   "CUR",    "VERIFIED", "BILLED", "PENDING",     "AMOUNT",
        "REVERSED", "AMOUNT", "MARGIN",   "CASES",  "MARGIN/CASE", ledger_head};
    char amt[6][MONEY_FORMAT_MAX];
    cli_table *t = NULL;
    db_res *r = NULL;
    status s;

    if ((s = db_run(d, st, params, &r, e)) != ST_OK)
        return s;
    if (fmt == ADMIN_FMT_KV) {
        for (int i = 0; i < db_rows(r); i++) {
            int64_t v[10];

            for (int c = 0; c < 8; c++)
                v[c] = db_i64(r, i, c + 2);
            v[8] = per_case(v[6], v[7]);
            v[9] = db_i64(r, i, 10);
            for (int c = 0; c < 10; c++)
                fprintf(out, "billreport.%s.%s.%s.%s=%" PRId64 "\n", kv_prefix,
                        db_val(r, i, 0), db_val(r, i, 1), kv_names[c], v[c]);
        }
        goto out;
    }
    if ((s = cli_table_create(&t, BR_COLS, heads, e)) != ST_OK)
        goto out;
    for (int c = 2; c < BR_COLS; c++)
        cli_table_right(t, c);
    for (int i = 0; i < db_rows(r) && s == ST_OK; i++) {
        const char *cur = db_val(r, i, 1);
        const char *cells[BR_COLS];

        money_format_amount(amt[0], MONEY_FORMAT_MAX, cur, db_i64(r, i, 3));
        money_format_amount(amt[1], MONEY_FORMAT_MAX, cur, db_i64(r, i, 5));
        money_format_amount(amt[2], MONEY_FORMAT_MAX, cur, db_i64(r, i, 7));
        money_format_amount(amt[3], MONEY_FORMAT_MAX, cur, db_i64(r, i, 8));
        money_format_amount(amt[4], MONEY_FORMAT_MAX, cur,
                            per_case(db_i64(r, i, 8), db_i64(r, i, 9)));
        money_format_amount(amt[5], MONEY_FORMAT_MAX, cur, db_i64(r, i, 10));
        cells[0] = db_val(r, i, 0);
        cells[1] = cur;
        cells[2] = db_val(r, i, 2);
        cells[3] = amt[0];
        cells[4] = db_val(r, i, 4);
        cells[5] = amt[1];
        cells[6] = db_val(r, i, 6);
        cells[7] = amt[2];
        cells[8] = amt[3];
        cells[9] = db_val(r, i, 9);
        cells[10] = amt[4];
        cells[11] = amt[5];
        s = cli_table_add(t, cells, e);
    }
    if (s != ST_OK)
        goto out;
    fprintf(out, "%s\n", title);
    if (cli_table_rows(t) == 0)
        fprintf(out, "  no billable outcomes under a price plan\n");
    else
        cli_table_print(t, out);
out:
    cli_table_destroy(t);
    db_res_free(r);
    return s;
}

status cmd_bill_scope(db *d, const char *tenant, const char *period,
                      char *start, char *end, err *e)
{
    const char *params[1] = {tenant};
    db_res *r = NULL;
    status s;

    if (period != NULL &&
        (s = invoice_period_bounds(period, start, end, e)) != ST_OK)
        return s;
    if (tenant == NULL)
        return ST_OK;
    if ((s = db_run(d, &br_tenant_known, params, &r, e)) != ST_OK)
        return s;
    if (db_rows(r) == 0)
        s = err_set(e, ST_UNKNOWN_TENANT,
                    "tenant \"%s\" is not registered; run: twinline "
                    "tenant list",
                    tenant);
    db_res_free(r);
    return s;
}

status cmd_bill_report(db *d, const char *tenant, const char *period,
                       cli_format fmt, FILE *out, err *e)
{
    char start[INVOICE_TIME_MAX], end[INVOICE_TIME_MAX];
    const char *params[3] = {tenant, NULL, NULL};
    status s = cmd_bill_scope(d, tenant, period, start, end, e);

    if (s != ST_OK)
        return s;
    if (period != NULL) {
        params[1] = start;
        params[2] = end;
    }
    if (fmt == ADMIN_FMT_KV)
        fprintf(out, "billreport.period=%s\n", period != NULL ? period : "all");
    else
        fprintf(out,
                "Billing report, %s (outcomes by their time, UTC; "
                "amounts in major units)\n\n",
                period != NULL ? period : "all periods");
    s = block(d, &br_by_tenant, params, "By tenant (receivable)", "TENANT",
              "tenant", "LEDGER", fmt, out, e);
    if (s != ST_OK)
        goto out;
    if (fmt == ADMIN_FMT_TABLE)
        fputc('\n', out);
    s = block(d, &br_by_operator, params, "By operator (payable)", "OPERATOR",
              "operator", "LEDGER", fmt, out, e);
    if (s == ST_OK && fmt == ADMIN_FMT_TABLE)
        fprintf(out, "\nBILLED is verified outcomes; MARGIN is their bank "
                     "price minus operator, worker and AI shares; LEDGER is "
                     "the ledger's verified balance for the same outcomes "
                     "(equals BILLED for tenants, the operator share for "
                     "operators).\n");
out:
    return s;
}
