/* The operator's actions on its workers and tasks, one request at a time. */
#include "ops_actions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_msg.h"
#include "clock.h"
#include "dsp_sql.h"
#include "log.h"
#include "ops_msg.h"
#include "ops_record.h"
#include "outq.h"
#include "sbuf.h"
#include "state.h"
#include "subjects.h"

#define MOD "dispatcher"

/* A worker as ops_worker.sql gives it. */
typedef struct wrow {
    char pool[ID_MAX + 1];
    bool active;
    bool online;
    char session[ID_MAX + 1];
} wrow;

/* Worker id of operator op into *out; not_found or not_yours otherwise. */
static status worker_read(dispatcher *d, const char *op, const char *id,
                          wrow *out, err *e)
{
    const char *params[2] = {id, op};
    db_res *r = NULL;
    status s = db_run(d->db, &dsp_sql_ops_worker, params, &r, e);

    if (s != ST_OK)
        goto out;
    if (db_rows(r) == 0) {
        s = err_set(e, ST_NOT_FOUND,
                    "worker \"%s\" is not registered; GET "
                    "/api/v1/ops/workers or twinline list workers shows "
                    "yours",
                    id);
        goto out;
    }
    if (!db_bool(r, 0, DSP_OPS_WORKER_MINE)) {
        s = err_set(e, ST_NOT_YOURS,
                    "worker %s is not in a pool of operator %s", id, op);
        goto out;
    }
    snprintf(out->pool, sizeof(out->pool), "%s",
             db_val(r, 0, DSP_OPS_WORKER_POOL_ID));
    out->active = db_bool(r, 0, DSP_OPS_WORKER_ACTIVE);
    out->online = strcmp(db_val(r, 0, DSP_OPS_WORKER_PRESENCE), "offline") != 0;
    snprintf(out->session, sizeof(out->session), "%s",
             db_val(r, 0, DSP_OPS_WORKER_SESSION_ID));
out:
    db_res_free(r);
    return s;
}

/* Sign worker q->worker out (and deactivate it): offline at once, its
 * offers and tasks back to the queue, the agent told. */
static status worker_off(dispatcher *d, const ops_req *q, const wrow *w,
                         bool deactivate, ops_result *res, err *e)
{
    const char *why = deactivate ? "deactivated" : "logged_out";
    const char *params[3] = {q->worker, deactivate ? "true" : "false",
                             deactivate ? "deactivated by the operator"
                                        : "logged out by the operator"};
    char subj[SUBJECTS_MAX], *body = NULL;
    db_res *r = NULL;
    size_t len;
    int wi;
    status s = dsp_worker_index(d, q->worker, &wi, e);

    if (s == ST_OK)
        s = db_run(d->db, &dsp_sql_ops_worker_off, params, &r, e);
    for (int j = 0; s == ST_OK && j < db_rows(r); j++) {
        if (strcmp(db_val(r, j, DSP_OPS_WORKER_OFF_KIND), "worker") == 0) {
            d->winfo[wi].available = false;
            router_worker_available(d->router, wi, false, clock_wall_us());
            continue;
        }
        router_task_release(d->router, db_i64(r, j, DSP_OPS_WORKER_OFF_TASK_ID),
                            wi, clock_wall_us());
        res->released++;
        s = dsp_outq_notice(d->out, q->worker,
                            db_i64(r, j, DSP_OPS_WORKER_OFF_RESERVATION_ID),
                            why, e);
    }
    /* The agent hears it even when it held nothing, so it stops sending
     * heartbeats for a worker that is signed out. */
    if (s == ST_OK)
        s = subjects_worker(subj, sizeof(subj), d->cfg.prefix, q->worker,
                            SUBJECTS_NOTICE, e);
    if (s == ST_OK)
        s = agent_notice_signout_encode(w->session, why, q->reason, &body, &len,
                                        e);
    if (s == ST_OK)
        s = dsp_outq_send(d->out, subj, body, e);
    res->changed = w->online || res->released > 0 || (deactivate && w->active);
    res->state = deactivate ? "deactivated" : "offline";
    db_res_free(r);
    return s;
}

