/* Unit tests of assist_rules: contact hours at their boundaries in several
 * time zones, forbidden phrases in Chinese and English, acknowledgement
 * gating, reply choice and strict parsing. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "assist_rules.h"
#include "tl_test.h"

#define MIDNIGHT_UTC 1795564800 /* 2026-11-25T00:00:00Z */

static const char rules_json[] =
    "{\"tenant\": \"bank\", \"currency\": \"CNY\","
    " \"time_zone\": {\"default_utc_offset\": \"+08:00\","
    "   \"by_phone_prefix\": {\"+44\": \"+00:00\", \"+1\": \"-05:00\","
    "                        \"+1242\": \"-04:00\"}},"
    " \"contact_hours\": [{\"id\": \"hours\", \"case_types\": [\"loan\"],"
    "   \"channels\": [\"voice\"], \"from\": \"08:00\", \"to\": \"21:00\","
    "   \"severity\": \"block\", \"ack_required\": true,"
    "   \"text\": \"Schedule a callback.\"}],"
    " \"forbidden_phrases\": [{\"id\": \"threats\", \"case_types\": [\"loan\"],"
    "   \"severity\": \"block\", \"text\": \"No threats.\","
    "   \"phrases\": [\"坐牢\", \"Go to  Jail\", \"通知你单位\"]}],"
    " \"disclosures\": [{\"id\": \"recording\", \"channels\": [\"voice\"],"
    "   \"ack_required\": true, \"text\": \"Say the call is recorded.\"},"
    "  {\"id\": \"chat_only\", \"channels\": [\"chat\"], \"severity\": "
    "\"info\","
    "   \"text\": \"Chat disclosure.\"}],"
    " \"replies\": [{\"case_type\": \"loan\", \"text\": \"any\"},"
    "  {\"case_type\": \"loan\", \"step\": \"contact\", \"text\": \"step\"},"
    "  {\"case_type\": \"loan\", \"step\": \"contact\", \"language\": \"zh\","
    "   \"text\": \"step zh\"}],"
    " \"query_hints\": [{\"case_type\": \"loan\", \"text\": \"逾期\"}]}";

static assist_rules *load(void)
{
    assist_rules *r = NULL;
    err e = {0};

    assert_int_equal(assist_rules_parse(&r, rules_json, strlen(rules_json),
                                        "rules.json", &e),
                     ST_OK);
    return r;
}

static const assist_prompt *find(const assist_prompts *p, const char *id)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->items[i].id, id) == 0)
            return &p->items[i];
    return NULL;
}

/* The contact-hours prompt at local time hh:mm for a customer at offset
 * minutes. */
static assist_prompt hours_at(const assist_rules *r, int offset, int hh, int mm)
{
    assist_rules_ctx c = {"loan", "contact", "voice", offset, true};
    assist_prompts p;
    int64_t now = MIDNIGHT_UTC + (int64_t)(hh * 60 + mm - offset) * 60;
    const assist_prompt *h;

    assist_rules_check(r, &c, now, &p);
    h = find(&p, "hours");
    assert_non_null(h);
    return *h;
}

static void test_contact_hours_boundaries(void **state)
{
    assist_rules *r = load();
    static const int offsets[] = {8 * 60, -5 * 60, 5 * 60 + 30, 0};

    (void)state;
    for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
        int o = offsets[i];
        assist_prompt p;

        p = hours_at(r, o, 7, 59);
        assert_int_equal(p.severity, ASSIST_BLOCK);
        assert_true(p.ack_required);
        assert_non_null(strstr(p.text, "Outside contact hours: it is 07:59"));
        assert_non_null(strstr(p.text, "Schedule a callback."));
        p = hours_at(r, o, 8, 0);
        assert_int_equal(p.severity, ASSIST_INFO);
        assert_false(p.ack_required);
        assert_non_null(strstr(p.text, "Within contact hours: it is 08:00"));
        p = hours_at(r, o, 20, 59);
        assert_int_equal(p.severity, ASSIST_INFO);
        p = hours_at(r, o, 21, 0);
        assert_int_equal(p.severity, ASSIST_BLOCK);
        assert_non_null(strstr(p.text, "it is 21:00"));
    }
    /* The zone is named: 12:59 UTC is 20:59 in Beijing, 07:59 in New
     * York. */
    assert_non_null(strstr(hours_at(r, 480, 20, 59).text, "(UTC+08:00)"));
    assert_non_null(strstr(hours_at(r, -300, 7, 59).text, "(UTC-05:00)"));
    assert_non_null(strstr(hours_at(r, 330, 7, 59).text, "(UTC+05:30)"));
    assist_rules_destroy(r);
}

