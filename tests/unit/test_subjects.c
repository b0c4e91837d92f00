/* Unit tests of contracts/subjects: every subject of the protocol is
 * built and split in one place, and the event stream's name. */
#include <stdio.h>
#include <string.h>

#include "subjects.h"
#include "tl_test.h"

static void test_build(void **state)
{
    char buf[SUBJECTS_MAX];
    err e = {0};

    (void)state;
    assert_int_equal(subjects_api(buf, sizeof(buf), "tl", "jsbank",
                                  SUBJECTS_CASE_SUBMIT, &e),
                     ST_OK);
    assert_string_equal(buf, "tl.api.jsbank.case.submit");
    assert_int_equal(
        subjects_api(buf, sizeof(buf), "tl", "*", SUBJECTS_CASE_ANY, &e),
        ST_OK);
    assert_string_equal(buf, "tl.api.*.case.*");
    assert_int_equal(
        subjects_agent(buf, sizeof(buf), "tl", "w007", SUBJECTS_ACCEPT, &e),
        ST_OK);
    assert_string_equal(buf, "tl.agent.w007.accept");
    assert_int_equal(
        subjects_worker(buf, sizeof(buf), "tl", "w007", SUBJECTS_NOTICE, &e),
        ST_OK);
    assert_string_equal(buf, "tl.worker.w007.notice");
    assert_int_equal(
        subjects_event(buf, sizeof(buf), "tl", "jsbank", SUBJECTS_EVT_CASE, &e),
        ST_OK);
    assert_string_equal(buf, "tl.evt.jsbank.case");
    assert_int_equal(subjects_events_all(buf, sizeof(buf), "tl", &e), ST_OK);
    assert_string_equal(buf, "tl.evt.>");
    assert_int_equal(subjects_ops(buf, sizeof(buf), "tl", "acme",
                                  SUBJECTS_TASK_PRIORITY, &e),
                     ST_OK);
    assert_string_equal(buf, "tl.ops.acme.task.priority");
    assert_int_equal(
        subjects_ops(buf, sizeof(buf), "tl", "*", SUBJECTS_TASK_PRIORITY, &e),
        ST_OK);
    assert_string_equal(buf, "tl.ops.*.task.priority");
    assert_int_equal(
        subjects_ops(buf, sizeof(buf), "tl", "a.b", SUBJECTS_TASK_PRIORITY, &e),
        ST_INVALID);
    assert_int_equal(
        subjects_admin(buf, sizeof(buf), "tl", SUBJECTS_IDENTITY_REVOKED, &e),
        ST_OK);
    assert_string_equal(buf, "tl.admin.identity.revoked");
    assert_int_equal(
        subjects_stats(buf, sizeof(buf), "tl", SUBJECTS_DISPATCHER, &e), ST_OK);
    assert_string_equal(buf, "tl.stats.dispatcher");
}

static void test_build_refuses(void **state)
{
    char buf[SUBJECTS_MAX];
    err e = {0};

    (void)state;
    /* A party with a dot would name another party's subject. */
    assert_int_equal(
        subjects_agent(buf, sizeof(buf), "tl", "w0.x", SUBJECTS_ACCEPT, &e),
        ST_INVALID);
    assert_non_null(strstr(e.msg, "w0.x"));
    assert_int_equal(
        subjects_agent(buf, sizeof(buf), "t l", "w007", SUBJECTS_ACCEPT, &e),
        ST_INVALID);
    assert_int_equal(subjects_agent(buf, 8, "tl", "w007", SUBJECTS_ACCEPT, &e),
                     ST_INVALID);
    assert_non_null(strstr(e.msg, "too long"));
    assert_int_equal(subjects_agent(buf, sizeof(buf), "tl", "w007", "", &e),
                     ST_INVALID);
}

static void test_stream_and_parts(void **state)
{
    char buf[SUBJECTS_STREAM_MAX], head[SUBJECTS_MAX], tail[SUBJECTS_MAX];
    char whole[SUBJECTS_MAX], joined[3 * SUBJECTS_MAX];
    char prefix[ID_MAX + 1];
    err e = {0};

    (void)state;
    assert_int_equal(subjects_stream(buf, sizeof(buf), "tl_test-1", &e), ST_OK);
    assert_string_equal(buf, "TL_TEST-1_EVENTS");
    memset(prefix, 'p', ID_MAX);
    prefix[ID_MAX] = '\0';
    assert_int_equal(subjects_stream(buf, sizeof(buf), prefix, &e), ST_OK);
    assert_int_equal(strlen(buf), ID_MAX + strlen("_EVENTS"));
    assert_int_equal(subjects_stream(buf, sizeof(buf), "a.b", &e), ST_INVALID);

    /* head || tenant || tail is the event subject. */
    assert_int_equal(
        subjects_event_parts(head, tail, "tl", SUBJECTS_EVT_OUTCOME, &e),
        ST_OK);
    snprintf(joined, sizeof(joined), "%s%s%s", head, "jsbank", tail);
    assert_int_equal(subjects_event(whole, sizeof(whole), "tl", "jsbank",
                                    SUBJECTS_EVT_OUTCOME, &e),
                     ST_OK);
    assert_string_equal(joined, whole);
}

static void test_parse(void **state)
{
    subjects_parsed p;

    (void)state;
    assert_true(subjects_parse("tl.api.jsbank.case.submit", "tl", &p));
    assert_int_equal(p.kind, SUBJECTS_API);
    assert_string_equal(p.party, "jsbank");
    assert_string_equal(p.verb, SUBJECTS_CASE_SUBMIT);
    assert_true(subjects_parse("tl.agent.w007.complete", "tl", &p));
    assert_int_equal(p.kind, SUBJECTS_AGENT);
    assert_string_equal(p.party, "w007");
    assert_string_equal(p.verb, SUBJECTS_COMPLETE);
    assert_true(subjects_parse("tl.ops.acme.task.priority", "tl", &p));
    assert_int_equal(p.kind, SUBJECTS_OPS);
    assert_string_equal(p.party, "acme");
    assert_string_equal(p.verb, SUBJECTS_TASK_PRIORITY);
    /* The operator is the second token: the old subject names operator
     * "task" and the verb "priority", which no route serves. */
    assert_true(subjects_parse("tl.ops.task.priority", "tl", &p));
    assert_string_equal(p.party, "task");
    assert_string_equal(p.verb, "priority");
    assert_true(subjects_parse("tl.admin.identity.revoked", "tl", &p));
    assert_int_equal(p.kind, SUBJECTS_ADMIN);
    assert_string_equal(p.party, "");
    assert_string_equal(p.verb, SUBJECTS_IDENTITY_REVOKED);

    assert_false(subjects_parse("tx.api.jsbank.case.submit", "tl", &p));
    assert_false(subjects_parse("tlx.api.jsbank.case.submit", "tl", &p));
    assert_false(subjects_parse("tl.nope.jsbank.case.submit", "tl", &p));
    assert_false(subjects_parse("tl.agent.w007", "tl", &p));
    assert_false(subjects_parse("tl.agent.w007.", "tl", &p));
    assert_false(subjects_parse("tl.agent..accept", "tl", &p));
    assert_false(subjects_parse(
        "tl.agent.w007.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "tl", &p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_build_refuses),
        cmocka_unit_test(test_stream_and_parts),
        cmocka_unit_test(test_parse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
