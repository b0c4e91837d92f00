/*
 * AI outcomes under human review (docs/protocol.md, "AI workers and
 * review"). A playbook gives an `ai: auto` step X a review step: one whose
 * `after` is exactly [X] and whose `when` is exactly ["ai_review"]. No
 * outcome is ever called ai_review, so progression skips that step, unless
 * the dispatcher made its task ready first: it does so, in the transaction
 * that records an AI worker's outcome of X, when the confidence is below the
 * step's threshold or the task falls in the step's sample. The review task
 * then routes like any task of a human step. Its outcome `confirmed` keeps
 * the AI outcome; `overturned` with fields {"code": C} marks the AI outcome
 * overturned (never billed) and records C as its replacement.
 *
 * Both happen for all completions of a batch in one statement each.
 */
#include "review.h"

#include <stdio.h>
#include <string.h>

#include "dsp_sql.h"
#include "jsonx.h"
#include "sbuf.h"
#include "state.h"

int dsp_review_bucket(int64_t task_id)
{
    /* A multiplicative hash spreads consecutive task ids evenly over the
     * buckets, so a sample of n per mille is close to n per mille of any
     * run of tasks, and the same task always falls in the same bucket. */
    uint64_t h = (uint64_t)task_id * 0x9E3779B97F4A7C15ULL;

    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 32;
    return (int)(h % 1000);
}

bool dsp_review_step(const playbook *pb, int step)
{
    const pb_step *st = &pb->steps[step];

    return st->nafter == 1 && st->nwhen == 1 &&
           strcmp(st->when[0], DSP_REVIEW_WHEN) == 0;
}

status dsp_review_check(const playbook *pb, int step, const char *code,
                        const json_t *fields, err *e)
{
    const pb_step *ai;
    const pb_outcome *oc;
    const char *repl;

    if (!dsp_review_step(pb, step) || strcmp(code, "overturned") != 0)
        return ST_OK;
    ai = &pb->steps[pb->steps[step].after[0]];
    repl = json_string_value(json_object_get(fields, "code"));
    oc = repl != NULL ? playbook_outcome(ai, repl) : NULL;
    if (oc == NULL)
        return err_set(e, ST_OUTCOME_NOT_ALLOWED,
                       "outcome overturned: fields.code must be an outcome "
                       "of step \"%s\" (the reviewed step), not \"%.64s\"",
                       ai->key, repl != NULL ? repl : "");
    if (oc->nfields > 0)
        return err_set(e, ST_OUTCOME_NOT_ALLOWED,
                       "outcome overturned: \"%s\" has fields, and a review "
                       "can only replace an outcome with one that has none",
                       oc->code);
    return ST_OK;
}

static status route_rows(dispatcher *d, const db_res *u, err *e)
{
    status s = ST_OK;

    for (int i = 0; s == ST_OK && i < db_rows(u); i++) {
        const playbook *pb;
        int st;
        s = dsp_playbook(d, db_val(u, i, DSP_REVIEW_OPEN_TENANT_ID),
                         db_val(u, i, DSP_REVIEW_OPEN_CASE_TYPE),
                         (int)db_i64(u, i, DSP_REVIEW_OPEN_PLAYBOOK_VERSION),
                         &pb, e);
        if (s != ST_OK)
            break;
        st = playbook_step_index(pb, db_val(u, i, DSP_REVIEW_OPEN_STEP));
        if (st >= 0)
            s = dsp_route_task(d, pb, st, db_i64(u, i, DSP_REVIEW_OPEN_ID),
                               db_i64(u, i, DSP_REVIEW_OPEN_CASE_ID),
                               (int)db_i64(u, i, DSP_REVIEW_OPEN_PRIORITY),
                               db_i64(u, i, DSP_REVIEW_OPEN_READY_US), -1, e);
    }
    return s;
}

status dsp_review_after(dispatcher *d, const dsp_review_item *items, int n,
                        err *e)
{
    sbuf ai = {0}, conf = {0}, bucket = {0}, rev = {0};
    db_res *u = NULL;
    int nai = 0, nrev = 0;
    status s = ST_OK;

    for (int i = 0; i < n; i++) {
        const dsp_review_item *it = &items[i];
        if (it->review) {
            sbuf_printf(&rev, "%s%lld", nrev++ > 0 ? "," : "{",
                        (long long)it->task_id);
            continue;
        }
        sbuf_printf(&ai, "%s%lld", nai > 0 ? "," : "{", (long long)it->task_id);
        if (it->confidence >= 0)
            sbuf_printf(&conf, "%s%d", nai > 0 ? "," : "{", it->confidence);
        else
            sbuf_printf(&conf, "%sNULL", nai > 0 ? "," : "{");
        sbuf_printf(&bucket, "%s%d", nai > 0 ? "," : "{",
                    dsp_review_bucket(it->task_id));
        nai++;
    }
    sbuf_append(&ai, "}", 1);
    sbuf_append(&conf, "}", 1);
    sbuf_append(&bucket, "}", 1);
    sbuf_append(&rev, "}", 1);
    if (ai.failed || conf.failed || bucket.failed || rev.failed) {
        s = err_set(e, ST_NOMEM, "out of memory");
        goto out;
    }
    if (nrev > 0) {
        const char *p[1] = {sbuf_str(&rev)};
        s = db_run(d->db, &dsp_sql_review_decide, p, NULL, e);
        if (s != ST_OK)
            goto out;
    }
    if (nai > 0) {
        const char *p[3] = {sbuf_str(&ai), sbuf_str(&conf), sbuf_str(&bucket)};
        s = db_run(d->db, &dsp_sql_review_open, p, &u, e);
        if (s == ST_OK)
            s = route_rows(d, u, e);
    }
out:
    db_res_free(u);
    sbuf_free(&ai);
    sbuf_free(&conf);
    sbuf_free(&bucket);
    sbuf_free(&rev);
    return s;
}
