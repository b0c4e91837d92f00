/*
 * The audit trail in use (issue 10), on the real PostgreSQL and NATS:
 * the dispatcher records submits, complaints, reopens and priority
 * changes in the transaction of the change, a batch's records with one
 * chain append, each with the NATS identity whose inbox gets the reply; invoice
 * close and credit notes are recorded by billing; billing signs checkpoints;
 * `twinline audit verify` finds a changed, an inserted and a deleted record
 * made behind the triggers' back (as a superuser can) and says where, and
 * `twinline audit show` filters by party, case and time.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "auditlog.h"
#include "clock.h"
#include "harness.h"
#include "invoice.h"
#include "signer.h"
#include "tl_test.h"

#define CLI TL_BINARY_DIR "/cli/twinline"

/* Run `twinline args` on f's database; its output (stdout and stderr)
 * into out, its exit status returned. */
static int run_cli(fixture *f, const char *args, char *out, size_t cap)
{
    char cmd[2048];
    FILE *p;
    size_t n = 0;
    int st;

    setenv("TL_DB", f->cfg.db, 1);
    snprintf(cmd, sizeof(cmd), "%s %s 2>&1", CLI, args);
    p = popen(cmd, "r");
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

/* ---- the dispatcher's records ---------------------------------------- */

typedef struct paused {
    dispatcher *d;
    pthread_t loop;
    inbox replies[8];
    int n;
} paused;

static void *run_loop(void *arg)
{
    err e = {0};

    dispatcher_run(arg, &e);
    return NULL;
}

/* A request on the paused dispatcher's subject rest; its reply comes to
 * b's own inbox ("_INBOX_suite.", the suite's identity) when own, else to
 * the default "_INBOX.", which names no identity. */
static void paused_add(paused *p, fixture *f, bus *b, const char *rest,
                       const char *body, bool own)
{
    char subj[256], reply[128];
    err e = {0};

    assert_int_equal(own ? bus_inbox_new(b, reply, sizeof(reply), &e)
                         : bus_inbox(reply, sizeof(reply), &e),
                     ST_OK);
    inbox_listen(&p->replies[p->n++], b, reply);
    snprintf(subj, sizeof(subj), "%s.%s", f->cfg.prefix, rest);
    assert_int_equal(
        bus_publish_request(b, subj, reply, body, strlen(body), &e), ST_OK);
}

static json_t *paused_reply(paused *p, int i)
{
    json_t *r = inbox_next(&p->replies[i], 5000);

    if (r == NULL)
        fail_msg("request %d got no reply", i);
    return r;
}

static void test_dispatcher_records(void **state)
{
    static const char *const exts[] = {"A-1", "A-2", "A-3", "A-4", "A-1"};
    dispatcher_opts o;
    fixture f;
    paused p = {0};
    running_dispatcher rd;
    bus *b;
    audit_report rep;
    json_t *r;
    err e = {0};
    char body[512], sql[512], out[8192], args[256], hash[65];
    unsigned char h[32];
    int64_t case1, case2, task;

    (void)state;
    fixture_setup(&f, "audit_dispatcher");
    harness_seed(&f);
    b = fixture_bus(&f);

    /* Five submits in one batch (one a repeat) and one the dispatcher
     * refuses: the four cases created are four records of one append. */
    dispatcher_opts_default(&o);
    o.stream_max_bytes = 8LL * 1024 * 1024;
    if (dispatcher_create(&p.d, &f.cfg, &o, &e) != ST_OK)
        fail_msg("dispatcher_create: %s", e.msg);
    for (int i = 0; i < 5; i++) {
        snprintf(body, sizeof(body),
                 "{\"external_id\":\"%s\",\"case_type\":\"loan\","
                 "\"priority\":%d,\"customer\":{\"name\":\"Wang Wei\"}}",
                 exts[i], i);
        paused_add(&p, &f, b, "api.bank1.case.submit", body, i % 2 == 0);
    }
    paused_add(&p, &f, b, "api.bank1.case.submit",
               "{\"external_id\":\"A-9\",\"case_type\":\"mortgage\"}", true);
    assert_int_equal(bus_flush(b, 2000, &e), ST_OK);
    clock_sleep_ms(300);
    pthread_create(&p.loop, NULL, run_loop, p.d);
    for (int i = 0; i < p.n; i++) {
        r = paused_reply(&p, i);
        assert_true(json_is_true(json_object_get(r, "ok")) == (i < 5));
        json_decref(r);
    }
    dispatcher_stop(p.d);
    pthread_join(p.loop, NULL);
    dispatcher_destroy(p.d);
    for (int i = 0; i < p.n; i++)
        inbox_drain(&p.replies[i]);

    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM audit_log"), 4);
    assert_int_equal(fixture_i64(&f, "SELECT count(DISTINCT at) FROM audit_log"
                                     " WHERE seq BETWEEN 1 AND 4"),
                     1);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM audit_log a"
                                     " JOIN cases c ON a.subjects ="
                                     " 'case:' || c.id"
                                     " WHERE a.action = 'case.submit'"
                                     " AND a.party = 'tenant:bank1'"
                                     " AND a.details::jsonb->>'external_id'"
                                     " = c.external_id"),
                     4);
    /* The identity is the client whose private inbox asked for the reply
     * (here the suite's), "-" for a reply to an inbox of nobody's. */
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM audit_log a"
                                     " JOIN cases c ON a.subjects ="
                                     " 'case:' || c.id"
                                     " WHERE (c.external_id IN ('A-1', 'A-3')"
                                     " AND a.identity = 'suite')"
                                     " OR (c.external_id IN ('A-2', 'A-4')"
                                     " AND a.identity = '-')"),
                     4);
    /* No customer data in the trail, ever: it cannot be erased. */
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM audit_log"
                                     " WHERE details LIKE '%Wang%'"),
                     0);

    /* Disputes and a priority change, one by one. */
    harness_start(&rd, &f, NULL);
    case1 = fixture_i64(&f, "SELECT id FROM cases WHERE external_id = 'A-1'");
    case2 = fixture_i64(&f, "SELECT id FROM cases WHERE external_id = 'A-2'");
    snprintf(body, sizeof(body),
             "{\"case_id\":%" PRId64 ",\"reason\":\"Mr Wang says he paid\","
             "\"request_id\":\"crm-1\"}",
             case1);
    for (int i = 0; i < 2; i++) { /* the repeat records nothing */
        r = harness_request(&f, b, "api.bank1.case.complaint", body);
        assert_true(json_is_true(json_object_get(r, "ok")));
        json_decref(r);
    }
    snprintf(body, sizeof(body),
             "{\"case_id\":%" PRId64 ",\"reason\":\"wrong outcome\"}", case2);
    json_decref(harness_request(&f, b, "api.bank1.case.reopen", body));
    task = fixture_i64(&f, "SELECT min(id) FROM tasks WHERE state = 'pending'");
    snprintf(body, sizeof(body), "{\"task_id\":%" PRId64 ",\"priority\":9}",
             task);
    r = harness_request(&f, b, "ops.op1.task.priority", body);
    assert_true(json_is_true(json_object_get(r, "ok")));
    json_decref(r);
    harness_stop(&rd);

    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM audit_log"), 7);
    crypto_hash_sha256(h, (const unsigned char *)"Mr Wang says he paid", 20);
    sodium_bin2hex(hash, sizeof(hash), h, sizeof(h));
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM audit_log WHERE seq = 5"
             " AND action = 'case.complaint' AND party = 'tenant:bank1'"
             " AND identity = 'suite'"
             " AND subjects = 'case:%" PRId64 " dispute:' ||"
             " (SELECT id FROM case_disputes WHERE kind = 'complaint')"
             " AND details::jsonb->>'reason_sha256' = '%s'"
             " AND details::jsonb->>'request_id' = 'crm-1'"
             " AND details NOT LIKE '%%Wang%%'",
             case1, hash);
    assert_int_equal(fixture_i64(&f, sql), 1);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM audit_log"
                                     " WHERE seq = 6"
                                     " AND action = 'case.reopen'"
                                     " AND identity = 'suite'"),
                     1);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM audit_log WHERE seq = 7"
             " AND action = 'task.priority' AND party = 'operator:op1'"
             " AND identity = 'suite'"
             " AND subjects = 'task:%" PRId64 "'"
             " AND details = '{\"priority\":9}'",
             task);
    assert_int_equal(fixture_i64(&f, sql), 1);

    /* What PostgreSQL chained, the verifier in C accepts. */
    assert_int_equal(auditlog_verify(f.db, NULL, 0, &rep, &e), ST_OK);
    assert_int_equal(rep.nfindings, 0);
    assert_int_equal(rep.records, 7);

    /* audit show: by case, by party (whole, role, id), by time. */
    snprintf(args, sizeof(args), "audit show --case %" PRId64, case1);
    assert_int_equal(run_cli(&f, args, out, sizeof(out)), 0);
    expect_in(out, "case.submit");
    expect_in(out, "case.complaint");
    assert_null(strstr(out, "case.reopen"));
    assert_int_equal(
        run_cli(&f, "audit show --party operator --json", out, sizeof(out)), 0);
    expect_in(out, "\"action\":\"task.priority\"");
    assert_null(strstr(out, "case."));
    assert_int_equal(
        run_cli(&f, "audit show --party bank1 --limit 2", out, sizeof(out)), 0);
    expect_in(out, "case.complaint");
    expect_in(out, "case.reopen");
    assert_null(strstr(out, "case.submit"));
    assert_int_equal(
        run_cli(&f, "audit show --party tenant:bank2", out, sizeof(out)), 0);
    expect_in(out, "no audit records pass these filters");
    assert_int_equal(
        run_cli(&f, "audit show --since 2999-01-01", out, sizeof(out)), 0);
    expect_in(out, "no audit records");
    assert_int_equal(
        run_cli(&f, "audit show --until 2999-01-01", out, sizeof(out)), 0);
    expect_in(out, "task.priority");
    /* Bad input: a clear error. */
    assert_int_equal(
        run_cli(&f, "audit show --since yesterday-ish", out, sizeof(out)), 1);
    expect_in(out, "--since and --until take timestamps");
    assert_int_equal(run_cli(&f, "audit show --case x", out, sizeof(out)), 2);
    expect_in(out, "--case \"x\" must be a case id");

    bus_close(b);
    fixture_teardown(&f);
}

