/*
 * `twinline keys`: the keys that seal customer data at rest
 * (common/keystore.h, docs/security.md):
 *
 *   keys init FILE              make a master key file (mode 0600)
 *   keys list                   data keys, their master key, cases under each
 *   keys rotate [--tenant T]... a new data key per tenant (all without
 * --tenant) keys rotate --master FILE   rewrap every data key under the master
 * key in FILE (made when missing) keys reseal [--tenant T] [--batch N] seal
 * older cases again under their tenant's newest data key, with progress
 *
 * All of it runs while dispatchers serve: they pick up a new data key
 * within 5 s, keep the keys they hold across a master key rotation, and
 * a reseal changes a case only if it still holds what was read.
 */
#ifndef TL_CMD_KEYS_H
#define TL_CMD_KEYS_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "db.h"
#include "err.h"
#include "keystore.h"

/* Print every data key (tenant, id, master key, made, rewrapped, cases
 * sealed under it) and the cases that are erased or still unsealed. */
status cmd_keys_list(db *d, FILE *out, err *e);

/*
 * A new data key for each of tenants[0..n) (every tenant when n is 0) in
 * one transaction, wrapped by ks's master key; a line per tenant on out.
 * Errors: ST_NOT_FOUND (an unknown tenant: nothing is rotated),
 * ST_CONFLICT, ST_DB.
 */
status cmd_keys_rotate(db *d, keystore *ks, const char *const *tenants, int n,
                       FILE *out, err *e);

/*
 * Rewrap every data key from ks's master key to the master key in the
 * file new_file (made when it does not exist), in one transaction; says
 * on out what to do next. Errors: ST_CONFIG (new_file unusable, or the
 * same master key), ST_CONFLICT, ST_DB, ST_IO.
 */
status cmd_keys_rotate_master(db *d, keystore *ks, const char *new_file,
                              FILE *out, err *e);

/* What a reseal did. */
typedef struct cmd_keys_resealed {
    int64_t resealed; /* sealed again under the newest key */
    int64_t sealed;   /* a plain-text customer sealed for the first time */
    int64_t skipped;  /* changed meanwhile (erased), left as they were */
} cmd_keys_resealed;

/*
 * Seal again, batch cases per transaction, every case of tenant (NULL or
 * "": every tenant) that is sealed under an older data key than its
 * tenant's newest, and seal the customers of cases from before schema 014
 * that hold them in plain text; a progress line per batch on out.
 * Errors: ST_UNAVAILABLE (a value under a key ks cannot unwrap),
 * ST_INVALID (a value that does not open), ST_DB.
 */
status cmd_keys_reseal(db *d, keystore *ks, const char *tenant, int batch,
                       FILE *out, cmd_keys_resealed *done, err *e);

/* The `keys` command; argv[0] is "keys". Returns the exit code. */
int cmd_keys(int argc, char **argv, const config *cfg);

#endif
