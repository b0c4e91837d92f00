/*
 * How a simulated worker ends a task: which outcome code it picks and what
 * field values it fills in.
 *
 * A policy file is a JSON object of weight tables:
 *   {"default": {"no_contact": 1, "promise_to_pay": 3},
 *    "loan_overdue.contact": {"promise_to_pay": 5, "callback": 1}}
 * For an offer of case type C at step S the table "C.S" is tried first, then
 * "default"; codes the offer does not list are ignored. When no table gives a
 * listed code a positive weight, billable outcomes weigh 3 and others 1.
 *
 * A policy is immutable once loaded, so threads may share it; the random
 * generator passed in is the caller's and is not shared.
 */
#ifndef TL_AGENT_POLICY_H
#define TL_AGENT_POLICY_H

#include "agent_rng.h"
#include "agent_session.h"
#include "err.h"

#define AGENT_POLICY_MAX_TABLES 256
#define AGENT_POLICY_MAX_CODES  64

typedef struct agent_policy agent_policy;

/* An empty policy: every choice uses the billable 3 : other 1 rule. */
status agent_policy_create(agent_policy **out, err *e);

/*
 * Load and validate the policy file at path. Errors name the file and the
 * offending key: ST_IO / ST_BAD_JSON (unreadable or not JSON), ST_WRONG_TYPE
 * (a table not an object, a weight not a number), ST_INVALID (a key that is
 * neither "default" nor "<case_type>.<step>", a code that is not an
 * identifier, a negative or too large weight, a table without any positive
 * weight), ST_TOO_LARGE (more than the maximum tables or codes).
 */
status agent_policy_load(agent_policy **out, const char *path, err *e);

/* NULL is a no-op. */
void agent_policy_destroy(agent_policy *p);

/* Index into o->outcomes of the outcome to end the task with. */
int agent_policy_choose(const agent_policy *p, const agent_offer *o,
                        agent_rng *r);

/*
 * A valid random value of type t into *v: amount_minor 100..10^7, int
 * 0..100, a date 1..30 days after today (UTC), a short string, a bool.
 */
void agent_policy_value(agent_field_type t, agent_rng *r, agent_value *v);

/* Choose an outcome for o and fill every field it lists into *out. */
void agent_policy_outcome(const agent_policy *p, const agent_offer *o,
                          agent_rng *r, agent_outcome *out);

#endif
