/*
 * Schema 011 against the real PostgreSQL: an audit chain written to
 * audit_log reads back byte for byte and verifies; the trail refuses
 * UPDATE, DELETE and TRUNCATE; rows changed behind the triggers' back (as a
 * superuser can) are found by the verifier; identities keep one active key;
 * wrapped data keys round-trip.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "fixture.h"
#include "seal.h"
#include "tl_test.h"

#define N 6

static void hex_of(const unsigned char *b, size_t n, char *out)
{
    out[0] = '\\';
    out[1] = 'x';
    sodium_bin2hex(out + 2, n * 2 + 1, b, n);
}

static void unhex(const char *text, unsigned char *b, size_t n)
{
    size_t got = 0;

    assert_memory_equal(text, "\\x", 2);
    assert_int_equal(
        sodium_hex2bin(b, n, text + 2, strlen(text + 2), NULL, &got, NULL), 0);
    assert_int_equal(got, n);
}

/* Append record r (linked to the head) the way an appender would. */
static void append(fixture *f, audit_record *r)
{
    char seq[24], at[24], prev[70], hash[70];
    unsigned char head[AUDIT_HASH_BYTES];
    db_res *res = NULL;
    err e = {0};

    assert_int_equal(db_begin(f->db, &e), ST_OK);
    assert_int_equal(db_query(f->db,
                              "SELECT seq, hash FROM audit_head FOR UPDATE", 0,
                              NULL, &res, &e),
                     ST_OK);
    r->seq = db_i64(res, 0, 0) + 1;
    unhex(db_val(res, 0, 1), head, sizeof(head));
    db_res_free(res);
    assert_int_equal(audit_link(r, head, &e), ST_OK);
    snprintf(seq, sizeof(seq), "%" PRId64, r->seq);
    snprintf(at, sizeof(at), "%" PRId64, r->at_us);
    hex_of(r->prev, AUDIT_HASH_BYTES, prev);
    hex_of(r->hash, AUDIT_HASH_BYTES, hash);
    {
        const char *p[] = {seq,         at,        r->party,
                           r->identity, r->action, r->subjects,
                           r->details,  prev,      hash};
        if (db_query(f->db,
                     "INSERT INTO audit_log (seq, at, party, identity, action,"
                     " subjects, details, prev_hash, hash) VALUES ($1::bigint,"
                     " 'epoch'::timestamptz + $2::bigint * interval '1"
                     " microsecond', $3, $4, $5, $6, $7, $8::bytea, $9::bytea)",
                     9, p, NULL, &e) != ST_OK)
            fail_msg("%s", e.msg);
    }
    {
        const char *p[] = {seq, hash};
        assert_int_equal(db_query(f->db,
                                  "UPDATE audit_head SET seq = $1::bigint,"
                                  " hash = $2::bytea",
                                  2, p, NULL, &e),
                         ST_OK);
    }
    assert_int_equal(db_commit(f->db, &e), ST_OK);
}

/* Everything stored, in seq order; strings live in *res. */
static int read_back(fixture *f, audit_record *r, int cap, db_res **res)
{
    err e = {0};
    int n;

    if (db_query(f->db,
                 "SELECT seq, (extract(epoch FROM at) * 1000000)::bigint,"
                 " party, identity, action, subjects, details, prev_hash, hash"
                 " FROM audit_log ORDER BY seq",
                 0, NULL, res, &e) != ST_OK)
        fail_msg("%s", e.msg);
    n = db_rows(*res);
    assert_true(n <= cap);
    for (int i = 0; i < n; i++) {
        memset(&r[i], 0, sizeof(r[i]));
        r[i].seq = db_i64(*res, i, 0);
        r[i].at_us = db_i64(*res, i, 1);
        r[i].party = db_val(*res, i, 2);
        r[i].identity = db_val(*res, i, 3);
        r[i].action = db_val(*res, i, 4);
        r[i].subjects = db_val(*res, i, 5);
        r[i].details = db_val(*res, i, 6);
        unhex(db_val(*res, i, 7), r[i].prev, AUDIT_HASH_BYTES);
        unhex(db_val(*res, i, 8), r[i].hash, AUDIT_HASH_BYTES);
    }
    return n;
}

