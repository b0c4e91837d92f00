/*
 * The playbook codec: outcome validation, the step progression rule, the
 * document decoder with every limit (at the limit it decodes, one past it
 * is refused with the limit in the message), and the round trip the loader
 * and the dispatcher make: decode a document, encode its steps as stored,
 * decode the rows, get the same playbook.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "playbook.h"
#include "tl_test.h"

static const char *contact_outcomes =
    "{\"promise_to_pay\": {\"billable\": true, \"fields\": {\"amount_minor\":"
    " \"amount_minor\", \"due_date\": \"date\"}}, \"hardship\":"
    " {\"billable\": false, \"fields\": {}}, \"dispute\": {\"billable\":"
    " false}}";

/* contact -> hardship_plan when hardship; contact -> legal when dispute;
 * close_out after both (runs if either completed). */
static void build(playbook *pb)
{
    err e = {0};

    memset(pb, 0, sizeof(*pb));
    strcpy(pb->tenant, "bank");
    strcpy(pb->case_type, "loan");
    pb->version = 1;
    assert_int_equal(playbook_add_step(pb, "contact", "voice", 300, "assist",
                                       "{\"collections\": 2}", "[]", "[]",
                                       contact_outcomes, &e),
                     ST_OK);
    assert_int_equal(
        playbook_add_step(pb, "hardship_plan", "backoffice", 600, "none",
                          "{\"collections\": 3}", "[\"contact\"]",
                          "[\"hardship\"]",
                          "{\"plan_agreed\": {\"billable\": true, \"fields\":"
                          " {\"instalments\": \"int\"}}}",
                          &e),
        ST_OK);
    assert_int_equal(
        playbook_add_step(pb, "legal", "backoffice", 600, "assist",
                          "{\"legal\": 3}", "[\"contact\"]", "[\"dispute\"]",
                          "{\"resolved\": {\"billable\": true}}", &e),
        ST_OK);
    assert_int_equal(playbook_add_step(pb, "close_out", "chat", 600, "none",
                                       "{}", "[\"hardship_plan\", \"legal\"]",
                                       "[]",
                                       "{\"done\": {\"billable\": false}}", &e),
                     ST_OK);
    assert_int_equal(playbook_resolve(pb, &e), ST_OK);
}

static void test_outcome_validation(void **state)
{
    playbook pb;
    err e = {0};
    json_t *ok = json_pack("{s:I, s:s}", "amount_minor", (json_int_t)5000,
                           "due_date", "2028-02-29");
    json_t *neg = json_pack("{s:I, s:s}", "amount_minor", (json_int_t)-1,
                            "due_date", "2026-12-01");
    json_t *baddate = json_pack("{s:I, s:s}", "amount_minor", (json_int_t)1,
                                "due_date", "2026-02-29");
    json_t *extra = json_pack("{s:I, s:s, s:i}", "amount_minor", (json_int_t)1,
                              "due_date", "2026-12-01", "x", 1);
    json_t *missing = json_pack("{s:I}", "amount_minor", (json_int_t)1);

    (void)state;
    build(&pb);
    assert_int_equal(
        playbook_check_outcome(&pb.steps[0], "promise_to_pay", ok, &e), ST_OK);
    assert_int_equal(
        playbook_check_outcome(&pb.steps[0], "promise_to_pay", neg, &e),
        ST_OUTCOME_NOT_ALLOWED);
    assert_non_null(strstr(e.msg, "amount_minor"));
    assert_int_equal(
        playbook_check_outcome(&pb.steps[0], "promise_to_pay", baddate, &e),
        ST_OUTCOME_NOT_ALLOWED);
    assert_non_null(strstr(e.msg, "due_date"));
    assert_int_equal(
        playbook_check_outcome(&pb.steps[0], "promise_to_pay", extra, &e),
        ST_OUTCOME_NOT_ALLOWED);
    assert_int_equal(
        playbook_check_outcome(&pb.steps[0], "promise_to_pay", missing, &e),
        ST_OUTCOME_NOT_ALLOWED);
    assert_non_null(strstr(e.msg, "due_date"));
    assert_int_equal(playbook_check_outcome(&pb.steps[0], "paid", NULL, &e),
                     ST_OUTCOME_NOT_ALLOWED);
    assert_non_null(strstr(e.msg, "allowed: "));
    assert_int_equal(playbook_check_outcome(&pb.steps[0], "hardship", NULL, &e),
                     ST_OK);
    assert_true(playbook_outcome(&pb.steps[0], "promise_to_pay")->billable);
    assert_false(playbook_outcome(&pb.steps[0], "hardship")->billable);
    json_decref(ok);
    json_decref(neg);
    json_decref(baddate);
    json_decref(extra);
    json_decref(missing);
    playbook_release(&pb);
}