static void test_hours_scope_and_unknown_zone(void **state)
{
    assist_rules *r = load();
    assist_rules_ctx chat = {"loan", "contact", "chat", 0, true};
    assist_rules_ctx unknown = {"loan", "contact", "voice", 0, false};
    assist_prompts p;

    (void)state;
    /* The hours rule is for voice only. */
    assist_rules_check(r, &chat, MIDNIGHT_UTC, &p);
    assert_null(find(&p, "hours"));
    assert_non_null(find(&p, "chat_only"));
    assert_null(find(&p, "recording"));
    /* Inside the hours but with an unknown zone: a warning. */
    assist_rules_check(r, &unknown, MIDNIGHT_UTC + 12 * 3600, &p);
    assert_int_equal(find(&p, "hours")->severity, ASSIST_WARN);
    assert_non_null(strstr(find(&p, "hours")->text, "UTC assumed"));
    assist_rules_destroy(r);
}

static void test_utc_offset_resolution(void **state)
{
    assist_rules *r = load();
    bool known;
    int m;

    (void)state;
    assert_int_equal(assist_rules_utc_offset(r, "-03:30", "+44 7700", &known),
                     -210);
    assert_true(known);
    assert_int_equal(assist_rules_utc_offset(r, NULL, "+44 7700", &known), 0);
    assert_int_equal(assist_rules_utc_offset(r, NULL, "+1 212 555", &known),
                     -300);
    /* The longest prefix wins. */
    assert_int_equal(assist_rules_utc_offset(r, NULL, "+1242 555", &known),
                     -240);
    assert_int_equal(assist_rules_utc_offset(r, "bad", "+86 138", &known), 480);
    assert_true(known);
    assert_true(assist_utc_offset_parse("Z", &m) && m == 0);
    assert_true(assist_utc_offset_parse("+14:00", &m) && m == 840);
    assert_false(assist_utc_offset_parse("+14:30", &m));
    assert_false(assist_utc_offset_parse("+8:00", &m));
    assert_false(assist_utc_offset_parse("+08:60", &m));
    assist_rules_destroy(r);
}

static void test_forbidden_phrases(void **state)
{
    assist_rules *r = load();
    assist_rules_ctx c = {"loan", "contact", "voice", 480, true};
    assist_rules_ctx other = {"card", "intake", "voice", 480, true};
    assist_prompts p = {0};

    (void)state;
    assert_int_equal(assist_rules_check_draft(
                         r, &c, "再不还钱就让你坐牢，我们会通知你单位。", &p),
                     2);
    assert_int_equal(p.n, 2);
    assert_int_equal(p.items[0].severity, ASSIST_BLOCK);
    assert_string_equal(p.items[0].id, "threats");
    assert_non_null(strstr(p.items[0].text, "\"坐牢\""));
    assert_non_null(strstr(p.items[1].text, "\"通知你单位\""));
    /* ASCII case, full width and runs of white space are ignored. */
    p.n = 0;
    assert_int_equal(
        assist_rules_check_draft(r, &c, "You will GO TO\n JAIL.", &p), 1);
    p.n = 0;
    assert_int_equal(
        assist_rules_check_draft(r, &c, "ｇｏ　ｔｏ　ｊａｉｌ", &p), 1);
    /* Clean text, text outside the rule's case types. */
    p.n = 0;
    assert_int_equal(
        assist_rules_check_draft(
            r, &c, "Could you pay by Friday? 请您周五前还款。", &p),
        0);
    assert_int_equal(assist_rules_check_draft(r, &other, "坐牢 jail", &p), 0);
    assert_int_equal(p.n, 0);
    assist_rules_destroy(r);
}

