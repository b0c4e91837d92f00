-- twinline bill reconcile (the parameters and columns: reconcile_billed.sql):
-- a result's split (platform fee, operator, workers) sums to its price.
-- columns: tenant_id, currency, expected, found
SELECT b.tenant_id, b.currency, sum(b.amount_minor) AS expected,
       sum(coalesce((SELECT sum(s.amount_minor) FROM outcome_splits s
         WHERE s.outcome_id = b.outcome_id), 0)) AS found
  FROM billable_outcomes b WHERE $4::text IS NOT DISTINCT FROM $4
   AND ($1::text IS NULL OR b.tenant_id = $1)
   AND ($2::timestamptz IS NULL OR b.outcome_at >= $2)
   AND ($3::timestamptz IS NULL OR b.outcome_at < $3)
 GROUP BY 1, 2 ORDER BY b.tenant_id COLLATE "C", 2
