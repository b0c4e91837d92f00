/*
 * Settings every program shares: where PostgreSQL and NATS are, the
 * subject prefix that namespaces one Twinline installation on a NATS server,
 * and the credentials a program connects to NATS with. Defaults come from
 * the environment (TL_DB, TL_NATS, TL_PREFIX, TL_NATS_CREDS, TL_CREDS_DIR,
 * TL_NATS_CA, TL_NATS_TLS_HOST, TL_DB_CA); programs let --db, --nats,
 * --prefix, --creds, --creds-dir, --nats-ca, --nats-tls-host and --db-ca
 * override them.
 */
#ifndef TL_CONFIG_H
#define TL_CONFIG_H

#include <stdbool.h>

#include "bus.h"
#include "err.h"

typedef struct config {
    char db[512];    /* libpq conninfo or URL */
    char nats[1024]; /* nats://host:port, or a comma-separated list */
    char prefix[64]; /* first subject token, default "tl" */
    /* The credentials file of the program's identity (nkey.h); "" for
     * none, which a server with authorization refuses. */
    char creds[512];
    /* A directory of credentials files of many identities: the agent's
     * simulated workers and the feed's tenants each connect with their
     * own (nkey_creds_find); "" for none. */
    char creds_dir[512];
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
 * --creds FILE, --creds-dir DIR, --nats-ca FILE, --nats-tls-host NAME, --db-ca
 * FILE, or the --flag=X form), store it (a TLS flag is applied at once),
 * advance *i past its value and return true. An unusable value (missing, too
 * long, prefix not a token) sets e.
 */
bool config_take_flag(config *c, int argc, char **argv, int *i, err *e);

/* Help text for the shared flags, for --help screens. */
extern const char config_flags_help[];

/*
 * The connection options of c into *o (zeroed first): its servers and
 * credentials, with name shown in the server's connection list. The
 * strings stay c's: o is valid while c is.
 */
void config_bus_opts(const config *c, const char *name, bus_opts *o);

/*
 * The credentials file a program of role ("dispatcher", "billing",
 * "console", "admin": the roles without a party) connects with, into
 * path: c->creds when given, else the one file of that role in
 * c->creds_dir (nkey_dir_find), else "" (none). So one TL_CREDS_DIR lets
 * every program of an installation find its own identity. Errors: those
 * of nkey_dir_open and nkey_dir_find (ST_CONFIG, ST_NOT_FOUND,
 * ST_CONFLICT), ST_INVALID when path is too small.
 */
status config_creds_for(const config *c, const char *role, char *path,
                        size_t cap, err *e);

#endif
