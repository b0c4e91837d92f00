/*
 * The operators' endpoints: figures read from PostgreSQL, confined to the
 * key's operator by every statement's first parameter, and the actions
 * forwarded to the dispatcher on <p>.ops.<operator>.<verb> (the key's
 * operator: the dispatcher checks the task is in one of its pools).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console_int.h"
#include "console_plan.h"
#include "console_sql.h"
#include "ids.h"
#include "log.h"
#include "sbuf.h"
#include "subjects.h"

static const char *const no_query[] = {NULL};

void ops_pools(const api_req *a, console_http_reply *rep)
{
    const char *params[] = {a->who.owner};

    if (api_query_allowed(a, no_query, rep))
        api_run_doc(a, &console_sql_ops_pools, params, "pools", NULL, rep);
}

/* An optional integer field of a request body in [lo, hi]; absent leaves
 * buf empty (NULL parameter). */
static bool body_int(json_t *j, const char *name, long lo, long hi,
                     char buf[24], const char **param, console_http_reply *rep)
{
    json_t *v = json_object_get(j, name);
    char msg[160];

    *param = NULL;
    if (v == NULL)
        return true;
    if (!json_is_integer(v)) {
        snprintf(msg, sizeof(msg), "%s must be an integer", name);
        api_reply_error(rep, ST_WRONG_TYPE, msg);
        return false;
    }
    if (json_integer_value(v) < lo || json_integer_value(v) > hi) {
        snprintf(msg, sizeof(msg), "%s must be from %ld to %ld", name, lo, hi);
        api_reply_error(rep, ST_INVALID, msg);
        return false;
    }
    snprintf(buf, 24, "%lld", (long long)json_integer_value(v));
    *param = buf;
    return true;
}

/* The request body as a JSON object checked against fields; replies and
 * returns NULL on any error. */
static json_t *body_object(const api_req *a, const jfield *fields, int n,
                           console_http_reply *rep)
{
    size_t len;
    const char *body = console_http_body(a->http, &len);
    json_t *j = NULL;
    err e = {0};
    status st;

    st = jsonx_parse(body, len, a->c->o.max_body, &j, &e);
    if (st == ST_OK)
        st = jsonx_check(j, "request", fields, n, &e);
    if (st != ST_OK) {
        json_decref(j);
        api_reply_error(rep, st, e.msg);
        return NULL;
    }
    return j;
}

void ops_pool_settings(const api_req *a, console_http_reply *rep)
{
    static const jfield fields[] = {
        {"threshold_s", JF_INT, false},
        {"target_permille", JF_INT, false},
        {"model", JF_STRING, false},
        {"patience_s", JF_INT, false},
        {"shrinkage_permille", JF_INT, false},
        {"breach_minutes", JF_INT, false},
    };
    char b[6][24];
    const char *params[8] = {a->who.owner, a->path[0]};
    const char *model;
    json_t *j;
    db *d;
    db_res *r = NULL;
    err e = {0};
    status st;

    if (!api_query_allowed(a, no_query, rep))
        return;
    j = body_object(a, fields, 6, rep);
    if (j == NULL)
        return;
    model = jsonx_str(j, "model");
    if (model != NULL && strcmp(model, "erlang_c") != 0 &&
        strcmp(model, "erlang_a") != 0 && strcmp(model, "workload") != 0) {
        api_reply_error(rep, ST_INVALID,
                        "model must be erlang_c, erlang_a or workload");
        goto out;
    }
    if (!body_int(j, "threshold_s", 1, 86400, b[0], &params[2], rep) ||
        !body_int(j, "target_permille", 1, 999, b[1], &params[3], rep) ||
        !body_int(j, "patience_s", 1, 86400, b[3], &params[5], rep) ||
        !body_int(j, "shrinkage_permille", 0, 950, b[4], &params[6], rep) ||
        !body_int(j, "breach_minutes", 1, 1440, b[5], &params[7], rep))
        goto out;
    params[4] = model;
    d = api_db(a, rep);
    if (d == NULL)
        goto out;
    st = db_run(d, &console_sql_ops_pool_settings, params, &r, &e);
    api_db_put(a, d, st);
    if (st != ST_OK)
        api_reply_error(rep, st, e.msg);
    else if (db_rows(r) == 0)
        api_reply_error(rep, ST_NOT_FOUND,
                        "no such pool of yours; GET /api/v1/ops/pools lists "
                        "them");
    else {
        const char *p2[] = {a->who.owner};

        api_run_doc(a, &console_sql_ops_pools, p2, "pools", NULL, rep);
    }
    db_res_free(r);
out:
    json_decref(j);
}