static status worker_activate(dispatcher *d, const ops_req *q, ops_result *res,
                              err *e)
{
    const char *params[1] = {q->worker};
    db_res *r = NULL;
    status s = db_run(d->db, &dsp_sql_ops_worker_activate, params, &r, e);

    if (s == ST_OK)
        res->changed = db_rows(r) > 0;
    res->state = "offline";
    db_res_free(r);
    return s;
}

static status worker_skills(dispatcher *d, const ops_req *q, ops_result *res,
                            err *e)
{
    sbuf names = {0}, levels = {0}, ai = {0};
    const char *p1[1] = {q->worker};
    status s = ST_OK;

    sbuf_append(&names, "{", 1);
    sbuf_append(&levels, "{", 1);
    sbuf_append(&ai, "{", 1);
    for (int i = 0; i < q->nskills; i++) {
        const char *c = i > 0 ? "," : "";

        sbuf_printf(&names, "%s", c);
        sbuf_pg_elem(&names, q->skills[i].skill);
        sbuf_printf(&levels, "%s%d", c, q->skills[i].level);
        sbuf_printf(&ai, "%s%d", c, q->skills[i].ai_level);
    }
    sbuf_append(&names, "}", 1);
    sbuf_append(&levels, "}", 1);
    sbuf_append(&ai, "}", 1);
    if (names.failed || levels.failed || ai.failed) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    s = db_run(d->db, &dsp_sql_ops_skills_clear, p1, NULL, e);
    if (s == ST_OK) {
        const char *p4[4] = {q->worker, sbuf_str(&names), sbuf_str(&levels),
                             sbuf_str(&ai)};
        s = db_run(d->db, &dsp_sql_ops_skills_set, p4, NULL, e);
    }
    if (s == ST_OK)
        s = dsp_worker_reload(d, q->worker, e);
    res->changed = true;
out:
    sbuf_free(&names);
    sbuf_free(&levels);
    sbuf_free(&ai);
    return s;
}

static status worker_pool(dispatcher *d, const char *op, const ops_req *q,
                          const wrow *w, ops_result *res, err *e)
{
    const char *pp[2] = {q->pool, op};
    const char *up[2] = {q->worker, q->pool};
    db_res *r = NULL;
    status s = db_run(d->db, &dsp_sql_ops_pool, pp, &r, e);

    if (s != ST_OK)
        goto out;
    if (db_rows(r) == 0) {
        s = err_set(e, ST_NOT_FOUND,
                    "pool \"%s\" does not exist; GET /api/v1/ops/pools "
                    "lists yours",
                    q->pool);
        goto out;
    }
    if (!db_bool(r, 0, DSP_OPS_POOL_MINE)) {
        s = err_set(e, ST_NOT_YOURS,
                    "pool %s is not a pool of operator %s; a worker moves "
                    "only between pools of its own operator",
                    q->pool, op);
        goto out;
    }
    res->pool = q->pool;
    if (strcmp(w->pool, q->pool) == 0)
        goto out; /* there already: nothing to write */
    db_res_free(r);
    r = NULL;
    s = db_run(d->db, &dsp_sql_ops_move_pool, up, &r, e);
    if (s == ST_OK)
        s = dsp_worker_reload(d, q->worker, e);
    res->changed = true;
out:
    db_res_free(r);
    return s;
}

static status worker_action(dispatcher *d, const char *op, const ops_req *q,
                            ops_result *res, err *e)
{
    wrow w;
    status s = worker_read(d, op, q->worker, &w, e);

    if (s != ST_OK)
        return s;
    switch (q->verb) {
    case OPS_WORKER_DEACTIVATE:
        return worker_off(d, q, &w, true, res, e);
    case OPS_WORKER_LOGOUT:
        return worker_off(d, q, &w, false, res, e);
    case OPS_WORKER_ACTIVATE:
        return worker_activate(d, q, res, e);
    case OPS_WORKER_SKILLS:
        return worker_skills(d, q, res, e);
    case OPS_WORKER_POOL:
        return worker_pool(d, op, q, &w, res, e);
    default:
        return err_set(e, ST_INTERNAL, "not a worker action");
    }
}

