/* The bank API: submit a case, get a case (docs/protocol.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dispatcher_int.h"
#include "jsonx.h"
#include "log.h"

/* The JSON shape of a case in replies, built by PostgreSQL. */
#define CASE_JSON                                                              \
    "json_build_object('id', c.id, 'external_id', c.external_id,"              \
    " 'case_type', c.case_type, 'state', c.state, 'priority', c.priority,"     \
    " 'playbook_version', c.playbook_version, 'created_at', c.created_at,"     \
    " 'closed_at', c.closed_at)"

DB_STMT(st_case_insert, 7,
        "WITH c AS (INSERT INTO cases (tenant_id, external_id, case_type,"
        " playbook_version, priority, customer, payload)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb)"
        " ON CONFLICT (tenant_id, external_id) DO NOTHING RETURNING *)"
        " SELECT c.id, " CASE_JSON "::text FROM c");
DB_STMT(st_case_existing, 2,
        "SELECT c.id, " CASE_JSON "::text FROM cases c"
        " WHERE c.tenant_id = $1 AND c.external_id = $2");
DB_STMT(st_tasks_insert, 4,
        "INSERT INTO tasks (case_id, tenant_id, step, state, ready_at,"
        " sla_due_at)"
        " SELECT $1, $2::text, s.step,"
        "  CASE WHEN cardinality(s.after_steps) = 0 THEN 'pending'"
        "  ELSE 'waiting' END,"
        "  CASE WHEN cardinality(s.after_steps) = 0 THEN now() END,"
        "  CASE WHEN cardinality(s.after_steps) = 0"
        "  THEN now() + make_interval(secs => s.sla_seconds) END"
        " FROM playbook_steps s WHERE s.tenant_id = $2 AND s.case_type = $3"
        "  AND s.version = $4 ORDER BY s.ordinal"
        " RETURNING id, step, state,"
        "  (extract(epoch FROM ready_at) * 1e6)::bigint");
DB_STMT(st_case_get, 3,
        "SELECT json_build_object('id', c.id, 'external_id', c.external_id,"
        " 'case_type', c.case_type, 'state', c.state, 'priority', c.priority,"
        " 'playbook_version', c.playbook_version, 'created_at', c.created_at,"
        " 'closed_at', c.closed_at, 'cancel_reason', c.cancel_reason,"
        " 'tasks', COALESCE((SELECT json_agg("
        "  json_build_object('id', t.id, 'step', t.step, 'state', t.state,"
        "  'worker', t.worker_id, 'cancel_reason', t.cancel_reason,"
        "  'outcome', (SELECT json_build_object("
        "   'code', o.code, 'fields', o.fields) FROM outcomes o"
        "   WHERE o.task_id = t.id)) ORDER BY t.id)"
        "  FROM tasks t WHERE t.case_id = c.id), '[]'::json))::text"
        " FROM cases c WHERE c.tenant_id = $1"
        " AND (c.id = $2::bigint OR c.external_id = $3)");

static const jfield submit_fields[] = {
    {"external_id", JF_STRING, true}, {"case_type", JF_TOKEN, true},
    {"priority", JF_INT, false},      {"customer", JF_OBJECT, false},
    {"payload", JF_OBJECT, false},
};

typedef struct submit_req {
    json_t *root;
    const char *external_id;
    const char *case_type;
    int priority;
    char *customer; /* compact JSON, owned */
    char *payload;
} submit_req;

static void submit_req_free(submit_req *r)
{
    json_decref(r->root);
    free(r->customer);
    free(r->payload);
}

