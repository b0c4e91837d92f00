/* twinline-dispatcher: serves banks and workers over NATS. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dispatcher.h"
#include "ids.h"
#include "log.h"

static dispatcher *the_dispatcher;
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void *watch_signals(void *arg)
{
    (void)arg;
    while (!stop_requested)
        usleep(50000);
    dispatcher_stop(the_dispatcher);
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: twinline-dispatcher [options]\n"
            "\n"
            "Serves the bank API and the worker protocol over NATS, routes\n"
            "tasks to workers and keeps all state in PostgreSQL.\n"
            "See docs/protocol.md.\n"
            "\n"
            "options:\n"
            "%s"
            "  --lease-ms N          heartbeat silence before a worker is "
            "offline (10000)\n"
            "  --offer-timeout-ms N  time a worker has to answer an offer "
            "(15000)\n"
            "  --batch N             messages handled per transaction (256)\n"
            "  --stream-mb N         storage limit of the event stream in MiB "
            "(1024)\n"
            "  --stats-ms N          live figures on <prefix>.stats.dispatcher "
            "every N ms (5000; 0: off)\n"
            "  --no-affinity         ignore case affinity (A/B comparisons)\n"
            "  --batch-match N       assign as a batch (exact optimum) when N "
            "or more\n"
            "                        tasks and free workers wait (0: off)\n"
            "  --no-assist           AI-assisted skill levels never count "
            "(A/B comparisons)\n"
            "  --nats-log FILE       follow nats-server's log for every "
            "client's permission\n"
            "                        violations (env TL_NATS_LOG; "
            "docs/security.md)\n"
            "quotas of each tenant (0: none; docs/security.md, "
            "\"Quotas\"):\n"
            "  --quota-rate N        requests per second (env "
            "TL_QUOTA_RATE, 500)\n"
            "  --quota-burst N       requests at once (env TL_QUOTA_BURST, "
            "1000)\n"
            "  --quota-open N        requests open at once (env "
            "TL_QUOTA_OPEN, 1000)\n"
            "  --client-rate N, --client-burst N, --client-open N\n"
            "                        the same per client identity of a "
            "tenant (env\n"
            "                        TL_CLIENT_QUOTA_RATE, _BURST, _OPEN; "
            "0: none)\n"
            "  --master-key-file F   the master key that seals customer data "
            "(default:\n"
            "                        $TL_MASTER_KEY_FILE, else $TL_MASTER_KEY; "
            "docs/security.md)\n"
            "  --id ID               this dispatcher's id among several "
            "(<host>-<pid>)\n"
            "  --ha-lease-ms N       lease of a partition; a standby takes "
            "over within\n"
            "                        about this of the owner's death (3000)\n"
            "  --max-handle-ms N     an accepted task not completed by then "
            "goes back\n"
            "                        to the queue (1800000; 0: never)\n"
            "  -h, --help            this text\n",
            config_flags_help);
}

static int int_flag(const char *name, const char *v, int lo, int hi, int *out)
{
    char *end = NULL;
    long n = v != NULL ? strtol(v, &end, 10) : 0;

    if (v == NULL || *end != '\0' || n < lo || n > hi) {
        fprintf(stderr,
                "twinline-dispatcher: %s must be an integer from %d "
                "to %d\n",
                name, lo, hi);
        return -1;
    }
    *out = (int)n;
    return 0;
}

/* The quota flags and the environment variables that set them first. */
typedef struct quota_setting {
    const char *flag;
    const char *env;
    int *value;
} quota_setting;

#define QUOTA_MAX 1000000

