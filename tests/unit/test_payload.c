/*
 * The payload schema (contracts/payload.h): what a playbook may declare,
 * every error a bank's submit can get with the JSON path in the message
 * and never a value of the case, and the split into the plain payload and
 * the sealed part, which the merge puts back together exactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "payload.h"
#include "tl_test.h"

/* A loan: plain fields, a personal note, a personal address, a plain
 * object with a personal field inside, and an array of objects. */
static const char *loan_schema =
    "{\"loan_id\": {\"type\": \"string\", \"max_length\": 12},"
    " \"product\": {\"type\": \"string\", \"values\": [\"car\", \"home\"]},"
    " \"days_past_due\": {\"type\": \"int\", \"min\": 0, \"max\": 3650},"
    " \"overdue_minor\": {\"type\": \"amount_minor\"},"
    " \"due\": {\"type\": \"date\", \"required\": false},"
    " \"secured\": {\"type\": \"bool\", \"required\": false},"
    " \"note\": {\"type\": \"string\", \"max_length\": 10, \"required\": false,"
    "            \"personal\": true},"
    " \"address\": {\"type\": \"object\", \"required\": false, \"personal\": "
    "true,"
    "   \"fields\": {\"city\": {\"type\": \"string\"}}},"
    " \"guarantor\": {\"type\": \"object\", \"required\": false, \"fields\": {"
    "   \"relation\": {\"type\": \"string\"},"
    "   \"name\": {\"type\": \"string\", \"personal\": true}}},"
    " \"payments\": {\"type\": \"array\", \"required\": false, \"max_items\": "
    "2,"
    "   \"items\": {\"type\": \"object\", \"fields\": {"
    "     \"amount_minor\": {\"type\": \"amount_minor\"}}}}}";

static const char *customer_schema =
    "{\"name\": {\"type\": \"string\", \"max_length\": 40},"
    " \"phone\": {\"type\": \"string\", \"required\": false}}";

static payload_schema *schema(const char *text, bool customer)
{
    json_t *v = json_loads(text, 0, NULL);
    payload_schema *s = NULL;
    err e = {0};

    assert_non_null(v);
    if (payload_schema_decode(v, "pb.payload", customer, &s, &e) != ST_OK)
        fail_msg("%s", e.msg);
    json_decref(v);
    return s;
}

/* Decode text as a schema and expect status want with part in the
 * message. */
static void bad_schema(const char *text, bool customer, status want,
                       const char *part)
{
    json_t *v = json_loads(text, 0, NULL);
    payload_schema *s = NULL;
    err e = {0};

    assert_non_null(v);
    assert_int_equal(payload_schema_decode(v, "pb.payload", customer, &s, &e),
                     want);
    assert_null(s);
    if (strstr(e.msg, part) == NULL)
        fail_msg("\"%s\" not in \"%s\"", part, e.msg);
    json_decref(v);
}

static void test_schema_errors(void **state)
{
    (void)state;
    bad_schema("{\"x\": {\"type\": \"text\"}}", false, ST_INVALID,
               "pb.payload.x.type: must be one of string, int");
    bad_schema("{\"x\": {}}", false, ST_MISSING_FIELD, "pb.payload.x: needs");
    bad_schema("{\"x\": \"string\"}", false, ST_WRONG_TYPE,
               "pb.payload.x: must be an object");
    bad_schema("{\"x\": {\"type\": \"int\", \"max_length\": 3}}", false,
               ST_UNKNOWN_FIELD,
               "unknown field \"max_length\" in pb.payload.x");
    bad_schema("{\"x\": {\"type\": \"int\", \"min\": 5, \"max\": 1}}", false,
               ST_INVALID, "pb.payload.x.min: is above max");
    bad_schema("{\"x\": {\"type\": \"string\", \"max_length\": 0}}", false,
               ST_INVALID, "pb.payload.x.max_length: must be 1..16384");
    bad_schema("{\"x\": {\"type\": \"string\", \"max_length\": 2,"
               " \"values\": [\"abc\"]}}",
               false, ST_INVALID, "pb.payload.x.values[0]: is longer");
    bad_schema("{\"a b\": {\"type\": \"int\"}}", false, ST_INVALID,
               "pb.payload.a b: a field name is 1-64 characters");
    bad_schema("{\"x\": {\"type\": \"object\", \"fields\": {}}}", false,
               ST_INVALID, "pb.payload.x.fields: an object has 1..64 fields");
    bad_schema("{\"name\": {\"type\": \"string\", \"personal\": true}}", true,
               ST_INVALID, "every field of the customer is personal");
    bad_schema("{\"a\": {\"type\": \"object\", \"personal\": true, \"fields\":"
               " {\"b\": {\"type\": \"int\", \"personal\": true}}}}",
               false, ST_INVALID,
               "pb.payload.a.fields.b.personal: a field inside a personal");
    bad_schema(
        "{\"a\": {\"type\": \"array\", \"items\": {\"type\": \"object\","
        " \"fields\": {\"b\": {\"type\": \"int\", \"personal\": true}}}}}",
        false, ST_INVALID, "mark the array itself personal");
    bad_schema("{\"a\": {\"type\": \"object\", \"fields\": {\"b\": {\"type\":"
               " \"object\", \"fields\": {\"c\": {\"type\": \"object\","
               " \"fields\": {\"d\": {\"type\": \"object\", \"fields\":"
               " {\"e\": {\"type\": \"int\"}}}}}}}}}}",
               false, ST_INVALID, "nest at most 4 deep");
}

