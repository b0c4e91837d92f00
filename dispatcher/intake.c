/* The dispatcher's intake: per-tenant queues taken fairly, and the
 * tenants' quotas (intake.h). */
#include "intake.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "case_msg.h"
#include "clock.h"
#include "ids.h"
#include "log.h"
#include "strtab.h"
#include "subjects.h"

#define MOD "dispatcher"

/* Tenants and clients told apart; more share one lane (or bucket) each,
 * so that requests for made-up tenants cannot grow the tables without
 * end (NATS permissions confine a tenant to its own subjects anyway). */
#define LANES_MAX   4096
#define CLIENTS_MAX 16384

/* What a refused request's retry waits at least, and at most. */
#define RETRY_MIN_MS 1
#define RETRY_MAX_MS 60000

typedef struct entry {
    bus_msg *m;
    int client; /* index in clients; -1: none */
} entry;

typedef struct fifo {
    entry *v;
    int head;
    int len;
    int cap;
} fifo;

/* A token bucket and the count of open requests. */
typedef struct bucket {
    double tokens;
    int64_t at_us;    /* when tokens was last brought up to date */
    int64_t retry_us; /* the latest retry time told to a refused request */
    int open;
} bucket;

typedef struct lane {
    fifo q;
    bucket b;
    bool active; /* in the ring of lanes with requests waiting */
} lane;

struct dsp_intake {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    char prefix[64]; /* as config.prefix */
    dsp_intake_opts o;

    fifo service; /* workers' and operators' requests */
    strtab *tenant_ids;
    lane *lanes; /* by tenant index; LANES_MAX is the overflow lane */
    strtab *client_ids;
    bucket *clients; /* by client index; CLIENTS_MAX is the overflow */

    int *ring; /* lanes with requests waiting, in turn */
    int ring_head;
    int ring_len;

    int *taken_lane; /* the last take: each message's lane (-1: service) */
    int *taken_client;
    int ntaken;
    int cap_taken;
    bool service_first; /* batches of one alternate */

    int64_t take_us;      /* when the last take returned */
    int64_t batch_avg_us; /* how long a batch takes, on average */
    bool woken;
    dsp_intake_counts counts;
};

static status fifo_push(fifo *f, entry x, err *e)
{
    if (f->len == f->cap) {
        int ncap = f->cap > 0 ? f->cap * 2 : 64;
        entry *nv = malloc((size_t)ncap * sizeof(*nv));

        if (nv == NULL)
            return err_set(e, ST_NOMEM, "out of memory");
        for (int i = 0; i < f->len; i++)
            nv[i] = f->v[(f->head + i) % f->cap];
        free(f->v);
        f->v = nv;
        f->cap = ncap;
        f->head = 0;
    }
    f->v[(f->head + f->len) % f->cap] = x;
    f->len++;
    return ST_OK;
}

static entry fifo_pop(fifo *f)
{
    entry x = f->v[f->head];

    f->head = (f->head + 1) % f->cap;
    f->len--;
    return x;
}

static void fifo_free(fifo *f)
{
    while (f->len > 0)
        bus_msg_free(fifo_pop(f).m);
    free(f->v);
}

static bool quota_ok(const dsp_quota *q)
{
    return q->rate >= 0 && q->burst >= 0 && q->open_max >= 0;
}

