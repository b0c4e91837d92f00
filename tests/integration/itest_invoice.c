/*
 * Invoices and credit notes against a real PostgreSQL: billable lines are
 * seeded with SQL (each with its case, task, reservation and outcome, as
 * the dispatcher and billing service would leave them), periods are
 * closed, documents exported, verified, tampered with and credited. The
 * expected lines and totals are written out in each test.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_pdf.h"
#include "fixture.h"
#include "invoice.h"
#include "signer.h"
#include "tl_test.h"

/*
 * Tenants t1 (Bank One) and t2 (Bank Two); t1 buys through contract c1
 * (EUR) and c3 (USD), t2 through c2 (EUR). Prices come with the lines.
 */
static const char seed_sql[] =
    "INSERT INTO tenants (id, name) VALUES ('t1', 'Bank One'),"
    "  ('t2', 'Bank Two');"
    "INSERT INTO operators (id, name) VALUES ('op1', 'Ops One');"
    "INSERT INTO pools (id, operator_id, name) VALUES"
    "  ('p1', 'op1', 'Pool One');"
    "INSERT INTO workers (id, pool_id, name) VALUES"
    "  ('w1', 'p1', 'Worker One'), ('w2', 'p1', 'Worker Two');"
    "INSERT INTO contracts (id, tenant_id, pool_id, currency) VALUES"
    "  ('c1', 't1', 'p1', 'EUR'), ('c2', 't2', 'p1', 'EUR'),"
    "  ('c3', 't1', 'p1', 'USD');"
    "INSERT INTO playbooks (tenant_id, case_type, version, name, definition)"
    "  VALUES ('t1', 'loan', 1, 'Loan', '{}'), ('t2', 'loan', 1, 'Loan',"
    "  '{}');";

typedef struct env {
    fixture f;
    char keydir[64];
    char keydir2[64];
    signer *sg;
    signer *other; /* a second key, for wrong-key checks */
    int cases;
} env;

static void make_key(char *dir, size_t cap, signer **out)
{
    err e = {0};

    snprintf(dir, cap, "/tmp/tl-invoice-XXXXXX");
    assert_non_null(mkdtemp(dir));
    if (signer_keygen(dir, NULL, &e) != ST_OK ||
        signer_load(out, dir, &e) != ST_OK)
        fail_msg("key: %s", e.msg);
}

static void remove_key(const char *dir)
{
    char path[128];

    snprintf(path, sizeof(path), "%s/%s", dir, SIGNER_SECRET_FILE);
    unlink(path);
    snprintf(path, sizeof(path), "%s/%s", dir, SIGNER_PUBLIC_FILE);
    unlink(path);
    rmdir(dir);
}

static void env_setup(env *v, const char *name)
{
    memset(v, 0, sizeof(*v));
    fixture_setup(&v->f, name);
    fixture_exec(&v->f, seed_sql);
    make_key(v->keydir, sizeof(v->keydir), &v->sg);
    make_key(v->keydir2, sizeof(v->keydir2), &v->other);
}

static void env_teardown(env *v)
{
    signer_destroy(v->sg);
    signer_destroy(v->other);
    remove_key(v->keydir);
    remove_key(v->keydir2);
    fixture_teardown(&v->f);
}

/*
 * One billed outcome: a one-task case of tenant by worker, outcome code,
 * and its billable line under contract for amount, created at `at` (a
 * timestamptz literal). Returns the billable line's id.
 */
static int64_t seed_line(env *v, const char *tenant, const char *contract,
                         const char *currency, const char *worker,
                         const char *code, int64_t amount, const char *at)
{
    char sql[2048];

    v->cases++;
    snprintf(sql, sizeof(sql),
             "WITH c AS ("
             "  INSERT INTO cases (tenant_id, external_id, case_type,"
             "    playbook_version) VALUES ('%s', 'x-%d', 'loan', 1)"
             "  RETURNING id"
             "), t AS ("
             "  INSERT INTO tasks (case_id, tenant_id, step, state,"
             "    worker_id, completed_at)"
             "  SELECT id, '%s', 'call', 'completed', '%s', '%s' FROM c"
             "  RETURNING id, case_id"
             "), r AS ("
             "  INSERT INTO reservations (task_id, worker_id, epoch, state,"
             "    deadline) SELECT id, '%s', 0, 'completed', '%s' FROM t"
             "  RETURNING id, task_id"
             "), o AS ("
             "  INSERT INTO outcomes (task_id, case_id, tenant_id,"
             "    worker_id, reservation_id, code, billable, created_at)"
             "  SELECT t.id, t.case_id, '%s', '%s', r.id, '%s', true, '%s'"
             "  FROM t JOIN r ON r.task_id = t.id"
             "  RETURNING id, task_id, case_id"
             ")"
             "INSERT INTO billable_lines (outcome_id, tenant_id, operator_id,"
             "  contract_id, case_id, task_id, worker_id, outcome_code,"
             "  amount_minor, currency, created_at)"
             "SELECT o.id, '%s', 'op1', '%s', o.case_id, o.task_id, '%s',"
             "  '%s', %" PRId64 ", '%s', '%s' FROM o RETURNING id",
             tenant, v->cases, tenant, worker, at, worker, at, tenant, worker,
             code, at, tenant, contract, worker, code, amount, currency, at);
    return fixture_i64(&v->f, sql);
}

/* Close or fail the test. */
static invoice_closed close_ok(env *v, const char *tenant, const char *period)
{
    invoice_closed res;
    err e = {0};

    if (invoice_close_period(v->f.db, tenant, period, v->sg, NULL, 0, &res,
                             &e) != ST_OK)
        fail_msg("close %s %s: %s", tenant, period, e.msg);
    return res;
}

static int64_t q(env *v, const char *fmt, int64_t id)
{
    char sql[512];

    snprintf(sql, sizeof(sql), fmt, id);
    return fixture_i64(&v->f, sql);
}

/* The export of id in fmt as a string (caller frees). */
static char *export_str(env *v, int64_t id, invoice_format fmt, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    err e = {0};

    assert_non_null(f);
    if (invoice_export(v->f.db, id, fmt, f, &e) != ST_OK)
        fail_msg("export %" PRId64 ": %s", id, e.msg);
    fclose(f);
    if (len != NULL)
        *len = n;
    return buf;
}

/* Seed t1's October: three EUR lines, one USD line; plus lines outside
 * the period (September, November) and of t2, which must stay out. */
