#include "console_plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "console_sql.h"
#include "forecast.h"
#include "staffing.h"

#define INTERVAL_S 900

static json_t *num(double v);

static json_t *errors_json(const forecast_errors *x)
{
    return json_pack("{s:I,s:o,s:o,s:o,s:o}", "n", (json_int_t)x->n, "mape",
                     num(x->mape), "wape", num(x->wape), "rmse", num(x->rmse),
                     "bias", num(x->bias));
}

static json_t *num(double v)
{
    return isfinite(v) ? json_real(round(v * 1000.0) / 1000.0) : json_null();
}

static status load_params(db *d, const char *op, const char *pool,
                          const char *channel, staffing_params *p,
                          json_t **settings, long long *rolled, err *e)
{
    const char *params[] = {op, pool, channel};
    db_res *r = NULL;
    status st;

    st = db_run(d, &console_sql_ops_pool_plan, params, &r, e);
    if (st != ST_OK)
        return st;
    if (db_rows(r) == 0) {
        db_res_free(r);
        return err_set(e, ST_NOT_FOUND,
                       "no pool \"%s\" of yours; GET /api/v1/ops/pools lists "
                       "them",
                       pool);
    }
    staffing_params_default(p);
    st = staffing_model_parse(db_val(r, 0, CONSOLE_OPS_POOL_PLAN_MODEL),
                              &p->model, e);
    p->interval_s = INTERVAL_S;
    p->threshold_s = (double)db_i64(r, 0, CONSOLE_OPS_POOL_PLAN_THRESHOLD_S);
    p->patience_s = (double)db_i64(r, 0, CONSOLE_OPS_POOL_PLAN_PATIENCE_S);
    memset(&p->target, 0, sizeof(p->target));
    if (p->model == STAFFING_WORKLOAD)
        p->target.max_occupancy = 0.85;
    else
        p->target.service_level =
            (double)db_i64(r, 0, CONSOLE_OPS_POOL_PLAN_TARGET_PERMILLE) /
            1000.0;
    p->slots = (int)db_i64(r, 0, CONSOLE_OPS_POOL_PLAN_SLOTS);
    if (p->slots < 1)
        p->slots = 1;
    if (p->slots > STAFFING_MAX_SLOTS)
        p->slots = STAFFING_MAX_SLOTS;
    /* The handle times of the history were measured at the concurrency
     * the workers worked at, so no penalty is added on top. */
    p->concurrency_penalty = 0;
    p->shrinkage =
        (double)db_i64(r, 0, CONSOLE_OPS_POOL_PLAN_SHRINKAGE_PERMILLE) / 1000.0;
    p->min_workers = 0;
    *rolled = db_i64(r, 0, CONSOLE_OPS_POOL_PLAN_ROLLED_UNTIL);
    *settings = json_pack(
        "{s:s,s:i,s:f,s:i,s:i,s:f,s:I}", "model", staffing_model_name(p->model),
        "threshold_s", (int)p->threshold_s, "target_service_level",
        p->target.service_level, "patience_s", (int)p->patience_s, "slots",
        p->slots, "shrinkage", p->shrinkage, "online_now",
        (json_int_t)db_i64(r, 0, CONSOLE_OPS_POOL_PLAN_ONLINE_NOW));
    db_res_free(r);
    return st;
}

/* Staff one interval; a load the model cannot staff gives null figures. */
static json_t *staff_json(const staffing_params *p, double arrivals, double aht,
                          json_t *o)
{
    staffing_interval s;
    err e = {0};

    if (!isfinite(aht) || aht <= 0)
        aht = 0;
    if ((arrivals > 0 && aht <= 0) ||
        staffing_required(p, arrivals, aht > 0 ? aht : 1, &s, &e) != ST_OK) {
        json_object_set_new(o, "required", json_null());
        json_object_set_new(o, "scheduled", json_null());
        return o;
    }
    json_object_set_new(o, "required", json_integer(s.workers));
    json_object_set_new(o, "scheduled", json_integer(s.scheduled));
    json_object_set_new(o, "service_level", num(s.service_level));
    json_object_set_new(o, "occupancy", num(s.occupancy));
    json_object_set_new(o, "asa_s", num(s.asa_s));
    return o;
}

static json_t *forecast_info_json(const forecast *f)
{
    const forecast_info *fi = forecast_get_info(f);

    return json_pack("{s:s,s:s,s:I,s:f,s:f,s:f,s:f,s:o,s:o}", "method",
                     forecast_method_name(fi->method), "note", fi->note,
                     "history", (json_int_t)fi->history, "alpha", fi->alpha,
                     "beta", fi->beta, "gamma", fi->gamma, "delta", fi->delta,
                     "one_step", errors_json(&fi->one_step), "day_ahead",
                     errors_json(&fi->day_ahead));
}

