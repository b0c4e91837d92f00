/*
 * The interactive agent's session of one person (docs/agent.md, "Working
 * interactively"): sign-in (one session per worker) and presence,
 * wrap-up, offers with a countdown, several tasks at once (a task list,
 * each task with its own case, assist panel, outcome form and draft), the
 * outcome form with its validation and acknowledgement gating, and the
 * requests the agent must send for all of it.
 *
 * A state machine with no I/O and no clock of its own: the driver
 * (agent_tui) feeds it what arrives (offers, notices, replies, keys, the
 * connection's state, model results, the time) and sends what it asks
 * for (agent_console_next_request), then draws agent_console_view. Tests
 * drive it the same way. Not thread-safe; the driver serialises calls.
 *
 * Customer data reaches the console only in accept replies; it is kept in
 * memory for the task's screen and dropped when the task ends.
 */
#ifndef TL_AGENT_CONSOLE_H
#define TL_AGENT_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_model.h"
#include "agent_session.h"
#include "assist_panel.h"
#include "err.h"

#define AGENT_CONSOLE_KBS_MAX   16   /* knowledge bases, one per tenant */
#define AGENT_CONSOLE_LINE_MAX  1024 /* bytes of a header or message line */
#define AGENT_CONSOLE_TASKS_MAX 16   /* tasks in hand at once */

/* Keys: a Unicode code point (>= 0) or one of these. Besides the keys
 * docs/agent.md lists, ']' and '[' select the next and previous item of
 * the task list. */
enum {
    AGENT_KEY_ENTER = -1,
    AGENT_KEY_ESC = -2,
    AGENT_KEY_BACKSPACE = -3,
    AGENT_KEY_UP = -4,
    AGENT_KEY_DOWN = -5,
    AGENT_KEY_TAB = -6
};

/* Now, as the driver's clocks tell it. */
typedef struct agent_time {
    int64_t mono_us; /* monotonic µs: countdowns, time-outs, heartbeats */
    int64_t wall_s;  /* seconds since the epoch, UTC: contact hours */
} agent_time;

typedef struct agent_console_opts {
    const char *worker;          /* identifier, copied */
    const assist_kb *const *kbs; /* borrowed; must outlive the console */
    int nkbs;                    /* 0..AGENT_CONSOLE_KBS_MAX */
    bool model;                  /* a model client is configured */
    const char *model_name;      /* for the panel's title; may be NULL */
    int request_timeout_ms;      /* default 3000 */
    int heartbeat_ms;            /* default 2000 */
    int panel_k;                 /* passages shown, default 5 */
    const agent_signin *signin;  /* this run's session (copied); NULL: the
                                    agent keeps none */
    bool takeover; /* sign in even if another session is signed in */
} agent_console_opts;

/* Defaults for everything but worker and kbs. */
void agent_console_opts_init(agent_console_opts *o);

/* What the screen shows: the selected item of the task list, or none. */
typedef enum agent_console_mode {
    AGENT_MODE_IDLE,      /* no offer, no task */
    AGENT_MODE_OFFER,     /* an offer waiting for an answer is selected */
    AGENT_MODE_TASK,      /* a task in hand is selected */
    AGENT_MODE_WRAPUP,    /* the outcome was recorded; on break until 'a' */
    AGENT_MODE_SIGNED_OUT /* the dispatcher refused the sign-in, or another
                             session took the worker over: only q and t */
} agent_console_mode;

/* A request for the driver to send to "<prefix>.agent.<worker>.<verb>"
 * with a reply subject that brings the reply back to agent_console_reply
 * with the same id. body is borrowed until the next console call. */
typedef struct agent_request {
    uint64_t id;
    char verb[16];
    const char *body;
    size_t len;
} agent_request;

typedef enum agent_style {
    AGENT_STYLE_TEXT,
    AGENT_STYLE_TITLE,
    AGENT_STYLE_DIM,
    AGENT_STYLE_OK,
    AGENT_STYLE_WARN,
    AGENT_STYLE_BLOCK,
    AGENT_STYLE_SELECTED
} agent_style;

typedef struct agent_view_line {
    agent_style style;
    char *text; /* owned by the view; may hold '\n' */
} agent_view_line;

