/*
 * The model client against a tiny chat-completions server that this test
 * runs itself (a thread with a listening socket on 127.0.0.1, port 0),
 * through the interactive console as the screen uses it: a good reply is
 * shown with its citations; a time-out, malformed JSON, an HTTP 500, an
 * error object and a citation of a passage that was not given each fall
 * back to retrieval with the reason on screen. No NATS or PostgreSQL.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent_console.h"
#include "agent_model.h"
#include "clock.h"
#include "tl_test.h"

#define KB(t)   TL_SOURCE_DIR "/examples/kb/" t
#define TASK(t) TL_SOURCE_DIR "/examples/tasks/" t

typedef enum mode { GOOD, SLOW, MALFORMED, HTTP500, ERROR_OBJ, BAD_CITE } mode;

typedef struct server {
    int fd;
    int port;
    pthread_t thread;
    pthread_mutex_t mu;
    mode mode;
    bool stop;
    char last[65536]; /* the last request, headers and body */
} server;

static const char good_reply[] =
    "{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,"
    "\"message\":{\"role\":\"assistant\",\"content\":\"王先生您好，本次通话"
    "会被录音 [P2]。请问您能否在本月内还款？[P1]\"},\"finish_reason\":"
    "\"stop\"}]}";

static void respond(int c, int code, const char *body)
{
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     code, strlen(body));

    send(c, head, (size_t)n, MSG_NOSIGNAL);
    send(c, body, strlen(body), MSG_NOSIGNAL);
}

/* Read one request: headers, then Content-Length bytes of body. */
static void read_request(int c, char *buf, size_t cap)
{
    size_t n = 0;
    char *end = NULL;
    long want = -1;

    while (n + 1 < cap) {
        ssize_t k = recv(c, buf + n, cap - 1 - n, 0);

        if (k <= 0)
            break;
        n += (size_t)k;
        buf[n] = '\0';
        if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL) {
            const char *cl = strcasestr(buf, "Content-Length:");

            want = cl != NULL ? strtol(cl + 15, NULL, 10) : 0;
        }
        if (end != NULL && (long)(n - (size_t)(end + 4 - buf)) >= want)
            break;
    }
    buf[n] = '\0';
}

static void *serve(void *arg)
{
    server *s = arg;
    static char req[65536];

    for (;;) {
        int c = accept(s->fd, NULL, NULL);
        mode m;

        if (c < 0)
            break;
        read_request(c, req, sizeof(req));
        pthread_mutex_lock(&s->mu);
        snprintf(s->last, sizeof(s->last), "%s", req);
        m = s->mode;
        if (s->stop) {
            pthread_mutex_unlock(&s->mu);
            close(c);
            break;
        }
        pthread_mutex_unlock(&s->mu);
        switch (m) {
        case GOOD:
            respond(c, 200, good_reply);
            break;
        case SLOW:
            clock_sleep_ms(1500);
            respond(c, 200, good_reply);
            break;
        case MALFORMED:
            respond(c, 200, "{\"choices\":[{\"message\":{\"content\":\"hi");
            break;
        case HTTP500:
            respond(c, 500, "{\"error\":{\"message\":\"boom\"}}");
            break;
        case ERROR_OBJ:
            respond(c, 200, "{\"error\":{\"message\":\"model overloaded\"}}");
            break;
        case BAD_CITE:
            respond(c, 200,
                    "{\"choices\":[{\"message\":{\"role\":\"assistant\","
                    "\"content\":\"Pay now [P9].\"}}]}");
            break;
        }
        close(c);
    }
    return NULL;
}

static void server_start(server *s)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int one = 1;

    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->fd >= 0);
    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->fd, 8), 0);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(server *s)
{
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_mutex_unlock(&s->mu);
    shutdown(s->fd, SHUT_RDWR);
    close(s->fd);
    pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->mu);
}

typedef struct world {
    server srv;
    assist_kb *kb;
    agent_model *model;
    agent_console *c;
    agent_time t;
    agent_view v;
    char key_path[128];
} world;

