/*
 * The AI agent end to end: the real dispatcher with the shipped examples
 * and examples/ai.json, twinline-agent's AI mode (agent_sim with ai on the
 * jsbank knowledge base) for ai01-ai03, and simulated humans for cp01 and
 * cp02 who confirm every review. Five kinds of consumer_review document
 * (the unit test test_agent_ai.c works out each one's figures): a clean
 * loan leaflet in English and in Chinese (compliant, 972), one that
 * impersonates the police and one without its interest rate
 * (non_compliant, 900), and one with an unbacked claim (needs_changes,
 * 300). Every AI outcome carries its confidence; every low-confidence one
 * and every sampled one got a review task that a human completed; the
 * others were accepted without review; every case closes. The split is
 * printed: ai_assessed, auto_accepted, reviewed_sample,
 * reviewed_low_confidence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_sim.h"
#include "agent_stats.h"
#include "cmd_load.h"
#include "harness.h"
#include "review.h"
#include "tl_test.h"

#define NKINDS 5
#define NCASES (3 * NKINDS)

typedef struct agents {
    assist_kb *kb;
    const assist_kb *kbs[1]; /* the AI sim borrows the array */
    agent_policy *policy;
    agent_stats *ai_stats, *hr_stats;
    agent_sim *ai, *hr;
} agents;

static void ai_start(agents *a, fixture *f)
{
    static const char *const ai_workers[] = {"ai01", "ai02", "ai03"};
    agent_sim_opts o;
    char path[512];
    err e = {0};

    memset(a, 0, sizeof(*a));
    if (assist_kb_load(&a->kb,
                       fixture_path("examples/kb/jsbank", path, sizeof(path)),
                       &e) != ST_OK ||
        agent_policy_load(&a->policy,
                          fixture_path("tests/data/policy-review-confirm.json",
                                       path, sizeof(path)),
                          &e) != ST_OK ||
        agent_stats_create(&a->ai_stats, &e) != ST_OK ||
        agent_stats_create(&a->hr_stats, &e) != ST_OK)
        fail_msg("%s", e.msg);
    a->kbs[0] = a->kb;

    agent_sim_opts_init(&o);
    o.nats = f->cfg.nats;
    o.creds = f->cfg.creds[0] ? f->cfg.creds : NULL;
    o.prefix = f->cfg.prefix;
    o.workers = ai_workers;
    o.nworkers = 3;
    o.handle_ms = 0;
    o.stats = a->ai_stats;
    o.ai = true;
    o.kbs = a->kbs;
    o.nkbs = 1;
    /* As twinline-agent --ai runs: answers in bulk requests. */
    o.batch = AGENT_MANY_MAX;
    if (agent_sim_start(&a->ai, &o, &e) != ST_OK)
        fail_msg("AI agent: %s", e.msg);
}

/* The humans could take an `ai: auto` step too; they start once the AI
 * has assessed every case, so each assessment is the AI's. */
static void humans_start(agents *a, fixture *f)
{
    static const char *const hr_workers[] = {"cp01", "cp02"};
    agent_sim_opts o;
    err e = {0};

    agent_sim_opts_init(&o);
    o.nats = f->cfg.nats;
    o.creds = f->cfg.creds[0] ? f->cfg.creds : NULL;
    o.prefix = f->cfg.prefix;
    o.workers = hr_workers;
    o.nworkers = 2;
    o.handle_ms = 50;
    o.policy = a->policy;
    o.stats = a->hr_stats;
    if (agent_sim_start(&a->hr, &o, &e) != ST_OK)
        fail_msg("human agent: %s", e.msg);
}

static void agents_stop(agents *a)
{
    agent_sim_destroy(a->ai);
    agent_sim_destroy(a->hr);
    agent_stats_destroy(a->ai_stats);
    agent_stats_destroy(a->hr_stats);
    agent_policy_destroy(a->policy);
    assist_kb_destroy(a->kb);
}

