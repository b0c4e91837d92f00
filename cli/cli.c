#include "cli.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "cli_args.h"
#include "cmd_bill_reconcile.h"
#include "cmd_bill_report.h"
#include "cmd_case.h"
#include "cmd_erase.h"
#include "cmd_identity.h"
#include "cmd_list.h"
#include "cmd_load.h"
#include "cmd_ops.h"
#include "cmd_report.h"
#include "db.h"
#include "ids.h"
#include "migrate.h"

#define EXIT_USAGE     ADMIN_EXIT_USAGE
#define SUBMIT_TIMEOUT 5000 /* ms; the protocol suggests 2-5 s */

/* ---- migrate ---------------------------------------------------------- */

static const char migrate_usage[] =
    "usage: twinline migrate [--db CONNINFO]\n"
    "\n"
    "Apply the schema migrations this binary carries (schema/NNN_*.sql)\n"
    "that the database lacks, each in its own transaction.\n";

int cmd_migrate(int argc, char **argv, const config *cfg)
{
    cli_args a;
    db *d = NULL;
    err e = {0};
    int applied = 0;
    int rc =
        cli_args_parse(argc, argv, 1, cfg, NULL, 0, NULL, migrate_usage, &a);

    if (rc != 0)
        return rc;
    if (a.help)
        return cli_help(migrate_usage);
    if (a.npos > 0)
        return cli_usage_error(migrate_usage, "unexpected argument %s",
                               a.pos[0]);
    if ((rc = cli_connect_db(&a, &d, &e)) != 0)
        return rc;
    if (migrate_apply(d, migration_files, migration_count, &applied, &e) !=
        ST_OK) {
        rc = cli_fail(&e);
        goto out;
    }
    printf("migrations: %d applied, %d known\n", applied, migration_count);
out:
    db_close(d);
    return rc;
}

/* ---- load ------------------------------------------------------------- */

static const char load_usage[] =
    "usage: twinline load [--identities DIR [--apply]] FILE...\n"
    "\n"
    "Load tenants, operators, pools, workers, playbooks and contracts from\n"
    "JSON files (format: docs/config.md). Each file is loaded in one\n"
    "transaction: an error names the file and field and changes nothing.\n"
    "Loading a file again changes nothing; a changed playbook becomes a new\n"
    "version. Order matters when files refer to each other:\n"
    "  twinline load examples/operator.json examples/bank.json "
    "examples/insurer.json\n"
    "  --identities DIR  make an identity for each loaded worker that never\n"
    "                    had one, its credentials in DIR/worker-W.creds\n"
    "                    (twinline identity; the agent's --creds-dir DIR)\n"
    "  --apply           then regenerate nats-server's authorization and\n"
    "                    reload it (as twinline nats-auth; TL_NATS_AUTH and\n"
    "                    TL_NATS_PIDFILE)\n";

/* twinline load --identities DIR: the loaded files' new workers get
 * identities; --apply then lets them in. The exit code. */
static int load_identities(const cli_args *a, db *d, const char *dir,
                           bool do_apply)
{
    const char *file = getenv("TL_NATS_AUTH");
    const char *pidfile = getenv("TL_NATS_PIDFILE");
    int total = 0;
    err e = {0};

    for (int i = 0; i < a->npos; i++) {
        int made = 0;

        if (cmd_identity_workers(d, a->pos[i], dir, &made, &e) != ST_OK)
            return cli_fail(&e);
        total += made;
    }
    printf("identities: %d new worker identit%s, credentials in "
           "%s/worker-W.creds\n",
           total, total == 1 ? "y" : "ies", dir);
    if (!do_apply) {
        if (total > 0)
            printf("they connect once nats-server's authorization is "
                   "regenerated: twinline nats-auth --write FILE --reload "
                   "PIDFILE\n");
        return 0;
    }
    if (file == NULL || file[0] == '\0' || pidfile == NULL ||
        pidfile[0] == '\0')
        return cli_usage_error(load_usage, "%s",
                               "--apply needs TL_NATS_AUTH and "
                               "TL_NATS_PIDFILE (or run twinline nats-auth)");
    if (cmd_nats_auth_apply(&a->cfg, d, file, pidfile, stdout, &e) != ST_OK)
        return cli_fail(&e);
    return 0;
}

