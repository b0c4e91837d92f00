#include "cmd_load.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_sql.h"
#include "ids.h"
#include "jpath.h"
#include "jsonx.h"
#include "money.h"
#include "playbook.h"
#include "rating.h"

/* JSON paths are short ("playbooks[2].steps[11].outcomes.x.fields.y"). */
#define PATH_MAX_LEN JPATH_MAX
#define NAME_MAX_LEN 200
#define NFIELDS(t)   ((int)(sizeof(t) / sizeof((t)[0])))

static const char *const tenant_kinds[] = {"bank", "insurer", NULL};
static const char *const worker_kinds[] = {"human", "ai", NULL};

typedef struct loader {
    db *d;
    cmd_load_counts n;
} loader;

static bool one_of(const char *s, const char *const *set)
{
    for (int i = 0; set[i] != NULL; i++)
        if (strcmp(s, set[i]) == 0)
            return true;
    return false;
}

static void join_set(char *buf, size_t cap, const char *const *set)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int i = 0; set[i] != NULL && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%s",
                                 i > 0 ? ", " : "", set[i]);
}

/* An optional string member that must be one of set (default def). */
static status enum_member(const json_t *obj, const char *key, const char *where,
                          const char *const *set, const char *def,
                          const char **out, err *e)
{
    const char *v = jsonx_str(obj, key);
    char p[PATH_MAX_LEN];
    char allowed[128];

    if (v == NULL) {
        *out = def;
        return ST_OK;
    }
    if (!one_of(v, set)) {
        jpath_join(p, where, key);
        join_set(allowed, sizeof(allowed), set);
        return jpath_fail(e, ST_INVALID, p, "must be one of %s (got \"%.64s\")",
                          allowed, v);
    }
    *out = v;
    return ST_OK;
}

/* An optional integer member in lo..hi (type already checked). */
static status int_member(const json_t *obj, const char *key, const char *where,
                         int64_t lo, int64_t hi, int64_t def, int64_t *out,
                         err *e)
{
    int64_t v;
    char p[PATH_MAX_LEN];

    if (!jsonx_int(obj, key, &v)) {
        *out = def;
        return ST_OK;
    }
    if (v < lo || v > hi) {
        jpath_join(p, where, key);
        return jpath_fail(e, ST_INVALID, p,
                          "must be an integer %lld..%lld (got %lld)",
                          (long long)lo, (long long)hi, (long long)v);
    }
    *out = v;
    return ST_OK;
}

/* A required string member of 1..NAME_MAX_LEN characters. */
static status name_member(const json_t *obj, const char *key, const char *where,
                          const char **out, err *e)
{
    const char *v = jsonx_str(obj, key);
    char p[PATH_MAX_LEN];

    if (v == NULL || v[0] == '\0' || strlen(v) > NAME_MAX_LEN) {
        jpath_join(p, where, key);
        return jpath_fail(e, ST_INVALID, p, "must be 1..%d characters",
                          NAME_MAX_LEN);
    }
    *out = v;
    return ST_OK;
}

/*
 * An object of identifier -> integer lo..hi. `what` names the values in
 * messages ("level", "slots"). When keys is not NULL, keys must be in it.
 */
static status int_map(const json_t *obj, const char *where, const char *what,
                      int64_t lo, int64_t hi, const char *const *keys, err *e)
{
    const char *k;
    json_t *v;
    char p[PATH_MAX_LEN];
    char allowed[128];

    json_object_foreach((json_t *)obj, k, v)
    {
        jpath_join(p, where, k);
        if (!ids_token_valid(k))
            return jpath_fail(e, ST_INVALID, p,
                              "name must be 1-64 letters, digits, '_' or '-'");
        if (keys != NULL && !one_of(k, keys)) {
            join_set(allowed, sizeof(allowed), keys);
            return jpath_fail(e, ST_INVALID, p, "must be one of %s", allowed);
        }
        if (!json_is_integer(v) || json_integer_value(v) < lo ||
            json_integer_value(v) > hi)
            return jpath_fail(e,
                              json_is_integer(v) ? ST_INVALID : ST_WRONG_TYPE,
                              p, "%s must be an integer %lld..%lld", what,
                              (long long)lo, (long long)hi);
    }
    return ST_OK;
}

/* The element at i of a section must be an object with a unique id. */
static status section_item(const json_t *arr, size_t i, const char *section,
                           char *where, json_t **out, err *e)
{
    json_t *v = json_array_get(arr, i);

    jpath_index(where, section, i);
    if (!json_is_object(v))
        return jpath_fail(e, ST_WRONG_TYPE, where, "must be an object");
    *out = v;
    return ST_OK;
}

/* Reject an id already used by an earlier object of the same section. */
static status unique_id(json_t *seen, const char *id, const char *where, err *e)
{
    char p[PATH_MAX_LEN];

    if (json_object_get(seen, id) != NULL) {
        jpath_join(p, where, "id");
        return jpath_fail(e, ST_INVALID, p,
                          "\"%s\" appears twice in this document; each object "
                          "must have its own id",
                          id);
    }
    if (json_object_set_new(seen, id, json_true()) != 0)
        return err_set(e, ST_NOMEM, "out of memory");
    return ST_OK;
}

static status must_exist(loader *l, const db_stmt *st, const char *id,
                         const char *where, const char *what, const char *fix,
                         err *e)
{
    const char *params[1] = {id};
    db_res *r = NULL;
    status s;
    bool found;

    s = db_run(l->d, st, params, &r, e);
    if (s != ST_OK)
        return s;
    found = db_rows(r) > 0;
    db_res_free(r);
    if (!found)
        return jpath_fail(e, ST_INVALID, where, "%s \"%s\" does not exist; %s",
                          what, id, fix);
    return ST_OK;
}

/* Run st, then free the result. */
static status run(loader *l, const db_stmt *st, const char *const *params,
                  err *e)
{
    return db_run(l->d, st, params, NULL, e);
}

static bool digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int num(const char *s, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* "YYYY-MM-DD", a day that exists, years 1970..9999. */
static bool date_valid(const char *s)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;

    if (strlen(s) < 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) ||
        s[7] != '-' || !digits(s + 8, 2))
        return false;
    y = num(s, 4);
    m = num(s + 5, 2);
    d = num(s + 8, 2);
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    return !(m == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 && y % 400)));
}

/* RFC 3339 without fractions: "2026-01-01T00:00:00Z" or "...+08:00". */
static bool timestamp_valid(const char *s)
{
    size_t n = strlen(s);

    if (n < 20 || !date_valid(s) || s[10] != 'T' || !digits(s + 11, 2) ||
        s[13] != ':' || !digits(s + 14, 2) || s[16] != ':' ||
        !digits(s + 17, 2) || num(s + 11, 2) > 23 || num(s + 14, 2) > 59 ||
        num(s + 17, 2) > 59)
        return false;
    if (n == 20)
        return s[19] == 'Z';
    return n == 25 && (s[19] == '+' || s[19] == '-') && digits(s + 20, 2) &&
           s[22] == ':' && digits(s + 23, 2) && num(s + 20, 2) <= 14 &&
           num(s + 23, 2) <= 59;
}

/*
 * Routing configuration (schema/004): step licence, rings and TTL (decoded
 * by the playbook codec, stored in the form the dispatcher decodes);
 * worker licences; pool weights and wrap-up; channel offer settings.
 */
#define LICENCES_MAX 8       /* ROUTER_WORKER_LICENCES */
#define ROUTE_W_MAX  1000000 /* keeps every score term far from overflow */
#define OFFER_MS_MIN 100
#define OFFER_MS_MAX 3600000

/*
 * A worker's "licences": [{"code": "...", "expires_on": "YYYY-MM-DD"}]
 * replaces its set when present; absent leaves the stored set alone.
 */
