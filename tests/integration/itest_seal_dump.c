/*
 * The dump test (issue 10): a demo-sized stream of the feed's realistic
 * cases — Chinese and English names, phones, identity numbers, addresses
 * and the customers' own words — through the real dispatcher, billing and
 * simulated agents (the binaries of this build, logging at debug level),
 * then pg_dump of the whole database: not one of the names, phones,
 * identity numbers or personal texts submitted is in it, nor in any
 * program's log, nor in the live figures or a routing explanation. And the
 * worker who accepted a task did get them in plain text.
 */
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "cmd_explain.h"
#include "harness.h"
#include "stats.h"
#include "strtab.h"
#include "tl_test.h"

#define NCASES 400

static fixture f;
static char dir[] = "/tmp/tl-dump-XXXXXX";
static strtab *secrets; /* every personal value submitted */

/* Run path with argv in a child that dies with the test, its output to
 * dir/log; TL_LOG=debug so that the logs say all they can. */
static pid_t spawn(char *const argv[], const char *log)
{
    char path[512];
    pid_t pid;
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, log);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        setenv("TL_DB", f.cfg.db, 1);
        setenv("TL_NATS", f.cfg.nats, 1);
        setenv("TL_PREFIX", f.cfg.prefix, 1);
        setenv("TL_LOG", "debug", 1);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fd);
    return pid;
}

static void stop(pid_t pid)
{
    int st = 0;

    kill(pid, SIGTERM);
    waitpid(pid, &st, 0);
}

static void keep(const char *s)
{
    int ix;
    err e = {0};

    if (s != NULL && s[0] != '\0')
        assert_int_equal(strtab_intern(secrets, s, &ix, &e), ST_OK);
}

/* The personal values of a submitted case: the whole customer, and the
 * payload fields the example playbooks mark personal. */
static void keep_case(const json_t *c)
{
    static const char *const texts[] = {"hardship_note", "cardholder_statement",
                                        "text", "description"};
    static const char *const places[] = {"home_address", "incident_location"};
    const json_t *cus = json_object_get(c, "customer");
    const json_t *pay = json_object_get(c, "payload");

    keep(json_string_value(json_object_get(cus, "name")));
    keep(json_string_value(json_object_get(cus, "phone")));
    keep(json_string_value(json_object_get(cus, "id_number")));
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        keep(json_string_value(json_object_get(pay, texts[i])));
    for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++)
        keep(json_string_value(
            json_object_get(json_object_get(pay, places[i]), "street")));
}

static const char *const kinds[][2] = {{"jsbank", "loan_overdue"},
                                       {"jsbank", "card_dispute"},
                                       {"jsbank", "complaint"},
                                       {"hzinsure", "claim"}};

/* Submit case i of the stream (the feed's generator); the body as JSON. */
static json_t *submit(bus *b, int i)
{
    char ext[32], subj[160], *body;
    int64_t deadline = clock_mono_us() + 30000000;
    json_t *c;

    snprintf(ext, sizeof(ext), "DUMP-%d", i);
    snprintf(subj, sizeof(subj), "%s.api.%s.case.submit", f.cfg.prefix,
             kinds[i % 4][0]);
    body = harness_case_body(kinds[i % 4][1], ext, (uint64_t)i + 1000);
    c = json_loads(body, 0, NULL);
    assert_non_null(c);
    keep_case(c);
    while (clock_mono_us() < deadline) {
        bus_msg *r = NULL;
        err e = {0};

        if (bus_request(b, subj, body, strlen(body), 2000, &r, &e) == ST_OK) {
            bool ok = strstr(bus_msg_data(r), "\"ok\":true") != NULL;

            if (!ok)
                fail_msg("submit %s: %s", ext, bus_msg_data(r));
            bus_msg_free(r);
            free(body);
            return c;
        }
        clock_sleep_ms(100);
    }
    fail_msg("case %s was never answered", ext);
    return NULL;
}

static json_t *request(bus *b, const char *rest, const char *body)
{
    return harness_request(&f, b, rest, body);
}

/* The fields an outcome needs, made up by type (docs/protocol.md). */
static json_t *fields_for(const json_t *outcome)
{
    json_t *out = json_object();
    const char *name;
    json_t *type;

    json_object_foreach(json_object_get((json_t *)outcome, "fields"), name,
                        type)
    {
        const char *t = json_string_value(type);

        if (strcmp(t, "amount_minor") == 0 || strcmp(t, "int") == 0)
            json_object_set_new(out, name, json_integer(100));
        else if (strcmp(t, "date") == 0)
            json_object_set_new(out, name, json_string("2026-12-05"));
        else if (strcmp(t, "bool") == 0)
            json_object_set_new(out, name, json_true());
        else
            json_object_set_new(out, name, json_string("done"));
    }
    return out;
}

