#include "bus.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include "log.h"
#include "natsauth.h"
#include "nkey.h"

#define BUS_MAX_SUBS    64
#define BUS_MAX_SERVERS 16
#define BUS_INBOX_MAX   (ID_MAX + 16)
#define BUS_AUTH_TRIES  3 /* connects with credentials; see bus_connect_opts */
#define BUS_SHARED_POOL 4 /* delivery threads for bus_opts.shared_delivery */

typedef struct sub_slot {
    natsSubscription *sub;
    bus_handler handler;
    void *ctx;
} sub_slot;

struct bus {
    natsConnection *nc;
    jsCtx *js;
    pthread_mutex_t lock;
    int js_errors; /* failed async JetStream publishes, under lock */
    sub_slot subs[BUS_MAX_SUBS];
    int nsubs;
    bus_counters counters;    /* under lock */
    char last_violation[256]; /* under lock */
    bus_violation_fn on_violation;
    void *violation_ctx;
    char inbox_prefix[BUS_INBOX_MAX + 1];
    pthread_cond_t closed_cond; /* signalled by on_closed, under lock */
    bool closed;
    bool closing; /* bus_close asked for it, under lock */
};

struct bus_pull {
    bus *b;
    natsSubscription *sub;
};

#define NMSG(m)  ((natsMsg *)(m))
#define BMSG(m)  ((bus_msg *)(m))
#define CNMSG(m) ((const natsMsg *)(m))

static status nats_fail(err *e, natsStatus ns, const char *what)
{
    status s = ST_BUS;

    if (ns == NATS_TIMEOUT)
        s = ST_TIMEOUT;
    else if (ns == NATS_NO_RESPONDERS || ns == NATS_NO_SERVER ||
             ns == NATS_CONNECTION_CLOSED ||
             ns == NATS_CONNECTION_DISCONNECTED || ns == NATS_IO_ERROR)
        s = ST_UNAVAILABLE; /* an IO error: the connection broke under us */
    return err_set(e, s, "%s: %s", what, natsStatus_GetText(ns));
}

static void on_async_error(natsConnection *nc, natsSubscription *sub,
                           natsStatus ns, void *closure)
{
    bus *b = closure;
    const char *last = NULL;
    char what[256];

    (void)sub;
    natsConnection_GetLastError(nc, &last);
    snprintf(what, sizeof(what), "%s", last != NULL ? last : "");
    if (ns == NATS_NOT_PERMITTED) {
        pthread_mutex_lock(&b->lock);
        b->counters.violations++;
        memcpy(b->last_violation, what, sizeof(what));
        pthread_mutex_unlock(&b->lock);
        log_warn("bus", "permission violation: %s", what);
        if (b->on_violation != NULL)
            b->on_violation(b->violation_ctx, what);
        return;
    }
    if (ns == NATS_CONNECTION_AUTH_FAILED) {
        pthread_mutex_lock(&b->lock);
        b->counters.auth_errors++;
        pthread_mutex_unlock(&b->lock);
    }
    log_error("bus", "async error: %s (%s)", natsStatus_GetText(ns), what);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    bus *b = closure;

    pthread_mutex_lock(&b->lock);
    b->counters.disconnects++;
    pthread_mutex_unlock(&b->lock);
    if (!natsConnection_IsClosed(nc))
        log_warn("bus", "disconnected from NATS; reconnecting");
}

/* The last callback cnats makes for a connection (its callbacks run in
 * order on one thread): after it, b may be freed. */
static void on_closed(natsConnection *nc, void *closure)
{
    bus *b = closure;

    (void)nc;
    pthread_mutex_lock(&b->lock);
    if (!b->closing)
        log_error("bus",
                  "NATS closed the connection for good after refusing the "
                  "credentials twice: the identity was revoked, or (about "
                  "once in 65,536 reconnects) cnats 3.4.1 dropped the "
                  "signature; restart the program");
    b->closed = true;
    pthread_cond_broadcast(&b->closed_cond);
    pthread_mutex_unlock(&b->lock);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    bus *b = closure;

    (void)nc;
    pthread_mutex_lock(&b->lock);
    b->counters.reconnects++;
    pthread_mutex_unlock(&b->lock);
    log_info("bus", "reconnected to NATS");
}

