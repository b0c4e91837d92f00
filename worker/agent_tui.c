#include "agent_tui.h"

#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <ncurses.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "agent_console.h"
#include "agent_model.h"
#include "bus.h"
#include "clock.h"
#include "log.h"
#include "nkey.h"

#define MOD       "agent"
#define TICK_MS   100
#define ROWS_MAX  4000 /* wrapped screen rows kept per frame */
#define TEXT_ROOM 8192 /* bytes of one view line as drawn */

enum { PAIR_TITLE = 1, PAIR_OK, PAIR_WARN, PAIR_BLOCK, PAIR_DIM };

typedef struct tui {
    pthread_mutex_t mu;
    agent_console *con;
    bus *bus;
    char prefix[64];
    char worker[ID_MAX + 1];
    char inbox[128];

    agent_model *model;
    pthread_t model_thread;
    bool model_running;
    bool model_done;
    agent_model_request req;
    agent_model_result *result;

    int scroll;
    int64_t focus;
} tui;

/* One row on the screen: bytes of a view line that fit the width. */
typedef struct row {
    const char *p;
    int n;
    agent_style style;
} row;

static agent_time now(void)
{
    agent_time t = {clock_mono_us(), clock_wall_us() / 1000000};

    return t;
}

static void on_inbound(void *ctx, bus_msg *m)
{
    tui *t = ctx;
    const char *subject = bus_msg_subject(m);
    const char *last = strrchr(subject, '.');

    pthread_mutex_lock(&t->mu);
    if (last != NULL && strcmp(last, ".offer") == 0)
        agent_console_offer(t->con, bus_msg_data(m), bus_msg_len(m), now());
    else if (last != NULL && strcmp(last, ".notice") == 0)
        agent_console_notice(t->con, bus_msg_data(m), bus_msg_len(m), now());
    pthread_mutex_unlock(&t->mu);
    bus_msg_free(m);
}

static void on_reply(void *ctx, bus_msg *m)
{
    tui *t = ctx;
    const char *last = strrchr(bus_msg_subject(m), '.');
    uint64_t id = last != NULL ? strtoull(last + 1, NULL, 10) : 0;

    pthread_mutex_lock(&t->mu);
    agent_console_reply(t->con, id, bus_msg_data(m), bus_msg_len(m), now());
    pthread_mutex_unlock(&t->mu);
    bus_msg_free(m);
}

/* Send what the console asks for. Called with the lock held; publishing
 * only buffers, it does not wait for the server. */
static void send_requests(tui *t)
{
    agent_request rq;

    while (agent_console_next_request(t->con, &rq)) {
        char subject[256], reply[192];
        err e = {0};

        snprintf(reply, sizeof(reply), "%s.%llu", t->inbox,
                 (unsigned long long)rq.id);
        if (agent_subject(subject, sizeof(subject), t->prefix, t->worker,
                          rq.verb, &e) != ST_OK ||
            bus_publish_request(t->bus, subject, reply, rq.body, rq.len, &e) !=
                ST_OK)
            log_warn(MOD, "worker %s: %s not sent: %s", t->worker, rq.verb,
                     e.msg);
    }
}

