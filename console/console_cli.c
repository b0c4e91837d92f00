#include "console_cli.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "console.h"
#include "console_keys.h"
#include "db.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void *watch_signals(void *arg)
{
    while (!stop_requested)
        usleep(50000);
    console_stop(arg);
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: twinline-console [options] [serve]\n"
            "       twinline-console [options] key create (--operator ID | "
            "--tenant ID) [--name TEXT]\n"
            "       twinline-console [options] key list\n"
            "       twinline-console [options] key revoke KEY_ID\n"
            "\n"
            "Serves the operators' dashboard and the HTTP API of operators "
            "and banks\n"
            "(docs/http.md). A key is printed once, when it is created; "
            "only its hash\n"
            "is kept.\n"
            "\n"
            "Options:\n"
            "%s"
            "  --listen ADDR:PORT    where to listen (default "
            "127.0.0.1:8080; port 0: any)\n"
            "  --port-file FILE      write the port listened on to FILE\n"
            "  --db-conns N          database connections for requests "
            "(default 6)\n"
            "  --sample-ms N         presence samples every N ms (default "
            "5000)\n"
            "  --rollup-ms N         rollup and alert checks every N ms "
            "(default 5000)\n"
            "  --settle-s N          roll an interval up N s after it closed "
            "(default 60)\n"
            "  --silent-s N          a worker silent N s is not responding "
            "(default 6)\n"
            "  --hook-base-ms N      first webhook retry after N ms, doubling "
            "(default 1000)\n"
            "  --callup-ms N         elastic call-up rounds every N ms "
            "(default 5000; 0: off)\n"
            "  --callup-window-s N   arrival rate over the last N s "
            "(default 900)\n"
            "  --callup-hold-s N     release a called-up worker after N s "
            "of surplus\n"
            "                        (default 120)\n"
            "  --no-background       serve only: no rollup, samples, alerts, "
            "webhooks\n"
            "                        or call-ups\n"
            "  -h, --help            this text\n",
            config_flags_help);
}

static bool int_flag(const char *name, const char *v, int lo, int hi, int *out,
                     FILE *errs)
{
    char *end = NULL;
    long x = v != NULL ? strtol(v, &end, 10) : 0;

    if (v == NULL || *v == '\0' || *end != '\0' || x < lo || x > hi) {
        fprintf(errs, "twinline-console: %s needs a number from %d to %d\n",
                name, lo, hi);
        return false;
    }
    *out = (int)x;
    return true;
}

static int cmd_serve(const config *cfg, const console_opts *o,
                     const char *port_file, FILE *out, FILE *errs)
{
    console *c = NULL;
    pthread_t watcher;
    struct sigaction sa;
    err e = {0};

    /* Started while PostgreSQL or NATS is down: wait for them rather
     * than exit (SIGINT or SIGTERM still ends the wait). */
    for (int tries = 0;; tries++) {
        err_clear(&e);
        if (console_create(&c, cfg, o, &e) == ST_OK)
            break;
        if (e.code != ST_UNAVAILABLE) {
            fprintf(errs, "twinline-console: %s\n", e.msg);
            return 1;
        }
        if (tries % 10 == 0) {
            fprintf(errs,
                    "twinline-console: waiting for PostgreSQL and NATS "
                    "(retrying every second): %s\n",
                    e.msg);
            fflush(errs);
        }
        sleep(1);
    }
    if (port_file != NULL) {
        FILE *f = fopen(port_file, "w");

        if (f == NULL) {
            fprintf(errs, "twinline-console: cannot write %s\n", port_file);
            console_destroy(c);
            return 1;
        }
        fprintf(f, "%d\n", console_port(c));
        fclose(f);
    }
    fprintf(out, "twinline-console: dashboard on http://%s:%d/\n", o->listen,
            console_port(c));
    fflush(out);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    pthread_create(&watcher, NULL, watch_signals, c);
    console_run(c);
    stop_requested = 1;
    pthread_join(watcher, NULL);
    console_destroy(c);
    return 0;
}

