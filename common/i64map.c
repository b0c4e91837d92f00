#include "i64map.h"

#include <stdlib.h>

/* Slot keys: 0 = empty, -1 = deleted (tombstone), > 0 = live. */
typedef struct slot {
    int64_t key;
    int val;
} slot;

struct i64map {
    slot *slots;
    int cap; /* power of two */
    int live;
    int used; /* live + tombstones */
};

static uint64_t mix(int64_t k)
{
    uint64_t x = (uint64_t)k;

    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

status i64map_create(i64map **out, err *e)
{
    i64map *m = calloc(1, sizeof(*m));

    if (m == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    m->cap = 64;
    m->slots = calloc((size_t)m->cap, sizeof(slot));
    if (m->slots == NULL) {
        free(m);
        return err_set(e, ST_NOMEM, "out of memory");
    }
    *out = m;
    return ST_OK;
}

void i64map_destroy(i64map *m)
{
    if (m == NULL)
        return;
    free(m->slots);
    free(m);
}

static int find(const i64map *m, int64_t key)
{
    int mask = m->cap - 1;
    int i = (int)(mix(key) & (uint64_t)mask);

    for (;;) {
        if (m->slots[i].key == key)
            return i;
        if (m->slots[i].key == 0)
            return -1;
        i = (i + 1) & mask;
    }
}

static status grow(i64map *m, err *e)
{
    int ncap = m->live * 4 > m->cap ? m->cap * 2 : m->cap;
    slot *old = m->slots;
    int ocap = m->cap;
    slot *ns = calloc((size_t)ncap, sizeof(slot));

    if (ns == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    m->slots = ns;
    m->cap = ncap;
    m->live = 0;
    m->used = 0;
    for (int i = 0; i < ocap; i++) {
        if (old[i].key > 0) {
            int mask = ncap - 1;
            int j = (int)(mix(old[i].key) & (uint64_t)mask);
            while (ns[j].key != 0)
                j = (j + 1) & mask;
            ns[j] = old[i];
            m->live++;
            m->used++;
        }
    }
    free(old);
    return ST_OK;
}

status i64map_put(i64map *m, int64_t key, int val, err *e)
{
    int mask, i, tomb = -1;

    if ((m->used + 1) * 4 > m->cap * 3) {
        status s = grow(m, e);
        if (s != ST_OK)
            return s;
    }
    mask = m->cap - 1;
    i = (int)(mix(key) & (uint64_t)mask);
    for (;;) {
        if (m->slots[i].key == key) {
            m->slots[i].val = val;
            return ST_OK;
        }
        if (m->slots[i].key == -1 && tomb < 0)
            tomb = i;
        if (m->slots[i].key == 0)
            break;
        i = (i + 1) & mask;
    }
    if (tomb >= 0) {
        i = tomb;
    } else {
        m->used++;
    }
    m->slots[i].key = key;
    m->slots[i].val = val;
    m->live++;
    return ST_OK;
}

bool i64map_get(const i64map *m, int64_t key, int *val)
{
    int i = find(m, key);

    if (i < 0)
        return false;
    *val = m->slots[i].val;
    return true;
}

void i64map_del(i64map *m, int64_t key)
{
    int i = find(m, key);

    if (i < 0)
        return;
    m->slots[i].key = -1;
    m->live--;
}

int i64map_count(const i64map *m)
{
    return m->live;
}

void i64map_clear(i64map *m)
{
    for (int i = 0; i < m->cap; i++)
        m->slots[i].key = 0;
    m->live = 0;
    m->used = 0;
}
