/* Unit tests of assist_reply: template filling (paths, money, escapes,
 * missing fields, cut output) and next-step lines. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assist_reply.h"
#include "tl_test.h"

static const char task_json[] =
    "{\"tenant\": \"jsbank\", \"case_type\": \"loan_overdue\", \"step\": "
    "\"contact\", \"external_id\": \"LN-1\","
    " \"customer\": {\"name\": \"王伟\", \"vip\": true},"
    " \"payload\": {\"loan_id\": \"L-88812\", \"overdue_minor\": 1250000,"
    "   \"rate\": 0.5, \"neg_minor\": -5, \"note\": \"x\", \"nested\": {\"a\": "
    "1}},"
    " \"history\": [{\"step\": \"contact\", \"code\": \"callback\","
    "   \"fields\": {\"reason\": \"busy\"}}],"
    " \"outcomes\": {\"promise_to_pay\": {\"billable\": true, \"fields\":"
    "   {\"amount_minor\": \"amount_minor\", \"due_date\": \"date\"}},"
    "   \"no_contact\": {\"billable\": false}}}";

static assist_task *task(void)
{
    assist_task *t = NULL;
    err e = {0};

    assert_int_equal(assist_task_parse(&t, task_json, strlen(task_json), &e),
                     ST_OK);
    return t;
}

static void expect(const assist_task *t, const char *tmpl, const char *want,
                   int want_missing)
{
    char *out = NULL;
    int missing = -1;
    err e = {0};

    assert_int_equal(assist_reply_render(tmpl, t, "CNY", &out, &missing, &e),
                     ST_OK);
    assert_string_equal(out, want);
    assert_int_equal(missing, want_missing);
    free(out);
}

static void test_fill(void **state)
{
    assist_task *t = task();

    (void)state;
    expect(t,
           "{customer.name}您好，贷款 {payload.loan_id} 逾期 "
           "{payload.overdue_minor|money}。",
           "王伟您好，贷款 L-88812 逾期 12,500.00 CNY。", 0);
    expect(t,
           "{external_id} {customer.vip} {payload.rate} "
           "{history.0.fields.reason}",
           "LN-1 true 0.5 busy", 0);
    expect(t, "{payload.neg_minor|money}", "-0.05 CNY", 0);
    expect(t, "{payload.overdue_minor|money}", "12,500.00 CNY", 0);
    expect(t, "no placeholders", "no placeholders", 0);
    expect(t, "", "", 0);
    assist_task_destroy(t);
}

static void test_missing_fields_are_visible(void **state)
{
    assist_task *t = task();

    (void)state;
    expect(t, "Dear {customer.title} {customer.name}",
           "Dear [?customer.title] 王伟", 1);
    /* Objects, wrong types for money, unknown filters, bad indexes. */
    expect(t,
           "{payload.nested} {payload.note|money} {payload.loan_id|upper} "
           "{history.9.code} {history.x.code}",
           "[?payload.nested] [?payload.note] [?payload.loan_id|upper] "
           "[?history.9.code] [?history.x.code]",
           5);
    assist_task_destroy(t);
}

/* |money writes the amount with its currency's decimals: the payload's
 * currency first, else the rules file's; an unknown payload currency is
 * shown as a value to check, never as a guess. */
static void test_money_uses_the_currency(void **state)
{
#define TASK(payload)                                                          \
    "{\"tenant\": \"b\", \"case_type\": \"c\", \"step\": \"s\", "              \
    "\"payload\": " payload "}"
    static const char *const payloads[] = {
        TASK("{\"fee_minor\": 150000, \"currency\": \"JPY\"}"),
        TASK("{\"fee_minor\": 1250, \"currency\": \"KWD\"}"),
        TASK("{\"fee_minor\": 150000, \"currency\": \"ZZZ\"}"),
        TASK("{\"fee_minor\": 150000}")};
#undef TASK
    static const char *const want[] = {"150,000 JPY", "1.250 KWD",
                                       "[?payload.currency]", "150,000 JPY"};
    static const int want_missing[] = {0, 0, 1, 0};

    (void)state;
    for (int i = 0; i < 4; i++) {
        assist_task *t = NULL;
        char *out = NULL;
        int missing = -1;
        err e = {0};

        assert_int_equal(
            assist_task_parse(&t, payloads[i], strlen(payloads[i]), &e), ST_OK);
        assert_int_equal(assist_reply_render("{payload.fee_minor|money}", t,
                                             "JPY", &out, &missing, &e),
                         ST_OK);
        assert_string_equal(out, want[i]);
        assert_int_equal(missing, want_missing[i]);
        free(out);
        assist_task_destroy(t);
    }
}

static void test_braces(void **state)
{
    assist_task *t = task();

    (void)state;
    expect(t, "{{literal}} { not } {} {a b} } {customer.name",
           "{literal} { not } {} {a b} } {customer.name", 0);
    assist_task_destroy(t);
}

static void test_long_output_is_cut(void **state)
{
    assist_task *t = task();
    char *tmpl = malloc(3 * 4000 + 1);
    char *out = NULL;
    err e = {0};

    (void)state;
    tmpl[0] = '\0';
    for (int i = 0; i < 4000; i++)
        strcat(tmpl, "王");
    assert_int_equal(assist_reply_render(tmpl, t, NULL, &out, NULL, &e), ST_OK);
    assert_true(strlen(out) <= ASSIST_REPLY_MAX);
    assert_string_equal(out + strlen(out) - 3, "...");
    assert_int_equal((strlen(out) - 3) % 3, 0);
    free(out);
    free(tmpl);
    assist_task_destroy(t);
}

static void test_money_and_next_steps(void **state)
{
    assist_task *t = task();
    char buf[ASSIST_STEP_MAX];

    (void)state;
    assert_int_equal(assist_task_outcome_count(t), 2);
    assist_reply_next_step(assist_task_outcome(t, 0), buf, sizeof(buf));
    assert_string_equal(
        buf, "promise_to_pay (billable): amount_minor amount_minor, due_date "
             "date");
    assist_reply_next_step(assist_task_outcome(t, 1), buf, sizeof(buf));
    assert_string_equal(buf, "no_contact (not billable): no fields");
    /* A small buffer is never overrun. */
    assist_reply_next_step(assist_task_outcome(t, 0), buf, 12);
    assert_string_equal(buf, "promise_to_");
    assist_task_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill),
        cmocka_unit_test(test_missing_fields_are_visible),
        cmocka_unit_test(test_money_uses_the_currency),
        cmocka_unit_test(test_braces),
        cmocka_unit_test(test_long_output_is_cut),
        cmocka_unit_test(test_money_and_next_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
