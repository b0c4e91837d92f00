#include "invoice_doc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "sbuf.h"

char *invoice_doc_reference(char *buf, bool credit_note, const char *tenant,
                            int64_t number)
{
    snprintf(buf, INVOICE_REF_MAX, "%s-%.64s-%06" PRId64,
             credit_note ? "CN" : "INV", tenant != NULL ? tenant : "?", number);
    return buf;
}

/* ---- canonical writer ---- */

/* True when s[0..n) is well-formed UTF-8 (no overlongs, no surrogates). */
static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        size_t k;
        uint32_t cp;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            k = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return false;
        i += k + 1;
    }
    return true;
}

static void put_string(sbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;

    sbuf_append(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[7];
        size_t elen = 2;

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        sbuf_append(b, s + run, i - run);
        run = i + 1;
        esc[0] = '\\';
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xf];
            elen = 6;
            break;
        }
        sbuf_append(b, esc, elen);
    }
    sbuf_append(b, s + run, n - run);
    sbuf_append(b, "\"", 1);
}

/* ,"key": before a member; first says whether it is the first one. */
static void put_key(sbuf *b, const char *key, bool first)
{
    if (!first)
        sbuf_append(b, ",", 1);
    put_string(b, key, strlen(key));
    sbuf_append(b, ":", 1);
}

static void put_int_member(sbuf *b, const char *key, int64_t v, bool first)
{
    put_key(b, key, first);
    sbuf_printf(b, "%" PRId64, v);
}

/* A string member; false (and nothing sensible written) when s is NULL or
 * not UTF-8, which the caller turns into an error. */
static bool put_str_member(sbuf *b, const char *key, const char *s, bool first)
{
    size_t n;

    if (s == NULL)
        return false;
    n = strlen(s);
    if (!utf8_valid((const unsigned char *)s, n))
        return false;
    put_key(b, key, first);
    put_string(b, s, n);
    return true;
}

/* Keys in each object below are written in strcmp order; the unit test
 * checks that the output is its own canonical form. */
static bool put_line(sbuf *b, const invoice_doc_line *l)
{
    bool ok = true;

    sbuf_append(b, "{", 1);
    put_int_member(b, "amount_minor", l->amount_minor, true);
    put_int_member(b, "billable_line_id", l->billable_line_id, false);
    ok &= put_str_member(b, "billed_at", l->billed_at, false);
    ok &= put_str_member(b, "case_external_id", l->case_external_id, false);
    put_int_member(b, "case_id", l->case_id, false);
    ok &= put_str_member(b, "contract_id", l->contract_id, false);
    ok &= put_str_member(b, "description", l->description, false);
    put_int_member(b, "line", l->line, false);
    ok &= put_str_member(b, "operator_id", l->operator_id, false);
    ok &= put_str_member(b, "outcome_code", l->outcome_code, false);
    put_int_member(b, "outcome_id", l->outcome_id, false);
    put_int_member(b, "task_id", l->task_id, false);
    ok &= put_str_member(b, "worker_id", l->worker_id, false);
    sbuf_append(b, "}", 1);
    return ok;
}

/* Format 1, as documents were signed before schema 018. */
static bool render_v1(const invoice_doc *doc, sbuf *b)
{
    char ref[INVOICE_REF_MAX];
    bool ok = true;

    sbuf_append(b, "{", 1);
    if (doc->credit_note) {
        put_key(b, "corrects", true);
        sbuf_append(b, "{", 1);
        put_int_member(b, "id", doc->corrects_id, true);
        put_int_member(b, "number", doc->corrects_number, false);
        invoice_doc_reference(ref, false, doc->tenant_id, doc->corrects_number);
        ok &= put_str_member(b, "reference", ref, false);
        sbuf_append(b, "}", 1);
    }
    ok &= put_str_member(b, "currency", doc->currency, !doc->credit_note);
    ok &= put_str_member(b, "format", INVOICE_DOC_FORMAT, false);
    put_int_member(b, "id", doc->id, false);
    ok &= put_str_member(b, "issued_at", doc->issued_at, false);
    ok &= put_str_member(b, "key_id", doc->key_id, false);
    ok &= put_str_member(b, "kind",
                         doc->credit_note ? "credit_note" : "invoice", false);
    put_int_member(b, "line_count", doc->nlines, false);
    put_key(b, "lines", false);
    sbuf_append(b, "[", 1);
    for (int i = 0; i < doc->nlines; i++) {
        if (i > 0)
            sbuf_append(b, ",", 1);
        ok &= put_line(b, &doc->lines[i]);
    }
    sbuf_append(b, "]", 1);
    put_int_member(b, "number", doc->number, false);
    ok &= put_str_member(b, "period", doc->period, false);
    if (doc->credit_note)
        ok &= put_str_member(b, "reason", doc->reason, false);
    invoice_doc_reference(ref, doc->credit_note, doc->tenant_id, doc->number);
    ok &= put_str_member(b, "reference", ref, false);
    put_key(b, "tenant", false);
    sbuf_append(b, "{", 1);
    ok &= put_str_member(b, "id", doc->tenant_id, true);
    ok &= put_str_member(b, "name", doc->tenant_name, false);
    sbuf_append(b, "}", 1);
    put_int_member(b, "total_minor", doc->total_minor, false);
    sbuf_append(b, "}", 1);
    return ok;
}

