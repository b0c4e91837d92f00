/* Internals shared by the dispatcher's modules; not a public header. */
#ifndef TL_DISPATCHER_INT_H
#define TL_DISPATCHER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "db.h"
#include "dispatcher.h"
#include "jsonx.h"
#include "playbook.h"
#include "router.h"
#include "strtab.h"

/* The playbook codec (contracts/playbook.h) bounds what a step may ask of
 * the router; a step that loads must fit in a router task. */
_Static_assert((int)PB_CHANNELS == (int)ROUTER_CHANNELS &&
                   (int)PB_VOICE == (int)ROUTER_VOICE &&
                   (int)PB_CHAT == (int)ROUTER_CHAT &&
                   (int)PB_BACKOFFICE == (int)ROUTER_BACKOFFICE,
               "playbook and router channels differ");
_Static_assert(PB_MAX_SKILLS <= ROUTER_TASK_SKILLS,
               "a step may need more skills than a router task holds");
_Static_assert(PB_MAX_RINGS <= ROUTER_RINGS,
               "a step may have more rings than a router task holds");
_Static_assert(PB_MAX_BROADCAST <= ROUTER_BROADCAST_MAX,
               "a step may be broadcast wider than the router offers");

#define DSP_CASE_MAX_BYTES  (64 * 1024)
#define DSP_AGENT_MAX_BYTES (16 * 1024)
#define DSP_MATCH_MAX       1024 /* routing decisions per batch */

/* A message to publish once the batch's transaction has committed. */
typedef struct outmsg {
    char *subject;
    char *body;
    size_t len;
} outmsg;

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

struct dispatcher {
    config cfg;
    dispatcher_opts opts;
    db *db;
    bus *bus;
    router *router;
    router_explain *explain; /* DSP_MATCH_MAX, for router_match_explained */

    strtab *tenants; /* interned ids the router uses */
    strtab *pools;
    strtab *case_types;
    strtab *skills;
    strtab *workers;
    strtab *licences;   /* licence codes; the router's code is index + 1 */
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

    pthread_mutex_t qlock;
    pthread_cond_t qcond;
    bus_msg **queue;
    int qhead;
    int qlen;
    int qcap;
    atomic_bool stopping;

    outmsg *out;
    int nout;
    int cap_out;
    bool events_written;
    char (*heartbeats)[ID_MAX + 1];
    bus_msg **acc_msgs; /* accepts and completes of the batch */
    bus_msg **comp_msgs;
    char (*acc_workers)[ID_MAX + 1];
    char (*comp_workers)[ID_MAX + 1];
    int nheartbeats;
    int cap_heartbeats;
    bool need_rebuild;
    int64_t next_tick_us;
    int64_t next_contracts_us;
    int64_t next_analyze; /* db_analyze_growing over stat_msgs */
    int64_t next_stats_us;

    pthread_t outbox_thread;
    bool outbox_running;
    pthread_mutex_t obx_lock;
    pthread_cond_t obx_cond;
    bool obx_kick;

    uint64_t stat_msgs;
    uint64_t stat_batches;
    uint64_t stat_offers;
    uint64_t stat_completed;
    uint64_t stat_cases;
};

/* Is s a failure of infrastructure (roll the batch back) rather than of the
 * request (reply with the error and go on)? */
bool dsp_infra_failure(status s);

/* Queue a message for after commit (copies subject and takes body). */
status dsp_send(dispatcher *d, const char *subject, char *body, err *e);

/* Reply ok body to m after commit. */
status dsp_reply(dispatcher *d, const bus_msg *m, char *body, err *e);

/* Subject "<prefix>.<rest>" into buf. */
void dsp_subject(const dispatcher *d, char *buf, size_t cap, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));

/* state.c: (re)load routing state from the database. */
status dsp_rebuild(dispatcher *d, err *e);
status dsp_refresh_contracts(dispatcher *d, err *e);
/*
 * Self-check against the database: tasks pending there for more than 15 s
 * that the router does not hold as pending are put back (a divergence is a
 * bug; it is logged, and healed rather than left to starve the task).
 * *fixed receives how many were put back.
 */
