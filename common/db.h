/*
 * PostgreSQL access. Only this module sees libpq types.
 *
 * Runtime SQL lives in files, one statement each, beside the module that
 * uses it (<module>/sql/<name>.sql), and is embedded by the build
 * (cmake/tl_sql.cmake) as a db_stmt with an enum of its result columns.
 * A statement is prepared on a connection the first time it runs there,
 * then reused:
 *
 *   st = db_run(d, &dsp_sql_case_get, params, &res, e);
 *   id = db_i64(res, 0, DSP_CASE_GET_ID);
 *
 * SQLSTATEs are translated: unique violation -> ST_CONFLICT, data exceptions
 * -> ST_INVALID, a lost connection -> ST_UNAVAILABLE, the rest -> ST_DB.
 */
#ifndef TL_DB_H
#define TL_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

typedef struct db db;
typedef struct db_res db_res;

typedef struct db_stmt {
    const char *name; /* unique prepared-statement name */
    const char *sql;
    int nparams;
    const char *columns; /* declared result columns, "a,b,c"; "" for none */
} db_stmt;

/* Open a connection; *out is owned by the caller (db_close). */
status db_connect(db **out, const char *conninfo, err *e);

/* Close d; NULL is a no-op. */
void db_close(db *d);

/* Drop the connection and open it again (prepared statements are redone). */
status db_reconnect(db *d, err *e);

/* Run one or more SQL commands without parameters or results. */
status db_exec(db *d, const char *sql, err *e);

/*
 * Refresh the statistics of tables that grow from nearly empty. PostgreSQL
 * keeps the plans it made for prepared statements, PL/pgSQL and foreign-key
 * checks while the tables were small (sequential scans among them) until
 * the tables are analyzed, so on a fresh database each batch of work costs
 * more than the last until autovacuum gets there. Call with a count of work
 * done that only grows: when it reaches *next (0 on the first call counts
 * as DB_ANALYZE_FIRST), `ANALYZE tables` runs and *next doubles past count;
 * after DB_ANALYZE_LAST autovacuum's own schedule is left to it. *ran (may
 * be NULL) says whether it ran.
 */
#define DB_ANALYZE_FIRST 1000
#define DB_ANALYZE_LAST  1024000
status db_analyze_growing(db *d, const char *tables, int64_t count,
                          int64_t *next, bool *ran, err *e);

/*
 * Run sql once with text parameters (not prepared). For the tests' and
 * benchmarks' one-off statements; the programs' statements are files run
 * with db_run (cmake/tl_sql.cmake). *out (may be NULL) is owned by the
 * caller and written only on success.
 */
status db_query(db *d, const char *sql, int nparams, const char *const *params,
                db_res **out, err *e);

/* Run a prepared statement (preparing it on first use). As db_query. */
status db_run(db *d, const db_stmt *st, const char *const *params, db_res **out,
              err *e);

/*
 * Prepare st on d (if it is not yet) and describe it: *nparams receives
 * the number of parameters PostgreSQL found and cols the result column
 * names joined by commas (truncated to cap). For the test that checks
 * every embedded statement against a migrated database.
 */
status db_describe(db *d, const db_stmt *st, int *nparams, char *cols,
                   size_t cap, err *e);

status db_begin(db *d, err *e);
/* Begin a read-only transaction that sees one snapshot of the database
 * throughout (REPEATABLE READ): for readers that must not see writes
 * committed between their statements. End it with db_rollback. */
status db_begin_snapshot(db *d, err *e);
status db_commit(db *d, err *e);
/* Roll back; safe to call when no transaction is open. */
void db_rollback(db *d);

int db_rows(const db_res *r);
/* Value as text; "" for NULL. The string lives as long as r. */
const char *db_val(const db_res *r, int row, int col);
bool db_null(const db_res *r, int row, int col);
int64_t db_i64(const db_res *r, int row, int col);
bool db_bool(const db_res *r, int row, int col);
/* Rows touched by INSERT/UPDATE/DELETE. */
int64_t db_affected(const db_res *r);
void db_res_free(db_res *r);

/* Format v as decimal into buf (for parameters). Returns buf. */
char *db_i64_str(char buf[24], int64_t v);

#endif
