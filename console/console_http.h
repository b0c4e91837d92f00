/*
 * The console's HTTP server: a thin wrapper around libmicrohttpd, the only
 * module that sees its types.
 *
 * One thread per connection (libmicrohttpd's MHD_USE_THREAD_PER_CONNECTION):
 * a handler may block on PostgreSQL or NATS, and a Server-Sent Events
 * stream blocks between events, without holding up other clients. Limits
 * that outside input meets are fixed here: the number of connections in
 * all and per address, an idle time-out, the size of the request head and
 * of the body (a larger body is answered 413 before any handler runs).
 *
 * The handler runs once per request, after the whole body has arrived, and
 * fills a reply: a status, a content type and a body it allocated with
 * malloc (the server frees it), or a stream whose read function is called
 * until it returns CONSOLE_HTTP_STREAM_END.
 */
#ifndef TL_CONSOLE_HTTP_H
#define TL_CONSOLE_HTTP_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

typedef struct console_http console_http;
typedef struct console_http_req console_http_req;

#define CONSOLE_HTTP_STREAM_END (-1)

/*
 * A stream's read: write at most max bytes into buf and return how many,
 * or CONSOLE_HTTP_STREAM_END. It may block (it runs on the connection's
 * own thread) but must return within a second or two so a stopping server
 * is not held up.
 */
typedef ssize_t (*console_http_read)(void *ctx, char *buf, size_t max);

typedef struct console_http_reply {
    int status;               /* HTTP status, 200 when the handler sets none */
    const char *content_type; /* static string */
    char *body;               /* malloc'd, owned by the server afterwards */
    size_t len;
    const char *disposition;  /* Content-Disposition or NULL (static) */
    const char *cache;        /* Cache-Control or NULL: "no-store" */
    console_http_read stream; /* set: a stream instead of body */
    void *stream_ctx;
    void (*stream_free)(void *ctx); /* called once when the stream ends */
} console_http_reply;

typedef void (*console_http_handler)(void *ctx, const console_http_req *req,
                                     console_http_reply *rep);

typedef struct console_http_opts {
    const char *address;     /* IPv4 address to listen on, "127.0.0.1" */
    int port;                /* 0: any free port (console_http_port) */
    size_t max_body;         /* bytes; a larger body gets 413 too_large */
    unsigned connections;    /* at most this many at once */
    unsigned per_address;    /* ... and this many from one address */
    unsigned idle_timeout_s; /* an idle connection is closed after this */
} console_http_opts;

/* Start serving h(ctx, ...). *out is owned by the caller
 * (console_http_stop). ST_IO when the address cannot be bound. */
status console_http_start(console_http **out, const console_http_opts *o,
                          console_http_handler h, void *ctx, err *e);

/* The port actually bound (useful with port 0). */
int console_http_port(const console_http *s);

/* Stop accepting, wait for the connections' threads, free; NULL no-op. */
void console_http_stop(console_http *s);

/* The request's method ("GET", ...) and path (without the query). */
const char *console_http_method(const console_http_req *r);
const char *console_http_path(const console_http_req *r);

/* A query argument, a header (case-insensitive) or NULL. Borrowed. */
const char *console_http_query(const console_http_req *r, const char *name);
const char *console_http_header(const console_http_req *r, const char *name);

/*
 * Call f(ctx, name, value) for every query argument; stops and returns
 * the first non-zero f returns (0 when all were seen).
 */
int console_http_query_each(const console_http_req *r,
                            int (*f)(void *ctx, const char *name,
                                     const char *value),
                            void *ctx);

/* The body (NUL-terminated, may hold NULs) and its length. Borrowed. */
const char *console_http_body(const console_http_req *r, size_t *len);

#endif
