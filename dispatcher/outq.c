#include "outq.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_msg.h"
#include "i64map.h"
#include "jsonx.h"
#include "log.h"
#include "many_msg.h"
#include "subjects.h"

#define MOD "dispatcher"

/* A message to publish, or the result of an item of bulk request of
 * (item > 0, subject NULL) waiting for dsp_outq_gather. */
typedef struct outmsg {
    char *subject;
    char *body;
    const bus_msg *of;
    int item;
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

/* Queue body for subject, or (subject NULL) as item of bulk request of. */
static status push(dsp_outq *q, const char *subject, const bus_msg *of,
                   int item, char *body, err *e)
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
    m->subject = subject != NULL ? strdup(subject) : NULL;
    if (subject != NULL && m->subject == NULL) {
        free(body);
        return err_set(e, ST_NOMEM, "out of memory");
    }
    m->body = body;
    m->of = of;
    m->item = item;
    q->n++;
    return ST_OK;
}

status dsp_outq_send(dsp_outq *q, const char *subject, char *body, err *e)
{
    return push(q, subject, NULL, 0, body, e);
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

status dsp_outq_answer(dsp_outq *q, const dsp_req *r, char *body, err *e)
{
    if (r->item <= 0)
        return dsp_outq_reply(q, r->m, body, e);
    if (bus_msg_reply(r->m) == NULL) {
        free(body);
        return ST_OK;
    }
    return push(q, NULL, r->m, r->item, body, e);
}

void dsp_outq_refuse(dsp_outq *q, const dsp_req *r, status rs, const err *re,
                     status *s, err *e)
{
    if (*s != ST_OK || rs == ST_OK)
        return;
    if (dsp_infra_failure(rs)) {
        *s = rs;
        *e = *re;
        return;
    }
    *s = dsp_outq_answer(q, r, jsonx_error_reply(rs, re->msg), e);
}

/* The reply of bulk request m from its n results (borrowed). */
static status gather_one(dsp_outq *q, const bus_msg *m, char **results, int n,
                         err *e)
{
    char *body = NULL, msg[300];
    size_t len = 0;
    status s;

    for (int i = 0; i < n; i++)
        if (results[i] == NULL)
            return err_set(e, ST_INTERNAL,
                           "item %d of a bulk request got no answer", i + 1);
    s = many_msg_reply(results, n, &body, &len, e);
    if (s == ST_OK && len > DSP_OUTQ_BULK_REPLY_MAX) {
        free(body);
        snprintf(msg, sizeof(msg),
                 "the results of these %d items take %zu bytes, more than a "
                 "reply can carry (%d); the items were handled: send them "
                 "again in smaller requests to get their results",
                 n, len, DSP_OUTQ_BULK_REPLY_MAX);
        body = jsonx_error_reply(ST_TOO_LARGE, msg);
    }
    return s == ST_OK ? dsp_outq_reply(q, m, body, e) : s;
}

status dsp_outq_gather(dsp_outq *q, const bus_msg *const *ms, const int *items,
                       int nb, err *e)
{
    i64map *of = NULL;
    char ***res = calloc((size_t)nb + 1, sizeof(char **));
    int keep = 0;
    status s = res != NULL ? i64map_create(&of, e)
                           : err_set(e, ST_NOMEM, "out of memory");

    for (int b = 0; s == ST_OK && b < nb; b++) {
        res[b] = calloc((size_t)items[b] + 1, sizeof(char *));
        if (res[b] == NULL)
            s = err_set(e, ST_NOMEM, "out of memory");
        else
            s = i64map_put(of, (int64_t)(intptr_t)ms[b], b, e);
    }
    /* The results move to their request's list; the rest keep their
     * order. */
    for (int i = 0; s == ST_OK && i < q->n; i++) {
        outmsg *x = &q->msgs[i];
        int b;

        if (x->item > 0 && i64map_get(of, (int64_t)(intptr_t)x->of, &b) &&
            x->item <= items[b] && res[b][x->item - 1] == NULL) {
            res[b][x->item - 1] = x->body;
            continue;
        }
        q->msgs[keep++] = *x;
    }
    if (s == ST_OK)
        q->n = keep;
    for (int b = 0; s == ST_OK && b < nb; b++)
        if (bus_msg_reply(ms[b]) != NULL)
            s = gather_one(q, ms[b], res[b], items[b], e);
    for (int b = 0; res != NULL && b < nb; b++) {
        for (int i = 0; res[b] != NULL && i < items[b]; i++)
            free(res[b][i]);
        free(res[b]);
    }
    free(res);
    i64map_destroy(of);
    return s;
}

int dsp_outq_count(const dsp_outq *q)
{
    return q->n;
}

void dsp_outq_flush(dsp_outq *q, bus *b)
{
    err e = {0};

    for (int i = 0; i < q->n; i++)
        if (q->msgs[i].subject != NULL &&
            bus_publish(b, q->msgs[i].subject, q->msgs[i].body,
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
