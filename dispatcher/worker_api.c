/* The worker protocol: presence, heartbeat, accept, reject, complete. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dispatcher_int.h"
#include "jsonx.h"
#include "log.h"
#include "sbuf.h"

#define MOD "dispatcher"

DB_STMT(st_presence, 2,
        "UPDATE workers SET presence = $2, last_seen = now(),"
        " lease_lost = false,"
        " idle_since = CASE WHEN presence <> $2 THEN now() ELSE idle_since END"
        " WHERE id = $1 RETURNING id");
DB_STMT(st_heartbeats, 1,
        "UPDATE workers SET last_seen = now(),"
        " presence = CASE WHEN lease_lost THEN 'available' ELSE presence END,"
        " lease_lost = false"
        " WHERE id = ANY($1::text[]) RETURNING id, presence = 'available'");
/*
 * Accept: the task (still reserved at the offer's epoch) becomes the
 * worker's, then its reservation accepted, and every other offer of the
 * same epoch (a broadcast) rescinded. The reservation is accepted only if
 * the task was won, so two workers never both hold it; the unique index
 * reservations_one_holder (schema 007) guards the same rule.
 */
DB_STMT(st_accept, 3,
        "WITH r0 AS (SELECT id, task_id, epoch, worker_id FROM reservations"
        "  WHERE id = $1 AND epoch = $2 AND worker_id = $3"
        "  AND state = 'pending')," DSP_ACCEPT_CTES
        " SELECT 'accepted', t.id, '' FROM t"
        " UNION ALL SELECT 'rescinded', x.id, x.worker_id FROM x");
/* Reject: the task is pending again unless other offers of its epoch (a
 * broadcast) are still pending. */
DB_STMT(st_reject, 4,
        "WITH r AS (UPDATE reservations SET state = 'rejected',"
        "  answered_at = now(), reason = $4 WHERE id = $1 AND epoch = $2"
        "  AND worker_id = $3 AND state = 'pending'"
        "  RETURNING id, task_id, epoch, worker_id),"
        " t AS (UPDATE tasks SET state = 'pending', worker_id = NULL FROM r"
        "  WHERE tasks.id = r.task_id AND tasks.epoch = r.epoch"
        "  AND tasks.state = 'reserved' AND NOT EXISTS (SELECT 1"
        "  FROM reservations o WHERE o.task_id = r.task_id"
        "  AND o.epoch = r.epoch AND o.state = 'pending' AND o.id <> r.id)"
        "  RETURNING tasks.id),"
        " x AS (INSERT INTO task_exclusions (task_id, worker_id, reason)"
        "  SELECT task_id, worker_id, 'rejected' FROM r ON CONFLICT DO NOTHING)"
        " SELECT task_id FROM r");
/* Complete: the task and reservation are `wrapping` until the wrap-up of
 * the worker's pool ends (dsp_wrap_end), else `completed` at once. */
DB_STMT(st_complete, 8,
        "WITH p AS (SELECT COALESCE((SELECT pr.wrapup_seconds FROM workers w"
        "  JOIN pool_routing pr ON pr.pool_id = w.pool_id WHERE w.id = $3),"
        "  0) AS wrap),"
        " t AS (UPDATE tasks SET state = CASE WHEN p.wrap > 0 THEN 'wrapping'"
        "  ELSE 'completed' END, completed_at = now() FROM p"
        "  WHERE id = $1 AND epoch = $2 AND worker_id = $3"
        "  AND state = 'assigned'"
        "  RETURNING id, case_id, tenant_id, tasks.state, p.wrap),"
        " r AS (UPDATE reservations SET state = t.state,"
        "  wrap_until = CASE WHEN t.wrap > 0"
        "  THEN now() + t.wrap * interval '1 second' END FROM t"
        "  WHERE reservations.id = $4 AND reservations.state = 'accepted'),"
        " o AS (INSERT INTO outcomes (task_id, case_id, tenant_id, worker_id,"
        "  reservation_id, code, fields, billable)"
        "  SELECT t.id, t.case_id, t.tenant_id, $3, $4, $5, $6::jsonb,"
        "  $7::boolean FROM t RETURNING id, task_id, case_id, tenant_id),"
        " ev AS (INSERT INTO outbox (subject, payload)"
        "  SELECT $8, json_build_object('type', 'outcome.recorded',"
        "  'outcome_id', o.id, 'task_id', o.task_id, 'case_id', o.case_id,"
        "  'tenant', o.tenant_id, 'worker', $3::text, 'code', $5::text,"
        "  'billable', $7::boolean) FROM o)"
        " SELECT o.id, t.state FROM o, t");

