/*
 * The real interactive agent (twinline-agent --interactive) driven in a
 * terminal: tmux runs it (new-session -d, send-keys, capture-pane -p)
 * against a fake dispatcher written here on the suite's real nats-server.
 * An offer appears with a countdown; accepting shows the customer and the
 * assist panel citing a knowledge file; the outcome form refuses a bad
 * date; sending is blocked until the prompts are acknowledged; then the
 * complete request arrives with the right outcome.
 *
 * A second test runs the real dispatcher with the examples: worker w001
 * at the screen takes a loan_overdue case, copies the suggested reply (c),
 * selects and opens a passage (p, v) and copies it into the hardship
 * reason; the dispatcher stores the opened and copied feedback and
 * `twinline assist report` counts them.
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

static void keys(const char *k)
{
    char args[256];

    snprintf(args, sizeof(args), "send-keys -t tui %s", k);
    tmux(args);
    clock_sleep_ms(150);
}

static void capture(char *buf, size_t cap)
{
    char cmd[256];
    FILE *p;
    size_t n;

    snprintf(cmd, sizeof(cmd), "tmux -L %s capture-pane -p -t tui", sock);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(buf, 1, cap - 1, p);
    buf[n] = '\0';
    pclose(p);
}

/* Wait until the screen shows part; returns the screen. */
static const char *wait_screen(const char *part, int timeout_ms)
{
    static char screen[65536];
    int64_t end = clock_mono_us() + (int64_t)timeout_ms * 1000;

    for (;;) {
        capture(screen, sizeof(screen));
        if (strstr(screen, part) != NULL)
            return screen;
        if (clock_mono_us() > end)
            fail_msg("the screen never showed \"%s\"; it shows:\n%s", part,
                     screen);
        clock_sleep_ms(100);
    }
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

static void test_accept_assist_outcome(void **state)
{
    fixture fx;
    fake f;
    char subject[128], args[2048], log_path[128];
    const char *screen;
    char *body;
    err e = {0};

    (void)state;
    if (system("command -v tmux >/dev/null 2>&1") != 0)
        fail_msg("tmux is not installed; run scripts/deps.sh (it installs "
                 "tmux, which this test drives the agent's screen with)");
    if (access(AGENT_BIN, X_OK) != 0)
        fail_msg("%s is missing; build the twinline-agent target", AGENT_BIN);
    fixture_setup(&fx, "agent_tui");
    memset(&f, 0, sizeof(f));
    pthread_mutex_init(&f.mu, NULL);
    snprintf(f.prefix, sizeof(f.prefix), "%s", fx.cfg.prefix);
    f.task = slurp(TASK_FILE);
    f.b = fixture_bus(&fx);
    snprintf(subject, sizeof(subject), "%s.agent.>", f.prefix);
    assert_int_equal(bus_subscribe(f.b, subject, NULL, on_agent, &f, &e),
                     ST_OK);
    assert_int_equal(bus_flush(f.b, 2000, &e), ST_OK);

    snprintf(sock, sizeof(sock), "tl-tui-%d", (int)getpid());
    snprintf(log_path, sizeof(log_path), "/tmp/tl-tui-%d.log", (int)getpid());
    snprintf(args, sizeof(args),
             "-u -f /dev/null new-session -d -s tui -x 180 -y 70 "
             "'env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color %s "
             "--interactive --worker w007 --kb %s --nats %s --prefix %s "
             "--log-file %s; sleep 30'",
             AGENT_BIN, KB_DIR, fx.cfg.nats, fx.cfg.prefix, log_path);
    tmux(args);

    /* Signed in, and heartbeating every 2 s. */
    body = wait_verb(&f, "presence", 10000);
    assert_non_null(strstr(body, "\"available\""));
    free(body);
    wait_screen("w007 · available", 5000);
    free(wait_verb(&f, "heartbeat", 4000));

    /* An offer with a countdown and no customer data. */
    send_offer(&fx, f.b);
    screen = wait_screen("expires in", 5000);
    if (getenv("TL_TUI_SHOW") != NULL)
        printf("%s\n", screen);
    assert_non_null(strstr(screen, "== Offer 9001"));
    assert_null(strstr(screen, "王伟"));

    /* Accept: the customer and the assist panel citing knowledge files. */
    keys("y");
    screen = wait_screen("王伟", 5000);
    assert_non_null(strstr(screen, "LN-2026-000123"));
    screen = wait_screen("== Knowledge", 5000);
    assert_non_null(strstr(screen, ".md § "));
    assert_non_null(strstr(screen, "== Compliance"));

    /* The form: an amount, then a date that does not exist. */
    keys("1");
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
    assert_int_equal(count(&f, "complete"), 0);
    for (int i = 0; i < 12; i++) {
        char tmp[65536];

        capture(tmp, sizeof(tmp));
        if (strstr(tmp, "every prompt is acknowledged") != NULL)
            break;
        keys("k");
    }
    wait_screen("every prompt is acknowledged", 5000);
    keys("s");
    body = wait_verb(&f, "complete", 10000);
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
        body = wait_verb(&f, "presence", 5000);
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

    tmux("kill-server");
    unlink(log_path);
    bus_close(f.b);
    for (int i = 0; i < f.n; i++)
        free(f.bodies[i]);
    free(f.task);
    pthread_mutex_destroy(&f.mu);
    fixture_teardown(&fx);
}

/* Press k until the screen says every prompt is acknowledged. */
static void ack_all(void)
{
    for (int i = 0; i < 12; i++) {
        char tmp[65536];

        capture(tmp, sizeof(tmp));
        if (strstr(tmp, "every prompt is acknowledged") != NULL)
            break;
        keys("k");
    }
    wait_screen("every prompt is acknowledged", 5000);
}

static void test_open_copy_feedback_stored(void **state)
{
    fixture fx;
    running_dispatcher rd;
    bus *b;
    json_t *r;
    char args[2048], log_path[128], *report = NULL;
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

    snprintf(sock, sizeof(sock), "tl-tuifb-%d", (int)getpid());
    snprintf(log_path, sizeof(log_path), "/tmp/tl-tuifb-%d.log", (int)getpid());
    snprintf(args, sizeof(args),
             "-u -f /dev/null new-session -d -s tui -x 180 -y 70 "
             "'env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color %s "
             "--interactive --worker w001 --kb %s --nats %s --prefix %s "
             "--log-file %s; sleep 30'",
             AGENT_BIN, KB_DIR, fx.cfg.nats, fx.cfg.prefix, log_path);
    tmux(args);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_assist_outcome),
        cmocka_unit_test(test_open_copy_feedback_stored),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    /* A failed run leaves no tmux server behind. */
    if (sock[0] != '\0') {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "tmux -L %s kill-server 2>/dev/null", sock);
        if (system(cmd) != 0) {
            /* Already gone. */
        }
    }
    return rc;
}
