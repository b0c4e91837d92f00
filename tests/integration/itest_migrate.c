/* Migrations: applied once, in order, under a lock; a changed applied file
 * is refused; a failing file leaves nothing behind. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "migrate.h"
#include "tl_test.h"

static const char m1[] = "CREATE TABLE mt_a (id int PRIMARY KEY);";
static const char m2[] = "CREATE TABLE mt_b (id int PRIMARY KEY);";
static const char m2_changed[] = "CREATE TABLE mt_b (id bigint);";
static const char m3_bad[] = "CREATE TABLE mt_c (id int); SELECT 1/0;";

static void test_apply_once_and_refuse_changes(void **state)
{
    fixture f;
    migration_file files[3] = {{"900_a.sql", m1, (int)sizeof(m1) - 1},
                               {"901_b.sql", m2, (int)sizeof(m2) - 1},
                               {"902_c.sql", m3_bad, (int)sizeof(m3_bad) - 1}};
    err e = {0};
    int applied = -1;

    (void)state;
    fixture_setup(&f, "migrate_once"); /* the real schema is applied */
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM schema_migrations"),
                     migration_count);
    /* Applying the embedded set again changes nothing. */
    assert_int_equal(
        migrate_apply(f.db, migration_files, migration_count, &applied, &e),
        ST_OK);
    assert_int_equal(applied, 0);

    assert_int_equal(migrate_apply(f.db, files, 2, &applied, &e), ST_OK);
    assert_int_equal(applied, 2);
    assert_int_equal(migrate_apply(f.db, files, 2, &applied, &e), ST_OK);
    assert_int_equal(applied, 0);

    /* A file that fails is rolled back whole: no table, no record. */
    assert_int_not_equal(migrate_apply(f.db, files, 3, &applied, &e), ST_OK);
    assert_non_null(strstr(e.msg, "902_c.sql"));
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM pg_tables"
                                     " WHERE tablename = 'mt_c'"),
                     0);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM schema_migrations"
                                     " WHERE name = '902_c.sql'"),
                     0);

    /* An applied file that changed is refused, and nothing runs. */
    files[1].sql = m2_changed;
    files[1].len = (int)sizeof(m2_changed) - 1;
    assert_int_equal(migrate_apply(f.db, files, 2, &applied, &e), ST_CONFLICT);
    assert_non_null(strstr(e.msg, "901_b.sql"));
    assert_non_null(strstr(e.msg, "immutable"));
    fixture_teardown(&f);
}

typedef struct racer {
    const char *conninfo;
    const migration_file *files;
    int applied;
    status st;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    db *d = NULL;
    err e = {0};

    r->st = db_connect(&d, r->conninfo, &e);
    if (r->st == ST_OK)
        r->st = migrate_apply(d, r->files, 2, &r->applied, &e);
    db_close(d);
    return NULL;
}

/* Two migrators at once: the advisory lock makes one apply, one skip. */
static void test_concurrent_migrators(void **state)
{
    fixture f;
    static const char slow[] =
        "SELECT pg_sleep(0.3); CREATE TABLE mt_s (i int);";
    migration_file files[2] = {{"910_s.sql", slow, (int)sizeof(slow) - 1},
                               {"911_a.sql", m1, (int)sizeof(m1) - 1}};
    racer a = {0}, b = {0};
    pthread_t ta, tb;

    (void)state;
    fixture_setup(&f, "migrate_race");
    a.conninfo = b.conninfo = f.cfg.db;
    a.files = b.files = files;
    pthread_create(&ta, NULL, race, &a);
    pthread_create(&tb, NULL, race, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.st, ST_OK);
    assert_int_equal(b.st, ST_OK);
    assert_int_equal(a.applied + b.applied, 2);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM schema_migrations"
                                     " WHERE name LIKE '91%'"),
                     2);
    fixture_teardown(&f);
}

/* The token domain (schema 001, said again without a regular expression
 * in 020): 1 to 64 characters, each a letter, digit, _ or -. */
static void test_token_rule(void **state)
{
    static const char *const good[] = {"'a'", "'bank1'", "'A-Z_09'", "'x-'",
                                       "repeat('a', 64)"};
    static const char *const bad[] = {
        "''",    "'a b'",      "E'caf\\u00e9'",  "'a.b'",
        "'a/b'", "E'tab\\tx'", "repeat('a', 65)"};
    char sql[200];
    fixture f;
    err e = {0};

    (void)state;
    fixture_setup(&f, "migrate_token");
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(sql, sizeof(sql), "SELECT (%s)::token", good[i]);
        assert_int_equal(db_exec(f.db, sql, &e), ST_OK);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(sql, sizeof(sql), "SELECT (%s)::token", bad[i]);
        err_clear(&e);
        assert_int_not_equal(db_exec(f.db, sql, &e), ST_OK);
        assert_non_null(strstr(e.msg, "token_check"));
    }
    /* An operator with such an id is refused and nothing is written. */
    assert_int_not_equal(db_exec(f.db,
                                 "INSERT INTO operators (id, name)"
                                 " VALUES ('op 1', 'Op')",
                                 &e),
                         ST_OK);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM operators"
                                     " WHERE name = 'Op'"),
                     0);
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apply_once_and_refuse_changes),
        cmocka_unit_test(test_concurrent_migrators),
        cmocka_unit_test(test_token_rule),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
