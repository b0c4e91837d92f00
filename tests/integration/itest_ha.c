/*
 * Several dispatchers on one database (docs/ha.md, schema 016): the fence
 * refuses a write under an old token and changes nothing, a takeover
 * always raises the token, a standby takes over from an owner killed with
 * kill -9 and every request is answered once, and two dispatchers share
 * two partitions, `twinline stats` (stats_collect) naming the owners.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "harness.h"
#include "stats.h"
#include "tl_test.h"

/* Run sql on f's own connection and return its status; e says why. */
static status try_exec(fixture *f, const char *sql, err *e)
{
    err_clear(e);
    return db_exec(f->db, sql, e);
}

/* The fence in SQL: a session that names an old token writes nothing, and
 * the lease rows refuse a takeover that keeps or lowers the token. */
static void test_fence_refuses_an_old_token(void **state)
{
    fixture f;
    char part[80], sql[512], sql2[512];
    int64_t t1;
    err e;

    (void)state;
    fixture_setup(&f, "ha_fence");
    harness_seed(&f);
    fixture_str(&f,
                "SELECT partition FROM ha_partition_map"
                " WHERE kind = 'pool' AND id = 'front'",
                part, sizeof(part));
    /* front and spec share tenant bank1: one partition, named after its
     * first pool; bank2 has no contract and a partition of its own. */
    assert_string_equal(part, "front");
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM ha_leases"), 2);
    /* A pool without contracts is a partition of its own. */
    fixture_exec(&f, "INSERT INTO pools (id, operator_id, name)"
                     " VALUES ('solo', 'op1', 'Solo');"
                     "INSERT INTO workers (id, pool_id, name)"
                     " VALUES ('wz', 'solo', 'Z')");
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM ha_leases"), 3);

    fixture_exec(&f, "UPDATE ha_leases SET owner = 'm1', token = token + 1,"
                     " expires_at = clock_timestamp() + interval '1 min'"
                     " WHERE partition = 'front'");
    t1 = fixture_i64(&f, "SELECT token FROM ha_leases"
                         " WHERE partition = 'front'");
    assert_int_equal(t1, 1);
    snprintf(sql, sizeof(sql),
             "SELECT set_config('twinline.member', 'm1', false),"
             " set_config('twinline.fence', '{\"front\": %lld}', false)",
             (long long)t1);
    fixture_exec(&f, sql);
    /* The current holder writes. */
    assert_int_equal(
        try_exec(&f, "UPDATE workers SET quality = 81 WHERE id = 'wa'", &e),
        ST_OK);
    /* Writing a row of a partition it does not hold is refused. */
    assert_int_not_equal(
        try_exec(&f, "UPDATE workers SET quality = 70 WHERE id = 'wz'", &e),
        ST_OK);
    assert_non_null(strstr(e.msg, "lease of partition solo"));
    /* The lease is checked once per transaction (schema 020): a second
     * write to a partition checked already goes through; a partition
     * checked by an earlier statement of the same transaction does not let
     * another one through, nor the same one under a token the session
     * does not hold; and the refusal rolls the whole transaction back. */
    assert_int_equal(
        try_exec(&f,
                 "UPDATE workers SET quality = 80 WHERE id = 'wa';"
                 " UPDATE workers SET quality = 81 WHERE id = 'wa'",
                 &e),
        ST_OK);
    assert_int_not_equal(
        try_exec(&f,
                 "UPDATE workers SET quality = 82 WHERE id = 'wa';"
                 " UPDATE workers SET quality = 70 WHERE id = 'wz'",
                 &e),
        ST_OK);
    assert_non_null(strstr(e.msg, "lease of partition solo"));
    snprintf(sql2, sizeof(sql2),
             "UPDATE workers SET quality = 83 WHERE id = 'wa';"
             " SELECT set_config('twinline.fence', '{\"front\": %lld}', true);"
             " UPDATE workers SET quality = 84 WHERE id = 'wa'",
             (long long)t1 + 1);
    assert_int_not_equal(try_exec(&f, sql2, &e), ST_OK);
    assert_non_null(strstr(e.msg, "lease of partition front"));
    assert_int_equal(
        fixture_i64(&f, "SELECT quality FROM workers WHERE id = 'wa'"), 81);

    /* Another dispatcher takes over: the token grows. */
    fixture_exec(&f, "SELECT set_config('twinline.member', '', false)");
    fixture_exec(&f, "UPDATE ha_leases SET owner = 'm2', token = token + 1,"
                     " expires_at = clock_timestamp() + interval '1 min'"
                     " WHERE partition = 'front'");
    fixture_exec(&f, sql); /* m1 again, with its old token */
    assert_int_not_equal(
        try_exec(&f, "UPDATE workers SET quality = 99 WHERE id = 'wa'", &e),
        ST_OK);
    assert_non_null(strstr(e.msg, "fenced: dispatcher m1 holds no current "
                                  "lease of partition front"));
    fixture_exec(&f, "SELECT set_config('twinline.member', '', false)");
    assert_int_equal(
        fixture_i64(&f, "SELECT quality FROM workers WHERE id = 'wa'"), 81);

    /* A takeover that keeps the token, or a token that falls, is refused. */
    assert_int_not_equal(try_exec(&f,
                                  "UPDATE ha_leases SET owner = 'm3'"
                                  " WHERE partition = 'front'",
                                  &e),
                         ST_OK);
    assert_non_null(strstr(e.msg, "must raise its token"));
    assert_int_not_equal(try_exec(&f,
                                  "UPDATE ha_leases SET token = 0"
                                  " WHERE partition = 'front'",
                                  &e),
                         ST_OK);
    assert_non_null(strstr(e.msg, "never decreases"));
    /* Every takeover is in the log, each with its own token. */
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM ha_lease_log"
                                     " WHERE partition = 'front'"),
                     2);
    assert_int_equal(fixture_i64(&f, "SELECT max(token) FROM ha_lease_log"
                                     " WHERE owner = 'm2'"),
                     2);
    fixture_teardown(&f);
}