static const jfield presence_fields[] = {{"presence", JF_STRING, true}};
static const jfield empty_fields[] = {{"_", JF_ANY, false}};
const jfield dsp_answer_fields[] = {
    {"reservation_id", JF_INT, true},
    {"epoch", JF_INT, true},
    {"reason", JF_STRING, false},
};
const jfield dsp_complete_fields[] = {
    {"reservation_id", JF_INT, true},
    {"epoch", JF_INT, true},
    {"outcome", JF_OBJECT, true},
    {"confidence", JF_INT, false},
};
const jfield dsp_outcome_fields[] = {
    {"code", JF_TOKEN, true},
    {"fields", JF_OBJECT, false},
};

static char *ok_body(const char *fmt, const char *a)
{
    size_t n = strlen(fmt) + (a != NULL ? strlen(a) : 0) + 1;
    char *b = malloc(n);

    if (b != NULL)
        snprintf(b, n, fmt, a);
    return b;
}

static status dsp_parse(const bus_msg *m, const jfield *f, int nf, json_t **out,
                        err *e)
{
    status s = jsonx_parse(bus_msg_data(m), bus_msg_len(m), DSP_AGENT_MAX_BYTES,
                           out, e);

    if (s == ST_OK) {
        s = jsonx_check(*out, "request", f, nf, e);
        if (s != ST_OK) {
            json_decref(*out);
            *out = NULL;
        }
    }
    return s;
}

status dsp_presence(dispatcher *d, const char *worker, const bus_msg *m, err *e)
{
    json_t *root = NULL;
    db_res *r = NULL;
    const char *p;
    int w;
    status s = dsp_parse(m, presence_fields, 1, &root, e);

    if (s != ST_OK)
        return s;
    p = jsonx_str(root, "presence");
    if (strcmp(p, "available") != 0 && strcmp(p, "break") != 0 &&
        strcmp(p, "offline") != 0) {
        s = err_set(e, ST_INVALID,
                    "request.presence must be available, break or offline, "
                    "not \"%.32s\"",
                    p);
        goto out;
    }
    {
        const char *params[2] = {worker, p};
        s = db_run(d->db, &st_presence, params, &r, e);
    }
    if (s != ST_OK)
        goto out;
    if (db_rows(r) == 0) {
        s = err_set(e, ST_NOT_FOUND,
                    "worker \"%s\" is not registered; an operator adds it "
                    "with: twinline load FILE",
                    worker);
        goto out;
    }
    s = dsp_worker_index(d, worker, &w, e);
    if (s != ST_OK)
        goto out;
    d->winfo[w].available = strcmp(p, "available") == 0;
    router_worker_available(d->router, w, d->winfo[w].available,
                            clock_wall_us());
    s = dsp_reply(d, m, ok_body("{\"ok\":true,\"presence\":\"%s\"}", p), e);
out:
    db_res_free(r);
    json_decref(root);
    return s;
}

status dsp_heartbeat(dispatcher *d, const char *worker, const bus_msg *m,
                     err *e)
{
    json_t *root = NULL;
    status s;

    if (bus_msg_len(m) > 0) {
        s = dsp_parse(m, empty_fields, 0, &root, e);
        json_decref(root);
        if (s != ST_OK)
            return s;
    }
    if (d->nheartbeats == d->cap_heartbeats) {
        int ncap = d->cap_heartbeats > 0 ? d->cap_heartbeats * 2 : 256;
        void *n = realloc(d->heartbeats, (size_t)ncap * (ID_MAX + 1));
        if (n == NULL)
            return err_set(e, ST_NOMEM, "out of memory");
        d->heartbeats = n;
        d->cap_heartbeats = ncap;
    }
    snprintf(d->heartbeats[d->nheartbeats++], ID_MAX + 1, "%s", worker);
    return dsp_reply(d, m, ok_body("{\"ok\":true}%s", ""), e);
}

/* One UPDATE for every heartbeat in the batch. A worker whose lease had
 * lapsed comes back as available. */