static status submit_decode(const bus_msg *m, submit_req *r, err *e)
{
    json_t *empty = NULL;
    int64_t prio = 0;
    size_t idlen;
    status s;

    memset(r, 0, sizeof(*r));
    s = jsonx_parse(bus_msg_data(m), bus_msg_len(m), DSP_CASE_MAX_BYTES,
                    &r->root, e);
    if (s != ST_OK)
        return s;
    s = jsonx_check(r->root, "request", submit_fields,
                    (int)(sizeof(submit_fields) / sizeof(submit_fields[0])), e);
    if (s != ST_OK)
        return s;
    r->external_id = jsonx_str(r->root, "external_id");
    r->case_type = jsonx_str(r->root, "case_type");
    idlen = strlen(r->external_id);
    if (idlen == 0 || idlen > 128)
        return err_set(e, ST_INVALID,
                       "request.external_id must be 1-128 characters");
    for (size_t i = 0; i < idlen; i++)
        if ((unsigned char)r->external_id[i] < 0x20)
            return err_set(e, ST_INVALID,
                           "request.external_id must not "
                           "contain control characters");
    if (jsonx_int(r->root, "priority", &prio) && (prio < 0 || prio > 9))
        return err_set(e, ST_INVALID,
                       "request.priority must be between 0 and 9, not %lld",
                       (long long)prio);
    r->priority = (int)prio;
    empty = json_object();
    r->customer = jsonx_dump(json_object_get(r->root, "customer") != NULL
                                 ? json_object_get(r->root, "customer")
                                 : empty);
    r->payload = jsonx_dump(json_object_get(r->root, "payload") != NULL
                                ? json_object_get(r->root, "payload")
                                : empty);
    json_decref(empty);
    if (r->customer == NULL || r->payload == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    return ST_OK;
}

static char *ok_case(bool created, const char *case_json)
{
    size_t n = strlen(case_json) + 64;
    char *body = malloc(n);

    if (body != NULL)
        snprintf(body, n, "{\"ok\":true,\"created\":%s,\"case\":%s}",
                 created ? "true" : "false", case_json);
    return body;
}

status dsp_case_submit(dispatcher *d, const char *tenant, const bus_msg *m,
                       err *e)
{
    submit_req req;
    const playbook *pb = NULL;
    db_res *r = NULL, *t = NULL;
    char vbuf[24], pbuf[24], cbuf[24];
    int version;
    int64_t case_id;
    status s;

    s = submit_decode(m, &req, e);
    if (s == ST_OK)
        s = dsp_latest_version(d, tenant, req.case_type, &version, e);
    if (s == ST_OK)
        s = dsp_playbook(d, tenant, req.case_type, version, &pb, e);
    if (s != ST_OK)
        goto out;
    {
        const char *params[7] = {tenant,
                                 req.external_id,
                                 req.case_type,
                                 db_i64_str(vbuf, version),
                                 db_i64_str(pbuf, req.priority),
                                 req.customer,
                                 req.payload};
        s = db_run(d->db, &st_case_insert, params, &r, e);
    }
    if (s != ST_OK)
        goto out;
    if (db_rows(r) == 0) {
        /* Idempotent resubmission: return the stored case, change nothing. */
        const char *params[2] = {tenant, req.external_id};
        db_res_free(r);
        r = NULL;
        s = db_run(d->db, &st_case_existing, params, &r, e);
        if (s == ST_OK && db_rows(r) == 1)
            s = dsp_reply(d, m, ok_case(false, db_val(r, 0, 1)), e);
        else if (s == ST_OK)
            s = err_set(e, ST_INTERNAL, "case %s vanished", req.external_id);
        goto out;
    }
    case_id = db_i64(r, 0, 0);
    {
        const char *params[4] = {db_i64_str(cbuf, case_id), tenant,
                                 req.case_type, vbuf};
        s = db_run(d->db, &st_tasks_insert, params, &t, e);
    }
    for (int i = 0; s == ST_OK && i < db_rows(t); i++) {
        int step;
        if (strcmp(db_val(t, i, 2), "pending") != 0)
            continue;
        step = playbook_step_index(pb, db_val(t, i, 1));
        if (step >= 0)
            s = dsp_route_task(d, pb, step, db_i64(t, i, 0), case_id,
                               req.priority, db_i64(t, i, 3), -1, e);
    }
    if (s == ST_OK)
        s = dsp_reply(d, m, ok_case(true, db_val(r, 0, 1)), e);
    if (s == ST_OK)
        d->stat_cases++;
out:
    db_res_free(r);
    db_res_free(t);
    submit_req_free(&req);
    return s;
}

static const jfield get_fields[] = {
    {"case_id", JF_INT, false},
    {"external_id", JF_STRING, false},
};

status dsp_case_get(dispatcher *d, const char *tenant, const bus_msg *m, err *e)
{
    json_t *root = NULL;
    db_res *r = NULL;
    int64_t case_id = 0;
    const char *ext;
    char cbuf[24];
    status s;

    s = jsonx_parse(bus_msg_data(m), bus_msg_len(m), DSP_AGENT_MAX_BYTES, &root,
                    e);
    if (s == ST_OK)
        s = jsonx_check(root, "request", get_fields, 2, e);
    if (s != ST_OK)
        goto out;
    ext = jsonx_str(root, "external_id");
    if (jsonx_int(root, "case_id", &case_id) == (ext != NULL)) {
        s = err_set(e, ext != NULL ? ST_INVALID : ST_MISSING_FIELD,
                    "request needs exactly one of case_id or external_id");
        goto out;
    }
    {
        const char *params[3] = {tenant, db_i64_str(cbuf, case_id),
                                 ext != NULL ? ext : ""};
        s = db_run(d->db, &st_case_get, params, &r, e);
    }
    if (s != ST_OK)
        goto out;
    if (db_rows(r) == 0) {
        s = err_set(e, ST_NOT_FOUND, "tenant %s has no case %s", tenant,
                    ext != NULL ? ext : cbuf);
        goto out;
    }
    {
        size_t n = strlen(db_val(r, 0, 0)) + 32;
        char *body = malloc(n);
        if (body != NULL)
            snprintf(body, n, "{\"ok\":true,\"case\":%s}", db_val(r, 0, 0));
        s = dsp_reply(d, m, body, e);
    }
out:
    db_res_free(r);
    json_decref(root);
    return s;
}

/*
 * A reopen or complaint: recorded in case_disputes with an outbox event in
 * the batch's transaction. The same request (same case, kind and
 * request_id, or the same reason when there is no request_id) returns the
 * row stored the first time and writes no second event. The billing
 * service reads the rows and reverses what they claw back.
 */
DB_STMT(st_case_dispute, 7,
        "WITH c AS (SELECT id, external_id, tenant_id FROM cases"
        "   WHERE tenant_id = $1 AND (id = $2::bigint OR external_id = $3)),"
        " ins AS (INSERT INTO case_disputes (case_id, tenant_id, kind, reason,"
        "   idem_key)"
        "   SELECT id, tenant_id, $4, $5, coalesce(nullif($6, ''), md5($5))"
        "   FROM c ON CONFLICT (case_id, kind, idem_key) DO NOTHING"
        "   RETURNING id, case_id, created_at),"
        " ev AS (INSERT INTO outbox (subject, payload)"
        "   SELECT $7, json_build_object('type', CASE $4 WHEN 'reopen'"
        "     THEN 'case.reopened' ELSE 'complaint.filed' END,"
        "     'case_id', c.id, 'external_id', c.external_id,"
        "     'tenant', c.tenant_id, 'dispute_id', ins.id, 'reason', $5::text)"
        "   FROM ins JOIN c ON c.id = ins.case_id)"
        " SELECT json_build_object('id', d.id, 'case_id', c.id,"
        "   'external_id', c.external_id, 'kind', d.kind, 'reason', d.reason,"
        "   'created_at', d.created_at)::text, EXISTS (SELECT 1 FROM ins)"
        " FROM c CROSS JOIN LATERAL ("
        "   SELECT ins.id, $4::text AS kind, $5::text AS reason, ins.created_at"
        "   FROM ins"
        "   UNION ALL"
        "   SELECT x.id, x.kind, x.reason, x.created_at FROM case_disputes x"
        "   WHERE x.case_id = c.id AND x.kind = $4"
        "     AND x.idem_key = coalesce(nullif($6, ''), md5($5))"
        "     AND NOT EXISTS (SELECT 1 FROM ins)) d");

static const jfield dispute_fields[] = {
    {"case_id", JF_INT, false},
    {"external_id", JF_STRING, false},
    {"reason", JF_STRING, true},
    {"request_id", JF_TOKEN, false},
};

static status case_dispute(dispatcher *d, const char *tenant, const bus_msg *m,
                           const char *kind, err *e)
{
    json_t *root = NULL;
    db_res *r = NULL;
    int64_t case_id = 0;
    const char *ext, *reason, *req_id;
    char cbuf[24], subj[160];
    size_t rlen;
    status s;

    s = jsonx_parse(bus_msg_data(m), bus_msg_len(m), DSP_AGENT_MAX_BYTES, &root,
                    e);
    if (s == ST_OK)
        s = jsonx_check(
            root, "request", dispute_fields,
            (int)(sizeof(dispute_fields) / sizeof(dispute_fields[0])), e);
    if (s != ST_OK)
        goto out;
    ext = jsonx_str(root, "external_id");
    reason = jsonx_str(root, "reason");
    req_id = jsonx_str(root, "request_id");
    if (jsonx_int(root, "case_id", &case_id) == (ext != NULL)) {
        s = err_set(e, ext != NULL ? ST_INVALID : ST_MISSING_FIELD,
                    "request needs exactly one of case_id or external_id");
        goto out;
    }
    rlen = strlen(reason);
    if (rlen == 0 || rlen > 500) {
        s = err_set(e, ST_INVALID,
                    "request.reason must be 1-500 characters, not %zu", rlen);
        goto out;
    }
    dsp_subject(d, subj, sizeof(subj), "evt.%s.case", tenant);
    {
        const char *params[7] = {tenant,
                                 db_i64_str(cbuf, case_id),
                                 ext != NULL ? ext : "",
                                 kind,
                                 reason,
                                 req_id != NULL ? req_id : "",
                                 subj};
        s = db_run(d->db, &st_case_dispute, params, &r, e);
    }
    if (s != ST_OK)
        goto out;
    if (db_rows(r) == 0) {
        s = err_set(e, ST_NOT_FOUND, "tenant %s has no case %s", tenant,
                    ext != NULL ? ext : cbuf);
        goto out;
    }
    if (db_bool(r, 0, 1))
        d->events_written = true;
    {
        size_t n = strlen(db_val(r, 0, 0)) + 64;
        char *body = malloc(n);
        if (body != NULL)
            snprintf(body, n, "{\"ok\":true,\"created\":%s,\"%s\":%s}",
                     db_bool(r, 0, 1) ? "true" : "false",
                     strcmp(kind, "reopen") == 0 ? "reopen" : "complaint",
                     db_val(r, 0, 0));
        s = dsp_reply(d, m, body, e);
    }
out:
    db_res_free(r);
    json_decref(root);
    return s;
}

status dsp_case_reopen(dispatcher *d, const char *tenant, const bus_msg *m,
                       err *e)
{
    return case_dispute(d, tenant, m, "reopen", e);
}

status dsp_case_complaint(dispatcher *d, const char *tenant, const bus_msg *m,
                          err *e)
{
    return case_dispute(d, tenant, m, "complaint", e);
}
