/*
 * The batch solver as a minimum-cost flow: each column sends one unit to a
 * sink T, either through a class (taking one of its rows: cost -profit) or
 * straight (left out: cost 0); class c passes at most supply[c] units on to
 * T. Columns are added one at a time and each unit goes along a shortest
 * path in the residual graph (Dijkstra with reduced costs), which keeps the
 * flow optimal for the columns added so far; after the last column it is
 * the optimum.
 *
 * Only class potentials are stored. A column a class holds lies on a tight
 * arc, so its potential is the class's plus its profit; a column left out
 * lies on a tight arc to T, whose potential stays 0. From a class reached
 * at distance d every column it holds is at d too, and going on means
 * giving one of them to another class or leaving it out, so the search
 * walks classes. The cheapest way from a full class to each other class,
 * and the cheapest column to leave out, do not depend on the potentials
 * (a column's potential moves with its class's), so each class keeps them
 * (its exits) until its columns change: a search that settles a class of
 * two hundred columns then looks at a handful of exits, not at every edge
 * of every column.
 * Potentials stay within [-ROUTER_BATCH_PROFIT_MAX, 0]: a class with a
 * free row sits at 0, a full one no lower than minus the profit of any
 * column it holds, so no sum below overflows.
 */
#include "router_batch.h"

#include <stdbool.h>
#include <stdlib.h>

#include "heap.h"

/* How a shortest path ends at T. */
enum { END_SELF, END_FREE_ROW, END_DROP };

/* The cheapest way from a class to class `to`: give it column `col`, which
 * costs delta = (its profit here) - (its profit there). */
typedef struct rexit {
    int to;
    int col;
    int64_t delta;
} rexit;

/* A class's exits, valid while its columns stay the same. */
typedef struct rexits {
    rexit *v;
    int n;
    int cap;
    bool stale;
    int drop_col; /* the column cheapest to leave out, -1: none */
    int64_t drop_profit;
} rexits;

typedef struct solver {
    const router_batch *b;
    int *cls;      /* column -> class holding it, -1 */
    int64_t *prof; /* profit of the column in its class */
    int *next;     /* the columns of a class, doubly linked */
    int *prev;
    int *head; /* per class */
    int *held; /* columns per class */
    int64_t *pot;
    int64_t *dist;
    uint32_t *seen; /* dist is of this search */
    uint32_t *done; /* settled in this search */
    int *from;      /* class the path came from, -1: the new column */
    int *via;       /* column the path moves into the class */
    int64_t *via_profit;
    int *hpos;
    int *settled;
    int nsettled;
    uint32_t epoch;
    heap open;           /* classes by distance */
    rexits *exits;       /* per class */
    int64_t *best_delta; /* scratch for exits_update, per class */
    int *best_col;
    int *targets;
    uint32_t *best_seen;
    uint32_t best_epoch;
} solver;

static inline bool class_before(const void *a, const void *b, void *ctx)
{
    const solver *s = ctx;
    int x = *(const int *)a, y = *(const int *)b;

    return s->dist[x] != s->dist[y] ? s->dist[x] < s->dist[y] : x < y;
}

static inline void class_moved(const void *item, int pos, void *ctx)
{
    solver *s = ctx;

    s->hpos[*(const int *)item] = pos;
}

static const heap_type class_heap = {sizeof(int), class_before, class_moved};

static void hold(solver *s, int j, int c, int64_t profit)
{
    s->cls[j] = c;
    s->prof[j] = profit;
    s->prev[j] = -1;
    s->next[j] = s->head[c];
    if (s->head[c] >= 0)
        s->prev[s->head[c]] = j;
    s->head[c] = j;
    s->held[c]++;
    s->exits[c].stale = true;
}

