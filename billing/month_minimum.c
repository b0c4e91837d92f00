#include "month_minimum.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "billing_sql.h"
#include "ledger.h"
#include "rating.h"

/* The statements are billing/sql/minimum_*.sql (billing_sql.h). */

static status post_one(db *d, const char *tenant, const char *period,
                       const db_res *r, int i, bool *posted, err *e)
{
    const char *contract = db_val(r, i, BILLING_MINIMUM_CANDIDATES_CONTRACT_ID),
               *plan_js = db_val(r, i, BILLING_MINIMUM_CANDIDATES_PLAN);
    char amt[24], desc[RATING_DETAIL_MAX + 64], key[LEDGER_KEY_MAX + 1];
    rating_plan *plan = NULL;
    rating_line line;
    ledger_posting p[2];
    int64_t entry;
    bool has = false;
    status s;

    *posted = false;
    s = rating_plan_parse(plan_js, strlen(plan_js), &plan, e);
    if (s != ST_OK)
        return err_wrap(e, "price plan %s version %s", contract,
                        db_val(r, i, BILLING_MINIMUM_CANDIDATES_VERSION));
    s = rating_month_minimum(
        plan, db_i64(r, i, BILLING_MINIMUM_CANDIDATES_VERIFIED_MINOR), &line,
        &has, e);
    if (s != ST_OK || !has)
        goto out;
    snprintf(desc, sizeof(desc), "Monthly minimum of contract %s, %s: %s",
             contract, period, line.detail);
    {
        const char *params[8] = {
            tenant,
            db_val(r, i, BILLING_MINIMUM_CANDIDATES_OPERATOR_ID),
            contract,
            db_val(r, i, BILLING_MINIMUM_CANDIDATES_VERSION),
            period,
            rating_plan_currency(plan),
            db_i64_str(amt, line.amount_minor),
            desc};
        db_res *w = NULL;

        s = db_run(d, &billing_sql_minimum_insert, params, &w, e);
        db_res_free(w);
        if (s != ST_OK)
            goto out;
    }
    if ((s = ledger_account_ensure(d, tenant, LEDGER_BANK_RECEIVABLE,
                                   rating_plan_currency(plan), &p[0].account_id,
                                   e)) != ST_OK ||
        (s = ledger_account_ensure(d, "platform", LEDGER_PLATFORM_REVENUE,
                                   rating_plan_currency(plan), &p[1].account_id,
                                   e)) != ST_OK)
        goto out;
    p[0].amount_minor = line.amount_minor;
    p[1].amount_minor = -line.amount_minor;
    if (snprintf(key, sizeof(key), "minimum:%s:%s", contract, period) >=
        (int)sizeof(key)) {
        s = err_set(e, ST_INVALID, "ledger key for contract %s is too long",
                    contract);
        goto out;
    }
    s = ledger_post(d, key, p, 2, &entry, e);
    if (s == ST_OK)
        *posted = true;
out:
    rating_plan_destroy(plan);
    return s;
}

status month_minimum_post(db *d, const char *tenant, const char *period,
                          const char *start, const char *end, int *posted,
                          err *e)
{
    const char *params[4] = {tenant, start, end, period};
    db_res *r = NULL;
    status s;

    *posted = 0;
    if ((s = db_run(d, &billing_sql_minimum_candidates, params, &r, e)) !=
        ST_OK)
        return err_wrap(e, "monthly minimums of tenant %s", tenant);
    for (int i = 0; i < db_rows(r) && s == ST_OK; i++) {
        bool one = false;

        s = post_one(d, tenant, period, r, i, &one, e);
        if (one)
            (*posted)++;
    }
    db_res_free(r);
    return s;
}
