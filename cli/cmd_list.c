#include "cmd_list.h"

#include <stdlib.h>

#include "cli_table.h"

DB_STMT(tenants_all, 0,
        "SELECT t.id, t.name, t.kind, t.priority, "
        "(SELECT count(DISTINCT case_type) FROM playbooks p "
        "WHERE p.tenant_id = t.id), "
        "(SELECT count(*) FROM contracts c "
        "WHERE c.tenant_id = t.id AND c.active) "
        "FROM tenants t ORDER BY t.id");

/* $1: pool or NULL for all. */
DB_STMT(workers_all, 1,
        "SELECT w.id, w.pool_id, w.name, w.kind, w.presence, w.quality, "
        "array_to_string(w.languages, ','), "
        "COALESCE((SELECT string_agg(s.skill || ':' || s.level || "
        "CASE WHEN s.ai_level > s.level THEN '(ai ' || s.ai_level || ')' "
        "ELSE '' END, ' ' ORDER BY s.skill) "
        "FROM worker_skills s WHERE s.worker_id = w.id), ''), "
        "COALESCE((SELECT string_agg(c.channel || ':' || c.slots, ' ' "
        "ORDER BY c.channel) FROM worker_capacity c "
        "WHERE c.worker_id = w.id), '') "
        "FROM workers w WHERE $1::text IS NULL OR w.pool_id = $1 "
        "ORDER BY w.id");

DB_STMT(pool_known, 1, "SELECT 1 FROM pools WHERE id = $1");

DB_STMT(playbooks_latest, 0,
        "SELECT p.tenant_id, p.case_type, p.version, p.name, "
        "(SELECT count(*) FROM playbook_steps s WHERE s.tenant_id = "
        "p.tenant_id AND s.case_type = p.case_type AND s.version = "
        "p.version), to_char(p.created_at, 'YYYY-MM-DD HH24:MI') "
        "FROM playbooks p WHERE p.version = (SELECT max(version) FROM "
        "playbooks q WHERE q.tenant_id = p.tenant_id AND "
        "q.case_type = p.case_type) ORDER BY p.tenant_id, p.case_type");

DB_STMT(playbook_head, 2,
        "SELECT version, name FROM playbooks WHERE tenant_id = $1 AND "
        "case_type = $2 ORDER BY version DESC LIMIT 1");

/* Steps with outcomes as "code*(field:type,...)" where * marks billable. */
DB_STMT(playbook_steps_of, 3,
        "SELECT s.step, s.channel, s.sla_seconds, s.ai_mode, "
        "COALESCE((SELECT string_agg(k.key || ':' || k.value, ' ' "
        "ORDER BY k.key) FROM jsonb_each_text(s.skills) k), ''), "
        "array_to_string(s.after_steps, ','), "
        "array_to_string(s.when_outcomes, ','), "
        "(SELECT string_agg(o.key || CASE WHEN (o.value->>'billable')::bool "
        "THEN '*' ELSE '' END, ' ' ORDER BY o.key) "
        "FROM jsonb_each(s.outcomes) o) "
        "FROM playbook_steps s WHERE s.tenant_id = $1 AND s.case_type = $2 "
        "AND s.version = $3::int ORDER BY s.ordinal");

/* Print every row of r as a table with the given headers. */
static status print_rows(const db_res *r, int ncols, const char *const *heads,
                         const int *right, FILE *out, err *e)
{
    cli_table *t = NULL;
    const char *cells[16];
    status s;

    if ((s = cli_table_create(&t, ncols, heads, e)) != ST_OK)
        return s;
    for (int c = 0; right != NULL && right[c] >= 0; c++)
        cli_table_right(t, right[c]);
    for (int i = 0; i < db_rows(r); i++) {
        for (int c = 0; c < ncols; c++)
            cells[c] = db_val(r, i, c);
        if ((s = cli_table_add(t, cells, e)) != ST_OK)
            goto out;
    }
    cli_table_print(t, out);
out:
    cli_table_destroy(t);
    return s;
}

