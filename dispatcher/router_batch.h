/*
 * Exact maximum-profit assignment for the router's batch matching (internal
 * to the router; not part of its public API).
 */
#ifndef TL_ROUTER_BATCH_H
#define TL_ROUTER_BATCH_H

#include <stdint.h>

#include "err.h"

/*
 * Assign each of n rows to a distinct one of m columns (either may be the
 * larger) so that the sum of profit[i * m + j] over chosen pairs is the
 * largest possible. A pair with profit 0 means "not allowed"; such a pair
 * is reported as unassigned (-1). Profits must be >= 0 and their sum over
 * any assignment must fit in int64_t. row_col[i] receives row i's column
 * or -1. The Hungarian method with potentials (Kuhn-Munkres), O(n^2 m).
 * Errors: ST_NOMEM; row_col is written only on success.
 */
status router_assign_max(const int64_t *profit, int n, int m, int *row_col,
                         err *e);

#endif