static void test_progression_by_outcome(void **state)
{
    playbook pb;
    pb_state st[4] = {PB_READY, PB_WAITING, PB_WAITING, PB_WAITING};
    char codes[4][ID_MAX + 1] = {"", "", "", ""};

    (void)state;
    build(&pb);
    /* Nothing moves while contact is in progress. */
    assert_false(playbook_advance(&pb, st, (const char(*)[ID_MAX + 1]) codes));
    st[0] = PB_COMPLETED;
    strcpy(codes[0], "hardship");
    assert_true(playbook_advance(&pb, st, (const char(*)[ID_MAX + 1]) codes));
    assert_int_equal(st[1], PB_READY);   /* hardship_plan */
    assert_int_equal(st[2], PB_SKIPPED); /* legal: no dispute */
    assert_int_equal(st[3], PB_WAITING); /* close_out waits for the plan */
    assert_false(playbook_finished(&pb, st));
    st[1] = PB_COMPLETED;
    strcpy(codes[1], "plan_agreed");
    assert_true(playbook_advance(&pb, st, (const char(*)[ID_MAX + 1]) codes));
    assert_int_equal(st[3], PB_READY);
    st[3] = PB_COMPLETED;
    assert_true(playbook_finished(&pb, st));
    playbook_release(&pb);
}

static void test_skips_cascade(void **state)
{
    playbook pb;
    pb_state st[4] = {PB_COMPLETED, PB_WAITING, PB_WAITING, PB_WAITING};
    char codes[4][ID_MAX + 1] = {"promise_to_pay", "", "", ""};

    (void)state;
    build(&pb);
    assert_true(playbook_advance(&pb, st, (const char(*)[ID_MAX + 1]) codes));
    assert_int_equal(st[1], PB_SKIPPED);
    assert_int_equal(st[2], PB_SKIPPED);
    assert_int_equal(st[3], PB_SKIPPED); /* all its inputs were skipped */
    assert_true(playbook_finished(&pb, st));
    playbook_release(&pb);
}

