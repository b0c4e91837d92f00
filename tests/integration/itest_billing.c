/*
 * The billing service against a real PostgreSQL and nats-server: rows are
 * seeded with SQL, outcome events are published to JetStream as the
 * dispatcher would, and the service runs in a thread. Each test asserts
 * the billable lines a tenant would be invoiced from.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>

#include "billing_event.h"
#include "billing_service.h"
#include "clock.h"
#include "fixture.h"

/* cmocka.h needs the headers before it; keep clang-format from sorting. */
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

/* Small streams: the suite's nats-server reserves each stream's limit. */
#define TEST_STREAM_BYTES (16LL * 1024 * 1024)
#define WAIT_MS           15000

/*
 * Tenant t1 has three contracts with pool p1 for case type "loan": c0 is
 * inactive, c1 (EUR) is the lowest active id and so the one that prices,
 * c2 (CZK) would price differently and must never be used. c1 has no price
 * for "refused" although c2 has. Worker w2's pool p2 has no contract.
 */
static const char seed_sql[] =
    "INSERT INTO tenants (id, name) VALUES ('t1', 'Bank One');"
    "INSERT INTO operators (id, name) VALUES ('op1', 'Ops One'),"
    "  ('op2', 'Ops Two');"
    "INSERT INTO pools (id, operator_id, name) VALUES"
    "  ('p1', 'op1', 'Pool One'), ('p2', 'op2', 'Pool Two');"
    "INSERT INTO workers (id, pool_id, name) VALUES"
    "  ('w1', 'p1', 'Worker One'), ('w2', 'p2', 'Worker Two');"
    "INSERT INTO contracts (id, tenant_id, pool_id, currency, active) VALUES"
    "  ('c0', 't1', 'p1', 'USD', false), ('c1', 't1', 'p1', 'EUR', true),"
    "  ('c2', 't1', 'p1', 'CZK', true);"
    "INSERT INTO contract_case_types (contract_id, case_type) VALUES"
    "  ('c0', 'loan'), ('c1', 'loan'), ('c2', 'loan');"
    "INSERT INTO contract_prices (contract_id, case_type, outcome_code,"
    "  amount_minor) VALUES"
    "  ('c0', 'loan', 'promise_to_pay', 1),"
    "  ('c1', 'loan', 'promise_to_pay', 1500),"
    "  ('c1', 'loan', 'paid', 2500),"
    "  ('c2', 'loan', 'promise_to_pay', 9999),"
    "  ('c2', 'loan', 'refused', 700);"
    "INSERT INTO playbooks (tenant_id, case_type, version, name, definition)"
    "  VALUES ('t1', 'loan', 1, 'Loan', '{}');"
    "INSERT INTO playbook_steps (tenant_id, case_type, version, step,"
    "  ordinal, channel, sla_seconds, skills, outcomes) VALUES"
    "  ('t1', 'loan', 1, 'call', 1, 'voice', 3600, '{}',"
    "   '{\"promise_to_pay\": {\"billable\": true},"
    "     \"paid\": {\"billable\": true},"
    "     \"refused\": {\"billable\": true},"
    "     \"no_answer\": {\"billable\": false}}');";

typedef struct env {
    fixture f;
    bus *bus;
    billing_names names;
    int cases; /* external ids handed out so far */
} env;

static void env_setup(env *v, const char *name)
{
    err e = {0};

    memset(v, 0, sizeof(*v));
    fixture_setup(&v->f, name);
    fixture_exec(&v->f, seed_sql);
    v->bus = fixture_bus(&v->f);
    if (billing_names_make(v->f.cfg.prefix, &v->names, &e) != ST_OK)
        fail_msg("%s", e.msg);
    /* A rerun must not meet the last run's messages or message ids. */
    if (bus_stream_delete(v->bus, v->names.stream, &e) != ST_OK ||
        bus_stream_ensure(v->bus, v->names.stream, v->names.subjects,
                          TEST_STREAM_BYTES, &e) != ST_OK)
        fail_msg("%s", e.msg);
}

static void env_teardown(env *v)
{
    bus_close(v->bus);
    fixture_teardown(&v->f);
}

/*
 * Insert n completed one-step cases by worker, each with an outcome of
 * code, created age_s seconds ago. Returns the first outcome id; the ids
 * are consecutive.
 */