int cmd_load(int argc, char **argv, const config *cfg)
{
    cli_opt opts[] = {{"--identities", true, NULL, false},
                      {"--apply", false, NULL, false}};
    cli_args a;
    db *d = NULL;
    err e = {0};
    int rc = cli_args_parse(argc, argv, 1, cfg, opts, 2, NULL, load_usage, &a);

    if (rc != 0)
        return rc;
    if (a.help)
        return cli_help(load_usage);
    if (a.npos == 0)
        return cli_usage_error(load_usage, "%s", "name at least one file");
    if (opts[1].set && !opts[0].set)
        return cli_usage_error(load_usage, "%s",
                               "--apply goes with --identities DIR");
    if ((rc = cli_connect_db(&a, &d, &e)) != 0)
        return rc;
    for (int i = 0; i < a.npos; i++) {
        cmd_load_counts n;
        char line[256];

        if (cmd_load_file(d, a.pos[i], &n, &e) != ST_OK) {
            rc = cli_fail(&e);
            if (i + 1 < a.npos)
                fprintf(stderr, "twinline: files after %s were not loaded\n",
                        a.pos[i]);
            break;
        }
        cmd_load_summary(&n, line, sizeof(line));
        printf("%s: %s\n", a.pos[i], line);
    }
    if (rc == 0 && opts[0].set)
        rc = load_identities(&a, d, opts[0].value, opts[1].set);
    db_close(d);
    return rc;
}

/* ---- tenant / worker / playbook --------------------------------------- */

static const char tenant_usage[] = "usage: twinline tenant list\n"
                                   "\n"
                                   "List the tenants (banks and insurers).\n";

int cmd_tenant(int argc, char **argv, const config *cfg)
{
    cli_args a;
    db *d = NULL;
    err e = {0};
    int rc =
        cli_args_parse(argc, argv, 1, cfg, NULL, 0, NULL, tenant_usage, &a);

    if (rc != 0)
        return rc;
    if (a.help)
        return cli_help(tenant_usage);
    if (a.npos != 1 || strcmp(a.pos[0], "list") != 0)
        return cli_usage_error(tenant_usage, "%s", "expected: tenant list");
    if ((rc = cli_connect_db(&a, &d, &e)) != 0)
        return rc;
    if (cmd_tenant_list(d, stdout, &e) != ST_OK)
        rc = cli_fail(&e);
    db_close(d);
    return rc;
}

static const char worker_usage[] =
    "usage: twinline worker list [--pool POOL] [--kind human|ai]\n"
    "                            [--except ID,...] [--ids]\n"
    "       twinline worker (deactivate | activate | logout | pool) ...\n"
    "                       (twinline worker deactivate --help)\n"
    "\n"
    "List workers with pool, presence, skills (\"legal:1(ai 3)\" is level 1,\n"
    "3 with the AI skill pack) and capacity per channel.\n"
    "  --pool POOL       only this pool's workers\n"
    "  --kind KIND       only people (human) or only AI workers (ai)\n"
    "  --except ID,...   leave these workers out\n"
    "  --ids             print only the ids, comma-separated, for scripts:\n"
    "                    twinline-agent --workers \"$(twinline worker list\n"
    "                    --kind human --except w001 --ids)\"\n";

int cmd_worker(int argc, char **argv, const config *cfg)
{
    cli_opt opts[] = {{"--pool", true, NULL, false},
                      {"--ids", false, NULL, false},
                      {"--kind", true, NULL, false},
                      {"--except", true, NULL, false}};
    cmd_worker_filter f;
    cli_args a;
    db *d = NULL;
    err e = {0};
    int rc;

    /* The actions on a worker (cmd_ops.h) have their own options. */
    if (argc > 1 && cmd_ops_is_worker_verb(argv[1]))
        return cmd_ops_worker(argc, argv, cfg);
    rc = cli_args_parse(argc, argv, 1, cfg, opts, 4, NULL, worker_usage, &a);

    if (rc != 0)
        return rc;
    if (a.help)
        return cli_help(worker_usage);
    if (a.npos != 1 || strcmp(a.pos[0], "list") != 0)
        return cli_usage_error(worker_usage, "%s", "expected: worker list");
    if ((rc = cli_connect_db(&a, &d, &e)) != 0)
        return rc;
    f = (cmd_worker_filter){opts[0].value, opts[2].value, opts[3].value,
                            opts[1].set};
    if (cmd_worker_list(d, &f, stdout, &e) != ST_OK)
        rc = cli_fail(&e);
    db_close(d);
    return rc;
}

static const char playbook_usage[] =
    "usage: twinline playbook list\n"
    "       twinline playbook show TENANT CASE_TYPE\n"
    "\n"
    "List the latest version of every playbook, or show the steps of one.\n";

