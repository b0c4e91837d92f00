#include "keystore.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common_sql.h"
#include "ids.h"
#include "log.h"

#define MOD "keystore"

/* A data key the keyring holds, to skip its row at the next refresh. */
typedef struct held_key {
    char tenant[ID_MAX + 1];
    uint32_t key_id;
} held_key;

struct keystore {
    seal_kms kms;
    seal_keyring *ring;
    char path[KEYSTORE_SOURCE_MAX]; /* the key file; "" when none */
    char source[KEYSTORE_SOURCE_MAX];
    held_key *held;
    int nheld, cap_held;
    int warned_foreign; /* foreign keys last logged, to log changes once */
};

static status ring_new(keystore *ks, err *e)
{
    seal_keyring_destroy(ks->ring);
    ks->ring = NULL;
    ks->nheld = 0;
    return seal_keyring_create(&ks->ring, &ks->kms, e);
}

status keystore_create_kms(keystore **out, const seal_kms *kms, err *e)
{
    keystore *ks = calloc(1, sizeof(*ks));
    status s;

    if (ks == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    ks->kms = *kms;
    snprintf(ks->source, sizeof(ks->source), "master key %s",
             kms->id(kms->ctx));
    s = ring_new(ks, e);
    if (s != ST_OK) {
        keystore_destroy(ks);
        return s;
    }
    *out = ks;
    return ST_OK;
}

status keystore_create(keystore **out, const char *path, err *e)
{
    const char *file =
        path != NULL && path[0] != '\0' ? path : getenv(KEYSTORE_ENV_FILE);
    seal_kms kms = {0};
    keystore *ks = NULL;
    status s;

    if (file != NULL && file[0] != '\0')
        s = seal_kms_local_file(&kms, file, e);
    else if (getenv(KEYSTORE_ENV_KEY) != NULL)
        s = seal_kms_local_env(&kms, KEYSTORE_ENV_KEY, e);
    else
        return err_set(e, ST_CONFIG,
                       "no master key to seal customer data with: set %s to "
                       "a key file (make one with: twinline keys init FILE) "
                       "or %s to 64 hex characters (docs/security.md)",
                       KEYSTORE_ENV_FILE, KEYSTORE_ENV_KEY);
    if (s != ST_OK)
        return s;
    s = keystore_create_kms(&ks, &kms, e);
    if (s != ST_OK) {
        seal_kms_destroy(&kms);
        return s;
    }
    if (file != NULL && file[0] != '\0') {
        snprintf(ks->path, sizeof(ks->path), "%s", file);
        snprintf(ks->source, sizeof(ks->source), "master key %s from %.500s",
                 kms.id(kms.ctx), file);
    } else
        snprintf(ks->source, sizeof(ks->source), "master key %s from $%s",
                 kms.id(kms.ctx), KEYSTORE_ENV_KEY);
    *out = ks;
    return ST_OK;
}

void keystore_destroy(keystore *ks)
{
    if (ks == NULL)
        return;
    seal_keyring_destroy(ks->ring);
    seal_kms_destroy(&ks->kms);
    free(ks->held);
    free(ks);
}

const char *keystore_master_id(const keystore *ks)
{
    return ks->kms.id(ks->kms.ctx);
}

const char *keystore_source(const keystore *ks)
{
    return ks->source;
}

const seal_kms *keystore_kms(const keystore *ks)
{
    return &ks->kms;
}

uint32_t keystore_current(const keystore *ks, const char *tenant)
{
    return seal_keyring_current(ks->ring, tenant);
}

static bool held(const keystore *ks, const char *tenant, uint32_t key_id)
{
    for (int i = 0; i < ks->nheld; i++)
        if (ks->held[i].key_id == key_id &&
            strcmp(ks->held[i].tenant, tenant) == 0)
            return true;
    return false;
}

/* A row of keystore_keys as a seal_wrapped. */
static status row_wrapped(const db_res *r, int i, seal_wrapped *w, err *e)
{
    const char *hex = db_val(r, i, COMMON_KEYSTORE_KEYS_WRAPPED);
    int64_t id = db_i64(r, i, COMMON_KEYSTORE_KEYS_KEY_ID);

    memset(w, 0, sizeof(*w));
    snprintf(w->tenant, sizeof(w->tenant), "%s",
             db_val(r, i, COMMON_KEYSTORE_KEYS_TENANT_ID));
    snprintf(w->master_id, sizeof(w->master_id), "%s",
             db_val(r, i, COMMON_KEYSTORE_KEYS_MASTER_KEY_ID));
    w->key_id = (uint32_t)id;
    if (id <= 0 || id > UINT32_MAX ||
        sodium_hex2bin(w->blob, sizeof(w->blob), hex, strlen(hex), NULL,
                       &w->len, NULL) != 0)
        return err_set(e, ST_INVALID, "data key %lld of tenant %s is damaged",
                       (long long)id, w->tenant);
    return ST_OK;
}

static status hold(keystore *ks, const seal_wrapped *w, err *e)
{
    status s = seal_keyring_add(ks->ring, w, e);

    if (s != ST_OK)
        return err_wrap(e, "data key %u of tenant %s", (unsigned)w->key_id,
                        w->tenant);
    if (ks->nheld == ks->cap_held) {
        int ncap = ks->cap_held > 0 ? ks->cap_held * 2 : 16;
        held_key *n = realloc(ks->held, sizeof(*n) * (size_t)ncap);

        if (n == NULL)
            return err_set(e, ST_NOMEM, "out of memory");
        ks->held = n;
        ks->cap_held = ncap;
    }
    snprintf(ks->held[ks->nheld].tenant, sizeof(ks->held[0].tenant), "%s",
             w->tenant);
    ks->held[ks->nheld++].key_id = w->key_id;
    return ST_OK;
}

/*
 * The key file holds master key want now (a rotation replaced it): move
 * to it, dropping the data keys held under the old one.
 */
static status follow_file(keystore *ks, const char *want, bool *moved, err *e)
{
    seal_kms next = {0};
    err fe = {0};
    status s;

    *moved = false;
    if (ks->path[0] == '\0' ||
        seal_kms_local_file(&next, ks->path, &fe) != ST_OK)
        return ST_OK;
    if (strcmp(next.id(next.ctx), want) != 0) {
        seal_kms_destroy(&next);
        return ST_OK;
    }
    log_info(MOD, "%s now holds master key %s (was %s); using it", ks->path,
             want, keystore_master_id(ks));
    seal_keyring_destroy(ks->ring);
    ks->ring = NULL;
    seal_kms_destroy(&ks->kms);
    ks->kms = next;
    snprintf(ks->source, sizeof(ks->source), "master key %s from %.500s", want,
             ks->path);
    s = ring_new(ks, e);
    *moved = s == ST_OK;
    return s;
}

status keystore_refresh(keystore *ks, db *d, int *added, int *foreign, err *e)
{
    db_res *r = NULL;
    seal_wrapped w;
    char other[SEAL_MASTER_ID_LEN + 1] = "";
    int nadded = 0, nforeign = 0;
    bool moved = false;
    status s = db_run(d, &common_sql_keystore_keys, NULL, &r, e);

    for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
        if ((s = row_wrapped(r, i, &w, e)) != ST_OK)
            break;
        if (strcmp(w.master_id, keystore_master_id(ks)) != 0) {
            if (!moved && other[0] == '\0') {
                snprintf(other, sizeof(other), "%s", w.master_id);
                s = follow_file(ks, other, &moved, e);
                if (s == ST_OK && moved) {
                    i = -1; /* every row again, under the new master key */
                    nadded = 0;
                    continue;
                }
            }
            nforeign++;
            continue;
        }
        if (held(ks, w.tenant, w.key_id))
            continue;
        if ((s = hold(ks, &w, e)) == ST_OK)
            nadded++;
    }
    db_res_free(r);
    sodium_memzero(&w, sizeof(w));
    if (s != ST_OK)
        return s;
    if (nforeign != ks->warned_foreign && nforeign > 0)
        log_warn(MOD,
                 "%d data keys are wrapped by master key %s, but this "
                 "program has %s: values sealed under them do not open here; "
                 "give it the new master key (docs/security.md, "
                 "\"Rotation\")",
                 nforeign, other, ks->source);
    ks->warned_foreign = nforeign;
    if (added != NULL)
        *added = nadded;
    if (foreign != NULL)
        *foreign = nforeign;
    return ST_OK;
}

