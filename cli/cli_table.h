/*
 * Plain aligned text tables for the CLI's listings and reports.
 * A table copies every cell it is given; the caller keeps its strings.
 */
#ifndef TL_CLI_TABLE_H
#define TL_CLI_TABLE_H

#include <stdbool.h>
#include <stdio.h>

#include "err.h"

typedef struct cli_table cli_table;

/* A table with ncols columns titled headers[0..ncols). Owned by the caller
 * (cli_table_destroy). */
status cli_table_create(cli_table **out, int ncols, const char *const *headers,
                        err *e);

/* Align column col to the right (for numbers and money). */
void cli_table_right(cli_table *t, int col);

/* Append a row of ncols cells (NULL prints as empty). */
status cli_table_add(cli_table *t, const char *const *cells, err *e);

/* Rows added so far. */
int cli_table_rows(const cli_table *t);

/* Print headers and rows, columns separated by two spaces. */
void cli_table_print(const cli_table *t, FILE *out);

/* NULL is a no-op. */
void cli_table_destroy(cli_table *t);

#endif
