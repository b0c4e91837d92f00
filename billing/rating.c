#include "rating.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"

/* A step of a tier table: applies from `from` (inclusive) upwards. */
typedef struct tier {
    int64_t from;
    int64_t value; /* price_minor or bps */
} tier;

typedef struct code_rule {
    char code[ID_MAX + 1];
    bool has_price;
    int64_t price;
    int ntiers; /* volume tiers; 0 when flat or no price */
    tier tiers[RATING_TIERS_MAX];
    bool has_percent;
    char field[ID_MAX + 1]; /* outcome field with the amount */
    int64_t bps;            /* when nbands == 0 */
    char fact[ID_MAX + 1];  /* case fact choosing the band */
    int nbands;
    tier bands[RATING_TIERS_MAX];
    bool has_cap;
    int64_t cap;
    int64_t floor;
} code_rule;

struct rating_plan {
    char currency[MONEY_CURRENCY_LEN + 1];
    money_round mode;
    int ncodes;
    code_rule codes[RATING_CODES_MAX];
    int64_t sla_penalty;       /* 0: none */
    int64_t complaint_penalty; /* 0: none */
    int64_t monthly_minimum;   /* 0: none */
};

static const char *const rule_names[] = {
#define RATING_X(name, str) str,
    RATING_RULE_LIST(RATING_X)
#undef RATING_X
};

const char *rating_rule_name(rating_rule r)
{
    if ((int)r < 0 || (size_t)r >= sizeof(rule_names) / sizeof(rule_names[0]))
        return "?";
    return rule_names[r];
}

/* ---- plan parsing ---- */

/* Non-negative integer member name of obj (already type-checked) into
 * *out; where names obj in messages. */
static status get_amount(const json_t *obj, const char *where, const char *name,
                         int64_t max, int64_t *out, err *e)
{
    int64_t v = 0;

    if (!jsonx_int(obj, name, &v))
        return err_set(e, ST_MISSING_FIELD, "%s lacks required field \"%s\"",
                       where, name);
    if (v < 0)
        return err_set(e, ST_INVALID,
                       "%s.%s is %" PRId64 "; it must not be negative", where,
                       name, v);
    if (v > max)
        return err_set(e, ST_INVALID,
                       "%s.%s is %" PRId64 "; the largest allowed is %" PRId64,
                       where, name, v, max);
    *out = v;
    return ST_OK;
}

/*
 * Parse an array of {"from": N, <value_name>: V} into t[0..*n). from must
 * start at first_from (or at least 0 when first_from < 0) and increase
 * strictly.
 */
static status parse_tiers(const json_t *arr, const char *where,
                          const char *value_name, int64_t value_max,
                          int64_t first_from, tier *t, int *n, err *e)
{
    const jfield fields[] = {
        {"from", JF_INT, true},
        {value_name, JF_INT, true},
    };
    char at[192];
    size_t i;
    const json_t *el;
    status s = ST_OK;

    if (json_array_size(arr) == 0)
        return err_set(e, ST_INVALID, "%s must have at least one tier", where);
    if (json_array_size(arr) > RATING_TIERS_MAX)
        return err_set(e, ST_INVALID, "%s has %zu tiers; at most %d allowed",
                       where, json_array_size(arr), RATING_TIERS_MAX);
    json_array_foreach(arr, i, el)
    {
        snprintf(at, sizeof(at), "%s[%zu]", where, i);
        if (!json_is_object(el))
            return err_set(e, ST_WRONG_TYPE, "%s must be an object", at);
        s = jsonx_check(el, at, fields, 2, e);
        if (s != ST_OK)
            return s;
        s = get_amount(el, at, "from", INT64_MAX, &t[i].from, e);
        if (s != ST_OK)
            return s;
        s = get_amount(el, at, value_name, value_max, &t[i].value, e);
        if (s != ST_OK)
            return s;
        if (i == 0 && first_from >= 0 && t[i].from != first_from)
            return err_set(e, ST_INVALID,
                           "%s.from is %" PRId64 "; the first tier must "
                           "start at %" PRId64,
                           at, t[i].from, first_from);
        if (i > 0 && t[i].from <= t[i - 1].from)
            return err_set(e, ST_INVALID,
                           "%s.from is %" PRId64 "; tiers must be in "
                           "increasing order of from",
                           at, t[i].from);
    }
    *n = (int)json_array_size(arr);
    return ST_OK;
}