static void *model_main(void *arg)
{
    tui *t = arg;

    agent_model_suggest(t->model, &t->req, t->result);
    pthread_mutex_lock(&t->mu);
    t->model_done = true;
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

/* Start a model question or deliver its answer. Lock held. */
static void drive_model(tui *t)
{
    if (t->model == NULL)
        return;
    if (t->model_running && t->model_done) {
        /* The thread has finished its work; the join is immediate. */
        pthread_mutex_unlock(&t->mu);
        pthread_join(t->model_thread, NULL);
        pthread_mutex_lock(&t->mu);
        t->model_running = false;
        agent_console_model_result(t->con, t->result);
        log_info(MOD, "worker %s: model %s in %lld ms%s%s", t->worker,
                 t->result->ok ? "answered" : "failed",
                 (long long)t->result->elapsed_ms, t->result->ok ? "" : ": ",
                 t->result->reason);
        agent_model_request_free(&t->req);
    }
    if (!t->model_running && agent_console_model_job(t->con, &t->req)) {
        t->model_done = false;
        if (pthread_create(&t->model_thread, NULL, model_main, t) != 0) {
            snprintf(t->result->reason, sizeof(t->result->reason),
                     "could not start the model thread");
            t->result->ok = false;
            t->result->task_id = t->req.task_id;
            agent_console_model_result(t->con, t->result);
            agent_model_request_free(&t->req);
        } else {
            t->model_running = true;
        }
    }
}

static int key_map(int rc, wint_t ch, tui *t)
{
    if (rc == KEY_CODE_YES) {
        switch (ch) {
        case KEY_UP:
            return AGENT_KEY_UP;
        case KEY_DOWN:
            return AGENT_KEY_DOWN;
        case KEY_BACKSPACE:
            return AGENT_KEY_BACKSPACE;
        case KEY_ENTER:
            return AGENT_KEY_ENTER;
        case KEY_PPAGE:
            t->scroll = t->scroll > 10 ? t->scroll - 10 : 0;
            return INT32_MIN;
        case KEY_NPAGE:
            t->scroll += 10;
            return INT32_MIN;
        case KEY_HOME:
            t->scroll = 0;
            return INT32_MIN;
        default:
            return INT32_MIN;
        }
    }
    switch (ch) {
    case '\n':
    case '\r':
        return AGENT_KEY_ENTER;
    case 27:
        return AGENT_KEY_ESC;
    case 127:
    case 8:
        return AGENT_KEY_BACKSPACE;
    case '\t':
        return AGENT_KEY_TAB;
    default:
        return ch < 0x20 ? INT32_MIN : (int)ch;
    }
}

static attr_t style_attr(agent_style s)
{
    bool color = has_colors();

    switch (s) {
    case AGENT_STYLE_TITLE:
        return A_BOLD | (color ? COLOR_PAIR(PAIR_TITLE) : 0);
    case AGENT_STYLE_DIM:
        return color ? COLOR_PAIR(PAIR_DIM) : A_DIM;
    case AGENT_STYLE_OK:
        return color ? COLOR_PAIR(PAIR_OK) : 0;
    case AGENT_STYLE_WARN:
        return A_BOLD | (color ? COLOR_PAIR(PAIR_WARN) : 0);
    case AGENT_STYLE_BLOCK:
        return A_BOLD | (color ? COLOR_PAIR(PAIR_BLOCK) : A_UNDERLINE);
    case AGENT_STYLE_SELECTED:
        return A_REVERSE;
    case AGENT_STYLE_TEXT:
        break;
    }
    return A_NORMAL;
}

/* Cut s (n bytes, no '\n') into rows of at most width columns. */
static void wrap(const char *s, size_t n, agent_style style, int width,
                 row *rows, int *nrows)
{
    mbstate_t ms;
    size_t i = 0, start = 0;
    int cols = 0;

    memset(&ms, 0, sizeof(ms));
    if (n == 0 && *nrows < ROWS_MAX) {
        rows[(*nrows)++] = (row){s, 0, style};
        return;
    }
    while (i < n && *nrows < ROWS_MAX) {
        wchar_t wc;
        size_t k = mbrtowc(&wc, s + i, n - i, &ms);
        int w;

        if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
            memset(&ms, 0, sizeof(ms));
            k = 1;
            w = 1;
        } else {
            w = wcwidth(wc);
            if (w < 0)
                w = 1;
        }
        if (cols + w > width) {
            rows[(*nrows)++] = (row){s + start, (int)(i - start), style};
            start = i;
            cols = 0;
            continue;
        }
        cols += w;
        i += k;
    }
    if (start < n && *nrows < ROWS_MAX)
        rows[(*nrows)++] = (row){s + start, (int)(n - start), style};
}

/* Replace control bytes (an outside party's text could hold escape
 * sequences) with spaces, keeping line breaks. */
static void clean(char *s)
{
    for (; *s != '\0'; s++)
        if (((unsigned char)*s < 0x20 && *s != '\n') || *s == 0x7f)
            *s = ' ';
}

static void put_line(int y, const char *s, attr_t a, int width)
{
    row rows[4];
    int n = 0;

    move(y, 0);
    clrtoeol();
    wrap(s, strlen(s), AGENT_STYLE_TEXT, width, rows, &n);
    if (n > 0) {
        attrset(a);
        mvaddnstr(y, 0, rows[0].p, rows[0].n);
        attrset(A_NORMAL);
    }
}

