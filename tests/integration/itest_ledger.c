/*
 * The ledger against a real PostgreSQL: the database itself refuses an
 * unbalanced entry, a key posts once however often and however
 * concurrently it is posted, balances and the trial balance add up, and a
 * reversal nets accounts back to zero. Amounts are in fen (CNY) and cents.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>

#include "fixture.h"
#include "ledger.h"
#include "rating.h"

/* cmocka.h needs the headers before it; keep clang-format from sorting. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
/* clang-format on */

/* The accounts of one bank (jsbank), one operator (op1) with a human
 * worker (w1) and an AI worker (ai1), and the platform, in CNY. */
typedef struct books {
    fixture f;
    int64_t unverified; /* jsbank bank_unverified_receivable */
    int64_t receivable; /* jsbank bank_receivable */
    int64_t deferred;   /* jsbank unverified_revenue */
    int64_t revenue;    /* platform platform_revenue */
    int64_t op;         /* op1 operator_payable */
    int64_t w1;         /* w1 worker_payable */
    int64_t ai1;        /* ai1 worker_payable */
} books;

static int64_t account(fixture *f, const char *party, ledger_kind k,
                       const char *cur)
{
    int64_t id = 0;
    err e = {0};

    if (ledger_account_ensure(f->db, party, k, cur, &id, &e) != ST_OK)
        fail_msg("account %s: %s", party, e.msg);
    assert_true(id > 0);
    return id;
}

static void books_setup(books *b, const char *name)
{
    memset(b, 0, sizeof(*b));
    fixture_setup(&b->f, name);
    b->unverified =
        account(&b->f, "jsbank", LEDGER_BANK_UNVERIFIED_RECEIVABLE, "CNY");
    b->receivable = account(&b->f, "jsbank", LEDGER_BANK_RECEIVABLE, "CNY");
    b->deferred = account(&b->f, "jsbank", LEDGER_UNVERIFIED_REVENUE, "CNY");
    b->revenue = account(&b->f, "platform", LEDGER_PLATFORM_REVENUE, "CNY");
    b->op = account(&b->f, "op1", LEDGER_OPERATOR_PAYABLE, "CNY");
    b->w1 = account(&b->f, "w1", LEDGER_WORKER_PAYABLE, "CNY");
    b->ai1 = account(&b->f, "ai1", LEDGER_WORKER_PAYABLE, "CNY");
}

/* Post in a transaction of its own; returns the status of post or commit
 * and rolls back on failure. */
static status post_tx(db *d, const char *key, const ledger_posting *p, int n,
                      int64_t *id, err *e)
{
    status s = db_begin(d, e);

    if (s == ST_OK)
        s = ledger_post(d, key, p, n, id, e);
    if (s == ST_OK)
        s = db_commit(d, e);
    if (s != ST_OK)
        db_rollback(d);
    return s;
}

static int64_t balance_of(fixture *f, int64_t account_id)
{
    char sql[160];

    snprintf(sql, sizeof(sql),
             "SELECT coalesce(sum(amount_minor), 0) FROM postings"
             " WHERE account_id = %" PRId64,
             account_id);
    return fixture_i64(f, sql);
}