/* w001, the only worker available, takes the first case's offer: the
 * accept reply carries the customer in plain text. */
static void first_case_to_w001(bus *b)
{
    static inbox offers; /* subscribed until the bus closes */
    char subj[160], body[1024];
    json_t *sent, *offer, *r, *task, *oc, *fields;
    const char *code, *note;
    void *it;
    char *fj;

    /* The dispatcher is starting: ask until it answers. */
    snprintf(subj, sizeof(subj), "%s.agent.w001.presence", f.cfg.prefix);
    for (int64_t until = clock_mono_us() + 30000000;;) {
        static const char avail[] = "{\"presence\":\"available\"}";
        bus_msg *m = NULL;
        err e = {0};
        bool ok = false;

        if (bus_request(b, subj, avail, strlen(avail), 1000, &m, &e) == ST_OK) {
            ok = strstr(bus_msg_data(m), "\"ok\":true") != NULL;
            bus_msg_free(m);
        }
        if (ok)
            break;
        if (clock_mono_us() > until)
            fail_msg("the dispatcher never answered");
        clock_sleep_ms(200);
    }
    snprintf(subj, sizeof(subj), "%s.worker.w001.offer", f.cfg.prefix);
    inbox_listen(&offers, b, subj);
    sent = submit(b, 0); /* loan_overdue: w001 holds the licence */
    offer = inbox_next(&offers, 10000);
    assert_non_null(offer);
    fj = json_dumps(offer, 0);
    assert_null(strstr(fj, json_string_value(json_object_get(
                               json_object_get(sent, "customer"), "name"))));
    free(fj);
    snprintf(
        body, sizeof(body), "{\"reservation_id\":%lld,\"epoch\":%lld}",
        (long long)json_integer_value(json_object_get(offer, "reservation_id")),
        (long long)json_integer_value(json_object_get(offer, "epoch")));
    r = request(b, "agent.w001.accept", body);
    task = json_object_get(r, "task");
    assert_true(json_equal(json_object_get(task, "customer"),
                           json_object_get(sent, "customer")));
    assert_true(json_equal(json_object_get(task, "payload"),
                           json_object_get(sent, "payload")));
    note = json_string_value(
        json_object_get(json_object_get(sent, "payload"), "hardship_note"));
    if (note != NULL)
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(task, "payload"),
                                              "hardship_note")),
            note);
    json_decref(r);
    it = json_object_iter(json_object_get(offer, "outcomes"));
    code = json_object_iter_key(it);
    oc = json_object_iter_value(it);
    fields = fields_for(oc);
    fj = json_dumps(fields, JSON_COMPACT);
    snprintf(
        body, sizeof(body),
        "{\"reservation_id\":%lld,\"epoch\":%lld,\"outcome\":"
        "{\"code\":\"%s\",\"fields\":%s}}",
        (long long)json_integer_value(json_object_get(offer, "reservation_id")),
        (long long)json_integer_value(json_object_get(offer, "epoch")), code,
        fj);
    free(fj);
    json_decref(fields);
    r = request(b, "agent.w001.complete", body);
    if (!json_is_true(json_object_get(r, "ok")))
        fail_msg("complete: %s", json_dumps(r, 0));
    json_decref(r);
    json_decref(
        request(b, "agent.w001.presence", "{\"presence\":\"offline\"}"));
    json_decref(offer);
    json_decref(sent);
    inbox_drain(&offers);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *in = fopen(path, "r");
    char *buf;
    long n;

    assert_non_null(in);
    fseek(in, 0, SEEK_END);
    n = ftell(in);
    rewind(in);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, in), (size_t)n);
    buf[n] = '\0';
    fclose(in);
    *len = (size_t)n;
    return buf;
}

/* No secret in text (what names it, for the message). */
static void none_in(const char *text, const char *what)
{
    for (int i = 0; i < strtab_count(secrets); i++)
        if (strstr(text, strtab_name(secrets, i)) != NULL)
            fail_msg("%s holds the personal value \"%s\"", what,
                     strtab_name(secrets, i));
}

