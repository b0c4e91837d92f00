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
    /*
     * TLS (docs/security.md, "TLS"): a CA file for NATS (TL_NATS_CA,
     * --nats-ca) requires TLS to nats-server and verifies its certificate,
     * which must name nats_tls_host (TL_NATS_TLS_HOST, --nats-tls-host;
     * "": the URL's host); a CA file for PostgreSQL (TL_DB_CA, --db-ca)
     * requires TLS and verifies the certificate and host name
     * (sslmode=verify-full). Setting them applies them to every connection
     * the process makes from then on (bus_tls_default, and libpq's
     * PGSSLMODE and PGSSLROOTCERT), so every program follows its flags.
     */
    char nats_ca[512];
    char nats_tls_host[256];
    char db_ca[512];
} config;

/* Fill c from the environment, with built-in defaults for what is unset,
 * and apply its TLS settings (see config). */
void config_from_env(config *c);

/*
 * If argv[*i] is one of the shared flags (--db X, --nats X, --prefix X,
 * --nats-ca FILE, --nats-tls-host NAME, --db-ca FILE, or the --flag=X
 * form), store it (a TLS flag is applied at once), advance *i past its
 * value and return true.
 * An unusable value (missing, too long, prefix not a token) sets e.
 */
bool config_take_flag(config *c, int argc, char **argv, int *i, err *e);

/* Help text for the shared flags, for --help screens. */
extern const char config_flags_help[];

#endif
