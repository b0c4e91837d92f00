-- twinline report: billable lines and their amount per tenant and currency.
-- columns: tenant_id, currency, lines, amount_minor
SELECT tenant_id, currency, count(*) AS lines,
       sum(amount_minor) AS amount_minor
  FROM billable_lines GROUP BY tenant_id, currency
 ORDER BY tenant_id, currency
