/*
 * The staffing library alone: the time to staff a day of 96 fifteen-minute
 * intervals with Erlang C and with Erlang A for pools whose peak needs
 * about 10, 1,000 and 10,000 agents, the cost of one Erlang A evaluation,
 * and the time to fit a forecast to eight weeks of history. Prints
 * name=value lines; asserts nothing about time.
 *   build/release/bench/bench_staffing [repeats]
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "erlang_a.h"
#include "forecast.h"
#include "staffing.h"

#define INTERVALS 96
#define AHT_S     300.0

static int64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what, const err *e)
{
    fprintf(stderr, "bench_staffing: %s: %s\n", what, e->msg);
    exit(1);
}

/* A day whose noon peak offers 0.95 * peak_agents Erlangs and whose night
 * offers a tenth of that. */
static void day_curve(double peak_agents, double *arrivals, double *aht)
{
    for (int i = 0; i < INTERVALS; i++) {
        double x = (i - 48) / 16.0;
        double erlangs = 0.95 * peak_agents * (0.1 + 0.9 * exp(-x * x));
        arrivals[i] = erlangs * 900 / AHT_S;
        aht[i] = AHT_S;
    }
}

/* Milliseconds to staff the day, best of `repeats`; the peak's workers
 * through *peak. */
static double plan_ms(const staffing_params *p, double peak_agents, int repeats,
                      int *peak)
{
    double arrivals[INTERVALS], aht[INTERVALS];
    staffing_interval out[INTERVALS];
    double best = INFINITY;
    err e = {0};

    day_curve(peak_agents, arrivals, aht);
    for (int r = 0; r < repeats; r++) {
        int64_t t0 = mono_ns();
        if (staffing_plan(p, arrivals, aht, INTERVALS, out, &e) != ST_OK)
            die("staffing_plan", &e);
        double ms = (double)(mono_ns() - t0) / 1e6;
        if (ms < best)
            best = ms;
    }
    *peak = out[48].workers;
    return best;
}

/* Microseconds per Erlang A evaluation at 98% load on n agents. */
static double erlang_a_eval_us(int n, int repeats)
{
    erlang_queue q = {0.98 * n / AHT_S, AHT_S, 20, 180};
    erlang_a_result r;
    err e = {0};
    int64_t t0 = mono_ns();

    for (int i = 0; i < repeats; i++)
        if (erlang_a_eval(&q, n, &r, &e) != ST_OK)
            die("erlang_a_eval", &e);
    return (double)(mono_ns() - t0) / 1e3 / repeats;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static double noise(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 4503599627370496.0 - 1;
}

int main(int argc, char **argv)
{
    int repeats = argc > 1 ? atoi(argv[1]) : 5;
    static const int pools[] = {10, 1000, 10000};
    staffing_params c, a;
    int peak = 0;

    if (repeats < 1)
        repeats = 1;
    staffing_params_default(&c);
    a = c;
    a.model = STAFFING_ERLANG_A;
    a.patience_s = 180;
    for (int i = 0; i < 3; i++) {
        double ms = plan_ms(&c, pools[i], repeats, &peak);
        printf("staffing_erlang_c_day_pool%d_ms=%.3f\n", pools[i], ms);
        printf("staffing_erlang_c_day_pool%d_peak_workers=%d\n", pools[i],
               peak);
    }
    for (int i = 0; i < 3; i++) {
        double ms = plan_ms(&a, pools[i], repeats, &peak);
        printf("staffing_erlang_a_day_pool%d_ms=%.3f\n", pools[i], ms);
        printf("staffing_erlang_a_day_pool%d_peak_workers=%d\n", pools[i],
               peak);
    }
    printf("staffing_erlang_a_eval_1000_us=%.2f\n",
           erlang_a_eval_us(1000, 200 * repeats));
    printf("staffing_erlang_a_eval_10000_us=%.2f\n",
           erlang_a_eval_us(10000, 20 * repeats));

    /* Eight weeks of arrivals with a daily wave, a weekday pattern and
     * noise, fitted with the defaults. */
    enum { WEEK = FORECAST_PER_DAY * FORECAST_DAYS_PER_WEEK, N = 8 * WEEK };
    static double hist[N], fc[WEEK];
    for (int t = 0; t < N; t++) {
        double wave = sin(2 * M_PI * (t % FORECAST_PER_DAY) / FORECAST_PER_DAY);
        int wd = (t / FORECAST_PER_DAY) % 7;
        hist[t] = 150 + 60 * wave - (wd >= 5 ? 40 : 0) + 6 * noise();
    }
    double best = INFINITY;
    const forecast_info *info = NULL;
    forecast *f = NULL;
    err e = {0};
    for (int r = 0; r < repeats; r++) {
        forecast_destroy(f);
        int64_t t0 = mono_ns();
        if (forecast_create(&f, hist, N, NULL, &e) != ST_OK)
            die("forecast_create", &e);
        forecast_predict(f, WEEK, fc);
        double ms = (double)(mono_ns() - t0) / 1e6;
        if (ms < best)
            best = ms;
    }
    info = forecast_get_info(f);
    printf("forecast_fit_8_weeks_ms=%.3f\n", best);
    printf("forecast_fit_8_weeks_evaluations=%d\n", info->evaluations);
    printf("forecast_fit_8_weeks_one_step_wape_pct=%.2f\n",
           info->one_step.wape);
    printf("forecast_fit_8_weeks_day_ahead_rmse=%.3f\n", info->day_ahead.rmse);
    forecast_destroy(f);
    return 0;
}
