#include "violations.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "db.h"
#include "dsp_sql.h"
#include "log.h"
#include "natslog.h"
#include "sbuf.h"

#define MOD       "dispatcher"
#define POLL_MS   200
#define BATCH_MAX 512  /* refusals recorded per statement */
#define KEEP_MAX  4096 /* refusals kept while the database is away */

struct dsp_violations {
    char *conninfo;
    char *path;
    pthread_t thread;
    atomic_bool stop;
    atomic_llong violations;
    atomic_llong refused;

    /* The followed file (thread only). */
    int fd;
    ino_t ino;
    off_t offset;
    char line[NATSLOG_LINE_MAX + 1];
    size_t used;
    bool skipping; /* inside a line longer than NATSLOG_LINE_MAX */

    natslog_event *pending; /* read, not yet recorded */
    int npending;
    int64_t dropped;
    db *db;
};

/* What a client wrote reaches our log and the database only as printable
 * ASCII. */
static void printable(char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            *s = '?';
}

static void take_line(dsp_violations *v, const char *line, size_t len)
{
    natslog_event ev;

    if (!natslog_parse(line, len, &ev))
        return;
    if (v->npending == KEEP_MAX) {
        /* The database has been away for long: keep the newest. */
        memmove(v->pending, v->pending + 1,
                sizeof(*v->pending) * (KEEP_MAX - 1));
        v->npending--;
        v->dropped++;
    }
    printable(ev.subject);
    printable(ev.client);
    v->pending[v->npending++] = ev;
}

/* Split what was read into lines; a partial last line waits for more. */
static void take_bytes(dsp_violations *v, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            if (!v->skipping)
                take_line(v, v->line, v->used);
            v->used = 0;
            v->skipping = false;
        } else if (v->skipping) {
            continue;
        } else if (v->used == NATSLOG_LINE_MAX) {
            v->skipping = true; /* not a line the server writes */
        } else {
            v->line[v->used++] = buf[i];
        }
    }
}

static void close_file(dsp_violations *v)
{
    if (v->fd >= 0)
        close(v->fd);
    v->fd = -1;
    v->used = 0;
    v->skipping = false;
}

/* Open the file; at_end skips what it holds (what was there before the
 * dispatcher started). */
static void open_file(dsp_violations *v, bool at_end)
{
    struct stat sb;

    v->fd = open(v->path, O_RDONLY | O_CLOEXEC);
    if (v->fd < 0)
        return;
    if (fstat(v->fd, &sb) != 0) {
        close_file(v);
        return;
    }
    v->ino = sb.st_ino;
    v->offset = at_end ? sb.st_size : 0;
    if (lseek(v->fd, v->offset, SEEK_SET) < 0)
        close_file(v);
}

/* Read what the server added; follow a rotation (another file at the path)
 * or a truncation from the new start. */
static void poll_file(dsp_violations *v)
{
    char buf[16384];
    struct stat sb;
    ssize_t n;

    if (v->fd < 0) {
        open_file(v, false);
        if (v->fd < 0)
            return;
    }
    while ((n = read(v->fd, buf, sizeof(buf))) > 0) {
        take_bytes(v, buf, (size_t)n);
        v->offset += n;
    }
    if (stat(v->path, &sb) != 0 || sb.st_ino != v->ino ||
        sb.st_size < v->offset) {
        close_file(v);
        open_file(v, false);
    }
}

static void log_one(const db_res *r, int i)
{
    const char *kind = db_val(r, i, DSP_VIOLATIONS_INSERT_KIND);
    const char *key = db_val(r, i, DSP_VIOLATIONS_INSERT_PUBLIC_KEY);
    const char *client = db_val(r, i, DSP_VIOLATIONS_INSERT_CLIENT);
    char who[200];

    if (db_null(r, i, DSP_VIOLATIONS_INSERT_IDENTITY) && key[0] != '\0')
        snprintf(who, sizeof(who), "the unknown key %s", key);
    else if (db_null(r, i, DSP_VIOLATIONS_INSERT_IDENTITY))
        snprintf(who, sizeof(who), "a client without a key");
    else
        snprintf(
            who, sizeof(who), "identity %s (%s %s%s)",
            db_val(r, i, DSP_VIOLATIONS_INSERT_IDENTITY),
            db_val(r, i, DSP_VIOLATIONS_INSERT_ROLE),
            db_null(r, i, DSP_VIOLATIONS_INSERT_PARTY)
                ? "-"
                : db_val(r, i, DSP_VIOLATIONS_INSERT_PARTY),
            strcmp(db_val(r, i, DSP_VIOLATIONS_INSERT_STATUS), "revoked") == 0
                ? ", revoked"
                : "");
    if (strcmp(kind, "auth") == 0) {
        log_warn(MOD, "NATS refused a connection of %s, connection \"%s\"", who,
                 client);
        return;
    }
    log_warn(MOD,
             "permission violation by %s: %s to \"%s\" refused by NATS, "
             "connection \"%s\"",
             who, kind, db_val(r, i, DSP_VIOLATIONS_INSERT_SUBJECT), client);
}

