#include "reservations.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsp_sql.h"
#include "i64map.h"
#include "payload.h"
#include "sbuf.h"

/* ids as a PostgreSQL array literal. */
static status ids_literal(const int64_t *ids, int n, sbuf *b, err *e)
{
    sbuf_append(b, "{", 1);
    for (int i = 0; i < n; i++)
        sbuf_printf(b, "%s%lld", i > 0 ? "," : "", (long long)ids[i]);
    sbuf_append(b, "}", 1);
    return b->failed ? err_set(e, ST_NOMEM, "out of memory") : ST_OK;
}

/* Row of each id of r (its column col) in a map id -> row. */
static status row_map(const db_res *r, int col, i64map **out, err *e)
{
    i64map *m = NULL;
    status s = i64map_create(&m, e);

    for (int j = 0; s == ST_OK && j < db_rows(r); j++)
        s = i64map_put(m, db_i64(r, j, col), j, e);
    if (s != ST_OK) {
        i64map_destroy(m);
        return s;
    }
    *out = m;
    return ST_OK;
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src);
}

status dsp_res_lookup(db *c, const int64_t *ids, int n, dsp_res *out, err *e)
{
    sbuf lit = {0};
    db_res *r = NULL;
    i64map *rows = NULL;
    status s = ids_literal(ids, n, &lit, e);

    if (s == ST_OK) {
        const char *p[1] = {sbuf_str(&lit)};
        s = db_run(c, &dsp_sql_res_lookup, p, &r, e);
    }
    if (s == ST_OK)
        s = row_map(r, DSP_RES_LOOKUP_RESERVATION_ID, &rows, e);
    for (int i = 0; s == ST_OK && i < n; i++) {
        dsp_res *x = &out[i];
        int j;

        memset(x, 0, sizeof(*x));
        if (ids[i] <= 0 || !i64map_get(rows, ids[i], &j))
            continue;
        x->found = true;
        x->id = ids[i];
        copy(x->worker, sizeof(x->worker),
             db_val(r, j, DSP_RES_LOOKUP_WORKER_ID));
        x->epoch = db_i64(r, j, DSP_RES_LOOKUP_EPOCH);
        copy(x->state, sizeof(x->state), db_val(r, j, DSP_RES_LOOKUP_STATE));
        x->task_id = db_i64(r, j, DSP_RES_LOOKUP_TASK_ID);
        x->case_id = db_i64(r, j, DSP_RES_LOOKUP_CASE_ID);
        copy(x->step, sizeof(x->step), db_val(r, j, DSP_RES_LOOKUP_STEP));
        copy(x->tenant, sizeof(x->tenant),
             db_val(r, j, DSP_RES_LOOKUP_TENANT_ID));
        copy(x->case_type, sizeof(x->case_type),
             db_val(r, j, DSP_RES_LOOKUP_CASE_TYPE));
        x->version = (int)db_i64(r, j, DSP_RES_LOOKUP_PLAYBOOK_VERSION);
        x->priority = (int)db_i64(r, j, DSP_RES_LOOKUP_PRIORITY);
        if (!db_null(r, j, DSP_RES_LOOKUP_OUTCOME_ID)) {
            x->outcome_id = db_i64(r, j, DSP_RES_LOOKUP_OUTCOME_ID);
            x->billable = db_bool(r, j, DSP_RES_LOOKUP_BILLABLE);
        }
    }
    i64map_destroy(rows);
    db_res_free(r);
    sbuf_free(&lit);
    return s;
}

/* The task of row j with the case's sealed personal part opened and merged
 * in, for the worker who holds it. */
static status open_view(db *c, keystore *ks, const db_res *r, int j, char **out,
                        err *e)
{
    const char *hex = db_val(r, j, DSP_TASK_VIEWS_PERSONAL);
    char *plain = NULL;
    status s = ST_OK;

    if (hex[0] != '\0')
        s = keystore_open_hex(ks, c, db_val(r, j, DSP_TASK_VIEWS_TENANT_ID),
                              db_i64(r, j, DSP_TASK_VIEWS_CASE_ID), hex, &plain,
                              e);
    if (s == ST_OK)
        s = payload_merge(db_val(r, j, DSP_TASK_VIEWS_TASK), plain, out, e);
    keystore_plain_free(plain);
    return s;
}

status dsp_res_task_views(db *c, keystore *ks, const int64_t *ids, int n,
                          char **views, err *e)
{
    sbuf lit = {0};
    db_res *r = NULL;
    i64map *rows = NULL;
    int i = 0;
    status s = ids_literal(ids, n, &lit, e);

    if (s == ST_OK) {
        const char *p[1] = {sbuf_str(&lit)};
        s = db_run(c, &dsp_sql_task_views, p, &r, e);
    }
    if (s == ST_OK)
        s = row_map(r, DSP_TASK_VIEWS_RESERVATION_ID, &rows, e);
    for (i = 0; s == ST_OK && i < n; i++) {
        int j;

        views[i] = NULL;
        if (ids[i] <= 0 || !i64map_get(rows, ids[i], &j))
            continue;
        s = open_view(c, ks, r, j, &views[i], e);
    }
    if (s != ST_OK)
        while (i-- > 0 && i < n) {
            free(views[i]);
            views[i] = NULL;
        }
    i64map_destroy(rows);
    db_res_free(r);
    sbuf_free(&lit);
    return s;
}

bool dsp_res_is(const dsp_res *r, const char *worker, int64_t epoch,
                const char *state)
{
    return r->found && strcmp(r->worker, worker) == 0 && r->epoch == epoch &&
           strcmp(r->state, state) == 0;
}

status dsp_res_diagnose(const dsp_res *r, int64_t res_id, const char *worker,
                        int64_t epoch, err *e)
{
    if (!r->found)
        return err_set(e, ST_NOT_FOUND, "no reservation %lld",
                       (long long)res_id);
    if (strcmp(r->worker, worker) != 0)
        return err_set(e, ST_NOT_YOURS,
                       "reservation %lld belongs to another worker",
                       (long long)res_id);
    if (r->epoch != epoch)
        return err_set(e, ST_STALE, "reservation %lld has epoch %lld, not %lld",
                       (long long)res_id, (long long)r->epoch,
                       (long long)epoch);
    if (strcmp(r->state, "rescinded") == 0)
        return err_set(e, ST_STALE,
                       "reservation %lld was rescinded (another worker "
                       "accepted the offer first, or your lease expired); "
                       "the task is no longer yours",
                       (long long)res_id);
    return err_set(e, ST_STALE,
                   "reservation %lld is %s; the task is no longer yours",
                   (long long)res_id, r->state);
}
