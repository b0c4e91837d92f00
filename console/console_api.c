/*
 * Routing of HTTP requests to handlers: authentication, the key's kind,
 * path parameters, and the mapping of Twinline's status codes to HTTP.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console.h"
#include "console_assets.h"
#include "console_int.h"
#include "ids.h"
#include "log.h"

typedef enum route_auth {
    AUTH_NONE,
    AUTH_ANY,
    AUTH_OPERATOR,
    AUTH_TENANT
} route_auth;

typedef void (*route_fn)(const api_req *a, console_http_reply *rep);

typedef struct route {
    const char *method;
    const char *pattern; /* segments; {x} matches one (a token or an id) */
    route_auth auth;
    route_fn fn;
} route;

static void whoami(const api_req *a, console_http_reply *rep)
{
    json_t *j = json_pack("{s:b,s:s,s:s,s:s}", "ok", 1, "kind",
                          console_key_kind_name(a->who.kind), "owner",
                          a->who.owner, "key", a->who.key_id);

    api_reply_json(rep, 200, j);
}

static const route routes[] = {
    {"GET", "/api/v1/whoami", AUTH_ANY, whoami},
    {"GET", "/api/v1/ops/pools", AUTH_OPERATOR, ops_pools},
    {"PUT", "/api/v1/ops/pools/{}/settings", AUTH_OPERATOR, ops_pool_settings},
    {"GET", "/api/v1/ops/workers", AUTH_OPERATOR, ops_workers},
    {"GET", "/api/v1/ops/workers/{}", AUTH_OPERATOR, ops_worker},
    {"POST", "/api/v1/ops/workers/{}/activate", AUTH_OPERATOR,
     ops_worker_activate},
    {"POST", "/api/v1/ops/workers/{}/deactivate", AUTH_OPERATOR,
     ops_worker_deactivate},
    {"POST", "/api/v1/ops/workers/{}/logout", AUTH_OPERATOR, ops_worker_logout},
    {"PUT", "/api/v1/ops/workers/{}/skills", AUTH_OPERATOR, ops_worker_skills},
    {"PUT", "/api/v1/ops/workers/{}/pool", AUTH_OPERATOR, ops_worker_pool},
    {"GET", "/api/v1/ops/skills", AUTH_OPERATOR, ops_skills},
    {"GET", "/api/v1/ops/presence", AUTH_OPERATOR, ops_presence},
    {"GET", "/api/v1/ops/tasks", AUTH_OPERATOR, ops_tasks},
    {"POST", "/api/v1/ops/tasks/{}/priority", AUTH_OPERATOR, ops_task_priority},
    {"POST", "/api/v1/ops/tasks/{}/reassign", AUTH_OPERATOR, ops_task_reassign},
    {"POST", "/api/v1/ops/tasks/{}/cancel", AUTH_OPERATOR, ops_task_cancel},
    {"GET", "/api/v1/ops/cases/{}", AUTH_OPERATOR, ops_case},
    {"GET", "/api/v1/ops/queues", AUTH_OPERATOR, ops_queues},
    {"GET", "/api/v1/ops/fairness", AUTH_OPERATOR, ops_fairness},
    {"GET", "/api/v1/ops/ai-review", AUTH_OPERATOR, ops_ai_review},
    {"GET", "/api/v1/ops/billing", AUTH_OPERATOR, ops_billing},
    {"GET", "/api/v1/ops/invoices", AUTH_OPERATOR, ops_invoices},
    {"GET", "/api/v1/ops/statement", AUTH_OPERATOR, ops_statement},
    {"GET", "/api/v1/ops/intervals", AUTH_OPERATOR, ops_intervals},
    {"GET", "/api/v1/ops/forecast", AUTH_OPERATOR, ops_forecast},
    {"GET", "/api/v1/ops/alerts", AUTH_OPERATOR, ops_alerts},
    {"GET", "/api/v1/ops/audit", AUTH_OPERATOR, ops_audit},
    {"GET", "/api/v1/ops/callups", AUTH_OPERATOR, ops_callups},
    {"GET", "/api/v1/ops/stream", AUTH_OPERATOR, ops_stream},
    {"GET", "/api/v1/ops/webhook", AUTH_OPERATOR, hook_get},
    {"PUT", "/api/v1/ops/webhook", AUTH_OPERATOR, hook_put},
    {"DELETE", "/api/v1/ops/webhook", AUTH_OPERATOR, hook_delete},
    {"GET", "/api/v1/ops/webhook/deliveries", AUTH_OPERATOR, hook_deliveries},
    {"POST", "/api/v1/cases", AUTH_TENANT, bank_submit},
    {"GET", "/api/v1/cases", AUTH_TENANT, bank_find},
    {"GET", "/api/v1/cases/{}", AUTH_TENANT, bank_get},
    {"POST", "/api/v1/cases/{}/reopen", AUTH_TENANT, bank_dispute},
    {"POST", "/api/v1/cases/{}/complaint", AUTH_TENANT, bank_dispute},
    {"GET", "/api/v1/webhook", AUTH_TENANT, hook_get},
    {"PUT", "/api/v1/webhook", AUTH_TENANT, hook_put},
    {"DELETE", "/api/v1/webhook", AUTH_TENANT, hook_delete},
    {"GET", "/api/v1/webhook/deliveries", AUTH_TENANT, hook_deliveries},
};

