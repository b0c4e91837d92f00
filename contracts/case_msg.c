#include "case_msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"

static const jfield submit_fields[] = {
    {"external_id", JF_STRING, true}, {"case_type", JF_TOKEN, true},
    {"priority", JF_INT, false},      {"customer", JF_OBJECT, false},
    {"payload", JF_OBJECT, false},
};
static const jfield get_fields[] = {
    {"case_id", JF_INT, false},
    {"external_id", JF_STRING, false},
};
static const jfield dispute_fields[] = {
    {"case_id", JF_INT, false},
    {"external_id", JF_STRING, false},
    {"reason", JF_STRING, true},
    {"request_id", JF_TOKEN, false},
};
static const jfield priority_fields[] = {
    {"task_id", JF_INT, true},
    {"priority", JF_INT, true},
};

#define NFIELDS(f) ((int)(sizeof(f) / sizeof((f)[0])))

/* Serialise and take ownership of v (NULL after a failed json_pack). */
static status finish(json_t *v, char **out, size_t *len, err *e)
{
    char *body = v != NULL ? jsonx_dump(v) : NULL;

    json_decref(v);
    if (body == NULL)
        return err_set(e, ST_NOMEM, "out of memory building a message");
    *out = body;
    *len = strlen(body);
    return ST_OK;
}

