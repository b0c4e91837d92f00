/*
 * The worker agent protocol for one worker (docs/protocol.md, "Worker agent
 * protocol"): the state of one worker, its presence and the offers and
 * tasks it holds, and the subjects it speaks on. The messages themselves
 * (offers, notices, replies, requests) are agent_msg.h's, included here.
 *
 * This module does no I/O and starts no threads, so both the simulated
 * driver (agent_sim) and a later interactive screen use it. An agent_session
 * is not thread-safe; its owner serialises access.
 *
 * Customer data (PII) arrives only in accept replies. This module never
 * logs a message body, and no decoder of agent_msg.h keeps any of it.
 */
#ifndef TL_AGENT_SESSION_H
#define TL_AGENT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_msg.h"
#include "err.h"
#include "ids.h"

/* "<prefix>.agent.<worker>.<verb>" into buf; ST_INVALID if it does not fit. */
status agent_subject(char *buf, size_t cap, const char *prefix,
                     const char *worker, const char *verb, err *e);

/* "<prefix>.worker.<worker>.<kind>" into buf (kind "offer" or "notice";
 * worker may be "*"); ST_INVALID if it does not fit. */
status agent_inbound_subject(char *buf, size_t cap, const char *prefix,
                             const char *worker, const char *kind, err *e);

/*
 * Split an inbound subject "<prefix>.worker.<worker>.<kind>": copy the
 * worker id into worker (ID_MAX + 1 bytes) and return the kind ("offer",
 * "notice"), borrowed from subject. NULL if the subject has another shape.
 */
const char *agent_inbound_parse(const char *subject, const char *prefix,
                                char *worker);

/* What an agent makes of a refused request (an error reply). */
typedef enum agent_refusal {
    AGENT_REFUSAL_OTHER,    /* anything else: a bad outcome, the
                               dispatcher's own trouble, ... */
    AGENT_REFUSAL_GONE,     /* stale_reservation, not_yours, not_found: the
                               offer or task is no longer the worker's;
                               routine, drop it */
    AGENT_REFUSAL_CONFLICT, /* conflict: a different completion of the
                               reservation was recorded first and stands;
                               this worker's result was NOT recorded. Drop
                               the task and report it as an error */
} agent_refusal;

/* The kind of refusal r is (r->ok must be false). */
agent_refusal agent_refusal_of(const agent_reply *r);

/*
 * What to tell the worker (or the log) about the conflict reply r to the
 * completion of reservation res_id, into buf: that its result was not
 * recorded and which outcome stands.
 */
void agent_conflict_text(const agent_reply *r, int64_t res_id, char *buf,
                         size_t cap);

typedef enum agent_item_state {
    AGENT_ITEM_OFFERED,   /* received; not answered yet */
    AGENT_ITEM_ACCEPTING, /* accept sent, no reply yet */
    AGENT_ITEM_REJECTING, /* reject sent, no reply yet */
    AGENT_ITEM_WORKING,   /* accepted: a task in hand */
    AGENT_ITEM_COMPLETING /* complete sent, no reply yet */
} agent_item_state;

/* An offer or task a worker holds. Owned by its session. */
typedef struct agent_item {
    agent_offer offer;
    agent_item_state state;
    int64_t received_mono_us; /* clock_mono_us() when the offer arrived */
    char *complete_body;      /* kept so a retry sends the same bytes */
    size_t complete_len;
} agent_item;

typedef struct agent_session agent_session;

/* A session for worker (a valid identifier, copied); ST_INVALID if not. */
status agent_session_create(agent_session **out, const char *worker, err *e);

/* Free s and every item it holds; NULL is a no-op. */
void agent_session_destroy(agent_session *s);

/* The worker id (borrowed from s). */
const char *agent_session_worker(const agent_session *s);

agent_presence agent_session_presence(const agent_session *s);
void agent_session_set_presence(agent_session *s, agent_presence p);

/*
 * Hold a new offer (copied) in state AGENT_ITEM_OFFERED and return the item
 * (borrowed; valid until it is removed). ST_CONFLICT if an item with this
 * reservation id is already held; ST_NOMEM.
 */
status agent_session_offer_add(agent_session *s, const agent_offer *o,
                               int64_t now_mono_us, agent_item **out, err *e);

/* The item for reservation_id, or NULL. Borrowed. */
agent_item *agent_session_find(agent_session *s, int64_t reservation_id);

/* Free the item for reservation_id; false if there was none. Other items
 * stay where they are, but item indexes change. */
bool agent_session_remove(agent_session *s, int64_t reservation_id);

/* How many offers and tasks s holds. */
int agent_session_count(const agent_session *s);

/* The i-th item, 0 <= i < count. Borrowed. */
agent_item *agent_session_item(agent_session *s, int i);

/* The reservation ids of the tasks in hand, at most max, into ids, for a
 * heartbeat's "held" (agent_msg_heartbeat_held): those accepted
 * (AGENT_ITEM_WORKING) and those whose accept or completion is sent but not
 * answered yet (the dispatcher may hold them as accepted); returns how
 * many. */
int agent_session_held(const agent_session *s, int64_t *ids, int max);

#endif