int console_routes(const char **methods, const char **patterns, int cap)
{
    int n = (int)(sizeof(routes) / sizeof(routes[0]));

    for (int i = 0; i < n && i < cap; i++) {
        methods[i] = routes[i].method;
        patterns[i] = routes[i].pattern;
    }
    return n;
}

/* Match path against pattern; the {} segments go to params. */
static bool route_match(const char *pattern, const char *path,
                        const char *params[API_PARAMS_MAX],
                        char store[API_PARAMS_MAX][ID_MAX + 2])
{
    int np = 0;

    while (*pattern != '\0' && *path != '\0') {
        if (pattern[0] == '{' && pattern[1] == '}') {
            size_t n = strcspn(path, "/");

            if (n == 0 || n > ID_MAX || np == API_PARAMS_MAX)
                return false;
            memcpy(store[np], path, n);
            store[np][n] = '\0';
            params[np] = store[np];
            np++;
            pattern += 2;
            path += n;
            continue;
        }
        if (*pattern != *path)
            return false;
        pattern++;
        path++;
    }
    return *pattern == '\0' && *path == '\0';
}

static int http_status(status st)
{
    switch (st) {
    case ST_BAD_JSON:
    case ST_UNKNOWN_FIELD:
    case ST_MISSING_FIELD:
    case ST_WRONG_TYPE:
    case ST_INVALID:
        return 400;
    case ST_TOO_LARGE:
        return 413;
    case ST_NOT_FOUND:
        return 404;
    case ST_UNKNOWN_TENANT:
    case ST_NOT_YOURS:
        return 403;
    case ST_UNKNOWN_CASE_TYPE:
    case ST_OUTCOME_NOT_ALLOWED:
        return 422;
    case ST_STALE:
    case ST_CONFLICT:
    case ST_DEACTIVATED:
        return 409;
    case ST_UNAVAILABLE:
        return 503;
    case ST_TIMEOUT:
        return 504;
    default:
        return 500;
    }
}

/* The HTTP status of a stable error code a dispatcher reply carries. */
static int code_status(const char *code)
{
    for (int s = 0; s < ST__COUNT; s++) {
        if (strcmp(status_code((status)s), code) == 0)
            return http_status((status)s);
    }
    return 500;
}

void api_reply_json(console_http_reply *rep, int http, json_t *json)
{
    char *text = json != NULL ? jsonx_dump(json) : NULL;

    json_decref(json);
    if (text == NULL) {
        rep->status = 500;
        rep->body = strdup("{\"ok\":false,\"error\":{\"code\":\"internal\","
                           "\"message\":\"out of memory\"}}");
    } else {
        rep->status = http;
        rep->body = text;
    }
    rep->len = rep->body != NULL ? strlen(rep->body) : 0;
    rep->content_type = "application/json";
}

void api_reply_doc(console_http_reply *rep, const char *name, const char *doc)
{
    size_t n = strlen(name) + strlen(doc) + 16;
    char *body = malloc(n);

    if (body == NULL) {
        api_reply_error(rep, ST_NOMEM, "out of memory");
        return;
    }
    snprintf(body, n, "{\"ok\":true,\"%s\":%s}", name, doc);
    rep->status = 200;
    rep->body = body;
    rep->len = strlen(body);
    rep->content_type = "application/json";
}

void api_reply_code(console_http_reply *rep, int http, const char *code,
                    const char *msg)
{
    json_t *j = json_pack("{s:b,s:{s:s,s:s}}", "ok", 0, "error", "code", code,
                          "message", msg);

    api_reply_json(rep, http, j);
}

void api_reply_error(console_http_reply *rep, status st, const char *msg)
{
    if (st == ST_DB || st == ST_INTERNAL || st == ST_NOMEM || st == ST_BUS) {
        log_error("console", "request failed: %s", msg);
        api_reply_code(rep, 500, "internal",
                       "the console failed; its log has the detail");
        return;
    }
    api_reply_code(rep, http_status(st), status_code(st), msg);
}

