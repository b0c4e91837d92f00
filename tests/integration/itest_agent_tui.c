/*
 * The real interactive agent (twinline-agent --interactive) driven in a
 * terminal: tmux runs it (new-session -d, send-keys, capture-pane -p).
 *
 * Against a fake dispatcher written here on the suite's real nats-server,
 * at 140x40: an offer appears with a countdown; accepting shows the
 * customer and the assist panel citing a knowledge file (scrolled to with
 * PgDn); the outcome form refuses a bad date; sending is blocked until the
 * prompts are acknowledged; the form's hint says what is missing and then
 * "Ready"; the quit question is answered "stay" with n; then the complete
 * request arrives with the right outcome. At 100x30 every key is on
 * screen, text wraps at word boundaries (a rule's sentence reads whole
 * when the rows are joined, no row starts with a closing Chinese mark),
 * the body says how much is above and below; shrunk to 90x25 the screen
 * says it is too small and comes back when enlarged; started at 90x25 the
 * agent refuses to run and signs nothing in.
 *
 * Against the real dispatcher with the examples: worker w001 copies the
 * suggested reply (c), opens a passage (p, v) and copies it into the
 * hardship reason, and the stored feedback is counted by `twinline assist
 * report`; a shift with a voice call and two chats side by side, the
 * chats offered during the call and accepted from the task list, with no
 * offer expiring; a second sign-in of w002 refused with a message naming
 * the first session (its pid as the database holds it), then --takeover,
 * the first screen told and stopped, presence agreeing with the
 * dispatcher to the end.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "clock.h"
#include "cmd_assist.h"
#include "fixture.h"
#include "harness.h"
#include "ids.h"
#include "jsonx.h"
#include "tl_test.h"

#define AGENT_BIN TL_BINARY_DIR "/worker/twinline-agent"
#define KB_DIR    TL_SOURCE_DIR "/examples/kb/jsbank"
#define KB2_DIR   TL_SOURCE_DIR "/examples/kb/hzinsure"
#define TASK_FILE TL_SOURCE_DIR "/examples/tasks/jsbank-loan-contact.json"
#define MAX_RECS  256

typedef struct fake {
    pthread_mutex_t mu;
    bus *b;
    char prefix[64];
    char *task;
    int n;
    char verbs[MAX_RECS][16];
    char *bodies[MAX_RECS];
} fake;

static char sock[64];
static char socks[16][64]; /* every tmux server started, killed at the end */
static int nsocks;

/* A tmux server of its own for the test name: one a failed test left
 * running cannot get in the way of the next. */
static void new_server(const char *name)
{
    snprintf(sock, sizeof(sock), "tl-%s-%d", name, (int)getpid());
    if (nsocks < 16)
        snprintf(socks[nsocks++], sizeof(socks[0]), "%s", sock);
}

static void on_agent(void *ctx, bus_msg *m)
{
    fake *f = ctx;
    char worker[ID_MAX + 1] = "", verb[16] = "";
    const char *reply = "{\"ok\":true}";
    char buf[128];
    json_t *o = NULL;
    err e = {0};

    sscanf(bus_msg_subject(m) + strlen(f->prefix), ".agent.%64[^.].%15s",
           worker, verb);
    jsonx_parse(bus_msg_data(m), bus_msg_len(m), 65536, &o, &e);
    pthread_mutex_lock(&f->mu);
    if (f->n < MAX_RECS) {
        snprintf(f->verbs[f->n], sizeof(f->verbs[f->n]), "%s", verb);
        f->bodies[f->n] = strndup(bus_msg_data(m), bus_msg_len(m));
        f->n++;
    }
    pthread_mutex_unlock(&f->mu);
    if (strcmp(verb, "presence") == 0) {
        snprintf(buf, sizeof(buf), "{\"ok\":true,\"presence\":\"%s\"}",
                 jsonx_str(o, "presence"));
        reply = buf;
    } else if (strcmp(verb, "accept") == 0) {
        reply = f->task;
    } else if (strcmp(verb, "complete") == 0) {
        reply = "{\"ok\":true,\"outcome_id\":77,\"billable\":true,"
                "\"duplicate\":false}";
    }
    bus_respond(f->b, m, reply, strlen(reply), NULL);
    json_decref(o);
    bus_msg_free(m);
}

static int count(fake *f, const char *verb)
{
    int c = 0;

    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < f->n; i++)
        c += strcmp(f->verbs[i], verb) == 0;
    pthread_mutex_unlock(&f->mu);
    return c;
}

