#include "cmd_bill_report.h"

#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "cli_sql.h"
#include "cli_table.h"
#include "invoice.h"
#include "money.h"

#define BR_COLS 12

/*
 * The two blocks of the report, by tenant and by operator
 * (cli/sql/bill_report_<block>.sql, $1 tenant or NULL, $2/$3 the period's
 * bounds or NULL). Each statement has its own column enum, so a block
 * carries the columns it reads.
 */
typedef struct br_block {
    const db_stmt *st;
    int party, currency, verified, billed, pending, pending_minor, reversed,
        reversed_minor, margin, cases, ledger;
} br_block;

#define BR_BLOCK(name, NAME)                                                   \
    {                                                                          \
        &cli_sql_bill_report_##name, CLI_BILL_REPORT_##NAME##_PARTY,           \
            CLI_BILL_REPORT_##NAME##_CURRENCY,                                 \
            CLI_BILL_REPORT_##NAME##_VERIFIED,                                 \
            CLI_BILL_REPORT_##NAME##_BILLED_MINOR,                             \
            CLI_BILL_REPORT_##NAME##_PENDING,                                  \
            CLI_BILL_REPORT_##NAME##_PENDING_MINOR,                            \
            CLI_BILL_REPORT_##NAME##_REVERSED,                                 \
            CLI_BILL_REPORT_##NAME##_REVERSED_MINOR,                           \
            CLI_BILL_REPORT_##NAME##_MARGIN_MINOR,                             \
            CLI_BILL_REPORT_##NAME##_MARGIN_CASES,                             \
            CLI_BILL_REPORT_##NAME##_LEDGER_MINOR                              \
    }

static const br_block by_tenant = BR_BLOCK(tenants, TENANTS);
static const br_block by_operator = BR_BLOCK(operators, OPERATORS);

/* The margin per case in minor units, rounded half up (margins are never
 * negative: the split's parts are). 0 without cases. */
static int64_t per_case(int64_t margin, int64_t cases)
{
    if (cases <= 0)
        return 0;
    return margin / cases + (2 * (margin % cases) >= cases ? 1 : 0);
}

static status block(db *d, const br_block *k, const char *const *params,
                    const char *title, const char *key_head,
                    const char *kv_prefix, const char *ledger_head,
                    cli_format fmt, FILE *out, err *e)
{
    static const char *const kv_names[] = {
        "verified",      "billed_minor", "pending",
        "pending_minor", "reversed",     "reversed_minor",
        "margin_minor",  "margin_cases", "margin_per_case_minor",
        "ledger_minor"};
    /* Counts and their amounts side by side, each under its own name. */
    const char *heads[BR_COLS] = {
        key_head,         "CUR",      "VERIFIED",        "BILLED", "PENDING",
        "PENDING_AMOUNT", "REVERSED", "REVERSED_AMOUNT", "MARGIN", "CASES",
        "MARGIN/CASE",    ledger_head};
    char amt[6][MONEY_FORMAT_MAX];
    cli_table *t = NULL;
    db_res *r = NULL;
    status s;

    if ((s = db_run(d, k->st, params, &r, e)) != ST_OK)
        return s;
    if (fmt == ADMIN_FMT_KV) {
        for (int i = 0; i < db_rows(r); i++) {
            const int64_t margin = db_i64(r, i, k->margin);
            const int64_t cases = db_i64(r, i, k->cases);
            const int64_t v[10] = {db_i64(r, i, k->verified),
                                   db_i64(r, i, k->billed),
                                   db_i64(r, i, k->pending),
                                   db_i64(r, i, k->pending_minor),
                                   db_i64(r, i, k->reversed),
                                   db_i64(r, i, k->reversed_minor),
                                   margin,
                                   cases,
                                   per_case(margin, cases),
                                   db_i64(r, i, k->ledger)};

            for (int c = 0; c < 10; c++)
                fprintf(out, "billreport.%s.%s.%s.%s=%" PRId64 "\n", kv_prefix,
                        db_val(r, i, k->party), db_val(r, i, k->currency),
                        kv_names[c], v[c]);
        }
        goto out;
    }
    if ((s = cli_table_create(&t, BR_COLS, heads, e)) != ST_OK)
        goto out;
    for (int c = 2; c < BR_COLS; c++)
        cli_table_right(t, c);
    for (int i = 0; i < db_rows(r) && s == ST_OK; i++) {
        const char *cur = db_val(r, i, k->currency);
        const int64_t margin = db_i64(r, i, k->margin);
        const char *cells[BR_COLS];

        money_format_amount(amt[0], MONEY_FORMAT_MAX, cur,
                            db_i64(r, i, k->billed));
        money_format_amount(amt[1], MONEY_FORMAT_MAX, cur,
                            db_i64(r, i, k->pending_minor));
        money_format_amount(amt[2], MONEY_FORMAT_MAX, cur,
                            db_i64(r, i, k->reversed_minor));
        money_format_amount(amt[3], MONEY_FORMAT_MAX, cur, margin);
        money_format_amount(amt[4], MONEY_FORMAT_MAX, cur,
                            per_case(margin, db_i64(r, i, k->cases)));
        money_format_amount(amt[5], MONEY_FORMAT_MAX, cur,
                            db_i64(r, i, k->ledger));
        cells[0] = db_val(r, i, k->party);
        cells[1] = cur;
        cells[2] = db_val(r, i, k->verified);
        cells[3] = amt[0];
        cells[4] = db_val(r, i, k->pending);
        cells[5] = amt[1];
        cells[6] = db_val(r, i, k->reversed);
        cells[7] = amt[2];
        cells[8] = amt[3];
        cells[9] = db_val(r, i, k->cases);
        cells[10] = amt[4];
        cells[11] = amt[5];
        s = cli_table_add(t, cells, e);
    }
    if (s != ST_OK)
        goto out;
    fprintf(out, "%s\n", title);
    if (cli_table_rows(t) == 0)
        fprintf(out, "  no billed outcomes under a price plan\n");
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
    if ((s = db_run(d, &cli_sql_tenant_known, params, &r, e)) != ST_OK)
        return s;
    if (db_rows(r) == 0)
        s = err_set(e, ST_UNKNOWN_TENANT,
                    "tenant \"%s\" is not registered; run: twinline "
                    "tenant list",
                    tenant);
    db_res_free(r);
    return s;
}

