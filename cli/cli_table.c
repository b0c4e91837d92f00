#include "cli_table.h"

#include <stdlib.h>
#include <string.h>

#define TABLE_MAX_COLS 16

struct cli_table {
    int ncols;
    int nrows;
    int cap;
    bool right[TABLE_MAX_COLS];
    char **cells; /* (nrows + 1) * ncols; row 0 holds the headers */
};

/* Display width, counting UTF-8 code points (not bytes). */
static int width(const char *s)
{
    int n = 0;

    for (; *s != '\0'; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static status add_row(cli_table *t, const char *const *cells, err *e)
{
    if (t->nrows + 1 >= t->cap) {
        int cap = t->cap * 2;
        char **c =
            realloc(t->cells, (size_t)cap * (size_t)t->ncols * sizeof(*c));
        if (c == NULL)
            return err_set(e, ST_NOMEM, "out of memory");
        t->cells = c;
        t->cap = cap;
    }
    for (int i = 0; i < t->ncols; i++) {
        char *v = strdup(cells[i] != NULL ? cells[i] : "");
        if (v == NULL) {
            for (int j = 0; j < i; j++)
                free(t->cells[(size_t)t->nrows * (size_t)t->ncols + (size_t)j]);
            return err_set(e, ST_NOMEM, "out of memory");
        }
        t->cells[(size_t)t->nrows * (size_t)t->ncols + (size_t)i] = v;
    }
    t->nrows++;
    return ST_OK;
}

status cli_table_create(cli_table **out, int ncols, const char *const *headers,
                        err *e)
{
    cli_table *t;
    status s;

    if (ncols < 1 || ncols > TABLE_MAX_COLS)
        return err_set(e, ST_INTERNAL, "table with %d columns", ncols);
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    t->ncols = ncols;
    t->cap = 16;
    t->cells = calloc((size_t)t->cap * (size_t)ncols, sizeof(*t->cells));
    if (t->cells == NULL) {
        free(t);
        return err_set(e, ST_NOMEM, "out of memory");
    }
    s = add_row(t, headers, e);
    if (s != ST_OK) {
        cli_table_destroy(t);
        return s;
    }
    *out = t;
    return ST_OK;
}

void cli_table_right(cli_table *t, int col)
{
    if (col >= 0 && col < t->ncols)
        t->right[col] = true;
}

status cli_table_add(cli_table *t, const char *const *cells, err *e)
{
    return add_row(t, cells, e);
}

int cli_table_rows(const cli_table *t)
{
    return t->nrows - 1;
}

void cli_table_print(const cli_table *t, FILE *out)
{
    int w[TABLE_MAX_COLS] = {0};

    for (int r = 0; r < t->nrows; r++)
        for (int c = 0; c < t->ncols; c++) {
            int n = width(t->cells[(size_t)r * (size_t)t->ncols + (size_t)c]);
            if (n > w[c])
                w[c] = n;
        }
    for (int r = 0; r < t->nrows; r++) {
        int end = t->ncols; /* no trailing blanks: stop at the last cell */

        while (end > 1 &&
               t->cells[(size_t)r * (size_t)t->ncols + (size_t)end - 1][0] ==
                   '\0')
            end--;
        for (int c = 0; c < end; c++) {
            const char *v = t->cells[(size_t)r * (size_t)t->ncols + (size_t)c];
            int pad = w[c] - width(v);
            bool last = c == end - 1;

            if (c > 0)
                fputs("  ", out);
            if (t->right[c])
                fprintf(out, "%*s%s", pad, "", v);
            else
                fprintf(out, "%s%*s", v, last ? 0 : pad, "");
        }
        fputc('\n', out);
    }
}

void cli_table_destroy(cli_table *t)
{
    if (t == NULL)
        return;
    for (int i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}
