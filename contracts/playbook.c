#include "playbook.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_msg.h"
#include "jpath.h"
#include "jsonx.h"

/* An offer carries a step's outcomes to the worker agent, whose decoder
 * has limits of its own: every step that loads must fit in them. */
_Static_assert(PB_MAX_OUTCOMES <= AGENT_MAX_OUTCOMES,
               "a step may list more outcomes than an agent decodes");
_Static_assert(PB_MAX_FIELDS <= AGENT_MAX_FIELDS,
               "an outcome may list more fields than an agent decodes");
_Static_assert(PB_STRING_FIELD_MAX <= AGENT_STRING_MAX,
               "a string field may be longer than an agent keeps");

/* The message of check_field names the limit as people read it. */
_Static_assert(PB_AMOUNT_MAX == 1000000000000000LL, "PB_AMOUNT_MAX is 10^15");

/* JSON paths are short ("playbooks[2].steps[11].outcomes.x.fields.y"). */
#define PATH_MAX_LEN JPATH_MAX
#define COUNT(a)     ((int)(sizeof(a) / sizeof((a)[0])))

static const char *const channel_names[PB_CHANNELS + 1] = {"voice", "chat",
                                                           "backoffice", NULL};
static const char *const ai_names[] = {"none", "assist", "auto", NULL};

/* In the order of the messages (the order docs/config.md lists them). */
static const struct {
    const char *name;
    pb_field_type type;
} field_types[] = {{"amount_minor", PB_AMOUNT},
                   {"date", PB_DATE},
                   {"string", PB_STRING},
                   {"int", PB_INT},
                   {"bool", PB_BOOL}};

static const jfield step_fields[] = {{"key", JF_TOKEN, true},
                                     {"channel", JF_STRING, true},
                                     {"sla_seconds", JF_INT, true},
                                     {"ai", JF_STRING, false},
                                     {"skills", JF_OBJECT, false},
                                     {"after", JF_ARRAY, false},
                                     {"when", JF_ARRAY, false},
                                     {"outcomes", JF_OBJECT, true},
                                     /* Routing (schema/004). */
                                     {"licence", JF_TOKEN, false},
                                     {"rings", JF_ARRAY, false},
                                     {"ttl_seconds", JF_INT, false},
                                     /* Broadcast offers (schema/007). */
                                     {"broadcast", JF_INT, false}};

int playbook_channel(const char *name)
{
    for (int i = 0; i < PB_CHANNELS; i++)
        if (name != NULL && strcmp(channel_names[i], name) == 0)
            return i;
    return -1;
}

const char *playbook_channel_name(int channel)
{
    if (channel < 0 || channel >= PB_CHANNELS)
        return "unknown";
    return channel_names[channel];
}

const char *const *playbook_channel_names(void)
{
    return channel_names;
}

const char *playbook_ai_name(pb_ai ai)
{
    if ((int)ai < 0 || (int)ai >= COUNT(ai_names) - 1)
        return "none";
    return ai_names[ai];
}

/* "<where>.steps[i]", or "steps[i]" for stored rows (where ""). */
static void step_path(char *dst, const char *where, int i)
{
    if (snprintf(dst, PATH_MAX_LEN, "%s%ssteps[%d]", where,
                 where[0] != '\0' ? "." : "", i) >= PATH_MAX_LEN)
        dst[PATH_MAX_LEN - 1] = '\0';
}

static int index_of(const char *s, const char *const *set)
{
    for (int i = 0; s != NULL && set[i] != NULL; i++)
        if (strcmp(s, set[i]) == 0)
            return i;
    return -1;
}

static void join_set(char *buf, size_t cap, const char *const *set)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int i = 0; set[i] != NULL && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%s",
                                 i > 0 ? ", " : "", set[i]);
}

/* An optional string member that must be one of set: its index (def when
 * absent; the type is checked already). */
static status enum_member(const json_t *obj, const char *key, const char *where,
                          const char *const *set, int def, int *out, err *e)
{
    const char *v = jsonx_str(obj, key);
    char p[PATH_MAX_LEN];
    char allowed[128];
    int i;

    if (v == NULL) {
        *out = def;
        return ST_OK;
    }
    i = index_of(v, set);
    if (i < 0) {
        jpath_join(p, where, key);
        join_set(allowed, sizeof(allowed), set);
        return jpath_fail(e, ST_INVALID, p, "must be one of %s (got \"%.64s\")",
                          allowed, v);
    }
    *out = i;
    return ST_OK;
}

