-- twinline bill: billable lines per tenant and currency, of tenant $1
-- (NULL: all). bill_by_operator.sql and bill_by_outcome.sql have the same
-- columns, keyed by operator and by "tenant.outcome".
-- columns: party, currency, lines, amount_minor
SELECT tenant_id AS party, currency, count(*) AS lines,
       sum(amount_minor) AS amount_minor
  FROM billable_lines WHERE $1::text IS NULL OR tenant_id = $1
 GROUP BY tenant_id, currency ORDER BY tenant_id, currency
