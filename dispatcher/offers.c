/* Offers: persisting the router's decisions, offer timeouts, leases. */
#include "offers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_msg.h"
#include "clock.h"
#include "dsp_sql.h"
#include "jsonx.h"
#include "log.h"
#include "outq.h"
#include "reservations.h"
#include "sbuf.h"
#include "state.h"
#include "subjects.h"

#define MOD "dispatcher"

/* The offer (or, auto-accepted, the assignment with the task) of row i of
 * the reserving statement; view is the task as an accept returns it. */
static status send_offer(dispatcher *d, const db_res *r, int i,
                         const char *view, err *e)
{
    const playbook *pb;
    const pb_step *st;
    agent_offer o;
    char subj[SUBJECTS_MAX], *outcomes = NULL, *body = NULL;
    size_t len;
    int step;
    status s;

    s = dsp_playbook(d, db_val(r, i, DSP_OFFER_RESERVE_TENANT_ID),
                     db_val(r, i, DSP_OFFER_RESERVE_CASE_TYPE),
                     (int)db_i64(r, i, DSP_OFFER_RESERVE_PLAYBOOK_VERSION), &pb,
                     e);
    if (s != ST_OK)
        return s;
    step = playbook_step_index(pb, db_val(r, i, DSP_OFFER_RESERVE_STEP));
    if (step < 0)
        return err_set(e, ST_INTERNAL, "offer for unknown step %s",
                       db_val(r, i, DSP_OFFER_RESERVE_STEP));
    st = &pb->steps[step];
    memset(&o, 0, sizeof(o));
    o.reservation_id = db_i64(r, i, DSP_OFFER_RESERVE_RESERVATION_ID);
    o.epoch = db_i64(r, i, DSP_OFFER_RESERVE_EPOCH);
    o.task_id = db_i64(r, i, DSP_OFFER_RESERVE_TASK_ID);
    o.case_id = db_i64(r, i, DSP_OFFER_RESERVE_CASE_ID);
    snprintf(o.tenant, sizeof(o.tenant), "%s", pb->tenant);
    snprintf(o.case_type, sizeof(o.case_type), "%s", pb->case_type);
    snprintf(o.step, sizeof(o.step), "%s", st->key);
    snprintf(o.channel, sizeof(o.channel), "%s",
             playbook_channel_name(st->channel));
    o.timeout_ms = db_i64(r, i, DSP_OFFER_RESERVE_TIMEOUT_MS);
    o.ready_at_us = db_i64(r, i, DSP_OFFER_RESERVE_READY_US);
    outcomes = jsonx_dump(st->outcomes_json);
    if (outcomes == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    if (db_bool(r, i, DSP_OFFER_RESERVE_AUTO) && view == NULL)
        s = err_set(e, ST_INTERNAL,
                    "auto-accepted reservation %lld has no task view",
                    (long long)o.reservation_id);
    if (s == ST_OK)
        s = agent_offer_encode(
            &o, outcomes, db_bool(r, i, DSP_OFFER_RESERVE_AUTO) ? view : NULL,
            &body, &len, e);
    if (s == ST_OK)
        s = subjects_worker(subj, sizeof(subj), d->cfg.prefix,
                            db_val(r, i, DSP_OFFER_RESERVE_WORKER_ID),
                            SUBJECTS_OFFER, e);
    if (s == ST_OK) {
        s = dsp_outq_send(d->out, subj, body, e);
        body = NULL;
    }
    free(body);
    free(outcomes);
    return s;
}

static const char *rule_key(router_rule rule)
{
    switch (rule) {
    case ROUTER_RULE_AFFINITY:
        return "affinity";
    case ROUTER_RULE_BEST:
        return "best";
    case ROUTER_RULE_ONLY:
        return "only";
    case ROUTER_RULE_RING:
        return "ring";
    case ROUTER_RULE_BATCH:
        return "batch";
    }
    return "best";
}

/* Stable keys of the hard rules in routing_decisions.filtered. */
static const char *const filter_keys[ROUTER_FILTERS] = {
    "skill",   "contract", "licence",  "presence",
    "wrap_up", "capacity", "excluded", "kind"};
static const char *const part_keys[ROUTER_PARTS] = {
    "fit", "idle", "occupancy", "quality", "cost", "fairness"};

/* One decision as a routing_decisions row in JSON (pool and worker names,
 * not the router's indexes). */
static void explain_json(dispatcher *d, const router_explain *x, sbuf *b)
{
    sbuf_printf(b, "{\"worker\":\"%s\",", strtab_name(d->workers, x->worker));
    sbuf_printf(b,
                "\"task_id\":%lld,\"rule\":\"%s\",\"ring\":%d,"
                "\"waited_ms\":%lld,\"priority\":%d,\"examined\":%d,",
                (long long)x->task_id, rule_key(x->rule), x->ring,
                (long long)(x->waited_us / 1000), x->priority, x->examined);
    if (x->ring > 0) {
        const router_ring *g = &x->ring_def;
        sbuf_printf(b,
                    "\"ring_def\":{\"after_seconds\":%lld,"
                    "\"lower_by\":%d,\"assist\":%s,\"priority_boost\":%d",
                    (long long)(g->after_us / 1000000), g->lower_by,
                    g->assist ? "true" : "false", g->priority_boost);
        if (g->overflow)
            sbuf_printf(b, ",\"overflow_pool\":\"%s\"",
                        strtab_name(d->pools, g->overflow_pool));
        sbuf_append(b, "},", 2);
    } else {
        sbuf_append(b, "\"ring_def\":null,", 16);
    }
    sbuf_append(b, "\"candidates\":[", 14);
    for (int i = 0; i < x->ncandidates && i < ROUTER_EXPLAIN_TOP; i++) {
        const router_candidate *c = &x->candidates[i];
        sbuf_printf(b, "%s{\"worker\":\"%s\",\"score\":%lld,\"parts\":{",
                    i > 0 ? "," : "", strtab_name(d->workers, c->worker),
                    (long long)c->score);
        for (int p = 0; p < ROUTER_PARTS; p++)
            sbuf_printf(b, "%s\"%s\":%lld", p > 0 ? "," : "", part_keys[p],
                        (long long)c->parts[p]);
        sbuf_append(b, "}}", 2);
    }
    sbuf_append(b, "],\"filtered\":{", 14);
    for (int f = 0; f < ROUTER_FILTERS; f++)
        sbuf_printf(b, "%s\"%s\":%d", f > 0 ? "," : "", filter_keys[f],
                    x->filtered[f]);
    sbuf_append(b, "}}", 2);
}

/* views[i]: the task view of row i of r when it was auto-accepted (the
 * caller frees each), else NULL. */
static status auto_views(dispatcher *d, const db_res *r, char **views, err *e)
{
    int n = db_rows(r);
    int64_t *ids = calloc((size_t)n + 1, sizeof(int64_t));
    bool any = false;
    status s = ST_OK;

    if (ids == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        views[i] = NULL;
        /* Id 0 is never found: the rows of offers get no view. */
        if (db_bool(r, i, DSP_OFFER_RESERVE_AUTO)) {
            ids[i] = db_i64(r, i, DSP_OFFER_RESERVE_RESERVATION_ID);
            any = true;
        }
    }
    if (any)
        s = dsp_res_task_views(d->db, d->keys, ids, n, views, e);
    free(ids);
    return s;
}

status dsp_route_and_offer(dispatcher *d, err *e)
{
    router_assignment as[DSP_MATCH_MAX];
    router_explain *why = d->explain;
    sbuf tasks = {0}, workers = {0}, expl = {0};
    char tbuf[24];
    db_res *r = NULL;
    char **views = NULL;
    int n;
    status s = ST_OK;

    n = router_match_explained(d->router, clock_wall_us(), as, why,
                               DSP_MATCH_MAX);
    if (n == 0)
        return ST_OK;
    sbuf_append(&tasks, "{", 1);
    sbuf_append(&workers, "{", 1);
    sbuf_append(&expl, "[", 1);
    for (int i = 0; i < n; i++) {
        sbuf_printf(&tasks, "%s%lld", i > 0 ? "," : "",
                    (long long)as[i].task_id);
        sbuf_printf(&workers, "%s%s", i > 0 ? "," : "",
                    strtab_name(d->workers, as[i].worker));
        if (i > 0)
            sbuf_append(&expl, ",", 1);
        explain_json(d, &why[i], &expl);
    }
    sbuf_append(&tasks, "}", 1);
    sbuf_append(&workers, "}", 1);
    sbuf_append(&expl, "]", 1);
    if (tasks.failed || workers.failed || expl.failed) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    {
        const char *params[4] = {sbuf_str(&tasks), sbuf_str(&workers),
                                 db_i64_str(tbuf, d->opts.offer_timeout_ms),
                                 sbuf_str(&expl)};
        s = db_run(d->db, &dsp_sql_offer_reserve, params, &r, e);
    }
    if (s == ST_OK) {
        views = calloc((size_t)db_rows(r) + 1, sizeof(char *));
        s = views != NULL ? auto_views(d, r, views, e)
                          : err_set(e, ST_NOMEM, "out of memory");
    }
    if (s != ST_OK)
        goto out;
    if (db_rows(r) != n) {
        /* The router believed some tasks pending that the database does
         * not: trust the database and drop them from the router. An
         * auto-accepted task keeps only its first worker. */
        for (int i = 0; i < n; i++) {
            bool task_found = false, found = false;
            const char *wname = strtab_name(d->workers, as[i].worker);
            for (int j = 0; j < db_rows(r) && !found; j++) {
                bool same =
                    db_i64(r, j, DSP_OFFER_RESERVE_TASK_ID) == as[i].task_id;
                task_found = task_found || same;
                found =
                    same && strcmp(db_val(r, j, DSP_OFFER_RESERVE_WORKER_ID),
                                   wname) == 0;
            }
            if (found)
                continue;
            if (task_found) {
                router_task_release(d->router, as[i].task_id, as[i].worker,
                                    clock_wall_us());
                continue;
            }
            log_warn(MOD,
                     "task %lld is not pending in the database; "
                     "dropped from routing",
                     (long long)as[i].task_id);
            router_task_remove(d->router, as[i].task_id, clock_wall_us());
        }
    }
    for (int i = 0; s == ST_OK && i < db_rows(r); i++)
        s = send_offer(d, r, i, views[i], e);
    d->stat_offers += (uint64_t)db_rows(r);
out:
    for (int i = 0; views != NULL && i < db_rows(r); i++)
        free(views[i]);
    free(views);
    sbuf_free(&tasks);
    sbuf_free(&workers);
    sbuf_free(&expl);
    db_res_free(r);
    return s;
}

status dsp_expire_tasks(dispatcher *d, err *e)
{
    router_expiry ex[DSP_MATCH_MAX];
    sbuf ids = {0}, reasons = {0};
    db_res *r = NULL;
    int n, ntasks = 0;
    status s = ST_OK;

    n = router_expired(d->router, clock_wall_us(), ex, DSP_MATCH_MAX);
    if (n == 0)
        return ST_OK;
    sbuf_append(&ids, "{", 1);
    sbuf_append(&reasons, "{", 1);
    for (int i = 0; i < n; i++) {
        char reason[200];
        snprintf(reason, sizeof(reason),
                 "no eligible worker took it within its time to live "
                 "(waited %lld s, relaxation ring %d reached)",
                 (long long)(ex[i].waited_us / 1000000), ex[i].ring);
        sbuf_printf(&ids, "%s%lld", i > 0 ? "," : "", (long long)ex[i].task_id);
        if (i > 0)
            sbuf_append(&reasons, ",", 1);
        sbuf_pg_elem(&reasons, reason);
    }
    sbuf_append(&ids, "}", 1);
    sbuf_append(&reasons, "}", 1);
    if (ids.failed || reasons.failed) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    {
        char head[SUBJECTS_MAX], tail[SUBJECTS_MAX];
        const char *params[4] = {sbuf_str(&ids), sbuf_str(&reasons), head,
                                 tail};
        s = subjects_event_parts(head, tail, d->cfg.prefix, SUBJECTS_EVT_CASE,
                                 e);
        if (s == ST_OK)
            s = db_run(d->db, &dsp_sql_expire_tasks, params, &r, e);
    }
    if (s != ST_OK)
        goto out;
    for (int i = 0; i < db_rows(r); i++) {
        if (strcmp(db_val(r, i, DSP_EXPIRE_TASKS_KIND), "task") == 0) {
            ntasks++;
            log_info(MOD, "task %s canceled: past its time to live",
                     db_val(r, i, DSP_EXPIRE_TASKS_ID));
        } else {
            router_task_remove(d->router, db_i64(r, i, DSP_EXPIRE_TASKS_ID),
                               clock_wall_us());
        }
    }
    if (db_rows(r) > 0)
        d->events_written = true;
    /* The router dropped tasks the database does not have pending: its
     * picture is off, so rebuild it from the database after this batch. */
    if (ntasks != n) {
        log_warn(MOD,
                 "%d expired tasks were not pending in the database; "
                 "routing state will be reloaded",
                 n - ntasks);
        d->need_rebuild = true;
    }
out:
    sbuf_free(&ids);
    sbuf_free(&reasons);
    db_res_free(r);
    return s;
}

status dsp_expire_offers(dispatcher *d, err *e)
{
    db_res *r = NULL;
    status s = db_run(d->db, &dsp_sql_expire_offers, NULL, &r, e);

    for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
        int w =
            strtab_find(d->workers, db_val(r, i, DSP_EXPIRE_OFFERS_WORKER_ID));
        int64_t task = db_i64(r, i, DSP_EXPIRE_OFFERS_TASK_ID);
        if (w >= 0) {
            s = router_task_exclude(d->router, task, w, e);
            router_task_release(d->router, task, w, clock_wall_us());
        } else {
            router_task_requeue(d->router, task, clock_wall_us());
        }
        if (s == ST_OK)
            s = dsp_outq_notice(
                d->out, db_val(r, i, DSP_EXPIRE_OFFERS_WORKER_ID),
                db_i64(r, i, DSP_EXPIRE_OFFERS_RESERVATION_ID), "timeout", e);
        log_info(MOD, "offer %s of task %lld to %s timed out",
                 db_val(r, i, DSP_EXPIRE_OFFERS_RESERVATION_ID),
                 (long long)task, db_val(r, i, DSP_EXPIRE_OFFERS_WORKER_ID));
    }
    db_res_free(r);
    return s;
}

