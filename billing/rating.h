/*
 * Rating: what a bank owes for one outcome under a price plan, and how an
 * operator's revenue is split across the contributors to that outcome.
 *
 * Pure: no I/O, no clock, no globals. The caller supplies everything that
 * depends on history (month-to-date volume, what this case was already
 * billed) and stores what comes back; see docs/ledger.md.
 *
 *   rating_plan_parse(json, len, &plan, &e);
 *   rating_rate(plan, &outcome, &result, &e);   bank charge lines
 *   rating_split(amount, fee_bps, mode, weights, n, &fee, parts, &e);
 *   rating_plan_destroy(plan);
 *
 * A plan (JSON, strict: every unknown field is an error naming it):
 *
 *   {
 *     "currency": "CNY",
 *     "rounding": "half_even",             optional: half_even|half_up|down
 *     "outcomes": {                        every code the plan covers
 *       "resolved": {
 *         "price_minor": 1500,             flat price per result, or
 *         "volume_tiers": [                graduated by monthly volume:
 *           {"from": 1, "price_minor": 1500},     results 1..500 of the
 *           {"from": 501, "price_minor": 1200}    month at 15.00, then 12.00
 *         ],
 *         "percent": {                     optional share of an amount
 *           "field": "amount_minor",       outcome field with the amount
 *           "bps": 800,                    8.00%, or bands by a case fact:
 *           "bands": {"fact": "days_past_due",
 *                     "tiers": [{"from": 0, "bps": 800},
 *                               {"from": 91, "bps": 1200}]},
 *           "cap_minor": 50000,            optional, per case
 *           "floor_minor": 2000            optional, per case
 *         }
 *       },
 *       "no_answer": {}                    covered, charges nothing
 *     },
 *     "sla_penalty_minor": 200,            optional, per breached task
 *     "complaint_penalty_minor": 5000,     optional, per complaint
 *     "monthly_minimum_minor": 1000000     optional, per month
 *   }
 */
#ifndef TL_RATING_H
#define TL_RATING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ids.h"
#include "money.h"

/* Limits on what a plan may hold; a plan beyond them is refused. */
#define RATING_PLAN_MAX_BYTES (64 * 1024)
#define RATING_CODES_MAX      64 /* outcome codes per plan */
#define RATING_TIERS_MAX      16 /* volume tiers or bands per rule */
#define RATING_LINES_MAX      4  /* lines rating_rate can return */
#define RATING_DETAIL_MAX     512
#define RATING_SPLIT_MAX      64         /* contributors per split */
#define RATING_WEIGHT_MAX     1000000000 /* sum of split weights */

/* The rule behind a charge line; the names are stable (they go into
 * invoices and exports). */
#define RATING_RULE_LIST(X)                                                    \
    X(RATING_RULE_PER_RESULT, "per_result")                                    \
    X(RATING_RULE_VOLUME_TIER, "volume_tier")                                  \
    X(RATING_RULE_PERCENT, "percent")                                          \
    X(RATING_RULE_SLA_PENALTY, "sla_penalty")                                  \
    X(RATING_RULE_COMPLAINT_PENALTY, "complaint_penalty")                      \
    X(RATING_RULE_MONTHLY_MINIMUM, "monthly_minimum")

typedef enum rating_rule {
#define RATING_X(name, str) name,
    RATING_RULE_LIST(RATING_X)
#undef RATING_X
} rating_rule;

/* Stable name of r ("per_result", ...); "?" outside the enum. */
const char *rating_rule_name(rating_rule r);

typedef struct rating_plan rating_plan;

/*
 * Parse and check a plan from buf (len bytes, not NUL-terminated). *out is
 * owned by the caller (rating_plan_destroy) and written only on success.
 * Errors name the field: ST_BAD_JSON, ST_TOO_LARGE, ST_UNKNOWN_FIELD,
 * ST_MISSING_FIELD, ST_WRONG_TYPE, ST_INVALID (negative price, bad
 * currency, tiers not starting at 1 or not increasing, cap below floor,
 * both or neither of price_minor and volume_tiers, ...), ST_NOMEM.
 */