static void test_raw_unbalanced_refused(void **state)
{
    books b;
    err e = {0};
    char sql[400];

    (void)state;
    books_setup(&b, "ledger_raw");
    /* Raw SQL, bypassing ledger_post: ¥1.00 debited, ¥0.99 credited. The
     * inserts succeed (the check is deferred) and COMMIT refuses. */
    assert_int_equal(db_begin(b.f.db, &e), ST_OK);
    fixture_exec(&b.f, "INSERT INTO journal_entries (idem_key, fingerprint)"
                       " VALUES ('raw-1', 'x')");
    snprintf(sql, sizeof(sql),
             "INSERT INTO postings (entry_id, account_id, amount_minor)"
             " SELECT id, %" PRId64 ", 100 FROM journal_entries"
             " WHERE idem_key = 'raw-1' UNION ALL"
             " SELECT id, %" PRId64 ", -99 FROM journal_entries"
             " WHERE idem_key = 'raw-1'",
             b.receivable, b.revenue);
    fixture_exec(&b.f, sql);
    assert_int_equal(db_commit(b.f.db, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "does not balance"));
    db_rollback(b.f.db);
    assert_int_equal(fixture_i64(&b.f, "SELECT count(*) FROM journal_entries"),
                     0);
    assert_int_equal(fixture_i64(&b.f, "SELECT count(*) FROM postings"), 0);

    /* An entry without postings is refused too. */
    assert_int_equal(db_begin(b.f.db, &e), ST_OK);
    fixture_exec(&b.f, "INSERT INTO journal_entries (idem_key, fingerprint)"
                       " VALUES ('raw-2', 'x')");
    assert_int_equal(db_commit(b.f.db, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "no postings"));
    db_rollback(b.f.db);

    /* A posting added to a balanced entry in a later transaction
     * unbalances it: refused at that commit. */
    snprintf(sql, sizeof(sql),
             "BEGIN;"
             "INSERT INTO journal_entries (idem_key, fingerprint)"
             " VALUES ('raw-3', 'x');"
             "INSERT INTO postings (entry_id, account_id, amount_minor)"
             " SELECT id, %" PRId64 ", 100 FROM journal_entries"
             " WHERE idem_key = 'raw-3' UNION ALL"
             " SELECT id, %" PRId64 ", -100 FROM journal_entries"
             " WHERE idem_key = 'raw-3';"
             "COMMIT",
             b.receivable, b.revenue);
    fixture_exec(&b.f, sql);
    snprintf(sql, sizeof(sql),
             "INSERT INTO postings (entry_id, account_id, amount_minor)"
             " SELECT id, %" PRId64 ", 5 FROM journal_entries"
             " WHERE idem_key = 'raw-3'",
             b.receivable);
    assert_int_not_equal(db_exec(b.f.db, sql, &e), ST_OK);
    assert_non_null(strstr(e.msg, "does not balance"));

    /* Posted rows are never edited or deleted. */
    assert_int_not_equal(
        db_exec(b.f.db, "UPDATE postings SET amount_minor = 1", &e), ST_OK);
    assert_non_null(strstr(e.msg, "append-only"));
    assert_int_not_equal(db_exec(b.f.db, "DELETE FROM journal_entries", &e),
                         ST_OK);
    assert_int_equal(fixture_i64(&b.f, "SELECT count(*) FROM postings"), 2);
    fixture_teardown(&b.f);
}

static void test_post_refuses_bad_entries(void **state)
{
    books b;
    err e = {0};
    int64_t id = -1;
    int64_t usd;

    (void)state;
    books_setup(&b, "ledger_bad");
    /* Refused before anything is sent. */
    assert_int_equal(
        post_tx(b.f.db, "k1",
                (ledger_posting[]){{b.receivable, 100}, {b.revenue, -99}}, 2,
                &id, &e),
        ST_INVALID);
    assert_non_null(strstr(e.msg, "does not balance"));
    assert_int_equal(
        post_tx(b.f.db, "k1",
                (ledger_posting[]){{b.receivable, 0}, {b.revenue, 0}}, 2, &id,
                &e),
        ST_INVALID);
    assert_int_equal(post_tx(b.f.db, "k1",
                             (ledger_posting[]){{b.receivable, 100}}, 1, &id,
                             &e),
                     ST_INVALID);
    assert_int_equal(
        post_tx(b.f.db, "",
                (ledger_posting[]){{b.receivable, 100}, {b.revenue, -100}}, 2,
                &id, &e),
        ST_INVALID);
    /* An account that does not exist: the foreign key refuses it. */
    assert_int_equal(
        post_tx(b.f.db, "k1",
                (ledger_posting[]){{b.receivable, 100}, {999999, -100}}, 2, &id,
                &e),
        ST_INVALID);
    /* Sums to zero overall but not per currency: CNY +100, USD -100.
     * Refused by the database at commit. */
    usd = account(&b.f, "platform", LEDGER_PLATFORM_REVENUE, "USD");
    assert_int_equal(
        post_tx(b.f.db, "k1",
                (ledger_posting[]){{b.receivable, 100}, {usd, -100}}, 2, &id,
                &e),
        ST_INVALID);
    assert_non_null(strstr(e.msg, "does not balance"));
    assert_int_equal(fixture_i64(&b.f, "SELECT count(*) FROM journal_entries"),
                     0);
    /* Bad account arguments. */
    assert_int_equal(
        ledger_account_ensure(b.f.db, "bad party", LEDGER_CASH, "CNY", &id, &e),
        ST_INVALID);
    assert_int_equal(
        ledger_account_ensure(b.f.db, "jsbank", LEDGER_CASH, "cny", &id, &e),
        ST_INVALID);
    /* The same account twice is the same id. */
    assert_int_equal(account(&b.f, "jsbank", LEDGER_BANK_RECEIVABLE, "CNY"),
                     b.receivable);
    fixture_teardown(&b.f);
}

