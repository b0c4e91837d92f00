#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "billing_service.h"
#include "clock.h"
#include "cmd_load.h"
#include "feed.h"
#include "tl_test.h"

static void *run_thread(void *arg)
{
    running_dispatcher *rd = arg;
    err e = {0};

    dispatcher_run(rd->d, &e);
    return NULL;
}

void harness_start(running_dispatcher *rd, fixture *f, const dispatcher_opts *o)
{
    dispatcher_opts def;
    err e = {0};

    if (o == NULL) {
        dispatcher_opts_default(&def);
        o = &def;
    }
    /* Every test has its own stream on the shared server: keep them small
     * so their reservations fit in the server's storage limit. */
    def = *o;
    def.stream_max_bytes = 8LL * 1024 * 1024;
    o = &def;
    if (dispatcher_create(&rd->d, &f->cfg, o, &e) != ST_OK)
        fail_msg("dispatcher_create: %s", e.msg);
    pthread_create(&rd->thread, NULL, run_thread, rd);
}

void harness_stop(running_dispatcher *rd)
{
    if (rd->d == NULL)
        return;
    dispatcher_stop(rd->d);
    pthread_join(rd->thread, NULL);
    dispatcher_destroy(rd->d);
    rd->d = NULL;
}

static void on_inbox(void *ctx, bus_msg *m)
{
    inbox *ib = ctx;
    char *copy = strndup(bus_msg_data(m), bus_msg_len(m));

    pthread_mutex_lock(&ib->mu);
    if (copy != NULL && ib->n < 512)
        ib->bodies[ib->n++] = copy;
    else
        free(copy);
    pthread_cond_broadcast(&ib->cv);
    pthread_mutex_unlock(&ib->mu);
    bus_msg_free(m);
}

void inbox_listen(inbox *ib, bus *b, const char *subject)
{
    err e = {0};

    memset(ib, 0, sizeof(*ib));
    pthread_mutex_init(&ib->mu, NULL);
    pthread_cond_init(&ib->cv, NULL);
    if (bus_subscribe(b, subject, NULL, on_inbox, ib, &e) != ST_OK)
        fail_msg("subscribe %s: %s", subject, e.msg);
    if (bus_flush(b, 2000, &e) != ST_OK)
        fail_msg("flush: %s", e.msg);
}

json_t *inbox_next(inbox *ib, int timeout_ms)
{
    int64_t deadline = clock_mono_us() + (int64_t)timeout_ms * 1000;
    char *body = NULL;
    json_t *v;

    pthread_mutex_lock(&ib->mu);
    while (ib->head >= ib->n && clock_mono_us() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20L * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&ib->cv, &ib->mu, &ts);
    }
    if (ib->head < ib->n)
        body = ib->bodies[ib->head++];
    pthread_mutex_unlock(&ib->mu);
    if (body == NULL)
        return NULL;
    v = json_loads(body, 0, NULL);
    free(body);
    if (v == NULL)
        fail_msg("inbox got a message that is not JSON");
    return v;
}

void inbox_drain(inbox *ib)
{
    pthread_mutex_lock(&ib->mu);
    while (ib->head < ib->n)
        free(ib->bodies[ib->head++]);
    pthread_mutex_unlock(&ib->mu);
}

json_t *harness_request(fixture *f, bus *b, const char *rest, const char *body)
{
    char subj[256];
    bus_msg *r = NULL;
    err e = {0};
    json_t *v;

    snprintf(subj, sizeof(subj), "%s.%s", f->cfg.prefix, rest);
    if (bus_request(b, subj, body, strlen(body), 5000, &r, &e) != ST_OK)
        fail_msg("request %s: %s", subj, e.msg);
    v = json_loadb(bus_msg_data(r), bus_msg_len(r), 0, NULL);
    bus_msg_free(r);
    if (v == NULL)
        fail_msg("reply to %s is not JSON", subj);
    return v;
}

const char *harness_error_code(const json_t *reply)
{
    const char *c = json_string_value(
        json_object_get(json_object_get(reply, "error"), "code"));

    return c != NULL ? c : "";
}

