/* Case progression: ready the next steps, skip the ones whose condition
 * failed, close the case when its playbook is finished. */
#include "clock.h"
#include "dispatcher_int.h"
#include "sbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

DB_STMT(st_case_tasks, 1,
        "SELECT t.id, t.step, t.state,"
        " COALESCE((SELECT o.code FROM outcomes o WHERE o.task_id = t.id),"
        " ''), c.tenant_id, c.case_type, c.playbook_version, c.priority,"
        " c.external_id FROM cases c JOIN tasks t ON t.case_id = c.id"
        " WHERE c.id = $1 ORDER BY t.id");
DB_STMT(st_ready, 1,
        "UPDATE tasks t SET state = 'pending', ready_at = now(),"
        " sla_due_at = now() + make_interval(secs => s.sla_seconds)"
        " FROM cases c, playbook_steps s"
        " WHERE t.id = ANY($1::bigint[]) AND t.state = 'waiting'"
        " AND c.id = t.case_id AND s.tenant_id = c.tenant_id"
        " AND s.case_type = c.case_type AND s.version = c.playbook_version"
        " AND s.step = t.step"
        " RETURNING t.id, t.step, (extract(epoch FROM t.ready_at) * 1e6)"
        "::bigint");
DB_STMT(st_skip, 1,
        "UPDATE tasks SET state = 'skipped', completed_at = now()"
        " WHERE id = ANY($1::bigint[]) AND state = 'waiting'");
DB_STMT(st_close, 3,
        "WITH c AS (UPDATE cases SET state = 'closed', closed_at = now()"
        "  WHERE id = $1 AND state = 'open' RETURNING id, external_id)"
        " INSERT INTO outbox (subject, payload)"
        " SELECT $2, json_build_object('type', 'case.closed', 'case_id', c.id,"
        " 'external_id', c.external_id, 'state', 'closed', 'tenant', $3::text)"
        " FROM c");

static pb_state state_of(const char *s)
{
    if (strcmp(s, "waiting") == 0)
        return PB_WAITING;
    if (strcmp(s, "completed") == 0)
        return PB_COMPLETED;
    if (strcmp(s, "skipped") == 0 || strcmp(s, "canceled") == 0)
        return PB_SKIPPED;
    return PB_READY;
}

status dsp_progress_case(dispatcher *d, int64_t case_id, err *e)
{
    char cbuf[24];
    const char *params[1] = {db_i64_str(cbuf, case_id)};
    pb_state states[PB_MAX_STEPS], before[PB_MAX_STEPS];
    char codes[PB_MAX_STEPS][ID_MAX + 1];
    int64_t task_of[PB_MAX_STEPS];
    sbuf ready = {0}, skip = {0};
    db_res *r = NULL, *u = NULL;
    const playbook *pb;
    int nready = 0, nskip = 0;
    status s;

    s = db_run(d->db, &st_case_tasks, params, &r, e);
    if (s != ST_OK || db_rows(r) == 0)
        goto out;
    s = dsp_playbook(d, db_val(r, 0, 4), db_val(r, 0, 5),
                     (int)db_i64(r, 0, 6), &pb, e);
    if (s != ST_OK)
        goto out;
    for (int i = 0; i < pb->nsteps; i++) {
        states[i] = PB_SKIPPED; /* a step without a task has nothing to do */
        codes[i][0] = '\0';
        task_of[i] = 0;
    }
    for (int i = 0; i < db_rows(r); i++) {
        int st = playbook_step_index(pb, db_val(r, i, 1));
        if (st < 0)
            continue;
        states[st] = state_of(db_val(r, i, 2));
        snprintf(codes[st], ID_MAX + 1, "%s", db_val(r, i, 3));
        task_of[st] = db_i64(r, i, 0);
    }
    memcpy(before, states, sizeof(states));
    playbook_advance(pb, states, (const char(*)[ID_MAX + 1])codes);
    sbuf_append(&ready, "{", 1);
    sbuf_append(&skip, "{", 1);
    for (int i = 0; i < pb->nsteps; i++) {
        if (before[i] != PB_WAITING || states[i] == PB_WAITING)
            continue;
        if (states[i] == PB_READY)
            sbuf_printf(&ready, "%s%lld", nready++ > 0 ? "," : "",
                        (long long)task_of[i]);
        else
            sbuf_printf(&skip, "%s%lld", nskip++ > 0 ? "," : "",
                        (long long)task_of[i]);
    }
    sbuf_append(&ready, "}", 1);
    sbuf_append(&skip, "}", 1);
    if (ready.failed || skip.failed) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    if (nskip > 0) {
        const char *p[1] = {sbuf_str(&skip)};
        s = db_run(d->db, &st_skip, p, NULL, e);
        if (s != ST_OK)
            goto out;
    }
    if (nready > 0) {
        const char *p[1] = {sbuf_str(&ready)};
        s = db_run(d->db, &st_ready, p, &u, e);
        for (int i = 0; s == ST_OK && i < db_rows(u); i++) {
            int st = playbook_step_index(pb, db_val(u, i, 1));
            if (st >= 0)
                s = dsp_route_task(d, pb, st, db_i64(u, i, 0), case_id,
                                   (int)db_i64(r, 0, 7), db_i64(u, i, 2), -1,
                                   e);
        }
        if (s != ST_OK)
            goto out;
    }
    if (playbook_finished(pb, states)) {
        char subj[160];
        dsp_subject(d, subj, sizeof(subj), "evt.%s.case", pb->tenant);
        const char *p[3] = {cbuf, subj, pb->tenant};
        s = db_run(d->db, &st_close, p, NULL, e);
        if (s != ST_OK)
            goto out;
        d->events_written = true;
        router_case_forget(d->router, case_id);
    }
out:
    sbuf_free(&ready);
    sbuf_free(&skip);
    db_res_free(r);
    db_res_free(u);
    return s;
}
