/* The mistakes a user can make with `twinline case reopen|complaint` and
 * `twinline bill reconcile`: each exits 2 with a message naming what is
 * wrong, before anything connects to PostgreSQL or NATS (the settings
 * point at nothing, so a connection would fail with exit 1 instead). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "tl_test.h"

typedef int (*command_fn)(int argc, char **argv, const config *cfg);

/* Run fn with argv, its stderr captured into err_buf; the exit code. */
static int run(command_fn fn, int argc, char **argv, char *err_buf, size_t cap)
{
    char path[] = "/tmp/tl-cli-err-XXXXXX"; /* mkstemp template */
    int fd = mkstemp(path), saved = dup(STDERR_FILENO), rc;
    config c;
    FILE *f;
    size_t n;

    assert_true(fd >= 0 && saved >= 0);
    config_from_env(&c);
    snprintf(c.db, sizeof(c.db), "host=/nonexistent dbname=none");
    snprintf(c.nats, sizeof(c.nats), "nats://127.0.0.1:1");
    fflush(stderr);
    dup2(fd, STDERR_FILENO);
    rc = fn(argc, argv, &c);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    f = fdopen(fd, "r");
    assert_non_null(f);
    rewind(f);
    n = fread(err_buf, 1, cap - 1, f);
    err_buf[n] = '\0';
    fclose(f);
    unlink(path);
    return rc;
}

static void expect(command_fn fn, int argc, char **argv, int want_rc,
                   const char *want_msg)
{
    char buf[4096];
    int rc = run(fn, argc, argv, buf, sizeof(buf));

    if (rc != want_rc || strstr(buf, want_msg) == NULL)
        fail_msg("exit %d (want %d), stderr:\n%s\n(want \"%s\")", rc, want_rc,
                 buf, want_msg);
}

static void test_case_dispute_mistakes(void **state)
{
    char *no_ref[] = {"case",   "complaint", "--tenant",
                      "jsbank", "--reason",  "x"};
    char *both[] = {"case",          "reopen", "4",        "--tenant", "jsbank",
                    "--external-id", "LN-1",   "--reason", "wrong"};
    char *bad_id[] = {"case",   "complaint", "abc", "--tenant",
                      "jsbank", "--reason",  "x"};
    char *no_reason[] = {"case", "complaint", "4", "--tenant", "jsbank"};
    char *no_tenant[] = {"case", "reopen", "4", "--reason", "x"};
    char *reason_on_show[] = {"case",   "show",     "4", "--tenant",
                              "jsbank", "--reason", "x"};
    char *bad_verb[] = {"case", "escalate", "4", "--tenant", "jsbank"};

    (void)state;
    expect(cmd_case, 6, no_ref, 2, "give either a CASE_ID or --external-id X");
    expect(cmd_case, 9, both, 2, "give either a CASE_ID or --external-id X");
    expect(cmd_case, 7, bad_id, 2, "CASE_ID \"abc\" must be a positive number");
    expect(cmd_case, 5, no_reason, 2, "--reason is required");
    expect(cmd_case, 5, no_tenant, 2, "--tenant is required");
    expect(cmd_case, 7, reason_on_show, 2,
           "--reason and --request-id belong to case reopen");
    expect(cmd_case, 5, bad_verb, 2,
           "expected: case submit, show, reopen or complaint");
}

static void test_bill_mistakes(void **state)
{
    char *bad_sub[] = {"bill", "audit"};
    char *period_on_summary[] = {"bill", "summary", "--period", "2026-11"};
    char *bad_format[] = {"bill", "reconcile", "--format", "xml"};

    (void)state;
    expect(cmd_bill, 2, bad_sub, 2,
           "expected: bill summary, bill report or bill reconcile");
    expect(cmd_bill, 4, period_on_summary, 2,
           "--period is for bill report and bill reconcile");
    expect(cmd_bill, 4, bad_format, 2, "--format must be table or kv");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case_dispute_mistakes),
        cmocka_unit_test(test_bill_mistakes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
