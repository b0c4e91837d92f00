#include "ledger.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing_sql.h"
#include "sbuf.h"

/* The statements are billing/sql/ledger_*.sql (billing_sql.h). */

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
    char valid[256] = "";
    size_t used = 0;

    for (int i = 0; i < KIND_COUNT; i++) {
        if (name != NULL && strcmp(name, kind_names[i]) == 0) {
            *out = (ledger_kind)i;
            return ST_OK;
        }
    }
    for (int i = 0; i < KIND_COUNT && used < sizeof(valid); i++)
        used += (size_t)snprintf(valid + used, sizeof(valid) - used, "%s%s",
                                 i > 0 ? ", " : "", kind_names[i]);
    return err_set(e, ST_INVALID,
                   "account kind \"%.64s\" is not known; use one of %s",
                   name != NULL ? name : "", valid);
}

/* ---- keys ---- */

/* ST_OK when a key of w characters (as snprintf returned) fits a buffer
 * of cap bytes and LEDGER_KEY_MAX; ST_INVALID naming what otherwise. */
static status key_fits(size_t cap, int w, const char *what, err *e)
{
    if (w < 0 || (size_t)w >= cap || w > LEDGER_KEY_MAX)
        return err_set(e, ST_INVALID, "ledger key for %s does not fit", what);
    return ST_OK;
}

status ledger_key_outcome(char *buf, size_t cap, int64_t outcome_id,
                          const char *stage, err *e)
{
    if (outcome_id <= 0 || !ids_token_valid(stage))
        return err_set(e, ST_INVALID,
                       "ledger key needs an outcome id > 0 and a stage "
                       "token (got %" PRId64 ", \"%.64s\")",
                       outcome_id, stage != NULL ? stage : "");
    return key_fits(
        cap, snprintf(buf, cap, "outcome:%" PRId64 ":%s", outcome_id, stage),
        "an outcome", e);
}

status ledger_key_dispute(char *buf, size_t cap, int64_t dispute_id,
                          const char *stage, err *e)
{
    if (dispute_id <= 0 || !ids_token_valid(stage))
        return err_set(e, ST_INVALID,
                       "ledger key needs a dispute id > 0 and a stage "
                       "token (got %" PRId64 ", \"%.64s\")",
                       dispute_id, stage != NULL ? stage : "");
    return key_fits(
        cap, snprintf(buf, cap, "dispute:%" PRId64 ":%s", dispute_id, stage),
        "a dispute", e);
}

status ledger_key_minimum(char *buf, size_t cap, const char *contract,
                          const char *period, err *e)
{
    if (!ids_token_valid(contract) || !ids_token_valid(period))
        return err_set(e, ST_INVALID,
                       "ledger key needs a contract and a period token (got "
                       "\"%.64s\", \"%.16s\")",
                       contract != NULL ? contract : "",
                       period != NULL ? period : "");
    return key_fits(cap, snprintf(buf, cap, "minimum:%s:%s", contract, period),
                    "a monthly minimum", e);
}

status ledger_key_reversal(char *buf, size_t cap, const char *key, err *e)
{
    if (key == NULL || key[0] == '\0')
        return err_set(e, ST_INVALID, "a reversal needs the key it reverses");
    return key_fits(cap, snprintf(buf, cap, "%s:reversed", key), "a reversal",
                    e);
}

/* ---- the batch ---- */

typedef struct batch_entry {
    size_t key;     /* offset of the key in strs */
    size_t orig;    /* offset of the key reversed; NO_ORIG when none */
    bool if_posted; /* a reversal whose original may be missing */
    bool skip;      /* such a reversal, left out by this post */
    int wire;       /* 1-based position in the keys sent; 0 when skipped */
    int64_t id;     /* after a post */
} batch_entry;

typedef struct batch_posting {
    int entry;
    bool by_id;         /* account_id given; else party, kind, currency */
    int64_t account_id; /* resolved by the post when !by_id */
    size_t party;       /* offset in strs */
    ledger_kind kind;
    char currency[MONEY_CURRENCY_LEN + 1];
    int64_t amount_minor;
} batch_posting;

#define NO_ORIG ((size_t)-1)

