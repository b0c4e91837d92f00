/*
 * The interactive agent's screen and driver (docs/agent.md, "Working
 * interactively"): one NATS connection for one worker, an ncursesw screen
 * (UTF-8, so Chinese renders), keyboard input, and the wiring of
 * agent_console (the session's state machine) to both. An optional model
 * client runs in a thread of its own so the screen never waits for it.
 *
 * Only this module sees curses.
 */
#ifndef TL_AGENT_TUI_H
#define TL_AGENT_TUI_H

#include <signal.h>

#include "agent_tui_options.h"

/* The smallest terminal the screen fits: smaller ones are refused at
 * start and, after a resize, told to grow. */
#define AGENT_TUI_MIN_COLS 100
#define AGENT_TUI_MIN_ROWS 30

/*
 * Run the screen until the person quits or SIGINT/SIGTERM (which the
 * caller has blocked; sigs lists them) arrives. Returns the process's exit
 * status: 0 after a normal end, 1 when it could not start (the reason on
 * stderr: no terminal, one smaller than AGENT_TUI_MIN_COLS x
 * AGENT_TUI_MIN_ROWS, no NATS) or ended signed out (the dispatcher
 * refused the sign-in, or another session took the worker over: the
 * reason on stderr), 2 for a bad knowledge base or model setting.
 */
int agent_tui_run(const agent_tui_options *o, const sigset_t *sigs);

#endif
