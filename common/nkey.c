#include "nkey.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

/* The first byte of an nkey names its kind; a seed puts 'S' (18 << 3) in
 * front and shifts the kind into the next five bits. */
#define PREFIX_SEED     (18 << 3) /* 'S' */
#define PREFIX_USER     (20 << 3) /* 'U' */
#define PREFIX_ACCOUNT  (0 << 3)  /* 'A' */
#define PREFIX_OPERATOR (14 << 3) /* 'O' */
#define PREFIX_SERVER   (13 << 3) /* 'N' */
#define PREFIX_CLUSTER  (2 << 3)  /* 'C' */

#define SEED_BYTES   32
#define PUB_RAW_LEN  (1 + NKEY_PK_BYTES + 2)
#define SEED_RAW_LEN (2 + SEED_BYTES + 2)
#define LINE_MAX_LEN 256

#define SEED_BEGIN "-----BEGIN USER NKEY SEED-----"
#define SEED_END   "------END USER NKEY SEED------"

struct nkey {
    unsigned char *sk; /* sodium_malloc'd: seed (32) + public key (32) */
    unsigned char pk[NKEY_PK_BYTES];
    char pub[NKEY_PUBLIC_LEN + 1];
};

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static status sodium_ready(err *e)
{
    if (sodium_init() < 0)
        return err_set(e, ST_INTERNAL, "libsodium could not be initialised");
    return ST_OK;
}

/* CRC-16/XMODEM: polynomial 0x1021, initial value 0, no reflection. */
static unsigned crc16(const unsigned char *p, size_t n)
{
    unsigned crc = 0;

    for (size_t i = 0; i < n; i++) {
        crc ^= (unsigned)p[i] << 8;
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? ((crc << 1) ^ 0x1021) : (crc << 1);
        crc &= 0xFFFF;
    }
    return crc;
}

/* Base32 of in[0..n) into out (room for ceil(n * 8 / 5) + 1), no padding. */
static void b32_encode(const unsigned char *in, size_t n, char *out)
{
    unsigned buf = 0;
    int bits = 0;
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        buf = (buf << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32_alphabet[(buf >> (bits - 5)) & 31];
            bits -= 5;
        }
        buf &= (1u << bits) - 1;
    }
    if (bits > 0)
        out[o++] = b32_alphabet[(buf << (5 - bits)) & 31];
    out[o] = '\0';
}

static int b32_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= '2' && c <= '7')
        return c - '2' + 26;
    return -1;
}

/*
 * Decode exactly n characters of in into out (n * 5 / 8 bytes). False on a
 * character outside the alphabet or left-over bits that are not zero (a
 * non-canonical spelling of the same bytes).
 */
static bool b32_decode(const char *in, size_t n, unsigned char *out)
{
    unsigned buf = 0;
    int bits = 0;
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        int v = b32_value(in[i]);
        if (v < 0)
            return false;
        buf = (buf << 5) | (unsigned)v;
        bits += 5;
        if (bits >= 8) {
            out[o++] = (unsigned char)(buf >> (bits - 8));
            bits -= 8;
        }
        buf &= (1u << bits) - 1;
    }
    return buf == 0;
}

static const char *kind_name(unsigned prefix)
{
    switch (prefix) {
    case PREFIX_USER:
        return "user";
    case PREFIX_ACCOUNT:
        return "account";
    case PREFIX_OPERATOR:
        return "operator";
    case PREFIX_SERVER:
        return "server";
    case PREFIX_CLUSTER:
        return "cluster";
    default:
        return "unknown";
    }
}

