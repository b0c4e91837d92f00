#include "invoice_render.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "money.h"

/* ---- CSV ---- */

/* A CSV field, quoted when it holds a comma, quote or line break. Text
 * that a spreadsheet would take for a formula is prefixed with a quote
 * mark, so an exported description can never run as one. */
static void csv_field(FILE *f, const char *s, bool last)
{
    const char *v = s != NULL ? s : "";
    bool quote = strpbrk(v, ",\"\r\n") != NULL;
    bool formula = v[0] != '\0' && strchr("=+-@", v[0]) != NULL;

    if (quote)
        fputc('"', f);
    if (formula)
        fputc('\'', f);
    for (const char *c = v; *c != '\0'; c++) {
        if (*c == '"')
            fputc('"', f);
        fputc(*c, f);
    }
    if (quote)
        fputc('"', f);
    fputs(last ? "\r\n" : ",", f);
}

static void csv_i64(FILE *f, int64_t v, bool last)
{
    fprintf(f, "%" PRId64 "%s", v, last ? "\r\n" : ",");
}

static void csv_money(FILE *f, const char *currency, int64_t minor)
{
    char amount[MONEY_FORMAT_MAX];

    fprintf(f, "%s,%" PRId64 ",",
            money_format_plain(amount, sizeof(amount), currency, minor), minor);
}

static void csv_v1(const invoice_doc *doc, const invoice_render_extra *x,
                   FILE *f)
{
    char amount[MONEY_FORMAT_MAX];

    fputs("reference,kind,period,currency,line,billed_at,description,"
          "case_id,case_external_id,task_id,worker_id,operator_id,"
          "contract_id,outcome_id,outcome_code,billable_line_id,amount,"
          "amount_minor\r\n",
          f);
    for (int i = 0; i < doc->nlines; i++) {
        const invoice_doc_line *l = &doc->lines[i];

        csv_field(f, x->reference, false);
        csv_field(f, doc->credit_note ? "credit_note" : "invoice", false);
        csv_field(f, doc->period, false);
        csv_field(f, doc->currency, false);
        csv_i64(f, l->line, false);
        csv_field(f, l->billed_at, false);
        csv_field(f, l->description, false);
        csv_i64(f, l->case_id, false);
        csv_field(f, l->case_external_id, false);
        csv_i64(f, l->task_id, false);
        csv_field(f, l->worker_id, false);
        csv_field(f, l->operator_id, false);
        csv_field(f, l->contract_id, false);
        csv_i64(f, l->outcome_id, false);
        csv_field(f, l->outcome_code, false);
        csv_i64(f, l->billable_line_id, false);
        money_format_plain(amount, sizeof(amount), doc->currency,
                           l->amount_minor);
        fprintf(f, "%s,%" PRId64 "\r\n", amount, l->amount_minor);
    }
}

static void csv_v2(const invoice_doc *doc, const invoice_render_extra *x,
                   FILE *f)
{
    fputs("reference,kind,period,currency,seller_id,buyer_id,issue_date,"
          "due_date,line,billed_at,case_id,case_external_id,case_type,"
          "outcome_id,outcome_code,contract_id,description,amount,"
          "amount_minor,tax_name,tax_rate_bps,tax,tax_minor,gross,"
          "gross_minor\r\n",
          f);
    for (int i = 0; i < doc->nlines; i++) {
        const invoice_doc_line *l = &doc->lines[i];
        int64_t gross = 0;

        csv_field(f, x->reference, false);
        csv_field(f, doc->credit_note ? "credit_note" : "invoice", false);
        csv_field(f, doc->period, false);
        csv_field(f, doc->currency, false);
        csv_field(f, doc->seller.id, false);
        csv_field(f, doc->buyer.id, false);
        csv_field(f, doc->issue_date, false);
        csv_field(f, doc->due_date, false);
        csv_i64(f, l->line, false);
        csv_field(f, l->billed_at, false);
        csv_i64(f, l->case_id, false);
        csv_field(f, l->case_external_id, false);
        csv_field(f, l->case_type, false);
        csv_i64(f, l->outcome_id, false);
        csv_field(f, l->outcome_code, false);
        csv_field(f, l->contract_id, false);
        csv_field(f, l->description, false);
        csv_money(f, doc->currency, l->amount_minor);
        csv_field(f, l->tax_name, false);
        csv_i64(f, l->tax_rate_bps, false);
        csv_money(f, doc->currency, l->tax_minor);
        /* Each addend fits in int64 and so does every total the document
         * was issued with; a line's own sum cannot leave it then. */
        if (__builtin_add_overflow(l->amount_minor, l->tax_minor, &gross))
            gross = 0;
        {
            char amount[MONEY_FORMAT_MAX];

            fprintf(f, "%s,%" PRId64 "\r\n",
                    money_format_plain(amount, sizeof(amount), doc->currency,
                                       gross),
                    gross);
        }
    }
}