void api_reply_forward(console_http_reply *rep, const char *body, size_t len,
                       int ok_status)
{
    json_t *j = NULL;
    err e = {0};
    json_t *ok;

    if (jsonx_parse(body, len, 1 << 20, &j, &e) != ST_OK) {
        api_reply_code(rep, 502, "internal",
                       "the dispatcher's reply was not JSON");
        return;
    }
    ok = json_object_get(j, "ok");
    if (json_is_true(ok)) {
        int st = ok_status;

        if (ok_status == 201 && !json_is_true(json_object_get(j, "created")))
            st = 200;
        api_reply_json(rep, st, j);
        return;
    }
    {
        const char *code = json_string_value(
            json_object_get(json_object_get(j, "error"), "code"));

        api_reply_json(rep, code != NULL ? code_status(code) : 500, j);
    }
}

typedef struct qcheck {
    const char *const *allowed;
    char bad[80];
} qcheck;

static int query_name_ok(void *ctx, const char *name, const char *value)
{
    qcheck *q = ctx;

    (void)value;
    for (int i = 0; q->allowed[i] != NULL; i++) {
        if (strcmp(q->allowed[i], name) == 0)
            return 0;
    }
    snprintf(q->bad, sizeof(q->bad), "%.60s", name);
    return 1;
}

bool api_query_allowed(const api_req *a, const char *const *allowed,
                       console_http_reply *rep)
{
    qcheck q = {allowed, ""};
    char msg[400];
    size_t n = 0;

    if (console_http_query_each(a->http, query_name_ok, &q) == 0)
        return true;
    n = (size_t)snprintf(msg, sizeof(msg),
                         "unknown query parameter \"%s\"; allowed:", q.bad);
    if (allowed[0] == NULL)
        snprintf(msg + n, sizeof(msg) - n, " none");
    for (int i = 0; allowed[i] != NULL && n < sizeof(msg); i++)
        n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s %s",
                              i > 0 ? "," : "", allowed[i]);
    api_reply_error(rep, ST_UNKNOWN_FIELD, msg);
    return false;
}

bool api_query_int(const api_req *a, const char *name, long lo, long hi,
                   long def, long *out, console_http_reply *rep)
{
    const char *v = console_http_query(a->http, name);
    char *end = NULL;
    long x;
    char msg[200];

    if (v == NULL) {
        *out = def;
        return true;
    }
    x = strtol(v, &end, 10);
    if (v[0] == '\0' || *end != '\0' || x < lo || x > hi) {
        snprintf(msg, sizeof(msg), "%s must be an integer from %ld to %ld",
                 name, lo, hi);
        api_reply_error(rep, ST_INVALID, msg);
        return false;
    }
    *out = x;
    return true;
}

bool api_query_token(const api_req *a, const char *name, const char **out,
                     console_http_reply *rep)
{
    const char *v = console_http_query(a->http, name);
    char msg[200];

    if (v == NULL) {
        *out = "";
        return true;
    }
    if (!ids_token_valid(v)) {
        snprintf(msg, sizeof(msg),
                 "%s must be an identifier of 1-64 characters [A-Za-z0-9_-]",
                 name);
        api_reply_error(rep, ST_INVALID, msg);
        return false;
    }
    *out = v;
    return true;
}

bool api_query_month(const api_req *a, const char *name, char from[48],
                     char to[48], console_http_reply *rep)
{
    const char *v = console_http_query(a->http, name);
    int y, m;
    char tail;
    time_t now;
    struct tm tm;

    if (v == NULL) {
        now = time(NULL);
        gmtime_r(&now, &tm);
        y = tm.tm_year + 1900;
        m = tm.tm_mon + 1;
    } else if (strlen(v) != 7 || sscanf(v, "%4d-%2d%c", &y, &m, &tail) != 2 ||
               y < 2000 || y > 9998 || m < 1 || m > 12) {
        char msg[120];

        snprintf(msg, sizeof(msg), "%s must be a month YYYY-MM", name);
        api_reply_error(rep, ST_INVALID, msg);
        return false;
    }
    snprintf(from, 48, "%04d-%02d-01T00:00:00Z", y, m);
    snprintf(to, 48, "%04d-%02d-01T00:00:00Z", m == 12 ? y + 1 : y,
             m == 12 ? 1 : m + 1);
    return true;
}

db *api_db(const api_req *a, console_http_reply *rep)
{
    db *d = NULL;
    err e = {0};

    if (console_dbpool_get(a->c->pool, 5000, &d, &e) != ST_OK) {
        api_reply_error(rep, ST_UNAVAILABLE, e.msg);
        return NULL;
    }
    return d;
}

void api_db_put(const api_req *a, db *d, status last)
{
    console_dbpool_put(a->c->pool, d, last == ST_UNAVAILABLE);
}

/* The one column of every statement api_run_doc reads. */
enum { DOC_COLUMN = 0 };