/* ---- billing's records ----------------------------------------------- */

static void test_invoice_records(void **state)
{
    char dir[64] = "/tmp/tl-audit-inv-XXXXXX", path[128];
    signer *sg = NULL;
    invoice_closed closed;
    auditlog_who billing;
    audit_report rep;
    int64_t note = 0;
    fixture f;
    err e = {0};

    (void)state;
    fixture_setup(&f, "audit_invoice");
    fixture_exec(
        &f,
        "INSERT INTO tenants (id, name) VALUES ('t1', 'Bank One');"
        "INSERT INTO operators (id, name) VALUES ('op1', 'Ops One');"
        "INSERT INTO pools (id, operator_id, name) VALUES ('p1', 'op1', 'P');"
        "INSERT INTO workers (id, pool_id, name) VALUES ('w1', 'p1', 'W');"
        "INSERT INTO contracts (id, tenant_id, pool_id, currency) VALUES"
        "  ('c1', 't1', 'p1', 'EUR');"
        "INSERT INTO playbooks (tenant_id, case_type, version, name,"
        "  definition) VALUES ('t1', 'loan', 1, 'Loan', '{}');"
        "WITH c AS (INSERT INTO cases (tenant_id, external_id, case_type,"
        "  playbook_version) SELECT 't1', 'x-' || g, 'loan', 1"
        "  FROM generate_series(1, 2) g RETURNING id),"
        "t AS (INSERT INTO tasks (case_id, tenant_id, step, state, worker_id,"
        "  completed_at) SELECT id, 't1', 'call', 'completed', 'w1',"
        "  '2026-01-10' FROM c RETURNING id, case_id),"
        "r AS (INSERT INTO reservations (task_id, worker_id, epoch, state,"
        "  deadline) SELECT id, 'w1', 0, 'completed', '2026-01-10' FROM t"
        "  RETURNING id, task_id),"
        "o AS (INSERT INTO outcomes (task_id, case_id, tenant_id, worker_id,"
        "  reservation_id, code, billable, created_at) SELECT t.id,"
        "  t.case_id, 't1', 'w1', r.id, 'paid', true, '2026-01-10' FROM t"
        "  JOIN r ON r.task_id = t.id RETURNING id, task_id, case_id)"
        "INSERT INTO billable_lines (outcome_id, tenant_id, operator_id,"
        "  contract_id, case_id, task_id, worker_id, outcome_code,"
        "  amount_minor, currency, created_at) SELECT o.id, 't1', 'op1',"
        "  'c1', o.case_id, o.task_id, 'w1', 'paid', 1500, 'EUR',"
        "  '2026-01-10' FROM o");
    assert_non_null(mkdtemp(dir));
    if (signer_keygen(dir, NULL, &e) != ST_OK ||
        signer_load(&sg, dir, &e) != ST_OK)
        fail_msg("key: %s", e.msg);

    /* The command line closes (who: its login), billing credits. */
    if (invoice_close_period(f.db, "t1", "2026-01", sg, NULL, 0, &closed, &e) !=
        ST_OK)
        fail_msg("close: %s", e.msg);
    auditlog_who_set(&billing, "service", "billing", "billing");
    if (invoice_credit_note(f.db, closed.ids[0], NULL, 0, "contract voided", sg,
                            &billing, &note, &e) != ST_OK)
        fail_msg("credit: %s", e.msg);

    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM audit_log"), 2);
    assert_int_equal(
        fixture_i64(&f, "SELECT count(*) FROM audit_log a, invoices i"
                        " WHERE a.seq = 1 AND a.action = 'invoice.close'"
                        " AND a.party LIKE 'admin%'"
                        " AND a.subjects = 'tenant:t1 invoice:' || i.id"
                        " AND i.kind = 'invoice'"
                        " AND a.details::jsonb->'invoices'->0->>'sha256'"
                        " = i.content_hash"
                        " AND (a.details::jsonb->'invoices'->0->>"
                        "'total_minor')::bigint = 3000"
                        " AND a.details::jsonb->>'period' = '2026-01'"),
        1);
    assert_int_equal(
        fixture_i64(&f, "SELECT count(*) FROM audit_log a, invoices i"
                        " WHERE a.seq = 2 AND a.action = 'invoice.credit'"
                        " AND a.party = 'service:billing'"
                        " AND a.identity = 'billing'"
                        " AND i.kind = 'credit_note'"
                        " AND a.subjects LIKE '% credit_note:' || i.id"
                        " AND a.details::jsonb->'lines' = '[1, 2]'"
                        " AND (a.details::jsonb->'credit_note'->>"
                        "'total_minor')::bigint = -3000"
                        " AND a.details::jsonb->>'reason'"
                        " = 'contract voided'"),
        1);
    /* A close refused records nothing. */
    assert_int_equal(
        invoice_close_period(f.db, "t1", "2026-01", sg, NULL, 0, &closed, &e),
        ST_CONFLICT);
    assert_int_equal(fixture_i64(&f, "SELECT count(*) FROM audit_log"), 2);
    assert_int_equal(auditlog_verify(f.db, NULL, 0, &rep, &e), ST_OK);
    assert_int_equal(rep.nfindings, 0);

    signer_destroy(sg);
    snprintf(path, sizeof(path), "%s/%s", dir, SIGNER_SECRET_FILE);
    unlink(path);
    snprintf(path, sizeof(path), "%s/%s", dir, SIGNER_PUBLIC_FILE);
    unlink(path);
    rmdir(dir);
    fixture_teardown(&f);
}