static void unhold(solver *s, int j)
{
    int c = s->cls[j];

    if (s->prev[j] >= 0)
        s->next[s->prev[j]] = s->next[j];
    else
        s->head[c] = s->next[j];
    if (s->next[j] >= 0)
        s->prev[s->next[j]] = s->prev[j];
    s->held[c]--;
    s->cls[j] = -1;
    s->exits[c].stale = true;
}

/* Compute class c's exits again from its columns and their edges. */
static status exits_update(solver *s, int c)
{
    const router_batch *b = s->b;
    rexits *x = &s->exits[c];
    int n = 0;

    x->drop_col = -1;
    s->best_epoch++;
    for (int m = s->head[c]; m >= 0; m = s->next[m]) {
        if (x->drop_col < 0 || s->prof[m] < x->drop_profit) {
            x->drop_col = m;
            x->drop_profit = s->prof[m];
        }
        for (int k = b->col_start[m]; k < b->col_start[m + 1]; k++) {
            int to = b->edge_class[k];
            int64_t delta = s->prof[m] - b->edge_profit[k];
            if (to == c)
                continue;
            if (s->best_seen[to] != s->best_epoch) {
                s->best_seen[to] = s->best_epoch;
                s->best_delta[to] = delta;
                s->best_col[to] = m;
                s->targets[n++] = to;
            } else if (delta < s->best_delta[to]) {
                s->best_delta[to] = delta;
                s->best_col[to] = m;
            }
        }
    }
    if (n > x->cap) {
        int cap = x->cap > 0 ? x->cap : 4;
        rexit *v;
        while (cap < n)
            cap *= 2;
        v = realloc(x->v, sizeof(rexit) * (size_t)cap);
        if (v == NULL)
            return ST_NOMEM;
        x->v = v;
        x->cap = cap;
    }
    for (int i = 0; i < n; i++) {
        int to = s->targets[i];
        x->v[i].to = to;
        x->v[i].col = s->best_col[to];
        x->v[i].delta = s->best_delta[to];
    }
    x->n = n;
    x->stale = false;
    return ST_OK;
}

/* A path reaches class c at distance d, moving column via in (profit w). */
static inline void relax(solver *s, int c, int64_t d, int from, int via,
                         int64_t w)
{
    if (s->seen[c] == s->epoch && d >= s->dist[c])
        return;
    s->dist[c] = d;
    s->from[c] = from;
    s->via[c] = via;
    s->via_profit[c] = w;
    if (s->seen[c] != s->epoch) {
        s->seen[c] = s->epoch;
        /* Room for every class was reserved. */
        (void)heap_push(&s->open, &class_heap, &c, NULL);
    } else {
        heap_fix(&s->open, &class_heap, s->hpos[c]);
    }
}

/* Add column j: route its unit along a shortest path and move the flow.
 * Errors: ST_NOMEM (the flow is unchanged). */
