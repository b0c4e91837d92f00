#include "console_rollup.h"

#include <stdio.h>

#include "console_sql.h"

status console_rollup_init(db *d, int backfill_days, err *e)
{
    char days[16];
    const char *params[] = {days};

    snprintf(days, sizeof(days), "%d", backfill_days);
    return db_run(d, &console_sql_rollup_init, params, NULL, e);
}

status console_rollup_run(db *d, int settle_s, int max, int *rolled, err *e)
{
    char settle[16];
    const char *params[] = {settle};
    int n = 0;
    status st = ST_OK;

    snprintf(settle, sizeof(settle), "%d", settle_s);
    while (n < max) {
        db_res *r = NULL;
        int rows;

        st = db_run(d, &console_sql_rollup_interval, params, &r, e);
        if (st != ST_OK)
            break;
        rows = db_rows(r);
        db_res_free(r);
        if (rows == 0)
            break;
        n++;
    }
    if (rolled != NULL)
        *rolled = n;
    return st;
}

status console_rollup_sample(db *d, int sample_ms, err *e)
{
    char ms[16];
    const char *params[] = {ms};

    snprintf(ms, sizeof(ms), "%d", sample_ms);
    return db_run(d, &console_sql_rollup_sample, params, NULL, e);
}
