/*
 * PDF from HTML, printed by headless Chromium (Debian's chromium package,
 * installed by scripts/deps.sh): `twinline invoice show ID --format pdf`.
 *
 * Chromium lays the page out with the HTML's own print style (A4, table
 * heads repeated on every page, page numbers; billing/invoice_render.h),
 * which is why it prints the invoices rather than a PDF library of our
 * own: one rendering, shown the same in a browser and on paper, by a
 * well-kept engine. It runs as a child process with its own profile in a
 * private temporary directory, on a self-contained page without scripts,
 * and is killed if it takes longer than CLI_PDF_TIMEOUT_S.
 */
#ifndef TL_CLI_PDF_H
#define TL_CLI_PDF_H

#include "err.h"

#define CLI_PDF_TIMEOUT_S 90

/*
 * Print the HTML file html (an absolute or relative path) to the PDF file
 * pdf, which is written only on success (through pdf.tmp and a rename).
 * The browser is TL_CHROMIUM when set, else the first of chromium,
 * chromium-browser and google-chrome on PATH. Errors: ST_CONFIG (no
 * browser: the message says what to install), ST_IO (the browser failed
 * or wrote no PDF; the message quotes its last words), ST_TIMEOUT.
 */
status cli_pdf_print(const char *html, const char *pdf, err *e);

#endif
