/*
 * twinline identity and twinline nats-auth (cli/cmd_identity.h) on the
 * test's database and a nats-server of the test's own: what an operator
 * sees when making, listing, rotating and revoking identities, the clear
 * errors of bad input (which change nothing), credentials files that only
 * their owner may read, the authorization that follows the database
 * through a reload without dropping anyone else, and the audit record
 * each change appends (who, the identity's keys, never its seed; none
 * for a command refused) on a trail that still verifies.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus.h"
#include "clock.h"
#include "cmd_audit.h"
#include "cmd_identity.h"
#include "fixture.h"
#include "harness.h"
#include "nats_server.h"
#include "nkey.h"
#include "tl_test.h"

static fixture fx;
static nats_server srv;

static int setup(void **state)
{
    (void)state;
    fixture_setup(&fx, "identity");
    harness_seed(&fx);
    nats_server_dir(&srv, "tl_identity");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nats_server_stop(&srv);
    fixture_teardown(&fx);
    return 0;
}

static int64_t count(const char *sql)
{
    return fixture_i64(&fx, sql);
}

static void path_of(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", srv.dir, name);
}

/* What `twinline identity ...` prints and returns, with argv as given. */
static int run(char *out, size_t cap, int argc, char **argv)
{
    char path[256];
    FILE *f;
    int saved = dup(1), saved_err = dup(2), rc;
    size_t n;

    path_of(path, sizeof(path), "cli.out");
    f = fopen(path, "w+");
    assert_non_null(f);
    fflush(stdout);
    fflush(stderr);
    dup2(fileno(f), 1);
    dup2(fileno(f), 2);
    rc = strcmp(argv[0], "nats-auth") == 0 ? cmd_nats_auth(argc, argv, &fx.cfg)
         : strcmp(argv[0], "audit") == 0   ? cmd_audit(argc, argv, &fx.cfg)
                                           : cmd_identity(argc, argv, &fx.cfg);
    fflush(stdout);
    fflush(stderr);
    dup2(saved, 1);
    dup2(saved_err, 2);
    close(saved);
    close(saved_err);
    rewind(f);
    n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    fclose(f);
    return rc;
}

/* The newest audit record as "party|identity|action|subjects|details". */
static void last_record(char *buf, size_t cap)
{
    fixture_str(&fx,
                "SELECT party || '|' || identity || '|' || action || '|' ||"
                " subjects || '|' || details FROM audit_log"
                " ORDER BY seq DESC LIMIT 1",
                buf, cap);
}

/* What an identity command run by this test's user records. */
static void expect_record(const char *action, const char *subjects,
                          const char *details)
{
    struct passwd *pw = getpwuid(getuid());
    char want[1024], got[1024];

    assert_non_null(pw);
    snprintf(want, sizeof(want), "admin:%s|-|%s|%s|%s", pw->pw_name, action,
             subjects, details);
    last_record(got, sizeof(got));
    assert_string_equal(got, want);
}

/* The seed line of credentials file path, into seed. */
static void seed_of(const char *path, char *seed, size_t cap)
{
    char line[128];
    FILE *f = fopen(path, "r");

    assert_non_null(f);
    seed[0] = '\0';
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, "SU", 2) == 0) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(seed, cap, "%s", line);
        }
    fclose(f);
    assert_true(strlen(seed) > 40);
}

/* No record holds the seed of credentials file path. */
static void expect_no_seed(const char *path)
{
    char seed[128], sql[512];

    seed_of(path, seed, sizeof(seed));
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM audit_log WHERE strpos(details, '%s') > 0"
             " OR strpos(subjects, '%s') > 0",
             seed, seed);
    assert_int_equal(count(sql), 0);
}

