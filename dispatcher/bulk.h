/*
 * Bulk requests (docs/protocol.md, "Bulk requests"): a message that
 * carries many items of one kind — cases to submit, offers to accept,
 * tasks to complete — is opened into one request per item (dsp.h: its
 * own body, its place in the list), the handler of the single kind
 * answers them all as it answers any batch, and each message then gets
 * one reply with every item's result in order (dsp_outq_gather). So a
 * bulk request is handled by the same write path as its items sent
 * alone, in the batch's transaction.
 *
 * Loop thread only; a dsp_bulk borrows the requests it was opened from.
 */
#ifndef TL_BULK_H
#define TL_BULK_H

#include "dsp.h"
#include "many_msg.h"

/* Split a bulk request's body into its items (case_msg.h, agent_msg.h). */
typedef status (*dsp_bulk_split)(const char *buf, size_t len, many_list *out,
                                 err *e);

/*
 * Admit request q of items items, or refuse it as a whole: *refusal a
 * reply body (the caller's to free then; it is queued as q's reply) and
 * ST_OK. Another status is a failure of the infrastructure.
 */
typedef status (*dsp_bulk_admit)(dispatcher *d, const dsp_req *q, int items,
                                 char **refusal, err *e);

typedef struct dsp_bulk dsp_bulk;

/*
 * Open reqs[0..n), each a bulk request: split by split and admitted by
 * admit (NULL: all), the ones refused answered at once (nothing of them
 * is done). *out is the caller's (dsp_bulk_destroy). ST_NOMEM.
 */
status dsp_bulk_open(dsp_bulk **out, dispatcher *d, const dsp_req *reqs, int n,
                     dsp_bulk_split split, dsp_bulk_admit admit, err *e);

/* The items of every admitted request, as requests, and their count. */
const dsp_req *dsp_bulk_items(const dsp_bulk *b);
int dsp_bulk_count(const dsp_bulk *b);

/* After the handler answered every item: each admitted request's one
 * reply (dsp_outq_gather). */
status dsp_bulk_reply(dsp_bulk *b, dispatcher *d, err *e);

/* NULL is a no-op. */
void dsp_bulk_destroy(dsp_bulk *b);

/* A request's body and its length: an item's own, else its message's. */
const char *dsp_req_data(const dsp_req *r);
size_t dsp_req_len(const dsp_req *r);

#endif
