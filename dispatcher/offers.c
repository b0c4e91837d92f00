/* Offers: persisting the router's decisions, offer timeouts, leases. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dispatcher_int.h"
#include "jsonx.h"
#include "log.h"
#include "sbuf.h"

#define MOD "dispatcher"

/*
 * One statement for the whole batch of decisions: reserve each task for its
 * workers (one, or several for a broadcast step: each gets a reservation
 * with the task's new epoch) with its channel's offer timeout
 * (channel_settings, else $3), or assign it at once to the first worker
 * where the channel auto-accepts (a broadcast makes no sense there), and
 * record why (routing_decisions, from the JSON array $4, one element per
 * task and worker). The task names its worker only when it has one.
 */
DB_STMT(st_reserve, 4,
        "WITH a AS (SELECT a.task_id, a.worker_id, a.n,"
        "  COALESCE(cs.offer_timeout_ms, $3::int) AS timeout_ms,"
        "  COALESCE(cs.auto_accept, false) AS auto"
        "  FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY"
        "  AS a(task_id, worker_id, n)"
        "  JOIN tasks t ON t.id = a.task_id JOIN cases c ON c.id = t.case_id"
        "  JOIN playbook_steps s ON s.tenant_id = c.tenant_id"
        "  AND s.case_type = c.case_type AND s.version = c.playbook_version"
        "  AND s.step = t.step"
        "  LEFT JOIN channel_settings cs ON cs.channel = s.channel),"
        " f AS (SELECT task_id, min(n) AS first, count(*) AS k,"
        "  bool_or(auto) AS auto, max(timeout_ms) AS timeout_ms"
        "  FROM a GROUP BY task_id),"
        " u AS (UPDATE tasks t SET state = CASE WHEN f.auto THEN 'assigned'"
        "  ELSE 'reserved' END, epoch = t.epoch + 1,"
        "  worker_id = CASE WHEN f.auto OR f.k = 1 THEN a1.worker_id END,"
        "  offers = t.offers + 1,"
        "  assigned_at = CASE WHEN f.auto THEN now() ELSE t.assigned_at END"
        "  FROM f JOIN a a1 ON a1.n = f.first"
        "  WHERE t.id = f.task_id AND t.state = 'pending'"
        "  RETURNING t.id, t.epoch, t.case_id, t.step,"
        "  (extract(epoch FROM t.ready_at) * 1e6)::bigint AS ready_us,"
        "  f.timeout_ms, f.auto, f.first),"
        " i AS (INSERT INTO reservations (task_id, worker_id, epoch, state,"
        "  deadline, answered_at) SELECT u.id, a.worker_id, u.epoch,"
        "  CASE WHEN u.auto THEN 'accepted' ELSE 'pending' END,"
        "  now() + u.timeout_ms * interval '1 millisecond',"
        "  CASE WHEN u.auto THEN now() END"
        "  FROM u JOIN a ON a.task_id = u.id AND (NOT u.auto OR a.n = u.first)"
        "  ORDER BY a.n RETURNING id, task_id, worker_id),"
        " x AS (INSERT INTO routing_decisions (task_id, reservation_id,"
        "  worker_id, rule, ring, ring_def, waited_ms, priority, examined,"
        "  candidates, filtered)"
        "  SELECT i.task_id, i.id, i.worker_id, j.rule, j.ring, j.ring_def,"
        "  j.waited_ms, j.priority, j.examined, j.candidates, j.filtered"
        "  FROM i JOIN jsonb_to_recordset($4::jsonb) AS j(task_id bigint,"
        "  worker text, rule text, ring int, ring_def jsonb, waited_ms bigint,"
        "  priority int, examined int, candidates jsonb, filtered jsonb)"
        "  ON j.task_id = i.task_id AND j.worker = i.worker_id)"
        " SELECT i.id, u.id, i.worker_id, u.epoch, u.case_id, u.step,"
        " u.ready_us, c.tenant_id, c.case_type, c.playbook_version,"
        " u.timeout_ms, u.auto"
        " FROM i JOIN u ON u.id = i.task_id JOIN cases c ON c.id = u.case_id"
        " ORDER BY i.id");
