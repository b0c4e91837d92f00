/*
 * Money: checked arithmetic, one rounding in a named mode, formatting.
 * The property tests compare against 128-bit arithmetic (test code only;
 * the library itself never needs it) for many random inputs.
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

#include "money.h"

__extension__ typedef __int128 i128;

/* A deterministic generator (xorshift64*), so a failure reproduces. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

/* A random int64 with a random magnitude, so small and huge values both
 * appear often. */
static int64_t rnd_i64(void)
{
    int bits = (int)(rnd() % 64);
    uint64_t v = rnd() >> (63 - bits);

    return (rnd() & 1) ? (int64_t)v : -(int64_t)(v >> 1) - 1;
}

static void test_checked_arithmetic(void **state)
{
    err e = {0};
    int64_t r = 42;

    (void)state;
    assert_int_equal(money_add(150000, 2500, &r, &e), ST_OK);
    assert_int_equal(r, 152500);
    assert_int_equal(money_sub(100, 250, &r, &e), ST_OK);
    assert_int_equal(r, -150);
    assert_int_equal(money_mul(1500, 1000, &r, &e), ST_OK);
    assert_int_equal(r, 1500000);

    /* Overflow is an error and leaves the output untouched. */
    r = 7;
    assert_int_equal(money_add(INT64_MAX, 1, &r, &e), ST_INVALID);
    assert_int_equal(r, 7);
    assert_non_null(strstr(e.msg, "overflow"));
    assert_int_equal(money_sub(INT64_MIN, 1, &r, &e), ST_INVALID);
    assert_int_equal(money_mul(INT64_MAX / 2 + 1, 2, &r, &e), ST_INVALID);
    assert_int_equal(money_mul(INT64_MIN, -1, &r, &e), ST_INVALID);
    assert_int_equal(money_neg(INT64_MIN, &r, &e), ST_INVALID);
    assert_int_equal(r, 7);
    assert_int_equal(money_neg(INT64_MAX, &r, &e), ST_OK);
    assert_int_equal(r, -INT64_MAX);
}

static void test_money_values(void **state)
{
    err e = {0};
    money a;
    money b;
    money c;

    (void)state;
    assert_int_equal(money_make("CNY", 1500, &a, &e), ST_OK);
    assert_int_equal(money_make("CNY", 16000, &b, &e), ST_OK);
    assert_int_equal(money_sum(&a, &b, &c, &e), ST_OK);
    assert_int_equal(c.minor, 17500);
    assert_string_equal(c.currency, "CNY");
    assert_int_equal(money_make("USD", 1, &b, &e), ST_OK);
    assert_int_equal(money_sum(&a, &b, &c, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "currencies differ"));
    assert_int_equal(money_make("cny", 1, &a, &e), ST_INVALID);
    assert_int_equal(money_make("CNYX", 1, &a, &e), ST_INVALID);
    assert_int_equal(money_make(NULL, 1, &a, &e), ST_INVALID);
    assert_false(money_currency_valid("C1Y"));
    assert_true(money_currency_valid("EUR"));
    assert_int_equal(money_make("ZZZ", 1, &a, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "\"ZZZ\" is not an active ISO 4217"));
}

/* The ISO 4217 list: active codes with their minor units; unknown, fund
 * and special codes refused with a message saying what to write. */
