/*
 * `twinline statement`: one operator's or worker's statement for a month,
 * from the ledger (the postings on the party's payable accounts, dated by
 * when they were posted) and outcome_splits (which share of which case
 * each line is): verified shares, reversals (deductions), and per
 * currency the opening balance, the period's totals and the closing
 * balance. Payables are credits in the ledger; a statement shows what is
 * owed to the party as positive.
 */
#ifndef TL_CMD_STATEMENT_H
#define TL_CMD_STATEMENT_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "db.h"
#include "err.h"

typedef enum cmd_statement_format {
    ADMIN_STMT_TEXT,
    ADMIN_STMT_JSON /* one document, docs/cli.md */
} cmd_statement_format;

/*
 * Write the statement of party (an operator when op is true, else a
 * worker, human or AI) for period "YYYY-MM" (UTC) to out. Errors:
 * ST_INVALID (period), ST_NOT_FOUND (no such party), ST_DB, ST_NOMEM.
 */
status cmd_statement_write(db *d, const char *party, bool op,
                           const char *period, cmd_statement_format fmt,
                           FILE *out, err *e);

/* The `statement` command; argv[0] is "statement". Returns the exit code
 * (0, 1 failure, 2 usage error). */
int cmd_statement(int argc, char **argv, const config *cfg);

#endif
