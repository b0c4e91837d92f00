#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "dispatcher_int.h"
#include "jsonx.h"
#include "log.h"
#include "stats.h"

/* The tables the dispatcher writes as work flows. */
#define DSP_TABLES                                                             \
    "cases, tasks, reservations, outcomes, outbox, routing_decisions,"         \
    " case_disputes, assist_feedback"

#define MOD "dispatcher"

void dispatcher_opts_default(dispatcher_opts *o)
{
    o->lease_ms = 10000;
    o->offer_timeout_ms = 15000;
    o->batch_max = 256;
    o->tick_ms = 100;
    o->stream_max_bytes = 1024LL * 1024 * 1024;
    o->stats_ms = 5000;
    o->no_affinity = false;
    o->no_assist = false;
    o->batch_match_min = 0;
}

bool dsp_infra_failure(status s)
{
    return s == ST_DB || s == ST_UNAVAILABLE || s == ST_NOMEM ||
           s == ST_INTERNAL || s == ST_BUS || s == ST_CONFLICT || s == ST_IO ||
           s == ST_TIMEOUT || s == ST_CONFIG;
}

void dsp_subject(const dispatcher *d, char *buf, size_t cap, const char *fmt,
                 ...)
{
    va_list ap;
    int n = snprintf(buf, cap, "%s.", d->cfg.prefix);

    if (n < 0 || (size_t)n >= cap)
        return;
    va_start(ap, fmt);
    vsnprintf(buf + n, cap - (size_t)n, fmt, ap);
    va_end(ap);
}

