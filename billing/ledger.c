#include "ledger.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing_event.h"

static const char *const kind_names[] = {
#define LEDGER_X(name, str) str,
    LEDGER_KIND_LIST(LEDGER_X)
#undef LEDGER_X
};

#define KIND_COUNT ((int)(sizeof(kind_names) / sizeof(kind_names[0])))

const char *ledger_kind_name(ledger_kind k)
{
    if ((int)k < 0 || (int)k >= KIND_COUNT)
        return "?";
    return kind_names[k];
}

status ledger_kind_parse(const char *name, ledger_kind *out, err *e)
{
    for (int i = 0; i < KIND_COUNT; i++) {
        if (name != NULL && strcmp(name, kind_names[i]) == 0) {
            *out = (ledger_kind)i;
            return ST_OK;
        }
    }
    return err_set(e, ST_INVALID,
                   "account kind \"%.64s\" is not known; use one of "
                   "bank_receivable, bank_unverified_receivable, "
                   "unverified_revenue, platform_revenue, operator_payable, "
                   "worker_payable, penalty, cash",
                   name != NULL ? name : "");
}

status ledger_key_outcome(char *buf, size_t cap, int64_t outcome_id,
                          const char *stage, err *e)
{
    int w;

    if (outcome_id <= 0 || !ids_token_valid(stage))
        return err_set(e, ST_INVALID,
                       "ledger key needs an outcome id > 0 and a stage "
                       "token (got %" PRId64 ", \"%.64s\")",
                       outcome_id, stage != NULL ? stage : "");
    w = snprintf(buf, cap, "outcome:%" PRId64 ":%s", outcome_id, stage);
    if (w < 0 || (size_t)w >= cap || w > LEDGER_KEY_MAX)
        return err_set(e, ST_INVALID,
                       "ledger key for outcome %" PRId64 " does not fit",
                       outcome_id);
    return ST_OK;
}

/* ---- accounts ---- */

DB_STMT(ledger_account_upsert, 3,
        "WITH ins AS ("
        "  INSERT INTO accounts (party, kind, currency)"
        "  VALUES ($1, $2, $3)"
        "  ON CONFLICT (party, kind, currency) DO NOTHING"
        "  RETURNING id)"
        " SELECT id FROM ins"
        " UNION ALL"
        " SELECT id FROM accounts"
        "  WHERE party = $1 AND kind = $2 AND currency = $3"
        "    AND NOT EXISTS (SELECT 1 FROM ins)");

/* After a concurrent creator committed, the upsert's snapshot cannot see
 * its row; a new statement can. */
DB_STMT(ledger_account_get, 3,
        "SELECT id FROM accounts"
        " WHERE party = $1 AND kind = $2 AND currency = $3");

status ledger_account_ensure(db *d, const char *party, ledger_kind kind,
                             const char *currency, int64_t *id, err *e)
{
    const char *params[3];
    db_res *r = NULL;
    status s;

    if (!ids_token_valid(party))
        return err_set(e, ST_INVALID,
                       "account party \"%.64s\" must be 1-64 letters, "
                       "digits, '_' or '-'",
                       party != NULL ? party : "");
    if ((int)kind < 0 || (int)kind >= KIND_COUNT)
        return err_set(e, ST_INVALID, "account kind %d is not known",
                       (int)kind);
    if (!money_currency_valid(currency))
        return err_set(e, ST_INVALID,
                       "account currency \"%.16s\" is not an ISO 4217 code",
                       currency != NULL ? currency : "");
    params[0] = party;
    params[1] = kind_names[kind];
    params[2] = currency;
    s = db_run(d, &ledger_account_upsert, params, &r, e);
    if (s != ST_OK)
        goto out;
    if (db_rows(r) == 0) {
        db_res_free(r);
        r = NULL;
        s = db_run(d, &ledger_account_get, params, &r, e);
        if (s != ST_OK)
            goto out;
    }
    if (db_rows(r) != 1) {
        s = err_set(e, ST_INTERNAL, "account %s/%s/%s vanished", party,
                    kind_names[kind], currency);
        goto out;
    }
    *id = db_i64(r, 0, 0);
out:
    db_res_free(r);
    return s;
}