status rating_plan_parse(const char *buf, size_t len, rating_plan **out,
                         err *e);

/* Free p; NULL is a no-op. */
void rating_plan_destroy(rating_plan *p);

/* The plan's currency ("CNY"); lives as long as p. */
const char *rating_plan_currency(const rating_plan *p);

/* The plan's rounding mode (half_even unless the plan names one). */
money_round rating_plan_rounding(const rating_plan *p);

/* True when the plan has a rule for code. */
bool rating_plan_covers(const rating_plan *p, const char *code);

/* A named integer: an outcome field or a case fact. Borrowed. */
typedef struct rating_value {
    const char *name;
    int64_t value;
} rating_value;

/* One outcome to rate, with the history it depends on. All borrowed. */
typedef struct rating_outcome {
    const char *code;
    const rating_value *fields; /* the outcome's integer fields */
    int nfields;
    const rating_value *facts; /* the case's integer facts (payload) */
    int nfacts;
    /* Results of the month already rated under this plan before this one
     * (for volume tiers): this one is number month_volume + 1. */
    int64_t month_volume;
    /* Sum of the percent field over this case's earlier outcomes
     * (instalments), and the percent charges already billed for the case.
     * Both 0 for the first. */
    int64_t case_base_before;
    int64_t case_percent_billed;
    bool sla_breached; /* the task missed its SLA */
} rating_outcome;

typedef struct rating_line {
    rating_rule rule;
    int64_t amount_minor; /* in the plan currency; negative for penalties */
    char detail[RATING_DETAIL_MAX]; /* how it was computed, for people */
} rating_line;

typedef struct rating_result {
    char currency[MONEY_CURRENCY_LEN + 1];
    rating_line lines[RATING_LINES_MAX];
    int nlines;
    int64_t total_minor; /* sum of the lines */
    /* What the caller stores for this case's next outcome. */
    int64_t case_base_after;
    int64_t case_percent_billed_after;
} rating_result;

/*
 * Rate one outcome. *out is written only on success. Lines, in this order:
 * the per-result or volume-tier price (when the code has one), the percent
 * charge (when the code has a percent rule, even when the cap leaves it 0),
 * and the SLA penalty (negative) when sla_breached and the plan has one.
 *
 * Percent: base = case_base_before + the field's value; the case's
 * cumulative charge is base * bps rounded once, raised to floor_minor and
 * lowered to cap_minor; the line is that minus case_percent_billed (never
 * negative). So instalments add up to what one payment of their sum would
 * have been charged.
 *
 * Errors: ST_NOT_FOUND when the plan does not cover the code;
 * ST_MISSING_FIELD when the amount field or band fact is absent;
 * ST_INVALID for a negative amount or volume, a fact below the first band,
 * or an overflow.
 */
status rating_rate(const rating_plan *p, const rating_outcome *o,
                   rating_result *out, err *e);

/*
 * The complaint penalty as one line (negative amount). ST_NOT_FOUND when
 * the plan has none.
 */
status rating_complaint(const rating_plan *p, rating_line *out, err *e);

/*
 * The monthly-minimum top-up for a month in which billed_minor was billed:
 * max(0, minimum - billed). *has is false when the plan has no minimum or
 * nothing is due (then *out is untouched).
 */
status rating_month_minimum(const rating_plan *p, int64_t billed_minor,
                            rating_line *out, bool *has, err *e);

/*
 * Split amount_minor (operator revenue of one outcome): first a platform
 * fee of fee_bps (0..10,000) rounded once in mode, then the rest across n
 * contributors by integer weights (each >= 0, sum 1..RATING_WEIGHT_MAX) with
 * the largest-remainder method: everyone gets floor(rest * w / sum) and the
 * units left over go one each to the largest remainders, ties to the lower
 * index. The parts sum exactly to the rest and each is within one minor
 * unit of its exact share. A negative amount (a reversal) is split as the
 * exact negation of the positive one. *fee and parts[0..n) are written only
 * on success. Errors: ST_INVALID.
 */
status rating_split(int64_t amount_minor, int64_t fee_bps, money_round mode,
                    const int64_t *weights, int n, int64_t *fee, int64_t *parts,
                    err *e);

#endif
