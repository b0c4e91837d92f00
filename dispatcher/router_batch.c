#include "router_batch.h"

#include <stdbool.h>
#include <stdlib.h>

/*
 * The shortest-augmenting-path form of the Hungarian method: rows are added
 * one at a time; for each, a Dijkstra-like search over columns with reduced
 * costs c(i, j) - u(i) - v(j) >= 0 finds the cheapest augmenting path, and
 * the potentials are moved so that reduced costs stay non-negative. Rows
 * must not outnumber columns; the caller transposes otherwise. Costs are
 * the negated profits, so the minimum cost is the maximum profit.
 */
static status hungarian(const int64_t *profit, int n, int m, bool transposed,
                        int *col_row, err *e)
{
    int64_t *u = calloc((size_t)n + 1, sizeof(int64_t));
    int64_t *v = calloc((size_t)m + 1, sizeof(int64_t));
    int64_t *minv = malloc(((size_t)m + 1) * sizeof(int64_t));
    int *p = calloc((size_t)m + 1, sizeof(int));
    int *way = calloc((size_t)m + 1, sizeof(int));
    char *used = malloc((size_t)m + 1);
    status s = ST_OK;

    if (u == NULL || v == NULL || minv == NULL || p == NULL || way == NULL ||
        used == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory for a %d x %d batch", n, m);
        goto out;
    }
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
                int64_t c, cur;
                if (used[j])
                    continue;
                c = transposed
                        ? profit[(size_t)(j - 1) * (size_t)n + (size_t)(i0 - 1)]
                        : profit[(size_t)(i0 - 1) * (size_t)m +
                                 (size_t)(j - 1)];
                cur = -c - u[i0] - v[j];
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
        col_row[j - 1] = p[j] - 1;
out:
    free(u);
    free(v);
    free(minv);
    free(p);
    free(way);
    free(used);
    return s;
}

status router_assign_max(const int64_t *profit, int n, int m, int *row_col,
                         err *e)
{
    bool transposed = n > m;
    int rows = transposed ? m : n, cols = transposed ? n : m;
    int *col_row = malloc(((size_t)cols + 1) * sizeof(int));
    status s;

    if (col_row == NULL)
        return err_set(e, ST_NOMEM, "out of memory for a %d x %d batch", n, m);
    s = hungarian(profit, rows, cols, transposed, col_row, e);
    if (s == ST_OK) {
        for (int i = 0; i < n; i++)
            row_col[i] = -1;
        for (int j = 0; j < cols; j++) {
            int i = col_row[j];
            int row, col;
            if (i < 0)
                continue;
            row = transposed ? j : i;
            col = transposed ? i : j;
            if (profit[(size_t)row * (size_t)m + (size_t)col] > 0)
                row_col[row] = col;
        }
    }
    free(col_row);
    return s;
}
