/* Partitions, their leases and which requests are this dispatcher's. */
#include "partition.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "case_msg.h"
#include "clock.h"
#include "dsp_sql.h"
#include "ids.h"
#include "log.h"
#include "sbuf.h"
#include "subjects.h"

#define MOD           "dispatcher"
#define PART_NAME_MAX 80 /* a pool id, or "tenant:" and a tenant id */

typedef struct lease {
    char name[PART_NAME_MAX];
    int64_t token;
} lease;

typedef struct parked {
    bus_msg *m;
    int64_t since_us;
} parked;

struct dsp_part {
    lease *held; /* the leases this dispatcher holds, by name */
    int nheld;
    int cap_held;
    int total;              /* partitions in the database */
    bool lead;              /* answers what belongs to no partition */
    bool fence_set;         /* the session knows the held leases */
    bool gained;            /* the round took a lease */
    int64_t valid_until_us; /* local deadline of the held leases */
    int64_t next_round_us;
    int64_t listen_since_us; /* workers heard continuously since */
    int64_t last_loop_us;

    /* Where requests go: tenants and workers to a partition index in
     * parts, reloaded when the map's version changes; and each
     * partition's live owner ("" when none). */
    int64_t map_version;
    int64_t map_loaded_us; /* when the map was last read */
    strtab *parts;
    strtab *tenants;
    strtab *workers;
    int *t2p;
    int *w2p;
    char (*owner)[ID_MAX + 1];
    int cap_owner;

    parked *park;
    int npark;
    int cap_park;
};

static int lease_ms(const dispatcher *d)
{
    return d->opts.ha_lease_ms;
}

/* Rounds every sixth of the lease: a standby notices an expired lease
 * within that, and the owner renews four times before its local
 * deadline. */
static int round_ms(const dispatcher *d)
{
    return lease_ms(d) / 6 > 50 ? lease_ms(d) / 6 : 50;
}

static int margin_ms(const dispatcher *d)
{
    return lease_ms(d) / 4;
}

static int held_index(const dsp_part *p, const char *name)
{
    for (int i = 0; i < p->nheld; i++)
        if (strcmp(p->held[i].name, name) == 0)
            return i;
    return -1;
}

static status held_add(dsp_part *p, const char *name, int64_t token, err *e)
{
    if (p->nheld == p->cap_held) {
        int ncap = p->cap_held > 0 ? p->cap_held * 2 : 8;
        lease *n = realloc(p->held, sizeof(lease) * (size_t)ncap);
        if (n == NULL)
            return err_set(e, ST_NOMEM, "out of memory");
        p->held = n;
        p->cap_held = ncap;
    }
    snprintf(p->held[p->nheld].name, PART_NAME_MAX, "%s", name);
    p->held[p->nheld].token = token;
    p->nheld++;
    return ST_OK;
}

/* {name, ...} and {token, ...} of the held leases, for the statements. */
static status held_arrays(const dsp_part *p, sbuf *names, sbuf *tokens,
                          sbuf *json)
{
    sbuf_append(names, "{", 1);
    sbuf_append(tokens, "{", 1);
    sbuf_append(json, "{", 1);
    for (int i = 0; i < p->nheld; i++) {
        /* Partition names are tokens or "tenant:" and a token: no quoting
         * is needed in an array literal or a JSON string. */
        sbuf_printf(names, "%s\"%s\"", i > 0 ? "," : "", p->held[i].name);
        sbuf_printf(tokens, "%s%lld", i > 0 ? "," : "",
                    (long long)p->held[i].token);
        sbuf_printf(json, "%s\"%s\":%lld", i > 0 ? "," : "", p->held[i].name,
                    (long long)p->held[i].token);
    }
    sbuf_append(names, "}", 1);
    sbuf_append(tokens, "}", 1);
    sbuf_append(json, "}", 1);
    return names->failed || tokens->failed || json->failed ? ST_NOMEM : ST_OK;
}

