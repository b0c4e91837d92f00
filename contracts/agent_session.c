#include "agent_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"

#define AMOUNT_MAX 1000000000000000LL /* 10^15 minor units */

struct agent_session {
    char worker[ID_MAX + 1];
    agent_presence presence;
    agent_item **items; /* each item is its own allocation, so it stays put */
    int nitems;
    int cap;
};

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

/* A required member that must be an integer of at least min. */
static status want_int(const json_t *o, const char *name, int64_t min,
                       int64_t *out, err *e)
{
    const json_t *v = json_object_get(o, name);

    if (v == NULL)
        return err_set(e, ST_MISSING_FIELD, "offer lacks required field \"%s\"",
                       name);
    if (!json_is_integer(v))
        return err_set(e, ST_WRONG_TYPE, "offer.%s must be an integer", name);
    if ((int64_t)json_integer_value(v) < min)
        return err_set(e, ST_INVALID, "offer.%s must be at least %lld", name,
                       (long long)min);
    *out = (int64_t)json_integer_value(v);
    return ST_OK;
}

/* A required member that must be an identifier; copied into out. */
static status want_token(const json_t *o, const char *name, char *out, err *e)
{
    const json_t *v = json_object_get(o, name);

    if (v == NULL)
        return err_set(e, ST_MISSING_FIELD, "offer lacks required field \"%s\"",
                       name);
    if (!json_is_string(v))
        return err_set(e, ST_WRONG_TYPE, "offer.%s must be a string", name);
    if (!ids_token_valid(json_string_value(v)))
        return err_set(e, ST_INVALID,
                       "offer.%s must be 1-64 characters of letters, digits, "
                       "'_' or '-'",
                       name);
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
    if ((s = want_int(o, "reservation_id", 1, &r.reservation_id, e)) != ST_OK ||
        (s = want_int(o, "epoch", 0, &r.epoch, e)) != ST_OK ||
        (s = want_int(o, "task_id", 1, &r.task_id, e)) != ST_OK ||
        (s = want_int(o, "case_id", 1, &r.case_id, e)) != ST_OK ||
        (s = want_int(o, "timeout_ms", 1, &r.timeout_ms, e)) != ST_OK ||
        (s = want_int(o, "ready_at_us", 0, &r.ready_at_us, e)) != ST_OK ||
        (s = want_token(o, "tenant", r.tenant, e)) != ST_OK ||
        (s = want_token(o, "case_type", r.case_type, e)) != ST_OK ||
        (s = want_token(o, "step", r.step, e)) != ST_OK ||
        (s = want_token(o, "channel", r.channel, e)) != ST_OK)
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
    *out = r;
out:
    json_decref(o);
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
                                            : AGENT_NOTICE_OTHER;
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
        jsonx_int(o, "outcome_id", &r.outcome_id);
        r.duplicate = json_is_true(json_object_get(o, "duplicate"));
    } else {
        const char *code, *msg;

        error = json_object_get(o, "error");
        code = jsonx_str(error, "code");
        msg = jsonx_str(error, "message");
        snprintf(r.code, sizeof(r.code), "%s",
                 code != NULL ? code : "internal");
        snprintf(r.message, sizeof(r.message), "%s", msg != NULL ? msg : "");
    }
    *out = r;
out:
    json_decref(o);
    return s;
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

status agent_msg_presence(const char *presence, char **out, size_t *len, err *e)
{
    if (strcmp(presence, "available") != 0 && strcmp(presence, "break") != 0 &&
        strcmp(presence, "offline") != 0)
        return err_set(e, ST_INVALID,
                       "presence \"%s\" must be available, break or offline",
                       presence);
    return finish(json_pack("{s:s}", "presence", presence), out, len, e);
}

status agent_msg_heartbeat(char **out, size_t *len, err *e)
{
    return finish(json_object(), out, len, e);
}

status agent_msg_accept(const agent_offer *o, char **out, size_t *len, err *e)
{
    return finish(json_pack("{s:I, s:I}", "reservation_id",
                            (json_int_t)o->reservation_id, "epoch",
                            (json_int_t)o->epoch),
                  out, len, e);
}