void api_run_doc(const api_req *a, const db_stmt *st, const char *const *params,
                 const char *name, const char *nf_msg, console_http_reply *rep)
{
    db *d = api_db(a, rep);
    db_res *r = NULL;
    err e = {0};
    status s;

    /* Every statement read this way declares the one column "doc". */
    assert(strcmp(st->columns, "doc") == 0);
    if (d == NULL)
        return;
    s = db_run(d, st, params, &r, &e);
    api_db_put(a, d, s);
    if (s != ST_OK) {
        api_reply_error(rep, s, e.msg);
        return;
    }
    if (db_rows(r) == 0 || db_null(r, 0, DOC_COLUMN))
        api_reply_error(rep, ST_NOT_FOUND, nf_msg != NULL ? nf_msg : "none");
    else
        api_reply_doc(rep, name, db_val(r, 0, DOC_COLUMN));
    db_res_free(r);
}

static bool authenticate(console *c, const console_http_req *req,
                         console_identity *who, console_http_reply *rep)
{
    const char *h = console_http_header(req, "Authorization");
    db *d = NULL;
    err e = {0};
    status st;

    if (h == NULL || strncmp(h, "Bearer ", 7) != 0) {
        api_reply_code(rep, 401, "unauthorized",
                       "send an API key as \"Authorization: Bearer tlk_...\" "
                       "(twinline-console key create)");
        return false;
    }
    if (console_dbpool_get(c->pool, 5000, &d, &e) != ST_OK) {
        api_reply_error(rep, ST_UNAVAILABLE, e.msg);
        return false;
    }
    st = console_keys_verify(d, h + 7, who, &e);
    console_dbpool_put(c->pool, d, st == ST_UNAVAILABLE);
    if (st == ST_NOT_FOUND) {
        api_reply_code(rep, 401, "unauthorized",
                       "the API key is not valid (unknown, revoked or "
                       "mistyped)");
        return false;
    }
    if (st != ST_OK) {
        api_reply_error(rep, st, e.msg);
        return false;
    }
    return true;
}

static bool serve_asset(const console_http_req *req, console_http_reply *rep)
{
    const console_asset *as;

    if (strcmp(console_http_method(req), "GET") != 0)
        return false;
    as = console_assets_find(console_http_path(req));
    if (as == NULL)
        return false;
    rep->status = 200;
    rep->content_type = as->content_type;
    rep->cache = "no-cache";
    rep->body = malloc(as->len > 0 ? as->len : 1);
    if (rep->body == NULL) {
        api_reply_error(rep, ST_NOMEM, "out of memory");
        return true;
    }
    memcpy(rep->body, as->data, as->len);
    rep->len = as->len;
    return true;
}

void console_api_handle(void *ctx, const console_http_req *req,
                        console_http_reply *rep)
{
    console *c = ctx;
    const char *method = console_http_method(req);
    const char *path = console_http_path(req);
    char store[API_PARAMS_MAX][ID_MAX + 2];
    api_req a;
    const route *hit = NULL;
    bool path_known = false;

    memset(&a, 0, sizeof(a));
    a.c = c;
    a.http = req;
    if (strcmp(path, "/healthz") == 0) {
        api_reply_json(rep, 200, json_pack("{s:b}", "ok", 1));
        return;
    }
    if (serve_asset(req, rep))
        return;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const char *params[API_PARAMS_MAX] = {0};

        if (!route_match(routes[i].pattern, path, params, store))
            continue;
        path_known = true;
        if (strcmp(routes[i].method, method) != 0)
            continue;
        hit = &routes[i];
        memcpy(a.path, params, sizeof(a.path));
        break;
    }
    if (hit == NULL) {
        if (path_known)
            api_reply_code(rep, 405, "method_not_allowed",
                           "this path does not take that method; see "
                           "docs/openapi.json");
        else
            api_reply_error(rep, ST_NOT_FOUND,
                            "no such path; the API is under /api/v1 "
                            "(docs/http.md)");
        return;
    }
    for (int i = 0; i < API_PARAMS_MAX && a.path[i] != NULL; i++) {
        if (!ids_token_valid(a.path[i])) {
            api_reply_error(rep, ST_INVALID,
                            "a path segment is not an identifier "
                            "[A-Za-z0-9_-]{1,64}");
            return;
        }
    }
    if (hit->auth != AUTH_NONE && !authenticate(c, req, &a.who, rep))
        return;
    if ((hit->auth == AUTH_OPERATOR && a.who.kind != CONSOLE_KEY_OPERATOR) ||
        (hit->auth == AUTH_TENANT && a.who.kind != CONSOLE_KEY_TENANT)) {
        api_reply_code(rep, 403, "forbidden",
                       hit->auth == AUTH_OPERATOR
                           ? "this is an operator's endpoint; a bank's key "
                             "cannot use it"
                           : "this is a bank's endpoint; an operator's key "
                             "cannot use it");
        return;
    }
    hit->fn(&a, rep);
}