void ops_workers(const api_req *a, console_http_reply *rep)
{
    static const char *const allowed[] = {"pool", NULL};
    const char *pool;
    const char *params[2];

    if (!api_query_allowed(a, allowed, rep) ||
        !api_query_token(a, "pool", &pool, rep))
        return;
    params[0] = a->who.owner;
    params[1] = pool;
    api_run_doc(a, &console_sql_ops_workers, params, "workers", NULL, rep);
}

void ops_worker(const api_req *a, console_http_reply *rep)
{
    const char *params[] = {a->who.owner, a->path[0]};

    if (api_query_allowed(a, no_query, rep))
        api_run_doc(a, &console_sql_ops_worker, params, "worker",
                    "no such worker in your pools", rep);
}

void ops_skills(const api_req *a, console_http_reply *rep)
{
    const char *params[] = {a->who.owner};

    if (api_query_allowed(a, no_query, rep))
        api_run_doc(a, &console_sql_ops_skills, params, "skills", NULL, rep);
}

void ops_presence(const api_req *a, console_http_reply *rep)
{
    const char *params[] = {a->who.owner};

    if (api_query_allowed(a, no_query, rep))
        api_run_doc(a, &console_sql_ops_presence, params, "presence", NULL,
                    rep);
}

static bool task_state_valid(const char *s)
{
    static const char *const states[] = {"waiting",  "pending",  "reserved",
                                         "assigned", "wrapping", "completed",
                                         "skipped",  "canceled", NULL};

    for (int i = 0; states[i] != NULL; i++) {
        if (strcmp(states[i], s) == 0)
            return true;
    }
    return false;
}

void ops_tasks(const api_req *a, console_http_reply *rep)
{
    static const char *const allowed[] = {"state", "limit", NULL};
    const char *state = console_http_query(a->http, "state");
    long limit;
    char lim[24];
    const char *params[3];

    if (!api_query_allowed(a, allowed, rep) ||
        !api_query_int(a, "limit", 1, 1000, 100, &limit, rep))
        return;
    if (state != NULL && !task_state_valid(state)) {
        api_reply_error(rep, ST_INVALID,
                        "state must be one of waiting, pending, reserved, "
                        "assigned, wrapping, completed, skipped, canceled");
        return;
    }
    snprintf(lim, sizeof(lim), "%ld", limit);
    params[0] = a->who.owner;
    params[1] = state != NULL ? state : "";
    params[2] = lim;
    api_run_doc(a, &console_sql_ops_tasks, params, "tasks", NULL, rep);
}

static bool path_id(const api_req *a, int i, int64_t *out,
                    console_http_reply *rep)
{
    if (!ids_parse_i64(a->path[i], out)) {
        api_reply_error(rep, ST_INVALID,
                        "the id in the path must be a positive integer");
        return false;
    }
    return true;
}

/*
 * Send an operator action to the dispatcher and record it, with its
 * reason and the reply, in console_audit whatever the outcome. The
 * connection for the audit is taken first: when the database is out of
 * reach nothing is sent, so no action goes unrecorded.
 */
