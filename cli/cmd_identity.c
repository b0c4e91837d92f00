#include "cmd_identity.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auditlog.h"
#include "bus.h"
#include "cli_args.h"
#include "cli_sql.h"
#include "cli_table.h"
#include "clock.h"
#include "cmd_load.h"
#include "fileio.h"
#include "ids.h"
#include "jsonx.h"
#include "natsauth.h"
#include "sbuf.h"
#include "subjects.h"

#define PROBE_WAIT_MS  10000 /* for the server to apply a reload */
#define NOTIFY_WAIT_MS 5000
#define MAX_SUFFIX     1000 /* "<role>-<party>-N" tried up to this N */
#define LIST_ENTRY_MAX 600  /* bytes of a pid file's path or a server URL */

/* ---- making identities ------------------------------------------------- */

static bool role_has_party(natsauth_role r)
{
    return r == NATSAUTH_TENANT || r == NATSAUTH_OPERATOR ||
           r == NATSAUTH_WORKER;
}

static const char *party_hint(natsauth_role r)
{
    switch (r) {
    case NATSAUTH_TENANT:
        return "run: twinline tenant list";
    case NATSAUTH_OPERATOR:
        return "load the operator's file first: twinline load FILE";
    default:
        return "run: twinline worker list";
    }
}

/* The party of role as given (NULL or "-" for the roles without one),
 * checked against the database, into party ("-" when none). */
static status party_check(db *d, natsauth_role role, const char *given,
                          char party[ID_MAX + 1], err *e)
{
    const char *params[2];
    db_res *r = NULL;
    status s;

    if (!role_has_party(role)) {
        if (given != NULL && strcmp(given, "-") != 0)
            return err_set(e, ST_INVALID,
                           "the %s role speaks for the installation, not for "
                           "a party; leave out \"%.64s\"",
                           natsauth_role_name(role), given);
        memcpy(party, "-", 2);
        return ST_OK;
    }
    if (given == NULL || given[0] == '\0')
        return err_set(e, ST_INVALID,
                       "an identity of role %s needs the %s it speaks for: "
                       "twinline identity create %s %s",
                       natsauth_role_name(role), natsauth_role_name(role),
                       natsauth_role_name(role),
                       role == NATSAUTH_TENANT     ? "TENANT"
                       : role == NATSAUTH_OPERATOR ? "OPERATOR"
                                                   : "WORKER");
    if (!ids_token_valid(given))
        return err_set(e, ST_INVALID,
                       "%s \"%.64s\" is not an id: 1-64 letters, digits, '_' "
                       "or '-'",
                       natsauth_role_name(role), given);
    params[0] = natsauth_role_name(role);
    params[1] = given;
    s = db_run(d, &cli_sql_identity_party_known, params, &r, e);
    if (s == ST_OK && !db_bool(r, 0, CLI_IDENTITY_PARTY_KNOWN_KNOWN))
        s = err_set(e, ST_NOT_FOUND, "%s \"%s\" is not known; %s",
                    natsauth_role_name(role), given, party_hint(role));
    db_res_free(r);
    if (s == ST_OK)
        snprintf(party, ID_MAX + 1, "%s", given);
    return s;
}

static status id_used(db *d, const char *id, bool *used, err *e)
{
    const char *params[1] = {id};
    db_res *r = NULL;
    status s = db_run(d, &cli_sql_identity_used, params, &r, e);

    if (s == ST_OK)
        *used = db_rows(r) > 0;
    db_res_free(r);
    return s;
}

/* The id of a new identity: given (checked and unused), or the first
 * unused of "<role>-<party>", "<role>-<party>-2", ... */
static status choose_id(db *d, natsauth_role role, const char *party,
                        const char *given, char id[ID_MAX + 1], err *e)
{
    char base[2 * ID_MAX + 32], cand[2 * ID_MAX + 48];
    bool used = false;
    status s;

    if (given != NULL) {
        if (!ids_token_valid(given))
            return err_set(e, ST_INVALID,
                           "identity id \"%.64s\" must be 1-64 letters, "
                           "digits, '_' or '-'",
                           given);
        if ((s = id_used(d, given, &used, e)) != ST_OK)
            return s;
        if (used)
            return err_set(e, ST_CONFLICT,
                           "identity %s exists (ids are never given out "
                           "twice); choose another --id, or give it a new "
                           "key: twinline identity rotate %s",
                           given, given);
        snprintf(id, ID_MAX + 1, "%s", given);
        return ST_OK;
    }
    if (role_has_party(role))
        snprintf(base, sizeof(base), "%s-%s", natsauth_role_name(role), party);
    else
        snprintf(base, sizeof(base), "%s", natsauth_role_name(role));
    for (int n = 1; n <= MAX_SUFFIX; n++) {
        if (n == 1)
            snprintf(cand, sizeof(cand), "%s", base);
        else
            snprintf(cand, sizeof(cand), "%s-%d", base, n);
        if (!ids_token_valid(cand))
            return err_set(e, ST_INVALID,
                           "the identity id %.80s would be longer than %d "
                           "characters; give one with --id",
                           cand, ID_MAX);
        if ((s = id_used(d, cand, &used, e)) != ST_OK)
            return s;
        if (!used) {
            /* A valid token: at most ID_MAX characters. */
            memcpy(id, cand, strlen(cand) + 1);
            return ST_OK;
        }
    }
    return err_set(e, ST_CONFLICT, "%s-2 to %s-%d are all taken; give --id",
                   base, base, MAX_SUFFIX);
}

