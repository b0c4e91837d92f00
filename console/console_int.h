/*
 * Inside the console library: the service's state and what the request
 * handlers (console_ops.c, console_bank.c) share. Not installed; only
 * the console's own files include it.
 */
#ifndef TL_CONSOLE_INT_H
#define TL_CONSOLE_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include <jansson.h>

#include "bus.h"
#include "config.h"
#include "console_dbpool.h"
#include "console_http.h"
#include "console_keys.h"
#include "console_opts.h"
#include "db.h"
#include "jsonx.h"

typedef struct console console;
/* The live stream (console_live.h), which is a handler above this header. */
typedef struct console_live console_live;

struct console {
    config cfg;
    console_opts o;
    console_dbpool *pool;
    bus *bus;
    console_http *http;
    console_live *live;
    atomic_bool stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t bg;    /* leader: rollup, samples, alerts */
    pthread_t hooks; /* leader: event intake and deliveries */
    bool bg_started;
    bool hooks_started;
};

#define API_PARAMS_MAX 4

/* One request as a handler sees it. */
typedef struct api_req {
    console *c;
    const console_http_req *http;
    console_identity who;
    const char *path[API_PARAMS_MAX]; /* the pattern's {...} segments */
} api_req;

/* Reply with status and a JSON body (json is stolen: freed here). */
void api_reply_json(console_http_reply *rep, int http, json_t *json);

/* Reply {"ok":true,"<name>":<doc>} where doc is JSON text from the
 * database. */
void api_reply_doc(console_http_reply *rep, const char *name, const char *doc);

/* Reply with an error: the HTTP status that goes with st, and the stable
 * code of docs/protocol.md. */
void api_reply_error(console_http_reply *rep, status st, const char *msg);

/* Reply with an HTTP-only error code (unauthorized, forbidden, ...). */
void api_reply_code(console_http_reply *rep, int http, const char *code,
                    const char *msg);

/* A NATS reply body from the dispatcher, passed on with its error code
 * mapped to the HTTP status (created: 201 for a new object). */
void api_reply_forward(console_http_reply *rep, const char *body, size_t len,
                       int ok_status);

/*
 * Check the query against the names allowed (NULL-terminated); an unknown
 * one gets 400 unknown_field naming the allowed ones. Returns false when
 * it replied.
 */
bool api_query_allowed(const api_req *a, const char *const *allowed,
                       console_http_reply *rep);

/* Query argument name as an integer in [lo, hi] into *out (def when
 * absent). Replies 400 and returns false when it is not. */
bool api_query_int(const api_req *a, const char *name, long lo, long hi,
                   long def, long *out, console_http_reply *rep);

/* Query argument as an identifier, or "" when absent. */
bool api_query_token(const api_req *a, const char *name, const char **out,
                     console_http_reply *rep);

/* Query argument as a month YYYY-MM into [from, to) timestamps (text,
 * ISO 8601), default the current month. */
bool api_query_month(const api_req *a, const char *name, char from[48],
                     char to[48], console_http_reply *rep);

/* Run st with params on a pooled connection and reply its one doc column
 * as "<name>" (404 not_found with nf_msg when no row). */
void api_run_doc(const api_req *a, const db_stmt *st, const char *const *params,
                 const char *name, const char *nf_msg, console_http_reply *rep);

/* Borrow/return a database connection; on failure it replied 503. */
db *api_db(const api_req *a, console_http_reply *rep);
void api_db_put(const api_req *a, db *d, status last);

/* Handlers. */
void ops_pools(const api_req *a, console_http_reply *rep);
void ops_pool_settings(const api_req *a, console_http_reply *rep);
void ops_workers(const api_req *a, console_http_reply *rep);
void ops_worker(const api_req *a, console_http_reply *rep);
void ops_skills(const api_req *a, console_http_reply *rep);
void ops_presence(const api_req *a, console_http_reply *rep);
void ops_tasks(const api_req *a, console_http_reply *rep);
void ops_task_priority(const api_req *a, console_http_reply *rep);
void ops_case(const api_req *a, console_http_reply *rep);
void ops_queues(const api_req *a, console_http_reply *rep);
void ops_fairness(const api_req *a, console_http_reply *rep);
void ops_ai_review(const api_req *a, console_http_reply *rep);
void ops_billing(const api_req *a, console_http_reply *rep);
void ops_invoices(const api_req *a, console_http_reply *rep);
void ops_statement(const api_req *a, console_http_reply *rep);
void ops_intervals(const api_req *a, console_http_reply *rep);
void ops_forecast(const api_req *a, console_http_reply *rep);
void ops_alerts(const api_req *a, console_http_reply *rep);
void ops_audit(const api_req *a, console_http_reply *rep);
void ops_stream(const api_req *a, console_http_reply *rep);
void ops_worker_deactivate(const api_req *a, console_http_reply *rep);
void ops_worker_activate(const api_req *a, console_http_reply *rep);
void ops_worker_logout(const api_req *a, console_http_reply *rep);
void ops_worker_skills(const api_req *a, console_http_reply *rep);
void ops_worker_pool(const api_req *a, console_http_reply *rep);
void ops_task_reassign(const api_req *a, console_http_reply *rep);
void ops_task_cancel(const api_req *a, console_http_reply *rep);
void ops_callups(const api_req *a, console_http_reply *rep);
void hook_get(const api_req *a, console_http_reply *rep);
void hook_put(const api_req *a, console_http_reply *rep);
void hook_delete(const api_req *a, console_http_reply *rep);
void hook_deliveries(const api_req *a, console_http_reply *rep);
void bank_submit(const api_req *a, console_http_reply *rep);
void bank_get(const api_req *a, console_http_reply *rep);
void bank_find(const api_req *a, console_http_reply *rep);
void bank_dispute(const api_req *a, console_http_reply *rep);

/* Dispatch one request (console_api.c). */
void console_api_handle(void *ctx, const console_http_req *req,
                        console_http_reply *rep);

#endif
