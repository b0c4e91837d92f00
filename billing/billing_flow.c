#include "billing_flow.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing_event.h"
#include "invoice.h"
#include "jsonx.h"
#include "ledger.h"
#include "log.h"
#include "rating.h"

#define MOD "billing"

#define FLOW_PLAN_CACHE  32 /* parsed plans kept per flow */
#define FLOW_VALUES_MAX  32 /* integer outcome fields / case facts used */
#define FLOW_CREDIT_MAX  4096
#define FLOW_HANDOFF_MAX 15 /* earlier workers sharing an outcome's pay */

/*
 * SHA-256 of the sorted "account:amount" pairs of an entry's postings:
 * the same fingerprint ledger.c computes, so an entry written here and one
 * written by ledger_post are compared alike.
 */
#define FLOW_FP_SQL                                                            \
    "encode(sha256(convert_to(string_agg(acc::text || ':' || m::text, ','"     \
    " ORDER BY acc, m), 'UTF8')), 'hex')"

/*
 * What rating needs for each outcome of a batch that has a price plan:
 * the outcome, its case's facts, the plan pinned to the case (or, for the
 * case's first outcome, the version in effect when the case was
 * submitted), and the history the plan depends on (results of the month
 * under this plan version, what the case was billed before). Outcomes
 * already billed, not billable, unknown or without a plan return no row.
 */
DB_STMT(flow_read, 1,
        "WITH req AS (SELECT DISTINCT unnest($1::bigint[]) AS id)"
        " SELECT o.id, o.code, o.fields::text, c.payload::text, o.case_id,"
        "  o.task_id, c.tenant_id, o.worker_id, p.operator_id,"
        "  pl.contract_id, pl.version, pl.plan::text, pl.verification_s,"
        "  pl.clawback_s, pl.platform_fee_bps, pl.operator_weight,"
        "  pl.worker_weight, pl.ai_weight, coalesce(pl.ai_party, ''),"
        /* The month's volume so far, which only volume tiers use: a
         * count that grows with the month, so skipped without them. */
        "  CASE WHEN jsonb_path_exists(pl.plan, '$.outcomes.*.volume_tiers')"
        "  THEN (SELECT count(*) FROM billable_outcomes b"
        "    WHERE b.contract_id = pl.contract_id"
        "      AND b.plan_version = pl.version AND b.state <> 'reversed'"
        "      AND b.outcome_id < o.id"
        "      AND b.outcome_at >= m.start AND b.outcome_at < m.start"
        "          + interval '1 month') ELSE 0 END,"
        "  coalesce((SELECT sum(b.base_minor) FROM billable_outcomes b"
        "    WHERE b.case_id = o.case_id AND b.state <> 'reversed'"
        "      AND b.outcome_id < o.id), 0),"
        "  coalesce((SELECT sum(b.percent_minor) FROM billable_outcomes b"
        "    WHERE b.case_id = o.case_id AND b.state <> 'reversed'"
        "      AND b.outcome_id < o.id), 0),"
        "  (t.sla_due_at IS NOT NULL AND o.created_at > t.sla_due_at),"
        "  to_char(m.start AT TIME ZONE 'UTC', 'YYYY-MM'),"
        /* The case's earlier workers (handoffs), first task first. */
        "  coalesce((SELECT string_agg(h.worker_id, ',' ORDER BY h.first)"
        "    FROM (SELECT t2.worker_id, min(t2.id) AS first FROM tasks t2"
        "      WHERE t2.case_id = o.case_id AND t2.id < o.task_id"
        "        AND t2.state IN ('completed', 'wrapping')"
        "        AND t2.worker_id <> o.worker_id"
        "      GROUP BY t2.worker_id) h), '')"
        " FROM req JOIN outcomes o ON o.id = req.id AND o.billable"
        " JOIN cases c ON c.id = o.case_id"
        " JOIN tasks t ON t.id = o.task_id"
        " JOIN workers w ON w.id = o.worker_id"
        " JOIN pools p ON p.id = w.pool_id"
        " CROSS JOIN LATERAL (SELECT date_trunc('month', o.created_at"
        "   AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS start) m"
        " LEFT JOIN LATERAL ("
        "   SELECT ct.id FROM contracts ct"
        "   JOIN contract_case_types cct"
        "     ON cct.contract_id = ct.id AND cct.case_type = c.case_type"
        "   WHERE ct.tenant_id = c.tenant_id AND ct.pool_id = w.pool_id"
        "     AND ct.active"
        "   ORDER BY ct.id COLLATE \"C\" LIMIT 1) k ON true"
        " LEFT JOIN case_plans cp ON cp.case_id = c.id"
        " JOIN LATERAL ("
        "   SELECT x.* FROM contract_plans x"
        "   WHERE (cp.case_id IS NOT NULL AND x.contract_id = cp.contract_id"
        "          AND x.version = cp.version)"
        "      OR (cp.case_id IS NULL AND x.contract_id = k.id"
        "          AND x.effective_from <= c.created_at)"
        "   ORDER BY x.effective_from DESC LIMIT 1) pl ON true"
        /* issue 5 (schema/006): not while a human reviews an AI outcome,
         * never when overturned. */
        " WHERE (o.review IS NULL OR o.review = 'confirmed')"
        "   AND NOT EXISTS (SELECT 1 FROM billable_lines bl"
        "                    WHERE bl.outcome_id = o.id)"
        " ORDER BY o.id");

