/*
 * Unit tests of contracts/agent_msg: every message of the agent protocol
 * round-trips through its encoder and decoder, and each decoding error
 * (wrong type, unknown field, missing field, too large, out of range)
 * gives the documented code and a message naming the member.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent_msg.h"
#include "tl_test.h"

/* A string literal and its length, as a decoder takes a body. */
#define B(s) s, sizeof(s) - 1

static agent_offer sample_offer(void)
{
    agent_offer o;

    memset(&o, 0, sizeof(o));
    o.reservation_id = 9001;
    o.epoch = 3;
    o.task_id = 101;
    o.case_id = 42;
    strcpy(o.tenant, "jsbank");
    strcpy(o.case_type, "loan_overdue");
    strcpy(o.step, "contact");
    strcpy(o.channel, "voice");
    o.timeout_ms = 15000;
    o.ready_at_us = 1795642200123456LL;
    return o;
}

static const char outcomes[] =
    "{\"promise_to_pay\":{\"billable\":true,\"fields\":{\"amount_minor\":"
    "\"amount_minor\",\"due_date\":\"date\"}},\"no_contact\":{}}";

/* The decoder of a request refuses body with code want and a message
 * holding needle. */
typedef status (*decode_fn)(const char *buf, size_t len, err *e);

static void expect(status got, status want, const err *e, const char *needle)
{
    assert_int_equal(got, want);
    if (strstr(e->msg, needle) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", e->msg, needle);
}

static void test_offer_round_trip(void **state)
{
    agent_offer o = sample_offer(), back;
    char *body = NULL;
    size_t len = 0;
    err e = {0};

    (void)state;
    assert_int_equal(agent_offer_encode(&o, outcomes, NULL, &body, &len, &e),
                     ST_OK);
    assert_int_equal(len, strlen(body));
    assert_int_equal(agent_offer_parse(body, len, &back, &e), ST_OK);
    assert_int_equal(back.reservation_id, 9001);
    assert_int_equal(back.epoch, 3);
    assert_int_equal(back.task_id, 101);
    assert_int_equal(back.case_id, 42);
    assert_string_equal(back.tenant, "jsbank");
    assert_string_equal(back.case_type, "loan_overdue");
    assert_string_equal(back.step, "contact");
    assert_string_equal(back.channel, "voice");
    assert_int_equal(back.timeout_ms, 15000);
    assert_int_equal(back.ready_at_us, 1795642200123456LL);
    assert_int_equal(back.noutcomes, 2);
    assert_string_equal(back.outcomes[0].code, "promise_to_pay");
    assert_true(back.outcomes[0].billable);
    assert_int_equal(back.outcomes[0].fields[1].type, AGENT_FIELD_DATE);
    assert_false(back.auto_accepted);
    /* The outcome table travels as the playbook stores it. */
    assert_non_null(strstr(body, outcomes));
    assert_null(strstr(body, "\"task\""));
    free(body);
}

static void test_offer_auto_accepted(void **state)
{
    agent_offer o = sample_offer(), back;
    agent_task t;
    char *body = NULL;
    size_t len = 0;
    err e = {0};
    /* As the database prints it: spaces around the colons. */
    const char *task =
        "{\"reservation_id\" : 9001, \"epoch\" : 3, \"task_id\" : 101,"
        " \"case_id\" : 42, \"tenant\" : \"jsbank\", \"case_type\" :"
        " \"loan_overdue\", \"step\" : \"contact\", \"customer\" :"
        " {\"name\" : \"Wang\"}}";

    (void)state;
    assert_int_equal(agent_offer_encode(&o, outcomes, task, &body, &len, &e),
                     ST_OK);
    assert_int_equal(agent_offer_parse(body, len, &back, &e), ST_OK);
    assert_true(back.auto_accepted);
    assert_non_null(strstr(body, "\"auto_accepted\":true,\"task\":{"
                                 "\"reservation_id\":9001,"));
    assert_int_equal(agent_task_parse(body, len, &t, &e), ST_OK);
    assert_int_equal(t.reservation_id, 9001);
    assert_int_equal(t.task_id, 101);
    assert_string_equal(t.step, "contact");
    free(body);

    strcpy(o.tenant, "js bank");
    expect(agent_offer_encode(&o, outcomes, NULL, &body, &len, &e), ST_INVALID,
           &e, "js bank");
    o = sample_offer();
    expect(agent_offer_encode(&o, "[1]", NULL, &body, &len, &e), ST_INVALID, &e,
           "outcome table");
    expect(agent_offer_encode(&o, outcomes, "{\"x\":", &body, &len, &e),
           ST_INVALID, &e, "task view");
}

static void test_notice_round_trip(void **state)
{
    agent_notice n;
    char *body = NULL;
    size_t len = 0;
    err e = {0};

    (void)state;
    assert_int_equal(
        agent_notice_encode(9001, "accepted_elsewhere", &body, &len, &e),
        ST_OK);
    assert_string_equal(body, "{\"type\":\"rescinded\",\"reservation_id\":9001,"
                              "\"reason\":\"accepted_elsewhere\"}");
    assert_int_equal(agent_notice_parse(body, len, &n, &e), ST_OK);
    assert_int_equal(n.type, AGENT_NOTICE_RESCINDED);
    assert_int_equal(n.reservation_id, 9001);
    assert_string_equal(n.reason, "accepted_elsewhere");
    free(body);
    expect(agent_notice_encode(1, "no \"quotes\"", &body, &len, &e), ST_INVALID,
           &e, "identifier");
}

static void test_presence_heartbeat(void **state)
{
    agent_presence_req p;
    agent_heartbeat hb;
    agent_reply r;
    char *body = NULL;
    size_t len = 0;
    char big[AGENT_MSG_MAX + 16];
    err e = {0};

    (void)state;
    assert_int_equal(agent_msg_presence("break", &body, &len, &e), ST_OK);
    assert_int_equal(agent_msg_presence_decode(body, len, &p, &e), ST_OK);
    assert_int_equal(p.presence, AGENT_PRESENCE_BREAK);
    assert_false(p.has_signin);
    assert_false(p.takeover);
    free(body);
    assert_int_equal(agent_reply_presence(p.presence, NULL, &body, &len, &e),
                     ST_OK);
    assert_string_equal(body, "{\"ok\":true,\"presence\":\"break\"}");
    assert_int_equal(agent_reply_parse(body, len, &r, &e), ST_OK);
    assert_true(r.ok);
    assert_string_equal(r.presence, "break");
    assert_int_equal(r.nslots, 0);
    free(body);

    expect(agent_msg_presence_decode(B("{\"presence\":1}"), &p, &e),
           ST_WRONG_TYPE, &e, "request.presence must be a string");
    expect(agent_msg_presence_decode(B("{\"presence\":\"asleep\"}"), &p, &e),
           ST_INVALID, &e, "not \"asleep\"");
    expect(agent_msg_presence_decode(B("{}"), &p, &e), ST_MISSING_FIELD, &e,
           "\"presence\"");
    expect(agent_msg_presence_decode(B("{\"presence\":\"break\",\"x\":1}"), &p,
                                     &e),
           ST_UNKNOWN_FIELD, &e, "unknown field \"x\"");

    assert_int_equal(agent_msg_heartbeat(&body, &len, &e), ST_OK);
    assert_int_equal(agent_msg_heartbeat_decode(body, len, &hb, &e), ST_OK);
    assert_string_equal(hb.session_id, "");
    free(body);
    assert_int_equal(agent_msg_heartbeat_decode(B(""), NULL, &e), ST_OK);
    expect(agent_msg_heartbeat_decode(B("{\"beat\":1}"), &hb, &e),
           ST_UNKNOWN_FIELD, &e, "\"beat\"");
    memset(big, ' ', sizeof(big));
    big[0] = '{';
    big[sizeof(big) - 1] = '}';
    expect(agent_msg_heartbeat_decode(big, sizeof(big), &hb, &e), ST_TOO_LARGE,
           &e, "16384");
    assert_int_equal(agent_reply_ok(&body, &len, &e), ST_OK);
    assert_string_equal(body, "{\"ok\":true}");
    free(body);
}

/* Sessions: the sign-in with presence, the session id with heartbeats,
 * the slots in the presence reply and the notice that a session was
 * replaced; each decoding error names the member. */
static void test_sessions(void **state)
{
    agent_presence_req q, p;
    agent_heartbeat hb;
    agent_notice n;
    agent_reply r;
    char *body = NULL;
    size_t len = 0;
    err e = {0};

    (void)state;
    memset(&q, 0, sizeof(q));
    q.presence = AGENT_PRESENCE_AVAILABLE;
    q.has_signin = true;
    snprintf(q.signin.id, sizeof(q.signin.id), "3f9ac2d17e5b4a60");
    snprintf(q.signin.host, sizeof(q.signin.host), "desk-12.example");
    q.signin.pid = 4242;
    q.takeover = true;
    assert_int_equal(agent_msg_presence_req(&q, &body, &len, &e), ST_OK);
    assert_string_equal(body, "{\"presence\":\"available\",\"session\":{"
                              "\"id\":\"3f9ac2d17e5b4a60\",\"host\":"
                              "\"desk-12.example\",\"pid\":4242},"
                              "\"takeover\":true}");
    assert_int_equal(agent_msg_presence_decode(body, len, &p, &e), ST_OK);
    assert_true(p.has_signin && p.takeover);
    assert_string_equal(p.signin.id, "3f9ac2d17e5b4a60");
    assert_string_equal(p.signin.host, "desk-12.example");
    assert_int_equal(p.signin.pid, 4242);
    free(body);
    q.takeover = false;
    assert_int_equal(agent_msg_presence_req(&q, &body, &len, &e), ST_OK);
    assert_null(strstr(body, "takeover"));
    free(body);
    snprintf(q.signin.host, sizeof(q.signin.host), "two words");
    expect(agent_msg_presence_req(&q, &body, &len, &e), ST_INVALID, &e,
           "session.host must be 1-64 printable ASCII characters");
    expect(agent_msg_presence_decode(
               B("{\"presence\":\"available\",\"session\":{\"id\":\"a b\","
                 "\"host\":\"h\",\"pid\":1}}"),
               &p, &e),
           ST_INVALID, &e, "request.session.id");
    expect(agent_msg_presence_decode(
               B("{\"presence\":\"available\",\"session\":{\"id\":\"s1\","
                 "\"host\":\"h\\u001b[2J\",\"pid\":1}}"),
               &p, &e),
           ST_INVALID, &e, "request.session.host");
    expect(agent_msg_presence_decode(
               B("{\"presence\":\"available\",\"session\":{\"id\":\"s1\","
                 "\"host\":\"h\",\"pid\":0}}"),
               &p, &e),
           ST_INVALID, &e, "request.session.pid must be from 1");
    expect(agent_msg_presence_decode(
               B("{\"presence\":\"available\",\"session\":{\"id\":\"s1\","
                 "\"host\":\"h\"}}"),
               &p, &e),
           ST_MISSING_FIELD, &e, "\"pid\"");
    expect(agent_msg_presence_decode(
               B("{\"presence\":\"available\",\"session\":{\"id\":\"s1\","
                 "\"host\":\"h\",\"pid\":1,\"user\":\"x\"}}"),
               &p, &e),
           ST_UNKNOWN_FIELD, &e, "\"user\"");
    expect(agent_msg_presence_decode(
               B("{\"presence\":\"available\",\"takeover\":1}"), &p, &e),
           ST_WRONG_TYPE, &e, "takeover");

    assert_int_equal(agent_msg_heartbeat_session("s1", &body, &len, &e), ST_OK);
    assert_string_equal(body, "{\"session_id\":\"s1\"}");
    assert_int_equal(agent_msg_heartbeat_decode(body, len, &hb, &e), ST_OK);
    assert_string_equal(hb.session_id, "s1");
    free(body);
    expect(agent_msg_heartbeat_session("s 1", &body, &len, &e), ST_INVALID, &e,
           "session id");
    expect(agent_msg_heartbeat_decode(B("{\"session_id\":\"a.b\"}"), &hb, &e),
           ST_INVALID, &e, "session_id");

    assert_int_equal(agent_reply_presence(AGENT_PRESENCE_AVAILABLE,
                                          "{\"chat\":3,\"voice\":1}", &body,
                                          &len, &e),
                     ST_OK);
    assert_string_equal(body, "{\"ok\":true,\"presence\":\"available\","
                              "\"slots\":{\"chat\":3,\"voice\":1}}");
    assert_int_equal(agent_reply_parse(body, len, &r, &e), ST_OK);
    assert_int_equal(r.nslots, 2);
    assert_string_equal(r.slot_channel[0], "chat");
    assert_int_equal(r.slot_count[0], 3);
    assert_string_equal(r.slot_channel[1], "voice");
    assert_int_equal(r.slot_count[1], 1);
    free(body);
    expect(
        agent_reply_presence(AGENT_PRESENCE_AVAILABLE, "[1]", &body, &len, &e),
        ST_INVALID, &e, "slots");

    q.takeover = false;
    snprintf(q.signin.host, sizeof(q.signin.host), "desk-7");
    assert_int_equal(agent_notice_session_encode("old1", &q.signin,
                                                 "2026-11-26T09:14:03Z", &body,
                                                 &len, &e),
                     ST_OK);
    assert_string_equal(body, "{\"type\":\"session_replaced\",\"session_id\":"
                              "\"old1\",\"by\":{\"id\":\"3f9ac2d17e5b4a60\","
                              "\"host\":\"desk-7\",\"pid\":4242,\"since\":"
                              "\"2026-11-26T09:14:03Z\"}}");
    assert_int_equal(agent_notice_parse(body, len, &n, &e), ST_OK);
    assert_int_equal(n.type, AGENT_NOTICE_SESSION_REPLACED);
    assert_string_equal(n.session_id, "old1");
    assert_true(n.has_by);
    assert_string_equal(n.by.host, "desk-7");
    assert_int_equal(n.by.pid, 4242);
    assert_string_equal(n.by_since, "2026-11-26T09:14:03Z");
    free(body);
    assert_int_equal(
        agent_notice_session_encode("old1", NULL, NULL, &body, &len, &e),
        ST_OK);
    assert_string_equal(body, "{\"type\":\"session_replaced\",\"session_id\":"
                              "\"old1\"}");
    assert_int_equal(agent_notice_parse(body, len, &n, &e), ST_OK);
    assert_false(n.has_by);
    free(body);
    expect(agent_notice_parse(B("{\"type\":\"session_replaced\"}"), &n, &e),
           ST_INVALID, &e, "notice.session_id");
    expect(agent_notice_parse(B("{\"type\":\"session_replaced\",\"session_id\":"
                                "\"s\",\"by\":{\"id\":\"x\",\"host\":\"\","
                                "\"pid\":3}}"),
                              &n, &e),
           ST_INVALID, &e, "notice.by.host");
}

/* A heartbeat naming what the agent holds, and the reply naming what the
 * dispatcher has no record of. */
static void test_heartbeat_held(void **state)
{
    int64_t held[AGENT_HELD_MAX + 1], unknown[AGENT_HELD_MAX];
    agent_heartbeat hb;
    char *body = NULL;
    size_t len;
    int n = 0;
    err e = {0};

    (void)state;
    held[0] = 17;
    held[1] = 42;
    assert_int_equal(agent_msg_heartbeat_held(held, 2, &body, &len, &e), ST_OK);
    assert_string_equal(body, "{\"held\":[17,42]}");
    assert_int_equal(agent_msg_heartbeat_decode(body, len, &hb, &e), ST_OK);
    free(body);
    assert_true(hb.has_held);
    assert_int_equal(hb.nheld, 2);
    assert_int_equal(hb.held[1], 42);
    /* Nothing held is a statement too; no "held" says nothing. */
    assert_int_equal(agent_msg_heartbeat_decode(B("{\"held\":[]}"), &hb, &e),
                     ST_OK);
    assert_true(hb.has_held);
    assert_int_equal(hb.nheld, 0);
    assert_int_equal(agent_msg_heartbeat_decode(B("{}"), &hb, &e), ST_OK);
    assert_false(hb.has_held);
    /* A signed-in agent's heartbeat names its session and what it holds. */
    assert_int_equal(agent_msg_heartbeat_decode(
                         B("{\"session_id\":\"s1\",\"held\":[5]}"), &hb, &e),
                     ST_OK);
    assert_string_equal(hb.session_id, "s1");
    assert_true(hb.has_held);
    assert_int_equal(hb.held[0], 5);
    expect(agent_msg_heartbeat_decode(B("{\"held\":[1,-2]}"), &hb, &e),
           ST_INVALID, &e, "request.held[1] must be a reservation id");
    expect(agent_msg_heartbeat_decode(B("{\"held\":[\"7\"]}"), &hb, &e),
           ST_INVALID, &e, "request.held[0]");
    expect(agent_msg_heartbeat_decode(B("{\"held\":3}"), &hb, &e),
           ST_WRONG_TYPE, &e, "request.held");
    for (int i = 0; i <= AGENT_HELD_MAX; i++)
        held[i] = i + 1;
    expect(agent_msg_heartbeat_held(held, AGENT_HELD_MAX + 1, &body, &len, &e),
           ST_TOO_LARGE, &e, "at most 64");

    assert_int_equal(agent_reply_heartbeat(NULL, 0, &body, &len, &e), ST_OK);
    assert_string_equal(body, "{\"ok\":true}");
    free(body);
    held[0] = 99;
    assert_int_equal(agent_reply_heartbeat(held, 1, &body, &len, &e), ST_OK);
    assert_string_equal(body, "{\"ok\":true,\"unknown\":[99]}");
    assert_int_equal(agent_reply_heartbeat_parse(body, len, unknown, &n, &e),
                     ST_OK);
    free(body);
    assert_int_equal(n, 1);
    assert_int_equal(unknown[0], 99);
}

static void test_accept_reject(void **state)
{
    agent_offer o = sample_offer();
    agent_answer a;
    agent_reply r;
    agent_task t;
    char *body = NULL;
    size_t len = 0;
    err e = {0};

    (void)state;
    assert_int_equal(agent_msg_accept(&o, &body, &len, &e), ST_OK);
    assert_int_equal(agent_msg_accept_decode(body, len, &a, &e), ST_OK);
    assert_int_equal(a.reservation_id, 9001);
    assert_int_equal(a.epoch, 3);
    assert_string_equal(a.reason, "");
    free(body);
    assert_int_equal(agent_msg_reject(&o, "language", &body, &len, &e), ST_OK);
    assert_int_equal(agent_msg_reject_decode(body, len, &a, &e), ST_OK);
    assert_string_equal(a.reason, "language");
    /* An accept carries no reason. */
    expect(agent_msg_accept_decode(body, len, &a, &e), ST_UNKNOWN_FIELD, &e,
           "unknown field \"reason\"");
    free(body);

    expect(agent_msg_accept_decode(B("{\"reservation_id\":\"1\",\"epoch\":1}"),
                                   &a, &e),
           ST_WRONG_TYPE, &e, "request.reservation_id must be an integer");
    expect(agent_msg_accept_decode(B("{\"epoch\":1}"), &a, &e),
           ST_MISSING_FIELD, &e, "\"reservation_id\"");
    expect(agent_msg_accept_decode(B("{\"reservation_id\":-4,\"epoch\":1}"), &a,
                                   &e),
           ST_INVALID, &e, "positive integers");
    {
        char reason[300], req[400];
        memset(reason, 'x', sizeof(reason) - 1);
        reason[sizeof(reason) - 1] = '\0';
        snprintf(req, sizeof(req),
                 "{\"reservation_id\":1,\"epoch\":1,\"reason\":\"%s\"}",
                 reason);
        expect(agent_msg_reject_decode(req, strlen(req), &a, &e), ST_INVALID,
               &e, "longer than 200");
    }

    assert_int_equal(
        agent_reply_task("{\"reservation_id\" : 9001, \"epoch\" : 3,"
                         " \"task_id\" : 101, \"case_id\" : 42, \"tenant\" :"
                         " \"jsbank\", \"case_type\" : \"loan\", \"step\" :"
                         " \"contact\"}",
                         &body, &len, &e),
        ST_OK);
    {
        static const char head[] =
            "{\"ok\":true,\"task\":{\"reservation_id\" :";
        assert_int_equal(strncmp(body, head, sizeof(head) - 1), 0);
    }
    assert_int_equal(agent_reply_parse(body, len, &r, &e), ST_OK);
    assert_true(r.ok);
    assert_int_equal(agent_task_parse(body, len, &t, &e), ST_OK);
    assert_int_equal(t.epoch, 3);
    assert_string_equal(t.case_type, "loan");
    free(body);
    expect(agent_task_parse(B("{\"ok\":true}"), &t, &e), ST_MISSING_FIELD, &e,
           "\"task\"");
}

static void test_complete(void **state)
{
    agent_offer o = sample_offer();
    agent_outcome oc;
    agent_completion c;
    agent_reply r;
    char *body = NULL;
    size_t len = 0;
    err e = {0};

    (void)state;
    assert_int_equal(agent_offer_encode(&o, outcomes, NULL, &body, &len, &e),
                     ST_OK);
    assert_int_equal(agent_offer_parse(body, len, &o, &e), ST_OK);
    free(body);
    memset(&oc, 0, sizeof(oc));
    oc.index = 0;
    oc.nvalues = 2;
    oc.values[0].type = AGENT_FIELD_AMOUNT;
    oc.values[0].i = 500000;
    oc.values[1].type = AGENT_FIELD_DATE;
    strcpy(oc.values[1].s, "2026-12-05");
    assert_int_equal(
        agent_msg_complete_confidence(&o, &oc, 850, &body, &len, &e), ST_OK);
    assert_int_equal(agent_msg_complete_decode(body, len, &c, &e), ST_OK);
    assert_int_equal(c.reservation_id, 9001);
    assert_int_equal(c.epoch, 3);
    assert_string_equal(c.code, "promise_to_pay");
    assert_int_equal(c.confidence, 850);
    assert_string_equal(
        c.fields_json, "{\"amount_minor\":500000,\"due_date\":\"2026-12-05\"}");
    assert_int_equal(
        json_integer_value(json_object_get(c.fields, "amount_minor")), 500000);
    agent_completion_release(&c);
    free(body);

    oc.index = 1;
    oc.nvalues = 0;
    assert_int_equal(agent_msg_complete(&o, &oc, &body, &len, &e), ST_OK);
    assert_int_equal(agent_msg_complete_decode(body, len, &c, &e), ST_OK);
    assert_string_equal(c.code, "no_contact");
    assert_int_equal(c.confidence, -1);
    assert_string_equal(c.fields_json, "{}");
    agent_completion_release(&c);
    free(body);

    expect(
        agent_msg_complete_decode(
            B("{\"reservation_id\":1,\"epoch\":1,\"outcome\":\"x\"}"), &c, &e),
        ST_WRONG_TYPE, &e, "request.outcome must be an object");
    expect(
        agent_msg_complete_decode(B("{\"reservation_id\":1,\"epoch\":1,"
                                    "\"outcome\":{\"code\":\"a\",\"why\":1}}"),
                                  &c, &e),
        ST_UNKNOWN_FIELD, &e, "in request.outcome");
    expect(agent_msg_complete_decode(B("{\"reservation_id\":1,\"epoch\":1,"
                                       "\"outcome\":{}}"),
                                     &c, &e),
           ST_MISSING_FIELD, &e, "\"code\"");
    expect(agent_msg_complete_decode(B("{\"reservation_id\":1,\"epoch\":1,"
                                       "\"outcome\":{\"code\":\"a\"},"
                                       "\"confidence\":1001}"),
                                     &c, &e),
           ST_INVALID, &e, "0 to 1000");

    assert_int_equal(agent_reply_complete(77, true, false, &body, &len, &e),
                     ST_OK);
    assert_string_equal(body,
                        "{\"ok\":true,\"outcome_id\":77,\"billable\":true,"
                        "\"duplicate\":false}");
    assert_int_equal(agent_reply_parse(body, len, &r, &e), ST_OK);
    assert_int_equal(r.outcome_id, 77);
    assert_true(r.billable);
    assert_false(r.duplicate);
    free(body);
}

static void test_feedback(void **state)
{
    agent_offer o = sample_offer();
    agent_feedback_event ev[2] = {{"passage:12", "shown"}, {"reply", "used"}};
    static agent_feedback f;
    agent_reply r;
    char *body = NULL;
    size_t len = 0;
    err e = {0};

    (void)state;
    assert_int_equal(agent_msg_feedback(&o, ev, 2, &body, &len, &e), ST_OK);
    assert_int_equal(agent_msg_feedback_decode(body, len, &f, &e), ST_OK);
    assert_int_equal(f.task_id, 101);
    assert_int_equal(f.reservation_id, 9001);
    assert_int_equal(f.nevents, 2);
    assert_string_equal(f.events[0].suggestion, "passage:12");
    assert_string_equal(f.kinds[0], "passage");
    assert_string_equal(f.events[1].action, "used");
    assert_string_equal(f.kinds[1], "reply");
    free(body);

    expect(agent_msg_feedback_decode(
               B("{\"task_id\":1,\"reservation_id\":1,\"events\":[]}"), &f, &e),
           ST_INVALID, &e, "1 to 64 events");
    expect(
        agent_msg_feedback_decode(
            B("{\"task_id\":1,\"reservation_id\":1,\"events\":[1]}"), &f, &e),
        ST_WRONG_TYPE, &e, "request.events[0] must be an object");
    expect(agent_msg_feedback_decode(
               B("{\"task_id\":1,\"reservation_id\":1,\"events\":"
                 "[{\"suggestion\":\"passage:\",\"action\":\"used\"}]}"),
               &f, &e),
           ST_INVALID, &e, "request.events[0].suggestion");
    expect(agent_msg_feedback_decode(
               B("{\"task_id\":1,\"reservation_id\":1,\"events\":"
                 "[{\"suggestion\":\"reply\",\"action\":\"liked\"}]}"),
               &f, &e),
           ST_INVALID, &e, "not \"liked\"");
    expect(agent_msg_feedback_decode(B("{\"task_id\":0,\"reservation_id\":1,"
                                       "\"events\":[]}"),
                                     &f, &e),
           ST_INVALID, &e, "positive integers");

    assert_int_equal(agent_reply_feedback(3, &body, &len, &e), ST_OK);
    assert_string_equal(body, "{\"ok\":true,\"stored\":3}");
    assert_int_equal(agent_reply_parse(body, len, &r, &e), ST_OK);
    assert_int_equal(r.stored, 3);
    free(body);
}

/* accept_many and complete_many wrap single requests; their items decode
 * with the single decoders, and the limits are refused as a whole. */
static void test_many(void **state)
{
    agent_offer o = sample_offer();
    agent_answer a;
    agent_completion c;
    agent_outcome oc;
    many_list l = {0};
    char *items[2] = {NULL, NULL}, *body = NULL, *big;
    size_t len = 0, at;
    err e = {0};

    (void)state;
    assert_int_equal(agent_msg_accept(&o, &items[0], &len, &e), ST_OK);
    o.reservation_id = 9002;
    assert_int_equal(agent_msg_accept(&o, &items[1], &len, &e), ST_OK);
    assert_int_equal(agent_msg_accept_many(items, 2, &body, &len, &e), ST_OK);
    assert_int_equal(agent_msg_accept_many_decode(body, len, &l, &e), ST_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(agent_msg_accept_decode(l.text[1], l.len[1], &a, &e),
                     ST_OK);
    assert_int_equal(a.reservation_id, 9002);
    assert_int_equal(a.epoch, 3);
    many_list_release(&l);
    /* The accepts' member is not the completions'. */
    expect(agent_msg_complete_many_decode(body, len, &l, &e), ST_UNKNOWN_FIELD,
           &e, "accepts");
    free(body);
    free(items[0]);
    free(items[1]);

    assert_int_equal(agent_offer_encode(&o, outcomes, NULL, &body, &len, &e),
                     ST_OK);
    assert_int_equal(agent_offer_parse(body, len, &o, &e), ST_OK);
    free(body);
    memset(&oc, 0, sizeof(oc));
    oc.index = 1; /* no_contact, no fields */
    assert_int_equal(agent_msg_complete(&o, &oc, &items[0], &len, &e), ST_OK);
    assert_int_equal(agent_msg_complete_many(items, 1, &body, &len, &e), ST_OK);
    assert_int_equal(agent_msg_complete_many_decode(body, len, &l, &e), ST_OK);
    assert_int_equal(agent_msg_complete_decode(l.text[0], l.len[0], &c, &e),
                     ST_OK);
    assert_string_equal(c.code, "no_contact");
    assert_int_equal(c.reservation_id, 9002);
    agent_completion_release(&c);
    many_list_release(&l);
    free(body);
    free(items[0]);

    expect(agent_msg_accept_many_decode(B("{\"accepts\":[]}"), &l, &e),
           ST_INVALID, &e, "request.accepts is empty");
    expect(agent_msg_complete_many_decode(B("{\"completions\":7}"), &l, &e),
           ST_WRONG_TYPE, &e, "completions");
    big = malloc(32 + 3 * (AGENT_MANY_MAX + 1));
    assert_non_null(big);
    at = (size_t)sprintf(big, "{\"accepts\":[");
    for (int i = 0; i <= AGENT_MANY_MAX; i++)
        at += (size_t)sprintf(big + at, "%s{}", i > 0 ? "," : "");
    at += (size_t)sprintf(big + at, "]}");
    expect(agent_msg_accept_many_decode(big, at, &l, &e), ST_TOO_LARGE, &e,
           "request.accepts has 65 items, more than the 64");
    free(big);
    assert_int_equal(agent_msg_accept_many(items, 0, &body, &len, &e),
                     ST_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offer_round_trip),
        cmocka_unit_test(test_offer_auto_accepted),
        cmocka_unit_test(test_notice_round_trip),
        cmocka_unit_test(test_presence_heartbeat),
        cmocka_unit_test(test_sessions),
        cmocka_unit_test(test_heartbeat_held),
        cmocka_unit_test(test_accept_reject),
        cmocka_unit_test(test_complete),
        cmocka_unit_test(test_feedback),
        cmocka_unit_test(test_many),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
