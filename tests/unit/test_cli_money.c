/* Money for people: minor units as major with two decimals and thousands
 * separators, exact for every int64 (no floating point). */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
/* clang-format on */

#include "cli_money.h"

static void expect(const char *cur, int64_t minor, const char *want)
{
    char buf[ADMIN_MONEY_MAX];

    assert_string_equal(cli_money_format(buf, sizeof(buf), cur, minor), want);
}

static void test_small_amounts(void **state)
{
    (void)state;
    expect("CNY", 0, "CNY 0.00");
    expect("CNY", 5, "CNY 0.05");
    expect("CNY", 99, "CNY 0.99");
    expect("CNY", 100, "CNY 1.00");
    expect("CNY", 123450, "CNY 1,234.50");
    expect("USD", 99999, "USD 999.99");
}

static void test_grouping(void **state)
{
    (void)state;
    expect("CNY", 100000, "CNY 1,000.00");
    expect("CNY", 12345678, "CNY 123,456.78");
    expect("CNY", 100000000, "CNY 1,000,000.00");
    expect("CNY", 1000000000000000LL, "CNY 10,000,000,000,000.00");
}

static void test_negative_and_extremes(void **state)
{
    (void)state;
    expect("CNY", -5, "CNY -0.05");
    expect("CNY", -123456789, "CNY -1,234,567.89");
    expect("CNY", INT64_MAX, "CNY 92,233,720,368,547,758.07");
    expect("CNY", INT64_MIN, "CNY -92,233,720,368,547,758.08");
}

static void test_no_currency_and_truncation(void **state)
{
    char small[6];

    (void)state;
    expect(NULL, 123450, "1,234.50");
    expect("", 7, "0.07");
    cli_money_format(small, sizeof(small), "CNY", 123450);
    assert_string_equal(small, "CNY 1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_amounts),
        cmocka_unit_test(test_grouping),
        cmocka_unit_test(test_negative_and_extremes),
        cmocka_unit_test(test_no_currency_and_truncation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
