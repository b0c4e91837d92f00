/* twinline: the operator's command line. The commands live in tl_admin
 * (admin_cli.c) and, for `feed`, in feed.c; this file only lists them. */
#include "admin_assist.h"
#include "admin_cli.h"
#include "admin_explain.h"
#include "admin_invoice.h"
#include "admin_statement.h"
#include "admin_stats.h"
#include "feed.h"

static const admin_command commands[] = {
    {"migrate", "apply schema migrations to the database", admin_cmd_migrate},
    {"load", "load tenants, workers, playbooks, contracts from JSON",
     admin_cmd_load},
    {"tenant", "tenant list", admin_cmd_tenant},
    {"worker", "worker list [--pool P] [--ids]", admin_cmd_worker},
    {"playbook", "playbook list | playbook show TENANT CASE_TYPE",
     admin_cmd_playbook},
    {"case", "case submit | show | reopen | complaint", admin_cmd_case},
    {"bill", "bill summary | report | reconcile [--tenant T] [--period P]",
     admin_cmd_bill},
    {"statement", "statement (--operator O | --worker W) --period YYYY-MM",
     admin_cmd_statement},
    {"report", "summary of cases, transfers, resolution time, billing",
     admin_cmd_report},
    {"invoice", "invoice close | list | show | verify | credit | keygen",
     admin_cmd_invoice},
    {"explain", "explain TASK_ID: why a task went to its worker",
     admin_cmd_explain},
    {"stats", "live figures per queue and per worker [--json]",
     admin_cmd_stats},
    {"assist", "assist report: acceptance of suggestions, AI reviews",
     admin_cmd_assist},
    {"feed", "submit a stream of realistic cases (demo, benchmark)", feed_main},
};

int main(int argc, char **argv)
{
    return admin_main(argc, argv, commands,
                      (int)(sizeof(commands) / sizeof(commands[0])));
}