/* ---- posting ---- */

/*
 * The fingerprint of postings given as two parallel arrays $2 (accounts)
 * and $3 (amounts): SHA-256 of "account:amount" sorted, so the same
 * multiset in any order gives the same digest. Shared by both statements
 * below so they can never disagree.
 */
#define LEDGER_FINGERPRINT_SQL                                                 \
    "(SELECT encode(sha256(convert_to(string_agg("                             \
    "    t.a::text || ':' || t.m::text, ',' ORDER BY t.a, t.m), 'UTF8')),"     \
    "  'hex')"                                                                 \
    " FROM unnest($2::bigint[], $3::bigint[]) AS t(a, m))"

/*
 * One round trip: insert the entry unless its key exists, insert all its
 * postings with it, and otherwise return the existing entry and whether
 * its fingerprint matches. A data-modifying CTE runs to completion even
 * though the main query does not read it.
 */
DB_STMT(ledger_post_entry, 3,
        "WITH fp AS (SELECT " LEDGER_FINGERPRINT_SQL " AS f),"
        " ins AS ("
        "  INSERT INTO journal_entries (idem_key, fingerprint)"
        "  SELECT $1::text, f FROM fp"
        "  ON CONFLICT (idem_key) DO NOTHING"
        "  RETURNING id),"
        " posted AS ("
        "  INSERT INTO postings (entry_id, account_id, amount_minor)"
        "  SELECT ins.id, t.a, t.m"
        "    FROM ins, unnest($2::bigint[], $3::bigint[]) AS t(a, m)"
        "  RETURNING 1)"
        " SELECT id, true AS created, true AS same,"
        "        (SELECT count(*) FROM posted) AS n FROM ins"
        " UNION ALL"
        " SELECT j.id, false, j.fingerprint = fp.f, 0"
        "   FROM journal_entries j, fp"
        "  WHERE j.idem_key = $1::text AND NOT EXISTS (SELECT 1 FROM ins)");

/* The key was committed by a concurrent poster after our statement's
 * snapshot was taken: look again with a fresh one. */
DB_STMT(ledger_post_existing, 3,
        "SELECT id, fingerprint = " LEDGER_FINGERPRINT_SQL
        " FROM journal_entries WHERE idem_key = $1::text");

static status check_postings(const char *key, const ledger_posting *p, int n,
                             err *e)
{
    int64_t sum = 0;

    if (key == NULL || key[0] == '\0' || strlen(key) > LEDGER_KEY_MAX)
        return err_set(e, ST_INVALID,
                       "ledger entry key must be 1-%d characters",
                       LEDGER_KEY_MAX);
    if (n < 2 || n > LEDGER_POSTINGS_MAX)
        return err_set(e, ST_INVALID,
                       "ledger entry %s has %d postings; it needs 2 to %d", key,
                       n, LEDGER_POSTINGS_MAX);
    for (int i = 0; i < n; i++) {
        if (p[i].account_id <= 0)
            return err_set(
                e, ST_INVALID,
                "ledger entry %s: posting %d has account id %" PRId64, key, i,
                p[i].account_id);
        if (p[i].amount_minor == 0)
            return err_set(e, ST_INVALID,
                           "ledger entry %s: posting %d is zero; leave it out",
                           key, i);
        if (__builtin_add_overflow(sum, p[i].amount_minor, &sum))
            return err_set(e, ST_INVALID,
                           "ledger entry %s: postings overflow 64 bits", key);
    }
    /* Balanced per currency implies balanced in total; the per-currency
     * check needs the accounts and is the database's, at commit. */
    if (sum != 0)
        return err_set(e, ST_INVALID,
                       "ledger entry %s does not balance: postings sum to "
                       "%" PRId64 " (debits must equal credits)",
                       key, sum);
    return ST_OK;
}

