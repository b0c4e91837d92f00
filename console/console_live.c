#include "console_live.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "console_int.h"
#include "console_sql.h"
#include "log.h"
#include "sbuf.h"

#define ALERTS_KEPT 32
#define PING_US     (15 * 1000000LL)

struct console_live {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    int queues_ms;
    uint64_t stats_seq;
    char *stats; /* the latest figures, JSON text */
    uint64_t alert_seq;
    char *alerts[ALERTS_KEPT]; /* ring of the latest alerts */
    char alert_op[ALERTS_KEPT][ID_MAX + 1];
};

static void on_stats(void *ctx, bus_msg *m)
{
    console_live *l = ctx;
    char *text = strndup(bus_msg_data(m), bus_msg_len(m));

    bus_msg_free(m);
    if (text == NULL)
        return;
    pthread_mutex_lock(&l->mu);
    free(l->stats);
    l->stats = text;
    l->stats_seq++;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

static void on_alert(void *ctx, bus_msg *m)
{
    console_live *l = ctx;
    const char *dot = strrchr(bus_msg_subject(m), '.');
    char op[ID_MAX + 1];
    char *text = strndup(bus_msg_data(m), bus_msg_len(m));
    int slot;

    snprintf(op, sizeof(op), "%s", dot != NULL ? dot + 1 : "");
    bus_msg_free(m);
    if (text == NULL || op[0] == '\0') {
        free(text);
        return;
    }
    pthread_mutex_lock(&l->mu);
    slot = (int)(l->alert_seq % ALERTS_KEPT);
    free(l->alerts[slot]);
    l->alerts[slot] = text;
    snprintf(l->alert_op[slot], sizeof(l->alert_op[slot]), "%s", op);
    l->alert_seq++;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

status console_live_create(console_live **out, bus *b, const char *prefix,
                           int queues_ms, err *e)
{
    console_live *l = calloc(1, sizeof(*l));
    char subject[128];
    status st;

    if (l == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->queues_ms = queues_ms;
    snprintf(subject, sizeof(subject), "%s.stats.dispatcher", prefix);
    st = bus_subscribe(b, subject, NULL, on_stats, l, e);
    if (st == ST_OK) {
        snprintf(subject, sizeof(subject), "%s.alerts.*", prefix);
        st = bus_subscribe(b, subject, NULL, on_alert, l, e);
    }
    if (st != ST_OK) {
        /* The subscriptions live until the bus closes; the hub must too,
         * so it is handed out all the same and freed after bus_close. */
        *out = l;
        return st;
    }
    *out = l;
    return ST_OK;
}

void console_live_stop(console_live *l)
{
    if (l == NULL)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

void console_live_destroy(console_live *l)
{
    if (l == NULL)
        return;
    free(l->stats);
    for (int i = 0; i < ALERTS_KEPT; i++)
        free(l->alerts[i]);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

/* One stream. */
typedef struct live_client {
    console *c;
    console_live *l;
    char op[ID_MAX + 1];
    json_t *pools;  /* the operator's pool ids (object used as a set) */
    json_t *served; /* "tenant/case_type" keys it serves */
    uint64_t stats_seen;
    uint64_t alerts_seen;
    int64_t queues_at;
    int64_t ping_at;
    sbuf out;
    size_t off;
} live_client;

static void client_free(void *ctx)
{
    live_client *cl = ctx;

    json_decref(cl->pools);
    json_decref(cl->served);
    sbuf_free(&cl->out);
    free(cl);
}

static void add_event(live_client *cl, const char *name, const char *data)
{
    /* data is compact JSON: it holds no newline, so one data line. */
    sbuf_printf(&cl->out, "event: %s\ndata: %s\n\n", name, data);
}

/* The operator's part of the dispatcher's figures. */
static char *filter_stats(live_client *cl, const char *text)
{
    json_t *j = NULL, *keep_w = json_array(), *keep_q = json_array();
    json_t *v;
    size_t i;
    err e = {0};
    char *out = NULL;

    if (jsonx_parse(text, strlen(text), 4 << 20, &j, &e) != ST_OK)
        goto done;
    json_array_foreach(json_object_get(j, "workers"), i, v)
    {
        const char *pool = json_string_value(json_object_get(v, "pool"));

        if (pool != NULL && json_object_get(cl->pools, pool) != NULL)
            json_array_append(keep_w, v);
    }
    json_array_foreach(json_object_get(j, "queues"), i, v)
    {
        char key[2 * ID_MAX + 2];
        const char *t = json_string_value(json_object_get(v, "tenant"));
        const char *ct = json_string_value(json_object_get(v, "case_type"));

        if (t == NULL || ct == NULL)
            continue;
        snprintf(key, sizeof(key), "%s/%s", t, ct);
        if (json_object_get(cl->served, key) != NULL)
            json_array_append(keep_q, v);
    }
    {
        json_t *o = json_pack("{s:s,s:I,s:O,s:O}", "type", "stats", "at_ms",
                              (json_int_t)(clock_wall_us() / 1000), "workers",
                              keep_w, "queues", keep_q);

        out = jsonx_dump(o);
        json_decref(o);
    }
done:
    json_decref(j);
    json_decref(keep_w);
    json_decref(keep_q);
    return out;
}

static void add_queues(live_client *cl)
{
    const char *params[] = {cl->op};
    db *d = NULL;
    db_res *r = NULL;
    err e = {0};
    status st;

    if (console_dbpool_get(cl->c->pool, 2000, &d, &e) != ST_OK)
        return;
    st = db_run(d, &console_sql_ops_queues, params, &r, &e);
    console_dbpool_put(cl->c->pool, d, st == ST_UNAVAILABLE);
    if (st == ST_OK && db_rows(r) == 1) {
        sbuf_printf(&cl->out,
                    "event: queues\ndata: {\"type\":\"queues\",\"at_ms\":%lld,"
                    "\"queues\":%s}\n\n",
                    (long long)(clock_wall_us() / 1000),
                    db_val(r, 0, CONSOLE_OPS_QUEUES_DOC));
    } else if (st != ST_OK) {
        log_warn("console", "live queues: %s", e.msg);
    }
    db_res_free(r);
}

static ssize_t client_read(void *ctx, char *buf, size_t max)
{
    live_client *cl = ctx;
    console_live *l = cl->l;

    for (;;) {
        int64_t now;
        char *stats = NULL;
        char *alerts[ALERTS_KEPT];
        int nalerts = 0;
        bool stop;

        if (cl->off < cl->out.len) {
            size_t n = cl->out.len - cl->off;

            if (n > max)
                n = max;
            memcpy(buf, cl->out.data + cl->off, n);
            cl->off += n;
            return (ssize_t)n;
        }
        sbuf_reset(&cl->out);
        cl->off = 0;
        pthread_mutex_lock(&l->mu);
        if (!l->stop && l->stats_seq == cl->stats_seen &&
            l->alert_seq == cl->alerts_seen) {
            struct timespec until;

            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1;
            pthread_cond_timedwait(&l->cv, &l->mu, &until);
        }
        stop = l->stop;
        if (l->stats_seq != cl->stats_seen && l->stats != NULL) {
            stats = strdup(l->stats);
            cl->stats_seen = l->stats_seq;
        }
        if (l->alert_seq - cl->alerts_seen > ALERTS_KEPT)
            cl->alerts_seen = l->alert_seq - ALERTS_KEPT;
        for (; cl->alerts_seen < l->alert_seq; cl->alerts_seen++) {
            int slot = (int)(cl->alerts_seen % ALERTS_KEPT);

            if (strcmp(l->alert_op[slot], cl->op) == 0 &&
                l->alerts[slot] != NULL)
                alerts[nalerts++] = strdup(l->alerts[slot]);
        }
        pthread_mutex_unlock(&l->mu);
        if (stop) {
            free(stats);
            for (int i = 0; i < nalerts; i++)
                free(alerts[i]);
            return CONSOLE_HTTP_STREAM_END;
        }
        if (stats != NULL) {
            char *mine = filter_stats(cl, stats);

            if (mine != NULL)
                add_event(cl, "stats", mine);
            free(mine);
            free(stats);
        }
        for (int i = 0; i < nalerts; i++) {
            if (alerts[i] != NULL)
                add_event(cl, "alert", alerts[i]);
            free(alerts[i]);
        }
        now = clock_mono_us();
        if (now - cl->queues_at >= (int64_t)l->queues_ms * 1000) {
            add_queues(cl);
            cl->queues_at = now;
        }
        if (cl->out.len == 0 && now - cl->ping_at >= PING_US) {
            sbuf_printf(&cl->out, ": ping\n\n");
            cl->ping_at = now;
        }
        if (cl->out.failed)
            return CONSOLE_HTTP_STREAM_END;
        if (cl->out.len > 0)
            cl->ping_at = now;
    }
}

/* The operator's pools and served (tenant, case type) pairs, read once
 * when the stream opens. */
static bool client_scope(live_client *cl, console_http_reply *rep)
{
    static const db_stmt *const st[2] = {&console_sql_live_pools,
                                         &console_sql_live_served};
    const char *params[] = {cl->op};
    db *d = NULL;
    err e = {0};

    if (console_dbpool_get(cl->c->pool, 5000, &d, &e) != ST_OK) {
        api_reply_error(rep, ST_UNAVAILABLE, e.msg);
        return false;
    }
    cl->pools = json_object();
    cl->served = json_object();
    for (int k = 0; k < 2; k++) {
        db_res *r = NULL;
        status s = db_run(d, st[k], params, &r, &e);

        if (s != ST_OK) {
            console_dbpool_put(cl->c->pool, d, s == ST_UNAVAILABLE);
            api_reply_error(rep, s, e.msg);
            return false;
        }
        for (int i = 0; i < db_rows(r); i++)
            json_object_set_new(k == 0 ? cl->pools : cl->served,
                                db_val(r, i,
                                       k == 0 ? CONSOLE_LIVE_POOLS_ID
                                              : CONSOLE_LIVE_SERVED_SERVED),
                                json_true());
        db_res_free(r);
    }
    console_dbpool_put(cl->c->pool, d, false);
    return true;
}

void ops_stream(const api_req *a, console_http_reply *rep)
{
    static const char *const none[] = {NULL};
    live_client *cl;

    if (!api_query_allowed(a, none, rep))
        return;
    cl = calloc(1, sizeof(*cl));
    if (cl == NULL) {
        api_reply_error(rep, ST_NOMEM, "out of memory");
        return;
    }
    cl->c = a->c;
    cl->l = a->c->live;
    snprintf(cl->op, sizeof(cl->op), "%s", a->who.owner);
    if (!client_scope(cl, rep)) {
        client_free(cl);
        return;
    }
    pthread_mutex_lock(&cl->l->mu);
    /* The latest figures go out at once; alerts from now on. */
    cl->stats_seen = cl->l->stats_seq > 0 ? cl->l->stats_seq - 1 : 0;
    cl->alerts_seen = cl->l->alert_seq;
    pthread_mutex_unlock(&cl->l->mu);
    cl->queues_at = -((int64_t)cl->l->queues_ms * 1000) - 1;
    sbuf_printf(&cl->out, "retry: 3000\n\n");
    rep->status = 200;
    rep->content_type = "text/event-stream";
    rep->cache = "no-store";
    rep->stream = client_read;
    rep->stream_ctx = cl;
    rep->stream_free = client_free;
}
