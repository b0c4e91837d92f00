#include "seal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES   crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SEAL_MAGIC0 'T'
#define SEAL_MAGIC1 'S'
#define SEAL_VER    1
#define FIELD_MAX   64
#define AD_MAX      (SEAL_HEADER_BYTES + 16 + 2 + ID_MAX + 8 + 2 + FIELD_MAX)
#define KEY_HEX     (SEAL_KEY_BYTES * 2)

_Static_assert(SEAL_HEADER_BYTES == 3 + 4 + NONCE_BYTES, "header layout");
_Static_assert(SEAL_OVERHEAD == SEAL_HEADER_BYTES + TAG_BYTES, "overhead");
_Static_assert(NONCE_BYTES + SEAL_KEY_BYTES + TAG_BYTES <= SEAL_WRAPPED_MAX,
               "wrapped key size");

static status sodium_ready(err *e)
{
    if (sodium_init() < 0)
        return err_set(e, ST_INTERNAL, "libsodium could not be initialised");
    return ST_OK;
}

static void put_u16(unsigned char *p, size_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (24 - 8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* ---- the local master key ------------------------------------------- */

typedef struct local_kms {
    unsigned char *mk; /* sodium_malloc'd, SEAL_KEY_BYTES */
    char id[SEAL_MASTER_ID_LEN + 1];
} local_kms;

static void master_id_of(const unsigned char *mk, char *id)
{
    static const unsigned char label[] = "twinline master key id";
    unsigned char h[8];
    crypto_generichash_state st;

    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    crypto_generichash_update(&st, label, sizeof(label));
    crypto_generichash_update(&st, mk, SEAL_KEY_BYTES);
    crypto_generichash_final(&st, h, sizeof(h));
    memcpy(id, "mk-", 3);
    sodium_bin2hex(id + 3, 17, h, sizeof(h));
}

/* The associated data of a wrapped data key. */
static size_t wrap_ad(unsigned char *ad, const char *master_id,
                      const char *tenant, uint32_t key_id)
{
    static const char label[] = "twinline data key v1";
    size_t n = 0, t = strlen(tenant);

    memcpy(ad + n, label, sizeof(label));
    n += sizeof(label);
    memcpy(ad + n, master_id, SEAL_MASTER_ID_LEN);
    n += SEAL_MASTER_ID_LEN;
    put_u16(ad + n, t);
    n += 2;
    memcpy(ad + n, tenant, t);
    n += t;
    put_u32(ad + n, key_id);
    return n + 4;
}

static const char *local_id(void *ctx)
{
    return ((local_kms *)ctx)->id;
}

static status local_wrap(void *ctx, const unsigned char *dk, const char *tenant,
                         uint32_t key_id, unsigned char *out, size_t *out_len,
                         err *e)
{
    local_kms *k = ctx;
    unsigned char ad[64 + SEAL_MASTER_ID_LEN + ID_MAX];
    size_t adlen = wrap_ad(ad, k->id, tenant, key_id);
    unsigned long long clen = 0;

    randombytes_buf(out, NONCE_BYTES);
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + NONCE_BYTES, &clen, dk,
                                                   SEAL_KEY_BYTES, ad, adlen,
                                                   NULL, out, k->mk) != 0)
        return err_set(e, ST_INTERNAL, "wrapping a data key failed");
    *out_len = NONCE_BYTES + (size_t)clen;
    return ST_OK;
}

static status local_unwrap(void *ctx, const unsigned char *blob, size_t len,
                           const char *tenant, uint32_t key_id,
                           unsigned char *dk, err *e)
{
    local_kms *k = ctx;
    unsigned char ad[64 + SEAL_MASTER_ID_LEN + ID_MAX];
    size_t adlen = wrap_ad(ad, k->id, tenant, key_id);
    unsigned long long dlen = 0;

    if (len != NONCE_BYTES + SEAL_KEY_BYTES + TAG_BYTES ||
        crypto_aead_xchacha20poly1305_ietf_decrypt(
            dk, &dlen, NULL, blob + NONCE_BYTES, len - NONCE_BYTES, ad, adlen,
            blob, k->mk) != 0 ||
        dlen != SEAL_KEY_BYTES)
        return err_set(e, ST_INVALID,
                       "data key %u of tenant %s does not unwrap with master "
                       "key %s: it was changed, or belongs to another tenant "
                       "or key id",
                       (unsigned)key_id, tenant, k->id);
    return ST_OK;
}