status ledger_post(db *d, const char *key, const ledger_posting *p, int n,
                   int64_t *entry_id, err *e)
{
    int64_t accounts[LEDGER_POSTINGS_MAX];
    int64_t amounts[LEDGER_POSTINGS_MAX];
    char acc_arr[BILLING_IDS_CAP(LEDGER_POSTINGS_MAX)];
    char amt_arr[BILLING_IDS_CAP(LEDGER_POSTINGS_MAX)];
    const char *params[3];
    db_res *r = NULL;
    int64_t id;
    int same_col = 2; /* column of "same" in the first statement */
    status s;

    s = check_postings(key, p, n, e);
    if (s != ST_OK)
        return s;
    for (int i = 0; i < n; i++) {
        accounts[i] = p[i].account_id;
        amounts[i] = p[i].amount_minor;
    }
    s = billing_ids_format(accounts, n, acc_arr, sizeof(acc_arr), e);
    if (s != ST_OK)
        return s;
    s = billing_ids_format(amounts, n, amt_arr, sizeof(amt_arr), e);
    if (s != ST_OK)
        return s;
    params[0] = key;
    params[1] = acc_arr;
    params[2] = amt_arr;
    s = db_run(d, &ledger_post_entry, params, &r, e);
    if (s != ST_OK) {
        err_wrap(e, "post ledger entry %s", key);
        goto out;
    }
    if (db_rows(r) == 0) {
        db_res_free(r);
        r = NULL;
        s = db_run(d, &ledger_post_existing, params, &r, e);
        if (s != ST_OK) {
            err_wrap(e, "post ledger entry %s", key);
            goto out;
        }
        if (db_rows(r) != 1) {
            s = err_set(e, ST_INTERNAL,
                        "ledger entry %s was neither inserted nor found", key);
            goto out;
        }
        same_col = 1;
    } else if (db_bool(r, 0, 1) && db_i64(r, 0, 3) != n) {
        /* Cannot happen while postings has no filter; guards the CTE. */
        s = err_set(e, ST_INTERNAL,
                    "ledger entry %s stored %" PRId64 " of %d postings", key,
                    db_i64(r, 0, 3), n);
        goto out;
    }
    id = db_i64(r, 0, 0);
    if (!db_bool(r, 0, same_col)) {
        s = err_set(e, ST_CONFLICT,
                    "ledger entry %s already exists (id %" PRId64
                    ") with different postings; an entry is never changed, "
                    "post a correcting entry under a new key",
                    key, id);
        goto out;
    }
    *entry_id = id;
out:
    db_res_free(r);
    return s;
}

/* ---- reversal ---- */

DB_STMT(ledger_entry_postings, 1,
        "SELECT p.account_id, p.amount_minor"
        "  FROM postings p JOIN journal_entries j ON j.id = p.entry_id"
        " WHERE j.idem_key = $1::text ORDER BY p.id");

status ledger_reverse(db *d, const char *orig_key, const char *new_key,
                      int64_t *entry_id, err *e)
{
    ledger_posting p[LEDGER_POSTINGS_MAX];
    const char *params[1] = {orig_key};
    db_res *r = NULL;
    int n;
    status s;

    s = db_run(d, &ledger_entry_postings, params, &r, e);
    if (s != ST_OK)
        goto out;
    n = db_rows(r);
    if (n == 0) {
        s = err_set(e, ST_NOT_FOUND,
                    "no ledger entry with key %.200s to reverse", orig_key);
        goto out;
    }
    if (n > LEDGER_POSTINGS_MAX) {
        s = err_set(e, ST_INVALID, "ledger entry %.200s has %d postings",
                    orig_key, n);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        p[i].account_id = db_i64(r, i, 0);
        /* Stored amounts are never INT64_MIN: the entry balanced. */
        s = money_neg(db_i64(r, i, 1), &p[i].amount_minor, e);
        if (s != ST_OK)
            goto out;
    }
    s = ledger_post(d, new_key, p, n, entry_id, e);
out:
    db_res_free(r);
    return s;
}

