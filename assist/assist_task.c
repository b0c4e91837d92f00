#include "assist_task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "jsonx.h"

struct assist_task {
    json_t *task; /* the task object; owned */
    char tenant[ID_MAX + 1];
    char case_type[ID_MAX + 1];
    char step[ID_MAX + 1];
    char channel[ID_MAX + 1];
    int noutcomes;
    agent_outcome_spec outcomes[AGENT_MAX_OUTCOMES];
    int nhistory;
    assist_history_entry history[ASSIST_HISTORY_MAX];
};

void assist_task_destroy(assist_task *t)
{
    if (t == NULL)
        return;
    json_decref(t->task);
    free(t);
}

/* Copy the identifier member name of obj into buf (ID_MAX + 1 bytes). */
static status copy_id(const json_t *obj, const char *where, const char *name,
                      bool required, char *buf, err *e)
{
    const json_t *v = json_object_get(obj, name);
    const char *s = json_string_value(v);

    buf[0] = '\0';
    if (v == NULL || json_is_null(v)) {
        if (required)
            return err_set(e, ST_MISSING_FIELD, "%s lacks \"%s\"", where, name);
        return ST_OK;
    }
    if (s == NULL)
        return err_set(e, ST_WRONG_TYPE, "%s.%s must be a string", where, name);
    if (!ids_token_valid(s))
        return err_set(e, ST_INVALID,
                       "%s.%s must be 1-64 letters, digits, '_' or '-'", where,
                       name);
    snprintf(buf, ID_MAX + 1, "%s", s);
    return ST_OK;
}

static status parse_outcome(const char *code, const json_t *spec, int i,
                            agent_outcome_spec *o, err *e)
{
    const json_t *fields = json_object_get(spec, "fields");
    const char *name;
    json_t *v;

    if (!ids_token_valid(code))
        return err_set(e, ST_INVALID,
                       "task.outcomes key %d is not an identifier", i);
    if (!json_is_object(spec))
        return err_set(e, ST_WRONG_TYPE, "task.outcomes.%s must be an object",
                       code);
    memset(o, 0, sizeof(*o));
    snprintf(o->code, sizeof(o->code), "%s", code);
    o->billable = json_is_true(json_object_get(spec, "billable"));
    if (fields != NULL && !json_is_object(fields))
        return err_set(e, ST_WRONG_TYPE,
                       "task.outcomes.%s.fields must be an object", code);
    if (json_object_size(fields) > AGENT_MAX_FIELDS)
        return err_set(e, ST_TOO_LARGE,
                       "task.outcomes.%s has more than %d fields", code,
                       AGENT_MAX_FIELDS);
    json_object_foreach((json_t *)fields, name, v)
    {
        agent_field_spec *f = &o->fields[o->nfields];
        const char *type = json_string_value(v);

        if (!ids_token_valid(name))
            return err_set(e, ST_INVALID,
                           "task.outcomes.%s has a field name that is not an "
                           "identifier",
                           code);
        if (type == NULL || !agent_field_type_parse(type, &f->type))
            return err_set(e, ST_INVALID,
                           "task.outcomes.%s.fields.%s must be one of "
                           "amount_minor, int, date, string, bool",
                           code, name);
        snprintf(f->name, sizeof(f->name), "%s", name);
        o->nfields++;
    }
    return ST_OK;
}

static status parse_outcomes(assist_task *t, err *e)
{
    const json_t *oc = json_object_get(t->task, "outcomes");
    const char *code;
    json_t *spec;
    int i = 0;

    if (oc == NULL)
        return ST_OK;
    if (!json_is_object(oc))
        return err_set(e, ST_WRONG_TYPE, "task.outcomes must be an object");
    if (json_object_size(oc) > AGENT_MAX_OUTCOMES)
        return err_set(e, ST_TOO_LARGE, "task.outcomes has more than %d codes",
                       AGENT_MAX_OUTCOMES);
    json_object_foreach((json_t *)oc, code, spec)
    {
        status st = parse_outcome(code, spec, i, &t->outcomes[i], e);

        if (st != ST_OK)
            return st;
        t->noutcomes = ++i;
    }
    return ST_OK;
}

static status parse_history(assist_task *t, err *e)
{
    const json_t *h = json_object_get(t->task, "history");
    size_t i, n;
    json_t *entry;

    if (h == NULL)
        return ST_OK;
    if (!json_is_array(h))
        return err_set(e, ST_WRONG_TYPE, "task.history must be an array");
    n = json_array_size(h);
    /* Only the latest entries matter to the panel. */
    i = n > ASSIST_HISTORY_MAX ? n - ASSIST_HISTORY_MAX : 0;
    for (; i < n; i++) {
        char where[48];
        assist_history_entry *he = &t->history[t->nhistory];
        status st;

        entry = json_array_get(h, i);
        snprintf(where, sizeof(where), "task.history[%zu]", i);
        if (!json_is_object(entry))
            return err_set(e, ST_WRONG_TYPE, "%s must be an object", where);
        if ((st = copy_id(entry, where, "step", false, he->step, e)) != ST_OK ||
            (st = copy_id(entry, where, "worker", false, he->worker, e)) !=
                ST_OK ||
            (st = copy_id(entry, where, "code", false, he->code, e)) != ST_OK)
            return st;
        t->nhistory++;
    }
    return ST_OK;
}

