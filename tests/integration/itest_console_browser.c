/*
 * The operator's dashboard in real headless Chromium: the examples are
 * loaded, the real dispatcher routes, simulated agents work, the console
 * serves with its background work on, and cases keep arriving while
 * tests/browser/dashboard.mjs (playwright-core driving Debian's
 * /usr/bin/chromium) signs in, watches a live figure change, raises a
 * task's priority, deactivates a worker and sees its state change, reads
 * a case timeline and exports the intervals.
 * scripts/deps.sh installs Chromium and playwright-core.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "console.h"
#include "console_keys.h"
#include "fixture.h"
#include "harness.h"
#include "tl_test.h"

typedef struct feeder {
    fixture *f;
    bus *b;
    atomic_bool stop;
    int n;
} feeder;

/* A case every 250 ms while the browser looks. */
static void *feed(void *arg)
{
    feeder *fd = arg;

    while (!atomic_load(&fd->stop)) {
        harness_submit_retry(fd->f, fd->b, "BR", fd->n++);
        clock_sleep_ms(250);
    }
    return NULL;
}

/* Run node script args, giving up after timeout_s; its exit status. */
static int run_node(char *const argv[], int timeout_s)
{
    pid_t pid = fork();
    int ws = 0;

    assert_true(pid >= 0);
    if (pid == 0) {
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s; install Node.js (scripts/deps.sh)\n",
                argv[0]);
        _exit(127);
    }
    for (int i = 0; i < timeout_s * 10; i++) {
        if (waitpid(pid, &ws, WNOHANG) == pid)
            return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128;
        clock_sleep_ms(100);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &ws, 0);
    fail_msg("the browser test did not finish in %d s", timeout_s);
    return 1;
}

static void test_dashboard_in_chromium(void **state)
{
    fixture f;
    running_dispatcher rd;
    dispatcher_opts dopts;
    console *c = NULL;
    console_opts o;
    agent_sim *sim = NULL;
    agent_stats *stats = NULL;
    feeder fd = {0};
    pthread_t feeder_thread;
    char key[CONSOLE_KEY_MAX], url[64], case_id[24], sql[256];
    char script[512], modules[512], shot[512];
    struct stat sb;
    bus *b;
    err e = {0};
    int rc;

    (void)state;
    snprintf(script, sizeof(script), "%s/tests/browser/dashboard.mjs",
             TL_SOURCE_DIR);
    snprintf(modules, sizeof(modules),
             "%s/tests/browser/node_modules/playwright-core", TL_SOURCE_DIR);
    snprintf(shot, sizeof(shot), "%s/tests/dashboard.png", TL_BINARY_DIR);
    if (stat(modules, &sb) != 0 || stat("/usr/bin/chromium", &sb) != 0)
        fail_msg("Chromium or playwright-core is missing; run scripts/deps.sh");

    fixture_setup(&f, "console_browser");
    harness_load_examples(&f);
    dispatcher_opts_default(&dopts);
    dopts.stats_ms = 500;
    harness_start(&rd, &f, &dopts);
    /* Slow enough that workers hold tasks while the page looks. */
    harness_agents_start(&f, 6000, &sim, &stats);
    assert_int_equal(console_keys_create(f.db, CONSOLE_KEY_OPERATOR, "acme_bpo",
                                         "wallboard", key, &e),
                     ST_OK);
    console_opts_default(&o);
    o.port = 0;
    o.sample_ms = 500;
    o.rollup_ms = 1000;
    assert_int_equal(console_create(&c, &f.cfg, &o, &e), ST_OK);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", console_port(c));

    /* One case routed before the page opens, for its timeline. */
    b = fixture_bus(&f);
    harness_submit_retry(&f, b, "FIRST", 0);
    fixture_str(&f, "SELECT id FROM cases WHERE external_id = 'FIRST-0'",
                case_id, sizeof(case_id));
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM routing_decisions d JOIN tasks t ON"
             " t.id = d.task_id WHERE t.case_id = %s",
             case_id);
    assert_true(fixture_wait_i64(&f, sql, 1, 20000) >= 1);

    fd.f = &f;
    fd.b = b;
    pthread_create(&feeder_thread, NULL, feed, &fd);
    {
        char *argv[] = {"node", script, url, key, case_id, shot, NULL};

        rc = run_node(argv, 240);
    }
    atomic_store(&fd.stop, true);
    pthread_join(feeder_thread, NULL);
    assert_int_equal(rc, 0);
    /* Chromium's screenshot of the dashboard is left beside the tests. */
    assert_int_equal(stat(shot, &sb), 0);
    /* What the page did reached the dispatcher. */
    assert_true(fixture_i64(&f, "SELECT count(*) FROM console_audit WHERE"
                                " action = 'task.priority' AND reason LIKE"
                                " 'browser test%'") >= 1);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM audit_log WHERE"
                                     " action = 'worker.deactivate' AND"
                                     " details LIKE '%left the shift%'"),
                     1);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM workers WHERE"
                                     " NOT active"),
                     0);

    console_destroy(c);
    agent_sim_stop(sim);
    agent_sim_destroy(sim);
    agent_stats_destroy(stats);
    bus_close(b);
    harness_stop(&rd);
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dashboard_in_chromium),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