/* ---- checkpoints and tampering ---------------------------------------- */

static void append_n(fixture *f, int from, int n)
{
    auditlog_who who;
    err e = {0};

    auditlog_who_set(&who, "tenant", "jsbank", "jsbank-core");
    for (int i = from; i < from + n; i++) {
        char subj[32], details[96];

        snprintf(subj, sizeof(subj), "case:%d", 40 + i);
        snprintf(details, sizeof(details),
                 "{\"reason_sha256\": \"%d\", \"n\": %d}", i, i);
        assert_int_equal(db_begin(f->db, &e), ST_OK);
        if (auditlog_append(f->db, &who, "case.complaint", subj, details, &e) !=
            ST_OK)
            fail_msg("append: %s", e.msg);
        assert_int_equal(db_commit(f->db, &e), ST_OK);
    }
}

/* The attacker: a superuser who disables the triggers. */
static void tamper(fixture *f, const char *sql)
{
    char all[2048];

    snprintf(all, sizeof(all),
             "ALTER TABLE audit_log DISABLE TRIGGER USER; %s;"
             " ALTER TABLE audit_log ENABLE TRIGGER USER",
             sql);
    fixture_exec(f, all);
}

/* `twinline audit verify --pubkey pub`: exit status and output. */
static int verify_cli(fixture *f, const char *pub, char *out, size_t cap)
{
    char args[256];

    snprintf(args, sizeof(args), "audit verify --pubkey %s", pub);
    return run_cli(f, args, out, cap);
}