/* ---- format 2 ---- */

static int cmp_str(const char *a, const char *b)
{
    return strcmp(a != NULL ? a : "", b != NULL ? b : "");
}

static int by_subtotal(const void *a, const void *b)
{
    const invoice_doc_line *x = *(const invoice_doc_line *const *)a;
    const invoice_doc_line *y = *(const invoice_doc_line *const *)b;
    int c = cmp_str(x->case_type, y->case_type);

    return c != 0 ? c : cmp_str(x->outcome_code, y->outcome_code);
}

static int by_tax(const void *a, const void *b)
{
    const invoice_doc_line *x = *(const invoice_doc_line *const *)a;
    const invoice_doc_line *y = *(const invoice_doc_line *const *)b;
    int c = cmp_str(x->tax_name, y->tax_name);

    if (c != 0)
        return c;
    if (x->tax_rate_bps != y->tax_rate_bps)
        return x->tax_rate_bps < y->tax_rate_bps ? -1 : 1;
    return cmp_str(x->tax_rounding, y->tax_rounding);
}

static bool add_i64(int64_t *acc, int64_t v)
{
    return !__builtin_add_overflow(*acc, v, acc);
}

void invoice_doc_summary_free(invoice_doc_summary *s)
{
    if (s == NULL)
        return;
    free(s->subtotals);
    free(s->taxes);
    memset(s, 0, sizeof(*s));
}

status invoice_doc_summarize(const invoice_doc *doc, invoice_doc_summary *out,
                             err *e)
{
    const invoice_doc_line **v = NULL;
    invoice_doc_summary r = {0};
    size_t n = doc->nlines > 0 ? (size_t)doc->nlines : 0;
    bool ok = true;

    if (n > 0 && ((v = malloc(n * sizeof(*v))) == NULL ||
                  (r.subtotals = calloc(n, sizeof(*r.subtotals))) == NULL ||
                  (r.taxes = calloc(n, sizeof(*r.taxes))) == NULL)) {
        free(v);
        invoice_doc_summary_free(&r);
        return err_set(e, ST_NOMEM, "no memory to sum %zu lines", n);
    }
    for (size_t i = 0; i < n; i++)
        v[i] = &doc->lines[i];
    if (n > 1)
        qsort(v, n, sizeof(*v), by_subtotal);
    for (size_t i = 0; i < n; i++) {
        invoice_doc_subtotal *t =
            &r.subtotals[r.nsubtotals > 0 ? r.nsubtotals - 1 : 0];

        if (r.nsubtotals == 0 || by_subtotal(&v[i], &v[i - 1]) != 0) {
            t = &r.subtotals[r.nsubtotals++];
            t->case_type = v[i]->case_type != NULL ? v[i]->case_type : "";
            t->outcome_code = v[i]->outcome_code;
        }
        t->lines++;
        ok &= add_i64(&t->net_minor, v[i]->amount_minor);
        ok &= add_i64(&t->tax_minor, v[i]->tax_minor);
    }
    if (n > 1)
        qsort(v, n, sizeof(*v), by_tax);
    for (size_t i = 0; i < n; i++) {
        invoice_doc_taxsum *t;

        if (v[i]->tax_name == NULL || v[i]->tax_name[0] == '\0')
            continue;
        if (r.ntaxes == 0 || by_tax(&v[i], &v[i - 1]) != 0) {
            t = &r.taxes[r.ntaxes++];
            t->name = v[i]->tax_name;
            t->rate_bps = v[i]->tax_rate_bps;
            t->rounding = v[i]->tax_rounding != NULL ? v[i]->tax_rounding : "";
        }
        t = &r.taxes[r.ntaxes - 1];
        ok &= add_i64(&t->base_minor, v[i]->amount_minor);
        ok &= add_i64(&t->tax_minor, v[i]->tax_minor);
    }
    r.gross_minor = doc->total_minor;
    ok &= add_i64(&r.gross_minor, doc->tax_minor);
    free(v);
    if (!ok) {
        invoice_doc_summary_free(&r);
        return err_set(e, ST_INVALID,
                       "document %" PRId64 ": a subtotal or the total due "
                       "does not fit in 64 bits",
                       doc->id);
    }
    *out = r;
    return ST_OK;
}

