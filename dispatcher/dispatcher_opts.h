/*
 * The dispatcher's options (twinline-dispatcher's flags), a type of their
 * own so the dispatcher's inner modules (dsp.h) can hold them without
 * including the public header of the module above them.
 */
#ifndef TL_DISPATCHER_OPTS_H
#define TL_DISPATCHER_OPTS_H

#include <stdbool.h>

#include "ids.h"

typedef struct dispatcher_opts {
    int lease_ms;         /* heartbeat silence before a worker is offline */
    int offer_timeout_ms; /* an offer not answered by then goes elsewhere */
    int batch_max;        /* messages per transaction */
    int tick_ms;          /* how often timeouts and leases are checked */
    long long stream_max_bytes; /* storage limit of the event stream */
    int stats_ms;               /* figures on <prefix>.stats.dispatcher;
                                   0: never */
    bool no_affinity;           /* A/B runs: ignore case affinity */
    int batch_match_min;        /* assign as a batch (exact optimum) when at
                                   least this many tasks and free workers
                                   wait; 0: one decision at a time */
    bool no_assist;             /* A/B runs: AI-assisted levels never count */
    /* nats-server's log file, followed for the permission violations of
     * every client (violations.h); NULL: not followed. Borrowed: it must
     * outlive the dispatcher. */
    const char *nats_log;
    /* Quotas of each tenant and of each client identity of a tenant
     * (intake.h): requests per second, burst, open requests; 0: none. */
    int quota_rate, quota_burst, quota_open;
    int client_rate, client_burst, client_open;
    char master_key_file[512]; /* seals customer data (keystore.h); "":
                                  $TL_MASTER_KEY_FILE, then $TL_MASTER_KEY */
    char member[ID_MAX + 1];   /* this dispatcher's id among several
                                  (docs/ha.md); "": <host>-<pid> */
    int ha_lease_ms;           /* a partition's lease; a standby takes
                                  over within it of the owner's death */
    int handle_max_ms;         /* an accepted task not completed by then
                                  goes back to the queue; 0: never */
} dispatcher_opts;

#endif
