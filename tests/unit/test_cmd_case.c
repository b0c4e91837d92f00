/* Building the case.submit body from `twinline case submit` flags. */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
/* clang-format on */

#include "cmd_case.h"

static void test_body_from_flags(void **state)
{
    char *body = NULL;
    err e = {0};

    (void)state;
    assert_int_equal(cmd_case_body("loan_overdue", "LN-1", 5,
                                   "{\"loan_id\": \"L-1\"}",
                                   "{\"name\": \"王伟\"}", &body, &e),
                     ST_OK);
    assert_non_null(strstr(body, "\"external_id\":\"LN-1\""));
    assert_non_null(strstr(body, "\"case_type\":\"loan_overdue\""));
    assert_non_null(strstr(body, "\"priority\":5"));
    assert_non_null(strstr(body, "\"payload\":{\"loan_id\":\"L-1\"}"));
    assert_non_null(strstr(body, "\"customer\":{\"name\":\"王伟\"}"));
    free(body);

    /* Optional parts are left out, not sent as null. */
    body = NULL;
    assert_int_equal(
        cmd_case_body("complaint", "C-1", -1, NULL, NULL, &body, &e), ST_OK);
    assert_string_equal(
        body, "{\"external_id\":\"C-1\",\"case_type\":\"complaint\"}");
    free(body);
}

static void test_body_bad_flags(void **state)
{
    char *body = NULL;
    err e = {0};

    (void)state;
    assert_int_equal(
        cmd_case_body("loan overdue", "X", -1, NULL, NULL, &body, &e),
        ST_INVALID);
    assert_non_null(strstr(e.msg, "--type"));
    assert_int_equal(
        cmd_case_body("loan_overdue", "", -1, NULL, NULL, &body, &e),
        ST_INVALID);
    assert_non_null(strstr(e.msg, "--external-id"));
    assert_int_equal(
        cmd_case_body("loan_overdue", "X", -1, "{\"a\":", NULL, &body, &e),
        ST_BAD_JSON);
    assert_non_null(strstr(e.msg, "--payload: invalid JSON"));
    assert_int_equal(
        cmd_case_body("loan_overdue", "X", -1, NULL, "[1]", &body, &e),
        ST_WRONG_TYPE);
    assert_non_null(strstr(e.msg, "--customer"));
    assert_null(body);
}

/* The body of `twinline case reopen|complaint`. */
static void test_dispute_body(void **state)
{
    char *body = NULL;
    err e = {0};

    (void)state;
    assert_int_equal(
        cmd_case_dispute_body(12, NULL, "wrong amount", NULL, &body, &e),
        ST_OK);
    assert_string_equal(body, "{\"case_id\":12,\"reason\":\"wrong amount\"}");
    free(body);
    body = NULL;
    assert_int_equal(
        cmd_case_dispute_body(0, "LN-1", "called twice", "r-1", &body, &e),
        ST_OK);
    assert_string_equal(body, "{\"external_id\":\"LN-1\",\"reason\":"
                              "\"called twice\",\"request_id\":\"r-1\"}");
    free(body);
    body = NULL;

    assert_int_equal(
        cmd_case_dispute_body(12, "LN-1", "both ids", NULL, &body, &e),
        ST_INVALID);
    assert_non_null(strstr(e.msg, "either a CASE_ID or --external-id"));
    assert_int_equal(cmd_case_dispute_body(0, NULL, "no id", NULL, &body, &e),
                     ST_INVALID);
    assert_int_equal(cmd_case_dispute_body(3, NULL, "", NULL, &body, &e),
                     ST_INVALID);
    assert_non_null(strstr(e.msg, "--reason"));
    assert_int_equal(cmd_case_dispute_body(3, NULL, "ok", "bad id!", &body, &e),
                     ST_INVALID);
    assert_non_null(strstr(e.msg, "--request-id"));
    assert_null(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_from_flags),
        cmocka_unit_test(test_body_bad_flags),
        cmocka_unit_test(test_dispute_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
