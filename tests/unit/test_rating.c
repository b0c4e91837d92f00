/*
 * Rating and splitting, with scenarios a finance person can check by hand.
 * Amounts are in fen (CNY minor units): 1500 is ¥15.00.
 */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
/* clang-format on */

#include "rating.h"

__extension__ typedef __int128 i128;

/*
 * The overdue-loan plan of issue 4: per resolved case ¥15 plus 8% of the
 * amount collected, the 8% capped at ¥500 per case. An instalment of a
 * repayment plan ("instalment") adds 8% toward the same cap without a new
 * per-case price. A promise to pay is ¥5; no answer is covered and free.
 * A missed SLA costs ¥2 per task, a complaint ¥50; the bank commits to at
 * least ¥10,000 a month.
 */
static const char loan_plan[] =
    "{\"currency\": \"CNY\", \"rounding\": \"half_even\","
    " \"outcomes\": {"
    "  \"resolved\": {\"price_minor\": 1500,"
    "    \"percent\": {\"field\": \"amount_minor\", \"bps\": 800,"
    "                  \"cap_minor\": 50000}},"
    "  \"instalment\": {"
    "    \"percent\": {\"field\": \"amount_minor\", \"bps\": 800,"
    "                  \"cap_minor\": 50000}},"
    "  \"promise_to_pay\": {\"price_minor\": 500},"
    "  \"no_answer\": {}},"
    " \"sla_penalty_minor\": 200,"
    " \"complaint_penalty_minor\": 5000,"
    " \"monthly_minimum_minor\": 1000000}";

static rating_plan *plan_of(const char *json)
{
    rating_plan *p = NULL;
    err e = {0};

    if (rating_plan_parse(json, strlen(json), &p, &e) != ST_OK)
        fail_msg("plan: %s", e.msg);
    return p;
}

/* Rate code with one amount field (amount_minor) and optional history. */
static status rate(const rating_plan *p, const char *code, int64_t collected,
                   int64_t base_before, int64_t billed_before, rating_result *r,
                   err *e)
{
    rating_value field = {"amount_minor", collected};
    rating_outcome o = {0};

    o.code = code;
    o.fields = &field;
    o.nfields = 1;
    o.case_base_before = base_before;
    o.case_percent_billed = billed_before;
    return rating_rate(p, &o, r, e);
}

static void test_resolved_below_cap(void **state)
{
    rating_plan *p = plan_of(loan_plan);
    rating_result r;
    err e = {0};

    (void)state;
    /* Collected ¥2,000.00: ¥15.00 + 8% x ¥2,000.00 = ¥15.00 + ¥160.00. */
    assert_int_equal(rate(p, "resolved", 200000, 0, 0, &r, &e), ST_OK);
    assert_string_equal(r.currency, "CNY");
    assert_int_equal(r.nlines, 2);
    assert_int_equal(r.lines[0].rule, RATING_RULE_PER_RESULT);
    assert_int_equal(r.lines[0].amount_minor, 1500);
    assert_int_equal(r.lines[1].rule, RATING_RULE_PERCENT);
    assert_int_equal(r.lines[1].amount_minor, 16000);
    assert_int_equal(r.total_minor, 17500);
    assert_non_null(strstr(r.lines[1].detail, "8.00% of amount_minor"));
    assert_non_null(strstr(r.lines[1].detail, "CNY 2,000.00"));
    assert_int_equal(r.case_base_after, 200000);
    assert_int_equal(r.case_percent_billed_after, 16000);
    rating_plan_destroy(p);
}

static void test_resolved_capped(void **state)
{
    rating_plan *p = plan_of(loan_plan);
    rating_result r;
    err e = {0};

    (void)state;
    /* Collected ¥10,000.00: 8% would be ¥800.00, the cap makes it ¥500.00;
     * with the ¥15.00 the bank owes ¥515.00. */
    assert_int_equal(rate(p, "resolved", 1000000, 0, 0, &r, &e), ST_OK);
    assert_int_equal(r.lines[0].amount_minor, 1500);
    assert_int_equal(r.lines[1].amount_minor, 50000);
    assert_non_null(strstr(r.lines[1].detail, "case cap"));
    assert_int_equal(r.total_minor, 51500);
    rating_plan_destroy(p);
}