static status parse_percent(const json_t *obj, const char *where, code_rule *r,
                            err *e)
{
    static const jfield fields[] = {
        {"field", JF_TOKEN, true},      {"bps", JF_INT, false},
        {"bands", JF_OBJECT, false},    {"cap_minor", JF_INT, false},
        {"floor_minor", JF_INT, false},
    };
    static const jfield band_fields[] = {
        {"fact", JF_TOKEN, true},
        {"tiers", JF_ARRAY, true},
    };
    const json_t *bands = json_object_get(obj, "bands");
    bool has_bps = json_object_get(obj, "bps") != NULL;
    char at[200];
    status s;

    s = jsonx_check(obj, where, fields, 5, e);
    if (s != ST_OK)
        return s;
    if (has_bps == (bands != NULL))
        return err_set(e, ST_INVALID,
                       "%s must have exactly one of \"bps\" and \"bands\"",
                       where);
    snprintf(r->field, sizeof(r->field), "%s", jsonx_str(obj, "field"));
    if (has_bps) {
        s = get_amount(obj, where, "bps", MONEY_BPS, &r->bps, e);
        if (s != ST_OK)
            return s;
    } else {
        snprintf(at, sizeof(at), "%.160s.bands", where);
        s = jsonx_check(bands, at, band_fields, 2, e);
        if (s != ST_OK)
            return s;
        snprintf(r->fact, sizeof(r->fact), "%s", jsonx_str(bands, "fact"));
        snprintf(at, sizeof(at), "%.160s.bands.tiers", where);
        s = parse_tiers(json_object_get(bands, "tiers"), at, "bps", MONEY_BPS,
                        -1, r->bands, &r->nbands, e);
        if (s != ST_OK)
            return s;
    }
    if (json_object_get(obj, "cap_minor") != NULL) {
        s = get_amount(obj, where, "cap_minor", INT64_MAX, &r->cap, e);
        if (s != ST_OK)
            return s;
        r->has_cap = true;
    }
    if (json_object_get(obj, "floor_minor") != NULL) {
        s = get_amount(obj, where, "floor_minor", INT64_MAX, &r->floor, e);
        if (s != ST_OK)
            return s;
    }
    if (r->has_cap && r->floor > r->cap)
        return err_set(e, ST_INVALID,
                       "%s.floor_minor (%" PRId64 ") is above cap_minor "
                       "(%" PRId64 ")",
                       where, r->floor, r->cap);
    r->has_percent = true;
    return ST_OK;
}

