/* The audit chain: each kind of tampering is found and named, with the seq
 * of the record concerned. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "tl_test.h"

#define N 10

static nkey *key, *stranger;
static char details[N + 2][64];
static char subjects[N + 2][32];

/* The chain seq 1..N, each linked to the one before. */
static void chain(audit_record *r)
{
    err e = {0};

    for (int i = 0; i < N; i++) {
        snprintf(details[i], sizeof(details[i]),
                 "{\"amount_minor\":%d,\"reason\":\"r%d\"}", 1000 + i, i);
        snprintf(subjects[i], sizeof(subjects[i]), "case:%d", 40 + i);
        memset(&r[i], 0, sizeof(r[i]));
        r[i].seq = i + 1;
        r[i].at_us = 1796000000000000LL + i * 1000000LL;
        r[i].party = "tenant:jsbank";
        r[i].identity = "jsbank-core";
        r[i].action = "case.complaint";
        r[i].subjects = subjects[i];
        r[i].details = details[i];
        assert_int_equal(audit_link(&r[i], i > 0 ? r[i - 1].hash : NULL, &e),
                         ST_OK);
    }
}

/* Checkpoints at seq 3, 6 and 10. */
static void points(const audit_record *r, audit_checkpoint *c)
{
    const int at[3] = {3, 6, 10};
    err e = {0};

    for (int i = 0; i < 3; i++)
        assert_int_equal(audit_checkpoint_sign(key, at[i], r[at[i] - 1].hash,
                                               r[at[i] - 1].at_us + 5, &c[i],
                                               &e),
                         ST_OK);
}

static audit_report rep;

static bool verify(const audit_record *r, size_t n, const audit_checkpoint *c,
                   size_t nc)
{
    const char *signers[1] = {nkey_public(key)};

    return audit_verify(r, n, c, nc, signers, 1, &rep);
}

/* Exactly the findings (fault, seq) given, in order; words in the first. */
static void expect(int nf, const audit_fault *f, const int64_t *seq,
                   const char *words)
{
    if (rep.nfindings != nf) {
        for (int i = 0; i < rep.nfindings && i < AUDIT_FINDINGS_MAX; i++)
            print_message("finding: %s %lld %s\n",
                          audit_fault_name(rep.findings[i].fault),
                          (long long)rep.findings[i].seq, rep.findings[i].msg);
        fail_msg("expected %d findings, got %d", nf, rep.nfindings);
    }
    for (int i = 0; i < nf; i++) {
        assert_string_equal(audit_fault_name(rep.findings[i].fault),
                            audit_fault_name(f[i]));
        assert_int_equal(rep.findings[i].seq, seq[i]);
    }
    if (nf > 0 && strstr(rep.findings[0].msg, words) == NULL)
        fail_msg("\"%s\" not in \"%s\"", words, rep.findings[0].msg);
}