/* Every account a batch's outcomes will ever post to, created once. */
DB_STMT(flow_accounts, 1,
        "INSERT INTO accounts (party, kind, currency)"
        " SELECT DISTINCT p, k, c FROM jsonb_to_recordset($1::jsonb)"
        "   AS x(p text, k text, c text)"
        " ORDER BY 1, 2, 3"
        " ON CONFLICT (party, kind, currency) DO NOTHING");

/*
 * One statement for the whole batch: pin the plan to new cases, insert the
 * billable lines (the unique outcome_id makes a repeat a no-op), and only
 * for the lines inserted now the billable_outcomes rows, the splits and
 * the ledger entries outcome:<id>:pending.
 */
DB_STMT(
    flow_write, 1,
    "WITH b AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(o bigint,"
    "   amt bigint, base bigint, pct bigint, k text, v int, cur text,"
    "   ten text, op text, cid bigint, task bigint, w text, code text,"
    "   vs bigint, cs bigint, sp jsonb)),"
    " pin AS (INSERT INTO case_plans (case_id, contract_id, version)"
    "   SELECT DISTINCT ON (cid) cid, k, v FROM b ORDER BY cid, o"
    "   ON CONFLICT (case_id) DO NOTHING),"
    " line AS (INSERT INTO billable_lines (outcome_id, tenant_id,"
    "   operator_id, contract_id, case_id, task_id, worker_id, outcome_code,"
    "   amount_minor, currency, created_at)"
    "   SELECT b.o, b.ten, b.op, b.k, b.cid, b.task, b.w, b.code, b.amt,"
    "     b.cur, oc.created_at FROM b JOIN outcomes oc ON oc.id = b.o"
    "   ORDER BY b.o"
    "   ON CONFLICT (outcome_id) DO NOTHING RETURNING id, outcome_id),"
    " bo AS (INSERT INTO billable_outcomes (outcome_id, billable_line_id,"
    "   tenant_id, operator_id, contract_id, plan_version, case_id,"
    "   worker_id, currency, amount_minor, base_minor, percent_minor,"
    "   outcome_at, verify_after, clawback_until)"
    "   SELECT b.o, line.id, b.ten, b.op, b.k, b.v, b.cid, b.w, b.cur,"
    "     b.amt, b.base, b.pct, oc.created_at,"
    "     oc.created_at + b.vs * interval '1 second',"
    "     oc.created_at + b.cs * interval '1 second'"
    "   FROM b JOIN line ON line.outcome_id = b.o"
    "   JOIN outcomes oc ON oc.id = b.o),"
    " sp AS (INSERT INTO outcome_splits (outcome_id, role, party,"
    "   amount_minor)"
    "   SELECT b.o, s.r, s.p, s.a FROM b JOIN line ON line.outcome_id = b.o"
    "   CROSS JOIN jsonb_to_recordset(b.sp) AS s(r text, p text, a bigint)),"
    " pp AS (SELECT b.o, a.id AS acc, x.m"
    "   FROM b JOIN line ON line.outcome_id = b.o"
    "   CROSS JOIN LATERAL (VALUES ('bank_unverified_receivable', b.amt),"
    "     ('unverified_revenue', -b.amt)) AS x(kind, m)"
    "   JOIN accounts a ON a.party = b.ten AND a.kind = x.kind"
    "    AND a.currency = b.cur"
    "   WHERE b.amt <> 0),"
    " fp AS (SELECT o, " FLOW_FP_SQL " AS f FROM pp GROUP BY o),"
    " je AS (INSERT INTO journal_entries (idem_key, fingerprint)"
    "   SELECT 'outcome:' || o || ':pending', f FROM fp ORDER BY o"
    "   ON CONFLICT (idem_key) DO NOTHING RETURNING id, idem_key),"
    " po AS (INSERT INTO postings (entry_id, account_id, amount_minor)"
    "   SELECT je.id, pp.acc, pp.m FROM je"
    "   JOIN pp ON je.idem_key = 'outcome:' || pp.o || ':pending')"
    " SELECT b.o, line.id IS NOT NULL FROM b"
    " LEFT JOIN line ON line.outcome_id = b.o ORDER BY b.o");

