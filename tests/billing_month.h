/*
 * The hand-computed month of tests/integration/itest_billing_flow.c,
 * shared by the tests that read it back (itest_billing_report.c,
 * itest_adjustments.c), each set up by billing_month_env_up: bank
 * jsbank, operator op1 (pool p1, worker w1), contract c1 with one price
 * plan (CNY 15.00 per resolved case + 8% of collected_minor capped at
 * CNY 500.00; fee 10%; operator 20 : worker 60 : AI worker ai1 20;
 * verification 7 days, clawback 60 days). Test code: failures abort.
 */
#ifndef TL_BILLING_MONTH_H
#define TL_BILLING_MONTH_H

#include <stdbool.h>
#include <stdint.h>

#include "billing_flow.h"
#include "fixture.h"
#include "signer.h"

/* Insert the parties, contract, plan and playbook into f's database. */
void billing_month_seed(fixture *f);

/* A case ext of jsbank with one completed task by w1 and one billable
 * "resolved" outcome collecting collected fen at time at; returns the
 * outcome's id. */
int64_t billing_month_outcome(fixture *f, const char *ext, int64_t collected,
                              const char *at);

/* One more completed task by w1 on the existing case ext, with a billable
 * "resolved" outcome as billing_month_outcome; returns the outcome's id. */
int64_t billing_month_outcome_on(fixture *f, const char *ext, int64_t collected,
                                 const char *at);

/* File a reopen or complaint (kind) on case ext at time at. */
void billing_month_dispute(fixture *f, const char *ext, const char *kind,
                           const char *at);

/* A fresh Ed25519 key in a new temporary directory dir (at least 32
 * bytes), loaded into *sg. */
void billing_month_signer(char *dir, size_t cap, signer **sg);

/* Destroy sg and remove its key files and directory. */
void billing_month_signer_free(const char *dir, signer *sg);

/* One case of the month: its billable outcome collects `collected` fen at
 * time at (billing_month_outcome). */
typedef struct billing_month_case {
    const char *ext;
    int64_t collected;
    const char *at;
} billing_month_case;

#define BILLING_MONTH_CASES_MAX 8

/*
 * The world of a test of the month: a fresh database with the month
 * (billing_month_seed, then the test's own SQL), the outcomes of its cases
 * (ids[i] for cases[i]; a test may add more up to the maximum), a
 * billing_flow, and, when asked, a signer with a fresh key.
 */
typedef struct billing_month_env {
    fixture f;
    billing_flow *flow;
    signer *sg; /* NULL without a signer */
    char keydir[64];
    int64_t ids[BILLING_MONTH_CASES_MAX];
    int n;
} billing_month_env;

/* Set up *v for the test name; billing_month_env_down ends it. */
void billing_month_env_up(billing_month_env *v, const char *name,
                          const char *sql, const billing_month_case *cases,
                          int ncases, bool with_signer);
void billing_month_env_down(billing_month_env *v);

#endif
