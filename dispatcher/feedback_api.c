/*
 * The assistant's feedback: which suggestions of the assist panel a worker
 * was shown, opened, copied or used while holding a task
 * (<p>.agent.<worker>.feedback, docs/protocol.md). Stored in
 * assist_feedback with the batch's transaction; `twinline assist report`
 * reads it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatcher_int.h"
#include "ids.h"
#include "jsonx.h"
#include "sbuf.h"

#define FB_MAX_EVENTS     64
#define FB_SUGGESTION_MAX 80

DB_STMT(st_feedback_insert, 9,
        "WITH v AS (SELECT * FROM unnest($7::text[], $8::text[], $9::text[])"
        "  AS v(kind, suggestion, action)),"
        " i AS (INSERT INTO assist_feedback (reservation_id, task_id,"
        "  tenant_id, case_type, step, worker_id, kind, suggestion, action)"
        "  SELECT $1::bigint, $2::bigint, $3, $4, $5, $6, v.kind,"
        "  v.suggestion, v.action FROM v"
        "  ON CONFLICT (reservation_id, suggestion, action) DO NOTHING"
        "  RETURNING 1)"
        " SELECT count(*) FROM i");

static const jfield feedback_fields[] = {
    {"task_id", JF_INT, true},
    {"reservation_id", JF_INT, true},
    {"events", JF_ARRAY, true},
};
static const jfield event_fields[] = {
    {"suggestion", JF_STRING, true},
    {"action", JF_STRING, true},
};
static const char *const actions[] = {"shown", "opened", "copied", "used"};

/* The kind of a suggestion id, or NULL when it is malformed. */
static const char *suggestion_kind(const char *s)
{
    if (strcmp(s, "reply") == 0 || strcmp(s, "model") == 0)
        return s;
    if (strncmp(s, "passage:", 8) == 0 && ids_token_valid(s + 8))
        return "passage";
    return NULL;
}

static bool action_valid(const char *a)
{
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        if (strcmp(a, actions[i]) == 0)
            return true;
    return false;
}

/* Check every event and fill the array literals of suggestions and
 * actions. */
static status decode_events(const json_t *events, sbuf *sugg, sbuf *act,
                            sbuf *kinds, err *e)
{
    size_t n = json_array_size(events), i;
    char where[48];
    status s;

    if (n == 0 || n > FB_MAX_EVENTS)
        return err_set(e, ST_INVALID,
                       "request.events must hold 1 to %d events, not %zu",
                       FB_MAX_EVENTS, n);
    for (i = 0; i < n; i++) {
        const json_t *ev = json_array_get(events, i);
        const char *sg, *ac, *kind;
        snprintf(where, sizeof(where), "request.events[%zu]", i);
        if (!json_is_object(ev))
            return err_set(e, ST_WRONG_TYPE, "%s must be an object", where);
        s = jsonx_check(ev, where, event_fields, 2, e);
        if (s != ST_OK)
            return s;
        sg = jsonx_str(ev, "suggestion");
        ac = jsonx_str(ev, "action");
        kind = strlen(sg) <= FB_SUGGESTION_MAX ? suggestion_kind(sg) : NULL;
        if (kind == NULL)
            return err_set(e, ST_INVALID,
                           "%s.suggestion must be \"reply\", \"model\" or "
                           "\"passage:<id>\" (id: 1-64 of [A-Za-z0-9_-])",
                           where);
        if (!action_valid(ac))
            return err_set(e, ST_INVALID,
                           "%s.action must be shown, opened, copied or used, "
                           "not \"%.32s\"",
                           where, ac);
        sbuf_append(sugg, i > 0 ? "," : "{", 1);
        sbuf_pg_elem(sugg, sg);
        sbuf_printf(act, "%s%s", i > 0 ? "," : "{", ac);
        sbuf_printf(kinds, "%s%s", i > 0 ? "," : "{", kind);
    }
    sbuf_append(sugg, "}", 1);
    sbuf_append(act, "}", 1);
    sbuf_append(kinds, "}", 1);
    if (sugg->failed || act->failed || kinds->failed)
        return err_set(e, ST_NOMEM, "out of memory");
    return ST_OK;
}

/* Was the reservation (row 0 of l) ever held by worker for task_id? */
static status check_held(const db_res *l, const char *worker, int64_t res_id,
                         int64_t task_id, err *e)
{
    static const char *const held[] = {"accepted", "wrapping", "completed",
                                       "rescinded"};
    const char *state;

    if (db_rows(l) == 0)
        return err_set(e, ST_NOT_FOUND, "no reservation %lld",
                       (long long)res_id);
    if (strcmp(db_val(l, 0, 0), worker) != 0)
        return err_set(e, ST_NOT_YOURS,
                       "reservation %lld belongs to another worker",
                       (long long)res_id);
    if (db_i64(l, 0, 3) != task_id)
        return err_set(e, ST_INVALID, "reservation %lld is not of task %lld",
                       (long long)res_id, (long long)task_id);
    state = db_val(l, 0, 2);
    for (size_t i = 0; i < sizeof(held) / sizeof(held[0]); i++)
        if (strcmp(state, held[i]) == 0)
            return ST_OK;
    return err_set(e, ST_STALE,
                   "reservation %lld is %s: feedback is only for a task you "
                   "accepted",
                   (long long)res_id, state);
}

status dsp_feedback(dispatcher *d, const char *worker, const bus_msg *m, err *e)
{
    json_t *root = NULL;
    db_res *l = NULL, *r = NULL;
    sbuf sugg = {0}, act = {0}, kinds = {0};
    int64_t task_id = 0, res_id = 0;
    char ids[32], rbuf[24], tbuf[24];
    status s;

    s = jsonx_parse(bus_msg_data(m), bus_msg_len(m), DSP_AGENT_MAX_BYTES, &root,
                    e);
    if (s == ST_OK)
        s = jsonx_check(root, "request", feedback_fields, 3, e);
    if (s != ST_OK)
        goto out;
    jsonx_int(root, "task_id", &task_id);
    jsonx_int(root, "reservation_id", &res_id);
    if (task_id <= 0 || res_id <= 0) {
        s = err_set(e, ST_INVALID,
                    "request.task_id and request.reservation_id must be "
                    "positive integers from the offer");
        goto out;
    }
    s = decode_events(json_object_get(root, "events"), &sugg, &act, &kinds, e);
    if (s != ST_OK)
        goto out;
    snprintf(ids, sizeof(ids), "{%lld}", (long long)res_id);
    s = dsp_lookup_reservations(d, ids, &l, e);
    if (s == ST_OK)
        s = check_held(l, worker, res_id, task_id, e);
    if (s != ST_OK)
        goto out;
    db_i64_str(rbuf, res_id);
    db_i64_str(tbuf, task_id);
    {
        const char *p[9] = {rbuf,
                            tbuf,
                            db_val(l, 0, 6),
                            db_val(l, 0, 7),
                            db_val(l, 0, 5),
                            worker,
                            sbuf_str(&kinds),
                            sbuf_str(&sugg),
                            sbuf_str(&act)};
        s = db_run(d->db, &st_feedback_insert, p, &r, e);
    }
    if (s == ST_OK) {
        char *body = malloc(64);
        if (body != NULL)
            snprintf(body, 64, "{\"ok\":true,\"stored\":%lld}",
                     (long long)db_i64(r, 0, 0));
        s = dsp_reply(d, m, body, e);
    }
out:
    db_res_free(l);
    db_res_free(r);
    sbuf_free(&sugg);
    sbuf_free(&act);
    sbuf_free(&kinds);
    json_decref(root);
    return s;
}
