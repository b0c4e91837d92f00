/*
 * Fuzz target for the parser of nats-server's log lines (natslog.h): the
 * dispatcher reads a file in which clients' connection names and subjects
 * appear, so any bytes may be in a line. What is accepted must have a
 * valid or empty key, fields within their bounds, and no subject for a
 * refused connection. Built as a libFuzzer binary with clang
 * (-DTL_FUZZ=ON) and, always, as a replay of the seed corpus.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "natslog.h"
#include "nkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    natslog_event ev;

    if (!natslog_parse((const char *)data, size, &ev))
        return 0;
    if (strlen(ev.subject) > NATSLOG_SUBJECT_MAX ||
        strlen(ev.client) > NATSLOG_CLIENT_MAX)
        abort();
    /* A user key's form; its checksum is not the parser's to check (no
     * identity has a key that fails it). */
    if (ev.public_key[0] != '\0' &&
        (strlen(ev.public_key) != NKEY_PUBLIC_LEN || ev.public_key[0] != 'U'))
        abort();
    if (ev.kind == NATSLOG_AUTH && ev.subject[0] != '\0')
        abort();
    if (ev.kind != NATSLOG_PUBLISH && ev.kind != NATSLOG_SUBSCRIBE &&
        ev.kind != NATSLOG_AUTH)
        abort();
    return 0;
}
