/*
 * The matching engine: a pure in-memory library (no I/O, no third-party
 * types) that the dispatcher feeds with events and asks for assignments.
 * The dispatcher persists each decision and rebuilds the router from
 * PostgreSQL on start, so nothing here is the source of truth.
 *
 * Tenants, pools, case types, skills and licence codes are small integers
 * interned by the caller; workers are dense indexes 0..n chosen by the
 * caller. Times are microseconds on the caller's clock (the dispatcher uses
 * the wall clock); licence expiry is a day number (days since 1970-01-01,
 * UTC) compared with the day of the decision's now_us.
 *
 * Rules (docs/routing.md explains each with examples):
 *  - eligible (hard): a contract between the task's tenant and the worker's
 *    pool for the case type (or the pool is the overflow pool of the task's
 *    current ring); an AI worker only for a step whose ai_auto is set; every
 * required skill at the minimum level (the AI-assisted level counts when the
 * step, or its current ring, allows assist); the required licence held and
 * valid on the decision day; presence available and not in wrap-up; a free slot
 * on the task's channel (a worker whose voice_blocks is set takes nothing else
 * while on a voice task); not rejected or timed out on this task before;
 *  - ranking (soft): the worker who handled the case's previous task first
 *    while eligible (one contact, no transfer), then the highest weighted
 *    score: skill fit, idle time, occupancy, quality, expected cost per
 *    verified result and fairness, weighted per pool (router_weights);
 *  - order: effective priority (task + tenant + ring boost) first, then the
 *    earliest SLA deadline, then the longest waiting;
 *  - relaxation: rings widen eligibility as a task waits; past its TTL a
 *    pending task leaves the router through router_expired();
 *  - batch: when many tasks and workers are free at once, the most urgent
 *    tasks are assigned together to maximise the total score.
 *
 * Not thread-safe: one router per dispatcher thread.
 */
#ifndef TL_ROUTER_H
#define TL_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum { ROUTER_VOICE, ROUTER_CHAT, ROUTER_BACKOFFICE, ROUTER_CHANNELS };

#define ROUTER_WORKER_SKILLS   32
#define ROUTER_TASK_SKILLS     8
#define ROUTER_WORKER_LICENCES 8
#define ROUTER_RINGS           4
#define ROUTER_EXPLAIN_TOP     8
#define ROUTER_BROADCAST_MAX   5 /* workers one task is offered to at once */

/* Presence a worker reports; busy and wrap-up are derived by the router. */
typedef enum router_presence {
    ROUTER_OFFLINE,
    ROUTER_AVAILABLE,
    ROUTER_BREAK
} router_presence;

/* The state router_worker_stats reports. */
typedef enum router_wstate {
    ROUTER_WS_OFFLINE,
    ROUTER_WS_BREAK,
    ROUTER_WS_WRAPUP,
    ROUTER_WS_BUSY, /* no free slot on any channel */
    ROUTER_WS_AVAILABLE
} router_wstate;

typedef struct router router;

typedef struct router_skill {
    int skill;
    int level;    /* the worker's own level, or the task's minimum */
    int ai_level; /* worker only: level with the AI skill pack */
} router_skill;

typedef struct router_licence {
    int code;        /* > 0 */
    int expires_day; /* valid through this day; 0: never expires */
} router_licence;

typedef struct router_worker_def {
    int pool;
    int nskills;
    router_skill skills[ROUTER_WORKER_SKILLS];
    int capacity[ROUTER_CHANNELS];
    /* Fields below were added by issue 3; zero keeps the old behaviour. */
    int nlicences;
    router_licence licences[ROUTER_WORKER_LICENCES];
    bool voice_blocks;     /* a voice task blocks the other channels */
    int64_t wrapup_us;     /* no new work this long after a completion */
    int quality_permille;  /* 0..1000, higher is better */
    int verified_permille; /* share of results verified; 0 means 1000 */
    bool ai;               /* an AI worker: only steps with ai_auto */
} router_worker_def;

