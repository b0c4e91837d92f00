#include "payload.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"
#include "jpath.h"
#include "jsonx.h"
#include "money.h"

/* JSON paths label messages only, so a cut-off one is acceptable. */
#define PATH_CAP JPATH_MAX
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

typedef enum ptype {
    PT_STRING,
    PT_INT,
    PT_AMOUNT,
    PT_DATE,
    PT_BOOL,
    PT_OBJECT,
    PT_ARRAY
} ptype;

static const char *const type_names[] = {
    "string", "int", "amount_minor", "date", "bool", "object", "array", NULL};

/* One field of a schema (or the items of an array: name ""). */
typedef struct pnode pnode;
struct pnode {
    char name[ID_MAX + 1];
    ptype type;
    bool required;
    bool personal;     /* this field, and everything in it */
    bool has_personal; /* it or something in it is personal */
    bool has_min, has_max;
    int64_t min, max;   /* int: the range */
    int64_t max_length; /* string: characters */
    int64_t max_items;  /* array */
    int nvalues;
    char **values; /* string: the allowed values; owned */
    int nkids;
    pnode *kids; /* object: its fields; array: kids[0], the items; owned */
};

struct payload_schema {
    pnode root; /* an object */
    json_t *src;
    bool customer;
};

/* ---- decoding a schema ------------------------------------------------ */

typedef struct dec {
    bool customer;
    int nodes;
} dec;

static void node_free(pnode *n)
{
    for (int i = 0; i < n->nvalues; i++)
        free(n->values[i]);
    free(n->values);
    for (int i = 0; i < n->nkids; i++)
        node_free(&n->kids[i]);
    free(n->kids);
    memset(n, 0, sizeof(*n));
}

/* Characters of UTF-8 text (jansson has checked that it is UTF-8). */
static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

/* The members every spec may have, then those of each type. */
#define COMMON_FIELDS                                                          \
    {"type", JF_STRING, true}, {"required", JF_BOOL, false},                   \
        {"personal", JF_BOOL, false},                                          \
    {                                                                          \
        "description", JF_STRING, false                                        \
    }

static const jfield string_fields[] = {
    COMMON_FIELDS, {"max_length", JF_INT, false}, {"values", JF_ARRAY, false}};
static const jfield int_fields[] = {
    COMMON_FIELDS, {"min", JF_INT, false}, {"max", JF_INT, false}};
static const jfield plain_fields[] = {COMMON_FIELDS};
static const jfield object_fields[] = {COMMON_FIELDS,
                                       {"fields", JF_OBJECT, true}};
static const jfield array_fields[] = {
    COMMON_FIELDS, {"items", JF_OBJECT, true}, {"max_items", JF_INT, false}};

static status decode_spec(dec *d, const json_t *spec, const char *path,
                          int depth, bool in_personal, bool in_array,
                          pnode *out, err *e);

static int by_name(const void *a, const void *b)
{
    return strcmp(((const pnode *)a)->name, ((const pnode *)b)->name);
}

/* The fields of an object spec, in name order: the database keeps a
 * stored schema's keys in an order of its own, and the messages that list
 * fields must read the same from the loader and the dispatcher. */
