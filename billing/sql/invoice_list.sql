-- The documents of tenant $1 (every tenant's when NULL), by tenant, kind
-- (invoices first) and number.
-- columns: id, kind, tenant_id, period, number, currency, total_minor, line_count, issued_at, key_id, corrects_id, state, tax_minor, seller_id, due_date
SELECT id, kind, tenant_id, period, coalesce(number, 0) AS number, currency,
       total_minor, line_count,
       coalesce(to_char(issued_at AT TIME ZONE 'UTC',
                        'YYYY-MM-DD"T"HH24:MI:SS"Z"'), '') AS issued_at,
       coalesce(key_id, '') AS key_id,
       coalesce(corrects_id, 0) AS corrects_id, state, tax_minor,
       coalesce(seller_id, '') AS seller_id,
       coalesce(to_char(due_date, 'YYYY-MM-DD'), '') AS due_date
  FROM invoices
 WHERE $1::text IS NULL OR tenant_id = $1
 ORDER BY invoices.tenant_id, invoices.kind DESC, invoices.number, invoices.id
