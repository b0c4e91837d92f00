/*
 * The audit trail in PostgreSQL (schemas 011 and 015): appending records
 * in the transaction of the change they record, Ed25519-signed
 * checkpoints, and verifying the stored trail. The chain itself (hashing,
 * signing, finding what was changed) is audit.h's; this module is the
 * database around it. docs/security.md, "Audit trail", says what is
 * recorded.
 *
 * A record says who (a party: "tenant:jsbank", "operator:acme_bpo",
 * "worker:w007", "service:billing", "admin:alice"), which identity acted
 * (the NATS identity, the login name, or "-"), what (an action such as
 * "case.submit"), the subjects it touched (space-separated "kind:id"
 * tokens, at most one "case:<id>": "case:42 dispute:7"), details (a JSON
 * object), and when (the database's clock). Records never hold customer
 * data: the trail is append-only and could not be erased.
 *
 * Appending takes the chain's head lock until the caller's transaction
 * ends, so every appender (the dispatcher, billing, the command line)
 * appends one after the other; keep the time between the append and the
 * commit short.
 */
#ifndef TL_AUDITLOG_H
#define TL_AUDITLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "db.h"
#include "err.h"
#include "ids.h"
#include "nkey.h"

/* Who acted. */
typedef struct auditlog_who {
    char party[AUDIT_PARTY_MAX + 1];
    char identity[ID_MAX + 1];
} auditlog_who;

/*
 * Set *w to party "<role>:<id>" (role alone when id is NULL or "") and
 * identity (NULL or "": "-"). role is a lower-case word such as "tenant",
 * "operator", "worker", "service", "admin"; an id or identity that is not
 * a token (ids_token_valid) is recorded as "?" and "-".
 */
void auditlog_who_set(auditlog_who *w, const char *role, const char *id,
                      const char *identity);

/* The command line run by a person: party "admin:<login>" (the login name
 * of the user running it, "admin" when it is unknown), identity "-". */
void auditlog_who_admin(auditlog_who *w);

/*
 * Append one record in d's open transaction (between db_begin and
 * db_commit of the change it records). details is a JSON object's text in
 * any spelling (stored canonical: keys sorted, no spaces); subjects may be
 * "". Errors: ST_INVALID, ST_BAD_JSON, ST_WRONG_TYPE, ST_TOO_LARGE (the
 * record, saying which field), ST_NOMEM, and db_run's.
 */
status auditlog_append(db *d, const auditlog_who *who, const char *action,
                       const char *subjects, const char *details, err *e);

/*
 * Records collected while a batch runs and appended with one statement,
 * whatever their number (the dispatcher's hot path). Not thread-safe.
 */
typedef struct auditlog_batch auditlog_batch;

status auditlog_batch_create(auditlog_batch **out, err *e);

/* NULL is a no-op. */
void auditlog_batch_destroy(auditlog_batch *b);

/* Check and keep one record, as auditlog_append takes it. A record that
 * fails its check is not kept and b is unchanged. */
status auditlog_batch_add(auditlog_batch *b, const auditlog_who *who,
                          const char *action, const char *subjects,
                          const char *details, err *e);

int auditlog_batch_count(const auditlog_batch *b);

/* Forget what b holds (the batch rolled back). */
void auditlog_batch_clear(auditlog_batch *b);

/* Append what b holds in d's open transaction, in the order added, with
 * one statement (nothing when b is empty), and clear b. Errors: ST_NOMEM
 * and db_run's; b keeps its records then. */
status auditlog_batch_append(auditlog_batch *b, db *d, err *e);

/* ---- checkpoints ---- */

/*
 * The key that signs checkpoints: a credentials file (nkey.h) of role
 * "audit", made by auditlog_key_create. The public key (its "U..." form)
 * is what `twinline audit verify --pubkey` trusts.
 */
#define AUDITLOG_KEY_ROLE "audit"

/* Create the key file path (mode 0600, never overwriting: ST_CONFLICT)
 * for signer (a token naming who signs, e.g. "billing") and write its
 * public key to path.pub. pub (NKEY_PUBLIC_LEN + 1 bytes) receives it.
 * Errors: those of nkey_creds_write, ST_IO. */
status auditlog_key_create(const char *path, const char *signer, char *pub,
                           err *e);

/* Load the key of path into *out (the caller's: nkey_destroy). Errors:
 * those of nkey_creds_read; ST_CONFIG for a file of another role. */
status auditlog_key_load(const char *path, nkey **out, err *e);

typedef struct auditlog_checkpointed {
    int64_t seq;     /* the record the newest checkpoint of the key covers;
                        0: none, the trail is empty */
    int64_t checked; /* records checked since the key's previous one */
    bool signed_now; /* false: nothing was appended since that one */
} auditlog_checkpointed;

/*
 * Sign a checkpoint with key over the newest record, after checking the
 * records since key's previous checkpoint (or from the first): that each
 * links to the one before and matches its hash, and that the previous
 * checkpoint still matches its record. A trail that does not check is
 * not signed (ST_INVALID saying where; run audit verify), so a checkpoint
 * vouches only for records its signer saw intact. Runs its own
 * transaction. Errors: ST_INVALID, ST_NOMEM and db_run's.
 */
status auditlog_checkpoint(db *d, const nkey *key, auditlog_checkpointed *out,
                           err *e);

/* ---- verification ---- */

/*
 * Read the whole trail and its checkpoints and verify it (audit_verify),
 * trusting checkpoints only from the public keys signers[0..ns) (with
 * none, ns 0, the checkpoints are left out: only the chain and the head
 * are checked, and rep->vouched stays 0); also
 * compare its end with the chain's head (audit_head), which finds
 * records deleted from the end while the head was left as it was. *rep
 * is filled; ST_OK whatever it found. Errors: ST_NOMEM and db_run's.
 */
status auditlog_verify(db *d, const char *const *signers, size_t ns,
                       audit_report *rep, err *e);

#endif
