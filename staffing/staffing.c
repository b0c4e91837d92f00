#include "staffing.h"

#include <math.h>
#include <string.h>

#include "erlang_a.h"

/* Largest shrinkage accepted: beyond it a schedule is mostly absence and
 * the scheduled count would leave the int range for large pools. */
#define MAX_SHRINKAGE 0.95

static const char *const model_names[] = {
#define STAFFING_X(name, str) str,
    STAFFING_MODEL_LIST(STAFFING_X)
#undef STAFFING_X
};

#define NMODELS ((int)(sizeof(model_names) / sizeof(model_names[0])))

const char *staffing_model_name(staffing_model m)
{
    if ((int)m < 0 || (int)m >= NMODELS)
        return "?";
    return model_names[m];
}

status staffing_model_parse(const char *name, staffing_model *out, err *e)
{
    for (int i = 0; i < NMODELS; i++) {
        if (strcmp(name, model_names[i]) == 0) {
            *out = (staffing_model)i;
            return ST_OK;
        }
    }
    return err_set(e, ST_INVALID,
                   "staffing model \"%s\" is not known; use erlang_c, "
                   "erlang_a or workload",
                   name);
}

void staffing_params_default(staffing_params *p)
{
    memset(p, 0, sizeof(*p));
    p->model = STAFFING_ERLANG_C;
    p->interval_s = 900;
    p->threshold_s = 20;
    p->target.service_level = 0.8;
    p->slots = 1;
}

status staffing_params_check(const staffing_params *p, err *e)
{
    if ((int)p->model < 0 || (int)p->model >= NMODELS)
        return err_set(e, ST_INVALID, "staffing model %d is not known",
                       (int)p->model);
    if (!isfinite(p->interval_s) || p->interval_s <= 0)
        return err_set(e, ST_INVALID,
                       "interval length must be a positive number of "
                       "seconds, not %g",
                       p->interval_s);
    if (p->slots < 1 || p->slots > STAFFING_MAX_SLOTS)
        return err_set(e, ST_INVALID,
                       "slots per worker must be from 1 to %d, not %d",
                       STAFFING_MAX_SLOTS, p->slots);
    if (!isfinite(p->concurrency_penalty) || p->concurrency_penalty < 0)
        return err_set(e, ST_INVALID,
                       "concurrency penalty must be zero or more (0.15 adds "
                       "15%% handle time per extra slot), not %g",
                       p->concurrency_penalty);
    if (!isfinite(p->shrinkage) || p->shrinkage < 0 ||
        p->shrinkage > MAX_SHRINKAGE)
        return err_set(e, ST_INVALID,
                       "shrinkage must be a share from 0 to %.2f (0.3 for "
                       "30%% of scheduled time away), not %g",
                       MAX_SHRINKAGE, p->shrinkage);
    if (p->min_workers < 0 || p->min_workers > ERLANG_MAX_AGENTS)
        return err_set(e, ST_INVALID,
                       "minimum workers must be from 0 to %d, not %d",
                       ERLANG_MAX_AGENTS, p->min_workers);
    /* A probe queue lets erlang_check judge the target and thresholds. */
    erlang_queue probe = {1, 1, p->threshold_s, p->patience_s};
    switch (p->model) {
    case STAFFING_ERLANG_C:
        if (p->target.max_abandon > 0)
            return err_set(e, ST_INVALID,
                           "Erlang C has no abandonment: drop the "
                           "abandonment limit or use erlang_a");
        return erlang_check(&probe, 0, &p->target, e);
    case STAFFING_ERLANG_A:
        return erlang_check(&probe, 1, &p->target, e);
    case STAFFING_WORKLOAD:
        if (!isfinite(p->target.max_occupancy) ||
            p->target.max_occupancy <= 0 || p->target.max_occupancy > 1)
            return err_set(e, ST_INVALID,
                           "the workload model needs a maximum occupancy "
                           "from 0 to 1 (0.85 for 85%%), not %g",
                           p->target.max_occupancy);
        return ST_OK;
    }
    return ST_OK;
}