static status decode_fields(dec *d, const json_t *fields, const char *path,
                            int depth, bool in_personal, bool in_array,
                            pnode *out, err *e)
{
    const char *key;
    json_t *v;
    char p[PATH_CAP];
    size_t n = json_object_size(fields);
    status s = ST_OK;

    if (n == 0 || n > PAYLOAD_FIELDS_MAX)
        return jpath_fail(e, ST_INVALID, path,
                          "an object has 1..%d fields (got %zu)",
                          PAYLOAD_FIELDS_MAX, n);
    out->kids = calloc(n, sizeof(pnode));
    if (out->kids == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    json_object_foreach((json_t *)fields, key, v)
    {
        pnode *k = &out->kids[out->nkids];

        jpath_join(p, path, key);
        if (!ids_token_valid(key))
            return jpath_fail(
                e, ST_INVALID, p,
                "a field name is 1-64 characters of letters, digits, "
                "'_' or '-'");
        snprintf(k->name, sizeof(k->name), "%s", key);
        out->nkids++;
        s = decode_spec(d, v, p, depth, in_personal, in_array, k, e);
        if (s != ST_OK)
            return s;
        out->has_personal = out->has_personal || k->has_personal;
    }
    qsort(out->kids, (size_t)out->nkids, sizeof(pnode), by_name);
    return ST_OK;
}

static status decode_values(const json_t *values, const char *path, pnode *out,
                            err *e)
{
    char p[PATH_CAP];
    size_t n = json_array_size(values);

    jpath_join(p, path, "values");
    if (n == 0 || n > PAYLOAD_VALUES_MAX)
        return jpath_fail(e, ST_INVALID, p, "must list 1..%d strings (got %zu)",
                          PAYLOAD_VALUES_MAX, n);
    out->values = calloc(n, sizeof(char *));
    if (out->values == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(values, i);
        char q[PATH_CAP];

        jpath_index(q, p, i);
        if (!json_is_string(v))
            return jpath_fail(e, ST_WRONG_TYPE, q, "must be a string");
        if ((int64_t)utf8_chars(json_string_value(v), json_string_length(v)) >
            out->max_length)
            return jpath_fail(e, ST_INVALID, q,
                              "is longer than max_length %lld",
                              (long long)out->max_length);
        out->values[i] = strdup(json_string_value(v));
        if (out->values[i] == NULL)
            return err_set(e, ST_NOMEM, "out of memory");
        out->nvalues++;
    }
    return ST_OK;
}

/* An optional integer member key of spec in lo..hi into *out (def when
 * absent); the JSON type is checked already. */
static status bounded(const json_t *spec, const char *key, const char *path,
                      int64_t lo, int64_t hi, int64_t def, int64_t *out, err *e)
{
    int64_t v = def;
    char p[PATH_CAP];

    if (jsonx_int(spec, key, &v) && (v < lo || v > hi)) {
        jpath_join(p, path, key);
        return jpath_fail(e, ST_INVALID, p, "must be %lld..%lld", (long long)lo,
                          (long long)hi);
    }
    *out = v;
    return ST_OK;
}

static status decode_type_members(dec *d, const json_t *spec, const char *path,
                                  int depth, bool personal, bool in_array,
                                  pnode *out, err *e)
{
    char p[PATH_CAP];
    status s = ST_OK;

    switch (out->type) {
    case PT_STRING:
        s = bounded(spec, "max_length", path, 1, PAYLOAD_STRING_MAX,
                    PAYLOAD_STRING_DEF, &out->max_length, e);
        if (s == ST_OK && json_object_get(spec, "values") != NULL)
            s = decode_values(json_object_get(spec, "values"), path, out, e);
        break;
    case PT_INT:
        out->has_min = jsonx_int(spec, "min", &out->min);
        out->has_max = jsonx_int(spec, "max", &out->max);
        if (out->has_min && out->has_max && out->min > out->max) {
            jpath_join(p, path, "min");
            s = jpath_fail(e, ST_INVALID, p, "is above max");
        }
        break;
    case PT_OBJECT:
        jpath_join(p, path, "fields");
        s = decode_fields(d, json_object_get(spec, "fields"), p, depth + 1,
                          personal, in_array, out, e);
        break;
    case PT_ARRAY:
        s = bounded(spec, "max_items", path, 1, PAYLOAD_ITEMS_MAX,
                    PAYLOAD_ITEMS_DEF, &out->max_items, e);
        if (s != ST_OK)
            break;
        out->kids = calloc(1, sizeof(pnode));
        if (out->kids == NULL)
            return err_set(e, ST_NOMEM, "out of memory");
        out->nkids = 1;
        jpath_join(p, path, "items");
        s = decode_spec(d, json_object_get(spec, "items"), p, depth + 1,
                        personal, true, &out->kids[0], e);
        break;
    default:
        break;
    }
    return s;
}

static status decode_spec(dec *d, const json_t *spec, const char *path,
                          int depth, bool in_personal, bool in_array,
                          pnode *out, err *e)
{
    static const struct {
        const jfield *fields;
        int n;
    } members[] = {{string_fields, COUNT(string_fields)},
                   {int_fields, COUNT(int_fields)},
                   {plain_fields, COUNT(plain_fields)},
                   {plain_fields, COUNT(plain_fields)},
                   {plain_fields, COUNT(plain_fields)},
                   {object_fields, COUNT(object_fields)},
                   {array_fields, COUNT(array_fields)}};
    const char *type = jsonx_str(spec, "type");
    const json_t *personal = json_object_get(spec, "personal");
    const json_t *required = json_object_get(spec, "required");
    const char *desc;
    char p[PATH_CAP];
    status s;
    int t;

    if (!json_is_object(spec))
        return jpath_fail(e, ST_WRONG_TYPE, path,
                          "must be an object such as {\"type\": \"string\"}");
    if (++d->nodes > PAYLOAD_NODES_MAX)
        return jpath_fail(e, ST_INVALID, path, "a schema has at most %d fields",
                          PAYLOAD_NODES_MAX);
    if (depth > PAYLOAD_DEPTH_MAX)
        return jpath_fail(e, ST_INVALID, path,
                          "objects and arrays nest at most %d deep",
                          PAYLOAD_DEPTH_MAX);
    if (type == NULL)
        return jpath_fail(e,
                          json_object_get(spec, "type") == NULL
                              ? ST_MISSING_FIELD
                              : ST_WRONG_TYPE,
                          path,
                          "needs \"type\": one of string, int, amount_minor, "
                          "date, bool, object, array");
    for (t = 0; type_names[t] != NULL; t++)
        if (strcmp(type_names[t], type) == 0)
            break;
    if (type_names[t] == NULL) {
        jpath_join(p, path, "type");
        return jpath_fail(
            e, ST_INVALID, p,
            "must be one of string, int, amount_minor, date, bool, "
            "object, array (got \"%.32s\")",
            type);
    }
    out->type = (ptype)t;
    if ((s = jsonx_check(spec, path, members[t].fields, members[t].n, e)) !=
        ST_OK)
        return s;
    desc = jsonx_str(spec, "description");
    if (desc != NULL && (desc[0] == '\0' || strlen(desc) > PAYLOAD_DESCRIPTION))
        return jpath_fail(e, ST_INVALID, path,
                          "description must be 1..%d bytes",
                          PAYLOAD_DESCRIPTION);
    out->required = required == NULL || json_is_true(required);
    if (personal != NULL) {
        jpath_join(p, path, "personal");
        if (d->customer)
            return jpath_fail(e, ST_INVALID, p,
                              "every field of the customer is personal; leave "
                              "\"personal\" out");
        if (in_personal)
            return jpath_fail(e, ST_INVALID, p,
                              "a field inside a personal field is personal "
                              "already; leave \"personal\" out");
        if (in_array)
            return jpath_fail(e, ST_INVALID, p,
                              "mark the array itself personal: a part of its "
                              "items cannot be sealed on its own");
    }
    out->personal = d->customer || in_personal || json_is_true(personal);
    out->has_personal = out->personal;
    s = decode_type_members(d, spec, path, depth, out->personal, in_array, out,
                            e);
    if (s == ST_OK && out->type == PT_ARRAY)
        out->has_personal = out->has_personal || out->kids[0].has_personal;
    return s;
}

status payload_schema_decode(const json_t *obj, const char *where,
                             bool customer, payload_schema **out, err *e)
{
    payload_schema *ps;
    dec d = {customer, 0};
    status s;

    if (!json_is_object(obj))
        return jpath_fail(e, ST_WRONG_TYPE, where,
                          "must be an object of field name -> spec");
    ps = calloc(1, sizeof(*ps));
    if (ps == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    ps->customer = customer;
    ps->root.type = PT_OBJECT;
    ps->root.required = true;
    s = decode_fields(&d, obj, where, 1, false, false, &ps->root, e);
    if (s == ST_OK && (ps->src = json_deep_copy(obj)) == NULL)
        s = err_set(e, ST_NOMEM, "out of memory");
    if (s != ST_OK) {
        payload_schema_destroy(ps);
        return s;
    }
    *out = ps;
    return ST_OK;
}

void payload_schema_destroy(payload_schema *s)
{
    if (s == NULL)
        return;
    node_free(&s->root);
    json_decref(s->src);
    free(s);
}

const json_t *payload_schema_json(const payload_schema *s)
{
    return s->src;
}

bool payload_schema_has_personal(const payload_schema *s)
{
    return s != NULL && s->root.has_personal;
}

bool payload_schema_same(const payload_schema *a, const payload_schema *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return a->customer == b->customer && json_equal(a->src, b->src);
}

/* ---- checking a case -------------------------------------------------- */

static bool valid_date(const char *s)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;
    char tail;

    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return false;
    if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
        return false;
    return !(m == 2 && d == 29 &&
             !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

/* The names of an object's fields, for messages. */
static void field_list(const pnode *n, bool required_only, char *buf,
                       size_t cap)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int i = 0; i < n->nkids && used < cap; i++) {
        if (required_only && !n->kids[i].required)
            continue;
        used += (size_t)snprintf(buf + used, cap - used, "%s%s",
                                 used > 0 ? ", " : "", n->kids[i].name);
    }
}

static const pnode *kid(const pnode *n, const char *name)
{
    for (int i = 0; i < n->nkids; i++)
        if (strcmp(n->kids[i].name, name) == 0)
            return &n->kids[i];
    return NULL;
}

typedef struct chk {
    const char *case_type;
} chk;

static status check_value(const chk *c, const pnode *n, const json_t *v,
                          const char *path, err *e);

static status check_object(const chk *c, const pnode *n, const json_t *v,
                           const char *path, err *e)
{
    char p[PATH_CAP], names[256];
    const char *key;
    json_t *m;
    status s;

    if (!json_is_object(v))
        return err_set(e, ST_WRONG_TYPE, "%s must be an object", path);
    json_object_foreach((json_t *)v, key, m)
    {
        const pnode *k = kid(n, key);

        if (k == NULL) {
            field_list(n, false, names, sizeof(names));
            return err_set(e, ST_UNKNOWN_FIELD,
                           "unknown field \"%.64s\" in %s; the %s playbook "
                           "allows: %s",
                           key, path, c->case_type, names);
        }
        jpath_join(p, path, key);
        if ((s = check_value(c, k, m, p, e)) != ST_OK)
            return s;
    }
    for (int i = 0; i < n->nkids; i++) {
        if (!n->kids[i].required || json_object_get(v, n->kids[i].name) != NULL)
            continue;
        if (json_object_size(v) == 0) {
            field_list(n, true, names, sizeof(names));
            return err_set(e, ST_MISSING_FIELD,
                           "%s is empty or missing, but the %s playbook "
                           "requires: %s",
                           path, c->case_type, names);
        }
        jpath_join(p, path, n->kids[i].name);
        return err_set(e, ST_MISSING_FIELD, "%s is required by the %s playbook",
                       p, c->case_type);
    }
    return ST_OK;
}

static status check_string(const pnode *n, const json_t *v, const char *path,
                           err *e)
{
    const char *str = json_string_value(v);
    size_t chars;

    if (str == NULL)
        return err_set(e, ST_WRONG_TYPE, "%s must be a string", path);
    chars = utf8_chars(str, json_string_length(v));
    if ((int64_t)chars > n->max_length)
        return err_set(e, ST_INVALID,
                       "%s must be at most %lld characters (it has %zu)", path,
                       (long long)n->max_length, chars);
    if (n->nvalues > 0) {
        char allowed[256];
        size_t used = 0;

        for (int i = 0; i < n->nvalues; i++)
            if (strcmp(n->values[i], str) == 0)
                return ST_OK;
        allowed[0] = '\0';
        for (int i = 0; i < n->nvalues && used < sizeof(allowed); i++)
            used += (size_t)snprintf(allowed + used, sizeof(allowed) - used,
                                     "%s%s", i > 0 ? ", " : "", n->values[i]);
        return err_set(e, ST_INVALID, "%s must be one of %s", path, allowed);
    }
    return ST_OK;
}

static status check_int(const pnode *n, const json_t *v, const char *path,
                        err *e)
{
    int64_t x;

    if (!json_is_integer(v))
        return err_set(e, ST_WRONG_TYPE, "%s must be an integer", path);
    x = (int64_t)json_integer_value(v);
    if ((n->has_min && x < n->min) || (n->has_max && x > n->max)) {
        char lo[24] = "any", hi[24] = "any";

        if (n->has_min)
            snprintf(lo, sizeof(lo), "%lld", (long long)n->min);
        if (n->has_max)
            snprintf(hi, sizeof(hi), "%lld", (long long)n->max);
        return err_set(e, ST_INVALID, "%s must be between %s and %s", path, lo,
                       hi);
    }
    return ST_OK;
}

static status check_array(const chk *c, const pnode *n, const json_t *v,
                          const char *path, err *e)
{
    char p[PATH_CAP];
    status s;

    if (!json_is_array(v))
        return err_set(e, ST_WRONG_TYPE, "%s must be an array", path);
    if ((int64_t)json_array_size(v) > n->max_items)
        return err_set(e, ST_INVALID, "%s must hold at most %lld items", path,
                       (long long)n->max_items);
    for (size_t i = 0; i < json_array_size(v); i++) {
        jpath_index(p, path, i);
        if ((s = check_value(c, &n->kids[0], json_array_get(v, i), p, e)) !=
            ST_OK)
            return s;
    }
    return ST_OK;
}

static status check_value(const chk *c, const pnode *n, const json_t *v,
                          const char *path, err *e)
{
    switch (n->type) {
    case PT_STRING:
        return check_string(n, v, path, e);
    case PT_INT:
        return check_int(n, v, path, e);
    case PT_AMOUNT:
        if (!json_is_integer(v))
            return err_set(e, ST_WRONG_TYPE,
                           "%s must be an integer amount in minor units", path);
        if (json_integer_value(v) < 0 ||
            json_integer_value(v) > MONEY_AMOUNT_MAX)
            return err_set(e, ST_INVALID,
                           "%s must be an amount between 0 and 10^15 minor "
                           "units",
                           path);
        return ST_OK;
    case PT_DATE:
        if (!json_is_string(v))
            return err_set(e, ST_WRONG_TYPE, "%s must be a date string", path);
        if (!valid_date(json_string_value(v)))
            return err_set(e, ST_INVALID, "%s must be a date YYYY-MM-DD", path);
        return ST_OK;
    case PT_BOOL:
        if (!json_is_boolean(v))
            return err_set(e, ST_WRONG_TYPE, "%s must be true or false", path);
        return ST_OK;
    case PT_OBJECT:
        return check_object(c, n, v, path, e);
    case PT_ARRAY:
        return check_array(c, n, v, path, e);
    }
    return err_set(e, ST_INTERNAL, "%s: unknown schema type", path);
}

/*
 * Move the personal members of v (checked against n) into a new object
 * *pers (NULL when there are none), leaving v as PostgreSQL may hold it.
 */
static status split(const pnode *n, json_t *v, json_t **pers, err *e)
{
    json_t *p = NULL;
    const char *key;
    json_t *m;
    void *tmp;

    *pers = NULL;
    json_object_foreach_safe(v, tmp, key, m)
    {
        const pnode *k = kid(n, key);
        json_t *sub = NULL;
        status s;

        if (k == NULL || !k->has_personal)
            continue;
        if (p == NULL && (p = json_object()) == NULL)
            return err_set(e, ST_NOMEM, "out of memory");
        if (k->personal) {
            if (json_object_set(p, key, m) != 0 ||
                json_object_del(v, key) != 0) {
                json_decref(p);
                return err_set(e, ST_NOMEM, "out of memory");
            }
            continue;
        }
        /* A plain object with personal fields inside (arrays have none). */
        if ((s = split(k, m, &sub, e)) != ST_OK) {
            json_decref(p);
            return s;
        }
        if (sub != NULL && json_object_set_new(p, key, sub) != 0) {
            json_decref(p);
            return err_set(e, ST_NOMEM, "out of memory");
        }
    }
    if (p != NULL && json_object_size(p) == 0) {
        json_decref(p);
        p = NULL;
    }
    *pers = p;
    return ST_OK;
}

static status parse_object(const char *text, const char *what, json_t **out,
                           err *e)
{
    json_t *v =
        json_loads(text != NULL ? text : "{}", JSON_REJECT_DUPLICATES, NULL);

    if (!json_is_object(v)) {
        json_decref(v);
        return err_set(e, ST_INVALID, "the %s is not a JSON object", what);
    }
    *out = v;
    return ST_OK;
}

status payload_check(const payload_schema *payload,
                     const payload_schema *customer, const char *case_type,
                     const char *customer_json, const char *payload_json,
                     char **plain, char **personal, err *e)
{
    chk c = {case_type};
    json_t *cus = NULL, *pay = NULL, *pers = NULL, *sealed = NULL;
    char *p1 = NULL, *p2 = NULL;
    status s;

    if ((s = parse_object(customer_json, "customer", &cus, e)) != ST_OK ||
        (s = parse_object(payload_json, "payload", &pay, e)) != ST_OK)
        goto out;
    if (customer != NULL && (s = check_object(&c, &customer->root, cus,
                                              "request.customer", e)) != ST_OK)
        goto out;
    if (payload != NULL) {
        if ((s = check_object(&c, &payload->root, pay, "request.payload", e)) !=
                ST_OK ||
            (s = split(&payload->root, pay, &pers, e)) != ST_OK)
            goto out;
    }
    if (json_object_size(cus) > 0 || pers != NULL) {
        sealed = json_pack("{s:O}", "customer", cus);
        if (sealed == NULL ||
            (pers != NULL && json_object_set(sealed, "payload", pers) != 0) ||
            (p2 = jsonx_dump(sealed)) == NULL) {
            s = err_set(e, ST_NOMEM, "out of memory");
            goto out;
        }
    }
    if ((p1 = jsonx_dump(pay)) == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    *plain = p1;
    *personal = p2;
    p1 = p2 = NULL;
out:
    free(p1);
    free(p2);
    json_decref(sealed);
    json_decref(pers);
    json_decref(cus);
    json_decref(pay);
    return s;
}

/* ---- putting a case together again ----------------------------------- */

/* Merge the members of from into into, objects recursively. */
static int merge_into(json_t *into, json_t *from)
{
    const char *key;
    json_t *m;

    json_object_foreach(from, key, m)
    {
        json_t *old = json_object_get(into, key);

        if (json_is_object(old) && json_is_object(m)) {
            if (merge_into(old, m) != 0)
                return -1;
        } else if (json_object_set(into, key, m) != 0)
            return -1;
    }
    return 0;
}

/* The dotted paths of the personal fields in pers (a split's payload
 * part), appended to a. */
static int personal_paths(const json_t *pers, const char *base, json_t *a)
{
    const char *key;
    json_t *m;

    json_object_foreach((json_t *)pers, key, m)
    {
        char p[PATH_CAP];

        if (base[0] != '\0')
            jpath_join(p, base, key);
        else
            snprintf(p, sizeof(p), "%s", key);
        /* A nested object of the sealed part holds personal fields of a
         * plain object, unless the whole object is personal: the split
         * cannot tell, so it names the object's fields one by one. */
        if (json_is_object(m) && json_object_size(m) > 0) {
            if (personal_paths(m, p, a) != 0)
                return -1;
        } else if (json_array_append_new(a, json_string(p)) != 0)
            return -1;
    }
    return 0;
}

status payload_merge(const char *view_json, const char *personal, char **out,
                     err *e)
{
    json_t *v = NULL, *p = NULL, *pay, *cus;
    char *text;
    status s;

    if ((s = parse_object(view_json, "case view", &v, e)) != ST_OK)
        return s;
    if (personal != NULL &&
        (s = parse_object(personal, "sealed part", &p, e)) != ST_OK)
        goto out;
    if (p != NULL) {
        cus = json_object_get(p, "customer");
        pay = json_object_get(v, "payload");
        if (!json_is_object(pay)) {
            pay = json_object();
            if (pay == NULL || json_object_set_new(v, "payload", pay) != 0) {
                s = err_set(e, ST_NOMEM, "out of memory");
                goto out;
            }
        }
        if ((cus != NULL && json_object_set(v, "customer", cus) != 0) ||
            (json_is_object(json_object_get(p, "payload")) &&
             merge_into(pay, json_object_get(p, "payload")) != 0)) {
            s = err_set(e, ST_NOMEM, "out of memory");
            goto out;
        }
        if (json_is_object(json_object_get(p, "payload"))) {
            json_t *paths = json_array();

            if (paths == NULL ||
                personal_paths(json_object_get(p, "payload"), "", paths) != 0 ||
                json_object_set_new(v, "personal_fields", paths) != 0) {
                s = err_set(e, ST_NOMEM, "out of memory");
                goto out;
            }
        }
    }
    text = jsonx_dump(v);
    if (text == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    *out = text;
out:
    json_decref(p);
    json_decref(v);
    return s;
}
