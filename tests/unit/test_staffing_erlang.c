/*
 * Erlang B and Erlang C against published tables and worked examples, the
 * identities between them, and pools of thousands of agents.
 *
 * Reference figures marked "mpmath" were computed for this test from the
 * textbook factorial formulas with 50-60 significant digits (Python
 * mpmath), or with exact rational arithmetic (Python fractions) where
 * marked so; neither shares code or method with the library, which never
 * forms a factorial.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "erlang.h"
#include "tl_test.h"

/* |got - want| <= tol, with both values in the message when not. */
#define assert_near(got, want, tol)                                            \
    do {                                                                       \
        double g_ = (got), w_ = (want), t_ = (tol);                            \
        if (!(fabs(g_ - w_) <= t_))                                            \
            fail_msg("%s = %.17g, want %.17g (tolerance %g)", #got, g_, w_,    \
                     t_);                                                      \
    } while (0)

/* A queue of `calls` per `interval_s` seconds. */
static erlang_queue queue_of(double calls, double interval_s, double aht_s,
                             double threshold_s)
{
    erlang_queue q = {calls / interval_s, aht_s, threshold_s, 0};
    return q;
}

static erlang_c_result c_eval(const erlang_queue *q, int agents)
{
    erlang_c_result r;
    err e = {0};

    if (erlang_c_eval(q, agents, &r, &e) != ST_OK)
        fail_msg("erlang_c_eval(%d): %s", agents, e.msg);
    return r;
}

static double b_of(int n, double a)
{
    double b = -1;
    err e = {0};

    if (erlang_b(n, a, &b, &e) != ST_OK)
        fail_msg("erlang_b(%d, %g): %s", n, a, e.msg);
    return b;
}

/* Fewest lines with blocking <= p, by walking B upward. */
static int lines_for(double a, double p)
{
    int n = 0;

    while (b_of(n, a) > p)
        n++;
    return n;
}

/*
 * Lines needed for a blocking target: Peter Dordal's Erlang B tables
 * (Loyola University, "Erlang Models", pld.cs.luc.edu/courses/346/sum15/
 * mnotes/erlang.html, from erlang.com's calculator). Every row below is
 * as printed there. Four rows of that page are left out because exact
 * rational arithmetic (Python fractions) disagrees with them by one line:
 * 100 E at 1% needs 117 (B(117) = 0.00979, B(116) = 0.01157; the page says
 * 118), 500 E at 1% needs 527 (B(526) = 0.01015; the page says 526),
 * and 200 / 500 / 1000 E at 0.1% need 238 / 555 / 1072 (the page says
 * 237 / 554 / 1071, whose B are 0.001031 / 0.001022 / 0.001052). Those
 * exact answers are checked too.
 */
static void test_erlang_b_tables(void **state)
{
    static const struct {
        double erlangs, blocking;
        int lines;
    } rows[] = {
        {10, 0.01, 18},
        {20, 0.01, 30},
        {50, 0.01, 64},
        {180, 0.01, 201},
        {200, 0.01, 221},
        {1000, 0.01, 1029},
        {10, 0.001, 21},
        {20, 0.001, 35},
        {50, 0.001, 71},
        {100, 0.001, 128},
        {180, 0.001, 216},
        /* exact, where the page is one line off */
        {100, 0.01, 117},
        {500, 0.01, 527},
        {200, 0.001, 238},
        {500, 0.001, 555},
        {1000, 0.001, 1072},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int n = lines_for(rows[i].erlangs, rows[i].blocking);
        if (n != rows[i].lines)
            fail_msg("%g Erlangs at %g blocking: %d lines, want %d",
                     rows[i].erlangs, rows[i].blocking, n, rows[i].lines);
    }
    /* Exact values (fractions): B(117, 100), B(1029, 1000). */
    assert_near(b_of(117, 100), 0.009790071125371362, 1e-15);
    assert_near(b_of(1029, 1000), 0.00994188646407621, 1e-15);
    /* Wolfram's ErlangB documentation: 30 lines and 25 Erlangs block
     * "approximately 0.05"; exactly 0.052603172228140614 (fractions). */
    assert_near(b_of(30, 25), 0.052603172228140614, 1e-15);
    /* No server blocks everything; B falls as servers are added. */
    assert_near(b_of(0, 3.5), 1.0, 0);
    for (int n = 1; n < 60; n++)
        assert_true(b_of(n, 20) < b_of(n - 1, 20));
}

/*
 * Direct factorial sums are fine for small pools; they give an
 * independent value of B and C to compare the recursion with, and the
 * identity C = B / (1 - (a / n)(1 - B)).
 */
