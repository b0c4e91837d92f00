#include "many_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"

/* The largest bulk reply a client decodes (a reply the server can carry
 * is smaller: its max_payload, 1 MB in the shipped configurations). */
#define MANY_REPLY_MAX (16 * 1024 * 1024)

void many_list_release(many_list *l)
{
    for (int i = 0; l->text != NULL && i < l->n; i++)
        free(l->text[i]);
    free(l->text);
    free(l->len);
    l->text = NULL;
    l->len = NULL;
    l->n = 0;
}

/* The elements of array a as texts into *out. */
static status list_of(const json_t *a, many_list *out, err *e)
{
    many_list l = {0};
    size_t n = json_array_size(a);
    status s = ST_OK;

    l.text = calloc(n + 1, sizeof(char *));
    l.len = calloc(n + 1, sizeof(size_t));
    if (l.text == NULL || l.len == NULL)
        s = err_set(e, ST_NOMEM, "out of memory");
    for (size_t i = 0; s == ST_OK && i < n; i++) {
        l.text[i] =
            json_dumps(json_array_get(a, i), JSON_COMPACT | JSON_ENCODE_ANY);
        if (l.text[i] == NULL)
            s = err_set(e, ST_NOMEM, "out of memory");
        else
            l.len[i] = strlen(l.text[i]);
        l.n = (int)i + 1;
    }
    if (s != ST_OK) {
        many_list_release(&l);
        return s;
    }
    *out = l;
    return ST_OK;
}

status many_msg_split(const char *buf, size_t len, size_t max,
                      const char *member, int max_items, many_list *out, err *e)
{
    const jfield fields[1] = {{member, JF_ARRAY, true}};
    json_t *root = NULL;
    const json_t *a;
    size_t n;
    status s = jsonx_parse(buf, len, max, &root, e);

    if (s == ST_OK)
        s = jsonx_check(root, "request", fields, 1, e);
    if (s != ST_OK)
        goto out;
    a = json_object_get(root, member);
    n = json_array_size(a);
    if (n == 0)
        s = err_set(e, ST_INVALID, "request.%s is empty: send 1 to %d items",
                    member, max_items);
    else if (n > (size_t)max_items)
        s = err_set(e, ST_TOO_LARGE,
                    "request.%s has %zu items, more than the %d one request "
                    "may carry; nothing was done: send them in requests of "
                    "at most %d",
                    member, n, max_items, max_items);
    else
        s = list_of(a, out, e);
out:
    json_decref(root);
    return s;
}

/* "<head>" + texts joined by "," + "<tail>" into a new string. */
static status joined(const char *head, char *const *texts, int n,
                     const char *tail, char **out, size_t *len, err *e)
{
    size_t total = strlen(head) + strlen(tail) + 1, at;
    char *body;

    for (int i = 0; i < n; i++)
        total += strlen(texts[i]) + 1;
    body = malloc(total);
    if (body == NULL)
        return err_set(e, ST_NOMEM, "out of memory building a message");
    at = strlen(head);
    memcpy(body, head, at);
    for (int i = 0; i < n; i++) {
        size_t k = strlen(texts[i]);
        if (i > 0)
            body[at++] = ',';
        memcpy(body + at, texts[i], k);
        at += k;
    }
    memcpy(body + at, tail, strlen(tail) + 1);
    *out = body;
    *len = at + strlen(tail);
    return ST_OK;
}

status many_msg_encode(const char *member, char *const *items, int n,
                       char **out, size_t *len, err *e)
{
    char head[80];
    int k = snprintf(head, sizeof(head), "{\"%s\":[", member);

    if (k < 0 || (size_t)k >= sizeof(head))
        return err_set(e, ST_INVALID, "member name too long");
    for (int i = 0; i < n; i++) {
        json_t *v = json_loads(items[i], JSON_DECODE_ANY, NULL);
        json_decref(v);
        if (v == NULL)
            return err_set(e, ST_INVALID, "item %d is not JSON", i);
    }
    return joined(head, items, n, "]}", out, len, e);
}

status many_msg_reply(char *const *bodies, int n, char **out, size_t *len,
                      err *e)
{
    return joined("{\"ok\":true,\"results\":[", bodies, n, "]}", out, len, e);
}

status many_msg_reply_split(const char *buf, size_t len, bool *ok,
                            char code[48], char message[256], many_list *out,
                            err *e)
{
    json_t *root = NULL;
    const json_t *okv, *error, *results;
    const char *c, *m;
    status s;

    if (len == 0)
        return err_set(e, ST_UNAVAILABLE, "no dispatcher answers");
    s = jsonx_parse(buf, len, MANY_REPLY_MAX, &root, e);
    if (s != ST_OK)
        return s;
    okv = json_object_get(root, "ok");
    results = json_object_get(root, "results");
    if (!json_is_boolean(okv)) {
        s = err_set(e, ST_WRONG_TYPE, "reply.ok must be true or false");
        goto out;
    }
    *ok = json_is_true(okv);
    error = json_object_get(root, "error");
    c = jsonx_str(error, "code");
    m = jsonx_str(error, "message");
    snprintf(code, 48, "%s", *ok ? "" : c != NULL ? c : "internal");
    snprintf(message, 256, "%s", *ok || m == NULL ? "" : m);
    if (!*ok)
        goto out;
    if (!json_is_array(results)) {
        s = err_set(e, ST_WRONG_TYPE, "reply.results must be an array");
        goto out;
    }
    s = list_of(results, out, e);
out:
    json_decref(root);
    return s;
}
