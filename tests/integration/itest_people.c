/*
 * Output made for people (issue 11): what an operator reads and the exit
 * status a script checks. bill report with distinct headings and a
 * sentence when billing is not running; reconcile rows whose figures say
 * what they are; case show with dates and times in the tenant's time
 * zone; worker list for scripts; billing saying it catches up after a
 * stop; the simulated agent failing on a worker the dispatcher does not
 * know. (The report's distinct headings are in itest_billing_report.) Against
 * the real PostgreSQL and nats-server; the programs run as their real binaries
 * where the exit status or the log is what is tested.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "cmd_bill_reconcile.h"
#include "cmd_bill_report.h"
#include "cmd_case.h"
#include "cmd_list.h"
#include "harness.h"
#include "tl_test.h"

/* The test's world: harness_seed (bank1, pools front and spec, workers
 * wa, wb, wc, per-result prices) and an AI worker. */
static void world_up(fixture *f, const char *name)
{
    fixture_setup(f, name);
    harness_seed(f);
    fixture_exec(f, "INSERT INTO workers (id, pool_id, name, kind) VALUES"
                    " ('ai1', 'front', 'AI one', 'ai')");
}

/* A billable promise_to_pay by wa on a new case ext of bank1, recorded at
 * `at`; returns the outcome id. */
static int64_t outcome(fixture *f, const char *ext, const char *at)
{
    char sql[1600];

    snprintf(sql, sizeof(sql),
             "WITH c AS (INSERT INTO cases (tenant_id, external_id,"
             "  case_type, playbook_version, created_at) VALUES ('bank1',"
             "  '%s', 'loan', 1, '%s') RETURNING id),"
             " t AS (INSERT INTO tasks (case_id, tenant_id, step, state,"
             "  worker_id, ready_at, assigned_at, completed_at, sla_due_at)"
             "  SELECT id, 'bank1', 'contact', 'completed', 'wa', '%s',"
             "  '%s'::timestamptz + interval '2 s',"
             "  '%s'::timestamptz + interval '90 s',"
             "  '%s'::timestamptz + interval '1 day' FROM c"
             "  RETURNING id, case_id),"
             " r AS (INSERT INTO reservations (task_id, worker_id, epoch,"
             "  state, deadline, created_at) SELECT id, 'wa', 1, 'completed',"
             "  '%s'::timestamptz + interval '20 s', '%s' FROM t"
             "  RETURNING id, task_id)"
             " INSERT INTO outcomes (task_id, case_id, tenant_id, worker_id,"
             "  reservation_id, code, billable, created_at)"
             " SELECT t.id, t.case_id, 'bank1', 'wa', r.id, 'promise_to_pay',"
             "  true, '%s'::timestamptz + interval '90 s'"
             " FROM t JOIN r ON r.task_id = t.id RETURNING id",
             ext, at, at, at, at, at, at, at, at);
    return fixture_i64(f, sql);
}

/* Run a function that prints to a FILE into a string (caller frees). */
typedef status (*printer)(void *ctx, FILE *out, err *e);

static char *capture(printer p, void *ctx, status want)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    err e = {0};
    status s;

    assert_non_null(f);
    s = p(ctx, f, &e);
    fclose(f);
    if (s != want)
        fail_msg("expected %s, got %s: %s", status_str(want), status_str(s),
                 e.msg);
    return buf;
}

typedef struct report_ctx {
    db *d;
    cli_format fmt;
    int mismatches;
} report_ctx;

static status print_report(void *ctx, FILE *out, err *e)
{
    report_ctx *c = ctx;

    return cmd_bill_report(c->d, NULL, NULL, c->fmt, out, e);
}

static status print_reconcile(void *ctx, FILE *out, err *e)
{
    report_ctx *c = ctx;

    return cmd_bill_reconcile(c->d, NULL, NULL, c->fmt, out, &c->mismatches, e);
}

/* The line of text that starts with prefix, into buf. */
static const char *line_of(const char *text, const char *prefix, char *buf,
                           size_t cap)
{
    const char *p = strstr(text, prefix);

    if (p == NULL)
        fail_msg("no line starts with \"%s\" in:\n%s", prefix, text);
    snprintf(buf, cap, "%.*s", (int)strcspn(p, "\n"), p);
    return buf;
}

