#include "forecast.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_EVALS 400
#define MAX_PER_DAY       1440
#define NM_DIMS_MAX       4
#define INIT_PERIODS      4 /* periods averaged by the initialisation */

static const char *const method_names[] = {
#define FORECAST_X(name, str) str,
    FORECAST_METHOD_LIST(FORECAST_X)
#undef FORECAST_X
};

struct forecast {
    forecast_info info;
    int s1, s2;   /* daily and weekly periods; s2 = 0 without a week */
    size_t t_end; /* history length: the next forecast is for t_end */
    double level, trend;
    double *day, *wk; /* Holt-Winters seasons, indexed t mod s1, t mod s2 */
    double *last;     /* seasonal naive: latest observation per phase */
    double mean;      /* mean of the observations */
};

const char *forecast_method_name(forecast_method m)
{
    if ((int)m < 0 || (size_t)m >= sizeof(method_names) / sizeof(*method_names))
        return "?";
    return method_names[m];
}

/* Error sums, turned into forecast_errors at the end. */
typedef struct err_acc {
    size_t n, n_ape;
    double abs_err, abs_act, sq_err, err, ape;
} err_acc;

static void acc_add(err_acc *a, double actual, double fc)
{
    double d = fc - actual;

    a->n++;
    a->abs_err += fabs(d);
    a->abs_act += fabs(actual);
    a->sq_err += d * d;
    a->err += d;
    if (actual != 0) {
        a->n_ape++;
        a->ape += fabs(d) / fabs(actual);
    }
}

static void acc_done(const err_acc *a, forecast_errors *out)
{
    memset(out, 0, sizeof(*out));
    out->n = a->n;
    out->n_mape = a->n_ape;
    if (a->n == 0)
        return;
    out->rmse = sqrt(a->sq_err / a->n);
    out->bias = a->err / a->n;
    if (a->abs_act > 0)
        out->wape = 100 * a->abs_err / a->abs_act;
    if (a->n_ape > 0)
        out->mape = 100 * a->ape / a->n_ape;
}

/* ----- Holt-Winters ------------------------------------------------------ */

/* One Holt-Winters problem: the history, the periods, the initial state
 * and the buffers a run works in. */
typedef struct hw_model {
    const double *y;
    size_t n;
    int s1, s2; /* s2 = 0: daily season only */
    int start;  /* first interval run and scored */
    double level0, trend0;
    double *day0, *wk0;  /* initial seasons */
    double *day, *wk;    /* seasons during and after a run */
    double *ahead;       /* day-ahead forecasts by phase, s1 of them */
    double level, trend; /* after a run */
} hw_model;

/*
 * Initial state from the first W longest periods L (all but the last full
 * one, from 2 to 4 of them): a least-
 * squares line through the period means gives level and trend; the
 * residuals averaged per position in the period give the seasons, split
 * for two seasons into the daily profile (their mean per time of day) and
 * the rest per position of the week. More than two periods, when there
 * are, average the 672 weekly indices over more weeks: with two, each is
 * the mean of two noisy values. Returns 0 when fewer than two periods have
 * an observation.
 */
static int hw_init(hw_model *m)
{
    int L = m->s2 ? m->s2 : m->s1;
    size_t full = m->n / (size_t)L;
    size_t W = full - 1;
    double mean[INIT_PERIODS], tmid[INIT_PERIODS];
    double sm = 0, st = 0;
    int used = 0;

    if (W > INIT_PERIODS)
        W = INIT_PERIODS;
    if (W < 2)
        W = 2;
    for (size_t j = 0; j < W; j++) {
        double sum = 0;
        int cnt = 0;
        for (int p = 0; p < L; p++) {
            double v = m->y[j * (size_t)L + (size_t)p];
            if (!isnan(v)) {
                sum += v;
                cnt++;
            }
        }
        if (cnt == 0)
            continue;
        mean[used] = sum / cnt;
        tmid[used] = (double)j * L + (L - 1) / 2.0;
        sm += mean[used];
        st += tmid[used];
        used++;
    }
    if (used < 2)
        return 0;
    sm /= used;
    st /= used;
    double sxy = 0, sxx = 0;
    for (int j = 0; j < used; j++) {
        sxy += (tmid[j] - st) * (mean[j] - sm);
        sxx += (tmid[j] - st) * (tmid[j] - st);
    }
    double b = sxy / sxx;

    /* Residuals per position; the weekly buffer holds them for a while. */
    double *res = m->s2 ? m->wk0 : m->day0;
    for (int p = 0; p < L; p++) {
        double sum = 0;
        int k = 0;
        for (size_t j = 0; j < W; j++) {
            size_t t = j * (size_t)L + (size_t)p;
            if (!isnan(m->y[t])) {
                sum += m->y[t] - (sm + b * ((double)t - st));
                k++;
            }
        }
        res[p] = k ? sum / k : 0;
    }
    if (m->s2) {
        int days = m->s2 / m->s1;
        for (int j = 0; j < m->s1; j++) {
            double sum = 0;
            for (int d = 0; d < days; d++)
                sum += res[d * m->s1 + j];
            m->day0[j] = sum / days;
        }
        for (int p = 0; p < m->s2; p++)
            m->wk0[p] = res[p] - m->day0[p % m->s1];
    }
    /* Run and score from the end of the window, so that the errors are
     * of forecasts the initialisation did not see; with just two periods
     * there is nothing after it, and the run starts within it. */
    m->start = full > W ? (int)W * L : L;
    m->level0 = sm + b * (m->start - 1 - st);
    m->trend0 = b;
    return 1;
}

