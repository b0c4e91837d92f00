/*
 * The batch solver (router_batch.h) against slow references kept here only:
 * the dense Hungarian method the router used before (O(n^2 m) on the rows
 * spelt out one by one) and, on the smallest graphs, brute force. Random
 * graphs of every shape: ties, more rows than columns and the reverse,
 * classes and columns without edges, and hand-made ones where taking the
 * best pair first is wrong.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router_batch.h"
#include "tl_test.h"

#define MAXC 12  /* classes */
#define MAXJ 40  /* columns */
#define MAXR 120 /* rows spelt out */

typedef struct graph {
    int nclass, ncol;
    int supply[MAXC];
    int64_t p[MAXC][MAXJ]; /* 0: not eligible */
    int col_start[MAXJ + 1];
    int edge_class[MAXC * MAXJ];
    int64_t edge_profit[MAXC * MAXJ];
} graph;

static void to_edges(graph *g, router_batch *b)
{
    int k = 0;

    for (int j = 0; j < g->ncol; j++) {
        g->col_start[j] = k;
        /* Classes rotated per column: the solver must not rely on order. */
        for (int i = 0; i < g->nclass; i++) {
            int c = (i + j) % g->nclass;
            if (g->p[c][j] > 0) {
                g->edge_class[k] = c;
                g->edge_profit[k++] = g->p[c][j];
            }
        }
    }
    g->col_start[g->ncol] = k;
    b->nclass = g->nclass;
    b->supply = g->supply;
    b->ncol = g->ncol;
    b->col_start = g->col_start;
    b->edge_class = g->edge_class;
    b->edge_profit = g->edge_profit;
}

/*
 * Reference: the shortest-augmenting-path Hungarian method on the dense
 * rows x columns matrix (n <= m; costs are negated profits, a pair that is
 * not eligible counts 0). Returns the largest total.
 */
