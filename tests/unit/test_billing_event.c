/* Unit tests of the billing service's pure helpers: event decoding, the
 * names derived from the prefix, and the id-array parameter. */
#include "billing_event.h"

/* cmocka.h needs the headers before it; keep clang-format from sorting. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
/* clang-format on */

static status parse(const char *json, billing_event *ev, err *e)
{
    return billing_event_parse(json, strlen(json), ev, e);
}

static void test_parse_full_event(void **state)
{
    billing_event ev;
    err e = {0};

    (void)state;
    assert_int_equal(
        parse("{\"type\": \"outcome.recorded\", \"outcome_id\": 77, "
              "\"task_id\": 101, \"case_id\": 42, \"tenant\": \"jsbank\", "
              "\"worker\": \"w007\", \"code\": \"promise_to_pay\", "
              "\"billable\": true}",
              &ev, &e),
        ST_OK);
    assert_int_equal(ev.outcome_id, 77);
    assert_int_equal(ev.task_id, 101);
    assert_int_equal(ev.case_id, 42);
    assert_string_equal(ev.tenant, "jsbank");
    assert_string_equal(ev.worker, "w007");
    assert_string_equal(ev.code, "promise_to_pay");
    assert_true(ev.billable);
}

static void test_parse_minimal_event(void **state)
{
    billing_event ev;
    err e = {0};

    (void)state;
    assert_int_equal(
        parse("{\"type\":\"outcome.recorded\",\"outcome_id\":5}", &ev, &e),
        ST_OK);
    assert_int_equal(ev.outcome_id, 5);
    assert_int_equal(ev.task_id, 0);
    assert_string_equal(ev.tenant, "");
    assert_false(ev.billable);
}

static void test_parse_rejects(void **state)
{
    static const struct {
        const char *json;
        status want;
        const char *needle; /* the message must name the problem */
    } cases[] = {
        {"{not json", ST_BAD_JSON, "invalid JSON"},
        {"", ST_BAD_JSON, "empty"},
        {"[1,2]", ST_WRONG_TYPE, "object"},
        {"{\"type\":\"outcome.recorded\"}", ST_MISSING_FIELD, "outcome_id"},
        {"{\"outcome_id\":3}", ST_MISSING_FIELD, "type"},
        {"{\"type\":\"outcome.recorded\",\"outcome_id\":\"3\"}", ST_WRONG_TYPE,
         "outcome_id"},
        {"{\"type\":\"outcome.recorded\",\"outcome_id\":3.5}", ST_WRONG_TYPE,
         "outcome_id"},
        {"{\"type\":\"outcome.recorded\",\"outcome_id\":0}", ST_INVALID,
         "positive"},
        {"{\"type\":\"outcome.recorded\",\"outcome_id\":-4}", ST_INVALID,
         "positive"},
        {"{\"type\":\"case.closed\",\"outcome_id\":3}", ST_INVALID,
         "case.closed"},
        {"{\"type\":\"outcome.recorded\",\"outcome_id\":3,\"amount\":9}",
         ST_UNKNOWN_FIELD, "amount"},
        {"{\"type\":\"outcome.recorded\",\"outcome_id\":3,\"tenant\":\"a.b\"}",
         ST_INVALID, "tenant"},
        {"{\"type\":\"outcome.recorded\",\"outcome_id\":3,\"billable\":1}",
         ST_WRONG_TYPE, "billable"},
        {"{\"type\":\"outcome.recorded\",\"outcome_id\":3,\"outcome_id\":4}",
         ST_BAD_JSON, "duplicate"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        billing_event ev;
        err e = {0};
        status s = parse(cases[i].json, &ev, &e);
        if (s != cases[i].want || strstr(e.msg, cases[i].needle) == NULL)
            fail_msg("case %zu (%s): got %s \"%s\", want %s naming \"%s\"", i,
                     cases[i].json, status_code(s), e.msg,
                     status_code(cases[i].want), cases[i].needle);
    }
}

static void test_parse_too_large(void **state)
{
    static char big[BILLING_EVENT_MAX + 64];
    billing_event ev;
    err e = {0};
    int n;

    (void)state;
    n = snprintf(big, sizeof(big),
                 "{\"type\":\"outcome.recorded\",\"outcome_id\":1,"
                 "\"code\":\"");
    memset(big + n, 'a', sizeof(big) - (size_t)n - 3);
    memcpy(big + sizeof(big) - 3, "\"}", 3);
    assert_int_equal(billing_event_parse(big, strlen(big), &ev, &e),
                     ST_TOO_LARGE);
}

static void test_parse_not_nul_terminated(void **state)
{
    const char json[] = "{\"type\":\"outcome.recorded\",\"outcome_id\":12}"
                        "GARBAGE";
    billing_event ev;
    err e = {0};

    (void)state;
    assert_int_equal(billing_event_parse(json, strlen(json) - 7, &ev, &e),
                     ST_OK);
    assert_int_equal(ev.outcome_id, 12);
}

static void test_names(void **state)
{
    billing_names n;
    err e = {0};

    (void)state;
    assert_int_equal(billing_names_make("tl_test-1", &n, &e), ST_OK);
    assert_string_equal(n.stream, "TL_TEST-1_EVENTS");
    assert_string_equal(n.subjects, "tl_test-1.evt.>");
    assert_string_equal(n.filter, "tl_test-1.evt.*.outcome");
    assert_int_equal(billing_names_make("a.b", &n, &e), ST_CONFIG);
    assert_int_equal(billing_names_make("", &n, &e), ST_CONFIG);
}

static void test_names_longest_prefix(void **state)
{
    char prefix[ID_MAX + 1];
    billing_names n;
    err e = {0};

    (void)state;
    memset(prefix, 'p', ID_MAX);
    prefix[ID_MAX] = '\0';
    assert_int_equal(billing_names_make(prefix, &n, &e), ST_OK);
    assert_int_equal(strlen(n.stream), ID_MAX + strlen("_EVENTS"));
    assert_int_equal(strlen(n.filter), ID_MAX + strlen(".evt.*.outcome"));
}

static void test_ids_format(void **state)
{
    const int64_t ids[] = {1, 22, INT64_MAX};
    char buf[BILLING_IDS_CAP(3)];
    char small[8];
    err e = {0};

    (void)state;
    assert_int_equal(billing_ids_format(ids, 0, buf, sizeof(buf), &e), ST_OK);
    assert_string_equal(buf, "{}");
    assert_int_equal(billing_ids_format(ids, 3, buf, sizeof(buf), &e), ST_OK);
    assert_string_equal(buf, "{1,22,9223372036854775807}");
    assert_int_equal(billing_ids_format(ids, 2, small, sizeof(small), &e),
                     ST_OK);
    assert_string_equal(small, "{1,22}");
    assert_int_equal(billing_ids_format(ids, 3, small, sizeof(small), &e),
                     ST_TOO_LARGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_full_event),
        cmocka_unit_test(test_parse_minimal_event),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_parse_too_large),
        cmocka_unit_test(test_parse_not_nul_terminated),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_names_longest_prefix),
        cmocka_unit_test(test_ids_format),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