static void on_pub_error(jsCtx *js, jsPubAckErr *pae, void *closure)
{
    bus *b = closure;

    (void)js;
    pthread_mutex_lock(&b->lock);
    b->js_errors++;
    pthread_mutex_unlock(&b->lock);
    log_warn("bus", "JetStream publish failed: %s %s",
             natsStatus_GetText(pae->Err),
             pae->ErrText != NULL ? pae->ErrText : "");
}

/* Split url (comma-separated) into servers and give them to opts. */
static status set_servers(natsOptions *opts, const char *url, err *e)
{
    char buf[1024];
    const char *servers[BUS_MAX_SERVERS];
    int n = 0;
    natsStatus ns;

    if (url == NULL || url[0] == '\0')
        return err_set(e, ST_CONFIG,
                       "no NATS server given; set --nats or "
                       "TL_NATS");
    if (strlen(url) >= sizeof(buf))
        return err_set(e, ST_CONFIG,
                       "the NATS server list is longer than "
                       "%zu characters",
                       sizeof(buf) - 1);
    snprintf(buf, sizeof(buf), "%s", url);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        if (*tok == '\0')
            continue;
        if (n == BUS_MAX_SERVERS)
            return err_set(e, ST_CONFIG,
                           "more than %d NATS servers given; list at most %d",
                           BUS_MAX_SERVERS, BUS_MAX_SERVERS);
        servers[n++] = tok;
    }
    if (n == 0)
        return err_set(e, ST_CONFIG, "no NATS server in \"%s\"", url);
    ns = natsOptions_SetServers(opts, servers, n);
    if (ns != NATS_OK)
        return err_set(e, ST_CONFIG, "NATS server list \"%s\": %s", url,
                       natsStatus_GetText(ns));
    /* The listed order is the operator's preference. */
    natsOptions_SetNoRandomize(opts, true);
    return ST_OK;
}

/* The process's TLS defaults (bus_tls_default). */
static pthread_mutex_t tls_lock = PTHREAD_MUTEX_INITIALIZER;
static char tls_ca_default[1024];
static char tls_host_default[256];

void bus_tls_default(const char *ca, const char *hostname)
{
    pthread_mutex_lock(&tls_lock);
    snprintf(tls_ca_default, sizeof(tls_ca_default), "%s",
             ca != NULL ? ca : "");
    snprintf(tls_host_default, sizeof(tls_host_default), "%s",
             hostname != NULL ? hostname : "");
    pthread_mutex_unlock(&tls_lock);
}

/* o's TLS settings, or the process's defaults when o has none, into
 * ca/host (NULL: none) backed by the buffers given. */
static bool tls_settings(const bus_opts *o, char *cabuf, size_t cacap,
                         char *hostbuf, size_t hostcap, const char **ca,
                         const char **host)
{
    if (o->tls || o->tls_ca != NULL) {
        *ca = o->tls_ca;
        *host = o->tls_hostname;
        return true;
    }
    pthread_mutex_lock(&tls_lock);
    snprintf(cabuf, cacap, "%s", tls_ca_default);
    snprintf(hostbuf, hostcap, "%s", tls_host_default);
    pthread_mutex_unlock(&tls_lock);
    *ca = cabuf[0] != '\0' ? cabuf : NULL;
    *host = *ca != NULL && hostbuf[0] != '\0'
                ? hostbuf
                : o->tls_hostname; /* a name alone does not require TLS */
    return *ca != NULL;
}

