-- twinline bill: billable lines per operator and currency, of tenant $1
-- (NULL: all).
-- columns: party, currency, lines, amount_minor
SELECT operator_id AS party, currency, count(*) AS lines,
       sum(amount_minor) AS amount_minor
  FROM billable_lines WHERE $1::text IS NULL OR tenant_id = $1
 GROUP BY operator_id, currency ORDER BY operator_id, currency
