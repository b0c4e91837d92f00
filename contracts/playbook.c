#include "playbook.h"

#include <stdio.h>
#include <string.h>

#include "jsonx.h"
#include "router.h"

static const char *const channel_names[ROUTER_CHANNELS] = {"voice", "chat",
                                                           "backoffice"};

int playbook_channel(const char *name)
{
    for (int i = 0; i < ROUTER_CHANNELS; i++)
        if (strcmp(channel_names[i], name) == 0)
            return i;
    return -1;
}

const char *playbook_channel_name(int channel)
{
    if (channel < 0 || channel >= ROUTER_CHANNELS)
        return "unknown";
    return channel_names[channel];
}

static status field_type(const char *name, pb_field_type *out)
{
    static const struct {
        const char *name;
        pb_field_type type;
    } types[] = {{"amount_minor", PB_AMOUNT},
                 {"int", PB_INT},
                 {"date", PB_DATE},
                 {"string", PB_STRING},
                 {"bool", PB_BOOL}};

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(types[i].name, name) == 0) {
            *out = types[i].type;
            return ST_OK;
        }
    return ST_INVALID;
}

static status parse_outcomes(pb_step *st, json_t *o, err *e)
{
    const char *code;
    json_t *def;

    if (!json_is_object(o))
        return err_set(e, ST_INVALID, "step %s: outcomes is not an object",
                       st->key);
    json_object_foreach(o, code, def)
    {
        pb_outcome *oc;
        json_t *fields = json_object_get(def, "fields");
        const char *fname;
        json_t *ftype;

        if (st->noutcomes >= PB_MAX_OUTCOMES)
            return err_set(e, ST_INVALID, "step %s: more than %d outcomes",
                           st->key, PB_MAX_OUTCOMES);
        if (!ids_token_valid(code))
            return err_set(e, ST_INVALID, "step %s: bad outcome code", st->key);
        oc = &st->outcomes[st->noutcomes++];
        memset(oc, 0, sizeof(*oc));
        snprintf(oc->code, sizeof(oc->code), "%s", code);
        oc->billable = json_is_true(json_object_get(def, "billable"));
        if (fields == NULL)
            continue;
        json_object_foreach(fields, fname, ftype)
        {
            pb_field *f;
            if (oc->nfields >= PB_MAX_FIELDS || !ids_token_valid(fname))
                return err_set(e, ST_INVALID, "step %s outcome %s: bad fields",
                               st->key, code);
            f = &oc->fields[oc->nfields++];
            snprintf(f->name, sizeof(f->name), "%s", fname);
            if (!json_is_string(ftype) ||
                field_type(json_string_value(ftype), &f->type) != ST_OK)
                return err_set(e, ST_INVALID,
                               "step %s outcome %s: field %s has an unknown "
                               "type",
                               st->key, code, fname);
        }
    }
    return ST_OK;
}

static json_t *load_json(const char *text, err *e, const char *what)
{
    json_error_t jerr;
    json_t *v = json_loads(text, 0, &jerr);

    if (v == NULL)
        err_set(e, ST_INVALID, "%s: %s", what, jerr.text);
    return v;
}

