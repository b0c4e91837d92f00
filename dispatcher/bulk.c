/* Bulk requests opened into one request per item (bulk.h). */
#include "bulk.h"

#include <stdlib.h>
#include <string.h>

#include "outq.h"

struct dsp_bulk {
    many_list *lists; /* by request; n 0 when refused */
    int nreqs;
    dsp_req *items;
    int nitems;
    const bus_msg **ms; /* the admitted requests, for the replies */
    int *counts;
    int nms;
};

const char *dsp_req_data(const dsp_req *r)
{
    return r->data != NULL ? r->data : bus_msg_data(r->m);
}

size_t dsp_req_len(const dsp_req *r)
{
    return r->data != NULL ? r->len : bus_msg_len(r->m);
}

void dsp_bulk_destroy(dsp_bulk *b)
{
    if (b == NULL)
        return;
    for (int i = 0; b->lists != NULL && i < b->nreqs; i++)
        many_list_release(&b->lists[i]);
    free(b->lists);
    free(b->items);
    free((void *)b->ms);
    free(b->counts);
    free(b);
}

/* Split and admit request q into b->lists[i]; a refusal is answered. */
static status open_one(dsp_bulk *b, dispatcher *d, const dsp_req *q, int i,
                       dsp_bulk_split split, dsp_bulk_admit admit, err *e)
{
    char *refusal = NULL;
    err re = {0};
    status s = ST_OK;
    status rs = split(dsp_req_data(q), dsp_req_len(q), &b->lists[i], &re);

    if (rs != ST_OK) {
        dsp_outq_fail(d->out, q->m, rs, &re, &s, e);
        return s;
    }
    if (admit != NULL)
        s = admit(d, q, b->lists[i].n, &refusal, e);
    if (s == ST_OK && refusal != NULL)
        s = dsp_outq_reply(d->out, q->m, refusal, e);
    if (s != ST_OK || refusal != NULL)
        many_list_release(&b->lists[i]);
    return s;
}

status dsp_bulk_open(dsp_bulk **out, dispatcher *d, const dsp_req *reqs, int n,
                     dsp_bulk_split split, dsp_bulk_admit admit, err *e)
{
    dsp_bulk *b = calloc(1, sizeof(*b));
    status s = ST_OK;
    int total = 0;

    if (b == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    b->nreqs = n;
    b->lists = calloc((size_t)n + 1, sizeof(many_list));
    b->ms = calloc((size_t)n + 1, sizeof(bus_msg *));
    b->counts = calloc((size_t)n + 1, sizeof(int));
    if (b->lists == NULL || b->ms == NULL || b->counts == NULL)
        s = err_set(e, ST_NOMEM, "out of memory");
    for (int i = 0; s == ST_OK && i < n; i++) {
        s = open_one(b, d, &reqs[i], i, split, admit, e);
        total += b->lists[i].n;
    }
    if (s == ST_OK &&
        (b->items = calloc((size_t)total + 1, sizeof(dsp_req))) == NULL)
        s = err_set(e, ST_NOMEM, "out of memory");
    for (int i = 0; s == ST_OK && i < n; i++) {
        const many_list *l = &b->lists[i];

        if (l->n == 0)
            continue;
        for (int k = 0; k < l->n; k++) {
            dsp_req *x = &b->items[b->nitems++];

            x->m = reqs[i].m;
            memcpy(x->party, reqs[i].party, sizeof(x->party));
            x->data = l->text[k];
            x->len = l->len[k];
            x->item = k + 1;
        }
        b->ms[b->nms] = reqs[i].m;
        b->counts[b->nms++] = l->n;
    }
    if (s != ST_OK) {
        dsp_bulk_destroy(b);
        return s;
    }
    *out = b;
    return ST_OK;
}

const dsp_req *dsp_bulk_items(const dsp_bulk *b)
{
    return b->items;
}

int dsp_bulk_count(const dsp_bulk *b)
{
    return b->nitems;
}

status dsp_bulk_reply(dsp_bulk *b, dispatcher *d, err *e)
{
    return dsp_outq_gather(d->out, b->ms, b->counts, b->nms, e);
}
