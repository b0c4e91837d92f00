/* Unit tests of assist_panel on the example knowledge bases and tasks:
 * passages cite the right files, prompts gate the outcome, the reply is
 * filled, next steps are listed, and the text lines say it all. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "assist_panel.h"
#include "tl_test.h"

#define KB(t)   TL_SOURCE_DIR "/examples/kb/" t
#define TASK(t) TL_SOURCE_DIR "/examples/tasks/" t
/* 2026-11-25T12:30:00Z: 20:30 in Beijing. */
#define EVENING_UTC 1795609800

typedef struct loaded {
    assist_kb *kb;
    assist_task *task;
    assist_panel *panel;
} loaded;

static void load(loaded *l, const char *kb, const char *task, int64_t now)
{
    err e = {0};

    memset(l, 0, sizeof(*l));
    if (assist_kb_load(&l->kb, kb, &e) != ST_OK ||
        assist_task_load(&l->task, task, &e) != ST_OK ||
        assist_panel_build(&l->panel, l->kb, l->task, now, 5, &e) != ST_OK)
        fail_msg("%s", e.msg);
}

static void unload(loaded *l)
{
    assist_panel_destroy(l->panel);
    assist_task_destroy(l->task);
    assist_kb_destroy(l->kb);
}

static bool cites(const assist_panel *p, const char *file)
{
    for (int i = 0; i < p->npassages; i++)
        if (strcmp(p->passages[i].passage->file, file) == 0)
            return true;
    return false;
}

static bool has_line(const assist_panel *p, const char *part)
{
    for (int i = 0; i < p->nlines; i++)
        if (strstr(assist_panel_line(p, i), part) != NULL)
            return true;
    return false;
}

static void test_loan_contact(void **state)
{
    loaded l;
    const assist_panel *p;
    err e = {0};

    (void)state;
    load(&l, KB("jsbank"), TASK("jsbank-loan-contact.json"), EVENING_UTC);
    p = l.panel;
    assert_int_equal(p->npassages, 5);
    assert_true(cites(p, "collections-rules-zh.md"));
    assert_true(cites(p, "collections-scripts-en.md"));
    for (int i = 0; i < p->npassages; i++) {
        assert_true(strncmp(p->passages[i].passage->file, "collections-", 12) ==
                    0);
        assert_non_null(strstr(p->passages[i].citation, " \xC2\xA7 "));
        if (i > 0)
            assert_true(p->passages[i - 1].score >= p->passages[i].score);
    }
    assert_true(
        has_line(p, "collections-rules-zh.md \xC2\xA7 逾期贷款催收规范"));
    /* 20:30 in Beijing: inside the hours; three acks pending. */
    assert_true(has_line(p, "Within contact hours: it is 20:30"));
    assert_false(assist_panel_may_complete(p));
    assert_true(has_line(p, "Acknowledge 3 prompt(s)"));
    assert_non_null(p->reply);
    assert_non_null(strstr(p->reply, "王伟您好"));
    /* No account detail before the identity is verified. */
    assert_null(strstr(p->reply, "12,500.00"));
    assert_null(strstr(p->reply, "L-88812"));
    assert_null(strstr(p->reply, "35 天"));
    assert_true(has_line(p, "(1 sentence(s) held back until verify_identity "
                            "is acknowledged"));
    assert_int_equal(p->reply_missing, 0);
    assert_int_equal(p->nsteps, 5);
    assert_string_equal(p->steps[0], "promise_to_pay (billable): amount_minor "
                                     "amount_minor, due_date date");
    assert_true(has_line(p, " - no_contact (not billable): no fields"));

    assert_int_equal(assist_panel_ack(l.panel, "no_threats", &e), ST_OK);
    assert_int_equal(assist_panel_ack(l.panel, "call_recording", &e), ST_OK);
    assert_false(assist_panel_may_complete(p));
    assert_null(strstr(p->reply, "12,500.00"));
    assert_int_equal(assist_panel_ack(l.panel, "verify_identity", &e), ST_OK);
    assert_true(assist_panel_may_complete(p));
    assert_non_null(strstr(p->reply, "逾期金额 12,500.00 CNY"));
    assert_false(has_line(p, "held back"));
    assert_true(has_line(p, "The outcome may be sent"));
    assert_int_equal(assist_panel_ack(l.panel, "unknown_rule", &e),
                     ST_NOT_FOUND);
    unload(&l);
}

