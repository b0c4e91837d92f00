#include "erlang_a.h"

#include <math.h>

/* Relative mass left out when the sum over queue states stops. */
#define TAIL_EPS 1e-16

/* log(exp(x) + exp(y)) without overflow; either may be -INFINITY. */
static double log_add(double x, double y)
{
    if (x < y) {
        double t = x;
        x = y;
        y = t;
    }
    if (y == -INFINITY)
        return x;
    return x + log1p(exp(y - x));
}

/*
 * Sums over the queue states, each term weighted by r_i, the probability
 * of state n + i relative to state n, scaled by exp(-scale) so that the
 * largest weight seen is 1.
 */
typedef struct tail_sums {
    double mass;    /* sum r_i: arrivals that wait */
    double served;  /* ... and are answered */
    double abandon; /* ... and hang up */
    double in_time; /* ... and are answered within the threshold */
    double wait;    /* ... answered, times their mean wait */
    double queue;   /* sum i r_i: the mean queue seen */
    double scale;   /* log of the factor taken out */
} tail_sums;

static void tail_rescale(tail_sums *s, double new_scale)
{
    double f = exp(s->scale - new_scale);

    s->mass *= f;
    s->served *= f;
    s->abandon *= f;
    s->in_time *= f;
    s->wait *= f;
    s->queue *= f;
    s->scale = new_scale;
}

static status too_long(const erlang_queue *q, int n, double a, err *e)
{
    return err_set(e, ST_INVALID,
                   "the queue for %.4g Erlangs on %d agents with %g s "
                   "patience needs more than %d states; the patience is too "
                   "long for this overload",
                   a, n, q->patience_s, ERLANG_A_MAX_STATES);
}

/*
 * Figures for n agents given lb = log B(n, a). An arrival that finds i
 * customers waiting (state n + i, i >= 0) leaves the queue at the total
 * rate n mu + (i + 1) theta of the events "someone ahead leaves or is
 * served" and "it hangs up"; it is answered only if every event is of the
 * first kind, with probability n mu / (n mu + (i + 1) theta) (a product
 * that telescopes), and given that, its wait is the sum of independent
 * exponentials of rates n mu + j theta, j = 1..i + 1. That sum is the
 * (i + 1)-th order statistic of i + 1 + n mu / theta exponentials of rate
 * theta, so P(wait <= t) = I_x(i + 1, n mu / theta + 1), x = 1 - e^-theta t,
 * and I_x(k + 1, b) = I_x(k, b) - NB_k with NB_k the negative-binomial
 * term, itself carried by NB_k = NB_(k-1) x (b + k - 1) / k in logarithms.
 */
static status a_eval_b(const erlang_queue *q, int n, double lb,
                       erlang_a_result *r, err *e)
{
    double lambda = q->rate;
    double theta = 1 / q->patience_s;
    double t = q->threshold_s;
    double a = lambda * q->aht_s;
    double nmu = n / q->aht_s;
    /* Mass of states 0..n-1 relative to state n: (1 - B) / B. */
    double log_below = log(-expm1(lb)) - lb;
    double loglam = log(lambda);
    int timed = t > 0;
    double logx = timed ? log(-expm1(-theta * t)) : 0;
    double beta_b = nmu / theta + 1;
    double log_nb = -(nmu + theta) * t;          /* log NB_0 */
    double in_time = -expm1(-(nmu + theta) * t); /* I_x(1, b) */
    double mean_wait = 0;
    double logr = 0; /* log r_0: state n itself */
    tail_sums s = {0, 0, 0, 0, 0, 0, 0};
    int i = 0;

    /* Above the pool the queue peaks near (lambda - n mu) / theta; refuse
     * at once rather than after summing the cap. */
    if ((lambda - nmu) / theta > ERLANG_A_MAX_STATES)
        return too_long(q, n, a, e);

    for (;;) {
        double out_rate = nmu + (i + 1) * theta;
        double answered = nmu / out_rate;

        mean_wait += 1 / out_rate;
        if (logr > s.scale)
            tail_rescale(&s, logr);
        double w = exp(logr - s.scale);
        s.mass += w;
        s.served += w * answered;
        s.abandon += w * ((i + 1) * theta / out_rate);
        s.in_time += w * answered * in_time;
        s.wait += w * answered * mean_wait;
        s.queue += w * i;

        /* r_(i+1) / r_i = lambda / out_rate. Once below 1 the ratios only
         * fall, so sum_(j>i) j r_j <= r_i q / (1 - q) (i + 1 / (1 - q)),
         * which bounds what stopping here leaves out of every sum. */
        double ratio = lambda / out_rate;
        if (ratio < 1) {
            double log_left =
                logr + log(ratio) - log1p(-ratio) + log(i + 1 / (1 - ratio));
            double log_total = log_add(log_below, s.scale + log(s.mass));
            if (log_left < log_total + log(TAIL_EPS))
                break;
        }
        if (++i >= ERLANG_A_MAX_STATES)
            return too_long(q, n, a, e);
        logr += loglam - log(out_rate);
        if (timed) {
            log_nb += logx + log(beta_b + i - 1) - log(i);
            in_time -= exp(log_nb);
            if (in_time < 0)
                in_time = 0;
        }
    }

    double log_z = log_add(log_below, s.scale + log(s.mass));
    double f = exp(s.scale - log_z);
    double no_wait = exp(log_below - log_z);
    double p_served = no_wait + s.served * f;

    r->agents = n;
    r->erlangs = a;
    r->p_wait = s.mass * f;
    r->p_abandon = s.abandon * f;
    r->service_level = no_wait + s.in_time * f;
    if (r->service_level > 1)
        r->service_level = 1;
    r->sl_answered = r->service_level / p_served;
    if (r->sl_answered > 1)
        r->sl_answered = 1;
    r->asa_s = s.wait * f / p_served;
    r->mean_queue = s.queue * f;
    r->wait_s = r->mean_queue / lambda;
    r->occupancy = a * p_served / n;
    r->states = i + 1;
    return ST_OK;
}

