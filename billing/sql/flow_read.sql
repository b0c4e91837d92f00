-- What rating needs for each outcome of the batch $1 (an array of outcome
-- ids) that has a price plan: the outcome, its case's facts, the plan
-- pinned to the case (or, for the case's first outcome, the version in
-- effect when the case was submitted), and the history the plan depends
-- on (results of the month under this plan version, what the case was
-- billed before). Outcomes already billed, not billable, unknown or
-- without a plan return no row.
-- columns: outcome_id, code, fields, payload, case_id, task_id, tenant_id, worker_id, operator_id, contract_id, version, plan, verification_s, clawback_s, platform_fee_bps, operator_weight, worker_weight, ai_weight, ai_party, month_volume, case_base_before, case_percent_before, sla_breached, month, handoffs
WITH req AS (SELECT DISTINCT unnest($1::bigint[]) AS id)
SELECT o.id AS outcome_id, o.code, o.fields::text AS fields,
       c.payload::text AS payload, o.case_id, o.task_id, c.tenant_id,
       o.worker_id, p.operator_id, pl.contract_id, pl.version,
       pl.plan::text AS plan, pl.verification_s, pl.clawback_s,
       pl.platform_fee_bps, pl.operator_weight, pl.worker_weight,
       pl.ai_weight, coalesce(pl.ai_party, '') AS ai_party,
       -- The month's volume so far, which only volume tiers use: a count
       -- that grows with the month, so skipped without them.
       CASE WHEN jsonb_path_exists(pl.plan, '$.outcomes.*.volume_tiers')
       THEN (SELECT count(*) FROM billable_outcomes b
              WHERE b.contract_id = pl.contract_id
                AND b.plan_version = pl.version AND b.state <> 'reversed'
                AND b.outcome_id < o.id
                AND b.outcome_at >= m.start
                AND b.outcome_at < m.start + interval '1 month')
       ELSE 0 END AS month_volume,
       coalesce((SELECT sum(b.base_minor) FROM billable_outcomes b
                  WHERE b.case_id = o.case_id AND b.state <> 'reversed'
                    AND b.outcome_id < o.id), 0) AS case_base_before,
       coalesce((SELECT sum(b.percent_minor) FROM billable_outcomes b
                  WHERE b.case_id = o.case_id AND b.state <> 'reversed'
                    AND b.outcome_id < o.id), 0) AS case_percent_before,
       (t.sla_due_at IS NOT NULL AND o.created_at > t.sla_due_at)
           AS sla_breached,
       to_char(m.start AT TIME ZONE 'UTC', 'YYYY-MM') AS month,
       -- The case's earlier workers (handoffs), first task first.
       coalesce((SELECT string_agg(h.worker_id, ',' ORDER BY h.first)
                   FROM (SELECT t2.worker_id, min(t2.id) AS first
                           FROM tasks t2
                          WHERE t2.case_id = o.case_id AND t2.id < o.task_id
                            AND t2.state IN ('completed', 'wrapping')
                            AND t2.worker_id <> o.worker_id
                          GROUP BY t2.worker_id) h), '') AS handoffs
  FROM req
  JOIN outcomes o ON o.id = req.id AND o.billable
  JOIN cases c ON c.id = o.case_id
  JOIN tasks t ON t.id = o.task_id
  JOIN workers w ON w.id = o.worker_id
  JOIN pools p ON p.id = w.pool_id
 CROSS JOIN LATERAL (SELECT date_trunc('month', o.created_at AT TIME ZONE 'UTC')
                            AT TIME ZONE 'UTC' AS start) m
  LEFT JOIN LATERAL (
       SELECT ct.id FROM contracts ct
         JOIN contract_case_types cct
           ON cct.contract_id = ct.id AND cct.case_type = c.case_type
        WHERE ct.tenant_id = c.tenant_id AND ct.pool_id = w.pool_id
          AND ct.active
        ORDER BY ct.id COLLATE "C"
        LIMIT 1) k ON true
  LEFT JOIN case_plans cp ON cp.case_id = c.id
  JOIN LATERAL (
       SELECT x.* FROM contract_plans x
        WHERE (cp.case_id IS NOT NULL AND x.contract_id = cp.contract_id
               AND x.version = cp.version)
           OR (cp.case_id IS NULL AND x.contract_id = k.id
               AND x.effective_from <= c.created_at)
        ORDER BY x.effective_from DESC
        LIMIT 1) pl ON true
 -- issue 5 (schema/006): not while a human reviews an AI outcome, never
 -- when overturned.
 WHERE (o.review IS NULL OR o.review = 'confirmed')
   AND NOT EXISTS (SELECT 1 FROM billable_lines bl WHERE bl.outcome_id = o.id)
 ORDER BY o.id
