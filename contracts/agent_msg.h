/*
 * The messages of the worker agent protocol (docs/protocol.md, "Worker
 * agent protocol"), each with one encoder and one decoder, shared by the
 * dispatcher and the agents:
 *
 *   agent -> dispatcher   presence, heartbeat, accept, reject, complete,
 *                         feedback: agent_msg_<verb>() encodes a request,
 *                         agent_msg_<verb>_decode() decodes it
 *   dispatcher -> agent   offer and notice: agent_offer_encode() and
 *                         agent_offer_parse(), agent_notice_encode() and
 *                         agent_notice_parse()
 *   agent -> dispatcher   accept_many, complete_many: agent_msg_<verb>_many()
 *                         wraps the texts of single requests, and
 *                         agent_msg_<verb>_many_decode() splits them; the
 *                         reply is many_msg_reply / many_msg_reply_split
 *                         (many_msg.h), each result a single reply
 *   replies               agent_reply_<verb>() encodes the ok reply of a
 *                         request, agent_reply_parse() decodes any reply
 *                         (error replies too); the accept reply's task is
 *                         agent_reply_task() and agent_task_parse()
 *
 * Error replies are encoded by jsonx_error_reply() (common/jsonx.h).
 *
 * Decoders of requests are strict, as the dispatcher answers them: an
 * unknown, missing or mistyped member or a value out of range is an error
 * (ST_BAD_JSON, ST_TOO_LARGE, ST_WRONG_TYPE, ST_UNKNOWN_FIELD,
 * ST_MISSING_FIELD, ST_INVALID) whose message names the member. Decoders
 * of what the dispatcher sends ignore unknown members so it can add some.
 *
 * Pure functions, no I/O. An encoder writes a new NUL-terminated string to
 * *out (the caller frees it) and its length to *len; it fails only with
 * ST_NOMEM or, for values a message cannot carry, ST_INVALID.
 *
 * Customer data (PII) travels only in the accept reply's task (and the
 * task of an auto-accepted offer); no decoder here keeps any of it.
 */
#ifndef TL_AGENT_MSG_H
#define TL_AGENT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ids.h"
#include "many_msg.h"

struct json_t; /* jansson's; only a decoded completion holds one */

#define AGENT_MAX_OUTCOMES   16            /* outcome codes one offer lists */
#define AGENT_MAX_FIELDS     8             /* fields one outcome may list */
#define AGENT_STRING_MAX     500           /* longest "string" field value */
#define AGENT_NOTE_MAX       200           /* an operator's words in a notice */
#define AGENT_MSG_MAX        16384         /* largest request, offer, notice */
#define AGENT_REPLY_MAX      (1024 * 1024) /* largest reply, in bytes */
#define AGENT_REASON_MAX     200           /* longest reject reason */
#define AGENT_CONFIDENCE_MAX 1000          /* per mille */
#define AGENT_MANY_MAX       64 /* accepts or completions of a bulk request */
#define AGENT_MANY_BYTES     (1024 * 1024) /* largest bulk request */
#define AGENT_EPOCH_MAX      2000000000    /* epochs are int in the database */
#define AGENT_HOST_MAX       64            /* bytes of a session's host */
#define AGENT_PID_MAX        2147483647    /* largest process id sent */
#define AGENT_SLOTS_MAX      8             /* channels of a presence reply */
#define AGENT_SINCE_MAX      32            /* "2026-11-26T09:14:03Z" */

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

/* An offer; plain data, copied freely. */
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
    bool auto_accepted; /* the reservation was created accepted */
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
    AGENT_NOTICE_SESSION_REPLACED, /* another session signed the worker in */
    AGENT_NOTICE_SIGNED_OUT,       /* an operator signed the worker out */
    AGENT_NOTICE_CALLUP,           /* the operator calls an on-call worker in */
    AGENT_NOTICE_CALLUP_RELEASE,   /* ... and sends it off shift again */
    AGENT_NOTICE_OTHER /* a type this agent does not know; ignore it */
} agent_notice_type;