status playbook_add_step(playbook *pb, const char *key, const char *channel,
                         int sla_seconds, const char *ai,
                         const char *skills_json, const char *after_json,
                         const char *when_json, const char *outcomes_json,
                         err *e)
{
    pb_step *st;
    json_t *skills = NULL, *after = NULL, *when = NULL, *outcomes = NULL;
    const char *sk;
    json_t *v;
    size_t i;
    status s = ST_OK;

    if (pb->nsteps >= PB_MAX_STEPS)
        return err_set(e, ST_INVALID, "playbook %s/%s has more than %d steps",
                       pb->tenant, pb->case_type, PB_MAX_STEPS);
    st = &pb->steps[pb->nsteps];
    memset(st, 0, sizeof(*st));
    snprintf(st->key, sizeof(st->key), "%s", key);
    st->channel = playbook_channel(channel);
    st->sla_seconds = sla_seconds;
    st->ai = strcmp(ai, "assist") == 0 ? PB_AI_ASSIST
             : strcmp(ai, "auto") == 0 ? PB_AI_AUTO
                                       : PB_AI_NONE;
    if (st->channel < 0) {
        s = err_set(e, ST_INVALID, "step %s: unknown channel %s", key, channel);
        goto out;
    }
    skills = load_json(skills_json, e, "skills");
    after = load_json(after_json, e, "after");
    when = load_json(when_json, e, "when");
    outcomes = load_json(outcomes_json, e, "outcomes");
    if (skills == NULL || after == NULL || when == NULL || outcomes == NULL) {
        s = ST_INVALID;
        goto out;
    }
    json_object_foreach(skills, sk, v)
    {
        if (st->nskills >= PB_MAX_SKILLS || !json_is_integer(v)) {
            s = err_set(e, ST_INVALID, "step %s: bad skills", key);
            goto out;
        }
        snprintf(st->skills[st->nskills].skill, ID_MAX + 1, "%s", sk);
        st->skills[st->nskills++].level = (int)json_integer_value(v);
    }
    json_array_foreach(after, i, v)
    {
        if (!json_is_string(v) || st->nafter >= PB_MAX_DEPS) {
            s = err_set(e, ST_INVALID, "step %s: bad after list", key);
            goto out;
        }
        snprintf(st->after_names[st->nafter++], ID_MAX + 1, "%s",
                 json_string_value(v));
    }
    json_array_foreach(when, i, v)
    {
        if (!json_is_string(v) || st->nwhen >= PB_MAX_OUTCOMES) {
            s = err_set(e, ST_INVALID, "step %s: bad when list", key);
            goto out;
        }
        snprintf(st->when[st->nwhen++], ID_MAX + 1, "%s", json_string_value(v));
    }
    s = parse_outcomes(st, outcomes, e);
    if (s != ST_OK)
        goto out;
    st->outcomes_json = outcomes;
    outcomes = NULL;
    pb->nsteps++;
out:
    json_decref(skills);
    json_decref(after);
    json_decref(when);
    json_decref(outcomes);
    return s;
}

status playbook_resolve(playbook *pb, err *e)
{
    for (int i = 0; i < pb->nsteps; i++) {
        pb_step *st = &pb->steps[i];
        for (int a = 0; a < st->nafter; a++) {
            int idx = playbook_step_index(pb, st->after_names[a]);
            if (idx < 0 || idx == i)
                return err_set(e, ST_INVALID,
                               "playbook %s/%s step %s: after names unknown "
                               "step %s",
                               pb->tenant, pb->case_type, st->key,
                               st->after_names[a]);
            st->after[a] = idx;
        }
    }
    return ST_OK;
}

void playbook_release(playbook *pb)
{
    for (int i = 0; i < pb->nsteps; i++) {
        json_decref(pb->steps[i].outcomes_json);
        pb->steps[i].outcomes_json = NULL;
    }
    pb->nsteps = 0;
}

int playbook_step_index(const playbook *pb, const char *key)
{
    for (int i = 0; i < pb->nsteps; i++)
        if (strcmp(pb->steps[i].key, key) == 0)
            return i;
    return -1;
}

const pb_outcome *playbook_outcome(const pb_step *st, const char *code)
{
    for (int i = 0; i < st->noutcomes; i++)
        if (strcmp(st->outcomes[i].code, code) == 0)
            return &st->outcomes[i];
    return NULL;
}

static bool valid_date(const char *s)
{
    int y, m, d;
    char tail;
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return false;
    if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
        return false;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return false;
    return true;
}

