#include "cli_args.h"

#include <stdio.h>
#include <string.h>

int cli_fail(const err *e)
{
    fprintf(stderr, "twinline: %s\n", e->msg);
    return 1;
}

int cli_usage_error(const char *usage, const char *fmt, const char *what)
{
    fprintf(stderr, "twinline: ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, "\n%s", usage);
    return ADMIN_EXIT_USAGE;
}

/* Take argv[*i] if it is one of opts; 1 taken, 0 not one, else exit code. */
static int take_opt(int argc, char **argv, int *i, cli_opt *opts, int nopts,
                    const char *usage)
{
    const char *arg = argv[*i];

    for (int k = 0; k < nopts; k++) {
        size_t n = strlen(opts[k].name);

        if (strncmp(arg, opts[k].name, n) != 0 ||
            (arg[n] != '\0' && arg[n] != '='))
            continue;
        if (!opts[k].has_value) {
            if (arg[n] == '=')
                return cli_usage_error(usage, "%s takes no value",
                                       opts[k].name);
        } else if (arg[n] == '=') {
            opts[k].value = arg + n + 1;
        } else if (*i + 1 < argc) {
            opts[k].value = argv[++*i];
        } else {
            return cli_usage_error(usage, "%s needs a value", opts[k].name);
        }
        opts[k].set = true;
        return 1;
    }
    return 0;
}

int cli_args_parse(int argc, char **argv, int first, const config *cfg,
                   cli_opt *opts, int nopts, const char *repeat,
                   const char *usage, cli_args *a)
{
    err e = {0};

    memset(a, 0, sizeof(*a));
    a->cfg = *cfg;
    for (int i = first; i < argc; i++) {
        const char *arg = argv[i];
        int rc;

        if (config_take_flag(&a->cfg, argc, argv, &i, &e)) {
            if (e.code != ST_OK)
                return cli_usage_error(usage, "%s", e.msg);
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            a->help = true;
            continue;
        }
        if (repeat != NULL && strcmp(arg, repeat) == 0) {
            if (i + 1 >= argc)
                return cli_usage_error(usage, "%s needs a value", repeat);
            if (a->nrepeated == ADMIN_MAX_REPEATED)
                return cli_usage_error(usage, "too many %s options", repeat);
            a->repeated[a->nrepeated++] = argv[++i];
            continue;
        }
        rc = take_opt(argc, argv, &i, opts, nopts, usage);
        if (rc == 1)
            continue;
        if (rc != 0)
            return rc;
        if (arg[0] == '-' && arg[1] != '\0')
            return cli_usage_error(usage, "unknown option %s", arg);
        if (a->npos == ADMIN_MAX_POSITIONAL)
            return cli_usage_error(usage, "too many arguments (at most %s)",
                                   "64");
        a->pos[a->npos++] = arg;
    }
    return 0;
}

int cli_help(const char *usage)
{
    printf("%s\n%s", usage, config_flags_help);
    return 0;
}

int cli_connect_db(const cli_args *a, db **d, err *e)
{
    err local = {0};

    if (e == NULL)
        e = &local;
    return db_connect(d, a->cfg.db, e) == ST_OK ? 0 : cli_fail(e);
}
