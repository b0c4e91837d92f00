/*
 * The playbook limits end to end (issue 9): a playbook at every limit at
 * once (32 steps of 64-character ids, 8 skills, 8 after, 16 outcomes of 8
 * fields, 16 when codes, 4 rings, broadcast 5) and the 17-step playbook
 * that used to load and then fail every submit both load with the real
 * loader and run through the real dispatcher, step by step, until the case
 * closes; each offer is decoded by the worker agent's own decoder. One past
 * any limit is refused by `twinline load` with the limit in the message,
 * and nothing is stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_session.h"
#include "cmd_load.h"
#include "harness.h"
#include "playbook.h"
#include "tl_test.h"

#define WORKER "w_limits"

/* A 64-character identifier: prefix, a number, padding. */
static const char *id64(char *buf, const char *prefix, int i)
{
    int n = snprintf(buf, ID_MAX + 1, "%s%02d", prefix, i);

    memset(buf + n, 'x', (size_t)(ID_MAX - n));
    buf[ID_MAX] = '\0';
    return buf;
}

static const char *const field_types[] = {"amount_minor", "int", "date",
                                          "string", "bool"};

/* Outcomes o00..o<n-1>, each with nfields fields f00.. of every type. */
static json_t *outcomes(int n, int nfields)
{
    json_t *o = json_object();
    char code[ID_MAX + 1], name[ID_MAX + 1];

    for (int i = 0; i < n; i++) {
        json_t *fields = json_object();

        for (int f = 0; f < nfields; f++)
            json_object_set_new(fields, id64(name, "f", f),
                                json_string(field_types[f % 5]));
        json_object_set_new(
            o, id64(code, "o", i),
            json_pack("{s:b, s:o}", "billable", i == 0, "fields", fields));
    }
    return o;
}

/* The values a worker sends for outcome o00's fields. */
static json_t *field_values(int nfields)
{
    json_t *v = json_object();
    char name[ID_MAX + 1];

    for (int f = 0; f < nfields; f++) {
        json_t *x = NULL;

        switch (f % 5) {
        case 0:
            x = json_integer(150000);
            break;
        case 1:
            x = json_integer(7);
            break;
        case 2:
            x = json_string("2027-01-31");
            break;
        case 3:
            x = json_string("agreed by phone");
            break;
        default:
            x = json_true();
        }
        json_object_set_new(v, id64(name, "f", f), x);
    }
    return v;
}

/*
 * A playbook of nsteps steps at every other limit: each step comes after
 * the (up to) 8 before it, runs when any of the 16 outcome codes ended
 * them, needs 8 skills, has 4 rings and is broadcast to 5 workers.
 */
static json_t *playbook_doc(int nsteps)
{
    static const char *const channels[] = {"voice", "chat", "backoffice"};
    json_t *steps = json_array();
    char key[ID_MAX + 1], name[ID_MAX + 1];

    for (int i = 0; i < nsteps; i++) {
        json_t *skills = json_object();
        json_t *rings = json_array();
        json_t *st;

        for (int k = 0; k < PB_MAX_SKILLS; k++)
            json_object_set_new(skills, id64(name, "k", k),
                                json_integer(PB_LEVEL_MAX));
        for (int r = 0; r < PB_MAX_RINGS; r++)
            json_array_append_new(
                rings, json_pack("{s:i, s:i, s:b, s:s, s:i}", "after_seconds",
                                 3600 * (r + 1), "lower_by", r, "assist", r % 2,
                                 "overflow_pool", "pool_limits",
                                 "priority_boost", r * 10));
        st = json_pack("{s:s, s:s, s:i, s:s, s:o, s:o, s:o, s:i, s:s, s:i}",
                       "key", id64(key, "s", i), "channel", channels[i % 3],
                       "sla_seconds", 3600, "ai", i % 2 ? "assist" : "none",
                       "skills", skills, "outcomes",
                       outcomes(PB_MAX_OUTCOMES, PB_MAX_FIELDS), "rings", rings,
                       "broadcast", PB_MAX_BROADCAST, "licence", "lic_limits",
                       "ttl_seconds", 86400);
        if (i > 0) {
            json_t *after = json_array();
            json_t *when = json_array();

            for (int j = i > PB_MAX_AFTER ? i - PB_MAX_AFTER : 0; j < i; j++)
                json_array_append_new(after, json_string(id64(key, "s", j)));
            for (int c = 0; c < PB_MAX_WHEN; c++)
                json_array_append_new(when, json_string(id64(name, "o", c)));
            json_object_set_new(st, "after", after);
            json_object_set_new(st, "when", when);
        }
        json_array_append_new(steps, st);
    }
    return json_pack("{s:s, s:s, s:s, s:o}", "tenant", "bank_limits",
                     "case_type", "long_case", "name", "Every limit", "steps",
                     steps);
}