static double clamp0(double x)
{
    return x > 0 ? x : 0;
}

/*
 * Run the smoothing from m->start over the history with par = (alpha,
 * beta, gamma, delta). Returns the mean squared one-step error of the raw
 * forecasts (the objective of the fit). When one is not NULL the
 * forecasts as published (clamped at zero) are scored one step and day
 * ahead.
 */
static double hw_run(hw_model *m, const double par[4], err_acc *one,
                     err_acc *day_ahead)
{
    double al = par[0], be = par[1], ga = par[2], de = par[3];
    double l = m->level0, b = m->trend0, sse = 0;
    size_t cnt = 0;
    int s1 = m->s1, s2 = m->s2;

    memcpy(m->day, m->day0, sizeof(double) * (size_t)s1);
    if (s2)
        memcpy(m->wk, m->wk0, sizeof(double) * (size_t)s2);
    for (size_t t = (size_t)m->start; t < m->n; t++) {
        double *d = &m->day[t % (size_t)s1];
        double *w = s2 ? &m->wk[t % (size_t)s2] : NULL;
        double wv = w ? *w : 0;

        if (one && t % (size_t)s1 == 0) {
            /* Midnight: the next day from the state now, h + 1 steps. */
            for (int h = 0; h < s1; h++) {
                size_t tau = t + (size_t)h;
                double f = l + (h + 1) * b + m->day[tau % (size_t)s1];
                if (s2)
                    f += m->wk[tau % (size_t)s2];
                m->ahead[tau % (size_t)s1] = clamp0(f);
            }
        }
        double f = l + b + *d + wv;
        double y = m->y[t];
        if (isnan(y)) {
            y = f; /* no observation: the smoothing carries the forecast */
        } else {
            sse += (y - f) * (y - f);
            cnt++;
            if (one) {
                acc_add(one, y, clamp0(f));
                acc_add(day_ahead, y, m->ahead[t % (size_t)s1]);
            }
        }
        double nl = al * (y - *d - wv) + (1 - al) * (l + b);
        b = be * (nl - l) + (1 - be) * b;
        double nd = ga * (y - nl - wv) + (1 - ga) * *d;
        if (w)
            *w = de * (y - nl - *d) + (1 - de) * *w;
        *d = nd;
        l = nl;
    }
    m->level = l;
    m->trend = b;
    return cnt ? sse / cnt : 0;
}

typedef struct fit {
    hw_model *m;
    int dims; /* 3 without a weekly season (delta stays 0), else 4 */
    int evals;
} fit;

static double fit_eval(fit *c, double *x)
{
    double par[4] = {0, 0, 0, 0};

    for (int i = 0; i < c->dims; i++) {
        x[i] = x[i] < 0 ? 0 : x[i] > 1 ? 1 : x[i];
        par[i] = x[i];
    }
    c->evals++;
    return hw_run(c->m, par, NULL, NULL);
}

/*
 * Nelder-Mead in [0, 1]^dims, points projected onto the box, from x
 * (the best grid point) with steps of 0.1. Leaves the best point in x.
 */
