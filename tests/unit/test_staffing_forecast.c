/*
 * The Holt-Winters forecast: recovering synthetic series of known trend and
 * seasons, its error figures worked out by hand on short series, the
 * fall-backs for short history, missing intervals, and bad input.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forecast.h"
#include "tl_test.h"

#define assert_near(got, want, tol)                                            \
    do {                                                                       \
        double g_ = (got), w_ = (want), t_ = (tol);                            \
        if (!(fabs(g_ - w_) <= t_))                                            \
            fail_msg("%s = %.17g, want %.17g (tolerance %g)", #got, g_, w_,    \
                     t_);                                                      \
    } while (0)

#define DAY  FORECAST_PER_DAY
#define WEEK (DAY * FORECAST_DAYS_PER_WEEK)

/* Deterministic noise, uniform in [-1, 1). */
static uint64_t rng = 0x853c49e6748fea9bull;

static double noise(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 4503599627370496.0 - 1;
}

/* Weekday offsets summing to zero: busy Monday, quiet weekend. */
static const double weekday[7] = {25, 10, 5, 5, 5, -20, -30};

/* Arrivals per interval: level 200 growing 0.01 an interval, a daily wave
 * of amplitude 60 and the weekday offset. */
static double truth(size_t t)
{
    double phase = 2 * M_PI * (double)(t % DAY) / DAY;
    return 200 + 0.01 * (double)t + 60 * sin(phase) + weekday[(t / DAY) % 7];
}

static forecast *make(const double *y, size_t n, const forecast_opts *o)
{
    forecast *f = NULL;
    err e = {0};

    if (forecast_create(&f, y, n, o, &e) != ST_OK)
        fail_msg("forecast_create(%zu): %s", n, e.msg);
    return f;
}

/*
 * A series that the additive model represents exactly (linear trend,
 * seasons of zero mean) is initialised exactly from its first two weeks,
 * so with any parameters every past one-step forecast is right and the
 * next week is the truth.
 */
static void test_exact_recovery(void **state)
{
    static double y[4 * WEEK], fc[WEEK];
    forecast_opts o = {0, 0, 1, 0.3, 0.1, 0.2, 0.2};

    (void)state;
    for (size_t t = 0; t < 4 * WEEK; t++)
        y[t] = truth(t);
    forecast *f = make(y, 4 * WEEK, &o);
    const forecast_info *in = forecast_get_info(f);
    assert_int_equal(in->method, FORECAST_HW_WEEKLY);
    /* Three weeks initialise it; the fourth is scored. */
    assert_int_equal(in->one_step.n, WEEK);
    assert_true(in->one_step.rmse < 1e-9);
    assert_true(in->day_ahead.rmse < 1e-9);
    forecast_predict(f, WEEK, fc);
    for (size_t h = 0; h < WEEK; h++)
        assert_near(fc[h], truth(4 * WEEK + h), 1e-8);
    forecast_destroy(f);
}

/*
 * Six weeks of that series with noise uniform in +-8 (standard deviation
 * 8 / sqrt(3) = 4.62). The fit finds the seasons again: the next week is
 * within 2% (WAPE) of the noiseless truth, and the one-step error is about
 * the noise itself.
 */
static void test_noisy_recovery(void **state)
{
    static double y[6 * WEEK], fc[WEEK];

    (void)state;
    for (size_t t = 0; t < 6 * WEEK; t++)
        y[t] = truth(t) + 8 * noise();
    forecast *f = make(y, 6 * WEEK, NULL);
    const forecast_info *in = forecast_get_info(f);
    assert_int_equal(in->method, FORECAST_HW_WEEKLY);
    assert_non_null(strstr(in->note, "daily and weekly seasons"));
    assert_true(in->evaluations > 108);
    forecast_predict(f, WEEK, fc);
    double abs_err = 0, abs_act = 0;
    for (size_t h = 0; h < WEEK; h++) {
        abs_err += fabs(fc[h] - truth(6 * WEEK + h));
        abs_act += truth(6 * WEEK + h);
    }
    double wape = 100 * abs_err / abs_act;
    if (wape > 2)
        fail_msg("next week off the truth by %.2f%% (alpha %g beta %g "
                 "gamma %g delta %g)",
                 wape, in->alpha, in->beta, in->gamma, in->delta);
    assert_true(in->one_step.rmse > 4 && in->one_step.rmse < 6);
    assert_true(in->day_ahead.rmse >= in->one_step.rmse * 0.9);
    assert_true(in->day_ahead.wape < 4);
    assert_true(in->one_step.mape > 0 && in->one_step.mape < 5);
    /* Four weeks initialise it; weeks five and six are scored. */
    assert_int_equal(in->one_step.n, 2 * WEEK);
    assert_int_equal(in->one_step.n_mape, 2 * WEEK);
    assert_true(fabs(in->one_step.bias) < 1);

    /* The fit is at least as good as any fixed choice of parameters. */
    static const forecast_opts fixed[] = {
        {0, 0, 1, 0.6, 0.05, 0.3, 0.3},
        {0, 0, 1, 0.02, 0, 0.02, 0.02},
        {0, 0, 1, 0.1, 0.005, 0.1, 0.1},
    };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        forecast *g = make(y, 6 * WEEK, &fixed[i]);
        assert_true(in->one_step.rmse <= forecast_get_info(g)->one_step.rmse);
        forecast_destroy(g);
    }
    forecast_destroy(f);
}

