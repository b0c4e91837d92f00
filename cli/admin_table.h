/*
 * Plain aligned text tables for the CLI's listings and reports.
 * A table copies every cell it is given; the caller keeps its strings.
 */
#ifndef TL_ADMIN_TABLE_H
#define TL_ADMIN_TABLE_H

#include <stdbool.h>
#include <stdio.h>

#include "err.h"

typedef struct admin_table admin_table;

/* A table with ncols columns titled headers[0..ncols). Owned by the caller
 * (admin_table_destroy). */
status admin_table_create(admin_table **out, int ncols,
                          const char *const *headers, err *e);

/* Align column col to the right (for numbers and money). */
void admin_table_right(admin_table *t, int col);

/* Append a row of ncols cells (NULL prints as empty). */
status admin_table_add(admin_table *t, const char *const *cells, err *e);

/* Rows added so far. */
int admin_table_rows(const admin_table *t);

/* Print headers and rows, columns separated by two spaces. */
void admin_table_print(const admin_table *t, FILE *out);

/* NULL is a no-op. */
void admin_table_destroy(admin_table *t);

#endif
