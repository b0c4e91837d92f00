/* The operator's actions: requests, replies and audit details as JSON. */
#include "ops_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"

#define NFIELDS(f) ((int)(sizeof(f) / sizeof((f)[0])))

static const char *const verb_names[OPS_VERB_COUNT] = {
    [OPS_WORKER_DEACTIVATE] = "worker.deactivate",
    [OPS_WORKER_ACTIVATE] = "worker.activate",
    [OPS_WORKER_LOGOUT] = "worker.logout",
    [OPS_WORKER_SKILLS] = "worker.skills",
    [OPS_WORKER_POOL] = "worker.pool",
    [OPS_TASK_REASSIGN] = "task.reassign",
    [OPS_TASK_CANCEL] = "task.cancel",
    [OPS_CALLUP_INVITE] = "callup.invite",
    [OPS_CALLUP_RELEASE] = "callup.release",
};

const char *ops_verb_name(ops_verb v)
{
    return v >= 0 && v < OPS_VERB_COUNT ? verb_names[v] : "?";
}

bool ops_verb_parse(const char *name, ops_verb *out)
{
    for (int v = 0; name != NULL && v < OPS_VERB_COUNT; v++)
        if (strcmp(verb_names[v], name) == 0) {
            *out = (ops_verb)v;
            return true;
        }
    return false;
}

bool ops_verb_is_task(ops_verb v)
{
    return v == OPS_TASK_REASSIGN || v == OPS_TASK_CANCEL;
}

static status reason_check(const char *reason, err *e)
{
    size_t n = reason != NULL ? strlen(reason) : 0;

    if (n < 1 || n > OPS_REASON_MAX)
        return err_set(e, ST_INVALID,
                       "request.reason must be 1 to %d bytes: say why, for "
                       "the audit trail",
                       OPS_REASON_MAX);
    return ST_OK;
}

static status level_of(const json_t *o, const char *skill, const char *name,
                       bool required, int *out, err *e)
{
    const json_t *v = json_object_get(o, name);

    *out = 0;
    if (v == NULL && !required)
        return ST_OK;
    if (v == NULL)
        return err_set(e, ST_MISSING_FIELD, "request.skills.%s lacks \"%s\"",
                       skill, name);
    if (!json_is_integer(v))
        return err_set(e, ST_WRONG_TYPE,
                       "request.skills.%s.%s must be an integer", skill, name);
    if (json_integer_value(v) < 0 || json_integer_value(v) > OPS_LEVEL_MAX)
        return err_set(e, ST_INVALID,
                       "request.skills.%s.%s must be from 0 to %d", skill, name,
                       OPS_LEVEL_MAX);
    *out = (int)json_integer_value(v);
    return ST_OK;
}

static status skills_read(const json_t *o, ops_req *r, err *e)
{
    static const jfield fields[] = {{"level", JF_INT, true},
                                    {"ai_level", JF_INT, false}};
    const char *name;
    const json_t *v;
    status s = ST_OK;

    if (json_object_size(o) > OPS_SKILLS_MAX)
        return err_set(e, ST_INVALID,
                       "request.skills has %zu skills; at most %d",
                       json_object_size(o), OPS_SKILLS_MAX);
    json_object_foreach((json_t *)o, name, v)
    {
        ops_skill *k = &r->skills[r->nskills];
        char where[96];

        if (!ids_token_valid(name))
            return err_set(e, ST_INVALID,
                           "request.skills: \"%.64s\" is not a skill name "
                           "(1-64 letters, digits, '_' or '-')",
                           name);
        if (!json_is_object(v))
            return err_set(e, ST_WRONG_TYPE,
                           "request.skills.%s must be an object with level "
                           "and ai_level",
                           name);
        snprintf(where, sizeof(where), "request.skills.%s", name);
        s = jsonx_check(v, where, fields, NFIELDS(fields), e);
        if (s == ST_OK)
            s = level_of(v, name, "level", true, &k->level, e);
        if (s == ST_OK)
            s = level_of(v, name, "ai_level", false, &k->ai_level, e);
        if (s != ST_OK)
            return s;
        snprintf(k->skill, sizeof(k->skill), "%s", name);
        r->nskills++;
    }
    return ST_OK;
}

