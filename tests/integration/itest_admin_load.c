/*
 * `twinline load`: the examples load with the expected rows, loading again
 * changes nothing, a changed playbook becomes version 2, and every kind of
 * bad input is refused with a message naming the field while the database
 * stays exactly as it was.
 */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
/* clang-format on */

#include "admin_load.h"
#include "fixture.h"

/* Row counts of every table load writes, and the row versions (xmin) of
 * each, so an UPDATE that rewrites a row with the same values shows too. */
static const char snapshot_sql[] =
    "SELECT concat_ws(' ',"
    " (SELECT count(*) FROM tenants), (SELECT count(*) FROM operators),"
    " (SELECT count(*) FROM pools), (SELECT count(*) FROM workers),"
    " (SELECT count(*) FROM worker_skills),"
    " (SELECT count(*) FROM worker_capacity),"
    " (SELECT count(*) FROM playbooks), (SELECT count(*) FROM playbook_steps),"
    " (SELECT count(*) FROM contracts),"
    " (SELECT count(*) FROM contract_case_types),"
    " (SELECT count(*) FROM contract_prices),"
    " (SELECT md5(string_agg(x, ',' ORDER BY x)) FROM ("
    "   SELECT 't' || xmin FROM tenants UNION ALL"
    "   SELECT 'o' || xmin FROM operators UNION ALL"
    "   SELECT 'p' || xmin FROM pools UNION ALL"
    "   SELECT 'w' || xmin FROM workers UNION ALL"
    "   SELECT 's' || xmin FROM worker_skills UNION ALL"
    "   SELECT 'c' || xmin FROM worker_capacity UNION ALL"
    "   SELECT 'b' || xmin FROM playbooks UNION ALL"
    "   SELECT 'k' || xmin FROM contracts UNION ALL"
    "   SELECT 'y' || xmin FROM contract_case_types UNION ALL"
    "   SELECT 'r' || xmin FROM contract_prices) AS v(x)))";

static void snapshot(fixture *f, char *buf, size_t cap)
{
    fixture_str(f, snapshot_sql, buf, cap);
}

static void load_examples(fixture *f)
{
    static const char *const files[] = {"examples/operator.json",
                                        "examples/bank.json",
                                        "examples/insurer.json"};
    char path[512];
    err e = {0};

    for (int i = 0; i < 3; i++) {
        fixture_path(files[i], path, sizeof(path));
        if (admin_load_file(f->db, path, NULL, &e) != ST_OK)
            fail_msg("load %s: %s", files[i], e.msg);
    }
}

