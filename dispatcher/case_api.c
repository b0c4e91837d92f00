/* The bank API: submit a case, get a case, reopen it or file a complaint
 * (docs/protocol.md). */
#include "case_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "bulk.h"
#include "case_msg.h"
#include "dsp_sql.h"
#include "i64map.h"
#include "intake.h"
#include "jsonx.h"
#include "keystore.h"
#include "outq.h"
#include "payload.h"
#include "sbuf.h"
#include "state.h"
#include "subjects.h"

/* A submit of the batch. */
typedef struct submit_item {
    case_submit req;
    bool ok;  /* decoded, its case type known, its payload valid */
    bool bad; /* decoded, but customer or payload refused by the schema:
                 the stored case if there is one, else this error */
    err why;
    int first;  /* index of the first request of the same case; self */
    int64_t id; /* the case created for it; 0: none */
    const playbook *pb;
    int version;
    char *plain;    /* the payload without its personal fields */
    char *personal; /* {"customer", "payload"} to seal; NULL: none */
    char *sealed;   /* personal sealed for its case id, in hex */
} submit_item;

static void item_release(submit_item *it)
{
    case_submit_release(&it->req);
    free(it->plain);
    keystore_plain_free(it->personal);
    free(it->sealed);
}

/* "tenant<US>external id": the key of a case (external ids hold no
 * control characters). */
static void case_key(char *buf, size_t cap, const char *tenant, const char *ext)
{
    snprintf(buf, cap, "%s\x1f%s", tenant, ext);
}

/* Decode each submit and find its playbook; note repeats of a case. */
static status submit_decode(dispatcher *d, const dsp_req *reqs, submit_item *it,
                            int n, err *e)
{
    strtab *keys = NULL;
    int *first_of = calloc((size_t)n, sizeof(int));
    status s = first_of != NULL ? strtab_create(&keys, e)
                                : err_set(e, ST_NOMEM, "out of memory");

    for (int i = 0; s == ST_OK && i < n; i++) {
        char key[ID_MAX + CASE_EXTERNAL_ID_MAX + 4];
        int before, k;
        err re = {0};
        status rs = case_msg_submit_decode(
            dsp_req_data(&reqs[i]), dsp_req_len(&reqs[i]), &it[i].req, &re);

        if (rs == ST_OK)
            rs = dsp_latest_version(d, reqs[i].party, it[i].req.case_type,
                                    &it[i].version, &re);
        if (rs == ST_OK)
            rs = dsp_playbook(d, reqs[i].party, it[i].req.case_type,
                              it[i].version, &it[i].pb, &re);
        /* Checked against the case type's schema and split into what
         * PostgreSQL may hold and what it gets only sealed. */
        if (rs == ST_OK &&
            (rs = playbook_check_case(it[i].pb, it[i].req.customer,
                                      it[i].req.payload, &it[i].plain,
                                      &it[i].personal, &re)) != ST_OK &&
            !dsp_infra_failure(rs)) {
            /* A resubmission returns the stored case whatever the rest
             * of it says (reply_cases); only a new case gets the error. */
            it[i].bad = true;
            it[i].why = re;
            continue;
        }
        if (rs != ST_OK) {
            dsp_outq_refuse(d->out, &reqs[i], rs, &re, &s, e);
            continue;
        }
        it[i].ok = true;
        case_key(key, sizeof(key), reqs[i].party, it[i].req.external_id);
        before = strtab_count(keys);
        s = strtab_intern(keys, key, &k, e);
        if (s == ST_OK && strtab_count(keys) > before)
            first_of[k] = i;
        it[i].first = s == ST_OK ? first_of[k] : i;
    }
    strtab_destroy(keys);
    free(first_of);
    return s;
}

/*
 * The ids of the new cases, drawn in one statement, and the personal part
 * of each sealed for its id under its tenant's data key (made in this
 * transaction for a tenant's first case). k cases, it[row_of[1..k]].
 */
