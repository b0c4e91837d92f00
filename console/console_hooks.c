#include "console_hooks.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "console_int.h"
#include "console_sql.h"
#include "jsonx.h"
#include "log.h"

#define HOOK_BATCH 16

struct console_hooks {
    bus *b;
    bus_pull *pull;
    char prefix[64];
    char stream[80];
    db *d;
    console_hooks_opts o;
    CURL *curl;
};

status console_hooks_enqueue(db *d, const char *kind, const char *owner,
                             const char *event_id, const char *type,
                             const char *body, bool *queued, err *e)
{
    const char *params[] = {kind, owner, event_id, type, body};
    db_res *r = NULL;
    status st;

    st = db_run(d, &console_sql_hook_enqueue, params, &r, e);
    if (st == ST_OK && queued != NULL)
        *queued = db_rows(r) > 0;
    db_res_free(r);
    return st;
}

bool console_hooks_event_id(const char *body, size_t len, char *buf, size_t cap,
                            char *tenant, size_t tcap, char *type, size_t ycap)
{
    json_t *j = NULL;
    err e = {0};
    int64_t case_id = 0, dispute_id = 0;
    const char *t, *ty;
    bool ok = false;

    if (jsonx_parse(body, len, 1 << 20, &j, &e) != ST_OK)
        return false;
    t = jsonx_str(j, "tenant");
    ty = jsonx_str(j, "type");
    if (t != NULL && ty != NULL && jsonx_int(j, "case_id", &case_id)) {
        if (jsonx_int(j, "dispute_id", &dispute_id))
            snprintf(buf, cap, "dispute-%lld", (long long)dispute_id);
        else
            snprintf(buf, cap, "case-%lld-%s", (long long)case_id, ty);
        snprintf(tenant, tcap, "%s", t);
        snprintf(type, ycap, "%s", ty);
        ok = true;
    }
    json_decref(j);
    return ok;
}

void console_hooks_sign(const char *secret, const char *ts, const char *body,
                        size_t len, char buf[68])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];

    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret,
                                strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, strlen(ts));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(buf, "v1=", 3);
    sodium_bin2hex(buf + 3, 65, mac, sizeof(mac));
}

status console_hooks_create(console_hooks **out, bus *b, const char *prefix,
                            const char *conninfo, const console_hooks_opts *o,
                            err *e)
{
    console_hooks *h = calloc(1, sizeof(*h));
    status st;

    if (h == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    h->b = b;
    h->o = *o;
    snprintf(h->prefix, sizeof(h->prefix), "%s", prefix);
    snprintf(h->stream, sizeof(h->stream), "%s_EVENTS", prefix);
    for (char *p = h->stream; *p != '\0'; p++)
        *p = (char)toupper((unsigned char)*p);
    st = db_connect(&h->d, conninfo, e);
    if (st != ST_OK) {
        free(h);
        return st;
    }
    h->curl = curl_easy_init();
    if (h->curl == NULL) {
        db_close(h->d);
        free(h);
        return err_set(e, ST_NOMEM, "curl_easy_init failed");
    }
    *out = h;
    return ST_OK;
}

void console_hooks_destroy(console_hooks *h)
{
    if (h == NULL)
        return;
    bus_pull_destroy(h->pull);
    curl_easy_cleanup(h->curl);
    db_close(h->d);
    free(h);
}

/* Bind the durable consumer once the dispatcher has made the stream. */
static void hooks_bind(console_hooks *h)
{
    char subject[128];
    err e = {0};

    if (h->pull != NULL)
        return;
    snprintf(subject, sizeof(subject), "%s.evt.*.case", h->prefix);
    if (bus_pull_create(&h->pull, h->b, h->stream, subject, "console_hooks",
                        &e) != ST_OK) {
        h->pull = NULL;
        log_debug("console", "event stream not ready: %s", e.msg);
    }
}

static status hooks_intake(console_hooks *h, int wait_ms, err *e)
{
    bus_msg *msgs[64];
    int n = 0;
    status st;

    hooks_bind(h);
    if (h->pull == NULL)
        return ST_OK;
    st = bus_pull_fetch(h->pull, 64, wait_ms, msgs, &n, e);
    if (st != ST_OK)
        return st;
    for (int i = 0; i < n; i++) {
        char id[96], tenant[80], type[64];
        char *body = strndup(bus_msg_data(msgs[i]), bus_msg_len(msgs[i]));
        status qs = ST_OK;

        if (body != NULL &&
            console_hooks_event_id(body, strlen(body), id, sizeof(id), tenant,
                                   sizeof(tenant), type, sizeof(type)))
            qs = console_hooks_enqueue(h->d, "tenant", tenant, id, type, body,
                                       NULL, e);
        else
            log_warn("console", "case event without tenant, type or case_id "
                                "skipped");
        free(body);
        /* Unacknowledged, JetStream redelivers it; queueing is idempotent. */
        if (qs == ST_OK)
            bus_msg_ack(msgs[i], NULL);
        else
            st = qs;
        bus_msg_free(msgs[i]);
    }
    if (st == ST_UNAVAILABLE)
        db_reconnect(h->d, NULL);
    return st;
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

/* POST one delivery; *code is the HTTP status (0: none), msg the error. */
static bool hooks_post(console_hooks *h, const char *url, const char *secret,
                       const char *delivery, const char *event_id,
                       const char *type, const char *body, long *code,
                       char *msg, size_t cap)
{
    struct curl_slist *hdr = NULL;
    char line[200], ts[24], sig[68];
    CURLcode rc;

    snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
    console_hooks_sign(secret, ts, body, strlen(body), sig);
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    snprintf(line, sizeof(line), "Twinline-Delivery: %s", delivery);
    hdr = curl_slist_append(hdr, line);
    snprintf(line, sizeof(line), "Twinline-Event-Id: %s", event_id);
    hdr = curl_slist_append(hdr, line);
    snprintf(line, sizeof(line), "Twinline-Event: %s", type);
    hdr = curl_slist_append(hdr, line);
    snprintf(line, sizeof(line), "Twinline-Timestamp: %s", ts);
    hdr = curl_slist_append(hdr, line);
    snprintf(line, sizeof(line), "Twinline-Signature: %s", sig);
    hdr = curl_slist_append(hdr, line);
    curl_easy_reset(h->curl);
    curl_easy_setopt(h->curl, CURLOPT_URL, url);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, (long)h->o.timeout_ms);
    curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L);
    rc = curl_easy_perform(h->curl);
    *code = 0;
    msg[0] = '\0';
    if (rc == CURLE_OK)
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, code);
    else
        snprintf(msg, cap, "%s", curl_easy_strerror(rc));
    curl_slist_free_all(hdr);
    if (rc == CURLE_OK && (*code < 200 || *code > 299))
        snprintf(msg, cap, "the receiver answered HTTP %ld", *code);
    return rc == CURLE_OK && *code >= 200 && *code <= 299;
}

