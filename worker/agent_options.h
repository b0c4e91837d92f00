/*
 * Command line of twinline-agent (non-interactive mode), parsed into plain
 * data so tests can check every message a user sees.
 */
#ifndef TL_AGENT_OPTIONS_H
#define TL_AGENT_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "err.h"

#define AGENT_MAX_WORKERS 10000
#define AGENT_MAX_KBS     16

typedef struct agent_options {
    config cfg;
    char **workers; /* owned; each a valid identifier */
    int nworkers;
    int handle_ms;
    int jitter_pct;
    double reject_rate;
    const char *policy_path; /* borrowed from argv, or NULL */
    const char *stats_path;  /* borrowed from argv, or NULL */
    int64_t duration_s;      /* 0: run until a signal */
    int64_t max_tasks;       /* 0: no limit */
    uint64_t seed;
    bool ai;                        /* --ai: AI workers (agent_ai.h) */
    const char *kbs[AGENT_MAX_KBS]; /* --kb folders, borrowed from argv */
    int nkbs;
    int confidence_floor; /* --confidence-floor, 0..1000 */
    /* --standby LIST: on-call workers, run too (in workers from
     * standby_from on) but offline until called up. */
    int standby_from;
    int nstandby;
    int batch; /* --batch; -1: the default (agent_sim_opts.batch) */
    bool help;
} agent_options;

/*
 * Parse argv (argv[0] is the program) over defaults from the environment.
 * ST_CONFIG with a message naming the flag on any bad input, including an
 * absent worker list (unless --help). Free with agent_options_free even on
 * failure.
 */
status agent_options_parse(agent_options *o, int argc, char **argv, err *e);

void agent_options_free(agent_options *o);

/* The --help text. */
extern const char agent_options_help[];

#endif