static void test_erlang_b_c_identities(void **state)
{
    (void)state;
    for (int n = 1; n <= 20; n++) {
        for (double a = 0.25; a < n; a += 0.75) {
            double term = 1, sum = 1;
            for (int k = 1; k <= n; k++) {
                term *= a / k;
                sum += term;
            }
            double b = term / sum;
            double top = term * n / (n - a);
            double c = top / (sum - term + top);

            assert_near(b_of(n, a), b, 1e-14);
            erlang_queue q = {a / 100, 100, 10, 0};
            erlang_c_result r = c_eval(&q, n);
            assert_near(r.p_wait, c, 1e-14);
            assert_near(r.p_wait, b / (1 - (a / n) * (1 - b)), 1e-14);
            /* C >= B: waiting happens at least as often as blocking. */
            assert_true(r.p_wait >= b);
            /* Little: mean queue = rate x mean wait. */
            assert_near(r.mean_queue, q.rate * r.asa_s, 1e-12);
            assert_near(r.occupancy, a / n, 1e-15);
        }
    }
}

/*
 * The pyworkforce Erlang C example (github.com/rodrigo-arenas/pyworkforce,
 * pyworkforce/queuing/tests/test_erlang.py): 100 transactions per 30
 * minutes, 3-minute handle time, 80% within 20 s. It needs 14 agents with
 * service level 0.888, occupancy 0.714 and waiting probability 0.174;
 * capped at 70% occupancy it needs 15, with 0.941, 0.667 and 0.102. The
 * same scenario is Call Centre Helper's worked example (10 Erlangs).
 */
static void test_erlang_c_pyworkforce(void **state)
{
    erlang_queue q = queue_of(100, 1800, 180, 20);
    erlang_target t = {0.8, 0, 0.85, 0};
    erlang_c_result r;
    err e = {0};

    (void)state;
    assert_int_equal(erlang_c_agents(&q, &t, &r, &e), ST_OK);
    assert_int_equal(r.agents, 14);
    assert_near(r.erlangs, 10, 1e-12);
    assert_near(r.service_level, 0.888, 0.0005);
    assert_near(r.occupancy, 0.714, 0.0005);
    assert_near(r.p_wait, 0.174, 0.0005);

    t.max_occupancy = 0.7;
    assert_int_equal(erlang_c_agents(&q, &t, &r, &e), ST_OK);
    assert_int_equal(r.agents, 15);
    assert_near(r.service_level, 0.941, 0.0005);
    assert_near(r.occupancy, 0.667, 0.0005);
    assert_near(r.p_wait, 0.102, 0.0005);
}

/*
 * The 10-Erlang table by pool size (mpmath), checked by hand to three
 * digits: C(11) = 0.682, SL = 1 - 0.682 e^(-1 * 20/180) = 0.390, ...
 */
static void test_erlang_c_table_10_erlangs(void **state)
{
    static const struct {
        int agents;
        double p_wait, sl, asa;
    } rows[] = {
        {11, 0.68211820468933237, 0.38961381172915338, 122.78127684407983},
        {12, 0.44938822429827087, 0.64015804037400657, 40.444940186844378},
        {13, 0.28527045303649294, 0.79559478841778312, 17.116227182189576},
        {14, 0.17413193359504984, 0.88835001917946688, 7.8359370117772429},
        {15, 0.10204236700798801, 0.94145284286902233, 3.6735252122875682},
    };
    erlang_queue q = queue_of(100, 1800, 180, 20);

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        erlang_c_result r = c_eval(&q, rows[i].agents);
        assert_near(r.p_wait, rows[i].p_wait, 1e-13);
        assert_near(r.service_level, rows[i].sl, 1e-13);
        assert_near(r.asa_s, rows[i].asa, 1e-10);
    }
}

/*
 * The worked example of the Erlang C calculator at personal.telefonica.
 * terra.es/web/vr/erlang/eng/mcerlc.htm: 600 calls an hour of 120 s are
 * 20 Erlangs; for at most 15% delayed calls 26 agents are needed, the
 * average delay is about 3 s per call; 30 agents delay 2.5%; 30 agents
 * at 15% delay carry 23.6 Erlangs. (mpmath: C(25) = 0.2091, C(26) =
 * 0.1434, ASA(26) = 2.868 s, C(30) = 0.02495, C(30, 23.6) = 0.1475.)
 */
