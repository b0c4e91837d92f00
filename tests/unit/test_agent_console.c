/*
 * Unit tests of agent_console, the interactive agent's state machine,
 * driven as the screen drives it but without a terminal or NATS: sign-in,
 * an offer with its countdown, accept with the example task, the outcome
 * form's validation, acknowledgement gating, complete and wrap-up; reject;
 * expiry; a NATS reconnect that keeps the task; heartbeats; the model's
 * answer and its fallback in the view; the assistant's feedback (what the
 * panel showed, the suggested reply used) sent with the outcome; several
 * tasks at once (a voice call and two chats, each with its own form, an
 * offer arriving during the call shown with its countdown and accepted);
 * a completion refused as a conflict shown as an error, alone and among
 * several tasks (only that task dropped); the quit question that n and
 * Esc answer; the hint that goes once the form is complete; one session
 * per worker (a refused sign-in, a takeover, a replaced session that
 * stops).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_console.h"
#include "agent_tui_options.h"
#include "tl_test.h"

#define KB(t)   TL_SOURCE_DIR "/examples/kb/" t
#define TASK(t) TL_SOURCE_DIR "/examples/tasks/" t
/* 2026-11-25T13:00:00Z: 21:00 in Beijing, outside the contact hours. */
#define LATE_UTC 1795611600
#define SEC      1000000LL

static const char offer_body[] =
    "{\"type\":\"offer\",\"reservation_id\":9001,\"epoch\":1,\"task_id\":101,"
    "\"case_id\":42,\"tenant\":\"jsbank\",\"case_type\":\"loan_overdue\","
    "\"step\":\"contact\",\"channel\":\"voice\",\"timeout_ms\":15000,"
    "\"ready_at_us\":1,\"outcomes\":{"
    "\"promise_to_pay\":{\"billable\":true,\"fields\":{\"amount_minor\":"
    "\"amount_minor\",\"due_date\":\"date\"}},"
    "\"paid_in_full\":{\"billable\":true,\"fields\":{\"amount_minor\":"
    "\"amount_minor\"}},"
    "\"hardship\":{\"billable\":false,\"fields\":{\"reason\":\"string\"}},"
    "\"dispute\":{\"billable\":false,\"fields\":{\"reason\":\"string\"}},"
    "\"no_contact\":{\"billable\":false,\"fields\":{}}}}";

typedef struct world {
    assist_kb *kb;
    agent_console *c;
    agent_time t;
    char *task_reply;
    size_t task_len;
    agent_view v;
} world;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = calloc(1, 65536);

    assert_non_null(f);
    assert_non_null(buf);
    *len = fread(buf, 1, 65535, f);
    fclose(f);
    return buf;
}

static void world_init(world *w, bool model)
{
    agent_console_opts o;
    const assist_kb *kbs[1];
    err e = {0};

    memset(w, 0, sizeof(*w));
    if (assist_kb_load(&w->kb, KB("jsbank"), &e) != ST_OK)
        fail_msg("%s", e.msg);
    kbs[0] = w->kb;
    agent_console_opts_init(&o);
    o.worker = "w007";
    o.kbs = kbs;
    o.nkbs = 1;
    o.model = model;
    o.model_name = "tiny";
    assert_int_equal(agent_console_create(&w->c, &o, &e), ST_OK);
    w->t.mono_us = 1000 * SEC;
    w->t.wall_s = LATE_UTC;
    w->task_reply = slurp(TASK("jsbank-loan-contact.json"), &w->task_len);
}

static void world_free(world *w)
{
    agent_view_free(&w->v);
    agent_console_destroy(w->c);
    assist_kb_destroy(w->kb);
    free(w->task_reply);
}

static void advance(world *w, int64_t us)
{
    w->t.mono_us += us;
    agent_console_tick(w->c, w->t);
}

/* The next request, which must have this verb. */
static agent_request expect(world *w, const char *verb)
{
    agent_request r;

    if (!agent_console_next_request(w->c, &r))
        fail_msg("no request; expected %s", verb);
    if (strcmp(r.verb, verb) != 0)
        fail_msg("request %s; expected %s", r.verb, verb);
    return r;
}

static void expect_none(world *w)
{
    agent_request r;

    if (agent_console_next_request(w->c, &r))
        fail_msg("unexpected request %s: %.*s", r.verb, (int)r.len, r.body);
}

static void reply(world *w, const agent_request *r, const char *body)
{
    agent_console_reply(w->c, r->id, body, strlen(body), w->t);
}

/* Whether the screen shows part anywhere (header, body, message, keys). */
static bool shows(world *w, const char *part)
{
    err e = {0};

    assert_int_equal(agent_console_view(w->c, w->t, &w->v, &e), ST_OK);
    if (strstr(w->v.header, part) != NULL ||
        strstr(w->v.message, part) != NULL || strstr(w->v.keys, part) != NULL ||
        strstr(w->v.input, part) != NULL)
        return true;
    for (int i = 0; i < w->v.n; i++)
        if (strstr(w->v.lines[i].text, part) != NULL)
            return true;
    return false;
}

static void type(world *w, const char *s)
{
    for (; *s != '\0'; s++)
        agent_console_key(w->c, (unsigned char)*s, w->t);
}

static void sign_in(world *w)
{
    agent_request r;

    agent_console_start(w->c, w->t);
    r = expect(w, "presence");
    assert_non_null(strstr(r.body, "\"available\""));
    reply(w, &r, "{\"ok\":true,\"presence\":\"available\"}");
    assert_true(shows(w, "w007 · available"));
    expect_none(w);
}

static void offer_and_accept(world *w)
{
    agent_request r;

    agent_console_offer(w->c, offer_body, strlen(offer_body), w->t);
    assert_int_equal(agent_console_mode_get(w->c), AGENT_MODE_OFFER);
    assert_true(shows(w, "expires in 15 s"));
    assert_false(shows(w, "王伟")); /* no customer data before accepting */
    agent_console_key(w->c, 'y', w->t);
    r = expect(w, "accept");
    assert_non_null(strstr(r.body, "\"reservation_id\":9001"));
    agent_console_reply(w->c, r.id, w->task_reply, w->task_len, w->t);
    assert_int_equal(agent_console_mode_get(w->c), AGENT_MODE_TASK);
    assert_true(shows(w, "王伟"));
    assert_true(shows(w, "LN-2026-000123"));
    assert_true(shows(w, "collections-rules-zh.md §"));
}