/*
 * Shorter than a day: the mean. History 10, 20, 30, (missing), 0; each
 * interval is forecast by the mean before it: 10 for 20, 15 for 30, 20
 * for 0. Errors -10, -15, +20: WAPE 45 / 50 = 90%, MAPE over the nonzero
 * actuals (10/20 + 15/30) / 2 = 50%, RMSE sqrt(725 / 3) = 15.546, bias
 * -5 / 3. No day ahead (the day had no earlier observation).
 */
static void test_mean_fallback(void **state)
{
    const double y[5] = {10, 20, 30, NAN, 0};
    double fc[3];

    (void)state;
    forecast *f = make(y, 5, NULL);
    const forecast_info *in = forecast_get_info(f);
    assert_int_equal(in->method, FORECAST_MEAN);
    assert_string_equal(forecast_method_name(in->method), "mean");
    assert_non_null(strstr(in->note, "shorter than a day"));
    assert_int_equal(in->one_step.n, 3);
    assert_int_equal(in->one_step.n_mape, 2);
    assert_near(in->one_step.wape, 90, 1e-12);
    assert_near(in->one_step.mape, 50, 1e-12);
    assert_near(in->one_step.rmse, sqrt(725.0 / 3), 1e-12);
    assert_near(in->one_step.bias, -5.0 / 3, 1e-12);
    assert_int_equal(in->day_ahead.n, 0);
    forecast_predict(f, 3, fc);
    for (int i = 0; i < 3; i++)
        assert_near(fc[i], 15, 1e-12);
    forecast_destroy(f);
}

/*
 * Shorter than two days: the last day again. With 4 intervals a day,
 * history 1 2 3 4 | 5 6: the next intervals are phases 2, 3, 0, 1, so
 * 3, 4, 5, 6. Past errors: 1 for 5, 2 for 6: RMSE 4, WAPE 8 / 11.
 */
static void test_seasonal_naive_fallback(void **state)
{
    const double y[6] = {1, 2, 3, 4, 5, 6};
    forecast_opts o = {4, 0, 0, 0, 0, 0, 0};
    double fc[4];

    (void)state;
    forecast *f = make(y, 6, &o);
    const forecast_info *in = forecast_get_info(f);
    assert_int_equal(in->method, FORECAST_SEASONAL_NAIVE);
    assert_non_null(strstr(in->note, "shorter than two days"));
    forecast_predict(f, 4, fc);
    assert_near(fc[0], 3, 0);
    assert_near(fc[1], 4, 0);
    assert_near(fc[2], 5, 0);
    assert_near(fc[3], 6, 0);
    assert_int_equal(in->one_step.n, 2);
    assert_near(in->one_step.rmse, 4, 1e-12);
    assert_near(in->one_step.wape, 800.0 / 11, 1e-12);
    assert_near(in->one_step.bias, -4, 1e-12);
    assert_int_equal(in->day_ahead.n, 2);
    forecast_destroy(f);
}

/* Shorter than two weeks: the daily season only, which still recovers a
 * series without a weekday pattern. */
static void test_daily_fallback(void **state)
{
    static double y[5 * DAY], fc[DAY];

    (void)state;
    for (size_t t = 0; t < 5 * DAY; t++)
        y[t] = 100 + 40 * cos(2 * M_PI * (double)t / DAY) + 2 * noise();
    forecast *f = make(y, 5 * DAY, NULL);
    const forecast_info *in = forecast_get_info(f);
    assert_int_equal(in->method, FORECAST_HW_DAILY);
    assert_non_null(strstr(in->note, "shorter than two weeks"));
    assert_near(in->delta, 0, 0);
    forecast_predict(f, DAY, fc);
    for (size_t h = 0; h < DAY; h++)
        assert_near(fc[h], 100 + 40 * cos(2 * M_PI * (double)h / DAY), 5);
    assert_int_equal(in->one_step.n, DAY);
    forecast_destroy(f);
}