static void seed_october(env *v, int64_t ids[4])
{
    ids[0] = seed_line(v, "t1", "c1", "EUR", "w1", "paid", 2500,
                       "2026-10-01 00:00:00+00");
    ids[1] = seed_line(v, "t1", "c1", "EUR", "w2", "promise_to_pay", 1500,
                       "2026-10-15 12:00:00+00");
    ids[2] = seed_line(v, "t1", "c1", "EUR", "w1", "paid", 2500,
                       "2026-10-31 23:59:59+00");
    ids[3] = seed_line(v, "t1", "c3", "USD", "w1", "paid", 990,
                       "2026-10-20 08:00:00+00");
    seed_line(v, "t1", "c1", "EUR", "w1", "paid", 7000,
              "2026-09-30 23:59:59+00");
    seed_line(v, "t1", "c1", "EUR", "w1", "paid", 8000,
              "2026-11-01 00:00:00+00");
    seed_line(v, "t2", "c2", "EUR", "w1", "paid", 9000,
              "2026-10-10 00:00:00+00");
}

/* ---- tests ---- */

static void test_close_period(void **state)
{
    int64_t ids[4];
    invoice_closed res, again;
    err e = {0};
    env v;

    (void)state;
    env_setup(&v, "invoice_close");
    seed_october(&v, ids);
    res = close_ok(&v, "t1", "2026-10");

    /* One invoice per currency, by currency: EUR then USD. */
    assert_int_equal(res.n, 2);
    assert_int_equal(res.lines, 4);
    assert_int_equal(res.numbers[0], 1);
    assert_int_equal(res.numbers[1], 2);
    assert_int_equal(q(&v,
                       "SELECT total_minor FROM invoices WHERE id = %" PRId64,
                       res.ids[0]),
                     6500);
    assert_int_equal(q(&v,
                       "SELECT line_count FROM invoices WHERE id = %" PRId64,
                       res.ids[0]),
                     3);
    assert_int_equal(q(&v,
                       "SELECT total_minor FROM invoices WHERE id = %" PRId64
                       " AND currency = 'USD'",
                       res.ids[1]),
                     990);
    /* Lines in billing order, each traceable to its billable line, case,
     * task, worker and outcome. */
    for (int i = 0; i < 3; i++) {
        char sql[640];

        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM invoice_lines il"
                 " JOIN billable_lines bl ON bl.id = il.billable_line_id"
                 " JOIN outcomes o ON o.id = il.outcome_id"
                 " WHERE il.invoice_id = %" PRId64 " AND il.line_no = %d"
                 "   AND bl.id = %" PRId64 " AND il.case_id = bl.case_id"
                 "   AND il.task_id = bl.task_id"
                 "   AND il.worker_id = bl.worker_id"
                 "   AND o.id = bl.outcome_id"
                 "   AND il.amount_minor = bl.amount_minor",
                 res.ids[0], i + 1, ids[i]);
        assert_int_equal(fixture_i64(&v.f, sql), 1);
    }
    assert_int_equal(fixture_i64(&v.f, "SELECT count(*) FROM invoices"
                                       " WHERE state = 'issued'"),
                     2);

    /* Closing again: a clear error, nothing invoiced twice. */
    assert_int_equal(invoice_close_period(v.f.db, "t1", "2026-10", v.sg, NULL,
                                          0, &again, &e),
                     ST_CONFLICT);
    assert_non_null(strstr(e.msg, "already closed"));
    assert_int_equal(fixture_i64(&v.f, "SELECT count(*) FROM invoice_lines"),
                     4);

    /* A period with nothing in it: a clear error, nothing stored. */
    assert_int_equal(invoice_close_period(v.f.db, "t1", "2026-08", v.sg, NULL,
                                          0, &again, &e),
                     ST_NOT_FOUND);
    assert_non_null(strstr(e.msg, "nothing to close"));
    assert_int_equal(fixture_i64(&v.f, "SELECT count(*) FROM invoice_periods"
                                       " WHERE period = '2026-08'"),
                     0);

    /* Bad input. */
    assert_int_equal(invoice_close_period(v.f.db, "nobody", "2026-10", v.sg,
                                          NULL, 0, &again, &e),
                     ST_UNKNOWN_TENANT);
    assert_int_equal(invoice_close_period(v.f.db, "t1", "2026-13", v.sg, NULL,
                                          0, &again, &e),
                     ST_INVALID);

    /* September then gets the next number of the EUR/USD-shared series. */
    res = close_ok(&v, "t1", "2026-09");
    assert_int_equal(res.n, 1);
    assert_int_equal(res.numbers[0], 3);
    assert_int_equal(q(&v,
                       "SELECT total_minor FROM invoices WHERE id = %" PRId64,
                       res.ids[0]),
                     7000);
    env_teardown(&v);
}

static void test_numbering_without_gaps(void **state)
{
    invoice_closed res;
    err e = {0};
    env v;

    (void)state;
    env_setup(&v, "invoice_numbers");
    seed_line(&v, "t1", "c1", "EUR", "w1", "paid", 100,
              "2026-07-10 00:00:00+00");
    seed_line(&v, "t2", "c2", "EUR", "w1", "paid", 200,
              "2026-07-10 00:00:00+00");
    /* August of t1 sums beyond int64: its close fails after it took a
     * number. */
    seed_line(&v, "t1", "c1", "EUR", "w1", "paid", 5000000000000000000LL,
              "2026-08-01 00:00:00+00");
    seed_line(&v, "t1", "c1", "EUR", "w2", "paid", 5000000000000000000LL,
              "2026-08-02 00:00:00+00");
    seed_line(&v, "t1", "c1", "EUR", "w1", "paid", 300,
              "2026-09-10 00:00:00+00");
    seed_line(&v, "t1", "c1", "EUR", "w1", "paid", 400,
              "2026-11-10 00:00:00+00");

    assert_int_equal(close_ok(&v, "t1", "2026-07").numbers[0], 1);
    assert_int_equal(close_ok(&v, "t2", "2026-07").numbers[0], 1);

    assert_int_equal(
        invoice_close_period(v.f.db, "t1", "2026-08", v.sg, NULL, 0, &res, &e),
        ST_INVALID);
    assert_non_null(strstr(e.msg, "64 bits"));
    /* Nothing of the failed close remains: no invoice, no closed period,
     * and the series still offers 2. */
    assert_int_equal(fixture_i64(&v.f, "SELECT count(*) FROM invoices"), 2);
    assert_int_equal(fixture_i64(&v.f, "SELECT count(*) FROM invoice_periods"
                                       " WHERE period = '2026-08'"),
                     0);
    assert_int_equal(fixture_i64(&v.f, "SELECT next_number FROM"
                                       " invoice_series WHERE tenant_id ="
                                       " 't1' AND kind = 'invoice'"),
                     2);

    assert_int_equal(close_ok(&v, "t1", "2026-09").numbers[0], 2);

    /* November has not ended (the suite runs before 2026-12 or after:
     * either way the flag decides only for an open month). */
    if (invoice_close_period(v.f.db, "t1", "2026-11", v.sg, NULL, 0, &res,
                             &e) != ST_OK) {
        assert_non_null(strstr(e.msg, "has not ended"));
        if (invoice_close_period(v.f.db, "t1", "2026-11", v.sg, NULL,
                                 INVOICE_CLOSE_EARLY, &res, &e) != ST_OK)
            fail_msg("early close: %s", e.msg);
    }
    assert_int_equal(res.numbers[0], 3);

    /* Each series is 1..n: count = max, no duplicates. */
    assert_int_equal(fixture_i64(&v.f, "SELECT count(*) FROM ("
                                       " SELECT series_id FROM invoices"
                                       " GROUP BY series_id"
                                       " HAVING count(*) <> max(number)"
                                       "     OR min(number) <> 1) x"),
                     0);
    {
        char nums[64];

        fixture_str(&v.f,
                    "SELECT string_agg(tenant_id || ':' || number, ','"
                    " ORDER BY tenant_id, number) FROM invoices",
                    nums, sizeof(nums));
        assert_string_equal(nums, "t1:1,t1:2,t1:3,t2:1");
    }
    env_teardown(&v);
}

