#include "cmd_statement.h"

#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "cli_args.h"
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

DB_STMT(st_operator_known, 1, "SELECT 1 FROM operators WHERE id = $1");
DB_STMT(st_worker_known, 1,
        "SELECT 1 FROM workers WHERE id = $1 UNION ALL"
        " SELECT 1 FROM contract_plans WHERE ai_party = $1 LIMIT 1");

/*
 * The party's postings of the period with the outcome and share behind
 * each. $1 party, $2 account kind, $3/$4 the period's bounds.
 */
DB_STMT(st_lines, 4,
        "WITH l AS (SELECT j.id AS entry, j.created_at, j.idem_key,"
        "   a.currency, -p.amount_minor AS amount,"
        "   CASE WHEN j.idem_key ~ '^outcome:[0-9]+:' THEN"
        "     split_part(j.idem_key, ':', 2)::bigint END AS outcome_id"
        "   FROM accounts a JOIN postings p ON p.account_id = a.id"
        "   JOIN journal_entries j ON j.id = p.entry_id"
        "   WHERE a.party = $1 AND a.kind = $2"
        "     AND j.created_at >= $3::timestamptz"
        "     AND j.created_at < $4::timestamptz)"
        " SELECT to_char(l.created_at AT TIME ZONE 'UTC',"
        "   'YYYY-MM-DD HH24:MI:SS'), l.currency, l.amount,"
        "   CASE WHEN l.idem_key LIKE '%:reversed' THEN 'reversal'"
        "     ELSE 'share' END,"
        "   coalesce(l.outcome_id::text, ''), coalesce(b.tenant_id, ''),"
        "   coalesce(c.external_id, ''), coalesce((SELECT string_agg(s.role,"
        "   ',' ORDER BY s.role) FROM outcome_splits s WHERE s.outcome_id ="
        "   l.outcome_id AND s.party = $1), ''), l.idem_key,"
        "   json_build_object('posted_at', l.created_at, 'kind', CASE WHEN"
        "     l.idem_key LIKE '%:reversed' THEN 'reversal' ELSE 'share' END,"
        "     'currency', l.currency, 'amount_minor', l.amount,"
        "     'outcome_id', l.outcome_id, 'tenant', b.tenant_id,"
        "     'case_external_id', c.external_id, 'entry', l.idem_key)::text"
        " FROM l LEFT JOIN billable_outcomes b ON b.outcome_id = l.outcome_id"
        " LEFT JOIN cases c ON c.id = b.case_id"
        " ORDER BY l.currency, l.created_at, l.entry");

/* Per currency: balance owed before the period, shares and deductions in
 * it, balance owed at its end. */
DB_STMT(st_totals, 4,
        "SELECT a.currency,"
        " -coalesce(sum(p.amount_minor) FILTER (WHERE j.created_at <"
        "   $3::timestamptz), 0),"
        " -coalesce(sum(p.amount_minor) FILTER (WHERE j.created_at >="
        "   $3::timestamptz AND j.created_at < $4::timestamptz AND"
        "   p.amount_minor < 0), 0),"
        " -coalesce(sum(p.amount_minor) FILTER (WHERE j.created_at >="
        "   $3::timestamptz AND j.created_at < $4::timestamptz AND"
        "   p.amount_minor > 0), 0),"
        " -coalesce(sum(p.amount_minor) FILTER (WHERE j.created_at <"
        "   $4::timestamptz), 0),"
        " count(*) FILTER (WHERE j.created_at >= $3::timestamptz AND"
        "   j.created_at < $4::timestamptz)"
        " FROM accounts a JOIN postings p ON p.account_id = a.id"
        " JOIN journal_entries j ON j.id = p.entry_id"
        " WHERE a.party = $1 AND a.kind = $2"
        " GROUP BY a.currency ORDER BY a.currency");

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
        const char *cur = db_val(tot, i, 0);

        money_format(m[0], MONEY_FORMAT_MAX, cur, db_i64(tot, i, 1));
        money_format(m[1], MONEY_FORMAT_MAX, cur, db_i64(tot, i, 2));
        money_format(m[2], MONEY_FORMAT_MAX, cur, db_i64(tot, i, 3));
        money_format(m[3], MONEY_FORMAT_MAX, cur,
                     db_i64(tot, i, 2) + db_i64(tot, i, 3));
        money_format(m[4], MONEY_FORMAT_MAX, cur, db_i64(tot, i, 4));
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
        fprintf(out, "%s%s", i > 0 ? "," : "", db_val(lines, i, 9));
    fprintf(out, "],\"totals\":[");
    for (int i = 0; i < db_rows(tot); i++)
        fprintf(out,
                "%s{\"currency\":\"%s\",\"opening_minor\":%" PRId64
                ",\"shares_minor\":%" PRId64 ",\"deductions_minor\":%" PRId64
                ",\"net_minor\":%" PRId64 ",\"closing_minor\":%" PRId64
                ",\"lines\":%" PRId64 "}",
                i > 0 ? "," : "", db_val(tot, i, 0), db_i64(tot, i, 1),
                db_i64(tot, i, 2), db_i64(tot, i, 3),
                db_i64(tot, i, 2) + db_i64(tot, i, 3), db_i64(tot, i, 4),
                db_i64(tot, i, 5));
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
    s = db_run(d, op ? &st_operator_known : &st_worker_known, p, &known, e);
    if (s != ST_OK)
        goto out;
    if (db_rows(known) == 0) {
        s = err_set(e, ST_NOT_FOUND,
                    "%s \"%s\" is not registered; run: twinline %s",
                    op ? "operator" : "worker", party,
                    op ? "bill report" : "worker list");
        goto out;
    }
    if ((s = db_run(d, &st_lines, p, &lines, e)) != ST_OK ||
        (s = db_run(d, &st_totals, p, &tot, e)) != ST_OK)
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
        const char *cells[7] = {db_val(lines, i, 0),
                                db_val(lines, i, 3),
                                db_val(lines, i, 5),
                                db_val(lines, i, 6),
                                db_val(lines, i, 4),
                                db_val(lines, i, 7),
                                money_format(m, sizeof(m), db_val(lines, i, 1),
                                             db_i64(lines, i, 2))};
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
