/* Offers: persisting the router's decisions, offer timeouts, leases. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dispatcher_int.h"
#include "jsonx.h"
#include "log.h"
#include "sbuf.h"

#define MOD       "dispatcher"
#define MATCH_MAX 1024

DB_STMT(st_reserve, 3,
        "WITH a AS (SELECT * FROM unnest($1::bigint[], $2::text[])"
        "  AS a(task_id, worker_id)),"
        " u AS (UPDATE tasks t SET state = 'reserved', epoch = t.epoch + 1,"
        "  worker_id = a.worker_id, offers = t.offers + 1 FROM a"
        "  WHERE t.id = a.task_id AND t.state = 'pending'"
        "  RETURNING t.id, t.epoch, t.worker_id, t.case_id, t.step,"
        "  (extract(epoch FROM t.ready_at) * 1e6)::bigint AS ready_us),"
        " i AS (INSERT INTO reservations (task_id, worker_id, epoch, state,"
        "  deadline) SELECT u.id, u.worker_id, u.epoch, 'pending',"
        "  now() + $3::int * interval '1 millisecond' FROM u"
        "  RETURNING id, task_id)"
        " SELECT i.id, u.id, u.worker_id, u.epoch, u.case_id, u.step,"
        " u.ready_us, c.tenant_id, c.case_type, c.playbook_version"
        " FROM i JOIN u ON u.id = i.task_id JOIN cases c ON c.id = u.case_id");
DB_STMT(st_expire_offers, 0,
        "WITH x AS (UPDATE reservations SET state = 'timeout',"
        "  answered_at = now() WHERE state = 'pending' AND deadline < now()"
        "  RETURNING id, task_id, worker_id, epoch),"
        " t AS (UPDATE tasks SET state = 'pending', worker_id = NULL FROM x"
        "  WHERE tasks.id = x.task_id AND tasks.epoch = x.epoch"
        "  AND tasks.state = 'reserved' RETURNING tasks.id),"
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
        "  AND tasks.state IN ('reserved', 'assigned') RETURNING tasks.id)"
        " SELECT 'worker', id, 0, 0 FROM w"
        " UNION ALL SELECT 'task', worker_id, id, task_id FROM r");

static status send_notice(dispatcher *d, const char *worker, int64_t res_id,
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

static status send_offer(dispatcher *d, const db_res *r, int i, err *e)
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
        "{s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:i, "
        "s:I, s:O}",
        "type", "offer", "reservation_id", (json_int_t)db_i64(r, i, 0), "epoch",
        (json_int_t)db_i64(r, i, 3), "task_id", (json_int_t)db_i64(r, i, 1),
        "case_id", (json_int_t)db_i64(r, i, 4), "tenant", db_val(r, i, 7),
        "case_type", db_val(r, i, 8), "step", st->key, "channel",
        playbook_channel_name(st->channel), "timeout_ms",
        d->opts.offer_timeout_ms, "ready_at_us", (json_int_t)db_i64(r, i, 6),
        "outcomes", st->outcomes_json);
    if (offer == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    dsp_subject(d, subj, sizeof(subj), "worker.%s.offer", db_val(r, i, 2));
    s = dsp_send(d, subj, jsonx_dump(offer), e);
    json_decref(offer);
    return s;
}

status dsp_route_and_offer(dispatcher *d, err *e)
{
    router_assignment as[MATCH_MAX];
    sbuf tasks = {0}, workers = {0};
    char tbuf[24];
    db_res *r = NULL;
    int n;
    status s = ST_OK;

    n = router_match(d->router, clock_wall_us(), as, MATCH_MAX);
    if (n == 0)
        return ST_OK;
    sbuf_append(&tasks, "{", 1);
    sbuf_append(&workers, "{", 1);
    for (int i = 0; i < n; i++) {
        sbuf_printf(&tasks, "%s%lld", i > 0 ? "," : "",
                    (long long)as[i].task_id);
        sbuf_printf(&workers, "%s%s", i > 0 ? "," : "",
                    strtab_name(d->workers, as[i].worker));
    }
    sbuf_append(&tasks, "}", 1);
    sbuf_append(&workers, "}", 1);
    if (tasks.failed || workers.failed) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    {
        const char *params[3] = {sbuf_str(&tasks), sbuf_str(&workers),
                                 db_i64_str(tbuf, d->opts.offer_timeout_ms)};
        s = db_run(d->db, &st_reserve, params, &r, e);
    }
    if (s != ST_OK)
        goto out;
    if (db_rows(r) != n) {
        /* The router believed some tasks pending that the database does
         * not: trust the database and drop them from the router. */
        for (int i = 0; i < n; i++) {
            bool found = false;
            for (int j = 0; j < db_rows(r) && !found; j++)
                found = db_i64(r, j, 1) == as[i].task_id;
            if (!found) {
                log_warn(MOD,
                         "task %lld is not pending in the database; "
                         "dropped from routing",
                         (long long)as[i].task_id);
                router_task_remove(d->router, as[i].task_id, clock_wall_us());
            }
        }
    }
    for (int i = 0; s == ST_OK && i < db_rows(r); i++)
        s = send_offer(d, r, i, e);
    d->stat_offers += (uint64_t)db_rows(r);
out:
    sbuf_free(&tasks);
    sbuf_free(&workers);
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
        if (w >= 0)
            s = router_task_exclude(d->router, task, w, e);
        router_task_requeue(d->router, task, clock_wall_us());
        if (s == ST_OK)
            s = send_notice(d, db_val(r, i, 2), db_i64(r, i, 0), "timeout", e);
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
        router_task_requeue(d->router, db_i64(r, i, 3), clock_wall_us());
        s = send_notice(d, worker, db_i64(r, i, 2), "lease_expired", e);
    }
    db_res_free(r);
    return s;
}