/*
 * A relaxation ring: from after_us of waiting (since ready_us) on, the
 * task's eligibility is that of the ring. Rings are given in increasing
 * after_us; each states its relaxation in full (not added to the previous).
 */
typedef struct router_ring {
    int64_t after_us;
    int lower_by;  /* minimum levels lowered by this much */
    bool assist;   /* AI-assisted levels count even if the step forbids */
    bool overflow; /* workers of overflow_pool qualify without contract */
    int overflow_pool;
    int priority_boost; /* added to the task's priority (aging) */
} router_ring;

typedef struct router_task_def {
    int64_t id;
    int64_t case_id;
    int tenant;
    int case_type;
    int channel;
    int priority;
    int64_t ready_us; /* when it became ready; earlier waits longer */
    bool assist;      /* the step lets AI assist count toward skill */
    int nskills;
    router_skill skills[ROUTER_TASK_SKILLS];
    /* Fields below were added by issue 3; zero keeps the old behaviour. */
    int licence;         /* licence code required, 0: none */
    int64_t deadline_us; /* SLA deadline, 0: none */
    int64_t ttl_us;      /* pending longer than this since ready: expired */
    int nrings;
    router_ring rings[ROUTER_RINGS];
    bool ai_auto; /* AI workers may take it (playbook ai: auto) */
    /* Offered to up to this many eligible workers at once (the best by
     * ranking); 0 or 1: one at a time. At most ROUTER_BROADCAST_MAX. */
    int broadcast;
} router_task_def;

typedef struct router_assignment {
    int64_t task_id;
    int worker;
    bool affinity; /* chosen because it handled the case before */
} router_assignment;

/*
 * Ranking weights of one pool. Each score component is an integer; the
 * total is their sum and the highest total wins. Components:
 *  fit       -fit * sum over required skills of (level - minimum)
 *  occupancy -occupancy * load per mille of capacity
 *  quality   quality * quality_permille
 *  cost      -cost * expected cost per verified result (minor units)
 *  fairness  fairness * min(fairness_cap, pool mean assignments - own)
 * and idle, router-wide (router_config.idle_per_s) so that the order of
 * workers never changes with the mere passing of time:
 *  idle      idle_per_s * whole seconds since the worker was last free
 */
typedef struct router_weights {
    int64_t fit;
    int64_t occupancy;
    int64_t quality;
    int64_t cost;
    int64_t fairness;
    int64_t fairness_cap;
} router_weights;

enum {
    ROUTER_PART_FIT,
    ROUTER_PART_IDLE,
    ROUTER_PART_OCCUPANCY,
    ROUTER_PART_QUALITY,
    ROUTER_PART_COST,
    ROUTER_PART_FAIRNESS,
    ROUTER_PARTS
};

typedef struct router_config {
    int64_t idle_per_s;     /* idle weight; default 1 */
    int batch_min;          /* batch when at least this many tasks and free
                               workers wait; 0 turns batching off (default) */
    int batch_max;          /* most tasks (and workers) in one batch; 1000 */
    int explore;            /* most free workers examined per decision; 64 */
    router_weights weights; /* for pools without weights of their own */
    bool no_affinity;       /* ignore case affinity (A/B comparisons) */
} router_config;

/* The rule that decided an assignment. */
typedef enum router_rule {
    ROUTER_RULE_AFFINITY, /* the worker handled the case before */
    ROUTER_RULE_BEST,     /* highest score among eligible workers */
    ROUTER_RULE_ONLY,     /* the only eligible worker */
    ROUTER_RULE_RING,     /* eligible only through the task's ring */
    ROUTER_RULE_BATCH     /* part of the batch's optimal assignment */
} router_rule;

/* Hard rules, in the order they are checked; a worker counts once. */
enum {
    ROUTER_F_SKILL,
    ROUTER_F_CONTRACT,
    ROUTER_F_LICENCE,
    ROUTER_F_PRESENCE,
    ROUTER_F_WRAPUP,
    ROUTER_F_CAPACITY,
    ROUTER_F_EXCLUDED,
    ROUTER_F_KIND, /* an AI worker and a step not ai_auto; checked first */
    ROUTER_FILTERS
};