status agent_msg_reject(const agent_offer *o, const char *reason, char **out,
                        size_t *len, err *e)
{
    json_t *v =
        json_pack("{s:I, s:I}", "reservation_id", (json_int_t)o->reservation_id,
                  "epoch", (json_int_t)o->epoch);

    if (v != NULL && reason != NULL && reason[0] != '\0') {
        char cut[201];

        snprintf(cut, sizeof(cut), "%s", reason);
        json_object_set_new(v, "reason", json_string(cut));
    }
    return finish(v, out, len, e);
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
    if (confidence < 0 || confidence > 1000)
        return err_set(e, ST_INVALID,
                       "confidence must be between 0 and 1000 (got %d)",
                       confidence);
    return complete_msg(o, oc, confidence, out, len, e);
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

status agent_subject(char *buf, size_t cap, const char *prefix,
                     const char *worker, const char *verb, err *e)
{
    int n = snprintf(buf, cap, "%s.agent.%s.%s", prefix, worker, verb);

    if (n < 0 || (size_t)n >= cap)
        return err_set(e, ST_INVALID, "subject for %s is too long", worker);
    return ST_OK;
}

status agent_inbound_subject(char *buf, size_t cap, const char *prefix,
                             const char *worker, const char *kind, err *e)
{
    int n = snprintf(buf, cap, "%s.worker.%s.%s", prefix, worker, kind);

    if (n < 0 || (size_t)n >= cap)
        return err_set(e, ST_INVALID, "subject for %s is too long", worker);
    return ST_OK;
}

const char *agent_inbound_parse(const char *subject, const char *prefix,
                                char *worker)
{
    size_t plen = strlen(prefix);
    const char *w, *dot;

    if (strncmp(subject, prefix, plen) != 0 ||
        strncmp(subject + plen, ".worker.", 8) != 0)
        return NULL;
    w = subject + plen + 8;
    dot = strchr(w, '.');
    if (dot == NULL || dot == w || (size_t)(dot - w) > ID_MAX ||
        strchr(dot + 1, '.') != NULL || dot[1] == '\0')
        return NULL;
    memcpy(worker, w, (size_t)(dot - w));
    worker[dot - w] = '\0';
    return dot + 1;
}

status agent_session_create(agent_session **out, const char *worker, err *e)
{
    agent_session *s;

    if (!ids_token_valid(worker))
        return err_set(e, ST_INVALID,
                       "worker id \"%.80s\" must be 1-64 characters of "
                       "letters, digits, '_' or '-'",
                       worker);
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    snprintf(s->worker, sizeof(s->worker), "%s", worker);
    s->presence = AGENT_PRESENCE_OFFLINE;
    *out = s;
    return ST_OK;
}

static void item_free(agent_item *it)
{
    if (it == NULL)
        return;
    free(it->complete_body);
    free(it);
}

void agent_session_destroy(agent_session *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < s->nitems; i++)
        item_free(s->items[i]);
    free(s->items);
    free(s);
}

const char *agent_session_worker(const agent_session *s)
{
    return s->worker;
}

agent_presence agent_session_presence(const agent_session *s)
{
    return s->presence;
}

void agent_session_set_presence(agent_session *s, agent_presence p)
{
    s->presence = p;
}

status agent_session_offer_add(agent_session *s, const agent_offer *o,
                               int64_t now_mono_us, agent_item **out, err *e)
{
    agent_item *it;

    if (agent_session_find(s, o->reservation_id) != NULL)
        return err_set(e, ST_CONFLICT,
                       "worker %s already holds reservation "
                       "%lld",
                       s->worker, (long long)o->reservation_id);
    if (s->nitems == s->cap) {
        int cap = s->cap > 0 ? s->cap * 2 : 4;
        agent_item **grown = realloc(s->items, (size_t)cap * sizeof(*grown));

        if (grown == NULL)
            return err_set(e, ST_NOMEM, "out of memory");
        s->items = grown;
        s->cap = cap;
    }
    it = calloc(1, sizeof(*it));
    if (it == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    it->offer = *o;
    it->state = AGENT_ITEM_OFFERED;
    it->received_mono_us = now_mono_us;
    s->items[s->nitems++] = it;
    *out = it;
    return ST_OK;
}

agent_item *agent_session_find(agent_session *s, int64_t reservation_id)
{
    for (int i = 0; i < s->nitems; i++)
        if (s->items[i]->offer.reservation_id == reservation_id)
            return s->items[i];
    return NULL;
}

bool agent_session_remove(agent_session *s, int64_t reservation_id)
{
    for (int i = 0; i < s->nitems; i++) {
        if (s->items[i]->offer.reservation_id == reservation_id) {
            item_free(s->items[i]);
            s->items[i] = s->items[--s->nitems];
            return true;
        }
    }
    return false;
}

int agent_session_count(const agent_session *s)
{
    return s->nitems;
}

agent_item *agent_session_item(agent_session *s, int i)
{
    return s->items[i];
}
