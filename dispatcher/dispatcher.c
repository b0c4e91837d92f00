/*
 * The top of the dispatcher: the loop that takes requests in batches, the
 * route table from a request's subject to its handler, and the batch's
 * transaction around the handlers, the timers and routing. It includes
 * the modules below it; none of them includes it (docs/architecture.md).
 */
#include "dispatcher.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accept.h"
#include "admin_api.h"
#include "callup.h"
#include "case_api.h"
#include "clock.h"
#include "complete.h"
#include "consumers.h"
#include "dsp.h"
#include "feedback_api.h"
#include "intake.h"
#include "jsonx.h"
#include "log.h"
#include "offers.h"
#include "ops_actions.h"
#include "ops_api.h"
#include "outbox.h"
#include "outq.h"
#include "partition.h"
#include "state.h"
#include "stats.h"
#include "subjects.h"
#include "violations.h"
#include "worker_api.h"

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
    o->nats_log = NULL;
    /* docs/security.md, "Quotas": generous for one bank's integration,
     * small enough that a flood is refused before it queues. */
    o->quota_rate = 500;
    o->quota_burst = 1000;
    o->quota_open = 1000;
    o->client_rate = 0;
    o->client_burst = 0;
    o->client_open = 0;
    o->master_key_file[0] = '\0';
    o->member[0] = '\0';
    o->ha_lease_ms = 3000;
    o->handle_max_ms = 1800000;
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

    dsp_intake_put(d->intake, d->bus, m);
}

/*
 * The route table: a request's subject (contracts/subjects.h) names its
 * kind and verb, and one handler answers every request of a kind in a
 * batch. Kinds are handled in the order of this table: the bank's
 * requests, the operator's, the admin's notices, then the agents'
 * (presence and heartbeats before the answers to offers), as within a
 * batch requests of different parties are concurrent anyway.
 */
typedef struct route_entry {
    subjects_kind kind;
    const char *verb;
    dsp_handler handler;
} route_entry;

static const route_entry routes[] = {
    {SUBJECTS_API, SUBJECTS_CASE_SUBMIT, dsp_case_submit},
    {SUBJECTS_API, SUBJECTS_CASE_SUBMIT_MANY, dsp_case_submit_many},
    {SUBJECTS_API, SUBJECTS_CASE_GET, dsp_case_get},
    {SUBJECTS_API, SUBJECTS_CASE_REOPEN, dsp_case_reopen},
    {SUBJECTS_API, SUBJECTS_CASE_COMPLAINT, dsp_case_complaint},
    {SUBJECTS_OPS, SUBJECTS_TASK_PRIORITY, dsp_ops_priority},
    {SUBJECTS_OPS, "worker.deactivate", dsp_ops_action},
    {SUBJECTS_OPS, "worker.activate", dsp_ops_action},
    {SUBJECTS_OPS, "worker.logout", dsp_ops_action},
    {SUBJECTS_OPS, "worker.skills", dsp_ops_action},
    {SUBJECTS_OPS, "worker.pool", dsp_ops_action},
    {SUBJECTS_OPS, "task.reassign", dsp_ops_action},
    {SUBJECTS_OPS, "task.cancel", dsp_ops_action},
    {SUBJECTS_OPS, "callup.invite", dsp_callup_ops},
    {SUBJECTS_OPS, "callup.release", dsp_callup_ops},
    {SUBJECTS_ADMIN, SUBJECTS_IDENTITY_REVOKED, dsp_admin_revoked},
    {SUBJECTS_AGENT, SUBJECTS_PRESENCE, dsp_presence},
    {SUBJECTS_AGENT, SUBJECTS_HEARTBEAT, dsp_heartbeat},
    {SUBJECTS_AGENT, SUBJECTS_REJECT, dsp_reject},
    {SUBJECTS_AGENT, SUBJECTS_FEEDBACK, dsp_feedback},
    {SUBJECTS_AGENT, SUBJECTS_CALLUP, dsp_callup_answer},
    {SUBJECTS_AGENT, SUBJECTS_ACCEPT, dsp_accept},
    {SUBJECTS_AGENT, SUBJECTS_ACCEPT_MANY, dsp_accept_many},
    {SUBJECTS_AGENT, SUBJECTS_COMPLETE, dsp_complete},
    {SUBJECTS_AGENT, SUBJECTS_COMPLETE_MANY, dsp_complete_many},
};
#define NROUTES ((int)(sizeof(routes) / sizeof(routes[0])))

