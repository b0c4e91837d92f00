-- twinline load: tenant $1 (name, kind, priority, time zone, and the legal
-- identity printed on its invoices: $6 legal name, $7 address, $8 tax id,
-- $9 country, $10 bank, $11 account, each NULL when not given), stated in
-- full and written only when it changed.
INSERT INTO tenants (id, name, kind, priority, time_zone, legal_name,
    address, tax_id, country, bank_name, bank_account)
VALUES ($1, $2, $3, $4::int, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name,
    kind = EXCLUDED.kind, priority = EXCLUDED.priority,
    time_zone = EXCLUDED.time_zone, legal_name = EXCLUDED.legal_name,
    address = EXCLUDED.address, tax_id = EXCLUDED.tax_id,
    country = EXCLUDED.country, bank_name = EXCLUDED.bank_name,
    bank_account = EXCLUDED.bank_account
WHERE (tenants.name, tenants.kind, tenants.priority, tenants.time_zone,
       tenants.legal_name, tenants.address, tenants.tax_id, tenants.country,
       tenants.bank_name, tenants.bank_account)
    IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.kind, EXCLUDED.priority,
       EXCLUDED.time_zone, EXCLUDED.legal_name, EXCLUDED.address,
       EXCLUDED.tax_id, EXCLUDED.country, EXCLUDED.bank_name,
       EXCLUDED.bank_account)
