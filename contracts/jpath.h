/*
 * Paths into a JSON document for error messages ("request.payload.items[2]
 * .amount_minor"), shared by every decoder that names where input went
 * wrong: the playbook and payload schemas, the loader. Paths only label
 * messages, so one cut off at JPATH_MAX is acceptable.
 */
#ifndef TL_JPATH_H
#define TL_JPATH_H

#include <stddef.h>

#include "err.h"

#define JPATH_MAX 256 /* bytes of a path, with its NUL */

/* Sets e to "where: <message>" with status s; returns s. */
status jpath_fail(err *e, status s, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* dst (JPATH_MAX bytes) = "base.key" */
void jpath_join(char *dst, const char *base, const char *key);

/* dst (JPATH_MAX bytes) = "base[i]" */
void jpath_index(char *dst, const char *base, size_t i);

#endif