void harness_seed(fixture *f)
{
    fixture_exec(
        f,
        "INSERT INTO tenants (id, name) VALUES ('bank1', 'First Bank'),"
        " ('bank2', 'Second Bank');"
        "INSERT INTO operators (id, name) VALUES ('op1', 'Operator One');"
        "INSERT INTO pools (id, operator_id, name) VALUES"
        " ('front', 'op1', 'Frontline'), ('spec', 'op1', 'Specialists');"
        "INSERT INTO workers (id, pool_id, name) VALUES"
        " ('wa', 'front', 'A'), ('wb', 'front', 'B'), ('wc', 'spec', 'C');"
        "INSERT INTO worker_skills (worker_id, skill, level, ai_level) VALUES"
        " ('wa', 'collections', 2, 0), ('wa', 'legal', 1, 3),"
        " ('wb', 'collections', 2, 0), ('wc', 'legal', 4, 0),"
        " ('wc', 'collections', 1, 0);"
        "INSERT INTO worker_capacity (worker_id, channel, slots)"
        " SELECT w, c, s FROM (VALUES ('voice', 1), ('chat', 3),"
        " ('backoffice', 5)) AS x(c, s), unnest(ARRAY['wa','wb','wc']) AS w;"
        "INSERT INTO contracts (id, tenant_id, pool_id, currency) VALUES"
        " ('k-front', 'bank1', 'front', 'CNY'),"
        " ('k-spec', 'bank1', 'spec', 'CNY');"
        "INSERT INTO contract_case_types VALUES ('k-front', 'loan'),"
        " ('k-spec', 'loan');"
        "INSERT INTO contract_prices VALUES"
        " ('k-front', 'loan', 'promise_to_pay', 3000),"
        " ('k-front', 'loan', 'resolved', 5000),"
        " ('k-spec', 'loan', 'promise_to_pay', 3500),"
        " ('k-spec', 'loan', 'resolved', 6000);"
        "INSERT INTO playbooks (tenant_id, case_type, version, name,"
        " definition) VALUES ('bank1', 'loan', 1, 'Loan', '{}');"
        "INSERT INTO playbook_steps (tenant_id, case_type, version, step,"
        " ordinal, channel, sla_seconds, ai_mode, skills, after_steps,"
        " when_outcomes, outcomes) VALUES"
        " ('bank1', 'loan', 1, 'contact', 1, 'voice', 300, 'assist',"
        "  '{\"collections\": 2}', '{}', '{}',"
        "  '{\"promise_to_pay\": {\"billable\": true, \"fields\":"
        "  {\"amount_minor\": \"amount_minor\", \"due_date\": \"date\"}},"
        "  \"dispute\": {\"billable\": false, \"fields\": {}}}'),"
        " ('bank1', 'loan', 1, 'legal', 2, 'backoffice', 3600, 'assist',"
        "  '{\"legal\": 3}', '{contact}', '{dispute}',"
        "  '{\"resolved\": {\"billable\": true, \"fields\": {}},"
        "  \"escalated\": {\"billable\": false, \"fields\": {}}}');");
}

void harness_world_up(harness_world *w, const char *name,
                      const harness_world_opts *o)
{
    char subj[160];

    if (o->nworkers > HARNESS_WORKERS_MAX)
        fail_msg("harness_world_up: %d workers, at most %d", o->nworkers,
                 HARNESS_WORKERS_MAX);
    fixture_setup(&w->f, name);
    harness_seed(&w->f);
    if (o->seed_sql != NULL)
        fixture_exec(&w->f, o->seed_sql);
    if (o->sql != NULL)
        fixture_exec(&w->f, o->sql);
    harness_start(&w->rd, &w->f, o->dispatcher);
    w->b = fixture_bus(&w->f);
    w->nworkers = o->nworkers;
    for (int i = 0; i < o->nworkers; i++) {
        snprintf(subj, sizeof(subj), "%s.worker.%s.offer", w->f.cfg.prefix,
                 o->workers[i]);
        inbox_listen(&w->offers[i], w->b, subj);
        snprintf(subj, sizeof(subj), "%s.worker.%s.notice", w->f.cfg.prefix,
                 o->workers[i]);
        inbox_listen(&w->notices[i], w->b, subj);
    }
}

void harness_world_down(harness_world *w)
{
    harness_stop(&w->rd);
    bus_close(w->b);
    for (int i = 0; i < w->nworkers; i++) {
        inbox_drain(&w->offers[i]);
        inbox_drain(&w->notices[i]);
    }
    fixture_teardown(&w->f);
}

void harness_load_examples(fixture *f)
{
    static const char *const files[] = {"examples/operator.json",
                                        "examples/bank.json",
                                        "examples/insurer.json"};
    char path[512];
    err e = {0};

    for (int i = 0; i < 3; i++)
        if (cmd_load_file(f->db, fixture_path(files[i], path, sizeof(path)),
                          NULL, &e) != ST_OK)
            fail_msg("load %s: %s", files[i], e.msg);
}

static void *billing_thread(void *arg)
{
    running_billing *rb = arg;
    err e = {0};

    billing_service_run(rb->s, &e);
    return NULL;
}

