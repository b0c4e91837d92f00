-- The header of document $1, with the number of the invoice a credit
-- note corrects.
-- columns: id, kind, tenant_id, tenant_name, period, number, currency, issued_at, key_id, total_minor, corrects_id, corrects_number, reason, state, content_hash, signature, line_count
SELECT i.id, i.kind, i.tenant_id, i.tenant_name, i.period, i.number,
       i.currency,
       to_char(i.issued_at AT TIME ZONE 'UTC',
               'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS issued_at,
       i.key_id, i.total_minor, coalesce(i.corrects_id, 0) AS corrects_id,
       coalesce(c.number, 0) AS corrects_number, i.reason, i.state,
       i.content_hash, i.signature, i.line_count
  FROM invoices i
  LEFT JOIN invoices c ON c.id = i.corrects_id
 WHERE i.id = $1
