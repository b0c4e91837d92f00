/*
 * Every client's permission violations, read where nats-server 2.9 puts
 * them: its log file (natslog.h says why there and not in an advisory).
 * A thread of its own, with its own database connection, follows the file
 * (from its end when it starts, and from the start of a file that replaces
 * it: a rotation), records each refusal in nats_violations with the
 * identity its key belongs to, and logs it with that identity. The live
 * figures count them from that table (stats.h), so `twinline stats` and
 * <p>.stats.dispatcher show them too.
 */
#ifndef TL_VIOLATIONS_H
#define TL_VIOLATIONS_H

#include <stdint.h>

#include "err.h"

typedef struct dsp_violations dsp_violations;

/*
 * Start following the log file at path (which may not exist yet: it is
 * waited for), recording on the database conninfo. *out is the caller's
 * (dsp_violations_stop). Errors: ST_NOMEM, ST_INTERNAL (no thread).
 */
status dsp_violations_start(dsp_violations **out, const char *conninfo,
                            const char *path, err *e);

/* Refusals recorded since the start: publishes and subscriptions in
 * *violations, refused connections in *refused. v may be NULL (zeros). */
void dsp_violations_counts(dsp_violations *v, int64_t *violations,
                           int64_t *refused);

/* Stop the thread, wait for it and free v; NULL is a no-op. */
void dsp_violations_stop(dsp_violations *v);

#endif
