#include "console_keys.h"

#include <string.h>

#include <sodium.h>

#include "console_sql.h"

#define KEY_SECRET_BYTES 32
#define KEY_PREFIX       "tlk_"
/* The hash is keyed with this fixed context so that a key hashed here
 * means nothing to any other use of BLAKE2b. Not a secret. */
static const char hash_context[] = "twinline console api key v1 ....";

const char *console_key_kind_name(console_key_kind k)
{
    return k == CONSOLE_KEY_OPERATOR ? "operator" : "tenant";
}

static void key_hash_hex(const char *key, char hex[65])
{
    unsigned char h[32];

    crypto_generichash(h, sizeof(h), (const unsigned char *)key, strlen(key),
                       (const unsigned char *)hash_context, 32);
    sodium_bin2hex(hex, 65, h, sizeof(h));
}

status console_keys_create(db *d, console_key_kind kind, const char *owner,
                           const char *name, char *key, err *e)
{
    unsigned char id_raw[CONSOLE_KEY_ID_LEN / 2];
    unsigned char secret[KEY_SECRET_BYTES];
    char id[CONSOLE_KEY_ID_LEN + 1];
    char secret_txt[64];
    char text[CONSOLE_KEY_MAX];
    char hex[65];
    const char *kname = console_key_kind_name(kind);
    db_res *r = NULL;
    status st;

    if (!ids_token_valid(owner))
        return err_set(e, ST_INVALID,
                       "%s \"%s\" is not an identifier ([A-Za-z0-9_-], 1-64)",
                       kname, owner);
    if (name == NULL || name[0] == '\0' || strlen(name) > 100)
        return err_set(e, ST_INVALID, "a key's name is 1 to 100 characters");
    {
        const char *params[] = {owner, kname};

        st = db_run(d, &console_sql_key_owner, params, &r, e);
        if (st != ST_OK)
            return st;
        if (db_i64(r, 0, CONSOLE_KEY_OWNER_FOUND) == 0) {
            db_res_free(r);
            return err_set(e, ST_NOT_FOUND,
                           "no %s \"%s\" in the database; load it first "
                           "(twinline load FILE)",
                           kname, owner);
        }
        db_res_free(r);
    }
    randombytes_buf(id_raw, sizeof(id_raw));
    sodium_bin2hex(id, sizeof(id), id_raw, sizeof(id_raw));
    randombytes_buf(secret, sizeof(secret));
    sodium_bin2base64(secret_txt, sizeof(secret_txt), secret, sizeof(secret),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(secret, sizeof(secret));
    snprintf(text, sizeof(text), KEY_PREFIX "%s_%s", id, secret_txt);
    sodium_memzero(secret_txt, sizeof(secret_txt));
    key_hash_hex(text, hex);
    {
        const char *params[] = {id, kname, owner, name, hex};

        st = db_run(d, &console_sql_key_insert, params, NULL, e);
    }
    if (st == ST_OK)
        memcpy(key, text, strlen(text) + 1);
    sodium_memzero(text, sizeof(text));
    return st;
}

status console_keys_revoke(db *d, const char *id, err *e)
{
    const char *params[] = {id};
    db_res *r = NULL;
    status st;

    st = db_run(d, &console_sql_key_revoke, params, &r, e);
    if (st != ST_OK)
        return st;
    if (db_rows(r) == 0)
        st = err_set(e, ST_NOT_FOUND,
                     "no active key \"%s\"; see twinline-console key list", id);
    db_res_free(r);
    return st;
}

status console_keys_list(db *d, FILE *out, err *e)
{
    db_res *r = NULL;
    status st;

    st = db_run(d, &console_sql_key_list, NULL, &r, e);
    if (st != ST_OK)
        return st;
    fprintf(out, "%-16s  %-8s  %-16s  %-19s  %-19s  %-19s  %s\n", "ID", "KIND",
            "OWNER", "CREATED", "LAST USED", "REVOKED", "NAME");
    for (int i = 0; i < db_rows(r); i++)
        fprintf(out, "%-16s  %-8s  %-16s  %-19s  %-19s  %-19s  %s\n",
                db_val(r, i, CONSOLE_KEY_LIST_ID),
                db_val(r, i, CONSOLE_KEY_LIST_KIND),
                db_val(r, i, CONSOLE_KEY_LIST_OWNER),
                db_val(r, i, CONSOLE_KEY_LIST_CREATED_AT),
                db_null(r, i, CONSOLE_KEY_LIST_LAST_USED_AT) ||
                        !db_val(r, i, CONSOLE_KEY_LIST_LAST_USED_AT)[0]
                    ? "-"
                    : db_val(r, i, CONSOLE_KEY_LIST_LAST_USED_AT),
                db_val(r, i, CONSOLE_KEY_LIST_REVOKED_AT)[0]
                    ? db_val(r, i, CONSOLE_KEY_LIST_REVOKED_AT)
                    : "-",
                db_val(r, i, CONSOLE_KEY_LIST_NAME));
    db_res_free(r);
    return ST_OK;
}

/* tlk_ + 16 lower-case hex + _ + 43 base64url characters. */
static bool key_well_formed(const char *key, char id[CONSOLE_KEY_ID_LEN + 1])
{
    size_t n = strlen(key);
    const size_t want = 4 + CONSOLE_KEY_ID_LEN + 1 + 43;

    if (n != want || strncmp(key, KEY_PREFIX, 4) != 0 ||
        key[4 + CONSOLE_KEY_ID_LEN] != '_')
        return false;
    for (size_t i = 4; i < 4 + CONSOLE_KEY_ID_LEN; i++) {
        char c = key[i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    for (size_t i = 5 + CONSOLE_KEY_ID_LEN; i < n; i++) {
        char c = key[i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
              (c >= 'A' && c <= 'Z') || c == '-' || c == '_'))
            return false;
    }
    memcpy(id, key + 4, CONSOLE_KEY_ID_LEN);
    id[CONSOLE_KEY_ID_LEN] = '\0';
    return true;
}

status console_keys_verify(db *d, const char *key, console_identity *out,
                           err *e)
{
    char id[CONSOLE_KEY_ID_LEN + 1];
    char hex[65];
    const char *params[1];
    db_res *r = NULL;
    status st;
    const char *stored;

    if (key == NULL || !key_well_formed(key, id))
        return err_set(e, ST_NOT_FOUND, "malformed API key");
    params[0] = id;
    st = db_run(d, &console_sql_key_lookup, params, &r, e);
    if (st != ST_OK)
        return st;
    key_hash_hex(key, hex);
    if (db_rows(r) != 1) {
        st = err_set(e, ST_NOT_FOUND, "unknown API key");
        goto out;
    }
    stored = db_val(r, 0, CONSOLE_KEY_LOOKUP_HASH);
    if (strlen(stored) != 64 || sodium_memcmp(stored, hex, 64) != 0) {
        st = err_set(e, ST_NOT_FOUND, "wrong API key");
        goto out;
    }
    if (db_bool(r, 0, CONSOLE_KEY_LOOKUP_REVOKED)) {
        st = err_set(e, ST_NOT_FOUND, "revoked API key");
        goto out;
    }
    memcpy(out->key_id, id, sizeof(out->key_id));
    out->kind = strcmp(db_val(r, 0, CONSOLE_KEY_LOOKUP_KIND), "operator") == 0
                    ? CONSOLE_KEY_OPERATOR
                    : CONSOLE_KEY_TENANT;
    snprintf(out->owner, sizeof(out->owner), "%s",
             db_val(r, 0, CONSOLE_KEY_LOOKUP_OWNER));
    /* Best effort: a failure to note the use does not refuse the key. */
    db_run(d, &console_sql_key_touch, params, NULL, NULL);
out:
    db_res_free(r);
    return st;
}
