/* Reading whole files that outside parties supply (rules, knowledge files,
 * task samples, invoice documents), with a bound on their size. */
#ifndef TL_FILEIO_H
#define TL_FILEIO_H

#include <stddef.h>

#include "err.h"

/*
 * Read the regular file at path into a new NUL-terminated buffer: *out
 * (caller frees) and *len (without the NUL), written only on success.
 * what names the kind of file in messages ("rules file"). Errors: ST_IO
 * (missing, not a regular file, unreadable), ST_TOO_LARGE (over max bytes),
 * ST_NOMEM.
 */
status fileio_read(const char *path, size_t max, const char *what, char **out,
                   size_t *len, err *e);

#endif
