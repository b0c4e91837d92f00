#include "admin_api.h"

#include <stdlib.h>
#include <string.h>

#include "admin_msg.h"
#include "dsp_sql.h"
#include "log.h"
#include "offers.h"
#include "outq.h"

#define MOD "dispatcher"

/* One notice; *released when a worker lost its lease. */
static status revoked_one(dispatcher *d, const bus_msg *m, bool *released,
                          err *e)
{
    admin_revoked r;
    const char *params[1];
    db_res *res = NULL;
    char *body = NULL;
    size_t len;
    status s = admin_msg_revoked_decode(bus_msg_data(m), bus_msg_len(m), &r, e);

    *released = false;
    if (s != ST_OK)
        return s;
    if (strcmp(r.role, "worker") == 0) {
        params[0] = r.party;
        s = db_run(d->db, &dsp_sql_worker_revoked, params, &res, e);
        if (s != ST_OK)
            goto out;
        *released = db_rows(res) > 0;
    }
    log_warn(MOD, "identity %s (%s %s) was revoked%s", r.identity, r.role,
             r.party,
             *released ? ": its offers and tasks go back to the queue" : "");
    s = admin_msg_revoked_reply(*released, &body, &len, e);
    if (s == ST_OK)
        s = dsp_outq_reply(d->out, m, body, e);
out:
    db_res_free(res);
    return s;
}

status dsp_admin_revoked(dispatcher *d, const dsp_req *reqs, int n, err *e)
{
    bool any = false;
    status s = ST_OK;

    for (int i = 0; s == ST_OK && i < n; i++) {
        err re = {0};
        bool released = false;

        dsp_outq_fail(d->out, reqs[i].m,
                      revoked_one(d, reqs[i].m, &released, &re), &re, &s, e);
        any = any || released;
    }
    /* The lease check, now rather than at the next tick. */
    if (s == ST_OK && any)
        s = dsp_expire_leases(d, e);
    return s;
}
