/*
 * The layering check fails where it must: each rule is broken once in a
 * small tree written for the test, and the report names the file, the
 * line and what to do. The Twinline tree itself keeps the rules, and a
 * bad file added to it (a column read by number, a dispatcher module
 * including one above it) is found.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layering.h"
#include "tl_test.h"

typedef struct tree {
    char root[64];
} tree;

static void tree_make(tree *t)
{
    snprintf(t->root, sizeof(t->root), "/tmp/tl-layering-XXXXXX");
    assert_non_null(mkdtemp(t->root));
}

/* Write text to root/rel, making its folder. */
static void tree_put(const tree *t, const char *rel, const char *text)
{
    char path[256], dir[256];
    const char *slash = strrchr(rel, '/');
    FILE *f;

    snprintf(dir, sizeof(dir), "%s/%.*s", t->root, (int)(slash - rel), rel);
    mkdir(dir, 0700);
    snprintf(path, sizeof(path), "%s/%s", t->root, rel);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int remove_one(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void tree_free(const tree *t)
{
    nftw(t->root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Three levels and a sibling pair, like the real tree but small. */
static const layering_folder folders[] = {
    {"common", 0}, {"dispatcher", 1}, {"billing", 1}, {"cli", 2}};
static const char *const free_folders[] = {"tests", NULL};
static const char *const pending[] = {"billing", NULL};
static const layering_exception exceptions[] = {
    {"common/main.c", "cli", "the test's composition root"}};
static const layering_rules rules = {
    .folders = folders,
    .nfolders = 4,
    .free_folders = free_folders,
    .sql_pending = pending,
    .exceptions = exceptions,
    .nexceptions = 1,
};

/* A clean tree: each folder includes only its own and lower headers. */
static void put_clean(const tree *t)
{
    tree_put(t, "common/db.h",
             "const char *db_val(void *r, int row, "
             "int col);\n");
    tree_put(t, "common/db.c", "#include \"db.h\"\n");
    tree_put(t, "dispatcher/router.h", "#include \"db.h\"\n");
    tree_put(t, "dispatcher/router.c",
             "#include \"router.h\"\n#include \"db.h\"\n");
    tree_put(t, "billing/ledger.h", "#include \"db.h\"\n");
    tree_put(t, "cli/cli.h", "#include \"router.h\"\n#include \"ledger.h\"\n");
    tree_put(t, "cli/CMakeLists.txt",
             "tl_sql_embed(tl_cli cli ${CMAKE_CURRENT_SOURCE_DIR}/sql)\n");
    tree_put(t, "cli/cli.c",
             "#include \"cli.h\"\n#include \"cli_sql.h\"\n"
             "static const char *f(void *r) { return db_val(r, 0, "
             "CLI_X_ID); }\n");
    tree_put(t, "tests/test_x.c",
             "#include \"cli.h\"\nDB_STMT(x, 0, \"SELECT 1\");\n"
             "int g(void *r) { return db_val(r, 0, 3) != 0; }\n");
}

/* Run the check; the report is returned (the caller frees it). */
static char *check(const tree *t, const layering_rules *r,
                   const layering_extra *extras, int nextras, int *problems)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    err e = {0};

    assert_non_null(out);
    assert_int_equal(
        layering_check(t->root, r, extras, nextras, out, problems, NULL, &e),
        ST_OK);
    fclose(out);
    return buf;
}

static void test_clean_tree_passes(void **state)
{
    tree t;
    int n = -1;
    char *report;

    (void)state;
    tree_make(&t);
    put_clean(&t);
    report = check(&t, &rules, NULL, 0, &n);
    assert_string_equal(report, "");
    assert_int_equal(n, 0);
    free(report);
    tree_free(&t);
}

static void test_upward_and_sibling_includes(void **state)
{
    tree t;
    int n = -1;
    char *report;

    (void)state;
    tree_make(&t);
    put_clean(&t);
    tree_put(&t, "common/log.c", "#include \"db.h\"\n\n#include \"cli.h\"\n");
    tree_put(&t, "dispatcher/offers.c",
             "#include \"router.h\"\n#include \"ledger.h\"\n");
    tree_put(&t, "billing/bad.c", "#include \"fixture.h\"\n");
    tree_put(&t, "tests/fixture.h", "\n");
    report = check(&t, &rules, NULL, 0, &n);
    assert_int_equal(n, 3);
    assert_non_null(strstr(report,
                           "billing/bad.c:1: includes \"fixture.h\" of "
                           "tests/, which only tests and benchmarks may "
                           "use\n"));
    assert_non_null(strstr(report, "common/log.c:3: includes \"cli.h\" of "
                                   "cli/, above common/; folders include "
                                   "only downwards: common <- {dispatcher, "
                                   "billing} <- cli\n"));
    assert_non_null(strstr(report, "dispatcher/offers.c:2: includes "
                                   "\"ledger.h\" of billing/, a sibling of "
                                   "dispatcher/;"));
    free(report);
    tree_free(&t);
}

static void test_exception_allows_one_file(void **state)
{
    tree t;
    int n = -1;
    char *report;

    (void)state;
    tree_make(&t);
    put_clean(&t);
    tree_put(&t, "common/main.c", "#include \"cli.h\"\n");
    tree_put(&t, "common/other.c", "#include \"cli.h\"\n");
    report = check(&t, &rules, NULL, 0, &n);
    assert_int_equal(n, 1);
    assert_non_null(strstr(report, "common/other.c:1: includes \"cli.h\""));
    assert_null(strstr(report, "common/main.c"));
    free(report);
    tree_free(&t);
}

static void test_cycle_inside_a_folder(void **state)
{
    tree t;
    int n = -1;
    char *report;

    (void)state;
    tree_make(&t);
    put_clean(&t);
    tree_put(&t, "dispatcher/hub.h", "#include \"router.h\"\n");
    tree_put(&t, "dispatcher/hub.c", "#include \"hub.h\"\n");
    tree_put(&t, "dispatcher/queue.h", "\n");
    tree_put(&t, "dispatcher/queue.c",
             "#include \"queue.h\"\n/* a comment */\n#include \"hub.h\"\n");
    tree_put(&t, "dispatcher/router.c",
             "#include \"router.h\"\n#include \"db.h\"\n#include "
             "\"queue.h\"\n");
    report = check(&t, &rules, NULL, 0, &n);
    assert_int_equal(n, 1);
    assert_string_equal(
        report, "dispatcher/hub.h:1: include cycle in dispatcher/: hub -> "
                "router -> queue -> hub (dispatcher/hub.h:1 includes "
                "\"router.h\"; dispatcher/router.c:3 includes \"queue.h\"; "
                "dispatcher/queue.c:3 includes \"hub.h\"); a module may "
                "include only modules that do not include it back\n");
    free(report);
    tree_free(&t);
}

static void test_column_numbers_and_sql_text(void **state)
{
    tree t;
    int n = -1;
    char *report;

    (void)state;
    tree_make(&t);
    put_clean(&t);
    tree_put(&t, "cli/report.c",
             "#include \"cli.h\"\n"
             "/* db_val(r, 0, 1) in a comment is not a read */\n"
             "DB_STMT(st_count, 0, \"SELECT count(*) FROM cases\");\n"
             "static long f(void *d, void *r, int c)\n"
             "{\n"
             "    const char *s = \"db_i64(r, 0, 2)\";\n"
             "    db_query(d, \"SELECT 1\", 0, NULL, NULL, NULL);\n"
             "    return db_i64(r, 0,\n"
             "                  (4)) + db_bool(r, 0, c) + (long)s[0] +\n"
             "           db_null(r, 1, 5);\n"
             "}\n"
             "static const db_stmt st_one = {\"one\", \"SELECT 1\", 0, "
             "\"\"};\n"
             "static const db_stmt *const all[] = {&st_one};\n");
    /* billing is pending: the same lines are not reported there. */
    tree_put(&t, "billing/ledger.c",
             "DB_STMT(st_count, 0, \"SELECT 1\");\n"
             "int f(void *r) { return db_null(r, 1, 5); }\n");
    report = check(&t, &rules, NULL, 0, &n);
    assert_int_equal(n, 5);
    assert_string_equal(
        report,
        "cli/report.c:12: db_stmt st_one is defined in C; move the statement "
        "to cli/sql/<name>.sql with a \"-- columns:\" line "
        "(cmake/tl_sql.cmake)\n"
        "cli/report.c:3: DB_STMT holds SQL in C; move the statement to "
        "cli/sql/<name>.sql with a \"-- columns:\" line "
        "(cmake/tl_sql.cmake)\n"
        "cli/report.c:7: db_query is given SQL text in C; move the statement "
        "to cli/sql/<name>.sql and run it with db_run (cmake/tl_sql.cmake)\n"
        "cli/report.c:8: db_i64 reads column 4 by number; declare the "
        "statement's columns (\"-- columns:\" in its .sql file) and read "
        "through the generated enum\n"
        "cli/report.c:10: db_null reads column 5 by number; declare the "
        "statement's columns (\"-- columns:\" in its .sql file) and read "
        "through the generated enum\n");
    free(report);
    tree_free(&t);
}

static void test_unplaced_folder_and_duplicate_header(void **state)
{
    tree t;
    int n = -1;
    char *report;

    (void)state;
    tree_make(&t);
    put_clean(&t);
    tree_put(&t, "staffing/erlang.c", "#include \"db.h\"\n");
    tree_put(&t, "cli/ledger.h", "\n");
    report = check(&t, &rules, NULL, 0, &n);
    assert_int_equal(n, 2);
    assert_non_null(strstr(report, "staffing/: holds C sources but has no "
                                   "place in the layering;"));
    assert_non_null(strstr(report,
                           "cli/ledger.h: header name ledger.h is also "
                           "billing/ledger.h; includes name headers by file "
                           "name alone, so each name must be unique\n"));
    free(report);
    tree_free(&t);
}

/* The dispatcher's modules in layers, top (0) to bottom. */
static const layering_module layered_modules[] = {
    {"dispatcher", "offers", 0},
    {"dispatcher", "queue", 1},
    {"dispatcher", "router", 2},
    {"dispatcher", "gone", 1},
};

static void test_module_layers(void **state)
{
    layering_rules lr = rules;
    tree t;
    int n = -1;
    char *report;

    (void)state;
    lr.modules = layered_modules;
    lr.nmodules = 4;
    tree_make(&t);
    put_clean(&t);
    /* Down a layer, and to the generated header: allowed. */
    tree_put(&t, "dispatcher/CMakeLists.txt",
             "tl_sql_embed(tl_dispatcher dsp ${CMAKE_CURRENT_SOURCE_DIR}/sql)"
             "\n");
    tree_put(&t, "dispatcher/offers.c",
             "#include \"offers.h\"\n#include \"router.h\"\n"
             "#include \"dsp_sql.h\"\n");
    tree_put(&t, "dispatcher/queue.h", "#include \"router.h\"\n");
    /* Up a layer, and sideways inside one: found, though neither closes a
     * cycle (offers does not include queue). */
    tree_put(&t, "dispatcher/queue.c",
             "#include \"queue.h\"\n#include \"offers.h\"\n");
    tree_put(&t, "dispatcher/offers.h", "\n");
    tree_put(&t, "dispatcher/spare.h", "\n");
    tree_put(&t, "dispatcher/spare.c", "#include \"spare.h\"\n");
    report = check(&t, &lr, NULL, 0, &n);
    assert_int_equal(n, 3);
    assert_string_equal(
        report,
        "dispatcher/queue.c:2: includes \"offers.h\" (layer 0) from layer 1; "
        "inside dispatcher/ a module includes only modules of layers below "
        "its own (tests/layering/layering_rules.c)\n"
        "dispatcher/spare.c: module spare has no layer in dispatcher/; give "
        "it one (tests/layering/layering_rules.c)\n"
        "dispatcher/: module gone has a layer but no file; remove it "
        "(tests/layering/layering_rules.c)\n");
    free(report);
    /* The same include between two modules of one layer is found too. */
    tree_put(&t, "dispatcher/spare.c", "#include \"queue.h\"\n");
    tree_put(&t, "dispatcher/spare.h", "\n");
    {
        static const layering_module same[] = {{"dispatcher", "offers", 0},
                                               {"dispatcher", "queue", 1},
                                               {"dispatcher", "router", 2},
                                               {"dispatcher", "spare", 1}};

        lr.modules = same;
        lr.nmodules = 4;
        tree_put(&t, "dispatcher/queue.c", "#include \"queue.h\"\n");
        report = check(&t, &lr, NULL, 0, &n);
        assert_int_equal(n, 1);
        assert_string_equal(report,
                            "dispatcher/spare.c:1: includes \"queue.h\" "
                            "(layer 1) from layer 1; inside dispatcher/ a "
                            "module includes only modules of layers below "
                            "its own (tests/layering/layering_rules.c)\n");
        free(report);
    }
    tree_free(&t);
}

/* The real tree keeps its rules; a bad file put into it is found. */
static void test_twinline_tree(void **state)
{
    tree t;
    char bad[128];
    const layering_extra extra = {bad, "cli/cmd_bad.c"};
    int n = -1;
    char *report;
    err e = {0};
    FILE *sink = fopen("/dev/null", "w");

    (void)state;
    tree_make(&t);
    tree_put(&t, "x/cmd_bad.c",
             "#include \"cli.h\"\n#include \"sim_sql.h\"\n\n"
             "int f(void *r) { return db_val(r, 0, 7) != 0; }\n");
    snprintf(bad, sizeof(bad), "%s/x/cmd_bad.c", t.root);
    assert_non_null(sink);
    assert_int_equal(layering_check(TL_SOURCE_DIR, &layering_twinline, NULL, 0,
                                    sink, &n, NULL, &e),
                     ST_OK);
    fclose(sink);
    assert_int_equal(n, 0);
    {
        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len);

        assert_int_equal(layering_check(TL_SOURCE_DIR, &layering_twinline,
                                        &extra, 1, out, &n, NULL, &e),
                         ST_OK);
        fclose(out);
        report = buf;
    }
    assert_int_equal(n, 1);
    assert_string_equal(report,
                        "cli/cmd_bad.c:4: db_val reads column 7 by number; "
                        "declare the statement's columns (\"-- columns:\" "
                        "in its .sql file) and read through the generated "
                        "enum\n");
    free(report);
    tree_free(&t);
}

/* The dispatcher's modules point down: a state.c that includes a handler
 * is found, and so is a module given no layer. */
static void test_twinline_dispatcher_layers(void **state)
{
    tree t;
    char bad[128], odd[128];
    layering_extra extras[2] = {{bad, "dispatcher/state.c"},
                                {odd, "dispatcher/odd.c"}};
    int n = -1;
    char *buf = NULL;
    size_t len = 0;
    FILE *out;
    err e = {0};

    (void)state;
    tree_make(&t);
    tree_put(&t, "x/state.c",
             "#include \"state.h\"\n#include \"accept.h\"\n"
             "#include \"db.h\"\n");
    tree_put(&t, "x/odd.c", "#include \"dsp.h\"\n");
    snprintf(bad, sizeof(bad), "%s/x/state.c", t.root);
    snprintf(odd, sizeof(odd), "%s/x/odd.c", t.root);
    out = open_memstream(&buf, &len);
    assert_non_null(out);
    assert_int_equal(layering_check(TL_SOURCE_DIR, &layering_twinline, extras,
                                    2, out, &n, NULL, &e),
                     ST_OK);
    fclose(out);
    /* accept.c includes state.h, so the include is a cycle as well. */
    assert_int_equal(n, 3);
    assert_non_null(strstr(buf, "dispatcher/state.c:2: includes \"accept.h\" "
                                "(layer 2) from layer 4;"));
    assert_non_null(strstr(buf, "include cycle in dispatcher/: accept -> "
                                "state -> accept"));
    assert_non_null(strstr(buf, "dispatcher/odd.c: module odd has no layer in "
                                "dispatcher/;"));
    free(buf);
    tree_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_tree_passes),
        cmocka_unit_test(test_upward_and_sibling_includes),
        cmocka_unit_test(test_exception_allows_one_file),
        cmocka_unit_test(test_cycle_inside_a_folder),
        cmocka_unit_test(test_column_numbers_and_sql_text),
        cmocka_unit_test(test_unplaced_folder_and_duplicate_header),
        cmocka_unit_test(test_module_layers),
        cmocka_unit_test(test_twinline_tree),
        cmocka_unit_test(test_twinline_dispatcher_layers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
