#include "invoice.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "billing_sql.h"
#include "invoice_render.h"
#include "invoice_tax.h"
#include "month_minimum.h"
#include "sbuf.h"

/* The statements are billing/sql/invoice_*.sql (billing_sql.h). */

/* ---- periods ---- */

status invoice_period_bounds(const char *period, char *start, char *end, err *e)
{
    int y, m;

    if (period == NULL || strlen(period) != INVOICE_PERIOD_LEN ||
        period[4] != '-' || strspn(period, "0123456789") != 4 ||
        strspn(period + 5, "0123456789") != 2 ||
        sscanf(period, "%4d-%2d", &y, &m) != 2 || m < 1 || m > 12 || y < 2000)
        return err_set(e, ST_INVALID,
                       "period \"%.16s\" must be a month as YYYY-MM (e.g. "
                       "2026-11), year 2000 or later",
                       period != NULL ? period : "");
    snprintf(start, INVOICE_TIME_MAX, "%04d-%02d-01 00:00:00+00", y, m);
    snprintf(end, INVOICE_TIME_MAX, "%04d-%02d-01 00:00:00+00",
             m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1);
    return ST_OK;
}

/* True when the month after period has begun (UTC). */
static bool period_ended(const char *period)
{
    struct tm tm = {0};
    int y = 0, m = 0;

    if (sscanf(period, "%4d-%2d", &y, &m) != 2)
        return false;
    tm.tm_year = (m == 12 ? y + 1 : y) - 1900;
    tm.tm_mon = m == 12 ? 0 : m;
    tm.tm_mday = 1;
    return time(NULL) >= timegm(&tm);
}

/* ---- loading a document ---- */

/* A document as stored: the struct the renderer reads, borrowing strings
 * from the two results it owns. */
typedef struct loaded {
    db_res *hdr;
    db_res *rows;
    invoice_doc doc;
    invoice_doc_line *lines;
    const char **times; /* per line, billed in the document's time zone */
    bool issued;
    const char *hash;
    const char *signature;
    char ref[INVOICE_REF_MAX];
    char what[INVOICE_REF_MAX + 16];
} loaded;

static void loaded_free(loaded *l)
{
    db_res_free(l->hdr);
    db_res_free(l->rows);
    free(l->lines);
    free(l->times);
    memset(l, 0, sizeof(*l));
}

static const char *opt_str(const db_res *r, int row, int col)
{
    return db_null(r, row, col) ? NULL : db_val(r, row, col);
}