/* Credentials, inbox prefix and TLS of o into opts and b. */
static status set_identity(bus *b, natsOptions *opts, const bus_opts *o, err *e)
{
    nkey_creds c;
    natsStatus ns = NATS_OK;
    status s = ST_OK;

    memset(&c, 0, sizeof(c));
    snprintf(b->inbox_prefix, sizeof(b->inbox_prefix), "_INBOX");
    if (o->creds != NULL) {
        /* Check it here, with a message that says how to fix it; cnats
         * reads the seed from the file itself at every (re)connect. */
        if ((s = nkey_creds_read(o->creds, &c, e)) != ST_OK) {
            /* A file that is there but unusable is the operator's to fix. */
            if (s != ST_IO && e != NULL)
                e->code = ST_CONFIG;
            return s == ST_IO ? s : ST_CONFIG;
        }
        natsauth_inbox_prefix(c.identity, b->inbox_prefix,
                              sizeof(b->inbox_prefix));
        ns = natsOptions_SetNKeyFromSeed(opts, c.public_key, o->creds);
        nkey_creds_clear(&c);
        if (ns != NATS_OK)
            return err_set(e, ST_CONFIG, "credentials %s: %s", o->creds,
                           natsStatus_GetText(ns));
    }
    if (o->inbox_prefix != NULL) {
        if (strlen(o->inbox_prefix) > BUS_INBOX_MAX ||
            strpbrk(o->inbox_prefix, "*> \t") != NULL ||
            o->inbox_prefix[0] == '\0')
            return err_set(e, ST_CONFIG,
                           "inbox prefix \"%.80s\" must be a subject of at "
                           "most %d characters without wildcards",
                           o->inbox_prefix, BUS_INBOX_MAX);
        snprintf(b->inbox_prefix, sizeof(b->inbox_prefix), "%s",
                 o->inbox_prefix);
    }
    if (strcmp(b->inbox_prefix, "_INBOX") != 0)
        ns = natsOptions_SetCustomInboxPrefix(opts, b->inbox_prefix);
    if (ns != NATS_OK)
        return err_set(e, ST_CONFIG, "inbox prefix %s: %s", b->inbox_prefix,
                       natsStatus_GetText(ns));
    {
        char cabuf[1024], hostbuf[256];
        const char *ca = NULL, *host = NULL;

        if (!tls_settings(o, cabuf, sizeof(cabuf), hostbuf, sizeof(hostbuf),
                          &ca, &host))
            return ST_OK;
        ns = natsOptions_SetSecure(opts, true);
        if (ns == NATS_OK && ca != NULL)
            ns = natsOptions_LoadCATrustedCertificates(opts, ca);
        if (ns != NATS_OK)
            return err_set(e, ST_CONFIG,
                           "TLS CA file %s: %s; give a PEM file of the CA "
                           "that signed the server's certificate",
                           ca != NULL ? ca : "(system)",
                           natsStatus_GetText(ns));
        if (host != NULL)
            ns = natsOptions_SetExpectedHostname(opts, host);
        if (ns != NATS_OK)
            return err_set(e, ST_CONFIG, "TLS host name %s: %s", host,
                           natsStatus_GetText(ns));
    }
    return ST_OK;
}

status bus_connect(bus **out, const char *url, const char *name, err *e)
{
    bus_opts o;

    memset(&o, 0, sizeof(o));
    o.url = url;
    o.name = name;
    return bus_connect_opts(out, &o, e);
}

