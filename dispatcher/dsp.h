/*
 * The dispatcher's shared state (struct dispatcher) and the shape of a
 * request handler; not a public header. It declares no functions: each
 * module of the dispatcher has its own header, and the modules include
 * only those below them (docs/architecture.md, "The dispatcher's files").
 */
#ifndef TL_DSP_H
#define TL_DSP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "auditlog.h"
#include "bus.h"
#include "config.h"
#include "db.h"
#include "dispatcher_opts.h"
#include "keystore.h"
#include "playbook.h"
#include "router.h"
#include "strtab.h"

/* As dispatcher.h names it for the program that runs the dispatcher. */
typedef struct dispatcher dispatcher;
typedef struct dsp_outq dsp_outq;             /* outq.h */
typedef struct dsp_violations dsp_violations; /* violations.h */
typedef struct dsp_intake dsp_intake;         /* intake.h */
typedef struct dsp_part dsp_part;             /* partition.h */

#define DSP_MATCH_MAX 1024 /* routing decisions per batch */

/* One request of a batch: the message and the party its subject names
 * (the tenant of a bank request, the worker of an agent request, the
 * operator of an operator's; "" for an admin notice). An item of a bulk
 * request (bulk.h) is a request of its own: its body is data (len bytes)
 * and item is its place in m's list, from 1; a request sent alone has
 * item 0 and data NULL (its body is m's). */
typedef struct dsp_req {
    const bus_msg *m;
    char party[ID_MAX + 1];
    const char *data;
    size_t len;
    int item;
} dsp_req;

/* Latest playbook version of (tenant, case type), cached briefly. */
typedef struct latest_version {
    char tenant[ID_MAX + 1];
    char case_type[ID_MAX + 1];
    int version;
    int64_t checked_us;
} latest_version;

typedef struct worker_info {
    int pool;       /* interned in pools */
    bool available; /* as stored in workers.presence */
} worker_info;

/* Routing settings of a pool (pool_routing), by pool index. */
typedef struct pool_info {
    bool has_weights;
    router_weights weights;
    int64_t wrapup_us;
} pool_info;

/* The tables the dispatcher writes as work flows: their statistics are
 * refreshed as they grow (db_analyze_growing, by the relay thread). */
#define DSP_TABLES                                                             \
    "cases, tasks, reservations, outcomes, outbox, routing_decisions,"         \
    " case_disputes, assist_feedback"

/* The stages of a batch (dispatcher.c, run_batch). */
enum {
    DSP_STAGE_REQUESTS, /* the handlers of the route table */
    DSP_STAGE_TIMERS,   /* offer, lease, handle and wrap-up expiries */
    DSP_STAGE_ROUTING,  /* dsp_route_and_offer */
    DSP_STAGE_AUDIT,    /* the audit append */
    DSP_STAGE_COMMIT,   /* COMMIT, its fsync included */
    DSP_STAGE_SEND,     /* the replies and offers handed to NATS */
    DSP_STAGES
};

struct dispatcher {
    config cfg;
    dispatcher_opts opts;
    db *db;
    bus *bus;
    router *router;
    router_explain *explain; /* DSP_MATCH_MAX, for router_match_explained */
    keystore *keys; /* seals and opens customer data (cases.personal) */

    strtab *tenants; /* interned ids the router uses */
    strtab *pools;
    strtab *case_types;
    strtab *skills;
    strtab *workers;
    strtab *licences;   /* licence codes; the router's code is index + 1 */
    strtab *consumers;  /* tenants whose events consumer exists */
    worker_info *winfo; /* by worker index */
    int cap_winfo;
    pool_info *pinfo; /* by pool index */
    int cap_pinfo;

    playbook **playbooks;
    int nplaybooks;
    int cap_playbooks;
    latest_version *latest;
    int nlatest;
    int cap_latest;

    dsp_intake *intake; /* requests waiting for the loop (intake.h) */
    atomic_bool stopping;

    dsp_outq *out;         /* replies, offers, notices: sent after commit */
    dsp_part *part;        /* partitions owned, leases, parked requests */
    auditlog_batch *audit; /* the batch's audit records: appended with one
                              statement just before its commit */
    bool events_written;   /* the batch wrote outbox rows */
    dsp_req *reqs;         /* a batch's requests grouped by route */
    bool need_rebuild;
    int64_t next_tick_us;
    int64_t next_contracts_us;
    int64_t next_stats_us;

    dsp_violations *violations; /* following nats-server's log, or NULL */

    pthread_t outbox_thread;
    bool outbox_running;
    atomic_bool relay_lead; /* this dispatcher's relay publishes the outbox
                               (one relay among several dispatchers, so
                               events keep their order; partition.h) */
    atomic_llong msgs_seen; /* stat_msgs, for the relay thread's ANALYZE */
    pthread_mutex_t obx_lock;
    pthread_cond_t obx_cond;
    bool obx_kick;

    uint64_t stat_msgs;
    uint64_t stat_batches;
    /* Where the committed batches' time went, summed (microseconds;
     * logged every 10 s and at the stop, docs/performance.md "Time per
     * batch stage"), and the whole of every busy loop: the stages, the
     * lease round, ANALYZE and the rest. */
    int64_t stage_us[DSP_STAGES];
    int64_t busy_us;
    int max_batch;
    uint64_t stat_offers;
    uint64_t stat_completed;
    uint64_t stat_cases;
};

/*
 * A handler answers every request of one kind in a batch, reqs[0..n) in
 * arrival order, inside the batch's transaction: a single request is a
 * batch of one. A request that fails on its own gets its error reply
 * queued (dsp_outq_fail) and changes nothing; the handler returns
 * something other than ST_OK only for a failure of the infrastructure,
 * and the batch is then rolled back and its requests retried one by one.
 */
typedef status (*dsp_handler)(dispatcher *d, const dsp_req *reqs, int n,
                              err *e);

#endif
