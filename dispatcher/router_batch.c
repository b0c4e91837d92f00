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
 * walks classes and looks at the columns of the classes it settles.
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
    heap open; /* classes by distance */
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
}

/* A path reaches class c at distance d, moving column via in (profit w). */
static void relax(solver *s, int c, int64_t d, int from, int via, int64_t w)
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

/* Add column j: route its unit along a shortest path and move the flow. */
static void add_column(solver *s, int j)
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
        for (int m = s->head[c]; m >= 0; m = s->next[m]) {
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
        }
    }
    for (int i = 0; i < s->nsettled; i++) {
        int c = s->settled[i];
        s->pot[c] += s->dist[c] - best;
    }
    if (end == END_SELF)
        return;
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
    order = malloc(nj * sizeof(col_order));
    if (s.cls == NULL || s.prof == NULL || s.next == NULL || s.prev == NULL ||
        s.head == NULL || s.held == NULL || s.pot == NULL || s.dist == NULL ||
        s.seen == NULL || s.done == NULL || s.from == NULL || s.via == NULL ||
        s.via_profit == NULL || s.hpos == NULL || s.settled == NULL ||
        order == NULL ||
        heap_reserve(&s.open, &class_heap, b->nclass + 1, NULL) != ST_OK) {
        st = err_set(e, ST_NOMEM, "out of memory for a batch of %d columns",
                     b->ncol);
        goto out;
    }
    for (int c = 0; c < b->nclass; c++)
        s.head[c] = -1;
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
        if (order[i].best > 0)
            add_column(&s, order[i].j);
    for (int j = 0; j < b->ncol; j++)
        col_class[j] = s.cls[j];
out:
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
