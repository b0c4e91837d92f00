/*
 * Accepts and completes of one batch, handled set-wise: every request is
 * decoded and checked on its own, then all of them are written with one
 * statement per kind, and the cases they touch progress together. The
 * answers are the same as worker_api.c's one-at-a-time handlers give; the
 * rare requests that need a closer look (a retry of something already done,
 * a repeat inside the batch, a fenced write that matched nothing) go through
 * those handlers or their diagnosis.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dispatcher_int.h"
#include "dsp_sql.h"
#include "i64map.h"
#include "jsonx.h"
#include "sbuf.h"

/*
 * As worker_api.c's st_accept for many: of several accepts of one task in
 * the batch (a broadcast) the first wins; the others' reservations are
 * rescinded with the rest of the task's pending offers, and their accepts,
 * not matched here, are answered by the one-at-a-time handler.
 */
DB_STMT(st_accept_many, 3,
        "WITH v AS (SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[])"
        "  WITH ORDINALITY AS v(res_id, epoch, worker_id, n)),"
        " r0 AS (SELECT DISTINCT ON (r.task_id) r.id, r.task_id, r.epoch,"
        "  r.worker_id FROM v JOIN reservations r ON r.id = v.res_id"
        "  AND r.epoch = v.epoch AND r.worker_id = v.worker_id"
        "  AND r.state = 'pending' ORDER BY r.task_id, v.n)," DSP_ACCEPT_CTES
        " SELECT 'accepted', t.res_id, '', t.id FROM t"
        " UNION ALL SELECT 'rescinded', x.id, x.worker_id, 0 FROM x");
DB_STMT(st_complete_many, 8,
        "WITH v AS (SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[],"
        "  $4::bigint[], $5::text[], $6::text[], $7::boolean[])"
        "  AS v(task_id, epoch, worker_id, res_id, code, fields, billable)),"
        " p AS (SELECT v.*, COALESCE(pr.wrapup_seconds, 0) AS wrap FROM v"
        "  JOIN workers w ON w.id = v.worker_id"
        "  LEFT JOIN pool_routing pr ON pr.pool_id = w.pool_id),"
        " t AS (UPDATE tasks SET state = CASE WHEN p.wrap > 0"
        "  THEN 'wrapping' ELSE 'completed' END, completed_at = now()"
        "  FROM p WHERE tasks.id = p.task_id AND tasks.epoch = p.epoch"
        "  AND tasks.worker_id = p.worker_id AND tasks.state = 'assigned'"
        "  RETURNING tasks.id, tasks.case_id, tasks.tenant_id, tasks.state,"
        "  p.wrap),"
        " r AS (UPDATE reservations SET state = t.state,"
        "  wrap_until = CASE WHEN t.wrap > 0"
        "  THEN now() + t.wrap * interval '1 second' END FROM v, t"
        "  WHERE t.id = v.task_id AND reservations.id = v.res_id"
        "  AND reservations.state = 'accepted'),"
        " o AS (INSERT INTO outcomes (task_id, case_id, tenant_id, worker_id,"
        "  reservation_id, code, fields, billable)"
        "  SELECT t.id, t.case_id, t.tenant_id, v.worker_id, v.res_id, v.code,"
        "  v.fields::jsonb, v.billable FROM v JOIN t ON t.id = v.task_id"
        "  RETURNING id, task_id, case_id, tenant_id, worker_id, code,"
        "  billable, reservation_id),"
        " ev AS (INSERT INTO outbox (subject, payload)"
        "  SELECT $8 || '.evt.' || o.tenant_id || '.outcome',"
        "  json_build_object('type', 'outcome.recorded', 'outcome_id', o.id,"
        "  'task_id', o.task_id, 'case_id', o.case_id, 'tenant', o.tenant_id,"
        "  'worker', o.worker_id, 'code', o.code, 'billable', o.billable)"
        "  FROM o)"
        " SELECT o.reservation_id, o.id, o.case_id, o.task_id, t.state"
        " FROM o JOIN t ON t.id = o.task_id");

status dsp_task_views(dispatcher *d, const char *ids, db_res **out, err *e)
{
    const char *p[1] = {ids};

    return db_run(d->db, &dsp_sql_task_views, p, out, e);
}

