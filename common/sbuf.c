#include "sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(sbuf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    size_t ncap = b->cap > 0 ? b->cap : 256;
    char *nd;

    if (b->failed)
        return false;
    if (need <= b->cap)
        return true;
    while (ncap < need)
        ncap *= 2;
    nd = realloc(b->data, ncap);
    if (nd == NULL) {
        b->failed = true;
        return false;
    }
    b->data = nd;
    b->cap = ncap;
    return true;
}

void sbuf_append(sbuf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sbuf_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void sbuf_pg_elem(sbuf *b, const char *s)
{
    sbuf_append(b, "\"", 1);
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            sbuf_append(b, "\\", 1);
        sbuf_append(b, p, 1);
    }
    sbuf_append(b, "\"", 1);
}

const char *sbuf_str(const sbuf *b)
{
    return b->data != NULL ? b->data : "";
}

char *sbuf_take(sbuf *b)
{
    char *s = b->data;

    if (s == NULL)
        s = calloc(1, 1);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->failed = false;
    return s;
}

void sbuf_reset(sbuf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
    b->failed = false;
}

void sbuf_free(sbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