static void nelder_mead(fit *c, double *x, double fx, int max_evals)
{
    enum { N = NM_DIMS_MAX + 1 };
    double v[N][NM_DIMS_MAX], fv[N];
    double cen[NM_DIMS_MAX], xr[NM_DIMS_MAX], xe[NM_DIMS_MAX];
    double xc[NM_DIMS_MAX];
    int d = c->dims, budget = c->evals + max_evals;

    memcpy(v[0], x, sizeof(double) * (size_t)d);
    fv[0] = fx;
    for (int i = 1; i <= d; i++) {
        memcpy(v[i], x, sizeof(double) * (size_t)d);
        v[i][i - 1] += v[i][i - 1] + 0.1 <= 1 ? 0.1 : -0.1;
        fv[i] = fit_eval(c, v[i]);
    }
    while (c->evals < budget) {
        /* Order the vertices, best first (insertion sort of d + 1). */
        for (int i = 1; i <= d; i++) {
            for (int j = i; j > 0 && fv[j] < fv[j - 1]; j--) {
                double t = fv[j];
                fv[j] = fv[j - 1];
                fv[j - 1] = t;
                for (int k = 0; k < d; k++) {
                    double u = v[j][k];
                    v[j][k] = v[j - 1][k];
                    v[j - 1][k] = u;
                }
            }
        }
        double size = 0;
        for (int i = 1; i <= d; i++)
            for (int k = 0; k < d; k++)
                size = fmax(size, fabs(v[i][k] - v[0][k]));
        if (fv[d] - fv[0] <= 1e-12 * fabs(fv[0]) || size < 1e-6)
            break;
        for (int k = 0; k < d; k++) {
            cen[k] = 0;
            for (int i = 0; i < d; i++)
                cen[k] += v[i][k] / d;
        }
        for (int k = 0; k < d; k++)
            xr[k] = 2 * cen[k] - v[d][k];
        double fr = fit_eval(c, xr);
        if (fr < fv[0]) {
            for (int k = 0; k < d; k++)
                xe[k] = 3 * cen[k] - 2 * v[d][k];
            double fe = fit_eval(c, xe);
            if (fe < fr) {
                memcpy(v[d], xe, sizeof(xe));
                fv[d] = fe;
            } else {
                memcpy(v[d], xr, sizeof(xr));
                fv[d] = fr;
            }
            continue;
        }
        if (fr < fv[d - 1]) {
            memcpy(v[d], xr, sizeof(xr));
            fv[d] = fr;
            continue;
        }
        /* Contract outside when the reflection helped a little, else
         * inside; shrink toward the best when neither helps. */
        const double *from = fr < fv[d] ? xr : v[d];
        for (int k = 0; k < d; k++)
            xc[k] = cen[k] + 0.5 * (from[k] - cen[k]);
        double fc = fit_eval(c, xc);
        if (fc < fmin(fr, fv[d])) {
            memcpy(v[d], xc, sizeof(xc));
            fv[d] = fc;
            continue;
        }
        for (int i = 1; i <= d; i++) {
            for (int k = 0; k < d; k++)
                v[i][k] = v[0][k] + 0.5 * (v[i][k] - v[0][k]);
            fv[i] = fit_eval(c, v[i]);
        }
    }
    int best = 0;
    for (int i = 1; i <= d; i++)
        if (fv[i] < fv[best])
            best = i;
    memcpy(x, v[best], sizeof(double) * (size_t)d);
}

/* The grid, then Nelder-Mead from its best point. */
static void hw_fit(hw_model *m, int max_evals, double par[4], int *evals)
{
    static const double alphas[] = {0.02, 0.1, 0.3, 0.6};
    static const double betas[] = {0, 0.005, 0.05};
    static const double gammas[] = {0.02, 0.1, 0.3};
    static const double deltas[] = {0.02, 0.1, 0.3};
    fit c = {m, m->s2 ? 4 : 3, 0};
    double best[NM_DIMS_MAX] = {0, 0, 0, 0}, x[NM_DIMS_MAX];
    double fbest = INFINITY;
    int nd = m->s2 ? 3 : 1;

    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 3; k++)
                for (int l = 0; l < nd; l++) {
                    x[0] = alphas[i];
                    x[1] = betas[j];
                    x[2] = gammas[k];
                    x[3] = m->s2 ? deltas[l] : 0;
                    double fx = fit_eval(&c, x);
                    if (fx < fbest) {
                        fbest = fx;
                        memcpy(best, x, sizeof(best));
                    }
                }
    nelder_mead(&c, best, fbest, max_evals);
    for (int i = 0; i < 4; i++)
        par[i] = i < c.dims ? best[i] : 0;
    *evals = c.evals;
}

/* ----- the simple methods ------------------------------------------------ */

/* Mean and seasonal naive, with their past errors: the mean forecasts
 * each interval by the mean of those before it (day ahead: before the
 * day began); the naive one by the same interval a day earlier. */
