/*
 * Invoices and credit notes in PostgreSQL (schema/003_invoices.sql).
 *
 * Closing a tenant's period gathers its billable lines created in that
 * month (UTC) and not invoiced yet into one invoice per seller (the
 * operator whose pools did the work), currency and payment terms, works
 * out each line's tax (invoice_tax.h) and issues each: the number comes from
 * the series row of (tenant, invoice), locked by the issuing transaction, so
 * numbers run 1, 2, 3, ... without gaps even when a close fails; the canonical
 * JSON document is hashed (SHA-256) and signed (Ed25519) and the invoice
 * becomes immutable (the database refuses changes). A credit note corrects
 * lines of an issued invoice, with negative amounts, in the tenant's
 * credit-note series. See docs/invoices.md.
 *
 * Functions that issue documents run their own transaction: on any error
 * nothing is stored and no number is used.
 */
#ifndef TL_INVOICE_H
#define TL_INVOICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "auditlog.h"
#include "db.h"
#include "err.h"
#include "ids.h"
#include "invoice_doc.h"
#include "money.h"
#include "signer.h"

#define INVOICE_CLOSE_MAX  16   /* invoices per close */
#define INVOICE_LINES_MAX  4096 /* line numbers named in one credit note */
#define INVOICE_REASON_MAX 500
#define INVOICE_PERIOD_LEN 7 /* "YYYY-MM" */
#define INVOICE_TIME_MAX   32

/* invoice_close_period flags. */
#define INVOICE_CLOSE_EARLY 1u /* allow a period that has not ended yet */

/* The invoices one close issued, one per seller, currency and payment
 * terms, in that order. */
typedef struct invoice_closed {
    int n;
    int64_t ids[INVOICE_CLOSE_MAX];
    int64_t numbers[INVOICE_CLOSE_MAX];
    /* The seller's or buyer's address or tax id was not configured, so
     * the invoice lacks it (docs/config.md, "legal"). */
    bool incomplete[INVOICE_CLOSE_MAX];
    int lines; /* lines invoiced (outcomes and adjustments), all currencies */
    int minimums; /* monthly-minimum top-ups charged by this close */
} invoice_closed;

/*
 * The UTC bounds of period "YYYY-MM" as timestamps PostgreSQL reads
 * ("2026-11-01 00:00:00+00"), into start and end (INVOICE_TIME_MAX bytes
 * each; end is the first instant of the next month). ST_INVALID with the
 * expected form otherwise.
 */
status invoice_period_bounds(const char *period, char *start, char *end,
                             err *e);

/*
 * Close tenant's period: issue one invoice per seller, currency and
 * payment terms holding every billable line of the tenant created in the
 * period and not yet invoiced (and the adjustments due), signed with sg,
 * and record the close in the audit trail (action "invoice.close") as done
 * by who (NULL: the login running the program, auditlog_who_admin), in the
 * same transaction. Format 2 (invoice_doc.h): parties, dates and tax as
 * configured now. Errors, after which nothing changed:
 *   ST_INVALID        malformed period; a period that has not ended yet
 *                     (unless flags has INVOICE_CLOSE_EARLY); a total or
 *                     tax beyond int64; more than INVOICE_CLOSE_MAX
 *                     invoices
 *   ST_UNKNOWN_TENANT the tenant does not exist
 *   ST_CONFLICT       the period is already closed
 *   ST_NOT_FOUND      nothing to invoice in the period
 *   ST_DB, ST_UNAVAILABLE, ST_NOMEM
 * *out is written only on success.
 */
status invoice_close_period(db *d, const char *tenant, const char *period,
                            const signer *sg, const auditlog_who *who,
                            unsigned flags, invoice_closed *out, err *e);

/*
 * Issue a credit note correcting lines of issued invoice invoice_id:
 * line numbers lines[0..n) (as printed on the invoice), or when n is 0
 * every line not credited yet. reason (1..INVOICE_REASON_MAX bytes) is
 * printed on the note. The note is recorded in the audit trail (action
 * "invoice.credit") as done by who (NULL: as invoice_close_period) in its
 * transaction. *credit_id is written only on success. Errors:
 * ST_NOT_FOUND (no such invoice or line), ST_INVALID (not an issued
 * invoice, bad reason, a line named twice), ST_CONFLICT (a line was
 * credited already), ST_DB, ST_NOMEM.
 */
status invoice_credit_note(db *d, int64_t invoice_id, const int64_t *lines,
                           int n, const char *reason, const signer *sg,
                           const auditlog_who *who, int64_t *credit_id, err *e);

typedef enum invoice_format {
    INVOICE_FMT_JSON, /* the signed envelope, canonical */
    INVOICE_FMT_CSV,  /* one row per line */
    INVOICE_FMT_HTML, /* a readable document, printable on A4 */
    INVOICE_FMT_PDF   /* the HTML printed; made by the caller (cli_pdf.h) */
} invoice_format;

/* Parse "json", "csv", "html" or "pdf". ST_INVALID names the valid ones. */
status invoice_format_parse(const char *name, invoice_format *out, err *e);

/*
 * Write issued document id to out in format f. The content is derived
 * from the database; JSON carries the stored hash and signature, so a
 * row changed behind the database's back exports a document that fails
 * verification. INVOICE_FMT_PDF writes the HTML the PDF is printed from.
 * Errors: ST_NOT_FOUND, ST_INVALID (a draft), ST_IO, ST_DB.
 */
status invoice_export(db *d, int64_t id, invoice_format f, FILE *out, err *e);

/*
 * Check an exported JSON document json[0..len) against public key pk:
 * its hash and signature, and that it was signed by that key. ref
 * (INVOICE_REF_MAX bytes, may be NULL) receives the document's reference.
 * ST_INVALID (with what failed) when it was tampered with or signed by
 * another key; ST_BAD_JSON, ST_TOO_LARGE.
 */
status invoice_verify_document(const char *json, size_t len,
                               const unsigned char pk[SIGNER_PK_BYTES],
                               char *ref, err *e);

/*
 * Re-derive the document of issued document id from the database and
 * check it against the stored hash and signature with pk. As
 * invoice_verify_document, plus ST_NOT_FOUND and ST_DB.
 */
status invoice_verify_stored(db *d, int64_t id,
                             const unsigned char pk[SIGNER_PK_BYTES], char *ref,
                             err *e);

typedef struct invoice_summary {
    int64_t id;
    bool credit_note;
    bool issued;
    char tenant[ID_MAX + 1];
    char period[INVOICE_PERIOD_LEN + 1];
    int64_t number;
    char reference[INVOICE_REF_MAX];
    char currency[MONEY_CURRENCY_LEN + 1];
    int64_t total_minor; /* net: the sum of the lines */
    int64_t tax_minor;
    int64_t line_count;
    char issued_at[INVOICE_TIME_MAX];
    char key_id[SIGNER_KEY_ID_LEN + 1];
    int64_t corrects_id;             /* 0 for an invoice */
    char seller[ID_MAX + 1];         /* "" before format 2 */
    char due_date[INVOICE_TIME_MAX]; /* "" for a credit note or format 1 */
} invoice_summary;

/*
 * Documents of tenant (all tenants when NULL), by tenant, kind and
 * number. *rows (caller frees; NULL when *n is 0) and *n are written only
 * on success. ST_DB, ST_NOMEM.
 */
status invoice_list(db *d, const char *tenant, invoice_summary **rows, int *n,
                    err *e);

#endif
