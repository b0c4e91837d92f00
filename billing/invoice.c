#include "invoice.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "billing_sql.h"
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
    if (n > 0 && (l->lines = calloc((size_t)n, sizeof(*l->lines))) == NULL) {
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
    }
    doc->nlines = n;
    doc->lines = l->lines;
    return ST_OK;
fail:
    loaded_free(l);
    return s;
}

/* ---- issuing ---- */

/* Sum the lines of draft id into its header, then render, hash, sign
 * and mark it issued, all in the caller's transaction. */
/* What the audit trail says of an issued document. */
static json_t *issued_json(const loaded *l, const char *hash)
{
    return json_pack(
        "{s:I, s:s, s:s, s:I, s:i, s:s}", "id", (json_int_t)l->doc.id,
        "reference", l->ref, "currency", l->doc.currency, "total_minor",
        (json_int_t)l->doc.total_minor, "lines", l->doc.nlines, "sha256", hash);
}

/* Issue draft id: total, render, sign, store. *audit (may be NULL)
 * receives the document as the audit trail records it. */
static status issue(db *d, int64_t id, const signer *sg, json_t **audit, err *e)
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

/* Take the next number of the series and insert a draft; *id, *number. */
typedef struct draft {
    const char *kind; /* "invoice", "credit_note" */
    const char *tenant;
    const char *tenant_name;
    const char *period;
    const char *currency;
    const char *key_id;
    int64_t corrects_id; /* 0: none */
    const char *reason;  /* NULL: none */
} draft;

static status draft_insert(db *d, const draft *dr, int64_t *id, int64_t *number,
                           err *e)
{
    const char *p[10];
    char corr[24];
    db_res *r = NULL;
    status s;

    p[0] = dr->tenant;
    p[1] = dr->kind;
    if ((s = db_run(d, &billing_sql_invoice_number_take, p, &r, e)) != ST_OK)
        return s;
    p[0] = dr->kind;
    p[1] = dr->tenant;
    p[2] = dr->tenant_name;
    p[3] = dr->period;
    p[4] = db_val(r, 0, BILLING_INVOICE_NUMBER_TAKE_SERIES_ID);
    p[5] = db_val(r, 0, BILLING_INVOICE_NUMBER_TAKE_NUMBER);
    p[6] = dr->currency;
    p[7] = dr->key_id;
    p[8] = dr->corrects_id > 0 ? db_i64_str(corr, dr->corrects_id) : NULL;
    p[9] = dr->reason;
    *number = db_i64(r, 0, BILLING_INVOICE_NUMBER_TAKE_NUMBER);
    {
        db_res *r2 = NULL;

        s = db_run(d, &billing_sql_invoice_draft_insert, p, &r2, e);
        if (s == ST_OK)
            *id = db_i64(r2, 0, BILLING_INVOICE_DRAFT_INSERT_ID);
        db_res_free(r2);
    }
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

        if ((s = db_run(d, &billing_sql_invoice_currencies, p, &cur, e)) !=
            ST_OK)
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
                    "tenant %s billed in %d currencies in %s; at most %d "
                    "invoices are issued per close",
                    tenant, db_rows(cur), period, INVOICE_CLOSE_MAX);
        goto out;
    }
    for (int i = 0; i < db_rows(cur); i++) {
        draft dr = {"invoice",
                    tenant,
                    name,
                    period,
                    db_val(cur, i, BILLING_INVOICE_CURRENCIES_CURRENCY),
                    signer_key_id(sg),
                    0,
                    NULL};
        char idbuf[24];
        const char *p[5];
        int64_t id = 0, number = 0;
        db_res *r = NULL;

        if ((s = draft_insert(d, &dr, &id, &number, e)) != ST_OK)
            goto out;
        p[0] = db_i64_str(idbuf, id);
        p[1] = tenant;
        p[2] = dr.currency;
        p[3] = start;
        p[4] = end;
        s = db_run(d, &billing_sql_invoice_lines_from_billable, p, &r, e);
        if (s == ST_OK)
            res.lines += (int)db_affected(r);
        db_res_free(r);
        r = NULL;
        if (s != ST_OK)
            goto out;
        p[3] = period;
        s = db_run(d, &billing_sql_invoice_lines_from_adjustments, p, &r, e);
        if (s == ST_OK)
            res.lines += (int)db_affected(r);
        db_res_free(r);
        if (s != ST_OK)
            goto out;
        {
            json_t *doc = NULL;

            if ((s = issue(d, id, sg, &doc, e)) != ST_OK) {
                err_wrap(e, "invoice for tenant %s, %s, %s", tenant, period,
                         dr.currency);
                goto out;
            }
            json_array_append_new(docs, doc);
        }
        sbuf_printf(&subj, " invoice:%" PRId64, id);
        res.ids[res.n] = id;
        res.numbers[res.n] = number;
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
        draft dr = {"credit_note",       inv.doc.tenant_id,
                    inv.doc.tenant_name, inv.doc.period,
                    inv.doc.currency,    signer_key_id(sg),
                    inv.doc.id,          reason};
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
    if ((s = issue(d, id, sg, &doc, e)) != ST_OK)
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
    else
        return err_set(e, ST_INVALID,
                       "format \"%.32s\" is not known; use json, csv or html",
                       name != NULL ? name : "");
    return ST_OK;
}

