/*
 * Argument parsing shared by the `twinline` commands: the shared
 * --db/--nats/--prefix flags anywhere, --help, the options a command knows
 * (--name VALUE, --name=VALUE, or a switch), one option that may repeat,
 * and positionals. Problems are printed with the command's usage and give
 * exit code ADMIN_EXIT_USAGE.
 */
#ifndef TL_CLI_ARGS_H
#define TL_CLI_ARGS_H

#include <stdbool.h>

#include "config.h"
#include "db.h"
#include "err.h"

#define ADMIN_EXIT_USAGE     2
#define ADMIN_MAX_POSITIONAL 64
#define ADMIN_MAX_REPEATED   4096 /* e.g. --line of a credit note */

typedef struct cli_opt {
    const char *name; /* "--pool" */
    bool has_value;   /* false: a switch */
    const char *value;
    bool set;
} cli_opt;

typedef struct cli_args {
    config cfg; /* the caller's settings plus shared flags given here */
    const char *pos[ADMIN_MAX_POSITIONAL];
    int npos;
    bool help;
    const char *repeated[ADMIN_MAX_REPEATED]; /* values of the repeat option */
    int nrepeated;
} cli_args;

/* Print "twinline: <e's message>" and return 1. */
int cli_fail(const err *e);

/* Print usage and the flags every command takes; return 0 (for --help). */
int cli_help(const char *usage);

/* Connect *d to the database of a's settings: 0, or the exit code after
 * printing why not (e, which may be NULL, keeps the error). */
int cli_connect_db(const cli_args *a, db **d, err *e);

/* Print "twinline: " fmt (with what), then usage; return ADMIN_EXIT_USAGE. */
int cli_usage_error(const char *usage, const char *fmt, const char *what);

/*
 * Parse argv[first..] into a (borrowing argv's strings) and opts. repeat
 * (may be NULL) names an option that may be given several times; its
 * values go to a->repeated. Returns 0, or an exit code after printing the
 * problem.
 */
int cli_args_parse(int argc, char **argv, int first, const config *cfg,
                   cli_opt *opts, int nopts, const char *repeat,
                   const char *usage, cli_args *a);

#endif
