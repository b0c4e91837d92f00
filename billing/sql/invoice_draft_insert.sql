-- A draft invoice (format 2) of tenant $1 for period $2, number $4 of
-- series $3, in currency $5, to be signed by key $6, sold by operator $7
-- on payment terms of $8 days. The seller's and buyer's legal details are
-- copied as they are now (a detail not configured is ""), and the issue
-- and due dates are taken in the tenant's time zone at the current second.
-- columns: id
INSERT INTO invoices (kind, tenant_id, tenant_name, period, series_id,
    number, currency, key_id, issued_at, format, seller_id, seller_name,
    seller_address, seller_tax_id, seller_country, seller_bank_name,
    seller_bank_account, buyer_name, buyer_address, buyer_tax_id,
    buyer_country, buyer_bank_name, buyer_bank_account, time_zone,
    issue_date, due_date, payment_terms_days)
SELECT 'invoice', t.id, t.name, $2, $3, $4, $5, $6, n.at,
       'twinline.invoice/2', o.id, coalesce(o.legal_name, o.name),
       coalesce(o.address, ''), coalesce(o.tax_id, ''),
       coalesce(o.country, ''), coalesce(o.bank_name, ''),
       coalesce(o.bank_account, ''), coalesce(t.legal_name, t.name),
       coalesce(t.address, ''), coalesce(t.tax_id, ''),
       coalesce(t.country, ''), coalesce(t.bank_name, ''),
       coalesce(t.bank_account, ''), t.time_zone,
       (n.at AT TIME ZONE t.time_zone)::date,
       (n.at AT TIME ZONE t.time_zone)::date + $8::int, $8::int
  FROM tenants t
 CROSS JOIN operators o
 CROSS JOIN (SELECT date_trunc('second', now()) AS at) n
 WHERE t.id = $1 AND o.id = $7
RETURNING id