static status load(db *d, int64_t id, loaded *l, err *e)
{
    char idbuf[24];
    const char *params[1] = {db_i64_str(idbuf, id)};
    invoice_doc *doc = &l->doc;
    db_res *h, *r;
    status s;
    int n;

    memset(l, 0, sizeof(*l));
    if ((s = db_run(d, &billing_sql_invoice_header_get, params, &l->hdr, e)) !=
        ST_OK)
        goto fail;
    h = l->hdr;
    if (db_rows(h) != 1) {
        s = err_set(e, ST_NOT_FOUND,
                    "no invoice or credit note has id %" PRId64
                    "; run: twinline invoice list",
                    id);
        goto fail;
    }
    doc->id = db_i64(h, 0, BILLING_INVOICE_HEADER_GET_ID);
    doc->credit_note = strcmp(db_val(h, 0, BILLING_INVOICE_HEADER_GET_KIND),
                              "credit_note") == 0;
    doc->tenant_id = db_val(h, 0, BILLING_INVOICE_HEADER_GET_TENANT_ID);
    doc->tenant_name = db_val(h, 0, BILLING_INVOICE_HEADER_GET_TENANT_NAME);
    doc->period = db_val(h, 0, BILLING_INVOICE_HEADER_GET_PERIOD);
    doc->number = db_null(h, 0, BILLING_INVOICE_HEADER_GET_NUMBER)
                      ? 0
                      : db_i64(h, 0, BILLING_INVOICE_HEADER_GET_NUMBER);
    doc->currency = db_val(h, 0, BILLING_INVOICE_HEADER_GET_CURRENCY);
    doc->issued_at = opt_str(h, 0, BILLING_INVOICE_HEADER_GET_ISSUED_AT);
    doc->key_id = opt_str(h, 0, BILLING_INVOICE_HEADER_GET_KEY_ID);
    doc->total_minor = db_i64(h, 0, BILLING_INVOICE_HEADER_GET_TOTAL_MINOR);
    doc->corrects_id = db_i64(h, 0, BILLING_INVOICE_HEADER_GET_CORRECTS_ID);
    doc->corrects_number =
        db_i64(h, 0, BILLING_INVOICE_HEADER_GET_CORRECTS_NUMBER);
    doc->reason = opt_str(h, 0, BILLING_INVOICE_HEADER_GET_REASON);
    l->issued =
        strcmp(db_val(h, 0, BILLING_INVOICE_HEADER_GET_STATE), "issued") == 0;
    doc->format = strcmp(db_val(h, 0, BILLING_INVOICE_HEADER_GET_FORMAT),
                         INVOICE_DOC_FORMAT_V2) == 0
                      ? 2
                      : 1;
    doc->seller = (invoice_doc_party){
        opt_str(h, 0, BILLING_INVOICE_HEADER_GET_SELLER_ID),
        opt_str(h, 0, BILLING_INVOICE_HEADER_GET_SELLER_NAME),
        opt_str(h, 0, BILLING_INVOICE_HEADER_GET_SELLER_ADDRESS),
        opt_str(h, 0, BILLING_INVOICE_HEADER_GET_SELLER_TAX_ID),
        opt_str(h, 0, BILLING_INVOICE_HEADER_GET_SELLER_COUNTRY),
        opt_str(h, 0, BILLING_INVOICE_HEADER_GET_SELLER_BANK_NAME),
        opt_str(h, 0, BILLING_INVOICE_HEADER_GET_SELLER_BANK_ACCOUNT)};
    doc->buyer = (invoice_doc_party){
        doc->tenant_id,
        opt_str(h, 0, BILLING_INVOICE_HEADER_GET_BUYER_NAME),
        opt_str(h, 0, BILLING_INVOICE_HEADER_GET_BUYER_ADDRESS),
        opt_str(h, 0, BILLING_INVOICE_HEADER_GET_BUYER_TAX_ID),
        opt_str(h, 0, BILLING_INVOICE_HEADER_GET_BUYER_COUNTRY),
        opt_str(h, 0, BILLING_INVOICE_HEADER_GET_BUYER_BANK_NAME),
        opt_str(h, 0, BILLING_INVOICE_HEADER_GET_BUYER_BANK_ACCOUNT)};
    doc->time_zone = opt_str(h, 0, BILLING_INVOICE_HEADER_GET_TIME_ZONE);
    doc->issue_date = opt_str(h, 0, BILLING_INVOICE_HEADER_GET_ISSUE_DATE);
    doc->due_date = doc->credit_note
                        ? NULL
                        : opt_str(h, 0, BILLING_INVOICE_HEADER_GET_DUE_DATE);
    doc->payment_terms_days =
        db_i64(h, 0, BILLING_INVOICE_HEADER_GET_PAYMENT_TERMS_DAYS);
    doc->tax_minor = db_i64(h, 0, BILLING_INVOICE_HEADER_GET_TAX_MINOR);
    l->hash = opt_str(h, 0, BILLING_INVOICE_HEADER_GET_CONTENT_HASH);
    l->signature = opt_str(h, 0, BILLING_INVOICE_HEADER_GET_SIGNATURE);
    invoice_doc_reference(l->ref, doc->credit_note, doc->tenant_id,
                          doc->number);
    snprintf(l->what, sizeof(l->what), "%s %s",
             doc->credit_note ? "credit note" : "invoice", l->ref);

    if ((s = db_run(d, &billing_sql_invoice_lines_get, params, &l->rows, e)) !=
        ST_OK)
        goto fail;
    r = l->rows;
    n = db_rows(r);
    if (n > 0 && ((l->lines = calloc((size_t)n, sizeof(*l->lines))) == NULL ||
                  (l->times = calloc((size_t)n, sizeof(*l->times))) == NULL)) {
        s = err_set(e, ST_NOMEM, "no memory for %d invoice lines", n);
        goto fail;
    }
    for (int i = 0; i < n; i++) {
        invoice_doc_line *x = &l->lines[i];

        x->line = db_i64(r, i, BILLING_INVOICE_LINES_GET_LINE_NO);
        x->billable_line_id =
            db_i64(r, i, BILLING_INVOICE_LINES_GET_BILLABLE_LINE_ID);
        x->outcome_id = db_i64(r, i, BILLING_INVOICE_LINES_GET_OUTCOME_ID);
        x->case_id = db_i64(r, i, BILLING_INVOICE_LINES_GET_CASE_ID);
        x->task_id = db_i64(r, i, BILLING_INVOICE_LINES_GET_TASK_ID);
        x->amount_minor = db_i64(r, i, BILLING_INVOICE_LINES_GET_AMOUNT_MINOR);
        x->case_external_id =
            db_val(r, i, BILLING_INVOICE_LINES_GET_CASE_EXTERNAL_ID);
        x->worker_id = db_val(r, i, BILLING_INVOICE_LINES_GET_WORKER_ID);
        x->operator_id = db_val(r, i, BILLING_INVOICE_LINES_GET_OPERATOR_ID);
        x->contract_id = db_val(r, i, BILLING_INVOICE_LINES_GET_CONTRACT_ID);
        x->outcome_code = db_val(r, i, BILLING_INVOICE_LINES_GET_OUTCOME_CODE);
        x->billed_at = db_val(r, i, BILLING_INVOICE_LINES_GET_BILLED_AT);
        x->description = db_val(r, i, BILLING_INVOICE_LINES_GET_DESCRIPTION);
        x->case_type = db_val(r, i, BILLING_INVOICE_LINES_GET_CASE_TYPE);
        x->tax_name = db_val(r, i, BILLING_INVOICE_LINES_GET_TAX_NAME);
        x->tax_rate_bps = db_i64(r, i, BILLING_INVOICE_LINES_GET_TAX_RATE_BPS);
        x->tax_rounding = db_val(r, i, BILLING_INVOICE_LINES_GET_TAX_ROUNDING);
        x->tax_minor = db_i64(r, i, BILLING_INVOICE_LINES_GET_TAX_MINOR);
        l->times[i] = db_val(r, i, BILLING_INVOICE_LINES_GET_BILLED_LOCAL);
    }
    doc->nlines = n;
    doc->lines = l->lines;
    return ST_OK;
fail:
    loaded_free(l);
    return s;
}

