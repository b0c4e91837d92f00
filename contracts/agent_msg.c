#include "agent_msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"

#define AMOUNT_MAX 1000000000000000LL /* 10^15 minor units */

static const char *const field_type_names[] = {
    [AGENT_FIELD_AMOUNT] = "amount_minor", [AGENT_FIELD_INT] = "int",
    [AGENT_FIELD_DATE] = "date",           [AGENT_FIELD_STRING] = "string",
    [AGENT_FIELD_BOOL] = "bool",
};

bool agent_field_type_parse(const char *s, agent_field_type *out)
{
    for (int t = 0; t <= AGENT_FIELD_BOOL; t++) {
        if (s != NULL && strcmp(s, field_type_names[t]) == 0) {
            *out = (agent_field_type)t;
            return true;
        }
    }
    return false;
}

const char *agent_field_type_name(agent_field_type t)
{
    if ((int)t < 0 || t > AGENT_FIELD_BOOL)
        return "?";
    return field_type_names[t];
}

const char *agent_presence_name(agent_presence p)
{
    switch (p) {
    case AGENT_PRESENCE_AVAILABLE:
        return "available";
    case AGENT_PRESENCE_BREAK:
        return "break";
    case AGENT_PRESENCE_OFFLINE:
        break;
    }
    return "offline";
}

static bool presence_parse(const char *s, agent_presence *out)
{
    static const agent_presence all[] = {
        AGENT_PRESENCE_AVAILABLE, AGENT_PRESENCE_BREAK, AGENT_PRESENCE_OFFLINE};

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (s != NULL && strcmp(s, agent_presence_name(all[i])) == 0) {
            *out = all[i];
            return true;
        }
    return false;
}

/* Serialise and take ownership of v (which may be NULL after a failed
 * json_pack). */
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

/* A printf-built message of at most cap bytes. */
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

/* The text of a JSON object built elsewhere (the database), to be sent as
 * it is: it must at least look like one. */
static bool looks_like_object(const char *s)
{
    size_t n;

    if (s == NULL)
        return false;
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
        s++;
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t' ||
                     s[n - 1] == '\r'))
        n--;
    return n >= 2 && s[0] == '{' && s[n - 1] == '}';
}

/* Parse a request and check its members against fields. */
static status request_parse(const char *buf, size_t len, const jfield *fields,
                            int nfields, json_t **out, err *e)
{
    status s = jsonx_parse(buf, len, AGENT_MSG_MAX, out, e);

    if (s == ST_OK) {
        s = jsonx_check(*out, "request", fields, nfields, e);
        if (s != ST_OK) {
            json_decref(*out);
            *out = NULL;
        }
    }
    return s;
}

/* ---- Requests ---- */

static const jfield presence_fields[] = {
    {"presence", JF_STRING, true},
    {"session", JF_OBJECT, false},
    {"takeover", JF_BOOL, false},
};
static const jfield session_fields[] = {
    {"id", JF_TOKEN, true},
    {"host", JF_STRING, true},
    {"pid", JF_INT, true},
};
static const jfield heartbeat_fields[] = {{"session_id", JF_TOKEN, false},
                                          {"held", JF_ARRAY, false}};
static const jfield answer_fields[] = {
    {"reservation_id", JF_INT, true},
    {"epoch", JF_INT, true},
    {"reason", JF_STRING, false},
};
static const jfield complete_fields[] = {
    {"reservation_id", JF_INT, true},
    {"epoch", JF_INT, true},
    {"outcome", JF_OBJECT, true},
    {"confidence", JF_INT, false},
};
static const jfield outcome_fields[] = {
    {"code", JF_TOKEN, true},
    {"fields", JF_OBJECT, false},
};
static const jfield feedback_fields[] = {
    {"task_id", JF_INT, true},
    {"reservation_id", JF_INT, true},
    {"events", JF_ARRAY, true},
};
static const jfield event_fields[] = {
    {"suggestion", JF_STRING, true},
    {"action", JF_STRING, true},
};
static const char *const feedback_actions[] = {"shown", "opened", "copied",
                                               "used"};

status agent_msg_presence(const char *presence, char **out, size_t *len, err *e)
{
    agent_presence p;

    if (!presence_parse(presence, &p))
        return err_set(e, ST_INVALID,
                       "presence \"%s\" must be available, break or offline",
                       presence);
    return finish(json_pack("{s:s}", "presence", agent_presence_name(p)), out,
                  len, e);
}

/* A host name as a session gives it: printable ASCII without spaces, so
 * it reads as one word in a message and holds no escape sequence. */
static bool host_valid(const char *h)
{
    size_t n = h != NULL ? strlen(h) : 0;

    if (n == 0 || n > AGENT_HOST_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)h[i] < 0x21 || (unsigned char)h[i] > 0x7E)
            return false;
    return true;
}

static status signin_check(const agent_signin *s, const char *where, err *e)
{
    if (!ids_token_valid(s->id))
        return err_set(e, ST_INVALID,
                       "%s.id must be 1-64 characters of letters, digits, "
                       "'_' or '-'",
                       where);
    if (!host_valid(s->host))
        return err_set(e, ST_INVALID,
                       "%s.host must be 1-%d printable ASCII characters "
                       "without spaces",
                       where, AGENT_HOST_MAX);
    if (s->pid < 1 || s->pid > AGENT_PID_MAX)
        return err_set(e, ST_INVALID, "%s.pid must be from 1 to %d", where,
                       AGENT_PID_MAX);
    return ST_OK;
}

static json_t *signin_json(const agent_signin *s)
{
    return json_pack("{s:s, s:s, s:I}", "id", s->id, "host", s->host, "pid",
                     (json_int_t)s->pid);
}

/* The sign-in object o (already checked against session_fields). */
static status signin_read(const json_t *o, const char *where, agent_signin *out,
                          err *e)
{
    agent_signin si;
    const char *host = jsonx_str(o, "host");
    status st;

    memset(&si, 0, sizeof(si));
    snprintf(si.id, sizeof(si.id), "%s", jsonx_str(o, "id"));
    if (host != NULL && strlen(host) <= AGENT_HOST_MAX)
        snprintf(si.host, sizeof(si.host), "%s", host);
    jsonx_int(o, "pid", &si.pid);
    st = signin_check(&si, where, e);
    if (st == ST_OK)
        *out = si;
    return st;
}