/* The owner of partition front now ("" when none). */
static void owner(fixture *f, char *buf, size_t cap)
{
    fixture_str(f,
                "SELECT COALESCE((SELECT owner FROM ha_leases"
                " WHERE partition = 'front'"
                " AND expires_at > clock_timestamp()), '')",
                buf, cap);
}

static void wait_owner_not(fixture *f, const char * not, char *buf, size_t cap)
{
    int64_t until = clock_mono_us() + 15000000;

    do {
        owner(f, buf, cap);
        if (buf[0] != '\0' && strcmp(buf, not ) != 0)
            return;
        clock_sleep_ms(50);
    } while (clock_mono_us() < until);
    fail_msg("no dispatcher other than \"%s\" took partition front", not );
}

/* Submit one case and count every reply its inbox gets in a second. */
static int replies_to_submit(fixture *f, bus *b, const char *ext)
{
    char subj[160], reply[160], body[256];
    inbox ib;
    json_t *r;
    err e = {0};
    int n = 0;

    memset(&ib, 0, sizeof(ib));
    snprintf(reply, sizeof(reply), "_INBOX.ha_%s_%s", f->cfg.prefix, ext);
    inbox_listen(&ib, b, reply);
    snprintf(subj, sizeof(subj), "%s.api.bank1.case.submit", f->cfg.prefix);
    snprintf(body, sizeof(body),
             "{\"external_id\":\"%s\",\"case_type\":\"loan\"}", ext);
    assert_int_equal(
        bus_publish_request(b, subj, reply, body, strlen(body), &e), ST_OK);
    while ((r = inbox_next(&ib, n == 0 ? 10000 : 1000)) != NULL) {
        assert_true(json_is_true(json_object_get(r, "ok")));
        json_decref(r);
        n++;
    }
    return n;
}