/* The route of m (its index in routes) into *ix and its party into party; else
 * the error a sender gets. */
static status route_of(const dispatcher *d, const bus_msg *m, int *ix,
                       char party[ID_MAX + 1], err *e)
{
    const char *subj = bus_msg_subject(m);
    subjects_parsed p;

    if (!subjects_parse(subj, d->cfg.prefix, &p))
        return err_set(e, ST_NOT_FOUND, "no such subject %s", subj);
    for (int i = 0; i < NROUTES; i++)
        if (routes[i].kind == p.kind && strcmp(routes[i].verb, p.verb) == 0) {
            *ix = i;
            memcpy(party, p.party, strlen(p.party) + 1);
            return ST_OK;
        }
    return err_set(e, ST_NOT_FOUND, "no such operation %s", subj);
}

/*
 * The requests of the batch grouped by route, in table order and, within
 * a route, in arrival order, into d->reqs; counts[r] of them for route r.
 * A request without a route gets its error reply queued.
 */
static status group(dispatcher *d, bus_msg **msgs, int n, int *counts, err *e)
{
    dsp_req *tmp = calloc((size_t)n + 1, sizeof(dsp_req));
    int *of = calloc((size_t)n + 1, sizeof(int)), at[NROUTES];
    status s = tmp != NULL && of != NULL
                   ? ST_OK
                   : err_set(e, ST_NOMEM, "out of memory");

    for (int r = 0; r < NROUTES; r++)
        counts[r] = 0;
    for (int i = 0; s == ST_OK && i < n; i++) {
        err re = {0};
        status rs = route_of(d, msgs[i], &of[i], tmp[i].party, &re);

        tmp[i].m = msgs[i];
        if (rs != ST_OK) {
            of[i] = -1;
            s = dsp_outq_error(d->out, msgs[i], rs, re.msg, e);
            continue;
        }
        counts[of[i]]++;
    }
    for (int r = 0, sum = 0; r < NROUTES; r++) {
        at[r] = sum;
        sum += counts[r];
    }
    for (int i = 0; s == ST_OK && i < n; i++)
        if (of[i] >= 0)
            d->reqs[at[of[i]]++] = tmp[i];
    free(tmp);
    free(of);
    return s;
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
        /* A new session has none of the old one's settings: it names its
         * leases again (partition.h) before anything is written. */
        if (db_reconnect(d->db, &e2) == ST_OK &&
            dsp_part_reconnected(d, e) == ST_OK)
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
    int counts[NROUTES], at = 0;
    int64_t t[DSP_STAGES + 1];
    err e = {0};
    status s;
    int i;

    d->events_written = false;
    auditlog_batch_clear(d->audit);
    t[0] = clock_mono_us();
    s = db_begin(d->db, &e);
    if (s == ST_OK)
        s = group(d, msgs, n, counts, &e);
    for (int r = 0; s == ST_OK && r < NROUTES; r++) {
        if (counts[r] > 0)
            s = routes[r].handler(d, d->reqs + at, counts[r], &e);
        at += counts[r];
    }
    t[1] = clock_mono_us();
    if (s == ST_OK && tick) {
        s = dsp_expire_offers(d, &e);
        /* Workers' leases are judged only after a full lease of
         * listening (partition.h: after a takeover or an outage). */
        if (s == ST_OK && dsp_part_may_expire(d))
            s = dsp_expire_leases(d, &e);
        if (s == ST_OK && d->opts.handle_max_ms > 0)
            s = dsp_expire_handles(d, &e);
        if (s == ST_OK)
            s = dsp_wrap_end(d, &e);
        if (s == ST_OK)
            s = dsp_expire_tasks(d, &e);
    }
    t[2] = clock_mono_us();
    if (s == ST_OK)
        s = dsp_route_and_offer(d, &e);
    t[3] = clock_mono_us();
    /* What the batch's requests changed, recorded in its transaction with
     * one chain append; the chain's lock is held only until the commit. */
    if (s == ST_OK)
        s = auditlog_batch_append(d->audit, d->db, &e);
    t[4] = clock_mono_us();
    /* Past the local lease deadline another dispatcher may be taking
     * over: nothing of this batch is committed or sent. */
    if (s == ST_OK && !dsp_part_valid(d))
        s = err_set(&e, ST_UNAVAILABLE,
                    "fenced: the leases were not renewed in time");
    if (s == ST_OK)
        s = db_commit(d->db, &e);
    t[5] = clock_mono_us();
    if (s == ST_OK) {
        dsp_outq_flush(d->out, d->bus);
        if (d->events_written)
            dsp_outbox_kick(d);
        d->stat_batches++;
        t[6] = clock_mono_us();
        for (i = 0; i < DSP_STAGES; i++)
            d->stage_us[i] += t[i + 1] - t[i];
        if (n > d->max_batch)
            d->max_batch = n;
        return;
    }

    log_warn(MOD, "batch of %d rolled back: %s", n, e.msg);
    dsp_outq_discard(d->out);
    if (dsp_part_fenced(&e)) {
        /* A lease was lost (or is being renewed too late): learn which
         * before anything is retried. */
        bool changed = false;
        err le = {0};
        db_rollback(d->db);
        if (dsp_part_round(d, true, &changed, &le) != ST_OK)
            log_warn(MOD, "lease round: %s", le.msg);
    }
    if (recover(d, &e) != ST_OK) {
        for (i = 0; i < n; i++)
            if (dsp_part_mine(d, msgs[i]))
                reply_error(d, msgs[i], ST_UNAVAILABLE,
                            "the dispatcher cannot reach its database; retry "
                            "later");
        return;
    }
    /* A request whose partition another dispatcher owns now is its to
     * answer (it heard it too): never answered here as well. */
    if (n == 1) {
        if (dsp_part_mine(d, msgs[0]) && !dsp_part_fenced(&e))
            reply_error(d, msgs[0], s, e.msg);
        return;
    }
    for (i = 0; i < n; i++)
        if (dsp_part_mine(d, msgs[i]))
            run_batch(d, &msgs[i], 1, false);
}