static status parse_code(const char *code, const json_t *obj, code_rule *r,
                         err *e)
{
    static const jfield fields[] = {
        {"price_minor", JF_INT, false},
        {"volume_tiers", JF_ARRAY, false},
        {"percent", JF_OBJECT, false},
    };
    char where[128];
    char at[160];
    const json_t *tiers = json_object_get(obj, "volume_tiers");
    const json_t *pct = json_object_get(obj, "percent");
    status s;

    snprintf(where, sizeof(where), "plan.outcomes.%s", code);
    if (!ids_token_valid(code))
        return err_set(e, ST_INVALID,
                       "plan.outcomes has code \"%.64s\"; codes are 1-64 "
                       "letters, digits, '_' or '-'",
                       code);
    if (!json_is_object(obj))
        return err_set(e, ST_WRONG_TYPE, "%s must be an object", where);
    s = jsonx_check(obj, where, fields, 3, e);
    if (s != ST_OK)
        return s;
    snprintf(r->code, sizeof(r->code), "%s", code);
    if (json_object_get(obj, "price_minor") != NULL && tiers != NULL)
        return err_set(e, ST_INVALID,
                       "%s has both price_minor and volume_tiers; use one",
                       where);
    if (json_object_get(obj, "price_minor") != NULL) {
        s = get_amount(obj, where, "price_minor", INT64_MAX, &r->price, e);
        if (s != ST_OK)
            return s;
        r->has_price = true;
    }
    if (tiers != NULL) {
        snprintf(at, sizeof(at), "%s.volume_tiers", where);
        s = parse_tiers(tiers, at, "price_minor", INT64_MAX, 1, r->tiers,
                        &r->ntiers, e);
        if (s != ST_OK)
            return s;
    }
    if (pct != NULL) {
        snprintf(at, sizeof(at), "%s.percent", where);
        s = parse_percent(pct, at, r, e);
        if (s != ST_OK)
            return s;
    }
    return ST_OK;
}

static status parse_plan(const json_t *root, rating_plan *p, err *e)
{
    static const jfield fields[] = {
        {"currency", JF_STRING, true},
        {"rounding", JF_STRING, false},
        {"outcomes", JF_OBJECT, true},
        {"sla_penalty_minor", JF_INT, false},
        {"complaint_penalty_minor", JF_INT, false},
        {"monthly_minimum_minor", JF_INT, false},
    };
    const json_t *outcomes;
    const char *cur;
    const char *code;
    const json_t *rule;
    status s;

    s = jsonx_check(root, "plan", fields, 6, e);
    if (s != ST_OK)
        return s;
    cur = jsonx_str(root, "currency");
    if ((s = money_currency_check(cur, e)) != ST_OK)
        return err_wrap(e, "plan.currency");
    memcpy(p->currency, cur, MONEY_CURRENCY_LEN + 1);
    p->mode = MONEY_ROUND_HALF_EVEN;
    if (json_object_get(root, "rounding") != NULL) {
        s = money_round_parse(jsonx_str(root, "rounding"), &p->mode, e);
        if (s != ST_OK)
            return err_wrap(e, "plan.rounding");
    }
    if (json_object_get(root, "sla_penalty_minor") != NULL) {
        s = get_amount(root, "plan", "sla_penalty_minor", INT64_MAX,
                       &p->sla_penalty, e);
        if (s != ST_OK)
            return s;
    }
    if (json_object_get(root, "complaint_penalty_minor") != NULL) {
        s = get_amount(root, "plan", "complaint_penalty_minor", INT64_MAX,
                       &p->complaint_penalty, e);
        if (s != ST_OK)
            return s;
    }
    if (json_object_get(root, "monthly_minimum_minor") != NULL) {
        s = get_amount(root, "plan", "monthly_minimum_minor", INT64_MAX,
                       &p->monthly_minimum, e);
        if (s != ST_OK)
            return s;
    }
    outcomes = json_object_get(root, "outcomes");
    if (json_object_size(outcomes) == 0)
        return err_set(e, ST_INVALID,
                       "plan.outcomes is empty; the plan must price at least "
                       "one outcome code");
    if (json_object_size(outcomes) > RATING_CODES_MAX)
        return err_set(e, ST_INVALID,
                       "plan.outcomes has %zu codes; at most %d allowed",
                       json_object_size(outcomes), RATING_CODES_MAX);
    json_object_foreach((json_t *)outcomes, code, rule)
    {
        s = parse_code(code, rule, &p->codes[p->ncodes], e);
        if (s != ST_OK)
            return s;
        p->ncodes++;
    }
    return ST_OK;
}

