/*
 * Fuzz target for the identity list parser (natsauth_list_parse) and the
 * authorization config made from what it accepts: an operator's file, so
 * anything may be in it. Whatever is accepted must make a config that
 * names every identity's key; whatever is refused must say why.
 * Built as a libFuzzer binary with clang (-DTL_FUZZ=ON) and, always, as a
 * replay of the seed corpus under the normal sanitizer build.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "natsauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    natsauth_identity *ids = NULL;
    char *conf = NULL;
    size_t n = 0;
    err e = {0};

    if (natsauth_list_parse((const char *)data, size, &ids, &n, &e) != ST_OK) {
        if (e.msg[0] == '\0')
            abort();
        return 0;
    }
    if (n > 0) {
        if (natsauth_config("tl", ids, n, &conf, &e) != ST_OK)
            abort(); /* the parser checked everything the config needs */
        for (size_t i = 0; i < n; i++)
            if (strstr(conf, ids[i].public_key) == NULL)
                abort();
        free(conf);
    }
    free(ids);
    return 0;
}