static status seal_cases(dispatcher *d, const dsp_req *reqs, submit_item *it,
                         const int *row_of, int k, err *e)
{
    char kbuf[24];
    const char *p[1] = {db_i64_str(kbuf, k)};
    db_res *r = NULL;
    status s = db_run(d->db, &dsp_sql_case_ids, p, &r, e);

    if (s == ST_OK && db_rows(r) != k)
        s = err_set(e, ST_INTERNAL, "asked for %d case ids, got %d", k,
                    db_rows(r));
    for (int j = 1; s == ST_OK && j <= k; j++) {
        submit_item *x = &it[row_of[j]];

        x->id = db_i64(r, j - 1, DSP_CASE_IDS_ID);
        if (x->personal == NULL)
            continue;
        s = keystore_tenant_ready(d->keys, d->db, reqs[row_of[j]].party, e);
        if (s == ST_OK)
            s = keystore_seal_hex(d->keys, reqs[row_of[j]].party, x->id,
                                  x->personal, &x->sealed, e);
    }
    db_res_free(r);
    return s;
}

/* One statement creates the cases of every first request of a case. */
static status insert_cases(dispatcher *d, const dsp_req *reqs, submit_item *it,
                           int n, int *created, err *e)
{
    sbuf ids = {0}, ten = {0}, ext = {0}, typ = {0}, ver = {0}, pri = {0},
         pay = {0}, per = {0};
    db_res *r = NULL;
    int *row_of = calloc((size_t)n + 1, sizeof(int)); /* n -> request */
    int k = 0;
    status s = row_of != NULL ? ST_OK : err_set(e, ST_NOMEM, "out of memory");

    *created = 0;
    for (int i = 0; s == ST_OK && i < n; i++)
        if (it[i].ok && it[i].first == i)
            row_of[++k] = i;
    if (s != ST_OK || k == 0)
        goto out;
    if ((s = seal_cases(d, reqs, it, row_of, k, e)) != ST_OK)
        goto out;
    for (int j = 1; j <= k; j++) {
        const submit_item *x = &it[row_of[j]];
        const char *sep = j > 1 ? "," : "{";

        sbuf_printf(&ids, "%s%lld", sep, (long long)x->id);
        sbuf_printf(&ten, "%s%s", sep, reqs[row_of[j]].party);
        sbuf_append(&ext, sep, 1);
        sbuf_pg_elem(&ext, x->req.external_id);
        sbuf_printf(&typ, "%s%s", sep, x->req.case_type);
        sbuf_printf(&ver, "%s%d", sep, x->version);
        sbuf_printf(&pri, "%s%d", sep, x->req.priority);
        sbuf_append(&pay, sep, 1);
        sbuf_pg_elem(&pay, x->plain);
        sbuf_printf(&per, "%s%s", sep, x->sealed != NULL ? x->sealed : "\"\"");
    }
    sbuf_append(&ids, "}", 1);
    sbuf_append(&ten, "}", 1);
    sbuf_append(&ext, "}", 1);
    sbuf_append(&typ, "}", 1);
    sbuf_append(&ver, "}", 1);
    sbuf_append(&pri, "}", 1);
    sbuf_append(&pay, "}", 1);
    sbuf_append(&per, "}", 1);
    if (ids.failed || ten.failed || ext.failed || typ.failed || ver.failed ||
        pri.failed || pay.failed || per.failed) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    {
        const char *p[8] = {sbuf_str(&ids), sbuf_str(&ten), sbuf_str(&ext),
                            sbuf_str(&typ), sbuf_str(&ver), sbuf_str(&pri),
                            sbuf_str(&pay), sbuf_str(&per)};
        s = db_run(d->db, &dsp_sql_case_insert, p, &r, e);
    }
    /* Cases that existed already keep their id; the drawn one is unused. */
    for (int j = 1; j <= k; j++)
        it[row_of[j]].id = 0;
    for (int j = 0; s == ST_OK && j < db_rows(r); j++) {
        int64_t num = db_i64(r, j, DSP_CASE_INSERT_N);
        if (num >= 1 && num <= k) {
            it[row_of[num]].id = db_i64(r, j, DSP_CASE_INSERT_ID);
            (*created)++;
        }
    }
out:
    db_res_free(r);
    sbuf_free(&ids);
    sbuf_free(&ten);
    sbuf_free(&ext);
    sbuf_free(&typ);
    sbuf_free(&ver);
    sbuf_free(&pri);
    sbuf_free(&pay);
    sbuf_free(&per);
    free(row_of);
    return s;
}

/* One statement creates the tasks of every new case; the ready ones go to
 * the router. */
