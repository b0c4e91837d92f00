/*
 * Command line of the interactive agent (twinline-agent --interactive),
 * parsed into plain data so tests can check every message a user sees.
 */
#ifndef TL_AGENT_TUI_OPTIONS_H
#define TL_AGENT_TUI_OPTIONS_H

#include <stdbool.h>

#include "agent_console.h"
#include "config.h"
#include "err.h"
#include "ids.h"

typedef struct agent_tui_options {
    config cfg;
    char worker[ID_MAX + 1];
    const char *kbs[AGENT_CONSOLE_KBS_MAX]; /* borrowed from argv */
    int nkbs;
    const char *model_url;      /* borrowed; NULL: no model */
    const char *model_name;     /* borrowed; may be NULL */
    const char *model_key_file; /* borrowed; may be NULL */
    int model_timeout_ms;       /* default 3000 */
    int passages;               /* default 5 */
    const char *log_file;       /* borrowed; NULL: /tmp default */
    bool takeover;              /* replace a session signed in elsewhere */
    bool help;
} agent_tui_options;

/* True when argv asks for the interactive agent (--interactive). */
bool agent_tui_options_wanted(int argc, char **argv);

/*
 * Parse argv (argv[0] is the program) over defaults from the environment.
 * ST_CONFIG with a message naming the flag on any bad input, including a
 * missing --worker (unless --help).
 */
status agent_tui_options_parse(agent_tui_options *o, int argc, char **argv,
                               err *e);

/* The --interactive --help text. */
extern const char agent_tui_options_help[];

#endif