/* kill -9 of the owner: the standby takes over, raising the token, and
 * each request is answered by exactly one of them. */
static void test_standby_takes_over_after_kill9(void **state)
{
    fixture f;
    char first[80], second[80];
    pid_t a, b2;
    bus *b;

    (void)state;
    fixture_setup(&f, "ha_standby");
    harness_seed(&f);
    /* One partition (bank2, without contracts, would be a second one for
     * the standby to take). */
    fixture_exec(&f, "DELETE FROM tenants WHERE id = 'bank2'");
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM ha_leases"), 1);
    b = fixture_bus(&f);
    a = harness_spawn_dispatcher(&f);
    wait_owner_not(&f, "", first, sizeof(first));
    b2 = harness_spawn_dispatcher(&f);
    /* The second waits as a standby: the owner does not change. */
    assert_int_equal(
        fixture_wait_i64(&f, "SELECT count(*) FROM ha_members", 2, 10000), 2);
    clock_sleep_ms(500);
    owner(&f, second, sizeof(second));
    assert_string_equal(second, first);
    assert_int_equal(replies_to_submit(&f, b, "ha-1"), 1);

    kill(a, SIGKILL);
    waitpid(a, NULL, 0);
    wait_owner_not(&f, first, second, sizeof(second));
    assert_int_equal(fixture_i64(&f, "SELECT token FROM ha_leases"
                                     " WHERE partition = 'front'"),
                     2);
    assert_int_equal(replies_to_submit(&f, b, "ha-2"), 1);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM cases"), 2);

    kill(b2, SIGTERM);
    waitpid(b2, NULL, 0);
    fixture_teardown(&f);
}

/* The dispatcher binary of this build with --id id, on f's services. */
static pid_t spawn_with_id(fixture *f, const char *id)
{
    char path[512], idbuf[80];
    char *argv[] = {path, "--id", idbuf, "--stream-mb", "8", NULL};
    pid_t pid;

    snprintf(path, sizeof(path), "%s/dispatcher/twinline-dispatcher",
             TL_BINARY_DIR);
    snprintf(idbuf, sizeof(idbuf), "%s", id);
    setenv("TL_DB", f->cfg.db, 1);
    setenv("TL_NATS", f->cfg.nats, 1);
    setenv("TL_PREFIX", f->cfg.prefix, 1);
    pid = fork();
    if (pid < 0)
        fail_msg("cannot fork for %s", path);
    if (pid == 0) {
        execv(path, argv);
        _exit(127);
    }
    return pid;
}

/* A dispatcher killed with kill -9 and started again under its id takes
 * its partition back at once, with a new token, instead of waiting for
 * the old lease to run out. */
static void test_restart_under_its_id_takes_the_lease_back(void **state)
{
    fixture f;
    char who[80];
    pid_t a;
    bus *b;

    (void)state;
    fixture_setup(&f, "ha_reclaim");
    harness_seed(&f);
    fixture_exec(&f, "DELETE FROM tenants WHERE id = 'bank2'");
    b = fixture_bus(&f);
    a = spawn_with_id(&f, "keeper");
    wait_owner_not(&f, "", who, sizeof(who));
    assert_string_equal(who, "keeper");
    kill(a, SIGKILL);
    waitpid(a, NULL, 0);
    a = spawn_with_id(&f, "keeper");
    assert_int_equal(fixture_wait_i64(&f,
                                      "SELECT max(token) FROM ha_lease_log"
                                      " WHERE partition = 'front' AND owner ="
                                      " 'keeper'",
                                      2, 15000),
                     2);
    owner(&f, who, sizeof(who));
    assert_string_equal(who, "keeper");
    assert_int_equal(replies_to_submit(&f, b, "rc-1"), 1);
    kill(a, SIGTERM);
    waitpid(a, NULL, 0);
    fixture_teardown(&f);
}

