#include "agent_console.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assist_reply.h"
#include "ids.h"
#include "money.h"
#include "sbuf.h"

#define PENDING_MAX       32
#define COMPLETE_TRIES    20
#define RETRY_SOON_US     1000000 /* after "unavailable" or no responders */
#define PRESENCE_RETRY_US 3000000
#define AMOUNT_MAX        1000000000000000LL /* 10^15 */

typedef enum req_kind {
    REQ_PRESENCE,
    REQ_HEARTBEAT,
    REQ_ACCEPT,
    REQ_REJECT,
    REQ_COMPLETE,
    REQ_FEEDBACK
} req_kind;

static const char *const req_verbs[] = {"presence", "heartbeat", "accept",
                                        "reject",   "complete",  "feedback"};

/* A request the console wants sent, or sent and not answered yet. */
typedef struct pending {
    bool used;
    bool sent;
    uint64_t id;
    req_kind kind;
    int64_t rid; /* reservation of accept, reject, complete */
    agent_presence presence;
    char *body;
    size_t len;
    int64_t at_us; /* !sent: when to send; sent: when to give up waiting */
    int attempts;
} pending;

typedef enum edit_kind { EDIT_NONE, EDIT_FIELD, EDIT_DRAFT } edit_kind;

typedef enum model_state {
    MODEL_NONE,
    MODEL_WANTED,
    MODEL_RUNNING,
    MODEL_DONE
} model_state;

struct agent_console {
    agent_console_opts opts;
    const assist_kb *kbs[AGENT_CONSOLE_KBS_MAX]; /* the opts' list, copied */
    char worker[ID_MAX + 1];
    char model_name[128];
    agent_session *session;
    agent_time now;
    bool started;
    bool connected;
    agent_presence want;      /* what the person asked for */
    bool presence_known;      /* the dispatcher confirmed a presence */
    agent_presence confirmed; /* ... this one */
    bool wrapup;
    bool need_announce; /* re-send presence at the next answered heartbeat */
    int64_t next_hb_us;
    uint64_t next_id;
    pending pend[PENDING_MAX];

    /* The task in hand (an item of the session in WORKING or COMPLETING). */
    int64_t task_rid;
    assist_task *task;
    assist_panel *panel;
    const assist_kb *kb;
    char task_note[AGENT_CONSOLE_LINE_MAX]; /* why there is no panel */
    int passage_ids[ASSIST_PANEL_K_MAX];    /* the panel's, in the kb */
    int sel_passage;   /* the passage p selects, v opens and c copies */
    bool passage_open; /* the selected passage is shown in full */

    /* What the assistant showed and what the person did with it, sent in
     * one feedback request with the outcome (each event once). */
    int nfb;
    agent_feedback_event fb[AGENT_FEEDBACK_MAX];

    /* The outcome form. */
    int outcome; /* index into the offer's outcomes, -1: none chosen */
    int field;   /* selected field */
    bool set[AGENT_MAX_FIELDS];
    char text[AGENT_MAX_FIELDS][AGENT_STRING_MAX + 1];
    char draft[AGENT_STRING_MAX + 1];

    edit_kind edit;
    char buf[AGENT_STRING_MAX + 1];

    model_state model;
    agent_model_result result;

    char message[AGENT_CONSOLE_LINE_MAX];
    agent_style message_style;
    bool quit_armed;
    bool quit;
    int completed;
    char last_outcome[AGENT_CONSOLE_LINE_MAX];
};

void agent_console_opts_init(agent_console_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->request_timeout_ms = 3000;
    o->heartbeat_ms = 2000;
    o->panel_k = 5;
}

static void say(agent_console *c, agent_style style, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(agent_console *c, agent_style style, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->message, sizeof(c->message), fmt, ap);
    va_end(ap);
    c->message_style = style;
}

status agent_console_create(agent_console **out, const agent_console_opts *o,
                            err *e)
{
    agent_console *c;
    status st;

    if (o->worker == NULL || !ids_token_valid(o->worker))
        return err_set(e, ST_INVALID,
                       "worker id must be 1-64 characters of letters, digits, "
                       "'_' or '-'");
    if (o->nkbs < 0 || o->nkbs > AGENT_CONSOLE_KBS_MAX)
        return err_set(e, ST_INVALID, "at most %d knowledge bases",
                       AGENT_CONSOLE_KBS_MAX);
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    c->opts = *o;
    if (c->opts.request_timeout_ms <= 0)
        c->opts.request_timeout_ms = 3000;
    if (c->opts.heartbeat_ms <= 0)
        c->opts.heartbeat_ms = 2000;
    if (c->opts.panel_k < 1 || c->opts.panel_k > ASSIST_PANEL_K_MAX)
        c->opts.panel_k = 5;
    snprintf(c->worker, sizeof(c->worker), "%s", o->worker);
    snprintf(c->model_name, sizeof(c->model_name), "%s",
             o->model_name != NULL && o->model_name[0] != '\0' ? o->model_name
                                                               : "model");
    c->opts.worker = c->worker;
    for (int i = 0; i < o->nkbs; i++)
        c->kbs[i] = o->kbs[i];
    c->opts.kbs = c->kbs;
    c->opts.model_name = c->model_name;
    c->connected = true;
    c->want = AGENT_PRESENCE_AVAILABLE;
    c->next_id = 1;
    c->outcome = -1;
    st = agent_session_create(&c->session, o->worker, e);
    if (st != ST_OK) {
        free(c);
        return st;
    }
    *out = c;
    return ST_OK;
}

static void pending_drop(pending *p)
{
    free(p->body);
    memset(p, 0, sizeof(*p));
}

static void task_drop(agent_console *c)
{
    if (c->task_rid != 0)
        agent_session_remove(c->session, c->task_rid);
    c->task_rid = 0;
    assist_panel_destroy(c->panel);
    assist_task_destroy(c->task);
    c->panel = NULL;
    c->task = NULL;
    c->kb = NULL;
    c->task_note[0] = '\0';
    c->nfb = 0;
    c->sel_passage = 0;
    c->passage_open = false;
    c->outcome = -1;
    c->field = 0;
    memset(c->set, 0, sizeof(c->set));
    memset(c->text, 0, sizeof(c->text));
    c->draft[0] = '\0';
    if (c->edit != EDIT_NONE)
        c->edit = EDIT_NONE;
    c->model = MODEL_NONE;
    memset(&c->result, 0, sizeof(c->result));
    c->quit_armed = false;
}

void agent_console_destroy(agent_console *c)
{
    if (c == NULL)
        return;
    task_drop(c);
    for (int i = 0; i < PENDING_MAX; i++)
        pending_drop(&c->pend[i]);
    agent_session_destroy(c->session);
    free(c);
}

/* Queue a request (taking body); false when the table is full. */
static bool queue(agent_console *c, req_kind kind, int64_t rid, char *body,
                  size_t len)
{
    for (int i = 0; i < PENDING_MAX; i++) {
        pending *p = &c->pend[i];

        if (p->used)
            continue;
        p->used = true;
        p->sent = false;
        p->id = c->next_id++;
        p->kind = kind;
        p->rid = rid;
        p->body = body;
        p->len = len;
        p->at_us = c->now.mono_us;
        p->attempts = 0;
        return true;
    }
    free(body);
    say(c, AGENT_STYLE_BLOCK,
        "Too many requests are waiting for the dispatcher; try again.");
    return false;
}

static void drop_kind(agent_console *c, req_kind kind, int64_t rid)
{
    for (int i = 0; i < PENDING_MAX; i++)
        if (c->pend[i].used && c->pend[i].kind == kind &&
            (rid == 0 || c->pend[i].rid == rid))
            pending_drop(&c->pend[i]);
}

