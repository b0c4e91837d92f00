#include "auditlog.h"

#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "common_sql.h"
#include "sbuf.h"

#define PAGE_ROWS 5000 /* records read per statement */

/* ---- who ---- */

void auditlog_who_set(auditlog_who *w, const char *role, const char *id,
                      const char *identity)
{
    const char *r = role != NULL && role[0] != '\0' ? role : "unknown";

    if (id == NULL || id[0] == '\0')
        snprintf(w->party, sizeof(w->party), "%.64s", r);
    else
        snprintf(w->party, sizeof(w->party), "%.64s:%s", r,
                 ids_token_valid(id) ? id : "?");
    snprintf(w->identity, sizeof(w->identity), "%s",
             identity != NULL && ids_token_valid(identity) ? identity : "-");
}

void auditlog_who_admin(auditlog_who *w)
{
    const char *login = getenv("USER");
    struct passwd pw, *found = NULL;
    char buf[1024];

    /* The account the command runs as; $USER only when it agrees (or
     * the account has no entry), since anyone can set it. */
    if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &found) == 0 &&
        found != NULL && (login == NULL || strcmp(login, found->pw_name) != 0))
        login = found->pw_name;
    auditlog_who_set(w, "admin", login, NULL);
}

/* ---- appending ---- */

struct auditlog_batch {
    sbuf party, identity, action, subjects, details;
    int n;
};