status keystore_reload(keystore *ks, db *d, err *e)
{
    status s = ring_new(ks, e);

    return s == ST_OK ? keystore_refresh(ks, d, NULL, NULL, e) : s;
}

/* Wrap a new data key key_id of tenant and insert it; *won: it stands. */
static status insert_key(keystore *ks, db *d, const char *tenant,
                         uint32_t key_id, bool *won, err *e)
{
    seal_wrapped w;
    char hex[SEAL_WRAPPED_MAX * 2 + 1], kbuf[24];
    db_res *r = NULL;
    status s = seal_dk_new(&ks->kms, tenant, key_id, &w, e);

    *won = false;
    if (s != ST_OK)
        return s;
    sodium_bin2hex(hex, sizeof(hex), w.blob, w.len);
    {
        const char *p[4] = {tenant, db_i64_str(kbuf, key_id), w.master_id, hex};
        s = db_run(d, &common_sql_keystore_insert, p, &r, e);
    }
    if (s == ST_OK && db_rows(r) == 1) {
        *won = true;
        s = hold(ks, &w, e);
    }
    db_res_free(r);
    sodium_memzero(&w, sizeof(w));
    return s;
}

status keystore_tenant_ready(keystore *ks, db *d, const char *tenant, err *e)
{
    bool won = false;
    status s;

    if (keystore_current(ks, tenant) > 0)
        return ST_OK;
    /* Another program may have made one since the last refresh. */
    if ((s = keystore_refresh(ks, d, NULL, NULL, e)) != ST_OK)
        return s;
    if (keystore_current(ks, tenant) > 0)
        return ST_OK;
    if ((s = insert_key(ks, d, tenant, 1, &won, e)) != ST_OK)
        return s;
    if (!won && (s = keystore_refresh(ks, d, NULL, NULL, e)) != ST_OK)
        return s;
    if (keystore_current(ks, tenant) == 0)
        return err_set(e, ST_UNAVAILABLE,
                       "tenant %s has a data key this program cannot "
                       "unwrap (wrapped by another master key than %s)",
                       tenant, keystore_master_id(ks));
    if (won)
        log_info(MOD, "made data key 1 of tenant %s", tenant);
    return ST_OK;
}