status dsp_heartbeats_flush(dispatcher *d, err *e)
{
    sbuf arr = {0};
    db_res *r = NULL;
    status s;

    if (d->nheartbeats == 0)
        return ST_OK;
    sbuf_append(&arr, "{", 1);
    for (int i = 0; i < d->nheartbeats; i++)
        sbuf_printf(&arr, "%s%s", i > 0 ? "," : "", d->heartbeats[i]);
    sbuf_append(&arr, "}", 1);
    d->nheartbeats = 0;
    if (arr.failed) {
        sbuf_free(&arr);
        return err_set(e, ST_NOMEM, "out of memory");
    }
    {
        const char *params[1] = {sbuf_str(&arr)};
        s = db_run(d->db, &st_heartbeats, params, &r, e);
    }
    for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
        int w = strtab_find(d->workers, db_val(r, i, 0));
        bool avail = db_bool(r, i, 1);
        if (w >= 0 && w < d->cap_winfo && d->winfo[w].available != avail) {
            d->winfo[w].available = avail;
            router_worker_available(d->router, w, avail, clock_wall_us());
        }
    }
    db_res_free(r);
    sbuf_free(&arr);
    return s;
}

status dsp_diagnose(const db_res *r, int row, const char *worker,
                    int64_t res_id, int64_t epoch, err *e)
{
    if (row < 0 || row >= db_rows(r))
        return err_set(e, ST_NOT_FOUND, "no reservation %lld",
                       (long long)res_id);
    if (strcmp(db_val(r, row, 0), worker) != 0)
        return err_set(e, ST_NOT_YOURS,
                       "reservation %lld belongs to another worker",
                       (long long)res_id);
    if (db_i64(r, row, 1) != epoch)
        return err_set(e, ST_STALE, "reservation %lld has epoch %lld, not %lld",
                       (long long)res_id, (long long)db_i64(r, row, 1),
                       (long long)epoch);
    if (strcmp(db_val(r, row, 2), "rescinded") == 0)
        return err_set(e, ST_STALE,
                       "reservation %lld was rescinded (another worker "
                       "accepted the offer first, or your lease expired); "
                       "the task is no longer yours",
                       (long long)res_id);
    return err_set(e, ST_STALE,
                   "reservation %lld is %s; the task is no longer yours",
                   (long long)res_id, db_val(r, row, 2));
}

status dsp_answer_decode(const bus_msg *m, const jfield *f, int nf,
                         dsp_answer *a, err *e)
{
    status s = dsp_parse(m, f, nf, &a->root, e);

    if (s != ST_OK)
        return s;
    jsonx_int(a->root, "reservation_id", &a->res_id);
    jsonx_int(a->root, "epoch", &a->epoch);
    if (a->res_id <= 0 || a->epoch <= 0 || a->epoch > 2000000000)
        return err_set(e, ST_INVALID,
                       "request.reservation_id and request.epoch must be "
                       "positive integers from the offer");
    db_i64_str(a->rbuf, a->res_id);
    db_i64_str(a->ebuf, a->epoch);
    return ST_OK;
}

static status lookup(dispatcher *d, dsp_answer *a, db_res **r, err *e)
{
    char ids[32];

    snprintf(ids, sizeof(ids), "{%s}", a->rbuf);
    return dsp_lookup_reservations(d, ids, r, e);
}

static status reply_task(dispatcher *d, const bus_msg *m, dsp_answer *a, err *e)
{
    char ids[32];
    db_res *r = NULL;
    status s;

    snprintf(ids, sizeof(ids), "{%s}", a->rbuf);
    s = dsp_task_views(d, ids, &r, e);
    if (s == ST_OK && db_rows(r) == 1) {
        size_t n = strlen(db_val(r, 0, 1)) + 32;
        char *body = malloc(n);
        if (body != NULL)
            snprintf(body, n, "{\"ok\":true,\"task\":%s}", db_val(r, 0, 1));
        s = dsp_reply(d, m, body, e);
    } else if (s == ST_OK) {
        s = err_set(e, ST_INTERNAL, "reservation %s vanished", a->rbuf);
    }
    db_res_free(r);
    return s;
}

