/*
 * `twinline stats`: live figures per queue and per worker from PostgreSQL
 * (dispatcher/stats.h computes them; the dispatcher publishes the same JSON
 * on <prefix>.stats.dispatcher).
 */
#ifndef TL_CMD_STATS_H
#define TL_CMD_STATS_H

#include "config.h"

/* The `stats` command; argv[0] is "stats". Returns the exit code. */
int cmd_stats(int argc, char **argv, const config *cfg);

#endif
