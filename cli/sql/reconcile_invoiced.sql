-- twinline bill reconcile (the parameters and columns: reconcile_billed.sql):
-- what the issued documents of the period charge (invoices plus credit
-- notes, which are negative) equals the invoiced lines whose result still
-- stands: a reversed result must have been credited.
-- columns: tenant_id, currency, expected, found
WITH d AS (SELECT id, kind, tenant_id, currency, total_minor
             FROM invoices WHERE state = 'issued'
              AND ($1::text IS NULL OR tenant_id = $1)
              AND ($4::text IS NULL OR period = $4)
              AND $2::timestamptz IS NOT DISTINCT FROM $2
              AND $3::timestamptz IS NOT DISTINCT FROM $3)
SELECT d.tenant_id, d.currency,
       coalesce(sum((SELECT sum(il.amount_minor) FROM invoice_lines il
         LEFT JOIN billable_outcomes b
           ON b.billable_line_id = il.billable_line_id
         WHERE il.invoice_id = d.id AND b.state IS DISTINCT FROM
           'reversed')) FILTER (WHERE d.kind = 'invoice'), 0) AS expected,
       sum(d.total_minor) AS found
  FROM d GROUP BY 1, 2 ORDER BY d.tenant_id COLLATE "C", 2