status dsp_intake_create(dsp_intake **out, const char *prefix,
                         const dsp_intake_opts *o, err *e)
{
    dsp_intake *in;
    status s;

    if (!quota_ok(&o->tenant) || !quota_ok(&o->client))
        return err_set(e, ST_CONFIG, "quota limits must not be negative");
    if ((in = calloc(1, sizeof(*in))) == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    snprintf(in->prefix, sizeof(in->prefix), "%s", prefix);
    in->o = *o;
    pthread_mutex_init(&in->lock, NULL);
    pthread_cond_init(&in->cond, NULL);
    in->lanes = calloc(LANES_MAX + 1, sizeof(lane));
    in->ring = calloc(LANES_MAX + 1, sizeof(int));
    in->clients = calloc(CLIENTS_MAX + 1, sizeof(bucket));
    s = in->lanes != NULL && in->ring != NULL && in->clients != NULL
            ? strtab_create(&in->tenant_ids, e)
            : err_set(e, ST_NOMEM, "out of memory");
    if (s == ST_OK)
        s = strtab_create(&in->client_ids, e);
    if (s != ST_OK) {
        dsp_intake_destroy(in);
        return s;
    }
    *out = in;
    return ST_OK;
}

void dsp_intake_destroy(dsp_intake *in)
{
    if (in == NULL)
        return;
    fifo_free(&in->service);
    for (int i = 0; in->lanes != NULL && i <= LANES_MAX; i++)
        fifo_free(&in->lanes[i].q);
    free(in->lanes);
    free(in->ring);
    free(in->clients);
    free(in->taken_lane);
    free(in->taken_client);
    strtab_destroy(in->tenant_ids);
    strtab_destroy(in->client_ids);
    pthread_mutex_destroy(&in->lock);
    pthread_cond_destroy(&in->cond);
    free(in);
}

/* The index of key in t, added when new; full tables give overflow. */
static int index_of(strtab *t, const char *key, int max)
{
    int i = strtab_find(t, key);

    if (i >= 0)
        return i;
    if (strtab_count(t) >= max || strtab_intern(t, key, &i, NULL) != ST_OK)
        return max;
    return i;
}

/*
 * Whether b may take one more request under q now; else *retry_ms says
 * when it may and *why names the limit. Takes the token when it may.
 */
/* Bring b's tokens up to now under q (q->rate > 0). */
static void refill(bucket *b, const dsp_quota *q, int64_t now_us)
{
    int burst = q->burst > 0 ? q->burst : q->rate;

    if (b->at_us == 0) {
        b->tokens = burst; /* a new bucket starts full */
    } else {
        b->tokens += (double)(now_us - b->at_us) * q->rate / 1e6;
        if (b->tokens > burst)
            b->tokens = burst;
    }
    b->at_us = now_us;
}

static bool admit(bucket *b, const dsp_quota *q, int64_t now_us,
                  int64_t open_retry_ms, int64_t *retry_ms, const char **why)
{
    if (q->open_max > 0 && b->open >= q->open_max) {
        *retry_ms = open_retry_ms;
        *why = "open";
        return false;
    }
    if (q->rate <= 0)
        return true;
    refill(b, q, now_us);
    if (b->tokens < 1.0) {
        /* Each refused request is told a later time than the one before,
         * one token's time apart, so that a refused burst comes back
         * spread over the rate instead of all at once to be refused
         * again. The first gets the time the next token is there. */
        int64_t next = now_us + (int64_t)((1.0 - b->tokens) * 1e6 / q->rate);

        if (b->retry_us >= next)
            next = b->retry_us + 1000000 / q->rate;
        b->retry_us = next;
        *retry_ms = (next - now_us) / 1000 + 1; /* rounded up */
        *why = "rate";
        return false;
    }
    b->tokens -= 1.0;
    return true;
}

bool dsp_intake_client_of(const char *reply, char id[ID_MAX + 1])
{
    static const char pfx[] = "_INBOX_";
    const char *dot;
    size_t n;

    if (reply == NULL || strncmp(reply, pfx, sizeof(pfx) - 1) != 0)
        return false;
    reply += sizeof(pfx) - 1;
    dot = strchr(reply, '.');
    n = dot != NULL ? (size_t)(dot - reply) : 0;
    if (n == 0 || n > ID_MAX)
        return false;
    memcpy(id, reply, n);
    id[n] = '\0';
    return ids_token_valid(id);
}

/* The rate_limited reply to m, published at once. */
static void refuse(bus *b, const bus_msg *m, const char *tenant,
                   const char *client, const dsp_quota *q, const char *why,
                   int64_t retry_ms)
{
    char msg[400], who[2 * ID_MAX + 32];
    char *body = NULL;
    size_t len;
    err e = {0};

    if (bus_msg_reply(m) == NULL)
        return;
    if (client != NULL)
        snprintf(who, sizeof(who), "client %s of tenant %s", client, tenant);
    else
        snprintf(who, sizeof(who), "tenant %s", tenant);
    if (strcmp(why, "open") == 0)
        snprintf(msg, sizeof(msg),
                 "%s has %d requests open, its limit; retry after %lld ms", who,
                 q->open_max, (long long)retry_ms);
    else
        snprintf(msg, sizeof(msg),
                 "%s is over its request rate (%d per second, bursts of %d); "
                 "retry after %lld ms",
                 who, q->rate, q->burst > 0 ? q->burst : q->rate,
                 (long long)retry_ms);
    if (case_msg_rate_limited_reply(msg, retry_ms, &body, &len, &e) == ST_OK &&
        bus_publish(b, bus_msg_reply(m), body, len, &e) != ST_OK)
        log_warn(MOD, "rate_limited reply not sent: %s", e.msg);
    free(body);
}

static int64_t clamp_retry(int64_t ms)
{
    return ms < RETRY_MIN_MS   ? RETRY_MIN_MS
           : ms > RETRY_MAX_MS ? RETRY_MAX_MS
                               : ms;
}

void dsp_intake_put(dsp_intake *in, bus *b, bus_msg *m)
{
    subjects_parsed p;
    char cid[ID_MAX + 1], key[2 * ID_MAX + 2];
    const char *why = NULL, *client = NULL;
    int64_t now = clock_mono_us(), retry = 0, open_retry;
    const dsp_quota *over = NULL;
    err e = {0};
    status s;

    pthread_mutex_lock(&in->lock);
    /* A request over a cap of open requests may retry once a batch was
     * answered. */
    open_retry = clamp_retry((in->batch_avg_us + 999) / 1000);
    if (!subjects_parse(bus_msg_subject(m), in->prefix, &p) ||
        p.kind != SUBJECTS_API) {
        /* Workers, operators and what the loop will refuse as unknown. */
        s = fifo_push(&in->service, (entry){m, -1}, &e);
    } else {
        int t = index_of(in->tenant_ids, p.party, LANES_MAX);
        int c = -1;
        lane *l = &in->lanes[t];

        if (dsp_intake_client_of(bus_msg_reply(m), cid)) {
            snprintf(key, sizeof(key), "%s\x1f%s", p.party, cid);
            c = index_of(in->client_ids, key, CLIENTS_MAX);
        }
        if (!admit(&l->b, &in->o.tenant, now, open_retry, &retry, &why)) {
            over = &in->o.tenant;
        } else if (c >= 0 && !admit(&in->clients[c], &in->o.client, now,
                                    open_retry, &retry, &why)) {
            over = &in->o.client;
            client = cid;
            /* The tenant's token is given back: nothing was queued. */
            if (in->o.tenant.rate > 0)
                l->b.tokens += 1.0;
        }
        if (over != NULL) {
            if (strcmp(why, "open") == 0)
                in->counts.limited_open++;
            else
                in->counts.limited_rate++;
            pthread_mutex_unlock(&in->lock);
            refuse(b, m, p.party, client, over, why, clamp_retry(retry));
            bus_msg_free(m);
            return;
        }
        s = fifo_push(&l->q, (entry){m, c}, &e);
        if (s == ST_OK) {
            l->b.open++;
            if (c >= 0)
                in->clients[c].open++;
            if (!l->active) {
                l->active = true;
                in->ring[(in->ring_head + in->ring_len++) % (LANES_MAX + 1)] =
                    t;
            }
        }
    }
    if (s == ST_OK) {
        in->counts.queued++;
        pthread_cond_signal(&in->cond);
    }
    pthread_mutex_unlock(&in->lock);
    if (s != ST_OK) {
        /* The sender times out and retries. */
        log_error(MOD, "intake: %s; dropping a message", e.msg);
        bus_msg_free(m);
    }
}

/* Note a message of lane ln (-1: the service queue) and client (-1:
 * none) as taken. */
static bool note_taken(dsp_intake *in, int ln, int client)
{
    if (in->ntaken == in->cap_taken) {
        int ncap = in->cap_taken > 0 ? in->cap_taken * 2 : 256;
        int *nl = realloc(in->taken_lane, (size_t)ncap * sizeof(int));
        int *nc;

        if (nl == NULL)
            return false;
        in->taken_lane = nl;
        nc = realloc(in->taken_client, (size_t)ncap * sizeof(int));
        if (nc == NULL)
            return false;
        in->taken_client = nc;
        in->cap_taken = ncap;
    }
    in->taken_lane[in->ntaken] = ln;
    in->taken_client[in->ntaken++] = client;
    return true;
}

/* Up to max from the service queue into msgs[*n..]. */
static void take_service(dsp_intake *in, bus_msg **msgs, int *n, int max)
{
    while (*n < max && in->service.len > 0 && note_taken(in, -1, -1))
        msgs[(*n)++] = fifo_pop(&in->service).m;
}

/* One request of each waiting tenant in turn into msgs[*n..max). */
static void take_tenants(dsp_intake *in, bus_msg **msgs, int *n, int max)
{
    while (*n < max && in->ring_len > 0) {
        int t = in->ring[in->ring_head];
        lane *l = &in->lanes[t];
        entry x;

        if (!note_taken(in, t, l->q.v[l->q.head].client))
            return;
        x = fifo_pop(&l->q);
        msgs[(*n)++] = x.m;
        in->ring_head = (in->ring_head + 1) % (LANES_MAX + 1);
        in->ring_len--;
        if (l->q.len > 0)
            in->ring[(in->ring_head + in->ring_len++) % (LANES_MAX + 1)] = t;
        else
            l->active = false;
    }
}

int dsp_intake_take(dsp_intake *in, bus_msg **msgs, int max, int wait_ms)
{
    int n = 0, first;

    pthread_mutex_lock(&in->lock);
    if (in->service.len == 0 && in->ring_len == 0 && wait_ms > 0 &&
        !in->woken) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)wait_ms * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&in->cond, &in->lock, &ts);
    }
    in->ntaken = 0;
    /* Up to half the batch for the workers and operators, then the
     * tenants in turn, then the rest again for the workers. */
    first = max > 1 ? (max + 1) / 2 : (in->service_first ? 1 : 0);
    in->service_first = !in->service_first;
    take_service(in, msgs, &n, first);
    take_tenants(in, msgs, &n, max);
    take_service(in, msgs, &n, max);
    in->take_us = clock_mono_us();
    pthread_mutex_unlock(&in->lock);
    return n;
}

