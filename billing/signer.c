#include "signer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define SK_BYTES crypto_sign_SECRETKEYBYTES
#define SK_HEX   (SK_BYTES * 2)
#define PK_HEX   (SIGNER_PK_BYTES * 2)
#define PATH_CAP 4096

struct signer {
    unsigned char *sk; /* sodium_malloc'd, SK_BYTES */
    unsigned char pk[SIGNER_PK_BYTES];
    char key_id[SIGNER_KEY_ID_LEN + 1];
};

static status sodium_ready(err *e)
{
    if (sodium_init() < 0)
        return err_set(e, ST_INTERNAL, "libsodium could not be initialised");
    return ST_OK;
}

void signer_key_id_of(const unsigned char pk[SIGNER_PK_BYTES], char *id)
{
    sodium_bin2hex(id, SIGNER_KEY_ID_LEN + 1, pk, SIGNER_KEY_ID_LEN / 2);
}

static status key_path(char *buf, const char *dir, const char *file, err *e)
{
    int w = snprintf(buf, PATH_CAP, "%s/%s", dir, file);

    if (w < 0 || w >= PATH_CAP)
        return err_set(e, ST_CONFIG, "key directory path is too long");
    return ST_OK;
}

/* Write all of buf[0..len) to a new file (O_EXCL) with the given mode. */
static status write_new(const char *path, const char *buf, size_t len,
                        mode_t mode, err *e)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    size_t done = 0;

    if (fd < 0) {
        if (errno == EEXIST)
            return err_set(e, ST_CONFLICT,
                           "%s exists; refusing to overwrite a key (choose "
                           "another --out directory)",
                           path);
        return err_set(e, ST_IO, "create %s: %s", path, strerror(errno));
    }
    while (done < len) {
        ssize_t n = write(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int saved = errno;
            close(fd);
            return err_set(e, ST_IO, "write %s: %s", path, strerror(saved));
        }
        done += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0)
        return err_set(e, ST_IO, "write %s: %s", path, strerror(errno));
    return ST_OK;
}

status signer_keygen(const char *dir, char *key_id, err *e)
{
    char path[PATH_CAP];
    char pk_hex[PK_HEX + 2];
    char *sk_hex = NULL;
    unsigned char *sk = NULL;
    unsigned char pk[SIGNER_PK_BYTES];
    status s;

    if ((s = sodium_ready(e)) != ST_OK)
        return s;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return err_set(e, ST_IO, "create directory %s: %s", dir,
                       strerror(errno));
    sk = sodium_malloc(SK_BYTES);
    sk_hex = sodium_malloc(SK_HEX + 2);
    if (sk == NULL || sk_hex == NULL) {
        s = err_set(e, ST_NOMEM, "no memory for a secret key");
        goto out;
    }
    if (crypto_sign_keypair(pk, sk) != 0) {
        s = err_set(e, ST_INTERNAL, "Ed25519 key generation failed");
        goto out;
    }
    sodium_bin2hex(sk_hex, SK_HEX + 1, sk, SK_BYTES);
    sk_hex[SK_HEX] = '\n';
    sk_hex[SK_HEX + 1] = '\0';
    sodium_bin2hex(pk_hex, PK_HEX + 1, pk, SIGNER_PK_BYTES);
    pk_hex[PK_HEX] = '\n';
    pk_hex[PK_HEX + 1] = '\0';
    if ((s = key_path(path, dir, SIGNER_SECRET_FILE, e)) != ST_OK)
        goto out;
    /* The secret file first: if it exists, nothing is written at all. */
    if ((s = write_new(path, sk_hex, SK_HEX + 1, 0600, e)) != ST_OK)
        goto out;
    if ((s = key_path(path, dir, SIGNER_PUBLIC_FILE, e)) != ST_OK)
        goto out;
    if ((s = write_new(path, pk_hex, PK_HEX + 1, 0644, e)) != ST_OK)
        goto out;
    if (key_id != NULL)
        signer_key_id_of(pk, key_id);
out:
    if (sk_hex != NULL)
        sodium_memzero(sk_hex, SK_HEX + 2);
    sodium_free(sk_hex); /* sodium_free wipes as well; NULL is a no-op */
    sodium_free(sk);
    return s;
}

/*
 * Read the hex file at path (want hex characters, then an optional
 * newline) into out (want / 2 bytes). buf (want + 2 bytes) receives the
 * text and is wiped by the caller.
 */
