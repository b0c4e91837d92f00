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

#define PENDING_MAX       64
#define COMPLETE_TRIES    20
#define RETRY_SOON_US     1000000 /* after "unavailable" or no responders */
#define PRESENCE_RETRY_US 3000000
#define AMOUNT_MAX        1000000000000000LL /* 10^15 */
#define ITEMS_MAX         64 /* offers and tasks listed at once */

typedef enum req_kind {
    REQ_PRESENCE,
    REQ_HEARTBEAT,
    REQ_ACCEPT,
    REQ_REJECT,
    REQ_COMPLETE,
    REQ_FEEDBACK,
    REQ_CALLUP
} req_kind;

static const char *const req_verbs[] = {"presence", "heartbeat", "accept",
                                        "reject",   "complete",  "feedback",
                                        "callup"};

/* A request the console wants sent, or sent and not answered yet. */
typedef struct pending {
    bool used;
    bool sent;
    uint64_t id;
    req_kind kind;
    int64_t rid; /* reservation of accept, reject, complete, feedback */
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

/* One task in hand (an item of the session in WORKING or COMPLETING):
 * its case, panel, form and draft, kept while the person works on
 * another. */
typedef struct task_slot {
    int64_t rid;
    assist_task *task;
    assist_panel *panel;
    const assist_kb *kb;
    char note[AGENT_CONSOLE_LINE_MAX];   /* why there is no panel */
    int passage_ids[ASSIST_PANEL_K_MAX]; /* the panel's, in the kb */
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

    model_state model;
    agent_model_result result;
} task_slot;

struct agent_console {
    agent_console_opts opts;
    const assist_kb *kbs[AGENT_CONSOLE_KBS_MAX]; /* the opts' list, copied */
    char worker[ID_MAX + 1];
    char model_name[128];
    bool has_signin;
    agent_signin signin;
    bool takeover; /* the next presence request takes over */
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

    /* The worker's slots per channel, as the presence reply said. */
    int nslots;
    char slot_channel[AGENT_SLOTS_MAX][ID_MAX + 1];
    int slot_count[AGENT_SLOTS_MAX];

    /* Signed out: why (the dispatcher's words); "" while signed in. */
    char signed_out[AGENT_CONSOLE_LINE_MAX];

    /* The tasks in hand, and the item (task or offer) on screen. */
    int ntasks;
    task_slot *tasks[AGENT_CONSOLE_TASKS_MAX];
    int64_t sel;

    edit_kind edit; /* editing a field or the draft of the selected task */
    char buf[AGENT_STRING_MAX + 1];

    char message[AGENT_CONSOLE_LINE_MAX];
    agent_style message_style;
    bool quit_armed;
    bool quit;
    int completed;
    char last_outcome[AGENT_CONSOLE_LINE_MAX];

    /* An operator's call-up waiting for y or n (0: none). */
    int64_t callup_id;
    int64_t callup_deadline_ms;
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
    if (o->signin != NULL && !ids_token_valid(o->signin->id))
        return err_set(e, ST_INVALID,
                       "a session id must be 1-64 characters of letters, "
                       "digits, '_' or '-'");
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
    if (o->signin != NULL) {
        c->has_signin = true;
        c->signin = *o->signin;
    }
    c->opts.signin = NULL;
    c->takeover = o->takeover;
    c->connected = true;
    c->want = AGENT_PRESENCE_AVAILABLE;
    c->next_id = 1;
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

static task_slot *slot_find(const agent_console *c, int64_t rid)
{
    for (int i = 0; i < c->ntasks; i++)
        if (c->tasks[i]->rid == rid)
            return c->tasks[i];
    return NULL;
}

static void slot_free(task_slot *ts)
{
    if (ts == NULL)
        return;
    assist_panel_destroy(ts->panel);
    assist_task_destroy(ts->task);
    free(ts);
}

/* Forget task rid: its slot, the session's item and the customer data
 * with them; an edit of it is given up. */
static void task_drop(agent_console *c, int64_t rid)
{
    for (int i = 0; i < c->ntasks; i++) {
        if (c->tasks[i]->rid != rid)
            continue;
        slot_free(c->tasks[i]);
        memmove(&c->tasks[i], &c->tasks[i + 1],
                (size_t)(c->ntasks - i - 1) * sizeof(c->tasks[0]));
        c->ntasks--;
        break;
    }
    agent_session_remove(c->session, rid);
    if (c->sel == rid) {
        c->edit = EDIT_NONE;
        c->buf[0] = '\0';
    }
    if (c->ntasks == 0)
        c->quit_armed = false;
}

void agent_console_destroy(agent_console *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < c->ntasks; i++)
        slot_free(c->tasks[i]);
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
    agent_presence_req r;
    char *body = NULL;
    size_t len = 0;
    err e = {0};

    if (c->signed_out[0] != '\0')
        return; /* another session speaks for the worker now */
    drop_kind(c, REQ_PRESENCE, 0); /* only the latest wish counts */
    memset(&r, 0, sizeof(r));
    r.presence = p;
    r.has_signin = c->has_signin;
    r.signin = c->signin;
    r.takeover = c->takeover;
    if (agent_msg_presence_req(&r, &body, &len, &e) != ST_OK) {
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
    if (c->has_signin)
        say(c, AGENT_STYLE_TEXT,
            "Signing in as %s (session %s on %s, pid %lld)%s...", c->worker,
            c->signin.id, c->signin.host, (long long)c->signin.pid,
            c->takeover ? ", taking over any other session" : "");
    else
        say(c, AGENT_STYLE_TEXT, "Signing in as %s...", c->worker);
}

/*
 * This session no longer speaks for the worker: the dispatcher refused
 * the sign-in or another session took over. Everything held is dropped
 * (the dispatcher gives it back to the queue), nothing more is sent, and
 * quitting sends no "offline" that would sign the other session out.
 */
static void sign_out(agent_console *c, const char *why)
{
    snprintf(c->signed_out, sizeof(c->signed_out), "%s", why);
    while (c->ntasks > 0)
        task_drop(c, c->tasks[0]->rid);
    while (agent_session_count(c->session) > 0)
        agent_session_remove(
            c->session,
            agent_session_item(c->session, 0)->offer.reservation_id);
    for (int i = 0; i < PENDING_MAX; i++)
        pending_drop(&c->pend[i]);
    c->sel = 0;
    c->edit = EDIT_NONE;
    c->wrapup = false;
    c->quit_armed = false;
    c->presence_known = false;
    c->takeover = false;
    say(c, AGENT_STYLE_BLOCK,
        "Signed out: press t to take the worker over here, q to close.");
}

static int64_t offer_deadline_us(const agent_item *it)
{
    return it->received_mono_us + it->offer.timeout_ms * 1000;
}

static bool is_task(const agent_item *it)
{
    return it->state == AGENT_ITEM_WORKING ||
           it->state == AGENT_ITEM_COMPLETING;
}

/* The offers and tasks in the order they arrived (the session's own order
 * changes as items go), into list; returns how many. */
static int items(agent_console *c, agent_item **list)
{
    int n = 0;

    for (int i = 0; i < agent_session_count(c->session) && n < ITEMS_MAX; i++) {
        agent_item *it = agent_session_item(c->session, i);
        int j = n++;

        while (
            j > 0 &&
            (list[j - 1]->received_mono_us > it->received_mono_us ||
             (list[j - 1]->received_mono_us == it->received_mono_us &&
              list[j - 1]->offer.reservation_id > it->offer.reservation_id))) {
            list[j] = list[j - 1];
            j--;
        }
        list[j] = it;
    }
    return n;
}

/* The first offer waiting for an answer, or NULL. */
static agent_item *first_offer(agent_console *c)
{
    agent_item *list[ITEMS_MAX];
    int n = items(c, list);

    for (int i = 0; i < n; i++)
        if (!is_task(list[i]))
            return list[i];
    return NULL;
}

/* The selected item; when it has gone, the first task in hand, else the
 * first offer, is selected instead. */
static agent_item *selected(agent_console *c)
{
    agent_item *list[ITEMS_MAX], *it;
    int n;

    it = c->sel != 0 ? agent_session_find(c->session, c->sel) : NULL;
    if (it != NULL)
        return it;
    n = items(c, list);
    c->sel = 0;
    for (int i = 0; i < n && c->sel == 0; i++)
        if (is_task(list[i]))
            c->sel = list[i]->offer.reservation_id;
    if (c->sel == 0 && n > 0)
        c->sel = list[0]->offer.reservation_id;
    c->edit = EDIT_NONE;
    return c->sel != 0 ? agent_session_find(c->session, c->sel) : NULL;
}

/* The selected task and its slot, or NULL. */
static agent_item *task_item(agent_console *c, task_slot **ts)
{
    agent_item *it = selected(c);

    *ts = it != NULL && is_task(it) ? slot_find(c, it->offer.reservation_id)
                                    : NULL;
    return *ts != NULL ? it : NULL;
}

static int tasks_on(agent_console *c, const char *channel)
{
    int n = 0;

    for (int i = 0; i < c->ntasks; i++) {
        agent_item *it = agent_session_find(c->session, c->tasks[i]->rid);

        n += it != NULL && strcmp(it->offer.channel, channel) == 0;
    }
    return n;
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
static void fb_add(task_slot *ts, const char *suggestion, const char *action)
{
    for (int i = 0; i < ts->nfb; i++)
        if (strcmp(ts->fb[i].suggestion, suggestion) == 0 &&
            strcmp(ts->fb[i].action, action) == 0)
            return;
    if (ts->nfb == AGENT_FEEDBACK_MAX)
        return;
    snprintf(ts->fb[ts->nfb].suggestion, sizeof(ts->fb[ts->nfb].suggestion),
             "%s", suggestion);
    snprintf(ts->fb[ts->nfb].action, sizeof(ts->fb[ts->nfb].action), "%s",
             action);
    ts->nfb++;
}

/* A passage's id in feedback is its number in the kb's index, which is
 * stable for a given knowledge base folder. */
static void find_passage_ids(task_slot *ts)
{
    const assist_index *idx = assist_kb_index(ts->kb);
    int n = assist_index_count(idx);

    for (int i = 0; i < ts->panel->npassages; i++) {
        ts->passage_ids[i] = -1;
        for (int j = 0; j < n && ts->passage_ids[i] < 0; j++)
            if (assist_index_passage(idx, j) == ts->panel->passages[i].passage)
                ts->passage_ids[i] = j;
    }
}

/* The panel was drawn: its passages, reply and model answer were shown. */
static void fb_shown(const agent_console *c, task_slot *ts)
{
    char id[32];

    for (int i = 0; i < ts->panel->npassages; i++) {
        if (ts->passage_ids[i] < 0)
            continue;
        snprintf(id, sizeof(id), "passage:%d", ts->passage_ids[i]);
        fb_add(ts, id, "shown");
    }
    if (ts->panel->reply != NULL)
        fb_add(ts, "reply", "shown");
    if (c->opts.model && ts->model == MODEL_DONE && ts->result.ok)
        fb_add(ts, "model", "shown");
}

/* The task of item it arrived (an accept reply, or an auto-accepted
 * offer): keep it with its own slot and build its panel. */
static void accepted(agent_console *c, agent_item *it, const char *buf,
                     size_t len)
{
    task_slot *ts;
    err e = {0};

    it->state = AGENT_ITEM_WORKING;
    if (slot_find(c, it->offer.reservation_id) != NULL)
        return; /* the same accept answered twice */
    if (c->ntasks == AGENT_CONSOLE_TASKS_MAX ||
        (ts = calloc(1, sizeof(*ts))) == NULL) {
        say(c, AGENT_STYLE_BLOCK,
            "Task %lld cannot be held here (at most %d at once); it goes "
            "back to the queue when the lease runs out.",
            (long long)it->offer.task_id, AGENT_CONSOLE_TASKS_MAX);
        agent_session_remove(c->session, it->offer.reservation_id);
        return;
    }
    ts->rid = it->offer.reservation_id;
    ts->outcome = -1;
    c->tasks[c->ntasks++] = ts;
    c->wrapup = false;
    if (assist_task_parse(&ts->task, buf, len, &e) != ST_OK) {
        ts->task = NULL;
        snprintf(ts->note, sizeof(ts->note),
                 "The case data could not be read (%s); the form still works.",
                 e.msg);
    } else if ((ts->kb = kb_for(c, assist_task_tenant(ts->task))) == NULL) {
        snprintf(ts->note, sizeof(ts->note),
                 "No knowledge base for tenant %s: start the agent with --kb "
                 "examples/kb/%s for the assist panel.",
                 assist_task_tenant(ts->task), assist_task_tenant(ts->task));
    } else if (assist_panel_build(&ts->panel, ts->kb, ts->task, c->now.wall_s,
                                  c->opts.panel_k, &e) != ST_OK) {
        ts->panel = NULL;
        snprintf(ts->note, sizeof(ts->note),
                 "The assist panel could not be built: %s", e.msg);
    }
    if (ts->panel != NULL)
        find_passage_ids(ts);
    if (ts->panel != NULL && c->opts.model)
        ts->model = MODEL_WANTED;
    if (it->offer.noutcomes == 1)
        ts->outcome = 0;
    /* The person is on another task: the new one waits in the list. */
    if (c->sel != it->offer.reservation_id) {
        agent_item *cur =
            c->sel != 0 ? agent_session_find(c->session, c->sel) : NULL;

        if (cur == NULL || !is_task(cur)) {
            c->sel = it->offer.reservation_id;
            c->edit = EDIT_NONE;
        } else {
            say(c, AGENT_STYLE_OK,
                "Task %lld (%s %s) is yours too: ] or [ switches to it.",
                (long long)it->offer.task_id, it->offer.case_type,
                it->offer.step);
            return;
        }
    }
    say(c, AGENT_STYLE_OK,
        "Accepted. Choose the outcome (1-%d), fill its fields, acknowledge the "
        "prompts (k) and send (s).",
        it->offer.noutcomes);
}

void agent_console_offer(agent_console *c, const char *buf, size_t len,
                         agent_time t)
{
    agent_offer o;
    agent_item *it = NULL, *cur;
    err e = {0};

    c->now = t;
    if (c->signed_out[0] != '\0')
        return;
    if (agent_offer_parse(buf, len, &o, &e) != ST_OK) {
        say(c, AGENT_STYLE_WARN, "A malformed offer was ignored: %s", e.msg);
        return;
    }
    if (agent_session_offer_add(c->session, &o, t.mono_us, &it, &e) != ST_OK)
        return; /* the same offer again */
    if (o.auto_accepted) {
        accepted(c, it, buf, len);
        return;
    }
    cur = selected(c);
    if (cur != NULL && cur != it && is_task(cur)) {
        say(c, AGENT_STYLE_WARN,
            "New offer %lld (%s · %s %s, expires in %lld s): y accepts it, n "
            "rejects it, ] shows it.",
            (long long)o.reservation_id, o.channel, o.case_type, o.step,
            (long long)((o.timeout_ms + 999) / 1000));
        return;
    }
    if (cur == NULL || !is_task(cur))
        c->sel = cur != NULL ? cur->offer.reservation_id : o.reservation_id;
    say(c, AGENT_STYLE_OK, "New offer %lld: press y to accept, n to reject.",
        (long long)o.reservation_id);
}

/* Who replaced this session, in words. */
static void replaced_by(const agent_notice *n, char *buf, size_t cap)
{
    if (!n->has_by)
        snprintf(buf, cap, "an agent without a session");
    else
        snprintf(buf, cap, "session %s on host %s (pid %lld)", n->by.id,
                 n->by.host, (long long)n->by.pid);
}

void agent_console_notice(agent_console *c, const char *buf, size_t len,
                          agent_time t)
{
    agent_notice n;
    agent_item *it;
    err e = {0};

    c->now = t;
    if (c->signed_out[0] != '\0')
        return;
    if (agent_notice_parse(buf, len, &n, &e) != ST_OK) {
        say(c, AGENT_STYLE_WARN, "A malformed notice was ignored: %s", e.msg);
        return;
    }
    if (n.type == AGENT_NOTICE_SESSION_REPLACED) {
        char by[256], why[AGENT_CONSOLE_LINE_MAX];

        /* Another session's notice (the one before us) is not ours. */
        if (!c->has_signin || strcmp(n.session_id, c->signin.id) != 0)
            return;
        replaced_by(&n, by, sizeof(by));
        snprintf(why, sizeof(why),
                 "%s took worker %s over; this session (%s) is signed out and "
                 "its tasks went back to the queue.",
                 by, c->worker, c->signin.id);
        sign_out(c, why);
        return;
    }
    if (n.type == AGENT_NOTICE_CALLUP) {
        c->callup_id = n.callup_id;
        c->callup_deadline_ms = n.deadline_ms;
        say(c, AGENT_STYLE_WARN,
            "Call-up: your operator asks you to come online for pool %s "
            "(%s): %s. Press y to accept and go available, n to decline.",
            n.pool, n.skill, n.note);
        return;
    }
    if (n.type == AGENT_NOTICE_CALLUP_RELEASE) {
        if (c->callup_id == n.callup_id)
            c->callup_id = 0;
        say(c, AGENT_STYLE_OK,
            "Released: the queue is short again (%s); you are off shift. "
            "Thank you.",
            n.note);
        if (c->ntasks == 0) {
            c->want = AGENT_PRESENCE_OFFLINE;
            send_presence(c, AGENT_PRESENCE_OFFLINE);
        }
        return;
    }
    if (n.type == AGENT_NOTICE_SIGNED_OUT) {
        char why[AGENT_CONSOLE_LINE_MAX];

        /* A notice for the session before this one is not ours. */
        if (c->has_signin && n.session_id[0] != '\0' &&
            strcmp(n.session_id, c->signin.id) != 0)
            return;
        snprintf(why, sizeof(why),
                 "Your operator %s worker %s (%s); its tasks went back to "
                 "the queue.",
                 strcmp(n.reason, "deactivated") == 0 ? "deactivated"
                                                      : "signed out",
                 c->worker, n.note[0] != '\0' ? n.note : n.reason);
        sign_out(c, why);
        return;
    }
    if (n.type != AGENT_NOTICE_RESCINDED ||
        (it = agent_session_find(c->session, n.reservation_id)) == NULL)
        return;
    if (is_task(it)) {
        int64_t task_id = it->offer.task_id;

        task_drop(c, n.reservation_id);
        say(c, AGENT_STYLE_BLOCK,
            "The dispatcher took task %lld back (%s); it is no longer yours.",
            (long long)task_id, n.reason);
    } else {
        agent_session_remove(c->session, n.reservation_id);
        say(c, AGENT_STYLE_WARN, "Offer %lld was withdrawn (%s).",
            (long long)n.reservation_id, n.reason);
    }
    drop_kind(c, REQ_ACCEPT, n.reservation_id);
    drop_kind(c, REQ_REJECT, n.reservation_id);
    drop_kind(c, REQ_COMPLETE, n.reservation_id);
}

static void on_reply(agent_console *c, pending *p, const agent_reply *r,
                     const char *buf, size_t len)
{
    agent_item *it =
        p->rid != 0 ? agent_session_find(c->session, p->rid) : NULL;
    task_slot *ts = p->rid != 0 ? slot_find(c, p->rid) : NULL;

    if (!r->ok && strcmp(r->code, "session_conflict") == 0) {
        sign_out(c, r->message);
        return;
    }
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
        c->takeover = false; /* done; a later announce takes nothing over */
        if (r->nslots > 0) {
            c->nslots = r->nslots;
            memcpy(c->slot_channel, r->slot_channel, sizeof(c->slot_channel));
            memcpy(c->slot_count, r->slot_count, sizeof(c->slot_count));
        }
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
    case REQ_CALLUP:
        if (!r->ok)
            say(c, AGENT_STYLE_WARN, "The call-up answer was refused: %s: %s",
                r->code, r->message);
        else if (p->rid > 0) {
            c->wrapup = false;
            c->want = AGENT_PRESENCE_AVAILABLE;
            send_presence(c, AGENT_PRESENCE_AVAILABLE);
            say(c, AGENT_STYLE_OK, "Call-up accepted: going available.");
        } else
            say(c, AGENT_STYLE_TEXT, "Call-up declined.");
        break;
    case REQ_COMPLETE:
        if (it == NULL || ts == NULL)
            break;
        if (r->ok) {
            const agent_outcome_spec *o = &it->offer.outcomes[ts->outcome];

            snprintf(c->last_outcome, sizeof(c->last_outcome),
                     "Outcome %s recorded for case %lld (outcome id %lld%s).",
                     o->code, (long long)it->offer.case_id,
                     (long long)r->outcome_id,
                     r->duplicate ? ", sent twice and counted once" : "");
            c->completed++;
            task_drop(c, p->rid);
            say(c, AGENT_STYLE_OK, "%s", c->last_outcome);
        } else if (agent_refusal_of(r) == AGENT_REFUSAL_CONFLICT) {
            char what[400];
            int64_t task_id = it->offer.task_id;

            /* Only this task is dropped: the others in hand keep their
             * forms. The task is named as the list shows it. */
            agent_conflict_text(r, p->rid, what, sizeof(what));
            task_drop(c, p->rid);
            say(c, AGENT_STYLE_BLOCK, "Error: task %lld: %s.",
                (long long)task_id, what);
        } else if (agent_refusal_of(r) == AGENT_REFUSAL_GONE) {
            task_drop(c, p->rid);
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
    /* sign_out drops every pending request, this one too. */
    if (!r.ok && strcmp(r.code, "session_conflict") == 0) {
        on_reply(c, p, &r, buf, len);
        return;
    }
    on_reply(c, p, &r, buf, len);
    pending_drop(p);
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
        case REQ_CALLUP:
            /* Until the invitation's deadline; the dispatcher takes a
             * repeated answer as the first. */
            if (p->attempts < COMPLETE_TRIES) {
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
    if (c->started && c->connected && c->signed_out[0] == '\0' &&
        t.mono_us >= c->next_hb_us) {
        char *body = NULL;
        size_t len = 0;
        status st;

        c->next_hb_us = t.mono_us + (int64_t)c->opts.heartbeat_ms * 1000;
        /* The last one is still unanswered: the dispatcher may have marked
         * us offline meanwhile, so presence goes again at the next answer. */
        for (int i = 0; i < PENDING_MAX; i++)
            if (c->pend[i].used && c->pend[i].kind == REQ_HEARTBEAT &&
                c->pend[i].sent)
                c->need_announce = true;
        drop_kind(c, REQ_HEARTBEAT, 0);
        st = c->has_signin
                 ? agent_msg_heartbeat_session(c->signin.id, &body, &len, NULL)
                 : agent_msg_heartbeat(&body, &len, NULL);
        if (st == ST_OK)
            queue(c, REQ_HEARTBEAT, 0, body, len);
    }
}

void agent_console_connection(agent_console *c, bool up, agent_time t)
{
    c->now = t;
    if (up == c->connected)
        return;
    c->connected = up;
    if (c->signed_out[0] != '\0')
        return;
    if (!up) {
        say(c, AGENT_STYLE_WARN,
            "Connection to NATS lost; reconnecting. Your tasks stay here.");
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
    for (int i = 0; i < c->ntasks; i++) {
        task_slot *ts = c->tasks[i];
        agent_item *it = agent_session_find(c->session, ts->rid);
        err e = {0};

        if (ts->model != MODEL_WANTED || it == NULL || ts->task == NULL ||
            ts->panel == NULL)
            continue;
        if (agent_model_request_build(out, it->offer.task_id, ts->task,
                                      ts->panel, &e) != ST_OK) {
            ts->model = MODEL_DONE;
            ts->result.ok = false;
            snprintf(ts->result.reason, sizeof(ts->result.reason), "%.200s",
                     e.msg);
            continue;
        }
        ts->model = MODEL_RUNNING;
        return true;
    }
    return false;
}

void agent_console_model_result(agent_console *c, const agent_model_result *r)
{
    for (int i = 0; i < c->ntasks; i++) {
        task_slot *ts = c->tasks[i];
        agent_item *it = agent_session_find(c->session, ts->rid);

        if (it == NULL || ts->model != MODEL_RUNNING ||
            it->offer.task_id != r->task_id)
            continue;
        ts->result = *r;
        ts->model = MODEL_DONE;
        return;
    }
}

bool agent_console_quit(const agent_console *c)
{
    return c->quit;
}

const char *agent_console_signed_out(const agent_console *c)
{
    return c->signed_out[0] != '\0' ? c->signed_out : NULL;
}

agent_console_mode agent_console_mode_get(const agent_console *c)
{
    agent_item *it;

    if (c->signed_out[0] != '\0')
        return AGENT_MODE_SIGNED_OUT;
    it = selected((agent_console *)c);
    if (it != NULL)
        return is_task(it) ? AGENT_MODE_TASK : AGENT_MODE_OFFER;
    return c->wrapup ? AGENT_MODE_WRAPUP : AGENT_MODE_IDLE;
}

agent_presence agent_console_presence(const agent_console *c)
{
    return c->want;
}

const agent_item *agent_console_task(const agent_console *c)
{
    task_slot *ts;

    return task_item((agent_console *)c, &ts);
}

const assist_panel *agent_console_panel(const agent_console *c)
{
    task_slot *ts;

    return task_item((agent_console *)c, &ts) != NULL ? ts->panel : NULL;
}

int agent_console_task_count(const agent_console *c)
{
    return c->ntasks;
}

int agent_console_offer_count(const agent_console *c)
{
    return agent_session_count(c->session) - c->ntasks;
}

int64_t agent_console_selected(const agent_console *c)
{
    agent_item *it = selected((agent_console *)c);

    return it != NULL ? it->offer.reservation_id : 0;
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

/* Fields of the chosen outcome still to fill (0 without an outcome). */
static int fields_missing(const agent_item *it, const task_slot *ts)
{
    int n = 0;

    if (ts->outcome < 0)
        return 0;
    for (int i = 0; i < it->offer.outcomes[ts->outcome].nfields; i++)
        n += !ts->set[i];
    return n;
}

static void ack_next(agent_console *c, task_slot *ts)
{
    err e = {0};

    for (int i = 0; ts->panel != NULL && i < ts->panel->prompts.n; i++) {
        const assist_prompt *pr = &ts->panel->prompts.items[i];
        char id[ID_MAX + 1];

        if (!pr->ack_required || pr->acked)
            continue;
        snprintf(id, sizeof(id), "%s", pr->id);
        if (assist_panel_ack(ts->panel, id, &e) != ST_OK) {
            say(c, AGENT_STYLE_BLOCK, "%s", e.msg);
            return;
        }
        if (prompts_pending(ts->panel) > 0)
            say(c, AGENT_STYLE_TEXT,
                "Acknowledged %s; %d more to acknowledge (k).", id,
                prompts_pending(ts->panel));
        else
            say(c, AGENT_STYLE_OK,
                "Acknowledged %s; every prompt is acknowledged.", id);
        return;
    }
    say(c, AGENT_STYLE_TEXT, "No prompt needs acknowledging.");
}

/* The task's feedback events in one request, queued after the outcome.
 * Sent again with the outcome, it stores nothing twice. */
static void send_feedback(agent_console *c, agent_item *it, task_slot *ts)
{
    char *body = NULL;
    size_t len = 0;

    if (ts->nfb == 0)
        return;
    drop_kind(c, REQ_FEEDBACK, it->offer.reservation_id);
    if (agent_msg_feedback(&it->offer, ts->fb, ts->nfb, &body, &len, NULL) ==
        ST_OK)
        queue(c, REQ_FEEDBACK, it->offer.reservation_id, body, len);
}

static void send_outcome(agent_console *c, agent_item *it, task_slot *ts)
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
    if (ts->outcome < 0) {
        say(c, AGENT_STYLE_BLOCK, "Choose an outcome first (keys 1-%d).",
            it->offer.noutcomes);
        return;
    }
    spec = &it->offer.outcomes[ts->outcome];
    memset(&oc, 0, sizeof(oc));
    oc.index = ts->outcome;
    oc.nvalues = spec->nfields;
    for (int i = 0; i < spec->nfields; i++) {
        if (!ts->set[i]) {
            ts->field = i;
            say(c, AGENT_STYLE_BLOCK,
                "%s is required: it is selected now, press Enter to fill it.",
                spec->fields[i].name);
            return;
        }
        if (agent_console_field_check(spec->fields[i].name,
                                      spec->fields[i].type, ts->text[i],
                                      &oc.values[i], &e) != ST_OK) {
            ts->field = i;
            say(c, AGENT_STYLE_BLOCK, "%s", e.msg);
            return;
        }
    }
    if ((ts->panel != NULL && !assist_panel_may_complete(ts->panel)) ||
        prompts_pending(ts->panel) > 0) {
        say(c, AGENT_STYLE_BLOCK,
            "Acknowledge %d prompt(s) before the outcome may be sent: press k.",
            prompts_pending(ts->panel));
        return;
    }
    if (agent_msg_complete(&it->offer, &oc, &body, &len, &e) != ST_OK) {
        say(c, AGENT_STYLE_BLOCK, "%s", e.msg);
        return;
    }
    /* Wrap-up after the last task in hand: no new offers until the person
     * says so. With other tasks still in hand the freed slot takes new
     * work at once. */
    if (c->want == AGENT_PRESENCE_AVAILABLE && c->ntasks == 1) {
        c->wrapup = true;
        c->want = AGENT_PRESENCE_BREAK;
        send_presence(c, AGENT_PRESENCE_BREAK);
    }
    drop_kind(c, REQ_COMPLETE, it->offer.reservation_id);
    if (queue(c, REQ_COMPLETE, it->offer.reservation_id, body, len)) {
        it->state = AGENT_ITEM_COMPLETING;
        say(c, AGENT_STYLE_TEXT, "Sending %s...", spec->code);
        send_feedback(c, it, ts);
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

/* Answer the waiting call-up; an accepted one makes the worker available
 * once the dispatcher confirms it (the pending's rid is the id then, 0
 * for a decline). */
static void answer_callup(agent_console *c, bool accept)
{
    agent_callup_answer a = {c->callup_id, accept};
    char *body = NULL;
    size_t len = 0;
    err e = {0};

    c->callup_id = 0;
    if (agent_msg_callup_encode(&a, &body, &len, &e) != ST_OK) {
        say(c, AGENT_STYLE_BLOCK, "Cannot answer the call-up: %s", e.msg);
        return;
    }
    if (queue(c, REQ_CALLUP, accept ? a.callup_id : 0, body, len))
        say(c, AGENT_STYLE_TEXT, "%s the call-up...",
            accept ? "Accepting" : "Declining");
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

static void edit_commit(agent_console *c, agent_item *it, task_slot *ts)
{
    err e = {0};
    int found = 0;

    if (c->edit == EDIT_DRAFT) {
        snprintf(ts->draft, sizeof(ts->draft), "%s", c->buf);
        if (ts->panel == NULL || ts->kb == NULL) {
            say(c, AGENT_STYLE_WARN, "No assist panel to check the draft.");
        } else if (assist_panel_check_draft(ts->panel, ts->kb, ts->draft,
                                            &found, &e) != ST_OK) {
            say(c, AGENT_STYLE_BLOCK, "%s", e.msg);
        } else if (found > 0) {
            say(c, AGENT_STYLE_BLOCK,
                "The draft has %d forbidden phrase(s): see the compliance "
                "prompts.",
                found);
        } else {
            say(c, AGENT_STYLE_OK, "The draft has no forbidden phrase.");
        }
    } else if (c->edit == EDIT_FIELD && ts->outcome >= 0) {
        const agent_field_spec *f =
            &it->offer.outcomes[ts->outcome].fields[ts->field];
        agent_value v;

        if (agent_console_field_check(f->name, f->type, c->buf, &v, &e) !=
            ST_OK) {
            say(c, AGENT_STYLE_BLOCK, "Refused: %s", e.msg);
        } else {
            snprintf(ts->text[ts->field], sizeof(ts->text[ts->field]), "%s",
                     c->buf);
            ts->set[ts->field] = true;
            say(c, AGENT_STYLE_OK, "%s = %s", f->name, c->buf);
            if (ts->field + 1 < it->offer.outcomes[ts->outcome].nfields)
                ts->field++;
        }
    }
    c->edit = EDIT_NONE;
    c->buf[0] = '\0';
}

/* ---- Opening and copying suggestions ---- */

/* The feedback id of the panel's passage i ("passage:<n>"); false when
 * the passage is not in the kb's index (never, in practice). */
static bool passage_key(const task_slot *ts, int i, char *id, size_t cap)
{
    if (ts->passage_ids[i] < 0)
        return false;
    snprintf(id, cap, "passage:%d", ts->passage_ids[i]);
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
static const agent_field_spec *copy_field(const task_slot *ts,
                                          const agent_item *it)
{
    const agent_field_spec *f;

    if (it == NULL || ts->outcome < 0 ||
        ts->field >= it->offer.outcomes[ts->outcome].nfields)
        return NULL;
    f = &it->offer.outcomes[ts->outcome].fields[ts->field];
    return f->type == AGENT_FIELD_STRING ? f : NULL;
}

static void select_passage(agent_console *c, task_slot *ts)
{
    char id[32];

    if (ts->panel == NULL || ts->panel->npassages == 0) {
        say(c, AGENT_STYLE_WARN, "There is no passage to select.");
        return;
    }
    ts->sel_passage = (ts->sel_passage + 1) % ts->panel->npassages;
    if (ts->passage_open && passage_key(ts, ts->sel_passage, id, sizeof(id)))
        fb_add(ts, id, "opened");
    say(c, AGENT_STYLE_TEXT,
        "Passage [%d] selected: v %s it, c copies it while it is open.",
        ts->sel_passage + 1, ts->passage_open ? "closes" : "opens");
}

static void open_passage(agent_console *c, task_slot *ts)
{
    char id[32];

    if (ts->panel == NULL || ts->panel->npassages == 0) {
        say(c, AGENT_STYLE_WARN, "There is no passage to open.");
        return;
    }
    ts->passage_open = !ts->passage_open;
    if (!ts->passage_open) {
        say(c, AGENT_STYLE_TEXT, "Passage [%d] closed.", ts->sel_passage + 1);
        return;
    }
    if (passage_key(ts, ts->sel_passage, id, sizeof(id)))
        fb_add(ts, id, "opened");
    say(c, AGENT_STYLE_OK,
        "Passage [%d] is open above the panel: c copies it, v closes it, p "
        "opens the next.",
        ts->sel_passage + 1);
}

/* c: the open passage (its citation and text), else the suggested reply,
 * goes into the chosen outcome's selected string field, else into the
 * draft reply, through the same checks as typing it. */
static void copy_suggestion(agent_console *c, agent_item *it, task_slot *ts)
{
    const agent_field_spec *f = copy_field(ts, it);
    char id[32], text[AGENT_STRING_MAX + 1];

    if (ts->panel == NULL) {
        say(c, AGENT_STYLE_WARN, "There is no assist panel to copy from.");
        return;
    }
    if (ts->passage_open) {
        const assist_panel_passage *pp = &ts->panel->passages[ts->sel_passage];
        char *both = NULL;

        if (asprintf(&both, "%s: %s", pp->citation, pp->passage->text) < 0) {
            say(c, AGENT_STYLE_BLOCK, "Out of memory copying the passage.");
            return;
        }
        copy_line(text, sizeof(text), both);
        free(both);
        if (passage_key(ts, ts->sel_passage, id, sizeof(id)))
            fb_add(ts, id, "copied");
    } else if (ts->panel->reply != NULL) {
        copy_line(text, sizeof(text), ts->panel->reply);
        fb_add(ts, "reply", "copied");
    } else {
        say(c, AGENT_STYLE_WARN,
            "There is no suggested reply now (see the panel); open a passage "
            "(v) to copy it.");
        return;
    }
    snprintf(c->buf, sizeof(c->buf), "%s", text);
    c->edit = f != NULL ? EDIT_FIELD : EDIT_DRAFT;
    edit_commit(c, it, ts);
    if (f == NULL && c->message_style == AGENT_STYLE_OK)
        say(c, AGENT_STYLE_OK,
            "Copied the %s into the draft reply (no forbidden phrase); d "
            "edits it.",
            ts->passage_open ? "passage" : "suggested reply");
    else if (f != NULL && c->message_style == AGENT_STYLE_OK)
        say(c, AGENT_STYLE_OK, "Copied the %s into %s.",
            ts->passage_open ? "passage" : "suggested reply", f->name);
}

static void key_task(agent_console *c, agent_item *it, task_slot *ts, int key)
{
    int nfields =
        ts->outcome >= 0 ? it->offer.outcomes[ts->outcome].nfields : 0;

    if (key >= '1' && key <= '9') {
        int i = key - '1';

        if (i >= it->offer.noutcomes) {
            say(c, AGENT_STYLE_WARN, "There are only %d outcomes.",
                it->offer.noutcomes);
        } else if (i != ts->outcome) {
            ts->outcome = i;
            ts->field = 0;
            memset(ts->set, 0, sizeof(ts->set));
            memset(ts->text, 0, sizeof(ts->text));
            say(c, AGENT_STYLE_TEXT, "Outcome %s chosen%s.",
                it->offer.outcomes[i].code,
                it->offer.outcomes[i].nfields > 0
                    ? ": press Enter to fill the selected field"
                    : "");
        }
    } else if (key == AGENT_KEY_UP) {
        if (ts->field > 0)
            ts->field--;
    } else if (key == AGENT_KEY_DOWN || key == AGENT_KEY_TAB) {
        if (ts->field + 1 < nfields)
            ts->field++;
        else if (key == AGENT_KEY_TAB)
            ts->field = 0;
    } else if (key == AGENT_KEY_ENTER || key == 'e') {
        if (ts->outcome < 0) {
            say(c, AGENT_STYLE_WARN, "Choose an outcome first (keys 1-%d).",
                it->offer.noutcomes);
        } else if (nfields == 0) {
            say(c, AGENT_STYLE_TEXT,
                "This outcome has no fields: press s to "
                "send it.");
        } else {
            c->edit = EDIT_FIELD;
            snprintf(c->buf, sizeof(c->buf), "%s", ts->text[ts->field]);
        }
    } else if (key == 'k') {
        ack_next(c, ts);
    } else if (key == 'd') {
        c->edit = EDIT_DRAFT;
        snprintf(c->buf, sizeof(c->buf), "%s", ts->draft);
    } else if (key == 's') {
        send_outcome(c, it, ts);
    } else if (key == 'p') {
        select_passage(c, ts);
    } else if (key == 'v') {
        open_passage(c, ts);
    } else if (key == 'c') {
        copy_suggestion(c, it, ts);
    } else if (key == 'r') {
        if (ts->panel == NULL || ts->panel->reply == NULL) {
            say(c, AGENT_STYLE_WARN, "There is no suggested reply.");
        } else {
            fb_add(ts, "reply", "used");
            say(c, AGENT_STYLE_OK,
                "Suggested reply marked as used; it counts for the "
                "assistant's report.");
        }
    }
}

/* ']' and '[': the next or previous item of the task list. */
static void switch_item(agent_console *c, int step)
{
    agent_item *list[ITEMS_MAX];
    int n = items(c, list), at = 0;

    if (n < 2) {
        say(c, AGENT_STYLE_TEXT, "Nothing else to switch to.");
        return;
    }
    for (int i = 0; i < n; i++)
        if (list[i]->offer.reservation_id == c->sel)
            at = i;
    at = (at + step + n) % n;
    c->sel = list[at]->offer.reservation_id;
    say(c, AGENT_STYLE_TEXT, "%s %lld (%d of %d).",
        is_task(list[at]) ? "Task" : "Offer",
        is_task(list[at]) ? (long long)list[at]->offer.task_id
                          : (long long)list[at]->offer.reservation_id,
        at + 1, n);
}

static void quit_now(agent_console *c)
{
    if (c->signed_out[0] == '\0')
        send_presence(c, AGENT_PRESENCE_OFFLINE);
    c->quit = true;
}

void agent_console_key(agent_console *c, int key, agent_time t)
{
    task_slot *ts = NULL;
    agent_item *sel, *it, *offer;

    c->now = t;
    if (c->signed_out[0] != '\0') {
        if (key == 'q') {
            quit_now(c);
        } else if (key == 't') {
            c->signed_out[0] = '\0';
            c->takeover = true;
            c->need_announce = false;
            c->next_hb_us = t.mono_us + (int64_t)c->opts.heartbeat_ms * 1000;
            send_presence(c, c->want);
            say(c, AGENT_STYLE_TEXT,
                "Taking worker %s over from the other session...", c->worker);
        }
        return;
    }
    sel = selected(c);
    it = task_item(c, &ts);
    if (c->edit != EDIT_NONE && it != NULL) {
        if (key == AGENT_KEY_ENTER)
            edit_commit(c, it, ts);
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
    c->edit = EDIT_NONE;
    if (c->quit_armed) {
        c->quit_armed = false;
        if (key == 'q' || key == 'y') {
            quit_now(c);
            return;
        }
        if (key == 'n' || key == AGENT_KEY_ESC) {
            say(c, AGENT_STYLE_OK, "Not quitting: your %d task(s) stay here.",
                c->ntasks);
            return;
        }
        /* Any other key is an answer too: stay, and do what it says. */
    }
    /* The offer y and n answer: the selected one, else the oldest. */
    offer = sel != NULL && sel->state == AGENT_ITEM_OFFERED ? sel : NULL;
    if (offer == NULL && (offer = first_offer(c)) != NULL &&
        offer->state != AGENT_ITEM_OFFERED)
        offer = NULL;
    if (key == 'q') {
        if (c->ntasks == 0) {
            quit_now(c);
        } else {
            c->quit_armed = true;
            say(c, AGENT_STYLE_WARN,
                "%d task(s) in hand: quit anyway? y or q quits (they return "
                "to the queue when the lease runs out), n or Esc stays.",
                c->ntasks);
        }
    } else if (key == 'a') {
        set_presence(c, AGENT_PRESENCE_AVAILABLE);
    } else if (key == 'b') {
        set_presence(c, AGENT_PRESENCE_BREAK);
    } else if (key == 'o') {
        set_presence(c, AGENT_PRESENCE_OFFLINE);
    } else if (key == ']' || key == '[') {
        switch_item(c, key == ']' ? 1 : -1);
    } else if (key == 'y' ||
               (key == AGENT_KEY_ENTER && sel != NULL && !is_task(sel))) {
        if (offer != NULL)
            answer_offer(c, offer, true);
        else if (c->callup_id > 0)
            answer_callup(c, true);
        else
            say(c, AGENT_STYLE_TEXT, "No offer waits for an answer.");
    } else if (key == 'n') {
        if (offer != NULL)
            answer_offer(c, offer, false);
        else if (c->callup_id > 0)
            answer_callup(c, false);
        else
            say(c, AGENT_STYLE_TEXT, "No offer waits for an answer.");
    } else if (it != NULL) {
        key_task(c, it, ts, key);
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

static int64_t seconds_left(const agent_console *c, const agent_item *it)
{
    int64_t left = offer_deadline_us(it) - c->now.mono_us;

    return left > 0 ? (left + 999999) / 1000000 : 0;
}

static status view_offer(agent_console *c, const agent_item *it, agent_view *v)
{
    const agent_offer *o = &it->offer;
    status st;

    st = add(v, AGENT_STYLE_TITLE, "== Offer %lld · expires in %lld s%s",
             (long long)o->reservation_id, (long long)seconds_left(c, it),
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

/* What a task of the list is at: the form's progress. */
static const char *task_state(const agent_item *it, const task_slot *ts)
{
    if (it->state == AGENT_ITEM_COMPLETING)
        return "sending...";
    if (ts->outcome < 0)
        return "working";
    if (fields_missing(it, ts) > 0 || prompts_pending(ts->panel) > 0)
        return it->offer.outcomes[ts->outcome].code;
    return "ready to send";
}

/*
 * The task list (when there is more than one item): every task in hand
 * and every offer with its countdown, so an offer that arrives during a
 * call is seen and answered in time.
 */
static status view_list(agent_console *c, agent_view *v)
{
    agent_item *list[ITEMS_MAX];
    int n = items(c, list), noffers = agent_console_offer_count(c);
    status st;

    if (n < 2)
        return ST_OK;
    st = add(v, AGENT_STYLE_TITLE,
             "== Tasks: %d in hand, %d offer%s waiting · ] next, [ previous",
             c->ntasks, noffers, noffers == 1 ? "" : "s");
    for (int i = 0; st == ST_OK && i < n; i++) {
        const agent_item *it = list[i];
        const agent_offer *o = &it->offer;
        bool me = o->reservation_id == c->sel;
        const task_slot *ts = slot_find(c, o->reservation_id);
        assist_value x = {0};

        if (is_task(it) && ts != NULL) {
            if (ts->task == NULL ||
                !assist_task_value(ts->task, "external_id", &x))
                snprintf(x.s, sizeof(x.s), "case %lld", (long long)o->case_id);
            st = add(v, me ? AGENT_STYLE_SELECTED : AGENT_STYLE_TEXT,
                     "%s %d task %lld · %s · %s %s · %s · %s", me ? ">" : " ",
                     i + 1, (long long)o->task_id, o->channel, o->case_type,
                     o->step, x.s, task_state(it, ts));
        } else {
            st = add(
                v, me ? AGENT_STYLE_SELECTED : AGENT_STYLE_WARN,
                "%s %d offer %lld · %s · %s %s · expires in %lld s · %s",
                me ? ">" : " ", i + 1, (long long)o->reservation_id, o->channel,
                o->case_type, o->step, (long long)seconds_left(c, it),
                it->state == AGENT_ITEM_ACCEPTING   ? "accepting..."
                : it->state == AGENT_ITEM_REJECTING ? "rejecting..."
                                                    : "y accepts, n rejects");
        }
    }
    return st;
}

static void payload_member(const char *key, const char *value, void *arg)
{
    sbuf *b = arg;

    sbuf_printf(b, "%s%s %s", b->len > 0 ? " · " : "", key, value);
}

static status view_case(const task_slot *ts, const agent_item *it,
                        agent_view *v)
{
    static const char *const who[] = {"name", "phone", "email", "language",
                                      "utc_offset"};
    const agent_offer *o = &it->offer;
    assist_value x;
    sbuf b = {0};
    status st;

    assist_task_value(ts->task, "external_id", &x);
    st = add(v, AGENT_STYLE_TITLE,
             "== Case %s · case %lld · task %lld · %s %s · step %s · %s",
             x.kind != ASSIST_VALUE_MISSING ? x.s : "?", (long long)o->case_id,
             (long long)o->task_id, o->tenant, o->case_type, o->step,
             o->channel);
    for (size_t i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
        char path[32];

        snprintf(path, sizeof(path), "customer.%s", who[i]);
        if (assist_task_value(ts->task, path, &x))
            sbuf_printf(&b, "%s%s", b.len > 0 ? " · " : "", x.s);
    }
    if (st == ST_OK)
        st = add(v, AGENT_STYLE_TEXT, "Customer: %s",
                 b.len > 0 ? sbuf_str(&b) : "(none given)");
    sbuf_reset(&b);
    assist_task_payload_each(ts->task, payload_member, &b);
    if (st == ST_OK)
        st = add(v, AGENT_STYLE_TEXT, "Data: %s",
                 b.len > 0 ? sbuf_str(&b) : "(none)");
    sbuf_reset(&b);
    for (int i = 0; i < assist_task_history_count(ts->task); i++) {
        const assist_history_entry *h = assist_task_history(ts->task, i);

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
static void amount_text(const task_slot *ts, const char *text, char *buf,
                        size_t cap)
{
    char num[MONEY_FORMAT_MAX];
    assist_value cur;
    const char *code = "";

    if (!assist_task_value(ts->task, "payload.currency", &cur) &&
        ts->kb != NULL) {
        code = assist_rules_currency(assist_kb_rules(ts->kb));
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

static status view_form(const task_slot *ts, const agent_item *it,
                        agent_view *v)
{
    const agent_offer *o = &it->offer;
    status st;
    int pend = prompts_pending(ts->panel), missing = fields_missing(it, ts);

    st = add(v, AGENT_STYLE_TITLE, "== Outcome (keys 1-%d)", o->noutcomes);
    for (int i = 0; st == ST_OK && i < o->noutcomes; i++)
        st = add(v, i == ts->outcome ? AGENT_STYLE_SELECTED : AGENT_STYLE_TEXT,
                 "%s %d %s (%s)", i == ts->outcome ? ">" : " ", i + 1,
                 o->outcomes[i].code,
                 o->outcomes[i].billable ? "billable" : "not billable");
    if (st == ST_OK && ts->outcome >= 0) {
        const agent_outcome_spec *sp = &o->outcomes[ts->outcome];

        if (sp->nfields == 0)
            st = add(v, AGENT_STYLE_DIM, "  %s has no fields.", sp->code);
        for (int i = 0; st == ST_OK && i < sp->nfields; i++) {
            char extra[96] = "";

            if (ts->set[i] && sp->fields[i].type == AGENT_FIELD_AMOUNT)
                amount_text(ts, ts->text[i], extra, sizeof(extra));
            st =
                add(v, i == ts->field ? AGENT_STYLE_SELECTED : AGENT_STYLE_TEXT,
                    "  %s %s (%s): %s%s", i == ts->field ? ">" : " ",
                    sp->fields[i].name, field_hint(sp->fields[i].type),
                    ts->set[i] ? ts->text[i] : "(required)", extra);
        }
    }
    if (st != ST_OK)
        return st;
    /* What still stands between the person and sending, or that nothing
     * does. */
    if (it->state == AGENT_ITEM_COMPLETING)
        return add(v, AGENT_STYLE_DIM, "Sending; waiting for the dispatcher.");
    if (pend > 0 && ts->outcome < 0)
        return add(v, AGENT_STYLE_BLOCK,
                   "Blocked: acknowledge %d prompt(s) before sending (k); "
                   "choose the outcome (1-%d).",
                   pend, o->noutcomes);
    if (pend > 0 && missing > 0)
        return add(v, AGENT_STYLE_BLOCK,
                   "Blocked: acknowledge %d prompt(s) before sending (k); "
                   "fill %d field(s) (Enter).",
                   pend, missing);
    if (pend > 0)
        return add(v, AGENT_STYLE_BLOCK,
                   "Blocked: acknowledge %d prompt(s) before sending (k).",
                   pend);
    if (ts->outcome < 0)
        return add(v, AGENT_STYLE_TEXT,
                   "Choose the outcome (1-%d), then send it (s).",
                   o->noutcomes);
    if (missing > 0)
        return add(v, AGENT_STYLE_TEXT,
                   "Fill %d field(s) (Enter edits the selected one), then send "
                   "(s).",
                   missing);
    return add(v, AGENT_STYLE_OK, "Ready: s sends %s.",
               o->outcomes[ts->outcome].code);
}

static status view_model(const agent_console *c, const task_slot *ts,
                         agent_view *v)
{
    const agent_model_result *r = &ts->result;
    status st = ST_OK;

    if (!c->opts.model || ts->panel == NULL)
        return ST_OK;
    if (ts->model == MODEL_WANTED || ts->model == MODEL_RUNNING)
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
                 r->cited[i] + 1, ts->panel->passages[r->cited[i]].citation);
    return st;
}

/* The selected passage, open in full or not, and what c would copy
 * where. */
static status view_suggestions(const task_slot *ts, const agent_item *it,
                               agent_view *v)
{
    const agent_field_spec *f = copy_field(ts, it);
    const char *dest = f != NULL ? f->name : "the draft reply";
    const assist_panel_passage *pp;
    status st;

    if (ts->panel->npassages == 0)
        return ts->panel->reply == NULL
                   ? ST_OK
                   : add(v, AGENT_STYLE_DIM,
                         "Assist: c copies the suggested reply into %s.", dest);
    pp = &ts->panel->passages[ts->sel_passage];
    if (!ts->passage_open)
        return add(v, AGENT_STYLE_DIM,
                   "Assist: passage [%d] of %d selected (p next, v open); c "
                   "copies %s into %s.",
                   ts->sel_passage + 1, ts->panel->npassages,
                   ts->panel->reply != NULL ? "the suggested reply"
                                            : "nothing (open a passage)",
                   dest);
    st = add(v, AGENT_STYLE_TITLE, "== Open passage [%d] · %s (line %d)",
             ts->sel_passage + 1, pp->citation, pp->passage->line);
    if (st == ST_OK)
        st = add(v, AGENT_STYLE_TEXT, "%s", pp->passage->text);
    if (st == ST_OK)
        st = add(v, AGENT_STYLE_DIM,
                 "   c copies this passage into %s · v closes · p next", dest);
    return st;
}

static status view_task(const agent_console *c, task_slot *ts,
                        const agent_item *it, agent_view *v)
{
    status st = ST_OK;

    if (ts->task != NULL)
        st = view_case(ts, it, v);
    else
        st = add(v, AGENT_STYLE_TITLE, "== Task %lld · case %lld · %s %s",
                 (long long)it->offer.task_id, (long long)it->offer.case_id,
                 it->offer.case_type, it->offer.step);
    if (st == ST_OK && ts->note[0] != '\0')
        st = add(v, AGENT_STYLE_WARN, "%s", ts->note);
    if (st == ST_OK)
        st = view_form(ts, it, v);
    if (st == ST_OK && ts->draft[0] != '\0')
        st = add(v, AGENT_STYLE_DIM, "Draft checked: %s", ts->draft);
    if (st == ST_OK)
        st = view_model(c, ts, v);
    if (st == ST_OK && ts->panel != NULL)
        fb_shown(c, ts);
    if (st == ST_OK && ts->panel != NULL)
        st = view_suggestions(ts, it, v);
    for (int i = 0; st == ST_OK && ts->panel != NULL && i < ts->panel->nlines;
         i++) {
        const char *l = assist_panel_line(ts->panel, i);
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
    if (c->signed_out[0] != '\0')
        return "signed out";
    if (!c->presence_known)
        return "signing in";
    if (c->wrapup)
        return "wrap-up";
    return agent_presence_name(c->confirmed);
}

/* " · voice 1/1 · chat 2/3": tasks in hand of the slots per channel. */
static void slots_text(agent_console *c, char *buf, size_t cap)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int i = 0; i < c->nslots && used < cap; i++) {
        if (c->slot_count[i] == 0)
            continue;
        used += (size_t)snprintf(
            buf + used, cap - used, " · %s %d/%d", c->slot_channel[i],
            tasks_on(c, c->slot_channel[i]), c->slot_count[i]);
    }
}

static void view_keys(agent_console *c, const agent_item *sel,
                      const agent_item *task, agent_view *v)
{
    agent_item *list[ITEMS_MAX];
    bool several = items(c, list) > 1;
    bool offer = first_offer(c) != NULL;
    size_t n = 0, cap = sizeof(v->keys);

    if (c->signed_out[0] != '\0') {
        snprintf(v->keys, cap, "t take over here · q quit");
        return;
    }
    if (c->edit != EDIT_NONE) {
        snprintf(v->keys, cap, "Enter save · Esc cancel · Backspace delete");
        return;
    }
    if (c->quit_armed) {
        snprintf(v->keys, cap, "y or q quit · n or Esc stay");
        return;
    }
    if (task != NULL)
        n += (size_t)snprintf(
            v->keys + n, cap - n,
            "1-%d outcome · ↑/↓ field · Enter edit · k acknowledge · d check "
            "draft · p passage · v open · c copy · r reply used · s send · "
            "PgUp/PgDn scroll · ",
            task->offer.noutcomes);
    else if (sel != NULL)
        n += (size_t)snprintf(v->keys + n, cap - n,
                              "y/Enter accept · n reject · ");
    if (task != NULL && offer && n < cap)
        n += (size_t)snprintf(v->keys + n, cap - n,
                              "y accept offer · n reject offer · ");
    if (several && n < cap)
        n += (size_t)snprintf(v->keys + n, cap - n, "]/[ task · ");
    if (n < cap)
        snprintf(v->keys + n, cap - n,
                 "a available · b break · o offline · q quit");
}

status agent_console_view(agent_console *c, agent_time t, agent_view *v, err *e)
{
    task_slot *ts = NULL;
    agent_item *sel, *it;
    agent_console_mode mode;
    char slots[256];
    status st = ST_OK;

    c->now = t;
    agent_view_free(v);
    sel = selected(c);
    it = task_item(c, &ts);
    mode = agent_console_mode_get(c);
    slots_text(c, slots, sizeof(slots));
    if (c->signed_out[0] != '\0')
        slots[0] = '\0';
    snprintf(v->header, sizeof(v->header),
             "Twinline agent · %s · %s%s · NATS %s · done %d%s", c->worker,
             presence_label(c),
             c->presence_known && c->want != c->confirmed && !c->wrapup
                 ? " (changing)"
                 : "",
             c->connected ? "connected" : "reconnecting...", c->completed,
             slots);
    snprintf(v->message, sizeof(v->message), "%s", c->message);
    v->message_style = c->message_style;
    v->focus = it != NULL    ? it->offer.reservation_id
               : sel != NULL ? -sel->offer.reservation_id
                             : 0;
    if (c->edit != EDIT_NONE && it != NULL) {
        const char *label = "draft reply";

        if (c->edit == EDIT_FIELD && ts->outcome >= 0)
            label = it->offer.outcomes[ts->outcome].fields[ts->field].name;
        snprintf(v->input, sizeof(v->input), "%s> %s", label, c->buf);
    }
    view_keys(c, sel, it, v);
    if (mode == AGENT_MODE_SIGNED_OUT) {
        st = add(v, AGENT_STYLE_BLOCK, "== Signed out: %s", c->signed_out);
        if (st == ST_OK)
            st = add(v, AGENT_STYLE_TEXT,
                     "This screen no longer speaks for %s and takes no work. "
                     "t takes the worker over here (the other session is told "
                     "and stops; its tasks go back to the queue); q closes "
                     "this screen without signing the other one out.",
                     c->worker);
        goto out;
    }
    st = view_list(c, v);
    v->nfixed = v->n;
    if (st == ST_OK && it != NULL)
        st = view_task(c, ts, it, v);
    else if (st == ST_OK && sel != NULL)
        st = view_offer(c, sel, v);
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
out:
    if (st != ST_OK)
        return err_set(e, ST_NOMEM, "out of memory drawing the screen");
    return ST_OK;
}
