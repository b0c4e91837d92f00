#include "agent_tui.h"

#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <ncurses.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "agent_console.h"
#include "agent_model.h"
#include "agent_wrap.h"
#include "bus.h"
#include "clock.h"
#include "log.h"
#include "nkey.h"

#define MOD          "agent"
#define TICK_MS      100
#define ROWS_MAX     4000 /* wrapped screen rows kept per frame */
#define MESSAGE_ROWS 3    /* rows the message line may wrap onto */
#define INPUT_ROWS   3    /* rows of the line being edited shown */
#define HEADER_ROWS  2

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
    int page; /* body rows on screen: what PgUp/PgDn move */
    int64_t focus;
} tui;

/* One row on the screen: bytes p[0..n) of a line, drawn after indent
 * blank columns. */
typedef struct row {
    const char *p;
    int n;
    int indent;
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
            t->scroll -= t->page > 2 ? t->page - 1 : 1;
            if (t->scroll < 0)
                t->scroll = 0;
            return INT32_MIN;
        case KEY_NPAGE:
            t->scroll += t->page > 2 ? t->page - 1 : 1;
            return INT32_MIN;
        case KEY_HOME:
            t->scroll = 0;
            return INT32_MIN;
        case KEY_END:
            t->scroll = ROWS_MAX; /* clamped when drawn */
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

/* Append the rows of s (n bytes, no '\n') wrapped to width, with the
 * line's hanging indent, to rows. */
static void wrap_line(const char *s, size_t n, agent_style style, int width,
                      row *rows, int *nrows, int cap)
{
    agent_wrap_row wr[256];
    int k = agent_wrap(s, n, width, agent_wrap_hang(s, n, width), wr, 256);

    for (int i = 0; i < k && i < 256 && *nrows < cap; i++)
        rows[(*nrows)++] =
            (row){s + wr[i].off, (int)wr[i].len, wr[i].indent, style};
}

/* Every line of text (split at '\n') wrapped into rows. */
static void wrap_text(const char *text, agent_style style, int width, row *rows,
                      int *nrows, int cap)
{
    for (const char *s = text;;) {
        const char *nl = strchr(s, '\n');
        size_t n = nl != NULL ? (size_t)(nl - s) : strlen(s);

        wrap_line(s, n, style, width, rows, nrows, cap);
        if (nl == NULL)
            break;
        s = nl + 1;
    }
}

/* Replace control bytes (an outside party's text could hold escape
 * sequences) with spaces, keeping line breaks. */
static void clean(char *s)
{
    for (; *s != '\0'; s++)
        if (((unsigned char)*s < 0x20 && *s != '\n') || *s == 0x7f)
            *s = ' ';
}

static void put_row(int y, const row *r, attr_t a, int width, bool fill)
{
    move(y, 0);
    clrtoeol();
    attrset(a);
    if (fill)
        mvhline(y, 0, ' ', width);
    if (r->n > 0)
        mvaddnstr(y, r->indent, r->p, r->n);
    attrset(A_NORMAL);
}

/* The terminal is smaller than the screen needs: say so instead of
 * drawing a screen that cuts keys off. The session goes on meanwhile. */
static void draw_too_small(tui *t, agent_view *v, int h, int w)
{
    char line[3][256];
    int tasks = agent_console_task_count(t->con);
    int offers = agent_console_offer_count(t->con);

    erase();
    snprintf(line[0], sizeof(line[0]),
             "The screen needs at least %d columns and %d rows; this "
             "terminal has %d columns and %d rows.",
             AGENT_TUI_MIN_COLS, AGENT_TUI_MIN_ROWS, w, h);
    snprintf(line[1], sizeof(line[1]),
             "Enlarge the window (or choose a smaller font) to go on. You "
             "stay signed in: %d task(s) in hand, %d offer(s) waiting.",
             tasks, offers);
    snprintf(line[2], sizeof(line[2]),
             "Ctrl-C quits (tasks in hand go back to the queue when the "
             "lease runs out).");
    for (int i = 0, y = 0; i < 3 && y < h; i++) {
        row rows[16];
        int n = 0;

        wrap_line(line[i], strlen(line[i]), AGENT_STYLE_TEXT, w, rows, &n, 16);
        for (int k = 0; k < n && y < h; k++, y++)
            put_row(y, &rows[k], i == 0 ? A_BOLD : A_NORMAL, w, false);
    }
    if (offers > 0 && h > 5) {
        row rows[8];
        int n = 0;

        clean(v->message);
        wrap_line(v->message, strlen(v->message), AGENT_STYLE_WARN, w, rows, &n,
                  8);
        for (int k = 0; k < n && 4 + k < h; k++)
            put_row(4 + k, &rows[k], A_BOLD, w, false);
    }
    curs_set(0);
    refresh();
}

/*
 * The screen, top to bottom: the header; the task list (fixed); the body
 * (the selected offer or task with its assist panel), scrolled, with a
 * row saying how much is above and below when it does not fit; the line
 * being edited; the message; the keys, on as many rows as they need.
 * Every line wraps at word boundaries (CJK-aware) with a hanging indent.
 */
static void draw(tui *t, agent_view *v, row *rows)
{
    row head[8], input[32], msg[16], keys[16];
    agent_wrap_row kr[16];
    int h, w, nrows = 0, nfixed = 0, nhead = 0, ninput = 0, nmsg = 0, nkeys;
    int room, fixed_shown, body, y = 0, above, below, input_y = 0;
    bool more;

    getmaxyx(stdscr, h, w);
    if (w < AGENT_TUI_MIN_COLS || h < AGENT_TUI_MIN_ROWS) {
        draw_too_small(t, v, h, w);
        return;
    }
    clean(v->header);
    clean(v->message);
    clean(v->keys);
    clean(v->input);
    wrap_line(v->header, strlen(v->header), AGENT_STYLE_TEXT, w, head, &nhead,
              HEADER_ROWS);
    for (int i = 0; i < v->n; i++) {
        clean(v->lines[i].text);
        wrap_text(v->lines[i].text, v->lines[i].style, w, rows, &nrows,
                  ROWS_MAX);
        if (i + 1 == v->nfixed)
            nfixed = nrows;
    }
    if (v->input[0] != '\0')
        wrap_line(v->input, strlen(v->input), AGENT_STYLE_TEXT, w, input,
                  &ninput, 32);
    wrap_line(v->message, strlen(v->message), v->message_style, w, msg, &nmsg,
              MESSAGE_ROWS);
    nkeys = agent_wrap_items(v->keys, " · ", w, kr, 16);
    for (int i = 0; i < nkeys && i < 16; i++)
        keys[i] = (row){v->keys + kr[i].off, (int)kr[i].len, kr[i].indent,
                        AGENT_STYLE_TEXT};
    if (nkeys > 16)
        nkeys = 16;
    if (ninput > INPUT_ROWS) { /* the end of it, where the cursor is */
        memmove(input, input + ninput - INPUT_ROWS,
                INPUT_ROWS * sizeof(input[0]));
        ninput = INPUT_ROWS;
    }
    room = h - nhead - ninput - nmsg - nkeys;
    /* The task list keeps at most half the room; what does not fit is
     * counted on its last row. */
    fixed_shown = nfixed <= room / 2 ? nfixed : room / 2;
    body = room - fixed_shown;
    more = nrows - nfixed > body;
    if (more)
        body--; /* the row that says what is above and below */
    if (body < 1)
        body = 1;
    t->page = body;
    if (v->focus != t->focus) {
        t->focus = v->focus;
        t->scroll = 0;
    }
    if (t->scroll > nrows - nfixed - body)
        t->scroll = nrows - nfixed - body > 0 ? nrows - nfixed - body : 0;

    erase();
    for (int i = 0; i < nhead; i++)
        put_row(y++, &head[i], A_REVERSE | A_BOLD, w, true);
    for (int i = 0; i < fixed_shown; i++, y++) {
        char cut[96];

        if (i + 1 == fixed_shown && fixed_shown < nfixed) {
            row r;

            snprintf(cut, sizeof(cut),
                     "   ... %d more row(s) of the list: ] "
                     "and [ go through it",
                     nfixed - fixed_shown + 1);
            r = (row){cut, (int)strlen(cut), 0, AGENT_STYLE_DIM};
            put_row(y, &r, style_attr(AGENT_STYLE_DIM), w, false);
            continue;
        }
        put_row(y, &rows[i], style_attr(rows[i].style), w, false);
    }
    for (int i = 0; i < body && nfixed + t->scroll + i < nrows; i++) {
        const row *r = &rows[nfixed + t->scroll + i];

        put_row(y + i, r, style_attr(r->style), w, false);
    }
    y += body;
    above = t->scroll;
    below = nrows - nfixed - t->scroll - body;
    if (more) {
        char ind[160];
        size_t k = 0;
        int cols;
        row r;

        /* Say that the body scrolls, and how far: "↑ 3 above · ↓ 12 more". */
        k += (size_t)snprintf(ind + k, sizeof(ind) - k, " ");
        if (above > 0)
            k +=
                (size_t)snprintf(ind + k, sizeof(ind) - k, "↑ %d above", above);
        if (above > 0 && below > 0)
            k += (size_t)snprintf(ind + k, sizeof(ind) - k, " · ");
        if (below > 0)
            k += (size_t)snprintf(ind + k, sizeof(ind) - k, "↓ %d more", below);
        snprintf(ind + k, sizeof(ind) - k, " · PgUp/PgDn scroll ");
        cols = agent_wrap_width(ind, strlen(ind));
        r = (row){ind, (int)strlen(ind), w - cols > 0 ? w - cols : 0,
                  AGENT_STYLE_DIM};
        put_row(y++, &r, A_REVERSE, w, false);
    }
    input_y = y + ninput - 1;
    for (int i = 0; i < ninput; i++)
        put_row(y++, &input[i], A_BOLD, w, false);
    for (int i = 0; i < nmsg; i++)
        put_row(y++, &msg[i], style_attr(v->message_style), w, false);
    y = h - nkeys;
    for (int i = 0; i < nkeys; i++)
        put_row(y++, &keys[i], A_REVERSE, w, true);
    if (ninput > 0) {
        const row *last = &input[ninput - 1];

        move(input_y,
             last->indent + agent_wrap_width(last->p, (size_t)last->n));
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
            /* Esc ends an edit or the quit question; q asks when tasks are
             * in hand, and q answers it. */
            pthread_mutex_lock(&t->mu);
            agent_console_key(t->con, AGENT_KEY_ESC, now());
            agent_console_key(t->con, 'q', now());
            agent_console_key(t->con, 'q', now());
            pthread_mutex_unlock(&t->mu);
            continue;
        }
        if (rc == ERR || (rc == KEY_CODE_YES && ch == KEY_RESIZE))
            continue;
        /* Keys typed blind, on a screen too small to show them, do
         * nothing. */
        if (COLS < AGENT_TUI_MIN_COLS || LINES < AGENT_TUI_MIN_ROWS)
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

/* This run's session: a random id, the host and the process, so that a
 * second sign-in elsewhere can be told where this one runs. */
static void make_signin(agent_signin *si)
{
    unsigned char raw[8] = {0};
    char host[256] = "";
    size_t n = 0;

    memset(si, 0, sizeof(*si));
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        uint64_t x = (uint64_t)clock_wall_us() ^ ((uint64_t)getpid() << 32);

        memcpy(raw, &x, sizeof(raw));
    }
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(si->id + 2 * i, 3, "%02x", raw[i]);
    if (gethostname(host, sizeof(host) - 1) != 0)
        host[0] = '\0';
    for (size_t i = 0; host[i] != '\0' && n < AGENT_HOST_MAX; i++)
        si->host[n++] =
            (unsigned char)host[i] > 0x20 && (unsigned char)host[i] < 0x7F
                ? host[i]
                : '-';
    si->host[n] = '\0';
    if (n == 0)
        snprintf(si->host, sizeof(si->host), "unknown-host");
    si->pid = (int64_t)getpid();
}

/* Whether the terminal is large enough; otherwise say so on stderr. */
static bool size_ok(void)
{
    struct winsize ws;

    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0)
        return true; /* unknown: curses will find out */
    if (ws.ws_col >= AGENT_TUI_MIN_COLS && ws.ws_row >= AGENT_TUI_MIN_ROWS)
        return true;
    fprintf(stderr,
            "twinline-agent: this terminal has %d columns and %d rows; the "
            "screen needs at least %d columns and %d rows. Enlarge the window "
            "(or choose a smaller font) and start again.\n",
            ws.ws_col, ws.ws_row, AGENT_TUI_MIN_COLS, AGENT_TUI_MIN_ROWS);
    return false;
}

