/*
 * Sealing customer data at rest: XChaCha20-Poly1305 (libsodium's
 * crypto_aead_xchacha20poly1305_ietf) under per-tenant data keys, which are
 * themselves wrapped by a master key that never enters the database.
 *
 * A sealed value is binary:
 *
 *   "TS" | version 1 | data key id (uint32, big-endian) | nonce (24 bytes)
 *   | ciphertext | tag (16 bytes)
 *
 * (SEAL_OVERHEAD bytes more than the plaintext). The associated data binds
 * it to its place: the header above, the tenant, the row's id (the case id)
 * and the field's name, so a value copied to another row, tenant or field,
 * or changed in any byte, does not open.
 *
 * Keys: each tenant has data keys numbered 1, 2, ...; new values are sealed
 * under the tenant's highest, and old values keep opening under the key id
 * in their header, so rotating a data key needs no rewrite. A data key is
 * stored only wrapped (seal_wrapped, a row of tenant_data_keys) by a master
 * key behind the seal_kms interface; seal_rewrap moves a wrapped key to a
 * new master key without touching the sealed data.
 *
 * The KMS seam: seal_kms is a wrap/unwrap pair. The local one here keeps a
 * 32-byte master key read from a file (hex, mode 0600) or an environment
 * variable. A cloud KMS or Vault's transit engine implements the same pair
 * with its Encrypt/Decrypt calls (the tenant and key id as the encryption
 * context), so the master key never leaves it; docs/security.md says more.
 *
 * Secrets (master and data keys) are in sodium_malloc'd memory and wiped.
 * Thread-safety: a keyring may be used by many threads once loaded (only
 * seal_keyring_add changes it, and must not run concurrently with use).
 */
#ifndef TL_SEAL_H
#define TL_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ids.h"

#define SEAL_KEY_BYTES     32
#define SEAL_HEADER_BYTES  31
#define SEAL_OVERHEAD      (SEAL_HEADER_BYTES + 16)
#define SEAL_PLAIN_MAX     (1u << 20) /* largest value sealed, bytes */
#define SEAL_MASTER_ID_LEN 19         /* "mk-" + 16 hex, without the NUL */
#define SEAL_WRAPPED_MAX   128        /* bytes of a wrapped data key */

/* Where a sealed value belongs: its associated data. */
typedef struct seal_ad {
    const char *tenant; /* a token */
    int64_t row_id;     /* the case id */
    const char *field;  /* "customer.name", ... (1-64 bytes) */
} seal_ad;

/* A data key as stored: wrapped by the master key master_id. */
typedef struct seal_wrapped {
    char tenant[ID_MAX + 1];
    uint32_t key_id; /* 1, 2, ... per tenant */
    char master_id[SEAL_MASTER_ID_LEN + 1];
    unsigned char blob[SEAL_WRAPPED_MAX];
    size_t len;
} seal_wrapped;

/*
 * The master key seam. wrap seals dk (SEAL_KEY_BYTES) for (tenant, key_id)
 * into out (at most SEAL_WRAPPED_MAX bytes, *out_len); unwrap reverses it
 * and must refuse a blob made for another tenant or key id. id returns a
 * stable name of the master key (recorded with each wrapped key). destroy
 * (may be NULL) frees ctx.
 */
typedef struct seal_kms {
    const char *(*id)(void *ctx);
    status (*wrap)(void *ctx, const unsigned char *dk, const char *tenant,
                   uint32_t key_id, unsigned char *out, size_t *out_len,
                   err *e);
    status (*unwrap)(void *ctx, const unsigned char *blob, size_t len,
                     const char *tenant, uint32_t key_id, unsigned char *dk,
                     err *e);
    void (*destroy)(void *ctx);
    void *ctx;
} seal_kms;

