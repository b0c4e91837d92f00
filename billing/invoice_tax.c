#include "invoice_tax.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A line's place while its group is worked out. */
typedef struct slot {
    const invoice_tax_line *l; /* the caller's line */
    int line;                  /* its index */
    int64_t frac; /* remainder of the exact tax, in 1/10,000 minor units */
} slot;

static const char *tax_name(const invoice_tax_line *l)
{
    return l->name != NULL ? l->name : "";
}

static bool taxed(const invoice_tax_line *l)
{
    return tax_name(l)[0] != '\0' && l->rate_bps > 0;
}

/* Group order: name, rate, mode, then the line's own order. */
static int by_group(const void *a, const void *b)
{
    const slot *x = a, *y = b;
    const invoice_tax_line *p = x->l, *q = y->l;
    int c = strcmp(tax_name(p), tax_name(q));

    if (c != 0)
        return c;
    if (p->rate_bps != q->rate_bps)
        return p->rate_bps < q->rate_bps ? -1 : 1;
    if (p->mode != q->mode)
        return p->mode < q->mode ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

static bool same_group(const invoice_tax_line *p, const invoice_tax_line *q)
{
    return strcmp(tax_name(p), tax_name(q)) == 0 &&
           p->rate_bps == q->rate_bps && p->mode == q->mode;
}

/* Largest remainder first; the earlier line on a tie. */
static int by_remainder(const void *a, const void *b)
{
    const slot *x = a, *y = b;

    if (x->frac != y->frac)
        return x->frac > y->frac ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

/* The exact tax of amount at rate, rounded toward minus infinity, and the
 * remainder in 1/10,000 minor units (0..9,999). */
static status exact_floor(int64_t amount, int64_t rate, int64_t *floor_out,
                          int64_t *frac, err *e)
{
    int64_t q = 0, r = 0;
    status s;

    if (amount == INT64_MIN)
        return err_set(e, ST_INVALID, "amount %" PRId64 " is out of range",
                       amount);
    s = money_muldiv_rem(amount < 0 ? -amount : amount, rate, MONEY_BPS, &q, &r,
                         e);
    if (s != ST_OK)
        return s;
    if (amount >= 0) {
        *floor_out = q;
        *frac = r;
    } else {
        *floor_out = r > 0 ? -q - 1 : -q;
        *frac = r > 0 ? MONEY_BPS - r : 0;
    }
    return ST_OK;
}

/* Share the tax of group g[0..n) (lines of one tax) out to tax[]. */
static status allocate_group(const invoice_tax_line *lines, slot *g, int n,
                             int64_t *tax, err *e)
{
    const invoice_tax_line *first = &lines[g[0].line];
    int64_t base = 0, total = 0, floors = 0, left;
    status s = ST_OK;

    for (int i = 0; i < n && s == ST_OK; i++)
        s = money_add(base, lines[g[i].line].amount_minor, &base, e);
    if (s != ST_OK)
        return err_wrap(e, "the %s base of the document", tax_name(first));
    if ((s = money_apply_bps(base, first->rate_bps, first->mode, &total, e)) !=
        ST_OK)
        return err_wrap(e, "%s on %" PRId64, tax_name(first), base);
    for (int i = 0; i < n; i++) {
        int64_t fl = 0;

        if ((s = exact_floor(lines[g[i].line].amount_minor, first->rate_bps,
                             &fl, &g[i].frac, e)) != ST_OK ||
            (s = money_add(floors, fl, &floors, e)) != ST_OK)
            return err_wrap(e, "%s of line %d", tax_name(first), g[i].line + 1);
        tax[g[i].line] = fl;
    }
    /* The rounded total lies between the sum of the floors and that sum
     * plus one per line with a remainder, so left is in 0..n. */
    left = total - floors;
    if (left < 0 || left > n)
        return err_set(e, ST_INTERNAL,
                       "%s total %" PRId64 " is not within %d of the lines' "
                       "%" PRId64,
                       tax_name(first), total, n, floors);
    qsort(g, (size_t)n, sizeof(*g), by_remainder);
    for (int64_t i = 0; i < left; i++)
        tax[g[i].line]++;
    return ST_OK;
}

status invoice_tax_allocate(invoice_tax_line *lines, int n, err *e)
{
    slot *order = NULL;
    int64_t *tax = NULL;
    status s = ST_OK;
    int start;

    if (n <= 0)
        return ST_OK;
    for (int i = 0; i < n; i++)
        if (lines[i].rate_bps < 0 || lines[i].rate_bps > MONEY_BPS)
            return err_set(e, ST_INVALID,
                           "line %d: tax rate %" PRId64 " bps is outside "
                           "0..10000",
                           i + 1, lines[i].rate_bps);
    order = malloc((size_t)n * sizeof(*order));
    tax = calloc((size_t)n, sizeof(*tax));
    if (order == NULL || tax == NULL) {
        s = err_set(e, ST_NOMEM, "no memory for the tax of %d lines", n);
        goto out;
    }
    for (int i = 0; i < n; i++)
        order[i] = (slot){&lines[i], i, 0};
    qsort(order, (size_t)n, sizeof(*order), by_group);
    for (int i = 0; i < n; i = start) {
        start = i + 1;
        while (start < n &&
               same_group(&lines[order[i].line], &lines[order[start].line]))
            start++;
        if (!taxed(&lines[order[i].line]))
            continue;
        if ((s = allocate_group(lines, order + i, start - i, tax, e)) != ST_OK)
            goto out;
    }
    for (int i = 0; i < n; i++)
        lines[i].tax_minor = tax[i];
out:
    free(order);
    free(tax);
    return s;
}
