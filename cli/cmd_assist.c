#include "cmd_assist.h"

#include <stdio.h>
#include <string.h>

#include "cli_sql.h"
#include "cli_table.h"
#include "ids.h"

static void rate(char *buf, size_t cap, int64_t num, int64_t den)
{
    if (den <= 0)
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%.1f%%", 100.0 * (double)num / (double)den);
}

static status feedback_table(db *d, const char *tenant, FILE *out, err *e)
{
    static const char *const hdr[] = {"tenant", "step",   "kind", "shown",
                                      "opened", "copied", "used", "accepted"};
    const char *p[1] = {tenant};
    cli_table *t = NULL;
    db_res *r = NULL;
    status s = db_run(d, &cli_sql_assist_feedback, p, &r, e);

    if (s == ST_OK)
        s = cli_table_create(&t, 8, hdr, e);
    for (int c = 3; s == ST_OK && c < 8; c++)
        cli_table_right(t, c);
    for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
        char acc[32];
        const char *cells[8];
        rate(acc, sizeof(acc), db_i64(r, i, CLI_ASSIST_FEEDBACK_ACCEPTED),
             db_i64(r, i, CLI_ASSIST_FEEDBACK_SHOWN));
        cells[0] = db_val(r, i, CLI_ASSIST_FEEDBACK_TENANT_ID);
        cells[1] = db_val(r, i, CLI_ASSIST_FEEDBACK_STEP);
        cells[2] = db_val(r, i, CLI_ASSIST_FEEDBACK_KIND);
        cells[3] = db_val(r, i, CLI_ASSIST_FEEDBACK_SHOWN);
        cells[4] = db_val(r, i, CLI_ASSIST_FEEDBACK_OPENED);
        cells[5] = db_val(r, i, CLI_ASSIST_FEEDBACK_COPIED);
        cells[6] = db_val(r, i, CLI_ASSIST_FEEDBACK_USED);
        cells[7] = acc;
        s = cli_table_add(t, cells, e);
    }
    if (s == ST_OK) {
        fprintf(out, "Assist suggestions (accepted: copied or used per "
                     "shown)\n");
        if (cli_table_rows(t) == 0)
            fprintf(out, "  no feedback recorded yet\n");
        else
            cli_table_print(t, out);
    }
    cli_table_destroy(t);
    db_res_free(r);
    return s;
}

static status review_table(db *d, const char *tenant, FILE *out, err *e)
{
    static const char *const hdr[] = {"tenant",   "step",         "ai outcomes",
                                      "reviewed", "confirmed",    "overturned",
                                      "pending",  "overturn rate"};
    const char *p[1] = {tenant};
    cli_table *t = NULL;
    db_res *r = NULL;
    status s = db_run(d, &cli_sql_assist_reviews, p, &r, e);

    if (s == ST_OK)
        s = cli_table_create(&t, 8, hdr, e);
    for (int c = 2; s == ST_OK && c < 8; c++)
        cli_table_right(t, c);
    for (int i = 0; s == ST_OK && i < db_rows(r); i++) {
        char ov[32];
        const char *cells[8];
        rate(ov, sizeof(ov), db_i64(r, i, CLI_ASSIST_REVIEWS_OVERTURNED),
             db_i64(r, i, CLI_ASSIST_REVIEWS_CONFIRMED) +
                 db_i64(r, i, CLI_ASSIST_REVIEWS_OVERTURNED));
        cells[0] = db_val(r, i, CLI_ASSIST_REVIEWS_TENANT_ID);
        cells[1] = db_val(r, i, CLI_ASSIST_REVIEWS_STEP);
        cells[2] = db_val(r, i, CLI_ASSIST_REVIEWS_OUTCOMES);
        cells[3] = db_val(r, i, CLI_ASSIST_REVIEWS_REVIEWED);
        cells[4] = db_val(r, i, CLI_ASSIST_REVIEWS_CONFIRMED);
        cells[5] = db_val(r, i, CLI_ASSIST_REVIEWS_OVERTURNED);
        cells[6] = db_val(r, i, CLI_ASSIST_REVIEWS_PENDING);
        cells[7] = ov;
        s = cli_table_add(t, cells, e);
    }
    if (s == ST_OK) {
        fprintf(out, "\nAI workers under review\n");
        if (cli_table_rows(t) == 0)
            fprintf(out, "  no AI outcomes yet\n");
        else
            cli_table_print(t, out);
    }
    cli_table_destroy(t);
    db_res_free(r);
    return s;
}

status cmd_assist_report(db *d, const char *tenant, FILE *out, err *e)
{
    status s = feedback_table(d, tenant != NULL ? tenant : "", out, e);

    if (s == ST_OK)
        s = review_table(d, tenant != NULL ? tenant : "", out, e);
    return s;
}

static const char assist_usage[] =
    "usage: twinline assist report [--tenant TENANT]\n"
    "\n"
    "The assistant's acceptance rate per tenant, step and kind of suggestion\n"
    "(passage, reply, model): suggestions shown, opened, copied, used, and\n"
    "the share of shown ones copied or used; then the AI workers' outcomes\n"
    "per step and how their human reviews went.\n"
    "  --tenant TENANT   only this tenant\n";

int cmd_assist(int argc, char **argv, const config *cfg)
{
    config c = *cfg;
    const char *tenant = NULL;
    bool report = false;
    db *d = NULL;
    err e = {0};
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        if (config_take_flag(&c, argc, argv, &i, &e)) {
            if (e.code != ST_OK) {
                fprintf(stderr, "twinline: %s\n%s", e.msg, assist_usage);
                return 2;
            }
        } else if (strcmp(argv[i], "--help") == 0 ||
                   strcmp(argv[i], "-h") == 0) {
            printf("%s\n%s", assist_usage, config_flags_help);
            return 0;
        } else if (strcmp(argv[i], "--tenant") == 0 && i + 1 < argc) {
            tenant = argv[++i];
            if (!ids_token_valid(tenant)) {
                fprintf(stderr, "twinline: --tenant: not an identifier\n%s",
                        assist_usage);
                return 2;
            }
        } else if (!report && strcmp(argv[i], "report") == 0) {
            report = true;
        } else {
            fprintf(stderr, "twinline: unexpected argument %s\n%s", argv[i],
                    assist_usage);
            return 2;
        }
    }
    if (!report) {
        fprintf(stderr, "twinline: expected: assist report\n%s", assist_usage);
        return 2;
    }
    if (db_connect(&d, c.db, &e) != ST_OK ||
        cmd_assist_report(d, tenant, stdout, &e) != ST_OK) {
        fprintf(stderr, "twinline: %s\n", e.msg);
        rc = 1;
    }
    db_close(d);
    return rc;
}
