/*
 * The lines of nats-server's log that say a client was refused: a publish
 * or a subscription its permissions do not allow, or a connection whose
 * credentials the server refused.
 *
 * nats-server 2.9.10 tells a client only about its own violations (and
 * only asynchronously), and sends no system-account advisory for them; the
 * one place that names every client's is the server's log (checked on
 * Debian's 2.9.10, docs/security.md). The dispatcher follows that file and
 * records what this parser finds. The lines look like
 *
 *   [4423] 2026/12/02 13:45:29.427064 [ERR] 127.0.0.1:60096 - cid:16 -
 *     "v3.4.1:C:w001" - Publish Violation - Nkey "UAB...", Subject "tl.x"
 *   ... - Subscription Violation - Nkey "UAB...", Subject ">", SID 3
 *   ... - authentication error - Nkey "UAB..."
 *
 * (one line each). The connection's name and the subject are the client's
 * own text, quoted by the server with backslash escapes, so the parser
 * reads each quoted field by those escapes: a client cannot make its name
 * or subject look like another field.
 *
 * Pure: no I/O, no allocation.
 */
#ifndef TL_NATSLOG_H
#define TL_NATSLOG_H

#include <stdbool.h>
#include <stddef.h>

#include "nkey.h"

#define NATSLOG_SUBJECT_MAX 256  /* longest subject kept, without the NUL */
#define NATSLOG_CLIENT_MAX  128  /* longest connection name kept */
#define NATSLOG_LINE_MAX    4096 /* longer lines are not the server's */

typedef enum natslog_kind {
    NATSLOG_PUBLISH,   /* a publish the permissions refused */
    NATSLOG_SUBSCRIBE, /* a subscription the permissions refused */
    NATSLOG_AUTH       /* a connection whose credentials were refused */
} natslog_kind;

typedef struct natslog_event {
    natslog_kind kind;
    /* The client's user nkey ("U...", checked), or "" when it gave none or
     * was a user of another kind. */
    char public_key[NKEY_PUBLIC_LEN + 1];
    /* The refused subject, unescaped and cut to NATSLOG_SUBJECT_MAX bytes;
     * "" for NATSLOG_AUTH. */
    char subject[NATSLOG_SUBJECT_MAX + 1];
    /* The connection's name as the server shows it (cnats puts its version
     * first: "v3.4.1:C:twinline-agent"), cut to NATSLOG_CLIENT_MAX; "" when
     * it has none. */
    char client[NATSLOG_CLIENT_MAX + 1];
} natslog_event;

/* "publish", "subscribe", "auth". */
const char *natslog_kind_name(natslog_kind k);

/*
 * Parse one log line, line[0..len) without its newline (it need not be
 * NUL-terminated). True, with *out filled, when it is a refusal the server
 * logged; false for every other line (out is then undefined).
 */
bool natslog_parse(const char *line, size_t len, natslog_event *out);

#endif
