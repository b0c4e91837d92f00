/*
 * The banks' endpoints: each is forwarded to the dispatcher's NATS API of
 * the key's tenant (<p>.api.<tenant>.case.*), so the HTTP API has exactly
 * the NATS API's checks, semantics and error codes; only the transport
 * and the tenant's identity (the key, not the subject) differ.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console_int.h"
#include "ids.h"

static const char *const no_query[] = {NULL};

/* Request <p>.api.<tenant>.case.<verb> with body; reply what the
 * dispatcher said. */
static void forward(const api_req *a, const char *verb, const char *body,
                    size_t len, int ok_status, console_http_reply *rep)
{
    char subject[200];
    bus_msg *m = NULL;
    err e = {0};
    status st;

    snprintf(subject, sizeof(subject), "%s.api.%s.case.%s", a->c->cfg.prefix,
             a->who.owner, verb);
    st = bus_request(a->c->bus, subject, body, len, a->c->o.request_timeout_ms,
                     &m, &e);
    if (st == ST_UNAVAILABLE)
        api_reply_error(rep, ST_UNAVAILABLE,
                        "the dispatcher is not running; retry later (every "
                        "request is safe to repeat)");
    else if (st == ST_TIMEOUT)
        api_reply_error(rep, ST_TIMEOUT,
                        "the dispatcher did not answer in time; retry (every "
                        "request is safe to repeat)");
    else if (st != ST_OK)
        api_reply_error(rep, st, e.msg);
    else
        api_reply_forward(rep, bus_msg_data(m), bus_msg_len(m), ok_status);
    bus_msg_free(m);
}

static void forward_json(const api_req *a, const char *verb, json_t *j,
                         int ok_status, console_http_reply *rep)
{
    char *body = jsonx_dump(j);

    if (body == NULL) {
        api_reply_error(rep, ST_NOMEM, "out of memory");
        return;
    }
    forward(a, verb, body, strlen(body), ok_status, rep);
    free(body);
}

void bank_submit(const api_req *a, console_http_reply *rep)
{
    size_t len;
    const char *body;

    if (!api_query_allowed(a, no_query, rep))
        return;
    body = console_http_body(a->http, &len);
    forward(a, "submit", body, len, 201, rep);
}

void bank_get(const api_req *a, console_http_reply *rep)
{
    int64_t id;
    json_t *j;

    if (!api_query_allowed(a, no_query, rep))
        return;
    if (!ids_parse_i64(a->path[0], &id)) {
        api_reply_error(rep, ST_INVALID,
                        "the case id in the path must be a positive integer; "
                        "find a case by your own id with "
                        "GET /api/v1/cases?external_id=...");
        return;
    }
    j = json_pack("{s:I}", "case_id", (json_int_t)id);
    forward_json(a, "get", j, 200, rep);
    json_decref(j);
}

void bank_find(const api_req *a, console_http_reply *rep)
{
    static const char *const allowed[] = {"external_id", NULL};
    const char *ext;
    json_t *j;

    if (!api_query_allowed(a, allowed, rep))
        return;
    ext = console_http_query(a->http, "external_id");
    if (ext == NULL) {
        api_reply_error(rep, ST_MISSING_FIELD,
                        "GET /api/v1/cases needs ?external_id=YOUR_ID");
        return;
    }
    j = json_pack("{s:s}", "external_id", ext);
    if (j == NULL) {
        api_reply_error(rep, ST_INVALID, "external_id is not valid UTF-8");
        return;
    }
    forward_json(a, "get", j, 200, rep);
    json_decref(j);
}

void bank_dispute(const api_req *a, console_http_reply *rep)
{
    /* The case is the one in the path; the body may carry only these. */
    static const jfield fields[] = {
        {"reason", JF_ANY, false},
        {"request_id", JF_ANY, false},
    };
    const char *path = console_http_path(a->http);
    const char *verb =
        strstr(path, "/complaint") != NULL ? "complaint" : "reopen";
    size_t len;
    const char *body = console_http_body(a->http, &len);
    int64_t id;
    json_t *j = NULL;
    err e = {0};
    status st;

    if (!api_query_allowed(a, no_query, rep))
        return;
    if (!ids_parse_i64(a->path[0], &id)) {
        api_reply_error(rep, ST_INVALID,
                        "the case id in the path must be a positive integer");
        return;
    }
    st = jsonx_parse(body, len, a->c->o.max_body, &j, &e);
    if (st == ST_OK)
        st = jsonx_check(j, "request", fields, 2, &e);
    if (st != ST_OK) {
        api_reply_error(rep, st, e.msg);
        json_decref(j);
        return;
    }
    json_object_set_new(j, "case_id", json_integer((json_int_t)id));
    forward_json(a, verb, j, 201, rep);
    json_decref(j);
}