typedef struct closer {
    const env *v;
    const char *period;
    status st;
    invoice_closed res;
    err e;
} closer;

static void *close_thread(void *arg)
{
    closer *c = arg;
    db *d = NULL;

    c->st = db_connect(&d, c->v->f.cfg.db, &c->e);
    if (c->st == ST_OK)
        c->st = invoice_close_period(d, "t1", c->period, c->v->sg, NULL, 0,
                                     &c->res, &c->e);
    db_close(d);
    return NULL;
}

/* Closes racing on one series queue on its row: numbers 1..n, each once,
 * and a close racing its own period gets "already closed". */
static void test_concurrent_closes(void **state)
{
    static const char *const periods[] = {"2026-01", "2026-02", "2026-03",
                                          "2026-04", "2026-04", "2026-05"};
    enum { N = 6 };
    closer c[N];
    pthread_t t[N];
    char nums[64];
    int ok = 0, conflicts = 0;
    env v;

    (void)state;
    env_setup(&v, "invoice_race");
    for (int i = 0; i < N; i++) {
        char at[40];

        snprintf(at, sizeof(at), "%s-15 10:00:00+00", periods[i]);
        if (i != 4)
            seed_line(&v, "t1", "c1", "EUR", "w1", "paid", 100 + i, at);
    }
    for (int i = 0; i < N; i++) {
        memset(&c[i], 0, sizeof(c[i]));
        c[i].v = &v;
        c[i].period = periods[i];
        assert_int_equal(pthread_create(&t[i], NULL, close_thread, &c[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        if (c[i].st == ST_OK)
            ok++;
        else if (c[i].st == ST_CONFLICT)
            conflicts++;
        else
            fail_msg("close %s: %s", c[i].period, c[i].e.msg);
    }
    assert_int_equal(ok, 5);
    assert_int_equal(conflicts, 1);
    fixture_str(&v.f,
                "SELECT string_agg(number::text, ',' ORDER BY number)"
                " FROM invoices WHERE tenant_id = 't1'",
                nums, sizeof(nums));
    assert_string_equal(nums, "1,2,3,4,5");
    assert_int_equal(fixture_i64(&v.f, "SELECT count(*) FROM invoice_lines"),
                     5);
    env_teardown(&v);
}

static void test_issued_is_immutable(void **state)
{
    int64_t ids[4];
    invoice_closed res;
    char sql[256];
    err e = {0};
    env v;

    (void)state;
    env_setup(&v, "invoice_immutable");
    seed_october(&v, ids);
    res = close_ok(&v, "t1", "2026-10");

    snprintf(sql, sizeof(sql),
             "UPDATE invoices SET total_minor = 1 WHERE id = %" PRId64,
             res.ids[0]);
    assert_int_equal(db_exec(v.f.db, sql, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "is issued"));
    snprintf(sql, sizeof(sql), "DELETE FROM invoices WHERE id = %" PRId64,
             res.ids[0]);
    assert_int_not_equal(db_exec(v.f.db, sql, &e), ST_OK);
    snprintf(sql, sizeof(sql),
             "UPDATE invoice_lines SET amount_minor = 1 WHERE invoice_id = "
             "%" PRId64,
             res.ids[0]);
    assert_int_equal(db_exec(v.f.db, sql, &e), ST_INVALID);
    snprintf(sql, sizeof(sql),
             "DELETE FROM invoice_lines WHERE invoice_id = %" PRId64,
             res.ids[0]);
    assert_int_equal(db_exec(v.f.db, sql, &e), ST_INVALID);
    /* A gap in a series is refused whoever writes. */
    assert_int_equal(
        db_exec(v.f.db,
                "INSERT INTO invoices (kind, tenant_id, tenant_name, period,"
                " series_id, number, currency) SELECT 'invoice', 't1', 'x',"
                " '2026-01', id, 9, 'EUR' FROM invoice_series"
                " WHERE tenant_id = 't1' AND kind = 'invoice'",
                &e),
        ST_INVALID);
    assert_non_null(strstr(e.msg, "gap"));
    assert_int_equal(q(&v,
                       "SELECT total_minor FROM invoices WHERE id = %" PRId64,
                       res.ids[0]),
                     6500);
    env_teardown(&v);
}

static void test_export_verifies(void **state)
{
    int64_t ids[4];
    invoice_closed res;
    char ref[INVOICE_REF_MAX];
    char *json, *amount;
    size_t len;
    err e = {0};
    env v;

    (void)state;
    env_setup(&v, "invoice_verify");
    seed_october(&v, ids);
    res = close_ok(&v, "t1", "2026-10");
    json = export_str(&v, res.ids[0], INVOICE_FMT_JSON, &len);

    if (invoice_verify_document(json, len, signer_public_key(v.sg), ref, &e) !=
        ST_OK)
        fail_msg("verify: %s", e.msg);
    assert_string_equal(ref, "INV-t1-000001");
    if (invoice_verify_stored(v.f.db, res.ids[0], signer_public_key(v.sg), ref,
                              &e) != ST_OK)
        fail_msg("verify stored: %s", e.msg);

    /* Another key: refused, naming both keys. */
    assert_int_equal(invoice_verify_document(
                         json, len, signer_public_key(v.other), NULL, &e),
                     ST_INVALID);
    assert_non_null(strstr(e.msg, signer_key_id(v.sg)));

    /* One digit of an amount changed: the hash no longer matches. */
    amount = strstr(json, "\"amount_minor\":2500");
    assert_non_null(amount);
    amount[strlen("\"amount_minor\":2")] = '6';
    assert_int_equal(
        invoice_verify_document(json, len, signer_public_key(v.sg), NULL, &e),
        ST_INVALID);
    assert_non_null(strstr(e.msg, "changed"));
    free(json);

    /* A row changed behind the trigger's back (a superuser disabling it)
     * is found by re-deriving the stored document. */
    {
        char sql[512];

        snprintf(sql, sizeof(sql),
                 "ALTER TABLE invoice_lines DISABLE TRIGGER"
                 " invoice_lines_immutable;"
                 "UPDATE invoice_lines SET amount_minor = 2499"
                 " WHERE invoice_id = %" PRId64 " AND line_no = 1;"
                 "ALTER TABLE invoice_lines ENABLE TRIGGER"
                 " invoice_lines_immutable;",
                 res.ids[0]);
        fixture_exec(&v.f, sql);
    }
    assert_int_equal(invoice_verify_stored(v.f.db, res.ids[0],
                                           signer_public_key(v.sg), NULL, &e),
                     ST_INVALID);
    assert_non_null(strstr(e.msg, "INV-t1-000001"));
    /* Its export carries the signed hash, so it fails too. */
    json = export_str(&v, res.ids[0], INVOICE_FMT_JSON, &len);
    assert_int_equal(
        invoice_verify_document(json, len, signer_public_key(v.sg), NULL, &e),
        ST_INVALID);
    free(json);
    /* The other invoice is untouched and still verifies. */
    assert_int_equal(invoice_verify_stored(v.f.db, res.ids[1],
                                           signer_public_key(v.sg), NULL, &e),
                     ST_OK);
    env_teardown(&v);
}

static void test_credit_note(void **state)
{
    int64_t ids[4], cn1 = 0, cn2 = 0, none = 0;
    const int64_t line2[] = {2};
    const int64_t line9[] = {9};
    invoice_closed res;
    char *json;
    size_t len;
    err e = {0};
    env v;

    (void)state;
    env_setup(&v, "invoice_credit");
    seed_october(&v, ids);
    res = close_ok(&v, "t1", "2026-10");

    if (invoice_credit_note(v.f.db, res.ids[0], line2, 1,
                            "complaint upheld on case x-2", v.sg, NULL, &cn1,
                            &e) != ST_OK)
        fail_msg("credit: %s", e.msg);
    assert_int_equal(
        q(&v, "SELECT corrects_id FROM invoices WHERE id = %" PRId64, cn1),
        res.ids[0]);
    assert_int_equal(
        q(&v, "SELECT number FROM invoices WHERE id = %" PRId64, cn1), 1);
    assert_int_equal(
        q(&v, "SELECT total_minor FROM invoices WHERE id = %" PRId64, cn1),
        -1500);
    assert_int_equal(q(&v,
                       "SELECT billable_line_id FROM invoice_lines"
                       " WHERE invoice_id = %" PRId64,
                       cn1),
                     ids[1]);
    /* Invoice and credit note net to what still stands: 2500 + 2500. */
    assert_int_equal(q(&v,
                       "SELECT sum(total_minor) FROM invoices"
                       " WHERE id = %1$" PRId64 " OR corrects_id = %1$" PRId64,
                       res.ids[0]),
                     5000);

    /* The same line again, a line that does not exist, a credit note
     * credited: clear errors, nothing issued. */
    assert_int_equal(invoice_credit_note(v.f.db, res.ids[0], line2, 1, "again",
                                         v.sg, NULL, &none, &e),
                     ST_CONFLICT);
    assert_non_null(strstr(e.msg, "CN-t1-000001"));
    assert_int_equal(invoice_credit_note(v.f.db, res.ids[0], line9, 1, "nine",
                                         v.sg, NULL, &none, &e),
                     ST_NOT_FOUND);
    assert_int_equal(
        invoice_credit_note(v.f.db, cn1, NULL, 0, "x", v.sg, NULL, &none, &e),
        ST_INVALID);
    assert_int_equal(invoice_credit_note(v.f.db, res.ids[0], NULL, 0, "", v.sg,
                                         NULL, &none, &e),
                     ST_INVALID);

    /* The rest: lines 1 and 3, numbered 2 in the credit-note series. */
    if (invoice_credit_note(v.f.db, res.ids[0], NULL, 0, "contract voided",
                            v.sg, NULL, &cn2, &e) != ST_OK)
        fail_msg("credit rest: %s", e.msg);
    assert_int_equal(
        q(&v, "SELECT number FROM invoices WHERE id = %" PRId64, cn2), 2);
    assert_int_equal(
        q(&v, "SELECT total_minor FROM invoices WHERE id = %" PRId64, cn2),
        -5000);
    assert_int_equal(q(&v,
                       "SELECT sum(total_minor) FROM invoices"
                       " WHERE id = %1$" PRId64 " OR corrects_id = %1$" PRId64,
                       res.ids[0]),
                     0);
    assert_int_equal(invoice_credit_note(v.f.db, res.ids[0], NULL, 0, "more",
                                         v.sg, NULL, &none, &e),
                     ST_CONFLICT);
    assert_int_equal(fixture_i64(&v.f, "SELECT count(*) FROM invoices"
                                       " WHERE kind = 'credit_note'"),
                     2);

    /* The credit note's document names what it corrects and verifies. */
    json = export_str(&v, cn1, INVOICE_FMT_JSON, &len);
    assert_non_null(strstr(json, "\"corrects\":{\"id\":"));
    assert_non_null(strstr(json, "\"reference\":\"INV-t1-000001\""));
    assert_non_null(strstr(json, "\"amount_minor\":-1500"));
    assert_non_null(
        strstr(json, "\"reason\":\"complaint upheld on case x-2\""));
    assert_int_equal(
        invoice_verify_document(json, len, signer_public_key(v.sg), NULL, &e),
        ST_OK);
    free(json);
    assert_int_equal(
        invoice_verify_stored(v.f.db, cn2, signer_public_key(v.sg), NULL, &e),
        ST_OK);
    env_teardown(&v);
}

static void test_csv_and_html(void **state)
{
    int64_t ids[4];
    invoice_closed res;
    char *csv, *html, *p;
    int rows = 0;
    env v;

    (void)state;
    env_setup(&v, "invoice_exports");
    seed_october(&v, ids);
    fixture_exec(&v.f, "UPDATE tenants SET name = 'Bank <One> & \"Co\"'"
                       " WHERE id = 't1'");
    res = close_ok(&v, "t1", "2026-10");
    csv = export_str(&v, res.ids[0], INVOICE_FMT_CSV, NULL);
    html = export_str(&v, res.ids[0], INVOICE_FMT_HTML, NULL);

    for (p = csv; (p = strstr(p, "\r\n")) != NULL; p += 2)
        rows++;
    assert_int_equal(rows, 4); /* header and three lines */
    /* Seller op1, buyer t1, then line 1 (the dates are today's). */
    assert_non_null(strstr(csv, "INV-t1-000001,invoice,2026-10,EUR,op1,t1,"));
    assert_non_null(strstr(csv, ",1,2026-10-01T00:00:00Z,"));
    /* Net, no tax (the contract has none), gross. */
    assert_non_null(strstr(csv, ",25.00,2500,,0,0.00,0,25.00,2500\r\n"));
    assert_non_null(strstr(csv, ",15.00,1500,,0,0.00,0,15.00,1500\r\n"));
    for (int i = 0; i < 3; i++) {
        char needle[96];

        snprintf(needle, sizeof(needle), ",x-%d,loan,", i + 1);
        assert_non_null(strstr(csv, needle));
        snprintf(needle, sizeof(needle), "x-%d<br><span", i + 1);
        assert_non_null(strstr(html, needle));
        snprintf(needle, sizeof(needle),
                 "\"Outcome \"\"%s\"\" of loan case x-%d\",",
                 i == 1 ? "promise_to_pay" : "paid", i + 1);
        assert_non_null(strstr(csv, needle));
    }
    /* Nothing internal to the operator reaches the bank. */
    assert_null(strstr(csv, "w1"));
    assert_null(strstr(html, "w1"));
    assert_null(strstr(html, "w2"));
    assert_null(strstr(csv, "x-4")); /* the USD line is on the other one */
    assert_non_null(strstr(html, "<td>loan: promise to pay <span"));
    assert_non_null(strstr(html, "<h1>Invoice INV-t1-000001</h1>"));
    assert_non_null(strstr(html, "Bank &lt;One&gt; &amp; &quot;Co&quot;"));
    assert_non_null(strstr(html, "EUR 65.00"));
    assert_non_null(strstr(html, signer_key_id(v.sg)));
    free(csv);
    free(html);
    env_teardown(&v);
}

/* ---- a month as a bank's accounts payable reads it ---- */

/*
 * t1 and op1 with their legal details, contract c1 with 6 % VAT (half up)
 * and 30 days; op2 sells on contract c4 in EUR, 45 days, no tax.
 */
static const char bank_sql[] =
    "UPDATE tenants SET time_zone = 'Asia/Shanghai',"
    "  legal_name = '江苏示例银行股份有限公司',"
    "  address = '江苏省常州市新北区示例路 1 号',"
    "  tax_id = '91320400MA1XAMPLEG', country = 'CN' WHERE id = 't1';"
    "UPDATE operators SET legal_name = 'Ops One (Suzhou) Co., Ltd.',"
    "  address = '88 Example Road, Suzhou', tax_id = '91320505MA0XAMPLEP',"
    "  country = 'CN', bank_name = 'ICBC Suzhou',"
    "  bank_account = '1102 0200 0900 0000 0088' WHERE id = 'op1';"
    "UPDATE contracts SET tax_name = 'VAT', tax_rate_bps = 600,"
    "  tax_rounding = 'half_up', payment_terms_days = 30 WHERE id = 'c1';"
    "INSERT INTO operators (id, name) VALUES ('op2', 'Ops Two');"
    "INSERT INTO pools (id, operator_id, name) VALUES"
    "  ('p2', 'op2', 'Pool Two');"
    "INSERT INTO workers (id, pool_id, name) VALUES ('w3', 'p2', 'Three');"
    "INSERT INTO contracts (id, tenant_id, pool_id, currency,"
    "  payment_terms_days) VALUES ('c4', 't1', 'p2', 'EUR', 45);"
    "INSERT INTO contract_plans (contract_id, version, effective_from, plan)"
    "  VALUES ('c1', 1, '2026-01-01Z', '{}');";

/* A complaint penalty of -5.00 on case ext and a monthly minimum top-up of
 * 2.33, both of October under c1. */
static void seed_adjustments(env *v, const char *ext)
{
    char sql[1400];

    snprintf(sql, sizeof(sql),
             "WITH d AS (INSERT INTO case_disputes (case_id, tenant_id,"
             "  kind, reason, idem_key, processed_at)"
             "  SELECT id, 't1', 'complaint', 'rude', 'k1', now()"
             "  FROM cases WHERE external_id = '%s' RETURNING id, case_id)"
             "INSERT INTO billing_adjustments (kind, tenant_id, operator_id,"
             "  contract_id, plan_version, case_id, dispute_id, period,"
             "  currency, amount_minor, description, created_at)"
             "SELECT 'complaint_penalty', 't1', 'op1', 'c1', 1, case_id, id,"
             "  '2026-10', 'EUR', -500, 'Complaint penalty: case %s, rude',"
             "  '2026-10-20 00:00:00+00' FROM d;"
             "INSERT INTO billing_adjustments (kind, tenant_id, operator_id,"
             "  contract_id, plan_version, period, currency, amount_minor,"
             "  description, created_at) VALUES ('monthly_minimum', 't1',"
             "  'op1', 'c1', 1, '2026-10', 'EUR', 233,"
             "  'Monthly minimum of contract c1 for 2026-10', "
             "  '2026-10-31 23:00:00+00');",
             ext, ext);
    fixture_exec(&v->f, sql);
}

static int64_t line_tax(env *v, int64_t invoice, int line)
{
    char sql[256];

    snprintf(sql, sizeof(sql),
             "SELECT tax_minor FROM invoice_lines WHERE invoice_id = %" PRId64
             " AND line_no = %d",
             invoice, line);
    return fixture_i64(&v->f, sql);
}

/*
 * October of t1, worked out by hand (the allocation is test_invoice_tax's
 * month):
 *   line  case  outcome            net     VAT 6 %
 *   1     x-1   paid               12.58   0.76
 *   2     x-2   paid               12.58   0.75
 *   3     x-3   promise_to_pay     12.58   0.75
 *   4     x-4   resolved            9.99   0.60
 *   5     x-1   complaint penalty  -5.00  -0.30
 *   6     -     monthly minimum     2.33   0.14
 *   net 45.06, VAT 45.06 * 6 % = 2.7036 -> 2.70, total due 47.76,
 *   due 30 days after the issue date (in Asia/Shanghai).
 * op2's line (EUR 7.00, no tax, 45 days) is an invoice of its own.
 */
static void test_month_for_a_bank(void **state)
{
    invoice_closed res;
    char *json, *html, *csv, *amount, buf[256];
    size_t len;
    err e = {0};
    env v;

    (void)state;
    env_setup(&v, "invoice_bank");
    fixture_exec(&v.f, bank_sql);
    seed_line(&v, "t1", "c1", "EUR", "w1", "paid", 1258,
              "2026-10-01 01:00:00+00");
    seed_line(&v, "t1", "c1", "EUR", "w2", "paid", 1258,
              "2026-10-02 01:00:00+00");
    seed_line(&v, "t1", "c1", "EUR", "w1", "promise_to_pay", 1258,
              "2026-10-03 01:00:00+00");
    seed_line(&v, "t1", "c1", "EUR", "w2", "resolved", 999,
              "2026-10-04 01:00:00+00");
    {
        /* op2's result: a case worked by w3 under c4. */
        int64_t id = seed_line(&v, "t1", "c4", "EUR", "w3", "paid", 700,
                               "2026-10-05 01:00:00+00");
        char sql[160];

        snprintf(sql, sizeof(sql),
                 "UPDATE billable_lines SET operator_id = 'op2' WHERE id = "
                 "%" PRId64,
                 id);
        fixture_exec(&v.f, sql);
    }
    seed_adjustments(&v, "x-1");
    res = close_ok(&v, "t1", "2026-10");

    /* One invoice per seller: op1 first, then op2. */
    assert_int_equal(res.n, 2);
    assert_int_equal(res.lines, 7);
    assert_false(res.incomplete[0]);
    assert_true(res.incomplete[1]); /* op2 and its address: not configured */
    assert_int_equal(q(&v,
                       "SELECT total_minor FROM invoices WHERE id = %" PRId64,
                       res.ids[0]),
                     4506);
    assert_int_equal(
        q(&v, "SELECT tax_minor FROM invoices WHERE id = %" PRId64, res.ids[0]),
        270);
    {
        const int64_t want[6] = {76, 75, 75, 60, -30, 14};

        for (int i = 0; i < 6; i++)
            assert_int_equal(line_tax(&v, res.ids[0], i + 1), want[i]);
    }
    assert_int_equal(q(&v,
                       "SELECT due_date - issue_date FROM invoices"
                       " WHERE id = %" PRId64,
                       res.ids[0]),
                     30);
    assert_int_equal(q(&v,
                       "SELECT count(*) FROM invoices WHERE id = %" PRId64
                       " AND issue_date = (issued_at AT TIME ZONE"
                       " 'Asia/Shanghai')::date",
                       res.ids[0]),
                     1);
    assert_int_equal(q(&v,
                       "SELECT due_date - issue_date FROM invoices"
                       " WHERE id = %" PRId64,
                       res.ids[1]),
                     45);
    assert_int_equal(
        q(&v, "SELECT tax_minor FROM invoices WHERE id = %" PRId64, res.ids[1]),
        0);

    /* The signed document: parties, dates, terms, taxes and totals. */
    json = export_str(&v, res.ids[0], INVOICE_FMT_JSON, &len);
    assert_non_null(strstr(json, "\"format\":\"twinline.invoice/2\""));
    assert_non_null(strstr(
        json, "\"buyer\":{\"address\":\"江苏省常州市新北区示例路 1 号\","
              "\"bank_account\":\"\",\"bank_name\":\"\",\"country\":\"CN\","
              "\"id\":\"t1\",\"name\":\"江苏示例银行股份有限公司\","
              "\"tax_id\":\"91320400MA1XAMPLEG\"}"));
    assert_non_null(strstr(json, "\"name\":\"Ops One (Suzhou) Co., Ltd.\""));
    assert_non_null(strstr(json, "\"tax_id\":\"91320505MA0XAMPLEP\""));
    assert_non_null(strstr(json, "\"payment_terms_days\":30"));
    assert_non_null(strstr(json, "\"net_minor\":4506"));
    assert_non_null(strstr(json,
                           "\"tax_minor\":270,\"taxes\":[{\"base_minor\":"
                           "4506,\"name\":\"VAT\",\"rate_bps\":600,"
                           "\"rounding\":\"half_up\",\"tax_minor\":270}]"));
    assert_non_null(strstr(json, "\"gross_minor\":4776"));
    assert_non_null(strstr(
        json, "\"subtotals\":[{\"case_type\":\"\",\"lines\":1,\"net_minor\":"
              "233,\"outcome_code\":\"monthly_minimum\",\"tax_minor\":14},"
              "{\"case_type\":\"loan\",\"lines\":1,\"net_minor\":-500,"
              "\"outcome_code\":\"complaint_penalty\",\"tax_minor\":-30},"
              "{\"case_type\":\"loan\",\"lines\":2,\"net_minor\":2516,"
              "\"outcome_code\":\"paid\",\"tax_minor\":151},"
              "{\"case_type\":\"loan\",\"lines\":1,\"net_minor\":1258,"
              "\"outcome_code\":\"promise_to_pay\",\"tax_minor\":75},"
              "{\"case_type\":\"loan\",\"lines\":1,\"net_minor\":999,"
              "\"outcome_code\":\"resolved\",\"tax_minor\":60}]"));
    assert_non_null(strstr(json, "\"time_zone\":\"Asia/Shanghai\""));
    /* What the bank may see of a line, and nothing internal. */
    assert_non_null(strstr(json, "\"case_external_id\":\"x-1\""));
    assert_null(strstr(json, "worker"));
    assert_null(strstr(json, "task"));
    assert_int_equal(
        invoice_verify_document(json, len, signer_public_key(v.sg), NULL, &e),
        ST_OK);
    /* One cent more on the first line: refused. */
    amount = strstr(json, "\"amount_minor\":1258");
    assert_non_null(amount);
    amount[strlen("\"amount_minor\":125")] = '9';
    assert_int_equal(
        invoice_verify_document(json, len, signer_public_key(v.sg), NULL, &e),
        ST_INVALID);
    free(json);
    assert_int_equal(invoice_verify_stored(v.f.db, res.ids[0],
                                           signer_public_key(v.sg), NULL, &e),
                     ST_OK);

    /* The HTML: parties, dates, terms, totals, remittance; the
     * adjustments show neither a task nor a #0. */
    html = export_str(&v, res.ids[0], INVOICE_FMT_HTML, NULL);
    assert_non_null(strstr(html, "江苏示例银行股份有限公司"));
    assert_non_null(strstr(html, "Tax id: 91320400MA1XAMPLEG"));
    assert_non_null(strstr(html, "30 days net"));
    assert_non_null(
        strstr(html, "<th>Total due</th><td class=\"n\">EUR 47.76"));
    assert_non_null(strstr(html, "to ICBC Suzhou, account 1102 0200 0900 0000 "
                                 "0088, quoting INV-t1-000001"));
    assert_non_null(strstr(html, "<td>VAT</td><td class=\"n\">6%</td>"));
    assert_non_null(strstr(html, "2026-10-01 09:00")); /* Shanghai time */
    assert_null(strstr(html, "task"));
    assert_null(strstr(html, "#0"));
    assert_null(strstr(html, "w1"));
    assert_null(strstr(html, "not configured"));
    free(html);
    /* op2 configured nothing: said, not left blank. */
    html = export_str(&v, res.ids[1], INVOICE_FMT_HTML, NULL);
    assert_non_null(strstr(html, "not configured"));
    assert_non_null(strstr(html, "No tax is charged"));
    assert_non_null(strstr(html, "45 days net"));
    free(html);

    /* CSV: net, tax and gross per line. */
    csv = export_str(&v, res.ids[0], INVOICE_FMT_CSV, NULL);
    assert_non_null(strstr(csv, ",12.58,1258,VAT,600,0.76,76,13.34,1334\r\n"));
    assert_non_null(
        strstr(csv, ",-5.00,-500,VAT,600,-0.30,-30,-5.30,-530\r\n"));
    assert_null(strstr(csv, "w2"));
    free(csv);

    /* A credit note takes back line 1 and exactly the VAT it carried. */
    {
        const int64_t one[] = {1};
        int64_t cn = 0;

        if (invoice_credit_note(v.f.db, res.ids[0], one, 1, "complaint", v.sg,
                                NULL, &cn, &e) != ST_OK)
            fail_msg("credit: %s", e.msg);
        assert_int_equal(
            q(&v, "SELECT tax_minor FROM invoices WHERE id = %" PRId64, cn),
            -76);
        json = export_str(&v, cn, INVOICE_FMT_JSON, &len);
        assert_non_null(strstr(json, "\"gross_minor\":-1334"));
        assert_null(strstr(json, "due_date"));
        assert_non_null(strstr(json, "\"tax_id\":\"91320505MA0XAMPLEP\""));
        assert_int_equal(invoice_verify_document(
                             json, len, signer_public_key(v.sg), NULL, &e),
                         ST_OK);
        free(json);
    }

    /* A later change of configuration leaves the issued documents as they
     * were: the parties were copied when they were drafted. */
    fixture_exec(&v.f, "UPDATE tenants SET legal_name = 'Renamed' WHERE"
                       " id = 't1'");
    assert_int_equal(invoice_verify_stored(v.f.db, res.ids[0],
                                           signer_public_key(v.sg), NULL, &e),
                     ST_OK);
    fixture_str(&v.f, "SELECT buyer_name FROM invoices ORDER BY id LIMIT 1",
                buf, sizeof(buf));
    assert_string_equal(buf, "江苏示例银行股份有限公司");
    env_teardown(&v);
}

/* The PDF: printed by Chromium from the HTML; pdftotext reads back its
 * number, parties and total due. */
static void test_pdf_export(void **state)
{
    char dir[] = "/tmp/tl-invoice-pdf-XXXXXX";
    char html[128], pdf[128], txt[128], cmd[512];
    invoice_closed res;
    char *text;
    FILE *f;
    err e = {0};
    env v;

    (void)state;
    env_setup(&v, "invoice_pdf");
    fixture_exec(&v.f, bank_sql);
    seed_line(&v, "t1", "c1", "EUR", "w1", "paid", 1258,
              "2026-10-01 01:00:00+00");
    res = close_ok(&v, "t1", "2026-10");
    assert_non_null(mkdtemp(dir));
    snprintf(html, sizeof(html), "%s/i.html", dir);
    snprintf(pdf, sizeof(pdf), "%s/i.pdf", dir);
    snprintf(txt, sizeof(txt), "%s/i.txt", dir);
    f = fopen(html, "w");
    assert_non_null(f);
    assert_int_equal(invoice_export(v.f.db, res.ids[0], INVOICE_FMT_PDF, f, &e),
                     ST_OK);
    fclose(f);
    if (cli_pdf_print(html, pdf, &e) != ST_OK)
        fail_msg("pdf: %s", e.msg);
    snprintf(cmd, sizeof(cmd), "pdftotext -layout %s %s", pdf, txt);
    assert_int_equal(system(cmd), 0);
    text = NULL;
    {
        size_t cap = 0;
        FILE *t = fopen(txt, "r");
        ssize_t n;

        assert_non_null(t);
        n = getdelim(&text, &cap, '\0', t);
        assert_true(n > 0);
        fclose(t);
    }
    assert_non_null(strstr(text, "Invoice INV-t1-000001"));
    assert_non_null(strstr(text, "江苏示例银行股份有限公司"));
    assert_non_null(strstr(text, "Ops One (Suzhou) Co., Ltd."));
    assert_non_null(strstr(text, "EUR 13.33")); /* 12.58 + 0.75 */
    assert_non_null(strstr(text, "page 1 of 1"));
    free(text);
    /* A browser that cannot be run: a clear error, no file. */
    setenv("TL_CHROMIUM", "/nonexistent/chromium", 1);
    assert_int_equal(cli_pdf_print(html, txt, &e), ST_CONFIG);
    assert_non_null(strstr(e.msg, "TL_CHROMIUM"));
    unsetenv("TL_CHROMIUM");
    unlink(html);
    unlink(pdf);
    unlink(txt);
    rmdir(dir);
    env_teardown(&v);
}

/*
 * A document issued before schema 018 (format 1: tenant, worker and task
 * on each line, no tax) is stored with the new columns empty and is still
 * rendered as it was signed, so it verifies; its HTML shows no task or #0
 * on an adjustment line.
 */
static void test_format1_stored(void **state)
{
    static const invoice_doc_line lines[2] = {
        {1, 0, 0, 0, 0, 2500, "x-1", "w1", "op1", "c1", "paid",
         "2026-10-01T00:00:00Z",
         "Outcome \"paid\" of loan case x-1, task 1, "
         "worker w1",
         NULL, NULL, 0, NULL, 0},
        {2, 0, 0, 0, 0, 100, "", "", "op1", "c1", "monthly_minimum",
         "2026-10-31T00:00:00Z", "Monthly minimum", NULL, NULL, 0, NULL, 0},
    };
    char hash[INVOICE_HASH_HEX + 1], sig[INVOICE_SIG_HEX + 1], sql[4096];
    invoice_doc_line l[2];
    invoice_doc d = {0};
    int64_t bl, adj, id;
    char *canon = NULL, *html;
    size_t len = 0;
    err e = {0};
    env v;

    (void)state;
    env_setup(&v, "invoice_format1");
    fixture_exec(&v.f, "INSERT INTO contract_plans (contract_id, version,"
                       " effective_from, plan) VALUES ('c1', 1,"
                       " '2026-01-01Z', '{}')");
    bl = seed_line(&v, "t1", "c1", "EUR", "w1", "paid", 2500,
                   "2026-10-01 00:00:00+00");
    adj = fixture_i64(&v.f,
                      "INSERT INTO billing_adjustments (kind, tenant_id,"
                      " operator_id, contract_id, plan_version, period,"
                      " currency, amount_minor, description) VALUES"
                      " ('monthly_minimum', 't1', 'op1', 'c1', 1, '2026-10',"
                      " 'EUR', 100, 'Monthly minimum') RETURNING id");
    /* The rows as the code before schema 018 wrote them. */
    id = fixture_i64(&v.f, "WITH s AS (INSERT INTO invoice_series (tenant_id,"
                           " kind, next_number) VALUES ('t1', 'invoice', 2)"
                           " RETURNING id) INSERT INTO invoices (kind,"
                           " tenant_id, tenant_name, period, series_id,"
                           " number, currency, key_id, issued_at) SELECT"
                           " 'invoice', 't1', 'Bank One', '2026-10', id, 1,"
                           " 'EUR', '0000000000000000', '2026-11-01 09:00:00Z'"
                           " FROM s RETURNING id");
    snprintf(sql, sizeof(sql),
             "INSERT INTO invoice_lines (invoice_id, kind, line_no,"
             " billable_line_id, outcome_id, case_id, case_external_id,"
             " task_id, worker_id, operator_id, contract_id, outcome_code,"
             " billed_at, description, amount_minor) SELECT %" PRId64
             ", 'invoice', 1, bl.id, bl.outcome_id, bl.case_id, 'x-1',"
             " bl.task_id, 'w1', 'op1', 'c1', 'paid', bl.created_at,"
             " 'Outcome \"paid\" of loan case x-1, task 1, worker w1', 2500"
             " FROM billable_lines bl WHERE bl.id = %" PRId64 ";"
             "INSERT INTO invoice_lines (invoice_id, kind, line_no,"
             " adjustment_id, operator_id, contract_id, outcome_code,"
             " billed_at, description, amount_minor) VALUES (%" PRId64
             ", 'invoice', 2, %" PRId64 ", 'op1', 'c1', 'monthly_minimum',"
             " '2026-10-31 00:00:00Z', 'Monthly minimum', 100)",
             id, bl, id, adj);
    fixture_exec(&v.f, sql);
    memcpy(l, lines, sizeof(l));
    l[0].billable_line_id = bl;
    l[0].outcome_id = q(&v,
                        "SELECT outcome_id FROM billable_lines WHERE id ="
                        " %" PRId64,
                        bl);
    l[0].case_id =
        q(&v, "SELECT case_id FROM billable_lines WHERE id = %" PRId64, bl);
    l[0].task_id =
        q(&v, "SELECT task_id FROM billable_lines WHERE id = %" PRId64, bl);
    d.id = id;
    d.format = 1;
    d.tenant_id = "t1";
    d.tenant_name = "Bank One";
    d.period = "2026-10";
    d.number = 1;
    d.currency = "EUR";
    d.issued_at = "2026-11-01T09:00:00Z";
    d.key_id = signer_key_id(v.sg);
    d.total_minor = 2600;
    d.nlines = 2;
    d.lines = l;
    assert_int_equal(invoice_doc_render(&d, &canon, &len, &e), ST_OK);
    assert_int_equal(invoice_doc_sign(v.sg, canon, len, hash, sig, &e), ST_OK);
    snprintf(sql, sizeof(sql),
             "UPDATE invoices SET key_id = '%s', line_count = 2,"
             " total_minor = 2600, state = 'issued', content_hash = '%s',"
             " signature = '%s' WHERE id = %" PRId64,
             signer_key_id(v.sg), hash, sig, id);
    fixture_exec(&v.f, sql);
    free(canon);

    if (invoice_verify_stored(v.f.db, id, signer_public_key(v.sg), NULL, &e) !=
        ST_OK)
        fail_msg("format 1 stored: %s", e.msg);
    canon = export_str(&v, id, INVOICE_FMT_JSON, &len);
    assert_non_null(strstr(canon, "\"format\":\"twinline.invoice/1\""));
    assert_non_null(strstr(canon, "\"tenant\":{\"id\":\"t1\""));
    assert_int_equal(
        invoice_verify_document(canon, len, signer_public_key(v.sg), NULL, &e),
        ST_OK);
    free(canon);
    html = export_str(&v, id, INVOICE_FMT_HTML, NULL);
    assert_null(strstr(html, "#0"));
    assert_non_null(strstr(html, "<td class=\"n\"></td>")); /* no task */
    free(html);
    env_teardown(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_period),
        cmocka_unit_test(test_numbering_without_gaps),
        cmocka_unit_test(test_concurrent_closes),
        cmocka_unit_test(test_issued_is_immutable),
        cmocka_unit_test(test_export_verifies),
        cmocka_unit_test(test_credit_note),
        cmocka_unit_test(test_csv_and_html),
        cmocka_unit_test(test_month_for_a_bank),
        cmocka_unit_test(test_pdf_export),
        cmocka_unit_test(test_format1_stored),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
