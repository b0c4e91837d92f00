/*
 * Live figures for operators, computed from PostgreSQL (the only source of
 * truth): per queue (tenant x case type x step) the waiting count, the
 * oldest wait and SLA attainment over the last 24 hours; per worker its
 * state, occupancy and tasks completed in the last hour; the permission
 * violations and refused connections nats-server logged in the last 24
 * hours, per identity (violations.h); per partition (docs/ha.md) its pools
 * and tenants and the dispatcher that owns it. `twinline stats`
 * prints them and the dispatcher publishes stats_json() every 5 s on
 * <prefix>.stats.dispatcher (docs/protocol.md).
 */
#ifndef TL_STATS_H
#define TL_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "db.h"
#include "err.h"
#include "ids.h"

typedef struct stats_queue {
    char tenant[ID_MAX + 1];
    char case_type[ID_MAX + 1];
    char step[ID_MAX + 1];
    int64_t waiting;     /* pending: ready, not yet offered */
    int64_t in_progress; /* reserved or assigned */
    int64_t oldest_wait_ms;
    int64_t sla_done; /* completed in the last 24 h with an SLA due time */
    int64_t sla_met;  /* ... and completed by it */
} stats_queue;

typedef struct stats_worker {
    char worker[ID_MAX + 1];
    char pool[ID_MAX + 1];
    char kind[8];   /* human, ai */
    char state[16]; /* offline, break, wrap_up, busy, available */
    int64_t load;   /* open reservations (offered or accepted) */
    int64_t slots;  /* capacity over all channels */
    int occupancy_permille;
    int64_t tasks_last_hour;
} stats_worker;

/* Refusals of one kind by one identity in the last 24 hours. */
typedef struct stats_violation {
    char identity[ID_MAX + 1]; /* "" for a key that is no identity's */
    char role[16];
    char party[ID_MAX + 1];
    char kind[16]; /* publish, subscribe, auth (a refused connection) */
    int64_t count;
    char last_subject[257];
    int64_t last_at_ms; /* Unix time */
} stats_violation;

typedef struct stats_partition {
    char partition[80];
    char pools[256];        /* comma-separated, cut at 255 characters */
    char tenants[256];      /* likewise */
    char owner[ID_MAX + 1]; /* "": nobody holds a current lease */
    int64_t token;          /* the fencing token of the last takeover */
    int64_t lease_left_ms;
} stats_partition;

typedef struct stats {
    int nqueues;
    stats_queue *queues;
    int nworkers;
    stats_worker *workers;
    int nviolations;
    stats_violation *violations;
    int64_t violations_24h; /* publishes and subscriptions refused */
    int64_t refused_24h;    /* connections refused */
    int npartitions;
    stats_partition *partitions;
} stats;

/* Compute the figures; *out is owned by the caller (stats_destroy). */
status stats_collect(db *d, stats **out, err *e);

/*
 * The figures as one JSON document (docs/protocol.md, "Live figures");
 * malloc'd, caller frees; NULL when out of memory.
 */
char *stats_json(const stats *s);

/* The figures as two tables for people. */
void stats_print(const stats *s, FILE *out);

/* NULL is a no-op. */
void stats_destroy(stats *s);

#endif