static status insert_tasks(dispatcher *d, submit_item *it, int n, err *e)
{
    sbuf ids = {0};
    db_res *t = NULL;
    i64map *of = NULL;
    int k = 0;
    status s = i64map_create(&of, e);

    for (int i = 0; s == ST_OK && i < n; i++) {
        if (it[i].id == 0)
            continue;
        sbuf_printf(&ids, "%s%lld", k++ > 0 ? "," : "{", (long long)it[i].id);
        s = i64map_put(of, it[i].id, i, e);
    }
    if (s != ST_OK || k == 0)
        goto out;
    sbuf_append(&ids, "}", 1);
    if (ids.failed) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    {
        const char *p[1] = {sbuf_str(&ids)};
        s = db_run(d->db, &dsp_sql_tasks_insert, p, &t, e);
    }
    for (int j = 0; s == ST_OK && j < db_rows(t); j++) {
        int i, step;

        if (strcmp(db_val(t, j, DSP_TASKS_INSERT_STATE), "pending") != 0 ||
            !i64map_get(of, db_i64(t, j, DSP_TASKS_INSERT_CASE_ID), &i))
            continue;
        step =
            playbook_step_index(it[i].pb, db_val(t, j, DSP_TASKS_INSERT_STEP));
        if (step >= 0)
            s = dsp_route_task(d, it[i].pb, step,
                               db_i64(t, j, DSP_TASKS_INSERT_ID), it[i].id,
                               it[i].req.priority,
                               db_i64(t, j, DSP_TASKS_INSERT_READY_US), -1, e);
    }
out:
    db_res_free(t);
    i64map_destroy(of);
    sbuf_free(&ids);
    return s;
}

/* One read gives every submitted case as the replies show it; a case
 * submitted before (or earlier in the batch) is answered "created":
 * false, whatever the rest of its request says. */
static status reply_cases(dispatcher *d, const dsp_req *reqs, submit_item *it,
                          int n, err *e)
{
    sbuf ten = {0}, ext = {0};
    db_res *r = NULL;
    const char **json = calloc((size_t)n + 1, sizeof(char *));
    int k = 0;
    status s = json != NULL ? ST_OK : err_set(e, ST_NOMEM, "out of memory");

    for (int i = 0; s == ST_OK && i < n; i++) {
        const char *sep = k++ > 0 ? "," : "{";
        bool look = it[i].ok || it[i].bad;
        sbuf_append(&ten, sep, 1);
        sbuf_pg_elem(&ten, look ? reqs[i].party : "");
        sbuf_append(&ext, sep, 1);
        sbuf_pg_elem(&ext, look ? it[i].req.external_id : "");
    }
    sbuf_append(&ten, "}", 1);
    sbuf_append(&ext, "}", 1);
    if (s == ST_OK && (ten.failed || ext.failed))
        s = err_set(e, ST_NOMEM, "out of memory");
    if (s == ST_OK) {
        const char *p[2] = {sbuf_str(&ten), sbuf_str(&ext)};
        s = db_run(d->db, &dsp_sql_case_read, p, &r, e);
    }
    for (int j = 0; s == ST_OK && j < db_rows(r); j++) {
        int64_t num = db_i64(r, j, DSP_CASE_READ_N);
        if (num >= 1 && num <= n)
            json[num - 1] = db_val(r, j, DSP_CASE_READ_CASE_JSON);
    }
    for (int i = 0; s == ST_OK && i < n; i++) {
        char *body = NULL;
        size_t len;

        if (it[i].bad && json[i] == NULL) {
            dsp_outq_refuse(d->out, &reqs[i], it[i].why.code, &it[i].why, &s,
                            e);
            continue;
        }
        if (!it[i].ok && !it[i].bad)
            continue;
        if (json[i] == NULL) {
            s = err_set(e, ST_INTERNAL, "case %s vanished",
                        it[i].req.external_id);
            break;
        }
        s = case_msg_submit_reply(it[i].id != 0, json[i], &body, &len, e);
        if (s == ST_OK)
            s = dsp_outq_answer(d->out, &reqs[i], body, e);
    }
    db_res_free(r);
    sbuf_free(&ten);
    sbuf_free(&ext);
    free((void *)json);
    return s;
}

/* Record request q of a tenant's that changed something in the batch's
 * audit records; details is a JSON object the function takes over. */