/* Task q->task_id of operator op, open; its case into *case_id. */
static status task_read(dispatcher *d, const char *op, const ops_req *q,
                        int64_t *case_id, char state[16], err *e)
{
    char tbuf[24];
    const char *params[2] = {db_i64_str(tbuf, q->task_id), op};
    db_res *r = NULL;
    status s = db_run(d->db, &dsp_sql_ops_task, params, &r, e);
    const char *st;

    if (s != ST_OK)
        goto out;
    if (db_rows(r) == 0) {
        s = err_set(e, ST_NOT_FOUND, "task %lld does not exist",
                    (long long)q->task_id);
        goto out;
    }
    if (!db_bool(r, 0, DSP_OPS_TASK_SERVED)) {
        s = err_set(e, ST_NOT_YOURS,
                    "task %lld is not in a pool of operator %s",
                    (long long)q->task_id, op);
        goto out;
    }
    st = db_val(r, 0, DSP_OPS_TASK_STATE);
    if (strcmp(st, "pending") != 0 && strcmp(st, "reserved") != 0 &&
        strcmp(st, "assigned") != 0) {
        s = err_set(e, ST_INVALID,
                    "task %lld is %s; only pending, reserved (offered) or "
                    "assigned (accepted) tasks can be %s",
                    (long long)q->task_id, st,
                    q->verb == OPS_TASK_CANCEL ? "canceled" : "reassigned");
        goto out;
    }
    snprintf(state, 16, "%s", st);
    *case_id = db_i64(r, 0, DSP_OPS_TASK_CASE_ID);
out:
    db_res_free(r);
    return s;
}

/* The named worker can take the task once its holders let it go. */
static status target_check(dispatcher *d, const char *op, const ops_req *q,
                           int *wt, err *e)
{
    int held[ROUTER_BROADCAST_MAX];
    int nheld;
    wrow w;
    status s = worker_read(d, op, q->worker, &w, e);

    if (s == ST_OK)
        s = dsp_worker_index(d, q->worker, wt, e);
    if (s != ST_OK)
        return s;
    if (d->opts.no_affinity)
        return err_set(e, ST_INVALID,
                       "this dispatcher runs without affinity "
                       "(--no-affinity), which offering to a named worker "
                       "needs; reassign without a worker");
    nheld =
        router_task_holders(d->router, q->task_id, held, ROUTER_BROADCAST_MAX);
    for (int i = 0; i < nheld && i < ROUTER_BROADCAST_MAX; i++)
        if (held[i] == *wt)
            return err_set(e, ST_INVALID, "worker %s holds task %lld already",
                           q->worker, (long long)q->task_id);
    if (!router_task_fits(d->router, q->task_id, *wt, clock_wall_us()))
        return err_set(e, ST_INVALID,
                       "worker %s cannot take task %lld now: it is not "
                       "available, has no free slot on the task's channel, "
                       "lacks a skill, licence or contract the step needs, "
                       "or turned the task down before; twinline explain "
                       "shows what the step needs",
                       q->worker, (long long)q->task_id);
    return ST_OK;
}

static status task_reassign(dispatcher *d, const char *op, const ops_req *q,
                            ops_result *res, err *e)
{
    char tbuf[24], state[16];
    const char *params[2] = {db_i64_str(tbuf, q->task_id),
                             "reassigned by the operator"};
    int64_t case_id = 0;
    int wt = -1;
    db_res *r = NULL;
    status s = task_read(d, op, q, &case_id, state, e);

    if (s != ST_OK)
        return s;
    if (q->worker[0] == '\0' && strcmp(state, "pending") == 0)
        return err_set(e, ST_INVALID,
                       "task %lld is waiting in the queue already; name a "
                       "worker to offer it to",
                       (long long)q->task_id);
    if (q->worker[0] != '\0' && (s = target_check(d, op, q, &wt, e)) != ST_OK)
        return s;
    s = db_run(d->db, &dsp_sql_ops_task_release, params, &r, e);
    for (int j = 0; s == ST_OK && j < db_rows(r); j++) {
        const char *worker = db_val(r, j, DSP_OPS_TASK_RELEASE_WORKER_ID);
        int w;

        s = dsp_worker_index(d, worker, &w, e);
        /* Not straight back to the worker it was taken from. */
        if (s == ST_OK)
            s = router_task_exclude(d->router, q->task_id, w, e);
        if (s != ST_OK)
            break;
        router_task_release(d->router, q->task_id, w, clock_wall_us());
        res->released++;
        s = dsp_outq_notice(d->out, worker,
                            db_i64(r, j, DSP_OPS_TASK_RELEASE_RESERVATION_ID),
                            "reassigned", e);
    }
    /* The routing at the end of this batch prefers the affine worker
     * whenever it fits, which target_check made sure of. */
    if (s == ST_OK && wt >= 0)
        s = router_affinity_set(d->router, case_id, wt, e);
    res->changed = true;
    res->state = "pending";
    db_res_free(r);
    return s;
}

