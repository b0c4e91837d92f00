#include "billing_service.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditlog.h"
#include "billing_event.h"
#include "billing_flow.h"
#include "billing_sql.h"
#include "bus.h"
#include "clock.h"
#include "db.h"
#include "log.h"

#define MOD "billing"

/* Longest wait for events, which bounds how late a stop is noticed. */
#define BILLING_FETCH_MS 250

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

struct billing_service {
    billing_options opt;
    billing_names names;
    db *db;
    bus *bus;
    bus_pull *pull;
    atomic_bool stopping;
    bool ran;

    pthread_mutex_t lock; /* guards stats */
    billing_stats stats;

    billing_flow *flow;
    signer *sg;      /* NULL: credit notes are left for the CLI */
    nkey *audit_key; /* NULL: no audit checkpoints */
    bool *handled;   /* opt.batch slots: decided by the plan flow */
    int64_t *rest;   /* opt.batch slots: left to the per-result prices */

    bus_msg **msgs;       /* opt.batch slots */
    int64_t *ids;         /* opt.batch slots, shared by events and sweeper */
    int64_t sweep_warned; /* sweeper already warned up to this outcome id */
};

void billing_options_default(billing_options *o)
{
    memset(o, 0, sizeof(*o));
    config_from_env(&o->cfg);
    o->batch = 256;
    o->sweep_ms = 2000;
    o->sweep_age_ms = 5000;
    o->summary_ms = 10000;
    o->stream_bytes = BILLING_STREAM_BYTES;
    o->verify_ms = 1000;
    if (getenv("TL_KEY_DIR") != NULL)
        snprintf(o->key_dir, sizeof(o->key_dir), "%s", getenv("TL_KEY_DIR"));
    if (getenv("TL_AUDIT_KEY") != NULL)
        snprintf(o->audit_key, sizeof(o->audit_key), "%s",
                 getenv("TL_AUDIT_KEY"));
    o->checkpoint_ms = 60000;
    if (getenv("TL_AUDIT_CHECKPOINT_MS") != NULL) {
        long v = strtol(getenv("TL_AUDIT_CHECKPOINT_MS"), NULL, 10);

        /* Out of range is refused by check_options with the value. */
        o->checkpoint_ms = v > 0 && v < 100000000 ? (int)v : -1;
    }
}

static status check_options(const billing_options *o, err *e)
{
    if (o->batch < 1 || o->batch > BILLING_BATCH_MAX)
        return err_set(e, ST_CONFIG, "batch %d is out of range 1..%d", o->batch,
                       BILLING_BATCH_MAX);
    if (o->checkpoint_ms < 100 || o->checkpoint_ms > 86400000)
        return err_set(e, ST_CONFIG,
                       "the audit checkpoint interval must be 100 to "
                       "86400000 ms (--checkpoint-ms, TL_AUDIT_CHECKPOINT_MS)");
    if (o->stream_bytes < 1024 * 1024)
        return err_set(e, ST_CONFIG, "stream size %lld is below 1 MiB",
                       o->stream_bytes);
    if (o->sweep_ms < 0 || o->sweep_age_ms < 0 || o->summary_ms < 1 ||
        o->verify_ms < 0)
        return err_set(e, ST_CONFIG,
                       "sweep interval, sweep age and summary interval must "
                       "not be negative");
    return ST_OK;
}

