/*
 * Forecast of a per-interval series (arrivals, or mean handle time) from
 * its history: additive Holt-Winters with a trend, a daily season and a
 * weekly season (Taylor's double-seasonal exponential smoothing), with the
 * smoothing parameters fitted to the history.
 *
 * Additive rather than multiplicative: the night intervals of a service
 * pool hold zero or a handful of arrivals, and a multiplicative season
 * divides by those (its indices swing wildly or blow up), while an
 * additive one only adds a small negative number. The price is that the
 * daily shape does not scale with the level; over the weeks a forecast is
 * fitted on, level changes are small next to the daily swing, and the
 * fit is redone as history accrues. Forecasts are clamped at zero.
 *
 * Model, for interval t with daily period s (96) and weekly period 7 s:
 *   forecast  f_t = l + b + d[t mod s] + w[t mod 7s]
 *   level     l'  = alpha (y - d - w) + (1 - alpha) (l + b)
 *   trend     b'  = beta (l' - l) + (1 - beta) b
 *   daily     d'  = gamma (y - l' - w) + (1 - gamma) d
 *   weekly    w'  = delta (y - l' - d) + (1 - delta) w
 * initialised by decomposing the first weeks (all full weeks but the last,
 * 2 to 4 of them: a line through the weekly means, the daily profile of
 * the residuals, and what is left per interval of the week), then run
 * from the end of those weeks; with exactly two weeks of history it runs
 * from the start of the second, whose errors are then in-sample. The
 * parameters minimise the mean squared one-step error over that run: a
 * grid of 108 points, then Nelder-Mead from the best, inside [0, 1]. The
 * daily method does the same with days.
 *
 * Too little history falls back, and says so in info.note:
 *   >= 2 weeks      FORECAST_HW_WEEKLY  (both seasons)
 *   >= 2 days       FORECAST_HW_DAILY   (the daily season only)
 *   >= 1 day        FORECAST_SEASONAL_NAIVE (the last day repeated)
 *   >= 1 interval   FORECAST_MEAN       (the mean of the history)
 *
 * History values are >= 0; NaN marks an interval without an observation
 * (a handle time where nothing was handled): it is skipped by the
 * initialisation and the errors, and the smoothing carries its forecast
 * through. The forecast starts at the interval right after the last one
 * of the history.
 *
 * The error of past forecasts is given two ways: one step ahead (each
 * interval forecast from everything before it) and day ahead (at each
 * midnight of the history the next day is forecast from the state then,
 * as a staffing plan would be), over the run after the initialisation.
 * Both use the fitted parameters, so they are in-sample as to those four
 * numbers.
 */
#ifndef TL_FORECAST_H
#define TL_FORECAST_H

#include <stddef.h>

#include "err.h"

#define FORECAST_PER_DAY       96 /* 15-minute intervals */
#define FORECAST_DAYS_PER_WEEK 7
#define FORECAST_NOTE_MAX      200

#define FORECAST_METHOD_LIST(X)                                                \
    X(FORECAST_MEAN, "mean")                                                   \
    X(FORECAST_SEASONAL_NAIVE, "seasonal_naive")                               \
    X(FORECAST_HW_DAILY, "holt_winters_daily")                                 \
    X(FORECAST_HW_WEEKLY, "holt_winters_weekly")

typedef enum forecast_method {
#define FORECAST_X(name, str) name,
    FORECAST_METHOD_LIST(FORECAST_X)
#undef FORECAST_X
} forecast_method;

typedef struct forecast_opts {
    int per_day;   /* intervals per day; 0 means 96, else 2..1440 */
    int max_evals; /* Nelder-Mead evaluations after the grid; 0 = 400 */
    int fixed;     /* non-zero: use alpha..delta as given, no fit */
    double alpha, beta, gamma, delta; /* each in [0, 1] when fixed */
} forecast_opts;

/* Errors of past forecasts. Percentages are 0..100+. */
typedef struct forecast_errors {
    size_t n;    /* intervals compared (observed, and forecast) */
    double mape; /* mean |error| / actual over the n_mape nonzero actuals */
    size_t n_mape;
    double wape; /* sum |error| / sum actual, percent; 0 when no actual */
    double rmse; /* root mean squared error, in the series' unit */
    double bias; /* mean of forecast - actual */
} forecast_errors;

typedef struct forecast_info {
    forecast_method method;
    char note[FORECAST_NOTE_MAX]; /* why this method, for a person */
    size_t history;               /* intervals given */
    int per_day;
    double alpha, beta, gamma, delta; /* 0 where the method has none */
    int evaluations;                  /* objective evaluations in the fit */
    forecast_errors one_step;
    forecast_errors day_ahead;
} forecast_info;

typedef struct forecast forecast;

/* "mean", "seasonal_naive", ...; "?" outside the enum. */
const char *forecast_method_name(forecast_method m);

/*
 * Fit a forecast to history[0..n) (borrowed: copied as needed) with opts
 * (NULL for the defaults). On success *out owns a new forecast to free
 * with forecast_destroy. ST_INVALID for an empty history, one without a
 * single observation, a negative or infinite value, or bad opts;
 * ST_NOMEM when memory runs out.
 */
status forecast_create(forecast **out, const double *history, size_t n,
                       const forecast_opts *opts, err *e);

/* Write the next `horizon` intervals (>= 0 each) into out[0..horizon). */
void forecast_predict(const forecast *f, size_t horizon, double *out);

/* The method, parameters and errors; owned by f. */
const forecast_info *forecast_get_info(const forecast *f);

/* Free f; NULL is a no-op. */
void forecast_destroy(forecast *f);

#endif