/* A CSV field, quoted when it holds a comma, quote or line break. Text
 * that a spreadsheet would take for a formula is prefixed with a quote
 * mark, so an exported description can never run as one. */
static void csv_field(FILE *f, const char *s, bool last)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    bool formula = strchr("=+-@", s[0]) != NULL && s[0] != '\0';

    if (quote)
        fputc('"', f);
    if (formula)
        fputc('\'', f);
    for (const char *c = s; *c != '\0'; c++) {
        if (*c == '"')
            fputc('"', f);
        fputc(*c, f);
    }
    if (quote)
        fputc('"', f);
    fputs(last ? "\r\n" : ",", f);
}

static void csv_i64(FILE *f, int64_t v)
{
    fprintf(f, "%" PRId64 ",", v);
}

static void export_csv(const loaded *l, FILE *f)
{
    const invoice_doc *doc = &l->doc;
    char amount[MONEY_FORMAT_MAX];

    fputs("reference,kind,period,currency,line,billed_at,description,"
          "case_id,case_external_id,task_id,worker_id,operator_id,"
          "contract_id,outcome_id,outcome_code,billable_line_id,amount,"
          "amount_minor\r\n",
          f);
    for (int i = 0; i < doc->nlines; i++) {
        const invoice_doc_line *x = &doc->lines[i];

        csv_field(f, l->ref, false);
        csv_field(f, doc->credit_note ? "credit_note" : "invoice", false);
        csv_field(f, doc->period, false);
        csv_field(f, doc->currency, false);
        csv_i64(f, x->line);
        csv_field(f, x->billed_at, false);
        csv_field(f, x->description, false);
        csv_i64(f, x->case_id);
        csv_field(f, x->case_external_id, false);
        csv_i64(f, x->task_id);
        csv_field(f, x->worker_id, false);
        csv_field(f, x->operator_id, false);
        csv_field(f, x->contract_id, false);
        csv_i64(f, x->outcome_id);
        csv_field(f, x->outcome_code, false);
        csv_i64(f, x->billable_line_id);
        money_format_plain(amount, sizeof(amount), doc->currency,
                           x->amount_minor);
        fprintf(f, "%s,%" PRId64 "\r\n", amount, x->amount_minor);
    }
}