static status hooks_send(console_hooks *h, int *sent, err *e)
{
    char lim[16], lease[16];
    const char *params[2] = {lim, lease};
    db_res *r = NULL;
    status st;

    snprintf(lim, sizeof(lim), "%d", HOOK_BATCH);
    snprintf(lease, sizeof(lease), "%d", h->o.timeout_ms / 1000 * 2 + 30);
    st = db_run(h->d, &console_sql_hook_claim, params, &r, e);
    if (st != ST_OK) {
        if (st == ST_UNAVAILABLE)
            db_reconnect(h->d, NULL);
        return st;
    }
    for (int i = 0; i < db_rows(r); i++) {
        char msg[256], code_s[16], base[16], max[16];
        long code = 0;
        bool ok = hooks_post(h, db_val(r, i, CONSOLE_HOOK_CLAIM_URL),
                             db_val(r, i, CONSOLE_HOOK_CLAIM_SECRET),
                             db_val(r, i, CONSOLE_HOOK_CLAIM_ID),
                             db_val(r, i, CONSOLE_HOOK_CLAIM_EVENT_ID),
                             db_val(r, i, CONSOLE_HOOK_CLAIM_EVENT_TYPE),
                             db_val(r, i, CONSOLE_HOOK_CLAIM_BODY), &code, msg,
                             sizeof(msg));
        const char *res[6];

        snprintf(code_s, sizeof(code_s), "%ld", code);
        snprintf(base, sizeof(base), "%d", h->o.base_ms);
        snprintf(max, sizeof(max), "%d", h->o.attempts);
        res[0] = db_val(r, i, CONSOLE_HOOK_CLAIM_ID);
        res[1] = ok ? "true" : "false";
        res[2] = code > 0 ? code_s : NULL;
        res[3] = ok ? NULL : msg;
        res[4] = base;
        res[5] = max;
        st = db_run(h->d, &console_sql_hook_result, res, NULL, e);
        if (sent != NULL)
            (*sent)++;
        if (st != ST_OK)
            break;
    }
    db_res_free(r);
    return st;
}

status console_hooks_step(console_hooks *h, int wait_ms, int *sent, err *e)
{
    status st = hooks_intake(h, wait_ms, e);

    if (st != ST_OK)
        return st;
    return hooks_send(h, sent, e);
}

/* The HTTP side: a bank's or operator's own webhook. */

