/*
 * Alerts for operators (docs/http.md, "Alerts"): service level at risk, a
 * queue with no eligible worker online, a worker not responding. Each
 * check opens the alerts whose condition is new and closes those whose
 * condition is gone (console_alerts); every change is published on
 * <p>.alerts.<operator> and queued for the operator's webhook.
 */
#ifndef TL_CONSOLE_ALERTS_H
#define TL_CONSOLE_ALERTS_H

#include "bus.h"
#include "db.h"
#include "err.h"

/* Check once. silent_s: a worker's agent silent this long is not
 * responding. *changes (may be NULL) counts alerts opened or closed. */
status console_alerts_check(db *d, bus *b, const char *prefix, int silent_s,
                            int *changes, err *e);

#endif
