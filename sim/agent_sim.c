#include "agent_sim.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_ai.h"
#include "agent_msg.h"
#include "agent_session.h"
#include "bus.h"
#include "clock.h"
#include "heap.h"
#include "log.h"
#include "many_msg.h"
#include "nkey.h"

#define MOD            "agent"
#define SUBJECT_MAX    256
#define RETRY_DELAY_US 1000000 /* after "no dispatcher" answers */
/* How long a worker's first queued accept or completion waits for others
 * to join it in one bulk request (agent_sim_opts.batch). */
#define BATCH_WAIT_US          1000
#define WAIT_LOG_EVERY_US      5000000 /* "waiting for dispatcher" */
#define HEARTBEAT_TIMEOUT_MS   1500
#define OFFLINE_WAIT_MS        2000
#define COMPLETE_MAX_ATTEMPTS  20
#define DEFAULT_REQ_TIMEOUT_MS 3000

typedef enum req_kind {
    REQ_PRESENCE,
    REQ_HEARTBEAT,
    REQ_ACCEPT,
    REQ_REJECT,
    REQ_COMPLETE,
    REQ_CALLUP,
    REQ_ACCEPT_MANY,
    REQ_COMPLETE_MANY
} req_kind;

static const char *const req_verbs[] = {
    [REQ_PRESENCE] = "presence",       [REQ_HEARTBEAT] = "heartbeat",
    [REQ_ACCEPT] = "accept",           [REQ_REJECT] = "reject",
    [REQ_COMPLETE] = "complete",       [REQ_CALLUP] = "callup",
    [REQ_ACCEPT_MANY] = "accept_many", [REQ_COMPLETE_MANY] = "complete_many",
};

/* What to send (again): a request of kind for worker w. */
typedef struct req_spec {
    req_kind kind;
    int w;
    int64_t rid; /* reservation, for accept/reject/complete; call-up */
    agent_presence presence; /* for REQ_PRESENCE */
    int attempts;            /* sends so far */
    int nrids;               /* REQ_*_MANY: the reservations, in order */
    int64_t rids[AGENT_MANY_MAX];
} req_spec;

typedef struct pending {
    uint64_t id; /* last token of the reply subject */
    req_spec spec;
} pending;

typedef enum ev_kind {
    EV_HEARTBEAT, /* send worker w's heartbeat and plan the next */
    EV_COMPLETE,  /* handle time of reservation rid is over */
    EV_TIMEOUT,   /* request id may have gone unanswered */
    EV_SEND,      /* send spec (a delayed retry) */
    EV_FLUSH      /* send worker w's queued accepts and completions */
} ev_kind;

typedef struct event {
    int64_t due_us; /* clock_mono_us() */
    uint64_t seq;   /* ties go first-in, first-out */
    ev_kind kind;
    uint64_t id;   /* EV_TIMEOUT */
    req_spec spec; /* EV_HEARTBEAT, EV_COMPLETE (w, rid), EV_SEND */
} event;

typedef struct wstate {
    agent_session *session;
    bool unsure;     /* a heartbeat went unanswered: re-announce presence */
    bool standby;    /* on call: offline until called up */
    bus *bus;        /* the worker's own connection */
    char inbox[128]; /* its replies: <inbox prefix>.<unique>.<id> */
    /* Accepts and completions waiting to go out together (batch > 1). */
    req_spec accepts;
    req_spec completes;
    bool flush_planned;
} wstate;

typedef struct windex {
    const char *id; /* borrowed from the session */
    int w;
} windex;

struct agent_sim {
    agent_sim_opts o;
    char prefix[64];

    pthread_mutex_t mu;
    pthread_cond_t cv;      /* the scheduler waits on it (monotonic) */
    pthread_cond_t cv_idle; /* agent_sim_stop waits for offline replies */
    pthread_t thread;
    bool thread_started;
    bool stopping; /* no more offers, completions or retries */
    bool quit;     /* scheduler exits */
    bool stopped;

    int n;
    wstate *ws;
    windex *index; /* sorted by id, for bsearch */

    heap events; /* by (due_us, seq) */
    uint64_t seq;

    pending *pend;
    int npend, pendcap;
    uint64_t next_id;

    agent_rng rng;
    int64_t taken; /* accepts sent */
    bool limit_reached;
    int navailable;
    int offline_pending;
    int64_t last_wait_log_us;
    /* A worker the dispatcher does not know: the run cannot do what it was
     * asked, so it ends (agent_sim_failed) instead of idling without it. */
    bool failed;
    char fail_msg[ERR_MSG_MAX];
};

/* Events in order of (due_us, seq). */

static bool ev_before(const void *a, const void *b, void *ctx)
{
    const event *x = a, *y = b;

    (void)ctx;
    return x->due_us < y->due_us || (x->due_us == y->due_us && x->seq < y->seq);
}

static const heap_type event_type = {sizeof(event), ev_before, NULL};

/* When the next event is due; there is one. */
static int64_t next_due(const agent_sim *s)
{
    return ((const event *)heap_at(&s->events, &event_type, 0))->due_us;
}

static void event_push(agent_sim *s, event ev)
{
    ev.seq = s->seq++;
    if (heap_push(&s->events, &event_type, &ev, NULL) != ST_OK) {
        log_error(MOD, "out of memory scheduling an action; dropped");
        return;
    }
    pthread_cond_signal(&s->cv);
}

static void schedule(agent_sim *s, ev_kind kind, int64_t due_us,
                     const req_spec *spec, uint64_t id)
{
    event ev;

    memset(&ev, 0, sizeof(ev));
    ev.kind = kind;
    ev.due_us = due_us;
    ev.id = id;
    if (spec != NULL)
        ev.spec = *spec;
    event_push(s, ev);
}

static const char *wid(agent_sim *s, int w)
{
    return agent_session_worker(s->ws[w].session);
}

static int windex_cmp(const void *a, const void *b)
{
    return strcmp(((const windex *)a)->id, ((const windex *)b)->id);
}

