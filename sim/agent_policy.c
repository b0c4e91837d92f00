#include "agent_policy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ids.h"
#include "jsonx.h"

#define WEIGHT_MAX 1e9
#define KEY_MAX    (2 * ID_MAX + 1)

typedef struct weight {
    char code[ID_MAX + 1];
    double w;
} weight;

typedef struct table {
    char key[KEY_MAX + 1]; /* "default" or "<case_type>.<step>" */
    int nweights;
    weight *weights;
} table;

struct agent_policy {
    int ntables;
    table *tables;
};

status agent_policy_create(agent_policy **out, err *e)
{
    agent_policy *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    *out = p;
    return ST_OK;
}

void agent_policy_destroy(agent_policy *p)
{
    if (p == NULL)
        return;
    for (int i = 0; i < p->ntables; i++)
        free(p->tables[i].weights);
    free(p->tables);
    free(p);
}

/* True when key is "default" or two identifiers joined by one dot. */
static bool key_valid(const char *key)
{
    char ct[ID_MAX + 2];
    const char *dot;
    size_t n;

    if (strcmp(key, "default") == 0)
        return true;
    dot = strchr(key, '.');
    if (dot == NULL)
        return false;
    n = (size_t)(dot - key);
    if (n == 0 || n > ID_MAX)
        return false;
    memcpy(ct, key, n);
    ct[n] = '\0';
    return ids_token_valid(ct) && ids_token_valid(dot + 1);
}

