/*
 * Every NATS subject of the protocol and the event stream's name, built and
 * split in this one place (docs/protocol.md). Every subject starts with the
 * installation's prefix <p>; the second token says whose it is:
 *
 *   <p>.api.<tenant>.<verb>      bank requests (case.submit, case.get, ...)
 *   <p>.agent.<worker>.<verb>    agent requests (presence, accept, ...)
 *   <p>.worker.<worker>.<kind>   dispatcher to agent (offer, notice)
 *   <p>.evt.<tenant>.<kind>      events (case, outcome), stream <P>_EVENTS
 *   <p>.ops.<operator>.<verb>    operator requests (task.priority)
 *   <p>.stats.<source>           live figures (dispatcher)
 *   <p>.admin.<verb>             the admin command line's notices to the
 *                                dispatcher (identity.revoked)
 *
 * Pure functions, no I/O. A builder writes a NUL-terminated subject into
 * buf of cap bytes (SUBJECTS_MAX always suffices for a valid prefix and
 * identifiers) and fails with ST_INVALID when it does not fit or when the
 * prefix or a party is not an identifier (a party may be "*" to build a
 * subscription's wildcard).
 */
#ifndef TL_SUBJECTS_H
#define TL_SUBJECTS_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "ids.h"

#define SUBJECTS_MAX        200 /* bytes of any subject, with its NUL */
#define SUBJECTS_VERB_MAX   31  /* longest verb or kind, without the NUL */
#define SUBJECTS_STREAM_MAX (ID_MAX + 8) /* "<P>_EVENTS" with its NUL */

/* Bank API verbs (<p>.api.<tenant>.<verb>). */
#define SUBJECTS_CASE_SUBMIT      "case.submit"
#define SUBJECTS_CASE_GET         "case.get"
#define SUBJECTS_CASE_REOPEN      "case.reopen"
#define SUBJECTS_CASE_COMPLAINT   "case.complaint"
#define SUBJECTS_CASE_SUBMIT_MANY "case.submit_many"
#define SUBJECTS_CASE_ANY         "case.*"
/* Agent verbs (<p>.agent.<worker>.<verb>). */
#define SUBJECTS_PRESENCE      "presence"
#define SUBJECTS_HEARTBEAT     "heartbeat"
#define SUBJECTS_ACCEPT        "accept"
#define SUBJECTS_REJECT        "reject"
#define SUBJECTS_COMPLETE      "complete"
#define SUBJECTS_ACCEPT_MANY   "accept_many"
#define SUBJECTS_COMPLETE_MANY "complete_many"
#define SUBJECTS_FEEDBACK      "feedback"
#define SUBJECTS_CALLUP        "callup" /* an answer to a call-up */
/* What the dispatcher sends a worker (<p>.worker.<worker>.<kind>). */
#define SUBJECTS_OFFER  "offer"
#define SUBJECTS_NOTICE "notice"
/* Event kinds (<p>.evt.<tenant>.<kind>). */
#define SUBJECTS_EVT_CASE    "case"
#define SUBJECTS_EVT_OUTCOME "outcome"
/* Operator verbs (<p>.ops.<operator>.<verb>) and figure sources
 * (<p>.stats.<src>). */
#define SUBJECTS_TASK_PRIORITY "task.priority"
#define SUBJECTS_DISPATCHER    "dispatcher"
/* Admin notices (<p>.admin.<verb>). */
#define SUBJECTS_IDENTITY_REVOKED "identity.revoked"

typedef enum subjects_kind {
    SUBJECTS_API,
    SUBJECTS_AGENT,
    SUBJECTS_WORKER,
    SUBJECTS_EVT,
    SUBJECTS_OPS,
    SUBJECTS_STATS,
    SUBJECTS_ADMIN
} subjects_kind;

status subjects_api(char *buf, size_t cap, const char *prefix,
                    const char *tenant, const char *verb, err *e);
status subjects_agent(char *buf, size_t cap, const char *prefix,
                      const char *worker, const char *verb, err *e);
status subjects_worker(char *buf, size_t cap, const char *prefix,
                       const char *worker, const char *kind, err *e);
status subjects_event(char *buf, size_t cap, const char *prefix,
                      const char *tenant, const char *kind, err *e);
status subjects_ops(char *buf, size_t cap, const char *prefix, const char *op,
                    const char *verb, err *e);
status subjects_stats(char *buf, size_t cap, const char *prefix,
                      const char *source, err *e);
status subjects_admin(char *buf, size_t cap, const char *prefix,
                      const char *verb, err *e);

/* "<p>.evt.>": every event, the subjects of the event stream. */
status subjects_events_all(char *buf, size_t cap, const char *prefix, err *e);

/*
 * The event subject of kind split around its tenant, for statements that
 * write an event per row: head "<p>.evt." and tail ".<kind>", so that
 * head || tenant || tail is subjects_event(prefix, tenant, kind). Each
 * buffer holds SUBJECTS_MAX bytes.
 */
status subjects_event_parts(char head[SUBJECTS_MAX], char tail[SUBJECTS_MAX],
                            const char *prefix, const char *kind, err *e);

/* The event stream's name: the prefix in upper case + "_EVENTS". */
status subjects_stream(char *buf, size_t cap, const char *prefix, err *e);

/* A subject split into its parts; party is "" for stats and admin. */
typedef struct subjects_parsed {
    subjects_kind kind;
    char party[ID_MAX + 1];
    char verb[SUBJECTS_VERB_MAX + 1];
} subjects_parsed;

/*
 * Split subject (of the installation with prefix) into *out. False when it
 * has another prefix or shape, its party is not an identifier or its verb
 * is empty or longer than SUBJECTS_VERB_MAX; *out is then undefined.
 */
bool subjects_parse(const char *subject, const char *prefix,
                    subjects_parsed *out);

#endif