static void send_presence(agent_console *c, agent_presence p)
{
    char *body = NULL;
    size_t len = 0;
    err e = {0};

    drop_kind(c, REQ_PRESENCE, 0); /* only the latest wish counts */
    if (agent_msg_presence(agent_presence_name(p), &body, &len, &e) != ST_OK) {
        say(c, AGENT_STYLE_BLOCK, "%s", e.msg);
        return;
    }
    if (queue(c, REQ_PRESENCE, 0, body, len)) {
        for (int i = 0; i < PENDING_MAX; i++)
            if (c->pend[i].used && c->pend[i].kind == REQ_PRESENCE)
                c->pend[i].presence = p;
    }
}

void agent_console_start(agent_console *c, agent_time t)
{
    c->now = t;
    c->started = true;
    c->next_hb_us = t.mono_us + (int64_t)c->opts.heartbeat_ms * 1000;
    send_presence(c, c->want);
    say(c, AGENT_STYLE_TEXT, "Signing in as %s...", c->worker);
}

/* The first offer waiting for an answer, or NULL. */
static agent_item *first_offer(agent_console *c)
{
    for (int i = 0; i < agent_session_count(c->session); i++) {
        agent_item *it = agent_session_item(c->session, i);

        if (it->state == AGENT_ITEM_OFFERED ||
            it->state == AGENT_ITEM_ACCEPTING ||
            it->state == AGENT_ITEM_REJECTING)
            return it;
    }
    return NULL;
}

static agent_item *task_item(const agent_console *c)
{
    return c->task_rid != 0 ? agent_session_find(c->session, c->task_rid)
                            : NULL;
}

void agent_console_offer(agent_console *c, const char *buf, size_t len,
                         agent_time t)
{
    agent_offer o;
    agent_item *it = NULL;
    err e = {0};

    c->now = t;
    if (agent_offer_parse(buf, len, &o, &e) != ST_OK) {
        say(c, AGENT_STYLE_WARN, "A malformed offer was ignored: %s", e.msg);
        return;
    }
    if (agent_session_offer_add(c->session, &o, t.mono_us, &it, &e) != ST_OK)
        return; /* the same offer again */
    if (c->task_rid != 0)
        say(c, AGENT_STYLE_WARN,
            "New offer %lld (%s %s) while a task is in hand: finish this one "
            "or press n to reject it.",
            (long long)o.reservation_id, o.case_type, o.step);
    else
        say(c, AGENT_STYLE_OK,
            "New offer %lld: press y to accept, n to reject.",
            (long long)o.reservation_id);
}

void agent_console_notice(agent_console *c, const char *buf, size_t len,
                          agent_time t)
{
    agent_notice n;
    err e = {0};

    c->now = t;
    if (agent_notice_parse(buf, len, &n, &e) != ST_OK) {
        say(c, AGENT_STYLE_WARN, "A malformed notice was ignored: %s", e.msg);
        return;
    }
    if (n.type != AGENT_NOTICE_RESCINDED ||
        agent_session_find(c->session, n.reservation_id) == NULL)
        return;
    if (n.reservation_id == c->task_rid) {
        task_drop(c);
        say(c, AGENT_STYLE_BLOCK,
            "The dispatcher took the task back (%s); it is no longer yours.",
            n.reason);
    } else {
        agent_session_remove(c->session, n.reservation_id);
        say(c, AGENT_STYLE_WARN, "Offer %lld was withdrawn (%s).",
            (long long)n.reservation_id, n.reason);
    }
    drop_kind(c, REQ_ACCEPT, n.reservation_id);
    drop_kind(c, REQ_REJECT, n.reservation_id);
    drop_kind(c, REQ_COMPLETE, n.reservation_id);
}

static const assist_kb *kb_for(const agent_console *c, const char *tenant)
{
    for (int i = 0; i < c->opts.nkbs; i++)
        if (strcmp(assist_rules_tenant(assist_kb_rules(c->opts.kbs[i])),
                   tenant) == 0)
            return c->opts.kbs[i];
    return NULL;
}

/* Record a feedback event once; past AGENT_FEEDBACK_MAX the rest is
 * dropped (a panel holds far fewer suggestions). */
static void fb_add(agent_console *c, const char *suggestion, const char *action)
{
    for (int i = 0; i < c->nfb; i++)
        if (strcmp(c->fb[i].suggestion, suggestion) == 0 &&
            strcmp(c->fb[i].action, action) == 0)
            return;
    if (c->nfb == AGENT_FEEDBACK_MAX)
        return;
    snprintf(c->fb[c->nfb].suggestion, sizeof(c->fb[c->nfb].suggestion), "%s",
             suggestion);
    snprintf(c->fb[c->nfb].action, sizeof(c->fb[c->nfb].action), "%s", action);
    c->nfb++;
}

/* A passage's id in feedback is its number in the kb's index, which is
 * stable for a given knowledge base folder. */
static void find_passage_ids(agent_console *c)
{
    const assist_index *idx = assist_kb_index(c->kb);
    int n = assist_index_count(idx);

    for (int i = 0; i < c->panel->npassages; i++) {
        c->passage_ids[i] = -1;
        for (int j = 0; j < n && c->passage_ids[i] < 0; j++)
            if (assist_index_passage(idx, j) == c->panel->passages[i].passage)
                c->passage_ids[i] = j;
    }
}

/* The panel was drawn: its passages, reply and model answer were shown. */
static void fb_shown(agent_console *c)
{
    char id[32];

    for (int i = 0; i < c->panel->npassages; i++) {
        if (c->passage_ids[i] < 0)
            continue;
        snprintf(id, sizeof(id), "passage:%d", c->passage_ids[i]);
        fb_add(c, id, "shown");
    }
    if (c->panel->reply != NULL)
        fb_add(c, "reply", "shown");
    if (c->opts.model && c->model == MODEL_DONE && c->result.ok)
        fb_add(c, "model", "shown");
}

/* The accept reply arrived: keep the task, build its panel. */
static void accepted(agent_console *c, agent_item *it, const char *buf,
                     size_t len)
{
    err e = {0};

    task_drop(c);
    it->state = AGENT_ITEM_WORKING;
    c->task_rid = it->offer.reservation_id;
    c->wrapup = false;
    if (assist_task_parse(&c->task, buf, len, &e) != ST_OK) {
        c->task = NULL;
        snprintf(c->task_note, sizeof(c->task_note),
                 "The case data could not be read (%s); the form still works.",
                 e.msg);
    } else if ((c->kb = kb_for(c, assist_task_tenant(c->task))) == NULL) {
        snprintf(c->task_note, sizeof(c->task_note),
                 "No knowledge base for tenant %s: start the agent with --kb "
                 "examples/kb/%s for the assist panel.",
                 assist_task_tenant(c->task), assist_task_tenant(c->task));
    } else if (assist_panel_build(&c->panel, c->kb, c->task, c->now.wall_s,
                                  c->opts.panel_k, &e) != ST_OK) {
        c->panel = NULL;
        snprintf(c->task_note, sizeof(c->task_note),
                 "The assist panel could not be built: %s", e.msg);
    }
    if (c->panel != NULL)
        find_passage_ids(c);
    if (c->panel != NULL && c->opts.model)
        c->model = MODEL_WANTED;
    if (it->offer.noutcomes == 1)
        c->outcome = 0;
    say(c, AGENT_STYLE_OK,
        "Accepted. Choose the outcome (1-%d), fill its fields, acknowledge the "
        "prompts (k) and send (s).",
        it->offer.noutcomes);
}

