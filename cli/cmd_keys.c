#include "cmd_keys.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auditlog.h"
#include "cli_args.h"
#include "cli_sql.h"
#include "cli_table.h"
#include "ids.h"
#include "log.h"
#include "seal.h"

#define RESEAL_BATCH_DEF 500
#define RESEAL_BATCH_MAX 10000

status cmd_keys_list(db *d, FILE *out, err *e)
{
    static const char *const heads[] = {"TENANT",  "KEY",       "MASTER KEY",
                                        "CREATED", "REWRAPPED", "CASES"};
    cli_table *t = NULL;
    db_res *r = NULL, *q = NULL;
    status s = db_run(d, &cli_sql_keys_list, NULL, &r, e);

    if (s == ST_OK)
        s = db_run(d, &cli_sql_keys_plaintext, NULL, &q, e);
    if (s == ST_OK)
        s = cli_table_create(&t, 6, heads, e);
    if (s != ST_OK)
        goto out;
    cli_table_right(t, 1);
    cli_table_right(t, 5);
    for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
        const char *cells[6] = {db_val(r, i, CLI_KEYS_LIST_TENANT_ID),
                                db_val(r, i, CLI_KEYS_LIST_KEY_ID),
                                db_val(r, i, CLI_KEYS_LIST_MASTER_KEY_ID),
                                db_val(r, i, CLI_KEYS_LIST_CREATED_AT),
                                db_val(r, i, CLI_KEYS_LIST_REWRAPPED_AT),
                                db_val(r, i, CLI_KEYS_LIST_CASES)};
        s = cli_table_add(t, cells, e);
    }
    if (s != ST_OK)
        goto out;
    if (cli_table_rows(t) == 0)
        fprintf(out, "no data keys yet: the dispatcher makes a tenant's first "
                     "one with its first case\n");
    else
        cli_table_print(t, out);
    if (db_rows(q) == 1) {
        int64_t plain = db_i64(q, 0, CLI_KEYS_PLAINTEXT_PLAINTEXT);
        int64_t erased = db_i64(q, 0, CLI_KEYS_PLAINTEXT_ERASED);

        if (erased > 0)
            fprintf(out, "%lld erased cases hold no personal data\n",
                    (long long)erased);
        if (plain > 0)
            fprintf(out,
                    "%lld cases from before schema 014 hold their customer "
                    "in plain text; seal them with: twinline keys reseal\n",
                    (long long)plain);
    }
out:
    cli_table_destroy(t);
    db_res_free(r);
    db_res_free(q);
    return s;
}

/* Roll back d's transaction and forget the keys ks made in it: a data
 * key held in memory whose row was rolled back would be made again,
 * differently, by the next command of the same keystore. */
static void roll_back(db *d, keystore *ks)
{
    err e = {0};

    db_rollback(d);
    if (keystore_reload(ks, d, &e) != ST_OK)
        log_warn("keys", "reading the data keys again: %s", e.msg);
}

/* The audit record of a key change, in d's open transaction, as done by
 * the admin running the command. */
static status record_key_change(db *d, const char *action, const char *subjects,
                                const char *details, err *e)
{
    auditlog_who who;
    status s;

    auditlog_who_admin(&who);
    s = auditlog_append(d, &who, action, subjects, details, e);
    if (s != ST_OK)
        err_wrap(e, "audit record of %s", action);
    return s;
}

status cmd_keys_rotate(db *d, keystore *ks, const char *const *tenants, int n,
                       FILE *out, err *e)
{
    db_res *r = NULL;
    const char **list = NULL;
    uint32_t *ids = NULL;
    int count = n;
    status s = db_begin(d, e);

    if (s != ST_OK)
        return s;
    if (n == 0) {
        s = db_run(d, &cli_sql_keys_tenants, NULL, &r, e);
        count = s == ST_OK ? db_rows(r) : 0;
    }
    list = calloc((size_t)count + 1, sizeof(char *));
    ids = calloc((size_t)count + 1, sizeof(uint32_t));
    if (s == ST_OK && (list == NULL || ids == NULL))
        s = err_set(e, ST_NOMEM, "out of memory");
    for (int i = 0; s == ST_OK && i < count; i++)
        list[i] = n == 0 ? db_val(r, i, CLI_KEYS_TENANTS_ID) : tenants[i];
    if (s == ST_OK && count == 0)
        s = err_set(e, ST_NOT_FOUND,
                    "there are no tenants yet; load them with: twinline "
                    "load FILE");
    for (int i = 0; s == ST_OK && i < count; i++) {
        char subj[ID_MAX + 16], det[160];

        s = keystore_rotate_tenant(ks, d, list[i], &ids[i], e);
        snprintf(subj, sizeof(subj), "tenant:%s", list[i]);
        snprintf(det, sizeof(det), "{\"key_id\":%u,\"master_key\":\"%s\"}",
                 (unsigned)ids[i], keystore_master_id(ks));
        if (s == ST_OK)
            s = record_key_change(d, "keys.rotate", subj, det, e);
    }
    if (s == ST_OK)
        s = db_commit(d, e);
    if (s != ST_OK) {
        roll_back(d, ks);
        goto out;
    }
    for (int i = 0; i < count; i++)
        fprintf(out, "%s: new data key %u, wrapped by master key %s\n", list[i],
                (unsigned)ids[i], keystore_master_id(ks));
    fprintf(out, "running dispatchers seal new cases under the new keys within "
                 "5 s; older cases stay readable under their keys (seal them "
                 "again with: twinline keys reseal)\n");
out:
    db_res_free(r);
    free((void *)list);
    free(ids);
    return s;
}