/* Stored rows go through the same step decoder as a loaded document. */
static void test_bad_rows(void **state)
{
    static const char done[] = "{\"done\": {\"billable\": true}}";
    playbook pb;
    err e = {0};

    (void)state;
    memset(&pb, 0, sizeof(pb));
    assert_int_equal(playbook_add_step(&pb, "a", "fax", 1, "none", "{}", "[]",
                                       "[]", done, &e),
                     ST_INVALID);
    assert_non_null(strstr(e.msg, "steps[0].channel: must be one of voice"));
    assert_int_equal(playbook_add_step(&pb, "a", "chat", 1, "none", "{}",
                                       "[\"zz\"]", "[]", done, &e),
                     ST_OK);
    assert_int_equal(playbook_resolve(&pb, &e), ST_INVALID);
    assert_string_equal(e.msg, "steps[0].after[0]: no step \"zz\" in this "
                               "playbook; \"after\" names keys of other steps");
    assert_int_equal(playbook_add_step(&pb, "b", "chat", 1, "none", "{}", "[]",
                                       "[]",
                                       "{\"x\": {\"billable\": true, "
                                       "\"fields\": {\"f\": \"colour\"}}}",
                                       &e),
                     ST_INVALID);
    assert_non_null(strstr(e.msg, "steps[1].outcomes.x.fields.f: type must"));
    assert_int_equal(playbook_add_step(&pb, "b", "chat", 1, "none", "{}", "[]",
                                       "[]", "{\"x\": {}}", &e),
                     ST_MISSING_FIELD);
    assert_int_equal(playbook_add_step(&pb, "b", "chat", 1, "none", "{", "[]",
                                       "[]", done, &e),
                     ST_INVALID);
    assert_non_null(strstr(e.msg, "steps[1].skills: not valid JSON"));
    assert_int_equal(playbook_step_routing(&pb, 0, "",
                                           "[{\"after_seconds\": "
                                           "5}, {\"after_seconds\": "
                                           "5}]",
                                           0, &e),
                     ST_INVALID);
    assert_non_null(strstr(e.msg, "steps[0].rings[1].after_seconds: must be "
                                  "above the previous ring's 5"));
    assert_int_equal(pb.steps[0].nrings, 0);
    assert_int_equal(pb.nsteps, 1);
    playbook_release(&pb);
    assert_null(pb.steps);

    /* A 33rd stored row is refused like a 33-step document. */
    memset(&pb, 0, sizeof(pb));
    for (int i = 0; i < PB_MAX_STEPS; i++) {
        char key[16];

        snprintf(key, sizeof(key), "s%d", i);
        assert_int_equal(playbook_add_step(&pb, key, "chat", 1, "none", "{}",
                                           "[]", "[]", done, &e),
                         ST_OK);
    }
    assert_int_equal(playbook_add_step(&pb, "s99", "chat", 1, "none", "{}",
                                       "[]", "[]", done, &e),
                     ST_INVALID);
    assert_non_null(strstr(e.msg, "a playbook has at most 32 steps"));
    playbook_release(&pb);
}

/* A valid step "<key>" on chat with one billable outcome "done". */
static json_t *step(const char *key)
{
    return json_pack("{s:s, s:s, s:i, s:{s:{s:b}}}", "key", key, "channel",
                     "chat", "sla_seconds", 60, "outcomes", "done", "billable",
                     1);
}

/* A playbook document of n such steps s0, s1, ... */
static json_t *doc_of(int n)
{
    json_t *steps = json_array();
    char key[16];

    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "s%d", i);
        json_array_append_new(steps, step(key));
    }
    return json_pack("{s:s, s:s, s:s, s:o}", "tenant", "bank", "case_type",
                     "loan", "name", "Loan", "steps", steps);
}

/* Decode d (taking it); expect want, and msg in the error when not ok. */
static void expect(json_t *d, status want, const char *msg)
{
    playbook *pb = NULL;
    err e = {0};
    status s = playbook_decode(d, "playbooks[0]", &pb, &e);

    if (s != want || (msg != NULL && strstr(e.msg, msg) == NULL))
        fail_msg("want %s \"%s\", got %s: %s", status_code(want),
                 msg != NULL ? msg : "", status_code(s), e.msg);
    if (s == ST_OK)
        assert_non_null(pb);
    playbook_destroy(pb);
    json_decref(d);
}

static json_t *first_step(json_t *d)
{
    return json_array_get(json_object_get(d, "steps"), 0);
}

/* A doc of n steps whose first step has `member` set to v (taken). */
static json_t *with(int n, const char *member, json_t *v)
{
    json_t *d = doc_of(n);

    json_object_set_new(first_step(d), member, v);
    return d;
}

static json_t *objects_of(int n, const char *prefix, json_t *value)
{
    json_t *o = json_object();
    char k[32];

    for (int i = 0; i < n; i++) {
        snprintf(k, sizeof(k), "%s%d", prefix, i);
        json_object_set(o, k, value);
    }
    json_decref(value);
    return o;
}

static json_t *rings_of(int n)
{
    json_t *a = json_array();

    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:i}", "after_seconds", 10 + i));
    return a;
}

/* Steps s1..s<n> come after: a doc of n + 1 steps whose last one comes
 * after every other. */
