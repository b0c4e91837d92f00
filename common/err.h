/*
 * One status enum for the whole project and a caller-owned error struct.
 *
 * Every fallible function returns a status and, on failure, fills the
 * caller's err with a sentence a person can act on. The stable code strings
 * (status_code()) are what the NATS protocol puts in error replies, so they
 * never change once published; see docs/protocol.md.
 */
#ifndef TL_ERR_H
#define TL_ERR_H

#include <stddef.h>

/* X(name, stable code, short description) */
#define TL_STATUS_LIST(X)                                                      \
    X(ST_OK, "ok", "success")                                                  \
    X(ST_NOMEM, "internal", "out of memory")                                   \
    X(ST_BAD_JSON, "bad_json", "request is not valid JSON")                    \
    X(ST_UNKNOWN_FIELD, "unknown_field", "request has an unknown field")       \
    X(ST_MISSING_FIELD, "missing_field", "request lacks a required field")     \
    X(ST_WRONG_TYPE, "wrong_type", "a field has the wrong type")               \
    X(ST_INVALID, "invalid_value", "a field has an invalid value")             \
    X(ST_TOO_LARGE, "too_large", "request is larger than allowed")             \
    X(ST_NOT_FOUND, "not_found", "no such object")                             \
    X(ST_UNKNOWN_TENANT, "unknown_tenant", "tenant is not known")              \
    X(ST_UNKNOWN_CASE_TYPE, "unknown_case_type", "case type is not defined")   \
    X(ST_OUTCOME_NOT_ALLOWED, "outcome_not_allowed",                           \
      "outcome is not allowed for this step")                                  \
    X(ST_STALE, "stale_reservation", "reservation is no longer current")       \
    X(ST_NOT_YOURS, "not_yours", "reservation belongs to another worker")      \
    X(ST_SESSION_CONFLICT, "session_conflict",                                 \
      "the worker is signed in by another session")                            \
    X(ST_DEACTIVATED, "deactivated",                                           \
      "the worker is deactivated by its operator")                             \
    X(ST_CONFLICT, "conflict", "conflicts with stored data")                   \
    X(ST_DB, "db_error", "database error")                                     \
    X(ST_BUS, "bus_error", "messaging error")                                  \
    X(ST_IO, "io_error", "input/output error")                                 \
    X(ST_CONFIG, "config_error", "configuration error")                        \
    X(ST_TIMEOUT, "timeout", "timed out")                                      \
    X(ST_UNAVAILABLE, "unavailable", "service unavailable, retry later")       \
    X(ST_RATE_LIMITED, "rate_limited", "over the request quota, retry later")  \
    X(ST_INTERNAL, "internal", "internal error")

typedef enum status {
#define TL_X(name, code, desc) name,
    TL_STATUS_LIST(TL_X)
#undef TL_X
        ST__COUNT
} status;

#define ERR_MSG_MAX 512

/* Caller-owned error detail; msg is always NUL-terminated. */
typedef struct err {
    status code;
    char msg[ERR_MSG_MAX];
} err;

/* Stable machine-readable code for s ("unknown_field", ...). */
const char *status_code(status s);

/* Short English description of s. */
const char *status_str(status s);

/*
 * Record s with a printf-style message in e (which may be NULL) and return s,
 * so callers can write `return err_set(e, ST_DB, "...", ...)`.
 */
status err_set(err *e, status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix e's message with "what: " to add context as an error travels up. */
status err_wrap(err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reset e to ST_OK with an empty message. */
void err_clear(err *e);

#endif