static void on_reply(agent_console *c, pending *p, const agent_reply *r,
                     const char *buf, size_t len)
{
    agent_item *it =
        p->rid != 0 ? agent_session_find(c->session, p->rid) : NULL;

    switch (p->kind) {
    case REQ_PRESENCE:
        if (!r->ok) {
            say(c, AGENT_STYLE_BLOCK, "Presence refused: %s: %s", r->code,
                r->message);
            break;
        }
        c->presence_known = true;
        c->confirmed = p->presence;
        c->need_announce = false;
        agent_session_set_presence(c->session, p->presence);
        if (!c->wrapup)
            say(c, AGENT_STYLE_OK, "You are %s.",
                agent_presence_name(p->presence));
        break;
    case REQ_HEARTBEAT:
        if (r->ok && c->need_announce) {
            c->need_announce = false;
            send_presence(c, c->want);
        }
        break;
    case REQ_ACCEPT:
        if (it == NULL)
            break;
        if (!r->ok) {
            agent_session_remove(c->session, p->rid);
            say(c, AGENT_STYLE_BLOCK,
                "Offer %lld could not be accepted: %s: %s", (long long)p->rid,
                r->code, r->message);
        } else {
            accepted(c, it, buf, len);
        }
        break;
    case REQ_REJECT:
        if (it != NULL)
            agent_session_remove(c->session, p->rid);
        say(c, r->ok ? AGENT_STYLE_TEXT : AGENT_STYLE_WARN, "Offer %lld %s.",
            (long long)p->rid, r->ok ? "rejected" : "is gone");
        break;
    case REQ_FEEDBACK:
        if (!r->ok)
            say(c, AGENT_STYLE_WARN,
                "The assistant's feedback was not stored: %s: %s", r->code,
                r->message);
        break;
    case REQ_COMPLETE:
        if (it == NULL)
            break;
        if (r->ok) {
            const agent_outcome_spec *o = &it->offer.outcomes[c->outcome];

            snprintf(c->last_outcome, sizeof(c->last_outcome),
                     "Outcome %s recorded for case %lld (outcome id %lld%s).",
                     o->code, (long long)it->offer.case_id,
                     (long long)r->outcome_id,
                     r->duplicate ? ", sent twice and counted once" : "");
            c->completed++;
            task_drop(c);
            say(c, AGENT_STYLE_OK, "%s", c->last_outcome);
        } else if (agent_refusal_of(r) == AGENT_REFUSAL_CONFLICT) {
            char what[400];

            agent_conflict_text(r, p->rid, what, sizeof(what));
            task_drop(c);
            say(c, AGENT_STYLE_BLOCK, "Error: %s.", what);
        } else if (agent_refusal_of(r) == AGENT_REFUSAL_GONE) {
            task_drop(c);
            say(c, AGENT_STYLE_BLOCK,
                "The dispatcher refused the outcome (%s: %s); the task is no "
                "longer yours.",
                r->code, r->message);
        } else {
            it->state = AGENT_ITEM_WORKING;
            say(c, AGENT_STYLE_BLOCK,
                "The dispatcher refused the outcome: %s: %s", r->code,
                r->message);
        }
        break;
    }
}

void agent_console_reply(agent_console *c, uint64_t id, const char *buf,
                         size_t len, agent_time t)
{
    agent_reply r;
    pending *p = NULL;
    err e = {0};
    status st;

    c->now = t;
    for (int i = 0; i < PENDING_MAX && p == NULL; i++)
        if (c->pend[i].used && c->pend[i].sent && c->pend[i].id == id)
            p = &c->pend[i];
    if (p == NULL)
        return;
    st = agent_reply_parse(buf, len, &r, &e);
    if (st == ST_UNAVAILABLE ||
        (st == ST_OK && !r.ok && strcmp(r.code, "unavailable") == 0)) {
        if (p->kind == REQ_HEARTBEAT) {
            c->need_announce = true;
            pending_drop(p);
            return;
        }
        /* Nobody answers yet, or the dispatcher lost its database: the
         * same body again soon, under a new id. */
        p->sent = false;
        p->id = c->next_id++;
        p->at_us = t.mono_us + RETRY_SOON_US;
        if (p->kind == REQ_PRESENCE)
            say(c, AGENT_STYLE_WARN, "Waiting for the dispatcher...");
        return;
    }
    if (st != ST_OK) {
        say(c, AGENT_STYLE_WARN, "An unreadable %s reply was ignored: %s",
            req_verbs[p->kind], e.msg);
        pending_drop(p);
        return;
    }
    on_reply(c, p, &r, buf, len);
    pending_drop(p);
}

static int64_t offer_deadline_us(const agent_item *it)
{
    return it->received_mono_us + it->offer.timeout_ms * 1000;
}

void agent_console_tick(agent_console *c, agent_time t)
{
    int64_t grace = (int64_t)c->opts.request_timeout_ms * 1000;

    c->now = t;
    /* Offers not answered in time are gone. */
    for (int i = agent_session_count(c->session) - 1; i >= 0; i--) {
        agent_item *it = agent_session_item(c->session, i);
        int64_t end = offer_deadline_us(it);
        int64_t rid = it->offer.reservation_id;

        if ((it->state == AGENT_ITEM_OFFERED && t.mono_us >= end) ||
            ((it->state == AGENT_ITEM_ACCEPTING ||
              it->state == AGENT_ITEM_REJECTING) &&
             t.mono_us >= end + grace)) {
            say(c, AGENT_STYLE_WARN,
                "Offer %lld expired: not answered within %lld s.",
                (long long)rid, (long long)(it->offer.timeout_ms / 1000));
            agent_session_remove(c->session, rid);
            drop_kind(c, REQ_ACCEPT, rid);
            drop_kind(c, REQ_REJECT, rid);
        }
    }
    /* Requests that got no answer in time. */
    for (int i = 0; i < PENDING_MAX; i++) {
        pending *p = &c->pend[i];
        agent_item *it;

        if (!p->used || !p->sent || t.mono_us < p->at_us)
            continue;
        switch (p->kind) {
        case REQ_HEARTBEAT:
            c->need_announce = true;
            pending_drop(p);
            break;
        case REQ_PRESENCE:
            p->sent = false;
            p->id = c->next_id++;
            p->at_us = t.mono_us;
            break;
        case REQ_ACCEPT:
        case REQ_REJECT:
            it = agent_session_find(c->session, p->rid);
            if (it != NULL && t.mono_us < offer_deadline_us(it)) {
                p->sent = false;
                p->id = c->next_id++;
                p->at_us = t.mono_us;
            } else {
                pending_drop(p);
            }
            break;
        case REQ_FEEDBACK:
            /* Worth retrying like a completion, but never worth a word to
             * the person: it does not change the case. */
            if (p->attempts < COMPLETE_TRIES) {
                p->sent = false;
                p->id = c->next_id++;
                p->at_us = t.mono_us;
            } else {
                pending_drop(p);
            }
            break;
        case REQ_COMPLETE:
            it = agent_session_find(c->session, p->rid);
            if (it != NULL && p->attempts < COMPLETE_TRIES) {
                p->sent = false;
                p->id = c->next_id++;
                p->at_us = t.mono_us;
            } else {
                if (it != NULL)
                    it->state = AGENT_ITEM_WORKING;
                say(c, AGENT_STYLE_BLOCK,
                    "The dispatcher did not confirm the outcome after %d "
                    "tries; the task stays here: press s to send it again.",
                    COMPLETE_TRIES);
                pending_drop(p);
            }
            break;
        }
    }
    if (c->started && c->connected && t.mono_us >= c->next_hb_us) {
        char *body = NULL;
        size_t len = 0;

        c->next_hb_us = t.mono_us + (int64_t)c->opts.heartbeat_ms * 1000;
        /* The last one is still unanswered: the dispatcher may have marked
         * us offline meanwhile, so presence goes again at the next answer. */
        for (int i = 0; i < PENDING_MAX; i++)
            if (c->pend[i].used && c->pend[i].kind == REQ_HEARTBEAT &&
                c->pend[i].sent)
                c->need_announce = true;
        drop_kind(c, REQ_HEARTBEAT, 0);
        if (agent_msg_heartbeat(&body, &len, NULL) == ST_OK)
            queue(c, REQ_HEARTBEAT, 0, body, len);
    }
}

