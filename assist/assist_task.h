/*
 * The task a worker accepted, as the assist panel sees it: the `task`
 * object of an accept reply (docs/protocol.md, "Accept"), with its ids,
 * customer, payload, history and the step's outcomes.
 *
 * This is the assist panel's codec: the only assist module that sees
 * JSON. Values are reached by dotted paths from the task object
 * ("customer.name", "payload.overdue_minor", "history.0.code").
 *
 * The task holds customer data: it is never logged. An assist_task is
 * immutable once parsed; threads may share it.
 */
#ifndef TL_ASSIST_TASK_H
#define TL_ASSIST_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_session.h"
#include "err.h"
#include "ids.h"

#define ASSIST_VALUE_MAX   500 /* bytes of one value as text */
#define ASSIST_PATH_MAX    200 /* bytes of a dotted path */
#define ASSIST_HISTORY_MAX 64  /* history entries kept */

typedef enum assist_value_kind {
    ASSIST_VALUE_MISSING, /* absent, null, or an object or array */
    ASSIST_VALUE_STRING,
    ASSIST_VALUE_INT,
    ASSIST_VALUE_REAL,
    ASSIST_VALUE_BOOL
} assist_value_kind;

typedef struct assist_value {
    assist_value_kind kind;
    int64_t i;                    /* ASSIST_VALUE_INT */
    double d;                     /* ASSIST_VALUE_REAL */
    bool b;                       /* ASSIST_VALUE_BOOL */
    char s[ASSIST_VALUE_MAX + 1]; /* every kind but MISSING, as text; cut
                                    at a character boundary */
} assist_value;

typedef struct assist_history_entry {
    char step[ID_MAX + 1];
    char worker[ID_MAX + 1];
    char code[ID_MAX + 1];
} assist_history_entry;

typedef struct assist_task assist_task;

/*
 * Parse buf[0..len): an accept reply ({"ok": true, "task": {...}}) or the
 * task object alone. tenant, case_type and step are required identifiers;
 * channel, external_id, customer, payload, history and outcomes are
 * optional; other members are ignored so the dispatcher may add some.
 * Errors name the member: ST_BAD_JSON, ST_TOO_LARGE (over AGENT_REPLY_MAX
 * bytes, too many outcomes or fields), ST_WRONG_TYPE, ST_MISSING_FIELD,
 * ST_INVALID.
 */
status assist_task_parse(assist_task **out, const char *buf, size_t len,
                         err *e);

/* Read and parse a task file; ST_IO when unreadable. */
status assist_task_load(assist_task **out, const char *path, err *e);

/* NULL is a no-op. */
void assist_task_destroy(assist_task *t);

/* Identifiers of the task (borrowed; "" when absent). */
const char *assist_task_tenant(const assist_task *t);
const char *assist_task_case_type(const assist_task *t);
const char *assist_task_step(const assist_task *t);
const char *assist_task_channel(const assist_task *t);

/* The value at a dotted path (see above) into *out; false (and kind
 * MISSING) when there is none or it is an object, array or null. */
bool assist_task_value(const assist_task *t, const char *path,
                       assist_value *out);

/* The step's outcomes as offered (borrowed), 0 <= i < count. */
int assist_task_outcome_count(const assist_task *t);
const agent_outcome_spec *assist_task_outcome(const assist_task *t, int i);

/* Earlier outcomes of the case, oldest first (borrowed). */
int assist_task_history_count(const assist_task *t);
const assist_history_entry *assist_task_history(const assist_task *t, int i);

/*
 * Call fn for each payload member whose value is a string or a number,
 * with its key and its value as text (both borrowed for the call), in the
 * payload's order.
 */
typedef void (*assist_member_fn)(const char *key, const char *value, void *arg);
void assist_task_payload_each(const assist_task *t, assist_member_fn fn,
                              void *arg);

#endif
