/*
 * The audit trail's chain: every record carries the SHA-256 of the one
 * before it, and Ed25519-signed checkpoints vouch for the chain up to a
 * record, so a changed, inserted or deleted record is found and named.
 *
 * A record's hash is SHA-256 of its canonical encoding:
 *
 *   "twinline audit v1\0" | seq (u64) | at_us (i64) |
 *   party | identity | action | subjects | details  (each u32 length + bytes)
 *   | prev (32 bytes)
 *
 * (integers big-endian). details is JSON text hashed byte for byte, so it
 * is stored as text, never as jsonb (which would reorder keys);
 * audit_details_canonical makes the one spelling producers use. at_us is
 * microseconds since 1970 UTC, PostgreSQL's own resolution, taken from the
 * database's clock.
 *
 * A checkpoint signs "twinline audit checkpoint v1\0" | seq | hash | at_us
 * with an nkey (nkey.h); the verifier accepts only signers it is given.
 *
 * Pure: no I/O, no database. The caller reads records in seq order.
 */
#ifndef TL_AUDIT_H
#define TL_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "nkey.h"

#define AUDIT_HASH_BYTES   32
#define AUDIT_PARTY_MAX    160
#define AUDIT_ACTION_MAX   64
#define AUDIT_SUBJECTS_MAX 512
#define AUDIT_DETAILS_MAX  (64 * 1024)
#define AUDIT_FINDINGS_MAX 32

/* One record. Strings are borrowed, NUL-terminated. */
typedef struct audit_record {
    int64_t seq;          /* 1, 2, ... without gaps */
    int64_t at_us;        /* when, microseconds since 1970 UTC */
    const char *party;    /* who: "tenant:jsbank", "operator:acme", ... */
    const char *identity; /* the identity that acted (natsauth id) */
    const char *action;   /* "case.submit", "identity.revoke", ... */
    const char *subjects; /* what it touched: "case:42 task:101" */
    const char *details;  /* a JSON object, canonical */
    unsigned char prev[AUDIT_HASH_BYTES]; /* hash of seq - 1; zero for 1 */
    unsigned char hash[AUDIT_HASH_BYTES]; /* as stored with the record */
} audit_record;

typedef struct audit_checkpoint {
    int64_t seq; /* the last record it covers */
    unsigned char hash[AUDIT_HASH_BYTES];
    int64_t at_us;
    char signer[NKEY_PUBLIC_LEN + 1]; /* public nkey */
    unsigned char sig[NKEY_SIG_BYTES];
} audit_checkpoint;

/*
 * Check r's fields (lengths, action of [a-z0-9._-], details a JSON
 * object). Errors: ST_INVALID, ST_TOO_LARGE, saying which field.
 */
status audit_record_check(const audit_record *r, err *e);

/* The hash of r's content and r->prev into out (r->hash is ignored).
 * r must pass audit_record_check. */
void audit_hash(const audit_record *r, unsigned char out[AUDIT_HASH_BYTES]);

/*
 * Link r after the record whose hash is prev (NULL for the first): set
 * r->prev and r->hash. Errors: those of audit_record_check.
 */
status audit_link(audit_record *r, const unsigned char *prev, err *e);

/*
 * The canonical spelling of a details object (keys sorted, no spaces) into
 * *out (caller frees). Errors: ST_BAD_JSON, ST_WRONG_TYPE (not an object),
 * ST_TOO_LARGE, ST_NOMEM.
 */
status audit_details_canonical(const char *json, char **out, err *e);

/* Sign a checkpoint over record seq with hash at at_us with key into
 * *out. Errors: ST_INTERNAL. */
status audit_checkpoint_sign(const nkey *key, int64_t seq,
                             const unsigned char hash[AUDIT_HASH_BYTES],
                             int64_t at_us, audit_checkpoint *out, err *e);

/* True when c's signature is valid for its signer. */
bool audit_checkpoint_valid(const audit_checkpoint *c);

typedef enum audit_fault {
    AUDIT_CHANGED,       /* a record's content no longer matches its hash */
    AUDIT_REWRITTEN,     /* its hash was recomputed: the next points back to
                            the original */
    AUDIT_INSERTED,      /* a record that the chain does not contain */
    AUDIT_DELETED,       /* records missing (a gap in seq, or the tail) */
    AUDIT_BROKEN,        /* the chain breaks here; cause not determinable */
    AUDIT_CHECKPOINT,    /* the chain differs from a signed checkpoint */
    AUDIT_BAD_SIGNATURE, /* a checkpoint's signature or signer is not valid */
} audit_fault;

typedef struct audit_finding {
    audit_fault fault;
    int64_t seq;  /* the record concerned (for DELETED, the first missing) */
    int64_t last; /* the last record of a run it covers (>= seq) */
    char msg[256];
} audit_finding;

typedef struct audit_report {
    int64_t records;  /* how many were checked */
    int64_t last_seq; /* seq of the last record */
    int64_t vouched;  /* highest seq a valid, matching checkpoint covers */
    int nfindings;    /* all findings, even beyond AUDIT_FINDINGS_MAX */
    audit_finding findings[AUDIT_FINDINGS_MAX]; /* the first ones, in order */
} audit_report;

/*
 * Verify records r[0..n) (in the order read, meant to be seq order from 1)
 * and checkpoints c[0..nc) (any order), trusting checkpoints only from the
 * public keys signers[0..ns). Fills *out; true when nothing was found.
 * Records that fail audit_record_check are reported as AUDIT_CHANGED.
 */
bool audit_verify(const audit_record *r, size_t n, const audit_checkpoint *c,
                  size_t nc, const char *const *signers, size_t ns,
                  audit_report *out);

/* "changed", "rewritten", "inserted", "deleted", "broken", "checkpoint",
 * "bad_signature". */
const char *audit_fault_name(audit_fault f);

#endif