void agent_console_connection(agent_console *c, bool up, agent_time t)
{
    c->now = t;
    if (up == c->connected)
        return;
    c->connected = up;
    if (!up) {
        say(c, AGENT_STYLE_WARN,
            "Connection to NATS lost; reconnecting. Your task stays here.");
        return;
    }
    say(c, AGENT_STYLE_OK, "Reconnected to NATS.");
    /* The lease may have run out meanwhile: announce again at once. */
    if (c->started)
        send_presence(c, c->want);
    c->next_hb_us = t.mono_us;
}

bool agent_console_next_request(agent_console *c, agent_request *out)
{
    pending *best = NULL;

    for (int i = 0; i < PENDING_MAX; i++) {
        pending *p = &c->pend[i];

        if (p->used && !p->sent && p->at_us <= c->now.mono_us &&
            (best == NULL || p->id < best->id))
            best = p;
    }
    if (best == NULL)
        return false;
    best->sent = true;
    best->attempts++;
    best->at_us = c->now.mono_us + (int64_t)c->opts.request_timeout_ms * 1000;
    out->id = best->id;
    snprintf(out->verb, sizeof(out->verb), "%s", req_verbs[best->kind]);
    out->body = best->body;
    out->len = best->len;
    return true;
}

bool agent_console_model_job(agent_console *c, agent_model_request *out)
{
    agent_item *it = task_item(c);
    err e = {0};

    if (c->model != MODEL_WANTED || it == NULL || c->task == NULL ||
        c->panel == NULL)
        return false;
    if (agent_model_request_build(out, it->offer.task_id, c->task, c->panel,
                                  &e) != ST_OK) {
        c->model = MODEL_DONE;
        c->result.ok = false;
        snprintf(c->result.reason, sizeof(c->result.reason), "%.200s", e.msg);
        return false;
    }
    c->model = MODEL_RUNNING;
    return true;
}

void agent_console_model_result(agent_console *c, const agent_model_result *r)
{
    agent_item *it = task_item(c);

    if (it == NULL || c->model != MODEL_RUNNING ||
        it->offer.task_id != r->task_id)
        return;
    c->result = *r;
    c->model = MODEL_DONE;
}

bool agent_console_quit(const agent_console *c)
{
    return c->quit;
}

agent_console_mode agent_console_mode_get(const agent_console *c)
{
    if (c->task_rid != 0)
        return AGENT_MODE_TASK;
    if (first_offer((agent_console *)c) != NULL)
        return AGENT_MODE_OFFER;
    return c->wrapup ? AGENT_MODE_WRAPUP : AGENT_MODE_IDLE;
}

agent_presence agent_console_presence(const agent_console *c)
{
    return c->want;
}

const agent_item *agent_console_task(const agent_console *c)
{
    return task_item(c);
}

const assist_panel *agent_console_panel(const agent_console *c)
{
    return c->panel;
}

int agent_console_completed(const agent_console *c)
{
    return c->completed;
}

/* ---- The outcome form ---- */

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n > 0;
}

static bool date_valid(const char *s)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d, max;

    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !all_digits(s, 4) ||
        !all_digits(s + 5, 2) || !all_digits(s + 8, 2))
        return false;
    y = atoi(s);
    m = atoi(s + 5);
    d = atoi(s + 8);
    if (y < 1 || m < 1 || m > 12 || d < 1)
        return false;
    max = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        max = 29;
    return d <= max;
}

status agent_console_field_check(const char *name, agent_field_type type,
                                 const char *text, agent_value *out, err *e)
{
    agent_value v;
    size_t n = strlen(text);
    char *end = NULL;

    memset(&v, 0, sizeof(v));
    v.type = type;
    if (n == 0)
        return err_set(e, ST_INVALID, "%s is required", name);
    switch (type) {
    case AGENT_FIELD_AMOUNT:
        if (!all_digits(text, n) || n > 16)
            return err_set(e, ST_INVALID,
                           "%s must be a whole number of minor units from 0 "
                           "to 10^15 (500000 is 5,000.00); got \"%.40s\"",
                           name, text);
        v.i = strtoll(text, NULL, 10);
        if (v.i > AMOUNT_MAX)
            return err_set(e, ST_INVALID, "%s must be at most 10^15", name);
        break;
    case AGENT_FIELD_INT:
        errno = 0;
        v.i = strtoll(text, &end, 10);
        if (errno != 0 || end == text || *end != '\0' || text[0] == '+' ||
            text[0] == ' ')
            return err_set(e, ST_INVALID,
                           "%s must be a whole number; got \"%.40s\"", name,
                           text);
        break;
    case AGENT_FIELD_DATE:
        if (!date_valid(text))
            return err_set(e, ST_INVALID,
                           "%s must be a real date YYYY-MM-DD; \"%.40s\" is "
                           "not",
                           name, text);
        snprintf(v.s, sizeof(v.s), "%s", text);
        break;
    case AGENT_FIELD_STRING:
        if (n > AGENT_STRING_MAX)
            return err_set(e, ST_INVALID, "%s must be at most %d bytes", name,
                           AGENT_STRING_MAX);
        snprintf(v.s, sizeof(v.s), "%s", text);
        break;
    case AGENT_FIELD_BOOL:
        if (strcmp(text, "y") == 0 || strcmp(text, "yes") == 0 ||
            strcmp(text, "true") == 0)
            v.b = true;
        else if (strcmp(text, "n") == 0 || strcmp(text, "no") == 0 ||
                 strcmp(text, "false") == 0)
            v.b = false;
        else
            return err_set(e, ST_INVALID, "%s must be y or n; got \"%.40s\"",
                           name, text);
        break;
    }
    *out = v;
    return ST_OK;
}

static int prompts_pending(const assist_panel *p)
{
    int n = 0;

    if (p == NULL)
        return 0;
    for (int i = 0; i < p->prompts.n; i++)
        if (p->prompts.items[i].ack_required && !p->prompts.items[i].acked)
            n++;
    return n;
}

static void ack_next(agent_console *c)
{
    err e = {0};

    for (int i = 0; c->panel != NULL && i < c->panel->prompts.n; i++) {
        const assist_prompt *pr = &c->panel->prompts.items[i];
        char id[ID_MAX + 1];

        if (!pr->ack_required || pr->acked)
            continue;
        snprintf(id, sizeof(id), "%s", pr->id);
        if (assist_panel_ack(c->panel, id, &e) != ST_OK) {
            say(c, AGENT_STYLE_BLOCK, "%s", e.msg);
            return;
        }
        if (prompts_pending(c->panel) > 0)
            say(c, AGENT_STYLE_TEXT,
                "Acknowledged %s; %d more to acknowledge (k).", id,
                prompts_pending(c->panel));
        else
            say(c, AGENT_STYLE_OK,
                "Acknowledged %s; every prompt is acknowledged.", id);
        return;
    }
    say(c, AGENT_STYLE_TEXT, "No prompt needs acknowledging.");
}

/* The task's feedback events in one request, queued after the outcome.
 * Sent again with the outcome, it stores nothing twice. */
static void send_feedback(agent_console *c, agent_item *it)
{
    char *body = NULL;
    size_t len = 0;

    if (c->nfb == 0)
        return;
    drop_kind(c, REQ_FEEDBACK, it->offer.reservation_id);
    if (agent_msg_feedback(&it->offer, c->fb, c->nfb, &body, &len, NULL) ==
        ST_OK)
        queue(c, REQ_FEEDBACK, it->offer.reservation_id, body, len);
}