static void test_ack_gating(void **state)
{
    assist_rules *r = load();
    assist_rules_ctx c = {"loan", "contact", "voice", 480, true};
    assist_prompts p;
    err e = {0};

    (void)state;
    /* 22:00 local: the hours and the recording disclosure need acks. */
    assist_rules_check(r, &c, MIDNIGHT_UTC + 14 * 3600, &p);
    assert_int_equal(p.n, 3);
    assert_false(assist_prompts_all_acked(&p));
    assert_int_equal(assist_prompts_ack(&p, "recording", &e), ST_OK);
    assert_false(assist_prompts_all_acked(&p));
    assert_int_equal(assist_prompts_ack(&p, "nope", &e), ST_NOT_FOUND);
    assert_non_null(strstr(e.msg, "nope"));
    assert_int_equal(assist_prompts_ack(&p, "hours", &e), ST_OK);
    assert_true(assist_prompts_all_acked(&p));
    /* Prompts without ack_required never block. */
    assert_false(find(&p, "threats")->ack_required);
    assist_rules_destroy(r);
}

static void test_reply_choice(void **state)
{
    assist_rules *r = load();

    (void)state;
    assert_string_equal(assist_rules_reply(r, "loan", "contact", "zh"),
                        "step zh");
    assert_string_equal(assist_rules_reply(r, "loan", "contact", "en"), "step");
    assert_string_equal(assist_rules_reply(r, "loan", "hardship", "zh"), "any");
    assert_null(assist_rules_reply(r, "card", "intake", NULL));
    assert_string_equal(assist_rules_query_hint(r, "loan", "x", NULL), "逾期");
    assert_string_equal(assist_rules_tenant(r), "bank");
    assert_string_equal(assist_rules_currency(r), "CNY");
    assist_rules_destroy(r);
}