/* The feedback body the console must send for the panel in hand: every
 * passage shown (by its number in the kb's index), the reply shown and,
 * when used, used. */
static void want_feedback(world *w, bool used, char *buf, size_t cap)
{
    const assist_panel *p = agent_console_panel(w->c);
    const assist_index *idx = assist_kb_index(w->kb);
    size_t n;

    assert_non_null(p);
    assert_int_equal(p->npassages, 5);
    assert_non_null(p->reply);
    n = (size_t)snprintf(buf, cap,
                         "{\"task_id\":101,\"reservation_id\":9001,"
                         "\"events\":[");
    for (int i = 0; i < p->npassages; i++) {
        int id = -1;

        for (int j = 0; j < assist_index_count(idx) && id < 0; j++)
            if (assist_index_passage(idx, j) == p->passages[i].passage)
                id = j;
        assert_true(id >= 0);
        n += (size_t)snprintf(buf + n, cap - n,
                              "{\"suggestion\":\"passage:%d\","
                              "\"action\":\"shown\"},",
                              id);
    }
    n += (size_t)snprintf(buf + n, cap - n,
                          "{\"suggestion\":\"reply\",\"action\":\"shown\"}");
    if (used)
        n += (size_t)snprintf(buf + n, cap - n,
                              ",{\"suggestion\":\"reply\",\"action\":"
                              "\"used\"}");
    snprintf(buf + n, cap - n, "]}");
}

/* p selects a passage, v opens it in full, c copies the suggested reply
 * into the draft reply (checked for forbidden phrases) or, with a string
 * field selected, the open passage into that field; the feedback then
 * carries opened and copied besides shown. */
static void test_open_and_copy(void **state)
{
    world w;
    agent_request r;
    const assist_panel *p;
    const assist_index *idx;
    char want[160], first[40];
    int id = -1;

    (void)state;
    world_init(&w, false);
    sign_in(&w);
    offer_and_accept(&w);
    p = agent_console_panel(w.c);
    idx = assist_kb_index(w.kb);
    /* 21:00 in Beijing: the call script is held back until the
     * contact-hours prompt is acknowledged, and the account details until
     * the identity is verified. */
    assert_true(shows(&w, "Assist: passage [1] of 5 selected (p next, v "
                          "open); c copies nothing (open a passage)"));
    assert_true(shows(&w, "(held back until collections_contact_hours is "
                          "acknowledged"));
    for (int i = 0;
         i < 20 && !assist_panel_may_complete(agent_console_panel(w.c)); i++)
        agent_console_key(w.c, 'k', w.t);
    assert_true(shows(&w, "p passage · v open · c copy"));
    assert_true(shows(&w, "Assist: passage [1] of 5 selected (p next, v "
                          "open); c copies the suggested reply into the "
                          "draft reply."));

    /* The reply into the draft: it is checked like a typed one. */
    agent_console_key(w.c, 'c', w.t);
    assert_true(shows(&w, "Copied the suggested reply into the draft reply "
                          "(no forbidden phrase)"));
    assert_true(shows(&w, "Draft checked: 王伟您好，我是江南农商银行"));

    /* Passage [2], opened: its whole text is on screen. */
    agent_console_key(w.c, 'p', w.t);
    assert_true(shows(&w, "Passage [2] selected"));
    assert_false(shows(&w, "== Open passage"));
    agent_console_key(w.c, 'v', w.t);
    snprintf(want, sizeof(want), "== Open passage [2] · %.100s",
             p->passages[1].citation);
    assert_true(shows(&w, want));
    snprintf(first, sizeof(first), "%.30s", p->passages[1].passage->text);
    while (strlen(first) > 0 &&
           ((unsigned char)first[strlen(first) - 1] & 0xC0) >= 0x80)
        first[strlen(first) - 1] = '\0'; /* no cut character */
    assert_true(shows(&w, first));

    /* hardship's reason is a string field: the open passage goes there. */
    agent_console_key(w.c, '3', w.t);
    assert_true(shows(&w, "c copies this passage into reason"));
    agent_console_key(w.c, 'c', w.t);
    assert_true(shows(&w, "Copied the passage into reason."));
    agent_console_key(w.c, 'v', w.t);
    assert_true(shows(&w, "Passage [2] closed."));
    assert_false(shows(&w, "== Open passage"));

    /* The panel goes with the task: what the checks need, first. */
    for (int j = 0; j < assist_index_count(idx) && id < 0; j++)
        if (assist_index_passage(idx, j) == p->passages[1].passage)
            id = j;
    assert_true(id >= 0);
    snprintf(want, sizeof(want), "\"reason\":\"%.60s", p->passages[1].citation);
    for (int i = 0;
         i < 20 && !assist_panel_may_complete(agent_console_panel(w.c)); i++)
        agent_console_key(w.c, 'k', w.t);
    agent_console_key(w.c, 's', w.t);
    r = expect(&w, "presence");
    reply(&w, &r, "{\"ok\":true,\"presence\":\"break\"}");
    r = expect(&w, "complete");
    assert_non_null(strstr(r.body, "\"code\":\"hardship\""));
    if (strstr(r.body, want) == NULL)
        fail_msg("complete %.*s lacks %s", (int)r.len, r.body, want);
    reply(&w, &r,
          "{\"ok\":true,\"outcome_id\":78,\"billable\":false,"
          "\"duplicate\":false}");
    r = expect(&w, "feedback");
    snprintf(want, sizeof(want),
             "{\"suggestion\":\"passage:%d\",\"action\":\"opened\"}", id);
    assert_non_null(strstr(r.body, want));
    snprintf(want, sizeof(want),
             "{\"suggestion\":\"passage:%d\",\"action\":\"copied\"}", id);
    assert_non_null(strstr(r.body, want));
    assert_non_null(
        strstr(r.body, "{\"suggestion\":\"reply\",\"action\":\"copied\"}"));
    assert_null(strstr(r.body, "\"used\""));
    reply(&w, &r, "{\"ok\":true,\"stored\":9}");
    assert_int_equal(agent_console_mode_get(w.c), AGENT_MODE_WRAPUP);
    world_free(&w);
}

