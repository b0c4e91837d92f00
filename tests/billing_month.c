#include "billing_month.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tl_test.h"

static const char seed_sql[] =
    "INSERT INTO tenants (id, name) VALUES ('jsbank', 'JS Bank');"
    "INSERT INTO operators (id, name) VALUES ('op1', 'Ops One');"
    "INSERT INTO pools (id, operator_id, name) VALUES ('p1', 'op1', 'P');"
    "INSERT INTO workers (id, pool_id, name) VALUES ('w1', 'p1', 'W1');"
    "INSERT INTO contracts (id, tenant_id, pool_id, currency) VALUES"
    "  ('c1', 'jsbank', 'p1', 'CNY');"
    "INSERT INTO contract_case_types VALUES ('c1', 'loan_overdue');"
    "INSERT INTO contract_plans (contract_id, version, effective_from, plan,"
    "  verification_s, clawback_s, platform_fee_bps, operator_weight,"
    "  worker_weight, ai_weight, ai_party) VALUES ('c1', 1, '2025-01-01Z',"
    "  '{\"currency\":\"CNY\",\"outcomes\":{\"resolved\":{\"price_minor\":"
    "1500,\"percent\":{\"field\":\"collected_minor\",\"bps\":800,"
    "\"cap_minor\":50000}}}}', 604800, 5184000, 1000, 20, 60, 20, 'ai1');"
    "INSERT INTO playbooks (tenant_id, case_type, version, name, definition)"
    "  VALUES ('jsbank', 'loan_overdue', 1, 'Loan', '{}');";

void billing_month_seed(fixture *f)
{
    fixture_exec(f, seed_sql);
}

int64_t billing_month_outcome_on(fixture *f, const char *ext, int64_t collected,
                                 const char *at)
{
    char sql[2048];

    snprintf(sql, sizeof(sql),
             "WITH t AS (INSERT INTO tasks (case_id, tenant_id, step, state,"
             "  worker_id) SELECT id, 'jsbank', 'call', 'completed', 'w1'"
             "  FROM cases WHERE external_id = '%s' RETURNING id, case_id),"
             " r AS (INSERT INTO reservations (task_id, worker_id, epoch,"
             "  state, deadline) SELECT id, 'w1', 0, 'completed', '%s'"
             "  FROM t RETURNING id, task_id)"
             " INSERT INTO outcomes (task_id, case_id, tenant_id, worker_id,"
             "  reservation_id, code, fields, billable, created_at)"
             " SELECT t.id, t.case_id, 'jsbank', 'w1', r.id, 'resolved',"
             "  '{\"collected_minor\": %" PRId64 "}', true, '%s'"
             " FROM t JOIN r ON r.task_id = t.id RETURNING id",
             ext, at, collected, at);
    return fixture_i64(f, sql);
}

int64_t billing_month_outcome(fixture *f, const char *ext, int64_t collected,
                              const char *at)
{
    char sql[512];

    snprintf(sql, sizeof(sql),
             "INSERT INTO cases (tenant_id, external_id, case_type,"
             " playbook_version, created_at) VALUES ('jsbank', '%s',"
             " 'loan_overdue', 1, '%s')",
             ext, at);
    fixture_exec(f, sql);
    return billing_month_outcome_on(f, ext, collected, at);
}

void billing_month_dispute(fixture *f, const char *ext, const char *kind,
                           const char *at)
{
    char sql[512];

    snprintf(sql, sizeof(sql),
             "INSERT INTO case_disputes (case_id, tenant_id, kind, reason,"
             " idem_key, created_at) SELECT id, 'jsbank', '%s',"
             " 'customer disputes the result', 'k-%s', '%s' FROM cases"
             " WHERE external_id = '%s'",
             kind, ext, at, ext);
    fixture_exec(f, sql);
}

void billing_month_signer(char *dir, size_t cap, signer **sg)
{
    err e = {0};

    snprintf(dir, cap, "/tmp/tl-keys-XXXXXX");
    if (mkdtemp(dir) == NULL)
        fail_msg("cannot create a key directory");
    if (signer_keygen(dir, NULL, &e) != ST_OK ||
        signer_load(sg, dir, &e) != ST_OK)
        fail_msg("signing key: %s", e.msg);
}

void billing_month_signer_free(const char *dir, signer *sg)
{
    char path[256];

    signer_destroy(sg);
    snprintf(path, sizeof(path), "%s/%s", dir, SIGNER_SECRET_FILE);
    unlink(path);
    snprintf(path, sizeof(path), "%s/%s", dir, SIGNER_PUBLIC_FILE);
    unlink(path);
    rmdir(dir);
}

void billing_month_env_up(billing_month_env *v, const char *name,
                          const char *sql, const billing_month_case *cases,
                          int ncases, bool with_signer)
{
    err e = {0};

    memset(v, 0, sizeof(*v));
    if (ncases > BILLING_MONTH_CASES_MAX)
        fail_msg("billing_month_env_up: %d cases, at most %d", ncases,
                 BILLING_MONTH_CASES_MAX);
    fixture_setup(&v->f, name);
    billing_month_seed(&v->f);
    if (sql != NULL)
        fixture_exec(&v->f, sql);
    for (int i = 0; i < ncases; i++)
        v->ids[v->n++] = billing_month_outcome(&v->f, cases[i].ext,
                                               cases[i].collected, cases[i].at);
    if (with_signer)
        billing_month_signer(v->keydir, sizeof(v->keydir), &v->sg);
    if (billing_flow_create(&v->flow, &e) != ST_OK)
        fail_msg("setup: %s", e.msg);
}

void billing_month_env_down(billing_month_env *v)
{
    billing_flow_destroy(v->flow);
    if (v->sg != NULL)
        billing_month_signer_free(v->keydir, v->sg);
    fixture_teardown(&v->f);
}
