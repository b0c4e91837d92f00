/*
 * The signed document of an invoice or credit note: its canonical JSON,
 * SHA-256 hash and Ed25519 signature (see docs/invoices.md).
 *
 * Pure: no database, no files. The canonical form is what gets hashed and
 * signed, so it must never depend on a library version or a locale:
 *   - objects with keys sorted by their UTF-8 bytes, no duplicates;
 *   - no whitespace outside strings;
 *   - integers in plain decimal ("-1500"); no fractions, exponents or
 *     floating point anywhere (money is integer minor units);
 *   - strings as UTF-8 with only '"', '\\' and control characters escaped
 *     (\b \f \n \r \t, the rest as \u00XX with lower-case hex);
 *   - true, false, null.
 * invoice_doc_render() writes that form directly from the document's
 * fields; invoice_doc_canonicalize() produces it from any JSON text, which
 * is how a verifier re-derives the bytes from an exported file.
 *
 * The exported envelope is {"document":D,"hash":H,"signature":S} with D
 * canonical, H the lower-case hex SHA-256 of D and S the lower-case hex
 * Ed25519 signature of D; the envelope itself is canonical too.
 */
#ifndef TL_INVOICE_DOC_H
#define TL_INVOICE_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "signer.h"

#define INVOICE_DOC_FORMAT    "twinline.invoice/1" /* before schema 018 */
#define INVOICE_DOC_FORMAT_V2 "twinline.invoice/2"
#define INVOICE_HASH_HEX      64                   /* characters, without NUL */
#define INVOICE_SIG_HEX       128                  /* characters, without NUL */
#define INVOICE_DOC_MAX       (512u * 1024 * 1024) /* largest file verified */
#define INVOICE_REF_MAX       96 /* "INV-<tenant>-000001" and NUL */

/*
 * Two formats are rendered. Format 1 (documents issued before schema 018)
 * names the tenant and, per line, the task, worker and operator behind
 * it. Format 2 adds the seller and buyer with their legal names,
 * addresses, tax ids and bank accounts, issue and due dates with the
 * payment terms, tax per line with subtotals per case type and outcome and
 * a total per rate, and leaves out what is internal to the operator (the
 * task, the worker). A document is always rendered in the format it was
 * issued in, so it verifies whatever was added later.
 */

/* One line of a document. Strings are borrowed (owned by whoever filled
 * the struct) and must be valid UTF-8. */
typedef struct invoice_doc_line {
    int64_t line; /* 1, 2, ... in document order */
    int64_t billable_line_id;
    int64_t outcome_id;
    int64_t case_id;
    int64_t task_id;
    int64_t amount_minor; /* negative on a credit note */
    const char *case_external_id;
    const char *worker_id;
    const char *operator_id;
    const char *contract_id;
    const char *outcome_code;
    const char *billed_at; /* UTC, "2026-11-03T10:15:00Z" */
    const char *description;
    /* Format 2. case_type is "" for an adjustment without a case (a
     * monthly minimum); tax_name "" when the line carries no tax. */
    const char *case_type;
    const char *tax_name;
    int64_t tax_rate_bps;
    const char *tax_rounding; /* "half_up", ... */
    int64_t tax_minor;        /* negative on a credit note */
} invoice_doc_line;

/* A party of a format 2 document, as it was when the document was
 * drafted; a detail its configuration lacks is "". */
typedef struct invoice_doc_party {
    const char *id;   /* operator (seller) or tenant (buyer) id */
    const char *name; /* legal name, else the configured name */
    const char *address;
    const char *tax_id;
    const char *country; /* ISO 3166-1 alpha-2 */
    const char *bank_name;
    const char *bank_account;
} invoice_doc_party;

/* A document's header and lines; strings and lines are borrowed. */
typedef struct invoice_doc {
    int64_t id;
    int format;       /* 1 or 2 */
    bool credit_note; /* false: an invoice */
    const char *tenant_id;
    const char *tenant_name;
    const char *period; /* "2026-11" */
    int64_t number;
    const char *currency;
    const char *issued_at; /* UTC, seconds */
    const char *key_id;
    int64_t total_minor; /* the lines' net amounts */
    /* Format 2. Dates are in time_zone (the tenant's); a credit note has
     * no due date (due_date NULL) and payment_terms_days 0. */
    invoice_doc_party seller;
    invoice_doc_party buyer;
    const char *time_zone;
    const char *issue_date; /* "2026-12-01" */
    const char *due_date;
    int64_t payment_terms_days;
    int64_t tax_minor;
    /* Credit notes only (NULL/0 otherwise). */
    int64_t corrects_id;
    int64_t corrects_number;
    const char *reason;
    int nlines;
    const invoice_doc_line *lines;
} invoice_doc;

