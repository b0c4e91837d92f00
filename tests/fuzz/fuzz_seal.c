/*
 * Fuzz target for opening sealed values (seal_open): what comes back from
 * the database may have been changed by anyone who can write it. Anything
 * but a value this keyring sealed for this row must be refused; the input
 * sealed and opened again must come back unchanged.
 * Built as a libFuzzer binary with clang (-DTL_FUZZ=ON) and, always, as a
 * replay of the seed corpus under the normal sanitizer build.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static seal_kms kms;
static seal_keyring *kr;

static void setup(void)
{
    seal_wrapped w;
    err e = {0};

    setenv("TL_FUZZ_MASTER_KEY",
           "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
           1);
    if (seal_kms_local_env(&kms, "TL_FUZZ_MASTER_KEY", &e) != ST_OK ||
        seal_keyring_create(&kr, &kms, &e) != ST_OK ||
        seal_dk_new(&kms, "jsbank", 1, &w, &e) != ST_OK ||
        seal_keyring_add(kr, &w, &e) != ST_OK)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const seal_ad ad = {"jsbank", 42, "customer.name"};
    unsigned char *sealed = NULL;
    char *plain = NULL;
    size_t n = 0, plen = 0;
    err e = {0};

    if (kr == NULL)
        setup();
    /* Outside input as a sealed value: a forgery never opens. */
    if (seal_open(kr, &ad, data, size, &plain, &plen, &e) == ST_OK)
        abort();
    /* ... and as a plaintext: it comes back exactly. */
    if (seal_value(kr, &ad, data, size, &sealed, &n, &e) != ST_OK)
        abort();
    if (seal_open(kr, &ad, sealed, n, &plain, &plen, &e) != ST_OK ||
        plen != size || memcmp(plain, data, size) != 0)
        abort();
    seal_plain_free(plain, plen);
    free(sealed);
    return 0;
}
