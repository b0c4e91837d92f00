/* Sealing customer data: any changed byte or associated data fails, key ids
 * find their keys, and rotations keep old values readable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seal.h"
#include "tl_test.h"

static char dir[64];
static char mk1[128], mk2[128];

static int setup(void **state)
{
    err e = {0};

    (void)state;
    strcpy(dir, "/tmp/tl_seal_XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(mk1, sizeof(mk1), "%s/master1.key", dir);
    snprintf(mk2, sizeof(mk2), "%s/master2.key", dir);
    if (seal_master_keygen(mk1, NULL, &e) != ST_OK ||
        seal_master_keygen(mk2, NULL, &e) != ST_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static seal_kms kms_of(const char *path)
{
    seal_kms k;
    err e = {0};

    if (seal_kms_local_file(&k, path, &e) != ST_OK)
        fail_msg("%s", e.msg);
    return k;
}

/* A keyring over kms holding data key 1 of "jsbank" (and its wrapped form
 * in *w). */
static seal_keyring *ring(const seal_kms *kms, seal_wrapped *w)
{
    seal_keyring *kr = NULL;
    err e = {0};

    assert_int_equal(seal_dk_new(kms, "jsbank", 1, w, &e), ST_OK);
    assert_int_equal(seal_keyring_create(&kr, kms, &e), ST_OK);
    assert_int_equal(seal_keyring_add(kr, w, &e), ST_OK);
    return kr;
}

static const seal_ad ad42 = {"jsbank", 42, "customer.name"};

static void test_round_trip(void **state)
{
    seal_kms kms = kms_of(mk1);
    seal_wrapped w;
    seal_keyring *kr = ring(&kms, &w);
    const char *name = "Wang Xiaoming";
    unsigned char *sealed = NULL, *again = NULL;
    size_t n = 0, n2 = 0, plen = 0;
    char *plain = NULL;
    uint32_t id = 0;
    err e = {0};

    (void)state;
    assert_int_equal(seal_value(kr, &ad42, name, strlen(name), &sealed, &n, &e),
                     ST_OK);
    assert_int_equal(n, strlen(name) + SEAL_OVERHEAD);
    assert_memory_equal(sealed, "TS\x01", 3);
    assert_true(seal_key_id_of(sealed, n, &id));
    assert_int_equal(id, 1);
    assert_null(memmem(sealed, n, "Wang", 4)); /* no plaintext at rest */
    assert_int_equal(seal_open(kr, &ad42, sealed, n, &plain, &plen, &e), ST_OK);
    assert_int_equal(plen, strlen(name));
    assert_string_equal(plain, name);
    seal_plain_free(plain, plen);
    /* A fresh nonce each time: the same value never looks the same. */
    assert_int_equal(seal_value(kr, &ad42, name, strlen(name), &again, &n2, &e),
                     ST_OK);
    assert_memory_not_equal(sealed, again, n);
    /* Empty values seal too. */
    free(again);
    assert_int_equal(seal_value(kr, &ad42, "", 0, &again, &n2, &e), ST_OK);
    assert_int_equal(seal_open(kr, &ad42, again, n2, &plain, &plen, &e), ST_OK);
    assert_int_equal(plen, 0);
    seal_plain_free(plain, plen);
    free(again);
    free(sealed);
    seal_keyring_destroy(kr);
    seal_kms_destroy(&kms);
}

static void test_tampering_fails(void **state)
{
    seal_kms kms = kms_of(mk1);
    seal_wrapped w;
    seal_keyring *kr = ring(&kms, &w);
    const char *phone = "+86 138 0013 8000";
    const seal_ad other_row = {"jsbank", 43, "customer.name"};
    const seal_ad other_field = {"jsbank", 42, "customer.phone"};
    unsigned char *sealed = NULL;
    size_t n = 0, plen = 0;
    char *plain = NULL;
    err e = {0};

    (void)state;
    assert_int_equal(
        seal_value(kr, &ad42, phone, strlen(phone), &sealed, &n, &e), ST_OK);
    /* Every single byte, header included, is covered. */
    for (size_t i = 0; i < n; i++) {
        status s;
        sealed[i] ^= 0x01;
        s = seal_open(kr, &ad42, sealed, n, &plain, &plen, &e);
        sealed[i] ^= 0x01;
        if (s == ST_OK)
            fail_msg("a change of byte %zu went unnoticed", i);
        assert_null(strstr(e.msg, "138"));
    }
    /* Moved to another row or field: refused, saying so. */
    assert_int_equal(seal_open(kr, &other_row, sealed, n, &plain, &plen, &e),
                     ST_INVALID);
    assert_non_null(strstr(e.msg, "customer.name of row 43 of tenant jsbank "
                                  "does not open"));
    assert_int_equal(seal_open(kr, &other_field, sealed, n, &plain, &plen, &e),
                     ST_INVALID);
    /* Truncated, or not sealed at all. */
    assert_int_equal(seal_open(kr, &ad42, sealed, n - 1, &plain, &plen, &e),
                     ST_INVALID);
    assert_int_equal(seal_open(kr, &ad42, sealed, 10, &plain, &plen, &e),
                     ST_INVALID);
    assert_non_null(strstr(e.msg, "not a sealed value"));
    assert_int_equal(seal_open(kr, &ad42, (const unsigned char *)phone,
                               strlen(phone), &plain, &plen, &e),
                     ST_INVALID);
    assert_int_equal(seal_open(kr, &ad42, sealed, n, &plain, &plen, &e), ST_OK);
    seal_plain_free(plain, plen);
    free(sealed);
    seal_keyring_destroy(kr);
    seal_kms_destroy(&kms);
}