static status nkey_alloc(nkey **out, err *e)
{
    nkey *k = calloc(1, sizeof(*k));

    if (k == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    k->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    if (k->sk == NULL) {
        free(k);
        return err_set(e, ST_NOMEM, "no memory for a secret key");
    }
    *out = k;
    return ST_OK;
}

static void encode_public(nkey *k)
{
    unsigned char raw[PUB_RAW_LEN];
    unsigned crc;

    raw[0] = PREFIX_USER;
    memcpy(raw + 1, k->pk, NKEY_PK_BYTES);
    crc = crc16(raw, 1 + NKEY_PK_BYTES);
    raw[1 + NKEY_PK_BYTES] = (unsigned char)(crc & 0xFF);
    raw[2 + NKEY_PK_BYTES] = (unsigned char)(crc >> 8);
    b32_encode(raw, sizeof(raw), k->pub);
}

/* Fill k's keys from a 32-byte seed. */
static status keys_from_seed(nkey *k, const unsigned char *seed, err *e)
{
    if (crypto_sign_seed_keypair(k->pk, k->sk, seed) != 0)
        return err_set(e, ST_INTERNAL, "Ed25519 key derivation failed");
    encode_public(k);
    return ST_OK;
}

status nkey_generate(nkey **out, err *e)
{
    unsigned char *seed = NULL;
    nkey *k = NULL;
    status s;

    if ((s = sodium_ready(e)) != ST_OK)
        return s;
    if ((s = nkey_alloc(&k, e)) != ST_OK)
        return s;
    seed = sodium_malloc(SEED_BYTES);
    if (seed == NULL) {
        s = err_set(e, ST_NOMEM, "no memory for a seed");
        goto out;
    }
    randombytes_buf(seed, SEED_BYTES);
    s = keys_from_seed(k, seed, e);
out:
    sodium_free(seed); /* sodium_free wipes; NULL is a no-op */
    if (s != ST_OK) {
        nkey_destroy(k);
        return s;
    }
    *out = k;
    return ST_OK;
}

status nkey_from_seed(nkey **out, const char *seed, err *e)
{
    unsigned char *raw = NULL;
    size_t n = seed != NULL ? strnlen(seed, NKEY_SEED_LEN + 1) : 0;
    nkey *k = NULL;
    unsigned crc, prefix;
    status s;

    if ((s = sodium_ready(e)) != ST_OK)
        return s;
    if (n != NKEY_SEED_LEN)
        return err_set(e, ST_INVALID,
                       "an nkey seed has %d characters (\"SU...\"); this one "
                       "has %s%zu",
                       NKEY_SEED_LEN, n > NKEY_SEED_LEN ? "more than " : "",
                       n > NKEY_SEED_LEN ? (size_t)NKEY_SEED_LEN : n);
    raw = sodium_malloc(SEED_RAW_LEN);
    if (raw == NULL)
        return err_set(e, ST_NOMEM, "no memory for a seed");
    if (!b32_decode(seed, NKEY_SEED_LEN, raw)) {
        s = err_set(e, ST_INVALID,
                    "the nkey seed is not base32 (letters A-Z and digits "
                    "2-7 only)");
        goto out;
    }
    crc = (unsigned)raw[SEED_RAW_LEN - 2] |
          ((unsigned)raw[SEED_RAW_LEN - 1] << 8);
    if (crc16(raw, SEED_RAW_LEN - 2) != crc) {
        s = err_set(e, ST_INVALID,
                    "the nkey seed's checksum is wrong (the seed was "
                    "mistyped or truncated)");
        goto out;
    }
    if ((raw[0] & 0xF8) != PREFIX_SEED) {
        s = err_set(e, ST_INVALID,
                    "this is not an nkey seed (a seed starts with \"S\"; a "
                    "public key was given where the seed belongs?)");
        goto out;
    }
    prefix = ((raw[0] & 7u) << 5) | ((raw[1] & 0xF8u) >> 3);
    if (prefix != PREFIX_USER) {
        s = err_set(e, ST_INVALID,
                    "this is the seed of a NATS %s key; Twinline identities "
                    "are user keys (\"SU...\")",
                    kind_name(prefix));
        goto out;
    }
    if ((s = nkey_alloc(&k, e)) != ST_OK)
        goto out;
    s = keys_from_seed(k, raw + 2, e);
out:
    sodium_free(raw);
    if (s != ST_OK) {
        nkey_destroy(k);
        return s;
    }
    *out = k;
    return ST_OK;
}

void nkey_destroy(nkey *k)
{
    if (k == NULL)
        return;
    sodium_free(k->sk);
    free(k);
}

const char *nkey_public(const nkey *k)
{
    return k->pub;
}

const unsigned char *nkey_public_raw(const nkey *k)
{
    return k->pk;
}

void nkey_seed_string(const nkey *k, char *buf)
{
    unsigned char raw[SEED_RAW_LEN];
    unsigned crc;

    raw[0] = PREFIX_SEED | (PREFIX_USER >> 5);
    raw[1] = (PREFIX_USER & 31) << 3;
    /* libsodium's secret key is the seed followed by the public key. */
    memcpy(raw + 2, k->sk, SEED_BYTES);
    crc = crc16(raw, 2 + SEED_BYTES);
    raw[2 + SEED_BYTES] = (unsigned char)(crc & 0xFF);
    raw[3 + SEED_BYTES] = (unsigned char)(crc >> 8);
    b32_encode(raw, sizeof(raw), buf);
    sodium_memzero(raw, sizeof(raw));
}

status nkey_sign(const nkey *k, const unsigned char *msg, size_t len,
                 unsigned char sig[NKEY_SIG_BYTES], err *e)
{
    if (crypto_sign_detached(sig, NULL, msg, len, k->sk) != 0)
        return err_set(e, ST_INTERNAL, "Ed25519 signing failed");
    return ST_OK;
}

status nkey_public_decode(const char *pub, unsigned char pk[NKEY_PK_BYTES],
                          err *e)
{
    unsigned char raw[PUB_RAW_LEN];
    size_t n = pub != NULL ? strnlen(pub, NKEY_SEED_LEN + 1) : 0;
    unsigned crc;

    if (n > 0 && pub[0] == 'S')
        return err_set(e, ST_INVALID,
                       "a seed (\"S...\") was given where a public key "
                       "(\"U...\") belongs; the seed is secret: keep it in "
                       "the credentials file only");
    if (n != NKEY_PUBLIC_LEN)
        return err_set(e, ST_INVALID,
                       "a public nkey has %d characters (\"U...\"); this one "
                       "has %s%zu",
                       NKEY_PUBLIC_LEN, n > NKEY_PUBLIC_LEN ? "more than " : "",
                       n > NKEY_PUBLIC_LEN ? (size_t)NKEY_PUBLIC_LEN : n);
    if (!b32_decode(pub, NKEY_PUBLIC_LEN, raw))
        return err_set(e, ST_INVALID,
                       "public nkey %.56s is not base32 (letters A-Z and "
                       "digits 2-7 only)",
                       pub);
    crc =
        (unsigned)raw[PUB_RAW_LEN - 2] | ((unsigned)raw[PUB_RAW_LEN - 1] << 8);
    if (crc16(raw, PUB_RAW_LEN - 2) != crc)
        return err_set(e, ST_INVALID,
                       "public nkey %.56s has a wrong checksum (mistyped or "
                       "truncated)",
                       pub);
    if (raw[0] != PREFIX_USER)
        return err_set(e, ST_INVALID,
                       "public nkey %.56s is a NATS %s key; Twinline "
                       "identities are user keys (\"U...\")",
                       pub, kind_name(raw[0]));
    if (pk != NULL)
        memcpy(pk, raw + 1, NKEY_PK_BYTES);
    return ST_OK;
}

bool nkey_verify(const char *pub, const unsigned char *msg, size_t len,
                 const unsigned char sig[NKEY_SIG_BYTES])
{
    unsigned char pk[NKEY_PK_BYTES];

    if (nkey_public_decode(pub, pk, NULL) != ST_OK)
        return false;
    if (sodium_init() < 0)
        return false;
    return crypto_sign_verify_detached(sig, msg, len, pk) == 0;
}

/* ---- credentials file ------------------------------------------------ */

static bool role_valid(const char *r)
{
    size_t n = r != NULL ? strnlen(r, NKEY_ROLE_MAX + 1) : 0;

    if (n == 0 || n > NKEY_ROLE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((r[i] >= 'a' && r[i] <= 'z') || r[i] == '-'))
            return false;
    return true;
}

/* Write all of buf[0..len) to fd. */
static bool write_all(int fd, const char *buf, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = write(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += (size_t)n;
    }
    return true;
}

status nkey_creds_write(const char *path, const nkey *k, const char *identity,
                        const char *role, const char *party, err *e)
{
    char *text = NULL;
    char *seed = NULL;
    int fd = -1, n;
    status s = ST_OK;

    if (!ids_token_valid(identity))
        return err_set(e, ST_INVALID,
                       "identity must be 1-64 letters, digits, '_' or '-'");
    if (!ids_token_valid(party))
        return err_set(e, ST_INVALID,
                       "party must be 1-64 letters, digits, '_' or '-'");
    if (!role_valid(role))
        return err_set(e, ST_INVALID,
                       "role must be 1-16 lower-case letters or '-'");
    if ((s = sodium_ready(e)) != ST_OK)
        return s;
    text = sodium_malloc(NKEY_CREDS_MAX);
    seed = sodium_malloc(NKEY_SEED_LEN + 1);
    if (text == NULL || seed == NULL) {
        s = err_set(e, ST_NOMEM, "no memory for credentials");
        goto out;
    }
    nkey_seed_string(k, seed);
    n = snprintf(text, NKEY_CREDS_MAX,
                 "# Twinline credentials for identity %s (role %s, party "
                 "%s).\n"
                 "# Anyone holding this file can act as %s: keep it mode "
                 "0600, do not\n"
                 "# copy it around, and revoke the identity if it leaks.\n"
                 "identity: %s\n"
                 "role: %s\n"
                 "party: %s\n"
                 "public_key: %s\n"
                 "\n" SEED_BEGIN "\n%s\n" SEED_END "\n",
                 identity, role, party, identity, identity, role, party, k->pub,
                 seed);
    if (n < 0 || n >= NKEY_CREDS_MAX) {
        s = err_set(e, ST_INTERNAL, "credentials text does not fit");
        goto out;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            s = err_set(e, ST_CONFLICT,
                        "%s exists; refusing to overwrite credentials "
                        "(choose another file, or revoke and remove the "
                        "old one first)",
                        path);
        else
            s = err_set(e, ST_IO, "create %s: %s", path, strerror(errno));
        goto out;
    }
    /* The umask can only remove bits, but say exactly what is meant. */
    if (fchmod(fd, 0600) != 0 || !write_all(fd, text, (size_t)n) ||
        fsync(fd) != 0) {
        s = err_set(e, ST_IO, "write %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        goto out;
    }
    if (close(fd) != 0) {
        s = err_set(e, ST_IO, "write %s: %s", path, strerror(errno));
        unlink(path);
    }
out:
    sodium_free(seed);
    sodium_free(text);
    return s;
}

void nkey_creds_clear(nkey_creds *c)
{
    if (c == NULL)
        return;
    nkey_destroy(c->key);
    memset(c, 0, sizeof(*c));
}

/* True when line is dashes, word, dashes (at least three of each). */
static bool is_marker(const char *line, size_t n, const char *word)
{
    size_t i = 0, w = strlen(word), lead, trail = 0;

    while (i < n && line[i] == '-')
        i++;
    lead = i;
    if (lead < 3 || n - i < w || memcmp(line + i, word, w) != 0)
        return false;
    i += w;
    while (i < n && line[i] == '-') {
        i++;
        trail++;
    }
    return i == n && trail >= 3;
}

typedef struct creds_field {
    const char *name;
    char *dst;
    size_t cap;
    bool seen;
} creds_field;

/* Store the value of "name: value" on line lineno in its field. */
static status take_field(creds_field *f, int nf, const char *line, size_t n,
                         int lineno, err *e)
{
    size_t k = 0, v;

    while (k < n && ((line[k] >= 'a' && line[k] <= 'z') || line[k] == '_'))
        k++;
    if (k == 0 || k >= n || line[k] != ':')
        return err_set(e, ST_INVALID,
                       "line %d: expected \"name: value\", a comment (#) or "
                       "the seed block",
                       lineno);
    v = k + 1;
    while (v < n && line[v] == ' ')
        v++;
    while (n > v && (line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
    for (int i = 0; i < nf; i++) {
        if (strlen(f[i].name) != k || memcmp(f[i].name, line, k) != 0)
            continue;
        if (f[i].seen)
            return err_set(e, ST_INVALID, "line %d: %s is given twice", lineno,
                           f[i].name);
        if (n - v >= f[i].cap)
            return err_set(e, ST_INVALID,
                           "line %d: %s is longer than %zu characters", lineno,
                           f[i].name, f[i].cap - 1);
        memcpy(f[i].dst, line + v, n - v);
        f[i].dst[n - v] = '\0';
        f[i].seen = true;
        return ST_OK;
    }
    return err_set(e, ST_UNKNOWN_FIELD,
                   "line %d: unknown field \"%.*s\"; allowed: identity, "
                   "role, party, public_key",
                   lineno, (int)(k > 32 ? 32 : k), line);
}

enum { CREDS_HEAD, CREDS_SEED, CREDS_END, CREDS_DONE };

status nkey_creds_parse(const char *text, size_t len, nkey_creds *out, err *e)
{
    nkey_creds c;
    char *seed = NULL;
    /* Room for a seed pasted by mistake, so the message can say so. */
    char pub[NKEY_SEED_LEN + 2];
    creds_field f[] = {
        {"identity", c.identity, sizeof(c.identity), false},
        {"role", c.role, sizeof(c.role), false},
        {"party", c.party, sizeof(c.party), false},
        {"public_key", pub, sizeof(pub), false},
    };
    int nf = (int)(sizeof(f) / sizeof(f[0]));
    int state = CREDS_HEAD, lineno = 0, seed_line = 0;
    size_t pos = 0;
    status s = ST_OK;

    memset(&c, 0, sizeof(c));
    memset(out, 0, sizeof(*out));
    pub[0] = '\0';
    if (len > NKEY_CREDS_MAX)
        return err_set(e, ST_TOO_LARGE,
                       "credentials are %zu bytes; at most %d are allowed", len,
                       NKEY_CREDS_MAX);
    if ((s = sodium_ready(e)) != ST_OK)
        return s;
    seed = sodium_malloc(NKEY_SEED_LEN + 1);
    if (seed == NULL)
        return err_set(e, ST_NOMEM, "no memory for a seed");
    seed[0] = '\0';
    while (pos < len && s == ST_OK) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - line) : len - pos;

        pos += n + (nl != NULL);
        lineno++;
        if (n > 0 && line[n - 1] == '\r')
            n--;
        if (n > LINE_MAX_LEN) {
            s = err_set(e, ST_INVALID, "line %d is longer than %d characters",
                        lineno, LINE_MAX_LEN);
            break;
        }
        if (memchr(line, '\0', n) != NULL) {
            s = err_set(e, ST_INVALID, "line %d contains a NUL byte", lineno);
            break;
        }
        if (n == 0 && (state == CREDS_SEED || state == CREDS_END))
            continue;
        if (state == CREDS_SEED) {
            /* Never echo this line: it should be the secret. */
            if (n != NKEY_SEED_LEN || line[0] != 'S') {
                s = err_set(e, ST_INVALID,
                            "line %d: expected the %d-character seed "
                            "(\"SU...\") after the BEGIN line",
                            lineno, NKEY_SEED_LEN);
                break;
            }
            memcpy(seed, line, n);
            seed[n] = '\0';
            seed_line = lineno;
            state = CREDS_END;
            continue;
        }
        if (state == CREDS_END) {
            if (!is_marker(line, n, "END USER NKEY SEED"))
                s = err_set(e, ST_INVALID,
                            "line %d: expected %s after the seed", lineno,
                            SEED_END);
            state = CREDS_DONE;
            continue;
        }
        if (n == 0 || line[0] == '#')
            continue;
        if (is_marker(line, n, "BEGIN USER NKEY SEED")) {
            if (state == CREDS_DONE)
                s = err_set(e, ST_INVALID, "line %d: a second seed block",
                            lineno);
            state = CREDS_SEED;
            continue;
        }
        s = take_field(f, nf, line, n, lineno, e);
    }
    if (s != ST_OK)
        goto out;
    if (state == CREDS_SEED || state == CREDS_END) {
        s = err_set(e, ST_INVALID,
                    "the seed block is not closed (expected %s at the end)",
                    SEED_END);
        goto out;
    }
    for (int i = 0; i < nf; i++) {
        if (!f[i].seen) {
            s = err_set(e, ST_MISSING_FIELD, "credentials lack %s", f[i].name);
            goto out;
        }
    }
    if (state != CREDS_DONE) {
        s = err_set(e, ST_MISSING_FIELD,
                    "credentials lack the seed block (%s ...)", SEED_BEGIN);
        goto out;
    }
    if (!ids_token_valid(c.identity) || !ids_token_valid(c.party)) {
        s = err_set(e, ST_INVALID,
                    "identity and party must be 1-64 letters, digits, '_' "
                    "or '-'");
        goto out;
    }
    if (!role_valid(c.role)) {
        s = err_set(e, ST_INVALID,
                    "role must be 1-16 lower-case letters or '-'");
        goto out;
    }
    if ((s = nkey_public_decode(pub, NULL, e)) != ST_OK) {
        err_wrap(e, "public_key");
        goto out;
    }
    memcpy(c.public_key, pub, sizeof(c.public_key));
    if ((s = nkey_from_seed(&c.key, seed, e)) != ST_OK) {
        err_wrap(e, "line %d", seed_line);
        goto out;
    }
    if (strcmp(nkey_public(c.key), c.public_key) != 0) {
        s = err_set(e, ST_INVALID,
                    "public_key %s does not belong to the seed (the file was "
                    "edited or pieced together); issue new credentials",
                    c.public_key);
        goto out;
    }
    *out = c;
    c.key = NULL;
out:
    sodium_memzero(pub, sizeof(pub)); /* it may hold a misplaced seed */
    sodium_free(seed);
    nkey_creds_clear(&c);
    return s;
}

status nkey_creds_read(const char *path, nkey_creds *out, err *e)
{
    struct stat sb;
    char *text = NULL;
    size_t len = 0;
    int fd;
    status s = ST_OK;

    memset(out, 0, sizeof(*out));
    if ((s = sodium_ready(e)) != ST_OK)
        return s;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(e, errno == ENOENT ? ST_CONFIG : ST_IO,
                       "cannot open credentials file %s: %s", path,
                       strerror(errno));
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        s = err_set(e, ST_CONFIG, "credentials file %s is not a regular file",
                    path);
        goto out;
    }
    if ((sb.st_mode & 077) != 0) {
        s = err_set(e, ST_CONFIG,
                    "credentials file %s may be %s by others (mode %04o); "
                    "a seed must stay private: run chmod 600 %s",
                    path, (sb.st_mode & 044) != 0 ? "read" : "changed",
                    (unsigned)(sb.st_mode & 07777), path);
        goto out;
    }
    if (sb.st_size > NKEY_CREDS_MAX) {
        s = err_set(e, ST_TOO_LARGE,
                    "credentials file %s is %lld bytes; at most %d are "
                    "allowed",
                    path, (long long)sb.st_size, NKEY_CREDS_MAX);
        goto out;
    }
    text = sodium_malloc(NKEY_CREDS_MAX + 1);
    if (text == NULL) {
        s = err_set(e, ST_NOMEM, "no memory for credentials");
        goto out;
    }
    while (len < NKEY_CREDS_MAX + 1) {
        ssize_t n = read(fd, text + len, NKEY_CREDS_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            s = err_set(e, ST_IO, "read %s: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if ((s = nkey_creds_parse(text, len, out, e)) != ST_OK)
        err_wrap(e, "credentials file %s", path);
out:
    sodium_free(text);
    close(fd);
    return s;
}

/* One file of a directory index. */
typedef struct dir_entry {
    char role[NKEY_ROLE_MAX + 1];
    char party[ID_MAX + 1];
    char *path;
} dir_entry;

struct nkey_dir {
    char *dir;
    dir_entry *v;
    int n, cap;
};

static bool has_creds_suffix(const char *name)
{
    size_t n = strlen(name);

    return n > 6 && strcmp(name + n - 6, ".creds") == 0;
}

static status dir_add(nkey_dir *d, const char *name, err *e)
{
    size_t plen = strlen(d->dir) + strlen(name) + 2;
    nkey_creds c;
    dir_entry *x;
    char *path = malloc(plen);
    status s;

    if (path == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    snprintf(path, plen, "%s/%s", d->dir, name);
    if ((s = nkey_creds_read(path, &c, e)) != ST_OK) {
        free(path);
        if (e != NULL)
            e->code = ST_CONFIG;
        return ST_CONFIG;
    }
    if (d->n == d->cap) {
        int cap = d->cap > 0 ? d->cap * 2 : 64;
        dir_entry *grown = realloc(d->v, (size_t)cap * sizeof(*grown));

        if (grown == NULL) {
            nkey_creds_clear(&c);
            free(path);
            return err_set(e, ST_NOMEM, "out of memory");
        }
        d->v = grown;
        d->cap = cap;
    }
    x = &d->v[d->n++];
    memcpy(x->role, c.role, sizeof(x->role));
    memcpy(x->party, c.party, sizeof(x->party));
    x->path = path;
    nkey_creds_clear(&c);
    return ST_OK;
}

status nkey_dir_open(nkey_dir **out, const char *dir, err *e)
{
    nkey_dir *d = calloc(1, sizeof(*d));
    DIR *h = NULL;
    struct dirent *ent;
    status s = ST_OK;

    if (d == NULL || (d->dir = strdup(dir)) == NULL) {
        free(d);
        return err_set(e, ST_NOMEM, "out of memory");
    }
    h = opendir(dir);
    if (h == NULL) {
        s = err_set(e, ST_CONFIG,
                    "cannot read the credentials directory %s: %s", dir,
                    strerror(errno));
        goto out;
    }
    while (s == ST_OK && (ent = readdir(h)) != NULL)
        if (ent->d_name[0] != '.' && has_creds_suffix(ent->d_name))
            s = dir_add(d, ent->d_name, e);
out:
    if (h != NULL)
        closedir(h);
    if (s != ST_OK) {
        nkey_dir_close(d);
        return s;
    }
    *out = d;
    return ST_OK;
}

status nkey_dir_find(const nkey_dir *d, const char *role, const char *party,
                     const char **path, err *e)
{
    int hit = -1;

    for (int i = 0; i < d->n; i++) {
        if (strcmp(d->v[i].role, role) != 0 ||
            strcmp(d->v[i].party, party) != 0)
            continue;
        if (hit >= 0)
            return err_set(e, ST_CONFLICT,
                           "two credentials files in %s are %s %s's: %s and "
                           "%s; remove the one of the revoked identity "
                           "(twinline identity list --all)",
                           d->dir, role, party, d->v[hit].path, d->v[i].path);
        hit = i;
    }
    if (hit < 0)
        return err_set(e, ST_NOT_FOUND,
                       "no credentials for %s %.64s in %s; make them with: "
                       "twinline identity create %s %.64s --out "
                       "%s/%s-%.64s.creds (and run twinline nats-auth)",
                       role, party, d->dir, role, party, d->dir, role, party);
    *path = d->v[hit].path;
    return ST_OK;
}

void nkey_dir_close(nkey_dir *d)
{
    if (d == NULL)
        return;
    for (int i = 0; i < d->n; i++)
        free(d->v[i].path);
    free(d->v);
    free(d->dir);
    free(d);
}