static void test_tampering_found(void **state)
{
    char dir[64] = "/tmp/tl-audit-key-XXXXXX", key[128], pubfile[160];
    char pub[NKEY_PUBLIC_LEN + 1], out[8192], args[256];
    auditlog_checkpointed cp;
    audit_report rep;
    nkey *k = NULL;
    fixture f;
    err e = {0};

    (void)state;
    fixture_setup(&f, "audit_tamper");
    assert_non_null(mkdtemp(dir));
    snprintf(key, sizeof(key), "%s/audit.creds", dir);
    snprintf(pubfile, sizeof(pubfile), "%s.pub", key);

    /* keygen writes the key (0600) and its public half; never twice. */
    snprintf(args, sizeof(args), "audit keygen --out %s", key);
    assert_int_equal(run_cli(&f, args, out, sizeof(out)), 0);
    expect_in(out, "mode 0600");
    assert_int_equal(run_cli(&f, args, out, sizeof(out)), 1);
    assert_int_equal(auditlog_key_load(key, &k, &e), ST_OK);
    snprintf(pub, sizeof(pub), "%s", nkey_public(k));

    /* Eight records, a checkpoint over the first six by the command. */
    append_n(&f, 1, 6);
    snprintf(args, sizeof(args), "audit checkpoint --key %s", key);
    assert_int_equal(run_cli(&f, args, out, sizeof(out)), 0);
    expect_in(out, "checkpoint signed at seq 6");
    assert_int_equal(run_cli(&f, args, out, sizeof(out)), 0);
    expect_in(out, "nothing appended since the checkpoint at seq 6");
    append_n(&f, 7, 2);
    assert_int_equal(verify_cli(&f, pubfile, out, sizeof(out)), 0);
    expect_in(out, "audit trail intact: 8 records (seq 1 to 8)");
    expect_in(out, "signed checkpoints vouch for seq 1 to 6");
    /* Without a trusted key the checkpoints are not read; a key given
     * malformed is a usage error. */
    assert_int_equal(run_cli(&f, "audit verify", out, sizeof(out)), 0);
    expect_in(out, "checkpoints not checked");
    assert_int_equal(
        run_cli(&f, "audit verify --pubkey /nonexistent", out, sizeof(out)), 2);

    /* Changed: a record's content. */
    fixture_exec(&f, "CREATE TABLE saved AS SELECT * FROM audit_log");
    tamper(&f, "UPDATE audit_log SET details = '{\"n\":99}' WHERE seq = 3");
    assert_int_equal(verify_cli(&f, pubfile, out, sizeof(out)), 1);
    expect_in(out, "changed       seq 3:");
    tamper(&f, "UPDATE audit_log a SET details = s.details FROM saved s"
               " WHERE a.seq = 3 AND s.seq = 3");
    assert_int_equal(verify_cli(&f, pubfile, out, sizeof(out)), 0);
    /* A checkpoint is refused over records since the last one that do not
     * check. */
    tamper(&f, "UPDATE audit_log SET details = '{\"n\":99}' WHERE seq = 7");
    assert_int_equal(auditlog_checkpoint(f.db, k, &cp, &e), ST_INVALID);
    expect_in(e.msg, "seq 7 does not match its hash");
    assert_int_equal(fixture_i64(&f, "SELECT max(seq) FROM audit_checkpoints"),
                     6);
    tamper(&f, "UPDATE audit_log a SET details = s.details FROM saved s"
               " WHERE a.seq = 7 AND s.seq = 7");
    assert_int_equal(verify_cli(&f, pubfile, out, sizeof(out)), 0);

    /* Deleted: a record in the middle, and the last one. */
    tamper(&f, "DELETE FROM audit_log WHERE seq = 5");
    assert_int_equal(verify_cli(&f, pubfile, out, sizeof(out)), 1);
    expect_in(out, "deleted       seq 5: records 5 to 5 are missing");
    tamper(&f, "INSERT INTO audit_log SELECT * FROM saved WHERE seq = 5;"
               " DELETE FROM audit_log WHERE seq = 8");
    assert_int_equal(verify_cli(&f, pubfile, out, sizeof(out)), 1);
    expect_in(out, "deleted       seq 8: records 8 to 8 are missing");
    tamper(&f, "INSERT INTO audit_log SELECT * FROM saved WHERE seq = 8");
    assert_int_equal(verify_cli(&f, pubfile, out, sizeof(out)), 0);

    /* Inserted: a forged record under a seq already used (the key
     * dropped), linked to the record before it. */
    tamper(&f, "ALTER TABLE audit_checkpoints DROP CONSTRAINT"
               " audit_checkpoints_seq_fkey;"
               " ALTER TABLE audit_log DROP CONSTRAINT audit_log_pkey;"
               " INSERT INTO audit_log SELECT 4, at, party, identity,"
               " 'case.reopen', subjects, details, prev_hash,"
               " audit_record_hash(4, (extract(epoch FROM at) * 1000000)"
               "::bigint, party, identity, 'case.reopen', subjects, details,"
               " prev_hash) FROM audit_log WHERE seq = 4");
    assert_int_equal(verify_cli(&f, pubfile, out, sizeof(out)), 1);
    expect_in(out, "inserted      seq 4:");
    tamper(&f,
           "DELETE FROM audit_log WHERE seq = 4 AND action = 'case.reopen'");
    /* ... and one appended at the end without the chain's head. */
    tamper(&f, "INSERT INTO audit_log SELECT 9, at, party, identity, action,"
               " subjects, details, hash, audit_record_hash(9,"
               " (extract(epoch FROM at) * 1000000)::bigint, party, identity,"
               " action, subjects, details, hash) FROM audit_log"
               " WHERE seq = 8");
    assert_int_equal(verify_cli(&f, pubfile, out, sizeof(out)), 1);
    expect_in(out, "inserted      seq 9:");
    tamper(&f, "DELETE FROM audit_log WHERE seq = 9");
    assert_int_equal(verify_cli(&f, pubfile, out, sizeof(out)), 0);

    /* Rewritten: seq 2 changed and every hash after it recomputed (the
     * head too), which the chain alone cannot see; the checkpoint
     * does. */
    tamper(&f, "UPDATE audit_log SET details = '{\"n\":0}' WHERE seq = 2;"
               " DO $$ DECLARE r record; p bytea; BEGIN"
               " SELECT hash INTO p FROM audit_log WHERE seq = 1;"
               " FOR r IN SELECT * FROM audit_log WHERE seq >= 2 ORDER BY seq"
               " LOOP p := audit_record_hash(r.seq, (extract(epoch FROM r.at)"
               " * 1000000)::bigint, r.party, r.identity, r.action,"
               " r.subjects, r.details, p);"
               " UPDATE audit_log SET prev_hash = (SELECT hash FROM audit_log"
               " WHERE seq = r.seq - 1), hash = p WHERE seq = r.seq;"
               " END LOOP; UPDATE audit_head SET hash = p; END $$");
    assert_int_equal(run_cli(&f, "audit verify", out, sizeof(out)), 0);
    assert_int_equal(verify_cli(&f, pubfile, out, sizeof(out)), 1);
    expect_in(out, "checkpoint    seq 6:");
    expect_in(out, "records after seq 0 up to 6");
    assert_int_equal(auditlog_verify(f.db, (const char *[]){pub}, 1, &rep, &e),
                     ST_OK);
    assert_int_equal(rep.findings[0].fault, AUDIT_CHECKPOINT);
    assert_int_equal(rep.findings[0].seq, 6);

    nkey_destroy(k);
    unlink(key);
    unlink(pubfile);
    rmdir(dir);
    fixture_teardown(&f);
}

