/*
 * Exact maximum-profit assignment for the router's batch matching (internal
 * to the router; not part of its public API).
 *
 * The batch is a bipartite graph given by its eligible pairs only. Rows
 * come in classes of identical rows: every row of class c has the same
 * eligible columns at the same profits, and class c has supply[c] rows (the
 * router puts the tasks of one queue in one class, so a batch of a thousand
 * tasks from five queues has five classes). Each row takes at most one
 * column and each column goes to at most one row; a row or column may stay
 * unassigned.
 */
#ifndef TL_ROUTER_BATCH_H
#define TL_ROUTER_BATCH_H

#include <stdint.h>

#include "err.h"

#define ROUTER_BATCH_PROFIT_MAX ((int64_t)1 << 50)

/*
 * The graph, borrowed by router_assign_max. Column j's eligible pairs are
 * edges col_start[j] .. col_start[j + 1] - 1: edge_class[k] is the class
 * and edge_profit[k] the profit of giving column j to a row of that class.
 * Each (column, class) pair appears at most once.
 */
typedef struct router_batch {
    int nclass;
    const int *supply; /* rows per class, >= 0 */
    int ncol;
    const int *col_start; /* ncol + 1 entries, non-decreasing from 0 */
    const int *edge_class;
    const int64_t *edge_profit; /* 1 .. ROUTER_BATCH_PROFIT_MAX */
} router_batch;

/*
 * Give columns to rows so that the sum of the profits of the chosen pairs
 * is the largest possible: col_class[j] receives the class whose row takes
 * column j, or -1. At most supply[c] columns go to class c.
 *
 * Successive shortest augmenting paths with potentials, adding one column
 * at a time over the classes (not the rows): a path runs from the new
 * column through classes that each give one of their columns to the next
 * class, and ends at a class with a free row or by leaving a column out.
 * The cost is about E + (the members of the classes a path visits) per
 * column rather than rows x columns.
 *
 * Errors: ST_INVALID for a malformed graph (a class out of range, a
 * profit outside 1 .. ROUTER_BATCH_PROFIT_MAX, a negative supply),
 * ST_NOMEM; col_class is written only on success.
 */
status router_assign_max(const router_batch *b, int *col_class, err *e);

#endif
