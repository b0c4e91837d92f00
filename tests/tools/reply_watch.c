/*
 * tl_reply_watch: the fault drill's record of every reply. Writes one line
 * per reply to stdout: its subject, its length and a hash of its body. A
 * request answered twice with different answers shows as one subject with
 * two hashes (scripts/faults.sh counts them). Runs until SIGTERM or
 * SIGINT; reconnects as every program does.
 *
 *   tl_reply_watch --make-creds FILE
 *   tl_reply_watch [--nats URLS] [--creds FILE] [--subject S]
 *
 * The replies go to every identity's own inbox prefix (_INBOX_<identity>.,
 * docs/security.md) and to cnats's default _INBOX. of a client without
 * one. NATS wildcards are whole tokens, so no subject names all of those
 * prefixes: it subscribes to ">" and keeps the subjects whose first token
 * is _INBOX or begins with _INBOX_. That is everything on the server, so
 * the watcher is an identity of the drill's own server only: --make-creds
 * writes its credentials (mode 0600) and prints its user for nats-server,
 * allowed to subscribe and to publish nothing, which the drill adds to the
 * generated authorization through TL_NATS_AUTH_EXTRA (docs/ha.md).
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "config.h"
#include "log.h"
#include "nkey.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* FNV-1a, 64 bits: enough to tell two different replies apart. */
static unsigned long long hash(const char *p, size_t n)
{
    unsigned long long h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return h;
}

/* A reply inbox: the first token is _INBOX or _INBOX_<identity>. */
static bool is_reply(const char *subject)
{
    return strncmp(subject, "_INBOX", 6) == 0 &&
           (subject[6] == '.' || (subject[6] == '_' && subject[7] != '.' &&
                                  strchr(subject, '.') != NULL));
}

/* The watcher's identity: its credentials in path, its user on stdout. */
static int make_creds(const char *path)
{
    nkey *k = NULL;
    err e = {0};

    if (nkey_generate(&k, &e) != ST_OK ||
        nkey_creds_write(path, k, "reply-watch", "observer", "-", &e) !=
            ST_OK) {
        fprintf(stderr, "tl_reply_watch: %s\n", e.msg);
        nkey_destroy(k);
        return 1;
    }
    printf("# The fault drill's reply watcher (tests/tools/reply_watch.c): "
           "subscribes, publishes nothing.\n"
           "{ nkey: \"%s\", permissions: { publish: { deny: [\">\"] }, "
           "subscribe: { allow: [\">\"] } } }\n",
           nkey_public(k));
    nkey_destroy(k);
    return 0;
}

static void on_reply(void *ctx, bus_msg *m)
{
    (void)ctx;
    /* JetStream delivers a stream's messages to a fetch's inbox under
     * their own subject: events, not replies. */
    if (!is_reply(bus_msg_subject(m))) {
        bus_msg_free(m);
        return;
    }
    /* One write per line: stdio's lock keeps lines whole across cnats's
     * threads. */
    printf("%s\t%zu\t%016llx\n", bus_msg_subject(m), bus_msg_len(m),
           hash(bus_msg_data(m), bus_msg_len(m)));
    fflush(stdout);
    bus_msg_free(m);
}

int main(int argc, char **argv)
{
    const char *subject = ">";
    config cfg;
    bus_opts o;
    bus *b = NULL;
    err e = {0};
    struct sigaction sa;

    if (argc == 3 && strcmp(argv[1], "--make-creds") == 0)
        return make_creds(argv[2]);
    config_from_env(&cfg);
    for (int i = 1; i < argc; i++) {
        if (config_take_flag(&cfg, argc, argv, &i, &e)) {
            if (e.code != ST_OK) {
                fprintf(stderr, "tl_reply_watch: %s\n", e.msg);
                return 2;
            }
        } else if (strcmp(argv[i], "--subject") == 0 && i + 1 < argc) {
            subject = argv[++i];
        } else {
            fprintf(stderr, "usage: tl_reply_watch --make-creds FILE\n"
                            "       tl_reply_watch [--nats URLS] "
                            "[--creds FILE] [--subject S]\n");
            return 2;
        }
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    config_bus_opts(&cfg, "tl-reply-watch", &o);
    while (bus_connect_opts(&b, &o, &e) != ST_OK) {
        if (stop)
            return 1;
        log_warn("reply_watch", "waiting for NATS: %s", e.msg);
        sleep(1);
    }
    if (bus_subscribe(b, subject, NULL, on_reply, NULL, &e) != ST_OK ||
        bus_flush(b, 2000, &e) != ST_OK) {
        log_error("reply_watch", "%s", e.msg);
        bus_close(b);
        return 1;
    }
    while (!stop)
        usleep(100000);
    bus_close(b);
    return 0;
}