static void send_outcome(agent_console *c, agent_item *it)
{
    agent_outcome oc;
    const agent_outcome_spec *spec;
    char *body = NULL;
    size_t len = 0;
    err e = {0};

    if (it->state == AGENT_ITEM_COMPLETING) {
        say(c, AGENT_STYLE_TEXT,
            "The outcome is on its way; waiting for the "
            "dispatcher.");
        return;
    }
    if (c->outcome < 0) {
        say(c, AGENT_STYLE_BLOCK, "Choose an outcome first (keys 1-%d).",
            it->offer.noutcomes);
        return;
    }
    spec = &it->offer.outcomes[c->outcome];
    memset(&oc, 0, sizeof(oc));
    oc.index = c->outcome;
    oc.nvalues = spec->nfields;
    for (int i = 0; i < spec->nfields; i++) {
        if (!c->set[i]) {
            c->field = i;
            say(c, AGENT_STYLE_BLOCK,
                "%s is required: it is selected now, press Enter to fill it.",
                spec->fields[i].name);
            return;
        }
        if (agent_console_field_check(spec->fields[i].name,
                                      spec->fields[i].type, c->text[i],
                                      &oc.values[i], &e) != ST_OK) {
            c->field = i;
            say(c, AGENT_STYLE_BLOCK, "%s", e.msg);
            return;
        }
    }
    if (!assist_panel_may_complete(c->panel) || prompts_pending(c->panel) > 0) {
        say(c, AGENT_STYLE_BLOCK,
            "Acknowledge %d prompt(s) before the outcome may be sent: press k.",
            prompts_pending(c->panel));
        return;
    }
    if (agent_msg_complete(&it->offer, &oc, &body, &len, &e) != ST_OK) {
        say(c, AGENT_STYLE_BLOCK, "%s", e.msg);
        return;
    }
    /* Wrap-up: no new offers until the person says so. */
    if (c->want == AGENT_PRESENCE_AVAILABLE) {
        c->wrapup = true;
        c->want = AGENT_PRESENCE_BREAK;
        send_presence(c, AGENT_PRESENCE_BREAK);
    }
    drop_kind(c, REQ_COMPLETE, it->offer.reservation_id);
    if (queue(c, REQ_COMPLETE, it->offer.reservation_id, body, len)) {
        it->state = AGENT_ITEM_COMPLETING;
        say(c, AGENT_STYLE_TEXT, "Sending %s...", spec->code);
        send_feedback(c, it);
    }
}

static void answer_offer(agent_console *c, agent_item *it, bool accept)
{
    char *body = NULL;
    size_t len = 0;
    err e = {0};
    status st;

    st = accept ? agent_msg_accept(&it->offer, &body, &len, &e)
                : agent_msg_reject(&it->offer, "declined by the worker", &body,
                                   &len, &e);
    if (st != ST_OK) {
        say(c, AGENT_STYLE_BLOCK, "%s", e.msg);
        return;
    }
    if (queue(c, accept ? REQ_ACCEPT : REQ_REJECT, it->offer.reservation_id,
              body, len)) {
        it->state = accept ? AGENT_ITEM_ACCEPTING : AGENT_ITEM_REJECTING;
        say(c, AGENT_STYLE_TEXT, "%s offer %lld...",
            accept ? "Accepting" : "Rejecting",
            (long long)it->offer.reservation_id);
    }
}

static void set_presence(agent_console *c, agent_presence p)
{
    c->wrapup = false;
    c->want = p;
    send_presence(c, p);
    say(c, AGENT_STYLE_TEXT, "Asking to be %s...", agent_presence_name(p));
}

/* Append code point cp to buf as UTF-8 if it fits. */
static void buf_add(char *buf, size_t cap, int cp)
{
    size_t n = strlen(buf);
    char u[4];
    size_t k;

    if (cp < 0x20 || cp == 0x7f || (cp >= 0xD800 && cp <= 0xDFFF) ||
        cp > 0x10FFFF)
        return;
    if (cp < 0x80) {
        u[0] = (char)cp;
        k = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        k = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        k = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        k = 4;
    }
    if (n + k >= cap)
        return;
    memcpy(buf + n, u, k);
    buf[n + k] = '\0';
}

static void buf_backspace(char *buf)
{
    size_t n = strlen(buf);

    while (n > 0 && ((unsigned char)buf[n - 1] & 0xC0) == 0x80)
        n--;
    if (n > 0)
        n--;
    buf[n] = '\0';
}

static void edit_commit(agent_console *c, agent_item *it)
{
    err e = {0};
    int found = 0;

    if (c->edit == EDIT_DRAFT) {
        snprintf(c->draft, sizeof(c->draft), "%s", c->buf);
        if (c->panel == NULL || c->kb == NULL) {
            say(c, AGENT_STYLE_WARN, "No assist panel to check the draft.");
        } else if (assist_panel_check_draft(c->panel, c->kb, c->draft, &found,
                                            &e) != ST_OK) {
            say(c, AGENT_STYLE_BLOCK, "%s", e.msg);
        } else if (found > 0) {
            say(c, AGENT_STYLE_BLOCK,
                "The draft has %d forbidden phrase(s): see the compliance "
                "prompts.",
                found);
        } else {
            say(c, AGENT_STYLE_OK, "The draft has no forbidden phrase.");
        }
    } else if (c->edit == EDIT_FIELD && it != NULL && c->outcome >= 0) {
        const agent_field_spec *f =
            &it->offer.outcomes[c->outcome].fields[c->field];
        agent_value v;

        if (agent_console_field_check(f->name, f->type, c->buf, &v, &e) !=
            ST_OK) {
            say(c, AGENT_STYLE_BLOCK, "Refused: %s", e.msg);
        } else {
            snprintf(c->text[c->field], sizeof(c->text[c->field]), "%s",
                     c->buf);
            c->set[c->field] = true;
            say(c, AGENT_STYLE_OK, "%s = %s", f->name, c->buf);
            if (c->field + 1 < it->offer.outcomes[c->outcome].nfields)
                c->field++;
        }
    }
    c->edit = EDIT_NONE;
    c->buf[0] = '\0';
}

/* ---- Opening and copying suggestions ---- */

/* The feedback id of the panel's passage i ("passage:<n>"); false when
 * the passage is not in the kb's index (never, in practice). */
static bool passage_key(const agent_console *c, int i, char *id, size_t cap)
{
    if (c->passage_ids[i] < 0)
        return false;
    snprintf(id, cap, "passage:%d", c->passage_ids[i]);
    return true;
}

/* Copy src to dst (cap bytes) as one line: line breaks and tabs become
 * spaces; a text too long is cut at a character boundary. */
static void copy_line(char *dst, size_t cap, const char *src)
{
    size_t n = 0;

    for (; *src != '\0' && n + 1 < cap; src++)
        dst[n++] = *src == '\n' || *src == '\r' || *src == '\t' ? ' ' : *src;
    if (((unsigned char)*src & 0xC0) == 0x80) {
        while (n > 0 && ((unsigned char)dst[n - 1] & 0xC0) == 0x80)
            n--;
        if (n > 0)
            n--; /* the cut character's lead byte */
    }
    dst[n] = '\0';
}

/* The chosen outcome's selected field when it is a string field (a note:
 * where a copy goes), else NULL (the copy goes to the draft reply). */
static const agent_field_spec *copy_field(const agent_console *c,
                                          const agent_item *it)
{
    const agent_field_spec *f;

    if (it == NULL || c->outcome < 0 ||
        c->field >= it->offer.outcomes[c->outcome].nfields)
        return NULL;
    f = &it->offer.outcomes[c->outcome].fields[c->field];
    return f->type == AGENT_FIELD_STRING ? f : NULL;
}