/* The world around it, in one document: tenant, operator, pool, one
 * worker with every skill, the playbook, a contract in JPY. */
static json_t *world_doc(json_t *pb)
{
    json_t *skills = json_object();
    char name[ID_MAX + 1];

    for (int k = 0; k < PB_MAX_SKILLS; k++)
        json_object_set_new(skills, id64(name, "k", k), json_integer(5));
    return json_pack(
        "{s:[{s:s, s:s}], s:[{s:s, s:s}], s:[{s:s, s:s, s:s}],"
        " s:[{s:s, s:s, s:s, s:o, s:{s:i, s:i, s:i}, s:[{s:s}]}], s:[o],"
        " s:[{s:s, s:s, s:s, s:s, s:{s:{}}}]}",
        "tenants", "id", "bank_limits", "name", "Limits Bank", "operators",
        "id", "op_limits", "name", "Limits BPO", "pools", "id", "pool_limits",
        "operator", "op_limits", "name", "Limits pool", "workers", "id", WORKER,
        "pool", "pool_limits", "name", "Wide", "skills", skills, "capacity",
        "voice", 1, "chat", 3, "backoffice", 5, "licences", "code",
        "lic_limits", "playbooks", pb, "contracts", "id", "k_limits", "tenant",
        "bank_limits", "pool", "pool_limits", "currency", "JPY", "prices",
        "long_case");
}

static status load(fixture *f, json_t *doc, err *e)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    status s = cmd_load_text(f->db, "limits.json", text, strlen(text), NULL, e);

    free(text);
    json_decref(doc);
    return s;
}

static json_t *request(fixture *f, bus *b, const char *verb, const char *body)
{
    char rest[128];

    snprintf(rest, sizeof(rest), "agent.%s.%s", WORKER, verb);
    return harness_request(f, b, rest, body);
}

static void expect_ok(json_t *r)
{
    if (!json_is_true(json_object_get(r, "ok")))
        fail_msg("expected ok, got %s", json_dumps(r, 0));
    json_decref(r);
}

/* Load a playbook of nsteps steps, submit a case, do every step. */
static void run_case(const char *name, int nsteps)
{
    fixture f;
    running_dispatcher rd;
    inbox offers;
    bus *b;
    json_t *r;
    char subj[160], body[512], sql[160];
    int64_t case_id;
    err e = {0};

    fixture_setup(&f, name);
    if (load(&f, world_doc(playbook_doc(nsteps)), &e) != ST_OK)
        fail_msg("load: %s", e.msg);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM playbook_steps"),
                     nsteps);
    harness_start(&rd, &f, NULL);
    b = fixture_bus(&f);
    snprintf(subj, sizeof(subj), "%s.worker.%s.offer", f.cfg.prefix, WORKER);
    inbox_listen(&offers, b, subj);
    expect_ok(request(&f, b, "presence", "{\"presence\":\"available\"}"));
    r = harness_request(
        &f, b, "api.bank_limits.case.submit",
        "{\"external_id\":\"L-1\",\"case_type\":\"long_case\"}");
    if (!json_is_true(json_object_get(r, "ok")))
        fail_msg("submit: %s", json_dumps(r, 0));
    case_id =
        json_integer_value(json_object_get(json_object_get(r, "case"), "id"));
    json_decref(r);

    for (int i = 0; i < nsteps; i++) {
        json_t *offer = inbox_next(&offers, 5000);
        json_t *done;
        char *text, *values;
        agent_offer ao;
        char key[ID_MAX + 1], code[ID_MAX + 1];

        if (offer == NULL)
            fail_msg("no offer for step %d", i);
        /* The agent decodes the largest offer a step can make. */
        text = json_dumps(offer, JSON_COMPACT);
        assert_true(strlen(text) <= AGENT_MSG_MAX);
        if (agent_offer_parse(text, strlen(text), &ao, &e) != ST_OK)
            fail_msg("the agent cannot decode step %d's offer: %s", i, e.msg);
        free(text);
        assert_string_equal(ao.step, id64(key, "s", i));
        assert_int_equal(ao.noutcomes, PB_MAX_OUTCOMES);
        assert_int_equal(ao.outcomes[0].nfields, PB_MAX_FIELDS);
        snprintf(body, sizeof(body), "{\"reservation_id\":%lld,\"epoch\":%lld}",
                 (long long)ao.reservation_id, (long long)ao.epoch);
        expect_ok(request(&f, b, "accept", body));
        done = field_values(PB_MAX_FIELDS);
        values = json_dumps(done, JSON_COMPACT);
        json_decref(done);
        r = json_pack("{s:I, s:I, s:{s:s, s:o}}", "reservation_id",
                      (json_int_t)ao.reservation_id, "epoch",
                      (json_int_t)ao.epoch, "outcome", "code",
                      id64(code, "o", 0), "fields",
                      json_loads(values, 0, NULL));
        free(values);
        text = json_dumps(r, JSON_COMPACT);
        json_decref(r);
        expect_ok(request(&f, b, "complete", text));
        free(text);
        json_decref(offer);
    }
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM cases WHERE id = %lld AND state = 'closed'",
             (long long)case_id);
    assert_int_equal(fixture_wait_i64(&f, sql, 1, 5000), 1);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM outcomes"), nsteps);
    harness_stop(&rd);
    bus_close(b);
    inbox_drain(&offers);
    fixture_teardown(&f);
}

