/*
 * The load feed's pure parts: its command line and the cases it makes up.
 * Every generated case must be a request the dispatcher accepts (the
 * protocol's field rules), of the shape its case type promises.
 */
/* cmocka needs these before its own header. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent_ai.h"
#include "case_msg.h"
#include "config.h"
#include "playbook.h"

/*
 * Compiled in rather than linked, so this test does not depend on which
 * library or program cli/ builds the feed into.
 */
#include "../../sim/feed.c" /* and with it feed.h */

static json_t *make_case(uint64_t *rng, const char *type, const char *ext)
{
    char *text = NULL;
    json_t *obj;
    json_error_t je;
    err e;

    assert_int_equal(feed_case_json(rng, type, ext, &text, &e), ST_OK);
    assert_true(strlen(text) < 64 * 1024);
    obj = json_loads(text, 0, &je);
    free(text);
    assert_non_null(obj);
    return obj;
}

static int64_t int_field(const json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);

    assert_non_null(v);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static const char *str_field(const json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);

    assert_non_null(v);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static void assert_date(const char *s)
{
    int y, m, d;
    char tail;

    assert_int_equal(strlen(s), 10);
    assert_int_equal(sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail), 3);
    assert_true(y >= 2000 && m >= 1 && m <= 12 && d >= 1 && d <= 31);
}

/* Only the request's defined fields, of the right types and ranges. */
static void assert_request(const json_t *c, const char *type, const char *ext)
{
    const char *allowed[] = {"external_id", "case_type", "priority", "customer",
                             "payload"};
    const char *key;
    json_t *val;
    int64_t prio;

    json_object_foreach((json_t *)c, key, val)
    {
        bool known = false;

        for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
            known = known || strcmp(key, allowed[i]) == 0;
        assert_true(known);
    }
    assert_string_equal(str_field(c, "external_id"), ext);
    assert_string_equal(str_field(c, "case_type"), type);
    prio = int_field(c, "priority");
    assert_true(prio >= 0 && prio <= 9);
    assert_true(json_is_object(json_object_get(c, "customer")));
    assert_true(json_is_object(json_object_get(c, "payload")));
}

static void test_loan_overdue(void **state)
{
    uint64_t rng = 1;

    (void)state;
    for (int i = 0; i < 200; i++) {
        json_t *c = make_case(&rng, "loan_overdue", "X-1");
        json_t *p = json_object_get(c, "payload");
        json_t *cust = json_object_get(c, "customer");
        const char *lang;
        int64_t dpd;

        assert_request(c, "loan_overdue", "X-1");
        assert_true(strncmp(str_field(p, "loan_id"), "L-", 2) == 0);
        dpd = int_field(p, "days_past_due");
        assert_true(dpd >= 1 && dpd <= 120);
        assert_true(int_field(p, "overdue_minor") > 0);
        lang = str_field(cust, "language");
        assert_true(strcmp(lang, "zh") == 0 || strcmp(lang, "en") == 0);
        assert_true(strlen(str_field(cust, "name")) > 0);
        assert_true(str_field(cust, "phone")[0] == '+');
        json_decref(c);
    }
}

static void test_card_dispute(void **state)
{
    uint64_t rng = 2;

    (void)state;
    for (int i = 0; i < 200; i++) {
        json_t *c = make_case(&rng, "card_dispute", "X-2");
        json_t *p = json_object_get(c, "payload");
        const char *last4;

        assert_request(c, "card_dispute", "X-2");
        last4 = str_field(p, "card_last4");
        assert_int_equal(strlen(last4), 4);
        assert_true(strspn(last4, "0123456789") == 4);
        assert_true(strlen(str_field(p, "merchant")) > 0);
        assert_true(int_field(p, "amount_minor") > 0);
        assert_true(strlen(str_field(p, "reason")) > 0);
        assert_date(str_field(p, "transaction_date"));
        json_decref(c);
    }
}

