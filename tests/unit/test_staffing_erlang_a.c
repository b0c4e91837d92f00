/*
 * Erlang A (M/M/n+M) against a published example, against a brute-force
 * solution computed here by another method, against its limits (patience
 * to infinity is Erlang C, patience to zero is Erlang B) and its exact
 * identities, and for large and overloaded pools.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "erlang_a.h"
#include "tl_test.h"

#define assert_near(got, want, tol)                                            \
    do {                                                                       \
        double g_ = (got), w_ = (want), t_ = (tol);                            \
        if (!(fabs(g_ - w_) <= t_))                                            \
            fail_msg("%s = %.17g, want %.17g (tolerance %g)", #got, g_, w_,    \
                     t_);                                                      \
    } while (0)

static erlang_a_result a_eval(const erlang_queue *q, int agents)
{
    erlang_a_result r;
    err e = {0};

    if (erlang_a_eval(q, agents, &r, &e) != ST_OK)
        fail_msg("erlang_a_eval(%d): %s", agents, e.msg);
    return r;
}

/*
 * pyworkforce's Erlang A regression figures (github.com/rodrigo-arenas/
 * pyworkforce, pyworkforce/queuing/tests/test_abandonment.py), computed
 * there by summing the chain and, for the service level, by
 * uniformisation of the waiting customer's chain: 100 calls per 30
 * minutes, 3-minute handle time, 5-minute patience, 20 s threshold, 14
 * agents: waiting 0.14526, abandoning 0.013984, occupancy 0.704297, mean
 * wait of all arrivals 0.069919 min, answered within 20 s 0.916792.
 */
static void test_erlang_a_pyworkforce(void **state)
{
    erlang_queue q = {100.0 / 1800, 180, 20, 300};
    erlang_a_result r = a_eval(&q, 14);

    (void)state;
    assert_near(r.p_wait, 0.14526, 0.000005);
    assert_near(r.p_abandon, 0.013984, 0.0000005);
    assert_near(r.occupancy, 0.704297, 0.0000005);
    assert_near(r.wait_s / 60, 0.069919, 0.0000005);
    assert_near(r.service_level, 0.916792, 0.0000005);

    /* 80% within 20 s: 13 agents (0.858), 12 give 0.772. */
    erlang_target t = {0.8, 0, 0, 0};
    err e = {0};
    assert_int_equal(erlang_a_agents(&q, &t, &r, &e), ST_OK);
    assert_int_equal(r.agents, 13);
    assert_true(a_eval(&q, 12).service_level < 0.8);
    /* Abandonment needs fewer agents than Erlang C's 14 here. */
    erlang_c_result c;
    assert_int_equal(erlang_c_agents(&q, &t, &c, &e), ST_OK);
    assert_int_equal(c.agents, 14);
}

/*
 * Brute force for a small pool: the stationary distribution summed
 * directly over 0..n+cap states, and each waiting customer's chance to be
 * answered within t by uniformisation of its chain (m ahead: moves on at
 * n mu + m theta, hangs up at theta), for all m at once.
 */
#define BF_CAP 400

typedef struct brute {
    double p_wait, p_abandon, sl, mean_queue, served;
} brute;

static brute brute_force(const erlang_queue *q, int n)
{
    double lam = q->rate, mu = 1 / q->aht_s, th = 1 / q->patience_s;
    double t = q->threshold_s;
    static double pi[BF_CAP + 64], g[BF_CAP], h[BF_CAP];
    double z = 0;
    brute b = {0, 0, 0, 0, 0};

    pi[0] = 1;
    for (int k = 1; k <= n + BF_CAP - 1; k++) {
        double death = k <= n ? k * mu : n * mu + (k - n) * th;
        pi[k] = pi[k - 1] * lam / death;
    }
    for (int k = 0; k < n + BF_CAP; k++)
        z += pi[k];
    for (int k = 0; k < n + BF_CAP; k++)
        pi[k] /= z;

    /* Queue positions beyond `top` carry no mass worth counting; the
     * uniformisation rate only needs to cover those below. */
    int top = BF_CAP;
    while (top > 1 && pi[n + top - 1] < 1e-20)
        top--;
    /* Uniformisation: g[m] after step j is P(answered within j jumps);
     * Poisson weights in logarithms. */
    double big = n * mu + (top + 1) * th;
    double lt = big * t;
    int steps = (int)(lt + 12 * sqrt(lt) + 60);
    double within[BF_CAP];
    memset(g, 0, sizeof(g));
    memset(within, 0, sizeof(within));
    for (int j = 1; j <= steps; j++) {
        for (int m = top - 1; m >= 0; m--) {
            double adv = n * mu + m * th;
            double stay = big - adv - th;
            double ahead = m == 0 ? 1 : g[m - 1];
            h[m] = (adv * ahead + stay * g[m]) / big;
        }
        memcpy(g, h, sizeof(double) * (size_t)top);
        double pois = exp(-lt + j * log(lt) - lgamma(j + 1.0));
        for (int m = 0; m < top; m++)
            within[m] += pois * g[m];
    }
    for (int k = 0; k < n; k++)
        b.sl += pi[k];
    b.served = b.sl;
    for (int m = 0; m < BF_CAP; m++) {
        double p = pi[n + m];
        b.p_wait += p;
        b.sl += p * within[m];
        b.mean_queue += p * m;
        b.served += p * n * mu / (n * mu + (m + 1) * th);
    }
    b.p_abandon = 1 - b.served;
    return b;
}