static int cmd_key(const config *cfg, int argc, char **argv, int i, FILE *out,
                   FILE *errs)
{
    const char *verb = i < argc ? argv[i++] : NULL;
    db *d = NULL;
    err e = {0};
    status st;
    int rc = 1;

    if (verb == NULL ||
        (strcmp(verb, "create") != 0 && strcmp(verb, "list") != 0 &&
         strcmp(verb, "revoke") != 0)) {
        fprintf(errs, "twinline-console: key needs create, list or revoke\n");
        return 2;
    }
    if (strcmp(verb, "create") == 0) {
        const char *op = NULL, *tenant = NULL, *name = NULL;

        for (; i < argc; i++) {
            const char **slot = strcmp(argv[i], "--operator") == 0 ? &op
                                : strcmp(argv[i], "--tenant") == 0 ? &tenant
                                : strcmp(argv[i], "--name") == 0   ? &name
                                                                   : NULL;

            if (slot == NULL || i + 1 >= argc) {
                fprintf(errs,
                        "twinline-console: key create takes --operator ID or "
                        "--tenant ID, and --name TEXT (\"%s\" is not one)\n",
                        argv[i]);
                return 2;
            }
            *slot = argv[++i];
        }
        if ((op == NULL) == (tenant == NULL)) {
            fprintf(errs, "twinline-console: key create needs exactly one of "
                          "--operator ID and --tenant ID\n");
            return 2;
        }
        if (db_connect(&d, cfg->db, &e) != ST_OK)
            goto fail;
        {
            char key[CONSOLE_KEY_MAX];
            console_key_kind k =
                op != NULL ? CONSOLE_KEY_OPERATOR : CONSOLE_KEY_TENANT;
            const char *owner = op != NULL ? op : tenant;

            st = console_keys_create(d, k, owner, name != NULL ? name : owner,
                                     key, &e);
            if (st != ST_OK)
                goto fail;
            fprintf(out, "%s\n", key);
            fprintf(errs,
                    "twinline-console: key for %s %s created; it is shown "
                    "only now, store it (send it as \"Authorization: Bearer "
                    "<key>\")\n",
                    console_key_kind_name(k), owner);
            memset(key, 0, sizeof(key));
        }
        rc = 0;
        goto done;
    }
    if (strcmp(verb, "list") == 0) {
        if (i != argc) {
            fprintf(errs, "twinline-console: key list takes no arguments\n");
            return 2;
        }
        if (db_connect(&d, cfg->db, &e) != ST_OK ||
            console_keys_list(d, out, &e) != ST_OK)
            goto fail;
        rc = 0;
        goto done;
    }
    if (i + 1 != argc) {
        fprintf(errs, "twinline-console: key revoke takes one KEY_ID (the "
                      "ID column of key list)\n");
        return 2;
    }
    if (db_connect(&d, cfg->db, &e) != ST_OK ||
        console_keys_revoke(d, argv[i], &e) != ST_OK)
        goto fail;
    fprintf(out, "revoked %s\n", argv[i]);
    rc = 0;
    goto done;
fail:
    fprintf(errs, "twinline-console: %s\n", e.msg);
done:
    db_close(d);
    return rc;
}

int console_cli_main(int argc, char **argv, FILE *out, FILE *errs)
{
    config cfg;
    console_opts o;
    const char *port_file = NULL;
    err e = {0};
    int i = 1;

    config_from_env(&cfg);
    console_opts_default(&o);
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int *target = NULL;
        int lo = 1, hi = 3600000;

        if (a[0] != '-')
            break;
        if (config_take_flag(&cfg, argc, argv, &i, &e)) {
            if (e.code != ST_OK) {
                fprintf(errs, "twinline-console: %s\n", e.msg);
                return 2;
            }
            continue;
        }
        if (e.code != ST_OK) {
            fprintf(errs, "twinline-console: %s\n", e.msg);
            return 2;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(out);
            return 0;
        }
        if (strcmp(a, "--no-background") == 0) {
            o.background = false;
            continue;
        }
        if (strcmp(a, "--listen") == 0) {
            const char *colon = v != NULL ? strrchr(v, ':') : NULL;
            int port;

            if (colon == NULL || (size_t)(colon - v) >= sizeof(o.listen) ||
                !int_flag("--listen's port", colon + 1, 0, 65535, &port,
                          errs)) {
                fprintf(errs, "twinline-console: --listen takes ADDR:PORT, "
                              "e.g. 127.0.0.1:8080\n");
                return 2;
            }
            memcpy(o.listen, v, (size_t)(colon - v));
            o.listen[colon - v] = '\0';
            o.port = port;
            i++;
            continue;
        }
        if (strcmp(a, "--port-file") == 0 && v != NULL) {
            port_file = v;
            i++;
            continue;
        }
        if (strcmp(a, "--db-conns") == 0) {
            target = &o.db_conns;
            hi = 32;
        } else if (strcmp(a, "--sample-ms") == 0) {
            target = &o.sample_ms;
            lo = 100;
        } else if (strcmp(a, "--rollup-ms") == 0) {
            target = &o.rollup_ms;
            lo = 100;
        } else if (strcmp(a, "--settle-s") == 0) {
            target = &o.settle_s;
            lo = 0;
        } else if (strcmp(a, "--silent-s") == 0) {
            target = &o.silent_s;
        } else if (strcmp(a, "--hook-base-ms") == 0) {
            target = &o.hook_base_ms;
        } else if (strcmp(a, "--callup-ms") == 0) {
            target = &o.callup_ms;
            lo = 0;
        } else if (strcmp(a, "--callup-window-s") == 0) {
            target = &o.callup_window_s;
            lo = 10;
            hi = 86400;
        } else if (strcmp(a, "--callup-hold-s") == 0) {
            target = &o.callup_hold_s;
            lo = 0;
            hi = 86400;
        }
        if (target == NULL) {
            fprintf(errs, "twinline-console: unknown option %s (see --help)\n",
                    a);
            return 2;
        }
        if (!int_flag(a, v, lo, hi, target, errs))
            return 2;
        i++;
    }
    if (i >= argc || strcmp(argv[i], "serve") == 0) {
        if (i < argc && i + 1 != argc) {
            fprintf(errs, "twinline-console: serve takes no arguments\n");
            return 2;
        }
        return cmd_serve(&cfg, &o, port_file, out, errs);
    }
    if (strcmp(argv[i], "key") == 0)
        return cmd_key(&cfg, argc, argv, i + 1, out, errs);
    fprintf(errs,
            "twinline-console: unknown command \"%s\"; commands: serve, "
            "key (see --help)\n",
            argv[i]);
    return 2;
}
