#include "cmd_statement.h"

#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "cli_args.h"
#include "cli_sql.h"
#include "cli_table.h"
#include "invoice.h"
#include "money.h"

#define EXIT_USAGE 2

static const char statement_usage[] =
    "usage: twinline statement (--operator O | --worker W) --period YYYY-MM\n"
    "                          [--format text|json]\n"
    "\n"
    "The party's statement for a month (UTC), from the ledger: every share\n"
    "of a verified outcome posted to its payable in the month, every\n"
    "reversal (a deduction, after a reopen or complaint), and per currency\n"
    "the opening balance, shares, deductions and closing balance owed.\n"
    "--worker takes a human worker or the AI worker a price plan pays.\n";

static void print_text(const db_res *lines, const db_res *tot,
                       const char *party, bool op, const char *period,
                       FILE *out, cli_table *t)
{
    char m[5][MONEY_FORMAT_MAX];

    fprintf(out, "Statement of %s %s for %s (UTC)\n\n",
            op ? "operator" : "worker", party, period);
    if (cli_table_rows(t) == 0)
        fprintf(out, "  no postings in the period\n");
    else
        cli_table_print(t, out);
    (void)lines;
    for (int i = 0; i < db_rows(tot); i++) {
        const char *cur = db_val(tot, i, CLI_STATEMENT_TOTALS_CURRENCY);
        int64_t shares = db_i64(tot, i, CLI_STATEMENT_TOTALS_SHARES_MINOR);
        int64_t deductions =
            db_i64(tot, i, CLI_STATEMENT_TOTALS_DEDUCTIONS_MINOR);

        money_format(m[0], MONEY_FORMAT_MAX, cur,
                     db_i64(tot, i, CLI_STATEMENT_TOTALS_OPENING_MINOR));
        money_format(m[1], MONEY_FORMAT_MAX, cur, shares);
        money_format(m[2], MONEY_FORMAT_MAX, cur, deductions);
        money_format(m[3], MONEY_FORMAT_MAX, cur, shares + deductions);
        money_format(m[4], MONEY_FORMAT_MAX, cur,
                     db_i64(tot, i, CLI_STATEMENT_TOTALS_CLOSING_MINOR));
        fprintf(out,
                "\nTotals in %s\n  %-16s %18s\n  %-16s %18s\n"
                "  %-16s %18s\n  %-16s %18s\n  %-16s %18s\n",
                cur, "opening balance", m[0], "shares", m[1], "deductions",
                m[2], "net", m[3], "closing (owed)", m[4]);
    }
}

static void print_json(const db_res *lines, const db_res *tot,
                       const char *party, bool op, const char *period,
                       FILE *out)
{
    fprintf(out,
            "{\"party\":\"%s\",\"role\":\"%s\",\"period\":\"%s\","
            "\"lines\":[",
            party, op ? "operator" : "worker", period);
    for (int i = 0; i < db_rows(lines); i++)
        fprintf(out, "%s%s", i > 0 ? "," : "",
                db_val(lines, i, CLI_STATEMENT_LINES_JSON));
    fprintf(out, "],\"totals\":[");
    for (int i = 0; i < db_rows(tot); i++) {
        int64_t shares = db_i64(tot, i, CLI_STATEMENT_TOTALS_SHARES_MINOR);
        int64_t deductions =
            db_i64(tot, i, CLI_STATEMENT_TOTALS_DEDUCTIONS_MINOR);

        fprintf(out,
                "%s{\"currency\":\"%s\",\"opening_minor\":%" PRId64
                ",\"shares_minor\":%" PRId64 ",\"deductions_minor\":%" PRId64
                ",\"net_minor\":%" PRId64 ",\"closing_minor\":%" PRId64
                ",\"lines\":%" PRId64 "}",
                i > 0 ? "," : "", db_val(tot, i, CLI_STATEMENT_TOTALS_CURRENCY),
                db_i64(tot, i, CLI_STATEMENT_TOTALS_OPENING_MINOR), shares,
                deductions, shares + deductions,
                db_i64(tot, i, CLI_STATEMENT_TOTALS_CLOSING_MINOR),
                db_i64(tot, i, CLI_STATEMENT_TOTALS_LINES));
    }
    fprintf(out, "]}\n");
}