status bus_connect_opts(bus **out, const bus_opts *o, err *e)
{
    natsOptions *opts = NULL;
    jsOptions jo;
    natsStatus ns;
    bus *b = calloc(1, sizeof(*b));
    status s = ST_OK;

    if (b == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->closed_cond, NULL);
    b->on_violation = o->on_violation;
    b->violation_ctx = o->violation_ctx;
    ns = natsOptions_Create(&opts);
    if (ns != NATS_OK) {
        s = nats_fail(e, ns, "NATS options");
        goto out;
    }
    if ((s = set_servers(opts, o->url, e)) != ST_OK ||
        (s = set_identity(b, opts, o, e)) != ST_OK)
        goto out;
    ns = natsOptions_SetName(opts, o->name != NULL ? o->name : "twinline");
    if (ns == NATS_OK && o->connect_timeout_ms > 0)
        ns = natsOptions_SetTimeout(opts, o->connect_timeout_ms);
    /* Without SendAsap a request waits ~1 ms for the flusher thread. */
    if (ns == NATS_OK)
        ns = natsOptions_SetSendAsap(opts, true);
    if (ns == NATS_OK)
        ns = natsOptions_SetMaxReconnect(opts, -1);
    if (ns == NATS_OK)
        ns = natsOptions_SetReconnectWait(opts, 250);
    if (ns == NATS_OK)
        ns = natsOptions_SetReconnectBufSize(opts, 64 * 1024 * 1024);
    if (ns == NATS_OK && o->shared_delivery) {
        /* The pool grows to this size lazily and never shrinks. */
        ns = nats_SetMessageDeliveryPoolSize(BUS_SHARED_POOL);
        if (ns == NATS_OK)
            ns = natsOptions_UseGlobalMessageDelivery(opts, true);
    }
    if (ns == NATS_OK)
        ns = natsOptions_SetErrorHandler(opts, on_async_error, b);
    if (ns == NATS_OK)
        ns = natsOptions_SetDisconnectedCB(opts, on_disconnected, b);
    if (ns == NATS_OK)
        ns = natsOptions_SetReconnectedCB(opts, on_reconnected, b);
    if (ns == NATS_OK)
        ns = natsOptions_SetClosedCB(opts, on_closed, b);
    if (ns != NATS_OK) {
        s = nats_fail(e, ns, "NATS options");
        goto out;
    }
    ns = natsConnection_Connect(&b->nc, opts);
    /*
     * cnats 3.4.1 leaves the signature out of its CONNECT when the
     * signature's first byte is zero, so one connect in 256 with valid
     * credentials is refused (a new connection gets a new nonce, hence a
     * new signature). A revoked identity is refused every time.
     */
    for (int tries = 1; ns == NATS_CONNECTION_AUTH_FAILED && o->creds != NULL &&
                        tries < BUS_AUTH_TRIES;
         tries++)
        ns = natsConnection_Connect(&b->nc, opts);
    if (ns == NATS_CONNECTION_AUTH_FAILED || ns == NATS_NOT_PERMITTED) {
        s = err_set(e, ST_UNAVAILABLE, "NATS at %s refused %s: %s; %s", o->url,
                    o->creds != NULL ? "the credentials" : "to connect",
                    natsStatus_GetText(ns),
                    o->creds != NULL
                        ? "the identity may be revoked or not yet in the "
                          "server's authorization (regenerate it and reload "
                          "nats-server)"
                        : "the server requires credentials: give --creds "
                          "FILE or TL_NATS_CREDS (twinline identity create)");
        goto out;
    }
    if (ns != NATS_OK) {
        const char *last = nats_GetLastError(NULL);

        s = err_set(e, ST_UNAVAILABLE,
                    "cannot connect to NATS at %s: %s%s%s; check --nats or "
                    "TL_NATS and that nats-server is running",
                    o->url, natsStatus_GetText(ns), last != NULL ? " " : "",
                    last != NULL ? last : "");
        goto out;
    }
    jsOptions_Init(&jo);
    jo.PublishAsync.ErrHandler = on_pub_error;
    jo.PublishAsync.ErrHandlerClosure = b;
    jo.PublishAsync.MaxPending = 4096;
    ns = natsConnection_JetStream(&b->js, b->nc, &jo);
    if (ns != NATS_OK) {
        s = nats_fail(e, ns, "JetStream context");
        goto out;
    }
out:
    natsOptions_Destroy(opts);
    if (s != ST_OK) {
        bus_close(b);
        return s;
    }
    *out = b;
    return ST_OK;
}

void bus_counters_get(bus *b, bus_counters *out)
{
    pthread_mutex_lock(&b->lock);
    *out = b->counters;
    pthread_mutex_unlock(&b->lock);
}

void bus_last_violation(bus *b, char *buf, size_t cap)
{
    pthread_mutex_lock(&b->lock);
    snprintf(buf, cap, "%s", b->last_violation);
    pthread_mutex_unlock(&b->lock);
}

const char *bus_inbox_prefix(const bus *b)
{
    return b->inbox_prefix;
}

status bus_inbox_new(bus *b, char *buf, size_t cap, err *e)
{
    natsInbox *inbox = NULL;
    natsStatus ns = natsInbox_Create(&inbox);
    const char *unique;
    int n;

    if (ns != NATS_OK)
        return nats_fail(e, ns, "inbox");
    /* natsInbox_Create always uses "_INBOX."; keep its unique part. */
    unique = strchr((const char *)inbox, '.');
    n = snprintf(buf, cap, "%s%s", b->inbox_prefix,
                 unique != NULL ? unique : "");
    natsInbox_Destroy(inbox);
    if (n < 0 || (size_t)n >= cap)
        return err_set(e, ST_INVALID,
                       "inbox subject does not fit in %zu "
                       "bytes",
                       cap);
    return ST_OK;
}

