/*
 * Integration-test fixture. scripts/test.sh starts a private PostgreSQL
 * cluster and nats-server and exports TL_TEST_PG (conninfo of a superuser on
 * that cluster, without dbname), TL_TEST_NATS and TL_NATS_CREDS: the
 * server runs with authorization, and the suite's identity (made by
 * tests/suite_auth.c) may use every subject, so ordinary tests work as
 * before while anonymous clients are refused. Tests of the permissions
 * themselves run a nats-server of their own with confined identities
 * (itest_natsauth, itest_attack). fixture_setup() gives a test its own
 * fresh, migrated database and its own subject prefix, so tests never see
 * each other's rows or messages; f->cfg.creds is the suite's identity.
 *
 * Functions here abort the test (cmocka fail) on error: they are test code.
 */
#ifndef TL_FIXTURE_H
#define TL_FIXTURE_H

#include <stdint.h>

#include "bus.h"
#include "config.h"
#include "db.h"

typedef struct fixture {
    char name[48];
    config cfg; /* db, nats, prefix for this test */
    db *db;     /* a connection to the test database */
} fixture;

/* Fresh database tl_<name>, migrated; prefix <name>. */
void fixture_setup(fixture *f, const char *name);
void fixture_teardown(fixture *f);

/* Run SQL without results; fails the test on error. */
void fixture_exec(fixture *f, const char *sql);

/* First column of the first row of sql as int64 (0 when no row). */
int64_t fixture_i64(fixture *f, const char *sql);

/* First column of the first row as text into buf ("" when no row). */
void fixture_str(fixture *f, const char *sql, char *buf, size_t cap);

/* Connect a bus to the test's nats-server as the suite's identity. */
bus *fixture_bus(fixture *f);

/* Absolute path of a file in the source tree (examples/..., tests/data/...). */
const char *fixture_path(const char *rel, char *buf, size_t cap);

/* Poll sql (an int64 scalar) every 20 ms until it equals want or timeout_ms
 * passes; returns the last value seen. */
int64_t fixture_wait_i64(fixture *f, const char *sql, int64_t want,
                         int timeout_ms);

#endif
