/* Unit tests of agent_ai: the AI worker's outcome, confidence and fields
 * for consumer_review tasks like examples/ai.json's and for the example
 * tasks, on the jsbank knowledge base. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_ai.h"
#include "tl_test.h"

#define KB(t)   TL_SOURCE_DIR "/examples/kb/" t
#define TASK(t) TL_SOURCE_DIR "/examples/tasks/" t
/* 2026-11-25T12:30:00Z. */
#define NOW 1795609800

/* An accept reply of the assess step of examples/ai.json around doc. */
static assist_task *review_task(const char *doc)
{
    char buf[4096];
    assist_task *t = NULL;
    err e = {0};

    snprintf(
        buf, sizeof(buf),
        "{\"ok\": true, \"task\": {\"reservation_id\": 9, \"epoch\": 1,"
        " \"task_id\": 7, \"case_id\": 3, \"tenant\": \"jsbank\","
        " \"case_type\": \"consumer_review\", \"step\": \"assess\","
        " \"channel\": \"backoffice\", \"external_id\": \"CR-1\","
        " \"payload\": {\"title\": \"Customer notice\", \"document\": \"%s\","
        " \"pages\": 2},"
        " \"outcomes\": {\"compliant\": {\"billable\": true},"
        " \"non_compliant\": {\"billable\": true},"
        " \"needs_changes\": {\"billable\": false,"
        " \"fields\": {\"note\": \"string\"}}}}}",
        doc);
    if (assist_task_parse(&t, buf, strlen(buf), &e) != ST_OK)
        fail_msg("%s", e.msg);
    return t;
}

static assist_kb *jsbank(void)
{
    assist_kb *kb = NULL;
    err e = {0};

    if (assist_kb_load(&kb, KB("jsbank"), &e) != ST_OK)
        fail_msg("%s", e.msg);
    return kb;
}

static agent_ai_decision decide(const assist_kb *kb, const assist_task *t,
                                int floor)
{
    agent_ai_decision d;
    err e = {0};

    if (agent_ai_decide(kb, t, NOW, floor, &d, &e) != ST_OK)
        fail_msg("%s", e.msg);
    return d;
}

/* Field by field: struct padding is not part of the decision. */
static void assert_same(const agent_ai_decision *a, const agent_ai_decision *b)
{
    assert_int_equal(a->index, b->index);
    assert_int_equal(a->chosen, b->chosen);
    assert_int_equal(a->confidence, b->confidence);
    assert_int_equal(a->abstained, b->abstained);
    assert_int_equal(a->breaches, b->breaches);
    assert_string_equal(a->code, b->code);
    assert_string_equal(a->note, b->note);
    assert_string_equal(a->date, b->date);
    assert_memory_equal(a->support, b->support, sizeof(a->support));
}

/* Documents for the jsbank rules (examples/kb/jsbank/rules.json,
 * document_checks and forbidden_phrases with case type consumer_review),
 * each with its expected counts worked out by hand. */

/* issuer_and_complaints (bank_name, complaint_channel) and loan_terms
 * (fees, interest_rate, term, default) apply and all six topics occur. */
#define CLEAN_EN                                                               \
    "Jiangnan Rural Commercial Bank personal loan: annual interest rate "      \
    "4.35%, arrangement fee 0, loan term 12 to 36 months. Late payment is "    \
    "reported to the credit reference centre. To complain, call 96068."
/* The same in Chinese: 江南农商银行 投诉 / 贷款: 费用 利率 期限 逾期. */
#define CLEAN_ZH                                                                                      \
    "江南农商银行个人消费贷款：年化利率 4.35%，无其他费用，期限 12 至 36 " \
    "个月。逾期将按合同收取罚息并报送征信。如有疑问或投诉请拨打 96068。"
/* CLEAN_EN without the interest rate: one gap. */
#define NO_RATE                                                                \
    "Jiangnan Rural Commercial Bank personal loan: arrangement fee 0, loan "   \
    "term 12 to 36 months. Late payment is reported to the credit "            \
    "reference centre. To complain, call 96068."
/* Names the bank and the complaint line but impersonates the police. */
#define POLICE                                                                 \
    "Jiangnan Rural Commercial Bank notice: pay today. This is the police "    \
    "speaking. Complaints: 96068."
/* Meets issuer_and_complaints; "best rate" is a warn phrase. */
#define BEST_RATE                                                              \
    "Jiangnan Rural Commercial Bank savings account: the best rate in "        \
    "town. Complaints: 96068."
/* A wealth product: issuer_and_complaints and investment_risk (risk,
 * not_a_deposit) apply and all four topics occur. */