static status task_cancel(dispatcher *d, const char *op, const ops_req *q,
                          ops_result *res, err *e)
{
    char tbuf[24], state[16], head[SUBJECTS_MAX], tail[SUBJECTS_MAX];
    const char *params[4] = {db_i64_str(tbuf, q->task_id), q->reason, head,
                             tail};
    int64_t case_id = 0;
    db_res *r = NULL;
    status s = task_read(d, op, q, &case_id, state, e);

    if (s == ST_OK)
        s = subjects_event_parts(head, tail, d->cfg.prefix, SUBJECTS_EVT_CASE,
                                 e);
    if (s != ST_OK)
        return s;
    s = db_run(d->db, &dsp_sql_ops_task_cancel, params, &r, e);
    for (int j = 0; s == ST_OK && j < db_rows(r); j++) {
        if (strcmp(db_val(r, j, DSP_OPS_TASK_CANCEL_KIND), "sibling") == 0) {
            router_task_remove(d->router, db_i64(r, j, DSP_OPS_TASK_CANCEL_ID),
                               clock_wall_us());
            continue;
        }
        res->released++;
        s = dsp_outq_notice(d->out, db_val(r, j, DSP_OPS_TASK_CANCEL_WORKER_ID),
                            db_i64(r, j, DSP_OPS_TASK_CANCEL_ID), "canceled",
                            e);
    }
    if (s == ST_OK) {
        router_task_remove(d->router, q->task_id, clock_wall_us());
        d->events_written = true;
    }
    res->changed = true;
    res->state = "canceled";
    db_res_free(r);
    return s;
}

static status action_one(dispatcher *d, const dsp_req *q, err *e)
{
    const bus_msg *m = q->m;
    subjects_parsed p;
    ops_result res = {0};
    ops_req r;
    ops_verb v;
    char *body = NULL;
    size_t len;
    status s;

    if (!subjects_parse(bus_msg_subject(m), d->cfg.prefix, &p) ||
        !ops_verb_parse(p.verb, &v))
        return err_set(e, ST_NOT_FOUND, "no such operation %s",
                       bus_msg_subject(m));
    s = ops_msg_decode(v, bus_msg_data(m), bus_msg_len(m), &r, e);
    if (s != ST_OK)
        return s;
    s = ops_verb_is_task(v)
            ? (v == OPS_TASK_CANCEL ? task_cancel(d, q->party, &r, &res, e)
                                    : task_reassign(d, q->party, &r, &res, e))
            : worker_action(d, q->party, &r, &res, e);
    if (s != ST_OK)
        return s;
    if (res.changed) {
        log_info(MOD, "operator %s: %s on %s%s (%s)", q->party,
                 ops_verb_name(v), ops_verb_is_task(v) ? "task " : "",
                 ops_verb_is_task(v) ? "" : r.worker, r.reason);
        s = dsp_ops_record(d, q, &r, &res, e);
    }
    if (s == ST_OK)
        s = ops_msg_reply(&r, &res, &body, &len, e);
    if (s == ST_OK)
        s = dsp_outq_reply(d->out, m, body, e);
    return s;
}

/*
 * Rare: one request at a time, in arrival order. Each checks before it
 * writes, so a refusal leaves nothing behind in the batch's transaction.
 */
status dsp_ops_action(dispatcher *d, const dsp_req *reqs, int n, err *e)
{
    status s = ST_OK;

    for (int i = 0; s == ST_OK && i < n; i++) {
        err re = {0};
        dsp_outq_fail(d->out, reqs[i].m, action_one(d, &reqs[i], &re), &re, &s,
                      e);
    }
    return s;
}
