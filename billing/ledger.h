/*
 * The double-entry ledger in PostgreSQL (schema/002_ledger.sql), and its
 * only writer: every journal entry and posting is written by
 * ledger_batch_post, whether one entry (ledger_post, ledger_reverse) or a
 * whole batch of them (the billing flow's pending, verified, reversing and
 * penalty entries, the monthly minimums of an invoice close).
 *
 * An entry is a set of postings on accounts; amount_minor > 0 is a debit,
 * < 0 a credit; an entry's postings sum to zero per currency, which the
 * database checks at commit. Entries are idempotent by a key derived from
 * what caused them (ledger_key_outcome, ...): the same key with the same
 * postings posts nothing the second time, the same key with other
 * postings is refused (ST_CONFLICT), so a redelivered event posts nothing
 * twice and a bug can never overwrite the books.
 *
 *   ledger_batch_create(&b, e);
 *   db_begin(d, e);
 *   ledger_batch_entry(b, "outcome:7:pending", e);
 *   ledger_batch_add(b, "jsbank", LEDGER_BANK_UNVERIFIED_RECEIVABLE, "CNY",
 *                    17500, e);
 *   ledger_batch_add(b, "jsbank", LEDGER_UNVERIFIED_REVENUE, "CNY", -17500,
 *                    e);
 *   ... more entries ...
 *   ledger_batch_post(d, b, &posted, e);   a few statements for the batch
 *   db_commit(d, e);                       an unbalanced entry fails here
 *
 * Nothing here opens or commits a transaction: the writer works in the
 * caller's, so the entries commit or roll back with whatever else the
 * caller did. On any error the caller must roll back. See docs/ledger.md.
 */
#ifndef TL_LEDGER_H
#define TL_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "err.h"
#include "ids.h"
#include "money.h"

#define LEDGER_KEY_MAX      200 /* longest idempotency key, without NUL */
#define LEDGER_POSTINGS_MAX 64  /* postings per entry */

/* Account kinds; the names are the values of accounts.kind. */
#define LEDGER_KIND_LIST(X)                                                    \
    X(LEDGER_BANK_RECEIVABLE, "bank_receivable")                               \
    X(LEDGER_BANK_UNVERIFIED_RECEIVABLE, "bank_unverified_receivable")         \
    X(LEDGER_UNVERIFIED_REVENUE, "unverified_revenue")                         \
    X(LEDGER_PLATFORM_REVENUE, "platform_revenue")                             \
    X(LEDGER_OPERATOR_PAYABLE, "operator_payable")                             \
    X(LEDGER_WORKER_PAYABLE, "worker_payable")                                 \
    X(LEDGER_PENALTY, "penalty")                                               \
    X(LEDGER_CASH, "cash")

typedef enum ledger_kind {
#define LEDGER_X(name, str) name,
    LEDGER_KIND_LIST(LEDGER_X)
#undef LEDGER_X
} ledger_kind;

/* "bank_receivable", ...; "?" outside the enum. */
const char *ledger_kind_name(ledger_kind k);

/* Parse a kind name; ST_INVALID lists the valid ones. */
status ledger_kind_parse(const char *name, ledger_kind *out, err *e);

typedef struct ledger_posting {
    int64_t account_id;
    int64_t amount_minor; /* debit > 0, credit < 0, never 0 */
} ledger_posting;

/*
 * Entry keys, one scheme for the whole ledger. Each writes the key into
 * buf (cap bytes) and fails with ST_INVALID when an argument is not a
 * token or the key does not fit LEDGER_KEY_MAX.
 *
 *   ledger_key_outcome   "outcome:<id>:<stage>" (stage "pending",
 *                        "verified", ...)
 *   ledger_key_dispute   "dispute:<id>:<stage>" (stage "penalty")
 *   ledger_key_minimum   "minimum:<contract>:<YYYY-MM>"
 *   ledger_key_reversal  "<key>:reversed", the entry negating key
 */
status ledger_key_outcome(char *buf, size_t cap, int64_t outcome_id,
                          const char *stage, err *e);
status ledger_key_dispute(char *buf, size_t cap, int64_t dispute_id,
                          const char *stage, err *e);
status ledger_key_minimum(char *buf, size_t cap, const char *contract,
                          const char *period, err *e);
status ledger_key_reversal(char *buf, size_t cap, const char *key, err *e);

/*
 * The id of the account (party, kind, currency), created when missing.
 * Runs in the caller's transaction, or in autocommit outside one;
 * concurrent callers get the same id. Ids never change once committed.
 * party is a token ("platform" for Twinline's own accounts). Errors:
 * ST_INVALID (bad party, kind or currency), ST_DB, ST_UNAVAILABLE.
 */
status ledger_account_ensure(db *d, const char *party, ledger_kind kind,
                             const char *currency, int64_t *id, err *e);

/* ---- the writer ---- */

/*
 * A batch of entries to post together. The batch copies every string it
 * is given; it is reusable after ledger_batch_reset. Not thread-safe.
 */
typedef struct ledger_batch ledger_batch;

/* An empty batch; *out is owned by the caller (ledger_batch_destroy). */
status ledger_batch_create(ledger_batch **out, err *e);

