/*
 * An HTTP client for the console's tests (libcurl), in a header because
 * only the console's integration tests use it. Test code: failures abort
 * the test.
 */
#ifndef TL_CONSOLE_CLIENT_H
#define TL_CONSOLE_CLIENT_H

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tl_test.h"

typedef struct http_result {
    long status;
    char *body; /* NUL-terminated */
    size_t len;
    char ctype[128];
    char disposition[128];
} http_result;

static inline size_t client_write(char *p, size_t size, size_t n, void *ctx)
{
    http_result *r = ctx;
    size_t add = size * n;
    char *nb = realloc(r->body, r->len + add + 1);

    assert_non_null(nb);
    memcpy(nb + r->len, p, add);
    r->len += add;
    nb[r->len] = '\0';
    r->body = nb;
    return add;
}

static inline size_t client_header(char *p, size_t size, size_t n, void *ctx)
{
    http_result *r = ctx;
    size_t len = size * n;

    if (len > 14 && strncasecmp(p, "Content-Type: ", 14) == 0)
        snprintf(r->ctype, sizeof(r->ctype), "%.*s", (int)(len - 16), p + 14);
    if (len > 21 && strncasecmp(p, "Content-Disposition: ", 21) == 0)
        snprintf(r->disposition, sizeof(r->disposition), "%.*s",
                 (int)(len - 23), p + 21);
    return len;
}

/*
 * method path (with query) on 127.0.0.1:port with an optional key and
 * body. The caller frees r->body (http_result_free).
 */
static inline void http_call(int port, const char *method, const char *path,
                             const char *key, const char *body, http_result *r)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char url[1024], auth[256];
    CURLcode rc;

    memset(r, 0, sizeof(*r));
    assert_non_null(c);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (key != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
        h = curl_slist_append(h, auth);
    }
    if (body != NULL) {
        h = curl_slist_append(h, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, client_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, client_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fail_msg("%s %s: %s", method, path, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    if (r->body == NULL)
        r->body = strdup("");
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static inline void http_result_free(http_result *r)
{
    free(r->body);
    r->body = NULL;
}

/* method path, expecting status; the reply as JSON (caller decrefs). */
static inline json_t *http_json(int port, const char *method, const char *path,
                                const char *key, const char *body, long want)
{
    http_result r;
    json_error_t je;
    json_t *j;

    http_call(port, method, path, key, body, &r);
    if (r.status != want)
        fail_msg("%s %s: HTTP %ld, want %ld: %s", method, path, r.status, want,
                 r.body);
    j = json_loads(r.body, 0, &je);
    if (j == NULL)
        fail_msg("%s %s: not JSON: %s", method, path, r.body);
    http_result_free(&r);
    return j;
}

/* The error code of a reply ("" when none). */
static inline const char *reply_code(const json_t *j)
{
    const char *c =
        json_string_value(json_object_get(json_object_get(j, "error"), "code"));

    return c != NULL ? c : "";
}

/* Expect an error reply with HTTP status want and this code. */
static inline void http_expect_error(int port, const char *method,
                                     const char *path, const char *key,
                                     const char *body, long want,
                                     const char *code)
{
    json_t *j = http_json(port, method, path, key, body, want);

    if (strcmp(reply_code(j), code) != 0)
        fail_msg("%s %s: code \"%s\", want \"%s\"", method, path, reply_code(j),
                 code);
    assert_false(json_is_true(json_object_get(j, "ok")));
    assert_non_null(json_string_value(
        json_object_get(json_object_get(j, "error"), "message")));
    json_decref(j);
}

#endif