static void test_currencies(void **state)
{
    static const struct {
        const char *code;
        int decimals;
    } known[] = {{"CNY", 2}, {"USD", 2}, {"EUR", 2}, {"HKD", 2}, {"JPY", 0},
                 {"KRW", 0}, {"CLP", 0}, {"VND", 0}, {"ISK", 0}, {"XOF", 0},
                 {"KWD", 3}, {"BHD", 3}, {"TND", 3}, {"OMR", 3}, {"AED", 2},
                 {"ZWG", 2}, {"SLE", 2}, {"VED", 2}, {"XCG", 2}, {"ZMW", 2}};
    err e = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (!money_currency_valid(known[i].code) ||
            money_currency_check(known[i].code, &e) != ST_OK)
            fail_msg("%s should be a currency: %s", known[i].code, e.msg);
        assert_int_equal(money_decimals(known[i].code), known[i].decimals);
    }
    /* Funds are units of account with minor units of their own, but no
     * contract is paid in them. */
    assert_int_equal(money_decimals("CLF"), 4);
    assert_int_equal(money_decimals("UYW"), 4);
    assert_int_equal(money_decimals("UYI"), 0);
    assert_false(money_currency_valid("CLF"));
    assert_int_equal(money_currency_check("CLF", &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "\"CLF\" is an ISO 4217 fund code"));
    assert_int_equal(money_currency_check("XAU", &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "metal"));
    assert_false(money_currency_valid("XTS"));
    assert_false(money_currency_valid("XXX"));
    /* Unknown and withdrawn codes, and the usual mistakes. */
    assert_int_equal(money_currency_check("ZZZ", &e), ST_INVALID);
    assert_string_equal(e.msg,
                        "currency \"ZZZ\" is not an active ISO 4217 "
                        "currency code; use one such as \"CNY\", \"USD\", "
                        "\"EUR\" or \"JPY\" (docs/billing.md, "
                        "\"Currencies\")");
    assert_int_equal(money_currency_check("RMB", &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "the renminbi's code is \"CNY\""));
    assert_int_equal(money_currency_check("cny", &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "must be written in capitals: \"CNY\""));
    assert_false(money_currency_valid("HRK"));
    assert_false(money_currency_valid("ZWL"));
    assert_false(money_currency_valid(""));
    assert_false(money_currency_valid(NULL));
    assert_int_equal(money_currency_check(NULL, &e), ST_INVALID);
    /* Formatting never fails: an unknown code gets two decimals. */
    assert_int_equal(money_decimals("ZZZ"), 2);
    assert_int_equal(money_decimals(NULL), 2);
}

/*
 * 8% of ¥2,000.00 is ¥160.00; 8% of ¥123.45 is ¥9.876 -> ¥9.88 in every
 * "nearest" mode and ¥9.87 truncated. 0.5% of 1.00 is 0.005: a tie that
 * half_even rounds to 0.00 (0 is even), half_up to 0.01, down to 0.00;
 * 0.5% of 3.00 is 0.015: half_even 0.02 (2 is even), half_up 0.02.
 */
static void test_rates_and_rounding(void **state)
{
    err e = {0};
    int64_t r = 0;

    (void)state;
    assert_int_equal(
        money_apply_bps(200000, 800, MONEY_ROUND_HALF_EVEN, &r, &e), ST_OK);
    assert_int_equal(r, 16000);
    money_apply_bps(12345, 800, MONEY_ROUND_HALF_EVEN, &r, &e);
    assert_int_equal(r, 988);
    money_apply_bps(12345, 800, MONEY_ROUND_HALF_UP, &r, &e);
    assert_int_equal(r, 988);
    money_apply_bps(12345, 800, MONEY_ROUND_DOWN, &r, &e);
    assert_int_equal(r, 987);

    money_apply_bps(100, 50, MONEY_ROUND_HALF_EVEN, &r, &e);
    assert_int_equal(r, 0);
    money_apply_bps(100, 50, MONEY_ROUND_HALF_UP, &r, &e);
    assert_int_equal(r, 1);
    money_apply_bps(100, 50, MONEY_ROUND_DOWN, &r, &e);
    assert_int_equal(r, 0);
    money_apply_bps(300, 50, MONEY_ROUND_HALF_EVEN, &r, &e);
    assert_int_equal(r, 2);
    money_apply_bps(300, 50, MONEY_ROUND_HALF_UP, &r, &e);
    assert_int_equal(r, 2);

    /* Symmetric around zero: a reversal rates to the exact negation. */
    money_apply_bps(-100, 50, MONEY_ROUND_HALF_UP, &r, &e);
    assert_int_equal(r, -1);
    money_apply_bps(-300, 50, MONEY_ROUND_HALF_EVEN, &r, &e);
    assert_int_equal(r, -2);
    money_apply_bps(-12345, 800, MONEY_ROUND_DOWN, &r, &e);
    assert_int_equal(r, -987);

    /* 5 ppm of 500,000 minor units is 2.5: even -> 2, up -> 3; of
     * 1,500,000 it is 7.5: even -> 8, down -> 7. */
    money_apply_ppm(500000, 5, MONEY_ROUND_HALF_EVEN, &r, &e);
    assert_int_equal(r, 2);
    money_apply_ppm(500000, 5, MONEY_ROUND_HALF_UP, &r, &e);
    assert_int_equal(r, 3);
    money_apply_ppm(1500000, 5, MONEY_ROUND_HALF_EVEN, &r, &e);
    assert_int_equal(r, 8);
    money_apply_ppm(1500000, 5, MONEY_ROUND_DOWN, &r, &e);
    assert_int_equal(r, 7);
}

