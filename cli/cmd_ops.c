/* The operator's actions on workers and tasks, over NATS. */
#include "cmd_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "cli_args.h"
#include "cli_sql.h"
#include "db.h"
#include "ids.h"
#include "ops_msg.h"
#include "subjects.h"

#define OPS_TIMEOUT_MS 10000

static const char worker_usage[] =
    "usage: twinline worker (deactivate | activate | logout) WORKER "
    "--reason TEXT\n"
    "                       [--operator O]\n"
    "       twinline worker pool WORKER POOL --reason TEXT [--operator O]\n"
    "\n"
    "deactivate signs the worker out now (its offers and tasks go back to\n"
    "the queue) and refuses its sign-in until activate; logout signs it\n"
    "out and lets it sign in again; pool moves it to another pool of the\n"
    "same operator. The dispatcher does it and records it in the audit\n"
    "trail with the reason; the operator is the worker's unless --operator\n"
    "says otherwise.\n";

static const char task_usage[] =
    "usage: twinline task reassign TASK_ID [--worker W] --reason TEXT "
    "[--operator O]\n"
    "       twinline task cancel TASK_ID --reason TEXT [--operator O]\n"
    "\n"
    "reassign takes an offered or accepted task back from its worker and\n"
    "routes it again, to worker W when W can take it now; cancel cancels an\n"
    "open task and its case (the bank gets case.canceled; nothing is\n"
    "billed). The operator is the only one in the database unless\n"
    "--operator names it.\n";

bool cmd_ops_is_worker_verb(const char *verb)
{
    return strcmp(verb, "deactivate") == 0 || strcmp(verb, "activate") == 0 ||
           strcmp(verb, "logout") == 0 || strcmp(verb, "pool") == 0;
}

/* The operator to act for: op when given, else the worker's (worker "":
 * the only operator). */
static status operator_of(const config *cfg, const char *worker, const char *op,
                          char out[ID_MAX + 1], err *e)
{
    const char *params[1] = {worker};
    db *d = NULL;
    db_res *r = NULL;
    status s;

    if (op != NULL) {
        if (!ids_token_valid(op))
            return err_set(e, ST_INVALID,
                           "--operator \"%.64s\" is not an operator id", op);
        snprintf(out, ID_MAX + 1, "%s", op);
        return ST_OK;
    }
    s = db_connect(&d, cfg->db, e);
    if (s == ST_OK)
        s = db_run(d, &cli_sql_ops_operator_of, params, &r, e);
    if (s == ST_OK && db_i64(r, 0, CLI_OPS_OPERATOR_OF_CANDIDATES) != 1)
        s = worker[0] != '\0'
                ? err_set(e, ST_NOT_FOUND,
                          "worker \"%s\" is not registered; run: twinline "
                          "worker list",
                          worker)
                : err_set(
                      e, ST_INVALID,
                      "there are %lld operators; say which with "
                      "--operator O",
                      (long long)db_i64(r, 0, CLI_OPS_OPERATOR_OF_CANDIDATES));
    if (s == ST_OK)
        snprintf(out, ID_MAX + 1, "%s",
                 db_val(r, 0, CLI_OPS_OPERATOR_OF_OPERATOR_ID));
    db_res_free(r);
    db_close(d);
    return s;
}

/* Send r for operator op and print what the dispatcher says; the exit
 * code. */
static int send(const cli_args *a, const char *op, const ops_req *r)
{
    char subject[SUBJECTS_MAX], creds[sizeof(a->cfg.creds)], why[256];
    char *body = NULL;
    bus *b = NULL;
    bus_msg *m = NULL;
    bus_opts bo;
    ops_reply rep;
    size_t len;
    err e = {0};
    int rc = 1;
    status s = ops_msg_encode(r, &body, &len, &e);

    if (s == ST_OK)
        s = subjects_ops(subject, sizeof(subject), a->cfg.prefix, op,
                         ops_verb_name(r->verb), &e);
    if (s == ST_OK)
        s = config_creds_for(&a->cfg, "admin", creds, sizeof(creds), &e);
    if (s == ST_OK) {
        config_bus_opts(&a->cfg, "twinline-cli", &bo);
        bo.creds = creds[0] != '\0' ? creds : NULL;
        s = bus_connect_opts(&b, &bo, &e);
    }
    if (s == ST_OK)
        s = bus_request(b, subject, body, len, OPS_TIMEOUT_MS, &m, &e);
    if (s != ST_OK && b != NULL) {
        /* A refused publish looks like silence; say what NATS said. */
        bus_last_violation(b, why, sizeof(why));
        if (why[0] != '\0')
            err_set(&e, ST_CONFIG,
                    "NATS refused it (%s): this identity may not act for "
                    "operator %s; give the operator's credentials (--creds)",
                    why, op);
    }
    if (s == ST_OK)
        s = ops_msg_reply_decode(bus_msg_data(m), bus_msg_len(m), &rep, &e);
    if (s != ST_OK) {
        rc = cli_fail(&e);
    } else if (!rep.ok) {
        fprintf(stderr, "twinline: %s refused (%s): %s\n",
                ops_verb_name(r->verb), rep.code, rep.message);
    } else {
        char what[ID_MAX + 16];

        if (ops_verb_is_task(r->verb))
            snprintf(what, sizeof(what), "task %lld", (long long)r->task_id);
        else
            snprintf(what, sizeof(what), "worker %s", r->worker);
        if (!rep.changed)
            printf("%s: %s already; nothing changed\n", what, rep.state);
        else if (r->verb == OPS_TASK_REASSIGN && r->worker[0] != '\0')
            printf("%s: offered to %s; %d offer(s) or task(s) taken back\n",
                   what, r->worker, rep.released);
        else if (r->verb == OPS_WORKER_POOL)
            printf("%s: moved to pool %s\n", what, r->pool);
        else
            printf("%s: %s; %d offer(s) or task(s) taken back\n", what,
                   rep.state[0] != '\0' ? rep.state : "done", rep.released);
        rc = 0;
    }
    bus_msg_free(m);
    bus_close(b);
    free(body);
    return rc;
}

