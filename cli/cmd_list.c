#include "cmd_list.h"

#include <stdlib.h>
#include <string.h>

#include "cli_sql.h"
#include "cli_table.h"
#include "ids.h"
#include "sbuf.h"

/*
 * Print every row of r as a table of its ncols columns, in the order its
 * statement's file declares them, under heads (one per column: the callers
 * check the count against the column enum); the columns listed in right
 * (ended by -1) are right-aligned.
 */
static status print_rows(const db_res *r, int ncols, const char *const *heads,
                         const int *right, FILE *out, err *e)
{
    cli_table *t = NULL;
    const char *cells[16];
    status s;

    if ((s = cli_table_create(&t, ncols, heads, e)) != ST_OK)
        return s;
    for (int c = 0; right != NULL && right[c] >= 0; c++)
        cli_table_right(t, right[c]);
    for (int i = 0; i < db_rows(r); i++) {
        for (int c = 0; c < ncols; c++)
            cells[c] = db_val(r, i, c);
        if ((s = cli_table_add(t, cells, e)) != ST_OK)
            goto out;
    }
    cli_table_print(t, out);
out:
    cli_table_destroy(t);
    return s;
}

status cmd_tenant_list(db *d, FILE *out, err *e)
{
    static const char *const heads[] = {"TENANT",   "NAME",      "KIND",
                                        "PRIORITY", "PLAYBOOKS", "CONTRACTS"};
    static const int right[] = {CLI_LIST_TENANTS_PRIORITY,
                                CLI_LIST_TENANTS_PLAYBOOKS,
                                CLI_LIST_TENANTS_CONTRACTS, -1};
    db_res *r = NULL;
    status s;

    _Static_assert(sizeof(heads) / sizeof(heads[0]) == CLI_LIST_TENANTS_NCOLS,
                   "a head per column of list_tenants.sql");
    if ((s = db_run(d, &cli_sql_list_tenants, NULL, &r, e)) != ST_OK)
        return s;
    if (db_rows(r) == 0)
        fprintf(out, "no tenants; load some with: twinline load "
                     "examples/bank.json\n");
    else
        s = print_rows(r, CLI_LIST_TENANTS_NCOLS, heads, right, out, e);
    db_res_free(r);
    return s;
}

/* The --except list "w1,w2" as the array literal "{w1,w2}": each id must
 * be a token, which also keeps the literal free of quotes and braces. */
static status except_array(const char *list, sbuf *arr, err *e)
{
    const char *p = list;

    sbuf_append(arr, "{", 1);
    for (int k = 0; *p != '\0'; k++) {
        size_t n = strcspn(p, ",");
        char id[ID_MAX + 2];

        if (n == 0 || n > ID_MAX) {
            sbuf_free(arr);
            return err_set(e, ST_INVALID,
                           "--except takes worker ids separated by commas "
                           "(got \"%.64s\")",
                           list);
        }
        memcpy(id, p, n);
        id[n] = '\0';
        if (!ids_token_valid(id)) {
            sbuf_free(arr);
            return err_set(e, ST_INVALID,
                           "--except: \"%s\" is not a worker id (letters, "
                           "digits, '_' and '-')",
                           id);
        }
        sbuf_printf(arr, "%s%s", k > 0 ? "," : "", id);
        p += n;
        if (*p == ',')
            p++;
    }
    sbuf_append(arr, "}", 1);
    if (arr->failed) {
        sbuf_free(arr);
        return err_set(e, ST_NOMEM, "out of memory");
    }
    return ST_OK;
}