static void test_erlang_a_brute_force(void **state)
{
    static const erlang_queue cases[] = {
        {5.0 / 120, 120, 60, 30},  /* at the critical load, impatient */
        {6.0 / 300, 300, 30, 200}, /* twice the pool, patient */
        {2.5 / 60, 60, 10, 600},   /* light load, very patient */
    };
    static const int agents[] = {5, 3, 4};

    (void)state;
    for (int i = 0; i < 3; i++) {
        brute b = brute_force(&cases[i], agents[i]);
        erlang_a_result r = a_eval(&cases[i], agents[i]);
        assert_near(r.p_wait, b.p_wait, 1e-10);
        assert_near(r.p_abandon, b.p_abandon, 1e-10);
        assert_near(r.mean_queue, b.mean_queue, 1e-8);
        assert_near(r.service_level, b.sl, 1e-9);
        assert_near(r.sl_answered, b.sl / b.served, 1e-9);
    }
}

/*
 * Identities of M/M/n+M (Mandelbaum and Zeltyn, "The Palm/Erlang-A queue,
 * with applications to call centers", section 4.6): the share abandoning
 * is theta times the mean wait of all arrivals, P(Ab) = theta E[W], and
 * E[W] = E[Q] / lambda (Little); occupancy is the carried load per agent.
 */
static void test_erlang_a_identities(void **state)
{
    (void)state;
    for (int n = 1; n <= 60; n += 7) {
        for (double load = 0.3; load < 2.5; load += 0.4) {
            erlang_queue q = {load * n / 240, 240, 20, 90};
            erlang_a_result r = a_eval(&q, n);
            assert_near(r.p_abandon, r.wait_s / q.patience_s, 1e-12);
            assert_near(r.wait_s, r.mean_queue / q.rate, 1e-9);
            assert_near(r.occupancy, r.erlangs * (1 - r.p_abandon) / n, 1e-12);
            assert_true(r.p_abandon <= r.p_wait);
            assert_true(r.service_level <= 1 - r.p_abandon + 1e-15);
            assert_true(r.service_level >= 1 - r.p_wait - 1e-15);
            assert_true(r.sl_answered >= r.service_level);
            assert_true(r.occupancy <= 1 + 1e-12);
            /* With a zero threshold only calls answered at once count. */
            erlang_queue now = q;
            now.threshold_s = 0;
            assert_near(a_eval(&now, n).service_level, 1 - r.p_wait, 1e-12);
        }
    }
}

/*
 * Patience to infinity is Erlang C (for a stable pool). The gap closes in
 * proportion to 1 / patience (at 11 agents for 10 Erlangs the ASA is off
 * by 4e-6 of itself at 10^9 s, 4e-9 at 10^12 s), so with 10^12 s every
 * figure agrees to 1e-6, also for 1,000 agents.
 */
