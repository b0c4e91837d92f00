-- Tenant $1's contracts whose plan in effect at the month's end ($3) has a
-- monthly minimum and that have no top-up for period $4 yet, with the
-- verified results of [$2, $3) under any of the contract's plan versions.
-- columns: contract_id, version, plan, operator_id, verified_minor
SELECT k.id AS contract_id, x.version, x.plan::text AS plan, pl.operator_id,
       coalesce((SELECT sum(b.amount_minor) FROM billable_outcomes b
                  WHERE b.contract_id = k.id AND b.state = 'verified'
                    AND b.outcome_at >= $2::timestamptz
                    AND b.outcome_at < $3::timestamptz), 0) AS verified_minor
  FROM contracts k
  JOIN pools pl ON pl.id = k.pool_id
 CROSS JOIN LATERAL (SELECT c.version, c.plan FROM contract_plans c
                      WHERE c.contract_id = k.id
                        AND c.effective_from < $3::timestamptz
                      ORDER BY c.effective_from DESC
                      LIMIT 1) x
 WHERE k.tenant_id = $1 AND x.plan ? 'monthly_minimum_minor'
   AND NOT EXISTS (SELECT 1 FROM billing_adjustments a
                    WHERE a.contract_id = k.id AND a.period = $4
                      AND a.kind = 'monthly_minimum')
 ORDER BY k.id