static int find_worker(agent_sim *s, const char *id)
{
    windex key = {id, 0};
    windex *hit =
        bsearch(&key, s->index, (size_t)s->n, sizeof(*s->index), windex_cmp);

    return hit != NULL ? hit->w : -1;
}

static void stat_add(agent_sim *s, agent_stat which)
{
    agent_stats_add(s->o.stats, which, 1);
}

/* How long an unanswered accept is retried before the agent gives up. */
#define ACCEPT_RESOLVE_MS 120000

static int timeout_ms_for(agent_sim *s, req_kind k)
{
    if (k == REQ_HEARTBEAT)
        return HEARTBEAT_TIMEOUT_MS;
    if (s->stopping && k == REQ_PRESENCE)
        return OFFLINE_WAIT_MS;
    return s->o.request_timeout_ms;
}

/* The body of a bulk spec from its items' single bodies (the same bytes
 * as each would be sent alone). */
static char *build_many(agent_sim *s, const req_spec *spec, size_t *len)
{
    char *items[AGENT_MANY_MAX], *body = NULL;
    size_t ilen;
    int n = 0;
    err e = {0};
    status st = ST_OK;

    for (int i = 0; st == ST_OK && i < spec->nrids; i++) {
        agent_item *it =
            agent_session_find(s->ws[spec->w].session, spec->rids[i]);
        if (it == NULL) {
            st = err_set(&e, ST_INTERNAL, "reservation %lld is gone",
                         (long long)spec->rids[i]);
            break;
        }
        if (spec->kind == REQ_ACCEPT_MANY)
            st = agent_msg_accept(&it->offer, &items[n], &ilen, &e);
        else if ((items[n] = strdup(it->complete_body)) == NULL)
            st = err_set(&e, ST_NOMEM, "out of memory");
        if (st == ST_OK)
            n++;
    }
    if (st == ST_OK)
        st = spec->kind == REQ_ACCEPT_MANY
                 ? agent_msg_accept_many(items, n, &body, len, &e)
                 : agent_msg_complete_many(items, n, &body, len, &e);
    for (int i = 0; i < n; i++)
        free(items[i]);
    if (st != ST_OK) {
        log_error(MOD, "worker %s: cannot build %s: %s", wid(s, spec->w),
                  req_verbs[spec->kind], e.msg);
        return NULL;
    }
    return body;
}

/* Build the body of spec; NULL when there is nothing (left) to send. */
static char *build_body(agent_sim *s, const req_spec *spec, size_t *len)
{
    agent_item *it = NULL;
    char *body = NULL;
    err e = {0};
    status st = ST_OK;

    if (spec->kind == REQ_ACCEPT_MANY || spec->kind == REQ_COMPLETE_MANY)
        return build_many(s, spec, len);
    if (spec->kind == REQ_ACCEPT || spec->kind == REQ_REJECT ||
        spec->kind == REQ_COMPLETE) {
        it = agent_session_find(s->ws[spec->w].session, spec->rid);
        if (it == NULL)
            return NULL;
    }
    switch (spec->kind) {
    case REQ_PRESENCE:
        st = agent_msg_presence(agent_presence_name(spec->presence), &body, len,
                                &e);
        break;
    case REQ_HEARTBEAT: {
        /* Name the tasks in hand, so that after an outage or a restart
         * the dispatcher and this agent agree on them (docs/protocol.md,
         * "Heartbeat"). */
        int64_t held[AGENT_HELD_MAX];
        int n =
            agent_session_held(s->ws[spec->w].session, held, AGENT_HELD_MAX);
        st = agent_msg_heartbeat_held(held, n, &body, len, &e);
        break;
    }
    case REQ_ACCEPT:
        st = agent_msg_accept(&it->offer, &body, len, &e);
        break;
    case REQ_REJECT:
        st = agent_msg_reject(&it->offer,
                              s->limit_reached ? "agent task limit reached"
                                               : "simulated rejection",
                              &body, len, &e);
        break;
    case REQ_COMPLETE:
        /* The same bytes on every attempt, so the dispatcher dedupes. */
        body = it->complete_body != NULL ? strdup(it->complete_body) : NULL;
        *len = it->complete_len;
        if (body == NULL)
            st = err_set(&e, ST_NOMEM, "out of memory");
        break;
    case REQ_CALLUP: {
        agent_callup_answer a = {spec->rid, true};

        st = agent_msg_callup_encode(&a, &body, len, &e);
        break;
    }
    case REQ_ACCEPT_MANY:
    case REQ_COMPLETE_MANY:
        break;
    }
    if (st != ST_OK) {
        log_error(MOD, "worker %s: cannot build %s: %s", wid(s, spec->w),
                  req_verbs[spec->kind], e.msg);
        return NULL;
    }
    return body;
}

/* Publish spec with a reply subject in our inbox and plan its time-out. */
static void send_req(agent_sim *s, req_spec spec)
{
    char subject[SUBJECT_MAX], reply[SUBJECT_MAX];
    size_t len = 0;
    char *body;
    pending *p;
    err e = {0};
    uint64_t id;

    if (spec.kind == REQ_ACCEPT_MANY || spec.kind == REQ_COMPLETE_MANY) {
        /* Only the items still in hand; one alone goes as a single. */
        int k = 0;
        for (int i = 0; i < spec.nrids; i++)
            if (agent_session_find(s->ws[spec.w].session, spec.rids[i]) != NULL)
                spec.rids[k++] = spec.rids[i];
        spec.nrids = k;
        if (k == 0)
            return;
        if (k == 1) {
            spec.kind =
                spec.kind == REQ_ACCEPT_MANY ? REQ_ACCEPT : REQ_COMPLETE;
            spec.rid = spec.rids[0];
            spec.nrids = 0;
        }
    }
    body = build_body(s, &spec, &len);
    if (body == NULL)
        return;
    if (agent_subject(subject, sizeof(subject), s->prefix, wid(s, spec.w),
                      req_verbs[spec.kind], &e) != ST_OK)
        goto out;
    if (s->npend == s->pendcap) {
        int cap = s->pendcap > 0 ? s->pendcap * 2 : 64;
        pending *grown = realloc(s->pend, (size_t)cap * sizeof(*grown));

        if (grown == NULL) {
            log_error(MOD, "out of memory tracking a request; dropped");
            goto out;
        }
        s->pend = grown;
        s->pendcap = cap;
    }
    id = ++s->next_id;
    snprintf(reply, sizeof(reply), "%s.%llu", s->ws[spec.w].inbox,
             (unsigned long long)id);
    spec.attempts++;
    p = &s->pend[s->npend++];
    p->id = id;
    p->spec = spec;
    /* A failed publish is handled like a lost reply: the time-out retries. */
    if (bus_publish_request(s->ws[spec.w].bus, subject, reply, body, len, &e) !=
        ST_OK)
        log_warn(MOD, "worker %s: %s not sent: %s", wid(s, spec.w),
                 req_verbs[spec.kind], e.msg);
    schedule(s, EV_TIMEOUT,
             clock_mono_us() + (int64_t)timeout_ms_for(s, spec.kind) * 1000,
             NULL, id);
out:
    free(body);
}

