#include "cmd_explain.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli_sql.h"

/* routing_decisions.filtered keys (dispatcher/offers.c) in words. */
static const struct {
    const char *key;
    const char *words;
} filters[] = {
    {"kind", "AI workers, while the step is not fully automated (ai: auto)"},
    {"skill", "lacking a required skill level"},
    {"contract", "of pools without a contract for the case type"},
    {"licence", "without the required licence, valid today"},
    {"presence", "offline or on a break"},
    {"wrap_up", "in wrap-up after their last task"},
    {"capacity", "without a free slot on the channel"},
    {"excluded", "who had declined it or let the offer time out"},
};

static const char *const parts[] = {"fit",     "idle", "occupancy",
                                    "quality", "cost", "fairness"};

static const char *rule_words(const char *rule)
{
    if (strcmp(rule, "affinity") == 0)
        return "case affinity: this worker handled the case's previous step "
               "and was eligible, so the customer keeps one contact";
    if (strcmp(rule, "only") == 0)
        return "it was the only eligible worker";
    if (strcmp(rule, "ring") == 0)
        return "it became eligible only through the step's relaxation ring";
    if (strcmp(rule, "batch") == 0)
        return "part of the batch assignment with the best total score";
    return "the best score among the eligible workers";
}

static void print_ring(FILE *out, int ring, const char *def)
{
    json_t *g = def[0] != '\0' ? json_loads(def, 0, NULL) : NULL;
    const char *sep = "";

    fprintf(out, "relaxation ring %d (", ring);
    if (g != NULL) {
        json_int_t after =
            json_integer_value(json_object_get(g, "after_seconds"));
        json_int_t lower = json_integer_value(json_object_get(g, "lower_by"));
        json_int_t boost =
            json_integer_value(json_object_get(g, "priority_boost"));
        const char *pool =
            json_string_value(json_object_get(g, "overflow_pool"));
        fprintf(out, "after %" JSON_INTEGER_FORMAT " s", after);
        sep = ": ";
        if (lower > 0) {
            fprintf(out, "%slevels lowered by %" JSON_INTEGER_FORMAT, sep,
                    lower);
            sep = ", ";
        }
        if (json_is_true(json_object_get(g, "assist"))) {
            fprintf(out, "%sAI-assisted levels count", sep);
            sep = ", ";
        }
        if (pool != NULL) {
            fprintf(out, "%soverflow pool %s admitted", sep, pool);
            sep = ", ";
        }
        if (boost != 0)
            fprintf(out, "%spriority raised by %" JSON_INTEGER_FORMAT, sep,
                    boost);
    }
    fprintf(out, ")");
    json_decref(g);
}

static void print_candidates(FILE *out, const char *text, const char *chosen,
                             int examined)
{
    json_t *a = json_loads(text, 0, NULL);
    size_t i;
    json_t *c;

    if (!json_is_array(a) || json_array_size(a) == 0) {
        fprintf(out, "  No other candidate was scored (%d examined).\n",
                examined);
        json_decref(a);
        return;
    }
    fprintf(out,
            "  Candidates considered (%d examined, best first; the score is "
            "the sum of its parts):\n",
            examined);
    json_array_foreach(a, i, c)
    {
        const char *w = json_string_value(json_object_get(c, "worker"));
        json_t *p = json_object_get(c, "parts");
        fprintf(out, "    %zu. %-12s score %" JSON_INTEGER_FORMAT " =", i + 1,
                w != NULL ? w : "?",
                json_integer_value(json_object_get(c, "score")));
        for (size_t k = 0; k < sizeof(parts) / sizeof(parts[0]); k++)
            fprintf(out, "%s %s %" JSON_INTEGER_FORMAT, k > 0 ? "," : "",
                    parts[k], json_integer_value(json_object_get(p, parts[k])));
        fprintf(out, "%s\n",
                w != NULL && chosen != NULL && strcmp(w, chosen) == 0
                    ? "   <- chosen"
                    : "");
    }
    json_decref(a);
}

static void print_filtered(FILE *out, const char *text)
{
    json_t *f = json_loads(text, 0, NULL);
    bool any = false;

    for (size_t k = 0; k < sizeof(filters) / sizeof(filters[0]); k++) {
        json_int_t n = json_integer_value(json_object_get(f, filters[k].key));
        if (n <= 0)
            continue;
        fprintf(out, "%s %" JSON_INTEGER_FORMAT " %s %s",
                any ? ";" : "  Ruled out:", n, n == 1 ? "worker" : "workers",
                filters[k].words);
        any = true;
    }
    fprintf(out, "%s\n", any ? "." : "  No worker was ruled out.");
    json_decref(f);
}

