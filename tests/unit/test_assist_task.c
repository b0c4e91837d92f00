/* Unit tests of assist_task: accept replies and bare tasks, values by
 * path, outcomes, history, and errors that name the member. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "assist_task.h"
#include "tl_test.h"

static void collect(const char *key, const char *value, void *arg)
{
    char *buf = arg;

    strcat(buf, key);
    strcat(buf, "=");
    strcat(buf, value);
    strcat(buf, ";");
}

static void test_accept_reply(void **state)
{
    assist_task *t = NULL;
    assist_value v;
    char members[256] = "";
    err e = {0};

    (void)state;
    assert_int_equal(
        assist_task_load(
            &t, TL_SOURCE_DIR "/examples/tasks/jsbank-loan-contact.json", &e),
        ST_OK);
    assert_string_equal(assist_task_tenant(t), "jsbank");
    assert_string_equal(assist_task_case_type(t), "loan_overdue");
    assert_string_equal(assist_task_step(t), "contact");
    assert_string_equal(assist_task_channel(t), "voice");
    assert_true(assist_task_value(t, "payload.overdue_minor", &v));
    assert_int_equal(v.kind, ASSIST_VALUE_INT);
    assert_int_equal(v.i, 1250000);
    assert_true(assist_task_value(t, "customer.name", &v));
    assert_string_equal(v.s, "王伟");
    assert_false(assist_task_value(t, "customer", &v));
    assert_int_equal(v.kind, ASSIST_VALUE_MISSING);
    assert_false(assist_task_value(t, "payload..x", &v));
    assert_false(assist_task_value(t, "", &v));
    assert_int_equal(assist_task_outcome_count(t), 5);
    assert_string_equal(assist_task_outcome(t, 0)->code, "promise_to_pay");
    assert_true(assist_task_outcome(t, 0)->billable);
    assert_int_equal(assist_task_outcome(t, 0)->nfields, 2);
    assert_null(assist_task_outcome(t, 5));
    assist_task_payload_each(t, collect, members);
    assert_string_equal(members, "loan_id=L-88812;product=personal_loan;"
                                 "days_past_due=35;overdue_minor=1250000;"
                                 "installment_minor=320000;currency=CNY;");
    assist_task_destroy(t);
}

static void test_history(void **state)
{
    static const char body[] =
        "{\"tenant\":\"t\",\"case_type\":\"c\",\"step\":\"s\","
        "\"history\":[{\"step\":\"contact\",\"worker\":\"w7\","
        "\"code\":\"dispute\",\"fields\":{}}]}";
    assist_task *t = NULL;
    err e = {0};

    (void)state;
    assert_int_equal(assist_task_parse(&t, body, strlen(body), &e), ST_OK);
    assert_int_equal(assist_task_history_count(t), 1);
    assert_string_equal(assist_task_history(t, 0)->code, "dispute");
    assert_string_equal(assist_task_history(t, 0)->worker, "w7");
    assert_string_equal(assist_task_channel(t), "");
    assert_int_equal(assist_task_outcome_count(t), 0);
    assist_task_destroy(t);
}

static void expect_error(const char *body, status code, const char *want)
{
    assist_task *t = NULL;
    err e = {0};

    assert_int_equal(assist_task_parse(&t, body, strlen(body), &e), code);
    assert_null(t);
    if (strstr(e.msg, want) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", e.msg, want);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("[1]", ST_WRONG_TYPE, "object");
    expect_error("{\"ok\":true,\"task\":3}", ST_WRONG_TYPE, "task");
    expect_error("{\"case_type\":\"c\",\"step\":\"s\"}", ST_MISSING_FIELD,
                 "\"tenant\"");
    expect_error("{\"tenant\":\"a b\",\"case_type\":\"c\",\"step\":\"s\"}",
                 ST_INVALID, "task.tenant");
    expect_error("{\"tenant\":\"t\",\"case_type\":\"c\",\"step\":\"s\","
                 "\"payload\":[]}",
                 ST_WRONG_TYPE, "task.payload");
    expect_error("{\"tenant\":\"t\",\"case_type\":\"c\",\"step\":\"s\","
                 "\"outcomes\":{\"x\":{\"fields\":{\"f\":\"money\"}}}}",
                 ST_INVALID, "task.outcomes.x.fields.f");
    expect_error("{\"tenant\":\"t\",\"case_type\":\"c\",\"step\":\"s\","
                 "\"history\":[{\"code\":5}]}",
                 ST_WRONG_TYPE, "task.history[0].code");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_reply),
        cmocka_unit_test(test_history),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
