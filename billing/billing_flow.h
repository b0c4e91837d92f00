/*
 * The pay-per-result flow (schema/005_billing_flow.sql, docs/billing.md):
 * rate billable outcomes with the price plan pinned to their case, post
 * them to the ledger as unverified, verify them when their window has
 * passed, and reverse them on a reopen or complaint inside the clawback
 * window (with a credit note when they were invoiced already).
 *
 *   billing_flow_create(&f, &e);
 *   billing_flow_rate(f, db, ids, n, handled, &counts, &e);  per batch
 *   billing_flow_disputes(db, max, &reversed, &e);            periodic
 *   billing_flow_verify(db, max, &verified, &e);              periodic
 *   billing_flow_credit(db, signer, &notes, &e);              periodic
 *   billing_flow_destroy(f);
 *
 * Every step is one transaction per batch: its statement
 * (billing/sql/flow_*.sql) returns what to post, and the ledger's one
 * writer (ledger_batch_post) posts it. Each is idempotent: ledger keys
 * are derived from the outcome id and stage (outcome:<id>:pending,
 * :verified, :<stage>:reversed) and compared by fingerprint, states only
 * move forward, and a credit note is issued only for a line not credited
 * yet. So a crash at any moment, a replay or a restart posts nothing
 * twice. A ledger key already holding different postings fails the step
 * with ST_CONFLICT naming the key, and the step's transaction is rolled
 * back: nothing of the batch is stored.
 */
#ifndef TL_BILLING_FLOW_H
#define TL_BILLING_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "billing_rate.h"
#include "db.h"
#include "err.h"
#include "signer.h"

typedef struct billing_flow billing_flow;

/* A flow with an empty cache of parsed plans; *out owned by the caller. */
status billing_flow_create(billing_flow **out, err *e);

/* Free f; NULL is a no-op. */
void billing_flow_destroy(billing_flow *f);

/*
 * Rate and post the outcomes ids[0..n) whose contract has a price plan:
 * for each, a billable line (amount = the plan's charge), a
 * billable_outcomes row (pending, verify_after and clawback_until from the
 * plan's windows), its split (platform fee, operator, worker, AI worker;
 * largest remainder) and the ledger entry outcome:<id>:pending, all in one
 * transaction. handled[i] is set true for the ids this flow decided (billed,
 * or a plan that does not cover the code: counted as no_price); the
 * others (no plan, not billable, unknown, already billed) are left for
 * billing_rate_outcomes. Adds to *counts on success only. Errors: ST_DB,
 * ST_UNAVAILABLE, ST_CONFLICT (a deadlock: retry; or a pending key that
 * holds other postings, named in the message), ST_NOMEM.
 */
status billing_flow_rate(billing_flow *f, db *d, const int64_t *ids, int n,
                         bool *handled, billing_counts *counts, err *e);

/*
 * Reverse, for up to max unprocessed reopens and complaints, every
 * pending or verified outcome of the case that the dispute falls inside
 * the clawback window of: the state becomes reversed and each ledger
 * entry posted for it gets its exact negation; a complaint under a plan
 * with a complaint penalty gets its adjustment and its entry
 * dispute:<id>:penalty. Marks the disputes processed. *reversed is the
 * number of outcomes reversed.
 */
status billing_flow_disputes(db *d, int max, int64_t *reversed, err *e);

/*
 * Verify up to max pending outcomes whose verify_after has passed and
 * whose case has no unprocessed dispute: post outcome:<id>:verified (bank
 * receivable, platform revenue and payables per the split).
 */
status billing_flow_verify(db *d, int max, int64_t *verified, err *e);

/*
 * Issue credit notes (signed with sg) for reversed outcomes whose line is
 * on an issued invoice and not credited yet, one note per invoice.
 * *notes is the number issued.
 */
status billing_flow_credit(db *d, const signer *sg, int *notes, err *e);

#endif