status dsp_reconcile(dispatcher *d, int *fixed, err *e);
/* Index of worker id in the router, loading it from the database if new. */
status dsp_worker_index(dispatcher *d, const char *worker_id, int *out, err *e);
/* The cached playbook (tenant, case type, version), loading it on a miss. */
status dsp_playbook(dispatcher *d, const char *tenant, const char *case_type,
                    int version, const playbook **out, err *e);
/* Latest playbook version for a new case; ST_UNKNOWN_TENANT or
 * ST_UNKNOWN_CASE_TYPE when there is none. */
status dsp_latest_version(dispatcher *d, const char *tenant,
                          const char *case_type, int *out, err *e);
/* Make a router task from a step of pb and add it. */
status dsp_route_task(dispatcher *d, const playbook *pb, int step,
                      int64_t task_id, int64_t case_id, int priority,
                      int64_t ready_us, int holder, err *e);

/* case_api.c */
status dsp_case_submit(dispatcher *d, const char *tenant, const bus_msg *m,
                       err *e);
status dsp_case_get(dispatcher *d, const char *tenant, const bus_msg *m,
                    err *e);
status dsp_case_reopen(dispatcher *d, const char *tenant, const bus_msg *m,
                       err *e);
status dsp_case_complaint(dispatcher *d, const char *tenant, const bus_msg *m,
                          err *e);

/* worker_api.c */
status dsp_presence(dispatcher *d, const char *worker, const bus_msg *m,
                    err *e);
status dsp_heartbeat(dispatcher *d, const char *worker, const bus_msg *m,
                     err *e);
status dsp_heartbeats_flush(dispatcher *d, err *e);
status dsp_accept(dispatcher *d, const char *worker, const bus_msg *m, err *e);
status dsp_reject(dispatcher *d, const char *worker, const bus_msg *m, err *e);
status dsp_complete(dispatcher *d, const char *worker, const bus_msg *m,
                    err *e);

/* A decoded accept/reject/complete request. */
typedef struct dsp_answer {
    json_t *root; /* owned */
    int64_t res_id;
    int64_t epoch;
    char rbuf[24]; /* res_id and epoch as text, for parameters */
    char ebuf[24];
} dsp_answer;

/* Field tables of the worker requests (worker_api.c). */
extern const jfield dsp_answer_fields[];
extern const jfield dsp_complete_fields[];
extern const jfield dsp_outcome_fields[];

/* After an accept statement: rows ('accepted', task id, '') then
 * ('rescinded', reservation id, worker) for the other offers of a
 * broadcast. Tells the router who holds the task and queues the rescind
 * notices. */
status dsp_accepted(dispatcher *d, const char *worker, const db_res *r, err *e);
status dsp_answer_decode(const bus_msg *m, const jfield *f, int nf,
                         dsp_answer *a, err *e);
/* Why did a fenced write match nothing? Row `row` of r (-1: none) is the
 * reservation lookup (worker, epoch, state first). Sets e and returns the
 * client error. */
status dsp_diagnose(const db_res *r, int row, const char *worker,
                    int64_t res_id, int64_t epoch, err *e);
char *dsp_complete_body(int64_t outcome_id, bool billable, bool dup);

/* Reservation details (worker, epoch, state, task, case, step, tenant,
 * case type, version, priority, outcome id, billable, reservation id) and
 * the task as the accepting worker sees it (reservation id, JSON), for the
 * reservations in ids (a PostgreSQL array literal "{1,2}"). */
status dsp_lookup_reservations(dispatcher *d, const char *ids, db_res **out,
                               err *e);
status dsp_task_views(dispatcher *d, const char *ids, db_res **out, err *e);

/* batch_api.c: accepts and completes of one batch, a few statements for
 * all of them. workers[i] is the worker of msgs[i] (from its subject). */
status dsp_accept_batch(dispatcher *d, const bus_msg *const *msgs,
                        const char (*workers)[ID_MAX + 1], int n, err *e);
status dsp_complete_batch(dispatcher *d, const bus_msg *const *msgs,
                          const char (*workers)[ID_MAX + 1], int n, err *e);

/* progress.c: after tasks complete, ready their successors and close the
 * cases whose playbook is finished. */
