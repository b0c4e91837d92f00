/*
 * The billing flow on a real PostgreSQL (the cluster named by TL_TEST_PG,
 * as the integration tests use; scripts/bench.sh passes the one its
 * services started). The benchmark makes its own database,
 * tl_bench_billing, migrates it, and drops it at the end.
 *
 *   billing_outcomes_per_s   outcomes rated and posted to the ledger
 *                            (pending entry, split, billable line) through
 *                            billing_flow_rate, in batches of 256, each
 *                            batch one committed transaction (durable:
 *                            synchronous_commit as the server has it)
 *   invoice_close_s_per_million_lines
 *                            invoice_close_period over one month of
 *                            verified lines (20,000 by default), scaled
 *                            linearly to a million lines: the close is one
 *                            pass over the period's lines, so a linear
 *                            extrapolation is what this measures, not a
 *                            million-line run
 *
 * Prints name=value lines; asserts nothing about time. BENCH_TRACE=1
 * also prints each batch's time on stderr (to see a cost that grows).
 *   TL_TEST_PG='host=... user=...' build/release/bench/bench_billing [N]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "billing_flow.h"
#include "db.h"
#include "invoice.h"
#include "migrate.h"
#include "signer.h"

#define BATCH        256
#define DEFAULT_N    20000
#define MAX_N        1000000
#define DBNAME       "tl_bench_billing"
#define CONNINFO_MAX 512

/* One bank, one operator with a human worker, a plan with a percent
 * charge, a fee and a three-way split, no verification window (the
 * verification pass runs before the close). */
static const char seed_sql[] =
    "INSERT INTO tenants (id, name) VALUES ('bank', 'Bench Bank');"
    "INSERT INTO operators (id, name) VALUES ('op', 'Bench Ops');"
    "INSERT INTO pools (id, operator_id, name) VALUES ('p', 'op', 'P');"
    "INSERT INTO workers (id, pool_id, name) VALUES ('w1', 'p', 'W1');"
    "INSERT INTO contracts (id, tenant_id, pool_id, currency) VALUES"
    "  ('c', 'bank', 'p', 'CNY');"
    "INSERT INTO contract_case_types VALUES ('c', 'loan');"
    "INSERT INTO contract_plans (contract_id, version, effective_from, plan,"
    "  verification_s, clawback_s, platform_fee_bps, operator_weight,"
    "  worker_weight, ai_weight, ai_party) VALUES ('c', 1, '2025-01-01Z',"
    "  '{\"currency\":\"CNY\",\"outcomes\":{\"resolved\":{\"price_minor\":"
    "1500,\"percent\":{\"field\":\"collected_minor\",\"bps\":800,"
    "\"cap_minor\":50000}}}}', 0, 5184000, 1000, 20, 60, 20, 'ai1');"
    "INSERT INTO playbooks (tenant_id, case_type, version, name, definition)"
    "  VALUES ('bank', 'loan', 1, 'Loan', '{}');";

/* $1 outcomes, each on a case of its own in October 2025, with their
 * tasks and reservations. Run once per seed, so not prepared. */
static const char cases_sql[] =
    "INSERT INTO cases (tenant_id, external_id, case_type,"
    " playbook_version, created_at) SELECT 'bank', 'B-' || g, 'loan', 1,"
    " '2025-10-01Z'::timestamptz + g * interval '1 second'"
    " FROM generate_series(1, $1::int) g";
static const char outcomes_sql[] =
    "INSERT INTO tasks (case_id, tenant_id, step, state, worker_id)"
    " SELECT id, 'bank', 'call', 'completed', 'w1' FROM cases;"
    "INSERT INTO reservations (task_id, worker_id, epoch, state,"
    " deadline) SELECT id, 'w1', 0, 'completed', now() FROM tasks;"
    "INSERT INTO outcomes (task_id, case_id, tenant_id, worker_id,"
    " reservation_id, code, fields, billable, created_at)"
    " SELECT t.id, t.case_id, 'bank', 'w1', r.id, 'resolved',"
    " jsonb_build_object('collected_minor', (t.case_id * 7919) % 900000),"
    " true, c.created_at + interval '1 minute'"
    " FROM tasks t JOIN reservations r ON r.task_id = t.id"
    " JOIN cases c ON c.id = t.case_id;"
    "ANALYZE";
static const char ids_sql[] = "SELECT id FROM outcomes ORDER BY id";
enum { BENCH_IDS_ID }; /* the columns of ids_sql */

static double mono_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Drop and create the benchmark's database on the cluster base names. */
static status make_db(const char *base, bool create, err *e)
{
    char admin[CONNINFO_MAX];
    db *a = NULL;
    status s;

    snprintf(admin, sizeof(admin), "%s dbname=postgres", base);
    if ((s = db_connect(&a, admin, e)) != ST_OK)
        goto out;
    if ((s = db_exec(a, "DROP DATABASE IF EXISTS " DBNAME " WITH (FORCE)",
                     e)) != ST_OK)
        goto out;
    if (create)
        s = db_exec(a, "CREATE DATABASE " DBNAME, e);
out:
    db_close(a);
    return s;
}

static status seed(db *d, int n, int64_t **ids, err *e)
{
    char nbuf[24];
    const char *p[1] = {db_i64_str(nbuf, n)};
    db_res *r = NULL;
    int64_t *v = NULL;
    status s;

    if ((s = db_exec(d, seed_sql, e)) != ST_OK ||
        (s = db_query(d, cases_sql, 1, p, NULL, e)) != ST_OK ||
        (s = db_exec(d, outcomes_sql, e)) != ST_OK ||
        (s = db_query(d, ids_sql, 0, NULL, &r, e)) != ST_OK)
        goto out;
    if (db_rows(r) != n) {
        s = err_set(e, ST_INVALID, "seeded %d outcomes, expected %d",
                    db_rows(r), n);
        goto out;
    }
    if ((v = malloc(sizeof(*v) * (size_t)n)) == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++)
        v[i] = db_i64(r, i, BENCH_IDS_ID);
    *ids = v;
    v = NULL;
out:
    free(v);
    db_res_free(r);
    return s;
}

