/* twinline-billing: bills each billable outcome once. See docs/billing.md. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "billing_service.h"
#include "log.h"

/*
 * SIGINT and SIGTERM are blocked in every thread (cnats starts its own) and
 * taken by this thread with sigwait, so stopping runs as ordinary code and
 * the service is never freed under a signal handler.
 */
static void *signal_waiter(void *arg)
{
    billing_service *svc = arg;
    sigset_t set;
    int sig = 0;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigwait(&set, &sig);
    billing_service_stop(svc);
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: twinline-billing [--db CONNINFO] [--nats URL] "
        "[--prefix TOKEN] [--batch N] [--sweep-ms N]\n"
        "                        [--verify-ms N] [--key-dir DIR] "
        "[--audit-key FILE]\n"
        "                        [--checkpoint-ms N]\n"
        "\n"
        "Consumes outcome events from the stream <PREFIX>_EVENTS "
        "(durable consumer \"billing\")\n"
        "and stores one billable line per billable outcome; a sweeper "
        "bills outcomes whose\n"
        "event was lost. SIGINT or SIGTERM stops it after the batch in "
        "hand.\n"
        "\n%s"
        "  --batch N         events per fetch and transaction, 1..%d "
        "(default 256)\n"
        "  --sweep-ms N      sweeper interval in ms, 100..3600000 "
        "(default 2000)\n"
        "  --verify-ms N     reopen/complaint, verification and credit-note "
        "pass interval\n"
        "                    in ms, 100..3600000 (default 1000)\n"
        "  --key-dir DIR     signing key for credit notes (env TL_KEY_DIR; "
        "none: credit\n"
        "                    notes are left to twinline invoice credit)\n"
        "  --audit-key FILE  sign audit checkpoints with this key (env "
        "TL_AUDIT_KEY;\n"
        "                    make it with twinline audit keygen; none: no "
        "checkpoints)\n"
        "  --checkpoint-ms N audit checkpoint interval in ms, 100..86400000\n"
        "                    (env TL_AUDIT_CHECKPOINT_MS, default 60000)\n"
        "  --help            show this text\n",
        config_flags_help, BILLING_BATCH_MAX);
}

/* Parse the value of --name N or --name=N into *out within [lo, hi]. */
static bool int_flag(int argc, char **argv, int *i, const char *name, int lo,
                     int hi, int *out, err *e)
{
    size_t n = strlen(name);
    const char *v;
    char *end = NULL;
    long x;

    if (strncmp(argv[*i], name, n) != 0 ||
        (argv[*i][n] != '\0' && argv[*i][n] != '='))
        return false;
    if (argv[*i][n] == '=') {
        v = argv[*i] + n + 1;
    } else if (*i + 1 < argc) {
        v = argv[++*i];
    } else {
        err_set(e, ST_CONFIG, "%s needs a value", name);
        return true;
    }
    x = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || x < lo || x > hi) {
        err_set(e, ST_CONFIG, "%s \"%s\" must be a number from %d to %d", name,
                v, lo, hi);
        return true;
    }
    *out = (int)x;
    return true;
}

int main(int argc, char **argv)
{
    billing_options opt;
    billing_service *svc = NULL;
    pthread_t waiter;
    bool waiting = false;
    sigset_t set;
    err e = {0};
    int rc = 1;

    billing_options_default(&opt);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (config_take_flag(&opt.cfg, argc, argv, &i, &e) ||
            int_flag(argc, argv, &i, "--batch", 1, BILLING_BATCH_MAX,
                     &opt.batch, &e) ||
            int_flag(argc, argv, &i, "--sweep-ms", 100, 3600000, &opt.sweep_ms,
                     &e) ||
            int_flag(argc, argv, &i, "--verify-ms", 100, 3600000,
                     &opt.verify_ms, &e) ||
            int_flag(argc, argv, &i, "--checkpoint-ms", 100, 86400000,
                     &opt.checkpoint_ms, &e)) {
            if (e.code != ST_OK) {
                fprintf(stderr, "twinline-billing: %s\n", e.msg);
                return 2;
            }
            continue;
        }
        if (strcmp(argv[i], "--key-dir") == 0 && i + 1 < argc) {
            snprintf(opt.key_dir, sizeof(opt.key_dir), "%s", argv[++i]);
            continue;
        }
        if (strcmp(argv[i], "--audit-key") == 0 && i + 1 < argc) {
            snprintf(opt.audit_key, sizeof(opt.audit_key), "%s", argv[++i]);
            continue;
        }
        fprintf(stderr,
                "twinline-billing: unknown argument \"%s\"; see --help\n",
                argv[i]);
        return 2;
    }
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    /* Started while PostgreSQL or NATS is down: wait for them (a signal
     * still stops the wait) rather than exit. */
    for (int tries = 0;; tries++) {
        struct timespec second = {1, 0};
        err_clear(&e);
        if (billing_service_create(&svc, &opt, &e) == ST_OK)
            break;
        if (e.code != ST_UNAVAILABLE && e.code != ST_TIMEOUT &&
            e.code != ST_BUS) {
            log_error("billing", "cannot start: %s", e.msg);
            goto out;
        }
        if (tries % 10 == 0)
            log_warn("billing",
                     "waiting for PostgreSQL, NATS and JetStream (retrying "
                     "every "
                     "second): %s",
                     e.msg);
        if (sigtimedwait(&set, NULL, &second) > 0)
            goto out;
    }
    if (pthread_create(&waiter, NULL, signal_waiter, svc) != 0) {
        log_error("billing", "cannot start the signal thread");
        goto out;
    }
    waiting = true;
    if (billing_service_run(svc, &e) != ST_OK) {
        log_error("billing", "%s", e.msg);
        goto out;
    }
    rc = 0;
out:
    if (waiting) {
        /* Wake the waiter if run ended without a signal; harmless if not. */
        pthread_kill(waiter, SIGTERM);
        pthread_join(waiter, NULL);
    }
    billing_service_destroy(svc);
    return rc;
}