static status audit_tenant(dispatcher *d, const dsp_req *q, const char *action,
                           const char *subjects, json_t *details, err *e)
{
    auditlog_who who;
    char ident[ID_MAX + 1];
    char *text = details != NULL ? json_dumps(details, JSON_COMPACT) : NULL;
    status s = text != NULL ? ST_OK : err_set(e, ST_NOMEM, "out of memory");

    /* The party is the tenant the subject names; the identity is the
     * client whose private inbox gets the reply ("-" without one). */
    auditlog_who_set(&who, "tenant", q->party,
                     dsp_intake_client_of(bus_msg_reply(q->m), ident) ? ident
                                                                      : NULL);
    if (s == ST_OK)
        s = auditlog_batch_add(d->audit, &who, action, subjects, text, e);
    /* The change is written already: a record that cannot be kept fails
     * the batch, never only the request. */
    if (s != ST_OK && !dsp_infra_failure(s)) {
        err_wrap(e, "audit record");
        s = e->code = ST_INTERNAL;
    }
    free(text);
    json_decref(details);
    return s;
}

/* One audit record per case the batch created; repeats created nothing
 * and are not recorded. No customer data: the trail is never erased. */
static status audit_submits(dispatcher *d, const dsp_req *reqs,
                            const submit_item *it, int n, err *e)
{
    status s = ST_OK;

    for (int i = 0; s == ST_OK && i < n; i++) {
        char subj[40];

        if (it[i].id == 0)
            continue;
        snprintf(subj, sizeof(subj), "case:%lld", (long long)it[i].id);
        s = audit_tenant(d, &reqs[i], "case.submit", subj,
                         json_pack("{s:s, s:s, s:i, s:i}", "external_id",
                                   it[i].req.external_id, "case_type",
                                   it[i].req.case_type, "priority",
                                   it[i].req.priority, "playbook_version",
                                   it[i].version),
                         e);
    }
    return s;
}

/*
 * Submits, set-wise: every request decoded and its playbook found on its
 * own, then one statement creates the cases, one their tasks and one
 * reads every case back for the replies. Submitting an external id again
 * (also twice in one batch) creates nothing and returns the stored case.
 */
status dsp_case_submit(dispatcher *d, const dsp_req *reqs, int n, err *e)
{
    submit_item *it = calloc((size_t)n, sizeof(submit_item));
    int created = 0;
    status s = it != NULL ? ST_OK : err_set(e, ST_NOMEM, "out of memory");

    if (s == ST_OK)
        s = submit_decode(d, reqs, it, n, e);
    if (s == ST_OK)
        s = insert_cases(d, reqs, it, n, &created, e);
    if (s == ST_OK)
        s = insert_tasks(d, it, n, e);
    if (s == ST_OK)
        s = audit_submits(d, reqs, it, n, e);
    if (s == ST_OK)
        s = reply_cases(d, reqs, it, n, e);
    if (s == ST_OK)
        d->stat_cases += (uint64_t)created;
    for (int i = 0; it != NULL && i < n; i++)
        item_release(&it[i]);
    free(it);
    return s;
}

/* A submit_many of items cases takes items tokens of its tenant's (and
 * client's) quota: one on arrival, the rest here (intake.h). */
static status submit_admit(dispatcher *d, const dsp_req *q, int items,
                           char **refusal, err *e)
{
    int64_t retry_ms = 0;
    size_t len;
    err re = {0};
    status rs =
        dsp_intake_charge(d->intake, q->m, q->party, items - 1, &retry_ms, &re);

    *refusal = NULL;
    if (rs == ST_RATE_LIMITED)
        return case_msg_rate_limited_reply(re.msg, retry_ms, refusal, &len, e);
    if (rs != ST_OK)
        *refusal = jsonx_error_reply(rs, re.msg);
    return ST_OK;
}

/*
 * Bulk submits: each case of each request is a submit of its own,
 * answered by dsp_case_submit with every other case of the batch (the
 * same decoding, schema checks, sealing, statements and audit records),
 * and each request gets one reply with the result of every case.
 */