status cmd_keys_rotate_master(db *d, keystore *ks, const char *new_file,
                              FILE *out, err *e)
{
    seal_kms to = {0};
    struct stat st;
    bool made = false;
    int n = 0;
    status s = ST_OK;

    if (stat(new_file, &st) != 0) {
        s = seal_master_keygen(new_file, NULL, e);
        made = s == ST_OK;
    }
    if (s == ST_OK)
        s = seal_kms_local_file(&to, new_file, e);
    if (s != ST_OK)
        return s;
    if (strcmp(to.id(to.ctx), keystore_master_id(ks)) == 0) {
        seal_kms_destroy(&to);
        return err_set(e, ST_CONFIG,
                       "%s holds the current master key %s; give a new "
                       "file (it is made when missing)",
                       new_file, keystore_master_id(ks));
    }
    s = db_begin(d, e);
    if (s == ST_OK)
        s = keystore_rewrap_all(ks, d, &to, &n, e);
    if (s == ST_OK) {
        char det[256];

        snprintf(det, sizeof(det),
                 "{\"from\":\"%s\",\"to\":\"%s\",\"data_keys\":%d}",
                 keystore_master_id(ks), to.id(to.ctx), n);
        s = record_key_change(d, "keys.rewrap", "keys:master", det, e);
    }
    if (s == ST_OK)
        s = db_commit(d, e);
    if (s != ST_OK) {
        roll_back(d, ks);
        seal_kms_destroy(&to);
        return s;
    }
    fprintf(out,
            "%s master key %s in %s\n"
            "rewrapped %d data keys from %s to %s; no sealed value changed\n"
            "next: put %s where the dispatchers read their master key (for "
            "a key file:\n  mv %s \"$TL_MASTER_KEY_FILE\"); running "
            "dispatchers keep the keys they hold and read the file again "
            "when they meet a key wrapped by %s; a dispatcher started with "
            "the old master key cannot unwrap the data keys any more\n",
            made ? "made" : "using", to.id(to.ctx), new_file, n,
            keystore_master_id(ks), to.id(to.ctx), new_file, new_file,
            to.id(to.ctx));
    seal_kms_destroy(&to);
    return ST_OK;
}

/* The sealed part of one case of a reseal batch, sealed anew. */
static status reseal_one(db *d, keystore *ks, const db_res *r, int i,
                         char **hex, bool *first, err *e)
{
    const char *tenant = db_val(r, i, CLI_RESEAL_BATCH_TENANT_ID);
    const char *old = db_val(r, i, CLI_RESEAL_BATCH_PERSONAL);
    int64_t id = db_i64(r, i, CLI_RESEAL_BATCH_ID);
    char *plain = NULL, *wrapped = NULL;
    status s;

    *first = old[0] == '\0';
    if (*first) {
        /* From before schema 014: its customer, the only personal part. */
        size_t n = strlen(db_val(r, i, CLI_RESEAL_BATCH_CUSTOMER));

        wrapped = malloc(n + 16);
        if (wrapped == NULL)
            return err_set(e, ST_NOMEM, "out of memory");
        snprintf(wrapped, n + 16, "{\"customer\":%s}",
                 db_val(r, i, CLI_RESEAL_BATCH_CUSTOMER));
        s = keystore_tenant_ready(ks, d, tenant, e);
        if (s == ST_OK)
            s = keystore_seal_hex(ks, tenant, id, wrapped, hex, e);
        keystore_plain_free(wrapped);
        return s;
    }
    s = keystore_open_hex(ks, d, tenant, id, old, &plain, e);
    if (s == ST_OK)
        s = keystore_seal_hex(ks, tenant, id, plain, hex, e);
    keystore_plain_free(plain);
    return s;
}