static int64_t seed_outcomes(env *v, int n, const char *worker,
                             const char *code, bool billable, int age_s)
{
    char sql[2048];
    int64_t before = fixture_i64(&v->f, "SELECT coalesce(max(id), 0) "
                                        "FROM outcomes");

    snprintf(sql, sizeof(sql),
             "WITH c AS ("
             "  INSERT INTO cases (tenant_id, external_id, case_type,"
             "    playbook_version)"
             "  SELECT 't1', 'x-' || (%d + g), 'loan', 1"
             "  FROM generate_series(1, %d) g ORDER BY g RETURNING id"
             "), t AS ("
             "  INSERT INTO tasks (case_id, tenant_id, step, state,"
             "    worker_id, completed_at)"
             "  SELECT id, 't1', 'call', 'completed', '%s', now()"
             "  FROM c ORDER BY id RETURNING id, case_id"
             "), r AS ("
             "  INSERT INTO reservations (task_id, worker_id, epoch, state,"
             "    deadline)"
             "  SELECT id, '%s', 0, 'completed', now()"
             "  FROM t ORDER BY id RETURNING id, task_id"
             ")"
             "INSERT INTO outcomes (task_id, case_id, tenant_id, worker_id,"
             "  reservation_id, code, billable, created_at)"
             "SELECT t.id, t.case_id, 't1', '%s', r.id, '%s', %s,"
             "  now() - interval '%d seconds'"
             "FROM r JOIN t ON t.id = r.task_id ORDER BY t.id",
             v->cases, n, worker, worker, worker, code,
             billable ? "true" : "false", age_s);
    v->cases += n;
    fixture_exec(&v->f, sql);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM outcomes WHERE id BETWEEN %" PRId64
             " AND %" PRId64,
             before + 1, before + n);
    assert_int_equal(fixture_i64(&v->f, sql), n);
    return before + 1;
}

/* Publish raw payloads to <prefix>.evt.t1.outcome with the given ids. */
static void publish_raw(env *v, int n, const char *const *payloads,
                        const char *const *msg_ids)
{
    char subject[128];
    const char *subjects[64];
    size_t lens[64];
    err e = {0};

    assert_true(n <= 64);
    snprintf(subject, sizeof(subject), "%s.evt.t1.outcome", v->f.cfg.prefix);
    for (int i = 0; i < n; i++) {
        subjects[i] = subject;
        lens[i] = strlen(payloads[i]);
    }
    if (bus_js_publish_batch(v->bus, n, subjects, payloads, lens, msg_ids,
                             &e) != ST_OK)
        fail_msg("publish: %s", e.msg);
}

/*
 * Publish an outcome event for outcomes first..first+n-1 as the dispatcher
 * would, with message ids "<tag>-<outcome id>". The events claim code and
 * billable; the service must not believe them.
 */
static void publish_outcomes(env *v, int64_t first, int n, const char *code,
                             bool billable, const char *tag)
{
    char payload[64][256], msg_id[64][64];
    const char *payloads[64], *ids[64];

    for (int done = 0; done < n;) {
        int k = n - done < 64 ? n - done : 64;
        for (int i = 0; i < k; i++) {
            int64_t id = first + done + i;
            snprintf(payload[i], sizeof(payload[i]),
                     "{\"type\": \"outcome.recorded\", \"outcome_id\": "
                     "%" PRId64 ", \"task_id\": 1, \"case_id\": 1, "
                     "\"tenant\": \"t1\", \"worker\": \"w1\", \"code\": "
                     "\"%s\", \"billable\": %s}",
                     id, code, billable ? "true" : "false");
            snprintf(msg_id[i], sizeof(msg_id[i]), "%s-%" PRId64, tag, id);
            payloads[i] = payload[i];
            ids[i] = msg_id[i];
        }
        publish_raw(v, k, payloads, ids);
        done += k;
    }
}

typedef struct svc_run {
    billing_service *svc;
    pthread_t thread;
} svc_run;

static void *run_thread(void *arg)
{
    err e = {0};

    if (billing_service_run(arg, &e) != ST_OK)
        fprintf(stderr, "billing_service_run: %s\n", e.msg);
    return NULL;
}