status assist_task_parse(assist_task **out, const char *buf, size_t len, err *e)
{
    assist_task *t = NULL;
    json_t *root = NULL, *task;
    status st;

    if ((st = jsonx_parse(buf, len, AGENT_REPLY_MAX, &root, e)) != ST_OK)
        goto out;
    task = json_object_get(root, "task");
    if (task == NULL)
        task = root;
    else if (!json_is_object(task)) {
        st = err_set(e, ST_WRONG_TYPE, "task must be an object");
        goto out;
    }
    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        st = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    t->task = json_incref(task);
    if ((st = copy_id(task, "task", "tenant", true, t->tenant, e)) != ST_OK ||
        (st = copy_id(task, "task", "case_type", true, t->case_type, e)) !=
            ST_OK ||
        (st = copy_id(task, "task", "step", true, t->step, e)) != ST_OK ||
        (st = copy_id(task, "task", "channel", false, t->channel, e)) != ST_OK)
        goto out;
    if (json_object_get(task, "customer") != NULL &&
        !json_is_object(json_object_get(task, "customer"))) {
        st = err_set(e, ST_WRONG_TYPE, "task.customer must be an object");
        goto out;
    }
    if (json_object_get(task, "payload") != NULL &&
        !json_is_object(json_object_get(task, "payload"))) {
        st = err_set(e, ST_WRONG_TYPE, "task.payload must be an object");
        goto out;
    }
    if ((st = parse_outcomes(t, e)) != ST_OK ||
        (st = parse_history(t, e)) != ST_OK)
        goto out;
    *out = t;
    t = NULL;
out:
    json_decref(root);
    assist_task_destroy(t);
    return st;
}

status assist_task_load(assist_task **out, const char *path, err *e)
{
    char *buf = NULL;
    size_t len = 0;
    status st = fileio_read(path, AGENT_REPLY_MAX, "task file", &buf, &len, e);

    if (st == ST_OK && (st = assist_task_parse(out, buf, len, e)) != ST_OK)
        err_wrap(e, "%s", path);
    free(buf);
    return st;
}

const char *assist_task_tenant(const assist_task *t)
{
    return t->tenant;
}

const char *assist_task_case_type(const assist_task *t)
{
    return t->case_type;
}

const char *assist_task_step(const assist_task *t)
{
    return t->step;
}

const char *assist_task_channel(const assist_task *t)
{
    return t->channel;
}

/* Copy s into out->s, cut at a character boundary. */
static void value_text(assist_value *out, const char *s)
{
    size_t n = strlen(s);

    if (n > ASSIST_VALUE_MAX) {
        n = ASSIST_VALUE_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out->s, s, n);
    out->s[n] = '\0';
}

static bool scalar(const json_t *v, assist_value *out)
{
    memset(out, 0, sizeof(*out));
    if (json_is_string(v)) {
        out->kind = ASSIST_VALUE_STRING;
        value_text(out, json_string_value(v));
    } else if (json_is_integer(v)) {
        out->kind = ASSIST_VALUE_INT;
        out->i = (int64_t)json_integer_value(v);
        snprintf(out->s, sizeof(out->s), "%lld", (long long)out->i);
    } else if (json_is_real(v)) {
        out->kind = ASSIST_VALUE_REAL;
        out->d = json_real_value(v);
        snprintf(out->s, sizeof(out->s), "%g", out->d);
    } else if (json_is_boolean(v)) {
        out->kind = ASSIST_VALUE_BOOL;
        out->b = json_is_true(v);
        snprintf(out->s, sizeof(out->s), "%s", out->b ? "true" : "false");
    } else {
        out->kind = ASSIST_VALUE_MISSING;
        return false;
    }
    return true;
}

bool assist_task_value(const assist_task *t, const char *path,
                       assist_value *out)
{
    const json_t *v = t->task;
    const char *p = path;

    memset(out, 0, sizeof(*out));
    if (strlen(path) > ASSIST_PATH_MAX)
        return false;
    while (v != NULL) {
        char seg[ID_MAX + 1];
        const char *dot = strchr(p, '.');
        size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);
        char *end;

        if (n == 0 || n > ID_MAX)
            return false;
        memcpy(seg, p, n);
        seg[n] = '\0';
        if (json_is_array(v)) {
            unsigned long i = strtoul(seg, &end, 10);
            v = *end == '\0' && seg[0] >= '0' && seg[0] <= '9'
                    ? json_array_get(v, i)
                    : NULL;
        } else {
            v = json_object_get(v, seg);
        }
        if (dot == NULL)
            break;
        p = dot + 1;
    }
    return v != NULL && scalar(v, out);
}

int assist_task_outcome_count(const assist_task *t)
{
    return t->noutcomes;
}

const agent_outcome_spec *assist_task_outcome(const assist_task *t, int i)
{
    if (i < 0 || i >= t->noutcomes)
        return NULL;
    return &t->outcomes[i];
}

int assist_task_history_count(const assist_task *t)
{
    return t->nhistory;
}

const assist_history_entry *assist_task_history(const assist_task *t, int i)
{
    if (i < 0 || i >= t->nhistory)
        return NULL;
    return &t->history[i];
}

void assist_task_payload_each(const assist_task *t, assist_member_fn fn,
                              void *arg)
{
    json_t *payload = json_object_get(t->task, "payload");
    const char *key;
    json_t *v;

    json_object_foreach(payload, key, v)
    {
        assist_value val;

        if (json_is_boolean(v) || !scalar(v, &val))
            continue;
        fn(key, val.s, arg);
    }
}
