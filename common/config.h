/*
 * Settings every program shares: where PostgreSQL and NATS are, and the
 * subject prefix that namespaces one Twinline installation on a NATS server.
 * Defaults come from the environment (TL_DB, TL_NATS, TL_PREFIX); programs
 * let --db, --nats and --prefix override them.
 */
#ifndef TL_CONFIG_H
#define TL_CONFIG_H

#include <stdbool.h>

#include "err.h"

typedef struct config {
    char db[512];    /* libpq conninfo or URL */
    char nats[256];  /* nats://host:port */
    char prefix[64]; /* first subject token, default "tl" */
} config;

/* Fill c from the environment, with built-in defaults for what is unset. */
void config_from_env(config *c);

/*
 * If argv[*i] is one of the shared flags (--db X, --nats X, --prefix X, or
 * the --flag=X form), store it, advance *i past its value and return true.
 * An unusable value (missing, too long, prefix not a token) sets e.
 */
bool config_take_flag(config *c, int argc, char **argv, int *i, err *e);

/* Help text for the shared flags, for --help screens. */
extern const char config_flags_help[];

#endif
