/*
 * The assist panel for one task, with no model: the knowledge passages
 * that fit the case (BM25, with citations "file § heading"), the
 * compliance prompts, a suggested reply and the step's next steps
 * (docs/assist.md).
 *
 * An assist_kb is one tenant's knowledge base folder, loaded once and
 * shared by every panel of that tenant (immutable; threads may share it).
 * A panel is plain data owned by its caller, also given as text lines for
 * a screen to draw; it borrows passages from its kb, so the kb must
 * outlive it.
 */
#ifndef TL_ASSIST_PANEL_H
#define TL_ASSIST_PANEL_H

#include <stdbool.h>
#include <stdint.h>

#include "assist_index.h"
#include "assist_reply.h"
#include "assist_rules.h"
#include "assist_task.h"
#include "err.h"

#define ASSIST_PANEL_K_MAX  10   /* passages a panel shows at most */
#define ASSIST_QUERY_MAX    2048 /* bytes of the query text */
#define ASSIST_CITATION_MAX (ASSIST_FILE_NAME_MAX + ASSIST_HEADING_MAX + 8)
#define ASSIST_EXCERPT_MAX  400 /* bytes of a passage's excerpt */

typedef struct assist_kb assist_kb;

/*
 * Load the knowledge base folder dir: its *.md and *.txt files (indexed)
 * and its rules.json. Errors of assist_index_load_dir and
 * assist_rules_load, naming the file.
 */
status assist_kb_load(assist_kb **out, const char *dir, err *e);

/* NULL is a no-op. */
void assist_kb_destroy(assist_kb *kb);

const assist_index *assist_kb_index(const assist_kb *kb);
const assist_rules *assist_kb_rules(const assist_kb *kb);

typedef struct assist_panel_passage {
    const assist_passage *passage; /* borrowed from the kb */
    double score;
    char citation[ASSIST_CITATION_MAX + 1]; /* "file § heading" */
    char excerpt[ASSIST_EXCERPT_MAX + 1];   /* one line, cut with "..." */
} assist_panel_passage;

typedef struct assist_panel {
    char query[ASSIST_QUERY_MAX + 1]; /* what retrieval was asked */
    int npassages;
    assist_panel_passage passages[ASSIST_PANEL_K_MAX];
    char case_type[ID_MAX + 1];
    char step[ID_MAX + 1];
    char channel[ID_MAX + 1];
    assist_rules_ctx ctx; /* points into the three above */
    assist_prompts prompts;
    /* The suggested reply as it may be said now: its sentences that no
     * prompt withholds and that hold no forbidden phrase (owned); NULL
     * without a template or when every sentence is held back. */
    char *reply;
    int reply_missing; /* placeholders of the shown reply not filled */
    bool has_template; /* the tenant has a reply for this case and step */
    int reply_held;    /* sentences held back until a prompt is acked */
    char reply_held_by[ID_MAX + 1];      /* the first prompt holding one */
    int reply_forbidden;                 /* sentences never shown: they hold a
                                            forbidden phrase (from the task) */
    char reply_forbidden_by[ID_MAX + 1]; /* the rule */
    int nsentences;
    assist_sentence *sentences; /* the whole reply (owned) */
    bool *sentence_forbidden;   /* by sentence (owned) */
    int nsteps;
    char steps[AGENT_MAX_OUTCOMES][ASSIST_STEP_MAX];
    char step_codes[AGENT_MAX_OUTCOMES][ID_MAX + 1];
    bool step_held[AGENT_MAX_OUTCOMES]; /* withheld now ("outcomes.<code>") */
    int steps_held;
    char steps_held_by[ID_MAX + 1];
    int nlines;
    char **lines; /* the panel as text (owned); see assist_panel_line */
} assist_panel;

/*
 * Build the panel of task t (which must be of kb's tenant: else
 * ST_INVALID) at now (seconds since the epoch, UTC) with at most k
 * (1..ASSIST_PANEL_K_MAX) passages. *out is the caller's. ST_NOMEM.
 */
status assist_panel_build(assist_panel **out, const assist_kb *kb,
                          const assist_task *t, int64_t now, int k, err *e);

/*
 * Check a draft reply for forbidden phrases: the block prompts found are
 * added to p's prompts and its lines redrawn. Returns ST_OK; *found (may
 * be NULL) gets the number of phrases found. ST_NOMEM.
 */
status assist_panel_check_draft(assist_panel *p, const assist_kb *kb,
                                const char *draft, int *found, err *e);

/* Acknowledge the prompts with id and redraw: what they withheld may be
 * suggested now (reply, steps and lines change). ST_NOT_FOUND, ST_NOMEM. */
status assist_panel_ack(assist_panel *p, const char *id, err *e);

/* True when every prompt needing an acknowledgement has one. */
bool assist_panel_may_complete(const assist_panel *p);

/* Line i of the panel as text (borrowed), 0 <= i < p->nlines, or NULL. */
const char *assist_panel_line(const assist_panel *p, int i);

/* NULL is a no-op. */
void assist_panel_destroy(assist_panel *p);

#endif
