/*
 * Rating: turns outcome ids into billable lines, with the price read from
 * the database and never from an event.
 *
 * For a billable outcome the contract is the active one between the case's
 * tenant and the worker's pool that covers the case type; if several do,
 * the lowest contract id (byte order). The amount is that contract's price
 * for (case type, outcome code) in the contract's currency. An outcome whose
 * contract has no price for its code, or that has no contract, is not billed
 * and is logged. The unique constraint on billable_lines.outcome_id makes
 * billing the same outcome twice impossible; a repeat counts as a duplicate.
 */
#ifndef TL_BILLING_RATE_H
#define TL_BILLING_RATE_H

#include <stdint.h>

#include "db.h"
#include "err.h"

/* What happened to the outcomes handed to billing_rate_outcomes. */
typedef struct billing_counts {
    int64_t billed;       /* billable lines inserted */
    int64_t duplicates;   /* already had a line, or repeated in the batch */
    int64_t not_billable; /* the outcome is not billable */
    int64_t no_contract;  /* billable, but no active contract covers it */
    int64_t no_price;     /* the contract has no price for the code */
    int64_t unknown;      /* no outcome with that id */
} billing_counts;

/* Add every field of from to *to. */
void billing_counts_add(billing_counts *to, const billing_counts *from);

/*
 * Bill the outcomes ids[0..n) (repeats allowed) with one multi-row statement,
 * which is one transaction: either every line of the batch is stored or
 * none. On success adds what happened to *counts; on error *counts is
 * untouched and nothing was stored. Logs a warning (tenant, case type, code,
 * contract) for each outcome left unbilled for lack of a price or contract
 * whose id is above warn_above (pass 0 to warn for all). ids is borrowed.
 * Errors: ST_DB, ST_UNAVAILABLE (connection lost), ST_CONFLICT (deadlock
 * with another biller: retry), ST_NOMEM.
 */
status billing_rate_outcomes(db *d, const int64_t *ids, int n,
                             int64_t warn_above, billing_counts *counts,
                             err *e);

/*
 * Find up to max billable outcomes with id > after, created more than age_ms
 * ago (database time), that have no billable line, in id order. Writes them
 * to ids (room for max) and their number to *n.
 */
status billing_rate_find_unbilled(db *d, int64_t after, int age_ms, int max,
                                  int64_t *ids, int *n, err *e);

#endif