/*
 * One run of an agent signed in for a worker: a session (docs/protocol.md,
 * "Sessions"). The id is new for every run; host and pid are there to
 * tell a person where the other one runs.
 */
typedef struct agent_signin {
    char id[ID_MAX + 1];           /* identifier */
    char host[AGENT_HOST_MAX + 1]; /* 1-64 printable ASCII bytes, no space */
    int64_t pid;                   /* 1..AGENT_PID_MAX */
} agent_signin;

typedef struct agent_notice {
    agent_notice_type type;
    int64_t reservation_id;      /* rescinded */
    char reason[64];             /* rescinded; truncated; for logs */
    char session_id[ID_MAX + 1]; /* session_replaced: the session replaced */
    bool has_by;                 /* session_replaced: who replaced it ... */
    agent_signin by;             /* ... (absent: an agent without session) */
    char by_since[AGENT_SINCE_MAX + 1]; /* ... since when (UTC), or "" */
    char note[AGENT_NOTE_MAX + 1];      /* signed_out, callup*: the reason */
    int64_t callup_id;                  /* callup, callup_release */
    char pool[ID_MAX + 1];              /* callup: the pool and skill ... */
    char skill[ID_MAX + 1];             /* ... the worker is called for */
    int64_t deadline_ms;                /* callup: answer before (Unix ms) */
} agent_notice;

/* A worker's answer to a call-up (<p>.agent.<worker>.callup). */
typedef struct agent_callup_answer {
    int64_t callup_id;
    bool accept;
} agent_callup_answer;

/* {"callup_id": N, "answer": "accept" | "decline"}. */
status agent_msg_callup_encode(const agent_callup_answer *a, char **out,
                               size_t *len, err *e);
status agent_msg_callup_decode(const char *buf, size_t len,
                               agent_callup_answer *out, err *e);

/* {"type": "callup", "callup_id": N, "pool": P, "skill": S,
 * "deadline_ms": T, "note": reason}: the operator invites the worker to
 * come online; it answers before T with agent_msg_callup_encode. */
status agent_notice_callup_encode(int64_t callup_id, const char *pool,
                                  const char *skill, int64_t deadline_ms,
                                  const char *note, char **out, size_t *len,
                                  err *e);
/* {"type": "callup_release", "callup_id": N, "note": reason}: the queue
 * shrank; the worker may go offline (it holds no task). */
status agent_notice_callup_release_encode(int64_t callup_id, const char *note,
                                          char **out, size_t *len, err *e);

/* A decoded reply to any agent request. */
typedef struct agent_reply {
    bool ok;
    char code[48];      /* error code when !ok ("stale_reservation") */
    char message[256];  /* error message when !ok, truncated */
    int64_t outcome_id; /* complete replies; 0 otherwise */
    bool billable;      /* complete replies */
    bool duplicate;     /* complete replies */
    int64_t stored;     /* feedback replies */
    char presence[16];  /* presence replies; "" otherwise */
    int nslots;         /* presence replies: the worker's slots per channel */
    char slot_channel[AGENT_SLOTS_MAX][ID_MAX + 1];
    int slot_count[AGENT_SLOTS_MAX];
    /* A "conflict" error: the outcome that stands (error.outcome); 0 and
     * "" otherwise. */
    int64_t standing_outcome_id;
    char standing_code[ID_MAX + 1];
} agent_reply;

/* The ids of the task in an accept reply (the rest is customer data and
 * work the assist panel reads, assist/assist_task.h). */
typedef struct agent_task {
    int64_t reservation_id;
    int64_t epoch;
    int64_t task_id;
    int64_t case_id;
    char tenant[ID_MAX + 1];
    char case_type[ID_MAX + 1];
    char step[ID_MAX + 1];
} agent_task;

typedef enum agent_presence {
    AGENT_PRESENCE_OFFLINE,
    AGENT_PRESENCE_AVAILABLE,
    AGENT_PRESENCE_BREAK
} agent_presence;

/* "offline", "available", "break". */
const char *agent_presence_name(agent_presence p);

