#include "migrate.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "common_sql.h"
#include "log.h"

static void checksum_hex(const migration_file *f, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(h, (const unsigned char *)f->sql,
                       (unsigned long long)f->len);
    sodium_bin2hex(out, 65, h, sizeof(h));
}

static status apply_one(db *d, const migration_file *f, const char *sum, err *e)
{
    const char *params[2] = {f->name, sum};
    status s;

    s = db_begin(d, e);
    if (s != ST_OK)
        return s;
    s = db_exec(d, f->sql, e);
    if (s == ST_OK)
        s = db_run(d, &common_sql_migrate_record, params, NULL, e);
    if (s == ST_OK)
        s = db_commit(d, e);
    if (s != ST_OK) {
        db_rollback(d);
        return err_wrap(e, "migration %s", f->name);
    }
    return ST_OK;
}

status migrate_apply(db *d, const migration_file *files, int n, int *applied,
                     err *e)
{
    db_res *r = NULL;
    status s;
    int count = 0;

    s = db_run(d, &common_sql_migrate_lock, NULL, NULL, e);
    if (s != ST_OK)
        return s;
    s = db_run(d, &common_sql_migrate_table, NULL, NULL, e);
    if (s != ST_OK)
        goto out;
    for (int i = 0; i < n; i++) {
        const char *params[1] = {files[i].name};
        char sum[65];

        checksum_hex(&files[i], sum);
        s = db_run(d, &common_sql_migrate_checksum, params, &r, e);
        if (s != ST_OK)
            goto out;
        if (db_rows(r) == 1) {
            const char *stored = db_val(r, 0, COMMON_MIGRATE_CHECKSUM_CHECKSUM);

            if (strcmp(stored, sum) != 0) {
                s = err_set(e, ST_CONFLICT,
                            "migration %s was changed after it was applied "
                            "(stored checksum %.12s..., file %.12s...); "
                            "migrations are immutable: restore the file and "
                            "add a new numbered migration instead",
                            files[i].name, stored, sum);
                goto out;
            }
            db_res_free(r);
            r = NULL;
            continue;
        }
        db_res_free(r);
        r = NULL;
        s = apply_one(d, &files[i], sum, e);
        if (s != ST_OK)
            goto out;
        log_info("migrate", "applied %s", files[i].name);
        count++;
    }
    if (applied != NULL)
        *applied = count;
out:
    db_res_free(r);
    db_run(d, &common_sql_migrate_unlock, NULL, NULL, NULL);
    return s;
}