/*
 * Reverse what disputes claw back. A dispute reverses every pending or
 * verified outcome of its case that was produced before it and whose
 * clawback window it falls inside. Two sources: disputes not processed
 * yet, and outcomes rated after a dispute was processed (their event was
 * late), which are still pending because the verifier never verifies an
 * outcome with a dispute in its window. The reversing entries negate every
 * entry posted for the outcome, under <key>:reversed.
 */
DB_STMT(
    flow_disputes, 1,
    "WITH d AS (SELECT id FROM case_disputes cd WHERE processed_at IS NULL"
    /* a penalty's account is created by flow_penalty_accounts first; a
     * complaint filed since waits for the next pass */
    "   AND NOT EXISTS (SELECT 1 FROM case_plans cp JOIN contract_plans x"
    "     ON x.contract_id = cp.contract_id AND x.version = cp.version"
    "     WHERE cp.case_id = cd.case_id AND cd.kind = 'complaint'"
    "       AND (x.plan->>'complaint_penalty_minor')::bigint > 0"
    "       AND NOT EXISTS (SELECT 1 FROM accounts a"
    "         WHERE a.party = cd.tenant_id AND a.kind = 'penalty'"
    "           AND a.currency = x.plan->>'currency'))"
    "   ORDER BY id LIMIT $1::int FOR UPDATE SKIP LOCKED),"
    " hit AS (SELECT b.outcome_id, min(cd.id) AS dispute"
    "   FROM billable_outcomes b JOIN case_disputes cd"
    "     ON cd.case_id = b.case_id AND cd.created_at >= b.outcome_at"
    "    AND cd.created_at <= b.clawback_until"
    "   WHERE (b.state IN ('pending', 'verified')"
    "          AND cd.id IN (SELECT id FROM d))"
    "      OR (b.state = 'pending' AND cd.processed_at IS NOT NULL"
    "          AND b.created_at >= cd.processed_at)"
    "   GROUP BY b.outcome_id ORDER BY b.outcome_id),"
    " upd AS (UPDATE billable_outcomes b SET state = 'reversed',"
    "   reversed_at = now(), reversed_by = hit.dispute FROM hit"
    "   WHERE b.outcome_id = hit.outcome_id"
    "     AND b.state IN ('pending', 'verified') RETURNING b.outcome_id),"
    " src AS (SELECT j.idem_key || ':reversed' AS k, p.account_id AS acc,"
    "   -p.amount_minor AS m FROM upd JOIN journal_entries j"
    "   ON j.idem_key IN ('outcome:' || upd.outcome_id || ':pending',"
    "                     'outcome:' || upd.outcome_id || ':verified')"
    "   JOIN postings p ON p.entry_id = j.id),"
    " fp AS (SELECT k, " FLOW_FP_SQL " AS f FROM src GROUP BY k),"
    " je AS (INSERT INTO journal_entries (idem_key, fingerprint)"
    "   SELECT k, f FROM fp ORDER BY k"
    "   ON CONFLICT (idem_key) DO NOTHING RETURNING id, idem_key),"
    " po AS (INSERT INTO postings (entry_id, account_id, amount_minor)"
    "   SELECT je.id, src.acc, src.m FROM je JOIN src ON src.k = je.idem_key),"
    /* A complaint about a case billed under a plan with a complaint
     * penalty: the penalty, credited to the bank (schema/008). */
    " pen AS (INSERT INTO billing_adjustments (kind, tenant_id,"
    "   operator_id, contract_id, plan_version, case_id, dispute_id,"
    "   period, currency, amount_minor, description)"
    "   SELECT 'complaint_penalty', cd.tenant_id, pl.operator_id,"
    "     x.contract_id, x.version, cd.case_id, cd.id,"
    "     to_char(cd.created_at AT TIME ZONE 'UTC', 'YYYY-MM'),"
    "     x.plan->>'currency', -(x.plan->>'complaint_penalty_minor')::bigint,"
    "     left(format('Complaint penalty: case %s, %s', c.external_id,"
    "       cd.reason), 500)"
    "   FROM d JOIN case_disputes cd ON cd.id = d.id AND cd.kind = 'complaint'"
    "   JOIN cases c ON c.id = cd.case_id"
    "   JOIN case_plans cp ON cp.case_id = cd.case_id"
    "   JOIN contract_plans x ON x.contract_id = cp.contract_id"
    "    AND x.version = cp.version"
    "   JOIN contracts k ON k.id = x.contract_id"
    "   JOIN pools pl ON pl.id = k.pool_id"
    "   WHERE (x.plan->>'complaint_penalty_minor')::bigint > 0"
    "   ORDER BY cd.id ON CONFLICT (dispute_id) DO NOTHING"
    "   RETURNING dispute_id, tenant_id, currency, amount_minor),"
    " ppen AS (SELECT 'dispute:' || pen.dispute_id || ':penalty' AS k,"
    "   a.id AS acc, x.m FROM pen"
    "   CROSS JOIN LATERAL (VALUES ('bank_receivable', pen.amount_minor),"
    "     ('penalty', -pen.amount_minor)) AS x(kind, m)"
    "   JOIN accounts a ON a.party = pen.tenant_id AND a.kind = x.kind"
    "    AND a.currency = pen.currency),"
    " fpen AS (SELECT k, " FLOW_FP_SQL " AS f FROM ppen GROUP BY k),"
    " jpen AS (INSERT INTO journal_entries (idem_key, fingerprint)"
    "   SELECT k, f FROM fpen ORDER BY k"
    "   ON CONFLICT (idem_key) DO NOTHING RETURNING id, idem_key),"
    " popen AS (INSERT INTO postings (entry_id, account_id, amount_minor)"
    "   SELECT jpen.id, ppen.acc, ppen.m FROM jpen"
    "   JOIN ppen ON ppen.k = jpen.idem_key),"
    " mark AS (UPDATE case_disputes c SET processed_at = now() FROM d"
    "   WHERE c.id = d.id)"
    " SELECT (SELECT count(*) FROM upd), (SELECT count(*) FROM d),"
    "  (SELECT count(*) FROM pen)");

