#include "cmd_bill_reconcile.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli_sql.h"
#include "cli_table.h"
#include "cmd_bill_report.h"
#include "invoice.h"
#include "money.h"

#define RC_COLS 5

/*
 * Every check is one statement, cli/sql/reconcile_<key>.sql, over ($1
 * tenant or NULL, $2/$3 the period's bounds or NULL, $4 the period
 * "YYYY-MM" or NULL) returning rows (tenant, currency, expected, found); a
 * row whose two figures differ is a mismatch. Each statement has its own
 * column enum, so a check carries the columns it reads.
 */
typedef struct rc_check {
    const char *name;
    const char *key; /* in the key=value output */
    const db_stmt *st;
    const char *unit; /* what a count counts (singular); NULL: money */
    int tenant, currency, expected, found; /* the statement's columns */
} rc_check;

#define RC_CHECK(name, key, KEY, unit)                                         \
    {                                                                          \
        name, #key, &cli_sql_reconcile_##key, unit,                            \
            CLI_RECONCILE_##KEY##_TENANT_ID, CLI_RECONCILE_##KEY##_CURRENCY,   \
            CLI_RECONCILE_##KEY##_EXPECTED, CLI_RECONCILE_##KEY##_FOUND        \
    }

static const rc_check checks[] = {
    RC_CHECK("billable outcomes billed", billed, BILLED, "outcome"),
    RC_CHECK("splits sum to price", splits, SPLITS, NULL),
    RC_CHECK("receivable = verified", receivable, RECEIVABLE, NULL),
    RC_CHECK("unverified = pending", unverified, UNVERIFIED, NULL),
    RC_CHECK("adjustments posted", adjustments, ADJUSTMENTS, NULL),
    RC_CHECK("documents = standing lines", invoiced, INVOICED, NULL),
    RC_CHECK("document totals intact", documents, DOCUMENTS, "document"),
    RC_CHECK("trial balance zero", trial, TRIAL, NULL),
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
        int64_t want = db_i64(r, i, c->expected);
        int64_t got = db_i64(r, i, c->found);
        char a[MONEY_FORMAT_MAX], b[MONEY_FORMAT_MAX];
        const char *cells[RC_COLS];
        bool ok = want == got;

        if (!ok)
            (*mismatches)++;
        if (fmt == ADMIN_FMT_KV) {
            fprintf(out, "reconcile.%s.%s.%s=%s %" PRId64 " %" PRId64 "\n",
                    db_val(r, i, c->tenant), db_val(r, i, c->currency), c->key,
                    ok ? "ok" : "MISMATCH", want, got);
            continue;
        }
        /* Money carries its currency and a count says what it counts, so
         * no figure stands under a heading that is not its own. */
        if (c->unit == NULL) {
            money_format(a, sizeof(a), db_val(r, i, c->currency), want);
            money_format(b, sizeof(b), db_val(r, i, c->currency), got);
        } else {
            snprintf(a, sizeof(a), "%" PRId64 " %s%s", want, c->unit,
                     want == 1 ? "" : "s");
            snprintf(b, sizeof(b), "%" PRId64 " %s%s", got, c->unit,
                     got == 1 ? "" : "s");
        }
        cells[0] = c->name;
        cells[1] = db_val(r, i, c->tenant);
        cells[2] = a;
        cells[3] = b;
        cells[4] = ok ? "ok" : "MISMATCH";
        s = cli_table_add(t, cells, e);
    }
    db_res_free(r);
    return s;
}

status cmd_bill_reconcile(db *d, const char *tenant, const char *period,
                          cli_format fmt, FILE *out, int *mismatches, err *e)
{
    static const char *const heads[RC_COLS] = {"CHECK", "TENANT", "EXPECTED",
                                               "FOUND", "RESULT"};
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
        cli_table_right(t, 2);
        cli_table_right(t, 3);
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
    if (*mismatches == 0) {
        fprintf(out, "all %d figures agree\n", cli_table_rows(t));
    } else {
        cmd_bill_state st;

        fprintf(out, "%d figure%s not agree\n", *mismatches,
                *mismatches == 1 ? " does" : "s do");
        /* The commonest cause: billing is stopped or still working. */
        if ((s = cmd_bill_status(d, tenant, params[1], params[2], &st, e)) !=
            ST_OK)
            goto out;
        cmd_bill_state_print(&st, out);
    }
out:
    cli_table_destroy(t);
    return s;
}