static bool put_party(sbuf *b, const char *key, const invoice_doc_party *p,
                      bool first)
{
    bool ok = true;

    put_key(b, key, first);
    sbuf_append(b, "{", 1);
    ok &= put_str_member(b, "address", p->address, true);
    ok &= put_str_member(b, "bank_account", p->bank_account, false);
    ok &= put_str_member(b, "bank_name", p->bank_name, false);
    ok &= put_str_member(b, "country", p->country, false);
    ok &= put_str_member(b, "id", p->id, false);
    ok &= put_str_member(b, "name", p->name, false);
    ok &= put_str_member(b, "tax_id", p->tax_id, false);
    sbuf_append(b, "}", 1);
    return ok;
}

/* A format 2 line: what the bank may see, nothing internal to the
 * operator (no task, no worker). */
static bool put_line_v2(sbuf *b, const invoice_doc_line *l)
{
    bool ok = true;

    sbuf_append(b, "{", 1);
    put_int_member(b, "amount_minor", l->amount_minor, true);
    ok &= put_str_member(b, "billed_at", l->billed_at, false);
    ok &= put_str_member(b, "case_external_id", l->case_external_id, false);
    put_int_member(b, "case_id", l->case_id, false);
    ok &= put_str_member(b, "case_type", l->case_type, false);
    ok &= put_str_member(b, "contract_id", l->contract_id, false);
    ok &= put_str_member(b, "description", l->description, false);
    put_int_member(b, "line", l->line, false);
    ok &= put_str_member(b, "outcome_code", l->outcome_code, false);
    put_int_member(b, "outcome_id", l->outcome_id, false);
    put_int_member(b, "tax_minor", l->tax_minor, false);
    ok &= put_str_member(b, "tax_name", l->tax_name, false);
    put_int_member(b, "tax_rate_bps", l->tax_rate_bps, false);
    ok &= put_str_member(b, "tax_rounding", l->tax_rounding, false);
    sbuf_append(b, "}", 1);
    return ok;
}