static void send_new(agent_sim *s, req_kind kind, int w, int64_t rid,
                     agent_presence presence)
{
    req_spec spec = {.kind = kind, .w = w, .rid = rid, .presence = presence};

    send_req(s, spec);
}

/* Send worker w's queued accepts and completions, each kind in one bulk
 * request (a single one when it is alone). */
static void flush(agent_sim *s, int w)
{
    wstate *ws = &s->ws[w];

    ws->flush_planned = false;
    if (ws->accepts.nrids > 0)
        send_req(s, ws->accepts);
    if (ws->completes.nrids > 0)
        send_req(s, ws->completes);
    ws->accepts.nrids = 0;
    ws->completes.nrids = 0;
}

/* Send an accept or completion of rid for worker w: at once, or (batch >
 * 1) queued to go out with the others of the worker that come within
 * BATCH_WAIT_US, in bulk requests of up to batch items. */
static void send_item(agent_sim *s, req_kind kind, int w, int64_t rid)
{
    wstate *ws = &s->ws[w];
    req_spec *q = kind == REQ_ACCEPT ? &ws->accepts : &ws->completes;

    if (s->o.batch <= 1) {
        send_new(s, kind, w, rid, AGENT_PRESENCE_OFFLINE);
        return;
    }
    q->kind = kind == REQ_ACCEPT ? REQ_ACCEPT_MANY : REQ_COMPLETE_MANY;
    q->w = w;
    q->rids[q->nrids++] = rid;
    if (q->nrids >= s->o.batch) {
        send_req(s, *q);
        q->nrids = 0;
        return;
    }
    if (!ws->flush_planned) {
        req_spec at = {.w = w};
        ws->flush_planned = true;
        schedule(s, EV_FLUSH, clock_mono_us() + BATCH_WAIT_US, &at, 0);
    }
}

/* Remove and return the pending request id; false if it is not pending. */
static bool take_pending(agent_sim *s, uint64_t id, req_spec *out)
{
    for (int i = 0; i < s->npend; i++) {
        if (s->pend[i].id == id) {
            *out = s->pend[i].spec;
            s->pend[i] = s->pend[--s->npend];
            return true;
        }
    }
    return false;
}

static void wait_log(agent_sim *s)
{
    int64_t now = clock_mono_us();

    if (s->last_wait_log_us == 0 ||
        now - s->last_wait_log_us >= WAIT_LOG_EVERY_US) {
        s->last_wait_log_us = now;
        log_info(MOD, "waiting for dispatcher (no answer on %s.agent.*)",
                 s->prefix);
    }
}

/* The handle time to use for one task, in µs. */
static int64_t handle_us(agent_sim *s)
{
    double ms = s->o.handle_ms;

    if (ms <= 0)
        return 0;
    if (s->o.jitter_pct > 0) {
        double j = s->o.jitter_pct / 100.0;

        ms *= 1.0 + j * (2.0 * agent_rng_unit(&s->rng) - 1.0);
    }
    return (int64_t)(ms * 1000.0);
}

static const assist_kb *kb_for(agent_sim *s, const char *tenant)
{
    for (int i = 0; i < s->o.nkbs; i++)
        if (strcmp(assist_rules_tenant(assist_kb_rules(s->o.kbs[i])), tenant) ==
            0)
            return s->o.kbs[i];
    return NULL;
}

/* The AI's decision on the accepted task in the accept reply data[0..len)
 * (customer data: read, never kept or logged). On any failure the cautious
 * fallback of agent_sim_opts.ai. */
static void ai_decide(agent_sim *s, int w, const agent_item *it,
                      const char *data, size_t len, agent_ai_decision *d)
{
    assist_task *t = NULL;
    const assist_kb *kb = kb_for(s, it->offer.tenant);
    err e = {0};
    status st;

    if (kb == NULL)
        st = err_set(&e, ST_NOT_FOUND, "no --kb for tenant %s",
                     it->offer.tenant);
    else if ((st = assist_task_parse(&t, data, len, &e)) == ST_OK)
        st = agent_ai_decide(kb, t, clock_wall_us() / 1000000,
                             s->o.confidence_floor, d, &e);
    assist_task_destroy(t);
    if (st == ST_OK) {
        log_debug(MOD, "worker %s: reservation %lld: AI chose %s (%d)",
                  wid(s, w), (long long)it->offer.reservation_id, d->code,
                  d->confidence);
        return;
    }
    log_warn(MOD,
             "worker %s: reservation %lld: AI cannot assess (%s); "
             "sending confidence 0 for review",
             wid(s, w), (long long)it->offer.reservation_id, e.msg);
    stat_add(s, AGENT_STAT_ERRORS);
    agent_ai_fallback(&it->offer, clock_wall_us() / 1000000, d);
}

/* In AI mode the complete body is built when the accept is confirmed,
 * from the accept reply's task; start_complete then only sends it. */