int cmd_playbook(int argc, char **argv, const config *cfg)
{
    cli_args a;
    db *d = NULL;
    err e = {0};
    status s;
    int rc =
        cli_args_parse(argc, argv, 1, cfg, NULL, 0, NULL, playbook_usage, &a);

    if (rc != 0)
        return rc;
    if (a.help)
        return cli_help(playbook_usage);
    if (!(a.npos == 1 && strcmp(a.pos[0], "list") == 0) &&
        !(a.npos == 3 && strcmp(a.pos[0], "show") == 0))
        return cli_usage_error(
            playbook_usage, "%s",
            "expected: playbook list, or playbook show TENANT "
            "CASE_TYPE");
    if ((rc = cli_connect_db(&a, &d, &e)) != 0)
        return rc;
    if (a.npos == 1)
        s = cmd_playbook_list(d, stdout, &e);
    else
        s = cmd_playbook_show(d, a.pos[1], a.pos[2], stdout, &e);
    if (s != ST_OK)
        rc = cli_fail(&e);
    db_close(d);
    return rc;
}

/* ---- case ------------------------------------------------------------- */

static const char case_usage[] =
    "usage: twinline case submit --tenant T --file CASE.json\n"
    "       twinline case submit --tenant T --type CASE_TYPE --external-id X\n"
    "                            [--priority N] [--payload JSON] "
    "[--customer JSON]\n"
    "       twinline case show --tenant T (CASE_ID | --external-id X)\n"
    "       twinline case (reopen | complaint) --tenant T\n"
    "                     (CASE_ID | --external-id X) --reason TEXT\n"
    "                     [--request-id R]\n"
    "       twinline case erase --tenant T (CASE_ID | --external-id X)\n"
    "                     [--request-id R] [--force]\n"
    "\n"
    "submit sends the bank API's submit request over NATS\n"
    "(<prefix>.api.<tenant>.case.submit) and prints the reply; the\n"
    "dispatcher must be running. show reads the case, its tasks, offers and\n"
    "outcomes from PostgreSQL. reopen and complaint file the bank's dispute\n"
    "of a result (<prefix>.api.<tenant>.case.reopen|complaint): billing\n"
    "reverses what the case was billed inside the contract's clawback\n"
    "window, with a credit note when it was invoiced. The same --request-id\n"
    "(or, without one, the same reason) returns the first dispute again.\n"
    "erase deletes the customer's personal data of a closed case (the right\n"
    "to erasure; --force for an open one) and keeps its billing records;\n"
    "--request-id is your reference for the request, e.g. a ticket number.\n";

/* Send body to the bank API's case.<verb> of tenant and print the reply;
 * the exit code. */
static int send_case_request(const cli_args *a, const char *tenant,
                             const char *verb, const char *body)
{
    char creds[sizeof(a->cfg.creds)];
    bus *b = NULL;
    bus_opts bo;
    err e = {0};
    int rc = 0;

    config_bus_opts(&a->cfg, "twinline-cli", &bo);
    if (config_creds_for(&a->cfg, "admin", creds, sizeof(creds), &e) != ST_OK)
        return cli_fail(&e);
    bo.creds = creds[0] != '\0' ? creds : NULL;
    if (bus_connect_opts(&b, &bo, &e) != ST_OK)
        return cli_fail(&e);
    if (cmd_case_request(b, a->cfg.prefix, tenant, verb, body, SUBMIT_TIMEOUT,
                         stdout, &e) != ST_OK) {
        char why[256];

        /* A refused publish looks like silence; say what NATS said. */
        bus_last_violation(b, why, sizeof(why));
        if (why[0] != '\0')
            err_set(&e, ST_CONFIG,
                    "NATS refused it (%s): this identity may not act for "
                    "tenant %s; give the tenant's credentials (--creds)",
                    why, tenant);
        rc = cli_fail(&e);
    }
    bus_close(b);
    return rc;
}

