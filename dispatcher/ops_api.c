/*
 * Operator requests over NATS (docs/protocol.md, "Operator requests"):
 * <prefix>.ops.task.priority changes an open task's priority. The subject
 * carries no identity; NATS permissions must confine <prefix>.ops.> to
 * operators.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatcher_int.h"
#include "jsonx.h"
#include "log.h"

#define MOD "dispatcher"

/* The priority sticks to the task (a restart keeps it); only open tasks,
 * which the router knows, can change. */
DB_STMT(st_task_priority, 2,
        "UPDATE tasks SET priority = $2::int WHERE id = $1::bigint"
        " AND state IN ('pending', 'reserved', 'assigned')"
        " RETURNING id, state");
DB_STMT(st_task_state, 1, "SELECT state FROM tasks WHERE id = $1::bigint");

static const jfield priority_fields[] = {{"task_id", JF_INT, true},
                                         {"priority", JF_INT, true}};

status dsp_ops_priority(dispatcher *d, const bus_msg *m, err *e)
{
    char tbuf[24], pbuf[24], *body;
    const char *params[2];
    json_t *root = NULL;
    db_res *r = NULL;
    int64_t task = 0, prio = 0;
    status s;

    s = jsonx_parse(bus_msg_data(m), bus_msg_len(m), DSP_AGENT_MAX_BYTES, &root,
                    e);
    if (s == ST_OK)
        s = jsonx_check(root, "request", priority_fields, 2, e);
    if (s != ST_OK)
        goto out;
    (void)jsonx_int(root, "task_id", &task);
    (void)jsonx_int(root, "priority", &prio);
    if (task <= 0 || prio < -100 || prio > 100) {
        s = err_set(e, ST_INVALID,
                    "request needs a task_id > 0 and a priority from -100 to "
                    "100 (higher is served first)");
        goto out;
    }
    params[0] = db_i64_str(tbuf, task);
    params[1] = db_i64_str(pbuf, prio);
    s = db_run(d->db, &st_task_priority, params, &r, e);
    if (s != ST_OK)
        goto out;
    if (db_rows(r) == 0) {
        db_res_free(r);
        r = NULL;
        s = db_run(d->db, &st_task_state, params, &r, e);
        if (s != ST_OK)
            goto out;
        s = db_rows(r) == 0
                ? err_set(e, ST_NOT_FOUND, "task %lld does not exist",
                          (long long)task)
                : err_set(e, ST_INVALID,
                          "task %lld is %s; only pending, reserved or "
                          "assigned tasks can change priority",
                          (long long)task, db_val(r, 0, 0));
        goto out;
    }
    /* A task the router does not know is fine: the rebuild reads the
     * stored priority. */
    {
        err re = {0};
        if (router_task_set_priority(d->router, task, (int)prio, &re) != ST_OK)
            log_warn(MOD, "%s", re.msg);
    }
    log_info(MOD, "operator set task %lld priority to %lld", (long long)task,
             (long long)prio);
    body = malloc(96);
    if (body == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    snprintf(body, 96, "{\"ok\":true,\"task_id\":%lld,\"priority\":%lld}",
             (long long)task, (long long)prio);
    s = dsp_reply(d, m, body, e);
out:
    json_decref(root);
    db_res_free(r);
    return s;
}
