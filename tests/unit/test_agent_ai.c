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
    char buf[2048];
    assist_task *t = NULL;
    err e = {0};

    snprintf(buf, sizeof(buf),
             "{\"ok\": true, \"task\": {\"reservation_id\": 9, \"epoch\": 1,"
             " \"task_id\": 7, \"case_id\": 3, \"tenant\": \"jsbank\","
             " \"case_type\": \"consumer_review\", \"step\": \"assess\","
             " \"channel\": \"backoffice\", \"external_id\": \"CR-1\","
             " \"payload\": {\"title\": \"Loan leaflet\", \"document\": \"%s\","
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

/* A document that impersonates the police breaks no_impersonation, which
 * applies to every case type: non_compliant, confidence 900. */
static void test_breach_is_non_compliant(void **state)
{
    assist_kb *kb = jsbank();
    assist_task *t = review_task("Pay today. This is the police speaking.");
    agent_ai_decision d = decide(kb, t, 0);

    (void)state;
    assert_int_equal(d.breaches, 1);
    assert_string_equal(d.code, "non_compliant");
    assert_int_equal(d.index, 1);
    assert_int_equal(d.confidence, 900);
    assert_false(d.abstained);
    assert_string_equal(d.date, "2026-11-25");
    assist_task_destroy(t);
    assist_kb_destroy(kb);
}

/* A clean document about fees: no phrase, so retrieval decides. Of the
 * outcome codes' words only "needs" occurs in the top passages (once, in
 * complaint-handling-en.md), so needs_changes wins on weak evidence: the
 * top score S is about 25 and the support b about 1.3, so
 * 1000 * 0.72 * (1 + 0.12) / 2 is about 400, well below the review
 * threshold. The same input decides the same. */
static void test_clean_is_decided_by_retrieval(void **state)
{
    assist_kb *kb = jsbank();
    assist_task *t = review_task("State the fees, the interest rate and the "
                                 "term before the customer signs.");
    agent_ai_decision d = decide(kb, t, 0), again = decide(kb, t, 0);

    (void)state;
    assert_int_equal(d.breaches, 0);
    assert_in_range(d.confidence, 350, 450);
    assert_string_equal(d.code, "needs_changes");
    assert_true(d.support[2] > 0);
    assert_true(d.support[0] == 0 && d.support[1] == 0);
    assert_same(&d, &again);
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
    assist_task *t = review_task("Pay today. This is the police speaking.");
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
    snprintf(want, sizeof(want),
             "{\"reservation_id\":9,\"epoch\":1,\"outcome\":{\"code\":"
             "\"needs_changes\",\"fields\":{\"note\":\"%s\"}},"
             "\"confidence\":%d}",
             d.note, d.confidence);
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
        cmocka_unit_test(test_breach_is_non_compliant),
        cmocka_unit_test(test_clean_is_decided_by_retrieval),
        cmocka_unit_test(test_floor_abstains),
        cmocka_unit_test(test_example_tasks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
