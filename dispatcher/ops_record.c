#include "ops_record.h"

#include <stdio.h>
#include <stdlib.h>

#include "auditlog.h"
#include "bus.h"
#include "intake.h"

status dsp_ops_record(dispatcher *d, const dsp_req *q, const ops_req *r,
                      const ops_result *res, err *e)
{
    auditlog_who who;
    char subj[40 + ID_MAX], ident[ID_MAX + 1], *details = NULL;
    status s;

    auditlog_who_set(&who, "operator", q->party,
                     dsp_intake_client_of(bus_msg_reply(q->m), ident) ? ident
                                                                      : NULL);
    if (ops_verb_is_task(r->verb))
        snprintf(subj, sizeof(subj), "task:%lld", (long long)r->task_id);
    else
        snprintf(subj, sizeof(subj), "worker:%s", r->worker);
    s = ops_msg_details(r, res, &details, e);
    if (s == ST_OK)
        s = auditlog_batch_add(d->audit, &who, ops_verb_name(r->verb), subj,
                               details, e);
    free(details);
    if (s != ST_OK) {
        err_wrap(e, "audit record");
        s = e->code = ST_INTERNAL;
    }
    return s;
}
