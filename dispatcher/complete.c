/*
 * Completions, set-wise. The rare requests that need a closer look are
 * answered in the same pass: a retry of a completion already recorded
 * (the same outcome code and fields) gets the stored outcome with
 * "duplicate": true, a different one is refused with "conflict" naming
 * the outcome that stands, a repeat inside the batch is looked up again
 * after the write (and so answered as a retry or a conflict), and a
 * fenced write that matched nothing is refused as stale.
 */
#include "complete.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_msg.h"
#include "bulk.h"
#include "clock.h"
#include "dsp_sql.h"
#include "i64map.h"
#include "outq.h"
#include "progress.h"
#include "reservations.h"
#include "review.h"
#include "sbuf.h"
#include "state.h"
#include "subjects.h"

/* An item's state: answered, to write, written, or found recorded before
 * (to be answered as a duplicate or a conflict). */
enum { BAD, OPEN, DONE, RECORDED };

typedef struct item {
    agent_completion c;
    int state;
    bool repeat;   /* of an earlier request of the batch */
    dsp_res res;   /* its reservation */
    bool billable; /* of the outcome chosen */
    bool review;   /* a review step's task */
    bool ai_auto;  /* a task of an ai: auto step */
} item;

static status reply_complete(dispatcher *d, const dsp_req *q,
                             int64_t outcome_id, bool billable, bool dup,
                             err *e)
{
    char *body = NULL;
    size_t len;
    status s = agent_reply_complete(outcome_id, billable, dup, &body, &len, e);

    return s == ST_OK ? dsp_outq_answer(d->out, q, body, e) : s;
}

/* Check one completion against its reservation (it->res) and the step.
 * *dup: an outcome was recorded before (answer_recorded compares them). */
static status check(dispatcher *d, const char *worker, item *it, bool *dup,
                    err *e)
{
    const dsp_res *l = &it->res;
    const playbook *pb;
    int step;
    status s;

    *dup = false;
    if (!l->found || strcmp(l->worker, worker) != 0 || l->epoch != it->c.epoch)
        return dsp_res_diagnose(l, it->c.reservation_id, worker, it->c.epoch,
                                e);
    if (l->outcome_id > 0) {
        *dup = true;
        return ST_OK;
    }
    if (strcmp(l->state, "accepted") != 0)
        return dsp_res_diagnose(l, it->c.reservation_id, worker, it->c.epoch,
                                e);
    s = dsp_playbook(d, l->tenant, l->case_type, l->version, &pb, e);
    if (s != ST_OK)
        return s;
    step = playbook_step_index(pb, l->step);
    if (step < 0)
        return err_set(e, ST_INTERNAL, "task step %s not in playbook", l->step);
    s = playbook_check_outcome(&pb->steps[step], it->c.code, it->c.fields, e);
    if (s == ST_OK)
        s = dsp_review_check(pb, step, it->c.code, it->c.fields, e);
    if (s != ST_OK)
        return s;
    it->billable = playbook_outcome(&pb->steps[step], it->c.code)->billable;
    it->review = dsp_review_step(pb, step);
    it->ai_auto = pb->steps[step].ai == PB_AI_AUTO;
    return ST_OK;
}

/* Look up the reservations of the open items (the repeats, or all but
 * the repeats) into their res, with one read. */
static status lookup(dispatcher *d, item *it, int n, bool repeats, err *e)
{
    int64_t *ids = calloc((size_t)n, sizeof(int64_t));
    dsp_res *res = calloc((size_t)n, sizeof(dsp_res));
    int k = 0;
    status s = ST_OK;

    if (ids == NULL || res == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++)
        if (it[i].state == OPEN && it[i].repeat == repeats)
            ids[k++] = it[i].c.reservation_id;
    if (k > 0)
        s = dsp_res_lookup(d->db, ids, k, res, e);
    for (int i = 0, x = 0; s == ST_OK && i < n; i++)
        if (it[i].state == OPEN && it[i].repeat == repeats)
            it[i].res = res[x++];
out:
    free(ids);
    free(res);
    return s;
}

