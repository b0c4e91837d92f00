/*
 * `twinline assist report`: how the assistant is received and how AI
 * workers fare under review, from PostgreSQL. Per tenant, step and kind of
 * suggestion (passage, reply, model): the suggestions shown, opened, copied
 * and used, and the acceptance rate (suggestions copied or used per
 * suggestion shown). Per tenant and ai: auto step: AI outcomes, those sent
 * to review, confirmed and overturned.
 */
#ifndef TL_CMD_ASSIST_H
#define TL_CMD_ASSIST_H

#include <stdio.h>

#include "config.h"
#include "db.h"
#include "err.h"

/* Print the report to out; tenant NULL: every tenant. Errors: ST_DB. */
status cmd_assist_report(db *d, const char *tenant, FILE *out, err *e);

/* The `assist` command (argv[0] is "assist"); returns the exit code. */
int cmd_assist(int argc, char **argv, const config *cfg);

#endif
