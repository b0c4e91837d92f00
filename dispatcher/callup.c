/* The elastic call-up: invitations, answers and releases, one at a time. */
#include "callup.h"

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
#include "state.h"
#include "subjects.h"

#define MOD "dispatcher"

static status notice(dispatcher *d, const char *worker, char *body, err *e)
{
    char subj[SUBJECTS_MAX];
    status s = subjects_worker(subj, sizeof(subj), d->cfg.prefix, worker,
                               SUBJECTS_NOTICE, e);

    if (s != ST_OK) {
        free(body);
        return s;
    }
    return dsp_outq_send(d->out, subj, body, e);
}

static status invite(dispatcher *d, const char *op, const ops_req *q,
                     ops_result *res, err *e)
{
    char rbuf[24], obuf[24], abuf[24], *body = NULL;
    const char *ep[1] = {op};
    const char *wp[4] = {q->worker, op, q->pool, q->skill};
    const char *ip[8] = {q->worker,
                         op,
                         q->pool,
                         q->skill,
                         db_i64_str(rbuf, q->required),
                         db_i64_str(obuf, q->online),
                         q->reason,
                         db_i64_str(abuf, q->answer_s)};
    db_res *r = NULL;
    size_t len;
    status s = db_run(d->db, &dsp_sql_callup_expire, ep, NULL, e);

    if (s == ST_OK)
        s = db_run(d->db, &dsp_sql_callup_worker, wp, &r, e);
    if (s != ST_OK)
        goto out;
    if (db_rows(r) == 0)
        s = err_set(e, ST_NOT_FOUND, "worker \"%s\" is not registered",
                    q->worker);
    else if (!db_bool(r, 0, DSP_CALLUP_WORKER_MINE))
        s = err_set(e, ST_NOT_YOURS,
                    "worker %s is not in a pool of operator %s", q->worker, op);
    else if (!db_bool(r, 0, DSP_CALLUP_WORKER_IN_POOL))
        s = err_set(e, ST_INVALID, "worker %s is not in pool %s", q->worker,
                    q->pool);
    else if (!db_bool(r, 0, DSP_CALLUP_WORKER_ON_CALL))
        s = err_set(e, ST_INVALID,
                    "worker %s is not on call (workers.on_call; twinline "
                    "load sets it)",
                    q->worker);
    else if (!db_bool(r, 0, DSP_CALLUP_WORKER_ACTIVE))
        s = err_set(e, ST_INVALID, "worker %s is deactivated", q->worker);
    else if (!db_bool(r, 0, DSP_CALLUP_WORKER_OFFLINE))
        s = err_set(e, ST_INVALID, "worker %s is online already", q->worker);
    else if (db_i64(r, 0, DSP_CALLUP_WORKER_LEVEL) < 1)
        s = err_set(e, ST_INVALID, "worker %s lacks skill %s", q->worker,
                    q->skill);
    else if (db_bool(r, 0, DSP_CALLUP_WORKER_OPEN_CALLUP))
        s = err_set(e, ST_INVALID, "worker %s has an open call-up already",
                    q->worker);
    if (s != ST_OK)
        goto out;
    db_res_free(r);
    r = NULL;
    s = db_run(d->db, &dsp_sql_callup_insert, ip, &r, e);
    if (s != ST_OK)
        goto out;
    res->callup_id = db_i64(r, 0, DSP_CALLUP_INSERT_ID);
    res->state = "invited";
    res->changed = true;
    s = agent_notice_callup_encode(res->callup_id, q->pool, q->skill,
                                   db_i64(r, 0, DSP_CALLUP_INSERT_DEADLINE_MS),
                                   q->reason, &body, &len, e);
    if (s == ST_OK)
        s = notice(d, q->worker, body, e);
out:
    db_res_free(r);
    return s;
}

static status release(dispatcher *d, const char *op, const ops_req *q,
                      ops_result *res, err *e)
{
    const char *wp[4] = {q->worker, op, "", "none"};
    const char *rp[2] = {q->worker, q->reason};
    char *body = NULL;
    db_res *r = NULL;
    size_t len;
    int w;
    status s = db_run(d->db, &dsp_sql_callup_worker, wp, &r, e);

    if (s != ST_OK)
        goto out;
    if (db_rows(r) == 0)
        s = err_set(e, ST_NOT_FOUND, "worker \"%s\" is not registered",
                    q->worker);
    else if (!db_bool(r, 0, DSP_CALLUP_WORKER_MINE))
        s = err_set(e, ST_NOT_YOURS,
                    "worker %s is not in a pool of operator %s", q->worker, op);
    else if (!db_bool(r, 0, DSP_CALLUP_WORKER_OPEN_CALLUP))
        s = err_set(e, ST_INVALID, "worker %s has no open call-up to release",
                    q->worker);
    if (s != ST_OK)
        goto out;
    db_res_free(r);
    r = NULL;
    s = db_run(d->db, &dsp_sql_callup_busy, wp, &r, e);
    if (s == ST_OK && db_i64(r, 0, DSP_CALLUP_BUSY_HELD) > 0)
        s = err_set(e, ST_INVALID,
                    "worker %s holds %lld offers or tasks; a worker is "
                    "released only between tasks",
                    q->worker, (long long)db_i64(r, 0, DSP_CALLUP_BUSY_HELD));
    if (s != ST_OK)
        goto out;
    db_res_free(r);
    r = NULL;
    s = db_run(d->db, &dsp_sql_callup_release, rp, &r, e);
    if (s != ST_OK || db_rows(r) == 0)
        goto out;
    res->callup_id = db_i64(r, 0, DSP_CALLUP_RELEASE_ID);
    res->state = "released";
    res->changed = true;
    s = dsp_worker_index(d, q->worker, &w, e);
    if (s == ST_OK) {
        d->winfo[w].available = false;
        router_worker_available(d->router, w, false, clock_wall_us());
        s = agent_notice_callup_release_encode(res->callup_id, q->reason, &body,
                                               &len, e);
    }
    if (s == ST_OK)
        s = notice(d, q->worker, body, e);
out:
    db_res_free(r);
    return s;
}