static int64_t hungarian(const int64_t *profit, int n, int m)
{
    int64_t u[MAXR + 1] = {0}, v[MAXR + MAXJ + 1] = {0};
    int64_t minv[MAXR + MAXJ + 1];
    int p[MAXR + MAXJ + 1] = {0}, way[MAXR + MAXJ + 1] = {0};
    char used[MAXR + MAXJ + 1];
    int64_t total = 0;

    for (int i = 1; i <= n; i++) {
        int j0 = 0;
        p[0] = i;
        for (int j = 0; j <= m; j++) {
            minv[j] = INT64_MAX;
            used[j] = 0;
        }
        do {
            int i0 = p[j0], j1 = 0;
            int64_t delta = INT64_MAX;
            used[j0] = 1;
            for (int j = 1; j <= m; j++) {
                int64_t cur;
                if (used[j])
                    continue;
                cur = -profit[(size_t)(i0 - 1) * (size_t)m + (size_t)(j - 1)] -
                      u[i0] - v[j];
                if (cur < minv[j]) {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if (minv[j] < delta) {
                    delta = minv[j];
                    j1 = j;
                }
            }
            for (int j = 0; j <= m; j++) {
                if (used[j]) {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
        } while (p[j0] != 0);
        do {
            int j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0 != 0);
    }
    for (int j = 1; j <= m; j++)
        if (p[j] > 0)
            total += profit[(size_t)(p[j] - 1) * (size_t)m + (size_t)(j - 1)];
    return total;
}

/* The reference optimum: every class's rows spelt out, then padded with
 * columns of profit 0 so that rows never outnumber columns. */
static int64_t reference(const graph *g)
{
    static int64_t mat[MAXR * (MAXR + MAXJ)];
    int rows = 0, m;

    for (int c = 0; c < g->nclass; c++)
        rows += g->supply[c];
    if (rows == 0)
        return 0;
    m = g->ncol + rows;
    memset(mat, 0, sizeof(int64_t) * (size_t)rows * (size_t)m);
    for (int c = 0, i = 0; c < g->nclass; c++)
        for (int s = 0; s < g->supply[c]; s++, i++)
            for (int j = 0; j < g->ncol; j++)
                mat[(size_t)i * (size_t)m + (size_t)j] = g->p[c][j];
    return hungarian(mat, rows, m);
}

/* Brute force over every choice of class (or none) per column. */
static int64_t brute(const graph *g, int j, int *left)
{
    int64_t best;

    if (j == g->ncol)
        return 0;
    best = brute(g, j + 1, left);
    for (int c = 0; c < g->nclass; c++) {
        int64_t v;
        if (g->p[c][j] == 0 || left[c] == 0)
            continue;
        left[c]--;
        v = g->p[c][j] + brute(g, j + 1, left);
        left[c]++;
        if (v > best)
            best = v;
    }
    return best;
}

/* Solve, check the answer is feasible, and return its total. */
static int64_t solve(graph *g)
{
    router_batch b;
    int col_class[MAXJ], taken[MAXC] = {0};
    int64_t total = 0;
    err e = {0};

    to_edges(g, &b);
    memset(col_class, 0x7f, sizeof(col_class));
    assert_int_equal(router_assign_max(&b, col_class, &e), ST_OK);
    for (int j = 0; j < g->ncol; j++) {
        int c = col_class[j];
        if (c < 0) {
            assert_int_equal(c, -1);
            continue;
        }
        assert_true(c < g->nclass);
        assert_true(g->p[c][j] > 0); /* only eligible pairs */
        taken[c]++;
        total += g->p[c][j];
    }
    for (int c = 0; c < g->nclass; c++)
        assert_true(taken[c] <= g->supply[c]);
    return total;
}

static void random_graph(graph *g, int shape)
{
    /* Shapes: many small classes (plain assignment), a few mid-sized ones,
     * a few large ones as the router makes of its queues. */
    int maxc = shape == 0 ? MAXC : 1 + rand() % 4;
    int maxs = shape == 0 ? 2 : shape == 1 ? 1 + rand() % 8 : 40;
    int density = 10 + rand() % 91;
    int64_t range = rand() % 3 == 0 ? 3 : rand() % 2 ? 1000 : (int64_t)1 << 44;
    int rows;

    memset(g, 0, sizeof(*g));
    g->nclass = rand() % (maxc + 1);
    g->ncol = rand() % (MAXJ + 1);
    do {
        rows = 0;
        for (int c = 0; c < g->nclass; c++) {
            g->supply[c] = rand() % (maxs + 1);
            rows += g->supply[c];
        }
    } while (rows > MAXR);
    for (int c = 0; c < g->nclass; c++)
        for (int j = 0; j < g->ncol; j++)
            if (rand() % 100 < density)
                /* A common base with a small spread, as the router's
                 * profits have (2^44 + score), or small ties. */
                g->p[c][j] =
                    range > 1000 ? range + rand() % 5000 : 1 + rand() % range;
}

static void test_matches_the_hungarian_method(void **state)
{
    graph g;

    (void)state;
    srand(17);
    for (int round = 0; round < 4000; round++) {
        random_graph(&g, round % 3);
        assert_true(solve(&g) == reference(&g));
    }
}

static void test_matches_brute_force_on_small_graphs(void **state)
{
    graph g;

    (void)state;
    srand(23);
    for (int round = 0; round < 3000; round++) {
        int left[MAXC];
        memset(&g, 0, sizeof(g));
        g.nclass = rand() % 4;
        g.ncol = rand() % 7;
        for (int c = 0; c < g.nclass; c++) {
            g.supply[c] = rand() % 3;
            left[c] = g.supply[c];
            for (int j = 0; j < g.ncol; j++)
                if (rand() % 3 != 0)
                    g.p[c][j] = 1 + rand() % (round % 2 ? 4 : 100);
        }
        assert_true(solve(&g) == brute(&g, 0, left));
        assert_true(reference(&g) == brute(&g, 0, left));
    }
}

/*
 * Taking the best pair first is wrong: column 0 is worth most to class A,
 * but only A can use column 1, so column 0 must go to B. And a chain: each
 * class's favourite column is the next class's only one.
 */
static void test_greedy_would_be_wrong(void **state)
{
    graph g;

    (void)state;
    memset(&g, 0, sizeof(g));
    g.nclass = 2;
    g.ncol = 2;
    g.supply[0] = g.supply[1] = 1;
    g.p[0][0] = 10;
    g.p[1][0] = 9;
    g.p[0][1] = 8;
    assert_true(solve(&g) == 17);

    memset(&g, 0, sizeof(g));
    g.nclass = 5;
    g.ncol = 5;
    for (int c = 0; c < 5; c++) {
        g.supply[c] = 1;
        g.p[c][c] = 100; /* favourite */
        if (c > 0)
            g.p[c][c - 1] = 1; /* the previous class's favourite */
    }
    /* Column 4's class can also take column 0; nobody else can. */
    g.p[4][0] = 50;
    assert_true(solve(&g) == reference(&g));
    assert_true(solve(&g) == 500);

    /* One class of many rows, columns of which a few matter elsewhere. */
    memset(&g, 0, sizeof(g));
    g.nclass = 2;
    g.ncol = 6;
    g.supply[0] = 5;
    g.supply[1] = 1;
    for (int j = 0; j < 6; j++)
        g.p[0][j] = 10 + j;
    g.p[1][5] = 12;
    assert_true(solve(&g) == reference(&g));
    assert_true(solve(&g) == 10 + 11 + 12 + 13 + 14 + 12);
}

static void test_rejects_a_malformed_graph(void **state)
{
    graph g;
    router_batch b;
    int col_class[MAXJ] = {0};
    err e = {0};

    (void)state;
    memset(&g, 0, sizeof(g));
    g.nclass = 1;
    g.ncol = 1;
    g.supply[0] = 1;
    g.p[0][0] = 5;
    to_edges(&g, &b);
    g.edge_profit[0] = 0;
    assert_int_equal(router_assign_max(&b, col_class, &e), ST_INVALID);
    g.edge_profit[0] = ROUTER_BATCH_PROFIT_MAX + 1;
    assert_int_equal(router_assign_max(&b, col_class, &e), ST_INVALID);
    g.edge_profit[0] = 5;
    g.edge_class[0] = 1;
    assert_int_equal(router_assign_max(&b, col_class, &e), ST_INVALID);
    g.edge_class[0] = 0;
    g.supply[0] = -1;
    assert_int_equal(router_assign_max(&b, col_class, &e), ST_INVALID);
    assert_int_equal(col_class[0], 0); /* untouched on error */
    g.supply[0] = 1;
    assert_int_equal(router_assign_max(&b, col_class, &e), ST_OK);
    assert_int_equal(col_class[0], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_the_hungarian_method),
        cmocka_unit_test(test_matches_brute_force_on_small_graphs),
        cmocka_unit_test(test_greedy_would_be_wrong),
        cmocka_unit_test(test_rejects_a_malformed_graph),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