/*
 * Tasks past their time to live: canceled with the reason, and so is their
 * case (a required step can no longer be done), with the case's other
 * waiting or pending tasks; the tenant gets a case.canceled event. Tasks
 * already offered or accepted keep going: their work is still recorded.
 */
DB_STMT(st_expire_tasks, 3,
        "WITH x AS (SELECT * FROM unnest($1::bigint[], $2::text[])"
        "  AS x(id, reason)),"
        " t AS (UPDATE tasks SET state = 'canceled', cancel_reason = x.reason,"
        "  completed_at = now() FROM x WHERE tasks.id = x.id"
        "  AND tasks.state = 'pending'"
        "  RETURNING tasks.id, tasks.case_id, tasks.step, x.reason),"
        " c AS (UPDATE cases SET state = 'canceled', closed_at = now(),"
        "  cancel_reason = 'step ' || t.step || ' was canceled: ' || t.reason"
        "  FROM t WHERE cases.id = t.case_id AND cases.state = 'open'"
        "  RETURNING cases.id, cases.external_id, cases.tenant_id,"
        "  cases.cancel_reason),"
        " s AS (UPDATE tasks SET state = 'canceled',"
        "  cancel_reason = 'its case was canceled', completed_at = now()"
        "  FROM c WHERE tasks.case_id = c.id"
        "  AND tasks.state IN ('waiting', 'pending')"
        "  AND tasks.id NOT IN (SELECT id FROM t) RETURNING tasks.id),"
        " o AS (INSERT INTO outbox (subject, payload)"
        "  SELECT $3 || '.evt.' || c.tenant_id || '.case',"
        "  json_build_object('type', 'case.canceled', 'case_id', c.id,"
        "  'external_id', c.external_id, 'state', 'canceled',"
        "  'tenant', c.tenant_id, 'reason', c.cancel_reason) FROM c)"
        " SELECT 'task', id FROM t UNION ALL SELECT 'sibling', id FROM s");
/* Offers not answered in time. A task goes back to pending only when no
 * offer of its epoch is still pending (a broadcast waits for the others). */
DB_STMT(st_expire_offers, 0,
        "WITH x AS (UPDATE reservations SET state = 'timeout',"
        "  answered_at = now() WHERE state = 'pending' AND deadline < now()"
        "  RETURNING id, task_id, worker_id, epoch),"
        " t AS (UPDATE tasks SET state = 'pending', worker_id = NULL FROM x"
        "  WHERE tasks.id = x.task_id AND tasks.epoch = x.epoch"
        "  AND tasks.state = 'reserved' AND NOT EXISTS (SELECT 1"
        "  FROM reservations o WHERE o.task_id = x.task_id"
        "  AND o.epoch = x.epoch AND o.state = 'pending'"
        "  AND o.id NOT IN (SELECT id FROM x)) RETURNING tasks.id),"
        " ex AS (INSERT INTO task_exclusions (task_id, worker_id, reason)"
        "  SELECT task_id, worker_id, 'timeout' FROM x ON CONFLICT DO NOTHING)"
        " SELECT x.id, x.task_id, x.worker_id FROM x");
DB_STMT(st_expire_leases, 1,
        "WITH w AS (UPDATE workers SET presence = 'offline', lease_lost = true"
        "  WHERE COALESCE(last_seen, '-infinity') <"
        "   now() - $1::int * interval '1 millisecond'"
        "  AND (presence <> 'offline' OR id IN (SELECT worker_id"
        "   FROM reservations WHERE state IN ('pending', 'accepted')))"
        "  RETURNING id),"
        " r AS (UPDATE reservations SET state = CASE WHEN state = 'pending'"
        "  THEN 'canceled' ELSE 'rescinded' END, answered_at = now(),"
        "  reason = 'lease expired' WHERE worker_id IN (SELECT id FROM w)"
        "  AND state IN ('pending', 'accepted')"
        "  RETURNING id, task_id, worker_id, epoch),"
        " t AS (UPDATE tasks SET state = 'pending', worker_id = NULL FROM r"
        "  WHERE tasks.id = r.task_id AND tasks.epoch = r.epoch"
        "  AND tasks.state IN ('reserved', 'assigned') AND NOT EXISTS ("
        "  SELECT 1 FROM reservations o WHERE o.task_id = r.task_id"
        "  AND o.epoch = r.epoch AND o.state = 'pending'"
        "  AND o.id NOT IN (SELECT id FROM r)) RETURNING tasks.id)"
        " SELECT 'worker', id, 0, 0 FROM w"
        " UNION ALL SELECT 'task', worker_id, id, task_id FROM r");
