/*
 * A nats-server of a test's own, for tests of the permissions (the suite's
 * server lets its one identity use every subject, tests/suite_auth.c): on
 * 127.0.0.1 on a free port, configured as scripts/services.sh configures
 * the real one — JetStream with storage limits and `include "auth.conf"`
 * — in a directory the test owns, with its log in dir/nats.log and its
 * process id in dir/nats.pid (what twinline nats-auth --reload and the
 * dispatcher's --nats-log are given). The server dies with the test.
 * Test code: failures abort the test.
 */
#ifndef TL_NATS_SERVER_H
#define TL_NATS_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

#include "bus.h"

typedef struct nats_server {
    char dir[128];
    char url[64];
    char log[160];     /* dir/nats.log */
    char pidfile[160]; /* dir/nats.pid */
    char auth[160];    /* dir/auth.conf, which the caller writes first */
    int port;
    pid_t pid;
    bool tls; /* set before start: TLS required, with dir/tls/server.pem
                 and dir/tls/server.key; the url is tls:// */
} nats_server;

/* A fresh directory /tmp/<name>_XXXXXX for s (its paths set), no server
 * yet: the caller writes s->auth, then starts it. */
void nats_server_dir(nats_server *s, const char *name);

/* Start nats-server in s->dir; waits until it listens. */
void nats_server_start(nats_server *s);

/* Stop it (TERM, then KILL after 5 s); removes the directory unless
 * TL_ITEST_KEEP is set. */
void nats_server_stop(nats_server *s);

/* The permission violations the server reported to b so far. */
long nats_server_violations(bus *b);

/* Wait (up to 10 s) until b's violations reach want; the last one must
 * name subject, else the test fails. */
void nats_server_expect_violation(bus *b, long want, const char *subject);

/* Publish data on subject and flush. The return code says nothing about
 * permissions: nats_server_expect_violation does. */
void nats_server_pub(bus *b, const char *subject, const char *data);

#endif