status billing_service_create(billing_service **out, const billing_options *opt,
                              err *e)
{
    billing_service *s = NULL;
    status st;

    st = check_options(opt, e);
    if (st != ST_OK)
        return st;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    pthread_mutex_init(&s->lock, NULL);
    atomic_init(&s->stopping, false);
    s->opt = *opt;
    s->msgs = calloc((size_t)opt->batch, sizeof(*s->msgs));
    s->ids = calloc((size_t)opt->batch, sizeof(*s->ids));
    s->handled = calloc((size_t)opt->batch, sizeof(*s->handled));
    s->rest = calloc((size_t)opt->batch, sizeof(*s->rest));
    if (s->msgs == NULL || s->ids == NULL || s->handled == NULL ||
        s->rest == NULL) {
        st = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    st = billing_flow_create(&s->flow, e);
    if (st != ST_OK)
        goto out;
    if (opt->key_dir[0] != '\0') {
        st = signer_load(&s->sg, opt->key_dir, e);
        if (st != ST_OK) {
            err_wrap(e, "signing key for credit notes");
            goto out;
        }
    }
    if (opt->audit_key[0] != '\0') {
        st = auditlog_key_load(opt->audit_key, &s->audit_key, e);
        if (st != ST_OK) {
            err_wrap(e, "audit checkpoint key");
            goto out;
        }
    }
    st = billing_names_make(opt->cfg.prefix, &s->names, e);
    if (st != ST_OK)
        goto out;
    st = db_connect(&s->db, opt->cfg.db, e);
    if (st != ST_OK)
        goto out;
    {
        char creds[sizeof(opt->cfg.creds)];
        bus_opts bo;

        config_bus_opts(&opt->cfg, "twinline-billing", &bo);
        st = config_creds_for(&opt->cfg, "billing", creds, sizeof(creds), e);
        bo.creds = creds[0] != '\0' ? creds : NULL;
        if (st == ST_OK)
            st = bus_connect_opts(&s->bus, &bo, e);
    }
    if (st != ST_OK)
        goto out;
    st = bus_stream_ensure(s->bus, s->names.stream, s->names.subjects,
                           opt->stream_bytes, e);
    if (st != ST_OK)
        goto out;
    st = bus_pull_create(&s->pull, s->bus, s->names.stream, s->names.filter,
                         BILLING_DURABLE, e);
out:
    if (st != ST_OK) {
        billing_service_destroy(s);
        return st;
    }
    *out = s;
    return ST_OK;
}

void billing_service_destroy(billing_service *s)
{
    if (s == NULL)
        return;
    bus_pull_destroy(s->pull);
    bus_close(s->bus);
    db_close(s->db);
    billing_flow_destroy(s->flow);
    signer_destroy(s->sg);
    nkey_destroy(s->audit_key);
    free(s->msgs);
    free(s->ids);
    free(s->handled);
    free(s->rest);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void billing_service_stop(billing_service *s)
{
    atomic_store(&s->stopping, true);
}

void billing_service_stats(billing_service *s, billing_stats *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    pthread_mutex_unlock(&s->lock);
}

static bool stopping(billing_service *s)
{
    return atomic_load(&s->stopping);
}

/* Sleep ms in short slices; false when a stop was asked for meanwhile. */
static bool nap(billing_service *s, int ms)
{
    int64_t until = clock_mono_us() + (int64_t)ms * 1000;

    while (!stopping(s)) {
        int64_t left = (until - clock_mono_us()) / 1000;
        if (left <= 0)
            return true;
        clock_sleep_ms(left < 50 ? (int)left : 50);
    }
    return false;
}

static int next_backoff(int ms)
{
    return ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms * 2;
}

/* After a failed statement: a deadlock with another biller is retried on
 * the same connection; anything else may have broken it, so open a new
 * one (which also discards any half-open transaction). */
/* Name the session twinline-billing (pg_stat_activity), which is how
 * `twinline bill report` tells whether billing is running. */
static status identify(db *d, err *e)
{
    db_res *r = NULL;
    status s = db_run(d, &billing_sql_service_identify, NULL, &r, e);

    db_res_free(r);
    return s;
}

static void recover_db(billing_service *s, status failed)
{
    err e = {0};

    pthread_mutex_lock(&s->lock);
    s->stats.db_errors++;
    pthread_mutex_unlock(&s->lock);
    if (failed == ST_CONFLICT)
        return;
    if (db_reconnect(s->db, &e) != ST_OK || identify(s->db, &e) != ST_OK)
        log_warn(MOD, "reconnect to PostgreSQL failed: %s", e.msg);
}

static void add_counts(billing_service *s, const billing_counts *c,
                       int64_t swept)
{
    pthread_mutex_lock(&s->lock);
    billing_counts_add(&s->stats.all, c);
    s->stats.swept += swept;
    pthread_mutex_unlock(&s->lock);
}

/*
 * Bill ids[0..n): outcomes whose contract has a price plan through the
 * plan flow (rated, posted pending), the rest with the per-result prices
 * of contract_prices. Two statements, each its own transaction; a retry
 * after the second failed finds the first's lines and bills nothing twice.
 */
static status bill(billing_service *s, const int64_t *ids, int n,
                   int64_t warn_above, billing_counts *counts, err *e)
{
    billing_counts got = {0};
    int m = 0;
    status st;

    st = billing_flow_rate(s->flow, s->db, ids, n, s->handled, &got, e);
    if (st != ST_OK)
        return st;
    for (int i = 0; i < n; i++)
        if (!s->handled[i])
            s->rest[m++] = ids[i];
    st = billing_rate_outcomes(s->db, s->rest, m, warn_above, &got, e);
    if (st != ST_OK)
        return st;
    billing_counts_add(counts, &got);
    return ST_OK;
}

/*
 * Decode the batch, bill every outcome it names in one statement, and only
 * then acknowledge every message, malformed ones included (redelivery
 * cannot fix them). If the database fails, retry the same batch until it
 * succeeds; if a stop comes first, drop the messages unacknowledged so
 * JetStream redelivers them to the next run.
 */
static void handle_batch(billing_service *s, int n)
{
    billing_counts got = {0};
    int nids = 0, malformed = 0, backoff = BACKOFF_MIN_MS;
    bool commit_ok = true;
    err e = {0};
    status st;

    for (int i = 0; i < n; i++) {
        billing_event ev;
        err pe = {0};
        if (billing_event_parse(bus_msg_data(s->msgs[i]),
                                bus_msg_len(s->msgs[i]), &ev, &pe) == ST_OK) {
            s->ids[nids++] = ev.outcome_id;
        } else {
            malformed++;
            log_warn(MOD, "skipping malformed event on %s: %s",
                     bus_msg_subject(s->msgs[i]), pe.msg);
        }
    }
    while (nids > 0) {
        err_clear(&e);
        st = bill(s, s->ids, nids, 0, &got, &e);
        if (st == ST_OK)
            break;
        log_error(MOD,
                  "billing %d events failed: %s; they stay unacknowledged, "
                  "retrying in %d ms",
                  nids, e.msg, backoff);
        recover_db(s, st);
        if (!nap(s, backoff)) {
            commit_ok = false;
            break;
        }
        backoff = next_backoff(backoff);
    }
    for (int i = 0; i < n; i++) {
        if (commit_ok && bus_msg_ack(s->msgs[i], &e) != ST_OK)
            log_warn(MOD,
                     "ack failed (the event will be redelivered and "
                     "bill nothing twice): %s",
                     e.msg);
        bus_msg_free(s->msgs[i]);
        s->msgs[i] = NULL;
    }
    if (!commit_ok)
        return;
    pthread_mutex_lock(&s->lock);
    s->stats.events += n;
    s->stats.malformed += malformed;
    pthread_mutex_unlock(&s->lock);
    add_counts(s, &got, 0);
}

/*
 * Bill billable outcomes older than sweep_age_ms that have no line. At
 * start (catch_up) they are what was recorded while billing was stopped;
 * later, outcomes whose event was lost (JetStream may lose recent messages
 * in a crash) or is stuck. Pages through in id order with the batch
 * statement, and says what it is doing: a catch-up can take a while after
 * a long stop. Warnings about unpriced outcomes are given once per
 * process, not on every pass.
 */
static void sweep(billing_service *s, bool catch_up)
{
    billing_counts got = {0}, swept = {0};
    int64_t after = 0, top = s->sweep_warned;
    int64_t started = clock_mono_us();
    int n = 0, pages = 0;
    err e = {0};
    status st;

    while (!stopping(s)) {
        st = billing_rate_find_unbilled(s->db, after, s->opt.sweep_age_ms,
                                        s->opt.batch, s->ids, &n, &e);
        if (st == ST_OK && n > 0 && pages++ == 0 && catch_up)
            log_info(MOD,
                     "catching up: billing the outcomes recorded while "
                     "billing was not running, %d at a time",
                     s->opt.batch);
        if (st == ST_OK && n > 0)
            st = bill(s, s->ids, n, s->sweep_warned, &got, &e);
        if (st != ST_OK) {
            log_error(MOD, "sweep failed: %s; next sweep in %d ms", e.msg,
                      s->opt.sweep_ms);
            recover_db(s, st);
            break;
        }
        if (n == 0)
            break;
        after = s->ids[n - 1];
        if (after > top)
            top = after;
        if (n < s->opt.batch)
            break;
    }
    s->sweep_warned = top;
    /* Only the lines count: an unpriced outcome is found again on every
     * pass and would inflate the other counters without end. */
    swept.billed = got.billed;
    add_counts(s, &swept, got.billed);
    if (catch_up && pages > 0)
        log_info(MOD,
                 "caught up: %" PRId64 " outcome%s recorded while billing "
                 "was not running %s billed (%.1f s); their events, still "
                 "queued, are acknowledged as duplicates",
                 got.billed, got.billed == 1 ? "" : "s",
                 got.billed == 1 ? "is" : "are",
                 (double)(clock_mono_us() - started) / 1e6);
    else if (got.billed > 0)
        log_warn(MOD,
                 "sweeper billed %" PRId64 " outcomes older than %d ms that "
                 "no event had billed: their events were lost (a NATS "
                 "server crash) or are stuck in the stream",
                 got.billed, s->opt.sweep_age_ms);
}

/*
 * The verification pass: reverse what reopens and complaints claw back
 * (first, so a disputed outcome is never verified), verify outcomes whose
 * window passed, and issue credit notes for reversed invoiced lines. Each
 * step pages through in statements of opt.batch rows.
 */
static void verify_pass(billing_service *s)
{
    int64_t n = 0, reversed = 0, verified = 0;
    int notes = 0;
    err e = {0};
    status st = ST_OK;

    do {
        st = billing_flow_disputes(s->db, s->opt.batch, &n, &e);
        reversed += n;
    } while (st == ST_OK && n > 0 && !stopping(s));
    while (st == ST_OK && !stopping(s)) {
        st = billing_flow_verify(s->db, s->opt.batch, &n, &e);
        verified += n;
        if (n < s->opt.batch)
            break;
    }
    if (st == ST_OK && s->sg != NULL)
        st = billing_flow_credit(s->db, s->sg, &notes, &e);
    if (st != ST_OK) {
        log_error(MOD, "verification pass failed: %s; next pass in %d ms",
                  e.msg, s->opt.verify_ms);
        recover_db(s, st);
    }
    pthread_mutex_lock(&s->lock);
    s->stats.verified += verified;
    s->stats.reversed += reversed;
    s->stats.credit_notes += notes;
    pthread_mutex_unlock(&s->lock);
}

/* Sign an audit checkpoint when records were appended since the last
 * (auditlog.h); a trail that does not check is not signed, loudly. */
static void checkpoint(billing_service *s)
{
    auditlog_checkpointed c;
    err e = {0};
    status st = auditlog_checkpoint(s->db, s->audit_key, &c, &e);

    if (st != ST_OK) {
        log_error(MOD, "audit checkpoint: %s", e.msg);
        recover_db(s, st);
        return;
    }
    if (!c.signed_now)
        return;
    log_info(MOD,
             "audit checkpoint signed at seq %" PRId64 " (%" PRId64
             " records checked)",
             c.seq, c.checked);
    pthread_mutex_lock(&s->lock);
    s->stats.checkpoints++;
    pthread_mutex_unlock(&s->lock);
}

static void log_summary(const billing_stats *now, const billing_stats *was)
{
    log_info(MOD,
             "last interval: events=%" PRId64 " malformed=%" PRId64
             " billed=%" PRId64 " duplicates=%" PRId64 " swept=%" PRId64
             " not_billable=%" PRId64 " no_price=%" PRId64
             " no_contract=%" PRId64 " unknown=%" PRId64 " db_errors=%" PRId64
             "; total billed=%" PRId64,
             now->events - was->events, now->malformed - was->malformed,
             now->all.billed - was->all.billed,
             now->all.duplicates - was->all.duplicates, now->swept - was->swept,
             now->all.not_billable - was->all.not_billable,
             now->all.no_price - was->all.no_price,
             now->all.no_contract - was->all.no_contract,
             now->all.unknown - was->all.unknown,
             now->db_errors - was->db_errors, now->all.billed);
}

static void maybe_summary(billing_service *s, billing_stats *last)
{
    billing_stats now;

    billing_service_stats(s, &now);
    if (memcmp(&now, last, sizeof(now)) == 0)
        return;
    log_summary(&now, last);
    *last = now;
}

status billing_service_run(billing_service *s, err *e)
{
    billing_stats last = {0};
    int64_t now, next_sweep, next_summary, next_verify, next_checkpoint;
    int backoff = BACKOFF_MIN_MS;
    bool first_sweep = true;
    err ie = {0};

    if (s->ran)
        return err_set(e, ST_INTERNAL, "billing_service_run called twice");
    s->ran = true;
    if (identify(s->db, &ie) != ST_OK)
        log_warn(MOD, "could not name the database session: %s", ie.msg);
    log_info(MOD,
             "billing started: stream %s, consumer %s on %s, batch %d, "
             "sweep every %d ms",
             s->names.stream, BILLING_DURABLE, s->names.filter, s->opt.batch,
             s->opt.sweep_ms);
    now = clock_mono_us();
    next_sweep = now; /* catch up at once after a stop or a crash */
    next_verify = now;
    next_checkpoint = now;
    next_summary = now + (int64_t)s->opt.summary_ms * 1000;
    if (s->audit_key == NULL)
        log_warn(MOD, "no audit key (--audit-key, TL_AUDIT_KEY): the audit "
                      "trail gets no signed checkpoints");
    while (!stopping(s)) {
        int wait = BILLING_FETCH_MS, n = 0;
        err fe = {0};

        now = clock_mono_us();
        if (s->opt.sweep_ms > 0 && now >= next_sweep) {
            sweep(s, first_sweep);
            first_sweep = false;
            now = clock_mono_us();
            next_sweep = now + (int64_t)s->opt.sweep_ms * 1000;
        }
        if (s->opt.verify_ms > 0 && now >= next_verify) {
            verify_pass(s);
            now = clock_mono_us();
            next_verify = now + (int64_t)s->opt.verify_ms * 1000;
        }
        if (s->audit_key != NULL && now >= next_checkpoint) {
            checkpoint(s);
            now = clock_mono_us();
            next_checkpoint = now + (int64_t)s->opt.checkpoint_ms * 1000;
        }
        if (now >= next_summary) {
            maybe_summary(s, &last);
            next_summary = now + (int64_t)s->opt.summary_ms * 1000;
        }
        if (s->opt.sweep_ms > 0 && (next_sweep - now) / 1000 < wait)
            wait = (int)((next_sweep - now) / 1000) + 1;
        if (s->opt.verify_ms > 0 && (next_verify - now) / 1000 < wait)
            wait = (int)((next_verify - now) / 1000) + 1;
        if (s->audit_key != NULL && (next_checkpoint - now) / 1000 < wait)
            wait = (int)((next_checkpoint - now) / 1000) + 1;
        /* A sweep or verify pass that overran leaves a due time in the
         * past; cnats refuses a fetch time-out below 1 ms. */
        if (wait < 1)
            wait = 1;
        if (bus_pull_fetch(s->pull, s->opt.batch, wait, s->msgs, &n, &fe) !=
            ST_OK) {
            log_warn(MOD, "fetching events failed: %s; retrying in %d ms",
                     fe.msg, backoff);
            nap(s, backoff);
            backoff = next_backoff(backoff);
            continue;
        }
        backoff = BACKOFF_MIN_MS;
        if (n > 0)
            handle_batch(s, n);
    }
    maybe_summary(s, &last);
    log_info(MOD, "billing stopped");
    return ST_OK;
}
