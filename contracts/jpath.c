#include "jpath.h"

#include <stdarg.h>
#include <stdio.h>

status jpath_fail(err *e, status s, const char *where, const char *fmt, ...)
{
    char msg[ERR_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return err_set(e, s, "%s: %s", where, msg);
}

void jpath_join(char *dst, const char *base, const char *key)
{
    if (snprintf(dst, JPATH_MAX, "%s.%s", base, key) >= JPATH_MAX)
        dst[JPATH_MAX - 1] = '\0';
}

void jpath_index(char *dst, const char *base, size_t i)
{
    if (snprintf(dst, JPATH_MAX, "%s[%zu]", base, i) >= JPATH_MAX)
        dst[JPATH_MAX - 1] = '\0';
}