static status add_column(solver *s, int j)
{
    const router_batch *b = s->b;
    int end = END_SELF, end_class = -1, end_col = -1;
    int64_t pj = 0, best;

    s->epoch++;
    s->nsettled = 0;
    heap_clear(&s->open, &class_heap);
    /* The new column's potential makes its cheapest arc tight. */
    for (int k = b->col_start[j]; k < b->col_start[j + 1]; k++) {
        int64_t v = b->edge_profit[k] + s->pot[b->edge_class[k]];
        if (v > pj)
            pj = v;
    }
    best = pj; /* leaving the column out */
    for (int k = b->col_start[j]; k < b->col_start[j + 1]; k++) {
        int c = b->edge_class[k];
        int64_t d = pj - b->edge_profit[k] - s->pot[c];
        if (d < best)
            relax(s, c, d, -1, j, b->edge_profit[k]);
    }
    while (heap_count(&s->open) > 0) {
        int c = *(const int *)heap_at(&s->open, &class_heap, 0);
        if (s->dist[c] >= best)
            break;
        heap_pop(&s->open, &class_heap, NULL);
        s->done[c] = s->epoch;
        s->settled[s->nsettled++] = c;
        if (s->held[c] < b->supply[c]) {
            /* A free row ends the path; every way on is no shorter. */
            int64_t v = s->dist[c] + s->pot[c];
            if (v < best) {
                best = v;
                end = END_FREE_ROW;
                end_class = c;
            }
            continue;
        }
        if (s->held[c] == 1) {
            /* One column: its edges are the exits. */
            int m = s->head[c];
            int64_t at = s->dist[c] + s->pot[c] + s->prof[m];
            if (at < best) {
                best = at;
                end = END_DROP;
                end_class = c;
                end_col = m;
            }
            for (int k = b->col_start[m]; k < b->col_start[m + 1]; k++) {
                int c2 = b->edge_class[k];
                int64_t d;
                if (c2 == c || s->done[c2] == s->epoch)
                    continue;
                d = at - b->edge_profit[k] - s->pot[c2];
                if (d < best)
                    relax(s, c2, d, c, m, b->edge_profit[k]);
            }
            continue;
        }
        if (s->exits[c].stale && exits_update(s, c) != ST_OK)
            return ST_NOMEM;
        if (s->exits[c].drop_col >= 0) {
            int64_t at = s->dist[c] + s->pot[c] + s->exits[c].drop_profit;
            if (at < best) {
                best = at;
                end = END_DROP;
                end_class = c;
                end_col = s->exits[c].drop_col;
            }
        }
        for (int i = 0; i < s->exits[c].n; i++) {
            const rexit *x = &s->exits[c].v[i];
            int64_t d;
            if (s->done[x->to] == s->epoch)
                continue;
            d = s->dist[c] + s->pot[c] + x->delta - s->pot[x->to];
            if (d < best)
                relax(s, x->to, d, c, x->col, s->prof[x->col] - x->delta);
        }
    }
    for (int i = 0; i < s->nsettled; i++) {
        int c = s->settled[i];
        s->pot[c] += s->dist[c] - best;
    }
    if (end == END_SELF)
        return ST_OK;
    if (end == END_DROP)
        unhold(s, end_col);
    for (int c = end_class;;) {
        int in = s->via[c], back = s->from[c];
        if (back >= 0)
            unhold(s, in);
        hold(s, in, c, s->via_profit[c]);
        if (back < 0)
            break;
        c = back;
    }
    return ST_OK;
}

static status check(const router_batch *b, err *e)
{
    if (b->nclass < 0 || b->ncol < 0 || b->col_start[0] != 0)
        return err_set(e, ST_INVALID, "batch: bad sizes");
    for (int c = 0; c < b->nclass; c++)
        if (b->supply[c] < 0)
            return err_set(e, ST_INVALID, "batch: class %d has supply %d", c,
                           b->supply[c]);
    for (int j = 0; j < b->ncol; j++) {
        if (b->col_start[j + 1] < b->col_start[j])
            return err_set(e, ST_INVALID, "batch: column %d has bad edges", j);
        for (int k = b->col_start[j]; k < b->col_start[j + 1]; k++)
            if (b->edge_class[k] < 0 || b->edge_class[k] >= b->nclass ||
                b->edge_profit[k] < 1 ||
                b->edge_profit[k] > ROUTER_BATCH_PROFIT_MAX)
                return err_set(e, ST_INVALID,
                               "batch: column %d has a bad edge (class %d, "
                               "profit %lld)",
                               j, b->edge_class[k],
                               (long long)b->edge_profit[k]);
    }
    return ST_OK;
}

typedef struct col_order {
    int64_t best; /* the column's best profit */
    int j;
} col_order;

static int order_cmp(const void *a, const void *b)
{
    const col_order *x = a, *y = b;

    if (x->best != y->best)
        return x->best > y->best ? -1 : 1;
    return (x->j > y->j) - (x->j < y->j);
}