/* The accounts a complaint penalty posts to, before flow_disputes. */
DB_STMT(flow_penalty_accounts, 0,
        "INSERT INTO accounts (party, kind, currency)"
        " SELECT DISTINCT cd.tenant_id, k.kind, x.plan->>'currency'"
        " FROM case_disputes cd"
        " JOIN case_plans cp ON cp.case_id = cd.case_id"
        " JOIN contract_plans x ON x.contract_id = cp.contract_id"
        "  AND x.version = cp.version"
        " CROSS JOIN (VALUES ('bank_receivable'), ('penalty')) AS k(kind)"
        " WHERE cd.processed_at IS NULL AND cd.kind = 'complaint'"
        "   AND (x.plan->>'complaint_penalty_minor')::bigint > 0"
        " ORDER BY 1, 2, 3 ON CONFLICT (party, kind, currency) DO NOTHING");

/*
 * Verify pending outcomes whose window passed with no reopen and no
 * complaint in it: move the price from the unverified receivable to the
 * bank receivable and credit the platform fee and every share of the split
 * to its party's account.
 */
DB_STMT(
    flow_verify, 1,
    "WITH due AS (SELECT b.outcome_id, b.tenant_id, b.currency,"
    "   b.amount_minor FROM billable_outcomes b"
    "   WHERE b.state = 'pending' AND b.verify_after <= now()"
    "     AND NOT EXISTS (SELECT 1 FROM case_disputes cd"
    "       WHERE cd.case_id = b.case_id AND cd.created_at >= b.outcome_at"
    "         AND cd.created_at <= b.clawback_until)"
    "   ORDER BY b.outcome_id LIMIT $1::int FOR UPDATE OF b SKIP LOCKED),"
    " upd AS (UPDATE billable_outcomes b SET state = 'verified',"
    "   verified_at = now() FROM due WHERE b.outcome_id = due.outcome_id"
    "   RETURNING b.outcome_id),"
    " pp AS (SELECT due.outcome_id AS o, a.id AS acc, x.m FROM due"
    "   CROSS JOIN LATERAL (VALUES ('bank_receivable', due.amount_minor),"
    "     ('bank_unverified_receivable', -due.amount_minor),"
    "     ('unverified_revenue', due.amount_minor)) AS x(kind, m)"
    "   JOIN accounts a ON a.party = due.tenant_id AND a.kind = x.kind"
    "    AND a.currency = due.currency"
    "   WHERE due.amount_minor <> 0"
    "   UNION ALL"
    "   SELECT due.outcome_id, a.id, -s.amount_minor FROM due"
    "   JOIN outcome_splits s ON s.outcome_id = due.outcome_id"
    "   JOIN accounts a ON a.party = s.party AND a.currency = due.currency"
    "    AND a.kind = CASE s.role WHEN 'platform' THEN 'platform_revenue'"
    "      WHEN 'operator' THEN 'operator_payable' ELSE 'worker_payable' END"
    "   WHERE s.amount_minor <> 0),"
    " fp AS (SELECT o, " FLOW_FP_SQL " AS f FROM pp GROUP BY o),"
    " je AS (INSERT INTO journal_entries (idem_key, fingerprint)"
    "   SELECT 'outcome:' || o || ':verified', f FROM fp ORDER BY o"
    "   ON CONFLICT (idem_key) DO NOTHING RETURNING id, idem_key),"
    " po AS (INSERT INTO postings (entry_id, account_id, amount_minor)"
    "   SELECT je.id, pp.acc, pp.m FROM je"
    "   JOIN pp ON je.idem_key = 'outcome:' || pp.o || ':verified')"
    " SELECT count(*) FROM upd");

