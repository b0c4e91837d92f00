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

#include <stdint.h>
#include <stdio.h>

#include "cmd_report.h"
#include "db.h"
#include "err.h"

/*
 * Check a report's scope: period ("YYYY-MM" or NULL) gives its UTC bounds
 * in start and end (INVOICE_TIME_MAX bytes each; untouched when NULL), and
 * tenant (or NULL) must be registered. Errors: ST_INVALID (period),
 * ST_UNKNOWN_TENANT, ST_DB.
 */
status cmd_bill_scope(db *d, const char *tenant, const char *period,
                      char *start, char *end, err *e);

/*
 * Print the report for tenant (all tenants when NULL) and period
 * ("YYYY-MM", by the outcome's time in UTC; all time when NULL) to out,
 * after a sentence when billing is not running or behind
 * (cmd_bill_state_print). KV names (docs/cli.md): billreport.<tenant|
 * operator>.<id>.<currency>.<figure>, billreport.billing_running,
 * billreport.unbilled. Errors: ST_INVALID (period), ST_UNKNOWN_TENANT,
 * ST_DB, ST_NOMEM.
 */
status cmd_bill_report(db *d, const char *tenant, const char *period,
                       cli_format fmt, FILE *out, err *e);

/* Whether billing runs and what it has not billed yet. */
typedef struct cmd_bill_state {
    int64_t billing_sessions; /* twinline-billing sessions on the database */
    int64_t unbilled; /* billable outcomes older than 5 s without a line */
    char oldest_unbilled[32]; /* UTC "YYYY-MM-DD HH:MM:SS", "" if none */
} cmd_bill_state;

/*
 * Fill *out for tenant (NULL: all) and outcomes in [start, end) (NULL:
 * all time). twinline-billing names its database sessions
 * (billing/sql/service_identify.sql), so a billing that is not running
 * shows as no session. ST_DB.
 */
status cmd_bill_status(db *d, const char *tenant, const char *start,
                       const char *end, cmd_bill_state *out, err *e);

/* A sentence for people when billing is not running or behind, and
 * nothing when it is keeping up. */
void cmd_bill_state_print(const cmd_bill_state *st, FILE *out);

#endif
