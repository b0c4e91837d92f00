/*
 * `twinline bill report`: what the pay-per-result flow billed, per tenant
 * and per operator and currency, from billable_outcomes, outcome_splits
 * (schema/005_billing_flow.sql) and the ledger: verified, pending and
 * reversed amounts, the margin (bank price minus the operator's, the
 * workers' and the AI worker's shares) over the cases with a verified
 * outcome, and the ledger's balance for the same outcomes as a check.
 */
#ifndef TL_CMD_BILL_REPORT_H
#define TL_CMD_BILL_REPORT_H

#include <stdio.h>

#include "cmd_report.h"
#include "db.h"
#include "err.h"

/*
 * Print the report for tenant (all tenants when NULL) and period
 * ("YYYY-MM", by the outcome's time in UTC; all time when NULL) to out.
 * KV names (docs/cli.md): billreport.<tenant|operator>.<id>.<currency>.
 * <figure>. Errors: ST_INVALID (period), ST_UNKNOWN_TENANT, ST_DB,
 * ST_NOMEM.
 */
/*
 * Check a report's scope: period ("YYYY-MM" or NULL) gives its UTC bounds
 * in start and end (INVOICE_TIME_MAX bytes each; untouched when NULL), and
 * tenant (or NULL) must be registered. Errors: ST_INVALID (period),
 * ST_UNKNOWN_TENANT, ST_DB.
 */
status cmd_bill_scope(db *d, const char *tenant, const char *period,
                      char *start, char *end, err *e);

status cmd_bill_report(db *d, const char *tenant, const char *period,
                       cli_format fmt, FILE *out, err *e);

#endif