status dsp_accepted(dispatcher *d, const char *worker, const db_res *r, err *e)
{
    int64_t task = 0;
    int w;
    status s = dsp_worker_index(d, worker, &w, e);

    for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
        if (strcmp(db_val(r, i, 0), "accepted") == 0) {
            task = db_i64(r, i, 1);
            router_task_accept(d->router, task, w, clock_wall_us());
        } else {
            log_info(MOD, "offer %s of task %lld to %s rescinded: %s accepted",
                     db_val(r, i, 1), (long long)task, db_val(r, i, 2), worker);
            s = dsp_send_notice(d, db_val(r, i, 2), db_i64(r, i, 1),
                                "accepted_elsewhere", e);
        }
    }
    return s;
}

status dsp_accept(dispatcher *d, const char *worker, const bus_msg *m, err *e)
{
    dsp_answer a = {0};
    db_res *r = NULL, *l = NULL;
    status s = dsp_answer_decode(m, dsp_answer_fields, 2, &a, e);

    if (s != ST_OK)
        goto out;
    {
        const char *params[3] = {a.rbuf, a.ebuf, worker};
        s = db_run(d->db, &st_accept, params, &r, e);
    }
    if (s != ST_OK)
        goto out;
    if (db_rows(r) == 0 || strcmp(db_val(r, 0, 0), "accepted") != 0) {
        s = lookup(d, &a, &l, e);
        if (s != ST_OK)
            goto out;
        /* Accepting twice (a retry after a lost reply) is fine. */
        if (db_rows(l) == 1 && strcmp(db_val(l, 0, 0), worker) == 0 &&
            db_i64(l, 0, 1) == a.epoch &&
            strcmp(db_val(l, 0, 2), "accepted") == 0) {
            s = reply_task(d, m, &a, e);
            goto out;
        }
        s = dsp_diagnose(l, db_rows(l) > 0 ? 0 : -1, worker, a.res_id, a.epoch,
                         e);
        goto out;
    }
    s = dsp_accepted(d, worker, r, e);
    if (s == ST_OK)
        s = reply_task(d, m, &a, e);
out:
    db_res_free(r);
    db_res_free(l);
    json_decref(a.root);
    return s;
}

status dsp_reject(dispatcher *d, const char *worker, const bus_msg *m, err *e)
{
    dsp_answer a = {0};
    db_res *r = NULL, *l = NULL;
    const char *reason;
    int w;
    status s = dsp_answer_decode(m, dsp_answer_fields, 3, &a, e);

    if (s != ST_OK)
        goto out;
    reason = jsonx_str(a.root, "reason");
    if (reason != NULL && strlen(reason) > 200) {
        s = err_set(e, ST_INVALID,
                    "request.reason is longer than 200 "
                    "characters");
        goto out;
    }
    {
        const char *params[4] = {a.rbuf, a.ebuf, worker,
                                 reason != NULL ? reason : ""};
        s = db_run(d->db, &st_reject, params, &r, e);
    }
    if (s != ST_OK)
        goto out;
    if (db_rows(r) == 0) {
        s = lookup(d, &a, &l, e);
        if (s != ST_OK)
            goto out;
        if (db_rows(l) == 1 && strcmp(db_val(l, 0, 0), worker) == 0 &&
            db_i64(l, 0, 1) == a.epoch &&
            strcmp(db_val(l, 0, 2), "rejected") == 0) {
            s = dsp_reply(d, m, ok_body("{\"ok\":true}%s", ""), e);
            goto out;
        }
        s = dsp_diagnose(l, db_rows(l) > 0 ? 0 : -1, worker, a.res_id, a.epoch,
                         e);
        goto out;
    }
    s = dsp_worker_index(d, worker, &w, e);
    if (s == ST_OK)
        s = router_task_exclude(d->router, db_i64(r, 0, 0), w, e);
    if (s != ST_OK)
        goto out;
    router_task_release(d->router, db_i64(r, 0, 0), w, clock_wall_us());
    s = dsp_reply(d, m, ok_body("{\"ok\":true}%s", ""), e);
out:
    db_res_free(r);
    db_res_free(l);
    json_decref(a.root);
    return s;
}

char *dsp_complete_body(int64_t outcome_id, bool billable, bool dup)
{
    char *b = malloc(128);

    if (b != NULL)
        snprintf(b, 128,
                 "{\"ok\":true,\"outcome_id\":%lld,\"billable\":%s,"
                 "\"duplicate\":%s}",
                 (long long)outcome_id, billable ? "true" : "false",
                 dup ? "true" : "false");
    return b;
}

