#include "audit.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "ids.h"

static const char record_label[] = "twinline audit v1";
static const char checkpoint_label[] = "twinline audit checkpoint v1";
static const unsigned char zero_hash[AUDIT_HASH_BYTES];

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (56 - 8 * i));
}

static void hash_u64(crypto_hash_sha256_state *st, uint64_t v)
{
    unsigned char b[8];

    put_u64(b, v);
    crypto_hash_sha256_update(st, b, sizeof(b));
}

static void hash_str(crypto_hash_sha256_state *st, const char *s)
{
    size_t n = strlen(s);
    unsigned char b[4];

    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)((uint32_t)n >> (24 - 8 * i));
    crypto_hash_sha256_update(st, b, sizeof(b));
    crypto_hash_sha256_update(st, (const unsigned char *)s, n);
}

/* Printable ASCII or UTF-8 without control characters, 1..max bytes
 * (0..max when empty_ok). */
static bool text_ok(const char *s, size_t max, bool empty_ok)
{
    size_t n;

    if (s == NULL)
        return false;
    n = strnlen(s, max + 1);
    if (n > max || (n == 0 && !empty_ok))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static bool action_ok(const char *s)
{
    size_t n = s != NULL ? strnlen(s, AUDIT_ACTION_MAX + 1) : 0;

    if (n == 0 || n > AUDIT_ACTION_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '.' || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

status audit_record_check(const audit_record *r, err *e)
{
    json_t *d;
    json_error_t je;
    size_t dn;

    if (r->seq <= 0)
        return err_set(e, ST_INVALID, "audit seq starts at 1, not %" PRId64,
                       r->seq);
    if (!text_ok(r->party, AUDIT_PARTY_MAX, false))
        return err_set(e, ST_INVALID,
                       "audit record %" PRId64 ": party must be 1-%d "
                       "characters without control characters",
                       r->seq, AUDIT_PARTY_MAX);
    if (r->identity == NULL ||
        (!ids_token_valid(r->identity) && strcmp(r->identity, "-") != 0))
        return err_set(e, ST_INVALID,
                       "audit record %" PRId64 ": identity must be an "
                       "identity id or \"-\"",
                       r->seq);
    if (!action_ok(r->action))
        return err_set(e, ST_INVALID,
                       "audit record %" PRId64 ": action must be 1-%d of "
                       "a-z, 0-9, '.', '_', '-'",
                       r->seq, AUDIT_ACTION_MAX);
    if (!text_ok(r->subjects, AUDIT_SUBJECTS_MAX, true))
        return err_set(e, ST_INVALID,
                       "audit record %" PRId64 ": subjects must be at most "
                       "%d characters without control characters",
                       r->seq, AUDIT_SUBJECTS_MAX);
    dn = r->details != NULL ? strnlen(r->details, AUDIT_DETAILS_MAX + 1) : 0;
    if (dn > AUDIT_DETAILS_MAX)
        return err_set(e, ST_TOO_LARGE,
                       "audit record %" PRId64 ": details are over %d bytes",
                       r->seq, AUDIT_DETAILS_MAX);
    d = r->details != NULL
            ? json_loadb(r->details, dn, JSON_REJECT_DUPLICATES, &je)
            : NULL;
    if (!json_is_object(d)) {
        json_decref(d);
        return err_set(e, ST_INVALID,
                       "audit record %" PRId64 ": details must be a JSON "
                       "object",
                       r->seq);
    }
    json_decref(d);
    return ST_OK;
}

void audit_hash(const audit_record *r, unsigned char out[AUDIT_HASH_BYTES])
{
    crypto_hash_sha256_state st;

    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)record_label,
                              sizeof(record_label));
    hash_u64(&st, (uint64_t)r->seq);
    hash_u64(&st, (uint64_t)r->at_us);
    hash_str(&st, r->party);
    hash_str(&st, r->identity);
    hash_str(&st, r->action);
    hash_str(&st, r->subjects);
    hash_str(&st, r->details);
    crypto_hash_sha256_update(&st, r->prev, AUDIT_HASH_BYTES);
    crypto_hash_sha256_final(&st, out);
}

status audit_link(audit_record *r, const unsigned char *prev, err *e)
{
    status s = audit_record_check(r, e);

    if (s != ST_OK)
        return s;
    memcpy(r->prev, prev != NULL ? prev : zero_hash, AUDIT_HASH_BYTES);
    audit_hash(r, r->hash);
    return ST_OK;
}

status audit_details_canonical(const char *json, char **out, err *e)
{
    json_error_t je;
    json_t *v;
    char *s;
    size_t n = json != NULL ? strnlen(json, AUDIT_DETAILS_MAX + 1) : 0;

    if (n > AUDIT_DETAILS_MAX)
        return err_set(e, ST_TOO_LARGE, "audit details are over %d bytes",
                       AUDIT_DETAILS_MAX);
    v = json_loadb(json != NULL ? json : "", n, JSON_REJECT_DUPLICATES, &je);
    if (v == NULL)
        return err_set(e, ST_BAD_JSON,
                       "audit details are not JSON: %s (line %d, column %d)",
                       je.text, je.line, je.column);
    if (!json_is_object(v)) {
        json_decref(v);
        return err_set(e, ST_WRONG_TYPE, "audit details must be a JSON object");
    }
    s = json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(v);
    if (s == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    if (strlen(s) > AUDIT_DETAILS_MAX) {
        free(s);
        return err_set(e, ST_TOO_LARGE, "audit details are over %d bytes",
                       AUDIT_DETAILS_MAX);
    }
    *out = s;
    return ST_OK;
}

/* What a checkpoint signs. */
static size_t checkpoint_msg(unsigned char *m, int64_t seq,
                             const unsigned char *hash, int64_t at_us)
{
    size_t n = sizeof(checkpoint_label);

    memcpy(m, checkpoint_label, n);
    put_u64(m + n, (uint64_t)seq);
    n += 8;
    memcpy(m + n, hash, AUDIT_HASH_BYTES);
    n += AUDIT_HASH_BYTES;
    put_u64(m + n, (uint64_t)at_us);
    return n + 8;
}

#define CP_MSG_MAX (sizeof(checkpoint_label) + 16 + AUDIT_HASH_BYTES)

status audit_checkpoint_sign(const nkey *key, int64_t seq,
                             const unsigned char hash[AUDIT_HASH_BYTES],
                             int64_t at_us, audit_checkpoint *out, err *e)
{
    unsigned char m[CP_MSG_MAX];
    audit_checkpoint c;
    status s;

    memset(&c, 0, sizeof(c));
    c.seq = seq;
    memcpy(c.hash, hash, AUDIT_HASH_BYTES);
    c.at_us = at_us;
    snprintf(c.signer, sizeof(c.signer), "%s", nkey_public(key));
    s = nkey_sign(key, m, checkpoint_msg(m, seq, hash, at_us), c.sig, e);
    if (s != ST_OK)
        return s;
    *out = c;
    return ST_OK;
}

bool audit_checkpoint_valid(const audit_checkpoint *c)
{
    unsigned char m[CP_MSG_MAX];

    return nkey_verify(c->signer, m,
                       checkpoint_msg(m, c->seq, c->hash, c->at_us), c->sig);
}

const char *audit_fault_name(audit_fault f)
{
    static const char *const names[] = {
        "changed", "rewritten",  "inserted",      "deleted",
        "broken",  "checkpoint", "bad_signature",
    };

    if ((unsigned)f >= sizeof(names) / sizeof(names[0]))
        return "unknown";
    return names[f];
}

/* ---- verification ----------------------------------------------------- */

static void add(audit_report *rep, audit_fault f, int64_t seq, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));

static void add(audit_report *rep, audit_fault f, int64_t seq, const char *fmt,
                ...)
{
    va_list ap;

    if (rep->nfindings < AUDIT_FINDINGS_MAX) {
        audit_finding *x = &rep->findings[rep->nfindings];
        x->fault = f;
        x->seq = seq;
        x->last = seq;
        va_start(ap, fmt);
        vsnprintf(x->msg, sizeof(x->msg), fmt, ap);
        va_end(ap);
    }
    rep->nfindings++;
}

/* Record seq was rewritten; a run of them (records renumbered after an
 * insertion or deletion) is one finding. */
static void rewritten(audit_report *rep, int64_t seq)
{
    audit_finding *last =
        rep->nfindings > 0 && rep->nfindings <= AUDIT_FINDINGS_MAX
            ? &rep->findings[rep->nfindings - 1]
            : NULL;

    if (last != NULL && last->fault == AUDIT_REWRITTEN &&
        last->last == seq - 1) {
        last->last = seq;
        snprintf(last->msg, sizeof(last->msg),
                 "records seq %" PRId64 " to %" PRId64 " were rewritten with "
                 "new hashes (renumbered after an insertion or deletion?): "
                 "the records after them do not point to them",
                 last->seq, seq);
        return;
    }
    add(rep, AUDIT_REWRITTEN, seq,
        "record seq %" PRId64 " was rewritten with a new hash (or records "
        "were deleted there and the rest renumbered): seq %" PRId64
        " does not point to it",
        seq, seq + 1);
}

static void fmt_time(int64_t at_us, char *buf, size_t cap)
{
    time_t t = (time_t)(at_us / 1000000);
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL ||
        strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, cap, "%" PRId64 " us", at_us);
}

