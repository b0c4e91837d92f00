-- A draft credit note, number $2 of series $1, to be signed by key $3,
-- correcting issued invoice $4 for reason $5. It is in the invoice's
-- format, with its tenant, period, currency and parties; a format 2 note
-- is dated in the invoice's time zone and has no payment terms (it is
-- due when issued).
-- columns: id
INSERT INTO invoices (kind, tenant_id, tenant_name, period, series_id,
    number, currency, key_id, corrects_id, reason, issued_at, format,
    seller_id, seller_name, seller_address, seller_tax_id, seller_country,
    seller_bank_name, seller_bank_account, buyer_name, buyer_address,
    buyer_tax_id, buyer_country, buyer_bank_name, buyer_bank_account,
    time_zone, issue_date, due_date, payment_terms_days)
SELECT 'credit_note', i.tenant_id, i.tenant_name, i.period, $1, $2,
       i.currency, $3, i.id, $5, n.at, i.format, i.seller_id, i.seller_name,
       i.seller_address, i.seller_tax_id, i.seller_country,
       i.seller_bank_name, i.seller_bank_account, i.buyer_name,
       i.buyer_address, i.buyer_tax_id, i.buyer_country, i.buyer_bank_name,
       i.buyer_bank_account, i.time_zone,
       (n.at AT TIME ZONE i.time_zone)::date,
       (n.at AT TIME ZONE i.time_zone)::date,
       CASE WHEN i.time_zone IS NOT NULL THEN 0 END
  FROM invoices i
 CROSS JOIN (SELECT date_trunc('second', now()) AS at) n
 WHERE i.id = $4
RETURNING id