/* Two dispatchers, two partitions: one each, and the figures say who. */
static void test_two_dispatchers_share_the_partitions(void **state)
{
    fixture f;
    running_dispatcher d1, d2;
    dispatcher_opts o;
    stats *st = NULL;
    err e = {0};

    (void)state;
    fixture_setup(&f, "ha_share");
    harness_seed(&f);
    dispatcher_opts_default(&o);
    o.ha_lease_ms = 1200;
    snprintf(o.member, sizeof(o.member), "one");
    harness_start(&d1, &f, &o);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM ha_leases"
                                     " WHERE owner = 'one'"),
                     2);
    snprintf(o.member, sizeof(o.member), "two");
    harness_start(&d2, &f, &o);
    /* "one" gives up one partition and "two" takes it. */
    assert_int_equal(fixture_wait_i64(&f,
                                      "SELECT count(*) FROM ha_leases"
                                      " WHERE owner = 'two' AND expires_at >"
                                      " clock_timestamp()",
                                      1, 10000),
                     1);
    assert_int_equal(fixture_wait_i64(&f,
                                      "SELECT count(*) FROM ha_leases"
                                      " WHERE owner = 'one' AND expires_at >"
                                      " clock_timestamp()",
                                      1, 10000),
                     1);
    assert_int_equal(stats_collect(f.db, &st, &e), ST_OK);
    assert_int_equal(st->npartitions, 2);
    assert_true(strcmp(st->partitions[0].owner, st->partitions[1].owner) != 0);
    assert_string_equal(st->partitions[0].partition, "front");
    assert_string_equal(st->partitions[0].pools, "front,spec");
    assert_string_equal(st->partitions[0].tenants, "bank1");
    stats_destroy(st);

    /* A clean stop gives the leases up: the other takes both at once. */
    harness_stop(&d1);
    assert_int_equal(fixture_wait_i64(&f,
                                      "SELECT count(*) FROM ha_leases"
                                      " WHERE owner = 'two' AND expires_at >"
                                      " clock_timestamp()",
                                      2, 10000),
                     2);
    harness_stop(&d2);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM ha_members"), 0);
    fixture_teardown(&f);
}

static const char *const wa_only[1] = {"wa"};

/* wa accepts the offer of a new case; the offer's reply (caller decrefs). */
static json_t *accepted_offer(harness_world *w, const char *ext)
{
    char body[256], rest[64];
    json_t *r, *offer;

    r = harness_request(&w->f, w->b, "agent.wa.presence",
                        "{\"presence\":\"available\"}");
    assert_true(json_is_true(json_object_get(r, "ok")));
    json_decref(r);
    snprintf(body, sizeof(body),
             "{\"external_id\":\"%s\",\"case_type\":\"loan\"}", ext);
    r = harness_request(&w->f, w->b, "api.bank1.case.submit", body);
    assert_true(json_is_true(json_object_get(r, "ok")));
    json_decref(r);
    offer = inbox_next(&w->offers[0], 5000);
    assert_non_null(offer);
    snprintf(rest, sizeof(rest), "agent.wa.accept");
    snprintf(
        body, sizeof(body), "{\"reservation_id\":%lld,\"epoch\":%lld}",
        (long long)json_integer_value(json_object_get(offer, "reservation_id")),
        (long long)json_integer_value(json_object_get(offer, "epoch")));
    r = harness_request(&w->f, w->b, rest, body);
    assert_true(json_is_true(json_object_get(r, "ok")));
    json_decref(r);
    return offer;
}

/* A heartbeat names what its agent holds: a task it does not hold goes
 * back to the queue with the reason, one the dispatcher has no record of
 * is named in the reply, one it holds stays. */