static status out_path(const char *out, const char *id,
                       char path[CMD_IDENTITY_PATH_MAX], err *e)
{
    int n = out != NULL ? snprintf(path, CMD_IDENTITY_PATH_MAX, "%s", out)
                        : snprintf(path, CMD_IDENTITY_PATH_MAX, "%s.creds", id);

    if (n < 0 || n >= CMD_IDENTITY_PATH_MAX - 8)
        return err_set(e, ST_INVALID, "credentials path is too long");
    return ST_OK;
}

static status insert_key(db *d, const char *id, const char *role,
                         const char *party, const nkey *k, err *e)
{
    const char *params[4] = {id, role, party, nkey_public(k)};

    return db_run(d, &cli_sql_identity_insert, params, NULL, e);
}

/*
 * Record action on identity id of role and party in d's open transaction,
 * with its key (the new one; for identity.revoke the one revoked) and, for
 * identity.rotate, old_key (else NULL). Who is the admin running the
 * command. Public keys only: a seed never leaves its credentials file.
 */
static status audit_identity(db *d, const char *action, const char *id,
                             const char *role, const char *party,
                             const char *key, const char *old_key, err *e)
{
    char subjects[3 * ID_MAX + 32], *text = NULL;
    auditlog_who who;
    json_t *det = json_pack("{s:s, s:s, s:s}", "role", role, "party", party,
                            "public_key", key);
    status s = ST_OK;

    if (det != NULL && old_key != NULL &&
        json_object_set_new(det, "old_public_key", json_string(old_key)) != 0)
        s = err_set(e, ST_NOMEM, "out of memory");
    if (s == ST_OK &&
        (det == NULL || (text = json_dumps(det, JSON_COMPACT)) == NULL))
        s = err_set(e, ST_NOMEM, "out of memory");
    /* The identity, and the party it speaks for when it has one, so that
     * a tenant's or worker's identities are found by its id. */
    if (strcmp(party, "-") != 0)
        snprintf(subjects, sizeof(subjects), "identity:%s %s:%s", id, role,
                 party);
    else
        snprintf(subjects, sizeof(subjects), "identity:%s", id);
    auditlog_who_admin(&who);
    if (s == ST_OK)
        s = auditlog_append(d, &who, action, subjects, text, e);
    if (s != ST_OK)
        err_wrap(e, "audit record of %s %s", action, id);
    free(text);
    json_decref(det);
    return s;
}

static void made_fill(cmd_identity_made *m, const char *id, const char *role,
                      const char *party, const nkey *k, const char *path)
{
    snprintf(m->id, sizeof(m->id), "%s", id);
    snprintf(m->role, sizeof(m->role), "%s", role);
    snprintf(m->party, sizeof(m->party), "%s", party);
    snprintf(m->public_key, sizeof(m->public_key), "%s", nkey_public(k));
    snprintf(m->path, sizeof(m->path), "%s", path);
}

status cmd_identity_create(db *d, const char *role, const char *party,
                           const char *id, const char *out,
                           cmd_identity_made *made, err *e)
{
    char who[ID_MAX + 1], name[ID_MAX + 1], path[CMD_IDENTITY_PATH_MAX];
    natsauth_role r;
    nkey *k = NULL;
    bool file_made = false;
    status s;

    if ((s = natsauth_role_parse(role, &r, e)) != ST_OK)
        return s;
    if ((s = nkey_generate(&k, e)) != ST_OK)
        return s;
    if ((s = db_begin(d, e)) != ST_OK)
        goto out;
    if ((s = party_check(d, r, party, who, e)) != ST_OK ||
        (s = choose_id(d, r, who, id, name, e)) != ST_OK ||
        (s = out_path(out, name, path, e)) != ST_OK ||
        (s = insert_key(d, name, natsauth_role_name(r), who, k, e)) != ST_OK)
        goto out;
    if ((s = nkey_creds_write(path, k, name, natsauth_role_name(r), who, e)) !=
        ST_OK)
        goto out;
    file_made = true;
    /* Last before the commit: the record holds the trail's head lock
     * until then. */
    if ((s = audit_identity(d, "identity.create", name, natsauth_role_name(r),
                            who, nkey_public(k), NULL, e)) != ST_OK ||
        (s = db_commit(d, e)) != ST_OK)
        goto out;
    made_fill(made, name, natsauth_role_name(r), who, k, path);
out:
    if (s != ST_OK) {
        db_rollback(d);
        if (file_made)
            unlink(path);
    }
    nkey_destroy(k);
    return s;
}

/* Identity id's role and party, and whether it has an active key;
 * ST_NOT_FOUND when there is no such identity. */
static status identity_state(db *d, const char *id, char role[16],
                             char party[ID_MAX + 1], bool *active, err *e)
{
    const char *params[1] = {id};
    db_res *r = NULL;
    status s;

    if (!ids_token_valid(id))
        return err_set(e, ST_INVALID,
                       "identity id \"%.64s\" must be 1-64 letters, digits, "
                       "'_' or '-'",
                       id);
    s = db_run(d, &cli_sql_identity_state, params, &r, e);
    if (s == ST_OK && db_rows(r) == 0)
        s = err_set(e, ST_NOT_FOUND,
                    "there is no identity %s; run: twinline identity list", id);
    if (s == ST_OK) {
        snprintf(role, 16, "%s", db_val(r, 0, CLI_IDENTITY_STATE_ROLE));
        snprintf(party, ID_MAX + 1, "%s",
                 db_val(r, 0, CLI_IDENTITY_STATE_PARTY));
        *active = db_bool(r, 0, CLI_IDENTITY_STATE_ACTIVE);
    }
    db_res_free(r);
    return s;
}

static status revoked_error(const char *id, const char *role, const char *party,
                            err *e)
{
    return err_set(e, ST_INVALID,
                   "identity %s is revoked; make a new one: twinline "
                   "identity create %s%s%s",
                   id, role, strcmp(party, "-") != 0 ? " " : "",
                   strcmp(party, "-") != 0 ? party : "");
}