/*
 * Answer the items whose reservation has an outcome already, with one
 * read: the same code and fields again is a retry (the stored outcome,
 * "duplicate": true); anything else is refused with "conflict" and the
 * outcome that stands, so a worker whose result lost to a forged or
 * earlier different completion learns it.
 */
static status answer_recorded(dispatcher *d, const dsp_req *reqs, item *it,
                              int n, err *e)
{
    sbuf ids = {0}, codes = {0}, fields = {0};
    db_res *r = NULL;
    int *of = calloc((size_t)n + 1, sizeof(int)); /* row number -> item */
    int k = 0;
    status s = of != NULL ? ST_OK : err_set(e, ST_NOMEM, "out of memory");

    for (int i = 0; s == ST_OK && i < n; i++) {
        const char *sep = k > 0 ? "," : "{";
        if (it[i].state != RECORDED)
            continue;
        of[++k] = i;
        sbuf_printf(&ids, "%s%lld", sep, (long long)it[i].res.outcome_id);
        sbuf_printf(&codes, "%s%s", sep, it[i].c.code);
        sbuf_append(&fields, sep, 1);
        sbuf_pg_elem(&fields, it[i].c.fields_json);
    }
    if (s != ST_OK || k == 0)
        goto out;
    sbuf_append(&ids, "}", 1);
    sbuf_append(&codes, "}", 1);
    sbuf_append(&fields, "}", 1);
    if (ids.failed || codes.failed || fields.failed) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    {
        const char *p[3] = {sbuf_str(&ids), sbuf_str(&codes),
                            sbuf_str(&fields)};
        s = db_run(d->db, &dsp_sql_outcome_same, p, &r, e);
    }
    for (int j = 0; s == ST_OK && j < db_rows(r); j++) {
        int64_t num = db_i64(r, j, DSP_OUTCOME_SAME_N);
        item *x;
        char *body = NULL;
        size_t len;

        if (num < 1 || num > k)
            continue;
        x = &it[of[num]];
        x->state = BAD;
        if (db_bool(r, j, DSP_OUTCOME_SAME_SAME)) {
            s = reply_complete(d, &reqs[of[num]], x->res.outcome_id,
                               x->res.billable, true, e);
            continue;
        }
        s = agent_reply_conflict(x->c.reservation_id, x->res.outcome_id,
                                 db_val(r, j, DSP_OUTCOME_SAME_CODE),
                                 db_val(r, j, DSP_OUTCOME_SAME_FIELDS),
                                 x->c.code, &body, &len, e);
        if (s == ST_OK)
            s = dsp_outq_answer(d->out, &reqs[of[num]], body, e);
    }
    /* An outcome is never deleted, so every one is found; if not, the
     * batch is retried. */
    for (int i = 0; s == ST_OK && i < n; i++)
        if (it[i].state == RECORDED)
            s = err_set(e, ST_INTERNAL, "outcome %lld vanished",
                        (long long)it[i].res.outcome_id);
out:
    db_res_free(r);
    sbuf_free(&ids);
    sbuf_free(&codes);
    sbuf_free(&fields);
    free(of);
    return s;
}

/* Check the items of this pass; the ones refused are answered now, the
 * ones recorded before after one read of their outcomes. */
static status check_all(dispatcher *d, const dsp_req *reqs, item *it, int n,
                        bool repeats, err *e)
{
    status s = ST_OK;

    for (int i = 0; s == ST_OK && i < n; i++) {
        err re = {0};
        bool dup;
        status rs;

        if (it[i].state != OPEN || it[i].repeat != repeats)
            continue;
        rs = check(d, reqs[i].party, &it[i], &dup, &re);
        if (rs != ST_OK) {
            it[i].state = BAD;
            dsp_outq_refuse(d->out, &reqs[i], rs, &re, &s, e);
        } else if (dup) {
            it[i].state = RECORDED;
        }
    }
    if (s == ST_OK)
        s = answer_recorded(d, reqs, it, n, e);
    return s;
}

