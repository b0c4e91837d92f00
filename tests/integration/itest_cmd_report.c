/*
 * `twinline report` and `twinline bill summary` over a small, hand-made
 * history: four closed cases (one with a transfer), an open and a canceled
 * one, offers, outcomes and billable lines, with known times.
 */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
/* clang-format on */

#include "cmd_case.h"
#include "cmd_load.h"
#include "cmd_report.h"
#include "fixture.h"

/*
 * Case 1 loan: contact by w001 after w002 rejected it; closed after 60 s.
 * Case 2 loan: contact by w003 (hardship), hardship_plan by w039 (a
 *   transfer), legal_review skipped; 120 s; contact missed its SLA.
 * Case 3 complaint: intake and resolution both by w004; 300 s.
 * Case 4 claim: first_notice by w005, not covered; 30 s.
 * Case 5 loan: open, contact pending. Case 6 complaint: canceled.
 */
static const char seed_sql[] =
    "INSERT INTO cases (id, tenant_id, external_id, case_type, "
    "playbook_version, state, created_at, closed_at) OVERRIDING SYSTEM VALUE "
    "VALUES "
    "(1, 'jsbank', 'L-1', 'loan_overdue', 1, 'closed', "
    " '2026-01-01 10:00:00+00', '2026-01-01 10:01:00+00'),"
    "(2, 'jsbank', 'L-2', 'loan_overdue', 1, 'closed', "
    " '2026-01-01 10:00:00+00', '2026-01-01 10:02:00+00'),"
    "(3, 'jsbank', 'C-3', 'complaint', 1, 'closed', "
    " '2026-01-01 10:00:00+00', '2026-01-01 10:05:00+00'),"
    "(4, 'hzinsure', 'CL-4', 'claim', 1, 'closed', "
    " '2026-01-01 10:00:00+00', '2026-01-01 10:00:30+00'),"
    "(5, 'jsbank', 'L-5', 'loan_overdue', 1, 'open', "
    " '2026-01-01 10:00:00+00', NULL),"
    "(6, 'jsbank', 'C-6', 'complaint', 1, 'canceled', "
    " '2026-01-01 10:00:00+00', NULL);"
    "INSERT INTO tasks (id, case_id, tenant_id, step, state, epoch, "
    "worker_id, offers, ready_at, sla_due_at, assigned_at, completed_at) "
    "OVERRIDING SYSTEM VALUE VALUES "
    "(11, 1, 'jsbank', 'contact', 'completed', 2, 'w001', 2, "
    " '2026-01-01 10:00:00+00', '2026-01-01 10:05:00+00', "
    " '2026-01-01 10:00:10+00', '2026-01-01 10:01:00+00'),"
    "(21, 2, 'jsbank', 'contact', 'completed', 1, 'w003', 1, "
    " '2026-01-01 10:00:00+00', '2026-01-01 10:00:30+00', "
    " '2026-01-01 10:00:05+00', '2026-01-01 10:01:00+00'),"
    "(22, 2, 'jsbank', 'hardship_plan', 'completed', 1, 'w039', 1, "
    " '2026-01-01 10:01:00+00', '2026-01-01 11:01:00+00', "
    " '2026-01-01 10:01:05+00', '2026-01-01 10:02:00+00'),"
    "(23, 2, 'jsbank', 'legal_review', 'skipped', 0, NULL, 0, "
    " NULL, NULL, NULL, NULL),"
    "(31, 3, 'jsbank', 'intake', 'completed', 1, 'w004', 1, "
    " '2026-01-01 10:00:00+00', '2026-01-01 10:15:00+00', "
    " '2026-01-01 10:00:01+00', '2026-01-01 10:02:00+00'),"
    "(32, 3, 'jsbank', 'resolution', 'completed', 1, 'w004', 1, "
    " '2026-01-01 10:02:00+00', '2026-01-01 12:02:00+00', "
    " '2026-01-01 10:02:01+00', '2026-01-01 10:05:00+00'),"
    "(41, 4, 'hzinsure', 'first_notice', 'completed', 1, 'w005', 1, "
    " '2026-01-01 10:00:00+00', '2026-01-01 10:10:00+00', "
    " '2026-01-01 10:00:01+00', '2026-01-01 10:00:30+00'),"
    "(51, 5, 'jsbank', 'contact', 'pending', 0, NULL, 0, "
    " '2026-01-01 10:00:00+00', '2026-01-01 10:05:00+00', NULL, NULL),"
    "(61, 6, 'jsbank', 'intake', 'canceled', 0, NULL, 0, "
    " '2026-01-01 10:00:00+00', NULL, NULL, NULL);"
    "INSERT INTO reservations (id, task_id, worker_id, epoch, state, "
    "deadline, reason) OVERRIDING SYSTEM VALUE VALUES "
    "(101, 11, 'w002', 1, 'rejected', now(), 'language'),"
    "(102, 11, 'w001', 2, 'completed', now(), NULL),"
    "(201, 21, 'w003', 1, 'completed', now(), NULL),"
    "(202, 22, 'w039', 1, 'completed', now(), NULL),"
    "(301, 31, 'w004', 1, 'completed', now(), NULL),"
    "(302, 32, 'w004', 1, 'completed', now(), NULL),"
    "(401, 41, 'w005', 1, 'completed', now(), NULL);"
    "INSERT INTO outcomes (id, task_id, case_id, tenant_id, worker_id, "
    "reservation_id, code, fields, billable) OVERRIDING SYSTEM VALUE VALUES "
    "(1001, 11, 1, 'jsbank', 'w001', 102, 'promise_to_pay', "
    " '{\"amount_minor\": 500000, \"due_date\": \"2026-02-01\"}', true),"
    "(2001, 21, 2, 'jsbank', 'w003', 201, 'hardship', "
    " '{\"reason\": \"job loss\"}', false),"
    "(2002, 22, 2, 'jsbank', 'w039', 202, 'plan_agreed', "
    " '{\"instalments\": 6, \"monthly_minor\": 50000}', true),"
    "(3001, 31, 3, 'jsbank', 'w004', 301, 'logged', "
    " '{\"category\": \"fees\"}', false),"
    "(3002, 32, 3, 'jsbank', 'w004', 302, 'upheld', "
    " '{\"compensation_minor\": 10000}', true),"
    "(4001, 41, 4, 'hzinsure', 'w005', 401, 'not_covered', "
    " '{\"reason\": \"lapsed\"}', false);"
    "INSERT INTO billable_lines (outcome_id, tenant_id, operator_id, "
    "contract_id, case_id, task_id, worker_id, outcome_code, amount_minor, "
    "currency) VALUES "
    "(1001, 'jsbank', 'acme_bpo', 'jsbank-acme-front', 1, 11, 'w001', "
    " 'promise_to_pay', 3000, 'CNY'),"
    "(2002, 'jsbank', 'acme_bpo', 'jsbank-acme-spec', 2, 22, 'w039', "
    " 'plan_agreed', 6500, 'CNY'),"
    "(3002, 'jsbank', 'acme_bpo', 'jsbank-acme-front', 3, 32, 'w004', "
    " 'upheld', 300000000, 'CNY');";