void bus_close(bus *b)
{
    if (b == NULL)
        return;
    for (int i = 0; i < b->nsubs; i++) {
        natsSubscription_Unsubscribe(b->subs[i].sub);
        natsSubscription_Destroy(b->subs[i].sub);
    }
    if (b->nc != NULL)
        natsConnection_FlushTimeout(b->nc, 1000);
    jsCtx_Destroy(b->js);
    if (b->nc != NULL) {
        struct timespec until;

        /* The callbacks hold b: free it only after the last one ran. */
        pthread_mutex_lock(&b->lock);
        b->closing = true;
        pthread_mutex_unlock(&b->lock);
        natsConnection_Close(b->nc);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 5;
        pthread_mutex_lock(&b->lock);
        while (!b->closed &&
               pthread_cond_timedwait(&b->closed_cond, &b->lock, &until) == 0)
            ;
        pthread_mutex_unlock(&b->lock);
    }
    natsConnection_Destroy(b->nc);
    pthread_cond_destroy(&b->closed_cond);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
                   void *closure)
{
    sub_slot *slot = closure;

    (void)nc;
    (void)sub;
    slot->handler(slot->ctx, BMSG(msg));
}

status bus_subscribe(bus *b, const char *subject, const char *queue,
                     bus_handler h, void *ctx, err *e)
{
    natsStatus ns;
    sub_slot *slot;

    pthread_mutex_lock(&b->lock);
    if (b->nsubs >= BUS_MAX_SUBS) {
        pthread_mutex_unlock(&b->lock);
        return err_set(e, ST_INTERNAL, "too many subscriptions");
    }
    slot = &b->subs[b->nsubs];
    slot->handler = h;
    slot->ctx = ctx;
    if (queue != NULL)
        ns = natsConnection_QueueSubscribe(&slot->sub, b->nc, subject, queue,
                                           on_msg, slot);
    else
        ns = natsConnection_Subscribe(&slot->sub, b->nc, subject, on_msg, slot);
    if (ns == NATS_OK) {
        /* The consumer batches work; let bursts queue rather than drop. */
        natsSubscription_SetPendingLimits(slot->sub, 1000000,
                                          512 * 1024 * 1024);
        b->nsubs++;
    }
    pthread_mutex_unlock(&b->lock);
    if (ns != NATS_OK)
        return nats_fail(e, ns, subject);
    return ST_OK;
}

status bus_publish(bus *b, const char *subject, const void *data, size_t len,
                   err *e)
{
    natsStatus ns = natsConnection_Publish(b->nc, subject, data, (int)len);

    return ns == NATS_OK ? ST_OK : nats_fail(e, ns, subject);
}

status bus_publish_request(bus *b, const char *subject, const char *reply,
                           const void *data, size_t len, err *e)
{
    natsStatus ns =
        natsConnection_PublishRequest(b->nc, subject, reply, data, (int)len);

    return ns == NATS_OK ? ST_OK : nats_fail(e, ns, subject);
}

status bus_request(bus *b, const char *subject, const void *data, size_t len,
                   int timeout_ms, bus_msg **reply, err *e)
{
    natsMsg *r = NULL;
    natsStatus ns =
        natsConnection_Request(&r, b->nc, subject, data, (int)len, timeout_ms);

    if (ns == NATS_NO_RESPONDERS)
        return err_set(e, ST_UNAVAILABLE,
                       "nobody serves %s; is the dispatcher running?", subject);
    if (ns == NATS_TIMEOUT)
        return err_set(e, ST_TIMEOUT, "no reply on %s within %d ms", subject,
                       timeout_ms);
    if (ns != NATS_OK)
        return nats_fail(e, ns, subject);
    *reply = BMSG(r);
    return ST_OK;
}

status bus_respond(bus *b, const bus_msg *m, const void *data, size_t len,
                   err *e)
{
    const char *reply = natsMsg_GetReply(CNMSG(m));

    if (reply == NULL || reply[0] == '\0')
        return ST_OK;
    return bus_publish(b, reply, data, len, e);
}

status bus_inbox(char *buf, size_t cap, err *e)
{
    natsInbox *inbox = NULL;
    natsStatus ns = natsInbox_Create(&inbox);

    if (ns != NATS_OK)
        return nats_fail(e, ns, "inbox");
    snprintf(buf, cap, "%s", (const char *)inbox);
    natsInbox_Destroy(inbox);
    return ST_OK;
}

status bus_flush(bus *b, int timeout_ms, err *e)
{
    natsStatus ns = natsConnection_FlushTimeout(b->nc, timeout_ms);

    return ns == NATS_OK ? ST_OK : nats_fail(e, ns, "flush");
}