/* ---- issuing ---- */

/*
 * Work out each line's share of the tax of draft invoice id
 * (invoice_tax.h) and store it, in the caller's transaction. Credit notes
 * copy their lines' taxes instead.
 */
static status assign_taxes(db *d, int64_t id, err *e)
{
    char idbuf[24];
    const char *params[3] = {db_i64_str(idbuf, id), NULL, NULL};
    invoice_tax_line *lines = NULL;
    sbuf nos = {0}, taxes = {0};
    db_res *r = NULL;
    status s;
    int n;

    if ((s = db_run(d, &billing_sql_invoice_tax_lines, params, &r, e)) != ST_OK)
        return s;
    n = db_rows(r);
    if (n > 0 && (lines = calloc((size_t)n, sizeof(*lines))) == NULL) {
        s = err_set(e, ST_NOMEM, "no memory for the tax of %d lines", n);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        lines[i].amount_minor =
            db_i64(r, i, BILLING_INVOICE_TAX_LINES_AMOUNT_MINOR);
        lines[i].name = db_val(r, i, BILLING_INVOICE_TAX_LINES_TAX_NAME);
        lines[i].rate_bps =
            db_i64(r, i, BILLING_INVOICE_TAX_LINES_TAX_RATE_BPS);
        if ((s = money_round_parse(
                 db_val(r, i, BILLING_INVOICE_TAX_LINES_TAX_ROUNDING),
                 &lines[i].mode, e)) != ST_OK)
            goto out;
    }
    if ((s = invoice_tax_allocate(lines, n, e)) != ST_OK)
        goto out;
    sbuf_append(&nos, "{", 1);
    sbuf_append(&taxes, "{", 1);
    for (int i = 0; i < n; i++) {
        sbuf_printf(&nos, "%s%s", i > 0 ? "," : "",
                    db_val(r, i, BILLING_INVOICE_TAX_LINES_LINE_NO));
        sbuf_printf(&taxes, "%s%" PRId64, i > 0 ? "," : "", lines[i].tax_minor);
    }
    sbuf_append(&nos, "}", 1);
    sbuf_append(&taxes, "}", 1);
    if (nos.failed || taxes.failed) {
        s = err_set(e, ST_NOMEM, "no memory for the tax of %d lines", n);
        goto out;
    }
    db_res_free(r);
    r = NULL;
    params[1] = sbuf_str(&nos);
    params[2] = sbuf_str(&taxes);
    s = db_run(d, &billing_sql_invoice_tax_set, params, &r, e);
out:
    db_res_free(r);
    free(lines);
    sbuf_free(&nos);
    sbuf_free(&taxes);
    return s;
}

/* True when a format 2 document lacks a legal detail of a party that a
 * bank's accounts payable looks for. */
static bool parties_incomplete(const invoice_doc *doc)
{
    const invoice_doc_party *p[2] = {&doc->seller, &doc->buyer};

    if (doc->format != 2)
        return false;
    for (int i = 0; i < 2; i++)
        if (p[i]->address == NULL || p[i]->address[0] == '\0' ||
            p[i]->tax_id == NULL || p[i]->tax_id[0] == '\0')
            return true;
    return false;
}

/* Sum the lines of draft id into its header, then render, hash, sign
 * and mark it issued, all in the caller's transaction. */
/* What the audit trail says of an issued document. */
static json_t *issued_json(const loaded *l, const char *hash)
{
    return json_pack(
        "{s:I, s:s, s:s, s:I, s:I, s:i, s:s}", "id", (json_int_t)l->doc.id,
        "reference", l->ref, "currency", l->doc.currency, "total_minor",
        (json_int_t)l->doc.total_minor, "tax_minor",
        (json_int_t)l->doc.tax_minor, "lines", l->doc.nlines, "sha256", hash);
}

/* Issue draft id: total, render, sign, store. *audit (may be NULL)
 * receives the document as the audit trail records it; *incomplete (may
 * be NULL) says whether a party's legal details are missing. */
