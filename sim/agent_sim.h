/*
 * The non-interactive agent: simulated workers that take every offer (or
 * reject a share of them), work for a handle time and complete with an
 * outcome drawn from a policy.
 *
 * Each worker has its own NATS connection with its own identity, as a real
 * worker's agent does (a worker's credentials allow only its own subjects
 * and inbox, docs/security.md): the worker's file in creds_dir, or the one
 * creds file for all (a test suite's), or none. Each connection subscribes
 * to its worker's <p>.worker.<w>.offer and .notice and to a private inbox
 * under the identity's inbox prefix. Offers, notices and replies arrive on
 * cnats's shared delivery threads; one scheduler thread keeps a min-heap
 * of due actions (heartbeats every 2 s per worker, completions after
 * handle time, request time-outs and retries; a worker's accepts and
 * completions can go out in bulk requests). Every request is published
 * with a reply subject in its worker's inbox, so no thread ever blocks on
 * the dispatcher. All state sits under one mutex.
 */
#ifndef TL_AGENT_SIM_H
#define TL_AGENT_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "agent_policy.h"
#include "agent_stats.h"
#include "assist_panel.h"
#include "err.h"

#define AGENT_SIM_HEARTBEAT_MS 2000

typedef struct agent_sim_opts {
    const char *nats;   /* NATS URL or comma-separated list; borrowed */
    const char *prefix; /* subject prefix; borrowed */
    /* Credentials: creds_dir (a directory of credentials files, one per
     * worker: nkey_dir_find(dir, "worker", w)) or else creds (one file
     * every worker connects with) or else none; borrowed, may be NULL. */
    const char *creds;
    const char *creds_dir;
    const char *const *workers; /* worker ids; copied */
    int nworkers;
    int handle_ms;              /* mean handle time; 0 completes at once */
    int jitter_pct;             /* handle time uniform in mean +- pct % */
    double reject_rate;         /* share of offers rejected, 0..1 */
    uint64_t seed;              /* random seed */
    int64_t max_tasks;          /* take at most this many tasks; 0: no limit */
    int request_timeout_ms;     /* per attempt; 0 means 3000 */
    const agent_policy *policy; /* borrowed, must outlive the sim; NULL:
                                   the billable 3 : other 1 rule */
    agent_stats *stats;         /* borrowed, must outlive the sim */
    /* AI workers (docs/agent.md, "AI workers"): each accepted task is
     * decided by agent_ai_decide on the knowledge base of its tenant and
     * completed with its confidence, instead of by the policy. A task of a
     * tenant without a kb, or one the AI cannot read, is completed with
     * the step's first non-billable outcome (else its first) and
     * confidence 0, so a person reviews it. */
    bool ai;
    const assist_kb *const *kbs; /* borrowed, must outlive the sim */
    int nkbs;
    int confidence_floor; /* 0..1000, see agent_ai.h */
    /* On-call workers among workers (borrowed, read at start): they stay
     * offline until their operator calls them up, accept every call-up
     * (and go available), and go offline when released. */
    const char *const *standby;
    int nstandby;
    /* A worker's accepts and completions that come within a millisecond
     * of each other go out together in accept_many and complete_many
     * requests of up to batch items (2..AGENT_MANY_MAX; docs/protocol.md,
     * "Bulk requests"); 0 or 1: one request each. */
    int batch;
} agent_sim_opts;

typedef struct agent_sim agent_sim;

/* Defaults: handle 1000 ms, jitter 20 %, no rejects, seed 1, no limit. */
void agent_sim_opts_init(agent_sim_opts *o);

/*
 * Connect every worker, subscribe, start the scheduler and announce the
 * workers available (retried until a dispatcher answers). Errors: ST_INVALID
 * (bad worker ids or options), ST_CONFIG (a worker without credentials in
 * creds_dir, an unusable file), ST_UNAVAILABLE (no NATS, or the server
 * refused a worker's credentials), ST_BUS, ST_NOMEM.
 */
status agent_sim_start(agent_sim **out, const agent_sim_opts *o, err *e);

/*
 * True when the run cannot go on as asked: the dispatcher refused to sign
 * a worker in because it does not know it (not registered). e (may be
 * NULL) then receives ST_NOT_FOUND with a message naming the worker and
 * what to check. The caller should stop and exit with a failure.
 */
bool agent_sim_failed(agent_sim *s, err *e);

/* True once max_tasks were taken and every one has been answered. */
bool agent_sim_done(agent_sim *s);

/*
 * Stop taking offers, finish nothing more, tell the dispatcher every worker
 * is offline (waiting up to 2 s for the replies), stop the scheduler and
 * close the connections. Calling it again is a no-op.
 */
void agent_sim_stop(agent_sim *s);

/* Stop if needed and free; NULL is a no-op. */
void agent_sim_destroy(agent_sim *s);

#endif
