/* The mistakes a user can make with `twinline case reopen|complaint|erase`,
 * `twinline keys` and `twinline bill reconcile`: each exits 2 with a
 * message naming what is wrong, before anything connects to PostgreSQL or
 * NATS (the settings point at nothing, so a connection would fail with
 * exit 1 instead). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_keys.h"
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
           "expected: case submit, show, reopen, complaint or erase");
}

static void test_erase_and_keys_mistakes(void **state)
{
    char *erase_no_ref[] = {"case", "erase", "--tenant", "jsbank"};
    char *erase_reason[] = {"case",          "erase",  "4",
                            "--tenant",      "jsbank", "--reason",
                            "asked by phone"};
    char *force_on_show[] = {"case",     "show",   "4",
                             "--tenant", "jsbank", "--force"};
    char *erase_payload[] = {"case",   "erase",     "4", "--tenant",
                             "jsbank", "--payload", "{}"};
    char *keys_none[] = {"keys"};
    char *keys_bad[] = {"keys", "shred"};
    char *init_no_file[] = {"keys", "init"};
    char *master_and_tenant[] = {"keys",    "rotate",   "--master",
                                 "new.key", "--tenant", "jsbank"};
    char *bad_batch[] = {"keys", "reseal", "--batch", "0"};
    char *batch_on_rotate[] = {"keys", "rotate", "--batch", "10"};
    char *bad_tenant[] = {"keys", "rotate", "--tenant", "js bank"};
    char *two_tenants[] = {"keys",   "reseal",   "--tenant",
                           "jsbank", "--tenant", "hzinsure"};

    (void)state;
    expect(cmd_case, 4, erase_no_ref, 2,
           "give either a CASE_ID or --external-id X");
    expect(cmd_case, 7, erase_reason, 2,
           "--reason and --request-id belong to case reopen");
    expect(cmd_case, 6, force_on_show, 2, "--force belongs to case erase");
    expect(cmd_case, 7, erase_payload, 2,
           "case erase takes --tenant, CASE_ID or --external-id");
    expect(cmd_keys, 1, keys_none, 2,
           "expected: keys init, list, rotate or reseal");
    expect(cmd_keys, 2, keys_bad, 2, "unknown keys command \"shred\"");
    expect(cmd_keys, 2, init_no_file, 2, "keys init takes the FILE to make");
    expect(cmd_keys, 6, master_and_tenant, 2,
           "--master rewraps every tenant's keys; leave out --tenant");
    expect(cmd_keys, 4, bad_batch, 2, "--batch must be an integer 1..10000");
    expect(cmd_keys, 4, batch_on_rotate, 2, "--batch belongs to keys reseal");
    expect(cmd_keys, 4, bad_tenant, 2,
           "--tenant \"js bank\" is not a tenant id");
    expect(cmd_keys, 6, two_tenants, 2,
           "keys reseal takes at most one --tenant");
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
        cmocka_unit_test(test_erase_and_keys_mistakes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