static void test_bill_report_says_billing_is_not_running(void **state)
{
    running_billing rb;
    report_ctx c;
    char line[256];
    fixture f;
    char *out;

    (void)state;
    world_up(&f, "people_report");
    outcome(&f, "L-1", "2026-11-25 13:30:00+00");
    c = (report_ctx){f.db, ADMIN_FMT_TABLE, 0};

    out = capture(print_report, &c, ST_OK);
    assert_non_null(strstr(out, "twinline-billing is not running"));
    assert_non_null(
        strstr(out, "1 billable outcome since 2026-11-25 13:31:30 UTC has no "
                    "billable line yet"));
    /* Under a price plan nothing is billed yet: said as such (the
     * headings are itest_billing_report's). */
    assert_non_null(strstr(out, "no billed outcomes under a price plan"));
    free(out);
    c.fmt = ADMIN_FMT_KV;
    out = capture(print_report, &c, ST_OK);
    assert_non_null(strstr(out, "billreport.billing_running=0\n"));
    assert_non_null(strstr(out, "billreport.unbilled=1\n"));
    free(out);

    /* Reconcile: the unbilled outcome is a mismatch, and the reason is
     * given; counts say what they count, money has its currency. */
    c.fmt = ADMIN_FMT_TABLE;
    out = capture(print_reconcile, &c, ST_OK);
    assert_int_equal(c.mismatches, 1);
    assert_non_null(strstr(out, "CHECK                     TENANT"));
    assert_null(strstr(out, "CUR"));
    line_of(out, "billable outcomes billed", line, sizeof(line));
    assert_non_null(strstr(line, "  1 outcome  0 outcomes  MISMATCH"));
    assert_non_null(strstr(out, "twinline-billing is not running"));
    free(out);

    /* With billing running (it names its session), the report says
     * nothing about it once the sweeper has caught up. */
    harness_billing_start(&rb, &f);
    fixture_wait_i64(&f, "SELECT count(*) FROM billable_lines", 1, 20000);
    c.fmt = ADMIN_FMT_KV;
    for (int i = 0; i < 100; i++) {
        out = capture(print_report, &c, ST_OK);
        if (strstr(out, "billreport.billing_running=1\n") != NULL &&
            strstr(out, "billreport.unbilled=0\n") != NULL)
            break;
        free(out);
        out = NULL;
        clock_sleep_ms(100);
    }
    assert_non_null(out);
    free(out);
    c.fmt = ADMIN_FMT_TABLE;
    out = capture(print_report, &c, ST_OK);
    assert_null(strstr(out, "twinline-billing is"));
    free(out);
    out = capture(print_reconcile, &c, ST_OK);
    assert_int_equal(c.mismatches, 0);
    line_of(out, "billable outcomes billed", line, sizeof(line));
    assert_non_null(strstr(line, "  1 outcome  1 outcome  ok"));
    free(out);
    harness_billing_stop(&rb);
    fixture_teardown(&f);
}

typedef struct case_ctx {
    db *d;
    const char *ext;
} case_ctx;

static status print_case(void *ctx, FILE *out, err *e)
{
    case_ctx *c = ctx;

    return cmd_case_show(c->d, "bank1", 0, c->ext, out, e);
}

static void test_case_show_in_the_tenants_time_zone(void **state)
{
    case_ctx c;
    fixture f;
    char *out;

    (void)state;
    world_up(&f, "people_case");
    outcome(&f, "L-7", "2026-11-25 23:30:00+00");
    c = (case_ctx){f.db, "L-7"};

    /* UTC until a tenant names its zone. */
    out = capture(print_case, &c, ST_OK);
    assert_non_null(strstr(out, "times in UTC\n"));
    assert_non_null(strstr(out, "created 2026-11-25 23:30:00.000"));
    free(out);

    /* In Shanghai (UTC+8) it is the next day: dates shown with times. */
    fixture_exec(&f, "UPDATE tenants SET time_zone = 'Asia/Shanghai'"
                     " WHERE id = 'bank1'");
    out = capture(print_case, &c, ST_OK);
    assert_non_null(strstr(out, "times in Asia/Shanghai\n"));
    assert_non_null(strstr(out, "created 2026-11-26 07:30:00.000"));
    /* The task: ready, assigned, completed and due (a day later). */
    assert_non_null(strstr(out, "2026-11-26 07:30:00  2026-11-26 07:30:02  "
                                "2026-11-26 07:31:30  2026-11-27 07:30:00"));
    /* The offer and the outcome. */
    assert_non_null(strstr(out, "2026-11-26 07:30:00  2026-11-26 07:30:20"));
    assert_non_null(strstr(out, "2026-11-26 07:31:30"));
    free(out);
    fixture_teardown(&f);
}

typedef struct list_ctx {
    db *d;
    cmd_worker_filter filter;
} list_ctx;

static status print_workers(void *ctx, FILE *out, err *e)
{
    list_ctx *c = ctx;

    return cmd_worker_list(c->d, &c->filter, out, e);
}

static void test_worker_list_for_scripts(void **state)
{
    list_ctx c;
    fixture f;
    char *out;

    (void)state;
    world_up(&f, "people_workers");
    c.d = f.db;

    c.filter = (cmd_worker_filter){NULL, "human", "wa", true};
    out = capture(print_workers, &c, ST_OK);
    assert_string_equal(out, "wb,wc\n");
    free(out);
    c.filter = (cmd_worker_filter){NULL, "ai", NULL, true};
    out = capture(print_workers, &c, ST_OK);
    assert_string_equal(out, "ai1\n");
    free(out);
    c.filter = (cmd_worker_filter){"front", NULL, "wa,ai1", true};
    out = capture(print_workers, &c, ST_OK);
    assert_string_equal(out, "wb\n");
    free(out);

    /* Bad input: a clear error, nothing printed. */
    c.filter = (cmd_worker_filter){NULL, "human", "wa,nobody", true};
    out = capture(print_workers, &c, ST_NOT_FOUND);
    assert_string_equal(out, "");
    free(out);
    c.filter = (cmd_worker_filter){NULL, "robot", NULL, true};
    out = capture(print_workers, &c, ST_INVALID);
    free(out);
    c.filter = (cmd_worker_filter){NULL, NULL, "wa,,wb", true};
    out = capture(print_workers, &c, ST_INVALID);
    free(out);
    fixture_teardown(&f);
}