/* Reversed outcomes whose line is on an issued invoice, not credited. */
DB_STMT(flow_to_credit, 1,
        "SELECT il.invoice_id, il.line_no,"
        "  left(coalesce(cd.kind || ': ' || cd.reason, 'reversed'), 400)"
        " FROM billable_outcomes b"
        " JOIN invoice_lines il ON il.kind = 'invoice'"
        "  AND il.billable_line_id = b.billable_line_id"
        " JOIN invoices i ON i.id = il.invoice_id AND i.state = 'issued'"
        " LEFT JOIN case_disputes cd ON cd.id = b.reversed_by"
        " WHERE b.state = 'reversed'"
        "   AND NOT EXISTS (SELECT 1 FROM invoice_lines c"
        "     WHERE c.kind = 'credit_note'"
        "       AND c.billable_line_id = b.billable_line_id)"
        " ORDER BY il.invoice_id, il.line_no LIMIT $1::int");

typedef struct cached_plan {
    char contract[ID_MAX + 1];
    int version;
    rating_plan *plan;
} cached_plan;

struct billing_flow {
    cached_plan cache[FLOW_PLAN_CACHE];
    int ncache;
    int64_t billed;       /* outcomes this flow has billed */
    int64_t next_analyze; /* db_analyze_growing */
};

/* The tables a batch writes: see db_analyze_growing. */
#define FLOW_TABLES                                                            \
    "billable_lines, billable_outcomes, outcome_splits, case_plans,"           \
    " journal_entries, postings, accounts"

status billing_flow_create(billing_flow **out, err *e)
{
    billing_flow *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    *out = f;
    return ST_OK;
}

static void cache_clear(billing_flow *f)
{
    for (int i = 0; i < f->ncache; i++)
        rating_plan_destroy(f->cache[i].plan);
    f->ncache = 0;
}

void billing_flow_destroy(billing_flow *f)
{
    if (f == NULL)
        return;
    cache_clear(f);
    free(f);
}

/* The parsed plan (contract, version), parsing json on a miss. Versions
 * are immutable in the database, so a cached plan never goes stale. */
static status plan_get(billing_flow *f, const char *contract, int version,
                       const char *json, const rating_plan **out, err *e)
{
    rating_plan *p = NULL;
    status s;

    for (int i = 0; i < f->ncache; i++) {
        if (f->cache[i].version == version &&
            strcmp(f->cache[i].contract, contract) == 0) {
            *out = f->cache[i].plan;
            return ST_OK;
        }
    }
    s = rating_plan_parse(json, strlen(json), &p, e);
    if (s != ST_OK)
        return err_wrap(e, "price plan %s version %d", contract, version);
    if (f->ncache == FLOW_PLAN_CACHE)
        cache_clear(f);
    snprintf(f->cache[f->ncache].contract, sizeof(f->cache[0].contract), "%s",
             contract);
    f->cache[f->ncache].version = version;
    f->cache[f->ncache].plan = p;
    *out = f->cache[f->ncache++].plan;
    return ST_OK;
}

/* The integer members of a JSON object as rating values (names borrowed
 * from obj). Non-integers are not amounts or facts and are left out. */
static int int_values(json_t *obj, rating_value *v, int max)
{
    const char *k;
    json_t *x;
    int n = 0;

    json_object_foreach(obj, k, x)
    {
        if (n < max && json_is_integer(x)) {
            v[n].name = k;
            v[n].value = (int64_t)json_integer_value(x);
            n++;
        }
    }
    return n;
}

/* What an earlier outcome of the same batch contributes to a later one's
 * history (the database cannot see it yet). */
typedef struct batch_seen {
    const char *contract;
    int version;
    const char *month;
    int64_t case_id;
    int64_t base;
    int64_t pct;
} batch_seen;

static status add_account(json_t *acc, const char *party, const char *kind,
                          const char *cur)
{
    json_t *o = json_pack("{s:s, s:s, s:s}", "p", party, "k", kind, "c", cur);

    if (o == NULL || json_array_append_new(acc, o) != 0)
        return ST_NOMEM;
    return ST_OK;
}

static status add_split(json_t *sp, const char *role, const char *party,
                        int64_t amount)
{
    json_t *o = json_pack("{s:s, s:s, s:I}", "r", role, "p", party, "a",
                          (json_int_t)amount);

    if (o == NULL || json_array_append_new(sp, o) != 0)
        return ST_NOMEM;
    return ST_OK;
}