static void ai_prepare(agent_sim *s, int w, agent_item *it, const char *data,
                       size_t len)
{
    agent_ai_decision d;
    err e = {0};

    ai_decide(s, w, it, data, len, &d);
    if (agent_ai_complete_body(&it->offer, &d, &it->complete_body,
                               &it->complete_len, &e) != ST_OK)
        log_error(MOD, "worker %s: reservation %lld: %s", wid(s, w),
                  (long long)it->offer.reservation_id, e.msg);
}

static void start_complete(agent_sim *s, int w, int64_t rid)
{
    agent_item *it = agent_session_find(s->ws[w].session, rid);
    agent_outcome oc;
    err e = {0};
    status st;

    if (it == NULL || it->state != AGENT_ITEM_WORKING)
        return;
    if (s->o.ai) {
        st = it->complete_body != NULL
                 ? ST_OK
                 : err_set(&e, ST_INTERNAL, "the AI made no decision");
        oc.index = 0;
    } else {
        agent_policy_outcome(s->o.policy, &it->offer, &s->rng, &oc);
        st = agent_msg_complete(&it->offer, &oc, &it->complete_body,
                                &it->complete_len, &e);
    }
    if (st != ST_OK) {
        log_error(MOD, "worker %s: cannot complete reservation %lld: %s",
                  wid(s, w), (long long)rid, e.msg);
        stat_add(s, AGENT_STAT_ERRORS);
        agent_session_remove(s->ws[w].session, rid);
        return;
    }
    it->state = AGENT_ITEM_COMPLETING;
    if (!s->o.ai)
        log_debug(MOD, "worker %s: completing reservation %lld with %s",
                  wid(s, w), (long long)rid, it->offer.outcomes[oc.index].code);
    send_item(s, REQ_COMPLETE, w, rid);
}

/* Tell the dispatcher every worker is offline: at the task limit or at
 * shutdown. Presence replies then count down offline_pending. */
static void all_offline(agent_sim *s)
{
    for (int w = 0; w < s->n; w++) {
        s->offline_pending++;
        send_new(s, REQ_PRESENCE, w, 0, AGENT_PRESENCE_OFFLINE);
    }
}

static void offline_answered(agent_sim *s)
{
    if (s->offline_pending > 0 && --s->offline_pending == 0)
        pthread_cond_broadcast(&s->cv_idle);
}

/* Whether spec may be sent again after a time-out or "unavailable". */
static bool may_retry(agent_sim *s, const req_spec *spec)
{
    agent_item *it;

    switch (spec->kind) {
    case REQ_PRESENCE:
        return !s->stopping && spec->presence == AGENT_PRESENCE_AVAILABLE &&
               !s->limit_reached;
    case REQ_HEARTBEAT:
        return false;
    case REQ_ACCEPT:
        /* Until the dispatcher says yes or no: an accept whose reply was
         * lost may have been recorded, and then the task is ours until we
         * finish it. Accepting again is answered the same way. */
        it = agent_session_find(s->ws[spec->w].session, spec->rid);
        return !s->stopping && it != NULL &&
               clock_mono_us() <
                   it->received_mono_us + (int64_t)ACCEPT_RESOLVE_MS * 1000;
    case REQ_REJECT:
        /* Only while the offer can still be answered. */
        it = agent_session_find(s->ws[spec->w].session, spec->rid);
        return !s->stopping && it != NULL &&
               clock_mono_us() <
                   it->received_mono_us + it->offer.timeout_ms * 1000;
    case REQ_COMPLETE:
        return !s->stopping && spec->attempts < COMPLETE_MAX_ATTEMPTS &&
               agent_session_find(s->ws[spec->w].session, spec->rid) != NULL;
    case REQ_CALLUP:
        return !s->stopping && spec->attempts < COMPLETE_MAX_ATTEMPTS;
    case REQ_ACCEPT_MANY:
    case REQ_COMPLETE_MANY:
        return false; /* unanswered splits them first */
    }
    return false;
}

/* A request got no usable answer (time-out, no responders, "unavailable").
 * delay_us is how long to wait before sending it again. */
static void unanswered(agent_sim *s, req_spec spec, int64_t delay_us,
                       const char *why)
{
    agent_session *ss = s->ws[spec.w].session;

    if (spec.kind == REQ_ACCEPT_MANY || spec.kind == REQ_COMPLETE_MANY) {
        /* Each item on its own from here (a repeat is answered the same). */
        req_spec one = spec;
        one.kind = spec.kind == REQ_ACCEPT_MANY ? REQ_ACCEPT : REQ_COMPLETE;
        one.nrids = 0;
        for (int i = 0; i < spec.nrids; i++) {
            one.rid = spec.rids[i];
            unanswered(s, one, delay_us, why);
        }
        return;
    }

    if (spec.kind == REQ_PRESENCE) {
        if (spec.presence == AGENT_PRESENCE_OFFLINE) {
            offline_answered(s);
            return;
        }
        if (!s->stopping && !s->limit_reached)
            wait_log(s);
    }
    if (spec.kind == REQ_HEARTBEAT) {
        s->ws[spec.w].unsure = true;
        return;
    }
    if (may_retry(s, &spec)) {
        log_debug(MOD, "worker %s: %s %s; retrying", wid(s, spec.w),
                  req_verbs[spec.kind], why);
        if (delay_us > 0)
            schedule(s, EV_SEND, clock_mono_us() + delay_us, &spec, 0);
        else
            send_req(s, spec);
        return;
    }
    if (spec.kind == REQ_ACCEPT || spec.kind == REQ_COMPLETE) {
        if (agent_session_remove(ss, spec.rid)) {
            log_warn(MOD, "worker %s: %s of reservation %lld %s; giving up",
                     wid(s, spec.w), req_verbs[spec.kind], (long long)spec.rid,
                     why);
            stat_add(s, AGENT_STAT_ERRORS);
        }
    } else if (spec.kind == REQ_REJECT) {
        agent_session_remove(ss, spec.rid);
    }
}