status auditlog_batch_create(auditlog_batch **out, err *e)
{
    auditlog_batch *b = calloc(1, sizeof(*b));

    if (b == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    *out = b;
    return ST_OK;
}

void auditlog_batch_clear(auditlog_batch *b)
{
    sbuf_reset(&b->party);
    sbuf_reset(&b->identity);
    sbuf_reset(&b->action);
    sbuf_reset(&b->subjects);
    sbuf_reset(&b->details);
    b->n = 0;
}

void auditlog_batch_destroy(auditlog_batch *b)
{
    if (b == NULL)
        return;
    sbuf_free(&b->party);
    sbuf_free(&b->identity);
    sbuf_free(&b->action);
    sbuf_free(&b->subjects);
    sbuf_free(&b->details);
    free(b);
}

int auditlog_batch_count(const auditlog_batch *b)
{
    return b->n;
}

/* Append one element to an array literal being built ("{a","b"...). */
static void elem(sbuf *s, int n, const char *v)
{
    sbuf_append(s, n > 0 ? "," : "{", 1);
    sbuf_pg_elem(s, v);
}

status auditlog_batch_add(auditlog_batch *b, const auditlog_who *who,
                          const char *action, const char *subjects,
                          const char *details, err *e)
{
    audit_record r;
    char *canon = NULL;
    status s = audit_details_canonical(details, &canon, e);

    if (s != ST_OK)
        return s;
    memset(&r, 0, sizeof(r));
    r.seq = 1; /* any: the database numbers it */
    r.party = who->party;
    r.identity = who->identity;
    r.action = action;
    r.subjects = subjects != NULL ? subjects : "";
    r.details = canon;
    s = audit_record_check(&r, e);
    if (s == ST_OK) {
        elem(&b->party, b->n, r.party);
        elem(&b->identity, b->n, r.identity);
        elem(&b->action, b->n, r.action);
        elem(&b->subjects, b->n, r.subjects);
        elem(&b->details, b->n, r.details);
        b->n++;
    }
    free(canon);
    return s;
}

status auditlog_batch_append(auditlog_batch *b, db *d, err *e)
{
    sbuf *arrays[5] = {&b->party, &b->identity, &b->action, &b->subjects,
                       &b->details};
    const char *p[5];
    status s;

    if (b->n == 0)
        return ST_OK;
    for (int i = 0; i < 5; i++) {
        sbuf tmp = {0};

        /* Closed on a copy, so that a failed append leaves b as it was. */
        sbuf_append(&tmp, sbuf_str(arrays[i]), arrays[i]->len);
        sbuf_append(&tmp, "}", 1);
        if (tmp.failed || arrays[i]->failed) {
            sbuf_free(&tmp);
            for (int k = 0; k < i; k++)
                free((char *)p[k]);
            return err_set(e, ST_NOMEM, "out of memory");
        }
        p[i] = sbuf_take(&tmp);
    }
    s = db_run(d, &common_sql_auditlog_append, p, NULL, e);
    for (int i = 0; i < 5; i++)
        free((char *)p[i]);
    if (s != ST_OK)
        return err_wrap(e, "append %d audit record%s", b->n,
                        b->n == 1 ? "" : "s");
    auditlog_batch_clear(b);
    return ST_OK;
}

status auditlog_append(db *d, const auditlog_who *who, const char *action,
                       const char *subjects, const char *details, err *e)
{
    auditlog_batch b;
    status s;

    memset(&b, 0, sizeof(b));
    s = auditlog_batch_add(&b, who, action, subjects, details, e);
    if (s == ST_OK)
        s = auditlog_batch_append(&b, d, e);
    sbuf_free(&b.party);
    sbuf_free(&b.identity);
    sbuf_free(&b.action);
    sbuf_free(&b.subjects);
    sbuf_free(&b.details);
    return s;
}

/* ---- reading ---- */

/* A bytea value as libpq's text form gives it ("\x" and hex) into b[n]. */
static bool unhex(const char *text, unsigned char *b, size_t n)
{
    size_t got = 0;

    return strncmp(text, "\\x", 2) == 0 &&
           sodium_hex2bin(b, n, text + 2, strlen(text + 2), NULL, &got, NULL) ==
               0 &&
           got == n && text[2 + 2 * n] == '\0';
}

/* "\x" and the hex of b[n] into out (2n + 3 bytes). */
static void hex_of(const unsigned char *b, size_t n, char *out)
{
    out[0] = '\\';
    out[1] = 'x';
    sodium_bin2hex(out + 2, n * 2 + 1, b, n);
}

/*
 * Row i of an auditlog_records result as a record (strings borrowed from
 * res). A hash column that is not 32 bytes reads as zeros, so the record
 * is reported as changed instead of stopping the verification.
 */
static void record_of(const db_res *res, int i, audit_record *r)
{
    memset(r, 0, sizeof(*r));
    r->seq = db_i64(res, i, COMMON_AUDITLOG_RECORDS_SEQ);
    r->at_us = db_i64(res, i, COMMON_AUDITLOG_RECORDS_AT_US);
    r->party = db_val(res, i, COMMON_AUDITLOG_RECORDS_PARTY);
    r->identity = db_val(res, i, COMMON_AUDITLOG_RECORDS_IDENTITY);
    r->action = db_val(res, i, COMMON_AUDITLOG_RECORDS_ACTION);
    r->subjects = db_val(res, i, COMMON_AUDITLOG_RECORDS_SUBJECTS);
    r->details = db_val(res, i, COMMON_AUDITLOG_RECORDS_DETAILS);
    if (!unhex(db_val(res, i, COMMON_AUDITLOG_RECORDS_PREV_HASH), r->prev,
               AUDIT_HASH_BYTES))
        memset(r->prev, 0, sizeof(r->prev));
    if (!unhex(db_val(res, i, COMMON_AUDITLOG_RECORDS_HASH), r->hash,
               AUDIT_HASH_BYTES))
        memset(r->hash, 0, sizeof(r->hash));
}

/* Row i of an auditlog_checkpoints (or _last) result; false when a field
 * is malformed. */
static bool checkpoint_of(const db_res *res, int i, audit_checkpoint *c)
{
    memset(c, 0, sizeof(*c));
    c->seq = db_i64(res, i, COMMON_AUDITLOG_CHECKPOINTS_SEQ);
    c->at_us = db_i64(res, i, COMMON_AUDITLOG_CHECKPOINTS_AT_US);
    snprintf(c->signer, sizeof(c->signer), "%s",
             db_val(res, i, COMMON_AUDITLOG_CHECKPOINTS_SIGNER));
    return unhex(db_val(res, i, COMMON_AUDITLOG_CHECKPOINTS_HASH), c->hash,
                 AUDIT_HASH_BYTES) &&
           unhex(db_val(res, i, COMMON_AUDITLOG_CHECKPOINTS_SIGNATURE), c->sig,
                 NKEY_SIG_BYTES);
}

/* Up to PAGE_ROWS records after seq into *res. */
static status read_page(db *d, int64_t after, db_res **res, err *e)
{
    char abuf[24], nbuf[24];
    const char *p[2] = {db_i64_str(abuf, after), db_i64_str(nbuf, PAGE_ROWS)};

    return db_run(d, &common_sql_auditlog_records, p, res, e);
}

/* ---- checkpoints ---- */

status auditlog_key_create(const char *path, const char *signer, char *pub,
                           err *e)
{
    char pubpath[4096];
    nkey *k = NULL;
    FILE *f = NULL;
    status s;

    if (snprintf(pubpath, sizeof(pubpath), "%s.pub", path) >=
        (int)sizeof(pubpath))
        return err_set(e, ST_INVALID, "key path is too long");
    s = nkey_generate(&k, e);
    if (s == ST_OK)
        s = nkey_creds_write(path, k, signer, AUDITLOG_KEY_ROLE, signer, e);
    if (s != ST_OK)
        goto out;
    f = fopen(pubpath, "w");
    if (f == NULL || fprintf(f, "%s\n", nkey_public(k)) < 0) {
        s = err_set(e, ST_IO, "write %s", pubpath);
        goto out;
    }
    snprintf(pub, NKEY_PUBLIC_LEN + 1, "%s", nkey_public(k));
out:
    if (f != NULL && fclose(f) != 0 && s == ST_OK)
        s = err_set(e, ST_IO, "write %s", pubpath);
    nkey_destroy(k);
    return s;
}

status auditlog_key_load(const char *path, nkey **out, err *e)
{
    nkey_creds c;
    status s = nkey_creds_read(path, &c, e);

    if (s != ST_OK)
        return s;
    if (strcmp(c.role, AUDITLOG_KEY_ROLE) != 0) {
        s = err_set(e, ST_CONFIG,
                    "%s holds a key of role %s, not an audit signing key; "
                    "make one with: twinline audit keygen --out FILE",
                    path, c.role);
        nkey_creds_clear(&c);
        return s;
    }
    *out = c.key;
    c.key = NULL;
    nkey_creds_clear(&c);
    return ST_OK;
}

/*
 * Where key's previous checkpoint leaves the chain: its seq and hash, or
 * 0 and zeros when it has none. A previous checkpoint whose signature
 * does not hold is refused: the table was written by someone else.
 */
static status last_checkpoint(db *d, const nkey *key, int64_t *seq,
                              unsigned char hash[AUDIT_HASH_BYTES], err *e)
{
    const char *p[1] = {nkey_public(key)};
    audit_checkpoint c;
    db_res *r = NULL;
    status s = db_run(d, &common_sql_auditlog_checkpoint_last, p, &r, e);

    *seq = 0;
    memset(hash, 0, AUDIT_HASH_BYTES);
    if (s != ST_OK || db_rows(r) == 0)
        goto out;
    if (!checkpoint_of(r, 0, &c) || !audit_checkpoint_valid(&c)) {
        s = err_set(e, ST_INVALID,
                    "the newest audit checkpoint of key %.56s (seq %" PRId64
                    ") does not carry its valid signature: the checkpoints "
                    "were tampered with; run: twinline audit verify",
                    nkey_public(key), c.seq);
        goto out;
    }
    *seq = c.seq;
    memcpy(hash, c.hash, AUDIT_HASH_BYTES);
out:
    db_res_free(r);
    return s;
}

/* Check the records after seq from hash on, up to the end; *last and
 * last_hash receive the newest. */
static status check_forward(db *d, int64_t seq,
                            const unsigned char hash[AUDIT_HASH_BYTES],
                            int64_t *last, unsigned char *last_hash,
                            int64_t *checked, err *e)
{
    unsigned char prev[AUDIT_HASH_BYTES], comp[AUDIT_HASH_BYTES];
    int64_t at = seq;
    bool anchor = seq > 0; /* the checkpoint's record is read to compare */
    status s = ST_OK;

    *checked = 0;
    memcpy(prev, hash, sizeof(prev));
    for (;;) {
        db_res *r = NULL;
        int n;

        s = read_page(d, anchor ? at - 1 : at, &r, e);
        n = s == ST_OK ? db_rows(r) : 0;
        for (int i = 0; s == ST_OK && i < n; i++) {
            audit_record x;

            record_of(r, i, &x);
            if (anchor) {
                anchor = false;
                if (x.seq != seq ||
                    sodium_memcmp(x.hash, hash, AUDIT_HASH_BYTES) != 0)
                    s = err_set(e, ST_INVALID,
                                "audit record seq %" PRId64 " no longer "
                                "matches the checkpoint signed over it",
                                seq);
                continue;
            }
            if (x.seq != at + 1)
                s = err_set(e, ST_INVALID,
                            "audit record seq %" PRId64 " follows seq "
                            "%" PRId64 ": records are missing",
                            x.seq, at);
            else if (audit_record_check(&x, NULL) != ST_OK ||
                     (audit_hash(&x, comp),
                      sodium_memcmp(comp, x.hash, AUDIT_HASH_BYTES) != 0))
                s = err_set(e, ST_INVALID,
                            "audit record seq %" PRId64 " does not match "
                            "its hash",
                            x.seq);
            else if (sodium_memcmp(x.prev, prev, AUDIT_HASH_BYTES) != 0)
                s = err_set(e, ST_INVALID,
                            "audit record seq %" PRId64 " does not link to "
                            "seq %" PRId64,
                            x.seq, at);
            if (s != ST_OK)
                break;
            at = x.seq;
            memcpy(prev, x.hash, sizeof(prev));
            (*checked)++;
        }
        db_res_free(r);
        if (s != ST_OK || n < PAGE_ROWS)
            break;
    }
    if (s == ST_OK && anchor)
        s = err_set(e, ST_INVALID,
                    "audit record seq %" PRId64 ", which a checkpoint "
                    "vouches for, is missing",
                    seq);
    if (s != ST_OK)
        return err_wrap(e, "no checkpoint signed (run: twinline audit "
                           "verify)");
    *last = at;
    memcpy(last_hash, prev, AUDIT_HASH_BYTES);
    return ST_OK;
}

/* The database's clock, microseconds since 1970 UTC. */
static status db_now_us(db *d, int64_t *now, err *e)
{
    db_res *r = NULL;
    status s = db_run(d, &common_sql_auditlog_head, NULL, &r, e);

    if (s == ST_OK && db_rows(r) != 1)
        s = err_set(e, ST_DB,
                    "the audit head row is missing (is the "
                    "database migrated? run: twinline migrate)");
    if (s == ST_OK)
        *now = db_i64(r, 0, COMMON_AUDITLOG_HEAD_NOW_US);
    db_res_free(r);
    return s;
}

status auditlog_checkpoint(db *d, const nkey *key, auditlog_checkpointed *out,
                           err *e)
{
    unsigned char from[AUDIT_HASH_BYTES], head[AUDIT_HASH_BYTES];
    char seqbuf[24], atbuf[24], hhex[2 * AUDIT_HASH_BYTES + 3];
    char shex[2 * NKEY_SIG_BYTES + 3];
    auditlog_checkpointed res = {0};
    audit_checkpoint c;
    int64_t seq0 = 0, now = 0;
    status s = db_begin(d, e);

    if (s == ST_OK)
        s = last_checkpoint(d, key, &seq0, from, e);
    if (s == ST_OK)
        s = check_forward(d, seq0, from, &res.seq, head, &res.checked, e);
    if (s != ST_OK || res.seq == seq0)
        goto out;
    s = db_now_us(d, &now, e);
    if (s == ST_OK)
        s = audit_checkpoint_sign(key, res.seq, head, now, &c, e);
    if (s == ST_OK) {
        const char *p[5];

        hex_of(c.hash, AUDIT_HASH_BYTES, hhex);
        hex_of(c.sig, NKEY_SIG_BYTES, shex);
        p[0] = db_i64_str(seqbuf, c.seq);
        p[1] = hhex;
        p[2] = db_i64_str(atbuf, c.at_us);
        p[3] = c.signer;
        p[4] = shex;
        s = db_run(d, &common_sql_auditlog_checkpoint_insert, p, NULL, e);
    }
    res.signed_now = s == ST_OK;
    if (s == ST_CONFLICT) {
        /* Another signer vouched for the same record meanwhile. */
        db_rollback(d);
        *out = res;
        return ST_OK;
    }
out:
    if (s == ST_OK)
        s = db_commit(d, e);
    if (s != ST_OK) {
        db_rollback(d);
        return s;
    }
    *out = res;
    return ST_OK;
}

/* ---- verification ---- */

/* Add a finding of the head check to rep. */
static void head_finding(audit_report *rep, audit_fault f, int64_t seq,
                         const char *msg)
{
    if (rep->nfindings < AUDIT_FINDINGS_MAX) {
        audit_finding *x = &rep->findings[rep->nfindings];

        x->fault = f;
        x->seq = seq;
        x->last = seq;
        snprintf(x->msg, sizeof(x->msg), "%s", msg);
    }
    rep->nfindings++;
}

/* The head says which record was appended last: the trail must end
 * there. */
static status check_head(db *d, const audit_record *last, audit_report *rep,
                         err *e)
{
    unsigned char hash[AUDIT_HASH_BYTES];
    db_res *r = NULL;
    char msg[256];
    int64_t seq;
    status s = db_run(d, &common_sql_auditlog_head, NULL, &r, e);

    if (s != ST_OK || db_rows(r) != 1)
        goto out;
    seq = db_i64(r, 0, COMMON_AUDITLOG_HEAD_SEQ);
    if (!unhex(db_val(r, 0, COMMON_AUDITLOG_HEAD_HASH), hash, sizeof(hash)))
        memset(hash, 0, sizeof(hash));
    if (seq > rep->last_seq) {
        snprintf(msg, sizeof(msg),
                 "records %" PRId64 " to %" PRId64 " are missing: the "
                 "trail ends at seq %" PRId64 " but seq %" PRId64
                 " was appended last (audit_head)",
                 rep->last_seq + 1, seq, rep->last_seq, seq);
        head_finding(rep, AUDIT_DELETED, rep->last_seq + 1, msg);
    } else if (seq < rep->last_seq) {
        snprintf(msg, sizeof(msg),
                 "records after seq %" PRId64 " were not appended through "
                 "the chain's head (audit_head is at seq %" PRId64
                 "): they were inserted",
                 seq, seq);
        head_finding(rep, AUDIT_INSERTED, seq + 1, msg);
    } else if (last != NULL &&
               sodium_memcmp(hash, last->hash, AUDIT_HASH_BYTES) != 0) {
        snprintf(msg, sizeof(msg),
                 "the last record, seq %" PRId64 ", is not the one appended "
                 "last (audit_head holds another hash): it was replaced",
                 seq);
        head_finding(rep, AUDIT_CHANGED, seq, msg);
    }
out:
    db_res_free(r);
    return s;
}

status auditlog_verify(db *d, const char *const *signers, size_t ns,
                       audit_report *rep, err *e)
{
    audit_record *recs = NULL;
    audit_checkpoint *cps = NULL;
    db_res **pages = NULL, *cr = NULL;
    size_t n = 0, cap = 0, nc = 0;
    int npages = 0;
    int64_t after = 0;
    status s = db_begin_snapshot(d, e);

    /* Every record, page by page (the pages hold the strings), the
     * checkpoints and the head, as of one moment: appends meanwhile are
     * neither half seen nor mistaken for insertions. */
    for (; s == ST_OK;) {
        db_res *r = NULL, **np;
        int rows;

        if ((s = read_page(d, after, &r, e)) != ST_OK)
            goto out;
        rows = db_rows(r);
        np = realloc(pages, (size_t)(npages + 1) * sizeof(*np));
        if (np == NULL) {
            db_res_free(r);
            s = err_set(e, ST_NOMEM, "out of memory reading the audit trail");
            goto out;
        }
        pages = np;
        pages[npages++] = r;
        if (n + (size_t)rows > cap) {
            size_t ncap = cap * 2 + (size_t)rows;
            audit_record *nr = realloc(recs, ncap * sizeof(*nr));

            if (nr == NULL) {
                s = err_set(e, ST_NOMEM,
                            "out of memory reading the audit trail");
                goto out;
            }
            recs = nr;
            cap = ncap;
        }
        for (int i = 0; i < rows; i++)
            record_of(r, i, &recs[n++]);
        if (rows < PAGE_ROWS)
            break;
        after = recs[n - 1].seq;
    }
    if (s != ST_OK)
        goto out;
    if ((s = db_run(d, &common_sql_auditlog_checkpoints, NULL, &cr, e)) !=
        ST_OK)
        goto out;
    cps = calloc((size_t)db_rows(cr) + 1, sizeof(*cps));
    if (cps == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory reading the checkpoints");
        goto out;
    }
    /* A malformed row still counts: as a checkpoint with a bad
     * signature. */
    for (int i = 0; ns > 0 && i < db_rows(cr); i++)
        if (!checkpoint_of(cr, i, &cps[nc++]))
            memset(cps[nc - 1].sig, 0, NKEY_SIG_BYTES);
    audit_verify(recs, n, cps, nc, signers, ns, rep);
    s = check_head(d, n > 0 ? &recs[n - 1] : NULL, rep, e);
out:
    db_rollback(d);
    for (int i = 0; i < npages; i++)
        db_res_free(pages[i]);
    free(pages);
    free(recs);
    free(cps);
    db_res_free(cr);
    return s;
}
