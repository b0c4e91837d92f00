#include "cmd_report.h"

#include <stdlib.h>
#include <string.h>

#include "cli_sql.h"
#include "cli_table.h"
#include "money.h"

/*
 * The bill summary's three blocks (cli/sql/bill_by_tenant.sql,
 * bill_by_operator.sql, bill_by_outcome.sql) return the same columns; the
 * first's enum names them for all three.
 */
#define BILL_SAME_COLUMN(col)                                                  \
    _Static_assert(                                                            \
        (int)CLI_BILL_BY_TENANT_##col == (int)CLI_BILL_BY_OPERATOR_##col &&    \
            (int)CLI_BILL_BY_TENANT_##col == (int)CLI_BILL_BY_OUTCOME_##col,   \
        "the bill_by_*.sql files declare the same columns")
BILL_SAME_COLUMN(PARTY);
BILL_SAME_COLUMN(CURRENCY);
BILL_SAME_COLUMN(LINES);
BILL_SAME_COLUMN(AMOUNT_MINOR);

status cmd_report_collect(db *d, cmd_report_figures **out, err *e)
{
    cmd_report_figures *r = calloc(1, sizeof(*r));
    db_res *f = NULL, *b = NULL;
    status s;

    if (r == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    if ((s = db_run(d, &cli_sql_report_figures, NULL, &f, e)) != ST_OK ||
        (s = db_run(d, &cli_sql_report_billed, NULL, &b, e)) != ST_OK)
        goto out;
    r->cases = db_i64(f, 0, CLI_REPORT_FIGURES_CASES);
    r->closed = db_i64(f, 0, CLI_REPORT_FIGURES_CLOSED);
    r->canceled = db_i64(f, 0, CLI_REPORT_FIGURES_CANCELED);
    r->open = db_i64(f, 0, CLI_REPORT_FIGURES_OPEN);
    r->closed_tasks = db_i64(f, 0, CLI_REPORT_FIGURES_CLOSED_TASKS);
    r->transfers = db_i64(f, 0, CLI_REPORT_FIGURES_TRANSFERS);
    r->one_contact = db_i64(f, 0, CLI_REPORT_FIGURES_ONE_CONTACT);
    r->tasks_completed = db_i64(f, 0, CLI_REPORT_FIGURES_TASKS_COMPLETED);
    r->offers = db_i64(f, 0, CLI_REPORT_FIGURES_OFFERS);
    r->sla_tasks = db_i64(f, 0, CLI_REPORT_FIGURES_SLA_TASKS);
    r->sla_met = db_i64(f, 0, CLI_REPORT_FIGURES_SLA_MET);
    r->has_resolve = !db_null(f, 0, CLI_REPORT_FIGURES_RESOLVE_P50_S);
    if (r->has_resolve) {
        r->resolve_p50_s =
            strtod(db_val(f, 0, CLI_REPORT_FIGURES_RESOLVE_P50_S), NULL);
        r->resolve_p90_s =
            strtod(db_val(f, 0, CLI_REPORT_FIGURES_RESOLVE_P90_S), NULL);
    }
    r->nbilled = db_rows(b);
    if (r->nbilled > 0) {
        r->billed = calloc((size_t)r->nbilled, sizeof(*r->billed));
        if (r->billed == NULL) {
            s = err_set(e, ST_NOMEM, "out of memory");
            goto out;
        }
    }
    for (int i = 0; i < r->nbilled; i++) {
        cmd_billed *x = &r->billed[i];
        snprintf(x->tenant, sizeof(x->tenant), "%s",
                 db_val(b, i, CLI_REPORT_BILLED_TENANT_ID));
        snprintf(x->currency, sizeof(x->currency), "%s",
                 db_val(b, i, CLI_REPORT_BILLED_CURRENCY));
        x->lines = db_i64(b, i, CLI_REPORT_BILLED_LINES);
        x->amount_minor = db_i64(b, i, CLI_REPORT_BILLED_AMOUNT_MINOR);
    }
out:
    db_res_free(f);
    db_res_free(b);
    if (s != ST_OK) {
        cmd_report_destroy(r);
        return s;
    }
    *out = r;
    return ST_OK;
}

void cmd_report_destroy(cmd_report_figures *r)
{
    if (r == NULL)
        return;
    free(r->billed);
    free(r);
}

/* num/den with the given decimals, or "n/a" without a denominator. */
static const char *ratio(char *buf, size_t cap, int64_t num, int64_t den,
                         double scale, int decimals)
{
    if (den == 0)
        snprintf(buf, cap, "n/a");
    else
        snprintf(buf, cap, "%.*f", decimals, (double)num * scale / (double)den);
    return buf;
}

static const char *seconds(char *buf, size_t cap, bool have, double v)
{
    if (!have)
        snprintf(buf, cap, "n/a");
    else
        snprintf(buf, cap, "%.3f", v);
    return buf;
}

void cmd_report_print(const cmd_report_figures *r, cli_format fmt, FILE *out)
{
    char v[16][48];
    char amount[MONEY_FORMAT_MAX];
    const char *names[] = {"cases_submitted",    "cases_resolved",
                           "cases_canceled",     "cases_open",
                           "tasks_completed",    "tasks_per_case",
                           "transfers_per_case", "one_contact_resolution_pct",
                           "resolve_p50_s",      "resolve_p90_s",
                           "offers_per_task",    "sla_met_pct"};
    const char *labels[] = {"cases submitted",
                            "cases resolved (closed)",
                            "cases canceled",
                            "cases open",
                            "tasks completed",
                            "tasks per resolved case",
                            "transfers per resolved case",
                            "one-contact resolution",
                            "time to resolve, median",
                            "time to resolve, p90",
                            "offers per completed task",
                            "tasks within SLA"};
    const int n = 12;
    int lw = 0;

    snprintf(v[0], sizeof(v[0]), "%lld", (long long)r->cases);
    snprintf(v[1], sizeof(v[1]), "%lld", (long long)r->closed);
    snprintf(v[2], sizeof(v[2]), "%lld", (long long)r->canceled);
    snprintf(v[3], sizeof(v[3]), "%lld", (long long)r->open);
    snprintf(v[4], sizeof(v[4]), "%lld", (long long)r->tasks_completed);
    ratio(v[5], sizeof(v[5]), r->closed_tasks, r->closed, 1.0, 2);
    ratio(v[6], sizeof(v[6]), r->transfers, r->closed, 1.0, 2);
    ratio(v[7], sizeof(v[7]), r->one_contact, r->closed, 100.0, 1);
    seconds(v[8], sizeof(v[8]), r->has_resolve, r->resolve_p50_s);
    seconds(v[9], sizeof(v[9]), r->has_resolve, r->resolve_p90_s);
    ratio(v[10], sizeof(v[10]), r->offers, r->tasks_completed, 1.0, 2);
    ratio(v[11], sizeof(v[11]), r->sla_met, r->sla_tasks, 100.0, 1);

    if (fmt == ADMIN_FMT_KV) {
        for (int i = 0; i < n; i++)
            fprintf(out, "%s=%s\n", names[i], v[i]);
        fprintf(out, "transfers=%lld\none_contact_cases=%lld\noffers=%lld\n",
                (long long)r->transfers, (long long)r->one_contact,
                (long long)r->offers);
        for (int i = 0; i < r->nbilled; i++) {
            const cmd_billed *b = &r->billed[i];
            fprintf(out, "billed.%s.%s.lines=%lld\n", b->tenant, b->currency,
                    (long long)b->lines);
            fprintf(out, "billed.%s.%s.amount_minor=%lld\n", b->tenant,
                    b->currency, (long long)b->amount_minor);
        }
        return;
    }
    for (int i = 0; i < n; i++)
        if ((int)strlen(labels[i]) > lw)
            lw = (int)strlen(labels[i]);
    for (int i = 0; i < n; i++) {
        const char *unit = "";
        if (i == 7 || i == 11)
            unit = strcmp(v[i], "n/a") != 0 ? " %" : "";
        if (i == 8 || i == 9)
            unit = r->has_resolve ? " s" : "";
        fprintf(out, "%-*s  %12s%s\n", lw, labels[i], v[i], unit);
    }
    if (r->nbilled == 0) {
        fprintf(out, "%-*s  %12s\n", lw, "billed", "nothing yet");
        return;
    }
    for (int i = 0; i < r->nbilled; i++) {
        const cmd_billed *b = &r->billed[i];
        char label[96];
        snprintf(label, sizeof(label), "billed to %s (%lld lines)", b->tenant,
                 (long long)b->lines);
        fprintf(
            out, "%-*s  %s\n", lw, label,
            money_format(amount, sizeof(amount), b->currency, b->amount_minor));
    }
}

/* One block of the bill summary: rows of (key, currency, lines, amount). */
static status bill_block(db *d, const db_stmt *st, const char *tenant,
                         const char *title, const char *key_head,
                         const char *kv_prefix, cli_format fmt, FILE *out,
                         err *e)
{
    const char *params[1] = {tenant};
    const char *heads[3] = {key_head, "LINES", "AMOUNT"};
    cli_table *t = NULL;
    db_res *r = NULL;
    char amount[MONEY_FORMAT_MAX];
    status s;

    if ((s = db_run(d, st, params, &r, e)) != ST_OK)
        return s;
    if (fmt == ADMIN_FMT_KV) {
        for (int i = 0; i < db_rows(r); i++) {
            const char *party = db_val(r, i, CLI_BILL_BY_TENANT_PARTY);
            const char *cur = db_val(r, i, CLI_BILL_BY_TENANT_CURRENCY);

            fprintf(out, "%s.%s.%s.lines=%s\n", kv_prefix, party, cur,
                    db_val(r, i, CLI_BILL_BY_TENANT_LINES));
            fprintf(out, "%s.%s.%s.amount_minor=%s\n", kv_prefix, party, cur,
                    db_val(r, i, CLI_BILL_BY_TENANT_AMOUNT_MINOR));
        }
        goto out;
    }
    if ((s = cli_table_create(&t, 3, heads, e)) != ST_OK)
        goto out;
    cli_table_right(t, 1);
    cli_table_right(t, 2);
    for (int i = 0; i < db_rows(r); i++) {
        const char *cells[3] = {
            db_val(r, i, CLI_BILL_BY_TENANT_PARTY),
            db_val(r, i, CLI_BILL_BY_TENANT_LINES),
            money_format(amount, sizeof(amount),
                         db_val(r, i, CLI_BILL_BY_TENANT_CURRENCY),
                         db_i64(r, i, CLI_BILL_BY_TENANT_AMOUNT_MINOR))};
        if ((s = cli_table_add(t, cells, e)) != ST_OK)
            goto out;
    }
    fprintf(out, "%s\n", title);
    cli_table_print(t, out);
out:
    cli_table_destroy(t);
    db_res_free(r);
    return s;
}

status cmd_bill_summary(db *d, const char *tenant, cli_format fmt, FILE *out,
                        err *e)
{
    const char *params[1] = {tenant};
    db_res *r = NULL;
    status s;

    if (tenant != NULL) {
        if ((s = db_run(d, &cli_sql_tenant_known, params, &r, e)) != ST_OK)
            return s;
        if (db_rows(r) == 0) {
            db_res_free(r);
            return err_set(e, ST_UNKNOWN_TENANT,
                           "tenant \"%s\" is not registered; run: twinline "
                           "tenant list",
                           tenant);
        }
        db_res_free(r);
    }
    if ((s = bill_block(d, &cli_sql_bill_by_tenant, tenant,
                        "Billable lines by tenant", "TENANT", "tenant", fmt,
                        out, e)) != ST_OK)
        return s;
    if (fmt == ADMIN_FMT_TABLE)
        fputc('\n', out);
    if ((s = bill_block(d, &cli_sql_bill_by_operator, tenant,
                        "By operator (payable)", "OPERATOR", "operator", fmt,
                        out, e)) != ST_OK)
        return s;
    if (fmt == ADMIN_FMT_TABLE)
        fputc('\n', out);
    return bill_block(d, &cli_sql_bill_by_outcome, tenant, "By outcome",
                      "TENANT.OUTCOME", "outcome", fmt, out, e);
}