static void html_text(FILE *f, const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static void html_row(FILE *f, const char *label, const char *value)
{
    fputs("<tr><th>", f);
    html_text(f, label);
    fputs("</th><td>", f);
    html_text(f, value);
    fputs("</td></tr>\n", f);
}

static void export_html(const loaded *l, FILE *f)
{
    const invoice_doc *doc = &l->doc;
    const char *title = doc->credit_note ? "Credit note" : "Invoice";
    char buf[MONEY_FORMAT_MAX + 8], ref[INVOICE_REF_MAX];

    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
          "<meta charset=\"utf-8\">\n<title>",
          f);
    fprintf(f, "%s ", title);
    html_text(f, l->ref);
    fputs("</title>\n<style>\n"
          "body{font-family:sans-serif;margin:2em;color:#222}\n"
          "table{border-collapse:collapse;margin:1em 0}\n"
          "th,td{border:1px solid #bbb;padding:4px 8px;text-align:left;"
          "vertical-align:top}\n"
          "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\n"
          "tfoot td{font-weight:bold}\n"
          ".seal{font-family:monospace;font-size:smaller;"
          "word-break:break-all}\n"
          "</style>\n</head>\n<body>\n<h1>",
          f);
    fprintf(f, "%s ", title);
    html_text(f, l->ref);
    fputs("</h1>\n<table>\n", f);
    html_row(f, "Customer", doc->tenant_name);
    html_row(f, "Customer id", doc->tenant_id);
    html_row(f, "Period", doc->period);
    html_row(f, "Issued (UTC)", doc->issued_at);
    html_row(f, "Currency", doc->currency);
    if (doc->credit_note) {
        html_row(f, "Corrects invoice",
                 invoice_doc_reference(ref, false, doc->tenant_id,
                                       doc->corrects_number));
        html_row(f, "Reason", doc->reason);
    }
    fputs("</table>\n<table>\n<thead><tr><th class=\"n\">Line</th>"
          "<th>Billed (UTC)</th><th>Description</th><th>Case</th>"
          "<th class=\"n\">Task</th><th>Worker</th><th>Outcome</th>"
          "<th class=\"n\">Amount</th></tr></thead>\n<tbody>\n",
          f);
    for (int i = 0; i < doc->nlines; i++) {
        const invoice_doc_line *x = &doc->lines[i];

        fprintf(f, "<tr><td class=\"n\">%" PRId64 "</td><td>", x->line);
        html_text(f, x->billed_at);
        fputs("</td><td>", f);
        html_text(f, x->description);
        fputs("</td><td>", f);
        html_text(f, x->case_external_id);
        fprintf(f, " (#%" PRId64 ")</td><td class=\"n\">%" PRId64 "</td><td>",
                x->case_id, x->task_id);
        html_text(f, x->worker_id);
        fputs("</td><td>", f);
        html_text(f, x->outcome_code);
        fprintf(f, " (#%" PRId64 ")</td><td class=\"n\">", x->outcome_id);
        html_text(f, money_format_amount(buf, sizeof(buf), doc->currency,
                                         x->amount_minor));
        fputs("</td></tr>\n", f);
    }
    fprintf(f,
            "</tbody>\n<tfoot><tr><td colspan=\"7\">Total (%d lines)"
            "</td><td class=\"n\">",
            doc->nlines);
    html_text(f,
              money_format(buf, sizeof(buf), doc->currency, doc->total_minor));
    fputs("</td></tr></tfoot>\n</table>\n<p class=\"seal\">SHA-256: ", f);
    html_text(f, l->hash);
    fputs("<br>Ed25519 signature: ", f);
    html_text(f, l->signature);
    fputs("<br>Key id: ", f);
    html_text(f, doc->key_id);
    fputs("</p>\n<p>The signed original is the JSON export of this "
          "document; check it with <code>twinline invoice verify --file "
          "FILE --pubkey invoice.pub</code>.</p>\n</body>\n</html>\n",
          f);
}

status invoice_export(db *d, int64_t id, invoice_format fmt, FILE *out, err *e)
{
    char *canon = NULL, *env = NULL;
    size_t len = 0, envlen = 0;
    loaded l;
    status s;

    if ((s = load(d, id, &l, e)) != ST_OK)
        return s;
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
        export_csv(&l, out);
        break;
    case INVOICE_FMT_HTML:
        export_html(&l, out);
        break;
    }
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
        x->issued =
            strcmp(db_val(r, i, BILLING_INVOICE_LIST_STATE), "issued") == 0;
    }
    db_res_free(r);
    *rows = out;
    *n = k;
    return ST_OK;
}