status dsp_lookup_reservations(dispatcher *d, const char *ids, db_res **out,
                               err *e)
{
    const char *p[1] = {ids};

    return db_run(d->db, &dsp_sql_res_lookup, p, out, e);
}

typedef status (*single_handler)(dispatcher *d, const char *worker,
                                 const bus_msg *m, err *e);

/* Answer one request with the one-at-a-time handler; only an
 * infrastructure failure fails the batch. */
static void run_single(dispatcher *d, single_handler h, const char *worker,
                       const bus_msg *m, status *s, err *e);

typedef struct item {
    const bus_msg *m;
    const char *worker;
    dsp_answer a;
    bool ok; /* still to be written */
    int row; /* lookup row */
    const pb_outcome *oc;
    char *fields;   /* compact JSON, owned */
    int confidence; /* per mille, -1: none */
    bool review;    /* a review step's task */
    bool ai_auto;   /* a task of an ai: auto step */
} item;

static void reply_err(dispatcher *d, const bus_msg *m, status s,
                      const char *msg, status *out, err *e)
{
    if (*out == ST_OK && bus_msg_reply(m) != NULL)
        *out = dsp_send(d, bus_msg_reply(m), jsonx_error_reply(s, msg), e);
}

static void run_single(dispatcher *d, single_handler h, const char *worker,
                       const bus_msg *m, status *s, err *e)
{
    err re = {0};
    status rs = h(d, worker, m, &re);

    if (rs == ST_OK)
        return;
    if (dsp_infra_failure(rs)) {
        *s = rs;
        *e = re;
        return;
    }
    reply_err(d, m, rs, re.msg, s, e);
}

static void free_items(item *it, int n)
{
    for (int i = 0; i < n; i++) {
        json_decref(it[i].a.root);
        free(it[i].fields);
    }
    free(it);
}

/* res id -> index in it, or -1 when it appears twice (handled alone). */
static status index_items(item *it, int n, i64map **out, bool *repeat, err *e)
{
    i64map *m = NULL;
    status s = i64map_create(&m, e);

    for (int i = 0; s == ST_OK && i < n; i++) {
        int prev;
        repeat[i] = false;
        if (!it[i].ok)
            continue;
        if (i64map_get(m, it[i].a.res_id, &prev)) {
            repeat[i] = true;
            it[i].ok = false;
            continue;
        }
        s = i64map_put(m, it[i].a.res_id, i, e);
    }
    if (s != ST_OK) {
        i64map_destroy(m);
        return s;
    }
    *out = m;
    return ST_OK;
}

static void ids_array(sbuf *b, const item *it, int n, bool want_ok)
{
    int k = 0;

    sbuf_append(b, "{", 1);
    for (int i = 0; i < n; i++)
        if (it[i].ok == want_ok && it[i].a.res_id > 0)
            sbuf_printf(b, "%s%lld", k++ > 0 ? "," : "",
                        (long long)it[i].a.res_id);
    sbuf_append(b, "}", 1);
}

