/*
 * The assistant's feedback: which suggestions of the assist panel a worker
 * was shown, opened, copied or used while holding a task. Stored in
 * assist_feedback with the batch's transaction; `twinline assist report`
 * reads it.
 */
#include "feedback_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_msg.h"
#include "dsp_sql.h"
#include "outq.h"
#include "reservations.h"
#include "sbuf.h"

/* Was the reservation l ever held by worker for task_id? */
static status check_held(const dsp_res *l, const char *worker, int64_t res_id,
                         int64_t task_id, err *e)
{
    static const char *const held[] = {"accepted", "wrapping", "completed",
                                       "rescinded"};

    if (!l->found)
        return err_set(e, ST_NOT_FOUND, "no reservation %lld",
                       (long long)res_id);
    if (strcmp(l->worker, worker) != 0)
        return err_set(e, ST_NOT_YOURS,
                       "reservation %lld belongs to another worker",
                       (long long)res_id);
    if (l->task_id != task_id)
        return err_set(e, ST_INVALID, "reservation %lld is not of task %lld",
                       (long long)res_id, (long long)task_id);
    for (size_t i = 0; i < sizeof(held) / sizeof(held[0]); i++)
        if (strcmp(l->state, held[i]) == 0)
            return ST_OK;
    return err_set(e, ST_STALE,
                   "reservation %lld is %s: feedback is only for a task you "
                   "accepted",
                   (long long)res_id, l->state);
}

/* One request: its reservation looked up and checked, then one statement
 * stores its events. Requests are rare (about one per task), so each
 * runs alone, in arrival order: a repeat in the batch stores nothing. */
static status feedback_one(dispatcher *d, const dsp_req *q, agent_feedback *f,
                           err *e)
{
    sbuf sugg = {0}, act = {0}, kinds = {0};
    db_res *r = NULL;
    dsp_res l;
    char rbuf[24], tbuf[24], *body = NULL;
    size_t len;
    status s =
        agent_msg_feedback_decode(bus_msg_data(q->m), bus_msg_len(q->m), f, e);

    if (s == ST_OK)
        s = dsp_res_lookup(d->db, &f->reservation_id, 1, &l, e);
    if (s == ST_OK)
        s = check_held(&l, q->party, f->reservation_id, f->task_id, e);
    if (s != ST_OK)
        goto out;
    for (int i = 0; i < f->nevents; i++) {
        const char *sep = i > 0 ? "," : "{";
        sbuf_append(&sugg, sep, 1);
        sbuf_pg_elem(&sugg, f->events[i].suggestion);
        sbuf_printf(&act, "%s%s", sep, f->events[i].action);
        sbuf_printf(&kinds, "%s%s", sep, f->kinds[i]);
    }
    sbuf_append(&sugg, "}", 1);
    sbuf_append(&act, "}", 1);
    sbuf_append(&kinds, "}", 1);
    if (sugg.failed || act.failed || kinds.failed) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    {
        const char *p[9] = {db_i64_str(rbuf, f->reservation_id),
                            db_i64_str(tbuf, f->task_id),
                            l.tenant,
                            l.case_type,
                            l.step,
                            q->party,
                            sbuf_str(&kinds),
                            sbuf_str(&sugg),
                            sbuf_str(&act)};
        s = db_run(d->db, &dsp_sql_feedback_insert, p, &r, e);
    }
    if (s == ST_OK)
        s = agent_reply_feedback(db_i64(r, 0, DSP_FEEDBACK_INSERT_STORED),
                                 &body, &len, e);
    if (s == ST_OK)
        s = dsp_outq_reply(d->out, q->m, body, e);
out:
    db_res_free(r);
    sbuf_free(&sugg);
    sbuf_free(&act);
    sbuf_free(&kinds);
    return s;
}

status dsp_feedback(dispatcher *d, const dsp_req *reqs, int n, err *e)
{
    agent_feedback *f = malloc(sizeof(*f));
    status s = f != NULL ? ST_OK : err_set(e, ST_NOMEM, "out of memory");

    for (int i = 0; s == ST_OK && i < n; i++) {
        err re = {0};
        dsp_outq_fail(d->out, reqs[i].m, feedback_one(d, &reqs[i], f, &re), &re,
                      &s, e);
    }
    free(f);
    return s;
}
