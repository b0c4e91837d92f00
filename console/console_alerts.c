#include "console_alerts.h"

#include <stdio.h>
#include <string.h>

#include "console_hooks.h"
#include "console_sql.h"
#include "log.h"

status console_alerts_check(db *d, bus *b, const char *prefix, int silent_s,
                            int *changes, err *e)
{
    char silent[16];
    const char *params[] = {silent};
    db_res *r = NULL;
    status st;

    snprintf(silent, sizeof(silent), "%d", silent_s);
    /* The alert changes and their webhook deliveries commit together, so
     * an alert is never opened without its delivery being queued. */
    st = db_begin(d, e);
    if (st != ST_OK)
        return st;
    st = db_run(d, &console_sql_alerts_sync, params, &r, e);
    for (int i = 0; st == ST_OK && i < db_rows(r); i++) {
        char event_id[64], type[32];

        snprintf(event_id, sizeof(event_id), "alert-%s-%s",
                 db_val(r, i, CONSOLE_ALERTS_SYNC_ID),
                 db_val(r, i, CONSOLE_ALERTS_SYNC_CHANGE));
        snprintf(type, sizeof(type), "alert.%s",
                 db_val(r, i, CONSOLE_ALERTS_SYNC_CHANGE));
        st = console_hooks_enqueue(
            d, "operator", db_val(r, i, CONSOLE_ALERTS_SYNC_OPERATOR_ID),
            event_id, type, db_val(r, i, CONSOLE_ALERTS_SYNC_DOC), NULL, e);
    }
    if (st == ST_OK)
        st = db_commit(d, e);
    if (st != ST_OK) {
        db_rollback(d);
        db_res_free(r);
        return st;
    }
    /* NATS is a notification only: the alert is in PostgreSQL. */
    for (int i = 0; i < db_rows(r); i++) {
        const char *doc = db_val(r, i, CONSOLE_ALERTS_SYNC_DOC);
        char subject[160];
        err pe = {0};

        snprintf(subject, sizeof(subject), "%s.alerts.%s", prefix,
                 db_val(r, i, CONSOLE_ALERTS_SYNC_OPERATOR_ID));
        if (bus_publish(b, subject, doc, strlen(doc), &pe) != ST_OK)
            log_warn("console", "alert not published on %s: %s", subject,
                     pe.msg);
    }
    if (changes != NULL)
        *changes = db_rows(r);
    db_res_free(r);
    return ST_OK;
}
