/*
 * The worker agent protocol for one worker (docs/protocol.md, "Worker agent
 * protocol"): decoding what the dispatcher sends (offers, notices, replies),
 * encoding what the agent sends (presence, heartbeat, accept, reject,
 * complete), and the state of one worker: its presence and the offers and
 * tasks it holds.
 *
 * This module does no I/O and starts no threads, so both the simulated
 * driver (agent_sim) and a later interactive screen use it. An agent_session
 * is not thread-safe; its owner serialises access.
 *
 * Customer data (PII) arrives only in accept replies. This module never
 * logs a message body, and agent_reply_parse keeps nothing of the task but
 * its ids.
 */
#ifndef TL_AGENT_SESSION_H
#define TL_AGENT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ids.h"

#define AGENT_MAX_OUTCOMES 16            /* outcome codes one offer may list */
#define AGENT_MAX_FIELDS   8             /* fields one outcome may list */
#define AGENT_STRING_MAX   500           /* longest "string" field value */
#define AGENT_MSG_MAX      16384         /* largest offer or notice, in bytes */
#define AGENT_REPLY_MAX    (1024 * 1024) /* largest reply, in bytes */

typedef enum agent_field_type {
    AGENT_FIELD_AMOUNT, /* "amount_minor": integer 0..10^15 */
    AGENT_FIELD_INT,    /* "int": any integer */
    AGENT_FIELD_DATE,   /* "date": "YYYY-MM-DD", a real date */
    AGENT_FIELD_STRING, /* "string": at most AGENT_STRING_MAX chars */
    AGENT_FIELD_BOOL    /* "bool": true or false */
} agent_field_type;

typedef struct agent_field_spec {
    char name[ID_MAX + 1];
    agent_field_type type;
} agent_field_spec;

typedef struct agent_outcome_spec {
    char code[ID_MAX + 1];
    bool billable;
    int nfields;
    agent_field_spec fields[AGENT_MAX_FIELDS];
} agent_outcome_spec;

/* A decoded offer; plain data, copied freely. */
typedef struct agent_offer {
    int64_t reservation_id;
    int64_t epoch;
    int64_t task_id;
    int64_t case_id;
    char tenant[ID_MAX + 1];
    char case_type[ID_MAX + 1];
    char step[ID_MAX + 1];
    char channel[ID_MAX + 1];
    int64_t timeout_ms;
    int64_t ready_at_us; /* wall clock, µs since the epoch */
    int noutcomes;
    agent_outcome_spec outcomes[AGENT_MAX_OUTCOMES];
} agent_offer;

/* One field value of a chosen outcome. */
typedef struct agent_value {
    agent_field_type type;
    int64_t i;                    /* AGENT_FIELD_AMOUNT, AGENT_FIELD_INT */
    bool b;                       /* AGENT_FIELD_BOOL */
    char s[AGENT_STRING_MAX + 1]; /* AGENT_FIELD_DATE, AGENT_FIELD_STRING */
} agent_value;

/* A chosen outcome: offer->outcomes[index] with one value per field, in the
 * order of that outcome's fields. */
typedef struct agent_outcome {
    int index;
    int nvalues;
    agent_value values[AGENT_MAX_FIELDS];
} agent_outcome;

typedef enum agent_notice_type {
    AGENT_NOTICE_RESCINDED,
    AGENT_NOTICE_OTHER /* a type this agent does not know; ignore it */
} agent_notice_type;

typedef struct agent_notice {
    agent_notice_type type;
    int64_t reservation_id;
    char reason[64]; /* truncated; for logs */
} agent_notice;

/* A decoded reply to any agent request. */
typedef struct agent_reply {
    bool ok;
    char code[48];      /* error code when !ok ("stale_reservation") */
    char message[256];  /* error message when !ok, truncated */
    int64_t outcome_id; /* complete replies; 0 otherwise */
    bool duplicate;     /* complete replies */
} agent_reply;

/* The field type named by s ("amount_minor", "date", ...); false if none. */
bool agent_field_type_parse(const char *s, agent_field_type *out);

/* The protocol name of t. */
const char *agent_field_type_name(agent_field_type t);

/*
 * Decode an offer body into *out. Unknown members are ignored so the
 * dispatcher can add some; missing or mistyped members, bad identifiers, an
 * empty or oversized outcome table and unknown field types are errors
 * (ST_BAD_JSON, ST_TOO_LARGE, ST_WRONG_TYPE, ST_MISSING_FIELD, ST_INVALID)
 * whose message names the member.
 */
status agent_offer_parse(const char *buf, size_t len, agent_offer *out, err *e);

/* Decode a notice body. Unknown notice types decode as AGENT_NOTICE_OTHER. */
status agent_notice_parse(const char *buf, size_t len, agent_notice *out,
                          err *e);

/*
 * Decode a reply body. An empty body is the server's "no responders"
 * answer: ST_UNAVAILABLE. Anything that is not a protocol reply is
 * ST_BAD_JSON or ST_WRONG_TYPE. An error reply is ST_OK with out->ok false.
 */