status cmd_tenant_list(db *d, FILE *out, err *e)
{
    static const char *const heads[] = {"TENANT",   "NAME",      "KIND",
                                        "PRIORITY", "PLAYBOOKS", "CONTRACTS"};
    static const int right[] = {3, 4, 5, -1};
    db_res *r = NULL;
    status s;

    if ((s = db_run(d, &tenants_all, NULL, &r, e)) != ST_OK)
        return s;
    if (db_rows(r) == 0)
        fprintf(out, "no tenants; load some with: twinline load "
                     "examples/bank.json\n");
    else
        s = print_rows(r, 6, heads, right, out, e);
    db_res_free(r);
    return s;
}

status cmd_worker_list(db *d, const char *pool, bool ids_only, FILE *out,
                       err *e)
{
    static const char *const heads[] = {"WORKER",    "POOL",     "NAME",
                                        "KIND",      "PRESENCE", "QUALITY",
                                        "LANGUAGES", "SKILLS",   "CAPACITY"};
    static const int right[] = {5, -1};
    const char *params[1] = {pool};
    db_res *r = NULL;
    status s;

    if (pool != NULL) {
        if ((s = db_run(d, &pool_known, params, &r, e)) != ST_OK)
            return s;
        if (db_rows(r) == 0) {
            db_res_free(r);
            return err_set(e, ST_NOT_FOUND,
                           "pool \"%s\" does not exist; run: twinline worker "
                           "list",
                           pool);
        }
        db_res_free(r);
        r = NULL;
    }
    if ((s = db_run(d, &workers_all, params, &r, e)) != ST_OK)
        return s;
    if (ids_only) {
        for (int i = 0; i < db_rows(r); i++)
            fprintf(out, "%s%s", i > 0 ? "," : "", db_val(r, i, 0));
        fputc('\n', out);
    } else if (db_rows(r) == 0) {
        fprintf(out, "no workers; load some with: twinline load "
                     "examples/operator.json\n");
    } else {
        s = print_rows(r, 9, heads, right, out, e);
    }
    db_res_free(r);
    return s;
}

status cmd_playbook_list(db *d, FILE *out, err *e)
{
    static const char *const heads[] = {"TENANT", "CASE_TYPE", "VERSION",
                                        "NAME",   "STEPS",     "LOADED"};
    static const int right[] = {2, 4, -1};
    db_res *r = NULL;
    status s;

    if ((s = db_run(d, &playbooks_latest, NULL, &r, e)) != ST_OK)
        return s;
    if (db_rows(r) == 0)
        fprintf(out, "no playbooks; load some with: twinline load "
                     "examples/bank.json\n");
    else
        s = print_rows(r, 6, heads, right, out, e);
    db_res_free(r);
    return s;
}

status cmd_playbook_show(db *d, const char *tenant, const char *case_type,
                         FILE *out, err *e)
{
    static const char *const heads[] = {
        "STEP",   "CHANNEL", "SLA_S", "AI",
        "SKILLS", "AFTER",   "WHEN",  "OUTCOMES (* billable)"};
    static const int right[] = {2, -1};
    const char *hp[2] = {tenant, case_type};
    db_res *h = NULL, *r = NULL;
    status s;

    if ((s = db_run(d, &playbook_head, hp, &h, e)) != ST_OK)
        return s;
    if (db_rows(h) == 0) {
        s = err_set(e, ST_UNKNOWN_CASE_TYPE,
                    "case type \"%s\" is not defined for tenant \"%s\"; run: "
                    "twinline playbook list",
                    case_type, tenant);
        goto out;
    }
    {
        const char *params[3] = {tenant, case_type, db_val(h, 0, 0)};
        if ((s = db_run(d, &playbook_steps_of, params, &r, e)) != ST_OK)
            goto out;
    }
    fprintf(out, "%s %s version %s: %s\n\n", tenant, case_type, db_val(h, 0, 0),
            db_val(h, 0, 1));
    s = print_rows(r, 8, heads, right, out, e);
out:
    db_res_free(h);
    db_res_free(r);
    return s;
}
