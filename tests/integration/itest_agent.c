/*
 * twinline-agent against a fake dispatcher written here, on the suite's real
 * nats-server: presence, accept, complete with a valid outcome, error
 * replies, a lost complete reply, rescinded notices, malformed offers, the
 * reject rate and the task limit. The real dispatcher is not involved.
 */
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

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "agent_sim.h"
#include "clock.h"
#include "fixture.h"
#include "jsonx.h"
#include "log.h"

#define MAX_RECS 512
#define PII      "SECRET-PII-Wang-Wei"

typedef struct rec {
    char worker[ID_MAX + 1];
    char verb[16];
    int64_t rid;
    char *body;
} rec;

/* The fake dispatcher: records every agent request and answers it. */
typedef struct fake {
    pthread_mutex_t mu;
    bus *b;
    char prefix[64];
    rec recs[MAX_RECS];
    int n;
    int64_t accept_stale_rid;   /* accept of this rid: stale_reservation */
    int64_t complete_stale_rid; /* complete of this rid: stale_reservation */
    int64_t complete_drop_rid;  /* first complete of this rid: no reply */
    bool dropped;
} fake;

static void on_agent(void *ctx, bus_msg *m)
{
    fake *f = ctx;
    const char *subject = bus_msg_subject(m);
    char worker[ID_MAX + 1] = "", verb[16] = "";
    const char *reply = "{\"ok\":true}";
    char buf[512];
    json_t *o = NULL;
    int64_t rid = 0;
    err e = {0};

    /* <prefix>.agent.<worker>.<verb> */
    sscanf(subject + strlen(f->prefix), ".agent.%64[^.].%15s", worker, verb);
    if (jsonx_parse(bus_msg_data(m), bus_msg_len(m), 65536, &o, &e) == ST_OK)
        jsonx_int(o, "reservation_id", &rid);
    pthread_mutex_lock(&f->mu);
    if (f->n < MAX_RECS) {
        rec *r = &f->recs[f->n++];

        snprintf(r->worker, sizeof(r->worker), "%s", worker);
        snprintf(r->verb, sizeof(r->verb), "%s", verb);
        r->rid = rid;
        r->body = strndup(bus_msg_data(m), bus_msg_len(m));
    }
    if (strcmp(verb, "presence") == 0) {
        snprintf(buf, sizeof(buf), "{\"ok\":true,\"presence\":\"%s\"}",
                 jsonx_str(o, "presence"));
        reply = buf;
    } else if (strcmp(verb, "accept") == 0 && rid == f->accept_stale_rid) {
        reply = "{\"ok\":false,\"error\":{\"code\":\"stale_reservation\","
                "\"message\":\"the offer expired\"}}";
    } else if (strcmp(verb, "accept") == 0) {
        snprintf(buf, sizeof(buf),
                 "{\"ok\":true,\"task\":{\"reservation_id\":%lld,\"epoch\":1,"
                 "\"task_id\":101,\"case_id\":42,\"tenant\":\"jsbank\","
                 "\"external_id\":\"LN-1\",\"customer\":{\"name\":\"" PII
                 "\",\"phone\":\"+86 138 0000 0000\"},\"payload\":{},"
                 "\"history\":[],\"outcomes\":{}}}",
                 (long long)rid);
        reply = buf;
    } else if (strcmp(verb, "complete") == 0 && rid == f->complete_stale_rid) {
        reply = "{\"ok\":false,\"error\":{\"code\":\"stale_reservation\","
                "\"message\":\"lease expired\"}}";
    } else if (strcmp(verb, "complete") == 0 && rid == f->complete_drop_rid &&
               !f->dropped) {
        f->dropped = true;
        reply = NULL; /* as if the reply were lost */
    } else if (strcmp(verb, "complete") == 0) {
        reply = "{\"ok\":true,\"outcome_id\":77,\"billable\":true,"
                "\"duplicate\":false}";
    }
    pthread_mutex_unlock(&f->mu);
    if (reply != NULL)
        bus_respond(f->b, m, reply, strlen(reply), NULL);
    json_decref(o);
    bus_msg_free(m);
}

static void fake_start(fake *f, fixture *fx)
{
    char subject[128];
    err e = {0};

    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->mu, NULL);
    snprintf(f->prefix, sizeof(f->prefix), "%s", fx->cfg.prefix);
    f->b = fixture_bus(fx);
    snprintf(subject, sizeof(subject), "%s.agent.>", f->prefix);
    assert_int_equal(bus_subscribe(f->b, subject, NULL, on_agent, f, &e),
                     ST_OK);
    assert_int_equal(bus_flush(f->b, 2000, &e), ST_OK);
}

static void fake_stop(fake *f)
{
    bus_close(f->b);
    for (int i = 0; i < f->n; i++)
        free(f->recs[i].body);
    pthread_mutex_destroy(&f->mu);
}

