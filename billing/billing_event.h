/*
 * Outcome events as the billing service reads them from JetStream, and the
 * names (stream, subjects, consumer filter) derived from the prefix.
 *
 * Pure functions, no I/O: the unit tests call them directly. An event is
 * only a hint that an outcome exists; billing reads everything that decides
 * money (billability, contract, price) from the database.
 */
#ifndef TL_BILLING_EVENT_H
#define TL_BILLING_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ids.h"

/* Largest event accepted; outcome events are about 200 bytes. */
#define BILLING_EVENT_MAX 4096

/* The only event type on <prefix>.evt.<tenant>.outcome. */
#define BILLING_EVENT_TYPE "outcome.recorded"

/* Name of the durable pull consumer. */
#define BILLING_DURABLE "billing"

typedef struct billing_event {
    int64_t outcome_id;      /* > 0, always present */
    int64_t task_id;         /* 0 when absent */
    int64_t case_id;         /* 0 when absent */
    char tenant[ID_MAX + 1]; /* "" when absent */
    char worker[ID_MAX + 1]; /* "" when absent */
    char code[ID_MAX + 1];   /* "" when absent */
    bool billable;           /* the producer's view; never trusted */
} billing_event;

/*
 * Decode one outcome event from buf (len bytes, not NUL-terminated) into
 * *out, which is written only on success. Strict: an unknown field, a wrong
 * type, a bad token, a missing "type" or "outcome_id", a type other than
 * "outcome.recorded" or an outcome_id <= 0 is an error (ST_BAD_JSON,
 * ST_TOO_LARGE, ST_UNKNOWN_FIELD, ST_MISSING_FIELD, ST_WRONG_TYPE,
 * ST_INVALID) whose message names the problem.
 */
status billing_event_parse(const char *buf, size_t len, billing_event *out,
                           err *e);

typedef struct billing_names {
    char stream[80];   /* <PREFIX>_EVENTS */
    char subjects[80]; /* <prefix>.evt.> */
    char filter[96];   /* <prefix>.evt.*.outcome */
} billing_names;

/*
 * Derive the stream name (prefix upper-cased + "_EVENTS"), the stream's
 * subjects and the consumer's filter subject from prefix. A prefix that is
 * not a token is ST_CONFIG.
 */
status billing_names_make(const char *prefix, billing_names *out, err *e);

/*
 * Write ids[0..n) as a PostgreSQL array literal ("{1,2,3}") into buf of cap
 * bytes, for a $n::bigint[] parameter. ST_TOO_LARGE when it does not fit;
 * BILLING_IDS_CAP(n) bytes always suffice.
 */
status billing_ids_format(const int64_t *ids, int n, char *buf, size_t cap,
                          err *e);

#define BILLING_IDS_CAP(n) ((size_t)(n)*21 + 3)

#endif