static void test_erlang_c_telefonica(void **state)
{
    erlang_queue q = queue_of(600, 3600, 120, 20);

    (void)state;
    assert_true(c_eval(&q, 25).p_wait > 0.15);
    erlang_c_result r = c_eval(&q, 26);
    assert_true(r.p_wait <= 0.15);
    assert_near(r.p_wait, 0.1433999284, 1e-9);
    assert_near(r.asa_s, 3, 0.2);
    assert_near(c_eval(&q, 30).p_wait, 0.025, 0.0005);
    erlang_queue heavy = {23.6 / 120, 120, 20, 0};
    assert_near(c_eval(&heavy, 30).p_wait, 0.15, 0.003);
}

/*
 * The scenario of erlang.com's (Westbay) Erlang C walk-through: 360 calls
 * per half hour of 4 minutes, 55 agents, 15 s target. Figures by mpmath:
 * 48 Erlangs, C = 0.23870094, SL(15 s) = 0.84588309, ASA = 8.1840321 s.
 */
static void test_erlang_c_westbay(void **state)
{
    erlang_queue q = queue_of(360, 1800, 240, 15);
    erlang_c_result r = c_eval(&q, 55);

    (void)state;
    assert_near(r.erlangs, 48, 1e-12);
    assert_near(r.occupancy, 48.0 / 55, 1e-15);
    assert_near(r.p_wait, 0.23870094, 5e-9);
    assert_near(r.service_level, 0.84588309, 5e-9);
    assert_near(r.asa_s, 8.1840321, 5e-7);
}

/* An answer-speed target: 10 s for 10 Erlangs needs 14 (ASA 7.8 s; 13
 * agents give 17.1 s), 20 s needs 13. */
static void test_erlang_c_asa_target(void **state)
{
    erlang_queue q = queue_of(100, 1800, 180, 20);
    erlang_target t = {0, 10, 0, 0};
    erlang_c_result r;
    err e = {0};

    (void)state;
    assert_int_equal(erlang_c_agents(&q, &t, &r, &e), ST_OK);
    assert_int_equal(r.agents, 14);
    assert_true(r.asa_s <= 10);
    t.asa_s = 20;
    assert_int_equal(erlang_c_agents(&q, &t, &r, &e), ST_OK);
    assert_int_equal(r.agents, 13);
    /* Both targets: the stricter one wins. */
    t.service_level = 0.9;
    assert_int_equal(erlang_c_agents(&q, &t, &r, &e), ST_OK);
    assert_int_equal(r.agents, 15);
    /* A zero threshold counts only calls answered at once. */
    q.threshold_s = 0;
    erlang_c_result z = c_eval(&q, 14);
    assert_near(z.service_level, 1 - z.p_wait, 1e-15);
}

/*
 * Thousands of agents: 5,000 agents at 4,900 / 4,990 / 4,999.5 Erlangs
 * and 10,000 at 9,800 (mpmath with 60 digits). The factorial formula
 * overflows a double past 170 agents; these must match to 1e-13.
 */
static void test_erlang_c_large_pools(void **state)
{
    static const struct {
        int agents;
        double erlangs, p_wait;
    } rows[] = {
        {5000, 4900, 0.099937877234487662},
        {5000, 4990, 0.83436731263529626},
        {5000, 4999.5, 0.99119884108050708},
        {10000, 9800, 0.026167799590223},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        erlang_queue q = {rows[i].erlangs / 300, 300, 20, 0};
        erlang_c_result r = c_eval(&q, rows[i].agents);
        assert_near(r.p_wait, rows[i].p_wait, 1e-13);
    }
    erlang_queue q = {9800.0 / 300, 300, 20, 0};
    erlang_c_result r = c_eval(&q, 10000);
    assert_near(r.service_level, 0.999999957618716, 1e-13);
    assert_near(r.asa_s, 0.0392516993853345, 1e-13);

    /* Finite and monotone over a wide range of a 5,000-agent pool (up to
     * rounding, once the service level is 1 to 15 digits). */
    erlang_queue big = {4900.0 / 300, 300, 20, 0};
    erlang_c_result prev = c_eval(&big, 4901);
    for (int n = 4902; n <= 5400; n++) {
        erlang_c_result cur = c_eval(&big, n);
        assert_true(isfinite(cur.p_wait) && isfinite(cur.asa_s));
        assert_true(cur.p_wait <= prev.p_wait);
        assert_true(cur.service_level >= prev.service_level - 1e-15);
        assert_true(cur.asa_s <= prev.asa_s);
        prev = cur;
    }
    /* The search lands exactly on the boundary. */
    erlang_target t = {0.8, 0, 0, 0};
    err e = {0};
    assert_int_equal(erlang_c_agents(&big, &t, &r, &e), ST_OK);
    assert_true(r.service_level >= 0.8);
    assert_true(c_eval(&big, r.agents - 1).service_level < 0.8);
    /* 100,000 Erlangs are staffed too. */
    erlang_queue huge = {100000.0 / 300, 300, 20, 0};
    assert_int_equal(erlang_c_agents(&huge, &t, &r, &e), ST_OK);
    assert_true(r.agents > 100000 && r.agents < 100400);
}

