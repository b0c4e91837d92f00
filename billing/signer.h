/*
 * Ed25519 signing keys for invoices (libsodium).
 *
 * A key pair lives in a directory as two text files of lower-case hex:
 *   invoice.key  the 64-byte secret key (seed and public key), mode 0600
 *   invoice.pub  the 32-byte public key, for whoever verifies
 * The key id is the first 8 bytes of the public key in hex (16 characters);
 * it is written into every signed document so a verifier knows which
 * public key to use.
 *
 * The secret key is held in sodium_malloc'd memory (guarded, locked where
 * the system allows) and wiped with sodium_memzero when the signer is
 * destroyed; buffers that held it in hex are wiped too.
 */
#ifndef TL_SIGNER_H
#define TL_SIGNER_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define SIGNER_PK_BYTES    32
#define SIGNER_SIG_BYTES   64
#define SIGNER_KEY_ID_LEN  16 /* hex characters, without NUL */
#define SIGNER_SECRET_FILE "invoice.key"
#define SIGNER_PUBLIC_FILE "invoice.pub"

typedef struct signer signer;

/*
 * Create a new key pair in directory dir (created with mode 0700 when
 * missing). Refuses to overwrite an existing key file (ST_CONFLICT).
 * key_id (SIGNER_KEY_ID_LEN + 1 bytes, may be NULL) receives the key id.
 * Errors: ST_IO, ST_CONFLICT, ST_INTERNAL (libsodium unusable).
 */
status signer_keygen(const char *dir, char *key_id, err *e);

/*
 * Load the secret key of directory dir. *out is owned by the caller
 * (signer_destroy). ST_CONFIG when the file is missing, malformed, its
 * public half does not match, or others may read it (mode must be 0600
 * or stricter); ST_IO on read errors; ST_NOMEM.
 */
status signer_load(signer **out, const char *dir, err *e);

/* Wipe and free s; NULL is a no-op. */
void signer_destroy(signer *s);

/* The key id, hex, NUL-terminated. Borrowed from s. */
const char *signer_key_id(const signer *s);

/* The public key (SIGNER_PK_BYTES). Borrowed from s. */
const unsigned char *signer_public_key(const signer *s);

/* Detached signature of msg[0..len) into sig. ST_INTERNAL on failure. */
status signer_sign(const signer *s, const unsigned char *msg, size_t len,
                   unsigned char sig[SIGNER_SIG_BYTES], err *e);

/*
 * True when sig is a valid signature of msg[0..len) by public key pk.
 */
bool signer_verify(const unsigned char pk[SIGNER_PK_BYTES],
                   const unsigned char *msg, size_t len,
                   const unsigned char sig[SIGNER_SIG_BYTES]);

/* The key id of public key pk into id (SIGNER_KEY_ID_LEN + 1 bytes). */
void signer_key_id_of(const unsigned char pk[SIGNER_PK_BYTES], char *id);

/*
 * Read a public key file (64 hex characters, optional trailing newline)
 * into pk. ST_CONFIG when malformed, ST_IO when unreadable.
 */
status signer_public_read(const char *path, unsigned char pk[SIGNER_PK_BYTES],
                          err *e);

#endif
