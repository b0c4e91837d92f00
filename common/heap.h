/*
 * A binary heap of fixed-size items kept by value in one growing array,
 * ordered by the caller's comparison: the item that goes first is at
 * position 0. The router's queues (tasks by urgency, free workers by score,
 * queues by their most urgent task, timers, the frontier of a best-first
 * walk) and the agent simulator's scheduler all use it.
 *
 * A heap_type describes the items: their size, the order and, for an
 * indexed heap, a `moved` function through which the heap reports every
 * position an item lands on (and -1 when it leaves), so that the caller can
 * keep an item's position and later change its key in place (heap_fix) or
 * take it out (heap_remove), both in O(log n).
 *
 * Every operation takes the type. The operations are inline, and a caller
 * that passes a `static const heap_type` gets them specialised for its
 * items: the comparison and the copies are compiled in place instead of
 * being called through pointers (the router updates heaps on every
 * decision; the generic code cost it half again as many instructions).
 * A heap must always be used with the type it was filled with.
 *
 * Ownership: the heap owns its array (heap_free releases it); items are
 * copied in and out; ctx is borrowed and passed to the type's functions.
 * Not thread-safe.
 */
#ifndef TL_HEAP_H
#define TL_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "err.h"

/* True when item a goes before item b. */
typedef bool heap_before_fn(const void *a, const void *b, void *ctx);
/* The item now sits at pos (-1: it left the heap). */
typedef void heap_moved_fn(const void *item, int pos, void *ctx);

typedef struct heap_type {
    size_t size; /* bytes per item, > 0 */
    heap_before_fn *before;
    heap_moved_fn *moved; /* NULL when positions are not needed */
} heap_type;

typedef struct heap {
    void *ctx;
    unsigned char *v; /* cap + 1 items: the last one is scratch */
    int n;
    int cap;
} heap;

/* An empty heap; allocates nothing. ctx goes to the type's functions. */
void heap_init(heap *h, void *ctx);
/* Release the array; the heap is empty and usable again. */
void heap_free(heap *h);

/* Room for n items in all. Errors: ST_NOMEM (the heap is unchanged). */
status heap_reserve(heap *h, const heap_type *t, int n, err *e);

/* Forget every item (reported as leaving), keeping the array. */
void heap_clear(heap *h, const heap_type *t);

/* Restore the order after the keys of many items changed: O(n). */
void heap_build(heap *h, const heap_type *t);

/* ---- Inline operations (see the top of the file for why) -------------- */

/* Inlined even where the compiler would rather call: only then is the
 * caller's type constant inside. */
#define HEAP_INLINE static inline __attribute__((always_inline))
/* heap_place, heap_sift_up, heap_sift_down and heap_settle are the
 * implementation; callers use the operations after them. */

HEAP_INLINE int heap_count(const heap *h)
{
    return h->n;
}

/* The item at pos, 0 <= pos < heap_count (0: the first). */
HEAP_INLINE void *heap_at(const heap *h, const heap_type *t, int pos)
{
    return h->v + (size_t)pos * t->size;
}

/* Copy item into slot pos and report where it went. */
HEAP_INLINE void heap_place(heap *h, const heap_type *t, int pos,
                            const void *item)
{
    void *p = heap_at(h, t, pos);

    memcpy(p, item, t->size);
    if (t->moved != NULL)
        t->moved(p, pos, h->ctx);
}

/* Move the item in scratch (slot cap) up from hole pos. */
HEAP_INLINE void heap_sift_up(heap *h, const heap_type *t, int pos)
{
    const void *x = heap_at(h, t, h->cap);

    while (pos > 0) {
        int parent = (pos - 1) / 2;
        if (!t->before(x, heap_at(h, t, parent), h->ctx))
            break;
        heap_place(h, t, pos, heap_at(h, t, parent));
        pos = parent;
    }
    heap_place(h, t, pos, x);
}

/* Move the item in scratch down from hole pos. */
HEAP_INLINE void heap_sift_down(heap *h, const heap_type *t, int pos)
{
    const void *x = heap_at(h, t, h->cap);

    for (;;) {
        int c = 2 * pos + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n &&
            t->before(heap_at(h, t, c + 1), heap_at(h, t, c), h->ctx))
            c++;
        if (!t->before(heap_at(h, t, c), x, h->ctx))
            break;
        heap_place(h, t, pos, heap_at(h, t, c));
        pos = c;
    }
    heap_place(h, t, pos, x);
}

/* Place the item in scratch at hole pos, up or down as its key says. */
HEAP_INLINE void heap_settle(heap *h, const heap_type *t, int pos)
{
    if (pos > 0 &&
        t->before(heap_at(h, t, h->cap), heap_at(h, t, (pos - 1) / 2), h->ctx))
        heap_sift_up(h, t, pos);
    else
        heap_sift_down(h, t, pos);
}

/* Add a copy of item. Errors: ST_NOMEM (the heap is unchanged). */
HEAP_INLINE status heap_push(heap *h, const heap_type *t, const void *item,
                             err *e)
{
    if (h->n == h->cap) {
        status s = heap_reserve(h, t, h->n + 1, e);
        if (s != ST_OK)
            return s;
    }
    memcpy(heap_at(h, t, h->cap), item, t->size);
    heap_sift_up(h, t, h->n++);
    return ST_OK;
}

/* Take out the item at pos (into out unless NULL). */
HEAP_INLINE void heap_remove(heap *h, const heap_type *t, int pos, void *out)
{
    void *p = heap_at(h, t, pos);

    if (out != NULL)
        memcpy(out, p, t->size);
    if (t->moved != NULL)
        t->moved(p, -1, h->ctx);
    if (pos == --h->n)
        return;
    memcpy(heap_at(h, t, h->cap), heap_at(h, t, h->n), t->size);
    heap_settle(h, t, pos);
}

/* Take out the first item (into out unless NULL); the heap is not empty. */
HEAP_INLINE void heap_pop(heap *h, const heap_type *t, void *out)
{
    heap_remove(h, t, 0, out);
}

/* The item at pos changed its key (through heap_at): restore the order. */
HEAP_INLINE void heap_fix(heap *h, const heap_type *t, int pos)
{
    memcpy(heap_at(h, t, h->cap), heap_at(h, t, pos), t->size);
    heap_settle(h, t, pos);
}

#endif