static void svc_start(env *v, svc_run *r, int batch, int sweep_ms,
                      int sweep_age_ms)
{
    billing_options o;
    err e = {0};

    billing_options_default(&o);
    o.cfg = v->f.cfg;
    o.batch = batch;
    o.sweep_ms = sweep_ms;
    o.sweep_age_ms = sweep_age_ms;
    o.summary_ms = 1000;
    o.stream_bytes = TEST_STREAM_BYTES;
    if (billing_service_create(&r->svc, &o, &e) != ST_OK)
        fail_msg("billing_service_create: %s", e.msg);
    assert_int_equal(pthread_create(&r->thread, NULL, run_thread, r->svc), 0);
}

/* Stop, join and destroy; the final counters go to *st (may be NULL). */
static void svc_stop(svc_run *r, billing_stats *st)
{
    billing_service_stop(r->svc);
    assert_int_equal(pthread_join(r->thread, NULL), 0);
    if (st != NULL)
        billing_service_stats(r->svc, st);
    billing_service_destroy(r->svc);
    r->svc = NULL;
}

/* Wait until the service has handled at least want events. */
static int64_t wait_events(svc_run *r, int64_t want)
{
    int64_t deadline = clock_mono_us() + (int64_t)WAIT_MS * 1000;
    billing_stats st;

    for (;;) {
        billing_service_stats(r->svc, &st);
        if (st.events >= want || clock_mono_us() > deadline)
            return st.events;
        clock_sleep_ms(10);
    }
}

static int64_t lines(env *v)
{
    return fixture_i64(&v->f, "SELECT count(*) FROM billable_lines");
}

static int64_t line_amount(env *v, int64_t outcome_id)
{
    char sql[160];

    snprintf(sql, sizeof(sql),
             "SELECT coalesce(sum(amount_minor), -1) FROM billable_lines "
             "WHERE outcome_id = %" PRId64,
             outcome_id);
    return fixture_i64(&v->f, sql);
}

static void test_bills_each_billable_outcome(void **state)
{
    env v;
    svc_run r;
    billing_stats st;
    int64_t ptp, paid, none;

    (void)state;
    env_setup(&v, "billing_basic");
    ptp = seed_outcomes(&v, 3, "w1", "promise_to_pay", true, 0);
    paid = seed_outcomes(&v, 1, "w1", "paid", true, 0);
    none = seed_outcomes(&v, 2, "w1", "no_answer", false, 0);
    publish_outcomes(&v, ptp, 3, "promise_to_pay", true, "evt");
    publish_outcomes(&v, paid, 1, "paid", true, "evt");
    /* These events lie: the database says not billable. */
    publish_outcomes(&v, none, 2, "paid", true, "evt");

    svc_start(&v, &r, 256, 0, 5000);
    assert_int_equal(wait_events(&r, 6), 6);
    assert_int_equal(fixture_wait_i64(&v.f,
                                      "SELECT count(*) FROM billable_lines", 4,
                                      WAIT_MS),
                     4);
    svc_stop(&r, &st);

    for (int i = 0; i < 3; i++)
        assert_int_equal(line_amount(&v, ptp + i), 1500);
    assert_int_equal(line_amount(&v, paid), 2500);
    assert_int_equal(line_amount(&v, none), -1);
    assert_int_equal(line_amount(&v, none + 1), -1);
    /* Every line is traceable to its case, task, worker and contract. */
    assert_int_equal(
        fixture_i64(&v.f,
                    "SELECT count(*) FROM billable_lines b"
                    " JOIN outcomes o ON o.id = b.outcome_id"
                    " WHERE b.task_id = o.task_id AND b.case_id = o.case_id"
                    "   AND b.worker_id = o.worker_id"
                    "   AND b.outcome_code = o.code AND b.tenant_id = 't1'"
                    "   AND b.operator_id = 'op1' AND b.contract_id = 'c1'"
                    "   AND b.currency = 'EUR' AND o.billable"),
        4);
    assert_int_equal(st.all.billed, 4);
    assert_int_equal(st.all.not_billable, 2);
    assert_int_equal(st.all.duplicates, 0);
    assert_int_equal(st.malformed, 0);
    env_teardown(&v);
}

