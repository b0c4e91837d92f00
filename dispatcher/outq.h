/*
 * The dispatcher's post-commit queue: replies, offers and notices queued
 * while a batch's transaction runs and published only after it commits
 * (dsp_outq_flush), or dropped with a rollback (dsp_outq_discard), so a
 * message never announces something the database does not hold and a
 * retried batch never answers twice.
 *
 * Not thread-safe: only the dispatcher's loop thread uses it. Every body
 * handed over is owned by the queue from then on, also when queuing fails.
 */
#ifndef TL_OUTQ_H
#define TL_OUTQ_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "dsp.h"
#include "err.h"

typedef struct dsp_outq dsp_outq;

/* A queue for the installation with prefix (copied); *out is the
 * caller's (dsp_outq_destroy). */
status dsp_outq_create(dsp_outq **out, const char *prefix, err *e);

/* Drop what is queued and free q; NULL is a no-op. */
void dsp_outq_destroy(dsp_outq *q);

/* Queue body for subject (copied). body NULL is ST_NOMEM (an encoder that
 * ran out of memory). */
status dsp_outq_send(dsp_outq *q, const char *subject, char *body, err *e);

/* Queue body as the reply to m; dropped when m wants no reply. */
status dsp_outq_reply(dsp_outq *q, const bus_msg *m, char *body, err *e);

/* Queue the error reply {"ok": false, ...} of code s and message msg. */
status dsp_outq_error(dsp_outq *q, const bus_msg *m, status s, const char *msg,
                      err *e);

/* Queue a "rescinded" notice to worker about reservation res_id (reason:
 * timeout, lease_expired, accepted_elsewhere). */
status dsp_outq_notice(dsp_outq *q, const char *worker, int64_t res_id,
                       const char *reason, err *e);

/* Is s a failure of the infrastructure (roll the batch back) rather than
 * of the request (answer with the error and go on)? */
bool dsp_infra_failure(status s);

/*
 * Request m failed on its own with rs (message in re): queue its error
 * reply. An infrastructure failure instead becomes the batch's: *s and *e
 * take it. Nothing happens once *s is not ST_OK.
 */
void dsp_outq_fail(dsp_outq *q, const bus_msg *m, status rs, const err *re,
                   status *s, err *e);

/*
 * Queue body as the answer to request r: the reply to its message for a
 * request sent alone, the result of its item for an item of a bulk
 * request (dsp.h), kept until dsp_outq_gather makes the one reply.
 */
status dsp_outq_answer(dsp_outq *q, const dsp_req *r, char *body, err *e);

/* As dsp_outq_fail, answering request r as dsp_outq_answer does. */
void dsp_outq_refuse(dsp_outq *q, const dsp_req *r, status rs, const err *re,
                     status *s, err *e);

/* The largest reply a bulk request gets (the server's max_payload). */
#define DSP_OUTQ_BULK_REPLY_MAX (1024 * 1024)

/*
 * The one reply of each bulk request ms[b] ({"ok": true, "results":
 * [...]}, many_msg.h) from the results of its items[b] items queued so far,
 * in item order. A reply larger than DSP_OUTQ_BULK_REPLY_MAX is replaced
 * by a too_large error that says the items were handled (a repeat
 * returns the same results). ST_INTERNAL when an item has no result (a
 * bug: the batch is retried), ST_NOMEM.
 */
status dsp_outq_gather(dsp_outq *q, const bus_msg *const *ms, const int *items,
                       int nb, err *e);

/* How many messages are queued. */
int dsp_outq_count(const dsp_outq *q);

/* Publish every queued message on b in order (a failed publish is logged;
 * the sender's request times out and is retried) and empty the queue. */
void dsp_outq_flush(dsp_outq *q, bus *b);

/* Drop every queued message (the batch rolled back). */
void dsp_outq_discard(dsp_outq *q);

#endif