static void test_post_idempotent(void **state)
{
    books b;
    err e = {0};
    int64_t id1 = 0;
    int64_t id2 = 0;
    char key[LEDGER_KEY_MAX + 1];
    ledger_posting p[2];

    (void)state;
    books_setup(&b, "ledger_idem");
    assert_int_equal(ledger_key_outcome(key, sizeof(key), 42, "pending", &e),
                     ST_OK);
    assert_string_equal(key, "outcome:42:pending");
    p[0] = (ledger_posting){b.unverified, 17500};
    p[1] = (ledger_posting){b.deferred, -17500};
    assert_int_equal(post_tx(b.f.db, key, p, 2, &id1, &e), ST_OK);
    /* A redelivered event posts the same entry again: nothing new. */
    assert_int_equal(post_tx(b.f.db, key, p, 2, &id2, &e), ST_OK);
    assert_int_equal(id2, id1);
    /* The same postings in another order are the same entry. */
    p[0] = (ledger_posting){b.deferred, -17500};
    p[1] = (ledger_posting){b.unverified, 17500};
    assert_int_equal(post_tx(b.f.db, key, p, 2, &id2, &e), ST_OK);
    assert_int_equal(id2, id1);
    /* Twice in one transaction: the second sees the first. */
    assert_int_equal(db_begin(b.f.db, &e), ST_OK);
    assert_int_equal(ledger_post(b.f.db, "in-tx", p, 2, &id1, &e), ST_OK);
    assert_int_equal(ledger_post(b.f.db, "in-tx", p, 2, &id2, &e), ST_OK);
    assert_int_equal(db_commit(b.f.db, &e), ST_OK);
    assert_int_equal(id1, id2);
    assert_int_equal(fixture_i64(&b.f, "SELECT count(*) FROM journal_entries"),
                     2);
    assert_int_equal(fixture_i64(&b.f, "SELECT count(*) FROM postings"), 4);
    /* Different postings under a used key: a conflict, nothing posted. */
    p[0] = (ledger_posting){b.unverified, 18000};
    p[1] = (ledger_posting){b.deferred, -18000};
    assert_int_equal(post_tx(b.f.db, key, p, 2, &id2, &e), ST_CONFLICT);
    assert_non_null(strstr(e.msg, "different postings"));
    assert_int_equal(fixture_i64(&b.f, "SELECT count(*) FROM postings"), 4);
    assert_int_equal(balance_of(&b.f, b.unverified), 2 * 17500);
    fixture_teardown(&b.f);
}

/* ---- concurrent posters ---- */

#define POSTERS 8

typedef struct poster {
    const char *conninfo;
    const books *b;
    pthread_barrier_t *start;
    status st;
    int64_t id;
    char msg[ERR_MSG_MAX];
} poster;

static void *poster_run(void *arg)
{
    poster *ps = arg;
    db *d = NULL;
    err e = {0};
    ledger_posting p[3] = {{ps->b->unverified, 10000},
                           {ps->b->deferred, -9000},
                           {ps->b->revenue, -1000}};

    ps->st = db_connect(&d, ps->conninfo, &e);
    pthread_barrier_wait(ps->start);
    if (ps->st != ST_OK)
        goto out;
    ps->st = db_begin(d, &e);
    if (ps->st == ST_OK)
        ps->st = ledger_post(d, "outcome:7:pending", p, 3, &ps->id, &e);
    /* Hold the transaction open a little so the others pile up on the
     * key while it is uncommitted. */
    if (ps->st == ST_OK)
        ps->st = db_exec(d, "SELECT pg_sleep(0.05)", &e);
    if (ps->st == ST_OK)
        ps->st = db_commit(d, &e);
    if (ps->st != ST_OK)
        db_rollback(d);
out:
    snprintf(ps->msg, sizeof(ps->msg), "%s", e.msg);
    db_close(d);
    return NULL;
}

static void test_concurrent_same_key(void **state)
{
    books b;
    pthread_t th[POSTERS];
    poster ps[POSTERS];
    pthread_barrier_t start;

    (void)state;
    books_setup(&b, "ledger_conc");
    pthread_barrier_init(&start, NULL, POSTERS);
    for (int i = 0; i < POSTERS; i++) {
        ps[i] = (poster){.conninfo = b.f.cfg.db, .b = &b, .start = &start};
        assert_int_equal(pthread_create(&th[i], NULL, poster_run, &ps[i]), 0);
    }
    for (int i = 0; i < POSTERS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < POSTERS; i++) {
        if (ps[i].st != ST_OK)
            fail_msg("poster %d: %s", i, ps[i].msg);
        assert_int_equal(ps[i].id, ps[0].id);
    }
    assert_int_equal(fixture_i64(&b.f, "SELECT count(*) FROM journal_entries"),
                     1);
    assert_int_equal(fixture_i64(&b.f, "SELECT count(*) FROM postings"), 3);
    assert_int_equal(balance_of(&b.f, b.unverified), 10000);
    fixture_teardown(&b.f);
}