#define WEALTH_ZH                                                                                        \
    "江南农商银行“稳盈”理财产品：业绩比较基准 3.2%，理财非存款，产品有" \
    "风险，投资须谨慎。投诉电话 96068。"

/* A clean loan leaflet passes both checks: compliant at
 * 1000 - 200 / (1 + 6) = 972, far above the review threshold of 800. */
static void test_clean_is_compliant(void **state)
{
    static const char *const docs[] = {CLEAN_EN, CLEAN_ZH};
    assist_kb *kb = jsbank();

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        assist_task *t = review_task(docs[i]);
        agent_ai_decision d = decide(kb, t, 0), again = decide(kb, t, 0);

        assert_int_equal(d.findings.checks, 2);
        assert_int_equal(d.findings.mentioned, 6);
        assert_int_equal(
            d.findings.missing + d.findings.breaches + d.findings.cautions, 0);
        assert_string_equal(d.code, "compliant");
        assert_int_equal(d.confidence, 972);
        assert_false(d.abstained);
        assert_same(&d, &again);
        assert_string_equal(d.note, "AI assessment: 2 document check(s) "
                                    "passed, 6 required topic(s) mentioned, "
                                    "no forbidden phrase");
        assist_task_destroy(t);
    }
    {
        /* Four topics: 1000 - 200 / 5 = 960. */
        assist_task *t = review_task(WEALTH_ZH);
        agent_ai_decision d = decide(kb, t, 0);

        assert_int_equal(d.findings.checks, 2);
        assert_int_equal(d.findings.mentioned, 4);
        assert_string_equal(d.code, "compliant");
        assert_int_equal(d.confidence, 960);
        assist_task_destroy(t);
    }
    assist_kb_destroy(kb);
}

/* A document that impersonates the police breaks no_impersonation, which
 * applies to every case type: non_compliant, confidence 1000 - 100 = 900.
 * A leaflet without its interest rate misses one topic: the same. Both
 * problems at once: 1000 - 100 / 2 = 950. */
static void test_breach_or_gap_is_non_compliant(void **state)
{
    assist_kb *kb = jsbank();
    assist_task *t = review_task(POLICE);
    agent_ai_decision d = decide(kb, t, 0);

    (void)state;
    assert_int_equal(d.breaches, 1);
    assert_string_equal(d.code, "non_compliant");
    assert_int_equal(d.index, 1);
    assert_int_equal(d.confidence, 900);
    assert_false(d.abstained);
    assert_string_equal(d.date, "2026-11-25");
    assert_string_equal(d.note,
                        "AI assessment: 1 problem(s) with the tenant's rules, "
                        "first no_impersonation: \"this is the police\"");
    assist_task_destroy(t);

    t = review_task(NO_RATE);
    d = decide(kb, t, 0);
    assert_int_equal(d.breaches, 0);
    assert_int_equal(d.findings.missing, 1);
    assert_string_equal(d.code, "non_compliant");
    assert_int_equal(d.confidence, 900);
    assert_non_null(strstr(d.note, "first loan_terms: no interest_rate"));
    assist_task_destroy(t);

    t = review_task(NO_RATE " This is the police.");
    d = decide(kb, t, 0);
    assert_int_equal(d.confidence, 950);
    assert_string_equal(d.code, "non_compliant");
    assist_task_destroy(t);
    assist_kb_destroy(kb);
}

/* A claim that may or may not be backed ("best rate") is for a person:
 * needs_changes at 300, below the threshold, so the dispatcher reviews
 * it. */
static void test_caution_asks_for_review(void **state)
{
    assist_kb *kb = jsbank();
    assist_task *t = review_task(BEST_RATE);
    agent_ai_decision d = decide(kb, t, 0);

    (void)state;
    assert_int_equal(d.findings.cautions, 1);
    assert_int_equal(d.findings.missing + d.breaches, 0);
    assert_string_equal(d.code, "needs_changes");
    assert_int_equal(d.confidence, AGENT_AI_CAUTION_CONF);
    assert_string_equal(d.note,
                        "AI assessment: a person should judge 1 point(s), "
                        "first claims_need_evidence: \"best rate\"");
    assist_task_destroy(t);
    assist_kb_destroy(kb);
}

/* Outside consumer_review no document check applies, so retrieval
 * decides: the old rule, deterministic, at most about 500 without
 * support. */
static void test_other_case_types_use_retrieval(void **state)
{
    assist_kb *kb = jsbank();
    assist_task *t = NULL;
    agent_ai_decision d;
    err e = {0};

    (void)state;
    if (assist_task_load(&t, TASK("jsbank-card-intake-en.json"), &e) != ST_OK)
        fail_msg("%s", e.msg);
    d = decide(kb, t, 0);
    assert_int_equal(d.findings.checks, 0);
    assert_non_null(strstr(d.note, "AI assessment from "));
    assist_task_destroy(t);
    assist_kb_destroy(kb);
}

