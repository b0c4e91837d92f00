/*
 * The signed invoice document: canonical JSON (byte-exact, written out
 * below), hashing, Ed25519 signing and verification of exported files,
 * and the signer's key files.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "invoice.h"
#include "invoice_doc.h"
#include "signer.h"
#include "tl_test.h"

static const invoice_doc_line two_lines[] = {
    {1, 11, 21, 31, 41, 2500, "x-1", "w1", "op1", "c1", "paid",
     "2026-10-01T00:00:00Z", "Outcome \"paid\" of loan case x-1", NULL, NULL, 0,
     NULL, 0},
    {2, 12, 22, 32, 42, -5, "x-2", "w2", "op1", "c1", "promise_to_pay",
     "2026-10-02T03:04:05Z", "tab\there, nl\nhere, \x01, \xc3\xa9, </>", NULL,
     NULL, 0, NULL, 0},
};

static invoice_doc sample(void)
{
    invoice_doc d = {0};

    d.id = 7;
    d.tenant_id = "t1";
    d.tenant_name = "Bank One";
    d.period = "2026-10";
    d.number = 42;
    d.currency = "EUR";
    d.issued_at = "2026-11-01T09:00:00Z";
    d.key_id = "0011223344556677";
    d.total_minor = 2495;
    d.nlines = 2;
    d.lines = two_lines;
    return d;
}

static const char sample_canon[] =
    "{\"currency\":\"EUR\",\"format\":\"twinline.invoice/1\",\"id\":7,"
    "\"issued_at\":\"2026-11-01T09:00:00Z\",\"key_id\":\"0011223344556677\","
    "\"kind\":\"invoice\",\"line_count\":2,\"lines\":["
    "{\"amount_minor\":2500,\"billable_line_id\":11,"
    "\"billed_at\":\"2026-10-01T00:00:00Z\",\"case_external_id\":\"x-1\","
    "\"case_id\":31,\"contract_id\":\"c1\","
    "\"description\":\"Outcome \\\"paid\\\" of loan case x-1\",\"line\":1,"
    "\"operator_id\":\"op1\",\"outcome_code\":\"paid\",\"outcome_id\":21,"
    "\"task_id\":41,\"worker_id\":\"w1\"},"
    "{\"amount_minor\":-5,\"billable_line_id\":12,"
    "\"billed_at\":\"2026-10-02T03:04:05Z\",\"case_external_id\":\"x-2\","
    "\"case_id\":32,\"contract_id\":\"c1\","
    "\"description\":\"tab\\there, nl\\nhere, \\u0001, \xc3\xa9, </>\","
    "\"line\":2,\"operator_id\":\"op1\",\"outcome_code\":\"promise_to_pay\","
    "\"outcome_id\":22,\"task_id\":42,\"worker_id\":\"w2\"}],"
    "\"number\":42,\"period\":\"2026-10\",\"reference\":\"INV-t1-000042\","
    "\"tenant\":{\"id\":\"t1\",\"name\":\"Bank One\"},\"total_minor\":2495}";

static void test_render_exact(void **state)
{
    invoice_doc d = sample();
    char *out = NULL, *again = NULL;
    size_t len = 0, len2 = 0;
    err e = {0};

    (void)state;
    assert_int_equal(invoice_doc_render(&d, &out, &len, &e), ST_OK);
    assert_string_equal(out, sample_canon);
    assert_int_equal(len, strlen(sample_canon));
    /* The rendered form is its own canonical form: keys in order. */
    assert_int_equal(invoice_doc_canonicalize(out, len, &again, &len2, &e),
                     ST_OK);
    assert_string_equal(again, out);
    free(out);
    free(again);
}

static void test_render_credit_note(void **state)
{
    invoice_doc d = sample();
    char *out = NULL, *again = NULL;
    size_t len = 0, len2 = 0;
    err e = {0};

    (void)state;
    d.credit_note = true;
    d.corrects_id = 3;
    d.corrects_number = 9;
    d.reason = "complaint upheld";
    assert_int_equal(invoice_doc_render(&d, &out, &len, &e), ST_OK);
    assert_true(strncmp(out,
                        "{\"corrects\":{\"id\":3,\"number\":9,\"reference\":"
                        "\"INV-t1-000009\"},\"currency\":\"EUR\"",
                        60) == 0);
    assert_non_null(strstr(out, "\"kind\":\"credit_note\""));
    assert_non_null(strstr(out, "\"reason\":\"complaint upheld\","
                                "\"reference\":\"CN-t1-000042\""));
    assert_int_equal(invoice_doc_canonicalize(out, len, &again, &len2, &e),
                     ST_OK);
    assert_string_equal(again, out);
    free(out);
    free(again);
}

