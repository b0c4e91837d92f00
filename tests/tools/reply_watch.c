/*
 * tl_reply_watch: the fault drill's record of every reply. Subscribes to
 * the reply inboxes (_INBOX.>, every request's own subject) and writes one
 * line per message to stdout: its subject, its length and a hash of its
 * body. A request answered twice with different answers shows as one
 * subject with two hashes (scripts/faults.sh counts them). Runs until
 * SIGTERM or SIGINT; reconnects as every program does.
 *
 *   tl_reply_watch [--nats URLS] [--subject S]
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "config.h"
#include "log.h"

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

static void on_reply(void *ctx, bus_msg *m)
{
    (void)ctx;
    /* JetStream delivers a stream's messages to a fetch's inbox under
     * their own subject: events, not replies. */
    if (strncmp(bus_msg_subject(m), "_INBOX.", 7) != 0) {
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
    const char *subject = "_INBOX.>";
    config cfg;
    bus *b = NULL;
    err e = {0};
    struct sigaction sa;

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
            fprintf(stderr, "usage: tl_reply_watch [--nats URLS] "
                            "[--subject S]\n");
            return 2;
        }
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    while (bus_connect(&b, cfg.nats, "tl-reply-watch", &e) != ST_OK) {
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
