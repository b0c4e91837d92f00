/*
 * `twinline explain TASK_ID`: every routing decision recorded for a task
 * (routing_decisions, schema 004) in plain words: the candidates the router
 * considered with their scores by component, the rule that fired and why
 * the other workers were ruled out.
 */
#ifndef TL_CMD_EXPLAIN_H
#define TL_CMD_EXPLAIN_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "db.h"
#include "err.h"

/* Print the explanation of task_id to out. ST_NOT_FOUND when there is no
 * such task; a task without decisions gets a sentence saying so. */
status cmd_explain_task(db *d, int64_t task_id, FILE *out, err *e);

/* The `explain` command; argv[0] is "explain". Returns the exit code. */
int cmd_explain(int argc, char **argv, const config *cfg);

#endif