static json_t *after_all(int n)
{
    json_t *d = doc_of(n + 1);
    json_t *after = json_array();
    char key[16];

    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "s%d", i);
        json_array_append_new(after, json_string(key));
    }
    json_object_set_new(json_array_get(json_object_get(d, "steps"), (size_t)n),
                        "after", after);
    return d;
}

/* s1 after s0 when any of n codes, s0 having n outcomes c0..c<n-1>. */
static json_t *when_of(int n)
{
    json_t *d = doc_of(2);
    json_t *s1 = json_array_get(json_object_get(d, "steps"), 1);
    json_t *when = json_array();
    char code[16];

    json_object_set_new(first_step(d), "outcomes",
                        objects_of(n, "c", json_pack("{s:b}", "billable", 0)));
    json_object_set_new(s1, "after", json_pack("[s]", "s0"));
    for (int i = 0; i < n; i++) {
        snprintf(code, sizeof(code), "c%d", i);
        json_array_append_new(when, json_string(code));
    }
    json_object_set_new(s1, "when", when);
    return d;
}

static json_t *fields_of(int n)
{
    return json_pack("{s:{s:b, s:o}}", "done", "billable", 1, "fields",
                     objects_of(n, "f", json_string("int")));
}

static void test_limits(void **state)
{
    char id64[ID_MAX + 2];
    char name[PB_NAME_MAX + 2];

    (void)state;
    memset(id64, 'k', sizeof(id64));
    id64[ID_MAX] = '\0';
    id64[ID_MAX + 1] = '\0';
    memset(name, 'n', sizeof(name));
    name[PB_NAME_MAX] = '\0';
    name[PB_NAME_MAX + 1] = '\0';

    /* Steps: 1..32; the 17-step playbook of issue 9 decodes. */
    expect(doc_of(17), ST_OK, NULL);
    expect(doc_of(PB_MAX_STEPS), ST_OK, NULL);
    expect(doc_of(PB_MAX_STEPS + 1), ST_INVALID,
           "playbooks[0].steps: must hold 1..32 steps (got 33); 32 is the "
           "limit of a playbook");
    expect(doc_of(0), ST_INVALID, "playbooks[0].steps: must hold 1..32 steps");
    /* Skills of a step. */
    expect(with(1, "skills",
                objects_of(PB_MAX_SKILLS, "k", json_integer(PB_LEVEL_MAX))),
           ST_OK, NULL);
    expect(
        with(1, "skills", objects_of(PB_MAX_SKILLS + 1, "k", json_integer(1))),
        ST_INVALID,
        "playbooks[0].steps[0].skills: at most 8 skills per step (got 9)");
    expect(with(1, "skills", objects_of(1, "k", json_integer(6))), ST_INVALID,
           "playbooks[0].steps[0].skills.k0: level must be an integer 0..5");
    /* Steps a step comes after. */
    expect(after_all(PB_MAX_AFTER), ST_OK, NULL);
    expect(after_all(PB_MAX_AFTER + 1), ST_INVALID,
           "playbooks[0].steps[9].after: at most 8 steps to come after (got "
           "9)");
    /* Outcomes of a step, codes in `when`. */
    expect(when_of(PB_MAX_OUTCOMES), ST_OK, NULL);
    expect(with(1, "outcomes",
                objects_of(PB_MAX_OUTCOMES + 1, "c",
                           json_pack("{s:b}", "billable", 0))),
           ST_INVALID,
           "playbooks[0].steps[0].outcomes: at most 16 outcomes per step (got "
           "17)");
    {
        json_t *d = when_of(PB_MAX_OUTCOMES);
        json_t *when = json_object_get(
            json_array_get(json_object_get(d, "steps"), 1), "when");

        json_array_append_new(when, json_string("c99"));
        expect(d, ST_INVALID,
               "playbooks[0].steps[1].when: at most 16 outcome codes (got "
               "17)");
    }
    /* Fields of an outcome. */
    expect(with(1, "outcomes", fields_of(PB_MAX_FIELDS)), ST_OK, NULL);
    expect(with(1, "outcomes", fields_of(PB_MAX_FIELDS + 1)), ST_INVALID,
           "playbooks[0].steps[0].outcomes.done.fields: at most 8 fields per "
           "outcome (got 9)");
    /* Rings and broadcast (the router's limits). */
    expect(with(1, "rings", rings_of(PB_MAX_RINGS)), ST_OK, NULL);
    expect(with(1, "rings", rings_of(PB_MAX_RINGS + 1)), ST_INVALID,
           "playbooks[0].steps[0].rings: at most 4 rings (got 5)");
    expect(with(1, "broadcast", json_integer(PB_MAX_BROADCAST)), ST_OK, NULL);
    expect(with(1, "broadcast", json_integer(PB_MAX_BROADCAST + 1)), ST_INVALID,
           "playbooks[0].steps[0].broadcast: must be an integer 1..5 (got 6)");
    /* Identifiers are 1..64 characters; names 1..200. */
    expect(with(1, "key", json_string(id64)), ST_OK, NULL);
    id64[ID_MAX] = 'k';
    expect(with(1, "key", json_string(id64)), ST_INVALID,
           "playbooks[0].steps[0].key must be 1-64 characters");
    {
        json_t *d = doc_of(1);

        json_object_set_new(d, "name", json_string(name));
        expect(d, ST_OK, NULL);
        d = doc_of(1);
        name[PB_NAME_MAX] = 'n';
        json_object_set_new(d, "name", json_string(name));
        expect(d, ST_INVALID, "playbooks[0].name: must be 1..200 characters");
    }
}