/*
 * A pool closed at night (no arrivals 22:00-07:00) and a handle-time
 * series that is missing exactly then: forecasts never go negative, the
 * night stays near zero, and missing intervals are not scored.
 */
static void test_nights_and_missing(void **state)
{
    static double arr[3 * WEEK], aht[3 * WEEK], fc[WEEK];

    (void)state;
    size_t observed = 0;
    for (size_t t = 0; t < 3 * WEEK; t++) {
        size_t q = t % DAY;
        int open = q >= 28 && q < 88;
        double x = ((double)q - 56) / 14;
        arr[t] = open ? 5 + 80 * exp(-x * x) + 3 * noise() : 0;
        if (arr[t] < 0)
            arr[t] = 0;
        aht[t] = open ? 280 + 20 * noise() : NAN;
        if (open && t >= 2 * WEEK)
            observed++;
    }
    forecast *f = make(arr, 3 * WEEK, NULL);
    forecast_predict(f, WEEK, fc);
    for (size_t h = 0; h < WEEK; h++) {
        size_t q = (3 * WEEK + h) % DAY;
        assert_true(fc[h] >= 0);
        if (q < 24 || q >= 92)
            assert_true(fc[h] < 3);
    }
    forecast_destroy(f);

    f = make(aht, 3 * WEEK, NULL);
    const forecast_info *in = forecast_get_info(f);
    assert_int_equal(in->method, FORECAST_HW_WEEKLY);
    assert_int_equal(in->one_step.n, observed);
    forecast_predict(f, WEEK, fc);
    double mean = 0;
    for (size_t h = 0; h < WEEK; h++) {
        size_t q = (3 * WEEK + h) % DAY;
        assert_true(isfinite(fc[h]));
        if (q >= 28 && q < 88)
            assert_near(fc[h], 280, 25);
        mean += q >= 28 && q < 88 ? fc[h] / (60 * 7) : 0;
    }
    /* Each weekly index rests on two noisy weeks, so single intervals
     * stray; the level does not. The one-step error is about the noise's
     * standard deviation, 20 / sqrt(3) = 11.5. */
    assert_near(mean, 280, 3);
    assert_true(in->one_step.rmse > 9 && in->one_step.rmse < 15);
    forecast_destroy(f);
}

static void test_bad_input(void **state)
{
    forecast *f = (forecast *)&rng; /* must stay untouched */
    forecast *const sentinel = f;
    const double y[3] = {1, 2, 3};
    const double gaps[3] = {NAN, NAN, NAN};
    const double neg[3] = {1, -2, 3};
    const double inf[3] = {1, INFINITY, 3};
    err e = {0};

    (void)state;
    assert_int_equal(forecast_create(&f, y, 0, NULL, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "history is empty"));
    assert_int_equal(forecast_create(&f, gaps, 3, NULL, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "no observation"));
    assert_int_equal(forecast_create(&f, neg, 3, NULL, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "history value 1 is -2"));
    assert_int_equal(forecast_create(&f, inf, 3, NULL, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "history value 1 is inf"));
    forecast_opts o = {1, 0, 0, 0, 0, 0, 0};
    assert_int_equal(forecast_create(&f, y, 3, &o, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "intervals per day"));
    forecast_opts p = {0, 0, 1, 0.5, 0.1, 1.5, 0.1};
    assert_int_equal(forecast_create(&f, y, 3, &p, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "gamma must be from 0 to 1"));
    forecast_opts q = {0, -1, 0, 0, 0, 0, 0};
    assert_int_equal(forecast_create(&f, y, 3, &q, &e), ST_INVALID);
    assert_ptr_equal(f, sentinel);

    assert_string_equal(forecast_method_name(FORECAST_HW_WEEKLY),
                        "holt_winters_weekly");
    assert_string_equal(forecast_method_name((forecast_method)42), "?");
    forecast_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_recovery),
        cmocka_unit_test(test_noisy_recovery),
        cmocka_unit_test(test_mean_fallback),
        cmocka_unit_test(test_seasonal_naive_fallback),
        cmocka_unit_test(test_daily_fallback),
        cmocka_unit_test(test_nights_and_missing),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
