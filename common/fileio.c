#include "fileio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

status fileio_read(const char *path, size_t max, const char *what, char **out,
                   size_t *len, err *e)
{
    FILE *f = fopen(path, "rb");
    struct stat sb;
    char *buf = NULL;
    status st = ST_OK;

    if (f == NULL)
        return err_set(e, ST_IO, "cannot open %s %s: %s", what, path,
                       strerror(errno));
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = err_set(e, ST_IO, "%s is not a readable file", path);
        goto out;
    }
    if ((unsigned long long)sb.st_size > (unsigned long long)max) {
        st = err_set(e, ST_TOO_LARGE,
                     "%s is %lld bytes; a %s may have at most %zu", path,
                     (long long)sb.st_size, what, max);
        goto out;
    }
    buf = malloc((size_t)sb.st_size + 1);
    if (buf == NULL) {
        st = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    if (fread(buf, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
        st = err_set(e, ST_IO, "cannot read %s", path);
        goto out;
    }
    buf[sb.st_size] = '\0';
    *out = buf;
    *len = (size_t)sb.st_size;
    buf = NULL;
out:
    free(buf);
    fclose(f);
    return st;
}