/*
 * Split list ("w1,w2", the case's earlier workers) into hw[], copied into
 * buf; at most FLOW_HANDOFF_MAX, and fewer when scaling the plan's weights
 * (summing to wsum) by the number of contributors would pass the split's
 * limit. Returns how many.
 */
static int handoff_workers(const char *list, char *buf, size_t cap,
                           const char **hw, int64_t wsum)
{
    int n = 0, max = FLOW_HANDOFF_MAX;
    char *save = NULL;

    if (wsum > 0 && RATING_WEIGHT_MAX / wsum - 1 < max)
        max = (int)(RATING_WEIGHT_MAX / wsum - 1);
    snprintf(buf, cap, "%s", list);
    for (char *t = strtok_r(buf, ",", &save); t != NULL && n < max;
         t = strtok_r(NULL, ",", &save))
        hw[n++] = t;
    return n;
}

/*
 * Rate row i of the read result into the batch document doc and the
 * accounts list acc. ST_NOT_FOUND (plan does not cover the code) and
 * ST_INVALID / ST_MISSING_FIELD (bad amounts) are the outcome's problem:
 * the caller counts and logs them and goes on.
 */
static status rate_row(billing_flow *f, const db_res *r, int i,
                       batch_seen *seen, int nseen, json_t *doc, json_t *acc,
                       int64_t *base_out, int64_t *pct_out, err *e)
{
    const rating_plan *plan = NULL;
    rating_value fields[FLOW_VALUES_MAX], facts[FLOW_VALUES_MAX];
    rating_outcome ro;
    rating_result res;
    json_t *fj = NULL, *pj = NULL, *sp = NULL, *row = NULL;
    int64_t weights[3 + FLOW_HANDOFF_MAX], parts[3 + FLOW_HANDOFF_MAX];
    int64_t fee = 0, total;
    char handoffs[FLOW_HANDOFF_MAX * (ID_MAX + 1) + 1];
    const char *hw[FLOW_HANDOFF_MAX];
    int nh;
    const char *contract = db_val(r, i, 9), *tenant = db_val(r, i, 6);
    const char *op = db_val(r, i, 8), *worker = db_val(r, i, 7);
    const char *ai = db_val(r, i, 18), *cur;
    int version = (int)db_i64(r, i, 10);
    status s;

    s = plan_get(f, contract, version, db_val(r, i, 11), &plan, e);
    if (s != ST_OK)
        goto out;
    fj = json_loads(db_val(r, i, 2), 0, NULL);
    pj = json_loads(db_val(r, i, 3), 0, NULL);
    if (fj == NULL || pj == NULL) {
        s = err_set(e, ST_INTERNAL,
                    "outcome fields or case payload unreadable");
        goto out;
    }
    memset(&ro, 0, sizeof(ro));
    ro.code = db_val(r, i, 1);
    ro.fields = fields;
    ro.nfields = int_values(fj, fields, FLOW_VALUES_MAX);
    ro.facts = facts;
    ro.nfacts = int_values(pj, facts, FLOW_VALUES_MAX);
    ro.month_volume = db_i64(r, i, 19);
    ro.case_base_before = db_i64(r, i, 20);
    ro.case_percent_billed = db_i64(r, i, 21);
    ro.sla_breached = db_bool(r, i, 22);
    for (int j = 0; j < nseen; j++) {
        if (seen[j].version == version &&
            strcmp(seen[j].contract, contract) == 0 &&
            strcmp(seen[j].month, db_val(r, i, 23)) == 0)
            ro.month_volume++;
        if (seen[j].case_id == db_i64(r, i, 4)) {
            ro.case_base_before += seen[j].base;
            ro.case_percent_billed += seen[j].pct;
        }
    }
    s = rating_rate(plan, &ro, &res, e);
    if (s != ST_OK)
        goto out;
    /* An SLA penalty larger than the price leaves nothing to bill; the
     * bank is never owed money by a result. */
    total = res.total_minor < 0 ? 0 : res.total_minor;
    nh =
        handoff_workers(db_val(r, i, 24), handoffs, sizeof(handoffs), hw,
                        db_i64(r, i, 15) + db_i64(r, i, 16) + db_i64(r, i, 17));
    /* The worker share is split equally between the outcome's worker and
     * each earlier worker of the case: every weight is scaled by nh + 1
     * and each contributor weighs the plan's worker weight. */
    weights[0] = db_i64(r, i, 15) * (nh + 1);
    weights[1] = db_i64(r, i, 16);
    weights[2] = db_i64(r, i, 17) * (nh + 1);
    for (int h = 0; h < nh; h++)
        weights[3 + h] = db_i64(r, i, 16);
    s = rating_split(total, db_i64(r, i, 14), rating_plan_rounding(plan),
                     weights, 3 + nh, &fee, parts, e);
    if (s != ST_OK)
        goto out;
    cur = rating_plan_currency(plan);
    sp = json_array();
    if (sp == NULL || add_split(sp, "platform", "platform", fee) != ST_OK ||
        add_split(sp, "operator", op, parts[0]) != ST_OK ||
        add_split(sp, "worker", worker, parts[1]) != ST_OK ||
        (ai[0] != '\0' && add_split(sp, "ai_worker", ai, parts[2]) != ST_OK)) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    for (int h = 0; h < nh; h++) {
        if (add_split(sp, "handoff", hw[h], parts[3 + h]) != ST_OK ||
            add_account(acc, hw[h], "worker_payable",
                        rating_plan_currency(plan)) != ST_OK) {
            s = err_set(e, ST_NOMEM, "out of memory");
            goto out;
        }
    }
    *base_out = res.case_base_after - ro.case_base_before;
    *pct_out = res.case_percent_billed_after - ro.case_percent_billed;
    row = json_pack("{s:I, s:I, s:I, s:I, s:s, s:i, s:s, s:s, s:s, s:I, s:I,"
                    " s:s, s:s, s:I, s:I, s:O}",
                    "o", (json_int_t)db_i64(r, i, 0), "amt", (json_int_t)total,
                    "base", (json_int_t)*base_out, "pct", (json_int_t)*pct_out,
                    "k", contract, "v", version, "cur", cur, "ten", tenant,
                    "op", op, "cid", (json_int_t)db_i64(r, i, 4), "task",
                    (json_int_t)db_i64(r, i, 5), "w", worker, "code", ro.code,
                    "vs", (json_int_t)db_i64(r, i, 12), "cs",
                    (json_int_t)db_i64(r, i, 13), "sp", sp);
    if (row == NULL || json_array_append_new(doc, row) != 0 ||
        add_account(acc, tenant, "bank_unverified_receivable", cur) != ST_OK ||
        add_account(acc, tenant, "unverified_revenue", cur) != ST_OK ||
        add_account(acc, tenant, "bank_receivable", cur) != ST_OK ||
        add_account(acc, "platform", "platform_revenue", cur) != ST_OK ||
        add_account(acc, op, "operator_payable", cur) != ST_OK ||
        add_account(acc, worker, "worker_payable", cur) != ST_OK ||
        (ai[0] != '\0' &&
         add_account(acc, ai, "worker_payable", cur) != ST_OK)) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
out:
    json_decref(fj);
    json_decref(pj);
    json_decref(sp);
    return s;
}