/* The playbook of issue 9: 17 steps loaded, then every submit failed. */
static void test_seventeen_steps_run(void **state)
{
    (void)state;
    run_case("pbl_seventeen", 17);
}

static void test_every_limit_runs(void **state)
{
    (void)state;
    run_case("pbl_every_limit", PB_MAX_STEPS);
}

/* The first step of doc's playbook. */
static json_t *step0(json_t *pb)
{
    return json_array_get(json_object_get(pb, "steps"), 0);
}

static void set_ids(json_t *obj, int n, const char *prefix, json_t *value)
{
    char name[ID_MAX + 1];

    for (int i = 0; i < n; i++)
        json_object_set(obj, id64(name, prefix, i), value);
    json_decref(value);
}

static void test_past_a_limit_nothing_is_stored(void **state)
{
    static const char *const what[] = {"steps", "skills",   "after",
                                       "when",  "outcomes", "fields",
                                       "rings", "ids",      "broadcast"};
    static const char *const want[] = {
        "limits.json: playbooks[0].steps: must hold 1..32 steps (got 33)",
        "playbooks[0].steps[0].skills: at most 8 skills per step (got 9)",
        "playbooks[0].steps[9].after: at most 8 steps to come after (got 9)",
        "playbooks[0].steps[1].when: at most 16 outcome codes (got 17)",
        "playbooks[0].steps[0].outcomes: at most 16 outcomes per step (got "
        "17)",
        "xxxx.fields: at most 8 fields per outcome (got 9)",
        "playbooks[0].steps[0].rings: at most 4 rings (got 5)",
        "playbooks[0].steps[0].key must be 1-64 characters",
        "playbooks[0].steps[0].broadcast: must be an integer 1..5 (got 6)"};
    fixture f;
    const char *counts =
        "SELECT (SELECT count(*) FROM tenants) * 1000000 + (SELECT count(*) "
        "FROM playbooks) * 1000 + (SELECT count(*) FROM playbook_steps)";

    (void)state;
    fixture_setup(&f, "pbl_refused");
    for (int c = 0; c < 9; c++) {
        json_t *pb = playbook_doc(c == 0   ? PB_MAX_STEPS + 1
                                  : c == 2 ? PB_MAX_AFTER + 2
                                           : 2);
        char key[ID_MAX + 2];
        err e = {0};
        status s;

        switch (c) {
        case 1:
            set_ids(json_object_get(step0(pb), "skills"), PB_MAX_SKILLS + 1,
                    "k", json_integer(1));
            break;
        case 2: /* step 9 after the 9 steps before it */
            json_array_append_new(
                json_object_get(json_array_get(json_object_get(pb, "steps"), 9),
                                "after"),
                json_string(id64(key, "s", 0)));
            break;
        case 3:
            json_array_append_new(
                json_object_get(json_array_get(json_object_get(pb, "steps"), 1),
                                "when"),
                json_string("o99"));
            break;
        case 4:
            set_ids(json_object_get(step0(pb), "outcomes"), PB_MAX_OUTCOMES + 1,
                    "o", json_pack("{s:b}", "billable", 0));
            break;
        case 5:
            set_ids(json_object_get(
                        json_object_get(json_object_get(step0(pb), "outcomes"),
                                        id64(key, "o", 0)),
                        "fields"),
                    PB_MAX_FIELDS + 1, "f", json_string("int"));
            break;
        case 6:
            json_array_append_new(json_object_get(step0(pb), "rings"),
                                  json_pack("{s:i}", "after_seconds", 80000));
            break;
        case 7:
            memset(key, 'k', ID_MAX + 1);
            key[ID_MAX + 1] = '\0';
            json_object_set_new(step0(pb), "key", json_string(key));
            break;
        case 8:
            json_object_set_new(step0(pb), "broadcast",
                                json_integer(PB_MAX_BROADCAST + 1));
            break;
        }
        s = load(&f, world_doc(pb), &e);
        if (s == ST_OK || strstr(e.msg, want[c]) == NULL)
            fail_msg("%s past its limit: want \"%s\", got %s: %s", what[c],
                     want[c], status_code(s), e.msg);
        /* The whole file is refused: not even its tenant is stored. */
        assert_int_equal(fixture_i64(&f, counts), 0);
    }
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seventeen_steps_run),
        cmocka_unit_test(test_every_limit_runs),
        cmocka_unit_test(test_past_a_limit_nothing_is_stored),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
