/*
 * One write path per message kind: requests of one kind that arrive in the
 * same batch are written together, and the rare ones among them — a
 * repeat of an earlier request of the batch, a retry of something done,
 * a reservation that is stale or unknown — get the same answers as when
 * they come one by one. The requests are queued before the dispatcher's
 * loop starts, so it takes them as one batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "harness.h"
#include "tl_test.h"

#define BATCH_MAX 8

/* Requests queued for one batch and their replies. */
typedef struct batch {
    int n;
    inbox replies[BATCH_MAX];
} batch;

typedef struct world {
    fixture f;
    bus *b;
    dispatcher *d; /* created, its loop started by batch_run */
    pthread_t loop;
    batch *bt;
} world;

static void *run_loop(void *arg)
{
    err e = {0};

    dispatcher_run(arg, &e);
    return NULL;
}

/* A dispatcher that subscribes but does not yet take requests. */
static void dispatcher_paused(world *w)
{
    dispatcher_opts o;
    err e = {0};

    dispatcher_opts_default(&o);
    o.stream_max_bytes = 8LL * 1024 * 1024;
    if (dispatcher_create(&w->d, &w->f.cfg, &o, &e) != ST_OK)
        fail_msg("dispatcher_create: %s", e.msg);
    w->bt = calloc(1, sizeof(batch));
    assert_non_null(w->bt);
}

static void batch_add(world *w, const char *rest, const char *body)
{
    char subj[256], reply[128];
    batch *bt = w->bt;
    err e = {0};

    assert_true(bt->n < BATCH_MAX);
    if (bus_inbox(reply, sizeof(reply), &e) != ST_OK)
        fail_msg("inbox: %s", e.msg);
    inbox_listen(&bt->replies[bt->n++], w->b, reply);
    snprintf(subj, sizeof(subj), "%s.%s", w->f.cfg.prefix, rest);
    if (bus_publish_request(w->b, subj, reply, body, strlen(body), &e) != ST_OK)
        fail_msg("publish %s: %s", subj, e.msg);
}

/* Start the loop once every request has reached the dispatcher's queue
 * (should one arrive late it is answered the same, in a batch of its
 * own). */
static void batch_run(world *w)
{
    err e = {0};

    if (bus_flush(w->b, 2000, &e) != ST_OK)
        fail_msg("flush: %s", e.msg);
    clock_sleep_ms(300);
    pthread_create(&w->loop, NULL, run_loop, w->d);
}

static json_t *batch_reply(world *w, int i)
{
    json_t *r = inbox_next(&w->bt->replies[i], 5000);

    if (r == NULL)
        fail_msg("request %d of the batch got no reply", i);
    return r;
}

static void dispatcher_end(world *w)
{
    dispatcher_stop(w->d);
    pthread_join(w->loop, NULL);
    dispatcher_destroy(w->d);
    w->d = NULL;
    for (int i = 0; i < w->bt->n; i++)
        inbox_drain(&w->bt->replies[i]);
    free(w->bt);
    w->bt = NULL;
}

static void world_up(world *w, const char *name)
{
    memset(w, 0, sizeof(*w));
    fixture_setup(&w->f, name);
    harness_seed(&w->f);
    w->b = fixture_bus(&w->f);
}

static void world_down(world *w)
{
    bus_close(w->b);
    fixture_teardown(&w->f);
}

static void expect_code(json_t *r, const char *code)
{
    if (strcmp(harness_error_code(r), code) != 0)
        fail_msg("expected %s, got %s", code, json_dumps(r, 0));
}

static void expect_ok(json_t *r)
{
    if (!json_is_true(json_object_get(r, "ok")))
        fail_msg("expected ok, got %s", json_dumps(r, 0));
}

static int64_t member_i64(const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(o, a);

    return json_integer_value(b != NULL ? json_object_get(v, b) : v);
}

/* With a running dispatcher: the workers become available and a case is
 * submitted; the offers each worker gets are returned (NULL: none). */
static void offers_for(world *w, const char *const *workers, int n,
                       json_t **offers)
{
    running_dispatcher rd;
    inbox *ib = calloc((size_t)n, sizeof(inbox));
    char subj[160], body[64];

    assert_non_null(ib);
    harness_start(&rd, &w->f, NULL);
    for (int i = 0; i < n; i++) {
        snprintf(subj, sizeof(subj), "%s.worker.%s.offer", w->f.cfg.prefix,
                 workers[i]);
        inbox_listen(&ib[i], w->b, subj);
        snprintf(subj, sizeof(subj), "agent.%s.presence", workers[i]);
        json_decref(
            harness_request(&w->f, w->b, subj, "{\"presence\":\"available\"}"));
    }
    snprintf(body, sizeof(body),
             "{\"external_id\":\"L-1\",\"case_type\":\"loan\"}");
    json_decref(harness_request(&w->f, w->b, "api.bank1.case.submit", body));
    for (int i = 0; i < n; i++)
        offers[i] = inbox_next(&ib[i], 3000);
    harness_stop(&rd);
    for (int i = 0; i < n; i++)
        inbox_drain(&ib[i]);
    free(ib);
}