/* Keys in strcmp order, as in format 1. */
static bool render_v2(const invoice_doc *doc, const invoice_doc_summary *sum,
                      sbuf *b)
{
    char ref[INVOICE_REF_MAX];
    bool ok = true;

    sbuf_append(b, "{", 1);
    ok &= put_party(b, "buyer", &doc->buyer, true);
    if (doc->credit_note) {
        put_key(b, "corrects", false);
        sbuf_append(b, "{", 1);
        put_int_member(b, "id", doc->corrects_id, true);
        put_int_member(b, "number", doc->corrects_number, false);
        invoice_doc_reference(ref, false, doc->tenant_id, doc->corrects_number);
        ok &= put_str_member(b, "reference", ref, false);
        sbuf_append(b, "}", 1);
    }
    ok &= put_str_member(b, "currency", doc->currency, false);
    if (!doc->credit_note)
        ok &= put_str_member(b, "due_date", doc->due_date, false);
    ok &= put_str_member(b, "format", INVOICE_DOC_FORMAT_V2, false);
    put_int_member(b, "gross_minor", sum->gross_minor, false);
    put_int_member(b, "id", doc->id, false);
    ok &= put_str_member(b, "issue_date", doc->issue_date, false);
    ok &= put_str_member(b, "issued_at", doc->issued_at, false);
    ok &= put_str_member(b, "key_id", doc->key_id, false);
    ok &= put_str_member(b, "kind",
                         doc->credit_note ? "credit_note" : "invoice", false);
    put_int_member(b, "line_count", doc->nlines, false);
    put_key(b, "lines", false);
    sbuf_append(b, "[", 1);
    for (int i = 0; i < doc->nlines; i++) {
        if (i > 0)
            sbuf_append(b, ",", 1);
        ok &= put_line_v2(b, &doc->lines[i]);
    }
    sbuf_append(b, "]", 1);
    put_int_member(b, "net_minor", doc->total_minor, false);
    put_int_member(b, "number", doc->number, false);
    if (!doc->credit_note)
        put_int_member(b, "payment_terms_days", doc->payment_terms_days, false);
    ok &= put_str_member(b, "period", doc->period, false);
    if (doc->credit_note)
        ok &= put_str_member(b, "reason", doc->reason, false);
    invoice_doc_reference(ref, doc->credit_note, doc->tenant_id, doc->number);
    ok &= put_str_member(b, "reference", ref, false);
    ok &= put_party(b, "seller", &doc->seller, false);
    put_key(b, "subtotals", false);
    sbuf_append(b, "[", 1);
    for (int i = 0; i < sum->nsubtotals; i++) {
        const invoice_doc_subtotal *t = &sum->subtotals[i];

        if (i > 0)
            sbuf_append(b, ",", 1);
        sbuf_append(b, "{", 1);
        ok &= put_str_member(b, "case_type", t->case_type, true);
        put_int_member(b, "lines", t->lines, false);
        put_int_member(b, "net_minor", t->net_minor, false);
        ok &= put_str_member(b, "outcome_code", t->outcome_code, false);
        put_int_member(b, "tax_minor", t->tax_minor, false);
        sbuf_append(b, "}", 1);
    }
    sbuf_append(b, "]", 1);
    put_int_member(b, "tax_minor", doc->tax_minor, false);
    put_key(b, "taxes", false);
    sbuf_append(b, "[", 1);
    for (int i = 0; i < sum->ntaxes; i++) {
        const invoice_doc_taxsum *t = &sum->taxes[i];

        if (i > 0)
            sbuf_append(b, ",", 1);
        sbuf_append(b, "{", 1);
        put_int_member(b, "base_minor", t->base_minor, true);
        ok &= put_str_member(b, "name", t->name, false);
        put_int_member(b, "rate_bps", t->rate_bps, false);
        ok &= put_str_member(b, "rounding", t->rounding, false);
        put_int_member(b, "tax_minor", t->tax_minor, false);
        sbuf_append(b, "}", 1);
    }
    sbuf_append(b, "]", 1);
    ok &= put_str_member(b, "time_zone", doc->time_zone, false);
    sbuf_append(b, "}", 1);
    return ok;
}

status invoice_doc_render(const invoice_doc *doc, char **out, size_t *len,
                          err *e)
{
    invoice_doc_summary sum = {0};
    sbuf b = {0};
    bool ok;
    status s;

    if (doc->format == 2) {
        if ((s = invoice_doc_summarize(doc, &sum, e)) != ST_OK)
            return s;
        ok = render_v2(doc, &sum, &b);
        invoice_doc_summary_free(&sum);
    } else {
        ok = render_v1(doc, &b);
    }
    if (!ok) {
        sbuf_free(&b);
        return err_set(e, ST_INVALID,
                       "document %" PRId64 " has a missing or non-UTF-8 "
                       "text field",
                       doc->id);
    }
    if (b.failed) {
        sbuf_free(&b);
        return err_set(e, ST_NOMEM, "no memory for document %" PRId64, doc->id);
    }
    *len = b.len;
    *out = sbuf_take(&b);
    return ST_OK;
}

