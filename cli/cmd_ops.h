/*
 * The operator's actions from the command line (docs/cli.md), sent to the
 * dispatcher as <p>.ops.<operator>.<verb> (docs/protocol.md, "Actions on
 * workers and tasks"):
 *
 *   twinline worker (deactivate | activate | logout) WORKER --reason TEXT
 *   twinline worker pool WORKER POOL --reason TEXT
 *   twinline task reassign TASK_ID [--worker W] --reason TEXT
 *   twinline task cancel TASK_ID --reason TEXT
 *
 * each with [--operator O] (default: the worker's operator, or the only
 * operator in the database for a task). The dispatcher must be running;
 * it checks the worker or task is the operator's and records the action in
 * the audit trail. Exit 0 when done (or already so), 1 when refused, 2 for
 * a usage error.
 */
#ifndef TL_CMD_OPS_H
#define TL_CMD_OPS_H

#include <stdbool.h>

#include "config.h"

/* `twinline worker VERB ...` for the verbs above; argv[0] is "worker". */
int cmd_ops_worker(int argc, char **argv, const config *cfg);

/* True when verb is one cmd_ops_worker serves. */
bool cmd_ops_is_worker_verb(const char *verb);

/* `twinline task reassign|cancel ...`. */
int cmd_task(int argc, char **argv, const config *cfg);

#endif
