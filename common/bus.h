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

/*
 * Connect to url; name shows in the server's connection list. No
 * credentials, and TLS as bus_tls_default says: the same as
 * bus_connect_opts with only url and name set.
 */
status bus_connect(bus **out, const char *url, const char *name, err *e);

/*
 * Called on a cnats thread for every permission violation the server
 * reports on this connection (what: the server's text, e.g.
 * "Permissions Violation for Publish to \"tl.api.x.case.submit\""). The
 * server reports them asynchronously: the publish or subscribe that caused
 * one returned ST_OK long before. Keep it short and thread-safe.
 */
typedef void (*bus_violation_fn)(void *ctx, const char *what);

typedef struct bus_opts {
    /* One URL or a comma-separated list of servers (at most 16); a tls://
     * URL requires TLS. */
    const char *url;
    const char *name; /* shown in the server's connection list */
    /*
     * Credentials file (see nkey.h): the connection signs the server's
     * challenge with its nkey. The file is checked (mode 0600, well
     * formed) before connecting. NULL connects without credentials.
     */
    const char *creds;
    /*
     * Inbox prefix for replies. NULL: "_INBOX_<identity>" of the
     * credentials (the only inbox its permissions allow; see natsauth.h),
     * or the cnats default "_INBOX" without credentials.
     */
    const char *inbox_prefix;
    /* TLS: tls_ca (a PEM file of the CAs that sign the server's
     * certificate) or tls requires TLS and verifies the certificate;
     * tls_hostname is the name the certificate must carry (NULL: the
     * host of the URL). */
    const char *tls_ca;
    const char *tls_hostname;
    bool tls;
    bus_violation_fn on_violation; /* may be NULL; see bus_counters too */
    void *violation_ctx;
    /* Give up on the first connect after this long (0: 2 s). Once
     * connected, a bus reconnects forever. */
    int connect_timeout_ms;
    /* Deliver this connection's messages on cnats's shared pool of
     * delivery threads instead of a thread per subscription: for a
     * program with a connection per identity it speaks for (the
     * simulated workers), so threads do not grow with them. */
    bool shared_delivery;
} bus_opts;

/*
 * The TLS of every connection of this process whose bus_opts set none
 * (tls_ca NULL and tls false), bus_connect's included: ca (a PEM file of
 * the CAs that sign the server's certificate; NULL or "": none) requires
 * TLS and verifies the certificate, hostname (NULL or "": the URL's host)
 * is the name it must carry. config.h sets them from --nats-ca,
 * --nats-tls-host, TL_NATS_CA and TL_NATS_TLS_HOST, so every program's
 * connections follow its flags. Thread-safe; connections made before keep
 * what they had.
 */
void bus_tls_default(const char *ca, const char *hostname);

/*
 * Connect as o says. Errors: ST_CONFIG (unusable credentials or CA file,
 * too many servers; the message says what to fix), ST_UNAVAILABLE (no
 * server reachable, or the server refused the credentials: the message
 * says which), ST_NOMEM.
 */
status bus_connect_opts(bus **out, const bus_opts *o, err *e);

/* What happened on a connection since it was made. */
typedef struct bus_counters {
    long violations;  /* permission violations the server reported */
    long disconnects; /* connection losses */
    long reconnects;  /* successful reconnects */
    long auth_errors; /* authentication refused (e.g. the identity was
                         revoked) */
} bus_counters;

void bus_counters_get(bus *b, bus_counters *out);

/* The text of the last permission violation ("" when none) into buf. */
void bus_last_violation(bus *b, char *buf, size_t cap);

/* The inbox prefix in use ("_INBOX" by default). Borrowed from b. */
const char *bus_inbox_prefix(const bus *b);

/* Write a fresh unique inbox subject under b's inbox prefix into buf.
 * ST_INVALID when it does not fit in cap. */
status bus_inbox_new(bus *b, char *buf, size_t cap, err *e);

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

/* Write a fresh unique inbox subject with the default prefix ("_INBOX.")
 * into buf. Connections with credentials use bus_inbox_new instead: their
 * permissions allow only their own inbox prefix. */
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

/*
 * Make (or keep, when it exists with the same settings) the durable pull
 * consumer durable on stream for subject filter, with explicit acks, without
 * subscribing to it: for a consumer another party reads (a tenant's events).
 * ST_BUS with JetStream's error otherwise.
 */
status bus_consumer_ensure(bus *b, const char *stream, const char *durable,
                           const char *filter, err *e);

/* A durable pull consumer on stream for subject (filter). */
status bus_pull_create(bus_pull **out, bus *b, const char *stream,
                       const char *subject, const char *durable, err *e);
void bus_pull_destroy(bus_pull *p);

/*
 * Bind to the existing durable pull consumer durable on stream, without
 * creating or changing it (what a tenant may do with its events consumer).
 * ST_NOT_FOUND when there is no such consumer; ST_BUS otherwise.
 */
status bus_pull_bind(bus_pull **out, bus *b, const char *stream,
                     const char *durable, err *e);

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