static void test_accept_form_ack_complete(void **state)
{
    world w;
    agent_request r;
    char fb[2048];

    (void)state;
    world_init(&w, false);
    sign_in(&w);
    offer_and_accept(&w);

    /* Sending with no outcome chosen is refused. */
    agent_console_key(w.c, 's', w.t);
    assert_true(shows(&w, "Choose an outcome first"));
    expect_none(&w);

    /* promise_to_pay; the amount refuses text and takes minor units. */
    agent_console_key(w.c, '1', w.t);
    agent_console_key(w.c, AGENT_KEY_ENTER, w.t);
    type(&w, "12.50");
    assert_true(shows(&w, "amount_minor> 12.50"));
    agent_console_key(w.c, AGENT_KEY_ENTER, w.t);
    assert_true(shows(&w, "Refused: amount_minor must be a whole number"));
    agent_console_key(w.c, AGENT_KEY_ENTER, w.t);
    type(&w, "500000");
    agent_console_key(w.c, AGENT_KEY_ENTER, w.t);
    assert_true(shows(&w, "500000 = 5,000.00 CNY"));

    /* A required field left empty blocks sending. */
    agent_console_key(w.c, 's', w.t);
    assert_true(shows(&w, "due_date is required"));
    expect_none(&w);

    /* The date must be a real one. */
    agent_console_key(w.c, AGENT_KEY_ENTER, w.t);
    type(&w, "2026-02-30");
    agent_console_key(w.c, AGENT_KEY_ENTER, w.t);
    assert_true(shows(&w, "not"));
    assert_true(shows(&w, "real date YYYY-MM-DD"));
    agent_console_key(w.c, AGENT_KEY_ENTER, w.t);
    type(&w, "2026-12-0X");
    agent_console_key(w.c, AGENT_KEY_BACKSPACE, w.t);
    type(&w, "5");
    agent_console_key(w.c, AGENT_KEY_ENTER, w.t);
    assert_true(shows(&w, "due_date = 2026-12-05"));

    /* 21:00 in Beijing: the contact-hours prompt and others block. */
    assert_false(assist_panel_may_complete(agent_console_panel(w.c)));
    agent_console_key(w.c, 's', w.t);
    assert_true(shows(&w, "before the outcome may be sent: press k"));
    expect_none(&w);
    for (int i = 0;
         i < 20 && !assist_panel_may_complete(agent_console_panel(w.c)); i++)
        agent_console_key(w.c, 'k', w.t);
    assert_true(assist_panel_may_complete(agent_console_panel(w.c)));
    assert_true(shows(&w, "every prompt is acknowledged"));

    /* The suggested reply is used: recorded for the feedback. */
    assert_true(shows(&w, "r reply used"));
    agent_console_key(w.c, 'r', w.t);
    assert_true(shows(&w, "Suggested reply marked as used"));
    want_feedback(&w, true, fb, sizeof(fb));

    /* Send: wrap-up (break) first, then the outcome, then the feedback. */
    agent_console_key(w.c, 's', w.t);
    r = expect(&w, "presence");
    assert_non_null(strstr(r.body, "\"break\""));
    reply(&w, &r, "{\"ok\":true,\"presence\":\"break\"}");
    r = expect(&w, "complete");
    assert_non_null(strstr(r.body, "\"code\":\"promise_to_pay\""));
    assert_non_null(strstr(r.body, "\"amount_minor\":500000"));
    assert_non_null(strstr(r.body, "\"due_date\":\"2026-12-05\""));
    assert_non_null(strstr(r.body, "\"reservation_id\":9001"));
    reply(&w, &r,
          "{\"ok\":true,\"outcome_id\":77,\"billable\":true,"
          "\"duplicate\":false}");
    r = expect(&w, "feedback");
    assert_int_equal(r.len, strlen(fb));
    assert_memory_equal(r.body, fb, r.len);
    reply(&w, &r, "{\"ok\":true,\"stored\":7}");
    assert_int_equal(agent_console_mode_get(w.c), AGENT_MODE_WRAPUP);
    assert_int_equal(agent_console_completed(w.c), 1);
    assert_true(shows(&w, "Outcome promise_to_pay recorded"));
    assert_true(shows(&w, "wrap-up"));
    assert_false(shows(&w, "王伟")); /* customer data gone with the task */

    /* Ready again. */
    agent_console_key(w.c, 'a', w.t);
    r = expect(&w, "presence");
    assert_non_null(strstr(r.body, "\"available\""));
    reply(&w, &r, "{\"ok\":true,\"presence\":\"available\"}");
    assert_int_equal(agent_console_mode_get(w.c), AGENT_MODE_IDLE);
    assert_true(shows(&w, "Waiting for offers"));
    world_free(&w);
}

static void test_reject(void **state)
{
    world w;
    agent_request r;

    (void)state;
    world_init(&w, false);
    sign_in(&w);
    agent_console_offer(w.c, offer_body, strlen(offer_body), w.t);
    agent_console_key(w.c, 'n', w.t);
    r = expect(&w, "reject");
    assert_non_null(strstr(r.body, "\"reservation_id\":9001"));
    assert_non_null(strstr(r.body, "\"reason\""));
    reply(&w, &r, "{\"ok\":true}");
    assert_int_equal(agent_console_mode_get(w.c), AGENT_MODE_IDLE);
    assert_true(shows(&w, "Offer 9001 rejected"));
    world_free(&w);
}

static void test_countdown_expiry(void **state)
{
    world w;

    (void)state;
    world_init(&w, false);
    sign_in(&w);
    agent_console_offer(w.c, offer_body, strlen(offer_body), w.t);
    advance(&w, 5 * SEC);
    assert_true(shows(&w, "expires in 10 s"));
    advance(&w, 9 * SEC + SEC / 2);
    assert_true(shows(&w, "expires in 1 s"));
    advance(&w, SEC / 2);
    assert_int_equal(agent_console_mode_get(w.c), AGENT_MODE_IDLE);
    assert_true(shows(&w, "Offer 9001 expired"));
    /* A late accept key does nothing. */
    while (agent_console_next_request(w.c, &(agent_request){0}))
        ;
    agent_console_key(w.c, 'y', w.t);
    expect_none(&w);
    world_free(&w);
}