/* Check customer and payload against the loan schemas; the status, and
 * the message in msg. */
static status check(const char *customer, const char *payload, char *msg,
                    size_t cap)
{
    payload_schema *p = schema(loan_schema, false);
    payload_schema *c = schema(customer_schema, true);
    char *plain = NULL, *personal = NULL;
    err e = {0};
    status s =
        payload_check(p, c, "loan", customer, payload, &plain, &personal, &e);

    snprintf(msg, cap, "%s", e.msg);
    if (s != ST_OK) {
        assert_null(plain);
        assert_null(personal);
    }
    free(plain);
    free(personal);
    payload_schema_destroy(p);
    payload_schema_destroy(c);
    return s;
}

#define GOOD_CUSTOMER "{\"name\": \"Li Na\", \"phone\": \"+86 139 1234 5678\"}"
#define GOOD_PAYLOAD                                                           \
    "{\"loan_id\": \"L-1\", \"product\": \"car\", \"days_past_due\": 35,"      \
    " \"overdue_minor\": 120000"

static void expect(const char *customer, const char *payload_tail, status want,
                   const char *part)
{
    char payload[1024], msg[ERR_MSG_MAX];

    snprintf(payload, sizeof(payload), "%s%s}", GOOD_PAYLOAD, payload_tail);
    if (check(customer, payload, msg, sizeof(msg)) != want)
        fail_msg("%s: not status %d: %s", payload_tail, (int)want, msg);
    if (strstr(msg, part) == NULL)
        fail_msg("\"%s\" not in \"%s\"", part, msg);
}