static void test_erlang_a_patient_limit_is_erlang_c(void **state)
{
    static const struct {
        double erlangs;
        int agents;
    } rows[] = {{10, 11}, {10, 14}, {10, 20}, {48, 55}, {950, 1000}};
    err e = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        erlang_queue q = {rows[i].erlangs / 180, 180, 20, 1e12};
        erlang_c_result c;
        assert_int_equal(erlang_c_eval(&q, rows[i].agents, &c, &e), ST_OK);
        erlang_a_result a = a_eval(&q, rows[i].agents);
        assert_near(a.p_wait, c.p_wait, 1e-6);
        assert_near(a.service_level, c.service_level, 1e-6);
        assert_near(a.asa_s, c.asa_s, 1e-6 * (1 + c.asa_s));
        assert_near(a.mean_queue, c.mean_queue, 1e-6 * (1 + c.mean_queue));
        assert_near(a.occupancy, c.occupancy, 1e-6);
        assert_true(a.p_abandon < 1e-6);
    }
}

/*
 * Patience to zero is Erlang B: a caller who finds every agent busy hangs
 * up at once, so waiting and abandoning are both B(n, a), and the
 * service level is 1 - B.
 */
static void test_erlang_a_impatient_limit_is_erlang_b(void **state)
{
    err e = {0};

    (void)state;
    for (int n = 1; n <= 30; n += 4) {
        double a = 0.8 * n + 1;
        erlang_queue q = {a / 200, 200, 20, 1e-7};
        double b;
        assert_int_equal(erlang_b(n, a, &b, &e), ST_OK);
        erlang_a_result r = a_eval(&q, n);
        assert_near(r.p_wait, b, 1e-6 * b);
        assert_near(r.p_abandon, b, 1e-6 * b);
        assert_near(r.service_level, 1 - b, 1e-6);
        assert_near(r.asa_s, 0, 1e-6);
    }
}

/*
 * Abandonment keeps an overloaded queue stable: at twice the load of
 * the pool about half the callers hang up (the fluid limit is 1 - n / a),
 * and more patience makes the wait longer, not shorter.
 */
static void test_erlang_a_overload(void **state)
{
    (void)state;
    erlang_queue q = {200.0 / 300, 300, 20, 120};
    erlang_a_result r = a_eval(&q, 100);
    assert_true(isfinite(r.asa_s) && isfinite(r.wait_s));
    assert_near(r.p_abandon, 0.5, 0.02);
    assert_near(r.occupancy, 1, 0.01);
    q.patience_s = 600;
    erlang_a_result longer = a_eval(&q, 100);
    assert_true(longer.wait_s > r.wait_s);
    assert_near(longer.p_abandon, 0.5, 0.02);
}

/* More agents never hurt: from 1 to 40 agents at 20 Erlangs. */
static void test_erlang_a_monotone(void **state)
{
    erlang_queue q = {20.0 / 240, 240, 30, 180};
    erlang_a_result prev = a_eval(&q, 1);

    (void)state;
    for (int n = 2; n <= 40; n++) {
        erlang_a_result cur = a_eval(&q, n);
        assert_true(cur.service_level >= prev.service_level - 1e-15);
        assert_true(cur.p_abandon <= prev.p_abandon + 1e-15);
        assert_true(cur.p_wait <= prev.p_wait + 1e-15);
        assert_true(cur.asa_s <= prev.asa_s + 1e-12);
        prev = cur;
    }
}

/*
 * Pools of 5,000 and 10,000 agents: finite, monotone near the answer,
 * and the search lands on the boundary of each target.
 */
static void test_erlang_a_large_pools(void **state)
{
    static const double loads[] = {4900, 5000, 5100, 9800};
    err e = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(loads) / sizeof(loads[0]); i++) {
        erlang_queue q = {loads[i] / 300, 300, 20, 120};
        erlang_target t = {0.8, 0, 0, 0.02};
        erlang_a_result r;
        assert_int_equal(erlang_a_agents(&q, &t, &r, &e), ST_OK);
        assert_true(r.service_level >= 0.8 && r.p_abandon <= 0.02);
        erlang_a_result below = a_eval(&q, r.agents - 1);
        assert_true(below.service_level < 0.8 || below.p_abandon > 0.02);
        assert_true(isfinite(r.asa_s) && r.states > 0);
        erlang_a_result prev = a_eval(&q, r.agents - 50);
        for (int n = r.agents - 49; n <= r.agents + 50; n += 7) {
            erlang_a_result cur = a_eval(&q, n);
            assert_true(cur.service_level >= prev.service_level - 1e-15);
            assert_true(cur.p_abandon <= prev.p_abandon + 1e-15);
            prev = cur;
        }
    }
}

