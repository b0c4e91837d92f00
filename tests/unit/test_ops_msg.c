/* The operator's actions (contracts/ops_msg.h) and the call-up's agent
 * messages (contracts/agent_msg.h): what the CLI and the console encode the
 * dispatcher decodes, and bad input is refused naming the field. */
#include <stdlib.h>
#include <string.h>

#include "agent_msg.h"
#include "ops_msg.h"
#include "tl_test.h"

static void test_verbs(void **state)
{
    ops_verb v;

    (void)state;
    for (int i = 0; i < OPS_VERB_COUNT; i++) {
        assert_true(ops_verb_parse(ops_verb_name((ops_verb)i), &v));
        assert_int_equal(v, i);
    }
    assert_false(ops_verb_parse("worker.fire", &v));
    assert_true(ops_verb_is_task(OPS_TASK_CANCEL));
    assert_false(ops_verb_is_task(OPS_WORKER_LOGOUT));
}

static void test_skills_round_trip(void **state)
{
    ops_req r, back;
    char *body = NULL;
    size_t len;
    err e = {0};

    (void)state;
    memset(&r, 0, sizeof(r));
    r.verb = OPS_WORKER_SKILLS;
    strcpy(r.worker, "w007");
    strcpy(r.reason, "passed the course");
    r.nskills = 2;
    strcpy(r.skills[0].skill, "collections");
    r.skills[0].level = 3;
    r.skills[0].ai_level = 4;
    strcpy(r.skills[1].skill, "legal");
    r.skills[1].level = 1;
    assert_int_equal(ops_msg_encode(&r, &body, &len, &e), ST_OK);
    assert_int_equal(ops_msg_decode(OPS_WORKER_SKILLS, body, len, &back, &e),
                     ST_OK);
    free(body);
    assert_string_equal(back.worker, "w007");
    assert_int_equal(back.nskills, 2);
    assert_string_equal(back.skills[0].skill, "collections");
    assert_int_equal(back.skills[0].ai_level, 4);
    assert_string_equal(back.reason, "passed the course");
}

static void expect(ops_verb v, const char *body, status want, const char *in)
{
    ops_req r;
    err e = {0};

    assert_int_equal(ops_msg_decode(v, body, strlen(body), &r, &e), want);
    if (strstr(e.msg, in) == NULL)
        fail_msg("\"%s\" does not name %s", e.msg, in);
}

static void test_refusals(void **state)
{
    (void)state;
    expect(OPS_WORKER_LOGOUT, "{\"worker\":\"w1\"}", ST_MISSING_FIELD,
           "reason");
    expect(OPS_WORKER_LOGOUT, "{\"worker\":\"w1\",\"reason\":\"\"}", ST_INVALID,
           "reason");
    expect(OPS_WORKER_LOGOUT, "{\"worker\":\"a b\",\"reason\":\"x\"}",
           ST_INVALID, "worker");
    expect(OPS_WORKER_LOGOUT, "{\"worker\":\"w1\",\"reason\":\"x\",\"z\":1}",
           ST_UNKNOWN_FIELD, "z");
    expect(OPS_WORKER_SKILLS,
           "{\"worker\":\"w1\",\"skills\":{\"x\":{\"level\":6}},"
           "\"reason\":\"x\"}",
           ST_INVALID, "level");
    expect(OPS_TASK_REASSIGN, "{\"task_id\":0,\"reason\":\"x\"}", ST_INVALID,
           "task_id");
    expect(OPS_TASK_REASSIGN, "{\"task_id\":5,\"worker\":7,\"reason\":\"x\"}",
           ST_INVALID, "worker");
    expect(OPS_CALLUP_INVITE,
           "{\"worker\":\"w1\",\"pool\":\"p\",\"skill\":\"s\","
           "\"required\":3,\"online\":1,\"answer_s\":5,\"reason\":\"x\"}",
           ST_INVALID, "answer_s");
}

static void test_callup_notices(void **state)
{
    agent_callup_answer a = {7, true}, back;
    agent_notice n;
    char *body = NULL;
    size_t len;
    err e = {0};

    (void)state;
    assert_int_equal(agent_notice_callup_encode(7, "front", "collections",
                                                1764688800000, "busy", &body,
                                                &len, &e),
                     ST_OK);
    assert_int_equal(agent_notice_parse(body, len, &n, &e), ST_OK);
    free(body);
    assert_int_equal(n.type, AGENT_NOTICE_CALLUP);
    assert_int_equal(n.callup_id, 7);
    assert_string_equal(n.pool, "front");
    assert_string_equal(n.note, "busy");
    assert_int_equal(agent_msg_callup_encode(&a, &body, &len, &e), ST_OK);
    assert_int_equal(agent_msg_callup_decode(body, len, &back, &e), ST_OK);
    free(body);
    assert_true(back.accept);
    {
        const char *bad = "{\"callup_id\":7,\"answer\":\"later\"}";

        assert_int_equal(agent_msg_callup_decode(bad, strlen(bad), &back, &e),
                         ST_INVALID);
    }
    assert_int_equal(agent_notice_signout_encode("s1", "logged_out", "stuck",
                                                 &body, &len, &e),
                     ST_OK);
    assert_int_equal(agent_notice_parse(body, len, &n, &e), ST_OK);
    free(body);
    assert_int_equal(n.type, AGENT_NOTICE_SIGNED_OUT);
    assert_string_equal(n.session_id, "s1");
    assert_string_equal(n.note, "stuck");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verbs),
        cmocka_unit_test(test_skills_round_trip),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_callup_notices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