status keystore_seal_hex(const keystore *ks, const char *tenant,
                         int64_t case_id, const char *plain, char **hex, err *e)
{
    seal_ad ad = {tenant, case_id, KEYSTORE_FIELD};
    unsigned char *blob = NULL;
    size_t len = 0;
    char *out;
    status s = seal_value(ks->ring, &ad, plain, strlen(plain), &blob, &len, e);

    if (s != ST_OK)
        return s;
    out = malloc(len * 2 + 1);
    if (out == NULL) {
        free(blob);
        return err_set(e, ST_NOMEM, "out of memory");
    }
    sodium_bin2hex(out, len * 2 + 1, blob, len);
    free(blob);
    *hex = out;
    return ST_OK;
}

status keystore_open_hex(keystore *ks, db *d, const char *tenant,
                         int64_t case_id, const char *hex, char **plain, err *e)
{
    seal_ad ad = {tenant, case_id, KEYSTORE_FIELD};
    size_t hlen = strlen(hex), blen = 0, plen = 0;
    unsigned char *blob = malloc(hlen / 2 + 1);
    uint32_t id = 0;
    status s = ST_OK;

    if (blob == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    if (sodium_hex2bin(blob, hlen / 2 + 1, hex, hlen, NULL, &blen, NULL) != 0 ||
        !seal_key_id_of(blob, blen, &id)) {
        s = err_set(e, ST_INVALID,
                    "the personal data of case %lld of tenant %s is not a "
                    "sealed value",
                    (long long)case_id, tenant);
        goto out;
    }
    if (!held(ks, tenant, id) &&
        (s = keystore_refresh(ks, d, NULL, NULL, e)) != ST_OK)
        goto out;
    if (!held(ks, tenant, id)) {
        s = err_set(e, ST_UNAVAILABLE,
                    "the personal data of case %lld is sealed under data key "
                    "%u of tenant %s, which %s cannot unwrap",
                    (long long)case_id, (unsigned)id, tenant, ks->source);
        goto out;
    }
    s = seal_open(ks->ring, &ad, blob, blen, plain, &plen, e);
out:
    free(blob);
    return s;
}

void keystore_plain_free(char *plain)
{
    if (plain != NULL)
        seal_plain_free(plain, strlen(plain));
}

status keystore_rotate_tenant(keystore *ks, db *d, const char *tenant,
                              uint32_t *key_id, err *e)
{
    const char *p[1] = {tenant};
    db_res *r = NULL;
    int64_t next = 0;
    bool exists = false, won = false;
    status s = db_run(d, &common_sql_keystore_next, p, &r, e);

    if (s == ST_OK && db_rows(r) == 1) {
        exists = db_bool(r, 0, COMMON_KEYSTORE_NEXT_TENANT_EXISTS);
        next = db_i64(r, 0, COMMON_KEYSTORE_NEXT_MAX_KEY_ID) + 1;
    }
    db_res_free(r);
    if (s != ST_OK)
        return s;
    if (!exists)
        return err_set(e, ST_NOT_FOUND,
                       "no tenant \"%s\"; run: twinline tenant list", tenant);
    if (next > UINT32_MAX)
        return err_set(e, ST_INVALID, "tenant %s has no key ids left", tenant);
    if ((s = insert_key(ks, d, tenant, (uint32_t)next, &won, e)) != ST_OK)
        return s;
    if (!won)
        return err_set(e, ST_CONFLICT,
                       "data key %lld of tenant %s was made by someone else "
                       "meanwhile; run the rotation again",
                       (long long)next, tenant);
    if (key_id != NULL)
        *key_id = (uint32_t)next;
    return ST_OK;
}

status keystore_rewrap_all(keystore *ks, db *d, const seal_kms *to, int *n,
                           err *e)
{
    db_res *r = NULL, *u = NULL;
    seal_wrapped in, out;
    char hex[SEAL_WRAPPED_MAX * 2 + 1], kbuf[24];
    int done = 0;
    status s = db_run(d, &common_sql_keystore_keys, NULL, &r, e);

    for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
        if ((s = row_wrapped(r, i, &in, e)) != ST_OK)
            break;
        if (strcmp(in.master_id, to->id(to->ctx)) == 0)
            continue; /* rewrapped already (a rotation run again) */
        if (strcmp(in.master_id, keystore_master_id(ks)) != 0) {
            s = err_set(e, ST_CONFLICT,
                        "data key %u of tenant %s is wrapped by master key "
                        "%s, neither the current %s nor the new %s",
                        (unsigned)in.key_id, in.tenant, in.master_id,
                        keystore_master_id(ks), to->id(to->ctx));
            break;
        }
        if ((s = seal_rewrap(&ks->kms, to, &in, &out, e)) != ST_OK)
            break;
        sodium_bin2hex(hex, sizeof(hex), out.blob, out.len);
        {
            const char *p[5] = {in.tenant, db_i64_str(kbuf, in.key_id),
                                in.master_id, out.master_id, hex};
            s = db_run(d, &common_sql_keystore_rewrap, p, &u, e);
        }
        if (s == ST_OK && db_affected(u) != 1)
            s = err_set(e, ST_CONFLICT,
                        "data key %u of tenant %s changed meanwhile; run the "
                        "rotation again",
                        (unsigned)in.key_id, in.tenant);
        db_res_free(u);
        u = NULL;
        done++;
    }
    db_res_free(r);
    sodium_memzero(&in, sizeof(in));
    sodium_memzero(&out, sizeof(out));
    if (s == ST_OK && n != NULL)
        *n = done;
    return s;
}