status agent_msg_presence_req(const agent_presence_req *r, char **out,
                              size_t *len, err *e)
{
    json_t *v;
    status s;

    if (r->has_signin && (s = signin_check(&r->signin, "session", e)) != ST_OK)
        return s;
    v = json_pack("{s:s}", "presence", agent_presence_name(r->presence));
    if (v != NULL && r->has_signin)
        json_object_set_new(v, "session", signin_json(&r->signin));
    if (v != NULL && r->takeover)
        json_object_set_new(v, "takeover", json_true());
    return finish(v, out, len, e);
}

status agent_msg_presence_decode(const char *buf, size_t len,
                                 agent_presence_req *out, err *e)
{
    json_t *root = NULL, *sess;
    agent_presence_req r;
    const char *p;
    status s = request_parse(
        buf, len, presence_fields,
        (int)(sizeof(presence_fields) / sizeof(presence_fields[0])), &root, e);

    if (s != ST_OK)
        return s;
    memset(&r, 0, sizeof(r));
    p = jsonx_str(root, "presence");
    if (!presence_parse(p, &r.presence)) {
        s = err_set(e, ST_INVALID,
                    "request.presence must be available, break or offline, "
                    "not \"%.32s\"",
                    p);
        goto out;
    }
    r.takeover = json_is_true(json_object_get(root, "takeover"));
    sess = json_object_get(root, "session");
    if (sess != NULL) {
        s = jsonx_check(sess, "request.session", session_fields, 3, e);
        if (s == ST_OK)
            s = signin_read(sess, "request.session", &r.signin, e);
        if (s != ST_OK)
            goto out;
        r.has_signin = true;
    }
    *out = r;
out:
    json_decref(root);
    return s;
}

status agent_msg_heartbeat(char **out, size_t *len, err *e)
{
    return finish(json_object(), out, len, e);
}

status agent_msg_heartbeat_session(const char *session_id, char **out,
                                   size_t *len, err *e)
{
    if (!ids_token_valid(session_id))
        return err_set(e, ST_INVALID,
                       "a session id must be 1-64 characters of letters, "
                       "digits, '_' or '-'");
    return finish(json_pack("{s:s}", "session_id", session_id), out, len, e);
}

/* The ids of a JSON array of positive integers into ids (at most max). */
static status id_array(const json_t *arr, const char *what, int64_t *ids,
                       int *n, err *e)
{
    size_t i;
    json_t *v;

    if (json_array_size(arr) > AGENT_HELD_MAX)
        return err_set(e, ST_TOO_LARGE, "%s has more than %d ids", what,
                       AGENT_HELD_MAX);
    *n = 0;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
            return err_set(e, ST_INVALID,
                           "%s[%zu] must be a reservation id (a positive "
                           "integer)",
                           what, i);
        ids[(*n)++] = (int64_t)json_integer_value(v);
    }
    return ST_OK;
}

status agent_msg_heartbeat_decode(const char *buf, size_t len,
                                  agent_heartbeat *out, err *e)
{
    json_t *root = NULL, *held;
    agent_heartbeat hb;
    const char *sid;
    status s;

    if (out == NULL)
        out = &hb;
    memset(out, 0, sizeof(*out));
    if (len == 0)
        return ST_OK;
    s = request_parse(buf, len, heartbeat_fields, 2, &root, e);
    if (s != ST_OK)
        return s;
    sid = jsonx_str(root, "session_id");
    if (sid != NULL)
        snprintf(out->session_id, sizeof(out->session_id), "%s", sid);
    held = json_object_get(root, "held");
    if (held != NULL) {
        out->has_held = true;
        s = id_array(held, "request.held", out->held, &out->nheld, e);
    }
    json_decref(root);
    return s;
}

status agent_msg_heartbeat_held(const int64_t *held, int n, char **out,
                                size_t *len, err *e)
{
    json_t *root = json_object(), *arr = json_array();

    if (n < 0 || n > AGENT_HELD_MAX) {
        json_decref(root);
        json_decref(arr);
        return err_set(e, ST_TOO_LARGE,
                       "a heartbeat names at most %d held reservations",
                       AGENT_HELD_MAX);
    }
    for (int i = 0; root != NULL && arr != NULL && i < n; i++)
        if (json_array_append_new(arr, json_integer((json_int_t)held[i])) != 0)
            break;
    if (root != NULL && arr != NULL &&
        json_object_set_new(root, "held", arr) == 0)
        arr = NULL;
    json_decref(arr);
    return finish(root, out, len, e);
}

status agent_msg_accept(const agent_offer *o, char **out, size_t *len, err *e)
{
    return finish(json_pack("{s:I, s:I}", "reservation_id",
                            (json_int_t)o->reservation_id, "epoch",
                            (json_int_t)o->epoch),
                  out, len, e);
}

/* The reservation and epoch every answer to an offer names. */
static status answer_ids(const json_t *root, int64_t *res_id, int64_t *epoch,
                         err *e)
{
    jsonx_int(root, "reservation_id", res_id);
    jsonx_int(root, "epoch", epoch);
    if (*res_id <= 0 || *epoch <= 0 || *epoch > AGENT_EPOCH_MAX)
        return err_set(e, ST_INVALID,
                       "request.reservation_id and request.epoch must be "
                       "positive integers from the offer");
    return ST_OK;
}

/* An accept allows the first two members of answer_fields, a reject all. */
static status answer_decode(const char *buf, size_t len, int nfields,
                            agent_answer *out, err *e)
{
    agent_answer a;
    json_t *root = NULL;
    const char *reason;
    status s = request_parse(buf, len, answer_fields, nfields, &root, e);

    if (s != ST_OK)
        return s;
    memset(&a, 0, sizeof(a));
    s = answer_ids(root, &a.reservation_id, &a.epoch, e);
    reason = jsonx_str(root, "reason");
    if (s == ST_OK && reason != NULL && strlen(reason) > AGENT_REASON_MAX)
        s = err_set(e, ST_INVALID,
                    "request.reason is longer than %d characters",
                    AGENT_REASON_MAX);
    if (s == ST_OK) {
        snprintf(a.reason, sizeof(a.reason), "%s",
                 reason != NULL ? reason : "");
        *out = a;
    }
    json_decref(root);
    return s;
}