static void setup_history(fixture *f, const char *name)
{
    static const char *const files[] = {"examples/operator.json",
                                        "examples/bank.json",
                                        "examples/insurer.json"};
    char path[512];
    err e = {0};

    fixture_setup(f, name);
    for (int i = 0; i < 3; i++) {
        fixture_path(files[i], path, sizeof(path));
        if (cmd_load_file(f->db, path, NULL, &e) != ST_OK)
            fail_msg("load %s: %s", files[i], e.msg);
    }
    fixture_exec(f, seed_sql);
}

/* Capture what print writes; the caller frees the result. */
static char *capture_report(const cmd_report_figures *r, cli_format fmt)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);

    assert_non_null(out);
    cmd_report_print(r, fmt, out);
    fclose(out);
    return buf;
}

static void expect_line(const char *text, const char *line)
{
    char want[256];

    snprintf(want, sizeof(want), "\n%s\n", line);
    /* Every line, the first included, is preceded by a newline here. */
    if (strncmp(text, line, strlen(line)) == 0 && text[strlen(line)] == '\n')
        return;
    if (strstr(text, want) == NULL)
        fail_msg("missing line \"%s\" in:\n%s", line, text);
}

static void test_report_figures(void **state)
{
    fixture f;
    cmd_report_figures *r = NULL;
    char *kv, *table;
    err e = {0};

    (void)state;
    setup_history(&f, "cmd_report_fig");
    assert_int_equal(cmd_report_collect(f.db, &r, &e), ST_OK);
    assert_int_equal(r->cases, 6);
    assert_int_equal(r->closed, 4);
    assert_int_equal(r->open, 1);
    assert_int_equal(r->canceled, 1);
    assert_int_equal(r->closed_tasks, 6);
    assert_int_equal(r->transfers, 1);
    assert_int_equal(r->one_contact, 3);
    assert_int_equal(r->tasks_completed, 6);
    assert_int_equal(r->offers, 7);
    assert_int_equal(r->sla_tasks, 6);
    assert_int_equal(r->sla_met, 5);
    assert_true(r->has_resolve);
    /* 30, 60, 120, 300 s: median 90, p90 = 120 + 0.7 * 180. */
    assert_true(r->resolve_p50_s > 89.999 && r->resolve_p50_s < 90.001);
    assert_true(r->resolve_p90_s > 245.999 && r->resolve_p90_s < 246.001);
    assert_int_equal(r->nbilled, 1);
    assert_string_equal(r->billed[0].tenant, "jsbank");
    assert_string_equal(r->billed[0].currency, "CNY");
    assert_int_equal(r->billed[0].lines, 3);
    assert_int_equal(r->billed[0].amount_minor, 300009500);

    kv = capture_report(r, ADMIN_FMT_KV);
    expect_line(kv, "cases_submitted=6");
    expect_line(kv, "cases_resolved=4");
    expect_line(kv, "tasks_per_case=1.50");
    expect_line(kv, "transfers_per_case=0.25");
    expect_line(kv, "one_contact_resolution_pct=75.0");
    expect_line(kv, "resolve_p50_s=90.000");
    expect_line(kv, "resolve_p90_s=246.000");
    expect_line(kv, "offers_per_task=1.17");
    expect_line(kv, "sla_met_pct=83.3");
    expect_line(kv, "billed.jsbank.CNY.lines=3");
    expect_line(kv, "billed.jsbank.CNY.amount_minor=300009500");
    table = capture_report(r, ADMIN_FMT_TABLE);
    assert_non_null(strstr(table, "CNY 3,000,095.00"));
    assert_non_null(strstr(table, "one-contact resolution"));
    free(kv);
    free(table);
    cmd_report_destroy(r);
    fixture_teardown(&f);
}

