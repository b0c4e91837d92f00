/*
 * The double-entry ledger in PostgreSQL (schema/002_ledger.sql).
 *
 * An entry is a set of postings on accounts; amount_minor > 0 is a debit,
 * < 0 a credit; an entry's postings sum to zero per currency, which the
 * database checks at commit. Entries are idempotent by a key derived from
 * what caused them (ledger_key_outcome), so a redelivered event posts
 * nothing twice.
 *
 *   ledger_account_ensure(d, "jsbank", LEDGER_BANK_RECEIVABLE, "CNY", &a, e);
 *   db_begin(d, e);
 *   ledger_post(d, key, postings, n, &entry_id, e);
 *   db_commit(d, e);       an unbalanced entry fails here
 *
 * Nothing here opens or commits a transaction: ledger_post writes in the
 * caller's, so the entry commits or rolls back with whatever else the
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
 * The key of the entry for stage ("pending", "verified", "reversed", ...)
 * of outcome outcome_id: "outcome:<id>:<stage>", into buf (cap bytes).
 * ST_INVALID when the stage is not a token or the key does not fit.
 */
status ledger_key_outcome(char *buf, size_t cap, int64_t outcome_id,
                          const char *stage, err *e);

/*
 * The id of the account (party, kind, currency), created when missing.
 * Runs in its own statement (autocommit unless the caller opened a
 * transaction); concurrent callers get the same id. Ids never change, so
 * callers may cache them. party is a token ("platform" for Twinline's own
 * accounts). Errors: ST_INVALID (bad party or currency), ST_DB,
 * ST_UNAVAILABLE.
 */
status ledger_account_ensure(db *d, const char *party, ledger_kind kind,
                             const char *currency, int64_t *id, err *e);

/*
 * Post one entry with postings p[0..n) under key, in the caller's
 * transaction: one round trip that inserts the entry and all its postings.
 * If an entry with key exists (committed, or earlier in this transaction)
 * nothing is posted and *entry_id is the existing entry's id, provided its
 * postings are the same multiset; different postings are ST_CONFLICT. A
 * concurrent transaction posting the same key waits for this one and then
 * sees the existing entry (under READ COMMITTED; under REPEATABLE READ
 * PostgreSQL reports a serialization failure, also ST_CONFLICT: retry).
 *
 * Checked before anything is sent: 2..LEDGER_POSTINGS_MAX postings, each
 * non-zero on an account id > 0, summing to zero (ST_INVALID). Postings in
 * several currencies must balance per currency; the database checks that
 * at COMMIT, which then fails with ST_INVALID. An unknown account is
 * ST_INVALID. p is borrowed. *entry_id is written only on success.
 */
status ledger_post(db *d, const char *key, const ledger_posting *p, int n,
                   int64_t *entry_id, err *e);

/*
 * Post under new_key the exact negation of the entry posted under
 * orig_key, so every account it touched nets back to what it was. Same
 * idempotency as ledger_post. ST_NOT_FOUND when orig_key has no entry.
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
