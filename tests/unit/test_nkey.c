/* nkeys: the text forms nats-server expects, signatures, credentials files.
 * The known answers were computed independently (Python's base64.b32encode
 * and binascii.crc_hqx) from RFC 8032's first Ed25519 test vector. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nkey.h"
#include "tl_test.h"

#define RFC8032_SEED                                                           \
    "SUAJ2YNRTXX72WTAXKCEV5ES5QWMIRCJYVUXWMTJDFYDXLADDSXH6YALCA"
#define RFC8032_PUB "UDLVVGABQKYQVN6VJP7NHSLEA45A5YLS6PNKMIZFV4BBU2HXA5IRUVAL"
/* The same key bytes as an account key and an account seed. */
#define ACCOUNT_PUB "ADLVVGABQKYQVN6VJP7NHSLEA45A5YLS6PNKMIZFV4BBU2HXA5IRVRTU"
#define ACCOUNT_SEED                                                           \
    "SAAJ2YNRTXX72WTAXKCEV5ES5QWMIRCJYVUXWMTJDFYDXLADDSXH6YHY3Q"

static void test_known_answer(void **state)
{
    static const unsigned char rfc_pk[NKEY_PK_BYTES] = {
        0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
        0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
        0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};
    unsigned char pk[NKEY_PK_BYTES];
    char seed[NKEY_SEED_LEN + 1];
    nkey *k = NULL;
    err e = {0};

    (void)state;
    assert_int_equal(nkey_from_seed(&k, RFC8032_SEED, &e), ST_OK);
    assert_string_equal(nkey_public(k), RFC8032_PUB);
    assert_memory_equal(nkey_public_raw(k), rfc_pk, NKEY_PK_BYTES);
    nkey_seed_string(k, seed);
    assert_string_equal(seed, RFC8032_SEED);
    assert_int_equal(nkey_public_decode(RFC8032_PUB, pk, &e), ST_OK);
    assert_memory_equal(pk, rfc_pk, NKEY_PK_BYTES);
    nkey_destroy(k);
    nkey_destroy(NULL);
}

static void test_generate_round_trip(void **state)
{
    char seed[NKEY_SEED_LEN + 1];
    nkey *a = NULL, *b = NULL, *c = NULL;
    err e = {0};

    (void)state;
    assert_int_equal(nkey_generate(&a, &e), ST_OK);
    assert_int_equal(nkey_generate(&c, &e), ST_OK);
    assert_int_equal(strlen(nkey_public(a)), NKEY_PUBLIC_LEN);
    assert_int_equal(nkey_public(a)[0], 'U');
    assert_string_not_equal(nkey_public(a), nkey_public(c));
    nkey_seed_string(a, seed);
    assert_int_equal(strlen(seed), NKEY_SEED_LEN);
    assert_memory_equal(seed, "SU", 2);
    assert_int_equal(nkey_from_seed(&b, seed, &e), ST_OK);
    assert_string_equal(nkey_public(a), nkey_public(b));
    assert_int_equal(nkey_public_decode(nkey_public(a), NULL, &e), ST_OK);
    nkey_destroy(a);
    nkey_destroy(b);
    nkey_destroy(c);
}

static void test_sign_verify(void **state)
{
    const unsigned char msg[] = "nonce-1234";
    unsigned char sig[NKEY_SIG_BYTES];
    nkey *k = NULL, *other = NULL;
    err e = {0};

    (void)state;
    assert_int_equal(nkey_generate(&k, &e), ST_OK);
    assert_int_equal(nkey_generate(&other, &e), ST_OK);
    assert_int_equal(nkey_sign(k, msg, sizeof(msg), sig, &e), ST_OK);
    assert_true(nkey_verify(nkey_public(k), msg, sizeof(msg), sig));
    assert_false(nkey_verify(nkey_public(other), msg, sizeof(msg), sig));
    assert_false(nkey_verify(nkey_public(k), msg, sizeof(msg) - 1, sig));
    sig[10] ^= 1;
    assert_false(nkey_verify(nkey_public(k), msg, sizeof(msg), sig));
    assert_false(nkey_verify("UNOTAKEY", msg, sizeof(msg), sig));
    nkey_destroy(k);
    nkey_destroy(other);
}

static void expect_bad_seed(const char *seed, const char *words)
{
    nkey *k = NULL;
    err e = {0};

    assert_int_equal(nkey_from_seed(&k, seed, &e), ST_INVALID);
    assert_null(k);
    if (strstr(e.msg, words) == NULL)
        fail_msg("\"%s\" not in \"%s\"", words, e.msg);
}