static void test_instalments_share_the_cap(void **state)
{
    rating_plan *p = plan_of(loan_plan);
    rating_result r;
    err e = {0};

    (void)state;
    /* Resolved with ¥2,000.00 collected: ¥15.00 + ¥160.00 (above). */
    assert_int_equal(rate(p, "resolved", 200000, 0, 0, &r, &e), ST_OK);
    assert_int_equal(r.total_minor, 17500);

    /* A second instalment of ¥5,000.00: the case has now collected
     * ¥7,000.00, 8% of which is ¥560.00, capped at ¥500.00; ¥160.00 was
     * billed, so this instalment bills ¥340.00 and no per-case price. */
    assert_int_equal(rate(p, "instalment", 500000, r.case_base_after,
                          r.case_percent_billed_after, &r, &e),
                     ST_OK);
    assert_int_equal(r.nlines, 1);
    assert_int_equal(r.lines[0].rule, RATING_RULE_PERCENT);
    assert_int_equal(r.lines[0].amount_minor, 34000);
    assert_int_equal(r.case_base_after, 700000);
    assert_int_equal(r.case_percent_billed_after, 50000);

    /* A third instalment of ¥1,000.00: the cap is reached, ¥0.00, and
     * the line still says why. */
    assert_int_equal(rate(p, "instalment", 100000, r.case_base_after,
                          r.case_percent_billed_after, &r, &e),
                     ST_OK);
    assert_int_equal(r.nlines, 1);
    assert_int_equal(r.lines[0].amount_minor, 0);
    assert_int_equal(r.total_minor, 0);
    assert_non_null(strstr(r.lines[0].detail, "case cap"));
    assert_int_equal(r.case_percent_billed_after, 50000);
    rating_plan_destroy(p);
}

static void test_instalments_round_once(void **state)
{
    rating_plan *p = plan_of(loan_plan);
    rating_result r;
    err e = {0};
    int64_t billed = 0;

    (void)state;
    /* Three instalments of ¥0.06: 8% of each is 0.48 fen, which rounds
     * to 0 every time if rated alone. Rated on the case's running total
     * (0.06 -> 0.48 -> 0; 0.12 -> 0.96 -> 1; 0.18 -> 1.44 -> 1) the case
     * is billed 1 fen, as one payment of ¥0.18 would be. */
    assert_int_equal(rate(p, "instalment", 6, 0, 0, &r, &e), ST_OK);
    billed += r.total_minor;
    assert_int_equal(rate(p, "instalment", 6, r.case_base_after,
                          r.case_percent_billed_after, &r, &e),
                     ST_OK);
    billed += r.total_minor;
    assert_int_equal(rate(p, "instalment", 6, r.case_base_after,
                          r.case_percent_billed_after, &r, &e),
                     ST_OK);
    billed += r.total_minor;
    assert_int_equal(billed, 1);
    rating_plan_destroy(p);
}

