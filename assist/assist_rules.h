/*
 * A tenant's compliance rules and reply templates, from its rules.json
 * (format in docs/assist.md), and the prompts they give for one task.
 *
 * Three kinds of rule give prompts:
 *   - contact_hours: contact is allowed from "from" (inclusive) to "to"
 *     (exclusive) in the customer's local time; outside, the rule's
 *     severity applies, inside an info prompt says until when;
 *   - forbidden_phrases: a reminder prompt, and a block prompt for each
 *     phrase found in a draft reply (ASCII case and width are ignored,
 *     runs of white space compare equal; Chinese matches as written);
 *   - disclosures: a statement the worker must make;
 *   - document_checks: what a document under review must mention (a
 *     reminder prompt; assist_rules_check_document does the check).
 * A rule applies to the case types, steps and channels it lists (all when
 * it lists none). A prompt of a rule with "ack_required": true must be
 * acknowledged before the outcome may be sent; until then nothing the rule
 * "withholds" may be suggested: "reply" (the whole suggested reply), a
 * task value by its path or a path above it ("payload",
 * "payload.overdue_minor": the reply's sentences that use it), or
 * "outcomes.<code>" (that next step).
 *
 * The rules are immutable once loaded; threads may share them. Prompts are
 * plain data owned by the caller.
 */
#ifndef TL_ASSIST_RULES_H
#define TL_ASSIST_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ids.h"

#define ASSIST_RULES_FILE_MAX     (1024 * 1024) /* bytes of a rules file */
#define ASSIST_HOURS_RULES_MAX    16
#define ASSIST_PHRASE_RULES_MAX   32
#define ASSIST_DISCLOSURES_MAX    32
#define ASSIST_PHRASES_MAX        64  /* phrases of one rule */
#define ASSIST_PHRASE_MAX         200 /* bytes of one phrase */
#define ASSIST_SCOPE_MAX          32  /* entries of case_types/steps/channels */
#define ASSIST_RULE_TEXT_MAX      400 /* bytes of a rule's text */
#define ASSIST_REPLIES_MAX        256 /* reply templates */
#define ASSIST_TEMPLATE_MAX       2000 /* bytes of one template */
#define ASSIST_HINT_MAX           500  /* bytes of one query hint */
#define ASSIST_PREFIXES_MAX       64   /* phone prefixes with an offset */
#define ASSIST_PROMPT_TEXT_MAX    600  /* bytes of a prompt's text */
#define ASSIST_PROMPTS_MAX        96
#define ASSIST_DOC_CHECKS_MAX     16 /* document_checks rules */
#define ASSIST_TOPICS_MAX         16 /* must_mention topics of one check */
#define ASSIST_FINDING_MAX        (ID_MAX + ASSIST_PHRASE_MAX + 8)
#define ASSIST_WITHHOLDS_MAX      16  /* entries of one rule's "withholds" */
#define ASSIST_WITHHOLD_MAX       100 /* bytes of one entry */
#define ASSIST_WITHHOLDS_TEXT_MAX 255 /* bytes of a prompt's list of them */

typedef enum assist_severity {
    ASSIST_INFO,
    ASSIST_WARN,
    ASSIST_BLOCK
} assist_severity;

typedef struct assist_prompt {
    char id[ID_MAX + 1]; /* the rule's id */
    assist_severity severity;
    bool ack_required;
    bool acked;
    char text[ASSIST_PROMPT_TEXT_MAX + 1];
    /* What the rule withholds until the prompt is acknowledged, as
     * " entry entry " (each between spaces); "" for none. Only a prompt
     * that requires an acknowledgement withholds anything. */
    char withholds[ASSIST_WITHHOLDS_TEXT_MAX + 1];
} assist_prompt;

typedef struct assist_prompts {
    int n;
    bool truncated; /* more prompts than ASSIST_PROMPTS_MAX were due */
    assist_prompt items[ASSIST_PROMPTS_MAX];
} assist_prompts;

/* What the rules are checked against. Strings are borrowed. */
typedef struct assist_rules_ctx {
    const char *case_type;
    const char *step;
    const char *channel;
    int utc_offset_min; /* customer's local time minus UTC, in minutes */
    bool offset_known;  /* false: UTC assumed, and the prompt says so */
} assist_rules_ctx;

typedef struct assist_rules assist_rules;

/*
 * Parse a rules file's text buf[0..len); name (the file's path) starts
 * every error message. Strict: unknown fields, missing fields, wrong types,
 * bad times, offsets, severities and identifiers, repeated rule ids and
 * values past the limits above are errors naming the field
 * (ST_BAD_JSON, ST_UNKNOWN_FIELD, ST_MISSING_FIELD, ST_WRONG_TYPE,
 * ST_INVALID, ST_TOO_LARGE). *out is the caller's.
 */
status assist_rules_parse(assist_rules **out, const char *buf, size_t len,
                          const char *name, err *e);

