-- twinline bill: billable lines per "tenant.outcome" and currency, of
-- tenant $1 (NULL: all).
-- columns: party, currency, lines, amount_minor
SELECT tenant_id || '.' || outcome_code AS party, currency,
       count(*) AS lines, sum(amount_minor) AS amount_minor
  FROM billable_lines
 WHERE $1::text IS NULL OR tenant_id = $1
 GROUP BY tenant_id, outcome_code, currency
 ORDER BY tenant_id, outcome_code, currency
