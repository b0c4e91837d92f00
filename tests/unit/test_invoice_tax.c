/*
 * The tax of an invoice's lines (billing/invoice_tax.h), worked out by
 * hand: each rate's tax is its base times the rate rounded once, and the
 * lines share it by largest remainder, so they add up to it exactly.
 */
#include <stdint.h>
#include <string.h>

#include "invoice_render.h"
#include "invoice_tax.h"
#include "tl_test.h"

static invoice_tax_line vat(int64_t amount)
{
    return (invoice_tax_line){amount, "VAT", 600, MONEY_ROUND_HALF_UP, -999};
}

/*
 * Six lines at 6 % VAT, half up:
 *   line  net    exact tax  floor  remainder
 *   1     12.58  0.7548      0.75  .48
 *   2     12.58  0.7548      0.75  .48
 *   3     12.58  0.7548      0.75  .48
 *   4      9.99  0.5994      0.59  .94
 *   5     -5.00  -0.30      -0.30  0
 *   6      2.33  0.1398      0.13  .98
 * base 45.06, tax 45.06 * 6 % = 2.7036 -> 2.70; the floors sum to 2.67, so
 * the three largest remainders (lines 6, 4, then 1 of the three tied
 * .48s) get a cent each: 0.76 0.75 0.75 0.60 -0.30 0.14 = 2.70. Rounding
 * each line on its own would give 2.69, a cent off the rate on the base.
 */
static void test_month_by_hand(void **state)
{
    invoice_tax_line l[6] = {vat(1258), vat(1258), vat(1258),
                             vat(999),  vat(-500), vat(233)};
    const int64_t want[6] = {76, 75, 75, 60, -30, 14};
    int64_t sum = 0;
    err e = {0};

    (void)state;
    assert_int_equal(invoice_tax_allocate(l, 6, &e), ST_OK);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(l[i].tax_minor, want[i]);
        sum += l[i].tax_minor;
    }
    assert_int_equal(sum, 270);
}

/* Lines of several taxes are worked out per tax; lines without a tax or
 * at rate 0 get 0; the order of the lines does not matter. */
static void test_groups(void **state)
{
    invoice_tax_line l[5] = {
        {1001, "VAT", 600, MONEY_ROUND_HALF_UP, -1},
        {1001, "VAT", 1300, MONEY_ROUND_HALF_UP, -1},
        {5000, NULL, 0, MONEY_ROUND_HALF_UP, -1},
        {5000, "VAT", 0, MONEY_ROUND_HALF_UP, -1},
        {1001, "VAT", 600, MONEY_ROUND_HALF_UP, -1},
    };
    err e = {0};

    (void)state;
    assert_int_equal(invoice_tax_allocate(l, 5, &e), ST_OK);
    /* 6 %: base 20.02 -> 1.2012 -> 1.20; floors 0.60 + 0.60. */
    assert_int_equal(l[0].tax_minor, 60);
    assert_int_equal(l[4].tax_minor, 60);
    /* 13 %: 10.01 -> 1.3013 -> 1.30. */
    assert_int_equal(l[1].tax_minor, 130);
    assert_int_equal(l[2].tax_minor, 0);
    assert_int_equal(l[3].tax_minor, 0);
}

/* The named mode decides the total: a tie (0.5 of a minor unit) goes up
 * with half_up, to the even neighbour with half_even, down with down. */
static void test_rounding_modes(void **state)
{
    const money_round modes[3] = {MONEY_ROUND_HALF_UP, MONEY_ROUND_HALF_EVEN,
                                  MONEY_ROUND_DOWN};
    const int64_t want[3] = {1, 0, 0}; /* of 0.5 */
    const int64_t want_neg[3] = {-1, 0, 0};
    err e = {0};

    (void)state;
    for (int m = 0; m < 3; m++) {
        /* 50 minor units at 1 % are exactly half a minor unit. */
        invoice_tax_line a = {50, "T", 100, modes[m], -1};
        invoice_tax_line b = {-50, "T", 100, modes[m], -1};

        assert_int_equal(invoice_tax_allocate(&a, 1, &e), ST_OK);
        assert_int_equal(a.tax_minor, want[m]);
        assert_int_equal(invoice_tax_allocate(&b, 1, &e), ST_OK);
        assert_int_equal(b.tax_minor, want_neg[m]);
    }
}

/* A credit (every line negative) is the exact negation of the charge. */
static void test_negative_mirror(void **state)
{
    invoice_tax_line pos[3] = {vat(1258), vat(999), vat(233)};
    invoice_tax_line neg[3] = {vat(-1258), vat(-999), vat(-233)};
    err e = {0};

    (void)state;
    assert_int_equal(invoice_tax_allocate(pos, 3, &e), ST_OK);
    assert_int_equal(invoice_tax_allocate(neg, 3, &e), ST_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(neg[i].tax_minor, -pos[i].tax_minor);
}

/* Bad input: a rate beyond 100 %, a base beyond int64; nothing written. */
static void test_refused(void **state)
{
    invoice_tax_line bad = {100, "VAT", 10001, MONEY_ROUND_HALF_UP, -7};
    invoice_tax_line huge[2] = {vat(INT64_MAX), vat(1)};
    err e = {0};

    (void)state;
    assert_int_equal(invoice_tax_allocate(&bad, 1, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "0..10000"));
    assert_int_equal(bad.tax_minor, -7);
    assert_int_equal(invoice_tax_allocate(huge, 2, &e), ST_INVALID);
    assert_int_equal(huge[0].tax_minor, -999);
    assert_int_equal(invoice_tax_allocate(NULL, 0, &e), ST_OK);
}

static void test_rate_text(void **state)
{
    char buf[24];

    (void)state;
    assert_string_equal(invoice_render_rate(buf, sizeof(buf), 600), "6%");
    assert_string_equal(invoice_render_rate(buf, sizeof(buf), 650), "6.5%");
    assert_string_equal(invoice_render_rate(buf, sizeof(buf), 1), "0.01%");
    assert_string_equal(invoice_render_rate(buf, sizeof(buf), 1300), "13%");
    assert_string_equal(invoice_render_rate(buf, sizeof(buf), 0), "0%");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_month_by_hand),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_rounding_modes),
        cmocka_unit_test(test_negative_mirror),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_rate_text),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