status agent_reply_parse(const char *buf, size_t len, agent_reply *out, err *e);

/*
 * Request bodies. Each writes a new NUL-terminated string to *out (caller
 * frees) and its length to *len. Only ST_NOMEM or ST_INVALID can fail.
 */
status agent_msg_presence(const char *presence, char **out, size_t *len,
                          err *e);
status agent_msg_heartbeat(char **out, size_t *len, err *e);
status agent_msg_accept(const agent_offer *o, char **out, size_t *len, err *e);
/* reason may be NULL; it is cut to 200 characters. */
status agent_msg_reject(const agent_offer *o, const char *reason, char **out,
                        size_t *len, err *e);
/* oc must match o (index in range, one value of the right type per field);
 * otherwise ST_INVALID. */
status agent_msg_complete(const agent_offer *o, const agent_outcome *oc,
                          char **out, size_t *len, err *e);
/* As agent_msg_complete, adding "confidence" (0..1000; ST_INVALID
 * otherwise) as AI workers send it. */
status agent_msg_complete_confidence(const agent_offer *o,
                                     const agent_outcome *oc, int confidence,
                                     char **out, size_t *len, err *e);

/* One event of a feedback request (docs/protocol.md, "Feedback"). */
#define AGENT_FEEDBACK_MAX 64 /* events in one request */
typedef struct agent_feedback_event {
    char suggestion[80]; /* "reply", "model" or "passage:<id>" */
    char action[16];     /* "shown", "opened", "copied" or "used" */
} agent_feedback_event;

/* The feedback request for the task of offer o with events ev[0..n),
 * 1 <= n <= AGENT_FEEDBACK_MAX (else ST_INVALID). */
status agent_msg_feedback(const agent_offer *o, const agent_feedback_event *ev,
                          int n, char **out, size_t *len, err *e);

/* "<prefix>.agent.<worker>.<verb>" into buf; ST_INVALID if it does not fit. */
status agent_subject(char *buf, size_t cap, const char *prefix,
                     const char *worker, const char *verb, err *e);

/* "<prefix>.worker.<worker>.<kind>" into buf (kind "offer" or "notice";
 * worker may be "*"); ST_INVALID if it does not fit. */
status agent_inbound_subject(char *buf, size_t cap, const char *prefix,
                             const char *worker, const char *kind, err *e);

/*
 * Split an inbound subject "<prefix>.worker.<worker>.<kind>": copy the
 * worker id into worker (ID_MAX + 1 bytes) and return the kind ("offer",
 * "notice"), borrowed from subject. NULL if the subject has another shape.
 */
const char *agent_inbound_parse(const char *subject, const char *prefix,
                                char *worker);

typedef enum agent_presence {
    AGENT_PRESENCE_OFFLINE,
    AGENT_PRESENCE_AVAILABLE,
    AGENT_PRESENCE_BREAK
} agent_presence;

/* "offline", "available", "break". */
const char *agent_presence_name(agent_presence p);

typedef enum agent_item_state {
    AGENT_ITEM_OFFERED,   /* received; not answered yet */
    AGENT_ITEM_ACCEPTING, /* accept sent, no reply yet */
    AGENT_ITEM_REJECTING, /* reject sent, no reply yet */
    AGENT_ITEM_WORKING,   /* accepted: a task in hand */
    AGENT_ITEM_COMPLETING /* complete sent, no reply yet */
} agent_item_state;

/* An offer or task a worker holds. Owned by its session. */
typedef struct agent_item {
    agent_offer offer;
    agent_item_state state;
    int64_t received_mono_us; /* clock_mono_us() when the offer arrived */
    char *complete_body;      /* kept so a retry sends the same bytes */
    size_t complete_len;
} agent_item;

typedef struct agent_session agent_session;

/* A session for worker (a valid identifier, copied); ST_INVALID if not. */
status agent_session_create(agent_session **out, const char *worker, err *e);

/* Free s and every item it holds; NULL is a no-op. */
void agent_session_destroy(agent_session *s);

/* The worker id (borrowed from s). */
const char *agent_session_worker(const agent_session *s);

agent_presence agent_session_presence(const agent_session *s);
void agent_session_set_presence(agent_session *s, agent_presence p);

/*
 * Hold a new offer (copied) in state AGENT_ITEM_OFFERED and return the item
 * (borrowed; valid until it is removed). ST_CONFLICT if an item with this
 * reservation id is already held; ST_NOMEM.
 */
status agent_session_offer_add(agent_session *s, const agent_offer *o,
                               int64_t now_mono_us, agent_item **out, err *e);

/* The item for reservation_id, or NULL. Borrowed. */
agent_item *agent_session_find(agent_session *s, int64_t reservation_id);

/* Free the item for reservation_id; false if there was none. Other items
 * stay where they are, but item indexes change. */
bool agent_session_remove(agent_session *s, int64_t reservation_id);

/* How many offers and tasks s holds. */
int agent_session_count(const agent_session *s);

/* The i-th item, 0 <= i < count. Borrowed. */
agent_item *agent_session_item(agent_session *s, int i);

#endif