/* Run this build's program rel (e.g. "worker/twinline-agent") with argv
 * (argv[0] is filled in) on f's database, NATS and prefix, its stderr and
 * stdout into log; returns the pid. */
static pid_t spawn(fixture *f, const char *rel, char **argv, const char *log)
{
    static char path[512];
    pid_t pid;

    snprintf(path, sizeof(path), "%s/%s", TL_BINARY_DIR, rel);
    argv[0] = path;
    setenv("TL_DB", f->cfg.db, 1);
    setenv("TL_NATS", f->cfg.nats, 1);
    setenv("TL_PREFIX", f->cfg.prefix, 1);
    setenv("TL_LOG", "info", 1); /* what an operator reads in the log */
    pid = fork();
    if (pid < 0)
        fail_msg("cannot fork for %s", path);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        execv(path, argv);
        _exit(127);
    }
    return pid;
}

/* Wait up to timeout_ms for pid; its exit status, or -1 if it still runs
 * (it is then killed). */
static int wait_exit(pid_t pid, int timeout_ms)
{
    int64_t end = clock_mono_us() + (int64_t)timeout_ms * 1000;
    int st = 0;

    while (clock_mono_us() < end) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        clock_sleep_ms(50);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

/* The whole of a small file (caller frees). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t cap = 0;

    assert_non_null(f);
    if (getdelim(&buf, &cap, '\0', f) < 0) {
        free(buf);
        buf = strdup("");
    }
    fclose(f);
    return buf;
}

static void test_agent_fails_on_unknown_worker(void **state)
{
    char log[] = "/tmp/tl-people-agent-XXXXXX";
    char *argv[] = {NULL, "--workers", "wa,nobody", "--handle-ms", "100", NULL};
    running_dispatcher rd;
    fixture f;
    char *out;
    int fd, rc;

    (void)state;
    world_up(&f, "people_agent");
    harness_start(&rd, &f, NULL);
    fd = mkstemp(log);
    assert_true(fd >= 0);
    close(fd);
    rc = wait_exit(spawn(&f, "worker/twinline-agent", argv, log), 30000);
    out = slurp(log);
    if (rc != 1)
        fail_msg("twinline-agent exited %d, not 1:\n%s", rc, out);
    assert_non_null(strstr(out, "twinline-agent: worker nobody cannot sign "
                                "in: worker \"nobody\" is not registered"));
    assert_non_null(strstr(out, "twinline worker list --ids"));
    free(out);
    unlink(log);
    harness_stop(&rd);
    fixture_teardown(&f);
}

static void test_billing_says_it_catches_up(void **state)
{
    char log[] = "/tmp/tl-people-billing-XXXXXX";
    char *argv[] = {NULL, "--sweep-ms", "500", NULL};
    fixture f;
    char *out;
    pid_t pid;
    int fd, rc;

    (void)state;
    world_up(&f, "people_billing");
    /* Two results recorded while billing was not running. */
    outcome(&f, "L-1", "2026-11-25 13:30:00+00");
    outcome(&f, "L-2", "2026-11-25 13:31:00+00");
    fd = mkstemp(log);
    assert_true(fd >= 0);
    close(fd);
    pid = spawn(&f, "billing/twinline-billing", argv, log);
    assert_int_equal(
        fixture_wait_i64(&f, "SELECT count(*) FROM billable_lines", 2, 30000),
        2);
    /* The summary line after the catch-up is logged before the next
     * pass; give it a moment, then stop billing as an operator would. */
    for (int i = 0; i < 50; i++) {
        out = slurp(log);
        if (strstr(out, "caught up") != NULL)
            break;
        free(out);
        out = NULL;
        clock_sleep_ms(100);
    }
    kill(pid, SIGTERM);
    rc = wait_exit(pid, 15000);
    free(out);
    out = slurp(log);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "catching up: billing the outcomes recorded "
                                "while billing was not running"));
    assert_non_null(strstr(out, "caught up: 2 outcomes recorded while billing "
                                "was not running are billed"));
    assert_null(strstr(out, "lost or late"));
    free(out);
    unlink(log);
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bill_report_says_billing_is_not_running),
        cmocka_unit_test(test_case_show_in_the_tenants_time_zone),
        cmocka_unit_test(test_worker_list_for_scripts),
        cmocka_unit_test(test_agent_fails_on_unknown_worker),
        cmocka_unit_test(test_billing_says_it_catches_up),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