/* ---- canonical form of parsed JSON ---- */

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static status canon_value(sbuf *b, const json_t *v, err *e)
{
    status s = ST_OK;

    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        const char **keys = NULL;
        const char *k;
        json_t *m;

        if (n > 0 && (keys = malloc(n * sizeof(*keys))) == NULL)
            return err_set(e, ST_NOMEM, "no memory to canonicalise JSON");
        json_object_foreach((json_t *)v, k, m)
        {
            keys[i++] = k;
        }
        if (n > 1)
            qsort(keys, n, sizeof(*keys), key_cmp);
        sbuf_append(b, "{", 1);
        for (i = 0; i < n && s == ST_OK; i++) {
            put_key(b, keys[i], i == 0);
            s = canon_value(b, json_object_get(v, keys[i]), e);
        }
        sbuf_append(b, "}", 1);
        free(keys);
        return s;
    }
    case JSON_ARRAY:
        sbuf_append(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v) && s == ST_OK; i++) {
            if (i > 0)
                sbuf_append(b, ",", 1);
            s = canon_value(b, json_array_get(v, i), e);
        }
        sbuf_append(b, "]", 1);
        return s;
    case JSON_STRING:
        put_string(b, json_string_value(v), json_string_length(v));
        return ST_OK;
    case JSON_INTEGER:
        sbuf_printf(b, "%" PRId64, (int64_t)json_integer_value(v));
        return ST_OK;
    case JSON_REAL:
        return err_set(e, ST_INVALID,
                       "the document has a number with a fraction or "
                       "exponent; invoice documents hold only integers "
                       "(money in minor units)");
    case JSON_TRUE:
        sbuf_append(b, "true", 4);
        return ST_OK;
    case JSON_FALSE:
        sbuf_append(b, "false", 5);
        return ST_OK;
    case JSON_NULL:
        sbuf_append(b, "null", 4);
        return ST_OK;
    }
    return err_set(e, ST_INTERNAL, "unknown JSON type");
}

static status parse(const char *json, size_t len, json_t **out, err *e)
{
    json_error_t jerr;
    json_t *v;

    if (len > INVOICE_DOC_MAX)
        return err_set(e, ST_TOO_LARGE,
                       "the document is %zu bytes; at most %u are verified",
                       len, INVOICE_DOC_MAX);
    v = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (v == NULL)
        return err_set(e, ST_BAD_JSON,
                       "not a JSON document: %s (line %d, column %d)",
                       jerr.text, jerr.line, jerr.column);
    *out = v;
    return ST_OK;
}

static status canon_take(const json_t *v, char **out, size_t *outlen, err *e)
{
    sbuf b = {0};
    status s = canon_value(&b, v, e);

    if (s == ST_OK && b.failed)
        s = err_set(e, ST_NOMEM, "no memory to canonicalise JSON");
    if (s != ST_OK) {
        sbuf_free(&b);
        return s;
    }
    *outlen = b.len;
    *out = sbuf_take(&b);
    return ST_OK;
}

status invoice_doc_canonicalize(const char *json, size_t len, char **out,
                                size_t *outlen, err *e)
{
    json_t *v = NULL;
    status s = parse(json, len, &v, e);

    if (s != ST_OK)
        return s;
    s = canon_take(v, out, outlen, e);
    json_decref(v);
    return s;
}

/* ---- hash, sign, check ---- */

