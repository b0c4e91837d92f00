/*
 * The console's settings (twinline-console's flags; docs/http.md). Plain
 * data in a header of its own so that the service's internals
 * (console_int.h) and its public header (console.h) share it without
 * including each other.
 */
#ifndef TL_CONSOLE_OPTS_H
#define TL_CONSOLE_OPTS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct console_opts {
    char listen[64];        /* IPv4 address, default 127.0.0.1 */
    int port;               /* default 8080; 0: any free port */
    int db_conns;           /* request connections (default 6) */
    size_t max_body;        /* request body limit, bytes (64 KiB) */
    int request_timeout_ms; /* NATS request to the dispatcher (5000) */
    int sample_ms;          /* presence samples (5000) */
    int rollup_ms;          /* rollup and alert checks (5000) */
    int settle_s;           /* an interval is rolled up this long after it
                               closed (60) */
    int backfill_days;      /* a first rollup starts this far back (35) */
    int silent_s;           /* a worker silent this long is not responding
                               (6) */
    int hook_base_ms;       /* first webhook retry after this (1000) */
    int hook_attempts;      /* attempts before a delivery fails (12) */
    int hook_timeout_ms;    /* one webhook POST (5000) */
    bool background;        /* run rollup, samples, alerts, webhooks (true) */
    int callup_ms;          /* elastic call-up rounds (5000; 0: none) */
    int callup_window_s;    /* arrivals counted over this window (900) */
    int callup_hold_s;      /* a surplus lasts this long before a release
                               (120) */
    int callup_answer_s;    /* an invitation's time to answer (120) */
} console_opts;

#endif