static void reply_to(world *w, const char *verb, const char *body, size_t len)
{
    agent_request r;

    assert_true(agent_console_next_request(w->c, &r));
    assert_string_equal(r.verb, verb);
    agent_console_reply(w->c, r.id, body, len, w->t);
}

/* A console with a model client, holding the example loan task. */
static void world_init(world *w, mode m)
{
    static const char offer[] =
        "{\"type\":\"offer\",\"reservation_id\":9001,\"epoch\":1,"
        "\"task_id\":101,\"case_id\":42,\"tenant\":\"jsbank\","
        "\"case_type\":\"loan_overdue\",\"step\":\"contact\","
        "\"channel\":\"voice\",\"timeout_ms\":15000,\"ready_at_us\":1,"
        "\"outcomes\":{\"no_contact\":{\"billable\":false,\"fields\":{}}}}";
    char url[128], task[65536];
    const assist_kb *kbs[1];
    agent_console_opts co;
    agent_model_opts mo;
    FILE *f;
    size_t n;
    err e = {0};

    memset(w, 0, sizeof(*w));
    server_start(&w->srv);
    w->srv.mode = m;
    snprintf(w->key_path, sizeof(w->key_path), "/tmp/tl-model-key-%d",
             (int)getpid());
    f = fopen(w->key_path, "w");
    assert_non_null(f);
    fputs("sk-test-123\n", f);
    fclose(f);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/chat/completions",
             w->srv.port);
    mo = (agent_model_opts){url, "tiny-1", w->key_path, 300};
    if (agent_model_create(&w->model, &mo, &e) != ST_OK)
        fail_msg("%s", e.msg);
    if (assist_kb_load(&w->kb, KB("jsbank"), &e) != ST_OK)
        fail_msg("%s", e.msg);
    kbs[0] = w->kb;
    agent_console_opts_init(&co);
    co.worker = "w007";
    co.kbs = kbs;
    co.nkbs = 1;
    co.model = true;
    co.model_name = "tiny-1";
    assert_int_equal(agent_console_create(&w->c, &co, &e), ST_OK);
    w->t = (agent_time){clock_mono_us(), 1795609800};
    agent_console_start(w->c, w->t);
    reply_to(w, "presence", "{\"ok\":true,\"presence\":\"available\"}", 35);
    agent_console_offer(w->c, offer, strlen(offer), w->t);
    agent_console_key(w->c, 'y', w->t);
    f = fopen(TASK("jsbank-loan-contact.json"), "r");
    assert_non_null(f);
    n = fread(task, 1, sizeof(task) - 1, f);
    fclose(f);
    reply_to(w, "accept", task, n);
    assert_int_equal(agent_console_mode_get(w->c), AGENT_MODE_TASK);
}

static void world_free(world *w)
{
    agent_view_free(&w->v);
    agent_console_destroy(w->c);
    agent_model_destroy(w->model);
    assist_kb_destroy(w->kb);
    server_stop(&w->srv);
    unlink(w->key_path);
}

/* Ask the model as the screen does; returns the result. */
static agent_model_result ask(world *w)
{
    agent_model_request rq;
    agent_model_result r;

    assert_true(agent_console_model_job(w->c, &rq));
    agent_model_suggest(w->model, &rq, &r);
    agent_console_model_result(w->c, &r);
    agent_model_request_free(&rq);
    return r;
}

static bool shows(world *w, const char *part)
{
    err e = {0};

    assert_int_equal(agent_console_view(w->c, w->t, &w->v, &e), ST_OK);
    for (int i = 0; i < w->v.n; i++)
        if (strstr(w->v.lines[i].text, part) != NULL)
            return true;
    return false;
}