static void test_complaint_claim_and_generic(void **state)
{
    uint64_t rng = 3;

    (void)state;
    for (int i = 0; i < 100; i++) {
        json_t *c = make_case(&rng, "complaint", "X-3");
        json_t *p = json_object_get(c, "payload");

        assert_request(c, "complaint", "X-3");
        assert_true(strlen(str_field(p, "channel")) > 0);
        assert_true(strlen(str_field(p, "category")) > 0);
        assert_true(strlen(str_field(p, "text")) > 0);
        json_decref(c);

        c = make_case(&rng, "claim", "X-4");
        p = json_object_get(c, "payload");
        assert_request(c, "claim", "X-4");
        assert_true(strncmp(str_field(p, "policy_number"), "P-", 2) == 0);
        assert_date(str_field(p, "incident_date"));
        assert_true(int_field(p, "claimed_minor") > 0);
        json_decref(c);

        c = make_case(&rng, "address_change", "X-5");
        p = json_object_get(c, "payload");
        assert_request(c, "address_change", "X-5");
        assert_true(strlen(str_field(p, "reference")) > 0);
        json_decref(c);
    }
}

static void test_same_seed_same_cases(void **state)
{
    uint64_t a = 42, b = 42, c = 43;
    char *ta = NULL, *tb = NULL, *tc = NULL;
    err e;

    (void)state;
    assert_int_equal(feed_rand(&a), feed_rand(&b));
    assert_int_equal(feed_case_json(&a, "claim", "Y", &ta, &e), ST_OK);
    assert_int_equal(feed_case_json(&b, "claim", "Y", &tb, &e), ST_OK);
    assert_int_equal(feed_case_json(&c, "claim", "Y", &tc, &e), ST_OK);
    assert_string_equal(ta, tb);
    assert_string_not_equal(ta, tc);
    free(ta);
    free(tb);
    free(tc);
}

/* What the AI worker decides about a consumer_review payload p, as the
 * assess step of examples/ai.json, on the jsbank knowledge base. */
static agent_ai_decision judge(const assist_kb *kb, json_t *p)
{
    json_t *task = json_pack(
        "{s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:O, s:{s:{s:b},"
        " s:{s:b}, s:{s:b, s:{s:s}}}}",
        "reservation_id", (json_int_t)1, "epoch", (json_int_t)1, "task_id",
        (json_int_t)1, "case_id", (json_int_t)1, "tenant", "jsbank",
        "case_type", "consumer_review", "step", "assess", "channel",
        "backoffice", "external_id", "CR-1", "payload", p, "outcomes",
        "compliant", "billable", 1, "non_compliant", "billable", 1,
        "needs_changes", "billable", 0, "fields", "note", "string");
    char *text = json_dumps(task, 0);
    assist_task *t = NULL;
    agent_ai_decision d;
    err e = {0};

    if (text == NULL ||
        assist_task_parse(&t, text, strlen(text), &e) != ST_OK ||
        agent_ai_decide(kb, t, 1795609800, 0, &d, &e) != ST_OK)
        fail_msg("%s", e.msg);
    assist_task_destroy(t);
    free(text);
    json_decref(task);
    return d;
}

/* Every variant of consumer_review document is what it says to the AI
 * worker on the jsbank rules: clean ones compliant at 900 or more, a
 * forbidden phrase or one missing disclosure non_compliant at 900 or
 * more, an unbacked claim needs_changes at 300 (so a person reviews it),
 * in Chinese and English, loan and wealth leaflets alike. */
