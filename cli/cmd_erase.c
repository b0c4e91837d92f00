#include "cmd_erase.h"

#include <string.h>

#include "auditlog.h"
#include "cli_sql.h"
#include "ids.h"
#include "subjects.h"

status cmd_case_erase(db *d, const char *prefix, const char *tenant,
                      int64_t case_id, const char *external_id,
                      const char *request_id, bool force, FILE *out, err *e)
{
    char cbuf[24], subj[SUBJECTS_MAX], id[24];
    const char *ref = external_id != NULL ? external_id : "";
    db_res *r = NULL, *u = NULL;
    int64_t open_tasks;
    status s;

    if (request_id != NULL && !ids_token_valid(request_id))
        return err_set(e, ST_INVALID,
                       "--request-id must be 1-64 characters of letters, "
                       "digits, '_' or '-' (a ticket number, not a "
                       "description: it is kept with the case)");
    if ((s = subjects_event(subj, sizeof(subj), prefix, tenant,
                            SUBJECTS_EVT_CASE, e)) != ST_OK)
        return s;
    if ((s = db_begin(d, e)) != ST_OK)
        return s;
    {
        const char *p[3] = {
            tenant, db_i64_str(cbuf, external_id != NULL ? 0 : case_id), ref};
        s = db_run(d, &cli_sql_erase_find, p, &r, e);
    }
    if (s != ST_OK)
        goto out;
    if (db_rows(r) == 0) {
        s = err_set(e, ST_NOT_FOUND,
                    "tenant %s has no case %s; run: twinline case show "
                    "--tenant %s ...",
                    tenant, external_id != NULL ? external_id : cbuf, tenant);
        goto out;
    }
    snprintf(id, sizeof(id), "%s", db_val(r, 0, CLI_ERASE_FIND_ID));
    if (db_val(r, 0, CLI_ERASE_FIND_ERASED_AT)[0] != '\0') {
        fprintf(out, "case %s (%s) of %s was erased at %s already\n", id,
                db_val(r, 0, CLI_ERASE_FIND_EXTERNAL_ID), tenant,
                db_val(r, 0, CLI_ERASE_FIND_ERASED_AT));
        goto out;
    }
    open_tasks = db_i64(r, 0, CLI_ERASE_FIND_OPEN_TASKS);
    if (strcmp(db_val(r, 0, CLI_ERASE_FIND_STATE), "open") == 0 && !force) {
        s = err_set(e, ST_CONFLICT,
                    "case %s of %s is open (%lld task%s not finished): a "
                    "worker who takes one after the erasure gets no customer "
                    "data; wait until it closes, or erase it anyway with "
                    "--force",
                    id, tenant, (long long)open_tasks,
                    open_tasks == 1 ? "" : "s");
        goto out;
    }
    {
        const char *p[4] = {id, tenant, request_id != NULL ? request_id : "",
                            subj};
        s = db_run(d, &cli_sql_erase_case, p, &u, e);
    }
    if (s == ST_OK && db_rows(u) != 1)
        s = err_set(e, ST_CONFLICT, "case %s changed meanwhile; run it again",
                    id);
    if (s == ST_OK) {
        /* The case by id and the request's reference only: the trail is
         * append-only and must hold nothing the erasure took away. */
        auditlog_who who;
        char subjects[40], det[200];

        auditlog_who_admin(&who);
        snprintf(subjects, sizeof(subjects), "case:%s", id);
        snprintf(det, sizeof(det),
                 "{\"tenant\":\"%s\",\"request_id\":\"%s\",\"forced\":%s}",
                 tenant, request_id != NULL ? request_id : "",
                 strcmp(db_val(r, 0, CLI_ERASE_FIND_STATE), "open") == 0
                     ? "true"
                     : "false");
        s = auditlog_append(d, &who, "case.erase", subjects, det, e);
        if (s != ST_OK)
            err_wrap(e, "audit record of the erasure");
    }
    if (s == ST_OK)
        s = db_commit(d, e);
    if (s == ST_OK)
        fprintf(out,
                "erased the customer's personal data of case %s (%s) of %s "
                "at %s; its tasks, outcomes and billing records are kept\n",
                id, db_val(r, 0, CLI_ERASE_FIND_EXTERNAL_ID), tenant,
                db_val(u, 0, CLI_ERASE_CASE_ERASED_AT));
out:
    if (s != ST_OK)
        db_rollback(d);
    else if (u == NULL)
        db_rollback(d); /* only read */
    db_res_free(r);
    db_res_free(u);
    return s;
}
