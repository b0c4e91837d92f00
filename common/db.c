#include "db.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#define DB_MAX_PREPARED                                                        \
    1024 /* every statement of the project fits (itest_sql prepares all on one \
            connection) */

struct db {
    PGconn *conn;
    char *conninfo;
    const db_stmt *prepared[DB_MAX_PREPARED];
    int nprepared;
};

struct db_res {
    PGresult *res;
};

static void trim_newline(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
}

static status status_of(PGconn *c, const PGresult *r)
{
    const char *state;

    if (PQstatus(c) != CONNECTION_OK)
        return ST_UNAVAILABLE;
    state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state == NULL)
        return ST_DB;
    if (strcmp(state, "23505") == 0 || strcmp(state, "40001") == 0 ||
        strcmp(state, "40P01") == 0)
        return ST_CONFLICT;
    if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)
        return ST_INVALID;
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
        return ST_UNAVAILABLE;
    return ST_DB;
}

static status fail(db *d, PGresult *r, err *e, const char *what)
{
    char msg[ERR_MSG_MAX];
    status s = status_of(d->conn, r);

    snprintf(msg, sizeof(msg), "%s",
             r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(d->conn));
    trim_newline(msg);
    if (msg[0] == '\0')
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(d->conn));
    trim_newline(msg);
    PQclear(r);
    return err_set(e, s, "%s: %s", what, msg);
}

static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static status open_conn(db *d, err *e)
{
    d->conn = PQconnectdb(d->conninfo);
    d->nprepared = 0;
    if (PQstatus(d->conn) != CONNECTION_OK) {
        char msg[ERR_MSG_MAX];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(d->conn));
        trim_newline(msg);
        PQfinish(d->conn);
        d->conn = NULL;
        return err_set(e, ST_UNAVAILABLE,
                       "cannot connect to PostgreSQL (%s): %s; check --db or "
                       "TL_DB and that the server is running",
                       d->conninfo, msg);
    }
    /* Notices (e.g. "relation already exists, skipping") are noise here. */
    PQsetNoticeProcessor(d->conn, quiet_notice, NULL);
    return ST_OK;
}

status db_connect(db **out, const char *conninfo, err *e)
{
    db *d = calloc(1, sizeof(*d));
    status s;

    if (d == NULL)
        return err_set(e, ST_NOMEM, "out of memory");
    d->conninfo = strdup(conninfo);
    if (d->conninfo == NULL) {
        free(d);
        return err_set(e, ST_NOMEM, "out of memory");
    }
    s = open_conn(d, e);
    if (s != ST_OK) {
        db_close(d);
        return s;
    }
    *out = d;
    return ST_OK;
}

void db_close(db *d)
{
    if (d == NULL)
        return;
    if (d->conn != NULL)
        PQfinish(d->conn);
    free(d->conninfo);
    free(d);
}

status db_reconnect(db *d, err *e)
{
    status s;

    if (d->conn != NULL)
        PQfinish(d->conn);
    d->conn = NULL;
    s = open_conn(d, e);
    return s;
}

static status check(db *d, PGresult *r, db_res **out, err *e, const char *what)
{
    ExecStatusType t = PQresultStatus(r);
    db_res *res;

    if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK)
        return fail(d, r, e, what);
    if (out == NULL) {
        PQclear(r);
        return ST_OK;
    }
    res = malloc(sizeof(*res));
    if (res == NULL) {
        PQclear(r);
        return err_set(e, ST_NOMEM, "out of memory");
    }
    res->res = r;
    *out = res;
    return ST_OK;
}

status db_exec(db *d, const char *sql, err *e)
{
    PGresult *r;

    if (d->conn == NULL)
        return err_set(e, ST_UNAVAILABLE, "not connected to PostgreSQL");
    r = PQexec(d->conn, sql);
    return check(d, r, NULL, e, "SQL");
}

status db_analyze_growing(db *d, const char *tables, int64_t count,
                          int64_t *next, bool *ran, err *e)
{
    char sql[512];

    if (ran != NULL)
        *ran = false;
    if (*next == 0)
        *next = DB_ANALYZE_FIRST;
    if (count < *next || *next > DB_ANALYZE_LAST)
        return ST_OK;
    while (*next <= count && *next <= DB_ANALYZE_LAST)
        *next *= 2;
    if (snprintf(sql, sizeof(sql), "ANALYZE %s", tables) >= (int)sizeof(sql))
        return err_set(e, ST_INVALID, "table list too long to analyze");
    if (ran != NULL)
        *ran = true;
    return db_exec(d, sql, e);
}