static int case_submit(cli_args *a, cli_opt *o)
{
    const char *tenant = o[0].value;
    char *body = NULL;
    err e = {0};
    int rc;
    status s;

    if (o[1].set) {
        if (o[2].set || o[3].set || o[4].set || o[5].set || o[6].set)
            return cli_usage_error(case_usage, "%s",
                                   "--file holds the whole request; do not "
                                   "combine it with --type, --external-id, "
                                   "--priority, --payload or --customer");
        s = cmd_case_body_file(o[1].value, &body, &e);
    } else {
        long prio = -1;
        char *end = NULL;

        if (!o[2].set || !o[3].set)
            return cli_usage_error(case_usage, "%s",
                                   "give --file, or --type and --external-id");
        if (o[4].set) {
            prio = strtol(o[4].value, &end, 10);
            if (end == o[4].value || *end != '\0' || prio < 0 || prio > 9)
                return cli_usage_error(case_usage, "%s",
                                       "--priority must be an integer 0..9");
        }
        s = cmd_case_body(o[2].value, o[3].value, (int)prio, o[5].value,
                          o[6].value, &body, &e);
    }
    if (s != ST_OK)
        return cli_fail(&e);
    rc = send_case_request(a, tenant, "submit", body);
    free(body);
    return rc;
}

/* The case a command names: CASE_ID (a->pos[1]) into *id, or ext
 * (--external-id), exactly one of them. 0, or the usage exit code. */
static int case_ref(const cli_args *a, const char *ext, int64_t *id)
{
    if ((ext != NULL) == (a->npos == 2))
        return cli_usage_error(case_usage, "%s",
                               "give either a CASE_ID or --external-id X");
    if (ext == NULL && !ids_parse_i64(a->pos[1], id))
        return cli_usage_error(
            case_usage, "CASE_ID \"%s\" must be a positive number", a->pos[1]);
    return 0;
}

/* case reopen|complaint: a->pos[0] is the verb. */
static int case_dispute(cli_args *a, cli_opt *o)
{
    const char *ext = o[3].value;
    int64_t id = 0;
    char *body = NULL;
    err e = {0};
    int rc;

    if ((rc = case_ref(a, ext, &id)) != 0)
        return rc;
    if (!o[7].set)
        return cli_usage_error(case_usage, "%s",
                               "--reason is required: why the bank "
                               "disputes the result");
    if (cmd_case_dispute_body(id, ext, o[7].value, o[8].value, &body, &e) !=
        ST_OK)
        return cli_fail(&e);
    rc = send_case_request(a, o[0].value, a->pos[0], body);
    free(body);
    return rc;
}

static int case_show(cli_args *a, cli_opt *o)
{
    const char *ext = o[3].value;
    int64_t id = 0;
    db *d = NULL;
    err e = {0};
    int rc;

    if ((rc = case_ref(a, ext, &id)) != 0)
        return rc;
    if ((rc = cli_connect_db(a, &d, &e)) != 0)
        return rc;
    if (cmd_case_show(d, o[0].value, id, ext, stdout, &e) != ST_OK)
        rc = cli_fail(&e);
    db_close(d);
    return rc;
}

static int case_erase(cli_args *a, cli_opt *o)
{
    const char *ext = o[3].value;
    int64_t id = 0;
    db *d = NULL;
    err e = {0};
    int rc;

    if ((rc = case_ref(a, ext, &id)) != 0)
        return rc;
    if ((rc = cli_connect_db(a, &d, &e)) != 0)
        return rc;
    if (cmd_case_erase(d, a->cfg.prefix, o[0].value, id, ext, o[8].value,
                       o[9].set, stdout, &e) != ST_OK)
        rc = cli_fail(&e);
    db_close(d);
    return rc;
}