/* The live figures (stats.h) on <prefix>.stats.dispatcher, outside any
 * batch: a failure only costs one publication. */
static void publish_stats(dispatcher *d)
{
    char subj[SUBJECTS_MAX];
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
    if (subjects_stats(subj, sizeof(subj), d->cfg.prefix, SUBJECTS_DISPATCHER,
                       &e) != ST_OK ||
        bus_publish(d->bus, subj, body, strlen(body), &e) != ST_OK)
        log_warn(MOD, "publish to %s failed: %s", subj, e.msg);
    free(body);
}

/* Where the committed batches' time went so far (dsp.h, stage_us): the
 * total of each stage in ms, the rest of the loop's busy time and the
 * busy time itself. */
static void log_stages(const dispatcher *d)
{
    static const char *const names[DSP_STAGES] = {
        "requests", "timers", "routing", "audit", "commit", "send"};
    int64_t staged = 0;
    char line[512];
    int at = 0;

    if (d->stat_batches == 0 || d->busy_us <= 0)
        return;
    for (int i = 0; i < DSP_STAGES; i++) {
        staged += d->stage_us[i];
        at += snprintf(line + at, sizeof(line) - (size_t)at, "%s=%lld ms ",
                       names[i], (long long)(d->stage_us[i] / 1000));
    }
    log_info(MOD,
             "batch stages: %sother=%lld ms busy=%lld ms batches=%llu "
             "messages=%llu largest=%d",
             line, (long long)((d->busy_us - staged) / 1000),
             (long long)(d->busy_us / 1000),
             (unsigned long long)d->stat_batches,
             (unsigned long long)d->stat_msgs, d->max_batch);
}