static void test_create_and_errors(void **state)
{
    char creds[256], out[8192];
    cmd_identity_made m;
    nkey_creds c;
    struct stat sb;
    err e = {0};
    int64_t before;

    (void)state;
    path_of(creds, sizeof(creds), "wa.creds");
    assert_int_equal(
        cmd_identity_create(fx.db, "worker", "wa", NULL, creds, &m, &e), ST_OK);
    assert_string_equal(m.id, "worker-wa");
    assert_string_equal(m.party, "wa");
    assert_int_equal(stat(creds, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(nkey_creds_read(creds, &c, &e), ST_OK);
    assert_string_equal(c.identity, "worker-wa");
    assert_string_equal(c.role, "worker");
    assert_string_equal(c.public_key, m.public_key);
    nkey_creds_clear(&c);
    assert_int_equal(count("SELECT count(*) FROM identities WHERE identity = "
                           "'worker-wa' AND status = 'active'"),
                     1);
    /* Recorded in the trail: who made it, and its public key only. */
    assert_int_equal(count("SELECT count(*) FROM audit_log"), 1);
    {
        char details[256];

        snprintf(details, sizeof(details),
                 "{\"party\":\"wa\",\"public_key\":\"%s\",\"role\":"
                 "\"worker\"}",
                 m.public_key);
        expect_record("identity.create", "identity:worker-wa worker:wa",
                      details);
    }
    expect_no_seed(creds);

    /* Bad input is refused, saying what to do, and changes nothing: no
     * row, and no audit record. */
    before = count("SELECT count(*) FROM identities");
    path_of(creds, sizeof(creds), "x.creds");
    assert_int_equal(
        cmd_identity_create(fx.db, "root", NULL, NULL, creds, &m, &e),
        ST_INVALID);
    assert_non_null(strstr(e.msg, "role \"root\" is not known; roles:"));
    assert_int_equal(
        cmd_identity_create(fx.db, "tenant", "nobank", NULL, creds, &m, &e),
        ST_NOT_FOUND);
    assert_non_null(strstr(e.msg, "tenant \"nobank\" is not known; run: "
                                  "twinline tenant list"));
    assert_int_equal(
        cmd_identity_create(fx.db, "worker", "zz", NULL, creds, &m, &e),
        ST_NOT_FOUND);
    assert_non_null(strstr(e.msg, "twinline worker list"));
    assert_int_equal(
        cmd_identity_create(fx.db, "operator", NULL, NULL, creds, &m, &e),
        ST_INVALID);
    assert_non_null(strstr(e.msg, "needs the operator it speaks for"));
    assert_int_equal(
        cmd_identity_create(fx.db, "billing", "bank1", NULL, creds, &m, &e),
        ST_INVALID);
    assert_non_null(strstr(e.msg, "speaks for the installation"));
    assert_int_equal(
        cmd_identity_create(fx.db, "worker", "wa", "worker-wa", creds, &m, &e),
        ST_CONFLICT);
    assert_non_null(strstr(e.msg, "identity worker-wa exists"));
    assert_int_equal(
        cmd_identity_create(fx.db, "worker", "wa", "bad id", creds, &m, &e),
        ST_INVALID);
    /* An existing file is never overwritten, and no row is left behind. */
    path_of(creds, sizeof(creds), "wa.creds");
    assert_int_equal(
        cmd_identity_create(fx.db, "worker", "wa", NULL, creds, &m, &e),
        ST_CONFLICT);
    assert_non_null(strstr(e.msg, "refusing to overwrite"));
    assert_int_equal(count("SELECT count(*) FROM identities"), before);
    assert_int_equal(count("SELECT count(*) FROM audit_log"), 1);
    assert_int_equal(access(srv.dir, F_OK), 0);
    path_of(creds, sizeof(creds), "x.creds");
    assert_int_not_equal(access(creds, F_OK), 0);

    /* A second identity of the same party gets the next id; the command
     * says how to use it. */
    path_of(creds, sizeof(creds), "wa2.creds");
    {
        char *argv[] = {"identity", "create", "worker", "wa", "--out", creds};
        assert_int_equal(run(out, sizeof(out), 6, argv), 0);
    }
    assert_non_null(strstr(out, "identity worker-wa-2 (worker wa)"));
    assert_non_null(strstr(out, "twinline-agent --interactive --worker wa "
                                "--creds "));
    assert_non_null(strstr(out, "twinline nats-auth"));
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = "
                           "'identity.create' AND subjects = "
                           "'identity:worker-wa-2 worker:wa'"),
                     1);
    {
        char *argv[] = {"identity", "create", "sysop"};
        assert_int_equal(run(out, sizeof(out), 3, argv), 1);
        assert_non_null(strstr(out, "twinline: role \"sysop\" is not known"));
    }
    assert_int_equal(count("SELECT count(*) FROM audit_log"), 2);
    {
        char *argv[] = {"identity", "promote", "x"};
        assert_int_equal(run(out, sizeof(out), 3, argv), 2);
        assert_non_null(strstr(out, "unknown subcommand \"promote\""));
    }
}