static void test_check_errors(void **state)
{
    char msg[ERR_MSG_MAX];

    (void)state;
    if (check(GOOD_CUSTOMER, GOOD_PAYLOAD "}", msg, sizeof(msg)) != ST_OK)
        fail_msg("%s", msg);
    /* A case with no payload at all, when the playbook requires fields. */
    assert_int_equal(check(GOOD_CUSTOMER, "{}", msg, sizeof(msg)),
                     ST_MISSING_FIELD);
    assert_non_null(strstr(msg, "request.payload is empty or missing, but the "
                                "loan playbook requires: days_past_due, "
                                "loan_id, overdue_minor, product"));
    assert_int_equal(
        check(GOOD_CUSTOMER, "{\"loan_id\": \"L-1\"}", msg, sizeof(msg)),
        ST_MISSING_FIELD);
    assert_non_null(strstr(msg, "request.payload.days_past_due is required"));
    expect(GOOD_CUSTOMER, ", \"colour\": \"red\"", ST_UNKNOWN_FIELD,
           "unknown field \"colour\" in request.payload; the loan playbook "
           "allows: address, days_past_due, due, guarantor, loan_id, note");
    expect(GOOD_CUSTOMER, ", \"due\": 20261205", ST_WRONG_TYPE,
           "request.payload.due must be a date string");
    expect(GOOD_CUSTOMER, ", \"due\": \"2026-02-30\"", ST_INVALID,
           "request.payload.due must be a date YYYY-MM-DD");
    expect(GOOD_CUSTOMER, ", \"secured\": \"yes\"", ST_WRONG_TYPE,
           "request.payload.secured must be true or false");
    expect(GOOD_CUSTOMER, ", \"payments\": [{\"amount_minor\": -5}]",
           ST_INVALID,
           "request.payload.payments[0].amount_minor must be an "
           "amount");
    expect(GOOD_CUSTOMER,
           ", \"payments\": [{\"amount_minor\": 1}, {\"amount_minor\": 2},"
           " {\"amount_minor\": 3}]",
           ST_INVALID, "request.payload.payments must hold at most 2 items");
    expect(GOOD_CUSTOMER, ", \"guarantor\": {\"relation\": \"son\"}",
           ST_MISSING_FIELD, "request.payload.guarantor.name is required");
    expect(GOOD_CUSTOMER, ", \"address\": []", ST_WRONG_TYPE,
           "request.payload.address must be an object");
    /* Lengths are in characters: 10 Chinese characters fit in 10. */
    expect(GOOD_CUSTOMER, ", \"note\": \"一二三四五六七八九十\"", ST_OK, "");
    /* A personal value too long: the message says so without quoting it. */
    expect(GOOD_CUSTOMER, ", \"note\": \"客户说他上个月刚失业了\"", ST_INVALID,
           "request.payload.note must be at most 10 characters (it has 11)");
    assert_int_equal(check(GOOD_CUSTOMER,
                           GOOD_PAYLOAD
                           ", \"note\": \"客户说他上个月刚失业了\"}",
                           msg, sizeof(msg)),
                     ST_INVALID);
    assert_null(strstr(msg, "失业"));
    /* The customer's fields too. */
    assert_int_equal(
        check("{\"phone\": \"+86 139\"}", GOOD_PAYLOAD "}", msg, sizeof(msg)),
        ST_MISSING_FIELD);
    assert_non_null(strstr(msg, "request.customer.name is required"));
    assert_int_equal(check("{\"name\": \"Li Na\", \"email\": \"x@y\"}",
                           GOOD_PAYLOAD "}", msg, sizeof(msg)),
                     ST_UNKNOWN_FIELD);
    assert_int_equal(check("{\"name\": 7}", GOOD_PAYLOAD "}", msg, sizeof(msg)),
                     ST_WRONG_TYPE);
    assert_non_null(strstr(msg, "request.customer.name must be a string"));
    /* Ranges and enumerations name what is allowed. */
    expect(GOOD_CUSTOMER, "", ST_OK, "");
    assert_int_equal(check(GOOD_CUSTOMER,
                           "{\"loan_id\": \"L-1\", \"product\": \"boat\", "
                           "\"days_past_due\": 35, \"overdue_minor\": 1}",
                           msg, sizeof(msg)),
                     ST_INVALID);
    assert_non_null(strstr(msg, "request.payload.product must be one of car, "
                                "home"));
    assert_int_equal(check(GOOD_CUSTOMER,
                           "{\"loan_id\": \"L-1\", \"product\": \"car\", "
                           "\"days_past_due\": 4000, \"overdue_minor\": 1}",
                           msg, sizeof(msg)),
                     ST_INVALID);
    assert_non_null(strstr(msg, "request.payload.days_past_due must be "
                                "between 0 and 3650"));
    assert_int_equal(check(GOOD_CUSTOMER,
                           "{\"loan_id\": null, \"product\": \"car\", "
                           "\"days_past_due\": 1, \"overdue_minor\": 1}",
                           msg, sizeof(msg)),
                     ST_WRONG_TYPE);
}

static json_t *loads(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);

    assert_non_null(v);
    return v;
}