bool bus_connected(bus *b)
{
    return natsConnection_Status(b->nc) == NATS_CONN_STATUS_CONNECTED;
}

const char *bus_msg_subject(const bus_msg *m)
{
    return natsMsg_GetSubject(CNMSG(m));
}

const char *bus_msg_reply(const bus_msg *m)
{
    const char *r = natsMsg_GetReply(CNMSG(m));

    return r != NULL && r[0] != '\0' ? r : NULL;
}

const char *bus_msg_data(const bus_msg *m)
{
    const char *d = natsMsg_GetData(CNMSG(m));

    return d != NULL ? d : "";
}

size_t bus_msg_len(const bus_msg *m)
{
    return (size_t)natsMsg_GetDataLength(CNMSG(m));
}

void bus_msg_free(bus_msg *m)
{
    natsMsg_Destroy(NMSG(m));
}

status bus_stream_ensure(bus *b, const char *name, const char *subjects,
                         long long max_bytes, err *e)
{
    jsStreamConfig cfg;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus ns;
    char buf[512];
    const char *subj[16];
    int nsubj = 0;

    snprintf(buf, sizeof(buf), "%s", subjects);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save);
         tok != NULL && nsubj < 16; tok = strtok_r(NULL, ",", &save))
        subj[nsubj++] = tok;
    jsStreamConfig_Init(&cfg);
    cfg.Name = name;
    cfg.Subjects = subj;
    cfg.SubjectsLen = nsubj;
    cfg.Storage = js_FileStorage;
    cfg.MaxBytes = max_bytes;
    cfg.Duplicates = (int64_t)120 * 1000000000;
    /* On a NATS cluster every program that ensures the stream says how
     * many copies it keeps (TL_STREAM_REPLICAS, docs/ha.md), so that none
     * scales it back down. */
    {
        const char *r = getenv("TL_STREAM_REPLICAS");
        long n = r != NULL ? strtol(r, NULL, 10) : 1;
        cfg.Replicas = n >= 1 && n <= 5 ? n : 1;
    }
    ns = js_AddStream(&si, b->js, &cfg, NULL, &jerr);
    if (ns != NATS_OK && jerr == JSStreamNameExistErr)
        ns = js_UpdateStream(&si, b->js, &cfg, NULL, &jerr);
    jsStreamInfo_Destroy(si);
    if (ns != NATS_OK)
        return err_set(e, ST_BUS, "create stream %s: %s (JetStream error %d)",
                       name, natsStatus_GetText(ns), (int)jerr);
    return ST_OK;
}

status bus_stream_delete(bus *b, const char *name, err *e)
{
    jsErrCode jerr = 0;
    natsStatus ns = js_DeleteStream(b->js, name, NULL, &jerr);

    if (ns == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr)
        return ST_OK;
    if (ns != NATS_OK)
        return err_set(e, ST_BUS, "delete stream %s: %s (JetStream error %d)",
                       name, natsStatus_GetText(ns), (int)jerr);
    return ST_OK;
}

status bus_js_publish_batch(bus *b, int n, const char *const *subjects,
                            const char *const *datas, const size_t *lens,
                            const char *const *msg_ids, err *e)
{
    jsPubOptions po;
    natsMsgList pending = {0};
    natsStatus ns = NATS_OK;
    int errors_before, errors_after;

    pthread_mutex_lock(&b->lock);
    errors_before = b->js_errors;
    pthread_mutex_unlock(&b->lock);

    for (int i = 0; i < n && ns == NATS_OK; i++) {
        jsPubOptions_Init(&po);
        po.MsgId = msg_ids[i];
        ns = js_PublishAsync(b->js, subjects[i], datas[i], (int)lens[i], &po);
    }
    if (ns != NATS_OK)
        return nats_fail(e, ns, "JetStream publish");
    jsPubOptions_Init(&po);
    po.MaxWait = 5000;
    ns = js_PublishAsyncComplete(b->js, &po);
    if (ns == NATS_TIMEOUT &&
        js_PublishAsyncGetPendingList(&pending, b->js) == NATS_OK)
        natsMsgList_Destroy(&pending);
    if (ns != NATS_OK)
        return nats_fail(e, ns, "JetStream publish acknowledgements");
    pthread_mutex_lock(&b->lock);
    errors_after = b->js_errors;
    pthread_mutex_unlock(&b->lock);
    if (errors_after != errors_before)
        return err_set(e, ST_BUS, "%d JetStream publishes failed",
                       errors_after - errors_before);
    return ST_OK;
}