static status read_hex(const char *path, char *buf, size_t want,
                       unsigned char *out, err *e)
{
    FILE *f = fopen(path, "re");
    size_t n, bin_len = 0;

    if (f == NULL)
        return err_set(e, errno == ENOENT ? ST_CONFIG : ST_IO, "open %s: %s%s",
                       path, strerror(errno),
                       errno == ENOENT
                           ? " (create a key pair with: twinline invoice "
                             "keygen --out DIR)"
                           : "");
    setvbuf(f, NULL, _IONBF, 0); /* keep the secret out of stdio's buffer */
    n = fread(buf, 1, want + 1, f);
    if (ferror(f)) {
        fclose(f);
        return err_set(e, ST_IO, "read %s: %s", path, strerror(errno));
    }
    fclose(f);
    if (n == want + 1 && buf[want] == '\n')
        n = want;
    if (n != want ||
        sodium_hex2bin(out, want / 2, buf, want, NULL, &bin_len, NULL) != 0 ||
        bin_len != want / 2)
        return err_set(e, ST_CONFIG,
                       "%s is not a key file: expected %zu hex characters",
                       path, want);
    return ST_OK;
}

status signer_load(signer **out, const char *dir, err *e)
{
    char path[PATH_CAP];
    char *hex = NULL;
    signer *sg = NULL;
    struct stat st;
    status s;

    if ((s = sodium_ready(e)) != ST_OK)
        return s;
    if ((s = key_path(path, dir, SIGNER_SECRET_FILE, e)) != ST_OK)
        return s;
    if (stat(path, &st) == 0 && (st.st_mode & 077) != 0)
        return err_set(e, ST_CONFIG,
                       "%s may be read by others (mode %03o); run: chmod "
                       "600 %s",
                       path, (unsigned)(st.st_mode & 0777), path);
    sg = calloc(1, sizeof(*sg));
    hex = sodium_malloc(SK_HEX + 2);
    if (sg == NULL || hex == NULL) {
        s = err_set(e, ST_NOMEM, "no memory for a signer");
        goto out;
    }
    sg->sk = sodium_malloc(SK_BYTES);
    if (sg->sk == NULL) {
        s = err_set(e, ST_NOMEM, "no memory for a secret key");
        goto out;
    }
    if ((s = read_hex(path, hex, SK_HEX, sg->sk, e)) != ST_OK)
        goto out;
    if (crypto_sign_ed25519_sk_to_pk(sg->pk, sg->sk) != 0) {
        s = err_set(e, ST_CONFIG, "%s does not hold an Ed25519 key", path);
        goto out;
    }
    /* The secret key embeds its public key; check it against the seed so
     * a damaged file is found now, not by every verifier later. */
    {
        unsigned char pk2[SIGNER_PK_BYTES];
        unsigned char *sk2 = sodium_malloc(SK_BYTES);

        if (sk2 == NULL) {
            s = err_set(e, ST_NOMEM, "no memory for a secret key");
            goto out;
        }
        crypto_sign_seed_keypair(pk2, sk2, sg->sk);
        sodium_free(sk2);
        if (sodium_memcmp(pk2, sg->pk, SIGNER_PK_BYTES) != 0) {
            s = err_set(e, ST_CONFIG,
                        "%s is damaged: its public half does not match its "
                        "seed",
                        path);
            goto out;
        }
    }
    signer_key_id_of(sg->pk, sg->key_id);
    *out = sg;
    sg = NULL;
out:
    if (hex != NULL)
        sodium_memzero(hex, SK_HEX + 2);
    sodium_free(hex);
    signer_destroy(sg);
    return s;
}

void signer_destroy(signer *s)
{
    if (s == NULL)
        return;
    if (s->sk != NULL) {
        sodium_memzero(s->sk, SK_BYTES);
        sodium_free(s->sk);
    }
    sodium_memzero(s, sizeof(*s));
    free(s);
}

const char *signer_key_id(const signer *s)
{
    return s->key_id;
}

const unsigned char *signer_public_key(const signer *s)
{
    return s->pk;
}

status signer_sign(const signer *s, const unsigned char *msg, size_t len,
                   unsigned char sig[SIGNER_SIG_BYTES], err *e)
{
    if (crypto_sign_detached(sig, NULL, msg, len, s->sk) != 0)
        return err_set(e, ST_INTERNAL, "Ed25519 signing failed");
    return ST_OK;
}

bool signer_verify(const unsigned char pk[SIGNER_PK_BYTES],
                   const unsigned char *msg, size_t len,
                   const unsigned char sig[SIGNER_SIG_BYTES])
{
    if (sodium_init() < 0)
        return false;
    return crypto_sign_verify_detached(sig, msg, len, pk) == 0;
}

status signer_public_read(const char *path, unsigned char pk[SIGNER_PK_BYTES],
                          err *e)
{
    char hex[PK_HEX + 2];

    return read_hex(path, hex, PK_HEX, pk, e);
}
