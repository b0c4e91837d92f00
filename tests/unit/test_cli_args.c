/* Argument parsing of the twinline commands: every form a user types, and
 * the exit code each mistake gets. */
#include <string.h>

#include "cli_args.h"
#include "tl_test.h"

static int run(int argc, char **argv, cli_opt *o, int n, const char *rep,
               cli_args *a)
{
    config c;

    config_from_env(&c);
    return cli_args_parse(argc, argv, 1, &c, o, n, rep, "usage\n", a);
}

static void test_forms(void **state)
{
    char *argv[] = {"worker", "--pool=front", "--ids", "--prefix", "demo",
                    "x",      "--line",       "3",     "--line",   "4",
                    "-"};
    cli_opt o[] = {{"--pool", true, NULL, false},
                   {"--ids", false, NULL, false}};
    cli_args a;

    (void)state;
    assert_int_equal(run(11, argv, o, 2, "--line", &a), 0);
    assert_string_equal(o[0].value, "front");
    assert_true(o[1].set);
    assert_string_equal(a.cfg.prefix, "demo");
    assert_int_equal(a.npos, 2);
    assert_string_equal(a.pos[0], "x");
    assert_string_equal(a.pos[1], "-");
    assert_int_equal(a.nrepeated, 2);
    assert_string_equal(a.repeated[1], "4");
}

static void test_mistakes(void **state)
{
    char *unknown[] = {"worker", "--bogus"};
    char *novalue[] = {"worker", "--pool"};
    char *switchval[] = {"worker", "--ids=yes"};
    char *badprefix[] = {"worker", "--prefix", "a.b"};
    char *norepeat[] = {"credit", "--line"};
    char *help[] = {"worker", "-h"};
    cli_opt o[] = {{"--pool", true, NULL, false},
                   {"--ids", false, NULL, false}};
    cli_args a;

    (void)state;
    assert_int_equal(run(2, unknown, o, 2, NULL, &a), ADMIN_EXIT_USAGE);
    assert_int_equal(run(2, novalue, o, 2, NULL, &a), ADMIN_EXIT_USAGE);
    assert_int_equal(run(2, switchval, o, 2, NULL, &a), ADMIN_EXIT_USAGE);
    assert_int_equal(run(3, badprefix, o, 2, NULL, &a), ADMIN_EXIT_USAGE);
    assert_int_equal(run(2, norepeat, o, 2, "--line", &a), ADMIN_EXIT_USAGE);
    assert_int_equal(run(2, help, o, 2, NULL, &a), 0);
    assert_true(a.help);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_mistakes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