static void test_consumer_review_documents(void **state)
{
    static const char *const want[RV_COUNT] = {
        "compliant", "non_compliant", "non_compliant", "needs_changes"};
    assist_kb *kb = NULL;
    uint64_t rng = 5;
    err e = {0};
    int zh = 0, wealth = 0;

    (void)state;
    if (assist_kb_load(&kb, TL_SOURCE_DIR "/examples/kb/jsbank", &e) != ST_OK)
        fail_msg("%s", e.msg);
    for (int v = 0; v < RV_COUNT; v++) {
        for (int i = 0; i < 40; i++) {
            json_t *p = review_payload(&rng, (review_variant)v);
            agent_ai_decision d = judge(kb, p);
            const char *doc = str_field(p, "document");

            if (strcmp(d.code, want[v]) != 0 ||
                (v == RV_UNCLEAR ? d.confidence != AGENT_AI_CAUTION_CONF
                                 : d.confidence < 900))
                fail_msg("variant %d: %s at %d for \"%s\" (%s)", v, d.code,
                         d.confidence, doc, d.note);
            assert_int_equal(d.findings.missing, v == RV_MISSING ? 1 : 0);
            assert_true((d.breaches > 0) == (v == RV_FORBIDDEN));
            assert_true((d.findings.cautions > 0) == (v == RV_UNCLEAR));
            assert_int_equal(d.findings.checks, 2);
            zh += strcmp(str_field(p, "language"), "zh") == 0;
            wealth +=
                strcmp(str_field(p, "document_type"), "wealth_leaflet") == 0;
            assert_true(strlen(str_field(p, "title")) > 0);
            assert_true(strlen(str_field(p, "channel")) > 0);
            json_decref(p);
        }
    }
    /* Both languages and both kinds of leaflet occur. */
    assert_in_range(zh, 40, 120);
    assert_in_range(wealth, 30, 110);
    assist_kb_destroy(kb);
}

/* feed_case_json makes consumer_review requests of the same shape, and
 * the variants come in their shares (60/15/15/10 %, here within 5). */
static void test_consumer_review_cases(void **state)
{
    int count[RV_COUNT] = {0};
    uint64_t rng = 6;

    (void)state;
    for (int i = 0; i < 50; i++) {
        json_t *c = make_case(&rng, "consumer_review", "CR-9");
        json_t *p = json_object_get(c, "payload");

        assert_request(c, "consumer_review", "CR-9");
        assert_true(strlen(str_field(p, "document")) > 40);
        assert_int_equal(json_object_size(p), 5);
        json_decref(c);
    }
    for (int i = 0; i < 10000; i++)
        count[review_variant_pick(&rng)]++;
    assert_in_range(count[RV_CLEAN], 5500, 6500);
    assert_in_range(count[RV_FORBIDDEN], 1000, 2000);
    assert_in_range(count[RV_MISSING], 1000, 2000);
    assert_in_range(count[RV_UNCLEAR], 500, 1500);
}

/* The kind of each case: with share 0 and no consumer_review kind exactly
 * the draws of old; with a share, about that per cent are reviews; with
 * only review kinds, all. */
static void test_review_share(void **state)
{
    feed_kind kinds[3];
    uint64_t a = 9, b = 9;
    int reviews = 0;

    (void)state;
    memset(kinds, 0, sizeof(kinds));
    snprintf(kinds[0].case_type, sizeof(kinds[0].case_type), "complaint");
    snprintf(kinds[1].case_type, sizeof(kinds[1].case_type), "loan_overdue");
    snprintf(kinds[2].case_type, sizeof(kinds[2].case_type), "consumer_review");
    for (int i = 0; i < 100; i++)
        assert_ptr_equal(pick_kind(&a, kinds, 2, 0, 0),
                         &kinds[feed_rand(&b) % 2]);
    for (int i = 0; i < 1000; i++)
        assert_false(feed_is_review(pick_kind(&a, kinds, 3, 1, 0)->case_type));
    for (int i = 0; i < 10000; i++)
        reviews += feed_is_review(pick_kind(&a, kinds, 3, 1, 30)->case_type);
    assert_in_range(reviews, 2700, 3300);
    for (int i = 0; i < 100; i++)
        assert_ptr_equal(pick_kind(&a, kinds + 2, 1, 1, 0), &kinds[2]);
}

