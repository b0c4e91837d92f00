/* A growable string buffer for building messages and array parameters. */
#ifndef TL_SBUF_H
#define TL_SBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sbuf {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len;
    size_t cap;
    bool failed; /* an allocation failed; contents are incomplete */
} sbuf;

/* Append printf-style; on allocation failure sets failed. */
void sbuf_printf(sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void sbuf_append(sbuf *b, const char *s, size_t n);

/* The string so far ("" when empty). Borrowed. */
const char *sbuf_str(const sbuf *b);

/* Take ownership of the string (caller frees); b becomes empty. */
char *sbuf_take(sbuf *b);

/* Append s as one double-quoted element of a PostgreSQL array literal
 * ({"a","b\\"c"}), escaping quotes and backslashes. */
void sbuf_pg_elem(sbuf *b, const char *s);

void sbuf_reset(sbuf *b);
void sbuf_free(sbuf *b);

#endif
