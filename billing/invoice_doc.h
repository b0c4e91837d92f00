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

#define INVOICE_DOC_FORMAT "twinline.invoice/1"
#define INVOICE_HASH_HEX   64                   /* characters, without NUL */
#define INVOICE_SIG_HEX    128                  /* characters, without NUL */
#define INVOICE_DOC_MAX    (512u * 1024 * 1024) /* largest file verified */
#define INVOICE_REF_MAX    96 /* "INV-<tenant>-000001" and NUL */

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
} invoice_doc_line;

/* A document's header and lines; strings and lines are borrowed. */
typedef struct invoice_doc {
    int64_t id;
    bool credit_note; /* false: an invoice */
    const char *tenant_id;
    const char *tenant_name;
    const char *period; /* "2026-11" */
    int64_t number;
    const char *currency;
    const char *issued_at; /* UTC, seconds */
    const char *key_id;
    int64_t total_minor;
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

/*
 * The canonical JSON of doc. *out (caller frees) and *len are written only
 * on success. ST_INVALID when a string is missing or not valid UTF-8,
 * ST_NOMEM.
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
