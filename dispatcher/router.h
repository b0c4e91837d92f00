/*
 * The matching engine: a pure in-memory library (no I/O, no third-party
 * types) that the dispatcher feeds with events and asks for assignments.
 * The dispatcher persists each decision and rebuilds the router from
 * PostgreSQL on start, so nothing here is the source of truth.
 *
 * Tenants, pools, case types and skills are small integers interned by the
 * caller; workers are dense indexes 0..n chosen by the caller.
 *
 * Rules of the walking skeleton (issue 3 widens them):
 *  - eligible: worker available; a contract between the task's tenant and
 *    the worker's pool for the case type; a free slot on the task's channel;
 *    every required skill at the minimum level (the AI-assisted level counts
 *    when the step allows assist); the worker has not rejected or let an
 *    offer of this task time out;
 *  - ranking: the worker who handled the case's previous task first (one
 *    contact, no transfer), then the lowest occupancy, then the longest idle;
 *  - order: higher priority first, then the longest waiting.
 */
#ifndef TL_ROUTER_H
#define TL_ROUTER_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

enum { ROUTER_VOICE, ROUTER_CHAT, ROUTER_BACKOFFICE, ROUTER_CHANNELS };

#define ROUTER_WORKER_SKILLS 32
#define ROUTER_TASK_SKILLS   8

typedef struct router router;

typedef struct router_skill {
    int skill;
    int level;    /* the worker's own level, or the task's minimum */
    int ai_level; /* worker only: level with the AI skill pack */
} router_skill;

typedef struct router_worker_def {
    int pool;
    int nskills;
    router_skill skills[ROUTER_WORKER_SKILLS];
    int capacity[ROUTER_CHANNELS];
} router_worker_def;

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
} router_task_def;

typedef struct router_assignment {
    int64_t task_id;
    int worker;
    bool affinity; /* chosen because it handled the case before */
} router_assignment;

status router_create(router **out, err *e);
void router_destroy(router *r);

/* Forget everything (before a rebuild from the database). */
void router_clear(router *r);

/* Define or redefine worker w (index >= 0). New workers start unavailable. */
status router_worker_set(router *r, int w, const router_worker_def *d, err *e);

/* Presence: only available workers get work. now_us starts an idle spell. */
void router_worker_available(router *r, int w, bool available, int64_t now_us);

/* Allow tasks of (tenant, case_type) to go to workers of pool. */
status router_contract_add(router *r, int tenant, int pool, int case_type,
                           err *e);

/*
 * Add an open task. holder < 0: pending (waiting for a worker); otherwise it
 * is already held by worker `holder` (offered or accepted), which takes one
 * slot of its channel.
 */
status router_task_add(router *r, const router_task_def *d, int holder, err *e);

/* Never offer task to worker w again (rejected, timed out). */
status router_task_exclude(router *r, int64_t task_id, int w, err *e);

/* The holder lost the task (reject, timeout, lease): pending again. */
void router_task_requeue(router *r, int64_t task_id, int64_t now_us);

/* Completed: free the slot and remember the holder for the case. */
void router_task_done(router *r, int64_t task_id, int64_t now_us);

/* Canceled or otherwise gone: free the slot, forget the task. */
void router_task_remove(router *r, int64_t task_id, int64_t now_us);

/* The worker who last handled case_id (for affinity), or forget it. */
status router_affinity_set(router *r, int64_t case_id, int w, err *e);
void router_case_forget(router *r, int64_t case_id);

/*
 * Assign pending tasks to eligible workers, at most max, best first.
 * Each assignment takes a slot and makes the task held; returns how many
 * were written to out.
 */
int router_match(router *r, int64_t now_us, router_assignment *out, int max);

int router_pending_count(const router *r);
int router_task_count(const router *r);
int router_worker_load(const router *r, int w, int channel);

/* Holder of a task, or -1 when pending or unknown. */
int router_task_holder(const router *r, int64_t task_id);

#endif