static void test_other_codes_and_sla(void **state)
{
    rating_plan *p = plan_of(loan_plan);
    rating_result r;
    rating_outcome o = {0};
    err e = {0};

    (void)state;
    o.code = "promise_to_pay";
    assert_int_equal(rating_rate(p, &o, &r, &e), ST_OK);
    assert_int_equal(r.nlines, 1);
    assert_int_equal(r.total_minor, 500);

    /* No answer is covered and free: no lines, total 0. */
    o.code = "no_answer";
    assert_int_equal(rating_rate(p, &o, &r, &e), ST_OK);
    assert_int_equal(r.nlines, 0);
    assert_int_equal(r.total_minor, 0);

    /* A promise to pay on a task that missed its SLA: ¥5.00 - ¥2.00. */
    o.code = "promise_to_pay";
    o.sla_breached = true;
    assert_int_equal(rating_rate(p, &o, &r, &e), ST_OK);
    assert_int_equal(r.nlines, 2);
    assert_int_equal(r.lines[1].rule, RATING_RULE_SLA_PENALTY);
    assert_int_equal(r.lines[1].amount_minor, -200);
    assert_int_equal(r.total_minor, 300);
    assert_string_equal(rating_rule_name(r.lines[1].rule), "sla_penalty");

    /* A code the plan does not cover is an error naming the code. */
    o.code = "refused";
    assert_int_equal(rating_rate(p, &o, &r, &e), ST_NOT_FOUND);
    assert_non_null(strstr(e.msg, "\"refused\""));
    assert_false(rating_plan_covers(p, "refused"));
    assert_true(rating_plan_covers(p, "no_answer"));

    /* The percent field is required when the rule needs it. */
    o.code = "resolved";
    assert_int_equal(rating_rate(p, &o, &r, &e), ST_MISSING_FIELD);
    assert_non_null(strstr(e.msg, "amount_minor"));
    assert_int_equal(rate(p, "resolved", -1, 0, 0, &r, &e), ST_INVALID);
    rating_plan_destroy(p);
}

static void test_complaint_and_minimum(void **state)
{
    rating_plan *p = plan_of(loan_plan);
    rating_line l;
    bool has = true;
    err e = {0};

    (void)state;
    assert_int_equal(rating_complaint(p, &l, &e), ST_OK);
    assert_int_equal(l.rule, RATING_RULE_COMPLAINT_PENALTY);
    assert_int_equal(l.amount_minor, -5000);

    /* The month billed ¥8,000.00 against a ¥10,000.00 minimum: the bank
     * is billed a ¥2,000.00 top-up. */
    assert_int_equal(rating_month_minimum(p, 800000, &l, &has, &e), ST_OK);
    assert_true(has);
    assert_int_equal(l.rule, RATING_RULE_MONTHLY_MINIMUM);
    assert_int_equal(l.amount_minor, 200000);
    /* ¥12,000.00 billed: nothing due. */
    assert_int_equal(rating_month_minimum(p, 1200000, &l, &has, &e), ST_OK);
    assert_false(has);
    /* Exactly the minimum: nothing due. */
    assert_int_equal(rating_month_minimum(p, 1000000, &l, &has, &e), ST_OK);
    assert_false(has);
    rating_plan_destroy(p);

    /* A plan without them. */
    p = plan_of("{\"currency\": \"EUR\", \"outcomes\": {\"ok\": {}}}");
    assert_int_equal(rating_complaint(p, &l, &e), ST_NOT_FOUND);
    assert_int_equal(rating_month_minimum(p, 0, &l, &has, &e), ST_OK);
    assert_false(has);
    assert_string_equal(rating_plan_currency(p), "EUR");
    rating_plan_destroy(p);
}

/*
 * Percentage by days past due: 8% up to 90 days, 12% from 91, 15% from
 * 181; at least ¥20.00 and at most ¥500.00 per case. Collected ¥1,000.00:
 *   45 days  -> ¥80.00
 *   120 days -> ¥120.00
 *   200 days -> ¥150.00
 * Collected ¥100.00 at 45 days: 8% is ¥8.00, raised to the ¥20.00 floor;
 * then a ¥500.00 instalment: the case total ¥600.00 at 8% is ¥48.00, of
 * which ¥20.00 was billed, so ¥28.00. Together ¥48.00, as one payment.
 */