status agent_msg_accept_decode(const char *buf, size_t len, agent_answer *out,
                               err *e)
{
    return answer_decode(buf, len, 2, out, e);
}

status agent_msg_reject(const agent_offer *o, const char *reason, char **out,
                        size_t *len, err *e)
{
    json_t *v =
        json_pack("{s:I, s:I}", "reservation_id", (json_int_t)o->reservation_id,
                  "epoch", (json_int_t)o->epoch);

    if (v != NULL && reason != NULL && reason[0] != '\0') {
        char cut[AGENT_REASON_MAX + 1];

        snprintf(cut, sizeof(cut), "%s", reason);
        json_object_set_new(v, "reason", json_string(cut));
    }
    return finish(v, out, len, e);
}

status agent_msg_reject_decode(const char *buf, size_t len, agent_answer *out,
                               err *e)
{
    return answer_decode(buf, len, 3, out, e);
}

static json_t *value_json(const agent_value *v)
{
    switch (v->type) {
    case AGENT_FIELD_AMOUNT:
    case AGENT_FIELD_INT:
        return json_integer((json_int_t)v->i);
    case AGENT_FIELD_DATE:
    case AGENT_FIELD_STRING:
        return json_string(v->s);
    case AGENT_FIELD_BOOL:
        return json_boolean(v->b);
    }
    return NULL;
}

/* The complete body; confidence < 0 leaves the member out. */
static status complete_msg(const agent_offer *o, const agent_outcome *oc,
                           int confidence, char **out, size_t *len, err *e)
{
    const agent_outcome_spec *spec;
    json_t *fields = NULL, *v = NULL;

    if (oc->index < 0 || oc->index >= o->noutcomes)
        return err_set(e, ST_INVALID, "outcome %d is not in the offer",
                       oc->index);
    spec = &o->outcomes[oc->index];
    if (oc->nvalues != spec->nfields)
        return err_set(e, ST_INVALID, "outcome %s needs %d fields, got %d",
                       spec->code, spec->nfields, oc->nvalues);
    fields = json_object();
    for (int i = 0; fields != NULL && i < spec->nfields; i++) {
        if (oc->values[i].type != spec->fields[i].type) {
            json_decref(fields);
            return err_set(e, ST_INVALID, "field %s of %s must be %s",
                           spec->fields[i].name, spec->code,
                           agent_field_type_name(spec->fields[i].type));
        }
        if (oc->values[i].type == AGENT_FIELD_AMOUNT &&
            (oc->values[i].i < 0 || oc->values[i].i > AMOUNT_MAX)) {
            json_decref(fields);
            return err_set(e, ST_INVALID,
                           "field %s of %s must be between 0 and 10^15",
                           spec->fields[i].name, spec->code);
        }
        json_object_set_new(fields, spec->fields[i].name,
                            value_json(&oc->values[i]));
    }
    if (fields != NULL)
        v = json_pack("{s:I, s:I, s:{s:s, s:o}}", "reservation_id",
                      (json_int_t)o->reservation_id, "epoch",
                      (json_int_t)o->epoch, "outcome", "code", spec->code,
                      "fields", fields);
    if (v != NULL && confidence >= 0 &&
        json_object_set_new(v, "confidence", json_integer(confidence)) != 0) {
        json_decref(v);
        v = NULL;
    }
    return finish(v, out, len, e);
}

status agent_msg_complete(const agent_offer *o, const agent_outcome *oc,
                          char **out, size_t *len, err *e)
{
    return complete_msg(o, oc, -1, out, len, e);
}

status agent_msg_complete_confidence(const agent_offer *o,
                                     const agent_outcome *oc, int confidence,
                                     char **out, size_t *len, err *e)
{
    if (confidence < 0 || confidence > AGENT_CONFIDENCE_MAX)
        return err_set(e, ST_INVALID,
                       "confidence must be between 0 and 1000 (got %d)",
                       confidence);
    return complete_msg(o, oc, confidence, out, len, e);
}