static void test_examples_rows(void **state)
{
    fixture f;
    char path[512];
    char buf[256];
    admin_load_counts n;
    err e = {0};

    (void)state;
    fixture_setup(&f, "admin_load_rows");
    fixture_path("examples/operator.json", path, sizeof(path));
    assert_int_equal(admin_load_file(f.db, path, &n, &e), ST_OK);
    assert_int_equal(n.operators, 1);
    assert_int_equal(n.pools, 2);
    assert_int_equal(n.workers, 50);
    admin_load_summary(&n, buf, sizeof(buf));
    assert_string_equal(buf, "loaded: 1 operator, 2 pools, 50 workers");

    fixture_path("examples/bank.json", path, sizeof(path));
    assert_int_equal(admin_load_file(f.db, path, &n, &e), ST_OK);
    assert_int_equal(n.tenants, 1);
    assert_int_equal(n.playbooks, 3);
    assert_int_equal(n.playbook_versions, 3);
    assert_int_equal(n.contracts, 2);
    fixture_path("examples/insurer.json", path, sizeof(path));
    assert_int_equal(admin_load_file(f.db, path, &n, &e), ST_OK);

    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM tenants"), 2);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM operators"), 1);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM pools"), 2);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM workers"), 50);
    assert_int_equal(fixture_i64(&f,
                                 "SELECT count(*) FROM workers WHERE pool_id = "
                                 "'frontline'"),
                     38);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM worker_skills"),
                     215);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM worker_capacity"),
                     150);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM playbooks"), 4);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM playbook_steps"),
                     11);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM contracts"), 4);
    assert_int_equal(
        fixture_i64(&f, "SELECT count(*) FROM contract_case_types"), 8);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM contract_prices"),
                     28);

    /* The mapping: ai_skills -> ai_level (level 0 when only the AI pack
     * has the skill), steps with ordinal, after/when arrays, outcomes with
     * "fields" always present, definition as loaded. */
    assert_int_equal(fixture_i64(&f, "SELECT level * 10 + ai_level FROM "
                                     "worker_skills WHERE worker_id = 'w001' "
                                     "AND skill = 'legal'"),
                     3);
    assert_int_equal(fixture_i64(&f, "SELECT ai_level FROM worker_skills "
                                     "WHERE worker_id = 'w039' AND skill = "
                                     "'legal'"),
                     0);
    fixture_str(&f,
                "SELECT ordinal || ' ' || channel || ' ' || ai_mode || ' ' || "
                "after_steps::text || ' ' || when_outcomes::text || ' ' || "
                "(skills->>'collections') FROM playbook_steps WHERE "
                "tenant_id = 'jsbank' AND case_type = 'loan_overdue' AND step "
                "= 'hardship_plan'",
                buf, sizeof(buf));
    assert_string_equal(buf, "1 backoffice assist {contact} {hardship} 3");
    fixture_str(&f,
                "SELECT outcomes->'no_contact'::text FROM playbook_steps "
                "WHERE tenant_id = 'jsbank' AND case_type = 'loan_overdue' "
                "AND step = 'contact'",
                buf, sizeof(buf));
    assert_string_equal(buf, "{\"fields\": {}, \"billable\": false}");
    assert_int_equal(fixture_i64(&f, "SELECT jsonb_array_length(definition->"
                                     "'steps') FROM playbooks WHERE "
                                     "case_type = 'claim'"),
                     3);
    assert_int_equal(fixture_i64(&f, "SELECT amount_minor FROM "
                                     "contract_prices WHERE contract_id = "
                                     "'jsbank-acme-front' AND case_type = "
                                     "'loan_overdue' AND outcome_code = "
                                     "'promise_to_pay'"),
                     3000);
    fixture_teardown(&f);
}

/*
 * The demo relies on this: every step of every playbook has several
 * workers who qualify on their own skill level alone (no AI help), with
 * capacity on the step's channel, in a pool contracted for the case type.
 */
static void test_examples_coverage(void **state)
{
    fixture f;

    (void)state;
    fixture_setup(&f, "admin_load_cover");
    load_examples(&f);
    assert_int_equal(
        fixture_i64(
            &f,
            "SELECT count(*) FROM playbook_steps s WHERE (SELECT count(*) "
            "FROM workers w "
            "JOIN contracts c ON c.pool_id = w.pool_id AND c.tenant_id = "
            "s.tenant_id "
            "JOIN contract_case_types ct ON ct.contract_id = c.id AND "
            "ct.case_type = s.case_type "
            "JOIN worker_capacity cap ON cap.worker_id = w.id AND "
            "cap.channel = s.channel AND cap.slots > 0 "
            "WHERE NOT EXISTS (SELECT 1 FROM jsonb_each_text(s.skills) r "
            "WHERE COALESCE((SELECT level FROM worker_skills k WHERE "
            "k.worker_id = w.id AND k.skill = r.key), 0) < r.value::int)) < 4"),
        0);
    /* And the AI skill packs let frontline workers cover specialist
     * steps too: legal review and dispute investigation. */
    assert_true(fixture_i64(&f, "SELECT count(*) FROM worker_skills k JOIN "
                                "workers w ON w.id = k.worker_id WHERE "
                                "w.pool_id = 'frontline' AND k.skill = 'legal' "
                                "AND k.ai_level >= 3") >= 5);
    fixture_teardown(&f);
}

