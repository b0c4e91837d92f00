/* An operator changes a waiting task's priority: only of a task it serves. */
#include "ops_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_msg.h"
#include "dsp_sql.h"
#include "intake.h"
#include "log.h"
#include "outq.h"

#define MOD "dispatcher"

/* The priority sticks to the task (a restart keeps it); only open tasks,
 * which the router knows, can change, and only those of a case type one
 * of the operator's pools serves. The server lets an operator identity
 * publish only under its own <p>.ops.<operator>., so q->party is the
 * operator who asks. */
static status priority_one(dispatcher *d, const dsp_req *q, err *e)
{
    const bus_msg *m = q->m;
    const char *op = q->party;
    case_task_priority p;
    char tbuf[24], pbuf[24], *body = NULL;
    const char *params[3];
    db_res *r = NULL;
    size_t len;
    status s = case_msg_priority_decode(bus_msg_data(m), bus_msg_len(m), &p, e);

    if (s != ST_OK)
        return s;
    params[0] = db_i64_str(tbuf, p.task_id);
    params[1] = db_i64_str(pbuf, p.priority);
    params[2] = op;
    s = db_run(d->db, &dsp_sql_task_priority, params, &r, e);
    if (s != ST_OK)
        goto out;
    if (db_rows(r) == 0) {
        const char *sp[2] = {params[0], op};

        db_res_free(r);
        r = NULL;
        s = db_run(d->db, &dsp_sql_task_state, sp, &r, e);
        if (s != ST_OK)
            goto out;
        if (db_rows(r) == 0)
            s = err_set(e, ST_NOT_FOUND, "task %lld does not exist",
                        (long long)p.task_id);
        else if (!db_bool(r, 0, DSP_TASK_STATE_SERVED))
            s = err_set(e, ST_NOT_YOURS,
                        "task %lld is not in a pool of operator %s",
                        (long long)p.task_id, op);
        else
            s = err_set(e, ST_INVALID,
                        "task %lld is %s; only pending, reserved or "
                        "assigned tasks can change priority",
                        (long long)p.task_id,
                        db_val(r, 0, DSP_TASK_STATE_STATE));
        goto out;
    }
    /* A task the router does not know is fine: the rebuild reads the
     * stored priority. */
    {
        err re = {0};
        if (router_task_set_priority(d->router, p.task_id, p.priority, &re) !=
            ST_OK)
            log_warn(MOD, "%s", re.msg);
    }
    log_info(MOD, "operator %s set task %lld priority to %d", op,
             (long long)p.task_id, p.priority);
    {
        auditlog_who who;
        char subj[40], details[48], ident[ID_MAX + 1];

        /* The identity is the operator's tool whose private inbox gets
         * the reply ("-" without one). */
        auditlog_who_set(&who, "operator", op,
                         dsp_intake_client_of(bus_msg_reply(m), ident) ? ident
                                                                       : NULL);
        snprintf(subj, sizeof(subj), "task:%lld", (long long)p.task_id);
        snprintf(details, sizeof(details), "{\"priority\":%d}", p.priority);
        s = auditlog_batch_add(d->audit, &who, "task.priority", subj, details,
                               e);
        /* The task changed already: a record that cannot be kept fails
         * the batch, never only the request. */
        if (s != ST_OK) {
            err_wrap(e, "audit record");
            s = e->code = ST_INTERNAL;
            goto out;
        }
    }
    s = case_msg_priority_reply(&p, &body, &len, e);
    if (s == ST_OK)
        s = dsp_outq_reply(d->out, m, body, e);
out:
    db_res_free(r);
    return s;
}

/* Rare: one statement each, in arrival order. */
status dsp_ops_priority(dispatcher *d, const dsp_req *reqs, int n, err *e)
{
    status s = ST_OK;

    for (int i = 0; s == ST_OK && i < n; i++) {
        err re = {0};
        dsp_outq_fail(d->out, reqs[i].m, priority_one(d, &reqs[i], &re), &re,
                      &s, e);
    }
    return s;
}
