/*
 * The admin command line's notices to the dispatcher (<p>.admin.<verb>,
 * docs/protocol.md, "Admin notices"), one encoder and one decoder each.
 * Only an admin identity may publish them (natsauth.h); the dispatcher
 * still acts only on what PostgreSQL says, so a notice is a prompt to look,
 * never an order.
 */
#ifndef TL_ADMIN_MSG_H
#define TL_ADMIN_MSG_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "ids.h"

#define ADMIN_MSG_MAX 1024 /* bytes of a notice */

/* identity.revoked: the identity id, its role and its party ("-" when it
 * speaks for the installation). */
typedef struct admin_revoked {
    char identity[ID_MAX + 1];
    char role[16];
    char party[ID_MAX + 1];
} admin_revoked;

/* {"identity": "...", "role": "...", "party": "..."}; *out is the caller's
 * (free). ST_NOMEM. */
status admin_msg_revoked_encode(const admin_revoked *r, char **out, size_t *len,
                                err *e);

/* Decode a notice strictly (unknown fields, wrong types and ids that are
 * not tokens are refused, naming the field). */
status admin_msg_revoked_decode(const char *buf, size_t len, admin_revoked *out,
                                err *e);

/* The dispatcher's answer: {"ok": true, "worker_released": B}, B telling
 * whether a worker's offers and tasks go back to the queue. */
status admin_msg_revoked_reply(bool released, char **out, size_t *len, err *e);

/* Read that answer (or an error reply: *ok false, code set). */
status admin_msg_revoked_reply_decode(const char *buf, size_t len, bool *ok,
                                      bool *released, char code[48], err *e);

#endif