static void test_render_refuses_bad_text(void **state)
{
    invoice_doc d = sample();
    invoice_doc_line l = two_lines[0];
    char *out = NULL;
    size_t len = 0;
    err e = {0};

    (void)state;
    d.tenant_name = "bad \xc3\x28 utf8";
    assert_int_equal(invoice_doc_render(&d, &out, &len, &e), ST_INVALID);
    d = sample();
    l.worker_id = NULL;
    d.lines = &l;
    d.nlines = 1;
    assert_int_equal(invoice_doc_render(&d, &out, &len, &e), ST_INVALID);
    assert_null(out);
}

static void canon_is(const char *in, const char *want)
{
    char *out = NULL;
    size_t len = 0;
    err e = {0};

    if (invoice_doc_canonicalize(in, strlen(in), &out, &len, &e) != ST_OK)
        fail_msg("%s: %s", in, e.msg);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
    free(out);
}

static void test_canonicalize(void **state)
{
    char *out = NULL;
    size_t len = 0;
    err e = {0};

    (void)state;
    canon_is(" { \"b\" : [ 1 , -2, true, false, null ],\n \"a\": {\"z\": 0,"
             " \"y\": \"\"} } ",
             "{\"a\":{\"y\":\"\",\"z\":0},\"b\":[1,-2,true,false,null]}");
    /* Escapes: \u00e9 becomes the raw UTF-8, "/" stays unescaped, control
     * characters get the short or \u00XX form. */
    canon_is("{\"s\":\"\\u00e9\\/\\u001f\\b\\f\\r\"}",
             "{\"s\":\"\xc3\xa9/\\u001f\\b\\f\\r\"}");
    /* Keys sort by bytes: upper case before lower, prefix first. */
    canon_is("{\"ab\":1,\"a\":2,\"B\":3}", "{\"B\":3,\"a\":2,\"ab\":1}");
    canon_is("{\"n\":9223372036854775807}", "{\"n\":9223372036854775807}");

    assert_int_equal(invoice_doc_canonicalize("{\"n\":1.5}", 9, &out, &len, &e),
                     ST_INVALID);
    assert_int_equal(invoice_doc_canonicalize("{\"n\":1e2}", 9, &out, &len, &e),
                     ST_INVALID);
    assert_int_equal(
        invoice_doc_canonicalize("{\"a\":1,\"a\":2}", 13, &out, &len, &e),
        ST_BAD_JSON);
    assert_int_equal(invoice_doc_canonicalize("{\"a\":", 5, &out, &len, &e),
                     ST_BAD_JSON);
    assert_null(out);
}

static void test_hash_known_value(void **state)
{
    char hex[INVOICE_HASH_HEX + 1];

    (void)state;
    /* SHA-256("abc"), FIPS 180-2 appendix B.1. */
    invoice_doc_hash("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
                             "b00361a396177a9cb410ff61f20015ad");
}

typedef struct keys {
    char dir[64];
    char dir2[64];
    signer *sg;
    signer *other;
} keys;

static void keys_make(char *dir, signer **sg)
{
    err e = {0};

    snprintf(dir, 64, "/tmp/tl-doc-XXXXXX");
    assert_non_null(mkdtemp(dir));
    if (signer_keygen(dir, NULL, &e) != ST_OK ||
        signer_load(sg, dir, &e) != ST_OK)
        fail_msg("%s", e.msg);
}