/* The field type named by s ("amount_minor", "date", ...); false if none. */
bool agent_field_type_parse(const char *s, agent_field_type *out);

/* The protocol name of t. */
const char *agent_field_type_name(agent_field_type t);

/* ---- Requests (agent -> dispatcher) ---- */

/* A presence request: the presence, and for an agent that keeps one
 * session per worker its sign-in and whether it takes over another. */
typedef struct agent_presence_req {
    agent_presence presence;
    bool has_signin; /* "session" given */
    agent_signin signin;
    bool takeover; /* replace a session that is still signed in */
} agent_presence_req;

/* {"presence": "available"}; ST_INVALID for another word. */
status agent_msg_presence(const char *presence, char **out, size_t *len,
                          err *e);
/* {"presence": P, "session": {"id", "host", "pid"}, "takeover": true}
 * (session when has_signin, takeover only when true); ST_INVALID for a
 * bad id, host or pid. */
status agent_msg_presence_req(const agent_presence_req *r, char **out,
                              size_t *len, err *e);
/* Either form; *out is written on success only. */
status agent_msg_presence_decode(const char *buf, size_t len,
                                 agent_presence_req *out, err *e);

/*
 * A decoded heartbeat. It may also say which accepted reservations the
 * agent holds for the worker ({"held": [id, ...]}, at most AGENT_HELD_MAX,
 * docs/protocol.md "Heartbeat"): the dispatcher rescinds what the agent
 * does not hold and answers with the ids it has no record of.
 */
#define AGENT_HELD_MAX 64
typedef struct agent_heartbeat {
    char session_id[ID_MAX + 1]; /* "" when the agent keeps no session */
    bool has_held; /* the body had "held" (else nothing is re-synced) */
    int nheld;
    int64_t held[AGENT_HELD_MAX];
} agent_heartbeat;

/* {} (an empty body decodes too). */
status agent_msg_heartbeat(char **out, size_t *len, err *e);
/* {"session_id": S}; S must be an identifier (else ST_INVALID). */
status agent_msg_heartbeat_session(const char *session_id, char **out,
                                   size_t *len, err *e);
/* {"held": [id, ...]}; ST_TOO_LARGE for more than AGENT_HELD_MAX. */
status agent_msg_heartbeat_held(const int64_t *held, int n, char **out,
                                size_t *len, err *e);
/* Any of the forms; out may be NULL. ST_INVALID for a bad session id or a
 * held id that is not a positive integer, ST_TOO_LARGE for more than
 * AGENT_HELD_MAX held. */
status agent_msg_heartbeat_decode(const char *buf, size_t len,
                                  agent_heartbeat *out, err *e);

/* An accept or reject: the reservation and epoch of the offer, and for a
 * reject an optional reason (at most AGENT_REASON_MAX bytes). */
typedef struct agent_answer {
    int64_t reservation_id;
    int64_t epoch;
    char reason[AGENT_REASON_MAX + 1]; /* "" when none */
} agent_answer;

status agent_msg_accept(const agent_offer *o, char **out, size_t *len, err *e);
status agent_msg_accept_decode(const char *buf, size_t len, agent_answer *out,
                               err *e);
/* reason may be NULL; it is cut to AGENT_REASON_MAX characters. */
status agent_msg_reject(const agent_offer *o, const char *reason, char **out,
                        size_t *len, err *e);
status agent_msg_reject_decode(const char *buf, size_t len, agent_answer *out,
                               err *e);

/* oc must match o (index in range, one value of the right type per field);
 * otherwise ST_INVALID. */
status agent_msg_complete(const agent_offer *o, const agent_outcome *oc,
                          char **out, size_t *len, err *e);
/* As agent_msg_complete, adding "confidence" (0..1000; ST_INVALID
 * otherwise) as AI workers send it. */
status agent_msg_complete_confidence(const agent_offer *o,
                                     const agent_outcome *oc, int confidence,
                                     char **out, size_t *len, err *e);

/* A decoded completion. Whether code and fields are what the step allows
 * is the playbook's to say (playbook_check_outcome). */