static int reason_into(const cli_opt *o, const char *usage, ops_req *r)
{
    if (!o->set)
        return cli_usage_error(usage, "%s",
                               "--reason is required: say why, for the "
                               "audit trail");
    if (strlen(o->value) < 1 || strlen(o->value) > OPS_REASON_MAX)
        return cli_usage_error(usage, "%s",
                               "--reason must be 1 to 500 characters");
    snprintf(r->reason, sizeof(r->reason), "%s", o->value);
    return 0;
}

int cmd_ops_worker(int argc, char **argv, const config *cfg)
{
    cli_opt o[] = {{"--reason", true, NULL, false},
                   {"--operator", true, NULL, false}};
    char op[ID_MAX + 1];
    ops_req r;
    cli_args a;
    err e = {0};
    int rc = cli_args_parse(argc, argv, 1, cfg, o, 2, NULL, worker_usage, &a);
    bool pool;

    if (rc != 0)
        return rc;
    if (a.help)
        return cli_help(worker_usage);
    memset(&r, 0, sizeof(r));
    pool = a.npos >= 1 && strcmp(a.pos[0], "pool") == 0;
    if (a.npos != (pool ? 3 : 2) || !cmd_ops_is_worker_verb(a.pos[0]))
        return cli_usage_error(worker_usage, "%s",
                               pool ? "expected: worker pool WORKER POOL"
                                    : "expected: worker VERB WORKER");
    if (!ids_token_valid(a.pos[1]) || (pool && !ids_token_valid(a.pos[2])))
        return cli_usage_error(worker_usage, "%s",
                               "worker and pool ids are 1-64 letters, "
                               "digits, '_' or '-'");
    r.verb = pool                                  ? OPS_WORKER_POOL
             : strcmp(a.pos[0], "deactivate") == 0 ? OPS_WORKER_DEACTIVATE
             : strcmp(a.pos[0], "activate") == 0   ? OPS_WORKER_ACTIVATE
                                                   : OPS_WORKER_LOGOUT;
    snprintf(r.worker, sizeof(r.worker), "%s", a.pos[1]);
    if (pool)
        snprintf(r.pool, sizeof(r.pool), "%s", a.pos[2]);
    if ((rc = reason_into(&o[0], worker_usage, &r)) != 0)
        return rc;
    if (operator_of(&a.cfg, r.worker, o[1].value, op, &e) != ST_OK)
        return cli_fail(&e);
    return send(&a, op, &r);
}

int cmd_task(int argc, char **argv, const config *cfg)
{
    cli_opt o[] = {{"--reason", true, NULL, false},
                   {"--operator", true, NULL, false},
                   {"--worker", true, NULL, false}};
    char op[ID_MAX + 1];
    ops_req r;
    cli_args a;
    err e = {0};
    int rc = cli_args_parse(argc, argv, 1, cfg, o, 3, NULL, task_usage, &a);

    if (rc != 0)
        return rc;
    if (a.help)
        return cli_help(task_usage);
    memset(&r, 0, sizeof(r));
    if (a.npos != 2 ||
        (strcmp(a.pos[0], "reassign") != 0 && strcmp(a.pos[0], "cancel") != 0))
        return cli_usage_error(task_usage, "%s",
                               "expected: task reassign|cancel TASK_ID");
    r.verb =
        strcmp(a.pos[0], "cancel") == 0 ? OPS_TASK_CANCEL : OPS_TASK_REASSIGN;
    if (!ids_parse_i64(a.pos[1], &r.task_id))
        return cli_usage_error(task_usage,
                               "TASK_ID \"%s\" must be a positive "
                               "number",
                               a.pos[1]);
    if (o[2].set) {
        if (r.verb != OPS_TASK_REASSIGN || !ids_token_valid(o[2].value))
            return cli_usage_error(task_usage, "%s",
                                   "--worker W goes with reassign and names "
                                   "a worker id");
        snprintf(r.worker, sizeof(r.worker), "%s", o[2].value);
    }
    if ((rc = reason_into(&o[0], task_usage, &r)) != 0)
        return rc;
    if (operator_of(&a.cfg, "", o[1].value, op, &e) != ST_OK)
        return cli_fail(&e);
    return send(&a, op, &r);
}