static status issue(db *d, int64_t id, const signer *sg, json_t **audit,
                    bool *incomplete, err *e)
{
    char idbuf[24];
    char hash[INVOICE_HASH_HEX + 1], sig[INVOICE_SIG_HEX + 1];
    const char *params[3] = {db_i64_str(idbuf, id), hash, sig};
    db_res *r = NULL;
    char *canon = NULL;
    size_t len = 0;
    loaded l;
    status s;

    if ((s = db_run(d, &billing_sql_invoice_totals, params, &r, e)) != ST_OK) {
        err_wrap(e,
                 "total of document %" PRId64
                 " (its amounts must sum within 64 bits)",
                 id);
        return s;
    }
    db_res_free(r);
    r = NULL;
    if ((s = load(d, id, &l, e)) != ST_OK)
        return s;
    if (incomplete != NULL)
        *incomplete = parties_incomplete(&l.doc);
    if ((s = invoice_doc_render(&l.doc, &canon, &len, e)) != ST_OK)
        goto out;
    if ((s = invoice_doc_sign(sg, canon, len, hash, sig, e)) != ST_OK)
        goto out;
    if ((s = db_run(d, &billing_sql_invoice_issue, params, &r, e)) != ST_OK)
        goto out;
    if (db_affected(r) != 1)
        s = err_set(e, ST_INTERNAL, "document %" PRId64 " was not a draft", id);
    if (s == ST_OK && audit != NULL && (*audit = issued_json(&l, hash)) == NULL)
        s = err_set(e, ST_NOMEM, "out of memory");
out:
    db_res_free(r);
    free(canon);
    loaded_free(&l);
    return s;
}

/* What a draft is made of. An invoice names its seller and terms; a
 * credit note the invoice it corrects, whose parties it copies. */
typedef struct draft {
    const char *kind; /* "invoice", "credit_note" */
    const char *tenant;
    const char *period;   /* invoices */
    const char *currency; /* invoices */
    const char *key_id;
    const char *seller;     /* invoices: the operator */
    const char *terms_days; /* invoices: payment terms, decimal */
    int64_t corrects_id;    /* credit notes */
    const char *reason;     /* credit notes */
} draft;

/* Take the next number of the series and insert a draft; *id, *number. */
static status draft_insert(db *d, const draft *dr, int64_t *id, int64_t *number,
                           err *e)
{
    const char *p[8];
    char corr[24];
    db_res *r = NULL, *r2 = NULL;
    status s;

    p[0] = dr->tenant;
    p[1] = dr->kind;
    if ((s = db_run(d, &billing_sql_invoice_number_take, p, &r, e)) != ST_OK)
        return s;
    *number = db_i64(r, 0, BILLING_INVOICE_NUMBER_TAKE_NUMBER);
    if (dr->corrects_id > 0) {
        p[0] = db_val(r, 0, BILLING_INVOICE_NUMBER_TAKE_SERIES_ID);
        p[1] = db_val(r, 0, BILLING_INVOICE_NUMBER_TAKE_NUMBER);
        p[2] = dr->key_id;
        p[3] = db_i64_str(corr, dr->corrects_id);
        p[4] = dr->reason;
        s = db_run(d, &billing_sql_invoice_credit_draft_insert, p, &r2, e);
    } else {
        p[0] = dr->tenant;
        p[1] = dr->period;
        p[2] = db_val(r, 0, BILLING_INVOICE_NUMBER_TAKE_SERIES_ID);
        p[3] = db_val(r, 0, BILLING_INVOICE_NUMBER_TAKE_NUMBER);
        p[4] = dr->currency;
        p[5] = dr->key_id;
        p[6] = dr->seller;
        p[7] = dr->terms_days;
        s = db_run(d, &billing_sql_invoice_draft_insert, p, &r2, e);
    }
    if (s == ST_OK && db_rows(r2) != 1)
        s = err_set(e, ST_INTERNAL, "the draft %s of %s was not inserted",
                    dr->kind, dr->tenant);
    if (s == ST_OK)
        *id = dr->corrects_id > 0
                  ? db_i64(r2, 0, BILLING_INVOICE_CREDIT_DRAFT_INSERT_ID)
                  : db_i64(r2, 0, BILLING_INVOICE_DRAFT_INSERT_ID);
    db_res_free(r2);
    db_res_free(r);
    return s;
}

static status tenant_name(db *d, const char *tenant, char *buf, size_t cap,
                          err *e)
{
    const char *p[1] = {tenant};
    db_res *r = NULL;
    status s;

    if (!ids_token_valid(tenant))
        return err_set(e, ST_UNKNOWN_TENANT,
                       "tenant \"%.64s\" is not a valid id; run: twinline "
                       "tenant list",
                       tenant != NULL ? tenant : "");
    if ((s = db_run(d, &billing_sql_invoice_tenant_get, p, &r, e)) != ST_OK)
        return s;
    if (db_rows(r) != 1)
        s = err_set(e, ST_UNKNOWN_TENANT,
                    "tenant \"%s\" is not known; run: twinline tenant list",
                    tenant);
    else
        snprintf(buf, cap, "%s", db_val(r, 0, BILLING_INVOICE_TENANT_GET_NAME));
    db_res_free(r);
    return s;
}