status cmd_statement_write(db *d, const char *party, bool op,
                           const char *period, cmd_statement_format fmt,
                           FILE *out, err *e)
{
    static const char *const heads[] = {"POSTED",  "KIND", "TENANT", "CASE",
                                        "OUTCOME", "ROLE", "AMOUNT"};
    char start[INVOICE_TIME_MAX], end[INVOICE_TIME_MAX];
    const char *p[4] = {party, op ? "operator_payable" : "worker_payable",
                        start, end};
    db_res *known = NULL, *lines = NULL, *tot = NULL;
    cli_table *t = NULL;
    status s;

    if ((s = invoice_period_bounds(period, start, end, e)) != ST_OK)
        goto out;
    s = db_run(d,
               op ? &cli_sql_operator_known : &cli_sql_statement_worker_known,
               p, &known, e);
    if (s != ST_OK)
        goto out;
    if (db_rows(known) == 0) {
        s = err_set(e, ST_NOT_FOUND,
                    "%s \"%s\" is not registered; run: twinline %s",
                    op ? "operator" : "worker", party,
                    op ? "bill report" : "worker list");
        goto out;
    }
    if ((s = db_run(d, &cli_sql_statement_lines, p, &lines, e)) != ST_OK ||
        (s = db_run(d, &cli_sql_statement_totals, p, &tot, e)) != ST_OK)
        goto out;
    if (fmt == ADMIN_STMT_JSON) {
        print_json(lines, tot, party, op, period, out);
        goto out;
    }
    if ((s = cli_table_create(&t, 7, heads, e)) != ST_OK)
        goto out;
    cli_table_right(t, 4);
    cli_table_right(t, 6);
    for (int i = 0; i < db_rows(lines) && s == ST_OK; i++) {
        char m[MONEY_FORMAT_MAX];
        const char *cells[7] = {
            db_val(lines, i, CLI_STATEMENT_LINES_POSTED_AT),
            db_val(lines, i, CLI_STATEMENT_LINES_KIND),
            db_val(lines, i, CLI_STATEMENT_LINES_TENANT_ID),
            db_val(lines, i, CLI_STATEMENT_LINES_CASE_EXTERNAL_ID),
            db_val(lines, i, CLI_STATEMENT_LINES_OUTCOME_ID),
            db_val(lines, i, CLI_STATEMENT_LINES_ROLES),
            money_format(m, sizeof(m),
                         db_val(lines, i, CLI_STATEMENT_LINES_CURRENCY),
                         db_i64(lines, i, CLI_STATEMENT_LINES_AMOUNT))};
        s = cli_table_add(t, cells, e);
    }
    if (s == ST_OK)
        print_text(lines, tot, party, op, period, out, t);
out:
    cli_table_destroy(t);
    db_res_free(tot);
    db_res_free(lines);
    db_res_free(known);
    return s;
}

/* ---- command ---------------------------------------------------------- */

int cmd_statement(int argc, char **argv, const config *cfg)
{
    static const char *const names[] = {"--operator", "--worker", "--period",
                                        "--format"};
    const char *val[4] = {NULL, NULL, NULL, NULL};
    cmd_statement_format fmt = ADMIN_STMT_TEXT;
    config c = *cfg;
    db *d = NULL;
    err e = {0};
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int k;

        if (config_take_flag(&c, argc, argv, &i, &e)) {
            if (e.code != ST_OK)
                return cli_usage_error(statement_usage, "%s", e.msg);
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            printf("%s\n%s", statement_usage, config_flags_help);
            return 0;
        }
        for (k = 0; k < 4; k++) {
            size_t n = strlen(names[k]);

            if (strncmp(arg, names[k], n) != 0 ||
                (arg[n] != '\0' && arg[n] != '='))
                continue;
            if (arg[n] == '=')
                val[k] = arg + n + 1;
            else if (i + 1 < argc)
                val[k] = argv[++i];
            else
                return cli_usage_error(statement_usage, "%s needs a value",
                                       names[k]);
            break;
        }
        if (k == 4)
            return cli_usage_error(statement_usage, "unexpected argument %s",
                                   arg);
    }
    if ((val[0] != NULL) == (val[1] != NULL))
        return cli_usage_error(statement_usage, "%s",
                               "give exactly one of --operator or --worker");
    if (val[2] == NULL)
        return cli_usage_error(statement_usage, "%s",
                               "--period YYYY-MM is required");
    if (val[3] != NULL && strcmp(val[3], "json") == 0)
        fmt = ADMIN_STMT_JSON;
    else if (val[3] != NULL && strcmp(val[3], "text") != 0)
        return cli_usage_error(statement_usage,
                               "--format must be text or json (got \"%s\")",
                               val[3]);
    if (db_connect(&d, c.db, &e) != ST_OK) {
        fprintf(stderr, "twinline: %s\n", e.msg);
        return 1;
    }
    if (cmd_statement_write(d, val[0] != NULL ? val[0] : val[1], val[0] != NULL,
                            val[2], fmt, stdout, &e) != ST_OK) {
        fprintf(stderr, "twinline: %s\n", e.msg);
        rc = 1;
    }
    db_close(d);
    return rc;
}