status bus_consumer_ensure(bus *b, const char *stream, const char *durable,
                           const char *filter, err *e)
{
    jsConsumerConfig cc;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus ns;

    jsConsumerConfig_Init(&cc);
    cc.Durable = durable;
    cc.FilterSubject = filter;
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = (int64_t)30 * 1000000000;
    cc.MaxAckPending = 20000;
    ns = js_AddConsumer(&ci, b->js, stream, &cc, NULL, &jerr);
    jsConsumerInfo_Destroy(ci);
    if (ns != NATS_OK)
        return err_set(e, ST_BUS, "consumer %s on %s: %s (JetStream error %d)",
                       durable, stream, natsStatus_GetText(ns), (int)jerr);
    return ST_OK;
}

status bus_pull_create(bus_pull **out, bus *b, const char *stream,
                       const char *subject, const char *durable, err *e)
{
    jsSubOptions so;
    jsErrCode jerr = 0;
    natsStatus ns;
    bus_pull *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    jsSubOptions_Init(&so);
    so.Stream = stream;
    so.Config.AckPolicy = js_AckExplicit;
    so.Config.AckWait = (int64_t)30 * 1000000000;
    so.Config.MaxAckPending = 20000;
    ns = js_PullSubscribe(&p->sub, b->js, subject, durable, NULL, &so, &jerr);
    if (ns != NATS_OK) {
        free(p);
        return err_set(e, ST_BUS,
                       "pull consumer %s on %s: %s (JetStream error %d)",
                       durable, stream, natsStatus_GetText(ns), (int)jerr);
    }
    p->b = b;
    *out = p;
    return ST_OK;
}

status bus_pull_bind(bus_pull **out, bus *b, const char *stream,
                     const char *durable, err *e)
{
    jsSubOptions so;
    jsErrCode jerr = 0;
    natsStatus ns;
    bus_pull *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    jsSubOptions_Init(&so);
    so.Stream = stream;
    so.Consumer = durable;
    ns = js_PullSubscribe(&p->sub, b->js, NULL, durable, NULL, &so, &jerr);
    if (ns != NATS_OK) {
        free(p);
        if (ns == NATS_NOT_FOUND || jerr == JSConsumerNotFoundErr ||
            jerr == JSStreamNotFoundErr)
            return err_set(e, ST_NOT_FOUND,
                           "no consumer %s on stream %s (it is made by the "
                           "dispatcher)",
                           durable, stream);
        return err_set(e, ST_BUS,
                       "bind to consumer %s on %s: %s (JetStream error %d)",
                       durable, stream, natsStatus_GetText(ns), (int)jerr);
    }
    p->b = b;
    *out = p;
    return ST_OK;
}

void bus_pull_destroy(bus_pull *p)
{
    if (p == NULL)
        return;
    natsSubscription_Destroy(p->sub);
    free(p);
}

status bus_pull_fetch(bus_pull *p, int max, int timeout_ms, bus_msg **msgs,
                      int *n, err *e)
{
    natsMsgList list = {0};
    jsErrCode jerr = 0;
    natsStatus ns =
        natsSubscription_Fetch(&list, p->sub, max, timeout_ms, &jerr);

    *n = 0;
    if (ns == NATS_TIMEOUT)
        return ST_OK;
    if (ns != NATS_OK)
        return err_set(e, ST_BUS, "fetch: %s (JetStream error %d)",
                       natsStatus_GetText(ns), (int)jerr);
    for (int i = 0; i < list.Count && i < max; i++) {
        msgs[i] = BMSG(list.Msgs[i]);
        list.Msgs[i] = NULL; /* ownership moves to the caller */
    }
    *n = list.Count < max ? list.Count : max;
    natsMsgList_Destroy(&list);
    return ST_OK;
}

status bus_msg_ack(bus_msg *m, err *e)
{
    natsStatus ns = natsMsg_Ack(NMSG(m), NULL);

    return ns == NATS_OK ? ST_OK : nats_fail(e, ns, "ack");
}
