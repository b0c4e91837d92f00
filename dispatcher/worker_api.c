/* The worker protocol's presence, heartbeat and reject, set-wise. */
#include "worker_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_msg.h"
#include "clock.h"
#include "dsp_sql.h"
#include "log.h"
#include "outq.h"
#include "reservations.h"
#include "sbuf.h"
#include "state.h"

#define MOD "dispatcher"

static status reply_ok(dispatcher *d, const bus_msg *m, err *e)
{
    char *body = NULL;
    size_t len;
    status s = agent_reply_ok(&body, &len, e);

    return s == ST_OK ? dsp_outq_reply(d->out, m, body, e) : s;
}

static status not_registered(const char *worker, err *e)
{
    return err_set(e, ST_NOT_FOUND,
                   "worker \"%s\" is not registered; an operator adds it "
                   "with: twinline load FILE",
                   worker);
}

/* Tell the router what the database now says of worker's presence. */
static status set_available(dispatcher *d, const char *worker, bool avail,
                            err *e)
{
    int w;
    status s = dsp_worker_index(d, worker, &w, e);

    if (s != ST_OK)
        return s;
    d->winfo[w].available = avail;
    router_worker_available(d->router, w, avail, clock_wall_us());
    return ST_OK;
}

status dsp_presence(dispatcher *d, const dsp_req *reqs, int n, err *e)
{
    agent_presence *p = calloc((size_t)n, sizeof(*p));
    bool *ok = calloc((size_t)n, sizeof(bool)), *known = NULL;
    sbuf wks = {0}, prs = {0};
    db_res *r = NULL;
    int k = 0;
    status s = ST_OK;

    known = calloc((size_t)n, sizeof(bool));
    if (p == NULL || ok == NULL || known == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; s == ST_OK && i < n; i++) {
        err re = {0};
        status rs = agent_msg_presence_decode(
            bus_msg_data(reqs[i].m), bus_msg_len(reqs[i].m), &p[i], &re);

        ok[i] = rs == ST_OK;
        dsp_outq_fail(d->out, reqs[i].m, rs, &re, &s, e);
        if (!ok[i])
            continue;
        sbuf_printf(&wks, "%s%s", k > 0 ? "," : "{", reqs[i].party);
        sbuf_printf(&prs, "%s%s", k > 0 ? "," : "{", agent_presence_name(p[i]));
        k++;
    }
    if (s != ST_OK || k == 0)
        goto out;
    sbuf_append(&wks, "}", 1);
    sbuf_append(&prs, "}", 1);
    if (wks.failed || prs.failed) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    {
        const char *params[2] = {sbuf_str(&wks), sbuf_str(&prs)};
        s = db_run(d->db, &dsp_sql_presence_set, params, &r, e);
    }
    /* Each worker the statement found ends at its last request's
     * presence. */
    for (int j = 0; s == ST_OK && j < db_rows(r); j++) {
        const char *w = db_val(r, j, DSP_PRESENCE_SET_ID);
        for (int i = 0; i < n; i++)
            if (ok[i] && strcmp(reqs[i].party, w) == 0)
                known[i] = true;
        s = set_available(
            d, w,
            strcmp(db_val(r, j, DSP_PRESENCE_SET_PRESENCE), "available") == 0,
            e);
    }
    for (int i = 0; s == ST_OK && i < n; i++) {
        char *body = NULL;
        size_t len;
        err re = {0};

        if (!ok[i])
            continue;
        if (!known[i]) {
            dsp_outq_fail(d->out, reqs[i].m, not_registered(reqs[i].party, &re),
                          &re, &s, e);
            continue;
        }
        s = agent_reply_presence(p[i], &body, &len, e);
        if (s == ST_OK)
            s = dsp_outq_reply(d->out, reqs[i].m, body, e);
    }
out:
    db_res_free(r);
    sbuf_free(&wks);
    sbuf_free(&prs);
    free(p);
    free(ok);
    free(known);
    return s;
}

/*
 * The heartbeats that named the reservations their agent holds
 * (hb[i].has_held), in one statement (heartbeat_sync.sql): what an agent
 * does not hold is rescinded, the worker told (notice not_held) and the
 * task back in the queue; what it holds but the database has no record of
 * goes into its reply as unknown (unknown[i], nunknown[i]).
 */