static void local_destroy(void *ctx)
{
    local_kms *k = ctx;

    if (k == NULL)
        return;
    sodium_free(k->mk);
    free(k);
}

/* Make a local kms from hex[0..n) (wiped by the caller). */
static status local_from_hex(seal_kms *out, const char *hex, size_t n,
                             const char *where, err *e)
{
    local_kms *k = NULL;
    size_t bin = 0;
    status s;

    memset(out, 0, sizeof(*out));
    if ((s = sodium_ready(e)) != ST_OK)
        return s;
    if (n != KEY_HEX)
        return err_set(e, ST_CONFIG,
                       "%s must hold a master key of %d hex characters (make "
                       "one with: twinline keys master-new FILE)",
                       where, KEY_HEX);
    k = calloc(1, sizeof(*k));
    if (k == NULL || (k->mk = sodium_malloc(SEAL_KEY_BYTES)) == NULL) {
        free(k);
        return err_set(e, ST_NOMEM, "no memory for a master key");
    }
    if (sodium_hex2bin(k->mk, SEAL_KEY_BYTES, hex, n, NULL, &bin, NULL) != 0 ||
        bin != SEAL_KEY_BYTES) {
        local_destroy(k);
        return err_set(e, ST_CONFIG,
                       "%s must hold a master key of %d hex characters "
                       "(0-9, a-f)",
                       where, KEY_HEX);
    }
    master_id_of(k->mk, k->id);
    out->id = local_id;
    out->wrap = local_wrap;
    out->unwrap = local_unwrap;
    out->destroy = local_destroy;
    out->ctx = k;
    return ST_OK;
}

status seal_kms_local_file(seal_kms *out, const char *path, err *e)
{
    char *buf = NULL;
    char where[600];
    struct stat sb;
    ssize_t n = 0;
    int fd;
    status s;

    memset(out, 0, sizeof(*out));
    if ((s = sodium_ready(e)) != ST_OK)
        return s;
    snprintf(where, sizeof(where), "master key file %s", path);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(e, errno == ENOENT ? ST_CONFIG : ST_IO,
                       "cannot open master key file %s: %s", path,
                       strerror(errno));
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        s = err_set(e, ST_CONFIG, "master key file %s is not a regular file",
                    path);
        goto out;
    }
    if ((sb.st_mode & 077) != 0) {
        s = err_set(e, ST_CONFIG,
                    "master key file %s may be read or changed by others "
                    "(mode %04o); run chmod 600 %s",
                    path, (unsigned)(sb.st_mode & 07777), path);
        goto out;
    }
    buf = sodium_malloc(KEY_HEX + 3);
    if (buf == NULL) {
        s = err_set(e, ST_NOMEM, "no memory for a master key");
        goto out;
    }
    while (n < KEY_HEX + 3) {
        ssize_t r = read(fd, buf + n, (size_t)(KEY_HEX + 3 - n));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            s = err_set(e, ST_IO, "read %s: %s", path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        n += r;
    }
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    s = local_from_hex(out, buf, (size_t)n, where, e);
out:
    if (buf != NULL)
        sodium_free(buf);
    close(fd);
    return s;
}

status seal_kms_local_env(seal_kms *out, const char *name, err *e)
{
    const char *v = getenv(name);
    char where[128];

    memset(out, 0, sizeof(*out));
    if (v == NULL || v[0] == '\0')
        return err_set(e, ST_CONFIG,
                       "%s is not set; give the master key there or in a key "
                       "file",
                       name);
    snprintf(where, sizeof(where), "environment variable %s", name);
    return local_from_hex(out, v, strnlen(v, KEY_HEX + 1), where, e);
}

status seal_master_keygen(const char *path, char *id, err *e)
{
    unsigned char *mk = NULL;
    char *hex = NULL;
    int fd = -1;
    status s;

    if ((s = sodium_ready(e)) != ST_OK)
        return s;
    mk = sodium_malloc(SEAL_KEY_BYTES);
    hex = sodium_malloc(KEY_HEX + 2);
    if (mk == NULL || hex == NULL) {
        s = err_set(e, ST_NOMEM, "no memory for a master key");
        goto out;
    }
    randombytes_buf(mk, SEAL_KEY_BYTES);
    sodium_bin2hex(hex, KEY_HEX + 1, mk, SEAL_KEY_BYTES);
    hex[KEY_HEX] = '\n';
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        s = errno == EEXIST
                ? err_set(e, ST_CONFLICT,
                          "%s exists; refusing to overwrite a master key", path)
                : err_set(e, ST_IO, "create %s: %s", path, strerror(errno));
        goto out;
    }
    if (fchmod(fd, 0600) != 0 || write(fd, hex, KEY_HEX + 1) != KEY_HEX + 1 ||
        fsync(fd) != 0) {
        s = err_set(e, ST_IO, "write %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        goto out;
    }
    if (close(fd) != 0) {
        s = err_set(e, ST_IO, "write %s: %s", path, strerror(errno));
        unlink(path);
        goto out;
    }
    if (id != NULL)
        master_id_of(mk, id);
out:
    sodium_free(hex);
    sodium_free(mk);
    return s;
}

