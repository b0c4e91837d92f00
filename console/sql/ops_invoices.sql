-- Issued invoices and credit notes that carry lines of the operator's
-- work, newest first, with the part that is the operator's.
-- columns: doc
SELECT COALESCE(json_agg(json_build_object(
           'id', i.id, 'kind', i.kind, 'tenant', i.tenant_id, 'period', i.period,
           'number', i.number, 'currency', i.currency, 'total_minor', i.total_minor,
           'lines', i.line_count, 'issued_at', i.issued_at,
           'operator_lines', x.n, 'operator_amount_minor', x.amount)
           ORDER BY i.id DESC), '[]')::text AS doc
  FROM invoices i
  JOIN (SELECT l.invoice_id, count(*) AS n, sum(l.amount_minor) AS amount
          FROM invoice_lines l WHERE l.operator_id = $1::text
         GROUP BY l.invoice_id) x ON x.invoice_id = i.id
 WHERE i.state = 'issued'
