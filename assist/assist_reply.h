/*
 * Suggested replies and next steps of the assist panel (docs/assist.md).
 *
 * A reply template is text with placeholders: "{customer.name}" is the
 * task's value at that dotted path, "{payload.overdue_minor|money}" an
 * amount in minor units written with its currency's decimals as
 * "12,500.00 CNY" or "150,000 JPY" (the currency is payload.currency, else
 * the tenant's; a payload.currency that is not an ISO 4217 currency renders
 * as "[?payload.currency]"). "{{" and "}}" are literal braces.
 * A value that is absent, not a scalar, or not an integer for |money
 * renders visibly as "[?payload.overdue_minor]" so the worker sees what to
 * fill in; an unknown filter renders as "[?path|filter]". A "{" that does
 * not start a placeholder is copied as it is.
 *
 * Next steps are the step's allowed outcomes with their fields, and which
 * of them are billable.
 */
#ifndef TL_ASSIST_REPLY_H
#define TL_ASSIST_REPLY_H

#include <stddef.h>

#include "agent_session.h"
#include "assist_task.h"
#include "err.h"

#define ASSIST_REPLY_MAX     8192 /* bytes of a rendered reply */
#define ASSIST_STEP_MAX      512  /* bytes of one next-step line */
#define ASSIST_SENTENCES_MAX 64   /* sentences of a reply told apart */

/*
 * Render tmpl for task t into a new string *out (caller frees). currency
 * (may be NULL or "") is used for |money when the payload names none.
 * Output past ASSIST_REPLY_MAX bytes is cut at a character boundary and
 * ends in "...". *missing (may be NULL) gets the number of placeholders
 * that rendered as "[?...]". Only ST_NOMEM fails.
 */
status assist_reply_render(const char *tmpl, const assist_task *t,
                           const char *currency, char **out, int *missing,
                           err *e);

/*
 * A rendered sentence of a reply and the placeholders it used, so that a
 * sentence stating what a rule withholds can be held back on its own.
 */
typedef struct assist_sentence {
    char *text;  /* rendered, with the white space after it (owned) */
    char *paths; /* its placeholders' paths as " a b " (owned; " ": none) */
    int missing; /* its placeholders that rendered as "[?...]" */
} assist_sentence;

/*
 * Render tmpl as assist_reply_render does, sentence by sentence: the
 * template is cut after "。", "！", "？", a line break, and ".", "!" or "?"
 * followed by white space or the end (outside placeholders, so a value
 * never cuts a sentence); past ASSIST_SENTENCES_MAX the rest is one
 * sentence. *out (n of them) is the caller's: assist_sentences_free.
 * *missing as for assist_reply_render. Only ST_NOMEM fails.
 */
status assist_reply_render_sentences(const char *tmpl, const assist_task *t,
                                     const char *currency,
                                     assist_sentence **out, int *n,
                                     int *missing, err *e);

/* Free s[0..n) and s; NULL is a no-op. */
void assist_sentences_free(assist_sentence *s, int n);

/*
 * One line describing outcome o into buf, for example
 * "promise_to_pay (billable): amount_minor amount_minor, due_date date";
 * "(not billable)" otherwise, and "no fields" when it has none.
 */
void assist_reply_next_step(const agent_outcome_spec *o, char *buf, size_t cap);

#endif