static void test_load_twice_changes_nothing(void **state)
{
    fixture f;
    char before[256], after[256];
    char path[512];
    admin_load_counts n;
    err e = {0};

    (void)state;
    fixture_setup(&f, "admin_load_twice");
    load_examples(&f);
    snapshot(&f, before, sizeof(before));
    load_examples(&f);
    fixture_path("examples/bank.json", path, sizeof(path));
    assert_int_equal(admin_load_file(f.db, path, &n, &e), ST_OK);
    assert_int_equal(n.playbooks, 3);
    assert_int_equal(n.playbook_versions, 0);
    snapshot(&f, after, sizeof(after));
    assert_string_equal(before, after);
    assert_int_equal(fixture_i64(&f, "SELECT max(version) FROM playbooks"), 1);
    fixture_teardown(&f);
}

static const char changed_playbook[] =
    "{\"playbooks\": [{\"tenant\": \"jsbank\", \"case_type\": \"complaint\","
    " \"name\": \"Customer complaint\", \"steps\": ["
    "  {\"key\": \"intake\", \"channel\": \"chat\", \"sla_seconds\": 600,"
    "   \"ai\": \"assist\", \"skills\": {\"complaints\": 1},"
    "   \"outcomes\": {\"resolved_first_contact\": {\"billable\": true},"
    "                  \"logged\": {\"billable\": false}}}]}]}";

static void test_changed_playbook_adds_version(void **state)
{
    fixture f;
    char before[256], after[256];
    admin_load_counts n;
    err e = {0};

    (void)state;
    fixture_setup(&f, "admin_load_version");
    load_examples(&f);
    assert_int_equal(admin_load_text(f.db, "changed.json", changed_playbook,
                                     strlen(changed_playbook), &n, &e),
                     ST_OK);
    assert_int_equal(n.playbook_versions, 1);
    assert_int_equal(fixture_i64(&f, "SELECT max(version) FROM playbooks "
                                     "WHERE case_type = 'complaint'"),
                     2);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM playbook_steps "
                                     "WHERE case_type = 'complaint' AND "
                                     "version = 2"),
                     1);
    /* Version 1 stays for the cases that use it. */
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM playbook_steps "
                                     "WHERE case_type = 'complaint' AND "
                                     "version = 1"),
                     2);
    /* The same change again adds nothing; key order and spacing do not
     * count as a change. */
    snapshot(&f, before, sizeof(before));
    assert_int_equal(admin_load_text(f.db, "changed.json", changed_playbook,
                                     strlen(changed_playbook), &n, &e),
                     ST_OK);
    assert_int_equal(n.playbook_versions, 0);
    snapshot(&f, after, sizeof(after));
    assert_string_equal(before, after);
    fixture_teardown(&f);
}

/* Every bad document also adds a valid tenant first, so a load that was
 * not rolled back would show in the snapshot. */
#define NEW_TENANT "\"tenants\": [{\"id\": \"zz_new\", \"name\": \"New\"}], "
#define WORKER(extra)                                                          \
    "{" NEW_TENANT "\"workers\": [{\"id\": \"w900\", \"pool\": "               \
    "\"frontline\", \"name\": \"X\", \"capacity\": {\"chat\": 1}" extra "}]}"
#define PLAYBOOK(steps)                                                        \
    "{" NEW_TENANT "\"playbooks\": [{\"tenant\": \"jsbank\", \"case_type\": "  \
    "\"t1\", \"name\": \"T\", \"steps\": [" steps "]}]}"
#define STEP(key, extra)                                                       \
    "{\"key\": \"" key "\", \"channel\": \"chat\", \"sla_seconds\": 60, "      \
    "\"outcomes\": {\"done\": {\"billable\": true}}" extra "}"
#define CONTRACT(prices)                                                       \
    "{" NEW_TENANT "\"contracts\": [{\"id\": \"k1\", \"tenant\": "             \
    "\"jsbank\", \"pool\": \"frontline\", \"currency\": \"CNY\", "             \
    "\"prices\": " prices "}]}"