/* The document of case i, by kind i % NKINDS, and what the AI must say
 * about it. */
static const struct {
    const char *doc;
    const char *code;
    int confidence;
} kinds[NKINDS] = {
    {"Jiangnan Rural Commercial Bank personal loan: annual interest rate "
     "4.35%, arrangement fee 0, loan term 12 to 36 months. Late payment is "
     "reported to the credit reference centre. To complain, call 96068.",
     "compliant", 972},
    {"Jiangnan Rural Commercial Bank notice: pay today. This is the police "
     "speaking. Complaints: 96068.",
     "non_compliant", 900},
    {"Jiangnan Rural Commercial Bank personal loan: arrangement fee 0, loan "
     "term 12 to 36 months. Late payment is reported to the credit "
     "reference centre. To complain, call 96068.",
     "non_compliant", 900},
    {"Jiangnan Rural Commercial Bank savings account: the best rate in "
     "town. Complaints: 96068.",
     "needs_changes", 300},
    {"江南农商银行个人消费贷款：年化利率 4.35%，无其他费用，期限 12 至 36 "
     "个月。逾期将按合同收取罚息并报送征信。如有疑问或投诉请拨打 96068。",
     "compliant", 972},
};

static void submit(fixture *f, bus *b, int i)
{
    char body[1024];
    json_t *r;

    snprintf(body, sizeof(body),
             "{\"external_id\":\"CR-%d\",\"case_type\":\"consumer_review\","
             "\"payload\":{\"title\":\"Notice %d\",\"document\":\"%s\"}}",
             i, i, kinds[i % NKINDS].doc);
    r = harness_request(f, b, "api.jsbank.case.submit", body);
    if (!json_is_true(json_object_get(r, "ok")))
        fail_msg("submit: %s", json_dumps(r, 0));
    json_decref(r);
}

static int64_t q(fixture *f, const char *fmt, long long a)
{
    char sql[768];

    snprintf(sql, sizeof(sql), fmt, a);
    return fixture_i64(f, sql);
}