status dsp_accept_batch(dispatcher *d, const bus_msg *const *msgs,
                        const char (*workers)[ID_MAX + 1], int n, err *e)
{
    item *it = calloc((size_t)n, sizeof(item));
    bool *repeat = calloc((size_t)n, sizeof(bool));
    sbuf ids = {0}, epochs = {0}, wks = {0}, done = {0};
    db_res *r = NULL, *v = NULL, *l = NULL;
    i64map *idx = NULL;
    int k = 0;
    status s = ST_OK;

    if (it == NULL || repeat == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n && s == ST_OK; i++) {
        err re = {0};
        status rs;
        it[i].m = msgs[i];
        it[i].worker = workers[i];
        rs = dsp_answer_decode(msgs[i], dsp_answer_fields, 2, &it[i].a, &re);
        it[i].ok = rs == ST_OK;
        if (rs != ST_OK)
            reply_err(d, msgs[i], rs, re.msg, &s, e);
    }
    if (s == ST_OK)
        s = index_items(it, n, &idx, repeat, e);
    if (s != ST_OK)
        goto out;
    sbuf_append(&ids, "{", 1);
    sbuf_append(&epochs, "{", 1);
    sbuf_append(&wks, "{", 1);
    for (int i = 0; i < n; i++) {
        if (!it[i].ok)
            continue;
        sbuf_printf(&ids, "%s%lld", k > 0 ? "," : "",
                    (long long)it[i].a.res_id);
        sbuf_printf(&epochs, "%s%lld", k > 0 ? "," : "",
                    (long long)it[i].a.epoch);
        sbuf_printf(&wks, "%s%s", k > 0 ? "," : "", it[i].worker);
        k++;
    }
    sbuf_append(&ids, "}", 1);
    sbuf_append(&epochs, "}", 1);
    sbuf_append(&wks, "}", 1);
    if (k > 0) {
        const char *p[3] = {sbuf_str(&ids), sbuf_str(&epochs), sbuf_str(&wks)};
        s = db_run(d->db, &st_accept_many, p, &r, e);
        if (s != ST_OK)
            goto out;
    }
    /* Accepted now: mark; the others are looked at one by one below. */
    for (int i = 0; i < n; i++)
        it[i].row = -1;
    for (int j = 0; r != NULL && j < db_rows(r); j++) {
        int i, w;
        if (strcmp(db_val(r, j, 0), "rescinded") == 0) {
            s = dsp_send_notice(d, db_val(r, j, 2), db_i64(r, j, 1),
                                "accepted_elsewhere", e);
            if (s != ST_OK)
                goto out;
            continue;
        }
        if (!i64map_get(idx, db_i64(r, j, 1), &i))
            continue;
        it[i].row = j;
        s = dsp_worker_index(d, it[i].worker, &w, e);
        if (s != ST_OK)
            goto out;
        router_task_accept(d->router, db_i64(r, j, 3), w, clock_wall_us());
    }
    sbuf_append(&done, "{", 1);
    k = 0;
    for (int i = 0; i < n; i++)
        if (it[i].ok && it[i].row >= 0)
            sbuf_printf(&done, "%s%lld", k++ > 0 ? "," : "",
                        (long long)it[i].a.res_id);
    sbuf_append(&done, "}", 1);
    if (k > 0) {
        s = dsp_task_views(d, sbuf_str(&done), &v, e);
        for (int j = 0; s == ST_OK && j < db_rows(v); j++) {
            int i;
            size_t len;
            char *body;
            if (!i64map_get(idx, db_i64(v, j, 0), &i) ||
                bus_msg_reply(it[i].m) == NULL)
                continue;
            len = strlen(db_val(v, j, 1)) + 32;
            body = malloc(len);
            if (body != NULL)
                snprintf(body, len, "{\"ok\":true,\"task\":%s}",
                         db_val(v, j, 1));
            s = dsp_send(d, bus_msg_reply(it[i].m), body, e);
        }
        if (s != ST_OK)
            goto out;
    }
    /* Not accepted by the statement (a retry, stale, someone else's) and
     * repeats inside the batch: the one-at-a-time handler answers them. */
    for (int i = 0; s == ST_OK && i < n; i++)
        if ((it[i].ok && it[i].row < 0) || repeat[i])
            run_single(d, dsp_accept, it[i].worker, it[i].m, &s, e);
out:
    sbuf_free(&ids);
    sbuf_free(&epochs);
    sbuf_free(&wks);
    sbuf_free(&done);
    db_res_free(r);
    db_res_free(v);
    db_res_free(l);
    i64map_destroy(idx);
    free(repeat);
    if (it != NULL)
        free_items(it, n);
    return s;
}