/* Read and parse the file at path; ST_IO when unreadable. */
status assist_rules_load(assist_rules **out, const char *path, err *e);

/* NULL is a no-op. */
void assist_rules_destroy(assist_rules *r);

/* The tenant the file is for (borrowed). */
const char *assist_rules_tenant(const assist_rules *r);

/* The tenant's default currency ("CNY"), or "" when the file names none;
 * a code that is not an active ISO 4217 currency is refused at parse. */
const char *assist_rules_currency(const assist_rules *r);

/*
 * The customer's UTC offset in minutes: an explicit offset
 * ("+08:00", may be NULL) wins; else the longest phone prefix in the
 * file's "by_phone_prefix" table that phone (may be NULL) starts with;
 * else the file's default. *known is false when none applies (0 returned).
 */
int assist_rules_utc_offset(const assist_rules *r, const char *explicit_offset,
                            const char *phone, bool *known);

/* Parse "+HH:MM" / "-HH:MM" (|offset| <= 14:00) or "Z" into minutes. */
bool assist_utc_offset_parse(const char *s, int *minutes);

/*
 * Replace *out with the prompts of every rule that applies to ctx at now
 * (seconds since the epoch, UTC): contact hours, forbidden-phrase
 * reminders and disclosures, in the file's order.
 */
void assist_rules_check(const assist_rules *r, const assist_rules_ctx *ctx,
                        int64_t now, assist_prompts *out);

/*
 * Append a block prompt to *out for each forbidden phrase of a rule that
 * applies to ctx and occurs in draft (NUL-terminated UTF-8). Returns how
 * many were found (also those that did not fit in out).
 */
int assist_rules_check_draft(const assist_rules *r, const assist_rules_ctx *ctx,
                             const char *draft, assist_prompts *out);

/* What assist_rules_check_document found in a document. */
typedef struct assist_doc_findings {
    int breaches;  /* phrases of block forbidden-phrase rules found */
    int cautions;  /* phrases of warn/info rules found, plus topics that
                      warn/info document checks miss */
    int checks;    /* document checks that apply to the document */
    int mentioned; /* their topics the document mentions */
    int missing;   /* topics of block document checks it does not */
    char breach[ASSIST_FINDING_MAX + 1];  /* the first: "rule: \"phrase\"" */
    char caution[ASSIST_FINDING_MAX + 1]; /* the first caution */
    char gap[ASSIST_FINDING_MAX + 1];     /* the first: "rule: no topic" */
} assist_doc_findings;

/*
 * Check a document under review (text, NUL-terminated UTF-8) against the
 * rules that apply to ctx: every forbidden phrase it contains (a breach
 * for a block rule, a caution otherwise), and every document check whose
 * scope matches and whose "applies_if" phrases (any of them; a check
 * without them always applies) occur: each of its "must_mention" topics
 * is mentioned when any of the topic's phrases occurs. Matching is the
 * draft check's (ASCII case and width ignored, white space runs equal,
 * substrings). Fills *out; ST_NOMEM.
 */
status assist_rules_check_document(const assist_rules *r,
                                   const assist_rules_ctx *ctx,
                                   const char *text, assist_doc_findings *out,
                                   err *e);

/*
 * The reply template for case type, step and language (any may be NULL),
 * borrowed from r, or NULL. A template naming the step beats one for any
 * step; among those, one naming the language beats one for any language;
 * ties go to the first in the file.
 */
const char *assist_rules_reply(const assist_rules *r, const char *case_type,
                               const char *step, const char *language);

/*
 * Extra query words for retrieval ("query_hints"), chosen like replies, so
 * a tenant can steer an English case towards its Chinese rules and back.
 * Borrowed from r, or NULL.
 */
const char *assist_rules_query_hint(const assist_rules *r,
                                    const char *case_type, const char *step,
                                    const char *language);

/* Mark every prompt with id acknowledged; ST_NOT_FOUND when none has it. */
status assist_prompts_ack(assist_prompts *p, const char *id, err *e);

/* True when no prompt that requires an acknowledgement lacks one: the
 * outcome may be sent. */
bool assist_prompts_all_acked(const assist_prompts *p);

/*
 * True when a prompt not yet acknowledged withholds path: "reply", a task
 * value's dotted path ("payload.overdue_minor", withheld by the entry
 * itself or one above it such as "payload") or "outcomes.<code>". *by
 * (may be NULL) gets the first such prompt's id, borrowed from p.
 */
bool assist_prompts_withheld(const assist_prompts *p, const char *path,
                             const char **by);

/*
 * The id (borrowed from r) of the first forbidden-phrase rule that
 * applies to ctx and one of whose phrases occurs in text (matched as a
 * draft is), or NULL: a suggestion must never say it.
 */
const char *assist_rules_forbidden_in(const assist_rules *r,
                                      const assist_rules_ctx *ctx,
                                      const char *text);

/* "info", "warn", "block". */
const char *assist_severity_name(assist_severity s);

#endif