status rating_plan_parse(const char *buf, size_t len, rating_plan **out, err *e)
{
    json_t *root = NULL;
    rating_plan *p = NULL;
    status s;

    s = jsonx_parse(buf, len, RATING_PLAN_MAX_BYTES, &root, e);
    if (s != ST_OK) {
        err_wrap(e, "price plan");
        goto out;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    s = parse_plan(root, p, e);
    if (s != ST_OK)
        goto out;
    *out = p;
    p = NULL;
out:
    free(p);
    json_decref(root);
    return s;
}

void rating_plan_destroy(rating_plan *p)
{
    free(p);
}

const char *rating_plan_currency(const rating_plan *p)
{
    return p->currency;
}

money_round rating_plan_rounding(const rating_plan *p)
{
    return p->mode;
}

static const code_rule *find_code(const rating_plan *p, const char *code)
{
    for (int i = 0; i < p->ncodes; i++)
        if (code != NULL && strcmp(p->codes[i].code, code) == 0)
            return &p->codes[i];
    return NULL;
}

bool rating_plan_covers(const rating_plan *p, const char *code)
{
    return find_code(p, code) != NULL;
}

/* ---- rating ---- */

static bool lookup(const rating_value *v, int n, const char *name, int64_t *out)
{
    for (int i = 0; i < n; i++) {
        if (v[i].name != NULL && strcmp(v[i].name, name) == 0) {
            *out = v[i].value;
            return true;
        }
    }
    return false;
}

/* Index of the last tier whose from <= x, or -1. */
static int tier_index(const tier *t, int n, int64_t x)
{
    int found = -1;

    for (int i = 0; i < n; i++)
        if (t[i].from <= x)
            found = i;
    return found;
}

static rating_line *add_line(rating_result *r, rating_rule rule, int64_t amount)
{
    rating_line *l = &r->lines[r->nlines++];

    l->rule = rule;
    l->amount_minor = amount;
    return l;
}

static status rate_price(const rating_plan *p, const code_rule *c,
                         const rating_outcome *o, rating_result *r, err *e)
{
    rating_line *l;
    int64_t n;
    int i;
    char price[MONEY_FORMAT_MAX];

    if (c->has_price) {
        l = add_line(r, RATING_RULE_PER_RESULT, c->price);
        snprintf(l->detail, sizeof(l->detail), "%s: %s per result", c->code,
                 money_format(price, sizeof(price), p->currency, c->price));
        return ST_OK;
    }
    if (c->ntiers == 0)
        return ST_OK;
    if (o->month_volume < 0 || o->month_volume == INT64_MAX)
        return err_set(e, ST_INVALID,
                       "month-to-date volume %" PRId64 " is out of range",
                       o->month_volume);
    n = o->month_volume + 1;
    i = tier_index(c->tiers, c->ntiers, n);
    l = add_line(r, RATING_RULE_VOLUME_TIER, c->tiers[i].value);
    snprintf(
        l->detail, sizeof(l->detail),
        "%s: result %" PRId64 " of the month, tier from %" PRId64
        ": %s per result",
        c->code, n, c->tiers[i].from,
        money_format(price, sizeof(price), p->currency, c->tiers[i].value));
    return ST_OK;
}

static status rate_percent(const rating_plan *p, const code_rule *c,
                           const rating_outcome *o, rating_result *r, err *e)
{
    int64_t amount = 0;
    int64_t fact = 0;
    int64_t bps = c->bps;
    int64_t base;
    int64_t target;
    int64_t charge = 0;
    const char *limit = "";
    char band[128] = "";
    char base_s[MONEY_FORMAT_MAX];
    rating_line *l;
    status s;

    if (!lookup(o->fields, o->nfields, c->field, &amount))
        return err_set(e, ST_MISSING_FIELD,
                       "outcome %s lacks field \"%s\" that the plan's "
                       "percent rule is computed from",
                       c->code, c->field);
    if (amount < 0)
        return err_set(e, ST_INVALID,
                       "outcome field %s is %" PRId64 "; it must not be "
                       "negative",
                       c->field, amount);
    if (o->case_base_before < 0 || o->case_percent_billed < 0)
        return err_set(e, ST_INVALID,
                       "case history is negative (base %" PRId64
                       ", billed %" PRId64 ")",
                       o->case_base_before, o->case_percent_billed);
    if (c->nbands > 0) {
        int i;
        if (!lookup(o->facts, o->nfacts, c->fact, &fact))
            return err_set(e, ST_MISSING_FIELD,
                           "case lacks fact \"%s\" that selects the plan's "
                           "percent band for %s",
                           c->fact, c->code);
        i = tier_index(c->bands, c->nbands, fact);
        if (i < 0)
            return err_set(e, ST_INVALID,
                           "case fact %s is %" PRId64 "; the plan's first "
                           "band for %s starts at %" PRId64,
                           c->fact, fact, c->code, c->bands[0].from);
        bps = c->bands[i].value;
        snprintf(band, sizeof(band), ", band %s >= %" PRId64, c->fact,
                 c->bands[i].from);
    }
    s = money_add(o->case_base_before, amount, &base, e);
    if (s != ST_OK)
        return s;
    s = money_apply_bps(base, bps, p->mode, &target, e);
    if (s != ST_OK)
        return s;
    if (target < c->floor) {
        target = c->floor;
        limit = ", raised to the case floor";
    }
    if (c->has_cap && target > c->cap) {
        target = c->cap;
        limit = ", limited by the case cap";
    }
    if (target > o->case_percent_billed)
        charge = target - o->case_percent_billed;
    l = add_line(r, RATING_RULE_PERCENT, charge);
    snprintf(l->detail, sizeof(l->detail),
             "%s: %" PRId64 ".%02" PRId64 "%% of %s case total %s%s%s", c->code,
             bps / 100, bps % 100, c->field,
             money_format(base_s, sizeof(base_s), p->currency, base), band,
             limit);
    r->case_base_after = base;
    r->case_percent_billed_after = o->case_percent_billed + charge;
    return ST_OK;
}

status rating_rate(const rating_plan *p, const rating_outcome *o,
                   rating_result *out, err *e)
{
    const code_rule *c = find_code(p, o->code);
    rating_result r;
    status s;

    if (c == NULL)
        return err_set(e, ST_NOT_FOUND,
                       "the price plan does not cover outcome code \"%.64s\"; "
                       "add it to the plan's outcomes (with price 0 if it is "
                       "free)",
                       o->code != NULL ? o->code : "");
    memset(&r, 0, sizeof(r));
    memcpy(r.currency, p->currency, sizeof(r.currency));
    r.case_base_after = o->case_base_before;
    r.case_percent_billed_after = o->case_percent_billed;
    s = rate_price(p, c, o, &r, e);
    if (s != ST_OK)
        return s;
    if (c->has_percent) {
        s = rate_percent(p, c, o, &r, e);
        if (s != ST_OK)
            return s;
    }
    if (o->sla_breached && p->sla_penalty > 0) {
        rating_line *l = add_line(&r, RATING_RULE_SLA_PENALTY, -p->sla_penalty);
        char pen[MONEY_FORMAT_MAX];
        snprintf(l->detail, sizeof(l->detail), "SLA missed: %s penalty",
                 money_format(pen, sizeof(pen), p->currency, p->sla_penalty));
    }
    for (int i = 0; i < r.nlines; i++) {
        s = money_add(r.total_minor, r.lines[i].amount_minor, &r.total_minor,
                      e);
        if (s != ST_OK)
            return s;
    }
    *out = r;
    return ST_OK;
}

status rating_complaint(const rating_plan *p, rating_line *out, err *e)
{
    char pen[MONEY_FORMAT_MAX];

    if (p->complaint_penalty == 0)
        return err_set(e, ST_NOT_FOUND,
                       "the price plan has no complaint "
                       "penalty");
    memset(out, 0, sizeof(*out));
    out->rule = RATING_RULE_COMPLAINT_PENALTY;
    out->amount_minor = -p->complaint_penalty;
    snprintf(out->detail, sizeof(out->detail), "complaint: %s penalty",
             money_format(pen, sizeof(pen), p->currency, p->complaint_penalty));
    return ST_OK;
}

status rating_month_minimum(const rating_plan *p, int64_t billed_minor,
                            rating_line *out, bool *has, err *e)
{
    int64_t due;
    char min_s[MONEY_FORMAT_MAX];
    char billed_s[MONEY_FORMAT_MAX];
    status s;

    *has = false;
    if (p->monthly_minimum == 0 || billed_minor >= p->monthly_minimum)
        return ST_OK;
    s = money_sub(p->monthly_minimum, billed_minor, &due, e);
    if (s != ST_OK)
        return s;
    memset(out, 0, sizeof(*out));
    out->rule = RATING_RULE_MONTHLY_MINIMUM;
    out->amount_minor = due;
    snprintf(
        out->detail, sizeof(out->detail), "monthly minimum %s, billed %s",
        money_format(min_s, sizeof(min_s), p->currency, p->monthly_minimum),
        money_format(billed_s, sizeof(billed_s), p->currency, billed_minor));
    *has = true;
    return ST_OK;
}

/* ---- splitting ---- */

status rating_split(int64_t amount_minor, int64_t fee_bps, money_round mode,
                    const int64_t *weights, int n, int64_t *fee, int64_t *parts,
                    err *e)
{
    int64_t total = 0;
    int64_t f;
    int64_t rest;
    int64_t left;
    int64_t q[RATING_SPLIT_MAX];
    int64_t rem[RATING_SPLIT_MAX];
    bool negative;
    status s;

    if (n < 1 || n > RATING_SPLIT_MAX)
        return err_set(e, ST_INVALID,
                       "a split needs 1 to %d contributors, not %d",
                       RATING_SPLIT_MAX, n);
    if (fee_bps < 0 || fee_bps > MONEY_BPS)
        return err_set(e, ST_INVALID,
                       "platform fee %" PRId64 " bps is outside 0..10000",
                       fee_bps);
    for (int i = 0; i < n; i++) {
        if (weights[i] < 0 || weights[i] > RATING_WEIGHT_MAX)
            return err_set(e, ST_INVALID,
                           "split weight %d is %" PRId64 "; weights are 0..%d",
                           i, weights[i], RATING_WEIGHT_MAX);
        total += weights[i];
    }
    if (total <= 0 || total > RATING_WEIGHT_MAX)
        return err_set(e, ST_INVALID,
                       "split weights sum to %" PRId64 "; the sum must be "
                       "1..%d",
                       total, RATING_WEIGHT_MAX);
    /* Split the magnitude and negate at the end, so a reversal is the
     * exact mirror of the original. INT64_MIN has no positive mirror. */
    if (amount_minor == INT64_MIN)
        return err_set(e, ST_INVALID, "amount %" PRId64 " is out of range",
                       amount_minor);
    negative = amount_minor < 0;
    if (negative)
        amount_minor = -amount_minor;
    s = money_apply_bps(amount_minor, fee_bps, mode, &f, e);
    if (s != ST_OK)
        return s;
    rest = amount_minor - f;
    left = rest;
    for (int i = 0; i < n; i++) {
        s = money_muldiv_rem(rest, weights[i], total, &q[i], &rem[i], e);
        if (s != ST_OK)
            return s;
        left -= q[i];
    }
    /* left < n: the floors lose less than one unit each. Hand them out to
     * the largest remainders; among equal remainders the lower index wins,
     * so the result does not depend on anything but the input. */
    while (left > 0) {
        int best = -1;
        for (int i = 0; i < n; i++)
            if (rem[i] >= 0 && (best < 0 || rem[i] > rem[best]))
                best = i;
        q[best]++;
        rem[best] = -1; /* one extra unit each at most */
        left--;
    }
    *fee = negative ? -f : f;
    for (int i = 0; i < n; i++)
        parts[i] = negative ? -q[i] : q[i];
    return ST_OK;
}