status ops_msg_decode(ops_verb v, const char *buf, size_t len, ops_req *out,
                      err *e)
{
    static const jfield worker_f[] = {{"worker", JF_TOKEN, true},
                                      {"reason", JF_STRING, true}};
    static const jfield skills_f[] = {{"worker", JF_TOKEN, true},
                                      {"skills", JF_OBJECT, true},
                                      {"reason", JF_STRING, true}};
    static const jfield pool_f[] = {{"worker", JF_TOKEN, true},
                                    {"pool", JF_TOKEN, true},
                                    {"reason", JF_STRING, true}};
    static const jfield reassign_f[] = {{"task_id", JF_INT, true},
                                        {"worker", JF_ANY, false},
                                        {"reason", JF_STRING, true}};
    static const jfield cancel_f[] = {{"task_id", JF_INT, true},
                                      {"reason", JF_STRING, true}};
    static const jfield invite_f[] = {
        {"worker", JF_TOKEN, true}, {"pool", JF_TOKEN, true},
        {"skill", JF_TOKEN, true},  {"required", JF_INT, true},
        {"online", JF_INT, true},   {"answer_s", JF_INT, false},
        {"reason", JF_STRING, true}};
    const jfield *f = worker_f;
    int nf = NFIELDS(worker_f);
    json_t *root = NULL;
    ops_req r;
    status s;

    memset(&r, 0, sizeof(r));
    r.verb = v;
    switch (v) {
    case OPS_WORKER_SKILLS:
        f = skills_f, nf = NFIELDS(skills_f);
        break;
    case OPS_WORKER_POOL:
        f = pool_f, nf = NFIELDS(pool_f);
        break;
    case OPS_TASK_REASSIGN:
        f = reassign_f, nf = NFIELDS(reassign_f);
        break;
    case OPS_TASK_CANCEL:
        f = cancel_f, nf = NFIELDS(cancel_f);
        break;
    case OPS_CALLUP_INVITE:
        f = invite_f, nf = NFIELDS(invite_f);
        break;
    default:
        break;
    }
    s = jsonx_parse(buf, len, OPS_MSG_MAX, &root, e);
    if (s == ST_OK)
        s = jsonx_check(root, "request", f, nf, e);
    if (s != ST_OK)
        goto out;
    s = reason_check(jsonx_str(root, "reason"), e);
    if (s != ST_OK)
        goto out;
    snprintf(r.reason, sizeof(r.reason), "%s", jsonx_str(root, "reason"));
    if (ops_verb_is_task(v)) {
        const json_t *w = json_object_get(root, "worker");

        (void)jsonx_int(root, "task_id", &r.task_id);
        if (r.task_id <= 0) {
            s = err_set(e, ST_INVALID, "request.task_id must be > 0");
            goto out;
        }
        if (w != NULL && !json_is_null(w)) {
            if (!json_is_string(w) || !ids_token_valid(json_string_value(w))) {
                s = err_set(e, ST_INVALID,
                            "request.worker must be a worker id or null");
                goto out;
            }
            snprintf(r.worker, sizeof(r.worker), "%s", json_string_value(w));
        }
    } else {
        snprintf(r.worker, sizeof(r.worker), "%s", jsonx_str(root, "worker"));
    }
    if (v == OPS_WORKER_POOL || v == OPS_CALLUP_INVITE)
        snprintf(r.pool, sizeof(r.pool), "%s", jsonx_str(root, "pool"));
    if (v == OPS_CALLUP_INVITE) {
        int64_t req = -1, onl = -1, ans = 120;

        snprintf(r.skill, sizeof(r.skill), "%s", jsonx_str(root, "skill"));
        (void)jsonx_int(root, "required", &req);
        (void)jsonx_int(root, "online", &onl);
        (void)jsonx_int(root, "answer_s", &ans);
        if (req < 0 || req > 100000 || onl < 0 || onl > 100000 || ans < 10 ||
            ans > 3600) {
            s = err_set(e, ST_INVALID,
                        "request.required and online must be from 0 to "
                        "100000, answer_s from 10 to 3600");
            goto out;
        }
        r.required = (int)req;
        r.online = (int)onl;
        r.answer_s = (int)ans;
    }
    if (v == OPS_WORKER_SKILLS)
        s = skills_read(json_object_get(root, "skills"), &r, e);
    if (s == ST_OK)
        *out = r;
out:
    json_decref(root);
    return s;
}

/* The request's members as a new JSON object (NULL: out of memory). */
static json_t *req_json(const ops_req *r)
{
    json_t *v = json_object();

    if (v == NULL)
        return NULL;
    if (ops_verb_is_task(r->verb)) {
        json_object_set_new(v, "task_id", json_integer(r->task_id));
        if (r->verb == OPS_TASK_REASSIGN)
            json_object_set_new(v, "worker",
                                r->worker[0] != '\0' ? json_string(r->worker)
                                                     : json_null());
    } else {
        json_object_set_new(v, "worker", json_string(r->worker));
    }
    if (r->verb == OPS_WORKER_POOL || r->verb == OPS_CALLUP_INVITE)
        json_object_set_new(v, "pool", json_string(r->pool));
    if (r->verb == OPS_CALLUP_INVITE) {
        json_object_set_new(v, "skill", json_string(r->skill));
        json_object_set_new(v, "required", json_integer(r->required));
        json_object_set_new(v, "online", json_integer(r->online));
        json_object_set_new(v, "answer_s", json_integer(r->answer_s));
    }
    if (r->verb == OPS_WORKER_SKILLS) {
        json_t *sk = json_object();

        for (int i = 0; sk != NULL && i < r->nskills; i++)
            json_object_set_new(sk, r->skills[i].skill,
                                json_pack("{s:i, s:i}", "level",
                                          r->skills[i].level, "ai_level",
                                          r->skills[i].ai_level));
        json_object_set_new(v, "skills", sk);
    }
    json_object_set_new(v, "reason", json_string(r->reason));
    return v;
}

