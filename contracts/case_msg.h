/*
 * The messages of the bank API (docs/protocol.md, "Bank API"), each with
 * one encoder and one decoder, shared by the dispatcher and its clients:
 *
 *   case.submit            case_msg_submit_encode / _decode, and the reply
 *                          case_msg_submit_reply / case_msg_reply_decode
 *   case.get               case_msg_get_encode / _decode, and the reply
 *                          case_msg_get_reply / case_msg_reply_decode
 *   case.reopen, complaint case_msg_dispute_encode / _decode, and the reply
 *                          case_msg_dispute_reply / _reply_decode
 *   case.submit_many       case_msg_submit_many_encode / _decode; the reply
 *                          many_msg_reply / many_msg_reply_split
 *                          (many_msg.h), each result a submit reply
 *
 * Error replies are encoded by jsonx_error_reply() (common/jsonx.h), the
 * quota's by case_msg_rate_limited_reply, and decoded by every reply
 * decoder here (ok false, code and message).
 *
 * Request decoders are strict, as the dispatcher answers them: an unknown,
 * missing or mistyped member or a value out of range is an error
 * (ST_BAD_JSON, ST_TOO_LARGE, ST_WRONG_TYPE, ST_UNKNOWN_FIELD,
 * ST_MISSING_FIELD, ST_INVALID) whose message names the member. Reply
 * decoders ignore members they do not know.
 *
 * The case object of a reply is built by the database (dispatcher/sql/),
 * so encoders take it as JSON text and send it as it is.
 *
 * Pure functions, no I/O. An encoder writes a new NUL-terminated string to
 * *out (the caller frees it) and its length to *len; it fails only with
 * ST_NOMEM or, for values a message cannot carry, ST_INVALID.
 */
#ifndef TL_CASE_MSG_H
#define TL_CASE_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ids.h"
#include "many_msg.h"

#define CASE_SUBMIT_MAX      (64 * 1024) /* largest submit request */
#define CASE_MSG_MAX         (16 * 1024) /* largest other bank request */
#define CASE_REPLY_MAX       (1024 * 1024)
#define CASE_EXTERNAL_ID_MAX 128 /* bytes of an external id */
#define CASE_PRIORITY_MAX    9
#define CASE_REASON_MAX      500  /* bytes of a dispute's reason */
#define CASE_REPLY_TASKS     64   /* tasks a decoded case.get reply keeps */
#define CASE_MANY_MAX        1000 /* cases of one case.submit_many */
#define CASE_SUBMIT_MANY_MAX (1024 * 1024) /* bytes of a submit_many */

/* A case submission. */
typedef struct case_submit {
    char external_id[CASE_EXTERNAL_ID_MAX + 1];
    char case_type[ID_MAX + 1];
    int priority;   /* 0..9 */
    char *customer; /* compact JSON object, owned; "{}" when absent */
    char *payload;  /* as customer */
} case_submit;

/* customer and payload may be NULL (left out of the request). */
status case_msg_submit_encode(const case_submit *s, char **out, size_t *len,
                              err *e);
/* *out is written on success only; release it with case_submit_release. */
status case_msg_submit_decode(const char *buf, size_t len, case_submit *out,
                              err *e);
/* Free what s holds (not s); a zeroed s is fine. */
void case_submit_release(case_submit *s);

/* {"cases": [submit, ...]} of n submits (1..CASE_MANY_MAX, else
 * ST_INVALID). */
status case_msg_submit_many_encode(const case_submit *s, int n, char **out,
                                   size_t *len, err *e);
/* The cases of a submit_many as texts, each for case_msg_submit_decode
 * (many_msg_split with member "cases"). */
status case_msg_submit_many_decode(const char *buf, size_t len, many_list *out,
                                   err *e);

/* A case named by exactly one of its id and its external id. */
typedef struct case_ref {
    int64_t case_id;                            /* 0: by external id */
    char external_id[CASE_EXTERNAL_ID_MAX + 1]; /* "": by id */
} case_ref;

status case_msg_get_encode(const case_ref *r, char **out, size_t *len, err *e);
/* ST_MISSING_FIELD without either id, ST_INVALID with both. */
status case_msg_get_decode(const char *buf, size_t len, case_ref *out, err *e);

