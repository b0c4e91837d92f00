/*
 * Forward-only schema migrations, embedded from schema/NNN_*.sql at build time.
 *
 * migrate_apply() takes a session advisory lock (so two migrators never
 * interleave), creates schema_migrations if needed, refuses to go on when an
 * applied file's SHA-256 differs from the embedded one, and applies each
 * missing file in its own transaction together with its record.
 */
#ifndef TL_MIGRATE_H
#define TL_MIGRATE_H

#include "db.h"
#include "err.h"

typedef struct migration_file {
    const char *name; /* "001_core.sql" */
    const char *sql;
    int len;
} migration_file;

extern const migration_file migration_files[];
extern const int migration_count;

/*
 * Apply files[0..n) in order (normally migration_files). *applied (may be
 * NULL) receives how many were newly applied. Errors: ST_CONFLICT when an
 * applied file changed, ST_DB/ST_UNAVAILABLE from the database.
 */
status migrate_apply(db *d, const migration_file *files, int n, int *applied,
                     err *e);

#endif