typedef struct bad_case {
    const char *doc;
    status want;
    const char *msg; /* must appear in the error */
} bad_case;

static const bad_case bad_cases[] = {
    {"{\"tenants\": [{\"id\": \"x\", \"name\": \"X\",}]}", ST_BAD_JSON,
     "bad.json: invalid JSON at line 1"},
    {"{\"banks\": []}", ST_UNKNOWN_FIELD, "bad.json: unknown field \"banks\""},
    {WORKER(", \"colour\": \"red\""), ST_UNKNOWN_FIELD,
     "unknown field \"colour\" in workers[0]"},
    {WORKER(", \"quality\": \"high\""), ST_WRONG_TYPE,
     "workers[0].quality must be an integer"},
    {WORKER(", \"quality\": 101"), ST_INVALID,
     "workers[0].quality: must be an integer 0..100"},
    {WORKER(", \"skills\": {\"collections\": 7}"), ST_INVALID,
     "bad.json: workers[0].skills.collections: level must be an integer 0..5"},
    {WORKER(", \"skills\": {\"collections\": 2.5}"), ST_WRONG_TYPE,
     "workers[0].skills.collections: level must be an integer 0..5"},
    {"{" NEW_TENANT "\"workers\": [{\"id\": \"w900\", \"pool\": "
     "\"frontline\", \"name\": \"X\", \"capacity\": {\"fax\": 1}}]}",
     ST_INVALID,
     "workers[0].capacity.fax: must be one of voice, chat, backoffice"},
    {"{" NEW_TENANT "\"workers\": [{\"id\": \"w900\", \"pool\": \"nope\", "
     "\"name\": \"X\", \"capacity\": {}}]}",
     ST_INVALID, "workers[0].pool: pool \"nope\" does not exist"},
    {"{" NEW_TENANT "\"pools\": [{\"id\": \"p9\", \"operator\": \"nobody\", "
     "\"name\": \"P\"}]}",
     ST_INVALID, "pools[0].operator: operator \"nobody\" does not exist"},
    {"{" NEW_TENANT "\"workers\": [{\"id\": \"w900\", \"pool\": "
     "\"frontline\", \"name\": \"X\", \"capacity\": {}}, {\"id\": \"w900\", "
     "\"pool\": \"frontline\", \"name\": \"Y\", \"capacity\": {}}]}",
     ST_INVALID, "workers[1].id: \"w900\" appears twice"},
    {PLAYBOOK(STEP("a", ", \"after\": [\"b\"]") ", " STEP(
         "b", ", \"after\": [\"c\"]") ", " STEP("c", ", \"after\": [\"a\"]")),
     ST_INVALID, "closes a cycle"},
    {PLAYBOOK(STEP("a", ", \"after\": [\"zz\"]")), ST_INVALID,
     "playbooks[0].steps[0].after[0]: no step \"zz\""},
    {PLAYBOOK(STEP("a", "") ", " STEP("b", ", \"when\": [\"done\"]")),
     ST_INVALID, "playbooks[0].steps[1].when: needs \"after\""},
    {PLAYBOOK(STEP("a", "") ", " STEP(
         "b", ", \"after\": [\"a\"], \"when\": [\"nah\"]")),
     ST_INVALID, "playbooks[0].steps[1].when[0]: \"nah\" is not an outcome"},
    {PLAYBOOK(STEP("a", ", \"ai\": \"maybe\"")), ST_INVALID,
     "playbooks[0].steps[0].ai: must be one of none, assist, auto"},
    {PLAYBOOK("{\"key\": \"a\", \"channel\": \"fax\", \"sla_seconds\": 60, "
              "\"outcomes\": {\"done\": {\"billable\": true}}}"),
     ST_INVALID, "playbooks[0].steps[0].channel: must be one of voice, chat"},
    {PLAYBOOK("{\"key\": \"a\", \"channel\": \"chat\", \"sla_seconds\": 60, "
              "\"outcomes\": {\"done\": {\"billable\": true, \"fields\": "
              "{\"n\": \"float\"}}}}"),
     ST_INVALID,
     "playbooks[0].steps[0].outcomes.done.fields.n: type must be one of "
     "amount_minor, date, string, int, bool"},
    {PLAYBOOK(STEP("a", "") ", " STEP("a", "")), ST_INVALID,
     "playbooks[0].steps[1].key: step \"a\" is defined twice"},
    {"{" NEW_TENANT "\"playbooks\": [{\"tenant\": \"ghost\", \"case_type\": "
     "\"t1\", \"name\": \"T\", \"steps\": [" STEP("a", "") "]}]}",
     ST_INVALID, "playbooks[0].tenant: tenant \"ghost\" does not exist"},
    {CONTRACT("{\"loan_overdue\": {\"bogus\": 100}}"), ST_INVALID,
     "contracts[0].prices.loan_overdue.bogus: \"bogus\" is not an outcome "
     "code"},
    {CONTRACT("{\"loan_overdue\": {\"promise_to_pay\": -1}}"), ST_INVALID,
     "contracts[0].prices.loan_overdue.promise_to_pay: price must be 0.."},
    {CONTRACT("{\"loan_overdue\": {\"hardship\": 100}}"), ST_INVALID,
     "outcome \"hardship\" is not billable"},
    {CONTRACT("{\"mortgage\": {\"paid\": 100}}"), ST_UNKNOWN_CASE_TYPE,
     "contracts[0].prices.mortgage: case type \"mortgage\" is not defined "
     "for tenant \"jsbank\"; run: twinline playbook list"},
    {"{" NEW_TENANT "\"contracts\": [{\"id\": \"k1\", \"tenant\": "
     "\"jsbank\", \"pool\": \"frontline\", \"currency\": \"yuan\", "
     "\"prices\": {\"complaint\": {}}}]}",
     ST_INVALID, "contracts[0].currency: must be an ISO 4217 code"},
};

