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

#include "cmd_load.h"
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
    " (SELECT count(*) FROM contract_plans),"
    " (SELECT count(*) FROM worker_licences),"
    " (SELECT count(*) FROM pool_routing),"
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
    "   SELECT 'r' || xmin FROM contract_prices UNION ALL"
    "   SELECT 'pl' || xmin FROM contract_plans UNION ALL"
    "   SELECT 'li' || xmin FROM worker_licences UNION ALL"
    "   SELECT 'pr' || xmin FROM pool_routing UNION ALL"
    "   SELECT 'st' || xmin FROM playbook_steps UNION ALL"
    "   SELECT 'ch' || xmin FROM channel_settings) AS v(x)))";

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
        if (cmd_load_file(f->db, path, NULL, &e) != ST_OK)
            fail_msg("load %s: %s", files[i], e.msg);
    }
}

static void test_examples_rows(void **state)
{
    fixture f;
    char path[512];
    char buf[256];
    cmd_load_counts n;
    err e = {0};

    (void)state;
    fixture_setup(&f, "cmd_load_rows");
    fixture_path("examples/operator.json", path, sizeof(path));
    assert_int_equal(cmd_load_file(f.db, path, &n, &e), ST_OK);
    assert_int_equal(n.operators, 1);
    assert_int_equal(n.pools, 2);
    assert_int_equal(n.workers, 50);
    cmd_load_summary(&n, buf, sizeof(buf));
    assert_string_equal(
        buf, "loaded: 1 operator, 2 pools, 50 workers, 1 channel setting");

    fixture_path("examples/bank.json", path, sizeof(path));
    assert_int_equal(cmd_load_file(f.db, path, &n, &e), ST_OK);
    assert_int_equal(n.tenants, 1);
    assert_int_equal(n.playbooks, 3);
    assert_int_equal(n.playbook_versions, 3);
    assert_int_equal(n.contracts, 2);
    /* What the invoices print: the tenant's zone and legal identity, the
     * operator's with its bank account, the contracts' terms and VAT. */
    fixture_str(&f,
                "SELECT concat_ws('|', time_zone, legal_name, tax_id, country,"
                " bank_account) FROM tenants WHERE id = 'jsbank'",
                buf, sizeof(buf));
    assert_string_equal(buf, "Asia/Shanghai|江苏江南农村商业银行股份有限公司|"
                             "91320400MA1XAMPLEG|CN|3204 0100 0000 0000 0001");
    fixture_str(&f,
                "SELECT concat_ws('|', tax_id, bank_name) FROM operators"
                " WHERE id = 'acme_bpo'",
                buf, sizeof(buf));
    assert_string_equal(buf, "91320505MA0XAMPLEP|中国工商银行苏州工业园区支行");
    fixture_str(&f,
                "SELECT string_agg(concat_ws(' ', id, payment_terms_days,"
                " tax_name, tax_rate_bps, tax_rounding), ',' ORDER BY id)"
                " FROM contracts",
                buf, sizeof(buf));
    assert_string_equal(buf, "jsbank-acme-front 30 VAT 600 half_up,"
                             "jsbank-acme-spec 30 VAT 600 half_up");
    fixture_path("examples/insurer.json", path, sizeof(path));
    assert_int_equal(cmd_load_file(f.db, path, &n, &e), ST_OK);

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

    /* Price plans and routing configuration of the examples. */
    fixture_str(&f,
                "SELECT string_agg(concat_ws(' ', contract_id, version, "
                "effective_from = '2026-01-01Z', verification_s, clawback_s, "
                "platform_fee_bps, operator_weight, worker_weight, ai_weight, "
                "ai_party IS NULL), ', ' ORDER BY contract_id) FROM "
                "contract_plans",
                buf, sizeof(buf));
    assert_string_equal(buf, "hzinsure-acme-front 1 t 15 3600 1000 7 3 0 t, "
                             "hzinsure-acme-spec 1 t 15 3600 1000 6 4 0 t, "
                             "jsbank-acme-front 1 t 15 3600 1000 7 3 0 t, "
                             "jsbank-acme-spec 1 t 15 3600 1000 6 4 0 t");
    fixture_str(&f,
                "SELECT plan->'outcomes'->'paid_in_full'->'percent'::text FROM "
                "contract_plans WHERE contract_id = 'jsbank-acme-front'",
                buf, sizeof(buf));
    assert_string_equal(
        buf, "{\"bps\": 800, \"field\": \"amount_minor\", \"cap_minor\": "
             "50000}");
    fixture_str(&f,
                "SELECT concat_ws(' ', s.step, s.licence, s.ttl_seconds, "
                "s.rings::text) FROM playbook_steps s WHERE s.case_type = "
                "'loan_overdue' AND (s.licence IS NOT NULL OR s.rings <> "
                "'[]') ORDER BY s.step",
                buf, sizeof(buf));
    assert_string_equal(buf, "contact debt_collection []");
    fixture_str(&f,
                "SELECT concat_ws(' ', s.ttl_seconds, s.rings::text) FROM "
                "playbook_steps s WHERE s.step = 'legal_review'",
                buf, sizeof(buf));
    assert_string_equal(buf, "86400 [{\"assist\": true, \"lower_by\": 1, "
                             "\"after_seconds\": 45, \"priority_boost\": 2}]");
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM worker_licences "
                                     "WHERE code = 'debt_collection'"),
                     42);
    fixture_str(&f,
                "SELECT string_agg(worker_id || ' ' || expires_on, ', ' ORDER "
                "BY worker_id) FROM worker_licences WHERE expires_on IS NOT "
                "NULL",
                buf, sizeof(buf));
    assert_string_equal(buf, "w003 2027-03-31, w004 2026-06-30, w011 "
                             "2027-12-31, w021 2027-06-30, w040 2028-01-31");
    fixture_str(&f,
                "SELECT string_agg(concat_ws(' ', pool_id, wrapup_seconds, "
                "w_fit, w_occupancy, w_quality, w_cost, w_fairness, "
                "fairness_cap), ', ' ORDER BY pool_id) FROM pool_routing",
                buf, sizeof(buf));
    assert_string_equal(buf, "frontline 0 0 1000 1 0 0 10, "
                             "specialist 0 0 1000 0 0 0 10");
    fixture_str(&f,
                "SELECT string_agg(concat_ws(' ', channel, "
                "coalesce(offer_timeout_ms, 0), auto_accept), ', ' ORDER BY "
                "channel) FROM channel_settings",
                buf, sizeof(buf));
    assert_string_equal(buf, "backoffice 5000 f, chat 0 f, voice 0 f");
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
    fixture_setup(&f, "cmd_load_cover");
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
    cmd_load_counts n;
    err e = {0};

    (void)state;
    fixture_setup(&f, "cmd_load_twice");
    load_examples(&f);
    snapshot(&f, before, sizeof(before));
    load_examples(&f);
    fixture_path("examples/bank.json", path, sizeof(path));
    assert_int_equal(cmd_load_file(f.db, path, &n, &e), ST_OK);
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
    cmd_load_counts n;
    err e = {0};

    (void)state;
    fixture_setup(&f, "cmd_load_version");
    load_examples(&f);
    assert_int_equal(cmd_load_text(f.db, "changed.json", changed_playbook,
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
    assert_int_equal(cmd_load_text(f.db, "changed.json", changed_playbook,
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
#define SCHEMA(member, spec)                                                   \
    "{" NEW_TENANT "\"playbooks\": [{\"tenant\": \"jsbank\", \"case_type\": "  \
    "\"t1\", \"name\": \"T\", \"steps\": [" STEP("a", "") "], \"" member       \
                                                          "\": " spec "}]}"
#define CONTRACT(prices)                                                       \
    "{" NEW_TENANT "\"contracts\": [{\"id\": \"k1\", \"tenant\": "             \
    "\"jsbank\", \"pool\": \"frontline\", \"currency\": \"CNY\", "             \
    "\"prices\": " prices "}]}"

/* A contract for the complaint case type with one price plan. */
#define COMPLAINT_CODES                                                        \
    "\"resolved_first_contact\": {\"price_minor\": 100}, \"upheld\": {}, "     \
    "\"not_upheld\": {}"
#define PLAN_DOC(cur, codes, extra)                                            \
    "{\"currency\": \"" cur "\", \"outcomes\": {" codes "}" extra "}"
#define PLAN_OK PLAN_DOC("CNY", COMPLAINT_CODES, "")
#define PLANS(entries)                                                         \
    "{" NEW_TENANT "\"contracts\": [{\"id\": \"k1\", \"tenant\": "             \
    "\"jsbank\", \"pool\": \"frontline\", \"currency\": \"CNY\", "             \
    "\"prices\": {\"complaint\": {}}, \"plans\": [" entries "]}]}"
#define PLAN(extra, doc)                                                       \
    "{\"version\": 1, \"effective_from\": \"2026-01-01T00:00:00Z\", "          \
    "\"plan\": " doc extra "}"
#define RINGS(rings) PLAYBOOK(STEP("a", ", \"rings\": [" rings "]"))
#define CURRENCY(code)                                                         \
    "{" NEW_TENANT "\"contracts\": [{\"id\": \"k1\", \"tenant\": "             \
    "\"jsbank\", \"pool\": \"frontline\", \"currency\": \"" code "\", "        \
    "\"prices\": {\"complaint\": {}}}]}"
#define CHANNELS(body) "{" NEW_TENANT "\"channels\": {" body "}}"

#define TENANT(extra)                                                          \
    "{\"tenants\": [{\"id\": \"zz_new\", \"name\": \"New\"" extra "}]}"
#define LEGAL(tax_id, country)                                                 \
    "{\"name\": \"N\", \"address\": \"A\", \"tax_id\": \"" tax_id              \
    "\", \"country\": \"" country "\"}"
#define CONTRACT_TERMS(extra)                                                  \
    "{" NEW_TENANT "\"contracts\": [{\"id\": \"k1\", \"tenant\": "             \
    "\"jsbank\", \"pool\": \"frontline\", \"currency\": \"CNY\", "             \
    "\"prices\": {\"complaint\": {}}" extra "}]}"

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
    /* Currencies: active ISO 4217 codes only (contracts/money.h). */
    {CURRENCY("yuan"), ST_INVALID,
     "contracts[0].currency: currency \"yuan\" is not an active ISO 4217 "
     "currency code; use one such as \"CNY\""},
    {CURRENCY("ZZZ"), ST_INVALID,
     "bad.json: contracts[0].currency: currency \"ZZZ\" is not an active ISO "
     "4217 currency code"},
    {CURRENCY("RMB"), ST_INVALID,
     "contracts[0].currency: currency \"RMB\" is not an ISO 4217 code; the "
     "renminbi's code is \"CNY\""},
    {CURRENCY("cny"), ST_INVALID,
     "contracts[0].currency: currency \"cny\" must be written in capitals"},
    {CURRENCY("CLF"), ST_INVALID,
     "contracts[0].currency: currency \"CLF\" is an ISO 4217 fund code"},
    {PLANS(PLAN("", PLAN_DOC("ZZZ", COMPLAINT_CODES, ""))), ST_INVALID,
     "contracts[0].plans[0]: plan.currency: currency \"ZZZ\" is not an "
     "active ISO 4217 currency code"},
    /* Price plans. */
    {PLANS(PLAN(", \"colour\": 1", PLAN_OK)), ST_UNKNOWN_FIELD,
     "unknown field \"colour\" in contracts[0].plans[0]"},
    {PLANS(PLAN("", PLAN_DOC("CNY", COMPLAINT_CODES, ", \"discount\": 5"))),
     ST_UNKNOWN_FIELD,
     "contracts[0].plans[0]: unknown field \"discount\" in plan"},
    {PLANS(PLAN("", PLAN_DOC("CNY",
                             "\"resolved_first_contact\": {\"price_minor\": "
                             "-5}, \"upheld\": {}, \"not_upheld\": {}",
                             ""))),
     ST_INVALID,
     "contracts[0].plans[0]: plan.outcomes.resolved_first_contact.price_minor"},
    {PLANS(PLAN("", PLAN_DOC("CNY",
                             "\"resolved_first_contact\": {\"price_minor\": 1, "
                             "\"volume_tiers\": [{\"from\": 1, "
                             "\"price_minor\": 1}]}, \"upheld\": {}, "
                             "\"not_upheld\": {}",
                             ""))),
     ST_INVALID, "contracts[0].plans[0]: plan.outcomes.resolved_first_contact"},
    {PLANS(PLAN("", PLAN_DOC("EUR", COMPLAINT_CODES, ""))), ST_INVALID,
     "contracts[0].plans[0].plan.currency: \"EUR\" differs from the "
     "contract's currency \"CNY\""},
    {PLANS(PLAN(", \"platform_fee_bps\": 10001", PLAN_OK)), ST_INVALID,
     "contracts[0].plans[0].platform_fee_bps: must be an integer 0..10000 "
     "(got 10001)"},
    {PLANS(PLAN(", \"verification_s\": 60, \"clawback_s\": 30", PLAN_OK)),
     ST_INVALID,
     "contracts[0].plans[0].clawback_s: must be at least "
     "verification_s (60)"},
    {PLANS(PLAN(", \"weights\": {\"operator\": 0}", PLAN_OK)), ST_INVALID,
     "contracts[0].plans[0].weights: the weights must add up to"},
    {PLANS(PLAN(", \"weights\": {\"bank\": 1}", PLAN_OK)), ST_INVALID,
     "contracts[0].plans[0].weights.bank: must be one of operator, worker, "
     "ai"},
    {PLANS(PLAN(", \"weights\": {\"operator\": 1, \"ai\": 1}", PLAN_OK)),
     ST_MISSING_FIELD, "contracts[0].plans[0].ai_party: weights.ai is 1"},
    {PLANS(PLAN(", \"weights\": {\"ai\": 1}, \"ai_party\": \"w001\"", PLAN_OK)),
     ST_INVALID,
     "contracts[0].plans[0].ai_party: worker \"w001\" is not an "
     "AI worker"},
    {PLANS(
         PLAN(", \"weights\": {\"ai\": 1}, \"ai_party\": \"nobody\"", PLAN_OK)),
     ST_INVALID,
     "contracts[0].plans[0].ai_party: worker \"nobody\" does not exist"},
    {PLANS("{\"version\": 1, \"effective_from\": \"2026-02-30T00:00:00Z\", "
           "\"plan\": " PLAN_OK "}"),
     ST_INVALID, "contracts[0].plans[0].effective_from: must be a time"},
    {PLANS(PLAN("", PLAN_DOC("CNY",
                             "\"resolved_first_contact\": {}, \"upheld\": "
                             "{}",
                             ""))),
     ST_INVALID,
     "contracts[0].plans[0].plan.outcomes: no rule for \"not_upheld\", a "
     "billable outcome of case type \"complaint\""},
    {PLANS(PLAN("", PLAN_DOC("CNY", COMPLAINT_CODES ", \"logged\": {}", ""))),
     ST_INVALID,
     "contracts[0].plans[0].plan.outcomes.logged: \"logged\" is not a "
     "billable outcome of the contract's case types"},
    {PLANS(PLAN("", PLAN_OK) ", " PLAN("", PLAN_OK)), ST_INVALID,
     "contracts[0].plans[1].version: version 1 appears twice"},
    /* Step routing. */
    {RINGS("{\"after_seconds\": 60}, {\"after_seconds\": 60}"), ST_INVALID,
     "playbooks[0].steps[0].rings[1].after_seconds: must be above the "
     "previous ring's 60"},
    {RINGS("{\"after_seconds\": 60, \"overflow_pool\": \"nowhere\"}"),
     ST_INVALID,
     "playbooks[0].steps[0].rings[0].overflow_pool: pool \"nowhere\" does "
     "not exist"},
    {RINGS("{\"after_seconds\": 60, \"widen\": true}"), ST_UNKNOWN_FIELD,
     "unknown field \"widen\" in playbooks[0].steps[0].rings[0]"},
    {RINGS("{\"after_seconds\": 60, \"lower_by\": 6}"), ST_INVALID,
     "playbooks[0].steps[0].rings[0].lower_by: must be an integer 0..5"},
    {RINGS("{\"lower_by\": 1}"), ST_MISSING_FIELD, "after_seconds"},
    {RINGS("{\"after_seconds\": 1}, {\"after_seconds\": 2}, "
           "{\"after_seconds\": 3}, {\"after_seconds\": 4}, "
           "{\"after_seconds\": 5}"),
     ST_INVALID, "playbooks[0].steps[0].rings: at most 4 rings"},
    {PLAYBOOK(STEP("a", ", \"ttl_seconds\": 30, \"rings\": "
                        "[{\"after_seconds\": 60}]")),
     ST_INVALID, "playbooks[0].steps[0].ttl_seconds: 30 ends the step"},
    {PLAYBOOK(STEP("a", ", \"licence\": \"debt collection\"")), ST_INVALID,
     "playbooks[0].steps[0].licence"},
    /* Payload and customer schemas (contracts/payload.h). */
    {SCHEMA("payload", "{\"note\": {\"type\": \"text\"}}"), ST_INVALID,
     "playbooks[0].payload.note.type: must be one of string, int"},
    {SCHEMA("payload", "{\"note\": {\"type\": \"string\", \"secret\": 1}}"),
     ST_UNKNOWN_FIELD, "unknown field \"secret\" in playbooks[0].payload.note"},
    {SCHEMA("payload", "{\"days\": {\"type\": \"int\", \"min\": 9, "
                       "\"max\": 1}}"),
     ST_INVALID, "playbooks[0].payload.days.min: is above max"},
    {SCHEMA("customer", "{\"name\": {\"type\": \"string\", \"personal\": "
                        "true}}"),
     ST_INVALID,
     "playbooks[0].customer.name.personal: every field of the "
     "customer is personal"},
    {SCHEMA("payload", "[]"), ST_WRONG_TYPE, "playbooks[0].payload"},
    /* Worker licences, pool routing, channels. */
    {WORKER(", \"licences\": [{\"code\": \"dc\", \"expires_on\": "
            "\"2027-13-01\"}]"),
     ST_INVALID, "workers[0].licences[0].expires_on: must be a date"},
    {WORKER(", \"licences\": [{\"code\": \"dc\"}, {\"code\": \"dc\"}]"),
     ST_INVALID, "workers[0].licences[1].code: licence \"dc\" is listed twice"},
    {WORKER(", \"licences\": [{\"code\": \"dc\", \"until\": \"x\"}]"),
     ST_UNKNOWN_FIELD, "unknown field \"until\" in workers[0].licences[0]"},
    {"{" NEW_TENANT "\"pools\": [{\"id\": \"frontline\", \"operator\": "
     "\"acme_bpo\", \"name\": \"F\", \"routing\": {\"weights\": "
     "{\"speed\": 1}}}]}",
     ST_INVALID,
     "pools[0].routing.weights.speed: must be one of fit, "
     "occupancy, quality, cost, fairness"},
    {"{" NEW_TENANT "\"pools\": [{\"id\": \"frontline\", \"operator\": "
     "\"acme_bpo\", \"name\": \"F\", \"routing\": {\"wrapup_seconds\": "
     "7200}}]}",
     ST_INVALID, "pools[0].routing.wrapup_seconds: must be an integer 0..3600"},
    {CHANNELS("\"voice\": {\"auto_accept\": true}"), ST_INVALID,
     "channels.voice.auto_accept: only backoffice work may be accepted"},
    {CHANNELS("\"fax\": {}"), ST_INVALID,
     "channels.fax: must be one of voice, chat, backoffice"},
    {CHANNELS("\"chat\": {\"offer_timeout_ms\": 50}"), ST_INVALID,
     "channels.chat.offer_timeout_ms: must be an integer 100..3600000"},
    /* Invoicing: a tenant's time zone and legal identity, an operator's,
     * a contract's payment terms and tax. */
    {TENANT(", \"time_zone\": \"Mars/Olympus\""), ST_INVALID,
     "tenants[0].time_zone: \"Mars/Olympus\" is not a time zone; use an "
     "IANA name such as \"Asia/Shanghai\""},
    {TENANT(", \"legal\": {\"name\": \"N\", \"address\": \"A\", "
            "\"country\": \"CN\"}"),
     ST_MISSING_FIELD, "tax_id"},
    {TENANT(", \"legal\": " LEGAL("91320400MA1XAMPLEG", "cn")), ST_INVALID,
     "tenants[0].legal.country: must be an ISO 3166-1 alpha-2 code"},
    {TENANT(", \"legal\": " LEGAL("91320400MA1XAMPLEH", "CN")), ST_INVALID,
     "tenants[0].legal.tax_id: \"91320400MA1XAMPLEH\" is not a unified "
     "social credit code"},
    {TENANT(", \"legal\": " LEGAL("DE<123>", "DE")), ST_INVALID,
     "tenants[0].legal.tax_id: may hold only letters, digits, spaces"},
    {"{" NEW_TENANT "\"operators\": [{\"id\": \"acme_bpo\", \"name\": "
     "\"A\", \"legal\": {\"name\": \"N\", \"address\": \"A\", "
     "\"tax_id\": \"X1\", \"country\": \"GB\", \"vat\": 1}}]}",
     ST_UNKNOWN_FIELD, "unknown field \"vat\" in operators[0].legal"},
    {CONTRACT_TERMS(", \"tax\": {\"name\": \"VAT\", \"rate_bps\": 10001}"),
     ST_INVALID, "contracts[0].tax.rate_bps: must be an integer 0..10000"},
    {CONTRACT_TERMS(", \"tax\": {\"name\": \"VAT\", \"rate_bps\": 600, "
                    "\"rounding\": \"up\"}"),
     ST_INVALID,
     "contracts[0].tax.rounding: rounding mode \"up\" is not known"},
    {CONTRACT_TERMS(", \"tax\": {\"rate_bps\": 600}"), ST_MISSING_FIELD,
     "name"},
    {CONTRACT_TERMS(", \"payment_terms_days\": 400"), ST_INVALID,
     "contracts[0].payment_terms_days: must be an integer 0..365"},
};

static void test_bad_input_changes_nothing(void **state)
{
    fixture f;
    char before[256], after[256];
    size_t n = sizeof(bad_cases) / sizeof(bad_cases[0]);

    (void)state;
    fixture_setup(&f, "cmd_load_bad");
    load_examples(&f);
    snapshot(&f, before, sizeof(before));
    for (size_t i = 0; i < n; i++) {
        err e = {0};
        status s = cmd_load_text(f.db, "bad.json", bad_cases[i].doc,
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
            cmd_load_text(f.db, "good.json", good, strlen(good), NULL, &e),
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
    fixture_setup(&f, "cmd_load_nofile");
    assert_int_equal(cmd_load_file(f.db, "/nonexistent/x.json", NULL, &e),
                     ST_IO);
    assert_non_null(strstr(e.msg, "/nonexistent/x.json: cannot open"));
    fixture_teardown(&f);
}

/* The demo's files in the demo's order, and ai.json after them. */
static void load_all_examples(fixture *f)
{
    static const char *const files[] = {
        "examples/operator.json", "examples/bank.json", "examples/insurer.json",
        "examples/ai.json"};
    char path[512];
    err e = {0};

    for (int i = 0; i < 4; i++) {
        fixture_path(files[i], path, sizeof(path));
        if (cmd_load_file(f->db, path, NULL, &e) != ST_OK)
            fail_msg("load %s: %s", files[i], e.msg);
    }
}

/*
 * Every contract of the examples has a price plan, and every billable
 * outcome code of every case type it covers has a rule in every version
 * (billing stores nothing for an outcome its plan does not cover). The
 * licensed step has enough licence holders to be routed.
 */
static void test_examples_plans_cover(void **state)
{
    fixture f;
    char buf[512];

    (void)state;
    fixture_setup(&f, "cmd_load_plans_cover");
    load_all_examples(&f);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM contracts"), 6);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM contracts k WHERE "
                                     "NOT EXISTS (SELECT 1 FROM "
                                     "contract_plans p WHERE p.contract_id = "
                                     "k.id)"),
                     0);
    fixture_str(&f,
                "SELECT coalesce(string_agg(DISTINCT p.contract_id || '/' || "
                "o.key, ', '), 'none') FROM contract_plans p "
                "JOIN contract_case_types ct ON ct.contract_id = p.contract_id "
                "JOIN contracts k ON k.id = p.contract_id "
                "JOIN playbook_steps s ON s.tenant_id = k.tenant_id AND "
                "s.case_type = ct.case_type AND s.version = (SELECT "
                "max(version) FROM playbooks b WHERE b.tenant_id = "
                "k.tenant_id AND b.case_type = ct.case_type) "
                "CROSS JOIN jsonb_each(s.outcomes) o "
                "WHERE (o.value->>'billable')::boolean "
                "AND NOT (p.plan->'outcomes') ? o.key",
                buf, sizeof(buf));
    assert_string_equal(buf, "none");
    /* The query above can fail: a plan without paid_in_full is caught. */
    assert_true(fixture_i64(&f, "SELECT count(*) FROM contract_case_types ct "
                                "JOIN contracts k ON k.id = ct.contract_id "
                                "JOIN playbook_steps s ON s.tenant_id = "
                                "k.tenant_id AND s.case_type = ct.case_type "
                                "CROSS JOIN jsonb_each(s.outcomes) o WHERE "
                                "(o.value->>'billable')::boolean AND o.key = "
                                "'paid_in_full'") > 0);
    /* Short windows for the demo, effective before any demo case. */
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM contract_plans "
                                     "WHERE verification_s <> 15 OR "
                                     "clawback_s <> 3600 OR effective_from > "
                                     "now()"),
                     0);
    /* The contact step needs debt_collection: at least 4 workers of a
     * contracted pool hold it, valid today, and qualify on their own. */
    assert_true(
        fixture_i64(
            &f,
            "SELECT min(n) FROM (SELECT (SELECT count(*) FROM workers w "
            "JOIN contracts c ON c.pool_id = w.pool_id AND c.tenant_id = "
            "s.tenant_id JOIN contract_case_types ct ON ct.contract_id = "
            "c.id AND ct.case_type = s.case_type JOIN worker_licences l ON "
            "l.worker_id = w.id AND l.code = s.licence AND (l.expires_on IS "
            "NULL OR l.expires_on >= current_date) WHERE NOT EXISTS (SELECT "
            "1 FROM jsonb_each_text(s.skills) r WHERE COALESCE((SELECT level "
            "FROM worker_skills k WHERE k.worker_id = w.id AND k.skill = "
            "r.key), 0) < r.value::int)) AS n FROM playbook_steps s WHERE "
            "s.licence IS NOT NULL) x") >= 4);
    fixture_teardown(&f);
}

/* A document with every new field; the rows it must give are below. */
static const char full_doc[] =
    "{\"tenants\": [{\"id\": \"t9\", \"name\": \"T9\"}],"
    " \"operators\": [{\"id\": \"op9\", \"name\": \"Op9\"}],"
    " \"pools\": [{\"id\": \"p9\", \"operator\": \"op9\", \"name\": \"P9\","
    "   \"routing\": {\"wrapup_seconds\": 5, \"weights\": {\"fit\": 3,"
    "   \"cost\": 7}, \"fairness_cap\": 4}},"
    "  {\"id\": \"p9b\", \"operator\": \"op9\", \"name\": \"P9b\"}],"
    " \"workers\": [{\"id\": \"h9\", \"pool\": \"p9\", \"name\": \"H\","
    "   \"capacity\": {\"chat\": 1}, \"skills\": {\"s\": 2}, \"licences\":"
    "   [{\"code\": \"lic_a\", \"expires_on\": \"2028-02-29\"},"
    "    {\"code\": \"lic_b\"}]},"
    "  {\"id\": \"a9\", \"pool\": \"p9\", \"name\": \"A\", \"kind\": \"ai\","
    "   \"capacity\": {\"chat\": 1}}],"
    " \"playbooks\": [{\"tenant\": \"t9\", \"case_type\": \"ct\", \"name\":"
    "   \"CT\", \"steps\": [{\"key\": \"s1\", \"channel\": \"chat\","
    "   \"sla_seconds\": 60, \"licence\": \"lic_a\", \"ttl_seconds\": 600,"
    "   \"rings\": [{\"after_seconds\": 30, \"lower_by\": 1},"
    "    {\"after_seconds\": 120, \"assist\": true, \"overflow_pool\":"
    "     \"p9b\", \"priority_boost\": 3}],"
    "   \"outcomes\": {\"ok\": {\"billable\": true, \"fields\":"
    "    {\"amount_minor\": \"amount_minor\"}}, \"no\": {\"billable\":"
    "    false}}},"
    "  {\"key\": \"s2\", \"channel\": \"voice\", \"sla_seconds\": 60,"
    "   \"after\": [\"s1\"], \"outcomes\": {\"fine\": {\"billable\": true}}}"
    "  ]}],"
    " \"contracts\": [{\"id\": \"k9\", \"tenant\": \"t9\", \"pool\": \"p9\","
    "   \"currency\": \"EUR\", \"prices\": {\"ct\": {\"ok\": 100}},"
    "   \"plans\": [{\"version\": 1, \"effective_from\":"
    "    \"2026-01-01T00:00:00Z\", \"verification_s\": 60, \"clawback_s\":"
    "    120, \"platform_fee_bps\": 250, \"weights\": {\"operator\": 5,"
    "    \"worker\": 3, \"ai\": 2}, \"ai_party\": \"a9\", \"plan\":"
    "    {\"currency\": \"EUR\", \"outcomes\": {\"ok\": {\"price_minor\": 100,"
    "    \"percent\": {\"field\": \"amount_minor\", \"bps\": 500,"
    "    \"cap_minor\": 1000}}, \"fine\": {}}, \"monthly_minimum_minor\":"
    "    5000}},"
    "   {\"version\": 2, \"effective_from\": \"2026-06-01T08:00:00+08:00\","
    "    \"plan\": {\"currency\": \"EUR\", \"outcomes\": {\"ok\":"
    "    {\"price_minor\": 120}, \"fine\": {\"price_minor\": 1}}}}]}],"
    " \"channels\": {\"voice\": {\"offer_timeout_ms\": 20000},"
    "  \"backoffice\": {\"auto_accept\": true}}}";

static void test_full_document_rows(void **state)
{
    fixture f;
    char buf[512], before[256], after[256];
    cmd_load_counts n;
    err e = {0};

    (void)state;
    fixture_setup(&f, "cmd_load_full");
    if (cmd_load_text(f.db, "full.json", full_doc, strlen(full_doc), &n, &e) !=
        ST_OK)
        fail_msg("full.json: %s", e.msg);
    assert_int_equal(n.plan_versions, 2);
    assert_int_equal(n.channels, 2);
    cmd_load_summary(&n, buf, sizeof(buf));
    assert_string_equal(buf, "loaded: 1 tenant, 1 operator, 2 pools, "
                             "2 workers, 1 playbook (1 new version), "
                             "1 contract, 2 new plan versions, "
                             "2 channel settings");
    fixture_str(&f,
                "SELECT string_agg(concat_ws(' ', version, effective_from = "
                "'2026-06-01 00:00Z' OR version = 1, effective_from = "
                "'2026-01-01Z' OR version = 2, verification_s, clawback_s, "
                "platform_fee_bps, operator_weight, worker_weight, ai_weight, "
                "coalesce(ai_party, '-'), plan->'outcomes'->'ok'->>"
                "'price_minor'), ', ' ORDER BY version) FROM contract_plans "
                "WHERE contract_id = 'k9'",
                buf, sizeof(buf));
    assert_string_equal(buf, "1 t t 60 120 250 5 3 2 a9 100, "
                             "2 t t 0 0 0 1 0 0 - 120");
    fixture_str(&f,
                "SELECT plan::text FROM contract_plans WHERE contract_id = "
                "'k9' AND version = 1",
                buf, sizeof(buf));
    assert_string_equal(buf, "{\"currency\": \"EUR\", \"outcomes\": {\"ok\": "
                             "{\"percent\": {\"bps\": 500, \"field\": "
                             "\"amount_minor\", \"cap_minor\": 1000}, "
                             "\"price_minor\": 100}, \"fine\": {}}, "
                             "\"monthly_minimum_minor\": 5000}");
    fixture_str(&f,
                "SELECT string_agg(concat_ws(' ', code, coalesce(expires_on::"
                "text, '-')), ', ' ORDER BY code) FROM worker_licences WHERE "
                "worker_id = 'h9'",
                buf, sizeof(buf));
    assert_string_equal(buf, "lic_a 2028-02-29, lic_b -");
    fixture_str(&f,
                "SELECT string_agg(concat_ws(' ', step, coalesce(licence, '-'),"
                " coalesce(ttl_seconds, 0), rings::text), ', ' ORDER BY step) "
                "FROM playbook_steps WHERE tenant_id = 't9'",
                buf, sizeof(buf));
    assert_string_equal(buf, "s1 lic_a 600 [{\"lower_by\": 1, "
                             "\"after_seconds\": 30}, {\"assist\": true, "
                             "\"after_seconds\": 120, \"overflow_pool\": "
                             "\"p9b\", \"priority_boost\": 3}], s2 - 0 []");
    fixture_str(&f,
                "SELECT string_agg(concat_ws(' ', pool_id, wrapup_seconds, "
                "w_fit, w_occupancy, w_quality, w_cost, w_fairness, "
                "fairness_cap), ', ') FROM pool_routing",
                buf, sizeof(buf));
    assert_string_equal(buf, "p9 5 3 1000 0 7 0 4");
    fixture_str(&f,
                "SELECT string_agg(concat_ws(' ', channel, "
                "coalesce(offer_timeout_ms, 0), auto_accept), ', ' ORDER BY "
                "channel) FROM channel_settings",
                buf, sizeof(buf));
    assert_string_equal(buf, "backoffice 0 t, chat 0 f, voice 20000 f");

    /* Again: nothing changes, not even a row version. */
    snapshot(&f, before, sizeof(before));
    assert_int_equal(
        cmd_load_text(f.db, "full.json", full_doc, strlen(full_doc), &n, &e),
        ST_OK);
    assert_int_equal(n.plan_versions, 0);
    snapshot(&f, after, sizeof(after));
    assert_string_equal(before, after);

    /* licences replace the set; a worker without the field keeps its. */
    {
        static const char lic[] =
            "{\"workers\": [{\"id\": \"h9\", \"pool\": \"p9\", \"name\": "
            "\"H\", \"capacity\": {\"chat\": 1}, \"skills\": {\"s\": 2}, "
            "\"licences\": [{\"code\": \"lic_c\"}]}]}";
        static const char nolic[] =
            "{\"workers\": [{\"id\": \"h9\", \"pool\": \"p9\", \"name\": "
            "\"H\", \"capacity\": {\"chat\": 1}, \"skills\": {\"s\": 2}}]}";

        assert_int_equal(
            cmd_load_text(f.db, "lic.json", lic, strlen(lic), NULL, &e), ST_OK);
        assert_int_equal(
            cmd_load_text(f.db, "nolic.json", nolic, strlen(nolic), NULL, &e),
            ST_OK);
        fixture_str(&f,
                    "SELECT string_agg(code, ',') FROM worker_licences WHERE "
                    "worker_id = 'h9'",
                    buf, sizeof(buf));
        assert_string_equal(buf, "lic_c");
    }
    fixture_teardown(&f);
}

/* The examples' jsbank-acme-front plan with one price changed. */
static const char changed_plan[] =
    "{"
    "\"tenants\": [{\"id\": \"zz_new\", \"name\": \"New\"}], "
    "\"contracts\": [{\"id\": \"jsbank-acme-ai\", \"tenant\": \"jsbank\","
    " \"pool\": \"ai\", \"currency\": \"CNY\", \"verification_days\": 7,"
    " \"prices\": {\"consumer_review\": {\"compliant\": 800,"
    " \"non_compliant\": 1200}},"
    " \"plans\": [{\"version\": 1, \"effective_from\":"
    " \"2026-01-01T00:00:00Z\", \"verification_s\": 15, \"clawback_s\": 3600,"
    " \"platform_fee_bps\": 2000, \"weights\": {\"operator\": 1, \"worker\":"
    " 1}, \"plan\": {\"currency\": \"CNY\", \"outcomes\": {\"compliant\":"
    " {\"price_minor\": 900}, \"non_compliant\": {\"price_minor\": 1200}},"
    " \"complaint_penalty_minor\": 3000}}]}]}";

static const char later_plan[] =
    "{\"contracts\": [{\"id\": \"jsbank-acme-ai\", \"tenant\": \"jsbank\","
    " \"pool\": \"ai\", \"currency\": \"CNY\", \"verification_days\": 7,"
    " \"prices\": {\"consumer_review\": {\"compliant\": 800,"
    " \"non_compliant\": 1200}},"
    " \"plans\": [{\"version\": 2, \"effective_from\": \"%s\","
    " \"plan\": {\"currency\": \"CNY\", \"outcomes\": {\"compliant\":"
    " {\"price_minor\": 900}, \"non_compliant\": {\"price_minor\": 1300}}}}"
    "]}]}";

static void test_plan_versions_immutable(void **state)
{
    fixture f;
    char before[256], after[256], doc[2048];
    cmd_load_counts n;
    err e = {0};
    status s;

    (void)state;
    fixture_setup(&f, "cmd_load_plans");
    load_all_examples(&f);
    snapshot(&f, before, sizeof(before));
    load_all_examples(&f);
    snapshot(&f, after, sizeof(after));
    assert_string_equal(before, after);

    s = cmd_load_text(f.db, "changed.json", changed_plan, strlen(changed_plan),
                      NULL, &e);
    assert_int_equal(s, ST_CONFLICT);
    assert_string_equal(
        e.msg, "changed.json: contracts[0].plans[0].version: plan version 1 "
               "of contract jsbank-acme-ai is immutable; add version 2 "
               "with a later effective_from");
    snapshot(&f, after, sizeof(after));
    assert_string_equal(before, after);

    /* Version 2 must take effect after version 1. */
    snprintf(doc, sizeof(doc), later_plan, "2025-12-31T23:59:59Z");
    s = cmd_load_text(f.db, "early.json", doc, strlen(doc), NULL, &e);
    assert_int_equal(s, ST_INVALID);
    assert_non_null(strstr(e.msg, "early.json: contracts[0].plans[0]."
                                  "effective_from: version 2 from "
                                  "2025-12-31T23:59:59Z is out of order with "
                                  "version 1 from 2026-01-01T00:00:00Z"));
    snapshot(&f, after, sizeof(after));
    assert_string_equal(before, after);

    snprintf(doc, sizeof(doc), later_plan, "2026-02-01T00:00:00Z");
    if (cmd_load_text(f.db, "later.json", doc, strlen(doc), &n, &e) != ST_OK)
        fail_msg("later.json: %s", e.msg);
    assert_int_equal(n.plan_versions, 1);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM contract_plans "
                                     "WHERE contract_id = 'jsbank-acme-ai'"),
                     2);
    /* The examples still load: version 1 is unchanged and 2 stays. */
    load_all_examples(&f);
    s = cmd_load_text(f.db, "changed.json", changed_plan, strlen(changed_plan),
                      NULL, &e);
    assert_int_equal(s, ST_CONFLICT);
    assert_non_null(strstr(e.msg, "add version 3 with a later"));
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
        cmocka_unit_test(test_examples_plans_cover),
        cmocka_unit_test(test_full_document_rows),
        cmocka_unit_test(test_plan_versions_immutable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
