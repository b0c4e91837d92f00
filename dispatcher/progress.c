/* Case progression: ready the next steps, skip the ones whose condition
 * failed, close the cases whose playbook is finished — for every case a
 * batch touched, in four statements whatever their number. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dispatcher_int.h"
#include "sbuf.h"

DB_STMT(st_cases_tasks, 1,
        "SELECT c.id, t.id, t.step, t.state,"
        " COALESCE((SELECT o.code FROM outcomes o WHERE o.task_id = t.id),"
        " ''), c.tenant_id, c.case_type, c.playbook_version, c.priority"
        " FROM cases c JOIN tasks t ON t.case_id = c.id"
        " WHERE c.id = ANY($1::bigint[]) ORDER BY c.id, t.id");
DB_STMT(st_ready, 1,
        "UPDATE tasks t SET state = 'pending', ready_at = now(),"
        " sla_due_at = now() + make_interval(secs => s.sla_seconds)"
        " FROM cases c, playbook_steps s"
        " WHERE t.id = ANY($1::bigint[]) AND t.state = 'waiting'"
        " AND c.id = t.case_id AND s.tenant_id = c.tenant_id"
        " AND s.case_type = c.case_type AND s.version = c.playbook_version"
        " AND s.step = t.step"
        " RETURNING t.id, t.case_id, t.step,"
        " (extract(epoch FROM t.ready_at) * 1e6)::bigint, c.tenant_id,"
        " c.case_type, c.playbook_version, c.priority");
DB_STMT(st_skip, 1,
        "UPDATE tasks SET state = 'skipped', completed_at = now()"
        " WHERE id = ANY($1::bigint[]) AND state = 'waiting'");
DB_STMT(st_close, 2,
        "WITH c AS (UPDATE cases SET state = 'closed', closed_at = now()"
        "  WHERE id = ANY($1::bigint[]) AND state = 'open'"
        "  RETURNING id, external_id, tenant_id)"
        " INSERT INTO outbox (subject, payload)"
        " SELECT $2 || '.evt.' || c.tenant_id || '.case',"
        " json_build_object('type', 'case.closed', 'case_id', c.id,"
        " 'external_id', c.external_id, 'state', 'closed',"
        " 'tenant', c.tenant_id) FROM c");

static pb_state state_of(const char *s)
{
    if (strcmp(s, "waiting") == 0)
        return PB_WAITING;
    /* A wrapping task is done: its case moves on during the wrap-up. */
    if (strcmp(s, "completed") == 0 || strcmp(s, "wrapping") == 0)
        return PB_COMPLETED;
    if (strcmp(s, "skipped") == 0 || strcmp(s, "canceled") == 0)
        return PB_SKIPPED;
    return PB_READY;
}

typedef struct decisions {
    sbuf ready;
    sbuf skip;
    sbuf close;
    int nready;
    int nskip;
    int nclose;
} decisions;

static void add_id(sbuf *b, int *n, int64_t id)
{
    sbuf_printf(b, "%s%lld", *n > 0 ? "," : "{", (long long)id);
    (*n)++;
}

/* Decide one case from its rows [from, to) of r. */
static status decide_case(dispatcher *d, const db_res *r, int from, int to,
                          decisions *out, err *e)
{
    pb_state states[PB_MAX_STEPS], before[PB_MAX_STEPS];
    char codes[PB_MAX_STEPS][ID_MAX + 1];
    int64_t task_of[PB_MAX_STEPS];
    const playbook *pb;
    status s;

    s = dsp_playbook(d, db_val(r, from, 5), db_val(r, from, 6),
                     (int)db_i64(r, from, 7), &pb, e);
    if (s != ST_OK)
        return s;
    for (int i = 0; i < pb->nsteps; i++) {
        states[i] = PB_SKIPPED; /* a step without a task has nothing to do */
        codes[i][0] = '\0';
        task_of[i] = 0;
    }
    for (int i = from; i < to; i++) {
        int st = playbook_step_index(pb, db_val(r, i, 2));
        if (st < 0)
            continue;
        states[st] = state_of(db_val(r, i, 3));
        snprintf(codes[st], ID_MAX + 1, "%s", db_val(r, i, 4));
        task_of[st] = db_i64(r, i, 1);
    }
    memcpy(before, states, sizeof(states));
    playbook_advance(pb, states, (const char(*)[ID_MAX + 1]) codes);
    for (int i = 0; i < pb->nsteps; i++) {
        if (before[i] != PB_WAITING || states[i] == PB_WAITING)
            continue;
        if (states[i] == PB_READY)
            add_id(&out->ready, &out->nready, task_of[i]);
        else
            add_id(&out->skip, &out->nskip, task_of[i]);
    }
    if (playbook_finished(pb, states)) {
        add_id(&out->close, &out->nclose, db_i64(r, from, 0));
        router_case_forget(d->router, db_i64(r, from, 0));
    }
    return ST_OK;
}