static const char band_plan[] =
    "{\"currency\": \"CNY\","
    " \"outcomes\": {\"paid\": {\"percent\": {"
    "   \"field\": \"amount_minor\","
    "   \"bands\": {\"fact\": \"days_past_due\", \"tiers\": ["
    "     {\"from\": 0, \"bps\": 800}, {\"from\": 91, \"bps\": 1200},"
    "     {\"from\": 181, \"bps\": 1500}]},"
    "   \"floor_minor\": 2000, \"cap_minor\": 50000}}}}";

static status rate_dpd(const rating_plan *p, int64_t collected, int64_t dpd,
                       int64_t base_before, int64_t billed_before,
                       rating_result *r, err *e)
{
    rating_value field = {"amount_minor", collected};
    rating_value facts[2] = {{"region", 3}, {"days_past_due", dpd}};
    rating_outcome o = {0};

    o.code = "paid";
    o.fields = &field;
    o.nfields = 1;
    o.facts = facts;
    o.nfacts = 2;
    o.case_base_before = base_before;
    o.case_percent_billed = billed_before;
    return rating_rate(p, &o, r, e);
}

static void test_bands_and_floor(void **state)
{
    rating_plan *p = plan_of(band_plan);
    rating_result r;
    rating_outcome o = {0};
    err e = {0};

    (void)state;
    assert_int_equal(rate_dpd(p, 100000, 45, 0, 0, &r, &e), ST_OK);
    assert_int_equal(r.total_minor, 8000);
    assert_int_equal(rate_dpd(p, 100000, 90, 0, 0, &r, &e), ST_OK);
    assert_int_equal(r.total_minor, 8000);
    assert_int_equal(rate_dpd(p, 100000, 91, 0, 0, &r, &e), ST_OK);
    assert_int_equal(r.total_minor, 12000);
    assert_int_equal(rate_dpd(p, 100000, 120, 0, 0, &r, &e), ST_OK);
    assert_int_equal(r.total_minor, 12000);
    assert_non_null(strstr(r.lines[0].detail, "days_past_due >= 91"));
    assert_int_equal(rate_dpd(p, 100000, 200, 0, 0, &r, &e), ST_OK);
    assert_int_equal(r.total_minor, 15000);

    assert_int_equal(rate_dpd(p, 10000, 45, 0, 0, &r, &e), ST_OK);
    assert_int_equal(r.total_minor, 2000);
    assert_non_null(strstr(r.lines[0].detail, "floor"));
    assert_int_equal(rate_dpd(p, 50000, 45, r.case_base_after,
                              r.case_percent_billed_after, &r, &e),
                     ST_OK);
    assert_int_equal(r.total_minor, 2800);
    assert_int_equal(r.case_percent_billed_after, 4800);

    /* Below the first band, and without the fact. */
    assert_int_equal(rate_dpd(p, 100000, -1, 0, 0, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "days_past_due"));
    o.code = "paid";
    o.fields = &(rating_value){"amount_minor", 100};
    o.nfields = 1;
    assert_int_equal(rating_rate(p, &o, &r, &e), ST_MISSING_FIELD);
    assert_non_null(strstr(e.msg, "days_past_due"));
    rating_plan_destroy(p);
}

/*
 * Graduated by monthly volume: results 1-2 of the month at ¥15.00, 3-4 at
 * ¥12.00, from the 5th at ¥10.00. Six results cost 15+15+12+12+10+10 =
 * ¥74.00: each result is priced by the tier it falls in, earlier results
 * are not repriced.
 */