/* What the screen shows: a header, the body lines (the first nfixed of
 * them, the task list, stay in place; the rest is scrolled by the
 * screen), one message line and the keys that work now, as items
 * separated by " · ". */
typedef struct agent_view {
    char header[AGENT_CONSOLE_LINE_MAX];
    char message[AGENT_CONSOLE_LINE_MAX];
    agent_style message_style;
    char input[AGENT_CONSOLE_LINE_MAX]; /* the line being edited, or "" */
    char keys[AGENT_CONSOLE_LINE_MAX];
    int64_t focus; /* changes when the offer or task shown changes */
    int nfixed;    /* lines at the top that do not scroll */
    int n;
    int cap;
    agent_view_line *lines;
} agent_view;

typedef struct agent_console agent_console;

/* ST_INVALID for a bad worker id or too many kbs; ST_NOMEM. */
status agent_console_create(agent_console **out, const agent_console_opts *o,
                            err *e);

/* NULL is a no-op. */
void agent_console_destroy(agent_console *c);

/* Sign in: ask to be available. */
void agent_console_start(agent_console *c, agent_time t);

/* An offer or notice body as published to the worker. Malformed ones are
 * shown in the message line and otherwise ignored. */
void agent_console_offer(agent_console *c, const char *buf, size_t len,
                         agent_time t);
void agent_console_notice(agent_console *c, const char *buf, size_t len,
                          agent_time t);

/* The reply to request id (len 0: nobody answered). Unknown ids (late
 * replies to requests already given up) are ignored. */
void agent_console_reply(agent_console *c, uint64_t id, const char *buf,
                         size_t len, agent_time t);

/* A key the person pressed. */
void agent_console_key(agent_console *c, int key, agent_time t);

/* The clock moved: countdowns, heartbeats, time-outs and retries. */
void agent_console_tick(agent_console *c, agent_time t);

/* The NATS connection went down (false) or came back (true). */
void agent_console_connection(agent_console *c, bool up, agent_time t);

/* The next request to send, if any (see agent_request). */
bool agent_console_next_request(agent_console *c, agent_request *out);

/*
 * A model question is due for the task in hand: *out gets a new request
 * (caller frees with agent_model_request_free) and the console waits for
 * agent_console_model_result. False when none is due.
 */
bool agent_console_model_job(agent_console *c, agent_model_request *out);

/* The model's answer; ignored unless it is for the task in hand. */
void agent_console_model_result(agent_console *c, const agent_model_result *r);

/* The person asked to quit (and confirmed, when a task was in hand). */
bool agent_console_quit(const agent_console *c);

/* Why this session is signed out (the dispatcher's words), or NULL while
 * it is not (AGENT_MODE_SIGNED_OUT). Borrowed. */
const char *agent_console_signed_out(const agent_console *c);

agent_console_mode agent_console_mode_get(const agent_console *c);
agent_presence agent_console_presence(const agent_console *c);

/* The selected task in hand (borrowed), or NULL. */
const agent_item *agent_console_task(const agent_console *c);

/* The panel of the selected task (borrowed), or NULL. */
const assist_panel *agent_console_panel(const agent_console *c);

/* Tasks in hand (accepted, not yet recorded) and offers waiting. */
int agent_console_task_count(const agent_console *c);
int agent_console_offer_count(const agent_console *c);

/* The reservation of the selected item (a task or an offer), or 0. */
int64_t agent_console_selected(const agent_console *c);

/* How many outcomes the dispatcher confirmed this session. */
int agent_console_completed(const agent_console *c);

/*
 * Draw the console into *v (caller's; agent_view_free). ST_NOMEM.
 */
status agent_console_view(agent_console *c, agent_time t, agent_view *v,
                          err *e);

void agent_view_free(agent_view *v);

/*
 * Check text typed for a field of type type and convert it into *out:
 * amount_minor a whole number 0..10^15, int a whole number, date a real
 * date YYYY-MM-DD, string 1..AGENT_STRING_MAX bytes, bool y/yes/true or
 * n/no/false. ST_INVALID with a sentence naming the field otherwise.
 */
status agent_console_field_check(const char *name, agent_field_type type,
                                 const char *text, agent_value *out, err *e);

#endif