status agent_msg_complete_decode(const char *buf, size_t len,
                                 agent_completion *out, err *e)
{
    agent_completion c;
    json_t *root = NULL, *outcome, *fields;
    int64_t conf;
    status s = request_parse(buf, len, complete_fields, 4, &root, e);

    if (s != ST_OK)
        return s;
    memset(&c, 0, sizeof(c));
    c.confidence = -1;
    s = answer_ids(root, &c.reservation_id, &c.epoch, e);
    if (s == ST_OK && json_object_get(root, "confidence") != NULL) {
        if (!jsonx_int(root, "confidence", &conf) || conf < 0 ||
            conf > AGENT_CONFIDENCE_MAX)
            s = err_set(e, ST_INVALID,
                        "request.confidence must be an integer from 0 to 1000 "
                        "(per mille)");
        else
            c.confidence = (int)conf;
    }
    outcome = json_object_get(root, "outcome");
    if (s == ST_OK)
        s = jsonx_check(outcome, "request.outcome", outcome_fields, 2, e);
    if (s != ST_OK)
        goto out;
    snprintf(c.code, sizeof(c.code), "%s", jsonx_str(outcome, "code"));
    fields = json_object_get(outcome, "fields");
    c.fields_json = fields != NULL ? jsonx_dump(fields) : strdup("{}");
    if (c.fields_json == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    if (fields != NULL)
        c.fields = json_incref(fields);
    *out = c;
out:
    json_decref(root);
    return s;
}

void agent_completion_release(agent_completion *c)
{
    json_decref(c->fields);
    free(c->fields_json);
    c->fields = NULL;
    c->fields_json = NULL;
}

status agent_msg_feedback(const agent_offer *o, const agent_feedback_event *ev,
                          int n, char **out, size_t *len, err *e)
{
    json_t *events, *v = NULL;

    if (n < 1 || n > AGENT_FEEDBACK_MAX)
        return err_set(e, ST_INVALID, "a feedback request holds 1-%d events",
                       AGENT_FEEDBACK_MAX);
    events = json_array();
    for (int i = 0; events != NULL && i < n; i++) {
        if (json_array_append_new(events, json_pack("{s:s, s:s}", "suggestion",
                                                    ev[i].suggestion, "action",
                                                    ev[i].action)) != 0) {
            json_decref(events);
            events = NULL;
        }
    }
    if (events != NULL)
        v = json_pack("{s:I, s:I, s:o}", "task_id", (json_int_t)o->task_id,
                      "reservation_id", (json_int_t)o->reservation_id, "events",
                      events);
    return finish(v, out, len, e);
}

/* The kind of a suggestion id, or NULL when it is malformed. */
static const char *suggestion_kind(const char *s)
{
    if (strcmp(s, "reply") == 0)
        return "reply";
    if (strcmp(s, "model") == 0)
        return "model";
    if (strncmp(s, "passage:", 8) == 0 && ids_token_valid(s + 8))
        return "passage";
    return NULL;
}

static bool action_valid(const char *a)
{
    for (size_t i = 0; i < sizeof(feedback_actions) / sizeof(*feedback_actions);
         i++)
        if (strcmp(a, feedback_actions[i]) == 0)
            return true;
    return false;
}

static status feedback_events(const json_t *events, agent_feedback *f, err *e)
{
    size_t n = json_array_size(events);
    char where[48];
    status s;

    if (n == 0 || n > AGENT_FEEDBACK_MAX)
        return err_set(e, ST_INVALID,
                       "request.events must hold 1 to %d events, not %zu",
                       AGENT_FEEDBACK_MAX, n);
    for (size_t i = 0; i < n; i++) {
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
        kind = strlen(sg) <= AGENT_SUGGESTION_MAX ? suggestion_kind(sg) : NULL;
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
        snprintf(f->events[i].suggestion, sizeof(f->events[i].suggestion), "%s",
                 sg);
        snprintf(f->events[i].action, sizeof(f->events[i].action), "%s", ac);
        f->kinds[i] = kind;
    }
    f->nevents = (int)n;
    return ST_OK;
}

status agent_msg_feedback_decode(const char *buf, size_t len,
                                 agent_feedback *out, err *e)
{
    json_t *root = NULL;
    status s = request_parse(buf, len, feedback_fields, 3, &root, e);

    if (s != ST_OK)
        return s;
    out->task_id = 0;
    out->reservation_id = 0;
    out->nevents = 0;
    jsonx_int(root, "task_id", &out->task_id);
    jsonx_int(root, "reservation_id", &out->reservation_id);
    if (out->task_id <= 0 || out->reservation_id <= 0)
        s = err_set(e, ST_INVALID,
                    "request.task_id and request.reservation_id must be "
                    "positive integers from the offer");
    if (s == ST_OK)
        s = feedback_events(json_object_get(root, "events"), out, e);
    json_decref(root);
    return s;
}

/* ---- Dispatcher -> agent ---- */

status agent_offer_encode(const agent_offer *o, const char *outcomes_json,
                          const char *task_json, char **out, size_t *len,
                          err *e)
{
    const char *const ids[] = {o->tenant, o->case_type, o->step, o->channel};
    char *task = NULL, *body;
    size_t cap;
    status s;

    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        if (!ids_token_valid(ids[i]))
            return err_set(e, ST_INVALID,
                           "offer of reservation %lld: \"%.80s\" is not an "
                           "identifier",
                           (long long)o->reservation_id, ids[i]);
    if (!looks_like_object(outcomes_json))
        return err_set(e, ST_INVALID,
                       "offer of reservation %lld: the outcome table is not "
                       "a JSON object",
                       (long long)o->reservation_id);
    if (task_json != NULL) {
        /* The task as the database built it, in compact form. */
        json_t *t = json_loads(task_json, 0, NULL);
        task = json_is_object(t) ? jsonx_dump(t) : NULL;
        json_decref(t);
        if (task == NULL)
            return err_set(e, ST_INVALID,
                           "auto-accepted reservation %lld has no task view",
                           (long long)o->reservation_id);
    }
    cap = 512 + 4 * ID_MAX + strlen(outcomes_json) +
          (task != NULL ? strlen(task) : 0);
    s = printed(&body, len, e, cap,
                "{\"type\":\"offer\",\"reservation_id\":%lld,\"epoch\":%lld,"
                "\"task_id\":%lld,\"case_id\":%lld,\"tenant\":\"%s\","
                "\"case_type\":\"%s\",\"step\":\"%s\",\"channel\":\"%s\","
                "\"timeout_ms\":%lld,\"ready_at_us\":%lld,\"outcomes\":%s"
                "%s%s}",
                (long long)o->reservation_id, (long long)o->epoch,
                (long long)o->task_id, (long long)o->case_id, o->tenant,
                o->case_type, o->step, o->channel, (long long)o->timeout_ms,
                (long long)o->ready_at_us, outcomes_json,
                task != NULL ? ",\"auto_accepted\":true,\"task\":" : "",
                task != NULL ? task : "");
    free(task);
    if (s == ST_OK)
        *out = body;
    return s;
}

/* A required member that must be an integer of at least min. */
static status want_int(const json_t *o, const char *where, const char *name,
                       int64_t min, int64_t *out, err *e)
{
    const json_t *v = json_object_get(o, name);

    if (v == NULL)
        return err_set(e, ST_MISSING_FIELD, "%s lacks required field \"%s\"",
                       where, name);
    if (!json_is_integer(v))
        return err_set(e, ST_WRONG_TYPE, "%s.%s must be an integer", where,
                       name);
    if ((int64_t)json_integer_value(v) < min)
        return err_set(e, ST_INVALID, "%s.%s must be at least %lld", where,
                       name, (long long)min);
    *out = (int64_t)json_integer_value(v);
    return ST_OK;
}

/* A required member that must be an identifier; copied into out. */
static status want_token(const json_t *o, const char *where, const char *name,
                         char *out, err *e)
{
    const json_t *v = json_object_get(o, name);

    if (v == NULL)
        return err_set(e, ST_MISSING_FIELD, "%s lacks required field \"%s\"",
                       where, name);
    if (!json_is_string(v))
        return err_set(e, ST_WRONG_TYPE, "%s.%s must be a string", where, name);
    if (!ids_token_valid(json_string_value(v)))
        return err_set(e, ST_INVALID,
                       "%s.%s must be 1-64 characters of letters, digits, "
                       "'_' or '-'",
                       where, name);
    snprintf(out, ID_MAX + 1, "%s", json_string_value(v));
    return ST_OK;
}

static status parse_outcome(const char *code, const json_t *spec,
                            agent_outcome_spec *out, err *e)
{
    const json_t *billable, *fields, *type;
    const char *fname;

    if (!ids_token_valid(code))
        return err_set(e, ST_INVALID,
                       "offer.outcomes has a code that is not an identifier");
    if (!json_is_object(spec))
        return err_set(e, ST_WRONG_TYPE, "offer.outcomes.%s must be an object",
                       code);
    billable = json_object_get(spec, "billable");
    fields = json_object_get(spec, "fields");
    if (billable != NULL && !json_is_boolean(billable))
        return err_set(e, ST_WRONG_TYPE,
                       "offer.outcomes.%s.billable must be true or false",
                       code);
    if (fields != NULL && !json_is_object(fields))
        return err_set(e, ST_WRONG_TYPE,
                       "offer.outcomes.%s.fields must be an object", code);
    memset(out, 0, sizeof(*out));
    snprintf(out->code, sizeof(out->code), "%s", code);
    out->billable = json_is_true(billable);
    if (fields == NULL)
        return ST_OK;
    if (json_object_size(fields) > AGENT_MAX_FIELDS)
        return err_set(e, ST_TOO_LARGE,
                       "offer.outcomes.%s lists %zu fields; at most %d are "
                       "supported",
                       code, json_object_size(fields), AGENT_MAX_FIELDS);
    json_object_foreach((json_t *)fields, fname, type)
    {
        agent_field_spec *f = &out->fields[out->nfields];

        if (!ids_token_valid(fname))
            return err_set(e, ST_INVALID,
                           "offer.outcomes.%s.fields has a name that is not "
                           "an identifier",
                           code);
        if (!agent_field_type_parse(json_string_value(type), &f->type))
            return err_set(e, ST_INVALID,
                           "offer.outcomes.%s.fields.%s must be one of "
                           "amount_minor, int, date, string, bool",
                           code, fname);
        snprintf(f->name, sizeof(f->name), "%s", fname);
        out->nfields++;
    }
    return ST_OK;
}

status agent_offer_parse(const char *buf, size_t len, agent_offer *out, err *e)
{
    json_t *o = NULL, *outcomes, *spec;
    const char *type, *code;
    agent_offer r;
    status s;

    memset(&r, 0, sizeof(r));
    s = jsonx_parse(buf, len, AGENT_MSG_MAX, &o, e);
    if (s != ST_OK)
        goto out;
    type = jsonx_str(o, "type");
    if (type == NULL || strcmp(type, "offer") != 0) {
        s = err_set(e, ST_INVALID, "offer.type must be \"offer\"");
        goto out;
    }
    if ((s = want_int(o, "offer", "reservation_id", 1, &r.reservation_id, e)) !=
            ST_OK ||
        (s = want_int(o, "offer", "epoch", 0, &r.epoch, e)) != ST_OK ||
        (s = want_int(o, "offer", "task_id", 1, &r.task_id, e)) != ST_OK ||
        (s = want_int(o, "offer", "case_id", 1, &r.case_id, e)) != ST_OK ||
        (s = want_int(o, "offer", "timeout_ms", 1, &r.timeout_ms, e)) !=
            ST_OK ||
        (s = want_int(o, "offer", "ready_at_us", 0, &r.ready_at_us, e)) !=
            ST_OK ||
        (s = want_token(o, "offer", "tenant", r.tenant, e)) != ST_OK ||
        (s = want_token(o, "offer", "case_type", r.case_type, e)) != ST_OK ||
        (s = want_token(o, "offer", "step", r.step, e)) != ST_OK ||
        (s = want_token(o, "offer", "channel", r.channel, e)) != ST_OK)
        goto out;
    outcomes = json_object_get(o, "outcomes");
    if (outcomes == NULL) {
        s = err_set(e, ST_MISSING_FIELD,
                    "offer lacks required field \"outcomes\"");
        goto out;
    }
    if (!json_is_object(outcomes)) {
        s = err_set(e, ST_WRONG_TYPE, "offer.outcomes must be an object");
        goto out;
    }
    if (json_object_size(outcomes) == 0 ||
        json_object_size(outcomes) > AGENT_MAX_OUTCOMES) {
        s = err_set(e, ST_INVALID,
                    "offer.outcomes lists %zu codes; expected 1 to %d",
                    json_object_size(outcomes), AGENT_MAX_OUTCOMES);
        goto out;
    }
    json_object_foreach(outcomes, code, spec)
    {
        s = parse_outcome(code, spec, &r.outcomes[r.noutcomes], e);
        if (s != ST_OK)
            goto out;
        r.noutcomes++;
    }
    r.auto_accepted = json_is_true(json_object_get(o, "auto_accepted"));
    *out = r;
out:
    json_decref(o);
    return s;
}

status agent_notice_encode(int64_t reservation_id, const char *reason,
                           char **out, size_t *len, err *e)
{
    if (reason == NULL || !ids_token_valid(reason))
        return err_set(e, ST_INVALID,
                       "a notice's reason is an identifier, not \"%.80s\"",
                       reason != NULL ? reason : "");
    return printed(out, len, e, 128 + ID_MAX,
                   "{\"type\":\"rescinded\",\"reservation_id\":%lld,"
                   "\"reason\":\"%s\"}",
                   (long long)reservation_id, reason);
}

/* The members of a session_replaced notice; "by" is optional and read
 * leniently (its unknown members are ignored), like every message the
 * dispatcher sends. */
static status notice_session_read(const json_t *o, agent_notice *r, err *e)
{
    const char *sid = jsonx_str(o, "session_id");
    const json_t *by = json_object_get(o, "by");
    const char *since;

    if (!ids_token_valid(sid))
        return err_set(e, ST_INVALID,
                       "notice.session_id must be a session id (an "
                       "identifier)");
    snprintf(r->session_id, sizeof(r->session_id), "%s", sid);
    if (by == NULL || json_is_null(by))
        return ST_OK;
    if (!json_is_object(by))
        return err_set(e, ST_WRONG_TYPE, "notice.by must be an object");
    {
        agent_signin si;
        const char *id = jsonx_str(by, "id"), *host = jsonx_str(by, "host");

        memset(&si, 0, sizeof(si));
        snprintf(si.id, sizeof(si.id), "%s",
                 id != NULL && strlen(id) <= ID_MAX ? id : "");
        snprintf(si.host, sizeof(si.host), "%s",
                 host != NULL && strlen(host) <= AGENT_HOST_MAX ? host : "");
        jsonx_int(by, "pid", &si.pid);
        if (signin_check(&si, "notice.by", e) != ST_OK)
            return ST_INVALID;
        r->by = si;
        r->has_by = true;
    }
    since = jsonx_str(by, "since");
    if (since != NULL && strlen(since) <= AGENT_SINCE_MAX &&
        strspn(since, "0123456789-:TZ.+") == strlen(since))
        snprintf(r->by_since, sizeof(r->by_since), "%s", since);
    return ST_OK;
}

status agent_notice_session_encode(const char *old_session,
                                   const agent_signin *by, const char *since,
                                   char **out, size_t *len, err *e)
{
    json_t *v, *b = NULL;
    status s;

    if (!ids_token_valid(old_session))
        return err_set(e, ST_INVALID,
                       "a session id must be 1-64 characters of letters, "
                       "digits, '_' or '-'");
    if (by != NULL && (s = signin_check(by, "by", e)) != ST_OK)
        return s;
    v = json_pack("{s:s, s:s}", "type", "session_replaced", "session_id",
                  old_session);
    if (v != NULL && by != NULL) {
        b = signin_json(by);
        if (b != NULL && since != NULL)
            json_object_set_new(b, "since", json_string(since));
        json_object_set_new(v, "by", b);
    }
    return finish(v, out, len, e);
}

/* At most cap - 1 bytes of src into dst, cut before a UTF-8 sequence
 * rather than inside one. */
static void utf8_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);

    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