/* Whether b holds extra tokens under q now; else the error. */
static status holds(bucket *b, const dsp_quota *q, int64_t now_us, int extra,
                    const char *who, int64_t *retry_ms, err *e)
{
    int burst = q->burst > 0 ? q->burst : q->rate;

    if (q->rate <= 0)
        return ST_OK;
    if (extra + 1 > burst)
        return err_set(e, ST_TOO_LARGE,
                       "a request of %d cases is more than %s may send at "
                       "once (bursts of %d); nothing was done: send them in "
                       "requests of at most %d cases",
                       extra + 1, who, burst, burst);
    refill(b, q, now_us);
    if (b->tokens >= (double)extra)
        return ST_OK;
    *retry_ms = clamp_retry(
        (int64_t)(((double)extra - b->tokens) * 1000.0 / q->rate) + 1);
    return err_set(e, ST_RATE_LIMITED,
                   "%s is over its request rate (%d per second, bursts of "
                   "%d; each case of a submit_many counts); nothing was "
                   "done: retry after %lld ms",
                   who, q->rate, burst, (long long)*retry_ms);
}

status dsp_intake_charge(dsp_intake *in, const bus_msg *m, const char *tenant,
                         int extra, int64_t *retry_ms, err *e)
{
    char cid[ID_MAX + 1], key[2 * ID_MAX + 2], who[2 * ID_MAX + 32];
    int64_t now = clock_mono_us();
    bucket *tb = NULL, *cb = NULL;
    int t, c;
    status s = ST_OK;

    if (extra <= 0)
        return ST_OK;
    pthread_mutex_lock(&in->lock);
    t = strtab_find(in->tenant_ids, tenant);
    tb = &in->lanes[t >= 0 ? t : LANES_MAX].b;
    if (dsp_intake_client_of(bus_msg_reply(m), cid)) {
        snprintf(key, sizeof(key), "%s\x1f%s", tenant, cid);
        c = strtab_find(in->client_ids, key);
        cb = &in->clients[c >= 0 ? c : CLIENTS_MAX];
    }
    snprintf(who, sizeof(who), "tenant %s", tenant);
    s = holds(tb, &in->o.tenant, now, extra, who, retry_ms, e);
    if (s == ST_OK && cb != NULL) {
        snprintf(who, sizeof(who), "client %s of tenant %s", cid, tenant);
        s = holds(cb, &in->o.client, now, extra, who, retry_ms, e);
    }
    if (s == ST_OK) {
        if (in->o.tenant.rate > 0)
            tb->tokens -= (double)extra;
        if (cb != NULL && in->o.client.rate > 0)
            cb->tokens -= (double)extra;
    } else if (s == ST_RATE_LIMITED) {
        in->counts.limited_rate++;
    }
    pthread_mutex_unlock(&in->lock);
    return s;
}

void dsp_intake_done(dsp_intake *in)
{
    int64_t took;

    pthread_mutex_lock(&in->lock);
    for (int i = 0; i < in->ntaken; i++) {
        if (in->taken_lane[i] >= 0)
            in->lanes[in->taken_lane[i]].b.open--;
        if (in->taken_client[i] >= 0)
            in->clients[in->taken_client[i]].open--;
    }
    if (in->ntaken > 0) {
        /* An average over the last few batches (weight 1/8). */
        took = clock_mono_us() - in->take_us;
        in->batch_avg_us =
            in->batch_avg_us == 0
                ? took
                : in->batch_avg_us + (took - in->batch_avg_us) / 8;
    }
    in->ntaken = 0;
    pthread_mutex_unlock(&in->lock);
}

void dsp_intake_wake(dsp_intake *in)
{
    pthread_mutex_lock(&in->lock);
    in->woken = true;
    pthread_cond_broadcast(&in->cond);
    pthread_mutex_unlock(&in->lock);
}

void dsp_intake_counts_get(dsp_intake *in, dsp_intake_counts *out)
{
    pthread_mutex_lock(&in->lock);
    *out = in->counts;
    pthread_mutex_unlock(&in->lock);
}
