/*
 * Accepts, set-wise. Every request is decoded on its own; one statement
 * accepts all of them. The rare requests it did not match — a retry of an
 * accept already done, a repeat inside the batch, a stale, rescinded or
 * foreign reservation — are answered from one lookup after it: the task
 * again when the reservation is this worker's and accepted at that epoch,
 * else the diagnosis. One read gives the tasks of every reply.
 */
#include "accept.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_msg.h"
#include "bulk.h"
#include "clock.h"
#include "dsp_sql.h"
#include "i64map.h"
#include "log.h"
#include "outq.h"
#include "reservations.h"
#include "sbuf.h"
#include "state.h"

#define MOD "dispatcher"

enum { BAD, OPEN, TASK }; /* an item's state: refused, to answer, reply */

typedef struct item {
    agent_answer a;
    int state;
} item;

/* The accept statement for the open items that are no repeat. */
static status accept_set(dispatcher *d, const dsp_req *reqs, item *it, int n,
                         const bool *repeat, db_res **out, err *e)
{
    sbuf ids = {0}, eps = {0}, wks = {0};
    int k = 0;
    status s = ST_OK;

    *out = NULL;
    for (int i = 0; i < n; i++) {
        if (it[i].state != OPEN || repeat[i])
            continue;
        sbuf_printf(&ids, "%s%lld", k > 0 ? "," : "{",
                    (long long)it[i].a.reservation_id);
        sbuf_printf(&eps, "%s%lld", k > 0 ? "," : "{",
                    (long long)it[i].a.epoch);
        sbuf_printf(&wks, "%s%s", k > 0 ? "," : "{", reqs[i].party);
        k++;
    }
    sbuf_append(&ids, "}", 1);
    sbuf_append(&eps, "}", 1);
    sbuf_append(&wks, "}", 1);
    if (ids.failed || eps.failed || wks.failed)
        s = err_set(e, ST_NOMEM, "out of memory");
    else if (k > 0) {
        const char *p[3] = {sbuf_str(&ids), sbuf_str(&eps), sbuf_str(&wks)};
        s = db_run(d->db, &dsp_sql_accept_set, p, out, e);
    }
    sbuf_free(&ids);
    sbuf_free(&eps);
    sbuf_free(&wks);
    return s;
}

/* The router learns who holds each task won; the other workers of a
 * broadcast are told their offer is gone. */
static status apply(dispatcher *d, const dsp_req *reqs, item *it,
                    const i64map *idx, const db_res *r, err *e)
{
    status s = ST_OK;

    for (int j = 0; s == ST_OK && j < db_rows(r); j++) {
        int64_t rid = db_i64(r, j, DSP_ACCEPT_SET_RESERVATION_ID);
        int64_t task = db_i64(r, j, DSP_ACCEPT_SET_TASK_ID);
        int i, w;

        if (strcmp(db_val(r, j, DSP_ACCEPT_SET_KIND), "rescinded") == 0) {
            log_info(MOD,
                     "offer %lld of task %lld to %s rescinded: another "
                     "worker accepted",
                     (long long)rid, (long long)task,
                     db_val(r, j, DSP_ACCEPT_SET_WORKER_ID));
            s = dsp_outq_notice(d->out, db_val(r, j, DSP_ACCEPT_SET_WORKER_ID),
                                rid, "accepted_elsewhere", e);
            continue;
        }
        if (!i64map_get(idx, rid, &i))
            continue;
        it[i].state = TASK;
        s = dsp_worker_index(d, reqs[i].party, &w, e);
        if (s == ST_OK)
            router_task_accept(d->router, task, w, clock_wall_us());
    }
    return s;
}

/* The items still open: a retry of an accepted reservation gets its task
 * again, any other its diagnosis. */