/* Parsing text must fail with code and a message containing want. */
static void expect_error(const char *text, status code, const char *want)
{
    assist_rules *r = NULL;
    err e = {0};

    assert_int_equal(
        assist_rules_parse(&r, text, strlen(text), "kb/rules.json", &e), code);
    assert_null(r);
    if (strstr(e.msg, want) == NULL || strstr(e.msg, "kb/rules.json") == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", e.msg, want);
}

static void test_strict_parsing(void **state)
{
    (void)state;
    expect_error("{\"tenant\": \"b\", \"colour\": 1}", ST_UNKNOWN_FIELD,
                 "\"colour\"");
    expect_error("{}", ST_MISSING_FIELD, "\"tenant\"");
    expect_error("{\"tenant\": \"b\", \"currency\": \"RMB\"}", ST_INVALID,
                 "rules.currency: currency \"RMB\" is not an ISO 4217 code");
    expect_error("{\"tenant\": \"b\", \"currency\": \"ZZZ\"}", ST_INVALID,
                 "currency \"ZZZ\" is not an active ISO 4217 currency");
    expect_error("{\"tenant\": \"b\",", ST_BAD_JSON, "line 1");
    expect_error("{\"tenant\": \"b\", \"contact_hours\": [{\"id\": \"h\", "
                 "\"from\": \"8:00\", \"to\": \"21:00\"}]}",
                 ST_INVALID, "contact_hours[0].from");
    expect_error("{\"tenant\": \"b\", \"contact_hours\": [{\"id\": \"h\", "
                 "\"from\": \"08:00\", \"to\": \"21:00\", \"severity\": "
                 "\"fatal\"}]}",
                 ST_INVALID, "contact_hours[0].severity");
    expect_error("{\"tenant\": \"b\", \"contact_hours\": [{\"id\": \"h\", "
                 "\"from\": \"08:00\", \"to\": \"21:00\", \"case_types\": "
                 "[\"a b\"]}]}",
                 ST_INVALID, "contact_hours[0].case_types[0]");
    expect_error("{\"tenant\": \"b\", \"disclosures\": [{\"id\": \"x\", "
                 "\"text\": \"t\"}, {\"id\": \"x\", \"text\": \"u\"}]}",
                 ST_INVALID, "disclosures[1].id \"x\"");
    expect_error("{\"tenant\": \"b\", \"forbidden_phrases\": [{\"id\": \"f\", "
                 "\"text\": \"t\", \"phrases\": [\"ok\", \"  \"]}]}",
                 ST_INVALID, "forbidden_phrases[0].phrases[1]");
    expect_error("{\"tenant\": \"b\", \"forbidden_phrases\": [{\"id\": \"f\", "
                 "\"text\": \"t\", \"phrases\": [1]}]}",
                 ST_WRONG_TYPE, "forbidden_phrases[0].phrases[0]");
    expect_error("{\"tenant\": \"b\", \"disclosures\": [{\"id\": \"x\"}]}",
                 ST_MISSING_FIELD, "\"text\"");
    expect_error("{\"tenant\": \"b\", \"time_zone\": {\"default_utc_offset\": "
                 "\"+25:00\"}}",
                 ST_INVALID, "time_zone.default_utc_offset");
    expect_error("{\"tenant\": \"b\", \"time_zone\": {\"by_phone_prefix\": "
                 "{\"86\": \"+08:00\"}}}",
                 ST_INVALID, "by_phone_prefix key \"86\"");
    expect_error("{\"tenant\": \"b\", \"replies\": [{\"text\": \"t\"}]}",
                 ST_MISSING_FIELD, "replies[0]");
    expect_error("{\"tenant\": \"b\", \"replies\": [7]}", ST_WRONG_TYPE,
                 "replies[0] must be an object");
}

/* Document checks: a leaflet rule with two topics that applies only when
 * "loan" or 贷款 occurs, an always-applying block check, and a warn
 * phrase that counts as a caution. Counted by hand below. */
static const char doc_rules[] =
    "{\"tenant\": \"b\","
    " \"forbidden_phrases\": ["
    "  {\"id\": \"police\", \"severity\": \"block\", \"text\": \"t\","
    "   \"phrases\": [\"this is the police\"]},"
    "  {\"id\": \"claims\", \"text\": \"t\", \"phrases\": [\"best rate\"]}],"
    " \"document_checks\": ["
    "  {\"id\": \"issuer\", \"case_types\": [\"review\"], \"severity\": "
    "\"block\", \"text\": \"t\","
    "   \"must_mention\": {\"bank\": [\"Acme Bank\", \"艾克银行\"]}},"
    "  {\"id\": \"loan_terms\", \"severity\": \"block\", \"text\": \"t\","
    "   \"applies_if\": [\"loan\", \"贷款\"],"
    "   \"must_mention\": {\"fees\": [\"fee\", \"费用\"],"
    "                     \"rate\": [\"interest rate\", \"利率\"]}},"
    "  {\"id\": \"soft\", \"severity\": \"warn\", \"text\": \"t\","
    "   \"applies_if\": [\"savings\"],"
    "   \"must_mention\": {\"deposit_insurance\": [\"deposit insurance\"]}}]}";

static assist_doc_findings check_doc(const char *case_type, const char *text)
{
    assist_rules *r = NULL;
    assist_rules_ctx c = {case_type, "assess", "backoffice", 0, true};
    assist_doc_findings f;
    err e = {0};

    if (assist_rules_parse(&r, doc_rules, strlen(doc_rules), "doc.json", &e) !=
            ST_OK ||
        assist_rules_check_document(r, &c, text, &f, &e) != ST_OK)
        fail_msg("%s", e.msg);
    assist_rules_destroy(r);
    return f;
}

static void test_document_checks(void **state)
{
    assist_doc_findings f;

    (void)state;
    /* Not about a loan: only issuer applies, and it is met. */
    f = check_doc("review", "ACME  bank savings. Deposit insurance covers it.");
    assert_int_equal(f.checks, 2); /* issuer and soft */
    assert_int_equal(f.mentioned, 2);
    assert_int_equal(f.missing + f.breaches + f.cautions, 0);
    /* A loan leaflet in Chinese without the rate: one gap. */
    f = check_doc("review", "艾克银行个人贷款，无任何费用。");
    assert_int_equal(f.checks, 2);
    assert_int_equal(f.mentioned, 2);
    assert_int_equal(f.missing, 1);
    assert_string_equal(f.gap, "loan_terms: no rate");
    /* Out of the issuer check's scope, with a breach and a caution. */
    f = check_doc("other", "This is THE police. Best  rate!");
    assert_int_equal(f.checks, 0);
    assert_int_equal(f.breaches, 1);
    assert_int_equal(f.cautions, 1);
    assert_string_equal(f.breach, "police: \"this is the police\"");
    assert_string_equal(f.caution, "claims: \"best rate\"");
    /* A warn check's missing topic is a caution, not a gap. */
    f = check_doc("review", "Acme Bank savings account.");
    assert_int_equal(f.missing, 0);
    assert_int_equal(f.cautions, 1);
    assert_string_equal(f.caution, "soft: no deposit_insurance");

    expect_error("{\"tenant\": \"b\", \"document_checks\": [{\"id\": \"d\", "
                 "\"text\": \"t\", \"must_mention\": {}}]}",
                 ST_INVALID, "document_checks[0].must_mention is empty");
    expect_error("{\"tenant\": \"b\", \"document_checks\": [{\"id\": \"d\", "
                 "\"text\": \"t\", \"must_mention\": {\"a b\": [\"x\"]}}]}",
                 ST_INVALID, "topic \"a b\"");
    expect_error("{\"tenant\": \"b\", \"document_checks\": [{\"id\": \"d\", "
                 "\"text\": \"t\", \"must_mention\": {\"a\": []}}]}",
                 ST_INVALID, "document_checks[0].must_mention.a is empty");
    expect_error("{\"tenant\": \"b\", \"document_checks\": [{\"id\": \"d\", "
                 "\"text\": \"t\", \"must_mention\": {\"a\": \"x\"}}]}",
                 ST_WRONG_TYPE, "must_mention.a must be an array");
    expect_error("{\"tenant\": \"b\", \"document_checks\": [{\"id\": \"d\", "
                 "\"text\": \"t\", \"applies_if\": [\" \"],"
                 " \"must_mention\": {\"a\": [\"x\"]}}]}",
                 ST_INVALID, "document_checks[0].applies_if[0] is blank");
    expect_error("{\"tenant\": \"b\", \"document_checks\": [{\"id\": \"d\", "
                 "\"text\": \"t\"}]}",
                 ST_MISSING_FIELD, "\"must_mention\"");
}

static void test_example_rules_load(void **state)
{
    assist_rules *r = NULL;
    err e = {0};

    (void)state;
    assert_int_equal(
        assist_rules_load(&r, TL_SOURCE_DIR "/examples/kb/jsbank/rules.json",
                          &e),
        ST_OK);
    assert_string_equal(assist_rules_tenant(r), "jsbank");
    assist_rules_destroy(r);
    r = NULL;
    assert_int_equal(
        assist_rules_load(&r, TL_SOURCE_DIR "/examples/kb/hzinsure/rules.json",
                          &e),
        ST_OK);
    assert_string_equal(assist_rules_tenant(r), "hzinsure");
    assist_rules_destroy(r);
    assert_int_equal(assist_rules_load(&r, "/nonexistent.json", &e), ST_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contact_hours_boundaries),
        cmocka_unit_test(test_hours_scope_and_unknown_zone),
        cmocka_unit_test(test_utc_offset_resolution),
        cmocka_unit_test(test_forbidden_phrases),
        cmocka_unit_test(test_ack_gating),
        cmocka_unit_test(test_reply_choice),
        cmocka_unit_test(test_strict_parsing),
        cmocka_unit_test(test_document_checks),
        cmocka_unit_test(test_example_rules_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