status router_assign_max(const router_batch *b, int *col_class, err *e)
{
    solver s = {0};
    size_t nc = (size_t)b->nclass + 1, nj = (size_t)b->ncol + 1;
    col_order *order = NULL;
    status st = check(b, e);

    if (st != ST_OK)
        return st;
    s.b = b;
    heap_init(&s.open, &s);
    s.cls = malloc(nj * sizeof(int));
    s.prof = malloc(nj * sizeof(int64_t));
    s.next = malloc(nj * sizeof(int));
    s.prev = malloc(nj * sizeof(int));
    s.head = malloc(nc * sizeof(int));
    s.held = calloc(nc, sizeof(int));
    s.pot = calloc(nc, sizeof(int64_t));
    s.dist = malloc(nc * sizeof(int64_t));
    s.seen = calloc(nc, sizeof(uint32_t));
    s.done = calloc(nc, sizeof(uint32_t));
    s.from = malloc(nc * sizeof(int));
    s.via = malloc(nc * sizeof(int));
    s.via_profit = malloc(nc * sizeof(int64_t));
    s.hpos = malloc(nc * sizeof(int));
    s.settled = malloc(nc * sizeof(int));
    s.exits = calloc(nc, sizeof(rexits));
    s.best_delta = malloc(nc * sizeof(int64_t));
    s.best_col = malloc(nc * sizeof(int));
    s.best_seen = calloc(nc, sizeof(uint32_t));
    s.targets = malloc(nc * sizeof(int));
    order = malloc(nj * sizeof(col_order));
    if (s.cls == NULL || s.prof == NULL || s.next == NULL || s.prev == NULL ||
        s.head == NULL || s.held == NULL || s.pot == NULL || s.dist == NULL ||
        s.seen == NULL || s.done == NULL || s.from == NULL || s.via == NULL ||
        s.via_profit == NULL || s.hpos == NULL || s.settled == NULL ||
        s.exits == NULL || s.best_delta == NULL || s.best_col == NULL ||
        s.best_seen == NULL || s.targets == NULL || order == NULL ||
        heap_reserve(&s.open, &class_heap, b->nclass + 1, NULL) != ST_OK) {
        st = err_set(e, ST_NOMEM, "out of memory for a batch of %d columns",
                     b->ncol);
        goto out;
    }
    for (int c = 0; c < b->nclass; c++) {
        s.head[c] = -1;
        s.exits[c].stale = true;
    }
    /*
     * Best columns first: they mostly find a free row at once, and the
     * classes fill up only towards the end, when the searches that walk
     * the columns of full classes begin.
     */
    for (int j = 0; j < b->ncol; j++) {
        s.cls[j] = -1;
        order[j].j = j;
        order[j].best = 0;
        for (int k = b->col_start[j]; k < b->col_start[j + 1]; k++)
            if (b->edge_profit[k] > order[j].best)
                order[j].best = b->edge_profit[k];
    }
    qsort(order, (size_t)b->ncol, sizeof(col_order), order_cmp);
    for (int i = 0; i < b->ncol; i++)
        if (order[i].best > 0 && add_column(&s, order[i].j) != ST_OK) {
            st = err_set(e, ST_NOMEM, "out of memory for a batch of %d columns",
                         b->ncol);
            goto out;
        }
    for (int j = 0; j < b->ncol; j++)
        col_class[j] = s.cls[j];
out:
    for (int c = 0; s.exits != NULL && c < b->nclass; c++)
        free(s.exits[c].v);
    free(s.exits);
    free(s.best_delta);
    free(s.best_col);
    free(s.best_seen);
    free(s.targets);
    heap_free(&s.open);
    free(s.cls);
    free(s.prof);
    free(s.next);
    free(s.prev);
    free(s.head);
    free(s.held);
    free(s.pot);
    free(s.dist);
    free(s.seen);
    free(s.done);
    free(s.from);
    free(s.via);
    free(s.via_profit);
    free(s.hpos);
    free(s.settled);
    free(order);
    return st;
}
