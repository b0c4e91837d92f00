/*
 * Fuzz target for the credentials-file parser (nkey_creds_parse): a file an
 * operator copies around and may edit, so anything may be in it. A parse
 * that succeeds must hold a key whose public half is the file's public_key.
 * Built as a libFuzzer binary with clang (-DTL_FUZZ=ON) and, always, as a
 * replay of the seed corpus under the normal sanitizer build.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nkey_creds c;
    err e = {0};

    if (nkey_creds_parse((const char *)data, size, &c, &e) == ST_OK) {
        if (c.key == NULL || strcmp(nkey_public(c.key), c.public_key) != 0)
            abort();
    } else if (c.key != NULL || e.msg[0] == '\0') {
        abort();
    }
    nkey_creds_clear(&c);
    return 0;
}