/* A reopen or a complaint (the subject says which). */
typedef struct case_dispute {
    case_ref ref;
    char reason[CASE_REASON_MAX + 1]; /* 1..500 bytes */
    char request_id[ID_MAX + 1];      /* "": none */
} case_dispute;

status case_msg_dispute_encode(const case_dispute *d, char **out, size_t *len,
                               err *e);
status case_msg_dispute_decode(const char *buf, size_t len, case_dispute *out,
                               err *e);

/* {"ok": true, "created": C, "case": K}: case_json is the case object as
 * the database builds it; ST_INVALID when it is not a JSON object. */
status case_msg_submit_reply(bool created, const char *case_json, char **out,
                             size_t *len, err *e);
/* {"ok": true, "case": K}: K with its tasks. */
status case_msg_get_reply(const char *case_json, char **out, size_t *len,
                          err *e);
/* {"ok": true, "created": C, "<kind>": R}, kind "reopen" or "complaint"
 * (else ST_INVALID), R the stored record as the database builds it. */
status case_msg_dispute_reply(bool created, const char *kind,
                              const char *record_json, char **out, size_t *len,
                              err *e);

/* One task of a case as case.get shows it. */
typedef struct case_task_view {
    int64_t id;
    char step[ID_MAX + 1];
    char state[16];
    char worker[ID_MAX + 1];  /* "" when none */
    char outcome[ID_MAX + 1]; /* outcome code; "" when none */
} case_task_view;

/* A decoded submit or get reply. */
typedef struct case_reply {
    bool ok;
    char code[48];          /* error code when !ok */
    char message[256];      /* error message when !ok, truncated */
    bool created;           /* submit replies */
    int64_t retry_after_ms; /* rate_limited: wait this long; 0 otherwise */
    int64_t id;
    char external_id[CASE_EXTERNAL_ID_MAX + 1];
    char case_type[ID_MAX + 1];
    char state[16];
    int priority;
    int playbook_version;
    int ntasks; /* get replies; at most CASE_REPLY_TASKS are kept */
    case_task_view tasks[CASE_REPLY_TASKS];
} case_reply;

/*
 * The refusal of a request over its tenant's quota: {"ok": false, "error":
 * {"code": "rate_limited", "message": M, "retry_after_ms": N}}; N >= 1.
 */
status case_msg_rate_limited_reply(const char *message, int64_t retry_after_ms,
                                   char **out, size_t *len, err *e);

/* An empty body (no dispatcher answered) is ST_UNAVAILABLE; a body that
 * is not a reply is ST_BAD_JSON or ST_WRONG_TYPE. */
status case_msg_reply_decode(const char *buf, size_t len, case_reply *out,
                             err *e);

/* A decoded dispute reply. */
typedef struct case_dispute_reply {
    bool ok;
    char code[48];
    char message[256];
    bool created;
    char kind[16]; /* "reopen" or "complaint" */
    int64_t id;    /* the dispute's id */
    int64_t case_id;
    char external_id[CASE_EXTERNAL_ID_MAX + 1];
    char reason[CASE_REASON_MAX + 1];
} case_dispute_reply;

status case_msg_dispute_reply_decode(const char *buf, size_t len,
                                     case_dispute_reply *out, err *e);

/* An operator's change of a task's priority (<p>.ops.<operator>.task.priority).
 */
#define CASE_TASK_PRIORITY_MIN (-100)
#define CASE_TASK_PRIORITY_MAX 100
typedef struct case_task_priority {
    int64_t task_id;
    int priority;
} case_task_priority;

status case_msg_priority_encode(const case_task_priority *p, char **out,
                                size_t *len, err *e);
status case_msg_priority_decode(const char *buf, size_t len,
                                case_task_priority *out, err *e);
/* {"ok": true, "task_id": N, "priority": P}. */
status case_msg_priority_reply(const case_task_priority *p, char **out,
                               size_t *len, err *e);
/* ok false: code and message; ok true: *p. */
status case_msg_priority_reply_decode(const char *buf, size_t len, bool *ok,
                                      case_task_priority *p, char code[48],
                                      err *e);

#endif
