#include "billing_rate.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing_event.h"
#include "log.h"

#define MOD "billing"

/*
 * One statement rates and inserts a whole batch and reports, per requested
 * id, what happened. The contract is chosen per outcome with LATERAL so that
 * "the lowest id among the covering active contracts" is decided before the
 * price is looked up: a missing price on that contract is reported, not
 * silently replaced by another contract's price. Rows are inserted in
 * outcome order so two billers inserting overlapping batches take the
 * unique-index locks in the same order. ON CONFLICT DO NOTHING waits for a
 * concurrent insert of the same outcome and then skips it.
 */
DB_STMT(billing_rate_batch, 1,
        "WITH req AS ("
        "  SELECT DISTINCT unnest($1::bigint[]) AS id"
        "), rated AS ("
        "  SELECT req.id AS req_id, o.id AS outcome_id, o.billable,"
        "         o.task_id, o.case_id, o.worker_id, o.code,"
        "         c.tenant_id, c.case_type, p.operator_id,"
        "         k.id AS contract_id, k.currency, cp.amount_minor"
        "  FROM req"
        "  LEFT JOIN outcomes o ON o.id = req.id"
        "  LEFT JOIN cases c ON c.id = o.case_id"
        "  LEFT JOIN workers w ON w.id = o.worker_id"
        "  LEFT JOIN pools p ON p.id = w.pool_id"
        "  LEFT JOIN LATERAL ("
        "    SELECT ct.id, ct.currency"
        "    FROM contracts ct"
        "    JOIN contract_case_types cct"
        "      ON cct.contract_id = ct.id AND cct.case_type = c.case_type"
        "    WHERE ct.tenant_id = c.tenant_id AND ct.pool_id = w.pool_id"
        "      AND ct.active"
        "    ORDER BY ct.id COLLATE \"C\""
        "    LIMIT 1"
        "  ) k ON o.billable"
        "  LEFT JOIN contract_prices cp"
        "    ON cp.contract_id = k.id AND cp.case_type = c.case_type"
        "   AND cp.outcome_code = o.code"
        "), ins AS ("
        "  INSERT INTO billable_lines (outcome_id, tenant_id, operator_id,"
        "      contract_id, case_id, task_id, worker_id, outcome_code,"
        "      amount_minor, currency)"
        "  SELECT outcome_id, tenant_id, operator_id, contract_id, case_id,"
        "         task_id, worker_id, code, amount_minor, currency"
        "  FROM rated"
        "  WHERE billable AND amount_minor IS NOT NULL"
        /* issue 5 (AI review): an AI outcome under review or overturned
         * is not billed; a confirmed one is, by the sweeper. */
        "    AND NOT EXISTS (SELECT 1 FROM outcomes h WHERE h.id = outcome_id"
        "                    AND h.review IN ('pending', 'overturned'))"
        "  ORDER BY outcome_id"
        "  ON CONFLICT (outcome_id) DO NOTHING"
        "  RETURNING outcome_id"
        ")"
        "SELECT r.req_id,"
        "       CASE WHEN r.outcome_id IS NULL THEN 'unknown'"
        "            WHEN NOT r.billable THEN 'not_billable'"
        "            WHEN r.contract_id IS NULL THEN 'no_contract'"
        "            WHEN r.amount_minor IS NULL THEN 'no_price'"
        "            WHEN ins.outcome_id IS NOT NULL THEN 'billed'"
        "            ELSE 'duplicate' END,"
        "       coalesce(r.tenant_id, ''), coalesce(r.case_type, ''),"
        "       coalesce(r.code, ''), coalesce(r.contract_id, ''),"
        "       coalesce(r.worker_id, '')"
        " FROM rated r LEFT JOIN ins ON ins.outcome_id = r.outcome_id"
        " ORDER BY r.req_id");

/*
 * Candidates for the sweeper. Billable outcomes without a line are normally
 * few (the event path bills within milliseconds), so the anti-join is cheap
 * in rows returned; it scans outcomes, see docs/billing.md for the limits.
 */
DB_STMT(billing_find_unbilled, 3,
        "SELECT o.id FROM outcomes o"
        " WHERE o.billable AND o.id > $1::bigint"
        /* issue 5 (AI review): not while under review, never overturned. */
        "   AND (o.review IS NULL OR o.review = 'confirmed')"
        "   AND o.created_at < now() - $2::bigint * interval '1 millisecond'"
        "   AND NOT EXISTS (SELECT 1 FROM billable_lines b"
        "                    WHERE b.outcome_id = o.id)"
        " ORDER BY o.id"
        " LIMIT $3::int");

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
    int64_t id = db_i64(r, row, 0);
    const char *what = db_val(r, row, 1);
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
                     id, db_val(r, row, 5), db_val(r, row, 2),
                     db_val(r, row, 3), db_val(r, row, 4));
    } else if (strcmp(what, "no_contract") == 0) {
        c->no_contract++;
        if (warn)
            log_warn(MOD,
                     "outcome %" PRId64 " not billed: no active contract "
                     "of tenant \"%s\" with the pool of worker \"%s\" "
                     "covers case type \"%s\" (outcome code \"%s\")",
                     id, db_val(r, row, 2), db_val(r, row, 6),
                     db_val(r, row, 3), db_val(r, row, 4));
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
    s = db_run(d, &billing_rate_batch, params, &res, e);
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

    s = db_run(d, &billing_find_unbilled, params, &res, e);
    if (s != ST_OK) {
        err_wrap(e, "find unbilled outcomes");
        return s;
    }
    rows = db_rows(res);
    if (rows > max)
        rows = max;
    for (int i = 0; i < rows; i++)
        ids[i] = db_i64(res, i, 0);
    *n = rows;
    db_res_free(res);
    return ST_OK;
}
