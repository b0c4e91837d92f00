/*
 * How the router keeps decisions cheap (docs/routing.md has the picture):
 *
 * Tasks with the same hard requirements (tenant, case type, channel, assist,
 * skills and levels, licence, overflow pool) share a queue; a task moves to
 * another queue when a relaxation ring changes its requirements. Each queue
 * holds its pending tasks in a binary heap by urgency, and the workers that
 * meet its static requirements as members; members with a free slot on the
 * queue's channel sit in a second heap ordered by their score for that
 * queue. The score is a pair part (skill fit and cost, fixed per queue and
 * worker) plus a worker part (occupancy, quality, fairness, idle) that is
 * refreshed whenever the worker changes; idle time enters as the start of
 * the idle spell, so the order never changes with the passing of time.
 *
 * A global heap holds the queues that have both a pending task and a free
 * member, ordered by their most urgent task. A decision takes the top queue
 * and its top task, and walks the queue's worker heap best-first past the
 * few workers that the task excludes or whose licence has expired. A task
 * no free member can take is parked until a member frees up, so a queue
 * that cannot progress costs nothing on the next call.
 *
 * Timers (ring thresholds, TTLs, wrap-up ends) sit in a min-heap with a
 * generation per task and worker, so rescheduling never searches the heap.
 */
#include "router.h"

#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "i64map.h"
#include "router_batch.h"

#define FREE_CODE   ROUTER_FILTERS /* index of "free" in a queue's counts */
#define NCOUNTS     (ROUTER_FILTERS + 1)
#define EXPLORE_MAX 256
#define US_PER_S    1000000
#define US_PER_DAY  86400000000LL
#define BATCH_BASE  ((int64_t)1 << 44) /* an assignment beats any score */
#define BATCH_AFF   ((int64_t)1 << 41) /* affinity beats any other score */
#define SCORE_CLAMP ((int64_t)1 << 38)

typedef struct rsig {
    int tenant;
    int case_type;
    int channel;
    bool assist;
    int nskills;
    int skill[ROUTER_TASK_SKILLS];
    int level[ROUTER_TASK_SKILLS];
    int licence;
    int overflow_pool; /* -1: none */
    bool ai_ok;        /* AI workers qualify */
} rsig;

/*
 * A worker's membership of a queue. Its place in the queue's free heap is
 * r->mpos[id] (-1 when not free): the heap moves members on every decision,
 * and one small array takes those writes with a cache miss each instead
 * of two (the worker, then its memberships).
 */
typedef struct rmemb {
    int q;
    int id;
    int64_t pair; /* fit and cost parts for this queue */
} rmemb;

/* A free member in a queue's heap; key = pair + the worker's dyn. */
typedef struct rfree {
    int64_t key;
    int w;
    int id; /* the membership */
} rfree;

/* The fields a decision reads come first, to share cache lines. */
typedef struct rworker {
    bool defined;
    router_presence presence;
    int load[ROUTER_CHANNELS];
    int total_load;
    int total_capacity;
    int64_t idle_since_us;
    int64_t wrap_until_us; /* 0: not in wrap-up */
    uint32_t gen;          /* timer generation */
    int64_t assigned;
    int64_t dyn; /* worker part of the key */
    unsigned char code[ROUTER_CHANNELS];
    bool any_free;
    rmemb *memb;
    int nmemb;
    int cap_memb;
    uint32_t mark;
    router_worker_def def;
} rworker;

typedef struct rtask {
    router_task_def def;
    int holder; /* held[0], -1 when pending */
    /* Workers holding the task: the accepted one, or every worker a
     * broadcast offer is pending with (each takes a slot). */
    int held[ROUTER_BROADCAST_MAX];
    int nheld;
    bool wrapping; /* completed; the holder keeps its slot while wrapping */
    int q;
    int pos; /* in the queue heap, or in parked when parked; -1 otherwise */
    bool parked;
    bool live;
    int ring;
    int prio;     /* effective: task + tenant + ring boost */
    int64_t dl;   /* deadline, INT64_MAX when none */
    uint32_t gen; /* timer generation, kept across slot reuse */
    int nexcluded;
    int cap_excluded;
    int *excluded;
} rtask;

typedef struct rqueue {
    rsig sig;
    int ring;
    int chain;  /* next queue with the same hash, -1 */
    heap tasks; /* pending task slots by urgency */
    int *parked;
    int np;
    int cap_parked;
    int ntasks; /* live tasks of this queue, held ones included */
    heap free;  /* members with a free slot (rfree) by score */
    int nmembers;
    int count[NCOUNTS];
    int apos;       /* in the active heap, -1 */
    uint32_t bmark; /* router epoch of the batch the queue is in */
    int bidx;       /* its index in that batch */
} rqueue;

typedef struct rtimer {
    int64_t at;
    int id;
    uint32_t gen;
    bool worker;
} rtimer;

typedef struct rlist {
    int *v;
    int n;
    int cap;
} rlist;

struct router {
    router_config cfg;
    rworker *workers;
    int nworkers; /* highest defined index + 1 */
    int cap_workers;
    int ndefined;
    int nfree_workers; /* defined workers with a free slot somewhere */
    rtask *tasks;
    int ntasks; /* slots used, live or free */
    int cap_tasks;
    int *free_slots;
    int nfree;
    int cap_free;
    int npending;
    rqueue *queues;
    int nqueues;
    int cap_queues;
    heap active; /* queues with a pending task and a free member */
    heap timers; /* rtimer, earliest first */
    heap open;   /* free_walk's frontier: positions in walk_q's free heap */
    int *mpos;   /* by membership id: place in its queue's free heap */
    int nmpos;
    int cap_mpos;
    int *mfree; /* membership ids to reuse */
    int nmfree;
    int cap_mfree;
    struct rqueue *walk_q;
    router_expiry *expired;
    int nexpired;
    int cap_expired;
    rlist *skill_workers;
    int cap_skill_workers;
    int64_t *prices; /* by contract index */
    int nprices;
    int cap_prices;
    router_weights *weights; /* by pool weight index */
    int nweights;
    int cap_weights;
    int64_t *pool_assigned; /* by pool */
    int *pool_members;
    int cap_pools;
    int cap_pool_members;
    uint32_t epoch;
    i64map *task_index;  /* task id -> slot */
    i64map *affinity;    /* case id -> worker */
    i64map *contracts;   /* packed (tenant, pool, case type) -> price index */
    i64map *queue_index; /* signature hash -> first queue */
    i64map *pool_weight; /* pool + 1 -> weight index */
    i64map *tenant_prio; /* tenant + 1 -> priority */
};