/* ---- the posting rules of docs/ledger.md ---- */

/* Pending: the bank is billed but the result may not hold yet. */
static void post_pending(books *b, int64_t outcome, int64_t price)
{
    char key[LEDGER_KEY_MAX + 1];
    ledger_posting p[2] = {{b->unverified, price}, {b->deferred, -price}};
    int64_t id;
    err e = {0};

    assert_int_equal(
        ledger_key_outcome(key, sizeof(key), outcome, "pending", &e), ST_OK);
    if (post_tx(b->f.db, key, p, 2, &id, &e) != ST_OK)
        fail_msg("%s: %s", key, e.msg);
}

/* Verified: the receivable becomes due and the revenue is recognised and
 * split: platform fee 10%, the rest operator 20 : human 60 : AI 20. */
static void post_verified(books *b, int64_t outcome, int64_t price)
{
    char key[LEDGER_KEY_MAX + 1];
    int64_t parts[3];
    int64_t fee;
    int64_t id;
    err e = {0};
    ledger_posting p[7];

    assert_int_equal(rating_split(price, 1000, MONEY_ROUND_HALF_EVEN,
                                  (int64_t[]){20, 60, 20}, 3, &fee, parts, &e),
                     ST_OK);
    p[0] = (ledger_posting){b->receivable, price};
    p[1] = (ledger_posting){b->unverified, -price};
    p[2] = (ledger_posting){b->deferred, price};
    p[3] = (ledger_posting){b->revenue, -fee};
    p[4] = (ledger_posting){b->op, -parts[0]};
    p[5] = (ledger_posting){b->w1, -parts[1]};
    p[6] = (ledger_posting){b->ai1, -parts[2]};
    assert_int_equal(
        ledger_key_outcome(key, sizeof(key), outcome, "verified", &e), ST_OK);
    if (post_tx(b->f.db, key, p, 7, &id, &e) != ST_OK)
        fail_msg("%s: %s", key, e.msg);
}

static int64_t find_balance(const ledger_balance *rows, int n, int64_t acc)
{
    for (int i = 0; i < n; i++)
        if (rows[i].account_id == acc)
            return rows[i].balance_minor;
    fail_msg("account %" PRId64 " has no balance row", acc);
    return 0;
}

/*
 * Outcome 1: resolved with ¥2,000.00 collected under the loan plan:
 * ¥15.00 + ¥160.00 = ¥175.00, verified. Platform fee 10% = ¥17.50; the
 * ¥157.50 left splits 20:60:20 into ¥31.50 operator, ¥94.50 human,
 * ¥31.50 AI. Outcome 2: a ¥5.00 promise to pay, still pending. A second
 * tenant in USD: $12.34 pending.
 *
 *   jsbank bank_receivable              17500 Dr
 *   jsbank bank_unverified_receivable     500 Dr  (17500 - 17500 + 500)
 *   jsbank unverified_revenue             500 Cr
 *   platform platform_revenue            1750 Cr
 *   op1 operator_payable                 3150 Cr
 *   w1 worker_payable                    9450 Cr
 *   ai1 worker_payable                   3150 Cr
 *   CNY debits 18000 = credits 18000
 */
