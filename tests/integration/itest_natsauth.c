/*
 * The generated NATS authorization, proved on a nats-server of the test's
 * own (not the suite's open one): it runs on 127.0.0.1 on a free port with
 * the config natsauth_config made from an identity list, JetStream with
 * storage limits in a temporary directory, and is stopped at the end.
 *
 * Every refusal is proved by the server's asynchronous permission error
 * (never by a publish's return code, which is OK regardless) and by a
 * sentinel: a message sent after the refused one, on the same connections,
 * that does arrive, so the refused one would have arrived before it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "clock.h"
#include "nats_server.h"
#include "natsauth.h"
#include "nkey.h"
#include "tl_test.h"

#define P       "tl"
#define STREAM  "TL_EVENTS"
#define WAIT_MS 10000

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* How many times the server's log says it reloaded its configuration. */
static int reloads(const nats_server *s)
{
    char line[1024];
    int n = 0;
    FILE *f = fopen(s->log, "r");

    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL)
        n += strstr(line, "Reloaded server configuration") != NULL;
    fclose(f);
    return n;
}

/* ---- identities -------------------------------------------------------- */

typedef struct ident {
    const char *id, *role, *party;
    char pub[NKEY_PUBLIC_LEN + 1];
    char creds[192];
    bool listed; /* in the server's authorization */
} ident;

enum { DSP, BIL, JSB, ZHB, W1, W2, OPA, OPB, ADM, W3, NIDENT };

static ident ids[NIDENT] = {
    [DSP] = {"dsp", "dispatcher", "-", "", "", true},
    [BIL] = {"bil", "billing", "-", "", "", true},
    [JSB] = {"jsbank-core", "tenant", "jsbank", "", "", true},
    [ZHB] = {"zhbank-app", "tenant", "zhbank", "", "", true},
    [W1] = {"w001", "worker", "w001", "", "", true},
    [W2] = {"w002", "worker", "w002", "", "", true},
    [OPA] = {"op-acme", "operator", "acme", "", "", true},
    [OPB] = {"op-beta", "operator", "beta", "", "", true},
    [ADM] = {"admin", "admin", "-", "", "", true},
    [W3] = {"w003", "worker", "w003", "", "", false},
};

static nats_server srv;
static nats_server tls_srv;

/* Write the identity list of what is listed, parse it back (the parser is
 * what an operator's file goes through), and write dir/auth.conf. */
static void write_auth(const char *dir)
{
    char line[256], path[128];
    natsauth_identity *list = NULL;
    char *conf = NULL;
    size_t n = 0;
    char text[4096] = "# identity role party public_key\n";
    err e = {0};

    for (int i = 0; i < NIDENT; i++) {
        if (!ids[i].listed)
            continue;
        snprintf(line, sizeof(line), "%s\t%s %s %s\n", ids[i].id, ids[i].role,
                 ids[i].party, ids[i].pub);
        strncat(text, line, sizeof(text) - strlen(text) - 1);
    }
    if (natsauth_list_parse(text, strlen(text), &list, &n, &e) != ST_OK)
        fail_msg("identity list: %s", e.msg);
    if (natsauth_config(P, list, n, &conf, &e) != ST_OK)
        fail_msg("config: %s", e.msg);
    snprintf(path, sizeof(path), "%s/auth.conf", dir);
    write_file(path, conf);
    free(conf);
    free(list);
}

static void reload(nats_server *s)
{
    int before = reloads(s);

    write_auth(s->dir);
    assert_int_equal(kill(s->pid, SIGHUP), 0);
    for (int i = 0; i < WAIT_MS / 20 && reloads(s) == before; i++)
        clock_sleep_ms(20);
    if (reloads(s) == before)
        fail_msg("nats-server did not reload; see %s/nats.log", s->dir);
}

