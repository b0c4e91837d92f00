#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const codes[] = {
#define TL_X(name, code, desc) code,
    TL_STATUS_LIST(TL_X)
#undef TL_X
};

static const char *const descs[] = {
#define TL_X(name, code, desc) desc,
    TL_STATUS_LIST(TL_X)
#undef TL_X
};

const char *status_code(status s)
{
    if ((unsigned)s >= ST__COUNT)
        return "internal";
    return codes[s];
}

const char *status_str(status s)
{
    if ((unsigned)s >= ST__COUNT)
        return "unknown status";
    return descs[s];
}

status err_set(err *e, status s, const char *fmt, ...)
{
    va_list ap;

    if (e == NULL)
        return s;
    e->code = s;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return s;
}

status err_wrap(err *e, const char *fmt, ...)
{
    char prefix[ERR_MSG_MAX];
    char old[ERR_MSG_MAX];
    va_list ap;

    if (e == NULL)
        return ST_INTERNAL;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof(old));
    /* Truncation is acceptable: the message is for people. */
    size_t n = strlen(prefix);
    if (n > sizeof(e->msg) - 3)
        n = sizeof(e->msg) - 3;
    memcpy(e->msg, prefix, n);
    memcpy(e->msg + n, ": ", 2);
    size_t room = sizeof(e->msg) - n - 3;
    size_t m = strnlen(old, room);
    memcpy(e->msg + n + 2, old, m);
    e->msg[n + 2 + m] = '\0';
    return e->code;
}

void err_clear(err *e)
{
    if (e == NULL)
        return;
    e->code = ST_OK;
    e->msg[0] = '\0';
}