static void expect_refused(fixture *f, const char *sql, const char *words)
{
    err e = {0};

    assert_int_not_equal(db_exec(f->db, sql, &e), ST_OK);
    if (strstr(e.msg, words) == NULL)
        fail_msg("\"%s\" not in \"%s\"", words, e.msg);
}

static void test_audit_trail_in_postgres(void **state)
{
    fixture f;
    audit_record w[N], r[N + 2];
    char details[N][96], subjects[N][32];
    audit_report rep;
    db_res *res = NULL;
    nkey *key = NULL;
    audit_checkpoint cp;
    const char *signers[1];
    err e = {0};
    int n;

    (void)state;
    fixture_setup(&f, "security_schema");
    for (int i = 0; i < N; i++) {
        char *canon = NULL;
        snprintf(
            details[i], sizeof(details[i]),
            "{\"reason\": \"wrong amount \xe2\x82\xac %d\", \"amount\": %d}", i,
            100 * i);
        assert_int_equal(audit_details_canonical(details[i], &canon, &e),
                         ST_OK);
        snprintf(details[i], sizeof(details[i]), "%s", canon);
        free(canon);
        snprintf(subjects[i], sizeof(subjects[i]), "case:%d", 42 + i);
        memset(&w[i], 0, sizeof(w[i]));
        w[i].at_us = 1796000000123456LL + i * 1000001LL;
        w[i].party = "tenant:jsbank";
        w[i].identity = "jsbank-core";
        w[i].action = "case.complaint";
        w[i].subjects = subjects[i];
        w[i].details = details[i];
        append(&f, &w[i]);
    }
    assert_int_equal(nkey_generate(&key, &e), ST_OK);
    signers[0] = nkey_public(key);
    assert_int_equal(
        audit_checkpoint_sign(key, N, w[N - 1].hash, w[N - 1].at_us, &cp, &e),
        ST_OK);

    /* What PostgreSQL gives back hashes to what was written. */
    n = read_back(&f, r, N + 2, &res);
    assert_int_equal(n, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(r[i].at_us, w[i].at_us);
        assert_string_equal(r[i].details, w[i].details);
    }
    assert_true(audit_verify(r, (size_t)n, &cp, 1, signers, 1, &rep));
    assert_int_equal(rep.vouched, N);
    db_res_free(res);

    /* The trail refuses to change. */
    expect_refused(&f, "UPDATE audit_log SET details = '{}' WHERE seq = 3",
                   "audit_log is append-only: UPDATE refused");
    expect_refused(&f, "DELETE FROM audit_log WHERE seq = 6",
                   "audit_log is append-only: DELETE refused");
    expect_refused(&f, "TRUNCATE audit_log CASCADE", "append-only");
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM audit_log"), N);

    /* A superuser behind the triggers' back: found, with the seq. */
    fixture_exec(&f, "ALTER TABLE audit_log DISABLE TRIGGER USER");
    fixture_exec(&f, "UPDATE audit_log SET details ="
                     " '{\"amount\":1,\"reason\":\"x\"}' WHERE seq = 3");
    fixture_exec(&f, "DELETE FROM audit_log WHERE seq = 5");
    fixture_exec(&f, "ALTER TABLE audit_log ENABLE TRIGGER USER");
    n = read_back(&f, r, N + 2, &res);
    assert_false(audit_verify(r, (size_t)n, &cp, 1, signers, 1, &rep));
    assert_int_equal(rep.nfindings, 2);
    assert_int_equal(rep.findings[0].fault, AUDIT_CHANGED);
    assert_int_equal(rep.findings[0].seq, 3);
    assert_int_equal(rep.findings[1].fault, AUDIT_DELETED);
    assert_int_equal(rep.findings[1].seq, 5);
    db_res_free(res);
    nkey_destroy(key);
    fixture_teardown(&f);
}

