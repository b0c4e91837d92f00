#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "migrate.h"
#include "tl_test.h"

static const char *need_env(const char *name)
{
    const char *v = getenv(name);

    if (v == NULL || *v == '\0')
        fail_msg("%s is not set: integration tests need the services that "
                 "scripts/test.sh starts; run `make test`",
                 name);
    return v;
}

void fixture_setup(fixture *f, const char *name)
{
    char admin[600];
    char sql[256];
    db *a = NULL;
    err e = {0};

    memset(f, 0, sizeof(*f));
    snprintf(f->name, sizeof(f->name), "%s", name);
    config_from_env(&f->cfg);
    snprintf(admin, sizeof(admin), "%s dbname=postgres",
             need_env("TL_TEST_PG"));
    if (db_connect(&a, admin, &e) != ST_OK)
        fail_msg("fixture: %s", e.msg);
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS tl_%s WITH (FORCE)",
             name);
    if (db_exec(a, sql, &e) != ST_OK)
        fail_msg("fixture: %s", e.msg);
    snprintf(sql, sizeof(sql), "CREATE DATABASE tl_%s", name);
    if (db_exec(a, sql, &e) != ST_OK)
        fail_msg("fixture: %s", e.msg);
    db_close(a);
    snprintf(f->cfg.db, sizeof(f->cfg.db), "%s dbname=tl_%s",
             need_env("TL_TEST_PG"), name);
    snprintf(f->cfg.nats, sizeof(f->cfg.nats), "%s", need_env("TL_TEST_NATS"));
    snprintf(f->cfg.prefix, sizeof(f->cfg.prefix), "%s", name);
    if (db_connect(&f->db, f->cfg.db, &e) != ST_OK)
        fail_msg("fixture: %s", e.msg);
    if (migrate_apply(f->db, migration_files, migration_count, NULL, &e) !=
        ST_OK)
        fail_msg("fixture: migrate: %s", e.msg);
}

void fixture_teardown(fixture *f)
{
    db_close(f->db);
    f->db = NULL;
}

void fixture_exec(fixture *f, const char *sql)
{
    err e = {0};

    if (db_exec(f->db, sql, &e) != ST_OK)
        fail_msg("fixture SQL failed: %s\n%s", e.msg, sql);
}

int64_t fixture_i64(fixture *f, const char *sql)
{
    db_res *r = NULL;
    err e = {0};
    int64_t v = 0;

    if (db_query(f->db, sql, 0, NULL, &r, &e) != ST_OK)
        fail_msg("fixture SQL failed: %s\n%s", e.msg, sql);
    if (db_rows(r) > 0 && !db_null(r, 0, 0))
        v = db_i64(r, 0, 0);
    db_res_free(r);
    return v;
}

void fixture_str(fixture *f, const char *sql, char *buf, size_t cap)
{
    db_res *r = NULL;
    err e = {0};

    if (db_query(f->db, sql, 0, NULL, &r, &e) != ST_OK)
        fail_msg("fixture SQL failed: %s\n%s", e.msg, sql);
    snprintf(buf, cap, "%s", db_rows(r) > 0 ? db_val(r, 0, 0) : "");
    db_res_free(r);
}

bus *fixture_bus(fixture *f)
{
    bus *b = NULL;
    bus_opts o;
    err e = {0};

    config_bus_opts(&f->cfg, f->name, &o);
    if (bus_connect_opts(&b, &o, &e) != ST_OK)
        fail_msg("fixture: %s", e.msg);
    return b;
}

const char *fixture_path(const char *rel, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", TL_SOURCE_DIR, rel);
    return buf;
}

int64_t fixture_wait_i64(fixture *f, const char *sql, int64_t want,
                         int timeout_ms)
{
    int64_t deadline = clock_mono_us() + (int64_t)timeout_ms * 1000;
    int64_t v;

    for (;;) {
        v = fixture_i64(f, sql);
        if (v == want || clock_mono_us() > deadline)
            return v;
        clock_sleep_ms(20);
    }
}