/* How many records match (worker may be NULL; rid 0 matches any). */
static int count(fake *f, const char *worker, const char *verb, int64_t rid)
{
    int c = 0;

    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < f->n; i++)
        if ((worker == NULL || strcmp(f->recs[i].worker, worker) == 0) &&
            strcmp(f->recs[i].verb, verb) == 0 &&
            (rid == 0 || f->recs[i].rid == rid))
            c++;
    pthread_mutex_unlock(&f->mu);
    return c;
}

/* Wait until at least want records match; returns the body of the
 * want-th (a copy the caller frees) or fails the test. */
static char *wait_rec(fake *f, const char *worker, const char *verb,
                      int64_t rid, int want, int timeout_ms)
{
    int64_t end = clock_mono_us() + (int64_t)timeout_ms * 1000;

    while (count(f, worker, verb, rid) < want) {
        if (clock_mono_us() > end)
            fail_msg("no %s #%d for %s reservation %lld within %d ms", verb,
                     want, worker != NULL ? worker : "any", (long long)rid,
                     timeout_ms);
        clock_sleep_ms(10);
    }
    pthread_mutex_lock(&f->mu);
    for (int i = 0, c = 0; i < f->n; i++) {
        if ((worker == NULL || strcmp(f->recs[i].worker, worker) == 0) &&
            strcmp(f->recs[i].verb, verb) == 0 &&
            (rid == 0 || f->recs[i].rid == rid) && ++c == want) {
            char *copy = strdup(f->recs[i].body);

            pthread_mutex_unlock(&f->mu);
            return copy;
        }
    }
    pthread_mutex_unlock(&f->mu);
    fail_msg("record vanished");
    return NULL;
}

static void send_offer(fixture *fx, bus *b, const char *worker, int64_t rid)
{
    char subject[128], body[1024];
    err e = {0};

    snprintf(subject, sizeof(subject), "%s.worker.%s.offer", fx->cfg.prefix,
             worker);
    snprintf(body, sizeof(body),
             "{\"type\":\"offer\",\"reservation_id\":%lld,\"epoch\":1,"
             "\"task_id\":%lld,\"case_id\":42,\"tenant\":\"jsbank\","
             "\"case_type\":\"loan_overdue\",\"step\":\"contact\","
             "\"channel\":\"voice\",\"timeout_ms\":15000,"
             "\"ready_at_us\":%lld,\"outcomes\":{"
             "\"promise_to_pay\":{\"billable\":true,\"fields\":{"
             "\"amount_minor\":\"amount_minor\",\"due_date\":\"date\"}},"
             "\"no_contact\":{\"billable\":false,\"fields\":{}}}}",
             (long long)rid, (long long)rid + 1000, (long long)clock_wall_us());
    assert_int_equal(bus_publish(b, subject, body, strlen(body), &e), ST_OK);
    assert_int_equal(bus_flush(b, 2000, &e), ST_OK);
}

static void send_raw(fixture *fx, bus *b, const char *worker, const char *kind,
                     const char *body)
{
    char subject[128];
    err e = {0};

    snprintf(subject, sizeof(subject), "%s.worker.%s.%s", fx->cfg.prefix,
             worker, kind);
    assert_int_equal(bus_publish(b, subject, body, strlen(body), &e), ST_OK);
    assert_int_equal(bus_flush(b, 2000, &e), ST_OK);
}

static bool date_real(const char *s)
{
    struct tm tm;
    char back[16];
    int y, m, d;
    time_t t;

    if (s == NULL || strlen(s) != 10 ||
        sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3)
        return false;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    tm.tm_hour = 12;
    t = timegm(&tm);
    gmtime_r(&t, &tm);
    strftime(back, sizeof(back), "%Y-%m-%d", &tm);
    return strcmp(back, s) == 0;
}

/* The complete body must name rid and epoch 1 and an outcome the offer
 * listed, with exactly its fields, of their types. */
static void check_complete(const char *body, int64_t rid)
{
    json_t *o = NULL, *oc, *fields;
    int64_t v = -1;
    const char *code;
    err e = {0};

    assert_int_equal(jsonx_parse(body, strlen(body), 16384, &o, &e), ST_OK);
    assert_true(jsonx_int(o, "reservation_id", &v) && v == rid);
    assert_true(jsonx_int(o, "epoch", &v) && v == 1);
    assert_int_equal(json_object_size(o), 3);
    oc = json_object_get(o, "outcome");
    code = jsonx_str(oc, "code");
    fields = json_object_get(oc, "fields");
    assert_non_null(code);
    assert_true(json_is_object(fields));
    if (strcmp(code, "promise_to_pay") == 0) {
        assert_int_equal(json_object_size(fields), 2);
        assert_true(jsonx_int(fields, "amount_minor", &v));
        assert_true(v >= 0 && v <= 1000000000000000LL);
        assert_true(date_real(jsonx_str(fields, "due_date")));
    } else {
        assert_string_equal(code, "no_contact");
        assert_int_equal(json_object_size(fields), 0);
    }
    json_decref(o);
}