static void test_other_tenant_and_key_ids(void **state)
{
    seal_kms kms = kms_of(mk1);
    seal_wrapped w, wz;
    seal_keyring *kr = ring(&kms, &w);
    const seal_ad zh = {"zhbank", 42, "customer.name"};
    unsigned char *sealed = NULL;
    size_t n = 0, plen = 0;
    char *plain = NULL;
    err e = {0};

    (void)state;
    /* A tenant without a data key cannot seal. */
    assert_int_equal(seal_value(kr, &zh, "x", 1, &sealed, &n, &e),
                     ST_NOT_FOUND);
    assert_non_null(strstr(e.msg, "tenant zhbank has no data key"));
    assert_int_equal(seal_dk_new(&kms, "zhbank", 1, &wz, &e), ST_OK);
    assert_int_equal(seal_keyring_add(kr, &wz, &e), ST_OK);
    assert_int_equal(seal_value(kr, &zh, "Li Lei", 6, &sealed, &n, &e), ST_OK);
    /* zhbank's value under jsbank's id does not open, even with the same
     * key id and case id. */
    assert_int_equal(seal_open(kr, &ad42, sealed, n, &plain, &plen, &e),
                     ST_INVALID);
    /* A key id the keyring lacks is named. */
    sealed[6] = 9;
    assert_int_equal(seal_open(kr, &zh, sealed, n, &plain, &plen, &e),
                     ST_NOT_FOUND);
    assert_non_null(strstr(e.msg, "data key 9 of tenant zhbank"));
    free(sealed);

    /* A wrapped key moved to another tenant or id does not unwrap. */
    snprintf(wz.tenant, sizeof(wz.tenant), "jsbank");
    wz.key_id = 2;
    assert_int_equal(seal_keyring_add(kr, &wz, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "does not unwrap"));
    w.blob[30] ^= 1;
    assert_int_equal(seal_keyring_add(kr, &w, &e), ST_INVALID);
    assert_int_equal(seal_dk_new(&kms, "js bank", 1, &w, &e), ST_INVALID);
    assert_int_equal(seal_dk_new(&kms, "jsbank", 0, &w, &e), ST_INVALID);
    seal_keyring_destroy(kr);
    seal_kms_destroy(&kms);
}

static void test_rotation_keeps_old_data(void **state)
{
    seal_kms old_mk = kms_of(mk1), new_mk = kms_of(mk2);
    seal_wrapped w1, w2, r1, r2;
    seal_keyring *kr = ring(&old_mk, &w1), *kr2 = NULL;
    unsigned char *v1 = NULL, *v2 = NULL;
    size_t n1 = 0, n2 = 0, plen = 0;
    char *plain = NULL;
    uint32_t id = 0;
    err e = {0};

    (void)state;
    assert_int_equal(seal_value(kr, &ad42, "old", 3, &v1, &n1, &e), ST_OK);

    /* Data key rotation: key 2 seals new values, key 1 still opens old. */
    assert_int_equal(seal_dk_new(&old_mk, "jsbank", 2, &w2, &e), ST_OK);
    assert_int_equal(seal_keyring_add(kr, &w2, &e), ST_OK);
    assert_int_equal(seal_keyring_add(kr, &w2, &e), ST_OK); /* idempotent */
    assert_int_equal(seal_keyring_current(kr, "jsbank"), 2);
    assert_int_equal(seal_value(kr, &ad42, "new", 3, &v2, &n2, &e), ST_OK);
    assert_true(seal_key_id_of(v2, n2, &id));
    assert_int_equal(id, 2);
    assert_int_equal(seal_open(kr, &ad42, v1, n1, &plain, &plen, &e), ST_OK);
    assert_string_equal(plain, "old");
    seal_plain_free(plain, plen);

    /* Master key rotation: both data keys rewrapped, no value rewritten. */
    assert_int_equal(seal_rewrap(&old_mk, &new_mk, &w1, &r1, &e), ST_OK);
    assert_int_equal(seal_rewrap(&old_mk, &new_mk, &w2, &r2, &e), ST_OK);
    assert_string_not_equal(r1.master_id, w1.master_id);
    assert_string_equal(r1.master_id, new_mk.id(new_mk.ctx));
    assert_int_equal(seal_keyring_create(&kr2, &new_mk, &e), ST_OK);
    /* The old wrapping is refused by the new keyring, with the fix. */
    assert_int_equal(seal_keyring_add(kr2, &w1, &e), ST_CONFLICT);
    assert_non_null(strstr(e.msg, "twinline keys rotate"));
    assert_int_equal(seal_rewrap(&new_mk, &old_mk, &w1, &r1, &e), ST_CONFLICT);
    assert_int_equal(seal_rewrap(&old_mk, &new_mk, &w1, &r1, &e), ST_OK);
    assert_int_equal(seal_keyring_add(kr2, &r1, &e), ST_OK);
    assert_int_equal(seal_keyring_add(kr2, &r2, &e), ST_OK);
    assert_int_equal(seal_open(kr2, &ad42, v1, n1, &plain, &plen, &e), ST_OK);
    assert_string_equal(plain, "old");
    seal_plain_free(plain, plen);
    assert_int_equal(seal_open(kr2, &ad42, v2, n2, &plain, &plen, &e), ST_OK);
    assert_string_equal(plain, "new");
    seal_plain_free(plain, plen);

    free(v1);
    free(v2);
    seal_keyring_destroy(kr);
    seal_keyring_destroy(kr2);
    seal_kms_destroy(&old_mk);
    seal_kms_destroy(&new_mk);
}

