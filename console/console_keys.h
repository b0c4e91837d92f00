/*
 * API keys of operators and banks.
 *
 * A key reads tlk_<id>_<secret>: id is 16 hex digits (the row's primary
 * key, not secret), secret 43 characters of base64url holding 256 random
 * bits. Only BLAKE2b-256 of the whole key (keyed with a fixed context
 * string, so the hash is of no use to any other protocol) is stored.
 * Argon2id exists to make guessing a human-chosen password slow; a 256-bit
 * random secret cannot be guessed however fast the hash, and a request
 * must not cost the server 64 MB and 100 ms (that would hand anybody who
 * can reach the port a way to exhaust it). docs/http.md, "Keys".
 */
#ifndef TL_CONSOLE_KEYS_H
#define TL_CONSOLE_KEYS_H

#include <stdio.h>

#include "db.h"
#include "err.h"
#include "ids.h"

#define CONSOLE_KEY_ID_LEN 16
#define CONSOLE_KEY_MAX    96 /* longest key text with its NUL */

/* Who a key speaks for. */
typedef enum console_key_kind {
    CONSOLE_KEY_OPERATOR, /* an operator: its pools, workers and figures */
    CONSOLE_KEY_TENANT    /* a bank or insurer: its own cases */
} console_key_kind;

typedef struct console_identity {
    char key_id[CONSOLE_KEY_ID_LEN + 1];
    console_key_kind kind;
    char owner[ID_MAX + 1]; /* operator or tenant id */
} console_identity;

/* "operator" or "tenant". */
const char *console_key_kind_name(console_key_kind k);

/*
 * Create a key for owner (an operator or tenant that exists) named name
 * (1-100 characters). key (CONSOLE_KEY_MAX bytes) receives the key text,
 * which is never stored: the caller shows it once. ST_NOT_FOUND when the
 * owner does not exist, ST_INVALID for a bad name or owner.
 */
status console_keys_create(db *d, console_key_kind kind, const char *owner,
                           const char *name, char *key, err *e);

/* Revoke key id: ST_NOT_FOUND when no such key is active. */
status console_keys_revoke(db *d, const char *id, err *e);

/* Print every key (no secret, no hash) as a table to out. */
status console_keys_list(db *d, FILE *out, err *e);

/*
 * Check the key a request presents. On success *out says who it is.
 * A malformed, unknown, revoked or wrong key is ST_NOT_FOUND (the caller
 * answers 401 without saying which); database trouble is ST_UNAVAILABLE
 * or ST_DB.
 */
status console_keys_verify(db *d, const char *key, console_identity *out,
                           err *e);

#endif