static void test_ai_agent_with_review(void **state)
{
    fixture f;
    running_dispatcher rd;
    agents a;
    bus *b;
    char path[512];
    err e = {0};
    int sampled_confident = 0, low = 0, auto_accepted = 0;

    (void)state;
    fixture_setup(&f, "ai_agent");
    harness_load_examples(&f);
    if (cmd_load_file(f.db,
                      fixture_path("examples/ai.json", path, sizeof(path)),
                      NULL, &e) != ST_OK)
        fail_msg("load examples/ai.json: %s", e.msg);
    /* The shipped examples alone must let reviews reach the specialists. */
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM contracts k"
                                     " JOIN contract_case_types t ON"
                                     " t.contract_id = k.id WHERE"
                                     " k.pool_id = 'specialist' AND"
                                     " t.case_type = 'consumer_review'"),
                     1);
    harness_start(&rd, &f, NULL);
    b = fixture_bus(&f);
    ai_start(&a, &f);
    for (int i = 0; i < NCASES; i++)
        submit(&f, b, i);
    assert_int_equal(fixture_wait_i64(&f,
                                      "SELECT count(*) FROM outcomes o"
                                      " JOIN tasks t ON t.id = o.task_id"
                                      " WHERE t.step = 'assess'",
                                      NCASES, 30000),
                     NCASES);
    humans_start(&a, &f);

    assert_int_equal(
        fixture_wait_i64(&f,
                         "SELECT count(*) FROM cases WHERE case_type ="
                         " 'consumer_review' AND state = 'closed'",
                         NCASES, 30000),
        NCASES);

    /* Every assessment is the AI's and carries a confidence. */
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM outcomes o"
                                     " JOIN tasks t ON t.id = o.task_id"
                                     " WHERE t.step = 'assess'"
                                     " AND o.worker_id IN"
                                     " ('ai01', 'ai02', 'ai03')"
                                     " AND o.confidence IS NOT NULL"),
                     NCASES);
    /* Each kind got its verdict and confidence. */
    for (int i = 0; i < NCASES; i++) {
        char sql[384];

        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM outcomes o JOIN tasks t ON"
                 " t.id = o.task_id JOIN cases c ON c.id = t.case_id"
                 " WHERE c.external_id = 'CR-%d' AND t.step = 'assess'"
                 " AND o.code = '%s' AND o.confidence = %d",
                 i, kinds[i % NKINDS].code, kinds[i % NKINDS].confidence);
        if (fixture_i64(&f, sql) != 1)
            fail_msg("CR-%d: expected %s at %d", i, kinds[i % NKINDS].code,
                     kinds[i % NKINDS].confidence);
    }
    low = (int)fixture_i64(&f, "SELECT count(*) FROM outcomes o"
                               " JOIN tasks t ON t.id = o.task_id"
                               " WHERE t.step = 'assess'"
                               " AND o.confidence < 800");
    assert_int_equal(low, NCASES / NKINDS);

    /* Each low-confidence outcome was reviewed by a human, and confirmed. */
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM outcomes o"
                                     " JOIN ai_reviews r ON r.outcome_id ="
                                     " o.id JOIN tasks rt ON rt.id ="
                                     " r.review_task_id"
                                     " JOIN outcomes ro ON ro.task_id = rt.id"
                                     " WHERE o.confidence < 800"
                                     " AND r.reason = 'low_confidence'"
                                     " AND r.state = 'confirmed'"
                                     " AND o.review = 'confirmed'"
                                     " AND rt.state = 'completed'"
                                     " AND ro.worker_id IN ('cp01', 'cp02')"
                                     " AND ro.code = 'confirmed'"),
                     low);

    /* A confident outcome is reviewed exactly when its task is sampled;
     * otherwise it stands without review (review step skipped). */
    for (int i = 0; i < NCASES; i++) {
        char sql[256];
        int64_t task, reviewed;

        if (kinds[i % NKINDS].confidence < 800)
            continue;
        snprintf(sql, sizeof(sql),
                 "SELECT t.id FROM tasks t JOIN cases c ON c.id = t.case_id"
                 " WHERE c.external_id = 'CR-%d' AND t.step = 'assess'",
                 i);
        task = fixture_i64(&f, sql);
        reviewed = q(&f,
                     "SELECT count(*) FROM outcomes o JOIN ai_reviews r"
                     " ON r.outcome_id = o.id JOIN tasks rt"
                     " ON rt.id = r.review_task_id"
                     " WHERE o.task_id = %lld AND r.reason = 'sample'"
                     " AND r.state = 'confirmed' AND rt.state = 'completed'"
                     " AND rt.worker_id IN ('cp01', 'cp02')",
                     (long long)task);
        assert_int_equal(reviewed, dsp_review_bucket(task) < 100 ? 1 : 0);
        sampled_confident += (int)reviewed;
    }
    auto_accepted = (int)fixture_i64(&f, "SELECT count(*) FROM tasks"
                                         " WHERE step = 'review'"
                                         " AND state = 'skipped'");
    assert_int_equal(auto_accepted, NCASES - low - sampled_confident);
    /* Most of the work is the AI's alone. */
    assert_true(auto_accepted >= NCASES / 2);
    fprintf(stderr,
            "ai_assessed=%d auto_accepted=%d reviewed_sample=%d "
            "reviewed_low_confidence=%d\n",
            NCASES, auto_accepted, sampled_confident, low);
    /* The AI never took a review. */
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM tasks"
                                     " WHERE step = 'review' AND worker_id"
                                     " IN ('ai01', 'ai02', 'ai03')"),
                     0);
    assert_int_equal(agent_stats_get(a.ai_stats, AGENT_STAT_COMPLETED), NCASES);

    agents_stop(&a);
    harness_stop(&rd);
    bus_close(b);
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ai_agent_with_review),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
