/*
 * Structured logging: one logfmt line per event on stderr,
 *   ts=2026-11-25T21:09:13.123Z level=info mod=dispatcher msg="..."
 * The level threshold comes from TL_LOG (debug, info, warn, error; default
 * info). Thread-safe: each line is written with a single write(2).
 */
#ifndef TL_LOG_H
#define TL_LOG_H

typedef enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

/* Set the threshold explicitly (overrides TL_LOG). */
void log_set_level(log_level lvl);

/* True when lines at lvl would be written. */
int log_enabled(log_level lvl);

void log_write(log_level lvl, const char *mod, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(mod, ...) log_write(LOG_DEBUG, mod, __VA_ARGS__)
#define log_info(mod, ...)  log_write(LOG_INFO, mod, __VA_ARGS__)
#define log_warn(mod, ...)  log_write(LOG_WARN, mod, __VA_ARGS__)
#define log_error(mod, ...) log_write(LOG_ERROR, mod, __VA_ARGS__)

#endif
