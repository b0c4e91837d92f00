#include "agent_model.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "jsonx.h"
#include "sbuf.h"

#define PASSAGE_TEXT_MAX 1500 /* bytes of one passage sent to the model */
#define URL_MAX          1024

struct agent_model {
    char url[URL_MAX + 1];
    char name[128];
    int timeout_ms;
    char *auth; /* "Authorization: Bearer <key>" in sodium memory, or NULL */
};

static const char system_prompt[] =
    "You assist a customer-service agent of a bank or an insurer. Write the "
    "reply the agent may say or send to the customer now, in the customer's "
    "language, using only the passages given. Cite every passage you rely "
    "on by its id in square brackets, like [P1]. Do not invent facts, "
    "amounts, dates or promises. If the passages do not cover the case, say "
    "so in one sentence. Answer with the reply only.";

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* The length of the longest prefix of s[0..n) that ends on a UTF-8
 * character boundary. */
static size_t utf8_cut(const char *s, size_t n)
{
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

static status read_key(agent_model *m, const char *path, err *e)
{
    static const char head[] = "Authorization: Bearer ";
    unsigned char *key = NULL;
    size_t n = 0;
    FILE *f = NULL;
    status st = ST_OK;
    int c;

    key = sodium_malloc(AGENT_MODEL_KEY_MAX + 1);
    m->auth = sodium_malloc(sizeof(head) + AGENT_MODEL_KEY_MAX);
    if (key == NULL || m->auth == NULL) {
        st = err_set(e, ST_NOMEM, "out of memory for the model key");
        goto out;
    }
    f = fopen(path, "r");
    if (f == NULL) {
        st = err_set(e, ST_CONFIG, "--model-key-file %s: %s", path,
                     strerror(errno));
        goto out;
    }
    while ((c = fgetc(f)) != EOF) {
        if (n == AGENT_MODEL_KEY_MAX) {
            st = err_set(e, ST_CONFIG,
                         "--model-key-file %s: longer than %d bytes", path,
                         AGENT_MODEL_KEY_MAX);
            goto out;
        }
        key[n++] = (unsigned char)c;
    }
    while (n > 0 && (key[n - 1] == '\n' || key[n - 1] == '\r' ||
                     key[n - 1] == ' ' || key[n - 1] == '\t'))
        n--;
    for (size_t i = 0; i < n; i++) {
        if (key[i] < 0x21 || key[i] > 0x7e) {
            st = err_set(e, ST_CONFIG,
                         "--model-key-file %s: the key must be one line of "
                         "printable ASCII",
                         path);
            goto out;
        }
    }
    if (n == 0) {
        st = err_set(e, ST_CONFIG, "--model-key-file %s is empty", path);
        goto out;
    }
    memcpy(m->auth, head, sizeof(head) - 1);
    memcpy(m->auth + sizeof(head) - 1, key, n);
    m->auth[sizeof(head) - 1 + n] = '\0';
out:
    if (f != NULL)
        fclose(f);
    sodium_free(key); /* wipes */
    if (st != ST_OK) {
        sodium_free(m->auth);
        m->auth = NULL;
    }
    return st;
}

status agent_model_create(agent_model **out, const agent_model_opts *o, err *e)
{
    agent_model *m = NULL;
    status st = ST_OK;

    if (o->url == NULL || (strncmp(o->url, "http://", 7) != 0 &&
                           strncmp(o->url, "https://", 8) != 0))
        return err_set(e, ST_CONFIG,
                       "--model-url must start with http:// or https://");
    if (strlen(o->url) > URL_MAX)
        return err_set(e, ST_CONFIG, "--model-url is longer than %d bytes",
                       URL_MAX);
    if (o->name != NULL && strlen(o->name) >= sizeof(m->name))
        return err_set(e, ST_CONFIG, "--model-name is longer than %zu bytes",
                       sizeof(m->name) - 1);
    if (o->timeout_ms <= 0)
        return err_set(e, ST_CONFIG, "--model-timeout-ms must be positive");
    if (sodium_init() < 0)
        return err_set(e, ST_INTERNAL, "libsodium failed to initialise");
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return err_set(e, ST_INTERNAL, "libcurl failed to initialise: %s",
                       curl_easy_strerror(curl_init_rc));
    m = calloc(1, sizeof(*m));
    if (m == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    snprintf(m->url, sizeof(m->url), "%s", o->url);
    snprintf(m->name, sizeof(m->name), "%s", o->name != NULL ? o->name : "");
    m->timeout_ms = o->timeout_ms;
    if (o->key_file != NULL && (st = read_key(m, o->key_file, e)) != ST_OK)
        goto out;
    *out = m;
    m = NULL;
out:
    agent_model_destroy(m);
    return st;
}

void agent_model_destroy(agent_model *m)
{
    if (m == NULL)
        return;
    sodium_free(m->auth);
    free(m);
}

typedef struct members {
    sbuf *u;
    const assist_panel *p;
    int held;
} members;

/* A payload value, unless a prompt still withholds it: what the worker
 * may not say yet the model is not told, so it cannot suggest it. */
static void add_member(const char *key, const char *value, void *arg)
{
    members *m = arg;
    char path[ID_MAX + 16];

    snprintf(path, sizeof(path), "payload.%.64s", key);
    if (assist_prompts_withheld(&m->p->prompts, path, NULL)) {
        m->held++;
        return;
    }
    sbuf_printf(m->u, "- %s: %s\n", key, value);
}

status agent_model_request_build(agent_model_request *out, int64_t task_id,
                                 const assist_task *t, const assist_panel *p,
                                 err *e)
{
    sbuf u = {0};
    members mb = {&u, p, 0};
    assist_value lang;
    char *user = NULL, *sys = NULL;
    status st = ST_OK;

    assist_task_value(t, "customer.language", &lang);
    sbuf_printf(&u, "Case: %s, step %s, channel %s, customer language %s.\n",
                assist_task_case_type(t), assist_task_step(t),
                assist_task_channel(t)[0] != '\0' ? assist_task_channel(t)
                                                  : "unknown",
                lang.kind != ASSIST_VALUE_MISSING ? lang.s : "unknown");
    sbuf_printf(&u, "Case data:\n");
    assist_task_payload_each(t, add_member, &mb);
    if (mb.held > 0)
        sbuf_printf(&u,
                    "(%d value(s) are left out: the worker may not state "
                    "them yet.)\n",
                    mb.held);
    if (assist_task_history_count(t) > 0) {
        sbuf_printf(&u, "Earlier outcomes of the case:\n");
        for (int i = 0; i < assist_task_history_count(t); i++) {
            const assist_history_entry *h = assist_task_history(t, i);

            sbuf_printf(&u, "- step %s: %s\n", h->step, h->code);
        }
    }
    sbuf_printf(&u, "Passages:\n");
    for (int i = 0; i < p->npassages; i++) {
        const char *text = p->passages[i].passage->text;
        size_t n = strlen(text);

        if (n > PASSAGE_TEXT_MAX)
            n = utf8_cut(text, PASSAGE_TEXT_MAX);
        sbuf_printf(&u, "[P%d] %s\n", i + 1, p->passages[i].citation);
        sbuf_append(&u, text, n);
        sbuf_printf(&u, "\n\n");
    }
    sbuf_printf(&u, "Write the suggested reply, citing passages as [P1].");
    if (u.failed) {
        st = err_set(e, ST_NOMEM, "out of memory building the model prompt");
        goto out;
    }
    user = sbuf_take(&u);
    if (strlen(user) > AGENT_MODEL_PROMPT_MAX)
        user[utf8_cut(user, AGENT_MODEL_PROMPT_MAX)] = '\0';
    sys = strdup(system_prompt);
    if (sys == NULL) {
        st = err_set(e, ST_NOMEM, "out of memory building the model prompt");
        goto out;
    }
    out->task_id = task_id;
    out->system = sys;
    out->user = user;
    out->npassages = p->npassages;
    sys = NULL;
    user = NULL;
out:
    sbuf_free(&u);
    free(sys);
    free(user);
    return st;
}

void agent_model_request_free(agent_model_request *r)
{
    if (r == NULL)
        return;
    free(r->system);
    free(r->user);
    r->system = NULL;
    r->user = NULL;
}

static void fail(agent_model_result *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fail(agent_model_result *out, const char *fmt, ...)
{
    va_list ap;

    out->ok = false;
    out->reply[0] = '\0';
    out->ncited = 0;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
    va_end(ap);
}

/* Find the citations "[P<n>]" of the reply; false (with the reason) when
 * one names a passage that was not given. */
static bool find_citations(agent_model_result *out, int npassages)
{
    const char *s = out->reply;

    out->ncited = 0;
    while ((s = strstr(s, "[P")) != NULL) {
        long n = 0;
        int digits = 0;
        bool seen = false;

        s += 2;
        while (*s >= '0' && *s <= '9' && digits < 4) {
            n = n * 10 + (*s - '0');
            s++;
            digits++;
        }
        if (digits == 0 || *s != ']')
            continue;
        if (n < 1 || n > npassages) {
            fail(out,
                 "the model cited [P%ld], but only P1-P%d were given; "
                 "showing retrieval only",
                 n, npassages);
            return false;
        }
        for (int i = 0; i < out->ncited; i++)
            seen = seen || out->cited[i] == (int)n - 1;
        if (!seen && out->ncited < ASSIST_PANEL_K_MAX)
            out->cited[out->ncited++] = (int)n - 1;
    }
    return true;
}

void agent_model_parse(const char *body, size_t len, int npassages,
                       agent_model_result *out)
{
    json_t *o = NULL, *choices, *first, *msg, *error;
    const char *content;
    size_t n;
    err e = {0};

    out->ok = false;
    out->ncited = 0;
    if (jsonx_parse(body, len, AGENT_MODEL_RESPONSE_MAX, &o, &e) != ST_OK) {
        fail(out, "malformed reply from the model: %s", e.msg);
        goto out;
    }
    error = json_object_get(o, "error");
    if (error != NULL) {
        const char *m = jsonx_str(error, "message");

        fail(out, "the model endpoint reported an error: %.200s",
             m != NULL ? m : "(no message)");
        goto out;
    }
    choices = json_object_get(o, "choices");
    if (!json_is_array(choices) || json_array_size(choices) == 0) {
        fail(out, "malformed reply from the model: no choices");
        goto out;
    }
    first = json_array_get(choices, 0);
    msg = json_is_object(first) ? json_object_get(first, "message") : NULL;
    content = json_is_object(msg) ? jsonx_str(msg, "content") : NULL;
    if (content == NULL) {
        fail(out, "malformed reply from the model: choices[0].message.content "
                  "is not a string");
        goto out;
    }
    n = json_string_length(json_object_get(msg, "content"));
    if (n == 0 || strlen(content) != n) {
        fail(out, "malformed reply from the model: the suggestion is empty "
                  "or holds a NUL byte");
        goto out;
    }
    if (n > AGENT_MODEL_REPLY_MAX) {
        fail(out, "the model's suggestion is longer than %d bytes",
             AGENT_MODEL_REPLY_MAX);
        goto out;
    }
    memcpy(out->reply, content, n);
    out->reply[n] = '\0';
    /* The screen draws the text as it is: control characters other than
     * line breaks become spaces so a reply cannot steer the terminal. */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out->reply[i];

        if ((c < 0x20 && c != '\n') || c == 0x7f)
            out->reply[i] = ' ';
    }
    if (!find_citations(out, npassages))
        goto out;
    out->ok = true;
    out->reason[0] = '\0';
out:
    json_decref(o);
}

typedef struct body_buf {
    char *data;
    size_t len;
    bool too_large;
} body_buf;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
    body_buf *b = arg;
    size_t n = size * nmemb;

    if (b->len + n > AGENT_MODEL_RESPONSE_MAX) {
        b->too_large = true;
        return 0; /* aborts the transfer */
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    return n;
}

/* The request body: {"model":..., "messages":[system, user]}; NULL on
 * allocation failure. */
static char *request_body(const agent_model *m, const agent_model_request *rq)
{
    json_t *v;
    char *s;

    v = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}], s:f}", "model", m->name,
                  "messages", "role", "system", "content", rq->system, "role",
                  "user", "content", rq->user, "temperature", 0.2);
    if (v == NULL)
        return NULL;
    s = jsonx_dump(v);
    json_decref(v);
    return s;
}

