/*
 * The `twinline` command line: a table of commands, shared flags, --help
 * screens and exit codes (0 success, 1 failure, 2 usage error). Each command
 * parses its own arguments (argv[0] is the command name) and may take the
 * shared --db/--nats/--prefix flags anywhere; cfg holds the environment's
 * settings and any shared flags given before the command.
 */
#ifndef TL_CLI_H
#define TL_CLI_H

#include "config.h"

typedef int (*cli_cmd_fn)(int argc, char **argv, const config *cfg);

typedef struct cli_command {
    const char *name;    /* "load" */
    const char *summary; /* one line for `twinline --help` */
    cli_cmd_fn run;
} cli_command;

/* Run the command named by argv; returns the process exit code. */
int cli_main(int argc, char **argv, const cli_command *cmds, int ncmds);

/*
 * Run the subcommand argv[1] of a command (subs[i].name; summary unused)
 * with the whole argv; no subcommand or --help prints usage (exit 2 and 0),
 * an unknown one is a usage error naming it.
 */
int cli_subcommand(int argc, char **argv, const config *cfg,
                   const cli_command *subs, int nsubs, const char *usage);

int cmd_migrate(int argc, char **argv, const config *cfg);
int cmd_load(int argc, char **argv, const config *cfg);
int cmd_tenant(int argc, char **argv, const config *cfg);
int cmd_worker(int argc, char **argv, const config *cfg);
int cmd_playbook(int argc, char **argv, const config *cfg);
int cmd_case(int argc, char **argv, const config *cfg);
int cmd_bill(int argc, char **argv, const config *cfg);
int cmd_report(int argc, char **argv, const config *cfg);

#endif