/* twinline-billing with an audit key signs checkpoints as records are
 * appended. */
static void test_billing_signs_checkpoints(void **state)
{
    char dir[64] = "/tmp/tl-audit-svc-XXXXXX", key[128], pubfile[160];
    char pub[NKEY_PUBLIC_LEN + 1];
    running_billing rb;
    audit_report rep;
    const char *signers[1] = {pub};
    fixture f;
    err e = {0};

    (void)state;
    fixture_setup(&f, "audit_billing_cp");
    assert_non_null(mkdtemp(dir));
    snprintf(key, sizeof(key), "%s/audit.creds", dir);
    snprintf(pubfile, sizeof(pubfile), "%s.pub", key);
    assert_int_equal(auditlog_key_create(key, "billing", pub, &e), ST_OK);
    append_n(&f, 1, 3);
    setenv("TL_AUDIT_KEY", key, 1);
    setenv("TL_AUDIT_CHECKPOINT_MS", "200", 1);
    harness_billing_start(&rb, &f);
    assert_int_equal(
        fixture_wait_i64(&f, "SELECT max(seq) FROM audit_checkpoints", 3, 5000),
        3);
    append_n(&f, 4, 2);
    assert_int_equal(
        fixture_wait_i64(&f, "SELECT max(seq) FROM audit_checkpoints", 5, 5000),
        5);
    harness_billing_stop(&rb);
    unsetenv("TL_AUDIT_KEY");
    unsetenv("TL_AUDIT_CHECKPOINT_MS");
    assert_int_equal(auditlog_verify(f.db, signers, 1, &rep, &e), ST_OK);
    assert_int_equal(rep.nfindings, 0);
    assert_int_equal(rep.vouched, 5);

    unlink(key);
    unlink(pubfile);
    rmdir(dir);
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dispatcher_records),
        cmocka_unit_test(test_invoice_records),
        cmocka_unit_test(test_tampering_found),
        cmocka_unit_test(test_billing_signs_checkpoints),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