static void on_ok(agent_sim *s, const req_spec *spec, const agent_reply *r,
                  const char *data, size_t len)
{
    agent_session *ss = s->ws[spec->w].session;
    agent_item *it;
    int64_t d;

    switch (spec->kind) {
    case REQ_PRESENCE:
        if (spec->presence == AGENT_PRESENCE_OFFLINE) {
            agent_session_set_presence(ss, AGENT_PRESENCE_OFFLINE);
            offline_answered(s);
            break;
        }
        if (s->stopping || s->limit_reached)
            break;
        if (agent_session_presence(ss) != AGENT_PRESENCE_AVAILABLE &&
            ++s->navailable == s->n)
            log_info(MOD, "dispatcher answered; %d worker%s available", s->n,
                     s->n == 1 ? "" : "s");
        agent_session_set_presence(ss, AGENT_PRESENCE_AVAILABLE);
        s->ws[spec->w].unsure = false;
        break;
    case REQ_HEARTBEAT: {
        int64_t unknown[AGENT_HELD_MAX];
        int nu = 0;
        err he = {0};

        /* Tasks the dispatcher has no record of this worker holding (it
         * rescinded them while we were away): stop working on them. */
        if (agent_reply_heartbeat_parse(data, len, unknown, &nu, &he) == ST_OK)
            for (int i = 0; i < nu; i++) {
                it = agent_session_find(ss, unknown[i]);
                if (it != NULL && it->state == AGENT_ITEM_WORKING) {
                    log_warn(MOD,
                             "worker %s: the dispatcher has no record of "
                             "reservation %lld; dropped",
                             wid(s, spec->w), (long long)unknown[i]);
                    agent_session_remove(ss, unknown[i]);
                }
            }
        if (s->ws[spec->w].unsure && !s->stopping && !s->limit_reached &&
            !s->ws[spec->w].standby) {
            /* The lease may have run out while we were cut off. */
            s->ws[spec->w].unsure = false;
            send_new(s, REQ_PRESENCE, spec->w, 0, AGENT_PRESENCE_AVAILABLE);
        }
        break;
    }
    case REQ_ACCEPT:
        it = agent_session_find(ss, spec->rid);
        if (it == NULL || it->state != AGENT_ITEM_ACCEPTING)
            break;
        it->state = AGENT_ITEM_WORKING;
        stat_add(s, AGENT_STAT_ACCEPTED);
        /* The reply holds customer data; nothing of it is kept or logged. */
        if (s->o.ai)
            ai_prepare(s, spec->w, it, data, len);
        d = handle_us(s);
        if (d == 0)
            start_complete(s, spec->w, spec->rid);
        else
            schedule(s, EV_COMPLETE, clock_mono_us() + d, spec, 0);
        break;
    case REQ_REJECT:
        agent_session_remove(ss, spec->rid);
        break;
    case REQ_CALLUP:
        log_info(MOD, "worker %s: call-up %lld accepted; going available",
                 wid(s, spec->w), (long long)spec->rid);
        s->ws[spec->w].standby = false;
        if (!s->stopping && !s->limit_reached)
            send_new(s, REQ_PRESENCE, spec->w, 0, AGENT_PRESENCE_AVAILABLE);
        break;
    case REQ_ACCEPT_MANY:
    case REQ_COMPLETE_MANY:
        break; /* answered item by item (on_many) */
    case REQ_COMPLETE:
        if (agent_session_remove(ss, spec->rid)) {
            stat_add(s, AGENT_STAT_COMPLETED);
            log_debug(MOD,
                      "worker %s: reservation %lld completed, outcome "
                      "%lld%s",
                      wid(s, spec->w), (long long)spec->rid,
                      (long long)r->outcome_id,
                      r->duplicate ? " (duplicate)" : "");
        }
        break;
    }
}

static void on_refused(agent_sim *s, const req_spec *spec, const agent_reply *r)
{
    agent_session *ss = s->ws[spec->w].session;

    if (spec->kind == REQ_PRESENCE &&
        spec->presence == AGENT_PRESENCE_OFFLINE) {
        offline_answered(s);
        return;
    }
    stat_add(s, AGENT_STAT_ERRORS);
    if (spec->kind == REQ_COMPLETE &&
        agent_refusal_of(r) == AGENT_REFUSAL_CONFLICT) {
        /* Not routine: someone else completed this worker's task
         * differently, and that outcome is what was billed. */
        char what[400];

        stat_add(s, AGENT_STAT_CONFLICTS);
        agent_conflict_text(r, spec->rid, what, sizeof(what));
        log_error(MOD, "worker %s: %s", wid(s, spec->w), what);
        agent_session_remove(ss, spec->rid);
        return;
    }
    if (spec->kind == REQ_PRESENCE && strcmp(r->code, "not_found") == 0) {
        if (!s->failed)
            snprintf(s->fail_msg, sizeof(s->fail_msg),
                     "worker %s cannot sign in: %s; check --workers "
                     "against: twinline worker list --ids",
                     wid(s, spec->w), r->message);
        s->failed = true;
        log_error(MOD, "worker %s: %s", wid(s, spec->w), r->message);
        return;
    }
    if (spec->kind == REQ_ACCEPT || spec->kind == REQ_REJECT ||
        spec->kind == REQ_COMPLETE) {
        /* Stale or foreign reservations are routine: the offer timed out
         * or the lease passed while we worked. Drop the task. */
        log_info(MOD,
                 "worker %s: %s of reservation %lld refused (%s); "
                 "dropping it",
                 wid(s, spec->w), req_verbs[spec->kind], (long long)spec->rid,
                 r->code);
        agent_session_remove(ss, spec->rid);
        return;
    }
    log_warn(MOD, "worker %s: %s refused (%s): %s", wid(s, spec->w),
             req_verbs[spec->kind], r->code, r->message);
}

