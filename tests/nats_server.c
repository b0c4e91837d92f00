#include "nats_server.h"

#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "tl_test.h"

static int free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static bool port_open(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    bool ok;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

void nats_server_dir(nats_server *s, const char *name)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->dir, sizeof(s->dir), "/tmp/%s_XXXXXX", name);
    if (mkdtemp(s->dir) == NULL)
        fail_msg("mkdtemp %s failed", s->dir);
    snprintf(s->log, sizeof(s->log), "%s/nats.log", s->dir);
    snprintf(s->pidfile, sizeof(s->pidfile), "%s/nats.pid", s->dir);
    snprintf(s->auth, sizeof(s->auth), "%s/auth.conf", s->dir);
}

void nats_server_start(nats_server *s)
{
    char conf[768], path[160];
    FILE *f;

    s->port = free_port();
    snprintf(s->url, sizeof(s->url), "%s://127.0.0.1:%d",
             s->tls ? "tls" : "nats", s->port);
    snprintf(conf, sizeof(conf),
             "listen: 127.0.0.1:%d\nmax_payload: 1MB\n"
             "jetstream {\n  store_dir: \"%s/js\"\n"
             "  max_memory_store: 64MB\n  max_file_store: 256MB\n}\n"
             "%s"
             "include \"auth.conf\"\n",
             s->port, s->dir,
             s->tls ? "tls {\n  cert_file: \"tls/server.pem\"\n"
                      "  key_file: \"tls/server.key\"\n  timeout: 2\n}\n"
                    : "");
    snprintf(path, sizeof(path), "%s/nats.conf", s->dir);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(conf, f) >= 0);
    assert_int_equal(fclose(f), 0);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        /* Stop with the test, even when it crashes. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || chdir(s->dir) != 0 ||
            freopen(s->log, "w", stdout) == NULL || dup2(fileno(stdout), 2) < 0)
            _exit(127);
        execlp("nats-server", "nats-server", "-c", path, (char *)NULL);
        _exit(127);
    }
    f = fopen(s->pidfile, "w");
    assert_non_null(f);
    fprintf(f, "%ld\n", (long)s->pid);
    assert_int_equal(fclose(f), 0);
    for (int i = 0; i < 200 && !port_open(s->port); i++) {
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid)
            fail_msg("nats-server exited at start; see %s", s->log);
        clock_sleep_ms(50);
    }
    if (!port_open(s->port))
        fail_msg("nats-server did not listen on %d; see %s", s->port, s->log);
}

void nats_server_stop(nats_server *s)
{
    char cmd[256];
    int st;

    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        for (int i = 0; i < 100; i++) {
            if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
                s->pid = 0;
                break;
            }
            clock_sleep_ms(50);
        }
        if (s->pid > 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &st, 0);
            s->pid = 0;
        }
    }
    if (s->dir[0] == '\0')
        return;
    if (getenv("TL_ITEST_KEEP") != NULL) {
        printf("kept %s\n", s->dir);
        return;
    }
    snprintf(cmd, sizeof(cmd), "rm -rf %s", s->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", s->dir);
}

long nats_server_violations(bus *b)
{
    bus_counters c;

    bus_counters_get(b, &c);
    return c.violations;
}

void nats_server_expect_violation(bus *b, long want, const char *subject)
{
    char last[256];

    for (int i = 0; i < 1000 && nats_server_violations(b) < want; i++)
        clock_sleep_ms(10);
    bus_last_violation(b, last, sizeof(last));
    if (nats_server_violations(b) != want)
        fail_msg("expected %ld permission violation(s), saw %ld (last: %s)",
                 want, nats_server_violations(b), last);
    if (strstr(last, subject) == NULL)
        fail_msg("violation \"%s\" does not name %s", last, subject);
}

void nats_server_pub(bus *b, const char *subject, const char *data)
{
    err e = {0};

    assert_int_equal(bus_publish(b, subject, data, strlen(data), &e), ST_OK);
    assert_int_equal(bus_flush(b, 2000, &e), ST_OK);
}