status dsp_case_submit_many(dispatcher *d, const dsp_req *reqs, int n, err *e)
{
    dsp_bulk *b = NULL;
    status s = dsp_bulk_open(&b, d, reqs, n, case_msg_submit_many_decode,
                             submit_admit, e);

    if (s == ST_OK && dsp_bulk_count(b) > 0)
        s = dsp_case_submit(d, dsp_bulk_items(b), dsp_bulk_count(b), e);
    if (s == ST_OK)
        s = dsp_bulk_reply(b, d, e);
    dsp_bulk_destroy(b);
    return s;
}

/*
 * The case view of row j of r with its sealed personal part opened and
 * merged in: the tenant's own case.get is one of the two places where
 * it is shown (docs/security.md). *out is the caller's.
 */
static status open_case(dispatcher *d, const char *tenant, const db_res *r,
                        int j, char **out, err *e)
{
    const char *hex = db_val(r, j, DSP_CASE_GET_PERSONAL);
    char *plain = NULL;
    status s = ST_OK;

    if (hex[0] != '\0')
        s = keystore_open_hex(d->keys, d->db, tenant,
                              db_i64(r, j, DSP_CASE_GET_ID), hex, &plain, e);
    if (s == ST_OK)
        s = payload_merge(db_val(r, j, DSP_CASE_GET_CASE_JSON), plain, out, e);
    keystore_plain_free(plain);
    return s;
}

/* Gets, set-wise: one read answers every request of the batch. */
status dsp_case_get(dispatcher *d, const dsp_req *reqs, int n, err *e)
{
    case_ref *ref = calloc((size_t)n, sizeof(case_ref));
    bool *ok = calloc((size_t)n, sizeof(bool));
    char **json = calloc((size_t)n + 1, sizeof(char *));
    sbuf ten = {0}, ids = {0}, ext = {0};
    db_res *r = NULL;
    status s = ref != NULL && ok != NULL && json != NULL
                   ? ST_OK
                   : err_set(e, ST_NOMEM, "out of memory");

    for (int i = 0; s == ST_OK && i < n; i++) {
        const char *sep = i > 0 ? "," : "{";
        err re = {0};
        status rs = case_msg_get_decode(bus_msg_data(reqs[i].m),
                                        bus_msg_len(reqs[i].m), &ref[i], &re);

        ok[i] = rs == ST_OK;
        dsp_outq_fail(d->out, reqs[i].m, rs, &re, &s, e);
        sbuf_append(&ten, sep, 1);
        sbuf_pg_elem(&ten, ok[i] ? reqs[i].party : "");
        sbuf_printf(&ids, "%s%lld", sep,
                    (long long)(ok[i] ? ref[i].case_id : 0));
        sbuf_append(&ext, sep, 1);
        sbuf_pg_elem(&ext, ok[i] ? ref[i].external_id : "");
    }
    sbuf_append(&ten, "}", 1);
    sbuf_append(&ids, "}", 1);
    sbuf_append(&ext, "}", 1);
    if (s == ST_OK && (ten.failed || ids.failed || ext.failed))
        s = err_set(e, ST_NOMEM, "out of memory");
    if (s == ST_OK) {
        const char *p[3] = {sbuf_str(&ten), sbuf_str(&ids), sbuf_str(&ext)};
        s = db_run(d->db, &dsp_sql_case_get, p, &r, e);
    }
    for (int j = 0; s == ST_OK && j < db_rows(r); j++) {
        int64_t num = db_i64(r, j, DSP_CASE_GET_N);
        if (num >= 1 && num <= n && json[num - 1] == NULL)
            s = open_case(d, reqs[num - 1].party, r, j, &json[num - 1], e);
    }
    for (int i = 0; s == ST_OK && i < n; i++) {
        char *body = NULL, cbuf[24];
        size_t len;
        err re = {0};

        if (!ok[i])
            continue;
        if (json[i] == NULL) {
            db_i64_str(cbuf, ref[i].case_id);
            dsp_outq_fail(
                d->out, reqs[i].m,
                err_set(&re, ST_NOT_FOUND, "tenant %s has no case %s",
                        reqs[i].party,
                        ref[i].case_id > 0 ? cbuf : ref[i].external_id),
                &re, &s, e);
            continue;
        }
        s = case_msg_get_reply(json[i], &body, &len, e);
        if (s == ST_OK)
            s = dsp_outq_reply(d->out, reqs[i].m, body, e);
    }
    db_res_free(r);
    sbuf_free(&ten);
    sbuf_free(&ids);
    sbuf_free(&ext);
    free(ref);
    free(ok);
    for (int i = 0; json != NULL && i < n; i++)
        free(json[i]);
    free(json);
    return s;
}