static void ops_action(const api_req *a, const char *action, const char *rest,
                       const char *target, const char *reason, json_t *req,
                       console_http_reply *rep)
{
    char subject[SUBJECTS_MAX];
    char *body = jsonx_dump(req);
    char *reply = NULL;
    const char *params[7];
    bus_msg *m = NULL;
    err e = {0}, ae = {0};
    status st, ast;
    db *d;

    if (body == NULL) {
        api_reply_error(rep, ST_NOMEM, "out of memory");
        return;
    }
    if (subjects_ops(subject, sizeof(subject), a->c->cfg.prefix, a->who.owner,
                     rest, &e) != ST_OK) {
        api_reply_error(rep, ST_INVALID, e.msg);
        goto out;
    }
    d = api_db(a, rep);
    if (d == NULL)
        goto out;
    st = bus_request(a->c->bus, subject, body, strlen(body),
                     a->c->o.request_timeout_ms, &m, &e);
    if (st == ST_OK)
        reply = strndup(bus_msg_data(m), bus_msg_len(m));
    else
        reply = jsonx_error_reply(st, e.msg);
    params[0] = a->who.key_id;
    params[1] = a->who.owner;
    params[2] = action;
    params[3] = target;
    params[4] = reason;
    params[5] = body;
    params[6] = reply;
    ast = db_run(d, &console_sql_ops_audit_insert, params, NULL, &ae);
    api_db_put(a, d, ast);
    if (ast != ST_OK)
        log_error("console", "%s on %s sent but not audited: %s", action,
                  target, ae.msg);
    if (st == ST_UNAVAILABLE)
        api_reply_error(rep, ST_UNAVAILABLE,
                        "the dispatcher is not running; retry later");
    else if (st == ST_TIMEOUT)
        api_reply_error(rep, ST_TIMEOUT,
                        "the dispatcher did not answer in time; retry later");
    else if (st != ST_OK)
        api_reply_error(rep, st, e.msg);
    else
        api_reply_forward(rep, bus_msg_data(m), bus_msg_len(m), 200);
out:
    free(reply);
    bus_msg_free(m);
    free(body);
}

void ops_task_priority(const api_req *a, console_http_reply *rep)
{
    static const jfield fields[] = {
        {"priority", JF_INT, true},
        {"reason", JF_STRING, true},
    };
    int64_t task_id;
    json_t *j, *req = NULL;
    const char *reason;
    const char *params[2];
    db *d;
    db_res *r = NULL;
    err e = {0};
    status st;

    if (!api_query_allowed(a, no_query, rep) || !path_id(a, 0, &task_id, rep))
        return;
    j = body_object(a, fields, 2, rep);
    if (j == NULL)
        return;
    reason = jsonx_str(j, "reason");
    if (strlen(reason) < 1 || strlen(reason) > 500) {
        api_reply_error(rep, ST_INVALID, "reason must be 1 to 500 characters");
        goto out;
    }
    params[0] = a->who.owner;
    params[1] = a->path[0];
    d = api_db(a, rep);
    if (d == NULL)
        goto out;
    st = db_run(d, &console_sql_ops_task_case, params, &r, &e);
    api_db_put(a, d, st);
    if (st != ST_OK) {
        api_reply_error(rep, st, e.msg);
        goto out;
    }
    if (db_rows(r) == 0) {
        api_reply_error(rep, ST_NOT_FOUND,
                        "no such task among the case types you serve");
        goto out;
    }
    req = json_pack("{s:I,s:O}", "task_id", (json_int_t)task_id, "priority",
                    json_object_get(j, "priority"));
    ops_action(a, "task.priority", "task.priority", a->path[0], reason, req,
               rep);
out:
    db_res_free(r);
    json_decref(req);
    json_decref(j);
}

/* The reason every action carries, 1 to 500 bytes; replies otherwise. */
static bool reason_ok(const char *reason, console_http_reply *rep)
{
    if (reason == NULL || strlen(reason) < 1 || strlen(reason) > 500) {
        api_reply_error(rep, ST_INVALID, "reason must be 1 to 500 characters");
        return false;
    }
    return true;
}

/*
 * An action on the worker or task in the path, sent as the dispatcher's
 * request <p>.ops.<operator>.<verb>: the body's fields (fields, with
 * reason) and the path's worker (worker.*) or task_id (task.*). The
 * dispatcher checks the worker or task is the operator's and answers
 * with protocol.md's codes, passed on as they are.
 */