static int setup(void **state)
{
    err e = {0};

    (void)state;
    nats_server_dir(&srv, "tl_natsauth");
    for (int i = 0; i < NIDENT; i++) {
        nkey *k = NULL;
        assert_int_equal(nkey_generate(&k, &e), ST_OK);
        snprintf(ids[i].pub, sizeof(ids[i].pub), "%s", nkey_public(k));
        snprintf(ids[i].creds, sizeof(ids[i].creds), "%s/%s.creds", srv.dir,
                 ids[i].id);
        if (nkey_creds_write(ids[i].creds, k, ids[i].id, ids[i].role,
                             ids[i].party, &e) != ST_OK)
            fail_msg("%s", e.msg);
        nkey_destroy(k);
    }
    write_auth(srv.dir);
    nats_server_start(&srv);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    /* TL_ITEST_KEEP=1 keeps the servers' logs and configs to look at. */
    nats_server_stop(&srv);
    nats_server_stop(&tls_srv);
    return 0;
}

/* ---- connections and what they saw ----------------------------------- */

#define SEEN_MAX 256

/* Subjects a connection's handlers received, in order. */
typedef struct seen {
    pthread_mutex_t lock;
    int n;
    char subj[SEEN_MAX][160];
    char data[SEEN_MAX][160];
    bus *respond; /* answer requests with {"ok":true} when set */
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
    if (s->respond != NULL && bus_msg_reply(m) != NULL) {
        char reply[256];
        snprintf(reply, sizeof(reply), "{\"ok\":true,\"subject\":\"%s\"}",
                 bus_msg_subject(m));
        bus_respond(s->respond, m, reply, strlen(reply), NULL);
    }
    bus_msg_free(m);
}