/* A pool far above its load: B underflows, the figures do not. */
static void test_erlang_a_idle_pool(void **state)
{
    erlang_queue q = {1.0 / 300, 300, 20, 120};
    erlang_a_result r = a_eval(&q, 3000);

    (void)state;
    assert_near(r.p_wait, 0, 1e-300);
    assert_near(r.p_abandon, 0, 1e-300);
    assert_near(r.service_level, 1, 0);
    assert_near(r.occupancy, 1.0 / 3000, 1e-15);
    assert_int_equal(r.states, 1);
}

/* Every target kind is honoured and the search agrees with a scan. */
static void test_erlang_a_targets_match_scan(void **state)
{
    static const erlang_target targets[] = {
        {0.8, 0, 0, 0},  {0.95, 0, 0, 0}, {0, 15, 0, 0},
        {0, 0, 0, 0.01}, {0, 0, 0.75, 0}, {0.7, 30, 0.9, 0.05},
    };
    static const double loads[] = {0.4, 3, 17.5, 60};
    err e = {0};

    (void)state;
    for (size_t l = 0; l < sizeof(loads) / sizeof(loads[0]); l++) {
        erlang_queue q = {loads[l] / 200, 200, 20, 150};
        for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
            const erlang_target *t = &targets[i];
            erlang_a_result r;
            assert_int_equal(erlang_a_agents(&q, t, &r, &e), ST_OK);
            int n = 1;
            for (;; n++) {
                erlang_a_result s = a_eval(&q, n);
                if ((t->service_level == 0 ||
                     s.service_level >= t->service_level) &&
                    (t->asa_s == 0 || s.asa_s <= t->asa_s) &&
                    (t->max_occupancy == 0 ||
                     s.occupancy <= t->max_occupancy) &&
                    (t->max_abandon == 0 || s.p_abandon <= t->max_abandon))
                    break;
            }
            if (r.agents != n)
                fail_msg("load %g target %zu: search %d, scan %d", loads[l], i,
                         r.agents, n);
        }
    }
}

static void test_erlang_a_bad_input(void **state)
{
    erlang_queue q = {100.0 / 1800, 180, 20, 300};
    erlang_target t = {0.8, 0, 0, 0};
    erlang_a_result r;
    err e = {0};

    (void)state;
    memset(&r, 0x5a, sizeof(r));
    erlang_a_result untouched = r;

    erlang_queue bad = q;
    bad.patience_s = 0;
    assert_int_equal(erlang_a_eval(&bad, 14, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "patience"));
    assert_non_null(strstr(e.msg, "Erlang C"));
    bad.patience_s = -5;
    assert_int_equal(erlang_a_agents(&bad, &t, &r, &e), ST_INVALID);
    bad = q;
    bad.rate = 0;
    assert_int_equal(erlang_a_eval(&bad, 14, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "arrival rate"));
    bad = q;
    bad.aht_s = -1;
    assert_int_equal(erlang_a_eval(&bad, 14, &r, &e), ST_INVALID);
    assert_int_equal(erlang_a_eval(&q, 0, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "agents must be 1 or more"));
    erlang_target none = {0, 0, 0, 0};
    assert_int_equal(erlang_a_agents(&q, &none, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "no staffing target"));
    erlang_target ab = {0, 0, 0, 1};
    assert_int_equal(erlang_a_agents(&q, &ab, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "abandonment"));

    /* An overload with near-infinite patience would need ~10^12 states. */
    erlang_queue endless = {2, 1, 20, 1e12};
    assert_int_equal(erlang_a_eval(&endless, 1, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "patience is too long"));
    assert_memory_equal(&r, &untouched, sizeof(r));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_erlang_a_pyworkforce),
        cmocka_unit_test(test_erlang_a_brute_force),
        cmocka_unit_test(test_erlang_a_identities),
        cmocka_unit_test(test_erlang_a_patient_limit_is_erlang_c),
        cmocka_unit_test(test_erlang_a_impatient_limit_is_erlang_b),
        cmocka_unit_test(test_erlang_a_overload),
        cmocka_unit_test(test_erlang_a_monotone),
        cmocka_unit_test(test_erlang_a_large_pools),
        cmocka_unit_test(test_erlang_a_idle_pool),
        cmocka_unit_test(test_erlang_a_targets_match_scan),
        cmocka_unit_test(test_erlang_a_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