static void test_services_and_list(void **state)
{
    static const char *const roles[] = {"dispatcher", "billing", "console",
                                        "admin"};
    char creds[256], out[8192];
    cmd_identity_made m;
    err e = {0};

    (void)state;
    for (int i = 0; i < 4; i++) {
        snprintf(creds, sizeof(creds), "%s/%s.creds", srv.dir, roles[i]);
        assert_int_equal(
            cmd_identity_create(fx.db, roles[i], NULL, NULL, creds, &m, &e),
            ST_OK);
        assert_string_equal(m.id, roles[i]);
        assert_string_equal(m.party, "-");
    }
    {
        char subjects[64], details[256];

        snprintf(subjects, sizeof(subjects), "identity:%s", roles[3]);
        snprintf(details, sizeof(details),
                 "{\"party\":\"-\",\"public_key\":\"%s\",\"role\":"
                 "\"%s\"}",
                 m.public_key, roles[3]);
        expect_record("identity.create", subjects, details);
    }
    path_of(creds, sizeof(creds), "bank1.creds");
    assert_int_equal(cmd_identity_create(fx.db, "tenant", "bank1", "bank1-crm",
                                         creds, &m, &e),
                     ST_OK);
    {
        char *argv[] = {"identity", "list", "--role", "tenant"};
        assert_int_equal(run(out, sizeof(out), 4, argv), 0);
    }
    assert_non_null(strstr(out, "bank1-crm"));
    assert_null(strstr(out, "worker-wa"));
    {
        char *argv[] = {"identity", "list"};
        assert_int_equal(run(out, sizeof(out), 2, argv), 0);
    }
    assert_non_null(strstr(out, "dispatcher"));
    assert_non_null(strstr(out, "worker-wa-2"));
}

static bus *connect_to(const char *url, const char *creds, err *e)
{
    bus_opts o;
    bus *b = NULL;

    memset(&o, 0, sizeof(o));
    o.url = url;
    o.creds = creds;
    o.name = "itest_identity";
    if (bus_connect_opts(&b, &o, e) != ST_OK)
        return NULL;
    return b;
}

static bus *connect_with(const char *creds, err *e)
{
    return connect_to(srv.url, creds, e);
}

/* The server follows the database: a rotated key is cut off at the
 * reload and the new one connects; the others keep their connections. */