/* Wrap-ups that ended (database time): reservation and task completed. */
DB_STMT(st_wrap_end, 0,
        "WITH r AS (UPDATE reservations SET state = 'completed'"
        "  WHERE state = 'wrapping' AND wrap_until <= now()"
        "  RETURNING task_id, worker_id),"
        " t AS (UPDATE tasks SET state = 'completed' FROM r"
        "  WHERE tasks.id = r.task_id AND tasks.state = 'wrapping')"
        " SELECT task_id, worker_id FROM r");

status dsp_send_notice(dispatcher *d, const char *worker, int64_t res_id,
                       const char *reason, err *e)
{
    char subj[160];
    char *body = malloc(160);

    if (body == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    snprintf(body, 160,
             "{\"type\":\"rescinded\",\"reservation_id\":%lld,"
             "\"reason\":\"%s\"}",
             (long long)res_id, reason);
    dsp_subject(d, subj, sizeof(subj), "worker.%s.notice", worker);
    return dsp_send(d, subj, body, e);
}

/* The offer (or, auto-accepted, the assignment with the task) of row i of
 * the reserving statement; view is the task as an accept returns it. */
static status send_offer(dispatcher *d, const db_res *r, int i,
                         const char *view, err *e)
{
    const playbook *pb;
    const pb_step *st;
    json_t *offer;
    char subj[160];
    int step;
    status s;

    s = dsp_playbook(d, db_val(r, i, 7), db_val(r, i, 8), (int)db_i64(r, i, 9),
                     &pb, e);
    if (s != ST_OK)
        return s;
    step = playbook_step_index(pb, db_val(r, i, 5));
    if (step < 0)
        return err_set(e, ST_INTERNAL, "offer for unknown step %s",
                       db_val(r, i, 5));
    st = &pb->steps[step];
    offer = json_pack(
        "{s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:I, "
        "s:I, s:O}",
        "type", "offer", "reservation_id", (json_int_t)db_i64(r, i, 0), "epoch",
        (json_int_t)db_i64(r, i, 3), "task_id", (json_int_t)db_i64(r, i, 1),
        "case_id", (json_int_t)db_i64(r, i, 4), "tenant", db_val(r, i, 7),
        "case_type", db_val(r, i, 8), "step", st->key, "channel",
        playbook_channel_name(st->channel), "timeout_ms",
        (json_int_t)db_i64(r, i, 10), "ready_at_us",
        (json_int_t)db_i64(r, i, 6), "outcomes", st->outcomes_json);
    if (offer == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    if (db_bool(r, i, 11)) {
        json_t *task = view != NULL ? json_loads(view, 0, NULL) : NULL;
        if (json_object_set_new(offer, "auto_accepted", json_true()) != 0 ||
            task == NULL || json_object_set_new(offer, "task", task) != 0) {
            json_decref(offer);
            return err_set(e, ST_INTERNAL,
                           "auto-accepted reservation %s has no task view",
                           db_val(r, i, 0));
        }
    }
    dsp_subject(d, subj, sizeof(subj), "worker.%s.offer", db_val(r, i, 2));
    s = dsp_send(d, subj, jsonx_dump(offer), e);
    json_decref(offer);
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

/* The task views of the auto-accepted reservations of r (row -> JSON). */
static status auto_views(dispatcher *d, const db_res *r, db_res **out, err *e)
{
    sbuf ids = {0};
    int n = 0;
    status s = ST_OK;

    *out = NULL;
    for (int i = 0; i < db_rows(r); i++)
        if (db_bool(r, i, 11))
            sbuf_printf(&ids, "%s%s", n++ > 0 ? "," : "{", db_val(r, i, 0));
    if (n == 0)
        return ST_OK;
    sbuf_append(&ids, "}", 1);
    if (ids.failed)
        s = err_set(e, ST_NOMEM, "out of memory");
    else
        s = dsp_task_views(d, sbuf_str(&ids), out, e);
    sbuf_free(&ids);
    return s;
}

status dsp_route_and_offer(dispatcher *d, err *e)
{
    router_assignment as[DSP_MATCH_MAX];
    router_explain *why = d->explain;
    sbuf tasks = {0}, workers = {0}, expl = {0};
    char tbuf[24];
    db_res *r = NULL, *v = NULL;
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
        s = db_run(d->db, &st_reserve, params, &r, e);
    }
    if (s == ST_OK)
        s = auto_views(d, r, &v, e);
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
                bool same = db_i64(r, j, 1) == as[i].task_id;
                task_found = task_found || same;
                found = same && strcmp(db_val(r, j, 2), wname) == 0;
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
    for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
        const char *view = NULL;
        for (int j = 0; db_bool(r, i, 11) && j < db_rows(v); j++)
            if (db_i64(v, j, 0) == db_i64(r, i, 0))
                view = db_val(v, j, 1);
        s = send_offer(d, r, i, view, e);
    }
    d->stat_offers += (uint64_t)db_rows(r);
out:
    sbuf_free(&tasks);
    sbuf_free(&workers);
    sbuf_free(&expl);
    db_res_free(r);
    db_res_free(v);
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
        const char *params[3] = {sbuf_str(&ids), sbuf_str(&reasons),
                                 d->cfg.prefix};
        s = db_run(d->db, &st_expire_tasks, params, &r, e);
    }
    if (s != ST_OK)
        goto out;
    for (int i = 0; i < db_rows(r); i++) {
        if (strcmp(db_val(r, i, 0), "task") == 0) {
            ntasks++;
            log_info(MOD, "task %s canceled: past its time to live",
                     db_val(r, i, 1));
        } else {
            router_task_remove(d->router, db_i64(r, i, 1), clock_wall_us());
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
    status s = db_run(d->db, &st_expire_offers, NULL, &r, e);

    for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
        int w = strtab_find(d->workers, db_val(r, i, 2));
        int64_t task = db_i64(r, i, 1);
        if (w >= 0) {
            s = router_task_exclude(d->router, task, w, e);
            router_task_release(d->router, task, w, clock_wall_us());
        } else {
            router_task_requeue(d->router, task, clock_wall_us());
        }
        if (s == ST_OK)
            s = dsp_send_notice(d, db_val(r, i, 2), db_i64(r, i, 0), "timeout",
                                e);
        log_info(MOD, "offer %s of task %lld to %s timed out", db_val(r, i, 0),
                 (long long)task, db_val(r, i, 2));
    }
    db_res_free(r);
    return s;
}

status dsp_expire_leases(dispatcher *d, err *e)
{
    char lbuf[24];
    const char *params[1] = {db_i64_str(lbuf, d->opts.lease_ms)};
    db_res *r = NULL;
    status s = db_run(d->db, &st_expire_leases, params, &r, e);

    for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
        const char *worker = db_val(r, i, 1);
        int w = strtab_find(d->workers, worker);
        if (strcmp(db_val(r, i, 0), "worker") == 0) {
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
            router_task_release(d->router, db_i64(r, i, 3), w, clock_wall_us());
        else
            router_task_requeue(d->router, db_i64(r, i, 3), clock_wall_us());
        s = dsp_send_notice(d, worker, db_i64(r, i, 2), "lease_expired", e);
    }
    db_res_free(r);
    return s;
}

status dsp_wrap_end(dispatcher *d, err *e)
{
    db_res *r = NULL;
    status s = db_run(d->db, &st_wrap_end, NULL, &r, e);

    for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
        router_task_wrapped(d->router, db_i64(r, i, 0), clock_wall_us());
        log_info(MOD, "task %s: wrap-up of %s ended", db_val(r, i, 0),
                 db_val(r, i, 1));
    }
    db_res_free(r);
    return s;
}
