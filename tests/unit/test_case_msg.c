/*
 * Unit tests of contracts/case_msg: the bank API's requests and replies
 * (submit, get, reopen/complaint) and the operator's task priority
 * round-trip through their encoders and decoders, and each decoding error
 * gives the documented code and a message naming the member.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_msg.h"
#include "jsonx.h"
#include "tl_test.h"

/* A string literal and its length, as a decoder takes a body. */
#define B(s) s, sizeof(s) - 1

static void expect(status got, status want, const err *e, const char *needle)
{
    assert_int_equal(got, want);
    if (strstr(e->msg, needle) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", e->msg, needle);
}

/* A case object as the database prints it. */
static const char case_json[] =
    "{\"id\" : 42, \"external_id\" : \"LN-1\", \"case_type\" : \"loan\","
    " \"state\" : \"open\", \"priority\" : 3, \"playbook_version\" : 2,"
    " \"created_at\" : \"2026-11-25T21:30:00.123+00:00\", \"closed_at\" : "
    "null}";

static void test_submit_round_trip(void **state)
{
    case_submit s, back;
    case_reply r;
    char *body = NULL;
    size_t len = 0;
    err e = {0};

    (void)state;
    memset(&s, 0, sizeof(s));
    strcpy(s.external_id, "LN-2026-000123");
    strcpy(s.case_type, "loan_overdue");
    s.priority = 5;
    s.customer = "{\"name\":\"王伟\"}";
    s.payload = "{\"days_past_due\":35}";
    assert_int_equal(case_msg_submit_encode(&s, &body, &len, &e), ST_OK);
    assert_int_equal(case_msg_submit_decode(body, len, &back, &e), ST_OK);
    assert_string_equal(back.external_id, "LN-2026-000123");
    assert_string_equal(back.case_type, "loan_overdue");
    assert_int_equal(back.priority, 5);
    assert_string_equal(back.customer, "{\"name\":\"王伟\"}");
    assert_string_equal(back.payload, "{\"days_past_due\":35}");
    case_submit_release(&back);
    free(body);

    /* Without customer and payload they decode as empty objects. */
    s.customer = s.payload = NULL;
    s.priority = 0;
    assert_int_equal(case_msg_submit_encode(&s, &body, &len, &e), ST_OK);
    assert_int_equal(case_msg_submit_decode(body, len, &back, &e), ST_OK);
    assert_string_equal(back.customer, "{}");
    assert_string_equal(back.payload, "{}");
    case_submit_release(&back);
    free(body);

    assert_int_equal(case_msg_submit_reply(true, case_json, &body, &len, &e),
                     ST_OK);
    /* The case is sent exactly as the database built it. */
    {
        static const char head[] = "{\"ok\":true,\"created\":true,\"case\":";
        assert_int_equal(strncmp(body, head, sizeof(head) - 1), 0);
    }
    assert_non_null(strstr(body, case_json));
    assert_int_equal(case_msg_reply_decode(body, len, &r, &e), ST_OK);
    assert_true(r.ok);
    assert_true(r.created);
    assert_int_equal(r.id, 42);
    assert_string_equal(r.external_id, "LN-1");
    assert_string_equal(r.state, "open");
    assert_int_equal(r.priority, 3);
    assert_int_equal(r.playbook_version, 2);
    free(body);
    expect(case_msg_submit_reply(false, "null", &body, &len, &e), ST_INVALID,
           &e, "JSON object");
}

static void test_submit_errors(void **state)
{
    case_submit s;
    char big[CASE_SUBMIT_MAX + 64];
    err e = {0};

    (void)state;
    expect(case_msg_submit_decode(B("{\"external_id\": "), &s, &e), ST_BAD_JSON,
           &e, "invalid JSON");
    expect(case_msg_submit_decode(B("[1,2]"), &s, &e), ST_WRONG_TYPE, &e,
           "object");
    expect(
        case_msg_submit_decode(
            B("{\"external_id\":\"X1\",\"case_type\":\"loan\",\"amount\":5}"),
            &s, &e),
        ST_UNKNOWN_FIELD, &e,
        "unknown field \"amount\" in request; allowed: external_id, "
        "case_type, priority, customer, payload");
    expect(case_msg_submit_decode(B("{\"case_type\":\"loan\"}"), &s, &e),
           ST_MISSING_FIELD, &e, "\"external_id\"");
    expect(case_msg_submit_decode(
               B("{\"external_id\":7,\"case_type\":\"loan\"}"), &s, &e),
           ST_WRONG_TYPE, &e, "request.external_id must be a string");
    expect(case_msg_submit_decode(B("{\"external_id\":\"X2\",\"case_type\":"
                                    "\"loan\",\"priority\":12}"),
                                  &s, &e),
           ST_INVALID, &e, "between 0 and 9, not 12");
    expect(case_msg_submit_decode(B("{\"external_id\":\"\",\"case_type\":"
                                    "\"loan\"}"),
                                  &s, &e),
           ST_INVALID, &e, "1-128 characters");
    expect(case_msg_submit_decode(B("{\"external_id\":\"a\\u0001\","
                                    "\"case_type\":\"loan\"}"),
                                  &s, &e),
           ST_INVALID, &e, "control characters");
    expect(case_msg_submit_decode(B("{\"external_id\":\"X\",\"case_type\":"
                                    "\"lo an\"}"),
                                  &s, &e),
           ST_INVALID, &e, "request.case_type");
    memset(big, ' ', sizeof(big));
    memcpy(big, "{\"external_id\":\"X5\",\"case_type\":\"loan\"}", 39);
    expect(case_msg_submit_decode(big, sizeof(big), &s, &e), ST_TOO_LARGE, &e,
           "65536");
}

static void test_get_round_trip(void **state)
{
    case_ref ref = {0}, back;
    case_reply r;
    char *body = NULL;
    size_t len = 0;
    err e = {0};
    const char *with_tasks =
        "{\"id\" : 42, \"external_id\" : \"LN-1\", \"state\" : \"closed\","
        " \"tasks\" : [{\"id\" : 101, \"step\" : \"contact\", \"state\" :"
        " \"completed\", \"worker\" : \"w007\", \"outcome\" : {\"code\" :"
        " \"promise_to_pay\", \"fields\" : {}}}, {\"id\" : 102, \"step\" :"
        " \"legal\", \"state\" : \"skipped\", \"worker\" : null, \"outcome\""
        " : null}]}";

    (void)state;
    ref.case_id = 42;
    assert_int_equal(case_msg_get_encode(&ref, &body, &len, &e), ST_OK);
    assert_string_equal(body, "{\"case_id\":42}");
    assert_int_equal(case_msg_get_decode(body, len, &back, &e), ST_OK);
    assert_int_equal(back.case_id, 42);
    assert_string_equal(back.external_id, "");
    free(body);
    ref.case_id = 0;
    strcpy(ref.external_id, "LN-1");
    assert_int_equal(case_msg_get_encode(&ref, &body, &len, &e), ST_OK);
    assert_int_equal(case_msg_get_decode(body, len, &back, &e), ST_OK);
    assert_int_equal(back.case_id, 0);
    assert_string_equal(back.external_id, "LN-1");
    free(body);

    expect(case_msg_get_decode(B("{}"), &back, &e), ST_MISSING_FIELD, &e,
           "exactly one of case_id or external_id");
    expect(case_msg_get_decode(B("{\"case_id\":1,\"external_id\":\"a\"}"),
                               &back, &e),
           ST_INVALID, &e, "exactly one");
    expect(case_msg_get_decode(B("{\"case_id\":\"1\"}"), &back, &e),
           ST_WRONG_TYPE, &e, "request.case_id must be an integer");
    expect(case_msg_get_decode(B("{\"id\":1}"), &back, &e), ST_UNKNOWN_FIELD,
           &e, "unknown field \"id\"");
    expect(case_msg_get_decode(B("{\"external_id\":\"\"}"), &back, &e),
           ST_INVALID, &e, "1-128 characters");

    assert_int_equal(case_msg_get_reply(with_tasks, &body, &len, &e), ST_OK);
    assert_int_equal(case_msg_reply_decode(body, len, &r, &e), ST_OK);
    assert_false(r.created);
    assert_string_equal(r.state, "closed");
    assert_int_equal(r.ntasks, 2);
    assert_int_equal(r.tasks[0].id, 101);
    assert_string_equal(r.tasks[0].worker, "w007");
    assert_string_equal(r.tasks[0].outcome, "promise_to_pay");
    assert_string_equal(r.tasks[1].worker, "");
    assert_string_equal(r.tasks[1].outcome, "");
    free(body);

    /* Error replies decode with their code and message. */
    body = jsonx_error_reply(ST_NOT_FOUND, "tenant bank2 has no case 42");
    assert_int_equal(case_msg_reply_decode(body, strlen(body), &r, &e), ST_OK);
    assert_false(r.ok);
    assert_string_equal(r.code, "not_found");
    assert_string_equal(r.message, "tenant bank2 has no case 42");
    free(body);
    assert_int_equal(case_msg_reply_decode("", 0, &r, &e), ST_UNAVAILABLE);
}

static void test_dispute_round_trip(void **state)
{
    case_dispute d, back;
    case_dispute_reply r;
    char *body = NULL;
    size_t len = 0;
    char req[700], reason[520];
    err e = {0};
    const char *record =
        "{\"id\" : 3, \"case_id\" : 12, \"external_id\" : \"L-1\","
        " \"kind\" : \"reopen\", \"reason\" : \"not repaid\","
        " \"created_at\" : \"2025-11-10T09:00:00+00:00\"}";

    (void)state;
    memset(&d, 0, sizeof(d));
    strcpy(d.ref.external_id, "L-1");
    strcpy(d.reason, "customer says the loan was not repaid");
    strcpy(d.request_id, "crm-7781");
    assert_int_equal(case_msg_dispute_encode(&d, &body, &len, &e), ST_OK);
    assert_int_equal(case_msg_dispute_decode(body, len, &back, &e), ST_OK);
    assert_string_equal(back.ref.external_id, "L-1");
    assert_string_equal(back.reason, d.reason);
    assert_string_equal(back.request_id, "crm-7781");
    free(body);

    expect(case_msg_dispute_decode(B("{\"case_id\":1}"), &back, &e),
           ST_MISSING_FIELD, &e, "\"reason\"");
    expect(case_msg_dispute_decode(B("{\"case_id\":1,\"reason\":\"\"}"), &back,
                                   &e),
           ST_INVALID, &e, "1-500 characters, not 0");
    memset(reason, 'r', 501);
    reason[501] = '\0';
    snprintf(req, sizeof(req), "{\"case_id\":1,\"reason\":\"%s\"}", reason);
    expect(case_msg_dispute_decode(req, strlen(req), &back, &e), ST_INVALID, &e,
           "not 501");
    expect(case_msg_dispute_decode(
               B("{\"case_id\":1,\"reason\":\"x\",\"request_id\":\"a b\"}"),
               &back, &e),
           ST_INVALID, &e, "request.request_id");

    assert_int_equal(
        case_msg_dispute_reply(true, "reopen", record, &body, &len, &e), ST_OK);
    assert_int_equal(case_msg_dispute_reply_decode(body, len, &r, &e), ST_OK);
    assert_true(r.ok);
    assert_true(r.created);
    assert_string_equal(r.kind, "reopen");
    assert_int_equal(r.id, 3);
    assert_int_equal(r.case_id, 12);
    assert_string_equal(r.reason, "not repaid");
    free(body);
    expect(case_msg_dispute_reply(true, "appeal", record, &body, &len, &e),
           ST_INVALID, &e, "appeal");
}

static void test_priority_round_trip(void **state)
{
    case_task_priority p = {101, -7}, back = {0};
    char *body = NULL, code[48];
    size_t len = 0;
    bool ok = false;
    err e = {0};

    (void)state;
    assert_int_equal(case_msg_priority_encode(&p, &body, &len, &e), ST_OK);
    assert_int_equal(case_msg_priority_decode(body, len, &back, &e), ST_OK);
    assert_int_equal(back.task_id, 101);
    assert_int_equal(back.priority, -7);
    free(body);
    assert_int_equal(case_msg_priority_reply(&p, &body, &len, &e), ST_OK);
    assert_string_equal(body, "{\"ok\":true,\"task_id\":101,\"priority\":-7}");
    memset(&back, 0, sizeof(back));
    assert_int_equal(
        case_msg_priority_reply_decode(body, len, &ok, &back, code, &e), ST_OK);
    assert_true(ok);
    assert_int_equal(back.priority, -7);
    free(body);
    expect(case_msg_priority_decode(B("{\"task_id\":1,\"priority\":101}"),
                                    &back, &e),
           ST_INVALID, &e, "-100 to 100");
    expect(case_msg_priority_decode(B("{\"task_id\":1}"), &back, &e),
           ST_MISSING_FIELD, &e, "\"priority\"");
}

/* A submit_many round trip: its cases split into texts the single
 * decoder takes, and a bulk reply's results decode as single replies. */
static void test_submit_many_round_trip(void **state)
{
    case_submit s[2] = {{.external_id = "M-1",
                         .case_type = "loan",
                         .priority = 2,
                         .customer = "{\"name\":\"Li\"}",
                         .payload = NULL},
                        {.external_id = "M-2", .case_type = "card"}};
    case_submit back;
    case_reply r;
    many_list l = {0};
    char *body = NULL, *reply = NULL, *items[2];
    char code[48], message[256];
    size_t len = 0, rlen = 0;
    bool ok = false;
    err e = {0};

    (void)state;
    assert_int_equal(case_msg_submit_many_encode(s, 2, &body, &len, &e), ST_OK);
    assert_int_equal(case_msg_submit_many_decode(body, len, &l, &e), ST_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(case_msg_submit_decode(l.text[0], l.len[0], &back, &e),
                     ST_OK);
    assert_string_equal(back.external_id, "M-1");
    assert_int_equal(back.priority, 2);
    assert_string_equal(back.customer, "{\"name\":\"Li\"}");
    case_submit_release(&back);
    assert_int_equal(case_msg_submit_decode(l.text[1], l.len[1], &back, &e),
                     ST_OK);
    assert_string_equal(back.case_type, "card");
    case_submit_release(&back);
    many_list_release(&l);
    free(body);

    assert_int_equal(
        case_msg_submit_reply(true, case_json, &items[0], &len, &e), ST_OK);
    items[1] = jsonx_error_reply(ST_WRONG_TYPE, "request.payload.days must "
                                                "be an integer");
    assert_int_equal(many_msg_reply(items, 2, &reply, &rlen, &e), ST_OK);
    assert_int_equal(
        many_msg_reply_split(reply, rlen, &ok, code, message, &l, &e), ST_OK);
    assert_true(ok);
    assert_int_equal(l.n, 2);
    assert_int_equal(case_msg_reply_decode(l.text[0], l.len[0], &r, &e), ST_OK);
    assert_true(r.ok && r.created);
    assert_int_equal(r.id, 42);
    assert_int_equal(case_msg_reply_decode(l.text[1], l.len[1], &r, &e), ST_OK);
    assert_false(r.ok);
    assert_string_equal(r.code, "wrong_type");
    many_list_release(&l);
    free(reply);
    free(items[0]);
    free(items[1]);

    /* An error reply of the whole request. */
    reply = jsonx_error_reply(ST_TOO_LARGE, "request.cases has 1001 items");
    assert_int_equal(
        many_msg_reply_split(reply, strlen(reply), &ok, code, message, &l, &e),
        ST_OK);
    assert_false(ok);
    assert_string_equal(code, "too_large");
    free(reply);
}

/* Each error of the envelope gives its code and names request.cases. */
static void test_submit_many_errors(void **state)
{
    many_list l = {0};
    char *big;
    size_t at;
    err e = {0};

    (void)state;
    expect(case_msg_submit_many_decode(B("{\"cases\":[]}"), &l, &e), ST_INVALID,
           &e, "request.cases is empty");
    expect(case_msg_submit_many_decode(B("{\"cases\":{}}"), &l, &e),
           ST_WRONG_TYPE, &e, "cases");
    expect(case_msg_submit_many_decode(B("{}"), &l, &e), ST_MISSING_FIELD, &e,
           "cases");
    expect(case_msg_submit_many_decode(B("{\"cases\":[1],\"x\":1}"), &l, &e),
           ST_UNKNOWN_FIELD, &e, "x");
    expect(case_msg_submit_many_decode(B("[1]"), &l, &e), ST_WRONG_TYPE, &e,
           "");
    expect(case_msg_submit_many_decode(B("{\"cases\":[1"), &l, &e), ST_BAD_JSON,
           &e, "");
    /* One case more than the limit: refused as a whole. */
    big = malloc(16 + 3 * (CASE_MANY_MAX + 1));
    assert_non_null(big);
    at = (size_t)sprintf(big, "{\"cases\":[");
    for (int i = 0; i <= CASE_MANY_MAX; i++)
        at += (size_t)sprintf(big + at, "%s{}", i > 0 ? "," : "");
    at += (size_t)sprintf(big + at, "]}");
    expect(case_msg_submit_many_decode(big, at, &l, &e), ST_TOO_LARGE, &e,
           "request.cases has 1001 items, more than the 1000");
    free(big);
    /* A non-object item is the single decoder's to refuse. */
    assert_int_equal(
        case_msg_submit_many_decode(B("{\"cases\":[7,\"x\"]}"), &l, &e), ST_OK);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.text[0], "7");
    {
        case_submit sub;
        assert_int_not_equal(
            case_msg_submit_decode(l.text[0], l.len[0], &sub, &e), ST_OK);
    }
    many_list_release(&l);
    {
        case_submit none[1];
        char *out = NULL;
        size_t len;
        assert_int_equal(case_msg_submit_many_encode(none, 0, &out, &len, &e),
                         ST_INVALID);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submit_round_trip),
        cmocka_unit_test(test_submit_errors),
        cmocka_unit_test(test_get_round_trip),
        cmocka_unit_test(test_dispute_round_trip),
        cmocka_unit_test(test_priority_round_trip),
        cmocka_unit_test(test_submit_many_round_trip),
        cmocka_unit_test(test_submit_many_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