/* The completion statement for every checked item that is no repeat. */
static status write_all(dispatcher *d, const dsp_req *reqs, item *it, int n,
                        db_res **out, err *e)
{
    sbuf tasks = {0}, eps = {0}, wks = {0}, ids = {0}, codes = {0},
         fields = {0}, bills = {0};
    char head[SUBJECTS_MAX], tail[SUBJECTS_MAX];
    int k = 0;
    status s;

    *out = NULL;
    for (int i = 0; i < n; i++) {
        const char *sep = k > 0 ? "," : "{";
        if (it[i].state != OPEN || it[i].repeat)
            continue;
        sbuf_printf(&tasks, "%s%lld", sep, (long long)it[i].res.task_id);
        sbuf_printf(&eps, "%s%lld", sep, (long long)it[i].c.epoch);
        sbuf_printf(&wks, "%s%s", sep, reqs[i].party);
        sbuf_printf(&ids, "%s%lld", sep, (long long)it[i].c.reservation_id);
        sbuf_printf(&codes, "%s%s", sep, it[i].c.code);
        sbuf_append(&fields, sep, 1);
        sbuf_pg_elem(&fields, it[i].c.fields_json);
        sbuf_printf(&bills, "%s%s", sep, it[i].billable ? "t" : "f");
        k++;
    }
    sbuf_append(&tasks, "}", 1);
    sbuf_append(&eps, "}", 1);
    sbuf_append(&wks, "}", 1);
    sbuf_append(&ids, "}", 1);
    sbuf_append(&codes, "}", 1);
    sbuf_append(&fields, "}", 1);
    sbuf_append(&bills, "}", 1);
    s = subjects_event_parts(head, tail, d->cfg.prefix, SUBJECTS_EVT_OUTCOME,
                             e);
    if (s == ST_OK && (tasks.failed || eps.failed || wks.failed || ids.failed ||
                       codes.failed || fields.failed || bills.failed))
        s = err_set(e, ST_NOMEM, "out of memory");
    if (s == ST_OK && k > 0) {
        const char *p[9] = {sbuf_str(&tasks),
                            sbuf_str(&eps),
                            sbuf_str(&wks),
                            sbuf_str(&ids),
                            sbuf_str(&codes),
                            sbuf_str(&fields),
                            sbuf_str(&bills),
                            head,
                            tail};
        s = db_run(d->db, &dsp_sql_complete_set, p, out, e);
    }
    sbuf_free(&tasks);
    sbuf_free(&eps);
    sbuf_free(&wks);
    sbuf_free(&ids);
    sbuf_free(&codes);
    sbuf_free(&fields);
    sbuf_free(&bills);
    return s;
}

/* After the write: routing, replies, reviews and the cases' progress. */
static status written(dispatcher *d, const dsp_req *reqs, item *it, int n,
                      const db_res *r, err *e)
{
    int64_t *cases = calloc((size_t)n + 1, sizeof(int64_t));
    dsp_review_item *rv = calloc((size_t)n + 1, sizeof(dsp_review_item));
    i64map *idx = NULL;
    int ncases = 0, nrv = 0;
    status s = cases != NULL && rv != NULL
                   ? i64map_create(&idx, e)
                   : err_set(e, ST_NOMEM, "out of memory");

    for (int i = 0; s == ST_OK && i < n; i++)
        if (it[i].state == OPEN && !it[i].repeat)
            s = i64map_put(idx, it[i].c.reservation_id, i, e);
    for (int j = 0; s == ST_OK && r != NULL && j < db_rows(r); j++) {
        int64_t task = db_i64(r, j, DSP_COMPLETE_SET_TASK_ID);
        int64_t case_id = db_i64(r, j, DSP_COMPLETE_SET_CASE_ID);
        int i;

        if (!i64map_get(idx, db_i64(r, j, DSP_COMPLETE_SET_RESERVATION_ID), &i))
            continue;
        it[i].state = DONE;
        d->stat_completed++;
        if (strcmp(db_val(r, j, DSP_COMPLETE_SET_STATE), "wrapping") == 0)
            router_task_wrapping(d->router, task, clock_wall_us());
        else
            router_task_done(d->router, task, clock_wall_us());
        if (ncases == 0 || cases[ncases - 1] != case_id)
            cases[ncases++] = case_id;
        if (it[i].review || it[i].ai_auto) {
            rv[nrv].task_id = task;
            rv[nrv].confidence = it[i].c.confidence;
            rv[nrv++].review = it[i].review;
        }
        s = reply_complete(d, &reqs[i],
                           db_i64(r, j, DSP_COMPLETE_SET_OUTCOME_ID),
                           it[i].billable, false, e);
    }
    if (s == ST_OK && r != NULL && db_rows(r) > 0)
        d->events_written = true;
    /* Checked but not written: the task moved on under us (lease). */
    for (int i = 0; s == ST_OK && i < n; i++) {
        err re = {0};
        if (it[i].state != OPEN || it[i].repeat)
            continue;
        it[i].state = BAD;
        dsp_outq_refuse(d->out, &reqs[i],
                        err_set(&re, ST_STALE,
                                "reservation is no longer assigned to you "
                                "(lease expired?)"),
                        &re, &s, e);
    }
    if (s == ST_OK && nrv > 0)
        s = dsp_review_after(d, rv, nrv, e);
    if (s == ST_OK)
        s = dsp_progress_cases(d, cases, ncases, e);
    i64map_destroy(idx);
    free(cases);
    free(rv);
    return s;
}