static void test_bad_seeds(void **state)
{
    char s[NKEY_SEED_LEN + 1];

    (void)state;
    expect_bad_seed("", "has 0");
    expect_bad_seed("SUAJ2YNRTX", "has 10");
    expect_bad_seed(RFC8032_SEED "A", "more than 58");
    strcpy(s, RFC8032_SEED);
    s[20] = '1'; /* not in the base32 alphabet */
    expect_bad_seed(s, "not base32");
    strcpy(s, RFC8032_SEED);
    s[20] = s[20] == 'A' ? 'B' : 'A';
    expect_bad_seed(s, "checksum");
    expect_bad_seed(ACCOUNT_SEED, "account key");
    /* A public key padded to a seed's length is no seed either. */
    snprintf(s, sizeof(s), "%sAA", RFC8032_PUB);
    expect_bad_seed(s, "");
    expect_bad_seed(NULL, "has 0");
}

static void test_bad_public_keys(void **state)
{
    char p[NKEY_PUBLIC_LEN + 1];
    err e = {0};

    (void)state;
    assert_int_equal(nkey_public_decode("UABC", NULL, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "56 characters"));
    strcpy(p, RFC8032_PUB);
    p[30] = p[30] == 'Q' ? 'R' : 'Q';
    assert_int_equal(nkey_public_decode(p, NULL, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "checksum"));
    assert_int_equal(nkey_public_decode(ACCOUNT_PUB, NULL, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "account key"));
    strcpy(p, RFC8032_PUB);
    p[5] = 'u';
    assert_int_equal(nkey_public_decode(p, NULL, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "base32"));
    /* A seed pasted as a public key is refused without being repeated. */
    assert_int_equal(nkey_public_decode(RFC8032_SEED, NULL, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "seed"));
    assert_null(strstr(e.msg, "SUAJ2Y"));
}

static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/tl_nkey_XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int remove_dir(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd);
}

static void test_creds_file(void **state)
{
    char path[128];
    struct stat sb;
    nkey_creds c;
    nkey *k = NULL;
    err e = {0};

    (void)state;
    snprintf(path, sizeof(path), "%s/w007.creds", dir);
    assert_int_equal(nkey_generate(&k, &e), ST_OK);
    assert_int_equal(nkey_creds_write(path, k, "w007", "worker", "w007", &e),
                     ST_OK);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(nkey_creds_read(path, &c, &e), ST_OK);
    assert_string_equal(c.identity, "w007");
    assert_string_equal(c.role, "worker");
    assert_string_equal(c.party, "w007");
    assert_string_equal(c.public_key, nkey_public(k));
    assert_string_equal(nkey_public(c.key), nkey_public(k));
    nkey_creds_clear(&c);
    nkey_creds_clear(&c); /* twice is harmless */

    /* Never overwritten. */
    assert_int_equal(nkey_creds_write(path, k, "w007", "worker", "w007", &e),
                     ST_CONFLICT);
    assert_non_null(strstr(e.msg, "refusing to overwrite"));

    /* Readable or writable by others: refused, with the fix. */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(nkey_creds_read(path, &c, &e), ST_CONFIG);
    assert_non_null(strstr(e.msg, "read by others (mode 0644)"));
    assert_non_null(strstr(e.msg, "chmod 600"));
    assert_null(c.key);
    assert_int_equal(chmod(path, 0620), 0);
    assert_int_equal(nkey_creds_read(path, &c, &e), ST_CONFIG);
    assert_non_null(strstr(e.msg, "changed by others"));
    assert_int_equal(chmod(path, 0400), 0);
    assert_int_equal(nkey_creds_read(path, &c, &e), ST_OK);
    nkey_creds_clear(&c);

    assert_int_equal(nkey_creds_read(dir, &c, &e), ST_CONFIG);
    assert_non_null(strstr(e.msg, "not a regular file"));
    snprintf(path, sizeof(path), "%s/missing.creds", dir);
    assert_int_equal(nkey_creds_read(path, &c, &e), ST_CONFIG);

    snprintf(path, sizeof(path), "%s/bad.creds", dir);
    assert_int_equal(nkey_creds_write(path, k, "w 7", "worker", "w007", &e),
                     ST_INVALID);
    assert_int_equal(nkey_creds_write(path, k, "w7", "Worker", "w007", &e),
                     ST_INVALID);
    assert_int_equal(access(path, F_OK), -1);
    nkey_destroy(k);
}

#define HEAD                                                                   \
    "# comment\n"                                                              \
    "identity: jsbank-core\n"                                                  \
    "role: tenant\n"                                                           \
    "party: jsbank\n"
#define PUBLINE "public_key: " RFC8032_PUB "\n"
#define SEEDBLOCK                                                              \
    "\n-----BEGIN USER NKEY SEED-----\n" RFC8032_SEED                          \
    "\n------END USER NKEY SEED------\n"