/* One reply r (data[0..len)) to the single request spec, as on_reply. */
static void on_answer(agent_sim *s, const req_spec *spec, status st,
                      agent_reply *r, const char *data, size_t len,
                      const err *e)
{
    if (st == ST_UNAVAILABLE ||
        (st == ST_OK && !r->ok && strcmp(r->code, "unavailable") == 0)) {
        unanswered(s, *spec, RETRY_DELAY_US, "found no dispatcher");
    } else if (st != ST_OK) {
        log_warn(MOD, "worker %s: unreadable %s reply: %s", wid(s, spec->w),
                 req_verbs[spec->kind], e->msg);
        snprintf(r->code, sizeof(r->code), "bad_reply");
        r->message[0] = '\0';
        on_refused(s, spec, r);
    } else if (r->ok) {
        on_ok(s, spec, r, data, len);
    } else {
        on_refused(s, spec, r);
    }
}

/* The reply to a bulk request: each result as the reply to its item sent
 * alone; an error reply of the whole request as each item's. */
static void on_many(agent_sim *s, const req_spec *spec, const char *data,
                    size_t len)
{
    req_spec one = *spec;
    many_list l = {0};
    agent_reply r;
    bool ok = false;
    err e = {0};
    status st;

    memset(&r, 0, sizeof(r));
    st = many_msg_reply_split(data, len, &ok, r.code, r.message, &l, &e);

    one.kind = spec->kind == REQ_ACCEPT_MANY ? REQ_ACCEPT : REQ_COMPLETE;
    one.nrids = 0;
    if (st == ST_OK && ok && l.n != spec->nrids)
        st = err_set(&e, ST_WRONG_TYPE, "%d results for %d items", l.n,
                     spec->nrids);
    if (st == ST_OK && ok)
        stat_add(s, AGENT_STAT_BULK);
    for (int i = 0; i < spec->nrids; i++) {
        err ie = e;
        status is = st;

        one.rid = spec->rids[i];
        if (is == ST_OK && ok) {
            is = agent_reply_parse(l.text[i], l.len[i], &r, &ie);
            on_answer(s, &one, is, &r, l.text[i], l.len[i], &ie);
            continue;
        }
        if (is == ST_OK && strcmp(r.code, "too_large") == 0) {
            /* Handled, but the results did not fit one reply: each item
             * again on its own gets its result. */
            unanswered(s, one, 0, "had too large a reply");
            continue;
        }
        if (is == ST_OK) { /* the whole request was refused */
            r.ok = false;
            on_answer(s, &one, is, &r, data, len, &ie);
            continue;
        }
        on_answer(s, &one, is, &r, data, len, &ie);
    }
    many_list_release(&l);
}

static void on_reply(void *ctx, bus_msg *m)
{
    agent_sim *s = ctx;
    const char *subject = bus_msg_subject(m);
    const char *last = strrchr(subject, '.');
    uint64_t id = last != NULL ? strtoull(last + 1, NULL, 10) : 0;
    agent_reply r;
    req_spec spec;
    err e = {0};
    status st;

    pthread_mutex_lock(&s->mu);
    if (s->quit || !take_pending(s, id, &spec))
        goto out; /* late: already timed out and retried or given up */
    if (spec.kind == REQ_ACCEPT_MANY || spec.kind == REQ_COMPLETE_MANY) {
        on_many(s, &spec, bus_msg_data(m), bus_msg_len(m));
        goto out;
    }
    st = agent_reply_parse(bus_msg_data(m), bus_msg_len(m), &r, &e);
    on_answer(s, &spec, st, &r, bus_msg_data(m), bus_msg_len(m), &e);
out:
    pthread_mutex_unlock(&s->mu);
    bus_msg_free(m);
}

static void on_offer(agent_sim *s, int w, const char *data, size_t len)
{
    agent_session *ss = s->ws[w].session;
    agent_offer offer;
    agent_item *it = NULL;
    err e = {0};

    if (s->stopping)
        return;
    if (agent_offer_parse(data, len, &offer, &e) != ST_OK) {
        log_warn(MOD, "worker %s: malformed offer ignored: %s", wid(s, w),
                 e.msg);
        stat_add(s, AGENT_STAT_ERRORS);
        return;
    }
    if (agent_session_offer_add(ss, &offer, clock_mono_us(), &it, &e) !=
        ST_OK) {
        log_debug(MOD, "worker %s: %s", wid(s, w), e.msg);
        return;
    }
    stat_add(s, AGENT_STAT_OFFERS);
    agent_stats_latency(s->o.stats, clock_wall_us() - offer.ready_at_us);
    if (s->limit_reached || agent_rng_unit(&s->rng) < s->o.reject_rate) {
        it->state = AGENT_ITEM_REJECTING;
        stat_add(s, AGENT_STAT_REJECTED);
        send_new(s, REQ_REJECT, w, offer.reservation_id,
                 AGENT_PRESENCE_OFFLINE);
        return;
    }
    it->state = AGENT_ITEM_ACCEPTING;
    s->taken++;
    send_item(s, REQ_ACCEPT, w, offer.reservation_id);
    if (s->o.max_tasks > 0 && s->taken >= s->o.max_tasks) {
        log_info(MOD, "took %lld tasks (--max-tasks); going offline",
                 (long long)s->taken);
        s->limit_reached = true;
        all_offline(s);
    }
}

static void on_notice(agent_sim *s, int w, const char *data, size_t len)
{
    agent_session *ss = s->ws[w].session;
    agent_notice n;
    err e = {0};

    if (agent_notice_parse(data, len, &n, &e) != ST_OK) {
        log_warn(MOD, "worker %s: malformed notice ignored: %s", wid(s, w),
                 e.msg);
        stat_add(s, AGENT_STAT_ERRORS);
        return;
    }
    if (n.type == AGENT_NOTICE_CALLUP) {
        /* A simulated reserve worker always comes when called. */
        if (!s->stopping && !s->limit_reached)
            send_new(s, REQ_CALLUP, w, n.callup_id, AGENT_PRESENCE_OFFLINE);
        return;
    }
    if (n.type == AGENT_NOTICE_CALLUP_RELEASE) {
        log_info(MOD, "worker %s: released from call-up %lld; going offline",
                 wid(s, w), (long long)n.callup_id);
        s->ws[w].standby = true;
        if (!s->stopping)
            send_new(s, REQ_PRESENCE, w, 0, AGENT_PRESENCE_OFFLINE);
        return;
    }
    if (n.type != AGENT_NOTICE_RESCINDED)
        return;
    if (agent_session_remove(ss, n.reservation_id))
        log_info(MOD, "worker %s: reservation %lld rescinded (%s); dropped",
                 wid(s, w), (long long)n.reservation_id, n.reason);
    /* A lease that ran out means the dispatcher thinks we left. */
    if (strstr(n.reason, "lease") != NULL)
        s->ws[w].unsure = true;
}

