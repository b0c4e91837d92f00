/*
 * `twinline invoice ...`: key generation, closing a period, listing,
 * exporting, verifying and crediting invoices (billing/invoice.h).
 */
#ifndef TL_CMD_INVOICE_H
#define TL_CMD_INVOICE_H

#include "config.h"

/* The `invoice` command; argv[0] is "invoice". Returns the exit code:
 * 0 success (a valid document for verify), 1 failure (an invalid one),
 * 2 usage error. */
int cmd_invoice(int argc, char **argv, const config *cfg);

#endif
