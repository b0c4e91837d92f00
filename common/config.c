#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "ids.h"

const char config_flags_help[] =
    "  --db CONNINFO     PostgreSQL connection (env TL_DB)\n"
    "  --nats URL        NATS server URL (env TL_NATS, default "
    "nats://127.0.0.1:4222)\n"
    "  --prefix TOKEN    subject prefix of this installation (env TL_PREFIX, "
    "default tl)\n"
    "  --nats-ca FILE    require TLS to NATS, verified against this CA (env "
    "TL_NATS_CA)\n"
    "  --nats-tls-host NAME  the name NATS's certificate must carry (env "
    "TL_NATS_TLS_HOST;\n"
    "                    default: the URL's host)\n"
    "  --db-ca FILE      require TLS to PostgreSQL, verified against this CA "
    "with\n"
    "                    its host name (sslmode=verify-full; env TL_DB_CA)\n";

static void copy_env(char *dst, size_t cap, const char *name, const char *def)
{
    const char *v = getenv(name);

    snprintf(dst, cap, "%s", v != NULL && *v != '\0' ? v : def);
}

/* Make c's TLS settings those of every connection from now on. */
static void apply_tls(const config *c)
{
    bus_tls_default(c->nats_ca, c->nats_tls_host);
    /* libpq reads these for every connection whose conninfo does not say
     * otherwise; programs set them before their threads start. */
    if (c->db_ca[0] != '\0') {
        setenv("PGSSLMODE", "verify-full", 1);
        setenv("PGSSLROOTCERT", c->db_ca, 1);
    }
}

void config_from_env(config *c)
{
    copy_env(c->db, sizeof(c->db), "TL_DB", "dbname=twinline");
    copy_env(c->nats, sizeof(c->nats), "TL_NATS", "nats://127.0.0.1:4222");
    copy_env(c->prefix, sizeof(c->prefix), "TL_PREFIX", "tl");
    copy_env(c->nats_ca, sizeof(c->nats_ca), "TL_NATS_CA", "");
    copy_env(c->nats_tls_host, sizeof(c->nats_tls_host), "TL_NATS_TLS_HOST",
             "");
    copy_env(c->db_ca, sizeof(c->db_ca), "TL_DB_CA", "");
    apply_tls(c);
}

static bool match(const char *arg, const char *flag, const char **inline_val)
{
    size_t n = strlen(flag);

    if (strncmp(arg, flag, n) != 0)
        return false;
    if (arg[n] == '\0') {
        *inline_val = NULL;
        return true;
    }
    if (arg[n] == '=') {
        *inline_val = arg + n + 1;
        return true;
    }
    return false;
}

/* The TLS flags: like the others, applied once stored. */
static bool take_tls_flag(config *c, int argc, char **argv, int *i, err *e)
{
    static const char *const flags[] = {"--nats-ca", "--nats-tls-host",
                                        "--db-ca"};
    char *dsts[] = {c->nats_ca, c->nats_tls_host, c->db_ca};
    size_t caps[] = {sizeof(c->nats_ca), sizeof(c->nats_tls_host),
                     sizeof(c->db_ca)};
    const char *val = NULL;

    for (int f = 0; f < 3; f++) {
        if (!match(argv[*i], flags[f], &val))
            continue;
        if (val == NULL) {
            if (*i + 1 >= argc) {
                err_set(e, ST_CONFIG, "%s needs a value", flags[f]);
                return true;
            }
            val = argv[++*i];
        }
        if (val[0] == '\0' || strlen(val) >= caps[f]) {
            err_set(e, ST_CONFIG, "%s needs a value of 1 to %zu characters",
                    flags[f], caps[f] - 1);
            return true;
        }
        snprintf(dsts[f], caps[f], "%s", val);
        apply_tls(c);
        return true;
    }
    return false;
}

bool config_take_flag(config *c, int argc, char **argv, int *i, err *e)
{
    static const char *const flags[] = {"--db", "--nats", "--prefix"};
    char *dsts[] = {c->db, c->nats, c->prefix};
    size_t caps[] = {sizeof(c->db), sizeof(c->nats), sizeof(c->prefix)};
    const char *val = NULL;

    for (int f = 0; f < 3; f++) {
        if (!match(argv[*i], flags[f], &val))
            continue;
        if (val == NULL) {
            if (*i + 1 >= argc) {
                err_set(e, ST_CONFIG, "%s needs a value", flags[f]);
                return true;
            }
            val = argv[++*i];
        }
        if (strlen(val) >= caps[f]) {
            err_set(e, ST_CONFIG, "%s value is longer than %zu characters",
                    flags[f], caps[f] - 1);
            return true;
        }
        if (f == 2 && !ids_token_valid(val)) {
            err_set(e, ST_CONFIG,
                    "--prefix \"%s\" must be letters, digits, '_' or '-'", val);
            return true;
        }
        snprintf(dsts[f], caps[f], "%s", val);
        return true;
    }
    return take_tls_flag(c, argc, argv, i, e);
}
