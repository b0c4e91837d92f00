/*
 * The tax of an invoice's lines (docs/invoices.md, "Tax").
 *
 * Lines are grouped by their tax (name, rate in basis points, rounding
 * mode). Each group's tax is its net base (the sum of its lines' amounts)
 * times the rate, rounded once in the group's mode, exactly as
 * money_apply_bps computes it. The group's tax is then shared out to its
 * lines by largest remainder: each line gets its exact tax rounded down,
 * and the cents still missing go one each to the lines with the largest
 * remainders (the earlier line on a tie). So every line's tax is its exact
 * tax rounded down or up, and the lines of a group sum to the group's tax
 * exactly; nothing is rounded twice. A line without a tax (no name) or at
 * rate 0 gets 0.
 *
 * Pure: no I/O. Amounts are int64 minor units and may be negative (a
 * complaint penalty reduces the base).
 */
#ifndef TL_INVOICE_TAX_H
#define TL_INVOICE_TAX_H

#include <stdint.h>

#include "err.h"
#include "money.h"

#define INVOICE_TAX_NAME_MAX 32 /* "VAT", "GST", ... */

typedef struct invoice_tax_line {
    int64_t amount_minor; /* net amount of the line */
    const char *name;     /* borrowed; NULL or "" for no tax */
    int64_t rate_bps;     /* 0..10,000 */
    money_round mode;
    int64_t tax_minor; /* written by invoice_tax_allocate */
} invoice_tax_line;

/*
 * Work out lines[0..n).tax_minor as above. Errors, after which no
 * tax_minor was written: ST_INVALID for a rate outside 0..10,000 or a base
 * or tax beyond int64 (the message names the line); ST_NOMEM.
 */
status invoice_tax_allocate(invoice_tax_line *lines, int n, err *e);

#endif