static status check_field(const pb_step *st, const pb_outcome *oc,
                          const pb_field *f, const json_t *v, err *e)
{
    const char *want = NULL;

    switch (f->type) {
    case PB_AMOUNT:
        if (!json_is_integer(v))
            want = "an integer amount in minor units";
        else if (json_integer_value(v) < 0 ||
                 json_integer_value(v) > 1000000000000000LL)
            want = "an amount between 0 and 10^15 minor units";
        break;
    case PB_INT:
        if (!json_is_integer(v))
            want = "an integer";
        break;
    case PB_DATE:
        if (!json_is_string(v) || !valid_date(json_string_value(v)))
            want = "a date YYYY-MM-DD";
        break;
    case PB_STRING:
        if (!json_is_string(v) || json_string_length(v) > 500)
            want = "a string of at most 500 characters";
        break;
    case PB_BOOL:
        if (!json_is_boolean(v))
            want = "true or false";
        break;
    }
    if (want != NULL)
        return err_set(e, ST_OUTCOME_NOT_ALLOWED,
                       "step %s outcome %s: field %s must be %s", st->key,
                       oc->code, f->name, want);
    return ST_OK;
}

status playbook_check_outcome(const pb_step *st, const char *code,
                              const json_t *fields, err *e)
{
    const pb_outcome *oc = playbook_outcome(st, code);
    const char *name;
    json_t *v;

    if (oc == NULL) {
        char allowed[256] = "";
        size_t used = 0;
        for (int i = 0; i < st->noutcomes && used < sizeof(allowed); i++)
            used +=
                (size_t)snprintf(allowed + used, sizeof(allowed) - used, "%s%s",
                                 i > 0 ? ", " : "", st->outcomes[i].code);
        return err_set(e, ST_OUTCOME_NOT_ALLOWED,
                       "outcome \"%.64s\" is not allowed for step %s; "
                       "allowed: %s",
                       code, st->key, allowed);
    }
    if (fields != NULL) {
        json_object_foreach((json_t *)fields, name, v)
        {
            int i;
            for (i = 0; i < oc->nfields; i++)
                if (strcmp(oc->fields[i].name, name) == 0)
                    break;
            if (i == oc->nfields)
                return err_set(e, ST_OUTCOME_NOT_ALLOWED,
                               "step %s outcome %s has no field \"%.64s\"",
                               st->key, code, name);
        }
    }
    for (int i = 0; i < oc->nfields; i++) {
        const json_t *fv =
            fields != NULL ? json_object_get(fields, oc->fields[i].name) : NULL;
        status s;
        if (fv == NULL)
            return err_set(e, ST_OUTCOME_NOT_ALLOWED,
                           "step %s outcome %s needs field %s", st->key, code,
                           oc->fields[i].name);
        s = check_field(st, oc, &oc->fields[i], fv, e);
        if (s != ST_OK)
            return s;
    }
    return ST_OK;
}

static bool decide(const pb_step *st, const pb_state *states,
                   const char (*codes)[ID_MAX + 1], pb_state *out)
{
    bool any_completed = false, matched = false;

    for (int i = 0; i < st->nafter; i++) {
        int d = st->after[i];
        if (states[d] != PB_COMPLETED && states[d] != PB_SKIPPED)
            return false;
        if (states[d] == PB_COMPLETED) {
            any_completed = true;
            for (int w = 0; w < st->nwhen; w++)
                if (strcmp(codes[d], st->when[w]) == 0)
                    matched = true;
        }
    }
    if (st->nafter == 0)
        *out = PB_READY;
    else if (st->nwhen > 0)
        *out = matched ? PB_READY : PB_SKIPPED;
    else
        *out = any_completed ? PB_READY : PB_SKIPPED;
    return true;
}

bool playbook_advance(const playbook *pb, pb_state *states,
                      const char (*codes)[ID_MAX + 1])
{
    bool changed = false, again = true;

    while (again) {
        again = false;
        for (int i = 0; i < pb->nsteps; i++) {
            pb_state next;
            if (states[i] != PB_WAITING)
                continue;
            if (decide(&pb->steps[i], states, codes, &next)) {
                states[i] = next;
                changed = true;
                again = again || next == PB_SKIPPED;
            }
        }
    }
    return changed;
}

bool playbook_finished(const playbook *pb, const pb_state *states)
{
    for (int i = 0; i < pb->nsteps; i++)
        if (states[i] != PB_COMPLETED && states[i] != PB_SKIPPED)
            return false;
    return true;
}