static void answer_body(char *buf, size_t cap, const json_t *offer,
                        const char *extra)
{
    snprintf(buf, cap, "{\"reservation_id\":%lld,\"epoch\":%lld%s}",
             (long long)member_i64(offer, "reservation_id", NULL),
             (long long)member_i64(offer, "epoch", NULL), extra);
}

/* Submits of one batch: a repeat of a case in the batch returns the case
 * the first created; a bad submit and an unknown verb fail alone; a get
 * in the same batch already sees the new case. */
static void test_submits_in_one_batch(void **state)
{
    world w;
    json_t *r[6];

    (void)state;
    world_up(&w, "batch_submit");
    dispatcher_paused(&w);
    batch_add(&w, "api.bank1.case.submit",
              "{\"external_id\":\"X1\",\"case_type\":\"loan\",\"priority\":2}");
    batch_add(&w, "api.bank1.case.submit",
              "{\"external_id\":\"X1\",\"case_type\":\"loan\",\"priority\":7}");
    batch_add(&w, "api.bank1.case.submit",
              "{\"external_id\":\"X2\",\"case_type\":\"loan\"}");
    batch_add(&w, "api.bank1.case.submit", "{\"external_id\":\"X3\"}");
    batch_add(&w, "api.bank1.case.get", "{\"external_id\":\"X1\"}");
    batch_add(&w, "agent.wa.dance", "{}");
    batch_run(&w);
    for (int i = 0; i < 6; i++)
        r[i] = batch_reply(&w, i);
    expect_ok(r[0]);
    assert_true(json_is_true(json_object_get(r[0], "created")));
    expect_ok(r[1]);
    assert_false(json_is_true(json_object_get(r[1], "created")));
    assert_int_equal(member_i64(r[0], "case", "id"),
                     member_i64(r[1], "case", "id"));
    /* The stored case, whatever the repeat says. */
    assert_int_equal(member_i64(r[1], "case", "priority"), 2);
    expect_ok(r[2]);
    assert_true(json_is_true(json_object_get(r[2], "created")));
    assert_true(member_i64(r[2], "case", "id") !=
                member_i64(r[0], "case", "id"));
    expect_code(r[3], "missing_field");
    expect_ok(r[4]);
    assert_int_equal(json_array_size(json_object_get(
                         json_object_get(r[4], "case"), "tasks")),
                     2);
    expect_code(r[5], "not_found");
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM cases"), 2);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM tasks"), 4);
    for (int i = 0; i < 6; i++)
        json_decref(r[i]);
    dispatcher_end(&w);
    world_down(&w);
}

/* Presence requests of one batch: each is answered with what it asked,
 * the last of a worker's wins, an unknown worker fails alone. */
static void test_presence_in_one_batch(void **state)
{
    world w;
    json_t *r[3];

    (void)state;
    world_up(&w, "batch_presence");
    dispatcher_paused(&w);
    batch_add(&w, "agent.wa.presence", "{\"presence\":\"break\"}");
    batch_add(&w, "agent.nobody.presence", "{\"presence\":\"available\"}");
    batch_add(&w, "agent.wa.presence", "{\"presence\":\"available\"}");
    batch_run(&w);
    for (int i = 0; i < 3; i++)
        r[i] = batch_reply(&w, i);
    expect_ok(r[0]);
    assert_string_equal(json_string_value(json_object_get(r[0], "presence")),
                        "break");
    expect_code(r[1], "not_found");
    assert_string_equal(json_string_value(json_object_get(r[2], "presence")),
                        "available");
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM workers"
                                       " WHERE id = 'wa'"
                                       " AND presence = 'available'"),
                     1);
    for (int i = 0; i < 3; i++)
        json_decref(r[i]);
    dispatcher_end(&w);
    world_down(&w);
}

/* Accepts and completes of one batch: an accept repeated in the batch is
 * answered with the same task, a completion repeated in the batch with
 * the same outcome marked duplicate; nothing is recorded twice. */