void agent_model_suggest(agent_model *m, const agent_model_request *rq,
                         agent_model_result *out)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = NULL, *h;
    body_buf b = {0};
    int64_t start = clock_mono_us();
    char *req = NULL;
    CURL *c = NULL;
    CURLcode rc;
    long code = 0;

    memset(out, 0, sizeof(*out));
    out->task_id = rq->task_id;
    req = request_body(m, rq);
    b.data = malloc(AGENT_MODEL_RESPONSE_MAX);
    c = curl_easy_init();
    if (req == NULL || b.data == NULL || c == NULL) {
        fail(out, "out of memory calling the model");
        goto out;
    }
    headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (headers != NULL && m->auth != NULL) {
        h = curl_slist_append(headers, m->auth);
        if (h == NULL) {
            curl_slist_free_all(headers);
            headers = NULL;
        }
    }
    if (headers == NULL) {
        fail(out, "out of memory calling the model");
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_URL, m->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)m->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)m->timeout_ms);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(req));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    rc = curl_easy_perform(c);
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        fail(out,
             "the model did not answer within %d ms; showing retrieval "
             "only",
             m->timeout_ms);
        goto out;
    }
    if (b.too_large) {
        fail(out, "the model's reply is larger than %d bytes",
             AGENT_MODEL_RESPONSE_MAX);
        goto out;
    }
    if (rc != CURLE_OK) {
        fail(out, "the model endpoint could not be reached: %.200s",
             errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (code < 200 || code > 299) {
        fail(out,
             "the model endpoint answered HTTP %ld; showing retrieval "
             "only",
             code);
        goto out;
    }
    agent_model_parse(b.data, b.len, rq->npassages, out);
out:
    out->task_id = rq->task_id;
    out->elapsed_ms = (clock_mono_us() - start) / 1000;
    if (c != NULL)
        curl_easy_cleanup(c);
    /* curl copied the header strings; the copy of the key is wiped here
     * before the list is freed. */
    for (h = headers; h != NULL; h = h->next)
        sodium_memzero(h->data, strlen(h->data));
    curl_slist_free_all(headers);
    free(b.data);
    free(req);
}