static void test_identities_and_data_keys(void **state)
{
    fixture f;
    nkey *k1 = NULL, *k2 = NULL;
    seal_kms kms;
    seal_wrapped w, back;
    seal_keyring *kr = NULL;
    char mk[64], sql[512], hex[300];
    db_res *res = NULL;
    err e = {0};

    (void)state;
    fixture_setup(&f, "security_keys");
    assert_int_equal(nkey_generate(&k1, &e), ST_OK);
    assert_int_equal(nkey_generate(&k2, &e), ST_OK);
    snprintf(sql, sizeof(sql),
             "INSERT INTO identities (identity, role, party, public_key)"
             " VALUES ('w007', 'worker', 'w007', '%s')",
             nkey_public(k1));
    fixture_exec(&f, sql);
    /* A second active key for the same identity is refused ... */
    snprintf(sql, sizeof(sql),
             "INSERT INTO identities (identity, role, party, public_key)"
             " VALUES ('w007', 'worker', 'w007', '%s')",
             nkey_public(k2));
    expect_refused(&f, sql, "identities_one_active");
    /* ... until the first is revoked: a rotation. */
    fixture_exec(&f, "UPDATE identities SET status = 'revoked',"
                     " revoked_at = now() WHERE identity = 'w007'");
    fixture_exec(&f, sql);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM identities WHERE"
                                     " identity = 'w007' AND status = "
                                     "'active'"),
                     1);
    expect_refused(&f,
                   "INSERT INTO identities (identity, role, public_key) VALUES"
                   " ('t1', 'tenant', 'UAAA')",
                   "check constraint");
    expect_refused(
        &f,
        "INSERT INTO identities (identity, role, party, public_key)"
        " VALUES ('dsp', 'dispatcher', 'jsbank', "
        "'UDLVVGABQKYQVN6VJP7NHSLEA45A5YLS6PNKMIZFV4BBU2HXA5IRUVAL')",
        "check constraint");

    /* A wrapped data key survives the round trip and unwraps. */
    snprintf(mk, sizeof(mk), "/tmp/tl_mk_%d.key", (int)getpid());
    unlink(mk);
    assert_int_equal(seal_master_keygen(mk, NULL, &e), ST_OK);
    assert_int_equal(seal_kms_local_file(&kms, mk, &e), ST_OK);
    fixture_exec(&f, "INSERT INTO tenants (id, name) VALUES ('jsbank', 'JS')");
    assert_int_equal(seal_dk_new(&kms, "jsbank", 1, &w, &e), ST_OK);
    hex_of(w.blob, w.len, hex);
    {
        const char *p[] = {w.master_id, hex};
        assert_int_equal(
            db_query(f.db,
                     "INSERT INTO tenant_data_keys (tenant_id, key_id,"
                     " master_key_id, wrapped) VALUES ('jsbank', 1, $1,"
                     " $2::bytea)",
                     2, p, NULL, &e),
            ST_OK);
    }
    assert_int_equal(db_query(f.db,
                              "SELECT master_key_id, wrapped FROM"
                              " tenant_data_keys WHERE tenant_id = 'jsbank'",
                              0, NULL, &res, &e),
                     ST_OK);
    memset(&back, 0, sizeof(back));
    snprintf(back.tenant, sizeof(back.tenant), "jsbank");
    back.key_id = 1;
    snprintf(back.master_id, sizeof(back.master_id), "%s", db_val(res, 0, 0));
    back.len = w.len;
    unhex(db_val(res, 0, 1), back.blob, back.len);
    db_res_free(res);
    assert_int_equal(seal_keyring_create(&kr, &kms, &e), ST_OK);
    assert_int_equal(seal_keyring_add(kr, &back, &e), ST_OK);
    assert_int_equal(seal_keyring_current(kr, "jsbank"), 1);
    seal_keyring_destroy(kr);
    seal_kms_destroy(&kms);
    unlink(mk);
    nkey_destroy(k1);
    nkey_destroy(k2);
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_audit_trail_in_postgres),
        cmocka_unit_test(test_identities_and_data_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
