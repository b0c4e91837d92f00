/*
 * The decision of an AI worker (twinline-agent --ai): for a task it
 * accepted, which of the step's outcomes to send, how sure it is, and
 * valid values for the outcome's fields, from the assist panel's retrieval
 * over the tenant's knowledge base (docs/agent.md, "AI workers").
 *
 * The rule, deterministic for a given task, knowledge base and time:
 *
 *  - The document: the payload's values (the document under review),
 *    joined, are checked with assist_rules_check_document against the
 *    tenant's rules that apply to the task: forbidden phrases (a breach
 *    for a block rule, a caution for a warn or info one) and document
 *    checks (topics a document must mention, e.g. a loan leaflet's fees,
 *    interest rate, term and default). An outcome is adverse when a word
 *    of its code ('_' separated) is "non", "not", "no", "reject",
 *    "rejected" or "refused".
 *     * flaws = breaches + topics missing from block checks. With
 *       flaws > 0 and an adverse outcome, the first adverse outcome is
 *       chosen with confidence 1000 - 100 / flaws (900, 950, 967, ...):
 *       the document says what the bank forbids or leaves out what it
 *       must say.
 *     * Else with cautions > 0 (a phrase that is fine in one context and
 *       not in another, "guaranteed", "保本"), the first non-billable
 *       outcome (else the first non-adverse) with confidence
 *       AGENT_AI_CAUTION_CONF: a person judges it.
 *     * Else when at least one document check applied (so the document
 *       is of a kind the tenant says how to judge) and a billable
 *       non-adverse outcome exists, that outcome with confidence
 *       1000 - 200 / (1 + topics mentioned) (900 for one topic, 967 for
 *       five): every required topic is there and no phrase is.
 *     * Else the knowledge base says nothing decisive, and retrieval
 *       decides.
 *  - Retrieval: the panel's query (assist_panel_build) ranks the
 *    top k passages P, and each outcome o is a query of its code with '_'
 *    read as a space. Its support is
 *      support(o) = sum over p in P of  w(p) * bm25(o, p)
 *    where w(p) = score(p) / score(top passage) weighs how well p fits the
 *    task. The outcome of most support wins; ties go to the one listed
 *    first. With S the top passage's score, b the best support and r the
 *    runner-up's (0 with one outcome):
 *      strength   = S / (S + AGENT_AI_SCORE_HALF)   how well the kb
 *                                                    covers the case
 *      evidence   = b / (b + AGENT_AI_SCORE_HALF)   how much it says
 *                                                    about the outcome
 *      margin     = (b - r) / b, or 0 when b = 0     how clearly
 *      confidence = round(1000 * strength * (1 + evidence * margin) / 2)
 *    so a case the knowledge base covers well and an outcome it clearly
 *    and strongly favours approach 1000, and with no support at all (the
 *    first non-adverse outcome is chosen) the confidence is at most 500:
 *    the AI asks for review. No passage at all gives confidence 0.
 *  - Below the floor (confidence < floor) the AI abstains: it sends the
 *    step's first non-billable outcome instead, if there is one, with the
 *    same confidence, so the dispatcher's review (threshold above the
 *    floor) hands it to a person.
 *  - Fields: amount_minor 0, int 0, date the day of now (UTC), string a
 *    note naming the evidence (the phrase rule or the top passage's
 *    citation), bool false.
 *
 * No I/O, no NATS: agent_sim calls it on the accept reply's task, and tests
 * call it on task files.
 */
#ifndef TL_AGENT_AI_H
#define TL_AGENT_AI_H

#include <stdbool.h>
#include <stdint.h>

#include "agent_session.h"
#include "assist_panel.h"
#include "assist_task.h"
#include "err.h"

#define AGENT_AI_PASSAGES     5    /* passages the decision reads */
#define AGENT_AI_SCORE_HALF   10.0 /* top score at which strength is 1/2 */
#define AGENT_AI_CONF_MAX     1000
#define AGENT_AI_DOC_MAX      8192 /* bytes of payload text checked */
#define AGENT_AI_CAUTION_CONF 300  /* a caution: a person must judge */

typedef struct agent_ai_decision {
    int index;                    /* into the task's outcomes: what is sent */
    char code[ID_MAX + 1];        /* its code */
    int confidence;               /* 0..AGENT_AI_CONF_MAX, per mille */
    int chosen;                   /* the retrieval's pick, before the floor */
    bool abstained;               /* below the floor: index != chosen */
    int breaches;                 /* forbidden phrases found in the payload */
    assist_doc_findings findings; /* the document check, for notes/tests */
    double support[AGENT_MAX_OUTCOMES]; /* per outcome, for logs and tests */
    char date[32]; /* "YYYY-MM-DD" of now, UTC (room for any int year) */
    char note[AGENT_STRING_MAX + 1]; /* for string fields */
} agent_ai_decision;

/*
 * Decide task t (borrowed; its outcomes are the ones decided over and must
 * match the offer's, which the dispatcher guarantees) with the knowledge
 * base kb (borrowed; of t's tenant, else ST_INVALID) at now (seconds since
 * the epoch, UTC) and the floor (0..1000) into *out. ST_INVALID also for a
 * task without outcomes or a floor out of range; ST_NOMEM.
 */
status agent_ai_decide(const assist_kb *kb, const assist_task *t, int64_t now,
                       int floor, agent_ai_decision *out, err *e);

/*
 * The cautious decision when the task cannot be assessed (no knowledge
 * base for its tenant, an unreadable accept reply): the first non-billable
 * outcome of offer o (else its first) with confidence 0, so a person
 * reviews it; fields as above, the note saying why.
 */
void agent_ai_fallback(const agent_offer *o, int64_t now,
                       agent_ai_decision *out);

/*
 * The complete request for offer o with decision d and its "confidence":
 * the code is looked up in o by name and every field o lists for it is
 * filled by the rule above. A new string in *out (caller frees), its
 * length in *len. ST_INVALID when o does not list the code; ST_NOMEM.
 */
status agent_ai_complete_body(const agent_offer *o, const agent_ai_decision *d,
                              char **out, size_t *len, err *e);

#endif
