/*
 * The dispatcher's routing state: loaded from PostgreSQL at start and
 * after a rollback (the database is the truth), the workers the router
 * knows, and the playbooks cached by (tenant, case type, version). Reads
 * only, on the dispatcher's connection; it changes the router and the
 * caches in struct dispatcher, never the database.
 */
#ifndef TL_STATE_H
#define TL_STATE_H

#include <stdint.h>

#include "dsp.h"

/* (Re)load routing state from the database. */
status dsp_rebuild(dispatcher *d, err *e);

/* Reload contract prices and pool settings (every 5 s). */
status dsp_refresh_contracts(dispatcher *d, err *e);

/*
 * Self-check against the database: tasks pending there for more than 15 s
 * that the router does not hold as pending are put back (a divergence is a
 * bug; it is logged, and healed rather than left to starve the task).
 * *fixed receives how many were put back.
 */
status dsp_reconcile(dispatcher *d, int *fixed, err *e);

/* Index of worker id in the router, loading it from the database if new;
 * ST_NOT_FOUND when it is not registered. */
status dsp_worker_index(dispatcher *d, const char *worker_id, int *out, err *e);

/* Read worker id's definition (pool, skills, capacity, licences,
 * presence) from the database into the router again, after an operator
 * changed it in this transaction. ST_NOT_FOUND when it is not registered. */
status dsp_worker_reload(dispatcher *d, const char *worker_id, err *e);

/*
 * Why a presence request of worker was not applied (it matched no row the
 * presence statement may change): ST_DEACTIVATED when an operator
 * deactivated the worker, else ST_NOT_FOUND (not registered); the message
 * in e says what to do. A database failure is returned as such.
 */
status dsp_worker_refusal(dispatcher *d, const char *worker, err *e);

/* The cached playbook (tenant, case type, version), loading it on a miss
 * (borrowed; lives as long as d). */
status dsp_playbook(dispatcher *d, const char *tenant, const char *case_type,
                    int version, const playbook **out, err *e);

/* Latest playbook version for a new case; ST_UNKNOWN_TENANT or
 * ST_UNKNOWN_CASE_TYPE when there is none. */
status dsp_latest_version(dispatcher *d, const char *tenant,
                          const char *case_type, int *out, err *e);

/* Make a router task from a step of pb and add it; holder is the worker
 * index that holds it, -1 for none. */
status dsp_route_task(dispatcher *d, const playbook *pb, int step,
                      int64_t task_id, int64_t case_id, int priority,
                      int64_t ready_us, int holder, err *e);

#endif