status dsp_expire_leases(dispatcher *d, err *e)
{
    char lbuf[24];
    const char *params[1] = {db_i64_str(lbuf, d->opts.lease_ms)};
    db_res *r = NULL;
    status s = db_run(d->db, &dsp_sql_expire_leases, params, &r, e);

    for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
        const char *worker = db_val(r, i, DSP_EXPIRE_LEASES_WORKER_ID);
        int w = strtab_find(d->workers, worker);
        if (strcmp(db_val(r, i, DSP_EXPIRE_LEASES_KIND), "worker") == 0) {
            log_warn(MOD, "worker %s missed its lease; now offline", worker);
            if (w >= 0 && w < d->cap_winfo) {
                d->winfo[w].available = false;
                router_worker_available(d->router, w, false, clock_wall_us());
            }
            continue;
        }
        /* A broadcast task stays offered to the others (as in the
         * database); a task nobody holds any more is pending again. */
        if (w >= 0)
            router_task_release(d->router,
                                db_i64(r, i, DSP_EXPIRE_LEASES_TASK_ID), w,
                                clock_wall_us());
        else
            router_task_requeue(d->router,
                                db_i64(r, i, DSP_EXPIRE_LEASES_TASK_ID),
                                clock_wall_us());
        s = dsp_outq_notice(d->out, worker,
                            db_i64(r, i, DSP_EXPIRE_LEASES_RESERVATION_ID),
                            "lease_expired", e);
    }
    db_res_free(r);
    return s;
}

