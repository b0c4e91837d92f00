/*
 * The nats-server authorization of a Twinline installation: which identity
 * (an nkey user) may publish and subscribe to what.
 *
 * Every party connects as its own nkey user in the server's one account and
 * is confined by a permission block generated here (nats-server 2.9 has no
 * permission templates, so each user gets its own block). The rules, for
 * installation prefix <p> and identity <id> (docs/security.md has them as
 * tables and says why users, not accounts):
 *
 *   every party   subscribes to its own inbox _INBOX_<id>.> and connects
 *                 with that inbox prefix (bus_opts.inbox_prefix), so no
 *                 one can read another party's replies.
 *   dispatcher    publishes <p>.worker.>, <p>.stats.>, <p>.evt.>,
 *                 $JS.API.> and replies to what it received; subscribes to
 *                 <p>.api.>, <p>.agent.>, <p>.ops.>, <p>.admin.>.
 *   billing       replies; creates, updates and reads the event stream
 *                 <P>_EVENTS and its own consumer "billing" on it, fetches
 *                 and acknowledges from it; nothing else of $JS.API.
 *   tenant T      publishes <p>.api.T.>; reads its events consumer
 *                 events_T (info, next, ack) but cannot create, change or
 *                 delete it.
 *   console       publishes <p>.api.*.>, <p>.ops.*.> (the requests of the
 *                 keys it checked), <p>.alerts.*; reads its own consumer
 *                 console_hooks (info, create, next, ack); subscribes to
 *                 <p>.stats.dispatcher and <p>.alerts.*.
 *   operator O    publishes <p>.ops.O.> (requests carry the operator:
 *                 <p>.ops.<operator>.task.priority).
 *   worker W      publishes <p>.agent.W.>; subscribes to <p>.worker.W.>.
 *   admin         publishes <p>.api.>, <p>.ops.> (the installation's own
 *                 command line, which files requests for any tenant) and
 *                 <p>.admin.> (its notices to the dispatcher); subscribes
 *                 to <p>.stats.>.
 *
 * Pure: no I/O. The caller writes the text to a file that the server's
 * configuration includes and reloads the server (nats-server
 * --signal reload=PID or SIGHUP); connected clients of identities that are
 * gone are cut off by the server, the others keep their connections.
 */
#ifndef TL_NATSAUTH_H
#define TL_NATSAUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "ids.h"
#include "nkey.h"

#define NATSAUTH_MAX_IDENTITIES 100000
#define NATSAUTH_LIST_MAX       (32u * 1024 * 1024) /* bytes of an id list */
#define NATSAUTH_SUBJECT_MAX    192
#define NATSAUTH_MAX_SUBJECTS   8

typedef enum natsauth_role {
    NATSAUTH_DISPATCHER,
    NATSAUTH_BILLING,
    NATSAUTH_TENANT,
    NATSAUTH_OPERATOR,
    NATSAUTH_WORKER,
    NATSAUTH_ADMIN,
    NATSAUTH_CONSOLE,
    NATSAUTH__ROLES
} natsauth_role;

/* One identity. party is the tenant, operator or worker it speaks for;
 * "-" for dispatcher, billing and admin, which speak for the installation. */
typedef struct natsauth_identity {
    char id[ID_MAX + 1];
    natsauth_role role;
    char party[ID_MAX + 1];
    char public_key[NKEY_PUBLIC_LEN + 1];
} natsauth_identity;

/* What one identity may do; subjects are NUL-terminated strings. */
typedef struct natsauth_perms {
    int npub, nsub;
    char pub[NATSAUTH_MAX_SUBJECTS][NATSAUTH_SUBJECT_MAX];
    char sub[NATSAUTH_MAX_SUBJECTS][NATSAUTH_SUBJECT_MAX];
    bool allow_responses; /* may answer requests it received */
} natsauth_perms;

/* "dispatcher", "billing", "tenant", "operator", "worker", "admin",
 * "console". */
const char *natsauth_role_name(natsauth_role r);

/* The role named s; ST_INVALID (listing the roles) for anything else. */
status natsauth_role_parse(const char *s, natsauth_role *out, err *e);

/*
 * Check one identity: id a token, role known, party a token for tenant,
 * operator and worker and "-" for the others, public_key a user nkey.
 * Errors: ST_INVALID naming the identity and the field.
 */
status natsauth_identity_check(const natsauth_identity *id, err *e);

/* The inbox prefix of identity id ("_INBOX_<id>") into buf. */
void natsauth_inbox_prefix(const char *id, char *buf, size_t cap);

/* The JetStream stream of the installation's events ("<P>_EVENTS", the
 * prefix in upper case) into buf. */
void natsauth_stream_name(const char *prefix, char *buf, size_t cap);

/* The durable consumer a tenant reads its case events from
 * ("events_<tenant>", filter <p>.evt.<tenant>.>) into buf. */
void natsauth_events_consumer(const char *tenant, char *buf, size_t cap);

/*
 * The permissions of identity id (checked) under prefix into *out.
 * Errors: ST_INVALID (identity or prefix).
 */
status natsauth_permissions(const char *prefix, const natsauth_identity *id,
                            natsauth_perms *out, err *e);

/*
 * The authorization block for identities ids[0..n) under prefix, as
 * nats-server configuration text: `authorization { users = [ ... ] }`.
 * *out is the caller's (free). Refuses (ST_INVALID) an empty list (a
 * server without users would let anyone in), more than
 * NATSAUTH_MAX_IDENTITIES, a bad identity, and a repeated identity or
 * public key (each identity needs its own key). ST_NOMEM.
 */
status natsauth_config(const char *prefix, const natsauth_identity *ids,
                       size_t n, char **out, err *e);

/*
 * As natsauth_config, with one more user of public key probe_key (a user
 * nkey no identity has) that may neither publish nor subscribe: whoever
 * made the text holds its seed and, once a connection with it succeeds,
 * knows the server applied this text (twinline nats-auth --reload waits
 * for that). probe_key NULL is natsauth_config. ST_INVALID for a bad key
 * or one an identity has.
 */
status natsauth_config_probed(const char *prefix, const natsauth_identity *ids,
                              size_t n, const char *probe_key, char **out,
                              err *e);

/*
 * Parse an identity list: one identity per line,
 *   <id> <role> <party> <public key>
 * separated by spaces or tabs; blank lines and lines starting with # are
 * skipped. *out (caller frees) and *n are written only on success. Errors
 * name the line: ST_INVALID (a bad field, a repeated identity or key, not
 * four fields, a line over 512 bytes, a NUL byte), ST_TOO_LARGE (over
 * NATSAUTH_LIST_MAX bytes or NATSAUTH_MAX_IDENTITIES identities), ST_NOMEM.
 * An empty list is valid here (natsauth_config refuses it).
 */
status natsauth_list_parse(const char *text, size_t len,
                           natsauth_identity **out, size_t *n, err *e);

#endif
