/*
 * The figures an operator or a demo reads at the end of a run, computed from
 * PostgreSQL (the only source of truth): case and task counts, transfers,
 * one-contact resolution, time to resolve, offers per task, SLA and the
 * amounts billed; and the billing summary of billable lines.
 */
#ifndef TL_CMD_REPORT_H
#define TL_CMD_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "db.h"
#include "err.h"
#include "ids.h"

/* Billable lines of one tenant in one currency. */
typedef struct cmd_billed {
    char tenant[ID_MAX + 1];
    char currency[4];
    int64_t lines;
    int64_t amount_minor;
} cmd_billed;

typedef struct cmd_report_figures {
    int64_t cases;  /* submitted */
    int64_t closed; /* resolved */
    int64_t canceled;
    int64_t open;
    int64_t closed_tasks; /* completed tasks of closed cases */
    int64_t transfers;    /* in closed cases: a task completed by another
                             worker than the case's previous completed task */
    int64_t one_contact;  /* closed cases whose tasks one worker did */
    int64_t tasks_completed;
    int64_t offers;       /* reservations made for completed tasks */
    int64_t sla_tasks;    /* completed tasks that had an SLA due time */
    int64_t sla_met;      /* ... and were completed by it */
    bool has_resolve;     /* false when no case is closed */
    double resolve_p50_s; /* closed_at - created_at, seconds */
    double resolve_p90_s;
    int nbilled;
    cmd_billed *billed; /* by tenant and currency */
} cmd_report_figures;

typedef enum cli_format {
    ADMIN_FMT_TABLE,
    ADMIN_FMT_KV /* name=value lines, for scripts and tests */
} cli_format;

/* Compute the report. *out is owned by the caller (cmd_report_destroy). */
status cmd_report_collect(db *d, cmd_report_figures **out, err *e);

/*
 * Print r. The KV names are stable (docs/cli.md): cases_submitted,
 * cases_resolved, tasks_per_case, transfers_per_case,
 * one_contact_resolution_pct, resolve_p50_s, resolve_p90_s,
 * offers_per_task, billed.<tenant>.<currency>.amount_minor, ...
 * Ratios without a denominator print as "n/a".
 */
void cmd_report_print(const cmd_report_figures *r, cli_format fmt, FILE *out);

/* NULL is a no-op. */
void cmd_report_destroy(cmd_report_figures *r);

/*
 * Totals of billable lines per tenant and currency, per operator and per
 * outcome code, for one tenant or (tenant NULL) all. ST_UNKNOWN_TENANT when
 * tenant is not registered.
 */
status cmd_bill_summary(db *d, const char *tenant, cli_format fmt, FILE *out,
                        err *e);

#endif