int staffing_with_shrinkage(int workers, double shrinkage)
{
    double x = workers / (1 - shrinkage);

    /* 14 / (1 - 0.3) is 20.000000000000004 in binary; a relative slack far
     * below one worker keeps it at 20. */
    return (int)ceil(x * (1 - 1e-12));
}

/* Servers for the workload model: load / max_occupancy, rounded up. */
static status workload_servers(const staffing_params *p, double load, int *out,
                               err *e)
{
    double x = load / p->target.max_occupancy;

    if (!(x < ERLANG_MAX_AGENTS))
        return err_set(e, ST_INVALID,
                       "a load of %.4g Erlangs needs more than %d servers",
                       load, ERLANG_MAX_AGENTS);
    *out = (int)ceil(x * (1 - 1e-12));
    return ST_OK;
}

status staffing_required(const staffing_params *p, double arrivals,
                         double aht_s, staffing_interval *out, err *e)
{
    staffing_interval r;
    status s = staffing_params_check(p, e);

    if (s != ST_OK)
        return s;
    if (!isfinite(arrivals) || arrivals < 0)
        return err_set(e, ST_INVALID,
                       "arrivals must be zero or more items, not %g", arrivals);
    memset(&r, 0, sizeof(r));
    if (arrivals == 0) {
        r.workers = p->min_workers;
        r.scheduled = staffing_with_shrinkage(r.workers, p->shrinkage);
        *out = r;
        return ST_OK;
    }
    if (!isfinite(aht_s) || aht_s <= 0)
        return err_set(e, ST_INVALID,
                       "handle time must be a positive number of seconds, "
                       "not %g",
                       aht_s);

    int k = p->slots;
    erlang_queue q = {arrivals / p->interval_s,
                      aht_s * (1 + p->concurrency_penalty * (k - 1)),
                      p->threshold_s, p->patience_s};
    r.erlangs = q.rate * q.aht_s;
    if (!isfinite(r.erlangs))
        return err_set(e, ST_INVALID,
                       "arrivals %g with handle time %g s is not a load "
                       "that can be staffed",
                       arrivals, aht_s);

    erlang_c_result c;
    erlang_a_result a;
    switch (p->model) {
    case STAFFING_ERLANG_C:
        s = erlang_c_agents(&q, &p->target, &c, e);
        r.servers = c.agents;
        break;
    case STAFFING_ERLANG_A:
        s = erlang_a_agents(&q, &p->target, &a, e);
        r.servers = a.agents;
        break;
    case STAFFING_WORKLOAD:
        s = workload_servers(p, r.erlangs, &r.servers, e);
        break;
    }
    if (s != ST_OK)
        return s;

    r.workers = (r.servers + k - 1) / k;
    if (r.workers < p->min_workers)
        r.workers = p->min_workers;
    r.scheduled = staffing_with_shrinkage(r.workers, p->shrinkage);

    /* The figures the logged-in workers achieve: all their slots count,
     * which is at least the servers the model asked for. */
    int n = r.workers * k;
    switch (p->model) {
    case STAFFING_ERLANG_C:
        s = erlang_c_eval(&q, n, &c, e);
        if (s == ST_OK) {
            r.service_level = c.service_level;
            r.asa_s = c.asa_s;
            r.occupancy = c.occupancy;
        }
        break;
    case STAFFING_ERLANG_A:
        s = erlang_a_eval(&q, n, &a, e);
        if (s == ST_OK) {
            r.service_level = a.service_level;
            r.asa_s = a.asa_s;
            r.p_abandon = a.p_abandon;
            r.occupancy = a.occupancy;
        }
        break;
    case STAFFING_WORKLOAD:
        r.occupancy = r.erlangs / n;
        break;
    }
    if (s != ST_OK)
        return s;
    *out = r;
    return ST_OK;
}

status staffing_plan(const staffing_params *p, const double *arrivals,
                     const double *aht_s, size_t n, staffing_interval *out,
                     err *e)
{
    status s = staffing_params_check(p, e);

    if (s != ST_OK)
        return s;
    for (size_t i = 0; i < n; i++) {
        s = staffing_required(p, arrivals[i], aht_s[i], &out[i], e);
        if (s != ST_OK)
            return err_wrap(e, "interval %zu", i);
    }
    return ST_OK;
}