static void test_volume_tiers(void **state)
{
    rating_plan *p =
        plan_of("{\"currency\": \"CNY\", \"outcomes\": {\"resolved\": {"
                " \"volume_tiers\": [{\"from\": 1, \"price_minor\": 1500},"
                "  {\"from\": 3, \"price_minor\": 1200},"
                "  {\"from\": 5, \"price_minor\": 1000}]}}}");
    static const int64_t want[6] = {1500, 1500, 1200, 1200, 1000, 1000};
    rating_outcome o = {0};
    rating_result r;
    int64_t sum = 0;
    err e = {0};

    (void)state;
    o.code = "resolved";
    for (int i = 0; i < 6; i++) {
        o.month_volume = i;
        assert_int_equal(rating_rate(p, &o, &r, &e), ST_OK);
        assert_int_equal(r.nlines, 1);
        assert_int_equal(r.lines[0].rule, RATING_RULE_VOLUME_TIER);
        assert_int_equal(r.lines[0].amount_minor, want[i]);
        sum += r.total_minor;
    }
    assert_int_equal(sum, 7400);
    assert_non_null(strstr(r.lines[0].detail, "result 6 of the month"));
    o.month_volume = 100000;
    assert_int_equal(rating_rate(p, &o, &r, &e), ST_OK);
    assert_int_equal(r.total_minor, 1000);
    o.month_volume = -1;
    assert_int_equal(rating_rate(p, &o, &r, &e), ST_INVALID);
    rating_plan_destroy(p);
}

static void test_plan_rounding_mode(void **state)
{
    /* 0.5% of ¥1.00 is half a fen: half_up bills 1, half_even 0. */
    rating_plan *up = plan_of(
        "{\"currency\": \"CNY\", \"rounding\": \"half_up\", \"outcomes\":"
        " {\"paid\": {\"percent\": {\"field\": \"amount_minor\","
        " \"bps\": 50}}}}");
    rating_plan *even =
        plan_of("{\"currency\": \"CNY\", \"outcomes\":"
                " {\"paid\": {\"percent\": {\"field\": \"amount_minor\","
                " \"bps\": 50}}}}");
    rating_result r;
    err e = {0};

    (void)state;
    assert_int_equal(rate(up, "paid", 100, 0, 0, &r, &e), ST_OK);
    assert_int_equal(r.total_minor, 1);
    assert_int_equal(rate(even, "paid", 100, 0, 0, &r, &e), ST_OK);
    assert_int_equal(r.total_minor, 0);
    rating_plan_destroy(up);
    rating_plan_destroy(even);
}