int cmd_case(int argc, char **argv, const config *cfg)
{
    cli_opt o[] = {{"--tenant", true, NULL, false},
                   {"--file", true, NULL, false},
                   {"--type", true, NULL, false},
                   {"--external-id", true, NULL, false},
                   {"--priority", true, NULL, false},
                   {"--payload", true, NULL, false},
                   {"--customer", true, NULL, false},
                   {"--reason", true, NULL, false},
                   {"--request-id", true, NULL, false},
                   {"--force", false, NULL, false}};
    cli_args a;
    int rc = cli_args_parse(argc, argv, 1, cfg, o, 10, NULL, case_usage, &a);
    bool dispute, erase;

    if (rc != 0)
        return rc;
    if (a.help)
        return cli_help(case_usage);
    if (a.npos < 1 ||
        (strcmp(a.pos[0], "submit") != 0 && strcmp(a.pos[0], "show") != 0 &&
         strcmp(a.pos[0], "reopen") != 0 &&
         strcmp(a.pos[0], "complaint") != 0 && strcmp(a.pos[0], "erase") != 0))
        return cli_usage_error(case_usage, "%s",
                               "expected: case submit, show, reopen, "
                               "complaint or erase");
    dispute =
        strcmp(a.pos[0], "reopen") == 0 || strcmp(a.pos[0], "complaint") == 0;
    erase = strcmp(a.pos[0], "erase") == 0;
    if (!erase && o[9].set)
        return cli_usage_error(case_usage, "%s",
                               "--force belongs to case erase");
    if (!o[0].set)
        return cli_usage_error(
            case_usage, "%s",
            "--tenant is required; run: twinline tenant list");
    if (!dispute && (o[7].set || (o[8].set && !erase)))
        return cli_usage_error(case_usage, "%s",
                               "--reason and --request-id belong to case "
                               "reopen and case complaint (and --request-id "
                               "to case erase)");
    if (strcmp(a.pos[0], "submit") == 0) {
        if (a.npos != 1)
            return cli_usage_error(case_usage, "unexpected argument %s",
                                   a.pos[1]);
        return case_submit(&a, o);
    }
    if (a.npos > 2)
        return cli_usage_error(case_usage, "unexpected argument %s", a.pos[2]);
    if (dispute) {
        if (o[1].set || o[2].set || o[4].set || o[5].set || o[6].set)
            return cli_usage_error(case_usage, "%s",
                                   "case reopen and case complaint take "
                                   "--tenant, CASE_ID or --external-id, "
                                   "--reason and --request-id");
        return case_dispute(&a, o);
    }
    if (erase) {
        if (o[1].set || o[2].set || o[4].set || o[5].set || o[6].set)
            return cli_usage_error(case_usage, "%s",
                                   "case erase takes --tenant, CASE_ID or "
                                   "--external-id, --request-id and --force");
        return case_erase(&a, o);
    }
    if (o[1].set || o[2].set || o[4].set || o[5].set || o[6].set)
        return cli_usage_error(case_usage, "%s",
                               "case show takes only --tenant and CASE_ID or "
                               "--external-id");
    return case_show(&a, o);
}

/* ---- bill / report ---------------------------------------------------- */

static int parse_format(const cli_opt *o, const char *usage, cli_format *fmt)
{
    *fmt = ADMIN_FMT_TABLE;
    if (!o->set || strcmp(o->value, "table") == 0)
        return 0;
    if (strcmp(o->value, "kv") == 0) {
        *fmt = ADMIN_FMT_KV;
        return 0;
    }
    return cli_usage_error(usage, "--format must be table or kv (got \"%s\")",
                           o->value);
}

static const char bill_usage[] =
    "usage: twinline bill summary [--tenant T] [--format table|kv]\n"
    "       twinline bill report [--tenant T] [--period YYYY-MM]\n"
    "                            [--format table|kv]\n"
    "       twinline bill reconcile [--tenant T] [--period YYYY-MM]\n"
    "                               [--format table|kv]\n"
    "\n"
    "summary: totals of billable lines per tenant and currency, per operator\n"
    "and per outcome code: number of lines and amount.\n"
    "report: outcomes billed under price plans, per tenant and per operator:\n"
    "billed (verified), pending verification, reversed, the margin (bank\n"
    "price minus operator, worker and AI shares) per case, and the ledger's\n"
    "balance for the same outcomes. --period takes outcomes of that month\n"
    "(UTC); without it, all.\n"
    "reconcile: checks that the books agree with the results, per tenant and\n"
    "currency: every billable outcome billed once, splits sum to the price,\n"
    "the ledger's receivables equal the verified and pending results, the\n"
    "issued invoices and credit notes equal the invoiced results that still\n"
    "stand, document totals match their lines, and the trial balance is\n"
    "zero. Exit status 0 when all agree, 1 when any does not. Run it when\n"
    "billing is idle (a result just closed may not be billed yet).\n";

