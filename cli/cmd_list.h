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

/* Which workers `worker list` shows; NULL members do not filter. */
typedef struct cmd_worker_filter {
    const char *pool;   /* only this pool's */
    const char *kind;   /* "human" or "ai" */
    const char *except; /* comma-separated ids to leave out */
    bool ids_only;      /* print just the ids, comma-separated */
} cmd_worker_filter;

/*
 * Workers (as filter selects) with pool, kind, presence, skills and
 * capacity; with ids_only just their ids comma-separated on one line, for
 * scripts (`twinline-agent --workers "$(twinline worker list --kind human
 * --except w001 --ids)"`). ST_NOT_FOUND when pool names no pool or
 * except a worker that does not exist, ST_INVALID for another kind or a
 * malformed id.
 */
status cmd_worker_list(db *d, const cmd_worker_filter *filter, FILE *out,
                       err *e);

/* The latest version of every playbook, with its step count. */
status cmd_playbook_list(db *d, FILE *out, err *e);

/* The steps of the latest version of one playbook. ST_UNKNOWN_CASE_TYPE
 * when the tenant has no such playbook. */
status cmd_playbook_show(db *d, const char *tenant, const char *case_type,
                         FILE *out, err *e);

#endif