static status route_ready(dispatcher *d, const db_res *u, err *e)
{
    status s = ST_OK;

    for (int i = 0; s == ST_OK && i < db_rows(u); i++) {
        const playbook *pb;
        int st;
        s = dsp_playbook(d, db_val(u, i, 4), db_val(u, i, 5),
                         (int)db_i64(u, i, 6), &pb, e);
        if (s != ST_OK)
            break;
        st = playbook_step_index(pb, db_val(u, i, 2));
        if (st >= 0)
            s = dsp_route_task(d, pb, st, db_i64(u, i, 0), db_i64(u, i, 1),
                               (int)db_i64(u, i, 7), db_i64(u, i, 3), -1, e);
    }
    return s;
}

status dsp_progress_cases(dispatcher *d, const int64_t *case_ids, int n, err *e)
{
    decisions dec = {0};
    sbuf ids = {0};
    db_res *r = NULL, *u = NULL;
    status s = ST_OK;
    int from = 0;

    if (n == 0)
        return ST_OK;
    sbuf_append(&ids, "{", 1);
    for (int i = 0; i < n; i++)
        sbuf_printf(&ids, "%s%lld", i > 0 ? "," : "", (long long)case_ids[i]);
    sbuf_append(&ids, "}", 1);
    {
        const char *p[1] = {sbuf_str(&ids)};
        s = db_run(d->db, &st_cases_tasks, p, &r, e);
    }
    for (int i = 1; s == ST_OK && i <= db_rows(r); i++)
        if (i == db_rows(r) || db_i64(r, i, 0) != db_i64(r, from, 0)) {
            s = decide_case(d, r, from, i, &dec, e);
            from = i;
        }
    sbuf_append(&dec.ready, "}", 1);
    sbuf_append(&dec.skip, "}", 1);
    sbuf_append(&dec.close, "}", 1);
    if (s == ST_OK &&
        (ids.failed || dec.ready.failed || dec.skip.failed || dec.close.failed))
        s = err_set(e, ST_NOMEM, "out of memory");
    if (s == ST_OK && dec.nskip > 0) {
        const char *p[1] = {sbuf_str(&dec.skip)};
        s = db_run(d->db, &st_skip, p, NULL, e);
    }
    if (s == ST_OK && dec.nready > 0) {
        const char *p[1] = {sbuf_str(&dec.ready)};
        s = db_run(d->db, &st_ready, p, &u, e);
        if (s == ST_OK)
            s = route_ready(d, u, e);
    }
    if (s == ST_OK && dec.nclose > 0) {
        const char *p[2] = {sbuf_str(&dec.close), d->cfg.prefix};
        s = db_run(d->db, &st_close, p, NULL, e);
        d->events_written = true;
    }
    sbuf_free(&ids);
    sbuf_free(&dec.ready);
    sbuf_free(&dec.skip);
    sbuf_free(&dec.close);
    db_res_free(r);
    db_res_free(u);
    return s;
}

status dsp_progress_case(dispatcher *d, int64_t case_id, err *e)
{
    return dsp_progress_cases(d, &case_id, 1, e);
}
