/* twinline-agent: simulated workers, or with --interactive the screen a
 * person works in (agent_tui). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "agent_msg.h"
#include "agent_options.h"
#include "agent_policy.h"
#include "agent_sim.h"
#include "agent_stats.h"
#include "agent_tui.h"
#include "agent_tui_options.h"
#include "assist_panel.h"
#include "clock.h"
#include "log.h"

/* Block SIGINT and SIGTERM in every thread (cnats's included) so that only
 * the main thread takes them, with sigtimedwait. A shell starts background
 * jobs with SIGINT ignored, and an ignored signal is discarded rather than
 * queued, so the default action is restored first. */
static void block_signals(sigset_t *set)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, set, NULL);
}

/* Wait for a signal, --duration-s or --max-tasks; false (with e) when the
 * run failed (a worker the dispatcher does not know). */
static bool wait_for_end(agent_sim *sim, const sigset_t *set,
                         int64_t duration_s, err *e)
{
    int64_t end = duration_s > 0 ? clock_mono_us() + duration_s * 1000000 : 0;
    struct timespec tick = {0, 200 * 1000000L};

    for (;;) {
        int sig = sigtimedwait(set, NULL, &tick);

        if (sig == SIGINT || sig == SIGTERM) {
            log_info("agent", "signal %d: stopping", sig);
            return true;
        }
        if (agent_sim_failed(sim, e))
            return false;
        if (end != 0 && clock_mono_us() >= end) {
            log_info("agent", "--duration-s reached: stopping");
            return true;
        }
        if (agent_sim_done(sim)) {
            log_info("agent", "--max-tasks reached and answered: stopping");
            return true;
        }
    }
}

static int run_interactive(int argc, char **argv, const sigset_t *set)
{
    agent_tui_options o;
    err e = {0};

    if (agent_tui_options_parse(&o, argc, argv, &e) != ST_OK) {
        fprintf(stderr, "twinline-agent: %s\n", e.msg);
        return 2;
    }
    if (o.help) {
        fputs(agent_tui_options_help, stdout);
        fputs(config_flags_help, stdout);
        return 0;
    }
    return agent_tui_run(&o, set);
}

int main(int argc, char **argv)
{
    agent_options opt;
    agent_policy *policy = NULL;
    agent_stats *stats = NULL;
    agent_sim *sim = NULL;
    agent_sim_opts so;
    assist_kb *kbs[AGENT_MAX_KBS] = {0};
    sigset_t set;
    err e = {0};
    status st;
    bool ok;
    int rc = 1;

    block_signals(&set);
    if (agent_tui_options_wanted(argc, argv))
        return run_interactive(argc, argv, &set);
    st = agent_options_parse(&opt, argc, argv, &e);
    if (st != ST_OK) {
        fprintf(stderr, "twinline-agent: %s\n", e.msg);
        rc = 2;
        goto out;
    }
    if (opt.help) {
        fputs(agent_options_help, stdout);
        fputs(config_flags_help, stdout);
        fputs("\nFor the interactive screen: twinline-agent --interactive "
              "--help\n",
              stdout);
        rc = 0;
        goto out;
    }
    st = opt.policy_path != NULL
             ? agent_policy_load(&policy, opt.policy_path, &e)
             : agent_policy_create(&policy, &e);
    if (st == ST_OK)
        st = agent_stats_create(&stats, &e);
    for (int i = 0; i < opt.nkbs && st == ST_OK; i++)
        st = assist_kb_load(&kbs[i], opt.kbs[i], &e);
    if (st != ST_OK) {
        fprintf(stderr, "twinline-agent: %s\n", e.msg);
        rc = 2;
        goto out;
    }
    agent_sim_opts_init(&so);
    so.nats = opt.cfg.nats;
    so.prefix = opt.cfg.prefix;
    so.creds = opt.cfg.creds[0] != '\0' ? opt.cfg.creds : NULL;
    so.creds_dir = opt.cfg.creds_dir[0] != '\0' ? opt.cfg.creds_dir : NULL;
    so.workers = (const char *const *)opt.workers;
    so.nworkers = opt.nworkers;
    so.handle_ms = opt.handle_ms;
    so.jitter_pct = opt.jitter_pct;
    so.reject_rate = opt.reject_rate;
    so.seed = opt.seed;
    so.max_tasks = opt.max_tasks;
    so.policy = policy;
    so.stats = stats;
    so.ai = opt.ai;
    so.kbs = (const assist_kb *const *)kbs;
    so.nkbs = opt.nkbs;
    so.confidence_floor = opt.confidence_floor;
    so.standby = (const char *const *)opt.workers + opt.standby_from;
    so.nstandby = opt.nstandby;
    /* An AI worker finishes tasks in milliseconds: its answers go out in
     * bulk requests unless told otherwise. */
    so.batch = opt.batch >= 0 ? opt.batch : opt.ai ? AGENT_MANY_MAX : 1;
    /* Started while NATS is down: wait for it (a signal still stops the
     * wait) rather than exit. */
    for (int tries = 0;; tries++) {
        struct timespec second = {1, 0};
        err_clear(&e);
        if (agent_sim_start(&sim, &so, &e) == ST_OK)
            break;
        if (e.code != ST_UNAVAILABLE) {
            fprintf(stderr, "twinline-agent: %s\n", e.msg);
            goto out;
        }
        if (tries % 10 == 0)
            log_warn("agent", "waiting for NATS (retrying every second): %s",
                     e.msg);
        if (sigtimedwait(&set, NULL, &second) > 0)
            goto out;
    }
    ok = wait_for_end(sim, &set, opt.duration_s, &e);
    agent_sim_stop(sim);
    agent_stats_print(stats, stderr);
    rc = 0;
    if (!ok) {
        fprintf(stderr, "twinline-agent: %s\n", e.msg);
        rc = 1;
    }
    if (opt.stats_path != NULL &&
        agent_stats_write_file(stats, opt.stats_path, &e) != ST_OK) {
        fprintf(stderr, "twinline-agent: %s\n", e.msg);
        rc = 1;
    }
out:
    agent_sim_destroy(sim);
    agent_stats_destroy(stats);
    agent_policy_destroy(policy);
    for (int i = 0; i < AGENT_MAX_KBS; i++)
        assist_kb_destroy(kbs[i]);
    agent_options_free(&opt);
    return rc;
}