/*
 * The document's reference for people: "INV-<tenant>-000042" or
 * "CN-<tenant>-000007", into buf (INVOICE_REF_MAX bytes). Returns buf.
 */
char *invoice_doc_reference(char *buf, bool credit_note, const char *tenant,
                            int64_t number);

/* A format 2 document's lines summed per case type and outcome code. */
typedef struct invoice_doc_subtotal {
    const char *case_type; /* borrowed from a line */
    const char *outcome_code;
    int64_t lines;
    int64_t net_minor;
    int64_t tax_minor;
} invoice_doc_subtotal;

/* ... and per tax (name, rate, rounding); no-tax lines are left out. */
typedef struct invoice_doc_taxsum {
    const char *name; /* borrowed from a line */
    int64_t rate_bps;
    const char *rounding;
    int64_t base_minor;
    int64_t tax_minor;
} invoice_doc_taxsum;

typedef struct invoice_doc_summary {
    int nsubtotals; /* by case type, then outcome code (bytes) */
    invoice_doc_subtotal *subtotals;
    int ntaxes; /* by name, rate, rounding */
    invoice_doc_taxsum *taxes;
    int64_t gross_minor; /* total_minor + tax_minor: what is due */
} invoice_doc_summary;

/*
 * Sum doc's lines into *out (strings borrowed from doc; free with
 * invoice_doc_summary_free). ST_INVALID when a sum leaves int64,
 * ST_NOMEM. *out is written only on success.
 */
status invoice_doc_summarize(const invoice_doc *doc, invoice_doc_summary *out,
                             err *e);

/* Free what invoice_doc_summarize allocated; safe on a zeroed summary. */
void invoice_doc_summary_free(invoice_doc_summary *s);

/*
 * The canonical JSON of doc in its format. *out (caller frees) and *len
 * are written only on success. ST_INVALID when a string is missing or not
 * valid UTF-8 or a sum leaves int64, ST_NOMEM.
 */
status invoice_doc_render(const invoice_doc *doc, char **out, size_t *len,
                          err *e);

/*
 * The canonical form of any JSON value in json[0..len). *out (caller
 * frees) and *outlen are written only on success. ST_BAD_JSON (with the
 * position), ST_INVALID for a non-integer number or a duplicate key,
 * ST_TOO_LARGE beyond INVOICE_DOC_MAX, ST_NOMEM.
 */
status invoice_doc_canonicalize(const char *json, size_t len, char **out,
                                size_t *outlen, err *e);

/* Lower-case hex SHA-256 of canon[0..len) into hex (65 bytes). */
void invoice_doc_hash(const char *canon, size_t len,
                      char hex[INVOICE_HASH_HEX + 1]);

/*
 * Hash and sign canon[0..len) with sg: hash_hex and sig_hex receive
 * lower-case hex. ST_INTERNAL when signing fails.
 */
status invoice_doc_sign(const signer *sg, const char *canon, size_t len,
                        char hash_hex[INVOICE_HASH_HEX + 1],
                        char sig_hex[INVOICE_SIG_HEX + 1], err *e);

/*
 * Check that hash_hex is the SHA-256 of canon[0..len) and sig_hex a valid
 * signature of it by pk. what names the document in messages ("invoice
 * INV-t1-000001"). ST_INVALID with a sentence saying which check failed.
 */
status invoice_doc_check(const char *canon, size_t len, const char *hash_hex,
                         const char *sig_hex,
                         const unsigned char pk[SIGNER_PK_BYTES],
                         const char *what, err *e);

/*
 * The export envelope for canon and its hash and signature, with a final
 * newline. *out (caller frees) and *outlen written only on success.
 */
status invoice_doc_envelope(const char *canon, size_t len, const char *hash_hex,
                            const char *sig_hex, char **out, size_t *outlen,
                            err *e);

/*
 * Verify an exported envelope json[0..len) with public key pk: it must be
 * {"document": {...}, "hash": "...", "signature": "..."} (any whitespace
 * and key order), the document's key_id must be pk's, and the hash and
 * signature must match the document's canonical form. On success
 * ref (INVOICE_REF_MAX bytes, may be NULL) receives the document's
 * reference. Errors: ST_BAD_JSON, ST_INVALID (tampered, wrong key,
 * malformed envelope; the message says which), ST_TOO_LARGE, ST_NOMEM.
 */
status invoice_doc_verify(const char *json, size_t len,
                          const unsigned char pk[SIGNER_PK_BYTES], char *ref,
                          err *e);

#endif
