/*
 * `twinline audit ...`: the audit trail (common/auditlog.h): verify the
 * chain and its signed checkpoints, show records by party, case and time,
 * make the checkpoint key and sign a checkpoint by hand.
 */
#ifndef TL_CMD_AUDIT_H
#define TL_CMD_AUDIT_H

#include "config.h"

/* The `audit` command; argv[0] is "audit". Returns the exit code: 0
 * success (an intact trail for verify), 1 failure (a trail with
 * findings), 2 usage error. */
int cmd_audit(int argc, char **argv, const config *cfg);

#endif