static status resync(dispatcher *d, const dsp_req *reqs, int n, const bool *ok,
                     const agent_heartbeat *hb,
                     int64_t (*unknown)[AGENT_HELD_MAX], int *nunknown, err *e)
{
    sbuf ws = {0}, pw = {0}, pid = {0};
    db_res *r = NULL;
    int k = 0, kp = 0;
    status s = ST_OK;

    for (int i = 0; i < n; i++) {
        if (!ok[i] || !hb[i].has_held)
            continue;
        sbuf_printf(&ws, "%s%s", k++ > 0 ? "," : "{", reqs[i].party);
        for (int j = 0; j < hb[i].nheld; j++, kp++) {
            sbuf_printf(&pw, "%s%s", kp > 0 ? "," : "{", reqs[i].party);
            sbuf_printf(&pid, "%s%lld", kp > 0 ? "," : "{",
                        (long long)hb[i].held[j]);
        }
    }
    if (k == 0)
        goto out;
    sbuf_append(&ws, "}", 1);
    if (kp == 0) {
        sbuf_append(&pw, "{", 1);
        sbuf_append(&pid, "{", 1);
    }
    sbuf_append(&pw, "}", 1);
    sbuf_append(&pid, "}", 1);
    if (ws.failed || pw.failed || pid.failed) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    {
        const char *params[3] = {sbuf_str(&ws), sbuf_str(&pw), sbuf_str(&pid)};
        s = db_run(d->db, &dsp_sql_heartbeat_sync, params, &r, e);
    }
    for (int j = 0; s == ST_OK && j < db_rows(r); j++) {
        const char *worker = db_val(r, j, DSP_HEARTBEAT_SYNC_WORKER_ID);
        int64_t res = db_i64(r, j, DSP_HEARTBEAT_SYNC_RESERVATION_ID);

        if (strcmp(db_val(r, j, DSP_HEARTBEAT_SYNC_KIND), "rescinded") == 0) {
            int64_t task = db_i64(r, j, DSP_HEARTBEAT_SYNC_TASK_ID);
            int w = strtab_find(d->workers, worker);
            log_warn(MOD,
                     "task %lld: reservation %lld was not held by %s's "
                     "agent; back in the queue",
                     (long long)task, (long long)res, worker);
            if (w >= 0)
                router_task_release(d->router, task, w, clock_wall_us());
            else
                router_task_requeue(d->router, task, clock_wall_us());
            s = dsp_outq_notice(d->out, worker, res, "not_held", e);
            continue;
        }
        /* The last heartbeat of the worker in the batch says so. */
        for (int i = n - 1; i >= 0; i--)
            if (ok[i] && hb[i].has_held && strcmp(reqs[i].party, worker) == 0) {
                if (nunknown[i] < AGENT_HELD_MAX)
                    unknown[i][nunknown[i]++] = res;
                break;
            }
    }
out:
    db_res_free(r);
    sbuf_free(&ws);
    sbuf_free(&pw);
    sbuf_free(&pid);
    return s;
}

/* Every heartbeat of the batch in one statement, and the re-sync of those
 * that name what their agent holds in one more; each is answered ok, with
 * the reservations the dispatcher has no record of (a worker that is not
 * registered changes nothing). */
status dsp_heartbeat(dispatcher *d, const dsp_req *reqs, int n, err *e)
{
    agent_heartbeat *hb = calloc((size_t)n, sizeof(*hb));
    int64_t(*unknown)[AGENT_HELD_MAX] = calloc((size_t)n, sizeof(*unknown));
    int *nunknown = calloc((size_t)n, sizeof(int));
    bool *ok = calloc((size_t)n, sizeof(bool));
    sbuf arr = {0};
    db_res *r = NULL;
    int k = 0;
    status s = ST_OK;

    if (hb == NULL || unknown == NULL || nunknown == NULL || ok == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; s == ST_OK && i < n; i++) {
        err re = {0};
        status rs = agent_msg_heartbeat_decode_held(
            bus_msg_data(reqs[i].m), bus_msg_len(reqs[i].m), &hb[i], &re);

        ok[i] = rs == ST_OK;
        dsp_outq_fail(d->out, reqs[i].m, rs, &re, &s, e);
        if (ok[i])
            sbuf_printf(&arr, "%s%s", k++ > 0 ? "," : "{", reqs[i].party);
    }
    if (s != ST_OK || k == 0)
        goto out;
    sbuf_append(&arr, "}", 1);
    if (arr.failed) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    {
        const char *params[1] = {sbuf_str(&arr)};
        s = db_run(d->db, &dsp_sql_heartbeats, params, &r, e);
    }
    for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
        int w = strtab_find(d->workers, db_val(r, i, DSP_HEARTBEATS_ID));
        bool avail = db_bool(r, i, DSP_HEARTBEATS_AVAILABLE);

        if (w >= 0 && w < d->cap_winfo && d->winfo[w].available != avail) {
            d->winfo[w].available = avail;
            router_worker_available(d->router, w, avail, clock_wall_us());
        }
    }
    if (s == ST_OK)
        s = resync(d, reqs, n, ok, hb, unknown, nunknown, e);
    for (int i = 0; s == ST_OK && i < n; i++) {
        char *body = NULL;
        size_t len;

        if (!ok[i])
            continue;
        s = agent_reply_heartbeat(unknown[i], nunknown[i], &body, &len, e);
        if (s == ST_OK)
            s = dsp_outq_reply(d->out, reqs[i].m, body, e);
    }