/* An optional integer member in lo..hi (the type is checked already). */
static status int_member(const json_t *obj, const char *key, const char *where,
                         int64_t lo, int64_t hi, int64_t def, int *out, err *e)
{
    int64_t v;
    char p[PATH_MAX_LEN];

    if (!jsonx_int(obj, key, &v)) {
        *out = (int)def;
        return ST_OK;
    }
    if (v < lo || v > hi) {
        jpath_join(p, where, key);
        return jpath_fail(e, ST_INVALID, p,
                          "must be an integer %lld..%lld (got %lld)",
                          (long long)lo, (long long)hi, (long long)v);
    }
    *out = (int)v;
    return ST_OK;
}

/* An array of at most max identifiers without repeats, copied into out. */
static status token_array(const json_t *arr, const char *where, int max,
                          const char *what, char (*out)[ID_MAX + 1], int *n,
                          err *e)
{
    size_t i;
    json_t *v;
    char p[PATH_MAX_LEN];

    *n = 0;
    if (arr == NULL)
        return ST_OK;
    if (json_array_size(arr) > (size_t)max)
        return jpath_fail(e, ST_INVALID, where, "at most %d %s (got %zu)", max,
                          what, json_array_size(arr));
    json_array_foreach(arr, i, v)
    {
        jpath_index(p, where, i);
        if (!json_is_string(v) || !ids_token_valid(json_string_value(v)))
            return jpath_fail(
                e, json_is_string(v) ? ST_INVALID : ST_WRONG_TYPE, p,
                "must be an identifier (1-64 letters, digits, '_' or "
                "'-')");
        for (int j = 0; j < *n; j++)
            if (strcmp(out[j], json_string_value(v)) == 0)
                return jpath_fail(e, ST_INVALID, p, "\"%s\" is listed twice",
                                  json_string_value(v));
        snprintf(out[(*n)++], ID_MAX + 1, "%s", json_string_value(v));
    }
    return ST_OK;
}

static status decode_skills(const json_t *skills, const char *where,
                            pb_step *st, err *e)
{
    const char *k;
    json_t *v;
    char p[PATH_MAX_LEN];

    if (skills == NULL)
        return ST_OK;
    if (json_object_size(skills) > PB_MAX_SKILLS)
        return jpath_fail(e, ST_INVALID, where,
                          "at most %d skills per step (got %zu)", PB_MAX_SKILLS,
                          json_object_size(skills));
    json_object_foreach((json_t *)skills, k, v)
    {
        jpath_join(p, where, k);
        if (!ids_token_valid(k))
            return jpath_fail(e, ST_INVALID, p,
                              "name must be 1-64 letters, digits, '_' or '-'");
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > PB_LEVEL_MAX)
            return jpath_fail(
                e, json_is_integer(v) ? ST_INVALID : ST_WRONG_TYPE, p,
                "level must be an integer 0..%d", PB_LEVEL_MAX);
        snprintf(st->skills[st->nskills].skill, ID_MAX + 1, "%s", k);
        st->skills[st->nskills++].level = (int)json_integer_value(v);
    }
    return ST_OK;
}

static status decode_fields(const json_t *fields, const char *where,
                            pb_outcome *oc, err *e)
{
    const char *fname;
    json_t *ft;
    char p[PATH_MAX_LEN];
    char r[PATH_MAX_LEN];

    if (fields == NULL)
        return ST_OK;
    jpath_join(p, where, "fields");
    if (json_object_size(fields) > PB_MAX_FIELDS)
        return jpath_fail(e, ST_INVALID, p,
                          "at most %d fields per outcome (got %zu)",
                          PB_MAX_FIELDS, json_object_size(fields));
    json_object_foreach((json_t *)fields, fname, ft)
    {
        int t = -1;

        jpath_join(r, p, fname);
        if (!ids_token_valid(fname))
            return jpath_fail(
                e, ST_INVALID, r,
                "field name must be 1-64 letters, digits, '_' or '-'");
        for (int i = 0; json_is_string(ft) && i < COUNT(field_types); i++)
            if (strcmp(field_types[i].name, json_string_value(ft)) == 0)
                t = i;
        if (t < 0) {
            char allowed[128];
            size_t used = 0;

            allowed[0] = '\0';
            for (int i = 0; i < COUNT(field_types); i++)
                used += (size_t)snprintf(allowed + used, sizeof(allowed) - used,
                                         "%s%s", i > 0 ? ", " : "",
                                         field_types[i].name);
            return jpath_fail(e,
                              json_is_string(ft) ? ST_INVALID : ST_WRONG_TYPE,
                              r, "type must be one of %s", allowed);
        }
        snprintf(oc->fields[oc->nfields].name, ID_MAX + 1, "%s", fname);
        oc->fields[oc->nfields++].type = field_types[t].type;
    }
    return ST_OK;
}

static const char *field_type_name(pb_field_type t)
{
    for (int i = 0; i < COUNT(field_types); i++)
        if (field_types[i].type == t)
            return field_types[i].name;
    return "string";
}

