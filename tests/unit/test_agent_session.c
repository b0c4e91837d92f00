/* Unit tests of agent_session: decoding offers, notices and replies,
 * encoding requests, the items a worker holds, and agent_options. */
/* cmocka needs these before its own header. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
/* clang-format on */

#include "agent_options.h"
#include "agent_session.h"

#define OFFER_HEAD                                                             \
    "{\"type\":\"offer\",\"reservation_id\":9001,\"epoch\":1,\"task_id\":101," \
    "\"case_id\":42,\"tenant\":\"jsbank\",\"case_type\":\"loan_overdue\","     \
    "\"step\":\"contact\",\"channel\":\"voice\",\"timeout_ms\":15000,"         \
    "\"ready_at_us\":1795642200123456,"

static const char good_offer[] =
    OFFER_HEAD "\"outcomes\":{\"promise_to_pay\":{\"billable\":true,"
               "\"fields\":{\"amount_minor\":\"amount_minor\",\"due_date\":"
               "\"date\"}},\"no_contact\":{\"billable\":false,\"fields\":{}}},"
               "\"future_member\":[1,2]}";

static void test_offer_parse(void **state)
{
    agent_offer o;
    err e = {0};

    (void)state;
    assert_int_equal(agent_offer_parse(good_offer, strlen(good_offer), &o, &e),
                     ST_OK);
    assert_int_equal(o.reservation_id, 9001);
    assert_int_equal(o.epoch, 1);
    assert_int_equal(o.task_id, 101);
    assert_int_equal(o.case_id, 42);
    assert_string_equal(o.tenant, "jsbank");
    assert_string_equal(o.case_type, "loan_overdue");
    assert_string_equal(o.step, "contact");
    assert_string_equal(o.channel, "voice");
    assert_int_equal(o.timeout_ms, 15000);
    assert_int_equal(o.ready_at_us, 1795642200123456LL);
    assert_int_equal(o.noutcomes, 2);
    assert_string_equal(o.outcomes[0].code, "promise_to_pay");
    assert_true(o.outcomes[0].billable);
    assert_int_equal(o.outcomes[0].nfields, 2);
    assert_string_equal(o.outcomes[0].fields[0].name, "amount_minor");
    assert_int_equal(o.outcomes[0].fields[0].type, AGENT_FIELD_AMOUNT);
    assert_string_equal(o.outcomes[0].fields[1].name, "due_date");
    assert_int_equal(o.outcomes[0].fields[1].type, AGENT_FIELD_DATE);
    assert_false(o.outcomes[1].billable);
    assert_int_equal(o.outcomes[1].nfields, 0);
}

