/*
 * The command line of twinline-console: serve (the default), and key
 * create|list|revoke. In the library so that tests run the very commands
 * an operator types.
 */
#ifndef TL_CONSOLE_CLI_H
#define TL_CONSOLE_CLI_H

#include <stdio.h>

/*
 * Run the command in argv (argv[0] is the program). Output goes to out,
 * errors to errs. Returns the exit status: 0 done, 1 failed, 2 usage.
 * `serve` blocks until SIGINT or SIGTERM.
 */
int console_cli_main(int argc, char **argv, FILE *out, FILE *errs);

#endif