static void test_redelivered_event_bills_once(void **state)
{
    env v;
    svc_run r;
    billing_stats st;
    int64_t id;

    (void)state;
    env_setup(&v, "billing_redeliver");
    id = seed_outcomes(&v, 1, "w1", "promise_to_pay", true, 0);
    /* Different message ids, so JetStream stores both copies. */
    publish_outcomes(&v, id, 1, "promise_to_pay", true, "first");
    publish_outcomes(&v, id, 1, "promise_to_pay", true, "second");

    svc_start(&v, &r, 256, 0, 5000);
    assert_int_equal(wait_events(&r, 2), 2);
    svc_stop(&r, &st);
    assert_int_equal(lines(&v), 1);
    assert_int_equal(line_amount(&v, id), 1500);
    assert_int_equal(st.all.billed, 1);
    assert_int_equal(st.all.duplicates, 1);

    /* A copy arriving in a later run, after the line exists. */
    publish_outcomes(&v, id, 1, "promise_to_pay", true, "third");
    svc_start(&v, &r, 256, 0, 5000);
    assert_int_equal(wait_events(&r, 1), 1);
    svc_stop(&r, &st);
    assert_int_equal(lines(&v), 1);
    assert_int_equal(line_amount(&v, id), 1500);
    assert_int_equal(st.all.billed, 0);
    assert_int_equal(st.all.duplicates, 1);
    env_teardown(&v);
}

static void test_restart_mid_stream(void **state)
{
    enum { N = 400, BATCH = 2 };
    env v;
    svc_run r;
    billing_stats st1, st2;
    int64_t first, after_first, deadline;

    (void)state;
    env_setup(&v, "billing_restart");
    first = seed_outcomes(&v, N, "w1", "promise_to_pay", true, 0);
    publish_outcomes(&v, first, N, "promise_to_pay", true, "evt");

    svc_start(&v, &r, BATCH, 0, 5000);
    deadline = clock_mono_us() + (int64_t)WAIT_MS * 1000;
    while (lines(&v) == 0 && clock_mono_us() < deadline)
        clock_sleep_ms(5);
    svc_stop(&r, &st1);
    after_first = lines(&v);
    print_message("first run billed %" PRId64 " of %d before the stop\n",
                  after_first, N);
    assert_true(after_first > 0);
    assert_int_equal(after_first, st1.all.billed);

    svc_start(&v, &r, BATCH, 0, 5000);
    assert_int_equal(fixture_wait_i64(&v.f,
                                      "SELECT count(*) FROM billable_lines", N,
                                      WAIT_MS),
                     N);
    svc_stop(&r, &st2);

    /* No loss, no double: every outcome once, at the contract price. */
    assert_int_equal(lines(&v), N);
    assert_int_equal(
        fixture_i64(&v.f, "SELECT sum(amount_minor) FROM billable_lines"),
        (int64_t)N * 1500);
    assert_int_equal(st1.all.billed + st2.all.billed, N);
    /* The durable consumer kept its place: at most one batch was seen by
     * both runs. */
    assert_true(st1.events + st2.events <= N + BATCH);
    env_teardown(&v);
}

static void test_sweeper_bills_outcome_without_event(void **state)
{
    env v;
    svc_run r;
    billing_stats st;
    int64_t old, fresh, old_none;

    (void)state;
    env_setup(&v, "billing_sweep");
    old = seed_outcomes(&v, 1, "w1", "paid", true, 60);
    old_none = seed_outcomes(&v, 1, "w1", "no_answer", false, 60);
    fresh = seed_outcomes(&v, 1, "w1", "promise_to_pay", true, 0);

    /* No events at all; the sweeper leaves outcomes younger than 2 s. */
    svc_start(&v, &r, 256, 100, 2000);
    assert_int_equal(fixture_wait_i64(&v.f,
                                      "SELECT count(*) FROM billable_lines", 1,
                                      WAIT_MS),
                     1);
    assert_int_equal(line_amount(&v, old), 2500);
    assert_int_equal(line_amount(&v, fresh), -1);
    /* Once it is old enough the fresh one is caught too. */
    assert_int_equal(fixture_wait_i64(&v.f,
                                      "SELECT count(*) FROM billable_lines", 2,
                                      WAIT_MS),
                     2);
    svc_stop(&r, &st);
    assert_int_equal(line_amount(&v, fresh), 1500);
    assert_int_equal(line_amount(&v, old_none), -1);
    assert_int_equal(st.swept, 2);
    assert_int_equal(st.events, 0);
    env_teardown(&v);
}

