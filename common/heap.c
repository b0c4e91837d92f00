/* The out-of-line part of the binary heap: the array and rebuilding. */
#include "heap.h"

#include <stdlib.h>

void heap_init(heap *h, void *ctx)
{
    memset(h, 0, sizeof(*h));
    h->ctx = ctx;
}

void heap_free(heap *h)
{
    free(h->v);
    h->v = NULL;
    h->n = 0;
    h->cap = 0;
}

status heap_reserve(heap *h, const heap_type *t, int n, err *e)
{
    int cap = h->cap > 0 ? h->cap : 8;
    unsigned char *v;

    if (n <= h->cap)
        return ST_OK;
    while (cap < n)
        cap *= 2;
    /* One more item than the capacity: the scratch slot sifts work in. */
    v = realloc(h->v, ((size_t)cap + 1) * t->size);
    if (v == NULL)
        return err_set(e, ST_NOMEM, "out of memory for a heap of %d items", n);
    /* The scratch slot moves to the new end; nothing is in it between
     * operations. */
    h->v = v;
    h->cap = cap;
    return ST_OK;
}

void heap_clear(heap *h, const heap_type *t)
{
    if (t->moved != NULL)
        for (int i = 0; i < h->n; i++)
            t->moved(heap_at(h, t, i), -1, h->ctx);
    h->n = 0;
}

void heap_build(heap *h, const heap_type *t)
{
    /* Floyd's bottom-up construction: sift every inner node down. */
    for (int i = h->n / 2 - 1; i >= 0; i--) {
        memcpy(heap_at(h, t, h->cap), heap_at(h, t, i), t->size);
        heap_sift_down(h, t, i);
    }
}