static void test_balances_and_trial(void **state)
{
    books b;
    ledger_balance *rows = NULL;
    ledger_trial_row *trial = NULL;
    int n = 0;
    int64_t usd_unv;
    int64_t usd_def;
    int64_t id;
    err e = {0};

    (void)state;
    books_setup(&b, "ledger_trial");
    post_pending(&b, 1, 17500);
    post_verified(&b, 1, 17500);
    post_pending(&b, 2, 500);
    usd_unv = account(&b.f, "hkbank", LEDGER_BANK_UNVERIFIED_RECEIVABLE, "USD");
    usd_def = account(&b.f, "hkbank", LEDGER_UNVERIFIED_REVENUE, "USD");
    assert_int_equal(
        post_tx(b.f.db, "outcome:3:pending",
                (ledger_posting[]){{usd_unv, 1234}, {usd_def, -1234}}, 2, &id,
                &e),
        ST_OK);

    assert_int_equal(ledger_balances(b.f.db, NULL, &rows, &n, &e), ST_OK);
    assert_int_equal(n, 9);
    assert_int_equal(find_balance(rows, n, b.receivable), 17500);
    assert_int_equal(find_balance(rows, n, b.unverified), 500);
    assert_int_equal(find_balance(rows, n, b.deferred), -500);
    assert_int_equal(find_balance(rows, n, b.revenue), -1750);
    assert_int_equal(find_balance(rows, n, b.op), -3150);
    assert_int_equal(find_balance(rows, n, b.w1), -9450);
    assert_int_equal(find_balance(rows, n, b.ai1), -3150);
    assert_int_equal(find_balance(rows, n, usd_unv), 1234);
    /* Ordered by party, kind, currency: ai1 first. */
    assert_string_equal(rows[0].party, "ai1");
    assert_int_equal(rows[0].kind, LEDGER_WORKER_PAYABLE);
    free(rows);

    assert_int_equal(ledger_balances(b.f.db, "jsbank", &rows, &n, &e), ST_OK);
    assert_int_equal(n, 3);
    for (int i = 0; i < n; i++) {
        assert_string_equal(rows[i].party, "jsbank");
        assert_string_equal(rows[i].currency, "CNY");
    }
    free(rows);
    assert_int_equal(ledger_balances(b.f.db, "nobody", &rows, &n, &e), ST_OK);
    assert_int_equal(n, 0);
    assert_null(rows);

    assert_int_equal(ledger_trial_balance(b.f.db, &trial, &n, &e), ST_OK);
    assert_int_equal(n, 2);
    assert_string_equal(trial[0].currency, "CNY");
    assert_int_equal(trial[0].debit_minor, 18000);
    assert_int_equal(trial[0].credit_minor, 18000);
    assert_int_equal(trial[0].net_minor, 0);
    assert_int_equal(trial[0].accounts, 7);
    assert_string_equal(trial[1].currency, "USD");
    assert_int_equal(trial[1].debit_minor, 1234);
    assert_int_equal(trial[1].credit_minor, 1234);
    assert_int_equal(trial[1].net_minor, 0);
    free(trial);
    fixture_teardown(&b.f);
}

/*
 * Outcome 5 (¥175.00) is verified, then reopened inside the clawback
 * window: reversing its verified and pending entries brings every
 * account it touched back to zero, the worker's payable included (the
 * deduction from the next statement). Replaying the reversal posts
 * nothing.
 */
static void test_reversal_nets_to_zero(void **state)
{
    books b;
    int64_t rid1 = 0;
    int64_t rid2 = 0;
    int64_t again = 0;
    ledger_balance *rows = NULL;
    int n = 0;
    err e = {0};

    (void)state;
    books_setup(&b, "ledger_rev");
    post_pending(&b, 5, 17500);
    assert_int_equal(balance_of(&b.f, b.unverified), 17500);

    /* A pending outcome reversed: the unverified receivable nets to 0. */
    assert_int_equal(db_begin(b.f.db, &e), ST_OK);
    assert_int_equal(ledger_reverse(b.f.db, "outcome:5:pending",
                                    "outcome:5:pending:reversed", &rid1, &e),
                     ST_OK);
    assert_int_equal(db_commit(b.f.db, &e), ST_OK);
    assert_int_equal(balance_of(&b.f, b.unverified), 0);
    assert_int_equal(balance_of(&b.f, b.deferred), 0);

    /* Outcome 6 verified, then reversed whole. */
    post_pending(&b, 6, 17500);
    post_verified(&b, 6, 17500);
    assert_int_equal(balance_of(&b.f, b.w1), -9450);
    assert_int_equal(db_begin(b.f.db, &e), ST_OK);
    assert_int_equal(ledger_reverse(b.f.db, "outcome:6:verified",
                                    "outcome:6:verified:reversed", &rid2, &e),
                     ST_OK);
    assert_int_equal(ledger_reverse(b.f.db, "outcome:6:pending",
                                    "outcome:6:pending:reversed", &rid2, &e),
                     ST_OK);
    assert_int_equal(db_commit(b.f.db, &e), ST_OK);
    assert_int_equal(ledger_balances(b.f.db, NULL, &rows, &n, &e), ST_OK);
    assert_int_equal(n, 7);
    for (int i = 0; i < n; i++)
        assert_int_equal(rows[i].balance_minor, 0);
    free(rows);

    /* The replayed reversal is the same entry. */
    assert_int_equal(db_begin(b.f.db, &e), ST_OK);
    assert_int_equal(ledger_reverse(b.f.db, "outcome:5:pending",
                                    "outcome:5:pending:reversed", &again, &e),
                     ST_OK);
    assert_int_equal(db_commit(b.f.db, &e), ST_OK);
    assert_int_equal(again, rid1);
    assert_int_equal(fixture_i64(&b.f, "SELECT count(*) FROM journal_entries"),
                     6);

    /* Nothing to reverse. */
    assert_int_equal(ledger_reverse(b.f.db, "outcome:99:pending",
                                    "outcome:99:pending:reversed", &again, &e),
                     ST_NOT_FOUND);
    fixture_teardown(&b.f);
}