status erlang_a_eval(const erlang_queue *q, int agents, erlang_a_result *out,
                     err *e)
{
    double lb;
    status s = erlang_check(q, 1, NULL, e);

    if (s != ST_OK)
        return s;
    if (agents < 1)
        return err_set(e, ST_INVALID, "agents must be 1 or more, not %d",
                       agents);
    s = erlang_b_log(agents, q->rate * q->aht_s, &lb, e);
    if (s != ST_OK)
        return s;
    return a_eval_b(q, agents, lb, out, e);
}

static int a_meets(const erlang_a_result *r, const erlang_target *t)
{
    if (t->service_level > 0 && r->service_level < t->service_level)
        return 0;
    if (t->asa_s > 0 && r->asa_s > t->asa_s)
        return 0;
    if (t->max_occupancy > 0 && r->occupancy > t->max_occupancy)
        return 0;
    if (t->max_abandon > 0 && r->p_abandon > t->max_abandon)
        return 0;
    return 1;
}

/* Erlang B walked upward; walk_to() restarts it below its position. */
typedef struct b_walk {
    double a;
    int n;
    double b, lb;
} b_walk;

static void walk_to(b_walk *w, int n)
{
    if (n < w->n) {
        w->n = 0;
        w->b = 1;
        w->lb = 0;
    }
    while (w->n < n) {
        w->n++;
        erlang_b_next(w->n, w->a, &w->b, &w->lb);
    }
}

/* Evaluate n agents with B walked from *w (which ends at n). */
static status try_n(const erlang_queue *q, const erlang_target *t, b_walk *w,
                    int n, erlang_a_result *r, int *ok, err *e)
{
    walk_to(w, n);
    status s = a_eval_b(q, n, w->lb, r, e);
    if (s == ST_OK)
        *ok = a_meets(r, t);
    return s;
}

/*
 * Bracket then bisect. The first guess is the load itself (with
 * abandonment a pool below the load can meet a modest target); the bracket
 * grows by steps of sqrt(a), doubled each time, the scale on which the
 * figures move. A copy of the Erlang B walk is kept at the failing end of
 * the bracket, so that each bisection step walks only across the bracket:
 * the search costs O(answer) recursion steps plus a few dozen tail sums.
 */
status erlang_a_agents(const erlang_queue *q, const erlang_target *t,
                       erlang_a_result *out, err *e)
{
    erlang_a_result r, best;
    status s = erlang_check(q, 1, t, e);
    int ok = 0;

    if (s != ST_OK)
        return s;
    double a = q->rate * q->aht_s;
    if (!(a < ERLANG_MAX_AGENTS))
        return err_set(e, ST_INVALID,
                       "offered load of %.4g Erlangs needs more than %d "
                       "agents",
                       a, ERLANG_MAX_AGENTS);
    b_walk w = {a, 0, 1, 0};
    b_walk at_lo = w; /* B at lo; lo = 0 never meets a target */
    int step = (int)sqrt(a) + 1;
    int lo = 0, hi = (int)ceil(a);
    if (hi < 1)
        hi = 1;
    if ((s = try_n(q, t, &w, hi, &r, &ok, e)) != ST_OK)
        return s;
    best = r;
    if (ok) {
        /* Walk down until a pool fails. */
        while (hi > 1) {
            int down = hi - step > 1 ? hi - step : 1;
            w = at_lo;
            if ((s = try_n(q, t, &w, down, &r, &ok, e)) != ST_OK)
                return s;
            if (!ok) {
                lo = down;
                at_lo = w;
                break;
            }
            hi = down;
            best = r;
            step *= 2;
        }
    } else {
        for (;;) {
            lo = hi;
            at_lo = w;
            if (lo >= ERLANG_MAX_AGENTS)
                return err_set(e, ST_INVALID,
                               "the target needs more than %d agents for "
                               "%.4g Erlangs",
                               ERLANG_MAX_AGENTS, a);
            hi = step < ERLANG_MAX_AGENTS - lo ? lo + step : ERLANG_MAX_AGENTS;
            if ((s = try_n(q, t, &w, hi, &r, &ok, e)) != ST_OK)
                return s;
            if (ok)
                break;
            if (step < ERLANG_MAX_AGENTS / 2)
                step *= 2;
        }
        best = r;
    }
    /* Now lo fails (0 stands for no agents) and hi meets the target. */
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        w = at_lo;
        if ((s = try_n(q, t, &w, mid, &r, &ok, e)) != ST_OK)
            return s;
        if (ok) {
            hi = mid;
            best = r;
        } else {
            lo = mid;
            at_lo = w;
        }
    }
    *out = best;
    return ST_OK;
}