static void test_reconnect_keeps_task(void **state)
{
    world w;
    agent_request r, again;
    char first[4096], fb[2048];

    (void)state;
    world_init(&w, false);
    sign_in(&w);
    offer_and_accept(&w);
    agent_console_key(w.c, '5', w.t); /* no_contact: no fields */
    for (int i = 0; i < 20; i++)
        agent_console_key(w.c, 'k', w.t);

    agent_console_connection(w.c, false, w.t);
    assert_true(shows(&w, "NATS reconnecting"));
    assert_true(shows(&w, "王伟"));
    agent_console_key(w.c, 's', w.t);
    r = expect(&w, "presence");
    r = expect(&w, "complete");
    snprintf(first, sizeof(first), "%.*s", (int)r.len, r.body);
    /* Feedback follows the outcome: the panel was shown, the reply not
     * used. */
    want_feedback(&w, false, fb, sizeof(fb));
    r = expect(&w, "feedback");
    assert_memory_equal(r.body, fb, strlen(fb));
    /* The reply is lost with the connection. */
    advance(&w, 1 * SEC);
    agent_console_connection(w.c, true, w.t);
    assert_true(shows(&w, "NATS connected"));
    assert_true(shows(&w, "王伟"));
    assert_int_equal(agent_console_mode_get(w.c), AGENT_MODE_TASK);
    /* Presence is announced again at once. */
    r = expect(&w, "presence");
    reply(&w, &r, "{\"ok\":true,\"presence\":\"break\"}");
    /* After the request time-out the very same complete goes again. */
    advance(&w, 3 * SEC);
    again = expect(&w, "complete");
    assert_int_equal(again.len, strlen(first));
    assert_memory_equal(again.body, first, again.len);
    reply(&w, &again,
          "{\"ok\":true,\"outcome_id\":78,\"billable\":false,"
          "\"duplicate\":true}");
    assert_true(shows(&w, "Outcome no_contact recorded"));
    assert_true(shows(&w, "counted once"));
    /* The unanswered feedback goes again, the same; a refusal is shown. */
    again = expect(&w, "feedback");
    assert_int_equal(again.len, strlen(fb));
    assert_memory_equal(again.body, fb, again.len);
    reply(&w, &again,
          "{\"ok\":false,\"error\":{\"code\":\"invalid_value\","
          "\"message\":\"bad event\"}}");
    assert_true(shows(&w, "feedback was not stored: invalid_value"));
    world_free(&w);
}

static void test_rescinded_and_stale(void **state)
{
    world w;
    agent_request r;
    const char *notice = "{\"type\":\"rescinded\",\"reservation_id\":9001,"
                         "\"reason\":\"lease_expired\"}";

    (void)state;
    world_init(&w, false);
    sign_in(&w);
    offer_and_accept(&w);
    agent_console_notice(w.c, notice, strlen(notice), w.t);
    assert_int_equal(agent_console_mode_get(w.c), AGENT_MODE_IDLE);
    assert_true(shows(&w, "took task 101 back (lease_expired)"));
    assert_false(shows(&w, "王伟"));

    /* An accept refused as stale drops the offer. */
    agent_console_offer(w.c, offer_body, strlen(offer_body), w.t);
    agent_console_key(w.c, AGENT_KEY_ENTER, w.t);
    r = expect(&w, "accept");
    reply(&w, &r,
          "{\"ok\":false,\"error\":{\"code\":\"stale_reservation\","
          "\"message\":\"the offer expired\"}}");
    assert_int_equal(agent_console_mode_get(w.c), AGENT_MODE_IDLE);
    assert_true(shows(&w, "stale_reservation"));
    world_free(&w);
}

/* A completion refused because a different one stands is an error the
 * worker sees: the outcome was not recorded, and which one stands; the
 * task is dropped rather than offered for a retry that cannot succeed. */
static void test_conflict_reported(void **state)
{
    world w;
    agent_request r;

    (void)state;
    world_init(&w, false);
    sign_in(&w);
    offer_and_accept(&w);
    agent_console_key(w.c, '5', w.t); /* no_contact: no fields */
    for (int i = 0;
         i < 20 && !assist_panel_may_complete(agent_console_panel(w.c)); i++)
        agent_console_key(w.c, 'k', w.t);
    agent_console_key(w.c, 's', w.t);
    r = expect(&w, "presence");
    reply(&w, &r, "{\"ok\":true,\"presence\":\"break\"}");
    r = expect(&w, "complete");
    assert_non_null(strstr(r.body, "\"code\":\"no_contact\""));
    reply(&w, &r,
          "{\"ok\":false,\"error\":{\"code\":\"conflict\",\"message\":"
          "\"reservation 9001 was already completed with outcome "
          "promise_to_pay (outcome 77), which stands\",\"outcome\":"
          "{\"outcome_id\":77,\"code\":\"promise_to_pay\",\"fields\":"
          "{\"amount_minor\":51500,\"due_date\":\"2031-01-01\"}}}}");
    assert_true(shows(&w, "Error: task 101: your outcome for reservation "
                          "9001 was NOT recorded"));
    assert_true(shows(&w, "promise_to_pay, id 77"));
    assert_int_equal(agent_console_completed(w.c), 0);
    assert_false(shows(&w, "王伟")); /* the task is gone */
    world_free(&w);
}

static void test_heartbeat_and_reannounce(void **state)
{
    world w;
    agent_request r;

    (void)state;
    world_init(&w, false);
    sign_in(&w);
    advance(&w, 2 * SEC);
    r = expect(&w, "heartbeat");
    assert_string_equal(r.body, "{}");
    expect_none(&w);
    /* Answered: nothing more. */
    reply(&w, &r, "{\"ok\":true}");
    expect_none(&w);
    /* Unanswered: the next answered heartbeat brings presence again. */
    advance(&w, 2 * SEC);
    r = expect(&w, "heartbeat");
    expect_none(&w);
    advance(&w, 2 * SEC);
    r = expect(&w, "heartbeat");
    expect_none(&w);
    reply(&w, &r, "{\"ok\":true}");
    r = expect(&w, "presence");
    assert_non_null(strstr(r.body, "\"available\""));
    world_free(&w);
}

