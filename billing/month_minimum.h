/*
 * The monthly minimum commitment of a price plan: when a contract's
 * verified results of a month fall short of its plan's
 * monthly_minimum_minor, the shortfall is charged to the bank as a
 * billing adjustment (schema/008) and posted to the ledger under
 * "minimum:<contract>:<period>": bank_receivable +X, platform_revenue -X.
 * Invoice close calls it in its transaction, so the top-up goes on the
 * month's invoice. See docs/billing.md.
 */
#ifndef TL_MONTH_MINIMUM_H
#define TL_MONTH_MINIMUM_H

#include "db.h"
#include "err.h"

/*
 * Post the top-ups of tenant's contracts for period ("YYYY-MM", bounds
 * start/end as from invoice_period_bounds) in the caller's transaction.
 * The plan is the contract's version in effect at the end of the month;
 * "billed" is the amount of the contract's verified results of the
 * month. Idempotent: a month that has its top-up gets no second one.
 * *posted is the number of top-ups written now. Errors: ST_DB, ST_INVALID
 * (an unreadable stored plan), ST_NOMEM.
 */
status month_minimum_post(db *d, const char *tenant, const char *period,
                          const char *start, const char *end, int *posted,
                          err *e);

#endif