/* One batch of a reseal after case id *after; *got: cases read. */
static status reseal_batch(db *d, keystore *ks, const char *tenant, int batch,
                           int64_t *after, int *got, cmd_keys_resealed *done,
                           err *e)
{
    char abuf[24], bbuf[24];
    const char *p[3] = {tenant, db_i64_str(abuf, *after),
                        db_i64_str(bbuf, batch)};
    db_res *r = NULL, *u = NULL;
    status s = db_begin(d, e);

    if (s == ST_OK)
        s = db_run(d, &cli_sql_reseal_batch, p, &r, e);
    *got = s == ST_OK ? db_rows(r) : 0;
    for (int i = 0; s == ST_OK && i < *got; i++) {
        char *hex = NULL, ibuf[24];
        bool first = false;

        s = reseal_one(d, ks, r, i, &hex, &first, e);
        if (s == ST_OK) {
            const char *q[4] = {
                db_i64_str(ibuf, db_i64(r, i, CLI_RESEAL_BATCH_ID)), hex,
                db_val(r, i, CLI_RESEAL_BATCH_PERSONAL),
                db_val(r, i, CLI_RESEAL_BATCH_CUSTOMER)};
            s = db_run(d, &cli_sql_reseal_set, q, &u, e);
        }
        if (s == ST_OK) {
            if (db_affected(u) == 0)
                done->skipped++;
            else if (first)
                done->sealed++;
            else
                done->resealed++;
        }
        db_res_free(u);
        u = NULL;
        free(hex);
        *after = db_i64(r, i, CLI_RESEAL_BATCH_ID);
    }
    if (s == ST_OK)
        s = db_commit(d, e);
    if (s != ST_OK)
        roll_back(d, ks);
    db_res_free(r);
    return s;
}

status cmd_keys_reseal(db *d, keystore *ks, const char *tenant, int batch,
                       FILE *out, cmd_keys_resealed *done, err *e)
{
    const char *t = tenant != NULL ? tenant : "";
    const char *p[1] = {t};
    db_res *r = NULL;
    int64_t pending = 0, after = 0;
    int got = 0;
    status s;

    memset(done, 0, sizeof(*done));
    if ((s = keystore_refresh(ks, d, NULL, NULL, e)) != ST_OK)
        return s;
    s = db_run(d, &cli_sql_reseal_pending, p, &r, e);
    if (s == ST_OK && db_rows(r) == 1)
        pending = db_i64(r, 0, CLI_RESEAL_PENDING_PENDING);
    db_res_free(r);
    if (s != ST_OK)
        return s;
    if (pending == 0) {
        fprintf(out, "every case is sealed under its tenant's newest data "
                     "key; nothing to do\n");
        return ST_OK;
    }
    fprintf(out, "%lld cases to seal again%s%s\n", (long long)pending,
            t[0] != '\0' ? " for tenant " : "", t);
    do {
        s = reseal_batch(d, ks, t, batch, &after, &got, done, e);
        if (s == ST_OK && got > 0)
            fprintf(out, "  %lld of %lld done (up to case %lld)\n",
                    (long long)(done->resealed + done->sealed + done->skipped),
                    (long long)pending, (long long)after);
        fflush(out);
    } while (s == ST_OK && got == batch);
    if (s != ST_OK)
        return err_wrap(e,
                        "reseal stopped after case %lld (run it again to "
                        "go on)",
                        (long long)after);
    fprintf(out,
            "resealed %lld cases under their tenant's newest key, sealed "
            "%lld plain-text customers, left %lld changed meanwhile\n",
            (long long)done->resealed, (long long)done->sealed,
            (long long)done->skipped);
    return ST_OK;
}

/* ---- the command ------------------------------------------------------ */

static const char keys_usage[] =
    "usage: twinline keys init FILE\n"
    "       twinline keys list\n"
    "       twinline keys rotate [--tenant T]... [--master-key-file F]\n"
    "       twinline keys rotate --master NEW_FILE [--master-key-file F]\n"
    "       twinline keys reseal [--tenant T] [--batch N] "
    "[--master-key-file F]\n"
    "\n"
    "The keys that seal customer data at rest (docs/security.md). init\n"
    "makes a master key file (mode 0600). list shows each tenant's data\n"
    "keys, the master key that wraps them and the cases sealed under each.\n"
    "rotate makes a new data key for each tenant given (every tenant\n"
    "without --tenant); with --master it rewraps every data key under the\n"
    "master key in NEW_FILE (made when missing). reseal seals the cases\n"
    "under older keys again under their tenant's newest one, N (500) per\n"
    "transaction, with progress. All of it runs while the dispatchers\n"
    "serve. The current master key comes from --master-key-file, else\n"
    "$TL_MASTER_KEY_FILE, else $TL_MASTER_KEY.\n";