status agent_notice_signout_encode(const char *session, const char *reason,
                                   const char *note, char **out, size_t *len,
                                   err *e)
{
    char cut[AGENT_NOTE_MAX + 1];
    json_t *v;

    if (reason == NULL || !ids_token_valid(reason))
        return err_set(e, ST_INVALID,
                       "a notice's reason is an identifier, not \"%.80s\"",
                       reason != NULL ? reason : "");
    if (session != NULL && session[0] != '\0' && !ids_token_valid(session))
        return err_set(e, ST_INVALID, "a session id must be an identifier");
    utf8_copy(cut, sizeof(cut), note != NULL ? note : "");
    v = json_pack("{s:s, s:s, s:s}", "type", "signed_out", "reason", reason,
                  "note", cut);
    if (v != NULL && session != NULL && session[0] != '\0')
        json_object_set_new(v, "session_id", json_string(session));
    return finish(v, out, len, e);
}

status agent_notice_callup_encode(int64_t callup_id, const char *pool,
                                  const char *skill, int64_t deadline_ms,
                                  const char *note, char **out, size_t *len,
                                  err *e)
{
    char cut[AGENT_NOTE_MAX + 1];

    if (callup_id < 1 || !ids_token_valid(pool) || !ids_token_valid(skill))
        return err_set(e, ST_INVALID,
                       "a call-up notice needs an id, a pool and a skill");
    utf8_copy(cut, sizeof(cut), note != NULL ? note : "");
    return finish(json_pack("{s:s, s:I, s:s, s:s, s:I, s:s}", "type", "callup",
                            "callup_id", (json_int_t)callup_id, "pool", pool,
                            "skill", skill, "deadline_ms",
                            (json_int_t)deadline_ms, "note", cut),
                  out, len, e);
}