/* The outcomes as stored and offered: every code with "billable" and
 * "fields" present. NULL on allocation failure. */
static json_t *encode_outcomes(const pb_step *st)
{
    json_t *o = json_object();

    for (int i = 0; o != NULL && i < st->noutcomes; i++) {
        const pb_outcome *oc = &st->outcomes[i];
        json_t *fields = json_object();
        json_t *row;

        for (int f = 0; fields != NULL && f < oc->nfields; f++)
            if (json_object_set_new(
                    fields, oc->fields[f].name,
                    json_string(field_type_name(oc->fields[f].type))) != 0) {
                json_decref(fields);
                fields = NULL;
            }
        /* "o" steals the reference, also when json_pack fails. */
        row = fields != NULL ? json_pack("{s:b, s:o}", "billable", oc->billable,
                                         "fields", fields)
                             : NULL;
        if (row == NULL || json_object_set_new(o, oc->code, row) != 0) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}

static status decode_outcomes(const json_t *outcomes, const char *where,
                              pb_step *st, err *e)
{
    static const jfield outcome_fields[] = {{"billable", JF_BOOL, true},
                                            {"fields", JF_OBJECT, false}};
    const char *code;
    json_t *def;
    char p[PATH_MAX_LEN];
    char q[PATH_MAX_LEN];
    status s;

    jpath_join(p, where, "outcomes");
    if (json_object_size(outcomes) == 0)
        return jpath_fail(
            e, ST_INVALID, p,
            "must list at least one outcome code the step may end "
            "with");
    if (json_object_size(outcomes) > PB_MAX_OUTCOMES)
        return jpath_fail(e, ST_INVALID, p,
                          "at most %d outcomes per step (got %zu)",
                          PB_MAX_OUTCOMES, json_object_size(outcomes));
    st->outcomes = calloc(json_object_size(outcomes), sizeof(pb_outcome));
    if (st->outcomes == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    json_object_foreach((json_t *)outcomes, code, def)
    {
        pb_outcome *oc = &st->outcomes[st->noutcomes];

        jpath_join(q, p, code);
        if (!ids_token_valid(code))
            return jpath_fail(
                e, ST_INVALID, q,
                "outcome code must be 1-64 letters, digits, '_' or "
                "'-'");
        if (!json_is_object(def))
            return jpath_fail(e, ST_WRONG_TYPE, q,
                              "must be an object such as {\"billable\": true}");
        if ((s = jsonx_check(def, q, outcome_fields, COUNT(outcome_fields),
                             e)) != ST_OK ||
            (s = decode_fields(json_object_get(def, "fields"), q, oc, e)) !=
                ST_OK)
            return s;
        snprintf(oc->code, sizeof(oc->code), "%s", code);
        oc->billable = json_is_true(json_object_get(def, "billable"));
        st->noutcomes++;
    }
    st->outcomes_json = encode_outcomes(st);
    if (st->outcomes_json == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    return ST_OK;
}

/* One ring; prev is the previous ring's after_seconds (-1 for the first). */
static status decode_ring(const json_t *g, const char *where, int prev,
                          pb_ring *out, err *e)
{
    static const jfield fields[] = {{"after_seconds", JF_INT, true},
                                    {"lower_by", JF_INT, false},
                                    {"assist", JF_BOOL, false},
                                    {"overflow_pool", JF_TOKEN, false},
                                    {"priority_boost", JF_INT, false}};
    char p[PATH_MAX_LEN];
    status s;

    if (!json_is_object(g))
        return jpath_fail(e, ST_WRONG_TYPE, where,
                          "must be an object such as {\"after_seconds\": 60, "
                          "\"lower_by\": 1}");
    memset(out, 0, sizeof(*out));
    if ((s = jsonx_check(g, where, fields, COUNT(fields), e)) != ST_OK ||
        (s = int_member(g, "after_seconds", where, 0, PB_RING_AFTER_MAX, 0,
                        &out->after_seconds, e)) != ST_OK ||
        (s = int_member(g, "lower_by", where, 0, PB_LOWER_BY_MAX, 0,
                        &out->lower_by, e)) != ST_OK ||
        (s = int_member(g, "priority_boost", where, -PB_BOOST_MAX, PB_BOOST_MAX,
                        0, &out->priority_boost, e)) != ST_OK)
        return s;
    if (out->after_seconds <= prev) {
        jpath_join(p, where, "after_seconds");
        return jpath_fail(e, ST_INVALID, p,
                          "must be above the previous ring's %d: rings are in "
                          "increasing after_seconds",
                          prev);
    }
    out->assist = json_is_true(json_object_get(g, "assist"));
    if (jsonx_str(g, "overflow_pool") != NULL)
        snprintf(out->overflow_pool, sizeof(out->overflow_pool), "%s",
                 jsonx_str(g, "overflow_pool"));
    return ST_OK;
}

/* A step's licence, rings and ttl_seconds (types checked by the caller). */
static status decode_routing(const json_t *obj, const char *where, pb_step *st,
                             err *e)
{
    const json_t *rings = json_object_get(obj, "rings");
    const char *licence = jsonx_str(obj, "licence");
    char p[PATH_MAX_LEN];
    char q[PATH_MAX_LEN];
    int prev = -1;
    status s;

    if ((s = int_member(obj, "ttl_seconds", where, 1, PB_TTL_MAX, 0,
                        &st->ttl_seconds, e)) != ST_OK)
        return s;
    snprintf(st->licence, sizeof(st->licence), "%s",
             licence != NULL ? licence : "");
    jpath_join(p, where, "rings");
    if (json_array_size(rings) > PB_MAX_RINGS)
        return jpath_fail(e, ST_INVALID, p, "at most %d rings (got %zu)",
                          PB_MAX_RINGS, json_array_size(rings));
    st->nrings = 0;
    for (size_t i = 0; i < json_array_size(rings); i++) {
        jpath_index(q, p, i);
        if ((s = decode_ring(json_array_get(rings, i), q, prev, &st->rings[i],
                             e)) != ST_OK) {
            st->nrings = 0;
            return s;
        }
        prev = st->rings[i].after_seconds;
        st->nrings = (int)i + 1;
    }
    if (st->ttl_seconds > 0 && prev >= st->ttl_seconds) {
        jpath_join(q, where, "ttl_seconds");
        st->nrings = 0;
        return jpath_fail(e, ST_INVALID, q,
                          "%d ends the step before its last ring (after %d "
                          "seconds) could start",
                          st->ttl_seconds, prev);
    }
    return ST_OK;
}

/* Everything of one step object (docs/config.md "steps[]") into st. */
static status decode_step(const json_t *obj, const char *where, pb_step *st,
                          err *e)
{
    const json_t *after = json_object_get(obj, "after");
    const json_t *when = json_object_get(obj, "when");
    char p[PATH_MAX_LEN];
    int ai = 0;
    status s;

    if (!json_is_object(obj))
        return jpath_fail(e, ST_WRONG_TYPE, where, "must be an object");
    if ((s = jsonx_check(obj, where, step_fields, COUNT(step_fields), e)) !=
            ST_OK ||
        (s = enum_member(obj, "channel", where, channel_names, -1, &st->channel,
                         e)) != ST_OK ||
        (s = enum_member(obj, "ai", where, ai_names, PB_AI_NONE, &ai, e)) !=
            ST_OK ||
        (s = int_member(obj, "sla_seconds", where, 1, PB_SLA_MAX, 0,
                        &st->sla_seconds, e)) != ST_OK ||
        (s = int_member(obj, "broadcast", where, 1, PB_MAX_BROADCAST, 1,
                        &st->broadcast, e)) != ST_OK)
        return s;
    snprintf(st->key, sizeof(st->key), "%s", jsonx_str(obj, "key"));
    st->ai = (pb_ai)ai;
    jpath_join(p, where, "skills");
    if ((s = decode_skills(json_object_get(obj, "skills"), p, st, e)) != ST_OK)
        return s;
    jpath_join(p, where, "after");
    if ((s = token_array(after, p, PB_MAX_AFTER, "steps to come after",
                         st->after_names, &st->nafter, e)) != ST_OK)
        return s;
    jpath_join(p, where, "when");
    if ((s = token_array(when, p, PB_MAX_WHEN, "outcome codes", st->when,
                         &st->nwhen, e)) != ST_OK)
        return s;
    if (st->nwhen > 0 && st->nafter == 0)
        return jpath_fail(e, ST_INVALID, p,
                          "needs \"after\": a condition tests the outcome of a "
                          "step this one comes after");
    if ((s = decode_outcomes(json_object_get(obj, "outcomes"), where, st, e)) !=
        ST_OK)
        return s;
    return decode_routing(obj, where, st, e);
}

static void step_free(pb_step *st)
{
    free(st->outcomes);
    st->outcomes = NULL;
    st->noutcomes = 0;
    json_decref(st->outcomes_json);
    st->outcomes_json = NULL;
}

/* Decode obj as step pb->nsteps (path where) and append it. */
static status append_step(playbook *pb, const json_t *obj, const char *where,
                          err *e)
{
    pb_step *st;
    char p[PATH_MAX_LEN];
    status s;

    if (pb->nsteps >= PB_MAX_STEPS)
        return jpath_fail(e, ST_INVALID, where,
                          "a playbook has at most %d steps (docs/config.md, "
                          "\"Limits\")",
                          PB_MAX_STEPS);
    if (pb->nsteps == pb->cap_steps) {
        int ncap = pb->cap_steps > 0 ? pb->cap_steps * 2 : 4;
        pb_step *n;

        if (ncap > PB_MAX_STEPS)
            ncap = PB_MAX_STEPS;
        n = realloc(pb->steps, sizeof(*n) * (size_t)ncap);
        if (n == NULL)
            return err_set(e, ST_NOMEM, "out of memory");
        pb->steps = n;
        pb->cap_steps = ncap;
    }
    st = &pb->steps[pb->nsteps];
    memset(st, 0, sizeof(*st));
    s = decode_step(obj, where, st, e);
    if (s == ST_OK && playbook_step_index(pb, st->key) >= 0) {
        jpath_join(p, where, "key");
        s = jpath_fail(e, ST_INVALID, p, "step \"%s\" is defined twice",
                       st->key);
    }
    if (s != ST_OK) {
        step_free(st);
        return s;
    }
    pb->nsteps++;
    return ST_OK;
}

/* Depth-first search over `after`; returns the step closing a cycle or -1
 * (*edge_from is the step whose `after` names it). */
static int cycle_from(const playbook *pb, int i, int *mark, int *edge_from)
{
    const pb_step *st = &pb->steps[i];

    mark[i] = 1;
    for (int k = 0; k < st->nafter; k++) {
        int j = st->after[k];
        int c;

        if (mark[j] == 1) {
            *edge_from = i;
            return j;
        }
        if (mark[j] == 0 && (c = cycle_from(pb, j, mark, edge_from)) >= 0)
            return c;
    }
    mark[i] = 2;
    return -1;
}

/* True when code may be in the `when` of st (its after steps resolved). */
static bool when_known(const playbook *pb, const pb_step *st, const char *code)
{
    for (int k = 0; k < st->nafter; k++) {
        const pb_step *dep = &pb->steps[st->after[k]];

        if (playbook_outcome(dep, code) != NULL)
            return true;
        /* The review step of an ai: auto step (issue 5, see
         * docs/protocol.md "AI workers and review"). */
        if (strcmp(code, "ai_review") == 0 && st->nafter == 1 &&
            dep->ai == PB_AI_AUTO)
            return true;
    }
    return false;
}

/* References in after and when, then cycles; `where` as in step_path. */
static status check_graph(playbook *pb, const char *where, err *e)
{
    int mark[PB_MAX_STEPS] = {0};
    char sp[PATH_MAX_LEN];
    char p[PATH_MAX_LEN];
    char q[PATH_MAX_LEN];

    for (int i = 0; i < pb->nsteps; i++) {
        pb_step *st = &pb->steps[i];

        step_path(sp, where, i);
        jpath_join(p, sp, "after");
        for (int k = 0; k < st->nafter; k++) {
            int idx = playbook_step_index(pb, st->after_names[k]);

            jpath_index(q, p, (size_t)k);
            if (idx < 0)
                return jpath_fail(
                    e, ST_INVALID, q,
                    "no step \"%s\" in this playbook; \"after\" names "
                    "keys of other steps",
                    st->after_names[k]);
            if (idx == i)
                return jpath_fail(e, ST_INVALID, q,
                                  "step \"%s\" cannot come after itself",
                                  st->key);
            st->after[k] = idx;
        }
    }
    for (int i = 0; i < pb->nsteps; i++) {
        const pb_step *st = &pb->steps[i];

        step_path(sp, where, i);
        jpath_join(p, sp, "when");
        for (int k = 0; k < st->nwhen; k++)
            if (!when_known(pb, st, st->when[k])) {
                jpath_index(q, p, (size_t)k);
                return jpath_fail(e, ST_INVALID, q,
                                  "\"%s\" is not an outcome of any step in "
                                  "\"after\"",
                                  st->when[k]);
            }
    }
    for (int i = 0; i < pb->nsteps; i++) {
        int from = -1;
        int c = mark[i] == 0 ? cycle_from(pb, i, mark, &from) : -1;

        if (c >= 0) {
            step_path(sp, where, from);
            jpath_join(p, sp, "after");
            return jpath_fail(e, ST_INVALID, p,
                              "\"%s\" after \"%s\" closes a cycle; steps must "
                              "form a graph without loops",
                              pb->steps[from].key, pb->steps[c].key);
        }
    }
    return ST_OK;
}

status playbook_decode(const json_t *doc, const char *where, playbook **out,
                       err *e)
{
    static const jfield fields[] = {
        {"tenant", JF_TOKEN, true},    {"case_type", JF_TOKEN, true},
        {"name", JF_STRING, true},     {"steps", JF_ARRAY, true},
        {"payload", JF_OBJECT, false}, {"customer", JF_OBJECT, false}};
    const json_t *steps = json_object_get(doc, "steps");
    const char *name;
    playbook *pb = NULL;
    char p[PATH_MAX_LEN];
    char sp[PATH_MAX_LEN];
    status s;

    if (!json_is_object(doc))
        return jpath_fail(e, ST_WRONG_TYPE, where, "must be an object");
    if ((s = jsonx_check(doc, where, fields, COUNT(fields), e)) != ST_OK)
        return s;
    name = jsonx_str(doc, "name");
    if (name[0] == '\0' || strlen(name) > PB_NAME_MAX) {
        jpath_join(p, where, "name");
        return jpath_fail(e, ST_INVALID, p, "must be 1..%d characters",
                          PB_NAME_MAX);
    }
    jpath_join(p, where, "steps");
    if (json_array_size(steps) == 0 || json_array_size(steps) > PB_MAX_STEPS)
        return jpath_fail(
            e, ST_INVALID, p,
            "must hold 1..%d steps (got %zu); %d is the limit of a "
            "playbook (docs/config.md, \"Limits\")",
            PB_MAX_STEPS, json_array_size(steps), PB_MAX_STEPS);
    pb = calloc(1, sizeof(*pb));
    if (pb == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    snprintf(pb->tenant, sizeof(pb->tenant), "%s", jsonx_str(doc, "tenant"));
    snprintf(pb->case_type, sizeof(pb->case_type), "%s",
             jsonx_str(doc, "case_type"));
    for (size_t i = 0; i < json_array_size(steps); i++) {
        jpath_index(sp, p, i);
        if ((s = append_step(pb, json_array_get(steps, i), sp, e)) != ST_OK)
            goto out;
    }
    s = check_graph(pb, where, e);
    if (s == ST_OK && json_object_get(doc, "payload") != NULL) {
        jpath_join(p, where, "payload");
        s = payload_schema_decode(json_object_get(doc, "payload"), p, false,
                                  &pb->payload, e);
    }
    if (s == ST_OK && json_object_get(doc, "customer") != NULL) {
        jpath_join(p, where, "customer");
        s = payload_schema_decode(json_object_get(doc, "customer"), p, true,
                                  &pb->customer, e);
    }
out:
    if (s != ST_OK) {
        playbook_destroy(pb);
        return s;
    }
    *out = pb;
    return ST_OK;
}

void playbook_destroy(playbook *pb)
{
    if (pb == NULL)
        return;
    playbook_release(pb);
    free(pb);
}

static json_t *encode_ring(const pb_ring *g)
{
    json_t *o = json_pack("{s:i}", "after_seconds", g->after_seconds);
    int bad = o == NULL;

    /* Only what differs from a ring's defaults, as a person writes it. */
    if (!bad && g->lower_by != 0)
        bad = json_object_set_new(o, "lower_by", json_integer(g->lower_by));
    if (!bad && g->assist)
        bad = json_object_set_new(o, "assist", json_true());
    if (!bad && g->overflow_pool[0] != '\0')
        bad = json_object_set_new(o, "overflow_pool",
                                  json_string(g->overflow_pool));
    if (!bad && g->priority_boost != 0)
        bad = json_object_set_new(o, "priority_boost",
                                  json_integer(g->priority_boost));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static char *dump_names(const char (*names)[ID_MAX + 1], int n)
{
    json_t *a = json_array();
    char *text = NULL;

    for (int i = 0; a != NULL && i < n; i++)
        if (json_array_append_new(a, json_string(names[i])) != 0)
            goto out;
    if (a != NULL)
        text = jsonx_dump(a);
out:
    json_decref(a);
    return text;
}

status playbook_step_encode(const pb_step *st, pb_step_text *out, err *e)
{
    pb_step_text t = {0};
    json_t *skills = json_object();
    json_t *rings = json_array();
    json_t *outcomes = encode_outcomes(st);
    bool bad = skills == NULL || rings == NULL || outcomes == NULL;

    for (int i = 0; !bad && i < st->nskills; i++)
        bad = json_object_set_new(skills, st->skills[i].skill,
                                  json_integer(st->skills[i].level)) != 0;
    for (int i = 0; !bad && i < st->nrings; i++)
        bad = json_array_append_new(rings, encode_ring(&st->rings[i])) != 0;
    if (!bad) {
        t.skills = jsonx_dump(skills);
        t.after =
            dump_names((const char(*)[ID_MAX + 1]) st->after_names, st->nafter);
        t.when = dump_names((const char(*)[ID_MAX + 1]) st->when, st->nwhen);
        t.outcomes = jsonx_dump(outcomes);
        t.rings = jsonx_dump(rings);
        bad = t.skills == NULL || t.after == NULL || t.when == NULL ||
              t.outcomes == NULL || t.rings == NULL;
    }
    json_decref(skills);
    json_decref(rings);
    json_decref(outcomes);
    if (bad) {
        playbook_step_text_free(&t);
        return err_set(e, ST_NOMEM, "out of memory");
    }
    *out = t;
    return ST_OK;
}

void playbook_step_text_free(pb_step_text *t)
{
    free(t->skills);
    free(t->after);
    free(t->when);
    free(t->outcomes);
    free(t->rings);
    memset(t, 0, sizeof(*t));
}

/* Parse a stored JSON column into obj[key] (absent when text is NULL). */
static status set_column(json_t *obj, const char *key, const char *text,
                         const char *where, err *e)
{
    json_error_t jerr;
    json_t *v;

    if (text == NULL)
        return ST_OK;
    v = json_loads(text, 0, &jerr);
    if (v == NULL)
        return err_set(e, ST_INVALID, "%s.%s: not valid JSON: %s", where, key,
                       jerr.text);
    if (json_object_set_new(obj, key, v) != 0)
        return err_set(e, ST_NOMEM, "out of memory");
    return ST_OK;
}

status playbook_add_step(playbook *pb, const char *key, const char *channel,
                         int sla_seconds, const char *ai,
                         const char *skills_json, const char *after_json,
                         const char *when_json, const char *outcomes_json,
                         err *e)
{
    json_t *obj = json_pack("{s:s, s:s, s:i, s:s}", "key", key, "channel",
                            channel, "sla_seconds", sla_seconds, "ai", ai);
    char where[PATH_MAX_LEN];
    status s;

    if (obj == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    step_path(where, "", pb->nsteps);
    if ((s = set_column(obj, "skills", skills_json, where, e)) == ST_OK &&
        (s = set_column(obj, "after", after_json, where, e)) == ST_OK &&
        (s = set_column(obj, "when", when_json, where, e)) == ST_OK &&
        (s = set_column(obj, "outcomes", outcomes_json, where, e)) == ST_OK)
        s = append_step(pb, obj, where, e);
    json_decref(obj);
    return s;
}

status playbook_step_routing(playbook *pb, int step, const char *licence,
                             const char *rings_json, int ttl_seconds, err *e)
{
    json_t *obj;
    char where[PATH_MAX_LEN];
    pb_step *st;
    status s = ST_OK;

    if (step < 0 || step >= pb->nsteps)
        return err_set(e, ST_INTERNAL, "step index %d out of range", step);
    st = &pb->steps[step];
    step_path(where, "", step);
    obj = json_object();
    if (obj == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    if (licence != NULL && licence[0] != '\0') {
        if (!ids_token_valid(licence))
            s = jpath_fail(
                e, ST_INVALID, where,
                "licence must be 1-64 characters of letters, digits, "
                "'_' or '-'");
        else if (json_object_set_new(obj, "licence", json_string(licence)) != 0)
            s = err_set(e, ST_NOMEM, "out of memory");
    }
    if (s == ST_OK && rings_json != NULL && rings_json[0] != '\0') {
        s = set_column(obj, "rings", rings_json, where, e);
        if (s == ST_OK && !json_is_array(json_object_get(obj, "rings")))
            s = jpath_fail(e, ST_INVALID, where, "rings must be an array");
    }
    if (s == ST_OK && ttl_seconds > 0 &&
        json_object_set_new(obj, "ttl_seconds", json_integer(ttl_seconds)) != 0)
        s = err_set(e, ST_NOMEM, "out of memory");
    if (s == ST_OK)
        s = decode_routing(obj, where, st, e);
    json_decref(obj);
    return s;
}

status playbook_resolve(playbook *pb, err *e)
{
    return check_graph(pb, "", e);
}

static bool outcome_same(const pb_outcome *x, const pb_outcome *y)
{
    if (y == NULL || x->billable != y->billable || x->nfields != y->nfields)
        return false;
    for (int f = 0; f < x->nfields; f++)
        if (strcmp(x->fields[f].name, y->fields[f].name) != 0 ||
            x->fields[f].type != y->fields[f].type)
            return false;
    return true;
}

static bool step_same(const pb_step *x, const pb_step *y)
{
    if (strcmp(x->key, y->key) != 0 || x->channel != y->channel ||
        x->sla_seconds != y->sla_seconds || x->ai != y->ai ||
        x->nskills != y->nskills || x->nafter != y->nafter ||
        x->nwhen != y->nwhen || x->noutcomes != y->noutcomes ||
        strcmp(x->licence, y->licence) != 0 ||
        x->ttl_seconds != y->ttl_seconds || x->nrings != y->nrings ||
        x->broadcast != y->broadcast)
        return false;
    for (int i = 0; i < x->nskills; i++)
        if (strcmp(x->skills[i].skill, y->skills[i].skill) != 0 ||
            x->skills[i].level != y->skills[i].level)
            return false;
    for (int i = 0; i < x->nafter; i++)
        if (strcmp(x->after_names[i], y->after_names[i]) != 0 ||
            x->after[i] != y->after[i])
            return false;
    for (int i = 0; i < x->nwhen; i++)
        if (strcmp(x->when[i], y->when[i]) != 0)
            return false;
    for (int i = 0; i < x->noutcomes; i++)
        if (!outcome_same(&x->outcomes[i],
                          playbook_outcome(y, x->outcomes[i].code)))
            return false;
    for (int i = 0; i < x->nrings; i++) {
        const pb_ring *g = &x->rings[i], *h = &y->rings[i];

        if (g->after_seconds != h->after_seconds ||
            g->lower_by != h->lower_by || g->assist != h->assist ||
            strcmp(g->overflow_pool, h->overflow_pool) != 0 ||
            g->priority_boost != h->priority_boost)
            return false;
    }
    return json_equal(x->outcomes_json, y->outcomes_json);
}

/* A schema member of a stored definition (NULL or "" for none). */
static status schema_column(const char *text, const char *where, bool customer,
                            payload_schema **out, err *e)
{
    json_error_t jerr;
    json_t *v;
    status s;

    *out = NULL;
    if (text == NULL || text[0] == '\0')
        return ST_OK;
    v = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (v == NULL)
        return err_set(e, ST_INVALID, "%s: not valid JSON: %s", where,
                       jerr.text);
    s = payload_schema_decode(v, where, customer, out, e);
    json_decref(v);
    return s;
}

status playbook_set_schemas(playbook *pb, const char *payload_json,
                            const char *customer_json, err *e)
{
    payload_schema *p = NULL, *c = NULL;
    status s = schema_column(payload_json, "payload", false, &p, e);

    if (s == ST_OK)
        s = schema_column(customer_json, "customer", true, &c, e);
    if (s != ST_OK) {
        payload_schema_destroy(p);
        return s;
    }
    payload_schema_destroy(pb->payload);
    payload_schema_destroy(pb->customer);
    pb->payload = p;
    pb->customer = c;
    return ST_OK;
}

status playbook_check_case(const playbook *pb, const char *customer_json,
                           const char *payload_json, char **plain,
                           char **personal, err *e)
{
    return payload_check(pb->payload, pb->customer, pb->case_type,
                         customer_json, payload_json, plain, personal, e);
}

bool playbook_same(const playbook *a, const playbook *b)
{
    if (a->nsteps != b->nsteps ||
        !payload_schema_same(a->payload, b->payload) ||
        !payload_schema_same(a->customer, b->customer))
        return false;
    for (int i = 0; i < a->nsteps; i++)
        if (!step_same(&a->steps[i], &b->steps[i]))
            return false;
    return true;
}

void playbook_release(playbook *pb)
{
    payload_schema_destroy(pb->payload);
    payload_schema_destroy(pb->customer);
    pb->payload = NULL;
    pb->customer = NULL;
    for (int i = 0; i < pb->nsteps; i++)
        step_free(&pb->steps[i]);
    free(pb->steps);
    pb->steps = NULL;
    pb->nsteps = 0;
    pb->cap_steps = 0;
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
    char want[80] = "";

    switch (f->type) {
    case PB_AMOUNT:
        if (!json_is_integer(v))
            snprintf(want, sizeof(want), "an integer amount in minor units");
        else if (json_integer_value(v) < 0 ||
                 json_integer_value(v) > PB_AMOUNT_MAX)
            snprintf(want, sizeof(want),
                     "an amount between 0 and 10^15 minor units");
        break;
    case PB_INT:
        if (!json_is_integer(v))
            snprintf(want, sizeof(want), "an integer");
        break;
    case PB_DATE:
        if (!json_is_string(v) || !valid_date(json_string_value(v)))
            snprintf(want, sizeof(want), "a date YYYY-MM-DD");
        break;
    case PB_STRING:
        if (!json_is_string(v) || json_string_length(v) > PB_STRING_FIELD_MAX)
            snprintf(want, sizeof(want), "a string of at most %d characters",
                     PB_STRING_FIELD_MAX);
        break;
    case PB_BOOL:
        if (!json_is_boolean(v))
            snprintf(want, sizeof(want), "true or false");
        break;
    }
    if (want[0] != '\0')
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