static void simple_fit(forecast *f, const double *y, size_t n)
{
    err_acc one = {0}, ahead = {0};
    double sum = 0, sum_day = 0;
    size_t cnt = 0, cnt_day = 0;
    size_t s1 = (size_t)f->s1;

    for (size_t t = 0; t < n; t++) {
        if (t % s1 == 0) {
            sum_day = sum;
            cnt_day = cnt;
        }
        if (isnan(y[t]))
            continue;
        if (f->info.method == FORECAST_MEAN) {
            if (cnt)
                acc_add(&one, y[t], sum / cnt);
            if (cnt_day)
                acc_add(&ahead, y[t], sum_day / cnt_day);
        } else if (t >= s1 && !isnan(y[t - s1])) {
            acc_add(&one, y[t], y[t - s1]);
            acc_add(&ahead, y[t], y[t - s1]);
        }
        sum += y[t];
        cnt++;
    }
    f->mean = sum / cnt;
    if (f->last) {
        for (size_t p = 0; p < s1; p++)
            f->last[p] = f->mean;
        for (size_t t = 0; t < n; t++)
            if (!isnan(y[t]))
                f->last[t % s1] = y[t];
    }
    acc_done(&one, &f->info.one_step);
    acc_done(&ahead, &f->info.day_ahead);
}

/* ----- public ------------------------------------------------------------ */

static status check_input(const double *y, size_t n, const forecast_opts *o,
                          err *e)
{
    size_t seen = 0;

    if (o->per_day != 0 && (o->per_day < 2 || o->per_day > MAX_PER_DAY))
        return err_set(e, ST_INVALID,
                       "intervals per day must be from 2 to %d, not %d",
                       MAX_PER_DAY, o->per_day);
    if (o->max_evals < 0)
        return err_set(e, ST_INVALID,
                       "fit evaluations must be zero or more, not %d",
                       o->max_evals);
    if (o->fixed) {
        const double p[4] = {o->alpha, o->beta, o->gamma, o->delta};
        static const char *const names[] = {"alpha", "beta", "gamma", "delta"};
        for (int i = 0; i < 4; i++)
            if (!(p[i] >= 0 && p[i] <= 1))
                return err_set(e, ST_INVALID,
                               "smoothing parameter %s must be from 0 to 1, "
                               "not %g",
                               names[i], p[i]);
    }
    if (n == 0)
        return err_set(e, ST_INVALID,
                       "the history is empty: a forecast needs at least one "
                       "observed interval");
    for (size_t t = 0; t < n; t++) {
        if (isnan(y[t]))
            continue;
        if (!isfinite(y[t]) || y[t] < 0)
            return err_set(e, ST_INVALID,
                           "history value %zu is %g; arrivals and handle "
                           "times are zero or more (NaN marks a missing "
                           "interval)",
                           t, y[t]);
        seen++;
    }
    if (seen == 0)
        return err_set(e, ST_INVALID,
                       "the history of %zu intervals has no observation "
                       "(every value is missing)",
                       n);
    return ST_OK;
}

static double *alloc_doubles(size_t n)
{
    return calloc(n ? n : 1, sizeof(double));
}

/* Try Holt-Winters with periods s1 and s2 (0: daily only). Returns 1 when
 * the history initialises it, with f ready; 0 to fall back. */
static int try_hw(forecast *f, const double *y, size_t n, int s2,
                  const forecast_opts *o, hw_model *m, status *st, err *e)
{
    err_acc one = {0}, ahead = {0};
    double par[4];

    memset(m, 0, sizeof(*m));
    m->y = y;
    m->n = n;
    m->s1 = f->s1;
    m->s2 = s2;
    size_t ns2 = s2 ? (size_t)s2 : 1;
    m->day0 = alloc_doubles((size_t)f->s1);
    m->wk0 = alloc_doubles(ns2);
    m->day = alloc_doubles((size_t)f->s1);
    m->wk = alloc_doubles(ns2);
    m->ahead = alloc_doubles((size_t)f->s1);
    if (!m->day0 || !m->wk0 || !m->day || !m->wk || !m->ahead) {
        *st = err_set(e, ST_NOMEM, "out of memory for the forecast seasons");
        return 0;
    }
    if (!hw_init(m))
        return 0;
    if (o->fixed) {
        par[0] = o->alpha;
        par[1] = o->beta;
        par[2] = o->gamma;
        par[3] = s2 ? o->delta : 0;
    } else {
        int max = o->max_evals ? o->max_evals : DEFAULT_MAX_EVALS;
        hw_fit(m, max, par, &f->info.evaluations);
    }
    hw_run(m, par, &one, &ahead);
    acc_done(&one, &f->info.one_step);
    acc_done(&ahead, &f->info.day_ahead);
    f->info.alpha = par[0];
    f->info.beta = par[1];
    f->info.gamma = par[2];
    f->info.delta = par[3];
    f->s2 = s2;
    f->level = m->level;
    f->trend = m->trend;
    f->day = m->day;
    f->wk = m->wk;
    m->day = m->wk = NULL;
    return 1;
}