/* The audit record of a new reopen or complaint (record: the dispute as
 * the statement gives it). The reason is the bank's free text and may
 * name the customer, so the trail keeps its SHA-256, which proves what
 * was said without holding it. */
static status audit_dispute(dispatcher *d, const dsp_req *q, const char *kind,
                            const case_dispute *req, const char *record, err *e)
{
    unsigned char h[32];
    char hex[65], subj[80], action[32];
    json_t *rec = json_loads(record, 0, NULL);
    json_int_t id = json_integer_value(json_object_get(rec, "id"));
    json_int_t case_id = json_integer_value(json_object_get(rec, "case_id"));

    json_decref(rec);
    if (id <= 0 || case_id <= 0)
        return err_set(e, ST_INTERNAL, "dispute record without ids: %.200s",
                       record);
    crypto_hash_sha256(h, (const unsigned char *)req->reason,
                       strlen(req->reason));
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    snprintf(subj, sizeof(subj), "case:%lld dispute:%lld", (long long)case_id,
             (long long)id);
    snprintf(action, sizeof(action), "case.%s", kind);
    return audit_tenant(d, q, action, subj,
                        json_pack("{s:s, s:s}", "request_id", req->request_id,
                                  "reason_sha256", hex),
                        e);
}

/* One reopen or complaint: one statement records it with its event, or
 * finds the record of the same request made before. */
static status dispute_one(dispatcher *d, const dsp_req *q, const char *kind,
                          err *e)
{
    case_dispute req;
    db_res *r = NULL;
    char cbuf[24], subj[SUBJECTS_MAX], *body = NULL;
    size_t len;
    status s =
        case_msg_dispute_decode(bus_msg_data(q->m), bus_msg_len(q->m), &req, e);

    if (s == ST_OK)
        s = subjects_event(subj, sizeof(subj), d->cfg.prefix, q->party,
                           SUBJECTS_EVT_CASE, e);
    if (s != ST_OK)
        goto out;
    {
        const char *params[7] = {q->party,
                                 db_i64_str(cbuf, req.ref.case_id),
                                 req.ref.external_id,
                                 kind,
                                 req.reason,
                                 req.request_id,
                                 subj};
        s = db_run(d->db, &dsp_sql_case_dispute, params, &r, e);
    }
    if (s != ST_OK)
        goto out;
    if (db_rows(r) == 0) {
        s = err_set(e, ST_NOT_FOUND, "tenant %s has no case %s", q->party,
                    req.ref.case_id > 0 ? cbuf : req.ref.external_id);
        goto out;
    }
    if (db_bool(r, 0, DSP_CASE_DISPUTE_CREATED)) {
        d->events_written = true;
        s = audit_dispute(d, q, kind, &req,
                          db_val(r, 0, DSP_CASE_DISPUTE_RECORD), e);
        if (s != ST_OK)
            goto out;
    }
    s = case_msg_dispute_reply(db_bool(r, 0, DSP_CASE_DISPUTE_CREATED), kind,
                               db_val(r, 0, DSP_CASE_DISPUTE_RECORD), &body,
                               &len, e);
    if (s == ST_OK)
        s = dsp_outq_reply(d->out, q->m, body, e);
out:
    db_res_free(r);
    return s;
}

/* Disputes are rare: one statement each, in arrival order, so a repeat in
 * the batch finds the record of the first. */
static status disputes(dispatcher *d, const dsp_req *reqs, int n,
                       const char *kind, err *e)
{
    status s = ST_OK;

    for (int i = 0; s == ST_OK && i < n; i++) {
        err re = {0};
        dsp_outq_fail(d->out, reqs[i].m, dispute_one(d, &reqs[i], kind, &re),
                      &re, &s, e);
    }
    return s;
}

status dsp_case_reopen(dispatcher *d, const dsp_req *reqs, int n, err *e)
{
    return disputes(d, reqs, n, "reopen", e);
}

status dsp_case_complaint(dispatcher *d, const dsp_req *reqs, int n, err *e)
{
    return disputes(d, reqs, n, "complaint", e);
}