status dsp_send(dispatcher *d, const char *subject, char *body, err *e)
{
    outmsg *m;

    if (body == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    if (d->nout == d->cap_out) {
        int ncap = d->cap_out > 0 ? d->cap_out * 2 : 256;
        outmsg *n = realloc(d->out, sizeof(outmsg) * (size_t)ncap);
        if (n == NULL) {
            free(body);
            return err_set(e, ST_NOMEM, "out of memory");
        }
        d->out = n;
        d->cap_out = ncap;
    }
    m = &d->out[d->nout];
    m->subject = strdup(subject);
    if (m->subject == NULL) {
        free(body);
        return err_set(e, ST_NOMEM, "out of memory");
    }
    m->body = body;
    m->len = strlen(body);
    d->nout++;
    return ST_OK;
}

status dsp_reply(dispatcher *d, const bus_msg *m, char *body, err *e)
{
    const char *reply = bus_msg_reply(m);

    if (reply == NULL) {
        free(body);
        return ST_OK;
    }
    return dsp_send(d, reply, body, e);
}

static void discard_out(dispatcher *d)
{
    for (int i = 0; i < d->nout; i++) {
        free(d->out[i].subject);
        free(d->out[i].body);
    }
    d->nout = 0;
}

static void flush_out(dispatcher *d)
{
    err e = {0};

    for (int i = 0; i < d->nout; i++)
        if (bus_publish(d->bus, d->out[i].subject, d->out[i].body,
                        d->out[i].len, &e) != ST_OK)
            log_warn(MOD, "publish to %s failed: %s", d->out[i].subject, e.msg);
    discard_out(d);
}

/* Reply with an error immediately (nothing to commit for it). */
static void reply_error(dispatcher *d, const bus_msg *m, status s,
                        const char *msg)
{
    char *body = jsonx_error_reply(s, msg);
    err e = {0};

    if (bus_msg_reply(m) != NULL)
        bus_publish(d->bus, bus_msg_reply(m), body, strlen(body), &e);
    free(body);
}

static void on_message(void *ctx, bus_msg *m)
{
    dispatcher *d = ctx;

    pthread_mutex_lock(&d->qlock);
    if (d->qlen == d->qcap) {
        int ncap = d->qcap > 0 ? d->qcap * 2 : 1024;
        bus_msg **nq = malloc(sizeof(bus_msg *) * (size_t)ncap);
        if (nq == NULL) {
            pthread_mutex_unlock(&d->qlock);
            log_error(MOD, "queue full and out of memory; dropping message");
            bus_msg_free(m);
            return;
        }
        for (int i = 0; i < d->qlen; i++)
            nq[i] = d->queue[(d->qhead + i) % d->qcap];
        free(d->queue);
        d->queue = nq;
        d->qcap = ncap;
        d->qhead = 0;
    }
    d->queue[(d->qhead + d->qlen) % d->qcap] = m;
    d->qlen++;
    pthread_cond_signal(&d->qcond);
    pthread_mutex_unlock(&d->qlock);
}

/* Split "<prefix>.<kind>.<party>.<a>[.<b>]" into its tokens. */
typedef struct route_key {
    char kind[16];
    char party[ID_MAX + 1];
    char verb[32];
} route_key;

static bool parse_subject(const dispatcher *d, const char *subj, route_key *k)
{
    size_t plen = strlen(d->cfg.prefix);
    const char *p, *dot;
    size_t n;

    if (strncmp(subj, d->cfg.prefix, plen) != 0 || subj[plen] != '.')
        return false;
    p = subj + plen + 1;
    dot = strchr(p, '.');
    if (dot == NULL || (size_t)(dot - p) >= sizeof(k->kind))
        return false;
    memcpy(k->kind, p, (size_t)(dot - p));
    k->kind[dot - p] = '\0';
    p = dot + 1;
    dot = strchr(p, '.');
    if (dot == NULL || (size_t)(dot - p) > ID_MAX)
        return false;
    memcpy(k->party, p, (size_t)(dot - p));
    k->party[dot - p] = '\0';
    n = strlen(dot + 1);
    if (n >= sizeof(k->verb))
        return false;
    memcpy(k->verb, dot + 1, n + 1);
    return ids_token_valid(k->party);
}

/* Handle one request inside the batch's transaction. */
static status handle(dispatcher *d, const bus_msg *m, err *e)
{
    route_key k;
    const char *subj = bus_msg_subject(m);

    if (!parse_subject(d, subj, &k))
        return err_set(e, ST_NOT_FOUND, "no such subject %s", subj);
    if (strcmp(k.kind, "api") == 0) {
        if (strcmp(k.verb, "case.submit") == 0)
            return dsp_case_submit(d, k.party, m, e);
        if (strcmp(k.verb, "case.get") == 0)
            return dsp_case_get(d, k.party, m, e);
        if (strcmp(k.verb, "case.reopen") == 0 ||
            strcmp(k.verb, "case.complaint") == 0)
            return (k.verb[5] == 'r' ? dsp_case_reopen
                                     : dsp_case_complaint)(d, k.party, m, e);
    } else if (strcmp(k.kind, "ops") == 0) {
        if (strcmp(k.party, "task") == 0 && strcmp(k.verb, "priority") == 0)
            return dsp_ops_priority(d, m, e);
    } else if (strcmp(k.kind, "agent") == 0) {
        if (strcmp(k.verb, "heartbeat") == 0)
            return dsp_heartbeat(d, k.party, m, e);
        if (strcmp(k.verb, "presence") == 0)
            return dsp_presence(d, k.party, m, e);
        if (strcmp(k.verb, "accept") == 0)
            return dsp_accept(d, k.party, m, e);
        if (strcmp(k.verb, "reject") == 0)
            return dsp_reject(d, k.party, m, e);
        if (strcmp(k.verb, "complete") == 0)
            return dsp_complete(d, k.party, m, e);
        if (strcmp(k.verb, "feedback") == 0)
            return dsp_feedback(d, k.party, m, e);
    }
    return err_set(e, ST_NOT_FOUND, "no such operation %s", subj);
}

static status recover(dispatcher *d, err *e)
{
    status s;

    db_rollback(d->db);
    if (!bus_connected(d->bus))
        log_warn(MOD, "NATS is not connected");
    s = dsp_rebuild(d, e);
    if (s == ST_UNAVAILABLE) {
        err e2 = {0};
        if (db_reconnect(d->db, &e2) == ST_OK)
            s = dsp_rebuild(d, e);
    }
    d->need_rebuild = s != ST_OK;
    return s;
}

/*
 * One transaction: every message of the batch, then (when due) offer
 * timeouts and leases, then routing. On an infrastructure failure the batch
 * is rolled back, routing state is rebuilt from the database and each
 * message is retried alone, so one poisonous request fails only itself.
 */
static void run_batch(dispatcher *d, bus_msg **msgs, int n, bool tick)
{
    bus_msg **acc_msgs = d->acc_msgs, **comp_msgs = d->comp_msgs;
    char(*acc_workers)[ID_MAX + 1] = d->acc_workers;
    char(*comp_workers)[ID_MAX + 1] = d->comp_workers;
    int nacc = 0, ncomp = 0;
    err e = {0};
    status s;
    int i;

    d->events_written = false;
    d->nheartbeats = 0;
    s = db_begin(d->db, &e);
    for (i = 0; s == ST_OK && i < n; i++) {
        err re = {0};
        status rs;
        route_key k;

        /* Accepts and completes are written together below. */
        if (parse_subject(d, bus_msg_subject(msgs[i]), &k) &&
            strcmp(k.kind, "agent") == 0 &&
            (strcmp(k.verb, "accept") == 0 ||
             strcmp(k.verb, "complete") == 0)) {
            bool acc = k.verb[0] == 'a';
            int at = acc ? nacc++ : ncomp++;
            (acc ? acc_msgs : comp_msgs)[at] = msgs[i];
            snprintf((acc ? acc_workers : comp_workers)[at], ID_MAX + 1, "%s",
                     k.party);
            continue;
        }
        rs = handle(d, msgs[i], &re);
        if (rs == ST_OK)
            continue;
        if (dsp_infra_failure(rs)) {
            s = rs;
            e = re;
            break;
        }
        /* A bad request changed nothing; its error reply goes out with
         * the batch, so a rolled-back batch never answers twice. */
        if (bus_msg_reply(msgs[i]) != NULL)
            s = dsp_send(d, bus_msg_reply(msgs[i]),
                         jsonx_error_reply(rs, re.msg), &e);
    }
    if (s == ST_OK && nacc > 0)
        s = dsp_accept_batch(d, (const bus_msg *const *)acc_msgs,
                             (const char(*)[ID_MAX + 1]) acc_workers, nacc, &e);
    if (s == ST_OK && ncomp > 0)
        s = dsp_complete_batch(d, (const bus_msg *const *)comp_msgs,
                               (const char(*)[ID_MAX + 1]) comp_workers, ncomp,
                               &e);
    if (s == ST_OK)
        s = dsp_heartbeats_flush(d, &e);
    if (s == ST_OK && tick) {
        s = dsp_expire_offers(d, &e);
        if (s == ST_OK)
            s = dsp_expire_leases(d, &e);
        if (s == ST_OK)
            s = dsp_wrap_end(d, &e);
        if (s == ST_OK)
            s = dsp_expire_tasks(d, &e);
    }
    if (s == ST_OK)
        s = dsp_route_and_offer(d, &e);
    if (s == ST_OK)
        s = db_commit(d->db, &e);
    if (s == ST_OK) {
        flush_out(d);
        if (d->events_written)
            dsp_outbox_kick(d);
        d->stat_batches++;
        return;
    }

    log_warn(MOD, "batch of %d rolled back: %s", n, e.msg);
    discard_out(d);
    if (recover(d, &e) != ST_OK) {
        for (i = 0; i < n; i++)
            reply_error(d, msgs[i], ST_UNAVAILABLE,
                        "the dispatcher cannot reach its database; retry "
                        "later");
        return;
    }
    if (n == 1) {
        reply_error(d, msgs[0], s, e.msg);
        return;
    }
    for (i = 0; i < n; i++)
        run_batch(d, &msgs[i], 1, false);
}

/* The live figures (stats.h) on <prefix>.stats.dispatcher, outside any
 * batch: a failure only costs one publication. */
static void publish_stats(dispatcher *d)
{
    char subj[160];
    char *body = NULL;
    stats *st = NULL;
    err e = {0};

    if (d->need_rebuild)
        return;
    if (stats_collect(d->db, &st, &e) == ST_OK)
        body = stats_json(st);
    stats_destroy(st);
    if (body == NULL) {
        log_warn(MOD, "live figures: %s", e.msg[0] ? e.msg : "out of memory");
        return;
    }
    dsp_subject(d, subj, sizeof(subj), "stats.dispatcher");
    if (bus_publish(d->bus, subj, body, strlen(body), &e) != ST_OK)
        log_warn(MOD, "publish to %s failed: %s", subj, e.msg);
    free(body);
}

static int take_batch(dispatcher *d, bus_msg **msgs, int max, int wait_ms)
{
    int n = 0;

    pthread_mutex_lock(&d->qlock);
    if (d->qlen == 0 && wait_ms > 0 && !atomic_load(&d->stopping)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)wait_ms * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&d->qcond, &d->qlock, &ts);
    }
    while (n < max && d->qlen > 0) {
        msgs[n++] = d->queue[d->qhead];
        d->qhead = (d->qhead + 1) % d->qcap;
        d->qlen--;
    }
    pthread_mutex_unlock(&d->qlock);
    return n;
}