static status printed(char **out, size_t *len, err *e, size_t cap,
                      const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static status printed(char **out, size_t *len, err *e, size_t cap,
                      const char *fmt, ...)
{
    char *body = malloc(cap);
    va_list ap;
    int n;

    if (body == NULL)
        return err_set(e, ST_NOMEM, "out of memory building a message");
    va_start(ap, fmt);
    n = vsnprintf(body, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap) {
        free(body);
        return err_set(e, ST_INTERNAL, "message longer than %zu bytes", cap);
    }
    *out = body;
    *len = (size_t)n;
    return ST_OK;
}

/* The text of a JSON object the database built, sent as it is. */
static bool looks_like_object(const char *s)
{
    size_t n;

    if (s == NULL)
        return false;
    while (*s == ' ' || *s == '\n')
        s++;
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n'))
        n--;
    return n >= 2 && s[0] == '{' && s[n - 1] == '}';
}

static status request_parse(const char *buf, size_t len, size_t max,
                            const jfield *fields, int nfields, json_t **out,
                            err *e)
{
    status s = jsonx_parse(buf, len, max, out, e);

    if (s == ST_OK) {
        s = jsonx_check(*out, "request", fields, nfields, e);
        if (s != ST_OK) {
            json_decref(*out);
            *out = NULL;
        }
    }
    return s;
}

/* ---- case.submit ---- */

status case_msg_submit_encode(const case_submit *s, char **out, size_t *len,
                              err *e)
{
    json_t *v = json_pack("{s:s, s:s, s:i}", "external_id", s->external_id,
                          "case_type", s->case_type, "priority", s->priority);
    const char *const names[2] = {"customer", "payload"};
    const char *const texts[2] = {s->customer, s->payload};

    for (int i = 0; v != NULL && i < 2; i++) {
        json_t *o;

        if (texts[i] == NULL)
            continue;
        o = json_loads(texts[i], 0, NULL);
        if (!json_is_object(o)) {
            json_decref(o);
            json_decref(v);
            return err_set(e, ST_INVALID, "the %s of a case is a JSON object",
                           names[i]);
        }
        json_object_set_new(v, names[i], o);
    }
    return finish(v, out, len, e);
}

status case_msg_submit_decode(const char *buf, size_t len, case_submit *out,
                              err *e)
{
    case_submit r;
    json_t *root = NULL, *empty = NULL, *customer, *payload;
    const char *ext;
    int64_t prio = 0;
    size_t idlen;
    status s = request_parse(buf, len, CASE_SUBMIT_MAX, submit_fields,
                             NFIELDS(submit_fields), &root, e);

    if (s != ST_OK)
        return s;
    memset(&r, 0, sizeof(r));
    ext = jsonx_str(root, "external_id");
    idlen = strlen(ext);
    if (idlen == 0 || idlen > CASE_EXTERNAL_ID_MAX) {
        s = err_set(e, ST_INVALID,
                    "request.external_id must be 1-128 characters");
        goto out;
    }
    for (size_t i = 0; i < idlen; i++)
        if ((unsigned char)ext[i] < 0x20) {
            s = err_set(e, ST_INVALID,
                        "request.external_id must not "
                        "contain control characters");
            goto out;
        }
    if (jsonx_int(root, "priority", &prio) &&
        (prio < 0 || prio > CASE_PRIORITY_MAX)) {
        s = err_set(e, ST_INVALID,
                    "request.priority must be between 0 and 9, not %lld",
                    (long long)prio);
        goto out;
    }
    memcpy(r.external_id, ext, idlen + 1);
    snprintf(r.case_type, sizeof(r.case_type), "%s",
             jsonx_str(root, "case_type"));
    r.priority = (int)prio;
    empty = json_object();
    customer = json_object_get(root, "customer");
    payload = json_object_get(root, "payload");
    r.customer = jsonx_dump(customer != NULL ? customer : empty);
    r.payload = jsonx_dump(payload != NULL ? payload : empty);
    if (r.customer == NULL || r.payload == NULL) {
        case_submit_release(&r);
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    *out = r;
out:
    json_decref(empty);
    json_decref(root);
    return s;
}

void case_submit_release(case_submit *s)
{
    free(s->customer);
    free(s->payload);
    s->customer = NULL;
    s->payload = NULL;
}

/* ---- case.submit_many ---- */

status case_msg_submit_many_encode(const case_submit *s, int n, char **out,
                                   size_t *len, err *e)
{
    char **items;
    size_t ilen;
    status st = ST_OK;

    if (n < 1 || n > CASE_MANY_MAX)
        return err_set(e, ST_INVALID, "a submit_many carries 1 to %d cases",
                       CASE_MANY_MAX);
    items = calloc((size_t)n, sizeof(char *));
    if (items == NULL)
        return err_set(e, ST_NOMEM, "out of memory building a message");
    for (int i = 0; st == ST_OK && i < n; i++)
        st = case_msg_submit_encode(&s[i], &items[i], &ilen, e);
    if (st == ST_OK)
        st = many_msg_encode("cases", items, n, out, len, e);
    for (int i = 0; i < n; i++)
        free(items[i]);
    free(items);
    return st;
}

status case_msg_submit_many_decode(const char *buf, size_t len, many_list *out,
                                   err *e)
{
    return many_msg_split(buf, len, CASE_SUBMIT_MANY_MAX, "cases",
                          CASE_MANY_MAX, out, e);
}

/* ---- case references (get, reopen, complaint) ---- */

static json_t *ref_json(const case_ref *r)
{
    return r->case_id > 0
               ? json_pack("{s:I}", "case_id", (json_int_t)r->case_id)
               : json_pack("{s:s}", "external_id", r->external_id);
}

static status ref_decode(const json_t *root, case_ref *out, err *e)
{
    const char *ext = jsonx_str(root, "external_id");
    int64_t id = 0;
    size_t n;

    memset(out, 0, sizeof(*out));
    if (jsonx_int(root, "case_id", &id) == (ext != NULL))
        return err_set(e, ext != NULL ? ST_INVALID : ST_MISSING_FIELD,
                       "request needs exactly one of case_id or external_id");
    if (ext == NULL) {
        out->case_id = id;
        return ST_OK;
    }
    n = strlen(ext);
    if (n == 0 || n > CASE_EXTERNAL_ID_MAX)
        return err_set(e, ST_INVALID,
                       "request.external_id must be 1-128 characters");
    memcpy(out->external_id, ext, n + 1);
    return ST_OK;
}

status case_msg_get_encode(const case_ref *r, char **out, size_t *len, err *e)
{
    return finish(ref_json(r), out, len, e);
}

status case_msg_get_decode(const char *buf, size_t len, case_ref *out, err *e)
{
    json_t *root = NULL;
    status s = request_parse(buf, len, CASE_MSG_MAX, get_fields,
                             NFIELDS(get_fields), &root, e);

    if (s == ST_OK)
        s = ref_decode(root, out, e);
    json_decref(root);
    return s;
}

status case_msg_dispute_encode(const case_dispute *d, char **out, size_t *len,
                               err *e)
{
    json_t *v = ref_json(&d->ref);

    if (v != NULL && json_object_set_new(v, "reason", json_string(d->reason)))
        v = (json_decref(v), NULL);
    if (v != NULL && d->request_id[0] != '\0' &&
        json_object_set_new(v, "request_id", json_string(d->request_id)))
        v = (json_decref(v), NULL);
    return finish(v, out, len, e);
}

status case_msg_dispute_decode(const char *buf, size_t len, case_dispute *out,
                               err *e)
{
    case_dispute r;
    json_t *root = NULL;
    const char *reason, *req_id;
    size_t rlen;
    status s = request_parse(buf, len, CASE_MSG_MAX, dispute_fields,
                             NFIELDS(dispute_fields), &root, e);

    if (s != ST_OK)
        return s;
    memset(&r, 0, sizeof(r));
    s = ref_decode(root, &r.ref, e);
    reason = jsonx_str(root, "reason");
    req_id = jsonx_str(root, "request_id");
    rlen = strlen(reason);
    if (s == ST_OK && (rlen == 0 || rlen > CASE_REASON_MAX))
        s = err_set(e, ST_INVALID,
                    "request.reason must be 1-500 characters, not %zu", rlen);
    if (s == ST_OK) {
        memcpy(r.reason, reason, rlen + 1);
        snprintf(r.request_id, sizeof(r.request_id), "%s",
                 req_id != NULL ? req_id : "");
        *out = r;
    }
    json_decref(root);
    return s;
}

/* ---- Replies ---- */

status case_msg_submit_reply(bool created, const char *case_json, char **out,
                             size_t *len, err *e)
{
    if (!looks_like_object(case_json))
        return err_set(e, ST_INVALID, "a case is a JSON object");
    return printed(out, len, e, strlen(case_json) + 64,
                   "{\"ok\":true,\"created\":%s,\"case\":%s}",
                   created ? "true" : "false", case_json);
}

status case_msg_get_reply(const char *case_json, char **out, size_t *len,
                          err *e)
{
    if (!looks_like_object(case_json))
        return err_set(e, ST_INVALID, "a case is a JSON object");
    return printed(out, len, e, strlen(case_json) + 32,
                   "{\"ok\":true,\"case\":%s}", case_json);
}

status case_msg_dispute_reply(bool created, const char *kind,
                              const char *record_json, char **out, size_t *len,
                              err *e)
{
    if (strcmp(kind, "reopen") != 0 && strcmp(kind, "complaint") != 0)
        return err_set(e, ST_INVALID,
                       "a dispute is a reopen or a complaint, not \"%.32s\"",
                       kind);
    if (!looks_like_object(record_json))
        return err_set(e, ST_INVALID, "a dispute record is a JSON object");
    return printed(out, len, e, strlen(record_json) + 64,
                   "{\"ok\":true,\"created\":%s,\"%s\":%s}",
                   created ? "true" : "false", kind, record_json);
}

/* The envelope of any reply: *ok, and for an error its code and message.
 * *root is the parsed reply (the caller decrefs). */
static status reply_open(const char *buf, size_t len, json_t **root, bool *ok,
                         char code[48], char message[256], err *e)
{
    const json_t *okv, *error;
    const char *c, *m;
    status s;

    if (len == 0)
        return err_set(e, ST_UNAVAILABLE, "no dispatcher answers");
    s = jsonx_parse(buf, len, CASE_REPLY_MAX, root, e);
    if (s != ST_OK)
        return s;
    okv = json_object_get(*root, "ok");
    if (!json_is_boolean(okv)) {
        json_decref(*root);
        *root = NULL;
        return err_set(e, ST_WRONG_TYPE, "reply.ok must be true or false");
    }
    *ok = json_is_true(okv);
    error = json_object_get(*root, "error");
    c = jsonx_str(error, "code");
    m = jsonx_str(error, "message");
    snprintf(code, 48, "%s", *ok ? "" : c != NULL ? c : "internal");
    snprintf(message, 256, "%s", *ok || m == NULL ? "" : m);
    return ST_OK;
}

static void copy_str(char *dst, size_t cap, const json_t *o, const char *name)
{
    const char *v = jsonx_str(o, name);

    snprintf(dst, cap, "%s", v != NULL ? v : "");
}

status case_msg_rate_limited_reply(const char *message, int64_t retry_after_ms,
                                   char **out, size_t *len, err *e)
{
    json_t *o = json_pack(
        "{s:b, s:{s:s, s:s, s:I}}", "ok", 0, "error", "code",
        status_code(ST_RATE_LIMITED), "message", message, "retry_after_ms",
        (json_int_t)(retry_after_ms > 0 ? retry_after_ms : 1));
    char *body = o != NULL ? jsonx_dump(o) : NULL;

    json_decref(o);
    if (body == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    *out = body;
    *len = strlen(body);
    return ST_OK;
}

status case_msg_reply_decode(const char *buf, size_t len, case_reply *out,
                             err *e)
{
    case_reply *r = calloc(1, sizeof(*r));
    json_t *root = NULL, *c, *tasks;
    int64_t v;
    status s;

    if (r == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    s = reply_open(buf, len, &root, &r->ok, r->code, r->message, e);
    if (s == ST_OK && !r->ok)
        jsonx_int(json_object_get(root, "error"), "retry_after_ms",
                  &r->retry_after_ms);
    if (s != ST_OK || !r->ok)
        goto done;
    c = json_object_get(root, "case");
    if (!json_is_object(c)) {
        s = err_set(e, ST_MISSING_FIELD, "reply lacks the object \"case\"");
        goto done;
    }
    r->created = json_is_true(json_object_get(root, "created"));
    jsonx_int(c, "id", &r->id);
    copy_str(r->external_id, sizeof(r->external_id), c, "external_id");
    copy_str(r->case_type, sizeof(r->case_type), c, "case_type");
    copy_str(r->state, sizeof(r->state), c, "state");
    if (jsonx_int(c, "priority", &v))
        r->priority = (int)v;
    if (jsonx_int(c, "playbook_version", &v))
        r->playbook_version = (int)v;
    tasks = json_object_get(c, "tasks");
    for (size_t i = 0; i < json_array_size(tasks) && i < CASE_REPLY_TASKS;
         i++) {
        const json_t *t = json_array_get(tasks, i);
        case_task_view *tv = &r->tasks[r->ntasks++];

        jsonx_int(t, "id", &tv->id);
        copy_str(tv->step, sizeof(tv->step), t, "step");
        copy_str(tv->state, sizeof(tv->state), t, "state");
        copy_str(tv->worker, sizeof(tv->worker), t, "worker");
        copy_str(tv->outcome, sizeof(tv->outcome),
                 json_object_get(t, "outcome"), "code");
    }
done:
    if (s == ST_OK)
        *out = *r;
    free(r);
    json_decref(root);
    return s;
}

status case_msg_dispute_reply_decode(const char *buf, size_t len,
                                     case_dispute_reply *out, err *e)
{
    case_dispute_reply r;
    json_t *root = NULL, *rec;
    status s;

    memset(&r, 0, sizeof(r));
    s = reply_open(buf, len, &root, &r.ok, r.code, r.message, e);
    if (s != ST_OK || !r.ok)
        goto done;
    snprintf(r.kind, sizeof(r.kind), "%s",
             json_object_get(root, "reopen") != NULL ? "reopen" : "complaint");
    rec = json_object_get(root, r.kind);
    if (!json_is_object(rec)) {
        s = err_set(e, ST_MISSING_FIELD,
                    "reply lacks the object \"reopen\" or \"complaint\"");
        goto done;
    }
    r.created = json_is_true(json_object_get(root, "created"));
    jsonx_int(rec, "id", &r.id);
    jsonx_int(rec, "case_id", &r.case_id);
    copy_str(r.external_id, sizeof(r.external_id), rec, "external_id");
    copy_str(r.reason, sizeof(r.reason), rec, "reason");
done:
    if (s == ST_OK)
        *out = r;
    json_decref(root);
    return s;
}

/* ---- <p>.ops.<operator>.task.priority ---- */

status case_msg_priority_encode(const case_task_priority *p, char **out,
                                size_t *len, err *e)
{
    return finish(json_pack("{s:I, s:i}", "task_id", (json_int_t)p->task_id,
                            "priority", p->priority),
                  out, len, e);
}

status case_msg_priority_decode(const char *buf, size_t len,
                                case_task_priority *out, err *e)
{
    json_t *root = NULL;
    int64_t task = 0, prio = 0;
    status s = request_parse(buf, len, CASE_MSG_MAX, priority_fields,
                             NFIELDS(priority_fields), &root, e);

    if (s != ST_OK)
        return s;
    (void)jsonx_int(root, "task_id", &task);
    (void)jsonx_int(root, "priority", &prio);
    json_decref(root);
    if (task <= 0 || prio < CASE_TASK_PRIORITY_MIN ||
        prio > CASE_TASK_PRIORITY_MAX)
        return err_set(e, ST_INVALID,
                       "request needs a task_id > 0 and a priority from -100 "
                       "to 100 (higher is served first)");
    out->task_id = task;
    out->priority = (int)prio;
    return ST_OK;
}

status case_msg_priority_reply(const case_task_priority *p, char **out,
                               size_t *len, err *e)
{
    return printed(out, len, e, 96,
                   "{\"ok\":true,\"task_id\":%lld,\"priority\":%lld}",
                   (long long)p->task_id, (long long)p->priority);
}

status case_msg_priority_reply_decode(const char *buf, size_t len, bool *ok,
                                      case_task_priority *p, char code[48],
                                      err *e)
{
    json_t *root = NULL;
    char message[256];
    int64_t v = 0;
    status s = reply_open(buf, len, &root, ok, code, message, e);

    if (s != ST_OK)
        return s;
    if (*ok) {
        jsonx_int(root, "task_id", &p->task_id);
        jsonx_int(root, "priority", &v);
        p->priority = (int)v;
    }
    json_decref(root);
    return ST_OK;
}