static void test_model_shown_and_fallback(void **state)
{
    world w;
    agent_model_request rq;
    agent_model_result res;

    (void)state;
    world_init(&w, true);
    sign_in(&w);
    offer_and_accept(&w);
    assert_true(agent_console_model_job(w.c, &rq));
    assert_int_equal(rq.task_id, 101);
    assert_non_null(strstr(rq.user, "[P1] "));
    assert_null(strstr(rq.user, "王伟")); /* no contact data to the model */
    assert_null(strstr(rq.user, "138 0000"));
    assert_true(shows(&w, "Model (tiny): asking"));
    memset(&res, 0, sizeof(res));
    res.task_id = 101;
    res.ok = true;
    snprintf(res.reply, sizeof(res.reply), "您好，请于本月还款 [P2]。");
    res.ncited = 1;
    res.cited[0] = 1;
    res.elapsed_ms = 12;
    agent_console_model_result(w.c, &res);
    assert_true(shows(&w, "Model suggestion (tiny, 12 ms)"));
    assert_true(shows(&w, "[P2] = [2]"));
    agent_model_request_free(&rq);
    world_free(&w);

    world_init(&w, true);
    sign_in(&w);
    offer_and_accept(&w);
    assert_true(agent_console_model_job(w.c, &rq));
    memset(&res, 0, sizeof(res));
    res.task_id = 101;
    snprintf(res.reason, sizeof(res.reason),
             "the model did not answer "
             "within 3000 ms");
    agent_console_model_result(w.c, &res);
    assert_true(shows(&w, "no suggestion: the model did not answer within "
                          "3000 ms"));
    assert_true(shows(&w, "retrieval only"));
    assert_true(shows(&w, "== Knowledge"));
    agent_model_request_free(&rq);
    world_free(&w);
}

/* A chat offer of a card dispute's intake (outcomes with and without
 * fields). */
static void chat_offer(world *w, int64_t rid, int timeout_ms)
{
    char body[1024];

    snprintf(body, sizeof(body),
             "{\"type\":\"offer\",\"reservation_id\":%lld,\"epoch\":1,"
             "\"task_id\":%lld,\"case_id\":%lld,\"tenant\":\"jsbank\","
             "\"case_type\":\"card_dispute\",\"step\":\"intake\","
             "\"channel\":\"chat\",\"timeout_ms\":%d,\"ready_at_us\":1,"
             "\"outcomes\":{\"dispute_logged\":{\"billable\":false,"
             "\"fields\":{\"txn_ref\":\"string\"}},\"resolved_at_intake\":{"
             "\"billable\":true,\"fields\":{}}}}",
             (long long)rid, (long long)rid + 1000, (long long)rid + 2000,
             timeout_ms);
    agent_console_offer(w->c, body, strlen(body), w->t);
}

/* Whether line i of the view starts the fixed part's list with part. */
static bool listed(world *w, const char *part)
{
    err e = {0};

    assert_int_equal(agent_console_view(w->c, w->t, &w->v, &e), ST_OK);
    for (int i = 0; i < w->v.nfixed; i++)
        if (strstr(w->v.lines[i].text, part) != NULL)
            return true;
    return false;
}

static void accept_chat(world *w, int64_t rid, const char *task_reply,
                        size_t len)
{
    agent_request r;
    char want[64];

    agent_console_key(w->c, 'y', w->t);
    /* Heartbeats due meanwhile are answered on the way. */
    while (agent_console_next_request(w->c, &r) &&
           strcmp(r.verb, "heartbeat") == 0)
        reply(w, &r, "{\"ok\":true}");
    assert_string_equal(r.verb, "accept");
    snprintf(want, sizeof(want), "\"reservation_id\":%lld", (long long)rid);
    assert_non_null(strstr(r.body, want));
    agent_console_reply(w->c, r.id, task_reply, len, w->t);
}

/* A voice call and two chats at once: offers that arrive during the call
 * are listed with their countdown and accepted with y; each task keeps
 * its own form; sending a chat while the others are in hand starts no
 * wrap-up; the last one does. */
static void test_several_tasks(void **state)
{
    world w;
    agent_request r;
    char *chat;
    size_t chat_len;

    (void)state;
    world_init(&w, false);
    chat = slurp(TASK("jsbank-card-intake-en.json"), &chat_len);
    agent_console_start(w.c, w.t);
    r = expect(&w, "presence");
    reply(&w, &r,
          "{\"ok\":true,\"presence\":\"available\",\"slots\":{"
          "\"backoffice\":5,\"chat\":3,\"voice\":1}}");
    assert_true(shows(&w, "done 0 · backoffice 0/5 · chat 0/3 · voice 0/1"));
    offer_and_accept(&w);
    assert_true(shows(&w, "voice 1/1"));
    assert_int_equal(w.v.nfixed, 0); /* one item: no list */

    /* A chat offer during the call: the call stays on screen, the offer
     * is listed with its countdown and y takes it. */
    chat_offer(&w, 9101, 20000);
    assert_int_equal(agent_console_selected(w.c), 9001);
    assert_true(shows(&w, "New offer 9101 (chat · card_dispute intake, "
                          "expires in 20 s): y accepts it"));
    assert_true(listed(&w, "== Tasks: 1 in hand, 1 offer waiting"));
    assert_true(listed(&w, "> 1 task 101 · voice · loan_overdue contact · "
                           "LN-2026-000123 · working"));
    assert_true(listed(&w, "2 offer 9101 · chat · card_dispute intake · "
                           "expires in 20 s · y accepts, n rejects"));
    assert_true(shows(&w, "王伟")); /* still the call's case */
    assert_true(shows(&w, "y accept offer · n reject offer · ]/[ task"));
    advance(&w, 6 * SEC);
    assert_true(listed(&w, "expires in 14 s"));
    accept_chat(&w, 9101, chat, chat_len);
    assert_int_equal(agent_console_task_count(w.c), 2);
    assert_int_equal(agent_console_selected(w.c), 9001);
    assert_true(shows(&w, "is yours too: ] or [ switches to it"));

    /* A second chat. */
    chat_offer(&w, 9102, 20000);
    accept_chat(&w, 9102, chat, chat_len);
    assert_int_equal(agent_console_task_count(w.c), 3);
    assert_true(shows(&w, "chat 2/3"));
    assert_true(listed(&w, "== Tasks: 3 in hand, 0 offers waiting"));

    /* The call's form: promise_to_pay chosen. */
    agent_console_key(w.c, '1', w.t);
    assert_true(listed(&w, "task 101 · voice · loan_overdue contact · "
                           "LN-2026-000123 · promise_to_pay"));
    /* ] : the first chat, with a form of its own. */
    agent_console_key(w.c, ']', w.t);
    assert_int_equal(agent_console_selected(w.c), 9101);
    assert_true(shows(&w, "Emma Walker"));
    assert_false(shows(&w, "王伟"));
    assert_true(shows(&w, "Blocked: acknowledge"));
    for (int i = 0;
         i < 20 && !assist_panel_may_complete(agent_console_panel(w.c)); i++)
        agent_console_key(w.c, 'k', w.t);
    assert_true(shows(&w, "Choose the outcome (1-2), then send it (s)."));
    agent_console_key(w.c, '2', w.t); /* resolved_at_intake, no fields */
    assert_true(shows(&w, "Ready: s sends resolved_at_intake."));
    /* Sent with two more in hand: no wrap-up, the outcome goes at once. */
    agent_console_key(w.c, 's', w.t);
    r = expect(&w, "complete");
    assert_non_null(strstr(r.body, "\"reservation_id\":9101"));
    assert_non_null(strstr(r.body, "\"code\":\"resolved_at_intake\""));
    reply(&w, &r,
          "{\"ok\":true,\"outcome_id\":80,\"billable\":true,"
          "\"duplicate\":false}");
    while (agent_console_next_request(w.c, &r))
        reply(&w, &r, "{\"ok\":true,\"stored\":1}"); /* its feedback */
    assert_int_equal(agent_console_task_count(w.c), 2);
    assert_true(shows(&w, "w007 · available"));
    assert_int_equal(agent_console_mode_get(w.c), AGENT_MODE_TASK);

    /* The call kept its choice; [ goes back to it. */
    while (agent_console_selected(w.c) != 9001)
        agent_console_key(w.c, '[', w.t);
    assert_true(shows(&w, "> 1 promise_to_pay (billable)"));
    agent_console_key(w.c, '5', w.t); /* no_contact */
    for (int i = 0;
         i < 20 && !assist_panel_may_complete(agent_console_panel(w.c)); i++)
        agent_console_key(w.c, 'k', w.t);
    agent_console_key(w.c, 's', w.t);
    r = expect(&w, "complete");
    reply(&w, &r,
          "{\"ok\":true,\"outcome_id\":81,\"billable\":false,"
          "\"duplicate\":false}");
    while (agent_console_next_request(w.c, &r))
        reply(&w, &r, "{\"ok\":true,\"stored\":1}");

    /* The last chat: its outcome starts the wrap-up. */
    assert_int_equal(agent_console_selected(w.c), 9102);
    agent_console_key(w.c, '2', w.t);
    for (int i = 0;
         i < 20 && !assist_panel_may_complete(agent_console_panel(w.c)); i++)
        agent_console_key(w.c, 'k', w.t);
    agent_console_key(w.c, 's', w.t);
    r = expect(&w, "presence");
    assert_non_null(strstr(r.body, "\"break\""));
    reply(&w, &r, "{\"ok\":true,\"presence\":\"break\"}");
    r = expect(&w, "complete");
    reply(&w, &r,
          "{\"ok\":true,\"outcome_id\":82,\"billable\":true,"
          "\"duplicate\":false}");
    assert_int_equal(agent_console_completed(w.c), 3);
    assert_int_equal(agent_console_mode_get(w.c), AGENT_MODE_WRAPUP);
    free(chat);
    world_free(&w);
}