static void expect_bad_offer(const char *body, status want, const char *needle)
{
    agent_offer o;
    err e = {0};

    assert_int_equal(agent_offer_parse(body, strlen(body), &o, &e), want);
    if (strstr(e.msg, needle) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", e.msg, needle);
}

static void test_offer_malformed(void **state)
{
    char big[AGENT_MSG_MAX + 64];

    (void)state;
    expect_bad_offer("", ST_BAD_JSON, "empty");
    expect_bad_offer("{\"type\":", ST_BAD_JSON, "invalid JSON");
    expect_bad_offer("[]", ST_WRONG_TYPE, "object");
    expect_bad_offer("{\"type\":\"notice\"}", ST_INVALID, "offer.type");
    expect_bad_offer(
        "{\"type\":\"offer\",\"epoch\":1,\"task_id\":1,\"case_id\":1}",
        ST_MISSING_FIELD, "reservation_id");
    expect_bad_offer("{\"type\":\"offer\",\"reservation_id\":\"9\"}",
                     ST_WRONG_TYPE, "offer.reservation_id must be an integer");
    expect_bad_offer("{\"type\":\"offer\",\"reservation_id\":0}", ST_INVALID,
                     "offer.reservation_id must be at least 1");
    expect_bad_offer(OFFER_HEAD "\"outcomes\":{}}", ST_INVALID, "expected 1");
    expect_bad_offer(OFFER_HEAD "\"outcomes\":[]}", ST_WRONG_TYPE,
                     "offer.outcomes must be an object");
    expect_bad_offer(OFFER_HEAD "\"outcomes\":{\"x\":{\"fields\":{\"f\":"
                                "\"money\"}}}}",
                     ST_INVALID, "offer.outcomes.x.fields.f must be one of");
    expect_bad_offer(OFFER_HEAD "\"outcomes\":{\"x\":{\"billable\":1}}}",
                     ST_WRONG_TYPE, "billable");
    expect_bad_offer(OFFER_HEAD "\"outcomes\":{\"x y\":{}}}", ST_INVALID,
                     "not an identifier");
    expect_bad_offer("{\"type\":\"offer\",\"reservation_id\":9001,\"epoch\":1,"
                     "\"task_id\":101,\"case_id\":42,\"tenant\":\"js bank\","
                     "\"case_type\":\"c\",\"step\":\"s\",\"channel\":\"voice\","
                     "\"timeout_ms\":15000,\"ready_at_us\":1,"
                     "\"outcomes\":{\"x\":{}}}",
                     ST_INVALID, "offer.tenant");
    expect_bad_offer("{\"type\":\"offer\",\"reservation_id\":9001,"
                     "\"epoch\":1,\"task_id\":101,\"case_id\":42,"
                     "\"tenant\":\"t\",\"case_type\":\"c\",\"step\":\"s\","
                     "\"channel\":\"voice\",\"ready_at_us\":1,",
                     ST_BAD_JSON, "invalid JSON");
    memset(big, ' ', sizeof(big) - 1);
    big[0] = '{';
    big[sizeof(big) - 2] = '}';
    big[sizeof(big) - 1] = '\0';
    expect_bad_offer(big, ST_TOO_LARGE, "limit");
}

static void test_notice_and_reply(void **state)
{
    agent_notice n;
    agent_reply r;
    err e = {0};
    const char *rescind =
        "{\"type\":\"rescinded\",\"reservation_id\":9001,\"reason\":"
        "\"timeout\"}";
    const char *stale = "{\"ok\":false,\"error\":{\"code\":"
                        "\"stale_reservation\",\"message\":\"too late\"}}";
    const char *news = "{\"type\":\"news\"}";
    const char *no_id = "{\"type\":\"rescinded\"}";
    const char *done = "{\"ok\":true,\"outcome_id\":77,\"billable\":true,"
                       "\"duplicate\":true}";

    (void)state;
    assert_int_equal(agent_notice_parse(rescind, strlen(rescind), &n, &e),
                     ST_OK);
    assert_int_equal(n.type, AGENT_NOTICE_RESCINDED);
    assert_int_equal(n.reservation_id, 9001);
    assert_string_equal(n.reason, "timeout");
    assert_int_equal(agent_notice_parse(news, strlen(news), &n, &e), ST_OK);
    assert_int_equal(n.type, AGENT_NOTICE_OTHER);
    assert_int_equal(agent_notice_parse(no_id, strlen(no_id), &n, &e),
                     ST_INVALID);

    assert_int_equal(agent_reply_parse(stale, strlen(stale), &r, &e), ST_OK);
    assert_false(r.ok);
    assert_string_equal(r.code, "stale_reservation");
    assert_string_equal(r.message, "too late");
    assert_int_equal(agent_reply_parse(done, strlen(done), &r, &e), ST_OK);
    assert_true(r.ok);
    assert_int_equal(r.outcome_id, 77);
    assert_true(r.duplicate);
    assert_int_equal(agent_reply_parse("", 0, &r, &e), ST_UNAVAILABLE);
    assert_int_equal(agent_reply_parse("{}", 2, &r, &e), ST_WRONG_TYPE);
}

static void test_messages(void **state)
{
    agent_offer o;
    char *body = NULL;
    size_t len = 0;
    char long_reason[400];
    err e = {0};

    (void)state;
    assert_int_equal(agent_offer_parse(good_offer, strlen(good_offer), &o, &e),
                     ST_OK);
    assert_int_equal(agent_msg_accept(&o, &body, &len, &e), ST_OK);
    assert_string_equal(body, "{\"reservation_id\":9001,\"epoch\":1}");
    assert_int_equal(len, strlen(body));
    free(body);
    memset(long_reason, 'x', sizeof(long_reason) - 1);
    long_reason[sizeof(long_reason) - 1] = '\0';
    assert_int_equal(agent_msg_reject(&o, long_reason, &body, &len, &e), ST_OK);
    assert_non_null(strstr(body, "\"reason\""));
    assert_true(len < 260); /* the reason was cut to 200 */
    free(body);
    assert_int_equal(agent_msg_presence("available", &body, &len, &e), ST_OK);
    assert_string_equal(body, "{\"presence\":\"available\"}");
    free(body);
    assert_int_equal(agent_msg_presence("asleep", &body, &len, &e), ST_INVALID);
    assert_int_equal(agent_msg_heartbeat(&body, &len, &e), ST_OK);
    assert_string_equal(body, "{}");
    free(body);
}

static void test_subjects(void **state)
{
    char buf[128], worker[ID_MAX + 1];
    err e = {0};

    (void)state;
    assert_int_equal(
        agent_subject(buf, sizeof(buf), "tl", "w007", "accept", &e), ST_OK);
    assert_string_equal(buf, "tl.agent.w007.accept");
    assert_int_equal(agent_subject(buf, 8, "tl", "w007", "accept", &e),
                     ST_INVALID);
    assert_string_equal(
        agent_inbound_parse("tl.worker.w007.offer", "tl", worker), "offer");
    assert_string_equal(worker, "w007");
    assert_null(agent_inbound_parse("tl.worker.w007", "tl", worker));
    assert_null(agent_inbound_parse("tx.worker.w007.offer", "tl", worker));
    assert_null(agent_inbound_parse("tl.worker.a.b.c", "tl", worker));
}

static void test_session_items(void **state)
{
    agent_session *s = NULL;
    agent_offer o;
    agent_item *it = NULL, *again = NULL;
    err e = {0};

    (void)state;
    assert_int_equal(agent_session_create(&s, "bad id", &e), ST_INVALID);
    assert_int_equal(agent_session_create(&s, "w001", &e), ST_OK);
    assert_string_equal(agent_session_worker(s), "w001");
    assert_int_equal(agent_session_presence(s), AGENT_PRESENCE_OFFLINE);
    assert_int_equal(agent_offer_parse(good_offer, strlen(good_offer), &o, &e),
                     ST_OK);
    for (int i = 0; i < 10; i++) {
        o.reservation_id = 100 + i;
        assert_int_equal(agent_session_offer_add(s, &o, 5, &it, &e), ST_OK);
        assert_int_equal(it->state, AGENT_ITEM_OFFERED);
    }
    assert_int_equal(agent_session_offer_add(s, &o, 5, &again, &e),
                     ST_CONFLICT);
    it = agent_session_find(s, 105);
    assert_non_null(it);
    assert_true(agent_session_remove(s, 100));
    assert_false(agent_session_remove(s, 100));
    /* Removing one item leaves the others where they were. */
    assert_ptr_equal(agent_session_find(s, 105), it);
    assert_int_equal(agent_session_count(s), 9);
    agent_session_destroy(s);
    agent_session_destroy(NULL);
}

static void expect_opts(int argc, char **argv, status want, const char *needle)
{
    agent_options o;
    err e = {0};

    assert_int_equal(agent_options_parse(&o, argc, argv, &e), want);
    if (needle != NULL && strstr(e.msg, needle) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", e.msg, needle);
    agent_options_free(&o);
}

static void test_options(void **state)
{
    agent_options o;
    err e = {0};
    char *good[] = {
        "a",    "--workers", "w1,w2", "--handle-ms=0", "--reject-rate",
        "0.25", "--prefix",  "t9",    "--seed",        "5"};
    char *rate[] = {"a", "--workers", "w1", "--reject-rate", "1.5"};
    char *none[] = {"a", "--handle-ms", "5"};
    char *badid[] = {"a", "--workers", "w1,w 2"};
    char *unknown[] = {"a", "--workers", "w1", "--fast"};
    char *novalue[] = {"a", "--workers"};
    char *jitter[] = {"a", "--workers", "w1", "--jitter", "101"};

    (void)state;
    assert_int_equal(agent_options_parse(&o, 10, good, &e), ST_OK);
    assert_int_equal(o.nworkers, 2);
    assert_string_equal(o.workers[1], "w2");
    assert_int_equal(o.handle_ms, 0);
    assert_true(o.reject_rate == 0.25);
    assert_string_equal(o.cfg.prefix, "t9");
    assert_int_equal(o.seed, 5);
    agent_options_free(&o);
    expect_opts(5, rate, ST_CONFIG, "--reject-rate must be between 0 and 1");
    expect_opts(3, none, ST_CONFIG, "no workers given");
    expect_opts(3, badid, ST_CONFIG, "w 2");
    expect_opts(4, unknown, ST_CONFIG, "unknown argument \"--fast\"");
    expect_opts(2, novalue, ST_CONFIG, "--workers needs a value");
    expect_opts(5, jitter, ST_CONFIG, "--jitter must be an integer");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offer_parse),
        cmocka_unit_test(test_offer_malformed),
        cmocka_unit_test(test_notice_and_reply),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_subjects),
        cmocka_unit_test(test_session_items),
        cmocka_unit_test(test_options),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
