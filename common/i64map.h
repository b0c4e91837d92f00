/*
 * Open-addressing hash map from positive int64 keys (database ids) to int
 * values (indexes into the caller's arrays). Not thread-safe.
 */
#ifndef TL_I64MAP_H
#define TL_I64MAP_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

typedef struct i64map i64map;

status i64map_create(i64map **out, err *e);
void i64map_destroy(i64map *m);

/* Insert or replace key -> val. Keys must be > 0. */
status i64map_put(i64map *m, int64_t key, int val, err *e);

/* Value for key into *val; false when absent. */
bool i64map_get(const i64map *m, int64_t key, int *val);

/* Remove key; no-op when absent. */
void i64map_del(i64map *m, int64_t key);

int i64map_count(const i64map *m);

/* Remove everything, keeping the allocation. */
void i64map_clear(i64map *m);

#endif