void seal_kms_destroy(seal_kms *k)
{
    if (k == NULL)
        return;
    if (k->destroy != NULL)
        k->destroy(k->ctx);
    memset(k, 0, sizeof(*k));
}

/* ---- data keys -------------------------------------------------------- */

static status wrap_into(const seal_kms *kms, const unsigned char *dk,
                        const char *tenant, uint32_t key_id, seal_wrapped *out,
                        err *e)
{
    seal_wrapped w;
    const char *mid = kms->id(kms->ctx);
    status s;

    memset(&w, 0, sizeof(w));
    snprintf(w.tenant, sizeof(w.tenant), "%s", tenant);
    w.key_id = key_id;
    if (strlen(mid) > SEAL_MASTER_ID_LEN)
        return err_set(e, ST_CONFIG, "master key id %.32s is too long", mid);
    snprintf(w.master_id, sizeof(w.master_id), "%s", mid);
    s = kms->wrap(kms->ctx, dk, tenant, key_id, w.blob, &w.len, e);
    if (s != ST_OK)
        return s;
    if (w.len > SEAL_WRAPPED_MAX)
        return err_set(e, ST_INTERNAL, "a wrapped key is longer than %d bytes",
                       SEAL_WRAPPED_MAX);
    *out = w;
    return ST_OK;
}

status seal_dk_new(const seal_kms *kms, const char *tenant, uint32_t key_id,
                   seal_wrapped *out, err *e)
{
    unsigned char *dk;
    status s;

    if (!ids_token_valid(tenant))
        return err_set(e, ST_INVALID,
                       "tenant \"%.64s\" must be 1-64 letters, digits, '_' or "
                       "'-'",
                       tenant != NULL ? tenant : "");
    if (key_id == 0)
        return err_set(e, ST_INVALID, "data key ids start at 1");
    if ((s = sodium_ready(e)) != ST_OK)
        return s;
    if ((dk = sodium_malloc(SEAL_KEY_BYTES)) == NULL)
        return err_set(e, ST_NOMEM, "no memory for a data key");
    crypto_aead_xchacha20poly1305_ietf_keygen(dk);
    s = wrap_into(kms, dk, tenant, key_id, out, e);
    sodium_free(dk);
    return s;
}

status seal_rewrap(const seal_kms *from, const seal_kms *to,
                   const seal_wrapped *in, seal_wrapped *out, err *e)
{
    unsigned char *dk;
    status s;

    if ((s = sodium_ready(e)) != ST_OK)
        return s;
    if (strcmp(in->master_id, from->id(from->ctx)) != 0)
        return err_set(e, ST_CONFLICT,
                       "data key %u of tenant %s is wrapped by master key %s, "
                       "not %s",
                       (unsigned)in->key_id, in->tenant, in->master_id,
                       from->id(from->ctx));
    if ((dk = sodium_malloc(SEAL_KEY_BYTES)) == NULL)
        return err_set(e, ST_NOMEM, "no memory for a data key");
    s = from->unwrap(from->ctx, in->blob, in->len, in->tenant, in->key_id, dk,
                     e);
    if (s == ST_OK)
        s = wrap_into(to, dk, in->tenant, in->key_id, out, e);
    sodium_free(dk);
    return s;
}

/* ---- the keyring -------------------------------------------------------- */

typedef struct ring_key {
    char tenant[ID_MAX + 1];
    uint32_t key_id;
    unsigned char *dk; /* sodium_malloc'd */
} ring_key;

struct seal_keyring {
    const seal_kms *kms;
    ring_key *keys;
    size_t n, cap;
};

