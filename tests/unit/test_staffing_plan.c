/*
 * Staffing a pool per interval: voice, chat with several slots and a
 * concurrency penalty, back office by workload, shrinkage, and the plan
 * over a day of 15-minute intervals. Expected counts were worked out by
 * hand from the model in staffing.h; the Erlang C answers behind them were
 * computed with mpmath (50 digits) from the factorial formula.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "staffing.h"
#include "tl_test.h"

#define assert_near(got, want, tol)                                            \
    do {                                                                       \
        double g_ = (got), w_ = (want), t_ = (tol);                            \
        if (!(fabs(g_ - w_) <= t_))                                            \
            fail_msg("%s = %.17g, want %.17g (tolerance %g)", #got, g_, w_,    \
                     t_);                                                      \
    } while (0)

static staffing_interval need(const staffing_params *p, double arrivals,
                              double aht_s)
{
    staffing_interval r;
    err e = {0};

    if (staffing_required(p, arrivals, aht_s, &r, &e) != ST_OK)
        fail_msg("staffing_required(%g, %g): %s", arrivals, aht_s, e.msg);
    return r;
}

/*
 * Shrinkage as in pyworkforce's Erlang C test (github.com/rodrigo-arenas/
 * pyworkforce, pyworkforce/queuing/tests/test_erlang.py): 14 agents with
 * 30% shrinkage are 20 positions, 15 are 22. 14 / 0.7 is
 * 20.000000000000004 in binary and must not become 21.
 */
static void test_shrinkage(void **state)
{
    staffing_params p;

    (void)state;
    assert_int_equal(staffing_with_shrinkage(14, 0.3), 20);
    assert_int_equal(staffing_with_shrinkage(15, 0.3), 22);
    assert_int_equal(staffing_with_shrinkage(0, 0.3), 0);
    assert_int_equal(staffing_with_shrinkage(7, 0), 7);
    assert_int_equal(staffing_with_shrinkage(95, 0.35), 147);

    /* The same through a 30-minute interval of 100 calls of 180 s. */
    staffing_params_default(&p);
    p.interval_s = 1800;
    p.target.max_occupancy = 0.85;
    p.shrinkage = 0.3;
    staffing_interval r = need(&p, 100, 180);
    assert_int_equal(r.servers, 14);
    assert_int_equal(r.workers, 14);
    assert_int_equal(r.scheduled, 20);
    assert_near(r.service_level, 0.888, 0.0005);
    assert_near(r.occupancy, 0.714, 0.0005);
    p.target.max_occupancy = 0.7;
    r = need(&p, 100, 180);
    assert_int_equal(r.workers, 15);
    assert_int_equal(r.scheduled, 22);
}

/*
 * 300 contacts per 15 minutes with 240 s of work each, 80% within 20 s.
 * Voice: 80 Erlangs on one slot each, 87 agents (SL 0.8108). Chat with
 * three slots and 25% more handle time per extra slot: each chat takes
 * 240 * 1.5 = 360 s, 120 Erlangs on the slots, 129 slots (SL 0.8082),
 * so 43 workers. Without the penalty: 87 slots, 29 workers.
 */
static void test_multi_slot(void **state)
{
    staffing_params p;

    (void)state;
    staffing_params_default(&p);
    staffing_interval voice = need(&p, 300, 240);
    assert_int_equal(voice.servers, 87);
    assert_int_equal(voice.workers, 87);
    assert_near(voice.erlangs, 80, 1e-12);
    assert_near(voice.service_level, 0.81084438148390260, 1e-12);

    p.slots = 3;
    p.concurrency_penalty = 0.25;
    staffing_interval chat = need(&p, 300, 240);
    assert_near(chat.erlangs, 120, 1e-12);
    assert_int_equal(chat.servers, 129);
    assert_int_equal(chat.workers, 43);
    assert_near(chat.service_level, 0.80824823685158604, 1e-12);
    assert_near(chat.occupancy, 120.0 / 129, 1e-12);

    p.concurrency_penalty = 0;
    staffing_interval free = need(&p, 300, 240);
    assert_int_equal(free.servers, 87);
    assert_int_equal(free.workers, 29);

    /* A slot count that does not divide the servers rounds the workers up
     * and the figures are those of all their slots. */
    p.slots = 4;
    staffing_interval four = need(&p, 300, 240);
    assert_int_equal(four.servers, 87);
    assert_int_equal(four.workers, 22);
    assert_true(four.service_level > free.service_level);
}

/*
 * Back office by workload: 120 items per 15 minutes of 600 s are 80
 * Erlangs; at 85% occupancy that is 94.1, so 95 workers, and with 35%
 * shrinkage 95 / 0.65 = 146.2, so 147 scheduled.
 */
static void test_workload(void **state)
{
    staffing_params p;

    (void)state;
    staffing_params_default(&p);
    p.model = STAFFING_WORKLOAD;
    p.target.service_level = 0;
    p.target.max_occupancy = 0.85;
    p.shrinkage = 0.35;
    staffing_interval r = need(&p, 120, 600);
    assert_int_equal(r.servers, 95);
    assert_int_equal(r.workers, 95);
    assert_int_equal(r.scheduled, 147);
    assert_near(r.occupancy, 80.0 / 95, 1e-12);
    assert_near(r.service_level, 0, 0);
    /* Exactly at the occupancy: 85 Erlangs at 85% are 100 workers. */
    r = need(&p, 127.5, 600);
    assert_int_equal(r.workers, 100);
}

