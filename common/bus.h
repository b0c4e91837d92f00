/*
 * NATS messaging. Only this module sees cnats types.
 *
 * A bus is one connection that reconnects forever. Handlers run on cnats's
 * delivery threads and own the message they are given (bus_msg_free).
 * JetStream is used for the durable event stream: publishing with a message
 * id (deduplicated by the server) and pull consumers with explicit acks.
 */
#ifndef TL_BUS_H
#define TL_BUS_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

typedef struct bus bus;
typedef struct bus_msg bus_msg;
typedef struct bus_pull bus_pull;

typedef void (*bus_handler)(void *ctx, bus_msg *m);

/* Connect to url; name shows in the server's connection list. */
status bus_connect(bus **out, const char *url, const char *name, err *e);

/* Unsubscribe everything, flush and close; NULL is a no-op. */
void bus_close(bus *b);

/*
 * Subscribe h to subject; queue (may be NULL) makes it a queue group member.
 * The subscription lives until bus_close.
 */
status bus_subscribe(bus *b, const char *subject, const char *queue,
                     bus_handler h, void *ctx, err *e);

status bus_publish(bus *b, const char *subject, const void *data, size_t len,
                   err *e);

/* Publish with a reply subject (for pipelined requests). */
status bus_publish_request(bus *b, const char *subject, const char *reply,
                           const void *data, size_t len, err *e);

/* Send a request and wait up to timeout_ms for the reply (owned by caller).
 * No responder -> ST_UNAVAILABLE; no reply in time -> ST_TIMEOUT. */
status bus_request(bus *b, const char *subject, const void *data, size_t len,
                   int timeout_ms, bus_msg **reply, err *e);

/* Reply to m (no-op when m has no reply subject). */
status bus_respond(bus *b, const bus_msg *m, const void *data, size_t len,
                   err *e);

/* Write a fresh unique inbox subject into buf. */
status bus_inbox(char *buf, size_t cap, err *e);

/* Flush buffered publishes to the server. */
status bus_flush(bus *b, int timeout_ms, err *e);

/* True while connected (not reconnecting or closed). */
bool bus_connected(bus *b);

const char *bus_msg_subject(const bus_msg *m);
/* Reply subject or NULL. */
const char *bus_msg_reply(const bus_msg *m);
const char *bus_msg_data(const bus_msg *m);
size_t bus_msg_len(const bus_msg *m);
void bus_msg_free(bus_msg *m);

/*
 * Create or update the file-backed stream `name` over `subjects`
 * (comma-separated), with max_bytes storage and a 2-minute duplicate window.
 */
status bus_stream_ensure(bus *b, const char *name, const char *subjects,
                         long long max_bytes, err *e);

/*
 * Delete the stream `name` with its messages and consumers; a stream that
 * does not exist is not an error. For tests and tooling that need a clean
 * slate (a rerun would otherwise meet old messages and deduplicated ids).
 */
status bus_stream_delete(bus *b, const char *name, err *e);

/*
 * Publish n messages to JetStream asynchronously, each with its message id
 * (Nats-Msg-Id, for server-side deduplication), and wait until every one is
 * acknowledged. ST_OK only if the stream stored (or deduplicated) all of them.
 */
status bus_js_publish_batch(bus *b, int n, const char *const *subjects,
                            const char *const *datas, const size_t *lens,
                            const char *const *msg_ids, err *e);

/* A durable pull consumer on stream for subject (filter). */
status bus_pull_create(bus_pull **out, bus *b, const char *stream,
                       const char *subject, const char *durable, err *e);
void bus_pull_destroy(bus_pull *p);

/*
 * Fetch up to max messages, waiting up to timeout_ms for the first.
 * Writes how many into *n and the messages into msgs (caller frees each).
 * Nothing available in time is ST_OK with *n = 0.
 */
status bus_pull_fetch(bus_pull *p, int max, int timeout_ms, bus_msg **msgs,
                      int *n, err *e);

/* Acknowledge a JetStream message. */
status bus_msg_ack(bus_msg *m, err *e);

#endif
