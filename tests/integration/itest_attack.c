/*
 * The attacks of issue 10, repeated with the credentials a worker, a bank,
 * an operator and the console hold, on a system run as the scripts run
 * it: a nats-server of the test's own whose authorization is what
 * `twinline nats-auth` makes from the test's database (the identities are
 * made by `twinline identity create`'s code), the real dispatcher binary
 * with its own identity following that server's log (--nats-log), and
 * PostgreSQL.
 *
 * Every refusal is proved by the server's asynchronous permission error on
 * the attacker's connection, never by a publish's return code (which is OK
 * regardless); what must not reach the attacker is checked after it
 * reached its rightful receiver and after a round trip on the attacker's
 * own connection, which would have carried it first. At the end the
 * dispatcher's log, the nats_violations rows and the live figures name
 * every attacker by identity.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "agent_msg.h"
#include "bus.h"
#include "clock.h"
#include "cmd_identity.h"
#include "fixture.h"
#include "harness.h"
#include "nats_server.h"
#include "stats.h"
#include "tl_test.h"

#define P       "attack"
#define STREAM  "ATTACK_EVENTS"
#define WAIT_MS 10000

enum { DSP, ADM, CON, T1, T2, OP1, OP2, WA, WB, NID };

typedef struct ident {
    const char *role, *party;
    cmd_identity_made m;
} ident;

static ident ids[NID] = {
    [DSP] = {.role = "dispatcher"}, [ADM] = {.role = "admin"},
    [CON] = {.role = "console"},    [T1] = {"tenant", "bank1"},
    [T2] = {"tenant", "bank2"},     [OP1] = {"operator", "op1"},
    [OP2] = {"operator", "op2"},    [WA] = {"worker", "wa"},
    [WB] = {"worker", "wb"},
};

static fixture fx; /* the test's database; fx.cfg.nats is srv's */
/* The violations each identity's connections saw, for the last test. */
static long saw[NID];
static nats_server srv;
static pid_t dispatcher_pid;
static char dispatcher_log[200];

/* ---- connections and what they saw ----------------------------------- */

#define SEEN_MAX 64

typedef struct seen {
    pthread_mutex_t lock;
    int n;
    char subj[SEEN_MAX][160];
    char data[SEEN_MAX][2048];
} seen;

static void on_seen(void *ctx, bus_msg *m)
{
    seen *s = ctx;

    pthread_mutex_lock(&s->lock);
    if (s->n < SEEN_MAX) {
        snprintf(s->subj[s->n], sizeof(s->subj[0]), "%s", bus_msg_subject(m));
        snprintf(s->data[s->n], sizeof(s->data[0]), "%.*s", (int)bus_msg_len(m),
                 bus_msg_data(m));
        s->n++;
    }
    pthread_mutex_unlock(&s->lock);
    bus_msg_free(m);
}