status billing_flow_rate(billing_flow *f, db *d, const int64_t *ids, int n,
                         bool *handled, billing_counts *counts, err *e)
{
    billing_counts got = {0};
    db_res *r = NULL, *w = NULL;
    json_t *doc = NULL, *acc = NULL;
    batch_seen *seen = NULL;
    char *list = NULL, *docs = NULL, *accs = NULL;
    size_t cap = BILLING_IDS_CAP(n);
    const char *params[1];
    int nseen = 0;
    status s = ST_OK;

    for (int i = 0; i < n; i++)
        handled[i] = false;
    if (n <= 0)
        return ST_OK;
    list = malloc(cap);
    seen = calloc((size_t)n, sizeof(*seen));
    doc = json_array();
    acc = json_array();
    if (list == NULL || seen == NULL || doc == NULL || acc == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    s = billing_ids_format(ids, n, list, cap, e);
    if (s != ST_OK)
        goto out;
    params[0] = list;
    s = db_run(d, &flow_read, params, &r, e);
    if (s != ST_OK) {
        err_wrap(e, "read %d outcomes to rate", n);
        goto out;
    }
    for (int i = 0; i < db_rows(r); i++) {
        int64_t id = db_i64(r, i, 0), base = 0, pct = 0;
        err re = {0};
        status rs;

        for (int j = 0; j < n; j++)
            if (ids[j] == id)
                handled[j] = true;
        rs = rate_row(f, r, i, seen, nseen, doc, acc, &base, &pct, &re);
        if (rs == ST_NOMEM) {
            s = err_set(e, ST_NOMEM, "out of memory");
            goto out;
        }
        if (rs != ST_OK) {
            got.no_price++;
            log_warn(MOD,
                     "outcome %" PRId64 " (code \"%s\", contract \"%s\") "
                     "not billed: %s",
                     id, db_val(r, i, 1), db_val(r, i, 9), re.msg);
            continue;
        }
        seen[nseen].contract = db_val(r, i, 9);
        seen[nseen].version = (int)db_i64(r, i, 10);
        seen[nseen].month = db_val(r, i, 23);
        seen[nseen].case_id = db_i64(r, i, 4);
        seen[nseen].base = base;
        seen[nseen].pct = pct;
        nseen++;
    }
    if (json_array_size(doc) == 0)
        goto done;
    accs = json_dumps(acc, JSON_COMPACT);
    docs = json_dumps(doc, JSON_COMPACT);
    if (accs == NULL || docs == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    params[0] = accs;
    s = db_run(d, &flow_accounts, params, NULL, e);
    if (s != ST_OK) {
        err_wrap(e, "ensure ledger accounts");
        goto out;
    }
    params[0] = docs;
    s = db_run(d, &flow_write, params, &w, e);
    if (s != ST_OK) {
        err_wrap(e, "bill and post %zu outcomes", json_array_size(doc));
        goto out;
    }
    for (int i = 0; i < db_rows(w); i++) {
        if (db_bool(w, i, 1))
            got.billed++;
        else
            got.duplicates++;
    }
done:
    /* Repeats of a handled id within the batch are duplicates. */
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i && handled[i]; j++)
            if (ids[j] == ids[i]) {
                got.duplicates++;
                break;
            }
    billing_counts_add(counts, &got);
    f->billed += got.billed;
    {
        err ae = {0};

        /* A failed refresh costs only speed: log it and go on. */
        if (db_analyze_growing(d, FLOW_TABLES, f->billed, &f->next_analyze,
                               NULL, &ae) != ST_OK)
            log_warn(MOD, "refreshing table statistics: %s", ae.msg);
    }
out:
    db_res_free(r);
    db_res_free(w);
    json_decref(doc);
    json_decref(acc);
    free(docs);
    free(accs);
    free(seen);
    free(list);
    return s;
}

static status run_count(db *d, const db_stmt *st, int max, int64_t *out,
                        int64_t *second, int64_t *third, err *e)
{
    char mbuf[24];
    const char *params[1] = {db_i64_str(mbuf, max)};
    db_res *r = NULL;
    status s;

    s = db_run(d, st, params, &r, e);
    if (s != ST_OK)
        return s;
    *out = db_rows(r) > 0 ? db_i64(r, 0, 0) : 0;
    if (second != NULL)
        *second = db_rows(r) > 0 ? db_i64(r, 0, 1) : 0;
    if (third != NULL)
        *third = db_rows(r) > 0 ? db_i64(r, 0, 2) : 0;
    db_res_free(r);
    return ST_OK;
}

status billing_flow_disputes(db *d, int max, int64_t *reversed, err *e)
{
    int64_t n = 0, disputes = 0, penalties = 0;
    status s = db_run(d, &flow_penalty_accounts, NULL, NULL, e);

    if (s == ST_OK)
        s = run_count(d, &flow_disputes, max, &n, &disputes, &penalties, e);
    if (s != ST_OK)
        return err_wrap(e, "process reopens and complaints");
    if (n > 0 || disputes > 0)
        log_info(MOD,
                 "%" PRId64 " reopens/complaints processed, %" PRId64
                 " outcomes reversed, %" PRId64 " complaint penalties",
                 disputes, n, penalties);
    *reversed = n;
    return ST_OK;
}

status billing_flow_verify(db *d, int max, int64_t *verified, err *e)
{
    status s = run_count(d, &flow_verify, max, verified, NULL, NULL, e);

    if (s != ST_OK)
        return err_wrap(e, "verify outcomes");
    return ST_OK;
}

status billing_flow_credit(db *d, const signer *sg, int *notes, err *e)
{
    char mbuf[24];
    const char *params[1] = {db_i64_str(mbuf, FLOW_CREDIT_MAX)};
    int64_t *lines = NULL;
    db_res *r = NULL;
    int issued = 0, rows;
    status s;

    s = db_run(d, &flow_to_credit, params, &r, e);
    if (s != ST_OK) {
        err_wrap(e, "find reversed invoiced outcomes");
        goto out;
    }
    rows = db_rows(r);
    lines = calloc((size_t)(rows > 0 ? rows : 1), sizeof(*lines));
    if (lines == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < rows;) {
        int64_t inv = db_i64(r, i, 0), note = 0;
        char reason[INVOICE_REASON_MAX + 1];
        int nl = 0;

        snprintf(reason, sizeof(reason), "Result reversed by %s",
                 db_val(r, i, 2));
        while (i < rows && db_i64(r, i, 0) == inv)
            lines[nl++] = db_i64(r, i++, 1);
        s = invoice_credit_note(d, inv, lines, nl, reason, sg, &note, e);
        if (s != ST_OK) {
            err_wrap(e, "credit %d lines of invoice %" PRId64, nl, inv);
            goto out;
        }
        log_info(MOD,
                 "credit note %" PRId64 " issued for %d reversed lines of "
                 "invoice %" PRId64,
                 note, nl, inv);
        issued++;
    }
out:
    *notes = issued;
    db_res_free(r);
    free(lines);
    return s;
}
