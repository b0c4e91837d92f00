#include "billing_rate.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing_event.h"
#include "billing_sql.h"
#include "log.h"

#define MOD "billing"

/* The statements are billing/sql/rate_*.sql (billing_sql.h). */

void billing_counts_add(billing_counts *to, const billing_counts *from)
{
    to->billed += from->billed;
    to->duplicates += from->duplicates;
    to->not_billable += from->not_billable;
    to->no_contract += from->no_contract;
    to->no_price += from->no_price;
    to->unknown += from->unknown;
}

static void note_row(const db_res *r, int row, int64_t warn_above,
                     billing_counts *c)
{
    int64_t id = db_i64(r, row, BILLING_RATE_BATCH_REQ_ID);
    const char *what = db_val(r, row, BILLING_RATE_BATCH_WHAT);
    bool warn = id > warn_above;

    if (strcmp(what, "billed") == 0) {
        c->billed++;
    } else if (strcmp(what, "duplicate") == 0) {
        c->duplicates++;
    } else if (strcmp(what, "not_billable") == 0) {
        c->not_billable++;
    } else if (strcmp(what, "no_price") == 0) {
        c->no_price++;
        if (warn)
            log_warn(MOD,
                     "outcome %" PRId64 " not billed: contract \"%s\" has "
                     "no price for tenant \"%s\", case type \"%s\", outcome "
                     "code \"%s\"; add a row to contract_prices",
                     id, db_val(r, row, BILLING_RATE_BATCH_CONTRACT_ID),
                     db_val(r, row, BILLING_RATE_BATCH_TENANT_ID),
                     db_val(r, row, BILLING_RATE_BATCH_CASE_TYPE),
                     db_val(r, row, BILLING_RATE_BATCH_CODE));
    } else if (strcmp(what, "no_contract") == 0) {
        c->no_contract++;
        if (warn)
            log_warn(MOD,
                     "outcome %" PRId64 " not billed: no active contract "
                     "of tenant \"%s\" with the pool of worker \"%s\" "
                     "covers case type \"%s\" (outcome code \"%s\")",
                     id, db_val(r, row, BILLING_RATE_BATCH_TENANT_ID),
                     db_val(r, row, BILLING_RATE_BATCH_WORKER_ID),
                     db_val(r, row, BILLING_RATE_BATCH_CASE_TYPE),
                     db_val(r, row, BILLING_RATE_BATCH_CODE));
    } else {
        c->unknown++;
        if (warn)
            log_warn(MOD,
                     "outcome %" PRId64 " from an event does not exist in "
                     "this database; check that billing and the dispatcher "
                     "use the same --db and --prefix",
                     id);
    }
}

status billing_rate_outcomes(db *d, const int64_t *ids, int n,
                             int64_t warn_above, billing_counts *counts, err *e)
{
    billing_counts got = {0};
    db_res *res = NULL;
    size_t cap = BILLING_IDS_CAP(n);
    char *list = NULL;
    const char *params[1];
    status s = ST_OK;

    if (n <= 0)
        return ST_OK;
    list = malloc(cap);
    if (list == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    s = billing_ids_format(ids, n, list, cap, e);
    if (s != ST_OK)
        goto out;
    params[0] = list;
    s = db_run(d, &billing_sql_rate_batch, params, &res, e);
    if (s != ST_OK) {
        err_wrap(e, "bill %d outcomes", n);
        goto out;
    }
    for (int i = 0; i < db_rows(res); i++)
        note_row(res, i, warn_above, &got);
    /* An id repeated within the batch is rated once; the rest are
     * duplicates just like a repeat in a later batch. */
    got.duplicates += n - db_rows(res);
    billing_counts_add(counts, &got);
out:
    db_res_free(res);
    free(list);
    return s;
}

status billing_rate_find_unbilled(db *d, int64_t after, int age_ms, int max,
                                  int64_t *ids, int *n, err *e)
{
    char after_s[24], age_s[24], max_s[24];
    const char *params[3] = {db_i64_str(after_s, after),
                             db_i64_str(age_s, age_ms), db_i64_str(max_s, max)};
    db_res *res = NULL;
    status s;
    int rows;

    s = db_run(d, &billing_sql_rate_find_unbilled, params, &res, e);
    if (s != ST_OK) {
        err_wrap(e, "find unbilled outcomes");
        return s;
    }
    rows = db_rows(res);
    if (rows > max)
        rows = max;
    for (int i = 0; i < rows; i++)
        ids[i] = db_i64(res, i, BILLING_RATE_FIND_UNBILLED_ID);
    *n = rows;
    db_res_free(res);
    return ST_OK;
}