/* Below the floor (950 > 900) the breach's non_compliant is not sent but
 * the first non-billable outcome; the complete body carries it, its note
 * and the confidence. */
static void test_floor_abstains(void **state)
{
    assist_kb *kb = jsbank();
    assist_task *t = review_task(POLICE);
    agent_ai_decision d = decide(kb, t, 950);
    agent_offer o;
    char *body = NULL;
    size_t len = 0;
    err e = {0};
    const char *offer =
        "{\"type\": \"offer\", \"reservation_id\": 9, \"epoch\": 1,"
        " \"task_id\": 7, \"case_id\": 3, \"tenant\": \"jsbank\","
        " \"case_type\": \"consumer_review\", \"step\": \"assess\","
        " \"channel\": \"backoffice\", \"timeout_ms\": 15000,"
        " \"ready_at_us\": 1,"
        " \"outcomes\": {\"compliant\": {\"billable\": true},"
        " \"non_compliant\": {\"billable\": true},"
        " \"needs_changes\": {\"billable\": false,"
        " \"fields\": {\"note\": \"string\"}}}}";
    char want[700];

    (void)state;
    assert_true(d.abstained);
    assert_int_equal(d.chosen, 1);
    assert_int_equal(d.confidence, 900);
    assert_string_equal(d.code, "needs_changes");
    if (agent_offer_parse(offer, strlen(offer), &o, &e) != ST_OK ||
        agent_ai_complete_body(&o, &d, &body, &len, &e) != ST_OK)
        fail_msg("%s", e.msg);
    /* The note's quotes are escaped in the JSON body. */
    snprintf(want, sizeof(want),
             "{\"reservation_id\":9,\"epoch\":1,\"outcome\":{\"code\":"
             "\"needs_changes\",\"fields\":{\"note\":\"AI assessment: 1 "
             "problem(s) with the tenant's rules, first no_impersonation: "
             "\\\"this is the police\\\"\"}},\"confidence\":%d}",
             d.confidence);
    assert_string_equal(body, want);
    assert_int_equal(len, strlen(want));
    free(body);

    /* The fallback: needs_changes (the first non-billable), confidence 0,
     * a complete body that says so. */
    agent_ai_fallback(&o, NOW, &d);
    assert_string_equal(d.code, "needs_changes");
    assert_int_equal(d.confidence, 0);
    assert_string_equal(d.date, "2026-11-25");
    if (agent_ai_complete_body(&o, &d, &body, &len, &e) != ST_OK)
        fail_msg("%s", e.msg);
    assert_non_null(strstr(body, "\"note\":\"AI could not assess this "
                                 "case\"}},\"confidence\":0}"));
    free(body);

    /* An offer without the code is refused. */
    o.noutcomes = 2;
    assert_int_equal(agent_ai_complete_body(&o, &d, &body, &len, &e),
                     ST_INVALID);
    assist_task_destroy(t);
    assist_kb_destroy(kb);
}

/* The example tasks: a valid outcome of the step, a confidence in range,
 * the same on every run; a task of another tenant is refused. */
static void test_example_tasks(void **state)
{
    static const char *const files[] = {TASK("jsbank-loan-contact.json"),
                                        TASK("jsbank-card-intake-en.json")};
    assist_kb *kb = jsbank();
    assist_task *t = NULL;
    agent_ai_decision d, again;
    err e = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (assist_task_load(&t, files[i], &e) != ST_OK)
            fail_msg("%s", e.msg);
        d = decide(kb, t, 0);
        again = decide(kb, t, 0);
        assert_same(&d, &again);
        assert_in_range(d.index, 0, assist_task_outcome_count(t) - 1);
        assert_string_equal(d.code, assist_task_outcome(t, d.index)->code);
        assert_in_range(d.confidence, 1, 1000);
        assist_task_destroy(t);
        t = NULL;
    }
    if (assist_task_load(&t, TASK("hzinsure-claim-first-notice.json"), &e) !=
        ST_OK)
        fail_msg("%s", e.msg);
    assert_int_equal(agent_ai_decide(kb, t, NOW, 0, &d, &e), ST_INVALID);
    assert_int_equal(agent_ai_decide(kb, t, NOW, 1001, &d, &e), ST_INVALID);
    assist_task_destroy(t);
    assist_kb_destroy(kb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_is_compliant),
        cmocka_unit_test(test_breach_or_gap_is_non_compliant),
        cmocka_unit_test(test_caution_asks_for_review),
        cmocka_unit_test(test_other_case_types_use_retrieval),
        cmocka_unit_test(test_floor_abstains),
        cmocka_unit_test(test_example_tasks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