status dsp_complete_many(dispatcher *d, const dsp_req *reqs, int n, err *e)
{
    dsp_bulk *b = NULL;
    status s =
        dsp_bulk_open(&b, d, reqs, n, agent_msg_complete_many_decode, NULL, e);

    if (s == ST_OK && dsp_bulk_count(b) > 0)
        s = dsp_complete(d, dsp_bulk_items(b), dsp_bulk_count(b), e);
    if (s == ST_OK)
        s = dsp_bulk_reply(b, d, e);
    dsp_bulk_destroy(b);
    return s;
}

status dsp_complete(dispatcher *d, const dsp_req *reqs, int n, err *e)
{
    item *it = calloc((size_t)n, sizeof(item));
    i64map *seen = NULL;
    db_res *r = NULL;
    status s = it != NULL ? i64map_create(&seen, e)
                          : err_set(e, ST_NOMEM, "out of memory");

    for (int i = 0; s == ST_OK && i < n; i++) {
        err re = {0};
        status rs = agent_msg_complete_decode(
            dsp_req_data(&reqs[i]), dsp_req_len(&reqs[i]), &it[i].c, &re);
        int first;

        if (rs != ST_OK) {
            dsp_outq_refuse(d->out, &reqs[i], rs, &re, &s, e);
            continue;
        }
        it[i].state = OPEN;
        it[i].repeat = i64map_get(seen, it[i].c.reservation_id, &first);
        if (!it[i].repeat)
            s = i64map_put(seen, it[i].c.reservation_id, i, e);
    }
    if (s == ST_OK)
        s = lookup(d, it, n, false, e);
    if (s == ST_OK)
        s = check_all(d, reqs, it, n, false, e);
    if (s == ST_OK)
        s = write_all(d, reqs, it, n, &r, e);
    if (s == ST_OK)
        s = written(d, reqs, it, n, r, e);
    /* Repeats inside the batch: looked up now that the first was written,
     * they are answered as retries (or as the first was). */
    if (s == ST_OK)
        s = lookup(d, it, n, true, e);
    if (s == ST_OK)
        s = check_all(d, reqs, it, n, true, e);
    for (int i = 0; s == ST_OK && i < n; i++) {
        err re = {0};
        if (it[i].state != OPEN)
            continue;
        /* Checked fine, yet its first was not written: as the first. */
        dsp_outq_refuse(d->out, &reqs[i],
                        err_set(&re, ST_STALE,
                                "reservation is no longer assigned to you "
                                "(lease expired?)"),
                        &re, &s, e);
    }
    for (int i = 0; it != NULL && i < n; i++)
        agent_completion_release(&it[i].c);
    db_res_free(r);
    i64map_destroy(seen);
    free(it);
    return s;
}