static void test_rotate_revoke_and_reload(void **state)
{
    char wa[256], bank1[256], out[8192], *text = NULL, old_key[64];
    FILE *quiet = fopen("/dev/null", "w");
    cmd_identity_made m;
    admin_revoked rv;
    bus_counters c0, c1;
    bus *tb, *wb_old, *again;
    int64_t records;
    nkey_creds c;
    err e = {0};

    (void)state;
    path_of(wa, sizeof(wa), "wa.creds");
    path_of(bank1, sizeof(bank1), "bank1.creds");
    assert_int_equal(
        cmd_nats_auth_apply(&fx.cfg, fx.db, srv.auth, NULL, quiet, &e), ST_OK);
    nats_server_start(&srv);
    snprintf(fx.cfg.nats, sizeof(fx.cfg.nats), "%s", srv.url);
    tb = connect_with(bank1, &e);
    assert_non_null(tb);
    wb_old = connect_with(wa, &e);
    assert_non_null(wb_old);
    bus_counters_get(tb, &c0);

    assert_int_equal(nkey_creds_read(wa, &c, &e), ST_OK);
    snprintf(old_key, sizeof(old_key), "%s", c.public_key);
    nkey_creds_clear(&c);
    assert_int_equal(cmd_identity_rotate(fx.db, "worker-wa", wa, &m, &e),
                     ST_OK);
    assert_string_not_equal(m.public_key, old_key);
    assert_int_equal(nkey_creds_read(wa, &c, &e), ST_OK);
    assert_string_equal(c.public_key, m.public_key);
    nkey_creds_clear(&c);
    assert_int_equal(count("SELECT count(*) FROM identities WHERE identity = "
                           "'worker-wa'"),
                     2);
    assert_int_equal(count("SELECT count(*) FROM identities WHERE identity = "
                           "'worker-wa' AND status = 'active'"),
                     1);
    {
        char details[256];

        snprintf(details, sizeof(details),
                 "{\"old_public_key\":\"%s\",\"party\":\"wa\","
                 "\"public_key\":\"%s\",\"role\":\"worker\"}",
                 old_key, m.public_key);
        expect_record("identity.rotate", "identity:worker-wa worker:wa",
                      details);
    }
    expect_no_seed(wa);
    /* The old key works until the reload. */
    assert_true(bus_connected(wb_old));
    {
        char *argv[] = {"nats-auth", "--write", srv.auth, "--reload",
                        srv.pidfile};
        assert_int_equal(run(out, sizeof(out), 5, argv), 0);
    }
    if (strstr(out, "reloaded: 7 identities") == NULL)
        fail_msg("nats-auth said: %s", out);
    for (int i = 0; i < 500 && bus_connected(wb_old); i++)
        clock_sleep_ms(20);
    assert_false(bus_connected(wb_old));
    again = connect_with(wa, &e);
    assert_non_null(again);
    bus_close(again);
    bus_counters_get(tb, &c1);
    assert_int_equal(c1.disconnects, c0.disconnects);

    /* Revoked: not in the authorization, refused, and said so when asked
     * again. */
    assert_int_equal(cmd_identity_revoke(fx.db, "worker-wa", &rv, &e), ST_OK);
    assert_string_equal(rv.role, "worker");
    assert_string_equal(rv.party, "wa");
    {
        char details[256];

        /* The key revoked: the rotated one. */
        snprintf(details, sizeof(details),
                 "{\"party\":\"wa\",\"public_key\":\"%s\",\"role\":"
                 "\"worker\"}",
                 m.public_key);
        expect_record("identity.revoke", "identity:worker-wa worker:wa",
                      details);
    }
    /* Refused: nothing recorded. */
    records = count("SELECT count(*) FROM audit_log");
    assert_int_equal(cmd_identity_revoke(fx.db, "worker-wa", &rv, &e),
                     ST_INVALID);
    assert_non_null(strstr(e.msg, "revoked already"));
    assert_int_equal(cmd_identity_rotate(fx.db, "worker-wa", wa, &m, &e),
                     ST_INVALID);
    assert_non_null(strstr(e.msg, "make a new one: twinline identity create "
                                  "worker wa"));
    assert_int_equal(cmd_identity_revoke(fx.db, "nobody", &rv, &e),
                     ST_NOT_FOUND);
    assert_non_null(strstr(e.msg, "twinline identity list"));
    {
        char *argv[] = {"identity", "revoke", "nobody"};
        assert_int_equal(run(out, sizeof(out), 3, argv), 1);
        assert_non_null(strstr(out, "there is no identity nobody"));
    }
    assert_int_equal(count("SELECT count(*) FROM audit_log"), records);
    assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = "
                           "'identity.revoke'"),
                     1);
    assert_int_equal(
        cmd_nats_auth_text(fx.db, fx.cfg.prefix, NULL, &text, NULL, &e), ST_OK);
    assert_null(strstr(text, m.public_key));
    assert_non_null(strstr(text, "# bank1-crm: tenant bank1"));
    free(text);
    assert_int_equal(
        cmd_nats_auth_apply(&fx.cfg, fx.db, srv.auth, srv.pidfile, quiet, &e),
        ST_OK);
    assert_null(connect_with(wa, &e));
    assert_non_null(strstr(e.msg, "refused the credentials"));
    {
        char *argv[] = {"identity", "list", "--all", "--party", "wa"};
        assert_int_equal(run(out, sizeof(out), 5, argv), 0);
    }
    assert_non_null(strstr(out, "revoked"));
    assert_true(bus_connected(tb));
    /* A pid file of some other program is never signalled. */
    {
        char pidfile[256];
        FILE *f;

        path_of(pidfile, sizeof(pidfile), "other.pid");
        f = fopen(pidfile, "w");
        fprintf(f, "%ld\n", (long)getpid());
        fclose(f);
        assert_int_equal(
            cmd_nats_auth_apply(&fx.cfg, fx.db, srv.auth, pidfile, quiet, &e),
            ST_CONFIG);
        assert_non_null(strstr(e.msg, "is not nats-server"));
    }
    bus_close(tb);
    bus_close(wb_old);
    fclose(quiet);
}