/* Tell the session which leases it holds (ha_fence_set.sql). */
static status set_fence(dispatcher *d, err *e)
{
    dsp_part *p = d->part;
    sbuf names = {0}, tokens = {0}, json = {0};
    db_res *r = NULL;
    status s = held_arrays(p, &names, &tokens, &json);

    if (s != ST_OK) {
        s = err_set(e, ST_NOMEM, "out of memory");
    } else {
        char tbuf[24];
        const char *params[3] = {d->opts.member, sbuf_str(&json),
                                 db_i64_str(tbuf, lease_ms(d) / 3)};
        s = db_run(d->db, &dsp_sql_ha_fence_set, params, &r, e);
    }
    p->fence_set = s == ST_OK;
    db_res_free(r);
    sbuf_free(&names);
    sbuf_free(&tokens);
    sbuf_free(&json);
    return s;
}

static status ensure_owner(dsp_part *p, int n, err *e)
{
    if (n <= p->cap_owner)
        return ST_OK;
    int ncap = p->cap_owner > 0 ? p->cap_owner : 16;
    while (ncap < n)
        ncap *= 2;
    char(*o)[ID_MAX + 1] = realloc(p->owner, sizeof(*o) * (size_t)ncap);
    if (o == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    for (int i = p->cap_owner; i < ncap; i++)
        o[i][0] = '\0';
    p->owner = o;
    p->cap_owner = ncap;
    return ST_OK;
}

/* Reload where requests go (ha_map.sql). */
static status load_map(dispatcher *d, err *e)
{
    dsp_part *p = d->part;
    db_res *r = NULL;
    status s = db_run(d->db, &dsp_sql_ha_map, NULL, &r, e);
    int n = s == ST_OK ? db_rows(r) : 0;
    strtab *tt = NULL, *wt = NULL;
    int *t2p = NULL, *w2p = NULL;

    if (s == ST_OK)
        s = strtab_create(&tt, e);
    if (s == ST_OK)
        s = strtab_create(&wt, e);
    if (s == ST_OK) {
        t2p = calloc((size_t)n + 1, sizeof(int));
        w2p = calloc((size_t)n + 1, sizeof(int));
        if (t2p == NULL || w2p == NULL)
            s = err_set(e, ST_NOMEM, "out of memory");
    }
    for (int i = 0; s == ST_OK && i < n; i++) {
        bool tenant = strcmp(db_val(r, i, DSP_HA_MAP_KIND), "tenant") == 0;
        int id, part;
        s = strtab_intern(tenant ? tt : wt, db_val(r, i, DSP_HA_MAP_ID), &id,
                          e);
        if (s == ST_OK)
            s = strtab_intern(p->parts, db_val(r, i, DSP_HA_MAP_PARTITION),
                              &part, e);
        if (s == ST_OK)
            (tenant ? t2p : w2p)[id] = part;
    }
    if (s == ST_OK)
        s = ensure_owner(p, strtab_count(p->parts), e);
    if (s == ST_OK) {
        strtab_destroy(p->tenants);
        strtab_destroy(p->workers);
        free(p->t2p);
        free(p->w2p);
        p->tenants = tt;
        p->workers = wt;
        p->t2p = t2p;
        p->w2p = w2p;
        p->map_loaded_us = clock_mono_us();
        tt = wt = NULL;
        t2p = w2p = NULL;
    }
    strtab_destroy(tt);
    strtab_destroy(wt);
    free(t2p);
    free(w2p);
    db_res_free(r);
    return s;
}

/* Renew what is held; drop what was lost. */
static status renew(dispatcher *d, bool *changed, err *e)
{
    dsp_part *p = d->part;
    sbuf names = {0}, tokens = {0}, json = {0};
    char lbuf[24], pbuf[24], host[64] = "";
    db_res *r = NULL;
    int64_t t0 = clock_mono_us();
    status s;

    gethostname(host, sizeof(host) - 1);
    {
        const char *params[3] = {d->opts.member, host,
                                 db_i64_str(pbuf, (int64_t)getpid())};
        s = db_run(d->db, &dsp_sql_ha_join, params, &r, e);
    }
    db_res_free(r);
    r = NULL;
    if (s == ST_OK && held_arrays(p, &names, &tokens, &json) != ST_OK)
        s = err_set(e, ST_NOMEM, "out of memory");
    if (s == ST_OK) {
        const char *params[4] = {d->opts.member, db_i64_str(lbuf, lease_ms(d)),
                                 sbuf_str(&names), sbuf_str(&tokens)};
        s = db_run(d->db, &dsp_sql_ha_renew, params, &r, e);
    }
    if (s == ST_OK) {
        /* Keep, in order, the leases the statement renewed. */
        int k = 0;
        for (int i = 0; i < p->nheld; i++) {
            bool kept = false;
            for (int j = 0; j < db_rows(r) && !kept; j++)
                kept = strcmp(db_val(r, j, DSP_HA_RENEW_PARTITION),
                              p->held[i].name) == 0;
            if (kept) {
                p->held[k++] = p->held[i];
                continue;
            }
            log_warn(MOD,
                     "lease of partition %s (token %lld) lost: another "
                     "dispatcher may own it now; its requests are no longer "
                     "answered here",
                     p->held[i].name, (long long)p->held[i].token);
            *changed = true;
        }
        p->nheld = k;
        p->valid_until_us = t0 + (int64_t)(lease_ms(d) - margin_ms(d)) * 1000;
    }
    db_res_free(r);
    sbuf_free(&names);
    sbuf_free(&tokens);
    sbuf_free(&json);
    return s;
}

/* Live members and how many leases each holds (ha_live.sql): *n of them,
 * *fewest the smallest count of a member other than this one (-1 when
 * none), *first_id whether this is the first live member by id. */
static status live_members(dispatcher *d, int *n, int *fewest, bool *first_id,
                           err *e)
{
    char lbuf[24];
    const char *params[1] = {db_i64_str(lbuf, lease_ms(d))};
    db_res *r = NULL;
    status s = db_run(d->db, &dsp_sql_ha_live, params, &r, e);
    const char *least_id = NULL;

    *n = 1;
    *fewest = -1;
    *first_id = true;
    if (s != ST_OK)
        return s;
    *n = 0;
    for (int i = 0; i < db_rows(r); i++) {
        const char *id = db_val(r, i, DSP_HA_LIVE_ID);
        (*n)++;
        if (least_id == NULL || strcmp(id, least_id) < 0)
            least_id = id;
        if (strcmp(id, d->opts.member) == 0)
            continue;
        if (*fewest < 0 || db_i64(r, i, DSP_HA_LIVE_LEASES) < *fewest)
            *fewest = (int)db_i64(r, i, DSP_HA_LIVE_LEASES);
    }
    if (*n == 0)
        *n = 1;
    *first_id = least_id == NULL || strcmp(least_id, d->opts.member) >= 0;
    db_res_free(r);
    return ST_OK;
}

/* A stable start for the walk over free partitions, so that dispatchers
 * starting together try different ones first. */
static unsigned spread(const char *member)
{
    unsigned h = 2166136261u;
    for (const char *c = member; *c != '\0'; c++)
        h = (h ^ (unsigned char)*c) * 16777619u;
    return h;
}

/*
 * Rebalance from the view of every lease (ha_view.sql): the share of each
 * live member is ceil(partitions / members). Over it, give one lease up
 * when another member holds less than its share (one a round, so the
 * partitions move one at a time); under it, take free ones.
 */
static status rebalance(dispatcher *d, bool *changed, err *e)
{
    dsp_part *p = d->part;
    char lbuf[24];
    const char *vparams[2] = {d->opts.member, db_i64_str(lbuf, lease_ms(d))};
    db_res *v = NULL, *r = NULL;
    int members, fewest, share, n;
    bool first_id;
    status s = live_members(d, &members, &fewest, &first_id, e);

    if (s == ST_OK)
        s = db_run(d->db, &dsp_sql_ha_view, vparams, &v, e);
    if (s != ST_OK)
        goto out;
    n = db_rows(v);
    p->total = n;
    if (n > 0 && db_i64(v, 0, DSP_HA_VIEW_MAP_VERSION) != p->map_version) {
        s = load_map(d, e);
        if (s != ST_OK)
            goto out;
        p->map_version = db_i64(v, 0, DSP_HA_VIEW_MAP_VERSION);
    }
    share = (n + members - 1) / members;
    if (p->nheld > share && fewest >= 0 && fewest < share) {
        const char *params[2] = {d->opts.member, NULL};
        char arr[PART_NAME_MAX + 8];
        lease *last = &p->held[p->nheld - 1];

        snprintf(arr, sizeof(arr), "{\"%s\"}", last->name);
        params[1] = arr;
        /* Stop owning it first: the session's fence no longer names it,
         * so nothing of this partition can be written once it is free. */
        p->nheld--;
        s = set_fence(d, e);
        if (s == ST_OK)
            s = db_run(d->db, &dsp_sql_ha_release, params, &r, e);
        if (s != ST_OK)
            goto out;
        log_info(MOD,
                 "partition %s handed over (%d dispatchers, share %d); "
                 "holding %d",
                 last->name, members, share, p->nheld);
        *changed = true;
    }
    for (int k = 0,
             start = n > 0 ? (int)(spread(d->opts.member) % (unsigned)n) : 0;
         s == ST_OK && k < n && p->nheld < share; k++) {
        int i = (start + k) % n;
        const char *name = db_val(v, i, DSP_HA_VIEW_PARTITION);
        const char *params[3] = {d->opts.member, lbuf, name};

        if (!db_bool(v, i, DSP_HA_VIEW_FREE) || held_index(p, name) >= 0)
            continue;
        db_res_free(r);
        r = NULL;
        s = db_run(d->db, &dsp_sql_ha_acquire, params, &r, e);
        if (s != ST_OK || db_rows(r) == 0)
            continue; /* another dispatcher was quicker */
        s = held_add(p, name, db_i64(r, 0, DSP_HA_ACQUIRE_TOKEN), e);
        if (s != ST_OK)
            break;
        p->gained = true;
        log_info(MOD,
                 "partition %s taken with token %s (was %s); holding %d of "
                 "%d",
                 name, db_val(r, 0, DSP_HA_ACQUIRE_TOKEN),
                 db_val(v, i, DSP_HA_VIEW_OWNER)[0] != '\0'
                     ? db_val(v, i, DSP_HA_VIEW_OWNER)
                     : "free",
                 p->nheld, n);
        *changed = true;
    }
    /* The owners requests go to, and who answers what has no partition:
     * the holder of the first partition, or the first live member when
     * there is none. */
    for (int i = 0; s == ST_OK && i < n; i++) {
        int part;
        s = strtab_intern(p->parts, db_val(v, i, DSP_HA_VIEW_PARTITION), &part,
                          e);
        if (s == ST_OK)
            s = ensure_owner(p, part + 1, e);
        if (s != ST_OK)
            break;
        snprintf(p->owner[part], ID_MAX + 1, "%s",
                 !db_bool(v, i, DSP_HA_VIEW_FREE) &&
                         db_bool(v, i, DSP_HA_VIEW_OWNER_LIVE)
                     ? db_val(v, i, DSP_HA_VIEW_OWNER)
                     : "");
        if (held_index(p, db_val(v, i, DSP_HA_VIEW_PARTITION)) >= 0)
            snprintf(p->owner[part], ID_MAX + 1, "%s", d->opts.member);
    }
    p->lead = n > 0 ? held_index(p, db_val(v, 0, DSP_HA_VIEW_PARTITION)) >= 0
                    : first_id;
out:
    db_res_free(v);
    db_res_free(r);
    return s;
}

status dsp_part_round(dispatcher *d, bool force, bool *changed, err *e)
{
    dsp_part *p = d->part;
    int64_t now = clock_mono_us();
    status s;

    /* A loop that did not come round for a while (a freeze, a stall)
     * heard nobody meanwhile. */
    if (p->last_loop_us > 0 &&
        now - p->last_loop_us > (int64_t)round_ms(d) * 3000)
        dsp_part_deaf(d, "the loop stalled");
    p->last_loop_us = now;
    if (!force && now < p->next_round_us)
        return ST_OK;
    p->next_round_us = now + (int64_t)round_ms(d) * 1000;
    s = renew(d, changed, e);
    if (s == ST_OK)
        s = rebalance(d, changed, e);
    /* A lease just taken runs from its renewal like the others, and the
     * local deadline with it. */
    if (s == ST_OK && p->gained)
        s = renew(d, changed, e);
    if (s == ST_OK && (*changed || !p->fence_set))
        s = set_fence(d, e);
    if (s == ST_OK && p->gained)
        dsp_part_deaf(d, "partitions were taken over");
    p->gained = false;
    return s;
}

status dsp_part_reconnected(dispatcher *d, err *e)
{
    bool changed = false;

    d->part->fence_set = false;
    dsp_part_deaf(d, "the database connection was lost");
    return dsp_part_round(d, true, &changed, e);
}

status dsp_part_create(dispatcher *d, err *e)
{
    dsp_part *p = calloc(1, sizeof(*p));
    bool changed = false;
    status s;

    if (p == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    d->part = p;
    p->map_version = -1;
    if (d->opts.member[0] == '\0') {
        char host[48] = "";
        gethostname(host, sizeof(host) - 1);
        for (char *c = host; *c != '\0'; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'))
                *c = '-';
        snprintf(d->opts.member, sizeof(d->opts.member), "%s-%ld",
                 host[0] != '\0' ? host : "dispatcher", (long)getpid());
    }
    if (!ids_token_valid(d->opts.member))
        return err_set(e, ST_INVALID,
                       "dispatcher id \"%s\" must be 1 to %d characters of "
                       "A-Z a-z 0-9 _ -",
                       d->opts.member, ID_MAX);
    s = strtab_create(&p->parts, e);
    if (s == ST_OK)
        s = strtab_create(&p->tenants, e);
    if (s == ST_OK)
        s = strtab_create(&p->workers, e);
    if (s == ST_OK) {
        char lbuf[24];
        const char *params[2] = {d->opts.member, db_i64_str(lbuf, lease_ms(d))};
        db_res *r = NULL;
        s = db_run(d->db, &dsp_sql_ha_reclaim, params, &r, e);
        for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
            log_info(MOD, "partition %s taken back from an earlier %s",
                     db_val(r, i, DSP_HA_RECLAIM_PARTITION), d->opts.member);
            s = held_add(p, db_val(r, i, DSP_HA_RECLAIM_PARTITION),
                         db_i64(r, i, DSP_HA_RECLAIM_TOKEN), e);
            p->gained = true;
        }
        db_res_free(r);
    }
    if (s == ST_OK)
        s = dsp_part_round(d, true, &changed, e);
    if (s == ST_OK)
        log_info(MOD, "dispatcher %s holds %d of %d partitions%s",
                 d->opts.member, p->nheld, p->total,
                 p->nheld == 0 && p->total > 0 ? " (standby)" : "");
    dsp_part_deaf(d, NULL);
    return s;
}

void dsp_part_destroy(dispatcher *d)
{
    dsp_part *p = d->part;

    if (p == NULL)
        return;
    if (d->db != NULL && p->nheld > 0) {
        sbuf names = {0}, tokens = {0}, json = {0};
        db_res *r = NULL;
        err e = {0};
        if (held_arrays(p, &names, &tokens, &json) == ST_OK) {
            const char *params[2] = {d->opts.member, sbuf_str(&names)};
            if (db_run(d->db, &dsp_sql_ha_release, params, &r, &e) != ST_OK)
                log_warn(MOD, "giving up leases: %s", e.msg);
        }
        db_res_free(r);
        sbuf_free(&names);
        sbuf_free(&tokens);
        sbuf_free(&json);
    }
    if (d->db != NULL) {
        const char *params[1] = {d->opts.member};
        db_res *r = NULL;
        err e = {0};
        (void)db_run(d->db, &dsp_sql_ha_leave, params, &r, &e);
        db_res_free(r);
    }
    for (int i = 0; i < p->npark; i++)
        bus_msg_free(p->park[i].m);
    free(p->park);
    free(p->held);
    strtab_destroy(p->parts);
    strtab_destroy(p->tenants);
    strtab_destroy(p->workers);
    free(p->t2p);
    free(p->w2p);
    free(p->owner);
    free(p);
    d->part = NULL;
}

bool dsp_part_valid(const dispatcher *d)
{
    return clock_mono_us() < d->part->valid_until_us;
}

void dsp_part_deaf(dispatcher *d, const char *why)
{
    dsp_part *p = d->part;

    if (p == NULL)
        return;
    if (why != NULL &&
        clock_mono_us() - p->listen_since_us > (int64_t)d->opts.lease_ms * 1000)
        log_info(MOD,
                 "%s: workers get %d ms to be heard before any lease "
                 "expires",
                 why, d->opts.lease_ms);
    p->listen_since_us = clock_mono_us();
}

bool dsp_part_may_expire(const dispatcher *d)
{
    return clock_mono_us() - d->part->listen_since_us >=
           (int64_t)d->opts.lease_ms * 1000;
}

bool dsp_part_fenced(const err *e)
{
    return strstr(e->msg, "fenced:") != NULL;
}

bool dsp_part_lead(const dispatcher *d)
{
    return d->part != NULL && d->part->lead;
}

void dsp_part_counts(const dispatcher *d, int *held, int *total)
{
    *held = d->part != NULL ? d->part->nheld : 0;
    *total = d->part != NULL ? d->part->total : 0;
}

typedef enum { WHERE_MINE, WHERE_OTHER, WHERE_NOBODY } where;

/* The partition (index in parts) of task's tenant, -1 when unknown. */
static int task_partition(dispatcher *d, const bus_msg *m)
{
    dsp_part *p = d->part;
    case_task_priority pr;
    char tbuf[24];
    const char *params[1];
    db_res *r = NULL;
    err e = {0};
    int t = -1;

    if (case_msg_priority_decode(bus_msg_data(m), bus_msg_len(m), &pr, &e) !=
        ST_OK)
        return -1;
    params[0] = db_i64_str(tbuf, pr.task_id);
    if (db_run(d->db, &dsp_sql_ha_task_tenant, params, &r, &e) == ST_OK &&
        db_rows(r) == 1)
        t = strtab_find(p->tenants, db_val(r, 0, DSP_HA_TASK_TENANT_TENANT_ID));
    db_res_free(r);
    return t >= 0 ? p->t2p[t] : -1;
}

/* The partition of a tenant or worker (kind api or agent), -1 when the
 * map does not know it. */
static int party_partition(const dsp_part *p, subjects_kind kind,
                           const char *party)
{
    int i;

    if (kind == SUBJECTS_API) {
        i = strtab_find(p->tenants, party);
        return i >= 0 ? p->t2p[i] : -1;
    }
    i = strtab_find(p->workers, party);
    return i >= 0 ? p->w2p[i] : -1;
}

static where where_of(dispatcher *d, const bus_msg *m)
{
    dsp_part *p = d->part;
    subjects_parsed sp;
    const char *owner;
    int part = -1;

    if (clock_mono_us() >= p->valid_until_us)
        return WHERE_NOBODY; /* until a renewal says otherwise */
    /* No partition at all (an empty installation): the lead answers. Else
     * every request is looked up, even by a dispatcher that holds every
     * partition it knows of: a partition made since its last round is not
     * yet its own. */
    if (p->total == 0)
        return p->lead ? WHERE_MINE : WHERE_OTHER;
    if (!subjects_parse(bus_msg_subject(m), d->cfg.prefix, &sp))
        return p->lead ? WHERE_MINE : WHERE_OTHER;
    if (sp.kind == SUBJECTS_API || sp.kind == SUBJECTS_AGENT) {
        part = party_partition(p, sp.kind, sp.party);
        /* A tenant or worker loaded since the map was read: read it again
         * (at most every 100 ms) rather than let the lead answer for a
         * partition that has an owner. */
        if (part < 0 && clock_mono_us() - p->map_loaded_us > 100000) {
            err e = {0};
            if (load_map(d, &e) != ST_OK)
                log_warn(MOD, "reading the partition map: %s", e.msg);
            part = party_partition(p, sp.kind, sp.party);
        }
    } else if (sp.kind == SUBJECTS_OPS) {
        part = task_partition(d, m);
    }
    if (part < 0)
        return p->lead ? WHERE_MINE : WHERE_OTHER;
    owner = part < p->cap_owner ? p->owner[part] : "";
    if (held_index(p, strtab_name(p->parts, part)) >= 0)
        return WHERE_MINE;
    return owner[0] != '\0' ? WHERE_OTHER : WHERE_NOBODY;
}

bool dsp_part_mine(dispatcher *d, const bus_msg *m)
{
    return where_of(d, m) == WHERE_MINE;
}

static void park(dsp_part *p, bus_msg *m, int64_t since_us)
{
    if (p->npark == p->cap_park) {
        int ncap = p->cap_park > 0 ? p->cap_park * 2 : 256;
        parked *n = realloc(p->park, sizeof(parked) * (size_t)ncap);
        if (n == NULL) {
            log_error(MOD, "out of memory parking a request; dropped");
            bus_msg_free(m);
            return;
        }
        p->park = n;
        p->cap_park = ncap;
    }
    p->park[p->npark].m = m;
    p->park[p->npark].since_us = since_us;
    p->npark++;
}

int dsp_part_filter(dispatcher *d, bus_msg **msgs, int n, int max)
{
    dsp_part *p = d->part;
    int64_t now = clock_mono_us();
    int k = 0, kept = 0, dropped = 0;

    for (int i = 0; i < n; i++) {
        switch (where_of(d, msgs[i])) {
        case WHERE_MINE:
            msgs[k++] = msgs[i];
            break;
        case WHERE_NOBODY:
            park(p, msgs[i], now);
            break;
        case WHERE_OTHER:
            bus_msg_free(msgs[i]);
            break;
        }
    }
    for (int i = 0; i < p->npark; i++) {
        where w = k < max ? where_of(d, p->park[i].m) : WHERE_NOBODY;
        if (w == WHERE_MINE) {
            msgs[k++] = p->park[i].m;
        } else if (w == WHERE_OTHER || now - p->park[i].since_us >
                                           (int64_t)DSP_PART_PARK_MS * 1000) {
            /* Its owner heard it too; or nobody took its partition in
             * time and the sender's timeout says so. */
            dropped += w == WHERE_NOBODY;
            bus_msg_free(p->park[i].m);
        } else {
            p->park[kept++] = p->park[i];
        }
    }
    p->npark = kept;
    if (dropped > 0)
        log_warn(MOD,
                 "%d requests waited %d ms for a dispatcher to own their "
                 "partition; dropped unanswered",
                 dropped, DSP_PART_PARK_MS);
    return k;
}