status cmd_identity_rotate(db *d, const char *id, const char *out,
                           cmd_identity_made *made, err *e)
{
    char role[16], party[ID_MAX + 1], path[CMD_IDENTITY_PATH_MAX];
    char tmp[CMD_IDENTITY_PATH_MAX + 8];
    char old_key[NKEY_PUBLIC_LEN + 1];
    const char *params[1] = {id};
    bool active = false, tmp_made = false;
    db_res *res = NULL;
    nkey *k = NULL;
    status s;

    if ((s = nkey_generate(&k, e)) != ST_OK)
        return s;
    if ((s = db_begin(d, e)) != ST_OK)
        goto out;
    if ((s = identity_state(d, id, role, party, &active, e)) != ST_OK)
        goto out;
    if (!active) {
        s = revoked_error(id, role, party, e);
        goto out;
    }
    if ((s = out_path(out, id, path, e)) != ST_OK)
        goto out;
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    /* A .new file is what an interrupted rotation left: never read. */
    if (unlink(tmp) != 0 && errno != ENOENT) {
        s = err_set(e, ST_IO, "remove %s: %s", tmp, strerror(errno));
        goto out;
    }
    if ((s = db_run(d, &cli_sql_identity_revoke, params, &res, e)) != ST_OK)
        goto out;
    if (db_rows(res) == 0) {
        s = err_set(e, ST_CONFLICT,
                    "identity %s was revoked meanwhile by someone else", id);
        goto out;
    }
    snprintf(old_key, sizeof(old_key), "%s",
             db_val(res, 0, CLI_IDENTITY_REVOKE_PUBLIC_KEY));
    if ((s = insert_key(d, id, role, party, k, e)) != ST_OK ||
        (s = nkey_creds_write(tmp, k, id, role, party, e)) != ST_OK)
        goto out;
    tmp_made = true;
    if ((s = audit_identity(d, "identity.rotate", id, role, party,
                            nkey_public(k), old_key, e)) != ST_OK ||
        (s = db_commit(d, e)) != ST_OK)
        goto out;
    /* Committed: the old key is revoked, so its file has to go. */
    if (rename(tmp, path) != 0) {
        s = err_set(e, ST_IO,
                    "identity %s has its new key, but %s could not replace "
                    "%s: %s; move it there by hand",
                    id, tmp, path, strerror(errno));
        tmp_made = false;
        goto out;
    }
    tmp_made = false;
    made_fill(made, id, role, party, k, path);
out:
    if (s != ST_OK)
        db_rollback(d);
    if (tmp_made)
        unlink(tmp);
    db_res_free(res);
    nkey_destroy(k);
    return s;
}

status cmd_identity_revoke(db *d, const char *id, admin_revoked *r, err *e)
{
    char role[16], party[ID_MAX + 1];
    const char *params[1] = {id};
    db_res *res = NULL;
    bool active = false;
    status s = db_begin(d, e);

    if (s != ST_OK)
        return s;
    if ((s = identity_state(d, id, role, party, &active, e)) != ST_OK)
        goto out;
    if (!active) {
        s = err_set(e, ST_INVALID, "identity %s is revoked already", id);
        goto out;
    }
    if ((s = db_run(d, &cli_sql_identity_revoke, params, &res, e)) != ST_OK)
        goto out;
    if (db_rows(res) == 0) {
        s = err_set(e, ST_CONFLICT,
                    "identity %s was revoked meanwhile by someone else", id);
        goto out;
    }
    if ((s = audit_identity(d, "identity.revoke", id, role, party,
                            db_val(res, 0, CLI_IDENTITY_REVOKE_PUBLIC_KEY),
                            NULL, e)) != ST_OK ||
        (s = db_commit(d, e)) != ST_OK)
        goto out;
    if (r != NULL) {
        snprintf(r->identity, sizeof(r->identity), "%s", id);
        snprintf(r->role, sizeof(r->role), "%s", role);
        snprintf(r->party, sizeof(r->party), "%s", party);
    }
out:
    if (s != ST_OK)
        db_rollback(d);
    db_res_free(res);
    return s;
}

status cmd_identity_list(db *d, const char *role, const char *party, bool all,
                         FILE *out, err *e)
{
    static const char *const heads[] = {"identity", "role",       "party",
                                        "status",   "public key", "created",
                                        "revoked"};
    const char *params[3] = {role != NULL ? role : "",
                             party != NULL ? party : "", all ? "t" : "f"};
    cli_table *t = NULL;
    db_res *r = NULL;
    status s = db_run(d, &cli_sql_identity_list, params, &r, e);

    if (s == ST_OK)
        s = cli_table_create(&t, 7, heads, e);
    for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
        const char *cells[7];

        for (int c = 0; c < 7; c++)
            cells[c] = db_val(r, i,
                              c == 0   ? CLI_IDENTITY_LIST_IDENTITY
                              : c == 1 ? CLI_IDENTITY_LIST_ROLE
                              : c == 2 ? CLI_IDENTITY_LIST_PARTY
                              : c == 3 ? CLI_IDENTITY_LIST_STATUS
                              : c == 4 ? CLI_IDENTITY_LIST_PUBLIC_KEY
                              : c == 5 ? CLI_IDENTITY_LIST_CREATED
                                       : CLI_IDENTITY_LIST_REVOKED);
        s = cli_table_add(t, cells, e);
    }
    if (s == ST_OK) {
        if (cli_table_rows(t) == 0)
            fprintf(out,
                    "no identities%s; make one with: twinline identity "
                    "create ROLE [PARTY]\n",
                    all ? "" : " with an active key");
        else
            cli_table_print(t, out);
    }
    cli_table_destroy(t);
    db_res_free(r);
    return s;
}

