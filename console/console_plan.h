/*
 * Forecast and staffing of one queue (pool, skill, channel) from its
 * interval history: Holt-Winters forecasts of arrivals and handle time
 * (tl_staffing's forecast.h), then the workers each interval needs for the
 * pool's service-level target by the pool's model (Erlang C, Erlang A with
 * the pool's patience, or workload), beside the workers who were online.
 */
#ifndef TL_CONSOLE_PLAN_H
#define TL_CONSOLE_PLAN_H

#include <jansson.h>

#include "db.h"
#include "err.h"

/*
 * Plan the queue of operator op for the next horizon intervals from the
 * last `weeks` weeks of history. *out (a new JSON object, the caller's)
 * holds the settings, the forecast method and its past errors, the last
 * day of history with what it needed, and the forecast intervals.
 * ST_NOT_FOUND: not the operator's pool, or no history yet.
 */
status console_plan_queue(db *d, const char *op, const char *pool,
                          const char *skill, const char *channel, int horizon,
                          int weeks, json_t **out, err *e);

#endif