status db_query(db *d, const char *sql, int nparams, const char *const *params,
                db_res **out, err *e)
{
    PGresult *r;

    if (d->conn == NULL)
        return err_set(e, ST_UNAVAILABLE, "not connected to PostgreSQL");
    r = PQexecParams(d->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    return check(d, r, out, e, "SQL");
}

static bool is_prepared(const db *d, const db_stmt *st)
{
    for (int i = 0; i < d->nprepared; i++)
        if (d->prepared[i] == st)
            return true;
    return false;
}

static status prepare(db *d, const db_stmt *st, err *e)
{
    PGresult *r;

    if (d->conn == NULL)
        return err_set(e, ST_UNAVAILABLE, "not connected to PostgreSQL");
    if (is_prepared(d, st))
        return ST_OK;
    if (d->nprepared >= DB_MAX_PREPARED)
        return err_set(e, ST_INTERNAL, "too many prepared statements");
    r = PQprepare(d->conn, st->name, st->sql, st->nparams, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return fail(d, r, e, st->name);
    PQclear(r);
    d->prepared[d->nprepared++] = st;
    return ST_OK;
}

status db_describe(db *d, const db_stmt *st, int *nparams, char *cols,
                   size_t cap, err *e)
{
    PGresult *r;
    size_t used = 0;
    status s = prepare(d, st, e);

    if (s != ST_OK)
        return s;
    r = PQdescribePrepared(d->conn, st->name);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return fail(d, r, e, st->name);
    *nparams = PQnparams(r);
    if (cap > 0)
        cols[0] = '\0';
    for (int i = 0; i < PQnfields(r) && cap > 0; i++) {
        int n = snprintf(cols + used, cap - used, "%s%s", i > 0 ? "," : "",
                         PQfname(r, i));
        if (n < 0 || (size_t)n >= cap - used)
            break;
        used += (size_t)n;
    }
    PQclear(r);
    return ST_OK;
}

status db_run(db *d, const db_stmt *st, const char *const *params, db_res **out,
              err *e)
{
    PGresult *r;
    status s = prepare(d, st, e);

    if (s != ST_OK)
        return s;
    r = PQexecPrepared(d->conn, st->name, st->nparams, params, NULL, NULL, 0);
    return check(d, r, out, e, st->name);
}

status db_begin(db *d, err *e)
{
    return db_exec(d, "BEGIN", e);
}

status db_begin_snapshot(db *d, err *e)
{
    return db_exec(d, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", e);
}

status db_commit(db *d, err *e)
{
    return db_exec(d, "COMMIT", e);
}

void db_rollback(db *d)
{
    PGresult *r;

    if (d->conn == NULL || PQtransactionStatus(d->conn) == PQTRANS_IDLE)
        return;
    r = PQexec(d->conn, "ROLLBACK");
    PQclear(r);
}

int db_rows(const db_res *r)
{
    return PQntuples(r->res);
}

const char *db_val(const db_res *r, int row, int col)
{
    return PQgetvalue(r->res, row, col);
}

bool db_null(const db_res *r, int row, int col)
{
    return PQgetisnull(r->res, row, col) != 0;
}

int64_t db_i64(const db_res *r, int row, int col)
{
    return (int64_t)strtoll(PQgetvalue(r->res, row, col), NULL, 10);
}

bool db_bool(const db_res *r, int row, int col)
{
    return PQgetvalue(r->res, row, col)[0] == 't';
}

int64_t db_affected(const db_res *r)
{
    const char *n = PQcmdTuples(r->res);

    return n[0] == '\0' ? 0 : (int64_t)strtoll(n, NULL, 10);
}

void db_res_free(db_res *r)
{
    if (r == NULL)
        return;
    PQclear(r->res);
    free(r);
}

char *db_i64_str(char buf[24], int64_t v)
{
    snprintf(buf, 24, "%" PRId64, v);
    return buf;
}