static void test_graph(void **state)
{
    json_t *d;

    (void)state;
    d = doc_of(3);
    json_object_set_new(json_array_get(json_object_get(d, "steps"), 0), "after",
                        json_pack("[s]", "s2"));
    json_object_set_new(json_array_get(json_object_get(d, "steps"), 1), "after",
                        json_pack("[s]", "s0"));
    json_object_set_new(json_array_get(json_object_get(d, "steps"), 2), "after",
                        json_pack("[s]", "s1"));
    expect(d, ST_INVALID, "closes a cycle");
    d = doc_of(2);
    json_object_set_new(json_array_get(json_object_get(d, "steps"), 1), "key",
                        json_string("s0"));
    expect(d, ST_INVALID,
           "playbooks[0].steps[1].key: step \"s0\" is defined "
           "twice");
    d = doc_of(1);
    json_object_set_new(first_step(d), "after", json_pack("[s]", "s0"));
    expect(d, ST_INVALID, "step \"s0\" cannot come after itself");
    /* The review of an ai: auto step may test "ai_review". */
    d = doc_of(2);
    json_object_set_new(first_step(d), "ai", json_string("auto"));
    json_object_set_new(json_array_get(json_object_get(d, "steps"), 1), "after",
                        json_pack("[s]", "s0"));
    json_object_set_new(json_array_get(json_object_get(d, "steps"), 1), "when",
                        json_pack("[s]", "ai_review"));
    expect(d, ST_OK, NULL);
}

/* The schemas of pb as the loader stores them (in the definition) and the
 * dispatcher reads them back, into rows. */
static void set_schemas_as_stored(const playbook *pb, playbook *rows)
{
    char *p = pb->payload != NULL ? jsonx_dump(payload_schema_json(pb->payload))
                                  : NULL;
    char *c = pb->customer != NULL
                  ? jsonx_dump(payload_schema_json(pb->customer))
                  : NULL;
    err e = {0};

    assert_int_equal(playbook_set_schemas(rows, p, c, &e), ST_OK);
    free(p);
    free(c);
}

/* Decode every playbook of an example file, store each step as the loader
 * does, decode the rows as the dispatcher does: the same playbook. */