static void test_good_reply_with_citations(void **state)
{
    world w;
    agent_model_result r;

    (void)state;
    world_init(&w, GOOD);
    r = ask(&w);
    assert_true(r.ok);
    assert_int_equal(r.ncited, 2);
    assert_int_equal(r.cited[0], 1);
    assert_int_equal(r.cited[1], 0);
    assert_true(shows(&w, "== Model suggestion (tiny-1,"));
    assert_true(shows(&w, "本次通话会被录音 [P2]"));
    assert_true(shows(&w, "[P2] = [2] "));
    assert_true(shows(&w, "[P1] = [1] "));
    assert_true(shows(&w, ".md § "));
    /* What the endpoint was sent. */
    assert_non_null(strstr(w.srv.last, "POST /v1/chat/completions"));
    assert_non_null(strstr(w.srv.last, "Authorization: Bearer sk-test-123"));
    assert_non_null(strstr(w.srv.last, "\"model\":\"tiny-1\""));
    assert_non_null(strstr(w.srv.last, "[P1] "));
    assert_non_null(strstr(w.srv.last, "loan_overdue"));
    assert_null(strstr(w.srv.last, "138 0000")); /* no contact data */
    world_free(&w);
}

static void fallback(mode m, const char *reason)
{
    world w;
    agent_model_result r;
    int64_t start = clock_mono_us();

    world_init(&w, m);
    r = ask(&w);
    assert_false(r.ok);
    if (strstr(r.reason, reason) == NULL)
        fail_msg("reason \"%s\" lacks \"%s\"", r.reason, reason);
    assert_true(shows(&w, "== Model (tiny-1): no suggestion:"));
    assert_true(shows(&w, reason));
    assert_true(shows(&w, "retrieval only"));
    /* The retrieval result is still there, citing knowledge files. */
    assert_true(shows(&w, "== Knowledge"));
    assert_true(shows(&w, ".md § "));
    /* The hard time-out holds (300 ms; generous bound for slow CI). */
    assert_true(clock_mono_us() - start < 1400 * 1000);
    world_free(&w);
}

static void test_timeout_falls_back(void **state)
{
    (void)state;
    fallback(SLOW, "did not answer within 300 ms");
}

static void test_malformed_falls_back(void **state)
{
    (void)state;
    fallback(MALFORMED, "malformed reply from the model");
}

static void test_http_500_falls_back(void **state)
{
    (void)state;
    fallback(HTTP500, "answered HTTP 500");
}

static void test_error_object_falls_back(void **state)
{
    (void)state;
    fallback(ERROR_OBJ, "model overloaded");
}

static void test_unknown_citation_falls_back(void **state)
{
    (void)state;
    fallback(BAD_CITE, "cited [P9]");
}

static void test_parse_strict(void **state)
{
    agent_model_result r;
    static const char *bad[] = {
        "[]",
        "{\"choices\":[]}",
        "{\"choices\":[{\"message\":{\"content\":42}}]}",
        "{\"choices\":[{\"message\":{\"content\":\"\"}}]}",
        "{\"choices\":[{\"text\":\"hi\"}]}",
        "{\"choices\":[{\"message\":{\"content\":\"a\\u0000b\"}}]}",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        agent_model_parse(bad[i], strlen(bad[i]), 3, &r);
        if (r.ok)
            fail_msg("accepted %s", bad[i]);
    }
    agent_model_parse(good_reply, strlen(good_reply), 2, &r);
    assert_true(r.ok);
    /* Control characters cannot reach the terminal. */
    {
        const char *esc = "{\"choices\":[{\"message\":{\"content\":"
                          "\"a\\u001b[2Jb [P1]\"}}]}";

        agent_model_parse(esc, strlen(esc), 1, &r);
    }
    assert_true(r.ok);
    assert_null(strchr(r.reply, 0x1b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_reply_with_citations),
        cmocka_unit_test(test_timeout_falls_back),
        cmocka_unit_test(test_malformed_falls_back),
        cmocka_unit_test(test_http_500_falls_back),
        cmocka_unit_test(test_error_object_falls_back),
        cmocka_unit_test(test_unknown_citation_falls_back),
        cmocka_unit_test(test_parse_strict),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