static void test_unpriced_or_uncontracted_not_billed(void **state)
{
    env v;
    svc_run r;
    billing_stats st;
    int64_t refused, foreign, good;

    (void)state;
    env_setup(&v, "billing_unpriced");
    refused = seed_outcomes(&v, 1, "w1", "refused", true, 0);
    foreign = seed_outcomes(&v, 1, "w2", "promise_to_pay", true, 0);
    good = seed_outcomes(&v, 1, "w1", "promise_to_pay", true, 0);
    publish_outcomes(&v, refused, 1, "refused", true, "evt");
    publish_outcomes(&v, foreign, 1, "promise_to_pay", true, "evt");
    publish_outcomes(&v, good, 1, "promise_to_pay", true, "evt");

    /* The sweeper runs too and must not bill them either. */
    svc_start(&v, &r, 256, 50, 0);
    assert_int_equal(wait_events(&r, 3), 3);
    assert_int_equal(fixture_wait_i64(&v.f,
                                      "SELECT count(*) FROM billable_lines", 1,
                                      WAIT_MS),
                     1);
    clock_sleep_ms(300); /* several sweeps */
    svc_stop(&r, &st);
    assert_int_equal(lines(&v), 1);
    assert_int_equal(line_amount(&v, good), 1500);
    assert_int_equal(line_amount(&v, refused), -1);
    assert_int_equal(line_amount(&v, foreign), -1);
    assert_true(st.all.no_price >= 1);
    assert_true(st.all.no_contract >= 1);
    env_teardown(&v);
}

static void test_malformed_event_skipped(void **state)
{
    env v;
    svc_run r;
    billing_stats st;
    int64_t good;
    char good_event[256];
    const char *payloads[4] = {
        "{not json",
        "{\"type\": \"outcome.recorded\", \"outcome_id\": \"7\"}",
        "{\"type\": \"outcome.recorded\", \"outcome_id\": 987654321}",
        good_event,
    };
    const char *ids[4] = {"bad-1", "bad-2", "unknown-1", "good-1"};

    (void)state;
    env_setup(&v, "billing_malformed");
    good = seed_outcomes(&v, 1, "w1", "promise_to_pay", true, 0);
    snprintf(good_event, sizeof(good_event),
             "{\"type\": \"outcome.recorded\", \"outcome_id\": %" PRId64 "}",
             good);
    publish_raw(&v, 4, payloads, ids);

    svc_start(&v, &r, 256, 0, 5000);
    assert_int_equal(wait_events(&r, 4), 4);
    svc_stop(&r, &st);
    assert_int_equal(lines(&v), 1);
    assert_int_equal(line_amount(&v, good), 1500);
    assert_int_equal(st.malformed, 2);
    assert_int_equal(st.all.unknown, 1);
    assert_int_equal(st.all.billed, 1);
    env_teardown(&v);
}

static void test_database_failure_is_retried(void **state)
{
    env v;
    svc_run r;
    billing_stats st;
    int64_t id, deadline;

    (void)state;
    env_setup(&v, "billing_dberror");
    id = seed_outcomes(&v, 1, "w1", "promise_to_pay", true, 0);

    svc_start(&v, &r, 256, 0, 5000);
    /* The service's connection dies, then inserts fail for a while. */
    fixture_exec(&v.f, "SELECT pg_terminate_backend(pid) FROM "
                       "pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid()");
    fixture_exec(&v.f, "ALTER TABLE billable_lines ADD CONSTRAINT "
                       "refuse_all CHECK (amount_minor < 0) NOT VALID");
    publish_outcomes(&v, id, 1, "promise_to_pay", true, "evt");
    deadline = clock_mono_us() + (int64_t)WAIT_MS * 1000;
    do {
        clock_sleep_ms(20);
        billing_service_stats(r.svc, &st);
    } while (st.db_errors < 2 && clock_mono_us() < deadline);
    assert_true(st.db_errors >= 2);
    assert_int_equal(st.events, 0); /* not acknowledged while failing */
    assert_int_equal(lines(&v), 0);

    fixture_exec(&v.f, "ALTER TABLE billable_lines DROP CONSTRAINT "
                       "refuse_all");
    assert_int_equal(wait_events(&r, 1), 1);
    svc_stop(&r, &st);
    assert_int_equal(lines(&v), 1);
    assert_int_equal(line_amount(&v, id), 1500);
    env_teardown(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bills_each_billable_outcome),
        cmocka_unit_test(test_redelivered_event_bills_once),
        cmocka_unit_test(test_restart_mid_stream),
        cmocka_unit_test(test_sweeper_bills_outcome_without_event),
        cmocka_unit_test(test_unpriced_or_uncontracted_not_billed),
        cmocka_unit_test(test_malformed_event_skipped),
        cmocka_unit_test(test_database_failure_is_retried),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