static void on_inbound(void *ctx, bus_msg *m)
{
    agent_sim *s = ctx;
    char worker[ID_MAX + 1];
    const char *kind =
        agent_inbound_parse(bus_msg_subject(m), s->prefix, worker);
    int w;

    pthread_mutex_lock(&s->mu);
    w = kind != NULL ? find_worker(s, worker) : -1;
    if (w >= 0 && !s->quit) {
        if (strcmp(kind, "offer") == 0)
            on_offer(s, w, bus_msg_data(m), bus_msg_len(m));
        else if (strcmp(kind, "notice") == 0)
            on_notice(s, w, bus_msg_data(m), bus_msg_len(m));
    }
    pthread_mutex_unlock(&s->mu);
    bus_msg_free(m);
}

static void run_event(agent_sim *s, const event *ev)
{
    req_spec spec;

    switch (ev->kind) {
    case EV_HEARTBEAT:
        if (s->stopping)
            break;
        send_new(s, REQ_HEARTBEAT, ev->spec.w, 0, AGENT_PRESENCE_OFFLINE);
        schedule(s, EV_HEARTBEAT,
                 ev->due_us + (int64_t)AGENT_SIM_HEARTBEAT_MS * 1000, &ev->spec,
                 0);
        break;
    case EV_COMPLETE:
        if (!s->stopping)
            start_complete(s, ev->spec.w, ev->spec.rid);
        break;
    case EV_TIMEOUT:
        if (take_pending(s, ev->id, &spec))
            unanswered(s, spec, 0, "timed out");
        break;
    case EV_SEND:
        if (may_retry(s, &ev->spec))
            send_req(s, ev->spec);
        else if (ev->spec.kind != REQ_PRESENCE)
            unanswered(s, ev->spec, 0, "found no dispatcher");
        break;
    case EV_FLUSH:
        flush(s, ev->spec.w);
        break;
    }
}