/* Record what a close or credit note did, in its transaction; details
 * is taken over. */
static status record_audit(db *d, const auditlog_who *who, const char *action,
                           const char *subjects, json_t *details, err *e)
{
    auditlog_who admin;
    char *text = details != NULL ? json_dumps(details, JSON_COMPACT) : NULL;
    status s = text != NULL ? ST_OK : err_set(e, ST_NOMEM, "out of memory");

    if (who == NULL) {
        auditlog_who_admin(&admin);
        who = &admin;
    }
    if (s == ST_OK)
        s = auditlog_append(d, who, action, subjects, text, e);
    free(text);
    json_decref(details);
    return s;
}

status invoice_close_period(db *d, const char *tenant, const char *period,
                            const signer *sg, const auditlog_who *who,
                            unsigned flags, invoice_closed *out, err *e)
{
    char start[INVOICE_TIME_MAX], end[INVOICE_TIME_MAX];
    char name[256];
    invoice_closed res = {0};
    db_res *cur = NULL;
    json_t *docs = json_array();
    sbuf subj = {0};
    status s;

    if (docs == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    if ((s = invoice_period_bounds(period, start, end, e)) != ST_OK)
        goto done;
    if (!(flags & INVOICE_CLOSE_EARLY) && !period_ended(period)) {
        s = err_set(e, ST_INVALID,
                    "period %s has not ended (it ends %.10s UTC); lines "
                    "billed later in it could never be invoiced. Close "
                    "it after it ends, or pass --early to close it now",
                    period, end);
        goto done;
    }
    if ((s = tenant_name(d, tenant, name, sizeof(name), e)) != ST_OK)
        goto done;
    if ((s = db_begin(d, e)) != ST_OK)
        goto done;
    sbuf_printf(&subj, "tenant:%s", tenant);
    {
        const char *p[2] = {tenant, period};
        db_res *r = NULL;

        s = db_run(d, &billing_sql_invoice_period_mark, p, &r, e);
        db_res_free(r);
        if (s == ST_CONFLICT) {
            s = err_set(e, ST_CONFLICT,
                        "period %s of tenant %s is already closed; its "
                        "invoices: twinline invoice list --tenant %s",
                        period, tenant, tenant);
            goto out;
        }
        if (s != ST_OK)
            goto out;
    }
    if ((s = month_minimum_post(d, tenant, period, start, end, &res.minimums,
                                e)) != ST_OK)
        goto out;
    {
        const char *p[4] = {tenant, start, end, period};

        if ((s = db_run(d, &billing_sql_invoice_groups, p, &cur, e)) != ST_OK)
            goto out;
    }
    if (db_rows(cur) == 0) {
        s = err_set(e, ST_NOT_FOUND,
                    "tenant %s has no billable lines created in %s (UTC) "
                    "that are not invoiced yet; nothing to close",
                    tenant, period);
        goto out;
    }
    if (db_rows(cur) > INVOICE_CLOSE_MAX) {
        s = err_set(e, ST_INVALID,
                    "tenant %s billed %d combinations of seller, currency "
                    "and payment terms in %s; at most %d invoices are "
                    "issued per close",
                    tenant, db_rows(cur), period, INVOICE_CLOSE_MAX);
        goto out;
    }
    for (int i = 0; i < db_rows(cur); i++) {
        draft dr = {
            .kind = "invoice",
            .tenant = tenant,
            .period = period,
            .currency = db_val(cur, i, BILLING_INVOICE_GROUPS_CURRENCY),
            .key_id = signer_key_id(sg),
            .seller = db_val(cur, i, BILLING_INVOICE_GROUPS_OPERATOR_ID),
            .terms_days =
                db_val(cur, i, BILLING_INVOICE_GROUPS_PAYMENT_TERMS_DAYS)};
        char idbuf[24];
        const char *p[7];
        int64_t id = 0, number = 0;
        bool incomplete = false;
        db_res *r = NULL;

        if ((s = draft_insert(d, &dr, &id, &number, e)) != ST_OK)
            goto out;
        p[0] = db_i64_str(idbuf, id);
        p[1] = tenant;
        p[2] = dr.seller;
        p[3] = dr.currency;
        p[4] = dr.terms_days;
        p[5] = start;
        p[6] = end;
        s = db_run(d, &billing_sql_invoice_lines_from_billable, p, &r, e);
        if (s == ST_OK)
            res.lines += (int)db_affected(r);
        db_res_free(r);
        r = NULL;
        if (s != ST_OK)
            goto out;
        p[5] = period;
        s = db_run(d, &billing_sql_invoice_lines_from_adjustments, p, &r, e);
        if (s == ST_OK)
            res.lines += (int)db_affected(r);
        db_res_free(r);
        if (s != ST_OK)
            goto out;
        {
            json_t *doc = NULL;

            if ((s = assign_taxes(d, id, e)) != ST_OK ||
                (s = issue(d, id, sg, &doc, &incomplete, e)) != ST_OK) {
                err_wrap(e, "invoice for tenant %s, %s, sold by %s in %s",
                         tenant, period, dr.seller, dr.currency);
                goto out;
            }
            json_array_append_new(docs, doc);
        }
        sbuf_printf(&subj, " invoice:%" PRId64, id);
        res.ids[res.n] = id;
        res.numbers[res.n] = number;
        res.incomplete[res.n] = incomplete;
        res.n++;
    }
    if (subj.failed) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    s = record_audit(d, who, "invoice.close", sbuf_str(&subj),
                     json_pack("{s:s, s:o, s:i, s:i, s:b}", "period", period,
                               "invoices", json_incref(docs), "lines",
                               res.lines, "minimums", res.minimums, "early",
                               (flags & INVOICE_CLOSE_EARLY) != 0),
                     e);
    if (s == ST_OK)
        s = db_commit(d, e);
out:
    if (s != ST_OK)
        db_rollback(d);
    db_res_free(cur);
done:
    json_decref(docs);
    sbuf_free(&subj);
    if (s == ST_OK)
        *out = res;
    return s;
}

/* ---- credit notes ---- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/*
 * The line numbers to credit as a PostgreSQL array literal into arr:
 * want[0..n) checked against the invoice's lines, or every line not
 * credited yet when n is 0.
 */
static status credit_lines(db *d, const loaded *inv, const int64_t *want, int n,
                           sbuf *arr, err *e)
{
    char idbuf[24], ref[INVOICE_REF_MAX];
    const char *p[1] = {db_i64_str(idbuf, inv->doc.id)};
    int64_t *sorted = NULL;
    db_res *r = NULL;
    int picked = 0;
    status s;

    if ((s = db_run(d, &billing_sql_invoice_credit_state, p, &r, e)) != ST_OK)
        return s;
    if (n > 0) {
        if ((sorted = malloc((size_t)n * sizeof(*sorted))) == NULL) {
            s = err_set(e, ST_NOMEM, "no memory for %d line numbers", n);
            goto out;
        }
        memcpy(sorted, want, (size_t)n * sizeof(*sorted));
        qsort(sorted, (size_t)n, sizeof(*sorted), cmp_i64);
    }
    sbuf_append(arr, "{", 1);
    for (int i = 0; i < n; i++) {
        int64_t no = sorted[i];
        int row = (no >= 1 && no <= db_rows(r)) ? (int)no - 1 : -1;

        if (i > 0 && sorted[i - 1] == no) {
            s = err_set(e, ST_INVALID, "line %" PRId64 " is named twice", no);
            goto out;
        }
        /* line_no runs 1..n, so row no - 1 is line no; check anyway. */
        if (row < 0 ||
            db_i64(r, row, BILLING_INVOICE_CREDIT_STATE_LINE_NO) != no) {
            s = err_set(e, ST_NOT_FOUND,
                        "%s has no line %" PRId64 " (its lines are 1 to %d)",
                        inv->what, no, db_rows(r));
            goto out;
        }
        if (db_i64(r, row, BILLING_INVOICE_CREDIT_STATE_CREDITED_BY) != 0) {
            s = err_set(
                e, ST_CONFLICT,
                "line %" PRId64 " of %s was already credited by %s", no,
                inv->what,
                invoice_doc_reference(
                    ref, true, inv->doc.tenant_id,
                    db_i64(r, row, BILLING_INVOICE_CREDIT_STATE_CREDITED_BY)));
            goto out;
        }
        sbuf_printf(arr, "%s%" PRId64, picked++ > 0 ? "," : "", no);
    }
    for (int i = 0; n == 0 && i < db_rows(r); i++) {
        if (db_i64(r, i, BILLING_INVOICE_CREDIT_STATE_CREDITED_BY) == 0)
            sbuf_printf(arr, "%s%" PRId64, picked++ > 0 ? "," : "",
                        db_i64(r, i, BILLING_INVOICE_CREDIT_STATE_LINE_NO));
    }
    sbuf_append(arr, "}", 1);
    if (picked == 0)
        s = err_set(e, ST_CONFLICT,
                    "every line of %s is already credited; nothing to credit",
                    inv->what);
    else if (arr->failed)
        s = err_set(e, ST_NOMEM, "no memory for the line list");
out:
    free(sorted);
    db_res_free(r);
    return s;
}

/* The credited line numbers (the array literal "{1,2}" credit_lines
 * made) as a JSON array; NULL when out of memory. */
static json_t *lines_json(const char *literal)
{
    json_t *a = json_array();

    for (const char *p = literal; a != NULL && *p != '\0'; p++) {
        char *end;
        long long v;

        if (*p < '0' || *p > '9')
            continue;
        v = strtoll(p, &end, 10);
        if (json_array_append_new(a, json_integer((json_int_t)v)) != 0) {
            json_decref(a);
            return NULL;
        }
        p = end - 1;
    }
    return a;
}

status invoice_credit_note(db *d, int64_t invoice_id, const int64_t *lines,
                           int n, const char *reason, const signer *sg,
                           const auditlog_who *who, int64_t *credit_id, err *e)
{
    loaded inv = {0};
    sbuf arr = {0};
    json_t *doc = NULL;
    int64_t id = 0, number = 0;
    status s;

    if (reason == NULL || reason[0] == '\0' ||
        strlen(reason) > INVOICE_REASON_MAX)
        return err_set(e, ST_INVALID,
                       "a credit note needs a reason of 1 to %d characters "
                       "(it is printed on the note)",
                       INVOICE_REASON_MAX);
    if (n < 0 || n > INVOICE_LINES_MAX)
        return err_set(e, ST_INVALID, "name at most %d lines to credit",
                       INVOICE_LINES_MAX);
    if ((s = db_begin(d, e)) != ST_OK)
        return s;
    if ((s = load(d, invoice_id, &inv, e)) != ST_OK)
        goto out;
    if (inv.doc.credit_note || !inv.issued) {
        s = err_set(e, ST_INVALID,
                    "document %" PRId64 " is %s; credit notes correct "
                    "issued invoices",
                    invoice_id,
                    inv.doc.credit_note ? "a credit note" : "not issued");
        goto out;
    }
    if ((s = credit_lines(d, &inv, lines, n, &arr, e)) != ST_OK)
        goto out;
    {
        draft dr = {.kind = "credit_note",
                    .tenant = inv.doc.tenant_id,
                    .key_id = signer_key_id(sg),
                    .corrects_id = inv.doc.id,
                    .reason = reason};
        char a[24], b[24];
        const char *p[4];
        db_res *r = NULL;

        if ((s = draft_insert(d, &dr, &id, &number, e)) != ST_OK)
            goto out;
        p[0] = db_i64_str(a, id);
        p[1] = db_i64_str(b, inv.doc.id);
        p[2] = sbuf_str(&arr);
        p[3] = inv.ref;
        s = db_run(d, &billing_sql_invoice_lines_credit, p, &r, e);
        db_res_free(r);
        if (s != ST_OK)
            goto out;
    }
    if ((s = issue(d, id, sg, &doc, NULL, e)) != ST_OK)
        goto out;
    {
        char subj[160];
        json_t *nums = lines_json(sbuf_str(&arr));

        snprintf(subj, sizeof(subj),
                 "tenant:%s invoice:%" PRId64 " credit_note:%" PRId64,
                 inv.doc.tenant_id, inv.doc.id, id);
        s = nums != NULL
                ? record_audit(d, who, "invoice.credit", subj,
                               json_pack("{s:s, s:o, s:o, s:s}", "corrects",
                                         inv.ref, "credit_note",
                                         json_incref(doc), "lines", nums,
                                         "reason", reason),
                               e)
                : err_set(e, ST_NOMEM, "out of memory");
    }
    if (s != ST_OK)
        goto out;
    s = db_commit(d, e);
    if (s == ST_CONFLICT)
        err_wrap(e, "a concurrent credit note took these lines; retry");
out:
    if (s != ST_OK)
        db_rollback(d);
    loaded_free(&inv);
    sbuf_free(&arr);
    json_decref(doc);
    if (s == ST_OK)
        *credit_id = id;
    return s;
}

/* ---- verification ---- */

status invoice_verify_document(const char *json, size_t len,
                               const unsigned char pk[SIGNER_PK_BYTES],
                               char *ref, err *e)
{
    return invoice_doc_verify(json, len, pk, ref, e);
}

status invoice_verify_stored(db *d, int64_t id,
                             const unsigned char pk[SIGNER_PK_BYTES], char *ref,
                             err *e)
{
    char want_id[SIGNER_KEY_ID_LEN + 1];
    char *canon = NULL;
    size_t len = 0;
    loaded l;
    status s;

    if ((s = load(d, id, &l, e)) != ST_OK)
        return s;
    if (!l.issued) {
        s = err_set(e, ST_INVALID, "%s is a draft, not issued", l.what);
        goto out;
    }
    signer_key_id_of(pk, want_id);
    if (l.doc.key_id == NULL || strcmp(l.doc.key_id, want_id) != 0) {
        s = err_set(e, ST_INVALID,
                    "%s was signed by key %s, but the public key given is "
                    "key %s; verify with the matching invoice.pub",
                    l.what, l.doc.key_id != NULL ? l.doc.key_id : "?", want_id);
        goto out;
    }
    if ((s = invoice_doc_render(&l.doc, &canon, &len, e)) != ST_OK)
        goto out;
    s = invoice_doc_check(canon, len, l.hash, l.signature, pk, l.what, e);
    if (s == ST_OK && ref != NULL)
        snprintf(ref, INVOICE_REF_MAX, "%s", l.ref);
out:
    free(canon);
    loaded_free(&l);
    return s;
}

/* ---- export ---- */

status invoice_format_parse(const char *name, invoice_format *out, err *e)
{
    if (name != NULL && strcmp(name, "json") == 0)
        *out = INVOICE_FMT_JSON;
    else if (name != NULL && strcmp(name, "csv") == 0)
        *out = INVOICE_FMT_CSV;
    else if (name != NULL && strcmp(name, "html") == 0)
        *out = INVOICE_FMT_HTML;
    else if (name != NULL && strcmp(name, "pdf") == 0)
        *out = INVOICE_FMT_PDF;
    else
        return err_set(e, ST_INVALID,
                       "format \"%.32s\" is not known; use json, csv, html "
                       "or pdf",
                       name != NULL ? name : "");
    return ST_OK;
}

status invoice_export(db *d, int64_t id, invoice_format fmt, FILE *out, err *e)
{
    invoice_render_extra extra;
    char *canon = NULL, *env = NULL;
    size_t len = 0, envlen = 0;
    loaded l;
    status s;

    if ((s = load(d, id, &l, e)) != ST_OK)
        return s;
    extra = (invoice_render_extra){l.ref, l.hash, l.signature, l.times};
    if (!l.issued) {
        s = err_set(e, ST_INVALID,
                    "%s is a draft; only issued documents "
                    "are exported",
                    l.what);
        goto out;
    }
    switch (fmt) {
    case INVOICE_FMT_JSON:
        if ((s = invoice_doc_render(&l.doc, &canon, &len, e)) != ST_OK)
            goto out;
        if ((s = invoice_doc_envelope(canon, len, l.hash, l.signature, &env,
                                      &envlen, e)) != ST_OK)
            goto out;
        fwrite(env, 1, envlen, out);
        break;
    case INVOICE_FMT_CSV:
        s = invoice_render_csv(&l.doc, &extra, out, e);
        break;
    case INVOICE_FMT_HTML:
    case INVOICE_FMT_PDF:
        s = invoice_render_html(&l.doc, &extra, out, e);
        break;
    }
    if (s != ST_OK)
        goto out;
    if (fflush(out) != 0 || ferror(out))
        s = err_set(e, ST_IO, "writing the export of %s failed", l.what);
out:
    free(env);
    free(canon);
    loaded_free(&l);
    return s;
}

/* ---- list ---- */

status invoice_list(db *d, const char *tenant, invoice_summary **rows, int *n,
                    err *e)
{
    const char *p[1] = {tenant};
    invoice_summary *out = NULL;
    db_res *r = NULL;
    status s;
    int k;

    if ((s = db_run(d, &billing_sql_invoice_list, p, &r, e)) != ST_OK)
        return s;
    k = db_rows(r);
    if (k > 0 && (out = calloc((size_t)k, sizeof(*out))) == NULL) {
        db_res_free(r);
        return err_set(e, ST_NOMEM, "no memory for %d invoices", k);
    }
    for (int i = 0; i < k; i++) {
        invoice_summary *x = &out[i];

        x->id = db_i64(r, i, BILLING_INVOICE_LIST_ID);
        x->credit_note =
            strcmp(db_val(r, i, BILLING_INVOICE_LIST_KIND), "credit_note") == 0;
        snprintf(x->tenant, sizeof(x->tenant), "%s",
                 db_val(r, i, BILLING_INVOICE_LIST_TENANT_ID));
        snprintf(x->period, sizeof(x->period), "%s",
                 db_val(r, i, BILLING_INVOICE_LIST_PERIOD));
        x->number = db_i64(r, i, BILLING_INVOICE_LIST_NUMBER);
        invoice_doc_reference(x->reference, x->credit_note, x->tenant,
                              x->number);
        snprintf(x->currency, sizeof(x->currency), "%s",
                 db_val(r, i, BILLING_INVOICE_LIST_CURRENCY));
        x->total_minor = db_i64(r, i, BILLING_INVOICE_LIST_TOTAL_MINOR);
        x->line_count = db_i64(r, i, BILLING_INVOICE_LIST_LINE_COUNT);
        snprintf(x->issued_at, sizeof(x->issued_at), "%s",
                 db_val(r, i, BILLING_INVOICE_LIST_ISSUED_AT));
        snprintf(x->key_id, sizeof(x->key_id), "%s",
                 db_val(r, i, BILLING_INVOICE_LIST_KEY_ID));
        x->corrects_id = db_i64(r, i, BILLING_INVOICE_LIST_CORRECTS_ID);
        x->tax_minor = db_i64(r, i, BILLING_INVOICE_LIST_TAX_MINOR);
        snprintf(x->seller, sizeof(x->seller), "%s",
                 db_val(r, i, BILLING_INVOICE_LIST_SELLER_ID));
        snprintf(x->due_date, sizeof(x->due_date), "%s",
                 db_val(r, i, BILLING_INVOICE_LIST_DUE_DATE));
        x->issued =
            strcmp(db_val(r, i, BILLING_INVOICE_LIST_STATE), "issued") == 0;
    }
    db_res_free(r);
    *rows = out;
    *n = k;
    return ST_OK;
}