static int round_trip_file(const char *rel)
{
    char path[512];
    json_t *root;
    json_t *pbs;
    int n = 0;
    err e = {0};

    snprintf(path, sizeof(path), "%s/%s", TL_SOURCE_DIR, rel);
    if (jsonx_load_file(path, &root, &e) != ST_OK)
        fail_msg("%s: %s", rel, e.msg);
    pbs = json_object_get(root, "playbooks");
    for (size_t i = 0; i < json_array_size(pbs); i++) {
        playbook *pb = NULL;
        playbook rows;

        if (playbook_decode(json_array_get(pbs, i), "playbooks[i]", &pb, &e) !=
            ST_OK)
            fail_msg("%s: %s", rel, e.msg);
        memset(&rows, 0, sizeof(rows));
        for (int k = 0; k < pb->nsteps; k++) {
            const pb_step *st = &pb->steps[k];
            pb_step_text t;

            assert_int_equal(playbook_step_encode(st, &t, &e), ST_OK);
            assert_int_equal(
                playbook_add_step(&rows, st->key,
                                  playbook_channel_name(st->channel),
                                  st->sla_seconds, playbook_ai_name(st->ai),
                                  t.skills, t.after, t.when, t.outcomes, &e),
                ST_OK);
            assert_int_equal(playbook_step_routing(&rows, k, st->licence,
                                                   t.rings, st->ttl_seconds,
                                                   &e),
                             ST_OK);
            rows.steps[k].broadcast = st->broadcast;
            playbook_step_text_free(&t);
        }
        assert_int_equal(playbook_resolve(&rows, &e), ST_OK);
        /* Without its schemas the stored playbook is not the same. */
        if (pb->payload != NULL)
            assert_false(playbook_same(pb, &rows));
        set_schemas_as_stored(pb, &rows);
        assert_true(playbook_same(pb, &rows));
        playbook_release(&rows);
        playbook_destroy(pb);
        n++;
    }
    json_decref(root);
    return n;
}

static void test_examples_round_trip(void **state)
{
    (void)state;
    assert_int_equal(round_trip_file("examples/bank.json"), 3);
    assert_int_equal(round_trip_file("examples/insurer.json"), 1);
    assert_int_equal(round_trip_file("examples/ai.json"), 1);
}

/* Every example playbook declares what its cases carry, personal fields
 * among them (docs/config.md, "payload"). */
static void test_examples_have_schemas(void **state)
{
    static const char *const files[] = {
        "examples/bank.json", "examples/insurer.json", "examples/ai.json"};
    err e = {0};

    (void)state;
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        char path[512];
        json_t *root, *pbs;

        snprintf(path, sizeof(path), "%s/%s", TL_SOURCE_DIR, files[f]);
        assert_int_equal(jsonx_load_file(path, &root, &e), ST_OK);
        pbs = json_object_get(root, "playbooks");
        for (size_t i = 0; i < json_array_size(pbs); i++) {
            playbook *pb = NULL;

            assert_int_equal(
                playbook_decode(json_array_get(pbs, i), "pb", &pb, &e), ST_OK);
            assert_non_null(pb->payload);
            assert_non_null(pb->customer);
            /* The document review carries nothing of a customer. */
            assert_int_equal(payload_schema_has_personal(pb->payload),
                             strcmp(pb->case_type, "consumer_review") != 0);
            playbook_destroy(pb);
        }
        json_decref(root);
    }
}

/* A schema that does not decode refuses the playbook, naming its path. */
static void test_bad_schema(void **state)
{
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:[{s:s, s:s, s:i, s:{s:{s:b}}}], s:{s:{s:s}}}",
        "tenant", "bank", "case_type", "loan", "name", "Loan", "steps", "key",
        "contact", "channel", "voice", "sla_seconds", 60, "outcomes", "done",
        "billable", 0, "payload", "loan_id", "type", "text");
    playbook *pb = NULL;
    err e = {0};

    (void)state;
    assert_int_equal(playbook_decode(doc, "playbooks[0]", &pb, &e), ST_INVALID);
    assert_null(pb);
    assert_non_null(strstr(e.msg, "playbooks[0].payload.loan_id.type"));
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outcome_validation),
        cmocka_unit_test(test_progression_by_outcome),
        cmocka_unit_test(test_skips_cascade),
        cmocka_unit_test(test_bad_rows),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_graph),
        cmocka_unit_test(test_examples_round_trip),
        cmocka_unit_test(test_examples_have_schemas),
        cmocka_unit_test(test_bad_schema),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