status cmd_explain_task(db *d, int64_t task_id, FILE *out, err *e)
{
    char ibuf[24];
    const char *p[1] = {db_i64_str(ibuf, task_id)};
    db_res *t = NULL, *r = NULL;
    status s;

    if ((s = db_run(d, &cli_sql_explain_task, p, &t, e)) != ST_OK)
        goto out;
    if (db_rows(t) == 0) {
        s = err_set(e, ST_NOT_FOUND,
                    "task %" PRId64 " does not exist; the tasks of a case are "
                    "listed by: twinline case show",
                    task_id);
        goto out;
    }
    if ((s = db_run(d, &cli_sql_explain_decisions, p, &r, e)) != ST_OK)
        goto out;
    fprintf(out,
            "Task %" PRId64 " (tenant %s, case type %s, step %s, case %s)"
            " is %s.\n",
            task_id, db_val(t, 0, CLI_EXPLAIN_TASK_TENANT_ID),
            db_val(t, 0, CLI_EXPLAIN_TASK_CASE_TYPE),
            db_val(t, 0, CLI_EXPLAIN_TASK_STEP),
            db_val(t, 0, CLI_EXPLAIN_TASK_CASE_ID),
            db_val(t, 0, CLI_EXPLAIN_TASK_STATE));
    if (db_val(t, 0, CLI_EXPLAIN_TASK_CANCEL_REASON)[0] != '\0')
        fprintf(out, "It was canceled: %s.\n",
                db_val(t, 0, CLI_EXPLAIN_TASK_CANCEL_REASON));
    if (db_rows(r) == 0)
        fprintf(out, "No routing decision is recorded for it: it has not "
                     "been offered to anyone yet.\n");
    for (int i = 0; i < db_rows(r); i++) {
        const char *worker = db_val(r, i, CLI_EXPLAIN_DECISIONS_WORKER_ID);
        int64_t waited = db_i64(r, i, CLI_EXPLAIN_DECISIONS_WAITED_MS);
        int ring = (int)db_i64(r, i, CLI_EXPLAIN_DECISIONS_RING);

        fprintf(out,
                "\nDecision %d, %s: the task went to %s (reservation %s, "
                "now %s)\n  because %s.\n",
                i + 1, db_val(r, i, CLI_EXPLAIN_DECISIONS_CREATED_AT), worker,
                db_val(r, i, CLI_EXPLAIN_DECISIONS_RESERVATION_ID),
                db_val(r, i, CLI_EXPLAIN_DECISIONS_STATE),
                rule_words(db_val(r, i, CLI_EXPLAIN_DECISIONS_RULE)));
        fprintf(out,
                "  It had waited %" PRId64 ".%01" PRId64
                " s at effective priority %s",
                waited / 1000, waited % 1000 / 100,
                db_val(r, i, CLI_EXPLAIN_DECISIONS_PRIORITY));
        if (ring > 0) {
            fprintf(out, ", under ");
            print_ring(out, ring, db_val(r, i, CLI_EXPLAIN_DECISIONS_RING_DEF));
        }
        fprintf(out, ".\n");
        print_candidates(out, db_val(r, i, CLI_EXPLAIN_DECISIONS_CANDIDATES),
                         worker,
                         (int)db_i64(r, i, CLI_EXPLAIN_DECISIONS_EXAMINED));
        print_filtered(out, db_val(r, i, CLI_EXPLAIN_DECISIONS_FILTERED));
    }
out:
    db_res_free(t);
    db_res_free(r);
    return s;
}

static const char explain_usage[] =
    "usage: twinline explain TASK_ID\n"
    "\n"
    "Why a task went to its worker(s): for every routing decision recorded\n"
    "for it, the candidates the router considered with their scores by\n"
    "component (fit, idle, occupancy, quality, cost, fairness), the rule\n"
    "that fired (affinity, best score, only eligible, ring, batch) and how\n"
    "many workers each hard rule ruled out (docs/routing.md).\n";

int cmd_explain(int argc, char **argv, const config *cfg)
{
    config c = *cfg;
    const char *id = NULL;
    long long task;
    char *end = NULL;
    db *d = NULL;
    err e = {0};
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        if (config_take_flag(&c, argc, argv, &i, &e)) {
            if (e.code != ST_OK) {
                fprintf(stderr, "twinline: %s\n%s", e.msg, explain_usage);
                return 2;
            }
        } else if (strcmp(argv[i], "--help") == 0 ||
                   strcmp(argv[i], "-h") == 0) {
            printf("%s\n%s", explain_usage, config_flags_help);
            return 0;
        } else if (id == NULL && argv[i][0] != '-') {
            id = argv[i];
        } else {
            fprintf(stderr, "twinline: unexpected argument %s\n%s", argv[i],
                    explain_usage);
            return 2;
        }
    }
    errno = 0;
    task = id != NULL ? strtoll(id, &end, 10) : 0;
    if (id == NULL || *end != '\0' || errno != 0 || task <= 0) {
        fprintf(stderr, "twinline: explain needs a task id (a number)\n%s",
                explain_usage);
        return 2;
    }
    if (db_connect(&d, c.db, &e) != ST_OK ||
        cmd_explain_task(d, (int64_t)task, stdout, &e) != ST_OK) {
        fprintf(stderr, "twinline: %s\n", e.msg);
        rc = 1;
    }
    db_close(d);
    return rc;
}