static bool trusted(const char *signer, const char *const *signers, size_t ns)
{
    for (size_t i = 0; i < ns; i++)
        if (strcmp(signers[i], signer) == 0)
            return true;
    return false;
}

static int by_seq(const void *a, const void *b)
{
    const audit_checkpoint *x = *(const audit_checkpoint *const *)a;
    const audit_checkpoint *y = *(const audit_checkpoint *const *)b;

    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Compare the chain hash of the record with seq s (comp) with every valid
 * checkpoint at s; *next indexes the sorted checkpoints. */
static void check_points(const audit_checkpoint **cps, size_t nc, size_t *next,
                         int64_t seq, const unsigned char *comp,
                         int64_t *last_match, audit_report *rep)
{
    char when[40];

    while (*next < nc && cps[*next]->seq <= seq) {
        const audit_checkpoint *c = cps[(*next)++];

        if (c->seq < seq)
            continue; /* its record is missing: reported as deleted */
        fmt_time(c->at_us, when, sizeof(when));
        if (sodium_memcmp(c->hash, comp, AUDIT_HASH_BYTES) == 0) {
            *last_match = seq;
            if (seq > rep->vouched)
                rep->vouched = seq;
            continue;
        }
        add(rep, AUDIT_CHECKPOINT, seq,
            "the chain up to seq %" PRId64 " differs from the checkpoint "
            "signed %s: records after seq %" PRId64 " up to %" PRId64
            " were changed, inserted or deleted and the hashes recomputed",
            seq, when, *last_match, seq);
    }
}

bool audit_verify(const audit_record *r, size_t n, const audit_checkpoint *c,
                  size_t nc, const char *const *signers, size_t ns,
                  audit_report *out)
{
    const audit_checkpoint **cps = NULL;
    unsigned char prev_good[AUDIT_HASH_BYTES];
    unsigned char prev2[AUDIT_HASH_BYTES]; /* chain hash two records back */
    unsigned char comp[AUDIT_HASH_BYTES];
    int64_t expected = 1, last_match = 0;
    size_t nvalid = 0, next = 0;
    bool prev_consistent = false, have_prev2 = false;

    memset(out, 0, sizeof(*out));
    memcpy(prev_good, zero_hash, sizeof(prev_good));
    /* Only checkpoints a trusted signer signed count. */
    cps = nc > 0 ? calloc(nc, sizeof(*cps)) : NULL;
    for (size_t i = 0; i < nc; i++) {
        if (!trusted(c[i].signer, signers, ns))
            add(out, AUDIT_BAD_SIGNATURE, c[i].seq,
                "the checkpoint at seq %" PRId64 " is signed by %.56s, which "
                "is not a trusted audit key",
                c[i].seq, c[i].signer);
        else if (!audit_checkpoint_valid(&c[i]))
            add(out, AUDIT_BAD_SIGNATURE, c[i].seq,
                "the checkpoint at seq %" PRId64 " has an invalid signature: "
                "it was changed or forged",
                c[i].seq);
        else if (cps != NULL)
            cps[nvalid++] = &c[i];
    }
    if (nvalid > 1)
        qsort(cps, nvalid, sizeof(*cps), by_seq);

    for (size_t i = 0; i < n; i++) {
        const audit_record *x = &r[i];
        bool valid = audit_record_check(x, NULL) == ST_OK;
        bool gap = false;

        if (valid)
            audit_hash(x, comp);
        else
            memcpy(comp, x->hash, sizeof(comp));
        out->records++;
        if (x->seq < expected) {
            /* A second record with a seq already seen. */
            bool next_links_here =
                i + 1 < n &&
                sodium_memcmp(r[i + 1].prev, x->hash, AUDIT_HASH_BYTES) == 0;
            if (next_links_here && x->seq == expected - 1) {
                add(out, AUDIT_INSERTED, x->seq,
                    "seq %" PRId64 " appears twice and the chain goes on from "
                    "the second: the first was inserted",
                    x->seq);
                memcpy(prev_good, x->hash, sizeof(prev_good));
            } else {
                add(out, AUDIT_INSERTED, x->seq,
                    "a record with seq %" PRId64 " comes after seq %" PRId64
                    ": it was inserted",
                    x->seq, expected - 1);
            }
            continue;
        }
        if (x->seq > expected) {
            gap = true;
            add(out, AUDIT_DELETED, expected,
                "records %" PRId64 " to %" PRId64 " are missing: they were "
                "deleted",
                expected, x->seq - 1);
        }
        if (!valid || sodium_memcmp(comp, x->hash, AUDIT_HASH_BYTES) != 0) {
            add(out, AUDIT_CHANGED, x->seq,
                "record seq %" PRId64 " was changed after it was written: its "
                "content no longer matches its hash",
                x->seq);
        } else if (!gap &&
                   sodium_memcmp(x->prev, prev_good, AUDIT_HASH_BYTES) != 0) {
            if (have_prev2 &&
                sodium_memcmp(x->prev, prev2, AUDIT_HASH_BYTES) == 0)
                add(out, AUDIT_INSERTED, x->seq - 1,
                    "record seq %" PRId64 " was inserted: seq %" PRId64
                    " points past it to the record before",
                    x->seq - 1, x->seq);
            else if (prev_consistent)
                rewritten(out, x->seq - 1);
            else
                add(out, AUDIT_BROKEN, x->seq,
                    "the chain breaks before seq %" PRId64, x->seq);
        }
        /* The chain goes on from the hash stored with the record: a record
         * whose content changed is reported once, not again at the next. */
        check_points(cps, nvalid, &next, x->seq, x->hash, &last_match, out);
        memcpy(prev2, prev_good, sizeof(prev2));
        have_prev2 = true;
        memcpy(prev_good, x->hash, sizeof(prev_good));
        prev_consistent =
            valid && sodium_memcmp(comp, x->hash, AUDIT_HASH_BYTES) == 0;
        out->last_seq = x->seq;
        expected = x->seq + 1;
    }
    /* Checkpoints past the end vouch for records that are gone. */
    if (next < nvalid)
        add(out, AUDIT_DELETED, out->last_seq + 1,
            "records after seq %" PRId64 " are missing: a signed checkpoint "
            "vouches for seq %" PRId64,
            out->last_seq, cps[nvalid - 1]->seq);
    free(cps);
    return out->nfindings == 0;
}