static status load_table(const char *path, const char *key, json_t *obj,
                         table *t, err *e)
{
    const char *code;
    json_t *w;
    double total = 0;

    if (!key_valid(key))
        return err_set(e, ST_INVALID,
                       "%s: key \"%.140s\" must be \"default\" or "
                       "\"<case_type>.<step>\" (identifiers)",
                       path, key);
    if (!json_is_object(obj))
        return err_set(e, ST_WRONG_TYPE,
                       "%s: \"%s\" must be an object of outcome code to "
                       "weight",
                       path, key);
    if (json_object_size(obj) > AGENT_POLICY_MAX_CODES)
        return err_set(e, ST_TOO_LARGE, "%s: \"%s\" has more than %d codes",
                       path, key, AGENT_POLICY_MAX_CODES);
    snprintf(t->key, sizeof(t->key), "%s", key);
    t->weights = calloc(json_object_size(obj) + 1, sizeof(*t->weights));
    if (t->weights == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    json_object_foreach(obj, code, w)
    {
        double v;

        if (!ids_token_valid(code))
            return err_set(e, ST_INVALID,
                           "%s: \"%s\" has code \"%.80s\"; codes are 1-64 "
                           "letters, digits, '_' or '-'",
                           path, key, code);
        if (!json_is_number(w))
            return err_set(e, ST_WRONG_TYPE,
                           "%s: weight of %s.%s must be a number", path, key,
                           code);
        v = json_number_value(w);
        if (!isfinite(v) || v < 0 || v > WEIGHT_MAX)
            return err_set(e, ST_INVALID,
                           "%s: weight of %s.%s must be between 0 and 1e9",
                           path, key, code);
        snprintf(t->weights[t->nweights].code, ID_MAX + 1, "%s", code);
        t->weights[t->nweights].w = v;
        t->nweights++;
        total += v;
    }
    if (total <= 0)
        return err_set(e, ST_INVALID,
                       "%s: \"%s\" has no positive weight; give at least one "
                       "code a weight above 0",
                       path, key);
    return ST_OK;
}

status agent_policy_load(agent_policy **out, const char *path, err *e)
{
    agent_policy *p = NULL;
    json_t *root = NULL, *obj;
    const char *key;
    status s;

    s = jsonx_load_file(path, &root, e);
    if (s != ST_OK) {
        if (s == ST_BAD_JSON)
            err_wrap(e, "policy file");
        goto out;
    }
    if (json_object_size(root) > AGENT_POLICY_MAX_TABLES) {
        s = err_set(e, ST_TOO_LARGE, "%s: more than %d tables", path,
                    AGENT_POLICY_MAX_TABLES);
        goto out;
    }
    if ((s = agent_policy_create(&p, e)) != ST_OK)
        goto out;
    p->tables = calloc(json_object_size(root) + 1, sizeof(*p->tables));
    if (p->tables == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    json_object_foreach(root, key, obj)
    {
        s = load_table(path, key, obj, &p->tables[p->ntables], e);
        p->ntables++; /* counted even on failure so destroy frees it */
        if (s != ST_OK)
            goto out;
    }
out:
    json_decref(root);
    if (s != ST_OK) {
        agent_policy_destroy(p);
        return s;
    }
    *out = p;
    return ST_OK;
}

static const table *find_table(const agent_policy *p, const char *key)
{
    for (int i = 0; i < p->ntables; i++)
        if (strcmp(p->tables[i].key, key) == 0)
            return &p->tables[i];
    return NULL;
}

static double table_weight(const table *t, const char *code)
{
    for (int i = 0; i < t->nweights; i++)
        if (strcmp(t->weights[i].code, code) == 0)
            return t->weights[i].w;
    return 0;
}

/* Pick an index with probability w[i] / sum(w); sum must be positive. */
static int pick(const double *w, int n, double sum, agent_rng *r)
{
    double x = agent_rng_unit(r) * sum;

    for (int i = 0; i < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    /* Rounding can leave x just past the end: take the last positive. */
    for (int i = n - 1; i >= 0; i--)
        if (w[i] > 0)
            return i;
    return 0;
}

int agent_policy_choose(const agent_policy *p, const agent_offer *o,
                        agent_rng *r)
{
    char key[KEY_MAX + 8];
    const table *tabs[2];
    double w[AGENT_MAX_OUTCOMES], sum;

    snprintf(key, sizeof(key), "%s.%s", o->case_type, o->step);
    tabs[0] = p != NULL ? find_table(p, key) : NULL;
    tabs[1] = p != NULL ? find_table(p, "default") : NULL;
    for (int t = 0; t < 2; t++) {
        if (tabs[t] == NULL)
            continue;
        sum = 0;
        for (int i = 0; i < o->noutcomes; i++) {
            w[i] = table_weight(tabs[t], o->outcomes[i].code);
            sum += w[i];
        }
        if (sum > 0)
            return pick(w, o->noutcomes, sum, r);
    }
    sum = 0;
    for (int i = 0; i < o->noutcomes; i++) {
        w[i] = o->outcomes[i].billable ? 3 : 1;
        sum += w[i];
    }
    return pick(w, o->noutcomes, sum, r);
}

void agent_policy_value(agent_field_type t, agent_rng *r, agent_value *v)
{
    memset(v, 0, sizeof(*v));
    v->type = t;
    switch (t) {
    case AGENT_FIELD_AMOUNT:
        v->i = agent_rng_range(r, 100, 10000000);
        break;
    case AGENT_FIELD_INT:
        v->i = agent_rng_range(r, 0, 100);
        break;
    case AGENT_FIELD_DATE: {
        /* Going through time_t and gmtime_r always yields a real date. */
        time_t when = time(NULL) + (time_t)agent_rng_range(r, 1, 30) * 86400;
        struct tm tm;

        gmtime_r(&when, &tm);
        strftime(v->s, sizeof(v->s), "%Y-%m-%d", &tm);
        break;
    }
    case AGENT_FIELD_STRING:
        snprintf(v->s, sizeof(v->s), "simulated note %lld",
                 (long long)agent_rng_range(r, 1, 999999));
        break;
    case AGENT_FIELD_BOOL:
        v->b = agent_rng_next(r) & 1;
        break;
    }
}

void agent_policy_outcome(const agent_policy *p, const agent_offer *o,
                          agent_rng *r, agent_outcome *out)
{
    const agent_outcome_spec *spec;

    out->index = agent_policy_choose(p, o, r);
    spec = &o->outcomes[out->index];
    out->nvalues = spec->nfields;
    for (int i = 0; i < spec->nfields; i++)
        agent_policy_value(spec->fields[i].type, r, &out->values[i]);
}
