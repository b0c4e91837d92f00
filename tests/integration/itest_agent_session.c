/*
 * One session per worker (docs/protocol.md, "Sessions"), on the real
 * dispatcher, PostgreSQL and nats-server: a second sign-in is refused
 * with session_conflict naming the first (host, pid, since) and changes
 * nothing; heartbeats of another session, or of none, are refused and do
 * not keep the worker alive; a takeover replaces the first, which is told
 * (session_replaced) and whose accepted task goes back to the queue with
 * a rescinded notice; the replaced session can no longer sign the worker
 * out; signing out frees the worker; a session silent past the lease is
 * replaced without a takeover; the presence reply carries the slots.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "harness.h"
#include "tl_test.h"

static const char *const workers[1] = {"wa"};

static json_t *req(harness_world *w, const char *verb, const char *body)
{
    char rest[64];

    snprintf(rest, sizeof(rest), "agent.wa.%s", verb);
    return harness_request(&w->f, w->b, rest, body);
}

static void expect_ok(json_t *r)
{
    if (!json_is_true(json_object_get(r, "ok")))
        fail_msg("expected ok, got %s", json_dumps(r, 0));
    json_decref(r);
}

/* The reply is a session_conflict whose message holds each of parts. */
static void expect_conflict(json_t *r, const char *part1, const char *part2)
{
    const char *msg = json_string_value(
        json_object_get(json_object_get(r, "error"), "message"));

    if (strcmp(harness_error_code(r), "session_conflict") != 0 || msg == NULL ||
        strstr(msg, part1) == NULL ||
        (part2 != NULL && strstr(msg, part2) == NULL))
        fail_msg("expected session_conflict with \"%s\", got %s", part1,
                 json_dumps(r, 0));
    json_decref(r);
}

static const char *sign_in(const char *presence, const char *sid,
                           const char *host, int pid, bool takeover)
{
    static char body[256];

    snprintf(body, sizeof(body),
             "{\"presence\":\"%s\",\"session\":{\"id\":\"%s\",\"host\":"
             "\"%s\",\"pid\":%d}%s}",
             presence, sid, host, pid, takeover ? ",\"takeover\":true" : "");
    return body;
}

static const char *beat(const char *sid)
{
    static char body[96];

    snprintf(body, sizeof(body), "{\"session_id\":\"%s\"}", sid);
    return body;
}

static void db_session(harness_world *w, char *buf, size_t cap)
{
    fixture_str(&w->f,
                "SELECT presence || ' ' || COALESCE(session_id, '-') || ' ' ||"
                " COALESCE(session_host, '-') || ' ' ||"
                " COALESCE(session_pid::text, '-') FROM workers"
                " WHERE id = 'wa'",
                buf, cap);
}

/* The next notice to wa of type, skipping others. */
static json_t *notice_of(harness_world *w, const char *type)
{
    for (int i = 0; i < 20; i++) {
        json_t *n = inbox_next(&w->notices[0], 5000);

        if (n == NULL)
            break;
        if (strcmp(json_string_value(json_object_get(n, "type")), type) == 0)
            return n;
        json_decref(n);
    }
    fail_msg("no %s notice to wa", type);
    return NULL;
}

