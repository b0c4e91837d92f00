#include "router.h"

#include <stdlib.h>
#include <string.h>

#include "i64map.h"

typedef struct rworker {
    bool defined;
    bool available;
    router_worker_def def;
    int load[ROUTER_CHANNELS];
    int total_load;
    int total_capacity;
    int64_t idle_since_us;
} rworker;

typedef struct rtask {
    router_task_def def;
    int holder; /* -1 when pending */
    int nexcluded;
    int cap_excluded;
    int *excluded;
    bool live;
} rtask;

struct router {
    rworker *workers;
    int nworkers; /* highest defined index + 1 */
    int cap_workers;
    rtask *tasks;
    int ntasks; /* slots used, live or free */
    int cap_tasks;
    int *free_slots;
    int nfree;
    int cap_free;
    int npending;
    i64map *task_index; /* task id -> slot */
    i64map *affinity;   /* case id -> worker */
    i64map *contracts;  /* packed (tenant, pool, case type) -> 1 */
    int *scratch;       /* pending slots, sorted per match */
    int cap_scratch;
    bool dirty; /* something changed since the last match found no more */
};

static int64_t contract_key(int tenant, int pool, int case_type)
{
    return ((int64_t)(tenant & 0x1fffff) << 42 |
            (int64_t)(pool & 0x1fffff) << 21 |
            (int64_t)(case_type & 0x1fffff)) +
           1;
}

