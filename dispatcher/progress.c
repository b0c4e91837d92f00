/* Case progression: ready the next steps, skip the ones whose condition
 * failed, close the cases whose playbook is finished — for every case a
 * batch touched, in four statements whatever their number. */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dsp_sql.h"
#include "sbuf.h"
#include "state.h"
#include "subjects.h"

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

    s = dsp_playbook(d, db_val(r, from, DSP_CASES_TASKS_TENANT_ID),
                     db_val(r, from, DSP_CASES_TASKS_CASE_TYPE),
                     (int)db_i64(r, from, DSP_CASES_TASKS_PLAYBOOK_VERSION),
                     &pb, e);
    if (s != ST_OK)
        return s;
    for (int i = 0; i < pb->nsteps; i++) {
        states[i] = PB_SKIPPED; /* a step without a task has nothing to do */
        codes[i][0] = '\0';
        task_of[i] = 0;
    }
    for (int i = from; i < to; i++) {
        int st = playbook_step_index(pb, db_val(r, i, DSP_CASES_TASKS_STEP));
        if (st < 0)
            continue;
        states[st] = state_of(db_val(r, i, DSP_CASES_TASKS_STATE));
        snprintf(codes[st], ID_MAX + 1, "%s",
                 db_val(r, i, DSP_CASES_TASKS_CODE));
        task_of[st] = db_i64(r, i, DSP_CASES_TASKS_TASK_ID);
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
        add_id(&out->close, &out->nclose,
               db_i64(r, from, DSP_CASES_TASKS_CASE_ID));
        router_case_forget(d->router, db_i64(r, from, DSP_CASES_TASKS_CASE_ID));
    }
    return ST_OK;
}

static status route_ready(dispatcher *d, const db_res *u, err *e)
{
    status s = ST_OK;

    for (int i = 0; s == ST_OK && i < db_rows(u); i++) {
        const playbook *pb;
        int st;
        s = dsp_playbook(d, db_val(u, i, DSP_TASKS_READY_TENANT_ID),
                         db_val(u, i, DSP_TASKS_READY_CASE_TYPE),
                         (int)db_i64(u, i, DSP_TASKS_READY_PLAYBOOK_VERSION),
                         &pb, e);
        if (s != ST_OK)
            break;
        st = playbook_step_index(pb, db_val(u, i, DSP_TASKS_READY_STEP));
        if (st >= 0)
            s = dsp_route_task(d, pb, st, db_i64(u, i, DSP_TASKS_READY_ID),
                               db_i64(u, i, DSP_TASKS_READY_CASE_ID),
                               (int)db_i64(u, i, DSP_TASKS_READY_PRIORITY),
                               db_i64(u, i, DSP_TASKS_READY_READY_US), -1, e);
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
        s = db_run(d->db, &dsp_sql_cases_tasks, p, &r, e);
    }
    for (int i = 1; s == ST_OK && i <= db_rows(r); i++)
        if (i == db_rows(r) || db_i64(r, i, DSP_CASES_TASKS_CASE_ID) !=
                                   db_i64(r, from, DSP_CASES_TASKS_CASE_ID)) {
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
        s = db_run(d->db, &dsp_sql_tasks_skip, p, NULL, e);
    }
    if (s == ST_OK && dec.nready > 0) {
        const char *p[1] = {sbuf_str(&dec.ready)};
        s = db_run(d->db, &dsp_sql_tasks_ready, p, &u, e);
        if (s == ST_OK)
            s = route_ready(d, u, e);
    }
    if (s == ST_OK && dec.nclose > 0) {
        char head[SUBJECTS_MAX], tail[SUBJECTS_MAX];
        const char *p[3] = {sbuf_str(&dec.close), head, tail};
        s = subjects_event_parts(head, tail, d->cfg.prefix, SUBJECTS_EVT_CASE,
                                 e);
        if (s == ST_OK)
            s = db_run(d->db, &dsp_sql_cases_close, p, NULL, e);
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