static void *scheduler(void *arg)
{
    agent_sim *s = arg;

    pthread_mutex_lock(&s->mu);
    while (!s->quit) {
        int64_t now = clock_mono_us();

        if (heap_count(&s->events) == 0) {
            pthread_cond_wait(&s->cv, &s->mu);
        } else if (next_due(s) > now) {
            struct timespec ts;
            int64_t due = next_due(s);

            ts.tv_sec = (time_t)(due / 1000000);
            ts.tv_nsec = (long)(due % 1000000) * 1000;
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        } else {
            event ev;

            heap_pop(&s->events, &event_type, &ev);

            run_event(s, &ev);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

void agent_sim_opts_init(agent_sim_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->handle_ms = 1000;
    o->jitter_pct = 20;
    o->seed = 1;
}

static status check_opts(const agent_sim_opts *o, err *e)
{
    if (o->nworkers < 1)
        return err_set(e, ST_INVALID, "no workers given");
    if (o->handle_ms < 0)
        return err_set(e, ST_INVALID, "handle time must be 0 or more");
    if (o->batch < 0 || o->batch > AGENT_MANY_MAX)
        return err_set(e, ST_INVALID, "batch must be between 0 and %d",
                       AGENT_MANY_MAX);
    if (o->jitter_pct < 0 || o->jitter_pct > 100)
        return err_set(e, ST_INVALID, "jitter must be between 0 and 100");
    if (!(o->reject_rate >= 0 && o->reject_rate <= 1))
        return err_set(e, ST_INVALID, "reject rate must be between 0 and 1");
    if (o->stats == NULL || o->nats == NULL || o->prefix == NULL)
        return err_set(e, ST_INVALID, "stats, nats and prefix are required");
    if (strlen(o->prefix) >= sizeof(((agent_sim *)0)->prefix))
        return err_set(e, ST_INVALID, "prefix is too long");
    if (o->ai && (o->confidence_floor < 0 || o->confidence_floor > 1000))
        return err_set(e, ST_INVALID,
                       "confidence floor must be between 0 and 1000");
    return ST_OK;
}

/* Connect worker w as its identity and subscribe to what is its own. */
static status connect_worker(agent_sim *s, int w, const nkey_dir *dir, err *e)
{
    static const char *const kinds[] = {"offer", "notice"};
    char subject[SUBJECT_MAX], name[ID_MAX + 32];
    wstate *ws = &s->ws[w];
    bus_opts bo;
    status st = ST_OK;

    memset(&bo, 0, sizeof(bo));
    snprintf(name, sizeof(name), "twinline-agent %s", wid(s, w));
    bo.url = s->o.nats;
    bo.name = name;
    bo.creds = s->o.creds;
    bo.shared_delivery = true;
    if (dir != NULL)
        st = nkey_dir_find(dir, "worker", wid(s, w), &bo.creds, e);
    if (st == ST_OK)
        st = bus_connect_opts(&ws->bus, &bo, e);
    if (st == ST_OK)
        st = bus_inbox_new(ws->bus, ws->inbox, sizeof(ws->inbox), e);
    if (st != ST_OK)
        return err_wrap(e, "worker %s", wid(s, w));
    snprintf(subject, sizeof(subject), "%s.*", ws->inbox);
    if ((st = bus_subscribe(ws->bus, subject, NULL, on_reply, s, e)) != ST_OK)
        return st;
    for (int k = 0; k < 2; k++) {
        st = agent_inbound_subject(subject, sizeof(subject), s->prefix,
                                   wid(s, w), kinds[k], e);
        if (st == ST_OK)
            st = bus_subscribe(ws->bus, subject, NULL, on_inbound, s, e);
        if (st != ST_OK)
            return st;
    }
    return ST_OK;
}

/* Every worker's connection; offers must not be published before each
 * worker's interest reaches the server, hence the flushes. */
static status connect_all(agent_sim *s, err *e)
{
    nkey_dir *dir = NULL;
    status st = ST_OK;

    if (s->o.creds_dir != NULL && s->o.creds_dir[0] != '\0')
        st = nkey_dir_open(&dir, s->o.creds_dir, e);
    for (int w = 0; st == ST_OK && w < s->n; w++)
        st = connect_worker(s, w, dir, e);
    for (int w = 0; st == ST_OK && w < s->n; w++)
        st = bus_flush(s->ws[w].bus, 5000, e);
    nkey_dir_close(dir);
    return st;
}

status agent_sim_start(agent_sim **out, const agent_sim_opts *o, err *e)
{
    agent_sim *s = NULL;
    pthread_condattr_t ca;
    int64_t now;
    status st;

    if ((st = check_opts(o, e)) != ST_OK)
        return st;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    s->o = *o;
    s->o.workers = NULL;
    if (s->o.request_timeout_ms <= 0)
        s->o.request_timeout_ms = DEFAULT_REQ_TIMEOUT_MS;
    snprintf(s->prefix, sizeof(s->prefix), "%s", o->prefix);
    agent_rng_seed(&s->rng, o->seed);
    heap_init(&s->events, NULL);
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&s->cv_idle, NULL);
    s->stopped = true; /* until the connection is up, stop has no work */

    s->ws = calloc((size_t)o->nworkers, sizeof(*s->ws));
    s->index = calloc((size_t)o->nworkers, sizeof(*s->index));
    if (s->ws == NULL || s->index == NULL) {
        st = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    for (int w = 0; w < o->nworkers; w++) {
        st = agent_session_create(&s->ws[w].session, o->workers[w], e);
        if (st != ST_OK)
            goto out;
        s->n++;
        s->index[w].id = agent_session_worker(s->ws[w].session);
        s->index[w].w = w;
    }
    qsort(s->index, (size_t)s->n, sizeof(*s->index), windex_cmp);
    for (int w = 1; w < s->n; w++) {
        if (strcmp(s->index[w - 1].id, s->index[w].id) == 0) {
            st = err_set(e, ST_INVALID, "worker %s is listed twice",
                         s->index[w].id);
            goto out;
        }
    }
    if ((st = connect_all(s, e)) != ST_OK)
        goto out;

    pthread_mutex_lock(&s->mu);
    now = clock_mono_us();
    for (int w = 0; w < s->n; w++) {
        req_spec hb = {
            .kind = REQ_HEARTBEAT, .w = w, .presence = AGENT_PRESENCE_OFFLINE};

        for (int k = 0; k < o->nstandby; k++)
            if (o->standby[k] != NULL && strcmp(o->standby[k], wid(s, w)) == 0)
                s->ws[w].standby = true;
        if (!s->ws[w].standby)
            send_new(s, REQ_PRESENCE, w, 0, AGENT_PRESENCE_AVAILABLE);
        /* Spread heartbeats over the interval rather than in one burst. */
        schedule(s, EV_HEARTBEAT,
                 now + (int64_t)AGENT_SIM_HEARTBEAT_MS * 1000 * (w + 1) / s->n,
                 &hb, 0);
    }
    pthread_mutex_unlock(&s->mu);
    if (pthread_create(&s->thread, NULL, scheduler, s) != 0) {
        st = err_set(e, ST_INTERNAL, "cannot start the scheduler thread");
        goto out;
    }
    s->thread_started = true;
    s->stopped = false;
    log_info(MOD, "agent started for %d worker%s on %s (prefix %s)", s->n,
             s->n == 1 ? "" : "s", o->nats, s->prefix);
out:
    if (st != ST_OK) {
        agent_sim_destroy(s);
        return st;
    }
    *out = s;
    return ST_OK;
}

bool agent_sim_failed(agent_sim *s, err *e)
{
    bool failed;

    pthread_mutex_lock(&s->mu);
    failed = s->failed;
    if (failed)
        err_set(e, ST_NOT_FOUND, "%s", s->fail_msg);
    pthread_mutex_unlock(&s->mu);
    return failed;
}

bool agent_sim_done(agent_sim *s)
{
    bool done = false;

    pthread_mutex_lock(&s->mu);
    if (s->limit_reached) {
        done = true;
        for (int w = 0; w < s->n && done; w++)
            done = agent_session_count(s->ws[w].session) == 0;
    }
    pthread_mutex_unlock(&s->mu);
    return done;
}

void agent_sim_stop(agent_sim *s)
{
    struct timespec ts;

    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    if (s->stopped) {
        pthread_mutex_unlock(&s->mu);
        goto close;
    }
    s->stopped = true;
    s->stopping = true;
    s->offline_pending = 0;
    all_offline(s);
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += OFFLINE_WAIT_MS / 1000 + 1;
    while (s->offline_pending > 0)
        if (pthread_cond_timedwait(&s->cv_idle, &s->mu, &ts) != 0)
            break;
    if (s->offline_pending > 0)
        log_warn(MOD,
                 "%d offline notices unanswered; the dispatcher's lease "
                 "will notice",
                 s->offline_pending);
    s->quit = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
close:
    if (s->thread_started) {
        pthread_join(s->thread, NULL);
        s->thread_started = false;
    }
    for (int w = 0; w < s->n; w++) {
        bus_close(s->ws[w].bus);
        s->ws[w].bus = NULL;
    }
}

void agent_sim_destroy(agent_sim *s)
{
    if (s == NULL)
        return;
    agent_sim_stop(s);
    for (int w = 0; w < s->n; w++)
        agent_session_destroy(s->ws[w].session);
    free(s->ws);
    free(s->index);
    heap_free(&s->events);
    free(s->pend);
    pthread_cond_destroy(&s->cv);
    pthread_cond_destroy(&s->cv_idle);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