/* The body of the last request with verb (a copy), waiting for one. */
static char *wait_verb(fake *f, const char *verb, int timeout_ms)
{
    int64_t end = clock_mono_us() + (int64_t)timeout_ms * 1000;

    while (count(f, verb) == 0) {
        if (clock_mono_us() > end)
            fail_msg("no %s request from the agent within %d ms", verb,
                     timeout_ms);
        clock_sleep_ms(20);
    }
    pthread_mutex_lock(&f->mu);
    for (int i = f->n - 1; i >= 0; i--) {
        if (strcmp(f->verbs[i], verb) == 0) {
            char *copy = strdup(f->bodies[i]);

            pthread_mutex_unlock(&f->mu);
            return copy;
        }
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

static void tmux(const char *args)
{
    char cmd[2048];

    snprintf(cmd, sizeof(cmd), "tmux -L %s %s", sock, args);
    if (system(cmd) != 0)
        fail_msg("failed: %s", cmd);
}

/* Keys to the tmux session ses (send-keys syntax: "Enter", "-l text"). */
static void keys_to(const char *ses, const char *k)
{
    char args[256];

    snprintf(args, sizeof(args), "send-keys -t %s %s", ses, k);
    tmux(args);
    clock_sleep_ms(150);
}

static void keys(const char *k)
{
    keys_to("tui", k);
}

/* The screen of ses; joined: wrapped lines of a plain terminal joined
 * (capture-pane -J), for what the program printed without curses. */
static void capture_of(const char *ses, bool joined, char *buf, size_t cap)
{
    char cmd[256];
    FILE *p;
    size_t n;

    snprintf(cmd, sizeof(cmd), "tmux -L %s capture-pane -p %s -t %s", sock,
             joined ? "-J" : "", ses);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(buf, 1, cap - 1, p);
    buf[n] = '\0';
    pclose(p);
}

static void capture(char *buf, size_t cap)
{
    capture_of("tui", false, buf, cap);
}

/* Wait until the screen of ses shows part; returns the screen. */
static void joined_rows(const char *screen, char *out, size_t cap);

static const char *wait_on(const char *ses, const char *part, int timeout_ms)
{
    static char screen[65536], flat[65536];
    int64_t end = clock_mono_us() + (int64_t)timeout_ms * 1000;

    for (;;) {
        capture_of(ses, true, screen, sizeof(screen));
        if (strstr(screen, part) != NULL)
            return screen;
        capture_of(ses, false, screen, sizeof(screen));
        if (strstr(screen, part) != NULL)
            return screen;
        /* A sentence the screen wrapped onto several rows. */
        joined_rows(screen, flat, sizeof(flat));
        if (strstr(flat, part) != NULL)
            return screen;
        if (clock_mono_us() > end)
            fail_msg("the screen of %s never showed \"%s\"; it shows:\n%s", ses,
                     part, screen);
        clock_sleep_ms(100);
    }
}

static const char *wait_screen(const char *part, int timeout_ms)
{
    return wait_on("tui", part, timeout_ms);
}

/* PgDn until the screen shows part (then it stays there). */
static const char *scroll_to(const char *ses, const char *part)
{
    static char screen[65536];

    for (int i = 0; i < 12; i++) {
        capture_of(ses, false, screen, sizeof(screen));
        if (strstr(screen, part) != NULL)
            return screen;
        keys_to(ses, "NPage");
    }
    fail_msg("\"%s\" is not on any page of %s; the last shows:\n%s", part, ses,
             screen);
    return NULL;
}

/* The screen's rows joined into one line, each row's leading spaces
 * dropped and one space between rows: a word cut across two rows would
 * read as two. */
static void joined_rows(const char *screen, char *out, size_t cap)
{
    size_t n = 0;

    for (const char *l = screen; *l != '\0' && n + 1 < cap;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl != NULL ? (size_t)(nl - l) : strlen(l);

        while (len > 0 && *l == ' ') {
            l++;
            len--;
        }
        while (len > 0 && l[len - 1] == ' ')
            len--;
        if (len > 0 && n + len + 2 < cap) {
            if (n > 0)
                out[n++] = ' ';
            memcpy(out + n, l, len);
            n += len;
        }
        if (nl == NULL)
            break;
        l = nl + 1;
    }
    out[n] = '\0';
}

/* Every key of the key line is on the screen, whole. */
static void all_keys_shown(const char *screen, const char *const *want, int n)
{
    for (int i = 0; i < n; i++)
        if (strstr(screen, want[i]) == NULL)
            fail_msg("the key \"%s\" is not on the screen:\n%s", want[i],
                     screen);
}

/* No row of the screen starts with a closing Chinese mark. */
static void no_closing_mark_first(const char *screen)
{
    for (const char *l = screen; l != NULL && *l != '\0';) {
        const char *p = l;

        while (*p == ' ')
            p++;
        if (strncmp(p, "，", 3) == 0 || strncmp(p, "。", 3) == 0 ||
            strncmp(p, "、", 3) == 0)
            fail_msg("a row starts with a closing mark:\n%s", screen);
        l = strchr(l, '\n');
        if (l != NULL)
            l++;
    }
}

/* Start the agent in tmux session ses of cols x rows with the extra
 * arguments args; the shell prints its exit status when it ends. */
static void start_agent(const char *ses, int cols, int rows, const fixture *fx,
                        const char *worker, const char *log_path,
                        const char *args)
{
    char cmd[2048];

    snprintf(cmd, sizeof(cmd),
             "%s -d -s %s -x %d -y %d "
             "'env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=screen-256color %s "
             "--interactive --worker %s --kb %s --kb %s --nats %s --prefix %s "
             "--log-file %s %s; echo agent exited $?; sleep 60'",
             "-u -f /dev/null new-session", ses, cols, rows, AGENT_BIN, worker,
             KB_DIR, KB2_DIR, fx->cfg.nats, fx->cfg.prefix, log_path,
             args != NULL ? args : "");
    tmux(cmd);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = calloc(1, 65536);

    assert_non_null(f);
    assert_non_null(buf);
    fread(buf, 1, 65535, f);
    fclose(f);
    return buf;
}

static void send_offer(fixture *fx, bus *b)
{
    char subject[128], body[1024];
    err e = {0};

    snprintf(subject, sizeof(subject), "%s.worker.w007.offer", fx->cfg.prefix);
    snprintf(body, sizeof(body),
             "{\"type\":\"offer\",\"reservation_id\":9001,\"epoch\":1,"
             "\"task_id\":101,\"case_id\":42,\"tenant\":\"jsbank\","
             "\"case_type\":\"loan_overdue\",\"step\":\"contact\","
             "\"channel\":\"voice\",\"timeout_ms\":60000,\"ready_at_us\":%lld,"
             "\"outcomes\":{\"promise_to_pay\":{\"billable\":true,\"fields\":{"
             "\"amount_minor\":\"amount_minor\",\"due_date\":\"date\"}},"
             "\"paid_in_full\":{\"billable\":true,\"fields\":{"
             "\"amount_minor\":\"amount_minor\"}},"
             "\"hardship\":{\"billable\":false,\"fields\":{\"reason\":"
             "\"string\"}},\"dispute\":{\"billable\":false,\"fields\":{"
             "\"reason\":\"string\"}},\"no_contact\":{\"billable\":false,"
             "\"fields\":{}}}}",
             (long long)clock_wall_us());
    assert_int_equal(bus_publish(b, subject, body, strlen(body), &e), ST_OK);
    assert_int_equal(bus_flush(b, 2000, &e), ST_OK);
}

/* The keys of a task in hand, every one of which must be on screen. */
static const char *const task_keys[] = {
    "1-5 outcome",   "↑/↓ field",        "Enter edit",
    "k acknowledge", "d check draft",    "p passage",
    "v open",        "c copy",           "r reply used",
    "s send",        "PgUp/PgDn scroll", "a available",
    "b break",       "o offline",        "q quit"};
#define NTASK_KEYS ((int)(sizeof(task_keys) / sizeof(task_keys[0])))

typedef struct fake_world {
    fixture fx;
    fake f;
    char log_path[128];
} fake_world;

static void fake_up(fake_world *w, const char *name, int cols, int rows)
{
    char subject[128];
    err e = {0};

    if (system("command -v tmux >/dev/null 2>&1") != 0)
        fail_msg("tmux is not installed; run scripts/deps.sh (it installs "
                 "tmux, which this test drives the agent's screen with)");
    if (access(AGENT_BIN, X_OK) != 0)
        fail_msg("%s is missing; build the twinline-agent target", AGENT_BIN);
    fixture_setup(&w->fx, name);
    memset(&w->f, 0, sizeof(w->f));
    pthread_mutex_init(&w->f.mu, NULL);
    snprintf(w->f.prefix, sizeof(w->f.prefix), "%s", w->fx.cfg.prefix);
    w->f.task = slurp(TASK_FILE);
    w->f.b = fixture_bus(&w->fx);
    snprintf(subject, sizeof(subject), "%s.agent.>", w->f.prefix);
    assert_int_equal(bus_subscribe(w->f.b, subject, NULL, on_agent, &w->f, &e),
                     ST_OK);
    assert_int_equal(bus_flush(w->f.b, 2000, &e), ST_OK);
    new_server(name);
    snprintf(w->log_path, sizeof(w->log_path), "/tmp/tl-tui-%d-%s.log",
             (int)getpid(), name);
    if (cols > 0)
        start_agent("tui", cols, rows, &w->fx, "w007", w->log_path, NULL);
}

static void fake_down(fake_world *w)
{
    tmux("kill-server");
    unlink(w->log_path);
    bus_close(w->f.b);
    for (int i = 0; i < w->f.n; i++)
        free(w->f.bodies[i]);
    free(w->f.task);
    pthread_mutex_destroy(&w->f.mu);
    fixture_teardown(&w->fx);
}

/* Signed in; an offer; accepted: the case is on screen. */
static void to_task(fake_world *w)
{
    const char *screen;
    char *body;

    body = wait_verb(&w->f, "presence", 10000);
    assert_non_null(strstr(body, "\"available\""));
    assert_non_null(strstr(body, "\"session\":{\"id\":"));
    free(body);
    wait_screen("w007 · available", 5000);
    send_offer(&w->fx, w->f.b);
    screen = wait_screen("expires in", 5000);
    assert_non_null(strstr(screen, "== Offer 9001"));
    assert_null(strstr(screen, "王伟"));
    keys("y");
    screen = wait_screen("王伟", 5000);
    assert_non_null(strstr(screen, "LN-2026-000123"));
}

/* Press k until the screen says every prompt is acknowledged (or that
 * none needs it). */
static void ack_all(void)
{
    char tmp[65536], flat[65536];

    for (int i = 0; i < 14; i++) {
        capture(tmp, sizeof(tmp));
        joined_rows(tmp, flat, sizeof(flat));
        if (strstr(flat, "every prompt is acknowledged") != NULL ||
            strstr(flat, "No prompt needs acknowledging") != NULL)
            return;
        keys("k");
    }
    fail_msg("the prompts were never all acknowledged:\n%s", tmp);
}

static void test_accept_assist_outcome(void **state)
{
    fake_world w;
    const char *screen;
    char *body;

    (void)state;
    fake_up(&w, "agent_tui", 140, 40);
    to_task(&w);
    free(wait_verb(&w.f, "heartbeat", 4000));
    screen = wait_screen("s send", 2000);
    all_keys_shown(screen, task_keys, NTASK_KEYS);
    /* The panel, below the form: PgDn reaches it. */
    screen = scroll_to("tui", "== Knowledge");
    assert_non_null(strstr(screen, ".md § "));
    screen = scroll_to("tui", "== Next steps");
    assert_non_null(strstr(screen, "↑ "));
    keys("Home");
    wait_screen("== Outcome (keys 1-5)", 5000);

    /* The form: an amount, then a date that does not exist. */
    keys("1");
    wait_screen("fill 2 field(s) (Enter)", 5000);
    keys("Enter");
    keys("-l 500000");
    keys("Enter");
    wait_screen("5,000.00 CNY", 5000);
    keys("Enter");
    keys("-l 2026-02-30");
    keys("Enter");
    wait_screen("must be a real date", 5000);
    keys("Enter");
    keys("-l 2026-12-05");
    keys("Enter");
    wait_screen("due_date = 2026-12-05", 5000);
    if (getenv("TL_TUI_SHOW") != NULL) /* for docs: print the screen */
        printf("%s\n", wait_screen("due_date = ", 100));

    /* Blocked until the prompts are acknowledged. */
    keys("s");
    wait_screen("before the outcome may be sent: press k", 5000);
    assert_int_equal(count(&w.f, "complete"), 0);
    ack_all();
    screen = wait_screen("Ready: s sends promise_to_pay.", 5000);
    assert_null(strstr(screen, "once its fields are filled"));

    /* q with the task in hand asks; n answers "stay". */
    keys("q");
    wait_screen("1 task(s) in hand: quit anyway?", 5000);
    wait_screen("y or q quit · n or Esc stay", 2000);
    keys("n");
    wait_screen("Not quitting: your 1 task(s) stay here.", 5000);
    assert_int_equal(count(&w.f, "complete"), 0);

    keys("s");
    body = wait_verb(&w.f, "complete", 10000);
    assert_non_null(strstr(body, "\"reservation_id\":9001"));
    assert_non_null(strstr(body, "\"code\":\"promise_to_pay\""));
    assert_non_null(strstr(body, "\"amount_minor\":500000"));
    assert_non_null(strstr(body, "\"due_date\":\"2026-12-05\""));
    free(body);
    wait_screen("Outcome promise_to_pay recorded", 5000);
    wait_screen("wrap-up", 5000);

    /* Quit: the agent says it goes offline. */
    keys("q");
    for (int i = 0; i < 50; i++) {
        body = wait_verb(&w.f, "presence", 5000);
        if (strstr(body, "\"offline\"") != NULL) {
            free(body);
            body = NULL;
            break;
        }
        free(body);
        body = NULL;
        clock_sleep_ms(100);
    }
    assert_null(body);
    wait_screen("agent exited 0", 5000);
    fake_down(&w);
}

/* 100x30, the smallest screen: every key, wrapped text, the body's
 * scroll row; shrunk below it, a clear message, and back. */
static void test_fits_100x30(void **state)
{
    fake_world w;
    char flat[65536];
    const char *screen;

    (void)state;
    fake_up(&w, "agent_tui_small", 100, 30);
    to_task(&w);
    screen = wait_screen("q quit", 2000);
    if (getenv("TL_TUI_SHOW") != NULL)
        printf("%s\n", screen);
    all_keys_shown(screen, task_keys, NTASK_KEYS);
    assert_non_null(strstr(screen, " more · PgUp/PgDn scroll"));
    no_closing_mark_first(screen);
    /* Down to the compliance prompts: the identity rule reads whole. */
    screen = scroll_to("tui", "verify_identity");
    if (getenv("TL_TUI_SHOW") != NULL)
        printf("%s\n", screen);
    no_closing_mark_first(screen);
    keys("NPage"); /* the rule's sentence may end on the next page */
    capture(flat, sizeof(flat));
    {
        char both[131072], joined[65536];

        snprintf(both, sizeof(both), "%s\n%s", screen, flat);
        joined_rows(both, joined, sizeof(joined));
        if (strstr(joined, "Verify the customer's identity (name plus ID or "
                           "phone last four digits) before giving any "
                           "account detail.") == NULL)
            fail_msg("the rule's sentence does not read whole:\n%s\n%s", screen,
                     flat);
    }
    assert_non_null(strstr(flat, "↑ "));
    keys("Home");
    wait_screen("== Case LN-2026-000123", 5000);

    /* Too small: it says so; enlarged, the screen is back. */
    tmux("resize-window -t tui -x 90 -y 25");
    screen = wait_screen("The screen needs at least 100 columns and 30 rows; "
                         "this terminal has 90 columns and 25 rows.",
                         5000);
    wait_screen("You stay signed in: 1 task(s) in hand", 2000);
    keys("s"); /* typed blind: nothing happens */
    tmux("resize-window -t tui -x 100 -y 30");
    screen = wait_screen("q quit", 5000);
    all_keys_shown(screen, task_keys, NTASK_KEYS);
    assert_int_equal(count(&w.f, "complete"), 0);
    fake_down(&w);
}

/* Started at 90x25 it refuses to run, and signs nothing in. */
static void test_refused_90x25(void **state)
{
    fake_world w;

    (void)state;
    fake_up(&w, "agent_tui_refused", 0, 0);
    start_agent("tui", 90, 25, &w.fx, "w007", w.log_path, NULL);
    wait_screen("twinline-agent: this terminal has 90 columns and 25 rows; the "
                "screen needs at least 100 columns and 30 rows. Enlarge the "
                "window",
                10000);
    wait_screen("agent exited 1", 5000);
    assert_int_equal(count(&w.f, "presence"), 0);
    fake_down(&w);
}

static void test_open_copy_feedback_stored(void **state)
{
    fixture fx;
    running_dispatcher rd;
    bus *b;
    json_t *r;
    char log_path[128], *report = NULL;
    size_t report_len = 0;
    FILE *out;
    err e = {0};

    (void)state;
    if (system("command -v tmux >/dev/null 2>&1") != 0)
        fail_msg("tmux is not installed; run scripts/deps.sh");
    fixture_setup(&fx, "agent_tui_fb");
    harness_load_examples(&fx);
    harness_start(&rd, &fx, NULL);
    b = fixture_bus(&fx);

    new_server("fb");
    snprintf(log_path, sizeof(log_path), "/tmp/tl-tuifb-%d.log", (int)getpid());
    start_agent("tui", 180, 70, &fx, "w001", log_path, NULL);
    wait_screen("w001 · available", 10000);

    r = harness_request(
        &fx, b, "api.jsbank.case.submit",
        "{\"external_id\":\"LN-TUI-1\",\"case_type\":\"loan_overdue\","
        "\"customer\":{\"name\":\"王伟\",\"phone\":\"+86 138 0000 0000\","
        "\"language\":\"zh\"},\"payload\":{\"loan_id\":\"L-88812\","
        "\"product\":\"personal_loan\",\"days_past_due\":35,"
        "\"overdue_minor\":1250000,\"currency\":\"CNY\"}}");
    if (!json_is_true(json_object_get(r, "ok")))
        fail_msg("submit: %s", json_dumps(r, 0));
    json_decref(r);

    wait_screen("expires in", 10000);
    keys("y");
    wait_screen("== Knowledge", 10000);
    /* Outside the contact hours the reply is held back until the prompt
     * is acknowledged, and the account details until the identity is
     * verified: acknowledge everything first, whatever the time. */
    ack_all();
    wait_screen("p passage · v open · c copy", 2000);

    /* c: the suggested reply into the draft reply. */
    keys("c");
    wait_screen("Copied the suggested reply into the draft reply", 5000);
    wait_screen("Draft checked: 王伟您好", 2000);

    /* p, v: passage [2] in full; hardship (2); c: it goes into the
     * reason. */
    keys("p");
    wait_screen("Passage [2] selected", 5000);
    keys("v");
    wait_screen("== Open passage [2] · ", 5000);
    keys("2"); /* the dispatcher lists the outcomes by name */
    wait_screen("c copies this passage into reason", 5000);
    keys("c");
    wait_screen("Copied the passage into reason.", 5000);
    if (getenv("TL_TUI_SHOW") != NULL)
        printf("%s\n", wait_screen("Open passage", 100));
    keys("v");
    wait_screen("Passage [2] closed.", 5000);

    keys("s");
    wait_screen("Outcome hardship recorded", 10000);

    /* The dispatcher stored what the person did with the suggestions. */
    assert_int_equal(
        fixture_wait_i64(&fx,
                         "SELECT count(*) FROM assist_feedback WHERE"
                         " worker_id = 'w001' AND action = 'copied'",
                         2, 10000),
        2);
    assert_int_equal(fixture_i64(&fx, "SELECT count(*) FROM assist_feedback"
                                      " WHERE action = 'copied' AND"
                                      " suggestion = 'reply'"),
                     1);
    assert_int_equal(fixture_i64(&fx, "SELECT count(*) FROM assist_feedback"
                                      " WHERE action = 'opened' AND"
                                      " suggestion LIKE 'passage:%'"),
                     1);
    assert_int_equal(fixture_i64(&fx, "SELECT count(*) FROM assist_feedback"
                                      " WHERE action = 'copied' AND"
                                      " suggestion LIKE 'passage:%'"),
                     1);
    assert_true(fixture_i64(&fx, "SELECT count(*) FROM assist_feedback"
                                 " WHERE action = 'shown'") >= 6);
    assert_int_equal(fixture_i64(&fx, "SELECT count(*) FROM outcomes WHERE"
                                      " code = 'hardship' AND"
                                      " fields->>'reason' LIKE '%.md § %'"),
                     1);

    /* twinline assist report, by kind: passages shown 5, opened 1,
     * copied 1 (20.0 % accepted); the reply shown 1, copied 1 (100 %). */
    out = open_memstream(&report, &report_len);
    assert_non_null(out);
    if (cmd_assist_report(fx.db, "jsbank", out, &e) != ST_OK)
        fail_msg("%s", e.msg);
    fclose(out);
    if (getenv("TL_TUI_SHOW") != NULL)
        printf("%s\n", report);
    if (strstr(report, "jsbank  contact  passage      5       1       1     "
                       "0     20.0%") == NULL ||
        strstr(report, "jsbank  contact  reply        1       0       1     "
                       "0    100.0%") == NULL)
        fail_msg("the report lacks the opened and copied counts:\n%s", report);
    free(report);

    keys("q");
    tmux("kill-server");
    unlink(log_path);
    harness_stop(&rd);
    bus_close(b);
    fixture_teardown(&fx);
}

static void submit(fixture *fx, bus *b, const char *body)
{
    json_t *r = harness_request(fx, b, "api.jsbank.case.submit", body);

    if (!json_is_true(json_object_get(r, "ok")))
        fail_msg("submit: %s", json_dumps(r, 0));
    json_decref(r);
}

/* The key of outcome code on the screen ("  3 no_contact (not
 * billable)"), as a one-character string. */
static const char *outcome_key(const char *screen, const char *code)
{
    static char k[2];
    char want[80];
    const char *p;

    snprintf(want, sizeof(want), " %s (", code);
    p = strstr(screen, want);
    if (p == NULL || p - screen < 1 || p[-1] < '1' || p[-1] > '9')
        fail_msg("outcome %s is not on the screen:\n%s", code, screen);
    k[0] = p[-1];
    k[1] = '\0';
    return k;
}

/* Send the selected task's outcome code (one without fields). */
static void send_outcome(const char *code)
{
    char done[96];
    const char *screen = wait_screen("== Outcome (keys", 5000);

    keys(outcome_key(screen, code));
    ack_all();
    wait_screen("Ready: s sends", 5000);
    keys("s");
    snprintf(done, sizeof(done), "Outcome %s recorded", code);
    wait_screen(done, 10000);
}

/* A shift: a voice call, and two chats offered during it, accepted from
 * the task list and worked side by side; no offer expires. */
static void test_shift_voice_and_two_chats(void **state)
{
    fixture fx;
    running_dispatcher rd;
    bus *b;
    char log_path[128];
    const char *screen;

    (void)state;
    if (system("command -v tmux >/dev/null 2>&1") != 0)
        fail_msg("tmux is not installed; run scripts/deps.sh");
    fixture_setup(&fx, "agent_tui_shift");
    harness_load_examples(&fx);
    harness_start(&rd, &fx, NULL);
    b = fixture_bus(&fx);
    new_server("shift");
    snprintf(log_path, sizeof(log_path), "/tmp/tl-tuishift-%d.log",
             (int)getpid());
    start_agent("tui", 140, 40, &fx, "w001", log_path, NULL);
    wait_screen("w001 · available", 10000);
    screen = wait_screen("chat 0/3", 5000);
    assert_non_null(strstr(screen, "voice 0/1"));

    /* The call. */
    submit(&fx, b,
           "{\"external_id\":\"SH-L1\",\"case_type\":\"loan_overdue\","
           "\"customer\":{\"name\":\"王伟\",\"phone\":\"+86 138 0000 0000\","
           "\"language\":\"zh\"},\"payload\":{\"loan_id\":\"L-1\","
           "\"product\":\"personal_loan\",\"days_past_due\":35,\"overdue_"
           "minor\":1250000,"
           "\"currency\":\"CNY\"}}");
    wait_screen("== Offer", 10000);
    keys("y");
    wait_screen("== Case SH-L1", 10000);
    wait_screen("voice 1/1", 5000);

    /* A chat during the call: listed with its countdown; y takes it and
     * the call stays on screen. */
    submit(&fx, b,
           "{\"external_id\":\"SH-C1\",\"case_type\":\"card_dispute\","
           "\"customer\":{\"name\":\"李娜\",\"phone\":\"+86 139 0000 0000\","
           "\"language\":\"zh\"},\"payload\":{\"card_last4\":\"4821\","
           "\"merchant\":\"京东\",\"amount_minor\":45900,\"reason\":"
           "\"not_received\",\"transaction_date\":\"2026-11-02\"}}");
    screen = wait_screen("y accepts, n rejects", 10000);
    assert_non_null(strstr(screen, "== Tasks: 1 in hand, 1 offer waiting"));
    assert_non_null(
        strstr(screen, "· chat · card_dispute intake · expires in"));
    assert_non_null(strstr(screen, "== Case SH-L1"));
    if (getenv("TL_TUI_SHOW") != NULL)
        printf("%s\n", screen);
    keys("y");
    wait_screen("chat 1/3", 10000);
    wait_screen("== Tasks: 2 in hand, 0 offers waiting", 5000);

    /* A second chat. */
    submit(&fx, b,
           "{\"external_id\":\"SH-C2\",\"case_type\":\"complaint\","
           "\"customer\":{\"name\":\"张敏\",\"language\":\"zh\"},"
           "\"payload\":{\"channel\":\"app\",\"category\":\"fees\","
           "\"text\":\"年费扣了两次\"}}");
    wait_screen("· chat · complaint intake · expires in", 10000);
    keys("y");
    screen = wait_screen("chat 2/3", 10000);
    wait_screen("== Tasks: 3 in hand, 0 offers waiting", 5000);
    if (getenv("TL_TUI_SHOW") != NULL)
        printf("%s\n", screen);

    /* Side by side: each chat on its own screen, then the call. */
    keys("]");
    wait_screen("== Case SH-C1", 5000);
    send_outcome("resolved_at_intake");
    wait_screen("== Tasks: 2 in hand", 5000);
    while (strstr(wait_screen("== Case", 5000), "== Case SH-C2") == NULL)
        keys("]");
    send_outcome("resolved_first_contact");
    wait_screen("== Case SH-L1", 5000);
    send_outcome("no_contact");
    wait_screen("wrap-up", 5000);

    /* Three outcomes by w001; no offer of the shift timed out. */
    assert_int_equal(fixture_wait_i64(&fx,
                                      "SELECT count(*) FROM outcomes o JOIN"
                                      " tasks t ON t.id = o.task_id WHERE"
                                      " t.worker_id = 'w001'",
                                      3, 10000),
                     3);
    assert_int_equal(fixture_i64(&fx, "SELECT count(*) FROM reservations"
                                      " WHERE state = 'timeout'"),
                     0);
    assert_int_equal(fixture_i64(&fx, "SELECT count(*) FROM reservations"
                                      " WHERE worker_id = 'w001' AND state"
                                      " IN ('completed', 'wrapping')"),
                     3);
    keys("q");
    tmux("kill-server");
    unlink(log_path);
    harness_stop(&rd);
    bus_close(b);
    fixture_teardown(&fx);
}

/* One session per worker: a second sign-in is refused naming the first;
 * --takeover replaces it, and the first screen says so and stops; the
 * database agrees with each screen to the end. */
static void test_second_sign_in(void **state)
{
    fixture fx;
    running_dispatcher rd;
    char log1[128], log2[128], log3[128], want[256], pid[32], sid[80];
    const char *screen;

    (void)state;
    if (system("command -v tmux >/dev/null 2>&1") != 0)
        fail_msg("tmux is not installed; run scripts/deps.sh");
    fixture_setup(&fx, "agent_tui_sessions");
    harness_load_examples(&fx);
    harness_start(&rd, &fx, NULL);
    new_server("sessions");
    snprintf(log1, sizeof(log1), "/tmp/tl-tuises-%d-1.log", (int)getpid());
    snprintf(log2, sizeof(log2), "/tmp/tl-tuises-%d-2.log", (int)getpid());
    snprintf(log3, sizeof(log3), "/tmp/tl-tuises-%d-3.log", (int)getpid());

    start_agent("first", 100, 30, &fx, "w002", log1, NULL);
    wait_on("first", "w002 · available", 10000);
    fixture_str(&fx, "SELECT session_pid FROM workers WHERE id = 'w002'", pid,
                sizeof(pid));
    fixture_str(&fx, "SELECT session_id FROM workers WHERE id = 'w002'", sid,
                sizeof(sid));

    /* The second is refused: its screen names the first session. */
    start_agent("second", 100, 30, &fx, "w002", log2, NULL);
    snprintf(want, sizeof(want),
             "worker w002 is signed in elsewhere: session %s on host", sid);
    wait_on("second", want, 10000);
    snprintf(want, sizeof(want), "(pid %s) since", pid);
    wait_on("second", want, 2000);
    wait_on("second", "sign in with --takeover to replace it", 2000);
    wait_on("second", "w002 · signed out", 2000);
    screen = wait_on("second", "t take over here · q quit", 2000);
    if (getenv("TL_TUI_SHOW") != NULL)
        printf("%s\n", screen);
    /* q closes it without signing the first out. */
    keys_to("second", "q");
    wait_on("second", "agent exited 1", 5000);
    wait_on("second",
            "twinline-agent: signed out: worker w002 is signed in "
            "elsewhere",
            5000);
    wait_on("first", "w002 · available", 2000);
    clock_sleep_ms(2500); /* a heartbeat of the first */
    assert_int_equal(fixture_i64(&fx, "SELECT count(*) FROM workers WHERE id"
                                      " = 'w002' AND presence = 'available'"),
                     1);
    fixture_str(&fx, "SELECT session_pid FROM workers WHERE id = 'w002'", want,
                sizeof(want));
    assert_string_equal(want, pid);

    /* The third takes over: the first is told and stops. */
    start_agent("third", 100, 30, &fx, "w002", log3, "--takeover");
    wait_on("third", "w002 · available", 10000);
    snprintf(want, sizeof(want),
             "took worker w002 over; this session (%s) is signed out", sid);
    wait_on("first", want, 10000);
    screen = wait_on("first", "w002 · signed out", 2000);
    if (getenv("TL_TUI_SHOW") != NULL)
        printf("%s\n", screen);
    assert_int_equal(fixture_i64(&fx, "SELECT count(*) FROM workers WHERE id"
                                      " = 'w002' AND presence = 'available'"),
                     1);
    fixture_str(&fx, "SELECT session_id FROM workers WHERE id = 'w002'", want,
                sizeof(want));
    assert_true(strcmp(want, sid) != 0);
    /* The first closes: the worker stays available, the third's. */
    keys_to("first", "q");
    wait_on("first", "agent exited 1", 5000);
    clock_sleep_ms(2500);
    assert_int_equal(fixture_i64(&fx, "SELECT count(*) FROM workers WHERE id"
                                      " = 'w002' AND presence = 'available'"),
                     1);
    wait_on("third", "w002 · available", 2000);
    /* The third quits: offline, and no session is left. */
    keys_to("third", "q");
    wait_on("third", "agent exited 0", 5000);
    assert_int_equal(fixture_wait_i64(&fx,
                                      "SELECT count(*) FROM workers WHERE id"
                                      " = 'w002' AND presence = 'offline'"
                                      " AND session_id IS NULL",
                                      1, 5000),
                     1);
    tmux("kill-server");
    unlink(log1);
    unlink(log2);
    unlink(log3);
    harness_stop(&rd);
    fixture_teardown(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_assist_outcome),
        cmocka_unit_test(test_fits_100x30),
        cmocka_unit_test(test_refused_90x25),
        cmocka_unit_test(test_open_copy_feedback_stored),
        cmocka_unit_test(test_shift_voice_and_two_chats),
        cmocka_unit_test(test_second_sign_in),
    };
    int rc;

    /* TL_TUI_ONLY=test_fits_100x30 runs one (a pattern, as cmocka has it). */
    if (getenv("TL_TUI_ONLY") != NULL)
        cmocka_set_test_filter(getenv("TL_TUI_ONLY"));
    rc = cmocka_run_group_tests(tests, NULL, NULL);

    /* A failed run leaves no tmux server behind. */
    for (int i = 0; i < nsocks; i++) {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "tmux -L %.64s kill-server 2>/dev/null",
                 socks[i]);
        if (system(cmd) != 0) {
            /* Already gone. */
        }
    }
    return rc;
}