static void test_answers_in_one_batch(void **state)
{
    static const char *const workers[] = {"wa"};
    const char *promise = ",\"outcome\":{\"code\":\"promise_to_pay\","
                          "\"fields\":{\"amount_minor\":500,"
                          "\"due_date\":\"2026-12-05\"}}";
    world w;
    json_t *offer, *r[4];
    char body[512];

    (void)state;
    world_up(&w, "batch_answers");
    offers_for(&w, workers, 1, &offer);
    assert_non_null(offer);

    dispatcher_paused(&w);
    answer_body(body, sizeof(body), offer, "");
    batch_add(&w, "agent.wa.accept", body);
    batch_add(&w, "agent.wa.accept", body);
    batch_add(&w, "agent.wb.accept", body);
    batch_add(&w, "agent.wa.accept", "{\"reservation_id\":999999,\"epoch\":1}");
    batch_run(&w);
    for (int i = 0; i < 4; i++)
        r[i] = batch_reply(&w, i);
    for (int i = 0; i < 2; i++) {
        expect_ok(r[i]);
        assert_int_equal(member_i64(r[i], "task", "reservation_id"),
                         member_i64(offer, "reservation_id", NULL));
    }
    expect_code(r[2], "not_yours");
    expect_code(r[3], "not_found");
    for (int i = 0; i < 4; i++)
        json_decref(r[i]);
    dispatcher_end(&w);

    dispatcher_paused(&w);
    answer_body(body, sizeof(body), offer, promise);
    batch_add(&w, "agent.wa.complete", body);
    batch_add(&w, "agent.wa.heartbeat", "");
    batch_add(&w, "agent.wa.complete", body);
    batch_run(&w);
    for (int i = 0; i < 3; i++)
        r[i] = batch_reply(&w, i);
    expect_ok(r[0]);
    assert_false(json_is_true(json_object_get(r[0], "duplicate")));
    expect_ok(r[1]);
    expect_ok(r[2]);
    assert_true(json_is_true(json_object_get(r[2], "duplicate")));
    assert_int_equal(member_i64(r[0], "outcome_id", NULL),
                     member_i64(r[2], "outcome_id", NULL));
    assert_true(json_is_true(json_object_get(r[2], "billable")));
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM outcomes"), 1);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM outbox"
                                       " WHERE payload->>'type'"
                                       " = 'outcome.recorded'"),
                     1);
    for (int i = 0; i < 3; i++)
        json_decref(r[i]);
    dispatcher_end(&w);
    json_decref(offer);
    world_down(&w);
}

/* Both offers of a broadcast rejected in one batch (and one reject sent
 * twice): every reject is answered ok and the task is pending again, not
 * left reserved with no offer open. */
static void test_broadcast_rejects_in_one_batch(void **state)
{
    static const char *const workers[] = {"wa", "wb"};
    world w;
    json_t *offers[2], *r[3];
    char body[2][256];

    (void)state;
    world_up(&w, "batch_rejects");
    fixture_exec(&w.f, "UPDATE playbook_steps SET broadcast = 2"
                       " WHERE step = 'contact'");
    offers_for(&w, workers, 2, offers);
    assert_non_null(offers[0]);
    assert_non_null(offers[1]);
    assert_int_equal(member_i64(offers[0], "task_id", NULL),
                     member_i64(offers[1], "task_id", NULL));

    dispatcher_paused(&w);
    for (int i = 0; i < 2; i++)
        answer_body(body[i], sizeof(body[i]), offers[i],
                    ",\"reason\":\"language\"");
    batch_add(&w, "agent.wa.reject", body[0]);
    batch_add(&w, "agent.wb.reject", body[1]);
    batch_add(&w, "agent.wa.reject", body[0]);
    batch_run(&w);
    for (int i = 0; i < 3; i++) {
        r[i] = batch_reply(&w, i);
        expect_ok(r[i]);
        json_decref(r[i]);
    }
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM reservations"
                                       " WHERE state = 'rejected'"),
                     2);
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM task_exclusions"
                                       " WHERE reason = 'rejected'"),
                     2);
    /* Nobody else may take it (wc lacks the skill): pending, unoffered. */
    assert_int_equal(fixture_i64(&w.f, "SELECT count(*) FROM tasks"
                                       " WHERE step = 'contact'"
                                       " AND state = 'pending'"),
                     1);
    dispatcher_end(&w);
    json_decref(offers[0]);
    json_decref(offers[1]);
    world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submits_in_one_batch),
        cmocka_unit_test(test_presence_in_one_batch),
        cmocka_unit_test(test_answers_in_one_batch),
        cmocka_unit_test(test_broadcast_rejects_in_one_batch),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