status dsp_complete(dispatcher *d, const char *worker, const bus_msg *m, err *e)
{
    dsp_answer a = {0};
    db_res *l = NULL, *r = NULL;
    json_t *outcome, *fields;
    const playbook *pb;
    const pb_outcome *oc;
    char *fields_text = NULL;
    char subj[160];
    int step;
    dsp_review_item rv = {0};
    status s = dsp_answer_decode(m, dsp_complete_fields, 4, &a, e);

    if (s == ST_OK)
        s = dsp_review_confidence(a.root, &rv.confidence, e);
    if (s != ST_OK)
        goto out;
    outcome = json_object_get(a.root, "outcome");
    s = jsonx_check(outcome, "request.outcome", dsp_outcome_fields, 2, e);
    if (s != ST_OK)
        goto out;
    fields = json_object_get(outcome, "fields");
    s = lookup(d, &a, &l, e);
    if (s != ST_OK)
        goto out;
    if (db_rows(l) == 0 || strcmp(db_val(l, 0, 0), worker) != 0 ||
        db_i64(l, 0, 1) != a.epoch) {
        s = dsp_diagnose(l, db_rows(l) > 0 ? 0 : -1, worker, a.res_id, a.epoch,
                         e);
        goto out;
    }
    if (!db_null(l, 0, 10)) {
        /* The same completion again: answer as before, record nothing. */
        s = dsp_reply(
            d, m, dsp_complete_body(db_i64(l, 0, 10), db_bool(l, 0, 11), true),
            e);
        goto out;
    }
    if (strcmp(db_val(l, 0, 2), "accepted") != 0) {
        s = dsp_diagnose(l, db_rows(l) > 0 ? 0 : -1, worker, a.res_id, a.epoch,
                         e);
        goto out;
    }
    s = dsp_playbook(d, db_val(l, 0, 6), db_val(l, 0, 7), (int)db_i64(l, 0, 8),
                     &pb, e);
    if (s != ST_OK)
        goto out;
    step = playbook_step_index(pb, db_val(l, 0, 5));
    if (step < 0) {
        s = err_set(e, ST_INTERNAL, "task step %s not in playbook",
                    db_val(l, 0, 5));
        goto out;
    }
    s = playbook_check_outcome(&pb->steps[step], jsonx_str(outcome, "code"),
                               fields, e);
    if (s == ST_OK)
        s = dsp_review_check(pb, step, jsonx_str(outcome, "code"), fields, e);
    if (s != ST_OK)
        goto out;
    oc = playbook_outcome(&pb->steps[step], jsonx_str(outcome, "code"));
    rv.task_id = db_i64(l, 0, 3);
    rv.review = dsp_review_step(pb, step);
    if (fields != NULL)
        fields_text = jsonx_dump(fields);
    dsp_subject(d, subj, sizeof(subj), "evt.%s.outcome", db_val(l, 0, 6));
    {
        const char *params[8] = {db_val(l, 0, 3),
                                 a.ebuf,
                                 worker,
                                 a.rbuf,
                                 oc->code,
                                 fields_text != NULL ? fields_text : "{}",
                                 oc->billable ? "true" : "false",
                                 subj};
        s = db_run(d->db, &st_complete, params, &r, e);
    }
    if (s != ST_OK)
        goto out;
    if (db_rows(r) == 0) {
        s = err_set(e, ST_STALE,
                    "reservation %s is no longer assigned to you (lease "
                    "expired?)",
                    a.rbuf);
        goto out;
    }
    d->events_written = true;
    d->stat_completed++;
    if (strcmp(db_val(r, 0, 1), "wrapping") == 0)
        router_task_wrapping(d->router, db_i64(l, 0, 3), clock_wall_us());
    else
        router_task_done(d->router, db_i64(l, 0, 3), clock_wall_us());
    if (rv.review || pb->steps[step].ai == PB_AI_AUTO)
        s = dsp_review_after(d, &rv, 1, e);
    if (s == ST_OK)
        s = dsp_progress_case(d, db_i64(l, 0, 4), e);
    if (s == ST_OK)
        s = dsp_reply(
            d, m, dsp_complete_body(db_i64(r, 0, 0), oc->billable, false), e);
out:
    free(fields_text);
    db_res_free(l);
    db_res_free(r);
    json_decref(a.root);
    return s;
}