status dispatcher_run(dispatcher *d, err *e)
{
    bus_msg **msgs = calloc((size_t)d->opts.batch_max, sizeof(bus_msg *));
    int64_t last_report = clock_mono_us();

    if (msgs == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    log_info(MOD, "serving %s.api.*.case.* and %s.agent.*.*", d->cfg.prefix,
             d->cfg.prefix);
    while (!atomic_load(&d->stopping)) {
        int64_t now = clock_mono_us();
        int wait_ms = (int)((d->next_tick_us - now) / 1000);
        int n;
        bool tick;

        if (d->need_rebuild) {
            err re = {0};
            if (recover(d, &re) != ST_OK) {
                log_warn(MOD, "database unavailable: %s", re.msg);
                clock_sleep_ms(500);
            }
        }
        n = take_batch(d, msgs, d->opts.batch_max, wait_ms > 0 ? wait_ms : 0);
        now = clock_mono_us();
        tick = now >= d->next_tick_us;
        if (tick)
            d->next_tick_us = now + (int64_t)d->opts.tick_ms * 1000;
        if (now >= d->next_contracts_us) {
            err ce = {0};
            int fixed = 0;
            d->next_contracts_us = now + 5000000;
            if (dsp_refresh_contracts(d, &ce) != ST_OK)
                log_warn(MOD, "refresh contracts: %s", ce.msg);
            else if (dsp_reconcile(d, &fixed, &ce) != ST_OK)
                log_warn(MOD, "reconcile with the database: %s", ce.msg);
            else if (fixed > 0)
                log_warn(MOD,
                         "%d pending tasks were missing from routing; "
                         "put back",
                         fixed);
        }
        if (d->opts.stats_ms > 0 && now >= d->next_stats_us) {
            d->next_stats_us = now + (int64_t)d->opts.stats_ms * 1000;
            publish_stats(d);
        }
        if (n == 0 && !tick)
            continue;
        d->stat_msgs += (uint64_t)n;
        if (n > 0) {
            err ae = {0};

            /* Plans made on a fresh database's empty tables would make
             * every batch slower than the last (db.h); a failure costs
             * only speed. */
            if (db_analyze_growing(d->db, DSP_TABLES, (int64_t)d->stat_msgs,
                                   &d->next_analyze, NULL, &ae) != ST_OK)
                log_warn(MOD, "refreshing table statistics: %s", ae.msg);
        }
        run_batch(d, msgs, n, tick);
        for (int i = 0; i < n; i++)
            bus_msg_free(msgs[i]);
        if (now - last_report > 10000000) {
            last_report = now;
            log_info(MOD,
                     "messages=%llu batches=%llu cases=%llu offers=%llu "
                     "completed=%llu pending=%d open_tasks=%d",
                     (unsigned long long)d->stat_msgs,
                     (unsigned long long)d->stat_batches,
                     (unsigned long long)d->stat_cases,
                     (unsigned long long)d->stat_offers,
                     (unsigned long long)d->stat_completed,
                     router_pending_count(d->router),
                     router_task_count(d->router));
        }
    }
    free(msgs);
    log_info(MOD, "stopped");
    return ST_OK;
}

void dispatcher_stop(dispatcher *d)
{
    atomic_store(&d->stopping, true);
    pthread_mutex_lock(&d->qlock);
    pthread_cond_broadcast(&d->qcond);
    pthread_mutex_unlock(&d->qlock);
}

static void stream_name(const dispatcher *d, char *buf, size_t cap)
{
    size_t i;

    snprintf(buf, cap, "%s_EVENTS", d->cfg.prefix);
    for (i = 0; buf[i] != '\0'; i++)
        buf[i] = (char)toupper((unsigned char)buf[i]);
}

status dispatcher_create(dispatcher **out, const config *cfg,
                         const dispatcher_opts *o, err *e)
{
    dispatcher *d = calloc(1, sizeof(*d));
    char subj[160], stream[96];
    status s;

    if (d == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    d->cfg = *cfg;
    d->opts = *o;
    d->acc_msgs = calloc((size_t)o->batch_max, sizeof(bus_msg *));
    d->comp_msgs = calloc((size_t)o->batch_max, sizeof(bus_msg *));
    d->acc_workers = calloc((size_t)o->batch_max, ID_MAX + 1);
    d->comp_workers = calloc((size_t)o->batch_max, ID_MAX + 1);
    d->explain = calloc(DSP_MATCH_MAX, sizeof(router_explain));
    if (d->explain == NULL || d->acc_msgs == NULL || d->comp_msgs == NULL ||
        d->acc_workers == NULL || d->comp_workers == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto fail;
    }
    pthread_mutex_init(&d->qlock, NULL);
    pthread_cond_init(&d->qcond, NULL);
    pthread_mutex_init(&d->obx_lock, NULL);
    pthread_cond_init(&d->obx_cond, NULL);
    atomic_init(&d->stopping, false);
    s = router_create(&d->router, e);
    if (s == ST_OK && (o->no_affinity || o->batch_match_min > 0)) {
        router_config rc;
        router_config_default(&rc);
        rc.no_affinity = o->no_affinity;
        rc.batch_min = o->batch_match_min;
        s = router_config_set(d->router, &rc, e);
    }
    if (s == ST_OK)
        s = strtab_create(&d->licences, e);
    if (s == ST_OK)
        s = strtab_create(&d->tenants, e);
    if (s == ST_OK)
        s = strtab_create(&d->pools, e);
    if (s == ST_OK)
        s = strtab_create(&d->case_types, e);
    if (s == ST_OK)
        s = strtab_create(&d->skills, e);
    if (s == ST_OK)
        s = strtab_create(&d->workers, e);
    if (s == ST_OK)
        s = db_connect(&d->db, cfg->db, e);
    if (s == ST_OK)
        s = bus_connect(&d->bus, cfg->nats, "twinline-dispatcher", e);
    if (s != ST_OK)
        goto fail;
    s = dsp_rebuild(d, e);
    if (s != ST_OK) {
        err_wrap(e, "load state (is the database migrated? run: twinline "
                    "migrate)");
        goto fail;
    }
    stream_name(d, stream, sizeof(stream));
    snprintf(subj, sizeof(subj), "%s.evt.>", cfg->prefix);
    s = bus_stream_ensure(d->bus, stream, subj, o->stream_max_bytes, e);
    if (s != ST_OK)
        goto fail;
    s = dsp_outbox_start(d, e);
    if (s != ST_OK)
        goto fail;
    snprintf(subj, sizeof(subj), "%s.api.*.case.*", cfg->prefix);
    s = bus_subscribe(d->bus, subj, NULL, on_message, d, e);
    if (s == ST_OK) {
        snprintf(subj, sizeof(subj), "%s.agent.*.*", cfg->prefix);
        s = bus_subscribe(d->bus, subj, NULL, on_message, d, e);
    }
    if (s == ST_OK) {
        snprintf(subj, sizeof(subj), "%s.ops.task.priority", cfg->prefix);
        s = bus_subscribe(d->bus, subj, NULL, on_message, d, e);
    }
    if (s == ST_OK)
        s = bus_flush(d->bus, 2000, e);
    if (s != ST_OK)
        goto fail;
    d->next_tick_us = clock_mono_us();
    d->next_contracts_us = clock_mono_us() + 5000000;
    d->next_stats_us = clock_mono_us() + (int64_t)o->stats_ms * 1000;
    *out = d;
    return ST_OK;
fail:
    dispatcher_destroy(d);
    return s;
}

void dispatcher_destroy(dispatcher *d)
{
    if (d == NULL)
        return;
    dsp_outbox_stop(d);
    bus_close(d->bus);
    /* Messages that arrived after the loop stopped are dropped: requests
     * time out at the sender and are safe to retry. */
    for (int i = 0; i < d->qlen; i++)
        bus_msg_free(d->queue[(d->qhead + i) % d->qcap]);
    free(d->queue);
    discard_out(d);
    free(d->out);
    free(d->heartbeats);
    free(d->acc_msgs);
    free(d->comp_msgs);
    free(d->acc_workers);
    free(d->comp_workers);
    free(d->explain);
    db_close(d->db);
    router_destroy(d->router);
    strtab_destroy(d->tenants);
    strtab_destroy(d->pools);
    strtab_destroy(d->case_types);
    strtab_destroy(d->skills);
    strtab_destroy(d->workers);
    strtab_destroy(d->licences);
    free(d->winfo);
    free(d->pinfo);
    for (int i = 0; i < d->nplaybooks; i++) {
        playbook_release(d->playbooks[i]);
        free(d->playbooks[i]);
    }
    free(d->playbooks);
    free(d->latest);
    pthread_mutex_destroy(&d->qlock);
    pthread_cond_destroy(&d->qcond);
    pthread_mutex_destroy(&d->obx_lock);
    pthread_cond_destroy(&d->obx_cond);
    free(d);
}
