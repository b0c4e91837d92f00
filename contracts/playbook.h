/*
 * The playbook codec: the one place that says what a playbook is, what its
 * limits are and how it is stored. `twinline load` decodes a playbook
 * document with playbook_decode() and stores each step with
 * playbook_step_encode(); the dispatcher decodes the stored rows with
 * playbook_add_step(), playbook_step_routing() and playbook_resolve(),
 * which run the same step decoder over the same limits. So a playbook that
 * loads is a playbook the dispatcher can run, and one it could not run is
 * refused at load with the limit named (docs/config.md, "Limits").
 *
 * Step progression rule: a waiting step is decided once every step in its
 * `after` list has finished (completed or skipped). With a non-empty `when`
 * list it runs only if one of those steps completed with an outcome code in
 * `when`; without one it runs if at least one of them completed. Otherwise it
 * is skipped. A step with no `after` is ready at once. The case closes when
 * every step has finished.
 *
 * Errors are ST_INVALID (or the jsonx_check statuses ST_UNKNOWN_FIELD,
 * ST_MISSING_FIELD, ST_WRONG_TYPE) with a message that starts with the JSON
 * path of the bad value ("playbooks[0].steps[3].skills: ..."), and ST_NOMEM.
 */
#ifndef TL_PLAYBOOK_H
#define TL_PLAYBOOK_H

#include <stdbool.h>

#include <jansson.h>

#include "err.h"
#include "ids.h"
#include "money.h"
#include "payload.h"

/*
 * Limits of one playbook. The arrays of a step are fixed by these, the steps
 * and the outcomes of a step are allocated as many as there are, so a
 * cached playbook costs what it holds (docs/config.md gives the figures).
 * Skills, rings and broadcast are the router's limits (dispatcher/state.c,
 * which makes a router task of a step, checks them at compile time); outcomes,
 * fields and the string length are the worker agent's decoder's (agent_msg.h,
 * checked in playbook.c).
 */
#define PB_MAX_STEPS        32 /* steps of a playbook */
#define PB_MAX_SKILLS       8  /* required skills of a step */
#define PB_MAX_AFTER        8  /* steps a step comes after */
#define PB_MAX_OUTCOMES     16 /* outcome codes a step may end with */
#define PB_MAX_WHEN         PB_MAX_OUTCOMES /* codes in a step's `when` */
#define PB_MAX_FIELDS       8               /* fields of one outcome */
#define PB_MAX_RINGS        4               /* relaxation rings of a step */
#define PB_MAX_BROADCAST    5        /* workers a step is offered to at once */
#define PB_NAME_MAX         200      /* bytes of a playbook's name */
#define PB_LEVEL_MAX        5        /* skill levels are 0..5 */
#define PB_SLA_MAX          31536000 /* a year, in seconds */
#define PB_TTL_MAX          31536000
#define PB_RING_AFTER_MAX   (86400 * 30) /* a ring starts within 30 days */
#define PB_LOWER_BY_MAX     5
#define PB_BOOST_MAX        100 /* |priority_boost| of a ring */
#define PB_STRING_FIELD_MAX 500 /* characters of a "string" outcome field */
#define PB_AMOUNT_MAX       MONEY_AMOUNT_MAX /* an amount_minor field */

/* Channels, in the router's order (dispatcher/state.c checks it). */
enum { PB_VOICE, PB_CHAT, PB_BACKOFFICE, PB_CHANNELS };

typedef enum pb_field_type {
    PB_AMOUNT,
    PB_INT,
    PB_DATE,
    PB_STRING,
    PB_BOOL
} pb_field_type;

typedef struct pb_field {
    char name[ID_MAX + 1];
    pb_field_type type;
} pb_field;

typedef struct pb_outcome {
    char code[ID_MAX + 1];
    bool billable;
    int nfields;
    pb_field fields[PB_MAX_FIELDS];
} pb_outcome;

typedef struct pb_skill {
    char skill[ID_MAX + 1];
    int level;
} pb_skill;

typedef enum pb_ai { PB_AI_NONE, PB_AI_ASSIST, PB_AI_AUTO } pb_ai;

/* A relaxation ring of a step (docs/routing.md), as stored. */
typedef struct pb_ring {
    int after_seconds;
    int lower_by;
    bool assist;
    char overflow_pool[ID_MAX + 1]; /* "" none */
    int priority_boost;
} pb_ring;

typedef struct pb_step {
    char key[ID_MAX + 1];
    int channel; /* PB_VOICE, ... (= ROUTER_VOICE, ...) */
    int sla_seconds;
    pb_ai ai;
    int nskills;
    pb_skill skills[PB_MAX_SKILLS];
    int nafter;
    int after[PB_MAX_AFTER]; /* indexes, set by playbook_resolve() */
    char after_names[PB_MAX_AFTER][ID_MAX + 1];
    int nwhen;
    char when[PB_MAX_WHEN][ID_MAX + 1];
    int noutcomes;
    pb_outcome *outcomes;     /* noutcomes of them; owned */
    json_t *outcomes_json;    /* as stored and offered to workers; owned */
    char licence[ID_MAX + 1]; /* licence code required, "" none */
    int ttl_seconds;          /* 0: no time to live */
    int nrings;
    pb_ring rings[PB_MAX_RINGS];
    int broadcast; /* offered to this many workers at once (schema 007) */
} pb_step;

