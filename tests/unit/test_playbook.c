/* Playbook steps: outcome validation and the step progression rule. */
#include <string.h>

#include "playbook.h"
#include "tl_test.h"

static const char *contact_outcomes =
    "{\"promise_to_pay\": {\"billable\": true, \"fields\": {\"amount_minor\":"
    " \"amount_minor\", \"due_date\": \"date\"}}, \"hardship\":"
    " {\"billable\": false, \"fields\": {}}, \"dispute\": {\"billable\":"
    " false}}";

/* contact -> hardship_plan when hardship; contact -> legal when dispute;
 * close_out after both (runs if either completed). */
static void build(playbook *pb)
{
    err e = {0};

    memset(pb, 0, sizeof(*pb));
    strcpy(pb->tenant, "bank");
    strcpy(pb->case_type, "loan");
    pb->version = 1;
    assert_int_equal(playbook_add_step(pb, "contact", "voice", 300, "assist",
                                       "{\"collections\": 2}", "[]", "[]",
                                       contact_outcomes, &e),
                     ST_OK);
    assert_int_equal(
        playbook_add_step(pb, "hardship_plan", "backoffice", 600, "none",
                          "{\"collections\": 3}", "[\"contact\"]",
                          "[\"hardship\"]",
                          "{\"plan_agreed\": {\"billable\": true, \"fields\":"
                          " {\"instalments\": \"int\"}}}",
                          &e),
        ST_OK);
    assert_int_equal(
        playbook_add_step(pb, "legal", "backoffice", 600, "assist",
                          "{\"legal\": 3}", "[\"contact\"]", "[\"dispute\"]",
                          "{\"resolved\": {\"billable\": true}}", &e),
        ST_OK);
    assert_int_equal(playbook_add_step(pb, "close_out", "chat", 600, "none",
                                       "{}", "[\"hardship_plan\", \"legal\"]",
                                       "[]", "{\"done\": {}}", &e),
                     ST_OK);
    assert_int_equal(playbook_resolve(pb, &e), ST_OK);
}

static void test_outcome_validation(void **state)
{
    playbook pb;
    err e = {0};
    json_t *ok = json_pack("{s:I, s:s}", "amount_minor", (json_int_t)5000,
                           "due_date", "2028-02-29");
    json_t *neg = json_pack("{s:I, s:s}", "amount_minor", (json_int_t)-1,
                            "due_date", "2026-12-01");
    json_t *baddate = json_pack("{s:I, s:s}", "amount_minor", (json_int_t)1,
                                "due_date", "2026-02-29");
    json_t *extra = json_pack("{s:I, s:s, s:i}", "amount_minor", (json_int_t)1,
                              "due_date", "2026-12-01", "x", 1);
    json_t *missing = json_pack("{s:I}", "amount_minor", (json_int_t)1);

    (void)state;
    build(&pb);
    assert_int_equal(
        playbook_check_outcome(&pb.steps[0], "promise_to_pay", ok, &e), ST_OK);
    assert_int_equal(
        playbook_check_outcome(&pb.steps[0], "promise_to_pay", neg, &e),
        ST_OUTCOME_NOT_ALLOWED);
    assert_non_null(strstr(e.msg, "amount_minor"));
    assert_int_equal(
        playbook_check_outcome(&pb.steps[0], "promise_to_pay", baddate, &e),
        ST_OUTCOME_NOT_ALLOWED);
    assert_non_null(strstr(e.msg, "due_date"));
    assert_int_equal(
        playbook_check_outcome(&pb.steps[0], "promise_to_pay", extra, &e),
        ST_OUTCOME_NOT_ALLOWED);
    assert_int_equal(
        playbook_check_outcome(&pb.steps[0], "promise_to_pay", missing, &e),
        ST_OUTCOME_NOT_ALLOWED);
    assert_non_null(strstr(e.msg, "due_date"));
    assert_int_equal(playbook_check_outcome(&pb.steps[0], "paid", NULL, &e),
                     ST_OUTCOME_NOT_ALLOWED);
    assert_non_null(strstr(e.msg, "allowed: "));
    assert_int_equal(playbook_check_outcome(&pb.steps[0], "hardship", NULL, &e),
                     ST_OK);
    assert_true(playbook_outcome(&pb.steps[0], "promise_to_pay")->billable);
    assert_false(playbook_outcome(&pb.steps[0], "hardship")->billable);
    json_decref(ok);
    json_decref(neg);
    json_decref(baddate);
    json_decref(extra);
    json_decref(missing);
    playbook_release(&pb);
}

static void test_progression_by_outcome(void **state)
{
    playbook pb;
    pb_state st[4] = {PB_READY, PB_WAITING, PB_WAITING, PB_WAITING};
    char codes[4][ID_MAX + 1] = {"", "", "", ""};

    (void)state;
    build(&pb);
    /* Nothing moves while contact is in progress. */
    assert_false(playbook_advance(&pb, st, (const char(*)[ID_MAX + 1]) codes));
    st[0] = PB_COMPLETED;
    strcpy(codes[0], "hardship");
    assert_true(playbook_advance(&pb, st, (const char(*)[ID_MAX + 1]) codes));
    assert_int_equal(st[1], PB_READY);   /* hardship_plan */
    assert_int_equal(st[2], PB_SKIPPED); /* legal: no dispute */
    assert_int_equal(st[3], PB_WAITING); /* close_out waits for the plan */
    assert_false(playbook_finished(&pb, st));
    st[1] = PB_COMPLETED;
    strcpy(codes[1], "plan_agreed");
    assert_true(playbook_advance(&pb, st, (const char(*)[ID_MAX + 1]) codes));
    assert_int_equal(st[3], PB_READY);
    st[3] = PB_COMPLETED;
    assert_true(playbook_finished(&pb, st));
    playbook_release(&pb);
}

static void test_skips_cascade(void **state)
{
    playbook pb;
    pb_state st[4] = {PB_COMPLETED, PB_WAITING, PB_WAITING, PB_WAITING};
    char codes[4][ID_MAX + 1] = {"promise_to_pay", "", "", ""};

    (void)state;
    build(&pb);
    assert_true(playbook_advance(&pb, st, (const char(*)[ID_MAX + 1]) codes));
    assert_int_equal(st[1], PB_SKIPPED);
    assert_int_equal(st[2], PB_SKIPPED);
    assert_int_equal(st[3], PB_SKIPPED); /* all its inputs were skipped */
    assert_true(playbook_finished(&pb, st));
    playbook_release(&pb);
}

static void test_bad_definitions(void **state)
{
    playbook pb;
    err e = {0};

    (void)state;
    memset(&pb, 0, sizeof(pb));
    assert_int_equal(playbook_add_step(&pb, "a", "fax", 1, "none", "{}", "[]",
                                       "[]", "{}", &e),
                     ST_INVALID);
    assert_int_equal(playbook_add_step(&pb, "a", "chat", 1, "none", "{}",
                                       "[\"zz\"]", "[]", "{}", &e),
                     ST_OK);
    assert_int_equal(playbook_resolve(&pb, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "zz"));
    assert_int_equal(playbook_add_step(&pb, "b", "chat", 1, "none", "{}", "[]",
                                       "[]",
                                       "{\"x\": {\"fields\": {\"f\": "
                                       "\"colour\"}}}",
                                       &e),
                     ST_INVALID);
    playbook_release(&pb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outcome_validation),
        cmocka_unit_test(test_progression_by_outcome),
        cmocka_unit_test(test_skips_cascade),
        cmocka_unit_test(test_bad_definitions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