static int keys_init(const cli_args *a)
{
    char id[SEAL_MASTER_ID_LEN + 1];
    err e = {0};

    if (a->npos != 2)
        return cli_usage_error(keys_usage, "%s",
                               "keys init takes the FILE to make");
    if (seal_master_keygen(a->pos[1], id, &e) != ST_OK)
        return cli_fail(&e);
    printf("made master key %s in %s (mode 0600)\n"
           "use it with: export TL_MASTER_KEY_FILE=%s\n",
           id, a->pos[1], a->pos[1]);
    return 0;
}

static int keys_run(const cli_args *a, const cli_opt *o, int batch)
{
    const char *verb = a->pos[0];
    keystore *ks = NULL;
    db *d = NULL;
    err e = {0};
    int rc = 0;
    status s = db_connect(&d, a->cfg.db, &e);

    if (s == ST_OK && strcmp(verb, "list") == 0) {
        s = cmd_keys_list(d, stdout, &e);
        goto out;
    }
    if (s == ST_OK)
        s = keystore_create(&ks, o[1].value, &e);
    if (s == ST_OK)
        s = keystore_refresh(ks, d, NULL, NULL, &e);
    if (s != ST_OK)
        goto out;
    if (strcmp(verb, "rotate") == 0 && o[2].set)
        s = cmd_keys_rotate_master(d, ks, o[2].value, stdout, &e);
    else if (strcmp(verb, "rotate") == 0)
        s = cmd_keys_rotate(d, ks, a->repeated, a->nrepeated, stdout, &e);
    else {
        cmd_keys_resealed done;

        s = cmd_keys_reseal(d, ks, a->nrepeated == 1 ? a->repeated[0] : NULL,
                            batch, stdout, &done, &e);
    }
out:
    if (rc == 0 && s != ST_OK)
        rc = cli_fail(&e);
    keystore_destroy(ks);
    db_close(d);
    return rc;
}

int cmd_keys(int argc, char **argv, const config *cfg)
{
    cli_opt o[] = {{"--tenant", true, NULL, false},
                   {"--master-key-file", true, NULL, false},
                   {"--master", true, NULL, false},
                   {"--batch", true, NULL, false}};
    cli_args a;
    int rc =
        cli_args_parse(argc, argv, 1, cfg, o, 4, "--tenant", keys_usage, &a);
    long batch = RESEAL_BATCH_DEF;
    const char *verb;

    if (rc != 0)
        return rc;
    if (a.help) {
        printf("%s\n%s", keys_usage, config_flags_help);
        return 0;
    }
    if (a.npos < 1)
        return cli_usage_error(keys_usage, "%s",
                               "expected: keys init, list, rotate or reseal");
    verb = a.pos[0];
    if (strcmp(verb, "init") == 0)
        return keys_init(&a);
    if (strcmp(verb, "list") != 0 && strcmp(verb, "rotate") != 0 &&
        strcmp(verb, "reseal") != 0)
        return cli_usage_error(keys_usage, "unknown keys command \"%s\"", verb);
    if (a.npos > 1)
        return cli_usage_error(keys_usage, "unexpected argument %s", a.pos[1]);
    for (int i = 0; i < a.nrepeated; i++)
        if (!ids_token_valid(a.repeated[i]))
            return cli_usage_error(keys_usage,
                                   "--tenant \"%s\" is not a tenant id",
                                   a.repeated[i]);
    if (strcmp(verb, "list") == 0 && (a.nrepeated > 0 || o[2].set || o[3].set))
        return cli_usage_error(keys_usage, "%s", "keys list takes no options");
    if (strcmp(verb, "rotate") == 0 && o[2].set && a.nrepeated > 0)
        return cli_usage_error(keys_usage, "%s",
                               "--master rewraps every tenant's keys; leave "
                               "out --tenant");
    if (strcmp(verb, "reseal") != 0 && o[3].set)
        return cli_usage_error(keys_usage, "%s",
                               "--batch belongs to keys reseal");
    if (strcmp(verb, "reseal") == 0 && o[2].set)
        return cli_usage_error(keys_usage, "%s",
                               "--master belongs to keys rotate");
    if (strcmp(verb, "reseal") == 0 && a.nrepeated > 1)
        return cli_usage_error(keys_usage, "%s",
                               "keys reseal takes at most one --tenant");
    if (o[3].set) {
        char *end = NULL;

        batch = strtol(o[3].value, &end, 10);
        if (end == o[3].value || *end != '\0' || batch < 1 ||
            batch > RESEAL_BATCH_MAX)
            return cli_usage_error(keys_usage, "%s",
                                   "--batch must be an integer 1..10000");
    }
    return keys_run(&a, o, (int)batch);
}