static seen *seen_new(void)
{
    seen *s = calloc(1, sizeof(*s));

    assert_non_null(s);
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

static void seen_free(seen *s)
{
    if (s == NULL)
        return;
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* How many received subjects start with prefix. */
static int seen_count(seen *s, const char *prefix)
{
    int n = 0;

    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < s->n; i++)
        n += strncmp(s->subj[i], prefix, strlen(prefix)) == 0;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* Wait until at least want subjects starting with prefix arrived. */
static void seen_wait(seen *s, const char *prefix, int want)
{
    for (int i = 0; i < WAIT_MS / 10 && seen_count(s, prefix) < want; i++)
        clock_sleep_ms(10);
    if (seen_count(s, prefix) < want)
        fail_msg("%d message(s) on %s did not arrive", want, prefix);
}

static bus *connect_as(const nats_server *s, int who, bool tls_ca)
{
    char ca[192];
    bus_opts o;
    bus *b = NULL;
    err e = {0};

    memset(&o, 0, sizeof(o));
    o.url = s->url;
    o.name = ids[who].id;
    o.creds = ids[who].creds;
    snprintf(ca, sizeof(ca), "%s/tls/ca.pem", s->dir);
    if (tls_ca)
        o.tls_ca = ca;
    if (bus_connect_opts(&b, &o, &e) != ST_OK)
        fail_msg("connect as %s: %s", ids[who].id, e.msg);
    return b;
}

static void sub(bus *b, const char *subject, seen *s)
{
    err e = {0};

    if (bus_subscribe(b, subject, NULL, on_seen, s, &e) != ST_OK)
        fail_msg("subscribe %s: %s", subject, e.msg);
    assert_int_equal(bus_flush(b, 2000, &e), ST_OK);
}

/* A request that must be answered; returns the reply's text in buf. */
static void request_ok(bus *b, const char *subject, char *buf, size_t cap)
{
    bus_msg *r = NULL;
    err e = {0};

    if (bus_request(b, subject, "{}", 2, 5000, &r, &e) != ST_OK)
        fail_msg("request %s: %s", subject, e.msg);
    snprintf(buf, cap, "%.*s", (int)bus_msg_len(r), bus_msg_data(r));
    bus_msg_free(r);
}

/* The dispatcher's identity, answering every request as the real one
 * would (the test is about the server's permissions, not the dispatcher). */
typedef struct core {
    bus *b;
    seen *s;
} core;

static core core_start(void)
{
    core c;

    c.b = connect_as(&srv, DSP, false);
    c.s = seen_new();
    c.s->respond = c.b;
    sub(c.b, P ".api.>", c.s);
    sub(c.b, P ".agent.>", c.s);
    sub(c.b, P ".ops.>", c.s);
    return c;
}

static void core_stop(core *c)
{
    bus_close(c->b);
    seen_free(c->s);
}

/* ---- the tests ---------------------------------------------------------- */

static void test_anonymous_and_unknown_refused(void **state)
{
    bus_opts o;
    bus *b = NULL;
    err e = {0};

    (void)state;
    assert_int_equal(bus_connect(&b, srv.url, "anonymous", &e), ST_UNAVAILABLE);
    assert_null(b);
    assert_non_null(strstr(e.msg, "requires credentials"));

    /* A well-formed identity the server does not list (w003, not yet
     * added) is refused too. */
    memset(&o, 0, sizeof(o));
    o.url = srv.url;
    o.creds = ids[W3].creds;
    assert_int_equal(bus_connect_opts(&b, &o, &e), ST_UNAVAILABLE);
    assert_null(b);
    assert_non_null(strstr(e.msg, "refused the credentials"));

    /* Credentials others may read are refused before any connection. */
    assert_int_equal(chmod(ids[W3].creds, 0640), 0);
    assert_int_equal(bus_connect_opts(&b, &o, &e), ST_CONFIG);
    assert_non_null(strstr(e.msg, "chmod 600"));
    assert_int_equal(chmod(ids[W3].creds, 0600), 0);
}

static void test_each_party_on_its_own_subjects(void **state)
{
    core c = core_start();
    bus *t = connect_as(&srv, JSB, false);
    bus *w = connect_as(&srv, W1, false);
    bus *op = connect_as(&srv, OPA, false);
    bus *adm = connect_as(&srv, ADM, false);
    seen *ws = seen_new(), *pipe = seen_new();
    char reply[256], inbox[128];
    err e = {0};

    (void)state;
    request_ok(t, P ".api.jsbank.case.submit", reply, sizeof(reply));
    assert_non_null(strstr(reply, "\"ok\":true"));
    request_ok(w, P ".agent.w001.accept", reply, sizeof(reply));
    assert_non_null(strstr(reply, "agent.w001.accept"));
    request_ok(op, P ".ops.acme.task.priority", reply, sizeof(reply));
    assert_non_null(strstr(reply, "ops.acme.task.priority"));
    request_ok(adm, P ".api.zhbank.case.get", reply, sizeof(reply));
    request_ok(adm, P ".ops.beta.task.priority", reply, sizeof(reply));

    /* Each party's replies came to its own inbox prefix. */
    assert_string_equal(bus_inbox_prefix(w), "_INBOX_w001");
    assert_string_equal(bus_inbox_prefix(t), "_INBOX_jsbank-core");

    /* The pipelined form the agents use: a wildcard inbox subscription. */
    assert_int_equal(bus_inbox_new(w, inbox, sizeof(inbox), &e), ST_OK);
    assert_memory_equal(inbox, "_INBOX_w001.", 12);
    strncat(inbox, ".*", sizeof(inbox) - strlen(inbox) - 1);
    sub(w, inbox, pipe);
    inbox[strlen(inbox) - 1] = '7';
    assert_int_equal(
        bus_publish_request(w, P ".agent.w001.heartbeat", inbox, "{}", 2, &e),
        ST_OK);
    seen_wait(pipe, "_INBOX_w001.", 1);

    /* The dispatcher's offers reach the worker. */
    sub(w, P ".worker.w001.>", ws);
    nats_server_pub(c.b, P ".worker.w001.offer", "{\"reservation_id\":1}");
    seen_wait(ws, P ".worker.w001.offer", 1);

    assert_int_equal(nats_server_violations(c.b), 0);
    assert_int_equal(nats_server_violations(t), 0);
    assert_int_equal(nats_server_violations(w), 0);
    assert_int_equal(nats_server_violations(op), 0);
    assert_int_equal(nats_server_violations(adm), 0);
    bus_close(t);
    bus_close(w);
    bus_close(op);
    bus_close(adm);
    seen_free(ws);
    seen_free(pipe);
    core_stop(&c);
}

static void test_worker_confined(void **state)
{
    core c = core_start();
    bus *w1 = connect_as(&srv, W1, false);
    bus *w2 = connect_as(&srv, W2, false);
    seen *s1 = seen_new(), *s2 = seen_new(), *snoop = seen_new();
    char reply[256];
    bus_msg *r = NULL;
    long v = 0;
    err e = {0};

    (void)state;
    sub(w1, P ".worker.w001.>", s1);
    sub(w2, P ".worker.w002.>", s2);

    /* Subscribing to another worker's offers, to everything, to another
     * inbox or the default inbox: refused by the server. */
    sub(w1, P ".worker.w002.offer", snoop);
    nats_server_expect_violation(w1, ++v, P ".worker.w002.offer");
    sub(w1, ">", snoop);
    nats_server_expect_violation(w1, ++v, "Subscription to \">\"");
    sub(w1, "_INBOX_w002.>", snoop);
    nats_server_expect_violation(w1, ++v, "_INBOX_w002.>");
    sub(w1, "_INBOX.>", snoop);
    nats_server_expect_violation(w1, ++v, "_INBOX.>");
    sub(w1, P ".evt.>", snoop);
    nats_server_expect_violation(w1, ++v, P ".evt.>");

    /* An offer for w002 and w002's reply do not reach w001: the sentinel
     * (w001's own offer, sent after them) does, and nothing before it. */
    nats_server_pub(c.b, P ".worker.w002.offer", "{\"reservation_id\":2}");
    seen_wait(s2, P ".worker.w002.offer", 1);
    request_ok(w2, P ".agent.w002.accept", reply, sizeof(reply));
    nats_server_pub(c.b, P ".worker.w001.offer", "{\"reservation_id\":3}");
    seen_wait(s1, P ".worker.w001.offer", 1);
    assert_int_equal(snoop->n, 0);

    /* Publishing as another worker, as a tenant, or on the dispatcher's
     * subjects: refused, and the dispatcher never sees it. */
    nats_server_pub(w1, P ".agent.w002.complete", "{\"reservation_id\":2}");
    nats_server_expect_violation(w1, ++v, P ".agent.w002.complete");
    nats_server_pub(w1, P ".api.jsbank.case.submit", "{}");
    nats_server_expect_violation(w1, ++v, P ".api.jsbank.case.submit");
    nats_server_pub(w1, P ".worker.w002.offer", "{}");
    nats_server_expect_violation(w1, ++v, P ".worker.w002.offer");
    nats_server_pub(w1, P ".ops.acme.task.priority", "{}");
    nats_server_expect_violation(w1, ++v, P ".ops.acme.task.priority");
    request_ok(w1, P ".agent.w001.heartbeat", reply, sizeof(reply));
    assert_int_equal(seen_count(c.s, P ".agent.w002"), 1); /* w002's own */
    assert_int_equal(seen_count(c.s, P ".api."), 0);
    assert_int_equal(seen_count(c.s, P ".ops."), 0);
    assert_int_equal(seen_count(s2, P ".worker.w002.offer"), 1);

    /* JetStream's API: not even a look at the streams. */
    assert_int_equal(bus_stream_ensure(c.b, STREAM, P ".evt.>", 1 << 20, &e),
                     ST_OK);
    assert_int_not_equal(
        bus_request(w1, "$JS.API.STREAM.DELETE." STREAM, "", 0, 1000, &r, &e),
        ST_OK);
    nats_server_expect_violation(w1, ++v, "$JS.API.STREAM.DELETE." STREAM);
    assert_int_not_equal(
        bus_request(w1, "$JS.API.STREAM.NAMES", "", 0, 1000, &r, &e), ST_OK);
    nats_server_expect_violation(w1, ++v, "$JS.API.STREAM.NAMES");
    assert_int_equal(bus_stream_ensure(c.b, STREAM, P ".evt.>", 1 << 20, &e),
                     ST_OK); /* still there, unchanged */

    assert_int_equal(nats_server_violations(w2), 0);
    bus_close(w1);
    bus_close(w2);
    seen_free(s1);
    seen_free(s2);
    seen_free(snoop);
    core_stop(&c);
}

static void test_tenant_confined(void **state)
{
    core c = core_start();
    bus *t = connect_as(&srv, JSB, false);
    bus *other = connect_as(&srv, ZHB, false);
    seen *snoop = seen_new();
    const char *subj[1], *data[1], *msgid[1];
    size_t len[1];
    bus_pull *mine = NULL, *theirs = NULL;
    bus_msg *msgs[4], *r = NULL;
    char reply[256];
    long v = 0;
    int n = 0;
    err e = {0};

    (void)state;
    /* The dispatcher keeps the stream and makes each tenant's consumer. */
    assert_int_equal(bus_stream_ensure(c.b, STREAM, P ".evt.>", 1 << 20, &e),
                     ST_OK);
    assert_int_equal(bus_consumer_ensure(c.b, STREAM, "events_jsbank",
                                         P ".evt.jsbank.case", &e),
                     ST_OK);
    assert_int_equal(bus_consumer_ensure(c.b, STREAM, "events_zhbank",
                                         P ".evt.zhbank.case", &e),
                     ST_OK);
    subj[0] = P ".evt.jsbank.case";
    data[0] = "{\"type\":\"case.closed\",\"case_id\":42}";
    len[0] = strlen(data[0]);
    msgid[0] = "evt-1";
    assert_int_equal(bus_js_publish_batch(c.b, 1, subj, data, len, msgid, &e),
                     ST_OK);

    /* Its own events: bound (not created), fetched and acknowledged. */
    if (bus_pull_bind(&mine, t, STREAM, "events_jsbank", &e) != ST_OK)
        fail_msg("bind: %s", e.msg);
    assert_int_equal(bus_pull_fetch(mine, 4, 5000, msgs, &n, &e), ST_OK);
    assert_int_equal(n, 1);
    assert_memory_equal(bus_msg_data(msgs[0]), data[0], len[0]);
    assert_int_equal(bus_msg_ack(msgs[0], &e), ST_OK);
    bus_msg_free(msgs[0]);
    assert_int_equal(nats_server_violations(t), 0);

    /* Another tenant's API, replies and events are out of reach. */
    nats_server_pub(t, P ".api.zhbank.case.submit", "{}");
    nats_server_expect_violation(t, ++v, P ".api.zhbank.case.submit");
    sub(t, "_INBOX_zhbank-app.>", snoop);
    nats_server_expect_violation(t, ++v, "_INBOX_zhbank-app.>");
    sub(t, P ".evt.>", snoop);
    nats_server_expect_violation(t, ++v, P ".evt.>");
    sub(t, P ".evt.jsbank.case", snoop);
    nats_server_expect_violation(t, ++v, P ".evt.jsbank.case");
    request_ok(other, P ".api.zhbank.case.get", reply, sizeof(reply));
    request_ok(t, P ".api.jsbank.case.get", reply, sizeof(reply));
    assert_int_equal(snoop->n, 0);
    assert_int_equal(seen_count(c.s, P ".api.zhbank.case.submit"), 0);

    /* The other tenant's consumer holds an event; it never reaches t. The
     * bind's look-up is refused; cnats then binds blindly after its
     * JetStream wait (5 s), but every fetch is refused too. */
    subj[0] = P ".evt.zhbank.case";
    data[0] = "{\"type\":\"case.closed\",\"case_id\":43}";
    len[0] = strlen(data[0]);
    msgid[0] = "evt-3";
    assert_int_equal(bus_js_publish_batch(c.b, 1, subj, data, len, msgid, &e),
                     ST_OK);
    if (bus_pull_bind(&theirs, t, STREAM, "events_zhbank", &e) == ST_OK) {
        nats_server_expect_violation(t, ++v,
                                     "CONSUMER.INFO." STREAM ".events_zhbank");
        assert_int_equal(bus_pull_fetch(theirs, 4, 1000, msgs, &n, &e), ST_OK);
        assert_int_equal(n, 0);
        nats_server_expect_violation(t, ++v,
                                     "MSG.NEXT." STREAM ".events_zhbank");
        bus_pull_destroy(theirs);
    } else {
        nats_server_expect_violation(t, ++v,
                                     "CONSUMER.INFO." STREAM ".events_zhbank");
    }
    /* ... while its owner reads it. */
    if (bus_pull_bind(&theirs, other, STREAM, "events_zhbank", &e) != ST_OK)
        fail_msg("bind: %s", e.msg);
    assert_int_equal(bus_pull_fetch(theirs, 4, 5000, msgs, &n, &e), ST_OK);
    assert_int_equal(n, 1);
    assert_memory_equal(bus_msg_data(msgs[0]), data[0], len[0]);
    assert_int_equal(bus_msg_ack(msgs[0], &e), ST_OK);
    bus_msg_free(msgs[0]);
    bus_pull_destroy(theirs);
    assert_int_equal(nats_server_violations(other), 0);

    /* Its own consumer: readable, but it may not delete or change it. */
    assert_int_not_equal(
        bus_request(t, "$JS.API.CONSUMER.DELETE." STREAM ".events_jsbank", "",
                    0, 1000, &r, &e),
        ST_OK);
    nats_server_expect_violation(t, ++v,
                                 "CONSUMER.DELETE." STREAM ".events_jsbank");
    assert_int_not_equal(
        bus_request(t, "$JS.API.CONSUMER.DURABLE.CREATE." STREAM ".mine", "{}",
                    2, 1000, &r, &e),
        ST_OK);
    nats_server_expect_violation(t, ++v, "DURABLE.CREATE." STREAM ".mine");
    assert_int_equal(bus_pull_fetch(mine, 4, 200, msgs, &n, &e), ST_OK);
    assert_int_equal(n, 0); /* acknowledged, and the consumer still works */

    bus_pull_destroy(mine);
    bus_close(t);
    bus_close(other);
    seen_free(snoop);
    core_stop(&c);
}

static void test_operator_and_billing(void **state)
{
    core c = core_start();
    bus *opb = connect_as(&srv, OPB, false);
    bus *bil = connect_as(&srv, BIL, false);
    const char *subj[1], *data[1], *msgid[1];
    size_t len[1];
    bus_pull *pull = NULL;
    bus_msg *msgs[4], *r = NULL;
    char reply[256];
    int n = 0;
    err e = {0};

    (void)state;
    /* An operator's requests carry its id; another operator's are refused. */
    request_ok(opb, P ".ops.beta.task.priority", reply, sizeof(reply));
    nats_server_pub(opb, P ".ops.acme.task.priority",
                    "{\"task_id\":1,\"priority\":9}");
    nats_server_expect_violation(opb, 1, P ".ops.acme.task.priority");
    nats_server_pub(opb, P ".api.jsbank.case.submit", "{}");
    nats_server_expect_violation(opb, 2, P ".api.jsbank.case.submit");
    request_ok(opb, P ".ops.beta.task.priority", reply, sizeof(reply));
    assert_int_equal(seen_count(c.s, P ".ops.acme"), 0);

    /* Billing makes the stream and its own consumer, and bills from it. */
    if (bus_stream_ensure(bil, STREAM, P ".evt.>", 1 << 20, &e) != ST_OK)
        fail_msg("billing stream: %s", e.msg);
    if (bus_pull_create(&pull, bil, STREAM, P ".evt.*.outcome", "billing",
                        &e) != ST_OK)
        fail_msg("billing consumer: %s", e.msg);
    subj[0] = P ".evt.jsbank.outcome";
    data[0] = "{\"type\":\"outcome.recorded\",\"outcome_id\":77}";
    len[0] = strlen(data[0]);
    msgid[0] = "evt-2";
    assert_int_equal(bus_js_publish_batch(c.b, 1, subj, data, len, msgid, &e),
                     ST_OK);
    assert_int_equal(bus_pull_fetch(pull, 4, 5000, msgs, &n, &e), ST_OK);
    assert_int_equal(n, 1);
    assert_int_equal(bus_msg_ack(msgs[0], &e), ST_OK);
    bus_msg_free(msgs[0]);
    assert_int_equal(nats_server_violations(bil), 0);
    /* ... but may not delete the stream nor reach the tenants' events. */
    assert_int_not_equal(bus_stream_delete(bil, STREAM, &e), ST_OK);
    nats_server_expect_violation(bil, 1, "STREAM.DELETE." STREAM);
    assert_int_not_equal(
        bus_request(bil, "$JS.API.CONSUMER.MSG.NEXT." STREAM ".events_jsbank",
                    "{\"batch\":1}", 11, 1000, &r, &e),
        ST_OK);
    nats_server_expect_violation(bil, 2, "MSG.NEXT." STREAM ".events_jsbank");

    bus_pull_destroy(pull);
    bus_close(opb);
    bus_close(bil);
    core_stop(&c);
}

static bool connected_within(bus *b, bool want)
{
    for (int i = 0; i < WAIT_MS / 20 && bus_connected(b) != want; i++)
        clock_sleep_ms(20);
    return bus_connected(b) == want;
}

static void test_reload_adds_and_cuts_off(void **state)
{
    core c = core_start();
    bus *t = connect_as(&srv, JSB, false);
    bus *w1 = connect_as(&srv, W1, false);
    bus *w2 = connect_as(&srv, W2, false);
    bus *w3 = NULL, *again = NULL;
    seen *s2 = seen_new();
    bus_counters before_t, before_w1, before_c, after;
    char reply[256];
    bus_opts o;
    err e = {0};

    (void)state;
    sub(w2, P ".worker.w002.>", s2);
    bus_counters_get(t, &before_t);
    bus_counters_get(w1, &before_w1);
    bus_counters_get(c.b, &before_c);

    /* Add w003 and reload: it connects; nobody else was dropped. */
    ids[W3].listed = true;
    reload(&srv);
    w3 = connect_as(&srv, W3, false);
    request_ok(w3, P ".agent.w003.presence", reply, sizeof(reply));
    request_ok(t, P ".api.jsbank.case.get", reply, sizeof(reply));
    request_ok(w1, P ".agent.w001.heartbeat", reply, sizeof(reply));
    nats_server_pub(c.b, P ".worker.w002.offer", "{\"reservation_id\":5}");
    seen_wait(s2, P ".worker.w002.offer", 1);
    bus_counters_get(t, &after);
    assert_int_equal(after.disconnects, before_t.disconnects);
    bus_counters_get(w1, &after);
    assert_int_equal(after.disconnects, before_w1.disconnects);
    bus_counters_get(c.b, &after);
    assert_int_equal(after.disconnects, before_c.disconnects);

    /* Remove w002 and reload: its connection is cut and stays cut; the
     * others keep theirs. */
    ids[W2].listed = false;
    reload(&srv);
    assert_true(connected_within(w2, false));
    memset(&o, 0, sizeof(o));
    o.url = srv.url;
    o.creds = ids[W2].creds;
    assert_int_equal(bus_connect_opts(&again, &o, &e), ST_UNAVAILABLE);
    assert_non_null(strstr(e.msg, "refused the credentials"));
    request_ok(w1, P ".agent.w001.heartbeat", reply, sizeof(reply));
    request_ok(w3, P ".agent.w003.heartbeat", reply, sizeof(reply));
    bus_counters_get(w1, &after);
    assert_int_equal(after.disconnects, before_w1.disconnects);
    assert_false(bus_connected(w2));
    bus_counters_get(w2, &after);
    assert_true(after.disconnects >= 1);

    bus_close(w2);
    bus_close(w3);
    bus_close(w1);
    bus_close(t);
    seen_free(s2);
    core_stop(&c);
    ids[W2].listed = true; /* as the other tests expect */
    reload(&srv);
}

/* ---- TLS ---------------------------------------------------------------- */

static void run(const char *cmd)
{
    if (system(cmd) != 0)
        fail_msg("command failed: %s", cmd);
}

/* A CA of the test's own and a server certificate for 127.0.0.1 and
 * localhost signed by it, made with openssl. */
static void make_certs(const char *dir)
{
    char cmd[2048];

    snprintf(cmd, sizeof(cmd),
             "set -e; cd %s; mkdir -p tls; cd tls;"
             "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "
             "/CN=twinline-test-ca -keyout ca.key -out ca.pem 2>/dev/null;"
             "openssl req -newkey rsa:2048 -nodes -subj /CN=localhost "
             "-keyout server.key -out server.csr 2>/dev/null;"
             "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > "
             "ext.cnf;"
             "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
             "-CAcreateserial -days 2 -extfile ext.cnf -out server.pem "
             "2>/dev/null;"
             "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "
             "/CN=other-ca -keyout other.key -out other.pem 2>/dev/null",
             dir);
    run(cmd);
}

static void test_tls_verified(void **state)
{
    char ca[192], other[192], reply[256];
    bus_opts o;
    bus *b = NULL;
    err e = {0};

    (void)state;
    nats_server_dir(&tls_srv, "tl_natstls");
    tls_srv.tls = true;
    make_certs(tls_srv.dir);
    write_auth(tls_srv.dir);
    nats_server_start(&tls_srv);
    snprintf(ca, sizeof(ca), "%s/tls/ca.pem", tls_srv.dir);
    snprintf(other, sizeof(other), "%s/tls/other.pem", tls_srv.dir);

    /* With the CA that signed the server's certificate: connected. */
    b = connect_as(&tls_srv, W1, true);
    assert_true(bus_connected(b));
    assert_int_equal(bus_flush(b, 2000, &e), ST_OK);
    bus_close(b);
    b = NULL;

    memset(&o, 0, sizeof(o));
    o.url = tls_srv.url;
    o.creds = ids[W1].creds;
    /* Another CA, a wrong expected name, no CA at all: refused. */
    o.tls_ca = other;
    assert_int_equal(bus_connect_opts(&b, &o, &e), ST_UNAVAILABLE);
    assert_null(b);
    o.tls_ca = ca;
    o.tls_hostname = "bank.example";
    assert_int_equal(bus_connect_opts(&b, &o, &e), ST_UNAVAILABLE);
    assert_null(b);
    o.tls_hostname = "localhost";
    assert_int_equal(bus_connect_opts(&b, &o, &e), ST_OK);
    bus_close(b);
    b = NULL;
    o.tls_ca = NULL;
    o.tls_hostname = NULL;
    o.tls = true;
    assert_int_equal(bus_connect_opts(&b, &o, &e), ST_UNAVAILABLE);
    assert_null(b);
    /* Plain text to a server that requires TLS: refused. */
    snprintf(reply, sizeof(reply), "nats://127.0.0.1:%d", tls_srv.port);
    o.url = reply;
    o.tls = false;
    assert_int_equal(bus_connect_opts(&b, &o, &e), ST_UNAVAILABLE);
    assert_null(b);
    /* A CA file that is not there is the operator's to fix. */
    o.url = tls_srv.url;
    o.tls_ca = "/nonexistent/ca.pem";
    assert_int_equal(bus_connect_opts(&b, &o, &e), ST_CONFIG);
    assert_non_null(strstr(e.msg, "/nonexistent/ca.pem"));
    nats_server_stop(&tls_srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anonymous_and_unknown_refused),
        cmocka_unit_test(test_each_party_on_its_own_subjects),
        cmocka_unit_test(test_worker_confined),
        cmocka_unit_test(test_tenant_confined),
        cmocka_unit_test(test_operator_and_billing),
        cmocka_unit_test(test_reload_adds_and_cuts_off),
        cmocka_unit_test(test_tls_verified),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