static void expect_bad(const char *json, status want, const char *needle)
{
    rating_plan *p = NULL;
    err e = {0};

    assert_int_equal(rating_plan_parse(json, strlen(json), &p, &e), want);
    assert_null(p);
    if (strstr(e.msg, needle) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", e.msg, needle);
}

static void test_bad_plans(void **state)
{
    (void)state;
    expect_bad("{\"currency\": \"CNY\", \"outcomes\": {\"a\": {}},"
               " \"discount\": 5}",
               ST_UNKNOWN_FIELD, "\"discount\"");
    expect_bad("{\"currency\": \"CNY\", \"outcomes\": {\"resolved\":"
               " {\"percent\": {\"field\": \"x\", \"bps\": 1,"
               " \"capp_minor\": 5}}}}",
               ST_UNKNOWN_FIELD, "plan.outcomes.resolved.percent");
    expect_bad("{\"currency\": \"CNY\", \"outcomes\": {\"resolved\":"
               " {\"price_minor\": -1500}}}",
               ST_INVALID, "plan.outcomes.resolved.price_minor");
    expect_bad("{\"currency\": \"CNY\", \"outcomes\": {\"a\": {}},"
               " \"sla_penalty_minor\": -2}",
               ST_INVALID, "sla_penalty_minor");
    expect_bad("{\"outcomes\": {\"a\": {}}}", ST_MISSING_FIELD, "currency");
    expect_bad("{\"currency\": \"CNY\"}", ST_MISSING_FIELD, "outcomes");
    expect_bad("{\"currency\": \"CNY\", \"outcomes\": {}}", ST_INVALID,
               "at least one outcome code");
    expect_bad("{\"currency\": \"yuan\", \"outcomes\": {\"a\": {}}}",
               ST_INVALID, "plan.currency");
    /* Only active ISO 4217 currencies (contracts/money.h). */
    expect_bad("{\"currency\": \"ZZZ\", \"outcomes\": {\"a\": {}}}", ST_INVALID,
               "plan.currency: currency \"ZZZ\" is not an active ISO 4217 "
               "currency code");
    expect_bad("{\"currency\": \"RMB\", \"outcomes\": {\"a\": {}}}", ST_INVALID,
               "the renminbi's code is \"CNY\"");
    expect_bad("{\"currency\": \"UYW\", \"outcomes\": {\"a\": {}}}", ST_INVALID,
               "fund code");
    expect_bad("{\"currency\": \"CNY\", \"rounding\": \"nearest\","
               " \"outcomes\": {\"a\": {}}}",
               ST_INVALID, "plan.rounding");
    expect_bad("{\"currency\": \"CNY\", \"outcomes\": {\"a\":"
               " {\"price_minor\": \"15\"}}}",
               ST_WRONG_TYPE, "plan.outcomes.a.price_minor");
    expect_bad("{\"currency\": \"CNY\", \"outcomes\": {\"a\":"
               " {\"price_minor\": 1, \"volume_tiers\":"
               " [{\"from\": 1, \"price_minor\": 1}]}}}",
               ST_INVALID, "both price_minor and volume_tiers");
    expect_bad("{\"currency\": \"CNY\", \"outcomes\": {\"a\":"
               " {\"volume_tiers\": [{\"from\": 2, \"price_minor\": 1}]}}}",
               ST_INVALID, "start at 1");
    expect_bad("{\"currency\": \"CNY\", \"outcomes\": {\"a\":"
               " {\"volume_tiers\": [{\"from\": 1, \"price_minor\": 1},"
               " {\"from\": 1, \"price_minor\": 2}]}}}",
               ST_INVALID, "volume_tiers[1].from");
    expect_bad("{\"currency\": \"CNY\", \"outcomes\": {\"a\":"
               " {\"volume_tiers\": [{\"from\": 1, \"price\": 1}]}}}",
               ST_UNKNOWN_FIELD, "\"price\"");
    expect_bad("{\"currency\": \"CNY\", \"outcomes\": {\"a\": {\"percent\":"
               " {\"field\": \"amount_minor\"}}}}",
               ST_INVALID, "exactly one of \"bps\" and \"bands\"");
    expect_bad("{\"currency\": \"CNY\", \"outcomes\": {\"a\": {\"percent\":"
               " {\"field\": \"amount_minor\", \"bps\": 10001}}}}",
               ST_INVALID, "percent.bps");
    expect_bad("{\"currency\": \"CNY\", \"outcomes\": {\"a\": {\"percent\":"
               " {\"field\": \"amount_minor\", \"bps\": 800,"
               " \"cap_minor\": 100, \"floor_minor\": 200}}}}",
               ST_INVALID, "floor_minor");
    expect_bad("{\"currency\": \"CNY\", \"outcomes\": {\"a b\": {}}}",
               ST_INVALID, "a b");
    expect_bad("{\"currency\": \"CNY\", \"outcomes\": {\"a\": 5}}",
               ST_WRONG_TYPE, "plan.outcomes.a");
    expect_bad("{\"currency\": \"CNY\", ", ST_BAD_JSON, "price plan");
}

/* ---- splits ---- */

static void test_split_examples(void **state)
{
    int64_t parts[3];
    int64_t fee = -1;
    err e = {0};

    (void)state;
    /* ¥10.00 with a 10% platform fee: ¥1.00 fee, ¥9.00 in three equal
     * parts of ¥3.00. */
    assert_int_equal(rating_split(1000, 1000, MONEY_ROUND_HALF_EVEN,
                                  (int64_t[]){1, 1, 1}, 3, &fee, parts, &e),
                     ST_OK);
    assert_int_equal(fee, 100);
    assert_int_equal(parts[0], 300);
    assert_int_equal(parts[1], 300);
    assert_int_equal(parts[2], 300);

    /* ¥10.01, no fee, three equal weights: 333.67 each; the floors give
     * 333 x 3 = 999, two fen are left, the remainders tie, so the first
     * two contributors get one each: 334, 334, 333. */
    assert_int_equal(rating_split(1001, 0, MONEY_ROUND_HALF_EVEN,
                                  (int64_t[]){1, 1, 1}, 3, &fee, parts, &e),
                     ST_OK);
    assert_int_equal(fee, 0);
    assert_int_equal(parts[0], 334);
    assert_int_equal(parts[1], 334);
    assert_int_equal(parts[2], 333);

    /* Human 70, AI 20, second worker 10 of ¥1.00 after a 2.5% fee:
     * fee 2.5 fen rounds half-even to 2, leaving 98; exact shares 68.6,
     * 19.6, 9.8; floors 68, 19, 9 = 96; the two fen left go to the
     * largest remainders, 0.8 (third) and then 0.6 (first, ties with the
     * second, lower index wins): 69, 19, 10. */
    assert_int_equal(rating_split(100, 250, MONEY_ROUND_HALF_EVEN,
                                  (int64_t[]){70, 20, 10}, 3, &fee, parts, &e),
                     ST_OK);
    assert_int_equal(fee, 2);
    assert_int_equal(parts[0], 69);
    assert_int_equal(parts[1], 19);
    assert_int_equal(parts[2], 10);

    /* The reversal of that split is its exact mirror. */
    assert_int_equal(rating_split(-100, 250, MONEY_ROUND_HALF_EVEN,
                                  (int64_t[]){70, 20, 10}, 3, &fee, parts, &e),
                     ST_OK);
    assert_int_equal(fee, -2);
    assert_int_equal(parts[0], -69);
    assert_int_equal(parts[1], -19);
    assert_int_equal(parts[2], -10);

    /* A contributor with weight 0 gets nothing. */
    assert_int_equal(rating_split(5, 0, MONEY_ROUND_DOWN, (int64_t[]){0, 1, 1},
                                  3, &fee, parts, &e),
                     ST_OK);
    assert_int_equal(parts[0], 0);
    assert_int_equal(parts[1], 3);
    assert_int_equal(parts[2], 2);
}

static void test_split_bad_input(void **state)
{
    int64_t parts[2] = {7, 7};
    int64_t fee = 7;
    err e = {0};

    (void)state;
    assert_int_equal(rating_split(100, 0, MONEY_ROUND_DOWN, (int64_t[]){0, 0},
                                  2, &fee, parts, &e),
                     ST_INVALID);
    assert_int_equal(rating_split(100, 0, MONEY_ROUND_DOWN, (int64_t[]){-1, 2},
                                  2, &fee, parts, &e),
                     ST_INVALID);
    assert_int_equal(rating_split(100, 10001, MONEY_ROUND_DOWN,
                                  (int64_t[]){1, 2}, 2, &fee, parts, &e),
                     ST_INVALID);
    assert_int_equal(rating_split(100, 0, MONEY_ROUND_DOWN, (int64_t[]){1, 2},
                                  0, &fee, parts, &e),
                     ST_INVALID);
    assert_int_equal(rating_split(100, 0, MONEY_ROUND_DOWN,
                                  (int64_t[]){RATING_WEIGHT_MAX, 1}, 2, &fee,
                                  parts, &e),
                     ST_INVALID);
    assert_int_equal(rating_split(INT64_MIN, 0, MONEY_ROUND_DOWN,
                                  (int64_t[]){1, 2}, 2, &fee, parts, &e),
                     ST_INVALID);
    assert_int_equal(fee, 7);
    assert_int_equal(parts[0], 7);
}

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

/*
 * For many random amounts (tiny to near INT64_MAX, both signs), weights
 * and fees: fee + parts == amount exactly, each part within one minor
 * unit of its exact share (|part * W - rest * w| < W), and the negative
 * amount splits into the exact mirror.
 */
static void test_split_property(void **state)
{
    int64_t w[RATING_SPLIT_MAX];
    int64_t parts[RATING_SPLIT_MAX];
    int64_t mirror[RATING_SPLIT_MAX];
    err e = {0};

    (void)state;
    for (int iter = 0; iter < 20000; iter++) {
        int n = 1 + (int)(rnd() % RATING_SPLIT_MAX);
        int bits = (int)(rnd() % 64);
        int64_t amount = (int64_t)(rnd() >> (63 - bits) >> 1);
        int64_t fee_bps = (int64_t)(rnd() % 10001);
        money_round mode = (money_round)(rnd() % 3);
        int64_t total = 0;
        int64_t fee = 0;
        int64_t mfee = 0;
        i128 sum;
        int64_t rest;

        for (int i = 0; i < n; i++) {
            w[i] = (rnd() % 5 == 0) ? 0 : (int64_t)(rnd() % 1000000);
            total += w[i];
        }
        if (total == 0) {
            w[0] = 1;
            total = 1;
        }
        if (rnd() & 1)
            amount = -amount;
        assert_int_equal(
            rating_split(amount, fee_bps, mode, w, n, &fee, parts, &e), ST_OK);
        sum = fee;
        for (int i = 0; i < n; i++)
            sum += parts[i];
        assert_true(sum == amount);
        rest = amount - fee;
        for (int i = 0; i < n; i++) {
            i128 diff = (i128)parts[i] * total - (i128)rest * w[i];
            if (diff < 0)
                diff = -diff;
            assert_true(diff < total);
            if (w[i] == 0)
                assert_int_equal(parts[i], 0);
        }
        assert_int_equal(
            rating_split(-amount, fee_bps, mode, w, n, &mfee, mirror, &e),
            ST_OK);
        assert_int_equal(mfee, -fee);
        for (int i = 0; i < n; i++)
            assert_int_equal(mirror[i], -parts[i]);
    }
}

/* Rating never wraps: a collected amount near INT64_MAX at 100% with no
 * cap is exact; a case total beyond int64 is an error. */
static void test_rating_overflow(void **state)
{
    rating_plan *p = plan_of(
        "{\"currency\": \"CNY\", \"outcomes\": {\"paid\": {"
        " \"price_minor\": 9223372036854775807,"
        " \"percent\": {\"field\": \"amount_minor\", \"bps\": 10000}}}}");
    rating_result r;
    err e = {0};

    (void)state;
    assert_int_equal(rate(p, "paid", 1, 0, 0, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "overflow"));
    assert_int_equal(rate(p, "paid", 5, INT64_MAX - 2, 0, &r, &e), ST_INVALID);
    rating_plan_destroy(p);
    p = plan_of("{\"currency\": \"CNY\", \"outcomes\": {\"paid\": {"
                " \"percent\": {\"field\": \"amount_minor\","
                " \"bps\": 10000}}}}");
    assert_int_equal(rate(p, "paid", INT64_MAX, 0, 0, &r, &e), ST_OK);
    assert_int_equal(r.total_minor, INT64_MAX);
    rating_plan_destroy(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolved_below_cap),
        cmocka_unit_test(test_resolved_capped),
        cmocka_unit_test(test_instalments_share_the_cap),
        cmocka_unit_test(test_instalments_round_once),
        cmocka_unit_test(test_other_codes_and_sla),
        cmocka_unit_test(test_complaint_and_minimum),
        cmocka_unit_test(test_bands_and_floor),
        cmocka_unit_test(test_volume_tiers),
        cmocka_unit_test(test_plan_rounding_mode),
        cmocka_unit_test(test_bad_plans),
        cmocka_unit_test(test_split_examples),
        cmocka_unit_test(test_split_bad_input),
        cmocka_unit_test(test_split_property),
        cmocka_unit_test(test_rating_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
