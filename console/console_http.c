#include "console_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct console_http {
    struct MHD_Daemon *d;
    console_http_handler h;
    void *ctx;
    size_t max_body;
    int port;
};

/* Per request: the body so far; created on the first call of a request. */
struct console_http_req {
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    char *body;
    size_t len;
    size_t cap;
    int too_large;
};

typedef struct stream_state {
    console_http_read read;
    void *ctx;
    void (*free_ctx)(void *ctx);
} stream_state;

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    stream_state *s = cls;
    ssize_t n;

    (void)pos;
    n = s->read(s->ctx, buf, max);
    if (n == CONSOLE_HTTP_STREAM_END)
        return MHD_CONTENT_READER_END_OF_STREAM;
    return n;
}

static void stream_done(void *cls)
{
    stream_state *s = cls;

    if (s->free_ctx != NULL)
        s->free_ctx(s->ctx);
    free(s);
}

/* Headers every reply carries: nothing is cached, sniffed or framed. */
static void add_common_headers(struct MHD_Response *resp,
                               const console_http_reply *rep)
{
    MHD_add_response_header(resp, "Content-Type",
                            rep->content_type != NULL ? rep->content_type
                                                      : "application/json");
    MHD_add_response_header(resp, "Cache-Control",
                            rep->cache != NULL ? rep->cache : "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(
        resp, "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
    if (rep->disposition != NULL)
        MHD_add_response_header(resp, "Content-Disposition", rep->disposition);
}

static enum MHD_Result queue_reply(struct MHD_Connection *conn,
                                   console_http_reply *rep)
{
    struct MHD_Response *resp;
    enum MHD_Result rc;

    if (rep->stream != NULL) {
        stream_state *s = malloc(sizeof(*s));

        if (s == NULL) {
            if (rep->stream_free != NULL)
                rep->stream_free(rep->stream_ctx);
            return MHD_NO;
        }
        s->read = rep->stream;
        s->ctx = rep->stream_ctx;
        s->free_ctx = rep->stream_free;
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
                                                 stream_read, s, stream_done);
        if (resp == NULL) {
            stream_done(s);
            return MHD_NO;
        }
    } else {
        resp = MHD_create_response_from_buffer(
            rep->len, rep->body != NULL ? rep->body : (void *)"",
            rep->body != NULL ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        if (resp == NULL) {
            free(rep->body);
            return MHD_NO;
        }
        rep->body = NULL;
    }
    add_common_headers(resp, rep);
    rc = MHD_queue_response(conn, (unsigned)(rep->status ? rep->status : 200),
                            resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result too_large(struct MHD_Connection *conn, size_t max)
{
    console_http_reply rep = {0};
    char msg[200];
    int n;

    n = snprintf(msg, sizeof(msg),
                 "{\"ok\":false,\"error\":{\"code\":\"too_large\",\"message\":"
                 "\"the request body is larger than %zu bytes\"}}",
                 max);
    rep.status = 413;
    rep.body = strdup(msg);
    rep.len = rep.body != NULL ? (size_t)n : 0;
    return queue_reply(conn, &rep);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    console_http *s = cls;
    console_http_req *r = *con_cls;
    console_http_reply rep = {0};

    (void)version;
    if (r == NULL) {
        const char *cl;

        r = calloc(1, sizeof(*r));
        if (r == NULL)
            return MHD_NO;
        r->conn = conn;
        r->method = method;
        r->path = url;
        *con_cls = r;
        /* A declared length over the limit is refused before any of it
         * is read. */
        cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                         "Content-Length");
        if (cl != NULL && strtoull(cl, NULL, 10) > s->max_body) {
            r->too_large = 1;
            return too_large(conn, s->max_body);
        }
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (!r->too_large) {
            if (r->len + *upload_size > s->max_body) {
                r->too_large = 1;
                free(r->body);
                r->body = NULL;
                *upload_size = 0;
                return too_large(conn, s->max_body);
            }
            if (r->len + *upload_size + 1 > r->cap) {
                size_t cap = (r->len + *upload_size + 1) * 2;
                char *nb;

                if (cap > s->max_body + 1)
                    cap = s->max_body + 1;
                nb = realloc(r->body, cap);
                if (nb == NULL)
                    return MHD_NO;
                r->body = nb;
                r->cap = cap;
            }
            memcpy(r->body + r->len, upload, *upload_size);
            r->len += *upload_size;
            r->body[r->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->too_large)
        return MHD_YES;
    s->h(s->ctx, r, &rep);
    return queue_reply(conn, &rep);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    console_http_req *r = *con_cls;

    (void)cls;
    (void)conn;
    (void)code;
    if (r != NULL) {
        free(r->body);
        free(r);
        *con_cls = NULL;
    }
}

status console_http_start(console_http **out, const console_http_opts *o,
                          console_http_handler h, void *ctx, err *e)
{
    console_http *s;
    struct sockaddr_in sa;
    const union MHD_DaemonInfo *info;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)o->port);
    if (inet_pton(AF_INET, o->address, &sa.sin_addr) != 1)
        return err_set(e, ST_INVALID,
                       "listen address \"%s\" is not an IPv4 address",
                       o->address);
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    s->h = h;
    s->ctx = ctx;
    s->max_body = o->max_body;
    s->d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
            MHD_USE_POLL,
        (uint16_t)o->port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT, o->connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->per_address,
        MHD_OPTION_CONNECTION_TIMEOUT, o->idle_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
    if (s->d == NULL) {
        free(s);
        return err_set(e, ST_IO,
                       "cannot listen on %s:%d (in use, or not allowed); "
                       "choose another with --listen",
                       o->address, o->port);
    }
    info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info != NULL ? info->port : o->port;
    *out = s;
    return ST_OK;
}

int console_http_port(const console_http *s)
{
    return s->port;
}

void console_http_stop(console_http *s)
{
    if (s == NULL)
        return;
    MHD_stop_daemon(s->d);
    free(s);
}

const char *console_http_method(const console_http_req *r)
{
    return r->method;
}

const char *console_http_path(const console_http_req *r)
{
    return r->path;
}

const char *console_http_query(const console_http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *console_http_header(const console_http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

typedef struct each_state {
    int (*f)(void *ctx, const char *name, const char *value);
    void *ctx;
    int rc;
} each_state;

static enum MHD_Result each_value(void *cls, enum MHD_ValueKind kind,
                                  const char *key, const char *value)
{
    each_state *st = cls;

    (void)kind;
    st->rc = st->f(st->ctx, key, value != NULL ? value : "");
    return st->rc == 0 ? MHD_YES : MHD_NO;
}

int console_http_query_each(const console_http_req *r,
                            int (*f)(void *ctx, const char *name,
                                     const char *value),
                            void *ctx)
{
    each_state st = {f, ctx, 0};

    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, each_value, &st);
    return st.rc;
}

const char *console_http_body(const console_http_req *r, size_t *len)
{
    *len = r->len;
    return r->body != NULL ? r->body : "";
}