static status parse(const char *text, err *e)
{
    nkey_creds c;
    status s = nkey_creds_parse(text, strlen(text), &c, e);

    if (s == ST_OK)
        assert_non_null(c.key);
    else
        assert_null(c.key);
    nkey_creds_clear(&c);
    return s;
}

static void expect_parse(const char *text, status want, const char *words)
{
    err e = {0};

    assert_int_equal(parse(text, &e), want);
    if (strstr(e.msg, words) == NULL)
        fail_msg("\"%s\" not in \"%s\"", words, e.msg);
    /* No message ever repeats the secret. */
    assert_null(strstr(e.msg, "SUAJ2Y"));
}

static void test_creds_parse(void **state)
{
    char big[NKEY_CREDS_MAX + 64];
    err e = {0};

    (void)state;
    assert_int_equal(parse(HEAD PUBLINE SEEDBLOCK, &e), ST_OK);
    assert_int_equal(parse("identity: a\r\nrole: tenant\r\nparty: b\r\n"
                           "public_key: " RFC8032_PUB
                           "\r\n-----BEGIN USER NKEY SEED-----\r\n" RFC8032_SEED
                           "\r\n------END USER NKEY SEED------\r\n",
                           &e),
                     ST_OK);
    expect_parse(HEAD SEEDBLOCK, ST_MISSING_FIELD, "lack public_key");
    expect_parse(HEAD PUBLINE, ST_MISSING_FIELD, "lack the seed block");
    expect_parse(HEAD PUBLINE "colour: red\n" SEEDBLOCK, ST_UNKNOWN_FIELD,
                 "line 6: unknown field \"colour\"");
    expect_parse(HEAD "party: x\n" PUBLINE SEEDBLOCK, ST_INVALID,
                 "line 5: party is given twice");
    expect_parse(HEAD "public_key: " ACCOUNT_PUB "\n" SEEDBLOCK, ST_INVALID,
                 "account key");
    expect_parse(HEAD PUBLINE SEEDBLOCK SEEDBLOCK, ST_INVALID,
                 "a second seed block");
    expect_parse(HEAD PUBLINE "-----BEGIN USER NKEY SEED-----\n" RFC8032_SEED
                              "\n",
                 ST_INVALID, "not closed");
    expect_parse(HEAD PUBLINE "-----BEGIN USER NKEY SEED-----\n" RFC8032_SEED
                              "\nidentity: x\n",
                 ST_INVALID, "expected ------END USER NKEY SEED------");
    expect_parse(HEAD PUBLINE "-----BEGIN USER NKEY SEED-----\n"
                              "SUAJ2YNRTXX72WTAXKCEV5ES5QWMIRCJYVUXWMTJDFYDXLAD"
                              "\n------END USER NKEY SEED------\n",
                 ST_INVALID, "line 7: expected the 58-character seed");
    expect_parse(HEAD PUBLINE "just words\n" SEEDBLOCK, ST_INVALID,
                 "line 6: expected \"name: value\"");
    expect_parse("identity: a b\nrole: tenant\nparty: b\n" PUBLINE SEEDBLOCK,
                 ST_INVALID, "identity and party");
    expect_parse("identity: a\nrole: Tenant!\nparty: b\n" PUBLINE SEEDBLOCK,
                 ST_INVALID, "role must be");
    expect_parse(HEAD "public_key: "
                      "UC43IHJWANQHD6GQ7V4MMTXCIOPI6BYZ3CQBCFY665VWYNWRVYQD2YUU"
                      "\n" SEEDBLOCK,
                 ST_INVALID, "does not belong to the seed");
    expect_parse(HEAD "public_key: " RFC8032_SEED "\n" SEEDBLOCK, ST_INVALID,
                 "where a public key");
    memset(big, '#', sizeof(big));
    big[sizeof(big) - 1] = '\0';
    expect_parse(big, ST_TOO_LARGE, "at most 4096");
    memset(big, 'x', 300);
    memcpy(big, "identity: ", 10);
    big[300] = '\0';
    expect_parse(big, ST_INVALID, "line 1 is longer than 256");
    assert_int_equal(
        nkey_creds_parse("identity: a\0b\n", 14, &(nkey_creds){0}, &e),
        ST_INVALID);
    assert_non_null(strstr(e.msg, "NUL"));
    expect_parse("", ST_MISSING_FIELD, "lack identity");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answer),
        cmocka_unit_test(test_generate_round_trip),
        cmocka_unit_test(test_sign_verify),
        cmocka_unit_test(test_bad_seeds),
        cmocka_unit_test(test_bad_public_keys),
        cmocka_unit_test_setup_teardown(test_creds_file, make_dir, remove_dir),
        cmocka_unit_test(test_creds_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