/*
 * A local master key from the file at path: 64 hex characters and an
 * optional newline, mode 0600 or stricter (refused otherwise, saying to
 * chmod 600 it). *out is the caller's (seal_kms_destroy). Errors:
 * ST_CONFIG (missing, malformed, readable by others), ST_IO, ST_NOMEM.
 */
status seal_kms_local_file(seal_kms *out, const char *path, err *e);

/* A local master key from environment variable name (64 hex characters).
 * Errors: ST_CONFIG (unset or malformed), ST_NOMEM. */
status seal_kms_local_env(seal_kms *out, const char *name, err *e);

/* Create a new random master key file at path (mode 0600, never
 * overwriting: ST_CONFLICT). id (SEAL_MASTER_ID_LEN + 1, may be NULL)
 * receives its id. Errors: ST_CONFLICT, ST_IO. */
status seal_master_keygen(const char *path, char *id, err *e);

/* Free what k holds; a zeroed seal_kms is a no-op. */
void seal_kms_destroy(seal_kms *k);

/* A new random data key key_id for tenant, wrapped by kms into *out.
 * Errors: ST_INVALID (tenant, key_id 0), the kms's. */
status seal_dk_new(const seal_kms *kms, const char *tenant, uint32_t key_id,
                   seal_wrapped *out, err *e);

/*
 * Unwrap in with from and wrap the same data key with to into *out: what
 * rotating the master key does to each row of tenant_data_keys. The sealed
 * data is unchanged and keeps opening. Errors: those of the kms's.
 */
status seal_rewrap(const seal_kms *from, const seal_kms *to,
                   const seal_wrapped *in, seal_wrapped *out, err *e);

typedef struct seal_keyring seal_keyring;

/* An empty keyring unwrapping with kms (borrowed: it must outlive the
 * keyring). Errors: ST_NOMEM, ST_INTERNAL (libsodium unusable). */
status seal_keyring_create(seal_keyring **out, const seal_kms *kms, err *e);

/* Wipe and free kr; NULL is a no-op. */
void seal_keyring_destroy(seal_keyring *kr);

/*
 * Unwrap w and keep its data key. Errors: ST_CONFLICT (w was wrapped by
 * another master key than the keyring's: rewrap it first; or this tenant
 * and key id are already there with another key), the kms's unwrap error
 * (a wrapped key that was changed), ST_NOMEM.
 */
status seal_keyring_add(seal_keyring *kr, const seal_wrapped *w, err *e);

/* The highest key id of tenant (the one seal_value uses), 0 when none. */
uint32_t seal_keyring_current(const seal_keyring *kr, const char *tenant);

/*
 * Seal plain[0..len) for ad under ad->tenant's current data key. *out
 * (caller frees) holds *out_len = len + SEAL_OVERHEAD bytes. Errors:
 * ST_NOT_FOUND (the tenant has no data key), ST_INVALID (ad), ST_TOO_LARGE
 * (over SEAL_PLAIN_MAX), ST_NOMEM.
 */
status seal_value(const seal_keyring *kr, const seal_ad *ad, const void *plain,
                  size_t len, unsigned char **out, size_t *out_len, err *e);

/*
 * Open a sealed value for ad. *out (NUL-terminated for convenience, caller
 * frees with seal_plain_free) holds *out_len plaintext bytes. Errors:
 * ST_INVALID (not a sealed value: too short, wrong magic or version; or it
 * does not open: changed, or made for another row, tenant or field),
 * ST_NOT_FOUND (its key id is not in the keyring), ST_NOMEM.
 */
status seal_open(const seal_keyring *kr, const seal_ad *ad,
                 const unsigned char *sealed, size_t len, char **out,
                 size_t *out_len, err *e);

/* The data key id in a sealed value's header; false when it has none. */
bool seal_key_id_of(const unsigned char *sealed, size_t len, uint32_t *id);

/* Wipe and free a plaintext seal_open returned; NULL is a no-op. */
void seal_plain_free(char *p, size_t len);

#endif
