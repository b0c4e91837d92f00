-- Store a rated batch: $1 is a JSON array with one object per outcome (o
-- outcome id, amt amount, base and pct the case's base and percent
-- charges, k contract, v plan version, cur currency, ten tenant, op
-- operator, cid case, task, w worker, code, vs and cs the verification and
-- clawback windows in seconds, sp the split as [{r role, p party, a
-- amount}]). Pin the plan to new cases, insert the billable lines (the
-- unique outcome_id makes a repeat a no-op), and only for the lines
-- inserted now the billable_outcomes rows and the splits. The ledger's
-- pending entries are posted by the caller (ledger_batch_post) in the same
-- transaction, from what this returns: per outcome whether it was billed
-- now, its tenant, currency and amount.
-- columns: outcome_id, billed, tenant_id, currency, amount_minor
-- Each outcome's time is read by its primary key, one row at a time, so
-- the plan never depends on how large outcomes was when it was made.
WITH b AS (
    SELECT x.*, (SELECT oc.created_at FROM outcomes oc WHERE oc.id = x.o)
                AS at
    FROM jsonb_to_recordset($1::jsonb) AS x(o bigint, amt bigint,
        base bigint, pct bigint, k text, v int, cur text, ten text, op text,
        cid bigint, task bigint, w text, code text, vs bigint, cs bigint,
        sp jsonb)
), pin AS (
    INSERT INTO case_plans (case_id, contract_id, version)
    SELECT DISTINCT ON (cid) cid, k, v FROM b ORDER BY cid, o
    ON CONFLICT (case_id) DO NOTHING
), line AS (
    INSERT INTO billable_lines (outcome_id, tenant_id, operator_id,
        contract_id, case_id, task_id, worker_id, outcome_code, amount_minor,
        currency, created_at)
    SELECT b.o, b.ten, b.op, b.k, b.cid, b.task, b.w, b.code, b.amt, b.cur,
           b.at
      FROM b
     WHERE b.at IS NOT NULL
     ORDER BY b.o
    ON CONFLICT (outcome_id) DO NOTHING
    RETURNING id, outcome_id
), bo AS (
    INSERT INTO billable_outcomes (outcome_id, billable_line_id, tenant_id,
        operator_id, contract_id, plan_version, case_id, worker_id, currency,
        amount_minor, base_minor, percent_minor, outcome_at, verify_after,
        clawback_until)
    SELECT b.o, line.id, b.ten, b.op, b.k, b.v, b.cid, b.w, b.cur, b.amt,
           b.base, b.pct, b.at,
           b.at + b.vs * interval '1 second',
           b.at + b.cs * interval '1 second'
      FROM b
      JOIN line ON line.outcome_id = b.o
), sp AS (
    INSERT INTO outcome_splits (outcome_id, role, party, amount_minor)
    SELECT b.o, s.r, s.p, s.a
      FROM b
      JOIN line ON line.outcome_id = b.o
     CROSS JOIN jsonb_to_recordset(b.sp) AS s(r text, p text, a bigint)
)
SELECT b.o AS outcome_id, line.id IS NOT NULL AS billed, b.ten AS tenant_id,
       b.cur AS currency, b.amt AS amount_minor
  FROM b
  LEFT JOIN line ON line.outcome_id = b.o
 ORDER BY b.o
