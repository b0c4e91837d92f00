/*
 * The parser of nats-server's refusal lines (natslog.h), on lines as
 * Debian's nats-server 2.9.10 wrote them in itest_natsauth's runs, and on
 * lines a client shaped with its own connection name and subjects.
 */
#include <stdio.h>
#include <string.h>

#include "natslog.h"
#include "tl_test.h"

#define KEY "UDHCRQYCIRTS4FLC6PZTHU5WFBB3VC7XXHTDZXE7SDTPZQDDWJYAZMPR"
#define HEAD                                                                   \
    "[4423] 2026/12/02 13:45:29.427064 [ERR] 127.0.0.1:60096 - cid:16 - "

static bool parse(const char *line, natslog_event *ev)
{
    return natslog_parse(line, strlen(line), ev);
}

static void test_publish(void **state)
{
    natslog_event ev;

    (void)state;
    assert_true(parse(HEAD "\"v3.4.1:C:w001\" - Publish Violation - Nkey \"" KEY
                           "\", Subject \"tl.agent.w002.complete\"",
                      &ev));
    assert_int_equal(ev.kind, NATSLOG_PUBLISH);
    assert_string_equal(ev.public_key, KEY);
    assert_string_equal(ev.subject, "tl.agent.w002.complete");
    assert_string_equal(ev.client, "v3.4.1:C:w001");
    assert_string_equal(natslog_kind_name(ev.kind), "publish");
}

static void test_subscribe(void **state)
{
    natslog_event ev;

    (void)state;
    assert_true(parse(HEAD "\"v3.4.1:C:w001\" - Subscription Violation - Nkey "
                           "\"" KEY "\", Subject \">\", SID 3",
                      &ev));
    assert_int_equal(ev.kind, NATSLOG_SUBSCRIBE);
    assert_string_equal(ev.subject, ">");
    assert_string_equal(natslog_kind_name(ev.kind), "subscribe");
}

static void test_auth(void **state)
{
    natslog_event ev;

    (void)state;
    assert_true(parse(
        HEAD "\"v3.4.1:C:w002\" - authentication error - Nkey \"" KEY "\"",
        &ev));
    assert_int_equal(ev.kind, NATSLOG_AUTH);
    assert_string_equal(ev.public_key, KEY);
    assert_string_equal(ev.subject, "");
    /* An anonymous client: no key. */
    assert_true(parse(HEAD "\"v3.4.1:C:anonymous\" - authentication error - "
                           "Nkey \"\"",
                      &ev));
    assert_int_equal(ev.kind, NATSLOG_AUTH);
    assert_string_equal(ev.public_key, "");
    assert_string_equal(ev.client, "v3.4.1:C:anonymous");
    /* A user of another kind: its name is not a key. */
    assert_true(
        parse(HEAD "\"n2\\nline\" - authentication error - User \"app\"", &ev));
    assert_string_equal(ev.public_key, "");
    assert_string_equal(ev.client, "n2\nline");
    /* No name at all. */
    assert_true(parse(HEAD "authentication error", &ev));
    assert_string_equal(ev.client, "");
}

/* A client's name and subjects are its own text: quoted by the server, so
 * they never read as other fields. */
static void test_client_text_stays_quoted(void **state)
{
    natslog_event ev;

    (void)state;
    assert_true(parse(HEAD
                      "\"evil\\\" - Publish Violation - Nkey \\\"UXXX\\\", "
                      "Subject \\\"tl.fake\" - Publish Violation - User "
                      "\"app\", Subject \"bad.\\\"q\\\\\"",
                      &ev));
    assert_int_equal(ev.kind, NATSLOG_PUBLISH);
    assert_string_equal(ev.public_key, "");
    assert_string_equal(ev.client,
                        "evil\" - Publish Violation - Nkey \"UXXX\", Subject "
                        "\"tl.fake");
    assert_string_equal(ev.subject, "bad.\"q\\");
    /* A key that is not a user key is not kept. */
    assert_true(parse(HEAD "\"x\" - Publish Violation - Nkey \"UXXX\", Subject "
                           "\"a\"",
                      &ev));
    assert_string_equal(ev.public_key, "");
    /* Other escapes stay as written. */
    assert_true(parse(HEAD "\"x\" - Subscription Violation - Nkey \"" KEY
                           "\", Subject \"x.\\u00e9\", SID 3",
                      &ev));
    assert_string_equal(ev.subject, "x.\\u00e9");
}

static void test_long_fields_are_cut(void **state)
{
    char line[2048], subject[600];
    natslog_event ev;

    (void)state;
    memset(subject, 'a', sizeof(subject) - 1);
    subject[sizeof(subject) - 1] = '\0';
    snprintf(line, sizeof(line),
             HEAD "\"c\" - Publish Violation - Nkey \"" KEY
                  "\", Subject \"%s\"",
             subject);
    assert_true(parse(line, &ev));
    assert_int_equal(strlen(ev.subject), NATSLOG_SUBJECT_MAX);
}

static void test_other_lines(void **state)
{
    natslog_event ev;

    (void)state;
    assert_false(parse("[4423] 2026/12/02 13:45:46.401940 [INF] Reloaded "
                       "server configuration",
                       &ev));
    assert_false(parse("[4423] 2026/12/02 13:45:46.401940 [ERR] 127.0.0.1:1 - "
                       "cid:4 - \"x\" - Slow Consumer Detected",
                       &ev));
    assert_false(parse("[INF] - cid:4 - \"x\" - Publish Violation - Nkey \"" KEY
                       "\", Subject \"a\"",
                       &ev));
    /* Cut short: no closing quote. */
    assert_false(parse(
        HEAD "\"x\" - Publish Violation - Nkey \"" KEY "\", Subject \"a", &ev));
    assert_false(parse(HEAD "\"x", &ev));
    assert_false(parse(HEAD "\"x\" - Publish Violation - ", &ev));
    assert_false(parse(HEAD "\"x\" - authentication error and more", &ev));
    assert_false(parse("", &ev));
    assert_false(natslog_parse(NULL, 0, &ev));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish),
        cmocka_unit_test(test_subscribe),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_client_text_stays_quoted),
        cmocka_unit_test(test_long_fields_are_cut),
        cmocka_unit_test(test_other_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