static void test_loan_contact_at_night_and_draft(void **state)
{
    loaded l;
    int found = 0;
    err e = {0};

    (void)state;
    /* 13:00 UTC is 21:00 in Beijing: contact is blocked. */
    load(&l, KB("jsbank"), TASK("jsbank-loan-contact.json"),
         EVENING_UTC + 30 * 60);
    assert_true(has_line(l.panel, "[block, acknowledge] "
                                  "collections_contact_hours: Outside"));
    assert_int_equal(
        assist_panel_check_draft(l.panel, l.kb, "不还钱就让你坐牢", &found, &e),
        ST_OK);
    assert_int_equal(found, 1);
    assert_true(has_line(l.panel, "forbidden phrase \"坐牢\""));
    unload(&l);
}

static void test_card_dispute_english(void **state)
{
    loaded l;
    err e = {0};

    (void)state;
    load(&l, KB("jsbank"), TASK("jsbank-card-intake-en.json"), EVENING_UTC);
    assert_string_equal(l.panel->passages[0].passage->file,
                        "card-disputes-en.md");
    assert_non_null(strstr(l.panel->passages[0].citation, "Intake checklist"));
    assert_true(has_line(l.panel, "chargeback_deadline"));
    assert_null(strstr(l.panel->reply, "Amazon UK"));
    assert_non_null(strstr(l.panel->reply, "We will let you know the result"));
    assert_int_equal(assist_panel_ack(l.panel, "verify_identity", &e), ST_OK);
    assert_non_null(strstr(l.panel->reply, "Hello Emma Walker"));
    assert_non_null(strstr(l.panel->reply, "459.00 CNY payment to Amazon UK"));
    unload(&l);
}

static void test_claim_and_wrong_tenant(void **state)
{
    loaded l;
    assist_panel *p = NULL;
    assist_kb *bank = NULL;
    err e = {0};

    (void)state;
    load(&l, KB("hzinsure"), TASK("hzinsure-claim-first-notice.json"),
         EVENING_UTC);
    assert_true(cites(l.panel, "claims-rules-en.md"));
    assert_true(cites(l.panel, "claims-rules-zh.md") ||
                cites(l.panel, "documents-needed-zh.md"));
    assert_null(strstr(l.panel->reply, "8,600.00"));
    assert_int_equal(assist_panel_ack(l.panel, "no_payout_promise", &e), ST_OK);
    assert_non_null(strstr(l.panel->reply, "估损金额 8,600.00 CNY"));
    assert_int_equal(assist_kb_load(&bank, KB("jsbank"), &e), ST_OK);
    assert_int_equal(assist_panel_build(&p, bank, l.task, EVENING_UTC, 5, &e),
                     ST_INVALID);
    assert_non_null(strstr(e.msg, "hzinsure"));
    assert_null(p);
    assist_kb_destroy(bank);
    unload(&l);
}

static void test_task_without_template_or_payload(void **state)
{
    static const char body[] =
        "{\"tenant\":\"jsbank\",\"case_type\":\"unknown_type\",\"step\":\"x\","
        "\"customer\":{\"name\":\"A\",\"utc_offset\":\"-05:00\"}}";
    assist_kb *kb = NULL;
    assist_task *t = NULL;
    assist_panel *p = NULL;
    err e = {0};

    (void)state;
    assert_int_equal(assist_kb_load(&kb, KB("jsbank"), &e), ST_OK);
    assert_int_equal(assist_task_parse(&t, body, strlen(body), &e), ST_OK);
    assert_int_equal(assist_panel_build(&p, kb, t, EVENING_UTC, 3, &e), ST_OK);
    assert_null(p->reply);
    assert_int_equal(p->ctx.utc_offset_min, -300);
    assert_true(has_line(p, "no reply template"));
    assert_true(has_line(p, "the task lists no outcomes"));
    assert_null(assist_panel_line(p, p->nlines));
    assist_panel_destroy(p);
    assist_task_destroy(t);
    assist_kb_destroy(kb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loan_contact),
        cmocka_unit_test(test_loan_contact_at_night_and_draft),
        cmocka_unit_test(test_card_dispute_english),
        cmocka_unit_test(test_claim_and_wrong_tenant),
        cmocka_unit_test(test_task_without_template_or_payload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