/* A conflict among several tasks: the refused chat is dropped and
 * reported by its task, while the call in hand keeps its form and no
 * wrap-up starts. */
static void test_conflict_among_tasks(void **state)
{
    world w;
    agent_request r;
    char *chat;
    size_t chat_len;

    (void)state;
    world_init(&w, false);
    chat = slurp(TASK("jsbank-card-intake-en.json"), &chat_len);
    agent_console_start(w.c, w.t);
    r = expect(&w, "presence");
    reply(&w, &r,
          "{\"ok\":true,\"presence\":\"available\",\"slots\":{"
          "\"chat\":3,\"voice\":1}}");
    offer_and_accept(&w);
    chat_offer(&w, 9101, 20000);
    accept_chat(&w, 9101, chat, chat_len);
    assert_int_equal(agent_console_task_count(w.c), 2);
    agent_console_key(w.c, '1', w.t); /* the call: promise_to_pay */

    agent_console_key(w.c, ']', w.t);
    assert_int_equal(agent_console_selected(w.c), 9101);
    for (int i = 0;
         i < 20 && !assist_panel_may_complete(agent_console_panel(w.c)); i++)
        agent_console_key(w.c, 'k', w.t);
    agent_console_key(w.c, '2', w.t);
    agent_console_key(w.c, 's', w.t);
    r = expect(&w, "complete");
    assert_non_null(strstr(r.body, "\"reservation_id\":9101"));
    reply(&w, &r,
          "{\"ok\":false,\"error\":{\"code\":\"conflict\",\"message\":"
          "\"reservation 9101 was already completed with outcome "
          "dispute_logged (outcome 90), which stands\",\"outcome\":"
          "{\"outcome_id\":90,\"code\":\"dispute_logged\",\"fields\":"
          "{\"txn_ref\":\"T-1\"}}}}");
    assert_true(shows(&w, "Error: task 10101: your outcome for reservation "
                          "9101 was NOT recorded"));
    assert_true(shows(&w, "dispute_logged, id 90"));
    assert_int_equal(agent_console_completed(w.c), 0);
    assert_int_equal(agent_console_task_count(w.c), 1);
    assert_int_equal(agent_console_selected(w.c), 9001);
    assert_int_equal(agent_console_mode_get(w.c), AGENT_MODE_TASK);
    assert_true(shows(&w, "> 1 promise_to_pay (billable)")); /* its form */
    assert_false(shows(&w, "Emma Walker"));
    expect_none(&w); /* no wrap-up */
    free(chat);
    world_free(&w);
}

/* An auto-accepted back-office offer is a task at once. */
static void test_auto_accepted(void **state)
{
    world w;
    char *task;
    size_t len;
    char body[70000];

    (void)state;
    world_init(&w, false);
    sign_in(&w);
    task = slurp(TASK("jsbank-card-intake-en.json"), &len);
    /* The accept reply's task, as an offer's "task". */
    snprintf(body, sizeof(body),
             "{\"type\":\"offer\",\"auto_accepted\":true,"
             "\"reservation_id\":9201,\"epoch\":1,\"task_id\":3201,"
             "\"case_id\":4201,\"tenant\":\"jsbank\",\"case_type\":"
             "\"card_dispute\",\"step\":\"intake\",\"channel\":"
             "\"backoffice\",\"timeout_ms\":5000,\"ready_at_us\":1,"
             "\"outcomes\":{\"withdrawn\":{\"billable\":false}},"
             "\"task\":%s}",
             strstr(task, "{\"reservation_id\""));
    body[strlen(body) - 1] = '\0'; /* the reply's closing brace */
    agent_console_offer(w.c, body, strlen(body), w.t);
    assert_int_equal(agent_console_mode_get(w.c), AGENT_MODE_TASK);
    assert_true(shows(&w, "Emma Walker"));
    expect_none(&w); /* nothing to accept */
    free(task);
    world_free(&w);
}

