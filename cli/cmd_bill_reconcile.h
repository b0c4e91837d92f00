/*
 * `twinline bill reconcile`: do the books agree with the results? Each
 * check compares two figures that are computed independently (outcomes,
 * lines, splits, ledger postings, issued documents) per tenant and
 * currency; see docs/cli.md.
 */
#ifndef TL_CMD_BILL_RECONCILE_H
#define TL_CMD_BILL_RECONCILE_H

#include <stdio.h>

#include "cmd_report.h"
#include "db.h"
#include "err.h"

/*
 * Print the checks for tenant (all when NULL) and period ("YYYY-MM";
 * outcomes by their time and documents by their period; all when NULL)
 * to out, and the number of figures that do not agree in *mismatches.
 * A figure can disagree for a moment while billing works (an outcome
 * just closed and not billed yet, a reversal not credited yet); run it
 * when billing is idle. Errors: ST_INVALID (period), ST_UNKNOWN_TENANT,
 * ST_DB, ST_NOMEM.
 */
status cmd_bill_reconcile(db *d, const char *tenant, const char *period,
                          cli_format fmt, FILE *out, int *mismatches, err *e);

#endif
