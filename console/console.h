/*
 * twinline-console: the operators' and banks' HTTP front (docs/http.md).
 *
 * A program of its own beside the dispatcher: it serves the JSON API and
 * the dashboard on libmicrohttpd, reads figures from PostgreSQL, forwards
 * banks' requests and operators' actions to the dispatcher over NATS, and
 * keeps its own state (keys, interval history, webhooks, alerts) in the
 * console_* tables. Background work (the interval rollup, presence
 * samples, alerts, webhook deliveries) runs in the one console that holds
 * a PostgreSQL advisory lock, so several consoles can serve behind a load
 * balancer without counting anything twice.
 */
#ifndef TL_CONSOLE_H
#define TL_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "console_opts.h"
#include "err.h"

typedef struct console console;

void console_opts_default(console_opts *o);

/*
 * Connect to PostgreSQL and NATS (cfg copied), start listening and the
 * background threads. The database must be migrated. *out is owned by the
 * caller (console_destroy).
 */
status console_create(console **out, const config *cfg, const console_opts *o,
                      err *e);

/* The port the console listens on. */
int console_port(const console *c);

/* Block until console_stop(). */
void console_run(console *c);

/* Ask console_run to return; safe from any thread. */
void console_stop(console *c);

/* Stop serving, join threads, close connections; NULL is a no-op. */
void console_destroy(console *c);

/*
 * The API's routes: writes up to cap methods and path patterns (a {}
 * segment stands for one path parameter) and returns how many there are.
 * For the test that keeps docs/openapi.json true to the code.
 */
int console_routes(const char **methods, const char **patterns, int cap);

#endif