out:
    db_res_free(r);
    sbuf_free(&arr);
    free(hb);
    free(unknown);
    free(nunknown);
    free(ok);
    return s;
}

/*
 * Every reject of the batch in one statement. The rare ones it did not
 * match — a retry of a reject already done, a repeat inside the batch, a
 * stale or foreign reservation — are answered from one lookup after it:
 * ok when the reservation is this worker's and already rejected at that
 * epoch, else the diagnosis.
 */
status dsp_reject(dispatcher *d, const dsp_req *reqs, int n, err *e)
{
    agent_answer *a = calloc((size_t)n, sizeof(*a));
    int *state = calloc((size_t)n, sizeof(int)); /* 0 bad, 1 sent, 2 done */
    int64_t *ids = calloc((size_t)n, sizeof(int64_t));
    dsp_res *res = calloc((size_t)n, sizeof(dsp_res));
    sbuf rids = {0}, eps = {0}, wks = {0}, why = {0};
    db_res *r = NULL;
    int k = 0, nrest = 0;
    status s = ST_OK;

    if (a == NULL || state == NULL || ids == NULL || res == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; s == ST_OK && i < n; i++) {
        err re = {0};
        status rs = agent_msg_reject_decode(bus_msg_data(reqs[i].m),
                                            bus_msg_len(reqs[i].m), &a[i], &re);
        bool repeat = false;

        if (rs != ST_OK) {
            dsp_outq_fail(d->out, reqs[i].m, rs, &re, &s, e);
            continue;
        }
        state[i] = 1;
        for (int j = 0; j < i && !repeat; j++)
            repeat =
                state[j] != 0 && a[j].reservation_id == a[i].reservation_id;
        if (repeat)
            continue; /* answered after the statement, from the lookup */
        sbuf_printf(&rids, "%s%lld", k > 0 ? "," : "{",
                    (long long)a[i].reservation_id);
        sbuf_printf(&eps, "%s%lld", k > 0 ? "," : "{", (long long)a[i].epoch);
        sbuf_printf(&wks, "%s%s", k > 0 ? "," : "{", reqs[i].party);
        sbuf_append(&why, k > 0 ? "," : "{", 1);
        sbuf_pg_elem(&why, a[i].reason);
        k++;
    }
    if (s != ST_OK)
        goto out;
    if (k > 0) {
        sbuf_append(&rids, "}", 1);
        sbuf_append(&eps, "}", 1);
        sbuf_append(&wks, "}", 1);
        sbuf_append(&why, "}", 1);
        if (rids.failed || eps.failed || wks.failed || why.failed) {
            s = err_set(e, ST_NOMEM, "out of memory");
            goto out;
        }
        {
            const char *params[4] = {sbuf_str(&rids), sbuf_str(&eps),
                                     sbuf_str(&wks), sbuf_str(&why)};
            s = db_run(d->db, &dsp_sql_reject_set, params, &r, e);
        }
    }
    for (int j = 0; s == ST_OK && r != NULL && j < db_rows(r); j++) {
        int64_t rid = db_i64(r, j, DSP_REJECT_SET_RESERVATION_ID);
        int64_t task = db_i64(r, j, DSP_REJECT_SET_TASK_ID);
        int w;

        s = dsp_worker_index(d, db_val(r, j, DSP_REJECT_SET_WORKER_ID), &w, e);
        if (s == ST_OK)
            s = router_task_exclude(d->router, task, w, e);
        if (s != ST_OK)
            break;
        router_task_release(d->router, task, w, clock_wall_us());
        /* The first request of this reservation was the one written. */
        for (int i = 0; i < n; i++)
            if (state[i] == 1 && a[i].reservation_id == rid) {
                state[i] = 2;
                s = reply_ok(d, reqs[i].m, e);
                break;
            }
    }
    for (int i = 0; i < n; i++)
        if (state[i] == 1)
            ids[nrest++] = a[i].reservation_id;
    if (s != ST_OK || nrest == 0)
        goto out;
    s = dsp_res_lookup(d->db, ids, nrest, res, e);
    for (int i = 0, x = 0; s == ST_OK && i < n; i++) {
        err re = {0};
        const dsp_res *l;

        if (state[i] != 1)
            continue;
        l = &res[x++];
        /* Rejecting twice (a retry after a lost reply) is fine. */
        if (dsp_res_is(l, reqs[i].party, a[i].epoch, "rejected"))
            s = reply_ok(d, reqs[i].m, e);
        else
            dsp_outq_fail(d->out, reqs[i].m,
                          dsp_res_diagnose(l, a[i].reservation_id,
                                           reqs[i].party, a[i].epoch, &re),
                          &re, &s, e);
    }
out:
    db_res_free(r);
    sbuf_free(&rids);
    sbuf_free(&eps);
    sbuf_free(&wks);
    sbuf_free(&why);
    free(a);
    free(state);
    free(ids);
    free(res);
    return s;
}