/* twinline load --identities: the loaded workers that never had one. */
static void test_load_identities(void **state)
{
    char dir[256], path[512], sql[512];
    int made = 0, first;
    int64_t before;
    err e = {0};

    (void)state;
    path_of(dir, sizeof(dir), "workers");
    assert_int_equal(mkdir(dir, 0700), 0);
    harness_load_examples(&fx);
    fixture_path("examples/operator.json", path, sizeof(path));
    before = count("SELECT count(*) FROM audit_log");
    assert_int_equal(cmd_identity_workers(fx.db, path, dir, &made, &e), ST_OK);
    assert_int_equal(made, (int)count("SELECT count(*) FROM workers WHERE "
                                      "pool_id <> 'front' AND pool_id <> "
                                      "'spec'"));
    /* One identity.create each, with the key the identity has. */
    assert_true(made > 0);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM audit_log a JOIN identities i"
             " ON a.subjects = 'identity:' || i.identity || ' worker:' ||"
             " i.party WHERE a.seq > %lld AND a.action = 'identity.create'"
             " AND a.party LIKE 'admin:%%' AND a.identity = '-'"
             " AND a.details::jsonb->>'public_key' = i.public_key"
             " AND a.details::jsonb->>'role' = 'worker'",
             (long long)before);
    assert_int_equal(count(sql), made);
    assert_int_equal(count("SELECT count(*) FROM audit_log"), before + made);
    first = made;
    snprintf(path, sizeof(path), "%s/worker-w001.creds", dir);
    assert_int_equal(access(path, R_OK), 0);
    expect_no_seed(path);
    fixture_path("examples/operator.json", path, sizeof(path));
    assert_int_equal(cmd_identity_workers(fx.db, path, dir, &made, &e), ST_OK);
    assert_int_equal(made, 0);
    assert_int_equal(count("SELECT count(*) FROM audit_log"), before + first);
    /* An identity that was revoked is not made again by a load. */
    fixture_exec(&fx, "UPDATE identities SET status = 'revoked', revoked_at "
                      "= now() WHERE identity = 'worker-w002'");
    assert_int_equal(cmd_identity_workers(fx.db, path, dir, &made, &e), ST_OK);
    assert_int_equal(made, 0);

    /* Every identity command's record is on a chain that verifies. */
    {
        char out[4096], *argv[] = {"audit", "verify"};

        assert_int_equal(run(out, sizeof(out), 2, argv), 0);
        if (strstr(out, "audit trail intact") == NULL)
            fail_msg("audit verify said: %s", out);
    }
}

/* With no active identity, nothing is generated: an empty user list
 * would open the server. */
static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static char *read_all(const char *path)
{
    static char buf[1 << 20];
    FILE *f = fopen(path, "r");
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strdup(buf);
}

/* TL_NATS_AUTH_EXTRA: a user that is no identity (the fault drill's
 * reply watcher) is in every regenerated authorization; a file that could
 * break out of the users list, or that others may write, is refused and
 * changes nothing. Two servers including the same file (a cluster's
 * nodes) are reloaded by one command, which waits for both. */