typedef struct agent_completion {
    int64_t reservation_id;
    int64_t epoch;
    char code[ID_MAX + 1];
    struct json_t *fields; /* the outcome's fields object; NULL: none */
    char *fields_json;     /* the same, compact; "{}" for none */
    int confidence;        /* 0..1000; -1 when not given */
} agent_completion;

/* *out is written on success only; release it with
 * agent_completion_release(). */
status agent_msg_complete_decode(const char *buf, size_t len,
                                 agent_completion *out, err *e);
/* Free what c holds (not c); a zeroed c is fine. */
void agent_completion_release(agent_completion *c);

/*
 * Bulk accepts and completions: {"accepts": [A, ...]} and
 * {"completions": [C, ...]} from the texts of n (1..AGENT_MANY_MAX, else
 * ST_INVALID) single requests as agent_msg_accept and agent_msg_complete
 * encode them; the decoders split them into texts for the single
 * decoders (many_msg_split).
 */
status agent_msg_accept_many(char *const *accepts, int n, char **out,
                             size_t *len, err *e);
status agent_msg_accept_many_decode(const char *buf, size_t len, many_list *out,
                                    err *e);
status agent_msg_complete_many(char *const *completions, int n, char **out,
                               size_t *len, err *e);
status agent_msg_complete_many_decode(const char *buf, size_t len,
                                      many_list *out, err *e);

/* One event of a feedback request (docs/protocol.md, "Feedback"). */
#define AGENT_FEEDBACK_MAX   64 /* events in one request */
#define AGENT_SUGGESTION_MAX 80 /* longest suggestion id */
typedef struct agent_feedback_event {
    char suggestion[AGENT_SUGGESTION_MAX + 1]; /* "reply", "model" or
                                                  "passage:<id>" */
    char action[16]; /* "shown", "opened", "copied" or "used" */
} agent_feedback_event;

/* The feedback request for the task of offer o with events ev[0..n),
 * 1 <= n <= AGENT_FEEDBACK_MAX (else ST_INVALID). */
status agent_msg_feedback(const agent_offer *o, const agent_feedback_event *ev,
                          int n, char **out, size_t *len, err *e);

/* A decoded feedback request; kinds[i] is the kind of events[i]'s
 * suggestion ("reply", "model" or "passage"). */
typedef struct agent_feedback {
    int64_t task_id;
    int64_t reservation_id;
    int nevents;
    agent_feedback_event events[AGENT_FEEDBACK_MAX];
    const char *kinds[AGENT_FEEDBACK_MAX]; /* static strings */
} agent_feedback;

/* A request with any bad event is refused as a whole. */
status agent_msg_feedback_decode(const char *buf, size_t len,
                                 agent_feedback *out, err *e);

/* ---- Dispatcher -> agent ---- */

/*
 * The offer of o. The offer carries the step's outcome table exactly as
 * the playbook stores it: outcomes_json (a JSON object's text) is sent as
 * it is and o->outcomes is not read. task_json, when not NULL, is the task
 * of an auto-accepted reservation (as agent_reply_task() carries it) and
 * makes the offer "auto_accepted". ST_INVALID when an identifier of o is
 * not one or a JSON text is not an object.
 */
status agent_offer_encode(const agent_offer *o, const char *outcomes_json,
                          const char *task_json, char **out, size_t *len,
                          err *e);

/*
 * Decode an offer body into *out. Unknown members are ignored so the
 * dispatcher can add some; missing or mistyped members, bad identifiers, an
 * empty or oversized outcome table and unknown field types are errors
 * (ST_BAD_JSON, ST_TOO_LARGE, ST_WRONG_TYPE, ST_MISSING_FIELD, ST_INVALID)
 * whose message names the member.
 */
status agent_offer_parse(const char *buf, size_t len, agent_offer *out, err *e);

/* {"type": "rescinded", "reservation_id": N, "reason": R}; reason is an
 * identifier (timeout, lease_expired, accepted_elsewhere), else
 * ST_INVALID. */