static int64_t contract_key(int tenant, int pool, int case_type)
{
    return ((int64_t)(tenant & 0x1fffff) << 42 |
            (int64_t)(pool & 0x1fffff) << 21 |
            (int64_t)(case_type & 0x1fffff)) +
           1;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int day_of(int64_t now_us)
{
    return (int)floor_div(now_us, US_PER_DAY);
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

/* ---- Heaps ------------------------------------------------------------ */

static bool task_before(const rtask *a, const rtask *b)
{
    if (a->prio != b->prio)
        return a->prio > b->prio;
    if (a->dl != b->dl)
        return a->dl < b->dl;
    if (a->def.ready_us != b->def.ready_us)
        return a->def.ready_us < b->def.ready_us;
    return a->def.id < b->def.id;
}

/* A queue's pending tasks: task slots, most urgent first. */
static inline bool slot_before(const void *a, const void *b, void *ctx)
{
    const router *r = ctx;

    return task_before(&r->tasks[*(const int *)a], &r->tasks[*(const int *)b]);
}

static inline void slot_moved(const void *item, int pos, void *ctx)
{
    router *r = ctx;

    r->tasks[*(const int *)item].pos = pos;
}

static const heap_type slot_heap = {sizeof(int), slot_before, slot_moved};

/* A queue's free members: highest key, then longest idle, then index. */
static inline bool free_before(const void *a, const void *b, void *ctx)
{
    const router *r = ctx;
    const rfree *x = a, *y = b;
    int64_t ix, iy;

    if (x->key != y->key)
        return x->key > y->key;
    ix = r->workers[x->w].idle_since_us;
    iy = r->workers[y->w].idle_since_us;
    if (ix != iy)
        return ix < iy;
    return x->w < y->w;
}

static inline void free_moved(const void *item, int pos, void *ctx)
{
    router *r = ctx;
    const rfree *x = item;

    r->mpos[x->id] = pos;
}

static const heap_type free_heap = {sizeof(rfree), free_before, free_moved};

static int queue_top(const rqueue *q)
{
    return *(const int *)heap_at(&q->tasks, &slot_heap, 0);
}

static rfree *free_at(const rqueue *q, int pos)
{
    return heap_at(&q->free, &free_heap, pos);
}

/* The active queues, by their most urgent task. */
static inline bool queue_before(const void *a, const void *b, void *ctx)
{
    const router *r = ctx;
    const rqueue *qa = &r->queues[*(const int *)a];
    const rqueue *qb = &r->queues[*(const int *)b];

    return task_before(&r->tasks[queue_top(qa)], &r->tasks[queue_top(qb)]);
}

static inline void queue_moved(const void *item, int pos, void *ctx)
{
    router *r = ctx;

    r->queues[*(const int *)item].apos = pos;
}

static const heap_type active_heap = {sizeof(int), queue_before, queue_moved};

/* Earliest first; timers due at once run in a fixed order. */
static inline bool timer_before(const void *a, const void *b, void *ctx)
{
    const rtimer *x = a, *y = b;

    (void)ctx;
    if (x->at != y->at)
        return x->at < y->at;
    if (x->worker != y->worker)
        return x->worker < y->worker;
    return x->id != y->id ? x->id < y->id : x->gen < y->gen;
}

static const heap_type timer_heap = {sizeof(rtimer), timer_before, NULL};

/* The frontier of a walk: heap positions, best member first. */
static inline bool open_before(const void *a, const void *b, void *ctx)
{
    const router *r = ctx;

    return free_before(free_at(r->walk_q, *(const int *)a),
                       free_at(r->walk_q, *(const int *)b), ctx);
}

static const heap_type open_heap = {sizeof(int), open_before, NULL};

static int active_top(const router *r)
{
    return *(const int *)heap_at(&r->active, &active_heap, 0);
}

/*
 * Walk the free members of queue q best first without taking them out:
 * free_walk_start, then free_walk_next until it returns -1 (or the caller
 * has seen enough). Each call returns the heap position of the next best
 * member; the frontier (r->open) holds the children of the members seen.
 * Nothing may change q's free heap during a walk.
 */
static void free_walk_start(router *r, rqueue *q)
{
    int top = 0;

    heap_clear(&r->open, &open_heap);
    r->walk_q = q;
    /* Without memory for the frontier the walk sees nobody. */
    if (heap_count(&q->free) > 0)
        (void)heap_push(&r->open, &open_heap, &top, NULL);
}

static int free_walk_next(router *r, rqueue *q)
{
    int p;

    if (heap_count(&r->open) == 0)
        return -1;
    heap_pop(&r->open, &open_heap, &p);
    for (int c = 2 * p + 1; c <= 2 * p + 2 && c < heap_count(&q->free); c++)
        if (heap_push(&r->open, &open_heap, &c, NULL) != ST_OK)
            break; /* the walk ends early */
    return p;
}

/* Capacity for the queue's tasks is reserved when a task joins it. */
static void tpush(router *r, rqueue *q, int slot)
{
    r->tasks[slot].parked = false;
    (void)heap_push(&q->tasks, &slot_heap, &slot, NULL);
}

/* Put the queue in the active heap, move it, or take it out. */
static void queue_refresh(router *r, int qi)
{
    rqueue *q = &r->queues[qi];
    bool want = heap_count(&q->tasks) > 0 && heap_count(&q->free) > 0;

    if (want && q->apos < 0) {
        /* The active heap has room for every queue (see queue_get). */
        (void)heap_push(&r->active, &active_heap, &qi, NULL);
    } else if (want) {
        heap_fix(&r->active, &active_heap, q->apos);
    } else if (q->apos >= 0) {
        heap_remove(&r->active, &active_heap, q->apos, NULL);
    }
}

static void timer_push(router *r, int64_t at, int id, uint32_t gen, bool worker)
{
    rtimer x = {at, id, gen, worker};

    /* Without memory the timer is lost: the task keeps its ring. */
    (void)heap_push(&r->timers, &timer_heap, &x, NULL);
}

void router_config_default(router_config *c)
{
    memset(c, 0, sizeof(*c));
    c->idle_per_s = 1;
    c->batch_min = 0;
    c->batch_max = 1000;
    c->explore = 64;
    /* One per mille of occupancy outweighs a quarter hour of idling, so the
     * skeleton's order (least loaded, then longest idle) is kept. */
    c->weights.occupancy = 1000;
    c->weights.fairness_cap = 10;
}

status router_create(router **out, err *e)
{
    router *r = calloc(1, sizeof(*r));
    status s;

    if (r == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    router_config_default(&r->cfg);
    heap_init(&r->active, r);
    heap_init(&r->timers, r);
    heap_init(&r->open, r);
    s = i64map_create(&r->task_index, e);
    if (s == ST_OK)
        s = i64map_create(&r->affinity, e);
    if (s == ST_OK)
        s = i64map_create(&r->contracts, e);
    if (s == ST_OK)
        s = i64map_create(&r->queue_index, e);
    if (s == ST_OK)
        s = i64map_create(&r->pool_weight, e);
    if (s == ST_OK)
        s = i64map_create(&r->tenant_prio, e);
    if (s != ST_OK) {
        router_destroy(r);
        return s;
    }
    *out = r;
    return ST_OK;
}

static void free_contents(router *r)
{
    for (int i = 0; i < r->ntasks; i++) {
        free(r->tasks[i].excluded);
        r->tasks[i].excluded = NULL;
    }
    for (int i = 0; i < r->cap_workers; i++) {
        free(r->workers[i].memb);
        r->workers[i].memb = NULL;
    }
    for (int i = 0; i < r->nqueues; i++) {
        heap_free(&r->queues[i].tasks);
        free(r->queues[i].parked);
        heap_free(&r->queues[i].free);
    }
}

void router_destroy(router *r)
{
    if (r == NULL)
        return;
    free_contents(r);
    for (int i = 0; i < r->cap_skill_workers; i++)
        free(r->skill_workers[i].v);
    free(r->skill_workers);
    free(r->tasks);
    free(r->free_slots);
    free(r->workers);
    free(r->queues);
    heap_free(&r->active);
    heap_free(&r->timers);
    heap_free(&r->open);
    free(r->mpos);
    free(r->mfree);
    free(r->expired);
    free(r->prices);
    free(r->weights);
    free(r->pool_assigned);
    free(r->pool_members);
    i64map_destroy(r->task_index);
    i64map_destroy(r->affinity);
    i64map_destroy(r->contracts);
    i64map_destroy(r->queue_index);
    i64map_destroy(r->pool_weight);
    i64map_destroy(r->tenant_prio);
    free(r);
}

void router_clear(router *r)
{
    free_contents(r);
    /* Task slots keep their timer generation so stale timers stay stale. */
    for (int i = 0; i < r->ntasks; i++) {
        uint32_t gen = r->tasks[i].gen + 1;
        memset(&r->tasks[i], 0, sizeof(rtask));
        r->tasks[i].gen = gen;
    }
    for (int i = 0; i < r->cap_skill_workers; i++)
        r->skill_workers[i].n = 0;
    r->ntasks = 0;
    r->nfree = 0;
    r->npending = 0;
    r->nworkers = 0;
    r->ndefined = 0;
    r->nfree_workers = 0;
    heap_clear(&r->active, &active_heap);
    heap_clear(&r->timers, &timer_heap);
    r->nqueues = 0;
    r->nmpos = 0;
    r->nmfree = 0;
    r->nexpired = 0;
    r->nprices = 0;
    if (r->workers != NULL)
        memset(r->workers, 0, sizeof(rworker) * (size_t)r->cap_workers);
    if (r->pool_assigned != NULL && r->pool_members != NULL) {
        memset(r->pool_assigned, 0, sizeof(int64_t) * (size_t)r->cap_pools);
        memset(r->pool_members, 0, sizeof(int) * (size_t)r->cap_pool_members);
    }
    i64map_clear(r->task_index);
    i64map_clear(r->affinity);
    i64map_clear(r->contracts);
    i64map_clear(r->queue_index);
}

/* ---- Scores and eligibility ------------------------------------------- */

static const router_weights *weights_of(const router *r, int pool)
{
    int i;

    if (i64map_get(r->pool_weight, (int64_t)pool + 1, &i))
        return &r->weights[i];
    return &r->cfg.weights;
}

static bool has_contract(const router *r, int tenant, int pool, int case_type,
                         int64_t *price)
{
    int i;

    if (!i64map_get(r->contracts, contract_key(tenant, pool, case_type), &i))
        return false;
    if (price != NULL)
        *price = r->prices[i];
    return true;
}

static int licence_day(const rworker *w, int code)
{
    for (int i = 0; i < w->def.nlicences && i < ROUTER_WORKER_LICENCES; i++)
        if (w->def.licences[i].code == code)
            return w->def.licences[i].expires_day > 0
                       ? w->def.licences[i].expires_day
                       : INT32_MAX;
    return -1;
}

static bool licence_ok(const rworker *w, int code, int day)
{
    return code <= 0 || licence_day(w, code) >= day;
}

/*
 * The first static rule worker w fails for queue q (skill, contract,
 * licence held), or -1 with *over = its total over-qualification.
 */
static int static_check(const router *r, const rsig *s, const rworker *w,
                        int64_t *over)
{
    int64_t ov = 0;

    if (w->def.ai && !s->ai_ok)
        return ROUTER_F_KIND;
    for (int i = 0; i < s->nskills; i++) {
        int have = -1;
        for (int j = 0; j < w->def.nskills; j++) {
            const router_skill *k = &w->def.skills[j];
            if (k->skill != s->skill[i])
                continue;
            have = k->level;
            if (s->assist && k->ai_level > have)
                have = k->ai_level;
            break;
        }
        if (have < s->level[i])
            return ROUTER_F_SKILL;
        ov += have - s->level[i];
    }
    if (!(s->overflow_pool >= 0 && w->def.pool == s->overflow_pool) &&
        !has_contract(r, s->tenant, w->def.pool, s->case_type, NULL))
        return ROUTER_F_CONTRACT;
    if (s->licence > 0 && licence_day(w, s->licence) < 0)
        return ROUTER_F_LICENCE;
    if (over != NULL)
        *over = ov;
    return -1;
}

static int64_t expected_cost(const router *r, const rsig *s, const rworker *w)
{
    int64_t price = 0;
    int verified =
        w->def.verified_permille > 0 ? w->def.verified_permille : 1000;

    (void)has_contract(r, s->tenant, w->def.pool, s->case_type, &price);
    return price * 1000 / verified;
}

static int occupancy(const rworker *w)
{
    return (int)((int64_t)w->total_load * 1000 /
                 (w->total_capacity > 0 ? w->total_capacity : 1));
}

static int64_t fairness_lag(const router *r, const rworker *w,
                            const router_weights *wt)
{
    int pool = w->def.pool;
    int64_t mean, lag;

    if (pool < 0 || pool >= r->cap_pools || pool >= r->cap_pool_members ||
        r->pool_members[pool] <= 0)
        return 0;
    mean = r->pool_assigned[pool] / r->pool_members[pool];
    lag = mean - w->assigned;
    if (lag < 0)
        lag = 0;
    return lag > wt->fairness_cap ? wt->fairness_cap : lag;
}

/* The score parts of w for a queue; parts[] gets each, the sum returned. */
static int64_t score_parts(const router *r, const rsig *s, const rworker *w,
                           int64_t over, int64_t now_us, int64_t *parts)
{
    const router_weights *wt = weights_of(r, w->def.pool);
    int64_t p[ROUTER_PARTS], sum = 0;

    p[ROUTER_PART_FIT] = -wt->fit * over;
    p[ROUTER_PART_IDLE] =
        r->cfg.idle_per_s *
        (floor_div(now_us, US_PER_S) - floor_div(w->idle_since_us, US_PER_S));
    p[ROUTER_PART_OCCUPANCY] = -wt->occupancy * occupancy(w);
    p[ROUTER_PART_QUALITY] = wt->quality * w->def.quality_permille;
    p[ROUTER_PART_COST] = -wt->cost * expected_cost(r, s, w);
    p[ROUTER_PART_FAIRNESS] = wt->fairness * fairness_lag(r, w, wt);
    for (int i = 0; i < ROUTER_PARTS; i++) {
        sum += p[i];
        if (parts != NULL)
            parts[i] = p[i];
    }
    return sum;
}

/* The key parts: pair (per queue) and worker (per worker, time-free). */
static int64_t pair_part(const router *r, const rsig *s, const rworker *w,
                         int64_t over)
{
    const router_weights *wt = weights_of(r, w->def.pool);

    return -wt->fit * over - wt->cost * expected_cost(r, s, w);
}

static int64_t worker_part(const router *r, const rworker *w)
{
    const router_weights *wt = weights_of(r, w->def.pool);

    return -wt->occupancy * occupancy(w) +
           wt->quality * w->def.quality_permille +
           wt->fairness * fairness_lag(r, w, wt) -
           r->cfg.idle_per_s * floor_div(w->idle_since_us, US_PER_S);
}

/* Why w cannot take new work on channel ch now, or FREE_CODE. */
static int channel_code(const rworker *w, int ch)
{
    if (!w->defined || w->presence != ROUTER_AVAILABLE)
        return ROUTER_F_PRESENCE;
    if (w->wrap_until_us > 0)
        return ROUTER_F_WRAPUP;
    if (w->load[ch] >= w->def.capacity[ch])
        return ROUTER_F_CAPACITY;
    if (w->def.voice_blocks && ch != ROUTER_VOICE && w->load[ROUTER_VOICE] > 0)
        return ROUTER_F_CAPACITY;
    return FREE_CODE;
}

/* Is the task offered to (or accepted by) worker w? */
static bool held_by(const rtask *t, int w)
{
    for (int i = 0; i < t->nheld; i++)
        if (t->held[i] == w)
            return true;
    return false;
}

/* Drop w from the task's holders (the caller frees its slot). */
static bool held_drop(rtask *t, int w)
{
    for (int i = 0; i < t->nheld; i++)
        if (t->held[i] == w) {
            memmove(&t->held[i], &t->held[i + 1],
                    sizeof(int) * (size_t)(t->nheld - i - 1));
            t->nheld--;
            t->holder = t->nheld > 0 ? t->held[0] : -1;
            return true;
        }
    return false;
}

static bool excluded(const rtask *t, int w)
{
    for (int i = 0; i < t->nexcluded; i++)
        if (t->excluded[i] == w)
            return true;
    return false;
}

/* ---- Workers in queues ------------------------------------------------ */

static void unpark(router *r, rqueue *q)
{
    while (q->np > 0) {
        int slot = q->parked[--q->np];
        tpush(r, q, slot);
    }
}

/*
 * Bring every queue of worker w up to date after anything about the worker
 * changed: its key, and whether it is free on each queue's channel.
 */
static void worker_refresh(router *r, int wi)
{
    rworker *w = &r->workers[wi];
    int code[ROUTER_CHANNELS];
    bool any = false;

    w->dyn = worker_part(r, w);
    for (int c = 0; c < ROUTER_CHANNELS; c++) {
        code[c] = channel_code(w, c);
        any = any || code[c] == FREE_CODE;
    }
    for (int m = 0; m < w->nmemb; m++) {
        int qi = w->memb[m].q, pos = r->mpos[w->memb[m].id];
        rqueue *q = &r->queues[qi];
        int ch = q->sig.channel, old = w->code[ch];
        /* The active heap orders queues by their tasks alone: it moves
         * only when the queue gains its first free member or loses its
         * last one, or parked tasks come back. */
        bool moved = false;
        if (old != code[ch]) {
            q->count[old]--;
            q->count[code[ch]]++;
        }
        if (code[ch] == FREE_CODE) {
            rfree x = {w->memb[m].pair + w->dyn, wi, w->memb[m].id};
            if (pos < 0) {
                /* member_add reserved room for every member. */
                (void)heap_push(&q->free, &free_heap, &x, NULL);
                moved = heap_count(&q->free) == 1 || q->np > 0;
                unpark(r, q);
            } else {
                free_at(q, pos)->key = x.key;
                heap_fix(&q->free, &free_heap, pos);
            }
        } else if (pos >= 0) {
            heap_remove(&q->free, &free_heap, pos, NULL);
            moved = heap_count(&q->free) == 0;
        }
        if (moved)
            queue_refresh(r, qi);
    }
    for (int c = 0; c < ROUTER_CHANNELS; c++)
        w->code[c] = (unsigned char)code[c];
    if (w->defined && any != w->any_free)
        r->nfree_workers += any ? 1 : -1;
    w->any_free = any;
}

/* Make w a member of queue qi (static rules already met). */
static status member_add(router *r, int qi, int wi, int64_t over, err *e)
{
    rworker *w = &r->workers[wi];
    rqueue *q = &r->queues[qi];
    int id;
    status s;

    s = grow((void **)&w->memb, &w->cap_memb, w->nmemb + 1, sizeof(rmemb), e);
    if (s == ST_OK)
        s = heap_reserve(&q->free, &free_heap, q->nmembers + 1, e);
    /* The list of ids to reuse can always take every id back. */
    if (s == ST_OK && r->nmfree == 0)
        s = grow((void **)&r->mpos, &r->cap_mpos, r->nmpos + 1, sizeof(int), e);
    if (s == ST_OK && r->nmfree == 0)
        s = grow((void **)&r->mfree, &r->cap_mfree, r->nmpos + 1, sizeof(int),
                 e);
    if (s != ST_OK)
        return s;
    id = r->nmfree > 0 ? r->mfree[--r->nmfree] : r->nmpos++;
    r->mpos[id] = -1;
    w->memb[w->nmemb].q = qi;
    w->memb[w->nmemb].id = id;
    w->memb[w->nmemb].pair = pair_part(r, &q->sig, w, over);
    w->nmemb++;
    q->nmembers++;
    /* Counted under the worker's current code for the channel; a worker
     * being attached has "presence" until its refresh moves it. */
    q->count[w->code[q->sig.channel]]++;
    if (w->code[q->sig.channel] == FREE_CODE) {
        rfree x = {w->memb[w->nmemb - 1].pair + w->dyn, wi, id};
        /* Room was reserved above. */
        (void)heap_push(&q->free, &free_heap, &x, NULL);
    }
    return ST_OK;
}

static void member_drop(router *r, int wi, int m)
{
    rworker *w = &r->workers[wi];
    rqueue *q = &r->queues[w->memb[m].q];
    int id = w->memb[m].id;

    if (r->mpos[id] >= 0)
        heap_remove(&q->free, &free_heap, r->mpos[id], NULL);
    r->mfree[r->nmfree++] = id;
    q->count[w->code[q->sig.channel]]--;
    q->nmembers--;
    queue_refresh(r, w->memb[m].q);
    w->memb[m] = w->memb[--w->nmemb];
}

/* Classify worker wi for queue qi and add it as member or count it. */
static status queue_take_worker(router *r, int qi, int wi, err *e)
{
    int64_t over = 0;
    int f = static_check(r, &r->queues[qi].sig, &r->workers[wi], &over);

    if (f >= 0) {
        r->queues[qi].count[f]++;
        return ST_OK;
    }
    return member_add(r, qi, wi, over, e);
}

/* Remove worker wi from every queue's members and counts. */
static void worker_detach(router *r, int wi)
{
    rworker *w = &r->workers[wi];

    while (w->nmemb > 0)
        member_drop(r, wi, w->nmemb - 1);
    for (int qi = 0; qi < r->nqueues; qi++) {
        rqueue *q = &r->queues[qi];
        int f = static_check(r, &q->sig, w, NULL);
        /* Members were uncounted above; the rest were counted by rule. */
        if (f >= 0)
            q->count[f]--;
    }
    for (int i = 0; i < w->def.nskills; i++) {
        int sk = w->def.skills[i].skill;
        rlist *l;
        if (sk < 0 || sk >= r->cap_skill_workers)
            continue;
        l = &r->skill_workers[sk];
        for (int j = 0; j < l->n; j++)
            if (l->v[j] == wi) {
                l->v[j] = l->v[--l->n];
                break;
            }
    }
    if (w->def.pool >= 0 && w->def.pool < r->cap_pool_members)
        r->pool_members[w->def.pool]--;
    if (w->any_free)
        r->nfree_workers--;
    w->any_free = false;
}

static status worker_attach(router *r, int wi, err *e)
{
    rworker *w = &r->workers[wi];
    status s = ST_OK;

    for (int c = 0; c < ROUTER_CHANNELS; c++)
        w->code[c] = ROUTER_F_PRESENCE;
    for (int i = 0; s == ST_OK && i < w->def.nskills; i++) {
        int sk = w->def.skills[i].skill;
        if (sk < 0)
            continue;
        s = grow((void **)&r->skill_workers, &r->cap_skill_workers, sk + 1,
                 sizeof(rlist), e);
        if (s == ST_OK)
            s = grow((void **)&r->skill_workers[sk].v,
                     &r->skill_workers[sk].cap, r->skill_workers[sk].n + 1,
                     sizeof(int), e);
        if (s == ST_OK)
            r->skill_workers[sk].v[r->skill_workers[sk].n++] = wi;
    }
    if (s == ST_OK && w->def.pool >= 0) {
        s = grow((void **)&r->pool_members, &r->cap_pool_members,
                 w->def.pool + 1, sizeof(int), e);
        if (s == ST_OK)
            s = grow((void **)&r->pool_assigned, &r->cap_pools, w->def.pool + 1,
                     sizeof(int64_t), e);
        if (s == ST_OK)
            r->pool_members[w->def.pool]++;
    }
    for (int qi = 0; s == ST_OK && qi < r->nqueues; qi++)
        s = queue_take_worker(r, qi, wi, e);
    worker_refresh(r, wi);
    return s;
}

/* ---- Queues ----------------------------------------------------------- */

static void sig_of(const rtask *t, int ring, rsig *s)
{
    const router_ring *g = ring > 0 ? &t->def.rings[ring - 1] : NULL;
    int lower = g != NULL && g->lower_by > 0 ? g->lower_by : 0;

    memset(s, 0, sizeof(*s));
    s->tenant = t->def.tenant;
    s->case_type = t->def.case_type;
    s->channel = t->def.channel;
    s->assist = t->def.assist || (g != NULL && g->assist);
    s->nskills = t->def.nskills;
    for (int i = 0; i < s->nskills; i++) {
        s->skill[i] = t->def.skills[i].skill;
        s->level[i] = t->def.skills[i].level - lower;
        if (s->level[i] < 0)
            s->level[i] = 0;
    }
    s->licence = t->def.licence > 0 ? t->def.licence : 0;
    s->overflow_pool = g != NULL && g->overflow ? g->overflow_pool : -1;
    s->ai_ok = t->def.ai_auto;
}

static int64_t sig_hash(const rsig *s)
{
    uint64_t h = 1469598103934665603ull;
    int v[4 + 2 * ROUTER_TASK_SKILLS + 4];
    int n = 0;

    v[n++] = s->tenant;
    v[n++] = s->case_type;
    v[n++] = s->channel;
    v[n++] = s->assist;
    for (int i = 0; i < s->nskills; i++) {
        v[n++] = s->skill[i];
        v[n++] = s->level[i];
    }
    v[n++] = s->nskills;
    v[n++] = s->licence;
    v[n++] = s->overflow_pool;
    v[n++] = s->ai_ok;
    for (int i = 0; i < n; i++) {
        h ^= (uint32_t)v[i];
        h *= 1099511628211ull;
    }
    return (int64_t)(h >> 2) + 1;
}

static bool sig_equal(const rsig *a, const rsig *b)
{
    if (a->tenant != b->tenant || a->case_type != b->case_type ||
        a->channel != b->channel || a->assist != b->assist ||
        a->nskills != b->nskills || a->licence != b->licence ||
        a->overflow_pool != b->overflow_pool || a->ai_ok != b->ai_ok)
        return false;
    for (int i = 0; i < a->nskills; i++)
        if (a->skill[i] != b->skill[i] || a->level[i] != b->level[i])
            return false;
    return true;
}

/* Members for a new queue: only workers with its first skill can qualify. */
static status queue_populate(router *r, int qi, err *e)
{
    rqueue *q = &r->queues[qi];
    status s = ST_OK;
    int seen = 0;

    if (q->sig.nskills > 0) {
        int sk = q->sig.skill[0];
        const rlist *l =
            sk >= 0 && sk < r->cap_skill_workers ? &r->skill_workers[sk] : NULL;
        for (int i = 0; s == ST_OK && l != NULL && i < l->n; i++, seen++)
            s = queue_take_worker(r, qi, l->v[i], e);
        r->queues[qi].count[ROUTER_F_SKILL] += r->ndefined - seen;
    } else {
        for (int w = 0; s == ST_OK && w < r->nworkers; w++)
            if (r->workers[w].defined)
                s = queue_take_worker(r, qi, w, e);
    }
    queue_refresh(r, qi);
    return s;
}

/* Forget a queue's members (before they are computed again). */
static void queue_depopulate(router *r, int qi)
{
    rqueue *q = &r->queues[qi];

    for (int w = 0; w < r->nworkers; w++) {
        rworker *wk = &r->workers[w];
        for (int m = wk->nmemb - 1; m >= 0; m--)
            if (wk->memb[m].q == qi)
                member_drop(r, w, m);
    }
    for (int i = 0; i < NCOUNTS; i++)
        q->count[i] = 0;
}

static status queues_repopulate(router *r, int tenant, int case_type, err *e)
{
    status s = ST_OK;

    for (int qi = 0; s == ST_OK && qi < r->nqueues; qi++) {
        rqueue *q = &r->queues[qi];
        if (tenant >= 0 &&
            (q->sig.tenant != tenant || q->sig.case_type != case_type))
            continue;
        queue_depopulate(r, qi);
        s = queue_populate(r, qi, e);
        unpark(r, &r->queues[qi]);
        queue_refresh(r, qi);
    }
    return s;
}

static status queue_get(router *r, const rsig *sig, int ring, int *out, err *e)
{
    int64_t h = sig_hash(sig);
    int qi, first = -1;
    bool had = i64map_get(r->queue_index, h, &first);
    rqueue *q;
    status s;

    for (qi = had ? first : -1; qi >= 0; qi = r->queues[qi].chain)
        if (sig_equal(&r->queues[qi].sig, sig)) {
            *out = qi;
            return ST_OK;
        }
    s = grow((void **)&r->queues, &r->cap_queues, r->nqueues + 1,
             sizeof(rqueue), e);
    if (s == ST_OK)
        s = heap_reserve(&r->active, &active_heap, r->nqueues + 1, e);
    if (s == ST_OK)
        s = i64map_put(r->queue_index, h, r->nqueues, e);
    if (s != ST_OK)
        return s;
    qi = r->nqueues++;
    q = &r->queues[qi];
    memset(q, 0, sizeof(*q));
    heap_init(&q->tasks, r);
    heap_init(&q->free, r);
    q->sig = *sig;
    q->ring = ring;
    q->apos = -1;
    q->chain = had ? first : -1;
    s = queue_populate(r, qi, e);
    if (s == ST_OK)
        *out = qi;
    return s;
}

/* Reserve room in queue qi for one more task. */
static status queue_reserve(router *r, int qi, err *e)
{
    rqueue *q = &r->queues[qi];
    status s = heap_reserve(&q->tasks, &slot_heap, q->ntasks + 1, e);

    if (s == ST_OK)
        s = grow((void **)&q->parked, &q->cap_parked, q->ntasks + 1,
                 sizeof(int), e);
    return s;
}

/* ---- Tasks ------------------------------------------------------------ */

static int tenant_priority(const router *r, int tenant)
{
    int p = 0;

    (void)i64map_get(r->tenant_prio, (int64_t)tenant + 1, &p);
    return p;
}

static void task_prio(const router *r, rtask *t)
{
    t->prio = t->def.priority + tenant_priority(r, t->def.tenant);
    if (t->ring > 0)
        t->prio += t->def.rings[t->ring - 1].priority_boost;
}

static rtask *task_get(const router *r, int64_t id)
{
    int slot;

    if (!i64map_get(r->task_index, id, &slot))
        return NULL;
    return &r->tasks[slot];
}

static int ring_at(const rtask *t, int64_t now_us)
{
    int k = 0;

    while (k < t->def.nrings && k < ROUTER_RINGS &&
           t->def.ready_us + t->def.rings[k].after_us <= now_us)
        k++;
    return k;
}

static void task_schedule(router *r, int slot)
{
    rtask *t = &r->tasks[slot];
    int64_t next = INT64_MAX;

    if (t->ring < t->def.nrings && t->ring < ROUTER_RINGS)
        next = t->def.ready_us + t->def.rings[t->ring].after_us;
    if (t->def.ttl_us > 0 && t->def.ready_us + t->def.ttl_us < next)
        next = t->def.ready_us + t->def.ttl_us;
    t->gen++;
    if (next != INT64_MAX)
        timer_push(r, next, slot, t->gen, false);
}

/* Take a pending task out of its queue's heap or parked list. */
static void task_unqueue(router *r, int slot)
{
    rtask *t = &r->tasks[slot];
    rqueue *q = &r->queues[t->q];

    if (t->pos < 0)
        return;
    if (t->parked) {
        int last = q->parked[--q->np];
        if (t->pos < q->np) {
            q->parked[t->pos] = last;
            r->tasks[last].pos = t->pos;
        }
        t->parked = false;
        t->pos = -1;
    } else {
        heap_remove(&q->tasks, &slot_heap, t->pos, NULL);
    }
    queue_refresh(r, t->q);
}

static void task_park(router *r, int slot)
{
    rtask *t = &r->tasks[slot];
    rqueue *q = &r->queues[t->q];

    heap_remove(&q->tasks, &slot_heap, t->pos, NULL);
    t->parked = true;
    t->pos = q->np;
    q->parked[q->np++] = slot;
    queue_refresh(r, t->q);
}

static void task_enqueue(router *r, int slot)
{
    rtask *t = &r->tasks[slot];

    tpush(r, &r->queues[t->q], slot);
    queue_refresh(r, t->q);
}

/* Move task to the queue of ring k; it stays put when memory runs out. */
static void task_move_ring(router *r, int slot, int k)
{
    rtask *t = &r->tasks[slot];
    bool queued = t->holder < 0 && t->pos >= 0;
    rsig sig;
    int nq;

    sig_of(t, k, &sig);
    if (queue_get(r, &sig, k, &nq, NULL) != ST_OK ||
        queue_reserve(r, nq, NULL) != ST_OK)
        return;
    t = &r->tasks[slot];
    if (queued)
        task_unqueue(r, slot);
    r->queues[t->q].ntasks--;
    t->q = nq;
    t->ring = k;
    r->queues[nq].ntasks++;
    task_prio(r, t);
    if (queued)
        task_enqueue(r, slot);
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
    if (wk->load[channel] > 0)
        wk->load[channel]--;
    if (wk->total_load > 0)
        wk->total_load--;
    if (wk->total_load == 0)
        wk->idle_since_us = now_us;
    worker_refresh(r, w);
}

static void forget(router *r, int slot, int64_t now_us)
{
    rtask *t = &r->tasks[slot];
    int holder = t->holder, channel = t->def.channel, nheld = t->nheld;
    int held[ROUTER_BROADCAST_MAX];

    memcpy(held, t->held, sizeof(held));
    t->nheld = 0;
    t->holder = -1;
    t->wrapping = false;
    if (holder < 0) {
        task_unqueue(r, slot);
        r->npending--;
    }
    r->queues[t->q].ntasks--;
    i64map_del(r->task_index, t->def.id);
    t->live = false;
    t->gen++;
    free(t->excluded);
    t->excluded = NULL;
    t->nexcluded = 0;
    t->cap_excluded = 0;
    /* The free list never outgrows the task array. */
    if (grow((void **)&r->free_slots, &r->cap_free, r->nfree + 1, sizeof(int),
             NULL) == ST_OK)
        r->free_slots[r->nfree++] = slot;
    for (int i = 0; i < nheld; i++)
        release_slot(r, held[i], channel, now_us);
}

/* The task waited past its TTL: report it and forget it. */
static void task_expire(router *r, int slot, int64_t now_us)
{
    rtask *t = &r->tasks[slot];
    router_expiry x = {t->def.id, ROUTER_EXPIRED_TTL, t->ring,
                       now_us - t->def.ready_us};

    if (grow((void **)&r->expired, &r->cap_expired, r->nexpired + 1,
             sizeof(router_expiry), NULL) != ST_OK)
        return; /* tried again by the next call */
    r->expired[r->nexpired++] = x;
    forget(r, slot, now_us);
}

/* A pending task at now_us: expire it or put it in its ring's queue. */
static void task_advance(router *r, int slot, int64_t now_us)
{
    rtask *t = &r->tasks[slot];
    int k;

    if (!t->live || t->holder >= 0)
        return;
    if (t->def.ttl_us > 0 && now_us >= t->def.ready_us + t->def.ttl_us) {
        task_expire(r, slot, now_us);
        return;
    }
    k = ring_at(t, now_us);
    if (k != t->ring)
        task_move_ring(r, slot, k);
    task_schedule(r, slot);
}

static void timers_run(router *r, int64_t now_us)
{
    while (heap_count(&r->timers) > 0 &&
           ((const rtimer *)heap_at(&r->timers, &timer_heap, 0))->at <=
               now_us) {
        rtimer x;
        heap_pop(&r->timers, &timer_heap, &x);
        if (x.worker) {
            rworker *w = x.id < r->nworkers ? &r->workers[x.id] : NULL;
            if (w != NULL && w->gen == x.gen && w->wrap_until_us > 0) {
                w->wrap_until_us = 0;
                worker_refresh(r, x.id);
            }
        } else if (x.id < r->ntasks && r->tasks[x.id].gen == x.gen) {
            task_advance(r, x.id, now_us);
        }
    }
}

/* ---- Events ----------------------------------------------------------- */

status router_config_set(router *r, const router_config *c, err *e)
{
    if (c->batch_min < 0 || c->batch_max < 1 || c->explore < 1 ||
        c->idle_per_s < 0)
        return err_set(e, ST_INVALID,
                       "router config needs batch_min >= 0, batch_max >= 1, "
                       "explore >= 1 and idle_per_s >= 0");
    r->cfg = *c;
    if (r->cfg.explore > EXPLORE_MAX)
        r->cfg.explore = EXPLORE_MAX;
    for (int w = 0; w < r->nworkers; w++)
        if (r->workers[w].defined)
            worker_refresh(r, w);
    return queues_repopulate(r, -1, -1, e);
}

status router_pool_weights_set(router *r, int pool, const router_weights *w,
                               err *e)
{
    int i;
    status s;

    if (pool < 0)
        return err_set(e, ST_INVALID, "negative pool index");
    if (!i64map_get(r->pool_weight, (int64_t)pool + 1, &i)) {
        s = grow((void **)&r->weights, &r->cap_weights, r->nweights + 1,
                 sizeof(router_weights), e);
        if (s == ST_OK)
            s = i64map_put(r->pool_weight, (int64_t)pool + 1, r->nweights, e);
        if (s != ST_OK)
            return s;
        i = r->nweights++;
    }
    r->weights[i] = *w;
    for (int k = 0; k < r->nworkers; k++)
        if (r->workers[k].defined && r->workers[k].def.pool == pool)
            worker_refresh(r, k);
    return queues_repopulate(r, -1, -1, e);
}

status router_tenant_priority_set(router *r, int tenant, int priority, err *e)
{
    status s = i64map_put(r->tenant_prio, (int64_t)tenant + 1, priority, e);

    if (s != ST_OK)
        return s;
    for (int qi = 0; qi < r->nqueues; qi++) {
        rqueue *q = &r->queues[qi];
        if (q->sig.tenant != tenant)
            continue;
        for (int i = 0; i < heap_count(&q->tasks); i++)
            task_prio(r, &r->tasks[*(int *)heap_at(&q->tasks, &slot_heap, i)]);
        for (int i = 0; i < q->np; i++)
            task_prio(r, &r->tasks[q->parked[i]]);
        /* Every key may have moved: build the heap again. */
        heap_build(&q->tasks, &slot_heap);
        queue_refresh(r, qi);
    }
    /* Held tasks get it when they are requeued. */
    for (int i = 0; i < r->ntasks; i++)
        if (r->tasks[i].live && r->tasks[i].def.tenant == tenant)
            task_prio(r, &r->tasks[i]);
    return ST_OK;
}

status router_worker_set(router *r, int w, const router_worker_def *d, err *e)
{
    rworker *wk;
    status s;

    if (w < 0)
        return err_set(e, ST_INTERNAL, "negative worker index");
    if (d->nskills < 0 || d->nskills > ROUTER_WORKER_SKILLS ||
        d->nlicences < 0 || d->nlicences > ROUTER_WORKER_LICENCES)
        return err_set(e, ST_INVALID, "worker %d: too many skills or licences",
                       w);
    s = grow((void **)&r->workers, &r->cap_workers, w + 1, sizeof(rworker), e);
    if (s != ST_OK)
        return s;
    wk = &r->workers[w];
    if (wk->defined) {
        worker_detach(r, w);
    } else {
        uint32_t gen = wk->gen;
        rmemb *memb = wk->memb;
        int cap = wk->cap_memb;
        memset(wk, 0, sizeof(*wk));
        wk->gen = gen;
        wk->memb = memb;
        wk->cap_memb = cap;
        wk->presence = ROUTER_OFFLINE;
        wk->defined = true;
        r->ndefined++;
        /* Existing queues counted every defined worker as lacking skill
         * only when populated; a new worker is classified by attach. */
    }
    wk->def = *d;
    wk->total_capacity = 0;
    for (int c = 0; c < ROUTER_CHANNELS; c++)
        wk->total_capacity += d->capacity[c];
    if (w + 1 > r->nworkers)
        r->nworkers = w + 1;
    return worker_attach(r, w, e);
}

void router_worker_presence(router *r, int w, router_presence p, int64_t now_us)
{
    rworker *wk;

    if (w < 0 || w >= r->nworkers || !r->workers[w].defined)
        return;
    wk = &r->workers[w];
    if (p == ROUTER_AVAILABLE && wk->presence != ROUTER_AVAILABLE &&
        wk->total_load == 0)
        wk->idle_since_us = now_us;
    wk->presence = p;
    worker_refresh(r, w);
}

void router_worker_available(router *r, int w, bool available, int64_t now_us)
{
    router_worker_presence(r, w, available ? ROUTER_AVAILABLE : ROUTER_OFFLINE,
                           now_us);
}

status router_contract_price_set(router *r, int tenant, int pool, int case_type,
                                 int64_t price_minor, err *e)
{
    int64_t key = contract_key(tenant, pool, case_type);
    int i;
    status s;

    if (!i64map_get(r->contracts, key, &i)) {
        s = grow((void **)&r->prices, &r->cap_prices, r->nprices + 1,
                 sizeof(int64_t), e);
        if (s == ST_OK)
            s = i64map_put(r->contracts, key, r->nprices, e);
        if (s != ST_OK)
            return s;
        i = r->nprices++;
    } else if (r->prices[i] == price_minor) {
        return ST_OK;
    }
    r->prices[i] = price_minor;
    return queues_repopulate(r, tenant, case_type, e);
}

status router_contract_add(router *r, int tenant, int pool, int case_type,
                           err *e)
{
    if (has_contract(r, tenant, pool, case_type, NULL))
        return ST_OK;
    return router_contract_price_set(r, tenant, pool, case_type, 0, e);
}

status router_task_add(router *r, const router_task_def *d, int holder, err *e)
{
    rtask *t;
    rsig sig;
    int slot, qi;
    uint32_t gen;
    status s;

    if (d->channel < 0 || d->channel >= ROUTER_CHANNELS || d->id <= 0 ||
        d->nskills < 0 || d->nskills > ROUTER_TASK_SKILLS || d->nrings < 0 ||
        d->nrings > ROUTER_RINGS || d->broadcast < 0 ||
        d->broadcast > ROUTER_BROADCAST_MAX)
        return err_set(e, ST_INTERNAL, "bad task definition");
    if (task_get(r, d->id) != NULL)
        return ST_OK; /* already known: adding twice is harmless */
    if (r->nfree > 0) {
        slot = r->free_slots[r->nfree - 1];
    } else {
        s = grow((void **)&r->tasks, &r->cap_tasks, r->ntasks + 1,
                 sizeof(rtask), e);
        if (s != ST_OK)
            return s;
        slot = r->ntasks;
    }
    t = &r->tasks[slot];
    gen = t->gen;
    memset(t, 0, sizeof(*t)); /* a free slot owns no exclusion list */
    t->def = *d;
    t->gen = gen;
    t->pos = -1;
    t->holder = -1;
    t->dl = d->deadline_us > 0 ? d->deadline_us : INT64_MAX;
    sig_of(t, 0, &sig);
    s = queue_get(r, &sig, 0, &qi, e);
    if (s == ST_OK)
        s = queue_reserve(r, qi, e);
    if (s == ST_OK)
        s = i64map_put(r->task_index, d->id, slot, e);
    if (s != ST_OK)
        return s;
    if (r->nfree > 0)
        r->nfree--;
    else
        r->ntasks++;
    t = &r->tasks[slot];
    t->live = true;
    t->q = qi;
    r->queues[qi].ntasks++;
    task_prio(r, t);
    if (holder >= 0 && holder < r->nworkers && r->workers[holder].defined) {
        t->holder = holder;
        t->held[0] = holder;
        t->nheld = 1;
        take_slot(r, holder, d->channel);
        worker_refresh(r, holder);
    } else {
        r->npending++;
        task_enqueue(r, slot);
        task_schedule(r, slot);
    }
    return ST_OK;
}

status router_task_exclude(router *r, int64_t task_id, int w, err *e)
{
    rtask *t = task_get(r, task_id);
    status s;

    if (t == NULL || excluded(t, w))
        return ST_OK;
    s = grow((void **)&t->excluded, &t->cap_excluded, t->nexcluded + 1,
             sizeof(int), e);
    if (s != ST_OK)
        return s;
    t->excluded[t->nexcluded++] = w;
    return ST_OK;
}

status router_task_hold(router *r, int64_t task_id, int w, err *e)
{
    rtask *t = task_get(r, task_id);
    int slot;

    if (t == NULL)
        return err_set(e, ST_NOT_FOUND, "task %lld is not in the router",
                       (long long)task_id);
    if (w < 0 || w >= r->nworkers || !r->workers[w].defined || held_by(t, w) ||
        t->wrapping)
        return ST_OK;
    if (t->nheld >= ROUTER_BROADCAST_MAX)
        return err_set(e, ST_INVALID,
                       "task %lld is already offered to %d workers",
                       (long long)task_id, ROUTER_BROADCAST_MAX);
    slot = (int)(t - r->tasks);
    if (t->nheld == 0) {
        task_unqueue(r, slot);
        t->gen++; /* no ring or TTL while held */
        r->npending--;
    }
    t->held[t->nheld++] = w;
    t->holder = t->held[0];
    take_slot(r, w, t->def.channel);
    worker_refresh(r, w);
    return ST_OK;
}

void router_task_accept(router *r, int64_t task_id, int w, int64_t now_us)
{
    rtask *t = task_get(r, task_id);
    int others[ROUTER_BROADCAST_MAX], nothers = 0;
    bool had;

    if (t == NULL || t->wrapping || w < 0 || w >= r->nworkers ||
        !r->workers[w].defined)
        return;
    had = held_by(t, w);
    for (int i = 0; i < t->nheld; i++)
        if (t->held[i] != w)
            others[nothers++] = t->held[i];
    if (!had && t->nheld == 0) {
        /* The database knows better: it was pending here. */
        task_unqueue(r, (int)(t - r->tasks));
        t->gen++;
        r->npending--;
    }
    t->held[0] = w;
    t->nheld = 1;
    t->holder = w;
    if (!had) {
        take_slot(r, w, t->def.channel);
        worker_refresh(r, w);
    }
    for (int i = 0; i < nothers; i++)
        release_slot(r, others[i], t->def.channel, now_us);
}

void router_task_release(router *r, int64_t task_id, int w, int64_t now_us)
{
    rtask *t = task_get(r, task_id);
    int slot;

    if (t == NULL || t->wrapping || !held_drop(t, w))
        return;
    slot = (int)(t - r->tasks);
    if (t->nheld == 0) {
        r->npending++;
        task_enqueue(r, slot);
    }
    release_slot(r, w, t->def.channel, now_us);
    if (r->tasks[slot].nheld == 0)
        task_advance(r, slot, now_us);
}

void router_task_requeue(router *r, int64_t task_id, int64_t now_us)
{
    rtask *t = task_get(r, task_id);
    int held[ROUTER_BROADCAST_MAX], nheld, slot;

    if (t == NULL || t->holder < 0 || t->wrapping)
        return;
    slot = (int)(t - r->tasks);
    nheld = t->nheld;
    memcpy(held, t->held, sizeof(held));
    t->holder = -1;
    t->nheld = 0;
    r->npending++;
    task_enqueue(r, slot);
    for (int i = 0; i < nheld; i++)
        release_slot(r, held[i], t->def.channel, now_us);
    task_advance(r, slot, now_us);
}

/* Remember the holder for its case and start its wrap-up. */
static void holder_done(router *r, rtask *t, int64_t now_us)
{
    int holder = t->holder;
    rworker *w;

    if (holder < 0)
        return;
    w = &r->workers[holder];
    if (!r->cfg.no_affinity)
        (void)i64map_put(r->affinity, t->def.case_id, holder, NULL);
    if (w->def.wrapup_us > 0) {
        w->wrap_until_us = now_us + w->def.wrapup_us;
        w->gen++;
        timer_push(r, w->wrap_until_us, holder, w->gen, true);
    }
}

void router_task_done(router *r, int64_t task_id, int64_t now_us)
{
    rtask *t = task_get(r, task_id);

    if (t == NULL)
        return;
    if (!t->wrapping)
        holder_done(r, t, now_us);
    forget(r, (int)(t - r->tasks), now_us);
}

void router_task_wrapping(router *r, int64_t task_id, int64_t now_us)
{
    rtask *t = task_get(r, task_id);

    if (t == NULL || t->wrapping)
        return;
    if (t->holder < 0) {
        /* Nobody to wrap up: nothing to keep. */
        forget(r, (int)(t - r->tasks), now_us);
        return;
    }
    /* Only the accepted worker can have completed it. */
    router_task_accept(r, task_id, t->holder, now_us);
    holder_done(r, t, now_us);
    t->wrapping = true;
    t->gen++;
    /* Its other channels close for the wrap-up too. */
    worker_refresh(r, t->holder);
}

void router_task_wrapped(router *r, int64_t task_id, int64_t now_us)
{
    rtask *t = task_get(r, task_id);

    if (t != NULL && t->wrapping)
        forget(r, (int)(t - r->tasks), now_us);
}

void router_task_remove(router *r, int64_t task_id, int64_t now_us)
{
    rtask *t = task_get(r, task_id);

    if (t != NULL)
        forget(r, (int)(t - r->tasks), now_us);
}

status router_task_set_priority(router *r, int64_t task_id, int priority,
                                err *e)
{
    rtask *t = task_get(r, task_id);

    if (t == NULL)
        return err_set(e, ST_NOT_FOUND,
                       "task %lld is not open in the router; it may have "
                       "been assigned or canceled",
                       (long long)task_id);
    t->def.priority = priority;
    task_prio(r, t);
    if (t->holder < 0 && t->pos >= 0 && !t->parked) {
        heap_fix(&r->queues[t->q].tasks, &slot_heap, t->pos);
        queue_refresh(r, t->q);
    }
    return ST_OK;
}

status router_affinity_set(router *r, int64_t case_id, int w, err *e)
{
    if (r->cfg.no_affinity)
        return ST_OK;
    return i64map_put(r->affinity, case_id, w, e);
}

void router_case_forget(router *r, int64_t case_id)
{
    i64map_del(r->affinity, case_id);
}

void router_fairness_decay(router *r)
{
    for (int p = 0; p < r->cap_pools; p++)
        r->pool_assigned[p] /= 2;
    for (int w = 0; w < r->nworkers; w++)
        if (r->workers[w].defined) {
            r->workers[w].assigned /= 2;
            worker_refresh(r, w);
        }
}

/* ---- Decisions -------------------------------------------------------- */

/* Can worker wi take task t of queue q now (every hard rule)? */
static bool fits(const router *r, const rtask *t, int wi, int day)
{
    const rqueue *q = &r->queues[t->q];
    const rworker *w;

    if (wi < 0 || wi >= r->nworkers)
        return false;
    w = &r->workers[wi];
    return w->defined && w->code[q->sig.channel] == FREE_CODE &&
           static_check(r, &q->sig, w, NULL) < 0 && !excluded(t, wi) &&
           !held_by(t, wi) && licence_ok(w, q->sig.licence, day);
}

static void candidate_fill(const router *r, const rtask *t, int wi,
                           int64_t now_us, router_candidate *c)
{
    const rworker *w = &r->workers[wi];
    int64_t over = 0;

    (void)static_check(r, &r->queues[t->q].sig, w, &over);
    c->worker = wi;
    c->score = score_parts(r, &r->queues[t->q].sig, w, over, now_us, c->parts);
}

static void explain_start(const router *r, const rtask *t, int64_t now_us,
                          router_explain *x)
{
    const rqueue *q = &r->queues[t->q];

    memset(x, 0, sizeof(*x));
    x->task_id = t->def.id;
    x->worker = -1;
    x->ring = t->ring;
    if (t->ring > 0)
        x->ring_def = t->def.rings[t->ring - 1];
    x->waited_us = now_us - t->def.ready_us;
    x->priority = t->prio;
    for (int f = 0; f < ROUTER_FILTERS; f++)
        x->filtered[f] = q->count[f];
}

/*
 * Pick a worker for the task in slot: the affine worker when it fits, else
 * the first fitting worker in the queue's free heap, walked best-first.
 * With x, also collect the top candidates and the rule. -1: nobody fits.
 */
static int choose(router *r, int slot, int64_t now_us, router_explain *x)
{
    const rtask *t = &r->tasks[slot];
    rqueue *q = &r->queues[t->q];
    int day = day_of(now_us), aff = -1, pick = -1, examined = 0, p;
    bool by_affinity = false;

    if (i64map_get(r->affinity, t->def.case_id, &aff) && fits(r, t, aff, day)) {
        pick = aff;
        by_affinity = true;
        if (x == NULL)
            return pick;
    }
    if (x != NULL)
        explain_start(r, t, now_us, x);
    free_walk_start(r, q);
    while (examined < r->cfg.explore && (p = free_walk_next(r, q)) >= 0) {
        int wi = free_at(q, p)->w;
        examined++;
        if (held_by(t, wi))
            continue; /* already offered it (broadcast) */
        if (excluded(t, wi)) {
            if (x != NULL)
                x->filtered[ROUTER_F_EXCLUDED]++;
            continue;
        }
        if (!licence_ok(&r->workers[wi], q->sig.licence, day)) {
            if (x != NULL)
                x->filtered[ROUTER_F_LICENCE]++;
            continue;
        }
        if (pick < 0)
            pick = wi;
        if (x == NULL)
            break;
        if (x->ncandidates < ROUTER_EXPLAIN_TOP)
            candidate_fill(r, t, wi, now_us, &x->candidates[x->ncandidates++]);
        else
            break;
    }
    if (x == NULL || pick < 0)
        return pick;
    x->worker = pick;
    x->examined = examined;
    if (by_affinity) {
        int at = 0;
        while (at < x->ncandidates && x->candidates[at].worker != pick)
            at++;
        if (at == ROUTER_EXPLAIN_TOP)
            at--;
        else if (at == x->ncandidates)
            x->ncandidates++;
        memmove(&x->candidates[1], &x->candidates[0],
                sizeof(router_candidate) * (size_t)at);
        candidate_fill(r, t, pick, now_us, &x->candidates[0]);
        x->rule = ROUTER_RULE_AFFINITY;
    } else if (t->ring > 0) {
        rsig base;
        sig_of(t, 0, &base);
        x->rule = static_check(r, &base, &r->workers[pick], NULL) >= 0
                      ? ROUTER_RULE_RING
                      : ROUTER_RULE_BEST;
    } else {
        x->rule = ROUTER_RULE_BEST;
    }
    if (x->rule == ROUTER_RULE_BEST && x->ncandidates == 1 &&
        heap_count(&r->open) == 0)
        x->rule = ROUTER_RULE_ONLY;
    return pick;
}

/* Give the pending task in slot (already out of its queue) to worker w. */
static void assign(router *r, int slot, int w)
{
    rtask *t = &r->tasks[slot];
    rworker *wk = &r->workers[w];
    int pool = wk->def.pool;

    if (t->nheld == 0) {
        task_unqueue(r, slot);
        t->gen++; /* no ring or TTL while held */
        r->npending--;
    }
    t->held[t->nheld++] = w;
    t->holder = t->held[0];
    take_slot(r, w, t->def.channel);
    wk->assigned++;
    if (pool >= 0 && pool < r->cap_pools && pool < r->cap_pool_members &&
        r->pool_members[pool] > 0) {
        int64_t before = r->pool_assigned[pool] / r->pool_members[pool];
        r->pool_assigned[pool]++;
        /* The pool's mean moved: every member's fairness term did too.
         * It moves once per pool-size assignments, so this is cheap. */
        if (weights_of(r, pool)->fairness != 0 &&
            r->pool_assigned[pool] / r->pool_members[pool] != before)
            for (int k = 0; k < r->nworkers; k++)
                if (k != w && r->workers[k].defined &&
                    r->workers[k].def.pool == pool)
                    worker_refresh(r, k);
    }
    worker_refresh(r, w);
}

static int64_t clamp_score(int64_t s)
{
    return s > SCORE_CLAMP ? SCORE_CLAMP : s < -SCORE_CLAMP ? -SCORE_CLAMP : s;
}

/*
 * The work arrays of one batch. Rows are tasks, columns workers; rows fall
 * into classes of identical rows for the solver (router_batch.h): the tasks
 * of one queue form one class, except that a task with exclusions or with
 * its affine worker among the columns has a class of its own.
 */
typedef struct rbatch {
    int *rows;      /* task slots, most urgent first */
    int *row_class; /* the row's class */
    int *row_aff;   /* its affine worker, or -1 */
    int *row_next;  /* next row of the same queue with a class of its own */
    int *row_col;   /* column given to the row, -1 */
    int *cols;      /* workers */
    int *qs;        /* the queues of the rows */
    int *q_class;   /* per queue of qs: the class of its other rows, -1 */
    int *q_own;     /* per queue of qs: first row with a class of its own */
    int *supply;    /* per class */
    int *top;       /* per class: edges of its best columns, best first */
    int *ntop;
    int *deg;       /* per class: eligible columns */
    int *col_start; /* the solver's graph, column by column */
    int *col_class; /* and its answer */
    int *edge_class;
    int64_t *edge_profit;
    int64_t *edge_score;
    int *edge_col;
    int nedge;
    int cap_edge[4]; /* capacities of the four edge arrays */
} rbatch;

static void rbatch_free(rbatch *b)
{
    free(b->rows);
    free(b->row_class);
    free(b->row_aff);
    free(b->row_next);
    free(b->row_col);
    free(b->cols);
    free(b->qs);
    free(b->q_class);
    free(b->q_own);
    free(b->supply);
    free(b->top);
    free(b->ntop);
    free(b->deg);
    free(b->col_start);
    free(b->col_class);
    free(b->edge_class);
    free(b->edge_profit);
    free(b->edge_score);
    free(b->edge_col);
}

/* Column j is eligible for class c at this profit (score: for the
 * explanations). */
static status batch_edge(rbatch *b, int c, int j, int64_t profit, int64_t score)
{
    int *top = &b->top[(size_t)c * ROUTER_EXPLAIN_TOP], at, k = b->nedge;

    if (grow((void **)&b->edge_class, &b->cap_edge[0], k + 1, sizeof(int),
             NULL) != ST_OK ||
        grow((void **)&b->edge_profit, &b->cap_edge[1], k + 1, sizeof(int64_t),
             NULL) != ST_OK ||
        grow((void **)&b->edge_score, &b->cap_edge[2], k + 1, sizeof(int64_t),
             NULL) != ST_OK ||
        grow((void **)&b->edge_col, &b->cap_edge[3], k + 1, sizeof(int),
             NULL) != ST_OK)
        return ST_NOMEM;
    b->edge_class[k] = c;
    b->edge_profit[k] = profit;
    b->edge_score[k] = score;
    b->edge_col[k] = j;
    b->nedge++;
    b->deg[c]++;
    /* Keep the class's best columns by score, the earlier column first on
     * ties (columns come in order). */
    at = b->ntop[c];
    if (at == ROUTER_EXPLAIN_TOP) {
        if (score <= b->edge_score[top[at - 1]])
            return ST_OK;
        at--;
    } else {
        b->ntop[c]++;
    }
    while (at > 0 && b->edge_score[top[at - 1]] < score) {
        top[at] = top[at - 1];
        at--;
    }
    top[at] = k;
    return ST_OK;
}

/*
 * Every eligible (class, column) pair, column by column, from each
 * worker's memberships: a member free on the queue's channel with a valid
 * licence meets every rule for the queue's tasks but their exclusions.
 * The profit is what the exact assignment maximises: an assignment first
 * (BATCH_BASE), then affinity, then the score.
 */
static status batch_edges(router *r, rbatch *b, int ncol, int64_t now_us)
{
    int day = day_of(now_us);

    for (int j = 0; j < ncol; j++) {
        const rworker *w = &r->workers[b->cols[j]];
        b->col_start[j] = b->nedge;
        for (int m = 0; m < w->nmemb; m++) {
            const rqueue *q = &r->queues[w->memb[m].q];
            int64_t over = 0, score, profit;
            int bq;
            if (q->bmark != r->epoch || r->mpos[w->memb[m].id] < 0 ||
                !licence_ok(w, q->sig.licence, day))
                continue;
            bq = q->bidx;
            (void)static_check(r, &q->sig, w, &over);
            score = score_parts(r, &q->sig, w, over, now_us, NULL);
            profit = BATCH_BASE + clamp_score(score);
            if (b->q_class[bq] >= 0 &&
                batch_edge(b, b->q_class[bq], j, profit, score) != ST_OK)
                return ST_NOMEM;
            for (int i = b->q_own[bq]; i >= 0; i = b->row_next[i]) {
                bool aff = b->row_aff[i] == b->cols[j];
                if (excluded(&r->tasks[b->rows[i]], b->cols[j]))
                    continue;
                if (batch_edge(b, b->row_class[i], j,
                               profit + (aff ? BATCH_AFF : 0), score) != ST_OK)
                    return ST_NOMEM;
            }
        }
    }
    b->col_start[ncol] = b->nedge;
    return ST_OK;
}

typedef struct rdeal {
    int c;
    int64_t profit;
    int j;
} rdeal;

static int deal_cmp(const void *a, const void *b)
{
    const rdeal *x = a, *y = b;

    if (x->c != y->c)
        return x->c < y->c ? -1 : 1;
    if (x->profit != y->profit)
        return x->profit > y->profit ? -1 : 1;
    return (x->j > y->j) - (x->j < y->j);
}

/*
 * The columns the solver gave each class go to the class's rows in order
 * of urgency, the best paid column to the most urgent row (any order has
 * the same total). Returns false when out of memory.
 */
static bool batch_deal(rbatch *b, int nrow, int ncol, int nclass)
{
    rdeal *d = malloc(sizeof(rdeal) * ((size_t)ncol + 1));
    int *at = malloc(sizeof(int) * ((size_t)nclass + 1)), nd = 0;

    if (d == NULL || at == NULL) {
        free(d);
        free(at);
        return false;
    }
    for (int j = 0; j < ncol; j++) {
        int c = b->col_class[j];
        if (c < 0)
            continue;
        for (int k = b->col_start[j]; k < b->col_start[j + 1]; k++)
            if (b->edge_class[k] == c) {
                d[nd].c = c;
                d[nd].profit = b->edge_profit[k];
                d[nd++].j = j;
                break;
            }
    }
    qsort(d, (size_t)nd, sizeof(rdeal), deal_cmp);
    for (int c = 0; c < nclass; c++)
        at[c] = -1;
    for (int i = nd - 1; i >= 0; i--)
        at[d[i].c] = i;
    for (int i = 0; i < nrow; i++) {
        int c = b->row_class[i], k = at[c];
        b->row_col[i] = -1;
        if (k >= 0 && k < nd && d[k].c == c) {
            b->row_col[i] = d[k].j;
            at[c]++;
        }
    }
    free(d);
    free(at);
    return true;
}

/* Why row i went to its column: the class's best columns and counts. */
static void batch_explain(router *r, const rbatch *b, int i, int64_t now_us,
                          router_explain *x)
{
    const rtask *t = &r->tasks[b->rows[i]];
    int c = b->row_class[i], j = b->row_col[i];
    const int *top = &b->top[(size_t)c * ROUTER_EXPLAIN_TOP];

    explain_start(r, t, now_us, x);
    x->worker = b->cols[j];
    x->rule =
        b->cols[j] == b->row_aff[i] ? ROUTER_RULE_AFFINITY : ROUTER_RULE_BATCH;
    candidate_fill(r, t, b->cols[j], now_us, &x->candidates[0]);
    x->ncandidates = 1;
    x->examined = b->deg[c] - 1;
    for (int k = 0; k < b->ntop[c] && x->ncandidates < ROUTER_EXPLAIN_TOP; k++)
        if (b->edge_col[top[k]] != j)
            candidate_fill(r, t, b->cols[b->edge_col[top[k]]], now_us,
                           &x->candidates[x->ncandidates++]);
}

/*
 * One batch: the most urgent tasks that have a free member, and the best
 * free members of their queues, assigned together by an exact maximum-score
 * assignment (affinity and then the number of assignments come first).
 * Returns how many were assigned; 0 when the batch is too small.
 */
static int batch_round(router *r, int64_t now_us, router_assignment *out,
                       router_explain *why, int max)
{
    int cap = r->cfg.batch_max < max ? r->cfg.batch_max : max;
    int nrow = 0, ncol = 0, nq = 0, nclass = 0, n = 0, day = day_of(now_us);
    rbatch b = {0};
    router_batch g;

    if (cap < r->cfg.batch_min || r->nfree_workers < r->cfg.batch_min ||
        r->npending < r->cfg.batch_min)
        return 0;
    b.rows = malloc(sizeof(int) * (size_t)cap);
    b.row_class = malloc(sizeof(int) * (size_t)cap);
    b.row_aff = malloc(sizeof(int) * (size_t)cap);
    b.row_next = malloc(sizeof(int) * (size_t)cap);
    b.row_col = malloc(sizeof(int) * (size_t)cap);
    b.cols = malloc(sizeof(int) * (size_t)cap);
    b.qs = malloc(sizeof(int) * (size_t)cap);
    b.q_class = malloc(sizeof(int) * (size_t)cap);
    b.q_own = malloc(sizeof(int) * (size_t)cap);
    b.supply = malloc(sizeof(int) * (size_t)cap);
    b.top = malloc(sizeof(int) * (size_t)cap * ROUTER_EXPLAIN_TOP);
    b.ntop = calloc((size_t)cap, sizeof(int));
    b.deg = calloc((size_t)cap, sizeof(int));
    b.col_start = malloc(sizeof(int) * ((size_t)cap + 1));
    b.col_class = malloc(sizeof(int) * (size_t)cap);
    if (b.rows == NULL || b.row_class == NULL || b.row_aff == NULL ||
        b.row_next == NULL || b.row_col == NULL || b.cols == NULL ||
        b.qs == NULL || b.q_class == NULL || b.q_own == NULL ||
        b.supply == NULL || b.top == NULL || b.ntop == NULL || b.deg == NULL ||
        b.col_start == NULL || b.col_class == NULL)
        goto out;
    /*
     * The most urgent tasks, taken out of their heaps for the while. A task
     * whose affine worker can take it goes there at once: affinity comes
     * before any score, and a worker has only one column in the batch.
     */
    r->epoch++;
    while (n + nrow < cap && heap_count(&r->active) > 0) {
        int qi = active_top(r), slot = queue_top(&r->queues[qi]), aff;
        rqueue *q = &r->queues[qi];
        const rtask *t = &r->tasks[slot];
        if (i64map_get(r->affinity, t->def.case_id, &aff) &&
            fits(r, t, aff, day)) {
            if (why != NULL)
                (void)choose(r, slot, now_us, &why[n]);
            out[n].task_id = t->def.id;
            out[n].worker = aff;
            out[n].affinity = true;
            assign(r, slot, aff);
            n++;
            continue;
        }
        heap_remove(&q->tasks, &slot_heap, 0, NULL);
        queue_refresh(r, qi);
        if (q->bmark != r->epoch) {
            q->bmark = r->epoch;
            q->bidx = nq;
            b.qs[nq++] = qi;
        }
        b.row_aff[nrow] =
            i64map_get(r->affinity, t->def.case_id, &aff) ? aff : -1;
        b.row_class[nrow] = -1;
        b.rows[nrow++] = slot;
    }
    /* Columns: the best free members of each queue, a fair share each. */
    for (int k = 0; k < nq && ncol < cap; k++) {
        rqueue *q = &r->queues[b.qs[k]];
        int per = cap / nq > ROUTER_EXPLAIN_TOP ? cap / nq : ROUTER_EXPLAIN_TOP;
        int p;
        free_walk_start(r, q);
        for (int i = 0;
             i < per && ncol < cap && (p = free_walk_next(r, q)) >= 0; i++) {
            rworker *w = &r->workers[free_at(q, p)->w];
            if (w->mark == r->epoch)
                continue;
            w->mark = r->epoch;
            b.cols[ncol++] = free_at(q, p)->w;
        }
    }
    if (nrow < r->cfg.batch_min || ncol < r->cfg.batch_min)
        goto restore;
    /* Classes: one per queue for its plain rows, one per other row. */
    for (int k = 0; k < nq; k++) {
        b.q_class[k] = -1;
        b.q_own[k] = -1;
    }
    for (int i = nrow - 1; i >= 0; i--) {
        const rtask *t = &r->tasks[b.rows[i]];
        int bq = r->queues[t->q].bidx, aff = b.row_aff[i];
        if (aff >= 0 &&
            (aff >= r->nworkers || r->workers[aff].mark != r->epoch))
            aff = b.row_aff[i] = -1; /* not among the columns */
        if (t->nexcluded > 0 || aff >= 0) {
            b.row_next[i] = b.q_own[bq];
            b.q_own[bq] = i;
            b.row_class[i] = nclass;
            b.supply[nclass++] = 1;
        }
    }
    for (int i = 0; i < nrow; i++) {
        int bq = r->queues[r->tasks[b.rows[i]].q].bidx;
        if (b.row_class[i] >= 0)
            continue; /* a class of its own */
        if (b.q_class[bq] < 0) {
            b.q_class[bq] = nclass;
            b.supply[nclass++] = 0;
        }
        b.row_class[i] = b.q_class[bq];
        b.supply[b.row_class[i]]++;
    }
    if (batch_edges(r, &b, ncol, now_us) != ST_OK)
        goto restore;
    g.nclass = nclass;
    g.supply = b.supply;
    g.ncol = ncol;
    g.col_start = b.col_start;
    g.edge_class = b.edge_class;
    g.edge_profit = b.edge_profit;
    if (router_assign_max(&g, b.col_class, NULL) != ST_OK ||
        !batch_deal(&b, nrow, ncol, nclass))
        goto restore;
    for (int i = 0; i < nrow; i++) {
        int slot = b.rows[i], j = b.row_col[i];
        if (j < 0)
            continue;
        if (why != NULL)
            batch_explain(r, &b, i, now_us, &why[n]);
        out[n].task_id = r->tasks[slot].def.id;
        out[n].worker = b.cols[j];
        out[n].affinity = b.cols[j] == b.row_aff[i];
        assign(r, slot, b.cols[j]);
        b.rows[i] = -1;
        n++;
    }
restore:
    for (int i = 0; i < nrow; i++)
        if (b.rows[i] >= 0)
            task_enqueue(r, b.rows[i]);
out:
    rbatch_free(&b);
    return n;
}

/*
 * A broadcast task just got its first worker: offer it to the next best
 * eligible workers too, up to its broadcast count, while out has room.
 * Returns the new count of out.
 */
static int offer_more(router *r, int slot, int64_t now_us,
                      router_assignment *out, router_explain *why, int n,
                      int max)
{
    int want = r->tasks[slot].def.broadcast;

    if (want > ROUTER_BROADCAST_MAX)
        want = ROUTER_BROADCAST_MAX;
    while (n < max && r->tasks[slot].nheld < want) {
        int w = choose(r, slot, now_us, why != NULL ? &why[n] : NULL);
        if (w < 0)
            break;
        out[n].task_id = r->tasks[slot].def.id;
        out[n].worker = w;
        out[n].affinity = false;
        assign(r, slot, w);
        n++;
    }
    return n;
}

int router_match_explained(router *r, int64_t now_us, router_assignment *out,
                           router_explain *why, int max)
{
    int n = 0;

    if (max <= 0)
        return 0;
    timers_run(r, now_us);
    if (r->cfg.batch_min > 0) {
        int nb = batch_round(r, now_us, out, why, max);
        n = nb;
        /* The batch gives each task one worker; broadcast tasks get the
         * rest of theirs best-first. */
        for (int i = 0; i < nb; i++) {
            const rtask *t = task_get(r, out[i].task_id);
            if (t != NULL && t->def.broadcast > 1)
                n = offer_more(r, (int)(t - r->tasks), now_us, out, why, n,
                               max);
        }
    }
    while (n < max && heap_count(&r->active) > 0) {
        int qi = active_top(r), slot = queue_top(&r->queues[qi]), w;
        w = choose(r, slot, now_us, why != NULL ? &why[n] : NULL);
        if (w < 0) {
            task_park(r, slot);
            continue;
        }
        out[n].task_id = r->tasks[slot].def.id;
        out[n].worker = w;
        {
            int aff;
            out[n].affinity =
                i64map_get(r->affinity, r->tasks[slot].def.case_id, &aff) &&
                aff == w;
        }
        assign(r, slot, w);
        n++;
        n = offer_more(r, slot, now_us, out, why, n, max);
    }
    return n;
}

int router_match(router *r, int64_t now_us, router_assignment *out, int max)
{
    return router_match_explained(r, now_us, out, NULL, max);
}

int router_expired(router *r, int64_t now_us, router_expiry *out, int max)
{
    int n = 0;

    timers_run(r, now_us);
    while (n < max && n < r->nexpired) {
        out[n] = r->expired[n];
        n++;
    }
    if (n > 0 && n < r->nexpired)
        memmove(&r->expired[0], &r->expired[n],
                sizeof(router_expiry) * (size_t)(r->nexpired - n));
    r->nexpired -= n;
    return n;
}

/* ---- Figures ---------------------------------------------------------- */

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

int router_task_holders(const router *r, int64_t task_id, int *out, int max)
{
    const rtask *t = task_get(r, task_id);

    if (t == NULL)
        return 0;
    for (int i = 0; i < t->nheld && i < max; i++)
        out[i] = t->held[i];
    return t->nheld;
}

bool router_task_fits(const router *r, int64_t task_id, int w, int64_t now_us)
{
    const rtask *t = task_get(r, task_id);

    return t != NULL && fits(r, t, w, day_of(now_us));
}

int router_queue_count(const router *r)
{
    return r->nqueues;
}

status router_queue_stats_get(const router *r, int qi, int64_t now_us,
                              router_queue_stats *out, err *e)
{
    const rqueue *q;
    int64_t oldest = INT64_MAX;

    if (qi < 0 || qi >= r->nqueues)
        return err_set(e, ST_NOT_FOUND, "no routing queue %d", qi);
    q = &r->queues[qi];
    memset(out, 0, sizeof(*out));
    out->tenant = q->sig.tenant;
    out->case_type = q->sig.case_type;
    out->channel = q->sig.channel;
    out->ring = q->ring;
    out->waiting = heap_count(&q->tasks) + q->np;
    out->free_workers = heap_count(&q->free);
    for (int i = 0; i < heap_count(&q->tasks); i++) {
        const rtask *t =
            &r->tasks[*(const int *)heap_at(&q->tasks, &slot_heap, i)];
        if (t->def.ready_us < oldest)
            oldest = t->def.ready_us;
    }
    for (int i = 0; i < q->np; i++)
        if (r->tasks[q->parked[i]].def.ready_us < oldest)
            oldest = r->tasks[q->parked[i]].def.ready_us;
    out->oldest_wait_us = oldest == INT64_MAX ? 0 : now_us - oldest;
    return ST_OK;
}

status router_worker_stats_get(const router *r, int w, int64_t now_us,
                               router_worker_stats *out, err *e)
{
    const rworker *wk;

    if (w < 0 || w >= r->nworkers || !r->workers[w].defined)
        return err_set(e, ST_NOT_FOUND, "no worker %d in the router", w);
    wk = &r->workers[w];
    memset(out, 0, sizeof(*out));
    if (wk->presence == ROUTER_OFFLINE)
        out->state = ROUTER_WS_OFFLINE;
    else if (wk->presence == ROUTER_BREAK)
        out->state = ROUTER_WS_BREAK;
    else if (wk->wrap_until_us > 0 && wk->wrap_until_us > now_us)
        out->state = ROUTER_WS_WRAPUP;
    else
        out->state = wk->any_free ? ROUTER_WS_AVAILABLE : ROUTER_WS_BUSY;
    memcpy(out->load, wk->load, sizeof(out->load));
    out->occupancy_permille = occupancy(wk);
    out->idle_us = wk->total_load == 0 ? now_us - wk->idle_since_us : 0;
    out->assigned = wk->assigned;
    return ST_OK;
}

size_t router_memory(const router *r)
{
    size_t n = sizeof(*r);

    n += sizeof(rworker) * (size_t)r->cap_workers;
    for (int w = 0; w < r->cap_workers; w++)
        n += sizeof(rmemb) * (size_t)r->workers[w].cap_memb;
    n += sizeof(rtask) * (size_t)r->cap_tasks;
    for (int i = 0; i < r->ntasks; i++)
        n += sizeof(int) * (size_t)r->tasks[i].cap_excluded;
    n += sizeof(int) * (size_t)r->cap_free;
    n += sizeof(rqueue) * (size_t)r->cap_queues;
    for (int i = 0; i < r->nqueues; i++) {
        const rqueue *q = &r->queues[i];
        n += sizeof(int) * ((size_t)q->tasks.cap + 1 + (size_t)q->cap_parked) +
             sizeof(rfree) * ((size_t)q->free.cap + 1);
    }
    n += sizeof(int) * ((size_t)r->active.cap + 1);
    n += sizeof(rtimer) * ((size_t)r->timers.cap + 1);
    n += sizeof(int) * ((size_t)r->open.cap + 1);
    n += sizeof(int) * ((size_t)r->cap_mpos + (size_t)r->cap_mfree);
    n += sizeof(router_expiry) * (size_t)r->cap_expired;
    n += sizeof(rlist) * (size_t)r->cap_skill_workers;
    for (int i = 0; i < r->cap_skill_workers; i++)
        n += sizeof(int) * (size_t)r->skill_workers[i].cap;
    /* The hash maps: open addressing at most half full, 16 bytes a slot. */
    n += 32 *
         (size_t)(i64map_count(r->task_index) + i64map_count(r->affinity) +
                  i64map_count(r->contracts) + i64map_count(r->queue_index));
    return n;
}