typedef struct router_candidate {
    int worker;
    int64_t score;
    int64_t parts[ROUTER_PARTS];
} router_candidate;

/*
 * Why a task went to a worker. candidates holds the best eligible workers
 * examined (at most ROUTER_EXPLAIN_TOP, best first, the chosen one among
 * them); filtered counts the workers each hard rule removed (excluded and
 * expired licences among the workers examined only).
 */
typedef struct router_explain {
    int64_t task_id;
    int worker;
    router_rule rule;
    int ring; /* 0: the task's own requirements */
    router_ring ring_def;
    int64_t waited_us;
    int priority; /* effective */
    int examined;
    int ncandidates;
    router_candidate candidates[ROUTER_EXPLAIN_TOP];
    int filtered[ROUTER_FILTERS];
} router_explain;

typedef enum router_expiry_reason {
    ROUTER_EXPIRED_TTL /* waited past its TTL (and so past its last ring) */
} router_expiry_reason;

typedef struct router_expiry {
    int64_t task_id;
    router_expiry_reason reason;
    int ring;
    int64_t waited_us;
} router_expiry;

typedef struct router_queue_stats {
    int tenant;
    int case_type;
    int channel;
    int ring;    /* the ring whose requirements the queue has */
    int waiting; /* pending tasks */
    int64_t oldest_wait_us;
    int free_workers; /* eligible workers with a free slot now */
} router_queue_stats;

typedef struct router_worker_stats {
    router_wstate state;
    int load[ROUTER_CHANNELS];
    int occupancy_permille;
    int64_t idle_us;  /* since the worker was last without work */
    int64_t assigned; /* assignments counted for fairness */
} router_worker_stats;

status router_create(router **out, err *e);
void router_destroy(router *r);

/* Forget everything (before a rebuild from the database). Keeps config,
 * pool weights and tenant priorities. */
void router_clear(router *r);

/* The defaults router_create starts with. */
void router_config_default(router_config *c);
/* Replace the configuration; errors on nonsense values. */
status router_config_set(router *r, const router_config *c, err *e);

/* Ranking weights for the workers of pool (replacing the default). */
status router_pool_weights_set(router *r, int pool, const router_weights *w,
                               err *e);

/* Priority added to every task of tenant. */
status router_tenant_priority_set(router *r, int tenant, int priority, err *e);

/* Define or redefine worker w (index >= 0). New workers start unavailable. */
status router_worker_set(router *r, int w, const router_worker_def *d, err *e);

/* Presence: only available workers get work. now_us starts an idle spell. */
void router_worker_available(router *r, int w, bool available, int64_t now_us);
void router_worker_presence(router *r, int w, router_presence p,
                            int64_t now_us);

/* Allow tasks of (tenant, case_type) to go to workers of pool. */
status router_contract_add(router *r, int tenant, int pool, int case_type,
                           err *e);

/* The price per result in that contract (minor units), for the cost term;
 * adds the contract when missing. */
status router_contract_price_set(router *r, int tenant, int pool, int case_type,
                                 int64_t price_minor, err *e);

/*
 * Add an open task. holder < 0: pending (waiting for a worker); otherwise it
 * is already held by worker `holder` (offered or accepted), which takes one
 * slot of its channel.
 */
status router_task_add(router *r, const router_task_def *d, int holder, err *e);

/*
 * The task is also offered to worker w (a broadcast offer pending with
 * several workers, when the dispatcher rebuilds): w takes a slot. A pending
 * task becomes held. ST_NOT_FOUND for an unknown task, ST_INVALID when it is
 * already held by ROUTER_BROADCAST_MAX workers.
 */
status router_task_hold(router *r, int64_t task_id, int w, err *e);

/*
 * Worker w accepted the task: it is the only holder from now on; every
 * other worker the task was offered to gets its slot back.
 */
void router_task_accept(router *r, int64_t task_id, int w, int64_t now_us);