/* Erlang A with patience staffs fewer than Erlang C for the same target,
 * and reports abandonment. */
static void test_erlang_a_pool(void **state)
{
    staffing_params p;

    (void)state;
    staffing_params_default(&p);
    p.interval_s = 1800;
    staffing_interval c = need(&p, 100, 180);
    p.model = STAFFING_ERLANG_A;
    p.patience_s = 300;
    staffing_interval a = need(&p, 100, 180);
    assert_int_equal(c.workers, 14);
    assert_int_equal(a.workers, 13);
    assert_true(a.p_abandon > 0.02 && a.p_abandon < 0.03);
    p.target.max_abandon = 0.01;
    a = need(&p, 100, 180);
    assert_true(a.p_abandon <= 0.01);
    assert_int_equal(a.workers, 15);
}

/*
 * A day of 96 intervals: quiet nights staffed at the minimum, a peak at
 * noon. More arrivals never need fewer workers, and an interval without
 * arrivals needs only the cover.
 */
static void test_plan_day(void **state)
{
    double arrivals[96], aht[96];
    staffing_interval out[96];
    staffing_params p;
    err e = {0};

    (void)state;
    for (int i = 0; i < 96; i++) {
        double x = (i - 48) / 12.0;
        arrivals[i] = i < 28 ? 0 : 400 * exp(-x * x);
        aht[i] = 300;
    }
    staffing_params_default(&p);
    p.min_workers = 2;
    p.shrinkage = 0.25;
    assert_int_equal(staffing_plan(&p, arrivals, aht, 96, out, &e), ST_OK);
    for (int i = 0; i < 28; i++) {
        assert_int_equal(out[i].workers, 2);
        assert_int_equal(out[i].scheduled, 3);
        assert_int_equal(out[i].servers, 0);
    }
    for (int i = 28; i < 96; i++) {
        assert_true(out[i].workers >= 2);
        assert_true(out[i].service_level >= 0.8);
        assert_int_equal(out[i].scheduled,
                         staffing_with_shrinkage(out[i].workers, 0.25));
        for (int j = 28; j < 96; j++)
            if (arrivals[j] > arrivals[i])
                assert_true(out[j].workers >= out[i].workers);
    }
    /* The peak: 400 calls of 300 s in 900 s are 133.3 Erlangs. */
    assert_near(out[48].erlangs, 400.0 * 300 / 900, 1e-9);
    assert_true(out[48].workers > 134 && out[48].workers < 160);
}

static void test_bad_input(void **state)
{
    staffing_params p, bad;
    staffing_interval r;
    staffing_model m = STAFFING_ERLANG_C;
    double arrivals[3] = {10, -4, 10}, aht[3] = {300, 300, 300};
    staffing_interval out[3];
    err e = {0};

    (void)state;
    staffing_params_default(&p);
    memset(&r, 0x5a, sizeof(r));
    staffing_interval untouched = r;

    assert_int_equal(staffing_required(&p, -1, 300, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "arrivals"));
    assert_int_equal(staffing_required(&p, NAN, 300, &r, &e), ST_INVALID);
    assert_int_equal(staffing_required(&p, 10, 0, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "handle time"));
    assert_int_equal(staffing_plan(&p, arrivals, aht, 3, out, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "interval 1: arrivals"));

    bad = p;
    bad.slots = 0;
    assert_int_equal(staffing_required(&bad, 10, 300, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "slots per worker"));
    bad = p;
    bad.shrinkage = 1;
    assert_int_equal(staffing_required(&bad, 10, 300, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "shrinkage"));
    bad = p;
    bad.concurrency_penalty = -0.1;
    assert_int_equal(staffing_required(&bad, 10, 300, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "concurrency penalty"));
    bad = p;
    bad.interval_s = 0;
    assert_int_equal(staffing_required(&bad, 10, 300, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "interval length"));
    bad = p;
    bad.target.max_abandon = 0.05;
    assert_int_equal(staffing_required(&bad, 10, 300, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "erlang_a"));
    bad = p;
    bad.model = STAFFING_ERLANG_A;
    assert_int_equal(staffing_required(&bad, 10, 300, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "patience"));
    bad = p;
    bad.model = STAFFING_WORKLOAD;
    assert_int_equal(staffing_required(&bad, 10, 300, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "maximum occupancy"));
    bad = p;
    bad.target.service_level = 0;
    assert_int_equal(staffing_required(&bad, 10, 300, &r, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "no staffing target"));
    assert_memory_equal(&r, &untouched, sizeof(r));

    assert_int_equal(staffing_model_parse("erlang_a", &m, &e), ST_OK);
    assert_int_equal(m, STAFFING_ERLANG_A);
    assert_string_equal(staffing_model_name(STAFFING_WORKLOAD), "workload");
    assert_int_equal(staffing_model_parse("erlang_x", &m, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "use erlang_c, erlang_a or workload"));
    assert_int_equal(m, STAFFING_ERLANG_A);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shrinkage), cmocka_unit_test(test_multi_slot),
        cmocka_unit_test(test_workload),  cmocka_unit_test(test_erlang_a_pool),
        cmocka_unit_test(test_plan_day),  cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