/* Free b; NULL is a no-op. */
void ledger_batch_destroy(ledger_batch *b);

/* Empty b for the next batch (keeps its memory). */
void ledger_batch_reset(ledger_batch *b);

/* Entries added so far (reversals included). */
int ledger_batch_entries(const ledger_batch *b);

/*
 * Start an entry under key (1..LEDGER_KEY_MAX characters); the postings
 * added next belong to it. A key may appear once per batch. ST_INVALID,
 * ST_NOMEM.
 */
status ledger_batch_entry(ledger_batch *b, const char *key, err *e);

/*
 * Add a posting of amount_minor (never 0: leave a zero share out) to the
 * current entry on the account (party, kind, currency), which the post
 * creates when it does not exist yet. ST_INVALID (no current entry, a
 * reversal as current entry, bad party/kind/currency, zero), ST_NOMEM.
 */
status ledger_batch_add(ledger_batch *b, const char *party, ledger_kind kind,
                        const char *currency, int64_t amount_minor, err *e);

/* As ledger_batch_add, on the account with id account_id (> 0). */
status ledger_batch_add_account(ledger_batch *b, int64_t account_id,
                                int64_t amount_minor, err *e);

/*
 * Add an entry under new_key that is the exact negation of the entry
 * posted under orig_key, so every account it touched nets back to what
 * it was. The original is read when the batch is posted (it may be
 * posted earlier in the same transaction, not in the same batch). When
 * it has no entry: with if_posted the reversal is left out (its id stays
 * 0), otherwise the post fails with ST_NOT_FOUND.
 */
status ledger_batch_reverse(ledger_batch *b, const char *orig_key,
                            const char *new_key, bool if_posted, err *e);

/*
 * Post every entry of b in the caller's transaction, with a few
 * statements for the whole batch whatever its size: find (and create the
 * missing) accounts named by party, kind and currency; read the entries
 * being reversed; insert the entries and all their postings in one
 * statement. For each entry:
 *   - a key not posted before: the entry and its postings are inserted;
 *   - a key already posted (committed, or earlier in this transaction)
 *     with the same postings as a multiset (any order): nothing is
 *     posted, the entry keeps its id;
 *   - a key already posted with different postings: ST_CONFLICT naming
 *     the key; the caller must roll back, and then nothing of the batch
 *     is stored. An entry is never changed; post a correction under a
 *     new key.
 * A concurrent transaction posting the same key waits for this one and
 * then sees the existing entry (under READ COMMITTED; under REPEATABLE
 * READ PostgreSQL reports a serialization failure, also ST_CONFLICT:
 * retry).
 *
 * Checked before the entries are sent: 2..LEDGER_POSTINGS_MAX postings
 * per entry, summing to zero (ST_INVALID naming the key). Postings in
 * several currencies must balance per currency; the database checks that
 * at COMMIT, which then fails with ST_INVALID. An unknown account id is
 * ST_INVALID. *posted (may be NULL) is the number of entries inserted
 * now. After success ledger_batch_id gives each entry's id.
 */
status ledger_batch_post(db *d, ledger_batch *b, int *posted, err *e);

/* The id of entry i (in the order added) after ledger_batch_post; 0 for
 * a reversal left out with if_posted, or before a post. */
int64_t ledger_batch_id(const ledger_batch *b, int i);

/*
 * Post one entry with postings p[0..n) under key: ledger_batch_post with
 * a batch of one (the same checks, idempotency and errors). p is
 * borrowed. *entry_id is written only on success.
 */
status ledger_post(db *d, const char *key, const ledger_posting *p, int n,
                   int64_t *entry_id, err *e);

/*
 * Post under new_key the exact negation of the entry posted under
 * orig_key: ledger_batch_reverse and ledger_batch_post with a batch of
 * one. ST_NOT_FOUND when orig_key has no entry.
 */
status ledger_reverse(db *d, const char *orig_key, const char *new_key,
                      int64_t *entry_id, err *e);

typedef struct ledger_balance {
    int64_t account_id;
    char party[ID_MAX + 1];
    ledger_kind kind;
    char currency[MONEY_CURRENCY_LEN + 1];
    int64_t balance_minor; /* debits minus credits */
} ledger_balance;

/*
 * Balances of every account of party (or of all accounts when party is
 * NULL) with at least one posting, ordered by party, kind, currency.
 * *rows (caller frees with free()) and *n are written only on success;
 * *rows is NULL when *n is 0. Errors: ST_DB, ST_INVALID (a balance beyond
 * int64), ST_NOMEM.
 */
status ledger_balances(db *d, const char *party, ledger_balance **rows, int *n,
                       err *e);

typedef struct ledger_trial_row {
    char currency[MONEY_CURRENCY_LEN + 1];
    int64_t debit_minor;  /* sum of the accounts with a debit balance */
    int64_t credit_minor; /* sum of those with a credit balance (> 0) */
    int64_t net_minor;    /* debit - credit: 0 when the books balance */
    int64_t accounts;     /* accounts with postings */
} ledger_trial_row;

/*
 * The trial balance: one row per currency, ordered by currency. *rows
 * (caller frees) and *n as ledger_balances.
 */
status ledger_trial_balance(db *d, ledger_trial_row **rows, int *n, err *e);

#endif
