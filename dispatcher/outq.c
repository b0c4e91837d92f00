#include "outq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_msg.h"
#include "jsonx.h"
#include "log.h"
#include "subjects.h"

#define MOD "dispatcher"

typedef struct outmsg {
    char *subject;
    char *body;
} outmsg;

struct dsp_outq {
    char prefix[ID_MAX + 1];
    outmsg *msgs;
    int n;
    int cap;
};

status dsp_outq_create(dsp_outq **out, const char *prefix, err *e)
{
    dsp_outq *q;

    if (!ids_token_valid(prefix))
        return err_set(e, ST_CONFIG, "prefix \"%.80s\" is not an identifier",
                       prefix);
    q = calloc(1, sizeof(*q));
    if (q == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    snprintf(q->prefix, sizeof(q->prefix), "%s", prefix);
    *out = q;
    return ST_OK;
}

void dsp_outq_destroy(dsp_outq *q)
{
    if (q == NULL)
        return;
    dsp_outq_discard(q);
    free(q->msgs);
    free(q);
}

status dsp_outq_send(dsp_outq *q, const char *subject, char *body, err *e)
{
    outmsg *m;

    if (body == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    if (q->n == q->cap) {
        int ncap = q->cap > 0 ? q->cap * 2 : 256;
        outmsg *grown = realloc(q->msgs, sizeof(outmsg) * (size_t)ncap);
        if (grown == NULL) {
            free(body);
            return err_set(e, ST_NOMEM, "out of memory");
        }
        q->msgs = grown;
        q->cap = ncap;
    }
    m = &q->msgs[q->n];
    m->subject = strdup(subject);
    if (m->subject == NULL) {
        free(body);
        return err_set(e, ST_NOMEM, "out of memory");
    }
    m->body = body;
    q->n++;
    return ST_OK;
}

status dsp_outq_reply(dsp_outq *q, const bus_msg *m, char *body, err *e)
{
    const char *reply = bus_msg_reply(m);

    if (reply == NULL) {
        free(body);
        return ST_OK;
    }
    return dsp_outq_send(q, reply, body, e);
}

status dsp_outq_error(dsp_outq *q, const bus_msg *m, status s, const char *msg,
                      err *e)
{
    if (bus_msg_reply(m) == NULL)
        return ST_OK;
    return dsp_outq_send(q, bus_msg_reply(m), jsonx_error_reply(s, msg), e);
}

status dsp_outq_notice(dsp_outq *q, const char *worker, int64_t res_id,
                       const char *reason, err *e)
{
    char subj[SUBJECTS_MAX], *body;
    size_t len;
    status s = subjects_worker(subj, sizeof(subj), q->prefix, worker,
                               SUBJECTS_NOTICE, e);

    if (s == ST_OK)
        s = agent_notice_encode(res_id, reason, &body, &len, e);
    return s == ST_OK ? dsp_outq_send(q, subj, body, e) : s;
}

bool dsp_infra_failure(status s)
{
    return s == ST_DB || s == ST_UNAVAILABLE || s == ST_NOMEM ||
           s == ST_INTERNAL || s == ST_BUS || s == ST_CONFLICT || s == ST_IO ||
           s == ST_TIMEOUT || s == ST_CONFIG;
}

void dsp_outq_fail(dsp_outq *q, const bus_msg *m, status rs, const err *re,
                   status *s, err *e)
{
    if (*s != ST_OK || rs == ST_OK)
        return;
    if (dsp_infra_failure(rs)) {
        *s = rs;
        *e = *re;
        return;
    }
    *s = dsp_outq_error(q, m, rs, re->msg, e);
}

int dsp_outq_count(const dsp_outq *q)
{
    return q->n;
}

void dsp_outq_flush(dsp_outq *q, bus *b)
{
    err e = {0};

    for (int i = 0; i < q->n; i++)
        if (bus_publish(b, q->msgs[i].subject, q->msgs[i].body,
                        strlen(q->msgs[i].body), &e) != ST_OK)
            log_warn(MOD, "publish to %s failed: %s", q->msgs[i].subject,
                     e.msg);
    dsp_outq_discard(q);
}

void dsp_outq_discard(dsp_outq *q)
{
    for (int i = 0; i < q->n; i++) {
        free(q->msgs[i].subject);
        free(q->msgs[i].body);
    }
    q->n = 0;
}