status agent_notice_callup_release_encode(int64_t callup_id, const char *note,
                                          char **out, size_t *len, err *e)
{
    char cut[AGENT_NOTE_MAX + 1];

    if (callup_id < 1)
        return err_set(e, ST_INVALID, "a call-up release needs an id");
    utf8_copy(cut, sizeof(cut), note != NULL ? note : "");
    return finish(json_pack("{s:s, s:I, s:s}", "type", "callup_release",
                            "callup_id", (json_int_t)callup_id, "note", cut),
                  out, len, e);
}

status agent_msg_callup_encode(const agent_callup_answer *a, char **out,
                               size_t *len, err *e)
{
    if (a->callup_id < 1)
        return err_set(e, ST_INVALID, "a call-up answer needs its id");
    return finish(json_pack("{s:I, s:s}", "callup_id", (json_int_t)a->callup_id,
                            "answer", a->accept ? "accept" : "decline"),
                  out, len, e);
}

status agent_msg_callup_decode(const char *buf, size_t len,
                               agent_callup_answer *out, err *e)
{
    static const jfield fields[] = {{"callup_id", JF_INT, true},
                                    {"answer", JF_STRING, true}};
    json_t *root = NULL;
    const char *ans;
    int64_t id = 0;
    status s = request_parse(buf, len, fields, 2, &root, e);

    if (s != ST_OK)
        return s;
    (void)jsonx_int(root, "callup_id", &id);
    ans = jsonx_str(root, "answer");
    if (id < 1)
        s = err_set(e, ST_INVALID, "request.callup_id must be > 0");
    else if (strcmp(ans, "accept") != 0 && strcmp(ans, "decline") != 0)
        s = err_set(e, ST_INVALID,
                    "request.answer must be \"accept\" or \"decline\"");
    if (s == ST_OK) {
        out->callup_id = id;
        out->accept = strcmp(ans, "accept") == 0;
    }
    json_decref(root);
    return s;
}

