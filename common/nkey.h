/*
 * NATS nkeys: Ed25519 identities in the text form nats-server understands,
 * and the credentials file that holds one.
 *
 * A user nkey's public key is "U" followed by 55 more base32 characters
 * (RFC 4648 alphabet, no padding) of [0xA0] + public key (32 bytes) +
 * CRC-16/XMODEM of those 33 bytes, little-endian; its seed is "SU..." (58
 * characters) of [0x95, 0x00] + seed (32 bytes) + CRC. libsodium makes and
 * uses the keys (crypto_sign_seed_keypair); cnats signs the server's nonce
 * with the seed it reads from the credentials file itself.
 *
 * Secrets (the seed and the Ed25519 secret key) live only in
 * sodium_malloc'd memory and are wiped when freed; buffers that held the
 * seed's text are wiped too.
 *
 * The credentials file (see nkey_creds_write) is text with "key: value"
 * lines naming the identity, then the seed between the marker lines nats
 * tools use, so cnats's natsOptions_SetNKeyFromSeed reads it unchanged:
 *
 *   # Twinline credentials for identity w007 (role worker, party w007).
 *   identity: w007
 *   role: worker
 *   party: w007
 *   public_key: UAB...
 *
 *   -----BEGIN USER NKEY SEED-----
 *   SUA...
 *   ------END USER NKEY SEED------
 *
 * It is created with mode 0600 and refused when the group or others may
 * read or write it.
 */
#ifndef TL_NKEY_H
#define TL_NKEY_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "ids.h"

#define NKEY_PUBLIC_LEN 56 /* characters of "U...", without the NUL */
#define NKEY_SEED_LEN   58 /* characters of "SU...", without the NUL */
#define NKEY_PK_BYTES   32
#define NKEY_SIG_BYTES  64
#define NKEY_CREDS_MAX  4096 /* largest credentials file accepted, bytes */
#define NKEY_ROLE_MAX   16   /* longest role name, without the NUL */

typedef struct nkey nkey;

/* A fresh random identity; *out is the caller's (nkey_destroy).
 * Errors: ST_NOMEM, ST_INTERNAL (libsodium unusable). */
status nkey_generate(nkey **out, err *e);

/*
 * The identity of a seed string ("SU..."). Errors (ST_INVALID, saying
 * which): wrong length, a character outside base32, a bad checksum, a
 * seed of another kind (account "SA...", operator "SO..."); ST_NOMEM.
 */
status nkey_from_seed(nkey **out, const char *seed, err *e);

/* Wipe and free k; NULL is a no-op. */
void nkey_destroy(nkey *k);

/* The public key "U..." (NUL-terminated). Borrowed from k. */
const char *nkey_public(const nkey *k);

/* The raw Ed25519 public key. Borrowed from k. */
const unsigned char *nkey_public_raw(const nkey *k);

/*
 * Write the seed string and a NUL into buf (at least NKEY_SEED_LEN + 1
 * bytes). The caller keeps buf in sodium_malloc'd memory and wipes it.
 */
void nkey_seed_string(const nkey *k, char *buf);

/* Detached Ed25519 signature of msg[0..len). ST_INTERNAL on failure. */
status nkey_sign(const nkey *k, const unsigned char *msg, size_t len,
                 unsigned char sig[NKEY_SIG_BYTES], err *e);

/*
 * Decode and check a public key string ("U..."); pk (may be NULL) receives
 * the raw key. Errors as nkey_from_seed, all ST_INVALID; a seed given where
 * a public key belongs is named as such (so it is not echoed back).
 */
status nkey_public_decode(const char *pub, unsigned char pk[NKEY_PK_BYTES],
                          err *e);

/* True when sig is pub's valid signature of msg[0..len); false for a
 * malformed pub as well. */
bool nkey_verify(const char *pub, const unsigned char *msg, size_t len,
                 const unsigned char sig[NKEY_SIG_BYTES]);

/* What a credentials file says about its identity. */
typedef struct nkey_creds {
    char identity[ID_MAX + 1];
    char role[NKEY_ROLE_MAX + 1];
    char party[ID_MAX + 1];
    char public_key[NKEY_PUBLIC_LEN + 1];
    nkey *key; /* owned: nkey_creds_clear frees it */
} nkey_creds;

/*
 * Create the credentials file path for k (mode 0600, O_EXCL: an existing
 * file is ST_CONFLICT, never overwritten). identity and party are tokens
 * (ids_token_valid); role is a lower-case word (its meaning is the caller's:
 * see natsauth.h). Errors: ST_INVALID, ST_CONFLICT, ST_IO, ST_NOMEM.
 */
status nkey_creds_write(const char *path, const nkey *k, const char *identity,
                        const char *role, const char *party, err *e);

/*
 * Parse a credentials file's text (len bytes, need not be NUL-terminated)
 * into *out. Every field is required once; unknown fields, a seed whose
 * public key differs from public_key, and more than NKEY_CREDS_MAX bytes
 * are refused, with the line number. On error *out is left cleared.
 * Errors: ST_INVALID, ST_MISSING_FIELD, ST_UNKNOWN_FIELD, ST_TOO_LARGE,
 * ST_NOMEM.
 */
status nkey_creds_parse(const char *text, size_t len, nkey_creds *out, err *e);

/*
 * Read and parse the credentials file at path. Refuses (ST_CONFIG) a file
 * that the group or others may read or write, saying to chmod 600 it, and
 * one that is not a regular file. The text is read into sodium_malloc'd
 * memory and wiped. Errors: those of nkey_creds_parse, ST_CONFIG, ST_IO.
 */
status nkey_creds_read(const char *path, nkey_creds *out, err *e);

/* Free what out holds (the key) and zero it; safe on a cleared struct. */
void nkey_creds_clear(nkey_creds *c);

/*
 * The credentials files of a directory, by the role and party they name:
 * for programs that connect as many identities (the agent's simulated
 * workers, the feed's tenants). Every "*.creds" file in the directory is
 * read and checked (nkey_creds_read); its seed is not kept.
 */
typedef struct nkey_dir nkey_dir;

/*
 * Index the directory dir into *out (caller's, nkey_dir_close). Errors:
 * ST_CONFIG for a directory that cannot be read or a file in it that
 * nkey_creds_read refuses (the message names it and the fix), ST_NOMEM.
 */
status nkey_dir_open(nkey_dir **out, const char *dir, err *e);

/*
 * The path of the one file of (role, party) into *path (borrowed from d).
 * ST_NOT_FOUND when there is none (the message says how to make it),
 * ST_CONFLICT when two files name them (a revoked identity's file left
 * beside its successor: the message names both).
 */
status nkey_dir_find(const nkey_dir *d, const char *role, const char *party,
                     const char **path, err *e);

/* Free d; NULL is a no-op. */
void nkey_dir_close(nkey_dir *d);

#endif