static void draw(tui *t, agent_view *v, row *rows)
{
    int h, w, nrows = 0, body;

    getmaxyx(stdscr, h, w);
    (void)h;
    body = LINES - 4;
    erase();
    for (int i = 0; i < v->n; i++) {
        char *s = v->lines[i].text;

        clean(s);
        for (;;) {
            char *nl = strchr(s, '\n');
            size_t n = nl != NULL ? (size_t)(nl - s) : strlen(s);

            wrap(s, n, v->lines[i].style, w, rows, &nrows);
            if (nl == NULL)
                break;
            s = nl + 1;
        }
    }
    if (v->focus != t->focus) {
        t->focus = v->focus;
        t->scroll = 0;
    }
    if (t->scroll > nrows - body)
        t->scroll = nrows - body > 0 ? nrows - body : 0;
    attrset(A_REVERSE);
    mvhline(0, 0, ' ', w);
    attrset(A_NORMAL);
    clean(v->header);
    put_line(0, v->header, A_REVERSE | A_BOLD, w);
    for (int y = 0; y < body && t->scroll + y < nrows; y++) {
        const row *r = &rows[t->scroll + y];

        attrset(style_attr(r->style));
        mvaddnstr(1 + y, 0, r->p, r->n);
        attrset(A_NORMAL);
    }
    if (nrows > body) {
        char more[64];

        snprintf(more, sizeof(more), " lines %d-%d of %d ", t->scroll + 1,
                 t->scroll + body < nrows ? t->scroll + body : nrows, nrows);
        attrset(A_REVERSE);
        mvaddstr(LINES - 3,
                 w - (int)strlen(more) > 0 ? w - (int)strlen(more) : 0, more);
        attrset(A_NORMAL);
    }
    clean(v->message);
    clean(v->keys);
    clean(v->input);
    put_line(LINES - 2, v->message, style_attr(v->message_style), w);
    put_line(LINES - 1, v->keys, A_REVERSE, w);
    if (v->input[0] != '\0') {
        put_line(LINES - 3, v->input, A_BOLD, w);
        curs_set(1);
    } else {
        curs_set(0);
    }
    refresh();
}

static void screen_start(void)
{
    initscr();
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    timeout(TICK_MS);
    curs_set(0);
    if (has_colors()) {
        start_color();
        use_default_colors();
        init_pair(PAIR_TITLE, COLOR_CYAN, -1);
        init_pair(PAIR_OK, COLOR_GREEN, -1);
        init_pair(PAIR_WARN, COLOR_YELLOW, -1);
        init_pair(PAIR_BLOCK, COLOR_RED, -1);
        init_pair(PAIR_DIM, COLOR_BLUE, -1);
    }
}

/* Send log lines (ours and cnats's) to a file: they would tear the
 * screen. Returns a duplicate of the old stderr for messages after the
 * screen is gone, or -1. */
static int log_to_file(const agent_tui_options *o)
{
    char path[512];
    int fd, saved;

    if (o->log_file != NULL)
        snprintf(path, sizeof(path), "%s", o->log_file);
    else
        snprintf(path, sizeof(path), "/tmp/twinline-agent-%s.log", o->worker);
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    return saved;
}

static int load_kbs(const agent_tui_options *o, assist_kb **kbs)
{
    for (int i = 0; i < o->nkbs; i++) {
        err e = {0};

        if (assist_kb_load(&kbs[i], o->kbs[i], &e) != ST_OK) {
            fprintf(stderr, "twinline-agent: --kb %s: %s\n", o->kbs[i], e.msg);
            return 2;
        }
    }
    return 0;
}

/* Connect as the worker: --creds, or the worker's file in --creds-dir. */
static status connect_worker(tui *t, const agent_tui_options *o, err *e)
{
    nkey_dir *dir = NULL;
    const char *path = NULL;
    bus_opts bo;
    status st = ST_OK;

    config_bus_opts(&o->cfg, "twinline-agent-interactive", &bo);
    if (bo.creds == NULL && o->cfg.creds_dir[0] != '\0') {
        st = nkey_dir_open(&dir, o->cfg.creds_dir, e);
        if (st == ST_OK)
            st = nkey_dir_find(dir, "worker", o->worker, &path, e);
        bo.creds = path;
    }
    if (st == ST_OK)
        st = bus_connect_opts(&t->bus, &bo, e);
    nkey_dir_close(dir);
    return st;
}

static status subscribe(tui *t, err *e)
{
    static const char *const kinds[] = {"offer", "notice"};
    char subject[256];
    status st;

    /* The identity's own inbox: the only one its permissions allow. */
    if ((st = bus_inbox_new(t->bus, t->inbox, sizeof(t->inbox), e)) != ST_OK)
        return st;
    snprintf(subject, sizeof(subject), "%s.*", t->inbox);
    if ((st = bus_subscribe(t->bus, subject, NULL, on_reply, t, e)) != ST_OK)
        return st;
    for (int k = 0; k < 2; k++) {
        st = agent_inbound_subject(subject, sizeof(subject), t->prefix,
                                   t->worker, kinds[k], e);
        if (st == ST_OK)
            st = bus_subscribe(t->bus, subject, NULL, on_inbound, t, e);
        if (st != ST_OK)
            return st;
    }
    return bus_flush(t->bus, 2000, e);
}

