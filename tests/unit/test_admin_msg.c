/* The admin's notices (contracts/admin_msg.h): what the CLI encodes the
 * dispatcher decodes, and a malformed notice is refused naming the field. */
#include <stdlib.h>
#include <string.h>

#include "admin_msg.h"
#include "tl_test.h"

static void test_revoked_round_trip(void **state)
{
    admin_revoked r = {"worker-w007", "worker", "w007"}, back;
    char *body = NULL, code[48];
    bool ok = false, released = false;
    size_t len;
    err e = {0};

    (void)state;
    assert_int_equal(admin_msg_revoked_encode(&r, &body, &len, &e), ST_OK);
    assert_int_equal(admin_msg_revoked_decode(body, len, &back, &e), ST_OK);
    assert_string_equal(back.identity, "worker-w007");
    assert_string_equal(back.role, "worker");
    assert_string_equal(back.party, "w007");
    free(body);
    assert_int_equal(admin_msg_revoked_reply(true, &body, &len, &e), ST_OK);
    assert_string_equal(body, "{\"ok\":true,\"worker_released\":true}");
    assert_int_equal(
        admin_msg_revoked_reply_decode(body, len, &ok, &released, code, &e),
        ST_OK);
    assert_true(ok);
    assert_true(released);
    free(body);
}

static void test_revoked_refused(void **state)
{
    static const char *const bad[][2] = {
        {"{\"identity\":\"w 7\",\"role\":\"worker\",\"party\":\"w007\"}",
         "identity"},
        {"{\"identity\":\"w7\",\"role\":\"worker\"}", "party"},
        {"{\"identity\":\"w7\",\"role\":\"worker\",\"party\":\"w7\","
         "\"force\":true}",
         "force"},
        {"{\"identity\":\"w7\",\"role\":\"\",\"party\":\"w7\"}", "role"},
        {"{\"identity\":\"w7\",\"role\":\"a-much-too-long-role\",\"party\":"
         "\"w7\"}",
         "role"},
        {"[1]", ""},
    };
    admin_revoked r;
    bool ok, released;
    char code[48];
    err e = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_not_equal(
            admin_msg_revoked_decode(bad[i][0], strlen(bad[i][0]), &r, &e),
            ST_OK);
        assert_non_null(strstr(e.msg, bad[i][1]));
    }
    assert_int_equal(
        admin_msg_revoked_reply_decode("", 0, &ok, &released, code, &e),
        ST_UNAVAILABLE);
    {
        const char *no = "{\"ok\":false,\"error\":{\"code\":\"bad_json\"}}";
        assert_int_equal(admin_msg_revoked_reply_decode(no, strlen(no), &ok,
                                                        &released, code, &e),
                         ST_OK);
    }
    assert_false(ok);
    assert_string_equal(code, "bad_json");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_revoked_round_trip),
        cmocka_unit_test(test_revoked_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
