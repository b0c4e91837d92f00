/* twinline: the operator's command line. The commands live in tl_cli
 * (cli.c) and, for `feed`, in feed.c; this file only lists them. */
#include "cli.h"
#include "cmd_assist.h"
#include "cmd_audit.h"
#include "cmd_explain.h"
#include "cmd_identity.h"
#include "cmd_invoice.h"
#include "cmd_keys.h"
#include "cmd_ops.h"
#include "cmd_statement.h"
#include "cmd_stats.h"
#include "feed.h"

static const cli_command commands[] = {
    {"migrate", "apply schema migrations to the database", cmd_migrate},
    {"load", "load tenants, workers, playbooks, contracts from JSON", cmd_load},
    {"tenant", "tenant list", cmd_tenant},
    {"worker",
     "worker list | deactivate | activate | logout | pool: workers and the "
     "operator's actions",
     cmd_worker},
    {"task", "task reassign | cancel TASK_ID --reason TEXT", cmd_task},
    {"playbook", "playbook list | playbook show TENANT CASE_TYPE",
     cmd_playbook},
    {"case", "case submit | show | reopen | complaint | erase", cmd_case},
    {"bill", "bill summary | report | reconcile [--tenant T] [--period P]",
     cmd_bill},
    {"statement", "statement (--operator O | --worker W) --period YYYY-MM",
     cmd_statement},
    {"report", "summary of cases, transfers, resolution time, billing",
     cmd_report},
    {"invoice", "invoice close | list | show | verify | credit | keygen",
     cmd_invoice},
    {"explain", "explain TASK_ID: why a task went to its worker", cmd_explain},
    {"stats", "live figures per queue and per worker [--json]", cmd_stats},
    {"assist", "assist report: acceptance of suggestions, AI reviews",
     cmd_assist},
    {"audit", "audit verify | show | keygen | checkpoint: the audit trail",
     cmd_audit},
    {"keys", "keys init | list | rotate | reseal: keys sealing customer data",
     cmd_keys},
    {"feed", "submit a stream of realistic cases (demo, benchmark)", feed_main},
    {"identity", "identity create | list | revoke | rotate: NATS identities",
     cmd_identity},
    {"nats-auth", "generate nats-server's authorization and reload it",
     cmd_nats_auth},
};

int main(int argc, char **argv)
{
    return cli_main(argc, argv, commands,
                    (int)(sizeof(commands) / sizeof(commands[0])));
}