static void ops_forward(const api_req *a, const char *verb,
                        const jfield *fields, int n, console_http_reply *rep)
{
    bool task = strncmp(verb, "task.", 5) == 0;
    int64_t task_id = 0;
    json_t *j, *req = NULL;
    const char *reason;

    if (!api_query_allowed(a, no_query, rep) ||
        (task && !path_id(a, 0, &task_id, rep)))
        return;
    j = body_object(a, fields, n, rep);
    if (j == NULL)
        return;
    reason = jsonx_str(j, "reason");
    if (!reason_ok(reason, rep))
        goto out;
    req = json_deep_copy(j);
    if (req == NULL) {
        api_reply_error(rep, ST_NOMEM, "out of memory");
        goto out;
    }
    if (task)
        json_object_set_new(req, "task_id", json_integer((json_int_t)task_id));
    else
        json_object_set_new(req, "worker", json_string(a->path[0]));
    ops_action(a, verb, verb, a->path[0], reason, req, rep);
out:
    json_decref(req);
    json_decref(j);
}

static const jfield reason_only[] = {{"reason", JF_STRING, true}};

void ops_worker_deactivate(const api_req *a, console_http_reply *rep)
{
    ops_forward(a, "worker.deactivate", reason_only, 1, rep);
}

void ops_worker_activate(const api_req *a, console_http_reply *rep)
{
    ops_forward(a, "worker.activate", reason_only, 1, rep);
}

void ops_worker_logout(const api_req *a, console_http_reply *rep)
{
    ops_forward(a, "worker.logout", reason_only, 1, rep);
}

void ops_worker_skills(const api_req *a, console_http_reply *rep)
{
    static const jfield f[] = {{"skills", JF_OBJECT, true},
                               {"reason", JF_STRING, true}};

    ops_forward(a, "worker.skills", f, 2, rep);
}

void ops_worker_pool(const api_req *a, console_http_reply *rep)
{
    static const jfield f[] = {{"pool", JF_TOKEN, true},
                               {"reason", JF_STRING, true}};

    ops_forward(a, "worker.pool", f, 2, rep);
}

void ops_task_reassign(const api_req *a, console_http_reply *rep)
{
    static const jfield f[] = {{"worker", JF_ANY, false},
                               {"reason", JF_STRING, true}};

    ops_forward(a, "task.reassign", f, 2, rep);
}

void ops_task_cancel(const api_req *a, console_http_reply *rep)
{
    ops_forward(a, "task.cancel", reason_only, 1, rep);
}

void ops_case(const api_req *a, console_http_reply *rep)
{
    int64_t id;
    const char *params[] = {a->who.owner, a->path[0]};

    if (api_query_allowed(a, no_query, rep) && path_id(a, 0, &id, rep))
        api_run_doc(a, &console_sql_ops_case, params, "case",
                    "no such case among the case types you serve", rep);
}

void ops_queues(const api_req *a, console_http_reply *rep)
{
    const char *params[] = {a->who.owner};

    if (api_query_allowed(a, no_query, rep))
        api_run_doc(a, &console_sql_ops_queues, params, "queues", NULL, rep);
}

/* A figure of one month (?month=YYYY-MM, default this one): the
 * statement gets the operator and the month's bounds. */
static void month_doc(const api_req *a, const db_stmt *st, const char *name,
                      console_http_reply *rep)
{
    static const char *const allowed[] = {"month", NULL};
    char from[48], to[48];
    const char *params[3];

    if (!api_query_allowed(a, allowed, rep) ||
        !api_query_month(a, "month", from, to, rep))
        return;
    params[0] = a->who.owner;
    params[1] = from;
    params[2] = to;
    api_run_doc(a, st, params, name, NULL, rep);
}

void ops_fairness(const api_req *a, console_http_reply *rep)
{
    month_doc(a, &console_sql_ops_fairness, "fairness", rep);
}

void ops_ai_review(const api_req *a, console_http_reply *rep)
{
    month_doc(a, &console_sql_ops_ai_review, "ai_review", rep);
}

void ops_billing(const api_req *a, console_http_reply *rep)
{
    month_doc(a, &console_sql_ops_billing, "billing", rep);
}

void ops_statement(const api_req *a, console_http_reply *rep)
{
    month_doc(a, &console_sql_ops_statement, "statement", rep);
}

void ops_invoices(const api_req *a, console_http_reply *rep)
{
    const char *params[] = {a->who.owner};

    if (api_query_allowed(a, no_query, rep))
        api_run_doc(a, &console_sql_ops_invoices, params, "invoices", NULL,
                    rep);
}

