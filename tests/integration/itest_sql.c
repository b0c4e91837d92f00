/*
 * Every embedded statement (the files <module>/sql/NAME.sql,
 * cmake/tl_sql.cmake) is prepared on a freshly migrated database, and
 * PostgreSQL's description of it must agree with what the build generated: the
 * parameter count, and the result columns that the code reads through the
 * generated column enum. A statement that no longer parses, names a dropped
 * column, or returns its columns in another order than declared fails here,
 * naming the file.
 */
#include <stdio.h>
#include <string.h>

#include "billing_sql.h"
#include "cli_sql.h"
#include "common_sql.h"
#include "console_sql.h"
#include "dsp_sql.h"
#include "fixture.h"
#include "sim_sql.h"
#include "tl_test.h"

typedef struct sql_set {
    const char *module;
    const db_stmt *const *all;
    const int *count;
} sql_set;

/* One row per module that embeds SQL; a module adds its own. */
static const sql_set sets[] = {
    {"common", common_sql_all, &common_sql_count},
    {"dispatcher", dsp_sql_all, &dsp_sql_count},
    {"billing", billing_sql_all, &billing_sql_count},
    {"sim", sim_sql_all, &sim_sql_count},
    {"cli", cli_sql_all, &cli_sql_count},
    {"console", console_sql_all, &console_sql_count},
};

static int check_set(fixture *f, const sql_set *set)
{
    int bad = 0;

    for (int i = 0; i < *set->count; i++) {
        const db_stmt *st = set->all[i];
        char cols[4096];
        int nparams = -1;
        err e = {0};

        if (db_describe(f->db, st, &nparams, cols, sizeof(cols), &e) != ST_OK) {
            /* Statement names are <prefix>_<file>; the prefix need not
             * be the module's name (dsp for dispatcher). */
            const char *file = strchr(st->name, '_');
            print_error("%s/sql/%s.sql does not prepare: %s\n", set->module,
                        file != NULL ? file + 1 : st->name, e.msg);
            bad++;
            continue;
        }
        if (nparams != st->nparams) {
            print_error("%s: PostgreSQL finds %d parameters, the build %d\n",
                        st->name, nparams, st->nparams);
            bad++;
        }
        if (strcmp(cols, st->columns) != 0) {
            print_error("%s: result columns are \"%s\" but the file declares "
                        "\"-- columns: %s\"\n",
                        st->name, cols, st->columns);
            bad++;
        }
    }
    return bad;
}

static void test_every_statement_prepares(void **state)
{
    fixture f;
    int bad = 0;
    int total = 0;

    (void)state;
    fixture_setup(&f, "sql_prepare");
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        bad += check_set(&f, &sets[i]);
        total += *sets[i].count;
    }
    assert_int_equal(bad, 0);
    assert_true(total > 0);
    fixture_teardown(&f);
}

/* The check itself can fail: a declared column list that disagrees with
 * the statement, and a statement that does not parse, are both found. */
static void test_disagreement_is_found(void **state)
{
    static const db_stmt wrong_cols = {"itest_wrong_cols",
                                       "SELECT 1 AS a, 2 AS b", 0, "b,a"};
    static const db_stmt broken = {"itest_broken",
                                   "SELECT nosuchcolumn FROM schema_migrations",
                                   0, "nosuchcolumn"};
    const db_stmt *const list[] = {&wrong_cols, &broken};
    static const int two = 2;
    const sql_set set = {"itest", list, &two};
    fixture f;

    (void)state;
    fixture_setup(&f, "sql_disagree");
    assert_int_equal(check_set(&f, &set), 2);
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_statement_prepares),
        cmocka_unit_test(test_disagreement_is_found),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