static seen *seen_new(void)
{
    seen *s = calloc(1, sizeof(*s));

    assert_non_null(s);
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

static int seen_count(seen *s)
{
    int n;

    pthread_mutex_lock(&s->lock);
    n = s->n;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* Wait for the n-th message (1-based); its body into buf. */
static void seen_wait(seen *s, int n, char *buf, size_t cap)
{
    for (int i = 0; i < WAIT_MS / 10 && seen_count(s) < n; i++)
        clock_sleep_ms(10);
    if (seen_count(s) < n)
        fail_msg("message %d did not arrive", n);
    pthread_mutex_lock(&s->lock);
    snprintf(buf, cap, "%s", s->data[n - 1]);
    pthread_mutex_unlock(&s->lock);
}

static bus *as(int who)
{
    bus_opts o;
    bus *b = NULL;
    err e = {0};

    memset(&o, 0, sizeof(o));
    o.url = srv.url;
    o.name = ids[who].m.id;
    o.creds = ids[who].m.path;
    if (bus_connect_opts(&b, &o, &e) != ST_OK)
        fail_msg("connect as %s: %s", ids[who].m.id, e.msg);
    return b;
}

static void sub(bus *b, const char *subject, seen *s)
{
    err e = {0};

    if (bus_subscribe(b, subject, NULL, on_seen, s, &e) != ST_OK)
        fail_msg("subscribe %s: %s", subject, e.msg);
    assert_int_equal(bus_flush(b, 2000, &e), ST_OK);
}

/* A request that must be answered, parsed (the caller decrefs). */
static json_t *request(bus *b, const char *subject, const char *body)
{
    bus_msg *r = NULL;
    json_error_t je;
    json_t *j;
    err e = {0};
    status s = ST_UNAVAILABLE;

    /* A dispatcher that is starting has no responder yet. */
    for (int i = 0; i < 50 && s == ST_UNAVAILABLE; i++) {
        s = bus_request(b, subject, body, strlen(body), 5000, &r, &e);
        if (s == ST_UNAVAILABLE)
            clock_sleep_ms(100);
    }
    if (s != ST_OK)
        fail_msg("request %s: %s", subject, e.msg);
    j = json_loadb(bus_msg_data(r), bus_msg_len(r), 0, &je);
    if (j == NULL)
        fail_msg("reply to %s is not JSON: %.*s", subject, (int)bus_msg_len(r),
                 bus_msg_data(r));
    bus_msg_free(r);
    return j;
}

static const char *code_of(const json_t *r)
{
    const char *c =
        json_string_value(json_object_get(json_object_get(r, "error"), "code"));

    return c != NULL ? c : "";
}

static void expect_ok(json_t *r)
{
    if (!json_is_true(json_object_get(r, "ok")))
        fail_msg("expected ok, got %s", json_dumps(r, 0));
    json_decref(r);
}

static void expect_code(json_t *r, const char *code)
{
    if (strcmp(code_of(r), code) != 0)
        fail_msg("expected %s, got %s", code, json_dumps(r, 0));
    json_decref(r);
}

static void presence(bus *b, const char *worker, const char *p)
{
    char subject[128], body[64];

    snprintf(subject, sizeof(subject), P ".agent.%s.presence", worker);
    snprintf(body, sizeof(body), "{\"presence\":\"%s\"}", p);
    expect_ok(request(b, subject, body));
}

/* The newest audit record of action on kind:id names party and the
 * NATS identity that asked (the server's confinement vouches for it). */
static void expect_audit(const char *action, const char *party,
                         const char *identity, const char *kind, int64_t id)
{
    char sql[512], got[256], want[256];

    snprintf(sql, sizeof(sql),
             "SELECT party || ' ' || identity FROM audit_log"
             " WHERE action = '%s' AND subjects ~ '(^| )%s:%lld( |$)'"
             " ORDER BY seq DESC LIMIT 1",
             action, kind, (long long)id);
    fixture_str(&fx, sql, got, sizeof(got));
    snprintf(want, sizeof(want), "%s %s", party, identity);
    assert_string_equal(got, want);
}

static int64_t submit(bus *b, const char *ext)
{
    char body[256];
    json_t *r;
    int64_t id;

    snprintf(body, sizeof(body),
             "{\"external_id\":\"%s\",\"case_type\":\"loan\",\"priority\":3,"
             "\"customer\":{\"name\":\"Wang Wei\",\"phone\":\"+86 1380\"},"
             "\"payload\":{\"overdue_minor\":120000}}",
             ext);
    r = request(b, P ".api.bank1.case.submit", body);
    if (!json_is_true(json_object_get(r, "ok")))
        fail_msg("submit failed: %s", json_dumps(r, 0));
    id = json_integer_value(json_object_get(json_object_get(r, "case"), "id"));
    json_decref(r);
    expect_audit("case.submit", "tenant:bank1", ids[T1].m.id, "case", id);
    return id;
}

static bool connected_within(bus *b, bool want)
{
    for (int i = 0; i < WAIT_MS / 20 && bus_connected(b) != want; i++)
        clock_sleep_ms(20);
    return bus_connected(b) == want;
}

static int64_t db_i64_wait(const char *sql, int64_t at_least)
{
    int64_t v = 0;

    for (int i = 0; i < WAIT_MS / 50; i++) {
        v = fixture_i64(&fx, sql);
        if (v >= at_least)
            break;
        clock_sleep_ms(50);
    }
    return v;
}

/* ---- the system -------------------------------------------------------- */

/* The real dispatcher, as the scripts start it: its own identity, the
 * server's log followed, leases and offers long enough that only the
 * revocation can explain a task coming back soon. */
static void real_dispatcher_start(void)
{
    char path[512], log[200];
    char *argv[] = {path,
                    "--lease-ms",
                    "60000",
                    "--offer-timeout-ms",
                    "60000",
                    "--stream-mb",
                    "8",
                    "--creds",
                    ids[DSP].m.path,
                    "--nats-log",
                    srv.log,
                    NULL};

    snprintf(path, sizeof(path), "%s/dispatcher/twinline-dispatcher",
             TL_BINARY_DIR);
    snprintf(log, sizeof(log), "%s/dispatcher.log", srv.dir);
    snprintf(dispatcher_log, sizeof(dispatcher_log), "%s", log);
    dispatcher_pid = fork();
    assert_true(dispatcher_pid >= 0);
    if (dispatcher_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        setenv("TL_DB", fx.cfg.db, 1);
        setenv("TL_NATS", srv.url, 1);
        setenv("TL_PREFIX", P, 1);
        setenv("TL_LOG", "info", 1);
        unsetenv("TL_NATS_CREDS");
        unsetenv("TL_NATS_LOG");
        if (freopen(log, "w", stderr) == NULL)
            _exit(127);
        execv(path, argv);
        _exit(127);
    }
}

static void real_dispatcher_stop(void)
{
    int st;

    if (dispatcher_pid <= 0)
        return;
    kill(dispatcher_pid, SIGTERM);
    waitpid(dispatcher_pid, &st, 0);
    dispatcher_pid = 0;
}

static int setup(void **state)
{
    FILE *quiet = fopen("/dev/null", "w");
    err e = {0};

    (void)state;
    fixture_setup(&fx, "attack");
    harness_seed(&fx);
    /* A second operator, whose pool serves no contract of bank1. */
    fixture_exec(&fx, "INSERT INTO operators (id, name) VALUES ('op2', 'Two');"
                      "INSERT INTO pools (id, operator_id, name) VALUES"
                      " ('rival', 'op2', 'Rival');");
    nats_server_dir(&srv, "tl_attack");
    for (int i = 0; i < NID; i++) {
        char out[256];

        snprintf(out, sizeof(out), "%s/%s%s%s.creds", srv.dir, ids[i].role,
                 ids[i].party != NULL ? "-" : "",
                 ids[i].party != NULL ? ids[i].party : "");
        if (cmd_identity_create(fx.db, ids[i].role, ids[i].party, NULL, out,
                                &ids[i].m, &e) != ST_OK)
            fail_msg("identity %s: %s", ids[i].role, e.msg);
    }
    snprintf(fx.cfg.nats, sizeof(fx.cfg.nats), "%s", "nats://127.0.0.1:1");
    if (cmd_nats_auth_apply(&fx.cfg, fx.db, srv.auth, NULL, quiet, &e) != ST_OK)
        fail_msg("nats-auth: %s", e.msg);
    fclose(quiet);
    nats_server_start(&srv);
    snprintf(fx.cfg.nats, sizeof(fx.cfg.nats), "%s", srv.url);
    real_dispatcher_start();
    /* Serving (request retries while it is not), and so following the
     * server's log from here on. */
    {
        bus *op1 = as(OP1);
        expect_code(request(op1, P ".ops.op1.task.priority",
                            "{\"task_id\":987654,\"priority\":1}"),
                    "not_found");
        bus_close(op1);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    real_dispatcher_stop();
    nats_server_stop(&srv);
    fixture_teardown(&fx);
    return 0;
}

/* ---- the attacks ------------------------------------------------------- */

static void test_anonymous_and_strangers_refused(void **state)
{
    char path[256];
    nkey *k = NULL;
    bus_opts o;
    bus *b = NULL;
    err e = {0};

    (void)state;
    assert_int_equal(bus_connect(&b, srv.url, "anonymous", &e), ST_UNAVAILABLE);
    assert_null(b);
    assert_non_null(strstr(e.msg, "requires credentials"));
    /* A key of one's own making, claiming to be worker wa. */
    snprintf(path, sizeof(path), "%s/stranger.creds", srv.dir);
    assert_int_equal(nkey_generate(&k, &e), ST_OK);
    assert_int_equal(nkey_creds_write(path, k, "worker-wa", "worker", "wa", &e),
                     ST_OK);
    nkey_destroy(k);
    memset(&o, 0, sizeof(o));
    o.url = srv.url;
    o.creds = path;
    assert_int_equal(bus_connect_opts(&b, &o, &e), ST_UNAVAILABLE);
    assert_non_null(strstr(e.msg, "refused the credentials"));
}

/* Worker wa's credentials: nothing of worker wb's, of the tenants' or of
 * JetStream; the dispatcher still refuses wb's reservation on wa's own
 * subjects. */
static void test_worker_confined(void **state)
{
    bus *wa = as(WA), *wb = as(WB), *t1 = as(T1);
    seen *stolen = seen_new(), *wb_offers = seen_new();
    char offer[2048], subject[160];
    agent_offer o;
    char *body = NULL;
    size_t len;
    err e = {0};

    (void)state;
    sub(wb, P ".worker.wb.offer", wb_offers);
    sub(wa, P ".worker.wb.offer", stolen);
    nats_server_expect_violation(wa, 1, P ".worker.wb.offer");
    sub(wa, ">", stolen);
    nats_server_expect_violation(wa, 2, ">");
    snprintf(subject, sizeof(subject), "_INBOX_%s.>", ids[WB].m.id);
    sub(wa, subject, stolen);
    nats_server_expect_violation(wa, 3, subject);
    sub(wa, "_INBOX.>", stolen);
    nats_server_expect_violation(wa, 4, "_INBOX.>");
    sub(wa, P ".evt.>", stolen);
    nats_server_expect_violation(wa, 5, P ".evt.>");

    nats_server_pub(wa, P ".agent.wb.presence", "{\"presence\":\"available\"}");
    nats_server_expect_violation(wa, 6, P ".agent.wb.presence");
    nats_server_pub(wa, P ".api.bank1.case.submit", "{}");
    nats_server_expect_violation(wa, 7, P ".api.bank1.case.submit");
    nats_server_pub(wa, P ".worker.wb.offer", "{}");
    nats_server_expect_violation(wa, 8, P ".worker.wb.offer");
    nats_server_pub(wa, P ".ops.op1.task.priority",
                    "{\"task_id\":1,\"priority\":9}");
    nats_server_expect_violation(wa, 9, P ".ops.op1.task.priority");
    nats_server_pub(wa, "$JS.API.STREAM.INFO." STREAM, "");
    nats_server_expect_violation(wa, 10, "$JS.API.STREAM.INFO." STREAM);
    nats_server_pub(wa, "$JS.API.CONSUMER.DELETE." STREAM ".billing", "");
    nats_server_expect_violation(wa, 11,
                                 "$JS.API.CONSUMER.DELETE." STREAM ".billing");
    nats_server_pub(wa, "$JS.API.STREAM.DELETE." STREAM, "");
    nats_server_expect_violation(wa, 12, "$JS.API.STREAM.DELETE." STREAM);

    /* wb's offer reaches wb, and not wa, whose connection would have
     * carried it before this round trip. */
    presence(wb, "wb", "available");
    submit(t1, "A1");
    seen_wait(wb_offers, 1, offer, sizeof(offer));
    assert_int_equal(bus_flush(wa, 2000, &e), ST_OK);
    assert_int_equal(seen_count(stolen), 0);

    /* Accepting it as wb on wb's subject is refused by the server; on wa's
     * own subject by the dispatcher. */
    assert_int_equal(agent_offer_parse(offer, strlen(offer), &o, &e), ST_OK);
    assert_int_equal(agent_msg_accept(&o, &body, &len, &e), ST_OK);
    nats_server_pub(wa, P ".agent.wb.accept", body);
    nats_server_expect_violation(wa, 13, P ".agent.wb.accept");
    expect_code(request(wa, P ".agent.wa.accept", body), "not_yours");
    assert_int_equal(fixture_i64(&fx, "SELECT count(*) FROM tasks WHERE "
                                      "state = 'assigned'"),
                     0);
    free(body);
    /* wb leaves the task to others; later tests need wb's voice slot. */
    assert_int_equal(
        agent_msg_reject(&o, "leaving it to another", &body, &len, &e), ST_OK);
    expect_ok(request(wb, P ".agent.wb.reject", body));
    free(body);
    presence(wb, "wb", "offline");
    saw[WA] += nats_server_violations(wa);
    bus_close(wa);
    bus_close(wb);
    bus_close(t1);
    free(stolen);
    free(wb_offers);
}

/* Bank1 submits case ext; worker wb (its offers in offers, which have
 * none waiting) takes the offer and completes it with outcome code, which
 * has no fields. */
static void complete_one(bus *wb, seen *offers, const char *ext,
                         const char *code)
{
    bus *t1 = as(T1);
    char offer[2048];
    agent_outcome oc;
    agent_offer o;
    char *body = NULL;
    size_t len;
    int n = seen_count(offers);
    err e = {0};

    sub(wb, P ".worker.wb.offer", offers);
    presence(wb, "wb", "available");
    submit(t1, ext);
    seen_wait(offers, n + 1, offer, sizeof(offer));
    assert_int_equal(agent_offer_parse(offer, strlen(offer), &o, &e), ST_OK);
    assert_int_equal(agent_msg_accept(&o, &body, &len, &e), ST_OK);
    expect_ok(request(wb, P ".agent.wb.accept", body));
    free(body);
    memset(&oc, 0, sizeof(oc));
    oc.index = -1;
    for (int i = 0; i < o.noutcomes; i++)
        if (strcmp(o.outcomes[i].code, code) == 0)
            oc.index = i;
    assert_true(oc.index >= 0);
    assert_int_equal(agent_msg_complete(&o, &oc, &body, &len, &e), ST_OK);
    expect_ok(request(wb, P ".agent.wb.complete", body));
    free(body);
    presence(wb, "wb", "offline");
    bus_close(t1);
}

/* Tenant bank1's credentials: nothing of bank2's API, replies or events,
 * and its own events consumer read but not deleted. */
static void test_tenant_confined(void **state)
{
    bus *t1 = as(T1), *t2 = as(T2), *wb = as(WB);
    seen *stolen = seen_new(), *wb_offers = seen_new();
    bus_msg *msgs[16];
    bus_pull *pull = NULL;
    char subject[160], last[256];
    long v;
    json_t *r;
    int n = 0;
    err e = {0};

    (void)state;
    nats_server_pub(t1, P ".api.bank2.case.submit", "{}");
    nats_server_expect_violation(t1, 1, P ".api.bank2.case.submit");
    snprintf(subject, sizeof(subject), "_INBOX_%s.>", ids[T2].m.id);
    sub(t1, subject, stolen);
    nats_server_expect_violation(t1, 2, subject);
    sub(t1, P ".evt.bank2.>", stolen);
    nats_server_expect_violation(t1, 3, P ".evt.bank2.>");
    sub(t1, P ".evt.>", stolen);
    nats_server_expect_violation(t1, 4, P ".evt.>");
    /* Binding to bank2's consumer gets nothing: its info request and the
     * fetch are refused (a refused info makes cnats bind without it). */
    if (bus_pull_bind(&pull, t1, STREAM, "events_bank2", &e) == ST_OK) {
        assert_int_equal(bus_pull_fetch(pull, 16, 1000, msgs, &n, &e), ST_OK);
        assert_int_equal(n, 0);
        bus_pull_destroy(pull);
        pull = NULL;
    }
    for (int i = 0; i < WAIT_MS / 10 && nats_server_violations(t1) < 5; i++)
        clock_sleep_ms(10);
    v = nats_server_violations(t1);
    assert_true(v >= 5);
    bus_last_violation(t1, last, sizeof(last));
    assert_non_null(strstr(last, "." STREAM ".events_bank2"));
    nats_server_pub(t1, "$JS.API.CONSUMER.DELETE." STREAM ".events_bank1", "");
    nats_server_expect_violation(t1, v + 1,
                                 "CONSUMER.DELETE." STREAM ".events_bank1");
    nats_server_pub(t1, "$JS.API.CONSUMER.DURABLE.CREATE." STREAM ".mine",
                    "{}");
    nats_server_expect_violation(t1, v + 2,
                                 "CONSUMER.DURABLE.CREATE." STREAM ".mine");

    /* bank2's reply reaches bank2 only. */
    r = request(t2, P ".api.bank2.case.submit",
                "{\"external_id\":\"B1\",\"case_type\":\"loan\"}");
    assert_false(json_is_true(json_object_get(r, "ok")));
    json_decref(r);
    assert_int_equal(bus_flush(t1, 2000, &e), ST_OK);
    assert_int_equal(seen_count(stolen), 0);

    /* Its own events, from the consumer the dispatcher made for it: wb
     * records an outcome of bank1's case. */
    complete_one(wb, wb_offers, "T1", "dispute");
    assert_int_equal(bus_pull_bind(&pull, t1, STREAM, "events_bank1", &e),
                     ST_OK);
    for (int i = 0; i < WAIT_MS / 1000 && n == 0; i++)
        assert_int_equal(bus_pull_fetch(pull, 16, 1000, msgs, &n, &e), ST_OK);
    assert_true(n > 0);
    for (int i = 0; i < n; i++) {
        assert_true(strncmp(bus_msg_subject(msgs[i]), P ".evt.bank1.",
                            strlen(P ".evt.bank1.")) == 0);
        assert_int_equal(bus_msg_ack(msgs[i], &e), ST_OK);
        bus_msg_free(msgs[i]);
    }
    saw[T1] += nats_server_violations(t1);
    bus_pull_destroy(pull);
    bus_close(t1);
    bus_close(t2);
    bus_close(wb);
    free(stolen);
    free(wb_offers);
}

/* Operator op2 cannot change op1's tasks: not on op1's subject (the
 * server), not on its own (the dispatcher: not in a pool of op2). */
static void test_operator_confined(void **state)
{
    bus *op1 = as(OP1), *op2 = as(OP2);
    char body[96], sql[128];
    int64_t task = fixture_i64(&fx, "SELECT min(id) FROM tasks");

    (void)state;
    assert_true(task > 0);
    snprintf(body, sizeof(body), "{\"task_id\":%lld,\"priority\":42}",
             (long long)task);
    snprintf(sql, sizeof(sql), "SELECT priority FROM tasks WHERE id = %lld",
             (long long)task);
    nats_server_pub(op2, P ".ops.op1.task.priority", body);
    nats_server_expect_violation(op2, 1, P ".ops.op1.task.priority");
    expect_code(request(op2, P ".ops.op2.task.priority", body), "not_yours");
    expect_code(request(op2, P ".ops.op2.task.priority",
                        "{\"task_id\":987654,\"priority\":1}"),
                "not_found");
    assert_int_not_equal(fixture_i64(&fx, sql), 42);
    expect_ok(request(op1, P ".ops.op1.task.priority", body));
    assert_int_equal(fixture_i64(&fx, sql), 42);
    expect_audit("task.priority", "operator:op1", ids[OP1].m.id, "task", task);
    saw[OP2] += nats_server_violations(op2);
    bus_close(op1);
    bus_close(op2);
}

/* The console: what it forwards and its own consumer, nothing else. */
static void test_console_confined(void **state)
{
    bus *con = as(CON);
    seen *stolen = seen_new();
    bus_pull *pull = NULL;
    char body[96];
    err e = {0};

    (void)state;
    assert_int_equal(bus_pull_create(&pull, con, STREAM, P ".evt.*.case",
                                     "console_hooks", &e),
                     ST_OK);
    bus_pull_destroy(pull);
    sub(con, P ".worker.>", stolen);
    nats_server_expect_violation(con, 1, P ".worker.>");
    nats_server_pub(con, "$JS.API.STREAM.DELETE." STREAM, "");
    nats_server_expect_violation(con, 2, "$JS.API.STREAM.DELETE." STREAM);
    nats_server_pub(con, P ".agent.wa.accept", "{}");
    nats_server_expect_violation(con, 3, P ".agent.wa.accept");
    snprintf(body, sizeof(body), "{\"task_id\":%lld,\"priority\":7}",
             (long long)fixture_i64(&fx, "SELECT min(id) FROM tasks"));
    expect_ok(request(con, P ".ops.op1.task.priority", body));
    /* The console forwards for operator op1: its identity is recorded. */
    expect_audit("task.priority", "operator:op1", ids[CON].m.id, "task",
                 fixture_i64(&fx, "SELECT min(id) FROM tasks"));
    saw[CON] += nats_server_violations(con);
    bus_close(con);
    free(stolen);
}

/* Revoking worker wb cuts its connection at the reload, and the task it
 * held goes back to the queue at once (leases are 60 s here): worker wa
 * is offered it. */
static void test_revoked_worker_cut_off(void **state)
{
    bus *wa = as(WA), *wb = as(WB), *t1 = as(T1), *again = NULL;
    seen *wa_offers = seen_new(), *wb_offers = seen_new();
    config admin = fx.cfg;
    char offer[2048], sql[160];
    FILE *quiet = fopen("/dev/null", "w");
    admin_revoked rv;
    agent_offer o, o2;
    bool released = false;
    bus_opts bo;
    char *body = NULL;
    size_t len;
    int64_t t0;
    err e = {0};

    (void)state;
    sub(wb, P ".worker.wb.offer", wb_offers);
    sub(wa, P ".worker.wa.offer", wa_offers);
    presence(wb, "wb", "available");
    submit(t1, "R1");
    seen_wait(wb_offers, 1, offer, sizeof(offer));
    assert_int_equal(agent_offer_parse(offer, strlen(offer), &o, &e), ST_OK);
    assert_int_equal(agent_msg_accept(&o, &body, &len, &e), ST_OK);
    expect_ok(request(wb, P ".agent.wb.accept", body));
    free(body);

    t0 = clock_mono_us();
    snprintf(admin.creds, sizeof(admin.creds), "%s", ids[ADM].m.path);
    assert_int_equal(cmd_identity_revoke(fx.db, ids[WB].m.id, &rv, &e), ST_OK);
    if (cmd_nats_auth_apply(&admin, fx.db, srv.auth, srv.pidfile, quiet, &e) !=
        ST_OK)
        fail_msg("nats-auth --reload: %s", e.msg);
    assert_int_equal(cmd_identity_notify_revoked(&admin, &rv, &released, &e),
                     ST_OK);
    assert_true(released);
    fclose(quiet);

    /* Cut off, and refused when it tries again. */
    assert_true(connected_within(wb, false));
    config_bus_opts(&fx.cfg, "wb again", &bo);
    bo.creds = ids[WB].m.path;
    assert_int_equal(bus_connect_opts(&again, &bo, &e), ST_UNAVAILABLE);

    /* Its task is offered to wa, long before wb's lease would end (wa
     * passes on the older tasks waiting before it). */
    presence(wa, "wa", "available");
    for (int n = 1;; n++) {
        seen_wait(wa_offers, n, offer, sizeof(offer));
        assert_int_equal(agent_offer_parse(offer, strlen(offer), &o2, &e),
                         ST_OK);
        if (o2.task_id == o.task_id)
            break;
        assert_int_equal(agent_msg_reject(&o2, "not this one", &body, &len, &e),
                         ST_OK);
        expect_ok(request(wa, P ".agent.wa.reject", body));
        free(body);
    }
    assert_true(clock_mono_us() - t0 < 30 * 1000000LL);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM reservations WHERE id = %lld AND state = "
             "'rescinded'",
             (long long)o.reservation_id);
    assert_int_equal(fixture_i64(&fx, sql), 1);
    presence(wa, "wa", "offline");
    bus_close(wa);
    bus_close(wb);
    bus_close(t1);
    free(wa_offers);
    free(wb_offers);
}

static bool file_has(const char *path, const char *text)
{
    char *buf = malloc(1 << 20);
    FILE *f = fopen(path, "r");
    size_t n = 0;
    bool hit = false;

    if (buf != NULL && f != NULL) {
        n = fread(buf, 1, (1 << 20) - 1, f);
        buf[n] = '\0';
        hit = strstr(buf, text) != NULL;
    }
    if (f != NULL)
        fclose(f);
    free(buf);
    return hit;
}

/* Every attacker, by identity, in the dispatcher's log and figures. */
static void test_violations_recorded(void **state)
{
    static const char *const who[] = {"worker-wa", "tenant-bank1",
                                      "operator-op2", "console"};
    const int64_t want[] = {saw[WA], saw[T1], saw[OP2], saw[CON]};
    char sql[200], text[160];
    stats *st = NULL;
    err e = {0};
    int64_t total = 0;

    (void)state;
    for (int i = 0; i < 4; i++) {
        assert_true(want[i] > 0);
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM nats_violations WHERE identity = '%s' "
                 "AND kind <> 'auth'",
                 who[i]);
        assert_int_equal(db_i64_wait(sql, want[i]), want[i]);
        total += want[i];
        snprintf(text, sizeof(text), "permission violation by identity %s",
                 who[i]);
        if (!file_has(dispatcher_log, text))
            fail_msg("the dispatcher's log (%s) lacks \"%s\"", dispatcher_log,
                     text);
    }
    /* The revoked worker's attempts to come back. */
    assert_true(db_i64_wait("SELECT count(*) FROM nats_violations WHERE "
                            "identity = 'worker-wb' AND kind = 'auth'",
                            1) >= 1);
    assert_true(file_has(dispatcher_log, "identity worker-wb (worker wb) was "
                                         "revoked"));

    assert_int_equal(stats_collect(fx.db, &st, &e), ST_OK);
    assert_int_equal(st->violations_24h, total);
    assert_true(st->refused_24h >= 1);
    /* What `twinline stats` prints. */
    {
        char *printed = NULL, line[96];
        size_t plen = 0;
        FILE *m = open_memstream(&printed, &plen);

        stats_print(st, m);
        fclose(m);
        snprintf(line, sizeof(line),
                 "Refused by NATS (24h): permission violations %lld,",
                 (long long)total);
        assert_non_null(strstr(printed, line));
        assert_non_null(strstr(printed, "worker-wa"));
        free(printed);
    }
    for (int i = 0; i < 4; i++) {
        bool found = false;
        for (int v = 0; v < st->nviolations; v++)
            found = found || strcmp(st->violations[v].identity, who[i]) == 0;
        assert_true(found);
    }
    stats_destroy(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anonymous_and_strangers_refused),
        cmocka_unit_test(test_worker_confined),
        cmocka_unit_test(test_tenant_confined),
        cmocka_unit_test(test_operator_confined),
        cmocka_unit_test(test_console_confined),
        cmocka_unit_test(test_revoked_worker_cut_off),
        cmocka_unit_test(test_violations_recorded),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