/* ---- batches: the one writer ---- */

/* One posting of fill_batch: on a named account (party set) or by id. */
typedef struct test_posting {
    const char *party;
    ledger_kind kind;
    const char *currency;
    int64_t account_id;
    int64_t amount;
} test_posting;

/*
 * The batch of three entries used below: batch:1 names its accounts
 * (hkbank's USD ones, which the post creates), batch:2 gives account ids,
 * batch:3 both. With reversed, entries and postings are added in the
 * opposite order: the same batch as a multiset.
 */
static void fill_batch(ledger_batch *lb, const books *b, bool reversed)
{
    const char *keys[3] = {"batch:1", "batch:2", "batch:3"};
    const test_posting p[3][2] = {
        {{"hkbank", LEDGER_BANK_UNVERIFIED_RECEIVABLE, "USD", 0, 250},
         {"hkbank", LEDGER_UNVERIFIED_REVENUE, "USD", 0, -250}},
        {{NULL, 0, NULL, b->unverified, 17500},
         {NULL, 0, NULL, b->deferred, -17500}},
        {{"platform", LEDGER_PLATFORM_REVENUE, "CNY", 0, -1750},
         {NULL, 0, NULL, b->receivable, 1750}},
    };
    err e = {0};

    for (int k = 0; k < 3; k++) {
        int i = reversed ? 2 - k : k;

        if (ledger_batch_entry(lb, keys[i], &e) != ST_OK)
            fail_msg("entry: %s", e.msg);
        for (int m = 0; m < 2; m++) {
            const test_posting *x = &p[i][reversed ? 1 - m : m];
            status s = x->party != NULL
                           ? ledger_batch_add(lb, x->party, x->kind,
                                              x->currency, x->amount, &e)
                           : ledger_batch_add_account(lb, x->account_id,
                                                      x->amount, &e);

            if (s != ST_OK)
                fail_msg("posting: %s", e.msg);
        }
    }
}

static status post_batch_tx(db *d, ledger_batch *lb, int *posted, err *e)
{
    status s = db_begin(d, e);

    if (s == ST_OK)
        s = ledger_batch_post(d, lb, posted, e);
    if (s == ST_OK)
        s = db_commit(d, e);
    if (s != ST_OK)
        db_rollback(d);
    return s;
}

static int64_t ledger_rows(books *b)
{
    return fixture_i64(&b->f, "SELECT (SELECT count(*) FROM journal_entries)"
                              " * 1000 + (SELECT count(*) FROM postings)");
}

/*
 * A batch posts every entry with its postings, creating the accounts it
 * names; posted again (in any order) it posts nothing and returns the same
 * entries; the books balance per currency throughout.
 */
