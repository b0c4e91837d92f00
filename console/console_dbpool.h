/*
 * A small pool of PostgreSQL connections shared by the console's request
 * threads. A request borrows one connection for its statements and gives
 * it back; a connection that failed with ST_UNAVAILABLE is reopened the
 * next time it is borrowed, so a database restart heals by itself.
 */
#ifndef TL_CONSOLE_DBPOOL_H
#define TL_CONSOLE_DBPOOL_H

#include <stdbool.h>

#include "db.h"
#include "err.h"

typedef struct console_dbpool console_dbpool;

/* Open n connections to conninfo (copied). *out owned by the caller. */
status console_dbpool_create(console_dbpool **out, const char *conninfo, int n,
                             err *e);

/* Close every connection and free; NULL is a no-op. All must be back. */
void console_dbpool_destroy(console_dbpool *p);

/*
 * Borrow a connection, waiting up to timeout_ms for a free one:
 * ST_UNAVAILABLE when none came free or it could not be reopened.
 */
status console_dbpool_get(console_dbpool *p, int timeout_ms, db **out, err *e);

/* Give d back; broken (the last statement said ST_UNAVAILABLE) marks it
 * for reopening. */
void console_dbpool_put(console_dbpool *p, db *d, bool broken);

#endif
