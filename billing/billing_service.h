/*
 * The billing service: consumes outcome events from JetStream and turns
 * each billable outcome into exactly one billable line, and sweeps the
 * database for billable outcomes whose event never arrived.
 *
 *   billing_service_create(&s, &opt, &e);  connect, ensure stream, consumer
 *   billing_service_run(s, &e);            blocks until billing_service_stop
 *   billing_service_destroy(s);
 *
 * Events are acknowledged only after the transaction that billed them has
 * committed; on a database error the batch stays unacknowledged and is
 * retried after a back-off and a reconnect. See docs/billing.md.
 */
#ifndef TL_BILLING_SERVICE_H
#define TL_BILLING_SERVICE_H

#include <stdint.h>

#include "billing_rate.h"
#include "config.h"
#include "err.h"

#define BILLING_BATCH_MAX 4096

/* Storage limit of the event stream; the dispatcher must ask for the same,
 * as whichever starts later updates the stream to its own value. */
#define BILLING_STREAM_BYTES (1024LL * 1024 * 1024)

typedef struct billing_options {
    config cfg;       /* db, nats, prefix */
    int batch;        /* events per fetch and per transaction, 1..4096 */
    int sweep_ms;     /* sweeper interval; 0 turns the sweeper off (tests) */
    int sweep_age_ms; /* the sweeper leaves younger outcomes to events */
    int summary_ms;   /* interval of the counters' summary line */
    long long stream_bytes; /* storage limit of <PREFIX>_EVENTS if created */
    int verify_ms; /* reopens/complaints, verifier and credit notes; 0: off */
    char key_dir[512]; /* signing key for credit notes; "" issues none */
    /* The audit trail's checkpoint key (auditlog.h): billing signs a
     * checkpoint every checkpoint_ms when records were appended; ""
     * signs none. */
    char audit_key[512];
    int checkpoint_ms;
} billing_options;

/* Defaults: config_from_env, batch 256, sweep 2000 ms, age 5000 ms,
 * summary 10000 ms, stream BILLING_STREAM_BYTES, verify 1000 ms, no key
 * (TL_KEY_DIR when set), no audit key (TL_AUDIT_KEY when set), a
 * checkpoint every 60000 ms (TL_AUDIT_CHECKPOINT_MS when set). */
void billing_options_default(billing_options *o);

typedef struct billing_stats {
    int64_t events;       /* messages handled and acked (redeliveries too) */
    int64_t malformed;    /* events that could not be decoded (acked) */
    billing_counts all;   /* outcomes named by events, by what happened;
                             all.billed also counts the sweeper's lines */
    int64_t swept;        /* of all.billed, lines inserted by the sweeper */
    int64_t db_errors;    /* failed batch or sweep statements */
    int64_t verified;     /* outcomes moved pending -> verified */
    int64_t reversed;     /* outcomes reversed by a reopen or complaint */
    int64_t credit_notes; /* credit notes issued for reversed lines */
    int64_t checkpoints;  /* audit checkpoints signed */
} billing_stats;

typedef struct billing_service billing_service;

/*
 * Connect to PostgreSQL and NATS, ensure the stream <PREFIX>_EVENTS on
 * <prefix>.evt.> and the durable pull consumer "billing" on
 * <prefix>.evt.*.outcome. opt is copied. *out is owned by the caller
 * (billing_service_destroy). Errors: ST_CONFIG (bad option), ST_UNAVAILABLE,
 * ST_BUS, ST_NOMEM.
 */
status billing_service_create(billing_service **out, const billing_options *opt,
                              err *e);

/*
 * Process events and sweep until billing_service_stop is called; call it
 * once per service. Database and NATS failures are logged and retried, so
 * this returns ST_OK after a stop.
 */
status billing_service_run(billing_service *s, err *e);

/*
 * Ask run to return after the batch in hand. Thread-safe and
 * async-signal-safe (an atomic store), so a signal handler may call it.
 */
void billing_service_stop(billing_service *s);

/* A consistent copy of the counters; callable from any thread. */
void billing_service_stats(billing_service *s, billing_stats *out);

/* Close connections and free s; NULL is a no-op. Not while run runs. */
void billing_service_destroy(billing_service *s);

#endif