status agent_notice_parse(const char *buf, size_t len, agent_notice *out,
                          err *e)
{
    json_t *o = NULL;
    const char *type, *reason;
    agent_notice r;
    status s;

    memset(&r, 0, sizeof(r));
    s = jsonx_parse(buf, len, AGENT_MSG_MAX, &o, e);
    if (s != ST_OK)
        goto out;
    type = jsonx_str(o, "type");
    if (type == NULL) {
        s = err_set(e, ST_MISSING_FIELD, "notice lacks a string \"type\"");
        goto out;
    }
    r.type = strcmp(type, "rescinded") == 0 ? AGENT_NOTICE_RESCINDED
             : strcmp(type, "session_replaced") == 0
                 ? AGENT_NOTICE_SESSION_REPLACED
             : strcmp(type, "signed_out") == 0     ? AGENT_NOTICE_SIGNED_OUT
             : strcmp(type, "callup") == 0         ? AGENT_NOTICE_CALLUP
             : strcmp(type, "callup_release") == 0 ? AGENT_NOTICE_CALLUP_RELEASE
                                                   : AGENT_NOTICE_OTHER;
    if (r.type == AGENT_NOTICE_CALLUP ||
        r.type == AGENT_NOTICE_CALLUP_RELEASE) {
        const char *pool = jsonx_str(o, "pool"), *skill = jsonx_str(o, "skill");
        const char *note = jsonx_str(o, "note");

        if (!jsonx_int(o, "callup_id", &r.callup_id) || r.callup_id < 1) {
            s = err_set(e, ST_INVALID,
                        "notice.callup_id must be a positive integer");
            goto out;
        }
        (void)jsonx_int(o, "deadline_ms", &r.deadline_ms);
        if (pool != NULL && ids_token_valid(pool))
            snprintf(r.pool, sizeof(r.pool), "%s", pool);
        if (skill != NULL && ids_token_valid(skill))
            snprintf(r.skill, sizeof(r.skill), "%s", skill);
        utf8_copy(r.note, sizeof(r.note), note != NULL ? note : "");
    }
    if (r.type == AGENT_NOTICE_SIGNED_OUT) {
        const char *sid = jsonx_str(o, "session_id");
        const char *note = jsonx_str(o, "note");

        if (sid != NULL && ids_token_valid(sid))
            snprintf(r.session_id, sizeof(r.session_id), "%s", sid);
        utf8_copy(r.note, sizeof(r.note), note != NULL ? note : "");
    }
    if (r.type == AGENT_NOTICE_SESSION_REPLACED) {
        s = notice_session_read(o, &r, e);
        if (s != ST_OK)
            goto out;
    }
    if (r.type == AGENT_NOTICE_RESCINDED &&
        (!jsonx_int(o, "reservation_id", &r.reservation_id) ||
         r.reservation_id < 1)) {
        s = err_set(e, ST_INVALID,
                    "notice.reservation_id must be a positive integer");
        goto out;
    }
    reason = jsonx_str(o, "reason");
    snprintf(r.reason, sizeof(r.reason), "%s", reason != NULL ? reason : "");
    *out = r;
out:
    json_decref(o);
    return s;
}

/* ---- Replies ---- */

status agent_reply_ok(char **out, size_t *len, err *e)
{
    return printed(out, len, e, 16, "{\"ok\":true}");
}

status agent_reply_heartbeat(const int64_t *unknown, int n, char **out,
                             size_t *len, err *e)
{
    json_t *root, *arr;

    if (n == 0)
        return agent_reply_ok(out, len, e);
    root = json_pack("{s:b}", "ok", 1);
    arr = json_array();
    for (int i = 0; root != NULL && arr != NULL && i < n; i++)
        if (json_array_append_new(arr, json_integer((json_int_t)unknown[i])) !=
            0)
            break;
    if (root != NULL && arr != NULL &&
        json_object_set_new(root, "unknown", arr) == 0)
        arr = NULL;
    json_decref(arr);
    return finish(root, out, len, e);
}

status agent_reply_heartbeat_parse(const char *buf, size_t len,
                                   int64_t *unknown, int *n, err *e)
{
    json_t *root = NULL, *arr;
    status s = jsonx_parse(buf, len, AGENT_MSG_MAX, &root, e);

    *n = 0;
    if (s != ST_OK)
        return s;
    arr = json_object_get(root, "unknown");
    if (json_is_array(arr))
        s = id_array(arr, "reply.unknown", unknown, n, e);
    json_decref(root);
    return s;
}

status agent_reply_presence(agent_presence p, const char *slots_json,
                            char **out, size_t *len, err *e)
{
    if (slots_json == NULL)
        return printed(out, len, e, 64, "{\"ok\":true,\"presence\":\"%s\"}",
                       agent_presence_name(p));
    if (!looks_like_object(slots_json))
        return err_set(e, ST_INVALID,
                       "the slots of a presence reply are not a JSON object");
    return printed(out, len, e, strlen(slots_json) + 64,
                   "{\"ok\":true,\"presence\":\"%s\",\"slots\":%s}",
                   agent_presence_name(p), slots_json);
}

/* The slots of a presence reply: channel -> a count 0..1000; entries of
 * another shape are skipped (the reply is the dispatcher's). */
static void slots_read(const json_t *slots, agent_reply *r)
{
    const char *ch;
    json_t *v;

    json_object_foreach((json_t *)slots, ch, v)
    {
        if (r->nslots == AGENT_SLOTS_MAX)
            break;
        if (!ids_token_valid(ch) || !json_is_integer(v) ||
            json_integer_value(v) < 0 || json_integer_value(v) > 1000)
            continue;
        snprintf(r->slot_channel[r->nslots], ID_MAX + 1, "%s", ch);
        r->slot_count[r->nslots++] = (int)json_integer_value(v);
    }
}

status agent_reply_task(const char *task_json, char **out, size_t *len, err *e)
{
    if (!looks_like_object(task_json))
        return err_set(e, ST_INVALID,
                       "the task of an accept reply is not a "
                       "JSON object");
    return printed(out, len, e, strlen(task_json) + 32,
                   "{\"ok\":true,\"task\":%s}", task_json);
}

status agent_reply_complete(int64_t outcome_id, bool billable, bool duplicate,
                            char **out, size_t *len, err *e)
{
    return printed(out, len, e, 128,
                   "{\"ok\":true,\"outcome_id\":%lld,\"billable\":%s,"
                   "\"duplicate\":%s}",
                   (long long)outcome_id, billable ? "true" : "false",
                   duplicate ? "true" : "false");
}