void invoice_doc_hash(const char *canon, size_t len,
                      char hex[INVOICE_HASH_HEX + 1])
{
    unsigned char h[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(h, (const unsigned char *)canon, len);
    sodium_bin2hex(hex, INVOICE_HASH_HEX + 1, h, sizeof(h));
}

status invoice_doc_sign(const signer *sg, const char *canon, size_t len,
                        char hash_hex[INVOICE_HASH_HEX + 1],
                        char sig_hex[INVOICE_SIG_HEX + 1], err *e)
{
    unsigned char sig[SIGNER_SIG_BYTES];
    status s;

    invoice_doc_hash(canon, len, hash_hex);
    s = signer_sign(sg, (const unsigned char *)canon, len, sig, e);
    if (s != ST_OK)
        return s;
    sodium_bin2hex(sig_hex, INVOICE_SIG_HEX + 1, sig, sizeof(sig));
    return ST_OK;
}

status invoice_doc_check(const char *canon, size_t len, const char *hash_hex,
                         const char *sig_hex,
                         const unsigned char pk[SIGNER_PK_BYTES],
                         const char *what, err *e)
{
    char actual[INVOICE_HASH_HEX + 1];
    unsigned char sig[SIGNER_SIG_BYTES];
    size_t n = 0;

    invoice_doc_hash(canon, len, actual);
    if (hash_hex == NULL || strcmp(actual, hash_hex) != 0)
        return err_set(e, ST_INVALID,
                       "%s was changed after it was issued: its content "
                       "hashes to %.16s..., the recorded hash is %.16s...",
                       what, actual, hash_hex != NULL ? hash_hex : "");
    if (sig_hex == NULL || strlen(sig_hex) != INVOICE_SIG_HEX ||
        sodium_hex2bin(sig, sizeof(sig), sig_hex, INVOICE_SIG_HEX, NULL, &n,
                       NULL) != 0 ||
        n != sizeof(sig))
        return err_set(e, ST_INVALID,
                       "%s has a malformed signature (expected %d hex "
                       "characters)",
                       what, INVOICE_SIG_HEX);
    if (!signer_verify(pk, (const unsigned char *)canon, len, sig))
        return err_set(e, ST_INVALID,
                       "%s: the Ed25519 signature does not verify with this "
                       "public key; the document or its signature was "
                       "changed",
                       what);
    return ST_OK;
}

status invoice_doc_envelope(const char *canon, size_t len, const char *hash_hex,
                            const char *sig_hex, char **out, size_t *outlen,
                            err *e)
{
    sbuf b = {0};

    sbuf_append(&b, "{\"document\":", 12);
    sbuf_append(&b, canon, len);
    sbuf_printf(&b, ",\"hash\":\"%s\",\"signature\":\"%s\"}\n", hash_hex,
                sig_hex);
    if (b.failed) {
        sbuf_free(&b);
        return err_set(e, ST_NOMEM, "no memory for the export");
    }
    *outlen = b.len;
    *out = sbuf_take(&b);
    return ST_OK;
}

status invoice_doc_verify(const char *json, size_t len,
                          const unsigned char pk[SIGNER_PK_BYTES], char *ref,
                          err *e)
{
    char what[INVOICE_REF_MAX + 32];
    char want_id[SIGNER_KEY_ID_LEN + 1];
    json_t *env = NULL, *doc, *tenant;
    const char *hash, *sig, *key_id, *kind, *tenant_id;
    char *canon = NULL;
    size_t clen = 0;
    json_int_t number;
    status s;

    if ((s = parse(json, len, &env, e)) != ST_OK)
        return s;
    doc = json_object_get(env, "document");
    hash = json_string_value(json_object_get(env, "hash"));
    sig = json_string_value(json_object_get(env, "signature"));
    if (!json_is_object(env) || json_object_size(env) != 3 ||
        !json_is_object(doc) || hash == NULL || sig == NULL) {
        s = err_set(e, ST_INVALID,
                    "not an exported invoice: expected an object with "
                    "exactly \"document\", \"hash\" and \"signature\" "
                    "(export one with: twinline invoice show ID --format "
                    "json)");
        goto out;
    }
    key_id = json_string_value(json_object_get(doc, "key_id"));
    kind = json_string_value(json_object_get(doc, "kind"));
    /* Format 1 names the tenant "tenant", format 2 the buyer. */
    tenant = json_object_get(doc, "tenant");
    if (tenant == NULL)
        tenant = json_object_get(doc, "buyer");
    tenant_id = json_string_value(json_object_get(tenant, "id"));
    number = json_integer_value(json_object_get(doc, "number"));
    if (key_id == NULL || kind == NULL || tenant_id == NULL ||
        !json_is_integer(json_object_get(doc, "number"))) {
        s = err_set(e, ST_INVALID,
                    "the document lacks key_id, kind, number or the "
                    "tenant's id (tenant.id, buyer.id)");
        goto out;
    }
    snprintf(what, sizeof(what), "%s ",
             strcmp(kind, "credit_note") == 0 ? "credit note" : "invoice");
    invoice_doc_reference(what + strlen(what), strcmp(kind, "credit_note") == 0,
                          tenant_id, (int64_t)number);
    signer_key_id_of(pk, want_id);
    if (strcmp(key_id, want_id) != 0) {
        s = err_set(e, ST_INVALID,
                    "%s says it was signed by key %.32s, but the public key "
                    "given is key %s; verify with the matching invoice.pub",
                    what, key_id, want_id);
        goto out;
    }
    if ((s = canon_take(doc, &canon, &clen, e)) != ST_OK)
        goto out;
    if ((s = invoice_doc_check(canon, clen, hash, sig, pk, what, e)) != ST_OK)
        goto out;
    if (ref != NULL)
        invoice_doc_reference(ref, strcmp(kind, "credit_note") == 0, tenant_id,
                              (int64_t)number);
out:
    free(canon);
    json_decref(env);
    return s;
}
