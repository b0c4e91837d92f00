/*
 * Cases from the operator's desk: submit one through the bank API over NATS
 * (exactly as a bank's system would) and show one from PostgreSQL with its
 * tasks, offers and outcomes.
 */
#ifndef TL_CMD_CASE_H
#define TL_CMD_CASE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bus.h"
#include "db.h"
#include "err.h"

/*
 * Build a submit request body from its parts. priority < 0 leaves it out;
 * payload_json and customer_json (may be NULL) must be JSON objects.
 * *out is a NUL-terminated string owned by the caller (free). Errors:
 * ST_BAD_JSON / ST_WRONG_TYPE naming the flag, ST_INVALID for bad values.
 */
status cmd_case_body(const char *case_type, const char *external_id,
                     int priority, const char *payload_json,
                     const char *customer_json, char **out, err *e);

/* Read a submit request body from a JSON file; *out as cmd_case_body. */
status cmd_case_body_file(const char *path, char **out, err *e);

/*
 * The body of a reopen or complaint request for the case with id case_id
 * (> 0) or with external_id (exactly one of them): reason 1..500
 * characters, request_id (may be NULL) a token that makes a repeat return
 * the first dispute. *out is the caller's to free.
 */
status cmd_case_dispute_body(int64_t case_id, const char *external_id,
                             const char *reason, const char *request_id,
                             char **out, err *e);

/*
 * Send body to <prefix>.api.<tenant>.case.<verb> (submit, reopen,
 * complaint) and print the reply, indented, on out. A reply with "ok":
 * false returns the status named by its error code with "code: message"
 * in e. ST_UNAVAILABLE when nobody serves the subject, ST_TIMEOUT when no
 * reply comes within timeout_ms.
 */
status cmd_case_request(bus *b, const char *prefix, const char *tenant,
                        const char *verb, const char *body, int timeout_ms,
                        FILE *out, err *e);

/*
 * Print the case of tenant with id case_id (when external_id is NULL) or
 * with that external id: its state and times, tasks, offers, outcomes.
 * ST_NOT_FOUND when the tenant has no such case.
 */
status cmd_case_show(db *d, const char *tenant, int64_t case_id,
                     const char *external_id, FILE *out, err *e);

#endif
