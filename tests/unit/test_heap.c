/* The generic binary heap (common/heap.h): order, positions, removal and
 * rebuilding, checked against sorting and against a model. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "tl_test.h"

/* An item that knows its own id; keys may tie, ids never do. */
typedef struct item {
    int64_t key;
    int id;
} item;

#define NITEMS 512

typedef struct model {
    int pos[NITEMS]; /* where the heap says item id is, -1: not in it */
    int64_t key[NITEMS];
} model;

static bool item_before(const void *a, const void *b, void *ctx)
{
    const item *x = a, *y = b;

    (void)ctx;
    return x->key != y->key ? x->key < y->key : x->id < y->id;
}

static void item_moved(const void *it, int pos, void *ctx)
{
    model *m = ctx;

    m->pos[((const item *)it)->id] = pos;
}

static const heap_type plain_type = {sizeof(item), item_before, NULL};
static const heap_type indexed_type = {sizeof(item), item_before, item_moved};

static int cmp_item(const void *a, const void *b)
{
    return item_before(a, b, NULL) ? -1 : item_before(b, a, NULL) ? 1 : 0;
}

/* Every parent goes before its children, and positions are as reported. */
static void check(const heap *h, const heap_type *t, const model *m)
{
    for (int i = 1; i < heap_count(h); i++)
        assert_false(
            item_before(heap_at(h, t, i), heap_at(h, t, (i - 1) / 2), NULL));
    if (m == NULL)
        return;
    for (int i = 0; i < heap_count(h); i++) {
        const item *it = heap_at(h, t, i);
        assert_int_equal(m->pos[it->id], i);
        assert_true(it->key == m->key[it->id]);
    }
}

static void test_pops_come_out_sorted(void **state)
{
    heap h;
    item in[NITEMS], out;
    err e = {0};

    (void)state;
    srand(3);
    heap_init(&h, NULL);
    for (int round = 0; round < 20; round++) {
        int n = rand() % NITEMS;
        for (int i = 0; i < n; i++) {
            in[i].key = rand() % 50; /* many ties */
            in[i].id = i;
            assert_int_equal(heap_push(&h, &plain_type, &in[i], &e), ST_OK);
        }
        check(&h, &plain_type, NULL);
        qsort(in, (size_t)n, sizeof(item), cmp_item);
        for (int i = 0; i < n; i++) {
            heap_pop(&h, &plain_type, &out);
            assert_true(out.key == in[i].key);
            assert_int_equal(out.id, in[i].id);
        }
        assert_int_equal(heap_count(&h), 0);
    }
    heap_free(&h);
    heap_free(&h); /* freeing twice is harmless */
}

static void test_positions_follow_every_move(void **state)
{
    heap h;
    model m;
    err e = {0};

    (void)state;
    srand(5);
    for (int i = 0; i < NITEMS; i++)
        m.pos[i] = -1;
    heap_init(&h, &m);
    for (int step = 0; step < 20000; step++) {
        int id = rand() % NITEMS, op = rand() % 4;
        if (m.pos[id] < 0) {
            item it = {rand() % 100, id};
            m.key[id] = it.key;
            assert_int_equal(heap_push(&h, &indexed_type, &it, &e), ST_OK);
        } else if (op == 0) {
            item out;
            heap_remove(&h, &indexed_type, m.pos[id], &out);
            assert_int_equal(out.id, id);
            assert_int_equal(m.pos[id], -1);
        } else if (op == 1) {
            item *it = heap_at(&h, &indexed_type, m.pos[id]);
            it->key = m.key[id] = rand() % 100;
            heap_fix(&h, &indexed_type, m.pos[id]);
        } else if (op == 2 && heap_count(&h) > 0) {
            item first = *(item *)heap_at(&h, &indexed_type, 0), out;
            heap_pop(&h, &indexed_type, &out);
            assert_int_equal(out.id, first.id);
            assert_int_equal(m.pos[first.id], -1);
        }
        check(&h, &indexed_type, &m);
    }
    heap_clear(&h, &indexed_type);
    for (int i = 0; i < NITEMS; i++)
        assert_int_equal(m.pos[i], -1);
    heap_free(&h);
}

static void test_build_after_many_key_changes(void **state)
{
    heap h;
    model m;
    item keep[NITEMS], out;
    err e = {0};

    (void)state;
    srand(9);
    heap_init(&h, &m);
    for (int i = 0; i < 300; i++) {
        item it = {rand() % 1000, i};
        m.key[i] = it.key;
        assert_int_equal(heap_push(&h, &indexed_type, &it, &e), ST_OK);
    }
    /* Change every key behind the heap's back, then rebuild. */
    for (int i = 0; i < heap_count(&h); i++) {
        item *it = heap_at(&h, &indexed_type, i);
        it->key = m.key[it->id] = rand() % 1000;
        keep[i] = *it;
    }
    heap_build(&h, &indexed_type);
    check(&h, &indexed_type, &m);
    qsort(keep, 300, sizeof(item), cmp_item);
    for (int i = 0; i < 300; i++) {
        heap_pop(&h, &indexed_type, &out);
        assert_int_equal(out.id, keep[i].id);
        check(&h, &indexed_type, &m);
    }
    heap_free(&h);
}

/* Items larger than a word, as the simulator's events are. */
typedef struct big {
    char payload[100];
    int64_t due;
} big;

static bool big_before(const void *a, const void *b, void *ctx)
{
    (void)ctx;
    return ((const big *)a)->due < ((const big *)b)->due;
}

static const heap_type big_type = {sizeof(big), big_before, NULL};

static void test_large_items_keep_their_bytes(void **state)
{
    heap h;
    big x, out;
    err e = {0};

    (void)state;
    heap_init(&h, NULL);
    assert_int_equal(heap_reserve(&h, &big_type, 3, &e), ST_OK);
    for (int i = 0; i < 1000; i++) {
        memset(&x, 0, sizeof(x));
        x.due = (i * 7919) % 1000;
        memset(x.payload, 'a' + (int)(x.due % 26), sizeof(x.payload) - 1);
        assert_int_equal(heap_push(&h, &big_type, &x, &e), ST_OK);
    }
    for (int i = 0; i < 1000; i++) {
        heap_pop(&h, &big_type, &out);
        assert_true(out.due == i);
        assert_int_equal(out.payload[0], 'a' + i % 26);
        assert_int_equal(out.payload[98], 'a' + i % 26);
        assert_int_equal(out.payload[99], 0);
    }
    heap_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pops_come_out_sorted),
        cmocka_unit_test(test_positions_follow_every_move),
        cmocka_unit_test(test_build_after_many_key_changes),
        cmocka_unit_test(test_large_items_keep_their_bytes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