status dsp_progress_cases(dispatcher *d, const int64_t *case_ids, int n,
                          err *e);
status dsp_progress_case(dispatcher *d, int64_t case_id, err *e);

/* ops_api.c: an operator changes a waiting task's priority. */
status dsp_ops_priority(dispatcher *d, const bus_msg *m, err *e);

/* review.c: AI outcomes under human review. */
#define DSP_REVIEW_WHEN "ai_review"
typedef struct dsp_review_item {
    int64_t task_id;
    int confidence; /* per mille, -1: none given */
    bool review;    /* a review step's task (else an ai: auto step's) */
} dsp_review_item;
/* Is step the review step of an ai: auto step (after [X], when
 * ["ai_review"])? */
bool dsp_review_step(const playbook *pb, int step);
/* A review's `overturned` must name an outcome of the reviewed step that
 * has no fields (ST_OUTCOME_NOT_ALLOWED); anything else passes. */
status dsp_review_check(const playbook *pb, int step, const char *code,
                        const json_t *fields, err *e);
/* The optional "confidence" of a complete request (0..1000) into *out,
 * -1 when absent; ST_INVALID when out of range. */
status dsp_review_confidence(const json_t *root, int *out, err *e);
/* Bucket 0..999 of a task for review sampling. */
int dsp_review_bucket(int64_t task_id);
/* After the completions of items were written and before the cases
 * progress: open review tasks for AI outcomes that need one and record the
 * verdicts of finished reviews. */
status dsp_review_after(dispatcher *d, const dsp_review_item *items, int n,
                        err *e);

/* feedback_api.c */
status dsp_feedback(dispatcher *d, const char *worker, const bus_msg *m,
                    err *e);

/* offers.c */
status dsp_route_and_offer(dispatcher *d, err *e);
/* Cancel the tasks past their time to live, with their cases. */
status dsp_expire_tasks(dispatcher *d, err *e);
status dsp_expire_offers(dispatcher *d, err *e);
status dsp_expire_leases(dispatcher *d, err *e);
/* Complete the wrapping tasks whose wrap-up ended (database time) and give
 * their workers' slots back. */
status dsp_wrap_end(dispatcher *d, err *e);
/* Queue a {"type":"rescinded"} notice to worker about reservation res_id
 * (reason: timeout, lease_expired, accepted_elsewhere). */
status dsp_send_notice(dispatcher *d, const char *worker, int64_t res_id,
                       const char *reason, err *e);

/* outbox.c */
status dsp_outbox_start(dispatcher *d, err *e);
void dsp_outbox_kick(dispatcher *d);
void dsp_outbox_stop(dispatcher *d);

/*
 * The end of an accept statement, after a CTE r0 (id, task_id, epoch,
 * worker_id) of the pending reservations to accept: the task moves from
 * reserved to assigned at the reservation's epoch, and only if it did the
 * reservation is accepted (t) and the other pending offers of that epoch (a
 * broadcast) are rescinded (x: id, worker_id). Shared by the single accept
 * (worker_api.c) and the set-wise one (batch_api.c).
 */
#define DSP_ACCEPT_CTES                                                        \
    " t AS (UPDATE tasks SET state = 'assigned', assigned_at = now(),"         \
    "  worker_id = r0.worker_id FROM r0 WHERE tasks.id = r0.task_id"           \
    "  AND tasks.epoch = r0.epoch AND tasks.state = 'reserved'"                \
    "  RETURNING tasks.id, tasks.epoch, r0.id AS res_id),"                     \
    " a AS (UPDATE reservations SET state = 'accepted',"                       \
    "  answered_at = now() FROM t WHERE reservations.id = t.res_id"            \
    "  AND reservations.state = 'pending'),"                                   \
    " x AS (UPDATE reservations SET state = 'rescinded',"                      \
    "  answered_at = now(), reason = 'accepted by another worker' FROM t"      \
    "  WHERE reservations.task_id = t.id AND reservations.epoch = t.epoch"     \
    "  AND reservations.state = 'pending' AND reservations.id <> t.res_id"     \
    "  RETURNING reservations.id, reservations.worker_id)"

#endif
