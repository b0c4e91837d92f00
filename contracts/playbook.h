/*
 * Playbook steps as the dispatcher needs them: routing requirements, the
 * outcomes a step may end with (and their fields), and the rule that makes
 * later steps ready when earlier ones finish.
 *
 * Step progression rule: a waiting step is decided once every step in its
 * `after` list has finished (completed or skipped). With a non-empty `when`
 * list it runs only if one of those steps completed with an outcome code in
 * `when`; without one it runs if at least one of them completed. Otherwise it
 * is skipped. A step with no `after` is ready at once. The case closes when
 * every step has finished.
 */
#ifndef TL_PLAYBOOK_H
#define TL_PLAYBOOK_H

#include <stdbool.h>

#include <jansson.h>

#include "err.h"
#include "ids.h"

#define PB_MAX_STEPS     16
#define PB_MAX_SKILLS    8
#define PB_MAX_DEPS      8
#define PB_MAX_OUTCOMES  12
#define PB_MAX_FIELDS    8
#define PB_MAX_RINGS     4
#define PB_MAX_BROADCAST 5 /* = ROUTER_BROADCAST_MAX */

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
    int channel; /* ROUTER_VOICE, ... */
    int sla_seconds;
    pb_ai ai;
    int nskills;
    pb_skill skills[PB_MAX_SKILLS];
    int nafter;
    int after[PB_MAX_DEPS]; /* indexes, set by playbook_resolve() */
    char after_names[PB_MAX_DEPS][ID_MAX + 1];
    int nwhen;
    char when[PB_MAX_OUTCOMES][ID_MAX + 1];
    int noutcomes;
    pb_outcome outcomes[PB_MAX_OUTCOMES];
    json_t *outcomes_json;    /* as offered to workers; owned */
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
    pb_step steps[PB_MAX_STEPS];
} playbook;

/* One step's state during progression. */
typedef enum pb_state {
    PB_WAITING,
    PB_READY, /* pending, reserved or assigned: in progress */
    PB_COMPLETED,
    PB_SKIPPED
} pb_state;

/* Channel name -> ROUTER_* index, or -1. */
int playbook_channel(const char *name);
const char *playbook_channel_name(int channel);

/*
 * Parse one step row (as the dispatcher selects it, JSON columns as text)
 * into pb->steps[pb->nsteps++]. Call playbook_resolve() after the last one.
 */
status playbook_add_step(playbook *pb, const char *key, const char *channel,
                         int sla_seconds, const char *ai,
                         const char *skills_json, const char *after_json,
                         const char *when_json, const char *outcomes_json,
                         err *e);

/*
 * Routing extras of step index `step` (schema 004): the licence code
 * required (NULL or "" for none), the rings as stored (JSON array text,
 * NULL for none) and the time to live in seconds (0 for none). ST_INVALID
 * names what is wrong with a ring.
 */
status playbook_step_routing(playbook *pb, int step, const char *licence,
                             const char *rings_json, int ttl_seconds, err *e);

/* Resolve `after` names to step indexes; ST_INVALID names a missing one. */
status playbook_resolve(playbook *pb, err *e);

/* Free what the steps own (not pb itself). */
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