status dispatcher_run(dispatcher *d, err *e)
{
    bus_msg **msgs = calloc((size_t)d->opts.batch_max, sizeof(bus_msg *));
    int64_t last_report = clock_mono_us(), taken_us;

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
        n = dsp_intake_take(d->intake, msgs, d->opts.batch_max,
                            wait_ms > 0 ? wait_ms : 0);
        taken_us = clock_mono_us();
        /* Leases first (partition.h): renewed, rebalanced, and the
         * requests of the batch kept only when this dispatcher owns
         * their partition; parked ones whose partition it took join. */
        {
            bool changed = false;
            err pe = {0};
            if (!bus_connected(d->bus))
                dsp_part_deaf(d, "NATS was disconnected");
            if (dsp_part_round(d, false, &changed, &pe) != ST_OK)
                log_warn(MOD, "lease round: %s", pe.msg);
            atomic_store(&d->relay_lead, dsp_part_lead(d));
            if (changed) {
                err re = {0};
                if (recover(d, &re) != ST_OK)
                    log_warn(MOD, "database unavailable: %s", re.msg);
            }
            n = dsp_part_filter(d, msgs, n, d->opts.batch_max);
        }
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
            else if (dsp_consumers_ensure(d, &ce) != ST_OK)
                log_warn(MOD, "tenants' events consumers: %s", ce.msg);
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
        /* The relay thread refreshes the table statistics as the
         * messages grow, on its own connection (outbox.h). */
        atomic_store(&d->msgs_seen, (int64_t)d->stat_msgs);
        run_batch(d, msgs, n, tick);
        dsp_intake_done(d->intake);
        for (int i = 0; i < n; i++)
            bus_msg_free(msgs[i]);
        d->busy_us += clock_mono_us() - taken_us;
        if (now - last_report > 10000000) {
            int64_t violations, refused;
            dsp_intake_counts ic;

            log_stages(d);

            dsp_intake_counts_get(d->intake, &ic);
            last_report = now;
            dsp_violations_counts(d->violations, &violations, &refused);
            log_info(MOD,
                     "messages=%llu batches=%llu cases=%llu offers=%llu "
                     "completed=%llu pending=%d open_tasks=%d "
                     "violations=%lld refused_connections=%lld "
                     "rate_limited=%llu open_limited=%llu",
                     (unsigned long long)d->stat_msgs,
                     (unsigned long long)d->stat_batches,
                     (unsigned long long)d->stat_cases,
                     (unsigned long long)d->stat_offers,
                     (unsigned long long)d->stat_completed,
                     router_pending_count(d->router),
                     router_task_count(d->router), (long long)violations,
                     (long long)refused, (unsigned long long)ic.limited_rate,
                     (unsigned long long)ic.limited_open);
        }
    }
    free(msgs);
    log_stages(d);
    log_info(MOD, "stopped");
    return ST_OK;
}

void dispatcher_stop(dispatcher *d)
{
    atomic_store(&d->stopping, true);
    dsp_intake_wake(d->intake);
}

