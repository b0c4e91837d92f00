/*
 * The keys that seal customer data at rest, as the dispatcher and the
 * command line use them: the master key (a seal_kms: a local key from a
 * file or the environment, or any KMS behind the same seam, seal.h) and
 * the tenants' data keys, stored wrapped in tenant_data_keys and held
 * unwrapped in a keyring in sodium_malloc'd memory.
 *
 * A case's personal part (its customer and the payload fields its
 * playbook marks personal, contracts/payload.h) is one sealed value,
 * cases.personal, bound to (tenant, case id, "personal"). It travels
 * between C and SQL as hex text (SQL: decode($n, 'hex'), encode(col,
 * 'hex')), so no statement ever carries it otherwise.
 *
 * Rotation without downtime: a new data key (keystore_rotate_tenant) is
 * a new row; a running dispatcher finds it at its next keystore_refresh
 * (every 5 s) and seals new cases under it, while older values keep
 * opening under the key id in their header. A master key rotation
 * (keystore_rewrap_all) rewraps the rows; a dispatcher whose master key
 * came from a file reads the file again when it meets keys wrapped by a
 * master key it does not hold, so replacing the file finishes the
 * rotation (docs/security.md, "Rotation").
 *
 * Not thread-safe: one thread uses a keystore (the dispatcher's loop, a
 * command). Statements run on the caller's connection, inside its
 * transaction when it has one.
 */
#ifndef TL_KEYSTORE_H
#define TL_KEYSTORE_H

#include <stdint.h>

#include "db.h"
#include "err.h"
#include "seal.h"

#define KEYSTORE_FIELD      "personal" /* the field of the associated data */
#define KEYSTORE_ENV_FILE   "TL_MASTER_KEY_FILE"
#define KEYSTORE_ENV_KEY    "TL_MASTER_KEY"
#define KEYSTORE_SOURCE_MAX 600

typedef struct keystore keystore;

/*
 * Open the master key: the file at path when path is neither NULL nor
 * "", else the file named by $TL_MASTER_KEY_FILE, else the 64 hex
 * characters of $TL_MASTER_KEY. No data key is loaded yet
 * (keystore_refresh). Errors: ST_CONFIG (none given, with how to make
 * one; a file that is missing, malformed or readable by others), ST_IO,
 * ST_NOMEM. *out is the caller's (keystore_destroy).
 */
status keystore_create(keystore **out, const char *path, err *e);

/*
 * A keystore over a master key the caller made (a KMS, or a second
 * local key in a rotation); it takes kms over (its destroy is called
 * with the keystore's). Errors: ST_NOMEM, ST_INTERNAL.
 */
status keystore_create_kms(keystore **out, const seal_kms *kms, err *e);

/* Wipe and free ks; NULL is a no-op. */
void keystore_destroy(keystore *ks);

/* The master key's id ("mk-…") and where it came from, for messages. */
const char *keystore_master_id(const keystore *ks);
const char *keystore_source(const keystore *ks);
const seal_kms *keystore_kms(const keystore *ks);

/*
 * Read tenant_data_keys and unwrap the keys the keyring lacks. When rows
 * are wrapped by another master key and this key came from a file, the
 * file is read again and, if it now holds that master key, the keystore
 * moves to it. *added (may be NULL): keys added; *foreign (may be NULL):
 * keys still wrapped by a master key this keystore does not hold (they
 * are left out; their values do not open here). Errors: ST_DB,
 * ST_UNAVAILABLE, the kms's unwrap error (a changed wrapped key).
 */
status keystore_refresh(keystore *ks, db *d, int *added, int *foreign, err *e);

/* Forget every data key and refresh: after a rollback that may have
 * undone a key this keystore made. Errors: keystore_refresh's. */
status keystore_reload(keystore *ks, db *d, err *e);

/* The data key id new values of tenant are sealed under; 0: none. */
uint32_t keystore_current(const keystore *ks, const char *tenant);

/*
 * Make sure tenant has a data key to seal with: one the database has, or
 * a new key 1 written in the caller's transaction (concurrent writers
 * agree: the first row stands). Errors: ST_DB, the kms's.
 */
status keystore_tenant_ready(keystore *ks, db *d, const char *tenant, err *e);

/*
 * Seal plain (NUL-terminated JSON text) as the personal part of case
 * case_id of tenant; *hex (caller frees) is the sealed value in hex.
 * Errors: ST_NOT_FOUND (no data key: keystore_tenant_ready first),
 * ST_TOO_LARGE, ST_NOMEM.
 */
status keystore_seal_hex(const keystore *ks, const char *tenant,
                         int64_t case_id, const char *plain, char **hex,
                         err *e);

/*
 * Open hex, the personal part of case case_id of tenant as SQL's
 * encode(personal, 'hex') gives it. A key id the keyring lacks makes it
 * refresh once (a key rotated in since). *plain (NUL-terminated) is freed
 * with keystore_plain_free. Errors: ST_INVALID (not a sealed value, or it
 * does not open: changed, or copied from another case), ST_UNAVAILABLE
 * (its data key is not available here: another master key), ST_DB.
 */
status keystore_open_hex(keystore *ks, db *d, const char *tenant,
                         int64_t case_id, const char *hex, char **plain,
                         err *e);

/* Wipe and free what keystore_open_hex returned; NULL is a no-op. */
void keystore_plain_free(char *plain);

/*
 * A new data key for tenant, numbered one above its highest, in the
 * caller's transaction; *key_id (may be NULL) receives its number.
 * Errors: ST_NOT_FOUND (no such tenant), ST_CONFLICT (another rotation
 * of the tenant at the same time), ST_DB, the kms's.
 */
status keystore_rotate_tenant(keystore *ks, db *d, const char *tenant,
                              uint32_t *key_id, err *e);

/*
 * Rewrap every data key wrapped by ks's master key under to, in the
 * caller's transaction; *n (may be NULL) receives how many. Sealed
 * values are not touched. Errors: ST_CONFLICT (a row is wrapped by a
 * third master key, or changed meanwhile), ST_DB, the kms's.
 */
status keystore_rewrap_all(keystore *ks, db *d, const seal_kms *to, int *n,
                           err *e);

#endif