static status ops_one(dispatcher *d, const dsp_req *q, err *e)
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
        !ops_verb_parse(p.verb, &v) ||
        (v != OPS_CALLUP_INVITE && v != OPS_CALLUP_RELEASE))
        return err_set(e, ST_NOT_FOUND, "no such operation %s",
                       bus_msg_subject(m));
    s = ops_msg_decode(v, bus_msg_data(m), bus_msg_len(m), &r, e);
    if (s == ST_OK)
        s = v == OPS_CALLUP_INVITE ? invite(d, q->party, &r, &res, e)
                                   : release(d, q->party, &r, &res, e);
    if (s == ST_OK) {
        log_info(MOD, "operator %s: %s %s (%s)", q->party, ops_verb_name(v),
                 r.worker, r.reason);
        s = dsp_ops_record(d, q, &r, &res, e);
    }
    if (s == ST_OK)
        s = ops_msg_reply(&r, &res, &body, &len, e);
    if (s == ST_OK)
        s = dsp_outq_reply(d->out, m, body, e);
    return s;
}

status dsp_callup_ops(dispatcher *d, const dsp_req *reqs, int n, err *e)
{
    status s = ST_OK;

    for (int i = 0; s == ST_OK && i < n; i++) {
        err re = {0};
        dsp_outq_fail(d->out, reqs[i].m, ops_one(d, &reqs[i], &re), &re, &s, e);
    }
    return s;
}

/* The worker's answer; a repeat of the same answer is fine. */
static status answer_one(dispatcher *d, const dsp_req *q, err *e)
{
    agent_callup_answer a;
    char ibuf[24], *body = NULL;
    const char *params[3];
    db_res *r = NULL;
    size_t len;
    status s =
        agent_msg_callup_decode(bus_msg_data(q->m), bus_msg_len(q->m), &a, e);

    if (s != ST_OK)
        return s;
    params[0] = db_i64_str(ibuf, a.callup_id);
    params[1] = q->party;
    params[2] = a.accept ? "true" : "false";
    s = db_run(d->db, &dsp_sql_callup_answer, params, &r, e);
    if (s == ST_OK && db_rows(r) == 0) {
        const char *want = a.accept ? "accepted" : "declined";

        db_res_free(r);
        r = NULL;
        s = db_run(d->db, &dsp_sql_callup_get, params, &r, e);
        if (s != ST_OK)
            goto out;
        if (db_rows(r) == 0)
            s = err_set(e, ST_NOT_FOUND, "call-up %lld does not exist",
                        (long long)a.callup_id);
        else if (strcmp(db_val(r, 0, DSP_CALLUP_GET_WORKER_ID), q->party) != 0)
            s = err_set(e, ST_NOT_YOURS, "call-up %lld is another worker's",
                        (long long)a.callup_id);
        else if (strcmp(db_val(r, 0, DSP_CALLUP_GET_STATE), want) != 0)
            s = err_set(
                e, ST_STALE, "call-up %lld is %s%s; it can no longer be %s",
                (long long)a.callup_id, db_val(r, 0, DSP_CALLUP_GET_STATE),
                db_bool(r, 0, DSP_CALLUP_GET_LATE) ? " (answer late)" : "",
                want);
        if (s != ST_OK)
            goto out;
    } else if (s == ST_OK) {
        log_info(MOD, "worker %s %s call-up %lld", q->party,
                 a.accept ? "accepted" : "declined", (long long)a.callup_id);
    }
    if (s == ST_OK)
        s = agent_reply_ok(&body, &len, e);
    if (s == ST_OK)
        s = dsp_outq_reply(d->out, q->m, body, e);
out:
    db_res_free(r);
    return s;
}

status dsp_callup_answer(dispatcher *d, const dsp_req *reqs, int n, err *e)
{
    status s = ST_OK;

    for (int i = 0; s == ST_OK && i < n; i++) {
        err re = {0};
        dsp_outq_fail(d->out, reqs[i].m, answer_one(d, &reqs[i], &re), &re, &s,
                      e);
    }
    return s;
}