static int setup(void **state)
{
    err e = {0};

    (void)state;
    if (nkey_generate(&key, &e) != ST_OK ||
        nkey_generate(&stranger, &e) != ST_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nkey_destroy(key);
    nkey_destroy(stranger);
    return 0;
}

static void test_intact_chain(void **state)
{
    audit_record r[N];
    audit_checkpoint c[3];

    (void)state;
    chain(r);
    points(r, c);
    assert_true(verify(r, N, c, 3));
    assert_int_equal(rep.records, N);
    assert_int_equal(rep.last_seq, N);
    assert_int_equal(rep.vouched, 10);
    /* Without checkpoints the chain still verifies, vouched by none. */
    assert_true(verify(r, N, NULL, 0));
    assert_int_equal(rep.vouched, 0);
    assert_true(verify(r, 0, NULL, 0));
    /* The hash covers every field. */
    {
        unsigned char h[AUDIT_HASH_BYTES];
        audit_record x = r[4];
        x.identity = "other";
        audit_hash(&x, h);
        assert_memory_not_equal(h, r[4].hash, AUDIT_HASH_BYTES);
        x = r[4];
        x.at_us++;
        audit_hash(&x, h);
        assert_memory_not_equal(h, r[4].hash, AUDIT_HASH_BYTES);
    }
}

static void test_changed_record(void **state)
{
    audit_record r[N];
    audit_checkpoint c[3];

    (void)state;
    chain(r);
    points(r, c);
    r[3].details = "{\"amount_minor\":1,\"reason\":\"r3\"}";
    assert_false(verify(r, N, c, 3));
    expect(1, (audit_fault[]){AUDIT_CHANGED}, (int64_t[]){4},
           "record seq 4 was changed");
    /* A field made invalid is a change too. */
    chain(r);
    r[7].action = "Case Complaint";
    assert_false(verify(r, N, c, 3));
    expect(1, (audit_fault[]){AUDIT_CHANGED}, (int64_t[]){8}, "seq 8");
}

static void test_rewritten_record(void **state)
{
    audit_record r[N];
    audit_checkpoint c[3];
    err e = {0};

    (void)state;
    chain(r);
    points(r, c);
    /* Changed and its own hash recomputed: the next still points to the
     * original. */
    r[3].details = "{\"amount_minor\":1,\"reason\":\"r3\"}";
    assert_int_equal(audit_link(&r[3], r[2].hash, &e), ST_OK);
    assert_false(verify(r, N, c, 3));
    expect(1, (audit_fault[]){AUDIT_REWRITTEN}, (int64_t[]){4},
           "record seq 4 was rewritten");

    /* The whole rest recomputed: only the signed checkpoints tell. */
    for (int i = 4; i < N; i++)
        assert_int_equal(audit_link(&r[i], r[i - 1].hash, &e), ST_OK);
    assert_false(verify(r, N, c, 3));
    expect(2, (audit_fault[]){AUDIT_CHECKPOINT, AUDIT_CHECKPOINT},
           (int64_t[]){6, 10}, "records after seq 3 up to 6");
    assert_int_equal(rep.vouched, 3);
    /* ... which is why checkpoints are signed: unsigned, it would pass. */
    assert_true(verify(r, N, NULL, 0));
}

static void test_deleted_records(void **state)
{
    audit_record r[N], cut[N];
    audit_checkpoint c[3];

    (void)state;
    chain(r);
    points(r, c);
    /* Record 6 deleted from the middle. */
    memcpy(cut, r, 5 * sizeof(r[0]));
    memcpy(cut + 5, r + 6, 4 * sizeof(r[0]));
    assert_false(verify(cut, N - 1, c, 3));
    expect(1, (audit_fault[]){AUDIT_DELETED}, (int64_t[]){6},
           "records 6 to 6 are missing");
    /* The tail deleted: found by the checkpoint that vouched for it. */
    assert_false(verify(r, 8, c, 3));
    expect(1, (audit_fault[]){AUDIT_DELETED}, (int64_t[]){9},
           "records after seq 8 are missing");
    /* The first record deleted. */
    assert_false(verify(r + 1, N - 1, c, 3));
    expect(1, (audit_fault[]){AUDIT_DELETED}, (int64_t[]){1}, "records 1 to 1");
}

static void test_inserted_records(void **state)
{
    audit_record r[N], ins[N + 1], x;
    audit_checkpoint c[3];
    err e = {0};

    (void)state;
    chain(r);
    points(r, c);
    /* A forged record with seq 5, linked correctly to seq 4. */
    x = r[4];
    x.details = "{\"amount_minor\":99999,\"reason\":\"forged\"}";
    assert_int_equal(audit_link(&x, r[3].hash, &e), ST_OK);

    /* Read after the real seq 5 ... */
    memcpy(ins, r, 5 * sizeof(r[0]));
    ins[5] = x;
    memcpy(ins + 6, r + 5, 5 * sizeof(r[0]));
    assert_false(verify(ins, N + 1, c, 3));
    expect(1, (audit_fault[]){AUDIT_INSERTED}, (int64_t[]){5},
           "a record with seq 5 comes after seq 5");
    /* ... or before it. */
    memcpy(ins, r, 4 * sizeof(r[0]));
    ins[4] = x;
    memcpy(ins + 5, r + 4, 6 * sizeof(r[0]));
    assert_false(verify(ins, N + 1, c, 3));
    expect(1, (audit_fault[]){AUDIT_INSERTED}, (int64_t[]){5},
           "seq 5 appears twice");

    /* Inserted as seq 5 with the rest renumbered (and rehashed, keeping
     * their links): the old seq 5 points past it. */
    memcpy(ins, r, 4 * sizeof(r[0]));
    ins[4] = x;
    for (int i = 4; i < N; i++) {
        ins[i + 1] = r[i];
        ins[i + 1].seq = i + 2;
        audit_hash(&ins[i + 1], ins[i + 1].hash);
    }
    assert_false(verify(ins, N + 1, NULL, 0));
    expect(2, (audit_fault[]){AUDIT_INSERTED, AUDIT_REWRITTEN},
           (int64_t[]){5, 6}, "record seq 5 was inserted");
    assert_int_equal(rep.findings[1].last, 10);
    assert_non_null(strstr(rep.findings[1].msg, "records seq 6 to 10"));
}

static void test_checkpoint_signatures(void **state)
{
    audit_record r[N];
    audit_checkpoint c[3], forged;
    err e = {0};

    (void)state;
    chain(r);
    points(r, c);
    /* A checkpoint changed after signing. */
    c[1].seq = 7;
    assert_false(verify(r, N, c, 3));
    expect(1, (audit_fault[]){AUDIT_BAD_SIGNATURE}, (int64_t[]){7},
           "invalid signature");
    /* Signed by a key nobody trusts. */
    points(r, c);
    assert_int_equal(
        audit_checkpoint_sign(stranger, 10, r[9].hash, 0, &forged, &e), ST_OK);
    assert_true(audit_checkpoint_valid(&forged));
    assert_false(verify(r, N, &forged, 1));
    expect(1, (audit_fault[]){AUDIT_BAD_SIGNATURE}, (int64_t[]){10},
           "not a trusted audit key");
    assert_int_equal(rep.vouched, 0);
}

static void test_record_fields(void **state)
{
    audit_record r[N], x;
    char *canon = NULL;
    err e = {0};

    (void)state;
    chain(r);
    x = r[0];
    x.seq = 0;
    assert_int_equal(audit_record_check(&x, &e), ST_INVALID);
    x = r[0];
    x.details = "[1,2]";
    assert_int_equal(audit_record_check(&x, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "JSON object"));
    x = r[0];
    x.party = "tenant:js\nbank";
    assert_int_equal(audit_record_check(&x, &e), ST_INVALID);
    x = r[0];
    x.identity = "a b";
    assert_int_equal(audit_link(&x, NULL, &e), ST_INVALID);
    x = r[0];
    x.identity = "-";
    assert_int_equal(audit_record_check(&x, &e), ST_OK);

    assert_int_equal(
        audit_details_canonical("{ \"b\": 1, \"a\": {\"y\": true, \"x\": "
                                "null}, \"c\": \"\\u00e9\" }",
                                &canon, &e),
        ST_OK);
    assert_string_equal(canon, "{\"a\":{\"x\":null,\"y\":true},\"b\":1,\"c\":"
                               "\"\xc3\xa9\"}");
    free(canon);
    assert_int_equal(audit_details_canonical("{\"a\":1,\"a\":2}", &canon, &e),
                     ST_BAD_JSON);
    assert_int_equal(audit_details_canonical("3", &canon, &e), ST_BAD_JSON);
    assert_int_equal(audit_details_canonical("[]", &canon, &e), ST_WRONG_TYPE);
    assert_string_equal(audit_fault_name((audit_fault)77), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intact_chain),
        cmocka_unit_test(test_changed_record),
        cmocka_unit_test(test_rewritten_record),
        cmocka_unit_test(test_deleted_records),
        cmocka_unit_test(test_inserted_records),
        cmocka_unit_test(test_checkpoint_signatures),
        cmocka_unit_test(test_record_fields),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