static agent_sim *start_agent(fixture *fx, agent_stats *st,
                              const char *const *workers, int n,
                              double reject_rate, int64_t max_tasks)
{
    agent_sim_opts o;
    agent_sim *sim = NULL;
    err e = {0};

    agent_sim_opts_init(&o);
    o.nats = fx->cfg.nats;
    o.creds = fx->cfg.creds[0] ? fx->cfg.creds : NULL;
    o.prefix = fx->cfg.prefix;
    o.workers = workers;
    o.nworkers = n;
    o.handle_ms = 1000; /* room for the notice on a loaded machine */
    o.jitter_pct = 0;
    o.reject_rate = reject_rate;
    o.max_tasks = max_tasks;
    o.request_timeout_ms = 500;
    o.stats = st;
    if (agent_sim_start(&sim, &o, &e) != ST_OK)
        fail_msg("agent_sim_start: %s", e.msg);
    return sim;
}

static void test_agent_flow(void **state)
{
    static const char *const workers[] = {"w001", "w002"};
    char logpath[] = "/tmp/itest_agent_log_XXXXXX";
    int logfd = mkstemp(logpath), saved = dup(2);
    fixture fx;
    fake f;
    agent_stats *st = NULL;
    agent_sim *sim;
    bus *b;
    char *body, *again, logbuf[65536];
    ssize_t got;
    err e = {0};

    (void)state;
    /* Capture the agent's log to prove it never shows customer data. */
    assert_true(logfd >= 0 && saved >= 0);
    dup2(logfd, 2);
    fixture_setup(&fx, "agent_flow");
    fake_start(&f, &fx);
    b = fixture_bus(&fx);
    assert_int_equal(agent_stats_create(&st, &e), ST_OK);
    sim = start_agent(&fx, st, workers, 2, 0, 0);

    free(wait_rec(&f, "w001", "presence", 0, 1, 5000));
    free(wait_rec(&f, "w002", "presence", 0, 1, 5000));
    free(wait_rec(&f, "w001", "heartbeat", 0, 1, 5000));

    /* An offer is accepted and completed with a valid outcome. */
    send_offer(&fx, b, "w001", 9001);
    body = wait_rec(&f, "w001", "accept", 9001, 1, 5000);
    assert_string_equal(body, "{\"reservation_id\":9001,\"epoch\":1}");
    free(body);
    body = wait_rec(&f, "w001", "complete", 9001, 1, 5000);
    check_complete(body, 9001);
    free(body);

    /* A stale accept drops the task: no complete follows. */
    f.accept_stale_rid = 9002;
    send_offer(&fx, b, "w002", 9002);
    free(wait_rec(&f, "w002", "accept", 9002, 1, 5000));
    clock_sleep_ms(700);
    assert_int_equal(count(&f, NULL, "complete", 9002), 0);

    /* A stale complete is logged and dropped, and not retried. */
    f.complete_stale_rid = 9003;
    send_offer(&fx, b, "w002", 9003);
    free(wait_rec(&f, "w002", "complete", 9003, 1, 5000));
    clock_sleep_ms(700);
    assert_int_equal(count(&f, NULL, "complete", 9003), 1);

    /* A lost complete reply is retried with the very same body. */
    f.complete_drop_rid = 9004;
    send_offer(&fx, b, "w001", 9004);
    body = wait_rec(&f, "w001", "complete", 9004, 1, 5000);
    again = wait_rec(&f, "w001", "complete", 9004, 2, 5000);
    assert_string_equal(body, again);
    check_complete(again, 9004);
    free(body);
    free(again);

    /* A rescinded task is dropped before its handle time ends. */
    send_offer(&fx, b, "w001", 9005);
    free(wait_rec(&f, "w001", "accept", 9005, 1, 5000));
    send_raw(&fx, b, "w001", "notice",
             "{\"type\":\"rescinded\",\"reservation_id\":9005,"
             "\"reason\":\"timeout\"}");
    clock_sleep_ms(800);
    assert_int_equal(count(&f, NULL, "complete", 9005), 0);

    /* Malformed offers are ignored; the agent goes on working. */
    send_raw(&fx, b, "w001", "offer", "{not json");
    send_raw(&fx, b, "w001", "offer", "{\"type\":\"offer\"}");
    send_offer(&fx, b, "w002", 9006);
    body = wait_rec(&f, "w002", "complete", 9006, 1, 5000);
    check_complete(body, 9006);
    free(body);

    /* Offers for someone else's worker are not answered. */
    send_offer(&fx, b, "w999", 9007);
    clock_sleep_ms(300);
    assert_int_equal(count(&f, NULL, "accept", 9007), 0);

    /* Stopping announces every worker offline. */
    agent_sim_stop(sim);
    body = wait_rec(&f, "w001", "presence", 0, 2, 3000);
    assert_string_equal(body, "{\"presence\":\"offline\"}");
    free(body);
    body = wait_rec(&f, "w002", "presence", 0, 2, 3000);
    assert_string_equal(body, "{\"presence\":\"offline\"}");
    free(body);
    agent_sim_destroy(sim);

    assert_int_equal(agent_stats_get(st, AGENT_STAT_OFFERS), 6);
    assert_int_equal(agent_stats_get(st, AGENT_STAT_ACCEPTED), 5);
    assert_int_equal(agent_stats_get(st, AGENT_STAT_COMPLETED), 3);
    assert_int_equal(agent_stats_get(st, AGENT_STAT_REJECTED), 0);
    /* Two refusals and two malformed offers. */
    assert_int_equal(agent_stats_get(st, AGENT_STAT_ERRORS), 4);
    assert_true(agent_stats_percentile_ms(st, 99) < 5000);

    dup2(saved, 2);
    close(saved);
    lseek(logfd, 0, SEEK_SET);
    got = read(logfd, logbuf, sizeof(logbuf) - 1);
    close(logfd);
    unlink(logpath);
    assert_true(got > 0);
    logbuf[got] = '\0';
    fputs(logbuf, stderr);
    assert_null(strstr(logbuf, PII));
    assert_null(strstr(logbuf, "138 0000"));
    assert_non_null(strstr(logbuf, "stale_reservation"));

    agent_stats_destroy(st);
    bus_close(b);
    fake_stop(&f);
    fixture_teardown(&fx);
}

