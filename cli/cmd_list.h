/*
 * Read-only listings of what is loaded: tenants, workers, playbooks.
 * Each writes a plain aligned table to out.
 */
#ifndef TL_CMD_LIST_H
#define TL_CMD_LIST_H

#include <stdbool.h>
#include <stdio.h>

#include "db.h"
#include "err.h"

/* Tenants with their kind, priority and number of playbooks. */
status cmd_tenant_list(db *d, FILE *out, err *e);

/*
 * Workers (only those of pool when pool is not NULL) with pool, kind,
 * presence, skills and capacity. With ids_only, print just the ids
 * comma-separated on one line (for scripts). ST_NOT_FOUND when pool names
 * no pool.
 */
status cmd_worker_list(db *d, const char *pool, bool ids_only, FILE *out,
                       err *e);

/* The latest version of every playbook, with its step count. */
status cmd_playbook_list(db *d, FILE *out, err *e);

/* The steps of the latest version of one playbook. ST_UNKNOWN_CASE_TYPE
 * when the tenant has no such playbook. */
status cmd_playbook_show(db *d, const char *tenant, const char *case_type,
                         FILE *out, err *e);

#endif