int cmd_bill(int argc, char **argv, const config *cfg)
{
    cli_opt o[] = {{"--tenant", true, NULL, false},
                   {"--format", true, NULL, false},
                   {"--period", true, NULL, false}};
    cli_format fmt;
    cli_args a;
    db *d = NULL;
    err e = {0};
    status s;
    bool report, reconcile;
    int mismatches = 0;
    int rc = cli_args_parse(argc, argv, 1, cfg, o, 3, NULL, bill_usage, &a);

    if (rc != 0)
        return rc;
    if (a.help)
        return cli_help(bill_usage);
    if (a.npos != 1 ||
        (strcmp(a.pos[0], "summary") != 0 && strcmp(a.pos[0], "report") != 0 &&
         strcmp(a.pos[0], "reconcile") != 0))
        return cli_usage_error(bill_usage, "%s",
                               "expected: bill summary, bill report or "
                               "bill reconcile");
    report = strcmp(a.pos[0], "report") == 0;
    reconcile = strcmp(a.pos[0], "reconcile") == 0;
    if (!report && !reconcile && o[2].set)
        return cli_usage_error(bill_usage, "%s",
                               "--period is for bill report and bill "
                               "reconcile");
    if ((rc = parse_format(&o[1], bill_usage, &fmt)) != 0)
        return rc;
    if ((rc = cli_connect_db(&a, &d, &e)) != 0)
        return rc;
    if (reconcile)
        s = cmd_bill_reconcile(d, o[0].value, o[2].value, fmt, stdout,
                               &mismatches, &e);
    else if (report)
        s = cmd_bill_report(d, o[0].value, o[2].value, fmt, stdout, &e);
    else
        s = cmd_bill_summary(d, o[0].value, fmt, stdout, &e);
    if (s != ST_OK)
        rc = cli_fail(&e);
    else if (mismatches > 0)
        rc = 1;
    db_close(d);
    return rc;
}

static const char report_usage[] =
    "usage: twinline report [--format table|kv]\n"
    "\n"
    "Summary of the run from the database: cases submitted and resolved,\n"
    "tasks and transfers per case, one-contact resolution, time to resolve\n"
    "(median, p90), offers per task, tasks within SLA, amounts billed.\n"
    "--format kv prints name=value lines for scripts.\n";

int cmd_report(int argc, char **argv, const config *cfg)
{
    cli_opt o[] = {{"--format", true, NULL, false}};
    cmd_report_figures *r = NULL;
    cli_format fmt;
    cli_args a;
    db *d = NULL;
    err e = {0};
    int rc = cli_args_parse(argc, argv, 1, cfg, o, 1, NULL, report_usage, &a);

    if (rc != 0)
        return rc;
    if (a.help)
        return cli_help(report_usage);
    if (a.npos != 0)
        return cli_usage_error(report_usage, "unexpected argument %s",
                               a.pos[0]);
    if ((rc = parse_format(&o[0], report_usage, &fmt)) != 0)
        return rc;
    if ((rc = cli_connect_db(&a, &d, &e)) != 0)
        return rc;
    if (cmd_report_collect(d, &r, &e) != ST_OK)
        rc = cli_fail(&e);
    else
        cmd_report_print(r, fmt, stdout);
    cmd_report_destroy(r);
    db_close(d);
    return rc;
}

/* ---- dispatch --------------------------------------------------------- */

static void main_help(const cli_command *cmds, int n)
{
    printf("usage: twinline [--db X] [--nats X] [--prefix X] COMMAND "
           "[ARGS...]\n\ncommands:\n");
    for (int i = 0; i < n; i++)
        printf("  %-10s %s\n", cmds[i].name, cmds[i].summary);
    printf("\nshared flags (also accepted after the command):\n%s"
           "\n`twinline COMMAND --help` describes a command.\n",
           config_flags_help);
}

int cli_subcommand(int argc, char **argv, const config *cfg,
                   const cli_command *subs, int nsubs, const char *usage)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        printf("%s", usage);
        return argc < 2 ? ADMIN_EXIT_USAGE : 0;
    }
    for (int i = 0; i < nsubs; i++)
        if (strcmp(argv[1], subs[i].name) == 0)
            return subs[i].run(argc, argv, cfg);
    return cli_usage_error(usage, "unknown subcommand \"%s\"", argv[1]);
}

int cli_main(int argc, char **argv, const cli_command *cmds, int ncmds)
{
    config cfg;
    err e = {0};
    int i;

    config_from_env(&cfg);
    for (i = 1; i < argc; i++) {
        if (config_take_flag(&cfg, argc, argv, &i, &e)) {
            if (e.code != ST_OK)
                return cli_fail(&e);
            continue;
        }
        break;
    }
    if (i >= argc || strcmp(argv[i], "--help") == 0 ||
        strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "help") == 0) {
        main_help(cmds, ncmds);
        return i >= argc ? EXIT_USAGE : 0;
    }
    for (int c = 0; c < ncmds; c++)
        if (strcmp(argv[i], cmds[c].name) == 0)
            return cmds[c].run(argc - i, argv + i, &cfg);
    fprintf(stderr, "twinline: unknown command \"%s\"; run: twinline --help\n",
            argv[i]);
    return EXIT_USAGE;
}