static void test_reject_and_task_limit(void **state)
{
    static const char *const one[] = {"w010"};
    static const char *const picky[] = {"w020"};
    fixture fx;
    fake f;
    agent_stats *st = NULL, *st2 = NULL;
    agent_sim *sim, *sim2;
    bus *b;
    char *body;
    err e = {0};

    (void)state;
    fixture_setup(&fx, "agent_limit");
    fake_start(&f, &fx);
    b = fixture_bus(&fx);
    assert_int_equal(agent_stats_create(&st, &e), ST_OK);
    assert_int_equal(agent_stats_create(&st2, &e), ST_OK);
    sim = start_agent(&fx, st, one, 1, 0, 1);
    sim2 = start_agent(&fx, st2, picky, 1, 1.0, 0);
    free(wait_rec(&f, "w010", "presence", 0, 1, 5000));
    free(wait_rec(&f, "w020", "presence", 0, 1, 5000));

    /* Reject rate 1: every offer is rejected. */
    send_offer(&fx, b, "w020", 8001);
    body = wait_rec(&f, "w020", "reject", 8001, 1, 5000);
    assert_non_null(strstr(body, "\"reason\""));
    free(body);
    assert_int_equal(count(&f, NULL, "accept", 8001), 0);

    /* Max one task: the first is taken, the worker goes offline, a later
     * offer is rejected, and the agent is done once the task completes. */
    send_offer(&fx, b, "w010", 8101);
    free(wait_rec(&f, "w010", "accept", 8101, 1, 5000));
    body = wait_rec(&f, "w010", "presence", 0, 2, 5000);
    assert_string_equal(body, "{\"presence\":\"offline\"}");
    free(body);
    assert_false(agent_sim_done(sim));
    send_offer(&fx, b, "w010", 8102);
    free(wait_rec(&f, "w010", "reject", 8102, 1, 5000));
    free(wait_rec(&f, "w010", "complete", 8101, 1, 5000));
    for (int i = 0; i < 200 && !agent_sim_done(sim); i++)
        clock_sleep_ms(10);
    assert_true(agent_sim_done(sim));

    agent_sim_destroy(sim);
    agent_sim_destroy(sim2);
    assert_int_equal(agent_stats_get(st, AGENT_STAT_COMPLETED), 1);
    assert_int_equal(agent_stats_get(st, AGENT_STAT_REJECTED), 1);
    assert_int_equal(agent_stats_get(st2, AGENT_STAT_REJECTED), 1);
    assert_int_equal(agent_stats_get(st2, AGENT_STAT_ACCEPTED), 0);
    agent_stats_destroy(st);
    agent_stats_destroy(st2);
    bus_close(b);
    fake_stop(&f);
    fixture_teardown(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agent_flow),
        cmocka_unit_test(test_reject_and_task_limit),
    };

    /* The flow test reads the agent's info lines, whatever TL_LOG says. */
    log_set_level(LOG_INFO);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