status cmd_identity_workers(db *d, const char *path, const char *dir, int *made,
                            err *e)
{
    json_t *doc = NULL, *workers;
    char *text = NULL;
    size_t len = 0;
    sbuf ids = {0};
    db_res *r = NULL;
    int k = 0;
    status s;

    *made = 0;
    s = fileio_read(path, ADMIN_LOAD_MAX_BYTES, "configuration file", &text,
                    &len, e);
    if (s == ST_OK)
        s = jsonx_parse(text, len, ADMIN_LOAD_MAX_BYTES, &doc, e);
    if (s != ST_OK)
        goto out;
    workers = json_object_get(doc, "workers");
    sbuf_append(&ids, "{", 1);
    for (size_t i = 0; i < json_array_size(workers); i++) {
        const char *id = jsonx_str(json_array_get(workers, i), "id");

        if (id == NULL || !ids_token_valid(id))
            continue;
        if (k++ > 0)
            sbuf_append(&ids, ",", 1);
        sbuf_pg_elem(&ids, id);
    }
    sbuf_append(&ids, "}", 1);
    if (ids.failed) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    if (k == 0)
        goto out;
    {
        const char *params[1] = {sbuf_str(&ids)};
        s = db_run(d, &cli_sql_identity_workers_new, params, &r, e);
    }
    for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
        const char *w = db_val(r, i, CLI_IDENTITY_WORKERS_NEW_ID);
        char file[CMD_IDENTITY_PATH_MAX];
        cmd_identity_made m;

        if (snprintf(file, sizeof(file), "%s/worker-%s.creds", dir, w) >=
            (int)sizeof(file) - 8) {
            s = err_set(e, ST_INVALID,
                        "credentials directory %.200s is too "
                        "long",
                        dir);
            break;
        }
        s = cmd_identity_create(d, "worker", w, NULL, file, &m, e);
        if (s == ST_OK)
            (*made)++;
    }
out:
    db_res_free(r);
    sbuf_free(&ids);
    json_decref(doc);
    free(text);
    if (s != ST_OK)
        err_wrap(e, "%s", path);
    return s;
}

/* ---- the server's authorization ----------------------------------------- */

/* Check the users of an extra file (TL_NATS_AUTH_EXTRA): a line is blank,
 * a # comment or one whole user entry "{ ... }". Nothing else may reach
 * the users list: a stray bracket would end it and let the file rewrite
 * the rest of the server's authorization. */
static status check_extra_users(const char *path, const char *text, err *e)
{
    int line = 0;

    for (const char *p = text; *p != '\0';) {
        const char *end = strchr(p, '\n');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        size_t a = 0, z = len;
        int depth = 0;

        line++;
        while (a < z && (p[a] == ' ' || p[a] == '\t'))
            a++;
        while (z > a &&
               (p[z - 1] == ' ' || p[z - 1] == '\t' || p[z - 1] == '\r'))
            z--;
        if (a < z && p[a] != '#') {
            bool ok = p[a] == '{', quoted = false;
            int lists = 0;

            /* Outside quoted strings, braces and brackets balance, and the
             * entry's braces close only at the line's end. */
            for (size_t i = a; ok && i < z; i++) {
                if (quoted) {
                    if (p[i] == '\\')
                        i++;
                    else if (p[i] == '"')
                        quoted = false;
                    continue;
                }
                if (p[i] == '"')
                    quoted = true;
                else if (p[i] == '{')
                    depth++;
                else if (p[i] == '}')
                    depth--;
                else if (p[i] == '[')
                    lists++;
                else if (p[i] == ']')
                    lists--;
                if (lists < 0 || (depth == 0 && i + 1 < z))
                    ok = false;
            }
            if (!ok || quoted || lists != 0 || depth != 0)
                return err_set(e, ST_INVALID,
                               "%s line %d: expected one user per line, "
                               "{ nkey: \"U...\", permissions: { ... } }",
                               path, line);
        }
        p += len;
        if (*p == '\n')
            p++;
    }
    return ST_OK;
}

/* Append the users of the file at path (none when path is NULL or empty)
 * to the generated authorization *text, inside its users list: nats-server
 * has one list, so users of one's own (a test's observer) must be in the
 * generated file to survive its regeneration. */
static status add_extra_users(char **text, const char *path, err *e)
{
    static const char closing[] = "  ]\n}\n";
    size_t len = strlen(*text), cl = sizeof(closing) - 1;
    struct stat st;
    char *extra = NULL;
    sbuf b = {0};
    size_t n = 0;
    status s;

    if (path == NULL || path[0] == '\0')
        return ST_OK;
    if (stat(path, &st) != 0)
        return err_set(e, ST_CONFIG, "TL_NATS_AUTH_EXTRA: %s: %s", path,
                       strerror(errno));
    /* It grants access to the server like the generated file itself. */
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
        return err_set(e, ST_CONFIG,
                       "%s may be written by others, and it grants access to "
                       "nats-server; run chmod 600 %s",
                       path, path);
    if ((s = fileio_read(path, NATSAUTH_LIST_MAX, "extra users file", &extra,
                         &n, e)) != ST_OK)
        return s;
    if ((s = check_extra_users(path, extra, e)) != ST_OK)
        goto out;
    if (len < cl || strcmp(*text + len - cl, closing) != 0) {
        s = err_set(e, ST_INTERNAL,
                    "the generated authorization does not "
                    "end its users list as expected");
        goto out;
    }
    sbuf_append(&b, *text, len - cl);
    sbuf_printf(&b, "    # Added from TL_NATS_AUTH_EXTRA (%s):\n%s%s%s", path,
                extra, n > 0 && extra[n - 1] != '\n' ? "\n" : "", closing);
    if (b.failed) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    free(*text);
    *text = sbuf_take(&b);
out:
    sbuf_free(&b);
    free(extra);
    return s;
}