status seal_keyring_create(seal_keyring **out, const seal_kms *kms, err *e)
{
    seal_keyring *kr;
    status s;

    if ((s = sodium_ready(e)) != ST_OK)
        return s;
    kr = calloc(1, sizeof(*kr));
    if (kr == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    kr->kms = kms;
    *out = kr;
    return ST_OK;
}

void seal_keyring_destroy(seal_keyring *kr)
{
    if (kr == NULL)
        return;
    for (size_t i = 0; i < kr->n; i++)
        sodium_free(kr->keys[i].dk);
    free(kr->keys);
    free(kr);
}

static const ring_key *find_key(const seal_keyring *kr, const char *tenant,
                                uint32_t key_id)
{
    for (size_t i = 0; i < kr->n; i++)
        if (kr->keys[i].key_id == key_id &&
            strcmp(kr->keys[i].tenant, tenant) == 0)
            return &kr->keys[i];
    return NULL;
}

status seal_keyring_add(seal_keyring *kr, const seal_wrapped *w, err *e)
{
    const ring_key *old;
    unsigned char *dk;
    status s;

    if (!ids_token_valid(w->tenant) || w->key_id == 0)
        return err_set(e, ST_INVALID,
                       "a wrapped key needs a tenant and a key "
                       "id from 1");
    if (strcmp(w->master_id, kr->kms->id(kr->kms->ctx)) != 0)
        return err_set(e, ST_CONFLICT,
                       "data key %u of tenant %s is wrapped by master key %s, "
                       "but this keyring uses %s (finish the master key "
                       "rotation: twinline keys rotate)",
                       (unsigned)w->key_id, w->tenant, w->master_id,
                       kr->kms->id(kr->kms->ctx));
    if ((dk = sodium_malloc(SEAL_KEY_BYTES)) == NULL)
        return err_set(e, ST_NOMEM, "no memory for a data key");
    s = kr->kms->unwrap(kr->kms->ctx, w->blob, w->len, w->tenant, w->key_id, dk,
                        e);
    if (s != ST_OK)
        goto fail;
    if ((old = find_key(kr, w->tenant, w->key_id)) != NULL) {
        bool same = sodium_memcmp(old->dk, dk, SEAL_KEY_BYTES) == 0;
        sodium_free(dk);
        if (same)
            return ST_OK;
        return err_set(e, ST_CONFLICT,
                       "tenant %s has two different data keys with id %u",
                       w->tenant, (unsigned)w->key_id);
    }
    if (kr->n == kr->cap) {
        size_t ncap = kr->cap == 0 ? 8 : kr->cap * 2;
        ring_key *nk = realloc(kr->keys, ncap * sizeof(*nk));
        if (nk == NULL) {
            s = err_set(e, ST_NOMEM, "out of memory");
            goto fail;
        }
        kr->keys = nk;
        kr->cap = ncap;
    }
    snprintf(kr->keys[kr->n].tenant, sizeof(kr->keys[0].tenant), "%s",
             w->tenant);
    kr->keys[kr->n].key_id = w->key_id;
    kr->keys[kr->n].dk = dk;
    kr->n++;
    return ST_OK;
fail:
    sodium_free(dk);
    return s;
}

uint32_t seal_keyring_current(const seal_keyring *kr, const char *tenant)
{
    uint32_t best = 0;

    for (size_t i = 0; i < kr->n; i++)
        if (kr->keys[i].key_id > best &&
            strcmp(kr->keys[i].tenant, tenant) == 0)
            best = kr->keys[i].key_id;
    return best;
}

/* ---- values ----------------------------------------------------------- */

static status check_ad(const seal_ad *ad, err *e)
{
    size_t f = ad->field != NULL ? strnlen(ad->field, FIELD_MAX + 1) : 0;

    if (!ids_token_valid(ad->tenant))
        return err_set(e, ST_INVALID, "sealing needs the tenant's id");
    if (f == 0 || f > FIELD_MAX)
        return err_set(e, ST_INVALID,
                       "sealing needs a field name of 1-%d "
                       "bytes",
                       FIELD_MAX);
    return ST_OK;
}

/* The associated data: the header, then tenant, row id and field. */
static size_t value_ad(unsigned char *ad, const unsigned char *header,
                       const seal_ad *a)
{
    static const char label[] = "twinline value";
    size_t n = 0, t = strlen(a->tenant), f = strlen(a->field);
    uint64_t row = (uint64_t)a->row_id;

    memcpy(ad, header, SEAL_HEADER_BYTES);
    n = SEAL_HEADER_BYTES;
    memcpy(ad + n, label, sizeof(label));
    n += sizeof(label);
    put_u16(ad + n, t);
    n += 2;
    memcpy(ad + n, a->tenant, t);
    n += t;
    for (int i = 0; i < 8; i++)
        ad[n++] = (unsigned char)(row >> (56 - 8 * i));
    put_u16(ad + n, f);
    n += 2;
    memcpy(ad + n, a->field, f);
    return n + f;
}

status seal_value(const seal_keyring *kr, const seal_ad *ad, const void *plain,
                  size_t len, unsigned char **out, size_t *out_len, err *e)
{
    unsigned char adbuf[AD_MAX];
    const ring_key *k;
    unsigned char *blob;
    unsigned long long clen = 0;
    uint32_t id;
    size_t adlen;
    status s;

    if ((s = check_ad(ad, e)) != ST_OK)
        return s;
    if (len > SEAL_PLAIN_MAX)
        return err_set(e, ST_TOO_LARGE,
                       "%s is %zu bytes; at most %u can be sealed", ad->field,
                       len, SEAL_PLAIN_MAX);
    id = seal_keyring_current(kr, ad->tenant);
    if (id == 0 || (k = find_key(kr, ad->tenant, id)) == NULL)
        return err_set(e, ST_NOT_FOUND,
                       "tenant %s has no data key; create one with: "
                       "twinline keys rotate",
                       ad->tenant);
    blob = malloc(len + SEAL_OVERHEAD);
    if (blob == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    blob[0] = SEAL_MAGIC0;
    blob[1] = SEAL_MAGIC1;
    blob[2] = SEAL_VER;
    put_u32(blob + 3, id);
    randombytes_buf(blob + 7, NONCE_BYTES);
    adlen = value_ad(adbuf, blob, ad);
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(
            blob + SEAL_HEADER_BYTES, &clen, plain, len, adbuf, adlen, NULL,
            blob + 7, k->dk) != 0) {
        free(blob);
        return err_set(e, ST_INTERNAL, "sealing %s failed", ad->field);
    }
    *out = blob;
    *out_len = SEAL_HEADER_BYTES + (size_t)clen;
    return ST_OK;
}

bool seal_key_id_of(const unsigned char *sealed, size_t len, uint32_t *id)
{
    if (len < SEAL_OVERHEAD || sealed[0] != SEAL_MAGIC0 ||
        sealed[1] != SEAL_MAGIC1 || sealed[2] != SEAL_VER)
        return false;
    *id = get_u32(sealed + 3);
    return true;
}

status seal_open(const seal_keyring *kr, const seal_ad *ad,
                 const unsigned char *sealed, size_t len, char **out,
                 size_t *out_len, err *e)
{
    unsigned char adbuf[AD_MAX];
    const ring_key *k;
    unsigned long long plen = 0;
    char *plain;
    uint32_t id;
    size_t adlen;
    status s;

    if ((s = check_ad(ad, e)) != ST_OK)
        return s;
    if (!seal_key_id_of(sealed, len, &id))
        return err_set(e, ST_INVALID,
                       "%s of row %lld is not a sealed value (version %d)",
                       ad->field, (long long)ad->row_id, SEAL_VER);
    if (len - SEAL_OVERHEAD > SEAL_PLAIN_MAX)
        return err_set(e, ST_TOO_LARGE, "%s is larger than a sealed value",
                       ad->field);
    if ((k = find_key(kr, ad->tenant, id)) == NULL)
        return err_set(e, ST_NOT_FOUND,
                       "%s of row %lld is sealed with data key %u of tenant "
                       "%s, which the keyring does not hold",
                       ad->field, (long long)ad->row_id, (unsigned)id,
                       ad->tenant);
    plain = malloc(len - SEAL_OVERHEAD + 1);
    if (plain == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    adlen = value_ad(adbuf, sealed, ad);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            (unsigned char *)plain, &plen, NULL, sealed + SEAL_HEADER_BYTES,
            len - SEAL_HEADER_BYTES, adbuf, adlen, sealed + 7, k->dk) != 0) {
        free(plain);
        return err_set(e, ST_INVALID,
                       "%s of row %lld of tenant %s does not open: it was "
                       "changed, or it was sealed for another row, tenant or "
                       "field",
                       ad->field, (long long)ad->row_id, ad->tenant);
    }
    plain[plen] = '\0';
    *out = plain;
    *out_len = (size_t)plen;
    return ST_OK;
}

void seal_plain_free(char *p, size_t len)
{
    if (p == NULL)
        return;
    sodium_memzero(p, len);
    free(p);
}