static void select_passage(agent_console *c)
{
    char id[32];

    if (c->panel == NULL || c->panel->npassages == 0) {
        say(c, AGENT_STYLE_WARN, "There is no passage to select.");
        return;
    }
    c->sel_passage = (c->sel_passage + 1) % c->panel->npassages;
    if (c->passage_open && passage_key(c, c->sel_passage, id, sizeof(id)))
        fb_add(c, id, "opened");
    say(c, AGENT_STYLE_TEXT,
        "Passage [%d] selected: v %s it, c copies it while it is open.",
        c->sel_passage + 1, c->passage_open ? "closes" : "opens");
}

static void open_passage(agent_console *c)
{
    char id[32];

    if (c->panel == NULL || c->panel->npassages == 0) {
        say(c, AGENT_STYLE_WARN, "There is no passage to open.");
        return;
    }
    c->passage_open = !c->passage_open;
    if (!c->passage_open) {
        say(c, AGENT_STYLE_TEXT, "Passage [%d] closed.", c->sel_passage + 1);
        return;
    }
    if (passage_key(c, c->sel_passage, id, sizeof(id)))
        fb_add(c, id, "opened");
    say(c, AGENT_STYLE_OK,
        "Passage [%d] is open above the panel: c copies it, v closes it, p "
        "opens the next.",
        c->sel_passage + 1);
}

/* c: the open passage (its citation and text), else the suggested reply,
 * goes into the chosen outcome's selected string field, else into the
 * draft reply, through the same checks as typing it. */
static void copy_suggestion(agent_console *c, agent_item *it)
{
    const agent_field_spec *f = copy_field(c, it);
    char id[32], text[AGENT_STRING_MAX + 1];

    if (c->panel == NULL) {
        say(c, AGENT_STYLE_WARN, "There is no assist panel to copy from.");
        return;
    }
    if (c->passage_open) {
        const assist_panel_passage *pp = &c->panel->passages[c->sel_passage];
        char *both = NULL;

        if (asprintf(&both, "%s: %s", pp->citation, pp->passage->text) < 0) {
            say(c, AGENT_STYLE_BLOCK, "Out of memory copying the passage.");
            return;
        }
        copy_line(text, sizeof(text), both);
        free(both);
        if (passage_key(c, c->sel_passage, id, sizeof(id)))
            fb_add(c, id, "copied");
    } else if (c->panel->reply != NULL) {
        copy_line(text, sizeof(text), c->panel->reply);
        fb_add(c, "reply", "copied");
    } else {
        say(c, AGENT_STYLE_WARN,
            "There is no suggested reply; open a passage (v) to copy it.");
        return;
    }
    snprintf(c->buf, sizeof(c->buf), "%s", text);
    c->edit = f != NULL ? EDIT_FIELD : EDIT_DRAFT;
    edit_commit(c, it);
    if (f == NULL && c->message_style == AGENT_STYLE_OK)
        say(c, AGENT_STYLE_OK,
            "Copied the %s into the draft reply (no forbidden phrase); d "
            "edits it.",
            c->passage_open ? "passage" : "suggested reply");
    else if (f != NULL && c->message_style == AGENT_STYLE_OK)
        say(c, AGENT_STYLE_OK, "Copied the %s into %s.",
            c->passage_open ? "passage" : "suggested reply", f->name);
}

static void key_task(agent_console *c, agent_item *it, int key)
{
    int nfields = c->outcome >= 0 ? it->offer.outcomes[c->outcome].nfields : 0;

    if (key >= '1' && key <= '9') {
        int i = key - '1';

        if (i >= it->offer.noutcomes) {
            say(c, AGENT_STYLE_WARN, "There are only %d outcomes.",
                it->offer.noutcomes);
        } else if (i != c->outcome) {
            c->outcome = i;
            c->field = 0;
            memset(c->set, 0, sizeof(c->set));
            memset(c->text, 0, sizeof(c->text));
            say(c, AGENT_STYLE_TEXT, "Outcome %s chosen%s.",
                it->offer.outcomes[i].code,
                it->offer.outcomes[i].nfields > 0
                    ? ": press Enter to fill the selected field"
                    : "");
        }
    } else if (key == AGENT_KEY_UP) {
        if (c->field > 0)
            c->field--;
    } else if (key == AGENT_KEY_DOWN || key == AGENT_KEY_TAB) {
        if (c->field + 1 < nfields)
            c->field++;
        else if (key == AGENT_KEY_TAB)
            c->field = 0;
    } else if (key == AGENT_KEY_ENTER || key == 'e') {
        if (c->outcome < 0) {
            say(c, AGENT_STYLE_WARN, "Choose an outcome first (keys 1-%d).",
                it->offer.noutcomes);
        } else if (nfields == 0) {
            say(c, AGENT_STYLE_TEXT,
                "This outcome has no fields: press s to "
                "send it.");
        } else {
            c->edit = EDIT_FIELD;
            snprintf(c->buf, sizeof(c->buf), "%s", c->text[c->field]);
        }
    } else if (key == 'k') {
        ack_next(c);
    } else if (key == 'd') {
        c->edit = EDIT_DRAFT;
        snprintf(c->buf, sizeof(c->buf), "%s", c->draft);
    } else if (key == 's') {
        send_outcome(c, it);
    } else if (key == 'p') {
        select_passage(c);
    } else if (key == 'v') {
        open_passage(c);
    } else if (key == 'c') {
        copy_suggestion(c, it);
    } else if (key == 'r') {
        if (c->panel == NULL || c->panel->reply == NULL) {
            say(c, AGENT_STYLE_WARN, "There is no suggested reply.");
        } else {
            fb_add(c, "reply", "used");
            say(c, AGENT_STYLE_OK,
                "Suggested reply marked as used; it counts for the "
                "assistant's report.");
        }
    }
}

void agent_console_key(agent_console *c, int key, agent_time t)
{
    agent_item *it = task_item(c);
    agent_item *offer = first_offer(c);

    c->now = t;
    if (c->edit != EDIT_NONE) {
        if (key == AGENT_KEY_ENTER)
            edit_commit(c, it);
        else if (key == AGENT_KEY_ESC) {
            c->edit = EDIT_NONE;
            c->buf[0] = '\0';
            say(c, AGENT_STYLE_TEXT, "Not changed.");
        } else if (key == AGENT_KEY_BACKSPACE)
            buf_backspace(c->buf);
        else if (key >= 0)
            buf_add(c->buf, sizeof(c->buf), key);
        return;
    }
    if (key != 'q')
        c->quit_armed = false;
    if (key == 'q') {
        if (it == NULL || c->quit_armed) {
            send_presence(c, AGENT_PRESENCE_OFFLINE);
            c->quit = true;
        } else {
            c->quit_armed = true;
            say(c, AGENT_STYLE_WARN,
                "A task is in hand: press q again to quit anyway (it returns "
                "to the queue when the lease runs out).");
        }
    } else if (key == 'a') {
        set_presence(c, AGENT_PRESENCE_AVAILABLE);
    } else if (key == 'b') {
        set_presence(c, AGENT_PRESENCE_BREAK);
    } else if (key == 'o') {
        set_presence(c, AGENT_PRESENCE_OFFLINE);
    } else if (offer != NULL && offer->state == AGENT_ITEM_OFFERED &&
               (key == 'n' ||
                ((key == 'y' || key == AGENT_KEY_ENTER) && it == NULL))) {
        answer_offer(c, offer, key != 'n');
    } else if (offer != NULL && key == 'y') {
        say(c, AGENT_STYLE_WARN,
            "Finish the task in hand first, or press n to reject the offer.");
    } else if (it != NULL) {
        key_task(c, it, key);
    }
}

/* ---- The view ---- */

