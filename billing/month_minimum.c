#include "month_minimum.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ledger.h"
#include "rating.h"

/*
 * The tenant's contracts whose plan in effect at the month's end has a
 * minimum and that have no top-up for the month yet, with the verified
 * results of the month under any of the contract's plan versions.
 */
DB_STMT(minimum_candidates, 4,
        "SELECT k.id, x.version, x.plan::text, pl.operator_id,"
        "  coalesce((SELECT sum(b.amount_minor) FROM billable_outcomes b"
        "    WHERE b.contract_id = k.id AND b.state = 'verified'"
        "      AND b.outcome_at >= $2::timestamptz"
        "      AND b.outcome_at < $3::timestamptz), 0)"
        " FROM contracts k JOIN pools pl ON pl.id = k.pool_id"
        " CROSS JOIN LATERAL (SELECT c.version, c.plan FROM contract_plans c"
        "   WHERE c.contract_id = k.id AND c.effective_from < $3::timestamptz"
        "   ORDER BY c.effective_from DESC LIMIT 1) x"
        " WHERE k.tenant_id = $1 AND x.plan ? 'monthly_minimum_minor'"
        "   AND NOT EXISTS (SELECT 1 FROM billing_adjustments a"
        "     WHERE a.contract_id = k.id AND a.period = $4"
        "       AND a.kind = 'monthly_minimum')"
        " ORDER BY k.id");

DB_STMT(minimum_insert, 8,
        "INSERT INTO billing_adjustments (kind, tenant_id, operator_id,"
        "  contract_id, plan_version, period, currency, amount_minor,"
        "  description)"
        " VALUES ('monthly_minimum', $1, $2, $3, $4::int, $5, $6,"
        "  $7::bigint, $8)");

static status post_one(db *d, const char *tenant, const char *period,
                       const db_res *r, int i, bool *posted, err *e)
{
    const char *contract = db_val(r, i, 0), *plan_js = db_val(r, i, 2);
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
                        db_val(r, i, 1));
    s = rating_month_minimum(plan, db_i64(r, i, 4), &line, &has, e);
    if (s != ST_OK || !has)
        goto out;
    snprintf(desc, sizeof(desc), "Monthly minimum of contract %s, %s: %s",
             contract, period, line.detail);
    {
        const char *params[8] = {tenant,
                                 db_val(r, i, 3),
                                 contract,
                                 db_val(r, i, 1),
                                 period,
                                 rating_plan_currency(plan),
                                 db_i64_str(amt, line.amount_minor),
                                 desc};
        db_res *w = NULL;

        s = db_run(d, &minimum_insert, params, &w, e);
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
    if ((s = db_run(d, &minimum_candidates, params, &r, e)) != ST_OK)
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
