#include "billing_flow.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing_event.h"
#include "billing_sql.h"
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

/* The statements are billing/sql/flow_*.sql (billing_sql.h). */

typedef struct cached_plan {
    char contract[ID_MAX + 1];
    int version;
    rating_plan *plan;
} cached_plan;

struct billing_flow {
    cached_plan cache[FLOW_PLAN_CACHE];
    int ncache;
    ledger_batch *ledger; /* the pending entries of a batch, reused */
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

    status s;

    if (f == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    if ((s = ledger_batch_create(&f->ledger, e)) != ST_OK) {
        free(f);
        return s;
    }
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
    ledger_batch_destroy(f->ledger);
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

/* A column of the flow_read.sql result. */
#define READ(col) BILLING_FLOW_READ_##col

/*
 * Rate row i of the read result into the batch document doc.
 * ST_NOT_FOUND (plan does not cover the code) and ST_INVALID /
 * ST_MISSING_FIELD (bad amounts) are the outcome's problem: the caller
 * counts and logs them and goes on.
 */
static status rate_row(billing_flow *f, const db_res *r, int i,
                       batch_seen *seen, int nseen, json_t *doc,
                       int64_t *base_out, int64_t *pct_out, err *e)
{
    const rating_plan *plan = NULL;
    rating_value fields[FLOW_VALUES_MAX], facts[FLOW_VALUES_MAX];
    rating_outcome ro;
    rating_result res;
    json_t *fj = NULL, *pj = NULL, *sp = NULL, *row = NULL;
    int64_t weights[3 + FLOW_HANDOFF_MAX], parts[3 + FLOW_HANDOFF_MAX];
    int64_t fee = 0, total;
    int64_t w_op = db_i64(r, i, READ(OPERATOR_WEIGHT));
    int64_t w_worker = db_i64(r, i, READ(WORKER_WEIGHT));
    int64_t w_ai = db_i64(r, i, READ(AI_WEIGHT));
    char handoffs[FLOW_HANDOFF_MAX * (ID_MAX + 1) + 1];
    const char *hw[FLOW_HANDOFF_MAX];
    int nh;
    const char *contract = db_val(r, i, READ(CONTRACT_ID));
    const char *tenant = db_val(r, i, READ(TENANT_ID));
    const char *op = db_val(r, i, READ(OPERATOR_ID));
    const char *worker = db_val(r, i, READ(WORKER_ID));
    const char *ai = db_val(r, i, READ(AI_PARTY)), *cur;
    int version = (int)db_i64(r, i, READ(VERSION));
    status s;

    s = plan_get(f, contract, version, db_val(r, i, READ(PLAN)), &plan, e);
    if (s != ST_OK)
        goto out;
    fj = json_loads(db_val(r, i, READ(FIELDS)), 0, NULL);
    pj = json_loads(db_val(r, i, READ(PAYLOAD)), 0, NULL);
    if (fj == NULL || pj == NULL) {
        s = err_set(e, ST_INTERNAL,
                    "outcome fields or case payload unreadable");
        goto out;
    }
    memset(&ro, 0, sizeof(ro));
    ro.code = db_val(r, i, READ(CODE));
    ro.fields = fields;
    ro.nfields = int_values(fj, fields, FLOW_VALUES_MAX);
    ro.facts = facts;
    ro.nfacts = int_values(pj, facts, FLOW_VALUES_MAX);
    ro.month_volume = db_i64(r, i, READ(MONTH_VOLUME));
    ro.case_base_before = db_i64(r, i, READ(CASE_BASE_BEFORE));
    ro.case_percent_billed = db_i64(r, i, READ(CASE_PERCENT_BEFORE));
    ro.sla_breached = db_bool(r, i, READ(SLA_BREACHED));
    for (int j = 0; j < nseen; j++) {
        if (seen[j].version == version &&
            strcmp(seen[j].contract, contract) == 0 &&
            strcmp(seen[j].month, db_val(r, i, READ(MONTH))) == 0)
            ro.month_volume++;
        if (seen[j].case_id == db_i64(r, i, READ(CASE_ID))) {
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
    nh = handoff_workers(db_val(r, i, READ(HANDOFFS)), handoffs,
                         sizeof(handoffs), hw, w_op + w_worker + w_ai);
    /* The worker share is split equally between the outcome's worker and
     * each earlier worker of the case: every weight is scaled by nh + 1
     * and each contributor weighs the plan's worker weight. */
    weights[0] = w_op * (nh + 1);
    weights[1] = w_worker;
    weights[2] = w_ai * (nh + 1);
    for (int h = 0; h < nh; h++)
        weights[3 + h] = w_worker;
    s = rating_split(total, db_i64(r, i, READ(PLATFORM_FEE_BPS)),
                     rating_plan_rounding(plan), weights, 3 + nh, &fee, parts,
                     e);
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
        if (add_split(sp, "handoff", hw[h], parts[3 + h]) != ST_OK) {
            s = err_set(e, ST_NOMEM, "out of memory");
            goto out;
        }
    }
    *base_out = res.case_base_after - ro.case_base_before;
    *pct_out = res.case_percent_billed_after - ro.case_percent_billed;
    row = json_pack(
        "{s:I, s:I, s:I, s:I, s:s, s:i, s:s, s:s, s:s, s:I, s:I,"
        " s:s, s:s, s:I, s:I, s:O}",
        "o", (json_int_t)db_i64(r, i, READ(OUTCOME_ID)), "amt",
        (json_int_t)total, "base", (json_int_t)*base_out, "pct",
        (json_int_t)*pct_out, "k", contract, "v", version, "cur", cur, "ten",
        tenant, "op", op, "cid", (json_int_t)db_i64(r, i, READ(CASE_ID)),
        "task", (json_int_t)db_i64(r, i, READ(TASK_ID)), "w", worker, "code",
        ro.code, "vs", (json_int_t)db_i64(r, i, READ(VERIFICATION_S)), "cs",
        (json_int_t)db_i64(r, i, READ(CLAWBACK_S)), "sp", sp);
    if (row == NULL || json_array_append_new(doc, row) != 0) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
out:
    json_decref(fj);
    json_decref(pj);
    json_decref(sp);
    return s;
}

/*
 * Add to lb the entry outcome:<id>:pending of every outcome the write
 * statement w billed now: the bank owes the price, not yet earned.
 * *billed and *duplicates count the rows.
 */
static status pending_entries(ledger_batch *lb, const db_res *w,
                              int64_t *billed, int64_t *duplicates, err *e)
{
    for (int i = 0; i < db_rows(w); i++) {
        const char *tenant = db_val(w, i, BILLING_FLOW_WRITE_TENANT_ID);
        const char *cur = db_val(w, i, BILLING_FLOW_WRITE_CURRENCY);
        int64_t amt = db_i64(w, i, BILLING_FLOW_WRITE_AMOUNT_MINOR);
        char key[LEDGER_KEY_MAX + 1];
        status s;

        if (!db_bool(w, i, BILLING_FLOW_WRITE_BILLED)) {
            (*duplicates)++;
            continue;
        }
        (*billed)++;
        if (amt == 0)
            continue;
        if ((s = ledger_key_outcome(key, sizeof(key),
                                    db_i64(w, i, BILLING_FLOW_WRITE_OUTCOME_ID),
                                    "pending", e)) != ST_OK ||
            (s = ledger_batch_entry(lb, key, e)) != ST_OK ||
            (s = ledger_batch_add(lb, tenant, LEDGER_BANK_UNVERIFIED_RECEIVABLE,
                                  cur, amt, e)) != ST_OK ||
            (s = ledger_batch_add(lb, tenant, LEDGER_UNVERIFIED_REVENUE, cur,
                                  -amt, e)) != ST_OK)
            return s;
    }
    return ST_OK;
}

/*
 * Store the rated batch docs and post its pending entries, in one
 * transaction: the billable lines and their ledger entries commit
 * together or not at all.
 */
static status write_batch(billing_flow *f, db *d, const char *docs,
                          billing_counts *got, err *e)
{
    const char *params[1] = {docs};
    db_res *w = NULL;
    status s;

    ledger_batch_reset(f->ledger);
    if ((s = db_begin(d, e)) != ST_OK)
        return s;
    if ((s = db_run(d, &billing_sql_flow_write, params, &w, e)) != ST_OK ||
        (s = pending_entries(f->ledger, w, &got->billed, &got->duplicates,
                             e)) != ST_OK ||
        (s = ledger_batch_post(d, f->ledger, NULL, e)) != ST_OK ||
        (s = db_commit(d, e)) != ST_OK)
        db_rollback(d);
    db_res_free(w);
    return s;
}

status billing_flow_rate(billing_flow *f, db *d, const int64_t *ids, int n,
                         bool *handled, billing_counts *counts, err *e)
{
    billing_counts got = {0};
    db_res *r = NULL;
    json_t *doc = NULL;
    batch_seen *seen = NULL;
    char *list = NULL, *docs = NULL;
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
    if (list == NULL || seen == NULL || doc == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    s = billing_ids_format(ids, n, list, cap, e);
    if (s != ST_OK)
        goto out;
    params[0] = list;
    s = db_run(d, &billing_sql_flow_read, params, &r, e);
    if (s != ST_OK) {
        err_wrap(e, "read %d outcomes to rate", n);
        goto out;
    }
    for (int i = 0; i < db_rows(r); i++) {
        int64_t id = db_i64(r, i, READ(OUTCOME_ID)), base = 0, pct = 0;
        err re = {0};
        status rs;

        for (int j = 0; j < n; j++)
            if (ids[j] == id)
                handled[j] = true;
        rs = rate_row(f, r, i, seen, nseen, doc, &base, &pct, &re);
        if (rs == ST_NOMEM) {
            s = err_set(e, ST_NOMEM, "out of memory");
            goto out;
        }
        if (rs != ST_OK) {
            got.no_price++;
            log_warn(MOD,
                     "outcome %" PRId64 " (code \"%s\", contract \"%s\") "
                     "not billed: %s",
                     id, db_val(r, i, READ(CODE)),
                     db_val(r, i, READ(CONTRACT_ID)), re.msg);
            continue;
        }
        seen[nseen].contract = db_val(r, i, READ(CONTRACT_ID));
        seen[nseen].version = (int)db_i64(r, i, READ(VERSION));
        seen[nseen].month = db_val(r, i, READ(MONTH));
        seen[nseen].case_id = db_i64(r, i, READ(CASE_ID));
        seen[nseen].base = base;
        seen[nseen].pct = pct;
        nseen++;
    }
    if (json_array_size(doc) == 0)
        goto done;
    docs = json_dumps(doc, JSON_COMPACT);
    if (docs == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    s = write_batch(f, d, docs, &got, e);
    if (s != ST_OK) {
        err_wrap(e, "bill and post %zu outcomes", json_array_size(doc));
        goto out;
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
    json_decref(doc);
    free(docs);
    free(seen);
    free(list);
    return s;
}

/*
 * Add to lb, for the rows of the dispute statement r, the reversal of
 * each reversed outcome's pending and verified entries (those that were
 * posted) and each complaint penalty: tenant bank_receivable -X (the
 * amount is negative), tenant penalty +X. Counts into the outputs.
 */
static status dispute_entries(ledger_batch *lb, const db_res *r,
                              int64_t *reversed, int64_t *disputes,
                              int64_t *penalties, err *e)
{
    static const char *const stages[] = {"pending", "verified"};

    for (int i = 0; i < db_rows(r); i++) {
        const char *what = db_val(r, i, BILLING_FLOW_DISPUTES_WHAT);
        int64_t id = db_i64(r, i, BILLING_FLOW_DISPUTES_ID);
        char key[LEDGER_KEY_MAX + 1], rev[LEDGER_KEY_MAX + 1];
        status s = ST_OK;

        if (strcmp(what, "outcome") == 0) {
            (*reversed)++;
            for (int k = 0; k < 2 && s == ST_OK; k++) {
                if ((s = ledger_key_outcome(key, sizeof(key), id, stages[k],
                                            e)) == ST_OK &&
                    (s = ledger_key_reversal(rev, sizeof(rev), key, e)) ==
                        ST_OK)
                    s = ledger_batch_reverse(lb, key, rev, true, e);
            }
        } else {
            const char *tenant = db_val(r, i, BILLING_FLOW_DISPUTES_TENANT_ID);
            const char *cur = db_val(r, i, BILLING_FLOW_DISPUTES_CURRENCY);
            int64_t x = db_i64(r, i, BILLING_FLOW_DISPUTES_AMOUNT_MINOR);

            (*disputes)++;
            if (db_null(r, i, BILLING_FLOW_DISPUTES_AMOUNT_MINOR) || x == 0)
                continue;
            (*penalties)++;
            if ((s = ledger_key_dispute(key, sizeof(key), id, "penalty", e)) ==
                    ST_OK &&
                (s = ledger_batch_entry(lb, key, e)) == ST_OK &&
                (s = ledger_batch_add(lb, tenant, LEDGER_BANK_RECEIVABLE, cur,
                                      x, e)) == ST_OK)
                s = ledger_batch_add(lb, tenant, LEDGER_PENALTY, cur, -x, e);
        }
        if (s != ST_OK)
            return s;
    }
    return ST_OK;
}

status billing_flow_disputes(db *d, int max, int64_t *reversed, err *e)
{
    char mbuf[24];
    const char *params[1] = {db_i64_str(mbuf, max)};
    int64_t n = 0, disputes = 0, penalties = 0;
    ledger_batch *lb = NULL;
    db_res *r = NULL;
    status s;

    if ((s = ledger_batch_create(&lb, e)) != ST_OK)
        return s;
    if ((s = db_begin(d, e)) != ST_OK)
        goto out;
    if ((s = db_run(d, &billing_sql_flow_disputes, params, &r, e)) != ST_OK ||
        (s = dispute_entries(lb, r, &n, &disputes, &penalties, e)) != ST_OK ||
        (s = ledger_batch_post(d, lb, NULL, e)) != ST_OK ||
        (s = db_commit(d, e)) != ST_OK)
        db_rollback(d);
out:
    db_res_free(r);
    ledger_batch_destroy(lb);
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

/* The account a share of a split is credited to, by the share's role. */
static ledger_kind share_kind(const char *role)
{
    if (strcmp(role, "platform") == 0)
        return LEDGER_PLATFORM_REVENUE;
    if (strcmp(role, "operator") == 0)
        return LEDGER_OPERATOR_PAYABLE;
    return LEDGER_WORKER_PAYABLE; /* worker, ai_worker, handoff */
}

/*
 * Add to lb the entry outcome:<id>:verified of every outcome in the rows
 * of the verify statement r (one row per share, by outcome): the price
 * moves from the unverified to the bank receivable, and each share is
 * credited to its party. *verified counts the outcomes.
 */
static status verified_entries(ledger_batch *lb, const db_res *r,
                               int64_t *verified, err *e)
{
#define VERIFY(col) BILLING_FLOW_VERIFY_##col
    int64_t last = 0;

    for (int i = 0; i < db_rows(r); i++) {
        int64_t id = db_i64(r, i, VERIFY(OUTCOME_ID));
        int64_t price = db_i64(r, i, VERIFY(AMOUNT_MINOR));
        int64_t share = db_i64(r, i, VERIFY(SHARE_MINOR));
        const char *cur = db_val(r, i, VERIFY(CURRENCY));
        const char *tenant = db_val(r, i, VERIFY(TENANT_ID));
        char key[LEDGER_KEY_MAX + 1];
        status s = ST_OK;

        if (id != last) {
            last = id;
            (*verified)++;
            /* A result billed at 0 moves nothing and shares nothing. */
            if (price == 0)
                continue;
            if ((s = ledger_key_outcome(key, sizeof(key), id, "verified", e)) !=
                    ST_OK ||
                (s = ledger_batch_entry(lb, key, e)) != ST_OK ||
                (s = ledger_batch_add(lb, tenant, LEDGER_BANK_RECEIVABLE, cur,
                                      price, e)) != ST_OK ||
                (s = ledger_batch_add(lb, tenant,
                                      LEDGER_BANK_UNVERIFIED_RECEIVABLE, cur,
                                      -price, e)) != ST_OK ||
                (s = ledger_batch_add(lb, tenant, LEDGER_UNVERIFIED_REVENUE,
                                      cur, price, e)) != ST_OK)
                return s;
        }
        if (price == 0 || share == 0 || db_null(r, i, VERIFY(ROLE)))
            continue;
        s = ledger_batch_add(lb, db_val(r, i, VERIFY(PARTY)),
                             share_kind(db_val(r, i, VERIFY(ROLE))), cur,
                             -share, e);
        if (s != ST_OK)
            return s;
    }
#undef VERIFY
    return ST_OK;
}

status billing_flow_verify(db *d, int max, int64_t *verified, err *e)
{
    char mbuf[24];
    const char *params[1] = {db_i64_str(mbuf, max)};
    ledger_batch *lb = NULL;
    db_res *r = NULL;
    int64_t n = 0;
    status s;

    if ((s = ledger_batch_create(&lb, e)) != ST_OK)
        return s;
    if ((s = db_begin(d, e)) != ST_OK)
        goto out;
    if ((s = db_run(d, &billing_sql_flow_verify, params, &r, e)) != ST_OK ||
        (s = verified_entries(lb, r, &n, e)) != ST_OK ||
        (s = ledger_batch_post(d, lb, NULL, e)) != ST_OK ||
        (s = db_commit(d, e)) != ST_OK)
        db_rollback(d);
out:
    db_res_free(r);
    ledger_batch_destroy(lb);
    if (s != ST_OK)
        return err_wrap(e, "verify outcomes");
    *verified = n;
    return ST_OK;
}

status billing_flow_credit(db *d, const signer *sg, int *notes, err *e)
{
    char mbuf[24];
    const char *params[1] = {db_i64_str(mbuf, FLOW_CREDIT_MAX)};
    int64_t *lines = NULL;
    db_res *r = NULL;
    int issued = 0, rows;
    auditlog_who billing;
    status s;

    auditlog_who_set(&billing, "service", "billing", "billing");
    s = db_run(d, &billing_sql_flow_to_credit, params, &r, e);
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
        int64_t inv = db_i64(r, i, BILLING_FLOW_TO_CREDIT_INVOICE_ID);
        int64_t note = 0;
        char reason[INVOICE_REASON_MAX + 1];
        int nl = 0;

        snprintf(reason, sizeof(reason), "Result reversed by %s",
                 db_val(r, i, BILLING_FLOW_TO_CREDIT_REASON));
        while (i < rows &&
               db_i64(r, i, BILLING_FLOW_TO_CREDIT_INVOICE_ID) == inv)
            lines[nl++] = db_i64(r, i++, BILLING_FLOW_TO_CREDIT_LINE_NO);
        s = invoice_credit_note(d, inv, lines, nl, reason, sg, &billing, &note,
                                e);
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