static status add(agent_view *v, agent_style style, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static status add(agent_view *v, agent_style style, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    int n;

    if (v->n == v->cap) {
        int cap = v->cap > 0 ? v->cap * 2 : 64;
        agent_view_line *l = realloc(v->lines, (size_t)cap * sizeof(*l));

        if (l == NULL)
            return ST_NOMEM;
        v->lines = l;
        v->cap = cap;
    }
    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        return ST_NOMEM;
    v->lines[v->n].style = style;
    v->lines[v->n].text = s;
    v->n++;
    return ST_OK;
}

void agent_view_free(agent_view *v)
{
    for (int i = 0; i < v->n; i++)
        free(v->lines[i].text);
    free(v->lines);
    memset(v, 0, sizeof(*v));
}

static const char *field_hint(agent_field_type t)
{
    switch (t) {
    case AGENT_FIELD_AMOUNT:
        return "minor units";
    case AGENT_FIELD_DATE:
        return "YYYY-MM-DD";
    case AGENT_FIELD_BOOL:
        return "y/n";
    case AGENT_FIELD_INT:
        return "whole number";
    case AGENT_FIELD_STRING:
        return "text";
    }
    return "";
}

static status view_offer(agent_console *c, const agent_item *it, bool banner,
                         agent_view *v)
{
    const agent_offer *o = &it->offer;
    int64_t left = offer_deadline_us(it) - c->now.mono_us;
    status st;

    left = left > 0 ? (left + 999999) / 1000000 : 0;
    if (banner)
        return add(v, AGENT_STYLE_WARN,
                   "== New offer %lld (%s %s) · expires in %lld s · n rejects "
                   "it; finish the task in hand to take it",
                   (long long)o->reservation_id, o->case_type, o->step,
                   (long long)left);
    st = add(v, AGENT_STYLE_TITLE, "== Offer %lld · expires in %lld s%s",
             (long long)o->reservation_id, (long long)left,
             it->state == AGENT_ITEM_ACCEPTING   ? " · accepting..."
             : it->state == AGENT_ITEM_REJECTING ? " · rejecting..."
                                                 : "");
    if (st == ST_OK)
        st = add(v, AGENT_STYLE_TEXT,
                 "%s · %s · step %s · %s · case %lld · task %lld", o->tenant,
                 o->case_type, o->step, o->channel, (long long)o->case_id,
                 (long long)o->task_id);
    for (int i = 0; st == ST_OK && i < o->noutcomes; i++) {
        char line[ASSIST_STEP_MAX];

        assist_reply_next_step(&o->outcomes[i], line, sizeof(line));
        st = add(v, AGENT_STYLE_DIM, "  - %s", line);
    }
    if (st == ST_OK)
        st =
            add(v, AGENT_STYLE_DIM, "Customer data is shown after you accept.");
    return st;
}

static void payload_member(const char *key, const char *value, void *arg)
{
    sbuf *b = arg;

    sbuf_printf(b, "%s%s %s", b->len > 0 ? " · " : "", key, value);
}

static status view_case(agent_console *c, const agent_item *it, agent_view *v)
{
    static const char *const who[] = {"name", "phone", "email", "language",
                                      "utc_offset"};
    const agent_offer *o = &it->offer;
    assist_value x;
    sbuf b = {0};
    status st;

    assist_task_value(c->task, "external_id", &x);
    st = add(v, AGENT_STYLE_TITLE,
             "== Case %s · case %lld · task %lld · %s %s · step %s · %s",
             x.kind != ASSIST_VALUE_MISSING ? x.s : "?", (long long)o->case_id,
             (long long)o->task_id, o->tenant, o->case_type, o->step,
             o->channel);
    for (size_t i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
        char path[32];

        snprintf(path, sizeof(path), "customer.%s", who[i]);
        if (assist_task_value(c->task, path, &x))
            sbuf_printf(&b, "%s%s", b.len > 0 ? " · " : "", x.s);
    }
    if (st == ST_OK)
        st = add(v, AGENT_STYLE_TEXT, "Customer: %s",
                 b.len > 0 ? sbuf_str(&b) : "(none given)");
    sbuf_reset(&b);
    assist_task_payload_each(c->task, payload_member, &b);
    if (st == ST_OK)
        st = add(v, AGENT_STYLE_TEXT, "Data: %s",
                 b.len > 0 ? sbuf_str(&b) : "(none)");
    sbuf_reset(&b);
    for (int i = 0; i < assist_task_history_count(c->task); i++) {
        const assist_history_entry *h = assist_task_history(c->task, i);

        sbuf_printf(&b, "%s%d. %s by %s: %s", i > 0 ? " · " : "", i + 1,
                    h->step, h->worker, h->code);
    }
    if (st == ST_OK)
        st = add(v, AGENT_STYLE_TEXT, "History: %s",
                 b.len > 0 ? sbuf_str(&b) : "none (first contact)");
    if (b.failed && st == ST_OK)
        st = ST_NOMEM;
    sbuf_free(&b);
    return st;
}

/* "5,000.00 CNY" (the currency's decimals: "150,000 JPY") for an amount
 * field, into buf. */
static void amount_text(const agent_console *c, const char *text, char *buf,
                        size_t cap)
{
    char num[MONEY_FORMAT_MAX];
    assist_value cur;
    const char *code = "";

    if (!assist_task_value(c->task, "payload.currency", &cur) &&
        c->kb != NULL) {
        code = assist_rules_currency(assist_kb_rules(c->kb));
    } else if (cur.kind != ASSIST_VALUE_MISSING) {
        code = cur.s;
    }
    /* A code that is not an ISO 4217 currency is left out: its decimals
     * are unknown, so the figure is shown as a plain amount. */
    if (!money_currency_valid(code))
        code = "";
    money_format_amount(num, sizeof(num), code, strtoll(text, NULL, 10));
    snprintf(buf, cap, " = %s%s%.16s", num, code[0] != '\0' ? " " : "", code);
}

static status view_form(agent_console *c, const agent_item *it, agent_view *v)
{
    const agent_offer *o = &it->offer;
    status st;
    int pend = prompts_pending(c->panel);

    st = add(v, AGENT_STYLE_TITLE, "== Outcome (keys 1-%d)", o->noutcomes);
    for (int i = 0; st == ST_OK && i < o->noutcomes; i++)
        st = add(v, i == c->outcome ? AGENT_STYLE_SELECTED : AGENT_STYLE_TEXT,
                 "%s %d %s (%s)", i == c->outcome ? ">" : " ", i + 1,
                 o->outcomes[i].code,
                 o->outcomes[i].billable ? "billable" : "not billable");
    if (st == ST_OK && c->outcome >= 0) {
        const agent_outcome_spec *sp = &o->outcomes[c->outcome];

        if (sp->nfields == 0)
            st = add(v, AGENT_STYLE_DIM, "  %s has no fields.", sp->code);
        for (int i = 0; st == ST_OK && i < sp->nfields; i++) {
            char extra[96] = "";

            if (c->set[i] && sp->fields[i].type == AGENT_FIELD_AMOUNT)
                amount_text(c, c->text[i], extra, sizeof(extra));
            st = add(v, i == c->field ? AGENT_STYLE_SELECTED : AGENT_STYLE_TEXT,
                     "  %s %s (%s): %s%s", i == c->field ? ">" : " ",
                     sp->fields[i].name, field_hint(sp->fields[i].type),
                     c->set[i] ? c->text[i] : "(required)", extra);
        }
    }
    if (st != ST_OK)
        return st;
    if (it->state == AGENT_ITEM_COMPLETING)
        return add(v, AGENT_STYLE_DIM, "Sending; waiting for the dispatcher.");
    if (pend > 0)
        return add(v, AGENT_STYLE_BLOCK,
                   "Blocked: acknowledge %d prompt(s) before sending (k).",
                   pend);
    return add(v, AGENT_STYLE_OK,
               "The outcome may be sent (s) once its "
               "fields are filled.");
}

static status view_model(agent_console *c, agent_view *v)
{
    const agent_model_result *r = &c->result;
    status st = ST_OK;

    if (!c->opts.model || c->panel == NULL)
        return ST_OK;
    if (c->model == MODEL_WANTED || c->model == MODEL_RUNNING)
        return add(v, AGENT_STYLE_DIM, "== Model (%s): asking...",
                   c->model_name);
    if (!r->ok)
        return add(v, AGENT_STYLE_WARN,
                   "== Model (%s): no suggestion: %s. The panel below is "
                   "retrieval only.",
                   c->model_name, r->reason);
    st = add(v, AGENT_STYLE_TITLE, "== Model suggestion (%s, %lld ms)",
             c->model_name, (long long)r->elapsed_ms);
    if (st == ST_OK)
        st = add(v, AGENT_STYLE_TEXT, "%s", r->reply);
    if (st == ST_OK && r->ncited == 0)
        st = add(v, AGENT_STYLE_WARN,
                 "   cites no passage: check it "
                 "against the knowledge below");
    for (int i = 0; st == ST_OK && i < r->ncited; i++)
        st = add(v, AGENT_STYLE_DIM, "   [P%d] = [%d] %s", r->cited[i] + 1,
                 r->cited[i] + 1, c->panel->passages[r->cited[i]].citation);
    return st;
}

/* The selected passage, open in full or not, and what c would copy
 * where. */
static status view_suggestions(agent_console *c, const agent_item *it,
                               agent_view *v)
{
    const agent_field_spec *f = copy_field(c, it);
    const char *dest = f != NULL ? f->name : "the draft reply";
    const assist_panel_passage *pp;
    status st;

    if (c->panel->npassages == 0)
        return c->panel->reply == NULL
                   ? ST_OK
                   : add(v, AGENT_STYLE_DIM,
                         "Assist: c copies the suggested reply into %s.", dest);
    pp = &c->panel->passages[c->sel_passage];
    if (!c->passage_open)
        return add(v, AGENT_STYLE_DIM,
                   "Assist: passage [%d] of %d selected (p next, v open); c "
                   "copies %s into %s.",
                   c->sel_passage + 1, c->panel->npassages,
                   c->panel->reply != NULL ? "the suggested reply"
                                           : "nothing (open a passage)",
                   dest);
    st = add(v, AGENT_STYLE_TITLE, "== Open passage [%d] · %s (line %d)",
             c->sel_passage + 1, pp->citation, pp->passage->line);
    if (st == ST_OK)
        st = add(v, AGENT_STYLE_TEXT, "%s", pp->passage->text);
    if (st == ST_OK)
        st = add(v, AGENT_STYLE_DIM,
                 "   c copies this passage into %s · v closes · p next", dest);
    return st;
}

static status view_task(agent_console *c, const agent_item *it, agent_view *v)
{
    status st = ST_OK;

    if (c->task != NULL)
        st = view_case(c, it, v);
    else
        st = add(v, AGENT_STYLE_TITLE, "== Task %lld · case %lld · %s %s",
                 (long long)it->offer.task_id, (long long)it->offer.case_id,
                 it->offer.case_type, it->offer.step);
    if (st == ST_OK && c->task_note[0] != '\0')
        st = add(v, AGENT_STYLE_WARN, "%s", c->task_note);
    if (st == ST_OK)
        st = view_form(c, it, v);
    if (st == ST_OK && c->draft[0] != '\0')
        st = add(v, AGENT_STYLE_DIM, "Draft checked: %s", c->draft);
    if (st == ST_OK)
        st = view_model(c, v);
    if (st == ST_OK && c->panel != NULL)
        fb_shown(c);
    if (st == ST_OK && c->panel != NULL)
        st = view_suggestions(c, it, v);
    for (int i = 0; st == ST_OK && c->panel != NULL && i < c->panel->nlines;
         i++) {
        const char *l = assist_panel_line(c->panel, i);
        agent_style style = AGENT_STYLE_TEXT;

        if (strncmp(l, "==", 2) == 0)
            style = AGENT_STYLE_TITLE;
        else if (strncmp(l, "[block, acknowledge]", 20) == 0)
            style = AGENT_STYLE_BLOCK;
        else if (strncmp(l, "[warn, acknowledge]", 19) == 0 ||
                 strncmp(l, "[block", 6) == 0)
            style = AGENT_STYLE_WARN;
        st = add(v, style, "%s", l);
    }
    return st;
}

static const char *presence_label(const agent_console *c)
{
    if (!c->presence_known)
        return "signing in";
    if (c->wrapup)
        return "wrap-up";
    return agent_presence_name(c->confirmed);
}

status agent_console_view(agent_console *c, agent_time t, agent_view *v, err *e)
{
    agent_item *it = task_item(c);
    agent_item *offer = first_offer(c);
    agent_console_mode mode = agent_console_mode_get(c);
    status st = ST_OK;

    c->now = t;
    agent_view_free(v);
    snprintf(v->header, sizeof(v->header),
             "Twinline agent · %s · %s%s · NATS %s · done %d", c->worker,
             presence_label(c),
             c->presence_known && c->want != c->confirmed && !c->wrapup
                 ? " (changing)"
                 : "",
             c->connected ? "connected" : "reconnecting...", c->completed);
    snprintf(v->message, sizeof(v->message), "%s", c->message);
    v->message_style = c->message_style;
    v->focus = it != NULL      ? it->offer.reservation_id
               : offer != NULL ? -offer->offer.reservation_id
                               : 0;
    if (c->edit != EDIT_NONE) {
        const char *label = "draft reply";

        if (c->edit == EDIT_FIELD && it != NULL && c->outcome >= 0)
            label = it->offer.outcomes[c->outcome].fields[c->field].name;
        snprintf(v->input, sizeof(v->input), "%s> %s", label, c->buf);
        snprintf(v->keys, sizeof(v->keys),
                 "Enter save · Esc cancel · Backspace delete");
    } else if (mode == AGENT_MODE_TASK) {
        snprintf(v->keys, sizeof(v->keys),
                 "1-%d outcome · ↑/↓ field · Enter edit · k acknowledge · d "
                 "check draft · p passage · v open · c copy · r reply used · "
                 "s send · PgUp/PgDn scroll · b break · q quit",
                 it->offer.noutcomes);
    } else if (mode == AGENT_MODE_OFFER) {
        snprintf(v->keys, sizeof(v->keys),
                 "y/Enter accept · n reject · b break · o offline · q quit");
    } else {
        snprintf(v->keys, sizeof(v->keys),
                 "a available · b break · o offline · q quit");
    }
    if (offer != NULL)
        st = view_offer(c, offer, it != NULL, v);
    if (st == ST_OK && it != NULL)
        st = view_task(c, it, v);
    if (st == ST_OK && mode == AGENT_MODE_WRAPUP) {
        st = add(v, AGENT_STYLE_TITLE, "== Wrap-up");
        if (st == ST_OK && c->last_outcome[0] != '\0')
            st = add(v, AGENT_STYLE_OK, "%s", c->last_outcome);
        if (st == ST_OK)
            st = add(v, AGENT_STYLE_TEXT,
                     "You get no offers now. Press a when you are ready for "
                     "the next one.");
    } else if (st == ST_OK && mode == AGENT_MODE_IDLE) {
        const char *what =
            !c->presence_known ? "Signing in; waiting for the dispatcher."
            : c->confirmed == AGENT_PRESENCE_AVAILABLE ? "Waiting for offers."
            : c->confirmed == AGENT_PRESENCE_BREAK
                ? "On break: no offers. Press a to take offers."
                : "Offline: no offers. Press a to take offers.";

        st = add(v, AGENT_STYLE_TITLE, "== %s", what);
        if (st == ST_OK)
            st = add(v, AGENT_STYLE_DIM, "Outcomes recorded this session: %d",
                     c->completed);
    }
    if (st != ST_OK)
        return err_set(e, ST_NOMEM, "out of memory drawing the screen");
    return ST_OK;
}