int agent_tui_run(const agent_tui_options *o, const sigset_t *sigs)
{
    assist_kb *kbs[AGENT_CONSOLE_KBS_MAX] = {0};
    agent_console_opts co;
    agent_signin si;
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
    if (!size_ok())
        goto out;
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
    make_signin(&si);
    co.signin = &si;
    co.takeover = o->takeover;
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
    log_info(MOD, "worker %s: interactive agent on %s prefix %s, session %s",
             t.worker, o->cfg.nats, t.prefix, si.id);
    pthread_mutex_lock(&t.mu);
    agent_console_start(t.con, now());
    send_requests(&t);
    pthread_mutex_unlock(&t.mu);
    screen_start();
    screen = true;
    run_loop(&t, sigs);
    rc = agent_console_signed_out(t.con) != NULL ? 1 : 0;
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
    if (t.con != NULL && agent_console_signed_out(t.con) != NULL)
        fprintf(stderr, "twinline-agent: signed out: %s\n",
                agent_console_signed_out(t.con));
    agent_console_destroy(t.con);
    agent_model_destroy(t.model);
    free(t.result);
    for (int i = 0; i < AGENT_CONSOLE_KBS_MAX; i++)
        assist_kb_destroy(kbs[i]);
    pthread_mutex_destroy(&t.mu);
    return rc;
}