static void test_bad_input_changes_nothing(void **state)
{
    fixture f;
    char before[256], after[256];
    size_t n = sizeof(bad_cases) / sizeof(bad_cases[0]);

    (void)state;
    fixture_setup(&f, "admin_load_bad");
    load_examples(&f);
    snapshot(&f, before, sizeof(before));
    for (size_t i = 0; i < n; i++) {
        err e = {0};
        status s = admin_load_text(f.db, "bad.json", bad_cases[i].doc,
                                   strlen(bad_cases[i].doc), NULL, &e);

        if (s != bad_cases[i].want || strstr(e.msg, bad_cases[i].msg) == NULL)
            fail_msg("case %zu: want %s containing \"%s\", got %s: %s", i,
                     status_code(bad_cases[i].want), bad_cases[i].msg,
                     status_code(s), e.msg);
        assert_true(strncmp(e.msg, "bad.json: ", 10) == 0);
        snapshot(&f, after, sizeof(after));
        if (strcmp(before, after) != 0)
            fail_msg("case %zu changed the database: %s -> %s", i, before,
                     after);
    }
    /* And the connection is still usable for a good load. */
    {
        static const char good[] = "{" NEW_TENANT "\"operators\": []}";
        err e = {0};
        assert_int_equal(
            admin_load_text(f.db, "good.json", good, strlen(good), NULL, &e),
            ST_OK);
        assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM tenants"), 3);
    }
    fixture_teardown(&f);
}

static void test_missing_file(void **state)
{
    fixture f;
    err e = {0};

    (void)state;
    fixture_setup(&f, "admin_load_nofile");
    assert_int_equal(admin_load_file(f.db, "/nonexistent/x.json", NULL, &e),
                     ST_IO);
    assert_non_null(strstr(e.msg, "/nonexistent/x.json: cannot open"));
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_examples_rows),
        cmocka_unit_test(test_examples_coverage),
        cmocka_unit_test(test_load_twice_changes_nothing),
        cmocka_unit_test(test_changed_playbook_adds_version),
        cmocka_unit_test(test_bad_input_changes_nothing),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