typedef struct playbook {
    char tenant[ID_MAX + 1];
    char case_type[ID_MAX + 1];
    int version;
    int nsteps;
    int cap_steps;
    pb_step *steps; /* nsteps of them; owned */
    /* What a case's payload and customer may hold (payload.h); NULL: no
     * schema, any object (and nothing of the payload is personal). */
    payload_schema *payload;  /* owned */
    payload_schema *customer; /* owned */
} playbook;

/* One step's state during progression. */
typedef enum pb_state {
    PB_WAITING,
    PB_READY, /* pending, reserved or assigned: in progress */
    PB_COMPLETED,
    PB_SKIPPED
} pb_state;

/* Channel name -> PB_* index, or -1. */
int playbook_channel(const char *name);
/* "voice", "chat", "backoffice"; "unknown" out of range. */
const char *playbook_channel_name(int channel);
/* The channel names in order, NULL-terminated (static). */
const char *const *playbook_channel_names(void);
/* "none", "assist", "auto". */
const char *playbook_ai_name(pb_ai ai);

/*
 * Decode a playbook document as `twinline load` reads it: {"tenant",
 * "case_type", "name", "steps": [...], "payload": {...}, "customer":
 * {...}} (docs/config.md; the last two optional). `where` is the
 * document's JSON path for messages ("playbooks[0]"). Checks every field,
 * every limit and the step graph (references, `when` codes, no cycles);
 * what needs the database (the tenant and overflow pools exist) is the
 * caller's. On success *out is a new playbook with version 0 and resolved
 * `after` indexes; free it with playbook_destroy().
 */
status playbook_decode(const json_t *doc, const char *where, playbook **out,
                       err *e);

/* Free pb and everything it owns; NULL is a no-op. */
void playbook_destroy(playbook *pb);

/* The JSON columns of one step in playbook_steps, as text (malloc'd). */
typedef struct pb_step_text {
    char *skills;   /* {"skill": level, ...} */
    char *after;    /* ["step", ...] */
    char *when;     /* ["code", ...] */
    char *outcomes; /* {"code": {"billable": b, "fields": {...}}, ...} */
    char *rings;    /* [{"after_seconds": n, ...}, ...]; "[]" for none */
} pb_step_text;

/*
 * Encode step st into the stored form playbook_add_step() and
 * playbook_step_routing() decode. *out is filled on success; free it with
 * playbook_step_text_free(). Only ST_NOMEM fails.
 */
status playbook_step_encode(const pb_step *st, pb_step_text *out, err *e);
void playbook_step_text_free(pb_step_text *t);

/*
 * Decode one stored step row (JSON columns as text) into
 * pb->steps[pb->nsteps++], with the step decoder and limits of
 * playbook_decode(). pb starts zeroed (tenant, case_type and version set
 * by the caller). Call playbook_step_routing() for its routing columns and
 * playbook_resolve() after the last row.
 */
status playbook_add_step(playbook *pb, const char *key, const char *channel,
                         int sla_seconds, const char *ai,
                         const char *skills_json, const char *after_json,
                         const char *when_json, const char *outcomes_json,
                         err *e);

/*
 * Routing extras of step index `step` (schema 004): the licence code
 * required (NULL or "" for none), the rings as stored (JSON array text,
 * NULL or "" for none) and the time to live in seconds (0 for none).
 */
status playbook_step_routing(playbook *pb, int step, const char *licence,
                             const char *rings_json, int ttl_seconds, err *e);

/*
 * Check the step graph of the rows added (as playbook_decode does) and
 * resolve `after` names to step indexes.
 */
status playbook_resolve(playbook *pb, err *e);

/*
 * The payload and customer schemas of a stored playbook (the members
 * "payload" and "customer" of its definition as JSON text; NULL or "" for
 * none), decoded as playbook_decode decodes them, into pb (replacing what
 * it had). Errors: those of payload_schema_decode, the path starting with
 * "payload" or "customer".
 */
status playbook_set_schemas(playbook *pb, const char *payload_json,
                            const char *customer_json, err *e);

/*
 * Check a submit's customer and payload against pb's schemas and split
 * them into the plain payload and the sealed part (payload_check).
 */
status playbook_check_case(const playbook *pb, const char *customer_json,
                           const char *payload_json, char **plain,
                           char **personal, err *e);

/*
 * True when a and b hold the same steps in the same order with the same
 * fields (outcomes compared by code, since the database keeps an object's
 * keys in an order of its own; tenant, case type and version ignored)
 * and the same payload and customer schemas.
 * The tests and the fuzzer use it to check that what the loader stores is
 * what the dispatcher decodes.
 */
bool playbook_same(const playbook *a, const playbook *b);

/* Free what the steps own (not pb itself); pb is empty afterwards. */
void playbook_release(playbook *pb);

/* Index of step key, or -1. */
int playbook_step_index(const playbook *pb, const char *key);

/* The outcome definition of code in step, or NULL. */
const pb_outcome *playbook_outcome(const pb_step *st, const char *code);

/*
 * Check that code is allowed in st and fields (a JSON object, may be NULL
 * for none) has exactly its fields with valid values. ST_OUTCOME_NOT_ALLOWED
 * with a message naming the problem.
 */
status playbook_check_outcome(const pb_step *st, const char *code,
                              const json_t *fields, err *e);

/*
 * Advance waiting steps per the progression rule. states[i] and codes[i]
 * (outcome code of completed steps, "" otherwise) describe step i. Returns
 * true when anything changed.
 */
bool playbook_advance(const playbook *pb, pb_state *states,
                      const char (*codes)[ID_MAX + 1]);

/* True when every step is completed or skipped. */
bool playbook_finished(const playbook *pb, const pb_state *states);

#endif
