/*
 * The dispatcher daemon's engine: serves the bank API and the worker
 * protocol over NATS (docs/protocol.md), keeps every state change in
 * PostgreSQL, routes ready tasks with the router and publishes events from
 * the outbox to JetStream.
 *
 * Threads: cnats delivers messages into a queue; one loop thread takes them
 * in batches and handles each batch in one transaction, then sends replies
 * and offers after commit; an outbox thread publishes committed events.
 */
#ifndef TL_DISPATCHER_H
#define TL_DISPATCHER_H

#include "config.h"
#include "dispatcher_opts.h"
#include "err.h"

typedef struct dispatcher dispatcher;

/* The defaults of every option (dispatcher_opts.h). */
void dispatcher_opts_default(dispatcher_opts *o);

/*
 * Connect to PostgreSQL and NATS (cfg is copied), rebuild routing state
 * from the database, ensure the event stream and subscribe. The database
 * must be migrated (twinline migrate). *out is owned by the caller.
 */
status dispatcher_create(dispatcher **out, const config *cfg,
                         const dispatcher_opts *o, err *e);

/* Serve until dispatcher_stop(); returns ST_OK after a clean stop. */
status dispatcher_run(dispatcher *d, err *e);

/* Ask the loop to stop; safe from any thread (not from a signal handler). */
void dispatcher_stop(dispatcher *d);

/* Stop threads, close connections, free; NULL is a no-op. */
void dispatcher_destroy(dispatcher *d);

#endif