status agent_reply_conflict(int64_t reservation_id, int64_t outcome_id,
                            const char *code, const char *fields_json,
                            const char *refused_code, char **out, size_t *len,
                            err *e)
{
    char msg[512];
    json_t *fields = json_loads(fields_json, JSON_REJECT_DUPLICATES, NULL);
    json_t *o = NULL;
    char *body;

    if (!json_is_object(fields)) {
        json_decref(fields);
        return err_set(e, ST_INVALID,
                       "the standing outcome's fields are not a JSON object");
    }
    snprintf(msg, sizeof(msg),
             "reservation %lld was already completed with outcome %s "
             "(outcome %lld), which stands; this different completion (%s) "
             "was refused and changed nothing",
             (long long)reservation_id, code, (long long)outcome_id,
             refused_code);
    o = json_pack("{s:b, s:{s:s, s:s, s:{s:I, s:s, s:o}}}", "ok", 0, "error",
                  "code", status_code(ST_CONFLICT), "message", msg, "outcome",
                  "outcome_id", (json_int_t)outcome_id, "code", code, "fields",
                  fields);
    body = o != NULL ? jsonx_dump(o) : NULL;
    json_decref(o);
    if (body == NULL)
        return err_set(e, ST_NOMEM, "out of memory building a message");
    *out = body;
    *len = strlen(body);
    return ST_OK;
}

status agent_reply_feedback(int64_t stored, char **out, size_t *len, err *e)
{
    return printed(out, len, e, 64, "{\"ok\":true,\"stored\":%lld}",
                   (long long)stored);
}

status agent_reply_parse(const char *buf, size_t len, agent_reply *out, err *e)
{
    json_t *o = NULL, *ok, *error;
    agent_reply r;
    status s;

    memset(&r, 0, sizeof(r));
    if (len == 0)
        return err_set(e, ST_UNAVAILABLE, "no dispatcher answers");
    s = jsonx_parse(buf, len, AGENT_REPLY_MAX, &o, e);
    if (s != ST_OK)
        goto out;
    ok = json_object_get(o, "ok");
    if (!json_is_boolean(ok)) {
        s = err_set(e, ST_WRONG_TYPE, "reply.ok must be true or false");
        goto out;
    }
    r.ok = json_is_true(ok);
    if (r.ok) {
        const char *p = jsonx_str(o, "presence");

        jsonx_int(o, "outcome_id", &r.outcome_id);
        jsonx_int(o, "stored", &r.stored);
        r.billable = json_is_true(json_object_get(o, "billable"));
        r.duplicate = json_is_true(json_object_get(o, "duplicate"));
        snprintf(r.presence, sizeof(r.presence), "%s", p != NULL ? p : "");
        if (json_is_object(json_object_get(o, "slots")))
            slots_read(json_object_get(o, "slots"), &r);
    } else {
        const char *code, *msg;

        error = json_object_get(o, "error");
        code = jsonx_str(error, "code");
        msg = jsonx_str(error, "message");
        snprintf(r.code, sizeof(r.code), "%s",
                 code != NULL ? code : "internal");
        snprintf(r.message, sizeof(r.message), "%s", msg != NULL ? msg : "");
        if (strcmp(r.code, status_code(ST_CONFLICT)) == 0) {
            json_t *stands = json_object_get(error, "outcome");
            const char *sc = jsonx_str(stands, "code");

            jsonx_int(stands, "outcome_id", &r.standing_outcome_id);
            snprintf(r.standing_code, sizeof(r.standing_code), "%s",
                     sc != NULL ? sc : "");
        }
    }
    *out = r;
out:
    json_decref(o);
    return s;
}

status agent_task_parse(const char *buf, size_t len, agent_task *out, err *e)
{
    json_t *o = NULL, *t;
    agent_task r;
    status s;

    memset(&r, 0, sizeof(r));
    s = jsonx_parse(buf, len, AGENT_REPLY_MAX, &o, e);
    if (s != ST_OK)
        goto out;
    t = json_object_get(o, "task");
    if (t == NULL) {
        s = err_set(e, ST_MISSING_FIELD, "reply lacks required field \"task\"");
        goto out;
    }
    if (!json_is_object(t)) {
        s = err_set(e, ST_WRONG_TYPE, "reply.task must be an object");
        goto out;
    }
    if ((s = want_int(t, "task", "reservation_id", 1, &r.reservation_id, e)) !=
            ST_OK ||
        (s = want_int(t, "task", "epoch", 0, &r.epoch, e)) != ST_OK ||
        (s = want_int(t, "task", "task_id", 1, &r.task_id, e)) != ST_OK ||
        (s = want_int(t, "task", "case_id", 1, &r.case_id, e)) != ST_OK ||
        (s = want_token(t, "task", "tenant", r.tenant, e)) != ST_OK ||
        (s = want_token(t, "task", "case_type", r.case_type, e)) != ST_OK ||
        (s = want_token(t, "task", "step", r.step, e)) != ST_OK)
        goto out;
    *out = r;
out:
    json_decref(o);
    return s;
}

/* ---- accept_many, complete_many ---- */

static status many(const char *member, char *const *items, int n, char **out,
                   size_t *len, err *e)
{
    if (n < 1 || n > AGENT_MANY_MAX)
        return err_set(e, ST_INVALID, "a bulk request carries 1 to %d items",
                       AGENT_MANY_MAX);
    return many_msg_encode(member, items, n, out, len, e);
}

status agent_msg_accept_many(char *const *accepts, int n, char **out,
                             size_t *len, err *e)
{
    return many("accepts", accepts, n, out, len, e);
}

status agent_msg_accept_many_decode(const char *buf, size_t len, many_list *out,
                                    err *e)
{
    return many_msg_split(buf, len, AGENT_MANY_BYTES, "accepts", AGENT_MANY_MAX,
                          out, e);
}

status agent_msg_complete_many(char *const *completions, int n, char **out,
                               size_t *len, err *e)
{
    return many("completions", completions, n, out, len, e);
}

status agent_msg_complete_many_decode(const char *buf, size_t len,
                                      many_list *out, err *e)
{
    return many_msg_split(buf, len, AGENT_MANY_BYTES, "completions",
                          AGENT_MANY_MAX, out, e);
}