static void test_batch_posts_once(void **state)
{
    books b;
    ledger_batch *lb = NULL, *again = NULL;
    ledger_trial_row *trial = NULL;
    int64_t ids[3];
    int posted = -1, n = 0;
    err e = {0};

    (void)state;
    books_setup(&b, "ledger_batch");
    assert_int_equal(ledger_batch_create(&lb, &e), ST_OK);
    fill_batch(lb, &b, false);
    assert_int_equal(ledger_batch_entries(lb), 3);
    assert_int_equal(post_batch_tx(b.f.db, lb, &posted, &e), ST_OK);
    assert_int_equal(posted, 3);
    for (int i = 0; i < 3; i++) {
        ids[i] = ledger_batch_id(lb, i);
        assert_true(ids[i] > 0);
    }
    assert_int_equal(ledger_rows(&b), 3 * 1000 + 6);
    assert_int_equal(fixture_i64(&b.f, "SELECT count(*) FROM accounts"
                                       " WHERE party = 'hkbank'"),
                     2);
    assert_int_equal(balance_of(&b.f, b.unverified), 17500);
    assert_int_equal(balance_of(&b.f, b.revenue), -1750);

    /* The same batch again, entries and postings in another order. */
    assert_int_equal(ledger_batch_create(&again, &e), ST_OK);
    fill_batch(again, &b, true);
    assert_int_equal(post_batch_tx(b.f.db, again, &posted, &e), ST_OK);
    assert_int_equal(posted, 0);
    assert_int_equal(ledger_batch_id(again, 0), ids[2]);
    assert_int_equal(ledger_batch_id(again, 1), ids[1]);
    assert_int_equal(ledger_batch_id(again, 2), ids[0]);
    /* And the first batch object a second time. */
    assert_int_equal(post_batch_tx(b.f.db, lb, &posted, &e), ST_OK);
    assert_int_equal(posted, 0);
    assert_int_equal(ledger_rows(&b), 3 * 1000 + 6);
    assert_int_equal(balance_of(&b.f, b.unverified), 17500);

    assert_int_equal(ledger_trial_balance(b.f.db, &trial, &n, &e), ST_OK);
    assert_int_equal(n, 2);
    for (int i = 0; i < n; i++) {
        assert_int_equal(trial[i].net_minor, 0);
        assert_int_equal(trial[i].debit_minor,
                         strcmp(trial[i].currency, "USD") == 0 ? 250
                                                               : 17500 + 1750);
    }
    free(trial);
    ledger_batch_destroy(again);
    ledger_batch_destroy(lb);
    fixture_teardown(&b.f);
}

/*
 * A different posting under a key already posted is refused, naming the
 * key, and the whole batch with it: the new entry next to it is not
 * posted and nothing changes.
 */
static void test_batch_fingerprint_mismatch(void **state)
{
    books b;
    ledger_batch *lb = NULL;
    int64_t before;
    int posted = -1;
    err e = {0};

    (void)state;
    books_setup(&b, "ledger_batch_fp");
    assert_int_equal(ledger_batch_create(&lb, &e), ST_OK);
    fill_batch(lb, &b, false);
    assert_int_equal(post_batch_tx(b.f.db, lb, &posted, &e), ST_OK);
    before = ledger_rows(&b);

    ledger_batch_reset(lb);
    assert_int_equal(ledger_batch_entries(lb), 0);
    /* batch:9 is new; batch:2 was posted with 17500, not 18000. */
    assert_int_equal(ledger_batch_entry(lb, "batch:9", &e), ST_OK);
    assert_int_equal(ledger_batch_add_account(lb, b.w1, -5, &e), ST_OK);
    assert_int_equal(ledger_batch_add_account(lb, b.receivable, 5, &e), ST_OK);
    assert_int_equal(ledger_batch_entry(lb, "batch:2", &e), ST_OK);
    assert_int_equal(ledger_batch_add_account(lb, b.unverified, 18000, &e),
                     ST_OK);
    assert_int_equal(ledger_batch_add_account(lb, b.deferred, -18000, &e),
                     ST_OK);
    assert_int_equal(post_batch_tx(b.f.db, lb, &posted, &e), ST_CONFLICT);
    assert_non_null(strstr(e.msg, "ledger entry batch:2 already exists"));
    assert_non_null(strstr(e.msg, "different postings"));
    assert_int_equal(ledger_rows(&b), before);
    assert_int_equal(fixture_i64(&b.f, "SELECT count(*) FROM journal_entries"
                                       " WHERE idem_key = 'batch:9'"),
                     0);
    assert_int_equal(balance_of(&b.f, b.unverified), 17500);
    assert_int_equal(balance_of(&b.f, b.w1), 0);
    ledger_batch_destroy(lb);
    fixture_teardown(&b.f);
}

/* Mistakes in a batch are refused before anything is stored, each with
 * the entry named. */