static void test_rate_extremes(void **state)
{
    err e = {0};
    int64_t r = 5;

    (void)state;
    /* 100% of the extremes is exact; 200% of them overflows. */
    assert_int_equal(
        money_apply_bps(INT64_MAX, 10000, MONEY_ROUND_HALF_EVEN, &r, &e),
        ST_OK);
    assert_int_equal(r, INT64_MAX);
    assert_int_equal(
        money_apply_bps(INT64_MIN, 10000, MONEY_ROUND_HALF_EVEN, &r, &e),
        ST_OK);
    assert_int_equal(r, INT64_MIN);
    r = 5;
    assert_int_equal(
        money_apply_bps(INT64_MAX, 20000, MONEY_ROUND_HALF_EVEN, &r, &e),
        ST_INVALID);
    assert_int_equal(
        money_apply_bps(INT64_MIN, -10000, MONEY_ROUND_HALF_EVEN, &r, &e),
        ST_INVALID);
    assert_int_equal(r, 5);
    /* Rates outside the supported range and a zero denominator. */
    assert_int_equal(
        money_apply_ppm(1, MONEY_RATE_MAX + 1, MONEY_ROUND_HALF_EVEN, &r, &e),
        ST_INVALID);
    assert_int_equal(money_scale(1, 1, 0, MONEY_ROUND_DOWN, &r, &e),
                     ST_INVALID);
    assert_int_equal(money_scale(1, 1, -3, MONEY_ROUND_DOWN, &r, &e),
                     ST_INVALID);
    assert_int_equal(money_scale(1, 1, 1, (money_round)9, &r, &e), ST_INVALID);
    assert_int_equal(r, 5);
}

static int64_t ref_scale(int64_t a, int64_t num, int64_t den, money_round m,
                         bool *fits)
{
    i128 p = (i128)a * num;
    i128 mag = p < 0 ? -p : p;
    i128 q = mag / den;
    i128 rem = mag % den;

    if (m == MONEY_ROUND_HALF_UP && 2 * rem >= den)
        q++;
    else if (m == MONEY_ROUND_HALF_EVEN &&
             (2 * rem > den || (2 * rem == den && (q & 1))))
        q++;
    if (p < 0)
        q = -q;
    *fits = q >= INT64_MIN && q <= INT64_MAX;
    return *fits ? (int64_t)q : 0;
}

/* Every mode against 128-bit arithmetic: equal when the result fits,
 * ST_INVALID (never a wrapped value) when it does not. */
static void test_scale_property(void **state)
{
    static const int64_t dens[] = {MONEY_BPS, MONEY_PPM, 3, 7, 1};
    err e = {0};

    (void)state;
    for (int i = 0; i < 200000; i++) {
        int64_t a = rnd_i64();
        int64_t den = dens[rnd() % 5];
        int64_t num = (int64_t)(rnd() % (uint64_t)(MONEY_RATE_MAX + 1));
        money_round m = (money_round)(rnd() % 3);
        bool fits;
        int64_t want;
        int64_t got = 0;

        if (rnd() & 1)
            num = -num;
        if (rnd() % 4 == 0)
            num = (int64_t)(rnd() % 30000) - 15000;
        want = ref_scale(a, num, den, m, &fits);
        if (fits) {
            assert_int_equal(money_scale(a, num, den, m, &got, &e), ST_OK);
            assert_int_equal(got, want);
        } else {
            assert_int_equal(money_scale(a, num, den, m, &got, &e), ST_INVALID);
        }
    }
}

static void test_checked_property(void **state)
{
    err e = {0};

    (void)state;
    for (int i = 0; i < 200000; i++) {
        int64_t a = rnd_i64();
        int64_t b = rnd_i64();
        int64_t r;
        i128 s = (i128)a + b;
        i128 d = (i128)a - b;
        i128 p = (i128)a * b;

        if (s >= INT64_MIN && s <= INT64_MAX) {
            assert_int_equal(money_add(a, b, &r, &e), ST_OK);
            assert_true(r == (int64_t)s);
        } else {
            assert_int_equal(money_add(a, b, &r, &e), ST_INVALID);
        }
        if (d >= INT64_MIN && d <= INT64_MAX) {
            assert_int_equal(money_sub(a, b, &r, &e), ST_OK);
            assert_true(r == (int64_t)d);
        } else {
            assert_int_equal(money_sub(a, b, &r, &e), ST_INVALID);
        }
        if (p >= INT64_MIN && p <= INT64_MAX) {
            assert_int_equal(money_mul(a, b, &r, &e), ST_OK);
            assert_true(r == (int64_t)p);
        } else {
            assert_int_equal(money_mul(a, b, &r, &e), ST_INVALID);
        }
    }
}