/* Decode and check one completion against its lookup row. */
static status check_complete(dispatcher *d, item *it, const db_res *l,
                             bool *duplicate, err *e)
{
    json_t *outcome = json_object_get(it->a.root, "outcome");
    json_t *fields = json_object_get(outcome, "fields");
    const playbook *pb;
    int step, row = it->row;
    status s;

    *duplicate = false;
    if (row < 0 || strcmp(db_val(l, row, 0), it->worker) != 0 ||
        db_i64(l, row, 1) != it->a.epoch)
        return dsp_diagnose(l, row, it->worker, it->a.res_id, it->a.epoch, e);
    if (!db_null(l, row, 10)) {
        *duplicate = true;
        return ST_OK;
    }
    if (strcmp(db_val(l, row, 2), "accepted") != 0)
        return err_set(e, ST_STALE,
                       "reservation %lld is %s; the task is no longer yours",
                       (long long)it->a.res_id, db_val(l, row, 2));
    s = dsp_playbook(d, db_val(l, row, 6), db_val(l, row, 7),
                     (int)db_i64(l, row, 8), &pb, e);
    if (s != ST_OK)
        return s;
    step = playbook_step_index(pb, db_val(l, row, 5));
    if (step < 0)
        return err_set(e, ST_INTERNAL, "task step %s not in playbook",
                       db_val(l, row, 5));
    s = playbook_check_outcome(&pb->steps[step], jsonx_str(outcome, "code"),
                               fields, e);
    if (s == ST_OK)
        s = dsp_review_check(pb, step, jsonx_str(outcome, "code"), fields, e);
    if (s != ST_OK)
        return s;
    it->oc = playbook_outcome(&pb->steps[step], jsonx_str(outcome, "code"));
    it->review = dsp_review_step(pb, step);
    it->ai_auto = pb->steps[step].ai == PB_AI_AUTO;
    it->fields = fields != NULL ? jsonx_dump(fields) : strdup("{}");
    if (it->fields == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    return ST_OK;
}

status dsp_complete_batch(dispatcher *d, const bus_msg *const *msgs,
                          const char (*workers)[ID_MAX + 1], int n, err *e)
{
    item *it = calloc((size_t)n, sizeof(item));
    bool *repeat = calloc((size_t)n, sizeof(bool));
    int64_t *cases = calloc((size_t)n + 1, sizeof(int64_t));
    dsp_review_item *rv = calloc((size_t)n + 1, sizeof(dsp_review_item));
    sbuf ids = {0}, tasks = {0}, epochs = {0}, wks = {0}, codes = {0},
         fields = {0}, bills = {0};
    db_res *l = NULL, *r = NULL;
    i64map *idx = NULL;
    int k = 0, ncases = 0, nrv = 0;
    status s = ST_OK;

    if (it == NULL || repeat == NULL || cases == NULL || rv == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n && s == ST_OK; i++) {
        err re = {0};
        status rs;
        it[i].m = msgs[i];
        it[i].worker = workers[i];
        it[i].row = -1;
        rs = dsp_answer_decode(msgs[i], dsp_complete_fields, 4, &it[i].a, &re);
        if (rs == ST_OK)
            rs = dsp_review_confidence(it[i].a.root, &it[i].confidence, &re);
        if (rs == ST_OK)
            rs = jsonx_check(json_object_get(it[i].a.root, "outcome"),
                             "request.outcome", dsp_outcome_fields, 2, &re);
        it[i].ok = rs == ST_OK;
        if (rs != ST_OK)
            reply_err(d, msgs[i], rs, re.msg, &s, e);
    }
    if (s == ST_OK)
        s = index_items(it, n, &idx, repeat, e);
    if (s != ST_OK)
        goto out;
    ids_array(&ids, it, n, true);
    s = dsp_lookup_reservations(d, sbuf_str(&ids), &l, e);
    if (s != ST_OK)
        goto out;
    for (int j = 0; j < db_rows(l); j++) {
        int i;
        if (i64map_get(idx, db_i64(l, j, 12), &i))
            it[i].row = j;
    }
    sbuf_append(&tasks, "{", 1);
    sbuf_append(&epochs, "{", 1);
    sbuf_append(&wks, "{", 1);
    sbuf_append(&codes, "{", 1);
    sbuf_append(&fields, "{", 1);
    sbuf_append(&bills, "{", 1);
    sbuf_reset(&ids);
    sbuf_append(&ids, "{", 1);
    for (int i = 0; s == ST_OK && i < n; i++) {
        err re = {0};
        bool dup;
        status rs;
        if (!it[i].ok)
            continue;
        rs = check_complete(d, &it[i], l, &dup, &re);
        if (rs != ST_OK) {
            it[i].ok = false;
            if (dsp_infra_failure(rs)) {
                s = rs;
                *e = re;
            } else {
                reply_err(d, it[i].m, rs, re.msg, &s, e);
            }
            continue;
        }
        if (dup) {
            /* The same completion again: answer as before. */
            it[i].ok = false;
            if (bus_msg_reply(it[i].m) != NULL)
                s = dsp_send(d, bus_msg_reply(it[i].m),
                             dsp_complete_body(db_i64(l, it[i].row, 10),
                                               db_bool(l, it[i].row, 11), true),
                             e);
            continue;
        }
        sbuf_printf(&tasks, "%s%s", k > 0 ? "," : "", db_val(l, it[i].row, 3));
        sbuf_printf(&epochs, "%s%lld", k > 0 ? "," : "",
                    (long long)it[i].a.epoch);
        sbuf_printf(&wks, "%s%s", k > 0 ? "," : "", it[i].worker);
        sbuf_printf(&ids, "%s%lld", k > 0 ? "," : "",
                    (long long)it[i].a.res_id);
        sbuf_printf(&codes, "%s%s", k > 0 ? "," : "", it[i].oc->code);
        if (k > 0)
            sbuf_append(&fields, ",", 1);
        sbuf_pg_elem(&fields, it[i].fields);
        sbuf_printf(&bills, "%s%s", k > 0 ? "," : "",
                    it[i].oc->billable ? "t" : "f");
        k++;
    }
    sbuf_append(&tasks, "}", 1);
    sbuf_append(&epochs, "}", 1);
    sbuf_append(&wks, "}", 1);
    sbuf_append(&ids, "}", 1);
    sbuf_append(&codes, "}", 1);
    sbuf_append(&fields, "}", 1);
    sbuf_append(&bills, "}", 1);
    if (s == ST_OK && (fields.failed || tasks.failed || ids.failed))
        s = err_set(e, ST_NOMEM, "out of memory");
    if (s != ST_OK)
        goto out;
    if (k > 0) {
        const char *p[8] = {sbuf_str(&tasks), sbuf_str(&epochs),
                            sbuf_str(&wks),   sbuf_str(&ids),
                            sbuf_str(&codes), sbuf_str(&fields),
                            sbuf_str(&bills), d->cfg.prefix};
        s = db_run(d->db, &st_complete_many, p, &r, e);
        if (s != ST_OK)
            goto out;
        d->events_written = db_rows(r) > 0 || d->events_written;
    }
    for (int j = 0; r != NULL && j < db_rows(r); j++) {
        int i;
        if (!i64map_get(idx, db_i64(r, j, 0), &i))
            continue;
        it[i].ok = false; /* done */
        d->stat_completed++;
        if (strcmp(db_val(r, j, 4), "wrapping") == 0)
            router_task_wrapping(d->router, db_i64(r, j, 3), clock_wall_us());
        else
            router_task_done(d->router, db_i64(r, j, 3), clock_wall_us());
        if (ncases == 0 || cases[ncases - 1] != db_i64(r, j, 2))
            cases[ncases++] = db_i64(r, j, 2);
        if (it[i].review || it[i].ai_auto) {
            rv[nrv].task_id = db_i64(r, j, 3);
            rv[nrv].confidence = it[i].confidence;
            rv[nrv++].review = it[i].review;
        }
        if (bus_msg_reply(it[i].m) != NULL)
            s = dsp_send(
                d, bus_msg_reply(it[i].m),
                dsp_complete_body(db_i64(r, j, 1), it[i].oc->billable, false),
                e);
        if (s != ST_OK)
            goto out;
    }
    /* Checked but not written: the task moved on under us (lease). */
    for (int i = 0; i < n; i++)
        if (it[i].ok)
            reply_err(d, it[i].m, ST_STALE,
                      "reservation is no longer assigned to you (lease "
                      "expired?)",
                      &s, e);
    if (s == ST_OK && nrv > 0)
        s = dsp_review_after(d, rv, nrv, e);
    if (s == ST_OK)
        s = dsp_progress_cases(d, cases, ncases, e);
    /* Repeats inside one batch: the first was written above; answer the
     * rest as retries. */
    for (int i = 0; s == ST_OK && i < n; i++)
        if (repeat[i])
            run_single(d, dsp_complete, it[i].worker, it[i].m, &s, e);
out:
    sbuf_free(&ids);
    sbuf_free(&tasks);
    sbuf_free(&epochs);
    sbuf_free(&wks);
    sbuf_free(&codes);
    sbuf_free(&fields);
    sbuf_free(&bills);
    db_res_free(l);
    db_res_free(r);
    i64map_destroy(idx);
    free(repeat);
    free(cases);
    free(rv);
    if (it != NULL)
        free_items(it, n);
    return s;
}
