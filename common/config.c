#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"

const char config_flags_help[] =
    "  --db CONNINFO     PostgreSQL connection (env TL_DB)\n"
    "  --nats URL        NATS server URL (env TL_NATS, default "
    "nats://127.0.0.1:4222)\n"
    "  --prefix TOKEN    subject prefix of this installation (env TL_PREFIX, "
    "default tl)\n";

static void copy_env(char *dst, size_t cap, const char *name, const char *def)
{
    const char *v = getenv(name);

    snprintf(dst, cap, "%s", v != NULL && *v != '\0' ? v : def);
}

void config_from_env(config *c)
{
    copy_env(c->db, sizeof(c->db), "TL_DB", "dbname=twinline");
    copy_env(c->nats, sizeof(c->nats), "TL_NATS", "nats://127.0.0.1:4222");
    copy_env(c->prefix, sizeof(c->prefix), "TL_PREFIX", "tl");
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
    return false;
}
