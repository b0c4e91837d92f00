#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static int threshold = -1;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

static int level_from_env(void)
{
    const char *v = getenv("TL_LOG");

    if (v == NULL)
        return LOG_INFO;
    for (int i = 0; i < 4; i++)
        if (strcasecmp(v, level_names[i]) == 0)
            return i;
    return LOG_INFO;
}

void log_set_level(log_level lvl)
{
    threshold = (int)lvl;
}

int log_enabled(log_level lvl)
{
    if (threshold < 0)
        threshold = level_from_env();
    return (int)lvl >= threshold;
}

void log_write(log_level lvl, const char *mod, const char *fmt, ...)
{
    char line[2048];
    char body[1536];
    struct timespec ts;
    struct tm tm;
    va_list ap;
    int n;

    if (!log_enabled(lvl))
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    /* Quotes inside the message would break logfmt; soften them. */
    for (char *p = body; *p != '\0'; p++)
        if (*p == '"' || *p == '\n')
            *p = *p == '"' ? '\'' : ' ';
    n = snprintf(line, sizeof(line),
                 "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s mod=%s "
                 "msg=\"%s\"\n",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, level_names[lvl],
                 mod, body);
    if (n > (int)sizeof(line) - 1)
        n = (int)sizeof(line) - 1;
    if (write(STDERR_FILENO, line, (size_t)n) < 0)
        return;
}