static void test_second_sign_in_and_takeover(void **state)
{
    harness_world w;
    const harness_world_opts wo = {.workers = workers, .nworkers = 1};
    char before[256], after[256];
    json_t *r, *n, *offer;
    int64_t rid, epoch;
    char body[128];

    (void)state;
    harness_world_up(&w, "agent_session", &wo);

    /* The first sign-in; the reply carries the worker's slots. */
    r = req(&w, "presence", sign_in("available", "s1", "desk-1", 111, false));
    if (!json_is_true(json_object_get(r, "ok")))
        fail_msg("%s", json_dumps(r, 0));
    assert_int_equal(json_integer_value(
                         json_object_get(json_object_get(r, "slots"), "chat")),
                     3);
    json_decref(r);
    db_session(&w, before, sizeof(before));
    assert_string_equal(before, "available s1 desk-1 111");

    /* A second one is refused, naming the first, and changes nothing. */
    expect_conflict(
        req(&w, "presence", sign_in("available", "s2", "desk-2", 222, false)),
        "worker wa is signed in elsewhere: session s1 on host "
        "desk-1 (pid 111) since 20",
        "UTC; quit it there, or sign in with --takeover");
    expect_conflict(
        req(&w, "presence", sign_in("offline", "s2", "desk-2", 222, false)),
        "session s1 on host desk-1", NULL);
    db_session(&w, after, sizeof(after));
    assert_string_equal(after, before);

    /* Heartbeats: only the current session's count. */
    expect_ok(req(&w, "heartbeat", beat("s1")));
    expect_conflict(req(&w, "heartbeat", beat("s2")),
                    "worker wa is signed in by session s1",
                    "session s2 was replaced");
    expect_conflict(req(&w, "heartbeat", "{}"),
                    "an agent without a session cannot speak for it", NULL);
    expect_conflict(req(&w, "presence", "{\"presence\":\"break\"}"),
                    "session s1", NULL);
    /* A bad sign-in is refused as such and changes nothing. */
    r = req(&w, "presence",
            "{\"presence\":\"available\",\"session\":{\"id\":\"s3\","
            "\"host\":\"a b\",\"pid\":3},\"takeover\":true}");
    assert_string_equal(harness_error_code(r), "invalid_value");
    json_decref(r);
    db_session(&w, after, sizeof(after));
    assert_string_equal(after, before);

    /* s1 takes a task. */
    r = harness_request(&w.f, w.b, "api.bank1.case.submit",
                        "{\"external_id\":\"S-1\",\"case_type\":\"loan\"}");
    expect_ok(r);
    offer = inbox_next(&w.offers[0], 5000);
    assert_non_null(offer);
    rid = json_integer_value(json_object_get(offer, "reservation_id"));
    epoch = json_integer_value(json_object_get(offer, "epoch"));
    json_decref(offer);
    snprintf(body, sizeof(body), "{\"reservation_id\":%lld,\"epoch\":%lld}",
             (long long)rid, (long long)epoch);
    expect_ok(req(&w, "accept", body));

    /* s2 takes over: s1 is told, and its task goes back to the queue. */
    inbox_drain(&w.notices[0]);
    expect_ok(
        req(&w, "presence", sign_in("available", "s2", "desk-2", 222, true)));
    db_session(&w, after, sizeof(after));
    assert_string_equal(after, "available s2 desk-2 222");
    n = notice_of(&w, "session_replaced");
    assert_string_equal(json_string_value(json_object_get(n, "session_id")),
                        "s1");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(n, "by"), "host")),
        "desk-2");
    json_decref(n);
    n = notice_of(&w, "rescinded");
    assert_int_equal(json_integer_value(json_object_get(n, "reservation_id")),
                     rid);
    assert_string_equal(json_string_value(json_object_get(n, "reason")),
                        "session_replaced");
    json_decref(n);
    snprintf(body, sizeof(body),
             "SELECT count(*) FROM reservations WHERE id = %lld AND state ="
             " 'rescinded' AND reason = 'session replaced'",
             (long long)rid);
    assert_int_equal(fixture_i64(&w.f, body), 1);
    /* The task comes back, to the session now signed in. */
    offer = inbox_next(&w.offers[0], 5000);
    assert_non_null(offer);
    assert_true(json_integer_value(json_object_get(offer, "epoch")) > epoch);
    json_decref(offer);

    /* s1 is out: its heartbeat, presence and offline are refused. */
    expect_conflict(req(&w, "heartbeat", beat("s1")),
                    "signed in by session s2 on host desk-2 (pid 222)",
                    "session s1 was replaced");
    expect_conflict(
        req(&w, "presence", sign_in("offline", "s1", "desk-1", 111, false)),
        "session s2 on host desk-2", NULL);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM workers WHERE"
                                       " id = 'wa' AND presence ="
                                       " 'available'"),
                     1);

    /* s2 signs out: the worker is offline and free again. */
    expect_ok(
        req(&w, "presence", sign_in("offline", "s2", "desk-2", 222, false)));
    db_session(&w, after, sizeof(after));
    assert_string_equal(after, "offline - - -");
    expect_conflict(req(&w, "heartbeat", beat("s2")), "no session s2 any more",
                    NULL);
    expect_ok(
        req(&w, "presence", sign_in("available", "s3", "desk-3", 333, false)));

    /* A session silent past the lease is replaced without a takeover. */
    fixture_exec(&w.f, "UPDATE workers SET last_seen = now() - interval '1"
                       " hour' WHERE id = 'wa'");
    inbox_drain(&w.notices[0]);
    expect_ok(
        req(&w, "presence", sign_in("available", "s4", "desk-4", 444, false)));
    n = notice_of(&w, "session_replaced");
    assert_string_equal(json_string_value(json_object_get(n, "session_id")),
                        "s3");
    json_decref(n);
    db_session(&w, after, sizeof(after));
    assert_string_equal(after, "available s4 desk-4 444");

    /* An agent without sessions works as before once nobody holds one. */
    expect_ok(
        req(&w, "presence", sign_in("offline", "s4", "desk-4", 444, false)));
    expect_ok(req(&w, "presence", "{\"presence\":\"available\"}"));
    expect_ok(req(&w, "heartbeat", "{}"));
    harness_world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_second_sign_in_and_takeover),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