/* Where B underflows a double its logarithm stays exact: for n >> a,
 * log B = n log a - log n! - log(sum_k<=n a^k / k!) ~ n log a - lgamma(n
 * + 1) - a. */
static void test_erlang_b_log(void **state)
{
    double lb = 0;
    err e = {0};

    (void)state;
    assert_int_equal(erlang_b_log(2000, 10, &lb, &e), ST_OK);
    assert_true(isfinite(lb));
    assert_near(lb, 2000 * log(10.0) - lgamma(2001.0) - 10, 1e-9);
    assert_near(b_of(2000, 10), 0, 0);
    /* And C stays a number (zero) rather than NaN. */
    erlang_queue q = {0.1, 100, 20, 0};
    erlang_c_result r = c_eval(&q, 2000);
    assert_near(r.p_wait, 0, 1e-300);
    assert_near(r.service_level, 1, 0);
}

static void test_erlang_bad_input(void **state)
{
    erlang_queue q = queue_of(100, 1800, 180, 20);
    erlang_target t = {0.8, 0, 0, 0};
    erlang_c_result r;
    double out = 42;
    err e = {0};

    (void)state;
    memset(&r, 0x5a, sizeof(r));
    erlang_c_result untouched = r;

    /* The load must be below the pool. */
    assert_int_equal(erlang_c_eval(&q, 10, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "grows without bound"));
    assert_non_null(strstr(e.msg, "10 agents"));
    assert_int_equal(erlang_c_eval(&q, 0, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "agents must be 1 or more"));

    erlang_queue bad = q;
    bad.rate = 0;
    assert_int_equal(erlang_c_eval(&bad, 20, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "arrival rate"));
    bad.rate = -1;
    assert_int_equal(erlang_c_agents(&bad, &t, &r, &e), ST_INVALID);
    bad.rate = NAN;
    assert_int_equal(erlang_c_agents(&bad, &t, &r, &e), ST_INVALID);
    bad = q;
    bad.aht_s = 0;
    assert_int_equal(erlang_c_eval(&bad, 20, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "handle time"));
    bad.aht_s = INFINITY;
    assert_int_equal(erlang_c_eval(&bad, 20, &r, &e), ST_INVALID);
    bad = q;
    bad.threshold_s = -1;
    assert_int_equal(erlang_c_eval(&bad, 20, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "threshold"));

    erlang_target none = {0, 0, 0, 0};
    assert_int_equal(erlang_c_agents(&q, &none, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "no staffing target"));
    erlang_target sure = {1, 0, 0, 0};
    assert_int_equal(erlang_c_agents(&q, &sure, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "service level"));
    erlang_target occ = {0, 0, 1.5, 0};
    assert_int_equal(erlang_c_agents(&q, &occ, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "occupancy"));
    erlang_target ab = {0.8, 0, 0, 0.05};
    assert_int_equal(erlang_c_agents(&q, &ab, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "Erlang A"));
    erlang_queue beyond = {2e7, 1, 20, 0};
    assert_int_equal(erlang_c_agents(&beyond, &t, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "more than 10000000 agents"));
    assert_memory_equal(&r, &untouched, sizeof(r));

    assert_int_equal(erlang_b(-1, 5, &out, &e), ST_INVALID);
    assert_int_equal(erlang_b(5, 0, &out, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "offered load"));
    assert_int_equal(erlang_b_log(5, NAN, &out, &e), ST_INVALID);
    assert_near(out, 42, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_erlang_b_tables),
        cmocka_unit_test(test_erlang_b_c_identities),
        cmocka_unit_test(test_erlang_c_pyworkforce),
        cmocka_unit_test(test_erlang_c_table_10_erlangs),
        cmocka_unit_test(test_erlang_c_telefonica),
        cmocka_unit_test(test_erlang_c_westbay),
        cmocka_unit_test(test_erlang_c_asa_target),
        cmocka_unit_test(test_erlang_c_large_pools),
        cmocka_unit_test(test_erlang_b_log),
        cmocka_unit_test(test_erlang_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
