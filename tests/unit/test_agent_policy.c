/* Unit tests of agent_policy: valid field values, weights honoured, strict
 * policy files. */
/* cmocka needs these before its own header. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
/* clang-format on */

#include "agent_policy.h"

static const char offer_json[] =
    "{\"type\":\"offer\",\"reservation_id\":9001,\"epoch\":1,\"task_id\":101,"
    "\"case_id\":42,\"tenant\":\"jsbank\",\"case_type\":\"loan_overdue\","
    "\"step\":\"contact\",\"channel\":\"voice\",\"timeout_ms\":15000,"
    "\"ready_at_us\":1795642200123456,\"outcomes\":{"
    "\"promise_to_pay\":{\"billable\":true,\"fields\":{\"amount_minor\":"
    "\"amount_minor\",\"due_date\":\"date\"}},"
    "\"no_contact\":{\"billable\":false,\"fields\":{}},"
    "\"callback\":{\"billable\":false,\"fields\":{\"when\":\"date\","
    "\"note\":\"string\",\"tries\":\"int\",\"vip\":\"bool\"}}}}";

static void load_offer(agent_offer *o)
{
    err e = {0};

    assert_int_equal(agent_offer_parse(offer_json, strlen(offer_json), o, &e),
                     ST_OK);
}

static int index_of(const agent_offer *o, const char *code)
{
    for (int i = 0; i < o->noutcomes; i++)
        if (strcmp(o->outcomes[i].code, code) == 0)
            return i;
    fail_msg("code %s not in offer", code);
    return -1;
}

