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
#include <stdio.h>
#include <string.h>

#include "dispatcher_int.h"
#include "jsonx.h"
#include "sbuf.h"

DB_STMT(st_review_open, 3,
        "WITH v AS (SELECT * FROM unnest($1::bigint[], $2::int[], $3::int[])"
        "  AS v(task_id, confidence, bucket)),"
        " a AS (SELECT o.id AS outcome_id, o.task_id, o.case_id,"
        "  c.tenant_id, c.case_type, c.playbook_version, c.priority,"
        "  v.confidence, v.bucket, rv.step AS rstep, rv.sla_seconds,"
        "  COALESCE(p.threshold_permille, 800) AS th,"
        "  COALESCE(p.sample_permille, 100) AS sp"
        "  FROM v JOIN outcomes o ON o.task_id = v.task_id"
        "  JOIN tasks t ON t.id = o.task_id JOIN cases c ON c.id = o.case_id"
        "  JOIN workers w ON w.id = o.worker_id AND w.kind = 'ai'"
        "  JOIN playbook_steps s ON s.tenant_id = c.tenant_id"
        "  AND s.case_type = c.case_type AND s.version = c.playbook_version"
        "  AND s.step = t.step AND s.ai_mode = 'auto'"
        "  JOIN playbook_steps rv ON rv.tenant_id = c.tenant_id"
        "  AND rv.case_type = c.case_type AND rv.version = c.playbook_version"
        "  AND rv.after_steps = ARRAY[t.step::text]"
        "  AND rv.when_outcomes = '{ai_review}'::text[]"
        "  LEFT JOIN ai_review_policy p ON p.tenant_id = c.tenant_id"
        "  AND p.case_type = c.case_type AND p.step = t.step),"
        " sel AS (SELECT a.*, CASE WHEN a.confidence IS NULL"
        "  OR a.confidence < a.th THEN 'low_confidence'"
        "  WHEN a.bucket < a.sp THEN 'sample' END AS why FROM a),"
        " oc AS (UPDATE outcomes SET confidence = v.confidence,"
        "  review = CASE WHEN sel.why IS NOT NULL THEN 'pending' END"
        "  FROM v LEFT JOIN sel ON sel.task_id = v.task_id"
        "  WHERE outcomes.task_id = v.task_id"
        "  AND (v.confidence IS NOT NULL OR sel.why IS NOT NULL)),"
        " rt AS (UPDATE tasks SET state = 'pending', ready_at = now(),"
        "  sla_due_at = now() + make_interval(secs => sel.sla_seconds)"
        "  FROM sel WHERE sel.why IS NOT NULL AND tasks.case_id = sel.case_id"
        "  AND tasks.step = sel.rstep AND tasks.state = 'waiting'"
        "  RETURNING tasks.id, tasks.case_id, tasks.step,"
        "  (extract(epoch FROM tasks.ready_at) * 1e6)::bigint AS ready_us,"
        "  sel.tenant_id, sel.case_type, sel.playbook_version, sel.priority,"
        "  sel.outcome_id, sel.why),"
        " ins AS (INSERT INTO ai_reviews (outcome_id, review_task_id, reason)"
        "  SELECT outcome_id, id, why FROM rt)"
        " SELECT id, case_id, step, ready_us, tenant_id, case_type,"
        " playbook_version, priority FROM rt");
DB_STMT(st_review_decide, 1,
        "WITH r AS (SELECT ar.outcome_id,"
        "  CASE WHEN ro.code = 'confirmed' OR ro.fields->>'code' = ao.code"
        "  THEN 'confirmed' ELSE 'overturned' END AS verdict,"
        "  ro.fields->>'code' AS repl"
        "  FROM ai_reviews ar JOIN outcomes ro"
        "  ON ro.task_id = ar.review_task_id"
        "  JOIN outcomes ao ON ao.id = ar.outcome_id"
        "  WHERE ar.review_task_id = ANY($1::bigint[])"
        "  AND ar.state = 'pending'),"
        " u AS (UPDATE ai_reviews SET state = r.verdict, decided_at = now(),"
        "  replacement = CASE WHEN r.verdict = 'overturned' THEN r.repl END"
        "  FROM r WHERE ai_reviews.outcome_id = r.outcome_id"
        "  RETURNING ai_reviews.outcome_id, ai_reviews.state)"
        " UPDATE outcomes SET review = u.state FROM u"
        " WHERE outcomes.id = u.outcome_id RETURNING outcomes.id");

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

status dsp_review_confidence(const json_t *root, int *out, err *e)
{
    int64_t c;

    *out = -1;
    if (json_object_get(root, "confidence") == NULL)
        return ST_OK;
    if (!jsonx_int(root, "confidence", &c) || c < 0 || c > 1000)
        return err_set(e, ST_INVALID,
                       "request.confidence must be an integer from 0 to 1000 "
                       "(per mille)");
    *out = (int)c;
    return ST_OK;
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
        s = dsp_playbook(d, db_val(u, i, 4), db_val(u, i, 5),
                         (int)db_i64(u, i, 6), &pb, e);
        if (s != ST_OK)
            break;
        st = playbook_step_index(pb, db_val(u, i, 2));
        if (st >= 0)
            s = dsp_route_task(d, pb, st, db_i64(u, i, 0), db_i64(u, i, 1),
                               (int)db_i64(u, i, 7), db_i64(u, i, 3), -1, e);
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
        s = db_run(d->db, &st_review_decide, p, NULL, e);
        if (s != ST_OK)
            goto out;
    }
    if (nai > 0) {
        const char *p[3] = {sbuf_str(&ai), sbuf_str(&conf), sbuf_str(&bucket)};
        s = db_run(d->db, &st_review_open, p, &u, e);
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
