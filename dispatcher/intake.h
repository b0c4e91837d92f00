/*
 * The dispatcher's intake: where requests wait between the NATS threads
 * that deliver them and the loop that handles them in batches, with the
 * tenants' quotas (docs/security.md, "Quotas").
 *
 * Each tenant's bank requests wait in a queue of their own; the workers'
 * and operators' requests in one more, the service queue. A batch takes
 * up to half its size from the service queue, then one request of each
 * waiting tenant in turn, then fills up from the service queue. So one
 * tenant's flood never holds back another tenant's requests, and bank
 * floods never starve the workers' heartbeats and answers.
 *
 * A tenant's requests are refused on arrival with `rate_limited` and a
 * `retry_after_ms` (a reply published at once, nothing queued) when
 *   - its token bucket is empty: rate requests a second on average, in
 *     bursts of up to burst (the refused requests are told retry times
 *     one token apart, so they do not all come back at once); or
 *   - open_max of its requests are open already (waiting or in the batch
 *     in hand).
 * The same limits can apply per client of a tenant, told apart by the
 * private inbox prefix of their NATS identity ("_INBOX_<identity>.", see
 * natsauth.h); replies to other inboxes count only for the tenant.
 *
 * Thread-safe: dsp_intake_put runs on any NATS thread; take and done only
 * on the loop's thread.
 */
#ifndef TL_INTAKE_H
#define TL_INTAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "err.h"
#include "ids.h"

/* Limits of one tenant (or one client); 0 turns a limit off. */
typedef struct dsp_quota {
    int rate;     /* requests per second, on average */
    int burst;    /* requests at once (the bucket's size); 0: rate */
    int open_max; /* requests waiting or being handled */
} dsp_quota;

typedef struct dsp_intake_opts {
    dsp_quota tenant;
    dsp_quota client; /* per client identity of a tenant */
} dsp_intake_opts;

/* What the intake refused since it was made. */
typedef struct dsp_intake_counts {
    uint64_t limited_rate; /* over a token bucket */
    uint64_t limited_open; /* over a cap of open requests */
    uint64_t queued;       /* requests queued (not refused) */
} dsp_intake_counts;

typedef struct dsp_intake dsp_intake;

/* An intake for the installation with prefix (copied). Errors: ST_CONFIG
 * (a negative limit), ST_NOMEM. */
status dsp_intake_create(dsp_intake **out, const char *prefix,
                         const dsp_intake_opts *o, err *e);

/* Free in and every message still waiting (their senders time out and
 * retry); NULL is a no-op. */
void dsp_intake_destroy(dsp_intake *in);

/*
 * Take m (the caller's no more): queue it, or refuse it over a quota with
 * a rate_limited reply published on b. Never blocks for long.
 */
void dsp_intake_put(dsp_intake *in, bus *b, bus_msg *m);

/*
 * Take up to max waiting messages into msgs, fairly as above, waiting up
 * to wait_ms for the first; returns how many. The messages are the caller's to
 * free, but their tenants' requests count as open until dsp_intake_done.
 */
int dsp_intake_take(dsp_intake *in, bus_msg **msgs, int max, int wait_ms);

/*
 * Request m of tenant stands for 1 + extra requests (a bulk submit of
 * 1 + extra cases): take the extra tokens from the tenant's bucket and
 * its client's, all or none. Loop thread only. Errors: ST_RATE_LIMITED
 * when a bucket holds fewer now (*retry_ms says when it will hold them;
 * the message says which quota), ST_TOO_LARGE when 1 + extra is more than
 * a bucket holds at all (its burst: never admitted, split the request).
 * The open cap counts m as one request.
 */
status dsp_intake_charge(dsp_intake *in, const bus_msg *m, const char *tenant,
                         int extra, int64_t *retry_ms, err *e);

/* The messages of the last take were answered: they are open no more. */
void dsp_intake_done(dsp_intake *in);

/* Wake a take that waits (the dispatcher stops). */
void dsp_intake_wake(dsp_intake *in);

void dsp_intake_counts_get(dsp_intake *in, dsp_intake_counts *out);

/*
 * The NATS identity of the client that sent a request, from its reply
 * subject reply (may be NULL): every identity's private inbox prefix is
 * "_INBOX_<identity>." and the server lets only that identity read it,
 * so whoever sent the request is the one who gets its reply. Writes the
 * identity (a token, ids_token_valid) into id and returns true; false,
 * id unspecified, when reply is not such an inbox (a client without
 * credentials, the suite's tests with default inboxes).
 */
bool dsp_intake_client_of(const char *reply, char id[ID_MAX + 1]);

#endif