static void test_batch_refusals(void **state)
{
    books b;
    ledger_batch *lb = NULL;
    int posted = -1;
    err e = {0};

    (void)state;
    books_setup(&b, "ledger_batch_bad");
    assert_int_equal(ledger_batch_create(&lb, &e), ST_OK);
    /* A posting before any entry, a zero amount, a bad party. */
    assert_int_equal(ledger_batch_add_account(lb, b.w1, 5, &e), ST_INVALID);
    assert_int_equal(ledger_batch_entry(lb, "k1", &e), ST_OK);
    assert_int_equal(ledger_batch_add_account(lb, b.w1, 0, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "k1"));
    assert_int_equal(
        ledger_batch_add(lb, "no party", LEDGER_CASH, "CNY", 5, &e),
        ST_INVALID);
    assert_int_equal(ledger_batch_add(lb, "jsbank", LEDGER_CASH, "cny", 5, &e),
                     ST_INVALID);
    /* One key twice in a batch. */
    assert_int_equal(ledger_batch_add_account(lb, b.w1, 5, &e), ST_OK);
    assert_int_equal(ledger_batch_add_account(lb, b.op, -5, &e), ST_OK);
    assert_int_equal(ledger_batch_entry(lb, "k1", &e), ST_OK);
    assert_int_equal(ledger_batch_add_account(lb, b.w1, 7, &e), ST_OK);
    assert_int_equal(ledger_batch_add_account(lb, b.op, -7, &e), ST_OK);
    assert_int_equal(post_batch_tx(b.f.db, lb, &posted, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "k1 appears twice"));
    /* An entry that does not balance, next to one that does. */
    ledger_batch_reset(lb);
    assert_int_equal(ledger_batch_entry(lb, "ok", &e), ST_OK);
    assert_int_equal(ledger_batch_add_account(lb, b.w1, 5, &e), ST_OK);
    assert_int_equal(ledger_batch_add_account(lb, b.op, -5, &e), ST_OK);
    assert_int_equal(ledger_batch_entry(lb, "lopsided", &e), ST_OK);
    assert_int_equal(ledger_batch_add_account(lb, b.w1, 5, &e), ST_OK);
    assert_int_equal(ledger_batch_add_account(lb, b.op, -4, &e), ST_OK);
    assert_int_equal(post_batch_tx(b.f.db, lb, &posted, &e), ST_INVALID);
    assert_non_null(strstr(e.msg, "lopsided does not balance"));
    /* A reversal of nothing: left out with if_posted, else not found. */
    ledger_batch_reset(lb);
    assert_int_equal(
        ledger_batch_reverse(lb, "never", "never:reversed", true, &e), ST_OK);
    assert_int_equal(post_batch_tx(b.f.db, lb, &posted, &e), ST_OK);
    assert_int_equal(posted, 0);
    assert_int_equal(ledger_batch_id(lb, 0), 0);
    ledger_batch_reset(lb);
    assert_int_equal(
        ledger_batch_reverse(lb, "never", "never:reversed", false, &e), ST_OK);
    assert_int_equal(post_batch_tx(b.f.db, lb, &posted, &e), ST_NOT_FOUND);
    assert_non_null(strstr(e.msg, "never"));
    assert_int_equal(ledger_rows(&b), 0);
    ledger_batch_destroy(lb);
    fixture_teardown(&b.f);
}

/* The key scheme. */
static void test_keys(void **state)
{
    char key[LEDGER_KEY_MAX + 1], small[8];
    char longc[80];
    err e = {0};

    (void)state;
    assert_int_equal(ledger_key_dispute(key, sizeof(key), 12, "penalty", &e),
                     ST_OK);
    assert_string_equal(key, "dispute:12:penalty");
    assert_int_equal(ledger_key_minimum(key, sizeof(key), "c1", "2025-10", &e),
                     ST_OK);
    assert_string_equal(key, "minimum:c1:2025-10");
    assert_int_equal(
        ledger_key_reversal(key, sizeof(key), "outcome:5:pending", &e), ST_OK);
    assert_string_equal(key, "outcome:5:pending:reversed");
    assert_int_equal(ledger_key_outcome(small, sizeof(small), 5, "pending", &e),
                     ST_INVALID);
    assert_int_equal(ledger_key_dispute(key, sizeof(key), 0, "penalty", &e),
                     ST_INVALID);
    memset(longc, 'c', sizeof(longc) - 1);
    longc[sizeof(longc) - 1] = '\0';
    assert_int_equal(ledger_key_minimum(key, sizeof(key), longc, "2025-10", &e),
                     ST_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_unbalanced_refused),
        cmocka_unit_test(test_post_refuses_bad_entries),
        cmocka_unit_test(test_post_idempotent),
        cmocka_unit_test(test_concurrent_same_key),
        cmocka_unit_test(test_balances_and_trial),
        cmocka_unit_test(test_reversal_nets_to_zero),
        cmocka_unit_test(test_batch_posts_once),
        cmocka_unit_test(test_batch_fingerprint_mismatch),
        cmocka_unit_test(test_batch_refusals),
        cmocka_unit_test(test_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
