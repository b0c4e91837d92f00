/*
 * Webhooks: case events for banks, alerts for operators, POSTed with an
 * HMAC-SHA256 signature and retried with backoff.
 *
 * Every delivery is a console_deliveries row before anything is sent, one
 * per (webhook, event): an event that arrives twice (JetStream redelivers
 * until acked) is queued once, and a delivery is retried until a 2xx reply
 * or its last attempt. A receiver may still see a delivery twice (its reply
 * was lost), always with the same Twinline-Delivery id, so it can drop the
 * repeat. The headers and the signature are in docs/http.md.
 */
#ifndef TL_CONSOLE_HOOKS_H
#define TL_CONSOLE_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "db.h"
#include "err.h"

typedef struct console_hooks console_hooks;

typedef struct console_hooks_opts {
    int base_ms;    /* first retry after this; doubles per attempt (1 h max) */
    int attempts;   /* a delivery fails after this many attempts */
    int timeout_ms; /* one POST */
} console_hooks_opts;

/*
 * Queue event (JSON text) of type with id event_id for the active webhook
 * of owner (kind "tenant" or "operator"). *queued (may be NULL) says
 * whether a delivery was added (false: no webhook, or queued before).
 */
status console_hooks_enqueue(db *d, const char *kind, const char *owner,
                             const char *event_id, const char *type,
                             const char *body, bool *queued, err *e);

/*
 * The event id a case event is queued under: dispute-<id> for a reopen or
 * complaint, case-<id>-<type> for the rest (each happens once per case).
 * Writes into buf; false when the event has no case_id.
 */
bool console_hooks_event_id(const char *body, size_t len, char *buf, size_t cap,
                            char *tenant, size_t tcap, char *type, size_t ycap);

/*
 * Take in case events from the stream (after the dispatcher created it)
 * and deliver what is due, in a loop, until *stop. Runs on its own thread
 * with its own connection.
 */
status console_hooks_create(console_hooks **out, bus *b, const char *prefix,
                            const char *conninfo, const console_hooks_opts *o,
                            err *e);

/* One round: take in what has arrived (waiting up to wait_ms) and send
 * every due delivery. *sent (may be NULL) counts attempts made. */
status console_hooks_step(console_hooks *h, int wait_ms, int *sent, err *e);

void console_hooks_destroy(console_hooks *h);

/* Signature header value for body at timestamp ts with secret:
 * "v1=" + hex HMAC-SHA256(secret, ts "." body). buf of 68 bytes. */
void console_hooks_sign(const char *secret, const char *ts, const char *body,
                        size_t len, char buf[68]);

#endif