/* q with a task in hand asks; n and Esc answer "stay", y or q quits. */
static void test_quit_question(void **state)
{
    world w;
    agent_request r;

    (void)state;
    world_init(&w, false);
    sign_in(&w);
    offer_and_accept(&w);
    agent_console_key(w.c, 'q', w.t);
    assert_true(shows(&w, "1 task(s) in hand: quit anyway? y or q quits"));
    assert_true(shows(&w, "y or q quit · n or Esc stay"));
    agent_console_key(w.c, 'n', w.t);
    assert_false(agent_console_quit(w.c));
    assert_true(shows(&w, "Not quitting: your 1 task(s) stay here."));
    expect_none(&w);
    agent_console_key(w.c, 'q', w.t);
    agent_console_key(w.c, AGENT_KEY_ESC, w.t);
    assert_false(agent_console_quit(w.c));
    assert_true(shows(&w, "Not quitting"));
    /* Another key answers "stay" and does its own work. */
    agent_console_key(w.c, 'q', w.t);
    agent_console_key(w.c, '5', w.t);
    assert_false(agent_console_quit(w.c));
    assert_true(shows(&w, "Outcome no_contact chosen"));
    agent_console_key(w.c, 'q', w.t);
    agent_console_key(w.c, 'y', w.t);
    assert_true(agent_console_quit(w.c));
    r = expect(&w, "presence");
    assert_non_null(strstr(r.body, "\"offline\""));
    world_free(&w);
}

/* The form's last line says what is missing, and nothing once it is all
 * there. */
static void test_form_hint(void **state)
{
    world w;

    (void)state;
    world_init(&w, false);
    sign_in(&w);
    offer_and_accept(&w);
    for (int i = 0;
         i < 20 && !assist_panel_may_complete(agent_console_panel(w.c)); i++)
        agent_console_key(w.c, 'k', w.t);
    assert_true(shows(&w, "Choose the outcome (1-5), then send it (s)."));
    agent_console_key(w.c, '2', w.t); /* paid_in_full: one amount */
    assert_true(shows(&w, "Fill 1 field(s)"));
    agent_console_key(w.c, AGENT_KEY_ENTER, w.t);
    type(&w, "1250000");
    agent_console_key(w.c, AGENT_KEY_ENTER, w.t);
    assert_true(shows(&w, "Ready: s sends paid_in_full."));
    assert_false(shows(&w, "Fill "));
    assert_false(shows(&w, "once its fields are filled"));
    world_free(&w);
}

static void world_session(world *w, bool takeover)
{
    agent_console_opts o;
    const assist_kb *kbs[1];
    agent_signin si = {"s-mine", "desk-1", 4242};
    err e = {0};

    memset(w, 0, sizeof(*w));
    if (assist_kb_load(&w->kb, KB("jsbank"), &e) != ST_OK)
        fail_msg("%s", e.msg);
    kbs[0] = w->kb;
    agent_console_opts_init(&o);
    o.worker = "w007";
    o.kbs = kbs;
    o.nkbs = 1;
    o.signin = &si;
    o.takeover = takeover;
    assert_int_equal(agent_console_create(&w->c, &o, &e), ST_OK);
    w->t.mono_us = 1000 * SEC;
    w->t.wall_s = LATE_UTC;
    w->task_reply = slurp(TASK("jsbank-loan-contact.json"), &w->task_len);
}

/* The dispatcher refuses the sign-in: the screen says who holds the
 * worker and stops; q quits without signing the other one out; t takes
 * over. */
static void test_sign_in_refused(void **state)
{
    world w;
    agent_request r;

    (void)state;
    world_session(&w, false);
    agent_console_start(w.c, w.t);
    assert_true(shows(&w, "Signing in as w007 (session s-mine on desk-1, "
                          "pid 4242)"));
    r = expect(&w, "presence");
    assert_string_equal(r.body, "{\"presence\":\"available\",\"session\":{"
                                "\"id\":\"s-mine\",\"host\":\"desk-1\","
                                "\"pid\":4242}}");
    reply(&w, &r,
          "{\"ok\":false,\"error\":{\"code\":\"session_conflict\","
          "\"message\":\"worker w007 is signed in elsewhere: session s-other "
          "on host desk-2 (pid 77) since 2026-11-26 09:14:03 UTC; quit it "
          "there, or sign in with --takeover to replace it\"}}");
    assert_int_equal(agent_console_mode_get(w.c), AGENT_MODE_SIGNED_OUT);
    assert_non_null(agent_console_signed_out(w.c));
    assert_true(shows(&w, "== Signed out: worker w007 is signed in elsewhere: "
                          "session s-other on host desk-2 (pid 77)"));
    assert_true(shows(&w, "w007 · signed out"));
    assert_true(shows(&w, "t take over here · q quit"));
    /* No heartbeats, no offers taken. */
    advance(&w, 5 * SEC);
    expect_none(&w);
    agent_console_offer(w.c, offer_body, strlen(offer_body), w.t);
    assert_int_equal(agent_console_offer_count(w.c), 0);
    /* t: take over. */
    agent_console_key(w.c, 't', w.t);
    r = expect(&w, "presence");
    assert_non_null(strstr(r.body, "\"takeover\":true"));
    reply(&w, &r, "{\"ok\":true,\"presence\":\"available\"}");
    assert_int_equal(agent_console_mode_get(w.c), AGENT_MODE_IDLE);
    assert_null(agent_console_signed_out(w.c));
    advance(&w, 2 * SEC);
    r = expect(&w, "heartbeat");
    assert_string_equal(r.body, "{\"session_id\":\"s-mine\"}");
    reply(&w, &r, "{\"ok\":true}");
    /* A later announce takes nothing over. */
    agent_console_key(w.c, 'b', w.t);
    r = expect(&w, "presence");
    assert_null(strstr(r.body, "takeover"));
    world_free(&w);

    /* Refused again: q closes and sends nothing. */
    world_session(&w, false);
    agent_console_start(w.c, w.t);
    r = expect(&w, "presence");
    reply(&w, &r,
          "{\"ok\":false,\"error\":{\"code\":\"session_conflict\","
          "\"message\":\"worker w007 is signed in elsewhere\"}}");
    agent_console_key(w.c, 'q', w.t);
    assert_true(agent_console_quit(w.c));
    expect_none(&w);
    world_free(&w);
}

