#include "erlang.h"

#include <math.h>
#include <stddef.h>

/* Below this B the recursion continues in logarithms, far above the
 * smallest normal double so that a B * a never loses precision. */
#define B_LOG_SWITCH 1e-250

static int positive_finite(double x)
{
    return isfinite(x) && x > 0;
}

status erlang_check(const erlang_queue *q, int need_patience,
                    const erlang_target *t, err *e)
{
    if (!positive_finite(q->rate))
        return err_set(e, ST_INVALID,
                       "arrival rate must be a positive number of arrivals "
                       "per second, not %g",
                       q->rate);
    if (!positive_finite(q->aht_s))
        return err_set(e, ST_INVALID,
                       "handle time must be a positive number of seconds, "
                       "not %g",
                       q->aht_s);
    if (!isfinite(q->threshold_s) || q->threshold_s < 0)
        return err_set(e, ST_INVALID,
                       "service-level threshold must be zero or more "
                       "seconds, not %g",
                       q->threshold_s);
    if (need_patience && !positive_finite(q->patience_s))
        return err_set(e, ST_INVALID,
                       "patience must be a positive number of seconds, not "
                       "%g; for customers who never hang up use Erlang C",
                       q->patience_s);
    if (t == NULL)
        return ST_OK;
    if (!isfinite(t->service_level) || t->service_level < 0 ||
        t->service_level >= 1)
        return err_set(e, ST_INVALID,
                       "target service level must be a share below 1 (0.8 "
                       "for 80%%), not %g",
                       t->service_level);
    if (!isfinite(t->asa_s) || t->asa_s < 0)
        return err_set(e, ST_INVALID,
                       "target answer speed must be a positive number of "
                       "seconds, not %g",
                       t->asa_s);
    if (!isfinite(t->max_occupancy) || t->max_occupancy < 0 ||
        t->max_occupancy > 1)
        return err_set(e, ST_INVALID,
                       "maximum occupancy must be a share up to 1, not %g",
                       t->max_occupancy);
    if (!isfinite(t->max_abandon) || t->max_abandon < 0 || t->max_abandon >= 1)
        return err_set(e, ST_INVALID,
                       "maximum abandonment must be a share below 1, not %g",
                       t->max_abandon);
    if (t->service_level == 0 && t->asa_s == 0 && t->max_occupancy == 0 &&
        t->max_abandon == 0)
        return err_set(e, ST_INVALID,
                       "no staffing target is set: give a service level, an "
                       "answer speed, an occupancy or an abandonment limit");
    return ST_OK;
}

/*
 * While B is large the plain recursion is used (one division); once it is
 * tiny the step becomes lb += log(a / (k + a B)), which never underflows.
 */
void erlang_b_next(int k, double a, double *b, double *lb)
{
    double ab = a * *b;

    if (*b > B_LOG_SWITCH) {
        *b = ab / (k + ab);
        *lb = log(*b);
    } else {
        *lb += log(a / (k + ab));
        *b = exp(*lb);
    }
}

/* B and log B for n servers; the caller has checked n and a. */
static void b_both(int n, double a, double *b, double *lb)
{
    *b = 1;
    *lb = 0;
    for (int k = 1; k <= n; k++)
        erlang_b_next(k, a, b, lb);
}

static status b_args(int servers, double erlangs, err *e)
{
    if (servers < 0)
        return err_set(e, ST_INVALID,
                       "server count must be zero or more, not %d", servers);
    if (!positive_finite(erlangs))
        return err_set(e, ST_INVALID,
                       "offered load must be a positive number of Erlangs, "
                       "not %g",
                       erlangs);
    return ST_OK;
}

status erlang_b(int servers, double erlangs, double *out, err *e)
{
    double b, lb;
    status s = b_args(servers, erlangs, e);

    if (s != ST_OK)
        return s;
    b_both(servers, erlangs, &b, &lb);
    *out = b;
    return ST_OK;
}

status erlang_b_log(int servers, double erlangs, double *out, err *e)
{
    double b, lb;
    status s = b_args(servers, erlangs, e);

    if (s != ST_OK)
        return s;
    b_both(servers, erlangs, &b, &lb);
    *out = lb;
    return ST_OK;
}

/*
 * Erlang C figures from B(n, a). With d = n - a > 0:
 *   C     = n B / (d + a B)
 *   1 - C = d (1 - B) / (d + a B)       (no cancellation)
 *   SL(t) = (1 - C) + C (1 - exp(-d t / aht))
 * the last with expm1, so every term is a positive product.
 */
static void c_fill(const erlang_queue *q, int n, double a, double b,
                   erlang_c_result *r)
{
    double d = n - a;
    double den = d + a * b;
    double c = n * b / den;
    double no_wait = d * (1 - b) / den;

    r->agents = n;
    r->erlangs = a;
    r->p_wait = c;
    r->service_level = no_wait + c * -expm1(-d * q->threshold_s / q->aht_s);
    if (r->service_level > 1)
        r->service_level = 1;
    r->asa_s = c * q->aht_s / d;
    r->mean_queue = c * a / d;
    r->occupancy = a / n;
}

status erlang_c_eval(const erlang_queue *q, int agents, erlang_c_result *out,
                     err *e)
{
    double b, lb;
    status s = erlang_check(q, 0, NULL, e);

    if (s != ST_OK)
        return s;
    if (agents < 1)
        return err_set(e, ST_INVALID, "agents must be 1 or more, not %d",
                       agents);
    double a = q->rate * q->aht_s;
    if (a >= agents)
        return err_set(e, ST_INVALID,
                       "offered load of %.4g Erlangs (rate x handle time) "
                       "needs more than %d agents: with %d the queue grows "
                       "without bound",
                       a, agents, agents);
    b_both(agents, a, &b, &lb);
    c_fill(q, agents, a, b, out);
    return ST_OK;
}

static int c_meets(const erlang_c_result *r, const erlang_target *t)
{
    if (t->service_level > 0 && r->service_level < t->service_level)
        return 0;
    if (t->asa_s > 0 && r->asa_s > t->asa_s)
        return 0;
    if (t->max_occupancy > 0 && r->occupancy > t->max_occupancy)
        return 0;
    return 1;
}

/*
 * Every figure improves as agents are added, so the first pool above the
 * load that meets the target is the answer. The scan starts at the
 * smallest stable pool and carries B along, one recursion step per agent:
 * O(answer) work in all.
 */
status erlang_c_agents(const erlang_queue *q, const erlang_target *t,
                       erlang_c_result *out, err *e)
{
    erlang_c_result r;
    double b, lb;
    status s = erlang_check(q, 0, t, e);

    if (s != ST_OK)
        return s;
    if (t->max_abandon > 0)
        return err_set(e, ST_INVALID,
                       "Erlang C has no abandonment: drop the abandonment "
                       "limit or use Erlang A");
    double a = q->rate * q->aht_s;
    if (!(a < ERLANG_MAX_AGENTS))
        return err_set(e, ST_INVALID,
                       "offered load of %.4g Erlangs needs more than %d "
                       "agents",
                       a, ERLANG_MAX_AGENTS);
    int n = (int)floor(a) + 1;
    b_both(n, a, &b, &lb);
    for (;;) {
        c_fill(q, n, a, b, &r);
        if (c_meets(&r, t))
            break;
        if (n >= ERLANG_MAX_AGENTS)
            return err_set(e, ST_INVALID,
                           "the target needs more than %d agents for %.4g "
                           "Erlangs",
                           ERLANG_MAX_AGENTS, a);
        n++;
        erlang_b_next(n, a, &b, &lb);
    }
    *out = r;
    return ST_OK;
}