static status parse_ring(const pb_step *st, int i, json_t *o, int prev_after,
                         pb_ring *out, err *e)
{
    static const char *const keys[] = {"after_seconds", "lower_by", "assist",
                                       "overflow_pool", "priority_boost"};
    json_t *v;
    const char *k;
    int64_t n;

    if (!json_is_object(o))
        return err_set(e, ST_INVALID, "step %s: ring %d is not an object",
                       st->key, i + 1);
    json_object_foreach(o, k, v)
    {
        size_t j;
        for (j = 0; j < sizeof(keys) / sizeof(keys[0]); j++)
            if (strcmp(keys[j], k) == 0)
                break;
        if (j == sizeof(keys) / sizeof(keys[0]))
            return err_set(e, ST_INVALID,
                           "step %s: ring %d has unknown field \"%s\"; "
                           "allowed: after_seconds, lower_by, assist, "
                           "overflow_pool, priority_boost",
                           st->key, i + 1, k);
    }
    memset(out, 0, sizeof(*out));
    if (!jsonx_int(o, "after_seconds", &n) || n <= prev_after || n > 86400 * 30)
        return err_set(e, ST_INVALID,
                       "step %s: ring %d needs after_seconds, an integer "
                       "above the previous ring's (and at most 30 days)",
                       st->key, i + 1);
    out->after_seconds = (int)n;
    if (json_object_get(o, "lower_by") != NULL) {
        if (!jsonx_int(o, "lower_by", &n) || n < 0 || n > 5)
            return err_set(e, ST_INVALID,
                           "step %s: ring %d lower_by must be 0 to 5", st->key,
                           i + 1);
        out->lower_by = (int)n;
    }
    if (json_object_get(o, "priority_boost") != NULL) {
        if (!jsonx_int(o, "priority_boost", &n) || n < -100 || n > 100)
            return err_set(e, ST_INVALID,
                           "step %s: ring %d priority_boost must be -100 to "
                           "100",
                           st->key, i + 1);
        out->priority_boost = (int)n;
    }
    v = json_object_get(o, "assist");
    if (v != NULL && !json_is_boolean(v))
        return err_set(e, ST_INVALID, "step %s: ring %d assist must be a bool",
                       st->key, i + 1);
    out->assist = json_is_true(v);
    v = json_object_get(o, "overflow_pool");
    if (v != NULL) {
        if (!json_is_string(v) || !ids_token_valid(json_string_value(v)))
            return err_set(e, ST_INVALID,
                           "step %s: ring %d overflow_pool must be a pool id",
                           st->key, i + 1);
        snprintf(out->overflow_pool, sizeof(out->overflow_pool), "%s",
                 json_string_value(v));
    }
    return ST_OK;
}

status playbook_step_routing(playbook *pb, int step, const char *licence,
                             const char *rings_json, int ttl_seconds, err *e)
{
    pb_step *st;
    json_t *a = NULL;
    status s = ST_OK;
    int prev = -1;

    if (step < 0 || step >= pb->nsteps)
        return err_set(e, ST_INTERNAL, "step index %d out of range", step);
    st = &pb->steps[step];
    snprintf(st->licence, sizeof(st->licence), "%s",
             licence != NULL ? licence : "");
    st->ttl_seconds = ttl_seconds > 0 ? ttl_seconds : 0;
    st->nrings = 0;
    if (rings_json == NULL || rings_json[0] == '\0')
        return ST_OK;
    a = json_loads(rings_json, 0, NULL);
    if (a == NULL)
        return err_set(e, ST_INVALID, "step %s: rings are not valid JSON",
                       st->key);
    if (!json_is_array(a) || json_array_size(a) > PB_MAX_RINGS) {
        s = err_set(e, ST_INVALID,
                    "step %s: rings must be an array of at most %d rings",
                    st->key, PB_MAX_RINGS);
        goto out;
    }
    for (size_t i = 0; i < json_array_size(a); i++) {
        s = parse_ring(st, (int)i, json_array_get(a, i), prev, &st->rings[i],
                       e);
        if (s != ST_OK)
            goto out;
        prev = st->rings[i].after_seconds;
        st->nrings = (int)i + 1;
    }
out:
    json_decref(a);
    if (s != ST_OK)
        st->nrings = 0;
    return s;
}
