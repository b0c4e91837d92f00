/*
 * suite_auth RUN_DIR URL: the test suite's identity on the nats-server
 * that scripts/services.sh started in RUN_DIR (scripts/test.sh runs it).
 *
 * The suite's server runs with authorization like every other, so an
 * anonymous client is refused there too; the ordinary integration tests
 * (a database and subject prefix each, many at once) all connect as one
 * identity, "suite", whose user has no permission block: it may use
 * every subject. It exists only on the test run's own server. The
 * confinement of the real identities is tested on servers of the tests'
 * own with the authorization twinline generates (itest_natsauth,
 * itest_attack).
 *
 * Writes RUN_DIR/creds/suite.creds (mode 0600) and RUN_DIR/auth.conf,
 * reloads the server (SIGHUP to the pid in RUN_DIR/nats.pid) and waits
 * until the suite's identity connects. Prints the credentials path.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus.h"
#include "clock.h"
#include "nkey.h"

static int fail(const char *what, const char *why)
{
    fprintf(stderr, "suite_auth: %s: %s\n", what, why);
    return 1;
}

int main(int argc, char **argv)
{
    char creds[600], auth[600], pidfile[600], dir[520], text[512];
    nkey *k = NULL;
    bus *b = NULL;
    bus_opts o;
    FILE *f;
    long pid = 0;
    err e = {0};
    status s = ST_UNAVAILABLE;

    if (argc != 3 || strlen(argv[1]) > 500)
        return fail("usage", "suite_auth RUN_DIR URL");
    snprintf(dir, sizeof(dir), "%s/creds", argv[1]);
    snprintf(creds, sizeof(creds), "%s/suite.creds", dir);
    snprintf(auth, sizeof(auth), "%s/auth.conf", argv[1]);
    snprintf(pidfile, sizeof(pidfile), "%s/nats.pid", argv[1]);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return fail(dir, strerror(errno));
    unlink(creds);
    if (nkey_generate(&k, &e) != ST_OK ||
        nkey_creds_write(creds, k, "suite", "suite", "-", &e) != ST_OK)
        return fail(creds, e.msg);
    snprintf(text, sizeof(text),
             "# The test suite's identity (tests/suite_auth.c): every "
             "subject.\nauthorization { users = [ { nkey: \"%s\" } ] }\n",
             nkey_public(k));
    nkey_destroy(k);
    f = fopen(auth, "w");
    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
        return fail(auth, strerror(errno));
    f = fopen(pidfile, "r");
    if (f == NULL || fscanf(f, "%ld", &pid) != 1 || pid <= 1)
        return fail(pidfile, "no nats-server pid");
    fclose(f);
    if (kill((pid_t)pid, SIGHUP) != 0)
        return fail("reload", strerror(errno));
    memset(&o, 0, sizeof(o));
    o.url = argv[2];
    o.name = "suite_auth";
    o.creds = creds;
    o.connect_timeout_ms = 1000;
    for (int i = 0; i < 100 && s != ST_OK; i++) {
        clock_sleep_ms(100);
        s = bus_connect_opts(&b, &o, &e);
    }
    if (s != ST_OK)
        return fail("the suite's identity cannot connect", e.msg);
    bus_close(b);
    printf("%s\n", creds);
    return 0;
}