static status answer_rest(dispatcher *d, const dsp_req *reqs, item *it, int n,
                          err *e)
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
        if (it[i].state == OPEN)
            ids[k++] = it[i].a.reservation_id;
    if (k > 0)
        s = dsp_res_lookup(d->db, ids, k, res, e);
    for (int i = 0, x = 0; s == ST_OK && x < k && i < n; i++) {
        err re = {0};
        const dsp_res *l;

        if (it[i].state != OPEN)
            continue;
        l = &res[x++];
        /* Accepting twice (a retry after a lost reply) is fine. */
        if (dsp_res_is(l, reqs[i].party, it[i].a.epoch, "accepted")) {
            it[i].state = TASK;
            continue;
        }
        it[i].state = BAD;
        dsp_outq_refuse(d->out, &reqs[i],
                        dsp_res_diagnose(l, it[i].a.reservation_id,
                                         reqs[i].party, it[i].a.epoch, &re),
                        &re, &s, e);
    }
out:
    free(ids);
    free(res);
    return s;
}

/* Reply with the task to every item that has one. */
static status reply_tasks(dispatcher *d, const dsp_req *reqs, const item *it,
                          int n, err *e)
{
    int64_t *ids = calloc((size_t)n, sizeof(int64_t));
    char **views = calloc((size_t)n, sizeof(char *));
    int k = 0;
    status s = ST_OK;

    if (ids == NULL || views == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++)
        if (it[i].state == TASK)
            ids[k++] = it[i].a.reservation_id;
    if (k > 0)
        s = dsp_res_task_views(d->db, d->keys, ids, k, views, e);
    for (int i = 0, x = 0; s == ST_OK && x < k && i < n; i++) {
        char *body = NULL;
        size_t len;

        if (it[i].state != TASK)
            continue;
        if (views[x] == NULL) {
            s = err_set(e, ST_INTERNAL, "reservation %lld vanished",
                        (long long)it[i].a.reservation_id);
            break;
        }
        s = agent_reply_task(views[x++], &body, &len, e);
        if (s == ST_OK)
            s = dsp_outq_answer(d->out, &reqs[i], body, e);
    }
    for (int x = 0; views != NULL && x < k; x++)
        free(views[x]);
out:
    free(ids);
    free(views);
    return s;
}

status dsp_accept_many(dispatcher *d, const dsp_req *reqs, int n, err *e)
{
    dsp_bulk *b = NULL;
    status s =
        dsp_bulk_open(&b, d, reqs, n, agent_msg_accept_many_decode, NULL, e);

    if (s == ST_OK && dsp_bulk_count(b) > 0)
        s = dsp_accept(d, dsp_bulk_items(b), dsp_bulk_count(b), e);
    if (s == ST_OK)
        s = dsp_bulk_reply(b, d, e);
    dsp_bulk_destroy(b);
    return s;
}

status dsp_accept(dispatcher *d, const dsp_req *reqs, int n, err *e)
{
    item *it = calloc((size_t)n, sizeof(item));
    bool *repeat = calloc((size_t)n, sizeof(bool));
    i64map *idx = NULL;
    db_res *r = NULL;
    status s = it != NULL && repeat != NULL
                   ? i64map_create(&idx, e)
                   : err_set(e, ST_NOMEM, "out of memory");

    for (int i = 0; s == ST_OK && i < n; i++) {
        err re = {0};
        status rs = agent_msg_accept_decode(
            dsp_req_data(&reqs[i]), dsp_req_len(&reqs[i]), &it[i].a, &re);
        int first;

        if (rs != ST_OK) {
            dsp_outq_refuse(d->out, &reqs[i], rs, &re, &s, e);
            continue;
        }
        it[i].state = OPEN;
        /* A repeat inside the batch is answered as a retry. */
        repeat[i] = i64map_get(idx, it[i].a.reservation_id, &first);
        if (!repeat[i])
            s = i64map_put(idx, it[i].a.reservation_id, i, e);
    }
    if (s == ST_OK)
        s = accept_set(d, reqs, it, n, repeat, &r, e);
    if (s == ST_OK && r != NULL)
        s = apply(d, reqs, it, idx, r, e);
    if (s == ST_OK)
        s = answer_rest(d, reqs, it, n, e);
    if (s == ST_OK)
        s = reply_tasks(d, reqs, it, n, e);
    db_res_free(r);
    i64map_destroy(idx);
    free(repeat);
    free(it);
    return s;
}