/* Write text to a fresh temporary file; returns its path (static). */
static const char *write_tmp(const char *text)
{
    static char path[64];
    int fd;

    snprintf(path, sizeof(path), "/tmp/agent_policy_XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static bool date_real(const char *s)
{
    struct tm tm;
    int y, m, d;
    char back[16];
    time_t t;

    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3 ||
        s[4] != '-' || s[7] != '-')
        return false;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    tm.tm_hour = 12;
    t = timegm(&tm);
    gmtime_r(&t, &tm);
    strftime(back, sizeof(back), "%Y-%m-%d", &tm);
    return strcmp(back, s) == 0; /* a 2026-02-30 would normalise away */
}

static void test_values_valid(void **state)
{
    agent_rng r;
    agent_value v;
    bool seen_true = false, seen_false = false;

    (void)state;
    agent_rng_seed(&r, 7);
    for (int i = 0; i < 2000; i++) {
        agent_policy_value(AGENT_FIELD_AMOUNT, &r, &v);
        assert_int_equal(v.type, AGENT_FIELD_AMOUNT);
        assert_true(v.i >= 0 && v.i <= 1000000000000000LL);
        agent_policy_value(AGENT_FIELD_INT, &r, &v);
        assert_int_equal(v.type, AGENT_FIELD_INT);
        agent_policy_value(AGENT_FIELD_DATE, &r, &v);
        assert_true(date_real(v.s));
        assert_true(strcmp(v.s, "2000-01-01") > 0);
        agent_policy_value(AGENT_FIELD_STRING, &r, &v);
        assert_true(strlen(v.s) > 0 && strlen(v.s) <= AGENT_STRING_MAX);
        agent_policy_value(AGENT_FIELD_BOOL, &r, &v);
        if (v.b)
            seen_true = true;
        else
            seen_false = true;
    }
    assert_true(seen_true && seen_false);
}

static void test_outcome_fills_fields_and_encodes(void **state)
{
    agent_offer o;
    agent_outcome oc;
    agent_rng r;
    err e = {0};

    (void)state;
    load_offer(&o);
    agent_rng_seed(&r, 3);
    for (int i = 0; i < 200; i++) {
        const agent_outcome_spec *spec;
        char *body = NULL;
        size_t len = 0;

        agent_policy_outcome(NULL, &o, &r, &oc);
        spec = &o.outcomes[oc.index];
        assert_int_equal(oc.nvalues, spec->nfields);
        for (int f = 0; f < oc.nvalues; f++)
            assert_int_equal(oc.values[f].type, spec->fields[f].type);
        assert_int_equal(agent_msg_complete(&o, &oc, &body, &len, &e), ST_OK);
        assert_non_null(strstr(body, spec->code));
        assert_non_null(strstr(body, "\"reservation_id\":9001"));
        free(body);
    }
}

static void test_complete_rejects_mismatch(void **state)
{
    agent_offer o;
    agent_outcome oc;
    char *body = NULL;
    size_t len;
    err e = {0};

    (void)state;
    load_offer(&o);
    memset(&oc, 0, sizeof(oc));
    oc.index = index_of(&o, "promise_to_pay");
    oc.nvalues = 1; /* needs 2 */
    assert_int_equal(agent_msg_complete(&o, &oc, &body, &len, &e), ST_INVALID);
    oc.index = 99;
    assert_int_equal(agent_msg_complete(&o, &oc, &body, &len, &e), ST_INVALID);
    assert_null(body);
}

/* Count choices over n draws into counts[] (by offer index). */
static void draw(const agent_policy *p, const agent_offer *o, int n,
                 int *counts)
{
    agent_rng r;

    agent_rng_seed(&r, 12345);
    memset(counts, 0, sizeof(int) * AGENT_MAX_OUTCOMES);
    for (int i = 0; i < n; i++)
        counts[agent_policy_choose(p, o, &r)]++;
}

static void test_default_rule_billable_3_to_1(void **state)
{
    agent_offer o;
    int c[AGENT_MAX_OUTCOMES];
    int ptp, nc, cb;

    (void)state;
    load_offer(&o);
    draw(NULL, &o, 50000, c);
    ptp = c[index_of(&o, "promise_to_pay")];
    nc = c[index_of(&o, "no_contact")];
    cb = c[index_of(&o, "callback")];
    /* Expected 3/5, 1/5, 1/5 of 50000: 30000, 10000, 10000. */
    assert_true(ptp > 29000 && ptp < 31000);
    assert_true(nc > 9400 && nc < 10600);
    assert_true(cb > 9400 && cb < 10600);
}

static void test_file_weights_honoured(void **state)
{
    agent_offer o;
    agent_policy *p = NULL;
    int c[AGENT_MAX_OUTCOMES];
    err e = {0};
    const char *path = write_tmp(
        "{\"default\": {\"no_contact\": 1},"
        " \"loan_overdue.contact\": {\"promise_to_pay\": 1, \"callback\": 3,"
        "  \"not_in_offer\": 100}}");

    (void)state;
    load_offer(&o);
    assert_int_equal(agent_policy_load(&p, path, &e), ST_OK);
    unlink(path);
    draw(p, &o, 40000, c);
    /* The step table wins; the unknown code is ignored: 1 : 3. */
    assert_int_equal(c[index_of(&o, "no_contact")], 0);
    assert_true(c[index_of(&o, "promise_to_pay")] > 9400 &&
                c[index_of(&o, "promise_to_pay")] < 10600);
    assert_true(c[index_of(&o, "callback")] > 29400 &&
                c[index_of(&o, "callback")] < 30600);

    /* Another step falls back to "default". */
    snprintf(o.step, sizeof(o.step), "legal");
    draw(p, &o, 1000, c);
    assert_int_equal(c[index_of(&o, "no_contact")], 1000);
    agent_policy_destroy(p);
}

static void test_no_match_falls_back(void **state)
{
    agent_offer o;
    agent_policy *p = NULL;
    int c[AGENT_MAX_OUTCOMES];
    err e = {0};
    const char *path = write_tmp("{\"default\": {\"other_code\": 2}}");

    (void)state;
    load_offer(&o);
    assert_int_equal(agent_policy_load(&p, path, &e), ST_OK);
    unlink(path);
    draw(p, &o, 50000, c);
    assert_true(c[index_of(&o, "promise_to_pay")] > 29000);
    agent_policy_destroy(p);
}

static void expect_bad(const char *text, status want, const char *needle)
{
    agent_policy *p = NULL;
    err e = {0};
    const char *path = write_tmp(text);

    assert_int_equal(agent_policy_load(&p, path, &e), want);
    unlink(path);
    assert_null(p);
    if (strstr(e.msg, needle) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", e.msg, needle);
}

static void test_bad_files(void **state)
{
    agent_policy *p = NULL;
    err e = {0};

    (void)state;
    expect_bad("{\"default\": {\"a\": 1}", ST_BAD_JSON, "policy file");
    expect_bad("[1, 2]", ST_WRONG_TYPE, "expected a JSON object");
    expect_bad("{\"default\": 3}", ST_WRONG_TYPE, "must be an object");
    expect_bad("{\"loan overdue.contact\": {\"a\": 1}}", ST_INVALID,
               "<case_type>.<step>");
    expect_bad("{\"loan_overdue\": {\"a\": 1}}", ST_INVALID,
               "<case_type>.<step>");
    expect_bad("{\"a.b.c\": {\"a\": 1}}", ST_INVALID, "<case_type>.<step>");
    expect_bad("{\"default\": {\"a\": \"1\"}}", ST_WRONG_TYPE,
               "weight of default.a must be a number");
    expect_bad("{\"default\": {\"a\": -1}}", ST_INVALID,
               "must be between 0 and 1e9");
    expect_bad("{\"default\": {\"a\": 0, \"b\": 0}}", ST_INVALID,
               "no positive weight");
    expect_bad("{\"default\": {\"bad code\": 1}}", ST_INVALID, "bad code");
    expect_bad("{\"default\": {\"a\": 1, \"a\": 2}}", ST_BAD_JSON, "duplicate");
    assert_int_not_equal(agent_policy_load(&p, "/nonexistent/policy.json", &e),
                         ST_OK);
    assert_null(p);
    assert_non_null(strstr(e.msg, "/nonexistent/policy.json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_valid),
        cmocka_unit_test(test_outcome_fills_fields_and_encodes),
        cmocka_unit_test(test_complete_rejects_mismatch),
        cmocka_unit_test(test_default_rule_billable_3_to_1),
        cmocka_unit_test(test_file_weights_honoured),
        cmocka_unit_test(test_no_match_falls_back),
        cmocka_unit_test(test_bad_files),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