static void hw_model_free(hw_model *m)
{
    free(m->day0);
    free(m->wk0);
    free(m->day);
    free(m->wk);
    free(m->ahead);
    memset(m, 0, sizeof(*m));
}

status forecast_create(forecast **out, const double *history, size_t n,
                       const forecast_opts *opts, err *e)
{
    static const forecast_opts defaults = {0, 0, 0, 0, 0, 0, 0};
    const forecast_opts *o = opts ? opts : &defaults;
    forecast *f = NULL;
    hw_model m;
    status s = check_input(history, n, o, e);

    memset(&m, 0, sizeof(m));
    if (s != ST_OK)
        return s;
    f = calloc(1, sizeof(*f));
    if (f == NULL)
        return err_set(e, ST_NOMEM, "out of memory for a forecast");
    f->s1 = o->per_day ? o->per_day : FORECAST_PER_DAY;
    f->t_end = n;
    f->info.history = n;
    f->info.per_day = f->s1;
    size_t day = (size_t)f->s1;
    size_t week = day * FORECAST_DAYS_PER_WEEK;
    const char *why = NULL;

    s = ST_OK;
    if (n >= 2 * week) {
        if (try_hw(f, history, n, (int)week, o, &m, &s, e)) {
            f->info.method = FORECAST_HW_WEEKLY;
            snprintf(f->info.note, sizeof(f->info.note),
                     "Holt-Winters with daily and weekly seasons, fitted "
                     "on %zu intervals (%.1f weeks)",
                     n, (double)n / (double)week);
            goto out;
        }
        if (s != ST_OK)
            goto out;
        why = "fewer than two of the first weeks have an observation";
        hw_model_free(&m);
    }
    if (n >= 2 * day) {
        if (try_hw(f, history, n, 0, o, &m, &s, e)) {
            f->info.method = FORECAST_HW_DAILY;
            snprintf(f->info.note, sizeof(f->info.note),
                     "%s: Holt-Winters with the daily season only; the "
                     "weekday pattern is not modelled",
                     why ? why : "the history is shorter than two weeks");
            goto out;
        }
        if (s != ST_OK)
            goto out;
        why = "fewer than two of the first days have an observation";
    }
    if (n >= day) {
        f->info.method = FORECAST_SEASONAL_NAIVE;
        f->last = alloc_doubles(day);
        if (f->last == NULL) {
            s = err_set(e, ST_NOMEM, "out of memory for a forecast");
            goto out;
        }
        snprintf(f->info.note, sizeof(f->info.note),
                 "%s: the last observed day is repeated (seasonal naive)",
                 why ? why : "the history is shorter than two days");
    } else {
        f->info.method = FORECAST_MEAN;
        snprintf(f->info.note, sizeof(f->info.note),
                 "the history of %zu intervals is shorter than a day (%zu): "
                 "its mean is repeated",
                 n, day);
    }
    simple_fit(f, history, n);
out:
    hw_model_free(&m);
    if (s != ST_OK) {
        forecast_destroy(f);
        return s;
    }
    *out = f;
    return ST_OK;
}

void forecast_predict(const forecast *f, size_t horizon, double *out)
{
    size_t s1 = (size_t)f->s1, s2 = (size_t)f->s2;

    for (size_t h = 1; h <= horizon; h++) {
        size_t tau = f->t_end - 1 + h;
        double v;
        switch (f->info.method) {
        case FORECAST_HW_WEEKLY:
        case FORECAST_HW_DAILY:
            v = f->level + (double)h * f->trend + f->day[tau % s1];
            if (s2)
                v += f->wk[tau % s2];
            break;
        case FORECAST_SEASONAL_NAIVE:
            v = f->last[tau % s1];
            break;
        default:
            v = f->mean;
            break;
        }
        out[h - 1] = clamp0(v);
    }
}

const forecast_info *forecast_get_info(const forecast *f)
{
    return &f->info;
}

void forecast_destroy(forecast *f)
{
    if (f == NULL)
        return;
    free(f->day);
    free(f->wk);
    free(f->last);
    free(f);
}