status dsp_expire_handles(dispatcher *d, err *e)
{
    char mbuf[24];
    const char *params[1] = {db_i64_str(mbuf, d->opts.handle_max_ms)};
    db_res *r = NULL;
    status s = db_run(d->db, &dsp_sql_expire_handles, params, &r, e);

    for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
        const char *worker = db_val(r, i, DSP_EXPIRE_HANDLES_WORKER_ID);
        int64_t task = db_i64(r, i, DSP_EXPIRE_HANDLES_TASK_ID);
        int w = strtab_find(d->workers, worker);

        log_warn(MOD,
                 "task %lld: accepted by %s more than %d ms ago and not "
                 "completed; back in the queue",
                 (long long)task, worker, d->opts.handle_max_ms);
        if (w >= 0) {
            router_task_release(d->router, task, w, clock_wall_us());
            s = router_task_exclude(d->router, task, w, e);
        } else {
            router_task_requeue(d->router, task, clock_wall_us());
        }
        if (s == ST_OK)
            s = dsp_outq_notice(d->out, worker,
                                db_i64(r, i, DSP_EXPIRE_HANDLES_RESERVATION_ID),
                                "handle_time_exceeded", e);
    }
    db_res_free(r);
    return s;
}

status dsp_wrap_end(dispatcher *d, err *e)
{
    db_res *r = NULL;
    status s = db_run(d->db, &dsp_sql_wrap_end, NULL, &r, e);

    for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
        router_task_wrapped(d->router, db_i64(r, i, DSP_WRAP_END_TASK_ID),
                            clock_wall_us());
        log_info(MOD, "task %s: wrap-up of %s ended",
                 db_val(r, i, DSP_WRAP_END_TASK_ID),
                 db_val(r, i, DSP_WRAP_END_WORKER_ID));
    }
    db_res_free(r);
    return s;
}