status cmd_nats_auth_text(db *d, const char *prefix, const char *probe_key,
                          char **out, size_t *n, err *e)
{
    natsauth_identity *ids = NULL;
    db_res *r = NULL;
    int rows = 0;
    status s = db_run(d, &cli_sql_identity_active_all, NULL, &r, e);

    if (s != ST_OK)
        return s;
    rows = db_rows(r);
    if (rows == 0) {
        s = err_set(e, ST_INVALID,
                    "no identity has an active key, and nats-server without "
                    "users would let anyone in; make the services' first: "
                    "twinline identity create dispatcher (and billing, "
                    "console, admin)");
        goto out;
    }
    ids = calloc((size_t)rows, sizeof(*ids));
    if (ids == NULL) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; s == ST_OK && i < rows; i++) {
        natsauth_identity *x = &ids[i];

        snprintf(x->id, sizeof(x->id), "%s",
                 db_val(r, i, CLI_IDENTITY_ACTIVE_ALL_IDENTITY));
        snprintf(x->party, sizeof(x->party), "%s",
                 db_val(r, i, CLI_IDENTITY_ACTIVE_ALL_PARTY));
        snprintf(x->public_key, sizeof(x->public_key), "%s",
                 db_val(r, i, CLI_IDENTITY_ACTIVE_ALL_PUBLIC_KEY));
        s = natsauth_role_parse(db_val(r, i, CLI_IDENTITY_ACTIVE_ALL_ROLE),
                                &x->role, e);
    }
    if (s == ST_OK)
        s = natsauth_config_probed(prefix, ids, (size_t)rows, probe_key, out,
                                   e);
    if (s == ST_OK &&
        (s = add_extra_users(out, getenv("TL_NATS_AUTH_EXTRA"), e)) != ST_OK) {
        free(*out);
        *out = NULL;
    }
    if (s == ST_OK && n != NULL)
        *n = (size_t)rows;
out:
    free(ids);
    db_res_free(r);
    return s;
}

