/*
 * db_analyze_growing: ANALYZE at 1,000, 2,000, 4,000, ... units of work and
 * never after DB_ANALYZE_LAST, checked against PostgreSQL's own count of
 * analyses of the table.
 */
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "tl_test.h"

static int64_t analyzed(fixture *f)
{
    return fixture_i64(f, "SELECT analyze_count FROM pg_stat_user_tables"
                          " WHERE relname = 'tenants'");
}

/* The statistics collector reports with a delay; wait for want. */
static void expect_analyzed(fixture *f, int64_t want)
{
    for (int i = 0; i < 100 && analyzed(f) != want; i++) {
        fixture_exec(f, "SELECT pg_stat_clear_snapshot()");
        usleep(20000);
    }
    assert_int_equal(analyzed(f), want);
}

static void test_thresholds(void **state)
{
    fixture f;
    int64_t next = 0;
    bool ran = true;
    err e = {0};

    (void)state;
    fixture_setup(&f, "db_analyze");
    assert_int_equal(db_analyze_growing(f.db, "tenants", 999, &next, &ran, &e),
                     ST_OK);
    assert_false(ran);
    assert_int_equal(next, DB_ANALYZE_FIRST);
    assert_int_equal(db_analyze_growing(f.db, "tenants", 1000, &next, &ran, &e),
                     ST_OK);
    assert_true(ran);
    assert_int_equal(next, 2000);
    expect_analyzed(&f, 1);
    /* A jump past several thresholds analyzes once. */
    assert_int_equal(db_analyze_growing(f.db, "tenants", 5000, &next, &ran, &e),
                     ST_OK);
    assert_true(ran);
    assert_int_equal(next, 8000);
    assert_int_equal(db_analyze_growing(f.db, "tenants", 7999, &next, &ran, &e),
                     ST_OK);
    assert_false(ran);
    expect_analyzed(&f, 2);
    /* Past the last threshold autovacuum is left to it. */
    assert_int_equal(
        db_analyze_growing(f.db, "tenants", DB_ANALYZE_LAST, &next, &ran, &e),
        ST_OK);
    assert_true(ran);
    assert_int_equal(db_analyze_growing(f.db, "tenants",
                                        10 * (int64_t)DB_ANALYZE_LAST, &next,
                                        &ran, &e),
                     ST_OK);
    assert_false(ran);
    expect_analyzed(&f, 3);
    /* A table that does not exist is an error, not a crash. */
    next = 0;
    assert_int_equal(
        db_analyze_growing(f.db, "no_such_table", 1000, &next, &ran, &e),
        ST_DB);
    assert_non_null(strstr(e.msg, "no_such_table"));
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thresholds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