static status parse(feed_opts *o, config *c, err *e, int argc, ...)
{
    char *argv[16];
    va_list ap;

    va_start(ap, argc);
    for (int i = 0; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    config_from_env(c);
    return feed_opts_parse(o, c, argc, argv, e);
}

/* Every case the feed makes for an example case type is one its
 * playbook's payload and customer schemas accept, and some of them carry
 * personal payload fields (the demo and the dump test seal them). */
static void test_cases_fit_the_example_schemas(void **state)
{
    static const char *const files[] = {
        "examples/bank.json", "examples/insurer.json", "examples/ai.json"};
    int with_personal = 0, types = 0;
    uint64_t rng = 99;
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
            types++;
            for (int k = 0; k < 300; k++) {
                char *text = NULL, *plain = NULL, *personal = NULL;
                case_submit sub;
                json_t *pj;

                assert_int_equal(
                    feed_case_json(&rng, pb->case_type, "X-1", &text, &e),
                    ST_OK);
                assert_int_equal(
                    case_msg_submit_decode(text, strlen(text), &sub, &e),
                    ST_OK);
                if (playbook_check_case(pb, sub.customer, sub.payload, &plain,
                                        &personal, &e) != ST_OK)
                    fail_msg("%s: %s in %s", pb->case_type, e.msg, text);
                assert_non_null(personal); /* every case has a customer */
                pj = json_loads(personal, 0, NULL);
                if (json_object_get(pj, "payload") != NULL)
                    with_personal++;
                json_decref(pj);
                free(plain);
                free(personal);
                free(text);
                case_submit_release(&sub);
            }
            playbook_destroy(pb);
        }
        json_decref(root);
    }
    assert_int_equal(types, 5);
    assert_true(with_personal > 300);
}

static void test_options(void **state)
{
    feed_opts o;
    config c;
    err e;

    (void)state;
    assert_int_equal(parse(&o, &c, &e, 8, "feed", "--cases", "10", "--rate=2.5",
                           "--tenant", "jsbank", "--wait", "--prefix=zz"),
                     ST_OK);
    assert_int_equal(o.cases, 10);
    assert_true(o.rate > 2.49 && o.rate < 2.51);
    assert_int_equal(o.ntenants, 1);
    assert_string_equal(o.tenants[0], "jsbank");
    assert_true(o.wait);
    assert_string_equal(c.prefix, "zz");
    assert_true(strlen(o.id_prefix) > 0 && strlen(o.id_prefix) <= 64);

    assert_int_equal(
        parse(&o, &c, &e, 5, "feed", "--cases", "3", "--id-prefix", "run.7"),
        ST_OK);
    assert_string_equal(o.id_prefix, "run.7");
    assert_int_equal(o.review_share, 0);
    assert_int_equal(
        parse(&o, &c, &e, 5, "feed", "--cases", "3", "--review-share", "25"),
        ST_OK);
    assert_int_equal(o.review_share, 25);
    assert_int_equal(parse(&o, &c, &e, 2, "feed", "--help"), ST_OK);
    assert_true(o.help);
}

static void test_bad_options(void **state)
{
    feed_opts o;
    config c;
    err e;

    (void)state;
    assert_int_equal(parse(&o, &c, &e, 1, "feed"), ST_CONFIG);
    assert_non_null(strstr(e.msg, "--cases"));
    assert_int_equal(parse(&o, &c, &e, 3, "feed", "--cases", "0"), ST_CONFIG);
    assert_int_equal(parse(&o, &c, &e, 2, "feed", "--cases"), ST_CONFIG);
    assert_int_equal(
        parse(&o, &c, &e, 5, "feed", "--cases", "1", "--rate", "-1"),
        ST_CONFIG);
    assert_int_equal(
        parse(&o, &c, &e, 5, "feed", "--cases", "1", "--tenant", "a b"),
        ST_CONFIG);
    assert_int_equal(
        parse(&o, &c, &e, 5, "feed", "--cases", "1", "--id-prefix", "a%b"),
        ST_CONFIG);
    assert_int_equal(
        parse(&o, &c, &e, 5, "feed", "--cases", "1", "--review-share", "101"),
        ST_CONFIG);
    assert_non_null(strstr(e.msg, "--review-share"));
    assert_int_equal(parse(&o, &c, &e, 4, "feed", "--cases", "1", "--bogus"),
                     ST_CONFIG);
    assert_non_null(strstr(e.msg, "--bogus"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loan_overdue),
        cmocka_unit_test(test_card_dispute),
        cmocka_unit_test(test_complaint_claim_and_generic),
        cmocka_unit_test(test_same_seed_same_cases),
        cmocka_unit_test(test_consumer_review_documents),
        cmocka_unit_test(test_consumer_review_cases),
        cmocka_unit_test(test_review_share),
        cmocka_unit_test(test_cases_fit_the_example_schemas),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_bad_options),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