void ops_alerts(const api_req *a, console_http_reply *rep)
{
    const char *params[] = {a->who.owner};

    if (api_query_allowed(a, no_query, rep))
        api_run_doc(a, &console_sql_alerts_list, params, "alerts", NULL, rep);
}

void ops_audit(const api_req *a, console_http_reply *rep)
{
    static const char *const allowed[] = {"limit", NULL};
    long limit;
    char lim[24];
    const char *params[2];

    if (!api_query_allowed(a, allowed, rep) ||
        !api_query_int(a, "limit", 1, 1000, 100, &limit, rep))
        return;
    snprintf(lim, sizeof(lim), "%ld", limit);
    params[0] = a->who.owner;
    params[1] = lim;
    api_run_doc(a, &console_sql_ops_audit, params, "audit", NULL, rep);
}

void ops_callups(const api_req *a, console_http_reply *rep)
{
    static const char *const allowed[] = {"limit", NULL};
    long limit;
    char lim[24];
    const char *params[2];

    if (!api_query_allowed(a, allowed, rep) ||
        !api_query_int(a, "limit", 1, 1000, 100, &limit, rep))
        return;
    snprintf(lim, sizeof(lim), "%ld", limit);
    params[0] = a->who.owner;
    params[1] = lim;
    api_run_doc(a, &console_sql_ops_callups, params, "callups", NULL, rep);
}

/* YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z, as PostgreSQL reads it. */
static bool time_valid(const char *s)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    char z = 0, extra;
    size_t n = strlen(s);

    if (n == 10)
        return sscanf(s, "%4d-%2d-%2d%c", &y, &mo, &d, &extra) == 3 &&
               mo >= 1 && mo <= 12 && d >= 1 && d <= 31;
    if (n == 17 &&
        sscanf(s, "%4d-%2d-%2dT%2d:%2d%c", &y, &mo, &d, &h, &mi, &z) == 6 &&
        z == 'Z')
        return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60;
    if (n == 20 &&
        sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &sec,
               &z) == 7 &&
        z == 'Z')
        return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 &&
               sec < 60;
    return false;
}

static void csv_intervals(db_res *r, console_http_reply *rep)
{
    static const char head[] =
        "interval_start,pool,skill,channel,offered,accepted,handled,expired,"
        "answered_in_sl,threshold_s,wait_avg_ms,wait_p90_ms,sl_permille,"
        "aht_ms,occupancy_permille,online_avg\n";
    sbuf b = {0};

    sbuf_append(&b, head, sizeof(head) - 1);
    for (int i = 0; i < db_rows(r); i++) {
        for (int c = 0; c < CONSOLE_OPS_INTERVALS_NCOLS; c++)
            /* Every value is a number, a timestamp or an identifier, so
             * none needs quoting. */
            sbuf_printf(&b, "%s%s", c > 0 ? "," : "", db_val(r, i, c));
        sbuf_append(&b, "\n", 1);
    }
    if (b.failed) {
        sbuf_free(&b);
        api_reply_error(rep, ST_NOMEM, "out of memory");
        return;
    }
    rep->status = 200;
    rep->content_type = "text/csv; charset=utf-8";
    rep->disposition = "attachment; filename=\"intervals.csv\"";
    rep->len = b.len;
    rep->body = sbuf_take(&b);
}

static json_t *num_or_null(db_res *r, int row, int col)
{
    if (db_null(r, row, col))
        return json_null();
    if (strchr(db_val(r, row, col), '.') != NULL)
        return json_real(strtod(db_val(r, row, col), NULL));
    return json_integer(db_i64(r, row, col));
}

static void json_intervals(db_res *r, console_http_reply *rep)
{
    static const char *const names[] = {
        "interval_start", "pool",        "skill",
        "channel",        "offered",     "accepted",
        "handled",        "expired",     "answered_in_sl",
        "threshold_s",    "wait_avg_ms", "wait_p90_ms",
        "sl_permille",    "aht_ms",      "occupancy_permille",
        "online_avg"};
    json_t *arr = json_array();

    for (int i = 0; i < db_rows(r); i++) {
        json_t *o = json_object();

        for (int c = 0; c < CONSOLE_OPS_INTERVALS_NCOLS; c++) {
            json_t *v = c < CONSOLE_OPS_INTERVALS_OFFERED
                            ? json_string(db_val(r, i, c))
                            : num_or_null(r, i, c);
            json_object_set_new(o, names[c], v);
        }
        json_array_append_new(arr, o);
    }
    api_reply_json(rep, 200, json_pack("{s:b,s:o}", "ok", 1, "intervals", arr));
}