static void test_muldiv_rem(void **state)
{
    err e = {0};
    int64_t q = 0;
    int64_t r = 0;

    (void)state;
    /* ¥10.01 across weights 1 of 3: 1001 = 333 * 3 + 2. */
    assert_int_equal(money_muldiv_rem(1001, 1, 3, &q, &r, &e), ST_OK);
    assert_int_equal(q, 333);
    assert_int_equal(r, 2);
    assert_int_equal(
        money_muldiv_rem(INT64_MAX, 999999999, 1000000000, &q, &r, &e), ST_OK);
    assert_true((i128)q * 1000000000 + r == (i128)INT64_MAX * 999999999);
    assert_int_equal(money_muldiv_rem(INT64_MAX, 3, 2, &q, &r, &e), ST_INVALID);
    assert_int_equal(money_muldiv_rem(-1, 1, 2, &q, &r, &e), ST_INVALID);
    assert_int_equal(money_muldiv_rem(1, 1, 0, &q, &r, &e), ST_INVALID);
}

static void expect_fmt(const char *cur, int64_t minor, const char *want)
{
    char buf[MONEY_FORMAT_MAX];

    assert_string_equal(money_format(buf, sizeof(buf), cur, minor), want);
}

static void test_format(void **state)
{
    char buf[MONEY_FORMAT_MAX];
    char small[6];

    (void)state;
    expect_fmt("CNY", 0, "CNY 0.00");
    expect_fmt("CNY", 5, "CNY 0.05");
    expect_fmt("CNY", 123450, "CNY 1,234.50");
    expect_fmt("CNY", -5, "CNY -0.05");
    expect_fmt("CNY", 100000000, "CNY 1,000,000.00");
    expect_fmt("JPY", 1500, "JPY 1,500");
    expect_fmt("JPY", -999, "JPY -999");
    expect_fmt("KWD", 1234567, "KWD 1,234.567");
    expect_fmt("KWD", -5, "KWD -0.005");
    expect_fmt("CLF", 12345, "CLF 1.2345");
    expect_fmt("USD", 99999, "USD 999.99");
    expect_fmt("CNY", 1000000000000000LL, "CNY 10,000,000,000,000.00");
    expect_fmt("JPY", INT64_MIN, "JPY -9,223,372,036,854,775,808");
    expect_fmt("", 7, "0.07");
    expect_fmt("CNY", INT64_MAX, "CNY 92,233,720,368,547,758.07");
    expect_fmt("CNY", INT64_MIN, "CNY -92,233,720,368,547,758.08");
    expect_fmt(NULL, 123450, "1,234.50");
    assert_string_equal(money_format_plain(buf, sizeof(buf), "CNY", -123450),
                        "-1234.50");
    assert_string_equal(money_format_plain(buf, sizeof(buf), "JPY", 1500000),
                        "1500000");
    money_format(small, sizeof(small), "CNY", 123450);
    assert_string_equal(small, "CNY 1");
    /* The amount alone, with the currency's decimals, for tables whose
     * currency is a column of its own. */
    assert_string_equal(money_format_amount(buf, sizeof(buf), "JPY", 1500000),
                        "1,500,000");
    assert_string_equal(money_format_amount(buf, sizeof(buf), "CNY", -123450),
                        "-1,234.50");
    assert_string_equal(money_format_amount(buf, sizeof(buf), "BHD", 1),
                        "0.001");
    money_format_amount(small, sizeof(small), "CNY", 123450);
    assert_string_equal(small, "1,234");
}

static void test_round_names(void **state)
{
    err e = {0};
    money_round m = MONEY_ROUND_DOWN;

    (void)state;
    assert_int_equal(money_round_parse("half_even", &m, &e), ST_OK);
    assert_int_equal(m, MONEY_ROUND_HALF_EVEN);
    assert_int_equal(money_round_parse("half_up", &m, &e), ST_OK);
    assert_int_equal(m, MONEY_ROUND_HALF_UP);
    assert_int_equal(money_round_parse("bankers", &m, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "half_even, half_up or down"));
    assert_string_equal(money_round_name(MONEY_ROUND_DOWN), "down");
    assert_string_equal(money_round_name((money_round)42), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checked_arithmetic),
        cmocka_unit_test(test_money_values),
        cmocka_unit_test(test_currencies),
        cmocka_unit_test(test_rates_and_rounding),
        cmocka_unit_test(test_rate_extremes),
        cmocka_unit_test(test_scale_property),
        cmocka_unit_test(test_checked_property),
        cmocka_unit_test(test_muldiv_rem),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_round_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
