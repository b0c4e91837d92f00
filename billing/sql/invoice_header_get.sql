-- The header of document $1, with the number of the invoice a credit
-- note corrects. The format 2 fields are NULL on a format 1 document.
-- columns: id, kind, tenant_id, tenant_name, period, number, currency, issued_at, key_id, total_minor, corrects_id, corrects_number, reason, state, content_hash, signature, line_count, format, seller_id, seller_name, seller_address, seller_tax_id, seller_country, seller_bank_name, seller_bank_account, buyer_name, buyer_address, buyer_tax_id, buyer_country, buyer_bank_name, buyer_bank_account, time_zone, issue_date, due_date, payment_terms_days, tax_minor
SELECT i.id, i.kind, i.tenant_id, i.tenant_name, i.period, i.number,
       i.currency,
       to_char(i.issued_at AT TIME ZONE 'UTC',
               'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS issued_at,
       i.key_id, i.total_minor, coalesce(i.corrects_id, 0) AS corrects_id,
       coalesce(c.number, 0) AS corrects_number, i.reason, i.state,
       i.content_hash, i.signature, i.line_count, i.format, i.seller_id,
       i.seller_name, i.seller_address, i.seller_tax_id, i.seller_country,
       i.seller_bank_name, i.seller_bank_account, i.buyer_name,
       i.buyer_address, i.buyer_tax_id, i.buyer_country, i.buyer_bank_name,
       i.buyer_bank_account, i.time_zone,
       to_char(i.issue_date, 'YYYY-MM-DD') AS issue_date,
       to_char(i.due_date, 'YYYY-MM-DD') AS due_date,
       coalesce(i.payment_terms_days, 0) AS payment_terms_days, i.tax_minor
  FROM invoices i
  LEFT JOIN invoices c ON c.id = i.corrects_id
 WHERE i.id = $1
