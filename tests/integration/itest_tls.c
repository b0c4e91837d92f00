/*
 * TLS when not on loopback (issue 10): with a CA the test makes with
 * openssl, a PostgreSQL the test starts with ssl=on and a nats-server the
 * test starts with TLS are reached by the real programs' connection paths
 * with the certificate verified (--db-ca, TL_DB_CA: sslmode=verify-full;
 * --nats-ca, TL_NATS_CA), and refused with another CA or a wrong host
 * name.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bus.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "tl_test.h"

#define CLI TL_BINARY_DIR "/cli/twinline"

static char dir[64];
static char pg_bin[256];
static int pg_port, nats_port;
static pid_t nats_pid;

static void run(const char *cmd)
{
    if (system(cmd) != 0)
        fail_msg("command failed: %s", cmd);
}

/* Run cmd (a shell line); its output into out, its exit status back. */
static int run_out(const char *cmd, char *out, size_t cap)
{
    char line[4096];
    FILE *p;
    size_t n = 0;
    int st;

    snprintf(line, sizeof(line), "%s 2>&1", cmd);
    p = popen(line, "r");
    assert_non_null(p);
    while (n + 1 < cap && fgets(out + n, (int)(cap - n), p) != NULL)
        n += strlen(out + n);
    out[n] = '\0';
    st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void expect_in(const char *text, const char *part)
{
    if (strstr(text, part) == NULL)
        fail_msg("\"%s\" not in:\n%s", part, text);
}

static int free_port(void)
{
    char out[32];

    /* A port nobody listens on, as scripts/services.sh picks them. */
    for (int i = 0; i < 100; i++) {
        int p = 20000 + (int)(clock_mono_us() % 30000) + i;
        char cmd[128];

        snprintf(cmd, sizeof(cmd),
                 "bash -c 'exec 3<>/dev/tcp/127.0.0.1/%d' 2>/dev/null", p);
        if (run_out(cmd, out, sizeof(out)) != 0)
            return p;
    }
    fail_msg("no free port");
    return 0;
}

/* PostgreSQL refuses to run as root: then it runs as postgres. */
static const char *as_pg(void)
{
    return getuid() == 0 ? "runuser -u postgres -- " : "";
}

/* A CA, a server certificate for localhost and 127.0.0.1 signed by it,
 * and another CA. */
static void make_certs(void)
{
    char cmd[2048];

    snprintf(cmd, sizeof(cmd),
             "set -e; cd %s; mkdir -p tls; cd tls;"
             "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "
             "/CN=twinline-test-ca -keyout ca.key -out ca.pem 2>/dev/null;"
             "openssl req -newkey rsa:2048 -nodes -subj /CN=localhost "
             "-keyout server.key -out server.csr 2>/dev/null;"
             "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > "
             "ext.cnf;"
             "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
             "-CAcreateserial -days 2 -extfile ext.cnf -out server.pem "
             "2>/dev/null;"
             "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "
             "/CN=other-ca -keyout other.key -out other.pem 2>/dev/null;"
             "chmod 600 server.key",
             dir);
    run(cmd);
}

static void start_pg(void)
{
    char cmd[2048], out[4096];

    if (run_out("ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1", out,
                sizeof(out)) != 0 ||
        out[0] == '\0')
        fail_msg("PostgreSQL binaries not found");
    out[strcspn(out, "\n")] = '\0';
    if (strlen(out) >= sizeof(pg_bin))
        fail_msg("PostgreSQL's path is too long: %s", out);
    memcpy(pg_bin, out, strlen(out) + 1);
    pg_port = free_port();
    if (getuid() == 0) {
        snprintf(cmd, sizeof(cmd), "chown -R postgres %s", dir);
        run(cmd);
    }
    snprintf(cmd, sizeof(cmd),
             "%s%s/initdb -D %s/pg -U postgres --auth=trust >/dev/null && "
             "mkdir -p %s/sock && %s%s/pg_ctl -D %s/pg -l %s/pg.log -w -o "
             "\"-c listen_addresses=127.0.0.1 -p %d -c "
             "unix_socket_directories=%s/sock -c ssl=on -c "
             "ssl_cert_file=%s/tls/server.pem -c "
             "ssl_key_file=%s/tls/server.key\" start >/dev/null",
             as_pg(), pg_bin, dir, dir, as_pg(), pg_bin, dir, dir, pg_port, dir,
             dir, dir);
    if (getuid() == 0) {
        /* The socket folder, made by root, must be postgres's too. */
        char fix[2048];

        snprintf(fix, sizeof(fix), "mkdir -p %s/sock && chown postgres %s/sock",
                 dir, dir);
        run(fix);
    }
    if (run_out(cmd, out, sizeof(out)) != 0)
        fail_msg("PostgreSQL with TLS did not start: %s (see %s/pg.log)", out,
                 dir);
}

static void start_nats(void)
{
    char conf[1024], path[128], log[128];
    FILE *f;

    nats_port = free_port();
    snprintf(conf, sizeof(conf),
             "listen: 127.0.0.1:%d\n"
             "tls {\n  cert_file: \"%s/tls/server.pem\"\n"
             "  key_file: \"%s/tls/server.key\"\n  timeout: 2\n}\n",
             nats_port, dir, dir);
    snprintf(path, sizeof(path), "%s/nats.conf", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(conf, f);
    fclose(f);
    snprintf(log, sizeof(log), "%s/nats.log", dir);
    nats_pid = fork();
    assert_true(nats_pid >= 0);
    if (nats_pid == 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 ||
            freopen(log, "w", stdout) == NULL || dup2(fileno(stdout), 2) < 0)
            _exit(127);
        execlp("nats-server", "nats-server", "-c", path, (char *)NULL);
        _exit(127);
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/tl_tls_XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    chmod(dir, 0755);
    make_certs();
    start_pg();
    start_nats();
    return 0;
}

static int teardown(void **state)
{
    char cmd[512], out[1024];
    int st;

    (void)state;
    if (nats_pid > 0) {
        kill(nats_pid, SIGTERM);
        waitpid(nats_pid, &st, 0);
    }
    snprintf(cmd, sizeof(cmd), "%s%s/pg_ctl -D %s/pg -m fast stop", as_pg(),
             pg_bin, dir);
    run_out(cmd, out, sizeof(out));
    if (getenv("TL_KEEP_TLS_DIR") == NULL) {
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        run_out(cmd, out, sizeof(out));
    }
    return 0;
}

/* Connect with conninfo; the connection's TLS as pg_stat_ssl says it
 * ("t") into ssl, or the error. */
static status pg_try(const char *conninfo, char *ssl, size_t cap, err *e)
{
    db *d = NULL;
    db_res *r = NULL;
    status s = db_connect(&d, conninfo, e);

    if (s == ST_OK)
        s = db_query(d,
                     "SELECT ssl::text FROM pg_stat_ssl"
                     " WHERE pid = pg_backend_pid()",
                     0, NULL, &r, e);
    if (s == ST_OK)
        snprintf(ssl, cap, "%s", db_rows(r) == 1 ? db_val(r, 0, 0) : "");
    db_res_free(r);
    db_close(d);
    return s;
}

static void test_postgres_verify_full(void **state)
{
    char ci[512], ssl[8], cmd[2048], out[4096];
    err e = {0};

    (void)state;
    /* libpq itself: the right CA connects over TLS, another CA and a
     * host name the certificate does not carry are refused. */
    snprintf(ci, sizeof(ci),
             "host=localhost port=%d user=postgres dbname=postgres "
             "sslmode=verify-full sslrootcert=%s/tls/ca.pem",
             pg_port, dir);
    if (pg_try(ci, ssl, sizeof(ssl), &e) != ST_OK)
        fail_msg("verify-full with the right CA: %s", e.msg);
    assert_string_equal(ssl, "true");
    snprintf(ci, sizeof(ci),
             "host=localhost port=%d user=postgres dbname=postgres "
             "sslmode=verify-full sslrootcert=%s/tls/other.pem",
             pg_port, dir);
    assert_int_not_equal(pg_try(ci, ssl, sizeof(ssl), &e), ST_OK);
    expect_in(e.msg, "certificate verify failed");
    snprintf(ci, sizeof(ci),
             "host=bank.example hostaddr=127.0.0.1 port=%d user=postgres "
             "dbname=postgres sslmode=verify-full sslrootcert=%s/tls/ca.pem",
             pg_port, dir);
    assert_int_not_equal(pg_try(ci, ssl, sizeof(ssl), &e), ST_OK);
    expect_in(e.msg, "bank.example");

    /* A real program: --db-ca and TL_DB_CA make its connection
     * verify-full, whatever the conninfo leaves out. */
    snprintf(cmd, sizeof(cmd),
             "%s migrate --db 'host=localhost port=%d user=postgres "
             "dbname=postgres' --db-ca %s/tls/ca.pem",
             CLI, pg_port, dir);
    if (run_out(cmd, out, sizeof(out)) != 0)
        fail_msg("migrate over TLS: %s", out);
    expect_in(out, "migrations:");
    snprintf(cmd, sizeof(cmd),
             "%s migrate --db 'host=localhost port=%d user=postgres "
             "dbname=postgres' --db-ca %s/tls/other.pem",
             CLI, pg_port, dir);
    assert_int_equal(run_out(cmd, out, sizeof(out)), 1);
    expect_in(out, "certificate verify failed");
    snprintf(cmd, sizeof(cmd),
             "TL_DB_CA=%s/tls/other.pem %s migrate --db 'host=localhost "
             "port=%d user=postgres dbname=postgres'",
             dir, CLI, pg_port);
    assert_int_equal(run_out(cmd, out, sizeof(out)), 1);
    expect_in(out, "certificate verify failed");
    snprintf(cmd, sizeof(cmd),
             "TL_DB_CA=%s/tls/ca.pem %s migrate --db 'host=127.0.0.1 "
             "port=%d user=postgres dbname=postgres'",
             dir, CLI, pg_port);
    if (run_out(cmd, out, sizeof(out)) != 0)
        fail_msg("migrate with TL_DB_CA: %s", out);
    expect_in(out, "0 applied");
}

static const char ok_reply[] =
    "{\"ok\": true, \"created\": true, \"case\": {\"id\": 7, "
    "\"external_id\": \"T-1\", \"case_type\": \"loan\", "
    "\"state\": \"open\", \"playbook_version\": 1}}";

static void on_submit(void *ctx, bus_msg *m)
{
    err e = {0};

    bus_respond(ctx, m, ok_reply, strlen(ok_reply), &e);
    bus_msg_free(m);
}

static void test_nats_verified_in_a_program(void **state)
{
    char url[64], ca[128], other[128], cmd[2048], out[4096];
    bus_opts o;
    bus *responder = NULL;
    err e = {0};

    (void)state;
    snprintf(url, sizeof(url), "nats://127.0.0.1:%d", nats_port);
    snprintf(ca, sizeof(ca), "%s/tls/ca.pem", dir);
    snprintf(other, sizeof(other), "%s/tls/other.pem", dir);
    memset(&o, 0, sizeof(o));
    o.url = url;
    o.name = "tls-responder";
    o.tls_ca = ca;
    for (int i = 0; i < 100 && responder == NULL; i++)
        if (bus_connect_opts(&responder, &o, &e) != ST_OK)
            clock_sleep_ms(50);
    if (responder == NULL)
        fail_msg("responder over TLS: %s", e.msg);
    assert_int_equal(bus_subscribe(responder, "tlst.api.bank1.case.submit",
                                   NULL, on_submit, responder, &e),
                     ST_OK);
    assert_int_equal(bus_flush(responder, 2000, &e), ST_OK);

    /* The command line's NATS connection: verified against the CA given
     * by flag or environment, with the name the certificate carries. */
    snprintf(cmd, sizeof(cmd),
             "%s case submit --tenant bank1 --type loan --external-id T-1 "
             "--prefix tlst --nats %s --nats-ca %s --nats-tls-host localhost",
             CLI, url, ca);
    if (run_out(cmd, out, sizeof(out)) != 0)
        fail_msg("case submit over TLS: %s", out);
    expect_in(out, "T-1");
    snprintf(cmd, sizeof(cmd),
             "TL_NATS_CA=%s %s case submit --tenant bank1 --type loan "
             "--external-id T-1 --prefix tlst --nats %s",
             ca, CLI, url);
    if (run_out(cmd, out, sizeof(out)) != 0)
        fail_msg("case submit with TL_NATS_CA: %s", out);
    expect_in(out, "T-1");
    /* Another CA, another expected name, no CA at all: refused. */
    snprintf(cmd, sizeof(cmd),
             "%s case submit --tenant bank1 --type loan --external-id T-1 "
             "--prefix tlst --nats %s --nats-ca %s",
             CLI, url, other);
    assert_int_equal(run_out(cmd, out, sizeof(out)), 1);
    expect_in(out, "cannot connect to NATS");
    snprintf(cmd, sizeof(cmd),
             "%s case submit --tenant bank1 --type loan --external-id T-1 "
             "--prefix tlst --nats %s --nats-ca %s --nats-tls-host "
             "bank.example",
             CLI, url, ca);
    assert_int_equal(run_out(cmd, out, sizeof(out)), 1);
    expect_in(out, "cannot connect to NATS");
    snprintf(cmd, sizeof(cmd),
             "%s case submit --tenant bank1 --type loan --external-id T-1 "
             "--prefix tlst --nats %s",
             CLI, url);
    assert_int_equal(run_out(cmd, out, sizeof(out)), 1);
    expect_in(out, "cannot connect to NATS");
    /* A CA file that is not there is a configuration error. */
    snprintf(cmd, sizeof(cmd),
             "%s case submit --tenant bank1 --type loan --external-id T-1 "
             "--prefix tlst --nats %s --nats-ca %s/none.pem",
             CLI, url, dir);
    assert_int_equal(run_out(cmd, out, sizeof(out)), 1);
    expect_in(out, "TLS CA file");

    /* In a process: the defaults config sets apply to bus_connect. */
    {
        config c;
        bus *b = NULL;
        char *argv[] = {"x", "--nats-ca", ca};
        int i = 1;

        memset(&c, 0, sizeof(c));
        assert_true(config_take_flag(&c, 3, argv, &i, &e));
        assert_int_equal(e.code, ST_OK);
        assert_int_equal(bus_connect(&b, url, "tls-default", &e), ST_OK);
        bus_close(b);
        bus_tls_default(NULL, NULL);
        assert_int_not_equal(bus_connect(&b, url, "plain", &e), ST_OK);
    }
    bus_close(responder);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_postgres_verify_full),
        cmocka_unit_test(test_nats_verified_in_a_program),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
