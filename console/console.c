#include "console.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "console_alerts.h"
#include "console_callup.h"
#include "console_hooks.h"
#include "console_int.h"
#include "console_live.h"
#include "console_rollup.h"
#include "console_sql.h"
#include "log.h"

void console_opts_default(console_opts *o)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->listen, sizeof(o->listen), "127.0.0.1");
    o->port = 8080;
    o->db_conns = 6;
    o->max_body = 64 * 1024;
    o->request_timeout_ms = 5000;
    o->sample_ms = 5000;
    o->rollup_ms = 5000;
    o->settle_s = 60;
    o->backfill_days = 35;
    o->silent_s = 6;
    o->hook_base_ms = 1000;
    o->hook_attempts = 12;
    o->hook_timeout_ms = 5000;
    o->background = true;
    o->callup_ms = 5000;
    o->callup_window_s = 900;
    o->callup_hold_s = 120;
    o->callup_answer_s = 120;
}

/* Sleep up to ms, returning early when the console stops. */
static void nap(console *c, int ms)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->mu);
    if (!atomic_load(&c->stop))
        pthread_cond_timedwait(&c->cv, &c->mu, &until);
    pthread_mutex_unlock(&c->mu);
}

static bool try_lead(db *d)
{
    db_res *r = NULL;
    bool led = false;

    if (db_run(d, &console_sql_leader_lock, NULL, &r, NULL) == ST_OK)
        led = db_bool(r, 0, CONSOLE_LEADER_LOCK_LOCKED);
    db_res_free(r);
    return led;
}

/* The leader's work: samples, the rollup and the alerts. */
static void *bg_main(void *arg)
{
    console *c = arg;
    db *d = NULL;
    bool leader = false, inited = false;
    int64_t next_rollup = 0, next_callup = 0;
    console_callup *cu = NULL;
    console_callup_opts co = {c->o.callup_window_s, c->o.callup_hold_s,
                              c->o.callup_answer_s, c->o.request_timeout_ms};
    err e = {0};

    if (c->o.callup_ms > 0 && console_callup_create(&cu, &co, &e) != ST_OK)
        log_warn("console", "call-up off: %s", e.msg);

    while (!atomic_load(&c->stop)) {
        status st = ST_OK;

        if (d == NULL && db_connect(&d, c->cfg.db, &e) != ST_OK) {
            log_warn("console", "background: %s", e.msg);
            d = NULL;
            nap(c, 2000);
            continue;
        }
        if (!leader) {
            leader = try_lead(d);
            if (!leader) {
                nap(c, 5000);
                continue;
            }
            log_info("console", "this console runs the rollup and alerts");
        }
        if (!inited) {
            st = console_rollup_init(d, c->o.backfill_days, &e);
            inited = st == ST_OK;
        }
        if (st == ST_OK)
            st = console_rollup_sample(d, c->o.sample_ms, &e);
        if (st == ST_OK && clock_mono_us() >= next_rollup) {
            int rolled = 0, changes = 0;

            st = console_rollup_run(d, c->o.settle_s, 96, &rolled, &e);
            if (st == ST_OK)
                st = console_alerts_check(d, c->bus, c->cfg.prefix,
                                          c->o.silent_s, &changes, &e);
            if (rolled > 0 || changes > 0)
                log_debug("console",
                          "rolled up %d intervals, %d alert "
                          "changes",
                          rolled, changes);
            next_rollup = clock_mono_us() + (int64_t)c->o.rollup_ms * 1000;
        }
        if (st == ST_OK && cu != NULL && clock_mono_us() >= next_callup) {
            st = console_callup_step(cu, d, c->bus, c->cfg.prefix, NULL, NULL,
                                     &e);
            next_callup = clock_mono_us() + (int64_t)c->o.callup_ms * 1000;
        }
        if (st != ST_OK) {
            log_warn("console", "background: %s", e.msg);
            if (st == ST_UNAVAILABLE) {
                /* The session and its lock are gone with the connection. */
                db_close(d);
                d = NULL;
                leader = false;
            }
        }
        nap(c, c->o.sample_ms);
    }
    console_callup_destroy(cu);
    db_close(d);
    return NULL;
}

static void *hooks_main(void *arg)
{
    console *c = arg;
    console_hooks_opts ho = {c->o.hook_base_ms, c->o.hook_attempts,
                             c->o.hook_timeout_ms};
    console_hooks *h = NULL;
    err e = {0};

    while (!atomic_load(&c->stop)) {
        if (h == NULL && console_hooks_create(&h, c->bus, c->cfg.prefix,
                                              c->cfg.db, &ho, &e) != ST_OK) {
            log_warn("console", "webhooks: %s", e.msg);
            h = NULL;
            nap(c, 2000);
            continue;
        }
        if (console_hooks_step(h, 500, NULL, &e) != ST_OK) {
            log_warn("console", "webhooks: %s", e.msg);
            nap(c, 1000);
        }
    }
    console_hooks_destroy(h);
    return NULL;
}

status console_create(console **out, const config *cfg, const console_opts *o,
                      err *e)
{
    console *c = calloc(1, sizeof(*c));
    console_http_opts ho;
    status st;

    if (c == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    c->cfg = *cfg;
    c->o = *o;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    st = console_dbpool_create(&c->pool, cfg->db, o->db_conns, e);
    if (st == ST_OK) {
        char creds[sizeof(c->cfg.creds)];
        bus_opts bo;

        config_bus_opts(&c->cfg, "twinline-console", &bo);
        st = config_creds_for(&c->cfg, "console", creds, sizeof(creds), e);
        bo.creds = creds[0] != '\0' ? creds : NULL;
        if (st == ST_OK)
            st = bus_connect_opts(&c->bus, &bo, e);
    }
    if (st == ST_OK)
        st = console_live_create(&c->live, c->bus, cfg->prefix,
                                 o->sample_ms < 5000 ? o->sample_ms : 5000, e);
    if (st == ST_OK) {
        ho.address = o->listen;
        ho.port = o->port;
        ho.max_body = o->max_body;
        ho.connections = 256;
        ho.per_address = 64;
        ho.idle_timeout_s = 60;
        st = console_http_start(&c->http, &ho, console_api_handle, c, e);
    }
    if (st == ST_OK && o->background) {
        c->bg_started = pthread_create(&c->bg, NULL, bg_main, c) == 0;
        c->hooks_started = pthread_create(&c->hooks, NULL, hooks_main, c) == 0;
        if (!c->bg_started || !c->hooks_started)
            st = err_set(e, ST_INTERNAL, "cannot start a thread");
    }
    if (st != ST_OK) {
        console_destroy(c);
        return st;
    }
    *out = c;
    return ST_OK;
}

int console_port(const console *c)
{
    return console_http_port(c->http);
}

void console_run(console *c)
{
    pthread_mutex_lock(&c->mu);
    while (!atomic_load(&c->stop))
        pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

void console_stop(console *c)
{
    pthread_mutex_lock(&c->mu);
    atomic_store(&c->stop, true);
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

void console_destroy(console *c)
{
    if (c == NULL)
        return;
    console_stop(c);
    /* Streams first, so the HTTP server's threads can finish. */
    console_live_stop(c->live);
    console_http_stop(c->http);
    if (c->bg_started)
        pthread_join(c->bg, NULL);
    if (c->hooks_started)
        pthread_join(c->hooks, NULL);
    bus_close(c->bus);
    console_live_destroy(c->live);
    console_dbpool_destroy(c->pool);
    curl_global_cleanup();
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