status invoice_render_csv(const invoice_doc *doc, const invoice_render_extra *x,
                          FILE *f, err *e)
{
    (void)e;
    if (doc->format == 2)
        csv_v2(doc, x, f);
    else
        csv_v1(doc, x, f);
    return ST_OK;
}

/* ---- HTML ---- */

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

/* A text, or a marked "not configured" when the party's configuration
 * lacks it, so a missing tax id is visible rather than blank. */
static void html_or_missing(FILE *f, const char *s)
{
    if (s == NULL || s[0] == '\0')
        fputs("<span class=\"missing\">not configured</span>", f);
    else
        html_text(f, s);
}

static void html_row(FILE *f, const char *label, const char *value)
{
    fputs("<tr><th>", f);
    html_text(f, label);
    fputs("</th><td>", f);
    html_text(f, value);
    fputs("</td></tr>\n", f);
}

/* A money cell: right-aligned amount without the currency (the table
 * says it once). */
static void html_amount(FILE *f, const char *currency, int64_t minor)
{
    char buf[MONEY_FORMAT_MAX];

    fputs("<td class=\"n\">", f);
    html_text(f, money_format_amount(buf, sizeof(buf), currency, minor));
    fputs("</td>", f);
}

char *invoice_render_rate(char *buf, size_t cap, int64_t bps)
{
    int64_t whole = bps / 100, frac = bps % 100;

    if (frac < 0)
        frac = -frac;
    if (frac == 0)
        snprintf(buf, cap, "%" PRId64 "%%", whole);
    else if (frac % 10 == 0)
        snprintf(buf, cap, "%s%" PRId64 ".%" PRId64 "%%",
                 bps < 0 && whole == 0 ? "-" : "", whole, frac / 10);
    else
        snprintf(buf, cap, "%s%" PRId64 ".%02" PRId64 "%%",
                 bps < 0 && whole == 0 ? "-" : "", whole, frac);
    return buf;
}

/* Outcome codes read as words: "promise_to_pay" -> "promise to pay". */
static void html_code(FILE *f, const char *code)
{
    for (const char *c = code; c != NULL && *c != '\0'; c++)
        if (*c == '_')
            fputc(' ', f);
        else
            html_text(f, (char[2]){*c, '\0'});
}

/* One style for both formats; paged media for the PDF (A4, table heads
 * repeated on every page, the reference and page number at the foot). */
static void html_head(FILE *f, const char *title, const char *ref)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
          "<meta charset=\"utf-8\">\n<title>",
          f);
    html_text(f, title);
    fputc(' ', f);
    html_text(f, ref);
    fputs("</title>\n<style>\n"
          "@page{size:A4;margin:14mm 12mm 16mm 12mm;"
          "@bottom-center{content:\"",
          f);
    /* A reference is "INV-<tenant>-000001": letters, digits, '_' and '-'
     * only, so it is safe inside a CSS string. */
    html_text(f, ref);
    fputs(" \\00b7  page \" counter(page) \" of \" counter(pages);"
          "font:8pt sans-serif;color:#555}}\n"
          "body{font-family:\"DejaVu Sans\",\"WenQuanYi Micro Hei\","
          "sans-serif;font-size:9.5pt;margin:0;color:#222}\n"
          "@media screen{body{margin:2em auto;max-width:60em}}\n"
          "h1{font-size:18pt;margin:0 0 .3em}\n"
          "h2{font-size:11pt;margin:1.2em 0 .3em}\n"
          "table{border-collapse:collapse;margin:.4em 0}\n"
          "thead{display:table-header-group}\n"
          "tr{break-inside:avoid}\n"
          "th,td{border:1px solid #bbb;padding:2px 6px;text-align:left;"
          "vertical-align:top}\n"
          "th{background:#f0f0f0}\n"
          "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;"
          "white-space:nowrap}\n"
          "table.lines{width:100%;table-layout:fixed;font-size:8.5pt}\n"
          "tfoot{display:table-row-group}\n"
          "td.c{overflow-wrap:anywhere}\n"
          "*{box-sizing:border-box}\n"
          "tfoot td{font-weight:bold}\n"
          ".parties{display:flex;gap:2em;margin:.8em 0}\n"
          ".party{flex:1;border:1px solid #bbb;padding:.4em .8em}\n"
          ".party h2{margin:0 0 .2em;font-size:10pt;color:#555}\n"
          ".party p{margin:.1em 0}\n"
          ".party .name{font-weight:bold;font-size:11pt}\n"
          ".due{font-size:12pt;font-weight:bold}\n"
          ".missing{color:#b00;font-style:italic}\n"
          ".note{color:#555;font-size:8.5pt}\n"
          ".seal{font-family:monospace;font-size:7.5pt;"
          "word-break:break-all;color:#444}\n"
          "</style>\n</head>\n<body>\n",
          f);
}