/* --takeover asks for it at sign-in; another session's takeover signs
 * this one out (its tasks gone), a notice for another session is not
 * ours, and a refused heartbeat signs out too. */
static void test_replaced(void **state)
{
    world w;
    agent_request r;
    const char *other = "{\"type\":\"session_replaced\",\"session_id\":"
                        "\"s-older\",\"by\":{\"id\":\"s-mine\",\"host\":"
                        "\"desk-1\",\"pid\":4242}}";
    const char *mine = "{\"type\":\"session_replaced\",\"session_id\":"
                       "\"s-mine\",\"by\":{\"id\":\"s-new\",\"host\":"
                       "\"desk-9\",\"pid\":99}}";

    (void)state;
    world_session(&w, true);
    agent_console_start(w.c, w.t);
    r = expect(&w, "presence");
    assert_non_null(strstr(r.body, "\"takeover\":true"));
    reply(&w, &r, "{\"ok\":true,\"presence\":\"available\"}");
    /* The notice to the session we replaced is not for us. */
    agent_console_notice(w.c, other, strlen(other), w.t);
    assert_int_equal(agent_console_mode_get(w.c), AGENT_MODE_IDLE);
    offer_and_accept(&w);
    agent_console_notice(w.c, mine, strlen(mine), w.t);
    assert_int_equal(agent_console_mode_get(w.c), AGENT_MODE_SIGNED_OUT);
    assert_int_equal(agent_console_task_count(w.c), 0);
    assert_false(shows(&w, "王伟"));
    assert_true(shows(&w, "session s-new on host desk-9 (pid 99) took worker "
                          "w007 over; this session (s-mine) is signed out"));
    /* No offline on quit: that would sign the new session out. */
    agent_console_key(w.c, 'q', w.t);
    assert_true(agent_console_quit(w.c));
    expect_none(&w);
    world_free(&w);

    /* Found out by a heartbeat (the notice was missed). */
    world_session(&w, false);
    agent_console_start(w.c, w.t);
    r = expect(&w, "presence");
    reply(&w, &r, "{\"ok\":true,\"presence\":\"available\"}");
    advance(&w, 2 * SEC);
    r = expect(&w, "heartbeat");
    reply(&w, &r,
          "{\"ok\":false,\"error\":{\"code\":\"session_conflict\","
          "\"message\":\"worker w007 is signed in by session s-new on host "
          "desk-9 (pid 99); session s-mine was replaced and is signed "
          "out\"}}");
    assert_int_equal(agent_console_mode_get(w.c), AGENT_MODE_SIGNED_OUT);
    assert_true(shows(&w, "session s-mine was replaced"));
    advance(&w, 4 * SEC);
    expect_none(&w);
    world_free(&w);
}

/* --takeover is a flag of its own; a value given to it is refused. */
static void test_takeover_option(void **state)
{
    char *ok[] = {"twinline-agent", "--interactive", "--worker", "w1",
                  "--takeover"};
    char *bad[] = {"twinline-agent", "--interactive", "--worker", "w1",
                   "--takeover=yes"};
    agent_tui_options o;
    err e = {0};

    (void)state;
    assert_int_equal(agent_tui_options_parse(&o, 5, ok, &e), ST_OK);
    assert_true(o.takeover);
    assert_int_equal(agent_tui_options_parse(&o, 4, ok, &e), ST_OK);
    assert_false(o.takeover);
    assert_int_equal(agent_tui_options_parse(&o, 5, bad, &e), ST_CONFIG);
    assert_non_null(strstr(e.msg, "unknown argument \"--takeover=yes\""));
    assert_non_null(strstr(agent_tui_options_help, "--takeover"));
}

static void test_field_check(void **state)
{
    static const struct {
        agent_field_type type;
        const char *text;
        bool ok;
    } cases[] = {
        {AGENT_FIELD_DATE, "2024-02-29", true},
        {AGENT_FIELD_DATE, "2023-02-29", false},
        {AGENT_FIELD_DATE, "2100-02-29", false},
        {AGENT_FIELD_DATE, "2000-02-29", true},
        {AGENT_FIELD_DATE, "2026-13-01", false},
        {AGENT_FIELD_DATE, "2026-04-31", false},
        {AGENT_FIELD_DATE, "2026-4-1", false},
        {AGENT_FIELD_DATE, "", false},
        {AGENT_FIELD_AMOUNT, "0", true},
        {AGENT_FIELD_AMOUNT, "1000000000000000", true},
        {AGENT_FIELD_AMOUNT, "1000000000000001", false},
        {AGENT_FIELD_AMOUNT, "-1", false},
        {AGENT_FIELD_AMOUNT, "5,000", false},
        {AGENT_FIELD_INT, "-42", true},
        {AGENT_FIELD_INT, "4x", false},
        {AGENT_FIELD_BOOL, "y", true},
        {AGENT_FIELD_BOOL, "maybe", false},
        {AGENT_FIELD_STRING, "客户失业", true},
    };
    agent_value v;
    err e = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        status st = agent_console_field_check("f", cases[i].type, cases[i].text,
                                              &v, &e);

        if ((st == ST_OK) != cases[i].ok)
            fail_msg("\"%s\": got %s (%s)", cases[i].text, status_code(st),
                     e.msg);
    }
    assert_int_equal(agent_console_field_check(
                         "amount_minor", AGENT_FIELD_AMOUNT, "500000", &v, &e),
                     ST_OK);
    assert_int_equal(v.i, 500000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_form_ack_complete),
        cmocka_unit_test(test_open_and_copy),
        cmocka_unit_test(test_reject),
        cmocka_unit_test(test_countdown_expiry),
        cmocka_unit_test(test_reconnect_keeps_task),
        cmocka_unit_test(test_rescinded_and_stale),
        cmocka_unit_test(test_conflict_reported),
        cmocka_unit_test(test_conflict_among_tasks),
        cmocka_unit_test(test_heartbeat_and_reannounce),
        cmocka_unit_test(test_model_shown_and_fallback),
        cmocka_unit_test(test_field_check),
        cmocka_unit_test(test_several_tasks),
        cmocka_unit_test(test_auto_accepted),
        cmocka_unit_test(test_quit_question),
        cmocka_unit_test(test_form_hint),
        cmocka_unit_test(test_sign_in_refused),
        cmocka_unit_test(test_replaced),
        cmocka_unit_test(test_takeover_option),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