struct ledger_batch {
    batch_entry *entries;
    int nentries, capentries;
    batch_posting *postings;
    int npostings, cappostings;
    int nposted_by_caller; /* postings[0..n) are the caller's, the rest
                              a post's reversals */
    char *strs;            /* NUL-separated strings, addressed by offset */
    size_t slen, scap;
    int current; /* entry receiving postings; -1 none */
};

status ledger_batch_create(ledger_batch **out, err *e)
{
    ledger_batch *b = calloc(1, sizeof(*b));

    if (b == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    b->current = -1;
    *out = b;
    return ST_OK;
}

void ledger_batch_destroy(ledger_batch *b)
{
    if (b == NULL)
        return;
    free(b->entries);
    free(b->postings);
    free(b->strs);
    free(b);
}

void ledger_batch_reset(ledger_batch *b)
{
    b->nentries = 0;
    b->npostings = 0;
    b->nposted_by_caller = 0;
    b->slen = 0;
    b->current = -1;
}

int ledger_batch_entries(const ledger_batch *b)
{
    return b->nentries;
}

int64_t ledger_batch_id(const ledger_batch *b, int i)
{
    if (i < 0 || i >= b->nentries)
        return 0;
    return b->entries[i].id;
}

/* Grow *arr (of *cap elements of size sz) to hold one more than n. */
static bool grow(void **arr, int *cap, int n, size_t sz)
{
    int want;
    void *p;

    if (n < *cap)
        return true;
    want = *cap > 0 ? *cap * 2 : 64;
    p = realloc(*arr, (size_t)want * sz);
    if (p == NULL)
        return false;
    *arr = p;
    *cap = want;
    return true;
}

static status str_add(ledger_batch *b, const char *s, size_t *off, err *e)
{
    size_t n = strlen(s) + 1;

    if (b->slen + n > b->scap) {
        size_t want = b->scap > 0 ? b->scap * 2 : 4096;
        char *p;

        while (want < b->slen + n)
            want *= 2;
        p = realloc(b->strs, want);
        if (p == NULL)
            return err_set(e, ST_NOMEM, "out of memory");
        b->strs = p;
        b->scap = want;
    }
    memcpy(b->strs + b->slen, s, n);
    *off = b->slen;
    b->slen += n;
    return ST_OK;
}

static const char *str_at(const ledger_batch *b, size_t off)
{
    return b->strs + off;
}

static status key_check(const char *key, err *e)
{
    if (key == NULL || key[0] == '\0' || strlen(key) > LEDGER_KEY_MAX)
        return err_set(e, ST_INVALID,
                       "ledger entry key must be 1-%d characters",
                       LEDGER_KEY_MAX);
    return ST_OK;
}

static status entry_add(ledger_batch *b, const char *key, const char *orig,
                        bool if_posted, err *e)
{
    batch_entry *x;
    status s;

    if ((s = key_check(key, e)) != ST_OK ||
        (orig != NULL && (s = key_check(orig, e)) != ST_OK))
        return s;
    if (!grow((void **)&b->entries, &b->capentries, b->nentries,
              sizeof(*b->entries)))
        return err_set(e, ST_NOMEM, "out of memory");
    x = &b->entries[b->nentries];
    memset(x, 0, sizeof(*x));
    x->orig = NO_ORIG;
    x->if_posted = if_posted;
    if ((s = str_add(b, key, &x->key, e)) != ST_OK ||
        (orig != NULL && (s = str_add(b, orig, &x->orig, e)) != ST_OK))
        return s;
    b->current = b->nentries++;
    return ST_OK;
}

status ledger_batch_entry(ledger_batch *b, const char *key, err *e)
{
    return entry_add(b, key, NULL, false, e);
}

status ledger_batch_reverse(ledger_batch *b, const char *orig_key,
                            const char *new_key, bool if_posted, err *e)
{
    status s;

    if (orig_key == NULL)
        return err_set(e, ST_INVALID, "a reversal needs the key it reverses");
    s = entry_add(b, new_key, orig_key, if_posted, e);
    /* A reversal's postings come from its original, never from the
     * caller. */
    b->current = -1;
    return s;
}

static status posting_add(ledger_batch *b, int entry, bool by_id,
                          int64_t account_id, const char *party,
                          ledger_kind kind, const char *currency,
                          int64_t amount, err *e)
{
    batch_posting *p;
    status s;

    if (!grow((void **)&b->postings, &b->cappostings, b->npostings,
              sizeof(*b->postings)))
        return err_set(e, ST_NOMEM, "out of memory");
    p = &b->postings[b->npostings];
    memset(p, 0, sizeof(*p));
    p->entry = entry;
    p->by_id = by_id;
    p->account_id = account_id;
    p->kind = kind;
    p->amount_minor = amount;
    if (!by_id) {
        snprintf(p->currency, sizeof(p->currency), "%s", currency);
        if ((s = str_add(b, party, &p->party, e)) != ST_OK)
            return s;
    }
    b->npostings++;
    return ST_OK;
}

/* The entry the caller adds to, or ST_INVALID. */
static status current_entry(const ledger_batch *b, int64_t amount, err *e)
{
    if (b->current < 0)
        return err_set(e, ST_INVALID,
                       "a ledger posting needs an entry: call "
                       "ledger_batch_entry first");
    if (amount == 0)
        return err_set(e, ST_INVALID,
                       "ledger entry %s: a posting is zero; leave it out",
                       str_at(b, b->entries[b->current].key));
    return ST_OK;
}

status ledger_batch_add(ledger_batch *b, const char *party, ledger_kind kind,
                        const char *currency, int64_t amount_minor, err *e)
{
    status s = current_entry(b, amount_minor, e);

    if (s != ST_OK)
        return s;
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
    s = posting_add(b, b->current, false, 0, party, kind, currency,
                    amount_minor, e);
    if (s == ST_OK)
        b->nposted_by_caller = b->npostings;
    return s;
}

status ledger_batch_add_account(ledger_batch *b, int64_t account_id,
                                int64_t amount_minor, err *e)
{
    status s = current_entry(b, amount_minor, e);

    if (s != ST_OK)
        return s;
    if (account_id <= 0)
        return err_set(e, ST_INVALID,
                       "ledger entry %s: a posting has account id %" PRId64,
                       str_at(b, b->entries[b->current].key), account_id);
    s = posting_add(b, b->current, true, account_id, NULL, 0, NULL,
                    amount_minor, e);
    if (s == ST_OK)
        b->nposted_by_caller = b->npostings;
    return s;
}

/* ---- posting ---- */

/* The array parameters of one statement, as PostgreSQL array literals:
 * arrays_start opens them, the arr_* calls add elements, arrays_end
 * closes them; then they may be run any number of times. */
typedef struct arrays {
    sbuf text[4];
    const char *v[4];
    int n;
} arrays;

static void arrays_free(arrays *p)
{
    for (int i = 0; i < 4; i++)
        sbuf_free(&p->text[i]);
}

static void arrays_start(arrays *p, int n)
{
    p->n = n;
    for (int i = 0; i < n; i++) {
        sbuf_reset(&p->text[i]);
        sbuf_append(&p->text[i], "{", 1);
    }
}

static status arrays_end(arrays *p, err *e)
{
    for (int i = 0; i < p->n; i++) {
        sbuf_append(&p->text[i], "}", 1);
        if (p->text[i].failed)
            return err_set(e, ST_NOMEM, "out of memory");
        p->v[i] = sbuf_str(&p->text[i]);
    }
    return ST_OK;
}

static void arr_sep(sbuf *s)
{
    if (s->len > 1)
        sbuf_append(s, ",", 1);
}

static void arr_text(sbuf *s, const char *v)
{
    arr_sep(s);
    sbuf_pg_elem(s, v);
}

static void arr_i64(sbuf *s, int64_t v)
{
    arr_sep(s);
    sbuf_printf(s, "%" PRId64, v);
}

/* Sorting with the batch at hand: qsort has no context argument. */
typedef struct sort_item {
    const ledger_batch *b;
    int i;
} sort_item;

static int by_key(const void *x, const void *y)
{
    const sort_item *a = x, *c = y;

    return strcmp(str_at(a->b, a->b->entries[a->i].key),
                  str_at(c->b, c->b->entries[c->i].key));
}

static int by_account(const void *x, const void *y)
{
    const sort_item *a = x, *c = y;
    const batch_posting *p = &a->b->postings[a->i];
    const batch_posting *q = &c->b->postings[c->i];
    int d = strcmp(str_at(a->b, p->party), str_at(c->b, q->party));

    if (d == 0)
        d = (int)p->kind - (int)q->kind;
    if (d == 0)
        d = strcmp(p->currency, q->currency);
    return d;
}

/* Each key once per batch: two entries under one key would be posted as
 * one entry with the postings of both. */
static status check_unique(const ledger_batch *b, err *e)
{
    sort_item *v;
    status s = ST_OK;

    if (b->nentries < 2)
        return ST_OK;
    v = malloc((size_t)b->nentries * sizeof(*v));
    if (v == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    for (int i = 0; i < b->nentries; i++)
        v[i] = (sort_item){b, i};
    qsort(v, (size_t)b->nentries, sizeof(*v), by_key);
    for (int i = 1; i < b->nentries && s == ST_OK; i++)
        if (by_key(&v[i - 1], &v[i]) == 0)
            s = err_set(e, ST_INVALID,
                        "ledger entry %s appears twice in one batch",
                        str_at(b, b->entries[v[i].i].key));
    free(v);
    return s;
}

/*
 * Read the entries being reversed and add their negated postings. A
 * missing original leaves its reversal out (if_posted) or is
 * ST_NOT_FOUND.
 */
static status expand_reversals(db *d, ledger_batch *b, arrays *pr, err *e)
{
    int *rev = NULL, nrev = 0;
    db_res *r = NULL;
    int *found = NULL;
    status s = ST_OK;

    for (int i = 0; i < b->nentries; i++)
        if (b->entries[i].orig != NO_ORIG)
            nrev++;
    if (nrev == 0)
        return ST_OK;
    rev = malloc((size_t)nrev * sizeof(*rev));
    found = calloc((size_t)nrev, sizeof(*found));
    if (rev == NULL || found == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    arrays_start(pr, 1);
    nrev = 0;
    for (int i = 0; i < b->nentries; i++) {
        if (b->entries[i].orig != NO_ORIG) {
            rev[nrev++] = i;
            arr_text(&pr->text[0], str_at(b, b->entries[i].orig));
        }
    }
    if ((s = arrays_end(pr, e)) != ST_OK ||
        (s = db_run(d, &billing_sql_ledger_entries_read, pr->v, &r, e)) !=
            ST_OK)
        goto out;
    for (int row = 0; row < db_rows(r); row++) {
        int64_t no = db_i64(r, row, BILLING_LEDGER_ENTRIES_READ_KEY_NO);
        int64_t m = db_i64(r, row, BILLING_LEDGER_ENTRIES_READ_AMOUNT_MINOR);

        if (no < 1 || no > nrev) {
            s = err_set(e, ST_INTERNAL, "reversal %" PRId64 " out of range",
                        no);
            goto out;
        }
        /* Stored amounts are never INT64_MIN: the entry balanced. */
        if (m == INT64_MIN) {
            s = err_set(e, ST_INVALID, "ledger entry %s cannot be negated",
                        str_at(b, b->entries[rev[no - 1]].orig));
            goto out;
        }
        found[no - 1]++;
        s = posting_add(b, rev[no - 1], true,
                        db_i64(r, row, BILLING_LEDGER_ENTRIES_READ_ACCOUNT_ID),
                        NULL, 0, NULL, -m, e);
        if (s != ST_OK)
            goto out;
    }
    for (int k = 0; k < nrev; k++) {
        batch_entry *x = &b->entries[rev[k]];

        if (found[k] > 0)
            continue;
        if (!x->if_posted) {
            s = err_set(e, ST_NOT_FOUND,
                        "no ledger entry with key %.200s to reverse",
                        str_at(b, x->orig));
            goto out;
        }
        x->skip = true;
    }
out:
    db_res_free(r);
    free(rev);
    free(found);
    return s;
}

/* 2..LEDGER_POSTINGS_MAX postings per entry, summing to zero. */
static status check_entries(const ledger_batch *b, err *e)
{
    int *count = calloc((size_t)b->nentries + 1, sizeof(*count));
    int64_t *sum = calloc((size_t)b->nentries + 1, sizeof(*sum));
    status s = ST_OK;

    if (count == NULL || sum == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < b->npostings; i++) {
        const batch_posting *p = &b->postings[i];

        count[p->entry]++;
        if (__builtin_add_overflow(sum[p->entry], p->amount_minor,
                                   &sum[p->entry])) {
            s = err_set(e, ST_INVALID,
                        "ledger entry %s: postings overflow 64 bits",
                        str_at(b, b->entries[p->entry].key));
            goto out;
        }
    }
    for (int i = 0; i < b->nentries; i++) {
        const char *key = str_at(b, b->entries[i].key);

        if (b->entries[i].skip)
            continue;
        if (count[i] < 2 || count[i] > LEDGER_POSTINGS_MAX) {
            s = err_set(e, ST_INVALID,
                        "ledger entry %s has %d postings; it needs 2 to %d",
                        key, count[i], LEDGER_POSTINGS_MAX);
            goto out;
        }
        /* Balanced per currency implies balanced in total; the
         * per-currency check needs the accounts and is the database's,
         * at commit. */
        if (sum[i] != 0) {
            s = err_set(e, ST_INVALID,
                        "ledger entry %s does not balance: postings sum to "
                        "%" PRId64 " (debits must equal credits)",
                        key, sum[i]);
            goto out;
        }
    }
out:
    free(count);
    free(sum);
    return s;
}

/* Fill in the account ids of the postings that name their account by
 * party, kind and currency, creating the missing accounts. */
static status resolve_accounts(db *d, ledger_batch *b, arrays *pr, err *e)
{
    sort_item *v = NULL;
    int *slot = NULL; /* posting -> distinct account (1-based) */
    int64_t *ids = NULL;
    db_res *r = NULL;
    int n = 0, distinct = 0, missing;
    status s = ST_OK;

    for (int i = 0; i < b->npostings; i++)
        if (!b->postings[i].by_id)
            n++;
    if (n == 0)
        return ST_OK;
    v = malloc((size_t)n * sizeof(*v));
    slot = calloc((size_t)b->npostings, sizeof(*slot));
    ids = calloc((size_t)n + 1, sizeof(*ids));
    if (v == NULL || slot == NULL || ids == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    n = 0;
    for (int i = 0; i < b->npostings; i++)
        if (!b->postings[i].by_id)
            v[n++] = (sort_item){b, i};
    qsort(v, (size_t)n, sizeof(*v), by_account);
    arrays_start(pr, 3);
    for (int i = 0; i < n; i++) {
        const batch_posting *p = &b->postings[v[i].i];

        if (i == 0 || by_account(&v[i - 1], &v[i]) != 0) {
            distinct++;
            arr_text(&pr->text[0], str_at(b, p->party));
            arr_text(&pr->text[1], kind_names[p->kind]);
            arr_text(&pr->text[2], p->currency);
        }
        slot[v[i].i] = distinct;
    }
    if ((s = arrays_end(pr, e)) != ST_OK)
        goto out;
    /* Look up first: after the first batches every account exists. */
    for (int attempt = 0; attempt < 2; attempt++) {
        s = db_run(d, &billing_sql_ledger_accounts_find, pr->v, &r, e);
        if (s != ST_OK)
            goto out;
        for (int row = 0; row < db_rows(r); row++) {
            int64_t no =
                db_i64(r, row, BILLING_LEDGER_ACCOUNTS_FIND_ACCOUNT_NO);

            if (no >= 1 && no <= distinct)
                ids[no] =
                    db_i64(r, row, BILLING_LEDGER_ACCOUNTS_FIND_ACCOUNT_ID);
        }
        db_res_free(r);
        r = NULL;
        missing = 0;
        for (int k = 1; k <= distinct; k++)
            if (ids[k] == 0)
                missing++;
        if (missing == 0 || attempt == 1)
            break;
        s = db_run(d, &billing_sql_ledger_accounts_insert, pr->v, NULL, e);
        if (s != ST_OK)
            goto out;
    }
    if (missing > 0) {
        s = err_set(e, ST_INTERNAL,
                    "%d ledger accounts were neither found nor created",
                    missing);
        goto out;
    }
    for (int i = 0; i < b->npostings; i++)
        if (!b->postings[i].by_id)
            b->postings[i].account_id = ids[slot[i]];
out:
    db_res_free(r);
    free(v);
    free(slot);
    free(ids);
    return s;
}

/* Read one run of ledger_post.sql into the entries; *unresolved counts
 * the keys committed concurrently after the statement's snapshot. */
static status take_results(ledger_batch *b, const db_res *r, const int *wire,
                           int nwire, int *posted, int *unresolved, err *e)
{
    *unresolved = 0;
    for (int row = 0; row < db_rows(r); row++) {
        int64_t no = db_i64(r, row, BILLING_LEDGER_POST_ENTRY_NO);
        batch_entry *x;

        if (no < 1 || no > nwire)
            return err_set(e, ST_INTERNAL, "ledger entry %" PRId64 " of %d", no,
                           nwire);
        x = &b->entries[wire[no - 1]];
        if (x->id != 0)
            continue; /* decided by the first run */
        if (db_null(r, row, BILLING_LEDGER_POST_ENTRY_ID)) {
            (*unresolved)++;
            continue;
        }
        x->id = db_i64(r, row, BILLING_LEDGER_POST_ENTRY_ID);
        if (!db_bool(r, row, BILLING_LEDGER_POST_SAME))
            return err_set(e, ST_CONFLICT,
                           "ledger entry %s already exists (id %" PRId64
                           ") with different postings; an entry is never "
                           "changed, post a correcting entry under a new key",
                           str_at(b, x->key), x->id);
        if (db_bool(r, row, BILLING_LEDGER_POST_CREATED))
            (*posted)++;
    }
    return ST_OK;
}

status ledger_batch_post(db *d, ledger_batch *b, int *posted, err *e)
{
    arrays pr = {0};
    int *wire = NULL, nwire = 0, created = 0, unresolved = 0;
    db_res *r = NULL;
    status s;

    /* A batch posted before (say in a transaction that rolled back) is
     * posted afresh: reversals and accounts are read again. */
    b->npostings = b->nposted_by_caller;
    for (int i = 0; i < b->nentries; i++) {
        b->entries[i].id = 0;
        b->entries[i].skip = false;
        b->entries[i].wire = 0;
    }
    for (int i = 0; i < b->npostings; i++)
        if (!b->postings[i].by_id)
            b->postings[i].account_id = 0;
    if (b->nentries == 0)
        goto done;
    if ((s = check_unique(b, e)) != ST_OK ||
        (s = expand_reversals(d, b, &pr, e)) != ST_OK ||
        (s = check_entries(b, e)) != ST_OK ||
        (s = resolve_accounts(d, b, &pr, e)) != ST_OK)
        goto out;
    wire = malloc((size_t)b->nentries * sizeof(*wire));
    if (wire == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    arrays_start(&pr, 4);
    for (int i = 0; i < b->nentries; i++) {
        if (b->entries[i].skip)
            continue;
        wire[nwire] = i;
        b->entries[i].wire = ++nwire;
        arr_text(&pr.text[0], str_at(b, b->entries[i].key));
    }
    for (int i = 0; i < b->npostings; i++) {
        const batch_posting *p = &b->postings[i];

        if (b->entries[p->entry].skip)
            continue;
        arr_i64(&pr.text[1], b->entries[p->entry].wire);
        arr_i64(&pr.text[2], p->account_id);
        arr_i64(&pr.text[3], p->amount_minor);
    }
    if (nwire == 0)
        goto done;
    if ((s = arrays_end(&pr, e)) != ST_OK)
        goto out;
    /* A second run settles the keys a concurrent poster committed after
     * the first run's snapshot (see ledger_post.sql). */
    for (int attempt = 0; attempt < 2; attempt++) {
        s = db_run(d, &billing_sql_ledger_post, pr.v, &r, e);
        if (s != ST_OK) {
            err_wrap(e, "post %d ledger entries", nwire);
            goto out;
        }
        s = take_results(b, r, wire, nwire, &created, &unresolved, e);
        db_res_free(r);
        r = NULL;
        if (s != ST_OK || unresolved == 0)
            break;
    }
    if (s == ST_OK && unresolved > 0)
        s = err_set(e, ST_INTERNAL,
                    "%d ledger entries were neither inserted nor found",
                    unresolved);
    if (s != ST_OK)
        goto out;
done:
    if (posted != NULL)
        *posted = created;
    s = ST_OK;
out:
    /* Reversal postings are read afresh by every post. */
    b->npostings = b->nposted_by_caller;
    db_res_free(r);
    arrays_free(&pr);
    free(wire);
    return s;
}

status ledger_post(db *d, const char *key, const ledger_posting *p, int n,
                   int64_t *entry_id, err *e)
{
    ledger_batch *b = NULL;
    status s;

    if ((s = key_check(key, e)) != ST_OK)
        return s;
    if (n < 2 || n > LEDGER_POSTINGS_MAX)
        return err_set(e, ST_INVALID,
                       "ledger entry %s has %d postings; it needs 2 to %d", key,
                       n, LEDGER_POSTINGS_MAX);
    if ((s = ledger_batch_create(&b, e)) != ST_OK)
        return s;
    s = ledger_batch_entry(b, key, e);
    for (int i = 0; i < n && s == ST_OK; i++)
        s = ledger_batch_add_account(b, p[i].account_id, p[i].amount_minor, e);
    if (s == ST_OK)
        s = ledger_batch_post(d, b, NULL, e);
    if (s == ST_OK)
        *entry_id = ledger_batch_id(b, 0);
    ledger_batch_destroy(b);
    return s;
}

status ledger_reverse(db *d, const char *orig_key, const char *new_key,
                      int64_t *entry_id, err *e)
{
    ledger_batch *b = NULL;
    status s;

    if ((s = ledger_batch_create(&b, e)) != ST_OK)
        return s;
    s = ledger_batch_reverse(b, orig_key, new_key, false, e);
    if (s == ST_OK)
        s = ledger_batch_post(d, b, NULL, e);
    if (s == ST_OK)
        *entry_id = ledger_batch_id(b, 0);
    ledger_batch_destroy(b);
    return s;
}

/* ---- accounts ---- */

status ledger_account_ensure(db *d, const char *party, ledger_kind kind,
                             const char *currency, int64_t *id, err *e)
{
    ledger_batch *b = NULL;
    arrays pr = {0};
    status s;

    /* A one-posting entry that is never posted: the batch checks the
     * arguments and resolves the account as for any posting. */
    if ((s = ledger_batch_create(&b, e)) != ST_OK)
        return s;
    if ((s = ledger_batch_entry(b, "account", e)) != ST_OK ||
        (s = ledger_batch_add(b, party, kind, currency, 1, e)) != ST_OK ||
        (s = resolve_accounts(d, b, &pr, e)) != ST_OK)
        goto out;
    *id = b->postings[0].account_id;
out:
    arrays_free(&pr);
    ledger_batch_destroy(b);
    return s;
}

/* ---- reports ---- */

status ledger_balances(db *d, const char *party, ledger_balance **rows, int *n,
                       err *e)
{
    const char *params[1] = {party};
    ledger_balance *out = NULL;
    db_res *r = NULL;
    int rows_n = 0;
    status s;

    s = db_run(d, &billing_sql_ledger_balances, params, &r, e);
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
        out[i].account_id = db_i64(r, i, BILLING_LEDGER_BALANCES_ACCOUNT_ID);
        snprintf(out[i].party, sizeof(out[i].party), "%s",
                 db_val(r, i, BILLING_LEDGER_BALANCES_PARTY));
        s = ledger_kind_parse(db_val(r, i, BILLING_LEDGER_BALANCES_KIND),
                              &out[i].kind, e);
        if (s != ST_OK)
            goto out;
        snprintf(out[i].currency, sizeof(out[i].currency), "%s",
                 db_val(r, i, BILLING_LEDGER_BALANCES_CURRENCY));
        out[i].balance_minor =
            db_i64(r, i, BILLING_LEDGER_BALANCES_BALANCE_MINOR);
    }
    *rows = out;
    *n = rows_n;
    out = NULL;
out:
    free(out);
    db_res_free(r);
    return s;
}

status ledger_trial_balance(db *d, ledger_trial_row **rows, int *n, err *e)
{
    ledger_trial_row *out = NULL;
    db_res *r = NULL;
    int rows_n = 0;
    status s;

    s = db_run(d, &billing_sql_ledger_trial_balance, NULL, &r, e);
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
                 db_val(r, i, BILLING_LEDGER_TRIAL_BALANCE_CURRENCY));
        out[i].debit_minor =
            db_i64(r, i, BILLING_LEDGER_TRIAL_BALANCE_DEBIT_MINOR);
        out[i].credit_minor =
            db_i64(r, i, BILLING_LEDGER_TRIAL_BALANCE_CREDIT_MINOR);
        out[i].net_minor = db_i64(r, i, BILLING_LEDGER_TRIAL_BALANCE_NET_MINOR);
        out[i].accounts = db_i64(r, i, BILLING_LEDGER_TRIAL_BALANCE_ACCOUNTS);
    }
    *rows = out;
    *n = rows_n;
    out = NULL;
out:
    free(out);
    db_res_free(r);
    return s;
}
