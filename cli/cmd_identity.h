/*
 * NATS identities kept in PostgreSQL (table identities, schema 011/013)
 * and the nats-server authorization made from them (docs/security.md,
 * docs/cli.md):
 *
 *   twinline identity create ROLE [PARTY] [--id ID] [--out FILE] [--apply]
 *   twinline identity list [--role ROLE] [--party P] [--all]
 *   twinline identity revoke ID [--apply]
 *   twinline identity rotate ID [--out FILE] [--apply]
 *   twinline nats-auth [--write FILE] [--reload PIDFILE]
 *   twinline load --identities DIR FILE...   (cli.c, via cmd_identity_workers)
 *
 * An identity is an id, a role (natsauth.h) and the party it speaks for,
 * with one active Ed25519 key at a time; its credentials file (nkey.h,
 * mode 0600) holds the seed and is written only here, never stored.
 * Identity ids are never given out twice. Each create, rotate and revoke
 * appends its audit record (identity.create, identity.rotate,
 * identity.revoke; auditlog.h) in the transaction of the change, as the
 * admin running the command, with the public keys and never a seed; a
 * command refused records nothing. A change reaches nats-server
 * when its authorization is regenerated and the server reloaded
 * (cmd_nats_auth_apply, or --apply); revoking a worker then tells the
 * dispatcher, which puts its offers and tasks back in the queue at once.
 */
#ifndef TL_CMD_IDENTITY_H
#define TL_CMD_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "admin_msg.h"
#include "config.h"
#include "db.h"
#include "err.h"
#include "nkey.h"

#define CMD_IDENTITY_PATH_MAX 500 /* fits config.creds */

/* An identity just made (or given a new key). */
typedef struct cmd_identity_made {
    char id[ID_MAX + 1];
    char role[NKEY_ROLE_MAX + 1];
    char party[ID_MAX + 1]; /* "-" for the roles without a party */
    char public_key[NKEY_PUBLIC_LEN + 1];
    char path[CMD_IDENTITY_PATH_MAX]; /* its credentials file */
} cmd_identity_made;

/*
 * Make an identity of role for party ("-" or NULL for dispatcher, billing,
 * console and admin), with id (NULL: "<role>-<party>", or "<role>" for the
 * roles without a party, with "-2", "-3", ... when taken) and its
 * credentials file at out (NULL: "<id>.creds" in the current directory;
 * an existing file is refused). The row and the file are made together:
 * when either fails, neither stays. Errors: ST_INVALID (unknown role,
 * party missing or not a token, a party given to a role without one, a
 * bad id), ST_NOT_FOUND (no such tenant, operator or worker), ST_CONFLICT
 * (the id was used before, the file exists), ST_IO, ST_DB.
 */
status cmd_identity_create(db *d, const char *role, const char *party,
                           const char *id, const char *out,
                           cmd_identity_made *made, err *e);

/*
 * Give identity id a new key: the active key is revoked and a new one
 * made in one transaction, and the credentials file out (NULL:
 * "<id>.creds") is replaced by the new one once that committed. Errors:
 * ST_NOT_FOUND (no such identity), ST_INVALID (it is revoked),
 * ST_CONFLICT (revoked meanwhile by another command), ST_IO, ST_DB.
 */
status cmd_identity_rotate(db *d, const char *id, const char *out,
                           cmd_identity_made *made, err *e);

/*
 * Revoke identity id's active key; *r (may be NULL) receives what to tell
 * the dispatcher. Errors: ST_NOT_FOUND, ST_INVALID (already revoked),
 * ST_CONFLICT (revoked meanwhile by another command), ST_DB.
 */
status cmd_identity_revoke(db *d, const char *id, admin_revoked *r, err *e);

/* Print the identities (role and party filter when not NULL or "",
 * revoked keys too when all) as a table on out. */
status cmd_identity_list(db *d, const char *role, const char *party, bool all,
                         FILE *out, err *e);

/*
 * Make identities for the workers of the configuration document at path
 * (its "workers" ids) that never had one, their credentials files in
 * directory dir ("worker-<w>.creds"); *made receives how many. For twinline
 * load --identities; the document was loaded already. Errors: those of
 * cmd_identity_create, ST_IO, ST_BAD_JSON.
 */
status cmd_identity_workers(db *d, const char *path, const char *dir, int *made,
                            err *e);

/* At most this many nats-servers (a cluster's nodes) per reload. */
#define CMD_NATS_AUTH_SERVERS_MAX 16

/*
 * The nats-server authorization of every active identity under prefix
 * (natsauth_config_probed, with probe_key when not NULL) into *out (the
 * caller's, free); *n (may be NULL) receives how many identities. When
 * the environment names a file in TL_NATS_AUTH_EXTRA, its users (one
 * "{ ... }" entry per line, blank and # lines allowed; the file mode 0600
 * or stricter for writes) are added to the list as they are: users that
 * are not Twinline identities, such as a test's observer, which would
 * otherwise be lost at every regeneration. Errors: ST_INVALID (no active
 * identity: the message says which to create; an extra file line that is
 * not one entry), ST_CONFIG (the extra file is missing or writable by
 * others), ST_IO, ST_TOO_LARGE, ST_DB, ST_NOMEM.
 */
status cmd_nats_auth_text(db *d, const char *prefix, const char *probe_key,
                          char **out, size_t *n, err *e);

/*
 * Write the authorization to file (replaced in one step, mode 0600) and,
 * when pidfile is not NULL, reload the nats-server whose process id it
 * holds (SIGHUP, as nats-server --signal reload=PID does) and wait until
 * the server applied it: a one-time key in the file connects on each of
 * cfg's servers in turn (up to 10 s each). pidfile may list the pid files
 * of a cluster's nodes separated by commas (at most
 * CMD_NATS_AUTH_SERVERS_MAX, as the servers of cfg): every one is
 * reloaded. What was done is printed on out. Errors: those of
 * cmd_nats_auth_text, ST_IO, ST_CONFIG (no such process, or not
 * nats-server; a bad list), ST_TIMEOUT (a server did not apply it),
 * ST_UNAVAILABLE.
 */
status cmd_nats_auth_apply(const config *cfg, db *d, const char *file,
                           const char *pidfile, FILE *out, err *e);

/*
 * Tell the dispatcher that r's identity was revoked (over cfg's NATS, as
 * cfg's identity: an admin's), and whether it put a worker's offers and
 * tasks back in the queue (*released). Errors: ST_UNAVAILABLE (no
 * dispatcher answers), ST_TIMEOUT, those of the connection.
 */
status cmd_identity_notify_revoked(const config *cfg, const admin_revoked *r,
                                   bool *released, err *e);

int cmd_identity(int argc, char **argv, const config *cfg);
int cmd_nats_auth(int argc, char **argv, const config *cfg);

#endif