static void test_split_and_merge(void **state)
{
    payload_schema *p = schema(loan_schema, false);
    payload_schema *c = schema(customer_schema, true);
    const char *payload = GOOD_PAYLOAD
        ", \"note\": \"失业了\", \"address\": {\"city\": \"杭州\"},"
        " \"guarantor\": {\"relation\": \"son\", \"name\": "
        "\"李强\"}, \"payments\": [{\"amount_minor\": 5}]}";
    char *plain = NULL, *personal = NULL, *merged = NULL, view[2048];
    json_t *jp, *js, *jm, *want;
    err e = {0};

    (void)state;
    assert_true(payload_schema_has_personal(p));
    assert_int_equal(payload_check(p, c, "loan", GOOD_CUSTOMER, payload, &plain,
                                   &personal, &e),
                     ST_OK);
    /* What PostgreSQL may hold: nothing of the customer. */
    assert_null(strstr(plain, "失业"));
    assert_null(strstr(plain, "杭州"));
    assert_null(strstr(plain, "李强"));
    assert_null(strstr(plain, "Li Na"));
    jp = loads(plain);
    assert_int_equal(json_integer_value(json_object_get(jp, "overdue_minor")),
                     120000);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(jp, "guarantor"), "relation")),
                        "son");
    assert_non_null(json_object_get(jp, "payments"));
    assert_null(json_object_get(jp, "address"));
    /* What is sealed: the customer and the personal fields at their paths. */
    js = loads(personal);
    want = loads("{\"customer\": " GOOD_CUSTOMER ", \"payload\": {\"note\": "
                 "\"失业了\", \"address\": {\"city\": \"杭州\"}, "
                 "\"guarantor\": {\"name\": \"李强\"}}}");
    assert_true(json_equal(js, want));
    json_decref(want);
    /* Put together again for the worker: the case as the bank sent it. */
    snprintf(view, sizeof(view),
             "{\"case_id\": 7, \"customer\": {}, \"payload\": %s}", plain);
    assert_int_equal(payload_merge(view, personal, &merged, &e), ST_OK);
    jm = loads(merged);
    want = loads(payload);
    assert_true(json_equal(json_object_get(jm, "payload"), want));
    json_decref(want);
    want = loads(GOOD_CUSTOMER);
    assert_true(json_equal(json_object_get(jm, "customer"), want));
    json_decref(want);
    assert_int_equal(json_integer_value(json_object_get(jm, "case_id")), 7);
    want = loads("[\"address.city\", \"guarantor.name\", \"note\"]");
    {
        /* In any order: the sealed part's keys are as split. */
        json_t *got = json_object_get(jm, "personal_fields");
        assert_int_equal(json_array_size(got), 3);
        for (size_t i = 0; i < 3; i++) {
            bool found = false;
            for (size_t j = 0; j < 3; j++)
                found = found || json_equal(json_array_get(want, i),
                                            json_array_get(got, j));
            assert_true(found);
        }
    }
    json_decref(want);
    json_decref(jm);
    free(merged);
    merged = NULL;
    /* Nothing sealed (an erased case): the view as it is. */
    assert_int_equal(payload_merge(view, NULL, &merged, &e), ST_OK);
    jm = loads(merged);
    assert_int_equal(json_object_size(json_object_get(jm, "customer")), 0);
    json_decref(jm);
    free(merged);
    json_decref(jp);
    json_decref(js);
    free(plain);
    free(personal);
    payload_schema_destroy(p);
    payload_schema_destroy(c);
}

static void test_nothing_personal(void **state)
{
    payload_schema *p = schema(loan_schema, false);
    char *plain = NULL, *personal = NULL;
    err e = {0};

    (void)state;
    /* No customer and no personal field: nothing to seal. */
    assert_int_equal(payload_check(p, NULL, "loan", "{}", GOOD_PAYLOAD "}",
                                   &plain, &personal, &e),
                     ST_OK);
    assert_null(personal);
    free(plain);
    plain = NULL;
    /* Without a schema any payload is accepted and kept in plain text; the
     * customer is always sealed. */
    assert_int_equal(payload_check(NULL, NULL, "loan", "{\"name\": \"Wu\"}",
                                   "{\"anything\": [1, 2]}", &plain, &personal,
                                   &e),
                     ST_OK);
    assert_string_equal(plain, "{\"anything\":[1,2]}");
    assert_string_equal(personal, "{\"customer\":{\"name\":\"Wu\"}}");
    free(plain);
    free(personal);
    payload_schema_destroy(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_errors),
        cmocka_unit_test(test_check_errors),
        cmocka_unit_test(test_split_and_merge),
        cmocka_unit_test(test_nothing_personal),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