status cmd_worker_list(db *d, const cmd_worker_filter *f, FILE *out, err *e)
{
    static const char *const heads[] = {"WORKER",    "POOL",     "NAME",
                                        "KIND",      "PRESENCE", "QUALITY",
                                        "LANGUAGES", "SKILLS",   "CAPACITY"};
    static const int right[] = {CLI_LIST_WORKERS_QUALITY, -1};
    const char *params[3] = {f->pool, f->kind, NULL};
    sbuf except = {0};
    db_res *r = NULL;
    status s;

    _Static_assert(sizeof(heads) / sizeof(heads[0]) == CLI_LIST_WORKERS_NCOLS,
                   "a head per column of list_workers.sql");
    if (f->kind != NULL && strcmp(f->kind, "human") != 0 &&
        strcmp(f->kind, "ai") != 0)
        return err_set(e, ST_INVALID,
                       "--kind must be human or ai (got \"%.32s\")", f->kind);
    if (f->pool != NULL) {
        if ((s = db_run(d, &cli_sql_pool_known, params, &r, e)) != ST_OK)
            return s;
        if (db_rows(r) == 0) {
            db_res_free(r);
            return err_set(e, ST_NOT_FOUND,
                           "pool \"%s\" does not exist; run: twinline worker "
                           "list",
                           f->pool);
        }
        db_res_free(r);
        r = NULL;
    }
    if (f->except != NULL) {
        const char *p[1];

        if ((s = except_array(f->except, &except, e)) != ST_OK)
            return s;
        p[0] = sbuf_str(&except);
        if ((s = db_run(d, &cli_sql_workers_unknown, p, &r, e)) != ST_OK)
            goto out;
        if (db_rows(r) > 0) {
            s = err_set(e, ST_NOT_FOUND,
                        "--except: worker \"%s\" does not exist; run: "
                        "twinline worker list",
                        db_val(r, 0, CLI_WORKERS_UNKNOWN_ID));
            goto out;
        }
        db_res_free(r);
        r = NULL;
        params[2] = p[0];
    }
    if ((s = db_run(d, &cli_sql_list_workers, params, &r, e)) != ST_OK)
        goto out;
    if (f->ids_only) {
        for (int i = 0; i < db_rows(r); i++)
            fprintf(out, "%s%s", i > 0 ? "," : "",
                    db_val(r, i, CLI_LIST_WORKERS_ID));
        fputc('\n', out);
    } else if (db_rows(r) == 0) {
        fprintf(out, "no workers match; load some with: twinline load "
                     "examples/operator.json\n");
    } else {
        s = print_rows(r, CLI_LIST_WORKERS_NCOLS, heads, right, out, e);
    }
out:
    db_res_free(r);
    sbuf_free(&except);
    return s;
}

status cmd_playbook_list(db *d, FILE *out, err *e)
{
    static const char *const heads[] = {"TENANT", "CASE_TYPE", "VERSION",
                                        "NAME",   "STEPS",     "LOADED"};
    static const int right[] = {CLI_LIST_PLAYBOOKS_VERSION,
                                CLI_LIST_PLAYBOOKS_STEPS, -1};
    db_res *r = NULL;
    status s;

    _Static_assert(sizeof(heads) / sizeof(heads[0]) == CLI_LIST_PLAYBOOKS_NCOLS,
                   "a head per column of list_playbooks.sql");
    if ((s = db_run(d, &cli_sql_list_playbooks, NULL, &r, e)) != ST_OK)
        return s;
    if (db_rows(r) == 0)
        fprintf(out, "no playbooks; load some with: twinline load "
                     "examples/bank.json\n");
    else
        s = print_rows(r, CLI_LIST_PLAYBOOKS_NCOLS, heads, right, out, e);
    db_res_free(r);
    return s;
}

status cmd_playbook_show(db *d, const char *tenant, const char *case_type,
                         FILE *out, err *e)
{
    static const char *const heads[] = {
        "STEP",   "CHANNEL", "SLA_S", "AI",
        "SKILLS", "AFTER",   "WHEN",  "OUTCOMES (* billable)"};
    static const int right[] = {CLI_PLAYBOOK_STEPS_SLA_SECONDS, -1};
    const char *hp[2] = {tenant, case_type};
    db_res *h = NULL, *r = NULL;
    status s;

    _Static_assert(sizeof(heads) / sizeof(heads[0]) == CLI_PLAYBOOK_STEPS_NCOLS,
                   "a head per column of playbook_steps.sql");
    if ((s = db_run(d, &cli_sql_playbook_head, hp, &h, e)) != ST_OK)
        return s;
    if (db_rows(h) == 0) {
        s = err_set(e, ST_UNKNOWN_CASE_TYPE,
                    "case type \"%s\" is not defined for tenant \"%s\"; run: "
                    "twinline playbook list",
                    case_type, tenant);
        goto out;
    }
    {
        const char *params[3] = {tenant, case_type,
                                 db_val(h, 0, CLI_PLAYBOOK_HEAD_VERSION)};
        if ((s = db_run(d, &cli_sql_playbook_steps, params, &r, e)) != ST_OK)
            goto out;
    }
    fprintf(out, "%s %s version %s: %s\n\n", tenant, case_type,
            db_val(h, 0, CLI_PLAYBOOK_HEAD_VERSION),
            db_val(h, 0, CLI_PLAYBOOK_HEAD_NAME));
    s = print_rows(r, CLI_PLAYBOOK_STEPS_NCOLS, heads, right, out, e);
out:
    db_res_free(h);
    db_res_free(r);
    return s;
}