static status load_worker_licences(loader *l, const json_t *w,
                                   const char *where, err *e)
{
    static const jfield fields[] = {{"code", JF_TOKEN, true},
                                    {"expires_on", JF_STRING, false}};
    const json_t *arr = json_object_get(w, "licences");
    json_t *set = NULL;
    char *set_js = NULL;
    char p[PATH_MAX_LEN];
    char q[PATH_MAX_LEN];
    status s = ST_OK;

    if (arr == NULL)
        return ST_OK;
    jpath_join(p, where, "licences");
    if (json_array_size(arr) > LICENCES_MAX)
        return jpath_fail(
            e, ST_INVALID, p,
            "at most %d licences per worker (the router keeps %d)",
            LICENCES_MAX, LICENCES_MAX);
    set = json_object();
    if (set == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *lic = NULL;
        const char *code, *exp;
        char r[PATH_MAX_LEN];

        if ((s = section_item(arr, i, p, q, (json_t **)&lic, e)) != ST_OK ||
            (s = jsonx_check(lic, q, fields, NFIELDS(fields), e)) != ST_OK)
            goto out;
        code = jsonx_str(lic, "code");
        exp = jsonx_str(lic, "expires_on");
        if (exp != NULL && (strlen(exp) != 10 || !date_valid(exp))) {
            jpath_join(r, q, "expires_on");
            s = jpath_fail(
                e, ST_INVALID, r,
                "must be a date such as \"2027-06-30\" (got \"%.40s\"); "
                "leave it out for a licence that does not expire",
                exp);
            goto out;
        }
        if (json_object_get(set, code) != NULL) {
            jpath_join(r, q, "code");
            s = jpath_fail(e, ST_INVALID, r, "licence \"%s\" is listed twice",
                           code);
            goto out;
        }
        if (json_object_set_new(
                set, code, exp != NULL ? json_string(exp) : json_null()) != 0) {
            s = err_set(e, ST_NOMEM, "out of memory");
            goto out;
        }
    }
    set_js = jsonx_dump(set);
    if (set_js == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    {
        const char *params[2] = {jsonx_str(w, "id"), set_js};
        if ((s = run(l, &cli_sql_load_worker_licences_prune, params, e)) ==
            ST_OK)
            s = run(l, &cli_sql_load_worker_licences_upsert, params, e);
    }
out:
    free(set_js);
    json_decref(set);
    return s;
}

/*
 * A pool's "routing": {"wrapup_seconds", "weights", "fairness_cap"} is its
 * pool_routing row in full (what it leaves out takes the schema's
 * defaults); absent leaves the stored row alone.
 */
static status load_pool_routing(loader *l, const json_t *pool,
                                const char *where, err *e)
{
    static const jfield fields[] = {{"wrapup_seconds", JF_INT, false},
                                    {"weights", JF_OBJECT, false},
                                    {"fairness_cap", JF_INT, false}};
    static const char *const names[] = {"fit",  "occupancy", "quality",
                                        "cost", "fairness",  NULL};
    static const int64_t defaults[] = {0, 1000, 0, 0, 0};
    const json_t *ro = json_object_get(pool, "routing");
    const json_t *weights;
    char p[PATH_MAX_LEN];
    char q[PATH_MAX_LEN];
    char b[7][24];
    int64_t wrapup, cap, w[5];
    status s;

    if (ro == NULL)
        return ST_OK;
    jpath_join(p, where, "routing");
    if ((s = jsonx_check(ro, p, fields, NFIELDS(fields), e)) != ST_OK ||
        (s = int_member(ro, "wrapup_seconds", p, 0, 3600, 0, &wrapup, e)) !=
            ST_OK ||
        (s = int_member(ro, "fairness_cap", p, 0, ROUTE_W_MAX, 10, &cap, e)) !=
            ST_OK)
        return s;
    weights = json_object_get(ro, "weights");
    jpath_join(q, p, "weights");
    if (weights != NULL &&
        (s = int_map(weights, q, "weight", 0, ROUTE_W_MAX, names, e)) != ST_OK)
        return s;
    for (int i = 0; i < 5; i++)
        if (weights == NULL || !jsonx_int(weights, names[i], &w[i]))
            w[i] = defaults[i];
    {
        const char *params[8] = {
            jsonx_str(pool, "id"),  db_i64_str(b[0], wrapup),
            db_i64_str(b[1], w[0]), db_i64_str(b[2], w[1]),
            db_i64_str(b[3], w[2]), db_i64_str(b[4], w[3]),
            db_i64_str(b[5], w[4]), db_i64_str(b[6], cap)};
        return run(l, &cli_sql_load_pool_routing_upsert, params, e);
    }
}

/*
 * "channels": {"voice": {"offer_timeout_ms": n, "auto_accept": false}}:
 * each channel named is set in full (offer_timeout_ms left out: the
 * dispatcher's --offer-timeout-ms; auto_accept left out: false).
 */
static status load_channels(loader *l, const json_t *obj, err *e)
{
    static const jfield fields[] = {{"offer_timeout_ms", JF_INT, false},
                                    {"auto_accept", JF_BOOL, false}};
    const char *ch;
    json_t *v;
    char p[PATH_MAX_LEN];
    char q[PATH_MAX_LEN];
    char allowed[128];
    status s;

    json_object_foreach((json_t *)obj, ch, v)
    {
        bool auto_accept;
        int64_t ms;
        char mbuf[24];

        jpath_join(p, "channels", ch);
        if (!one_of(ch, playbook_channel_names())) {
            join_set(allowed, sizeof(allowed), playbook_channel_names());
            return jpath_fail(e, ST_INVALID, p, "must be one of %s", allowed);
        }
        if (!json_is_object(v))
            return jpath_fail(
                e, ST_WRONG_TYPE, p,
                "must be an object such as {\"offer_timeout_ms\": "
                "15000}");
        if ((s = jsonx_check(v, p, fields, NFIELDS(fields), e)) != ST_OK ||
            (s = int_member(v, "offer_timeout_ms", p, OFFER_MS_MIN,
                            OFFER_MS_MAX, 0, &ms, e)) != ST_OK)
            return s;
        auto_accept = json_is_true(json_object_get(v, "auto_accept"));
        if (auto_accept && strcmp(ch, "backoffice") != 0) {
            jpath_join(q, p, "auto_accept");
            return jpath_fail(
                e, ST_INVALID, q,
                "only backoffice work may be accepted on a worker's "
                "behalf; a %s contact needs the worker to accept",
                ch);
        }
        {
            const char *params[3] = {ch, ms > 0 ? db_i64_str(mbuf, ms) : "",
                                     auto_accept ? "true" : "false"};
            if ((s = run(l, &cli_sql_load_channel_upsert, params, e)) != ST_OK)
                return s;
        }
        l->n.channels++;
    }
    return ST_OK;
}

/* ---- legal identity (invoices, docs/config.md "legal") ---- */

/* A party's legal identity as the upserts take it: name, address, tax id,
 * country, bank name, bank account; NULL when the document has none. */
typedef struct legal {
    const char *v[6];
} legal;

/* The characters of China's unified social credit code (GB 32100-2015):
 * digits and capitals without I, O, S, V and Z. */
static const char uscc_chars[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/* True when code is an 18-character unified social credit code whose last
 * character is its check character: weights 3^i mod 31, and the check is
 * 31 minus the weighted sum mod 31 (31 written as 0). */
static bool uscc_valid(const char *code)
{
    int sum = 0, weight = 1;
    const char *p;

    if (strlen(code) != 18)
        return false;
    for (int i = 0; i < 18; i++)
        if (code[i] == '\0' || strchr(uscc_chars, code[i]) == NULL)
            return false;
    for (int i = 0; i < 17; i++) {
        p = strchr(uscc_chars, code[i]);
        sum += (int)(p - uscc_chars) * weight;
        weight = weight * 3 % 31;
    }
    return uscc_chars[(31 - sum % 31) % 31] == code[17];
}

/* Tax ids are printed and matched by people and tax systems: letters,
 * digits and the separators some countries print ("GB 123 4567 89",
 * "DE-123/456"). */
static bool tax_id_chars(const char *s)
{
    for (; *s != '\0'; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              (*s >= '0' && *s <= '9') || strchr(" -./", *s) != NULL))
            return false;
    return true;
}

/* A required text member of 1..max bytes. */
static status text_member(const json_t *obj, const char *key, const char *where,
                          size_t max, const char **out, err *e)
{
    const char *v = jsonx_str(obj, key);
    char p[PATH_MAX_LEN];

    if (v == NULL || v[0] == '\0' || strlen(v) > max) {
        jpath_join(p, where, key);
        return jpath_fail(e, ST_INVALID, p, "must be 1..%zu characters", max);
    }
    *out = v;
    return ST_OK;
}

/*
 * The optional "legal" object of a tenant or operator: name, address,
 * tax_id and country are required in it, bank optional. Absent: every
 * field NULL (the invoices print the configured name and mark the rest
 * as not configured).
 */
static status load_legal(const json_t *obj, const char *where, legal *out,
                         err *e)
{
    static const jfield fields[] = {{"name", JF_STRING, true},
                                    {"address", JF_STRING, true},
                                    {"tax_id", JF_STRING, true},
                                    {"country", JF_STRING, true},
                                    {"bank", JF_OBJECT, false}};
    static const jfield bank_fields[] = {{"name", JF_STRING, true},
                                         {"account", JF_STRING, true}};
    const json_t *lg = json_object_get(obj, "legal");
    const json_t *bank;
    char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
    const char *country, *tax_id;
    legal r = {{NULL}};
    status s;

    *out = r;
    if (lg == NULL)
        return ST_OK;
    jpath_join(p, where, "legal");
    if ((s = jsonx_check(lg, p, fields, NFIELDS(fields), e)) != ST_OK ||
        (s = text_member(lg, "name", p, 200, &r.v[0], e)) != ST_OK ||
        (s = text_member(lg, "address", p, 500, &r.v[1], e)) != ST_OK ||
        (s = text_member(lg, "tax_id", p, 32, &r.v[2], e)) != ST_OK)
        return s;
    country = jsonx_str(lg, "country");
    if (strlen(country) != 2 || country[0] < 'A' || country[0] > 'Z' ||
        country[1] < 'A' || country[1] > 'Z') {
        jpath_join(q, p, "country");
        return jpath_fail(
            e, ST_INVALID, q,
            "must be an ISO 3166-1 alpha-2 code in capitals, such as "
            "\"CN\" (got \"%.16s\")",
            country);
    }
    r.v[3] = country;
    tax_id = r.v[2];
    jpath_join(q, p, "tax_id");
    if (!tax_id_chars(tax_id))
        return jpath_fail(e, ST_INVALID, q,
                          "may hold only letters, digits, spaces and - . / "
                          "(got \"%.32s\")",
                          tax_id);
    if (strcmp(country, "CN") == 0 && !uscc_valid(tax_id))
        return jpath_fail(
            e, ST_INVALID, q,
            "\"%.32s\" is not a unified social credit code: a "
            "Chinese tax id is 18 digits and capitals (no I, O, S, "
            "V, Z) whose last is its check character (GB 32100)",
            tax_id);
    if ((bank = json_object_get(lg, "bank")) != NULL) {
        jpath_join(q, p, "bank");
        if ((s = jsonx_check(bank, q, bank_fields, NFIELDS(bank_fields), e)) !=
                ST_OK ||
            (s = text_member(bank, "name", q, 200, &r.v[4], e)) != ST_OK ||
            (s = text_member(bank, "account", q, 64, &r.v[5], e)) != ST_OK)
            return s;
    }
    *out = r;
    return ST_OK;
}

/* The tenant's time zone: an IANA name PostgreSQL knows ("Asia/Shanghai");
 * "UTC" when absent. */
static status time_zone_member(loader *l, const json_t *t, const char *where,
                               const char **out, err *e)
{
    const char *tz = jsonx_str(t, "time_zone");
    const char *params[1] = {tz};
    char p[PATH_MAX_LEN];
    db_res *r = NULL;
    status s;
    bool known;

    if (tz == NULL) {
        *out = "UTC";
        return ST_OK;
    }
    jpath_join(p, where, "time_zone");
    if (tz[0] == '\0' || strlen(tz) > 64)
        return jpath_fail(e, ST_INVALID, p, "must be 1..64 characters");
    if ((s = db_run(l->d, &cli_sql_load_time_zone_known, params, &r, e)) !=
        ST_OK)
        return s;
    known = db_rows(r) > 0;
    db_res_free(r);
    if (!known)
        return jpath_fail(
            e, ST_INVALID, p,
            "\"%.64s\" is not a time zone; use an IANA name such as "
            "\"Asia/Shanghai\" or \"Europe/Berlin\", or \"UTC\"",
            tz);
    *out = tz;
    return ST_OK;
}

static status load_tenant(loader *l, const json_t *t, const char *where, err *e)
{
    static const jfield fields[] = {
        {"id", JF_TOKEN, true},          {"name", JF_STRING, true},
        {"kind", JF_STRING, false},      {"priority", JF_INT, false},
        {"time_zone", JF_STRING, false}, {"legal", JF_OBJECT, false}};
    const char *name, *kind, *tz = "UTC";
    int64_t prio;
    char pbuf[24];
    legal lg;
    status s;

    if ((s = jsonx_check(t, where, fields, NFIELDS(fields), e)) != ST_OK ||
        (s = name_member(t, "name", where, &name, e)) != ST_OK ||
        (s = enum_member(t, "kind", where, tenant_kinds, "bank", &kind, e)) !=
            ST_OK ||
        (s = int_member(t, "priority", where, 0, 9, 0, &prio, e)) != ST_OK ||
        (s = time_zone_member(l, t, where, &tz, e)) != ST_OK ||
        (s = load_legal(t, where, &lg, e)) != ST_OK)
        return s;
    {
        const char *params[11] = {jsonx_str(t, "id"),
                                  name,
                                  kind,
                                  db_i64_str(pbuf, prio),
                                  tz,
                                  lg.v[0],
                                  lg.v[1],
                                  lg.v[2],
                                  lg.v[3],
                                  lg.v[4],
                                  lg.v[5]};
        if ((s = run(l, &cli_sql_load_tenant_upsert, params, e)) != ST_OK)
            return s;
    }
    l->n.tenants++;
    return ST_OK;
}

static status load_operator(loader *l, const json_t *o, const char *where,
                            err *e)
{
    static const jfield fields[] = {{"id", JF_TOKEN, true},
                                    {"name", JF_STRING, true},
                                    {"legal", JF_OBJECT, false}};
    const char *name;
    legal lg;
    status s;

    if ((s = jsonx_check(o, where, fields, NFIELDS(fields), e)) != ST_OK ||
        (s = name_member(o, "name", where, &name, e)) != ST_OK ||
        (s = load_legal(o, where, &lg, e)) != ST_OK)
        return s;
    {
        const char *params[8] = {jsonx_str(o, "id"),
                                 name,
                                 lg.v[0],
                                 lg.v[1],
                                 lg.v[2],
                                 lg.v[3],
                                 lg.v[4],
                                 lg.v[5]};
        if ((s = run(l, &cli_sql_load_operator_upsert, params, e)) != ST_OK)
            return s;
    }
    l->n.operators++;
    return ST_OK;
}

static status load_pool(loader *l, const json_t *o, const char *where, err *e)
{
    static const jfield fields[] = {{"id", JF_TOKEN, true},
                                    {"operator", JF_TOKEN, true},
                                    {"name", JF_STRING, true},
                                    {"routing", JF_OBJECT, false}};
    char p[PATH_MAX_LEN];
    const char *name;
    status s;

    if ((s = jsonx_check(o, where, fields, NFIELDS(fields), e)) != ST_OK ||
        (s = name_member(o, "name", where, &name, e)) != ST_OK)
        return s;
    jpath_join(p, where, "operator");
    s = must_exist(l, &cli_sql_operator_known, jsonx_str(o, "operator"), p,
                   "operator",
                   "add it under \"operators\" or load the operator's "
                   "file first",
                   e);
    if (s != ST_OK)
        return s;
    {
        const char *params[3] = {jsonx_str(o, "id"), jsonx_str(o, "operator"),
                                 name};
        if ((s = run(l, &cli_sql_load_pool_upsert, params, e)) != ST_OK ||
            (s = load_pool_routing(l, o, where, e)) != ST_OK)
            return s;
    }
    l->n.pools++;
    return ST_OK;
}

/* Languages are short tags such as "zh", "en", "zh-Hant". */
static status check_languages(const json_t *arr, const char *where, err *e)
{
    size_t i;
    json_t *v;
    char p[PATH_MAX_LEN];

    json_array_foreach(arr, i, v)
    {
        const char *s = json_string_value(v);
        size_t n;

        jpath_index(p, where, i);
        if (s == NULL)
            return jpath_fail(e, ST_WRONG_TYPE, p, "must be a string");
        n = strlen(s);
        if (n < 2 || n > 16 ||
            strspn(s, "abcdefghijklmnopqrstuvwxyz"
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789-") != n)
            return jpath_fail(
                e, ST_INVALID, p,
                "must be a language tag such as \"zh\" or \"en\"");
    }
    return ST_OK;
}

/* Merge skills and ai_skills into {"skill": {"level": n, "ai_level": m}}. */
static status merge_skills(const json_t *skills, const json_t *ai, json_t **out,
                           err *e)
{
    json_t *m = json_object();
    const char *k;
    json_t *v;

    if (m == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    json_object_foreach((json_t *)skills, k, v)
    {
        if (json_object_set_new(m, k,
                                json_pack("{s:I, s:i}", "level",
                                          json_integer_value(v), "ai_level",
                                          0)) != 0)
            goto nomem;
    }
    json_object_foreach((json_t *)ai, k, v)
    {
        json_t *row = json_object_get(m, k);
        if (row == NULL) {
            row = json_pack("{s:i, s:i}", "level", 0, "ai_level", 0);
            if (row == NULL || json_object_set_new(m, k, row) != 0)
                goto nomem;
        }
        if (json_object_set_new(row, "ai_level",
                                json_integer(json_integer_value(v))) != 0)
            goto nomem;
    }
    *out = m;
    return ST_OK;
nomem:
    json_decref(m);
    return err_set(e, ST_NOMEM, "out of memory");
}

static status load_worker(loader *l, const json_t *w, const char *where, err *e)
{
    static const jfield fields[] = {
        {"id", JF_TOKEN, true},         {"pool", JF_TOKEN, true},
        {"name", JF_STRING, true},      {"kind", JF_STRING, false},
        {"languages", JF_ARRAY, false}, {"quality", JF_INT, false},
        {"skills", JF_OBJECT, false},   {"ai_skills", JF_OBJECT, false},
        {"capacity", JF_OBJECT, true},  {"licences", JF_ARRAY, false},
        {"on_call", JF_BOOL, false}};
    json_t *empty = json_object();
    json_t *no_langs = json_array();
    const json_t *skills, *ai, *langs;
    json_t *merged = NULL;
    char *langs_js = NULL, *skills_js = NULL, *cap_js = NULL;
    const char *name, *kind;
    char p[PATH_MAX_LEN];
    char qbuf[24];
    int64_t quality;
    status s;

    if (empty == NULL || no_langs == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    if ((s = jsonx_check(w, where, fields, NFIELDS(fields), e)) != ST_OK ||
        (s = name_member(w, "name", where, &name, e)) != ST_OK ||
        (s = enum_member(w, "kind", where, worker_kinds, "human", &kind, e)) !=
            ST_OK ||
        (s = int_member(w, "quality", where, 0, 100, 80, &quality, e)) != ST_OK)
        goto out;
    langs = json_object_get(w, "languages");
    if (langs == NULL)
        langs = no_langs;
    skills = json_object_get(w, "skills");
    if (skills == NULL)
        skills = empty;
    ai = json_object_get(w, "ai_skills");
    if (ai == NULL)
        ai = empty;
    jpath_join(p, where, "languages");
    if ((s = check_languages(langs, p, e)) != ST_OK)
        goto out;
    jpath_join(p, where, "skills");
    if ((s = int_map(skills, p, "level", 0, 5, NULL, e)) != ST_OK)
        goto out;
    jpath_join(p, where, "ai_skills");
    if ((s = int_map(ai, p, "level", 0, 5, NULL, e)) != ST_OK)
        goto out;
    jpath_join(p, where, "capacity");
    if ((s = int_map(json_object_get(w, "capacity"), p, "slots", 0, 64,
                     playbook_channel_names(), e)) != ST_OK)
        goto out;
    jpath_join(p, where, "pool");
    s = must_exist(l, &cli_sql_pool_known, jsonx_str(w, "pool"), p, "pool",
                   "add it under \"pools\" or load the operator's file "
                   "first; run: twinline worker list",
                   e);
    if (s != ST_OK)
        goto out;
    if ((s = merge_skills(skills, ai, &merged, e)) != ST_OK)
        goto out;
    langs_js = jsonx_dump(langs);
    skills_js = jsonx_dump(merged);
    cap_js = jsonx_dump(json_object_get(w, "capacity"));
    if (langs_js == NULL || skills_js == NULL || cap_js == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    {
        const char *id = jsonx_str(w, "id");
        const char *wp[7] = {
            id,
            jsonx_str(w, "pool"),
            name,
            kind,
            langs_js,
            db_i64_str(qbuf, quality),
            json_is_true(json_object_get(w, "on_call")) ? "true" : "false"};
        const char *sp[2] = {id, skills_js};
        const char *cp[2] = {id, cap_js};

        if ((s = run(l, &cli_sql_load_worker_upsert, wp, e)) != ST_OK ||
            (s = run(l, &cli_sql_load_worker_skills_prune, sp, e)) != ST_OK ||
            (s = run(l, &cli_sql_load_worker_skills_upsert, sp, e)) != ST_OK ||
            (s = run(l, &cli_sql_load_worker_capacity_prune, cp, e)) != ST_OK ||
            (s = run(l, &cli_sql_load_worker_capacity_upsert, cp, e)) !=
                ST_OK ||
            (s = load_worker_licences(l, w, where, e)) != ST_OK)
            goto out;
    }
    l->n.workers++;
out:
    free(langs_js);
    free(skills_js);
    free(cap_js);
    json_decref(merged);
    json_decref(empty);
    json_decref(no_langs);
    return s;
}

/* Overflow pools of the step's rings must exist (the codec checked the
 * rest of the step). */
static status check_overflow_pools(loader *l, const pb_step *st,
                                   const char *where, err *e)
{
    char p[PATH_MAX_LEN];
    char q[PATH_MAX_LEN];
    char r[PATH_MAX_LEN];
    status s;

    jpath_join(r, where, "rings");
    for (int i = 0; i < st->nrings; i++) {
        if (st->rings[i].overflow_pool[0] == '\0')
            continue;
        jpath_index(q, r, (size_t)i);
        jpath_join(p, q, "overflow_pool");
        s = must_exist(l, &cli_sql_pool_known, st->rings[i].overflow_pool, p,
                       "pool",
                       "add it under \"pools\" or load the operator's file "
                       "first",
                       e);
        if (s != ST_OK)
            return s;
    }
    return ST_OK;
}

/* Store step `ordinal` of pb in the form the dispatcher decodes; steps
 * without routing keep the schema's defaults for it. */
static status insert_step(loader *l, const playbook *pb, const char *ver,
                          int ordinal, err *e)
{
    const pb_step *st = &pb->steps[ordinal];
    pb_step_text t;
    char obuf[24], sbuf[24], bbuf[24], tbuf[24];
    status s;

    if ((s = playbook_step_encode(st, &t, e)) != ST_OK)
        return s;
    {
        const char *params[13] = {pb->tenant,
                                  pb->case_type,
                                  ver,
                                  st->key,
                                  db_i64_str(obuf, ordinal),
                                  playbook_channel_name(st->channel),
                                  db_i64_str(sbuf, st->sla_seconds),
                                  playbook_ai_name(st->ai),
                                  t.skills,
                                  t.after,
                                  t.when,
                                  t.outcomes,
                                  db_i64_str(bbuf, st->broadcast)};
        s = run(l, &cli_sql_load_step_insert, params, e);
    }
    if (s == ST_OK &&
        (st->licence[0] != '\0' || st->nrings > 0 || st->ttl_seconds > 0)) {
        const char *params[7] = {pb->tenant,
                                 pb->case_type,
                                 ver,
                                 st->key,
                                 st->licence,
                                 t.rings,
                                 db_i64_str(tbuf, st->ttl_seconds)};
        s = run(l, &cli_sql_load_step_routing_set, params, e);
    }
    playbook_step_text_free(&t);
    return s;
}

/*
 * One playbook: decoded (and every limit checked) by the playbook codec,
 * the dispatcher's own decoder, so what loads is what the dispatcher runs.
 */
static status load_playbook(loader *l, const json_t *doc, const char *where,
                            json_t *seen, err *e)
{
    playbook *pb = NULL;
    char *def = NULL;
    char p[PATH_MAX_LEN];
    char key[2 * ID_MAX + 2];
    char vbuf[24];
    db_res *r = NULL;
    int64_t version = 1;
    status s;

    if ((s = playbook_decode(doc, where, &pb, e)) != ST_OK)
        goto out;
    snprintf(key, sizeof(key), "%s/%s", pb->tenant, pb->case_type);
    if (json_object_get(seen, key) != NULL) {
        s = jpath_fail(
            e, ST_INVALID, where,
            "a second playbook for tenant \"%s\" and case type \"%s\"; "
            "each may appear once per document",
            pb->tenant, pb->case_type);
        goto out;
    }
    if (json_object_set_new(seen, key, json_true()) != 0) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    jpath_join(p, where, "steps");
    for (int i = 0; i < pb->nsteps; i++) {
        char sp[PATH_MAX_LEN];

        jpath_index(sp, p, (size_t)i);
        if ((s = check_overflow_pools(l, &pb->steps[i], sp, e)) != ST_OK)
            goto out;
    }
    jpath_join(p, where, "tenant");
    s = must_exist(l, &cli_sql_tenant_known, pb->tenant, p, "tenant",
                   "add it under \"tenants\"; run: twinline tenant list", e);
    if (s != ST_OK)
        goto out;
    def = jsonx_dump(doc);
    if (def == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    {
        const char *params[3] = {pb->tenant, pb->case_type, def};
        if ((s = db_run(l->d, &cli_sql_load_playbook_latest, params, &r, e)) !=
            ST_OK)
            goto out;
    }
    l->n.playbooks++;
    if (db_rows(r) > 0) {
        if (db_bool(r, 0, CLI_LOAD_PLAYBOOK_LATEST_SAME))
            goto out; /* same definition: nothing to add */
        version = db_i64(r, 0, CLI_LOAD_PLAYBOOK_LATEST_VERSION) + 1;
    }
    db_i64_str(vbuf, version);
    {
        const char *params[5] = {pb->tenant, pb->case_type, vbuf,
                                 jsonx_str(doc, "name"), def};
        if ((s = run(l, &cli_sql_load_playbook_insert, params, e)) != ST_OK)
            goto out;
    }
    for (int i = 0; i < pb->nsteps; i++)
        if ((s = insert_step(l, pb, vbuf, i, e)) != ST_OK)
            goto out;
    l->n.playbook_versions++;
out:
    db_res_free(r);
    free(def);
    playbook_destroy(pb);
    return s;
}

static status load_playbooks(loader *l, const json_t *arr, err *e)
{
    json_t *seen = json_object();
    char where[PATH_MAX_LEN];
    status s = ST_OK;
    size_t i;

    if (seen == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    for (i = 0; i < json_array_size(arr); i++) {
        json_t *pb = NULL;

        if ((s = section_item(arr, i, "playbooks", where, &pb, e)) != ST_OK ||
            (s = load_playbook(l, pb, where, seen, e)) != ST_OK)
            break;
    }
    json_decref(seen);
    return s;
}

/* Prices of one case type: codes must be billable outcomes of its playbook. */
static status check_prices(loader *l, const char *tenant, const char *ctype,
                           const json_t *prices, const char *where, err *e)
{
    const char *params[2] = {tenant, ctype};
    db_res *r = NULL;
    const char *code;
    json_t *amount;
    char p[PATH_MAX_LEN];
    status s;

    if (!json_is_object(prices))
        return jpath_fail(e, ST_WRONG_TYPE, where,
                          "must be an object of outcome code -> price in minor "
                          "units");
    if ((s = db_run(l->d, &cli_sql_load_playbook_outcomes, params, &r, e)) !=
        ST_OK)
        return s;
    if (db_rows(r) == 0) {
        s = jpath_fail(
            e, ST_UNKNOWN_CASE_TYPE, where,
            "case type \"%s\" is not defined for tenant \"%s\"; run: "
            "twinline playbook list",
            ctype, tenant);
        goto out;
    }
    json_object_foreach((json_t *)prices, code, amount)
    {
        int row = -1;

        jpath_join(p, where, code);
        if (!json_is_integer(amount)) {
            s = jpath_fail(e, ST_WRONG_TYPE, p,
                           "price must be an integer amount in minor units");
            goto out;
        }
        if (json_integer_value(amount) < 0 ||
            json_integer_value(amount) > MONEY_AMOUNT_MAX) {
            s = jpath_fail(e, ST_INVALID, p,
                           "price must be 0..%lld minor units (got %lld)",
                           MONEY_AMOUNT_MAX,
                           (long long)json_integer_value(amount));
            goto out;
        }
        for (int i = 0; i < db_rows(r); i++)
            if (strcmp(db_val(r, i, CLI_LOAD_PLAYBOOK_OUTCOMES_CODE), code) ==
                0)
                row = i;
        if (row < 0) {
            s = jpath_fail(
                e, ST_INVALID, p,
                "\"%s\" is not an outcome code of the %s playbook of "
                "tenant \"%s\"; run: twinline playbook show %s %s",
                code, ctype, tenant, tenant, ctype);
            goto out;
        }
        if (!db_bool(r, row, CLI_LOAD_PLAYBOOK_OUTCOMES_BILLABLE)) {
            s = jpath_fail(
                e, ST_INVALID, p,
                "outcome \"%s\" is not billable in the %s playbook of "
                "tenant \"%s\"; only billable outcomes have a price",
                code, ctype, tenant);
            goto out;
        }
    }
out:
    db_res_free(r);
    return s;
}

/*
 * Price plans (schema/005 contract_plans). A version is immutable: the
 * same version again is a no-op, a different one is refused. Versions of
 * a contract take effect in version order.
 */
#define PLAN_VERIFY_MAX   31622400LL /* 366 days, as the schema allows */
#define PLAN_CLAWBACK_MAX 63244800LL
#define PLAN_FEE_MAX      10000 /* basis points */

/* weights: {"operator": n, "worker": n, "ai": n}; default operator 1. */
static status plan_weights(const json_t *pv, const char *where, int64_t w[3],
                           err *e)
{
    static const char *const parties[] = {"operator", "worker", "ai", NULL};
    const json_t *obj = json_object_get(pv, "weights");
    char p[PATH_MAX_LEN];
    status s;

    w[0] = 1;
    w[1] = 0;
    w[2] = 0;
    if (obj == NULL)
        return ST_OK;
    jpath_join(p, where, "weights");
    s = int_map(obj, p, "weight", 0, RATING_WEIGHT_MAX, parties, e);
    if (s != ST_OK)
        return s;
    for (int i = 0; i < 3; i++)
        if (!jsonx_int(obj, parties[i], &w[i]))
            w[i] = 0;
    if (w[0] + w[1] + w[2] < 1 || w[0] + w[1] + w[2] > RATING_WEIGHT_MAX)
        return jpath_fail(e, ST_INVALID, p,
                          "the weights must add up to 1..%d (got %lld)",
                          RATING_WEIGHT_MAX, (long long)(w[0] + w[1] + w[2]));
    return ST_OK;
}

/* The AI share goes to one fixed party: an AI worker that exists. */
static status plan_ai_party(loader *l, const json_t *pv, int64_t ai_weight,
                            const char *where, err *e)
{
    const char *party = jsonx_str(pv, "ai_party");
    const char *params[1] = {party};
    char p[PATH_MAX_LEN];
    db_res *r = NULL;
    status s;

    jpath_join(p, where, "ai_party");
    if (party == NULL) {
        if (ai_weight > 0)
            return jpath_fail(
                e, ST_MISSING_FIELD, p,
                "weights.ai is %lld, so the plan must name the AI "
                "worker paid the AI share",
                (long long)ai_weight);
        return ST_OK;
    }
    if ((s = db_run(l->d, &cli_sql_load_worker_kind, params, &r, e)) != ST_OK)
        return s;
    if (db_rows(r) == 0)
        s = jpath_fail(
            e, ST_INVALID, p,
            "worker \"%s\" does not exist; load the file that defines "
            "it first; run: twinline worker list",
            party);
    else if (strcmp(db_val(r, 0, CLI_LOAD_WORKER_KIND_KIND), "ai") != 0)
        s = jpath_fail(
            e, ST_INVALID, p,
            "worker \"%s\" is not an AI worker (kind \"%s\"); the AI "
            "share goes to an AI worker, a human's to \"weights.worker\"",
            party, db_val(r, 0, CLI_LOAD_WORKER_KIND_KIND));
    db_res_free(r);
    return s;
}

/*
 * Every billable outcome of the contract's case types must have a rule in
 * the plan (billing stores nothing for an outcome its plan does not cover),
 * and every code of the plan must be such an outcome (anything else is
 * never rated, most likely a typo).
 */
static status plan_coverage(loader *l, const json_t *c, const json_t *doc,
                            const rating_plan *plan, const char *where, err *e)
{
    const char *tenant = jsonx_str(c, "tenant");
    const json_t *prices = json_object_get(c, "prices");
    json_t *billable = json_object();
    const char *ctype, *code;
    json_t *v;
    char p[PATH_MAX_LEN];
    status s = ST_OK;

    if (billable == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    json_object_foreach((json_t *)prices, ctype, v)
    {
        const char *params[2] = {tenant, ctype};
        db_res *r = NULL;

        if ((s = db_run(l->d, &cli_sql_load_playbook_outcomes, params, &r,
                        e)) != ST_OK)
            goto out;
        for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
            const char *oc = db_val(r, i, CLI_LOAD_PLAYBOOK_OUTCOMES_CODE);

            if (!db_bool(r, i, CLI_LOAD_PLAYBOOK_OUTCOMES_BILLABLE))
                continue;
            if (!rating_plan_covers(plan, oc)) {
                jpath_join(p, where, "plan.outcomes");
                s = jpath_fail(
                    e, ST_INVALID, p,
                    "no rule for \"%s\", a billable outcome of case "
                    "type \"%s\"; add one (\"%s\": {} charges nothing)",
                    oc, ctype, oc);
            } else if (json_object_set_new(billable, oc, json_true()) != 0) {
                s = err_set(e, ST_NOMEM, "out of memory");
            }
        }
        db_res_free(r);
        if (s != ST_OK)
            goto out;
    }
    json_object_foreach(json_object_get(doc, "outcomes"), code, v)
    {
        if (json_object_get(billable, code) != NULL)
            continue;
        char q[PATH_MAX_LEN];

        jpath_join(q, where, "plan.outcomes");
        jpath_join(p, q, code);
        s = jpath_fail(
            e, ST_INVALID, p,
            "\"%s\" is not a billable outcome of the contract's case "
            "types; run: twinline playbook show %s CASE_TYPE",
            code, tenant);
        goto out;
    }
out:
    json_decref(billable);
    return s;
}

/* Parse the plan with billing's own parser: what billing would refuse. */
static status plan_parse(const json_t *c, const json_t *pv, const char *where,
                         rating_plan **out, char **text, err *e)
{
    const char *cur = jsonx_str(c, "currency");
    char p[PATH_MAX_LEN];
    rating_plan *plan = NULL;
    char *js;
    status s;

    js = jsonx_dump(json_object_get(pv, "plan"));
    if (js == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    s = rating_plan_parse(js, strlen(js), &plan, e);
    if (s != ST_OK) {
        free(js);
        return err_wrap(e, "%s", where);
    }
    if (strcmp(rating_plan_currency(plan), cur) != 0) {
        jpath_join(p, where, "plan.currency");
        s = jpath_fail(e, ST_INVALID, p,
                       "\"%s\" differs from the contract's currency \"%s\"",
                       rating_plan_currency(plan), cur);
        rating_plan_destroy(plan);
        free(js);
        return s;
    }
    *out = plan;
    *text = js;
    return ST_OK;
}

static status load_plan(loader *l, const json_t *c, const json_t *pv,
                        const char *where, err *e)
{
    static const jfield fields[] = {
        {"version", JF_INT, true},     {"effective_from", JF_STRING, true},
        {"plan", JF_OBJECT, true},     {"verification_s", JF_INT, false},
        {"clawback_s", JF_INT, false}, {"platform_fee_bps", JF_INT, false},
        {"weights", JF_OBJECT, false}, {"ai_party", JF_TOKEN, false}};
    const char *id = jsonx_str(c, "id");
    const char *from = jsonx_str(pv, "effective_from");
    const char *party = jsonx_str(pv, "ai_party");
    rating_plan *plan = NULL;
    char *text = NULL;
    char p[PATH_MAX_LEN];
    char b[7][24];
    int64_t version, verify, clawback, fee, w[3];
    db_res *r = NULL;
    status s;

    if ((s = jsonx_check(pv, where, fields, NFIELDS(fields), e)) != ST_OK ||
        (s = int_member(pv, "version", where, 1, INT32_MAX, 1, &version, e)) !=
            ST_OK ||
        (s = int_member(pv, "verification_s", where, 0, PLAN_VERIFY_MAX, 0,
                        &verify, e)) != ST_OK ||
        (s = int_member(pv, "clawback_s", where, 0, PLAN_CLAWBACK_MAX, verify,
                        &clawback, e)) != ST_OK ||
        (s = int_member(pv, "platform_fee_bps", where, 0, PLAN_FEE_MAX, 0, &fee,
                        e)) != ST_OK ||
        (s = plan_weights(pv, where, w, e)) != ST_OK)
        goto out;
    if (clawback < verify) {
        jpath_join(p, where, "clawback_s");
        s = jpath_fail(
            e, ST_INVALID, p,
            "must be at least verification_s (%lld): a verified result "
            "can still be clawed back, never the other way round",
            (long long)verify);
        goto out;
    }
    if (!timestamp_valid(from)) {
        jpath_join(p, where, "effective_from");
        s = jpath_fail(e, ST_INVALID, p,
                       "must be a time such as \"2026-01-01T00:00:00Z\" or "
                       "\"2026-01-01T08:00:00+08:00\" (got \"%.40s\")",
                       from);
        goto out;
    }
    if ((s = plan_ai_party(l, pv, w[2], where, e)) != ST_OK ||
        (s = plan_parse(c, pv, where, &plan, &text, e)) != ST_OK)
        goto out;
    {
        const char *params[11] = {id,
                                  db_i64_str(b[0], version),
                                  from,
                                  text,
                                  db_i64_str(b[1], verify),
                                  db_i64_str(b[2], clawback),
                                  db_i64_str(b[3], fee),
                                  db_i64_str(b[4], w[0]),
                                  db_i64_str(b[5], w[1]),
                                  db_i64_str(b[6], w[2]),
                                  party != NULL ? party : ""};

        if ((s = db_run(l->d, &cli_sql_load_plan_same, params, &r, e)) != ST_OK)
            goto out;
        if (db_rows(r) > 0) {
            if (!db_bool(r, 0, CLI_LOAD_PLAN_SAME_SAME)) {
                jpath_join(p, where, "version");
                s = jpath_fail(
                    e, ST_CONFLICT, p,
                    "plan version %lld of contract %s is immutable; add "
                    "version %lld with a later effective_from",
                    (long long)version, id,
                    (long long)db_i64(r, 0, CLI_LOAD_PLAN_SAME_LATEST) + 1);
            }
            goto out; /* the same version again: nothing to do */
        }
        if ((s = plan_coverage(l, c, json_object_get(pv, "plan"), plan, where,
                               e)) != ST_OK)
            goto out;
        db_res_free(r);
        r = NULL;
        if ((s = db_run(l->d, &cli_sql_load_plan_out_of_order, params, &r,
                        e)) != ST_OK)
            goto out;
        if (db_rows(r) > 0) {
            jpath_join(p, where, "effective_from");
            s = jpath_fail(
                e, ST_INVALID, p,
                "version %lld from %s is out of order with version %s "
                "from %s; later versions must take effect later",
                (long long)version, from,
                db_val(r, 0, CLI_LOAD_PLAN_OUT_OF_ORDER_VERSION),
                db_val(r, 0, CLI_LOAD_PLAN_OUT_OF_ORDER_EFFECTIVE_FROM_UTC));
            goto out;
        }
        if ((s = run(l, &cli_sql_load_plan_insert, params, e)) != ST_OK)
            goto out;
    }
    l->n.plan_versions++;
out:
    db_res_free(r);
    rating_plan_destroy(plan);
    free(text);
    return s;
}

static status load_plans(loader *l, const json_t *c, const char *where, err *e)
{
    const json_t *arr = json_object_get(c, "plans");
    json_t *seen = json_object();
    char p[PATH_MAX_LEN];
    char q[PATH_MAX_LEN];
    char key[24];
    status s = ST_OK;

    if (seen == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    jpath_join(p, where, "plans");
    for (size_t i = 0; s == ST_OK && i < json_array_size(arr); i++) {
        json_t *pv = NULL;
        int64_t v;

        if ((s = section_item(arr, i, p, q, &pv, e)) != ST_OK)
            break;
        if (jsonx_int(pv, "version", &v)) {
            db_i64_str(key, v);
            if (json_object_get(seen, key) != NULL) {
                char r[PATH_MAX_LEN];

                jpath_join(r, q, "version");
                s = jpath_fail(e, ST_INVALID, r,
                               "version %lld appears twice in this contract",
                               (long long)v);
                break;
            }
            if (json_object_set_new(seen, key, json_true()) != 0) {
                s = err_set(e, ST_NOMEM, "out of memory");
                break;
            }
        }
        s = load_plan(l, c, pv, q, e);
    }
    json_decref(seen);
    return s;
}

/* A contract's tax: name (NULL: no tax), rate, rounding mode name. */
typedef struct contract_tax {
    const char *name;
    int64_t rate_bps;
    const char *rounding;
} contract_tax;

/*
 * The optional "tax" object of a contract: {"name": "VAT", "rate_bps":
 * 600, "rounding": "half_up"}; name 1..32 characters, rate 0..10,000 bps,
 * rounding one of money_round's names (default half_up). Absent: no tax.
 */
static status load_contract_tax(const json_t *c, const char *where,
                                contract_tax *out, err *e)
{
    static const jfield fields[] = {{"name", JF_STRING, true},
                                    {"rate_bps", JF_INT, true},
                                    {"rounding", JF_STRING, false}};
    const json_t *t = json_object_get(c, "tax");
    contract_tax r = {NULL, 0, "half_up"};
    char p[PATH_MAX_LEN], q[PATH_MAX_LEN];
    money_round mode;
    status s;

    if (t == NULL) {
        *out = r;
        return ST_OK;
    }
    jpath_join(p, where, "tax");
    if ((s = jsonx_check(t, p, fields, NFIELDS(fields), e)) != ST_OK ||
        (s = text_member(t, "name", p, 32, &r.name, e)) != ST_OK ||
        (s = int_member(t, "rate_bps", p, 0, MONEY_BPS, 0, &r.rate_bps, e)) !=
            ST_OK)
        return s;
    if (jsonx_str(t, "rounding") != NULL) {
        if ((s = money_round_parse(jsonx_str(t, "rounding"), &mode, e)) !=
            ST_OK) {
            jpath_join(q, p, "rounding");
            return err_wrap(e, "%s", q);
        }
        r.rounding = money_round_name(mode);
    }
    *out = r;
    return ST_OK;
}

static status load_contract(loader *l, const json_t *c, const char *where,
                            err *e)
{
    static const jfield fields[] = {{"id", JF_TOKEN, true},
                                    {"tenant", JF_TOKEN, true},
                                    {"pool", JF_TOKEN, true},
                                    {"currency", JF_STRING, true},
                                    {"verification_days", JF_INT, false},
                                    {"active", JF_BOOL, false},
                                    {"prices", JF_OBJECT, true},
                                    {"plans", JF_ARRAY, false},
                                    {"payment_terms_days", JF_INT, false},
                                    {"tax", JF_OBJECT, false}};
    const char *tenant, *ctype;
    contract_tax tax = {NULL, 0, "half_up"};
    char terms_buf[24], rate_buf[24];
    int64_t terms;
    const json_t *prices;
    json_t *pv;
    char *prices_js = NULL;
    char p[PATH_MAX_LEN];
    char q[PATH_MAX_LEN];
    char dbuf[24];
    int64_t days;
    status s;

    if ((s = jsonx_check(c, where, fields, NFIELDS(fields), e)) != ST_OK ||
        (s = int_member(c, "verification_days", where, 0, 365, 0, &days, e)) !=
            ST_OK ||
        (s = int_member(c, "payment_terms_days", where, 0, 365, 30, &terms,
                        e)) != ST_OK ||
        (s = load_contract_tax(c, where, &tax, e)) != ST_OK)
        goto out;
    if ((s = money_currency_check(jsonx_str(c, "currency"), e)) != ST_OK) {
        jpath_join(p, where, "currency");
        err_wrap(e, "%s", p);
        goto out;
    }
    tenant = jsonx_str(c, "tenant");
    jpath_join(p, where, "tenant");
    s = must_exist(l, &cli_sql_tenant_known, tenant, p, "tenant",
                   "add it under \"tenants\"; run: twinline tenant list", e);
    if (s != ST_OK)
        goto out;
    jpath_join(p, where, "pool");
    s = must_exist(l, &cli_sql_pool_known, jsonx_str(c, "pool"), p, "pool",
                   "load the operator's file first", e);
    if (s != ST_OK)
        goto out;
    prices = json_object_get(c, "prices");
    jpath_join(p, where, "prices");
    if (json_object_size(prices) == 0) {
        s = jpath_fail(e, ST_INVALID, p,
                       "must name at least one case type the contract covers");
        goto out;
    }
    json_object_foreach((json_t *)prices, ctype, pv)
    {
        jpath_join(q, p, ctype);
        if (!ids_token_valid(ctype)) {
            s = jpath_fail(
                e, ST_INVALID, q,
                "case type must be 1-64 letters, digits, '_' or '-'");
            goto out;
        }
        if ((s = check_prices(l, tenant, ctype, pv, q, e)) != ST_OK)
            goto out;
    }
    prices_js = jsonx_dump(prices);
    if (prices_js == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    {
        const json_t *active = json_object_get(c, "active");
        const char *id = jsonx_str(c, "id");
        const char *cp[10] = {id,
                              tenant,
                              jsonx_str(c, "pool"),
                              jsonx_str(c, "currency"),
                              db_i64_str(dbuf, days),
                              active == NULL || json_is_true(active) ? "true"
                                                                     : "false",
                              db_i64_str(terms_buf, terms),
                              tax.name,
                              db_i64_str(rate_buf, tax.rate_bps),
                              tax.rounding};
        const char *pp[2] = {id, prices_js};

        if ((s = run(l, &cli_sql_load_contract_upsert, cp, e)) != ST_OK ||
            (s = run(l, &cli_sql_load_contract_prices_prune, pp, e)) != ST_OK ||
            (s = run(l, &cli_sql_load_contract_types_prune, pp, e)) != ST_OK ||
            (s = run(l, &cli_sql_load_contract_types_insert, pp, e)) != ST_OK ||
            (s = run(l, &cli_sql_load_contract_prices_upsert, pp, e)) != ST_OK)
            goto out;
    }
    if ((s = load_plans(l, c, where, e)) != ST_OK)
        goto out;
    l->n.contracts++;
out:
    free(prices_js);
    return s;
}

typedef status (*item_loader)(loader *l, const json_t *item, const char *where,
                              err *e);

/*
 * Load every object of one section with load_item. Each element must be an
 * object; ids must be unique within the document (checked first, so a
 * duplicate is reported as such).
 */
static status load_section(loader *l, const json_t *arr, const char *section,
                           item_loader load_item, err *e)
{
    json_t *seen = json_object();
    char where[PATH_MAX_LEN];
    status s = ST_OK;

    if (seen == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    for (size_t i = 0; s == ST_OK && i < json_array_size(arr); i++) {
        json_t *item = NULL;
        const char *id;

        s = section_item(arr, i, section, where, &item, e);
        if (s != ST_OK)
            break;
        id = jsonx_str(item, "id");
        if (id != NULL && ids_token_valid(id))
            s = unique_id(seen, id, where, e);
        if (s == ST_OK)
            s = load_item(l, item, where, e);
    }
    json_decref(seen);
    return s;
}

/* Validate and write everything; the caller owns the transaction. */
static status load_doc(loader *l, const json_t *doc, err *e)
{
    static const jfield sections[] = {
        {"tenants", JF_ARRAY, false},   {"operators", JF_ARRAY, false},
        {"pools", JF_ARRAY, false},     {"workers", JF_ARRAY, false},
        {"playbooks", JF_ARRAY, false}, {"contracts", JF_ARRAY, false},
        {"channels", JF_OBJECT, false}};
    status s;

    /* References point backwards in this order, so one file may hold a
     * tenant, its playbooks and its contracts together. */
    if ((s = jsonx_check(doc, "the document", sections, NFIELDS(sections),
                         e)) != ST_OK ||
        (s = load_section(l, json_object_get(doc, "tenants"), "tenants",
                          load_tenant, e)) != ST_OK ||
        (s = load_section(l, json_object_get(doc, "operators"), "operators",
                          load_operator, e)) != ST_OK ||
        (s = load_section(l, json_object_get(doc, "pools"), "pools", load_pool,
                          e)) != ST_OK ||
        (s = load_section(l, json_object_get(doc, "workers"), "workers",
                          load_worker, e)) != ST_OK ||
        (s = load_playbooks(l, json_object_get(doc, "playbooks"), e)) !=
            ST_OK ||
        (s = load_section(l, json_object_get(doc, "contracts"), "contracts",
                          load_contract, e)) != ST_OK ||
        (s = load_channels(l, json_object_get(doc, "channels"), e)) != ST_OK)
        return s;
    return ST_OK;
}

static status load_json(db *d, const char *name, const json_t *doc,
                        cmd_load_counts *out, err *e)
{
    loader l = {.d = d};
    status s;

    if ((s = db_begin(d, e)) != ST_OK)
        goto out;
    if ((s = db_run(d, &cli_sql_load_lock, NULL, NULL, e)) != ST_OK ||
        (s = load_doc(&l, doc, e)) != ST_OK || (s = db_commit(d, e)) != ST_OK)
        goto out;
    if (out != NULL)
        *out = l.n;
out:
    if (s != ST_OK) {
        db_rollback(d);
        err_wrap(e, "%s", name);
    }
    return s;
}

status cmd_load_text(db *d, const char *name, const char *text, size_t len,
                     cmd_load_counts *out, err *e)
{
    json_t *doc = NULL;
    status s;

    s = jsonx_parse(text, len, ADMIN_LOAD_MAX_BYTES, &doc, e);
    if (s != ST_OK)
        return err_wrap(e, "%s", name);
    s = load_json(d, name, doc, out, e);
    json_decref(doc);
    return s;
}

status cmd_load_file(db *d, const char *path, cmd_load_counts *out, err *e)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;
    status s = ST_OK;

    if (f == NULL)
        return err_set(e, ST_IO, "%s: cannot open: %s", path, strerror(errno));
    buf = malloc(ADMIN_LOAD_MAX_BYTES + 1);
    if (buf == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    len = fread(buf, 1, ADMIN_LOAD_MAX_BYTES + 1, f);
    if (ferror(f)) {
        s = err_set(e, ST_IO, "%s: cannot read: %s", path, strerror(errno));
        goto out;
    }
    s = cmd_load_text(d, path, buf, len, out, e);
out:
    free(buf);
    fclose(f);
    return s;
}

static void add_part(char *buf, size_t cap, size_t *used, int n,
                     const char *one, const char *many)
{
    if (n == 0 || *used >= cap)
        return;
    *used += (size_t)snprintf(buf + *used, cap - *used, "%s%d %s",
                              *used > strlen("loaded: ") ? ", " : "", n,
                              n == 1 ? one : many);
}

void cmd_load_summary(const cmd_load_counts *c, char *buf, size_t cap)
{
    size_t used = (size_t)snprintf(buf, cap, "loaded: ");

    add_part(buf, cap, &used, c->tenants, "tenant", "tenants");
    add_part(buf, cap, &used, c->operators, "operator", "operators");
    add_part(buf, cap, &used, c->pools, "pool", "pools");
    add_part(buf, cap, &used, c->workers, "worker", "workers");
    add_part(buf, cap, &used, c->playbooks, "playbook", "playbooks");
    if (c->playbooks > 0 && used < cap)
        used += (size_t)snprintf(
            buf + used, cap - used, " (%d new %s)", c->playbook_versions,
            c->playbook_versions == 1 ? "version" : "versions");
    add_part(buf, cap, &used, c->contracts, "contract", "contracts");
    add_part(buf, cap, &used, c->plan_versions, "new plan version",
             "new plan versions");
    add_part(buf, cap, &used, c->channels, "channel setting",
             "channel settings");
    if (used == strlen("loaded: ") && used < cap)
        snprintf(buf + used, cap - used, "nothing");
}