/* Rate and post every id in batches; *secs is the time it took. */
static status rate_all(db *d, const int64_t *ids, int n, int64_t *billed,
                       double *secs, double *first, double *last, err *e)
{
    int nb = (n + BATCH - 1) / BATCH, tenth = nb >= 10 ? nb / 10 : 1;
    billing_flow *f = NULL;
    billing_counts c = {0};
    bool handled[BATCH];
    double t0, tb;
    status s;

    if ((s = billing_flow_create(&f, e)) != ST_OK)
        goto out;
    *first = *last = 0;
    t0 = mono_s();
    for (int b = 0; b < nb && s == ST_OK; b++) {
        int i = b * BATCH, k = n - i < BATCH ? n - i : BATCH;

        tb = mono_s();
        s = billing_flow_rate(f, d, ids + i, k, handled, &c, e);
        /* The first and last tenth of the batches, to show whether the
         * rate holds as the tables grow. */
        if (b < tenth)
            *first += mono_s() - tb;
        if (b >= nb - tenth)
            *last += mono_s() - tb;
        if (getenv("BENCH_TRACE") != NULL)
            fprintf(stderr, "batch %d %.3f s\n", b, mono_s() - tb);
    }
    *secs = mono_s() - t0;
    *first = (double)tenth * BATCH / *first;
    *last = (double)tenth * BATCH / *last;
    *billed = c.billed;
out:
    billing_flow_destroy(f);
    return s;
}

static status close_month(db *d, invoice_closed *closed, double *secs, err *e)
{
    char dir[] = "/tmp/tl-bench-billing-XXXXXX";
    char path[64];
    signer *sg = NULL;
    int64_t n = 1;
    double t0;
    status s;

    if (mkdtemp(dir) == NULL)
        return err_set(e, ST_IO, "cannot create a key directory in /tmp");
    if ((s = signer_keygen(dir, NULL, e)) != ST_OK ||
        (s = signer_load(&sg, dir, e)) != ST_OK)
        goto out;
    /* The plan has no verification window: everything verifies now. */
    while (n > 0 && s == ST_OK)
        s = billing_flow_verify(d, 4096, &n, e);
    if (s != ST_OK)
        goto out;
    t0 = mono_s();
    s = invoice_close_period(d, "bank", "2025-10", sg, NULL, 0, closed, e);
    *secs = mono_s() - t0;
out:
    signer_destroy(sg);
    snprintf(path, sizeof(path), "%s/%s", dir, SIGNER_SECRET_FILE);
    unlink(path);
    snprintf(path, sizeof(path), "%s/%s", dir, SIGNER_PUBLIC_FILE);
    unlink(path);
    rmdir(dir);
    return s;
}

int main(int argc, char **argv)
{
    const char *base = getenv("TL_TEST_PG");
    char conninfo[CONNINFO_MAX];
    int64_t *ids = NULL, billed = 0;
    invoice_closed closed = {0};
    double rate_s = 0, close_s = 0, first = 0, last = 0;
    db *d = NULL;
    err e = {0};
    int n = DEFAULT_N, rc = 1;
    status s;

    if (argc > 1)
        n = atoi(argv[1]);
    if (n < 1 || n > MAX_N) {
        fprintf(stderr, "usage: bench_billing [N]  (1..%d outcomes)\n", MAX_N);
        return 2;
    }
    if (base == NULL || base[0] == '\0') {
        fprintf(stderr, "bench_billing: skipped: set TL_TEST_PG to a "
                        "PostgreSQL conninfo without dbname (scripts/"
                        "services.sh start DIR; . DIR/env)\n");
        return 0;
    }
    snprintf(conninfo, sizeof(conninfo), "%s dbname=" DBNAME, base);
    if ((s = make_db(base, true, &e)) != ST_OK ||
        (s = db_connect(&d, conninfo, &e)) != ST_OK ||
        (s = migrate_apply(d, migration_files, migration_count, NULL, &e)) !=
            ST_OK ||
        (s = seed(d, n, &ids, &e)) != ST_OK ||
        (s = rate_all(d, ids, n, &billed, &rate_s, &first, &last, &e)) !=
            ST_OK ||
        (s = close_month(d, &closed, &close_s, &e)) != ST_OK)
        goto out;
    printf("billing_outcomes=%d\n", n);
    printf("billing_batch=%d\n", BATCH);
    printf("billing_outcomes_billed=%lld\n", (long long)billed);
    printf("billing_outcomes_per_s=%.1f\n", (double)billed / rate_s);
    printf("billing_outcomes_per_s_first_tenth=%.1f\n", first);
    printf("billing_outcomes_per_s_last_tenth=%.1f\n", last);
    printf("invoice_close_lines=%d (scaled linearly to 1,000,000)\n",
           closed.lines);
    printf("invoice_close_s=%.3f\n", close_s);
    printf("invoice_close_s_per_million_lines=%.1f\n",
           closed.lines > 0 ? close_s * 1e6 / closed.lines : 0.0);
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "bench_billing: %s\n", e.msg);
    free(ids);
    db_close(d);
    if (make_db(base, false, &e) != ST_OK)
        fprintf(stderr, "bench_billing: drop %s: %s\n", DBNAME, e.msg);
    return rc;
}