status router_create(router **out, err *e)
{
    router *r = calloc(1, sizeof(*r));
    status s;

    if (r == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    s = i64map_create(&r->task_index, e);
    if (s == ST_OK)
        s = i64map_create(&r->affinity, e);
    if (s == ST_OK)
        s = i64map_create(&r->contracts, e);
    if (s != ST_OK) {
        router_destroy(r);
        return s;
    }
    *out = r;
    return ST_OK;
}

static void free_tasks(router *r)
{
    /* Slots are reused after router_clear: leave no dangling pointer. */
    for (int i = 0; i < r->ntasks; i++) {
        free(r->tasks[i].excluded);
        r->tasks[i].excluded = NULL;
    }
}

void router_destroy(router *r)
{
    if (r == NULL)
        return;
    free_tasks(r);
    free(r->tasks);
    free(r->free_slots);
    free(r->workers);
    free(r->scratch);
    i64map_destroy(r->task_index);
    i64map_destroy(r->affinity);
    i64map_destroy(r->contracts);
    free(r);
}

void router_clear(router *r)
{
    free_tasks(r);
    r->ntasks = 0;
    r->nfree = 0;
    r->npending = 0;
    r->nworkers = 0;
    if (r->workers != NULL)
        memset(r->workers, 0, sizeof(rworker) * (size_t)r->cap_workers);
    i64map_clear(r->task_index);
    i64map_clear(r->affinity);
    i64map_clear(r->contracts);
    r->dirty = true;
}

static status grow(void **p, int *cap, int need, size_t elem, err *e)
{
    int ncap = *cap > 0 ? *cap : 16;
    void *np;

    if (need <= *cap)
        return ST_OK;
    while (ncap < need)
        ncap *= 2;
    np = realloc(*p, elem * (size_t)ncap);
    if (np == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    memset((char *)np + elem * (size_t)*cap, 0, elem * (size_t)(ncap - *cap));
    *p = np;
    *cap = ncap;
    return ST_OK;
}

status router_worker_set(router *r, int w, const router_worker_def *d, err *e)
{
    rworker *wk;
    status s;

    if (w < 0)
        return err_set(e, ST_INTERNAL, "negative worker index");
    s = grow((void **)&r->workers, &r->cap_workers, w + 1, sizeof(rworker), e);
    if (s != ST_OK)
        return s;
    wk = &r->workers[w];
    if (!wk->defined) {
        memset(wk, 0, sizeof(*wk));
        wk->defined = true;
    }
    wk->def = *d;
    r->dirty = true;
    wk->total_capacity = 0;
    for (int c = 0; c < ROUTER_CHANNELS; c++)
        wk->total_capacity += d->capacity[c];
    if (w + 1 > r->nworkers)
        r->nworkers = w + 1;
    return ST_OK;
}

void router_worker_available(router *r, int w, bool available, int64_t now_us)
{
    if (w < 0 || w >= r->nworkers || !r->workers[w].defined)
        return;
    if (available && !r->workers[w].available && r->workers[w].total_load == 0)
        r->workers[w].idle_since_us = now_us;
    if (available != r->workers[w].available)
        r->dirty = true;
    r->workers[w].available = available;
}

status router_contract_add(router *r, int tenant, int pool, int case_type,
                           err *e)
{
    int have;

    if (i64map_get(r->contracts, contract_key(tenant, pool, case_type), &have))
        return ST_OK;
    r->dirty = true;
    return i64map_put(r->contracts, contract_key(tenant, pool, case_type), 1,
                      e);
}

static rtask *task_get(const router *r, int64_t id)
{
    int slot;

    if (!i64map_get(r->task_index, id, &slot))
        return NULL;
    return &r->tasks[slot];
}

static void take_slot(router *r, int w, int channel)
{
    rworker *wk = &r->workers[w];

    wk->load[channel]++;
    wk->total_load++;
}

static void release_slot(router *r, int w, int channel, int64_t now_us)
{
    rworker *wk;

    if (w < 0 || w >= r->nworkers)
        return;
    wk = &r->workers[w];
    r->dirty = true;
    if (wk->load[channel] > 0)
        wk->load[channel]--;
    if (wk->total_load > 0)
        wk->total_load--;
    if (wk->total_load == 0)
        wk->idle_since_us = now_us;
}

status router_task_add(router *r, const router_task_def *d, int holder, err *e)
{
    rtask *t;
    int slot;
    status s;

    if (d->channel < 0 || d->channel >= ROUTER_CHANNELS || d->id <= 0)
        return err_set(e, ST_INTERNAL, "bad task definition");
    if (task_get(r, d->id) != NULL)
        return ST_OK; /* already known: adding twice is harmless */
    if (r->nfree > 0) {
        slot = r->free_slots[--r->nfree];
    } else {
        s = grow((void **)&r->tasks, &r->cap_tasks, r->ntasks + 1,
                 sizeof(rtask), e);
        if (s != ST_OK)
            return s;
        slot = r->ntasks++;
    }
    s = i64map_put(r->task_index, d->id, slot, e);
    if (s != ST_OK)
        return s;
    t = &r->tasks[slot];
    memset(t, 0, sizeof(*t)); /* a free slot owns no exclusion list */
    t->def = *d;
    t->live = true;
    t->holder = -1;
    if (holder >= 0 && holder < r->nworkers && r->workers[holder].defined) {
        t->holder = holder;
        take_slot(r, holder, d->channel);
    } else {
        r->npending++;
        r->dirty = true;
    }
    return ST_OK;
}

status router_task_exclude(router *r, int64_t task_id, int w, err *e)
{
    rtask *t = task_get(r, task_id);
    status s;

    if (t == NULL)
        return ST_OK;
    for (int i = 0; i < t->nexcluded; i++)
        if (t->excluded[i] == w)
            return ST_OK;
    s = grow((void **)&t->excluded, &t->cap_excluded, t->nexcluded + 1,
             sizeof(int), e);
    if (s != ST_OK)
        return s;
    t->excluded[t->nexcluded++] = w;
    return ST_OK;
}

void router_task_requeue(router *r, int64_t task_id, int64_t now_us)
{
    rtask *t = task_get(r, task_id);

    if (t == NULL || t->holder < 0)
        return;
    release_slot(r, t->holder, t->def.channel, now_us);
    t->holder = -1;
    r->npending++;
    r->dirty = true;
}

static void forget(router *r, rtask *t, int64_t now_us)
{
    int slot;

    if (t->holder >= 0)
        release_slot(r, t->holder, t->def.channel, now_us);
    else
        r->npending--;
    if (i64map_get(r->task_index, t->def.id, &slot)) {
        i64map_del(r->task_index, t->def.id);
        t->live = false;
        free(t->excluded);
        t->excluded = NULL;
        t->nexcluded = 0;
        t->cap_excluded = 0;
        /* The free list never outgrows the task array. */
        if (grow((void **)&r->free_slots, &r->cap_free, r->nfree + 1,
                 sizeof(int), NULL) == ST_OK)
            r->free_slots[r->nfree++] = slot;
    }
}

void router_task_done(router *r, int64_t task_id, int64_t now_us)
{
    rtask *t = task_get(r, task_id);

    if (t == NULL)
        return;
    if (t->holder >= 0)
        (void)i64map_put(r->affinity, t->def.case_id, t->holder, NULL);
    forget(r, t, now_us);
}

void router_task_remove(router *r, int64_t task_id, int64_t now_us)
{
    rtask *t = task_get(r, task_id);

    if (t != NULL)
        forget(r, t, now_us);
}

status router_affinity_set(router *r, int64_t case_id, int w, err *e)
{
    r->dirty = true;
    return i64map_put(r->affinity, case_id, w, e);
}

void router_case_forget(router *r, int64_t case_id)
{
    i64map_del(r->affinity, case_id);
}

static bool skilled(const rworker *w, const rtask *t)
{
    for (int i = 0; i < t->def.nskills; i++) {
        const router_skill *need = &t->def.skills[i];
        int have = -1;
        for (int j = 0; j < w->def.nskills; j++) {
            const router_skill *s = &w->def.skills[j];
            if (s->skill != need->skill)
                continue;
            have = s->level;
            if (t->def.assist && s->ai_level > have)
                have = s->ai_level;
            break;
        }
        if (have < need->level)
            return false;
    }
    return true;
}

static bool eligible(const router *r, int wi, const rtask *t)
{
    const rworker *w = &r->workers[wi];
    int ch = t->def.channel;

    if (!w->defined || !w->available)
        return false;
    if (w->load[ch] >= w->def.capacity[ch])
        return false;
    for (int i = 0; i < t->nexcluded; i++)
        if (t->excluded[i] == wi)
            return false;
    if (!i64map_get(r->contracts,
                    contract_key(t->def.tenant, w->def.pool, t->def.case_type),
                    &(int){0}))
        return false;
    return skilled(w, t);
}

/* Lower is better: occupancy (scaled to avoid floating point), then idle. */
static bool better(const rworker *a, const rworker *b)
{
    int64_t oa = (int64_t)a->total_load * 1000 /
                 (a->total_capacity > 0 ? a->total_capacity : 1);
    int64_t ob = (int64_t)b->total_load * 1000 /
                 (b->total_capacity > 0 ? b->total_capacity : 1);

    if (oa != ob)
        return oa < ob;
    return a->idle_since_us < b->idle_since_us;
}

static int by_urgency(const void *pa, const void *pb, void *ctx)
{
    const router *r = ctx;
    const router_task_def *a = &r->tasks[*(const int *)pa].def;
    const router_task_def *b = &r->tasks[*(const int *)pb].def;

    if (a->priority != b->priority)
        return a->priority > b->priority ? -1 : 1;
    if (a->ready_us != b->ready_us)
        return a->ready_us < b->ready_us ? -1 : 1;
    return a->id < b->id ? -1 : (a->id > b->id);
}

int router_match(router *r, int64_t now_us, router_assignment *out, int max)
{
    int n = 0, npend = 0;

    (void)now_us;
    if (r->npending == 0 || max <= 0 || !r->dirty)
        return 0;
    if (grow((void **)&r->scratch, &r->cap_scratch, r->ntasks, sizeof(int),
             NULL) != ST_OK)
        return 0;
    for (int i = 0; i < r->ntasks; i++)
        if (r->tasks[i].live && r->tasks[i].holder < 0)
            r->scratch[npend++] = i;
    qsort_r(r->scratch, (size_t)npend, sizeof(int), by_urgency, r);
    for (int k = 0; k < npend && n < max; k++) {
        rtask *t = &r->tasks[r->scratch[k]];
        int best = -1, aff;
        bool by_affinity = false;

        if (i64map_get(r->affinity, t->def.case_id, &aff) && aff >= 0 &&
            aff < r->nworkers && eligible(r, aff, t)) {
            best = aff;
            by_affinity = true;
        } else {
            for (int w = 0; w < r->nworkers; w++)
                if (eligible(r, w, t) &&
                    (best < 0 || better(&r->workers[w], &r->workers[best])))
                    best = w;
        }
        if (best < 0)
            continue;
        t->holder = best;
        take_slot(r, best, t->def.channel);
        r->npending--;
        out[n].task_id = t->def.id;
        out[n].worker = best;
        out[n].affinity = by_affinity;
        n++;
    }
    /* Stopped early at max: there may be more to assign right away. */
    r->dirty = n == max;
    return n;
}

int router_pending_count(const router *r)
{
    return r->npending;
}

int router_task_count(const router *r)
{
    return i64map_count(r->task_index);
}

int router_worker_load(const router *r, int w, int channel)
{
    if (w < 0 || w >= r->nworkers || channel < 0 || channel >= ROUTER_CHANNELS)
        return 0;
    return r->workers[w].load[channel];
}

int router_task_holder(const router *r, int64_t task_id)
{
    const rtask *t = task_get(r, task_id);

    return t != NULL ? t->holder : -1;
}