/* Apply the environment's quota settings; -1 on a bad value. */
static int quota_env(const quota_setting *q, int n)
{
    for (int i = 0; i < n; i++) {
        const char *v = getenv(q[i].env);

        if (v != NULL && *v != '\0' &&
            int_flag(q[i].env, v, 0, QUOTA_MAX, q[i].value) != 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    config cfg;
    dispatcher_opts o;
    err e = {0};
    pthread_t watcher;
    struct sigaction sa;

    config_from_env(&cfg);
    dispatcher_opts_default(&o);
    if (getenv("TL_NATS_LOG") != NULL && getenv("TL_NATS_LOG")[0] != '\0')
        o.nats_log = getenv("TL_NATS_LOG");
    const quota_setting quotas[] = {
        {"--quota-rate", "TL_QUOTA_RATE", &o.quota_rate},
        {"--quota-burst", "TL_QUOTA_BURST", &o.quota_burst},
        {"--quota-open", "TL_QUOTA_OPEN", &o.quota_open},
        {"--client-rate", "TL_CLIENT_QUOTA_RATE", &o.client_rate},
        {"--client-burst", "TL_CLIENT_QUOTA_BURST", &o.client_burst},
        {"--client-open", "TL_CLIENT_QUOTA_OPEN", &o.client_open},
    };
    const int nquotas = (int)(sizeof(quotas) / sizeof(quotas[0]));

    if (quota_env(quotas, nquotas) != 0)
        return 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int q = 0;

        while (q < nquotas && strcmp(a, quotas[q].flag) != 0)
            q++;
        if (q < nquotas) {
            if (int_flag(a, v, 0, QUOTA_MAX, quotas[q].value) != 0)
                return 2;
            i++;
            continue;
        }
        if (config_take_flag(&cfg, argc, argv, &i, &e)) {
            if (e.code != ST_OK) {
                fprintf(stderr, "twinline-dispatcher: %s\n", e.msg);
                return 2;
            }
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--lease-ms") == 0) {
            if (int_flag(a, v, 500, 3600000, &o.lease_ms) != 0)
                return 2;
            i++;
        } else if (strcmp(a, "--offer-timeout-ms") == 0) {
            if (int_flag(a, v, 100, 3600000, &o.offer_timeout_ms) != 0)
                return 2;
            i++;
        } else if (strcmp(a, "--stream-mb") == 0) {
            int mb;
            if (int_flag(a, v, 1, 1024 * 1024, &mb) != 0)
                return 2;
            o.stream_max_bytes = (long long)mb * 1024 * 1024;
            i++;
        } else if (strcmp(a, "--batch-match") == 0) {
            if (int_flag(a, v, 0, 1000, &o.batch_match_min) != 0)
                return 2;
            i++;
        } else if (strcmp(a, "--no-affinity") == 0) {
            o.no_affinity = true;
        } else if (strcmp(a, "--no-assist") == 0) {
            o.no_assist = true;
        } else if (strcmp(a, "--stats-ms") == 0) {
            if (int_flag(a, v, 0, 3600000, &o.stats_ms) != 0)
                return 2;
            i++;
        } else if (strcmp(a, "--nats-log") == 0) {
            if (v == NULL) {
                fprintf(stderr, "twinline-dispatcher: --nats-log needs a "
                                "file\n");
                return 2;
            }
            o.nats_log = v;
            i++;
        } else if (strcmp(a, "--master-key-file") == 0) {
            if (v == NULL || strlen(v) >= sizeof(o.master_key_file)) {
                fprintf(stderr,
                        "twinline-dispatcher: --master-key-file needs a "
                        "path of at most %zu bytes\n",
                        sizeof(o.master_key_file) - 1);
                return 2;
            }
            snprintf(o.master_key_file, sizeof(o.master_key_file), "%s", v);
            i++;
        } else if (strcmp(a, "--id") == 0) {
            if (v == NULL || !ids_token_valid(v)) {
                fprintf(stderr,
                        "twinline-dispatcher: --id must be 1 to %d "
                        "characters of A-Z a-z 0-9 _ -\n",
                        ID_MAX);
                return 2;
            }
            snprintf(o.member, sizeof(o.member), "%s", v);
            i++;
        } else if (strcmp(a, "--ha-lease-ms") == 0) {
            if (int_flag(a, v, 600, 600000, &o.ha_lease_ms) != 0)
                return 2;
            i++;
        } else if (strcmp(a, "--max-handle-ms") == 0) {
            if (int_flag(a, v, 0, 86400000, &o.handle_max_ms) != 0)
                return 2;
            i++;
        } else if (strcmp(a, "--batch") == 0) {
            if (int_flag(a, v, 1, 10000, &o.batch_max) != 0)
                return 2;
            i++;
        } else {
            fprintf(stderr, "twinline-dispatcher: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* Started while PostgreSQL or NATS is down (a machine booting, a
     * failover): wait for them rather than exit. */
    for (int tries = 0;; tries++) {
        err_clear(&e);
        if (dispatcher_create(&the_dispatcher, &cfg, &o, &e) == ST_OK)
            break;
        /* A JetStream cluster still electing its leaders times the
         * stream's creation out (ST_TIMEOUT, ST_BUS): also worth a wait. */
        if ((e.code != ST_UNAVAILABLE && e.code != ST_TIMEOUT &&
             e.code != ST_BUS) ||
            stop_requested) {
            log_error("dispatcher", "%s", e.msg);
            return 1;
        }
        if (tries % 10 == 0)
            log_warn("dispatcher",
                     "waiting for PostgreSQL, NATS and JetStream (retrying "
                     "every "
                     "second): %s",
                     e.msg);
        sleep(1);
    }
    pthread_create(&watcher, NULL, watch_signals, NULL);
    if (dispatcher_run(the_dispatcher, &e) != ST_OK)
        log_error("dispatcher", "%s", e.msg);
    stop_requested = 1;
    pthread_join(watcher, NULL);
    dispatcher_destroy(the_dispatcher);
    return e.code == ST_OK ? 0 : 1;
}