status dispatcher_create(dispatcher **out, const config *cfg,
                         const dispatcher_opts *o, err *e)
{
    dispatcher *d = calloc(1, sizeof(*d));
    char subj[SUBJECTS_MAX], stream[SUBJECTS_STREAM_MAX];
    status s;

    if (d == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    d->cfg = *cfg;
    d->opts = *o;
    d->reqs = calloc((size_t)o->batch_max, sizeof(dsp_req));
    d->explain = calloc(DSP_MATCH_MAX, sizeof(router_explain));
    if (d->explain == NULL || d->reqs == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto fail;
    }
    pthread_mutex_init(&d->obx_lock, NULL);
    pthread_cond_init(&d->obx_cond, NULL);
    atomic_init(&d->stopping, false);
    {
        dsp_intake_opts io = {
            .tenant = {o->quota_rate, o->quota_burst, o->quota_open},
            .client = {o->client_rate, o->client_burst, o->client_open}};

        s = dsp_intake_create(&d->intake, cfg->prefix, &io, e);
    }
    atomic_init(&d->relay_lead, false);
    atomic_init(&d->msgs_seen, 0);
    if (s == ST_OK)
        s = dsp_outq_create(&d->out, cfg->prefix, e);
    if (s == ST_OK)
        s = auditlog_batch_create(&d->audit, e);
    if (s == ST_OK)
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
        s = strtab_create(&d->consumers, e);
    if (s == ST_OK)
        s = keystore_create(&d->keys, o->master_key_file, e);
    if (s == ST_OK)
        log_info(MOD, "customer data is sealed with %s",
                 keystore_source(d->keys));
    if (s == ST_OK)
        s = db_connect(&d->db, cfg->db, e);
    if (s == ST_OK) {
        char creds[sizeof(cfg->creds)];
        bus_opts bo;

        config_bus_opts(cfg, "twinline-dispatcher", &bo);
        s = config_creds_for(cfg, "dispatcher", creds, sizeof(creds), e);
        bo.creds = creds[0] != '\0' ? creds : NULL;
        if (s == ST_OK)
            s = bus_connect_opts(&d->bus, &bo, e);
    }
    if (s != ST_OK)
        goto fail;
    /* The stream and the subscriptions come first: requests heard from
     * now on wait in the queue until the loop runs, so none that arrives
     * while this dispatcher takes its partitions and loads their state
     * is missed; a JetStream still electing its leaders fails here,
     * before any lease is taken. */
    s = subjects_stream(stream, sizeof(stream), cfg->prefix, e);
    if (s == ST_OK)
        s = subjects_events_all(subj, sizeof(subj), cfg->prefix, e);
    if (s == ST_OK)
        s = bus_stream_ensure(d->bus, stream, subj, o->stream_max_bytes, e);
    if (s == ST_OK) {
        err ce = {0};

        /* Retried every 5 s: a tenant's events can wait, its cases not. */
        if (dsp_consumers_ensure(d, &ce) != ST_OK)
            log_warn(MOD, "tenants' events consumers: %s", ce.msg);
    }
    if (s == ST_OK && o->nats_log != NULL)
        s = dsp_violations_start(&d->violations, cfg->db, o->nats_log, e);
    if (s == ST_OK)
        s = subjects_api(subj, sizeof(subj), cfg->prefix, "*",
                         SUBJECTS_CASE_ANY, e);
    if (s == ST_OK)
        s = bus_subscribe(d->bus, subj, NULL, on_message, d, e);
    if (s == ST_OK)
        s = subjects_agent(subj, sizeof(subj), cfg->prefix, "*", "*", e);
    if (s == ST_OK)
        s = bus_subscribe(d->bus, subj, NULL, on_message, d, e);
    if (s == ST_OK)
        s = subjects_ops(subj, sizeof(subj), cfg->prefix, "*", ">", e);
    if (s == ST_OK)
        s = bus_subscribe(d->bus, subj, NULL, on_message, d, e);
    if (s == ST_OK)
        s = subjects_admin(subj, sizeof(subj), cfg->prefix,
                           SUBJECTS_IDENTITY_REVOKED, e);
    if (s == ST_OK)
        s = bus_subscribe(d->bus, subj, NULL, on_message, d, e);
    if (s == ST_OK)
        s = bus_flush(d->bus, 2000, e);
    if (s != ST_OK)
        goto fail;
    s = dsp_part_create(d, e);
    if (s == ST_OK)
        s = dsp_rebuild(d, e);
    if (s != ST_OK) {
        err_wrap(e, "load state (is the database migrated? run: twinline "
                    "migrate)");
        goto fail;
    }
    atomic_store(&d->relay_lead, dsp_part_lead(d));
    s = dsp_outbox_start(d, e);
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
    dsp_violations_stop(d->violations);
    dsp_outbox_stop(d);
    bus_close(d->bus);
    /* Messages that arrived after the loop stopped are dropped: requests
     * time out at the sender and are safe to retry. */
    dsp_intake_destroy(d->intake);
    dsp_outq_destroy(d->out);
    auditlog_batch_destroy(d->audit);
    dsp_part_destroy(d);
    free(d->reqs);
    free(d->explain);
    db_close(d->db);
    keystore_destroy(d->keys);
    router_destroy(d->router);
    strtab_destroy(d->tenants);
    strtab_destroy(d->pools);
    strtab_destroy(d->case_types);
    strtab_destroy(d->skills);
    strtab_destroy(d->workers);
    strtab_destroy(d->licences);
    strtab_destroy(d->consumers);
    free(d->winfo);
    free(d->pinfo);
    for (int i = 0; i < d->nplaybooks; i++) {
        playbook_release(d->playbooks[i]);
        free(d->playbooks[i]);
    }
    free(d->playbooks);
    free(d->latest);
    pthread_mutex_destroy(&d->obx_lock);
    pthread_cond_destroy(&d->obx_cond);
    free(d);
}
