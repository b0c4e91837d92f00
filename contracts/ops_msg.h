/*
 * The operator's actions on workers and tasks (docs/protocol.md,
 * "Operator requests"): <p>.ops.<operator>.worker.deactivate, .activate,
 * .logout, .skills, .pool, .task.reassign, .cancel and the elastic
 * call-up's .callup.invite and .callup.release. The dispatcher
 * decodes them, the console and the CLI encode them; the reply and the
 * audit record's details are written here too, so the three agree.
 *
 * Every request carries a reason of 1 to OPS_REASON_MAX bytes; worker
 * requests name the worker, task requests the task. Decoding is strict
 * (unknown fields, wrong types, bad identifiers are errors naming the
 * field); encoders check the same limits before sending.
 */
#ifndef TL_OPS_MSG_H
#define TL_OPS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ids.h"

#define OPS_REASON_MAX 500
#define OPS_SKILLS_MAX 32 /* as many as the router keeps per worker */
#define OPS_LEVEL_MAX  5
#define OPS_MSG_MAX    16384

typedef enum ops_verb {
    OPS_WORKER_DEACTIVATE,
    OPS_WORKER_ACTIVATE,
    OPS_WORKER_LOGOUT,
    OPS_WORKER_SKILLS,
    OPS_WORKER_POOL,
    OPS_TASK_REASSIGN,
    OPS_TASK_CANCEL,
    OPS_CALLUP_INVITE,  /* invite an on-call worker (the console's call-up) */
    OPS_CALLUP_RELEASE, /* send a called-up worker off shift again */
    OPS_VERB_COUNT
} ops_verb;

/* The subject's verb ("worker.deactivate"). */
const char *ops_verb_name(ops_verb v);
/* The verb of name into *out; false when it is none of these. */
bool ops_verb_parse(const char *name, ops_verb *out);
/* Whether v is about a task (else about a worker). */
bool ops_verb_is_task(ops_verb v);

typedef struct ops_skill {
    char skill[ID_MAX + 1];
    int level;    /* 0..OPS_LEVEL_MAX */
    int ai_level; /* 0..OPS_LEVEL_MAX */
} ops_skill;

/* One request; which members count depends on verb. */
typedef struct ops_req {
    ops_verb verb;
    char worker[ID_MAX + 1]; /* worker.*: the worker; task.reassign: the
                                worker to offer it to, "" for any */
    int64_t task_id;         /* task.* */
    char pool[ID_MAX + 1];   /* worker.pool: the new pool */
    int nskills;             /* worker.skills: the complete new set */
    ops_skill skills[OPS_SKILLS_MAX];
    char skill[ID_MAX + 1]; /* callup.invite: the skill called for */
    int required;           /* callup.invite: the staffing figure ... */
    int online;             /* ... and the workers online that decided it */
    int answer_s;           /* callup.invite: time to answer, 10..3600 */
    char reason[OPS_REASON_MAX + 1];
} ops_req;

/* Decode the body of a request of verb v into *out. Errors: ST_BAD_JSON,
 * ST_TOO_LARGE, ST_UNKNOWN_FIELD, ST_MISSING_FIELD, ST_WRONG_TYPE,
 * ST_INVALID (a bad id, level, reason length), each naming the field. */
status ops_msg_decode(ops_verb v, const char *buf, size_t len, ops_req *out,
                      err *e);

/* The body of r (caller frees *out); the limits of ops_msg_decode are
 * checked first (ST_INVALID). */
status ops_msg_encode(const ops_req *r, char **out, size_t *len, err *e);

/* What an action did, for its reply. */
typedef struct ops_result {
    bool changed;      /* false: it was so already (nothing written) */
    const char *state; /* the worker's or task's state now ("offline",
                          "pending", "canceled", ...), or NULL */
    int released;      /* offers and tasks taken back from workers */
    const char *pool;  /* worker.pool: the pool now, else NULL */
    int64_t callup_id; /* callup.*: the call-up, else 0 */
} ops_result;

/* {"ok": true, "action": ..., "worker"/"task_id": ..., "changed": ...,
 * "state": ..., "released": N[, "pool"][, "offered_to"]}; caller frees. */
status ops_msg_reply(const ops_req *r, const ops_result *res, char **out,
                     size_t *len, err *e);

/* The audit record's details: the request's members and the result, as
 * a JSON object's text (caller frees). */
status ops_msg_details(const ops_req *r, const ops_result *res, char **out,
                       err *e);

/* A reply decoded: ok, or the error's code and message; on ok, its state
 * and released count (for the CLI). */
typedef struct ops_reply {
    bool ok;
    char code[48];
    char message[ERR_MSG_MAX];
    bool changed;
    char state[32];
    int released;
    int64_t callup_id;
} ops_reply;

status ops_msg_reply_decode(const char *buf, size_t len, ops_reply *out,
                            err *e);

#endif