static status finish(json_t *v, char **out, size_t *len, err *e)
{
    char *body = v != NULL ? jsonx_dump(v) : NULL;

    json_decref(v);
    if (body == NULL)
        return err_set(e, ST_NOMEM, "out of memory building a message");
    *out = body;
    if (len != NULL)
        *len = strlen(body);
    return ST_OK;
}

status ops_msg_encode(const ops_req *r, char **out, size_t *len, err *e)
{
    status s = reason_check(r->reason, e);

    if (s != ST_OK)
        return s;
    if (ops_verb_is_task(r->verb) ? r->task_id <= 0
                                  : !ids_token_valid(r->worker))
        return err_set(e, ST_INVALID, "%s needs a %s", ops_verb_name(r->verb),
                       ops_verb_is_task(r->verb) ? "task id > 0" : "worker id");
    if ((r->verb == OPS_WORKER_POOL || r->verb == OPS_CALLUP_INVITE) &&
        !ids_token_valid(r->pool))
        return err_set(e, ST_INVALID, "%s needs a pool id",
                       ops_verb_name(r->verb));
    if (r->verb == OPS_CALLUP_INVITE &&
        (!ids_token_valid(r->skill) || r->answer_s < 10 || r->answer_s > 3600 ||
         r->required < 0 || r->online < 0))
        return err_set(e, ST_INVALID,
                       "callup.invite needs a skill, answer_s from 10 to "
                       "3600 and figures >= 0");
    for (int i = 0; i < r->nskills; i++)
        if (!ids_token_valid(r->skills[i].skill) || r->skills[i].level < 0 ||
            r->skills[i].level > OPS_LEVEL_MAX || r->skills[i].ai_level < 0 ||
            r->skills[i].ai_level > OPS_LEVEL_MAX)
            return err_set(e, ST_INVALID,
                           "skill %d needs a name and levels from 0 to %d",
                           i + 1, OPS_LEVEL_MAX);
    return finish(req_json(r), out, len, e);
}

/* The result's members added to v. */
static void result_add(json_t *v, const ops_req *r, const ops_result *res)
{
    json_object_set_new(v, "changed", json_boolean(res->changed));
    if (res->state != NULL)
        json_object_set_new(v, "state", json_string(res->state));
    json_object_set_new(v, "released", json_integer(res->released));
    if (res->pool != NULL)
        json_object_set_new(v, "pool", json_string(res->pool));
    if (r->verb == OPS_TASK_REASSIGN && r->worker[0] != '\0')
        json_object_set_new(v, "offered_to", json_string(r->worker));
    if (res->callup_id > 0)
        json_object_set_new(v, "callup_id", json_integer(res->callup_id));
}

status ops_msg_reply(const ops_req *r, const ops_result *res, char **out,
                     size_t *len, err *e)
{
    json_t *v = json_object();

    if (v != NULL) {
        json_object_set_new(v, "ok", json_true());
        json_object_set_new(v, "action", json_string(ops_verb_name(r->verb)));
        if (ops_verb_is_task(r->verb))
            json_object_set_new(v, "task_id", json_integer(r->task_id));
        else
            json_object_set_new(v, "worker", json_string(r->worker));
        result_add(v, r, res);
    }
    return finish(v, out, len, e);
}

status ops_msg_details(const ops_req *r, const ops_result *res, char **out,
                       err *e)
{
    json_t *v = req_json(r);

    if (v != NULL)
        result_add(v, r, res);
    return finish(v, out, NULL, e);
}

status ops_msg_reply_decode(const char *buf, size_t len, ops_reply *out, err *e)
{
    json_t *root = NULL;
    const json_t *okv, *error;
    const char *c, *m, *st;
    int64_t n = 0;
    status s;

    memset(out, 0, sizeof(*out));
    if (len == 0)
        return err_set(e, ST_UNAVAILABLE, "no dispatcher answers");
    s = jsonx_parse(buf, len, OPS_MSG_MAX, &root, e);
    if (s != ST_OK)
        return s;
    okv = json_object_get(root, "ok");
    if (!json_is_boolean(okv)) {
        json_decref(root);
        return err_set(e, ST_WRONG_TYPE, "reply.ok must be true or false");
    }
    out->ok = json_is_true(okv);
    error = json_object_get(root, "error");
    c = jsonx_str(error, "code");
    m = jsonx_str(error, "message");
    st = jsonx_str(root, "state");
    snprintf(out->code, sizeof(out->code), "%s",
             out->ok     ? ""
             : c != NULL ? c
                         : "internal");
    snprintf(out->message, sizeof(out->message), "%s",
             out->ok || m == NULL ? "" : m);
    snprintf(out->state, sizeof(out->state), "%s", st != NULL ? st : "");
    out->changed = json_is_true(json_object_get(root, "changed"));
    if (jsonx_int(root, "released", &n))
        out->released = (int)n;
    (void)jsonx_int(root, "callup_id", &out->callup_id);
    json_decref(root);
    return ST_OK;
}
