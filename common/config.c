#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "ids.h"
#include "nkey.h"

const char config_flags_help[] =
    "  --db CONNINFO     PostgreSQL connection (env TL_DB)\n"
    "  --nats URL[,URL]  NATS server URL or a comma-separated list (env "
    "TL_NATS,\n"
    "                    default nats://127.0.0.1:4222)\n"
    "  --prefix TOKEN    subject prefix of this installation (env TL_PREFIX, "
    "default tl)\n"
    "  --creds FILE      NATS credentials file of this program's identity "
    "(env\n"
    "                    TL_NATS_CREDS; make one with: twinline identity "
    "create)\n"
    "  --creds-dir DIR   credentials files of many identities, e.g. one per\n"
    "                    simulated worker or fed tenant (env TL_CREDS_DIR)\n"
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
    copy_env(c->creds, sizeof(c->creds), "TL_NATS_CREDS", "");
    copy_env(c->creds_dir, sizeof(c->creds_dir), "TL_CREDS_DIR", "");
    copy_env(c->nats_ca, sizeof(c->nats_ca), "TL_NATS_CA", "");
    copy_env(c->nats_tls_host, sizeof(c->nats_tls_host), "TL_NATS_TLS_HOST",
             "");
    copy_env(c->db_ca, sizeof(c->db_ca), "TL_DB_CA", "");
    apply_tls(c);
}

/* The TLS settings are not copied: they are the process's defaults
 * (apply_tls), which every connection takes. */
void config_bus_opts(const config *c, const char *name, bus_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->url = c->nats;
    o->name = name;
    o->creds = c->creds[0] != '\0' ? c->creds : NULL;
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

status config_creds_for(const config *c, const char *role, char *path,
                        size_t cap, err *e)
{
    nkey_dir *d = NULL;
    const char *found = NULL;
    status s;

    path[0] = '\0';
    if (c->creds[0] != '\0' || c->creds_dir[0] == '\0') {
        if (strlen(c->creds) >= cap)
            return err_set(e, ST_INVALID, "credentials path is too long");
        memcpy(path, c->creds, strlen(c->creds) + 1);
        return ST_OK;
    }
    s = nkey_dir_open(&d, c->creds_dir, e);
    if (s == ST_OK)
        s = nkey_dir_find(d, role, "-", &found, e);
    if (s == ST_OK && strlen(found) >= cap)
        s = err_set(e, ST_INVALID, "credentials path %.200s is too long",
                    found);
    if (s == ST_OK)
        memcpy(path, found, strlen(found) + 1);
    nkey_dir_close(d);
    return s;
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
    static const char *const flags[] = {"--db", "--nats", "--prefix", "--creds",
                                        "--creds-dir"};
    char *dsts[] = {c->db, c->nats, c->prefix, c->creds, c->creds_dir};
    size_t caps[] = {sizeof(c->db), sizeof(c->nats), sizeof(c->prefix),
                     sizeof(c->creds), sizeof(c->creds_dir)};
    const char *val = NULL;

    for (int f = 0; f < 5; f++) {
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
