-- twinline bill reconcile (the parameters and columns: reconcile_billed.sql):
-- an issued document's lines add up to its stated count, net total and
-- tax.
-- columns: tenant_id, currency, expected, found
SELECT i.tenant_id, i.currency, count(*) AS expected,
       count(*) FILTER (WHERE s.n = i.line_count AND s.t = i.total_minor
                          AND s.tax = i.tax_minor) AS found
  FROM invoices i CROSS JOIN LATERAL (SELECT count(*) AS n,
         coalesce(sum(amount_minor), 0) AS t,
         coalesce(sum(tax_minor), 0) AS tax FROM invoice_lines il
         WHERE il.invoice_id = i.id) s
 WHERE i.state = 'issued' AND ($1::text IS NULL OR i.tenant_id = $1)
   AND ($4::text IS NULL OR i.period = $4)
   AND $2::timestamptz IS NOT DISTINCT FROM $2
   AND $3::timestamptz IS NOT DISTINCT FROM $3
 GROUP BY 1, 2 ORDER BY i.tenant_id COLLATE "C", 2