static void pg_dump_to(const char *out)
{
    glob_t g;
    pid_t pid;
    int st = 0;

    assert_int_equal(glob("/usr/lib/postgresql/*/bin/pg_dump", 0, NULL, &g), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *argv[] = {g.gl_pathv[g.gl_pathc - 1],
                        "--no-password",
                        "-d",
                        f.cfg.db,
                        "-f",
                        (char *)out,
                        NULL};
        execv(argv[0], argv);
        _exit(127);
    }
    waitpid(pid, &st, 0);
    globfree(&g);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_dump_holds_no_customer_data(void **state)
{
    char disp[512], bill[512], agent[512], workers[8192], path[600];
    char *dargv[] = {disp, "--stream-mb", "8", NULL};
    char *bargv[] = {bill, NULL};
    char *aargv[] = {agent, "--workers", workers, "--handle-ms", "0", NULL};
    static const char *const logs[] = {"dispatcher.log", "billing.log",
                                       "agent.log"};
    pid_t pd, pb, pa;
    bus *b;
    char *text, *dump;
    size_t len;
    stats *st = NULL;
    err e = {0};

    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(strtab_create(&secrets, &e), ST_OK);
    fixture_setup(&f, "seal_dump");
    harness_load_examples(&f);
    snprintf(disp, sizeof(disp), "%s/dispatcher/twinline-dispatcher",
             TL_BINARY_DIR);
    snprintf(bill, sizeof(bill), "%s/billing/twinline-billing", TL_BINARY_DIR);
    snprintf(agent, sizeof(agent), "%s/worker/twinline-agent", TL_BINARY_DIR);
    fixture_str(&f,
                "SELECT string_agg(id, ',' ORDER BY id) FROM workers WHERE"
                " kind = 'human' AND id <> 'w001'",
                workers, sizeof(workers));
    pd = spawn(dargv, "dispatcher.log");
    b = fixture_bus(&f);
    first_case_to_w001(b);
    pb = spawn(bargv, "billing.log");
    pa = spawn(aargv, "agent.log");
    for (int i = 1; i < NCASES; i++)
        json_decref(submit(b, i));
    assert_int_equal(fixture_wait_i64(&f,
                                      "SELECT count(*) FROM cases WHERE"
                                      " state <> 'open'",
                                      NCASES, 240000),
                     NCASES);
    /* The live figures and a routing explanation hold none of it. */
    assert_int_equal(stats_collect(f.db, &st, &e), ST_OK);
    text = stats_json(st);
    assert_non_null(strstr(text, "w002"));
    none_in(text, "the live figures");
    free(text);
    stats_destroy(st);
    {
        FILE *out = open_memstream(&text, &len);
        int64_t task = fixture_i64(&f, "SELECT max(t.id) FROM tasks t JOIN"
                                       " routing_decisions d ON d.task_id ="
                                       " t.id");

        assert_int_equal(cmd_explain_task(f.db, task, out, &e), ST_OK);
        fclose(out);
        none_in(text, "twinline explain");
        free(text);
    }
    stop(pa);
    stop(pb);
    stop(pd);
    bus_close(b);

    /* Hundreds of cases, Chinese and English, with identity numbers and
     * personal texts among what was submitted. */
    assert_true(strtab_count(secrets) > NCASES);
    assert_true(fixture_i64(&f, "SELECT count(*) FROM cases WHERE personal IS"
                                " NOT NULL") == NCASES);
    snprintf(path, sizeof(path), "%s/twinline.sql", dir);
    pg_dump_to(path);
    dump = slurp(path, &len);
    /* The dump is complete: the cases, their plain fields, the sealed
     * values ("TS", version 1) and the wrapped data keys are in it. */
    assert_non_null(strstr(dump, "DUMP-399"));
    assert_non_null(strstr(dump, "overdue_minor"));
    assert_non_null(strstr(dump, "\\\\x545301"));
    assert_non_null(strstr(dump, "COPY public.tenant_data_keys"));
    none_in(dump, "pg_dump of the database");
    free(dump);
    /* The search finds a personal value when there is one to find. */
    {
        char sql[256];

        snprintf(sql, sizeof(sql),
                 "CREATE TABLE leak_probe (v text);"
                 " INSERT INTO leak_probe VALUES ('%s')",
                 strtab_name(secrets, 0));
        fixture_exec(&f, sql);
        pg_dump_to(path);
        dump = slurp(path, &len);
        assert_non_null(strstr(dump, strtab_name(secrets, 0)));
        free(dump);
    }
    unlink(path);
    for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, logs[i]);
        text = slurp(path, &len);
        assert_true(len > 0);
        none_in(text, logs[i]);
        free(text);
        unlink(path);
    }
    rmdir(dir);
    strtab_destroy(secrets);
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dump_holds_no_customer_data),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