status console_plan_queue(db *d, const char *op, const char *pool,
                          const char *skill, const char *channel, int horizon,
                          int weeks, json_t **out, err *e)
{
    staffing_params p;
    json_t *settings = NULL, *hist = NULL, *fc = NULL, *res = NULL;
    long long rolled = 0;
    char wk[8];
    const char *params[5];
    db_res *r = NULL;
    double *arr = NULL, *aht = NULL, *online = NULL, *fa = NULL, *fh = NULL;
    forecast *fa_m = NULL, *fh_m = NULL;
    int n, observed_aht = 0;
    long long first;
    status st;

    st = load_params(d, op, pool, channel, &p, &settings, &rolled, e);
    if (st != ST_OK)
        goto out;
    snprintf(wk, sizeof(wk), "%d", weeks);
    params[0] = op;
    params[1] = pool;
    params[2] = skill;
    params[3] = channel;
    params[4] = wk;
    st = db_run(d, &console_sql_ops_series, params, &r, e);
    if (st != ST_OK)
        goto out;
    n = db_rows(r);
    if (n == 0) {
        st = err_set(e, ST_NOT_FOUND,
                     "no interval history for %s/%s/%s yet; the rollup "
                     "stores each 15-minute interval a minute after it "
                     "closes",
                     pool, skill, channel);
        goto out;
    }
    arr = calloc((size_t)n, sizeof(double));
    aht = calloc((size_t)n, sizeof(double));
    online = calloc((size_t)n, sizeof(double));
    fa = calloc((size_t)horizon, sizeof(double));
    fh = calloc((size_t)horizon, sizeof(double));
    if (arr == NULL || aht == NULL || online == NULL || fa == NULL ||
        fh == NULL) {
        st = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        int64_t handled = db_i64(r, i, CONSOLE_OPS_SERIES_HANDLED);

        arr[i] = (double)db_i64(r, i, CONSOLE_OPS_SERIES_OFFERED);
        aht[i] = handled > 0
                     ? (double)db_i64(r, i, CONSOLE_OPS_SERIES_HANDLE_SUM_MS) /
                           1000.0 / (double)handled
                     : NAN;
        observed_aht += handled > 0;
        online[i] = strtod(db_val(r, i, CONSOLE_OPS_SERIES_ONLINE_AVG), NULL);
    }
    first = db_i64(r, 0, CONSOLE_OPS_SERIES_INTERVAL_START);
    st = forecast_create(&fa_m, arr, (size_t)n, NULL, e);
    if (st != ST_OK)
        goto out;
    forecast_predict(fa_m, (size_t)horizon, fa);
    if (observed_aht > 0) {
        st = forecast_create(&fh_m, aht, (size_t)n, NULL, e);
        if (st != ST_OK)
            goto out;
        forecast_predict(fh_m, (size_t)horizon, fh);
    } else {
        for (int i = 0; i < horizon; i++)
            fh[i] = NAN;
    }
    hist = json_array();
    for (int i = n > 96 ? n - 96 : 0; i < n; i++) {
        json_t *o = json_pack("{s:I,s:f,s:o,s:o}", "t",
                              (json_int_t)(first + (long long)i * INTERVAL_S),
                              "arrivals", arr[i], "aht_s", num(aht[i]),
                              "online", num(online[i]));

        json_array_append_new(hist, staff_json(&p, arr[i], aht[i], o));
    }
    fc = json_array();
    for (int i = 0; i < horizon; i++) {
        json_t *o = json_pack("{s:I,s:o,s:o}", "t",
                              (json_int_t)(rolled + (long long)i * INTERVAL_S),
                              "arrivals", num(fa[i]), "aht_s", num(fh[i]));

        json_array_append_new(fc, staff_json(&p, fa[i], fh[i], o));
    }
    res = json_pack("{s:s,s:s,s:s,s:O,s:o,s:o,s:o,s:o}", "pool", pool, "skill",
                    skill, "channel", channel, "settings", settings,
                    "arrivals_model", forecast_info_json(fa_m), "aht_model",
                    fh_m != NULL ? forecast_info_json(fh_m) : json_null(),
                    "history", hist, "forecast", fc);
    hist = fc = NULL;
    if (res == NULL) {
        st = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    *out = res;
out:
    json_decref(settings);
    json_decref(hist);
    json_decref(fc);
    forecast_destroy(fa_m);
    forecast_destroy(fh_m);
    free(arr);
    free(aht);
    free(online);
    free(fa);
    free(fh);
    db_res_free(r);
    return st;
}
