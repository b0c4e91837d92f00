/*
 * `twinline case submit` over a real nats-server: the request goes to
 * <prefix>.api.<tenant>.case.submit, an ok reply is printed, an error reply
 * becomes an error carrying its code and message, and nobody listening is
 * reported as such. A stand-in responder plays the dispatcher.
 */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
/* clang-format on */

#include "cmd_case.h"
#include "fixture.h"

static const char ok_reply[] =
    "{\"ok\": true, \"created\": true, \"case\": {\"id\": 42, "
    "\"external_id\": \"LN-1\", \"case_type\": \"loan_overdue\", "
    "\"state\": \"open\", \"playbook_version\": 1}}";
static const char err_reply[] =
    "{\"ok\": false, \"error\": {\"code\": \"unknown_case_type\", "
    "\"message\": \"case type \\\"mortgage\\\" is not defined for tenant "
    "\\\"jsbank\\\"\"}}";

typedef struct responder {
    bus *b;
    char last[512];
} responder;

/* Answer with an error when the request names case type "mortgage". */
static void on_submit(void *ctx, bus_msg *m)
{
    responder *r = ctx;
    const char *reply = ok_reply;
    err e = {0};

    snprintf(r->last, sizeof(r->last), "%.*s", (int)bus_msg_len(m),
             bus_msg_data(m));
    if (strstr(r->last, "mortgage") != NULL)
        reply = err_reply;
    bus_respond(r->b, m, reply, strlen(reply), &e);
    bus_msg_free(m);
}

static void test_submit(void **state)
{
    fixture f;
    responder r = {0};
    bus *client;
    char subject[128];
    char *body = NULL;
    char *out_buf = NULL;
    size_t out_len = 0;
    FILE *out;
    err e = {0};

    (void)state;
    fixture_setup(&f, "cmd_case_submit");
    r.b = fixture_bus(&f);
    client = fixture_bus(&f);
    snprintf(subject, sizeof(subject), "%s.api.jsbank.case.submit",
             f.cfg.prefix);
    assert_int_equal(bus_subscribe(r.b, subject, NULL, on_submit, &r, &e),
                     ST_OK);
    assert_int_equal(bus_flush(r.b, 2000, &e), ST_OK);

    assert_int_equal(
        cmd_case_body("loan_overdue", "LN-1", 5, NULL, NULL, &body, &e), ST_OK);
    out = open_memstream(&out_buf, &out_len);
    assert_int_equal(cmd_case_request(client, f.cfg.prefix, "jsbank", "submit",
                                      body, 5000, out, &e),
                     ST_OK);
    fclose(out);
    assert_string_equal(r.last, body);
    assert_non_null(strstr(out_buf, "\"created\": true"));
    assert_non_null(strstr(out_buf, "\"id\": 42"));
    free(out_buf);
    free(body);

    body = NULL;
    out_buf = NULL;
    assert_int_equal(
        cmd_case_body("mortgage", "M-1", -1, NULL, NULL, &body, &e), ST_OK);
    out = open_memstream(&out_buf, &out_len);
    assert_int_equal(cmd_case_request(client, f.cfg.prefix, "jsbank", "submit",
                                      body, 5000, out, &e),
                     ST_UNKNOWN_CASE_TYPE);
    fclose(out);
    assert_non_null(strstr(e.msg, "unknown_case_type: case type "
                                  "\"mortgage\" is not defined"));
    assert_string_equal(out_buf, "");
    free(out_buf);

    /* Nobody serves another tenant's subject here. */
    out_buf = NULL;
    out = open_memstream(&out_buf, &out_len);
    assert_int_equal(cmd_case_request(client, f.cfg.prefix, "otherbank",
                                      "submit", body, 2000, out, &e),
                     ST_UNAVAILABLE);
    fclose(out);
    assert_non_null(strstr(e.msg, "dispatcher"));
    free(out_buf);
    free(body);

    bus_close(client);
    bus_close(r.b);
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
