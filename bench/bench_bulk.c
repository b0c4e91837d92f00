/*
 * Bulk AI work on the running services (scripts/bench.sh starts them and
 * an AI agent, twinline-agent --ai, which answers in accept_many and
 * complete_many requests): submits CASES consumer-review cases of tenant
 * jsbank in case.submit_many requests of up to 1,000, then waits until
 * the AI workers have completed every case's assessment, durably (each
 * reply after COMMIT). Prints name=value figures:
 *
 *   bulk_ai_cases             cases accepted by the submits
 *   bulk_submit_cases_per_s   cases submitted per second (first request
 *                             sent to last reply)
 *   bulk_ai_tasks_per_s       assessments completed per second, from the
 *                             first case's creation to the last outcome
 *   bulk_ai_seconds           that span
 *
 * Usage: bench_bulk CASES CREDS RUN_ID (TL_DB, TL_NATS, TL_PREFIX from the
 * environment; CREDS the tenant's credentials file). Never asserts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "case_msg.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "feed.h"
#include "many_msg.h"

#define BULK    1000
#define WAIT_S  300
#define TIMEOUT 60000

static double now_s(void)
{
    return (double)clock_mono_us() / 1e6;
}

/* Submit cases [from, from + n) as one submit_many; the ok results. */
static long submit_bulk(bus *b, const char *subject, const char *run, long from,
                        int n, uint64_t *rng)
{
    char **items = calloc((size_t)n, sizeof(char *));
    char ext[96], code[48], message[256];
    char *body = NULL;
    size_t len = 0;
    bus_msg *reply = NULL;
    many_list l = {0};
    bool ok = false;
    long good = 0;
    err e = {0};
    status s = items != NULL ? ST_OK : err_set(&e, ST_NOMEM, "out of memory");

    for (int i = 0; s == ST_OK && i < n; i++) {
        snprintf(ext, sizeof(ext), "%s-%ld", run, from + i);
        s = feed_case_json(rng, "consumer_review", ext, &items[i], &e);
    }
    if (s == ST_OK)
        s = many_msg_encode("cases", items, n, &body, &len, &e);
    if (s == ST_OK)
        s = bus_request(b, subject, body, len, TIMEOUT, &reply, &e);
    if (s == ST_OK)
        s = many_msg_reply_split(bus_msg_data(reply), bus_msg_len(reply), &ok,
                                 code, message, &l, &e);
    if (s == ST_OK && !ok)
        fprintf(stderr, "bench_bulk: submit_many refused: %s %s\n", code,
                message);
    for (int i = 0; s == ST_OK && ok && i < l.n; i++)
        if (strncmp(l.text[i], "{\"ok\":true", 10) == 0)
            good++;
    if (s != ST_OK)
        fprintf(stderr, "bench_bulk: submit_many: %s\n", e.msg);
    many_list_release(&l);
    bus_msg_free(reply);
    free(body);
    for (int i = 0; items != NULL && i < n; i++)
        free(items[i]);
    free(items);
    return good;
}

int main(int argc, char **argv)
{
    long cases = argc > 1 ? atol(argv[1]) : 5000, accepted = 0, done = 0;
    const char *creds = argc > 2 ? argv[2] : NULL;
    const char *run = argc > 3 ? argv[3] : "bulk";
    const char *params[1];
    char subject[200], like[100];
    double t0, t1, span = 0;
    uint64_t rng = 42;
    config cfg;
    bus_opts bo;
    bus *b = NULL;
    db *d = NULL;
    db_res *r = NULL;
    err e = {0};

    config_from_env(&cfg);
    config_bus_opts(&cfg, "bench_bulk", &bo);
    bo.creds = creds;
    if (bus_connect_opts(&b, &bo, &e) != ST_OK ||
        db_connect(&d, cfg.db, &e) != ST_OK) {
        fprintf(stderr, "bench_bulk: %s\n", e.msg);
        return 1;
    }
    snprintf(subject, sizeof(subject), "%s.api.jsbank.case.submit_many",
             cfg.prefix);
    t0 = now_s();
    for (long at = 0; at < cases; at += BULK) {
        int n = cases - at < BULK ? (int)(cases - at) : BULK;
        accepted += submit_bulk(b, subject, run, at, n, &rng);
    }
    t1 = now_s();
    fprintf(stderr, "bench_bulk: %ld of %ld cases accepted in %.2f s\n",
            accepted, cases, t1 - t0);
    snprintf(like, sizeof(like), "%s-", run);
    params[0] = like;
    for (int i = 0; i < WAIT_S * 10 && done < accepted; i++) {
        db_res_free(r);
        r = NULL;
        if (db_query(d,
                     "SELECT count(*), COALESCE(extract(epoch FROM"
                     " max(o.created_at) - min(c.created_at)), 0)"
                     " FROM cases c JOIN tasks t ON t.case_id = c.id"
                     " AND t.step = 'assess' LEFT JOIN outcomes o"
                     " ON o.task_id = t.id WHERE starts_with(c.external_id,"
                     " $1) AND o.id IS NOT NULL",
                     1, params, &r, &e) != ST_OK) {
            fprintf(stderr, "bench_bulk: %s\n", e.msg);
            break;
        }
        done = (long)db_i64(r, 0, 0);
        span = atof(db_val(r, 0, 1));
        if (done < accepted)
            clock_sleep_ms(100);
    }
    if (done < accepted)
        fprintf(stderr, "bench_bulk: only %ld of %ld assessed in %d s\n", done,
                accepted, WAIT_S);
    printf("bulk_ai_cases=%ld\n", accepted);
    printf("bulk_submit_cases_per_s=%.1f\n",
           t1 > t0 ? (double)accepted / (t1 - t0) : 0.0);
    printf("bulk_ai_tasks_per_s=%.1f\n", span > 0 ? (double)done / span : 0.0);
    printf("bulk_ai_seconds=%.3f\n", span);
    db_res_free(r);
    db_close(d);
    bus_close(b);
    return done == accepted ? 0 : 1;
}
