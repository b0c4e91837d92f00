#include "month_minimum.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "billing_sql.h"
#include "ledger.h"
#include "rating.h"

/* The statements are billing/sql/minimum_*.sql (billing_sql.h). */

/* A column of the minimum_candidates.sql result. */
#define CAND(col) BILLING_MINIMUM_CANDIDATES_##col

/*
 * Candidate i of r: when its verified results fall short of its plan's
 * minimum, write the top-up adjustment and add its ledger entry to lb.
 * *charged says whether it did.
 */
static status charge_one(db *d, ledger_batch *lb, const char *tenant,
                         const char *period, const db_res *r, int i,
                         bool *charged, err *e)
{
    const char *contract = db_val(r, i, CAND(CONTRACT_ID));
    const char *plan_js = db_val(r, i, CAND(PLAN));
    char amt[24], desc[RATING_DETAIL_MAX + 64], key[LEDGER_KEY_MAX + 1];
    rating_plan *plan = NULL;
    rating_line line;
    const char *cur;
    bool has = false;
    status s;

    *charged = false;
    s = rating_plan_parse(plan_js, strlen(plan_js), &plan, e);
    if (s != ST_OK)
        return err_wrap(e, "price plan %s version %s", contract,
                        db_val(r, i, CAND(VERSION)));
    s = rating_month_minimum(plan, db_i64(r, i, CAND(VERIFIED_MINOR)), &line,
                             &has, e);
    if (s != ST_OK || !has)
        goto out;
    cur = rating_plan_currency(plan);
    snprintf(desc, sizeof(desc), "Monthly minimum of contract %s, %s: %s",
             contract, period, line.detail);
    {
        const char *params[8] = {tenant,
                                 db_val(r, i, CAND(OPERATOR_ID)),
                                 contract,
                                 db_val(r, i, CAND(VERSION)),
                                 period,
                                 cur,
                                 db_i64_str(amt, line.amount_minor),
                                 desc};

        s = db_run(d, &billing_sql_minimum_insert, params, NULL, e);
        if (s != ST_OK)
            goto out;
    }
    if ((s = ledger_key_minimum(key, sizeof(key), contract, period, e)) !=
            ST_OK ||
        (s = ledger_batch_entry(lb, key, e)) != ST_OK ||
        (s = ledger_batch_add(lb, tenant, LEDGER_BANK_RECEIVABLE, cur,
                              line.amount_minor, e)) != ST_OK ||
        (s = ledger_batch_add(lb, "platform", LEDGER_PLATFORM_REVENUE, cur,
                              -line.amount_minor, e)) != ST_OK)
        goto out;
    *charged = true;
out:
    rating_plan_destroy(plan);
    return s;
}

status month_minimum_post(db *d, const char *tenant, const char *period,
                          const char *start, const char *end, int *posted,
                          err *e)
{
    const char *params[4] = {tenant, start, end, period};
    ledger_batch *lb = NULL;
    db_res *r = NULL;
    int n = 0;
    status s;

    *posted = 0;
    if ((s = db_run(d, &billing_sql_minimum_candidates, params, &r, e)) !=
        ST_OK)
        return err_wrap(e, "monthly minimums of tenant %s", tenant);
    if ((s = ledger_batch_create(&lb, e)) != ST_OK)
        goto out;
    for (int i = 0; i < db_rows(r) && s == ST_OK; i++) {
        bool one = false;

        s = charge_one(d, lb, tenant, period, r, i, &one, e);
        if (one)
            n++;
    }
    /* Every top-up's entry in one post. */
    if (s == ST_OK)
        s = ledger_batch_post(d, lb, NULL, e);
    if (s == ST_OK)
        *posted = n;
out:
    ledger_batch_destroy(lb);
    db_res_free(r);
    return s;
}