status cmd_bill_status(db *d, const char *tenant, const char *start,
                       const char *end, cmd_bill_state *out, err *e)
{
    const char *params[3] = {tenant, start, end};
    db_res *r = NULL;
    status s = db_run(d, &cli_sql_bill_status, params, &r, e);

    if (s != ST_OK)
        return s;
    memset(out, 0, sizeof(*out));
    out->billing_sessions = db_i64(r, 0, CLI_BILL_STATUS_BILLING_SESSIONS);
    out->unbilled = db_i64(r, 0, CLI_BILL_STATUS_UNBILLED);
    snprintf(out->oldest_unbilled, sizeof(out->oldest_unbilled), "%s",
             db_val(r, 0, CLI_BILL_STATUS_OLDEST_UNBILLED));
    db_res_free(r);
    return ST_OK;
}

void cmd_bill_state_print(const cmd_bill_state *st, FILE *out)
{
    if (st->billing_sessions == 0 && st->unbilled > 0)
        fprintf(out,
                "twinline-billing is not running: no billing session is "
                "connected to this database, and %" PRId64 " billable "
                "outcome%s since %s UTC %s no billable line yet. Start "
                "it (docs/operations.md, \"Running by hand\"); it catches "
                "up on what was recorded meanwhile.\n\n",
                st->unbilled, st->unbilled == 1 ? "" : "s", st->oldest_unbilled,
                st->unbilled == 1 ? "has" : "have");
    else if (st->billing_sessions == 0)
        fprintf(out, "twinline-billing is not running (no billing session "
                     "is connected to this database); nothing is waiting "
                     "to be billed.\n\n");
    else if (st->unbilled > 0)
        fprintf(out,
                "twinline-billing is running and catching up: %" PRId64
                " billable outcome%s since %s UTC %s no billable line "
                "yet (see its log).\n\n",
                st->unbilled, st->unbilled == 1 ? "" : "s", st->oldest_unbilled,
                st->unbilled == 1 ? "has" : "have");
}

status cmd_bill_report(db *d, const char *tenant, const char *period,
                       cli_format fmt, FILE *out, err *e)
{
    cmd_bill_state st;
    char start[INVOICE_TIME_MAX], end[INVOICE_TIME_MAX];
    const char *params[3] = {tenant, NULL, NULL};
    status s = cmd_bill_scope(d, tenant, period, start, end, e);

    if (s != ST_OK)
        return s;
    if (period != NULL) {
        params[1] = start;
        params[2] = end;
    }
    if ((s = cmd_bill_status(d, tenant, params[1], params[2], &st, e)) != ST_OK)
        return s;
    if (fmt == ADMIN_FMT_KV) {
        fprintf(out, "billreport.period=%s\n", period != NULL ? period : "all");
        fprintf(out, "billreport.billing_running=%d\n",
                st.billing_sessions > 0);
        fprintf(out, "billreport.unbilled=%" PRId64 "\n", st.unbilled);
    } else {
        fprintf(out,
                "Billing report, %s (outcomes by their time, UTC; "
                "amounts in major units)\n\n",
                period != NULL ? period : "all periods");
        cmd_bill_state_print(&st, out);
    }
    s = block(d, &by_tenant, params, "By tenant (receivable)", "TENANT",
              "tenant", "LEDGER", fmt, out, e);
    if (s != ST_OK)
        goto out;
    if (fmt == ADMIN_FMT_TABLE)
        fputc('\n', out);
    s = block(d, &by_operator, params, "By operator (payable)", "OPERATOR",
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
