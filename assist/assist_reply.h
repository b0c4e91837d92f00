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

#define ASSIST_REPLY_MAX 8192 /* bytes of a rendered reply */
#define ASSIST_STEP_MAX  512  /* bytes of one next-step line */

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
 * One line describing outcome o into buf, for example
 * "promise_to_pay (billable): amount_minor amount_minor, due_date date";
 * "(not billable)" otherwise, and "no fields" when it has none.
 */
void assist_reply_next_step(const agent_outcome_spec *o, char *buf, size_t cap);

#endif