/*
 * Worker w no longer holds the task (its offer was rejected, timed out or
 * rescinded): its slot is freed. When nobody holds the task any more it is
 * pending again. A worker that does not hold the task changes nothing.
 */
void router_task_release(router *r, int64_t task_id, int w, int64_t now_us);

/* Never offer task to worker w again (rejected, timed out). */
status router_task_exclude(router *r, int64_t task_id, int w, err *e);

/* Every holder lost the task (reject, timeout, lease): pending again. */
void router_task_requeue(router *r, int64_t task_id, int64_t now_us);

/* Completed: free the slot, start the holder's wrap-up and remember the
 * holder for the case. */
void router_task_done(router *r, int64_t task_id, int64_t now_us);

/*
 * Completed with a wrap-up to follow (the dispatcher's task is `wrapping`):
 * as router_task_done, but the task keeps its holder's slot until
 * router_task_wrapped() says the wrap-up is over. now_us is when the task
 * was completed (the holder's wrap-up runs from then).
 */
void router_task_wrapping(router *r, int64_t task_id, int64_t now_us);
/* The wrap-up of a wrapping task ended: free the slot, forget the task. */
void router_task_wrapped(router *r, int64_t task_id, int64_t now_us);

/* Canceled or otherwise gone: free the slot, forget the task. */
void router_task_remove(router *r, int64_t task_id, int64_t now_us);

/* An operator changed a task's priority. ST_NOT_FOUND when unknown. */
status router_task_set_priority(router *r, int64_t task_id, int priority,
                                err *e);

/* The worker who last handled case_id (for affinity), or forget it. */
status router_affinity_set(router *r, int64_t case_id, int w, err *e);
void router_case_forget(router *r, int64_t case_id);

/*
 * Assign pending tasks to eligible workers, at most max, most urgent first.
 * Each assignment takes a slot and makes the task held; returns how many
 * were written to out. A broadcast task (router_task_def.broadcast > 1)
 * yields up to that many assignments, one per worker, best first and
 * adjacent in out. router_match_explained also fills why[i] for out[i]
 * (why may be NULL).
 */
int router_match(router *r, int64_t now_us, router_assignment *out, int max);
int router_match_explained(router *r, int64_t now_us, router_assignment *out,
                           router_explain *why, int max);

/*
 * Pending tasks past their TTL at now_us, at most max into out. The router
 * forgets them; the caller cancels them with the reason. Returns the count.
 */
int router_expired(router *r, int64_t now_us, router_expiry *out, int max);

/* Halve every worker's assignment count (call e.g. hourly) so fairness
 * looks at recent work. */
void router_fairness_decay(router *r);

/*
 * Render an explanation in plain words into buf (always terminated).
 * Returns the length it needed, like snprintf.
 */
int router_explain_render(const router_explain *x, char *buf, size_t len);
const char *router_rule_name(router_rule rule);
const char *router_filter_name(int filter);
const char *router_part_name(int part);

int router_pending_count(const router *r);
int router_task_count(const router *r);
int router_worker_load(const router *r, int w, int channel);

/* Holder of a task, or -1 when pending or unknown. */
int router_task_holder(const router *r, int64_t task_id);
/* Every worker holding the task (at most max into out); returns how many
 * hold it (0 when pending or unknown). */
int router_task_holders(const router *r, int64_t task_id, int *out, int max);

/* Could worker w take the open task now: every hard rule (contract,
 * skills, licence, presence, wrap-up, a free slot, not excluded) and not
 * holding it already? False for an unknown task or worker. */
bool router_task_fits(const router *r, int64_t task_id, int w, int64_t now_us);

/* Live figures: queues are numbered 0..router_queue_count()-1. */
int router_queue_count(const router *r);
status router_queue_stats_get(const router *r, int q, int64_t now_us,
                              router_queue_stats *out, err *e);
status router_worker_stats_get(const router *r, int w, int64_t now_us,
                               router_worker_stats *out, err *e);

/* Bytes the router holds (for the benchmark's memory figures). */
size_t router_memory(const router *r);

#endif