static void test_report_empty(void **state)
{
    fixture f;
    cmd_report_figures *r = NULL;
    char *kv;
    err e = {0};

    (void)state;
    fixture_setup(&f, "cmd_report_empty");
    assert_int_equal(cmd_report_collect(f.db, &r, &e), ST_OK);
    assert_int_equal(r->cases, 0);
    assert_false(r->has_resolve);
    kv = capture_report(r, ADMIN_FMT_KV);
    expect_line(kv, "cases_submitted=0");
    expect_line(kv, "tasks_per_case=n/a");
    expect_line(kv, "resolve_p50_s=n/a");
    free(kv);
    cmd_report_destroy(r);
    fixture_teardown(&f);
}

static char *capture_bill(fixture *f, const char *tenant, cli_format fmt,
                          status want)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    err e = {0};

    assert_non_null(out);
    assert_int_equal(cmd_bill_summary(f->db, tenant, fmt, out, &e), want);
    fclose(out);
    if (want != ST_OK) {
        free(buf);
        return strdup(e.msg);
    }
    return buf;
}

static void test_bill_summary(void **state)
{
    fixture f;
    char *s;

    (void)state;
    setup_history(&f, "cmd_report_bill");
    s = capture_bill(&f, NULL, ADMIN_FMT_KV, ST_OK);
    expect_line(s, "tenant.jsbank.CNY.lines=3");
    expect_line(s, "tenant.jsbank.CNY.amount_minor=300009500");
    expect_line(s, "operator.acme_bpo.CNY.lines=3");
    expect_line(s, "operator.acme_bpo.CNY.amount_minor=300009500");
    expect_line(s, "outcome.jsbank.plan_agreed.CNY.amount_minor=6500");
    expect_line(s, "outcome.jsbank.promise_to_pay.CNY.lines=1");
    free(s);

    s = capture_bill(&f, "jsbank", ADMIN_FMT_TABLE, ST_OK);
    assert_non_null(strstr(s, "TENANT"));
    assert_non_null(strstr(s, "jsbank      3  CNY 3,000,095.00"));
    assert_non_null(strstr(s, "acme_bpo      3  CNY 3,000,095.00"));
    assert_non_null(strstr(s, "CNY 65.00"));
    free(s);

    /* Another tenant sees none of jsbank's lines. */
    s = capture_bill(&f, "hzinsure", ADMIN_FMT_KV, ST_OK);
    assert_string_equal(s, "");
    free(s);

    s = capture_bill(&f, "nobank", ADMIN_FMT_KV, ST_UNKNOWN_TENANT);
    assert_non_null(strstr(s, "tenant \"nobank\" is not registered; run: "
                              "twinline tenant list"));
    free(s);
    fixture_teardown(&f);
}

static void test_case_show(void **state)
{
    fixture f;
    char *buf = NULL;
    size_t len = 0;
    FILE *out;
    err e = {0};

    (void)state;
    setup_history(&f, "cmd_report_show");
    out = open_memstream(&buf, &len);
    assert_int_equal(cmd_case_show(f.db, "jsbank", 0, "L-1", out, &e), ST_OK);
    fclose(out);
    assert_non_null(strstr(buf, "case 1  tenant jsbank  external id L-1"));
    assert_non_null(strstr(buf, "state closed"));
    assert_non_null(strstr(buf, "(60.000 s)"));
    assert_non_null(strstr(buf, "promise_to_pay"));
    assert_non_null(strstr(buf, "CNY 30.00"));
    assert_non_null(strstr(buf, "language")); /* the rejected offer */
    assert_null(strstr(buf, "pending"));      /* every billable line is there */
    free(buf);

    /* Tenants are isolated: hzinsure cannot see jsbank's case 1. */
    buf = NULL;
    out = open_memstream(&buf, &len);
    assert_int_equal(cmd_case_show(f.db, "hzinsure", 1, NULL, out, &e),
                     ST_NOT_FOUND);
    fclose(out);
    assert_non_null(strstr(e.msg, "tenant \"hzinsure\" has no case 1"));
    free(buf);
    fixture_teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_figures),
        cmocka_unit_test(test_report_empty),
        cmocka_unit_test(test_bill_summary),
        cmocka_unit_test(test_case_show),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
