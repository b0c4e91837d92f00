#include "consumers.h"

#include <stdio.h>

#include "dsp_sql.h"
#include "log.h"
#include "natsauth.h"
#include "subjects.h"

#define MOD "dispatcher"

status dsp_consumers_ensure(dispatcher *d, err *e)
{
    char stream[SUBJECTS_STREAM_MAX], filter[SUBJECTS_MAX];
    char durable[ID_MAX + 16];
    db_res *r = NULL;
    status s = subjects_stream(stream, sizeof(stream), d->cfg.prefix, e);

    if (s == ST_OK)
        s = db_run(d->db, &dsp_sql_tenants_all, NULL, &r, e);
    for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
        const char *tenant = db_val(r, i, DSP_TENANTS_ALL_ID);
        int ignored;

        if (strtab_find(d->consumers, tenant) >= 0)
            continue;
        natsauth_events_consumer(tenant, durable, sizeof(durable));
        /* "<p>.evt.<T>.>": ">" stands for every kind of event. */
        s = subjects_event(filter, sizeof(filter), d->cfg.prefix, tenant, ">",
                           e);
        if (s == ST_OK)
            s = bus_consumer_ensure(d->bus, stream, durable, filter, e);
        if (s == ST_OK)
            s = strtab_intern(d->consumers, tenant, &ignored, e);
        if (s == ST_OK)
            log_info(MOD, "tenant %s reads its events from consumer %s (%s)",
                     tenant, durable, filter);
    }
    db_res_free(r);
    return s;
}