/* Record up to BATCH_MAX pending refusals in one statement. */
static status record(dsp_violations *v, err *e)
{
    sbuf kinds = {0}, keys = {0}, subjects = {0}, clients = {0};
    int n = v->npending < BATCH_MAX ? v->npending : BATCH_MAX;
    db_res *r = NULL;
    status s;

    for (int i = 0; i < n; i++) {
        const natslog_event *ev = &v->pending[i];
        const char *sep = i > 0 ? "," : "{";

        sbuf_append(&kinds, sep, 1);
        sbuf_pg_elem(&kinds, natslog_kind_name(ev->kind));
        sbuf_append(&keys, sep, 1);
        sbuf_pg_elem(&keys, ev->public_key);
        sbuf_append(&subjects, sep, 1);
        sbuf_pg_elem(&subjects, ev->subject);
        sbuf_append(&clients, sep, 1);
        sbuf_pg_elem(&clients, ev->client);
    }
    sbuf_append(&kinds, "}", 1);
    sbuf_append(&keys, "}", 1);
    sbuf_append(&subjects, "}", 1);
    sbuf_append(&clients, "}", 1);
    if (kinds.failed || keys.failed || subjects.failed || clients.failed) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    {
        const char *params[4] = {sbuf_str(&kinds), sbuf_str(&keys),
                                 sbuf_str(&subjects), sbuf_str(&clients)};
        s = db_run(v->db, &dsp_sql_violations_insert, params, &r, e);
    }
    if (s != ST_OK)
        goto out;
    for (int i = 0; i < db_rows(r); i++) {
        log_one(r, i);
        if (strcmp(db_val(r, i, DSP_VIOLATIONS_INSERT_KIND), "auth") == 0)
            atomic_fetch_add(&v->refused, 1);
        else
            atomic_fetch_add(&v->violations, 1);
    }
    v->npending -= n;
    memmove(v->pending, v->pending + n, sizeof(*v->pending) * v->npending);
out:
    db_res_free(r);
    sbuf_free(&kinds);
    sbuf_free(&keys);
    sbuf_free(&subjects);
    sbuf_free(&clients);
    return s;
}

static void *follow(void *arg)
{
    dsp_violations *v = arg;
    bool waiting_logged = false;
    err e = {0};

    while (!atomic_load(&v->stop)) {
        poll_file(v);
        if (v->fd < 0 && !waiting_logged) {
            log_warn(MOD, "waiting for nats-server's log %s (--nats-log)",
                     v->path);
            waiting_logged = true;
        }
        if (v->dropped > 0) {
            log_warn(MOD,
                     "%lld permission violations were not recorded: the "
                     "database was out of reach",
                     (long long)v->dropped);
            v->dropped = 0;
        }
        while (v->npending > 0 && !atomic_load(&v->stop)) {
            if (v->db == NULL && db_connect(&v->db, v->conninfo, &e) != ST_OK)
                break;
            if (record(v, &e) != ST_OK) {
                log_warn(MOD, "recording permission violations: %s", e.msg);
                db_close(v->db);
                v->db = NULL;
                break;
            }
        }
        clock_sleep_ms(POLL_MS);
    }
    close_file(v);
    db_close(v->db);
    v->db = NULL;
    return NULL;
}

status dsp_violations_start(dsp_violations **out, const char *conninfo,
                            const char *path, err *e)
{
    dsp_violations *v = calloc(1, sizeof(*v));

    if (v == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    v->fd = -1;
    v->conninfo = strdup(conninfo);
    v->path = strdup(path);
    v->pending = calloc(KEEP_MAX, sizeof(*v->pending));
    atomic_init(&v->stop, false);
    atomic_init(&v->violations, 0);
    atomic_init(&v->refused, 0);
    if (v->conninfo == NULL || v->path == NULL || v->pending == NULL) {
        free(v->conninfo);
        free(v->path);
        free(v->pending);
        free(v);
        return err_set(e, ST_NOMEM, "out of memory");
    }
    /* Opened here, so whatever the server logs once the dispatcher serves
     * is read. */
    open_file(v, true);
    if (pthread_create(&v->thread, NULL, follow, v) != 0) {
        close_file(v);
        free(v->conninfo);
        free(v->path);
        free(v->pending);
        free(v);
        return err_set(e, ST_INTERNAL,
                       "cannot start the thread that follows %s", path);
    }
    log_info(MOD, "following nats-server's log %s for permission violations",
             path);
    *out = v;
    return ST_OK;
}

void dsp_violations_counts(dsp_violations *v, int64_t *violations,
                           int64_t *refused)
{
    *violations = v != NULL ? (int64_t)atomic_load(&v->violations) : 0;
    *refused = v != NULL ? (int64_t)atomic_load(&v->refused) : 0;
}

void dsp_violations_stop(dsp_violations *v)
{
    if (v == NULL)
        return;
    atomic_store(&v->stop, true);
    pthread_join(v->thread, NULL);
    free(v->pending);
    free(v->conninfo);
    free(v->path);
    free(v);
}