static const char *owner_kind(const api_req *a)
{
    return a->who.kind == CONSOLE_KEY_OPERATOR ? "operator" : "tenant";
}

void hook_get(const api_req *a, console_http_reply *rep)
{
    static const char *const none[] = {NULL};
    const char *params[] = {owner_kind(a), a->who.owner};

    if (api_query_allowed(a, none, rep))
        api_run_doc(a, &console_sql_hook_get, params, "webhook",
                    "no webhook is set; PUT one with {\"url\": ...}", rep);
}

static bool url_valid(const char *u)
{
    size_t n = strlen(u);

    if (n < 8 || n > 500)
        return false;
    if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)u[i];

        if (c <= ' ' || c == 0x7f || c == '"' || c == '\\' || c >= 0x80)
            return false;
    }
    return true;
}

void hook_put(const api_req *a, console_http_reply *rep)
{
    static const char *const none[] = {NULL};
    static const jfield fields[] = {{"url", JF_STRING, true}};
    size_t len;
    const char *body = console_http_body(a->http, &len);
    unsigned char raw[32];
    char secret[65];
    json_t *j = NULL;
    const char *url;
    db *d = NULL;
    db_res *r = NULL;
    err e = {0};
    status st;

    if (!api_query_allowed(a, none, rep))
        return;
    st = jsonx_parse(body, len, a->c->o.max_body, &j, &e);
    if (st == ST_OK)
        st = jsonx_check(j, "request", fields, 1, &e);
    if (st != ST_OK) {
        api_reply_error(rep, st, e.msg);
        goto out;
    }
    url = jsonx_str(j, "url");
    if (!url_valid(url)) {
        api_reply_error(rep, ST_INVALID,
                        "url must be an http:// or https:// URL of at most "
                        "500 printable ASCII characters");
        goto out;
    }
    d = api_db(a, rep);
    if (d == NULL)
        goto out;
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(secret, sizeof(secret), raw, sizeof(raw));
    {
        const char *p1[] = {owner_kind(a), a->who.owner};
        const char *p2[] = {owner_kind(a), a->who.owner, url, secret};

        st = db_begin(d, &e);
        if (st == ST_OK)
            st = db_run(d, &console_sql_hook_deactivate, p1, NULL, &e);
        if (st == ST_OK)
            st = db_run(d, &console_sql_hook_insert, p2, &r, &e);
        if (st == ST_OK)
            st = db_commit(d, &e);
        else
            db_rollback(d);
    }
    api_db_put(a, d, st);
    if (st != ST_OK) {
        api_reply_error(rep, st, e.msg);
        goto out;
    }
    api_reply_json(rep, 201,
                   json_pack("{s:b,s:{s:I,s:s,s:s,s:s}}", "ok", 1, "webhook",
                             "id",
                             (json_int_t)db_i64(r, 0, CONSOLE_HOOK_INSERT_ID),
                             "url", url, "secret", secret, "created_at",
                             db_val(r, 0, CONSOLE_HOOK_INSERT_CREATED_AT)));
out:
    sodium_memzero(secret, sizeof(secret));
    db_res_free(r);
    json_decref(j);
}

void hook_delete(const api_req *a, console_http_reply *rep)
{
    static const char *const none[] = {NULL};
    const char *params[] = {owner_kind(a), a->who.owner};
    db *d;
    db_res *r = NULL;
    err e = {0};
    status st;

    if (!api_query_allowed(a, none, rep))
        return;
    d = api_db(a, rep);
    if (d == NULL)
        return;
    st = db_run(d, &console_sql_hook_deactivate, params, &r, &e);
    api_db_put(a, d, st);
    if (st != ST_OK)
        api_reply_error(rep, st, e.msg);
    else if (db_rows(r) == 0)
        api_reply_error(rep, ST_NOT_FOUND, "no webhook is set");
    else
        api_reply_json(
            rep, 200,
            json_pack("{s:b,s:I}", "ok", 1, "removed",
                      (json_int_t)db_i64(r, 0, CONSOLE_HOOK_DEACTIVATE_ID)));
    db_res_free(r);
}

void hook_deliveries(const api_req *a, console_http_reply *rep)
{
    static const char *const allowed[] = {"limit", NULL};
    long limit;
    char lim[24];
    const char *params[3];

    if (!api_query_allowed(a, allowed, rep) ||
        !api_query_int(a, "limit", 1, 1000, 100, &limit, rep))
        return;
    snprintf(lim, sizeof(lim), "%ld", limit);
    params[0] = owner_kind(a);
    params[1] = a->who.owner;
    params[2] = lim;
    api_run_doc(a, &console_sql_hook_deliveries, params, "deliveries", NULL,
                rep);
}
