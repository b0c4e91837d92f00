/*
 * Invoices and credit notes for people: CSV and HTML renderings of a
 * document (invoice_doc.h). The signed original is the JSON export; these
 * show the same content, and the HTML carries the hash, signature and key
 * id with the command that verifies the JSON. The HTML prints on A4 (CSS
 * paged media: repeated table headers, page numbers), which is how the
 * PDF export is made (cli/cli_pdf.h).
 *
 * Pure: writes to a FILE the caller owns, no database. Both render a
 * document in its own format (invoice_doc.h): a format 2 document shows
 * its seller and buyer, dates and terms, subtotals per case type and
 * outcome, tax per rate and line, and the total due, and never a worker
 * or task; a format 1 document shows what it was issued with.
 */
#ifndef TL_INVOICE_RENDER_H
#define TL_INVOICE_RENDER_H

#include <stdio.h>

#include "err.h"
#include "invoice_doc.h"

/* What a rendering shows besides the document. Strings are borrowed. */
typedef struct invoice_render_extra {
    const char *reference; /* "INV-jsbank-000001" */
    const char *hash;      /* hex SHA-256 of the canonical document */
    const char *signature; /* hex Ed25519 signature */
    /* Per line, when it was billed in the document's time zone
     * ("2026-11-03 18:15"; UTC for format 1); NULL shows the UTC time. */
    const char *const *line_times;
} invoice_render_extra;

/*
 * The document as CSV (RFC 4180, CRLF): a header, then one row per line.
 * Text a spreadsheet would take for a formula is prefixed with a quote
 * mark. ST_INVALID or ST_NOMEM when its sums cannot be made (format 2).
 */
status invoice_render_csv(const invoice_doc *doc, const invoice_render_extra *x,
                          FILE *f, err *e);

/* The document as one self-contained HTML page. Errors as the CSV's. */
status invoice_render_html(const invoice_doc *doc,
                           const invoice_render_extra *x, FILE *f, err *e);

/*
 * A rate in basis points as a percentage for people: 600 -> "6%",
 * 650 -> "6.5%", 1 -> "0.01%". Returns buf (at least 16 bytes).
 */
char *invoice_render_rate(char *buf, size_t cap, int64_t bps);

#endif