static void html_seal(FILE *f, const invoice_doc *doc,
                      const invoice_render_extra *x)
{
    fputs("<p class=\"seal\">SHA-256: ", f);
    html_text(f, x->hash);
    fputs("<br>Ed25519 signature: ", f);
    html_text(f, x->signature);
    fputs("<br>Key id: ", f);
    html_text(f, doc->key_id);
    fputs("</p>\n<p class=\"note\">The signed original is the JSON export "
          "of this document; check it with <code>twinline invoice verify "
          "--file FILE --pubkey invoice.pub</code>.</p>\n</body>\n</html>\n",
          f);
}

static void html_v1(const invoice_doc *doc, const invoice_render_extra *x,
                    FILE *f)
{
    const char *title = doc->credit_note ? "Credit note" : "Invoice";
    char buf[MONEY_FORMAT_MAX + 8], ref[INVOICE_REF_MAX];

    html_head(f, title, x->reference);
    fprintf(f, "<h1>%s ", title);
    html_text(f, x->reference);
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
    fputs("</table>\n<table class=\"lines\">\n<thead><tr><th class=\"n\">"
          "Line</th><th>Billed (UTC)</th><th>Description</th><th>Case</th>"
          "<th class=\"n\">Task</th><th>Worker</th><th>Outcome</th>"
          "<th class=\"n\">Amount</th></tr></thead>\n<tbody>\n",
          f);
    for (int i = 0; i < doc->nlines; i++) {
        const invoice_doc_line *l = &doc->lines[i];

        fprintf(f, "<tr><td class=\"n\">%" PRId64 "</td><td>", l->line);
        html_text(f, l->billed_at);
        fputs("</td><td>", f);
        html_text(f, l->description);
        fputs("</td><td>", f);
        /* An adjustment (a penalty, a minimum top-up) has no task and no
         * outcome, and a minimum no case: nothing is shown for them. */
        html_text(f, l->case_external_id);
        if (l->case_id > 0)
            fprintf(f, " (#%" PRId64 ")", l->case_id);
        fputs("</td><td class=\"n\">", f);
        if (l->task_id > 0)
            fprintf(f, "%" PRId64, l->task_id);
        fputs("</td><td>", f);
        html_text(f, l->worker_id);
        fputs("</td><td>", f);
        html_text(f, l->outcome_code);
        if (l->outcome_id > 0)
            fprintf(f, " (#%" PRId64 ")", l->outcome_id);
        fputs("</td>", f);
        html_amount(f, doc->currency, l->amount_minor);
        fputs("</tr>\n", f);
    }
    fprintf(f,
            "</tbody>\n<tfoot><tr><td colspan=\"7\">Total (%d lines)"
            "</td><td class=\"n\">",
            doc->nlines);
    html_text(f,
              money_format(buf, sizeof(buf), doc->currency, doc->total_minor));
    fputs("</td></tr></tfoot>\n</table>\n", f);
    html_seal(f, doc, x);
}

static void html_party(FILE *f, const char *role, const invoice_doc_party *p)
{
    fputs("<div class=\"party\"><h2>", f);
    html_text(f, role);
    fputs("</h2>\n<p class=\"name\">", f);
    html_or_missing(f, p->name);
    fputs("</p>\n<p>", f);
    html_or_missing(f, p->address);
    if (p->country != NULL && p->country[0] != '\0') {
        fputs(" (", f);
        html_text(f, p->country);
        fputc(')', f);
    }
    fputs("</p>\n<p>Tax id: ", f);
    html_or_missing(f, p->tax_id);
    fputs("</p>\n", f);
    if ((p->bank_name != NULL && p->bank_name[0] != '\0') ||
        (p->bank_account != NULL && p->bank_account[0] != '\0')) {
        fputs("<p>Bank: ", f);
        html_or_missing(f, p->bank_name);
        fputs(", account ", f);
        html_or_missing(f, p->bank_account);
        fputs("</p>\n", f);
    }
    fputs("<p class=\"note\">Twinline id: ", f);
    html_text(f, p->id);
    fputs("</p></div>\n", f);
}