/* ---- reports ---- */

DB_STMT(ledger_balance_list, 1,
        "SELECT a.id, a.party, a.kind, a.currency,"
        "       sum(p.amount_minor)::bigint"
        "  FROM accounts a JOIN postings p ON p.account_id = a.id"
        " WHERE $1::text IS NULL OR a.party = $1::text"
        " GROUP BY a.id"
        " ORDER BY a.party, a.kind, a.currency");

status ledger_balances(db *d, const char *party, ledger_balance **rows, int *n,
                       err *e)
{
    const char *params[1] = {party};
    ledger_balance *out = NULL;
    db_res *r = NULL;
    int rows_n = 0;
    status s;

    s = db_run(d, &ledger_balance_list, params, &r, e);
    if (s != ST_OK) {
        err_wrap(e, "ledger balances");
        goto out;
    }
    rows_n = db_rows(r);
    if (rows_n > 0) {
        out = calloc((size_t)rows_n, sizeof(*out));
        if (out == NULL) {
            s = err_set(e, ST_NOMEM, "out of memory");
            goto out;
        }
    }
    for (int i = 0; i < rows_n; i++) {
        out[i].account_id = db_i64(r, i, 0);
        snprintf(out[i].party, sizeof(out[i].party), "%s", db_val(r, i, 1));
        s = ledger_kind_parse(db_val(r, i, 2), &out[i].kind, e);
        if (s != ST_OK)
            goto out;
        snprintf(out[i].currency, sizeof(out[i].currency), "%s",
                 db_val(r, i, 3));
        out[i].balance_minor = db_i64(r, i, 4);
    }
    *rows = out;
    *n = rows_n;
    out = NULL;
out:
    free(out);
    db_res_free(r);
    return s;
}

DB_STMT(ledger_trial, 0,
        "WITH b AS ("
        "  SELECT a.currency, sum(p.amount_minor) AS bal"
        "    FROM accounts a JOIN postings p ON p.account_id = a.id"
        "   GROUP BY a.id, a.currency)"
        " SELECT currency,"
        "   coalesce(sum(bal) FILTER (WHERE bal > 0), 0)::bigint,"
        "   coalesce(-sum(bal) FILTER (WHERE bal < 0), 0)::bigint,"
        "   sum(bal)::bigint, count(*)"
        "  FROM b GROUP BY currency ORDER BY currency");

status ledger_trial_balance(db *d, ledger_trial_row **rows, int *n, err *e)
{
    ledger_trial_row *out = NULL;
    db_res *r = NULL;
    int rows_n = 0;
    status s;

    s = db_run(d, &ledger_trial, NULL, &r, e);
    if (s != ST_OK) {
        err_wrap(e, "trial balance");
        goto out;
    }
    rows_n = db_rows(r);
    if (rows_n > 0) {
        out = calloc((size_t)rows_n, sizeof(*out));
        if (out == NULL) {
            s = err_set(e, ST_NOMEM, "out of memory");
            goto out;
        }
    }
    for (int i = 0; i < rows_n; i++) {
        snprintf(out[i].currency, sizeof(out[i].currency), "%s",
                 db_val(r, i, 0));
        out[i].debit_minor = db_i64(r, i, 1);
        out[i].credit_minor = db_i64(r, i, 2);
        out[i].net_minor = db_i64(r, i, 3);
        out[i].accounts = db_i64(r, i, 4);
    }
    *rows = out;
    *n = rows_n;
    out = NULL;
out:
    free(out);
    db_res_free(r);
    return s;
}