static void test_extra_users_and_two_servers(void **state)
{
    char extra[256], watch[256], text[512], out[8192];
    char pids[400], *before, *after;
    FILE *quiet = fopen("/dev/null", "w");
    nats_server two;
    nkey *k = NULL;
    bus *b;
    err e = {0};

    (void)state;
    path_of(extra, sizeof(extra), "extra.conf");
    path_of(watch, sizeof(watch), "watch.creds");
    assert_int_equal(nkey_generate(&k, &e), ST_OK);
    assert_int_equal(nkey_creds_write(watch, k, "watch", "observer", "-", &e),
                     ST_OK);
    snprintf(text, sizeof(text),
             "# the drill's observer\n\n"
             "{ nkey: \"%s\", permissions: { publish: { deny: [\">\"] }, "
             "subscribe: { allow: [\">\"] } } }\n",
             nkey_public(k));
    nkey_destroy(k);
    write_file(extra, text, 0600);
    setenv("TL_NATS_AUTH_EXTRA", extra, 1);

    /* A second server whose auth.conf is this test's server's. */
    nats_server_dir(&two, "tl_identity2");
    assert_int_equal(symlink(srv.auth, two.auth), 0);
    assert_int_equal(
        cmd_nats_auth_apply(&fx.cfg, fx.db, srv.auth, srv.pidfile, quiet, &e),
        ST_OK);
    nats_server_start(&two);
    b = connect_to(two.url, watch, &e);
    assert_non_null(b);
    bus_close(b);

    /* Refused, with the line and the fix; the file stays as it was. */
    before = read_all(srv.auth);
    write_file(extra, "{ nkey: \"UABC\" } ]\n  users = [ { user: a } ]\n",
               0600);
    assert_int_equal(
        cmd_nats_auth_apply(&fx.cfg, fx.db, srv.auth, srv.pidfile, quiet, &e),
        ST_INVALID);
    assert_non_null(strstr(e.msg, "line 1: expected one user per line"));
    write_file(extra, "# nothing\n", 0622);
    assert_int_equal(
        cmd_nats_auth_apply(&fx.cfg, fx.db, srv.auth, srv.pidfile, quiet, &e),
        ST_CONFIG);
    assert_non_null(strstr(e.msg, "run chmod 600"));
    snprintf(pids, sizeof(pids), "%s,,%s", srv.pidfile, two.pidfile);
    assert_int_equal(
        cmd_nats_auth_apply(&fx.cfg, fx.db, srv.auth, pids, quiet, &e),
        ST_CONFIG);
    assert_non_null(strstr(e.msg, "comma-separated"));
    after = read_all(srv.auth);
    assert_string_equal(before, after);
    free(before);
    free(after);

    /* Without the watcher, both servers reloaded by one command. */
    write_file(extra, "# nothing\n", 0600);
    snprintf(pids, sizeof(pids), "%s,%s", srv.pidfile, two.pidfile);
    snprintf(fx.cfg.nats, sizeof(fx.cfg.nats), "%s,%s", srv.url, two.url);
    {
        char *argv[] = {"nats-auth", "--write", srv.auth, "--reload", pids};
        assert_int_equal(run(out, sizeof(out), 5, argv), 0);
    }
    snprintf(text, sizeof(text), "nats-server %ld, %ld reloaded", (long)srv.pid,
             (long)two.pid);
    if (strstr(out, text) == NULL)
        fail_msg("nats-auth said: %s", out);
    assert_null(connect_with(watch, &e));
    assert_non_null(strstr(e.msg, "refused the credentials"));
    assert_null(connect_to(two.url, watch, &e));
    assert_non_null(strstr(e.msg, "refused the credentials"));
    unsetenv("TL_NATS_AUTH_EXTRA");
    snprintf(fx.cfg.nats, sizeof(fx.cfg.nats), "%s", srv.url);
    nats_server_stop(&two);
    fclose(quiet);
}

static void test_nats_auth_refuses_empty(void **state)
{
    char *text = NULL;
    err e = {0};

    (void)state;
    fixture_exec(&fx, "UPDATE identities SET status = 'revoked', revoked_at "
                      "= now() WHERE status = 'active'");
    assert_int_equal(
        cmd_nats_auth_text(fx.db, fx.cfg.prefix, NULL, &text, NULL, &e),
        ST_INVALID);
    assert_non_null(strstr(e.msg, "would let anyone in"));
    assert_null(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_and_errors),
        cmocka_unit_test(test_services_and_list),
        cmocka_unit_test(test_rotate_revoke_and_reload),
        cmocka_unit_test(test_load_identities),
        cmocka_unit_test(test_extra_users_and_two_servers),
        cmocka_unit_test(test_nats_auth_refuses_empty),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