static void run_loop(tui *t, const sigset_t *sigs)
{
    struct timespec zero = {0, 0};
    agent_view v = {0};
    row *rows = calloc(ROWS_MAX, sizeof(*rows));

    if (rows == NULL)
        return;
    for (;;) {
        wint_t ch = 0;
        int rc, key;
        bool quit;
        err e = {0};

        pthread_mutex_lock(&t->mu);
        agent_console_connection(t->con, bus_connected(t->bus), now());
        agent_console_tick(t->con, now());
        drive_model(t);
        send_requests(t);
        quit = agent_console_quit(t->con);
        if (agent_console_view(t->con, now(), &v, &e) != ST_OK)
            log_error(MOD, "%s", e.msg);
        pthread_mutex_unlock(&t->mu);
        if (quit)
            break;
        draw(t, &v, rows);
        rc = get_wch(&ch);
        if (sigtimedwait(sigs, NULL, &zero) > 0) {
            pthread_mutex_lock(&t->mu);
            agent_console_key(t->con, 'q', now());
            agent_console_key(t->con, 'q', now());
            pthread_mutex_unlock(&t->mu);
            continue;
        }
        if (rc == ERR || (rc == KEY_CODE_YES && ch == KEY_RESIZE))
            continue;
        key = key_map(rc, ch, t);
        if (key == INT32_MIN)
            continue;
        pthread_mutex_lock(&t->mu);
        agent_console_key(t->con, key, now());
        send_requests(t);
        pthread_mutex_unlock(&t->mu);
    }
    agent_view_free(&v);
    free(rows);
}

int agent_tui_run(const agent_tui_options *o, const sigset_t *sigs)
{
    assist_kb *kbs[AGENT_CONSOLE_KBS_MAX] = {0};
    agent_console_opts co;
    tui t;
    err e = {0};
    int rc = 1, saved = -1;
    bool screen = false;

    memset(&t, 0, sizeof(t));
    pthread_mutex_init(&t.mu, NULL);
    snprintf(t.prefix, sizeof(t.prefix), "%s", o->cfg.prefix);
    snprintf(t.worker, sizeof(t.worker), "%s", o->worker);
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "twinline-agent: --interactive needs a terminal; for "
                        "simulated workers use --workers\n");
        goto out;
    }
    setlocale(LC_ALL, "");
    if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
        setlocale(LC_CTYPE, "C.UTF-8"); /* Chinese needs UTF-8 */
    if ((rc = load_kbs(o, kbs)) != 0)
        goto out;
    rc = 2;
    if (o->model_url != NULL) {
        agent_model_opts mo = {o->model_url, o->model_name, o->model_key_file,
                               o->model_timeout_ms};

        t.result = calloc(1, sizeof(*t.result));
        if (t.result == NULL ||
            agent_model_create(&t.model, &mo, &e) != ST_OK) {
            fprintf(stderr, "twinline-agent: %s\n",
                    t.result == NULL ? "out of memory" : e.msg);
            goto out;
        }
    }
    rc = 1;
    agent_console_opts_init(&co);
    co.worker = o->worker;
    co.kbs = (const assist_kb *const *)kbs;
    co.nkbs = o->nkbs;
    co.model = t.model != NULL;
    co.model_name = o->model_name;
    co.panel_k = o->passages;
    if (agent_console_create(&t.con, &co, &e) != ST_OK) {
        fprintf(stderr, "twinline-agent: %s\n", e.msg);
        goto out;
    }
    saved = log_to_file(o);
    if (connect_worker(&t, o, &e) != ST_OK || subscribe(&t, &e) != ST_OK) {
        if (saved >= 0)
            dup2(saved, STDERR_FILENO);
        fprintf(stderr, "twinline-agent: %s\n", e.msg);
        goto out;
    }
    log_info(MOD, "worker %s: interactive agent on %s prefix %s", t.worker,
             o->cfg.nats, t.prefix);
    pthread_mutex_lock(&t.mu);
    agent_console_start(t.con, now());
    send_requests(&t);
    pthread_mutex_unlock(&t.mu);
    screen_start();
    screen = true;
    run_loop(&t, sigs);
    rc = 0;
out:
    if (screen)
        endwin();
    if (t.bus != NULL) {
        /* The offline presence the console queued when quitting. */
        pthread_mutex_lock(&t.mu);
        send_requests(&t);
        pthread_mutex_unlock(&t.mu);
        bus_flush(t.bus, 1000, NULL);
    }
    if (t.model_running)
        pthread_join(t.model_thread, NULL);
    agent_model_request_free(&t.req);
    bus_close(t.bus);
    if (saved >= 0) {
        dup2(saved, STDERR_FILENO);
        close(saved);
    }
    agent_console_destroy(t.con);
    agent_model_destroy(t.model);
    free(t.result);
    for (int i = 0; i < AGENT_CONSOLE_KBS_MAX; i++)
        assist_kb_destroy(kbs[i]);
    pthread_mutex_destroy(&t.mu);
    return rc;
}