void harness_billing_start(running_billing *rb, fixture *f)
{
    billing_options o;
    err e = {0};

    billing_options_default(&o);
    o.cfg = f->cfg;
    o.sweep_ms = 500;
    o.stream_bytes = 8LL * 1024 * 1024;
    rb->s = NULL;
    for (int i = 0; i < 100 && rb->s == NULL; i++)
        if (billing_service_create(&rb->s, &o, &e) != ST_OK)
            clock_sleep_ms(100);
    if (rb->s == NULL)
        fail_msg("billing: %s", e.msg);
    pthread_create(&rb->thread, NULL, billing_thread, rb);
}

void harness_billing_stop(running_billing *rb)
{
    billing_service_stop(rb->s);
    pthread_join(rb->thread, NULL);
    billing_service_destroy(rb->s);
    rb->s = NULL;
}

pid_t harness_spawn_dispatcher(fixture *f)
{
    char path[512];
    char *argv[] = {path,   "--lease-ms",  "3000", "--offer-timeout-ms",
                    "3000", "--stream-mb", "8",    NULL};
    pid_t pid;

    snprintf(path, sizeof(path), "%s/dispatcher/twinline-dispatcher",
             TL_BINARY_DIR);
    setenv("TL_DB", f->cfg.db, 1);
    setenv("TL_NATS", f->cfg.nats, 1);
    setenv("TL_PREFIX", f->cfg.prefix, 1);
    if (f->cfg.creds[0] != '\0')
        setenv("TL_NATS_CREDS", f->cfg.creds, 1);
    pid = fork();
    if (pid < 0)
        fail_msg("cannot fork for %s", path);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execv(path, argv);
        _exit(127);
    }
    return pid;
}

char *harness_case_body(const char *case_type, const char *ext, uint64_t seed)
{
    uint64_t rng = seed * 7919 + 1;
    char *body = NULL;
    err e = {0};

    if (feed_case_json(&rng, case_type, ext, &body, &e) != ST_OK)
        fail_msg("case body: %s", e.msg);
    return body;
}

void harness_submit_retry(fixture *f, bus *b, const char *ext_prefix, int i)
{
    static const char *const kinds[][2] = {{"jsbank", "loan_overdue"},
                                           {"jsbank", "card_dispute"},
                                           {"jsbank", "complaint"},
                                           {"hzinsure", "claim"}};
    char subj[160], ext[96], *body;
    int64_t deadline = clock_mono_us() + 30000000;

    snprintf(subj, sizeof(subj), "%s.api.%s.case.submit", f->cfg.prefix,
             kinds[i % 4][0]);
    snprintf(ext, sizeof(ext), "%s-%d", ext_prefix, i);
    body = harness_case_body(kinds[i % 4][1], ext, (uint64_t)i);
    while (clock_mono_us() < deadline) {
        bus_msg *r = NULL;
        err e = {0};
        if (bus_request(b, subj, body, strlen(body), 1000, &r, &e) == ST_OK) {
            bool ok = strstr(bus_msg_data(r), "\"ok\":true") != NULL;
            bus_msg_free(r);
            if (ok) {
                free(body);
                return;
            }
        }
        clock_sleep_ms(50);
    }
    free(body);
    fail_msg("case %s-%d was never accepted", ext_prefix, i);
}

void harness_agents_start(fixture *f, int handle_ms, agent_sim **sim,
                          agent_stats **stats)
{
    agent_sim_opts ao;
    char list[4096], oncall[4096];
    char *ids[64], *standby[64];
    int nids = 0, nstandby = 0;
    err e = {0};

    fixture_str(f, "SELECT string_agg(id, ',' ORDER BY id) FROM workers", list,
                sizeof(list));
    for (char *save = NULL, *t = strtok_r(list, ",", &save);
         t != NULL && nids < 64; t = strtok_r(NULL, ",", &save))
        ids[nids++] = t;
    /* On-call workers wait offline for a call-up. */
    fixture_str(f,
                "SELECT COALESCE(string_agg(id, ',' ORDER BY id), '') FROM"
                " workers WHERE on_call",
                oncall, sizeof(oncall));
    for (char *save = NULL, *t = strtok_r(oncall, ",", &save);
         t != NULL && nstandby < 64; t = strtok_r(NULL, ",", &save))
        standby[nstandby++] = t;
    if (agent_stats_create(stats, &e) != ST_OK)
        fail_msg("agent stats: %s", e.msg);
    agent_sim_opts_init(&ao);
    ao.nats = f->cfg.nats;
    ao.creds = f->cfg.creds[0] ? f->cfg.creds : NULL;
    ao.prefix = f->cfg.prefix;
    ao.workers = (const char *const *)ids;
    ao.nworkers = nids;
    ao.handle_ms = handle_ms;
    ao.stats = *stats;
    ao.standby = (const char *const *)standby;
    ao.nstandby = nstandby;
    if (agent_sim_start(sim, &ao, &e) != ST_OK)
        fail_msg("agents: %s", e.msg);
}