status agent_notice_encode(int64_t reservation_id, const char *reason,
                           char **out, size_t *len, err *e);

/* {"type": "session_replaced", "session_id": OLD, "by": {"id", "host",
 * "pid", "since"}}: session OLD of the worker was replaced; by (may be
 * NULL: an agent without a session) and since (UTC, RFC 3339; may be
 * NULL) say by whom. ST_INVALID for a bad id or host. */
status agent_notice_session_encode(const char *old_session,
                                   const agent_signin *by, const char *since,
                                   char **out, size_t *len, err *e);

/* {"type": "signed_out", "session_id": S, "reason": R, "note": N}: an
 * operator signed the worker out (reason logged_out or deactivated, an
 * identifier); session (NULL or "": none) is the session it ended, note
 * the operator's words (truncated to AGENT_NOTE_MAX bytes). */
status agent_notice_signout_encode(const char *session, const char *reason,
                                   const char *note, char **out, size_t *len,
                                   err *e);

/* Decode a notice body. Unknown notice types decode as AGENT_NOTICE_OTHER. */
status agent_notice_parse(const char *buf, size_t len, agent_notice *out,
                          err *e);

/* ---- Replies ---- */

/* {"ok": true}: heartbeat and reject. */
status agent_reply_ok(char **out, size_t *len, err *e);
/* {"ok": true} or, when the agent named reservations the dispatcher has
 * no record of it holding, {"ok": true, "unknown": [id, ...]}. */
status agent_reply_heartbeat(const int64_t *unknown, int n, char **out,
                             size_t *len, err *e);
/* Decode a heartbeat reply: the unknown ids into unknown (at most
 * AGENT_HELD_MAX), their number into *n. */
status agent_reply_heartbeat_parse(const char *buf, size_t len,
                                   int64_t *unknown, int *n, err *e);
/* {"ok": true, "presence": P, "slots": S}: slots_json (may be NULL: left
 * out) is the worker's slots per channel as the database builds them, a
 * JSON object's text sent as it is (else ST_INVALID). */
status agent_reply_presence(agent_presence p, const char *slots_json,
                            char **out, size_t *len, err *e);
/* {"ok": true, "task": T}: task_json is the task as the database builds it
 * (docs/protocol.md, "Accept"), sent as it is; ST_INVALID when it is not a
 * JSON object's text. */
status agent_reply_task(const char *task_json, char **out, size_t *len, err *e);
/* {"ok": true, "outcome_id": N, "billable": B, "duplicate": D}. */
status agent_reply_complete(int64_t outcome_id, bool billable, bool duplicate,
                            char **out, size_t *len, err *e);
/*
 * The refusal of a completion that differs from the one recorded before
 * for reservation_id: {"ok": false, "error": {"code": "conflict",
 * "message": ..., "outcome": {"outcome_id": N, "code": C, "fields": F}}}
 * naming the outcome that stands (fields_json: its fields object's text)
 * and the refused code. ST_INVALID when fields_json is not an object.
 */
status agent_reply_conflict(int64_t reservation_id, int64_t outcome_id,
                            const char *code, const char *fields_json,
                            const char *refused_code, char **out, size_t *len,
                            err *e);
/* {"ok": true, "stored": N}. */
status agent_reply_feedback(int64_t stored, char **out, size_t *len, err *e);

/*
 * Decode a reply body. An empty body is the server's "no responders"
 * answer: ST_UNAVAILABLE. Anything that is not a protocol reply is
 * ST_BAD_JSON or ST_WRONG_TYPE. An error reply is ST_OK with out->ok false.
 */
status agent_reply_parse(const char *buf, size_t len, agent_reply *out, err *e);

/*
 * The task's ids from an accept reply ({"ok": true, "task": {...}}) or an
 * auto-accepted offer (both carry "task"). ST_MISSING_FIELD when there is
 * no task, else as agent_offer_parse. Nothing of the customer is kept.
 */
status agent_task_parse(const char *buf, size_t len, agent_task *out, err *e);

#endif
