/* Identifiers of tenants, operators, pools, workers and steps appear in NATS
 * subjects, so they are restricted to subject-safe tokens. */
#ifndef TL_IDS_H
#define TL_IDS_H

#include <stdbool.h>
#include <stdint.h>

#define ID_MAX 64 /* longest token, without the NUL */

/* True when s is 1..ID_MAX characters of [A-Za-z0-9_-]. */
bool ids_token_valid(const char *s);

/* Parse a positive decimal int64 (database ids); false on anything else. */
bool ids_parse_i64(const char *s, int64_t *out);

#endif