static void keys_drop(const char *dir)
{
    char p[128];

    snprintf(p, sizeof(p), "%s/" SIGNER_SECRET_FILE, dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/" SIGNER_PUBLIC_FILE, dir);
    unlink(p);
    rmdir(dir);
}

static int keys_setup(void **state)
{
    keys *k = calloc(1, sizeof(*k));

    keys_make(k->dir, &k->sg);
    keys_make(k->dir2, &k->other);
    *state = k;
    return 0;
}

static int keys_teardown(void **state)
{
    keys *k = *state;

    signer_destroy(k->sg);
    signer_destroy(k->other);
    keys_drop(k->dir);
    keys_drop(k->dir2);
    free(k);
    return 0;
}

/* A signed envelope of the sample document, signed by k->sg. */
static char *signed_sample(const keys *k, size_t *len)
{
    char hash[INVOICE_HASH_HEX + 1], sig[INVOICE_SIG_HEX + 1];
    invoice_doc d = sample();
    char *canon = NULL, *env = NULL;
    size_t clen = 0;
    err e = {0};

    d.key_id = signer_key_id(k->sg);
    assert_int_equal(invoice_doc_render(&d, &canon, &clen, &e), ST_OK);
    assert_int_equal(invoice_doc_sign(k->sg, canon, clen, hash, sig, &e),
                     ST_OK);
    assert_int_equal(
        invoice_doc_envelope(canon, clen, hash, sig, &env, len, &e), ST_OK);
    free(canon);
    return env;
}

static void test_sign_and_verify(void **state)
{
    keys *k = *state;
    char ref[INVOICE_REF_MAX];
    size_t len = 0;
    char *env = signed_sample(k, &len);
    char *p;
    err e = {0};

    assert_int_equal(env[len - 1], '\n');
    assert_int_equal(
        invoice_verify_document(env, len, signer_public_key(k->sg), ref, &e),
        ST_OK);
    assert_string_equal(ref, "INV-t1-000042");

    /* Wrong key: named. */
    assert_int_equal(invoice_verify_document(
                         env, len, signer_public_key(k->other), NULL, &e),
                     ST_INVALID);
    assert_non_null(strstr(e.msg, signer_key_id(k->sg)));

    /* One digit of the total changed. */
    p = strstr(env, "\"total_minor\":2495");
    assert_non_null(p);
    p[strlen("\"total_minor\":2")] = '5';
    assert_int_equal(
        invoice_verify_document(env, len, signer_public_key(k->sg), NULL, &e),
        ST_INVALID);
    assert_non_null(strstr(e.msg, "changed"));
    p[strlen("\"total_minor\":2")] = '4';

    /* The hash recomputed for a changed document: the signature fails. */
    {
        char *canon = NULL, hash[INVOICE_HASH_HEX + 1];
        char *env2 = NULL, *sig;
        size_t clen = 0, len2 = 0;

        p = strstr(env, "\"amount_minor\":-5");
        p[strlen("\"amount_minor\":-")] = '6';
        sig = strstr(env, "\"signature\":\"") + strlen("\"signature\":\"");
        sig[INVOICE_SIG_HEX] = '\0';
        assert_int_equal(invoice_doc_canonicalize(
                             env + 12,
                             (size_t)(strstr(env, ",\"hash\"") - env - 12),
                             &canon, &clen, &e),
                         ST_OK);
        invoice_doc_hash(canon, clen, hash);
        assert_int_equal(
            invoice_doc_envelope(canon, clen, hash, sig, &env2, &len2, &e),
            ST_OK);
        assert_int_equal(invoice_verify_document(
                             env2, len2, signer_public_key(k->sg), NULL, &e),
                         ST_INVALID);
        assert_non_null(strstr(e.msg, "signature does not verify"));
        free(canon);
        free(env2);
    }
    free(env);

    /* Extra or missing envelope members. */
    assert_int_equal(invoice_verify_document("{\"document\":{}}", 15,
                                             signer_public_key(k->sg), NULL,
                                             &e),
                     ST_INVALID);
    assert_int_equal(
        invoice_verify_document("[]", 2, signer_public_key(k->sg), NULL, &e),
        ST_INVALID);
}

/* The same document re-indented, with non-ASCII escaped as \uXXXX and
 * the envelope's members in another order, still verifies: the check is
 * on content, not layout. */
static void test_verify_ignores_layout(void **state)
{
    keys *k = *state;
    size_t len = 0;
    char *env = signed_sample(k, &len);
    json_t *v = json_loadb(env, len, 0, NULL), *swapped;
    char *pretty;
    err e = {0};

    assert_non_null(v);
    swapped = json_pack(
        "{s:O,s:O,s:O}", "signature", json_object_get(v, "signature"), "hash",
        json_object_get(v, "hash"), "document", json_object_get(v, "document"));
    pretty = json_dumps(swapped, JSON_INDENT(3) | JSON_ENSURE_ASCII);
    assert_non_null(pretty);
    assert_null(strstr(pretty, "\xc3\xa9")); /* escaped as \u00E9 */
    assert_non_null(strstr(pretty, "\n   "));
    assert_int_equal(invoice_verify_document(pretty, strlen(pretty),
                                             signer_public_key(k->sg), NULL,
                                             &e),
                     ST_OK);
    free(pretty);
    json_decref(swapped);
    json_decref(v);
    free(env);
}

static void test_signer_files(void **state)
{
    keys *k = *state;
    unsigned char pk[SIGNER_PK_BYTES];
    char path[128], id[SIGNER_KEY_ID_LEN + 1];
    signer *s = NULL;
    struct stat st;
    err e = {0};

    snprintf(path, sizeof(path), "%s/" SIGNER_SECRET_FILE, k->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* Never overwritten. */
    assert_int_equal(signer_keygen(k->dir, NULL, &e), ST_CONFLICT);
    /* The public file holds the signer's key; the key id is its first 8
     * bytes in hex. */
    snprintf(path, sizeof(path), "%s/" SIGNER_PUBLIC_FILE, k->dir);
    assert_int_equal(signer_public_read(path, pk, &e), ST_OK);
    assert_memory_equal(pk, signer_public_key(k->sg), SIGNER_PK_BYTES);
    signer_key_id_of(pk, id);
    assert_string_equal(id, signer_key_id(k->sg));
    assert_int_equal(strlen(id), SIGNER_KEY_ID_LEN);
    {
        FILE *f = fopen(path, "r");
        char hex[80] = {0};

        assert_non_null(f);
        assert_non_null(fgets(hex, sizeof(hex), f));
        fclose(f);
        assert_true(strncmp(hex, id, SIGNER_KEY_ID_LEN) == 0);
    }
    /* A secret key others may read is refused. */
    snprintf(path, sizeof(path), "%s/" SIGNER_SECRET_FILE, k->dir);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(signer_load(&s, k->dir, &e), ST_CONFIG);
    assert_non_null(strstr(e.msg, "chmod 600"));
    assert_int_equal(chmod(path, 0600), 0);
    /* A missing key says how to make one. */
    assert_int_equal(signer_load(&s, "/nonexistent-tl-key", &e), ST_CONFIG);
    assert_non_null(strstr(e.msg, "keygen"));
    assert_null(s);
    signer_destroy(NULL);
}

/* ---- format 2 ---- */

static const invoice_doc_line v2_lines[] = {
    {1, 11, 21, 31, 41, 1258, "x-1", "w1", "op1", "c1", "paid",
     "2026-10-01T00:00:00Z", "Outcome \"paid\" of loan case x-1", "loan", "VAT",
     600, "half_up", 76},
    {2, 0, 0, 0, 0, 233, "", "", "op1", "c1", "monthly_minimum",
     "2026-10-31T00:00:00Z", "Monthly minimum", "", "VAT", 600, "half_up", 14},
};

static invoice_doc sample_v2(void)
{
    invoice_doc d = {0};

    d.id = 9;
    d.format = 2;
    d.tenant_id = "t1";
    d.tenant_name = "Bank One";
    d.period = "2026-10";
    d.number = 3;
    d.currency = "CNY";
    d.issued_at = "2026-11-01T01:00:00Z";
    d.key_id = "0011223344556677";
    d.total_minor = 1491;
    d.tax_minor = 90;
    d.seller = (invoice_doc_party){
        "op1", "Ops One Ltd", "1 Road", "91320505MA0XAMPLEP",
        "CN",  "ICBC",        "12"};
    d.buyer = (invoice_doc_party){
        "t1", "Bank One plc", "2 Street", "TAX-1", "CN", "", ""};
    d.time_zone = "Asia/Shanghai";
    d.issue_date = "2026-11-01";
    d.due_date = "2026-12-01";
    d.payment_terms_days = 30;
    d.nlines = 2;
    d.lines = v2_lines;
    return d;
}

static const char sample_v2_canon[] =
    "{\"buyer\":{\"address\":\"2 Street\",\"bank_account\":\"\","
    "\"bank_name\":\"\",\"country\":\"CN\",\"id\":\"t1\","
    "\"name\":\"Bank One plc\",\"tax_id\":\"TAX-1\"},"
    "\"currency\":\"CNY\",\"due_date\":\"2026-12-01\","
    "\"format\":\"twinline.invoice/2\",\"gross_minor\":1581,\"id\":9,"
    "\"issue_date\":\"2026-11-01\",\"issued_at\":\"2026-11-01T01:00:00Z\","
    "\"key_id\":\"0011223344556677\",\"kind\":\"invoice\",\"line_count\":2,"
    "\"lines\":[{\"amount_minor\":1258,\"billed_at\":\"2026-10-01T00:00:00Z\","
    "\"case_external_id\":\"x-1\",\"case_id\":31,\"case_type\":\"loan\","
    "\"contract_id\":\"c1\","
    "\"description\":\"Outcome \\\"paid\\\" of loan case x-1\",\"line\":1,"
    "\"outcome_code\":\"paid\",\"outcome_id\":21,\"tax_minor\":76,"
    "\"tax_name\":\"VAT\",\"tax_rate_bps\":600,\"tax_rounding\":\"half_up\"},"
    "{\"amount_minor\":233,\"billed_at\":\"2026-10-31T00:00:00Z\","
    "\"case_external_id\":\"\",\"case_id\":0,\"case_type\":\"\","
    "\"contract_id\":\"c1\",\"description\":\"Monthly minimum\",\"line\":2,"
    "\"outcome_code\":\"monthly_minimum\",\"outcome_id\":0,\"tax_minor\":14,"
    "\"tax_name\":\"VAT\",\"tax_rate_bps\":600,\"tax_rounding\":\"half_up\"}],"
    "\"net_minor\":1491,\"number\":3,\"payment_terms_days\":30,"
    "\"period\":\"2026-10\",\"reference\":\"INV-t1-000003\","
    "\"seller\":{\"address\":\"1 Road\",\"bank_account\":\"12\","
    "\"bank_name\":\"ICBC\",\"country\":\"CN\",\"id\":\"op1\","
    "\"name\":\"Ops One Ltd\",\"tax_id\":\"91320505MA0XAMPLEP\"},"
    "\"subtotals\":[{\"case_type\":\"\",\"lines\":1,\"net_minor\":233,"
    "\"outcome_code\":\"monthly_minimum\",\"tax_minor\":14},"
    "{\"case_type\":\"loan\",\"lines\":1,\"net_minor\":1258,"
    "\"outcome_code\":\"paid\",\"tax_minor\":76}],\"tax_minor\":90,"
    "\"taxes\":[{\"base_minor\":1491,\"name\":\"VAT\",\"rate_bps\":600,"
    "\"rounding\":\"half_up\",\"tax_minor\":90}],"
    "\"time_zone\":\"Asia/Shanghai\"}";

/* Format 2 byte for byte: parties, dates, terms, tax per line, subtotals
 * and the tax total, and nothing internal to the operator. */
static void test_render_v2_exact(void **state)
{
    invoice_doc d = sample_v2();
    char *out = NULL, *again = NULL;
    size_t len = 0, len2 = 0;
    err e = {0};

    (void)state;
    assert_int_equal(invoice_doc_render(&d, &out, &len, &e), ST_OK);
    assert_string_equal(out, sample_v2_canon);
    assert_int_equal(invoice_doc_canonicalize(out, len, &again, &len2, &e),
                     ST_OK);
    assert_string_equal(again, out);
    assert_null(strstr(out, "worker"));
    assert_null(strstr(out, "task"));
    assert_null(strstr(out, "w1"));
    free(out);
    free(again);

    /* A credit note has no due date or terms; it names what it corrects. */
    d.credit_note = true;
    d.corrects_id = 2;
    d.corrects_number = 1;
    d.reason = "complaint";
    assert_int_equal(invoice_doc_render(&d, &out, &len, &e), ST_OK);
    assert_null(strstr(out, "due_date"));
    assert_null(strstr(out, "payment_terms_days"));
    assert_non_null(strstr(out,
                           "\"corrects\":{\"id\":2,\"number\":1,\"reference\":"
                           "\"INV-t1-000001\"},\"currency\""));
    assert_non_null(strstr(out, "\"reference\":\"CN-t1-000003\""));
    assert_int_equal(invoice_doc_canonicalize(out, len, &again, &len2, &e),
                     ST_OK);
    assert_string_equal(again, out);
    free(out);
    free(again);
}

/* Subtotals and tax sums, and a total due beyond int64 refused. */
static void test_summary(void **state)
{
    invoice_doc d = sample_v2();
    invoice_doc_summary sum;
    invoice_doc_line big[2];
    char *out = NULL;
    size_t len;
    err e = {0};

    (void)state;
    assert_int_equal(invoice_doc_summarize(&d, &sum, &e), ST_OK);
    assert_int_equal(sum.nsubtotals, 2);
    assert_int_equal(sum.ntaxes, 1);
    assert_int_equal(sum.taxes[0].base_minor, 1491);
    assert_int_equal(sum.taxes[0].tax_minor, 90);
    assert_int_equal(sum.gross_minor, 1581);
    invoice_doc_summary_free(&sum);

    memcpy(big, v2_lines, sizeof(big));
    big[0].amount_minor = INT64_MAX;
    big[1].amount_minor = 1;
    d.lines = big;
    assert_int_equal(invoice_doc_render(&d, &out, &len, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "64 bits"));
}

/* A document issued before schema 018 by the code of that time (the
 * demo's first invoice, with its public key) still verifies, and one cent
 * more on a line still does not. */
static void test_format1_file_verifies(void **state)
{
    unsigned char pk[SIGNER_PK_BYTES];
    char ref[INVOICE_REF_MAX];
    char *json = NULL, *amount;
    size_t len = 0;
    FILE *f;
    err e = {0};

    (void)state;
    assert_int_equal(signer_public_read(TL_SOURCE_DIR
                                        "/tests/data/invoice-format1.pub",
                                        pk, &e),
                     ST_OK);
    f = fopen(TL_SOURCE_DIR "/tests/data/invoice-format1.json", "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    len = (size_t)ftell(f);
    rewind(f);
    json = malloc(len + 1);
    assert_non_null(json);
    assert_int_equal(fread(json, 1, len, f), len);
    json[len] = '\0';
    fclose(f);
    assert_non_null(strstr(json, "\"format\":\"twinline.invoice/1\""));
    if (invoice_verify_document(json, len, pk, ref, &e) != ST_OK)
        fail_msg("format 1 file: %s", e.msg);
    assert_string_equal(ref, "INV-hzinsure-000001");
    amount = strstr(json, "\"amount_minor\":25000");
    assert_non_null(amount);
    amount[strlen("\"amount_minor\":2500")] = '1';
    assert_int_equal(invoice_verify_document(json, len, pk, NULL, &e),
                     ST_INVALID);
    assert_non_null(strstr(e.msg, "changed after it was issued"));
    free(json);
}

static void test_period_bounds(void **state)
{
    char a[INVOICE_TIME_MAX], b[INVOICE_TIME_MAX];
    err e = {0};

    (void)state;
    assert_int_equal(invoice_period_bounds("2026-11", a, b, &e), ST_OK);
    assert_string_equal(a, "2026-11-01 00:00:00+00");
    assert_string_equal(b, "2026-12-01 00:00:00+00");
    assert_int_equal(invoice_period_bounds("2026-12", a, b, &e), ST_OK);
    assert_string_equal(b, "2027-01-01 00:00:00+00");
    assert_int_equal(invoice_period_bounds("2026-13", a, b, &e), ST_INVALID);
    assert_int_equal(invoice_period_bounds("2026-1", a, b, &e), ST_INVALID);
    assert_int_equal(invoice_period_bounds("26-11-1", a, b, &e), ST_INVALID);
    assert_int_equal(invoice_period_bounds("2026-00", a, b, &e), ST_INVALID);
    assert_int_equal(invoice_period_bounds("2026-+1", a, b, &e), ST_INVALID);
    assert_int_equal(invoice_period_bounds(NULL, a, b, &e), ST_INVALID);
}

static void test_reference(void **state)
{
    char buf[INVOICE_REF_MAX];

    (void)state;
    assert_string_equal(invoice_doc_reference(buf, false, "jsbank", 1),
                        "INV-jsbank-000001");
    assert_string_equal(invoice_doc_reference(buf, true, "t1", 1234567),
                        "CN-t1-1234567");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_exact),
        cmocka_unit_test(test_render_credit_note),
        cmocka_unit_test(test_render_v2_exact),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_format1_file_verifies),
        cmocka_unit_test(test_render_refuses_bad_text),
        cmocka_unit_test(test_canonicalize),
        cmocka_unit_test(test_hash_known_value),
        cmocka_unit_test_setup_teardown(test_sign_and_verify, keys_setup,
                                        keys_teardown),
        cmocka_unit_test_setup_teardown(test_verify_ignores_layout, keys_setup,
                                        keys_teardown),
        cmocka_unit_test_setup_teardown(test_signer_files, keys_setup,
                                        keys_teardown),
        cmocka_unit_test(test_period_bounds),
        cmocka_unit_test(test_reference),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
