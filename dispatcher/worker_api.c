/* The worker protocol's presence (with sessions), heartbeat and reject,
 * set-wise. */
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
#include "subjects.h"

#define MOD "dispatcher"

static status reply_ok(dispatcher *d, const bus_msg *m, err *e)
{
    char *body = NULL;
    size_t len;
    status s = agent_reply_ok(&body, &len, e);

    return s == ST_OK ? dsp_outq_reply(d->out, m, body, e) : s;
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

/* A worker's session as the database holds it, and as the batch's
 * requests change it. */
typedef struct sess {
    char worker[ID_MAX + 1];
    char id[ID_MAX + 1]; /* "" for none */
    char host[AGENT_HOST_MAX + 1];
    int64_t pid;
    char since[AGENT_SINCE_MAX + 1]; /* "2026-11-26 09:14:03" (UTC) */
    bool live;
} sess;

/* The sessions of the workers in list (a PostgreSQL array literal) into
 * *out (caller frees), *nout of them. */
static status sessions_read(dispatcher *d, const char *list, sess **out,
                            int *nout, err *e)
{
    char lbuf[24];
    const char *params[2] = {list, db_i64_str(lbuf, d->opts.lease_ms)};
    db_res *r = NULL;
    sess *ss = NULL;
    status s = db_run(d->db, &dsp_sql_worker_sessions, params, &r, e);

    if (s == ST_OK && db_rows(r) > 0) {
        ss = calloc((size_t)db_rows(r), sizeof(*ss));
        if (ss == NULL)
            s = err_set(e, ST_NOMEM, "out of memory");
    }
    for (int j = 0; s == ST_OK && j < db_rows(r); j++) {
        sess *x = &ss[j];

        snprintf(x->worker, sizeof(x->worker), "%s",
                 db_val(r, j, DSP_WORKER_SESSIONS_ID));
        snprintf(x->id, sizeof(x->id), "%s",
                 db_val(r, j, DSP_WORKER_SESSIONS_SESSION_ID));
        snprintf(x->host, sizeof(x->host), "%s",
                 db_val(r, j, DSP_WORKER_SESSIONS_SESSION_HOST));
        x->pid = db_i64(r, j, DSP_WORKER_SESSIONS_SESSION_PID);
        snprintf(x->since, sizeof(x->since), "%s",
                 db_val(r, j, DSP_WORKER_SESSIONS_SESSION_SINCE));
        x->live = db_bool(r, j, DSP_WORKER_SESSIONS_LIVE);
    }
    if (s == ST_OK) {
        *out = ss;
        *nout = db_rows(r);
        ss = NULL;
    }
    free(ss);
    db_res_free(r);
    return s;
}

static sess *sess_find(sess *ss, int n, const char *worker)
{
    for (int i = 0; i < n; i++)
        if (strcmp(ss[i].worker, worker) == 0)
            return &ss[i];
    return NULL;
}

/* "session S on host H (pid P) since T UTC": who holds the worker. */
static void sess_describe(const sess *x, char *buf, size_t cap)
{
    snprintf(buf, cap, "session %s on host %s (pid %lld)%s%s%s", x->id,
             x->host[0] != '\0' ? x->host : "?", (long long)x->pid,
             x->since[0] != '\0' ? " since " : "", x->since,
             x->since[0] != '\0' ? " UTC" : "");
}

static status sign_in_refused(const char *worker, const sess *x, err *e)
{
    char who[256];

    sess_describe(x, who, sizeof(who));
    return err_set(e, ST_SESSION_CONFLICT,
                   "worker %s is signed in elsewhere: %s; quit it there, or "
                   "sign in with --takeover to replace it",
                   worker, who);
}

/* Whether presence request r may change worker x's presence; *replaced
 * gets the session it ends (or ""). Updates x as the request leaves it. */
static bool sess_allows(sess *x, const agent_presence_req *r, char *replaced)
{
    const char *mine = r->has_signin ? r->signin.id : "";

    replaced[0] = '\0';
    if (x->id[0] != '\0' && strcmp(x->id, mine) != 0) {
        if (x->live && !r->takeover)
            return false;
        snprintf(replaced, ID_MAX + 1, "%s", x->id);
    }
    if (r->presence == AGENT_PRESENCE_OFFLINE || !r->has_signin) {
        x->id[0] = '\0';
    } else {
        snprintf(x->id, sizeof(x->id), "%s", r->signin.id);
        snprintf(x->host, sizeof(x->host), "%s", r->signin.host);
        x->pid = r->signin.pid;
        x->since[0] = '\0';
    }
    x->live = true;
    return true;
}

/*
 * The offers and tasks of the workers whose session another replaced go
 * back to the queue, and each old session is told (a notice the new one
 * ignores, since the session id is not its own).
 */
static status sessions_replaced(dispatcher *d, const dsp_req *reqs,
                                const agent_presence_req *pr, char **ended,
                                int n, err *e)
{
    sbuf wks = {0};
    db_res *r = NULL;
    int k = 0;
    status s = ST_OK;

    for (int i = 0; s == ST_OK && i < n; i++) {
        char subj[SUBJECTS_MAX], *body = NULL;
        size_t len;

        if (ended[i] == NULL)
            continue;
        sbuf_printf(&wks, "%s%s", k++ > 0 ? "," : "{", reqs[i].party);
        log_info(MOD, "worker %s: session %s replaced by %s", reqs[i].party,
                 ended[i], pr[i].has_signin ? pr[i].signin.id : "(none)");
        s = subjects_worker(subj, sizeof(subj), d->cfg.prefix, reqs[i].party,
                            SUBJECTS_NOTICE, e);
        if (s == ST_OK)
            s = agent_notice_session_encode(
                ended[i], pr[i].has_signin ? &pr[i].signin : NULL, NULL, &body,
                &len, e);
        if (s == ST_OK)
            s = dsp_outq_send(d->out, subj, body, e);
    }
    if (s != ST_OK || k == 0)
        goto out;
    sbuf_append(&wks, "}", 1);
    if (wks.failed) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    {
        const char *params[1] = {sbuf_str(&wks)};
        s = db_run(d->db, &dsp_sql_session_rescind, params, &r, e);
    }
    for (int j = 0; s == ST_OK && j < db_rows(r); j++) {
        const char *worker = db_val(r, j, DSP_SESSION_RESCIND_WORKER_ID);
        int64_t task = db_i64(r, j, DSP_SESSION_RESCIND_TASK_ID);
        int w = strtab_find(d->workers, worker);

        if (w >= 0)
            router_task_release(d->router, task, w, clock_wall_us());
        else
            router_task_requeue(d->router, task, clock_wall_us());
        s = dsp_outq_notice(d->out, worker,
                            db_i64(r, j, DSP_SESSION_RESCIND_RESERVATION_ID),
                            "session_replaced", e);
    }
out:
    db_res_free(r);
    sbuf_free(&wks);
    return s;
}

status dsp_presence(dispatcher *d, const dsp_req *reqs, int n, err *e)
{
    agent_presence_req *p = calloc((size_t)n, sizeof(*p));
    bool *ok = calloc((size_t)n, sizeof(bool)), *known = NULL;
    char **ended = calloc((size_t)n, sizeof(char *));
    char **slots = calloc((size_t)n, sizeof(char *));
    sbuf all = {0}, wks = {0}, prs = {0}, sids = {0}, hosts = {0}, pids = {0};
    sess *ss = NULL;
    db_res *r = NULL;
    int k = 0, nall = 0, nss = 0;
    status s = ST_OK;

    known = calloc((size_t)n, sizeof(bool));
    if (p == NULL || ok == NULL || known == NULL || ended == NULL ||
        slots == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; s == ST_OK && i < n; i++) {
        err re = {0};
        status rs = agent_msg_presence_decode(
            bus_msg_data(reqs[i].m), bus_msg_len(reqs[i].m), &p[i], &re);

        ok[i] = rs == ST_OK;
        dsp_outq_fail(d->out, reqs[i].m, rs, &re, &s, e);
        if (ok[i])
            sbuf_printf(&all, "%s%s", nall++ > 0 ? "," : "{", reqs[i].party);
    }
    if (s != ST_OK || nall == 0)
        goto out;
    sbuf_append(&all, "}", 1);
    if (all.failed) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    /* Each request against the worker's session as the requests before it
     * in the batch leave it. */
    if ((s = sessions_read(d, sbuf_str(&all), &ss, &nss, e)) != ST_OK)
        goto out;
    for (int i = 0; s == ST_OK && i < n; i++) {
        sess *x = ok[i] ? sess_find(ss, nss, reqs[i].party) : NULL;
        char replaced[ID_MAX + 1];
        err re = {0};

        if (x == NULL)
            continue; /* not registered: said after the statement */
        if (!sess_allows(x, &p[i], replaced)) {
            ok[i] = false;
            dsp_outq_fail(d->out, reqs[i].m,
                          sign_in_refused(reqs[i].party, x, &re), &re, &s, e);
            continue;
        }
        if (replaced[0] != '\0' && (ended[i] = strdup(replaced)) == NULL)
            s = err_set(e, ST_NOMEM, "out of memory");
    }
    for (int i = 0; s == ST_OK && i < n; i++) {
        const char *c = k > 0 ? "," : "{";

        if (!ok[i])
            continue;
        sbuf_printf(&wks, "%s%s", c, reqs[i].party);
        sbuf_printf(&prs, "%s%s", c, agent_presence_name(p[i].presence));
        sbuf_printf(&sids, "%s%s", c,
                    p[i].has_signin ? p[i].signin.id : "\"\"");
        sbuf_append(&hosts, c, 1);
        sbuf_pg_elem(&hosts, p[i].has_signin ? p[i].signin.host : "");
        sbuf_printf(&pids, "%s%lld", c,
                    p[i].has_signin ? (long long)p[i].signin.pid : 0LL);
        k++;
    }
    if (s != ST_OK || k == 0)
        goto out;
    sbuf_append(&wks, "}", 1);
    sbuf_append(&prs, "}", 1);
    sbuf_append(&sids, "}", 1);
    sbuf_append(&hosts, "}", 1);
    sbuf_append(&pids, "}", 1);
    if (wks.failed || prs.failed || sids.failed || hosts.failed ||
        pids.failed) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    {
        const char *params[5] = {sbuf_str(&wks), sbuf_str(&prs),
                                 sbuf_str(&sids), sbuf_str(&hosts),
                                 sbuf_str(&pids)};
        s = db_run(d->db, &dsp_sql_presence_set, params, &r, e);
    }
    /* Each worker the statement found ends at its last request's
     * presence. */
    for (int j = 0; s == ST_OK && j < db_rows(r); j++) {
        const char *w = db_val(r, j, DSP_PRESENCE_SET_ID);
        for (int i = 0; i < n; i++)
            if (ok[i] && strcmp(reqs[i].party, w) == 0) {
                known[i] = true;
                slots[i] = (char *)db_val(r, j, DSP_PRESENCE_SET_SLOTS);
            }
        s = set_available(
            d, w,
            strcmp(db_val(r, j, DSP_PRESENCE_SET_PRESENCE), "available") == 0,
            e);
    }
    if (s == ST_OK)
        s = sessions_replaced(d, reqs, p, ended, n, e);
    for (int i = 0; s == ST_OK && i < n; i++) {
        char *body = NULL;
        size_t len;
        err re = {0};

        if (!ok[i])
            continue;
        if (!known[i]) {
            dsp_outq_fail(d->out, reqs[i].m,
                          dsp_worker_refusal(d, reqs[i].party, &re), &re, &s,
                          e);
            continue;
        }
        s = agent_reply_presence(p[i].presence, slots[i], &body, &len, e);
        if (s == ST_OK)
            s = dsp_outq_reply(d->out, reqs[i].m, body, e);
    }
out:
    db_res_free(r);
    sbuf_free(&all);
    sbuf_free(&wks);
    sbuf_free(&prs);
    sbuf_free(&sids);
    sbuf_free(&hosts);
    sbuf_free(&pids);
    for (int i = 0; ended != NULL && i < n; i++)
        free(ended[i]);
    free(ended);
    free(slots);
    free(ss);
    free(p);
    free(ok);
    free(known);
    return s;
}

static status heartbeat_refused(const char *worker, const char *mine,
                                const sess *x, err *e)
{
    char who[256];

    if (x->id[0] == '\0')
        return err_set(e, ST_SESSION_CONFLICT,
                       "worker %s has no session %s any more: it signed out "
                       "or was taken over; sign in again",
                       worker, mine);
    sess_describe(x, who, sizeof(who));
    if (mine[0] == '\0')
        return err_set(e, ST_SESSION_CONFLICT,
                       "worker %s is signed in by %s; an agent without a "
                       "session cannot speak for it meanwhile",
                       worker, who);
    return err_set(e, ST_SESSION_CONFLICT,
                   "worker %s is signed in by %s; session %s was replaced "
                   "and is signed out",
                   worker, who, mine);
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

/*
 * Every heartbeat of the batch in one statement, counting only where its
 * session may speak for the worker, and the re-sync of those that counted
 * and name what their agent holds in one more; each that counted is
 * answered ok, with the reservations the dispatcher has no record of. The
 * rare one that did not count is answered from a lookup of the sessions:
 * ok for a worker that is not registered (it changes nothing),
 * session_conflict otherwise.
 */
status dsp_heartbeat(dispatcher *d, const dsp_req *reqs, int n, err *e)
{
    agent_heartbeat *hb = calloc((size_t)n, sizeof(*hb));
    int *state = calloc((size_t)n, sizeof(int)); /* 0 bad, 1 sent, 2 done */
    int64_t(*unknown)[AGENT_HELD_MAX] = calloc((size_t)n, sizeof(*unknown));
    int *nunknown = calloc((size_t)n, sizeof(int));
    bool *counted = calloc((size_t)n, sizeof(bool));
    sbuf arr = {0}, sids = {0}, rest = {0};
    sess *ss = NULL;
    db_res *r = NULL;
    int k = 0, nrest = 0, nss = 0;
    char lbuf[24];
    status s = ST_OK;

    if (hb == NULL || state == NULL || unknown == NULL || nunknown == NULL ||
        counted == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; s == ST_OK && i < n; i++) {
        err re = {0};
        status rs = agent_msg_heartbeat_decode(
            bus_msg_data(reqs[i].m), bus_msg_len(reqs[i].m), &hb[i], &re);

        if (rs != ST_OK) {
            dsp_outq_fail(d->out, reqs[i].m, rs, &re, &s, e);
            continue;
        }
        state[i] = 1;
        sbuf_printf(&arr, "%s%s", k > 0 ? "," : "{", reqs[i].party);
        sbuf_printf(&sids, "%s%s", k > 0 ? "," : "{",
                    hb[i].session_id[0] != '\0' ? hb[i].session_id : "\"\"");
        k++;
    }
    if (s != ST_OK || k == 0)
        goto out;
    sbuf_append(&arr, "}", 1);
    sbuf_append(&sids, "}", 1);
    if (arr.failed || sids.failed) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    {
        const char *params[3] = {sbuf_str(&arr), sbuf_str(&sids),
                                 db_i64_str(lbuf, d->opts.lease_ms)};
        s = db_run(d->db, &dsp_sql_heartbeats, params, &r, e);
    }
    for (int j = 0; s == ST_OK && j < db_rows(r); j++) {
        const char *wid = db_val(r, j, DSP_HEARTBEATS_ID);
        const char *sid = db_val(r, j, DSP_HEARTBEATS_SESSION_ID);
        int w = strtab_find(d->workers, wid);
        bool avail = db_bool(r, j, DSP_HEARTBEATS_AVAILABLE);

        if (w >= 0 && w < d->cap_winfo && d->winfo[w].available != avail) {
            d->winfo[w].available = avail;
            router_worker_available(d->router, w, avail, clock_wall_us());
        }
        for (int i = 0; i < n; i++)
            if (state[i] == 1 && strcmp(reqs[i].party, wid) == 0 &&
                strcmp(hb[i].session_id, sid) == 0) {
                state[i] = 2;
                counted[i] = true;
            }
    }
    /* Only a heartbeat that may speak for its worker re-syncs its tasks. */
    if (s == ST_OK)
        s = resync(d, reqs, n, counted, hb, unknown, nunknown, e);
    for (int i = 0; s == ST_OK && i < n; i++) {
        char *body = NULL;
        size_t len;

        if (!counted[i])
            continue;
        s = agent_reply_heartbeat(unknown[i], nunknown[i], &body, &len, e);
        if (s == ST_OK)
            s = dsp_outq_reply(d->out, reqs[i].m, body, e);
    }
    for (int i = 0; s == ST_OK && i < n; i++)
        if (state[i] == 1)
            sbuf_printf(&rest, "%s%s", nrest++ > 0 ? "," : "{", reqs[i].party);
    if (s != ST_OK || nrest == 0)
        goto out;
    sbuf_append(&rest, "}", 1);
    if (rest.failed) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    s = sessions_read(d, sbuf_str(&rest), &ss, &nss, e);
    for (int i = 0; s == ST_OK && i < n; i++) {
        const sess *x =
            state[i] == 1 ? sess_find(ss, nss, reqs[i].party) : NULL;
        err re = {0};

        if (state[i] != 1)
            continue;
        if (x == NULL)
            s = reply_ok(d, reqs[i].m, e);
        else
            dsp_outq_fail(
                d->out, reqs[i].m,
                heartbeat_refused(reqs[i].party, hb[i].session_id, x, &re), &re,
                &s, e);
    }
out:
    db_res_free(r);
    sbuf_free(&arr);
    sbuf_free(&sids);
    sbuf_free(&rest);
    free(ss);
    free(hb);
    free(state);
    free(unknown);
    free(nunknown);
    free(counted);
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