/* Write text to path through path.new and a rename, mode 0600. */
static status write_replace(const char *path, const char *text, err *e)
{
    char tmp[CMD_IDENTITY_PATH_MAX + 8];
    size_t len = strlen(text), done = 0;
    int fd;
    status s = ST_OK;

    if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
        return err_set(e, ST_INVALID, "path %.200s is too long", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return err_set(e, ST_IO, "create %s: %s", tmp, strerror(errno));
    while (s == ST_OK && done < len) {
        ssize_t n = write(fd, text + done, len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            s = err_set(e, ST_IO, "write %s: %s", tmp, strerror(errno));
        else
            done += (size_t)n;
    }
    if (s == ST_OK && (fchmod(fd, 0600) != 0 || fsync(fd) != 0))
        s = err_set(e, ST_IO, "write %s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && s == ST_OK)
        s = err_set(e, ST_IO, "write %s: %s", tmp, strerror(errno));
    if (s == ST_OK && rename(tmp, path) != 0)
        s = err_set(e, ST_IO, "replace %s: %s", path, strerror(errno));
    if (s != ST_OK)
        unlink(tmp);
    return s;
}

/* The process id in pidfile, checked to be a running nats-server. */
static status read_pid(const char *pidfile, pid_t *out, err *e)
{
    char buf[64], comm[64], path[64];
    FILE *f = fopen(pidfile, "r");
    long pid = 0;
    char *end = NULL;

    if (f == NULL)
        return err_set(e, ST_CONFIG,
                       "cannot read nats-server's pid file %s: %s", pidfile,
                       strerror(errno));
    if (fgets(buf, sizeof(buf), f) == NULL)
        buf[0] = '\0';
    fclose(f);
    pid = strtol(buf, &end, 10);
    if (end == buf || (*end != '\0' && *end != '\n') || pid <= 1)
        return err_set(e, ST_CONFIG, "%s holds no process id", pidfile);
    if (kill((pid_t)pid, 0) != 0)
        return err_set(e, ST_CONFIG,
                       "no process %ld (from %s) runs: is nats-server "
                       "started?",
                       pid, pidfile);
    /* Never signal some other program that took over an old pid. */
    snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
    f = fopen(path, "r");
    if (f != NULL) {
        if (fgets(comm, sizeof(comm), f) == NULL)
            comm[0] = '\0';
        fclose(f);
        if (strncmp(comm, "nats-server", 11) != 0)
            return err_set(e, ST_CONFIG,
                           "process %ld (from %s) is not nats-server but "
                           "%.40s",
                           pid, pidfile, comm);
    }
    *out = (pid_t)pid;
    return ST_OK;
}

/* Wait until the probe's key connects to the server at url: it applied
 * the file. */
static status wait_probe(const char *url, const char *creds, err *e)
{
    int64_t give_up = clock_mono_us() + (int64_t)PROBE_WAIT_MS * 1000;
    bus_opts o;
    status s;

    memset(&o, 0, sizeof(o));
    o.url = url;
    o.name = "twinline-nats-auth-probe";
    o.creds = creds;
    o.connect_timeout_ms = 1000;
    /* A reload takes milliseconds; trying at once would only add refused
     * connections of the probe to the server's log. */
    clock_sleep_ms(50);
    for (;;) {
        bus *b = NULL;
        err pe = {0};

        s = bus_connect_opts(&b, &o, &pe);
        bus_close(b);
        if (s == ST_OK)
            return ST_OK;
        if (s != ST_UNAVAILABLE || strstr(pe.msg, "refused") == NULL)
            return err_set(e, s, "checking the reload on %s: %s", url, pe.msg);
        if (clock_mono_us() > give_up)
            return err_set(e, ST_TIMEOUT,
                           "nats-server %s did not apply the new "
                           "authorization within %d s; see its log",
                           url, PROBE_WAIT_MS / 1000);
        clock_sleep_ms(200);
    }
}

/* Split list at commas into at most max entries (spaces around them
 * dropped). Returns how many, or -1 with e set when an entry is empty or
 * too long, or there are more than max. */
static int split_list(const char *list, const char *what,
                      char (*out)[LIST_ENTRY_MAX], int max, err *e)
{
    int n = 0;

    for (const char *p = list;; p++) {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

        while (len > 0 && *p == ' ') {
            p++;
            len--;
        }
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len == 0 || len >= LIST_ENTRY_MAX || n == max) {
            err_set(e, ST_CONFIG,
                    "%s \"%.200s\": expected up to %d comma-separated "
                    "entries, none empty",
                    what, list, max);
            return -1;
        }
        memcpy(out[n], p, len);
        out[n++][len] = '\0';
        if (end == NULL)
            return n;
        p = end;
    }
}

status cmd_nats_auth_apply(const config *cfg, db *d, const char *file,
                           const char *pidfile, FILE *out, err *e)
{
    char dir[] = "/tmp/twinline-probe-XXXXXX", creds[64];
    char pidfiles[CMD_NATS_AUTH_SERVERS_MAX][LIST_ENTRY_MAX];
    char urls[CMD_NATS_AUTH_SERVERS_MAX][LIST_ENTRY_MAX];
    pid_t pids[CMD_NATS_AUTH_SERVERS_MAX];
    sbuf done = {0};
    nkey *probe = NULL;
    char *text = NULL;
    size_t n = 0;
    bool dir_made = false, creds_made = false;
    int npid = 0, nurl = 0;
    status s;

    /* A cluster's nodes each read the file: every one is reloaded, and the
     * probe waits on each server the programs connect to. */
    if (pidfile != NULL) {
        npid = split_list(pidfile, "pid files", pidfiles,
                          CMD_NATS_AUTH_SERVERS_MAX, e);
        nurl = split_list(cfg->nats, "NATS servers", urls,
                          CMD_NATS_AUTH_SERVERS_MAX, e);
        if (npid < 0 || nurl < 0)
            return e->code;
        for (int i = 0; i < npid; i++)
            if ((s = read_pid(pidfiles[i], &pids[i], e)) != ST_OK)
                return s;
    }
    if ((s = nkey_generate(&probe, e)) != ST_OK)
        return s;
    s = cmd_nats_auth_text(d, cfg->prefix, nkey_public(probe), &text, &n, e);
    if (s == ST_OK)
        s = write_replace(file, text, e);
    if (s != ST_OK || pidfile == NULL)
        goto out;
    /* The probe's seed exists only here, for the one check. */
    if (mkdtemp(dir) == NULL) {
        s = err_set(e, ST_IO, "make a directory for the reload probe: %s",
                    strerror(errno));
        goto out;
    }
    dir_made = true;
    snprintf(creds, sizeof(creds), "%s/probe.creds", dir);
    if ((s = nkey_creds_write(creds, probe, "twinline-probe", "probe", "-",
                              e)) != ST_OK)
        goto out;
    creds_made = true;
    for (int i = 0; s == ST_OK && i < npid; i++) {
        if (kill(pids[i], SIGHUP) != 0)
            s = err_set(e, ST_CONFIG, "cannot signal nats-server %ld: %s",
                        (long)pids[i], strerror(errno));
        sbuf_printf(&done, "%s%ld", i > 0 ? ", " : "", (long)pids[i]);
    }
    for (int i = 0; s == ST_OK && i < nurl; i++)
        s = wait_probe(urls[i], creds, e);
out:
    if (creds_made)
        unlink(creds);
    if (dir_made)
        rmdir(dir);
    if (s == ST_OK && pidfile != NULL)
        fprintf(out, "nats-server %s reloaded: %zu identities (%s)\n",
                sbuf_str(&done), n, file);
    else if (s == ST_OK)
        fprintf(out,
                "wrote %s: %zu identities; apply it: nats-server --signal "
                "reload=PID (or twinline nats-auth --write %s --reload "
                "PIDFILE)\n",
                file, n, file);
    sbuf_free(&done);
    free(text);
    nkey_destroy(probe);
    return s;
}

status cmd_identity_notify_revoked(const config *cfg, const admin_revoked *r,
                                   bool *released, err *e)
{
    char subject[SUBJECTS_MAX], code[48], creds[sizeof(cfg->creds)];
    char *body = NULL;
    size_t len = 0;
    bus_msg *reply = NULL;
    bus_opts o;
    bus *b = NULL;
    bool ok = false;
    status s;

    *released = false;
    s = subjects_admin(subject, sizeof(subject), cfg->prefix,
                       SUBJECTS_IDENTITY_REVOKED, e);
    if (s == ST_OK)
        s = admin_msg_revoked_encode(r, &body, &len, e);
    if (s != ST_OK)
        goto out;
    config_bus_opts(cfg, "twinline-cli", &o);
    if ((s = config_creds_for(cfg, "admin", creds, sizeof(creds), e)) != ST_OK)
        goto out;
    o.creds = creds[0] != '\0' ? creds : NULL;
    if ((s = bus_connect_opts(&b, &o, e)) != ST_OK)
        goto out;
    s = bus_request(b, subject, body, len, NOTIFY_WAIT_MS, &reply, e);
    if (s == ST_OK)
        s = admin_msg_revoked_reply_decode(
            bus_msg_data(reply), bus_msg_len(reply), &ok, released, code, e);
    if (s == ST_OK && !ok)
        s = err_set(e, ST_INTERNAL, "the dispatcher answered %s: %.*s", code,
                    (int)bus_msg_len(reply), bus_msg_data(reply));
out:
    bus_msg_free(reply);
    bus_close(b);
    free(body);
    return s;
}

/* ---- the commands -------------------------------------------------------- */

static const char identity_usage[] =
    "usage: twinline identity create ROLE [PARTY] [--id ID] [--out FILE] "
    "[--apply]\n"
    "       twinline identity list [--role ROLE] [--party PARTY] [--all]\n"
    "       twinline identity revoke ID [--apply]\n"
    "       twinline identity rotate ID [--out FILE] [--apply]\n"
    "\n"
    "NATS identities, kept in PostgreSQL. ROLE is dispatcher, billing,\n"
    "console or admin (the installation's own, without a PARTY), or tenant,\n"
    "operator or worker with the PARTY it speaks for (a bank may have\n"
    "several identities, one per integration client). create writes the\n"
    "credentials file (mode 0600; default ./ID.creds) and prints how to use\n"
    "it; ID defaults to ROLE-PARTY (or ROLE), -2, -3, ... when taken.\n"
    "rotate gives an identity a new key and replaces its file; revoke\n"
    "removes its key and tells the dispatcher, which puts a revoked\n"
    "worker's offers and tasks back in the queue. list shows active keys\n"
    "(--all: revoked ones too).\n"
    "\n"
    "A change reaches nats-server when its authorization is regenerated\n"
    "and the server reloaded: --apply does it at once, as twinline\n"
    "nats-auth does (it needs --write FILE and --reload PIDFILE, or\n"
    "TL_NATS_AUTH and TL_NATS_PIDFILE).\n"
    "  --apply            regenerate the authorization and reload nats-server\n"
    "  --write FILE       with --apply: the authorization file (env "
    "TL_NATS_AUTH)\n"
    "  --reload PIDFILE   with --apply: nats-server's pid file (env "
    "TL_NATS_PIDFILE)\n";

static const char nats_auth_usage[] =
    "usage: twinline nats-auth [--write FILE] [--reload PIDFILE[,...]]\n"
    "\n"
    "Generate nats-server's authorization (an authorization { users = [...] }\n"
    "block, one nkey user with its own permissions per active identity;\n"
    "docs/security.md) from PostgreSQL. Without --write it is printed; with\n"
    "--write FILE (env TL_NATS_AUTH) it replaces FILE, which the server's\n"
    "configuration includes, and with --reload PIDFILE (env TL_NATS_PIDFILE)\n"
    "the server is reloaded (SIGHUP, like nats-server --signal reload=PID)\n"
    "and the command waits until it applied the file. Connected clients\n"
    "whose identity stays keep their connections; a revoked identity's are\n"
    "cut off. A cluster's nodes: their pid files separated by commas; each\n"
    "is reloaded, and the command waits for every server of --nats.\n"
    "TL_NATS_AUTH_EXTRA=FILE adds FILE's users (one { ... } entry a line,\n"
    "mode 0600) that are no identities, e.g. the fault drill's observer.\n";

static const char *env_or(const char *given, const char *name)
{
    const char *v = getenv(name);

    if (given != NULL)
        return given;
    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* --apply: regenerate and reload; the exit code. */
static int apply(const cli_args *a, db *d, const char *file,
                 const char *pidfile, const char *usage)
{
    err e = {0};

    file = env_or(file, "TL_NATS_AUTH");
    pidfile = env_or(pidfile, "TL_NATS_PIDFILE");
    if (file == NULL || pidfile == NULL)
        return cli_usage_error(usage, "%s",
                               "--apply needs --write FILE and --reload "
                               "PIDFILE (or TL_NATS_AUTH and TL_NATS_PIDFILE)");
    if (cmd_nats_auth_apply(&a->cfg, d, file, pidfile, stdout, &e) != ST_OK)
        return cli_fail(&e);
    return 0;
}

static void print_use(const cmd_identity_made *m, const char *prefix)
{
    printf("identity %s (%s%s%s), public key %s\n", m->id, m->role,
           strcmp(m->party, "-") != 0 ? " " : "",
           strcmp(m->party, "-") != 0 ? m->party : "", m->public_key);
    printf("credentials: %s (mode 0600; anyone holding it can act as %s)\n",
           m->path, m->id);
    printf("use it: ");
    if (strcmp(m->role, "worker") == 0)
        printf("twinline-agent --interactive --worker %s --creds %s\n",
               m->party, m->path);
    else if (strcmp(m->role, "tenant") == 0)
        printf("the bank's client connects with this file and inbox prefix "
               "_INBOX_%s, publishing on %s.api.%s.> (docs/protocol.md); "
               "e.g. twinline case submit --tenant %s --creds %s ...\n",
               m->id, prefix, m->party, m->party, m->path);
    else if (strcmp(m->role, "operator") == 0)
        printf("the operator's tools send %s.ops.%s.task.priority with this "
               "file and inbox prefix _INBOX_%s (docs/protocol.md)\n",
               prefix, m->party, m->id);
    else if (strcmp(m->role, "admin") == 0)
        printf("export TL_NATS_CREDS=%s for the twinline commands\n", m->path);
    else
        printf("twinline-%s --creds %s (or TL_NATS_CREDS=%s)\n", m->role,
               m->path, m->path);
}

int cmd_identity(int argc, char **argv, const config *cfg)
{
    enum { O_ID, O_OUT, O_APPLY, O_WRITE, O_RELOAD, O_ROLE, O_PARTY, O_ALL };
    cli_opt o[] = {
        {"--id", true, NULL, false},     {"--out", true, NULL, false},
        {"--apply", false, NULL, false}, {"--write", true, NULL, false},
        {"--reload", true, NULL, false}, {"--role", true, NULL, false},
        {"--party", true, NULL, false},  {"--all", false, NULL, false}};
    cli_args a;
    cmd_identity_made m;
    admin_revoked rv;
    const char *verb;
    bool do_apply;
    db *d = NULL;
    err e = {0};
    int rc = cli_args_parse(argc, argv, 1, cfg, o, 8, NULL, identity_usage, &a);

    if (rc != 0)
        return rc;
    if (a.help) {
        printf("%s\n%s", identity_usage, config_flags_help);
        return 0;
    }
    if (a.npos == 0)
        return cli_usage_error(identity_usage, "%s",
                               "expected: identity create, list, revoke or "
                               "rotate");
    verb = a.pos[0];
    do_apply = o[O_APPLY].set || o[O_WRITE].set || o[O_RELOAD].set;
    if (strcmp(verb, "create") == 0) {
        if (a.npos < 2 || a.npos > 3)
            return cli_usage_error(identity_usage, "%s",
                                   "expected: identity create ROLE [PARTY]");
    } else if (strcmp(verb, "list") == 0) {
        if (a.npos != 1 || do_apply || o[O_ID].set || o[O_OUT].set)
            return cli_usage_error(identity_usage, "%s",
                                   "expected: identity list [--role ROLE] "
                                   "[--party PARTY] [--all]");
    } else if (strcmp(verb, "revoke") == 0 || strcmp(verb, "rotate") == 0) {
        if (a.npos != 2 || o[O_ID].set ||
            (o[O_OUT].set && strcmp(verb, "revoke") == 0))
            return cli_usage_error(identity_usage, "expected: identity %s ID",
                                   verb);
    } else {
        return cli_usage_error(identity_usage,
                               "unknown subcommand \"%s\"; expected create, "
                               "list, revoke or rotate",
                               verb);
    }
    if (strcmp(verb, "list") != 0 &&
        (o[O_ROLE].set || o[O_PARTY].set || o[O_ALL].set))
        return cli_usage_error(identity_usage, "%s",
                               "--role, --party and --all are for list");
    if (db_connect(&d, a.cfg.db, &e) != ST_OK)
        return cli_fail(&e);
    if (strcmp(verb, "list") == 0) {
        if (cmd_identity_list(d, o[O_ROLE].value, o[O_PARTY].value,
                              o[O_ALL].set, stdout, &e) != ST_OK)
            rc = cli_fail(&e);
        goto out;
    }
    if (strcmp(verb, "create") == 0 || strcmp(verb, "rotate") == 0) {
        status s =
            strcmp(verb, "create") == 0
                ? cmd_identity_create(d, a.pos[1],
                                      a.npos == 3 ? a.pos[2] : NULL,
                                      o[O_ID].value, o[O_OUT].value, &m, &e)
                : cmd_identity_rotate(d, a.pos[1], o[O_OUT].value, &m, &e);
        if (s != ST_OK) {
            rc = cli_fail(&e);
            goto out;
        }
        print_use(&m, a.cfg.prefix);
        if (strcmp(verb, "rotate") == 0)
            printf("the old key works until nats-server reloads its "
                   "authorization\n");
    } else {
        if (cmd_identity_revoke(d, a.pos[1], &rv, &e) != ST_OK) {
            rc = cli_fail(&e);
            goto out;
        }
        printf("identity %s (%s %s) revoked\n", rv.identity, rv.role, rv.party);
    }
    if (do_apply)
        rc = apply(&a, d, o[O_WRITE].value, o[O_RELOAD].value, identity_usage);
    else
        printf("nats-server applies this once its authorization is "
               "regenerated: twinline nats-auth --write FILE --reload "
               "PIDFILE\n");
    if (rc == 0 && strcmp(verb, "revoke") == 0) {
        bool released = false;

        if (cmd_identity_notify_revoked(&a.cfg, &rv, &released, &e) != ST_OK)
            fprintf(stderr,
                    "twinline: the dispatcher was not told (%s); a revoked "
                    "worker's tasks go back to the queue when its lease "
                    "runs out\n",
                    e.msg);
        else if (released)
            printf("the dispatcher put worker %s's offers and tasks back in "
                   "the queue\n",
                   rv.party);
    }
out:
    db_close(d);
    return rc;
}

int cmd_nats_auth(int argc, char **argv, const config *cfg)
{
    cli_opt o[] = {{"--write", true, NULL, false},
                   {"--reload", true, NULL, false}};
    const char *file, *pidfile;
    cli_args a;
    db *d = NULL;
    char *text = NULL;
    err e = {0};
    int rc =
        cli_args_parse(argc, argv, 1, cfg, o, 2, NULL, nats_auth_usage, &a);

    if (rc != 0)
        return rc;
    if (a.help) {
        printf("%s\n%s", nats_auth_usage, config_flags_help);
        return 0;
    }
    if (a.npos > 0)
        return cli_usage_error(nats_auth_usage, "unexpected argument %s",
                               a.pos[0]);
    file = env_or(o[0].value, "TL_NATS_AUTH");
    pidfile = env_or(o[1].value, "TL_NATS_PIDFILE");
    if (pidfile != NULL && file == NULL)
        return cli_usage_error(nats_auth_usage, "%s",
                               "--reload needs --write FILE (the file the "
                               "server includes)");
    if (db_connect(&d, a.cfg.db, &e) != ST_OK)
        return cli_fail(&e);
    if (file != NULL) {
        if (cmd_nats_auth_apply(&a.cfg, d, file, pidfile, stdout, &e) != ST_OK)
            rc = cli_fail(&e);
    } else if (cmd_nats_auth_text(d, a.cfg.prefix, NULL, &text, NULL, &e) !=
               ST_OK) {
        rc = cli_fail(&e);
    } else {
        fputs(text, stdout);
    }
    free(text);
    db_close(d);
    return rc;
}