void ops_intervals(const api_req *a, console_http_reply *rep)
{
    static const char *const allowed[] = {"pool", "from", "to", "format", NULL};
    const char *pool, *from, *to, *format;
    const char *params[4];
    char lo[40];
    db *d;
    db_res *r = NULL;
    err e = {0};
    status st;

    if (!api_query_allowed(a, allowed, rep) ||
        !api_query_token(a, "pool", &pool, rep))
        return;
    from = console_http_query(a->http, "from");
    to = console_http_query(a->http, "to");
    format = console_http_query(a->http, "format");
    if ((from != NULL && !time_valid(from)) ||
        (to != NULL && !time_valid(to))) {
        api_reply_error(rep, ST_INVALID,
                        "from and to are UTC times: YYYY-MM-DD or "
                        "YYYY-MM-DDTHH:MM:SSZ");
        return;
    }
    if (format != NULL && strcmp(format, "json") != 0 &&
        strcmp(format, "csv") != 0) {
        api_reply_error(rep, ST_INVALID, "format must be json or csv");
        return;
    }
    /* By default the last 24 hours. */
    if (from == NULL) {
        time_t t = time(NULL) - (to == NULL ? 86400 : 0);
        struct tm tm;

        gmtime_r(&t, &tm);
        strftime(lo, sizeof(lo), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    params[0] = a->who.owner;
    params[1] = pool;
    params[2] = from != NULL ? from : (to == NULL ? lo : "-infinity");
    params[3] = to != NULL ? to : "infinity";
    d = api_db(a, rep);
    if (d == NULL)
        return;
    st = db_run(d, &console_sql_ops_intervals, params, &r, &e);
    api_db_put(a, d, st);
    if (st != ST_OK) {
        api_reply_error(rep, st, e.msg);
        return;
    }
    if (format != NULL && strcmp(format, "csv") == 0)
        csv_intervals(r, rep);
    else
        json_intervals(r, rep);
    db_res_free(r);
}

void ops_forecast(const api_req *a, console_http_reply *rep)
{
    static const char *const allowed[] = {"pool",    "skill", "channel",
                                          "horizon", "weeks", NULL};
    const char *pool, *skill, *channel;
    long horizon, weeks;
    json_t *out = NULL;
    db *d;
    err e = {0};
    status st;

    if (!api_query_allowed(a, allowed, rep) ||
        !api_query_token(a, "pool", &pool, rep) ||
        !api_query_token(a, "skill", &skill, rep) ||
        !api_query_int(a, "horizon", 1, 672, 96, &horizon, rep) ||
        !api_query_int(a, "weeks", 1, 8, 4, &weeks, rep))
        return;
    channel = console_http_query(a->http, "channel");
    if (pool[0] == '\0' || skill[0] == '\0' || channel == NULL) {
        api_reply_error(rep, ST_MISSING_FIELD,
                        "pool, skill and channel name the queue to forecast "
                        "(GET /api/v1/ops/queues lists them)");
        return;
    }
    if (strcmp(channel, "voice") != 0 && strcmp(channel, "chat") != 0 &&
        strcmp(channel, "backoffice") != 0) {
        api_reply_error(rep, ST_INVALID,
                        "channel must be voice, chat or backoffice");
        return;
    }
    d = api_db(a, rep);
    if (d == NULL)
        return;
    st = console_plan_queue(d, a->who.owner, pool, skill, channel, (int)horizon,
                            (int)weeks, &out, &e);
    api_db_put(a, d, st);
    if (st != ST_OK) {
        api_reply_error(rep, st, e.msg);
        return;
    }
    api_reply_json(rep, 200, json_pack("{s:b,s:o}", "ok", 1, "plan", out));
}