static void test_master_key_sources(void **state)
{
    char path[128], id[SEAL_MASTER_ID_LEN + 1], hex[80];
    seal_kms k, k2;
    FILE *f;
    err e = {0};

    (void)state;
    snprintf(path, sizeof(path), "%s/master3.key", dir);
    assert_int_equal(seal_master_keygen(path, id, &e), ST_OK);
    assert_int_equal(strlen(id), SEAL_MASTER_ID_LEN);
    assert_int_equal(seal_master_keygen(path, id, &e), ST_CONFLICT);
    k = kms_of(path);
    assert_string_equal(k.id(k.ctx), id);

    /* The same key from the environment has the same id. */
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(hex, sizeof(hex), f));
    fclose(f);
    hex[64] = '\0';
    setenv("TL_TEST_MASTER_KEY", hex, 1);
    assert_int_equal(seal_kms_local_env(&k2, "TL_TEST_MASTER_KEY", &e), ST_OK);
    assert_string_equal(k2.id(k2.ctx), id);
    seal_kms_destroy(&k2);
    hex[10] = 'x';
    setenv("TL_TEST_MASTER_KEY", hex, 1);
    assert_int_equal(seal_kms_local_env(&k2, "TL_TEST_MASTER_KEY", &e),
                     ST_CONFIG);
    assert_non_null(strstr(e.msg, "hex"));
    unsetenv("TL_TEST_MASTER_KEY");
    assert_int_equal(seal_kms_local_env(&k2, "TL_TEST_MASTER_KEY", &e),
                     ST_CONFIG);
    assert_non_null(strstr(e.msg, "is not set"));
    seal_kms_destroy(&k2); /* zeroed: a no-op */

    /* Readable by others: refused with the fix. */
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(seal_kms_local_file(&k2, path, &e), ST_CONFIG);
    assert_non_null(strstr(e.msg, "chmod 600"));
    snprintf(path, sizeof(path), "%s/short.key", dir);
    f = fopen(path, "w");
    fputs("abcd\n", f);
    fclose(f);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(seal_kms_local_file(&k2, path, &e), ST_CONFIG);
    assert_non_null(strstr(e.msg, "64 hex characters"));
    assert_int_equal(seal_kms_local_file(&k2, "/nonexistent/key", &e),
                     ST_CONFIG);
    seal_kms_destroy(&k);
}

static void test_bad_arguments(void **state)
{
    seal_kms kms = kms_of(mk1);
    seal_wrapped w;
    seal_keyring *kr = ring(&kms, &w);
    const seal_ad no_field = {"jsbank", 1, ""};
    const seal_ad no_tenant = {"", 1, "customer.name"};
    unsigned char *out = NULL;
    size_t n = 0;
    err e = {0};

    (void)state;
    assert_int_equal(seal_value(kr, &no_field, "x", 1, &out, &n, &e),
                     ST_INVALID);
    assert_int_equal(seal_value(kr, &no_tenant, "x", 1, &out, &n, &e),
                     ST_INVALID);
    assert_int_equal(
        seal_value(kr, &ad42, "x", SEAL_PLAIN_MAX + 1, &out, &n, &e),
        ST_TOO_LARGE);
    assert_null(out);
    seal_plain_free(NULL, 0);
    seal_keyring_destroy(NULL);
    seal_keyring_destroy(kr);
    seal_kms_destroy(&kms);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_tampering_fails),
        cmocka_unit_test(test_other_tenant_and_key_ids),
        cmocka_unit_test(test_rotation_keeps_old_data),
        cmocka_unit_test(test_master_key_sources),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