static void test_heartbeat_resyncs_held_reservations(void **state)
{
    const harness_world_opts wo = {.workers = wa_only, .nworkers = 1};
    harness_world w;
    json_t *offer, *r, *unknown;
    char body[128], sql[256];
    long long res;

    (void)state;
    harness_world_up(&w, "ha_resync", &wo);
    offer = accepted_offer(&w, "RS-1");
    res =
        (long long)json_integer_value(json_object_get(offer, "reservation_id"));
    json_decref(offer);

    /* Holding it, and a reservation that does not exist. */
    snprintf(body, sizeof(body), "{\"held\":[%lld, 987654]}", res);
    r = harness_request(&w.f, w.b, "agent.wa.heartbeat", body);
    assert_true(json_is_true(json_object_get(r, "ok")));
    unknown = json_object_get(r, "unknown");
    assert_int_equal(json_array_size(unknown), 1);
    assert_int_equal(json_integer_value(json_array_get(unknown, 0)), 987654);
    json_decref(r);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM reservations WHERE id = %lld"
             " AND state = 'accepted'",
             res);
    assert_int_equal(fixture_i64(&w.f, sql), 1);

    /* A restarted agent holds nothing: once the accept is 3 s old, the
     * task goes back to the queue. */
    fixture_exec(&w.f, "UPDATE reservations SET answered_at = now()"
                       " - interval '10 s' WHERE state = 'accepted'");
    r = harness_request(&w.f, w.b, "agent.wa.heartbeat", "{\"held\":[]}");
    assert_true(json_is_true(json_object_get(r, "ok")));
    assert_null(json_object_get(r, "unknown"));
    json_decref(r);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM reservations WHERE id = %lld"
             " AND state = 'rescinded' AND reason = 'not held by the agent'",
             res);
    assert_int_equal(fixture_i64(&w.f, sql), 1);
    /* ... and is offered again (to wa, the only worker). */
    offer = inbox_next(&w.offers[0], 5000);
    assert_non_null(offer);
    assert_true(json_integer_value(json_object_get(offer, "reservation_id")) >
                res);
    json_decref(offer);

    /* Bad held lists change nothing and say why. */
    r = harness_request(&w.f, w.b, "agent.wa.heartbeat", "{\"held\":[0]}");
    assert_string_equal(harness_error_code(r), "invalid_value");
    json_decref(r);
    r = harness_request(&w.f, w.b, "agent.wa.heartbeat", "{\"held\":\"all\"}");
    assert_string_equal(harness_error_code(r), "wrong_type");
    json_decref(r);
    harness_world_down(&w);
}

/* A task accepted and never completed goes back to the queue after the
 * handle-time bound, with the reason, and is not offered to that worker
 * again. */
static void test_handle_time_bound_requeues(void **state)
{
    dispatcher_opts o;
    harness_world_opts wo = {.workers = wa_only, .nworkers = 1};
    harness_world w;
    json_t *offer;

    (void)state;
    dispatcher_opts_default(&o);
    o.handle_max_ms = 1000;
    wo.dispatcher = &o;
    harness_world_up(&w, "ha_handle", &wo);
    offer = accepted_offer(&w, "HB-1");
    json_decref(offer);
    assert_int_equal(
        fixture_wait_i64(&w.f,
                         "SELECT count(*) FROM reservations WHERE state ="
                         " 'rescinded' AND reason = 'handle time bound"
                         " exceeded'",
                         1, 10000),
        1);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM task_exclusions"
                                       " WHERE worker_id = 'wa' AND reason ="
                                       " 'handle_time'"),
                     1);
    assert_int_equal(fixture_wait_i64(&w.f,
                                      "SELECT count(*) FROM tasks"
                                      " WHERE step = 'contact' AND state ="
                                      " 'pending'",
                                      1, 5000),
                     1);
    harness_world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fence_refuses_an_old_token),
        cmocka_unit_test(test_standby_takes_over_after_kill9),
        cmocka_unit_test(test_two_dispatchers_share_the_partitions),
        cmocka_unit_test(test_restart_under_its_id_takes_the_lease_back),
        cmocka_unit_test(test_heartbeat_resyncs_held_reservations),
        cmocka_unit_test(test_handle_time_bound_requeues),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