static void html_v2(const invoice_doc *doc, const invoice_doc_summary *sum,
                    const invoice_render_extra *x, FILE *f)
{
    const char *title = doc->credit_note ? "Credit note" : "Invoice";
    char buf[MONEY_FORMAT_MAX], ref[INVOICE_REF_MAX], rate[24], terms[64];

    html_head(f, title, x->reference);
    fprintf(f, "<h1>%s ", title);
    html_text(f, x->reference);
    fputs("</h1>\n<table>\n", f);
    html_row(f, doc->credit_note ? "Credit note number" : "Invoice number",
             x->reference);
    html_row(f, "Issue date", doc->issue_date);
    if (!doc->credit_note) {
        html_row(f, "Due date", doc->due_date);
        if (doc->payment_terms_days == 0)
            snprintf(terms, sizeof(terms), "due on receipt");
        else
            snprintf(terms, sizeof(terms), "%" PRId64 " days net",
                     doc->payment_terms_days);
        html_row(f, "Payment terms", terms);
    } else {
        html_row(f, "Corrects invoice",
                 invoice_doc_reference(ref, false, doc->tenant_id,
                                       doc->corrects_number));
        html_row(f, "Reason", doc->reason);
    }
    html_row(f, "Service period", doc->period);
    html_row(f, "Currency", doc->currency);
    html_row(f, "Dates and times in", doc->time_zone);
    fputs("</table>\n<div class=\"parties\">\n", f);
    html_party(f, "Seller", &doc->seller);
    html_party(f, "Buyer", &doc->buyer);
    fputs("</div>\n", f);

    /* The summary before the detail: what a clerk checks first. */
    fputs("<h2>Summary by case type and outcome</h2>\n<table>\n<thead><tr>"
          "<th>Case type</th><th>Outcome</th><th class=\"n\">Lines</th>"
          "<th class=\"n\">Net</th><th class=\"n\">Tax</th>"
          "<th class=\"n\">Gross</th></tr></thead>\n<tbody>\n",
          f);
    for (int i = 0; i < sum->nsubtotals; i++) {
        const invoice_doc_subtotal *t = &sum->subtotals[i];
        int64_t gross = 0;

        fputs("<tr><td>", f);
        if (t->case_type[0] != '\0')
            html_text(f, t->case_type);
        else
            fputs("(none)", f);
        fputs("</td><td>", f);
        html_code(f, t->outcome_code);
        fprintf(f, "</td><td class=\"n\">%" PRId64 "</td>", t->lines);
        html_amount(f, doc->currency, t->net_minor);
        html_amount(f, doc->currency, t->tax_minor);
        if (__builtin_add_overflow(t->net_minor, t->tax_minor, &gross))
            gross = 0;
        html_amount(f, doc->currency, gross);
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n</table>\n<h2>Tax</h2>\n", f);
    if (sum->ntaxes == 0) {
        fputs("<p>No tax is charged on this document.</p>\n", f);
    } else {
        fputs("<table>\n<thead><tr><th>Tax</th><th class=\"n\">Rate</th>"
              "<th class=\"n\">Taxable base</th><th class=\"n\">Tax amount"
              "</th><th>Rounding</th></tr></thead>\n<tbody>\n",
              f);
        for (int i = 0; i < sum->ntaxes; i++) {
            const invoice_doc_taxsum *t = &sum->taxes[i];

            fputs("<tr><td>", f);
            html_text(f, t->name);
            fputs("</td><td class=\"n\">", f);
            html_text(f, invoice_render_rate(rate, sizeof(rate), t->rate_bps));
            fputs("</td>", f);
            html_amount(f, doc->currency, t->base_minor);
            html_amount(f, doc->currency, t->tax_minor);
            fputs("<td>", f);
            html_code(f, t->rounding);
            fputs(", once on the base</td></tr>\n", f);
        }
        fputs("</tbody>\n</table>\n<p class=\"note\">Each rate's tax is its "
              "base times the rate, rounded once; the lines carry their "
              "shares of it (the exact share rounded down or up, by largest "
              "remainder), which add up to it exactly.</p>\n",
              f);
    }
    fputs("<table>\n<tbody>\n<tr><th>Net total</th>", f);
    html_amount(f, doc->currency, doc->total_minor);
    fputs("</tr>\n<tr><th>Tax total</th>", f);
    html_amount(f, doc->currency, doc->tax_minor);
    fprintf(f, "</tr>\n<tr class=\"due\"><th>%s</th><td class=\"n\">",
            doc->credit_note ? "Total credited" : "Total due");
    html_text(f,
              money_format(buf, sizeof(buf), doc->currency, sum->gross_minor));
    fputs("</td></tr>\n</tbody>\n</table>\n", f);
    if (!doc->credit_note) {
        fputs("<p>Please pay <b>", f);
        html_text(
            f, money_format(buf, sizeof(buf), doc->currency, sum->gross_minor));
        fputs("</b> by <b>", f);
        html_text(f, doc->due_date);
        fputs("</b> to ", f);
        html_or_missing(f, doc->seller.bank_name);
        fputs(", account ", f);
        html_or_missing(f, doc->seller.bank_account);
        fputs(", quoting ", f);
        html_text(f, x->reference);
        fputs(".</p>\n", f);
    }

    fprintf(f,
            "<h2>Lines (%d)</h2>\n<table class=\"lines\">\n"
            "<colgroup><col style=\"width:6%%\"><col style=\"width:14%%\">"
            "<col style=\"width:25%%\"><col style=\"width:21%%\">"
            "<col style=\"width:9%%\"><col style=\"width:7%%\">"
            "<col style=\"width:8%%\"><col style=\"width:10%%\"></colgroup>\n"
            "<thead><tr>"
            "<th class=\"n\">Line</th><th>Date</th><th>Case</th>"
            "<th>Item</th><th class=\"n\">Net</th>"
            "<th class=\"n\">Rate</th><th class=\"n\">Tax</th>"
            "<th class=\"n\">Gross</th></tr></thead>\n<tbody>\n",
            doc->nlines);
    for (int i = 0; i < doc->nlines; i++) {
        const invoice_doc_line *l = &doc->lines[i];
        int64_t gross = 0;

        fprintf(f, "<tr><td class=\"n\">%" PRId64 "</td><td>", l->line);
        html_text(f, x->line_times != NULL && x->line_times[i] != NULL
                         ? x->line_times[i]
                         : l->billed_at);
        fputs("</td><td class=\"c\">", f);
        /* A monthly minimum belongs to no case. */
        if (l->case_id > 0) {
            html_text(f, l->case_external_id);
            fprintf(f, "<br><span class=\"note\">case %" PRId64 "</span>",
                    l->case_id);
        } else {
            fputs("&mdash;", f);
        }
        fputs("</td><td>", f);
        /* A result reads as what was bought; an adjustment by its own
         * description (which says why). The signed description is in
         * the JSON and the CSV. */
        if (l->outcome_id > 0) {
            html_text(f, l->case_type);
            fputs(": ", f);
            html_code(f, l->outcome_code);
            fprintf(f, " <span class=\"note\">(outcome %" PRId64 ")</span>",
                    l->outcome_id);
        } else {
            html_text(f, l->description);
        }
        fputs("</td>", f);
        html_amount(f, doc->currency, l->amount_minor);
        fputs("<td class=\"n\">", f);
        if (l->tax_name[0] != '\0')
            html_text(f,
                      invoice_render_rate(rate, sizeof(rate), l->tax_rate_bps));
        else
            fputs("&mdash;", f);
        fputs("</td>", f);
        html_amount(f, doc->currency, l->tax_minor);
        if (__builtin_add_overflow(l->amount_minor, l->tax_minor, &gross))
            gross = 0;
        html_amount(f, doc->currency, gross);
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n<tfoot><tr><td colspan=\"4\">Total</td>", f);
    html_amount(f, doc->currency, doc->total_minor);
    fputs("<td></td>", f);
    html_amount(f, doc->currency, doc->tax_minor);
    html_amount(f, doc->currency, sum->gross_minor);
    fputs("</tr></tfoot>\n</table>\n", f);
    html_seal(f, doc, x);
}

status invoice_render_html(const invoice_doc *doc,
                           const invoice_render_extra *x, FILE *f, err *e)
{
    invoice_doc_summary sum = {0};
    status s;

    if (doc->format != 2) {
        html_v1(doc, x, f);
        return ST_OK;
    }
    if ((s = invoice_doc_summarize(doc, &sum, e)) != ST_OK)
        return s;
    html_v2(doc, &sum, x, f);
    invoice_doc_summary_free(&sum);
    return ST_OK;
}
